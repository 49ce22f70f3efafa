//! Where the cart is kept: `localStorage`, `sessionStorage`, a caller's object with
//! `getItem`/`setItem`/`removeItem`, or nowhere (memory). Every call can throw in a browser (quota,
//! `SecurityError`); reads report it to the session, writes report it with `Session::write_failed`.

use super::{glue, js};
use crate::error::CartError;
use crate::session::{Coordination, Persistence, Storage, StorageFailure, Stored};
use js_sys::JsString;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// A storage object (Web Storage or the caller's), used through its methods.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    object: JsValue,
    web: bool,
    written: Rc<RefCell<Written>>,
}

/// The last value this store wrote under each key, as the JavaScript string passed to `setItem` and as
/// text: reading a key back that still holds it (the tab protocol checks the cart key after each
/// commit) compares two JavaScript strings instead of copying the value into wasm and decoding it.
#[derive(Debug, Default)]
struct Written(Vec<(String, JsValue, String)>);

impl Written {
    /// Values larger than this (a big catalog) are not kept twice.
    const MAX_BYTES: usize = 1 << 20;

    fn keep(&mut self, key: &str, js: JsValue, text: &str) {
        self.forget(key);
        if text.len() <= Self::MAX_BYTES {
            self.0.push((key.to_string(), js, text.to_string()));
        }
    }

    fn forget(&mut self, key: &str) {
        self.0.retain(|(k, _, _)| k != key);
    }

    /// The text of `value` read under `key`, if it is the string this store last wrote there.
    fn text_of(&self, key: &str, value: &JsValue) -> Option<String> {
        let (_, js, text) = self.0.iter().find(|(k, _, _)| k == key)?;
        js_sys::Object::is(js, value).then(|| text.clone())
    }
}

/// The result of resolving the `storage` option.
pub(crate) struct Resolved {
    pub store: Option<Store>,
    pub persistence: Persistence,
    pub coordination: Coordination,
    /// A Web Storage that exists but cannot be reached (`SecurityError`, disabled).
    pub unreachable: Option<String>,
}

impl Resolved {
    fn memory(unreachable: Option<String>) -> Resolved {
        Resolved {
            store: None,
            persistence: Persistence::Memory,
            coordination: Coordination::Direct,
            unreachable,
        }
    }
}

/// Resolves the `storage` option: `"local"` (default), `"session"`, `"memory"`, or an object with
/// `getItem` and `setItem` (and optionally `removeItem`). `localStorage` is shared by tabs and gets the
/// transactional coordination (docs/tabs.md); the others are written directly.
pub(crate) fn resolve(option: &JsValue) -> Result<Resolved, CartError> {
    let name = if js::is_nullish(option) {
        Some("local".to_string())
    } else {
        option.as_string()
    };
    match name.as_deref() {
        Some("local") => Ok(web_storage(
            "localStorage",
            Persistence::Local,
            Coordination::Transactional,
        )),
        Some("session") => Ok(web_storage(
            "sessionStorage",
            Persistence::Session,
            Coordination::Direct,
        )),
        Some("memory") => Ok(Resolved::memory(None)),
        Some(other) => Err(CartError::invalid_field(
            "storage",
            format!("storage: expected \"local\", \"session\", \"memory\" or a Storage-like object, got {other:?}"),
        )),
        None => {
            let has = |m: &str| js::get(option, m).is_function();
            if option.is_object() && has("getItem") && has("setItem") {
                Ok(Resolved {
                    store: Some(Store::new(option.clone(), false)),
                    persistence: Persistence::Custom,
                    coordination: Coordination::Direct,
                    unreachable: None,
                })
            } else {
                Err(CartError::invalid_field(
                    "storage",
                    "storage: an object must have getItem and setItem methods",
                ))
            }
        }
    }
}

/// `undefined` (Node, workers: no such storage) is memory without complaint; `null` (storage disabled)
/// and a throwing getter (`SecurityError`) are memory with an `error` event.
fn web_storage(name: &str, persistence: Persistence, coordination: Coordination) -> Resolved {
    match js::try_get(&js::global(), name) {
        Err(e) => Resolved::memory(Some(js::describe(&e))),
        Ok(v) if v.is_object() => Resolved {
            store: Some(Store::new(v, true)),
            persistence,
            coordination,
            unreachable: None,
        },
        Ok(v) if v.is_null() => Resolved::memory(Some(format!("{name} is disabled (null)"))),
        Ok(_) => Resolved::memory(None),
    }
}

impl Store {
    fn new(object: JsValue, web: bool) -> Store {
        Store {
            object,
            web,
            written: Rc::default(),
        }
    }

    pub(crate) fn object(&self) -> &JsValue {
        &self.object
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), JsValue> {
        let js = JsValue::from_str(value);
        let written = js::call_method(&self.object, "setItem", &[&JsValue::from_str(key), &js]);
        let mut cache = self.written.borrow_mut();
        match written {
            Ok(_) => cache.keep(key, js, value),
            Err(_) => cache.forget(key),
        }
        written.map(|_| ())
    }

    /// `removeItem` (a custom storage without it gets an empty string, which readers take as absent).
    pub(crate) fn remove(&self, key: &str) -> Result<(), JsValue> {
        self.written.borrow_mut().forget(key);
        if js::get(&self.object, "removeItem").is_function() {
            js::call_method(&self.object, "removeItem", &[&JsValue::from_str(key)]).map(|_| ())
        } else {
            self.set(key, "")
        }
    }

    /// Copies `from` to `to` byte for byte.
    pub(crate) fn copy(&self, from: &str, to: &str) -> Result<(), JsValue> {
        self.written.borrow_mut().forget(to);
        glue::copy_raw(&self.object, from, to)
    }

    /// Whether a `storage` event's `storageArea` is this store (a synthetic event without one counts).
    pub(crate) fn is_area(&self, area: &JsValue) -> bool {
        js::is_nullish(area) || js_sys::Object::is(area, &self.object)
    }
}

/// What a storage value is, for the session: text only when it is a well-formed string.
pub(crate) fn classify(value: &JsValue) -> Stored {
    if js::is_nullish(value) {
        return Stored::Missing;
    }
    match value.dyn_ref::<JsString>() {
        Some(s) if s.is_valid_utf16() => value.as_string().map_or(Stored::Malformed, Stored::Text),
        Some(_) => Stored::Malformed,
        None => Stored::NotText,
    }
}

impl Storage for Store {
    fn get(&self, key: &str) -> Result<Stored, StorageFailure> {
        let value = js::call_method(&self.object, "getItem", &[&JsValue::from_str(key)])
            .map_err(|e| StorageFailure(js::describe(&e)))?;
        match self.written.borrow().text_of(key, &value) {
            Some(text) => Ok(Stored::Text(text)),
            None => Ok(classify(&value)),
        }
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        if !self.web {
            return Vec::new();
        }
        glue::keys_with_prefix(&self.object, prefix)
    }
}
