//! SPEC-B checkout (seed 001) as a request plan, like the other protocols, and the lookup that finds
//! out whether an attempt that got no answer placed an order.
//!
//! The checkout is one `POST {endpoint}/carts/{cartId}/checkout` with its idempotency key. What an
//! answer may need next:
//! - 2xx with an `orderId`: the order.
//! - 2xx without one: the server took the checkout but did not say which order; the cart is looked up
//!   (`GET /carts/{cartId}`: an ordered cart names its order) and the order fetched.
//! - 409 `CART_NOT_ACTIVE`: this cart id was ordered already. Cart ids are random and only this
//!   storage ever sent this one, so the order is this cart's: an earlier attempt placed it and its
//!   answer was lost (possibly before the shopper edited the cart). The order is fetched
//!   (`GET /orders/{orderId}`) and the checkout ends with it, `recovered: true`.
//! - any other refusal: the server placed nothing (it stores no failure under the key).
//!
//! Retries (network errors, timeouts, 408, 429, 5xx, `CHECKOUT_IN_PROGRESS`) are the executor's: it
//! resends the same request, key and body.

use super::client::{order_url, path_segment, CheckoutRecord};
use super::plan::{invalid_response, HttpRequest, HttpResponse, Plan, Protocol, Step, SyncOutcome};
use crate::error::{CartError, ErrorCode, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The header that makes a request safe to repeat.
pub const IDEMPOTENCY_HEADER: &str = "X-Idempotency-Key";

enum Stage {
    Start,
    Sent,
    /// The order of an ordered cart is being fetched; `refusal` is the answer if it cannot be.
    FetchingOrder {
        refusal: CartError,
    },
    /// The cart is being looked up for its order; `refusal` is the answer if it has none.
    LookingUp {
        refusal: CartError,
    },
    Finished,
}

/// A SPEC-B checkout of one [`CheckoutRecord`].
pub struct SpecB {
    cart_id: String,
    key: String,
    body: Value,
    stage: Stage,
}

impl SpecB {
    pub fn new(record: &CheckoutRecord) -> SpecB {
        SpecB {
            cart_id: record.cart_id.clone(),
            key: record.idempotency_key.clone(),
            body: record.body.clone(),
            stage: Stage::Start,
        }
    }
}

/// A refusal of the server, carried as `CHECKOUT_FAILED` with the server's own code and details
/// (`remoteCode`, `remoteMessage`, `remoteDetails`, `status`); [`refusal_parts`] reads them back.
pub fn refusal(response: &HttpResponse) -> CartError {
    let error = response.body.get("error");
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
    let details = match error.and_then(|e| e.get("details")) {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        Some(Value::Null) | None => json!({}),
        Some(other) => json!({ "value": other }),
    };
    let status = response.status;
    let text = match (code, message) {
        (_, Some(m)) => m.to_string(),
        (Some(c), None) => format!("checkout failed: {c} (HTTP {status})"),
        (None, None) => format!("checkout failed with HTTP {status}"),
    };
    CartError::new(ErrorCode::CheckoutFailed, text).with_details(json!({
        "status": status,
        "remoteCode": code,
        "remoteDetails": details,
        "body": if code.is_some() { Value::Null } else { response.body.clone() },
    }))
}

/// `(code, details)` of a SPEC-B refusal made by [`refusal`]: the server's code and details, or
/// `CHECKOUT_FAILED` with the body when the server sent no error code.
pub fn refusal_parts(e: &CartError) -> (String, Value) {
    match e.details.get("remoteCode").and_then(Value::as_str) {
        Some(code) if e.code == ErrorCode::CheckoutFailed => (
            code.to_string(),
            e.details.get("remoteDetails").cloned().unwrap_or_else(|| json!({})),
        ),
        _ => {
            let mut details = match &e.details {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            details.remove("remoteCode");
            details.remove("remoteDetails");
            details.remove("status");
            (e.code.as_str().to_string(), Value::Object(details))
        }
    }
}

fn get(path: String) -> HttpRequest {
    let mut headers = BTreeMap::new();
    headers.insert("Accept".to_string(), "application/json".to_string());
    HttpRequest {
        method: "GET".into(),
        path,
        headers,
        body: None,
    }
}

/// The path of `GET {endpoint}/carts/{cartId}` relative to the endpoint.
fn cart_path(cart_id: &str) -> String {
    format!("/carts/{}", path_segment(cart_id))
}

/// The order as the checkout resolves with it: the server's answer, plus `protocol`.
fn order_outcome(body: Value, recovered: bool) -> Step {
    let mut order = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    order.insert("protocol".into(), json!("spec-b"));
    if recovered {
        order.insert("recovered".into(), json!(true));
    }
    let order_id = order.get("orderId").and_then(Value::as_str).map(str::to_string);
    let placed = order_id.map(|id| super::plan::PlacedOrder {
        order_id: id,
        vendor: None,
        order_number: order
            .get("confirmationNumber")
            .and_then(Value::as_str)
            .map(str::to_string),
    });
    Step::Done(SyncOutcome {
        protocol: Protocol::SpecB,
        remote_cart_id: None,
        remote_total: None,
        orders: placed.into_iter().collect(),
        answer: Some(Value::Object(order)),
    })
}

fn order_id(body: &Value) -> Option<String> {
    body.get("orderId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `GET {endpoint}/orders/{id}` relative to the endpoint.
fn order_path(order_id: &str) -> String {
    order_url("", order_id)
}

impl Plan for SpecB {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.stage, Stage::Finished) {
            Stage::Start => {
                let mut headers = BTreeMap::new();
                headers.insert("Content-Type".to_string(), "application/json".to_string());
                headers.insert("Accept".to_string(), "application/json".to_string());
                headers.insert(IDEMPOTENCY_HEADER.to_string(), self.key.clone());
                self.stage = Stage::Sent;
                Ok(Step::Send(HttpRequest {
                    method: "POST".into(),
                    path: format!("/carts/{}/checkout", path_segment(&self.cart_id)),
                    headers,
                    body: Some(self.body.clone()),
                }))
            }
            Stage::Sent => {
                let r = response.ok_or_else(|| invalid_response("checkout", "no response"))?;
                if (200..300).contains(&r.status) {
                    if order_id(&r.body).is_some() {
                        return Ok(order_outcome(r.body, false));
                    }
                    let refusal = CartError::new(
                        ErrorCode::InvalidResponse,
                        "the server accepted the checkout but its answer has no orderId",
                    )
                    .with_details(json!({ "status": r.status, "body": r.body }));
                    self.stage = Stage::LookingUp { refusal };
                    return Ok(Step::Send(get(cart_path(&self.cart_id))));
                }
                let refusal = refusal(&r);
                if r.body.pointer("/error/code").and_then(Value::as_str) != Some("CART_NOT_ACTIVE") {
                    return Err(refusal);
                }
                match r.body.pointer("/error/details/orderId").and_then(Value::as_str) {
                    Some(id) => {
                        self.stage = Stage::FetchingOrder { refusal };
                        Ok(Step::Send(get(order_path(id))))
                    }
                    None => {
                        self.stage = Stage::LookingUp { refusal };
                        Ok(Step::Send(get(cart_path(&self.cart_id))))
                    }
                }
            }
            Stage::FetchingOrder { refusal } => match response {
                Some(r) if r.status == 200 && order_id(&r.body).is_some() => Ok(order_outcome(r.body, true)),
                _ => Err(refusal),
            },
            Stage::LookingUp { refusal } => {
                let ordered = response
                    .filter(|r| r.status == 200)
                    .filter(|r| r.body.get("status").and_then(Value::as_str) == Some("ordered"))
                    .and_then(|r| order_id(&r.body));
                match ordered {
                    Some(id) => {
                        self.stage = Stage::FetchingOrder { refusal };
                        Ok(Step::Send(get(order_path(&id))))
                    }
                    None => Err(refusal),
                }
            }
            Stage::Finished => Err(invalid_response("spec-b", "the plan is already finished")),
        }
    }
}

/// Finds out whether cart `cart_id` was ordered, without sending the checkout again (which would place
/// the order if it was not): `GET /carts/{cartId}`, and if it is ordered, its order. Ends with the
/// order (`recovered: true`), or refuses: `ITEM_NOT_FOUND` when the server has no order for the cart,
/// `INVALID_RESPONSE` when the answer says nothing either way.
pub struct OrderLookup {
    cart_id: String,
    stage: LookupStage,
}

enum LookupStage {
    Start,
    Cart,
    Order,
    Finished,
}

impl OrderLookup {
    pub fn new(cart_id: &str) -> OrderLookup {
        OrderLookup {
            cart_id: cart_id.to_string(),
            stage: LookupStage::Start,
        }
    }

    /// Whether a refusal of the lookup means "no order": the cart is unknown to the server, or not ordered.
    pub fn not_placed(e: &CartError) -> bool {
        e.code == ErrorCode::ItemNotFound
    }
}

fn not_placed(cart_id: &str) -> CartError {
    CartError::new(
        ErrorCode::ItemNotFound,
        format!("the server has no order for cart {cart_id}"),
    )
    .with_details(json!({ "cartId": cart_id }))
}

impl Plan for OrderLookup {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.stage, LookupStage::Finished) {
            LookupStage::Start => {
                self.stage = LookupStage::Cart;
                Ok(Step::Send(get(cart_path(&self.cart_id))))
            }
            LookupStage::Cart => {
                let r = response.ok_or_else(|| invalid_response("lookup", "no response"))?;
                let code = r.body.pointer("/error/code").and_then(Value::as_str);
                if r.status == 404 && code.is_none_or(|c| c == "CART_NOT_FOUND") {
                    return Err(not_placed(&self.cart_id));
                }
                if r.status != 200 {
                    return Err(refusal(&r));
                }
                match (r.body.get("status").and_then(Value::as_str), order_id(&r.body)) {
                    (Some("ordered"), Some(id)) => {
                        self.stage = LookupStage::Order;
                        Ok(Step::Send(get(order_path(&id))))
                    }
                    (Some("active"), _) => Err(not_placed(&self.cart_id)),
                    _ => Err(invalid_response(
                        "lookup",
                        "the cart's answer says neither active nor ordered with an orderId",
                    )),
                }
            }
            LookupStage::Order => match response {
                Some(r) if r.status == 200 && order_id(&r.body).is_some() => Ok(order_outcome(r.body, true)),
                Some(r) => Err(refusal(&r)),
                None => Err(invalid_response("lookup", "no response")),
            },
            LookupStage::Finished => Err(invalid_response("lookup", "the plan is already finished")),
        }
    }
}
