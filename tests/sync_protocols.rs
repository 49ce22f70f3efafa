//! The sync adapters of DESIGN §8 (distributor v3, commercetools, Shopware, Sylius), each driven to the
//! end against a fake remote that answers like the seed documents describe.

mod common;

use common::{rich_catalog, Settings};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wasm_cart::checkout::{plan_for, HttpRequest, HttpResponse, Protocol, Step, SyncInput, SyncOutcome};
use wasm_cart::{price, Action, CartError, CartState, Catalog, ErrorCode, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000;

/// A cart of `lines` with the rich catalog, whose licence, large mug and shipping methods carry
/// Shopware ids (32 hex digits, as Shopware's UUIDs are).
fn input(lines: Value) -> (SyncInput, Catalog) {
    let s = Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    };
    let mut catalog = rich_catalog(s);
    for product in catalog["products"].as_array_mut().unwrap() {
        if product["id"] == "lic" {
            product["external"] = json!({"shopware": SW_LIC});
        }
        if product["id"] == "mug" {
            product["variants"][0]["external"] = json!({"shopware": SW_MUG_L, "commercetools": "ct-mug-large"});
        }
    }
    for method in catalog["shippingMethods"].as_array_mut().unwrap() {
        method["external"] = json!({"shopware": SW_STANDARD, "commercetools": "ct-standard"});
    }
    let catalog = Catalog::from_value(catalog).unwrap();
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
    let input = SyncInput {
        cart,
        view,
        customer_id: Some("cust 42".into()),
        po_number: Some("PO-7".into()),
        token: Some("tok".into()),
        access_key: None,
        channel: Some("WEB".into()),
        storefront_url: None,
        payment_method: None,
        account_id: None,
    };
    (input, catalog)
}

