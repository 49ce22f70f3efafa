//! Seed 000, the distributor's v3 cart API: a customer-scoped cart, one `cartItems` request per line
//! (with the provisioning `attributes`), a review read that reports missing configuration, and
//! `:checkout` with an optional `poNumber`, answered by an order id or a listing (one order per vendor).

use super::plan::{
    expect_ok, id_at, invalid_response, percent_encode, refuse_custom_lines, request, with_bearer, PlacedOrder,
};
use super::plan::{HttpResponse, Plan, Protocol, RemoteRefs, Step, SyncInput, SyncOutcome};
use crate::error::{CartError, ErrorCode, Result};
use serde_json::{json, Value};

enum State {
    Start,
    Created,
    Adding { cart_id: String, next: usize },
    Reviewed { cart_id: String },
    CheckedOut { cart_id: String },
    Finished,
}

pub struct DistributorV3 {
    input: SyncInput,
    refs: RemoteRefs,
    customer: String,
    state: State,
}

impl DistributorV3 {
    pub fn new(input: SyncInput, refs: RemoteRefs) -> Result<Self> {
        refuse_custom_lines(&input, "distributor-v3")?;
        let customer = input.customer_id.clone().filter(|c| !c.is_empty()).ok_or_else(|| {
            CartError::invalid_request("distributor-v3 needs a customerId").with_details(json!({"field": "customerId"}))
        })?;
        Ok(DistributorV3 {
            input,
            refs,
            customer: percent_encode(&customer),
            state: State::Start,
        })
    }

    fn base(&self) -> String {
        format!("/api/v3/customers/{}/carts", self.customer)
    }

    fn add_or_review(&mut self, cart_id: String, next: usize) -> Step {
        match self.input.cart.line_items().get(next).zip(self.refs.lines.get(next)) {
            Some((line, product_id)) => {
                let body = json!({ "productId": product_id, "quantity": line.quantity, "attributes": line.attributes });
                let path = format!("{}/{}/cartItems", self.base(), cart_id);
                self.state = State::Adding {
                    cart_id,
                    next: next.saturating_add(1),
                };
                Step::Send(with_bearer(request("POST", path, Some(body)), &self.input.token))
            }
            None => {
                let path = format!("{}/{}", self.base(), cart_id);
                self.state = State::Reviewed { cart_id };
                Step::Send(with_bearer(request("GET", path, None), &self.input.token))
            }
        }
    }
}

fn validation_errors(body: &Value) -> Option<&Value> {
    ["validationErrors", "errors"]
        .iter()
        .filter_map(|k| body.get(*k))
        .find(|v| v.as_array().is_some_and(|a| !a.is_empty()) || v.as_object().is_some_and(|o| !o.is_empty()))
}

impl Plan for DistributorV3 {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                self.state = State::Created;
                Ok(Step::Send(with_bearer(
                    request("POST", self.base(), Some(json!({}))),
                    &self.input.token,
                )))
            }
            State::Created => {
                let body = expect_ok("create cart", response)?.body;
                let cart_id =
                    id_at(&body, &["/cartId", "/id"]).ok_or_else(|| invalid_response("create cart", "no cartId"))?;
                Ok(self.add_or_review(percent_encode(&cart_id), 0))
            }
            State::Adding { cart_id, next } => {
                expect_ok("add cart item", response)?;
                Ok(self.add_or_review(cart_id, next))
            }
            State::Reviewed { cart_id } => {
                let body = expect_ok("review cart", response)?.body;
                if let Some(errors) = validation_errors(&body) {
                    return Err(CartError::new(
                        ErrorCode::CheckoutFailed,
                        "the distributor reports configuration errors",
                    )
                    .with_details(json!({ "step": "review cart", "errors": errors })));
                }
                let path = format!("{}/{}:checkout", self.base(), cart_id);
                let body = match &self.input.po_number {
                    Some(po) => json!({ "poNumber": po }),
                    None => json!({}),
                };
                self.state = State::CheckedOut { cart_id };
                Ok(Step::Send(with_bearer(
                    request("POST", path, Some(body)),
                    &self.input.token,
                )))
            }
            State::CheckedOut { cart_id } => {
                let body = expect_ok("checkout", response)?.body;
                let orders = orders_of(&body).ok_or_else(|| invalid_response("checkout", "no orderId or listing"))?;
                Ok(Step::Done(SyncOutcome {
                    protocol: Protocol::DistributorV3,
                    remote_cart_id: Some(cart_id),
                    remote_total: None,
                    orders,
                    answer: None,
                }))
            }
            State::Finished => Err(invalid_response("distributor-v3", "the plan is already finished")),
        }
    }
}

/// `{"orderId": ...}` or a listing `{"orders": [{"orderId", "vendor"}, ...]}` (also `listing`).
fn orders_of(body: &Value) -> Option<Vec<PlacedOrder>> {
    let listing = body
        .get("orders")
        .or_else(|| body.get("listing"))
        .and_then(Value::as_array);
    if let Some(list) = listing {
        let orders: Vec<PlacedOrder> = list
            .iter()
            .filter_map(|o| {
                Some(PlacedOrder {
                    order_id: id_at(o, &["/orderId", "/id"])?,
                    vendor: o.get("vendor").and_then(Value::as_str).map(str::to_string),
                    order_number: None,
                })
            })
            .collect();
        return (!orders.is_empty()).then_some(orders);
    }
    let order_id = id_at(body, &["/orderId"])?;
    Some(vec![PlacedOrder {
        order_id,
        vendor: None,
        order_number: None,
    }])
}
