//! The browser layer (feature `web`): the one stateful JavaScript class, `Cart` (DESIGN §7).
//!
//! It is thin on purpose. The cart logic, the persisted format, migrations and the multi-tab
//! reconciliation are plain Rust in the core (`cart`, `pricing`, `snapshot`) and tested natively; this
//! module only moves values across the boundary, talks to storage, and calls listeners.
//!
//! # Invariants
//!
//! - No panic: every fallible step is a `Result`; `RefCell`s are only ever `try_borrow`ed, and no borrow
//!   is held while JavaScript code of the caller runs (listeners, the `now` clock, a custom storage),
//!   so a listener may call back into the cart.
//! - A refused call leaves the cart and the storage exactly as they were (the core applies actions to a
//!   copy; storage is written only after the copy succeeded).
//! - Every successful change is written to storage right away, after re-reading it: if another tab
//!   wrote in between, the change is re-applied on that newer cart (DESIGN §7, no lost update).
//! - Storage that throws turns the cart into an in-memory cart (`persistence === "memory"`) and raises
//!   an `error` event; it never makes a call fail. The cart stays in memory for the rest of its life
//!   (the next `Cart.open` tries storage again).
//! - Web Storage has no transactions: the re-read and the write happen in one synchronous call, so a
//!   lost update needs two tabs writing within the same few microseconds. Then the later write wins
//!   and the earlier tab adopts it on its next `storage` event or change.
//!
//! `checkout()` (issue 4) lives in `checkout.rs`: it drives the pure state of `crate::checkout::client`
//! (the persisted record, the archive, retries, accepted prices) over `fetch`, and reuses
//! [`Inner::start_new_cart`], [`Outbox`] and [`flush`].

#[cfg(feature = "bench")]
mod bench;
mod checkout;
mod js;
mod storage;
mod types;
mod view;

use crate::cart::{Action, CartState, CartStatus, MergeMode, MergeReport, NewCart};
use crate::catalog::Catalog;
use crate::error::{CartError, ErrorCode};
use crate::pricing::price;
use crate::snapshot::{self, Restored, Stored};
use crate::time::Timestamp;
use js_sys::Function;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use storage::{Persistence, Store};
use view::ViewCache;

pub use checkout::is_checkout_error;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

/// The default `storageKey`.
const DEFAULT_KEY: &str = "cart";

/// The events of `cart.on(event, listener)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// The view changed (a change here, another tab's change, a new catalog). Payload: the view.
    Change,
    /// Something went wrong that did not make a call fail (corrupt storage, storage unavailable).
    /// Payload: a `CartError`.
    Error,
    /// The stored cart had expired; a fresh one replaced it. Payload: the expired cart's view.
    Expired,
    /// The cart became `ordered` (here or in another tab). Payload: `{order, cart}` (the order as
    /// archived, or `null`; the ordered cart's view).
    Ordered,
}

impl EventKind {
    fn parse(name: &str) -> Option<EventKind> {
        match name {
            "change" => Some(EventKind::Change),
            "error" => Some(EventKind::Error),
            "expired" => Some(EventKind::Expired),
            "ordered" => Some(EventKind::Ordered),
            _ => None,
        }
    }
}

/// What an event carries.
pub(crate) enum Payload {
    /// The cart's current view, built when the event is delivered.
    View,
    Value(JsValue),
}

/// Events raised while the cart is borrowed, delivered by [`flush`] once it is not.
#[derive(Default)]
pub(crate) struct Outbox(Vec<(EventKind, Payload)>);

impl Outbox {
    /// Queues an event; several `change`s collapse into the last one.
    pub(crate) fn push(&mut self, kind: EventKind, payload: Payload) {
        if kind == EventKind::Change {
            self.0.retain(|(k, _)| *k != EventKind::Change);
        }
        self.0.push((kind, payload));
    }

