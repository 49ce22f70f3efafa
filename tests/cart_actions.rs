//! Edge cases of the cart actions and the pricing pipeline, through the public API.

mod common;

use common::{rich_catalog, Settings};
use serde_json::{json, Value};
use wasm_cart::pricing::{CodeState, Severity};
use wasm_cart::{price, Action, CartState, CartStatus, CartView, Catalog, ErrorCode, MergeMode, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000; // 2026-11-21T12:00:00Z

fn now() -> Timestamp {
    Timestamp::from_millis(NOW)
}

fn catalog() -> Catalog {
    let s = Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    };
    Catalog::from_value(rich_catalog(s)).unwrap()
}

fn cart(catalog: &Catalog) -> CartState {
    let new = NewCart {
        id: "cart_t".into(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        ..NewCart::default()
    };
    CartState::new(new, catalog, now()).unwrap()
}

fn act(v: Value) -> Vec<Action> {
    match v {
        Value::Array(_) => Action::list_from_value(v).unwrap(),
        v => vec![Action::from_value(v).unwrap()],
    }
}

/// Applies actions; a refusal's `details` must have its code's declared shape (src/error/details.rs).
fn apply(cart: &mut CartState, catalog: &Catalog, v: Value) -> Result<(), wasm_cart::CartError> {
    cart.apply(catalog, &act(v), now()).inspect_err(|e| {
        assert_eq!(
            wasm_cart::error::details::mismatches(e.code, &e.details),
            Vec::<String>::new()
        );
    })
}

fn view(cart: &CartState, catalog: &Catalog) -> CartView {
    price(cart, catalog, now()).unwrap()
}

fn codes(view: &CartView) -> Vec<&str> {
    view.issues.iter().map(|i| i.code.as_str()).collect()
}

#[test]
fn malformed_actions_are_invalid_request_naming_the_field() {
    let e = Action::from_value(json!({"action": "changeLineItemQuantity", "quantity": 2})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(e.message.contains("lineItemId"), "{}", e.message);
    assert_eq!(
        Action::from_value(json!({"action": "teleport"})).unwrap_err().code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        Action::list_from_value(json!({"action": "clear"})).unwrap_err().code,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn quantities_must_be_integers_in_range() {
    let c = catalog();
    let mut cart = cart(&c);
    for q in [json!(0), json!(-1), json!(10000), json!(1.5), json!(1e30)] {
        let e = apply(
            &mut cart,
            &c,
            json!({"action": "addLineItem", "productId": "mug", "quantity": q}),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidQuantity, "{q}");
    }
    // The product's own maximum (phone: 3), also when stacking.
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "phone", "quantity": 2}),
    )
    .unwrap();
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "phone", "quantity": 2}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidQuantity);
    assert_eq!(e.details["max"], 3);
    assert_eq!(cart.line_items()[0].quantity, 2);
}

#[test]
fn variants_and_skus_resolve_to_the_same_line() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!({"action": "addLineItem", "sku": "MUG-L"})).unwrap();
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "variantId": 2, "quantity": 2}),
    )
    .unwrap();
    assert_eq!(cart.line_items().len(), 1);
    let v = view(&cart, &c);
    assert_eq!((v.line_items[0].quantity, v.line_items[0].unit_price), (3, 1249));
    assert_eq!(v.line_items[0].name, "Mug large");
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "variantId": 9}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidItem);
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "shirt", "sku": "MUG"}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidItem);
    // The refusal names what was given (the package README's error table).
    assert_eq!(e.details["sku"], "MUG");
    assert_eq!(e.details["productId"], "shirt");
}

