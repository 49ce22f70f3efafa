//! commercetools `/me` carts (seed 004; HTTP API "My Carts" and "My Orders"), browser-direct with a
//! customer's or an anonymous session's token, or from cart-server's relay:
//!
//! 1. `POST /me/carts`: one MyCartDraft with every line by SKU, the codes, the addresses and the
//!    shipping method the shopper's total includes (commercetools never applies `isDefault` itself).
//! 2. The cart's own total, `taxedPrice.totalGross` (what is charged, net- or gross-priced project
//!    alike; `totalPrice` when there is no tax), must equal what the shopper saw, else `PRICE_CHANGED`
//!    with the lines whose totals differ.
//! 3. `POST /me/orders` with the cart's id and version. A 409 `ConcurrentModification` re-reads the cart
//!    (its total is checked again) and orders with the new version. A 5xx or no answer "may still
//!    successfully complete" (commercetools' error docs): the order is looked up by its cart
//!    (`GET /me/orders?where=cart(id="…")`) before the order is asked for again.

use super::plan::{
    check_totals, expect_ok, id_at, invalid_response, look_after, outcome_unknown, percent_encode, refuse_custom_lines,
    request, unconfirmed, with_bearer, PlacedOrder, RemoteRefs, RemoteTotals,
};
use super::plan::{remote_cart, HttpRequest, HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use crate::error::{CartError, Result};
use serde_json::{json, Map, Value};

/// How often the order is asked for again after a 409 or an unknown outcome.
const MAX_ORDER_TRIES: u32 = 3;

enum State {
    Start,
    Created,
    /// `POST /me/orders` sent for this cart version.
    Ordering {
        cart: RemoteCart,
        tries: u32,
    },
    /// After a 409: `GET /me/carts/{id}` for the current version.
    Reread {
        cart: RemoteCart,
        tries: u32,
    },
    /// After an unknown outcome: `GET /me/orders?where=cart(id=…)`.
    Lookup {
        cart: RemoteCart,
        tries: u32,
    },
    Finished,
}

#[derive(Clone)]
struct RemoteCart {
    id: String,
    version: u64,
    total: i64,
}

pub struct Commercetools {
    input: SyncInput,
    refs: RemoteRefs,
    state: State,
}

impl Commercetools {
    pub fn new(input: SyncInput, refs: RemoteRefs) -> Result<Self> {
        refuse_custom_lines(&input, "commercetools")?;
        if input.cart.shipping_address().is_none() && input.cart.country().is_none() {
            return Err(CartError::invalid_field(
                "shippingAddress",
                "commercetools orders need a shipping address (at least its country)",
            ));
        }
        Ok(Commercetools {
            input,
            refs,
            state: State::Start,
        })
    }

    fn send(&self, req: HttpRequest) -> Step {
        Step::Send(with_bearer(req, &self.input.token))
    }

    /// The MyCartDraft: everything in one request.
    fn draft(&self) -> Value {
        let cart = &self.input.cart;
        let mut draft = Map::new();
        draft.insert("currency".into(), json!(cart.currency()));
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                draft.insert(key.to_string(), v);
            }
        };
        put("country", cart.country().map(|c| json!(c)));
        put("locale", cart.locale().map(|l| json!(l)));
        put("customerEmail", cart.customer().email.as_ref().map(|e| json!(e)));
        let lines: Vec<Value> = cart
            .line_items()
            .iter()
            .zip(&self.refs.lines)
            .map(|(l, sku)| json!({ "sku": sku, "quantity": l.quantity }))
            .collect();
        put("lineItems", Some(Value::Array(lines)));
        let shipping = match cart.shipping_address() {
            Some(a) => serde_json::to_value(a).ok(),
            None => cart.country().map(|c| json!({ "country": c })),
        };
        put("shippingAddress", shipping);
        put(
            "billingAddress",
            cart.billing_address().and_then(|a| serde_json::to_value(a).ok()),
        );
        put(
            "shippingMethod",
            self.refs
                .shipping_method
                .as_ref()
                .map(|key| json!({ "typeId": "shipping-method", "key": key })),
        );
        if !cart.discount_codes().is_empty() {
            put("discountCodes", Some(json!(cart.discount_codes())));
        }
        Value::Object(draft)
    }

    /// Reads a Cart, checks its total against the shopper's, and asks for the order.
    fn order_cart(&mut self, step: &str, body: &Value, tries: u32) -> Result<Step> {
        let id = id_at(body, &["/id"]).ok_or_else(|| invalid_response(step, "no id"))?;
        let version = body
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid_response(step, "no version"))?;
        let totals = RemoteTotals {
            cart_id: Some(id.clone()),
            ..self.totals(step, body)?
        };
        check_totals(step, &totals, &self.input.view)?;
        let cart = RemoteCart {
            id,
            version,
            total: totals.total,
        };
        Ok(self.ask_order(cart, tries))
    }

    fn ask_order(&mut self, cart: RemoteCart, tries: u32) -> Step {
        let body = json!({ "id": cart.id, "version": cart.version });
        self.state = State::Ordering {
            cart,
            tries: tries.saturating_add(1),
        };
        self.send(request("POST", "/me/orders".into(), Some(body)))
    }

    fn lookup(&mut self, cart: RemoteCart, tries: u32) -> Step {
        let predicate = format!("cart(id=\"{}\")", cart.id);
        let path = format!("/me/orders?where={}", percent_encode(&predicate));
        self.state = State::Lookup { cart, tries };
        self.send(request("GET", path, None))
    }

    /// `taxedPrice.totalGross` (else `totalPrice`), each line's `totalPrice` by its SKU, and the
    /// shipping price.
    fn totals(&self, step: &str, body: &Value) -> Result<RemoteTotals> {
        let total = body
            .pointer("/taxedPrice/totalGross/centAmount")
            .or_else(|| body.pointer("/totalPrice/centAmount"))
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid_response(step, "no taxedPrice.totalGross or totalPrice"))?;
        let lines = self.refs.line_totals(
            body.get("lineItems"),
            |line, sku| line.pointer("/variant/sku").and_then(Value::as_str) == Some(sku),
            |line| line.pointer("/totalPrice/centAmount")?.as_i64(),
        );
        let shipping = body.pointer("/shippingInfo/price/centAmount").and_then(Value::as_i64);
        Ok(RemoteTotals {
            cart_id: None,
            total,
            lines,
            lines_before_discounts: false,
            shipping,
        })
    }

    fn placed(&self, cart: &RemoteCart, order: &Value) -> Result<Step> {
        let order_id = id_at(order, &["/id"]).ok_or_else(|| invalid_response("create order", "no id"))?;
        Ok(Step::Done(SyncOutcome {
            protocol: Protocol::Commercetools,
            remote_cart_id: Some(cart.id.clone()),
            remote_total: Some(cart.total),
            orders: vec![PlacedOrder {
                order_id,
                vendor: None,
                order_number: id_at(order, &["/orderNumber"]),
            }],
            answer: None,
        }))
    }
}

