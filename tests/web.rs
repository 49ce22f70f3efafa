//! The `Cart` class in headless Chromium (wasm-bindgen-test): what crosses the boundary. Storage
//! (localStorage through the IndexedDB commit point, byte-exact copies of corrupt values, storages
//! that throw or hold something else), two carts on one key in one page acting as two tabs, events
//! and listeners (never recursive), errors with codes, and `checkout()` over a scripted `fetch` on
//! `globalThis`. The decisions behind all of it are tested natively (`tests/session_*.rs`); real tabs
//! are `tests/e2e/tabs.test.mjs`. No test asserts on timing: waits go through `sleep`, and a test that
//! waits for another cart polls for an outcome with a generous bound.
//!
//!   make test-wasm
//!   (= CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
//!      cargo test --target wasm32-unknown-unknown --test web)
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect, JSON};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wasm_cart::snapshot;
use wasm_cart::web::{is_cart_error, is_checkout_error, Cart};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function memoryStorage() {
  const map = new Map();
  return {
    map,
    getItem(k) { return map.has(k) ? map.get(k) : null; },
    setItem(k, v) { map.set(k, String(v)); },
    removeItem(k) { map.delete(k); },
  };
}
export function throwingStorage(readsFail, initial) {
  const map = new Map(Object.entries(initial || {}));
  return {
    map,
    getItem(k) {
      if (readsFail) throw new DOMException("The operation is insecure.", "SecurityError");
      return map.has(k) ? map.get(k) : null;
    },
    setItem() { throw new DOMException("The quota has been exceeded.", "QuotaExceededError"); },
    removeItem(k) { map.delete(k); },
  };
}
export function storageKeys(storage, prefix) {
  const out = [];
  if (storage.map) {
    for (const k of storage.map.keys()) if (k.startsWith(prefix)) out.push(k);
  } else {
    for (let i = 0; i < storage.length; i++) { const k = storage.key(i); if (k.startsWith(prefix)) out.push(k); }
  }
  return out.sort();
}
export function clearLocal(prefix) {
  for (const k of storageKeys(localStorage, prefix)) localStorage.removeItem(k);
}
export function recorder(events, name) { return (payload) => { events.push([name, payload]); }; }
export function makeClock(ms) { const c = { ms }; c.now = () => c.ms; return c; }
export function dispatchStorage(key) {
  globalThis.dispatchEvent(new StorageEvent("storage", { key, storageArea: localStorage }));
}
export function tick() { return new Promise((resolve) => setTimeout(resolve, 0)); }
export function local() { return localStorage; }
export function putLoneSurrogate(key) { localStorage.setItem(key, '{"schema":1,"cart":"\uD800 half a pair"}'); }
export function sameRaw(a, b) { return localStorage.getItem(a) === localStorage.getItem(b) && localStorage.getItem(a) !== null; }
export function objectStorage(key) {
  const map = new Map();
  const writes = [];
  return { map, writes,
    getItem(k) { return k === key ? { not: "a string" } : (map.has(k) ? map.get(k) : null); },
    setItem(k, v) { writes.push(k); map.set(k, String(v)); },
    removeItem(k) { map.delete(k); } };
}
export function ticks(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
// A scripted fetch on globalThis. Steps: {status, body, headers} | {network: true} | {hang: true}
// (settles only when aborted) | {held: true} (settles when the test calls release(step)).
export function installFetch(script) {
  const queue = [...script];
  const calls = [];
  const held = [];
  const original = globalThis.fetch;
  const answer = (step) => step.network
    ? Promise.reject(new TypeError("Failed to fetch"))
    : Promise.resolve(new Response(step.body === undefined ? "" : JSON.stringify(step.body),
        { status: step.status, headers: step.headers || {} }));
  globalThis.fetch = function (url, init = {}) {
    if (this !== undefined && this !== globalThis) throw new TypeError("Illegal invocation");
    const call = { url: String(url), method: init.method, headers: { ...init.headers }, body: init.body, aborted: false };
    calls.push(call);
    init.signal?.addEventListener("abort", () => { call.aborted = true; });
    const step = queue.length ? queue.shift() : { status: 599, body: { error: { code: "NO_SCRIPT", message: "unscripted" } } };
    if (step.hang) {
      return new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(new DOMException("The operation was aborted.", "AbortError"))));
    }
    if (step.held) return new Promise((resolve) => held.push((s) => resolve(answer(s))));
    return answer(step);
  };
  return {
    calls,
    push(step) { queue.push(step); },
    release(step) { const r = held.shift(); if (r) r(step); },
    restore() { globalThis.fetch = original; },
  };
}
export function sleepRecorder(delays) { return (ms) => { delays.push(ms); return Promise.resolve(); }; }
export function setOnline(value) { Object.defineProperty(navigator, "onLine", { configurable: true, get: () => value }); }
export function resetOnline() { delete navigator.onLine; }
export function dispatchOnline() { globalThis.dispatchEvent(new Event("online")); }
export function settled(promise) {
  return promise.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = memoryStorage)]
    fn memory_storage() -> JsValue;
    #[wasm_bindgen(js_name = throwingStorage)]
    fn throwing_storage(reads_fail: bool, initial: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = storageKeys)]
    fn storage_keys(storage: &JsValue, prefix: &str) -> Vec<String>;
    #[wasm_bindgen(js_name = clearLocal)]
    fn clear_local(prefix: &str);
    fn recorder(events: &js_sys::Array, name: &str) -> JsValue;
    #[wasm_bindgen(js_name = makeClock)]
    fn make_clock(ms: f64) -> JsValue;
    fn local() -> JsValue;
    #[wasm_bindgen(js_name = putLoneSurrogate)]
    fn put_lone_surrogate(key: &str);
    #[wasm_bindgen(js_name = sameRaw)]
    fn same_raw(a: &str, b: &str) -> bool;
    #[wasm_bindgen(js_name = objectStorage)]
    fn object_storage(key: &str) -> JsValue;
    fn ticks(ms: u32) -> js_sys::Promise;
    #[wasm_bindgen(js_name = installFetch)]
    fn install_fetch(script: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = sleepRecorder)]
    fn sleep_recorder(delays: &js_sys::Array) -> JsValue;
    #[wasm_bindgen(js_name = setOnline)]
    fn set_online(value: bool);
    #[wasm_bindgen(js_name = resetOnline)]
    fn reset_online();
    #[wasm_bindgen(js_name = dispatchOnline)]
    fn dispatch_online();
    fn settled(promise: &js_sys::Promise) -> js_sys::Promise;
}

