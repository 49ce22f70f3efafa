//! Native pricing figures: `make bench` (or `cargo bench --no-default-features --bench pricing`).
//! Prints the time per operation; nothing is asserted (speed is measured, never tested).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{bench_cart, rich_catalog, Settings};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};
use wasm_cart::{price, Action, Catalog, Timestamp};

const NOW: i64 = 1_795_262_400_000;

fn measure(name: &str, mut op: impl FnMut()) {
    // Warm up, then run for about half a second.
    for _ in 0..50 {
        op();
    }
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_millis(500) {
        op();
        runs += 1;
    }
    let per = start.elapsed() / runs;
    println!("{name:<48} {:>10.2} µs/op  ({runs} runs)", per.as_secs_f64() * 1e6);
}

fn main() {
    let settings = Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    };
    let catalog_json = rich_catalog(settings);
    let text = catalog_json.to_string();
    let now = Timestamp::from_millis(NOW);
    println!(
        "wasm-cart native pricing ({} build)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    measure("Catalog::from_json (10 products, 10 promotions)", || {
        black_box(Catalog::from_json(black_box(&text)).ok());
    });
    let catalog = Catalog::from_value(catalog_json).unwrap_or_else(|e| panic!("{e}"));
    for lines in [1, 10, 50, 250] {
        let cart = bench_cart(&catalog, lines, now);
        measure(&format!("price(), {lines} lines, 2 codes"), || {
            black_box(price(black_box(&cart), &catalog, now).ok());
        });
        measure(&format!("price() + view to JSON, {lines} lines"), || {
            let view = price(&cart, &catalog, now).ok();
            black_box(serde_json::to_string(&view).ok());
        });
    }
    let cart = bench_cart(&catalog, 10, now);
    let change =
        Action::list_from_value(json!([{"action": "changeLineItemQuantity", "lineItemId": "li_3", "quantity": 2}]))
            .unwrap_or_else(|e| panic!("{e}"));
    measure("apply(changeLineItemQuantity) + price(), 10 lines", || {
        let mut c = cart.clone();
        black_box(c.apply(&catalog, &change, now).ok());
        black_box(price(&c, &catalog, now).ok());
    });
}
