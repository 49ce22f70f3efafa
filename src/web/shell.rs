//! Carries out what the session decides ([`Effect`]s) with the browser's APIs, and feeds back what
//! happens (a write that threw, a commit that completed, a message from another tab, a `storage`
//! event, an HTTP answer, a timer) as the session's next input. Storage here; other tabs in
//! `tabs.rs`, requests, waits and promises in `requests.rs`, listeners in `events.rs`.

use super::events::{deliver, queue, Listeners};
use super::js;
use super::requests::{self, Deferred};
use super::storage::Store;
use super::tabs;
use super::view::ViewCache;
use crate::error::CartError;
use crate::session::{Effect, Entropy, Event, NoStorage, Session, Storage};
use crate::time::Timestamp;
use js_sys::Function;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

pub(crate) type Shared = Rc<RefCell<Inner>>;

pub(crate) type Listener = (JsValue, &'static str, Closure<dyn FnMut(JsValue)>);
/// The BroadcastChannel and its message handler.
pub(crate) type Channel = (JsValue, Closure<dyn FnMut(String)>);

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
    pub channel: Option<Channel>,
    pub subscriptions: Vec<Listener>,
    /// `setTimeout` handles of pending waits.
    pub timers: BTreeMap<u64, JsValue>,
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
        return Err(CartError::invalid_field("now", "now: must return epoch milliseconds (a finite number)").into());
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

/// The current view: the cached object, or a new one (line objects reused where lines are unchanged).
pub(crate) fn view_of(rc: &Shared) -> Result<JsValue, JsValue> {
    if let Some(v) = rc.try_borrow().map_err(|_| js::busy())?.views.current() {
        return Ok(v);
    }
    let now = now_of(rc)?;
    view_at(rc, now)
}

/// The view at `now` (a change builds it at its own time, so the session's checked view serves).
pub(crate) fn view_at(rc: &Shared, now: Timestamp) -> Result<JsValue, JsValue> {
    let mut inner = rc.try_borrow_mut().map_err(|_| js::busy())?;
    if let Some(v) = inner.views.current() {
        return Ok(v);
    }
    let view = inner.session.view(now).map_err(JsValue::from)?;
    inner.views.build(view).map_err(JsValue::from)
}

// ---------------------------------------------------------------------------- effects

/// Carries out `effects` in order; what they report back (a failed write) is carried out next.
pub(crate) fn execute(rc: &Shared, effects: Vec<Effect>) {
    let mut todo: VecDeque<Effect> = effects.into();
    while let Some(effect) = todo.pop_front() {
        let more = run(rc, effect);
        for e in more.into_iter().rev() {
            todo.push_front(e);
        }
    }
}

fn store_of(rc: &Shared) -> Option<Store> {
    rc.try_borrow().ok().and_then(|inner| inner.store.clone())
}

/// Runs one effect; returns the effects of what it reported back.
fn run(rc: &Shared, effect: Effect) -> Vec<Effect> {
    let failed = |rc: &Shared, key: &str, e: &JsValue| -> Vec<Effect> {
        match rc.try_borrow_mut() {
            Ok(mut inner) => inner.session.write_failed(key, &js::describe(e)),
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
            tabs::commit(rc);
            Vec::new()
        }
        Effect::Broadcast(text) => {
            tabs::broadcast(rc, &text);
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
            requests::send(rc, id, request, timeout_ms);
            Vec::new()
        }
        Effect::Wait { id, ms, retry } => {
            requests::wait(rc, id, ms, retry);
            Vec::new()
        }
        Effect::Settle { id, outcome } => {
            requests::settle(rc, id, outcome);
            Vec::new()
        }
        Effect::WatchOnline => {
            tabs::listen_global(rc, "online", |rc, _| {
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
pub(crate) fn input_quietly(rc: &Shared, f: impl FnOnce(&mut Session, &dyn Storage, Timestamp) -> Vec<Effect>) {
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
    execute(rc, effects);
}
