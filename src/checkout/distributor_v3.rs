//! Seed 000, the distributor's v3 cart API (TD SYNNEX StreamOne Ion V3: the seed is its "Shopping Cart"
//! workflow guide; the shapes below follow Ion's "StreamOne Ion V3 APIs" OpenAPI document where the
//! seed is silent). Relay only: the partner's OAuth token must never reach a browser.
//!
//! 1. `POST /api/v3/customers/{customerId}/carts`: a cart (`cartId`, else the last segment of Ion's
//!    resource `name`).
//! 2. `POST …/carts/{cartId}/cartItems` per line: `productId`, `quantity`, and the `attributes`
//!    provisioning needs (a licence's `domain`).
//! 3. `GET …/carts/{cartId}`, the review: any `errors` (missing configuration) stop the checkout; its
//!    `total` (a decimal in major units, the distributor's net pricebook) must equal the lines' totals
//!    the shopper saw (the catalog's terms), else `PRICE_CHANGED` with the items that differ.
//! 4. `POST …/carts/{cartId}:checkout` with the `poNumber`: one order, or a `listing` of one order per
//!    vendor. After a 5xx or no answer, the customer's orders are listed
//!    (`GET /api/v3/accounts/{accountId}/customers/{customerId}/orders`) and those of this cart taken,
//!    before the checkout is sent again.

use super::plan::{check_totals, expect_ok, id_at, invalid_response, look_after, major_to_minor, outcome_unknown};
use super::plan::{
    percent_encode, refuse_custom_lines, remote_cart, request, unconfirmed, with_bearer, PlacedOrder, RemoteRefs,
    RemoteTotals,
};
use super::plan::{HttpRequest, HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use crate::error::{CartError, ErrorCode, Result};
use serde_json::{json, Value};

const MAX_CHECKOUT_TRIES: u32 = 2;
/// How many pages of the customer's orders a lookup reads (100 orders each).
const MAX_PAGES: u32 = 50;

enum State {
    Start,
    Created,
    Adding {
        next: usize,
    },
    Reviewed,
    CheckedOut {
        total: i64,
        tries: u32,
    },
    /// The customer's orders, `pages` pages read before this one.
    Lookup {
        total: i64,
        tries: u32,
        pages: u32,
    },
    Finished,
}

pub struct DistributorV3 {
    input: SyncInput,
    refs: RemoteRefs,
    customer: String,
    cart_id: String,
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
            cart_id: String::new(),
            state: State::Start,
        })
    }

    fn carts(&self) -> String {
        format!("/api/v3/customers/{}/carts", self.customer)
    }

    fn cart(&self) -> String {
        format!("{}/{}", self.carts(), percent_encode(&self.cart_id))
    }

    fn send(&self, req: HttpRequest) -> Step {
        Step::Send(with_bearer(req, &self.input.token))
    }

    fn add_or_review(&mut self, next: usize) -> Step {
        match self.input.cart.line_items().get(next).zip(self.refs.lines.get(next)) {
            Some((line, product_id)) => {
                let body = json!({ "productId": product_id, "quantity": line.quantity, "attributes": line.attributes });
                self.state = State::Adding {
                    next: next.saturating_add(1),
                };
                self.send(request("POST", format!("{}/cartItems", self.cart()), Some(body)))
            }
            None => {
                self.state = State::Reviewed;
                self.send(request("GET", self.cart(), None))
            }
        }
    }

    /// The review's `total` and each item's `subTotal` by its product id, in minor units.
    fn totals(&self, cart: &Value) -> Result<RemoteTotals> {
        let digits = self.input.view.fraction_digits;
        let total = cart
            .get("total")
            .and_then(|v| major_to_minor(v, digits))
            .ok_or_else(|| invalid_response("review cart", "no total"))?;
        let lines = self.refs.line_totals(
            cart.get("cartItems"),
            |item, id| item.get("productId").and_then(Value::as_str) == Some(id),
            |item| major_to_minor(item.get("subTotal")?, digits),
        );
        Ok(RemoteTotals {
            cart_id: Some(self.cart_id.clone()),
            total,
            lines,
            lines_before_discounts: false,
            shipping: None,
        })
    }

    /// What the shopper saw in the distributor's terms: the lines' totals (no shipping, no tax).
    fn shown_lines_total(&self) -> Result<i64> {
        crate::money::sum(self.input.view.line_items.iter().map(|l| l.total))
    }

    fn checkout(&mut self, total: i64, tries: u32) -> Step {
        let body = match &self.input.po_number {
            Some(po) => json!({ "poNumber": po }),
            None => json!({}),
        };
        self.state = State::CheckedOut {
            total,
            tries: tries.saturating_add(1),
        };
        self.send(request("POST", format!("{}:checkout", self.cart()), Some(body)))
    }

    /// Lists the customer's orders (needs the account id); without one, whether the lost checkout
    /// went through cannot be found out here.
    /// `page`: the next page's token and how many pages were read before it.
    fn lookup(&mut self, total: i64, tries: u32, page: Option<(String, u32)>) -> Result<Step> {
        let account = self.input.account_id.clone().ok_or_else(|| {
            outcome_unknown(
                CartError::new(
                    ErrorCode::CheckoutFailed,
                    "the checkout's answer was lost and no accountId is configured to look it up",
                )
                .with_details(json!({ "step": "checkout", "remoteCartId": self.cart_id })),
            )
        })?;
        let pages = page.as_ref().map_or(0, |(_, pages)| *pages);
        self.state = State::Lookup { total, tries, pages };
        let mut path = format!(
            "/api/v3/accounts/{}/customers/{}/orders?pageSize=100",
            percent_encode(&account),
            self.customer
        );
        if let Some((token, _)) = &page {
            path.push_str(&format!("&pageToken={}", percent_encode(token)));
        }
        Ok(self.send(request("GET", path, None)))
    }

    fn placed(&self, orders: Vec<PlacedOrder>, total: i64) -> Step {
        Step::Done(SyncOutcome {
            protocol: Protocol::DistributorV3,
            remote_cart_id: Some(self.cart_id.clone()),
            remote_total: Some(total),
            orders,
            answer: None,
        })
    }
}

