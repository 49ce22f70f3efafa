//! The browser's half of checkout (DESIGN §8), as plain functions the web layer drives: what is
//! persisted while an order is on its way (`<storageKey>:checkout`), the order archive
//! (`<storageKey>:orders`), the retry policy (backoff with jitter, `Retry-After`,
//! `X-RateLimit-Reset`), how an HTTP answer is classified, and the "accepted quote" that
//! `acceptServerPrices` keeps after a `PRICE_CHANGED`.
//!
//! Nothing here does I/O or reads a clock; `src/session/checkout.rs` runs the flow and `src/web/`
//! carries out its requests, waits and writes. docs/checkout.md describes the behaviour end to end.

use crate::cart::{CartState, CartStatus};
use crate::error::{CartError, ErrorCode, Result};
use crate::pricing::{CartView, LineView};
use crate::text::Text;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::spec_b::ExpectedTotals;

/// The version of the persisted checkout record.
pub const RECORD_SCHEMA: u32 = 1;

/// How many orders `<storageKey>:orders` keeps (the oldest are dropped first).
pub const ARCHIVE_LIMIT: usize = 20;

/// Where the order on its way is kept: `<storageKey>:checkout`.
pub fn record_key(key: &str) -> String {
    format!("{key}:checkout")
}

/// The order archive: `<storageKey>:orders`, a JSON array, newest last.
pub fn orders_key(key: &str) -> String {
    format!("{key}:orders")
}

/// Where a checkout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordState {
    /// A `checkout()` is sending it (or the page that was sending it went away before the answer).
    /// Sent again automatically at the next `Cart.open`, with the same key.
    Sending,
    /// Queued while offline (`whenOffline: "queue"`); sent on the `online` event or at the next open.
    Queued,
    /// The last attempt ended without an answer (network, timeout, 5xx after every retry): whether the
    /// order was placed is unknown. Never sent on its own; a checkout of the unchanged cart (or
    /// `resumeCheckout()`) reuses its key, so the server answers with the order if there is one.
    Failed,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Sending => "sending",
            RecordState::Queued => "queued",
            RecordState::Failed => "failed",
        }
    }
}

/// A SPEC-B checkout on its way, persisted beside the cart so that a reload resumes it with the same
/// idempotency key. The key belongs to one request: the same cart id, version, endpoint and body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutRecord {
    pub schema: u32,
    pub state: RecordState,
    pub cart_id: String,
    pub version: u64,
    pub idempotency_key: String,
    /// The API base, e.g. `/api/v1` or `https://shop.example/api/v1`.
    pub endpoint: String,
    /// The request body exactly as sent (DESIGN §8).
    pub body: Value,
    /// The cart as it was when the order was placed (archived with the order).
    pub cart: CartState,
    pub created_at: Timestamp,
    /// Requests sent so far under this key (all pages together).
    #[serde(default)]
    pub attempts: u32,
    /// The cart the server created for this checkout, when it keeps its own cart ids (a server that
    /// follows seed 001 as written; [`super::spec_b_plan`]): a resend checks out that cart again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cart_id: Option<String>,
    /// The secret that owns this cart's server cart and order (`X-Cart-Secret`): one per cart id, kept
    /// by every record of that cart, so an order placed by an attempt whose answer was lost can be read
    /// by a later one. Empty in records written before it existed (sent without the header).
    #[serde(default)]
    pub secret: String,
}

impl CheckoutRecord {
    /// Reads a stored record; anything unreadable (or from another schema) is `None`: a record is a
    /// cache of an intent, and a broken one must not block checkout.
    pub fn decode(text: &str) -> Option<CheckoutRecord> {
        crate::tracked::from_str::<CheckoutRecord>(text)
            .ok()
            .filter(|r| r.schema == RECORD_SCHEMA)
    }

    pub fn encode(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| CartError::invalid_request(format!("checkout record: {e}")))
    }

    /// Whether this record is the request about to be sent, so its key must be reused.
    pub fn is_same_request(&self, cart_id: &str, version: u64, endpoint: &str, body: &Value) -> bool {
        self.cart_id == cart_id && self.version == version && self.endpoint == endpoint && self.body == *body
    }

    /// `{endpoint}/carts/{cartId}/checkout`.
    pub fn url(&self) -> String {
        checkout_url(&self.endpoint, &self.cart_id)
    }
}

