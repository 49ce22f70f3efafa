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
//! - 404 `CART_NOT_FOUND`: a server that follows seed 001 as written keeps its own carts and never saw
//!   this cart id. The plan then does what the seed describes: `POST /carts` (with the `customerId`),
//!   `POST /carts/{id}/items` per line (`productId`, `quantity`, the line's attributes as `metadata`),
//!   `GET /carts/{id}` whose `total` (major units) must equal what the shopper saw, and
//!   `POST /carts/{id}/checkout` with the seed's body and the same idempotency key. The server's cart
//!   id is kept in the record ([`Plan::remote_cart`]): a resend reads that cart back and, if it still
//!   holds what the shopper saw, checks it out again under the same key instead of building another.
//!
//! Retries (network errors, timeouts, 408, 429, 5xx, `CHECKOUT_IN_PROGRESS`) are the executor's: it
//! resends the same request, key and body.

use super::client::{order_url, path_segment, CheckoutRecord};
use super::plan::{invalid_response, outcome_unknown, HttpRequest, HttpResponse, Plan, Protocol, Step, SyncOutcome};
use crate::error::{CartError, ErrorCode, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The header that makes a request safe to repeat.
pub const IDEMPOTENCY_HEADER: &str = "X-Idempotency-Key";

/// The header that proves ownership of a cart and its order (cart-server, docs/server.md "Ownership").
/// Every request of a checkout sends the record's secret: a server cart created by the plan is created
/// with it, a browser cart's order is placed under it, and both are read back with it.
pub const SECRET_HEADER: &str = "X-Cart-Secret";

/// `step` with the secret's header, when it sends a request.
fn signed(step: Result<Step>, secret: &str) -> Result<Step> {
    match step {
        Ok(Step::Send(mut request)) if !secret.is_empty() => {
            request.headers.insert(SECRET_HEADER.to_string(), secret.to_string());
            Ok(Step::Send(request))
        }
        other => other,
    }
}

enum Stage {
    Start,
    Sent,
    /// Seed 001 as written: the server's own cart, built from the record's.
    Created,
    Adding {
        next: usize,
    },
    Reviewed {
        fresh: bool,
    },
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
    /// The server's own cart (seed 001 as written), once created or as the record remembers it.
    server_cart: Option<String>,
    /// The record's secret ([`SECRET_HEADER`]).
    secret: String,
    stage: Stage,
}

impl SpecB {
    pub fn new(record: &CheckoutRecord) -> SpecB {
        SpecB {
            cart_id: record.cart_id.clone(),
            key: record.idempotency_key.clone(),
            body: record.body.clone(),
            server_cart: record.server_cart_id.clone(),
            secret: record.secret.clone(),
            stage: Stage::Start,
        }
    }

    fn checkout_request(&self, cart_id: &str, body: Value) -> Step {
        let mut headers = BTreeMap::new();
        headers.insert("Content-Type".to_string(), "application/json".to_string());
        headers.insert("Accept".to_string(), "application/json".to_string());
        headers.insert(IDEMPOTENCY_HEADER.to_string(), self.key.clone());
        Step::Send(HttpRequest {
            method: "POST".into(),
            path: format!("/carts/{}/checkout", path_segment(cart_id)),
            headers,
            body: Some(body),
        })
    }

    fn server_cart(&self) -> Result<&str> {
        self.server_cart
            .as_deref()
            .ok_or_else(|| invalid_response("create cart", "no cart id"))
    }

    /// The record's cart lines, as seed 001's add-item bodies.
    fn items(&self) -> Vec<Value> {
        let items = self.body.pointer("/cart/items").and_then(Value::as_array);
        items
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|item| {
                let mut body = Map::new();
                body.insert(
                    "productId".into(),
                    item.get("productId").cloned().unwrap_or(Value::Null),
                );
                body.insert("quantity".into(), item.get("quantity").cloned().unwrap_or(Value::Null));
                if let Some(v) = item.get("variantId").filter(|v| !v.is_null()) {
                    body.insert("variantId".into(), v.clone());
                }
                if let Some(a) = item
                    .get("attributes")
                    .filter(|a| a.as_object().is_some_and(|o| !o.is_empty()))
                {
                    body.insert("metadata".into(), a.clone());
                }
                Value::Object(body)
            })
            .collect()
    }

    fn add_or_review(&mut self, next: usize) -> Result<Step> {
        let cart = percent(self.server_cart()?);
        match self.items().into_iter().nth(next) {
            Some(item) => {
                self.stage = Stage::Adding {
                    next: next.saturating_add(1),
                };
                Ok(Step::Send(post(format!("/carts/{cart}/items"), item)))
            }
            None => {
                self.stage = Stage::Reviewed { fresh: true };
                Ok(Step::Send(get(format!("/carts/{cart}"))))
            }
        }
    }

    /// Seed 001's checkout body: the record's without the cart (whose codes become `promoCode`).
    fn seed_body(&self) -> Value {
        let mut body = match &self.body {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        let code = body.get("cart").and_then(|c| c.pointer("/discountCodes/0")).cloned();
        body.remove("cart");
        if let Some(code) = code.filter(|_| !body.contains_key("promoCode")) {
            body.insert("promoCode".into(), code);
        }
        Value::Object(body)
    }

    /// Whether the server's cart holds what the shopper saw: its `total` in major units against the
    /// record's expected total in minor units.
    fn same_total(&self, cart: &Value) -> Result<bool> {
        let currency = self
            .body
            .pointer("/cart/currency")
            .and_then(Value::as_str)
            .unwrap_or("");
        let digits = crate::money::fraction_digits(currency).unwrap_or(2);
        let expected = self.body.pointer("/cart/expected/total").and_then(Value::as_i64);
        let actual = cart.get("total").and_then(|v| super::plan::major_to_minor(v, digits));
        match (expected, actual) {
            (Some(e), Some(a)) => Ok(e == a),
            _ => Err(invalid_response("review cart", "no total")),
        }
    }

    fn create(&mut self) -> Step {
        self.server_cart = None;
        self.stage = Stage::Created;
        let mut body = Map::new();
        if let Some(id) = self.body.get("customerId").filter(|v| !v.is_null()) {
            body.insert("customerId".into(), id.clone());
        }
        Step::Send(post("/carts".into(), Value::Object(body)))
    }
}

fn post(path: String, body: Value) -> HttpRequest {
    let mut headers = BTreeMap::new();
    headers.insert("Accept".to_string(), "application/json".to_string());
    headers.insert("Content-Type".to_string(), "application/json".to_string());
    HttpRequest {
        method: "POST".into(),
        path,
        headers,
        body: Some(body),
    }
}

fn percent(id: &str) -> String {
    path_segment(id)
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

/// `(code, details)` of a SPEC-B refusal made by [`refusal`]: the server's code and details; else
/// `CHECKOUT_FAILED` with the body when the server sent no error code, or with `remoteCode` and
/// `remoteDetails` when its code is outside the package's closed union (a program can switch over it).
pub fn refusal_parts(e: &CartError) -> (String, Value) {
    let remote = e.details.get("remoteCode").and_then(Value::as_str);
    match remote {
        Some(code) if e.code == ErrorCode::CheckoutFailed && crate::error::details::is_checkout_code(code) => (
            code.to_string(),
            e.details.get("remoteDetails").cloned().unwrap_or_else(|| json!({})),
        ),
        _ => {
            let mut details = match &e.details {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            if remote.is_none() {
                details.remove("remoteCode");
                details.remove("remoteDetails");
            }
            details.retain(|k, v| k != "status" && !(k == "body" && v.is_null()));
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

/// The order as the checkout resolves with it: the server's answer, plus `protocol` and the `secret`
/// that reads it again (`GET {endpoint}/orders/{orderId}` with [`SECRET_HEADER`]).
fn order_outcome(body: Value, recovered: bool, secret: &str) -> Step {
    let mut order = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    order.insert("protocol".into(), json!("spec-b"));
    if !secret.is_empty() {
        order.insert("secret".into(), json!(secret));
    }
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
    fn remote_cart(&self) -> Option<&str> {
        self.server_cart.as_deref()
    }

    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        let step = self.advance(response);
        signed(step, &self.secret)
    }
}

impl SpecB {
    fn advance(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.stage, Stage::Finished) {
            Stage::Start => match &self.server_cart {
                // A resend after the server's own cart was built: is it still the shopper's?
                Some(id) => {
                    let path = format!("/carts/{}", percent(id));
                    self.stage = Stage::Reviewed { fresh: false };
                    Ok(Step::Send(get(path)))
                }
                None => {
                    self.stage = Stage::Sent;
                    Ok(self.checkout_request(&self.cart_id.clone(), self.body.clone()))
                }
            },
            Stage::Created => {
                let r = response.ok_or_else(|| invalid_response("create cart", "no response"))?;
                if !(200..300).contains(&r.status) {
                    return Err(refusal(&r));
                }
                let id = super::plan::id_at(&r.body, &["/id", "/cartId"])
                    .ok_or_else(|| invalid_response("create cart", "no id"))?;
                self.server_cart = Some(id);
                self.add_or_review(0)
            }
            Stage::Adding { next } => {
                let r = response.ok_or_else(|| invalid_response("add item", "no response"))?;
                if !(200..300).contains(&r.status) {
                    return Err(refusal(&r));
                }
                self.add_or_review(next)
            }
            Stage::Reviewed { fresh } => {
                let r = response.ok_or_else(|| invalid_response("review cart", "no response"))?;
                if !fresh && !(200..300).contains(&r.status) {
                    // The server's cart is gone (expired, or ordered and hidden): the key's answer, if
                    // the server keeps one, comes back from a checkout of that cart under the same key.
                    let cart = self.server_cart()?.to_string();
                    self.stage = Stage::Sent;
                    return Ok(self.checkout_request(&cart, self.seed_body()));
                }
                if !(200..300).contains(&r.status) {
                    return Err(refusal(&r));
                }
                let same = match self.same_total(&r.body) {
                    Ok(same) => same,
                    // A cart of an earlier attempt whose answer says nothing: it may be ordered.
                    Err(e) if !fresh => return Err(outcome_unknown(e)),
                    Err(e) => return Err(e),
                };
                if !same {
                    if !fresh {
                        // Left half-built by an earlier attempt: build it again.
                        return Ok(self.create());
                    }
                    let actual = r.body.get("total").cloned();
                    return Err(CartError::new(
                        ErrorCode::PriceChanged,
                        "the server's cart total differs from the cart's",
                    )
                    .with_details(
                        json!({ "expected": self.body.pointer("/cart/expected/total"), "actual": actual,
                            "remoteCartId": self.server_cart }),
                    ));
                }
                let cart = self.server_cart()?.to_string();
                self.stage = Stage::Sent;
                Ok(self.checkout_request(&cart, self.seed_body()))
            }
            Stage::Sent => {
                let r = response.ok_or_else(|| invalid_response("checkout", "no response"))?;
                let code = r.body.pointer("/error/code").and_then(Value::as_str);
                if r.status == 404 && code == Some("CART_NOT_FOUND") {
                    if self.server_cart.is_none() {
                        // A server that keeps its own carts (seed 001 as written).
                        return Ok(self.create());
                    }
                    // The server's cart is gone and its key answers nothing: an earlier attempt may
                    // have ordered it. Only a person can tell; the record is kept.
                    return Err(outcome_unknown(refusal(&r)));
                }
                if (200..300).contains(&r.status) {
                    if order_id(&r.body).is_some() {
                        return Ok(order_outcome(r.body, false, &self.secret));
                    }
                    let refusal = CartError::new(
                        ErrorCode::InvalidResponse,
                        "the server accepted the checkout but its answer has no orderId",
                    )
                    .with_details(json!({ "status": r.status, "body": r.body }));
                    self.stage = Stage::LookingUp { refusal };
                    return Ok(Step::Send(get(cart_path(
                        self.server_cart.as_deref().unwrap_or(&self.cart_id),
                    ))));
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
                        Ok(Step::Send(get(cart_path(
                            self.server_cart.as_deref().unwrap_or(&self.cart_id),
                        ))))
                    }
                }
            }
            Stage::FetchingOrder { refusal } => match response {
                Some(r) if r.status == 200 && order_id(&r.body).is_some() => {
                    Ok(order_outcome(r.body, true, &self.secret))
                }
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
    secret: String,
    stage: LookupStage,
}

enum LookupStage {
    Start,
    Cart,
    Order,
    Finished,
}

impl OrderLookup {
    pub fn new(cart_id: &str, secret: &str) -> OrderLookup {
        OrderLookup {
            cart_id: cart_id.to_string(),
            secret: secret.to_string(),
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
        let step = self.advance(response);
        signed(step, &self.secret)
    }
}

impl OrderLookup {
    fn advance(&mut self, response: Option<HttpResponse>) -> Result<Step> {
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
                Some(r) if r.status == 200 && order_id(&r.body).is_some() => {
                    Ok(order_outcome(r.body, true, &self.secret))
                }
                Some(r) => Err(refusal(&r)),
                None => Err(invalid_response("lookup", "no response")),
            },
            LookupStage::Finished => Err(invalid_response("lookup", "the plan is already finished")),
        }
    }
}
