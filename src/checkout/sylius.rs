//! Seed 002, the Sylius admin API v1 (SyliusAdminApiBundle; Sylius ≤ 1.9 core). Relay only: it needs
//! an admin OAuth token. A Sylius cart is an order in state `cart`; the checkout runs its steps:
//!
//! 1. `POST /api/v1/carts/` with `customer` (e-mail), `channel` and `localeCode` (released Sylius's form
//!    field; `locale_code` predates 1.0 and is refused as an extra field).
//! 2. `POST /api/v1/carts/{id}/items/` per line, by variant code.
//! 3. `PUT /api/v1/carts/{id}` with `promotionCoupon` (the one coupon v1 takes).
//! 4. `PUT /api/v1/checkouts/addressing/{id}`, `…/select-shipping/{id}` (the method the shopper's total
//!    includes), `…/select-payment/{id}`.
//! 5. `GET /api/v1/checkouts/{id}`: its `total` (integer minor units) must equal what the shopper saw.
//! 6. `PUT /api/v1/checkouts/complete/{id}`, then `GET /api/v1/checkouts/{id}`: only a `checkoutState` of
//!    `completed` is an order. After a 5xx or no answer the same read says whether it completed.

use super::plan::{check_totals, expect_ok, id_at, invalid_response, look_after, outcome_unknown, percent_encode};
use super::plan::{refuse_custom_lines, request, with_bearer, HttpRequest, PlacedOrder, RemoteRefs, RemoteTotals};
use super::plan::{remote_cart, unconfirmed};
use super::plan::{HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use super::sylius_shop::address;
use crate::error::{CartError, Result};
use serde_json::{json, Map, Value};

const MAX_COMPLETE_TRIES: u32 = 2;

enum State {
    Start,
    Created,
    Adding {
        next: usize,
    },
    Coupon,
    Addressed,
    Shipped,
    Paid,
    /// The order read back after the payment step, for its totals.
    Review,
    Completing {
        total: i64,
        tries: u32,
    },
    Confirm {
        total: i64,
        tries: u32,
    },
    Finished,
}

pub struct Sylius {
    input: SyncInput,
    refs: RemoteRefs,
    cart_id: String,
    customer: String,
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
        let (Some(customer), Some(_)) = (customer, input.channel.as_ref()) else {
            return Err(
                CartError::invalid_request("sylius needs the customer's e-mail and a channel")
                    .with_details(json!({ "field": "channel" })),
            );
        };
        if input.payment_method.is_none() {
            return Err(CartError::invalid_field(
                "paymentMethod",
                "sylius needs the payment method's code",
            ));
        }
        let Some(a) = input.cart.shipping_address() else {
            return Err(CartError::invalid_field(
                "shippingAddress",
                "a sylius order needs a shipping address",
            ));
        };
        let fields = [
            ("shippingAddress.firstName", &a.first_name),
            ("shippingAddress.lastName", &a.last_name),
            ("shippingAddress.streetName", &a.street_name),
            ("shippingAddress.city", &a.city),
            ("shippingAddress.postalCode", &a.postal_code),
        ];
        if let Some((field, _)) = fields.iter().find(|(_, v)| v.is_none()) {
            return Err(CartError::invalid_field(field, format!("a sylius order needs {field}")));
        }
        Ok(Sylius {
            input,
            refs,
            cart_id: String::new(),
            customer,
            state: State::Start,
        })
    }

    fn send(&self, req: HttpRequest) -> Step {
        Step::Send(with_bearer(req, &self.input.token))
    }

    fn id(&self) -> String {
        percent_encode(&self.cart_id)
    }

    fn add_or_go_on(&mut self, next: usize) -> Step {
        match self.input.cart.line_items().get(next).zip(self.refs.lines.get(next)) {
            Some((line, code)) => {
                let body = json!({ "variant": code, "quantity": line.quantity });
                self.state = State::Adding {
                    next: next.saturating_add(1),
                };
                self.send(request(
                    "POST",
                    format!("/api/v1/carts/{}/items/", self.id()),
                    Some(body),
                ))
            }
            None => match self.input.cart.discount_codes().first() {
                Some(code) => {
                    self.state = State::Coupon;
                    let body = json!({ "promotionCoupon": code });
                    self.send(request("PUT", format!("/api/v1/carts/{}", self.id()), Some(body)))
                }
                None => self.address(),
            },
        }
    }

    fn address(&mut self) -> Step {
        let cart = &self.input.cart;
        let mut body = Map::new();
        if let Some(shipping) = cart.shipping_address() {
            body.insert("shippingAddress".into(), address(shipping));
            match cart.billing_address().filter(|b| *b != shipping) {
                Some(billing) => {
                    body.insert("differentBillingAddress".into(), json!(true));
                    body.insert("billingAddress".into(), address(billing));
                }
                None => {
                    body.insert("differentBillingAddress".into(), json!(false));
                }
            }
        }
        self.state = State::Addressed;
        let path = format!("/api/v1/checkouts/addressing/{}", self.id());
        self.send(request("PUT", path, Some(Value::Object(body))))
    }

    fn ship_or_pay(&mut self) -> Step {
        match &self.refs.shipping_method {
            Some(method) => {
                self.state = State::Shipped;
                let body = json!({ "shipments": [{ "method": method }] });
                let path = format!("/api/v1/checkouts/select-shipping/{}", self.id());
                self.send(request("PUT", path, Some(body)))
            }
            None => self.pay(),
        }
    }

    fn pay(&mut self) -> Step {
        self.state = State::Paid;
        let body = json!({ "payments": [{ "method": self.input.payment_method }] });
        let path = format!("/api/v1/checkouts/select-payment/{}", self.id());
        self.send(request("PUT", path, Some(body)))
    }

    fn read(&self) -> Step {
        self.send(request("GET", format!("/api/v1/checkouts/{}", self.id()), None))
    }

    fn complete(&mut self, total: i64, tries: u32) -> Step {
        self.state = State::Completing {
            total,
            tries: tries.saturating_add(1),
        };
        let path = format!("/api/v1/checkouts/complete/{}", self.id());
        self.send(request("PUT", path, Some(json!({}))))
    }

    /// The order's `total`, each item's `total` by its variant code, and the shipping adjustments.
    fn totals(&self, order: &Value) -> Result<RemoteTotals> {
        let total = order
            .get("total")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid_response("read checkout", "no total"))?;
        let lines = self.refs.line_totals(
            order.get("items"),
            |item, code| item.pointer("/variant/code").and_then(Value::as_str) == Some(code),
            |item| item.get("total")?.as_i64(),
        );
        Ok(RemoteTotals {
            cart_id: Some(self.cart_id.clone()),
            total,
            lines,
            lines_before_discounts: false,
            shipping: None,
        })
    }
}

