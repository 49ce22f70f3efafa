//! What every answer says about how it may be used (docs/server.md): security headers on every answer,
//! CORS for the storefront origins an operator allows, and the guard in front of the file folders.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The headers added to every answer; the policy is built once from `--connect-src`.
#[derive(Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
}

impl SecurityHeaders {
    /// The pages run their own scripts and the wasm module (`'wasm-unsafe-eval'`, nothing inline),
    /// talk to their own origin (plus `--connect-src`) and may not be framed.
    pub fn new(connect_src: &[String]) -> SecurityHeaders {
        let connect = std::iter::once("'self'")
            .chain(connect_src.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
             connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        // The flag values were checked by the command line (no separators, no quotes): a value that is
        // still not a header falls back to the strict policy rather than to none.
        let csp = HeaderValue::from_str(&policy).unwrap_or_else(|_| {
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; frame-ancestors 'none'",
            )
        });
        SecurityHeaders { csp }
    }
}

pub async fn secure(State(policy): State<SecurityHeaders>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.csp);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `Cache-Control: <policy>` on every answer whose handler set none. The API's is `no-store` (carts,
/// addresses and orders are never kept by a browser or a shared cache; the catalog sets `no-cache`
/// with its ETag itself); files under their plain names get `no-cache` (src/assets.rs).
pub async fn cache_control(State(policy): State<HeaderValue>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, policy);
    }
    response
}

/// CORS for the API: only the listed origins (none by default: the storefront is same-origin),
/// preflights answered, the headers a checkout client reads exposed.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("x-idempotency-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(crate::owner::HEADER),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-response-time"),
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderName::from_static("idempotent-replayed"),
            header::RETRY_AFTER,
            header::ETAG,
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// `service` behind the guard of `root`.
pub fn guarded<S>(root: &Path, service: S) -> axum::routing::MethodRouter
where
    S: tower::Service<Request, Error = std::convert::Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    let root = root.to_path_buf();
    axum::routing::any_service(service).layer(middleware::from_fn_with_state(root, guard))
}

/// 404 for a dotfile or dot-folder anywhere in the path, and for a file whose real location (symlinks
/// followed) is outside the folder. Anything else goes on to the file service.
async fn guard(State(root): State<PathBuf>, req: Request, next: Next) -> Response {
    match allowed(&root, req.uri().path()).await {
        true => next.run(req).await,
        false => (StatusCode::NOT_FOUND, Body::empty()).into_response(),
    }
}

async fn allowed(root: &Path, uri_path: &str) -> bool {
    let mut path = root.to_path_buf();
    for segment in uri_path.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if decoded.starts_with('.') || decoded.contains(['/', '\\']) {
            return false;
        }
        path.push(decoded.as_ref());
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return false;
    }
    match (
        tokio::fs::canonicalize(&path).await,
        tokio::fs::canonicalize(root).await,
    ) {
        (Ok(real), Ok(real_root)) => real.starts_with(real_root),
        // Missing files are the file service's to answer (404).
        (Err(_), _) => true,
        (Ok(_), Err(_)) => false,
    }
}
