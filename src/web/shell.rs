//! Carries out what the session decides ([`Effect`]s) with the browser's APIs, and feeds back what
//! happens (a write that threw, a commit that completed, a message from another tab, a `storage`
//! event, an HTTP answer, a timer). Events go through one queue per module and are delivered after the
//! call that raised them, never from inside another listener (`session::events`).

use super::storage::{classify, Store};
use super::view::{self, ViewCache};
use super::{glue, js};
use crate::checkout::HttpResponse;
use crate::session::{
    CheckoutError, Coordination, Dispatcher, Effect, Entropy, Event, HttpOutcome, NoStorage, Reported, Session, Storage,
};
use crate::time::Timestamp;
use js_sys::{Function, Promise};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

pub(crate) type Shared = Rc<RefCell<Inner>>;

/// The events of `cart.on(event, listener)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Change,
    Error,
    Expired,
    Ordered,
}

impl EventKind {
    pub(crate) fn parse(name: &str) -> Option<EventKind> {
        match name {
            "change" => Some(EventKind::Change),
            "error" => Some(EventKind::Error),
            "expired" => Some(EventKind::Expired),
            "ordered" => Some(EventKind::Ordered),
            _ => None,
        }
    }
}

/// The registered listeners, apart from the rest so that unsubscribing always works.
#[derive(Default)]
pub(crate) struct Listeners {
    next_id: u32,
    entries: Vec<(u32, EventKind, Function)>,
}

impl Listeners {
    pub(crate) fn add(&mut self, kind: EventKind, f: Function) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.entries.push((self.next_id, kind, f));
        self.next_id
    }

    pub(crate) fn remove(&mut self, id: u32) {
        self.entries.retain(|(i, _, _)| *i != id);
    }

    fn of(&self, kind: EventKind) -> Vec<Function> {
        self.entries
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(_, _, f)| f.clone())
            .collect()
    }
}

/// A promise of `checkout()` and how to settle it.
pub(crate) struct Deferred {
    pub promise: Promise,
    parts: Option<(Function, Function)>,
}

impl Deferred {
    pub(crate) fn new() -> Deferred {
        let mut parts = None;
        let promise = Promise::new(&mut |resolve, reject| parts = Some((resolve, reject)));
        Deferred { promise, parts }
    }
}

type Listener = (JsValue, &'static str, Closure<dyn FnMut(JsValue)>);
/// The BroadcastChannel and its message handler.
type Channel = (JsValue, Closure<dyn FnMut(String)>);

/// The state behind one `Cart` object.
pub(crate) struct Inner {
    pub session: Session,
    pub store: Option<Store>,
    pub clock: Option<Function>,
    pub views: ViewCache,
    pub listeners: Rc<RefCell<Listeners>>,
    /// The catalog as a JavaScript object (`cart.catalog()`), and the checksum it was built from.
    pub catalog_object: Option<(String, JsValue)>,
    /// Checkout promises by settle id.
    pub promises: BTreeMap<u64, Deferred>,
    /// The `sleep` option of the last checkout call (waits of checkouts go through it).
    pub sleep: Option<Function>,
    channel: Option<Channel>,
    subscriptions: Vec<Listener>,
    /// `setTimeout` handles of pending waits.
    timers: BTreeMap<u64, JsValue>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (target, name, closure) in self.subscriptions.drain(..) {
            let _ = js::call_method(
                &target,
                "removeEventListener",
                &[&JsValue::from_str(name), closure.as_ref()],
            );
        }
        if let Some((channel, _)) = self.channel.take() {
            let _ = js::call_method(&channel, "close", &[]);
        }
        for handle in std::mem::take(&mut self.timers).into_values() {
            let _ = js::call_method(&js::global(), "clearTimeout", &[&handle]);
        }
    }
}

