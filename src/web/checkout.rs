//! `cart.checkout(options)` and its companions (DESIGN §8, docs/checkout.md). The session runs the
//! checkout (`crate::session`); this module turns its settle ids into promises and reads options.

// A `CheckoutError` is 128 bytes; checkouts are rare and boxing would only add noise.
#![allow(clippy::result_large_err)]

use super::events::deliver;
use super::requests::Deferred;
use super::shell::{execute, now_of, online, Inner, WebEntropy};
use super::{js, options, Cart};
use crate::session::CheckoutError;
use js_sys::Promise;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

impl Cart {
    /// Runs a checkout call: `start` returns the settle id (and effects) or a refusal before sending.
    fn promised(
        &self,
        sleep: Option<js_sys::Function>,
        start: impl FnOnce(
            &mut Inner,
            crate::time::Timestamp,
        ) -> Result<(Option<u64>, Vec<crate::session::Effect>), CheckoutError>,
    ) -> Promise {
        let now = match now_of(&self.inner) {
            Ok(now) => now,
            Err(e) => return Promise::reject(&e),
        };
        let started = match self.inner.try_borrow_mut() {
            Ok(mut inner) => {
                if sleep.is_some() {
                    inner.sleep = sleep;
                }
                start(&mut inner, now).map(|(id, effects)| {
                    let promise = id.map(|id| inner.promises.entry(id).or_insert_with(Deferred::new).promise.clone());
                    (promise, effects)
                })
            }
            Err(_) => return Promise::reject(&js::busy()),
        };
        match started {
            Ok((promise, effects)) => {
                execute(&self.inner, effects);
                deliver();
                promise.unwrap_or_else(|| Promise::resolve(&JsValue::NULL))
            }
            Err(e) => {
                deliver();
                Promise::reject(&JsValue::from(e))
            }
        }
    }
}

#[wasm_bindgen]
impl Cart {
    /// Places the order (DESIGN §8). See `CheckoutOptions` and docs/checkout.md. Resolves with the
    /// order (or `{status: "queued"}`); rejects with a `CheckoutError`, the cart unchanged. A call
    /// while a checkout of this cart is running returns that checkout's promise.
    #[wasm_bindgen(js_name = checkout, unchecked_return_type = "Promise<CheckoutResult>")]
    pub fn checkout(&self, #[wasm_bindgen(unchecked_param_type = "CheckoutOptions")] options: JsValue) -> Promise {
        let (input, sleep) = match options::checkout(&options) {
            Ok(parsed) => parsed,
            Err(e) => return Promise::reject(&JsValue::from(CheckoutError::from(e))),
        };
        let online = online();
        self.promised(sleep, |inner, now| {
            let (session, storage) = inner.parts();
            let (id, effects) = session.checkout(input, online, storage, now, &mut WebEntropy)?;
            Ok((Some(id), effects))
        })
    }

    /// Sends the pending checkout (`pendingCheckout`) now, with its idempotency key: resolves with the
    /// order, `{status: "queued"}` if it is queued and still cannot be sent, or `null` when nothing is
    /// pending. Options: `timeoutMs`, `retries`, `retryBaseMs`, `retryMaxMs`, `sleep`.
    #[wasm_bindgen(js_name = resumeCheckout, unchecked_return_type = "Promise<CheckoutResult | null>")]
    pub fn resume_checkout(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: JsValue,
    ) -> Promise {
        let (send, sleep) = match options::send_options(&options) {
            Ok(parsed) => parsed,
            Err(e) => return Promise::reject(&JsValue::from(CheckoutError::from(e))),
        };
        let online = online();
        self.promised(sleep, |inner, now| {
            let (session, storage) = inner.parts();
            Ok(session.resume_checkout(send, online, storage, now, &mut WebEntropy))
        })
    }

