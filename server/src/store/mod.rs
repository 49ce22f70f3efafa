//! Storage: one interface ([`Tx`]) over two databases.
//!
//! - **SQLite** (`--db FILE`, the default): one file, one server process (or several on one host).
//!   Every write transaction is `BEGIN IMMEDIATE`: writers queue on the database lock, so a read
//!   followed by a write cannot race another writer.
//! - **PostgreSQL** (`--db postgres://…`): several cart-server instances on one database. Write
//!   transactions lock what they change (the cart row, the stock rows); one that loses a race (a unique
//!   key another instance took meanwhile, a deadlock) is rolled back and run again from the start, so
//!   it then sees what the winner wrote (the stored answer of an idempotency key, the ordered cart, the
//!   stock left). See `postgres.rs`.
//!
//! Handlers never see SQL: they run a closure over `&mut dyn Tx` through [`Store::read`] or
//! [`Store::write`]. The closure may run more than once (PostgreSQL retries), so it must not have
//! effects outside the transaction (payment here is decided inside it; the relay's platform call
//! happens between two transactions, `api::relay_order`).

pub mod postgres;
pub mod sqlite;

use crate::error::ApiError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use wasm_cart::{CartState, Catalog};

/// Where the data lives: `--db FILE` or `--db postgres://user:password@host:port/database`.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else is a SQLite file.
    pub fn parse(value: &str) -> Database {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Database::Postgres(value.to_string())
        } else {
            Database::Sqlite(PathBuf::from(value))
        }
    }
}

/// Never prints a PostgreSQL password.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Database::Postgres(url) => write!(f, "Postgres({})", redact(url)),
        }
    }
}

/// The URL with its password (`user:password@` or `?password=`) replaced by `***`.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => base.to_string(),
            },
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    let Some(query) = query else {
        return base;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// A storage failure. `conflict`: the transaction lost a race with another one (PostgreSQL) and is
/// worth running again.
#[derive(Debug)]
pub struct StoreError {
    pub message: String,
    pub conflict: bool,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            conflict: false,
        }
    }

    /// A race lost to another transaction: the write runs again and then sees the winner's rows.
    pub fn conflict(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            conflict: true,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The code of an error that lost a race with another transaction. PostgreSQL's [`Store::write`]
/// runs the transaction again on it; only after many runs does a client see it (503, retry).
pub const CONFLICT_CODE: &str = "DATABASE_BUSY";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if e.conflict {
            return ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                CONFLICT_CODE,
                "the database is busy; retry",
            )
            .with_header(
                axum::http::HeaderName::from_static("retry-after"),
                axum::http::HeaderValue::from_static("1"),
            );
        }
        ApiError::internal(format!("database: {e}"))
    }
}

/// A cart row as stored.
pub struct CartRow {
    pub id: String,
    /// The engine's `CartState` JSON.
    pub state: String,
    /// SPEC-B create-cart metadata (a JSON object).
    pub metadata: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Written when the row is created, never changed (src/owner.rs).
    pub secret_hash: Option<String>,
}

/// What an idempotency key answered.
pub struct KeyRecord {
    pub key: String,
    pub fingerprint: String,
    pub status: u16,
    pub response: String,
    pub checkout_id: Option<String>,
    pub created_at: i64,
}

pub struct CheckoutRow<'a> {
    pub id: &'a str,
    pub cart_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub payment_method_id: &'a str,
    pub po_number: Option<&'a str>,
    pub confirmation_number: &'a str,
    pub currency: &'a str,
    pub total_minor: i64,
    pub response: &'a str,
    pub created_at: i64,
    pub secret_hash: &'a str,
}

pub struct OrderRow<'a> {
    pub id: &'a str,
    pub checkout_id: &'a str,
    pub vendor: &'a str,
    pub total_minor: i64,
    pub body: &'a str,
    pub created_at: i64,
}

/// A relayed cart's row in `relay_claims` or `relay_unknown`: the platform, since when (ms), and the
/// hash of the secret of the checkout that made it (`None` in rows from before ownership).
pub struct RelayMark {
    pub upstream: String,
    pub created_at: i64,
    pub secret_hash: Option<String>,
}

pub struct RelayUnknownRow<'a> {
    pub cart_id: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub upstream: &'a str,
    pub response: &'a str,
    pub created_at: i64,
    pub secret_hash: &'a str,
}

/// A cart an instance is placing upstream now: others answer `CHECKOUT_IN_PROGRESS` meanwhile.
pub struct RelayClaim<'a> {
    pub cart_id: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub upstream: &'a str,
    pub created_at: i64,
    pub secret_hash: &'a str,
}

/// A stored order as `GET /orders/:id` needs it: the body, the parent checkout of a vendor order, and
/// the hash of the secret that opens it.
pub struct StoredOrder {
    pub body: String,
    pub parent: Option<String>,
    pub secret_hash: Option<String>,
}

/// Live stock: (product id, variant key) -> quantity. The variant key is `""` for the master variant.
pub type StockLevels = HashMap<(String, String), i64>;

