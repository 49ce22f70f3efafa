//! Several deliveries (docs/PRICING.md §5 "Deliveries"): products of several shipping profiles ship in
//! one delivery per profile, each with a method of its profile, its own price and tax; the view's
//! `shipping` is the first of `deliveries`, `totals.shippingTotal` their sum. Catalogs without
//! profiles price as before (every vector).

use proptest::prelude::*;
use serde_json::{json, Value};
use wasm_cart::checkout::plan::{Protocol, RemoteRefs};
use wasm_cart::checkout::spec_b::{CheckoutOptions, CheckoutRequest};
use wasm_cart::{price, Action, CartState, CartView, Catalog, ErrorCode, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000;

fn now() -> Timestamp {
    Timestamp::from_millis(NOW)
}

/// Mugs ship by parcel (the default profile), sofas by freight; freight does not serve Switzerland.
fn catalog(promotions: Value) -> Catalog {
    Catalog::from_value(json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [
            {"id": "mug", "name": "Mug", "taxCategory": "std", "prices": [{"currency": "EUR", "amount": "10.00"}]},
            {"id": "sofa", "name": "Sofa", "taxCategory": "std", "shippingProfile": "bulky",
             "prices": [{"currency": "EUR", "amount": "500.00"}]},
            {"id": "ebook", "name": "E-book", "taxCategory": "std", "shippable": false,
             "prices": [{"currency": "EUR", "amount": "5.00"}]}
        ],
        "shippingMethods": [
            {"id": "parcel", "name": "Parcel", "taxCategory": "std", "default": true,
             "rates": [{"currency": "EUR", "price": "4.90"}]},
            {"id": "express", "name": "Express", "taxCategory": "std",
             "rates": [{"currency": "EUR", "price": "9.90"}]},
            {"id": "freight", "name": "Freight", "taxCategory": "std", "default": true, "shippingProfile": "bulky",
             "rates": [{"currency": "EUR", "countries": ["DE", "AT"], "price": "49.00"}]},
            {"id": "white-glove", "name": "White glove", "taxCategory": "std", "shippingProfile": "bulky",
             "rates": [{"currency": "EUR", "price": "99.00"}]}
        ],
        "promotions": promotions
    }))
    .unwrap()
}

