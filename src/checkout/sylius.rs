//! Seed 002, the Sylius carts API: create a cart for a customer and channel, add every line by its
//! variant code, then read the cart back and compare `total` (integer minor units, like ours). A Sylius
//! cart is an order in state `cart`: its id is the order reference.

use super::plan::{
    check_total, expect_ok, id_at, invalid_response, percent_encode, refuse_custom_lines, request, with_bearer,
    PlacedOrder,
};
use super::plan::{HttpResponse, Plan, Protocol, RemoteRefs, Step, SyncInput, SyncOutcome};
use crate::error::{CartError, Result};
use serde_json::{json, Value};

enum State {
    Start,
    Created,
    Adding { cart_id: String, next: usize },
    Read { cart_id: String },
    Finished,
}

pub struct Sylius {
    input: SyncInput,
    refs: RemoteRefs,
    state: State,
}

impl Sylius {
    pub fn new(input: SyncInput, refs: RemoteRefs) -> Result<Self> {
        refuse_custom_lines(&input, "sylius")?;
        let customer = input
            .cart
            .customer()
            .email
            .clone()
            .or_else(|| input.customer_id.clone());
        if customer.is_none() || input.channel.is_none() {
            return Err(
                CartError::invalid_request("sylius needs the customer's e-mail and a channel")
                    .with_details(json!({ "field": "channel" })),
            );
        }
        Ok(Sylius {
            input,
            refs,
            state: State::Start,
        })
    }

    fn add_or_read(&mut self, cart_id: String, next: usize) -> Step {
        let token = &self.input.token;
        match self.input.cart.line_items().get(next).zip(self.refs.lines.get(next)) {
            Some((line, code)) => {
                let body = json!({ "variant": code, "quantity": line.quantity });
                let path = format!("/api/v1/carts/{cart_id}/items/");
                self.state = State::Adding {
                    cart_id,
                    next: next.saturating_add(1),
                };
                Step::Send(with_bearer(request("POST", path, Some(body)), token))
            }
            None => {
                let path = format!("/api/v1/carts/{cart_id}");
                self.state = State::Read { cart_id };
                Step::Send(with_bearer(request("GET", path, None), token))
            }
        }
    }
}

impl Plan for Sylius {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                let cart = &self.input.cart;
                let body = json!({
                    "customer": cart.customer().email.clone().or_else(|| self.input.customer_id.clone()),
                    "channel": self.input.channel,
                    "locale_code": cart.locale().unwrap_or("en_US").replace('-', "_"),
                });
                self.state = State::Created;
                Ok(Step::Send(with_bearer(
                    request("POST", "/api/v1/carts/".into(), Some(body)),
                    &self.input.token,
                )))
            }
            State::Created => {
                let body = expect_ok("create cart", response)?.body;
                let cart_id = id_at(&body, &["/id"]).ok_or_else(|| invalid_response("create cart", "no id"))?;
                Ok(self.add_or_read(percent_encode(&cart_id), 0))
            }
            State::Adding { cart_id, next } => {
                expect_ok("add item", response)?;
                Ok(self.add_or_read(cart_id, next))
            }
            State::Read { cart_id } => {
                let body = expect_ok("read cart", response)?.body;
                let total = body
                    .get("total")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| invalid_response("read cart", "no total"))?;
                check_total("read cart", total, &self.input.view)?;
                Ok(Step::Done(SyncOutcome {
                    protocol: Protocol::Sylius,
                    remote_cart_id: Some(cart_id.clone()),
                    remote_total: Some(total),
                    orders: vec![PlacedOrder {
                        order_id: cart_id,
                        vendor: None,
                        order_number: None,
                    }],
                    answer: None,
                }))
            }
            State::Finished => Err(invalid_response("sylius", "the plan is already finished")),
        }
    }
}