    pub(crate) fn error(&mut self, error: JsValue) {
        self.push(EventKind::Error, Payload::Value(error));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The registered listeners. Kept apart from the cart state so that unsubscribing always works, even
/// from inside a listener.
#[derive(Default)]
pub(crate) struct Listeners {
    next_id: u32,
    entries: Vec<(u32, EventKind, Function)>,
}

impl Listeners {
    fn add(&mut self, kind: EventKind, f: Function) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.entries.push((self.next_id, kind, f));
        self.next_id
    }

    fn remove(&mut self, id: u32) {
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

/// What a fresh cart is started with (the options of `open`, else the previous cart's).
#[derive(Debug, Clone, Default)]
struct Defaults {
    currency: Option<String>,
    country: Option<String>,
    locale: Option<String>,
    customer_id: Option<String>,
    customer_group: Option<String>,
    ttl_seconds: Option<u64>,
}

impl Defaults {
    fn new_cart(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        previous: Option<&CartState>,
    ) -> Result<CartState, CartError> {
        let currency = self
            .currency
            .clone()
            .or_else(|| previous.map(|c| c.currency().to_string()))
            .ok_or_else(|| js::bad_field("currency", "currency: required to start a new cart"))?;
        let new = NewCart {
            id: new_cart_id(),
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

/// A parsed catalog option.
struct CatalogInput {
    catalog: Catalog,
    /// Compact JSON, for the cache.
    json: String,
    checksum: String,
}

fn parse_catalog(v: &JsValue) -> Result<CatalogInput, CartError> {
    let invalid = |m: String| CartError::new(ErrorCode::InvalidCatalog, m);
    let (value, json) = match v.as_string() {
        Some(text) => {
            let value: Value = serde_json::from_str(&text).map_err(|e| invalid(format!("catalog is not JSON: {e}")))?;
            let json = serde_json::to_string(&value).map_err(|e| invalid(e.to_string()))?;
            (value, json)
        }
        None => {
            let json = js::to_json_text(v, "catalog").map_err(|e| invalid(e.message))?;
            let value: Value = serde_json::from_str(&json).map_err(|e| invalid(format!("catalog is not JSON: {e}")))?;
            (value, json)
        }
    };
    let catalog = Catalog::from_value(value)?;
    let checksum = snapshot::catalog_checksum(&json);
    Ok(CatalogInput {
        catalog,
        json,
        checksum,
    })
}

/// The options of `Cart.open` / `Cart.fromSnapshot`.
struct Options {
    catalog: Option<CatalogInput>,
    key: String,
    storage: JsValue,
    defaults: Defaults,
    clock: Option<Function>,
}

fn opt_string(options: &JsValue, field: &str) -> Result<Option<String>, CartError> {
    let v = js::get(options, field);
    if js::is_nullish(&v) {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| js::bad_field(field, format!("{field}: expected a string")))
}

/// A function option (`now`, `sleep`); `expected` describes it in the error.
fn opt_function(options: &JsValue, field: &str, expected: &str) -> Result<Option<Function>, CartError> {
    let v = js::get(options, field);
    if js::is_nullish(&v) {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| js::bad_field(field, format!("{field}: expected {expected}")))
}

/// A whole, non-negative number option (`ttlSeconds`, `expectedVersion`).
fn opt_count(options: &JsValue, field: &str) -> Result<Option<u64>, CartError> {
    let v = js::get(options, field);
    if js::is_nullish(&v) {
        return Ok(None);
    }
    match v.as_f64() {
        // 2^53: beyond it a JavaScript number is no longer a whole count.
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0 => Ok(Some(n as u64)),
        _ => Err(js::bad_field(
            field,
            format!("{field}: expected a whole number of at least 0"),
        )),
    }
}

impl Options {
    fn read(options: &JsValue) -> Result<Options, CartError> {
        if !js::is_nullish(options) && !options.is_object() {
            return Err(CartError::invalid_request("options: expected an object"));
        }
        let catalog = js::get(options, "catalog");
        let catalog = if js::is_nullish(&catalog) {
            None
        } else {
            Some(parse_catalog(&catalog)?)
        };
        let key = opt_string(options, "storageKey")?.unwrap_or_else(|| DEFAULT_KEY.to_string());
        if key.is_empty() {
            return Err(js::bad_field("storageKey", "storageKey: must not be empty"));
        }
        let clock = opt_function(options, "now", "a function returning epoch milliseconds")?;
        let ttl_seconds = opt_count(options, "ttlSeconds")?;
        if ttl_seconds == Some(0) {
            return Err(js::bad_field("ttlSeconds", "ttlSeconds: must be at least 1"));
        }
        Ok(Options {
            catalog,
            key,
            storage: js::get(options, "storage"),
            defaults: Defaults {
                currency: opt_string(options, "currency")?,
                country: opt_string(options, "country")?,
                locale: opt_string(options, "locale")?,
                customer_id: opt_string(options, "customerId")?,
                customer_group: opt_string(options, "customerGroup")?,
                ttl_seconds,
            },
            clock,
        })
    }
}

/// Reads the clock: the `now` option, else `Date.now()`.
fn read_clock(clock: Option<&Function>) -> Result<Timestamp, JsValue> {
    let ms = match clock {
        None => js::date_now(),
        Some(f) => f.call0(&JsValue::UNDEFINED)?.as_f64().unwrap_or(f64::NAN),
    };
    if !ms.is_finite() {
        return Err(js::cart_error(&js::bad_field(
            "now",
            "now: must return epoch milliseconds (a finite number)",
        )));
    }
    Ok(Timestamp::from_millis(ms.floor() as i64))
}

thread_local! {
    static ID_COUNTER: Cell<u64> = const { Cell::new(0) };
}

/// `cart_` + 32 hex digits from `crypto.getRandomValues` where there is one, else from a counter,
/// the time and `Math.random()` (unique enough within one storage; the server assigns order ids).
fn new_cart_id() -> String {
    let bytes = js_sys::Uint8Array::new_with_length(16);
    let crypto = js::get(&js::global(), "crypto");
    let random = !js::is_nullish(&crypto) && js::call_method(&crypto, "getRandomValues", &[&bytes]).is_ok();
    let hex: String = if random {
        bytes.to_vec().iter().map(|b| format!("{b:02x}")).collect()
    } else {
        let n = ID_COUNTER.with(|c| {
            let n = c.get().wrapping_add(1);
            c.set(n);
            n
        });
        let time = js::date_now() as u64;
        let noise = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        format!("{time:012x}{n:08x}{noise:08x}{:04x}", n.wrapping_mul(0x9e37) & 0xffff)
    };
    format!("cart_{hex}")
}

/// The storage side of a cart: where it is written, and what was last read or written there.
pub(crate) struct Persist {
    key: String,
    store: Option<Store>,
    persistence: Persistence,
    /// The blob this instance last read from or wrote to storage.
    last_seen: Option<String>,
    /// The checkout record and the order archive when they cannot go to storage (memory mode, or a
    /// write that threw): `None` is a removal.
    side: BTreeMap<String, Option<String>>,
}

impl Persist {
    /// Storage threw: from now on the cart lives in memory only.
    fn fall_back_to_memory(&mut self, operation: &str, cause: &JsValue, out: &mut Outbox) {
        self.store = None;
        self.persistence = Persistence::Memory;
        self.last_seen = None;
        out.error(js::storage_error(&self.key, operation, cause));
    }

    /// Writes `cart` (unless in memory mode); a throwing storage switches to memory mode.
    pub(crate) fn write(&mut self, cart: &CartState, now: Timestamp, out: &mut Outbox) {
        let Some(store) = self.store.clone() else {
            return;
        };
        let text = match snapshot::encode(cart, now) {
            Ok(text) => text,
            Err(e) => return out.error(js::cart_error(&e)),
        };
        match store.set(&self.key, &text) {
            Ok(()) => self.last_seen = Some(text),
            Err(e) => self.fall_back_to_memory("write", &e, out),
        }
    }

    /// Keeps an unreadable blob under `<key>:corrupt:<millis>` and reports it. If it cannot be kept,
    /// the cart goes to memory mode so that the blob is never overwritten.
    fn preserve_corrupt(&mut self, text: &str, error: &CartError, now: Timestamp, out: &mut Outbox) -> bool {
        let Some(store) = self.store.clone() else {
            return false;
        };
        match store.preserve(&snapshot::corrupt_key(&self.key, now), text) {
            Ok(kept) => {
                let details = storage::corrupt_details(error, &self.key, &kept);
                let message = format!("{} (kept under {kept})", error.message);
                out.error(js::error(error.code.as_str(), &message, &details));
                true
            }
            Err(e) => {
                out.error(js::cart_error(error));
                self.fall_back_to_memory("preserveCorrupt", &e, out);
                false
            }
        }
    }

    /// Reads the stored cart at open. A corrupt blob is kept aside and reported; storage that throws
    /// switches to memory.
    fn read_stored(&mut self, now: Timestamp, out: &mut Outbox) -> Option<Restored> {
        let store = self.store.clone()?;
        let text = match store.get(&self.key) {
            Ok(text) => text?,
            Err(e) => {
                self.fall_back_to_memory("read", &e, out);
                return None;
            }
        };
        match snapshot::decode(&text) {
            Ok(r) => {
                self.last_seen = Some(text);
                Some(r)
            }
            Err(e) => {
                self.preserve_corrupt(&text, &e, now, out);
                None
            }
        }
    }

    /// Reads a key beside the cart (`<key>:checkout`, `<key>:orders`); an empty string is absent.
    pub(crate) fn side_get(&self, key: &str) -> Option<String> {
        let value = match (self.side.get(key), &self.store) {
            (Some(v), _) => v.clone(),
            (None, Some(store)) => store.get(key).ok().flatten(),
            (None, None) => None,
        };
        value.filter(|v| !v.is_empty())
    }

    /// Writes (`Some`) or removes (`None`) a key beside the cart. A storage that throws keeps the value
    /// in memory for this page and reports an `error`; it does not switch the cart to memory mode.
    pub(crate) fn side_set(&mut self, key: &str, value: Option<&str>, out: &mut Outbox) {
        let Some(store) = self.store.clone() else {
            self.side.insert(key.to_string(), value.map(str::to_string));
            return;
        };
        let result = match value {
            Some(v) => store.set(key, v),
            None => store.remove(key),
        };
        match result {
            Ok(()) => {
                self.side.remove(key);
            }
            Err(e) => {
                self.side.insert(key.to_string(), value.map(str::to_string));
                out.error(js::storage_error(key, "write", &e));
            }
        }
    }

    /// Writes the catalog cache if it holds another catalog. A failure is reported, and does not
    /// change `persistence`: a catalog can exceed a quota that the small cart blob does not.
    fn cache_catalog(&mut self, input: &CatalogInput, now: Timestamp, out: &mut Outbox) {
        let Some(store) = self.store.clone() else {
            return;
        };
        let key = snapshot::catalog_key(&self.key);
        let current = store
            .get(&key)
            .ok()
            .flatten()
            .and_then(|text| snapshot::cached_catalog_checksum(&text));
        if current.as_deref() == Some(input.checksum.as_str()) {
            return;
        }
        let result = snapshot::encode_catalog(&input.json, now)
            .map_err(|e| JsValue::from_str(&e.message))
            .and_then(|text| store.set(&key, &text));
        if let Err(e) = result {
            out.error(js::storage_error(&key, "cacheCatalog", &e));
        }
    }
}

/// A one-off view object of `cart` (no caching, no identity reuse), for `expired` events.
fn one_off_view(cart: &CartState, catalog: &Catalog, now: Timestamp) -> JsValue {
    price(cart, catalog, now)
        .and_then(|v| view::encode(&v, view::ENCODING))
        .unwrap_or(JsValue::NULL)
}

/// An event listener (`storage`, `online`): its target and the closure to remove again.
type StorageListener = (JsValue, Closure<dyn FnMut(JsValue)>);

/// The state behind one `Cart` object.
pub(crate) struct Inner {
    persist: Persist,
    cart: CartState,
    catalog: Catalog,
    catalog_checksum: String,
    /// The catalog's compact JSON, for `cart.catalog()`, and the object last returned for it.
    catalog_json: String,
    catalog_object: Option<JsValue>,
    defaults: Defaults,
    clock: Option<Function>,
    views: ViewCache,
    listeners: Rc<RefCell<Listeners>>,
    last_merge: Option<MergeReport>,
    storage_listener: Option<StorageListener>,
    checkout: checkout::State,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.checkout.remove_listener();
        if let Some((target, closure)) = self.storage_listener.take() {
            let _ = js::call_method(
                &target,
                "removeEventListener",
                &[&JsValue::from_str("storage"), closure.as_ref()],
            );
        }
    }
}

impl Inner {
    /// Re-reads storage and adopts what another tab wrote, if it is newer (DESIGN §7).
    pub(crate) fn sync(&mut self, now: Timestamp, out: &mut Outbox) {
        let Some(store) = self.persist.store.clone() else {
            return;
        };
        let stored = match store.get(&self.persist.key) {
            Ok(stored) => stored,
            Err(e) => return self.persist.fall_back_to_memory("read", &e, out),
        };
        match snapshot::reconcile(&self.cart, self.persist.last_seen.as_deref(), stored.as_deref()) {
            Stored::Missing => self.persist.last_seen = None,
            Stored::Unchanged => self.persist.last_seen = stored,
            Stored::Older => {}
            Stored::Newer(theirs) => {
                let active = self.cart.status() == CartStatus::Active;
                let same = theirs.id() == self.cart.id();
                let ordered_here = same && theirs.status() == CartStatus::Ordered && active;
                // Another tab checked our cart out and already started the next one: the archive says so.
                let ordered_elsewhere = (!same && active)
                    .then(|| checkout::archived(&self.persist, self.cart.id()))
                    .flatten();
                if same {
                    self.views.invalidate();
                } else {
                    self.views.reset();
                }
                let previous = std::mem::replace(&mut self.cart, *theirs);
                self.persist.last_seen = stored;
                if ordered_here {
                    let order = checkout::archived(&self.persist, self.cart.id()).map(|a| a.order);
                    let view = one_off_view(&self.cart, &self.catalog, now);
                    self.checkout.announce(self.cart.id(), order, view, out);
                } else if let Some(archived) = ordered_elsewhere {
                    let view = one_off_view(&archived.cart, &self.catalog, now);
                    self.checkout.announce(previous.id(), Some(archived.order), view, out);
                }
                out.push(EventKind::Change, Payload::View);
            }
            Stored::Corrupt(error) => {
                if let Some(text) = stored {
                    if self.persist.preserve_corrupt(&text, &error, now, out) {
                        self.persist.write(&self.cart, now, out);
                    }
                }
            }
        }
    }

    /// Replaces the cart with a new, empty one (same currency, country and locale unless the options
    /// said otherwise), writes it and raises `change`. Returns the cart it replaced. For an expired
    /// cart here, and for the cart that was just ordered in `checkout`.
    pub(crate) fn start_new_cart(&mut self, now: Timestamp, out: &mut Outbox) -> Result<CartState, CartError> {
        let fresh = self.defaults.new_cart(&self.catalog, now, Some(&self.cart))?;
        self.persist.write(&fresh, now, out);
        self.views.reset();
        out.push(EventKind::Change, Payload::View);
        Ok(std::mem::replace(&mut self.cart, fresh))
    }

    /// An expired cart is replaced by a fresh one (an `expired` event carries the old view).
    fn renew_if_expired(&mut self, now: Timestamp, out: &mut Outbox) -> Result<(), CartError> {
        if !self.cart.is_expired(now) {
            return Ok(());
        }
        let expired_view = one_off_view(&self.cart, &self.catalog, now);
        self.start_new_cart(now, out)?;
        out.push(EventKind::Expired, Payload::Value(expired_view));
        Ok(())
    }

    /// Makes `next` the cart: writes it, then raises `change`. Nothing happens if it equals the cart.
    pub(crate) fn commit(&mut self, next: CartState, now: Timestamp, out: &mut Outbox) {
        if next == self.cart {
            return;
        }
        self.persist.write(&next, now, out);
        self.cart = next;
        self.views.invalidate();
        out.push(EventKind::Change, Payload::View);
    }

    /// One change, the way every mutating method makes it: re-read storage (adopting another tab's
    /// newer cart), renew an expired cart, run `op` on a copy, and commit the copy if `op` succeeded.
    pub(crate) fn run(
        &mut self,
        now: Timestamp,
        out: &mut Outbox,
        op: impl FnOnce(&mut CartState, &Catalog, Timestamp) -> Result<(), CartError>,
    ) -> Result<(), CartError> {
        self.sync(now, out);
        self.renew_if_expired(now, out)?;
        let mut next = self.cart.clone();
        op(&mut next, &self.catalog, now)?;
        self.commit(next, now, out);
        Ok(())
    }

    /// Another tab cached a new catalog: use it.
    fn reload_catalog(&mut self, out: &mut Outbox) {
        let Some(store) = self.persist.store.clone() else {
            return;
        };
        let key = snapshot::catalog_key(&self.persist.key);
        let Ok(Some(text)) = store.get(&key) else {
            return;
        };
        if snapshot::cached_catalog_checksum(&text).as_deref() == Some(self.catalog_checksum.as_str()) {
            return;
        }
        if let Ok(cached) = snapshot::decode_catalog(&text) {
            self.catalog = cached.catalog;
            self.catalog_checksum = cached.checksum;
            self.catalog_json = cached.json;
            self.catalog_object = None;
            self.views.invalidate();
            out.push(EventKind::Change, Payload::View);
        }
    }
}

/// Delivers queued events. No borrow is held while listeners run; an exception thrown by a listener
/// is reported (`reportError` / `console.error`) and does not stop the others.
pub(crate) fn flush(rc: &Rc<RefCell<Inner>>, out: Outbox) {
    let Some(listeners) = rc.try_borrow().ok().map(|inner| inner.listeners.clone()) else {
        return;
    };
    for (kind, payload) in out.0 {
        let targets = match listeners.try_borrow() {
            Ok(l) => l.of(kind),
            Err(_) => continue,
        };
        if targets.is_empty() {
            continue;
        }
        let value = match payload {
            Payload::Value(v) => v,
            Payload::View => match view_of(rc) {
                Ok(v) => v,
                Err(e) => {
                    js::report(&e);
                    continue;
                }
            },
        };
        for f in targets {
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &value) {
                js::report(&e);
            }
        }
    }
}

fn now_of(rc: &Rc<RefCell<Inner>>) -> Result<Timestamp, JsValue> {
    let clock = rc.try_borrow().map_err(|_| js::busy())?.clock.clone();
    read_clock(clock.as_ref())
}

/// The current view: the cached object, or a new one (line objects reused where lines are unchanged).
pub(crate) fn view_of(rc: &Rc<RefCell<Inner>>) -> Result<JsValue, JsValue> {
    if let Some(v) = rc.try_borrow().map_err(|_| js::busy())?.views.current() {
        return Ok(v);
    }
    let now = now_of(rc)?;
    let mut inner = rc.try_borrow_mut().map_err(|_| js::busy())?;
    if let Some(v) = inner.views.current() {
        return Ok(v);
    }
    let priced = price(&inner.cart, &inner.catalog, now).map_err(|e| js::cart_error(&e))?;
    let priced = inner.checkout.shown(&inner.cart, priced);
    inner
        .views
        .build(priced, view::ENCODING)
        .map_err(|e| js::cart_error(&e))
}

/// `cart.on(event, listener)` / `cart.subscribe(listener)`: returns the unsubscribe function.
fn listen(listeners: &Rc<RefCell<Listeners>>, kind: EventKind, listener: JsValue) -> Result<JsValue, JsValue> {
    let f: Function = listener
        .dyn_into()
        .map_err(|_| js::cart_error(&js::bad_field("listener", "listener: expected a function")))?;
    let id = listeners.try_borrow_mut().map_err(|_| js::busy())?.add(kind, f);
    let weak = Rc::downgrade(listeners);
    let off = Closure::<dyn FnMut()>::new(move || {
        if let Some(l) = weak.upgrade() {
            if let Ok(mut l) = l.try_borrow_mut() {
                l.remove(id);
            }
        }
    });
    Ok(off.into_js_value())
}

/// A `storage` event from another tab: reload the cart (or the catalog) and notify.
fn on_storage_event(rc: &Rc<RefCell<Inner>>, event: &JsValue) {
    let Some(changed) = js::get(event, "key").as_string() else {
        return; // storage.clear() elsewhere: keep ours; the next change writes it back
    };
    let (key, clock) = match rc.try_borrow() {
        Ok(inner) => match &inner.persist.store {
            Some(store) if store.is_area(&js::get(event, "storageArea")) => {
                (inner.persist.key.clone(), inner.clock.clone())
            }
            _ => return,
        },
        Err(_) => return,
    };
    let catalog_key = snapshot::catalog_key(&key);
    if changed != key && changed != catalog_key {
        return;
    }
    let Ok(now) = read_clock(clock.as_ref()) else {
        return;
    };
    let mut out = Outbox::default();
    if let Ok(mut inner) = rc.try_borrow_mut() {
        if changed == key {
            inner.sync(now, &mut out);
        } else {
            inner.reload_catalog(&mut out);
        }
    }
    flush(rc, out);
}

/// Where `start` takes the cart from.
enum Source {
    Storage,
    Snapshot(Box<Restored>),
}

/// The functions `cart.view` and `cart.subscribe` return: bound to this cart, so they can be passed
/// around unbound (`useSyncExternalStore(cart.subscribe, cart.view)`).
struct Bound {
    view: Closure<dyn Fn() -> Result<JsValue, JsValue>>,
    subscribe: Closure<dyn Fn(JsValue) -> Result<JsValue, JsValue>>,
}

/// A shopping cart in the browser (DESIGN §7). Open one with `Cart.open(options)`.
#[wasm_bindgen]
pub struct Cart {
    inner: Rc<RefCell<Inner>>,
    bound: Bound,
}

impl Cart {
    fn start(options: &JsValue, source: Source) -> Result<Cart, JsValue> {
        let err = |e: CartError| js::cart_error(&e);
        let opts = Options::read(options).map_err(err)?;
        let now = read_clock(opts.clock.as_ref())?;
        let resolved = storage::resolve(&opts.storage).map_err(err)?;
        let mut out = Outbox::default();
        let mut persist = Persist {
            key: opts.key,
            store: resolved.store,
            persistence: resolved.persistence,
            last_seen: None,
            side: BTreeMap::new(),
        };
        if let Some(failure) = &resolved.failure {
            out.error(js::storage_error(&persist.key, "open", failure));
        }

        let (catalog, catalog_checksum, catalog_json) = match &opts.catalog {
            Some(input) => (input.catalog.clone(), input.checksum.clone(), input.json.clone()),
            None => {
                let cached = cached_catalog(&persist).map_err(err)?;
                (cached.catalog, cached.checksum, cached.json)
            }
        };

        let (restored, from_snapshot) = match source {
            Source::Snapshot(r) => (Some(*r), true),
            Source::Storage => (persist.read_stored(now, &mut out), false),
        };
        let defaults = opts.defaults;
        let mut write = true;
        let cart = match restored {
            Some(r) if r.cart.status() == CartStatus::Active => {
                let migrated = r.migrated();
                let mut cart = r.cart;
                let ttl_changed = defaults.ttl_seconds.is_some_and(|t| t != cart.ttl_seconds());
                if let Some(ttl) = defaults.ttl_seconds {
                    cart.set_ttl(ttl);
                }
                if cart.is_expired(now) {
                    out.push(EventKind::Expired, Payload::Value(one_off_view(&cart, &catalog, now)));
                    defaults.new_cart(&catalog, now, Some(&cart)).map_err(err)?
                } else {
                    let repriced = cart.update_catalog(&catalog, now).map_err(err)?;
                    write = repriced || migrated || ttl_changed || from_snapshot;
                    cart
                }
            }
            // An ordered or merged cart is read-only: the shopper gets a new one.
            Some(r) => defaults.new_cart(&catalog, now, Some(&r.cart)).map_err(err)?,
            None => defaults.new_cart(&catalog, now, None).map_err(err)?,
        };
        if write {
            persist.write(&cart, now, &mut out);
        }
        if let Some(input) = &opts.catalog {
            persist.cache_catalog(input, now, &mut out);
        }
        let listen_to_storage = matches!(persist.persistence, Persistence::Local | Persistence::Session);

        let rc = Rc::new(RefCell::new(Inner {
            persist,
            cart,
            catalog,
            catalog_checksum,
            catalog_json,
            catalog_object: None,
            defaults,
            clock: opts.clock,
            views: ViewCache::default(),
            listeners: Rc::new(RefCell::new(Listeners::default())),
            last_merge: None,
            storage_listener: None,
            checkout: checkout::State::default(),
        }));
        if listen_to_storage {
            install_storage_listener(&rc);
        }
        checkout::resume_at_open(&rc);
        let bound = bind(&rc);
        if !out.is_empty() {
            let weak: Weak<RefCell<Inner>> = Rc::downgrade(&rc);
            js::defer(move || {
                if let Some(rc) = weak.upgrade() {
                    flush(&rc, out);
                }
            });
        }
        Ok(Cart { inner: rc, bound })
    }

    fn borrow_mut(&self) -> Result<std::cell::RefMut<'_, Inner>, JsValue> {
        self.inner.try_borrow_mut().map_err(|_| js::busy())
    }

    fn now(&self) -> Result<Timestamp, JsValue> {
        now_of(&self.inner)
    }

    /// Runs one change (see [`Inner::run`]), delivers its events, and returns the new view.
    fn mutate(
        &self,
        op: impl FnOnce(&mut CartState, &Catalog, Timestamp) -> Result<(), CartError>,
    ) -> Result<JsValue, JsValue> {
        let now = self.now()?;
        let mut out = Outbox::default();
        let result = self.borrow_mut()?.run(now, &mut out, op);
        flush(&self.inner, out);
        result.map_err(|e| js::cart_error(&e))?;
        view_of(&self.inner)
    }

    /// Applies actions given as JSON.
    fn act(&self, actions: Vec<Value>) -> Result<JsValue, JsValue> {
        let actions = actions
            .into_iter()
            .map(Action::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| js::cart_error(&e))?;
        self.mutate(move |cart, catalog, now| cart.apply(catalog, &actions, now))
    }

    fn act_one(&self, action: Value) -> Result<JsValue, JsValue> {
        self.act(vec![action])
    }
}

/// The catalog cached under `<storageKey>:catalog`, for an `open` without a catalog.
fn cached_catalog(persist: &Persist) -> Result<snapshot::CachedCatalog, CartError> {
    let key = snapshot::catalog_key(&persist.key);
    let text = match persist.store.as_ref().map(|s| s.get(&key)) {
        Some(Ok(Some(text))) => text,
        _ => {
            return Err(js::bad_field(
                "catalog",
                "catalog: required (none given, and none cached under this storageKey)",
            ))
        }
    };
    snapshot::decode_catalog(&text).map_err(|e| {
        CartError::new(
            ErrorCode::InvalidCatalog,
            format!("no catalog given, and the cached one cannot be used: {}", e.message),
        )
        .with_details(json!({ "field": "catalog" }))
    })
}

fn install_storage_listener(rc: &Rc<RefCell<Inner>>) {
    let Some(target) = storage::event_target() else {
        return;
    };
    let weak = Rc::downgrade(rc);
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        if let Some(rc) = weak.upgrade() {
            on_storage_event(&rc, &event);
        }
    });
    let added = js::call_method(
        &target,
        "addEventListener",
        &[&JsValue::from_str("storage"), closure.as_ref()],
    );
    if added.is_ok() {
        if let Ok(mut inner) = rc.try_borrow_mut() {
            inner.storage_listener = Some((target, closure));
        }
    }
}

fn bind(rc: &Rc<RefCell<Inner>>) -> Bound {
    let weak = Rc::downgrade(rc);
    let view = Closure::<dyn Fn() -> Result<JsValue, JsValue>>::new(move || {
        let rc = weak.upgrade().ok_or_else(js::freed)?;
        view_of(&rc)
    });
    let listeners = rc.try_borrow().ok().map(|inner| Rc::downgrade(&inner.listeners));
    let subscribe = Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(move |listener: JsValue| {
        let listeners = listeners.as_ref().and_then(Weak::upgrade).ok_or_else(js::freed)?;
        listen(&listeners, EventKind::Change, listener)
    });
    Bound { view, subscribe }
}

#[wasm_bindgen]
impl Cart {
    /// Opens the cart stored under `storageKey` (or starts one). See `CartOptions`.
    #[wasm_bindgen(js_name = open)]
    pub fn open(
        #[wasm_bindgen(unchecked_optional_param_type = "CartOptions")] options: JsValue,
    ) -> Result<Cart, JsValue> {
        Cart::start(&options, Source::Storage)
    }

