//! Syncing a cart to another cart API (DESIGN §8 "other protocols"). Each protocol is a small state
//! machine in pure Rust: it says which HTTP request to send next, reads the response, and ends with the
//! placed order(s). The web layer only executes the requests (fetch), so every protocol is tested
//! natively against canned responses, and the browser and a server-side sync job share one code path.
//!
//! ```text
//! let mut plan = plan_for(Protocol::Commercetools, input)?;
//! let mut response = None;
//! loop {
//!     match plan.next(response.take())? {
//!         Step::Send(request) => response = Some(execute(request)),
//!         Step::Done(outcome) => break outcome,
//!     }
//! }
//! ```

use crate::cart::CartState;
use crate::catalog::Catalog;
use crate::error::{CartError, ErrorCode, Result};
use crate::money;
use crate::pricing::CartView;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The cart APIs a cart can be sent to besides SPEC-B (which the web layer speaks directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Seed 001, the default: one checkout request with an idempotency key ([`super::spec_b_plan`]).
    SpecB,
    /// Seed 000: customer carts, cart items with attributes, `:checkout` with `poNumber`.
    DistributorV3,
    /// Seed 004: `POST /me/carts` with everything, then `POST /me/orders`.
    Commercetools,
    /// Seed 003: line items (products and promotion codes) under a context token, then the order.
    Shopware,
    /// Seed 002, the Sylius admin API v1 (relay only: an admin token): cart, items, the checkout steps.
    Sylius,
    /// The Sylius shop API v2 (`/api/v2/shop/orders`), for guests: no token at all.
    SyliusShop,
}

impl Protocol {
    /// The protocol's name, as in the `protocol` option and as the key of a catalog's `external` ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::SpecB => "spec-b",
            Protocol::DistributorV3 => "distributor-v3",
            Protocol::Commercetools => "commercetools",
            Protocol::Shopware => "shopware",
            Protocol::Sylius => "sylius",
            Protocol::SyliusShop => "sylius-shop",
        }
    }

    /// Whether a browser may run this protocol itself. The Sylius admin API and the distributor's
    /// partner API need credentials that must never reach a browser: cart-server relays them.
    pub fn runs_in_browser(self) -> bool {
        !matches!(self, Protocol::Sylius | Protocol::DistributorV3)
    }

    /// Whether the platform's ids are its own (Shopware's UUIDs), so that every product and shipping
    /// method needs an `external` id; the others fall back to the SKU and the method id.
    fn needs_external_ids(self) -> bool {
        matches!(self, Protocol::Shopware)
    }

    pub fn parse(name: &str) -> Result<Protocol> {
        crate::tracked::from_value(&Value::String(name.to_string())).map_err(|_| {
            CartError::invalid_request(format!(
                "unknown protocol {name}; expected spec-b, commercetools, shopware, sylius-shop, sylius or distributor-v3"
            ))
            .with_details(json!({ "field": "protocol", "value": name }))
        })
    }
}

/// One HTTP request to send. `path` is relative to the endpoint the caller configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
}

/// What came back. Header names are lower-case; a body that is empty or not JSON is `null`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Value,
}

/// One order the remote system created (one per vendor with the distributor API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacedOrder {
    pub order_id: String,
    pub vendor: Option<String>,
    pub order_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOutcome {
    pub protocol: Protocol,
    /// The cart's id on the remote system.
    pub remote_cart_id: Option<String>,
    /// The remote system's total, in minor units, when it reports one (it matched ours).
    pub remote_total: Option<i64>,
    pub orders: Vec<PlacedOrder>,
    /// The remote system's answer, when the checkout resolves with it as it is (SPEC-B's order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
}

pub enum Step {
    Send(HttpRequest),
    Done(SyncOutcome),
}

/// What a protocol needs besides the cart: who orders, how to authenticate, and the view the shopper
/// saw (its total is compared with the remote system's).
#[derive(Debug, Clone)]
pub struct SyncInput {
    pub cart: CartState,
    pub view: CartView,
    pub customer_id: Option<String>,
    pub po_number: Option<String>,
    /// Bearer token (distributor, commercetools) or context token (Shopware).
    pub token: Option<String>,
    /// Shopware's `sw-access-key`.
    pub access_key: Option<String>,
    /// Sylius channel code.
    pub channel: Option<String>,
    /// Shopware's `storefrontUrl` for a guest registration: one of the sales channel's domains.
    pub storefront_url: Option<String>,
    /// The platform's payment method (Sylius: its code).
    pub payment_method: Option<String>,
    /// The distributor's account (Ion: `accounts/{accountId}`), to look up orders.
    pub account_id: Option<String>,
}

