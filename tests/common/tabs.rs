//! A simulated browser for the session: several tabs of one origin, each with its own *cache* of
//! localStorage that other tabs' writes reach late and in any order relative to BroadcastChannel
//! messages (as in Chromium, where every renderer reads its own copy), writes that reach the browser
//! process late too (in order per tab, in any order between tabs), one serializable commit point
//! (IndexedDB: a transaction reads and writes the authoritative record at once), messages that take
//! their time, timers, and tabs that close at any moment. Every step is chosen by a seeded generator,
//! so a failure names its seed.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use wasm_cart::checkout::HttpRequest;
use wasm_cart::session::{CatalogInput, CheckoutError, HttpOutcome};
use wasm_cart::session::{
    Coordination, Defaults, Effect, Entropy, Event, OpenOptions, Persistence, Reported, Session, Storage,
    StorageFailure, Stored,
};
use wasm_cart::{Action, CartState, Timestamp};

pub const KEY: &str = "cart";
pub const START: i64 = 1_795_262_400_000; // 2026-11-21T12:00:00Z

/// xorshift64*: small, seeded, good enough to pick steps.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

impl Entropy for Rng {
    fn hex(&mut self, bytes: usize) -> String {
        (0..bytes).map(|_| format!("{:02x}", self.next() as u8)).collect()
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A tab's view of localStorage.
#[derive(Debug, Clone, Default)]
pub struct Cache(pub BTreeMap<String, String>);

impl Storage for Cache {
    fn get(&self, key: &str) -> Result<Stored, StorageFailure> {
        Ok(self.0.get(key).map_or(Stored::Missing, |v| Stored::Text(v.clone())))
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.0.keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }
}

/// Something on its way to a tab.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Another tab's localStorage write reaches this tab's cache (and fires `storage`).
    Storage { key: String, value: Option<String> },
    /// The browser process applied a write of this tab (Chromium's acknowledgement: from now on, other
    /// tabs' changes of the key reach this tab's cache again).
    Applied { key: String },
    /// A BroadcastChannel message.
    Message(String),
    /// The commit transaction of this tab completed.
    Committed(bool),
    /// A timer.
    Timer { id: u64, due: i64 },
}

pub struct Tab {
    pub session: Session,
    pub cache: Cache,
    pub inbox: VecDeque<Delivery>,
    pub events: Vec<Event>,
    /// Lines this tab added and was told succeeded (the attribute `n` of each).
    pub acknowledged: Vec<String>,
    /// The last quantity this tab set on each of its own lines (by attribute `n`).
    pub quantities: BTreeMap<String, u32>,
    pub open: bool,
    /// Writes this tab made that the browser process has not applied yet, in order.
    pub pipe: VecDeque<(String, Option<String>)>,
    /// Per key, writes of this tab not acknowledged yet: while there are any, other tabs' changes of the
    /// key fire `storage` but leave the cache alone (Blink's `CachedStorageArea::
    /// MaybeApplyNonLocalMutationForKey`: the browser will apply this tab's own write after them).
    pub unacked: BTreeMap<String, usize>,
}

impl Tab {
    pub fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Error(Reported::Cart(e)) => Some(format!("{}: {}", e.code, e.message)),
                Event::Error(Reported::Checkout(e)) => Some(format!("{}: {}", e.code, e.message)),
                _ => None,
            })
            .collect()
    }
}