/// The statements of one transaction. Every method is one or two statements of the same meaning on
/// both databases.
pub trait Tx {
    fn stock_levels(&mut self) -> Result<StockLevels, StoreError>;
    /// Inserts stock rows for items without one; existing rows keep their live count.
    fn seed_stock(&mut self, items: &[(String, String, i64)]) -> Result<(), StoreError>;
    /// Takes `quantity` units of a tracked item: `Some(false)` when fewer are left, `None` when the
    /// item has no stock row (not stock-managed).
    fn take_stock(&mut self, product_id: &str, variant: &str, quantity: i64) -> Result<Option<bool>, StoreError>;
    fn load_cart(&mut self, id: &str) -> Result<Option<CartRow>, StoreError>;
    /// Inserts the cart, or updates its state and `updated_at` (never its secret or metadata).
    fn save_cart(&mut self, row: &CartRow) -> Result<(), StoreError>;
    /// Holds the idempotency key `key` until the transaction ends, so that requests under one key run
    /// one after the other on every instance (PostgreSQL: an advisory lock; SQLite: its one write
    /// lock already does).
    fn lock_key(&mut self, key: &str) -> Result<(), StoreError>;
    fn key_record(&mut self, key: &str) -> Result<Option<KeyRecord>, StoreError>;
    fn insert_key_record(&mut self, record: &KeyRecord) -> Result<(), StoreError>;
    /// Deletes the idempotency records created before `before` (ms).
    fn forget_keys_before(&mut self, before: i64) -> Result<(), StoreError>;
    fn relay_unknown(&mut self, cart_id: &str) -> Result<Option<RelayMark>, StoreError>;
    fn upsert_relay_unknown(&mut self, row: &RelayUnknownRow) -> Result<(), StoreError>;
    /// The claim on a cart being placed upstream.
    fn relay_claim(&mut self, cart_id: &str) -> Result<Option<RelayMark>, StoreError>;
    /// Claims a cart for placing upstream; fails on a cart claimed already.
    fn claim_relay(&mut self, claim: &RelayClaim) -> Result<(), StoreError>;
    fn release_relay(&mut self, cart_id: &str) -> Result<(), StoreError>;
    /// The checkout of a cart: its id and secret hash.
    fn checkout_of_cart(&mut self, cart_id: &str) -> Result<Option<(String, Option<String>)>, StoreError>;
    /// `false` (nothing written) when the confirmation number is taken.
    fn insert_checkout(&mut self, row: &CheckoutRow) -> Result<bool, StoreError>;
    fn insert_order(&mut self, row: &OrderRow) -> Result<(), StoreError>;
    /// A checkout (`parent: None`) or a vendor order of one, by id.
    fn order(&mut self, id: &str) -> Result<Option<StoredOrder>, StoreError>;
}