pub trait Plan: Send {
    /// The next request, given the response to the previous one (`None` on the first call).
    fn next(&mut self, response: Option<HttpResponse>) -> Result<Step>;

    /// The last request got no answer at all (network error, timeout) after its retries. A plan whose
    /// request may have taken effect anyway (an order placed) returns the step that finds out; `None`
    /// ends the checkout with the network error.
    fn no_answer(&mut self) -> Option<Result<Step>> {
        None
    }

    /// The cart the server created for this checkout, once known (SPEC-B servers that keep their own
    /// cart ids): the session keeps it in the checkout record so a resend reuses it.
    fn remote_cart(&self) -> Option<&str> {
        None
    }
}

/// How the platform names what the cart holds: one reference per line item (its SKU, variant code or
/// product id there) and the shipping method whose price the shopper's total includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteRefs {
    pub lines: Vec<String>,
    pub shipping_method: Option<String>,
}

impl RemoteRefs {
    /// Reads the catalog's `external` ids for `protocol` (a variant's own, else its product's for the
    /// master variant); without one, the line's SKU and the method's id, unless the platform's ids are
    /// its own ([`Protocol::needs_external_ids`]): then `INVALID_REQUEST` names what lacks one.
    pub fn resolve(protocol: Protocol, catalog: &Catalog, cart: &CartState, view: &CartView) -> Result<RemoteRefs> {
        let name = protocol.as_str();
        let missing = |what: Value| {
            CartError::invalid_request(format!("the catalog has no {name} id for {what}"))
                .with_details(json!({ "field": format!("external.{name}"), "missing": what }))
        };
        if view.deliveries.len() > 1 {
            // The platform protocols set one shipping method on a platform cart (commercetools'
            // single shipping mode, a Shopware context, a Sylius shipment).
            return Err(CartError::invalid_request(format!(
                "a cart shipped in {} deliveries cannot be ordered with the {name} protocol, which sends one shipping method",
                view.deliveries.len()
            ))
            .with_details(json!({ "field": "deliveries", "value": view.deliveries.len() })));
        }
        let mut lines = Vec::with_capacity(cart.line_items().len());
        for line in cart.line_items() {
            let product = catalog.product(&line.product_id);
            let external = match line.variant_id {
                Some(v) => product.and_then(|p| p.variant(v)).and_then(|v| v.external.get(name)),
                None => product.and_then(|p| p.external.get(name)),
            };
            lines.push(match external {
                Some(id) => id.clone(),
                None if protocol.needs_external_ids() => {
                    return Err(missing(
                        json!({ "productId": line.product_id, "variantId": line.variant_id }),
                    ))
                }
                None => line.sku.to_string(),
            });
        }
        let shipping_method = match &view.shipping {
            None => None,
            Some(shipping) => {
                let external = catalog
                    .shipping_method(&shipping.method_id)
                    .and_then(|m| m.external.get(name));
                Some(match external {
                    Some(id) => id.clone(),
                    None if protocol.needs_external_ids() => {
                        return Err(missing(json!({ "shippingMethodId": shipping.method_id })))
                    }
                    None => shipping.method_id.clone(),
                })
            }
        };
        Ok(RemoteRefs { lines, shipping_method })
    }
}