const SW_LIC: &str = "0190a1b2c3d4e5f60718293a4b5c6d7e";
const SW_MUG_L: &str = "0190a1b2c3d4e5f60718293a4b5c6d7f";
const SW_STANDARD: &str = "0190a1b2c3d4e5f60718293a4b5c6d80";

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
    (input, catalog): (SyncInput, Catalog),
    mut remote: impl FnMut(&HttpRequest) -> HttpResponse,
) -> (Result<SyncOutcome, CartError>, Vec<HttpRequest>) {
    let mut sent = Vec::new();
    let mut plan = match plan_for(protocol, input, &catalog) {
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
    let input = input(lines());
    // The review's total: the lines' totals, in major units (the distributor prices lines only).
    let lines_total: i64 = input.0.view.line_items.iter().map(|l| l.total).sum();
    let total = sw_total(lines_total);
    let (outcome, sent) = drive(Protocol::DistributorV3, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v3/customers/cust%2042/carts") => ok(json!({"cartId": "k9"})),
            ("POST", "/api/v3/customers/cust%2042/carts/k9/cartItems") => ok(json!({"cartItemId": "x"})),
            ("GET", "/api/v3/customers/cust%2042/carts/k9") => ok(json!({"total": total, "errors": []})),
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
    no_customer.0.customer_id = None;
    assert_eq!(
        drive(Protocol::DistributorV3, no_customer, |_| ok(json!({})))
            .0
            .unwrap_err()
            .code,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn sylius_v1_runs_every_checkout_step_and_reads_the_completed_order_back() {
    let (mut input, catalog) = shipped(lines());
    input.payment_method = Some("bank_transfer".into());
    let expected = input.view.totals.total;
    let mut completes = 0;
    let (outcome, sent) = drive(Protocol::Sylius, (input, catalog), |req| {
        let no_content = status(204, Value::Null);
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v1/carts/") => status(201, json!({"id": 21})),
            ("POST", "/api/v1/carts/21/items/") => status(201, json!({"id": 58})),
            ("PUT", "/api/v1/carts/21") => no_content,
            ("PUT", p) if p.starts_with("/api/v1/checkouts/") && !p.contains("complete") => no_content,
            ("PUT", "/api/v1/checkouts/complete/21") => {
                completes += 1;
                status(502, json!({})) // it completed; the answer was lost on the way
            }
            ("GET", "/api/v1/checkouts/21") => ok(json!({"id": 21, "total": expected,
                "checkoutState": if completes > 0 { "completed" } else { "payment_selected" }, "number": "000000042"})),
            other => panic!("unexpected {other:?}"),
        }
    });
    let outcome = outcome.unwrap();
    assert_eq!(outcome.orders[0].order_number.as_deref(), Some("000000042"));
    let steps: Vec<String> = sent.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        steps,
        [
            "POST /api/v1/carts/",
            "POST /api/v1/carts/21/items/",
            "POST /api/v1/carts/21/items/",
            "PUT /api/v1/carts/21",
            "PUT /api/v1/checkouts/addressing/21",
            "PUT /api/v1/checkouts/select-shipping/21",
            "PUT /api/v1/checkouts/select-payment/21",
            "GET /api/v1/checkouts/21",
            "PUT /api/v1/checkouts/complete/21",
            "GET /api/v1/checkouts/21",
        ]
    );
    assert_eq!(sent[0].body.as_ref().unwrap()["localeCode"], "de_DE");
    assert_eq!(sent[2].body, Some(json!({"variant": "MUG-L", "quantity": 2})));
    assert_eq!(sent[3].body, Some(json!({"promotionCoupon": "TENOFF"})));
    assert_eq!(sent[5].body, Some(json!({"shipments": [{"method": "standard"}]})));
    assert_eq!(completes, 1, "completed once: the read said it went through");
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
    assert_eq!(Protocol::parse("sylius-shop").unwrap(), Protocol::SyliusShop);
    // Sylius without its payment method's code or a full address: refused before any request.
    assert_eq!(
        drive(Protocol::Sylius, input(lines()), |_| ok(json!({})))
            .0
            .unwrap_err()
            .code,
        ErrorCode::InvalidRequest
    );
    let mut sylius = shipped(lines());
    sylius.0.payment_method = Some("bank_transfer".into());
    let (outcome, _) = drive(Protocol::Sylius, sylius, |_| ok(json!({"no": "id"})));
    assert_eq!(outcome.unwrap_err().code, ErrorCode::InvalidResponse);
}

// ---------------------------------------------------------------- commercetools (edge cases; the
// normal checkout is proven against @labdigital/commercetools-mock in tests/node/platforms.test.mjs)

fn status(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: BTreeMap::new(),
        body,
    }
}

fn shipped(lines: Value) -> (SyncInput, Catalog) {
    let mut lines = lines.as_array().unwrap().clone();
    lines.push(
        json!({"action": "setShippingAddress", "address": {"country": "DE", "firstName": "Ada", "lastName": "Lovelace",
        "streetName": "Main St", "streetNumber": "1", "postalCode": "10115", "city": "Berlin"}}),
    );
    input(Value::Array(lines))
}

/// A commercetools Cart as the API answers it (HTTP API "Carts": Cart, TaxedPrice, LineItem).
fn ct_cart(version: u64, gross: i64, net: i64) -> Value {
    json!({"id": "ct-1", "version": version, "cartState": "Active",
        "totalPrice": {"type": "centPrecision", "currencyCode": "EUR", "centAmount": net, "fractionDigits": 2},
        "taxedPrice": {"totalNet": {"centAmount": net, "currencyCode": "EUR"}, "totalGross": {"centAmount": gross, "currencyCode": "EUR"}},
        "lineItems": [{"variant": {"sku": "LIC"}, "totalPrice": {"centAmount": 1}}]})
}

#[test]
fn commercetools_sends_skus_the_shown_shipping_method_and_an_address_and_compares_the_gross_total() {
    let input = shipped(lines());
    let expected = input.0.view.totals.total;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |req| match req.path.as_str() {
        // A net-priced project: totalPrice is net, the charge is taxedPrice.totalGross.
        "/me/carts" => ok(ct_cart(3, expected, expected - 500)),
        "/me/orders" => ok(json!({"id": "ord-1", "orderNumber": "2026-0001"})),
        other => panic!("unexpected {other}"),
    });
    let outcome = outcome.unwrap();
    assert_eq!(
        (outcome.remote_total, outcome.orders[0].order_number.as_deref()),
        (Some(expected), Some("2026-0001"))
    );
    let draft = sent[0].body.as_ref().unwrap();
    // The master variant by its SKU; the large mug by the catalog's commercetools id.
    assert_eq!(
        draft["lineItems"],
        json!([{"sku": "LIC", "quantity": 5}, {"sku": "ct-mug-large", "quantity": 2}])
    );
    // The catalog's default method, which the shopper's total includes, by its commercetools key.
    assert_eq!(
        draft["shippingMethod"],
        json!({"typeId": "shipping-method", "key": "ct-standard"})
    );
    assert_eq!(draft["shippingAddress"]["city"], "Berlin");
    assert_eq!(draft["discountCodes"], json!(["TENOFF"]));
    assert_eq!(sent[1].body, Some(json!({"id": "ct-1", "version": 3})));
    assert!(sent.iter().all(|r| r.headers["Authorization"] == "Bearer tok"));
}