    /// Opens a cart from a `snapshot()` string; it replaces whatever is stored under `storageKey`.
    #[wasm_bindgen(js_name = fromSnapshot)]
    pub fn from_snapshot(
        #[wasm_bindgen(unchecked_param_type = "string")] snapshot: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CartOptions")] options: JsValue,
    ) -> Result<Cart, JsValue> {
        let text = match snapshot.as_string() {
            Some(text) => text,
            None => js::to_json_text(&snapshot, "snapshot").map_err(|e| js::cart_error(&e))?,
        };
        let restored = snapshot::decode(&text).map_err(|e| js::cart_error(&e))?;
        Cart::start(&options, Source::Snapshot(Box::new(restored)))
    }

    /// The view, as a function bound to this cart: `cart.view()`, or `useSyncExternalStore(cart.subscribe,
    /// cart.view)`. Returns the same object until the cart changes.
    #[wasm_bindgen(getter = view, unchecked_return_type = "() => CartView")]
    pub fn view_fn(&self) -> JsValue {
        self.bound.view.as_ref().clone()
    }

    /// `cart.subscribe(listener)`, bound to this cart: calls `listener(view)` after every change and
    /// returns the unsubscribe function.
    #[wasm_bindgen(getter = subscribe, unchecked_return_type = "(listener: (view: CartView) => void) => () => void")]
    pub fn subscribe_fn(&self) -> JsValue {
        self.bound.subscribe.as_ref().clone()
    }

