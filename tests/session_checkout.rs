//! Checkout in the session, natively and deterministically: retries, keys, hints from the server,
//! refusals, accepted prices, the archive, reloads, the offline queue, other protocols, and orders
//! whose answer was lost (never orphaned). The server is a scripted SPEC-B shop; the real
//! `cart-server` is exercised by `tests/node/checkout-server.test.mjs` and the e2e suite.

#![allow(clippy::result_large_err)]

mod common;

use common::tabs::{refusal, reply, reply_with, Browser, KEY};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wasm_cart::checkout::{HttpRequest, Protocol};
use wasm_cart::session::{CheckoutError, CheckoutInput, Coordination, Event, HttpOutcome, Reported, SendOptions};
use wasm_cart::Action;

/// A SPEC-B shop: one order per cart id, answers replayed per idempotency key, order lookup by cart.
#[derive(Default)]
struct Shop {
    orders: BTreeMap<String, Value>,
    by_key: BTreeMap<String, Value>,
    /// Placements whose answer is lost on the way back (the order is placed all the same).
    lose: usize,
    /// Answers given before the shop's own (retries, hints).
    script: Vec<HttpOutcome>,
    placed: usize,
}

impl Shop {
    fn handle(&mut self, r: &HttpRequest) -> HttpOutcome {
        if !self.script.is_empty() {
            return self.script.remove(0);
        }
        let parts: Vec<&str> = r.path.trim_start_matches("/api/v1/").split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("POST", ["carts", cart, "checkout"]) => self.checkout(cart, r),
            ("GET", ["carts", cart]) => match self.orders.get(*cart) {
                Some(order) => reply(
                    200,
                    json!({"id": cart, "status": "ordered", "orderId": order["orderId"]}),
                ),
                None => refusal(404, "CART_NOT_FOUND", json!({"cartId": cart})),
            },
            ("GET", ["orders", id]) => match self.orders.values().find(|o| o["orderId"] == json!(id)) {
                Some(order) => reply(200, order.clone()),
                None => refusal(404, "ORDER_NOT_FOUND", json!({})),
            },
            _ => refusal(404, "NOT_FOUND", json!({})),
        }
    }

    fn checkout(&mut self, cart: &str, r: &HttpRequest) -> HttpOutcome {
        let key = r.headers.get("X-Idempotency-Key").cloned().unwrap_or_default();
        if let Some(answer) = self.by_key.get(&key) {
            return reply(200, answer.clone());
        }
        if let Some(order) = self.orders.get(cart) {
            return refusal(
                409,
                "CART_NOT_ACTIVE",
                json!({"status": "ordered", "orderId": order["orderId"]}),
            );
        }
        let body = r.body.clone().unwrap_or_default();
        if body["paymentMethodId"] == json!("pm_card_declined") {
            return refusal(402, "PAYMENT_FAILED", json!({"declineCode": "card_declined"}));
        }
        self.placed += 1;
        let order = json!({"orderId": format!("ord_{}", self.placed), "status": "confirmed",
                           "cartId": cart, "items": body["cart"]["items"], "total": body["cart"]["expected"]["total"]});
        self.orders.insert(cart.to_string(), order.clone());
        self.by_key.insert(key, order.clone());
        if self.lose > 0 {
            self.lose -= 1;
            return HttpOutcome::Network("connection reset".into());
        }
        reply(200, order)
    }
}

fn input() -> CheckoutInput {
    CheckoutInput {
        endpoint: "/api/v1".into(),
        payment_method_id: Some("pm_card_visa".into()),
        send: SendOptions::default(),
        ..CheckoutInput::default()
    }
}

fn add(b: &mut Browser, i: usize, product: &str, quantity: u32) {
    let action =
        Action::from_value(json!({"action": "addLineItem", "productId": product, "quantity": quantity})).unwrap();
    let now = b.now();
    let tab = &mut b.tabs[i];
    let effects = tab.session.apply(&[action], None, &tab.cache, now, &mut b.rng).unwrap();
    b.run(i, effects);
}

