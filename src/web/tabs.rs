//! What other tabs and carts do: commits at the IndexedDB commit point, the BroadcastChannel, the
//! `storage` event, the carts of this page that share a storage, and the `online` event. The rules
//! are the session's (`docs/tabs.md`); this only wires the browser to them.

use super::glue;
use super::js;
use super::shell::{input, input_quietly, now_of, Inner, Shared};
use super::storage::classify;
use crate::session::Coordination;
use js_sys::Function;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

/// A commit at the commit point (IndexedDB), in the background.
pub(crate) fn commit(rc: &Shared) {
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
pub(crate) fn broadcast(rc: &Shared, text: &str) {
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
pub(crate) fn listen_global(rc: &Shared, name: &'static str, handler: fn(&Shared, JsValue)) {
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