/// `{endpoint}/carts/{cartId}/checkout`, the cart id percent-encoded where needed.
pub fn checkout_url(endpoint: &str, cart_id: &str) -> String {
    format!(
        "{}/carts/{}/checkout",
        endpoint.trim_end_matches('/'),
        path_segment(cart_id)
    )
}

/// `{endpoint}/orders/{orderId}`.
pub fn order_url(endpoint: &str, order_id: &str) -> String {
    format!("{}/orders/{}", endpoint.trim_end_matches('/'), path_segment(order_id))
}

/// Percent-encodes everything but unreserved characters (RFC 3986) and `:`.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------- retries

/// When to try again: exponential backoff with "equal jitter" (half the step fixed, half random),
/// never shorter than what the server asked for (`Retry-After`, `X-RateLimit-Reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `retries + 1` attempts at most).
    pub retries: u32,
    /// The first step; each retry doubles it.
    pub base_delay_ms: u64,
    /// No single wait is longer. A server asking for more ends the retries.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            base_delay_ms: 500,
            max_delay_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// The backoff after failed attempt `attempt` (0 = the first), `jitter` in `[0, 1)`:
    /// `step/2 + jitter × step/2` with `step = min(base × 2^attempt, max)`.
    pub fn backoff_ms(&self, attempt: u32, jitter: f64) -> u64 {
        let factor = 1u64.checked_shl(attempt.min(40)).unwrap_or(u64::MAX);
        let step = self.base_delay_ms.saturating_mul(factor).min(self.max_delay_ms);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = step / 2;
        // `half` is at most max_delay_ms / 2, far below 2^53: the float round trip is exact.
        half.saturating_add((half as f64 * jitter) as u64)
    }

    /// How long to wait before the next attempt after failed attempt `attempt`, given the server's
    /// hint (`Retry-After` / `X-RateLimit-Reset`, in milliseconds). `None`: stop (no retries left,
    /// or the server asks for a longer wait than `max_delay_ms`).
    pub fn delay_ms(&self, attempt: u32, hint_ms: Option<u64>, jitter: f64) -> Option<u64> {
        if attempt >= self.retries {
            return None;
        }
        let backoff = self.backoff_ms(attempt, jitter);
        match hint_ms {
            Some(hint) if hint > self.max_delay_ms => None,
            Some(hint) => Some(hint.max(backoff)),
            None => Some(backoff),
        }
    }
}

/// `Retry-After`: delta-seconds (`"120"`) or an HTTP date (`"Wed, 21 Oct 2026 07:28:00 GMT"`), as
/// milliseconds from `now` (0 for a date in the past). `None` when it cannot be read.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(|s| s.saturating_mul(1000));
    }
    let at = parse_http_date(value)?;
    Some(u64::try_from(at.millis().saturating_sub(now.millis())).unwrap_or(0))
}

/// `X-RateLimit-Reset`: the Unix time (seconds) at which the limit resets, as milliseconds from
/// `now`. Values below 10^9 are taken as seconds from now, which some APIs send instead.
pub fn parse_rate_limit_reset(value: &str, now: Timestamp) -> Option<u64> {
    let seconds: f64 = value.trim().parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    if seconds < 1e9 {
        return Some((seconds * 1000.0).ceil() as u64);
    }
    let at = (seconds * 1000.0).ceil() as i64;
    Some(u64::try_from(at.saturating_sub(now.millis())).unwrap_or(0))
}

/// The IMF-fixdate of HTTP (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(value: &str) -> Option<Timestamp> {
    let mut parts = value.split_whitespace();
    let weekday = parts.next()?;
    if !weekday.ends_with(',') {
        return None;
    }
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u32 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    Timestamp::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z"))
}

// ---------------------------------------------------------------- answers

/// What to do with an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx.
    Success,
    /// Try again with the same key: 408, 429, 5xx, and 409 `CHECKOUT_IN_PROGRESS` (the same key is
    /// being processed right now).
    Retry,
    /// A definite answer: the server placed nothing (it stores failures under no key).
    Refused,
}