const T0: f64 = 1_795_348_800_000.0; // 2026-11-21T12:00:00Z
const DAY: f64 = 86_400_000.0;
const API: &str = "https://shop.test/api/v1";

fn catalog_with(mug_price: &str) -> Value {
    json!({
        "version": format!("test#{mug_price}"),
        "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19", "name": "MwSt 19%"}]}],
        "products": [
            {"id": "mug", "sku": "MUG", "name": "Mug", "taxCategory": "std",
             "prices": [{"currency": "EUR", "amount": mug_price}]},
            {"id": "tee", "sku": "TEE", "name": "Tee", "taxCategory": "std", "maxQuantity": 5,
             "prices": [{"currency": "EUR", "amount": "20.00"}]}
        ],
        "shippingMethods": [{"id": "standard", "name": "Standard", "taxCategory": "std", "default": true,
                             "rates": [{"currency": "EUR", "price": "4.99"}]}],
        "promotions": [{"id": "summer", "label": "Summer", "code": "SUMMER", "target": {"type": "items"},
                        "value": {"type": "percentage", "percent": "10"}}]
    })
}

fn catalog() -> Value {
    catalog_with("10.00")
}

fn js(v: &Value) -> JsValue {
    JSON::parse(&v.to_string()).unwrap()
}

fn rust(v: &JsValue) -> Value {
    serde_json::from_str(&String::from(JSON::stringify(v).unwrap())).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn at(v: &JsValue, index: u32) -> JsValue {
    Reflect::get_u32(v, index).unwrap()
}

fn set(v: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(v, &JsValue::from_str(key), value).unwrap();
}

/// Options for `Cart.open`: the given storage and key, the test catalog, EUR/DE, plus `extra`.
fn options(storage: &JsValue, key: &str, extra: Value) -> JsValue {
    let mut o = json!({"catalog": catalog(), "storageKey": key, "currency": "EUR", "country": "DE"});
    if let (Value::Object(o), Value::Object(extra)) = (&mut o, extra) {
        o.extend(extra);
    }
    let o = js(&o);
    set(&o, "storage", storage);
    o
}

fn view(cart: &Cart) -> JsValue {
    cart.view_fn()
        .unchecked_into::<Function>()
        .call0(&JsValue::NULL)
        .unwrap()
}

fn item(product: &str, quantity: u32) -> JsValue {
    js(&json!({"productId": product, "quantity": quantity}))
}

fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_default()
}

