//! `cart-server`: the reference checkout server of wasm-cart (DESIGN §9). The SPEC-B cart API (seed 001)
//! over SQLite, priced by the same engine the browser runs (`wasm-cart` without its web layer), plus the
//! storefront (`www/`) and the wasm package (`pkg/`). See `docs/server.md`.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod api;
pub mod assets;
pub mod cli;
pub mod error;
mod headers;
pub mod ids;
pub mod owner;
pub mod ratelimit;
pub mod relay;
pub mod serve;
pub mod store;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use error::ApiError;
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use wasm_cart::{Catalog, Timestamp};

/// The demo catalog, built in so the server runs from anywhere without `--catalog`.
pub const DEMO_CATALOG: &str = include_str!("../catalog/demo.json");

/// Everything the command line can set.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// `--db`: a SQLite file or a PostgreSQL URL.
    pub db: store::Database,
    /// `--db-pool`: PostgreSQL connections per instance at most.
    pub db_pool: u32,
    /// `--sqlite-synchronous`: `true` for FULL (the default), `false` for NORMAL.
    pub sqlite_full_sync: bool,
    /// `None`: the built-in demo catalog.
    pub catalog: Option<PathBuf>,
    pub static_dir: PathBuf,
    pub pkg_dir: PathBuf,
    /// API requests per minute per client IP.
    pub rate_limit: u32,
    /// `--trusted-proxy`: reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Server carts expire this long after their last change.
    pub cart_ttl_seconds: u64,
    /// Largest request body, in bytes (larger: 413).
    pub body_limit: usize,
    /// How long a checkout waits for another one running under the same idempotency key before it
    /// answers 409 `CHECKOUT_IN_PROGRESS`.
    pub idempotency_wait: Duration,
    /// How long a stored checkout answer is replayed for its idempotency key. Older records are
    /// deleted, so the table does not grow for ever; a cart is ordered at most once whatever the key,
    /// so a key reused after that answers `CART_NOT_ACTIVE`, never a second order.
    pub idempotency_ttl_seconds: u64,
    /// `--relay FILE`: checkouts are placed into that platform (docs/sync.md) instead of locally.
    pub relay: Option<PathBuf>,
    /// `--allow-origin`: storefront origins (other than the server's own) allowed to call the API.
    pub allow_origins: Vec<String>,
    /// `--connect-src`: origins the served pages may call besides their own (browser-direct platforms),
    /// added to the Content-Security-Policy's `connect-src`.
    pub connect_src: Vec<String>,
    /// `--max-connections`: open connections at most; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// `--header-timeout`: a request's headers (or, on an idle connection, the next request) must
    /// arrive within this.
    pub header_timeout: Duration,
    /// `--body-timeout`: a request body must arrive within this (408 otherwise).
    pub body_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            db: store::Database::Sqlite(PathBuf::from("data/cart.db")),
            db_pool: 16,
            sqlite_full_sync: true,
            catalog: None,
            static_dir: PathBuf::from("www"),
            pkg_dir: PathBuf::from("pkg"),
            rate_limit: 100,
            trusted_proxies: Vec::new(),
            cart_ttl_seconds: 1800,
            body_limit: 64 * 1024,
            idempotency_wait: Duration::from_secs(10),
            idempotency_ttl_seconds: 24 * 60 * 60,
            relay: None,
            allow_origins: Vec::new(),
            connect_src: Vec::new(),
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// A validated catalog and its JSON. Its stock figures are the initial ones; live stock is in SQLite.
pub struct LoadedCatalog {
    pub catalog: Catalog,
    /// The JSON as loaded, served by `GET /api/v1/catalog` with live stock patched in.
    pub json: Value,
}

impl LoadedCatalog {
    fn parse(text: &str) -> Result<LoadedCatalog, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| format!("catalog: {e}"))?;
        let catalog = Catalog::from_value(json.clone()).map_err(|e| format!("catalog: {e}"))?;
        Ok(LoadedCatalog { catalog, json })
    }
}

fn file_stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The shared state of every request.
pub struct AppState {
    pub config: Config,
    pub store: store::Store,
    /// The catalog in force (see [`AppState::catalog`]).
    catalog: RwLock<Arc<LoadedCatalog>>,
    /// Modification time and length of the catalog file when it was last read.
    catalog_stamp: Mutex<Option<(SystemTime, u64)>>,
    limiter: ratelimit::RateLimiter,
    /// Checkouts running now, by idempotency key.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The upstream platform, when checkouts are relayed.
    pub relay: Option<Arc<relay::Relay>>,
    /// Where cart ids, order ids and confirmation numbers come from.
    pub ids: ids::Ids,
    /// The version of the storefront's files and the package (content-hashed URLs).
    pub assets: Arc<assets::Assets>,
}

impl AppState {
    /// Loads the catalog, opens and migrates the database, seeds stock.
    pub fn new(config: Config) -> Result<Arc<AppState>, String> {
        AppState::with_ids(config, ids::Ids::default())
    }

