//! Two cart-server processes on one database, over real sockets: the built binary, started twice on
//! the same SQLite file (one host) or, under `make test-server`'s second run, on one PostgreSQL
//! database. Racing checkouts for the last units, one idempotency key sent to both, one instance killed
//! with SIGKILL while checkouts run, and rate limits shared through the database. Every assertion is on
//! outcomes (orders, stock, answers), never on how long anything took.

mod common;

use cart_server::store::{off_runtime, Database, Store};
use common::{browser_checkout, Instance};
use serde_json::{json, Value};
use wasm_cart::Catalog;

const SECRET: &str = "instances-secret-0123456789abcdefghijk";

/// The shared database: a SQLite file in `dir`, or a new PostgreSQL database.
fn database(dir: &std::path::Path) -> (String, Database) {
    let db = common::test_database(dir);
    let arg = match &db {
        Database::Sqlite(path) => path.display().to_string(),
        Database::Postgres(url) => url.clone(),
    };
    (arg, db)
}

/// The demo catalog with 5 routers left.
fn catalog_file(dir: &std::path::Path) -> (std::path::PathBuf, Catalog) {
    let mut catalog: Value = serde_json::from_str(cart_server::DEMO_CATALOG).unwrap();
    for product in catalog["products"].as_array_mut().unwrap() {
        if product["id"] == "ROUTER-5G" {
            product["stock"] = json!(5);
        }
    }
    let path = dir.join("catalog.json");
    std::fs::write(&path, catalog.to_string()).unwrap();
    (path, Catalog::from_value(catalog).unwrap())
}

/// A browser cart of `quantity` routers, as its checkout body.
fn checkout_body(id: &str, catalog: &Catalog, quantity: i64) -> Value {
    browser_checkout(id, catalog, json!({"productId": "ROUTER-5G", "quantity": quantity}))
}

