//! Turning the priced cart into the JavaScript view object, and keeping identities stable:
//! `cart.view()` returns the same object until the cart changes (`useSyncExternalStore` needs that),
//! and a line whose data did not change keeps its object from one view to the next, so a UI can skip
//! re-rendering its row.
//!
//! The view is produced with `serde_json::to_string` + `JSON.parse`; `docs/web-views.md` has the
//! measurements against `serde-wasm-bindgen` that chose it.

use super::js;
use crate::error::CartError;
use crate::pricing::{CartView, CustomLineView, LineView};
use js_sys::{Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::JsValue;

/// How a view crosses into JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `serde_json::to_string` in wasm, `JSON.parse` in JavaScript (the default: faster, see docs).
    Json,
    /// `serde-wasm-bindgen` building the objects property by property through the boundary.
    #[cfg_attr(not(feature = "bench"), allow(dead_code))]
    SerdeWasmBindgen,
}

pub(crate) const ENCODING: Encoding = Encoding::Json;

pub(crate) fn encode<T: Serialize>(value: &T, encoding: Encoding) -> Result<JsValue, CartError> {
    let fail = |e: String| CartError::invalid_request(format!("the view cannot be built: {e}"));
    match encoding {
        Encoding::Json => {
            let text = serde_json::to_string(value).map_err(|e| fail(e.to_string()))?;
            JSON::parse(&text).map_err(|e| fail(js::describe(&e)))
        }
        Encoding::SerdeWasmBindgen => value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| fail(e.to_string())),
    }
}

/// The current view object and the line objects it was built with.
#[derive(Default)]
pub(crate) struct ViewCache {
    view: Option<JsValue>,
    lines: Vec<(LineView, JsValue)>,
    custom: Vec<(CustomLineView, JsValue)>,
}

impl ViewCache {
    /// The cached view, if the cart has not changed since it was built.
    pub(crate) fn current(&self) -> Option<JsValue> {
        self.view.clone()
    }

    /// Forgets the view object (the next `view()` builds a new one) but keeps the line objects.
    pub(crate) fn invalidate(&mut self) {
        self.view = None;
    }

    /// Forgets everything (another cart altogether).
    pub(crate) fn reset(&mut self) {
        *self = ViewCache::default();
    }

    /// Builds the JavaScript view of `view`, reusing the line objects of the previous view for lines
    /// that are equal to what they were, and caches it.
    pub(crate) fn build(&mut self, view: CartView, encoding: Encoding) -> Result<JsValue, CartError> {
        let js_view = encode(&view, encoding)?;
        self.lines = reuse(&js_view, "lineItems", view.line_items, &self.lines, |l| &l.id);
        self.custom = reuse(&js_view, "customLineItems", view.custom_line_items, &self.custom, |l| {
            &l.id
        });
        self.view = Some(js_view.clone());
        Ok(js_view)
    }
}

/// Puts back the previous object of every unchanged line into `view[field]` and returns the new
/// (data, object) list. Lines are looked up by id: first at the same position, then one off (a line
/// removed or added before it), then anywhere.
fn reuse<T: PartialEq>(
    js_view: &JsValue,
    field: &str,
    lines: Vec<T>,
    previous: &[(T, JsValue)],
    id: impl Fn(&T) -> &String,
) -> Vec<(T, JsValue)> {
    let array = js::get(js_view, field);
    let mut next = Vec::with_capacity(lines.len());
    for (index, line) in lines.into_iter().enumerate() {
        let same_id = |(old, _): &&(T, JsValue)| id(old) == id(&line);
        let old = previous
            .get(index)
            .filter(same_id)
            .or_else(|| previous.get(index.wrapping_add(1)).filter(same_id))
            .or_else(|| index.checked_sub(1).and_then(|i| previous.get(i)).filter(same_id))
            .or_else(|| previous.iter().find(same_id));
        let position = u32::try_from(index).unwrap_or(u32::MAX);
        let object = match old {
            Some((old, object)) if *old == line => {
                let _ = Reflect::set_u32(&array, position, object);
                object.clone()
            }
            _ => Reflect::get_u32(&array, position).unwrap_or(JsValue::UNDEFINED),
        };
        next.push((line, object));
    }
    next
}
