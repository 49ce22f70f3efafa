//! Turning the priced cart into the JavaScript view object, incrementally: only the lines that changed
//! since the previous view cross the boundary, with the rest of the view (totals, codes, shipping,
//! issues). `glue.js` (`assembleView`) parses that and puts the previous view's objects back in the
//! slots of unchanged lines, so:
//!
//! - a change that touches one line encodes and parses one line, not the whole cart
//!   (`JSON.parse` of a whole 50-line view alone took longer than the target for the whole change);
//! - `cart.view()` returns the same object until the cart changes (`useSyncExternalStore` needs that),
//!   and an unchanged line keeps its object from one view to the next (`React.memo` rows skip
//!   re-rendering);
//! - every view is deeply frozen: the objects are shared by every caller and every later view.
//!
//! Measurements and the designs tried before are in `docs/web-views.md` and `docs/performance.md`.

use super::glue;
use crate::error::CartError;
use crate::pricing::{CartView, CustomLineView, LineView};
use serde::{Serialize, Serializer};
use wasm_bindgen::JsValue;

/// What crosses the boundary: the view without its lines, and one slot per line.
#[derive(Serialize)]
struct Delta<'a> {
    view: &'a CartView,
    lines: Vec<Slot<'a, LineView>>,
    custom: Vec<Slot<'a, CustomLineView>>,
}

/// A line of the new view: the index of the equal line in the previous view, or the line itself.
enum Slot<'a, T> {
    Same(usize),
    New(&'a T),
}

impl<T: Serialize> Serialize for Slot<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Slot::Same(index) => serializer.serialize_u64(*index as u64),
            Slot::New(line) => line.serialize(serializer),
        }
    }
}

/// The current view object, the last one built (whose line objects the next view reuses), and the
/// line data it was built from.
#[derive(Default)]
pub(crate) struct ViewCache {
    current: Option<JsValue>,
    last: Option<JsValue>,
    lines: Vec<LineView>,
    custom: Vec<CustomLineView>,
}

impl ViewCache {
    /// The cached view, if the cart has not changed since it was built.
    pub(crate) fn current(&self) -> Option<JsValue> {
        self.current.clone()
    }

    /// Forgets the view object (the next `view()` builds a new one) but keeps the line objects.
    pub(crate) fn invalidate(&mut self) {
        self.current = None;
    }

    /// Forgets everything (another cart altogether).
    pub(crate) fn reset(&mut self) {
        *self = ViewCache::default();
    }

    /// Builds the JavaScript view of `view`, reusing the line objects of the previous view for lines
    /// equal to what they were, and caches it.
    pub(crate) fn build(&mut self, mut view: CartView) -> Result<JsValue, CartError> {
        let lines = std::mem::take(&mut view.line_items);
        let custom = std::mem::take(&mut view.custom_line_items);
        let delta = Delta {
            view: &view,
            lines: slots(&lines, &self.lines, |l| l.id.as_str()),
            custom: slots(&custom, &self.custom, |l| l.id.as_str()),
        };
        let fail = |e: String| CartError::invalid_request(format!("the view cannot be built: {e}"));
        let text = serde_json::to_string(&delta).map_err(|e| fail(e.to_string()))?;
        let previous = self.last.clone().unwrap_or(JsValue::NULL);
        let object = glue::assemble_view(&text, &previous).map_err(|e| fail(super::js::describe(&e)))?;
        *self = ViewCache {
            current: Some(object.clone()),
            last: Some(object.clone()),
            lines,
            custom,
        };
        Ok(object)
    }
}

/// The view of a cart this one no longer shows (the `expired` and `ordered` events): built on its own.
pub(crate) fn detached(view: CartView) -> Result<JsValue, CartError> {
    ViewCache::default().build(view)
}

/// One slot per line of `lines`: `Same(i)` when `previous[i]` has the same id and equal data. The
/// previous line is looked up at the same position first, then one off (a line removed or added
/// before it), then anywhere, so the usual change costs O(lines) comparisons of ids.
fn slots<'a, T: PartialEq>(lines: &'a [T], previous: &[T], id: impl Fn(&T) -> &str) -> Vec<Slot<'a, T>> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let same_id = |i: &usize| previous.get(*i).is_some_and(|old| id(old) == id(line));
            let found = [Some(index), index.checked_add(1), index.checked_sub(1)]
                .into_iter()
                .flatten()
                .find(same_id)
                .or_else(|| previous.iter().position(|old| id(old) == id(line)));
            match found {
                Some(i) if previous.get(i) == Some(line) => Slot::Same(i),
                _ => Slot::New(line),
            }
        })
        .collect()
}