impl Inner {
    pub(crate) fn new(session: Session, store: Option<Store>, clock: Option<Function>) -> Inner {
        Inner {
            session,
            store,
            clock,
            views: ViewCache::default(),
            listeners: Rc::new(RefCell::new(Listeners::default())),
            catalog_object: None,
            promises: BTreeMap::new(),
            sleep: None,
            channel: None,
            subscriptions: Vec::new(),
            timers: BTreeMap::new(),
        }
    }

    /// The session and the storage it reads, borrowed apart.
    pub(crate) fn parts(&mut self) -> (&mut Session, &dyn Storage) {
        let storage: &dyn Storage = match &self.store {
            Some(store) => store,
            None => &NoStorage,
        };
        (&mut self.session, storage)
    }
}

// ---------------------------------------------------------------------------- clock and entropy

/// Reads the clock: the `now` option, else `Date.now()`.
pub(crate) fn read_clock(clock: Option<&Function>) -> Result<Timestamp, JsValue> {
    let ms = match clock {
        None => js::date_now(),
        Some(f) => f.call0(&JsValue::UNDEFINED)?.as_f64().unwrap_or(f64::NAN),
    };
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return Err(js::bad_field("now", "now: must return epoch milliseconds (a finite number)").into());
    }
    Ok(Timestamp::from_millis(ms.floor() as i64))
}

pub(crate) fn now_of(rc: &Shared) -> Result<Timestamp, JsValue> {
    let clock = rc.try_borrow().map_err(|_| js::busy())?.clock.clone();
    read_clock(clock.as_ref())
}

/// `navigator.onLine` (no navigator counts as online).
pub(crate) fn online() -> bool {
    let navigator = js::get(&js::global(), "navigator");
    js::get(&navigator, "onLine").as_bool() != Some(false)
}

/// `crypto.getRandomValues`, else `Math.random()`.
pub(crate) struct WebEntropy;

impl Entropy for WebEntropy {
    fn hex(&mut self, bytes: usize) -> String {
        let buffer = js_sys::Uint8Array::new_with_length(u32::try_from(bytes).unwrap_or(16));
        let crypto = js::get(&js::global(), "crypto");
        let random = !js::is_nullish(&crypto) && js::call_method(&crypto, "getRandomValues", &[&buffer]).is_ok();
        if random {
            buffer.to_vec().iter().map(|b| format!("{b:02x}")).collect()
        } else {
            (0..bytes)
                .map(|_| format!("{:02x}", (js_sys::Math::random() * 256.0) as u8))
                .collect()
        }
    }

    fn unit(&mut self) -> f64 {
        js_sys::Math::random()
    }
}

// ---------------------------------------------------------------------------- events

thread_local! {
    static DISPATCH: RefCell<Dispatcher<(Weak<RefCell<Inner>>, Event)>> = RefCell::new(Dispatcher::default());
}

/// Refuses a change made by a listener that keeps changing carts (`LISTENER_LOOP`).
pub(crate) fn guard_listener_loop(rc: &Shared) -> Result<(), JsValue> {
    let refused = DISPATCH.with(|d| d.try_borrow_mut().ok().and_then(|mut d| d.change_from_listener().err()));
    match refused {
        None => Ok(()),
        Some((error, first)) => {
            if first {
                queue(rc, Event::Error(Reported::Cart(error.clone())));
            }
            Err(error.into())
        }
    }
}

fn queue(rc: &Shared, event: Event) {
    DISPATCH.with(|d| {
        if let Ok(mut d) = d.try_borrow_mut() {
            d.push((Rc::downgrade(rc), event));
        }
    });
}

/// Delivers queued events, unless a delivery is running further up the stack (it delivers them).
/// A listener's exception is reported (`reportError`) and does not stop the others.
pub(crate) fn deliver() {
    let begin = DISPATCH.with(|d| d.try_borrow_mut().map(|mut d| d.begin()).unwrap_or(false));
    if !begin {
        return;
    }
    while let Some((weak, event)) = DISPATCH.with(|d| d.try_borrow_mut().ok().and_then(|mut d| d.pop())) {
        if let Some(rc) = weak.upgrade() {
            notify(&rc, event);
        }
    }
    DISPATCH.with(|d| {
        if let Ok(mut d) = d.try_borrow_mut() {
            d.end();
        }
    });
}

