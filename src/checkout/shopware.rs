//! The Shopware Store API (seed 003; the Store API OpenAPI schema shipped in `@shopware/api-client`),
//! browser-direct with the sales channel's public `sw-access-key`:
//!
//! 1. `POST /store-api/country` and `/currency` (and `/salutation`): the platform's ids of the cart's
//!    countries and currency, which the context and addresses need.
//! 2. `POST /store-api/account/register` with `guest: true` (unless a context token of a logged-in
//!    customer is given): `/checkout/order` refuses anonymous carts (403
//!    `CHECKOUT__CUSTOMER_NOT_LOGGED_IN`). The answer's `sw-context-token` is the guest's session.
//! 3. `PATCH /store-api/context`: the currency and the shipping method the shopper's total includes.
//! 4. `POST /store-api/checkout/cart/line-item`: products (each with the `id` the schema requires) and
//!    promotion codes. Only errors that block the order stop it: adding a code always yields a notice
//!    (`promotion-discount-added-…`, level 0, `block: false`). `price.totalPrice` (gross, what is
//!    charged) must equal what the shopper saw.
//! 5. `POST /store-api/checkout/order`. After a 5xx or no answer the guest's orders are listed
//!    (`POST /store-api/order`) before the order is asked for again.
//!
//! Every answer may rotate the context token (`sw-context-token` header); the newest is sent on.
//! Only the headers Shopware's CORS allows are sent (`sw-access-key`, `sw-context-token`,
//! `Content-Type`, `Accept`).

use super::plan::{check_totals, expect_ok, id_at, invalid_response, look_after, major_to_minor, outcome_unknown};
use super::plan::{refuse_custom_lines, request, street, unconfirmed, PlacedOrder, RemoteRefs, RemoteTotals};
use super::plan::{HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome};
use crate::cart::Address;
use crate::error::{CartError, ErrorCode, Result};
use serde_json::{json, Map, Value};

const MAX_ORDER_TRIES: u32 = 2;

enum State {
    Start,
    Countries,
    Currencies,
    Salutations,
    Registered,
    ContextSet,
    Filled,
    /// A logged-in customer's newest order before this one is being read.
    Baseline {
        total: i64,
    },
    Ordering {
        total: i64,
        tries: u32,
    },
    Lookup {
        total: i64,
        tries: u32,
    },
    Finished,
}

/// What the plan learnt from the platform on its way.
#[derive(Default)]
struct Ids {
    countries: Map<String, Value>,
    currency: Option<String>,
    salutation: Option<String>,
}

pub struct Shopware {
    input: SyncInput,
    refs: RemoteRefs,
    token: Option<String>,
    ids: Ids,
    /// The customer's newest order before this checkout (logged-in customers only).
    baseline: Option<String>,
    state: State,
}