pub fn classify(status: u16, code: Option<&str>) -> Verdict {
    match status {
        200..=299 => Verdict::Success,
        408 | 429 | 500..=599 => Verdict::Retry,
        409 if code == Some("CHECKOUT_IN_PROGRESS") => Verdict::Retry,
        _ => Verdict::Refused,
    }
}

/// `(code, message, details)` of an error answer: SPEC-B's `{"error": {code, message, details}}`, else
/// `CHECKOUT_FAILED` with the body in `details.body`.
pub fn error_parts(status: u16, body: &Value) -> (String, String, Value) {
    let error = body.get("error");
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
    match code {
        Some(code) => {
            let details = match error.and_then(|e| e.get("details")) {
                Some(Value::Object(map)) => Value::Object(map.clone()),
                Some(Value::Null) | None => json!({}),
                Some(other) => json!({ "value": other }),
            };
            let message = message.map_or_else(|| format!("checkout failed: {code} (HTTP {status})"), str::to_string);
            if crate::error::details::is_checkout_code(code) {
                (code.to_string(), message, details)
            } else {
                // The union of codes stays closed (a program can switch over it): another server's own
                // code travels in the details.
                let details = json!({ "remoteCode": code, "remoteDetails": details });
                (ErrorCode::CheckoutFailed.as_str().to_string(), message, details)
            }
        }
        None => (
            ErrorCode::CheckoutFailed.as_str().to_string(),
            format!("checkout failed with HTTP {status}"),
            json!({ "body": body }),
        ),
    }
}

/// The cart as the server ordered it: `sent` (the cart of the request that got the order) with the
/// lines and quantities the order lists (`view.lineItems`, else `cart.items`, else `items`: product,
/// variant, quantity, attributes). When an earlier attempt placed the order and its answer was lost,
/// the shopper may have changed the cart since; the order, not the cart, says what was bought. An
/// order that lists no lines leaves `sent` as it is.
pub fn ordered_cart(sent: &CartState, order: &Value) -> CartState {
    let items = ["/view/lineItems", "/cart/items", "/items"]
        .iter()
        .find_map(|p| order.pointer(p).and_then(Value::as_array));
    let Some(items) = items else {
        return sent.clone();
    };
    let mut cart = sent.clone();
    let mut left: Vec<&Value> = items.iter().collect();
    cart.line_items.retain_mut(|line| {
        let attributes = Value::Object(line.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        let found = left.iter().position(|item| {
            item.get("productId").and_then(Value::as_str) == Some(line.product_id.as_str())
                && item.get("variantId").and_then(Value::as_u64) == line.variant_id.map(u64::from)
                && item.get("attributes").unwrap_or(&json!({})) == &attributes
        });
        let Some(found) = found else {
            return false;
        };
        let item = left.remove(found);
        if let Some(q) = item
            .get("quantity")
            .and_then(Value::as_u64)
            .and_then(|q| u32::try_from(q).ok())
        {
            line.quantity = q;
        }
        true
    });
    cart
}

// ---------------------------------------------------------------- archive

/// One placed order in `<storageKey>:orders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedOrder {
    pub order_id: Option<String>,
    pub cart_id: String,
    pub ordered_at: Timestamp,
    /// What `checkout()` resolved with (the server's answer, plus `protocol`).
    pub order: Value,
    /// The cart, status `ordered`.
    pub cart: CartState,
}

