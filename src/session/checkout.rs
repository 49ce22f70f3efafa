//! Checkout in the session (DESIGN §8, docs/checkout.md): the checkout record and its life cycle, the
//! request plans run with retries, the order archive, the lookup that keeps an order whose answer was
//! lost from being orphaned, and the prices accepted after `PRICE_CHANGED`.
//!
//! ```text
//!  checkout() ──► record "sending" ──► Send ──► answer ──► plan ──► Send ... ──► order: archive, ordered,
//!     │ offline + queue: "queued"      ▲  │ retryable: Wait, same key           new cart (carry-over)
//!     │                                └──┘                                  refusal: record removed
//!     └ no answer after the retries: "failed" ──► lookup (GET /carts/{id}) at once, on `online`, at
//!                                                 open: an order found is archived and announced
//! ```

// A `CheckoutError` is 128 bytes; checkouts are rare and boxing would only add noise.
#![allow(clippy::result_large_err)]

use super::effect::{CheckoutError, Effect, Effects, Event, Reported};
use super::{Entropy, OpKind, Session, Storage, Stored};
use crate::cart::{CartState, CartStatus};
use crate::checkout::client::{
    self, ArchivedOrder, CheckoutRecord, PriceQuote, PriceReview, RecordState, RetryPolicy, Verdict,
};
use crate::checkout::plan::{
    is_outcome_unknown, plan_for, HttpRequest, HttpResponse, Plan, Protocol, Step, SyncInput, SyncOutcome,
};
use crate::checkout::spec_b::{CheckoutOptions, CheckoutRequest};
use crate::checkout::spec_b_plan::{refusal_parts, OrderLookup, SpecB, IDEMPOTENCY_HEADER};
use crate::error::{CartError, ErrorCode, Result};
use crate::pricing::{CartView, Severity};
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Per-attempt timeout unless `timeoutMs` says otherwise.
pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;
/// After a checkout ended without an answer, the lookup runs this much later (ms).
pub const LOOKUP_AFTER_MS: u64 = 2_000;
/// A record without an answer is looked up for this long (ms): the server keeps idempotency keys
/// for 24 hours (`cart-server --idempotency-ttl`).
pub const LOOKUP_FOR_MS: i64 = 24 * 3600 * 1000;
/// The timer of the lookup.
pub(crate) const TIMER_LOOKUP: u64 = 3;
/// Ids of sends and waits start here (below are the session's own timers).
const FIRST_ID: u64 = 100;

/// How requests are sent: per-attempt timeout and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    pub timeout_ms: u64,
    pub policy: RetryPolicy,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            policy: RetryPolicy::default(),
        }
    }
}

/// The options of `checkout()` (docs/checkout.md).
#[derive(Debug, Clone, Default)]
pub struct CheckoutInput {
    pub endpoint: String,
    pub payment_method_id: Option<String>,
    pub customer_id: Option<String>,
    pub po_number: Option<String>,
    pub promo_code: Option<String>,
    pub protocol: Option<Protocol>,
    pub token: Option<String>,
    pub access_key: Option<String>,
    /// `storefrontUrl` (Shopware guest registration).
    pub storefront_url: Option<String>,
    /// `whenOffline: "queue"`.
    pub queue: bool,
    pub send: SendOptions,
}

impl CheckoutInput {
    /// Refuses options that cannot work (`INVALID_REQUEST` with `details.field`).
    pub fn check(&mut self) -> Result<()> {
        let endpoint = self.endpoint.trim().trim_end_matches('/').to_string();
        if endpoint.is_empty() {
            return Err(CartError::invalid_field(
                "endpoint",
                "endpoint: required, e.g. \"/api/v1\"",
            ));
        }
        self.endpoint = endpoint;
        if self.send.timeout_ms == 0 {
            return Err(CartError::invalid_field("timeoutMs", "timeoutMs: must be at least 1"));
        }
        if let Some(p) = self.protocol.filter(|p| !p.runs_in_browser()) {
            return Err(CartError::invalid_field(
                "protocol",
                format!(
                    "protocol: {} needs credentials that must not reach a browser; check out through cart-server's relay (spec-b)",
                    p.as_str()
                ),
            ));
        }
        if self.queue && self.protocol.is_some_and(|p| p != Protocol::SpecB) {
            return Err(CartError::invalid_field(
                "whenOffline",
                "whenOffline: \"queue\" is only available with the spec-b protocol",
            ));
        }
        Ok(())
    }

    fn protocol(&self) -> Protocol {
        self.protocol.unwrap_or(Protocol::SpecB)
    }
}