fn stored(storage: &JsValue, key: &str) -> Option<String> {
    let f: Function = get(storage, "getItem").unchecked_into();
    f.call1(storage, &JsValue::from_str(key)).unwrap().as_string()
}

fn put(storage: &JsValue, key: &str, value: &str) {
    let f: Function = get(storage, "setItem").unchecked_into();
    f.call2(storage, &JsValue::from_str(key), &JsValue::from_str(value))
        .unwrap();
}

fn events() -> js_sys::Array {
    js_sys::Array::new()
}

fn listen(cart: &Cart, events: &js_sys::Array, name: &str) -> JsValue {
    cart.on(JsValue::from_str(name), recorder(events, name)).unwrap()
}

/// The recorded events as (name, payload) pairs.
fn recorded(events: &js_sys::Array) -> Vec<(String, JsValue)> {
    events
        .iter()
        .map(|pair| (at(&pair, 0).as_string().unwrap(), at(&pair, 1)))
        .collect()
}

async fn pause(ms: u32) {
    JsFuture::from(ticks(ms)).await.unwrap();
}

/// Waits until `done()` holds (an outcome, not a duration: the bound only turns a hang into a failure).
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        pause(10).await;
    }
    panic!("never happened: {what}");
}

fn assert_cart_error(e: &JsValue, expected: &str) {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    assert_eq!(get(e, "name").as_string().as_deref(), Some("CartError"));
    assert_eq!(code(e), expected, "message: {:?}", get(e, "message").as_string());
    assert!(get(e, "details").is_object(), "details must be an object");
    assert!(is_cart_error(e.clone()));
}

/// The version of the cart stored under `key` (the committed record), if any.
fn stored_version(key: &str) -> Option<u64> {
    let text = stored(&local(), key)?;
    snapshot::decode(&text).ok().map(|r| r.cart.version())
}

// ------------------------------------------------------------------------------------------------ storage

#[wasm_bindgen_test]
async fn local_storage_holds_every_committed_change_and_a_reload_reads_it_offline() {
    clear_local("t-persist");
    let cart = Cart::open(options(&JsValue::from_str("local"), "t-persist", json!({}))).unwrap();
    assert_eq!(cart.persistence().unwrap(), "local");
    cart.add_item(item("mug", 2)).unwrap();
    let v = cart.apply_code(JsValue::from_str("SUMMER")).unwrap();
    assert_eq!(get(&get(&v, "totals"), "total").as_f64(), Some(2299.0)); // 20.00 - 2.00 + 4.99
                                                                         // Until committed, the change waits in this tab's outbox (written at once, so a closing tab
                                                                         // loses nothing); the commit writes the DESIGN §7 blob and empties the outbox.
    until("the commit", || stored_version("t-persist") == Some(2)).await;
    let blob: Value = serde_json::from_str(&stored(&local(), "t-persist").unwrap()).unwrap();
    assert_eq!(blob["schema"], json!(1));
    assert!(blob["checksum"].as_str().is_some_and(|c| c.len() == 16));
    assert_eq!(blob["cart"]["lineItems"][0]["productId"], json!("mug"));
    assert!(blob["commit"].as_u64().is_some_and(|c| c >= 1), "{blob}");
    assert!(
        blob.get("totals").is_none() && blob["cart"].get("totals").is_none(),
        "state only"
    );
    until("the outbox emptied", || {
        storage_keys(&local(), "t-persist:tab:").is_empty()
    })
    .await;
    assert!(stored(&local(), "t-persist:catalog").is_some());
    let id = get(&v, "id");
    drop(cart);

    // A reload without a catalog (offline): the cached one prices the restored cart.
    let again = Cart::open(js(&json!({"storageKey": "t-persist"}))).unwrap();
    let v2 = view(&again);
    assert_eq!(get(&v2, "id"), id);
    assert_eq!(get(&v2, "version").as_f64(), Some(2.0));
    assert_eq!(rust(&get(&v2, "totals"))["total"], json!(2299));
    let e = Cart::open(js(&json!({"storageKey": "t-nothing-cached", "currency": "EUR"})))
        .err()
        .unwrap();
    assert_cart_error(&e, "INVALID_REQUEST");
    assert_eq!(rust(&get(&e, "details"))["field"], json!("catalog"));
}