fn cart(catalog: &Catalog, actions: Value) -> CartState {
    let new = NewCart {
        id: "c".into(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, catalog, now()).unwrap();
    apply(&mut cart, catalog, actions);
    cart
}

fn apply(cart: &mut CartState, catalog: &Catalog, actions: Value) {
    let actions = Action::list_from_value(actions).unwrap();
    cart.apply(catalog, &actions, now()).unwrap();
}

fn view(cart: &CartState, catalog: &Catalog) -> CartView {
    price(cart, catalog, now()).unwrap()
}

/// (method, profile, price, line ids) per delivery.
fn deliveries(v: &CartView) -> Vec<(String, Option<String>, i64, Vec<String>)> {
    v.deliveries
        .iter()
        .map(|d| {
            let ids = d.line_item_ids.iter().map(|id| id.to_string()).collect();
            (d.method_id.clone(), d.shipping_profile.clone(), d.price, ids)
        })
        .collect()
}

/// Mugs and a sofa, the sofa by white glove.
fn white_glove(catalog: &Catalog) -> CartState {
    let mut cart = cart(catalog, mug_and_sofa());
    apply(
        &mut cart,
        catalog,
        json!([{"action": "setShippingMethod", "shippingMethodId": "white-glove"}]),
    );
    cart
}

fn mug_and_sofa() -> Value {
    json!([
        {"action": "addLineItem", "productId": "sofa"},
        {"action": "addLineItem", "productId": "mug", "quantity": 2},
        {"action": "addLineItem", "productId": "ebook"}
    ])
}

#[test]
fn each_profile_ships_in_its_own_delivery_by_its_default_method() {
    let catalog = catalog(json!([]));
    let cart = cart(&catalog, mug_and_sofa());
    let v = view(&cart, &catalog);
    assert_eq!(
        deliveries(&v),
        vec![
            ("parcel".into(), None, 490, vec!["li_2".into()]),
            ("freight".into(), Some("bulky".into()), 4900, vec!["li_1".into()]),
        ],
        "the default profile first; the e-book ships in none"
    );
    assert_eq!(v.shipping.as_ref(), v.deliveries.first());
    assert_eq!(v.totals.shipping_total, 490 + 4900);
    assert_eq!(v.totals.total, 50000 + 2000 + 500 + 490 + 4900);
    let tax_of_shipping: i64 = v.deliveries.iter().map(|d| d.tax).sum();
    let tax_of_lines: i64 = v.line_items.iter().map(|l| l.tax).sum();
    assert_eq!(v.totals.tax_total, tax_of_lines + tax_of_shipping);
    let offered: Vec<(&str, Option<&str>)> = v
        .available_shipping_methods
        .iter()
        .map(|o| (o.id.as_str(), o.shipping_profile.as_deref()))
        .collect();
    assert_eq!(
        offered,
        vec![
            ("parcel", None),
            ("express", None),
            ("freight", Some("bulky")),
            ("white-glove", Some("bulky"))
        ]
    );
    assert!(v.can_checkout, "{:?}", v.issues);
}

#[test]
fn a_method_is_chosen_for_the_delivery_of_its_profile_and_cleared_by_profile() {
    let catalog = catalog(json!([]));
    let mut cart = cart(&catalog, mug_and_sofa());
    apply(
        &mut cart,
        &catalog,
        json!([
            {"action": "setShippingMethod", "shippingMethodId": "white-glove"},
            {"action": "setShippingMethod", "shippingMethodId": "express"}
        ]),
    );
    let v = view(&cart, &catalog);
    let chosen: Vec<String> = deliveries(&v).into_iter().map(|d| d.0).collect();
    assert_eq!(chosen, ["express", "white-glove"]);
    assert_eq!(cart.delivery_method(Some("bulky")), Some("white-glove"));

    apply(
        &mut cart,
        &catalog,
        json!([{"action": "setShippingMethod", "shippingMethodId": null, "shippingProfile": "bulky"}]),
    );
    let chosen: Vec<String> = deliveries(&view(&cart, &catalog)).into_iter().map(|d| d.0).collect();
    assert_eq!(chosen, ["express", "freight"], "bulky back to its default, parcel kept");
}

#[test]
fn a_method_of_another_profile_is_refused_and_the_cart_is_unchanged() {
    let catalog = catalog(json!([]));
    let mut cart = cart(&catalog, mug_and_sofa());
    let before = cart.clone();
    let action = Action::list_from_value(json!([
        {"action": "setShippingMethod", "shippingMethodId": "parcel", "shippingProfile": "bulky"}
    ]))
    .unwrap();
    let err = cart.apply(&catalog, &action, now()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert_eq!(err.details["field"], "shippingProfile");
    assert_eq!(cart, before);
}

#[test]
fn a_delivery_no_method_serves_blocks_checkout_and_names_its_profile() {
    let catalog = catalog(json!([]));
    let mut cart = cart(&catalog, mug_and_sofa());
    apply(
        &mut cart,
        &catalog,
        json!([{"action": "setShippingAddress", "address": {"country": "CH"}}]),
    );
    apply(
        &mut cart,
        &catalog,
        json!([{"action": "setShippingMethod", "shippingMethodId": "white-glove"}]),
    );
    // White glove serves every country: both deliveries have a method.
    assert!(view(&cart, &catalog).can_checkout);
    apply(
        &mut cart,
        &catalog,
        json!([{"action": "setShippingMethod", "shippingMethodId": null, "shippingProfile": "bulky"}]),
    );
    let v = view(&cart, &catalog);
    assert_eq!(deliveries(&v).len(), 1, "the parcel still ships");
    let issue = v
        .issues
        .iter()
        .find(|i| i.code == "NO_SHIPPING_METHOD")
        .expect("an issue");
    let details = issue.details.as_ref().unwrap();
    assert_eq!(
        (details["shippingProfile"].as_str(), details["country"].as_str()),
        (Some("bulky"), Some("CH"))
    );
    assert!(!v.can_checkout);
}

#[test]
fn a_shipping_promotion_takes_its_amount_once_over_every_delivery() {
    let catalog = catalog(json!([
        {"id": "ship-off", "currency": "EUR", "target": {"type": "shipping"},
         "value": {"type": "absolute", "amount": "10.00"}}
    ]));
    let cart = cart(&catalog, mug_and_sofa());
    let v = view(&cart, &catalog);
    let discounts: Vec<i64> = v.deliveries.iter().map(|d| d.discount).collect();
    assert_eq!(discounts.iter().sum::<i64>(), -1000, "10.00 in all, not per delivery");
    // Spread by amount (largest remainder): 4.90 and 49.00 of 53.90.
    assert_eq!(discounts, vec![-91, -909]);
    assert_eq!(v.totals.discount_total, -1000);

    let free = catalog_free_shipping();
    let v = view(&cart, &free);
    assert!(v.deliveries.iter().all(|d| d.total == 0 && d.price > 0));
    assert_eq!(v.totals.total, 50000 + 2000 + 500);
}

fn catalog_free_shipping() -> Catalog {
    catalog(json!([
        {"id": "free", "target": {"type": "shipping"}, "value": {"type": "percentage", "percent": "100"}}
    ]))
}

#[test]
fn a_spec_b_checkout_carries_every_delivery_s_method_and_the_server_prices_the_same() {
    let catalog = catalog(json!([]));
    let cart = white_glove(&catalog);
    let shown = view(&cart, &catalog);
    let options = CheckoutOptions {
        payment_method_id: Some("pm_card_visa".into()),
        ..CheckoutOptions::default()
    };
    let request = CheckoutRequest::from_cart(&cart, &shown, options).unwrap();
    let body = serde_json::to_value(&request).unwrap();
    assert_eq!(body["cart"]["deliveryMethods"], json!({"bulky": "white-glove"}));
    let text = serde_json::to_string(&request).unwrap();
    let server = CheckoutRequest::from_json(&text)
        .unwrap()
        .rebuild_cart("s", &catalog, now())
        .unwrap();
    let charged = view(&server, &catalog);
    assert_eq!(charged.totals, shown.totals);
    assert_eq!(deliveries(&charged), deliveries(&shown));
}

#[test]
fn the_platform_protocols_refuse_a_cart_of_several_deliveries() {
    let catalog = catalog(json!([]));
    let cart = cart(&catalog, mug_and_sofa());
    let v = view(&cart, &catalog);
    for protocol in [Protocol::Commercetools, Protocol::Shopware, Protocol::SyliusShop] {
        let err = RemoteRefs::resolve(protocol, &catalog, &cart, &v).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest, "{protocol:?}");
        assert_eq!(err.details["field"], "deliveries");
    }
    let one = self::cart(&catalog, json!([{"action": "addLineItem", "productId": "mug"}]));
    let v = view(&one, &catalog);
    assert_eq!(v.deliveries.len(), 1);
    assert!(RemoteRefs::resolve(Protocol::Commercetools, &catalog, &one, &v).is_ok());
}

#[test]
fn a_restored_cart_keeps_its_delivery_methods() {
    let catalog = catalog(json!([]));
    let cart = white_glove(&catalog);
    let stored = serde_json::to_value(&cart).unwrap();
    assert_eq!(stored["deliveryMethods"], json!({"bulky": "white-glove"}));
    let restored: CartState = serde_json::from_value(stored).unwrap();
    assert_eq!(restored, cart);
    let without = serde_json::to_value(self::cart(&catalog, json!([]))).unwrap();
    assert!(
        without.get("deliveryMethods").is_none(),
        "absent unless used: {without}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the cart holds and wherever it goes: every priced shippable line is in exactly one
    /// delivery (or its profile has a `NO_SHIPPING_METHOD` issue), the shipping total is the sum of
    /// the deliveries, and the lines and deliveries make up the tax total.
    #[test]
    fn deliveries_partition_the_shipped_lines_and_add_up(
        mugs in 0u32..4,
        sofas in 0u32..3,
        ebooks in 0u32..3,
        country in prop::sample::select(vec!["DE", "AT", "CH"]),
        white_glove in any::<bool>(),
        promo in prop::sample::select(vec![json!([]), json!([{"id": "free", "target": {"type": "shipping"},
            "value": {"type": "percentage", "percent": "50"}}])]),
    ) {
        let catalog = catalog(promo);
        let mut actions = vec![json!({"action": "setShippingAddress", "address": {"country": country}})];
        for (product, quantity) in [("mug", mugs), ("sofa", sofas), ("ebook", ebooks)] {
            if quantity > 0 {
                actions.push(json!({"action": "addLineItem", "productId": product, "quantity": quantity}));
            }
        }
        if white_glove {
            actions.push(json!({"action": "setShippingMethod", "shippingMethodId": "white-glove"}));
        }
        let v = view(&cart(&catalog, Value::Array(actions)), &catalog);
        let shipped: Vec<String> = v.deliveries.iter().flat_map(|d| d.line_item_ids.iter().map(|i| i.to_string())).collect();
        let mut unique = shipped.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), shipped.len(), "a line in two deliveries");
        let problems = v.issues.iter().filter(|i| i.code == "NO_SHIPPING_METHOD").count();
        let ships = |id: &str| ["mug", "sofa"].contains(&id);
        let profiles = usize::from(mugs > 0) + usize::from(sofas > 0);
        prop_assert_eq!(v.deliveries.len() + problems, profiles);
        for line in v.line_items.iter().filter(|l| ships(l.product_id.as_str())) {
            let in_one = shipped.iter().any(|id| id == line.id.as_str());
            prop_assert!(in_one || problems > 0, "{} ships in no delivery", line.id);
        }
        prop_assert_eq!(v.totals.shipping_total, v.deliveries.iter().map(|d| d.price).sum::<i64>());
        let taxes: i64 = v.line_items.iter().map(|l| l.tax).chain(v.deliveries.iter().map(|d| d.tax)).sum();
        prop_assert_eq!(v.totals.tax_total, taxes);
        prop_assert_eq!(v.shipping.as_ref(), v.deliveries.first());
    }
}