#[test]
fn unavailable_products_are_refused() {
    let c = catalog();
    let mut cart = cart(&c);
    let e = apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "gone"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::ProductUnavailable);
    // No JPY price for the shirt.
    let mut jpy = CartState::new(
        NewCart {
            id: "j".into(),
            currency: "JPY".into(),
            ..NewCart::default()
        },
        &c,
        now(),
    )
    .unwrap();
    let e = apply(&mut jpy, &c, json!({"action": "addLineItem", "productId": "shirt"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::ProductUnavailable);
}

#[test]
fn batch_errors_carry_the_action_index() {
    let c = catalog();
    let mut cart = cart(&c);
    let e = apply(
        &mut cart,
        &c,
        json!([{"action": "addLineItem", "productId": "mug"}, {"action": "removeLineItem", "lineItemId": "li_7"}]),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ItemNotFound);
    assert_eq!(e.details["actionIndex"], 1);
    assert_eq!(cart.version(), 0);
    assert!(cart.line_items().is_empty());
}

#[test]
fn rules_refuse_new_breaches_but_let_a_breached_cart_be_repaired() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "plan-post"}),
    )
    .unwrap();
    let e = apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "plan-pre"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::IncompatibleItems);
    // Swapping the plan in one batch is fine: the rule holds at the end.
    apply(
        &mut cart,
        &c,
        json!([{"action": "removeLineItem", "lineItemId": "li_1"}, {"action": "addLineItem", "productId": "plan-pre"}]),
    )
    .unwrap();
    // maxLines: at most 2 device lines (different attributes make different lines).
    for domain in ["a", "b"] {
        apply(
            &mut cart,
            &c,
            json!({"action": "addLineItem", "productId": "phone", "attributes": {"imei": domain}}),
        )
        .unwrap();
    }
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "phone", "attributes": {"imei": "c"}}),
    );
    assert_eq!(e.unwrap_err().code, ErrorCode::IncompatibleItems);

    // A catalog that tightens the rule leaves the cart in breach: an issue, and it can still shrink.
    let mut tighter = rich_catalog(Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    });
    tighter["rules"][2]["max"] = json!(1);
    let tighter = Catalog::from_value(tighter).unwrap();
    assert!(codes(&view(&cart, &tighter)).contains(&"INCOMPATIBLE_ITEMS"));
    apply(
        &mut cart,
        &tighter,
        json!({"action": "addLineItem", "productId": "mug"}),
    )
    .unwrap();
    let e = apply(
        &mut cart,
        &tighter,
        json!({"action": "addLineItem", "productId": "phone", "attributes": {"imei": "d"}}),
    );
    assert_eq!(e.unwrap_err().code, ErrorCode::IncompatibleItems);
    apply(
        &mut cart,
        &tighter,
        json!({"action": "removeLineItem", "lineItemId": "li_3"}),
    )
    .unwrap();
    assert!(!codes(&view(&cart, &tighter)).contains(&"INCOMPATIBLE_ITEMS"));
}

#[test]
fn setting_attributes_folds_twin_lines() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "lic", "quantity": 2, "attributes": {"domain": "a.example"}}),
    )
    .unwrap();
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "lic", "quantity": 3}),
    )
    .unwrap();
    assert!(codes(&view(&cart, &c)).contains(&"MISSING_ATTRIBUTE"));
    apply(
        &mut cart,
        &c,
        json!({"action": "setLineItemAttributes", "lineItemId": "li_2", "attributes": {"domain": "a.example"}}),
    )
    .unwrap();
    assert_eq!(cart.line_items().len(), 1);
    assert_eq!(
        (cart.line_items()[0].id.as_str(), cart.line_items()[0].quantity),
        ("li_1", 5)
    );
    assert!(view(&cart, &c).can_checkout);
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "setLineItemAttributes", "lineItemId": "li_1", "attributes": {"x": [1]}}),
    );
    assert_eq!(e.unwrap_err().code, ErrorCode::InvalidRequest);
}

#[test]
fn custom_lines_and_credits() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "book"})).unwrap();
    apply(&mut cart, &c, json!({"action": "addCustomLineItem", "name": "Gift wrap", "amount": "2.50", "taxCategory": "std", "quantity": 2}))
        .unwrap();
    apply(&mut cart, &c, json!({"action": "addCustomLineItem", "name": "Voucher", "amount": "5.00", "taxCategory": "reduced", "kind": "credit"}))
        .unwrap();
    let v = view(&cart, &c);
    assert_eq!(
        v.custom_line_items.iter().map(|l| l.total).collect::<Vec<_>>(),
        vec![500, -500]
    );
    assert_eq!(v.totals.subtotal, 2400 + 500 - 500);
    assert_eq!(v.totals.total, 2400 + 500 - 500 + v.totals.shipping_total);
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "addCustomLineItem", "name": "X", "amount": "1.00", "taxCategory": "nope"}),
    );
    assert_eq!(e.unwrap_err().code, ErrorCode::InvalidRequest);
    apply(&mut cart, &c, json!({"action": "removeCustomLineItem", "id": "cli_1"})).unwrap();
    let e = apply(&mut cart, &c, json!({"action": "removeCustomLineItem", "id": "cli_1"}));
    assert_eq!(e.unwrap_err().code, ErrorCode::ItemNotFound);
}

