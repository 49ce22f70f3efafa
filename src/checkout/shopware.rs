//! Seed 003, the Shopware Store API: the cart belongs to a context token (`sw-context-token`, renewed
//! by the server on the first read). Products and promotion codes go in as line items in one batch;
//! the recalculated `price.totalPrice` (a decimal in major units) must equal what the shopper saw;
//! then the order is placed.

use super::plan::PlacedOrder;
use super::plan::{check_total, expect_ok, id_at, invalid_response, major_to_minor, refuse_custom_lines, request};
use super::plan::{HttpRequest, HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use crate::error::{CartError, ErrorCode, Result};
use serde_json::{json, Value};

enum State {
    Start,
    Fetched,
    Filled,
    Ordered { total: i64 },
    Finished,
}

pub struct Shopware {
    input: SyncInput,
    token: Option<String>,
    state: State,
}

impl Shopware {
    pub fn new(input: SyncInput) -> Result<Self> {
        refuse_custom_lines(&input, "shopware")?;
        let token = input.token.clone();
        Ok(Shopware {
            input,
            token,
            state: State::Start,
        })
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Step {
        let mut req: HttpRequest = request(method, path.to_string(), body);
        if let Some(token) = &self.token {
            req.headers.insert("sw-context-token".into(), token.clone());
        }
        if let Some(key) = &self.input.access_key {
            req.headers.insert("sw-access-key".into(), key.clone());
        }
        Step::Send(req)
    }

    fn items(&self) -> Value {
        let cart = &self.input.cart;
        let mut items: Vec<Value> = cart
            .line_items()
            .iter()
            .map(|l| json!({ "type": "product", "referencedId": l.product_id, "quantity": l.quantity }))
            .collect();
        items.extend(
            cart.discount_codes()
                .iter()
                .map(|c| json!({ "type": "promotion", "referencedId": c })),
        );
        json!({ "items": items })
    }
}

impl Plan for Shopware {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                self.state = State::Fetched;
                Ok(self.send("GET", "/store-api/checkout/cart", None))
            }
            State::Fetched => {
                let response = expect_ok("fetch cart", response)?;
                let renewed = response
                    .headers
                    .get("sw-context-token")
                    .cloned()
                    .or_else(|| response.body.get("token").and_then(Value::as_str).map(str::to_string));
                if renewed.is_some() {
                    self.token = renewed;
                }
                self.state = State::Filled;
                Ok(self.send("POST", "/store-api/checkout/cart/line-item", Some(self.items())))
            }
            State::Filled => {
                let body = expect_ok("add line items", response)?.body;
                let digits = self.input.view.fraction_digits;
                let total = body
                    .pointer("/price/totalPrice")
                    .and_then(|v| major_to_minor(v, digits))
                    .ok_or_else(|| invalid_response("add line items", "no price.totalPrice"))?;
                if let Some(errors) = body
                    .get("errors")
                    .filter(|e| e.as_object().is_some_and(|o| !o.is_empty()))
                {
                    return Err(
                        CartError::new(ErrorCode::CheckoutFailed, "the shop reports cart errors")
                            .with_details(json!({ "step": "add line items", "errors": errors })),
                    );
                }
                check_total("add line items", total, &self.input.view)?;
                self.state = State::Ordered { total };
                Ok(self.send("POST", "/store-api/checkout/order", Some(json!({}))))
            }
            State::Ordered { total } => {
                let body = expect_ok("create order", response)?.body;
                let order_id = id_at(&body, &["/id"]).ok_or_else(|| invalid_response("create order", "no id"))?;
                Ok(Step::Done(SyncOutcome {
                    protocol: Protocol::Shopware,
                    remote_cart_id: self.token.clone(),
                    remote_total: Some(total),
                    orders: vec![PlacedOrder {
                        order_id,
                        vendor: None,
                        order_number: id_at(&body, &["/orderNumber"]),
                    }],
                    answer: None,
                }))
            }
            State::Finished => Err(invalid_response("shopware", "the plan is already finished")),
        }
    }
}
