//! The SPEC-B API end to end: the real router on a real database, a SQLite file in a temporary folder
//! or, under `make test-server`'s second run, a PostgreSQL database (tests/common). Requests go
//! in-process (`tower::ServiceExt::oneshot`); one test binds a real socket. No test asserts on timing.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use cart_server::{router, AppState, Config, DEMO_CATALOG};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use wasm_cart::checkout::spec_b::{CheckoutOptions, CheckoutRequest};
use wasm_cart::{price, Action, CartState, Catalog, NewCart, Timestamp};

/// The secret the tests' shopper holds (`X-Cart-Secret`).
const SECRET: &str = "test-secret-0123456789abcdefghijklmnop";

struct TestServer {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    app: Router,
}

/// The demo catalog plus one product that cannot be bought.
fn test_catalog() -> Value {
    let mut catalog: Value = serde_json::from_str(DEMO_CATALOG).unwrap();
    catalog["products"].as_array_mut().unwrap().push(json!({
        "id": "RETIRED", "name": "Retired phone", "kind": "device", "vendor": "telco", "taxCategory": "standard",
        "available": false, "prices": [{"currency": "EUR", "amount": "99.00"}]
    }));
    catalog
}

fn server_with(configure: impl FnOnce(&mut Config)) -> TestServer {
    server_with_ids(configure, cart_server::ids::Ids::default())
}

fn server_with_ids(configure: impl FnOnce(&mut Config), ids: cart_server::ids::Ids) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let catalog_path = dir.path().join("catalog.json");
    std::fs::write(&catalog_path, test_catalog().to_string()).unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    let mut config = Config {
        db: common::test_database(dir.path()),
        catalog: Some(catalog_path),
        static_dir: www,
        pkg_dir: dir.path().join("pkg"),
        rate_limit: 10_000,
        ..Config::default()
    };
    configure(&mut config);
    let state = AppState::with_ids(config, ids).unwrap();
    let app = router(state.clone());
    TestServer { _dir: dir, state, app }
}

fn server() -> TestServer {
    server_with(|_| {})
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl TestServer {
    /// One request. It carries [`SECRET`] unless `headers` name `x-cart-secret` themselves (an empty
    /// value: no secret at all).
    async fn call(&self, method: &str, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("x-cart-secret")) {
            builder = builder.header("x-cart-secret", SECRET);
        }
        for (k, v) in headers
            .iter()
            .filter(|(k, v)| !(v.is_empty() && k.eq_ignore_ascii_case("x-cart-secret")))
        {
            builder = builder.header(*k, *v);
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, &[]).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(body), &[]).await
    }

    async fn checkout(&self, cart_id: &str, body: &Value, key: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = key.map(|k| ("x-idempotency-key", k)).into_iter().collect();
        self.call(
            "POST",
            &format!("/api/v1/carts/{cart_id}/checkout"),
            Some(body),
            &headers,
        )
        .await
    }

    fn stock(&self, product: &str, variant: &str) -> i64 {
        self.scalar(&format!(
            "SELECT quantity FROM stock WHERE product_id = '{product}' AND variant = '{variant}'"
        ))
    }

    fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table}"))
    }

    fn scalar(&self, sql: &str) -> i64 {
        let store = &self.state.store;
        cart_server::store::off_runtime(|| store.scalar(sql)).unwrap().unwrap()
    }

    fn execute(&self, sql: &str) {
        let store = &self.state.store;
        cart_server::store::off_runtime(|| store.execute_batch(sql))
            .unwrap()
            .unwrap()
    }

    async fn new_cart(&self) -> String {
        let reply = self.post("/api/v1/carts", &json!({})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_string()
    }
}

fn code(reply: &Reply) -> &str {
    reply.body["error"]["code"].as_str().unwrap_or("")
}

fn now() -> Timestamp {
    cart_server::now()
}

