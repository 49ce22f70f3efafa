//! The handlers of `/api/v1` (SPEC-B, seed 001), and the checkout transaction.

use crate::error::ApiError;
use crate::owner::{self, Secret};
use crate::store::{self, CheckoutRow, KeyRecord, OrderRow, RelayClaim, RelayUnknownRow, StoredCart, Tx};
use crate::{now, AppState};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasm_cart::checkout::spec_b::{
    apply_with_fields, lines_by_vendor, CheckoutRequest, ErrorBody, MajorAmount, OrderConfirmation, OrderStatus,
    SpecCart, VendorOrder,
};
use wasm_cart::checkout::{Protocol, SyncInput, SyncOutcome};
use wasm_cart::pricing::{price, CartView, Issue, IssueCode};
use wasm_cart::{Action, CartState, CartStatus, Catalog, ErrorCode, NewCart, Timestamp};

/// The simulated payment provider's test methods.
const PAYMENT_METHODS: &[(&str, bool)] = &[
    ("pm_card_visa", true),
    ("pm_card_mastercard", true),
    ("pm_card_declined", false),
];

// ---------------------------------------------------------------------------------------------------
// Helpers

/// Runs blocking work (SQLite) off the async threads.
async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// The catalog in force, read on a blocking thread: reading it may reload the file and seed stock.
async fn catalog_in_force(state: &Arc<AppState>) -> Result<Arc<crate::LoadedCatalog>, ApiError> {
    let st = state.clone();
    blocking(move || Ok(st.catalog())).await
}

fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw_json(status, bytes),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

fn raw_json(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        bytes,
    )
        .into_response()
}

/// Cart ids: 1 to 128 letters, digits, `_`, `-`, `.` or `:`.
fn check_cart_id(id: &str) -> Result<(), ApiError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(
            ApiError::new(StatusCode::BAD_REQUEST, "INVALID_CART_ID", "malformed cart id")
                .with_details(json!({ "field": "cartId", "value": id })),
        )
    }
}

/// Customer ids: 1 to 64 letters, digits, `_`, `-`, `.`, `:` or `@`.
fn check_customer_id(field: &str, id: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(
            ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "Invalid customer ID format")
                .with_details(json!({ "field": field, "value": id })),
        )
    }
}

/// Reads the body, at most `body_limit` bytes (else 413); a non-empty body must be JSON (else 415).
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let limit = state.config.body_limit;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the body exceeds {limit} bytes"),
        )
        .with_details(json!({ "limit": limit }))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        // `--body-timeout` ran out (tower-http's body timeout) or the body is over the limit.
        let inner = e.into_inner();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
        while let Some(err) = source {
            if err.is::<tower_http::timeout::TimeoutError>() {
                return ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "REQUEST_TIMEOUT",
                    "the body did not arrive in time",
                );
            }
            source = err.source();
        }
        too_large()
    })?;
    if !bytes.is_empty() {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "the body must be application/json",
            )
            .with_details(json!({ "contentType": content_type })));
        }
    }
    Ok(bytes)
}

/// Strict JSON: unknown fields and wrong types are 400 `INVALID_REQUEST` with the JSON path.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let reason = e.inner().to_string();
        let message = if field == "." {
            reason.clone()
        } else {
            format!("{field}: {reason}")
        };
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
            .with_details(json!({ "field": field, "reason": reason }))
    })?;
    de.end()
        .map_err(|e| ApiError::invalid_request(format!("trailing characters after the JSON body: {e}"), "."))?;
    Ok(value)
}

/// The SPEC-B cart answer: the SPEC-B fields, our additions, the cart's issues and `canCheckout`.
/// Serialized straight to bytes, so the amounts keep their exact decimal text.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CartBody {
    #[serde(flatten)]
    cart: SpecCart,
    issues: Vec<Issue>,
    can_checkout: bool,
    /// The order of an ordered cart: a client whose checkout answer was lost finds its order here.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    /// The cart's secret, in the answer that created the cart and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn cart_body(view: &CartView, catalog: &Catalog, metadata: Option<&Value>) -> CartBody {
    let mut cart = SpecCart::from_view(view, catalog);
    cart.metadata = metadata.cloned();
    CartBody {
        cart,
        issues: view.issues.clone(),
        can_checkout: view.can_checkout,
        order_id: None,
        secret: None,
    }
}

/// Loads a server cart that `secret` opens (404 otherwise, as if there were none).
fn load_owned_cart(tx: &mut dyn Tx, id: &str, secret: &Secret) -> Result<StoredCart, ApiError> {
    store::load_cart(tx, id)?
        .filter(|c| secret.opens(c.secret_hash.as_deref()))
        .ok_or_else(|| ApiError::cart_not_found(id))
}

/// Loads an active, unexpired server cart that `secret` opens (404 otherwise).
fn load_live_cart(tx: &mut dyn Tx, id: &str, secret: &Secret, now: Timestamp) -> Result<StoredCart, ApiError> {
    let stored = load_owned_cart(tx, id, secret)?;
    if stored.state.is_expired(now) {
        return Err(ApiError::cart_expired(id));
    }
    Ok(stored)
}

// ---------------------------------------------------------------------------------------------------
// Catalog