/// The plan for `protocol`, with the catalog's ids for that platform ([`RemoteRefs::resolve`]).
pub fn plan_for(protocol: Protocol, input: SyncInput, catalog: &Catalog) -> Result<Box<dyn Plan>> {
    let refs = RemoteRefs::resolve(protocol, catalog, &input.cart, &input.view)?;
    Ok(match protocol {
        Protocol::SpecB => {
            return Err(CartError::invalid_request(
                "a spec-b checkout is built from its checkout record (checkout::spec_b_plan::SpecB)",
            ))
        }
        Protocol::Commercetools => Box::new(super::commercetools::Commercetools::new(input, refs)?),
        Protocol::Shopware => Box::new(super::shopware::Shopware::new(input, refs)?),
        Protocol::SyliusShop => Box::new(super::sylius_shop::SyliusShop::new(input, refs)?),
        #[cfg(feature = "relay")]
        Protocol::DistributorV3 => Box::new(super::distributor_v3::DistributorV3::new(input, refs)?),
        #[cfg(feature = "relay")]
        Protocol::Sylius => Box::new(super::sylius::Sylius::new(input, refs)?),
        // Relay-only protocols are built into cart-server (feature `relay`), not into the browser package.
        #[cfg(not(feature = "relay"))]
        Protocol::DistributorV3 | Protocol::Sylius => {
            return Err(CartError::invalid_request(format!(
                "protocol {} is relay-only: this build has no plan for it (feature `relay`)",
                protocol.as_str()
            )))
        }
    })
}

pub(crate) fn request(method: &str, path: String, body: Option<Value>) -> HttpRequest {
    let mut headers = BTreeMap::new();
    headers.insert("Accept".to_string(), "application/json".to_string());
    if body.is_some() {
        headers.insert("Content-Type".to_string(), "application/json".to_string());
    }
    HttpRequest {
        method: method.to_string(),
        path,
        headers,
        body,
    }
}

pub(crate) fn with_bearer(mut req: HttpRequest, token: &Option<String>) -> HttpRequest {
    if let Some(token) = token {
        req.headers
            .insert("Authorization".to_string(), format!("Bearer {token}"));
    }
    req
}

/// The response, if it is a success; otherwise `CHECKOUT_FAILED` carrying the status and body (and the
/// remote error code when the body has one, e.g. `{"error": {"code": "PAYMENT_FAILED"}}`).
pub(crate) fn expect_ok(step: &str, response: Option<HttpResponse>) -> Result<HttpResponse> {
    let response = response.ok_or_else(|| invalid_response(step, "no response"))?;
    if (200..300).contains(&response.status) {
        return Ok(response);
    }
    let remote = response
        .body
        .pointer("/error/code")
        .or_else(|| response.body.pointer("/errors/0/code"))
        .or_else(|| response.body.get("code"))
        .cloned();
    Err(CartError::new(
        ErrorCode::CheckoutFailed,
        format!("{step} failed with HTTP {}", response.status),
    )
    .with_details(json!({ "step": step, "status": response.status, "remoteCode": remote, "body": response.body })))
}

pub(crate) fn invalid_response(step: &str, what: &str) -> CartError {
    CartError::new(ErrorCode::InvalidResponse, format!("{step}: {what}")).with_details(json!({ "step": step }))
}

/// A string or number field, as text (ids come as either).
pub(crate) fn id_at(body: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| match body.pointer(p)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A decimal amount in major units (a JSON number or string) as minor units of the cart currency.
pub(crate) fn major_to_minor(value: &Value, digits: u32) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let decimal = money::parse_decimal(&text)?;
    money::to_minor(decimal, digits, money::RoundingMode::HalfEven).ok()
}

/// What the platform says the order costs: its total (gross, what the shopper pays) and, where it
/// reports them, each line's total by cart line index and the shipping price.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RemoteTotals {
    /// The platform's id of the cart it priced (in the details, for support and logs).
    pub cart_id: Option<String>,
    pub total: i64,
    pub lines: Vec<(usize, i64)>,
    /// The platform's line totals are before discounts (Shopware keeps discounts on lines of their own).
    pub lines_before_discounts: bool,
    pub shipping: Option<i64>,
}