#[test]
fn too_many_lines() {
    let mut catalog = json!({"taxCategories": [{"id": "t", "rates": [{"rate": "0"}]}], "products": []});
    for i in 0..251 {
        catalog["products"].as_array_mut().unwrap().push(
            json!({"id": format!("p{i}"), "name": "P", "taxCategory": "t", "prices": [{"currency": "EUR", "amount": "1.00"}]}),
        );
    }
    let c = Catalog::from_value(catalog).unwrap();
    let mut cart = cart(&c);
    let adds: Vec<Value> = (0..250)
        .map(|i| json!({"action": "addLineItem", "productId": format!("p{i}")}))
        .collect();
    apply(&mut cart, &c, Value::Array(adds)).unwrap();
    let e = apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "p250"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::TooManyLines);
    assert_eq!(view(&cart, &c).totals.total, 25000);
}

#[test]
fn codes_are_case_insensitive_idempotent_and_removable() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "book"})).unwrap();
    apply(&mut cart, &c, json!({"action": "addDiscountCode", "code": "tenoff"})).unwrap();
    apply(&mut cart, &c, json!({"action": "addDiscountCode", "code": "TENOFF"})).unwrap();
    assert_eq!(cart.discount_codes(), ["TENOFF"]);
    let v = view(&cart, &c);
    assert_eq!(v.discount_codes[0].state, CodeState::Applied);
    assert_eq!(v.line_items[0].total, 2160);
    apply(&mut cart, &c, json!({"action": "addDiscountCode", "code": "OLD"})).unwrap();
    let v = view(&cart, &c);
    assert_eq!(v.discount_codes[1].state, CodeState::NotActive);
    let warning = v.issues.iter().find(|i| i.code == "PROMO_CODE_NOT_APPLICABLE").unwrap();
    assert_eq!(
        (warning.severity, &warning.details.as_ref().unwrap()["code"]),
        (Severity::Warning, &json!("OLD"))
    );
    assert!(v.can_checkout);
    apply(&mut cart, &c, json!({"action": "removeDiscountCode", "code": "tenOFF"})).unwrap();
    assert_eq!(cart.discount_codes(), ["OLD"]);
}

#[test]
fn shipping_follows_the_address_and_the_chosen_method() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "quantity": 2}),
    )
    .unwrap();
    let v = view(&cart, &c);
    let ship = v.shipping.as_ref().unwrap();
    assert_eq!((ship.method_id.as_str(), ship.price), ("standard", 499));
    assert_eq!(ship.estimated_delivery.as_ref().unwrap().min, "2026-11-23");
    assert_eq!(v.available_shipping_methods.len(), 2);
    // Tier from 30.00.
    apply(
        &mut cart,
        &c,
        json!({"action": "changeLineItemQuantity", "lineItemId": "li_1", "quantity": 4}),
    )
    .unwrap();
    assert_eq!(view(&cart, &c).shipping.unwrap().price, 299);
    // Switzerland in EUR: only express serves it; the default does not -> NO_SHIPPING_METHOD until chosen.
    apply(
        &mut cart,
        &c,
        json!({"action": "setShippingAddress", "address": {"country": "CH"}}),
    )
    .unwrap();
    let v = view(&cart, &c);
    assert!(v.shipping.is_none() && codes(&v).contains(&"NO_SHIPPING_METHOD") && !v.can_checkout);
    apply(
        &mut cart,
        &c,
        json!({"action": "setShippingMethod", "shippingMethodId": "express"}),
    )
    .unwrap();
    let v = view(&cart, &c);
    assert_eq!(v.shipping.as_ref().unwrap().price, 1290);
    // Swiss tax on the line now: 8.1%.
    assert_eq!(v.line_items[0].tax_rate.as_deref(), Some("0.081"));
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "setShippingMethod", "shippingMethodId": "teleport"}),
    );
    assert_eq!(e.unwrap_err().code, ErrorCode::InvalidRequest);
    let e = apply(
        &mut cart,
        &c,
        json!({"action": "setShippingAddress", "address": {"country": "Germany"}}),
    );
    assert_eq!(e.unwrap_err().code, ErrorCode::InvalidRequest);
}

