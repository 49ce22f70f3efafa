//! The Sylius shop API v2 (API Platform; Sylius 1.10+ and 2.x), for guests, no token at all:
//!
//! 1. `POST /api/v2/shop/orders`: a new cart (an order in state `cart`), named by its `tokenValue`.
//! 2. `POST /api/v2/shop/orders/{token}/items` per line: `productVariant` as an IRI
//!    (`/api/v2/shop/product-variants/{code}`) and `quantity`.
//! 3. `PUT /api/v2/shop/orders/{token}`: `email`, the addresses and the `couponCode` in one request
//!    (since Sylius 1.11 addressing is a PUT of the order; a PUT without `couponCode` drops the coupon;
//!    `PATCH` of the order itself is 405). ApiBundle `resources/shop/Order.xml`, `UPGRADE-API-1.11.md`.
//! 4. `PATCH …/shipments/{id}` with the `shippingMethod` IRI the shopper's total includes, then
//!    `PATCH …/payments/{id}` with the `paymentMethod` IRI.
//! 5. The order's `total` (integer minor units, what is charged) must equal what the shopper saw.
//! 6. `PATCH …/complete`. Only a `checkoutState` of `completed` is an order. After a 5xx or no answer,
//!    `GET /api/v2/shop/orders/{token}` says whether the checkout completed before it is tried again.