/// `GET /catalog`: the catalog with live stock, a strong ETag (sha-256 of the bytes), 304 on a match.
pub async fn get_catalog(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let st = state.clone();
    let levels = blocking(move || st.store.read(|tx| Ok(store::stock_levels(tx)?))).await?;
    let mut catalog = catalog_in_force(&state).await?.json.clone();
    if let Some(Value::Array(products)) = catalog.get_mut("products") {
        for product in products.iter_mut() {
            let Some(id) = product.get("id").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            if let Some(q) = levels.get(&(id.clone(), None)) {
                product["stock"] = json!(q);
            }
            if let Some(Value::Array(variants)) = product.get_mut("variants") {
                for variant in variants.iter_mut() {
                    let vid = variant
                        .get("id")
                        .and_then(Value::as_u64)
                        .and_then(|v| u32::try_from(v).ok());
                    if let Some(q) = vid.and_then(|v| levels.get(&(id.clone(), Some(v)))) {
                        variant["stock"] = json!(q);
                    }
                }
            }
        }
    }
    let bytes = serde_json::to_vec(&catalog).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", crate::ids::hex(digest.get(..16).unwrap_or(&digest)));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag);
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static("no-cache");
    if matches {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let mut response = raw_json(StatusCode::OK, bytes);
    response.headers_mut().insert(header::ETAG, etag_value);
    response.headers_mut().insert(header::CACHE_CONTROL, cache);
    Ok(response)
}

// ---------------------------------------------------------------------------------------------------
// Carts

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateCart {
    customer_id: Option<String>,
    metadata: Option<Map<String, Value>>,
    /// Extensions: the cart's currency (default EUR), country (default DE, or CH for CHF) and locale.
    currency: Option<String>,
    country: Option<String>,
    locale: Option<String>,
}

/// `POST /carts` (201), with the cart's secret: the client's own (`X-Cart-Secret`) or a new one.
pub async fn create_cart(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let secret = match owner::optional(&headers)? {
        Some(secret) => secret,
        None => Secret::generate(&state.ids)?,
    };
    let bytes = read_body(&state, &headers, body).await?;
    let request: CreateCart = if bytes.iter().all(u8::is_ascii_whitespace) {
        CreateCart::default()
    } else {
        parse_json(&bytes)?
    };
    if let Some(id) = &request.customer_id {
        check_customer_id("customerId", id)?;
    }
    let metadata = request.metadata.map(Value::Object);
    if let Some(m) = &metadata {
        if m.to_string().len() > 4096 {
            return Err(ApiError::invalid_request(
                "metadata: at most 4096 bytes of JSON",
                "metadata",
            ));
        }
    }
    let currency = request.currency.unwrap_or_else(|| "EUR".to_string());
    let country = request
        .country
        .or_else(|| Some(if currency == "CHF" { "CH" } else { "DE" }.to_string()));
    let new = NewCart {
        id: state.ids.cart().map_err(ApiError::internal)?,
        currency,
        country,
        locale: request.locale,
        customer_id: request.customer_id,
        customer_group: None,
        ttl_seconds: Some(state.config.cart_ttl_seconds),
    };
    let at = now();
    let in_force = catalog_in_force(&state).await?;
    let cart = CartState::new(new, &in_force.catalog, at).map_err(ApiError::from_cart)?;
    let st = state.clone();
    let body = blocking(move || {
        st.store
            .write(|tx| store::save_cart(tx, &cart, metadata.as_ref(), Some(&secret.hash())))?;
        let view = price(&cart, &in_force.catalog, at).map_err(ApiError::from_cart)?;
        let mut body = cart_body(&view, &in_force.catalog, metadata.as_ref());
        body.secret = Some(secret.as_str().to_string());
        Ok(body)
    })
    .await?;
    let mut response = json_response(StatusCode::CREATED, &body);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/carts/{}", body.cart.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /carts/:cartId`, priced against live stock; an ordered cart names its order (`orderId`).
pub async fn get_cart(
    State(state): State<Arc<AppState>>,
    Path(cart_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_cart_id(&cart_id)?;
    let secret = owner::required(&headers)?;
    let st = state.clone();
    let body = blocking(move || {
        let at = now();
        let in_force = st.catalog();
        st.store.read(|tx| {
            let stored = load_owned_cart(tx, &cart_id, &secret)?;
            if stored.state.is_expired(at) {
                return Err(ApiError::cart_expired(&cart_id));
            }
            let catalog = store::live_catalog(tx, &in_force.catalog)?;
            let view = price(&stored.state, &catalog, at).map_err(ApiError::from_cart)?;
            let mut body = cart_body(&view, &catalog, stored.metadata.as_ref());
            if stored.state.status() == CartStatus::Ordered {
                body.order_id = tx.checkout_of_cart(&cart_id)?.map(|(id, _)| id);
            }
            Ok(body)
        })
    })
    .await?;
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddItem {
    product_id: String,
    quantity: i64,
    #[serde(default)]
    variant_id: Option<u32>,
    /// SPEC-B's item metadata (planType, contractLength, imei, ...).
    #[serde(default)]
    metadata: Map<String, Value>,
    /// Provisioning attributes (seed 000), e.g. `domain`.
    #[serde(default)]
    attributes: Map<String, Value>,
}

/// Merges SPEC-B item metadata into the line's attributes. Keys the product itself defines
/// (`planType`, `contractLength`, ...) must agree with the catalog and are not stored twice.
fn item_attributes(request: &AddItem, catalog: &Catalog) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut attributes: BTreeMap<String, Value> = request.attributes.clone().into_iter().collect();
    let product = catalog.product(&request.product_id);
    for (key, value) in &request.metadata {
        if let Some(defined) = product.and_then(|p| p.metadata.get(key)) {
            if defined != value {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ITEM",
                    format!("{} has {key} {defined}, not {value}", request.product_id),
                )
                .with_details(json!({ "field": format!("metadata.{key}"), "expected": defined, "value": value })));
            }
            continue;
        }
        match attributes.get(key) {
            Some(existing) if existing != value => {
                return Err(ApiError::invalid_request(
                    format!("metadata.{key} and attributes.{key} differ"),
                    &format!("metadata.{key}"),
                ))
            }
            _ => {
                attributes.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(attributes)
}

/// `POST /carts/:cartId/items`: adds (or stacks) a line. Refused when the live stock cannot cover it.
pub async fn add_item(
    State(state): State<Arc<AppState>>,
    Path(cart_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_cart_id(&cart_id)?;
    let secret = owner::required(&headers)?;
    let bytes = read_body(&state, &headers, body).await?;
    if bytes.is_empty() {
        return Err(ApiError::invalid_request("a JSON body is required", "."));
    }
    let request: AddItem = parse_json(&bytes)?;
    let in_force = catalog_in_force(&state).await?;
    let attributes = item_attributes(&request, &in_force.catalog)?;
    let action = Action::AddLineItem {
        product_id: Some(request.product_id.clone()),
        sku: None,
        variant_id: request.variant_id,
        quantity: request.quantity,
        attributes,
    };
    let st = state.clone();
    let body = blocking(move || {
        let at = now();
        st.store.write(|tx| {
            let mut stored = load_live_cart(tx, &cart_id, &secret, at)?;
            let actions = [(action.clone(), String::new())];
            apply_with_fields(&mut stored.state, &in_force.catalog, &actions, at).map_err(|mut e| {
                if let Value::Object(map) = &mut e.details {
                    if map.get("field").and_then(Value::as_str) == Some("") {
                        map.remove("field");
                    }
                }
                ApiError::from_cart(e)
            })?;
            let catalog = store::live_catalog(tx, &in_force.catalog)?;
            let view = price(&stored.state, &catalog, at).map_err(ApiError::from_cart)?;
            let short = view.issues.iter().find(|i| {
                i.code == IssueCode::InventoryUnavailable
                    && view.line_items.iter().any(|l| {
                        i.line_item_id.as_deref() == Some(l.id.as_str())
                            && l.product_id == request.product_id
                            && l.variant_id == request.variant_id
                    })
            });
            if let Some(issue) = short {
                let mut details = issue.details.clone().unwrap_or_else(|| json!({}));
                if let Value::Object(map) = &mut details {
                    map.insert("productId".into(), json!(request.product_id));
                    map.insert("variantId".into(), json!(request.variant_id));
                }
                return Err(
                    ApiError::new(StatusCode::CONFLICT, "INVENTORY_UNAVAILABLE", issue.message.clone())
                        .with_details(details),
                );
            }
            store::save_cart(tx, &stored.state, stored.metadata.as_ref(), None)?;
            Ok(cart_body(&view, &catalog, stored.metadata.as_ref()))
        })
    })
    .await?;
    Ok(json_response(StatusCode::OK, &body))
}

/// `DELETE /carts/:cartId/items/:itemId`: removes the whole line.
pub async fn remove_item(
    State(state): State<Arc<AppState>>,
    Path((cart_id, item_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_cart_id(&cart_id)?;
    let secret = owner::required(&headers)?;
    let st = state.clone();
    let body = blocking(move || {
        let at = now();
        let in_force = st.catalog();
        st.store.write(|tx| {
            let mut stored = load_live_cart(tx, &cart_id, &secret, at)?;
            let action = Action::RemoveLineItem {
                line_item_id: item_id.clone(),
                quantity: None,
            };
            stored.state.apply(&in_force.catalog, &[action], at).map_err(|mut e| {
                if let Value::Object(map) = &mut e.details {
                    map.remove("actionIndex");
                }
                ApiError::from_cart(e)
            })?;
            store::save_cart(tx, &stored.state, stored.metadata.as_ref(), None)?;
            let catalog = store::live_catalog(tx, &in_force.catalog)?;
            let view = price(&stored.state, &catalog, at).map_err(ApiError::from_cart)?;
            Ok(cart_body(&view, &catalog, stored.metadata.as_ref()))
        })
    })
    .await?;
    Ok(json_response(StatusCode::OK, &body))
}

// ---------------------------------------------------------------------------------------------------
// Checkout

/// What a checkout answered: stored under the idempotency key and replayed verbatim.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    replayed: bool,
}

/// Keys: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("x-idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::invalid_request(
                "X-Idempotency-Key: 1 to 255 visible ASCII characters",
                "header:X-Idempotency-Key",
            )
        })?;
    Ok(Some(key.to_string()))
}

/// Everything checked before any database work: the payment method is known, ids are well-formed,
/// nothing carries a client-set amount.
fn validate_checkout(request: &CheckoutRequest) -> Result<(), ApiError> {
    if !PAYMENT_METHODS.iter().any(|(id, _)| *id == request.payment_method_id) {
        let known: Vec<&str> = PAYMENT_METHODS.iter().map(|(id, _)| *id).collect();
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("unknown payment method {}", request.payment_method_id),
        )
        .with_details(json!({ "field": "paymentMethodId", "value": request.payment_method_id, "known": known })));
    }
    if let Some(id) = &request.customer_id {
        check_customer_id("customerId", id)?;
    }
    if let Some(po) = &request.po_number {
        if po.trim().is_empty() || po.len() > 64 {
            return Err(ApiError::invalid_request("poNumber: 1 to 64 characters", "poNumber"));
        }
    }
    if let Some(cart) = &request.cart {
        if !cart.custom_line_items.is_empty() {
            return Err(ApiError::invalid_request(
                "custom line items carry client-set amounts; this server does not accept them",
                "cart.customLineItems",
            ));
        }
    }
    Ok(())
}

