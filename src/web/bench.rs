//! `Cart.prototype.__benchView(mode, iterations)` (feature `bench`, never in the published package):
//! what `scripts/bench-views.mjs` times to choose how the view crosses into JavaScript
//! (`docs/web-views.md`). Each mode repeats one step `iterations` times:
//!
//! - `price`: the pricing pipeline alone;
//! - `json`, `swb`: turning an already priced cart into a JavaScript object, via
//!   `serde_json::to_string` + `JSON.parse`, or via `serde-wasm-bindgen`;
//! - `view`, `view-swb`: what a change costs `cart.view()` end to end (price, encode, reuse the
//!   objects of unchanged lines), with either encoding.

use super::shell::now_of;
use super::view::{self, Encoding};
use super::{js, Cart};
use crate::error::CartError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Cart {
    #[wasm_bindgen(js_name = "__benchView", skip_typescript)]
    pub fn bench_view(&self, mode: &str, iterations: u32) -> Result<u32, JsValue> {
        let now = now_of(&self.inner)?;
        let mut inner = self.inner.try_borrow_mut().map_err(|_| js::busy())?;
        let priced = inner.session.view(now)?;
        let mut count = 0u32;
        for _ in 0..iterations {
            let produced = match mode {
                "price" => inner.session.view(now).map(|v| v.line_items.len() as u32),
                "json" => view::encode(&priced, Encoding::Json).map(|v| u32::from(v.is_object())),
                "swb" => view::encode(&priced, Encoding::SerdeWasmBindgen).map(|v| u32::from(v.is_object())),
                "view" | "view-swb" => {
                    let encoding = if mode == "view" {
                        Encoding::Json
                    } else {
                        Encoding::SerdeWasmBindgen
                    };
                    inner.views.invalidate();
                    let view = inner.session.view(now);
                    view.and_then(|v| inner.views.build(v, encoding))
                        .map(|v| u32::from(v.is_object()))
                }
                other => Err(CartError::invalid_request(format!("unknown bench mode {other}"))),
            };
            count = count.wrapping_add(produced?);
        }
        inner.views.invalidate();
        Ok(count)
    }
}
