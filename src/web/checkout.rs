//! `cart.checkout(options)` and its companions (DESIGN §8, docs/checkout.md): the web layer runs the
//! pure checkout state of `crate::checkout::client` over `globalThis.fetch`.
//!
//! - SPEC-B (default): one `POST {endpoint}/carts/{cartId}/checkout` with `X-Idempotency-Key` (one key
//!   per request: cart id, version, endpoint and body; persisted under `<storageKey>:checkout` before
//!   the first attempt, so a reload resumes with it) and a new `X-Request-ID` per attempt. Retries on
//!   network errors, timeouts, 408, 429, 5xx and 409 `CHECKOUT_IN_PROGRESS`, exponential backoff with
//!   jitter, never shorter than `Retry-After` / `X-RateLimit-Reset`.
//! - Other protocols: the core's request plans, one fetch per step (GETs retried like SPEC-B; other
//!   methods only on 429/503, since those APIs take no idempotency key).
//! - Success: the order is archived (`<storageKey>:orders`), the cart becomes `ordered`, a new empty
//!   cart starts, `ordered` fires. Failure: a `CheckoutError`, the cart untouched.
//!
//! No `RefCell` borrow is held across an `await` or while JavaScript (fetch, listeners, sleep) runs.

use super::{
    flush, js, now_of, one_off_view, opt_count, opt_function, opt_string, Cart, EventKind, Inner, Outbox, Payload,
    Persist,
};
use crate::cart::{CartState, CartStatus};
use crate::checkout::client::{self, ArchivedOrder, CheckoutRecord, PriceQuote, RecordState, RetryPolicy, Verdict};
use crate::checkout::plan::{plan_for, HttpResponse, Protocol, Step, SyncInput, SyncOutcome};
use crate::checkout::spec_b::{CheckoutOptions, CheckoutRequest};
use crate::error::{CartError, ErrorCode};
use crate::pricing::{price, CartView, Severity};
use crate::time::Timestamp;
use js_sys::{Array, Function, Object, Promise};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Per-attempt timeout unless `timeoutMs` says otherwise.
const DEFAULT_TIMEOUT_MS: u64 = 15_000;

/// The `name` of every rejection of `checkout()` / `resumeCheckout()`.
const ERROR_NAME: &str = "CheckoutError";

/// The checkout side of a cart.
#[derive(Default)]
pub(crate) struct State {
    /// Prices accepted after `PRICE_CHANGED` (see [`PriceQuote`]).
    quote: Option<PriceQuote>,
    /// The checkout or resume in progress in this instance, and whether it has finished.
    running: Option<(Rc<Cell<bool>>, Promise)>,
    /// The `online` listener (installed once a checkout is queued or pending).
    online: Option<super::StorageListener>,
    /// The cart whose `ordered` event this instance raised last (one event per order).
    announced: Option<String>,
}

impl State {
    pub(crate) fn remove_listener(&mut self) {
        if let Some((target, closure)) = self.online.take() {
            let _ = js::call_method(
                &target,
                "removeEventListener",
                &[&JsValue::from_str("online"), closure.as_ref()],
            );
        }
    }

    /// The view the shopper sees: the engine's, with the accepted server prices while they apply.
    pub(crate) fn shown(&self, cart: &CartState, view: CartView) -> CartView {
        match &self.quote {
            Some(quote) if quote.applies_to(cart) => quote.overlay(view),
            _ => view,
        }
    }

    /// Queues the `ordered` event of `cart_id`, once per order.
    pub(crate) fn announce(&mut self, cart_id: &str, order: Option<Value>, cart_view: JsValue, out: &mut Outbox) {
        if self.announced.as_deref() == Some(cart_id) {
            return;
        }
        self.announced = Some(cart_id.to_string());
        let payload = Object::new();
        let order = order.map_or(JsValue::NULL, |o| js::from_value(&o));
        js::set(&payload, "order", &order);
        js::set(&payload, "cart", &cart_view);
        out.push(EventKind::Ordered, Payload::Value(payload.into()));
    }

    fn running(&self) -> Option<Promise> {
        self.running
            .as_ref()
            .filter(|(done, _)| !done.get())
            .map(|(_, promise)| promise.clone())
    }
}

/// The archived order of `cart_id`, if `<storageKey>:orders` holds one.
pub(crate) fn archived(persist: &Persist, cart_id: &str) -> Option<ArchivedOrder> {
    let text = persist.side_get(&client::orders_key(&persist.key))?;
    client::archived_order(&text, cart_id).and_then(|v| serde_json::from_value(v).ok())
}

// ---------------------------------------------------------------- errors

/// A rejection: a real `Error` with `name` "CheckoutError", `code`, `status` (HTTP, or 0 when no
/// answer was involved) and `details` (always an object).
fn error(code: &str, message: &str, status: u16, details: &Value) -> JsValue {
    let e = js::error(code, message, details);
    js::set(&e, "name", &JsValue::from_str(ERROR_NAME));
    js::set(&e, "status", &JsValue::from_f64(f64::from(status)));
    e
}

/// A core refusal as a `CheckoutError` (a plan's `CHECKOUT_FAILED` carries the HTTP status).
fn from_cart(e: &CartError) -> JsValue {
    let status = e
        .details
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    error(e.code.as_str(), &e.message, status, &e.details)
}

fn busy() -> JsValue {
    error(
        ErrorCode::InvalidRequest.as_str(),
        "the cart is busy (a re-entrant call); try again later",
        0,
        &json!({}),
    )
}

