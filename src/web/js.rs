//! Small bridges between JavaScript values and the core's types: JSON in and out, `CartError` as a
//! real JavaScript `Error`, reading option fields, reporting exceptions thrown by listeners.
//!
//! Everything goes through `globalThis` and `Reflect`, never `window`, so the same code runs in pages,
//! Web Workers and Node.

use crate::error::{CartError, ErrorCode};
use crate::session::CheckoutError;
use js_sys::{Function, Reflect, JSON};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};

/// `globalThis`.
pub(crate) fn global() -> JsValue {
    js_sys::global().into()
}

/// `obj[key]`, `undefined` when the object has no such property or reading it throws.
pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key]`, keeping the exception if reading it throws (a `localStorage` getter may).
pub(crate) fn try_get(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
}

/// `obj[key] = value`; only fails on frozen objects and proxies, which are not ours.
pub(crate) fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

pub(crate) fn is_nullish(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// Calls `obj[name](...args)` as a method.
pub(crate) fn call_method(obj: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = try_get(obj, name)?
        .dyn_into()
        .map_err(|_| JsValue::from_str(&format!("{name} is not a function")))?;
    match args {
        [] => f.call0(obj),
        [a] => f.call1(obj, a),
        [a, b] => f.call2(obj, a, b),
        [a, b, c] => f.call3(obj, a, b, c),
        _ => f.apply(obj, &args.iter().copied().collect()),
    }
}

/// A short human description of a thrown value: `"QuotaExceededError: ..."`.
pub(crate) fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    let name = get(e, "name").as_string();
    let message = get(e, "message").as_string();
    match (name, message) {
        (Some(n), Some(m)) if !m.is_empty() => format!("{n}: {m}"),
        (Some(n), _) => n,
        (None, Some(m)) => m,
        (None, None) => JSON::stringify(e)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "unknown error".to_string()),
    }
}

/// A JavaScript value as JSON (`undefined` becomes `null`). Whatever `JSON.stringify` refuses
/// (a BigInt, a cycle) is `INVALID_REQUEST` naming `what`.
pub(crate) fn to_value(v: &JsValue, what: &str) -> Result<Value, CartError> {
    if v.is_undefined() {
        return Ok(Value::Null);
    }
    let text = to_json_text(v, what)?;
    serde_json::from_str(&text).map_err(|e| CartError::invalid_field(what, format!("{what}: not JSON data ({e})")))
}

/// `JSON.stringify(v)`, refusing values that have no JSON form.
pub(crate) fn to_json_text(v: &JsValue, what: &str) -> Result<String, CartError> {
    let text = JSON::stringify(v)
        .map_err(|e| CartError::invalid_field(what, format!("{what}: cannot be read ({})", describe(&e))))?;
    JsValue::from(text)
        .as_string()
        .ok_or_else(|| CartError::invalid_field(what, format!("{what}: not JSON data")))
}

/// Plain data to a JavaScript value (via `JSON.parse`, which is the fastest path for small values).
pub(crate) fn from_value(v: &Value) -> JsValue {
    serde_json::to_string(v)
        .ok()
        .and_then(|text| JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL)
}

/// The `Error` thrown to (or reported to) JavaScript: `name` "CartError", a stable `code`, a `details`
/// object (never null), and the human message.
pub(crate) fn error(code: &str, message: &str, details: &Value) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("CartError");
    let e: JsValue = e.into();
    set(&e, "code", &JsValue::from_str(code));
    let details = match details {
        Value::Object(_) => from_value(details),
        Value::Null => js_sys::Object::new().into(),
        other => from_value(&json!({ "value": other })),
    };
    set(&e, "details", &details);
    e
}

/// A core refusal as a JavaScript `Error` (`name` "CartError").
impl From<CartError> for JsValue {
    fn from(e: CartError) -> JsValue {
        // The package's types are generated from the declared shapes: a test build says when they drift.
        #[cfg(debug_assertions)]
        {
            let mismatches = crate::error::details::mismatches(e.code, &e.details);
            debug_assert!(mismatches.is_empty(), "{mismatches:?}");
        }
        error(e.code.as_str(), &e.message, &e.details)
    }
}

/// A failed checkout as a JavaScript `Error`: `name` "CheckoutError", `code`, `status` (HTTP, or 0
/// when no answer was involved) and `details`.
impl From<CheckoutError> for JsValue {
    fn from(e: CheckoutError) -> JsValue {
        let value = error(&e.code, &e.message, &e.details);
        set(&value, "name", &JsValue::from_str(CHECKOUT_ERROR));
        set(&value, "status", &JsValue::from_f64(f64::from(e.status)));
        value
    }
}

/// The `name` of checkout rejections.
pub(crate) const CHECKOUT_ERROR: &str = "CheckoutError";

/// A call made from inside the storage or clock callbacks of the same cart while it is busy.
pub(crate) fn busy() -> JsValue {
    CartError::invalid_request("the cart is busy (a re-entrant call from the clock or storage); try again later").into()
}

/// A call on a cart that was freed.
pub(crate) fn freed() -> JsValue {
    CartError::new(ErrorCode::CartFreed, "the cart was freed (cart.free()); open it again").into()
}

/// Reports an exception thrown by a listener without interrupting the others: `reportError` where it
/// exists (browsers, workers), else `console.error`.
pub(crate) fn report(exception: &JsValue) {
    let global = global();
    let report_error = get(&global, "reportError");
    if let Some(f) = report_error.dyn_ref::<Function>() {
        if f.call1(&JsValue::UNDEFINED, exception).is_ok() {
            return;
        }
    }
    let console = get(&global, "console");
    let _ = call_method(&console, "error", &[exception]);
}

/// `Date.now()`.
pub(crate) fn date_now() -> f64 {
    js_sys::Date::now()
}

/// Runs `f` in a microtask (after the current script, before anything else). Used so that events
/// raised while `Cart.open` runs reach listeners registered right after it returns.
pub(crate) fn defer(f: impl FnOnce() + 'static) {
    let callback = wasm_bindgen::closure::Closure::once_into_js(move |_: JsValue| f());
    let promise: JsValue = js_sys::Promise::resolve(&JsValue::UNDEFINED).into();
    let _ = call_method(&promise, "then", &[&callback]);
}