#[test]
fn commercetools_refuses_a_different_total_with_the_lines_that_differ() {
    let input = shipped(lines());
    let expected = input.0.view.totals.total;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |_| {
        ok(ct_cart(1, expected + 100, expected))
    });
    let e = outcome.unwrap_err();
    assert_eq!(
        (e.code, e.details["actual"].clone(), e.details["expected"].clone()),
        (ErrorCode::PriceChanged, json!(expected + 100), json!(expected))
    );
    assert_eq!(e.details["lines"][0]["sku"], "LIC");
    assert_eq!(e.details["lines"][0]["actual"], 1);
    assert_eq!(sent.len(), 1, "no order after a price difference");
}

#[test]
fn commercetools_rereads_the_version_after_a_concurrent_modification() {
    let input = shipped(lines());
    let expected = input.0.view.totals.total;
    let mut orders = 0;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/me/carts") => ok(ct_cart(1, expected, expected)),
            ("GET", "/me/carts/ct-1") => ok(ct_cart(2, expected, expected)),
            ("POST", "/me/orders") => {
                orders += 1;
                if orders == 1 {
                    status(
                        409,
                        json!({"statusCode": 409, "message": "Object ct-1 has a different version than expected.",
                    "errors": [{"code": "ConcurrentModification", "currentVersion": 2, "message": "..."}]}),
                    )
                } else {
                    ok(json!({"id": "ord-2"}))
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "ord-2");
    assert_eq!(sent[3].body, Some(json!({"id": "ct-1", "version": 2})));
}

#[test]
fn commercetools_looks_the_order_up_after_a_server_error_instead_of_ordering_twice() {
    let input = shipped(lines());
    let expected = input.0.view.totals.total;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/me/carts") => ok(ct_cart(1, expected, expected)),
            ("POST", "/me/orders") => status(502, json!({"statusCode": 502, "message": "Bad gateway"})),
            ("GET", path) if path.starts_with("/me/orders?where=") => {
                ok(json!({"count": 1, "results": [{"id": "ord-late", "orderNumber": "N-9"}]}))
            }
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "ord-late");
    assert_eq!(sent[2].path, "/me/orders?where=cart%28id%3D%22ct-1%22%29");

    // Nothing was placed: the order is asked for again, and a lookup that never finds one ends it.
    let input = shipped(lines());
    let (outcome, sent) = drive(Protocol::Commercetools, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/me/carts") => ok(ct_cart(1, expected, expected)),
            ("POST", "/me/orders") => status(500, json!({})),
            ("GET", _) => ok(json!({"count": 0, "results": []})),
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(outcome.unwrap_err().code, ErrorCode::CheckoutFailed);
    let asked = sent.iter().filter(|r| r.path == "/me/orders").count();
    assert_eq!(
        asked, 3,
        "at most three orders asked for, each after a lookup found none"
    );
}

#[test]
fn commercetools_looks_the_order_up_when_the_order_request_got_no_answer() {
    let (input, catalog) = shipped(lines());
    let expected = input.view.totals.total;
    let mut plan = plan_for(Protocol::Commercetools, input, &catalog).unwrap();
    assert!(matches!(plan.next(None).unwrap(), Step::Send(r) if r.path == "/me/carts"));
    assert!(
        matches!(plan.next(Some(ok(ct_cart(1, expected, expected)))).unwrap(), Step::Send(r) if r.path == "/me/orders")
    );
    match plan.no_answer() {
        Some(Ok(Step::Send(r))) => assert!(r.path.starts_with("/me/orders?where=")),
        _ => panic!("expected a lookup"),
    }
}

#[test]
fn commercetools_needs_somewhere_to_ship() {
    let (mut input, catalog) = input(lines());
    input.cart = CartState::new(
        NewCart {
            id: "c2".into(),
            currency: "EUR".into(),
            ..NewCart::default()
        },
        &catalog,
        Timestamp::from_millis(NOW),
    )
    .unwrap();
    let e = plan_for(Protocol::Commercetools, input, &catalog).err().unwrap();
    assert_eq!(
        (e.code, e.details["field"].clone()),
        (ErrorCode::InvalidRequest, json!("shippingAddress"))
    );
}

// ---------------------------------------------------------------- Shopware (edge cases; the normal
// checkout runs against the schema-validated emulator in tests/node/platforms.test.mjs)

fn sw_input() -> (SyncInput, Catalog) {
    let (mut input, catalog) = shipped(lines());
    input.token = None;
    input.access_key = Some("SWSCKEY".into());
    input.storefront_url = Some("https://shop.example".into());
    (input, catalog)
}

fn sw_total(minor: i64) -> Value {
    serde_json::from_str(&wasm_cart::money::from_minor(minor, 2).to_string()).unwrap()
}

/// A Store API answering like Shopware: ids by list, a guest registration that rotates the token.
fn shopware(expected: i64, errors: Value) -> impl FnMut(&HttpRequest) -> HttpResponse {
    move |req| {
        assert_eq!(req.headers["sw-access-key"], "SWSCKEY");
        assert!(!req.headers.contains_key("X-Request-ID"));
        let mut r = match req.path.as_str() {
            "/store-api/country" => ok(json!({"elements": [{"id": "c0de", "iso": "DE"}]})),
            "/store-api/currency" => ok(json!([{"id": "eur0", "isoCode": "EUR"}])),
            "/store-api/salutation" => ok(json!({"elements": [{"id": "s0", "salutationKey": "not_specified"}]})),
            "/store-api/account/register" => ok(json!({"id": "cust", "guest": true})),
            "/store-api/context" => ok(json!({})),
            "/store-api/checkout/cart/line-item" => {
                ok(json!({"price": {"totalPrice": sw_total(expected)}, "errors": errors}))
            }
            "/store-api/checkout/order" => ok(json!({"id": "sw-order", "orderNumber": "10001"})),
            other => panic!("unexpected {other}"),
        };
        if req.path == "/store-api/account/register" {
            r.headers.insert("sw-context-token".into(), "guest-token".into());
        }
        r
    }
}

#[test]
fn shopware_registers_a_guest_sets_the_context_and_orders_despite_promotion_notices() {
    let input = sw_input();
    let expected = input.0.view.totals.total;
    let notice = json!({"promotion-discount-added-TENOFF": {"code": 0, "key": "promotion-discount-added-TENOFF",
        "level": 0, "message": "Discount TENOFF has been added", "messageKey": "promotion-discount-added", "block": false}});
    let (outcome, sent) = drive(Protocol::Shopware, input, shopware(expected, notice));
    assert_eq!(outcome.unwrap().orders[0].order_id, "sw-order");
    let paths: Vec<&str> = sent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/store-api/country",
            "/store-api/currency",
            "/store-api/salutation",
            "/store-api/account/register",
            "/store-api/context",
            "/store-api/checkout/cart/line-item",
            "/store-api/checkout/order"
        ]
    );
    let register = sent[3].body.as_ref().unwrap();
    assert_eq!(
        (
            register["guest"].clone(),
            register["billingAddress"]["countryId"].clone()
        ),
        (json!(true), json!("c0de"))
    );
    assert_eq!(register["billingAddress"]["street"], "Main St 1");
    assert!(!sent[3].headers.contains_key("sw-context-token"));
    assert!(sent[4..].iter().all(|r| r.headers["sw-context-token"] == "guest-token"));
    assert_eq!(
        sent[4].body,
        Some(json!({"currencyId": "eur0", "shippingMethodId": SW_STANDARD}))
    );
    let items = &sent[5].body.as_ref().unwrap()["items"];
    assert_eq!(
        items[0],
        json!({"id": SW_LIC, "type": "product", "referencedId": SW_LIC, "quantity": 5})
    );
    assert_eq!(
        items[2],
        json!({"id": "TENOFF", "type": "promotion", "referencedId": "TENOFF"})
    );
}

