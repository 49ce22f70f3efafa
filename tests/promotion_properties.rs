//! Invariants of the promotion and shipping features over random catalogs and carts: floors hold,
//! allocations add up, caps and occurrence limits are never exceeded, a group applies at most one
//! member and an exclusive promotion applies alone, in every profile.

use proptest::prelude::*;
use serde_json::{json, Value};
use wasm_cart::{price, Action, CartState, CartView, Catalog, CodeState, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000; // 2026-11-21T12:00:00Z

/// One product: (price in cents, minimum price in cents or none, weight in grams).
fn products() -> impl Strategy<Value = Vec<(u32, Option<u32>, u32)>> {
    prop::collection::vec(
        (1u32..20_000, prop::option::of(0u32..100), 0u32..5_000)
            .prop_map(|(p, min, w)| (p, min.map(|m| p * m / 100), w)),
        1..6,
    )
}

fn money(cents: u32) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A promotion drawn from every target and value shape, with a code so its state shows in the view.
fn promotion() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        (
            1u32..100,
            prop::sample::select(vec!["line", "unit", "targets"]),
            prop::option::of(1u32..3_000)
        )
            .prop_map(|(p, per, max)| {
                let mut v = json!({"type": "percentage", "percent": p.to_string(), "per": per});
                if let Some(max) = max {
                    v["maxAmount"] = json!(money(max));
                }
                v
            }),
        (1u32..5_000, prop::sample::select(vec!["proportionate", "even", "each"]))
            .prop_map(|(a, d)| json!({"type": "absolute", "amount": money(a), "distribution": d})),
        (0u32..5_000).prop_map(|a| json!({"type": "fixedPrice", "amount": money(a)})),
    ];
    let target = prop_oneof![
        3 => prop::option::of(1u32..4).prop_map(|m| json!({"type": "items", "maxUnitsPerLine": m})),
        1 => Just(json!({"type": "shipping"})),
        1 => Just(json!({"type": "total"})),
        2 => (2u32..5, 1u32..3, prop::option::of(1u32..4)).prop_map(|(t, d, m)| json!({
            "type": "multiBuy", "trigger": t, "discounted": d.min(t), "maxOccurrence": m})),
        2 => (1u32..4, 1u32..4, prop::option::of(1u32..4), any::<bool>()).prop_map(|(b, g, m, cheap)| json!({
            "type": "buyXGetY", "buy": {"productIds": ["p0", "p1"]}, "buyQuantity": b,
            "get": {"productIds": ["p1", "p2", "p3"]}, "getQuantity": g, "maxOccurrence": m,
            "selection": if cheap { "cheapest" } else { "mostExpensive" }})),
    ];
    (
        value,
        target,
        any::<bool>(),
        prop::option::of(0u8..2),
        -3i64..3,
        prop::option::of(0u32..30_000),
    )
        .prop_map(|(value, target, exclusive, group, priority, min)| {
            let total_or_ship = matches!(target["type"].as_str(), Some("total" | "shipping"));
            let value = if target["type"] == "total" && value["type"] == "fixedPrice" {
                json!({"type": "percentage", "percent": "10"})
            } else {
                value
            };
            let mut p = json!({"currency": "EUR", "priority": priority, "exclusive": exclusive,
                               "target": target, "value": value});
            if let (Some(g), false) = (group, total_or_ship) {
                p["group"] = json!(format!("g{g}"));
            }
            if let Some(min) = min {
                p["conditions"] = json!({"when": {"subtotalOf": {"match": {}, "atLeast": money(min)}}});
            }
            p
        })
}

fn catalog(products: &[(u32, Option<u32>, u32)], promos: &[Value], profile: &str, per_unit: bool) -> Value {
    let tax_type = match products.len() % 3 {
        0 => "category",
        1 => "proportional",
        _ => "highest",
    };
    let products: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(i, &(p, min, w))| {
            let mut price = json!({"currency": "EUR", "amount": money(p)});
            if let Some(min) = min {
                price["minimumPrice"] = json!(money(min));
            }
            let category = if i % 2 == 0 { "std" } else { "low" };
            json!({"id": format!("p{i}"), "name": format!("P{i}"), "taxCategory": category, "prices": [price],
                   "weight": format!("{}.{:03}", w / 1000, w % 1000)})
        })
        .collect();
    let promotions: Vec<Value> = promos
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut p = p.clone();
            p["id"] = json!(format!("x{i}"));
            p["code"] = json!(format!("C{i}"));
            p
        })
        .collect();
    let mut rate = json!({"currency": "EUR", "price": "4.90",
                          "weightTiers": [{"minWeight": "2", "price": "7.90"}, {"minWeight": "10", "price": "14.90"}]});
    if per_unit {
        rate["pricePerUnit"] = json!("0.35");
    }
    json!({
        "version": "prop#1",
        "pricing": {"profile": profile},
        "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]},
                          {"id": "low", "rates": [{"country": "DE", "rate": "0.07"}]}],
        "products": products,
        "shippingMethods": [{"id": "std", "name": "Standard", "taxCategory": "std", "taxType": tax_type,
                             "default": true, "rates": [rate]}],
        "promotions": promotions
    })
}