fn start(b: &mut Browser, i: usize, input: CheckoutInput) -> Result<u64, CheckoutError> {
    let now = b.now();
    let online = b.online;
    let tab = &mut b.tabs[i];
    let (id, effects) = tab.session.checkout(input, online, &tab.cache, now, &mut b.rng)?;
    b.run(i, effects);
    Ok(id)
}

fn outcome(b: &Browser, i: usize, id: u64) -> &Result<Value, CheckoutError> {
    &b.settled
        .iter()
        .find(|(t, s, _)| *t == i && *s == id)
        .expect("settled")
        .2
}

/// One tab with a mug in its cart, settled.
fn shop_and_tab() -> (Browser, Shop, usize) {
    let mut b = Browser::new(7, Coordination::Transactional);
    let i = b.open_tab();
    add(&mut b, i, "mug", 2);
    b.settle();
    (b, Shop::default(), i)
}

#[test]
fn retries_keep_one_idempotency_key_with_a_new_request_id_each_time() {
    let (mut b, mut shop, i) = shop_and_tab();
    shop.script = vec![
        refusal(503, "UNAVAILABLE", json!({})),
        HttpOutcome::Network("reset".into()),
        HttpOutcome::Timeout,
        reply(429, json!({})),
    ];
    let id = start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    let order = outcome(&b, i, id).as_ref().unwrap();
    assert_eq!(order["orderId"], json!("ord_1"));
    assert_eq!(order["protocol"], json!("spec-b"));
    assert_eq!(b.requests.len(), 5);
    let keys: Vec<_> = b
        .requests
        .iter()
        .map(|r| r.headers["X-Idempotency-Key"].clone())
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one key: {keys:?}");
    let ids: std::collections::BTreeSet<_> = b.requests.iter().map(|r| r.headers["X-Request-ID"].clone()).collect();
    assert_eq!(ids.len(), 5, "a new request id per attempt");
    assert!(keys[0].starts_with(&format!("{}-v1-", b.ordered_events(i)[0].1)));
    assert_eq!(
        b.requests[0].path,
        format!("/api/v1/carts/{}/checkout", b.ordered_events(i)[0].1)
    );
    // Equal jitter: attempt n waits between step/2 and step, step = 500 x 2^n.
    let waits: Vec<u64> = b.waits.iter().copied().filter(|w| *w != 2_000).collect();
    for (n, w) in waits.iter().enumerate().take(4) {
        let step = 500u64 << n;
        assert!((step / 2..=step).contains(w), "wait {n} = {w}");
    }
}

#[test]
fn the_server_s_wait_hints_are_honoured_with_the_injected_clock() {
    let (mut b, mut shop, i) = shop_and_tab();
    // The limit resets 6 s after the start; the 429 comes after the 2 s wait, so about 4 s remain.
    let reset = (b.now / 1000 + 6).to_string();
    shop.script = vec![
        reply_with(503, json!({}), &[("retry-after", "2")]),
        reply_with(429, json!({}), &[("x-ratelimit-reset", reset.as_str())]),
    ];
    let id = start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    assert!(outcome(&b, i, id).is_ok());
    assert_eq!(b.waits[0], 2_000, "Retry-After: 2");
    assert!((3_900..=4_000).contains(&b.waits[1]), "{}", b.waits[1]);
}

#[test]
fn a_server_asking_for_a_longer_wait_than_retry_max_ends_the_retries() {
    let (mut b, mut shop, i) = shop_and_tab();
    shop.script = vec![reply_with(
        503,
        json!({"error": {"code": "MAINTENANCE", "message": "later"}}),
        &[("retry-after", "120")],
    )];
    let id = start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    let e = outcome(&b, i, id).as_ref().unwrap_err();
    // A code outside the package's closed union arrives as CHECKOUT_FAILED, the code in the details.
    assert_eq!((e.code.as_str(), e.status), ("CHECKOUT_FAILED", 503));
    assert_eq!(e.details["remoteCode"], "MAINTENANCE");
    assert_eq!(e.details["retryAfterMs"], json!(120_000));
}

