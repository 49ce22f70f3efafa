//! Requests, waits and promises: `Effect::Send` through `fetch` (glue.js) with its timeout,
//! `Effect::Wait` through `setTimeout` (or a checkout's `sleep` option), `Effect::Settle` on the
//! promise `checkout()` returned.

use super::glue;
use super::js;
use super::shell::{input, Shared, WebEntropy};
use crate::checkout::HttpResponse;
use crate::session::{CheckoutError, HttpOutcome};
use js_sys::{Function, Promise};
use serde_json::Value;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

/// A promise of `checkout()` and how to settle it.
pub(crate) struct Deferred {
    pub promise: Promise,
    parts: Option<(Function, Function)>,
}

impl Deferred {
    pub(crate) fn new() -> Deferred {
        let mut parts = None;
        let promise = Promise::new(&mut |resolve, reject| parts = Some((resolve, reject)));
        Deferred { promise, parts }
    }
}

/// One request through `fetch` (with its timeout), in the background.
pub(crate) fn send(rc: &Shared, id: u64, request: crate::checkout::HttpRequest, timeout_ms: u64) {
    let headers = js_sys::Object::new();
    for (name, value) in &request.headers {
        js::set(&headers, name, &JsValue::from_str(value));
    }
    let body = request
        .body
        .as_ref()
        .map_or(JsValue::UNDEFINED, |b| JsValue::from_str(&b.to_string()));
    let promise = glue::fetch_once(&request.method, &request.path, &headers, &body, timeout_ms as f64);
    let weak = Rc::downgrade(rc);
    spawn_local(async move {
        let outcome = match JsFuture::from(promise).await {
            Ok(answer) => HttpOutcome::Answer(response_of(&answer)),
            Err(e) if js::get(&e, "timeout").as_bool() == Some(true) => HttpOutcome::Timeout,
            Err(e) => HttpOutcome::Network(js::describe(&e)),
        };
        if let Some(rc) = weak.upgrade() {
            input(&rc, |session, storage, now| {
                session.http_answer(id, outcome, storage, now, &mut WebEntropy)
            });
        }
    });
}

fn response_of(answer: &JsValue) -> HttpResponse {
    let status = js::get(answer, "status").as_f64().unwrap_or(0.0);
    let mut headers = BTreeMap::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&js::get(answer, "headers")) {
        for entry in entries.flatten() {
            if let (Some(name), Some(value)) = (js::get(&entry, "0").as_string(), js::get(&entry, "1").as_string()) {
                headers.insert(name.to_ascii_lowercase(), value);
            }
        }
    }
    let text = js::get(answer, "text").as_string().unwrap_or_default();
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    HttpResponse {
        status: if (100.0..=599.0).contains(&status) {
            status as u16
        } else {
            0
        },
        headers,
        body,
    }
}

/// Calls `Session::timer(id)` after `ms`: through the checkout's `sleep` option when it has one (tests
/// choose when a retry happens), else `setTimeout` (capped at 2^31 - 1 ms, beyond which it fires at once).
pub(crate) fn wait(rc: &Shared, id: u64, ms: u64, retry: bool) {
    let weak = Rc::downgrade(rc);
    let fire = move || {
        if let Some(rc) = weak.upgrade() {
            if let Ok(mut inner) = rc.try_borrow_mut() {
                inner.timers.remove(&id);
            }
            input(&rc, |session, storage, now| {
                session.timer(id, storage, now, &mut WebEntropy)
            });
        }
    };
    let sleep = rc
        .try_borrow()
        .ok()
        .and_then(|inner| inner.sleep.clone())
        .filter(|_| retry);
    if let Some(sleep) = sleep {
        let promise = sleep
            .call1(&JsValue::UNDEFINED, &JsValue::from_f64(ms as f64))
            .map(|p| Promise::resolve(&p));
        spawn_local(async move {
            if let Ok(p) = promise {
                let _ = JsFuture::from(p).await;
            }
            fire();
        });
        return;
    }
    let callback = Closure::once_into_js(fire);
    let delay = JsValue::from_f64(ms.min(2_147_483_647) as f64);
    if let Ok(handle) = js::call_method(&js::global(), "setTimeout", &[&callback, &delay]) {
        if let Ok(mut inner) = rc.try_borrow_mut() {
            inner.timers.insert(id, handle);
        }
    }
}

pub(crate) fn settle(rc: &Shared, id: u64, outcome: Result<Value, CheckoutError>) {
    let Some(deferred) = rc
        .try_borrow_mut()
        .ok()
        .and_then(|mut inner| inner.promises.remove(&id))
    else {
        return;
    };
    let Some((resolve, reject)) = deferred.parts else {
        return;
    };
    let _ = match outcome {
        Ok(value) => resolve.call1(&JsValue::UNDEFINED, &js::from_value(&value)),
        Err(e) => reject.call1(&JsValue::UNDEFINED, &JsValue::from(e)),
    };
}