#[test]
fn a_product_of_a_profile_no_method_ships_is_refused_by_the_catalog() {
    let err = Catalog::from_value(json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [{"id": "sofa", "name": "Sofa", "taxCategory": "std", "shippingProfile": "bulky",
                      "prices": [{"currency": "EUR", "amount": "500.00"}]}],
        "shippingMethods": [{"id": "parcel", "name": "Parcel", "taxCategory": "std",
                             "rates": [{"currency": "EUR", "price": "4.90"}]}]
    }))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidCatalog);
    assert!(
        err.message.starts_with("products[0].shippingProfile"),
        "{}",
        err.message
    );
}

#[test]
fn a_default_product_needs_a_method_of_the_default_profile() {
    let err = Catalog::from_value(json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [{"id": "mug", "name": "Mug", "taxCategory": "std",
                      "prices": [{"currency": "EUR", "amount": "10.00"}]}],
        "shippingMethods": [{"id": "freight", "name": "Freight", "taxCategory": "std", "shippingProfile": "bulky",
                             "rates": [{"currency": "EUR", "price": "49.00"}]}]
    }))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidCatalog);
    assert!(err.message.contains("default profile"), "{}", err.message);
}

#[test]
fn without_default_lines_the_first_delivery_is_the_other_profile_s() {
    let catalog = catalog(json!([]));
    let cart = cart(&catalog, json!([{"action": "addLineItem", "productId": "sofa"}]));
    let v = view(&cart, &catalog);
    assert_eq!(
        deliveries(&v),
        vec![("freight".into(), Some("bulky".into()), 4900, vec!["li_1".into()])]
    );
    assert_eq!(v.shipping.as_ref().map(|s| s.method_id.as_str()), Some("freight"));
}