/// `PRICE_CHANGED` unless the platform's total equals what the shopper saw; the details list every
/// line (and the shipping) whose amount differs, so the storefront can say what moved.
pub(crate) fn check_totals(step: &str, remote: &RemoteTotals, view: &CartView) -> Result<()> {
    if remote.total == view.totals.total {
        return Ok(());
    }
    let lines: Vec<Value> = remote
        .lines
        .iter()
        .filter_map(|&(index, actual)| {
            let line = view.line_items.get(index)?;
            let expected = if remote.lines_before_discounts {
                line.base_total
            } else {
                line.total
            };
            (expected != actual)
                .then(|| json!({ "lineId": line.id, "sku": line.sku, "expected": expected, "actual": actual }))
        })
        .collect();
    let mut details = Map::new();
    details.insert("step".into(), json!(step));
    details.insert("expected".into(), json!(view.totals.total));
    details.insert("actual".into(), json!(remote.total));
    details.insert("currency".into(), json!(view.currency));
    details.insert("lines".into(), Value::Array(lines));
    if let Some(id) = &remote.cart_id {
        details.insert("remoteCartId".into(), json!(id));
    }
    let shown_shipping = view.shipping.as_ref().map(|s| s.total);
    if let (Some(actual), Some(expected)) = (remote.shipping, shown_shipping) {
        if actual != expected {
            details.insert("shipping".into(), json!({ "expected": expected, "actual": actual }));
        }
    }
    Err(CartError::new(
        ErrorCode::PriceChanged,
        format!("{step}: the platform's total differs from the cart's"),
    )
    .with_details(Value::Object(details)))
}

impl RemoteRefs {
    /// Each cart line's total on the platform, by cart line index: the first of `items` that `names`
    /// says is the line's reference, read with `amount`. Lines the platform does not list are left out.
    pub(crate) fn line_totals(
        &self,
        items: Option<&Value>,
        names: impl Fn(&Value, &str) -> bool,
        amount: impl Fn(&Value) -> Option<i64>,
    ) -> Vec<(usize, i64)> {
        let items = items.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, reference)| {
                let item = items.iter().find(|item| names(item, reference))?;
                Some((i, amount(item)?))
            })
            .collect()
    }
}

/// The street line of an address, as Shopware and Sylius take it: street name and number.
pub(crate) fn street(a: &crate::cart::Address) -> String {
    [a.street_name.as_deref(), a.street_number.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encodes a path segment or query value: everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The HTTP status of an answer that may have come after the request took effect (a gateway or
/// server error): the plan looks before it tries again.
pub(crate) fn is_unknown_outcome(status: u16) -> bool {
    status >= 500
}

/// Whether the answer to the request that places the order sends the plan to look it up: a 5xx, or
/// any refusal of a second try (the platform may be refusing to order twice what the first placed).
pub(crate) fn look_after(status: u16, tries: u32) -> bool {
    is_unknown_outcome(status) || (tries > 1 && !(200..300).contains(&status))
}

/// Marks an error after which an order may exist on the platform (a lookup that failed, tries spent
/// while lookups found nothing, an answer that confirms nothing): `details.outcome: "unknown"`. The
/// session keeps a SPEC-B record for it; the relay stores it under the key and blocks the cart, so
/// nothing ever orders it a second time ([`is_outcome_unknown`]).
pub fn outcome_unknown(mut e: CartError) -> CartError {
    let mut details = match std::mem::take(&mut e.details) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    details.insert("outcome".into(), json!("unknown"));
    e.details = Value::Object(details);
    e
}

/// The plan asked as often as it may and no lookup found the order: an unknown outcome naming the
/// platform's step, how often it was tried, and the platform's cart (`details`).
pub(crate) fn unconfirmed(platform: &str, step: &str, tries: u32, mut details: Map<String, Value>) -> CartError {
    details.insert("step".into(), json!(step));
    details.insert("tries".into(), json!(tries));
    outcome_unknown(
        CartError::new(
            ErrorCode::CheckoutFailed,
            format!("{platform} confirmed no order after every try"),
        )
        .with_details(Value::Object(details)),
    )
}

/// `{"remoteCartId": id}`, the details that name the platform's cart.
pub(crate) fn remote_cart(id: &str) -> Map<String, Value> {
    let mut details = Map::new();
    details.insert("remoteCartId".into(), json!(id));
    details
}

pub fn is_outcome_unknown(e: &CartError) -> bool {
    e.details.get("outcome").and_then(Value::as_str) == Some("unknown")
}

/// The protocols that cannot carry custom line items refuse such a cart up front, before any request.
pub(crate) fn refuse_custom_lines(input: &SyncInput, protocol: &str) -> Result<()> {
    if input.cart.custom_line_items().is_empty() {
        Ok(())
    } else {
        Err(CartError::invalid_request(format!(
            "{protocol} cannot carry custom line items"
        )))
    }
}
