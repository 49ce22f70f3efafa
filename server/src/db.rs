//! SQLite: the schema (a `schema_version` table and ordered migration steps), live stock, carts,
//! checkouts, vendor orders and idempotency records.
//!
//! One connection per unit of work (opening SQLite is cheap); every write runs in a `BEGIN IMMEDIATE`
//! transaction, so writers queue on the database lock (`busy_timeout`) instead of failing, and a read
//! followed by a write in the same transaction cannot race another writer.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasm_cart::{CartState, Catalog};

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
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, Clone)]
pub struct Db {
    path: PathBuf,
}

impl Db {
    /// Opens (creating the file and its folder if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<Db, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let db = Db {
            path: path.to_path_buf(),
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
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(conn)
    }
}

/// Runs the steps the database has not seen yet, in one transaction. A database written by a newer
/// build (a version above ours) is refused rather than guessed at.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let fail = |e: rusqlite::Error| format!("migration failed: {e}");
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
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

fn variant_key(variant_id: Option<u32>) -> String {
    variant_id.map(|v| v.to_string()).unwrap_or_default()
}

/// Puts the catalog's stock figures into the `stock` table for items it does not know yet; items it
/// knows keep their live count (a restart does not refill the shelves).
pub fn seed_stock(conn: &mut Connection, catalog: &Catalog) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for product in catalog.products() {
        if let Some(stock) = product.stock {
            tx.execute(
                "INSERT OR IGNORE INTO stock (product_id, variant, quantity) VALUES (?1, '', ?2)",
                params![product.id, stock],
            )?;
        }
        for variant in &product.variants {
            if let Some(stock) = variant.stock {
                tx.execute(
                    "INSERT OR IGNORE INTO stock (product_id, variant, quantity) VALUES (?1, ?2, ?3)",
                    params![product.id, variant.id.to_string(), stock],
                )?;
            }
        }
    }
    tx.commit()
}

/// Every live stock figure: (product id, variant id) -> quantity.
pub fn stock_levels(conn: &Connection) -> rusqlite::Result<HashMap<(String, Option<u32>), u32>> {
    let mut stmt = conn.prepare("SELECT product_id, variant, quantity FROM stock")?;
    let rows = stmt.query_map([], |r| {
        let product: String = r.get(0)?;
        let variant: String = r.get(1)?;
        let quantity: i64 = r.get(2)?;
        Ok((product, variant, quantity))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (product, variant, quantity) = row?;
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
pub fn live_catalog(conn: &Connection, base: &Catalog) -> rusqlite::Result<Catalog> {
    let mut catalog = base.clone();
    for ((product, variant), quantity) in stock_levels(conn)? {
        // A row for an item the catalog no longer has is ignored.
        let _ = catalog.set_stock(&product, variant, Some(quantity));
    }
    Ok(catalog)
}

/// Takes `quantity` units; `false` (and nothing taken) when fewer are left. Items without a stock row
/// are not stock-managed and always succeed.
pub fn take_stock(
    tx: &Transaction,
    product_id: &str,
    variant_id: Option<u32>,
    quantity: u32,
) -> rusqlite::Result<bool> {
    let key = variant_key(variant_id);
    let tracked: bool = tx
        .query_row(
            "SELECT 1 FROM stock WHERE product_id = ?1 AND variant = ?2",
            params![product_id, key],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if !tracked {
        return Ok(true);
    }
    let changed = tx.execute(
        "UPDATE stock SET quantity = quantity - ?3 WHERE product_id = ?1 AND variant = ?2 AND quantity >= ?3",
        params![product_id, key, quantity],
    )?;
    Ok(changed == 1)
}

pub struct StoredCart {
    pub state: CartState,
    pub metadata: Option<Value>,
    /// The SHA-256 of the cart's secret (`None`: a cart from before ownership, which nobody opens).
    pub secret_hash: Option<String>,
}

pub fn load_cart(conn: &Connection, id: &str) -> Result<Option<StoredCart>, crate::error::ApiError> {
    let row: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT state, metadata, secret_hash FROM carts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((state, metadata, secret_hash)) = row else {
        return Ok(None);
    };
    let state: CartState = serde_json::from_str(&state).map_err(crate::error::ApiError::internal)?;
    let metadata = match metadata {
        Some(text) => Some(serde_json::from_str(&text).map_err(crate::error::ApiError::internal)?),
        None => None,
    };
    Ok(Some(StoredCart {
        state,
        metadata,
        secret_hash,
    }))
}

/// Inserts or updates a cart; `secret_hash` is written only when the cart is new.
pub fn save_cart(
    conn: &Connection,
    cart: &CartState,
    metadata: Option<&Value>,
    secret_hash: Option<&str>,
) -> Result<(), crate::error::ApiError> {
    let state = serde_json::to_string(cart).map_err(crate::error::ApiError::internal)?;
    let metadata = match metadata {
        Some(m) => Some(serde_json::to_string(m).map_err(crate::error::ApiError::internal)?),
        None => None,
    };
    conn.execute(
        "INSERT INTO carts (id, state, metadata, created_at, updated_at, secret_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![
            cart.id(),
            state,
            metadata,
            cart.created_at().millis(),
            cart.updated_at().millis(),
            secret_hash
        ],
    )?;
    Ok(())
}

/// Whether `e` is a UNIQUE or PRIMARY KEY violation of `column` (`table.column`, as SQLite names it).
pub fn violates(e: &rusqlite::Error, column: &str) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(failure, Some(message)) => {
            failure.code == rusqlite::ErrorCode::ConstraintViolation && message.contains(column)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/cart.db");
        Db::open(&path).unwrap();
        // Opening again is a no-op.
        let db = Db::open(&path).unwrap();
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
        let e = Db::open(&path).unwrap_err();
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
        let conn = Db::open(&path).unwrap().conn().unwrap();
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
        let db = Db::open(&dir.path().join("c.db")).unwrap();
        let mut conn = db.conn().unwrap();
        conn.execute("INSERT INTO stock VALUES ('p', '', 2)", []).unwrap();
        let tx = conn.transaction().unwrap();
        assert!(take_stock(&tx, "p", None, 2).unwrap());
        assert!(!take_stock(&tx, "p", None, 1).unwrap());
        assert!(take_stock(&tx, "untracked", None, 1000).unwrap());
        tx.commit().unwrap();
        assert!(conn.execute("UPDATE stock SET quantity = -1", []).is_err());
    }
}