    /// As [`AppState::new`], with ids from `ids` (tests force collisions with it).
    pub fn with_ids(config: Config, ids: ids::Ids) -> Result<Arc<AppState>, String> {
        let text = match &config.catalog {
            Some(path) => {
                std::fs::read_to_string(path).map_err(|e| format!("cannot read catalog {}: {e}", path.display()))?
            }
            None => DEMO_CATALOG.to_string(),
        };
        let stamp = config.catalog.as_deref().and_then(file_stamp);
        let loaded = LoadedCatalog::parse(&text)?;
        let relay = match &config.relay {
            Some(path) => Some(Arc::new(relay::Relay::new(relay::RelayConfig::load(path)?)?)),
            None => None,
        };
        let store = store::off_runtime(|| {
            let store = store::Store::open(&config.db, config.db_pool, config.sqlite_full_sync)?;
            store
                .write(|tx| Ok(store::seed_stock(tx, &loaded.catalog)?))
                .map_err(|e| format!("seeding stock: {e}"))?;
            Ok::<_, String>(store)
        })??;
        Ok(Arc::new(AppState {
            limiter: ratelimit::RateLimiter::new(config.rate_limit),
            store,
            catalog: RwLock::new(Arc::new(loaded)),
            catalog_stamp: Mutex::new(stamp),
            inflight: Mutex::new(HashMap::new()),
            relay,
            ids,
            assets: Arc::new(assets::Assets::new(&config.static_dir, &config.pkg_dir)),
            config,
        }))
    }

    /// The catalog in force. A server started with `--catalog FILE` notices when the file changes and
    /// reads it again, so a merchant can change prices without a restart (carts priced with the old
    /// catalog then get `PRICE_CHANGED` at checkout). A file that no longer loads is logged and the last
    /// good catalog stays in force.
    pub fn catalog(&self) -> Arc<LoadedCatalog> {
        if let Some(path) = &self.config.catalog {
            self.reload_if_changed(path);
        }
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn reload_if_changed(&self, path: &std::path::Path) {
        let stamp = file_stamp(path);
        let mut seen = self.catalog_stamp.lock().unwrap_or_else(|p| p.into_inner());
        if stamp.is_none() || stamp == *seen {
            return;
        }
        *seen = stamp;
        let loaded = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read catalog {}: {e}", path.display()))
            .and_then(|text| LoadedCatalog::parse(&text));
        let seeded = loaded.and_then(|loaded| {
            store::off_runtime(|| self.store.write(|tx| Ok(store::seed_stock(tx, &loaded.catalog)?)))?
                .map_err(|e| format!("seeding stock: {e}"))?;
            Ok(loaded)
        });
        match seeded {
            Ok(loaded) => {
                eprintln!(
                    "catalog reloaded from {} (version {})",
                    path.display(),
                    loaded.catalog.version().unwrap_or("unversioned")
                );
                *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded);
            }
            Err(e) => eprintln!(
                "catalog {} not reloaded, keeping the last good one: {e}",
                path.display()
            ),
        }
    }

    /// Holds the idempotency key `key` for the duration of one checkout: a second request with the
    /// same key waits for the first (then finds its stored answer) or, after `idempotency_wait`, gets
    /// 409 `CHECKOUT_IN_PROGRESS`.
    pub async fn lock_key(&self, key: &str) -> Result<KeyGuard<'_>, ApiError> {
        let lock = {
            let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.to_string()).or_default().clone()
        };
        let guard = tokio::time::timeout(self.config.idempotency_wait, lock.lock_owned())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "CHECKOUT_IN_PROGRESS",
                    "a checkout with this idempotency key is still running; retry later",
                )
                .with_header(HeaderName::from_static("retry-after"), HeaderValue::from_static("1"))
            })?;
        Ok(KeyGuard {
            state: self,
            key: key.to_string(),
            guard: Some(guard),
        })
    }
}

/// Releases an idempotency key (and forgets it once nobody waits for it).
pub struct KeyGuard<'a> {
    state: &'a AppState,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.state.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&self.key).is_some_and(|m| Arc::strong_count(m) == 1) {
            map.remove(&self.key);
        }
    }
}

