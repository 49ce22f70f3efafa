//! `price()` under valgrind's callgrind, for `make bench`: builds a 200-line cart on the 10-promotion
//! catalog of the native benches, then prices it `N` times (the first argument). The Makefile runs it
//! with N = 0 and N = 10; the difference over 10 is the instructions of one `price()`, whatever the
//! machine is doing (callgrind counts instructions, not time).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{bench_cart, rich_catalog, Settings};
use std::hint::black_box;
use wasm_cart::{price, Catalog, Timestamp};

const NOW: i64 = 1_795_262_400_000;
const LINES: usize = 200;

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
    let settings = Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    };
    let catalog = Catalog::from_value(rich_catalog(settings)).unwrap_or_else(|e| panic!("{e}"));
    let now = Timestamp::from_millis(NOW);
    let cart = bench_cart(&catalog, LINES, now);
    for _ in 0..runs {
        black_box(price(black_box(&cart), &catalog, now).ok());
    }
}
