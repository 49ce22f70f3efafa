//! The `Cart` class in headless Chromium (wasm-bindgen-test): persistence and reload, every kind of
//! corrupt blob, a throwing storage, two instances on one storage acting as two tabs, `storage`
//! events, the other events, subscriptions, view identity, and errors crossing the boundary; and
//! `checkout()` against a scripted fake `fetch` on `globalThis` (retries, keys, timeouts, errors,
//! prices, archive, reload, offline queue). No test asserts on timing: waits go through `sleep`.
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
use wasm_cart::web::{is_cart_error, is_checkout_error, Cart};
use wasm_cart::{snapshot, Timestamp};

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
    #[wasm_bindgen(js_name = dispatchStorage)]
    fn dispatch_storage(key: &str);
    fn tick() -> js_sys::Promise;
    fn local() -> JsValue;
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

fn catalog_with(mug_price: &str) -> Value {
    json!({
        "version": format!("test#{mug_price}"),
        "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19", "name": "MwSt 19%"}]}],
        "products": [
            {"id": "mug", "sku": "MUG", "name": "Mug", "taxCategory": "std",
             "prices": [{"currency": "EUR", "amount": mug_price}]},
            {"id": "tee", "sku": "TEE", "name": "Tee", "taxCategory": "std", "maxQuantity": 5,
             "prices": [{"currency": "EUR", "amount": "20.00"}]},
            {"id": "lic", "sku": "LIC", "name": "Licence", "taxCategory": "std", "shippable": false,
             "requiredAttributes": ["domain"], "prices": [{"currency": "EUR", "amount": "12.50"}]}
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

fn with_clock(o: JsValue, clock: &JsValue) -> JsValue {
    set(&o, "now", &get(clock, "now"));
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

async fn next_tick() {
    JsFuture::from(tick()).await.unwrap();
}

fn assert_cart_error(e: &JsValue, expected: &str) {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    assert_eq!(get(e, "name").as_string().as_deref(), Some("CartError"));
    assert_eq!(code(e), expected, "message: {:?}", get(e, "message").as_string());
    assert!(get(e, "details").is_object(), "details must be an object");
    assert!(is_cart_error(e.clone()));
}

// ------------------------------------------------------------------------------------------------

#[wasm_bindgen_test]
fn persists_every_change_and_reloads_offline_from_the_cached_catalog() {
    clear_local("t-persist");
    let storage = local();
    let cart = Cart::open(options(&JsValue::from_str("local"), "t-persist", json!({}))).unwrap();
    assert_eq!(cart.persistence().unwrap(), "local");
    cart.add_item(item("mug", 2)).unwrap();
    let v = cart.apply_code(JsValue::from_str("SUMMER")).unwrap();
    assert_eq!(get(&get(&v, "totals"), "total").as_f64(), Some(2299.0)); // 20.00 - 2.00 + 4.99

    let blob: Value = serde_json::from_str(&stored(&storage, "t-persist").unwrap()).unwrap();
    assert_eq!(blob["schema"], json!(1));
    assert!(blob["checksum"].as_str().is_some_and(|c| c.len() == 16));
    assert_eq!(blob["cart"]["version"], json!(2));
    assert_eq!(blob["cart"]["lineItems"][0]["productId"], json!("mug"));
    assert!(
        blob.get("totals").is_none() && blob["cart"].get("totals").is_none(),
        "state only, never the view"
    );
    assert!(stored(&storage, "t-persist:catalog").is_some());
    let id = get(&v, "id");
    drop(cart);

    // A reload without a catalog (offline): the cached one prices the restored cart.
    let again = Cart::open(js(&json!({"storageKey": "t-persist"}))).unwrap();
    let v2 = view(&again);
    assert_eq!(get(&v2, "id"), id);
    assert_eq!(get(&v2, "version").as_f64(), Some(2.0));
    assert_eq!(rust(&get(&v2, "totals"))["total"], json!(2299));
    assert_eq!(rust(&get(&v2, "discountCodes"))[0]["state"], json!("applied"));
    clear_local("t-persist");
}

#[wasm_bindgen_test]
fn without_a_catalog_and_without_a_cache_open_refuses() {
    clear_local("t-nocat");
    let e = Cart::open(js(&json!({"storageKey": "t-nocat", "currency": "EUR"})))
        .err()
        .unwrap();
    assert_cart_error(&e, "INVALID_REQUEST");
    assert_eq!(rust(&get(&e, "details"))["field"], json!("catalog"));
    let e = Cart::open(js(
        &json!({"catalog": {"products": [{"id": "x"}]}, "storage": "memory"}),
    ))
    .err()
    .unwrap();
    assert_cart_error(&e, "INVALID_CATALOG");
}

#[wasm_bindgen_test]
async fn each_corrupt_blob_is_kept_aside_and_reported() {
    let good = {
        let s = memory_storage();
        let cart = Cart::open(options(&s, "k", json!({}))).unwrap();
        cart.add_item(item("mug", 2)).unwrap();
        stored(&s, "k").unwrap()
    };
    let cases = [
        ("notJson", "{\"schema\":1,\"cart\":{\"id\":".to_string()),
        ("notJson", "garbage".to_string()),
        ("badChecksum", good.replace("\"quantity\":2", "\"quantity\":7")),
        ("newerSchema", good.replace("\"schema\":1", "\"schema\":99")),
        ("notASnapshot", "[1,2,3]".to_string()),
        ("notASnapshot", "{\"hello\":\"world\"}".to_string()),
    ];
    for (reason, blob) in cases {
        let storage = memory_storage();
        put(&storage, "k", &blob);
        let clock = make_clock(T0);
        let cart = Cart::open(with_clock(options(&storage, "k", json!({})), &clock)).unwrap();
        let log = events();
        listen(&cart, &log, "error");
        next_tick().await;

        // A fresh cart replaced it...
        let v = view(&cart);
        assert_eq!(get(&v, "version").as_f64(), Some(0.0), "{reason}");
        assert_eq!(get(&get(&v, "lineItems"), "length").as_f64(), Some(0.0));
        let fresh = snapshot::decode(&stored(&storage, "k").unwrap()).unwrap();
        assert_eq!(fresh.cart.id(), get(&v, "id").as_string().unwrap());
        // ...the blob is kept, byte for byte, under <key>:corrupt:<millis>...
        let corrupt_key = format!("k:corrupt:{}", T0 as i64);
        assert_eq!(storage_keys(&storage, "k:corrupt:"), vec![corrupt_key.clone()]);
        assert_eq!(stored(&storage, &corrupt_key).as_deref(), Some(blob.as_str()));
        // ...and an error event says what and where.
        let got = recorded(&log);
        assert_eq!(got.len(), 1, "{reason}: {got:?}");
        let (name, e) = &got[0];
        assert_eq!(name, "error");
        assert_cart_error(e, "INVALID_SNAPSHOT");
        let details = rust(&get(e, "details"));
        assert_eq!(details["reason"], json!(reason));
        assert_eq!(details["corruptKey"], json!(corrupt_key));
        assert_eq!(details["key"], json!("k"));
        assert_eq!(cart.persistence().unwrap(), "custom");
    }
}

#[wasm_bindgen_test]
async fn a_second_corruption_at_the_same_millisecond_does_not_overwrite_the_first() {
    let storage = memory_storage();
    put(&storage, "k", "first");
    let clock = make_clock(T0);
    drop(Cart::open(with_clock(options(&storage, "k", json!({})), &clock)).unwrap());
    put(&storage, "k", "second");
    drop(Cart::open(with_clock(options(&storage, "k", json!({})), &clock)).unwrap());
    let base = format!("k:corrupt:{}", T0 as i64);
    assert_eq!(stored(&storage, &base).as_deref(), Some("first"));
    assert_eq!(stored(&storage, &format!("{base}-2")).as_deref(), Some("second"));
}

#[wasm_bindgen_test]
async fn a_corrupt_blob_that_cannot_be_kept_is_never_overwritten() {
    let storage = throwing_storage(false, js(&json!({"k": "{corrupt"})));
    let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
    let log = events();
    listen(&cart, &log, "error");
    next_tick().await;
    assert_eq!(cart.persistence().unwrap(), "memory");
    assert_eq!(stored(&storage, "k").as_deref(), Some("{corrupt"));
    let codes: Vec<String> = recorded(&log).iter().map(|(_, e)| code(e)).collect();
    assert_eq!(codes, ["INVALID_SNAPSHOT", "STORAGE_UNAVAILABLE"]);
    cart.add_item(item("mug", 1)).unwrap();
    assert_eq!(stored(&storage, "k").as_deref(), Some("{corrupt"));
}

#[wasm_bindgen_test]
fn an_older_schema_is_migrated_and_written_back() {
    let storage = memory_storage();
    let blob = json!({"savedAt": "2026-11-20T09:00:00Z", "cart": {
        "id": "cart_old", "version": 4, "currency": "EUR", "country": "DE", "customerId": "c-1",
        "items": [{"id": "li_1", "productId": "mug", "sku": "MUG", "name": "Mug", "quantity": 3}],
        "codes": ["SUMMER"], "createdAt": "2026-11-20T08:00:00Z", "updatedAt": "2026-11-20T09:00:00Z"}});
    put(&storage, "k", &blob.to_string());
    let clock = make_clock(T0);
    let cart = Cart::open(with_clock(options(&storage, "k", json!({})), &clock)).unwrap();
    let v = rust(&view(&cart));
    assert_eq!(v["id"], json!("cart_old"));
    assert_eq!(v["lineItems"][0]["quantity"], json!(3));
    assert_eq!(v["customer"]["id"], json!("c-1"));
    assert_eq!(v["totals"]["discountTotal"], json!(-300));
    let rewritten: Value = serde_json::from_str(&stored(&storage, "k").unwrap()).unwrap();
    assert_eq!(rewritten["schema"], json!(1));
    assert_eq!(rewritten["cart"]["lineItems"][0]["id"], json!("li_1"));
    // New lines continue the id sequence.
    let v = rust(&cart.add_item(item("tee", 1)).unwrap());
    assert_eq!(v["lineItems"][1]["id"], json!("li_2"));
}

#[wasm_bindgen_test]
async fn a_throwing_storage_degrades_to_memory_with_an_error_event() {
    for (reads_fail, operation) in [(false, "write"), (true, "read")] {
        let storage = throwing_storage(reads_fail, JsValue::UNDEFINED);
        let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
        let log = events();
        listen(&cart, &log, "error");
        next_tick().await;
        assert_eq!(cart.persistence().unwrap(), "memory");
        let got = recorded(&log);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_cart_error(&got[0].1, "STORAGE_UNAVAILABLE");
        let details = rust(&get(&got[0].1, "details"));
        assert_eq!(details["operation"], json!(operation));
        let cause = details["cause"].as_str().unwrap().to_string();
        assert!(
            cause.contains(if reads_fail {
                "SecurityError"
            } else {
                "QuotaExceededError"
            }),
            "{cause}"
        );

        // The cart keeps working, in memory, without more errors.
        let v = rust(&cart.add_item(item("mug", 2)).unwrap());
        assert_eq!(v["totals"]["subtotal"], json!(2000));
        let v = rust(
            &cart
                .change_quantity(JsValue::from_str("li_1"), JsValue::from(3))
                .unwrap(),
        );
        assert_eq!(v["version"], json!(2));
        assert_eq!(recorded(&log).len(), 1);
    }
}

#[wasm_bindgen_test]
async fn a_storage_that_fails_later_switches_to_memory_without_failing_the_call() {
    let storage = memory_storage();
    let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
    let log = events();
    listen(&cart, &log, "error");
    cart.add_item(item("mug", 1)).unwrap();
    // The quota runs out.
    let broken = throwing_storage(false, JsValue::UNDEFINED);
    set(&storage, "setItem", &get(&broken, "setItem"));
    let v = rust(&cart.add_item(item("tee", 1)).unwrap());
    assert_eq!(v["lineItems"].as_array().unwrap().len(), 2);
    assert_eq!(cart.persistence().unwrap(), "memory");
    assert_eq!(
        recorded(&log).iter().map(|(_, e)| code(e)).collect::<Vec<_>>(),
        ["STORAGE_UNAVAILABLE"]
    );
}

#[wasm_bindgen_test]
fn two_tabs_on_one_storage_lose_no_update() {
    clear_local("t-tabs");
    let a = Cart::open(options(&JsValue::from_str("local"), "t-tabs", json!({}))).unwrap();
    let b = Cart::open(options(&JsValue::from_str("local"), "t-tabs", json!({}))).unwrap();
    assert_eq!(get(&view(&a), "id"), get(&view(&b), "id"), "B opened A's cart");
    let b_log = events();
    listen(&b, &b_log, "change");

    a.add_item(item("mug", 1)).unwrap();
    // B still shows version 0, but its change goes onto A's version 1.
    let v = rust(&b.add_item(item("tee", 1)).unwrap());
    assert_eq!(v["version"], json!(2));
    assert_eq!(
        v["lineItems"].as_array().unwrap().len(),
        2,
        "A's mug survived B's write"
    );
    assert_eq!(recorded(&b_log).len(), 1, "one change event for reload + change");
    let v = rust(&a.apply_code(JsValue::from_str("SUMMER")).unwrap());
    assert_eq!(v["version"], json!(3));
    assert_eq!(
        v["lineItems"].as_array().unwrap().len(),
        2,
        "B's tee survived A's write"
    );
    assert_eq!(v["discountCodes"][0]["code"], json!("SUMMER"));
    let blob = snapshot::decode(&stored(&local(), "t-tabs").unwrap()).unwrap();
    assert_eq!(blob.cart.version(), 3);

    // Optimistic concurrency: B saw version 2; the cart is at 3 now.
    let before = stored(&local(), "t-tabs");
    let e = b
        .apply(js(&json!([{"action": "clear"}])), js(&json!({"expectedVersion": 2})))
        .unwrap_err();
    assert_cart_error(&e, "CONCURRENT_MODIFICATION");
    assert_eq!(rust(&get(&e, "details")), json!({"expectedVersion": 2, "version": 3}));
    assert_eq!(
        stored(&local(), "t-tabs"),
        before,
        "a refused call leaves storage as it was"
    );
    assert_eq!(rust(&view(&b))["version"], json!(3), "but B now shows the newer cart");
    let v = rust(
        &b.apply(js(&json!([{"action": "clear"}])), js(&json!({"expectedVersion": 3})))
            .unwrap(),
    );
    assert_eq!(v["version"], json!(4));
    drop((a, b));
    clear_local("t-tabs");
}

#[wasm_bindgen_test]
fn a_storage_event_reloads_the_cart_and_notifies() {
    clear_local("t-event");
    let a = Cart::open(options(&JsValue::from_str("local"), "t-event", json!({}))).unwrap();
    let b = Cart::open(options(&JsValue::from_str("local"), "t-event", json!({}))).unwrap();
    let log = events();
    let off = a.subscribe_fn().unchecked_into::<Function>();
    let off = off.call1(&JsValue::NULL, &recorder(&log, "subscribe")).unwrap();
    listen(&a, &log, "change");
    let before = view(&a);

    b.add_item(item("mug", 4)).unwrap();
    assert_eq!(log.length(), 0, "no storage event within one document");
    dispatch_storage("t-event"); // what the browser does in the other tab
    let got = recorded(&log);
    assert_eq!(
        got.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["subscribe", "change"]
    );
    let v = view(&a);
    assert!(!JsValue::eq(&v, &before));
    assert!(
        js_sys::Object::is(&got[0].1, &v),
        "listeners get the view object itself"
    );
    assert_eq!(rust(&v)["lineItems"][0]["quantity"], json!(4));

    // Unrelated keys are ignored; a repeated event with nothing new does not notify.
    dispatch_storage("t-event-other");
    dispatch_storage("t-event");
    assert_eq!(log.length(), 2);

    // A new catalog cached by the other tab reprices this one.
    off.unchecked_into::<Function>().call0(&JsValue::NULL).unwrap();
    b.set_catalog(js(&catalog_with("11.00"))).unwrap();
    dispatch_storage("t-event:catalog");
    dispatch_storage("t-event");
    let v = rust(&view(&a));
    assert_eq!(v["lineItems"][0]["unitPrice"], json!(1100));
    assert_eq!(v["issues"][0]["code"], json!("PRICE_CHANGED"));
    assert!(
        recorded(&log).iter().skip(2).all(|(n, _)| n == "change"),
        "unsubscribed"
    );
    drop((a, b));
    clear_local("t-event");
}

#[wasm_bindgen_test]
fn an_order_placed_in_another_tab_raises_ordered() {
    clear_local("t-ordered");
    let a = Cart::open(options(&JsValue::from_str("local"), "t-ordered", json!({}))).unwrap();
    a.add_item(item("mug", 1)).unwrap();
    let log = events();
    listen(&a, &log, "ordered");
    // The other tab's checkout marks the cart ordered and writes it.
    let mut restored = snapshot::decode(&a.snapshot().unwrap()).unwrap();
    let now = Timestamp::from_millis(js_sys::Date::now() as i64);
    restored.cart.mark_ordered(now).unwrap();
    put(&local(), "t-ordered", &snapshot::encode(&restored.cart, now).unwrap());
    dispatch_storage("t-ordered");
    let got = recorded(&log);
    assert_eq!(got.len(), 1);
    let payload = rust(&got[0].1);
    assert_eq!(payload["cart"]["status"], json!("ordered"));
    assert_eq!(payload["order"], Value::Null); // that tab archived no order
    let e = a.add_item(item("mug", 1)).unwrap_err();
    assert_cart_error(&e, "CART_NOT_ACTIVE");
    drop(a);
    clear_local("t-ordered");
}

#[wasm_bindgen_test]
async fn an_expired_cart_raises_expired_and_starts_fresh() {
    let storage = memory_storage();
    let clock = make_clock(T0);
    let old_id = {
        let cart = Cart::open(with_clock(options(&storage, "k", json!({"ttlSeconds": 3600})), &clock)).unwrap();
        let v = cart.add_item(item("mug", 2)).unwrap();
        get(&v, "id")
    };
    set(&clock, "ms", &JsValue::from(T0 + 2.0 * 3_600_000.0));
    let cart = Cart::open(with_clock(options(&storage, "k", json!({})), &clock)).unwrap();
    let log = events();
    listen(&cart, &log, "expired");
    next_tick().await;
    let got = recorded(&log);
    assert_eq!(got.len(), 1);
    let old = rust(&got[0].1);
    assert_eq!(JsValue::from_str(old["id"].as_str().unwrap()), old_id);
    assert_eq!(old["lineItems"][0]["quantity"], json!(2));
    assert!(old["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == json!("CART_EXPIRED")));
    let v = rust(&view(&cart));
    assert_ne!(JsValue::from_str(v["id"].as_str().unwrap()), old_id);
    assert_eq!(v["lineItems"], json!([]));
    assert_eq!(v["currency"], json!("EUR"));
    let blob = snapshot::decode(&stored(&storage, "k").unwrap()).unwrap();
    assert_eq!(
        blob.cart.id(),
        v["id"].as_str().unwrap(),
        "the fresh cart replaced the expired one in storage"
    );

    // A cart that expires while open is renewed on the next change.
    set(&clock, "ms", &JsValue::from(T0 + 40.0 * DAY));
    let v = rust(&cart.add_item(item("tee", 1)).unwrap());
    assert_eq!(v["version"], json!(1));
    assert_eq!(recorded(&log).len(), 2);
}

#[wasm_bindgen_test]
fn subscriptions_and_view_identity() {
    let cart = Cart::open(options(&JsValue::from_str("memory"), "k", json!({}))).unwrap();
    let v0 = view(&cart);
    assert!(
        js_sys::Object::is(&v0, &view(&cart)),
        "same object until the cart changes"
    );
    // `cart.view` and `cart.subscribe` are the same bound functions every time.
    assert!(js_sys::Object::is(&cart.view_fn(), &cart.view_fn()));
    assert!(js_sys::Object::is(&cart.subscribe_fn(), &cart.subscribe_fn()));

    let log = events();
    let unsubscribe = cart
        .subscribe_fn()
        .unchecked_into::<Function>()
        .call1(&JsValue::NULL, &recorder(&log, "view"))
        .unwrap();
    let v1 = cart.add_item(item("mug", 1)).unwrap();
    assert!(!js_sys::Object::is(&v0, &v1));
    assert!(
        js_sys::Object::is(&v1, &view(&cart)),
        "the returned view is the cached view"
    );
    let v2 = cart.add_item(item("tee", 1)).unwrap();
    let (mug1, mug2) = (at(&get(&v1, "lineItems"), 0), at(&get(&v2, "lineItems"), 0));
    assert!(js_sys::Object::is(&mug1, &mug2), "an unchanged line keeps its object");
    let v3 = cart
        .change_quantity(JsValue::from_str("li_2"), JsValue::from(2))
        .unwrap();
    assert!(js_sys::Object::is(&mug2, &at(&get(&v3, "lineItems"), 0)));
    assert!(!js_sys::Object::is(
        &at(&get(&v2, "lineItems"), 1),
        &at(&get(&v3, "lineItems"), 1)
    ));
    // A code discounts every line: every line object changes.
    let v4 = cart.apply_code(JsValue::from_str("SUMMER")).unwrap();
    assert!(!js_sys::Object::is(&mug2, &at(&get(&v4, "lineItems"), 0)));

    let got = recorded(&log);
    assert_eq!(got.len(), 4);
    assert!(js_sys::Object::is(&got[3].1, &v4));
    unsubscribe.unchecked_into::<Function>().call0(&JsValue::NULL).unwrap();
    cart.clear().unwrap();
    assert_eq!(log.length(), 4, "unsubscribed");

    // A refused call changes nothing, not even the view object.
    let before = view(&cart);
    assert!(cart.remove_item(JsValue::from_str("li_9"), JsValue::UNDEFINED).is_err());
    assert!(js_sys::Object::is(&before, &view(&cart)));
}

#[wasm_bindgen_test]
fn errors_cross_the_boundary_with_their_codes() {
    let storage = memory_storage();
    let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
    cart.add_item(item("mug", 1)).unwrap();
    let before = stored(&storage, "k");
    let cases: Vec<(Result<JsValue, JsValue>, &str)> = vec![
        (cart.add_item(item("mug", 0)), "INVALID_QUANTITY"),
        (cart.change_quantity(JsValue::from_str("li_1"), JsValue::from(1.5)), "INVALID_QUANTITY"),
        (cart.add_item(item("tee", 6)), "INVALID_QUANTITY"),
        (cart.add_item(item("nope", 1)), "INVALID_ITEM"),
        (cart.remove_item(JsValue::from_str("li_7"), JsValue::UNDEFINED), "ITEM_NOT_FOUND"),
        (cart.apply_code(JsValue::from_str("WINTER")), "INVALID_PROMO_CODE"),
        (cart.add_item(JsValue::from_str("mug")), "INVALID_REQUEST"),
        (cart.apply(js(&json!([{"action": "fly"}])), JsValue::UNDEFINED), "INVALID_REQUEST"),
        (cart.apply(js(&json!({"action": "clear"})), JsValue::UNDEFINED), "INVALID_REQUEST"),
        (cart.set_shipping_method(JsValue::from_str("teleport")), "INVALID_REQUEST"),
        (cart.set_shipping_address(js(&json!({"country": "Germany"}))), "INVALID_REQUEST"),
        (cart.set_catalog(js(&json!({"products": [{"id": 1}]}))), "INVALID_CATALOG"),
        (cart.set_catalog(JsValue::from_str("{not json")), "INVALID_CATALOG"),
        (
            cart.apply(js(&json!([{"action": "addLineItem", "productId": "tee"}, {"action": "addLineItem", "productId": "nope"}])), JsValue::UNDEFINED),
            "INVALID_ITEM",
        ),
        (cart.on(JsValue::from_str("click"), JsValue::NULL), "INVALID_REQUEST"),
    ];
    for (result, expected) in cases {
        assert_cart_error(&result.unwrap_err(), expected);
    }
    assert_eq!(stored(&storage, "k"), before, "refused calls leave storage as it was");
    let v = rust(&view(&cart));
    assert_eq!(
        (v["version"].clone(), v["lineItems"].as_array().unwrap().len()),
        (json!(1), 1)
    );
    let e = cart
        .apply(
            js(&json!([{"action": "addLineItem", "productId": "tee"}, {"action": "addLineItem", "productId": "nope"}])),
            JsValue::UNDEFINED,
        )
        .unwrap_err();
    assert_eq!(rust(&get(&e, "details"))["actionIndex"], json!(1));
    let e = Cart::from_snapshot(JsValue::from_str("{\"schema\":1}"), options(&storage, "k", json!({})))
        .err()
        .unwrap();
    assert_cart_error(&e, "INVALID_SNAPSHOT");
    let e = Cart::open(js(&json!({"catalog": catalog(), "storage": "nowhere"})))
        .err()
        .unwrap();
    assert_cart_error(&e, "INVALID_REQUEST");
    let e = Cart::open(js(&json!({"catalog": catalog(), "storage": "memory"})))
        .err()
        .unwrap();
    assert_cart_error(&e, "INVALID_REQUEST");
    assert_eq!(rust(&get(&e, "details"))["field"], json!("currency"));
    assert!(!is_cart_error(js_sys::Error::new("plain").into()));
}

#[wasm_bindgen_test]
fn merging_a_guest_cart_on_sign_in() {
    let storage = memory_storage();
    let guest = Cart::open(options(&storage, "guest", json!({}))).unwrap();
    guest.add_item(item("mug", 2)).unwrap();
    guest.add_item(item("tee", 4)).unwrap();
    guest.apply_code(JsValue::from_str("SUMMER")).unwrap();
    let mine = Cart::open(options(&storage, "mine", json!({"customerId": "c-7"}))).unwrap();
    mine.add_item(item("tee", 3)).unwrap();
    let log = events();
    listen(&guest, &log, "change");

    let v = rust(&mine.merge(&guest, js(&json!({"quantities": "sum"}))).unwrap());
    let lines: Vec<(Value, Value)> = v["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["productId"].clone(), l["quantity"].clone()))
        .collect();
    assert_eq!(
        lines,
        [(json!("tee"), json!(5)), (json!("mug"), json!(2))],
        "sum capped at maxQuantity 5"
    );
    assert_eq!(v["discountCodes"][0]["code"], json!("SUMMER"));
    assert_eq!(v["customer"]["id"], json!("c-7"));
    assert_eq!(rust(&view(&guest))["status"], json!("merged"));
    assert_eq!(log.length(), 1, "the guest cart notified its change");
    let stored_guest = snapshot::decode(&stored(&storage, "guest").unwrap()).unwrap();
    assert_eq!(stored_guest.cart.status(), wasm_cart::CartStatus::Merged);
    assert_eq!(
        rust(&mine.last_merge_report().unwrap()),
        json!({"skipped": [], "skippedCodes": []})
    );
    assert_cart_error(&guest.add_item(item("mug", 1)).unwrap_err(), "CART_NOT_ACTIVE");
    assert_cart_error(&mine.merge(&guest, JsValue::UNDEFINED).unwrap_err(), "CART_NOT_ACTIVE");
    assert_cart_error(&mine.merge(&mine, JsValue::UNDEFINED).unwrap_err(), "INVALID_REQUEST");
    assert_cart_error(
        &mine.merge(&guest, js(&json!({"quantities": "min"}))).unwrap_err(),
        "INVALID_REQUEST",
    );

    // Reopening the guest key gives the shopper a new, empty cart.
    let reopened = Cart::open(options(&storage, "guest", json!({}))).unwrap();
    let v = rust(&view(&reopened));
    assert_eq!(
        (v["status"].clone(), v["lineItems"].clone()),
        (json!("active"), json!([]))
    );
}

#[wasm_bindgen_test]
fn a_new_catalog_marks_moved_prices_and_is_cached() {
    let storage = memory_storage();
    let cart = Cart::open(options(&storage, "k", json!({}))).unwrap();
    cart.add_item(item("mug", 2)).unwrap();
    let v = rust(
        &cart
            .set_catalog(JsValue::from_str(&catalog_with("12.00").to_string()))
            .unwrap(),
    );
    assert_eq!(v["lineItems"][0]["unitPrice"], json!(1200));
    assert_eq!(v["issues"][0]["code"], json!("PRICE_CHANGED"));
    assert_eq!(v["catalogVersion"], json!("test#12.00"));
    let cached = snapshot::decode_catalog(&stored(&storage, "k:catalog").unwrap()).unwrap();
    assert_eq!(cached.catalog.version(), Some("test#12.00"));
    let v = rust(
        &cart
            .apply(js(&json!([{"action": "acknowledgePriceChanges"}])), JsValue::UNDEFINED)
            .unwrap(),
    );
    assert_eq!(v["issues"], json!([]));
    // Opening with the old catalog again flags the move back.
    let reopened = Cart::open(options(&storage, "k", json!({}))).unwrap();
    let v = rust(&view(&reopened));
    assert_eq!(v["lineItems"][0]["unitPrice"], json!(1000));
    assert_eq!(v["issues"][0]["details"]["new"], json!(1000));
}

#[wasm_bindgen_test]
fn snapshots_round_trip() {
    let cart = Cart::open(options(&JsValue::from_str("memory"), "k", json!({}))).unwrap();
    cart.add_item(js(
        &json!({"productId": "lic", "quantity": 3, "attributes": {"domain": "example.com"}}),
    ))
    .unwrap();
    let text = cart.snapshot().unwrap();
    let copy = Cart::from_snapshot(
        JsValue::from_str(&text),
        options(&JsValue::from_str("memory"), "k", json!({})),
    )
    .unwrap();
    let (a, b) = (rust(&view(&cart)), rust(&view(&copy)));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["totals"], b["totals"]);
    assert_eq!(b["lineItems"][0]["attributes"], json!({"domain": "example.com"}));
    let tampered = text.replace("example.com", "example.org");
    let e = Cart::from_snapshot(
        JsValue::from_str(&tampered),
        options(&JsValue::from_str("memory"), "k", json!({})),
    )
    .err()
    .unwrap();
    assert_cart_error(&e, "INVALID_SNAPSHOT");
    assert_eq!(rust(&get(&e, "details"))["reason"], json!("badChecksum"));
}

// ------------------------------------------------------------------------------------------------ checkout

const API: &str = "/api/v1";

/// The scripted fake fetch (see `installFetch`); restored when dropped.
struct FakeFetch(JsValue);

impl FakeFetch {
    fn install(script: Value) -> FakeFetch {
        FakeFetch(install_fetch(js(&script)))
    }

    fn calls(&self) -> Vec<JsValue> {
        get(&self.0, "calls").unchecked_into::<js_sys::Array>().iter().collect()
    }

    fn push(&self, step: Value) {
        let f: Function = get(&self.0, "push").unchecked_into();
        f.call1(&self.0, &js(&step)).unwrap();
    }

    fn release(&self, step: Value) {
        let f: Function = get(&self.0, "release").unchecked_into();
        f.call1(&self.0, &js(&step)).unwrap();
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

#[wasm_bindgen_test]
async fn checkout_retries_with_one_idempotency_key_and_new_request_ids() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let id = get(&v, "id").as_string().unwrap();
    let fake = FakeFetch::install(
        json!([{"network": true}, refusal(503, "UNAVAILABLE", json!({})), order_answer("ord_1", &v)]),
    );
    let delays = js_sys::Array::new();
    let order = outcome(cart.checkout(checkout_options(
        &delays,
        json!({"customerId": "cust_1", "poNumber": "PO-1"}),
    )))
    .await
    .unwrap();
    assert_eq!(get(&order, "orderId").as_string().as_deref(), Some("ord_1"));
    assert_eq!(get(&order, "protocol").as_string().as_deref(), Some("spec-b"));
    let calls = fake.calls();
    assert_eq!(calls.len(), 3);
    let keys: Vec<String> = calls.iter().map(|c| header(c, "X-Idempotency-Key")).collect();
    assert!(keys[0].starts_with(&format!("{id}-v")), "{keys:?}");
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one key for every attempt: {keys:?}"
    );
    let mut ids: Vec<String> = calls.iter().map(|c| header(c, "X-Request-ID")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "a new request id per attempt");
    for c in &calls {
        assert_eq!(
            get(c, "url").as_string().unwrap(),
            format!("/api/v1/carts/{id}/checkout")
        );
        assert_eq!(get(c, "method").as_string().as_deref(), Some("POST"));
        assert_eq!(header(c, "Content-Type"), "application/json");
        assert_eq!(get(c, "body").as_string(), get(&calls[0], "body").as_string());
    }
    let body: Value = serde_json::from_str(&get(&calls[0], "body").as_string().unwrap()).unwrap();
    assert_eq!(body["paymentMethodId"], json!("pm_card_visa"));
    assert_eq!(body["customerId"], json!("cust_1"));
    assert_eq!(body["poNumber"], json!("PO-1"));
    assert_eq!(body["cart"]["items"][0]["productId"], json!("mug"));
    assert_eq!(body["cart"]["expected"]["total"], rust(&v)["totals"]["total"]);
    // Two waits, each within its backoff step (500 ms doubling, half of it random).
    let delays: Vec<f64> = delays.iter().map(|d| d.as_f64().unwrap()).collect();
    assert_eq!(delays.len(), 2);
    assert!((250.0..=500.0).contains(&delays[0]), "{delays:?}");
    assert!((500.0..=1000.0).contains(&delays[1]), "{delays:?}");
    drop(cart);
}

#[wasm_bindgen_test]
async fn checkout_honours_retry_after_and_rate_limit_reset() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let reset = (js_sys::Date::now() / 1000.0).floor() + 4.0;
    let fake = FakeFetch::install(json!([
        {"status": 429, "headers": {"Retry-After": "2"}, "body": {"error": {"code": "RATE_LIMITED", "message": "slow down"}}},
        {"status": 429, "headers": {"X-RateLimit-Reset": reset.to_string()}, "body": {"error": {"code": "RATE_LIMITED", "message": "slow down"}}},
        {"status": 503, "headers": {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}},
        order_answer("ord_2", &v)
    ]));
    let delays = js_sys::Array::new();
    outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap();
    assert_eq!(fake.calls().len(), 4);
    let delays: Vec<f64> = delays.iter().map(|d| d.as_f64().unwrap()).collect();
    assert_eq!(delays[0], 2000.0, "Retry-After: 2 seconds");
    assert!(
        (3000.0..=4000.0).contains(&delays[1]),
        "until X-RateLimit-Reset: {delays:?}"
    );
    assert!(
        (1000.0..=2000.0).contains(&delays[2]),
        "a date in the past: the backoff: {delays:?}"
    );
    drop(fake);

    // A server that wants a longer pause than retryMaxMs ends the retries: RATE_LIMITED, the cart kept.
    drop(cart);
    let (cart, v) = filled_cart(&memory_storage());
    let fake = FakeFetch::install(json!([
        {"status": 429, "headers": {"Retry-After": "120"}, "body": {"error": {"code": "RATE_LIMITED", "message": "slow down"}}}
    ]));
    let delays = js_sys::Array::new();
    let e = outcome(cart.checkout(checkout_options(&delays, json!({"retryMaxMs": 30000}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "RATE_LIMITED", 429);
    assert_eq!(rust(&get(&e, "details"))["retryAfterMs"], json!(120000));
    assert_eq!((fake.calls().len(), delays.length()), (1, 0));
    assert!(Object::is(&view(&cart), &v));
    drop(cart);
}

#[wasm_bindgen_test]
async fn a_checkout_attempt_that_times_out_is_aborted() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let fake = FakeFetch::install(json!([{"hang": true}, order_answer("ord_3", &v)]));
    let delays = js_sys::Array::new();
    let order = outcome(cart.checkout(checkout_options(&delays, json!({"timeoutMs": 10}))))
        .await
        .unwrap();
    assert_eq!(get(&order, "orderId").as_string().as_deref(), Some("ord_3"));
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        get(&calls[0], "aborted").as_bool(),
        Some(true),
        "the hanging request was aborted"
    );
    assert_eq!(get(&calls[1], "aborted").as_bool(), Some(false));
    assert_eq!(
        header(&calls[0], "X-Idempotency-Key"),
        header(&calls[1], "X-Idempotency-Key")
    );
    drop(fake);

    // Without retries: TIMEOUT; the outcome is unknown, so the key is kept ("failed").
    let (cart, _) = filled_cart(&memory_storage());
    let _fake = FakeFetch::install(json!([{"hang": true}]));
    let e = outcome(cart.checkout(checkout_options(&delays, json!({"timeoutMs": 10, "retries": 0}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "TIMEOUT", 0);
    let pending = cart.pending_checkout().unwrap();
    assert_eq!(get(&pending, "state").as_string().as_deref(), Some("failed"));
}

#[wasm_bindgen_test]
async fn refusals_reject_with_checkout_errors_and_leave_the_cart_as_it_was() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let blob = stored(&storage, "shop");
    let log = events();
    listen(&cart, &log, "change");
    listen(&cart, &log, "ordered");
    let cases = [
        (400, "EMPTY_CART", json!({"issues": []})),
        (
            402,
            "PAYMENT_FAILED",
            json!({"paymentMethodId": "pm_card_visa", "declineCode": "card_declined"}),
        ),
        (
            409,
            "INVENTORY_UNAVAILABLE",
            json!({"productId": "mug", "available": 1, "requested": 2}),
        ),
        (422, "INVALID_PROMO_CODE", json!({"field": "promoCode"})),
    ];
    for (status, expected, details) in cases {
        let fake = FakeFetch::install(json!([refusal(status, expected, details.clone())]));
        let delays = js_sys::Array::new();
        let e = outcome(cart.checkout(checkout_options(&delays, json!({}))))
            .await
            .unwrap_err();
        assert_checkout_error(&e, expected, status);
        assert_eq!(rust(&get(&e, "details")), details);
        assert_eq!(fake.calls().len(), 1, "{expected}: a refusal is not retried");
        assert!(Object::is(&view(&cart), &v), "{expected}: the cart is as it was");
        assert_eq!(stored(&storage, "shop"), blob);
        assert_eq!(stored(&storage, "shop:checkout"), None, "{expected}: no pending record");
        assert_eq!(stored(&storage, "shop:orders"), None);
        assert!(cart.pending_checkout().unwrap().is_null());
    }
    // A 5xx after every retry: the server's code and status, the key kept (the outcome is unknown).
    let fake = FakeFetch::install(json!([
        refusal(500, "INTERNAL_ERROR", json!({})),
        refusal(502, "BAD_GATEWAY", json!({}))
    ]));
    let delays = js_sys::Array::new();
    let e = outcome(cart.checkout(checkout_options(&delays, json!({"retries": 1}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "BAD_GATEWAY", 502);
    assert_eq!(rust(&get(&e, "details"))["attempts"], json!(2));
    assert_eq!(fake.calls().len(), 2);
    assert!(Object::is(&view(&cart), &v));
    assert!(recorded(&log).is_empty(), "no event");
    drop(fake);

    // Refused before any request: bad options, an empty cart.
    let fake = FakeFetch::install(json!([]));
    let e = outcome(cart.checkout(js(&json!({"paymentMethodId": "pm_card_visa"}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "INVALID_REQUEST", 0);
    assert_eq!(rust(&get(&e, "details"))["field"], json!("endpoint"));
    let empty = Cart::open(options(&memory_storage(), "empty", json!({}))).unwrap();
    let e = outcome(empty.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "EMPTY_CART", 0);
    assert_eq!(fake.calls().len(), 0);
}

#[wasm_bindgen_test]
async fn price_changed_then_accepted_prices_then_a_successful_checkout() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let mug = at(&get(&v, "lineItems"), 0);
    // The server's view: the same cart priced with a mug at 12.00, its own line ids.
    let server = Cart::open(options(&memory_storage(), "server", json!({}))).unwrap();
    server.set_catalog(js(&catalog_with("12.00"))).unwrap();
    server.add_item(item("mug", 2)).unwrap();
    let mut server_view = rust(&server.add_item(item("tee", 1)).unwrap());
    server_view["id"] = rust(&get(&v, "id"));
    for (i, line) in server_view["lineItems"].as_array_mut().unwrap().iter_mut().enumerate() {
        line["id"] = json!(format!("li_server_{i}"));
    }
    let ours = rust(&v)["totals"].clone();
    let theirs = server_view["totals"].clone();
    let totals = |t: &Value| {
        json!({"subtotal": t["subtotal"], "discountTotal": t["discountTotal"],
        "shippingTotal": t["shippingTotal"], "taxTotal": t["taxTotal"], "total": t["total"]})
    };
    let details = json!({"expected": totals(&ours), "actual": totals(&theirs),
        "differences": ["subtotal", "taxTotal", "total"], "view": server_view});
    let fake = FakeFetch::install(json!([refusal(409, "PRICE_CHANGED", details.clone())]));
    let delays = js_sys::Array::new();
    let e = outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "PRICE_CHANGED", 409);
    assert!(Object::is(&view(&cart), &v));

    let log = events();
    listen(&cart, &log, "change");
    let changes = cart.accept_server_prices(get(&e, "details")).unwrap();
    let lines = rust(&changes);
    assert_eq!(
        lines,
        json!([{"lineItemId": get(&mug, "id").as_string(), "productId": "mug", "name": "Mug", "quantity": 2,
                "oldUnitPrice": 1000, "newUnitPrice": 1200, "oldTotal": 2000, "newTotal": 2400}])
    );
    let total = rust(&get(&changes, "total"));
    assert_eq!(total["oldTotal"], ours["total"]);
    assert_eq!(total["newTotal"], theirs["total"]);
    assert_eq!(total["difference"], json!(400));
    let accepted = view(&cart);
    assert_eq!(rust(&accepted)["totals"], theirs, "the view shows the server's prices");
    assert_eq!(rust(&at(&get(&accepted, "lineItems"), 0))["id"], rust(&mug)["id"]);
    assert_eq!(get(&accepted, "version").as_f64(), get(&v, "version").as_f64());
    assert_eq!(recorded(&log).len(), 1, "one change event");

    // The retry sends the accepted totals, under a new key (the body changed), and goes through.
    fake.push(order_answer("ord_4", &accepted));
    let order = outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap();
    assert_eq!(get(&order, "orderId").as_string().as_deref(), Some("ord_4"));
    let calls = fake.calls();
    let body: Value = serde_json::from_str(&get(&calls[1], "body").as_string().unwrap()).unwrap();
    assert_eq!(body["cart"]["expected"], totals(&theirs));
    assert_ne!(
        header(&calls[0], "X-Idempotency-Key"),
        header(&calls[1], "X-Idempotency-Key")
    );

    // Accepting prices for a cart that changed since is refused.
    let (other, _) = filled_cart(&memory_storage());
    other.add_item(item("mug", 1)).unwrap();
    let e = other.accept_server_prices(js(&details)).unwrap_err();
    assert_cart_error(&e, "INVALID_REQUEST");
}

#[wasm_bindgen_test]
async fn an_accepted_quote_ends_when_the_cart_changes() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let mut server_view = rust(&v);
    server_view["totals"]["total"] = json!(rust(&v)["totals"]["total"].as_i64().unwrap() + 100);
    server_view["totals"]["shippingTotal"] = json!(599);
    let changes = cart
        .accept_server_prices(js(&json!({"code": "PRICE_CHANGED", "details": {"view": server_view}})))
        .unwrap();
    assert_eq!(rust(&changes), json!([]), "no line moved");
    assert_eq!(
        rust(&get(&changes, "total"))["fields"],
        json!(["shippingTotal", "total"])
    );
    assert_eq!(rust(&view(&cart))["totals"]["total"], server_view["totals"]["total"]);
    let after = cart.add_item(item("mug", 1)).unwrap();
    assert_eq!(rust(&after)["totals"]["subtotal"], json!(5000), "local prices again");
    assert_ne!(rust(&after)["totals"]["total"], server_view["totals"]["total"]);
}

#[wasm_bindgen_test]
async fn success_archives_the_order_starts_a_new_cart_and_tells_every_tab() {
    clear_local("t-checkout");
    let a = Cart::open(options(
        &JsValue::from_str("local"),
        "t-checkout",
        json!({"locale": "de-DE"}),
    ))
    .unwrap();
    a.add_item(item("mug", 2)).unwrap();
    let v = a
        .set_shipping_address(js(&json!({"country": "DE", "city": "Berlin"})))
        .unwrap();
    let b = Cart::open(options(&JsValue::from_str("local"), "t-checkout", json!({}))).unwrap();
    let (log_a, log_b) = (events(), events());
    listen(&a, &log_a, "ordered");
    listen(&a, &log_a, "change");
    listen(&b, &log_b, "ordered");
    let _fake = FakeFetch::install(json!([order_answer("ord_5", &v)]));
    let delays = js_sys::Array::new();
    let order = outcome(a.checkout(checkout_options(&delays, json!({})))).await.unwrap();

    let got = recorded(&log_a);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ordered", "change"]);
    let ordered = rust(&got[0].1);
    assert_eq!(ordered["order"]["orderId"], json!("ord_5"));
    assert_eq!(ordered["cart"]["status"], json!("ordered"));
    assert_eq!(ordered["cart"]["id"], rust(&v)["id"]);
    assert_eq!(ordered["cart"]["totals"], rust(&v)["totals"]);
    assert_eq!(rust(&order), ordered["order"]);
    let fresh = rust(&view(&a));
    assert_ne!(fresh["id"], rust(&v)["id"]);
    assert_eq!(fresh["status"], json!("active"));
    assert_eq!(fresh["lineItems"], json!([]));
    assert_eq!(
        (fresh["currency"].clone(), fresh["locale"].clone()),
        (json!("EUR"), json!("de-DE"))
    );
    let archive: Value = serde_json::from_str(&stored(&local(), "t-checkout:orders").unwrap()).unwrap();
    assert_eq!(archive.as_array().unwrap().len(), 1);
    assert_eq!(archive[0]["orderId"], json!("ord_5"));
    assert_eq!(archive[0]["cartId"], rust(&v)["id"]);
    assert_eq!(archive[0]["cart"]["status"], json!("ordered"));
    assert_eq!(archive[0]["order"]["orderId"], json!("ord_5"));
    assert_eq!(rust(&a.orders().unwrap()), archive);
    assert_eq!(stored(&local(), "t-checkout:checkout"), None);

    // The other tab learns it from the storage event: same order, then the new cart.
    dispatch_storage("t-checkout");
    let got = recorded(&log_b);
    assert_eq!(got.len(), 1);
    assert_eq!(rust(&got[0].1)["order"]["orderId"], json!("ord_5"));
    assert_eq!(rust(&got[0].1)["cart"]["id"], rust(&v)["id"]);
    assert_eq!(rust(&view(&b))["id"], fresh["id"]);
    drop((a, b));
    clear_local("t-checkout");
}

#[wasm_bindgen_test]
async fn the_idempotency_key_survives_a_reload() {
    // A checkout without an answer (503 and no retries left): the key stays with the cart version.
    let storage = memory_storage();
    let (a, v) = filled_cart(&storage);
    let fake = FakeFetch::install(json!([refusal(503, "UNAVAILABLE", json!({}))]));
    let delays = js_sys::Array::new();
    let e = outcome(a.checkout(checkout_options(&delays, json!({"retries": 0}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "UNAVAILABLE", 503);
    let first_key = header(&fake.calls()[0], "X-Idempotency-Key");
    drop(a);
    // The reload does not send it on its own (the shopper saw it fail) ...
    let b = Cart::open(options(&storage, "shop", json!({}))).unwrap();
    next_tick().await;
    assert_eq!(fake.calls().len(), 1);
    let pending = rust(&b.pending_checkout().unwrap());
    assert_eq!(
        (pending["state"].clone(), pending["idempotencyKey"].clone()),
        (json!("failed"), json!(first_key))
    );
    // ... but checking the same cart out again reuses the key, so the server can replay its answer.
    fake.push(order_answer("ord_6", &v));
    outcome(b.checkout(checkout_options(&delays, json!({})))).await.unwrap();
    assert_eq!(header(&fake.calls()[1], "X-Idempotency-Key"), first_key);
    assert!(b.pending_checkout().unwrap().is_null());
    drop(fake);

    // A page that goes away mid-request: the next open sends it again with the same key.
    let storage = memory_storage();
    let (a, v) = filled_cart(&storage);
    let fake = FakeFetch::install(json!([{"held": true}, {"held": true}]));
    let first = a.checkout(checkout_options(&delays, json!({"retries": 0})));
    next_tick().await;
    assert_eq!(fake.calls().len(), 1);
    assert_eq!(
        get(&a.pending_checkout().unwrap(), "state").as_string().as_deref(),
        Some("sending")
    );
    let b = Cart::open(options(&storage, "shop", json!({}))).unwrap();
    let log = events();
    listen(&b, &log, "ordered");
    next_tick().await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 2, "the reload resumed the checkout");
    assert_eq!(
        header(&calls[0], "X-Idempotency-Key"),
        header(&calls[1], "X-Idempotency-Key")
    );
    assert_eq!(get(&calls[0], "body").as_string(), get(&calls[1], "body").as_string());
    // The server answers both with the same (replayed) order: one order, archived once.
    fake.release(order_answer("ord_7", &v));
    fake.release(order_answer("ord_7", &v));
    let order = outcome(first).await.unwrap();
    for _ in 0..3 {
        next_tick().await;
    }
    assert_eq!(get(&order, "orderId").as_string().as_deref(), Some("ord_7"));
    assert_eq!(recorded(&log).len(), 1);
    let archive: Value = serde_json::from_str(&stored(&storage, "shop:orders").unwrap()).unwrap();
    assert_eq!(archive.as_array().unwrap().len(), 1);
    assert_eq!(stored(&storage, "shop:checkout"), None);
}

#[wasm_bindgen_test]
async fn a_checkout_queued_offline_is_sent_once_when_back_online() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let log = events();
    listen(&cart, &log, "ordered");
    let fake = FakeFetch::install(json!([order_answer("ord_8", &v)]));
    let delays = js_sys::Array::new();
    set_online(false);
    // Offline without "queue": refused at once, nothing stored.
    let e = outcome(cart.checkout(checkout_options(&delays, json!({}))))
        .await
        .unwrap_err();
    assert_checkout_error(&e, "OFFLINE", 0);
    assert_eq!(stored(&storage, "shop:checkout"), None);
    let queued = outcome(cart.checkout(checkout_options(&delays, json!({"whenOffline": "queue"}))))
        .await
        .unwrap();
    assert_eq!(rust(&queued)["status"], json!("queued"));
    assert_eq!(fake.calls().len(), 0);
    let record: Value = serde_json::from_str(&stored(&storage, "shop:checkout").unwrap()).unwrap();
    assert_eq!(record["state"], json!("queued"));
    assert_eq!(record["idempotencyKey"], rust(&queued)["idempotencyKey"]);
    dispatch_online(); // still offline: a spurious event sends nothing
    next_tick().await;
    assert_eq!(fake.calls().len(), 0);

    set_online(true);
    dispatch_online();
    dispatch_online();
    for _ in 0..5 {
        next_tick().await;
    }
    reset_online();
    assert_eq!(fake.calls().len(), 1, "sent once");
    assert_eq!(
        header(&fake.calls()[0], "X-Idempotency-Key"),
        record["idempotencyKey"].as_str().unwrap()
    );
    let got = recorded(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(rust(&got[0].1)["order"]["orderId"], json!("ord_8"));
    assert_eq!(stored(&storage, "shop:checkout"), None);
    assert_ne!(rust(&view(&cart))["id"], rust(&v)["id"]);
    dispatch_online();
    next_tick().await;
    assert_eq!(fake.calls().len(), 1);
}

#[wasm_bindgen_test]
async fn a_queued_checkout_the_server_refuses_raises_error() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let fake = FakeFetch::install(
        json!([{"network": true}, refusal(402, "PAYMENT_FAILED", json!({"declineCode": "card_declined"}))]),
    );
    let delays = js_sys::Array::new();
    // Network errors after every retry with "queue": queued (it may be offline without knowing).
    let queued = outcome(cart.checkout(checkout_options(&delays, json!({"whenOffline": "queue", "retries": 0}))))
        .await
        .unwrap();
    assert_eq!(rust(&queued)["status"], json!("queued"));
    drop(cart);
    let reopened = Cart::open(options(&storage, "shop", json!({}))).unwrap();
    let log = events();
    listen(&reopened, &log, "error");
    listen(&reopened, &log, "ordered");
    for _ in 0..5 {
        next_tick().await;
    }
    assert_eq!(fake.calls().len(), 2);
    let got = recorded(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "error");
    assert_checkout_error(&got[0].1, "PAYMENT_FAILED", 402);
    assert_eq!(stored(&storage, "shop:checkout"), None);
    assert_eq!(rust(&view(&reopened))["id"], rust(&v)["id"], "the cart stays");
}

#[wasm_bindgen_test]
async fn other_protocols_run_the_core_plans_over_fetch() {
    let storage = memory_storage();
    let (cart, v) = filled_cart(&storage);
    let total = rust(&v)["totals"]["total"].clone();
    let fake = FakeFetch::install(json!([
        {"status": 201, "body": {"id": "ct-1", "version": 2, "totalPrice": {"centAmount": total, "currencyCode": "EUR"}}},
        {"status": 201, "body": {"id": "ord-ct-1", "orderNumber": "2026-0001"}}
    ]));
    let delays = js_sys::Array::new();
    let o = checkout_options(
        &delays,
        json!({"protocol": "commercetools", "token": "tok", "endpoint": "https://ct.example/p"}),
    );
    let order = outcome(cart.checkout(o)).await.unwrap();
    assert_eq!(
        rust(&order),
        json!({"protocol": "commercetools", "status": "placed", "orderId": "ord-ct-1",
               "orders": [{"orderId": "ord-ct-1", "vendor": null, "orderNumber": "2026-0001"}],
               "remoteCartId": "ct-1", "remoteTotal": total})
    );
    let calls = fake.calls();
    assert_eq!(
        get(&calls[0], "url").as_string().as_deref(),
        Some("https://ct.example/p/me/carts")
    );
    assert_eq!(header(&calls[0], "Authorization"), "Bearer tok");
    assert_eq!(
        get(&calls[1], "url").as_string().as_deref(),
        Some("https://ct.example/p/me/orders")
    );
    assert_ne!(rust(&view(&cart))["id"], rust(&v)["id"], "ordered: a new cart");
    assert_eq!(
        rust(&cart.orders().unwrap())[0]["order"]["protocol"],
        json!("commercetools")
    );
}