/// What came back from a request.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpOutcome {
    Answer(HttpResponse),
    /// `fetch` rejected (offline, DNS, CORS, reset): the description.
    Network(String),
    /// No answer (body included) within the attempt's timeout.
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `checkout()` / `resumeCheckout()`: the caller's promise gets the outcome.
    Call,
    /// The session itself (open, `online`, a lookup): refusals go to the `error` event.
    Background,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Checkout,
    Lookup,
}

/// A checkout (or lookup) on its way.
struct Flow {
    id: u64,
    origin: Origin,
    kind: Kind,
    protocol: Protocol,
    plan: Box<dyn Plan>,
    endpoint: String,
    /// The cart as sent.
    cart: CartState,
    /// The SPEC-B record's idempotency key.
    key: Option<String>,
    send: SendOptions,
    /// Queue the record when there is no answer (`whenOffline: "queue"`, or it was queued already).
    queue: bool,
    request: Option<HttpRequest>,
    attempt: u32,
    /// The id of the `Send` or `Wait` whose outcome the flow waits for.
    waiting: u64,
    attempts: u32,
}

/// The checkout side of a session.
#[derive(Default)]
pub(crate) struct CheckoutState {
    /// Prices accepted after `PRICE_CHANGED`.
    pub quote: Option<PriceQuote>,
    flow: Option<Flow>,
    next_id: u64,
    watching: bool,
    /// The values this session wrote to the record and archive keys, and the keys whose storage
    /// write failed (then this page reads them from here).
    side: BTreeMap<String, Option<String>>,
    side_failed: BTreeSet<String>,
}

