//! The sync adapters of DESIGN §8 (distributor v3, commercetools, Shopware, Sylius), each driven to the
//! end against a fake remote that answers like the seed documents describe.

mod common;

use common::{rich_catalog, Settings};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wasm_cart::checkout::{plan_for, HttpRequest, HttpResponse, Protocol, Step, SyncInput, SyncOutcome};
use wasm_cart::{price, Action, CartError, CartState, Catalog, ErrorCode, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000;

fn input(lines: Value) -> SyncInput {
    let s = Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    };
    let catalog = Catalog::from_value(rich_catalog(s)).unwrap();
    let now = Timestamp::from_millis(NOW);
    let new = NewCart {
        id: "c1".into(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        locale: Some("de-DE".into()),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, &catalog, now).unwrap();
    cart.apply(&catalog, &Action::list_from_value(lines).unwrap(), now)
        .unwrap();
    let view = price(&cart, &catalog, now).unwrap();
    SyncInput {
        cart,
        view,
        customer_id: Some("cust 42".into()),
        po_number: Some("PO-7".into()),
        token: Some("tok".into()),
        access_key: None,
        channel: Some("WEB".into()),
    }
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: BTreeMap::new(),
        body,
    }
}

/// Runs a plan against `remote`; returns the outcome and every request sent.
fn drive(
    protocol: Protocol,
    input: SyncInput,
    mut remote: impl FnMut(&HttpRequest) -> HttpResponse,
) -> (Result<SyncOutcome, CartError>, Vec<HttpRequest>) {
    let mut sent = Vec::new();
    let mut plan = match plan_for(protocol, input) {
        Ok(plan) => plan,
        Err(e) => return (Err(e), sent),
    };
    let mut response = None;
    for _ in 0..100 {
        match plan.next(response.take()) {
            Ok(Step::Send(request)) => {
                response = Some(remote(&request));
                sent.push(request);
            }
            Ok(Step::Done(outcome)) => return (Ok(outcome), sent),
            Err(e) => return (Err(e), sent),
        }
    }
    panic!("plan did not finish");
}

fn lines() -> Value {
    json!([
        {"action": "addLineItem", "productId": "lic", "quantity": 5, "attributes": {"domain": "example.com"}},
        {"action": "addLineItem", "productId": "mug", "variantId": 2, "quantity": 2},
        {"action": "addDiscountCode", "code": "TENOFF"},
        {"action": "setCustomer", "email": "shop@example.com"}
    ])
}

#[test]
fn distributor_v3_adds_configured_items_and_lists_one_order_per_vendor() {
    let (outcome, sent) = drive(Protocol::DistributorV3, input(lines()), |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v3/customers/cust%2042/carts") => ok(json!({"cartId": "k9"})),
            ("POST", "/api/v3/customers/cust%2042/carts/k9/cartItems") => ok(json!({"cartItemId": "x"})),
            ("GET", "/api/v3/customers/cust%2042/carts/k9") => ok(json!({"totalPrice": 1, "validationErrors": []})),
            ("POST", "/api/v3/customers/cust%2042/carts/k9:checkout") => ok(
                json!({"orders": [{"orderId": "o-ms", "vendor": "microsoft"}, {"orderId": "o-acme", "vendor": "acme"}]}),
            ),
            other => panic!("unexpected {other:?}"),
        }
    });
    let outcome = outcome.unwrap();
    assert_eq!(
        outcome.orders.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(),
        ["o-ms", "o-acme"]
    );
    assert_eq!(sent.len(), 5);
    assert_eq!(
        sent[1].body.as_ref().unwrap()["attributes"],
        json!({"domain": "example.com"})
    );
    assert_eq!(sent[4].body, Some(json!({"poNumber": "PO-7"})));
    assert_eq!(sent[0].headers["Authorization"], "Bearer tok");
}