fn priced_cart(catalog: &Catalog, lines: &[(usize, u32)], codes: usize) -> CartView {
    let new = NewCart {
        id: "cart_p".into(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        ..NewCart::default()
    };
    let now = Timestamp::from_millis(NOW);
    let mut cart = CartState::new(new, catalog, now).unwrap();
    let mut actions: Vec<Value> = lines
        .iter()
        .map(|&(p, q)| json!({"action": "addLineItem", "productId": format!("p{}", p), "quantity": q}))
        .collect();
    actions.extend((0..codes).map(|i| json!({"action": "addDiscountCode", "code": format!("C{i}")})));
    for action in actions {
        // A product index beyond the catalog is refused; the cart stays as it was.
        let _ = Action::from_value(action).and_then(|a| cart.apply(catalog, &[a], now));
    }
    price(&cart, catalog, now).unwrap()
}

fn floor_of(view_product: &str, products: &[(u32, Option<u32>, u32)]) -> i64 {
    let index: usize = view_product.trim_start_matches('p').parse().unwrap();
    products[index].1.map_or(0, i64::from)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn promotions_keep_every_invariant(
        products in products(),
        promos in prop::collection::vec(promotion(), 1..6),
        lines in prop::collection::vec((0usize..6, 1u32..8), 1..6),
        profile in prop::sample::select(vec!["default", "commercetools", "shopware", "sylius"]),
        per_unit in any::<bool>(),
    ) {
        let doc = catalog(&products, &promos, profile, per_unit);
        let catalog = Catalog::from_value(doc).unwrap();
        let view = priced_cart(&catalog, &lines, promos.len());
        prop_assert_eq!(view.pricing_profile.as_str(), profile);

        let mut line_discounts = 0i64;
        for line in &view.line_items {
            let discounts: i64 = line.discounts.iter().map(|d| d.amount).sum();
            line_discounts += discounts;
            // The line is its base minus its discounts; never below zero or below its floor.
            prop_assert_eq!(line.total, line.base_total + discounts);
            prop_assert!(line.total >= floor_of(&line.product_id, &products) * i64::from(line.quantity));
            let unit_total: i64 = line.unit_discounts.iter().map(|u| u.amount * i64::from(u.quantity)).sum();
            prop_assert_eq!(unit_total, discounts);
            let units: u32 = line.unit_discounts.iter().map(|u| u.quantity).sum();
            prop_assert!(units == line.quantity || line.unit_discounts.is_empty());
        }
        let shipping_discount = view.shipping.as_ref().map_or(0, |s| s.discount);
        if let Some(s) = &view.shipping {
            prop_assert!(s.total >= 0 && s.total == s.price + s.discount);
            prop_assert_eq!(s.gross, s.net + s.tax);
        }
        let summary_tax: i64 = view.totals.taxes.iter().map(|t| t.tax).sum();
        prop_assert_eq!(summary_tax, view.totals.tax_total);
        prop_assert_eq!(view.totals.discount_total, line_discounts + shipping_discount);
        prop_assert_eq!(view.totals.gross, view.totals.net + view.totals.tax_total);

        let states: Vec<(&Value, CodeState)> = view.discount_codes.iter().map(|c| {
            let index: usize = c.code.trim_start_matches('C').parse().unwrap();
            (&promos[index], c.state)
        }).collect();
        let applied: Vec<&Value> = states.iter().filter(|(_, s)| *s == CodeState::Applied).map(|(p, _)| *p).collect();
        // An exclusive promotion that applies is the only one that applies.
        if applied.iter().any(|p| p["exclusive"] == json!(true)) {
            prop_assert_eq!(applied.len(), 1);
        }
        // At most one member of a group applies.
        for group in ["g0", "g1"] {
            prop_assert!(applied.iter().filter(|p| p["group"] == json!(group)).count() <= 1);
        }
    }

    /// A single promotion never discounts more units than its limits allow.
    #[test]
    fn occurrence_and_unit_limits_hold(
        products in products(),
        promo in promotion(),
        lines in prop::collection::vec((0usize..6, 1u32..10), 1..6),
    ) {
        let doc = catalog(&products, std::slice::from_ref(&promo), "default", false);
        let catalog = Catalog::from_value(doc).unwrap();
        let view = priced_cart(&catalog, &lines, 1);
        let discounted = |l: &wasm_cart::LineView| -> u32 {
            l.unit_discounts.iter().filter(|u| u.amount != 0).map(|u| u.quantity).sum()
        };
        let target = &promo["target"];
        let cap = |key: &str| target[key].as_u64();
        // A percentage with a cap never takes more than the cap off its items.
        if let (Some("items"), Some(max)) = (target["type"].as_str(), promo["value"]["maxAmount"].as_str()) {
            let max: i64 = max.replace('.', "").parse().unwrap();
            let taken: i64 = view.line_items.iter().flat_map(|l| &l.discounts).map(|d| -d.amount).sum();
            prop_assert!(taken <= max, "{} > {}", taken, max);
        }
        match target["type"].as_str() {
            Some("items") => if let Some(max) = cap("maxUnitsPerLine") {
                for l in &view.line_items {
                    prop_assert!(u64::from(discounted(l)) <= max);
                }
            },
            Some("buyXGetY") => if let Some(max) = cap("maxOccurrence") {
                let total: u32 = view.line_items.iter().map(discounted).sum();
                prop_assert!(u64::from(total) <= max * cap("getQuantity").unwrap());
            },
            Some("multiBuy") => if let Some(max) = cap("maxOccurrence") {
                let total: u32 = view.line_items.iter().map(discounted).sum();
                prop_assert!(u64::from(total) <= max * cap("discounted").unwrap());
            },
            _ => {}
        }
    }
}

/// A capped percentage is checked after its own rounding: two lines of 0.15 at 10 % (half up) take
/// 2 + 2 = 4, more than a 0.03 cap, so the cap is what is spread.
#[test]
fn a_cap_is_checked_after_rounding_per_line() {
    let doc = json!({
        "pricing": {"profile": "shopware"},
        "taxCategories": [{"id": "std", "rates": [{"rate": "0"}]}],
        "products": [
            {"id": "p0", "name": "A", "taxCategory": "std", "shippable": false, "prices": [{"currency": "EUR", "amount": "0.15"}]},
            {"id": "p1", "name": "B", "taxCategory": "std", "shippable": false, "prices": [{"currency": "EUR", "amount": "0.15"}]}
        ],
        "promotions": [{"id": "x0", "code": "C0", "currency": "EUR", "target": {"type": "items"},
                        "value": {"type": "percentage", "percent": "10", "maxAmount": "0.03"}}]
    });
    let catalog = Catalog::from_value(doc).unwrap();
    let view = priced_cart(&catalog, &[(0, 1), (1, 1)], 1);
    assert_eq!(view.totals.discount_total, -3);
}

/// Shipping taxed by the lines' rates needs no rate of its own category.
#[test]
fn shipping_taxed_by_the_lines_needs_no_rate_of_its_own() {
    let doc = json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}, {"id": "ship", "rates": [{"country": "AT", "rate": "0.2"}]}],
        "products": [{"id": "p0", "name": "A", "taxCategory": "std", "prices": [{"currency": "EUR", "amount": "10.00"}]}],
        "shippingMethods": [{"id": "s", "name": "S", "taxCategory": "ship", "taxType": "proportional", "default": true,
                             "rates": [{"currency": "EUR", "price": "4.90"}]}]
    });
    let catalog = Catalog::from_value(doc).unwrap();
    let view = priced_cart(&catalog, &[(0, 1)], 0);
    assert!(view.can_checkout, "{:?}", view.issues);
    let shipping = view.shipping.unwrap();
    assert_eq!(shipping.tax_rate.as_deref(), Some("0.19"));
    assert_eq!((shipping.net + shipping.tax, shipping.gross), (490, 490));
}