impl CheckoutState {
    /// The view the shopper sees: the engine's, with the accepted server prices while they apply.
    pub fn shown(&self, cart: &CartState, view: CartView) -> CartView {
        match &self.quote {
            Some(quote) if quote.applies_to(cart) => quote.overlay(view),
            _ => view,
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id = self.next_id.max(FIRST_ID).saturating_add(1);
        self.next_id
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

fn idempotent(request: &HttpRequest) -> bool {
    request.method == "GET" || request.headers.contains_key(IDEMPOTENCY_HEADER)
}

/// The server's wait hint for a retryable answer: `Retry-After`, else (429) `X-RateLimit-Reset`.
fn retry_hint(r: &HttpResponse, now: Timestamp) -> Option<u64> {
    let retry_after = r
        .headers
        .get("retry-after")
        .and_then(|v| client::parse_retry_after(v, now));
    retry_after.or_else(|| {
        (r.status == 429)
            .then(|| r.headers.get("x-ratelimit-reset"))
            .flatten()
            .and_then(|v| client::parse_rate_limit_reset(v, now))
    })
}

fn offline_error() -> CheckoutError {
    CheckoutError::new(
        ErrorCode::Offline.as_str(),
        "the browser is offline (navigator.onLine is false)",
        0,
        json!({}),
    )
}

/// Why the retries ended without a usable answer.
enum NoAnswer {
    Network(String),
    Timeout(u64),
    /// The last answer was retryable (5xx, 429, ...), or the server asked for a wait beyond `retryMaxMs`.
    Server(HttpResponse, Option<u64>),
}

impl NoAnswer {
    fn is_network(&self) -> bool {
        matches!(self, NoAnswer::Network(_) | NoAnswer::Timeout(_))
    }

    fn error(&self, attempts: u32) -> CheckoutError {
        match self {
            NoAnswer::Network(cause) => CheckoutError::new(
                ErrorCode::NetworkError.as_str(),
                format!("the checkout request failed: {cause}"),
                0,
                json!({ "cause": cause, "attempts": attempts }),
            ),
            NoAnswer::Timeout(ms) => CheckoutError::new(
                ErrorCode::Timeout.as_str(),
                format!("no answer within {ms} ms"),
                0,
                json!({ "timeoutMs": ms, "attempts": attempts }),
            ),
            NoAnswer::Server(r, retry_after) => {
                let (code, message, details) = client::error_parts(r.status, &r.body);
                let mut details = client::object(details);
                details.insert("attempts".into(), json!(attempts));
                if let Some(ms) = retry_after {
                    details.insert("retryAfterMs".into(), json!(ms));
                }
                CheckoutError::new(&code, message, r.status, Value::Object(details))
            }
        }
    }
}

impl Session {
    // ------------------------------------------------------------------ the record and the archive

    fn side_read(&self, storage: &dyn Storage, key: &str) -> Option<String> {
        let value = if self.checkout.side_failed.contains(key) {
            self.checkout.side.get(key).cloned().flatten()
        } else {
            match self.read(storage, key) {
                Ok(Stored::Text(t)) => Some(t),
                _ => None,
            }
        };
        value.filter(|v| !v.is_empty())
    }

    fn side_write(&mut self, key: &str, value: Option<String>, fx: &mut Effects) {
        self.checkout.side.insert(key.to_string(), value.clone());
        match value {
            Some(v) => self.write(key, v, fx),
            None => self.remove(key, fx),
        }
    }

    /// A write of the record or the archive threw: this page keeps them in memory from now on.
    pub(crate) fn side_write_failed(&mut self, key: &str) {
        self.checkout.side_failed.insert(key.to_string());
    }

    /// The checkout stored beside the cart (`pendingCheckout`).
    pub fn pending_checkout(&self, storage: &dyn Storage) -> Option<CheckoutRecord> {
        self.side_read(storage, &self.keys.checkout())
            .and_then(|t| CheckoutRecord::decode(&t))
    }

    fn store_record(&mut self, record: &CheckoutRecord, fx: &mut Effects) {
        match record.encode() {
            Ok(text) => self.side_write(&self.keys.checkout(), Some(text), fx),
            Err(e) => fx.error(e),
        }
    }

    /// Removes the stored record if it is still the one of `key`.
    fn drop_record(&mut self, storage: &dyn Storage, key: &str, fx: &mut Effects) {
        if self.pending_checkout(storage).is_some_and(|r| r.idempotency_key == key) {
            self.side_write(&self.keys.checkout(), None, fx);
        }
    }

    /// Forgets the pending checkout (`discardPendingCheckout`): whether there was one.
    pub fn discard_pending_checkout(&mut self, storage: &dyn Storage) -> (bool, Vec<Effect>) {
        let mut fx = Effects::default();
        let found = self.pending_checkout(storage).is_some();
        if found {
            self.side_write(&self.keys.checkout(), None, &mut fx);
            if self
                .checkout
                .flow
                .as_ref()
                .is_some_and(|f| f.origin == Origin::Background)
            {
                self.checkout.flow = None;
            }
        }
        (found, fx.into_vec())
    }

    /// The order archive (`orders()`), oldest first.
    pub fn orders(&self, storage: &dyn Storage) -> Vec<Value> {
        self.side_read(storage, &self.keys.orders())
            .and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
            .unwrap_or_default()
    }

    /// The archived order of cart `cart_id`, if the archive holds one.
    pub(crate) fn archived_in(&self, storage: &dyn Storage, cart_id: &str) -> Option<ArchivedOrder> {
        let text = self.side_read(storage, &self.keys.orders())?;
        client::archived_order(&text, cart_id).and_then(|v| crate::tracked::from_value(&v).ok())
    }

    /// Appends to the archive. An unreadable archive is kept aside and a new one started.
    fn archive(&mut self, storage: &dyn Storage, entry: &ArchivedOrder, now: Timestamp, fx: &mut Effects) {
        let key = self.keys.orders();
        let existing = self.side_read(storage, &key);
        let text = match client::archive_append(existing.as_deref(), entry) {
            Ok(text) => text,
            Err(e) => {
                self.set_aside(&key, e, now, fx);
                client::archive_append(None, entry).ok().flatten()
            }
        };
        if let Some(text) = text {
            self.side_write(&key, Some(text), fx);
        }
    }

    // ------------------------------------------------------------------ starting

    /// Places the order (`cart.checkout(options)`). Returns the id its outcome is settled with
    /// ([`Effect::Settle`]); a checkout already running here returns its id. `online` is
    /// `navigator.onLine`. Refusals before anything is sent are the `Err`.
    pub fn checkout(
        &mut self,
        mut input: CheckoutInput,
        online: bool,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> std::result::Result<(u64, Vec<Effect>), CheckoutError> {
        let mut fx = Effects::default();
        if let Some(flow) = self.checkout.flow.as_mut() {
            if flow.kind == Kind::Checkout {
                flow.origin = Origin::Call;
                return Ok((flow.id, fx.into_vec()));
            }
            // A lookup gives way: the checkout's own answer says whether the cart was ordered.
            self.checkout.flow = None;
        }
        input.check().map_err(CheckoutError::from)?;
        self.sync_direct(storage, now, &mut fx);
        let shown = self.checkable(now)?;
        let id = self.checkout.id();
        let protocol = input.protocol();
        if protocol != Protocol::SpecB {
            if !online {
                return Err(offline_error());
            }
            let sync = SyncInput {
                cart: self.shown.clone(),
                customer_id: input.customer_id.clone().or_else(|| self.shown.customer().id.clone()),
                view: shown,
                po_number: input.po_number.clone(),
                token: input.token.clone(),
                access_key: input.access_key.clone(),
                channel: None,
                storefront_url: input.storefront_url.clone(),
                payment_method: input.payment_method_id.clone(),
                account_id: None,
            };
            let plan = plan_for(protocol, sync, &self.catalog.catalog).map_err(CheckoutError::from)?;
            self.start_flow(
                self.flow(id, Origin::Call, Kind::Checkout, protocol, plan, &input, None),
                storage,
                now,
                entropy,
                &mut fx,
            );
            return Ok((id, fx.into_vec()));
        }
        let record = self.new_record(&input, &shown, storage, now, entropy)?;
        if !online {
            if !input.queue {
                return Err(offline_error());
            }
            let record = CheckoutRecord {
                state: RecordState::Queued,
                ..record
            };
            self.store_record(&record, &mut fx);
            self.watch_online(&mut fx);
            fx.push(Effect::Settle {
                id,
                outcome: Ok(queued_result(&record)),
            });
            return Ok((id, fx.into_vec()));
        }
        self.store_record(&record, &mut fx);
        let plan = Box::new(SpecB::new(&record));
        let flow = self.flow(id, Origin::Call, Kind::Checkout, protocol, plan, &input, Some(&record));
        self.start_flow(flow, storage, now, entropy, &mut fx);
        Ok((id, fx.into_vec()))
    }

    /// The shown view, if the cart can be checked out (active, not expired, no blocking issue).
    fn checkable(&self, now: Timestamp) -> std::result::Result<CartView, CheckoutError> {
        let cart = &self.shown;
        if cart.status() != CartStatus::Active {
            let status = cart.status().as_str();
            return Err(CheckoutError::new(
                ErrorCode::CartNotActive.as_str(),
                format!("the cart is {status}"),
                0,
                json!({ "status": status }),
            ));
        }
        if cart.is_expired(now) {
            return Err(CheckoutError::new(
                ErrorCode::CartExpired.as_str(),
                "the cart has expired",
                0,
                json!({ "expiresAt": cart.expires_at() }),
            ));
        }
        let shown = self.view(now).map_err(CheckoutError::from)?;
        if !shown.can_checkout {
            let blocking: Vec<_> = shown.issues.iter().filter(|i| i.severity == Severity::Error).collect();
            let (code, message) = blocking
                .first()
                .map_or(("INVALID_REQUEST", "the cart cannot be checked out"), |i| {
                    (i.code.as_str(), i.message.as_str())
                });
            return Err(CheckoutError::new(code, message, 0, json!({ "issues": blocking })));
        }
        Ok(shown)
    }

    /// The SPEC-B record of this checkout: the stored one's key if it is the same request (same cart
    /// id, version, endpoint and body), else a new key.
    fn new_record(
        &self,
        input: &CheckoutInput,
        shown: &CartView,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> std::result::Result<CheckoutRecord, CheckoutError> {
        let cart = &self.shown;
        let options = CheckoutOptions {
            payment_method_id: input.payment_method_id.clone(),
            customer_id: input.customer_id.clone(),
            promo_code: input.promo_code.clone(),
            po_number: input.po_number.clone(),
        };
        let request = CheckoutRequest::from_cart(cart, shown, options).map_err(CheckoutError::from)?;
        let body = serde_json::to_value(&request)
            .map_err(|e| CheckoutError::from(CartError::invalid_request(e.to_string())))?;
        let pending = self.pending_checkout(storage);
        // One secret per cart id: a record of this cart that got no answer may have placed the order
        // under it.
        let secret = match &pending {
            Some(r) if r.cart_id == cart.id() && !r.secret.is_empty() => r.secret.clone(),
            _ => entropy.hex(16),
        };
        let (idempotency_key, attempts, server_cart_id) = match pending {
            Some(r) if r.is_same_request(cart.id(), cart.version(), &input.endpoint, &body) => {
                (r.idempotency_key, r.attempts, r.server_cart_id)
            }
            _ => (format!("{}-v{}-{}", cart.id(), cart.version(), entropy.hex(8)), 0, None),
        };
        Ok(CheckoutRecord {
            schema: client::RECORD_SCHEMA,
            state: RecordState::Sending,
            cart_id: cart.id().to_string(),
            version: cart.version(),
            idempotency_key,
            endpoint: input.endpoint.clone(),
            body,
            cart: cart.clone(),
            created_at: now,
            attempts,
            server_cart_id,
            secret,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn flow(
        &self,
        id: u64,
        origin: Origin,
        kind: Kind,
        protocol: Protocol,
        plan: Box<dyn Plan>,
        input: &CheckoutInput,
        record: Option<&CheckoutRecord>,
    ) -> Flow {
        Flow {
            id,
            origin,
            kind,
            protocol,
            plan,
            endpoint: input.endpoint.clone(),
            cart: record.map_or_else(|| self.shown.clone(), |r| r.cart.clone()),
            key: record.map(|r| r.idempotency_key.clone()),
            send: input.send,
            queue: input.queue || record.is_some_and(|r| r.state == RecordState::Queued),
            request: None,
            attempt: 0,
            waiting: 0,
            attempts: record.map_or(0, |r| r.attempts),
        }
    }

    fn start_flow(
        &mut self,
        flow: Flow,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        self.checkout.flow = Some(flow);
        self.step(None, storage, now, entropy, fx);
    }

    /// Sends the stored record again, with its key (`resumeCheckout`): `None` when nothing is pending.
    pub fn resume_checkout(
        &mut self,
        send: SendOptions,
        online: bool,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> (Option<u64>, Vec<Effect>) {
        let mut fx = Effects::default();
        if let Some(flow) = self.checkout.flow.as_mut().filter(|f| f.kind == Kind::Checkout) {
            flow.origin = Origin::Call;
            return (Some(flow.id), fx.into_vec());
        }
        let Some(record) = self.pending_checkout(storage) else {
            return (None, fx.into_vec());
        };
        let id = self.checkout.id();
        if !online {
            self.watch_online(&mut fx);
            fx.push(Effect::Settle {
                id,
                outcome: Ok(queued_result(&record)),
            });
            return (Some(id), fx.into_vec());
        }
        self.resend(record, Origin::Call, id, send, storage, now, entropy, &mut fx);
        (Some(id), fx.into_vec())
    }

    #[allow(clippy::too_many_arguments)]
    fn resend(
        &mut self,
        mut record: CheckoutRecord,
        origin: Origin,
        id: u64,
        send: SendOptions,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        let queued = record.state == RecordState::Queued;
        record.state = RecordState::Sending;
        self.store_record(&record, fx);
        let input = CheckoutInput {
            endpoint: record.endpoint.clone(),
            queue: queued,
            send,
            ..CheckoutInput::default()
        };
        let plan = Box::new(SpecB::new(&record));
        let flow = self.flow(id, origin, Kind::Checkout, Protocol::SpecB, plan, &input, Some(&record));
        self.start_flow(flow, storage, now, entropy, fx);
    }

    /// Finds out whether the cart of a record without answer was ordered.
    fn lookup(
        &mut self,
        record: &CheckoutRecord,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        let id = self.checkout.id();
        let input = CheckoutInput {
            endpoint: record.endpoint.clone(),
            ..CheckoutInput::default()
        };
        // A server that keeps its own carts knows this checkout by the cart it created.
        let plan = Box::new(OrderLookup::new(
            record.server_cart_id.as_deref().unwrap_or(&record.cart_id),
            &record.secret,
        ));
        let flow = self.flow(
            id,
            Origin::Background,
            Kind::Lookup,
            Protocol::SpecB,
            plan,
            &input,
            Some(record),
        );
        self.start_flow(flow, storage, now, entropy, fx);
    }

    fn watch_online(&mut self, fx: &mut Effects) {
        if !self.checkout.watching {
            self.checkout.watching = true;
            fx.push(Effect::WatchOnline);
        }
    }

    /// What open does with a stored record: one sent or queued and never answered is sent again with
    /// its key (the shopper asked for the order and saw no answer); one that ended without an answer is
    /// looked up, never resent. Offline, both wait for `online`.
    pub(crate) fn checkout_at_open(
        &mut self,
        online: bool,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        self.background(online, storage, now, entropy, fx);
    }

    /// The browser is back online (the `online` event).
    pub fn online(&mut self, storage: &dyn Storage, now: Timestamp, entropy: &mut dyn Entropy) -> Vec<Effect> {
        let mut fx = Effects::default();
        self.background(true, storage, now, entropy, &mut fx);
        fx.into_vec()
    }

    fn background(
        &mut self,
        online: bool,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        if self.checkout.flow.is_some() {
            return;
        }
        let Some(record) = self.pending_checkout(storage) else {
            return;
        };
        if self.archived_in(storage, &record.cart_id).is_some() {
            // Another tab finished it.
            return self.drop_record(storage, &record.idempotency_key, fx);
        }
        if record.state == RecordState::Failed
            && now.millis().saturating_sub(record.created_at.millis()) > LOOKUP_FOR_MS
        {
            self.side_write(&self.keys.checkout(), None, fx);
            return;
        }
        if !online {
            return self.watch_online(fx);
        }
        match record.state {
            RecordState::Failed => self.lookup(&record, storage, now, entropy, fx),
            RecordState::Sending | RecordState::Queued => {
                let id = self.checkout.id();
                self.resend(
                    record,
                    Origin::Background,
                    id,
                    SendOptions::default(),
                    storage,
                    now,
                    entropy,
                    fx,
                );
            }
        }
    }

    pub(crate) fn checkout_timer(
        &mut self,
        id: u64,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        if id == TIMER_LOOKUP {
            return self.background(true, storage, now, entropy, fx);
        }
        let Some(flow) = self.checkout.flow.as_mut().filter(|f| f.waiting == id) else {
            return;
        };
        let Some(request) = flow.request.clone() else {
            return;
        };
        self.send(request, entropy, fx);
    }

    // ------------------------------------------------------------------ running

    /// Hands `response` to the plan and acts on its next step.
    fn step(
        &mut self,
        response: Option<HttpResponse>,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        let Some(flow) = self.checkout.flow.as_mut() else {
            return;
        };
        let next = flow.plan.next(response);
        let learnt = flow.plan.remote_cart().map(str::to_string).zip(flow.key.clone());
        if let Some((server_cart, key)) = learnt {
            self.remember_server_cart(storage, &key, server_cart, fx);
        }
        self.next_step(next, storage, now, entropy, fx);
    }

    /// Keeps the server's own cart id in the record of `key` (SPEC-B servers that keep their own
    /// carts), so that a resend checks out that cart instead of building another.
    fn remember_server_cart(&mut self, storage: &dyn Storage, key: &str, server_cart: String, fx: &mut Effects) {
        let Some(mut record) = self.pending_checkout(storage).filter(|r| r.idempotency_key == key) else {
            return;
        };
        if record.server_cart_id.as_deref() != Some(server_cart.as_str()) {
            record.server_cart_id = Some(server_cart);
            self.store_record(&record, fx);
        }
    }

    /// Acts on the plan's next step.
    fn next_step(
        &mut self,
        next: Result<Step>,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        match next {
            Ok(Step::Send(request)) => {
                if let Some(flow) = self.checkout.flow.as_mut() {
                    flow.attempt = 0;
                }
                self.send(request, entropy, fx);
            }
            Ok(Step::Done(outcome)) => self.finish(outcome, storage, now, entropy, fx),
            Err(e) => self.refused(e, storage, fx),
        }
    }

    /// Sends the flow's request (a new `X-Request-ID` per attempt).
    fn send(&mut self, mut request: HttpRequest, entropy: &mut dyn Entropy, fx: &mut Effects) {
        let id = self.checkout.id();
        let Some(flow) = self.checkout.flow.as_mut() else {
            return;
        };
        flow.request = Some(request.clone());
        flow.waiting = id;
        flow.attempts = flow.attempts.saturating_add(1);
        request.path = format!("{}{}", flow.endpoint, request.path);
        if flow.protocol == Protocol::SpecB {
            // SPEC-B's request id. Other platforms get only the headers they define: a browser's CORS
            // preflight fails on any other (Shopware allows no X-Request-ID).
            request
                .headers
                .insert("X-Request-ID".into(), format!("req_{}", entropy.hex(12)));
        }
        fx.push(Effect::Send {
            id,
            request,
            timeout_ms: flow.send.timeout_ms,
        });
    }

    /// The outcome of request `id` ([`Effect::Send`]).
    pub fn http_answer(
        &mut self,
        id: u64,
        outcome: HttpOutcome,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> Vec<Effect> {
        let mut fx = Effects::default();
        let Some(flow) = self.checkout.flow.as_ref().filter(|f| f.waiting == id) else {
            return fx.into_vec(); // a flow that was given up, or a stale answer
        };
        let repeatable = flow.request.as_ref().is_some_and(idempotent);
        let timeout = flow.send.timeout_ms;
        let (failure, hint) = match outcome {
            HttpOutcome::Answer(r) => {
                match client::classify(r.status, r.body.pointer("/error/code").and_then(Value::as_str)) {
                    Verdict::Success | Verdict::Refused => {
                        self.step(Some(r), storage, now, entropy, &mut fx);
                        return fx.into_vec();
                    }
                    // A request that may take effect twice goes back to its plan, which finds out
                    // (a 429 was refused before it was processed: that one is sent again).
                    Verdict::Retry if !repeatable && r.status != 429 => {
                        self.step(Some(r), storage, now, entropy, &mut fx);
                        return fx.into_vec();
                    }
                    Verdict::Retry => {
                        let hint = retry_hint(&r, now);
                        (NoAnswer::Server(r, hint), hint)
                    }
                }
            }
            HttpOutcome::Network(cause) => (NoAnswer::Network(cause), None),
            HttpOutcome::Timeout => (NoAnswer::Timeout(timeout), None),
        };
        if failure.is_network() && !repeatable {
            self.no_answer(failure, storage, now, entropy, &mut fx);
            return fx.into_vec();
        }
        let wait = self
            .checkout
            .flow
            .as_ref()
            .and_then(|f| f.send.policy.delay_ms(f.attempt, hint, entropy.unit()));
        match wait {
            Some(ms) => {
                let wait_id = self.checkout.id();
                if let Some(flow) = self.checkout.flow.as_mut() {
                    flow.attempt = flow.attempt.saturating_add(1);
                    flow.waiting = wait_id;
                }
                fx.push(Effect::Wait {
                    id: wait_id,
                    ms,
                    retry: true,
                });
            }
            None => self.no_answer(failure, storage, now, entropy, &mut fx),
        }
        fx.into_vec()
    }

    /// The retries are spent without a usable answer.
    fn no_answer(
        &mut self,
        failure: NoAnswer,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        let Some(flow) = self.checkout.flow.as_ref() else {
            return;
        };
        if flow.kind == Kind::Lookup {
            self.checkout.flow = None;
            return; // still unknown: looked up again on `online` or at the next open
        }
        if flow.protocol != Protocol::SpecB {
            if let NoAnswer::Server(r, _) = failure {
                // The plan says what the last answer means (its step, status and body).
                return self.step(Some(r), storage, now, entropy, fx);
            }
            let attempts = flow.attempts;
            if let Some(next) = self.checkout.flow.as_mut().and_then(|f| f.plan.no_answer()) {
                // The request may have taken effect: the plan finds out before anything else.
                return self.next_step(next, storage, now, entropy, fx);
            }
            return self.settle(Err(failure.error(attempts)), fx);
        }
        let cart_id = flow.cart.id().to_string();
        if let Some(archived) = self.archived_in(storage, &cart_id) {
            // Another page sent the same record and got the answer.
            let outcome = SyncOutcome {
                protocol: Protocol::SpecB,
                remote_cart_id: None,
                remote_total: None,
                orders: Vec::new(),
                answer: Some(archived.order),
            };
            return self.finish(outcome, storage, now, entropy, fx);
        }
        let Some(mut record) = self
            .pending_checkout(storage)
            .filter(|r| Some(&r.idempotency_key) == flow.key.as_ref())
        else {
            let e = failure.error(flow.attempts);
            return self.settle(Err(e), fx);
        };
        record.attempts = flow.attempts;
        let (origin, queue) = (flow.origin, flow.queue);
        let e = failure.error(flow.attempts);
        if queue && (failure.is_network() || record.state == RecordState::Queued) {
            record.state = RecordState::Queued;
            self.store_record(&record, fx);
            self.watch_online(fx);
            let _ = origin;
            return self.settle(Ok(queued_result(&record)), fx);
        }
        record.state = RecordState::Failed;
        self.store_record(&record, fx);
        self.settle(Err(e), fx);
        // Whether that attempt placed the order is unknown: find out before the shopper goes on.
        self.watch_online(fx);
        fx.push(Effect::Wait {
            id: TIMER_LOOKUP,
            ms: LOOKUP_AFTER_MS,
            retry: false,
        });
    }

    /// Ends the flow with `outcome` (its promise, or the `error` event when nobody waits for it).
    fn settle(&mut self, outcome: std::result::Result<Value, CheckoutError>, fx: &mut Effects) {
        let Some(flow) = self.checkout.flow.take() else {
            return;
        };
        match (flow.origin, outcome) {
            (Origin::Call, outcome) => fx.push(Effect::Settle { id: flow.id, outcome }),
            (Origin::Background, Err(e)) if flow.kind == Kind::Checkout => fx.emit(Event::Error(Reported::Checkout(e))),
            (Origin::Background, _) => {}
        }
    }

    /// A definite refusal of the plan.
    fn refused(&mut self, e: CartError, storage: &dyn Storage, fx: &mut Effects) {
        let Some(flow) = self.checkout.flow.as_ref() else {
            return;
        };
        if flow.kind == Kind::Lookup {
            // Not ordered (or the answer said nothing): the record stays, looked up again later.
            self.checkout.flow = None;
            return;
        }
        let mut error = CheckoutError::from(e.clone());
        if flow.protocol == Protocol::SpecB {
            // The server's own code and details, not the plan's CHECKOUT_FAILED wrapper.
            (error.code, error.details) = refusal_parts(&e);
        }
        if let Some(key) = flow.key.clone() {
            if is_outcome_unknown(&e) {
                // An order may exist: keep the record (its key, its server cart), as after no answer.
                if let Some(mut record) = self.pending_checkout(storage).filter(|r| r.idempotency_key == key) {
                    record.state = RecordState::Failed;
                    record.attempts = flow.attempts;
                    self.store_record(&record, fx);
                }
                if let Value::Object(details) = &mut error.details {
                    details.insert("outcome".into(), json!("unknown"));
                }
                return self.settle(Err(error), fx);
            }
            // The server stores no failure: nothing was placed, and the next attempt starts afresh.
            self.drop_record(storage, &key, fx);
        }
        self.settle(Err(error), fx);
    }

    /// The order went through: archive it, announce it, and replace the cart (keeping what was added
    /// meanwhile). Settles the flow with the order.
    fn finish(
        &mut self,
        outcome: SyncOutcome,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        let Some(flow) = self.checkout.flow.as_ref() else {
            return;
        };
        let order = outcome.answer.clone().unwrap_or_else(|| plan_result(&outcome));
        let sent = client::ordered_cart(&flow.cart, &order);
        let key = flow.key.clone();
        let ordered = client::into_ordered(sent.clone(), now);
        let entry = ArchivedOrder {
            order_id: order.get("orderId").and_then(Value::as_str).map(str::to_string),
            cart_id: sent.id().to_string(),
            ordered_at: now,
            order: order.clone(),
            cart: ordered.clone(),
        };
        self.archive(storage, &entry, now, fx);
        if let Some(key) = key {
            self.drop_record(storage, &key, fx);
        }
        self.checkout.quote = None;
        self.announce(sent.id(), Some(order.clone()), &ordered, now, fx);
        if self.shown.id() == sent.id() && self.shown.status() == CartStatus::Active {
            self.replace_after_order(sent, storage, now, entropy, fx);
        }
        self.settle(Ok(order), fx);
    }

    fn announce(&mut self, cart_id: &str, order: Option<Value>, ordered: &CartState, now: Timestamp, fx: &mut Effects) {
        if self.announced.as_deref() == Some(cart_id) {
            return;
        }
        self.announced = Some(cart_id.to_string());
        if let Ok(view) = crate::pricing::price(ordered, &self.catalog.catalog, now) {
            fx.emit(Event::Ordered {
                order,
                cart: Box::new(view),
            });
        }
    }

    /// The ordered cart gives way to a new one, which keeps what the cart holds beyond the order.
    fn replace_after_order(
        &mut self,
        sent: CartState,
        storage: &dyn Storage,
        now: Timestamp,
        entropy: &mut dyn Entropy,
        fx: &mut Effects,
    ) {
        let next = match self
            .defaults
            .new_cart(&self.catalog.catalog, now, Some(&self.shown), entropy)
        {
            Ok(next) => next,
            Err(e) => return fx.error(e),
        };
        let shown = super::op::carry_over(&self.shown, &sent, next.clone(), &self.catalog.catalog, now);
        self.shown = shown;
        let kind = OpKind::Ordered {
            ordered: Box::new(sent),
            next: Box::new(next),
        };
        if let Err(e) = self.record(kind, Vec::new(), false, storage, now, fx) {
            fx.error(e);
        }
        fx.emit(Event::Change);
    }

    // ------------------------------------------------------------------ accepted prices

    /// After `PRICE_CHANGED`: adopts the server's prices for the cart as it is (`acceptServerPrices`).
    pub fn accept_server_prices(
        &mut self,
        details: &Value,
        storage: &dyn Storage,
        now: Timestamp,
    ) -> Result<(PriceReview, Vec<Effect>)> {
        let mut fx = Effects::default();
        self.sync_direct(storage, now, &mut fx);
        let shown = self.view(now)?;
        let (quote, review) = PriceQuote::accept(&self.shown, &shown, details)?;
        self.checkout.quote = Some(quote);
        fx.emit(Event::Change);
        Ok((review, fx.into_vec()))
    }
}

fn queued_result(record: &CheckoutRecord) -> Value {
    json!({
        "status": "queued",
        "protocol": "spec-b",
        "cartId": record.cart_id,
        "idempotencyKey": record.idempotency_key,
    })
}