#[test]
fn shopware_stops_on_blocking_errors_and_needs_its_ids_and_access_key() {
    let input = sw_input();
    let expected = input.0.view.totals.total;
    let stock = json!([{"key": "product-stock-reached", "level": 20, "message": "Only 1 left", "messageKey": "product-stock-reached"}]);
    let (outcome, sent) = drive(Protocol::Shopware, input, shopware(expected, stock));
    let e = outcome.unwrap_err();
    assert_eq!(
        (e.code, e.details["errors"][0]["key"].clone()),
        (ErrorCode::CheckoutFailed, json!("product-stock-reached"))
    );
    assert!(sent.iter().all(|r| r.path != "/store-api/checkout/order"));

    let (mut no_key, catalog) = sw_input();
    no_key.access_key = None;
    let e = plan_for(Protocol::Shopware, no_key, &catalog).err().unwrap();
    assert_eq!(e.details["field"], "accessKey");

    // The plain mug has no Shopware id in the catalog: refused before any request.
    let (mut no_id, catalog) = sw_input();
    let now = Timestamp::from_millis(NOW);
    no_id
        .cart
        .apply(
            &catalog,
            &Action::list_from_value(json!([{"action": "addLineItem", "productId": "mug", "quantity": 1}])).unwrap(),
            now,
        )
        .unwrap();
    let e = plan_for(Protocol::Shopware, no_id, &catalog).err().unwrap();
    assert_eq!(
        (e.code, e.details["field"].clone()),
        (ErrorCode::InvalidRequest, json!("external.shopware"))
    );
}

