//! What the server suites share: the database a test server runs on.
//!
//! `make test-server` runs every suite twice: on SQLite files, then with `CART_SERVER_TEST_POSTGRES`
//! naming a throwaway PostgreSQL cluster (scripts/with-postgres.sh), where each test server gets a
//! database of its own.
#![allow(dead_code)]

use cart_server::store::{off_runtime, Database};
use std::path::Path;

/// The admin URL of the PostgreSQL server the suite runs on, if it runs on one.
pub fn postgres_url() -> Option<String> {
    std::env::var("CART_SERVER_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A SQLite file in `dir`, or a new PostgreSQL database.
pub fn test_database(dir: &Path) -> Database {
    match postgres_url() {
        Some(url) => Database::Postgres(fresh_postgres_database(&url)),
        None => Database::Sqlite(dir.join("data/cart.db")),
    }
}

/// Creates an empty database on the server `admin_url` points at and answers its URL.
pub fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = admin_url.to_string();
    let create = format!("CREATE DATABASE {name}");
    off_runtime(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test server");
        client.batch_execute(&create).expect("create a test database");
    })
    .expect("database thread");
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    format!("{base}/{name}")
}
