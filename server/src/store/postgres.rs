//! PostgreSQL (`--db postgres://…`): several cart-server instances on one database.
//!
//! The `postgres` crate (the synchronous face of tokio-postgres, which suits handlers that already run
//! their database work on blocking threads) with an r2d2 pool (`--db-pool`).
//!
//! Write transactions are `READ COMMITTED` with explicit row locks, the way checkouts stay correct
//! without serializing every order behind every other:
//! - a cart is read `FOR UPDATE`: two changes of one cart queue, none is lost;
//! - stock is taken by `UPDATE … WHERE quantity >= n`, which waits for the row and re-checks the newest
//!   count: two checkouts of the last unit cannot both succeed; rows are taken in key order, so
//!   checkouts never deadlock each other;
//! - a cart is ordered once (`checkouts.cart_id` UNIQUE) and a key answered once (`idempotency.key`
//!   PRIMARY KEY): the loser of such a race gets SQLSTATE 23505, and the whole transaction runs again,
//!   after a short random pause, and then finds the winner's order or answer.
//!
//! Deadlocks (40P01) and serialization failures (40001) run again too. `SERIALIZABLE` was measured
//! first: every checkout reads the stock table, so nearly every pair of concurrent checkouts formed a
//! dangerous structure and one was aborted (178 orders/s with one instance, p99 0.9 s, `make bench`).
//! Reads are `REPEATABLE READ READ ONLY` snapshots.
//! Commits wait for the WAL flush (PostgreSQL's default `synchronous_commit = on`): an order answered
//! 200 survives a power loss.
//!
//! The schema has its own migration steps (`schema_version`, as in SQLite); two instances starting at
//! once migrate one after the other (an advisory lock).