impl Shopware {
    pub fn new(input: SyncInput, refs: RemoteRefs) -> Result<Self> {
        refuse_custom_lines(&input, "shopware")?;
        if input.access_key.as_deref().unwrap_or("").is_empty() {
            return Err(CartError::invalid_field(
                "accessKey",
                "shopware needs the sales channel's access key (sw-access-key)",
            ));
        }
        if input.token.is_none() {
            // Without a logged-in customer's context the plan registers a guest: check what that needs.
            let missing = guest_fields_missing(&input);
            if !missing.is_empty() {
                return Err(
                    CartError::invalid_request(format!("a shopware guest order needs {}", missing.join(", ")))
                        .with_details(json!({ "field": missing.first(), "missing": missing })),
                );
            }
        }
        let token = input.token.clone();
        Ok(Shopware {
            input,
            refs,
            token,
            ids: Ids::default(),
            baseline: None,
            state: State::Start,
        })
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Step {
        let mut req = request(method, format!("/store-api{path}"), body);
        if let Some(token) = &self.token {
            req.headers.insert("sw-context-token".into(), token.clone());
        }
        if let Some(key) = &self.input.access_key {
            req.headers.insert("sw-access-key".into(), key.clone());
        }
        Step::Send(req)
    }

    /// Takes the context token an answer carries (every Store API answer may rotate it).
    fn answered(&mut self, step: &str, response: Option<HttpResponse>) -> Result<Value> {
        let response = expect_ok(step, response)?;
        if let Some(token) = response.headers.get("sw-context-token").filter(|t| !t.is_empty()) {
            self.token = Some(token.clone());
        }
        Ok(response.body)
    }

    fn countries(&self) -> Vec<String> {
        let cart = &self.input.cart;
        let mut isos: Vec<String> = [cart.shipping_address(), cart.billing_address()]
            .into_iter()
            .flatten()
            .map(|a| a.country.clone())
            .chain(cart.country().map(str::to_string))
            .collect();
        isos.sort();
        isos.dedup();
        isos
    }

    fn country_id(&self, iso: &str) -> Result<Value> {
        self.ids.countries.get(iso).cloned().ok_or_else(|| {
            CartError::new(ErrorCode::CheckoutFailed, format!("the shop does not sell to {iso}"))
                .with_details(json!({ "step": "countries", "country": iso }))
        })
    }

    /// A Store API address from the cart's (its `street` is street name and number).
    fn address(&self, a: &Address) -> Result<Value> {
        let mut out = Map::new();
        out.insert("firstName".into(), json!(a.first_name));
        out.insert("lastName".into(), json!(a.last_name));
        out.insert("street".into(), json!(street(a)));
        out.insert("city".into(), json!(a.city));
        out.insert("countryId".into(), self.country_id(&a.country)?);
        let mut put = |k: &str, v: Option<&String>| {
            if let Some(v) = v {
                out.insert(k.to_string(), json!(v));
            }
        };
        put("zipcode", a.postal_code.as_ref());
        put("company", a.company.as_ref());
        put("phoneNumber", a.phone.as_ref());
        put("additionalAddressLine1", a.additional_street_info.as_ref());
        put("salutationId", self.ids.salutation.as_ref());
        Ok(Value::Object(out))
    }

    fn registration(&self) -> Result<Value> {
        let cart = &self.input.cart;
        let shipping = cart
            .shipping_address()
            .ok_or_else(|| CartError::invalid_field("shippingAddress", "a shipping address is required"))?;
        let billing = cart.billing_address().unwrap_or(shipping);
        let mut body = Map::new();
        body.insert("guest".into(), json!(true));
        let email = cart.customer().email.clone().or_else(|| shipping.email.clone());
        body.insert("email".into(), json!(email));
        body.insert("firstName".into(), json!(shipping.first_name));
        body.insert("lastName".into(), json!(shipping.last_name));
        body.insert("acceptedDataProtection".into(), json!(true));
        body.insert("storefrontUrl".into(), json!(self.input.storefront_url));
        body.insert("billingAddress".into(), self.address(billing)?);
        if cart.billing_address().is_some_and(|b| b != shipping) {
            body.insert("shippingAddress".into(), self.address(shipping)?);
        }
        if let Some(id) = &self.ids.salutation {
            body.insert("salutationId".into(), json!(id));
        }
        Ok(Value::Object(body))
    }

    fn context(&self) -> Value {
        let mut body = Map::new();
        if let Some(id) = &self.ids.currency {
            body.insert("currencyId".into(), json!(id));
        }
        if let Some(id) = &self.refs.shipping_method {
            body.insert("shippingMethodId".into(), json!(id));
        }
        Value::Object(body)
    }

    fn items(&self) -> Value {
        let cart = &self.input.cart;
        let mut items: Vec<Value> = cart
            .line_items()
            .iter()
            .zip(&self.refs.lines)
            .map(|(l, id)| json!({ "id": id, "type": "product", "referencedId": id, "quantity": l.quantity }))
            .collect();
        items.extend(
            cart.discount_codes()
                .iter()
                .map(|c| json!({ "id": c, "type": "promotion", "referencedId": c })),
        );
        json!({ "items": items })
    }

    /// `price.totalPrice` and each product line's and the delivery's `totalPrice`, in minor units.
    fn totals(&self, body: &Value) -> Result<RemoteTotals> {
        let digits = self.input.view.fraction_digits;
        let total = body
            .pointer("/price/totalPrice")
            .and_then(|v| major_to_minor(v, digits))
            .ok_or_else(|| invalid_response("add line items", "no price.totalPrice"))?;
        let lines = self.refs.line_totals(
            body.get("lineItems"),
            |line, id| line.get("referencedId").and_then(Value::as_str) == Some(id),
            |line| major_to_minor(line.pointer("/price/totalPrice")?, digits),
        );
        let shipping = body
            .pointer("/deliveries/0/shippingCosts/totalPrice")
            .and_then(|v| major_to_minor(v, digits));
        Ok(RemoteTotals {
            cart_id: None,
            total,
            lines,
            lines_before_discounts: true,
            shipping,
        })
    }

    fn order(&mut self, total: i64, tries: u32) -> Step {
        self.state = State::Ordering {
            total,
            tries: tries.saturating_add(1),
        };
        self.send("POST", "/checkout/order", Some(json!({})))
    }

    fn lookup(&mut self, total: i64, tries: u32) -> Step {
        self.state = State::Lookup { total, tries };
        self.send("POST", "/order", Some(newest_order()))
    }

    fn placed(&self, order: &Value, total: i64) -> Result<Step> {
        let order_id = id_at(order, &["/id"]).ok_or_else(|| invalid_response("create order", "no id"))?;
        Ok(Step::Done(SyncOutcome {
            protocol: Protocol::Shopware,
            remote_cart_id: None,
            remote_total: Some(total),
            orders: vec![PlacedOrder {
                order_id,
                vendor: None,
                order_number: id_at(order, &["/orderNumber"]),
            }],
            answer: None,
        }))
    }

    /// After the ids: register a guest unless a customer's context token was given.
    fn register_or_set_context(&mut self) -> Result<Step> {
        if self.input.token.is_none() {
            self.state = State::Registered;
            let body = self.registration()?;
            return Ok(self.send("POST", "/account/register", Some(body)));
        }
        self.state = State::ContextSet;
        Ok(self.send("PATCH", "/context", Some(self.context())))
    }
}

/// What a guest registration needs from the cart (`account/register`: email, names, street, city).
fn guest_fields_missing(input: &SyncInput) -> Vec<&'static str> {
    let cart = &input.cart;
    let mut missing = Vec::new();
    let Some(a) = cart.shipping_address() else {
        return vec!["shippingAddress"];
    };
    if cart.customer().email.is_none() && a.email.is_none() {
        missing.push("email");
    }
    let fields = [
        ("shippingAddress.firstName", &a.first_name),
        ("shippingAddress.lastName", &a.last_name),
        ("shippingAddress.streetName", &a.street_name),
        ("shippingAddress.city", &a.city),
    ];
    missing.extend(fields.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k));
    if input.storefront_url.is_none() {
        missing.push("storefrontUrl");
    }
    missing
}