#[test]
fn distributor_v3_stops_on_validation_errors_and_http_errors() {
    let (outcome, sent) = drive(Protocol::DistributorV3, input(lines()), |req| {
        match req.method.as_str() {
            "GET" => ok(json!({"validationErrors": [{"item": "x", "message": "domain missing"}]})),
            _ => ok(json!({"cartId": "k9"})),
        }
    });
    assert_eq!(outcome.unwrap_err().code, ErrorCode::CheckoutFailed);
    assert_eq!(sent.last().unwrap().method, "GET", "no checkout after a failed review");

    let (outcome, _) = drive(Protocol::DistributorV3, input(lines()), |_| HttpResponse {
        status: 402,
        headers: BTreeMap::new(),
        body: json!({"error": {"code": "PAYMENT_FAILED", "message": "no"}}),
    });
    let e = outcome.unwrap_err();
    assert_eq!(
        (e.code, e.details["status"].clone(), e.details["remoteCode"].clone()),
        (ErrorCode::CheckoutFailed, json!(402), json!("PAYMENT_FAILED"))
    );
    let mut no_customer = input(lines());
    no_customer.customer_id = None;
    assert_eq!(
        drive(Protocol::DistributorV3, no_customer, |_| ok(json!({})))
            .0
            .unwrap_err()
            .code,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn commercetools_sends_one_draft_then_orders_when_totals_agree() {
    let input = input(lines());
    let expected = input.view.totals.total;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |req| match req.path.as_str() {
        "/me/carts" => {
            ok(json!({"id": "ct-1", "version": 3, "totalPrice": {"centAmount": expected, "currencyCode": "EUR"}}))
        }
        "/me/orders" => ok(json!({"id": "ord-1", "orderNumber": "2026-0001"})),
        other => panic!("unexpected {other}"),
    });
    let outcome = outcome.unwrap();
    assert_eq!(
        (outcome.remote_total, outcome.orders[0].order_number.as_deref()),
        (Some(expected), Some("2026-0001"))
    );
    let draft = sent[0].body.as_ref().unwrap();
    assert_eq!(
        draft["lineItems"],
        json!([{"productId": "lic", "quantity": 5}, {"sku": "MUG-L", "quantity": 2}])
    );
    assert_eq!(
        (draft["currency"].clone(), draft["discountCodes"].clone()),
        (json!("EUR"), json!(["TENOFF"]))
    );
    assert_eq!(sent[1].body, Some(json!({"id": "ct-1", "version": 3})));
}

#[test]
fn commercetools_refuses_a_different_total_with_price_changed() {
    let input = input(lines());
    let expected = input.view.totals.total;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |_| {
        ok(json!({"id": "ct-1", "version": 1, "totalPrice": {"centAmount": expected + 100}}))
    });
    let e = outcome.unwrap_err();
    assert_eq!(
        (e.code, e.details["actual"].clone()),
        (ErrorCode::PriceChanged, json!(expected + 100))
    );
    assert_eq!(sent.len(), 1, "no order after a price difference");
}

#[test]
fn shopware_keeps_the_context_token_and_adds_codes_as_promotion_items() {
    let input = input(lines());
    let total = wasm_cart::money::from_minor(input.view.totals.total, 2).to_string();
    let (outcome, sent) = drive(Protocol::Shopware, input, |req| match req.path.as_str() {
        "/store-api/checkout/cart" => HttpResponse {
            status: 200,
            headers: BTreeMap::from([("sw-context-token".to_string(), "ctx-2".to_string())]),
            body: json!({"token": "ctx-2", "lineItems": []}),
        },
        "/store-api/checkout/cart/line-item" => {
            ok(json!({"price": {"totalPrice": serde_json::from_str::<Value>(&total).unwrap()}, "errors": {}}))
        }
        "/store-api/checkout/order" => ok(json!({"id": "sw-order", "orderNumber": "10001"})),
        other => panic!("unexpected {other}"),
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "sw-order");
    assert_eq!(sent[0].headers["sw-context-token"], "tok");
    assert_eq!(sent[1].headers["sw-context-token"], "ctx-2");
    let items = &sent[1].body.as_ref().unwrap()["items"];
    assert_eq!(items[2], json!({"type": "promotion", "referencedId": "TENOFF"}));
}

#[test]
fn sylius_adds_items_by_variant_code_and_compares_the_total() {
    let input = input(lines());
    let expected = input.view.totals.total;
    let (outcome, sent) = drive(Protocol::Sylius, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v1/carts/") => HttpResponse {
                status: 201,
                headers: BTreeMap::new(),
                body: json!({"id": 21}),
            },
            ("POST", "/api/v1/carts/21/items/") => HttpResponse {
                status: 201,
                headers: BTreeMap::new(),
                body: json!({"id": 58}),
            },
            ("GET", "/api/v1/carts/21") => ok(json!({"id": 21, "total": expected})),
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(outcome.unwrap().remote_cart_id.as_deref(), Some("21"));
    assert_eq!(sent[0].body.as_ref().unwrap()["locale_code"], "de_DE");
    assert_eq!(sent[2].body, Some(json!({"variant": "MUG-L", "quantity": 2})));
}

#[test]
fn protocols_refuse_what_they_cannot_carry_and_unknown_names() {
    let with_fee =
        input(json!([{"action": "addCustomLineItem", "name": "Fee", "amount": "1.00", "taxCategory": "std"}]));
    assert_eq!(
        drive(Protocol::Commercetools, with_fee, |_| ok(json!({})))
            .0
            .unwrap_err()
            .code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(Protocol::parse("commercetools").unwrap(), Protocol::Commercetools);
    assert_eq!(Protocol::parse("distributor-v3").unwrap(), Protocol::DistributorV3);
    assert_eq!(Protocol::parse("magento").unwrap_err().code, ErrorCode::InvalidRequest);
    let (outcome, _) = drive(Protocol::Sylius, input(lines()), |_| ok(json!({"no": "id"})));
    assert_eq!(outcome.unwrap_err().code, ErrorCode::InvalidResponse);
}