#[test]
fn refusals_settle_with_the_server_s_code_and_leave_the_cart_as_it_was() {
    for (answer, code, status) in [
        (refusal(400, "EMPTY_CART", json!({})), "EMPTY_CART", 400),
        (
            refusal(402, "PAYMENT_FAILED", json!({"declineCode": "card_declined"})),
            "PAYMENT_FAILED",
            402,
        ),
        (
            refusal(409, "INVENTORY_UNAVAILABLE", json!({"productId": "mug"})),
            "INVENTORY_UNAVAILABLE",
            409,
        ),
        (refusal(422, "INVALID_PROMO_CODE", json!({})), "INVALID_PROMO_CODE", 422),
        (reply(418, json!("teapot")), "CHECKOUT_FAILED", 418),
        // A code outside the package's closed union: CHECKOUT_FAILED, the code in the details.
        (
            refusal(400, "SHOP_CLOSED", json!({"until": "monday"})),
            "CHECKOUT_FAILED",
            400,
        ),
    ] {
        let (mut b, mut shop, i) = shop_and_tab();
        let before = b.tabs[i].session.cart().clone();
        shop.script = vec![answer];
        let id = start(&mut b, i, input()).unwrap();
        b.serve(&mut |r| shop.handle(r));
        let e = outcome(&b, i, id).as_ref().unwrap_err();
        assert_eq!((e.code.as_str(), e.status), (code, status));
        if status == 400 && code == "CHECKOUT_FAILED" {
            assert_eq!(e.details["remoteCode"], "SHOP_CLOSED", "{}", e.details);
            assert_eq!(e.details["remoteDetails"]["until"], "monday");
        }
        assert_eq!(b.tabs[i].session.cart(), &before);
        assert!(
            b.tabs[i].session.pending_checkout(&b.tabs[i].cache).is_none(),
            "nothing was placed"
        );
        assert_eq!(b.requests.len(), 1, "refusals are final");
    }
}

#[test]
fn a_cart_that_cannot_be_checked_out_is_refused_before_anything_is_sent() {
    let mut b = Browser::new(3, Coordination::Transactional);
    let i = b.open_tab();
    let e = start(&mut b, i, input()).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("EMPTY_CART", 0));
    let bad = CheckoutInput {
        endpoint: " ".into(),
        ..input()
    };
    add(&mut b, i, "mug", 1);
    assert_eq!(start(&mut b, i, bad).unwrap_err().details["field"], json!("endpoint"));
    b.online = false;
    assert_eq!(start(&mut b, i, input()).unwrap_err().code, "OFFLINE");
    assert!(b.requests.is_empty());
}

