//! When listeners run: events go through one queue per module and are delivered after the call that
//! raised them, one at a time, never from inside another listener (`session::events` holds the rule
//! and its bound); a listener's exception is reported and does not stop the others.

use super::js;
use super::shell::{view_of, Inner, Shared};
use super::view;
use crate::session::{Dispatcher, Event, Reported};
use js_sys::Function;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

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

pub(crate) fn queue(rc: &Shared, event: Event) {
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
        Event::Expired(view) => (EventKind::Expired, view::detached(*view).unwrap_or(JsValue::NULL)),
        Event::Ordered { order, cart } => {
            let payload = js_sys::Object::new();
            js::set(&payload, "order", &order.as_ref().map_or(JsValue::NULL, js::from_value));
            js::set(&payload, "cart", &view::detached(*cart).unwrap_or(JsValue::NULL));
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