use super::plan::street;
use super::plan::{check_totals, expect_ok, id_at, invalid_response, look_after, outcome_unknown, percent_encode};
use super::plan::{
    refuse_custom_lines, remote_cart, request, unconfirmed, HttpRequest, PlacedOrder, RemoteRefs, RemoteTotals,
};
use super::plan::{HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use crate::cart::Address;
use crate::error::{CartError, Result};
use serde_json::{json, Map, Value};

const BASE: &str = "/api/v2/shop";
const MAX_COMPLETE_TRIES: u32 = 2;

enum State {
    Start,
    Created,
    Adding { next: usize },
    Addressed,
    Shipped,
    Paid,
    Completing { total: i64, tries: u32 },
    Lookup { total: i64, tries: u32 },
    Finished,
}

pub struct SyliusShop {
    input: SyncInput,
    refs: RemoteRefs,
    /// The order's `tokenValue`, once created.
    token: String,
    state: State,
}

impl SyliusShop {
    pub fn new(input: SyncInput, refs: RemoteRefs) -> Result<Self> {
        refuse_custom_lines(&input, "sylius-shop")?;
        let cart = &input.cart;
        let mut missing = Vec::new();
        if cart.customer().email.is_none() {
            missing.push("email");
        }
        match cart.shipping_address() {
            None => missing.push("shippingAddress"),
            Some(a) => {
                let fields = [
                    ("shippingAddress.firstName", &a.first_name),
                    ("shippingAddress.lastName", &a.last_name),
                    ("shippingAddress.streetName", &a.street_name),
                    ("shippingAddress.city", &a.city),
                    ("shippingAddress.postalCode", &a.postal_code),
                ];
                missing.extend(fields.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k));
            }
        }
        if !missing.is_empty() {
            return Err(
                CartError::invalid_request(format!("a sylius order needs {}", missing.join(", ")))
                    .with_details(json!({ "field": missing.first(), "missing": missing })),
            );
        }
        Ok(SyliusShop {
            input,
            refs,
            token: String::new(),
            state: State::Start,
        })
    }

    fn order_path(&self, rest: &str) -> String {
        format!("{BASE}/orders/{}{rest}", percent_encode(&self.token))
    }

    fn patch(&self, path: String, body: Value) -> Step {
        let mut req: HttpRequest = request("PATCH", path, Some(body));
        req.headers
            .insert("Content-Type".into(), "application/merge-patch+json".into());
        Step::Send(req)
    }

    fn add_or_address(&mut self, next: usize) -> Step {
        match self.input.cart.line_items().get(next).zip(self.refs.lines.get(next)) {
            Some((line, code)) => {
                let body = json!({
                    "productVariant": format!("{BASE}/product-variants/{}", percent_encode(code)),
                    "quantity": line.quantity,
                });
                self.state = State::Adding {
                    next: next.saturating_add(1),
                };
                Step::Send(request("POST", self.order_path("/items"), Some(body)))
            }
            None => {
                self.state = State::Addressed;
                Step::Send(request("PUT", self.order_path(""), Some(self.addressing())))
            }
        }
    }

    /// `email`, `shippingAddress`, `billingAddress` and `couponCode` (Sylius takes one coupon).
    fn addressing(&self) -> Value {
        let cart = &self.input.cart;
        let mut body = Map::new();
        body.insert("email".into(), json!(cart.customer().email));
        if let Some(a) = cart.shipping_address() {
            body.insert("shippingAddress".into(), address(a));
            let billing = cart.billing_address().unwrap_or(a);
            body.insert("billingAddress".into(), address(billing));
        }
        if let Some(code) = cart.discount_codes().first() {
            body.insert("couponCode".into(), json!(code));
        }
        Value::Object(body)
    }

    /// The order's `total`, each item's `total` by its variant code, and `shippingTotal`.
    fn totals(&self, order: &Value) -> Result<RemoteTotals> {
        let total = order
            .get("total")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid_response("read order", "no total"))?;
        let lines = self.refs.line_totals(
            order.get("items"),
            |item, code| {
                let suffix = format!("/{}", percent_encode(code));
                item.get("variant")
                    .and_then(|v| v.as_str().or_else(|| v.get("@id").and_then(Value::as_str)))
                    .is_some_and(|iri| iri.ends_with(&suffix))
            },
            |item| item.get("total")?.as_i64(),
        );
        Ok(RemoteTotals {
            cart_id: Some(self.token.clone()),
            total,
            lines,
            lines_before_discounts: false,
            shipping: order.get("shippingTotal").and_then(Value::as_i64),
        })
    }

    fn complete(&mut self, total: i64, tries: u32) -> Step {
        self.state = State::Completing {
            total,
            tries: tries.saturating_add(1),
        };
        self.patch(self.order_path("/complete"), json!({}))
    }

    fn lookup(&mut self, total: i64, tries: u32) -> Step {
        self.state = State::Lookup { total, tries };
        Step::Send(request("GET", self.order_path(""), None))
    }

    fn placed(&self, order: &Value, total: i64) -> Result<Step> {
        Ok(Step::Done(SyncOutcome {
            protocol: Protocol::SyliusShop,
            remote_cart_id: Some(self.token.clone()),
            remote_total: Some(total),
            orders: vec![PlacedOrder {
                order_id: id_at(order, &["/tokenValue"]).unwrap_or_else(|| self.token.clone()),
                vendor: None,
                order_number: id_at(order, &["/number"]),
            }],
            answer: None,
        }))
    }
}

/// The id of the order's first shipment or payment (`shipments[0].id`, or the last segment of its IRI).
fn first_id(order: &Value, list: &str) -> Option<String> {
    let first = order.get(list)?.as_array()?.first()?;
    id_at(first, &["/id"]).or_else(|| {
        first
            .as_str()
            .or_else(|| first.get("@id").and_then(Value::as_str))
            .and_then(|iri| iri.rsplit('/').next())
            .map(str::to_string)
    })
}

fn completed(order: &Value) -> bool {
    order.get("checkoutState").and_then(Value::as_str) == Some("completed")
}