    /// `cart.on(event, listener)`; returns the unsubscribe function. Typed in `CartEvents`.
    #[wasm_bindgen(js_name = on, skip_typescript)]
    pub fn on(&self, event: JsValue, listener: JsValue) -> Result<JsValue, JsValue> {
        let kind = event.as_string().as_deref().and_then(EventKind::parse).ok_or_else(|| {
            js::cart_error(&js::bad_field(
                "event",
                "event: expected \"change\", \"error\", \"expired\" or \"ordered\"",
            ))
        })?;
        let listeners = self.inner.try_borrow().map_err(|_| js::busy())?.listeners.clone();
        listen(&listeners, kind, listener)
    }

    /// Where the cart is kept: `"local"`, `"session"`, `"custom"`, or `"memory"` (also after storage failed).
    #[wasm_bindgen(getter, unchecked_return_type = "Persistence")]
    pub fn persistence(&self) -> Result<String, JsValue> {
        Ok(self
            .inner
            .try_borrow()
            .map_err(|_| js::busy())?
            .persist
            .persistence
            .as_str()
            .to_string())
    }

    /// What the last `merge` could not take over (lines and codes), or `null`.
    #[wasm_bindgen(getter = lastMergeReport, unchecked_return_type = "MergeReport | null")]
    pub fn last_merge_report(&self) -> Result<JsValue, JsValue> {
        let inner = self.inner.try_borrow().map_err(|_| js::busy())?;
        Ok(match &inner.last_merge {
            Some(report) => js::from_value(&serde_json::to_value(report).unwrap_or(Value::Null)),
            None => JsValue::NULL,
        })
    }