/// The cart errors that block the order: `block: true`, or (without `block`) level 20 = error.
/// Notices (0) and warnings (10), such as "promotion discount added", do not.
fn blocking_errors(cart: &Value) -> Vec<Value> {
    cart_errors(cart)
        .into_iter()
        .filter(|e| match e.get("block").and_then(Value::as_bool) {
            Some(block) => block,
            None => e.get("level").and_then(Value::as_f64).is_some_and(|l| l >= 20.0),
        })
        .cloned()
        .collect()
}

/// Criteria for the customer's newest order (`POST /store-api/order`).
fn newest_order() -> Value {
    json!({ "limit": 1, "sort": [{ "field": "orderDateTime", "order": "DESC" }] })
}

/// The cart's errors.
fn cart_errors(cart: &Value) -> Vec<&Value> {
    match cart.get("errors") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(Value::Object(map)) => map.values().collect(),
        _ => Vec::new(),
    }
}

/// Codes the shop does not know (`promotion-not-found`, level 20 but `block: false`: Shopware drops
/// the code and would take the order without its discount).
fn unknown_codes(cart: &Value) -> Vec<Value> {
    cart_errors(cart)
        .into_iter()
        .filter(|e| {
            e.get("messageKey")
                .or_else(|| e.get("key"))
                .and_then(Value::as_str)
                .is_some_and(|k| k.starts_with("promotion-not-found") || k.starts_with("promotion-code-not-found"))
        })
        .cloned()
        .collect()
}

/// `/checkout/order` refuses a cart with blocking errors with a 500 `CHECKOUT__CART_INVALID`
/// (`CartException::invalidCart`): a definite refusal, nothing was ordered.
fn is_invalid_cart(response: &HttpResponse) -> bool {
    response.body.pointer("/errors/0/code").and_then(Value::as_str) == Some("CHECKOUT__CART_INVALID")
}

