//! Ownership: a cart created through the API, and every order, belongs to whoever holds its secret
//! (docs/server.md, "Ownership").
//!
//! The secret travels in `X-Cart-Secret`. `POST /carts` answers it once (the client may propose its
//! own); reading or changing that cart, checking it out and reading its orders all need it. A browser
//! cart checked out directly names its secret in the checkout request, and its order keeps it. The
//! database keeps only a SHA-256 of each secret, so a copy of the database reads no order.
//!
//! A missing header is 401 before any lookup (it says nothing about what exists); a wrong secret is
//! answered exactly like an unknown id (404), so a cart or an order id alone reveals nothing.

use crate::error::ApiError;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The request header that carries a secret.
pub const HEADER: &str = "x-cart-secret";

/// Bytes of randomness in a secret the server draws (128 bits, 32 hex digits).
const SECRET_BYTES: usize = 16;

/// A secret as the client sent it: 32 to 128 letters, digits, `-` or `_` (at least 128 bits when it
/// is random hex or base64url).
pub struct Secret(String);

impl Secret {
    /// A new secret from `ids`' generator.
    pub fn generate(ids: &crate::ids::Ids) -> Result<Secret, ApiError> {
        let bytes = ids.bytes::<SECRET_BYTES>().map_err(ApiError::internal)?;
        Ok(Secret(crate::ids::hex(&bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database keeps: the SHA-256 of the secret, as hex.
    pub fn hash(&self) -> String {
        crate::ids::hex(&Sha256::digest(self.0.as_bytes()))
    }

    /// Whether this secret is the one whose hash was stored. A resource without a stored hash (written
    /// before ownership existed) belongs to nobody.
    pub fn opens(&self, stored: Option<&str>) -> bool {
        stored.is_some_and(|h| h == self.hash())
    }
}

/// The request's secret, when it sends one; a malformed one is 400.
pub fn optional(headers: &HeaderMap) -> Result<Option<Secret>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let ok = |s: &&str| {
        (32..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let secret = value.to_str().ok().filter(ok).ok_or_else(|| {
        ApiError::invalid_request(
            "X-Cart-Secret: 32 to 128 letters, digits, '-' or '_'",
            "header:X-Cart-Secret",
        )
    })?;
    Ok(Some(Secret(secret.to_string())))
}

/// The request's secret; 401 `CART_SECRET_REQUIRED` without one.
pub fn required(headers: &HeaderMap) -> Result<Secret, ApiError> {
    optional(headers)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "CART_SECRET_REQUIRED",
            "this request needs the cart's secret in X-Cart-Secret",
        )
        .with_details(json!({ "header": "X-Cart-Secret" }))
    })
}
