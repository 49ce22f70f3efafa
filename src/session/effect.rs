//! What the session asks its shell to do. The session decides; the shell (`src/web/`, or a test)
//! carries the effects out in order, and reports back what happened (a write that threw, a commit that
//! completed, an HTTP answer, a timer) as the next input.

use crate::checkout::plan::HttpRequest;
use crate::error::CartError;
use crate::pricing::CartView;
use serde_json::Value;

/// One thing to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `storage.setItem(key, value)`. A throw is reported with [`super::Session::write_failed`].
    Write { key: String, value: String },
    /// `storage.removeItem(key)`.
    Remove { key: String },
    /// Copy the value under `from` to `to` exactly as stored, never through text: a corrupt blob may not
    /// even be well-formed UTF-16, and the copy must be the original.
    Preserve { from: String, to: String },
    /// Run a commit at the commit point (IndexedDB): in one read-write transaction, read the record,
    /// hand it to [`super::Session::commit`], store what it returns, then report the outcome to
    /// [`super::Session::committed`]. At most one is outstanding per session.
    Commit,
    /// Tell the other tabs (and other carts of this page) about a committed record.
    Broadcast(String),
    /// Deliver an event to the cart's listeners, after the current call has returned.
    Emit(Event),
    /// Send an HTTP request; report the answer (or its absence) to `Session::http_answer` with `id`.
    Send {
        id: u64,
        request: HttpRequest,
        timeout_ms: u64,
    },
    /// Call `Session::timer` with `id` after `ms` milliseconds (a retry, a lookup, a late commit).
    /// `retry`: the wait before a request is sent again, which a checkout's `sleep` option replaces.
    Wait { id: u64, ms: u64, retry: bool },
    /// Settle the promise of checkout `id`.
    Settle {
        id: u64,
        outcome: Result<Value, CheckoutError>,
    },
    /// Listen to the browser's `online` event (once): a checkout is waiting for the network.
    WatchOnline,
}

/// What listeners hear (`cart.on(name, listener)`).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The view changed: here, in another tab, or by a new catalog. The shell passes the current view.
    Change,
    /// Something went wrong that did not make a call fail (corrupt storage, storage that throws, a
    /// change another tab's change made impossible, a background checkout refused).
    Error(Reported),
    /// The stored cart had expired; a new one replaced it. The expired cart's view.
    Expired(Box<CartView>),
    /// The cart was ordered (here, in another tab, or found ordered after a lost answer).
    Ordered { order: Option<Value>, cart: Box<CartView> },
}

/// An error as events report it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reported {
    Cart(CartError),
    Checkout(CheckoutError),
}

/// A failed checkout: a refusal of the server (its code, message and details, `status` the HTTP
/// status) or of the client (`status` 0). The codes of servers are open-ended (`PAYMENT_FAILED`), so
/// `code` is text; the client's own are [`crate::ErrorCode`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutError {
    pub code: String,
    pub message: String,
    pub status: u16,
    pub details: Value,
}

impl CheckoutError {
    pub fn new(code: &str, message: impl Into<String>, status: u16, details: Value) -> Self {
        CheckoutError {
            code: code.to_string(),
            message: message.into(),
            status,
            details,
        }
    }
}

impl From<CartError> for CheckoutError {
    /// A plan's `CHECKOUT_FAILED` carries the HTTP status in its details.
    fn from(e: CartError) -> Self {
        let status = e
            .details
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        CheckoutError {
            code: e.code.as_str().to_string(),
            message: e.message,
            status,
            details: e.details,
        }
    }
}

/// The effects of one input, in order.
#[derive(Debug, Default)]
pub(crate) struct Effects(pub Vec<Effect>);

impl Effects {
    pub fn push(&mut self, effect: Effect) {
        self.0.push(effect);
    }

    pub fn emit(&mut self, event: Event) {
        // Several changes in one call are one notification, after everything else that happened.
        if event == Event::Change {
            self.0.retain(|e| *e != Effect::Emit(Event::Change));
        }
        self.0.push(Effect::Emit(event));
    }

    pub fn error(&mut self, error: CartError) {
        self.emit(Event::Error(Reported::Cart(error)));
    }

    pub fn write(&mut self, key: &str, value: String) {
        self.0.push(Effect::Write {
            key: key.to_string(),
            value,
        });
    }

    pub fn remove(&mut self, key: &str) {
        self.0.push(Effect::Remove { key: key.to_string() });
    }

    pub fn into_vec(self) -> Vec<Effect> {
        self.0
    }
}