#[test]
fn customer_group_prices_and_partial_customer_updates() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "shirt"})).unwrap();
    assert_eq!(view(&cart, &c).line_items[0].unit_price, 1995);
    apply(
        &mut cart,
        &c,
        json!({"action": "setCustomer", "customerGroup": "b2b", "email": "a@b.example"}),
    )
    .unwrap();
    assert_eq!(view(&cart, &c).line_items[0].unit_price, 1700);
    apply(&mut cart, &c, json!({"action": "setCustomer", "customerId": "c-1"})).unwrap();
    assert_eq!(cart.customer().group.as_deref(), Some("b2b"));
    assert_eq!(cart.customer().email.as_deref(), Some("a@b.example"));
    apply(&mut cart, &c, json!({"action": "setCustomer", "customerGroup": null})).unwrap();
    assert_eq!(cart.customer().group, None);
    let e = apply(&mut cart, &c, json!({"action": "setCustomer", "email": "nope"}));
    assert_eq!(e.unwrap_err().code, ErrorCode::InvalidRequest);
    // Country price for AT.
    apply(&mut cart, &c, json!({"action": "setCountry", "country": "AT"})).unwrap();
    assert_eq!(view(&cart, &c).line_items[0].unit_price, 1850);
}

#[test]
fn currency_changes_only_on_an_empty_cart() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!({"action": "setCurrency", "currency": "CHF"})).unwrap();
    apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "book"})).unwrap();
    let e = apply(&mut cart, &c, json!({"action": "setCurrency", "currency": "EUR"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert_eq!(view(&cart, &c).totals.total % 5, 0, "CHF totals are cash-rounded");
}

#[test]
fn a_new_catalog_raises_price_changed_until_touched_or_acknowledged() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!([{"action": "addLineItem", "productId": "mug"}, {"action": "addLineItem", "productId": "book"}]),
    )
    .unwrap();
    let mut raised = rich_catalog(Settings {
        gross: true,
        rounding: "halfEven",
        tax_rounding: "halfEven",
        unit_level: false,
    });
    raised["version"] = json!("props#2");
    raised["products"][0]["prices"][0]["amount"] = json!("10.49");
    raised["products"][2]["prices"][0]["amount"] = json!("25.00");
    let raised = Catalog::from_value(raised).unwrap();
    let version = cart.version();
    assert!(cart.update_catalog(&raised, now()).unwrap());
    assert_eq!(cart.version(), version + 1);
    assert_eq!(cart.catalog_version(), Some("props#2"));
    let v = view(&cart, &raised);
    let changed: Vec<_> = v.issues.iter().filter(|i| i.code == "PRICE_CHANGED").collect();
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[0].details, Some(json!({"old": 999, "new": 1049})));
    assert!(v.can_checkout, "a price change is a warning");
    // Same catalog again: nothing changes.
    assert!(!cart.update_catalog(&raised, now()).unwrap());
    // Touching a line clears its warning; acknowledging clears the rest.
    apply(
        &mut cart,
        &raised,
        json!({"action": "changeLineItemQuantity", "lineItemId": "li_1", "quantity": 2}),
    )
    .unwrap();
    assert_eq!(
        view(&cart, &raised)
            .issues
            .iter()
            .filter(|i| i.code == "PRICE_CHANGED")
            .count(),
        1
    );
    apply(&mut cart, &raised, json!({"action": "acknowledgePriceChanges"})).unwrap();
    assert!(!codes(&view(&cart, &raised)).contains(&"PRICE_CHANGED"));
    // A change back to the price the shopper saw clears the pending warning instead of stacking another.
    assert!(cart.update_catalog(&c, now()).unwrap());
    assert_eq!(
        view(&cart, &c)
            .issues
            .iter()
            .filter(|i| i.code == "PRICE_CHANGED")
            .count(),
        2
    );
    assert!(cart.update_catalog(&raised, now()).unwrap());
    assert!(!codes(&view(&cart, &raised)).contains(&"PRICE_CHANGED"));
}

