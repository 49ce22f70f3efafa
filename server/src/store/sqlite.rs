//! SQLite (`--db FILE`, bundled by rusqlite): the schema (a `schema_version` table and ordered
//! migration steps) and the [`Tx`] statements.
//!
//! One connection per unit of work (opening SQLite is cheap); every write runs in a `BEGIN IMMEDIATE`
//! transaction, so writers queue on the database lock (`busy_timeout`) instead of failing, and a read
//! followed by a write in the same transaction cannot race another writer. `synchronous=FULL`: a
//! commit is on disk before the answer goes out.

use super::{
    CartRow, CheckoutRow, KeyRecord, OrderRow, RelayClaim, RelayMark, RelayUnknownRow, StockLevels, StoreError,
    StoredOrder, Tx,
};
use crate::error::ApiError;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The migration steps, in order: step `i` takes the schema from version `i` to `i + 1`. Never edit a
/// released step; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "CREATE TABLE carts (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,          -- the engine's CartState JSON
        metadata TEXT,                -- SPEC-B create-cart metadata (JSON object)
        created_at INTEGER NOT NULL,  -- ms since the epoch
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE stock (
        product_id TEXT NOT NULL,
        variant TEXT NOT NULL,        -- '' for the master variant, else the variant id
        quantity INTEGER NOT NULL CHECK (quantity >= 0),
        PRIMARY KEY (product_id, variant)
    );
    CREATE TABLE checkouts (
        id TEXT PRIMARY KEY,          -- the SPEC-B orderId
        cart_id TEXT NOT NULL UNIQUE, -- a cart is ordered at most once
        customer_id TEXT,
        payment_method_id TEXT NOT NULL,
        po_number TEXT,
        confirmation_number TEXT NOT NULL UNIQUE,
        currency TEXT NOT NULL,
        total_minor INTEGER NOT NULL,
        response TEXT NOT NULL,       -- the confirmation as answered
        created_at INTEGER NOT NULL
    );
    CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        checkout_id TEXT NOT NULL REFERENCES checkouts(id),
        vendor TEXT NOT NULL,
        status TEXT NOT NULL,
        total_minor INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX orders_by_checkout ON orders(checkout_id);
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,    -- sha256 of the request (method, path, normalized body)
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        checkout_id TEXT REFERENCES checkouts(id),
        created_at INTEGER NOT NULL
    );",
    // 2: expired idempotency records are deleted by age.
    "CREATE INDEX idempotency_by_age ON idempotency(created_at);",
    // 3: relayed checkouts whose upstream outcome is unknown: the cart is not relayed again until an
    // operator deletes the row (docs/sync.md).
    "CREATE TABLE relay_unknown (
        cart_id TEXT PRIMARY KEY,
        idempotency_key TEXT,
        upstream TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // 4: ownership (src/owner.rs): the SHA-256 of the secret that opens a cart, and of the one that
    // opens a checkout's orders. Rows from before have none and open for nobody.
    "ALTER TABLE carts ADD COLUMN secret_hash TEXT;
    ALTER TABLE checkouts ADD COLUMN secret_hash TEXT;",
    // 5: carts being placed upstream now, by any instance (api::relay_order); relayed carts remember
    // whose checkout marked them, so that another secret learns nothing about them.
    "CREATE TABLE relay_claims (
        cart_id TEXT PRIMARY KEY,
        idempotency_key TEXT,
        upstream TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        secret_hash TEXT NOT NULL
    );
    ALTER TABLE relay_unknown ADD COLUMN secret_hash TEXT;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::new(e.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct Sqlite {
    path: PathBuf,
    /// `synchronous=FULL` (the default) or `NORMAL` (`--sqlite-synchronous normal`, measured only).
    full_sync: bool,
}

impl Sqlite {
    /// Opens (creating the file and its folder if needed) and migrates the database.
    pub fn open(path: &Path, full_sync: bool) -> Result<Sqlite, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let db = Sqlite {
            path: path.to_path_buf(),
            full_sync,
        };
        let mut conn = db.conn().map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| format!("cannot enable WAL: {e}"))?;
        migrate(&mut conn)?;
        Ok(db)
    }

    pub fn conn(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // FULL: a commit is on disk before the answer goes out, so an order answered 200 survives a
        // power loss (NORMAL in WAL mode may lose the last commits; `make bench` shows the cost).
        conn.pragma_update(None, "synchronous", if self.full_sync { "FULL" } else { "NORMAL" })?;
        Ok(conn)
    }

    fn run<T>(
        &self,
        behavior: TransactionBehavior,
        mut work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = self.conn().map_err(StoreError::from)?;
        let tx = conn.transaction_with_behavior(behavior).map_err(StoreError::from)?;
        let value = work(&mut SqliteTx(&tx))?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    pub fn read<T>(&self, work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
        self.run(TransactionBehavior::Deferred, work)
    }

    pub fn write<T>(&self, work: impl FnMut(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
        self.run(TransactionBehavior::Immediate, work)
    }

    pub fn execute_batch(&self, sql: &str) -> Result<(), String> {
        let conn = self.conn().map_err(|e| e.to_string())?;
        conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    pub fn scalar(&self, sql: &str) -> Result<i64, String> {
        let conn = self.conn().map_err(|e| e.to_string())?;
        conn.query_row(sql, [], |r| r.get(0)).map_err(|e| e.to_string())
    }
}

/// Runs the steps the database has not seen yet, in one transaction. A database written by a newer
/// build (a version above ours) is refused rather than guessed at.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let fail = |e: rusqlite::Error| format!("migration failed: {e}");
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(fail)?;
    let current: i64 = tx
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()
        .map_err(fail)?
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(format!(
            "the database has schema version {current}, newer than this server's {SCHEMA_VERSION}"
        ));
    }
    for (index, step) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index).map_err(|e| e.to_string())?.saturating_add(1);
        if version > current {
            tx.execute_batch(step).map_err(fail)?;
        }
    }
    tx.execute("DELETE FROM schema_version", []).map_err(fail)?;
    tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [SCHEMA_VERSION])
        .map_err(fail)?;
    tx.commit().map_err(fail)
}