/// An open database.
pub enum Store {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

impl Store {
    /// Opens (creating and migrating as needed) the database.
    /// `pool_size`: PostgreSQL connections at most; `full_sync`: SQLite's `synchronous=FULL` (else
    /// `NORMAL`, which may lose the last commits on power loss).
    pub fn open(database: &Database, pool_size: u32, full_sync: bool) -> Result<Store, String> {
        match database {
            Database::Sqlite(path) => Ok(Store::Sqlite(sqlite::Sqlite::open(path, full_sync)?)),
            Database::Postgres(url) => Ok(Store::Postgres(postgres::Postgres::open(url, pool_size)?)),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Runs `work` in a read-only snapshot.
    pub fn read<T>(&self, work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
        match self {
            Store::Sqlite(db) => db.read(work),
            Store::Postgres(db) => db.read(work),
        }
    }

    /// Runs `work` in a write transaction, committed when it returns `Ok`. On PostgreSQL a transaction
    /// that lost a race runs again, so `work` must not have effects outside it.
    pub fn write<T>(&self, work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
        match self {
            Store::Sqlite(db) => db.write(work),
            Store::Postgres(db) => db.write(work),
        }
    }

    /// Runs SQL without parameters (operators' scripts and tests; the same text on both databases).
    pub fn execute_batch(&self, sql: &str) -> Result<(), String> {
        match self {
            Store::Sqlite(db) => db.execute_batch(sql),
            Store::Postgres(db) => db.execute_batch(sql),
        }
    }

    /// The integer the query answers (`SELECT COUNT(*) FROM …`; tests and operators).
    pub fn scalar(&self, sql: &str) -> Result<i64, String> {
        match self {
            Store::Sqlite(db) => db.scalar(sql),
            Store::Postgres(db) => db.scalar(sql),
        }
    }

    /// One request against the shared rate-limit bucket of `client` (PostgreSQL only; SQLite servers
    /// keep their buckets in memory): refills at `per_ms` tokens per millisecond up to `capacity`, takes
    /// one if there is one. Answers the tokens left and whether the request may go on.
    pub fn take_token(&self, client: &str, capacity: f64, per_ms: f64, now_ms: i64) -> Result<(f64, bool), StoreError> {
        match self {
            Store::Sqlite(_) => Err(StoreError::new("shared rate limits need PostgreSQL")),
            Store::Postgres(db) => db.take_token(client, capacity, per_ms, now_ms),
        }
    }
}

/// Runs `f` on a thread of its own. The PostgreSQL client blocks on a runtime of its own, which tokio
/// forbids on a thread that drives async tasks; handlers run their database work on blocking threads
/// (`api::blocking`), and this serves the rare work elsewhere (startup, catalog reloads, tests).
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|s| s.spawn(f).join().map_err(|_| "a database thread panicked".to_string()))
}

// ---------------------------------------------------------------------------------------------------
// What the handlers use: typed values over the rows.

/// A cart as the API uses it.
pub struct StoredCart {
    pub state: CartState,
    pub metadata: Option<Value>,
    /// The SHA-256 of the cart's secret (`None`: a cart from before ownership, which nobody opens).
    pub secret_hash: Option<String>,
}

pub fn load_cart(tx: &mut dyn Tx, id: &str) -> Result<Option<StoredCart>, ApiError> {
    let Some(row) = tx.load_cart(id)? else {
        return Ok(None);
    };
    let state: CartState = serde_json::from_str(&row.state).map_err(ApiError::internal)?;
    let metadata = match row.metadata {
        Some(text) => Some(serde_json::from_str(&text).map_err(ApiError::internal)?),
        None => None,
    };
    Ok(Some(StoredCart {
        state,
        metadata,
        secret_hash: row.secret_hash,
    }))
}

/// Inserts or updates a cart; `secret_hash` is written only when the cart is new.
pub fn save_cart(
    tx: &mut dyn Tx,
    cart: &CartState,
    metadata: Option<&Value>,
    secret_hash: Option<&str>,
) -> Result<(), ApiError> {
    let metadata = match metadata {
        Some(m) => Some(serde_json::to_string(m).map_err(ApiError::internal)?),
        None => None,
    };
    tx.save_cart(&CartRow {
        id: cart.id().to_string(),
        state: serde_json::to_string(cart).map_err(ApiError::internal)?,
        metadata,
        created_at: cart.created_at().millis(),
        updated_at: cart.updated_at().millis(),
        secret_hash: secret_hash.map(str::to_string),
    })?;
    Ok(())
}

fn variant_key(variant_id: Option<u32>) -> String {
    variant_id.map(|v| v.to_string()).unwrap_or_default()
}

/// Puts the catalog's stock figures into the stock table for items it does not know yet; items it
/// knows keep their live count (a restart does not refill the shelves).
pub fn seed_stock(tx: &mut dyn Tx, catalog: &Catalog) -> Result<(), StoreError> {
    let mut items = Vec::new();
    for product in catalog.products() {
        if let Some(stock) = product.stock {
            items.push((product.id.to_string(), String::new(), i64::from(stock)));
        }
        for variant in &product.variants {
            if let Some(stock) = variant.stock {
                items.push((product.id.to_string(), variant.id.to_string(), i64::from(stock)));
            }
        }
    }
    tx.seed_stock(&items)
}

/// Every live stock figure: (product id, variant id) -> quantity.
pub fn stock_levels(tx: &mut dyn Tx) -> Result<HashMap<(String, Option<u32>), u32>, StoreError> {
    let mut out = HashMap::new();
    for ((product, variant), quantity) in tx.stock_levels()? {
        let variant = if variant.is_empty() {
            None
        } else {
            variant.parse::<u32>().ok()
        };
        out.insert((product, variant), u32::try_from(quantity.max(0)).unwrap_or(u32::MAX));
    }
    Ok(out)
}

/// The catalog with its stock replaced by the live figures.
pub fn live_catalog(tx: &mut dyn Tx, base: &Catalog) -> Result<Catalog, StoreError> {
    let mut catalog = base.clone();
    for ((product, variant), quantity) in stock_levels(tx)? {
        // A row for an item the catalog no longer has is ignored.
        let _ = catalog.set_stock(&product, variant, Some(quantity));
    }
    Ok(catalog)
}

/// Takes `quantity` units; `false` (and nothing taken) when fewer are left. Items without a stock row
/// are not stock-managed and always succeed.
pub fn take_stock(
    tx: &mut dyn Tx,
    product_id: &str,
    variant_id: Option<u32>,
    quantity: u32,
) -> Result<bool, StoreError> {
    let taken = tx.take_stock(product_id, &variant_key(variant_id), i64::from(quantity))?;
    Ok(taken.unwrap_or(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_database_and_never_print_passwords() {
        assert_eq!(
            Database::parse("data/cart.db"),
            Database::Sqlite(PathBuf::from("data/cart.db"))
        );
        let pg = Database::parse("postgres://cart:hunter2@db.internal:5432/shop");
        assert!(matches!(pg, Database::Postgres(_)));
        let shown = format!("{pg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("cart:***@db.internal:5432/shop"), "{shown}");
        assert!(matches!(
            Database::parse("postgresql://localhost/x"),
            Database::Postgres(_)
        ));
        let query = redact("postgres://cart@db/shop?sslmode=disable&password=hunter2");
        assert_eq!(query, "postgres://cart@db/shop?sslmode=disable&password=***");
        assert_eq!(redact("postgres://db/shop"), "postgres://db/shop");
    }
}
