//! Reading the options objects of `Cart.open`, `checkout()` and friends into the session's types.
//! Only reading: which combinations are valid is decided in the core.

use super::js;
use crate::checkout::client::RetryPolicy;
use crate::checkout::Protocol;
use crate::error::{CartError, ErrorCode};
use crate::session::{CatalogInput, CheckoutInput, Defaults, SendOptions};
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

/// The default `storageKey`.
const DEFAULT_KEY: &str = "cart";

pub(crate) fn opt_string(options: &JsValue, field: &str) -> Result<Option<String>, CartError> {
    let v = js::get(options, field);
    if js::is_nullish(&v) {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| CartError::invalid_field(field, format!("{field}: expected a string")))
}

/// A function option (`now`, `sleep`); `expected` describes it in the error.
pub(crate) fn opt_function(options: &JsValue, field: &str, expected: &str) -> Result<Option<Function>, CartError> {
    let v = js::get(options, field);
    if js::is_nullish(&v) {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| CartError::invalid_field(field, format!("{field}: expected {expected}")))
}

/// A whole, non-negative number that JavaScript holds exactly (`ttlSeconds`, `expectedVersion`, ...).
pub(crate) fn opt_count(options: &JsValue, field: &str) -> Result<Option<u64>, CartError> {
    let v = js::get(options, field);
    if js::is_nullish(&v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(Some(n as u64)),
        _ => Err(CartError::invalid_field(
            field,
            format!("{field}: expected a whole number of at least 0"),
        )),
    }
}

fn object_or_nothing(options: &JsValue) -> Result<(), CartError> {
    if !js::is_nullish(options) && !options.is_object() {
        return Err(CartError::invalid_request("options: expected an object"));
    }
    Ok(())
}

/// A catalog given as an object or as JSON text.
pub(crate) fn catalog(v: &JsValue) -> Result<CatalogInput, CartError> {
    let text = match v.as_string() {
        Some(text) => text,
        None => js::to_json_text(v, "catalog").map_err(|e| CartError::new(ErrorCode::InvalidCatalog, e.message))?,
    };
    CatalogInput::parse(&text)
}

/// The options of `Cart.open` / `Cart.fromSnapshot`.
pub(crate) struct OpenOptions {
    pub catalog: Option<CatalogInput>,
    pub key: String,
    pub storage: JsValue,
    pub defaults: Defaults,
    pub clock: Option<Function>,
}

impl OpenOptions {
    pub(crate) fn read(options: &JsValue) -> Result<OpenOptions, CartError> {
        object_or_nothing(options)?;
        let given = js::get(options, "catalog");
        let catalog = if js::is_nullish(&given) {
            None
        } else {
            Some(catalog(&given)?)
        };
        let key = opt_string(options, "storageKey")?.unwrap_or_else(|| DEFAULT_KEY.to_string());
        if key.is_empty() {
            return Err(CartError::invalid_field("storageKey", "storageKey: must not be empty"));
        }
        let ttl_seconds = opt_count(options, "ttlSeconds")?;
        if ttl_seconds == Some(0) {
            return Err(CartError::invalid_field("ttlSeconds", "ttlSeconds: must be at least 1"));
        }
        Ok(OpenOptions {
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
            clock: opt_function(options, "now", "a function returning epoch milliseconds")?,
        })
    }
}

/// `timeoutMs`, `retries`, `retryBaseMs`, `retryMaxMs`, and the `sleep` function.
pub(crate) fn send_options(options: &JsValue) -> Result<(SendOptions, Option<Function>), CartError> {
    object_or_nothing(options)?;
    let defaults = SendOptions::default();
    let policy = RetryPolicy {
        retries: opt_count(options, "retries")?.map_or(defaults.policy.retries, |r| r.min(100) as u32),
        base_delay_ms: opt_count(options, "retryBaseMs")?.unwrap_or(defaults.policy.base_delay_ms),
        max_delay_ms: opt_count(options, "retryMaxMs")?.unwrap_or(defaults.policy.max_delay_ms),
    };
    let send = SendOptions {
        timeout_ms: opt_count(options, "timeoutMs")?.unwrap_or(defaults.timeout_ms),
        policy,
    };
    Ok((
        send,
        opt_function(options, "sleep", "a function (ms) => Promise<void>")?,
    ))
}

/// The options of `checkout()`.
pub(crate) fn checkout(options: &JsValue) -> Result<(CheckoutInput, Option<Function>), CartError> {
    if !options.is_object() {
        return Err(CartError::invalid_request(
            "options: expected an object with endpoint and paymentMethodId",
        ));
    }
    let protocol = opt_string(options, "protocol")?
        .map(|p| Protocol::parse(&p))
        .transpose()?;
    let queue = match opt_string(options, "whenOffline")?.as_deref() {
        None | Some("fail") => false,
        Some("queue") => true,
        Some(_) => {
            return Err(CartError::invalid_field(
                "whenOffline",
                "whenOffline: expected \"fail\" or \"queue\"",
            ))
        }
    };
    let (send, sleep) = send_options(options)?;
    let input = CheckoutInput {
        endpoint: opt_string(options, "endpoint")?.unwrap_or_default(),
        payment_method_id: opt_string(options, "paymentMethodId")?,
        customer_id: opt_string(options, "customerId")?,
        po_number: opt_string(options, "poNumber")?,
        promo_code: opt_string(options, "promoCode")?,
        protocol,
        token: opt_string(options, "token")?,
        access_key: opt_string(options, "accessKey")?,
        storefront_url: opt_string(options, "storefrontUrl")?.or_else(page_origin),
        queue,
        send,
    };
    Ok((input, sleep))
}

/// The page's origin (`location.origin`), the usual `storefrontUrl`; `None` outside a page.
fn page_origin() -> Option<String> {
    let location = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok()?;
    js_sys::Reflect::get(&location, &JsValue::from_str("origin"))
        .ok()?
        .as_string()
        .filter(|o| o != "null")
}