/// The whole application: `/api/v1` (rate limited), `/pkg/` and the storefront at `/`, every request
/// logged and given `X-Request-ID` and `X-Response-Time`.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/catalog", get(api::get_catalog))
        .route("/carts", post(api::create_cart))
        .route("/carts/{cart_id}", get(api::get_cart))
        .route("/carts/{cart_id}/items", post(api::add_item))
        .route("/carts/{cart_id}/items/{item_id}", delete(api::remove_item))
        .route("/carts/{cart_id}/checkout", post(api::checkout))
        .route("/orders/{order_id}", get(api::get_order))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(
            HeaderValue::from_static("no-store"),
            headers::cache_control,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            state.config.body_timeout,
        ))
        .layer(headers::cors(&state.config.allow_origins))
        .with_state(state.clone());
    let static_files = ServeDir::new(&state.config.static_dir).append_index_html_on_directories(true);
    // Files go out brotli- or gzip-compressed when the browser accepts it (the wasm module shrinks to
    // about a third). The package's precompressed copies (`make pkg` writes `.br` and `.gz` beside the
    // wasm and its glue) are sent as they are: compressing the wasm per request cost ~40 ms. Other
    // files are compressed on the way out. The API is left as it is: its catalog ETag names the
    // uncompressed bytes. No dotfile and nothing a symlink leads to outside its folder is served.
    let pkg_files = ServeDir::new(&state.config.pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    let (www, pkg) = (&state.config.static_dir, &state.config.pkg_dir);
    // The same files under the current version (src/assets.rs): immutable.
    let versioned = Router::new()
        .nest_service("/v/{version}/pkg", headers::guarded(pkg, pkg_files.clone()))
        .nest_service("/v/{version}/www", headers::guarded(www, static_files.clone()))
        .layer(middleware::from_fn_with_state(state.assets.clone(), assets::immutable));
    let page = get(assets::page).with_state(state.assets.clone());
    let plain = Router::new()
        .route("/", page.clone())
        .route("/index.html", page)
        .nest_service("/pkg", headers::guarded(pkg, pkg_files))
        .fallback_service(headers::guarded(www, static_files))
        // Files under their plain names may change at any deploy: asked for again at each use (an
        // unchanged file costs a 304 through `Last-Modified`).
        .layer(middleware::from_fn_with_state(
            HeaderValue::from_static("no-cache"),
            headers::cache_control,
        ));
    let files = versioned
        .merge(plain)
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(assets::vary_encoding));
    let policy = headers::SecurityHeaders::new(&state.config.connect_src);
    Router::new()
        .nest("/api/v1", api)
        .merge(files)
        .layer(middleware::from_fn_with_state(policy, headers::secure))
        .layer(middleware::from_fn(observe))
}

/// Binds, prints the address, serves until Ctrl-C.
pub async fn serve(config: Config) -> Result<(), String> {
    let addr = config.addr;
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // One write, so that a process reading stderr never sees half an address.
    let line = format!(
        "cart-server listening on http://{local} (db {:?}, catalog {}, assets {})\n",
        state.config.db,
        state.catalog().catalog.version().unwrap_or("unversioned"),
        state.assets.version()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    let limits = serve::Limits {
        max_connections: state.config.max_connections,
        header_timeout: state.config.header_timeout,
    };
    serve::run(listener, router(state), limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| e.to_string())
}

/// The request id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// One log line per request (method, path, status, duration, request id); echoes or makes up
/// `X-Request-ID`; adds `X-Response-Time`.
async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut response = next.run(req).await;
    let elapsed = start.elapsed();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{}ms", elapsed.as_millis())) {
        headers.insert(HeaderName::from_static("x-response-time"), value);
    }
    eprintln!(
        "{} {method} {path} {} {:.1}ms {id}",
        now().to_rfc3339(),
        response.status().as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
    response
}

/// The per-client token bucket in front of the API: `X-RateLimit-*` on every answer, 429 when spent.
async fn rate_limit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    // Bytes a client put in its own header (left of what the proxy appended) do not hide the rest.
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let forwarded: Vec<&str> = forwarded.iter().map(String::as_str).collect();
    let client = ratelimit::client_ip(peer, &forwarded, &state.config.trusted_proxies);
    let decision = match &state.store {
        store::Store::Postgres(_) => shared_bucket(&state, client).await,
        store::Store::Sqlite(_) => state.limiter.check(client),
    };
    let mut response = if decision.allowed {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests; slow down",
        )
        .with_details(serde_json::json!({ "limit": decision.limit, "retryAfter": decision.retry_after }))
        .with_header(
            HeaderName::from_static("retry-after"),
            HeaderValue::from(decision.retry_after),
        )
        .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(decision.limit),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(decision.remaining),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-reset"),
        HeaderValue::from(decision.reset),
    );
    response
}

/// A request against the client's bucket in PostgreSQL, shared by every instance. When the database
/// cannot answer within 250 ms, this instance's own bucket decides (and the cause is logged): limits
/// stay on under load, per instance.
async fn shared_bucket(state: &Arc<AppState>, client: IpAddr) -> ratelimit::Decision {
    let limit = state.config.rate_limit;
    let (capacity, per_ms) = ratelimit::bucket_shape(limit);
    let key = ratelimit::client_key(client).to_string();
    let st = state.clone();
    let wall = SystemTime::now();
    let now_ms = now().millis();
    let taken = tokio::task::spawn_blocking(move || st.store.take_token(&key, capacity, per_ms, now_ms)).await;
    match taken {
        Ok(Ok((tokens, allowed))) => ratelimit::decision(limit, tokens, allowed, wall),
        Ok(Err(e)) => {
            eprintln!("rate limit: the shared buckets did not answer ({e}); this instance's decides");
            state.limiter.check(client)
        }
        Err(e) => {
            eprintln!("rate limit: {e}");
            state.limiter.check(client)
        }
    }
}

/// The server's clock, in the engine's terms.
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_millis(ms)
}