#[test]
fn quantity_tiers_never_raise_price_changed() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "quantity": 9}),
    )
    .unwrap();
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "quantity": 1}),
    )
    .unwrap();
    cart.update_catalog(&c, now()).unwrap();
    let v = view(&cart, &c);
    assert_eq!(v.line_items[0].unit_price, 833);
    assert!(!codes(&v).contains(&"PRICE_CHANGED"));
}

#[test]
fn expiry_and_status() {
    let c = catalog();
    let new = NewCart {
        id: "e".into(),
        currency: "EUR".into(),
        ttl_seconds: Some(60),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, &c, now()).unwrap();
    apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "book"})).unwrap();
    assert_eq!(cart.expires_at().to_rfc3339(), "2026-11-21T12:01:00Z");
    let later = Timestamp::from_millis(NOW + 60_000);
    let v = price(&cart, &c, later).unwrap();
    assert!(codes(&v).contains(&"CART_EXPIRED") && !v.can_checkout);
    let e = cart.apply(&c, &act(json!({"action": "clear"})), later).unwrap_err();
    assert_eq!(e.code, ErrorCode::CartExpired);

    let mut fresh = self::cart(&c);
    apply(&mut fresh, &c, json!({"action": "addLineItem", "productId": "book"})).unwrap();
    fresh.mark_ordered(now()).unwrap();
    assert_eq!(fresh.status(), CartStatus::Ordered);
    let e = apply(&mut fresh, &c, json!({"action": "clear"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::CartNotActive);
    assert!(!view(&fresh, &c).can_checkout);
}

#[test]
fn merge_takes_the_guest_cart_over() {
    let c = catalog();
    let mut customer = cart(&c);
    apply(&mut customer, &c, json!([{"action": "addLineItem", "productId": "mug", "quantity": 2}, {"action": "addLineItem", "productId": "plan-post"}]))
        .unwrap();
    let mut guest = CartState::new(
        NewCart {
            id: "guest".into(),
            currency: "EUR".into(),
            ..NewCart::default()
        },
        &c,
        now(),
    )
    .unwrap();
    apply(
        &mut guest,
        &c,
        json!([
            {"action": "addLineItem", "productId": "mug", "quantity": 3},
            {"action": "addLineItem", "productId": "plan-pre"},
            {"action": "addLineItem", "productId": "book"},
            {"action": "addDiscountCode", "code": "TENOFF"},
            {"action": "setShippingAddress", "address": {"country": "AT"}}
        ]),
    )
    .unwrap();
    let mut max_target = customer.clone();
    let mut guest_copy = guest.clone();
    let report = max_target.merge(&mut guest_copy, MergeMode::Max, &c, now()).unwrap();
    let quantities: Vec<(String, u32)> = max_target
        .line_items()
        .iter()
        .map(|l| (l.product_id.to_string(), l.quantity))
        .collect();
    assert_eq!(
        quantities,
        vec![("mug".into(), 3), ("plan-post".into(), 1), ("book".into(), 1)]
    );
    assert_eq!(report.skipped.len(), 1, "the prepaid plan breaks the exclusive rule");
    assert_eq!(report.skipped[0].code, ErrorCode::IncompatibleItems);
    assert_eq!(max_target.discount_codes(), ["TENOFF"]);
    assert_eq!(max_target.shipping_address().map(|a| a.country.as_str()), Some("AT"));
    assert_eq!(guest_copy.status(), CartStatus::Merged);
    assert_eq!(guest_copy.version(), guest.version() + 1);

    let report = customer.merge(&mut guest, MergeMode::Sum, &c, now()).unwrap();
    assert_eq!(customer.line_items()[0].quantity, 5);
    assert_eq!(report.skipped.len(), 1);
    let e = customer.merge(&mut guest, MergeMode::Max, &c, now()).unwrap_err();
    assert_eq!(e.code, ErrorCode::CartNotActive);
}

#[test]
fn multibuy_and_fixed_price_work_per_unit() {
    let c = catalog();
    let mut cart = cart(&c);
    // tires promo: every 3rd of mugs and tires half price (cheapest first).
    apply(&mut cart, &c, json!([{"action": "addLineItem", "productId": "tire", "quantity": 2}, {"action": "addLineItem", "productId": "mug"}]))
        .unwrap();
    let v = view(&cart, &c);
    assert_eq!(v.line_items[1].discounts[0].amount, -500); // half of 9.99, rounded half-even -> 4.995 -> 5.00
    assert_eq!(v.line_items[0].discounts.len(), 0);
    apply(&mut cart, &c, json!({"action": "addDiscountCode", "code": "FIXED"})).unwrap();
    let v = view(&cart, &c);
    // The multi-buy left the mug at 4.99, below the fixed 7.77: the fixed price does not raise it.
    assert_eq!(v.line_items[1].total, 499);
    assert_eq!(v.discount_codes[0].state, CodeState::NotApplicable);
}

#[test]
fn stock_is_checked_over_all_lines_of_an_item() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "quantity": 20, "attributes": {"print": "a"}}),
    )
    .unwrap();
    assert!(!codes(&view(&cart, &c)).contains(&"INVENTORY_UNAVAILABLE"));
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "quantity": 6, "attributes": {"print": "b"}}),
    )
    .unwrap();
    let v = view(&cart, &c);
    let stock: Vec<_> = v.issues.iter().filter(|i| i.code == "INVENTORY_UNAVAILABLE").collect();
    assert_eq!(stock.len(), 2);
    assert_eq!(stock[0].details, Some(json!({"available": 25, "requested": 26})));
}