/// Why there was no usable answer.
enum Failure {
    Network(String),
    Timeout(u64),
    /// The last answer was retryable (5xx, 429, ...) and the retries are spent, or the server asked
    /// for a longer wait than `retryMaxMs`.
    Server(Raw, Option<u64>),
}

impl Failure {
    fn is_network(&self) -> bool {
        matches!(self, Failure::Network(_) | Failure::Timeout(_))
    }

    fn to_error(&self, attempts: u32) -> JsValue {
        match self {
            Failure::Network(cause) => error(
                "NETWORK_ERROR",
                &format!("the checkout request failed: {cause}"),
                0,
                &json!({ "cause": cause, "attempts": attempts }),
            ),
            Failure::Timeout(ms) => error(
                "TIMEOUT",
                &format!("no answer within {ms} ms"),
                0,
                &json!({ "timeoutMs": ms, "attempts": attempts }),
            ),
            Failure::Server(raw, retry_after) => {
                let (code, message, details) = client::error_parts(raw.status, &raw.body);
                let mut details = client::object(details);
                details.insert("attempts".into(), json!(attempts));
                if let Some(ms) = retry_after {
                    details.insert("retryAfterMs".into(), json!(ms));
                }
                error(&code, &message, raw.status, &Value::Object(details))
            }
        }
    }
}

// ---------------------------------------------------------------- options

/// How requests are sent: `timeoutMs`, `retries`, `retryBaseMs`, `retryMaxMs`, `sleep`.
struct SendOptions {
    timeout_ms: u64,
    policy: RetryPolicy,
    sleep: Option<Function>,
}

impl SendOptions {
    fn read(options: &JsValue) -> Result<SendOptions, CartError> {
        if !js::is_nullish(options) && !options.is_object() {
            return Err(CartError::invalid_request("options: expected an object"));
        }
        let defaults = RetryPolicy::default();
        let timeout_ms = opt_count(options, "timeoutMs")?.unwrap_or(DEFAULT_TIMEOUT_MS);
        if timeout_ms == 0 {
            return Err(js::bad_field("timeoutMs", "timeoutMs: must be at least 1"));
        }
        let retries = opt_count(options, "retries")?.map_or(defaults.retries, |r| r.min(100) as u32);
        let sleep = opt_function(options, "sleep", "a function (ms) => Promise<void>")?;
        Ok(SendOptions {
            timeout_ms,
            policy: RetryPolicy {
                retries,
                base_delay_ms: opt_count(options, "retryBaseMs")?.unwrap_or(defaults.base_delay_ms),
                max_delay_ms: opt_count(options, "retryMaxMs")?.unwrap_or(defaults.max_delay_ms),
            },
            sleep,
        })
    }
}

/// The options of `checkout()`.
struct CheckoutOpts {
    endpoint: String,
    payment_method_id: Option<String>,
    customer_id: Option<String>,
    po_number: Option<String>,
    promo_code: Option<String>,
    /// `None`: SPEC-B.
    protocol: Option<Protocol>,
    token: Option<String>,
    access_key: Option<String>,
    channel: Option<String>,
    queue: bool,
    send: SendOptions,
}

impl CheckoutOpts {
    fn read(options: &JsValue) -> Result<CheckoutOpts, CartError> {
        if !options.is_object() {
            return Err(CartError::invalid_request(
                "options: expected an object with endpoint and paymentMethodId",
            ));
        }
        let endpoint = opt_string(options, "endpoint")?
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| js::bad_field("endpoint", "endpoint: required, e.g. \"/api/v1\""))?;
        let protocol = match opt_string(options, "protocol")?.as_deref() {
            None | Some("spec-b") => None,
            Some(name) => Some(Protocol::parse(name)?),
        };
        let queue = match opt_string(options, "whenOffline")?.as_deref() {
            None | Some("fail") => false,
            Some("queue") => true,
            Some(_) => {
                return Err(js::bad_field(
                    "whenOffline",
                    "whenOffline: expected \"fail\" or \"queue\"",
                ))
            }
        };
        if queue && protocol.is_some() {
            return Err(js::bad_field(
                "whenOffline",
                "whenOffline: \"queue\" is only available with the spec-b protocol",
            ));
        }
        Ok(CheckoutOpts {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            payment_method_id: opt_string(options, "paymentMethodId")?,
            customer_id: opt_string(options, "customerId")?,
            po_number: opt_string(options, "poNumber")?,
            promo_code: opt_string(options, "promoCode")?,
            protocol,
            token: opt_string(options, "token")?,
            access_key: opt_string(options, "accessKey")?,
            channel: opt_string(options, "channel")?,
            queue,
            send: SendOptions::read(options)?,
        })
    }
}

// ---------------------------------------------------------------- JavaScript plumbing

/// `navigator.onLine === false` (through `globalThis`; no navigator counts as online).
fn offline() -> bool {
    let navigator = js::get(&js::global(), "navigator");
    js::get(&navigator, "onLine").as_bool() == Some(false)
}

/// Hex digits from `crypto.getRandomValues`, else `Math.random()`.
fn random_hex(bytes: u32) -> String {
    let buffer = js_sys::Uint8Array::new_with_length(bytes);
    let crypto = js::get(&js::global(), "crypto");
    let random = !js::is_nullish(&crypto) && js::call_method(&crypto, "getRandomValues", &[&buffer]).is_ok();
    if random {
        buffer.to_vec().iter().map(|b| format!("{b:02x}")).collect()
    } else {
        (0..bytes)
            .map(|_| format!("{:02x}", (js_sys::Math::random() * 256.0) as u8))
            .collect()
    }
}