pub struct Browser {
    pub rng: Rng,
    pub now: i64,
    /// The authoritative localStorage (the browser process's).
    pub local: BTreeMap<String, String>,
    /// The commit point (IndexedDB): one record.
    pub idb: Option<String>,
    /// Commit transactions waiting to run, by tab, in the order they were started.
    pub commits: VecDeque<usize>,
    pub tabs: Vec<Tab>,
    pub catalog: CatalogInput,
    pub coordination: Coordination,
    pub counter: u64,
    /// Writes of the cart key, by tab (diagnostics).
    pub mirror_writes: BTreeMap<usize, usize>,
    /// Requests sent and not answered yet: (tab, id, request, timeout).
    pub sent: VecDeque<(usize, u64, HttpRequest, u64)>,
    /// Every request ever sent, in order.
    pub requests: Vec<HttpRequest>,
    /// Checkouts settled: (tab, id, outcome).
    pub settled: Vec<(usize, u64, Result<Value, CheckoutError>)>,
    /// The delays the tabs asked to wait, in order.
    pub waits: Vec<u64>,
    /// `navigator.onLine`.
    pub online: bool,
}

pub fn catalog_json() -> Value {
    json!({
        "version": "tabs#1",
        "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}],
        "products": [
            {"id": "mug", "sku": "MUG", "name": "Mug", "taxCategory": "std",
             "prices": [{"currency": "EUR", "amount": "9.99"}]},
            {"id": "tea", "sku": "TEA", "name": "Tea", "taxCategory": "std",
             "prices": [{"currency": "EUR", "amount": "4.50"}]}
        ]
    })
}