fn notify(rc: &Shared, event: Event) {
    let (kind, payload) = match event {
        Event::Change => match view_of(rc) {
            Ok(view) => (EventKind::Change, view),
            Err(e) => return js::report(&e),
        },
        Event::Error(Reported::Cart(e)) => (EventKind::Error, e.into()),
        Event::Error(Reported::Checkout(e)) => (EventKind::Error, e.into()),
        Event::Expired(view) => (
            EventKind::Expired,
            view::encode(&*view, view::ENCODING).unwrap_or(JsValue::NULL),
        ),
        Event::Ordered { order, cart } => {
            let payload = js_sys::Object::new();
            js::set(&payload, "order", &order.as_ref().map_or(JsValue::NULL, js::from_value));
            js::set(
                &payload,
                "cart",
                &view::encode(&*cart, view::ENCODING).unwrap_or(JsValue::NULL),
            );
            (EventKind::Ordered, payload.into())
        }
    };
    let targets = match rc.try_borrow() {
        Ok(inner) => inner.listeners.try_borrow().map(|l| l.of(kind)).unwrap_or_default(),
        Err(_) => return,
    };
    for f in targets {
        if let Err(e) = f.call1(&JsValue::UNDEFINED, &payload) {
            js::report(&e);
        }
    }
}

/// The current view: the cached object, or a new one (line objects reused where lines are unchanged).
pub(crate) fn view_of(rc: &Shared) -> Result<JsValue, JsValue> {
    if let Some(v) = rc.try_borrow().map_err(|_| js::busy())?.views.current() {
        return Ok(v);
    }
    let now = now_of(rc)?;
    let mut inner = rc.try_borrow_mut().map_err(|_| js::busy())?;
    let view = inner.session.view(now).map_err(JsValue::from)?;
    inner.views.build(view, view::ENCODING).map_err(JsValue::from)
}

// ---------------------------------------------------------------------------- effects

/// Carries out `effects` in order; what they report back (a failed write) is carried out next.
pub(crate) fn execute(rc: &Shared, effects: Vec<Effect>, now: Timestamp) {
    let mut todo: VecDeque<Effect> = effects.into();
    while let Some(effect) = todo.pop_front() {
        let more = run(rc, effect, now);
        for e in more.into_iter().rev() {
            todo.push_front(e);
        }
    }
}

fn store_of(rc: &Shared) -> Option<Store> {
    rc.try_borrow().ok().and_then(|inner| inner.store.clone())
}

/// Runs one effect; returns the effects of what it reported back.
fn run(rc: &Shared, effect: Effect, now: Timestamp) -> Vec<Effect> {
    let failed = |rc: &Shared, key: &str, e: &JsValue| -> Vec<Effect> {
        match rc.try_borrow_mut() {
            Ok(mut inner) => inner.session.write_failed(key, &js::describe(e), now),
            Err(_) => Vec::new(),
        }
    };
    match effect {
        Effect::Write { key, value } => match store_of(rc).map(|s| s.set(&key, &value)) {
            Some(Err(e)) => failed(rc, &key, &e),
            _ => Vec::new(),
        },
        Effect::Remove { key } => match store_of(rc).map(|s| s.remove(&key)) {
            Some(Err(e)) => failed(rc, &key, &e),
            _ => Vec::new(),
        },
        Effect::Preserve { from, to } => match store_of(rc).map(|s| s.copy(&from, &to)) {
            Some(Err(e)) => failed(rc, &to, &e),
            _ => Vec::new(),
        },
        Effect::Commit => {
            commit(rc);
            Vec::new()
        }
        Effect::Broadcast(text) => {
            broadcast(rc, &text);
            Vec::new()
        }
        Effect::Emit(event) => {
            if let Ok(mut inner) = rc.try_borrow_mut() {
                match &event {
                    Event::Change => inner.views.invalidate(),
                    Event::Ordered { .. } | Event::Expired(_) => inner.views.reset(),
                    Event::Error(_) => {}
                }
            }
            queue(rc, event);
            Vec::new()
        }
        Effect::Send {
            id,
            request,
            timeout_ms,
        } => {
            send(rc, id, request, timeout_ms);
            Vec::new()
        }
        Effect::Wait { id, ms } => {
            wait(rc, id, ms);
            Vec::new()
        }
        Effect::Settle { id, outcome } => {
            settle(rc, id, outcome);
            Vec::new()
        }
        Effect::WatchOnline => {
            listen_global(rc, "online", |rc, _| {
                input(rc, |session, storage, now| {
                    session.online(storage, now, &mut WebEntropy)
                });
            });
            Vec::new()
        }
    }
}

