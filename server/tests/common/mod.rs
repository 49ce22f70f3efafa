//! What the server suites (and `benches/checkout.rs`) share: the database a test server runs on, the
//! built binary as a process, and browser checkout bodies.
//!
//! `make test-server` runs every suite twice: on SQLite files, then with `CART_SERVER_TEST_POSTGRES`
//! naming a throwaway PostgreSQL cluster (scripts/with-postgres.sh), where each test server gets a
//! database of its own.
#![allow(dead_code)]

use cart_server::store::{off_runtime, Database};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use wasm_cart::checkout::spec_b::{CheckoutOptions, CheckoutRequest};
use wasm_cart::{price, Action, CartState, Catalog, NewCart, Timestamp};

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

/// One cart-server process.
pub struct Instance {
    child: Child,
    pub url: String,
}

impl Instance {
    /// Starts the binary on `db` and waits for the address it prints.
    pub fn start(db: &str, catalog: &std::path::Path, extra: &[&str]) -> Instance {
        let dir = catalog.parent().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cart-server"))
            .args(["--addr", "127.0.0.1:0", "--db", db, "--catalog"])
            .arg(catalog)
            .arg("--static")
            .arg(dir)
            .arg("--pkg")
            .arg(dir)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cart-server");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("cart-server exited before listening").unwrap();
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining its log so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Instance { child, url }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A browser cart of one line (`line`: the fields of `addLineItem`), priced as the browser would, as
/// its checkout body.
pub fn browser_checkout(id: &str, catalog: &Catalog, mut line: Value) -> Value {
    let now = Timestamp::from_millis(cart_server::now().millis());
    let new = NewCart {
        id: id.to_string(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        ..Default::default()
    };
    let mut cart = CartState::new(new, catalog, now).unwrap();
    line["action"] = json!("addLineItem");
    let actions = json!([line]);
    cart.apply(catalog, &Action::list_from_value(actions).unwrap(), now)
        .unwrap();
    let view = price(&cart, catalog, now).unwrap();
    let options = CheckoutOptions {
        payment_method_id: Some("pm_card_visa".into()),
        ..Default::default()
    };
    serde_json::to_value(CheckoutRequest::from_cart(&cart, &view, options).unwrap()).unwrap()
}