impl Browser {
    pub fn new(seed: u64, coordination: Coordination) -> Browser {
        let catalog = CatalogInput::parse(&catalog_json().to_string()).unwrap();
        Browser {
            rng: Rng(seed ^ 0x9e37_79b9_7f4a_7c15),
            now: START,
            local: BTreeMap::new(),
            idb: None,
            commits: VecDeque::new(),
            tabs: Vec::new(),
            catalog,
            coordination,
            counter: 0,
            mirror_writes: BTreeMap::new(),
            sent: VecDeque::new(),
            requests: Vec::new(),
            settled: Vec::new(),
            waits: Vec::new(),
            online: true,
        }
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    pub fn options(&self) -> OpenOptions {
        OpenOptions {
            key: KEY.into(),
            persistence: Persistence::Local,
            coordination: self.coordination,
            catalog: Some(self.catalog.clone()),
            snapshot: None,
            defaults: Defaults {
                currency: Some("EUR".into()),
                country: Some("DE".into()),
                ..Defaults::default()
            },
            unreachable: None,
            online: self.online,
        }
    }

    /// Opens a tab: its cache is a fresh copy of localStorage (a new renderer loads it whole).
    pub fn open_tab(&mut self) -> usize {
        // Writes of closed tabs were sent long before a page loads (a reload closes, then opens).
        for i in 0..self.tabs.len() {
            while !self.tabs[i].open && self.apply(i) {}
        }
        let cache = Cache(self.local.clone());
        let now = self.now();
        let (session, effects) = Session::open(self.options(), &cache, now, &mut self.rng).unwrap();
        self.tabs.push(Tab {
            session,
            cache,
            inbox: VecDeque::new(),
            events: Vec::new(),
            acknowledged: Vec::new(),
            quantities: BTreeMap::new(),
            open: true,
            pipe: VecDeque::new(),
            unacked: BTreeMap::new(),
        });
        let i = self.tabs.len() - 1;
        self.run(i, effects);
        i
    }

    pub fn live(&self) -> Vec<usize> {
        (0..self.tabs.len()).filter(|&i| self.tabs[i].open).collect()
    }

    /// Tab `i` adds a line nobody else adds (attribute `n`); remembers it when the call succeeds.
    pub fn change(&mut self, i: usize) {
        self.counter += 1;
        let n = format!("t{i}-{}", self.counter);
        let product = if self.counter % 2 == 0 { "mug" } else { "tea" };
        let action =
            Action::from_value(json!({"action": "addLineItem", "productId": product, "attributes": {"n": n}})).unwrap();
        let now = self.now();
        let tab = &mut self.tabs[i];
        match tab.session.apply(&[action], None, &tab.cache, now, &mut self.rng) {
            Ok(effects) => {
                tab.acknowledged.push(n);
                self.run(i, effects);
            }
            Err(e) => panic!("tab {i} refused a change: {e}"),
        }
    }

    /// Tab `i` sets the quantity of one of its own lines, found by the id its view shows now (ids of
    /// lines added at the same time in two tabs are renamed when committed: the change must still
    /// reach the right line).
    pub fn change_own(&mut self, i: usize) {
        let prefix = format!("t{i}-");
        let mine: Vec<(String, String)> = self.tabs[i]
            .session
            .cart()
            .line_items()
            .iter()
            .filter_map(|l| {
                let n = l.attributes.get("n").and_then(Value::as_str)?;
                n.starts_with(&prefix).then(|| (l.id.to_string(), n.to_string()))
            })
            .collect();
        if mine.is_empty() {
            return self.change(i);
        }
        let (id, n) = mine[self.rng.below(mine.len())].clone();
        let quantity = 1 + self.rng.below(5) as u32;
        let action =
            Action::from_value(json!({"action": "changeLineItemQuantity", "lineItemId": id, "quantity": quantity}))
                .unwrap();
        let now = self.now();
        let tab = &mut self.tabs[i];
        match tab.session.apply(&[action], None, &tab.cache, now, &mut self.rng) {
            Ok(effects) => {
                tab.quantities.insert(n, quantity);
                self.run(i, effects);
            }
            Err(e) => panic!("tab {i} refused a change of its own line: {e}"),
        }
    }

    /// Carries out the effects of tab `i`.
    pub fn run(&mut self, i: usize, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Write { key, value } => self.write(i, key, Some(value)),
                Effect::Remove { key } => self.write(i, key, None),
                Effect::Preserve { from, to } => {
                    let value = self.tabs[i].cache.0.get(&from).cloned();
                    if let Some(v) = value {
                        self.write(i, to, Some(v));
                    }
                }
                Effect::Commit => self.commits.push_back(i),
                Effect::Broadcast(text) => {
                    for j in self.live() {
                        if j != i {
                            self.tabs[j].inbox.push_back(Delivery::Message(text.clone()));
                        }
                    }
                }
                Effect::Emit(event) => self.tabs[i].events.push(event),
                Effect::Wait { id, ms, .. } => {
                    self.waits.push(ms);
                    let due = self.now + ms as i64;
                    self.tabs[i].inbox.push_back(Delivery::Timer { id, due });
                }
                Effect::Send {
                    id,
                    request,
                    timeout_ms,
                } => {
                    self.requests.push(request.clone());
                    self.sent.push_back((i, id, request, timeout_ms));
                }
                Effect::Settle { id, outcome } => self.settled.push((i, id, outcome)),
                Effect::WatchOnline => {}
            }
        }
    }

    /// Tab `i` writes localStorage: its own cache at once, the browser process later ([`Browser::apply`]).
    fn write(&mut self, i: usize, key: String, value: Option<String>) {
        if key == KEY {
            *self.mirror_writes.entry(i).or_default() += 1;
        }
        let tab = &mut self.tabs[i];
        match &value {
            Some(v) => tab.cache.0.insert(key.clone(), v.clone()),
            None => tab.cache.0.remove(&key),
        };
        *tab.unacked.entry(key.clone()).or_default() += 1;
        tab.pipe.push_back((key, value));
    }

    /// The browser process applies the oldest write of tab `i` (also of a closed tab: it was sent) and
    /// tells every other tab, and tab `i` that it is done.
    pub fn apply(&mut self, i: usize) -> bool {
        let Some((key, value)) = self.tabs[i].pipe.pop_front() else {
            return false;
        };
        match &value {
            Some(v) => self.local.insert(key.clone(), v.clone()),
            None => self.local.remove(&key),
        };
        for j in self.live() {
            let delivery = if j == i {
                Delivery::Applied { key: key.clone() }
            } else {
                Delivery::Storage {
                    key: key.clone(),
                    value: value.clone(),
                }
            };
            self.tabs[j].inbox.push_back(delivery);
        }
        true
    }

    /// Runs the oldest waiting commit transaction (atomically, as IndexedDB does).
    pub fn run_commit(&mut self) -> bool {
        let Some(i) = self.commits.pop_front() else {
            return false;
        };
        if !self.tabs[i].open {
            return true; // the transaction of a closed tab is aborted
        }
        let now = self.now();
        let tab = &mut self.tabs[i];
        if let Some(put) = tab.session.commit(self.idb.as_deref(), &tab.cache, now) {
            self.idb = Some(put);
        }
        tab.inbox.push_back(Delivery::Committed(true));
        true
    }

    /// Delivers one thing to tab `i`: deliveries arrive in order per kind, but storage propagation,
    /// messages and commit completions overtake each other at random.
    pub fn deliver(&mut self, i: usize) -> bool {
        let clock = self.now;
        let tab = &mut self.tabs[i];
        if tab.inbox.is_empty() {
            return false;
        }
        // Pick the first item of a random kind (each kind stays in order).
        let kinds: Vec<usize> = (0..4)
            .filter(|k| tab.inbox.iter().any(|d| kind(d) == *k && ready(d, clock)))
            .collect();
        if kinds.is_empty() {
            return false;
        }
        let k = kinds[(self.rng.next() % kinds.len() as u64) as usize];
        let Some(pos) = tab.inbox.iter().position(|d| kind(d) == k) else {
            return false;
        };
        if !ready(&tab.inbox[pos], clock) {
            return false;
        }
        let delivery = tab.inbox.remove(pos).unwrap();
        let now = Timestamp::from_millis(clock);
        let effects = match delivery {
            Delivery::Applied { key } => {
                if let Some(n) = tab.unacked.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        tab.unacked.remove(&key);
                    }
                }
                Vec::new()
            }
            Delivery::Storage { key, value } => {
                if !tab.unacked.contains_key(&key) {
                    match &value {
                        Some(v) => tab.cache.0.insert(key.clone(), v.clone()),
                        None => tab.cache.0.remove(&key),
                    };
                }
                let stored = value.map_or(Stored::Missing, Stored::Text);
                tab.session.storage_changed(&key, stored, &tab.cache, now)
            }
            Delivery::Message(text) => tab.session.message(&text, &tab.cache, now),
            Delivery::Committed(ok) => tab.session.committed(ok, &tab.cache, now),
            Delivery::Timer { id, .. } => tab.session.timer(id, &tab.cache, now, &mut self.rng),
        };
        self.run(i, effects);
        true
    }

    /// Closes tab `i` at once: pending deliveries and its running commit are lost.
    pub fn close(&mut self, i: usize) {
        self.tabs[i].open = false;
        self.tabs[i].inbox.clear();
    }

    /// One random step.
    pub fn step(&mut self, changes: bool) {
        self.now += self.rng.below(20) as i64;
        let live = self.live();
        match self.rng.below(10) {
            0..=1 if changes && !live.is_empty() => {
                let i = live[self.rng.below(live.len())];
                self.change(i);
            }
            2 if changes && !live.is_empty() => {
                let i = live[self.rng.below(live.len())];
                self.change_own(i);
            }
            3 => {
                self.run_commit();
            }
            4 => {
                let i = self.rng.below(self.tabs.len());
                self.apply(i);
            }
            _ if !live.is_empty() => {
                let i = live[self.rng.below(live.len())];
                self.deliver(i);
            }
            _ => {}
        }
    }

    /// Lets everything settle: deliveries, commits, and the time that lets closed tabs' changes be
    /// taken over.
    pub fn settle(&mut self) {
        for round in 0..40 {
            let mut busy = true;
            let mut guard = 0;
            while busy && guard < 100_000 {
                guard += 1;
                busy = self.run_commit();
                for i in 0..self.tabs.len() {
                    while self.apply(i) {
                        busy = true;
                    }
                }
                for i in self.live() {
                    while self.deliver(i) {
                        busy = true;
                    }
                }
            }
            assert!(guard < 100_000, "the tabs never settled (writes answering writes?)");
            self.now += if round % 2 == 0 { 3_000 } else { 70_000 };
        }
    }

    /// The committed cart.
    pub fn committed(&self) -> CartState {
        wasm_cart::snapshot::decode(self.idb.as_deref().expect("a record was committed"))
            .unwrap()
            .cart
    }
}