#[test]
fn success_archives_the_order_starts_a_new_cart_and_every_tab_hears_of_it() {
    let (mut b, mut shop, a) = shop_and_tab();
    let other = b.open_tab();
    b.settle();
    let cart_id = b.tabs[a].session.cart().id().to_string();
    let id = start(&mut b, a, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    assert!(outcome(&b, a, id).is_ok());
    let orders = b.tabs[a].session.orders(&b.tabs[a].cache);
    assert_eq!(orders.len(), 1);
    assert_eq!(
        (orders[0]["cartId"].clone(), orders[0]["cart"]["status"].clone()),
        (json!(cart_id), json!("ordered"))
    );
    for i in [a, other] {
        let cart = b.tabs[i].session.cart();
        assert_ne!(cart.id(), cart_id, "tab {i} moved to a new cart");
        assert!(cart.line_items().is_empty());
        assert_eq!((cart.currency(), cart.country()), ("EUR", Some("DE")));
        let ordered = b.ordered_events(i);
        assert_eq!(ordered.len(), 1, "tab {i}: one ordered event");
        assert_eq!(ordered[0].0.as_ref().unwrap()["orderId"], json!("ord_1"));
    }
    assert!(b.tabs[a].session.pending_checkout(&b.tabs[a].cache).is_none());
}

#[test]
fn what_another_tab_adds_while_the_order_is_on_its_way_moves_to_the_new_cart() {
    let (mut b, mut shop, a) = shop_and_tab();
    let other = b.open_tab();
    b.settle();
    let id = start(&mut b, a, input()).unwrap();
    add(&mut b, other, "tea", 1);
    add(&mut b, other, "mug", 1);
    b.settle();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    assert!(outcome(&b, a, id).is_ok());
    let order = &shop.orders.values().next().unwrap()["items"];
    assert_eq!(
        order.as_array().unwrap().len(),
        1,
        "the order holds what was sent: {order}"
    );
    for i in [a, other] {
        let lines: Vec<_> = b.tabs[i]
            .session
            .cart()
            .line_items()
            .iter()
            .map(|l| (l.product_id.to_string(), l.quantity))
            .collect();
        assert_eq!(lines, vec![("mug".to_string(), 1), ("tea".to_string(), 1)], "tab {i}");
    }
}

#[test]
fn a_reload_resends_a_checkout_that_never_got_an_answer_with_its_key() {
    let (mut b, mut shop, i) = shop_and_tab();
    let id = start(&mut b, i, input()).unwrap();
    let key = b.requests[0].headers["X-Idempotency-Key"].clone();
    let _ = id;
    // The page goes away while the request is out; the shop placed the order.
    let (_, _, request, _) = b.sent.pop_front().unwrap();
    shop.handle(&request);
    b.close(i);
    let j = b.open_tab();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    assert_eq!(b.requests.last().unwrap().headers["X-Idempotency-Key"], key);
    assert_eq!(shop.placed, 1, "one order");
    assert_eq!(b.ordered_events(j).len(), 1);
    assert!(b.tabs[j].session.cart().line_items().is_empty());
    assert_eq!(b.tabs[j].session.orders(&b.tabs[j].cache).len(), 1);
}

/// The scenario: every attempt lost its answer, the shopper edited the cart, and every later
/// checkout got 409 `CART_NOT_ACTIVE`; the order was never shown. Now the next checkout finds the
/// order, archives and announces it, and the edit is kept in the new cart.
#[test]
fn an_order_whose_answers_were_lost_is_found_even_after_the_cart_was_edited() {
    let (mut b, mut shop, i) = shop_and_tab();
    shop.lose = 5;
    let mut quick = input();
    quick.send.policy.retries = 1;
    let id = start(&mut b, i, quick.clone()).unwrap();
    // Only the checkout attempts: keep the lookup from answering first.
    while b.answer(&mut |r| shop.handle(r)) {
        b.serve(&mut |_| HttpOutcome::Network("offline".into()));
    }
    let e = outcome(&b, i, id).as_ref().unwrap_err();
    assert_eq!(e.code, "NETWORK_ERROR");
    assert_eq!(shop.placed, 1);
    // The shopper goes on: another mug, then checks out again.
    add(&mut b, i, "mug", 1);
    b.settle();
    let again = start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    let order = outcome(&b, i, again).as_ref().unwrap();
    assert_eq!(
        (order["orderId"].clone(), order["recovered"].clone()),
        (json!("ord_1"), json!(true))
    );
    assert_eq!(shop.placed, 1, "never a second order");
    assert_eq!(b.ordered_events(i).len(), 1);
    assert_eq!(b.tabs[i].session.orders(&b.tabs[i].cache).len(), 1);
    let lines: Vec<_> = b.tabs[i]
        .session
        .cart()
        .line_items()
        .iter()
        .map(|l| l.quantity)
        .collect();
    assert_eq!(
        lines,
        vec![1],
        "the mug added after the lost order stays for the next one"
    );
}

#[test]
fn an_order_whose_answer_was_lost_is_looked_up_without_another_checkout() {
    let (mut b, mut shop, i) = shop_and_tab();
    shop.lose = 100;
    let mut quick = input();
    quick.send.policy.retries = 0;
    let id = start(&mut b, i, quick).unwrap();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    let e = outcome(&b, i, id).as_ref().unwrap_err();
    assert_eq!(e.code, "NETWORK_ERROR");
    // The lookup ran on its own and found the order: nothing was sent again.
    let posts = b.requests.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1);
    assert!(b
        .requests
        .iter()
        .any(|r| r.method == "GET" && r.path.ends_with(&format!("/carts/{}", b.ordered_events(i)[0].1))));
    assert_eq!(b.ordered_events(i).len(), 1);
    assert!(b.tabs[i].session.cart().line_items().is_empty(), "a new cart started");
    assert!(b.tabs[i].session.pending_checkout(&b.tabs[i].cache).is_none());
}