/// `POST /carts/:cartId/checkout`: see the module docs of `docs/server.md` ("Checkout").
pub async fn checkout(
    State(state): State<Arc<AppState>>,
    Path(cart_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_cart_id(&cart_id)?;
    let key = idempotency_key(&headers)?;
    let secret_hash = owner::required(&headers)?.hash();
    let bytes = read_body(&state, &headers, body).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::invalid_request("the body is not UTF-8", "."))?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid_request("a JSON body is required", "."));
    }
    let request = CheckoutRequest::from_json(text).map_err(ApiError::from_cart)?;
    validate_checkout(&request)?;
    // The fingerprint of the request: the path, the secret and the body as parsed (so formatting does
    // not matter). Under another secret, a key answers 422, never the owner's order.
    let normalized = serde_json::to_string(&request).map_err(ApiError::internal)?;
    let fingerprint = crate::ids::hex(&Sha256::digest(
        format!("POST /carts/{cart_id}/checkout\n{secret_hash}\n{normalized}").as_bytes(),
    ));
    let checkout = Checkout {
        cart_id,
        request,
        key,
        fingerprint,
        secret_hash,
    };
    let answer = match state.relay.clone() {
        // Its own task: a browser that gives up (or a dropped connection) must not stop a relay
        // half-way, between the platform's order and its record. The key stays held inside it.
        Some(relay) => {
            let st = state.clone();
            tokio::spawn(async move {
                let _guard = match &checkout.key {
                    Some(k) => Some(st.lock_key(k).await?),
                    None => None,
                };
                relay_order(st.clone(), relay, checkout).await
            })
            .await
            .map_err(ApiError::internal)??
        }
        None => {
            let _guard = match &checkout.key {
                Some(k) => Some(state.lock_key(k).await?),
                None => None,
            };
            let st = state.clone();
            blocking(move || place_order(&st, &checkout)).await?
        }
    };
    let mut response = raw_json(answer.status, answer.body);
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// One checkout request, checked.
struct Checkout {
    cart_id: String,
    request: CheckoutRequest,
    key: Option<String>,
    fingerprint: String,
    /// The SHA-256 of the request's secret: it must open a server cart, and it opens the order.
    secret_hash: String,
}