/// Feeds one input from the browser to the session, carries out its effects, delivers the events.
pub(crate) fn input(rc: &Shared, f: impl FnOnce(&mut Session, &dyn Storage, Timestamp) -> Vec<Effect>) {
    input_quietly(rc, f);
    deliver();
}

/// [`input`] without delivering: for an input raised while another call runs, whose caller delivers.
fn input_quietly(rc: &Shared, f: impl FnOnce(&mut Session, &dyn Storage, Timestamp) -> Vec<Effect>) {
    let Ok(now) = now_of(rc) else {
        return;
    };
    let effects = match rc.try_borrow_mut() {
        Ok(mut inner) => {
            let (session, storage) = inner.parts();
            f(session, storage, now)
        }
        Err(_) => return,
    };
    execute(rc, effects, now);
}

/// A commit at the commit point (IndexedDB), in the background.
fn commit(rc: &Shared) {
    let Ok(key) = rc.try_borrow().map(|inner| inner.session.keys().cart().to_string()) else {
        return;
    };
    let weak = Rc::downgrade(rc);
    let decide = Closure::once_into_js(move |stored: JsValue| -> JsValue {
        let Some(rc) = weak.upgrade() else {
            return JsValue::NULL;
        };
        let Ok(now) = now_of(&rc) else {
            return JsValue::NULL;
        };
        let Ok(mut inner) = rc.try_borrow_mut() else {
            return JsValue::NULL;
        };
        let (session, storage) = inner.parts();
        match session.commit(stored.as_string().as_deref(), storage, now) {
            Some(text) => JsValue::from_str(&text),
            None => JsValue::NULL,
        }
    });
    let Ok(decide) = decide.dyn_into::<Function>() else {
        return;
    };
    let promise = glue::idb_commit(&key, &decide);
    let weak = Rc::downgrade(rc);
    spawn_local(async move {
        let result = JsFuture::from(promise).await.unwrap_or(JsValue::NULL);
        let Some(rc) = weak.upgrade() else {
            return;
        };
        let ok = js::get(&result, "ok").as_bool() == Some(true);
        let unavailable = js::get(&result, "unavailable").as_bool() == Some(true);
        input(&rc, |session, storage, now| {
            if unavailable {
                session.commit_point_unavailable(storage, now)
            } else {
                session.committed(ok, storage, now)
            }
        });
    });
}

thread_local! {
    /// The carts of this page that write a storage directly, to tell each other about their commits
    /// (a `storage` event never reaches the page that wrote).
    static SIBLINGS: RefCell<Vec<Weak<RefCell<Inner>>>> = const { RefCell::new(Vec::new()) };
}