#[test]
fn a_failed_checkout_with_no_order_stays_failed_and_is_never_sent_on_its_own() {
    let (mut b, mut shop, i) = shop_and_tab();
    shop.script = vec![HttpOutcome::Timeout];
    let mut quick = input();
    quick.send.policy.retries = 0;
    let id = start(&mut b, i, quick).unwrap();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    assert_eq!(outcome(&b, i, id).as_ref().unwrap_err().code, "TIMEOUT");
    let record = b.tabs[i].session.pending_checkout(&b.tabs[i].cache).expect("kept");
    assert_eq!(record.state.as_str(), "failed");
    assert_eq!(b.requests.iter().filter(|r| r.method == "POST").count(), 1);
    // A reload looks it up again (no order), and does not resend it.
    b.close(i);
    let j = b.open_tab();
    b.serve(&mut |r| shop.handle(r));
    assert_eq!(shop.placed, 0);
    assert_eq!(b.requests.iter().filter(|r| r.method == "POST").count(), 1);
    // The shopper's next checkout reuses the key of the unchanged cart.
    let again = start(&mut b, j, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    assert!(outcome(&b, j, again).is_ok());
    let posts: Vec<_> = b.requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(
        posts[0].headers["X-Idempotency-Key"],
        posts[1].headers["X-Idempotency-Key"]
    );
    // Every request of the cart, checkouts and lookups across the reload, carries one secret, and
    // the order resolves with it (cart-server opens the order with nothing else).
    let secrets: std::collections::BTreeSet<Option<&String>> =
        b.requests.iter().map(|r| r.headers.get("X-Cart-Secret")).collect();
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    let secret = secrets.into_iter().next().flatten().expect("sent").clone();
    assert!(
        secret.len() == 32 && secret.bytes().all(|c| c.is_ascii_hexdigit()),
        "{secret}"
    );
    assert!(b.requests.iter().any(|r| r.method == "GET"), "a lookup was made");
    assert_eq!(outcome(&b, j, again).as_ref().unwrap()["secret"], json!(secret));
}

#[test]
fn a_success_without_an_order_id_finds_the_order_through_the_cart() {
    let (mut b, mut shop, i) = shop_and_tab();
    let id = start(&mut b, i, input()).unwrap();
    let (_, _, request, _) = b.sent.front().cloned().unwrap();
    shop.handle(&request);
    shop.script = vec![reply(201, json!({"status": "confirmed"}))];
    b.serve(&mut |r| shop.handle(r));
    let order = outcome(&b, i, id).as_ref().unwrap();
    assert_eq!(order["orderId"], json!("ord_1"));
}

#[test]
fn price_changed_then_accepted_prices_then_the_order() {
    let (mut b, mut shop, i) = shop_and_tab();
    let now = b.now();
    let mut server_view = serde_json::to_value(b.tabs[i].session.view(now).unwrap()).unwrap();
    server_view["lineItems"][0]["unitPrice"] = json!(1099);
    server_view["lineItems"][0]["total"] = json!(2198);
    server_view["totals"]["total"] = json!(2198);
    server_view["totals"]["subtotal"] = json!(2198);
    let details = json!({"expected": {}, "actual": {}, "view": server_view});
    shop.script = vec![refusal(409, "PRICE_CHANGED", details.clone())];
    let id = start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    let e = outcome(&b, i, id).as_ref().unwrap_err().clone();
    assert_eq!(e.code, "PRICE_CHANGED");
    let tab = &mut b.tabs[i];
    let (review, _) = tab.session.accept_server_prices(&e.details, &tab.cache, now).unwrap();
    assert_eq!(
        (review.lines[0].old_unit_price, review.lines[0].new_unit_price),
        (999, 1099)
    );
    assert_eq!(b.tabs[i].session.view(now).unwrap().totals.total, 2198);
    let again = start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    assert!(outcome(&b, i, again).is_ok());
    let posts: Vec<_> = b.requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(
        posts[1].body.as_ref().unwrap()["cart"]["expected"]["total"],
        json!(2198)
    );
    assert_ne!(
        posts[0].headers["X-Idempotency-Key"], posts[1].headers["X-Idempotency-Key"],
        "another body, another key"
    );
}

#[test]
fn a_checkout_queued_offline_is_sent_once_when_back_online() {
    let (mut b, mut shop, i) = shop_and_tab();
    b.online = false;
    let queued = CheckoutInput { queue: true, ..input() };
    let id = start(&mut b, i, queued).unwrap();
    let result = outcome(&b, i, id).as_ref().unwrap().clone();
    assert_eq!(result["status"], json!("queued"));
    assert!(b.requests.is_empty());
    b.online = true;
    let now = b.now();
    for _ in 0..2 {
        // Two `online` events: one send.
        let tab = &mut b.tabs[i];
        let effects = tab.session.online(&tab.cache, now, &mut b.rng);
        b.run(i, effects);
    }
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    assert_eq!(b.requests.len(), 1);
    assert_eq!(shop.placed, 1);
    assert_eq!(b.ordered_events(i).len(), 1);
    assert!(b.tabs[i].session.pending_checkout(&b.tabs[i].cache).is_none());
}

#[test]
fn a_queued_checkout_the_server_refuses_raises_an_error_event() {
    let (mut b, mut shop, i) = shop_and_tab();
    b.online = false;
    start(
        &mut b,
        i,
        CheckoutInput {
            queue: true,
            payment_method_id: Some("pm_card_declined".into()),
            ..input()
        },
    )
    .unwrap();
    let now = b.now();
    let tab = &mut b.tabs[i];
    let effects = tab.session.online(&tab.cache, now, &mut b.rng);
    b.run(i, effects);
    b.serve(&mut |r| shop.handle(r));
    let errors: Vec<_> = b.tabs[i]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Error(Reported::Checkout(e)) => Some(e.code.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors, vec!["PAYMENT_FAILED".to_string()]);
    assert!(b.tabs[i].session.pending_checkout(&b.tabs[i].cache).is_none());
}

#[test]
fn other_protocols_run_their_plan_through_the_session() {
    let (mut b, _, i) = shop_and_tab();
    let ct = CheckoutInput {
        protocol: Some(Protocol::Commercetools),
        token: Some("tok".into()),
        ..input()
    };
    let id = start(&mut b, i, ct).unwrap();
    let total = b.tabs[i].session.view(b.now()).unwrap().totals.total;
    b.serve(&mut |r| {
        if r.path.ends_with("/me/carts") {
            reply(201, json!({"id": "ct-1", "version": 1, "totalPrice": {"centAmount": total, "currencyCode": "EUR", "fractionDigits": 2}}))
        } else {
            reply(201, json!({"id": "order-9", "orderNumber": "9"}))
        }
    });
    let order = outcome(&b, i, id).as_ref().unwrap();
    assert_eq!(
        (order["protocol"].clone(), order["orderId"].clone()),
        (json!("commercetools"), json!("order-9"))
    );
    assert!(b.requests.iter().all(|r| !r.headers.contains_key("X-Idempotency-Key")));
    // Only the headers the platform defines: a browser's CORS preflight fails on any other.
    assert!(b.requests.iter().all(|r| !r.headers.contains_key("X-Request-ID")));
}

#[test]
fn the_cart_key_holds_the_ordered_state_s_successor() {
    let (mut b, mut shop, i) = shop_and_tab();
    start(&mut b, i, input()).unwrap();
    b.serve(&mut |r| shop.handle(r));
    b.settle();
    let stored = wasm_cart::snapshot::decode(&b.local[KEY]).unwrap().cart;
    assert_eq!(&stored, b.tabs[i].session.cart());
}