/// The cart to order, repriced by the server: what [`begin`] found.
struct Priced {
    cart: CartState,
    metadata: Option<Value>,
    view: CartView,
    catalog: Catalog,
}

enum Begun {
    /// The key's stored answer.
    Replay(Answer),
    Priced(Box<Priced>),
}

/// The local checkout transaction: idempotency lookup, cart rebuild, reprice against live stock, the
/// client's totals, payment, stock decrement, orders and the idempotency record, all or nothing.
fn place_order(state: &AppState, checkout: &Checkout) -> Result<Answer, ApiError> {
    let at = now();
    // One catalog for the whole checkout, even if the file is replaced meanwhile.
    let in_force = state.catalog();
    forget_expired_keys(state, at)?;
    state.store.write(|tx| {
        let priced = match begin(tx, &in_force, checkout, at)? {
            Begun::Replay(answer) => return Ok(answer),
            Begun::Priced(priced) => priced,
        };
        charge(tx, &state.ids, checkout, &priced, at)
    })
}

/// Payment, stock and the order, in the checkout's transaction.
fn charge(
    tx: &mut dyn Tx,
    ids: &crate::ids::Ids,
    checkout: &Checkout,
    priced: &Priced,
    at: Timestamp,
) -> Result<Answer, ApiError> {
    let request = &checkout.request;
    // Payment (simulated): authorised before anything is written.
    let approved = PAYMENT_METHODS
        .iter()
        .find(|(id, _)| *id == request.payment_method_id)
        .is_some_and(|(_, ok)| *ok);
    if !approved {
        let declined = ApiError::new(StatusCode::PAYMENT_REQUIRED, "PAYMENT_FAILED", "the card was declined")
            .with_details(json!({ "paymentMethodId": request.payment_method_id, "declineCode": "card_declined" }));
        // Nothing of the checkout is written (nothing was, before this point), but the key keeps its
        // answer (as Stripe does): the same request is answered 402 again, another body under the key
        // is 422, never an order.
        return remember_refusal(tx, checkout, declined, at);
    }
    let mut demand: BTreeMap<(String, Option<u32>), u32> = BTreeMap::new();
    for line in priced.cart.line_items() {
        let entry = demand
            .entry((line.product_id.to_string(), line.variant_id))
            .or_default();
        *entry = entry.saturating_add(line.quantity);
    }
    for ((product_id, variant_id), quantity) in &demand {
        if !store::take_stock(tx, product_id, *variant_id, *quantity)? {
            // On SQLite unreachable (pricing and taking happen under one write lock). On PostgreSQL
            // another instance took the units after this one priced the cart: the checkout runs again
            // and prices against what is left (INVENTORY_UNAVAILABLE with the figures, or an order).
            return Err(store::StoreError::conflict(format!("stock of {product_id} taken meanwhile")).into());
        }
    }
    record_order(tx, ids, checkout, priced, None, at)
}