/// Appends `entry` to the archive text (`None`: no archive yet) and returns the new text, or `None`
/// when the archive already holds this order (another tab archived it). At most
/// [`ARCHIVE_LIMIT`] entries are kept. An archive that is not a JSON array is `INVALID_SNAPSHOT`;
/// the caller keeps it aside before starting a new one.
pub fn archive_append(existing: Option<&str>, entry: &ArchivedOrder) -> Result<Option<String>> {
    let mut list: Vec<Value> = match existing {
        None => Vec::new(),
        Some(text) if text.trim().is_empty() => Vec::new(),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            CartError::new(
                ErrorCode::InvalidSnapshot,
                format!("the order archive cannot be read: {e}"),
            )
        })?,
    };
    let duplicate = list.iter().any(|v| {
        (entry.order_id.is_some() && v.get("orderId").and_then(Value::as_str) == entry.order_id.as_deref())
            || (v.get("cartId").and_then(Value::as_str) == Some(entry.cart_id.as_str()))
    });
    if duplicate {
        return Ok(None);
    }
    let value = serde_json::to_value(entry).map_err(|e| CartError::invalid_request(e.to_string()))?;
    list.push(value);
    let excess = list.len().saturating_sub(ARCHIVE_LIMIT);
    list.drain(..excess);
    serde_json::to_string(&list)
        .map(Some)
        .map_err(|e| CartError::invalid_request(e.to_string()))
}

/// The archived entry of cart `cart_id`, if the archive holds one.
pub fn archived_order(text: &str, cart_id: &str) -> Option<Value> {
    let list: Vec<Value> = serde_json::from_str(text).ok()?;
    list.into_iter()
        .rev()
        .find(|v| v.get("cartId").and_then(Value::as_str) == Some(cart_id))
}

/// Forces a cart into `ordered` (the server placed the order, whatever the local clock thinks of its
/// expiry): the core's `mark_ordered`, or the same change without its expiry check.
pub fn into_ordered(mut cart: CartState, now: Timestamp) -> CartState {
    if cart.status == CartStatus::Ordered {
        return cart;
    }
    if cart.mark_ordered(now).is_err() {
        cart.status = CartStatus::Ordered;
        cart.version = cart.version.saturating_add(1);
        cart.updated_at = now;
    }
    cart
}

// ---------------------------------------------------------------- accepted prices

/// The server's prices for one version of the cart, accepted by the shopper after `PRICE_CHANGED`.
/// While the cart stays at that version the view shows these prices and checkout sends their totals
/// as `expected`; any change to the cart (or a new catalog) ends it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceQuote {
    pub cart_id: String,
    pub version: u64,
    /// The server's priced cart (`details.view` of `PRICE_CHANGED`).
    pub server: CartView,
    /// For each local line (by position), the index of its server line.
    lines: Vec<usize>,
}

/// One line whose price moved (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceDifference {
    pub line_item_id: String,
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub old_unit_price: i64,
    pub new_unit_price: i64,
    pub old_total: i64,
    pub new_total: i64,
}

/// The cart-level difference (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalDifference {
    pub old_total: i64,
    pub new_total: i64,
    /// `new_total - old_total`.
    pub difference: i64,
    pub old: ExpectedTotals,
    pub new: ExpectedTotals,
    /// The totals that differ (`"subtotal"`, `"shippingTotal"`, ...).
    pub fields: Vec<String>,
}

/// What `acceptServerPrices` reports: the lines whose unit price or total moved, and the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceReview {
    pub lines: Vec<PriceDifference>,
    pub total: TotalDifference,
}

fn same_item(a: &LineView, b: &LineView) -> bool {
    a.product_id == b.product_id
        && a.variant_id == b.variant_id
        && a.quantity == b.quantity
        && a.attributes == b.attributes
}

/// Pairs every local line with a server line: by position first, else the first unused equal item.
fn match_lines(local: &[LineView], server: &[LineView]) -> Option<Vec<usize>> {
    if local.len() != server.len() {
        return None;
    }
    let mut used = vec![false; server.len()];
    let mut out = Vec::with_capacity(local.len());
    for (i, line) in local.iter().enumerate() {
        let at_position = server.get(i).filter(|s| same_item(line, s)).map(|_| i);
        let found = at_position.filter(|&j| used.get(j) == Some(&false)).or_else(|| {
            server
                .iter()
                .enumerate()
                .find(|(j, s)| used.get(*j) == Some(&false) && same_item(line, s))
                .map(|(j, _)| j)
        })?;
        if let Some(u) = used.get_mut(found) {
            *u = true;
        }
        out.push(found);
    }
    Some(out)
}