fn kind(d: &Delivery) -> usize {
    match d {
        Delivery::Storage { .. } | Delivery::Applied { .. } => 0,
        Delivery::Message(_) => 1,
        Delivery::Committed(_) => 2,
        Delivery::Timer { .. } => 3,
    }
}

fn ready(d: &Delivery, now: i64) -> bool {
    match d {
        Delivery::Timer { due, .. } => *due <= now,
        _ => true,
    }
}

/// The `n` attributes of the cart's lines.
pub fn line_tags(cart: &CartState) -> Vec<String> {
    cart.line_items()
        .iter()
        .filter_map(|l| l.attributes.get("n").and_then(Value::as_str).map(str::to_string))
        .collect()
}

impl Browser {
    /// Answers the oldest request with `answer(request)`; returns false when none is waiting.
    pub fn answer(&mut self, answer: &mut dyn FnMut(&HttpRequest) -> HttpOutcome) -> bool {
        let Some((i, id, request, _)) = self.sent.pop_front() else {
            return false;
        };
        if !self.tabs[i].open {
            return true;
        }
        let outcome = answer(&request);
        let now = self.now();
        let tab = &mut self.tabs[i];
        let effects = tab.session.http_answer(id, outcome, &tab.cache, now, &mut self.rng);
        self.run(i, effects);
        true
    }