/// Stores a definite refusal under the request's idempotency key (when it has one) and answers it.
fn remember_refusal(tx: &mut dyn Tx, checkout: &Checkout, error: ApiError, at: Timestamp) -> Result<Answer, ApiError> {
    let body = error_body(&error)?;
    answer_refusal(tx, checkout, error.status(), body, at)
}

/// A refusal's body, as answered and stored.
fn error_body(error: &ApiError) -> Result<String, ApiError> {
    let body = ErrorBody::new(error.code(), error.message(), error.details().cloned());
    serde_json::to_string(&body).map_err(ApiError::internal)
}

/// Stores `body` under the key and answers it.
fn answer_refusal(
    tx: &mut dyn Tx,
    checkout: &Checkout,
    status: StatusCode,
    body: String,
    at: Timestamp,
) -> Result<Answer, ApiError> {
    remember(tx, checkout, status, &body, None, at)?;
    Ok(Answer {
        status,
        body: body.into_bytes(),
        replayed: false,
    })
}

/// Stores an answer under the request's idempotency key, when it has one. The key is locked
/// ([`Tx::lock_key`]), so it is free unless a relayed checkout took the platform's time: the platform
/// has placed its order, which is recorded all the same; only the key, taken meanwhile by another
/// request, keeps that request's answer.
fn remember(
    tx: &mut dyn Tx,
    checkout: &Checkout,
    status: StatusCode,
    body: &str,
    checkout_id: Option<&str>,
    at: Timestamp,
) -> Result<(), ApiError> {
    let Some(key) = &checkout.key else {
        return Ok(());
    };
    tx.lock_key(key)?;
    if tx.key_record(key)?.is_some() {
        eprintln!("an idempotency key was taken meanwhile; the answer is not stored under it");
        return Ok(());
    }
    Ok(tx.insert_key_record(&KeyRecord {
        key: key.clone(),
        fingerprint: checkout.fingerprint.clone(),
        status: status.as_u16(),
        response: body.to_string(),
        checkout_id: checkout_id.map(str::to_string),
        created_at: at.millis(),
    })?)
}