impl PriceQuote {
    /// Reads `PRICE_CHANGED` details (`{expected, actual, differences, view}`, or the whole error
    /// object) for `cart`, whose view the shopper currently sees is `shown`. Refused
    /// (`INVALID_REQUEST`) when the details carry no server view, or the view is of another cart
    /// (another id, currency, or other lines: the cart changed since that checkout).
    pub fn accept(cart: &CartState, shown: &CartView, details: &Value) -> Result<(PriceQuote, PriceReview)> {
        let bad = |m: &str| CartError::invalid_request(m.to_string()).with_details(json!({ "field": "details" }));
        if cart.status() != CartStatus::Active {
            return Err(CartError::new(
                ErrorCode::CartNotActive,
                format!("the cart is {}", cart.status().as_str()),
            )
            .with_details(json!({ "status": cart.status().as_str() })));
        }
        // The caller may pass the CheckoutError itself instead of its details.
        let details = match details.get("view") {
            Some(_) => details,
            None => details.get("details").unwrap_or(details),
        };
        let view = details
            .get("view")
            .ok_or_else(|| bad("details: no server view (expected the details of a SPEC-B PRICE_CHANGED)"))?;
        let server: CartView =
            crate::tracked::from_value(view).map_err(|e| bad(&format!("details.view: not a cart view ({e})")))?;
        if server.id != cart.id() || server.currency != cart.currency() {
            return Err(bad("details.view: the server priced another cart"));
        }
        let lines = match_lines(&shown.line_items, &server.line_items)
            .ok_or_else(|| bad("details.view: the cart changed since the server priced it; check out again"))?;
        let mut differences = Vec::new();
        for (local, index) in shown.line_items.iter().zip(&lines) {
            let Some(theirs) = server.line_items.get(*index) else {
                continue;
            };
            if local.unit_price != theirs.unit_price || local.total != theirs.total {
                differences.push(PriceDifference {
                    line_item_id: local.id.to_string(),
                    product_id: local.product_id.to_string(),
                    name: local.name.to_string(),
                    quantity: local.quantity,
                    old_unit_price: local.unit_price,
                    new_unit_price: theirs.unit_price,
                    old_total: local.total,
                    new_total: theirs.total,
                });
            }
        }
        let old = ExpectedTotals::from_totals(&shown.totals);
        let new = ExpectedTotals::from_totals(&server.totals);
        let fields = old
            .mismatch(&server.totals)
            .map(|m| m.differences.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        let total = TotalDifference {
            old_total: old.total,
            new_total: new.total,
            difference: new.total.saturating_sub(old.total),
            old,
            new,
            fields,
        };
        let quote = PriceQuote {
            cart_id: cart.id().to_string(),
            version: cart.version(),
            server,
            lines,
        };
        Ok((
            quote,
            PriceReview {
                lines: differences,
                total,
            },
        ))
    }

    /// Whether the quote still holds: the same cart at the same version, still active.
    pub fn applies_to(&self, cart: &CartState) -> bool {
        cart.id() == self.cart_id && cart.version() == self.version && cart.status() == CartStatus::Active
    }

    /// The local view with the server's amounts: every line's prices, discounts and taxes, the codes'
    /// states, shipping and the totals. Ids, quantities, addresses and issues stay local.
    pub fn overlay(&self, mut local: CartView) -> CartView {
        if local.line_items.len() != self.lines.len() {
            return local;
        }
        for (line, index) in local.line_items.iter_mut().zip(&self.lines) {
            let Some(s) = self.server.line_items.get(*index) else {
                continue;
            };
            line.unit_price = s.unit_price;
            line.base_total = s.base_total;
            line.discounts = s.discounts.clone();
            line.unit_discounts = s.unit_discounts.clone();
            line.total = s.total;
            line.tax_rate = s.tax_rate.clone();
            line.net = s.net;
            line.tax = s.tax;
            line.gross = s.gross;
        }
        local.discount_codes = self.server.discount_codes.clone();
        // The server's deliveries name the server's line ids (its cart was rebuilt): map them back.
        let local_id: Vec<(&str, &Text)> = local
            .line_items
            .iter()
            .zip(&self.lines)
            .filter_map(|(line, &index)| Some((self.server.line_items.get(index)?.id.as_str(), &line.id)))
            .collect();
        let mut deliveries = self.server.deliveries.clone();
        for delivery in &mut deliveries {
            for id in &mut delivery.line_item_ids {
                if let Some((_, mine)) = local_id.iter().find(|(theirs, _)| *theirs == id.as_str()) {
                    *id = (*mine).clone();
                }
            }
        }
        local.shipping = deliveries.first().cloned();
        local.deliveries = deliveries;
        local.available_shipping_methods = self.server.available_shipping_methods.clone();
        local.totals = self.server.totals.clone();
        local
    }
}

/// A JSON object, for building results.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{Action, NewCart};
    use crate::catalog::Catalog;
    use crate::checkout::spec_b::{CheckoutOptions, CheckoutRequest};
    use crate::pricing::price;