    /// Adds a product (`addLineItem`); the same product, variant and attributes stack onto one line.
    #[wasm_bindgen(js_name = addItem, unchecked_return_type = "CartView")]
    pub fn add_item(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AddItem")] item: JsValue,
    ) -> Result<JsValue, JsValue> {
        let mut action = js::to_value(&item, "item").map_err(|e| js::cart_error(&e))?;
        let Value::Object(map) = &mut action else {
            return Err(js::cart_error(&js::bad_field("item", "item: expected an object")));
        };
        map.insert("action".into(), json!("addLineItem"));
        self.act_one(action)
    }

    /// Sets a line's quantity (`changeLineItemQuantity`); 0 removes the line.
    #[wasm_bindgen(js_name = changeQuantity, unchecked_return_type = "CartView")]
    pub fn change_quantity(
        &self,
        #[wasm_bindgen(js_name = lineItemId, unchecked_param_type = "string")] line_item_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] quantity: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = js::to_value(&line_item_id, "lineItemId").map_err(|e| js::cart_error(&e))?;
        let quantity = js::to_value(&quantity, "quantity").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "changeLineItemQuantity", "lineItemId": id, "quantity": quantity }))
    }

    /// Removes a line (`removeLineItem`), or only `quantity` units of it.
    #[wasm_bindgen(js_name = removeItem, unchecked_return_type = "CartView")]
    pub fn remove_item(
        &self,
        #[wasm_bindgen(js_name = lineItemId, unchecked_param_type = "string")] line_item_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] quantity: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = js::to_value(&line_item_id, "lineItemId").map_err(|e| js::cart_error(&e))?;
        let mut action = json!({ "action": "removeLineItem", "lineItemId": id });
        if !js::is_nullish(&quantity) {
            let quantity = js::to_value(&quantity, "quantity").map_err(|e| js::cart_error(&e))?;
            if let Value::Object(map) = &mut action {
                map.insert("quantity".into(), quantity);
            }
        }
        self.act_one(action)
    }

    /// Replaces a line's attributes (`setLineItemAttributes`); a `null` value removes that attribute.
    #[wasm_bindgen(js_name = setAttributes, unchecked_return_type = "CartView")]
    pub fn set_attributes(
        &self,
        #[wasm_bindgen(js_name = lineItemId, unchecked_param_type = "string")] line_item_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Attributes")] attributes: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = js::to_value(&line_item_id, "lineItemId").map_err(|e| js::cart_error(&e))?;
        let attributes = js::to_value(&attributes, "attributes").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "setLineItemAttributes", "lineItemId": id, "attributes": attributes }))
    }

    /// Adds a discount code (`addDiscountCode`); an unknown code throws `INVALID_PROMO_CODE`.
    #[wasm_bindgen(js_name = applyCode, unchecked_return_type = "CartView")]
    pub fn apply_code(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] code: JsValue,
    ) -> Result<JsValue, JsValue> {
        let code = js::to_value(&code, "code").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "addDiscountCode", "code": code }))
    }

    /// Removes a discount code (`removeDiscountCode`).
    #[wasm_bindgen(js_name = removeCode, unchecked_return_type = "CartView")]
    pub fn remove_code(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] code: JsValue,
    ) -> Result<JsValue, JsValue> {
        let code = js::to_value(&code, "code").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "removeDiscountCode", "code": code }))
    }

    /// Sets (or with `null` clears) the shipping address; its country drives tax and shipping.
    #[wasm_bindgen(js_name = setShippingAddress, unchecked_return_type = "CartView")]
    pub fn set_shipping_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Address | null")] address: JsValue,
    ) -> Result<JsValue, JsValue> {
        let address = js::to_value(&address, "address").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "setShippingAddress", "address": address }))
    }

    /// Sets (or with `null` clears) the billing address.
    #[wasm_bindgen(js_name = setBillingAddress, unchecked_return_type = "CartView")]
    pub fn set_billing_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Address | null")] address: JsValue,
    ) -> Result<JsValue, JsValue> {
        let address = js::to_value(&address, "address").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "setBillingAddress", "address": address }))
    }

    /// Selects a shipping method (`null`: the catalog's default for the destination).
    #[wasm_bindgen(js_name = setShippingMethod, unchecked_return_type = "CartView")]
    pub fn set_shipping_method(
        &self,
        #[wasm_bindgen(js_name = shippingMethodId, unchecked_param_type = "string | null")] shipping_method_id: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = js::to_value(&shipping_method_id, "shippingMethodId").map_err(|e| js::cart_error(&e))?;
        self.act_one(json!({ "action": "setShippingMethod", "shippingMethodId": id }))
    }

    /// Sets customer fields (`setCustomer`); a field left out stays, `null` clears it.
    #[wasm_bindgen(js_name = setCustomer, unchecked_return_type = "CartView")]
    pub fn set_customer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CustomerUpdate")] customer: JsValue,
    ) -> Result<JsValue, JsValue> {
        let mut action = js::to_value(&customer, "customer").map_err(|e| js::cart_error(&e))?;
        let Value::Object(map) = &mut action else {
            return Err(js::cart_error(&js::bad_field(
                "customer",
                "customer: expected an object",
            )));
        };
        map.insert("action".into(), json!("setCustomer"));
        self.act_one(action)
    }

    /// Runs `actions` atomically (all or nothing; the version rises by one). With `expectedVersion`,
    /// a cart at another version refuses with `CONCURRENT_MODIFICATION`.
    #[wasm_bindgen(js_name = apply, unchecked_return_type = "CartView")]
    pub fn apply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "readonly CartAction[]")] actions: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ApplyOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let err = |e: CartError| js::cart_error(&e);
        if !js::is_nullish(&options) && !options.is_object() {
            return Err(err(CartError::invalid_request("options: expected an object")));
        }
        let expected = opt_count(&options, "expectedVersion").map_err(err)?;
        let actions = js::to_value(&actions, "actions").map_err(err)?;
        let actions = Action::list_from_value(actions).map_err(err)?;
        self.mutate(move |cart, catalog, now| {
            if let Some(expected) = expected {
                if cart.version() != expected {
                    return Err(CartError::new(
                        ErrorCode::ConcurrentModification,
                        format!("the cart is at version {}, not {expected}", cart.version()),
                    )
                    .with_details(json!({ "expectedVersion": expected, "version": cart.version() })));
                }
            }
            cart.apply(catalog, &actions, now)
        })
    }

    /// Empties the cart (lines, custom lines, codes).
    #[wasm_bindgen(js_name = clear, unchecked_return_type = "CartView")]
    pub fn clear(&self) -> Result<JsValue, JsValue> {
        self.act_one(json!({ "action": "clear" }))
    }

    /// Switches to a new catalog: reprices, and marks lines whose price moved with `PRICE_CHANGED`.
    /// The catalog is cached under `<storageKey>:catalog` for offline reloads.
    #[wasm_bindgen(js_name = setCatalog, unchecked_return_type = "CartView")]
    pub fn set_catalog(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Catalog | string")] catalog: JsValue,
    ) -> Result<JsValue, JsValue> {
        let input = parse_catalog(&catalog).map_err(|e| js::cart_error(&e))?;
        let now = self.now()?;
        let mut out = Outbox::default();
        let result = {
            let mut inner = self.borrow_mut()?;
            inner.sync(now, &mut out);
            let mut next = inner.cart.clone();
            match next.update_catalog(&input.catalog, now) {
                Ok(_) => {
                    inner.catalog = input.catalog.clone();
                    inner.catalog_checksum = input.checksum.clone();
                    inner.catalog_json = input.json.clone();
                    inner.catalog_object = None;
                    inner.persist.cache_catalog(&input, now, &mut out);
                    inner.views.invalidate();
                    out.push(EventKind::Change, Payload::View);
                    inner.commit(next, now, &mut out);
                    Ok(())
                }
                Err(e) => Err(e),
            }
        };
        flush(&self.inner, out);
        result.map_err(|e| js::cart_error(&e))?;
        view_of(&self.inner)
    }

    /// Merges `other` (a guest cart) into this one, as when a shopper signs in: lines both hold get the
    /// larger (`quantities: "max"`, default) or summed (`"sum"`) quantity; `other` becomes `merged`.
    /// What could not be taken over is in `lastMergeReport`.
    #[wasm_bindgen(js_name = merge, unchecked_return_type = "CartView")]
    pub fn merge(
        &self,
        other: &Cart,
        #[wasm_bindgen(unchecked_optional_param_type = "MergeOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let err = |e: CartError| js::cart_error(&e);
        if Rc::ptr_eq(&self.inner, &other.inner) {
            return Err(err(CartError::invalid_request("a cart cannot be merged into itself")));
        }
        let mode = match opt_string(&options, "quantities").map_err(err)?.as_deref() {
            None | Some("max") => MergeMode::Max,
            Some("sum") => MergeMode::Sum,
            Some(_) => {
                return Err(err(js::bad_field(
                    "quantities",
                    "quantities: expected \"max\" or \"sum\"",
                )))
            }
        };
        let now = self.now()?;
        let (mut out, mut other_out) = (Outbox::default(), Outbox::default());
        let result = {
            let mut mine = self.borrow_mut()?;
            let mut theirs = other.borrow_mut()?;
            theirs.sync(now, &mut other_out);
            let mut guest = theirs.cart.clone();
            let mut report = None;
            let result = mine.run(now, &mut out, |cart, catalog, now| {
                report = Some(cart.merge(&mut guest, mode, catalog, now)?);
                Ok(())
            });
            if result.is_ok() {
                theirs.commit(guest, now, &mut other_out);
                mine.last_merge = report;
            }
            result
        };
        flush(&self.inner, out);
        flush(&other.inner, other_out);
        result.map_err(err)?;
        view_of(&self.inner)
    }

    /// The persisted form of the cart (`{"schema", "savedAt", "checksum", "cart"}`) as a string, for
    /// `Cart.fromSnapshot` (server-side rendering, moving a cart to a worker, tests).
    #[wasm_bindgen(js_name = snapshot)]
    pub fn snapshot(&self) -> Result<String, JsValue> {
        let now = self.now()?;
        let inner = self.inner.try_borrow().map_err(|_| js::busy())?;
        snapshot::encode(&inner.cart, now).map_err(|e| js::cart_error(&e))
    }
}

/// Whether `value` is an error thrown (or reported) by this package: `name === "CartError"` with a
/// string `code`.
#[wasm_bindgen(js_name = isCartError, unchecked_return_type = "value is CartError")]
pub fn is_cart_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    js::get(&value, "name").as_string().as_deref() == Some("CartError") && js::get(&value, "code").is_string()
}