/// `elements[]` of a Store API list answer (also a bare array).
fn elements(body: &Value) -> &[Value] {
    body.get("elements")
        .or(Some(body))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

impl Plan for Shopware {
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => {
                self.state = State::Countries;
                let filter = json!({ "filter": [{ "type": "equalsAny", "field": "iso", "value": self.countries() }] });
                Ok(self.send("POST", "/country", Some(filter)))
            }
            State::Countries => {
                let body = self.answered("countries", response)?;
                for c in elements(&body) {
                    if let (Some(iso), Some(id)) = (c.get("iso").and_then(Value::as_str), c.get("id")) {
                        self.ids.countries.insert(iso.to_string(), id.clone());
                    }
                }
                for iso in self.countries() {
                    self.country_id(&iso)?;
                }
                self.state = State::Currencies;
                Ok(self.send("POST", "/currency", Some(json!({}))))
            }
            State::Currencies => {
                let body = self.answered("currencies", response)?;
                let currency = self.input.cart.currency();
                let id = elements(&body)
                    .iter()
                    .find(|c| c.get("isoCode").and_then(Value::as_str) == Some(currency))
                    .and_then(|c| id_at(c, &["/id"]))
                    .ok_or_else(|| {
                        CartError::new(
                            ErrorCode::CheckoutFailed,
                            format!("the shop does not sell in {currency}"),
                        )
                        .with_details(json!({ "step": "currencies", "currency": currency }))
                    })?;
                self.ids.currency = Some(id);
                if self.input.token.is_some() {
                    return self.register_or_set_context();
                }
                self.state = State::Salutations;
                Ok(self.send("POST", "/salutation", Some(json!({}))))
            }
            State::Salutations => {
                let body = self.answered("salutations", response)?;
                self.ids.salutation = elements(&body)
                    .iter()
                    .find(|s| s.get("salutationKey").and_then(Value::as_str) == Some("not_specified"))
                    .and_then(|s| id_at(s, &["/id"]));
                self.register_or_set_context()
            }
            State::Registered => {
                self.answered("register guest", response)?;
                self.state = State::ContextSet;
                Ok(self.send("PATCH", "/context", Some(self.context())))
            }
            State::ContextSet => {
                self.answered("set context", response)?;
                self.state = State::Filled;
                Ok(self.send("POST", "/checkout/cart/line-item", Some(self.items())))
            }
            State::Filled => {
                let body = self.answered("add line items", response)?;
                let unknown = unknown_codes(&body);
                if !unknown.is_empty() {
                    return Err(
                        CartError::new(ErrorCode::InvalidPromoCode, "the shop does not know a code")
                            .with_details(json!({ "step": "add line items", "errors": unknown })),
                    );
                }
                let blocking = blocking_errors(&body);
                if !blocking.is_empty() {
                    return Err(CartError::new(
                        ErrorCode::CheckoutFailed,
                        "the shop reports errors that block the order",
                    )
                    .with_details(json!({ "step": "add line items", "errors": blocking })));
                }
                let totals = self.totals(&body)?;
                check_totals("add line items", &totals, &self.input.view)?;
                if self.input.token.is_some() {
                    // A customer's context: note their newest order, so a lookup cannot take it for this one.
                    self.state = State::Baseline { total: totals.total };
                    return Ok(self.send("POST", "/order", Some(newest_order())));
                }
                Ok(self.order(totals.total, 0))
            }
            State::Baseline { total } => {
                let body = self.answered("list orders", response)?;
                self.baseline = body.pointer("/orders/elements/0").and_then(|o| id_at(o, &["/id"]));
                Ok(self.order(total, 0))
            }
            State::Ordering { total, tries } => {
                let response = response.ok_or_else(|| invalid_response("create order", "no response"))?;
                if look_after(response.status, tries) && !is_invalid_cart(&response) {
                    return Ok(self.lookup(total, tries));
                }
                let body = self.answered("create order", Some(response))?;
                self.placed(&body, total).map_err(outcome_unknown)
            }
            State::Lookup { total, tries } => {
                let body = self.answered("look up order", response).map_err(outcome_unknown)?;
                // The customer's newest order is this checkout's only if it is newer than the newest
                // one before the order (a logged-in customer has older ones; a new guest has none) and
                // charged this total.
                let digits = self.input.view.fraction_digits;
                let ours = body.pointer("/orders/elements/0").filter(|order| {
                    id_at(order, &["/id"]) != self.baseline
                        && order
                            .get("amountTotal")
                            .or_else(|| order.pointer("/price/totalPrice"))
                            .and_then(|v| major_to_minor(v, digits))
                            == Some(total)
                });
                match ours {
                    Some(order) => self.placed(order, total).map_err(outcome_unknown),
                    None if tries < MAX_ORDER_TRIES => Ok(self.order(total, tries)),
                    None => Err(unconfirmed("shopware", "create order", tries, Map::new())),
                }
            }
            State::Finished => Err(invalid_response("shopware", "the plan is already finished")),
        }
    }

    fn no_answer(&mut self) -> Option<Result<Step>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Ordering { total, tries } => Some(Ok(self.lookup(total, tries))),
            other => {
                self.state = other;
                None
            }
        }
    }
}