    fn catalog(mug: &str) -> Catalog {
        Catalog::from_json(&format!(
            r#"{{
          "taxCategories": [{{"id": "std", "rates": [{{"country": "DE", "rate": "0.19"}}]}}],
          "products": [
            {{"id": "mug", "name": "Mug", "taxCategory": "std", "prices": [{{"currency": "EUR", "amount": "{mug}"}}]}},
            {{"id": "tee", "name": "Tee", "taxCategory": "std", "prices": [{{"currency": "EUR", "amount": "20.00"}}]}}
          ],
          "shippingMethods": [{{"id": "standard", "name": "Standard", "taxCategory": "std", "default": true,
             "rates": [{{"currency": "EUR", "price": "4.99"}}]}}]
        }}"#
        ))
        .unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap()
    }

    fn cart(catalog: &Catalog) -> CartState {
        let new = NewCart {
            id: "cart_1".into(),
            currency: "EUR".into(),
            country: Some("DE".into()),
            ..Default::default()
        };
        let mut cart = CartState::new(new, catalog, now()).unwrap();
        let actions = Action::list_from_value(json!([
            {"action": "addLineItem", "productId": "tee", "quantity": 1},
            {"action": "addLineItem", "productId": "mug", "quantity": 2}
        ]))
        .unwrap();
        cart.apply(catalog, &actions, now()).unwrap();
        cart
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_and_honours_the_server() {
        let p = RetryPolicy {
            retries: 3,
            base_delay_ms: 100,
            max_delay_ms: 1000,
        };
        assert_eq!(p.backoff_ms(0, 0.0), 50);
        assert_eq!(p.backoff_ms(0, 0.999_999), 99);
        assert_eq!(p.backoff_ms(2, 0.0), 200);
        assert_eq!(p.backoff_ms(10, 0.5), 750); // capped at max
        assert_eq!(p.backoff_ms(u32::MAX, 1.0), 1000);
        assert_eq!(p.delay_ms(0, None, 0.0), Some(50));
        assert_eq!(p.delay_ms(0, Some(700), 0.0), Some(700));
        assert_eq!(p.delay_ms(2, Some(10), 0.0), Some(200)); // never shorter than the backoff
        assert_eq!(p.delay_ms(0, Some(1001), 0.0), None); // the server wants longer than we wait
        assert_eq!(p.delay_ms(3, None, 0.0), None); // retries spent
        assert_eq!(p.backoff_ms(1, f64::NAN), 100);
    }

    #[test]
    fn retry_after_and_rate_limit_reset() {
        let t = now();
        assert_eq!(parse_retry_after("2", t), Some(2000));
        assert_eq!(parse_retry_after(" 0 ", t), Some(0));
        assert_eq!(parse_retry_after("Sat, 21 Nov 2026 12:00:03 GMT", t), Some(3000));
        assert_eq!(parse_retry_after("Fri, 20 Nov 2026 12:00:03 GMT", t), Some(0));
        assert_eq!(parse_retry_after("soon", t), None);
        assert_eq!(parse_retry_after("-1", t), None);
        assert_eq!(parse_retry_after("Sat, 21 Nov 2026 12:00:03 UTC", t), None);
        let epoch = t.millis() / 1000 + 5;
        assert_eq!(parse_rate_limit_reset(&epoch.to_string(), t), Some(5000));
        assert_eq!(parse_rate_limit_reset("1", t), Some(1000));
        assert_eq!(parse_rate_limit_reset("1000000000", t), Some(0)); // in the past
        assert_eq!(parse_rate_limit_reset("x", t), None);
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(200, None), Verdict::Success);
        assert_eq!(classify(201, None), Verdict::Success);
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(s, None), Verdict::Retry, "{s}");
        }
        assert_eq!(classify(409, Some("CHECKOUT_IN_PROGRESS")), Verdict::Retry);
        for (s, c) in [
            (400, "EMPTY_CART"),
            (402, "PAYMENT_FAILED"),
            (409, "PRICE_CHANGED"),
            (422, "X"),
        ] {
            assert_eq!(classify(s, Some(c)), Verdict::Refused);
        }
        let (code, message, details) = error_parts(
            402,
            &json!({"error": {"code": "PAYMENT_FAILED", "message": "declined", "details": {"declineCode": "x"}}}),
        );
        assert_eq!((code.as_str(), message.as_str()), ("PAYMENT_FAILED", "declined"));
        assert_eq!(details, json!({"declineCode": "x"}));
        let (code, _, details) = error_parts(418, &json!("teapot"));
        assert_eq!(code, "CHECKOUT_FAILED");
        assert_eq!(details, json!({"body": "teapot"}));
        // A code no SPEC-B server documents: CHECKOUT_FAILED, the code and details kept (the union a
        // program switches over stays closed).
        let (code, message, details) = error_parts(
            400,
            &json!({"error": {"code": "X", "message": "nope", "details": {"a": 1}}}),
        );
        assert_eq!((code.as_str(), message.as_str()), ("CHECKOUT_FAILED", "nope"));
        assert_eq!(details, json!({"remoteCode": "X", "remoteDetails": {"a": 1}}));
    }

    #[test]
    fn urls_encode_their_ids() {
        assert_eq!(checkout_url("/api/v1/", "cart_ab"), "/api/v1/carts/cart_ab/checkout");
        assert_eq!(order_url("http://h/api", "ord 1/2"), "http://h/api/orders/ord%201%2F2");
    }

    #[test]
    fn records_round_trip_and_match_one_request() {
        let c = catalog("10.00");
        let cart = cart(&c);
        let record = CheckoutRecord {
            schema: RECORD_SCHEMA,
            state: RecordState::Queued,
            cart_id: cart.id().into(),
            version: cart.version(),
            idempotency_key: "k".into(),
            endpoint: "/api/v1".into(),
            body: json!({"paymentMethodId": "pm"}),
            cart: cart.clone(),
            created_at: now(),
            attempts: 0,
            server_cart_id: None,
            secret: "s".repeat(32),
        };
        let text = record.encode().unwrap();
        assert!(text.contains(r#""state":"queued""#));
        let back = CheckoutRecord::decode(&text).unwrap();
        assert_eq!(back, record);
        assert!(back.is_same_request("cart_1", cart.version(), "/api/v1", &json!({"paymentMethodId": "pm"})));
        assert!(!back.is_same_request("cart_1", cart.version() + 1, "/api/v1", &record.body));
        assert!(!back.is_same_request("cart_1", cart.version(), "/api/v1", &json!({"paymentMethodId": "x"})));
        assert_eq!(back.url(), "/api/v1/carts/cart_1/checkout");
        assert!(CheckoutRecord::decode("{").is_none());
        assert!(CheckoutRecord::decode(&text.replace(r#""schema":1"#, r#""schema":9"#)).is_none());
    }

    #[test]
    fn the_archive_appends_dedupes_and_is_bounded() {
        let c = catalog("10.00");
        let ordered = into_ordered(cart(&c), now());
        assert_eq!(ordered.status(), CartStatus::Ordered);
        let entry = |n: usize| ArchivedOrder {
            order_id: Some(format!("ord_{n}")),
            cart_id: format!("cart_{n}"),
            ordered_at: now(),
            order: json!({"orderId": format!("ord_{n}")}),
            cart: ordered.clone(),
        };
        let text = archive_append(None, &entry(0)).unwrap().unwrap();
        assert_eq!(archive_append(Some(&text), &entry(0)).unwrap(), None);
        let mut text = text;
        for n in 1..30 {
            text = archive_append(Some(&text), &entry(n)).unwrap().unwrap();
        }
        let list: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(list.len(), ARCHIVE_LIMIT);
        assert_eq!(list.last().unwrap()["orderId"], json!("ord_29"));
        assert_eq!(archived_order(&text, "cart_25").unwrap()["orderId"], json!("ord_25"));
        assert!(archived_order(&text, "cart_0").is_none());
        let e = archive_append(Some("{}"), &entry(1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSnapshot);
        // An expired cart is still marked ordered: the server placed the order.
        let late = Timestamp::from_millis(now().millis() + 400 * 86_400_000);
        let expired = into_ordered(cart(&c), late);
        assert_eq!(expired.status(), CartStatus::Ordered);
    }

    #[test]
    fn a_recovered_order_is_archived_with_the_lines_the_order_lists() {
        let c = catalog("10.00");
        let sent = cart(&c);
        let view = price(&sent, &c, now()).unwrap();
        // The order (placed by an earlier attempt) has 3 of the second line and not the first.
        let mut lines = serde_json::to_value(&view.line_items).unwrap();
        lines[1]["quantity"] = json!(3);
        let order = json!({"orderId": "ord_1", "view": {"lineItems": [lines[1].clone()]}});
        let ordered = ordered_cart(&sent, &order);
        assert_eq!(ordered.line_items().len(), 1);
        assert_eq!(ordered.line_items()[0].product_id, sent.line_items()[1].product_id);
        assert_eq!(ordered.line_items()[0].quantity, 3);
        // An order that lists no lines leaves the cart as sent.
        assert_eq!(ordered_cart(&sent, &json!({"orderId": "ord_2"})), sent);
        let _ = CheckoutOptions::default();
        let _ = CheckoutRequest::from_cart(&sent, &view, CheckoutOptions::default());
    }

    #[test]
    fn an_accepted_quote_overlays_the_server_prices_until_the_cart_changes() {
        let old = catalog("10.00");
        let new = catalog("12.00");
        let mut cart = cart(&old);
        let shown = price(&cart, &old, now()).unwrap();
        // The server rebuilt the cart with its own line ids, mug first.
        let mut server = price(&cart, &new, now()).unwrap();
        server.line_items.reverse();
        for (i, l) in server.line_items.iter_mut().enumerate() {
            l.id = format!("li_s{i}").into();
        }
        let details = json!({"expected": {}, "actual": {}, "differences": ["total"], "view": server});
        let (quote, review) = PriceQuote::accept(&cart, &shown, &details).unwrap();
        assert_eq!(review.lines.len(), 1);
        let mug = &review.lines[0];
        assert_eq!(
            (mug.line_item_id.as_str(), mug.quantity),
            (shown.line_items[1].id.as_str(), 2)
        );
        assert_eq!((mug.old_unit_price, mug.new_unit_price), (1000, 1200));
        assert_eq!((mug.old_total, mug.new_total), (2000, 2400));
        assert_eq!(review.total.difference, 400);
        assert_eq!(review.total.fields, vec!["subtotal", "taxTotal", "total"]);

        let overlaid = quote.overlay(shown.clone());
        assert_eq!(overlaid.totals, server.totals);
        assert_eq!(overlaid.line_items[1].id, shown.line_items[1].id);
        assert_eq!(overlaid.line_items[1].unit_price, 1200);
        assert_eq!(overlaid.line_items[0].unit_price, 2000);
        assert!(quote.applies_to(&cart));

        // The whole error object works too.
        let error = json!({"code": "PRICE_CHANGED", "details": details});
        assert!(PriceQuote::accept(&cart, &shown, &error).is_ok());

        let more = Action::from_value(json!({"action": "addLineItem", "productId": "tee"})).unwrap();
        cart.apply(&old, &[more], now()).unwrap();
        assert!(!quote.applies_to(&cart));
        let changed = price(&cart, &old, now()).unwrap();
        let e = PriceQuote::accept(&cart, &changed, &details).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = PriceQuote::accept(&cart, &changed, &json!({"expected": 1, "actual": 2})).unwrap_err();
        assert!(e.message.contains("no server view"), "{}", e.message);
    }
}