fn new_idempotency_key(cart: &CartState) -> String {
    format!("{}-v{}-{}", cart.id(), cart.version(), random_hex(8))
}

/// `setTimeout(callback, ms)`; `ms` is capped at 2^31 - 1, beyond which timers fire at once.
fn set_timeout(callback: &JsValue, ms: u64) -> Option<JsValue> {
    let ms = ms.min(2_147_483_647) as f64;
    js::call_method(&js::global(), "setTimeout", &[callback, &JsValue::from_f64(ms)]).ok()
}

fn clear_timeout(id: &JsValue) {
    let _ = js::call_method(&js::global(), "clearTimeout", &[id]);
}

/// Waits `ms`: through the `sleep` option when given (tests), else `setTimeout`.
async fn sleep(options: &SendOptions, ms: u64) {
    if let Some(f) = &options.sleep {
        if let Ok(result) = f.call1(&JsValue::UNDEFINED, &JsValue::from_f64(ms as f64)) {
            let _ = JsFuture::from(Promise::resolve(&result)).await;
        }
        return;
    }
    let promise = Promise::new(&mut |resolve, _reject| {
        if set_timeout(&resolve, ms).is_none() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// An HTTP answer: status, headers (lower-case names), body (JSON; else the text; `null` if empty).
struct Raw {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

impl Raw {
    fn error_code(&self) -> Option<&str> {
        self.body.pointer("/error/code").and_then(Value::as_str)
    }

    /// The server's wait hint for a retryable answer: `Retry-After`, else (429) `X-RateLimit-Reset`.
    fn retry_hint(&self) -> Option<u64> {
        let now = Timestamp::from_millis(js::date_now() as i64);
        let retry_after = self
            .headers
            .get("retry-after")
            .and_then(|v| client::parse_retry_after(v, now));
        retry_after.or_else(|| {
            (self.status == 429)
                .then(|| self.headers.get("x-ratelimit-reset"))
                .flatten()
                .and_then(|v| client::parse_rate_limit_reset(v, now))
        })
    }

    fn into_http_response(self) -> HttpResponse {
        HttpResponse {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}

enum NetFail {
    Network(String),
    Timeout,
}

fn read_headers(headers: &JsValue) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(Some(entries)) = js_sys::try_iter(headers) {
        for entry in entries.flatten() {
            let name = js::get(&entry, "0").as_string();
            let value = js::get(&entry, "1").as_string();
            if let (Some(name), Some(value)) = (name, value) {
                out.insert(name.to_ascii_lowercase(), value);
            }
        }
    }
    out
}

/// Awaits `promise`, or the timeout, whichever settles first.
async fn race(promise: &JsValue, timeout: &Promise) -> Result<JsValue, JsValue> {
    let both = Array::of2(&Promise::resolve(promise), timeout);
    JsFuture::from(Promise::race(&both)).await
}

/// One request through `globalThis.fetch`, aborted (`AbortController`) after `timeout_ms`. The body is
/// read inside the timeout too.
async fn fetch_once(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    timeout_ms: u64,
) -> Result<Raw, NetFail> {
    let global = js::global();
    let fetch: Function = js::get(&global, "fetch")
        .dyn_into()
        .map_err(|_| NetFail::Network("globalThis.fetch is not available".into()))?;
    let init = Object::new();
    js::set(&init, "method", &JsValue::from_str(method));
    let header_object = Object::new();
    for (name, value) in headers {
        js::set(&header_object, name, &JsValue::from_str(value));
    }
    js::set(&init, "headers", &header_object);
    if let Some(body) = body {
        js::set(&init, "body", &JsValue::from_str(body));
    }
    let controller = js::get(&global, "AbortController")
        .dyn_into::<Function>()
        .ok()
        .and_then(|c| js_sys::Reflect::construct(&c, &Array::new()).ok());
    if let Some(c) = &controller {
        js::set(&init, "signal", &js::get(c, "signal"));
    }

    let timed_out = Rc::new(Cell::new(false));
    let mut reject_timeout: Option<Function> = None;
    let timeout = Promise::new(&mut |_resolve, reject| reject_timeout = Some(reject));
    let on_timeout = {
        let timed_out = timed_out.clone();
        let controller = controller.clone();
        Closure::<dyn FnMut()>::new(move || {
            timed_out.set(true);
            if let Some(c) = &controller {
                let _ = js::call_method(c, "abort", &[]);
            }
            if let Some(reject) = &reject_timeout {
                let _ = reject.call1(&JsValue::UNDEFINED, &JsValue::from_str("timeout"));
            }
        })
    };
    let timer = set_timeout(on_timeout.as_ref(), timeout_ms);

    let result = async {
        let pending = fetch.call2(&global, &JsValue::from_str(url), &init)?;
        let response = race(&pending, &timeout).await?;
        let status = js::get(&response, "status").as_f64().unwrap_or(0.0);
        let headers = read_headers(&js::get(&response, "headers"));
        let text = js::call_method(&response, "text", &[])?;
        let text = race(&text, &timeout).await?.as_string().unwrap_or_default();
        Ok::<_, JsValue>((status, headers, text))
    }
    .await;
    if let Some(timer) = timer {
        clear_timeout(&timer);
    }
    drop(on_timeout);
    match result {
        Ok((status, headers, text)) => {
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            Ok(Raw {
                status: if (100.0..=599.0).contains(&status) {
                    status as u16
                } else {
                    0
                },
                headers,
                body,
            })
        }
        Err(_) if timed_out.get() => Err(NetFail::Timeout),
        Err(e) => Err(NetFail::Network(js::describe(&e))),
    }
}

/// A request and how it may be retried.
struct Request {
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// Retry network errors, timeouts and every retryable status (SPEC-B with its idempotency key,
    /// GETs); otherwise only 429 and 503 (the server did not process the request).
    idempotent: bool,
}

/// A final answer (success or refusal), or none.
enum Exchange {
    Answer(Raw),
    NoAnswer(Failure),
}

/// Sends `request` until it gets a final answer or the retries are spent. Returns the attempts made.
async fn exchange(request: &Request, options: &SendOptions) -> (Exchange, u32) {
    let mut attempt: u32 = 0;
    loop {
        let mut headers = request.headers.clone();
        headers.push(("X-Request-ID".into(), format!("req_{}", random_hex(12))));
        let sent = fetch_once(
            request.method,
            &request.url,
            &headers,
            request.body.as_deref(),
            options.timeout_ms,
        )
        .await;
        let (failure, hint) = match sent {
            Ok(raw) => match client::classify(raw.status, raw.error_code()) {
                Verdict::Success | Verdict::Refused => return (Exchange::Answer(raw), attempt + 1),
                Verdict::Retry if !request.idempotent && !matches!(raw.status, 429 | 503) => {
                    return (Exchange::Answer(raw), attempt + 1)
                }
                Verdict::Retry => {
                    let hint = raw.retry_hint();
                    (Failure::Server(raw, hint), hint)
                }
            },
            Err(NetFail::Timeout) => (Failure::Timeout(options.timeout_ms), None),
            Err(NetFail::Network(cause)) => (Failure::Network(cause), None),
        };
        if failure.is_network() && !request.idempotent {
            return (Exchange::NoAnswer(failure), attempt + 1);
        }
        match options.policy.delay_ms(attempt, hint, js_sys::Math::random()) {
            Some(ms) => sleep(options, ms).await,
            None => return (Exchange::NoAnswer(failure), attempt + 1),
        }
        attempt += 1;
    }
}

// ---------------------------------------------------------------- the flow

/// Who started a send: a `checkout()` / `resumeCheckout()` call (the caller gets the outcome), or the
/// page itself (`online`, `Cart.open`), whose refusals go to the `error` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Call,
    Background,
}

/// Runs `future` as this cart's checkout in progress; returns its promise.
fn start(rc: &Rc<RefCell<Inner>>, future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    let done = Rc::new(Cell::new(false));
    let flag = done.clone();
    let promise = future_to_promise(async move {
        let result = future.await;
        flag.set(true);
        result
    });
    if let Ok(mut inner) = rc.try_borrow_mut() {
        inner.checkout.running = Some((done, promise.clone()));
    }
    promise
}

fn running(rc: &Rc<RefCell<Inner>>) -> Option<Promise> {
    rc.try_borrow().ok().and_then(|inner| inner.checkout.running())
}

/// What `checkout()` sends.
enum Prepared {
    SpecB(Box<CheckoutRecord>),
    Plan(Protocol, Box<SyncInput>),
}

/// Checks the cart and builds the request (synchronously, one borrow).
fn prepare(rc: &Rc<RefCell<Inner>>, opts: &CheckoutOpts) -> Result<Prepared, JsValue> {
    let now = now_of(rc).map_err(|e| error(ErrorCode::InvalidRequest.as_str(), &js::describe(&e), 0, &json!({})))?;
    let mut out = Outbox::default();
    let result = match rc.try_borrow_mut() {
        Ok(mut inner) => {
            inner.sync(now, &mut out);
            prepare_on(&inner, opts, now)
        }
        Err(_) => Err(busy()),
    };
    flush(rc, out);
    result
}

fn prepare_on(inner: &Inner, opts: &CheckoutOpts, now: Timestamp) -> Result<Prepared, JsValue> {
    let cart = &inner.cart;
    if cart.status() != CartStatus::Active {
        let status = cart.status().as_str();
        return Err(error(
            ErrorCode::CartNotActive.as_str(),
            &format!("the cart is {status}"),
            0,
            &json!({ "status": status }),
        ));
    }
    if cart.is_expired(now) {
        return Err(error(
            ErrorCode::CartExpired.as_str(),
            "the cart has expired",
            0,
            &json!({ "expiresAt": cart.expires_at() }),
        ));
    }
    let local = price(cart, &inner.catalog, now).map_err(|e| from_cart(&e))?;
    let shown = inner.checkout.shown(cart, local);
    if !shown.can_checkout {
        let blocking: Vec<_> = shown.issues.iter().filter(|i| i.severity == Severity::Error).collect();
        let (code, message) = blocking
            .first()
            .map_or(("INVALID_REQUEST", "the cart cannot be checked out"), |i| {
                (i.code.as_str(), i.message.as_str())
            });
        return Err(error(code, message, 0, &json!({ "issues": blocking })));
    }
    if let Some(protocol) = opts.protocol {
        let input = SyncInput {
            cart: cart.clone(),
            customer_id: opts.customer_id.clone().or_else(|| cart.customer().id.clone()),
            view: shown,
            po_number: opts.po_number.clone(),
            token: opts.token.clone(),
            access_key: opts.access_key.clone(),
            channel: opts.channel.clone(),
        };
        return Ok(Prepared::Plan(protocol, Box::new(input)));
    }
    let options = CheckoutOptions {
        payment_method_id: opts.payment_method_id.clone(),
        customer_id: opts.customer_id.clone(),
        promo_code: opts.promo_code.clone(),
        po_number: opts.po_number.clone(),
    };
    let request = CheckoutRequest::from_cart(cart, &shown, options).map_err(|e| from_cart(&e))?;
    let body = serde_json::to_value(&request)
        .map_err(|e| error(ErrorCode::InvalidRequest.as_str(), &e.to_string(), 0, &json!({})))?;
    let existing = stored_record(&inner.persist);
    let (idempotency_key, attempts) = match existing {
        Some(r) if r.is_same_request(cart.id(), cart.version(), &opts.endpoint, &body) => {
            (r.idempotency_key, r.attempts)
        }
        _ => (new_idempotency_key(cart), 0),
    };
    Ok(Prepared::SpecB(Box::new(CheckoutRecord {
        schema: client::RECORD_SCHEMA,
        state: RecordState::Sending,
        cart_id: cart.id().to_string(),
        version: cart.version(),
        idempotency_key,
        endpoint: opts.endpoint.clone(),
        body,
        cart: cart.clone(),
        created_at: now,
        attempts,
    })))
}

fn stored_record(persist: &Persist) -> Option<CheckoutRecord> {
    persist
        .side_get(&client::record_key(&persist.key))
        .and_then(|text| CheckoutRecord::decode(&text))
}

fn read_record(rc: &Rc<RefCell<Inner>>) -> Option<CheckoutRecord> {
    rc.try_borrow().ok().and_then(|inner| stored_record(&inner.persist))
}

fn store_record(rc: &Rc<RefCell<Inner>>, record: &CheckoutRecord) {
    let mut out = Outbox::default();
    if let Ok(mut inner) = rc.try_borrow_mut() {
        match record.encode() {
            Ok(text) => {
                let key = client::record_key(&inner.persist.key);
                inner.persist.side_set(&key, Some(&text), &mut out);
            }
            Err(e) => out.error(js::cart_error(&e)),
        }
    }
    flush(rc, out);
}

/// Removes the stored record if it is still this request's (same idempotency key).
fn drop_record_on(inner: &mut Inner, idempotency_key: &str, out: &mut Outbox) {
    if stored_record(&inner.persist).is_some_and(|r| r.idempotency_key == idempotency_key) {
        let key = client::record_key(&inner.persist.key);
        inner.persist.side_set(&key, None, out);
    }
}

fn drop_record(rc: &Rc<RefCell<Inner>>, idempotency_key: &str) {
    let mut out = Outbox::default();
    if let Ok(mut inner) = rc.try_borrow_mut() {
        drop_record_on(&mut inner, idempotency_key, &mut out);
    }
    flush(rc, out);
}

fn queued_result(record: &CheckoutRecord) -> JsValue {
    js::from_value(&json!({
        "status": "queued",
        "protocol": "spec-b",
        "cartId": record.cart_id,
        "idempotencyKey": record.idempotency_key,
    }))
}

/// `cart.checkout(options)`.
async fn checkout_flow(rc: Rc<RefCell<Inner>>, opts: CheckoutOpts) -> Result<JsValue, JsValue> {
    match prepare(&rc, &opts)? {
        Prepared::Plan(protocol, input) => run_plan(&rc, protocol, *input, &opts).await,
        Prepared::SpecB(record) => {
            let mut record = *record;
            if offline() {
                if !opts.queue {
                    return Err(error(
                        "OFFLINE",
                        "the browser is offline (navigator.onLine is false)",
                        0,
                        &json!({}),
                    ));
                }
                record.state = RecordState::Queued;
                store_record(&rc, &record);
                install_online_listener(&rc);
                return Ok(queued_result(&record));
            }
            store_record(&rc, &record);
            send(&rc, record, &opts.send, Origin::Call, opts.queue).await
        }
    }
}

/// Sends a SPEC-B record (new, queued, or left by an earlier page) and settles it.
async fn send(
    rc: &Rc<RefCell<Inner>>,
    mut record: CheckoutRecord,
    options: &SendOptions,
    origin: Origin,
    queue_on_network_error: bool,
) -> Result<JsValue, JsValue> {
    let was_queued = record.state == RecordState::Queued;
    let request = Request {
        method: "POST",
        url: record.url(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json".into()),
            ("X-Idempotency-Key".into(), record.idempotency_key.clone()),
        ],
        body: Some(record.body.to_string()),
        idempotent: true,
    };
    let (outcome, attempts) = exchange(&request, options).await;
    record.attempts = record.attempts.saturating_add(attempts);
    match outcome {
        Exchange::Answer(raw) if (200..300).contains(&raw.status) => {
            if raw.body.get("orderId").and_then(Value::as_str).is_none() {
                record.state = RecordState::Failed;
                store_record(rc, &record);
                return Err(error(
                    ErrorCode::InvalidResponse.as_str(),
                    "the server accepted the checkout but its answer has no orderId",
                    raw.status,
                    &json!({ "body": raw.body }),
                ));
            }
            let mut order = client::object(raw.body);
            order.insert("protocol".into(), json!("spec-b"));
            Ok(finish(
                rc,
                &record.cart,
                Some(&record.idempotency_key),
                Value::Object(order),
            ))
        }
        Exchange::Answer(raw) => {
            let (code, message, details) = client::error_parts(raw.status, &raw.body);
            if code == ErrorCode::CartNotActive.as_str() {
                if let Some(order) = recover(&record, &details, options).await {
                    return Ok(finish(rc, &record.cart, Some(&record.idempotency_key), order));
                }
            }
            drop_record(rc, &record.idempotency_key);
            let e = error(&code, &message, raw.status, &details);
            if origin == Origin::Background {
                report(rc, &e);
            }
            Err(e)
        }
        Exchange::NoAnswer(failure) => {
            // Another page (the same key, resumed at its open) may have placed the order meanwhile.
            if let Some(order) = archived_order_of(rc, &record.cart_id) {
                return Ok(finish(rc, &record.cart, Some(&record.idempotency_key), order));
            }
            let e = failure.to_error(record.attempts);
            if was_queued || (failure.is_network() && queue_on_network_error) {
                record.state = RecordState::Queued;
                store_record(rc, &record);
                install_online_listener(rc);
                match origin {
                    Origin::Call => Ok(queued_result(&record)),
                    Origin::Background => Err(e),
                }
            } else {
                record.state = RecordState::Failed;
                store_record(rc, &record);
                Err(e)
            }
        }
    }
}

/// After 409 `CART_NOT_ACTIVE` with an `orderId`: an earlier attempt may have placed this very order
/// and lost the answer. The order is fetched; it counts only if it holds exactly the requested lines.
async fn recover(record: &CheckoutRecord, details: &Value, options: &SendOptions) -> Option<Value> {
    let order_id = details.get("orderId").and_then(Value::as_str)?;
    let request = Request {
        method: "GET",
        url: client::order_url(&record.endpoint, order_id),
        headers: vec![("Accept".into(), "application/json".into())],
        body: None,
        idempotent: true,
    };
    match exchange(&request, options).await.0 {
        Exchange::Answer(raw) if raw.status == 200 && client::order_matches_request(&raw.body, &record.body) => {
            let mut order = client::object(raw.body);
            order.insert("protocol".into(), json!("spec-b"));
            order.insert("recovered".into(), json!(true));
            Some(Value::Object(order))
        }
        _ => None,
    }
}

/// The order of `cart_id` if `<storageKey>:orders` already holds it.
fn archived_order_of(rc: &Rc<RefCell<Inner>>, cart_id: &str) -> Option<Value> {
    let inner = rc.try_borrow().ok()?;
    archived(&inner.persist, cart_id).map(|a| a.order)
}

/// Raises an `error` event.
fn report(rc: &Rc<RefCell<Inner>>, e: &JsValue) {
    let mut out = Outbox::default();
    out.error(e.clone());
    flush(rc, out);
}

/// The order went through: archive it, mark the cart ordered and start a new one (if the cart is
/// still this one), forget the record and the accepted prices, raise `ordered`. Returns the order.
fn finish(rc: &Rc<RefCell<Inner>>, cart: &CartState, idempotency_key: Option<&str>, order: Value) -> JsValue {
    let result = js::from_value(&order);
    let Ok(now) = now_of(rc) else {
        return result;
    };
    let mut out = Outbox::default();
    if let Ok(mut inner) = rc.try_borrow_mut() {
        inner.sync(now, &mut out);
        let ordered = client::into_ordered(cart.clone(), now);
        let entry = ArchivedOrder {
            order_id: order.get("orderId").and_then(Value::as_str).map(str::to_string),
            cart_id: cart.id().to_string(),
            ordered_at: now,
            order: order.clone(),
            cart: ordered.clone(),
        };
        archive(&mut inner, &entry, now, &mut out);
        if let Some(key) = idempotency_key {
            drop_record_on(&mut inner, key, &mut out);
        }
        inner.checkout.quote = None;
        let view = one_off_view(&ordered, &inner.catalog, now);
        inner.checkout.announce(cart.id(), Some(order), view, &mut out);
        if inner.cart.id() == cart.id() && inner.cart.status() == CartStatus::Active {
            inner.commit(ordered, now, &mut out);
            if let Err(e) = inner.start_new_cart(now, &mut out) {
                out.error(js::cart_error(&e));
            }
        }
    }
    flush(rc, out);
    result
}

/// Appends to `<storageKey>:orders`. An unreadable archive is kept under `...:orders:corrupt:<ms>`
/// (reported) and a new one started.
fn archive(inner: &mut Inner, entry: &ArchivedOrder, now: Timestamp, out: &mut Outbox) {
    let key = client::orders_key(&inner.persist.key);
    let existing = inner.persist.side_get(&key);
    let text = match client::archive_append(existing.as_deref(), entry) {
        Ok(text) => text,
        Err(e) => {
            if let (Some(old), Some(store)) = (&existing, inner.persist.store.clone()) {
                let _ = store.preserve(&format!("{key}:corrupt:{}", now.millis()), old);
            }
            out.error(js::cart_error(&e));
            client::archive_append(None, entry).ok().flatten()
        }
    };
    if let Some(text) = text {
        inner.persist.side_set(&key, Some(&text), out);
    }
}

/// Another protocol: the core's plan, one fetch per step.
async fn run_plan(
    rc: &Rc<RefCell<Inner>>,
    protocol: Protocol,
    input: SyncInput,
    opts: &CheckoutOpts,
) -> Result<JsValue, JsValue> {
    if offline() {
        return Err(error(
            "OFFLINE",
            "the browser is offline (navigator.onLine is false)",
            0,
            &json!({}),
        ));
    }
    let cart = input.cart.clone();
    let mut plan = plan_for(protocol, input).map_err(|e| from_cart(&e))?;
    let mut response: Option<HttpResponse> = None;
    let mut attempts: u32 = 0;
    loop {
        match plan.next(response.take()).map_err(|e| from_cart(&e))? {
            Step::Done(outcome) => return Ok(finish(rc, &cart, None, plan_result(&outcome))),
            Step::Send(step) => {
                let method: &'static str = match step.method.as_str() {
                    "GET" => "GET",
                    "POST" => "POST",
                    "PUT" => "PUT",
                    "PATCH" => "PATCH",
                    "DELETE" => "DELETE",
                    _ => "POST",
                };
                let request = Request {
                    method,
                    url: format!("{}{}", opts.endpoint, step.path),
                    headers: step.headers.into_iter().collect(),
                    body: step.body.map(|b| b.to_string()),
                    idempotent: method == "GET",
                };
                let (outcome, n) = exchange(&request, &opts.send).await;
                attempts = attempts.saturating_add(n);
                response = Some(match outcome {
                    Exchange::Answer(raw) | Exchange::NoAnswer(Failure::Server(raw, _)) => raw.into_http_response(),
                    Exchange::NoAnswer(failure) => return Err(failure.to_error(attempts)),
                });
            }
        }
    }
}

fn plan_result(outcome: &SyncOutcome) -> Value {
    json!({
        "protocol": outcome.protocol,
        "status": "placed",
        "orderId": outcome.orders.first().map(|o| o.order_id.clone()),
        "orders": outcome.orders,
        "remoteCartId": outcome.remote_cart_id,
        "remoteTotal": outcome.remote_total,
    })
}

// ---------------------------------------------------------------- resuming

/// Sends the stored record now (`resumeCheckout`, the `online` event, `Cart.open`). `None` when there
/// is nothing to send (or, in the background, while offline or while a send is running).
fn resume(rc: &Rc<RefCell<Inner>>, options: SendOptions, origin: Origin) -> Option<Promise> {
    if let Some(p) = running(rc) {
        return Some(p);
    }
    let record = read_record(rc)?;
    if origin == Origin::Background && (record.state == RecordState::Failed || offline()) {
        return None;
    }
    let rc2 = rc.clone();
    let promise = start(rc, async move { send(&rc2, record, &options, origin, false).await });
    if origin == Origin::Background {
        // Its outcome goes to events; keep the rejection from counting as unhandled.
        let ignore = Closure::once_into_js(|_: JsValue| {});
        if let Ok(f) = ignore.dyn_into::<Function>() {
            let _ = js::call_method(&promise, "catch", &[&f]);
        }
    }
    Some(promise)
}

fn background_options() -> SendOptions {
    SendOptions {
        timeout_ms: DEFAULT_TIMEOUT_MS,
        policy: RetryPolicy::default(),
        sleep: None,
    }
}

/// Listens to `online` (once per cart) to send a queued checkout.
fn install_online_listener(rc: &Rc<RefCell<Inner>>) {
    let global = js::global();
    if !js::get(&global, "addEventListener").is_function() {
        return;
    }
    if rc.try_borrow().map_or(true, |inner| inner.checkout.online.is_some()) {
        return;
    }
    let weak = Rc::downgrade(rc);
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        if let Some(rc) = weak.upgrade() {
            let _ = resume(&rc, background_options(), Origin::Background);
        }
    });
    let added = js::call_method(
        &global,
        "addEventListener",
        &[&JsValue::from_str("online"), closure.as_ref()],
    );
    if added.is_ok() {
        if let Ok(mut inner) = rc.try_borrow_mut() {
            inner.checkout.online = Some((global, closure));
        }
    }
}

/// At `Cart.open`: a queued checkout, or one whose page went away while sending, is sent again (same
/// key) right after `open` returns; while offline it waits for `online`.
pub(crate) fn resume_at_open(rc: &Rc<RefCell<Inner>>) {
    let Some(record) = read_record(rc) else {
        return;
    };
    if record.state == RecordState::Failed {
        return;
    }
    install_online_listener(rc);
    let weak = Rc::downgrade(rc);
    js::defer(move || {
        if let Some(rc) = weak.upgrade() {
            let _ = resume(&rc, background_options(), Origin::Background);
        }
    });
}

// ---------------------------------------------------------------- the JavaScript API

#[wasm_bindgen]
impl Cart {
    /// Places the order (DESIGN §8). See `CheckoutOptions` and docs/checkout.md. Resolves with the
    /// order (or `{status: "queued"}`); rejects with a `CheckoutError`, the cart unchanged. A call
    /// while a checkout of this cart is running returns that checkout's promise.
    #[wasm_bindgen(js_name = checkout, unchecked_return_type = "Promise<CheckoutResult>")]
    pub fn checkout(&self, #[wasm_bindgen(unchecked_param_type = "CheckoutOptions")] options: JsValue) -> Promise {
        if let Some(p) = running(&self.inner) {
            return p;
        }
        let opts = match CheckoutOpts::read(&options) {
            Ok(opts) => opts,
            Err(e) => return Promise::reject(&from_cart(&e)),
        };
        let rc = self.inner.clone();
        start(&self.inner, checkout_flow(rc, opts))
    }

    /// Sends the pending checkout (`pendingCheckout`) now, with its idempotency key: resolves with the
    /// order, `{status: "queued"}` if it is queued and still cannot be sent, or `null` when nothing is
    /// pending. Options: `timeoutMs`, `retries`, `retryBaseMs`, `retryMaxMs`, `sleep`.
    #[wasm_bindgen(js_name = resumeCheckout, unchecked_return_type = "Promise<CheckoutResult | null>")]
    pub fn resume_checkout(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: JsValue,
    ) -> Promise {
        let options = match SendOptions::read(&options) {
            Ok(o) => o,
            Err(e) => return Promise::reject(&from_cart(&e)),
        };
        resume(&self.inner, options, Origin::Call).unwrap_or_else(|| Promise::resolve(&JsValue::NULL))
    }

    /// The checkout stored beside the cart, or `null`: `state` "sending" (a send is running, or its page
    /// went away), "queued" (waiting to be online) or "failed" (no answer; the key is kept).
    #[wasm_bindgen(getter = pendingCheckout, unchecked_return_type = "PendingCheckout | null")]
    pub fn pending_checkout(&self) -> Result<JsValue, JsValue> {
        let inner = self.inner.try_borrow().map_err(|_| js::busy())?;
        Ok(match stored_record(&inner.persist) {
            Some(r) => js::from_value(&json!({
                "state": r.state.as_str(),
                "cartId": r.cart_id,
                "version": r.version,
                "idempotencyKey": r.idempotency_key,
                "endpoint": r.endpoint,
                "createdAt": r.created_at,
                "attempts": r.attempts,
            })),
            None => JsValue::NULL,
        })
    }

    /// Forgets the pending checkout (a queued order the shopper no longer wants). A request already
    /// sent may still have placed the order. Returns whether there was one.
    #[wasm_bindgen(js_name = discardPendingCheckout)]
    pub fn discard_pending_checkout(&self) -> Result<bool, JsValue> {
        let mut out = Outbox::default();
        let found = {
            let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
            match stored_record(&inner.persist) {
                Some(r) => {
                    drop_record_on(&mut inner, &r.idempotency_key, &mut out);
                    true
                }
                None => false,
            }
        };
        flush(&self.inner, out);
        Ok(found)
    }

    /// After a `PRICE_CHANGED` rejection: adopts the server's prices (`error.details`, or the error)
    /// for the cart as it is. The view shows them and the next checkout sends their totals as
    /// `expected`, until the cart changes. Returns the lines whose price moved, with the cart-level
    /// difference in `.total`.
    #[wasm_bindgen(js_name = acceptServerPrices, unchecked_return_type = "PriceDifferences")]
    pub fn accept_server_prices(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PriceChangedDetails | CheckoutError | CheckoutError[\"details\"]")]
        details: JsValue,
    ) -> Result<JsValue, JsValue> {
        let details = if js::get(&details, "view").is_object() || !js::get(&details, "details").is_object() {
            details
        } else {
            js::get(&details, "details")
        };
        let details = js::to_value(&details, "details").map_err(|e| js::cart_error(&e))?;
        let now = self.now()?;
        let mut out = Outbox::default();
        let result = {
            let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
            inner.sync(now, &mut out);
            let inner = &mut *inner;
            price(&inner.cart, &inner.catalog, now).and_then(|local| {
                let shown = inner.checkout.shown(&inner.cart, local);
                let (quote, review) = PriceQuote::accept(&inner.cart, &shown, &details)?;
                inner.checkout.quote = Some(quote);
                inner.views.invalidate();
                out.push(EventKind::Change, Payload::View);
                Ok(review)
            })
        };
        flush(&self.inner, out);
        let review = result.map_err(|e| js::cart_error(&e))?;
        let lines = js::from_value(&serde_json::to_value(&review.lines).unwrap_or(Value::Null));
        let total = js::from_value(&serde_json::to_value(&review.total).unwrap_or(Value::Null));
        js::set(&lines, "total", &total);
        Ok(lines)
    }

    /// The orders placed from this storage key (`<storageKey>:orders`), oldest first.
    #[wasm_bindgen(js_name = orders, unchecked_return_type = "ArchivedOrder[]")]
    pub fn orders(&self) -> Result<JsValue, JsValue> {
        let inner = self.inner.try_borrow().map_err(|_| js::busy())?;
        let text = inner.persist.side_get(&client::orders_key(&inner.persist.key));
        let list = text
            .and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
            .unwrap_or_default();
        Ok(js::from_value(&Value::Array(list)))
    }

    /// The catalog the cart prices with (the one given to `open`/`setCatalog`, or the cached one when
    /// opened without). The same object until the catalog changes; treat it as read-only.
    #[wasm_bindgen(js_name = catalog, unchecked_return_type = "Catalog")]
    pub fn catalog(&self) -> Result<JsValue, JsValue> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
        if let Some(object) = &inner.catalog_object {
            return Ok(object.clone());
        }
        let object = js_sys::JSON::parse(&inner.catalog_json)?;
        inner.catalog_object = Some(object.clone());
        Ok(object)
    }
}

/// Whether `value` is a rejection of `checkout()` / `resumeCheckout()`: `name === "CheckoutError"`
/// with a string `code`.
#[wasm_bindgen(js_name = isCheckoutError, unchecked_return_type = "value is CheckoutError")]
pub fn is_checkout_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    js::get(&value, "name").as_string().as_deref() == Some(ERROR_NAME) && js::get(&value, "code").is_string()
}