#[test]
fn issues_are_listed_line_by_line_then_for_the_cart() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!([{"action": "addLineItem", "productId": "roam"}, {"action": "addLineItem", "productId": "lic"}, {"action": "addDiscountCode", "code": "OLD"}]))
        .unwrap();
    let v = view(&cart, &c);
    let order: Vec<(&str, Option<&str>)> = v
        .issues
        .iter()
        .map(|i| (i.code.as_str(), i.line_item_id.as_deref()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("REQUIRES_ITEM", Some("li_1")),
            ("MISSING_ATTRIBUTE", Some("li_2")),
            ("PROMO_CODE_NOT_APPLICABLE", None)
        ]
    );
}

#[test]
fn snapshots_of_the_state_round_trip_through_json() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(&mut cart, &c, json!([{"action": "addLineItem", "productId": "lic", "attributes": {"domain": "x.example", "seats": 5}}, {"action": "addDiscountCode", "code": "EACH"}]))
        .unwrap();
    let text = serde_json::to_string(&cart).unwrap();
    let back: CartState = serde_json::from_str(&text).unwrap();
    assert_eq!(back, cart);
    assert_eq!(price(&back, &c, now()).unwrap(), view(&cart, &c));
}

#[test]
fn a_change_that_changes_nothing_keeps_the_version() {
    let c = catalog();
    let mut cart = cart(&c);
    apply(
        &mut cart,
        &c,
        json!({"action": "addLineItem", "productId": "mug", "quantity": 2}),
    )
    .unwrap();
    assert_eq!(cart.version(), 1);
    let before = cart.clone();
    for same in [
        json!({"action": "changeLineItemQuantity", "lineItemId": "li_1", "quantity": 2}),
        json!({"action": "setCountry", "country": "DE"}),
        json!({"action": "removeDiscountCode", "code": "NOPE"}),
        json!([]),
    ] {
        apply(&mut cart, &c, same).unwrap();
        assert_eq!(cart, before, "a no-op must not touch the cart");
    }
    apply(
        &mut cart,
        &c,
        json!({"action": "changeLineItemQuantity", "lineItemId": "li_1", "quantity": 3}),
    )
    .unwrap();
    assert_eq!(cart.version(), 2);
}

