//! The browser session of one cart, as a pure state machine: every decision the `Cart` class of
//! `src/web/` makes is taken here, and tested natively (`tests/session_*.rs`).
//!
//! Inputs are calls (`apply`, `set_catalog`, `merge`, `checkout`, ...), storage contents (read through
//! [`Storage`]), records committed by other tabs (`message`, `storage_changed`), the outcome of a
//! commit (`commit`, `committed`), HTTP answers and timers (`http_answer`, `timer`), and the time (`now`
//! on every call) and randomness ([`Entropy`]). Outputs are [`Effect`]s: write or remove a key, copy a
//! corrupt value aside, commit, broadcast, emit an event, send a request, wait, settle a checkout.
//!
//! ```text
//!   call ──► apply on the view (refusal: nothing changes) ──► op in the outbox ──► Commit
//!                                                                                    │
//!   IndexedDB transaction: record ──► commit(): replay every outbox's new ops ──► record'
//!                                                                                    │
//!   committed(): mirror under the key, outbox trimmed, Broadcast ──► other tabs: message() ──► rebase
//! ```
//!
//! `docs/tabs.md` explains the protocol and what it guarantees; `docs/ARCHITECTURE.md` draws the states.

mod catalog;
mod checkout;
mod commit;
mod effect;
mod events;
mod op;
mod storage;

pub use catalog::CatalogInput;
pub use checkout::{CheckoutInput, HttpOutcome, SendOptions};
pub use effect::{CheckoutError, Effect, Event, Reported};
pub use events::Dispatcher;
pub use op::{Op, OpKind, Outbox};
pub use storage::{Coordination, Keys, NoStorage, Persistence, Storage, StorageFailure, Stored};

use crate::cart::{Action, CartState, CartStatus, MergeMode, MergeReport, NewCart};
use crate::catalog::Catalog;
use crate::error::{CartError, ErrorCode, Result};
use crate::pricing::{price, CartView};
use crate::snapshot::{self, Corruption, Restored, Sync};
use crate::time::Timestamp;
use effect::Effects;
use serde_json::json;
use std::collections::BTreeMap;

/// Randomness, from the shell (`crypto.getRandomValues`) or a seeded generator in tests.
pub trait Entropy {
    /// `bytes` random bytes as lowercase hex.
    fn hex(&mut self, bytes: usize) -> String;
    /// A number in `[0, 1)` (retry jitter).
    fn unit(&mut self) -> f64;
}

/// What a new cart starts with: the options of `open`, else the previous cart's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    pub currency: Option<String>,
    pub country: Option<String>,
    pub locale: Option<String>,
    pub customer_id: Option<String>,
    pub customer_group: Option<String>,
    pub ttl_seconds: Option<u64>,
}

impl Defaults {
    fn new_cart(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        previous: Option<&CartState>,
        entropy: &mut dyn Entropy,
    ) -> Result<CartState> {
        let currency = self
            .currency
            .clone()
            .or_else(|| previous.map(|c| c.currency().to_string()))
            .ok_or_else(|| CartError::invalid_field("currency", "currency: required to start a new cart"))?;
        let new = NewCart {
            id: format!("cart_{}", entropy.hex(16)),
            currency,
            country: self
                .country
                .clone()
                .or_else(|| previous.and_then(|c| c.country().map(str::to_string))),
            locale: self
                .locale
                .clone()
                .or_else(|| previous.and_then(|c| c.locale().map(str::to_string))),
            customer_id: self.customer_id.clone(),
            customer_group: self.customer_group.clone(),
            ttl_seconds: self.ttl_seconds,
        };
        CartState::new(new, catalog, now)
    }
}

/// How `Session::open` is set up (the options of `Cart.open`, resolved by the shell).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub key: String,
    pub persistence: Persistence,
    pub coordination: Coordination,
    /// The catalog given to `open`; `None`: the cached one.
    pub catalog: Option<CatalogInput>,
    /// `Cart.fromSnapshot`: this blob replaces what is stored.
    pub snapshot: Option<String>,
    pub defaults: Defaults,
    /// The storage could not even be reached (a `localStorage` getter that throws).
    pub unreachable: Option<String>,
    /// `navigator.onLine` (no navigator counts as online).
    pub online: bool,
}

/// The last committed record this session knows: the cart, and the commit's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub cart: CartState,
    pub sync: Sync,
}

impl Record {
    fn encode(&self, now: Timestamp) -> Result<String> {
        snapshot::encode_synced(&self.cart, now, Some(&self.sync))
    }

