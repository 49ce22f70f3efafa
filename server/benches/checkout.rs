//! Checkout throughput of the built cart-server (`make bench`): SQLite with `synchronous=FULL` (the
//! default) and `NORMAL` (what FULL costs), and PostgreSQL with one and with two instances on one
//! database (when `CART_SERVER_TEST_POSTGRES` names a server: `make bench` starts one with fsync on).
//!
//! Each configuration places the same number of orders from concurrent clients over loopback: browser
//! carts of one line each, spread over five stock-managed items (every order updates a stock row that
//! others update too, as on a real shop). Figures are printed side by side, never asserted.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{browser_checkout, Instance};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wasm_cart::Catalog;

const ORDERS: usize = 600;
const CLIENTS: usize = 16;
const SECRET: &str = "bench-secret-0123456789abcdefghijklmno";
const ITEMS: [(&str, Option<u32>); 5] = [
    ("ROUTER-5G", None),
    ("MUG", Some(1)),
    ("MUG", Some(3)),
    ("TSHIRT", Some(1)),
    ("PHONE-A5", None),
];

/// The demo catalog with every stock figure high enough for the run.
fn catalog_file(dir: &std::path::Path) -> (std::path::PathBuf, Catalog) {
    let mut catalog: Value = serde_json::from_str(cart_server::DEMO_CATALOG).expect("demo catalog");
    if let Some(products) = catalog["products"].as_array_mut() {
        for product in products {
            if product.get("stock").is_some() {
                product["stock"] = json!(1_000_000);
            }
            if let Some(variants) = product.get_mut("variants").and_then(Value::as_array_mut) {
                for variant in variants.iter_mut().filter(|v| v.get("stock").is_some()) {
                    variant["stock"] = json!(1_000_000);
                }
            }
        }
    }
    let path = dir.join("catalog.json");
    std::fs::write(&path, catalog.to_string()).expect("write catalog");
    (path, Catalog::from_value(catalog).expect("catalog"))
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Places `ORDERS` orders through `instances` (round robin) from `CLIENTS` concurrent clients.
async fn run(instances: &[Instance], catalog: &Catalog, label: &str) -> Figures {
    let bodies: Vec<(String, Value)> = (0..ORDERS)
        .map(|i| {
            let id = format!("cart_{label}_{i}");
            let (product, variant) = ITEMS[i % ITEMS.len()];
            let line = json!({"productId": product, "variantId": variant, "quantity": 1});
            let body = browser_checkout(&id, catalog, line);
            (id, body)
        })
        .collect();
    let urls: Vec<String> = instances.iter().map(|i| i.url.clone()).collect();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies.into_iter().enumerate()));
    let http = reqwest::Client::new();
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (queue, http, urls) = (queue.clone(), http.clone(), urls.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
                    let Some((n, (id, body))) = next else { break };
                    let url = &urls[n % urls.len()];
                    let sent = Instant::now();
                    let response = http
                        .post(format!("{url}/api/v1/carts/{id}/checkout"))
                        .header("x-cart-secret", SECRET)
                        .header("x-idempotency-key", format!("key-{id}"))
                        .json(&body)
                        .send()
                        .await
                        .expect("answer");
                    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        per_second: ORDERS as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    }
}

async fn measure(label: &str, db: &str, count: usize, extra: &[&str]) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, catalog) = catalog_file(dir.path());
    let db = if db.is_empty() {
        dir.path().join("cart.db").display().to_string()
    } else {
        db.to_string()
    };
    let mut flags = vec!["--rate-limit", "1000000"];
    flags.extend_from_slice(extra);
    let instances: Vec<Instance> = (0..count).map(|_| Instance::start(&db, &path, &flags)).collect();
    warm_up(&instances, &catalog, label).await;
    run(&instances, &catalog, label).await
}

/// One order per instance first (connections opened, pages cached).
async fn warm_up(instances: &[Instance], catalog: &Catalog, label: &str) {
    let http = reqwest::Client::new();
    for (n, instance) in instances.iter().enumerate() {
        let id = format!("cart_warm_{label}_{n}");
        let body = browser_checkout(&id, catalog, json!({"productId": "MUG", "variantId": 1, "quantity": 1}));
        let response = http
            .post(format!("{}/api/v1/carts/{id}/checkout", instance.url))
            .header("x-cart-secret", SECRET)
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut rows: Vec<(String, Figures)> = Vec::new();
    rows.push((
        "SQLite, synchronous=FULL (default), 1 instance".into(),
        measure("sqlite_full", "", 1, &[]).await,
    ));
    rows.push((
        "SQLite, synchronous=NORMAL, 1 instance".into(),
        measure("sqlite_normal", "", 1, &["--sqlite-synchronous", "normal"]).await,
    ));
    match common::postgres_url() {
        Some(admin) => {
            let one = common::fresh_postgres_database(&admin);
            rows.push(("PostgreSQL, 1 instance".into(), measure("pg1", &one, 1, &[]).await));
            let two = common::fresh_postgres_database(&admin);
            rows.push(("PostgreSQL, 2 instances".into(), measure("pg2", &two, 2, &[]).await));
        }
        None => eprintln!("PostgreSQL skipped: CART_SERVER_TEST_POSTGRES is not set (make bench sets it)"),
    }
    println!();
    println!("checkout throughput: {ORDERS} orders from {CLIENTS} concurrent clients on loopback, release build");
    println!(
        "{:<48} {:>10} {:>10} {:>10}",
        "configuration", "orders/s", "p50 ms", "p99 ms"
    );
    for (label, f) in &rows {
        println!(
            "{label:<48} {:>10.0} {:>10.1} {:>10.1}",
            f.per_second,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0
        );
    }
}