#[test]
fn a_merge_keeps_the_delivery_choices_of_both_carts() {
    let catalog = catalog(json!([]));
    let mut mine = cart(&catalog, json!([{"action": "addLineItem", "productId": "mug"}]));
    let new = NewCart {
        id: "guest".into(),
        currency: "EUR".into(),
        ..NewCart::default()
    };
    let mut guest = CartState::new(new, &catalog, now()).unwrap();
    apply(
        &mut guest,
        &catalog,
        json!([{"action": "addLineItem", "productId": "sofa"},
               {"action": "setShippingMethod", "shippingMethodId": "white-glove"}]),
    );
    mine.merge(&mut guest, wasm_cart::MergeMode::Max, &catalog, now())
        .unwrap();
    assert_eq!(mine.delivery_method(Some("bulky")), Some("white-glove"));
    let chosen: Vec<String> = deliveries(&view(&mine, &catalog)).into_iter().map(|d| d.0).collect();
    assert_eq!(chosen, ["parcel", "white-glove"]);
}

/// Sylius's `firstTargets` rounds each share before handing out the difference, so a share can come
/// out above a small delivery's price: it is capped there, and no delivery goes below zero.
#[test]
fn a_shipping_discount_never_takes_a_delivery_below_zero() {
    let methods: Vec<Value> = [("a", "0.10"), ("b", "0.50"), ("c", "0.50"), ("d", "0.50")]
        .iter()
        .map(|(p, price)| {
            json!({"id": p, "name": p, "taxCategory": "std", "default": true, "shippingProfile": p,
                   "rates": [{"currency": "EUR", "price": price}]})
        })
        .collect();
    let products: Vec<Value> = ["a", "b", "c", "d"]
        .iter()
        .map(|p| {
            json!({"id": p, "name": p, "taxCategory": "std", "shippingProfile": p,
                   "prices": [{"currency": "EUR", "amount": "1.00"}]})
        })
        .collect();
    let catalog = Catalog::from_value(json!({
        "pricing": {"allocation": "firstTargets"},
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": products,
        "shippingMethods": methods,
        "promotions": [{"id": "off", "currency": "EUR", "target": {"type": "shipping"},
                        "value": {"type": "absolute", "amount": "1.55"}}]
    }))
    .unwrap();
    let adds: Vec<Value> = ["a", "b", "c", "d"]
        .iter()
        .map(|p| json!({"action": "addLineItem", "productId": p}))
        .collect();
    let v = view(&cart(&catalog, Value::Array(adds)), &catalog);
    assert_eq!(v.deliveries.len(), 4);
    assert!(
        v.deliveries.iter().all(|d| d.total >= 0 && d.tax >= 0),
        "{:?}",
        v.deliveries
    );
    let taken: i64 = v.deliveries.iter().map(|d| -d.discount).sum();
    assert_eq!(taken, -v.totals.discount_total);
    assert!(taken <= 155);
}