    fn from_restored(r: Restored) -> Record {
        Record {
            cart: r.cart,
            sync: r.sync.unwrap_or_default(),
        }
    }
}

/// One cart's session. See the module docs.
pub struct Session {
    keys: Keys,
    /// This session's writer id (`tab` in outboxes and records).
    tab: String,
    persistence: Persistence,
    coordination: Coordination,
    catalog: CatalogInput,
    defaults: Defaults,
    /// The newest committed record this session has seen.
    base: Option<Record>,
    /// This session's changes not yet seen committed, oldest first.
    pending: Vec<Op>,
    /// What the shopper sees: `base` with `pending` replayed.
    shown: CartState,
    next_seq: u64,
    commit: commit::CommitState,
    /// The value of the cart key this session last read or wrote (to tell others' writes from its own).
    mirror: Option<String>,
    /// This session wrote the cart key for the newest commit it knows (it repairs the key if a late
    /// writer puts an older record there).
    wrote_base: bool,
    /// Memory mode: the keys that would be in storage.
    memory: BTreeMap<String, String>,
    last_merge: Option<MergeReport>,
    /// The view a change was checked with (priced when it was made), for the view asked for right
    /// after it at the same time: the cart, the catalog's checksum and the time it was priced for.
    checked: Option<(CartState, String, Timestamp, CartView)>,
    /// The cart whose `ordered` event was raised (one per order).
    announced: Option<String>,
    /// A cart another tab replaced before this tab could read its order in the archive.
    unannounced: Option<CartState>,
    checkout: checkout::CheckoutState,
}

