//! Where the cart is kept: `localStorage`, `sessionStorage`, a caller's object with
//! `getItem`/`setItem`/`removeItem`, or nowhere (memory). Every call can throw in a browser (quota,
//! `SecurityError` in sandboxed frames or with storage disabled); the caller turns a throw into
//! memory mode and an `error` event, never into an exception of its own.

use super::js;
use crate::error::CartError;
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};

/// What `cart.persistence` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persistence {
    Local,
    Session,
    Custom,
    Memory,
}

impl Persistence {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Persistence::Local => "local",
            Persistence::Session => "session",
            Persistence::Custom => "custom",
            Persistence::Memory => "memory",
        }
    }
}

/// A storage object (Web Storage or the caller's), used through its three methods.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    object: JsValue,
}

/// The result of resolving the `storage` option.
pub(crate) struct Resolved {
    pub store: Option<Store>,
    pub persistence: Persistence,
    /// Set when a Web Storage exists but cannot even be reached (`SecurityError`).
    pub failure: Option<JsValue>,
}

impl Resolved {
    fn memory(failure: Option<JsValue>) -> Resolved {
        Resolved {
            store: None,
            persistence: Persistence::Memory,
            failure,
        }
    }
}

/// Resolves the `storage` option: `"local"` (default), `"session"`, `"memory"`, or an object with
/// `getItem` and `setItem` (and optionally `removeItem`). A Web Storage that does not exist (Node,
/// workers) is memory without complaint; one whose getter throws is memory plus the failure.
pub(crate) fn resolve(option: &JsValue) -> Result<Resolved, CartError> {
    let name = if js::is_nullish(option) {
        Some("local".to_string())
    } else {
        option.as_string()
    };
    match name.as_deref() {
        Some("local") => Ok(web_storage("localStorage", Persistence::Local)),
        Some("session") => Ok(web_storage("sessionStorage", Persistence::Session)),
        Some("memory") => Ok(Resolved::memory(None)),
        Some(other) => Err(js::bad_field(
            "storage",
            format!("storage: expected \"local\", \"session\", \"memory\" or a Storage-like object, got {other:?}"),
        )),
        None => {
            let has = |m: &str| js::get(option, m).is_function();
            if option.is_object() && has("getItem") && has("setItem") {
                Ok(Resolved {
                    store: Some(Store { object: option.clone() }),
                    persistence: Persistence::Custom,
                    failure: None,
                })
            } else {
                Err(js::bad_field(
                    "storage",
                    "storage: an object must have getItem and setItem methods",
                ))
            }
        }
    }
}

/// `undefined` (Node, workers: there is no such storage) is memory without complaint; `null` (storage
/// disabled in the browser's settings) and a throwing getter (`SecurityError`) are failures.
fn web_storage(name: &str, persistence: Persistence) -> Resolved {
    match js::try_get(&js::global(), name) {
        Err(e) => Resolved::memory(Some(e)),
        Ok(v) if v.is_object() => Resolved {
            store: Some(Store { object: v }),
            persistence,
            failure: None,
        },
        Ok(v) if v.is_null() => Resolved::memory(Some(JsValue::from_str(&format!("{name} is disabled (null)")))),
        Ok(_) => Resolved::memory(None),
    }
}

impl Store {
    /// The value under `key`; `None` when there is none (or it is not a string).
    pub(crate) fn get(&self, key: &str) -> Result<Option<String>, JsValue> {
        let v = js::call_method(&self.object, "getItem", &[&JsValue::from_str(key)])?;
        Ok(v.as_string())
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), JsValue> {
        js::call_method(
            &self.object,
            "setItem",
            &[&JsValue::from_str(key), &JsValue::from_str(value)],
        )
        .map(|_| ())
    }

    /// Removes `key` (`removeItem`; a custom storage without it gets an empty string, which readers
    /// of the checkout record and the archive take as absent).
    pub(crate) fn remove(&self, key: &str) -> Result<(), JsValue> {
        if js::get(&self.object, "removeItem").is_function() {
            js::call_method(&self.object, "removeItem", &[&JsValue::from_str(key)]).map(|_| ())
        } else {
            self.set(key, "")
        }
    }

    /// Whether a `storage` event's `storageArea` is this store (a synthetic event without one counts).
    pub(crate) fn is_area(&self, area: &JsValue) -> bool {
        js::is_nullish(area) || js_sys::Object::is(area, &self.object)
    }

    /// Writes `value` under `<key>:corrupt:<millis>` (or `...-2`, `-3`, ... if taken) and returns the key.
    /// The blob is never deleted by this package.
    pub(crate) fn preserve(&self, base: &str, value: &str) -> Result<String, JsValue> {
        for n in 1..=100u32 {
            let key = if n == 1 {
                base.to_string()
            } else {
                format!("{base}-{n}")
            };
            match self.get(&key)? {
                Some(existing) if existing != value => continue,
                _ => {
                    self.set(&key, value)?;
                    return Ok(key);
                }
            }
        }
        Err(JsValue::from_str("too many corrupt copies under one timestamp"))
    }
}

/// The `storage` event target (`globalThis` in pages; workers and Node have no storage events).
pub(crate) fn event_target() -> Option<JsValue> {
    let global = js::global();
    js::get(&global, "addEventListener")
        .dyn_ref::<js_sys::Function>()
        .map(|_| global.clone())
}

/// Details for an `error` event about a corrupt blob.
pub(crate) fn corrupt_details(error: &CartError, key: &str, kept_under: &str) -> serde_json::Value {
    let mut details = match &error.details {
        serde_json::Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    details.insert("key".into(), json!(key));
    details.insert("corruptKey".into(), json!(kept_under));
    serde_json::Value::Object(details)
}