#[test]
fn shopware_looks_for_the_order_after_a_server_error() {
    let input = sw_input();
    let expected = input.0.view.totals.total;
    let mut inner = shopware(expected, json!([]));
    let (outcome, sent) = drive(Protocol::Shopware, input, |req| match req.path.as_str() {
        "/store-api/checkout/order" => status(503, json!({"errors": [{"status": "503", "code": "0"}]})),
        "/store-api/order" => ok(
            json!({"orders": {"elements": [{"id": "found", "orderNumber": "10002", "amountTotal": sw_total(expected)}]}}),
        ),
        _ => inner(req),
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "found");
    assert_eq!(sent.iter().filter(|r| r.path == "/store-api/checkout/order").count(), 1);
}

// ---------------------------------------------------------------- after an unknown outcome

#[test]
fn a_refused_second_try_is_looked_up_and_a_failed_lookup_is_an_unknown_outcome() {
    // commercetools: the first order answer is lost (502), the lookup finds nothing yet, the second
    // try is refused (the cart is Ordered by now): looked up again, found.
    let input = shipped(lines());
    let expected = input.0.view.totals.total;
    let mut lookups = 0;
    let (outcome, sent) = drive(Protocol::Commercetools, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/me/carts") => ok(ct_cart(1, expected, expected)),
            ("POST", "/me/orders") if lookups == 0 => status(502, json!({})),
            ("POST", "/me/orders") => status(400, json!({"errors": [{"code": "InvalidOperation"}]})),
            ("GET", _) => {
                lookups += 1;
                if lookups == 1 {
                    ok(json!({"results": []}))
                } else {
                    ok(json!({"results": [{"id": "ord-late"}]}))
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "ord-late");
    assert_eq!(sent.iter().filter(|r| r.path == "/me/orders").count(), 2);

    // The lookup itself fails: whether an order exists is unknown, and the error says so.
    let input = shipped(lines());
    let (outcome, _) = drive(Protocol::Commercetools, input, |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/me/carts") => ok(ct_cart(1, expected, expected)),
            ("POST", "/me/orders") => status(502, json!({})),
            _ => status(503, json!({})),
        }
    });
    let e = outcome.unwrap_err();
    assert!(wasm_cart::checkout::plan::is_outcome_unknown(&e), "{e:?}");
}

#[test]
fn the_distributor_lookup_reads_every_page_of_orders() {
    let (mut input, catalog) = input(lines());
    input.account_id = Some("acc-1".into());
    let lines_total: i64 = input.view.line_items.iter().map(|l| l.total).sum();
    let total = sw_total(lines_total);
    let (outcome, sent) = drive(Protocol::DistributorV3, (input, catalog), |req| {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v3/customers/cust%2042/carts") => ok(json!({"name": "customers/cust 42/carts/k9"})),
            ("POST", "/api/v3/customers/cust%2042/carts/k9/cartItems") => ok(json!({})),
            ("GET", "/api/v3/customers/cust%2042/carts/k9") => ok(json!({"total": total, "errors": []})),
            ("POST", "/api/v3/customers/cust%2042/carts/k9:checkout") => status(504, json!({})),
            ("GET", "/api/v3/accounts/acc-1/customers/cust%2042/orders?pageSize=100") => {
                ok(json!({"orders": [{"orderId": "old", "cartId": "k1"}], "nextPageToken": "p 2"}))
            }
            ("GET", "/api/v3/accounts/acc-1/customers/cust%2042/orders?pageSize=100&pageToken=p%202") => ok(
                json!({"orders": [{"name": "accounts/acc-1/customers/cust 42/orders/o-9", "referenceId": "customers/cust 42/carts/k9"}]}),
            ),
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "o-9");
    assert_eq!(
        sent.iter().filter(|r| r.path.ends_with(":checkout")).count(),
        1,
        "never checked out twice"
    );
}

#[test]
fn a_logged_in_shopware_customer_s_older_order_is_never_taken_for_this_one() {
    let (mut input, catalog) = sw_input();
    input.token = Some("customer-context".into());
    let expected = input.view.totals.total;
    let mut inner = shopware(expected, json!([]));
    let mut orders = 0;
    let (outcome, sent) = drive(Protocol::Shopware, (input, catalog), |req| match req.path.as_str() {
        // The customer's newest order: an earlier one of the same basket and total.
        "/store-api/order" => ok(json!({"orders": {"elements": [{"id": "older", "amountTotal": sw_total(expected)}]}})),
        "/store-api/checkout/order" => {
            orders += 1;
            if orders == 1 {
                status(502, json!({})) // not processed
            } else {
                ok(json!({"id": "new-order"}))
            }
        }
        _ => inner(req),
    });
    assert_eq!(outcome.unwrap().orders[0].order_id, "new-order");
    assert!(
        sent.iter().all(|r| r.path != "/store-api/account/register"),
        "a customer's context: no guest"
    );
    assert_eq!(
        sent.iter().filter(|r| r.path == "/store-api/order").count(),
        2,
        "the baseline, then the lookup"
    );
}