/// The last segment of an Ion resource name (`customers/7/carts/42` -> `42`).
fn last_segment(body: &Value) -> Option<String> {
    body.get("name")?
        .as_str()?
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn validation_errors(body: &Value) -> Option<&Value> {
    ["errors", "validationErrors"]
        .iter()
        .filter_map(|k| body.get(*k))
        .find(|v| v.as_array().is_some_and(|a| !a.is_empty()) || v.as_object().is_some_and(|o| !o.is_empty()))
}

/// One order: its `orderId` (else its resource name's last segment), vendor and number.
fn order_of(o: &Value) -> Option<PlacedOrder> {
    let order_id = id_at(o, &["/orderId", "/id"]).or_else(|| last_segment(o))?;
    let vendor = o
        .get("vendor")
        .or_else(|| o.pointer("/orderItems/0/providerName"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(PlacedOrder {
        order_id,
        vendor,
        order_number: id_at(o, &["/orderNumber"]),
    })
}

/// The checkout's answer: a `listing` (the seed: one order per vendor), `orders`, or one order.
fn orders_of(body: &Value) -> Option<Vec<PlacedOrder>> {
    let list = body
        .get("listing")
        .or_else(|| body.get("orders"))
        .and_then(Value::as_array);
    let orders: Vec<PlacedOrder> = match list {
        Some(list) => list.iter().filter_map(order_of).collect(),
        None => order_of(body).into_iter().collect(),
    };
    (!orders.is_empty()).then_some(orders)
}

impl Plan for DistributorV3 {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                self.state = State::Created;
                Ok(self.send(request("POST", self.carts(), Some(json!({})))))
            }
            State::Created => {
                let body = expect_ok("create cart", response)?.body;
                self.cart_id = id_at(&body, &["/cartId", "/id"])
                    .or_else(|| last_segment(&body))
                    .ok_or_else(|| invalid_response("create cart", "no cartId"))?;
                Ok(self.add_or_review(0))
            }
            State::Adding { next } => {
                expect_ok("add cart item", response)?;
                Ok(self.add_or_review(next))
            }
            State::Reviewed => {
                let body = expect_ok("review cart", response)?.body;
                if let Some(errors) = validation_errors(&body) {
                    return Err(CartError::new(
                        ErrorCode::CheckoutFailed,
                        "the distributor reports configuration errors",
                    )
                    .with_details(json!({ "step": "review cart", "errors": errors })));
                }
                let totals = self.totals(&body)?;
                let mut shown = self.input.view.clone();
                // The distributor prices the lines only (its net pricebook): compare like with like.
                shown.totals.total = self.shown_lines_total()?;
                check_totals("review cart", &totals, &shown)?;
                Ok(self.checkout(totals.total, 0))
            }
            State::CheckedOut { total, tries } => {
                let response = response.ok_or_else(|| invalid_response("checkout", "no response"))?;
                if look_after(response.status, tries) {
                    return self.lookup(total, tries, None);
                }
                let body = expect_ok("checkout", Some(response))?.body;
                match orders_of(&body) {
                    Some(orders) => Ok(self.placed(orders, total)),
                    // A 2xx naming no order: find the orders rather than guess.
                    None => self.lookup(total, tries, None),
                }
            }
            State::Lookup { total, tries, pages } => {
                let body = expect_ok("look up orders", response).map_err(outcome_unknown)?.body;
                let suffix = format!("/carts/{}", self.cart_id);
                let ours: Vec<PlacedOrder> = body
                    .get("orders")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .filter(|o| {
                        id_at(o, &["/cartId"]).as_deref() == Some(self.cart_id.as_str())
                            || o.get("referenceId")
                                .and_then(Value::as_str)
                                .is_some_and(|r| r.ends_with(&suffix))
                    })
                    .filter_map(order_of)
                    .collect();
                if !ours.is_empty() {
                    return Ok(self.placed(ours, total));
                }
                let next_page = body
                    .get("nextPageToken")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty());
                if let Some(token) = next_page.filter(|_| pages < MAX_PAGES) {
                    let page = (token.to_string(), pages.saturating_add(1));
                    return self.lookup(total, tries, Some(page));
                }
                if tries < MAX_CHECKOUT_TRIES {
                    return Ok(self.checkout(total, tries));
                }
                Err(unconfirmed(
                    "the distributor",
                    "checkout",
                    tries,
                    remote_cart(&self.cart_id),
                ))
            }
            State::Finished => Err(invalid_response("distributor-v3", "the plan is already finished")),
        }
    }

    fn no_answer(&mut self) -> Option<Result<Step>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::CheckedOut { total, tries } => Some(self.lookup(total, tries, None)),
            other => {
                self.state = other;
                None
            }
        }
    }
}