use super::{
    CartRow, CheckoutRow, KeyRecord, OrderRow, RelayClaim, RelayMark, RelayUnknownRow, StockLevels, StoreError,
    StoredOrder, Tx,
};
use crate::error::ApiError;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use postgres::error::SqlState;
use postgres::{IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The migration steps, in order: step `i` takes the schema from version `i` to `i + 1`. Never edit a
/// released step; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the schema of SQLite's version 5, and the shared rate-limit buckets.
    "CREATE TABLE carts (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        metadata TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        secret_hash TEXT
    );
    CREATE TABLE stock (
        product_id TEXT NOT NULL,
        variant TEXT NOT NULL,
        quantity BIGINT NOT NULL CHECK (quantity >= 0),
        PRIMARY KEY (product_id, variant)
    );
    CREATE TABLE checkouts (
        id TEXT PRIMARY KEY,
        cart_id TEXT NOT NULL UNIQUE,
        customer_id TEXT,
        payment_method_id TEXT NOT NULL,
        po_number TEXT,
        confirmation_number TEXT NOT NULL UNIQUE,
        currency TEXT NOT NULL,
        total_minor BIGINT NOT NULL,
        response TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        secret_hash TEXT
    );
    CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        checkout_id TEXT NOT NULL REFERENCES checkouts(id),
        vendor TEXT NOT NULL,
        status TEXT NOT NULL,
        total_minor BIGINT NOT NULL,
        body TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX orders_by_checkout ON orders(checkout_id);
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        checkout_id TEXT REFERENCES checkouts(id),
        created_at BIGINT NOT NULL
    );
    CREATE INDEX idempotency_by_age ON idempotency(created_at);
    CREATE TABLE relay_unknown (
        cart_id TEXT PRIMARY KEY,
        idempotency_key TEXT,
        upstream TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        secret_hash TEXT
    );
    -- Carts being placed upstream now, by any instance (api::relay_order).
    CREATE TABLE relay_claims (
        cart_id TEXT PRIMARY KEY,
        idempotency_key TEXT,
        upstream TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        secret_hash TEXT NOT NULL
    );
    -- Unlogged: no WAL, lost on a crash, which only refills everyone's bucket.
    CREATE UNLOGGED TABLE rate_buckets (
        client TEXT PRIMARY KEY,
        tokens DOUBLE PRECISION NOT NULL,
        last_ms BIGINT NOT NULL,
        allowed BOOLEAN NOT NULL
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Runs of a write transaction that keeps losing races before it gives up with 503.
const MAX_ATTEMPTS: u32 = 40;

/// How long a rate-limit check may wait for a connection or its statement.
const LIMITER_TIMEOUT: Duration = Duration::from_millis(250);

/// The advisory lock migrations hold (any constant of ours).
const MIGRATION_LOCK: i64 = 0x6361_7274; // "cart"

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

pub struct Postgres {
    /// Always `Some` until dropped ([`Drop`] takes it).
    pool: Option<Pool>,
    /// The rate limiter's own two connections, with short timeouts: a busy checkout pool must not
    /// hold every request up, and a slow database makes the limiter fall back, not wait.
    limiter: Option<Pool>,
    /// Rate-limit calls so far; every 1024th also deletes idle buckets.
    token_calls: AtomicU64,
}

/// Whether an error means "lost a race with another transaction: run it again".
fn is_conflict(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        StoreError {
            conflict: is_conflict(&e),
            message: match e.as_db_error() {
                Some(db) => format!("{}: {}", db.code().code(), db.message()),
                None => e.to_string(),
            },
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> StoreError {
        StoreError::new(format!("no database connection: {e}"))
    }
}

/// A pause of 1 to 8 ms times the attempt (at most 100 ms), so racing instances do not meet again.
fn back_off(attempt: u32) {
    let mut byte = [0u8; 1];
    let jitter = getrandom::fill(&mut byte).map_or(4, |()| u64::from(byte[0] % 8) + 1);
    let ms = jitter.saturating_mul(u64::from(attempt)).min(100);
    std::thread::sleep(Duration::from_millis(ms));
}

impl Postgres {
    /// Connects (`pool_size` connections at most) and migrates.
    pub fn open(url: &str, pool_size: u32) -> Result<Postgres, String> {
        let config: postgres::Config = url.parse().map_err(|e| format!("--db {}: {e}", super::redact(url)))?;
        let mut quick = config.clone();
        quick
            .connect_timeout(LIMITER_TIMEOUT)
            .options(&format!("-c statement_timeout={}", LIMITER_TIMEOUT.as_millis()));
        let limiter = r2d2::Pool::builder()
            .max_size(2)
            .min_idle(Some(0))
            .connection_timeout(LIMITER_TIMEOUT)
            .build_unchecked(PostgresConnectionManager::new(quick, NoTls));
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| format!("cannot connect to PostgreSQL at {}: {e}", super::redact(url)))?;
        let mut client = pool.get().map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        migrate(&mut client)?;
        Ok(Postgres {
            pool: Some(pool),
            limiter: Some(limiter),
            token_calls: AtomicU64::new(0),
        })
    }

    /// A pooled connection.
    fn connection(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        match &self.pool {
            Some(pool) => Ok(pool.get()?),
            None => Err(StoreError::new("the store is closed")),
        }
    }

    pub fn read<T>(&self, mut work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut client = self.connection()?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(StoreError::from)?;
        let mut statements = PgTx(tx, Locking::Read);
        let value = work(&mut statements)?;
        statements.0.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Runs `work` in a `READ COMMITTED` transaction, again while it loses races.
    pub fn write<T>(&self, mut work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            match self.attempt(&mut work) {
                Ok(value) => return Ok(value),
                Err(Failure::Conflict(cause)) if attempt < MAX_ATTEMPTS => {
                    if attempt >= 10 {
                        eprintln!("database: transaction retried {attempt} times: {cause}");
                    }
                    back_off(attempt);
                }
                Err(Failure::Conflict(cause)) => {
                    eprintln!("database: giving up after {attempt} conflicting runs: {cause}");
                    return Err(ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "DATABASE_BUSY",
                        "the database is busy; retry",
                    )
                    .with_header(HeaderName::from_static("retry-after"), HeaderValue::from_static("1")));
                }
                Err(Failure::Api(e)) => return Err(e),
            }
        }
    }

    /// One run: `work`'s error, or a conflict (a statement or the commit lost a race).
    fn attempt<T>(&self, work: &mut dyn FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, Failure> {
        let mut client = self.connection().map_err(|e| Failure::Api(e.into()))?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(Failure::from)?;
        let mut statements = PgTx(tx, Locking::Write);
        match work(&mut statements) {
            Ok(value) => {
                statements.0.commit().map_err(Failure::from)?;
                Ok(value)
            }
            // A statement lost a race (`From<StoreError> for ApiError` marks it): run again.
            Err(e) if e.code() == super::CONFLICT_CODE => Err(Failure::Conflict("a statement lost a race".into())),
            Err(e) => Err(Failure::Api(e)),
        }
    }

    pub fn execute_batch(&self, sql: &str) -> Result<(), String> {
        let mut client = self.connection().map_err(|e| e.message)?;
        client.batch_execute(sql).map_err(|e| StoreError::from(e).message)
    }

    pub fn scalar(&self, sql: &str) -> Result<i64, String> {
        let mut client = self.connection().map_err(|e| e.message)?;
        let row = client.query_one(sql, &[]).map_err(|e| StoreError::from(e).message)?;
        row.try_get::<_, i64>(0).map_err(|e| e.to_string())
    }

    /// One statement, atomic on its own (`INSERT … ON CONFLICT DO UPDATE` locks the bucket's row):
    /// instances share every bucket.
    pub fn take_token(&self, client: &str, capacity: f64, per_ms: f64, now_ms: i64) -> Result<(f64, bool), StoreError> {
        let Some(limiter) = &self.limiter else {
            return Err(StoreError::new("the store is closed"));
        };
        let mut conn = limiter.get()?;
        if self.token_calls.fetch_add(1, Ordering::Relaxed) % 1024 == 0 {
            // A bucket untouched for as long as a full refill takes is full: the row is not needed.
            let full_after = (capacity / per_ms.max(f64::MIN_POSITIVE)).ceil();
            let idle = now_ms.saturating_sub(if full_after.is_finite() {
                full_after as i64
            } else {
                i64::MAX
            });
            conn.execute("DELETE FROM rate_buckets WHERE last_ms < $1", &[&idle])?;
        }
        let row = conn.query_one(
            "INSERT INTO rate_buckets AS b (client, tokens, last_ms, allowed) VALUES ($1, $2::float8 - 1.0, $3, TRUE)
             ON CONFLICT (client) DO UPDATE SET
               allowed = LEAST($2::float8, b.tokens + GREATEST(0, $3::bigint - b.last_ms)::float8 * $4::float8) >= 1.0,
               tokens = LEAST($2::float8, b.tokens + GREATEST(0, $3::bigint - b.last_ms)::float8 * $4::float8)
                        - CASE WHEN LEAST($2::float8, b.tokens + GREATEST(0, $3::bigint - b.last_ms)::float8 * $4::float8) >= 1.0
                               THEN 1.0 ELSE 0.0 END,
               last_ms = GREATEST(b.last_ms, $3::bigint)
             RETURNING tokens, allowed",
            &[&client, &capacity, &now_ms, &per_ms],
        )?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}

/// Closing a connection blocks on the client's own runtime, which tokio forbids on an async thread,
/// and the last `AppState` may well be dropped on one: the pool is dropped on a thread of its own.
impl Drop for Postgres {
    fn drop(&mut self) {
        let pools = (self.pool.take(), self.limiter.take());
        let _ = std::thread::spawn(move || drop(pools)).join();
    }
}

enum Failure {
    Conflict(String),
    Api(ApiError),
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Failure {
        let e = StoreError::from(e);
        if e.conflict {
            Failure::Conflict(e.message)
        } else {
            Failure::Api(e.into())
        }
    }
}

/// Runs the steps the database has not seen yet, in one transaction under an advisory lock. A
/// database written by a newer build is refused.
fn migrate(client: &mut postgres::Client) -> Result<(), String> {
    let fail = |e: postgres::Error| format!("migration failed: {}", StoreError::from(e));
    let mut tx = client.transaction().map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(fail)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(fail)?;
    let current: i32 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .map_err(fail)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(fail)?
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(format!(
            "the database has schema version {current}, newer than this server's {SCHEMA_VERSION}"
        ));
    }
    for (index, step) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(index).map_err(|e| e.to_string())?.saturating_add(1);
        if version > current {
            tx.batch_execute(step).map_err(fail)?;
        }
    }
    tx.execute("DELETE FROM schema_version", &[]).map_err(fail)?;
    tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&SCHEMA_VERSION])
        .map_err(fail)?;
    tx.commit().map_err(fail)
}