/// A refusal after more than one try may hide an order an earlier try placed.
fn unknown_after(e: CartError, tries: u32) -> CartError {
    if tries > 1 {
        outcome_unknown(e)
    } else {
        e
    }
}

/// `errors[].code == "ConcurrentModification"` in a 409 (commercetools' error object).
fn is_concurrent_modification(response: &HttpResponse) -> bool {
    response.status == 409
        && response
            .body
            .get("errors")
            .and_then(Value::as_array)
            .is_some_and(|errors| {
                errors
                    .iter()
                    .any(|e| e.get("code").and_then(Value::as_str) == Some("ConcurrentModification"))
            })
}

impl Plan for Commercetools {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                self.state = State::Created;
                Ok(self.send(request("POST", "/me/carts".into(), Some(self.draft()))))
            }
            State::Created => {
                let body = expect_ok("create cart", response)?.body;
                self.order_cart("create cart", &body, 0)
            }
            State::Ordering { cart, tries } => {
                let response = response.ok_or_else(|| invalid_response("create order", "no response"))?;
                if tries < MAX_ORDER_TRIES && is_concurrent_modification(&response) {
                    let path = format!("/me/carts/{}", percent_encode(&cart.id));
                    self.state = State::Reread { cart, tries };
                    return Ok(self.send(request("GET", path, None)));
                }
                if look_after(response.status, tries) {
                    return Ok(self.lookup(cart, tries));
                }
                let body = expect_ok("create order", Some(response))?.body;
                self.placed(&cart, &body).map_err(outcome_unknown)
            }
            State::Reread { cart, tries } => {
                let body = expect_ok("read cart", response)
                    .map_err(|e| unknown_after(e, tries))?
                    .body;
                if body.get("cartState").and_then(Value::as_str) == Some("Ordered") {
                    // An earlier try placed it after all.
                    return Ok(self.lookup(cart, tries));
                }
                self.order_cart("read cart", &body, tries)
            }
            State::Lookup { cart, tries } => {
                let body = expect_ok("look up order", response).map_err(outcome_unknown)?.body;
                match body.pointer("/results/0") {
                    Some(order) => self.placed(&cart, order).map_err(outcome_unknown),
                    None if tries < MAX_ORDER_TRIES => Ok(self.ask_order(cart, tries)),
                    None => Err(unconfirmed(
                        "commercetools",
                        "create order",
                        tries,
                        remote_cart(&cart.id),
                    )),
                }
            }
            State::Finished => Err(invalid_response("commercetools", "the plan is already finished")),
        }
    }

    fn no_answer(&mut self) -> Option<Result<Step>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Ordering { cart, tries } => Some(Ok(self.lookup(cart, tries))),
            other => {
                self.state = other;
                None
            }
        }
    }
}