/// `(status, body, replayed)` of one checkout.
async fn checkout(http: &reqwest::Client, base: &str, cart: &str, body: &Value, key: &str) -> (u16, Value, bool) {
    let response = http
        .post(format!("{base}/api/v1/carts/{cart}/checkout"))
        .header("x-cart-secret", SECRET)
        .header("x-idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("the instance answers");
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    (status, response.json().await.unwrap_or(Value::Null), replayed)
}

fn scalar(db: &Database, sql: &str) -> i64 {
    let (db, sql) = (db.clone(), sql.to_string());
    off_runtime(move || Store::open(&db, 1, true).unwrap().scalar(&sql).unwrap()).unwrap()
}

fn routers_left(db: &Database) -> i64 {
    scalar(
        db,
        "SELECT quantity FROM stock WHERE product_id = 'ROUTER-5G' AND variant = ''",
    )
}

/// Two instances on one fresh database with the 5-router catalog, and a client.
struct Pair {
    _dir: tempfile::TempDir,
    catalog: Catalog,
    db: Database,
    a: Instance,
    b: Instance,
    http: reqwest::Client,
}

impl Pair {
    fn start(flags: &[&str]) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let (path, catalog) = catalog_file(dir.path());
        let (arg, db) = database(dir.path());
        let (a, b) = (Instance::start(&arg, &path, flags), Instance::start(&arg, &path, flags));
        Pair {
            _dir: dir,
            catalog,
            db,
            a,
            b,
            http: reqwest::Client::new(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_checkouts_on_two_instances_sell_the_last_units_once() {
    let Pair {
        catalog,
        db,
        a,
        b,
        http,
        _dir,
        ..
    } = Pair::start(&[]);
    let runs = (0..20).map(|i| {
        let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
        let (http, id) = (http.clone(), format!("cart_race_{i}"));
        let body = checkout_body(&id, &catalog, 1);
        tokio::spawn(async move { checkout(&http, &base, &id, &body, &format!("key-{id}")).await })
    });
    let mut statuses = Vec::new();
    for run in runs.collect::<Vec<_>>() {
        let (status, body, _) = run.await.unwrap();
        assert!(status == 200 || status == 409, "{status} {body}");
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(routers_left(&db), 0);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM checkouts"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_to_both_instances_orders_once() {
    let Pair {
        catalog,
        db,
        a,
        b,
        http,
        _dir,
        ..
    } = Pair::start(&[]);
    let body = checkout_body("cart_dup", &catalog, 2);
    let runs: Vec<_> = (0..10)
        .map(|i| {
            let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let (http, body) = (http.clone(), body.clone());
            tokio::spawn(async move { checkout(&http, &base, "cart_dup", &body, "the-same-key").await })
        })
        .collect();
    let mut orders = std::collections::BTreeSet::new();
    let mut fresh = 0;
    for run in runs {
        let (status, body, replayed) = run.await.unwrap();
        // A repeat that arrives while the first still runs on the other instance may be told to retry;
        // it never gets a second order.
        if status == 409 && body["error"]["code"] == "CHECKOUT_IN_PROGRESS" {
            continue;
        }
        assert_eq!(status, 200, "{body}");
        orders.insert(body["orderId"].as_str().unwrap().to_string());
        fresh += usize::from(!replayed);
    }
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(fresh, 1, "one answer was made, the others replayed");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM checkouts"), 1);
    assert_eq!(routers_left(&db), 3);
    // A late repeat, on either instance, is the same order.
    let (status, body, replayed) = checkout(
        &http,
        &b.url,
        "cart_dup",
        &checkout_body("cart_dup", &catalog, 2),
        "the-same-key",
    )
    .await;
    assert_eq!(status, 200);
    assert!(replayed || body["orderId"].as_str() == orders.iter().next().map(String::as_str));
}

/// Changes of one server cart through both instances at once: each waits for the other (the cart row
/// is locked), none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_of_one_cart_on_two_instances_are_all_kept() {
    let Pair { a, b, http, _dir, .. } = Pair::start(&[]);
    let created: Value = http
        .post(format!("{}/api/v1/carts", a.url))
        .header("x-cart-secret", SECRET)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let adds: Vec<_> = (0..10)
        .map(|i| {
            let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let (http, id) = (http.clone(), id.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/v1/carts/{id}/items"))
                    .header("x-cart-secret", SECRET)
                    .json(&json!({"productId": "MUG", "variantId": 1, "quantity": 1}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for add in adds {
        assert_eq!(add.await.unwrap(), 200);
    }
    let cart: Value = http
        .get(format!("{}/api/v1/carts/{id}", b.url))
        .header("x-cart-secret", SECRET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cart["items"][0]["quantity"], json!(10), "{cart}");
    assert_eq!(cart["version"], json!(10), "one version per change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_checkout_loses_and_doubles_nothing() {
    let Pair {
        catalog,
        db,
        mut a,
        b,
        http,
        _dir,
        ..
    } = Pair::start(&[]);
    // 30 carts of one mug each (40 in stock); all sent to A, which is killed as soon as the first
    // answer arrives, while the others are in flight.
    let carts: Vec<(String, Value)> = (0..30)
        .map(|i| {
            let id = format!("cart_kill_{i}");
            let mug = json!({"productId": "MUG", "variantId": 1, "quantity": 1});
            let body = browser_checkout(&id, &catalog, mug);
            (id, body)
        })
        .collect();
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let first_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(first_tx)));
    let runs: Vec<_> = carts
        .iter()
        .cloned()
        .map(|(id, body)| {
            let (http, base, first) = (http.clone(), a.url.clone(), first_tx.clone());
            tokio::spawn(async move {
                let sent = http
                    .post(format!("{base}/api/v1/carts/{id}/checkout"))
                    .header("x-cart-secret", SECRET)
                    .header("x-idempotency-key", format!("key-{id}"))
                    .json(&body)
                    .send()
                    .await;
                if let Some(tx) = first.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                sent.map(|r| r.status().as_u16()).ok()
            })
        })
        .collect();
    let _ = first_rx.await;
    a.kill();
    let mut answered_by_a = 0;
    for run in runs {
        if run.await.unwrap() == Some(200) {
            answered_by_a += 1;
        }
    }
    // Every shopper retries on the surviving instance with the same key and body.
    let mut replayed = 0;
    for (id, body) in &carts {
        let (status, answer, was_replayed) = checkout(&http, &b.url, id, body, &format!("key-{id}")).await;
        assert_eq!(status, 200, "{answer}");
        replayed += usize::from(was_replayed);
    }
    assert!(
        replayed >= answered_by_a,
        "every order A answered is replayed ({replayed} < {answered_by_a})"
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM checkouts"), 30, "one order per cart");
    assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT cart_id) FROM checkouts"), 30);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM idempotency"), 30);
    let mugs = "SELECT quantity FROM stock WHERE product_id = 'MUG' AND variant = '1'";
    assert_eq!(scalar(&db, mugs), 40 - 30, "stock taken once per order");
}

/// On PostgreSQL the buckets are in the database: a client that spent its requests on one instance is
/// refused by the other. Behind a trusted proxy, `X-Forwarded-For` picks the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_hold_across_instances_on_postgres() {
    if common::postgres_url().is_none() {
        eprintln!("SQLite keeps rate limits per process; this case runs on PostgreSQL");
        return;
    }
    let flags = ["--rate-limit", "2", "--trusted-proxy", "127.0.0.1"];
    let Pair { a, b, http, _dir, .. } = Pair::start(&flags);
    let get = |base: &str, client: &str| {
        http.get(format!("{base}/api/v1/catalog"))
            .header("x-forwarded-for", client)
            .send()
    };
    let shopper = "198.51.100.7";
    assert_eq!(get(&a.url, shopper).await.unwrap().status(), 200);
    assert_eq!(get(&b.url, shopper).await.unwrap().status(), 200);
    // Two tokens a minute, both spent: refused by either instance.
    let refused = get(&a.url, shopper).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(get(&b.url, shopper).await.unwrap().status(), 429);
    // Another shopper behind the same proxy has a bucket of its own; so does another /64.
    assert_eq!(get(&b.url, "198.51.100.8").await.unwrap().status(), 200);
    assert_eq!(get(&a.url, "2001:db8:1:2::1").await.unwrap().status(), 200);
    assert_eq!(get(&b.url, "2001:db8:1:2::ffff").await.unwrap().status(), 200);
    assert_eq!(get(&a.url, "2001:db8:1:2::abcd").await.unwrap().status(), 429);
}