/// A browser cart, priced by the engine as the browser would, turned into the checkout body.
fn browser_checkout(id: &str, catalog: &Catalog, actions: Value, payment: &str) -> Value {
    let new = NewCart {
        id: id.to_string(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        locale: Some("de-DE".into()),
        ..Default::default()
    };
    let mut cart = CartState::new(new, catalog, now()).unwrap();
    cart.apply(catalog, &Action::list_from_value(actions).unwrap(), now())
        .unwrap();
    let view = price(&cart, catalog, now()).unwrap();
    let options = CheckoutOptions {
        payment_method_id: Some(payment.to_string()),
        customer_id: Some("cust_42".into()),
        po_number: Some("MY-PO-12345".into()),
        promo_code: None,
    };
    serde_json::to_value(CheckoutRequest::from_cart(&cart, &view, options).unwrap()).unwrap()
}

fn demo() -> Catalog {
    Catalog::from_value(test_catalog()).unwrap()
}

// ---------------------------------------------------------------------------------------------------

#[test]
fn demo_catalog_loads_and_covers_the_seeds() {
    let catalog = Catalog::from_json(DEMO_CATALOG).unwrap();
    let kinds: Vec<&str> = catalog.products().iter().map(|p| p.kind.as_str()).collect();
    for kind in ["device", "plan", "addon", "service", "product"] {
        assert!(kinds.contains(&kind), "no {kind}");
    }
    let domain_vendors: std::collections::BTreeSet<&str> = catalog
        .products()
        .iter()
        .filter(|p| p.required_attributes.iter().any(|a| a == "domain"))
        .filter_map(|p| p.vendor.as_deref())
        .collect();
    assert_eq!(domain_vendors.len(), 2);
    assert!(catalog.product("MUG").unwrap().variants.len() >= 2);
    assert!(catalog.product("TSHIRT").unwrap().variants.len() >= 2);
    assert_eq!(catalog.rules().len(), 4);
    assert_eq!(catalog.shipping_methods().len(), 2);
    assert!(catalog.shipping_methods().iter().all(|m| m.delivery_days.is_some()));
    assert!(catalog.promotions().iter().any(|p| p.code.is_none()));
    assert!(catalog.promotions().iter().any(|p| p.code.is_some()));
    // A CHF cart in CH prices with Swiss VAT and cash rounding.
    let new = NewCart {
        id: "c".into(),
        currency: "CHF".into(),
        country: Some("CH".into()),
        ..Default::default()
    };
    let mut cart = CartState::new(new, &catalog, now()).unwrap();
    let add =
        Action::list_from_value(json!([{"action": "addLineItem", "productId": "TSHIRT", "quantity": 1}])).unwrap();
    cart.apply(&catalog, &add, now()).unwrap();
    let view = price(&cart, &catalog, now()).unwrap();
    assert!(view.can_checkout, "{:?}", view.issues);
    assert_eq!(view.totals.taxes[0].rate, "0.081");
    assert_eq!(view.totals.total % 5, 0);
}

#[tokio::test]
async fn catalog_has_a_strong_etag_and_answers_304() {
    let s = server();
    let first = s.get("/api/v1/catalog").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["version"], json!("demo-2026-11-21#1"));
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let again = s
        .call("GET", "/api/v1/catalog", None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
    let other = s
        .call("GET", "/api/v1/catalog", None, &[("if-none-match", "\"nope\"")])
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn an_edited_catalog_file_is_reloaded_and_a_broken_one_ignored() {
    let s = server();
    let path = s._dir.path().join("catalog.json");
    let first = s.call("GET", "/api/v1/catalog", None, &[]).await;
    let etag = first.headers["etag"].to_str().unwrap().to_string();

    let mut edited = test_catalog();
    edited["version"] = json!("reloaded#2");
    edited["products"][0]["prices"][0]["amount"] = json!("1234.00");
    std::fs::write(&path, edited.to_string()).unwrap();
    let second = s
        .call("GET", "/api/v1/catalog", None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(second.status, StatusCode::OK, "a new catalog is not 304");
    assert_eq!(second.body["version"], "reloaded#2");
    assert_eq!(second.body["products"][0]["prices"][0]["amount"], "1234.00");
    assert_eq!(s.state.catalog().catalog.version(), Some("reloaded#2"));

    // A file that no longer loads (invalid catalog, longer so its size differs): the last good one stays.
    std::fs::write(
        &path,
        r#"{"products": [{"id": "x", "prices": [{"currency": "EUR", "amount": 1}]}], "padding": "...."}"#,
    )
    .unwrap();
    let third = s.call("GET", "/api/v1/catalog", None, &[]).await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.body["version"], "reloaded#2");
}

#[tokio::test]
async fn request_id_response_time_and_rate_limit_headers() {
    let s = server();
    let reply = s
        .call("GET", "/api/v1/catalog", None, &[("x-request-id", "req-123")])
        .await;
    assert_eq!(reply.headers["x-request-id"], "req-123");
    assert!(reply.headers["x-response-time"].to_str().unwrap().ends_with("ms"));
    assert_eq!(reply.headers["x-ratelimit-limit"], "10000");
    assert!(reply.headers.contains_key("x-ratelimit-remaining"));
    assert!(reply.headers.contains_key("x-ratelimit-reset"));
    let generated = s.get("/api/v1/carts/nope").await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    // Static files are served too, with the same headers.
    let page = s.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers.contains_key("x-request-id"));
}

/// Static files and the package are compressed for browsers that accept it (the package's
/// precompressed copies as they are); the API is not.
#[tokio::test]
async fn files_are_served_gzip_or_brotli_when_accepted() {
    use std::io::Read;
    let s = server();
    let pkg = s.state.config.pkg_dir.clone();
    std::fs::create_dir_all(&pkg).unwrap();
    let module: Vec<u8> = (0..40_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
    std::fs::write(pkg.join("wasm_cart_bg.wasm"), &module).unwrap();
    let fetch = |path: &'static str, encoding: &'static str| {
        let app = s.app.clone();
        async move {
            let request = Request::builder()
                .uri(path)
                .header("accept-encoding", encoding)
                .body(Body::empty())
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (headers, bytes.to_vec())
        }
    };
    let (headers, gzipped) = fetch("/pkg/wasm_cart_bg.wasm", "gzip").await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-type"], "application/wasm");
    assert!(gzipped.len() < module.len() / 2, "{} bytes", gzipped.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(gzipped.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, module);
    let (headers, _) = fetch("/pkg/wasm_cart_bg.wasm", "br;q=1.0, gzip;q=0.5").await;
    assert_eq!(headers["content-encoding"], "br");
    let (headers, plain) = fetch("/pkg/wasm_cart_bg.wasm", "identity").await;
    assert!(!headers.contains_key("content-encoding"));
    assert_eq!(plain, module);
    // The package's precompressed copy (make pkg writes it) is sent as it is, not compressed again.
    std::fs::write(pkg.join("wasm_cart_bg.wasm.br"), b"stored brotli bytes").unwrap();
    let (headers, sent) = fetch("/pkg/wasm_cart_bg.wasm", "gzip, br").await;
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(sent, b"stored brotli bytes");
    let (headers, plain) = fetch("/pkg/wasm_cart_bg.wasm", "identity").await;
    assert!(!headers.contains_key("content-encoding"));
    assert_eq!(plain, module);
    let (headers, page) = fetch("/", "gzip").await;
    assert!(headers.contains_key("x-request-id"));
    assert!(!page.is_empty());
    let (headers, _) = fetch("/api/v1/catalog", "gzip, br").await;
    assert!(!headers.contains_key("content-encoding"));
    assert!(headers.contains_key("etag"));
}

/// The page names the current version of its files; under that version they are immutable, under any
/// other a 404; a changed file gives a new version (src/assets.rs).
#[tokio::test]
async fn files_under_the_current_version_are_immutable() {
    let s = server();
    let (www, pkg) = (s.state.config.static_dir.clone(), s.state.config.pkg_dir.clone());
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        www.join("index.html"),
        r##"<link href="style.css" rel="stylesheet"><script type="module" src="app.js"></script><a href="#cart">"##,
    )
    .unwrap();
    std::fs::write(www.join("style.css"), "body{}").unwrap();
    std::fs::write(www.join("app.js"), "import '../pkg/wasm_cart.js';").unwrap();
    std::fs::write(www.join(".env"), "SECRET=1").unwrap();
    std::fs::write(pkg.join("wasm_cart.js"), "export {}").unwrap();
    std::fs::write(pkg.join("wasm_cart_bg.wasm"), b"\0asm").unwrap();
    std::fs::write(pkg.join("wasm_cart_bg.wasm.br"), b"stored brotli").unwrap();

    let page = s.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["cache-control"], "no-cache");
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    let version = s.state.assets.version();
    assert_eq!(page.headers["etag"], format!("\"{version}\"").as_str());
    let expected = format!(
        r##"<link href="/v/{version}/www/style.css" rel="stylesheet"><script type="module" src="/v/{version}/www/app.js"></script><a href="#cart">"##
    );
    assert_eq!(page.text, expected);
    assert_eq!(s.get("/index.html").await.text, expected);
    let etag = page.headers["etag"].to_str().unwrap().to_string();
    let again = s.call("GET", "/", None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let weak = format!("W/{etag}");
    let again = s.call("GET", "/", None, &[("if-none-match", &weak)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED, "weak comparison");

    let app = s.get(&format!("/v/{version}/www/app.js")).await;
    assert_eq!(app.status, StatusCode::OK);
    assert_eq!(app.text, "import '../pkg/wasm_cart.js';");
    assert_eq!(app.headers["cache-control"], cart_server::assets::IMMUTABLE);
    let wasm = s
        .call(
            "GET",
            &format!("/v/{version}/pkg/wasm_cart_bg.wasm"),
            None,
            &[("accept-encoding", "br")],
        )
        .await;
    assert_eq!(wasm.headers["content-encoding"], "br");
    assert_eq!(wasm.headers["cache-control"], cart_server::assets::IMMUTABLE);
    assert_eq!(
        wasm.headers["vary"], "accept-encoding",
        "a shared cache keeps one copy per encoding"
    );
    assert_eq!(wasm.text, "stored brotli");
    assert_eq!(
        s.get(&format!("/v/{version}/www/.env")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get(&format!("/v/{version}/www/none.js")).await.status,
        StatusCode::NOT_FOUND
    );
    let other = s.get("/v/0123456789abcdef/www/app.js").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.headers["cache-control"], "no-store",
        "no proxy keeps the 404 of another version"
    );

    // Under their plain names the files are revalidated at every use; the API stays no-store.
    assert_eq!(s.get("/app.js").await.headers["cache-control"], "no-cache");
    assert_eq!(s.get("/pkg/wasm_cart.js").await.headers["cache-control"], "no-cache");
    assert_eq!(s.get("/api/v1/carts/nope").await.headers["cache-control"], "no-store");

    // A deploy: the old version is gone, the page names the new one.
    std::fs::write(pkg.join("wasm_cart_bg.wasm"), b"\0asm2").unwrap();
    let next = s.state.assets.version();
    assert_ne!(next, version);
    assert_eq!(
        s.get(&format!("/v/{version}/www/app.js")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get(&format!("/v/{next}/www/app.js")).await.status, StatusCode::OK);
    let page = s.call("GET", "/", None, &[("if-none-match", &etag)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&format!("/v/{next}/www/app.js")), "{}", page.text);
}

#[tokio::test]
async fn rate_limit_answers_429_when_the_bucket_is_spent() {
    let s = server_with(|c| c.rate_limit = 3);
    let remaining: Vec<String> = {
        let mut out = Vec::new();
        for _ in 0..3 {
            let r = s.get("/api/v1/catalog").await;
            assert_eq!(r.status, StatusCode::OK);
            out.push(r.headers["x-ratelimit-remaining"].to_str().unwrap().to_string());
        }
        out
    };
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let refused = s.get("/api/v1/catalog").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&refused), "RATE_LIMITED");
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(refused.headers["x-ratelimit-remaining"], "0");
    // Static files are not rate limited.
    assert_eq!(s.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn create_and_get_cart() {
    let s = server();
    let created = s
        .post(
            "/api/v1/carts",
            &json!({"customerId": "cust_1", "metadata": {"channel": "web"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let body = &created.body;
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("cart_"));
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["subtotal"], json!(0.0));
    assert_eq!(body["tax"], json!(0.0));
    assert_eq!(body["total"], json!(0.0));
    assert_eq!(body["customerId"], json!("cust_1"));
    assert_eq!(body["metadata"], json!({"channel": "web"}));
    assert!(body["createdAt"].as_str().unwrap() < body["expiresAt"].as_str().unwrap());
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/api/v1/carts/{id}")
    );
    let got = s.get(&format!("/api/v1/carts/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["id"], json!(id));
    // An empty body is fine too.
    let empty = s.call("POST", "/api/v1/carts", None, &[]).await;
    assert_eq!(empty.status, StatusCode::CREATED);
}

#[tokio::test]
async fn create_cart_validation() {
    let s = server();
    let bad = s.post("/api/v1/carts", &json!({"customerId": "invalid id!"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&bad), "INVALID_REQUEST");
    assert_eq!(
        bad.body["error"]["details"],
        json!({"field": "customerId", "value": "invalid id!"})
    );
    let unknown = s.post("/api/v1/carts", &json!({"customer": "x"})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let wrong = s.post("/api/v1/carts", &json!({"metadata": [1]})).await;
    assert_eq!(wrong.body["error"]["details"]["field"], json!("metadata"));
    let not_json = s
        .call("POST", "/api/v1/carts", None, &[("content-type", "application/json")])
        .await;
    assert_eq!(not_json.status, StatusCode::CREATED);
    let garbage = s.post("/api/v1/carts", &json!("x")).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn body_size_limit_is_413() {
    let s = server_with(|c| c.body_limit = 2048);
    let big = json!({"metadata": {"blob": "x".repeat(4096)}});
    let reply = s.post("/api/v1/carts", &big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&reply), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn cart_not_found_invalid_id_and_expired() {
    let s = server();
    let missing = s.get("/api/v1/carts/cart_missing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(code(&missing), "CART_NOT_FOUND");
    let bad = s.get("/api/v1/carts/bad%20id").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&bad), "INVALID_CART_ID");
    let add = s
        .post(
            "/api/v1/carts/cart_missing/items",
            &json!({"productId": "MUG", "quantity": 1}),
        )
        .await;
    assert_eq!(code(&add), "CART_NOT_FOUND");

    let expiring = server_with(|c| c.cart_ttl_seconds = 0);
    let id = expiring.new_cart().await;
    let expired = expiring.get(&format!("/api/v1/carts/{id}")).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert_eq!(code(&expired), "CART_NOT_FOUND");
    assert_eq!(expired.body["error"]["details"]["expired"], json!(true));
}

#[tokio::test]
async fn add_and_remove_items_with_every_refusal() {
    let s = server();
    let id = s.new_cart().await;
    let items = format!("/api/v1/carts/{id}/items");
    let added = s
        .post(
            &items,
            &json!({"productId": "PLAN-POST-UNL", "quantity": 1, "metadata": {"planType": "postpaid", "imei": "490154203237518"}}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let item = &added.body["items"][0];
    assert_eq!(item["productName"], json!("Unlimited 5G, postpaid, 24 months"));
    assert_eq!(item["productType"], json!("plan"));
    assert_eq!(item["unitPrice"], json!(39.99));
    assert_eq!(item["totalPrice"], json!(39.99));
    assert_eq!(item["metadata"]["planType"], json!("postpaid"));
    assert_eq!(item["metadata"]["contractLength"], json!(24));
    assert_eq!(item["metadata"]["imei"], json!("490154203237518"));
    assert_eq!(added.body["total"], json!(39.99));
    assert_eq!(added.body["tax"], json!(6.38));
    let mug = s
        .post(&items, &json!({"productId": "MUG", "variantId": 3, "quantity": 2}))
        .await;
    assert_eq!(mug.status, StatusCode::OK);
    // Exact decimal text in major units, never a float's shortest form.
    assert!(mug.text.contains(r#""unitPrice":14.90"#), "{}", mug.text);
    assert!(mug.text.contains(r#""totalPrice":29.80"#), "{}", mug.text);
    assert_eq!(mug.body["items"].as_array().unwrap().len(), 2);

    // 409: a prepaid plan next to a postpaid one.
    let clash = s
        .post(&items, &json!({"productId": "PLAN-PRE-10", "quantity": 1}))
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(code(&clash), "INCOMPATIBLE_ITEMS");
    // 400: unknown product or variant, bad quantity, metadata contradicting the catalog.
    let unknown = s.post(&items, &json!({"productId": "NOPE", "quantity": 1})).await;
    assert_eq!(
        (unknown.status, code(&unknown)),
        (StatusCode::BAD_REQUEST, "INVALID_ITEM")
    );
    let variant = s
        .post(&items, &json!({"productId": "MUG", "variantId": 99, "quantity": 1}))
        .await;
    assert_eq!(code(&variant), "INVALID_ITEM");
    let zero = s.post(&items, &json!({"productId": "MUG", "quantity": 0})).await;
    assert_eq!(
        (zero.status, code(&zero)),
        (StatusCode::BAD_REQUEST, "INVALID_QUANTITY")
    );
    let lie = s
        .post(
            &items,
            &json!({"productId": "PLAN-POST-20", "quantity": 1, "metadata": {"planType": "prepaid"}}),
        )
        .await;
    assert_eq!((lie.status, code(&lie)), (StatusCode::BAD_REQUEST, "INVALID_ITEM"));
    // 400 with a field path: strict JSON.
    let typed = s.post(&items, &json!({"productId": "MUG", "quantity": "two"})).await;
    assert_eq!(code(&typed), "INVALID_REQUEST");
    assert_eq!(typed.body["error"]["details"]["field"], json!("quantity"));
    let extra = s
        .post(&items, &json!({"productId": "MUG", "quantity": 1, "price": 0.01}))
        .await;
    assert_eq!(code(&extra), "INVALID_REQUEST");
    let missing = s.post(&items, &json!({"quantity": 1})).await;
    assert_eq!(code(&missing), "INVALID_REQUEST");
    // 422: not available.
    let retired = s.post(&items, &json!({"productId": "RETIRED", "quantity": 1})).await;
    assert_eq!(
        (retired.status, code(&retired)),
        (StatusCode::UNPROCESSABLE_ENTITY, "PRODUCT_UNAVAILABLE")
    );
    // 409: more than the live stock.
    let greedy = s
        .post(&items, &json!({"productId": "MUG", "variantId": 3, "quantity": 19}))
        .await;
    assert_eq!(
        (greedy.status, code(&greedy)),
        (StatusCode::CONFLICT, "INVENTORY_UNAVAILABLE")
    );
    assert_eq!(greedy.body["error"]["details"]["available"], json!(20));
    // None of the refusals changed the cart.
    let cart = s.get(&format!("/api/v1/carts/{id}")).await;
    assert_eq!(cart.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(cart.body["items"][1]["quantity"], json!(2));

    let line = cart.body["items"][1]["id"].as_str().unwrap().to_string();
    let removed = s.call("DELETE", &format!("{items}/{line}"), None, &[]).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(removed.body["items"].as_array().unwrap().len(), 1);
    let again = s.call("DELETE", &format!("{items}/{line}"), None, &[]).await;
    assert_eq!((again.status, code(&again)), (StatusCode::NOT_FOUND, "ITEM_NOT_FOUND"));
    let no_cart = s.call("DELETE", "/api/v1/carts/cart_x/items/li_1", None, &[]).await;
    assert_eq!(code(&no_cart), "CART_NOT_FOUND");
}

#[tokio::test]
async fn server_cart_checkout_and_orders() {
    let s = server();
    let id = s.new_cart().await;
    let pay = json!({"customerId": "cust_1", "paymentMethodId": "pm_card_visa",
                     "shippingAddress": {"country": "DE", "city": "Berlin"}});
    let empty = s.checkout(&id, &pay, None).await;
    assert_eq!((empty.status, code(&empty)), (StatusCode::BAD_REQUEST, "EMPTY_CART"));

    let items = format!("/api/v1/carts/{id}/items");
    s.post(&items, &json!({"productId": "PHONE-X15", "quantity": 1})).await;
    s.post(&items, &json!({"productId": "PLAN-POST-UNL", "quantity": 1}))
        .await;
    let unknown_code = s
        .checkout(
            &id,
            &json!({"paymentMethodId": "pm_card_visa", "promoCode": "NOPE"}),
            None,
        )
        .await;
    assert_eq!(
        (unknown_code.status, code(&unknown_code)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_PROMO_CODE")
    );

    let before = s.stock("PHONE-X15", "");
    let placed = s.checkout(&id, &pay, None).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    let order = &placed.body;
    assert!(order["orderId"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(order["status"], json!("confirmed"));
    assert!(order["confirmationNumber"].as_str().unwrap().starts_with("CONF-"));
    assert!(order["estimatedDelivery"].as_str().unwrap().ends_with("T12:00:00Z"));
    assert_eq!(order["paymentMethodId"], json!("pm_card_visa"));
    assert_eq!(order["orders"].as_array().unwrap().len(), 1);
    assert_eq!(order["orders"][0]["vendor"], json!("telco"));
    assert_eq!(order["cart"]["status"], json!("ordered"));
    assert_eq!(s.stock("PHONE-X15", ""), before - 1);

    let order_id = order["orderId"].as_str().unwrap();
    let fetched = s.get(&format!("/api/v1/orders/{order_id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, placed.body);
    let vendor_order = order["orders"][0]["orderId"].as_str().unwrap();
    let vendor = s.get(&format!("/api/v1/orders/{vendor_order}")).await;
    assert_eq!(vendor.body["parentOrderId"], json!(order_id));
    let none = s.get("/api/v1/orders/ord_nope").await;
    assert_eq!((none.status, code(&none)), (StatusCode::NOT_FOUND, "ORDER_NOT_FOUND"));

    // The cart is ordered now: it names its order (a client whose answer was lost finds it there),
    // no second order, no more changes.
    let cart = s.get(&format!("/api/v1/carts/{id}")).await;
    assert_eq!(
        (cart.body["status"].clone(), cart.body["orderId"].clone()),
        (json!("ordered"), json!(order_id))
    );
    let twice = s.checkout(&id, &pay, None).await;
    assert_eq!((twice.status, code(&twice)), (StatusCode::CONFLICT, "CART_NOT_ACTIVE"));
    let add = s.post(&items, &json!({"productId": "MUG", "quantity": 1})).await;
    assert_eq!(code(&add), "CART_NOT_ACTIVE");
    assert_eq!(s.count("checkouts"), 1);
}

/// A cart an instance is placing upstream (its claim in `relay_claims`, written before the platform
/// is called) is not checked out by anyone else meanwhile; a claim older than any relay takes means
/// that instance died mid-relay: the outcome is unknown.
#[tokio::test]
async fn a_cart_claimed_by_a_relay_is_in_progress_then_unknown() {
    let s = server();
    let add = json!([{"action": "addLineItem", "productId": "ROUTER-5G", "quantity": 1}]);
    let body = browser_checkout("cart_claimed", &demo(), add, "pm_card_visa");
    let hash: String = sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), SECRET))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    s.execute(&format!(
        "INSERT INTO relay_claims (cart_id, upstream, created_at, secret_hash)
         VALUES ('cart_claimed', 'commercetools', {}, '{hash}')",
        now().millis()
    ));
    let busy = s.checkout("cart_claimed", &body, Some("claim-1")).await;
    assert_eq!(
        (busy.status, code(&busy)),
        (StatusCode::CONFLICT, "CHECKOUT_IN_PROGRESS")
    );
    assert_eq!(busy.headers["retry-after"], "1");
    // To another secret the claimed cart does not exist.
    let path = "/api/v1/carts/cart_claimed/checkout";
    let thief = [("x-cart-secret", "thief-secret-0123456789abcdefghijklmno")];
    let other = s.call("POST", path, Some(&body), &thief).await;
    assert_eq!((other.status, code(&other)), (StatusCode::NOT_FOUND, "CART_NOT_FOUND"));
    s.execute("UPDATE relay_claims SET created_at = created_at - 600001");
    let stale = s.checkout("cart_claimed", &body, Some("claim-2")).await;
    assert_eq!(
        (stale.status, code(&stale)),
        (StatusCode::CONFLICT, "UPSTREAM_OUTCOME_UNKNOWN")
    );
    assert_eq!(stale.body["error"]["details"]["upstream"], json!("commercetools"));
    let other = s.call("POST", path, Some(&body), &thief).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(s.count("checkouts"), 0);
    // An operator who checked the platform deletes the claim: the cart can be ordered again.
    s.execute("DELETE FROM relay_claims");
    let placed = s.checkout("cart_claimed", &body, Some("claim-3")).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
}

/// The issue's attack, replayed: another client holds the ids but not the secret.
#[tokio::test]
async fn carts_and_orders_open_only_with_their_secret() {
    let s = server();
    const THIEF: &str = "thief-secret-0123456789abcdefghijklmno";
    let as_thief = [("x-cart-secret", THIEF)];
    let no_secret = [("x-cart-secret", "")];
    // Creation answers the secret once: the client's own, or one the server draws.
    let created = s.post("/api/v1/carts", &json!({})).await;
    assert_eq!(created.body["secret"], json!(SECRET));
    let drawn = s.call("POST", "/api/v1/carts", Some(&json!({})), &no_secret).await;
    let drawn_secret = drawn.body["secret"].as_str().unwrap();
    assert_eq!(drawn_secret.len(), 32);
    assert_eq!(drawn.headers["cache-control"], "no-store");
    let id = created.body["id"].as_str().unwrap().to_string();
    let items = format!("/api/v1/carts/{id}/items");
    s.post(&items, &json!({"productId": "ROUTER-5G", "quantity": 1})).await;
    let cart_path = format!("/api/v1/carts/{id}");
    let fetched = s.get(&cart_path).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(fetched.body.get("secret").is_none(), "the secret is answered once");

    // Without a secret: 401 before any lookup; with another: as if the cart did not exist.
    let missing = s.call("GET", &cart_path, None, &no_secret).await;
    assert_eq!(
        (missing.status, code(&missing)),
        (StatusCode::UNAUTHORIZED, "CART_SECRET_REQUIRED")
    );
    let malformed = s.call("GET", &cart_path, None, &[("x-cart-secret", "short")]).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let read = s.call("GET", &cart_path, None, &as_thief).await;
    assert_eq!((read.status, code(&read)), (StatusCode::NOT_FOUND, "CART_NOT_FOUND"));
    let add = s
        .call(
            "POST",
            &items,
            Some(&json!({"productId": "MUG", "quantity": 1})),
            &as_thief,
        )
        .await;
    assert_eq!(add.status, StatusCode::NOT_FOUND);
    let line = fetched.body["items"][0]["id"].as_str().unwrap().to_string();
    let remove = s.call("DELETE", &format!("{items}/{line}"), None, &as_thief).await;
    assert_eq!(remove.status, StatusCode::NOT_FOUND);
    // A checkout with a browser cart under the victim's server cart id replaces nothing.
    let hijack = browser_checkout(
        &id,
        &demo(),
        json!([{"action": "addLineItem", "productId": "MUG", "quantity": 9}]),
        "pm_card_visa",
    );
    let path = format!("/api/v1/carts/{id}/checkout");
    let stolen = s.call("POST", &path, Some(&hijack), &as_thief).await;
    assert_eq!(
        (stolen.status, code(&stolen)),
        (StatusCode::NOT_FOUND, "CART_NOT_FOUND")
    );
    let unsigned = s.call("POST", &path, Some(&hijack), &no_secret).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.count("checkouts"), 0);
    assert_eq!(s.get(&cart_path).await.body["items"].as_array().unwrap().len(), 1);

    // The owner orders; the order opens with the owner's secret only, and a checkout of the ordered
    // id by anyone else learns no order id.
    let pay = json!({"paymentMethodId": "pm_card_visa"});
    let placed = s.checkout(&id, &pay, Some("own-key")).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    let order_id = placed.body["orderId"].as_str().unwrap();
    let vendor_id = placed.body["orders"][0]["orderId"].as_str().unwrap();
    for order in [order_id, vendor_id] {
        let path = format!("/api/v1/orders/{order}");
        let mine = s.get(&path).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert_eq!(mine.headers["cache-control"], "no-store");
        let theirs = s.call("GET", &path, None, &as_thief).await;
        assert_eq!(
            (theirs.status, code(&theirs)),
            (StatusCode::NOT_FOUND, "ORDER_NOT_FOUND")
        );
        assert!(!theirs.text.contains("pm_card"), "{}", theirs.text);
        let anonymous = s.call("GET", &path, None, &no_secret).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    }
    let again = s.checkout(&id, &pay, Some("own-key-2")).await;
    assert_eq!(again.body["error"]["details"]["orderId"], json!(order_id));
    let theirs = s.call("POST", &path, Some(&pay), &as_thief).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    // The owner's key, replayed by someone else with the same body: refused, not the owner's answer.
    let replay = s
        .call(
            "POST",
            &path,
            Some(&pay),
            &[("x-cart-secret", THIEF), ("x-idempotency-key", "own-key")],
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!replay.text.contains(order_id));

    // A browser cart ordered under one secret: to another secret the id is unknown.
    let browser = browser_checkout(
        "cart_browser_1",
        &demo(),
        json!([{"action": "addLineItem", "productId": "MUG", "quantity": 1}]),
        "pm_card_visa",
    );
    let mine = s.checkout("cart_browser_1", &browser, None).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let path = "/api/v1/carts/cart_browser_1/checkout";
    let other = s.call("POST", path, Some(&browser), &as_thief).await;
    assert_eq!((other.status, code(&other)), (StatusCode::NOT_FOUND, "CART_NOT_FOUND"));
    assert!(!other.text.contains(mine.body["orderId"].as_str().unwrap()));
    // Its owner reads the ordered cart (and its order id) with the secret it checked out with.
    let cart = s.get("/api/v1/carts/cart_browser_1").await;
    assert_eq!(cart.body["orderId"], mine.body["orderId"]);
    let cart = s.call("GET", "/api/v1/carts/cart_browser_1", None, &as_thief).await;
    assert_eq!(cart.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn browser_cart_checkout_makes_one_order_per_vendor() {
    let s = server();
    let catalog = demo();
    let body = browser_checkout(
        "cart_browser_1",
        &catalog,
        json!([
            {"action": "addLineItem", "productId": "MS-365-BUS-STD", "quantity": 12, "attributes": {"domain": "example.com"}},
            {"action": "addLineItem", "productId": "MS-365-BUS-BASIC", "quantity": 3, "attributes": {"domain": "example.com"}},
            {"action": "addLineItem", "productId": "MUG", "variantId": 1, "quantity": 3},
            {"action": "addDiscountCode", "code": "WELCOME10"},
            {"action": "setShippingMethod", "shippingMethodId": "express"}
        ]),
        "pm_card_visa",
    );
    let placed = s.checkout("cart_browser_1", &body, Some("key-vendors")).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    let orders = placed.body["orders"].as_array().unwrap();
    let vendors: Vec<&str> = orders.iter().map(|o| o["vendor"].as_str().unwrap()).collect();
    assert_eq!(vendors, vec!["microsoft", "cloudhub", "merch"]);
    let ids: std::collections::BTreeSet<&str> = orders.iter().map(|o| o["orderId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(placed.body["poNumber"], json!("MY-PO-12345"));
    assert_eq!(placed.body["customerId"], json!("cust_42"));
    // Vendor totals + shipping + cash rounding = what was charged (all in minor units in the view).
    let view = &placed.body["view"];
    let lines: i64 = view["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["total"].as_i64().unwrap())
        .sum();
    let shipping = view["shipping"]["total"].as_i64().unwrap();
    assert_eq!(
        lines + shipping + view["totals"]["cashRounding"].as_i64().unwrap(),
        view["totals"]["total"].as_i64().unwrap()
    );
    assert_eq!(s.count("orders"), 3);
    assert_eq!(s.stock("MUG", "1"), 40 - 3);
    // The ordered cart is kept, read-only, and names its order: a browser whose answer was lost looks
    // it up here instead of sending the checkout again.
    let cart = s.get("/api/v1/carts/cart_browser_1").await;
    assert_eq!(cart.body["status"], json!("ordered"));
    assert_eq!(cart.body["orderId"], placed.body["orderId"]);
}

#[tokio::test]
async fn checkout_body_validation_and_payment() {
    let s = server();
    let catalog = demo();
    let actions = json!([{"action": "addLineItem", "productId": "PHONE-A5", "quantity": 2}]);
    let declined = browser_checkout("cart_d", &catalog, actions.clone(), "pm_card_declined");
    let reply = s.checkout("cart_d", &declined, Some("k-declined")).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::PAYMENT_REQUIRED, "PAYMENT_FAILED")
    );
    assert_eq!(s.stock("PHONE-A5", ""), 5);
    assert_eq!(s.count("checkouts"), 0);
    // The key keeps its 402 (Stripe): nothing else of the checkout is stored.
    assert_eq!(s.count("idempotency"), 1);

    let mut unknown = declined.clone();
    unknown["paymentMethodId"] = json!("pm_bitcoin");
    let reply = s.checkout("cart_d", &unknown, None).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::BAD_REQUEST, "INVALID_REQUEST")
    );
    assert_eq!(reply.body["error"]["details"]["field"], json!("paymentMethodId"));

    let mut typed = declined.clone();
    typed["cart"]["items"][0]["quantity"] = json!("2");
    let reply = s.checkout("cart_d", &typed, None).await;
    assert_eq!(reply.body["error"]["details"]["field"], json!("cart.items[0].quantity"));

    let mut priced = declined.clone();
    priced["cart"]["items"][0]["unitPrice"] = json!(1);
    let reply = s.checkout("cart_d", &priced, None).await;
    assert_eq!(code(&reply), "INVALID_REQUEST");
    assert_eq!(
        reply.body["error"]["details"]["field"],
        json!("cart.items[0].unitPrice")
    );

    let mut custom = declined.clone();
    custom["cart"]["customLineItems"] =
        json!([{"name": "Credit", "amount": "500.00", "taxCategory": "standard", "quantity": 1, "kind": "credit"}]);
    let reply = s.checkout("cart_d", &custom, None).await;
    assert_eq!(reply.body["error"]["details"]["field"], json!("cart.customLineItems"));

    let mut missing_attr = browser_checkout(
        "cart_m",
        &catalog,
        json!([{"action": "addLineItem", "productId": "MS-365-BUS-STD", "quantity": 1}]),
        "pm_card_visa",
    );
    let reply = s.checkout("cart_m", &missing_attr, None).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::UNPROCESSABLE_ENTITY, "MISSING_ATTRIBUTE")
    );
    missing_attr["cart"]["items"][0]["productId"] = json!("GONE");
    let reply = s.checkout("cart_m", &missing_attr, None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::BAD_REQUEST, "INVALID_ITEM"));
    assert_eq!(reply.body["error"]["details"]["field"], json!("cart.items[0]"));

    // Seed 001's rules hold at checkout too: an add-on needs a plan; prepaid and postpaid do not mix.
    let addon = browser_checkout(
        "cart_r",
        &catalog,
        json!([{"action": "addLineItem", "productId": "ADDON-ROAM", "quantity": 1}]),
        "pm_card_visa",
    );
    let reply = s.checkout("cart_r", &addon, None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::CONFLICT, "REQUIRES_ITEM"));
    let mut mixed = addon.clone();
    mixed["cart"]["items"] = json!([
        {"productId": "PLAN-POST-20", "quantity": 1},
        {"productId": "PLAN-PRE-10", "quantity": 1}
    ]);
    let reply = s.checkout("cart_r", &mixed, None).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::CONFLICT, "INCOMPATIBLE_ITEMS")
    );
    assert_eq!(s.count("checkouts"), 0);

    let no_cart = s
        .checkout("cart_unknown", &json!({"paymentMethodId": "pm_card_visa"}), None)
        .await;
    assert_eq!(
        (no_cart.status, code(&no_cart)),
        (StatusCode::NOT_FOUND, "CART_NOT_FOUND")
    );
}

#[tokio::test]
async fn a_checkout_right_after_the_catalog_file_changed_is_priced_with_the_new_one() {
    // The checkout reads the catalog (which reloads the file and writes its stock) before it opens its
    // transaction: reading it inside made the reload wait for that lock, fail, and keep the old prices.
    let s = server();
    let catalog = demo();
    let actions = json!([{"action": "addLineItem", "productId": "PHONE-X15", "quantity": 1}]);
    let body = browser_checkout("cart_r", &catalog, actions, "pm_card_visa");
    let mut edited = test_catalog();
    edited["version"] = json!("dearer#2");
    edited["products"][0]["prices"][0]["amount"] = json!("999.00");
    std::fs::write(s._dir.path().join("catalog.json"), edited.to_string()).unwrap();
    let reply = s.checkout("cart_r", &body, Some("k-reload")).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::CONFLICT, "PRICE_CHANGED"),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["error"]["details"]["view"]["catalogVersion"], "dearer#2");
    assert_eq!(s.state.catalog().catalog.version(), Some("dearer#2"));
}

#[tokio::test]
async fn tampered_prices_never_change_what_is_charged() {
    let s = server();
    let catalog = demo();
    let actions = json!([{"action": "addLineItem", "productId": "PHONE-X15", "quantity": 1}]);
    let honest = browser_checkout("cart_t", &catalog, actions.clone(), "pm_card_visa");
    let real_total = honest["cart"]["expected"]["total"].as_i64().unwrap();

    // Edited expected totals.
    let mut cheap = honest.clone();
    cheap["cart"]["expected"]["total"] = json!(100);
    cheap["cart"]["expected"]["subtotal"] = json!(100);
    let reply = s.checkout("cart_t", &cheap, Some("k-cheap")).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::CONFLICT, "PRICE_CHANGED"));
    let details = &reply.body["error"]["details"];
    assert_eq!(details["actual"]["total"], json!(real_total));
    assert_eq!(details["expected"]["total"], json!(100));
    assert_eq!(details["differences"], json!(["subtotal", "total"]));
    assert_eq!(details["view"]["totals"]["total"], json!(real_total));
    assert_eq!(s.count("checkouts"), 0);

    // A client whose catalog was edited (the phone at 1.00) prices its own cart lower: refused too.
    let mut edited: Value = test_catalog();
    edited["products"][0]["prices"][0]["amount"] = json!("1.00");
    let edited = Catalog::from_value(edited).unwrap();
    let forged = browser_checkout("cart_t", &edited, actions.clone(), "pm_card_visa");
    assert!(forged["cart"]["expected"]["total"].as_i64().unwrap() < real_total);
    let reply = s.checkout("cart_t", &forged, Some("k-forged")).await;
    assert_eq!(code(&reply), "PRICE_CHANGED");

    // Accepting the server's prices: what is charged is the server's total, to the cent.
    let mut accepted = forged.clone();
    accepted["cart"]["expected"] = reply.body["error"]["details"]["actual"].clone();
    let placed = s.checkout("cart_t", &accepted, Some("k-accepted")).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    assert_eq!(placed.body["view"]["totals"]["total"], json!(real_total));
    assert_eq!(placed.body["total"], json!(real_total as f64 / 100.0)); // 899.00 less the automatic 50.00
    let charged = s.scalar("SELECT total_minor FROM checkouts");
    assert_eq!(charged, real_total);
}

#[tokio::test]
async fn idempotent_replay_and_key_reuse() {
    let s = server();
    let catalog = demo();
    let body = browser_checkout(
        "cart_i",
        &catalog,
        json!([{"action": "addLineItem", "productId": "ROUTER-5G", "quantity": 2}]),
        "pm_card_visa",
    );
    let first = s.checkout("cart_i", &body, Some("idem-1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = s.checkout("cart_i", &body, Some("idem-1")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(again.body["orderId"], first.body["orderId"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(s.count("checkouts"), 1);
    assert_eq!(s.stock("ROUTER-5G", ""), 40 - 2);

    let mut other = body.clone();
    other["poNumber"] = json!("OTHER-PO");
    let reused = s.checkout("cart_i", &other, Some("idem-1")).await;
    assert_eq!(
        (reused.status, code(&reused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED")
    );
    // A new key for an ordered cart does not make a second order.
    let fresh = s.checkout("cart_i", &body, Some("idem-2")).await;
    assert_eq!(code(&fresh), "CART_NOT_ACTIVE");
    let bad_key = s.checkout("cart_i", &body, Some("")).await;
    assert_eq!(code(&bad_key), "INVALID_REQUEST");
    assert_eq!(s.count("checkouts"), 1);
}

#[tokio::test]
async fn idempotency_records_expire_after_their_ttl() {
    let s = server_with(|c| c.idempotency_ttl_seconds = 3600);
    let catalog = demo();
    let add = json!([{"action": "addLineItem", "productId": "ROUTER-5G", "quantity": 1}]);
    let body = browser_checkout("cart_t1", &catalog, add.clone(), "pm_card_visa");
    let first = s.checkout("cart_t1", &body, Some("idem-t")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // Within the TTL: replayed, and the key is bound to its request.
    let other = browser_checkout("cart_t2", &catalog, add.clone(), "pm_card_visa");
    let reused = s.checkout("cart_t2", &other, Some("idem-t")).await;
    assert_eq!(code(&reused), "IDEMPOTENCY_KEY_REUSED");
    // An hour and a millisecond later the record is gone: the same request no longer replays, and the
    // ordered cart is still never ordered twice.
    s.execute("UPDATE idempotency SET created_at = created_at - 3600001");
    let again = s.checkout("cart_t1", &body, Some("idem-t")).await;
    assert_eq!((again.status, code(&again)), (StatusCode::CONFLICT, "CART_NOT_ACTIVE"));
    assert_eq!(again.body["error"]["details"]["orderId"], first.body["orderId"]);
    assert_eq!(s.count("idempotency"), 0);
    // The key is free for another request.
    let fresh = s.checkout("cart_t2", &other, Some("idem-t")).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_ne!(fresh.body["orderId"], first.body["orderId"]);
    assert_eq!(s.count("checkouts"), 2);
    assert_eq!(s.count("idempotency"), 1);
}

#[tokio::test]
async fn a_duplicate_while_the_first_runs_gets_checkout_in_progress() {
    let s = server_with(|c| c.idempotency_wait = Duration::ZERO);
    let catalog = demo();
    let body = browser_checkout(
        "cart_p",
        &catalog,
        json!([{"action": "addLineItem", "productId": "ROUTER-5G", "quantity": 1}]),
        "pm_card_visa",
    );
    let held = s.state.lock_key("busy-key").await.unwrap();
    let reply = s.checkout("cart_p", &body, Some("busy-key")).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::CONFLICT, "CHECKOUT_IN_PROGRESS")
    );
    assert!(reply.headers.contains_key("retry-after"));
    drop(held);
    let reply = s.checkout("cart_p", &body, Some("busy-key")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_make_one_order() {
    let s = Arc::new(server());
    let catalog = demo();
    let body = browser_checkout(
        "cart_dup",
        &catalog,
        json!([{"action": "addLineItem", "productId": "PHONE-A5", "quantity": 1}]),
        "pm_card_visa",
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (s, body) = (s.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            s.checkout("cart_dup", &body, Some("dup-key")).await
        }));
    }
    let mut order_ids = std::collections::BTreeSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        order_ids.insert(reply.body["orderId"].as_str().unwrap().to_string());
    }
    assert_eq!(order_ids.len(), 1);
    assert_eq!(s.count("checkouts"), 1);
    assert_eq!(s.stock("PHONE-A5", ""), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_checkouts_race_for_the_last_five_units() {
    let s = Arc::new(server());
    let catalog = demo();
    assert_eq!(s.stock("PHONE-A5", ""), 5);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let id = format!("cart_race_{i}");
        let body = browser_checkout(
            &id,
            &catalog,
            json!([{"action": "addLineItem", "productId": "PHONE-A5", "quantity": 1}]),
            "pm_card_visa",
        );
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.checkout(&id, &body, Some(&format!("race-{i}"))).await
        }));
    }
    let mut placed = 0;
    let mut refused = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::OK => placed += 1,
            StatusCode::CONFLICT => {
                assert_eq!(code(&reply), "INVENTORY_UNAVAILABLE", "{}", reply.body);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!((placed, refused), (5, 15));
    assert_eq!(s.stock("PHONE-A5", ""), 0);
    assert_eq!(s.count("checkouts"), 5);
    let catalog = s.get("/api/v1/catalog").await;
    let a5 = catalog.body["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!("PHONE-A5"))
        .unwrap()
        .clone();
    assert_eq!(a5["stock"], json!(0));
}

#[tokio::test]
async fn unknown_endpoints_and_methods_answer_json_errors() {
    let s = server();
    let reply = s.get("/api/v1/nope").await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let reply = s.call("PUT", "/api/v1/carts", None, &[]).await;
    assert_eq!(
        (reply.status, code(&reply)),
        (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED")
    );
    let reply = s
        .call("POST", "/api/v1/carts", None, &[("content-type", "text/plain")])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED); // empty body: nothing to misread
}

#[tokio::test]
async fn a_real_socket_serves_the_api_with_per_client_limits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = server_with(|c| c.rate_limit = 2);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = s
        .app
        .clone()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /api/v1/carts/cart_x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        statuses.push(response.lines().next().unwrap_or("").to_string());
        assert!(
            response.to_ascii_lowercase().contains("x-ratelimit-limit: 2"),
            "{response}"
        );
    }
    // No secret: 401 before any lookup.
    assert!(statuses[0].contains("401"), "{statuses:?}");
    assert!(statuses[1].contains("401"), "{statuses:?}");
    assert!(statuses[2].contains("429"), "{statuses:?}");
    server.abort();
}

#[tokio::test]
async fn a_database_fault_is_internal_error_without_internals() {
    let s = server();
    s.execute("DROP TABLE stock");
    let reply = s.get("/api/v1/catalog").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.body,
        json!({"error": {"code": "INTERNAL_ERROR", "message": "internal error"}})
    );
}

/// Idempotency as Stripe defines it: a key answered with a refusal keeps that answer. The same request
/// is answered 402 again (replayed), another card under the key is 422 and places nothing; a new key
/// with the good card orders.
#[tokio::test]
async fn a_key_first_declined_keeps_its_answer() {
    let s = server();
    let catalog = demo();
    let actions = json!([{"action": "addLineItem", "productId": "PHONE-A5", "quantity": 1}]);
    let declined = browser_checkout("cart_k", &catalog, actions.clone(), "pm_card_declined");
    let first = s.checkout("cart_k", &declined, Some("k-1")).await;
    assert_eq!(
        (first.status, code(&first)),
        (StatusCode::PAYMENT_REQUIRED, "PAYMENT_FAILED")
    );

    let again = s.checkout("cart_k", &declined, Some("k-1")).await;
    assert_eq!(again.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);

    let visa = browser_checkout("cart_k", &catalog, actions, "pm_card_visa");
    let reused = s.checkout("cart_k", &visa, Some("k-1")).await;
    assert_eq!(
        (reused.status, code(&reused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED")
    );
    assert_eq!(s.count("checkouts"), 0);
    assert_eq!(s.stock("PHONE-A5", ""), 5);

    let placed = s.checkout("cart_k", &visa, Some("k-2")).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    assert_eq!(s.count("checkouts"), 1);
}

/// A confirmation number that meets an existing one is drawn again: the generator below repeats its
/// first confirmation draw once, so the second order's first number collides with the first order's.
#[tokio::test]
async fn a_colliding_confirmation_number_is_drawn_again() {
    use std::sync::atomic::{AtomicU8, Ordering};
    let confirmation_draws = std::sync::Arc::new(AtomicU8::new(0));
    let other_draws = AtomicU8::new(0);
    let counter = confirmation_draws.clone();
    let ids = cart_server::ids::Ids::from_fn(move |buf: &mut [u8]| {
        let n = if buf.len() == cart_server::ids::CONFIRMATION_BYTES {
            // Draws 0 and 1 are equal; then every draw differs.
            counter.fetch_add(1, Ordering::SeqCst).saturating_sub(1)
        } else {
            other_draws.fetch_add(1, Ordering::SeqCst)
        };
        buf.fill(n);
        Ok(())
    });
    let s = server_with_ids(|_| {}, ids);
    let catalog = demo();
    let actions = json!([{"action": "addLineItem", "productId": "PHONE-A5", "quantity": 1}]);
    let first = s
        .checkout(
            "cart_c1",
            &browser_checkout("cart_c1", &catalog, actions.clone(), "pm_card_visa"),
            None,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = s
        .checkout(
            "cart_c2",
            &browser_checkout("cart_c2", &catalog, actions, "pm_card_visa"),
            None,
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_ne!(first.body["confirmationNumber"], second.body["confirmationNumber"]);
    assert_eq!(
        confirmation_draws.load(Ordering::SeqCst),
        3,
        "the second order drew twice"
    );
    assert_eq!(s.count("checkouts"), 2);
    // The stored answer carries the number that was kept.
    let order_id = second.body["orderId"].as_str().unwrap();
    let stored = s.get(&format!("/api/v1/orders/{order_id}")).await;
    assert_eq!(stored.body["confirmationNumber"], second.body["confirmationNumber"]);
}

/// Every answer says how it may be used: a CSP that lets the wasm run and forbids framing, nosniff,
/// no referrer (docs/server.md).
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = server_with(|c| c.connect_src = vec!["http://127.0.0.1:*".into()]);
    for path in ["/", "/api/v1/catalog", "/api/v1/carts/nope"] {
        let reply = s.get(path).await;
        let csp = reply.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:*"), "{csp}");
        assert_eq!(reply.headers["x-frame-options"], "DENY");
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer");
    }
    // Personal data is never cached; the catalog is revalidated with its ETag.
    let cart = s.new_cart().await;
    for path in [format!("/api/v1/carts/{cart}"), "/api/v1/orders/ord_nope".to_string()] {
        assert_eq!(s.get(&path).await.headers["cache-control"], "no-store", "{path}");
    }
    assert_eq!(s.get("/api/v1/catalog").await.headers["cache-control"], "no-cache");
}

/// CORS: only allowed origins, preflights answered without touching the API, the headers a checkout
/// client reads exposed; no origin is allowed by default.
#[tokio::test]
async fn cors_answers_only_the_allowed_origins() {
    let s = server_with(|c| c.allow_origins = vec!["https://shop.example".into()]);
    let preflight = s
        .call(
            "OPTIONS",
            "/api/v1/carts/cart_1/checkout",
            None,
            &[
                ("origin", "https://shop.example"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, x-idempotency-key, x-request-id",
                ),
            ],
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(preflight.headers["access-control-allow-origin"], "https://shop.example");
    let allowed = preflight.headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("x-idempotency-key"), "{allowed}");

    let answer = s
        .call("GET", "/api/v1/catalog", None, &[("origin", "https://shop.example")])
        .await;
    assert_eq!(answer.headers["access-control-allow-origin"], "https://shop.example");
    let exposed = answer.headers["access-control-expose-headers"].to_str().unwrap();
    for name in [
        "x-request-id",
        "x-ratelimit-remaining",
        "retry-after",
        "idempotent-replayed",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }

    let other = s
        .call("GET", "/api/v1/catalog", None, &[("origin", "https://evil.example")])
        .await;
    assert!(!other.headers.contains_key("access-control-allow-origin"));
    let default = server();
    let none = default
        .call("GET", "/api/v1/catalog", None, &[("origin", "https://shop.example")])
        .await;
    assert!(!none.headers.contains_key("access-control-allow-origin"));
}

/// `--static` serves its folder and nothing else: no dotfiles, no file a symlink leads to outside it.
#[tokio::test]
async fn no_dotfiles_and_no_symlinks_out_of_the_static_folder() {
    let s = server();
    let www = s.state.config.static_dir.clone();
    std::fs::write(www.join(".env"), "SECRET=1").unwrap();
    std::fs::create_dir_all(www.join(".git")).unwrap();
    std::fs::write(www.join(".git/config"), "[core]").unwrap();
    std::fs::create_dir_all(www.join("css")).unwrap();
    std::fs::write(www.join("css/site.css"), "body{}").unwrap();
    let outside = www.parent().unwrap().join("outside.txt");
    std::fs::write(&outside, "private").unwrap();
    std::os::unix::fs::symlink(&outside, www.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(www.join("css/site.css"), www.join("inside.css")).unwrap();

    for path in ["/.env", "/.git/config", "/%2eenv", "/leak.txt", "/css/../.env"] {
        let reply = s.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !reply.text.contains("SECRET") && !reply.text.contains("private"),
            "{path}"
        );
    }
    assert_eq!(s.get("/css/site.css").await.status, StatusCode::OK);
    assert_eq!(s.get("/inside.css").await.status, StatusCode::OK);
    assert_eq!(s.get("/").await.status, StatusCode::OK);
}

/// Every error code cart-server can answer is one the package's closed `CheckoutErrorCode` union
/// lists (`wasm_cart::error::details::checkout_codes`); a code outside it would reach shoppers'
/// programs as `CHECKOUT_FAILED`. Read from the source: every SCREAMING_CASE string literal that is not
/// a setting name.
#[test]
fn every_code_the_server_answers_is_in_the_package_union() {
    const NOT_CODES: [&str; 5] = ["CARGO_PKG_VERSION", "ION_SECRET", "DENY", "FULL", "NORMAL"];
    let mut unknown = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // Without escaped quotes and quote characters, every other piece between quotes is a literal.
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("\\\"", "")
                .replace("'\"'", "");
            for literal in text.split('"').skip(1).step_by(2) {
                let screaming = literal.len() > 3
                    && literal.starts_with(|c: char| c.is_ascii_uppercase())
                    && literal.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                if screaming && !NOT_CODES.contains(&literal) && !wasm_cart::error::details::is_checkout_code(literal) {
                    unknown.push(format!("{literal} ({})", path.display()));
                }
            }
        }
    }
    assert_eq!(unknown, Vec::<String>::new());
}