/// Everything before the money moves: the key's stored answer, or the cart repriced by the server
/// (`CART_NOT_ACTIVE`, `CART_NOT_FOUND`, issues and `PRICE_CHANGED` refuse).
/// `in_force` is read before the transaction opens: reading it may reload the catalog file, which
/// writes stock and must not wait for this transaction's lock.
fn begin(
    tx: &mut dyn Tx,
    in_force: &crate::LoadedCatalog,
    checkout: &Checkout,
    at: Timestamp,
) -> Result<Begun, ApiError> {
    let (cart_id, request) = (&checkout.cart_id, &checkout.request);
    if let Some(key) = &checkout.key {
        // Another instance may be running this key now: wait for it, then find its answer.
        tx.lock_key(key)?;
        if let Some(stored) = tx.key_record(key)? {
            if stored.fingerprint != checkout.fingerprint {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "IDEMPOTENCY_KEY_REUSED",
                    "this idempotency key was used for a different request",
                )
                .with_details(json!({ "idempotencyKey": key })));
            }
            return Ok(Begun::Replay(Answer {
                status: StatusCode::from_u16(stored.status).map_err(ApiError::internal)?,
                body: stored.response.into_bytes(),
                replayed: true,
            }));
        }
    }
    let server_cart = store::load_cart(tx, cart_id)?;
    if server_cart
        .as_ref()
        .is_some_and(|c| c.secret_hash.as_deref() != Some(&checkout.secret_hash))
    {
        return Err(ApiError::cart_not_found(cart_id));
    }
    // A relayed cart is named only to the secret that relayed it (rows from before ownership have none).
    let foreign = |mark: &store::RelayMark| mark.secret_hash.as_deref().is_some_and(|h| h != checkout.secret_hash);
    if let Some(claim) = tx.relay_claim(cart_id)? {
        if foreign(&claim) {
            return Err(ApiError::cart_not_found(cart_id));
        }
        return Err(relay_claimed(
            &claim.upstream,
            at.millis().saturating_sub(claim.created_at),
        ));
    }
    if let Some(unknown) = tx.relay_unknown(cart_id)? {
        if foreign(&unknown) {
            return Err(ApiError::cart_not_found(cart_id));
        }
        let upstream = unknown.upstream;
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "UPSTREAM_OUTCOME_UNKNOWN",
            "an earlier checkout of this cart may have placed an order upstream; it is being checked",
        )
        .with_details(json!({ "upstream": upstream, "outcome": "unknown" })));
    }
    if let Some((order_id, owner)) = tx.checkout_of_cart(cart_id)? {
        // The order is named only to its owner: another client learns that the id is taken, no more.
        let mut details = Map::new();
        details.insert("status".into(), json!("ordered"));
        if owner.as_deref() == Some(&checkout.secret_hash) {
            details.insert("orderId".into(), json!(order_id));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CART_NOT_ACTIVE",
            "this cart has already been ordered",
        )
        .with_details(Value::Object(details)));
    }
    let (cart, metadata) = match (&request.cart, server_cart) {
        (Some(_), stored) => {
            let cart = request
                .rebuild_cart(cart_id, &in_force.catalog, at)
                .map_err(ApiError::from_cart)?;
            (cart, stored.and_then(|s| s.metadata))
        }
        (None, Some(mut stored)) => {
            if stored.state.status() == CartStatus::Active && stored.state.is_expired(at) {
                return Err(ApiError::cart_expired(cart_id));
            }
            apply_with_fields(&mut stored.state, &in_force.catalog, &request.body_actions(), at)
                .map_err(ApiError::from_cart)?;
            (stored.state, stored.metadata)
        }
        (None, None) => return Err(ApiError::cart_not_found(cart_id)),
    };
    let catalog = store::live_catalog(tx, &in_force.catalog)?;
    let view = price(&cart, &catalog, at).map_err(ApiError::from_cart)?;
    if let Some(e) = ApiError::from_issues(&view) {
        return Err(e);
    }
    if let Some(submitted) = &request.cart {
        if let Some(mismatch) = submitted.expected.mismatch(&view.totals) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "PRICE_CHANGED",
                "the cart's prices changed; review the server's prices",
            )
            .with_details(json!({
                "expected": mismatch.expected,
                "actual": mismatch.actual,
                "differences": mismatch.differences,
                "view": view,
            })));
        }
    }
    Ok(Begun::Priced(Box::new(Priced {
        cart,
        metadata,
        view,
        catalog,
    })))
}

/// How long a claim on a relayed cart holds before the instance that made it counts as gone, ms.
/// Far longer than a relay takes (each platform request times out after `timeoutMs`, 15 s by default).
const RELAY_CLAIM_STALE_MS: i64 = 10 * 60 * 1000;

/// The answer for a cart another relay claimed `age_ms` ago: in progress (retry), or, when the claim is
/// older than any relay takes, an unknown outcome: its instance stopped while the platform was called.
fn relay_claimed(upstream: &str, age_ms: i64) -> ApiError {
    if age_ms < RELAY_CLAIM_STALE_MS {
        return ApiError::new(
            StatusCode::CONFLICT,
            "CHECKOUT_IN_PROGRESS",
            "this cart is being checked out; retry later",
        )
        .with_header(HeaderName::from_static("retry-after"), HeaderValue::from_static("1"));
    }
    ApiError::new(
        StatusCode::CONFLICT,
        "UPSTREAM_OUTCOME_UNKNOWN",
        "a checkout of this cart stopped while the platform was placing its order; it is being checked",
    )
    .with_details(json!({ "upstream": upstream, "outcome": "unknown" }))
}

