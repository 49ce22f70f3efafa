//! Where the cart is kept: `localStorage`, `sessionStorage`, a caller's object with
//! `getItem`/`setItem`/`removeItem`, or nowhere (memory). Every call can throw in a browser (quota,
//! `SecurityError`); reads report it to the session, writes report it with `Session::write_failed`.

use super::{glue, js};
use crate::error::CartError;
use crate::session::{Coordination, Persistence, Storage, StorageFailure, Stored};
use js_sys::JsString;
use wasm_bindgen::{JsCast, JsValue};

/// A storage object (Web Storage or the caller's), used through its methods.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    object: JsValue,
    web: bool,
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
                    store: Some(Store {
                        object: option.clone(),
                        web: false,
                    }),
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
            store: Some(Store { object: v, web: true }),
            persistence,
            coordination,
            unreachable: None,
        },
        Ok(v) if v.is_null() => Resolved::memory(Some(format!("{name} is disabled (null)"))),
        Ok(_) => Resolved::memory(None),
    }
}

impl Store {
    pub(crate) fn object(&self) -> &JsValue {
        &self.object
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), JsValue> {
        js::call_method(
            &self.object,
            "setItem",
            &[&JsValue::from_str(key), &JsValue::from_str(value)],
        )
        .map(|_| ())
    }

    /// `removeItem` (a custom storage without it gets an empty string, which readers take as absent).
    pub(crate) fn remove(&self, key: &str) -> Result<(), JsValue> {
        if js::get(&self.object, "removeItem").is_function() {
            js::call_method(&self.object, "removeItem", &[&JsValue::from_str(key)]).map(|_| ())
        } else {
            self.set(key, "")
        }
    }

    /// Copies `from` to `to` byte for byte.
    pub(crate) fn copy(&self, from: &str, to: &str) -> Result<(), JsValue> {
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
        js::call_method(&self.object, "getItem", &[&JsValue::from_str(key)])
            .map(|v| classify(&v))
            .map_err(|e| StorageFailure(js::describe(&e)))
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        if !self.web {
            return Vec::new();
        }
        glue::keys_with_prefix(&self.object, prefix)
    }
}
