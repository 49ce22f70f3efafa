//! The one error type of the crate. Every refusal carries a stable, machine-readable `code` (the strings
//! of DESIGN §6 and §8), a human-readable `message`, and structured `details` for the UI.

pub mod details;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Stable error codes. The string form (`code.as_str()`) is part of the public contract: JavaScript,
/// the server's JSON bodies and the conformance vectors all use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The catalog breaks the rules of DESIGN §4–5; the message names the JSON path.
    InvalidCatalog,
    /// Malformed input: a missing field, a wrong type, an unknown action.
    InvalidRequest,
    /// Unknown product or variant.
    InvalidItem,
    /// Not an integer in 1..=9999, or outside the product's own min/max.
    InvalidQuantity,
    /// An `exclusive` or `maxLines` rule would break.
    IncompatibleItems,
    /// A discount code the catalog does not know.
    InvalidPromoCode,
    /// More than 10 discount codes.
    TooManyCodes,
    /// No line item (or custom line item) with that id.
    ItemNotFound,
    /// More than 250 lines.
    TooManyLines,
    /// The cart is `ordered` or `merged`.
    CartNotActive,
    /// The cart passed its `expiresAt`.
    CartExpired,
    /// The product exists but cannot be bought now (unavailable, or no price for the cart).
    ProductUnavailable,
    /// A stale `expectedVersion`.
    ConcurrentModification,
    /// An amount beyond what the engine can represent (it never wraps around).
    AmountOutOfRange,
    /// A persisted snapshot that cannot be read (bad JSON, bad checksum, unknown newer schema).
    InvalidSnapshot,
    /// The server priced the cart differently from what the shopper saw.
    PriceChanged,
    /// A remote cart API refused a request (details: step, HTTP status, remote code, body).
    CheckoutFailed,
    /// A remote cart API answered something this client cannot read.
    InvalidResponse,
    /// Storage threw (quota, `SecurityError`, disabled): the cart goes on in memory (an `error` event).
    StorageUnavailable,
    /// The browser is offline (`navigator.onLine` is false) and the checkout was not queued.
    Offline,
    /// No answer within the attempt's timeout, after every retry.
    Timeout,
    /// The request failed without an HTTP answer, after every retry.
    NetworkError,
    /// A listener kept changing the cart from inside change events; it was stopped.
    ListenerLoop,
    /// A call before `init()` (raised by the package's JavaScript, listed here so every code is one enum).
    NotInitialized,
    /// A call on a cart after `free()` (raised by the package's JavaScript).
    CartFreed,
}

impl ErrorCode {
    /// The stable string, e.g. `"INVALID_QUANTITY"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidCatalog => "INVALID_CATALOG",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidItem => "INVALID_ITEM",
            ErrorCode::InvalidQuantity => "INVALID_QUANTITY",
            ErrorCode::IncompatibleItems => "INCOMPATIBLE_ITEMS",
            ErrorCode::InvalidPromoCode => "INVALID_PROMO_CODE",
            ErrorCode::TooManyCodes => "TOO_MANY_CODES",
            ErrorCode::ItemNotFound => "ITEM_NOT_FOUND",
            ErrorCode::TooManyLines => "TOO_MANY_LINES",
            ErrorCode::CartNotActive => "CART_NOT_ACTIVE",
            ErrorCode::CartExpired => "CART_EXPIRED",
            ErrorCode::ProductUnavailable => "PRODUCT_UNAVAILABLE",
            ErrorCode::ConcurrentModification => "CONCURRENT_MODIFICATION",
            ErrorCode::AmountOutOfRange => "AMOUNT_OUT_OF_RANGE",
            ErrorCode::InvalidSnapshot => "INVALID_SNAPSHOT",
            ErrorCode::PriceChanged => "PRICE_CHANGED",
            ErrorCode::CheckoutFailed => "CHECKOUT_FAILED",
            ErrorCode::InvalidResponse => "INVALID_RESPONSE",
            ErrorCode::StorageUnavailable => "STORAGE_UNAVAILABLE",
            ErrorCode::Offline => "OFFLINE",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::NetworkError => "NETWORK_ERROR",
            ErrorCode::ListenerLoop => "LISTENER_LOOP",
            ErrorCode::NotInitialized => "NOT_INITIALIZED",
            ErrorCode::CartFreed => "CART_FREED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused operation. The cart (or catalog) it was refused for is left exactly as it was.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("{code}: {message}")]
pub struct CartError {
    pub code: ErrorCode,
    pub message: String,
    /// Structured context (`{"field": ..., "lineItemId": ...}`); `null` when there is none.
    #[serde(default)]
    pub details: Value,
}

impl CartError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CartError {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Attaches structured details (an object, by convention).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Shorthand for the most common refusal: malformed input.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        CartError::new(ErrorCode::InvalidRequest, message)
    }

    /// Malformed input in one field or option: `INVALID_REQUEST` with `details.field`.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        CartError::invalid_request(message).with_details(serde_json::json!({ "field": field }))
    }

    /// The error every checked-arithmetic failure maps to.
    pub fn overflow() -> Self {
        CartError::new(ErrorCode::AmountOutOfRange, "amount out of range")
    }
}

/// The crate's result type.
pub type Result<T, E = CartError> = std::result::Result<T, E>;