/// Writes the order: the cart marked ordered, the checkout, one order per vendor, and the answer
/// under the idempotency key. `upstream`: the platform's order, when relayed.
fn record_order(
    tx: &mut dyn Tx,
    ids: &crate::ids::Ids,
    checkout: &Checkout,
    priced: &Priced,
    upstream: Option<&SyncOutcome>,
    at: Timestamp,
) -> Result<Answer, ApiError> {
    let Priced {
        cart,
        metadata,
        view,
        catalog,
    } = priced;
    let mut cart = cart.clone();
    let (cart_id, request) = (&checkout.cart_id, &checkout.request);
    let digits = view.fraction_digits;
    let orders = lines_by_vendor(view)
        .into_iter()
        .map(|(vendor, lines)| {
            let id = ids.order().map_err(ApiError::internal)?;
            VendorOrder::new(id, vendor, &lines, digits, catalog).map_err(ApiError::from_cart)
        })
        .collect::<Result<Vec<_>, _>>()?;
    cart.mark_ordered(at).map_err(ApiError::from_cart)?;
    store::save_cart(tx, &cart, metadata.as_ref(), Some(&checkout.secret_hash))?;
    let mut spec = SpecCart::from_view(view, catalog);
    spec.status = CartStatus::Ordered;
    spec.version = cart.version();
    spec.metadata = metadata.clone();
    let order_id = ids.order().map_err(ApiError::internal)?;
    let date = at.to_date_string();
    let upstream_number = upstream
        .and_then(|u| u.orders.first())
        .map(|o| o.order_number.clone().unwrap_or_else(|| o.order_id.clone()));
    let mut confirmation = OrderConfirmation {
        order_id: order_id.clone(),
        status: OrderStatus::Confirmed,
        confirmation_number: match upstream_number.clone() {
            Some(number) => number,
            None => ids.confirmation(&date).map_err(ApiError::internal)?,
        },
        payment_method_id: request.payment_method_id.clone(),
        // The latest date of every delivery (ISO dates compare as text).
        estimated_delivery: view
            .deliveries
            .iter()
            .filter_map(|s| s.estimated_delivery.as_ref())
            .map(|d| d.max.as_str())
            .max()
            .map(|max| format!("{max}T12:00:00Z")),
        customer_id: cart.customer().id.clone(),
        po_number: request.po_number.clone(),
        currency: view.currency.clone(),
        total: MajorAmount::from_minor(view.totals.total, digits),
        created_at: at,
        orders,
        cart: spec,
        upstream: upstream.cloned(),
        view: view.clone(),
    };
    // A confirmation number that meets an existing one (never seen with 100 random bits, but a UNIQUE
    // column must not turn a paid order into a 500) is drawn again.
    let mut redraws = 0;
    let body = loop {
        let body = serde_json::to_string(&confirmation).map_err(ApiError::internal)?;
        let inserted = tx.insert_checkout(&CheckoutRow {
            id: &order_id,
            cart_id,
            customer_id: confirmation.customer_id.as_deref(),
            payment_method_id: &confirmation.payment_method_id,
            po_number: confirmation.po_number.as_deref(),
            confirmation_number: &confirmation.confirmation_number,
            currency: &confirmation.currency,
            total_minor: view.totals.total,
            response: &body,
            created_at: at.millis(),
            secret_hash: &checkout.secret_hash,
        })?;
        match inserted {
            true => break body,
            false if upstream_number.is_none() && redraws < 4 => {
                redraws += 1;
                confirmation.confirmation_number = ids.confirmation(&date).map_err(ApiError::internal)?;
            }
            false => {
                return Err(ApiError::internal(format!(
                    "confirmation number {} is taken",
                    confirmation.confirmation_number
                )))
            }
        }
    };
    for order in &confirmation.orders {
        let order_body = serde_json::to_string(order).map_err(ApiError::internal)?;
        let minor = view
            .line_items
            .iter()
            .filter(|l| order.items.iter().any(|i| i.id == l.id))
            .try_fold(0i64, |acc, l| acc.checked_add(l.total))
            .ok_or_else(|| ApiError::internal("order total out of range"))?;
        tx.insert_order(&OrderRow {
            id: &order.order_id,
            checkout_id: &order_id,
            vendor: &order.vendor,
            total_minor: minor,
            body: &order_body,
            created_at: at.millis(),
        })?;
    }
    remember(tx, checkout, StatusCode::OK, &body, Some(&order_id), at)?;
    Ok(Answer {
        status: StatusCode::OK,
        body: body.into_bytes(),
        replayed: false,
    })
}

/// A relayed checkout (docs/sync.md): the cart is repriced and checked here exactly as for a local
/// order, then placed upstream by the platform's plan; the order is recorded (and the answer stored
/// under the key) only once the platform confirms one. The idempotency key's lock is held throughout,
/// so a repeat on this instance waits for the first and gets its answer. The cart is claimed in the
/// database before the platform is called (`relay_claims`), so no instance places it upstream a
/// second time meanwhile; a claim left by an instance that died mid-relay makes the outcome unknown.
/// The platform is called between two transactions: its order is an effect no transaction can undo.
async fn relay_order(
    state: Arc<AppState>,
    relay: Arc<crate::relay::Relay>,
    checkout: Checkout,
) -> Result<Answer, ApiError> {
    let checkout = Arc::new(checkout);
    let (st, ck) = (state.clone(), checkout.clone());
    let upstream = relay.protocol().as_str();
    let priced = blocking(move || {
        let in_force = st.catalog();
        let at = now();
        forget_expired_keys(&st, at)?;
        st.store.write(|tx| {
            let begun = begin(tx, &in_force, &ck, at)?;
            if let Begun::Priced(_) = &begun {
                tx.claim_relay(&RelayClaim {
                    cart_id: &ck.cart_id,
                    idempotency_key: ck.key.as_deref(),
                    upstream,
                    created_at: at.millis(),
                    secret_hash: &ck.secret_hash,
                })?;
            }
            Ok(begun)
        })
    })
    .await?;
    let priced = match priced {
        Begun::Replay(answer) => return Ok(answer),
        Begun::Priced(priced) => priced,
    };
    let request = &checkout.request;
    let input = SyncInput {
        cart: priced.cart.clone(),
        view: priced.view.clone(),
        customer_id: request
            .customer_id
            .clone()
            .or_else(|| priced.cart.customer().id.clone()),
        po_number: request.po_number.clone(),
        token: None,
        access_key: None,
        channel: None,
        storefront_url: None,
        payment_method: Some(request.payment_method_id.clone()),
        account_id: None,
    };
    let placed = relay.place(input, &priced.catalog).await;
    let protocol = relay.protocol();
    let st = state.clone();
    blocking(move || {
        let at = now();
        let cart_id = checkout.cart_id.as_str();
        match placed {
            Ok(outcome) => st.store.write(|tx| {
                tx.release_relay(cart_id)?;
                record_order(tx, &st.ids, &checkout, &priced, Some(&outcome), at)
            }),
            Err(e) if e.may_have_ordered() => {
                let error = relay_error(protocol, e);
                st.store.write(|tx| {
                    tx.release_relay(cart_id)?;
                    record_unknown(tx, &checkout, protocol, error.clone(), at)
                })
            }
            Err(e) => {
                st.store.write(|tx| Ok(tx.release_relay(cart_id)?))?;
                Err(relay_error(protocol, e))
            }
        }
    })
    .await
}

