//! The one error type of the HTTP API: a status, a stable code and the SPEC-B body
//! `{"error": {"code", "message", "details"}}`.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use wasm_cart::checkout::spec_b::ErrorBody;
use wasm_cart::pricing::{CartView, Issue, IssueCode, Severity};
use wasm_cart::CartError;

/// Boxed, so that `Result<_, ApiError>` stays one pointer wide.
#[derive(Debug, Clone)]
pub struct ApiError(Box<Inner>);

#[derive(Debug, Clone)]
pub struct Inner {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Option<Value>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(Inner {
            status,
            code: code.to_string(),
            message: message.into(),
            details: None,
            headers: Vec::new(),
        }))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn code(&self) -> &str {
        &self.0.code
    }

    pub fn details(&self) -> Option<&Value> {
        self.0.details.as_ref()
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.0.details = Some(details).filter(|d| !d.is_null());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.0.headers.push((name, value));
        self
    }

    pub fn invalid_request(message: impl Into<String>, field: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message).with_details(json!({ "field": field }))
    }

    pub fn cart_not_found(id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "CART_NOT_FOUND", format!("no cart {id}"))
            .with_details(json!({ "cartId": id }))
    }

    pub fn cart_expired(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "CART_NOT_FOUND",
            format!("cart {id} has expired"),
        )
        .with_details(json!({ "cartId": id, "expired": true }))
    }

    /// A failure of ours (database, I/O). Logged with its cause; the client sees no internals.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        eprintln!("internal error: {cause}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "internal error")
    }

    /// An engine refusal with the status SPEC-B gives its code.
    pub fn from_cart(e: CartError) -> ApiError {
        let status = match e.code.as_str() {
            "INVALID_REQUEST" | "INVALID_ITEM" | "INVALID_QUANTITY" | "TOO_MANY_CODES" | "TOO_MANY_LINES" => {
                StatusCode::BAD_REQUEST
            }
            "ITEM_NOT_FOUND" => StatusCode::NOT_FOUND,
            "CART_EXPIRED" => {
                return ApiError::new(StatusCode::NOT_FOUND, "CART_NOT_FOUND", "the cart has expired")
                    .with_details(json!({ "expired": true }))
            }
            "INCOMPATIBLE_ITEMS" | "CART_NOT_ACTIVE" | "CONCURRENT_MODIFICATION" => StatusCode::CONFLICT,
            "INVALID_PROMO_CODE" | "PRODUCT_UNAVAILABLE" | "AMOUNT_OUT_OF_RANGE" => StatusCode::UNPROCESSABLE_ENTITY,
            _ => return ApiError::internal(&e),
        };
        ApiError::new(status, e.code.as_str(), e.message).with_details(e.details)
    }

    /// The error a cart that cannot be checked out answers with: its first blocking issue, with all of
    /// them in `details.issues`.
    pub fn from_issues(view: &CartView) -> Option<ApiError> {
        let errors: Vec<&Issue> = view.issues.iter().filter(|i| i.severity == Severity::Error).collect();
        let first = errors.first()?;
        let (status, code) = match first.code {
            IssueCode::EmptyCart | IssueCode::InvalidQuantity => (StatusCode::BAD_REQUEST, first.code.as_str()),
            IssueCode::InventoryUnavailable
            | IssueCode::IncompatibleItems
            | IssueCode::RequiresItem
            | IssueCode::CartNotActive => (StatusCode::CONFLICT, first.code.as_str()),
            IssueCode::CartExpired => (StatusCode::NOT_FOUND, "CART_NOT_FOUND"),
            _ => (StatusCode::UNPROCESSABLE_ENTITY, first.code.as_str()),
        };
        let mut details = match &first.details {
            Some(Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        };
        if let Some(line) = &first.line_item_id {
            details.insert("lineItemId".into(), json!(line));
            if let Some(l) = view.line_items.iter().find(|l| &l.id == line) {
                details.insert("productId".into(), json!(l.product_id));
                details.insert("variantId".into(), json!(l.variant_id));
            }
        }
        details.insert("issues".into(), json!(errors));
        Some(ApiError::new(status, code, first.message.clone()).with_details(Value::Object(details)))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.0.status.as_u16(), self.0.code, self.0.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Inner {
            status,
            code,
            message,
            details,
            headers,
        } = *self.0;
        let body = ErrorBody::new(code, message, details);
        let bytes = serde_json::to_vec(&body)
            .unwrap_or_else(|_| br#"{"error":{"code":"INTERNAL_ERROR","message":"internal error"}}"#.to_vec());
        let mut response = (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response();
        for (name, value) in headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
