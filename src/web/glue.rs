//! The bindings of `glue.js` (see there).

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = idbCommit)]
    pub fn idb_commit(key: &str, decide: &Function) -> Promise;

    #[wasm_bindgen(js_name = openChannel, catch)]
    pub fn open_channel(name: &str, on_message: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = fetchOnce)]
    pub fn fetch_once(method: &str, url: &str, headers: &JsValue, body: &JsValue, timeout_ms: f64) -> Promise;

    #[wasm_bindgen(js_name = copyRaw, catch)]
    pub fn copy_raw(storage: &JsValue, from: &str, to: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(js_name = assembleView, catch)]
    pub fn assemble_view(text: &str, previous: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = keysWithPrefix, catch)]
    fn keys_with_prefix_js(storage: &JsValue, prefix: &str) -> Result<Vec<String>, JsValue>;
}

/// The storage's keys that start with `prefix`; none when listing throws.
pub fn keys_with_prefix(storage: &JsValue, prefix: &str) -> Vec<String> {
    keys_with_prefix_js(storage, prefix).unwrap_or_default()
}