    /// The checkout stored beside the cart, or `null`: `state` "sending" (a send is running, or its page
    /// went away), "queued" (waiting to be online) or "failed" (no answer; looked up, never resent).
    #[wasm_bindgen(getter = pendingCheckout, unchecked_return_type = "PendingCheckout | null")]
    pub fn pending_checkout(&self) -> Result<JsValue, JsValue> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
        let (session, storage) = inner.parts();
        Ok(match session.pending_checkout(storage) {
            Some(r) => js::from_value(&json!({
                "state": r.state.as_str(),
                "cartId": r.cart_id,
                "version": r.version,
                "idempotencyKey": r.idempotency_key,
                "endpoint": r.endpoint,
                "createdAt": r.created_at,
                "attempts": r.attempts,
            })),
            None => JsValue::NULL,
        })
    }

    /// Forgets the pending checkout (a queued order the shopper no longer wants). A request already
    /// sent may still have placed the order. Returns whether there was one.
    #[wasm_bindgen(js_name = discardPendingCheckout)]
    pub fn discard_pending_checkout(&self) -> Result<bool, JsValue> {
        let (found, effects) = {
            let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
            let (session, storage) = inner.parts();
            session.discard_pending_checkout(storage)
        };
        execute(&self.inner, effects);
        deliver();
        Ok(found)
    }

    /// After a `PRICE_CHANGED` rejection: adopts the server's prices (`error.details`, or the error)
    /// for the cart as it is. The view shows them and the next checkout sends their totals as
    /// `expected`, until the cart changes. Returns the lines whose price moved, with the cart-level
    /// difference in `.total`.
    #[wasm_bindgen(js_name = acceptServerPrices, unchecked_return_type = "PriceDifferences")]
    pub fn accept_server_prices(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PriceChangedDetails | CheckoutError | CheckoutError[\"details\"]")]
        details: JsValue,
    ) -> Result<JsValue, JsValue> {
        let details = if js::get(&details, "view").is_object() || !js::get(&details, "details").is_object() {
            details
        } else {
            js::get(&details, "details")
        };
        let details = js::to_value(&details, "details")?;
        let now = now_of(&self.inner)?;
        let result = {
            let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
            let (session, storage) = inner.parts();
            session.accept_server_prices(&details, storage, now)
        };
        let (review, effects) = result?;
        execute(&self.inner, effects);
        deliver();
        let lines = js::from_value(&serde_json::to_value(&review.lines).unwrap_or(Value::Null));
        js::set(
            &lines,
            "total",
            &js::from_value(&serde_json::to_value(&review.total).unwrap_or(Value::Null)),
        );
        Ok(lines)
    }

    /// The orders placed from this storage key (`<storageKey>:orders`), oldest first.
    #[wasm_bindgen(js_name = orders, unchecked_return_type = "ArchivedOrder[]")]
    pub fn orders(&self) -> Result<JsValue, JsValue> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
        let (session, storage) = inner.parts();
        Ok(js::from_value(&Value::Array(session.orders(storage))))
    }

    /// The catalog the cart prices with (the one given to `open`/`setCatalog`, or the cached one when
    /// opened without). The same object until the catalog changes; treat it as read-only.
    #[wasm_bindgen(js_name = catalog, unchecked_return_type = "Catalog")]
    pub fn catalog(&self) -> Result<JsValue, JsValue> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
        let checksum = inner.session.catalog().checksum.clone();
        if let Some((sum, object)) = &inner.catalog_object {
            if *sum == checksum {
                return Ok(object.clone());
            }
        }
        let object = js_sys::JSON::parse(&inner.session.catalog().json)?;
        inner.catalog_object = Some((checksum, object.clone()));
        Ok(object)
    }
}

/// Whether `value` is a rejection of `checkout()` / `resumeCheckout()`: `name === "CheckoutError"`
/// with a string `code`.
#[wasm_bindgen(js_name = isCheckoutError, unchecked_return_type = "value is CheckoutError")]
pub fn is_checkout_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    js::get(&value, "name").as_string().as_deref() == Some(js::CHECKOUT_ERROR) && js::get(&value, "code").is_string()
}