impl Session {
    /// Opens the cart stored under `options.key` (or starts one). The view is ready at once; in
    /// transactional mode the first [`Effect::Commit`] then catches up with other tabs.
    pub fn open(
        options: OpenOptions,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> Result<(Session, Vec<Effect>)> {
        let mut fx = Effects::default();
        let keys = Keys::new(&options.key);
        let mut persistence = options.persistence;
        if let Some(cause) = &options.unreachable {
            fx.error(storage_error(keys.cart(), "open", cause));
            persistence = Persistence::Memory;
        }
        let catalog = match options.catalog {
            Some(c) => c,
            None => CatalogInput::cached(storage, &keys, persistence)?,
        };
        let mut session = Session {
            tab: entropy.hex(8),
            keys,
            persistence,
            coordination: options.coordination,
            catalog,
            defaults: options.defaults,
            base: None,
            pending: Vec::new(),
            // Replaced by `start` below.
            shown: CartState::blank(now),
            next_seq: 1,
            commit: commit::CommitState::default(),
            mirror: None,
            wrote_base: false,
            memory: BTreeMap::new(),
            last_merge: None,
            checked: None,
            announced: None,
            unannounced: None,
            checkout: checkout::CheckoutState::default(),
        };
        if persistence == Persistence::Memory {
            session.coordination = Coordination::Direct;
        }
        let restored = match &options.snapshot {
            Some(text) => Some(snapshot::decode(text)?),
            None => session.read_cart(storage, now, &mut fx),
        };
        session.start(restored, options.snapshot.is_some(), storage, now, entropy, &mut fx)?;
        session.cache_catalog(storage, now, &mut fx);
        session.checkout_at_open(options.online, storage, now, entropy, &mut fx);
        Ok((session, fx.into_vec()))
    }

    /// Reads the stored cart at open; a value that cannot be read is kept aside and reported.
    fn read_cart(&mut self, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) -> Option<Restored> {
        let key = self.keys.cart().to_string();
        match self.read(storage, &key) {
            Ok(Stored::Missing) => None,
            Ok(Stored::Text(text)) => match snapshot::decode(&text) {
                Ok(r) => {
                    self.mirror = Some(text);
                    Some(r)
                }
                Err(e) => {
                    self.set_aside(&key, e, now, fx);
                    None
                }
            },
            Ok(Stored::Malformed) => {
                let e = Corruption::NotJson.error("the stored cart is not well-formed text (a lone UTF-16 surrogate)");
                self.set_aside(&key, e, now, fx);
                None
            }
            Ok(Stored::NotText) => {
                // It cannot be copied as text, and must not be overwritten: the cart lives in memory.
                fx.error(Corruption::NotAString.error(format!(
                    "the storage holds something that is not a string under {key}; it is left as it is and the cart is kept in memory"
                )).with_details(json!({ "reason": Corruption::NotAString.as_str(), "key": key })));
                self.go_in_memory();
                None
            }
            Err(StorageFailure(cause)) => {
                fx.error(storage_error(&key, "read", &cause));
                self.go_in_memory();
                None
            }
        }
    }

    /// Keeps an unreadable value of `key` under `<key>:corrupt:<ms>` (byte for byte) and reports it.
    fn set_aside(&mut self, key: &str, error: CartError, now: Timestamp, fx: &mut Effects) {
        let kept = self.keys.corrupt(key, now);
        let mut details = match error.details {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        details.insert("key".into(), json!(key));
        details.insert("corruptKey".into(), json!(kept));
        let message = format!("{} (kept under {kept})", error.message);
        if self.persistence == Persistence::Memory {
            if let Some(value) = self.memory.get(key).cloned() {
                self.memory.insert(kept.clone(), value);
            }
        } else {
            fx.push(Effect::Preserve {
                from: key.to_string(),
                to: kept,
            });
        }
        fx.error(CartError::new(error.code, message).with_details(serde_json::Value::Object(details)));
    }

    /// Decides the cart the session starts with, and records the change that start makes as an op.
    fn start(
        &mut self,
        restored: Option<Restored>,
        from_snapshot: bool,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) -> Result<()> {
        let migrated = restored.as_ref().is_some_and(Restored::migrated);
        let restored = restored.map(Record::from_restored);
        let Some(mut record) = restored else {
            let fresh = self.defaults.new_cart(&self.catalog.catalog, now, None, entropy)?;
            self.shown = fresh.clone();
            return self.record(
                OpKind::Replace {
                    previous: None,
                    cart: Box::new(fresh),
                },
                Vec::new(),
                false,
                storage,
                now,
                fx,
            );
        };
        let cart = record.cart.clone();
        if from_snapshot {
            // `fromSnapshot` replaces whatever is stored.
            self.shown = cart.clone();
            record.sync = Sync::default();
            let previous = self.stored_cart_id(storage);
            return self.record(
                OpKind::Replace {
                    previous,
                    cart: Box::new(cart),
                },
                Vec::new(),
                false,
                storage,
                now,
                fx,
            );
        }
        self.base = Some(record);
        self.shown = cart.clone();
        if cart.status() != CartStatus::Active {
            // An ordered or merged cart is read-only: the shopper gets a new one.
            return self.replace_cart(storage, now, entropy, fx);
        }
        if cart.is_expired(now) {
            fx.emit(Event::Expired(Box::new(self.priced(&cart, now)?)));
            return self.replace_cart(storage, now, entropy, fx);
        }
        let mut next = cart.clone();
        next.update_catalog(&self.catalog.catalog, now)?;
        if let Err(e) = price(&next, &self.catalog.catalog, now) {
            // A valid cart this catalog cannot price (amounts beyond 2^53 - 1): kept aside, a fresh one.
            let key = self.keys.cart().to_string();
            self.set_aside(&key, crate::snapshot::invalid_cart(e), now, fx);
            self.base = None;
            return self.start(None, false, storage, now, entropy, fx);
        }
        let repriced = next != cart;
        self.shown = next;
        let mut recorded = false;
        if repriced {
            self.record(OpKind::Catalog, Vec::new(), false, storage, now, fx)?;
            recorded = true;
        }
        if let Some(seconds) = self.defaults.ttl_seconds.filter(|t| *t != cart.ttl_seconds()) {
            self.shown.set_ttl(seconds);
            self.record(OpKind::SetTtl { seconds }, Vec::new(), false, storage, now, fx)?;
            recorded = true;
        }
        if migrated && !recorded && self.coordination == Coordination::Direct {
            // Written back in the current schema (the commit point's catch-up does it otherwise).
            if let Some(text) = self.base.as_ref().and_then(|b| b.encode(now).ok()) {
                self.mirror = Some(text.clone());
                self.write_cart(text, fx);
            }
        }
        if !recorded && self.coordination == Coordination::Transactional {
            // Catch up with the commit point (other tabs, a tab that closed before committing).
            fx.push(Effect::Commit);
            self.commit.mark_running();
        }
        Ok(())
    }

    fn stored_cart_id(&self, storage: &dyn Storage) -> Option<String> {
        match self.read(storage, self.keys.cart()) {
            Ok(Stored::Text(t)) => snapshot::decode(&t).ok().map(|r| r.cart.id().to_string()),
            _ => None,
        }
    }

    /// Replaces the shown cart by a new empty one (expiry, an ordered or merged cart).
    fn replace_cart(
        &mut self,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) -> Result<()> {
        let previous = self.shown.clone();
        let fresh = self
            .defaults
            .new_cart(&self.catalog.catalog, now, Some(&previous), entropy)?;
        self.shown = fresh.clone();
        self.checkout.quote = None;
        let kind = OpKind::Replace {
            previous: Some(previous.id().to_string()),
            cart: Box::new(fresh),
        };
        self.record(kind, Vec::new(), false, storage, now, fx)?;
        fx.emit(Event::Change);
        Ok(())
    }

    // ------------------------------------------------------------------ changes

    /// Runs `actions` atomically on the cart (every mutating method): refused, nothing changes; else
    /// the view changes at once and the change is committed in the background. With
    /// `expected_version`, a cart at another version refuses with `CONCURRENT_MODIFICATION`.
    pub fn apply(
        &mut self,
        actions: &[Action],
        expected_version: Option<u64>,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> Result<Vec<Effect>> {
        let mut fx = Effects::default();
        self.sync_direct(storage, now, &mut fx);
        if self.shown.is_expired(now) {
            fx.emit(Event::Expired(Box::new(self.priced(&self.shown, now)?)));
            self.replace_cart(storage, now, entropy, &mut fx)?;
        }
        let mut next = self.shown.clone();
        if !next.apply_expecting(&self.catalog.catalog, actions, now, expected_version)? {
            return Ok(fx.into_vec());
        }
        self.check(&next, now)?;
        let created = op::created_ids(&self.shown, &next);
        self.shown = next;
        // Lines created by this tab's changes not committed yet are referred to by symbol: their ids
        // may change when they are committed.
        let symbols = op::symbols_of(&self.pending);
        let actions = actions.iter().map(|a| a.with_line_ids(&symbols)).collect();
        let kind = OpKind::Actions { actions };
        self.record(kind, created, expected_version.is_some(), storage, now, &mut fx)?;
        fx.emit(Event::Change);
        Ok(fx.into_vec())
    }

    /// Switches to a new catalog: the cart is repriced (`PRICE_CHANGED` where prices moved) and the
    /// catalog cached for offline opens. Refused (nothing changes) if the cart cannot be priced with it.
    pub fn set_catalog(&mut self, input: CatalogInput, storage: &dyn Storage, now: Timestamp) -> Result<Vec<Effect>> {
        let mut fx = Effects::default();
        self.sync_direct(storage, now, &mut fx);
        let mut next = self.shown.clone();
        next.update_catalog(&input.catalog, now)?;
        let view = price(&next, &input.catalog, now)?;
        self.checked = Some((next.clone(), input.checksum.clone(), now, view));
        self.catalog = input;
        self.cache_catalog(storage, now, &mut fx);
        if next != self.shown {
            self.shown = next;
            self.record(OpKind::Catalog, Vec::new(), false, storage, now, &mut fx)?;
        }
        fx.emit(Event::Change);
        Ok(fx.into_vec())
    }

    /// Merges `guest` into this cart (a shopper signs in): see [`CartState::merge`]. The guest's session
    /// records its cart as merged. Returns the effects of both sessions.
    pub fn merge(
        &mut self,
        guest: &mut Session,
        mode: MergeMode,
        (mine, theirs): (&dyn Storage, &dyn Storage),
        now: Timestamp,
    ) -> Result<(Vec<Effect>, Vec<Effect>)> {
        let (mut fx, mut gx) = (Effects::default(), Effects::default());
        self.sync_direct(mine, now, &mut fx);
        guest.sync_direct(theirs, now, &mut gx);
        if self.keys == guest.keys {
            return Err(CartError::invalid_request(
                "a cart cannot be merged into a cart of the same storage key",
            ));
        }
        let mut next = self.shown.clone();
        let mut their_cart = guest.shown.clone();
        let report = next.merge(&mut their_cart, mode, &self.catalog.catalog, now)?;
        self.check(&next, now)?;
        let created = op::created_ids(&self.shown, &next);
        let kind = OpKind::Merge {
            guest: Box::new(guest.shown.clone()),
            mode,
        };
        self.shown = next;
        self.last_merge = Some(report);
        self.record(kind, created, false, mine, now, &mut fx)?;
        fx.emit(Event::Change);
        guest.shown = their_cart;
        guest.record(OpKind::MarkMerged, Vec::new(), false, theirs, now, &mut gx)?;
        gx.emit(Event::Change);
        Ok((fx.into_vec(), gx.into_vec()))
    }

    /// Records a change made to `shown` as an op and starts committing it.
    fn record(
        &mut self,
        kind: OpKind,
        created: Vec<String>,
        guarded: bool,
        storage: &dyn Storage,
        now: Timestamp,
        fx: &mut Effects,
    ) -> Result<()> {
        let on_version = match &kind {
            OpKind::Replace { .. } => 0,
            _ => self.shown.version().saturating_sub(1),
        };
        let op = Op {
            seq: self.next_seq,
            at: now,
            cart_id: self.op_cart_id(&kind),
            on_version,
            guarded,
            created,
            kind,
        };
        self.next_seq = self.next_seq.saturating_add(1);
        self.pending.push(op);
        match self.coordination {
            Coordination::Transactional => {
                self.write_outbox(fx);
                if self.commit.request() {
                    fx.push(Effect::Commit);
                }
            }
            // Memory: one writer and nothing to store; the change is committed as it is.
            Coordination::Direct if self.persistence == Persistence::Memory => self.settle_in_memory(),
            Coordination::Direct => self.commit_direct(storage, now, fx),
        }
        Ok(())
    }

    fn op_cart_id(&self, kind: &OpKind) -> String {
        match kind {
            OpKind::Replace { previous, cart } => previous.clone().unwrap_or_else(|| cart.id().to_string()),
            OpKind::Ordered { ordered, .. } => ordered.id().to_string(),
            _ => self.shown.id().to_string(),
        }
    }

    /// A timer asked for with [`Effect::Wait`] fired.
    pub fn timer(&mut self, id: u64, storage: &dyn Storage, now: Timestamp, entropy: &mut dyn Entropy) -> Vec<Effect> {
        let mut fx = Effects::default();
        if id == commit::TIMER_COMMIT_RETRY || id == commit::TIMER_ADOPT {
            self.commit_timer(id, storage, &mut fx);
        } else {
            self.checkout_timer(id, storage, now, entropy, &mut fx);
        }
        fx.into_vec()
    }

    // ------------------------------------------------------------------ reading

    /// The priced view of what the shopper sees (with accepted server prices while they apply).
    pub fn view(&self, now: Timestamp) -> Result<CartView> {
        let view = match &self.checked {
            // Right after a change, at its time: the view it was checked with (pricing is a pure
            // function of cart, catalog and time).
            Some((cart, checksum, at, view))
                if *at == now && *checksum == self.catalog.checksum && *cart == self.shown =>
            {
                view.clone()
            }
            _ => self.priced(&self.shown, now)?,
        };
        Ok(self.checkout.shown(&self.shown, view))
    }

    /// Prices a cart a change is about to make (refusing amounts beyond what JavaScript holds
    /// exactly) and keeps the view for [`Session::view`].
    fn check(&mut self, next: &CartState, now: Timestamp) -> Result<()> {
        let view = price(next, &self.catalog.catalog, now)?;
        self.checked = Some((next.clone(), self.catalog.checksum.clone(), now, view));
        Ok(())
    }

    fn priced(&self, cart: &CartState, now: Timestamp) -> Result<CartView> {
        price(cart, &self.catalog.catalog, now)
    }

    /// The cart as the shopper sees it.
    pub fn cart(&self) -> &CartState {
        &self.shown
    }

    pub fn catalog(&self) -> &CatalogInput {
        &self.catalog
    }

    pub fn persistence(&self) -> Persistence {
        self.persistence
    }

    pub fn coordination(&self) -> Coordination {
        self.coordination
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// This session's writer id.
    pub fn tab(&self) -> &str {
        &self.tab
    }

    pub fn last_merge(&self) -> Option<&MergeReport> {
        self.last_merge.as_ref()
    }

    /// The number of the newest commit this session has followed (0: none).
    pub fn commit_number(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.sync.commit)
    }

    /// Changes made here and not yet seen committed.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The persisted form of the cart as shown (`cart.snapshot()`).
    pub fn snapshot(&self, now: Timestamp) -> Result<String> {
        snapshot::encode(&self.shown, now)
    }

    // ------------------------------------------------------------------ storage

    fn read(&self, storage: &dyn Storage, key: &str) -> std::result::Result<Stored, StorageFailure> {
        if self.persistence == Persistence::Memory {
            return Ok(self
                .memory
                .get(key)
                .map_or(Stored::Missing, |v| Stored::Text(v.clone())));
        }
        storage.get(key)
    }

    /// Writes `key` (in memory mode, to the session's own map).
    fn write(&mut self, key: &str, value: String, fx: &mut Effects) {
        if self.persistence == Persistence::Memory {
            self.memory.insert(key.to_string(), value);
        } else {
            fx.write(key, value);
        }
    }

    fn write_cart(&mut self, text: String, fx: &mut Effects) {
        let key = self.keys.cart().to_string();
        self.write(&key, text, fx);
    }

    fn remove(&mut self, key: &str, fx: &mut Effects) {
        if self.persistence == Persistence::Memory {
            self.memory.remove(key);
        } else {
            fx.remove(key);
        }
    }

    /// From now on the cart lives in memory: what storage held is kept in the session's own map.
    fn go_in_memory(&mut self) {
        self.persistence = Persistence::Memory;
        self.coordination = Coordination::Direct;
    }

    /// A write the shell carried out threw. The cart key, an outbox or the commit point: the cart goes on
    /// in memory (an `error` event); the catalog cache, the checkout record or the archive: reported,
    /// kept in memory for this page.
    pub fn write_failed(&mut self, key: &str, cause: &str) -> Vec<Effect> {
        let mut fx = Effects::default();
        if key == self.keys.catalog() {
            fx.error(side_write_error(key, "the catalog cache (for opening offline)", cause));
            return fx.into_vec();
        }
        if key == self.keys.checkout() || key == self.keys.orders() {
            self.side_write_failed(key);
            let what = if key == self.keys.checkout() {
                "the checkout record"
            } else {
                "the order archive"
            };
            fx.error(side_write_error(key, what, cause));
            return fx.into_vec();
        }
        if self.persistence == Persistence::Memory {
            return fx.into_vec();
        }
        fx.error(storage_error(key, "write", cause));
        self.go_in_memory();
        self.settle_in_memory();
        fx.into_vec()
    }

    /// After switching to memory: everything pending is committed to the session's own map.
    fn settle_in_memory(&mut self) {
        let mut sync = self.base.as_ref().map(|b| b.sync.clone()).unwrap_or_default();
        sync.commit = sync.commit.saturating_add(1);
        self.pending.clear();
        self.commit = commit::CommitState::default();
        self.base = Some(Record {
            cart: self.shown.clone(),
            sync,
        });
    }

    /// Writes the catalog cache if it holds another catalog. A failure is reported and does not change
    /// `persistence`: a catalog can exceed a quota that the small cart blob does not.
    fn cache_catalog(&mut self, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) {
        if self.persistence == Persistence::Memory || !self.catalog.given {
            return;
        }
        let key = self.keys.catalog();
        if let Ok(Stored::Text(text)) = storage.get(&key) {
            if snapshot::cached_catalog_checksum(&text).as_deref() == Some(self.catalog.checksum.as_str()) {
                return;
            }
        }
        match snapshot::encode_catalog(&self.catalog.json, now) {
            Ok(text) => fx.write(&key, text),
            Err(e) => fx.error(e),
        }
    }

    fn write_outbox(&mut self, fx: &mut Effects) {
        let key = self.keys.outbox(&self.tab);
        if self.pending.is_empty() {
            return self.remove(&key, fx);
        }
        let outbox = Outbox {
            tab: self.tab.clone(),
            ops: self.pending.clone(),
        };
        match outbox.encode() {
            Ok(text) => self.write(&key, text, fx),
            Err(e) => fx.error(e),
        }
    }
}

/// `STORAGE_UNAVAILABLE` for a write beside the cart that failed (the catalog cache, the checkout
/// record, the archive): the cart itself is still saved, and the message says so.
fn side_write_error(key: &str, what: &str, cause: &str) -> CartError {
    CartError::new(
        ErrorCode::StorageUnavailable,
        format!("{what} could not be saved ({cause}); the cart itself is still saved"),
    )
    .with_details(json!({ "key": key, "operation": "write", "cause": cause }))
}

/// `STORAGE_UNAVAILABLE`, as the `error` event reports it.
pub(crate) fn storage_error(key: &str, operation: &str, cause: &str) -> CartError {
    CartError::new(
        ErrorCode::StorageUnavailable,
        format!("storage is unavailable ({cause}); the cart is kept in memory only"),
    )
    .with_details(json!({ "key": key, "operation": operation, "cause": cause }))
}