    /// Runs everything (requests answered by `answer`, timers fired as time passes, commits) until
    /// nothing moves.
    pub fn serve(&mut self, answer: &mut dyn FnMut(&HttpRequest) -> HttpOutcome) {
        for _ in 0..200 {
            let mut busy = false;
            while self.answer(answer) {
                busy = true;
            }
            while self.run_commit() {
                busy = true;
            }
            for i in self.live() {
                while self.deliver(i) {
                    busy = true;
                }
            }
            if !busy {
                // Let the next timer come due.
                let next = self
                    .live()
                    .iter()
                    .flat_map(|&i| self.tabs[i].inbox.iter())
                    .filter_map(|d| match d {
                        Delivery::Timer { due, .. } => Some(*due),
                        _ => None,
                    })
                    .min();
                match next {
                    Some(due) if due > self.now => self.now = due,
                    _ => break,
                }
            }
        }
    }

    /// The `n`th (from 0) event of kind `Ordered` of tab `i`.
    pub fn ordered_events(&self, i: usize) -> Vec<(Option<Value>, String)> {
        self.tabs[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Ordered { order, cart } => Some((order.clone(), cart.id.clone())),
                _ => None,
            })
            .collect()
    }
}

/// An HTTP answer with a JSON body.
pub fn reply(status: u16, body: Value) -> HttpOutcome {
    HttpOutcome::Answer(wasm_cart::checkout::HttpResponse {
        status,
        headers: BTreeMap::new(),
        body,
    })
}

/// An answer with headers.
pub fn reply_with(status: u16, body: Value, headers: &[(&str, &str)]) -> HttpOutcome {
    HttpOutcome::Answer(wasm_cart::checkout::HttpResponse {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body,
    })
}

/// SPEC-B's error body.
pub fn refusal(status: u16, code: &str, details: Value) -> HttpOutcome {
    reply(
        status,
        json!({"error": {"code": code, "message": format!("{code}!"), "details": details}}),
    )
}