/// Tells the other tabs (BroadcastChannel), or the other carts of this page on the same storage.
fn broadcast(rc: &Shared, text: &str) {
    let Ok(inner) = rc.try_borrow() else {
        return;
    };
    if let Some((channel, _)) = &inner.channel {
        let _ = js::call_method(channel, "postMessage", &[&JsValue::from_str(text)]);
        return;
    }
    let (Some(store), key) = (inner.store.clone(), inner.session.keys().clone()) else {
        return;
    };
    drop(inner);
    let siblings: Vec<Shared> = SIBLINGS.with(|s| {
        s.borrow_mut().retain(|w| w.strong_count() > 0);
        s.borrow().iter().filter_map(Weak::upgrade).collect()
    });
    for sibling in siblings.iter().filter(|s| !Rc::ptr_eq(s, rc)) {
        let same = sibling.try_borrow().is_ok_and(|o| {
            o.session.keys() == &key
                && o.store
                    .as_ref()
                    .is_some_and(|s| js_sys::Object::is(s.object(), store.object()))
        });
        if same {
            let text = text.to_string();
            input_quietly(sibling, move |session, storage, now| {
                session.message(&text, storage, now)
            });
        }
    }
}

/// Subscribes the cart to what other tabs and carts do: the BroadcastChannel (transactional mode),
/// the `storage` event (Web Storage), and the registry of carts writing directly.
pub(crate) fn connect(rc: &Shared) {
    let (coordination, key, web) = match rc.try_borrow() {
        Ok(inner) => (
            inner.session.coordination(),
            inner.session.keys().cart().to_string(),
            matches!(
                inner.session.persistence(),
                crate::session::Persistence::Local | crate::session::Persistence::Session
            ),
        ),
        Err(_) => return,
    };
    if coordination == Coordination::Transactional {
        let weak = Rc::downgrade(rc);
        let on_message = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(rc) = weak.upgrade() {
                input(&rc, |session, storage, now| session.message(&text, storage, now));
            }
        });
        if let Ok(channel) = glue::open_channel(&format!("wasm-cart:{key}"), on_message.as_ref().unchecked_ref()) {
            if !channel.is_null() {
                if let Ok(mut inner) = rc.try_borrow_mut() {
                    inner.channel = Some((channel, on_message));
                }
            }
        }
    }
    let in_memory = rc.try_borrow().is_ok_and(|i| i.store.is_none());
    if !in_memory {
        SIBLINGS.with(|s| s.borrow_mut().push(Rc::downgrade(rc)));
    }
    if web {
        listen_global(rc, "storage", |rc, event| on_storage_event(rc, &event));
    }
}

fn on_storage_event(rc: &Shared, event: &JsValue) {
    let Some(key) = js::get(event, "key").as_string() else {
        return; // storage.clear() elsewhere: the next commit writes the cart again
    };
    let ours = rc.try_borrow().is_ok_and(|inner| {
        let cart = inner.session.keys().cart();
        let area = js::get(event, "storageArea");
        inner.store.as_ref().is_some_and(|s| s.is_area(&area)) && (key == cart || key.starts_with(&format!("{cart}:")))
    });
    if ours {
        let value = classify(&js::get(event, "newValue"));
        input(rc, |session, storage, now| {
            session.storage_changed(&key, value, storage, now)
        });
    }
}

/// Adds `handler` as a listener of `name` on `globalThis` (once per cart and name).
fn listen_global(rc: &Shared, name: &'static str, handler: fn(&Shared, JsValue)) {
    let global = js::global();
    if !js::get(&global, "addEventListener").is_function() {
        return;
    }
    if rc
        .try_borrow()
        .map_or(true, |inner| inner.subscriptions.iter().any(|(_, n, _)| *n == name))
    {
        return;
    }
    let weak = Rc::downgrade(rc);
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        if let Some(rc) = weak.upgrade() {
            handler(&rc, event);
        }
    });
    if js::call_method(
        &global,
        "addEventListener",
        &[&JsValue::from_str(name), closure.as_ref()],
    )
    .is_ok()
    {
        if let Ok(mut inner) = rc.try_borrow_mut() {
            inner.subscriptions.push((global, name, closure));
        }
    }
}