/// The statements of one SQLite transaction.
struct SqliteTx<'a>(&'a Connection);

impl SqliteTx<'_> {
    fn relay_mark(&self, sql: &str, cart_id: &str) -> Result<Option<RelayMark>, StoreError> {
        let mark = self
            .0
            .query_row(sql, [cart_id], |r| {
                Ok(RelayMark {
                    upstream: r.get(0)?,
                    created_at: r.get(1)?,
                    secret_hash: r.get(2)?,
                })
            })
            .optional()?;
        Ok(mark)
    }
}

impl Tx for SqliteTx<'_> {
    fn stock_levels(&mut self) -> Result<StockLevels, StoreError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT product_id, variant, quantity FROM stock")?;
        let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<StockLevels>>()?)
    }

    fn seed_stock(&mut self, items: &[(String, String, i64)]) -> Result<(), StoreError> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO stock (product_id, variant, quantity) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?;
        for (product, variant, quantity) in items {
            stmt.execute(params![product, variant, quantity])?;
        }
        Ok(())
    }

    fn take_stock(&mut self, product_id: &str, variant: &str, quantity: i64) -> Result<Option<bool>, StoreError> {
        let tracked = self
            .0
            .query_row(
                "SELECT 1 FROM stock WHERE product_id = ?1 AND variant = ?2",
                params![product_id, variant],
                |_| Ok(()),
            )
            .optional()?;
        if tracked.is_none() {
            return Ok(None);
        }
        let changed = self.0.execute(
            "UPDATE stock SET quantity = quantity - ?3 WHERE product_id = ?1 AND variant = ?2 AND quantity >= ?3",
            params![product_id, variant, quantity],
        )?;
        Ok(Some(changed == 1))
    }

    fn load_cart(&mut self, id: &str) -> Result<Option<CartRow>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT state, metadata, created_at, updated_at, secret_hash FROM carts WHERE id = ?1",
                [id],
                |r| {
                    Ok(CartRow {
                        id: id.to_string(),
                        state: r.get(0)?,
                        metadata: r.get(1)?,
                        created_at: r.get(2)?,
                        updated_at: r.get(3)?,
                        secret_hash: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn save_cart(&mut self, row: &CartRow) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO carts (id, state, metadata, created_at, updated_at, secret_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            params![row.id, row.state, row.metadata, row.created_at, row.updated_at, row.secret_hash],
        )?;
        Ok(())
    }

    fn lock_key(&mut self, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn key_record(&mut self, key: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT fingerprint, status, response, checkout_id, created_at FROM idempotency WHERE key = ?1",
                [key],
                |r| {
                    Ok(KeyRecord {
                        key: key.to_string(),
                        fingerprint: r.get(0)?,
                        status: r.get(1)?,
                        response: r.get(2)?,
                        checkout_id: r.get(3)?,
                        created_at: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn insert_key_record(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO idempotency (key, fingerprint, status, response, checkout_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                record.key,
                record.fingerprint,
                record.status,
                record.response,
                record.checkout_id,
                record.created_at
            ],
        )?;
        Ok(())
    }

    fn forget_keys_before(&mut self, before: i64) -> Result<(), StoreError> {
        self.0
            .execute("DELETE FROM idempotency WHERE created_at < ?1", [before])?;
        Ok(())
    }

    fn relay_unknown(&mut self, cart_id: &str) -> Result<Option<RelayMark>, StoreError> {
        self.relay_mark(
            "SELECT upstream, created_at, secret_hash FROM relay_unknown WHERE cart_id = ?1",
            cart_id,
        )
    }

    fn upsert_relay_unknown(&mut self, row: &RelayUnknownRow) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT OR REPLACE INTO relay_unknown (cart_id, idempotency_key, upstream, response, created_at, secret_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![row.cart_id, row.idempotency_key, row.upstream, row.response, row.created_at, row.secret_hash],
        )?;
        Ok(())
    }

    fn relay_claim(&mut self, cart_id: &str) -> Result<Option<RelayMark>, StoreError> {
        self.relay_mark(
            "SELECT upstream, created_at, secret_hash FROM relay_claims WHERE cart_id = ?1",
            cart_id,
        )
    }

    fn claim_relay(&mut self, claim: &RelayClaim) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO relay_claims (cart_id, idempotency_key, upstream, created_at, secret_hash)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                claim.cart_id,
                claim.idempotency_key,
                claim.upstream,
                claim.created_at,
                claim.secret_hash
            ],
        )?;
        Ok(())
    }

    fn release_relay(&mut self, cart_id: &str) -> Result<(), StoreError> {
        self.0
            .execute("DELETE FROM relay_claims WHERE cart_id = ?1", [cart_id])?;
        Ok(())
    }

    fn checkout_of_cart(&mut self, cart_id: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT id, secret_hash FROM checkouts WHERE cart_id = ?1",
                [cart_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn insert_checkout(&mut self, row: &CheckoutRow) -> Result<bool, StoreError> {
        let inserted = self.0.execute(
            "INSERT INTO checkouts (id, cart_id, customer_id, payment_method_id, po_number, confirmation_number,
                                    currency, total_minor, response, created_at, secret_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (confirmation_number) DO NOTHING",
            params![
                row.id,
                row.cart_id,
                row.customer_id,
                row.payment_method_id,
                row.po_number,
                row.confirmation_number,
                row.currency,
                row.total_minor,
                row.response,
                row.created_at,
                row.secret_hash
            ],
        )?;
        Ok(inserted == 1)
    }

    fn insert_order(&mut self, row: &OrderRow) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO orders (id, checkout_id, vendor, status, total_minor, body, created_at)
             VALUES (?1, ?2, ?3, 'confirmed', ?4, ?5, ?6)",
            params![
                row.id,
                row.checkout_id,
                row.vendor,
                row.total_minor,
                row.body,
                row.created_at
            ],
        )?;
        Ok(())
    }

    fn order(&mut self, id: &str) -> Result<Option<StoredOrder>, StoreError> {
        let checkout = self
            .0
            .query_row("SELECT response, secret_hash FROM checkouts WHERE id = ?1", [id], |r| {
                Ok(StoredOrder {
                    body: r.get(0)?,
                    parent: None,
                    secret_hash: r.get(1)?,
                })
            })
            .optional()?;
        if checkout.is_some() {
            return Ok(checkout);
        }
        Ok(self
            .0
            .query_row(
                "SELECT o.body, o.checkout_id, c.secret_hash FROM orders o JOIN checkouts c ON c.id = o.checkout_id
                 WHERE o.id = ?1",
                [id],
                |r| {
                    Ok(StoredOrder {
                        body: r.get(0)?,
                        parent: Some(r.get(1)?),
                        secret_hash: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/cart.db");
        Sqlite::open(&path, true).unwrap();
        // Opening again is a no-op.
        let db = Sqlite::open(&path, true).unwrap();
        let conn = db.conn().unwrap();
        let version: i64 = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
        conn.execute("UPDATE schema_version SET version = 99", []).unwrap();
        drop(conn);
        let e = Sqlite::open(&path, true).unwrap_err();
        assert!(e.contains("newer"), "{e}");
    }

    #[test]
    fn a_version_1_database_is_migrated_with_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        let first = MIGRATIONS.first().unwrap();
        conn.execute_batch(&format!(
            "{first}; CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
             INSERT INTO idempotency (key, fingerprint, status, response, created_at) VALUES ('k', 'f', 200, '{{}}', 5);"
        ))
        .unwrap();
        drop(conn);
        let conn = Sqlite::open(&path, true).unwrap().conn().unwrap();
        let version: i64 = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let index: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'idempotency_by_age'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 1);
        let kept: String = conn.query_row("SELECT key FROM idempotency", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, "k");
    }

    #[test]
    fn stock_never_goes_negative() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("c.db"), true).unwrap();
        let mut conn = db.conn().unwrap();
        conn.execute("INSERT INTO stock VALUES ('p', '', 2)", []).unwrap();
        let tx = conn.transaction().unwrap();
        let mut statements = SqliteTx(&tx);
        assert_eq!(statements.take_stock("p", "", 2).unwrap(), Some(true));
        assert_eq!(statements.take_stock("p", "", 1).unwrap(), Some(false));
        assert_eq!(statements.take_stock("untracked", "", 1000).unwrap(), None);
        tx.commit().unwrap();
        assert!(conn.execute("UPDATE stock SET quantity = -1", []).is_err());
    }
}