#[wasm_bindgen_test]
async fn two_carts_on_one_key_in_one_page_behave_as_two_tabs() {
    clear_local("t-tabs");
    let a = Cart::open(options(&JsValue::from_str("local"), "t-tabs", json!({}))).unwrap();
    let b = Cart::open(options(&JsValue::from_str("local"), "t-tabs", json!({}))).unwrap();
    let heard = events();
    listen(&b, &heard, "change");
    until("b follows a's cart", || get(&view(&a), "id") == get(&view(&b), "id")).await;
    a.add_item(item("mug", 1)).unwrap();
    until("b sees a's mug", || {
        rust(&view(&b))["lineItems"].as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
    assert!(!recorded(&heard).is_empty(), "b's subscribers were told");
    b.add_item(item("tee", 2)).unwrap();
    a.change_quantity(JsValue::from_str("li_1"), JsValue::from_f64(3.0))
        .unwrap();
    let both = |c: &Cart| {
        let lines = rust(&view(c))["lineItems"].clone();
        lines.as_array().map(|l| {
            l.iter()
                .map(|l| (l["productId"].clone(), l["quantity"].clone()))
                .collect::<Vec<_>>()
        })
    };
    let expected = Some(vec![(json!("mug"), json!(3)), (json!("tee"), json!(2))]);
    until("both carts agree", || both(&a) == expected && both(&b) == expected).await;
    until("the stored cart has both", || stored_version("t-tabs") == Some(3)).await;
}

#[wasm_bindgen_test]
async fn a_corrupt_value_is_kept_byte_for_byte_and_reported() {
    clear_local("t-surrogate");
    put_lone_surrogate("t-surrogate");
    let log = events();
    let cart = Cart::open(options(&JsValue::from_str("local"), "t-surrogate", json!({}))).unwrap();
    listen(&cart, &log, "error");
    pause(0).await;
    let got = recorded(&log);
    assert_eq!(got.len(), 1, "one error event");
    assert_cart_error(&got[0].1, "INVALID_SNAPSHOT");
    let corrupt = rust(&get(&got[0].1, "details"))["corruptKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(corrupt.starts_with("t-surrogate:corrupt:"));
    let keys = storage_keys(&local(), "t-surrogate:corrupt:");
    assert_eq!(keys, vec![corrupt.clone()]);
    // Compared in JavaScript: the copy holds the lone surrogate, not U+FFFD.
    until("the new cart replaced it", || stored_version("t-surrogate").is_some()).await;
    assert!(!same_raw("t-surrogate", &corrupt));
    put_lone_surrogate("t-surrogate-original");
    assert!(same_raw(&corrupt, "t-surrogate-original"), "the copy is the original");
    assert_eq!(rust(&view(&cart))["lineItems"], json!([]));
}

#[wasm_bindgen_test]
async fn a_cart_with_a_valid_checksum_is_still_validated() {
    let storage = memory_storage();
    let good = Cart::open(options(&storage, "k", json!({}))).unwrap();
    good.add_item(item("mug", 1)).unwrap();
    let mut cart: Value = serde_json::from_str(&good.snapshot().unwrap()).unwrap();
    cart["cart"]["lineItems"][0]["quantity"] = json!(10_000_000);
    let text = serde_json::to_string(&cart["cart"]).unwrap();
    let forged = format!(
        r#"{{"schema":1,"checksum":"{}","cart":{text}}}"#,
        snapshot::checksum(text.as_bytes())
    );
    put(&storage, "k", &forged);
    let log = events();
    let reopened = Cart::open(options(&storage, "k", json!({}))).unwrap();
    listen(&reopened, &log, "error");
    pause(0).await;
    let got = recorded(&log);
    assert_cart_error(&got[0].1, "INVALID_SNAPSHOT");
    assert_eq!(rust(&get(&got[0].1, "details"))["reason"], json!("invalidCart"));
    assert_eq!(
        rust(&view(&reopened))["lineItems"],
        json!([]),
        "a fresh cart; the forged one is kept aside"
    );
    let kept = storage_keys(&storage, "k:corrupt:");
    assert_eq!(stored(&storage, &kept[0]).as_deref(), Some(forged.as_str()));
}

#[wasm_bindgen_test]
async fn a_storage_value_that_is_not_a_string_is_reported_and_never_overwritten() {
    let storage = object_storage("k");
    let log = events();
    let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
    listen(&cart, &log, "error");
    pause(0).await;
    let got = recorded(&log);
    assert_cart_error(&got[0].1, "INVALID_SNAPSHOT");
    assert_eq!(rust(&get(&got[0].1, "details"))["reason"], json!("notAString"));
    assert_eq!(cart.persistence().unwrap(), "memory");
    cart.add_item(item("mug", 1)).unwrap();
    let writes: Vec<String> = get(&storage, "writes")
        .unchecked_into::<js_sys::Array>()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert!(!writes.contains(&"k".to_string()), "never overwritten: {writes:?}");
}

#[wasm_bindgen_test]
async fn a_throwing_storage_degrades_to_memory_and_every_call_still_works() {
    let storage = throwing_storage(false, JsValue::UNDEFINED);
    let log = events();
    let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
    listen(&cart, &log, "error");
    pause(0).await;
    assert_cart_error(&recorded(&log)[0].1, "STORAGE_UNAVAILABLE");
    assert_eq!(cart.persistence().unwrap(), "memory");
    let v = cart.add_item(item("mug", 2)).unwrap();
    assert_eq!(rust(&v)["lineItems"][0]["quantity"], json!(2));
    let unreadable = throwing_storage(true, JsValue::UNDEFINED);
    let cart = Cart::open(options(&unreadable, "k", json!({}))).unwrap();
    assert_eq!(cart.persistence().unwrap(), "memory");
}

#[wasm_bindgen_test]
async fn an_expired_cart_raises_expired_and_a_new_one_starts() {
    let storage = memory_storage();
    let clock = make_clock(T0);
    let o = options(&storage, "k", json!({"ttlSeconds": 3600}));
    set(&o, "now", &get(&clock, "now"));
    let cart = Cart::open(o.clone()).unwrap();
    let old = rust(&cart.add_item(item("mug", 1)).unwrap())["id"].clone();
    set(&clock, "ms", &JsValue::from_f64(T0 + DAY));
    let log = events();
    let again = Cart::open(o).unwrap();
    listen(&again, &log, "expired");
    pause(0).await;
    let got = recorded(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(rust(&got[0].1)["id"], old);
    assert_ne!(rust(&view(&again))["id"], old);
}

// ------------------------------------------------------------------------------------------------ events and errors

#[wasm_bindgen_test]
async fn a_listener_that_keeps_changing_the_cart_is_stopped_and_the_module_lives_on() {
    let cart = Cart::open(options(&memory_storage(), "k", json!({}))).unwrap();
    let log = events();
    listen(&cart, &log, "error");
    // The listener calls back into the very cart (as `cart.subscribe(() => cart.addItem(...))` does).
    let this: JsValue = cart.into();
    let add: Function = get(&this, "addItem").unchecked_into();
    let subscribe: Function = get(&this, "subscribe").unchecked_into();
    let again = Closure::<dyn FnMut(JsValue)>::new({
        let this = this.clone();
        move |_view: JsValue| {
            let _ = add.call1(&this, &item("mug", 1));
        }
    });
    subscribe.call1(&JsValue::NULL, again.as_ref()).unwrap();
    let first: Function = get(&this, "addItem").unchecked_into();
    first.call1(&this, &item("mug", 1)).unwrap();
    pause(0).await;
    let got = recorded(&log);
    assert_eq!(got.len(), 1, "stopped once");
    assert_cart_error(&got[0].1, "LISTENER_LOOP");
    let view_fn: Function = get(&this, "view").unchecked_into();
    let quantity = rust(&view_fn.call0(&JsValue::NULL).unwrap())["lineItems"][0]["quantity"].clone();
    assert_eq!(
        quantity,
        json!(101),
        "the first change and the 100 the listener was allowed"
    );
    // The module is alive: another cart, and this one outside a listener, still work.
    let other = Cart::open(options(&memory_storage(), "k2", json!({}))).unwrap();
    assert_eq!(
        rust(&other.add_item(item("tee", 1)).unwrap())["lineItems"][0]["quantity"],
        json!(1)
    );
    drop(again);
}

#[wasm_bindgen_test]
async fn a_change_that_changes_nothing_notifies_nobody() {
    let cart = Cart::open(options(&memory_storage(), "k", json!({}))).unwrap();
    let before = cart.add_item(item("mug", 2)).unwrap();
    let log = events();
    listen(&cart, &log, "change");
    let same = cart
        .change_quantity(JsValue::from_str("li_1"), JsValue::from_f64(2.0))
        .unwrap();
    pause(0).await;
    assert!(Object::is(&same, &before), "the same view object");
    assert_eq!(get(&same, "version").as_f64(), Some(1.0));
    assert!(recorded(&log).is_empty());
}

#[wasm_bindgen_test]
fn amounts_beyond_what_javascript_holds_exactly_are_refused() {
    let products: Vec<Value> = (0..100)
        .map(|i| {
            json!({"id": format!("p{i}"), "name": format!("P{i}"), "taxCategory": "std",
                        "prices": [{"currency": "EUR", "amount": "99999999.99"}]})
        })
        .collect();
    let catalog =
        json!({"taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}], "products": products});
    let o = js(&json!({"catalog": catalog, "currency": "EUR", "country": "DE", "storage": "memory"}));
    let cart = Cart::open(o).unwrap();
    let mut refused = None;
    for i in 0..100 {
        match cart.add_item(js(&json!({"productId": format!("p{i}"), "quantity": 9999}))) {
            Ok(v) => assert!(get(&get(&v, "totals"), "total").as_f64().unwrap() <= 9_007_199_254_740_991.0),
            Err(e) => {
                assert_cart_error(&e, "AMOUNT_OUT_OF_RANGE");
                refused = Some(i);
                break;
            }
        }
    }
    assert_eq!(refused, Some(90));
    assert_eq!(
        rust(&view(&cart))["lineItems"].as_array().unwrap().len(),
        90,
        "the refused change left nothing"
    );
}

#[wasm_bindgen_test]
fn errors_cross_the_boundary_with_their_codes() {
    let cart = Cart::open(options(&memory_storage(), "k", json!({}))).unwrap();
    assert_cart_error(&cart.add_item(item("nope", 1)).unwrap_err(), "INVALID_ITEM");
    assert_cart_error(&cart.add_item(item("mug", 0)).unwrap_err(), "INVALID_QUANTITY");
    assert_cart_error(&cart.add_item(JsValue::from_str("mug")).unwrap_err(), "INVALID_REQUEST");
    assert_cart_error(
        &cart.apply_code(JsValue::from_str("NOPE")).unwrap_err(),
        "INVALID_PROMO_CODE",
    );
    let e = cart
        .apply(js(&json!([{"action": "clear"}])), js(&json!({"expectedVersion": 7})))
        .unwrap_err();
    assert_cart_error(&e, "CONCURRENT_MODIFICATION");
    assert_eq!(rust(&get(&e, "details")), json!({"expectedVersion": 7, "version": 0}));
    let e = cart.on(JsValue::from_str("nope"), JsValue::NULL).unwrap_err();
    assert_cart_error(&e, "INVALID_REQUEST");
    assert!(!is_cart_error(JsValue::from_str("CartError")));
    // A bound `view` kept after the cart is gone says so with a code.
    let view_fn: Function = cart.view_fn().unchecked_into();
    drop(cart);
    assert_cart_error(&view_fn.call0(&JsValue::NULL).unwrap_err(), "CART_FREED");
}

/// The scripted fake fetch (see `installFetch`); restored when dropped.
struct FakeFetch(JsValue);

impl FakeFetch {
    fn install(script: Value) -> FakeFetch {
        FakeFetch(install_fetch(js(&script)))
    }

    fn calls(&self) -> Vec<JsValue> {
        get(&self.0, "calls").unchecked_into::<js_sys::Array>().iter().collect()
    }
}

impl Drop for FakeFetch {
    fn drop(&mut self) {
        let f: Function = get(&self.0, "restore").unchecked_into();
        let _ = f.call0(&self.0);
    }
}

fn header(call: &JsValue, name: &str) -> String {
    get(&get(call, "headers"), name).as_string().unwrap_or_default()
}

/// A SPEC-B order answer for `view`.
fn order_answer(order_id: &str, view: &JsValue) -> Value {
    json!({"status": 200, "body": {
        "orderId": order_id, "status": "confirmed", "confirmationNumber": "CONF-2026-11-21-ABC123",
        "paymentMethodId": "pm_card_visa", "currency": "EUR", "total": 1, "createdAt": "2026-11-21T12:00:00Z",
        "orders": [{"orderId": format!("{order_id}_store"), "vendor": "store", "status": "confirmed", "items": [],
                    "subtotal": 1, "discountTotal": 0, "tax": 0, "total": 1}],
        "cart": {}, "view": rust(view)}})
}

fn refusal(status: u16, code: &str, details: Value) -> Value {
    json!({"status": status, "body": {"error": {"code": code, "message": format!("{code} (test)"), "details": details}}})
}

/// Checkout options: the API, a card, the recording `sleep`, plus `extra`.
fn checkout_options(delays: &js_sys::Array, extra: Value) -> JsValue {
    let mut o = json!({"endpoint": API, "paymentMethodId": "pm_card_visa"});
    if let (Value::Object(o), Value::Object(extra)) = (&mut o, extra) {
        o.extend(extra);
    }
    let o = js(&o);
    set(&o, "sleep", &sleep_recorder(delays));
    o
}

/// Awaits a promise: `Ok(value)` or `Err(rejection)`.
async fn outcome(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    let settled = JsFuture::from(settled(&promise)).await.unwrap();
    if get(&settled, "ok").as_bool() == Some(true) {
        Ok(get(&settled, "value"))
    } else {
        Err(get(&settled, "error"))
    }
}

fn assert_checkout_error(e: &JsValue, expected: &str, status: u16) {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    assert_eq!(get(e, "name").as_string().as_deref(), Some("CheckoutError"));
    assert_eq!(code(e), expected, "message: {:?}", get(e, "message").as_string());
    assert_eq!(get(e, "status").as_f64(), Some(f64::from(status)));
    assert!(get(e, "details").is_object(), "details must be an object");
    assert!(is_checkout_error(e.clone()));
    assert!(!is_cart_error(e.clone()));
}

/// A cart on a fresh memory storage with two mugs and a tee.
fn filled_cart(storage: &JsValue) -> (Cart, JsValue) {
    let cart = Cart::open(options(storage, "shop", json!({"locale": "de-DE"}))).unwrap();
    cart.add_item(item("mug", 2)).unwrap();
    let v = cart.add_item(item("tee", 1)).unwrap();
    (cart, v)
}

// ------------------------------------------------------------------------------------------------ checkout

#[wasm_bindgen_test]
async fn checkout_goes_through_fetch_retries_through_sleep_and_resolves_with_the_order() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let log = events();
    listen(&cart, &log, "ordered");
    let fake = FakeFetch::install(json!([
        {"status": 503, "body": {"error": {"code": "UNAVAILABLE", "message": "busy"}}, "headers": {"Retry-After": "2"}},
        {"network": true},
        order_answer("ord_1", &v)
    ]));
    let delays = js_sys::Array::new();
    let order = outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap();
    assert_eq!(get(&order, "orderId").as_string().as_deref(), Some("ord_1"));
    assert_eq!(get(&order, "protocol").as_string().as_deref(), Some("spec-b"));
    let calls = fake.calls();
    assert_eq!(calls.len(), 3);
    let key = header(&calls[0], "X-Idempotency-Key");
    assert!(calls.iter().all(|c| header(c, "X-Idempotency-Key") == key));
    assert_ne!(header(&calls[0], "X-Request-ID"), header(&calls[1], "X-Request-ID"));
    assert_eq!(
        get(&calls[0], "url").as_string().unwrap(),
        format!("{API}/carts/{}/checkout", rust(&v)["id"].as_str().unwrap())
    );
    assert_eq!(delays.get(0).as_f64(), Some(2000.0), "Retry-After: 2");
    pause(0).await;
    let got = recorded(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(rust(&got[0].1)["order"]["orderId"], json!("ord_1"));
    assert_eq!(rust(&got[0].1)["cart"]["status"], json!("ordered"));
    let now = rust(&view(&cart));
    assert_ne!(now["id"], rust(&v)["id"], "a new cart");
    assert_eq!(rust(&cart.orders().unwrap())[0]["orderId"], json!("ord_1"));
    assert!(cart.pending_checkout().unwrap().is_null());
}

#[wasm_bindgen_test]
async fn a_request_without_an_answer_is_aborted_after_its_timeout() {
    let storage = memory_storage();
    let (cart, _) = filled_cart(&storage);
    let fake = FakeFetch::install(json!([{"hang": true}]));
    let delays = js_sys::Array::new();
    let e = outcome(cart.checkout(checkout_options(&delays, json!({"timeoutMs": 50, "retries": 0}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "TIMEOUT", 0);
    assert_eq!(get(&fake.calls()[0], "aborted").as_bool(), Some(true));
    assert_eq!(rust(&cart.pending_checkout().unwrap())["state"], json!("failed"));
}

#[wasm_bindgen_test]
async fn a_refusal_rejects_with_a_checkout_error_and_leaves_the_cart_as_it_was() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let _fake = FakeFetch::install(json!([refusal(
        402,
        "PAYMENT_FAILED",
        json!({"declineCode": "card_declined"})
    )]));
    let delays = js_sys::Array::new();
    let e = outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "PAYMENT_FAILED", 402);
    assert_eq!(rust(&get(&e, "details"))["declineCode"], json!("card_declined"));
    assert!(Object::is(&view(&cart), &v), "the same view");
    assert!(cart.pending_checkout().unwrap().is_null());
    let e = outcome(cart.checkout(js(&json!({"endpoint": " "})))).await.unwrap_err();
    assert_checkout_error(&e, "INVALID_REQUEST", 0);
}

#[wasm_bindgen_test]
async fn a_checkout_queued_offline_is_sent_once_on_the_online_event() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let log = events();
    listen(&cart, &log, "ordered");
    let fake = FakeFetch::install(json!([order_answer("ord_8", &v)]));
    let delays = js_sys::Array::new();
    set_online(false);
    let e = outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "OFFLINE", 0);
    let queued = outcome(cart.checkout(checkout_options(&delays, json!({"whenOffline": "queue"}))))
        .await
        .unwrap();
    assert_eq!(rust(&queued)["status"], json!("queued"));
    assert_eq!(rust(&cart.pending_checkout().unwrap())["state"], json!("queued"));
    set_online(true);
    dispatch_online();
    dispatch_online();
    until("the ordered event", || log.length() == 1).await;
    reset_online();
    assert_eq!(fake.calls().len(), 1, "sent once");
    assert_eq!(
        header(&fake.calls()[0], "X-Idempotency-Key"),
        rust(&queued)["idempotencyKey"].as_str().unwrap()
    );
    assert!(cart.pending_checkout().unwrap().is_null());
}

#[wasm_bindgen_test]
async fn accepted_server_prices_are_shown_until_the_cart_changes() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let mut server_view = rust(&v);
    server_view["lineItems"][0]["unitPrice"] = json!(1200);
    server_view["lineItems"][0]["total"] = json!(2400);
    server_view["totals"]["total"] = json!(4899);
    let details = json!({"expected": {}, "actual": {}, "view": server_view});
    let lines = cart.accept_server_prices(js(&details)).unwrap();
    assert_eq!(rust(&lines)[0]["newUnitPrice"], json!(1200));
    assert_eq!(rust(&get(&lines, "total"))["newTotal"], json!(4899));
    assert_eq!(rust(&view(&cart))["totals"]["total"], json!(4899));
    cart.add_item(item("mug", 1)).unwrap();
    assert_ne!(
        rust(&view(&cart))["totals"]["total"],
        json!(4899),
        "a change ends the quote"
    );
}