impl Plan for SyliusShop {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                // The channel's locale: 2.x takes it from Accept-Language, which a browser sends itself.
                self.state = State::Created;
                Ok(Step::Send(request("POST", format!("{BASE}/orders"), Some(json!({})))))
            }
            State::Created => {
                let body = expect_ok("create order", response)?.body;
                self.token =
                    id_at(&body, &["/tokenValue"]).ok_or_else(|| invalid_response("create order", "no tokenValue"))?;
                Ok(self.add_or_address(0))
            }
            State::Adding { next } => {
                expect_ok("add item", response)?;
                Ok(self.add_or_address(next))
            }
            State::Addressed => {
                let order = expect_ok("address", response)?.body;
                let shipment = first_id(&order, "shipments");
                match (shipment, &self.refs.shipping_method) {
                    (Some(id), Some(method)) => {
                        self.state = State::Shipped;
                        let path = self.order_path(&format!("/shipments/{}", percent_encode(&id)));
                        let iri = format!("{BASE}/shipping-methods/{}", percent_encode(method));
                        Ok(self.patch(path, json!({ "shippingMethod": iri })))
                    }
                    _ => self.choose_payment(&order),
                }
            }
            State::Shipped => {
                let order = expect_ok("select shipping", response)?.body;
                self.choose_payment(&order)
            }
            State::Paid => {
                let order = expect_ok("select payment", response)?.body;
                let totals = self.totals(&order)?;
                check_totals("select payment", &totals, &self.input.view)?;
                Ok(self.complete(totals.total, 0))
            }
            State::Completing { total, tries } => {
                let response = response.ok_or_else(|| invalid_response("complete", "no response"))?;
                if look_after(response.status, tries) {
                    return Ok(self.lookup(total, tries));
                }
                let order = expect_ok("complete", Some(response))?.body;
                if !completed(&order) {
                    // A 2xx that does not say completed: read the order rather than guess.
                    return Ok(self.lookup(total, tries));
                }
                self.placed(&order, total)
            }
            State::Lookup { total, tries } => {
                let order = expect_ok("look up order", response).map_err(outcome_unknown)?.body;
                if completed(&order) {
                    return self.placed(&order, total);
                }
                if tries < MAX_COMPLETE_TRIES {
                    return Ok(self.complete(total, tries));
                }
                Err(unconfirmed("sylius", "complete", tries, remote_cart(&self.token)))
            }
            State::Finished => Err(invalid_response("sylius-shop", "the plan is already finished")),
        }
    }

    fn no_answer(&mut self) -> Option<Result<Step>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Completing { total, tries } => Some(Ok(self.lookup(total, tries))),
            other => {
                self.state = other;
                None
            }
        }
    }
}

impl SyliusShop {
    /// The payment method: the checkout's `paymentMethod` code, else whatever the order already has.
    fn choose_payment(&mut self, order: &Value) -> Result<Step> {
        match (first_id(order, "payments"), &self.input.payment_method) {
            (Some(id), Some(method)) => {
                self.state = State::Paid;
                let path = self.order_path(&format!("/payments/{}", percent_encode(&id)));
                let iri = format!("{BASE}/payment-methods/{}", percent_encode(method));
                Ok(self.patch(path, json!({ "paymentMethod": iri })))
            }
            _ => {
                // Nothing to choose: the order as it stands is checked and completed.
                let totals = self.totals(order)?;
                check_totals("address", &totals, &self.input.view)?;
                Ok(self.complete(totals.total, 0))
            }
        }
    }
}

/// A Sylius address (v1 AddressType, v2 the order's address resource): `street` is street name and
/// number.
pub(crate) fn address(a: &Address) -> Value {
    let mut out = Map::new();
    out.insert("firstName".into(), json!(a.first_name));
    out.insert("lastName".into(), json!(a.last_name));
    out.insert("street".into(), json!(street(a)));
    out.insert("countryCode".into(), json!(a.country));
    out.insert("city".into(), json!(a.city));
    out.insert("postcode".into(), json!(a.postal_code));
    let optional = [
        ("company", a.company.as_ref()),
        ("phoneNumber", a.phone.as_ref()),
        ("provinceName", a.region.as_ref().or(a.state.as_ref())),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    }
    Value::Object(out)
}