/// The statements of one PostgreSQL transaction, and whether it writes (its cart reads lock the row).
struct PgTx<'a>(Transaction<'a>, Locking);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Locking {
    Read,
    Write,
}

impl PgTx<'_> {
    fn relay_mark(&mut self, sql: &str, cart_id: &str) -> Result<Option<RelayMark>, StoreError> {
        let row = self.0.query_opt(sql, &[&cart_id])?;
        row.map(|r| {
            Ok(RelayMark {
                upstream: r.try_get(0)?,
                created_at: r.try_get(1)?,
                secret_hash: r.try_get(2)?,
            })
        })
        .transpose()
    }
}

impl Tx for PgTx<'_> {
    fn stock_levels(&mut self) -> Result<StockLevels, StoreError> {
        let rows = self.0.query("SELECT product_id, variant, quantity FROM stock", &[])?;
        rows.iter()
            .map(|r| Ok(((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?)))
            .collect()
    }

    fn seed_stock(&mut self, items: &[(String, String, i64)]) -> Result<(), StoreError> {
        let statement = self
            .0
            .prepare("INSERT INTO stock (product_id, variant, quantity) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")?;
        for (product, variant, quantity) in items {
            self.0.execute(&statement, &[product, variant, quantity])?;
        }
        Ok(())
    }

    fn take_stock(&mut self, product_id: &str, variant: &str, quantity: i64) -> Result<Option<bool>, StoreError> {
        let tracked = self.0.query_opt(
            "SELECT 1 FROM stock WHERE product_id = $1 AND variant = $2",
            &[&product_id, &variant],
        )?;
        if tracked.is_none() {
            return Ok(None);
        }
        let changed = self.0.execute(
            "UPDATE stock SET quantity = quantity - $3 WHERE product_id = $1 AND variant = $2 AND quantity >= $3",
            &[&product_id, &variant, &quantity],
        )?;
        Ok(Some(changed == 1))
    }

    fn load_cart(&mut self, id: &str) -> Result<Option<CartRow>, StoreError> {
        let sql = match self.1 {
            Locking::Read => "SELECT state, metadata, created_at, updated_at, secret_hash FROM carts WHERE id = $1",
            Locking::Write => {
                "SELECT state, metadata, created_at, updated_at, secret_hash FROM carts WHERE id = $1 FOR UPDATE"
            }
        };
        let row = self.0.query_opt(sql, &[&id])?;
        row.map(|r| {
            Ok(CartRow {
                id: id.to_string(),
                state: r.try_get(0)?,
                metadata: r.try_get(1)?,
                created_at: r.try_get(2)?,
                updated_at: r.try_get(3)?,
                secret_hash: r.try_get(4)?,
            })
        })
        .transpose()
    }

    fn save_cart(&mut self, row: &CartRow) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO carts (id, state, metadata, created_at, updated_at, secret_hash) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            &[&row.id, &row.state, &row.metadata, &row.created_at, &row.updated_at, &row.secret_hash],
        )?;
        Ok(())
    }

    fn lock_key(&mut self, key: &str) -> Result<(), StoreError> {
        self.0
            .execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&key])?;
        Ok(())
    }

    fn key_record(&mut self, key: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row = self.0.query_opt(
            "SELECT fingerprint, status, response, checkout_id, created_at FROM idempotency WHERE key = $1",
            &[&key],
        )?;
        row.map(|r| {
            let status: i32 = r.try_get(1)?;
            Ok(KeyRecord {
                key: key.to_string(),
                fingerprint: r.try_get(0)?,
                status: u16::try_from(status).map_err(|e| StoreError::new(e.to_string()))?,
                response: r.try_get(2)?,
                checkout_id: r.try_get(3)?,
                created_at: r.try_get(4)?,
            })
        })
        .transpose()
    }

    fn insert_key_record(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO idempotency (key, fingerprint, status, response, checkout_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &record.key,
                &record.fingerprint,
                &i32::from(record.status),
                &record.response,
                &record.checkout_id,
                &record.created_at,
            ],
        )?;
        Ok(())
    }

    fn forget_keys_before(&mut self, before: i64) -> Result<(), StoreError> {
        self.0
            .execute("DELETE FROM idempotency WHERE created_at < $1", &[&before])?;
        Ok(())
    }

    fn relay_unknown(&mut self, cart_id: &str) -> Result<Option<RelayMark>, StoreError> {
        self.relay_mark(
            "SELECT upstream, created_at, secret_hash FROM relay_unknown WHERE cart_id = $1",
            cart_id,
        )
    }

    fn upsert_relay_unknown(&mut self, row: &RelayUnknownRow) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO relay_unknown (cart_id, idempotency_key, upstream, response, created_at, secret_hash)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (cart_id) DO UPDATE SET idempotency_key = excluded.idempotency_key,
               upstream = excluded.upstream, response = excluded.response, created_at = excluded.created_at,
               secret_hash = excluded.secret_hash",
            &[
                &row.cart_id,
                &row.idempotency_key,
                &row.upstream,
                &row.response,
                &row.created_at,
                &row.secret_hash,
            ],
        )?;
        Ok(())
    }

    fn relay_claim(&mut self, cart_id: &str) -> Result<Option<RelayMark>, StoreError> {
        self.relay_mark(
            "SELECT upstream, created_at, secret_hash FROM relay_claims WHERE cart_id = $1",
            cart_id,
        )
    }

    fn claim_relay(&mut self, claim: &RelayClaim) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO relay_claims (cart_id, idempotency_key, upstream, created_at, secret_hash)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &claim.cart_id,
                &claim.idempotency_key,
                &claim.upstream,
                &claim.created_at,
                &claim.secret_hash,
            ],
        )?;
        Ok(())
    }

    fn release_relay(&mut self, cart_id: &str) -> Result<(), StoreError> {
        self.0
            .execute("DELETE FROM relay_claims WHERE cart_id = $1", &[&cart_id])?;
        Ok(())
    }

    fn checkout_of_cart(&mut self, cart_id: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        let row = self
            .0
            .query_opt("SELECT id, secret_hash FROM checkouts WHERE cart_id = $1", &[&cart_id])?;
        Ok(row
            .map(|r| Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?)
    }

    fn insert_checkout(&mut self, row: &CheckoutRow) -> Result<bool, StoreError> {
        let inserted = self.0.execute(
            "INSERT INTO checkouts (id, cart_id, customer_id, payment_method_id, po_number, confirmation_number,
                                    currency, total_minor, response, created_at, secret_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (confirmation_number) DO NOTHING",
            &[
                &row.id,
                &row.cart_id,
                &row.customer_id,
                &row.payment_method_id,
                &row.po_number,
                &row.confirmation_number,
                &row.currency,
                &row.total_minor,
                &row.response,
                &row.created_at,
                &row.secret_hash,
            ],
        )?;
        Ok(inserted == 1)
    }

    fn insert_order(&mut self, row: &OrderRow) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO orders (id, checkout_id, vendor, status, total_minor, body, created_at)
             VALUES ($1, $2, $3, 'confirmed', $4, $5, $6)",
            &[
                &row.id,
                &row.checkout_id,
                &row.vendor,
                &row.total_minor,
                &row.body,
                &row.created_at,
            ],
        )?;
        Ok(())
    }

    fn order(&mut self, id: &str) -> Result<Option<StoredOrder>, StoreError> {
        if let Some(r) = self
            .0
            .query_opt("SELECT response, secret_hash FROM checkouts WHERE id = $1", &[&id])?
        {
            return Ok(Some(StoredOrder {
                body: r.try_get(0)?,
                parent: None,
                secret_hash: r.try_get(1)?,
            }));
        }
        let row = self.0.query_opt(
            "SELECT o.body, o.checkout_id, c.secret_hash FROM orders o JOIN checkouts c ON c.id = o.checkout_id
             WHERE o.id = $1",
            &[&id],
        )?;
        row.map(|r| {
            Ok(StoredOrder {
                body: r.try_get(0)?,
                parent: Some(r.try_get(1)?),
                secret_hash: r.try_get(2)?,
            })
        })
        .transpose()
    }
}