#[test]
fn expected_version_guards_apply() {
    let c = catalog();
    let mut cart = cart(&c);
    let add = act(json!({"action": "addLineItem", "productId": "mug"}));
    cart.apply_expecting(&c, &add, now(), Some(0)).unwrap();
    let before = cart.clone();
    let e = cart.apply_expecting(&c, &add, now(), Some(0)).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConcurrentModification);
    assert_eq!(e.details, json!({"expectedVersion": 0, "version": 1}));
    assert_eq!(cart, before);
    cart.apply_expecting(&c, &add, now(), Some(1)).unwrap();
    assert_eq!(cart.version(), 2);
}

/// The issue's figures: 250 lines x 9 999 units x 99 999 999.99 is about 2.5e16 minor units, beyond
/// what a JavaScript number holds exactly (2^53 - 1 = 9 007 199 254 740 991).
#[test]
fn totals_beyond_two_to_the_53_are_refused_not_rounded() {
    let products: Vec<Value> = (0..250)
        .map(|i| {
            json!({"id": format!("p{i}"), "name": format!("P{i}"), "taxCategory": "std",
                   "prices": [{"currency": "EUR", "amount": "99999999.99"}]})
        })
        .collect();
    let c = Catalog::from_value(json!({
        "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}],
        "products": products
    }))
    .unwrap();
    let mut cart = cart(&c);
    let mut refused_at = None;
    for i in 0..250 {
        let mut next = cart.clone();
        let add = json!({"action": "addLineItem", "productId": format!("p{i}"), "quantity": 9999});
        next.apply(&c, &act(add), now()).unwrap();
        match price(&next, &c, now()) {
            Ok(view) => {
                assert!(view.totals.total <= 9_007_199_254_740_991);
                cart = next;
            }
            Err(e) => {
                assert_eq!(e.code, ErrorCode::AmountOutOfRange);
                refused_at = Some(i);
                break;
            }
        }
    }
    // 9 999 x 9 999 999 999 minor units per line: the 91st line crosses 2^53 - 1.
    assert_eq!(refused_at, Some(90));
    assert_eq!(view(&cart, &c).line_items.len(), 90);
}

/// One `details` shape per code (the package README's error table): refusals name what they refused.
#[test]
fn refusals_name_what_they_refused() {
    let c = catalog();
    let mut cart = cart(&c);
    let e = apply(&mut cart, &c, json!({"action": "addLineItem", "productId": "nope"})).unwrap_err();
    assert_eq!(
        (e.code, e.details.clone()),
        (ErrorCode::InvalidItem, json!({"productId": "nope", "actionIndex": 0}))
    );
    let e = apply(&mut cart, &c, json!({"action": "addLineItem", "sku": "NOPE"})).unwrap_err();
    assert_eq!(
        (e.code, e.details.clone()),
        (ErrorCode::InvalidItem, json!({"sku": "NOPE", "actionIndex": 0}))
    );
    let e = apply(&mut cart, &c, json!({"action": "removeCustomLineItem", "id": "cl_9"})).unwrap_err();
    assert_eq!(
        (e.code, e.details.clone()),
        (ErrorCode::ItemNotFound, json!({"lineItemId": "cl_9", "actionIndex": 0}))
    );

    let new = NewCart {
        id: "cart_guest".into(),
        currency: "EUR".into(),
        ..NewCart::default()
    };
    let mut other = CartState::new(new, &c, now()).unwrap();
    apply(&mut other, &c, json!({"action": "addLineItem", "productId": "mug"})).unwrap();
    cart.merge(&mut other, MergeMode::Sum, &c, now()).unwrap();
    assert_eq!(other.status(), CartStatus::Merged);
    let e = cart.merge(&mut other, MergeMode::Sum, &c, now()).unwrap_err();
    assert_eq!(
        (e.code, e.details.clone()),
        (ErrorCode::CartNotActive, json!({"status": "merged"}))
    );
}
