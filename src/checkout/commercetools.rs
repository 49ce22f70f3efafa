//! Seed 004, commercetools `/me` carts: one `POST /me/carts` carrying the line items, codes, addresses
//! and shipping method; its `totalPrice.centAmount` must equal what the shopper saw; then
//! `POST /me/orders` with the cart's id and version.

use super::plan::{
    check_total, expect_ok, id_at, invalid_response, refuse_custom_lines, request, with_bearer, PlacedOrder,
};
use super::plan::{HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use crate::error::Result;
use serde_json::{json, Map, Value};

enum State {
    Start,
    Created,
    Ordered { cart_id: String, total: i64 },
    Finished,
}

pub struct Commercetools {
    input: SyncInput,
    state: State,
}

impl Commercetools {
    pub fn new(input: SyncInput) -> Result<Self> {
        refuse_custom_lines(&input, "commercetools")?;
        Ok(Commercetools {
            input,
            state: State::Start,
        })
    }

    /// The MyCartDraft: everything in one request, as the seed's table lists it.
    fn draft(&self) -> Value {
        let cart = &self.input.cart;
        let mut draft = Map::new();
        draft.insert("currency".into(), json!(cart.currency()));
        let put = |draft: &mut Map<String, Value>, key: &str, value: Option<Value>| {
            if let Some(v) = value {
                draft.insert(key.to_string(), v);
            }
        };
        put(&mut draft, "country", cart.country().map(|c| json!(c)));
        put(&mut draft, "locale", cart.locale().map(|l| json!(l)));
        put(
            &mut draft,
            "customerEmail",
            cart.customer().email.as_ref().map(|e| json!(e)),
        );
        let lines: Vec<Value> = cart
            .line_items()
            .iter()
            .map(|l| match l.variant_id {
                // Our master variant has no id; any other variant is addressed by its SKU.
                Some(_) => json!({ "sku": l.sku, "quantity": l.quantity }),
                None => json!({ "productId": l.product_id, "quantity": l.quantity }),
            })
            .collect();
        draft.insert("lineItems".into(), Value::Array(lines));
        put(
            &mut draft,
            "shippingAddress",
            cart.shipping_address().and_then(|a| serde_json::to_value(a).ok()),
        );
        put(
            &mut draft,
            "billingAddress",
            cart.billing_address().and_then(|a| serde_json::to_value(a).ok()),
        );
        put(
            &mut draft,
            "shippingMethod",
            cart.shipping_method_id()
                .map(|id| json!({ "typeId": "shipping-method", "key": id })),
        );
        if !cart.discount_codes().is_empty() {
            draft.insert("discountCodes".into(), json!(cart.discount_codes()));
        }
        Value::Object(draft)
    }
}

impl Plan for Commercetools {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                self.state = State::Created;
                Ok(Step::Send(with_bearer(
                    request("POST", "/me/carts".into(), Some(self.draft())),
                    &self.input.token,
                )))
            }
            State::Created => {
                let body = expect_ok("create cart", response)?.body;
                let cart_id = id_at(&body, &["/id"]).ok_or_else(|| invalid_response("create cart", "no id"))?;
                let version = body
                    .get("version")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| invalid_response("create cart", "no version"))?;
                let total = body
                    .pointer("/totalPrice/centAmount")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| invalid_response("create cart", "no totalPrice.centAmount"))?;
                check_total("create cart", total, &self.input.view)?;
                let body = json!({ "id": cart_id, "version": version });
                self.state = State::Ordered { cart_id, total };
                Ok(Step::Send(with_bearer(
                    request("POST", "/me/orders".into(), Some(body)),
                    &self.input.token,
                )))
            }
            State::Ordered { cart_id, total } => {
                let body = expect_ok("create order", response)?.body;
                let order_id = id_at(&body, &["/id"]).ok_or_else(|| invalid_response("create order", "no id"))?;
                let order_number = id_at(&body, &["/orderNumber"]);
                Ok(Step::Done(SyncOutcome {
                    protocol: Protocol::Commercetools,
                    remote_cart_id: Some(cart_id),
                    remote_total: Some(total),
                    orders: vec![PlacedOrder {
                        order_id,
                        vendor: None,
                        order_number,
                    }],
                    answer: None,
                }))
            }
            State::Finished => Err(invalid_response("commercetools", "the plan is already finished")),
        }
    }
}