/// The platform may hold an order (no answer, a lookup that failed): the answer is stored under the
/// key and the cart is blocked for relaying, so that nothing, a repeat or an edited cart under a new
/// key, ever orders it upstream a second time. An operator settles it (docs/sync.md).
fn record_unknown(
    tx: &mut dyn Tx,
    checkout: &Checkout,
    protocol: Protocol,
    error: ApiError,
    at: Timestamp,
) -> Result<Answer, ApiError> {
    let body = error_body(&error)?;
    tx.upsert_relay_unknown(&RelayUnknownRow {
        cart_id: &checkout.cart_id,
        idempotency_key: checkout.key.as_deref(),
        upstream: protocol.as_str(),
        response: &body,
        created_at: at.millis(),
        secret_hash: &checkout.secret_hash,
    })?;
    answer_refusal(tx, checkout, error.status(), body, at)
}

/// How a relay failure is answered. A definite refusal is not stored (the platform placed nothing);
/// an unknown outcome is ([`record_unknown`]). The platform's own answer body stays on the server: an
/// admin or partner API's answer is not for a shopper.
fn relay_error(protocol: Protocol, e: crate::relay::RelayError) -> ApiError {
    use crate::relay::RelayError;
    let upstream = protocol.as_str();
    match e {
        RelayError::Refused(e) if wasm_cart::checkout::plan::is_outcome_unknown(&e) => {
            let mut details = match e.details {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            details.remove("body");
            details.insert("upstream".into(), json!(upstream));
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "UPSTREAM_OUTCOME_UNKNOWN",
                format!("{upstream}: whether the order was placed is unknown: {}", e.message),
            )
            .with_details(Value::Object(details))
        }
        RelayError::Refused(e) => {
            let status = match e.code {
                ErrorCode::PriceChanged => StatusCode::CONFLICT,
                ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            let code = match e.code {
                ErrorCode::PriceChanged | ErrorCode::InvalidRequest => e.code.as_str(),
                ErrorCode::InvalidResponse => "UPSTREAM_INVALID_RESPONSE",
                _ => "UPSTREAM_REFUSED",
            };
            let mut details = match e.details {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            details.remove("body");
            details.insert("upstream".into(), json!(upstream));
            ApiError::new(status, code, format!("{upstream}: {}", e.message)).with_details(Value::Object(details))
        }
        RelayError::Unknown(cause) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "UPSTREAM_OUTCOME_UNKNOWN",
            format!("{upstream} did not answer: {cause}; whether the order was placed is unknown"),
        )
        .with_details(json!({ "upstream": upstream, "outcome": "unknown" })),
    }
}

/// Deletes the idempotency records older than `--idempotency-ttl`: their keys are free again. Its own
/// statement, outside the checkout transaction, so that it holds whatever that checkout answers.
fn forget_expired_keys(state: &AppState, at: Timestamp) -> Result<(), ApiError> {
    let ttl_ms = i64::try_from(state.config.idempotency_ttl_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
    let before = at.millis().saturating_sub(ttl_ms);
    state.store.write(|tx| Ok(tx.forget_keys_before(before)?))
}

// ---------------------------------------------------------------------------------------------------
// Orders

/// `GET /orders/:orderId`: a checkout (the confirmation as answered) or one vendor order of it, to
/// the holder of the checkout's secret.
pub async fn get_order(
    State(state): State<Arc<AppState>>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if order_id.len() > 128 {
        return Err(ApiError::invalid_request("malformed order id", "orderId"));
    }
    let secret = owner::required(&headers)?;
    let st = state.clone();
    let body = blocking(move || {
        let not_found = || {
            ApiError::new(StatusCode::NOT_FOUND, "ORDER_NOT_FOUND", format!("no order {order_id}"))
                .with_details(json!({ "orderId": order_id }))
        };
        let order = st
            .store
            .read(|tx| Ok(tx.order(&order_id)?))?
            .filter(|o| secret.opens(o.secret_hash.as_deref()))
            .ok_or_else(not_found)?;
        let Some(parent) = order.parent else {
            return Ok(order.body.into_bytes());
        };
        let body = order.body;
        let mut value: Value = serde_json::from_str(&body).map_err(ApiError::internal)?;
        if let Value::Object(map) = &mut value {
            map.insert("parentOrderId".into(), json!(parent));
        }
        serde_json::to_vec(&value).map_err(ApiError::internal)
    })
    .await?;
    Ok(raw_json(StatusCode::OK, body))
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "method not allowed on this endpoint",
    )
}