/// One request through `fetch` (with its timeout), in the background.
fn send(rc: &Shared, id: u64, request: crate::checkout::HttpRequest, timeout_ms: u64) {
    let headers = js_sys::Object::new();
    for (name, value) in &request.headers {
        js::set(&headers, name, &JsValue::from_str(value));
    }
    let body = request
        .body
        .as_ref()
        .map_or(JsValue::UNDEFINED, |b| JsValue::from_str(&b.to_string()));
    let promise = glue::fetch_once(&request.method, &request.path, &headers, &body, timeout_ms as f64);
    let weak = Rc::downgrade(rc);
    spawn_local(async move {
        let outcome = match JsFuture::from(promise).await {
            Ok(answer) => HttpOutcome::Answer(response_of(&answer)),
            Err(e) if js::get(&e, "timeout").as_bool() == Some(true) => HttpOutcome::Timeout,
            Err(e) => HttpOutcome::Network(js::describe(&e)),
        };
        if let Some(rc) = weak.upgrade() {
            input(&rc, |session, storage, now| {
                session.http_answer(id, outcome, storage, now, &mut WebEntropy)
            });
        }
    });
}

fn response_of(answer: &JsValue) -> HttpResponse {
    let status = js::get(answer, "status").as_f64().unwrap_or(0.0);
    let mut headers = BTreeMap::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&js::get(answer, "headers")) {
        for entry in entries.flatten() {
            if let (Some(name), Some(value)) = (js::get(&entry, "0").as_string(), js::get(&entry, "1").as_string()) {
                headers.insert(name.to_ascii_lowercase(), value);
            }
        }
    }
    let text = js::get(answer, "text").as_string().unwrap_or_default();
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    HttpResponse {
        status: if (100.0..=599.0).contains(&status) {
            status as u16
        } else {
            0
        },
        headers,
        body,
    }
}

/// Calls `Session::timer(id)` after `ms`: through the checkout's `sleep` option when it has one (tests
/// choose when a retry happens), else `setTimeout` (capped at 2^31 - 1 ms, beyond which it fires at once).
fn wait(rc: &Shared, id: u64, ms: u64) {
    let weak = Rc::downgrade(rc);
    let fire = move || {
        if let Some(rc) = weak.upgrade() {
            if let Ok(mut inner) = rc.try_borrow_mut() {
                inner.timers.remove(&id);
            }
            input(&rc, |session, storage, now| {
                session.timer(id, storage, now, &mut WebEntropy)
            });
        }
    };
    let sleep = rc
        .try_borrow()
        .ok()
        .and_then(|inner| inner.sleep.clone())
        .filter(|_| id >= 100);
    if let Some(sleep) = sleep {
        let promise = sleep
            .call1(&JsValue::UNDEFINED, &JsValue::from_f64(ms as f64))
            .map(|p| Promise::resolve(&p));
        spawn_local(async move {
            if let Ok(p) = promise {
                let _ = JsFuture::from(p).await;
            }
            fire();
        });
        return;
    }
    let callback = Closure::once_into_js(fire);
    let delay = JsValue::from_f64(ms.min(2_147_483_647) as f64);
    if let Ok(handle) = js::call_method(&js::global(), "setTimeout", &[&callback, &delay]) {
        if let Ok(mut inner) = rc.try_borrow_mut() {
            inner.timers.insert(id, handle);
        }
    }
}

fn settle(rc: &Shared, id: u64, outcome: Result<Value, CheckoutError>) {
    let Some(deferred) = rc
        .try_borrow_mut()
        .ok()
        .and_then(|mut inner| inner.promises.remove(&id))
    else {
        return;
    };
    let Some((resolve, reject)) = deferred.parts else {
        return;
    };
    let _ = match outcome {
        Ok(value) => resolve.call1(&JsValue::UNDEFINED, &js::from_value(&value)),
        Err(e) => reject.call1(&JsValue::UNDEFINED, &JsValue::from(e)),
    };
}