impl Plan for Sylius {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                let body = json!({
                    "customer": self.customer,
                    "channel": self.input.channel,
                    "localeCode": self.input.cart.locale().unwrap_or("en_US").replace('-', "_"),
                });
                self.state = State::Created;
                Ok(self.send(request("POST", "/api/v1/carts/".into(), Some(body))))
            }
            State::Created => {
                let body = expect_ok("create cart", response)?.body;
                self.cart_id = id_at(&body, &["/id"]).ok_or_else(|| invalid_response("create cart", "no id"))?;
                Ok(self.add_or_go_on(0))
            }
            State::Adding { next } => {
                expect_ok("add item", response)?;
                Ok(self.add_or_go_on(next))
            }
            State::Coupon => {
                expect_ok("apply coupon", response)?;
                Ok(self.address())
            }
            State::Addressed => {
                expect_ok("addressing", response)?;
                Ok(self.ship_or_pay())
            }
            State::Shipped => {
                expect_ok("select shipping", response)?;
                Ok(self.pay())
            }
            State::Paid => {
                expect_ok("select payment", response)?;
                self.state = State::Review;
                Ok(self.read())
            }
            State::Review => {
                let order = expect_ok("read checkout", response)?.body;
                let totals = self.totals(&order)?;
                check_totals("read checkout", &totals, &self.input.view)?;
                Ok(self.complete(totals.total, 0))
            }
            State::Completing { total, tries } => {
                let response = response.ok_or_else(|| invalid_response("complete", "no response"))?;
                if !look_after(response.status, tries) {
                    expect_ok("complete", Some(response))?;
                }
                // Completed or not, the order's own state says (also after a refusal of a second try).
                self.state = State::Confirm { total, tries };
                Ok(self.read())
            }
            State::Confirm { total, tries } => {
                let order = expect_ok("read checkout", response).map_err(outcome_unknown)?.body;
                if order.get("checkoutState").and_then(Value::as_str) == Some("completed") {
                    return Ok(Step::Done(SyncOutcome {
                        protocol: Protocol::Sylius,
                        remote_cart_id: Some(self.cart_id.clone()),
                        remote_total: Some(total),
                        orders: vec![PlacedOrder {
                            order_id: self.cart_id.clone(),
                            vendor: None,
                            order_number: id_at(&order, &["/number"]),
                        }],
                        answer: None,
                    }));
                }
                if tries < MAX_COMPLETE_TRIES {
                    return Ok(self.complete(total, tries));
                }
                Err(unconfirmed("sylius", "complete", tries, remote_cart(&self.cart_id)))
            }
            State::Finished => Err(invalid_response("sylius", "the plan is already finished")),
        }
    }

    fn no_answer(&mut self) -> Option<Result<Step>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Completing { total, tries } => {
                self.state = State::Confirm { total, tries };
                Some(Ok(self.read()))
            }
            other => {
                self.state = other;
                None
            }
        }
    }
}
