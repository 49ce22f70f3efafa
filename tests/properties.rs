//! Invariants of the engine over random carts and random action sequences (valid or not).

mod common;

use common::{rich_catalog, Settings, ROUNDING};
use proptest::prelude::*;
use serde_json::{json, Value};
use wasm_cart::{price, Action, CartState, CartView, Catalog, MergeMode, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000; // 2026-11-21T12:00:00Z

fn settings() -> impl Strategy<Value = Settings> {
    (any::<bool>(), 0..3usize, 0..3usize, any::<bool>()).prop_map(|(gross, r, t, unit_level)| Settings {
        gross,
        rounding: ROUNDING[r],
        tax_rounding: ROUNDING[t],
        unit_level,
    })
}

fn product() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "mug",
        "shirt",
        "book",
        "phone",
        "plan-post",
        "plan-pre",
        "roam",
        "lic",
        "tire",
        "gone",
        "nope",
    ])
}

fn line_id() -> impl Strategy<Value = String> {
    prop_oneof![(1..7u32).prop_map(|n| format!("li_{n}")), Just("li_x".to_string())]
}

fn attributes() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"domain": "a.example"})),
        Just(json!({"domain": "b.example", "seats": 3})),
        Just(json!({"domain": null})),
        Just(json!({"bad": {"nested": true}})),
    ]
}

/// Any action, valid or not: unknown products and lines, bad quantities, malformed JSON shapes.
fn action() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (product(), -1..14i64, attributes())
            .prop_map(|(p, q, a)| json!({"action": "addLineItem", "productId": p, "quantity": q, "attributes": a})),
        1 => (prop::sample::select(vec!["MUG-L", "MUG", "LIC", "NOPE"]), 1..4i64)
            .prop_map(|(s, q)| json!({"action": "addLineItem", "sku": s, "quantity": q})),
        1 => (Just("mug"), prop::option::of(1..4u32)).prop_map(|(p, v)| json!({"action": "addLineItem", "productId": p, "variantId": v})),
        2 => (line_id(), prop::option::of(-1..6i64))
            .prop_map(|(l, q)| json!({"action": "removeLineItem", "lineItemId": l, "quantity": q})),
        3 => (line_id(), -1..16i64).prop_map(|(l, q)| json!({"action": "changeLineItemQuantity", "lineItemId": l, "quantity": q})),
        1 => (line_id(), Just(1.5f64)).prop_map(|(l, q)| json!({"action": "changeLineItemQuantity", "lineItemId": l, "quantity": q})),
        2 => (line_id(), attributes()).prop_map(|(l, a)| json!({"action": "setLineItemAttributes", "lineItemId": l, "attributes": a})),
        1 => (prop::sample::select(vec!["0.01", "2.50", "19.99", "-1.00", "0"]), prop::sample::select(vec!["custom", "credit"]),
              prop::sample::select(vec!["std", "reduced", "nope"]), 1..4i64)
            .prop_map(|(a, k, t, q)| json!({"action": "addCustomLineItem", "name": "Fee", "amount": a, "kind": k, "taxCategory": t, "quantity": q})),
        1 => (1..4u32).prop_map(|n| json!({"action": "removeCustomLineItem", "id": format!("cli_{n}")})),
        3 => prop::sample::select(vec!["TENOFF", "five", "EVEN", "EACH", "FIXED", "FREESHIP", "OLD", "NOPE"])
            .prop_map(|c| json!({"action": "addDiscountCode", "code": c})),
        1 => prop::sample::select(vec!["TENOFF", "FREESHIP", "NOPE"]).prop_map(|c| json!({"action": "removeDiscountCode", "code": c})),
        2 => prop::sample::select(vec![Some("DE"), Some("AT"), Some("CH"), Some("US"), Some("de"), None])
            .prop_map(|c| json!({"action": "setShippingAddress", "address": c.map(|c| json!({"country": c, "city": "X"}))})),
        1 => prop::sample::select(vec![Some("standard"), Some("express"), Some("teleport"), None])
            .prop_map(|m| json!({"action": "setShippingMethod", "shippingMethodId": m})),
        1 => prop::sample::select(vec![Some("b2b"), None]).prop_map(|g| json!({"action": "setCustomer", "customerId": "c1", "customerGroup": g})),
        1 => prop::sample::select(vec!["EUR", "CHF", "JPY", "XXX"]).prop_map(|c| json!({"action": "setCurrency", "currency": c})),
        1 => prop::sample::select(vec!["DE", "AT", "CH", "ZZZ"]).prop_map(|c| json!({"action": "setCountry", "country": c})),
        1 => Just(json!({"action": "acknowledgePriceChanges"})),
        1 => Just(json!({"action": "clear"})),
        1 => prop::sample::select(vec![json!({"action": "teleport"}), json!({"action": "addLineItem", "productId": "mug", "quantity": "3"}),
                                       json!("addLineItem"), json!({"productId": "mug"})]),
    ]
}

/// A step is one action or an atomic batch of up to three.
fn steps() -> impl Strategy<Value = Vec<Vec<Value>>> {
    prop::collection::vec(prop::collection::vec(action(), 1..4), 0..25)
}

fn new_cart(catalog: &Catalog, id: &str, currency: &str) -> CartState {
    let new = NewCart {
        id: id.into(),
        currency: currency.into(),
        country: Some("DE".into()),
        ..NewCart::default()
    };
    CartState::new(new, catalog, Timestamp::from_millis(NOW)).unwrap()
}

/// Applies a step; on refusal the serialized cart must not have changed by a single byte.
/// Runs one batch; returns whether the cart changed. A refusal leaves the serialized cart byte for byte
/// as it was; a success that changes nothing (a quantity set to its current value) keeps the version.
fn run_step(cart: &mut CartState, catalog: &Catalog, step: &[Value]) -> Result<bool, TestCaseError> {
    let before = serde_json::to_string(cart).unwrap();
    let version = cart.version();
    let result = step
        .iter()
        .cloned()
        .map(Action::from_value)
        .collect::<Result<Vec<_>, _>>()
        .and_then(|actions| cart.apply(catalog, &actions, Timestamp::from_millis(NOW)));
    let after = serde_json::to_string(cart).unwrap();
    if let Err(e) = &result {
        // Every refusal's details have its code's declared shape (src/error/details.rs).
        prop_assert_eq!(
            wasm_cart::error::details::mismatches(e.code, &e.details),
            Vec::<String>::new()
        );
    }
    if result.is_err() || after == before {
        prop_assert_eq!(after, before);
        prop_assert_eq!(cart.version(), version);
        return Ok(false);
    }
    prop_assert_eq!(cart.version(), version + 1);
    Ok(true)
}

fn check_totals(view: &CartView, gross_prices: bool) -> Result<(), TestCaseError> {
    let t = &view.totals;
    prop_assert_eq!(t.total, t.gross + t.cash_rounding);
    prop_assert_eq!(t.gross, t.net + t.tax_total);
    let ship_total = view.shipping.as_ref().map_or(0, |s| s.total);
    let parts: i64 = view.line_items.iter().map(|l| l.total).sum::<i64>()
        + view.custom_line_items.iter().map(|c| c.total).sum::<i64>()
        + ship_total;
    prop_assert_eq!(t.subtotal + t.discount_total + t.shipping_total, parts);
    prop_assert_eq!(parts, if gross_prices { t.gross } else { t.net });
    let nets = view.line_items.iter().map(|l| l.net).sum::<i64>()
        + view.custom_line_items.iter().map(|c| c.net).sum::<i64>()
        + view.shipping.as_ref().map_or(0, |s| s.net);
    let taxes = view.line_items.iter().map(|l| l.tax).sum::<i64>()
        + view.custom_line_items.iter().map(|c| c.tax).sum::<i64>()
        + view.shipping.as_ref().map_or(0, |s| s.tax);
    prop_assert_eq!(nets, t.net);
    prop_assert_eq!(taxes, t.tax_total);
    prop_assert_eq!(view.totals.taxes.iter().map(|r| r.tax).sum::<i64>(), t.tax_total);
    for line in &view.line_items {
        let discounts: i64 = line.discounts.iter().map(|d| d.amount).sum();
        prop_assert_eq!(line.total, line.base_total + discounts);
        prop_assert!(line.total >= 0, "negative line {:?}", line);
        prop_assert!(line.discounts.iter().all(|d| d.amount < 0));
        let per_unit: i64 = line
            .unit_discounts
            .iter()
            .map(|u| i64::from(u.quantity) * u.amount)
            .sum();
        prop_assert_eq!(per_unit, discounts);
        if !line.unit_discounts.is_empty() {
            prop_assert_eq!(
                line.unit_discounts.iter().map(|u| u.quantity).sum::<u32>(),
                line.quantity
            );
        }
    }
    if let Some(s) = &view.shipping {
        prop_assert!(s.total >= 0 && s.discount <= 0);
        prop_assert_eq!(s.total, s.price + s.discount);
    }
    prop_assert_eq!(
        view.can_checkout,
        !view
            .issues
            .iter()
            .any(|i| i.severity == wasm_cart::pricing::Severity::Error)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// No sequence of actions panics; refusals change nothing; totals always add up; pricing is
    /// deterministic; a cart serialized and read back prices identically.
    #[test]
    fn random_action_sequences_keep_every_invariant(s in settings(), currency in prop::sample::select(vec!["EUR", "CHF", "JPY"]), steps in steps()) {
        let catalog = Catalog::from_value(rich_catalog(s)).unwrap();
        let mut cart = new_cart(&catalog, "cart_p", currency);
        let now = Timestamp::from_millis(NOW);
        let mut expected_version = 0;
        for step in &steps {
            if run_step(&mut cart, &catalog, step)? {
                expected_version += 1;
            }
            prop_assert_eq!(cart.version(), expected_version);
            let view = price(&cart, &catalog, now);
            prop_assert!(view.is_ok(), "pricing failed: {:?}", view.err());
            let view = view.unwrap();
            check_totals(&view, s.gross)?;
            prop_assert_eq!(&price(&cart, &catalog, now).unwrap(), &view);
            let restored: CartState = serde_json::from_str(&serde_json::to_string(&cart).unwrap()).unwrap();
            prop_assert_eq!(&restored, &cart);
            prop_assert_eq!(price(&restored, &catalog, now).unwrap(), view);
        }
    }

    /// Merging two random carts never panics, keeps the invariants, and leaves the guest cart merged.
    #[test]
    fn merging_random_carts(a in steps(), b in steps(), sum in any::<bool>()) {
        let s = Settings { gross: true, rounding: "halfEven", tax_rounding: "halfEven", unit_level: false };
        let catalog = Catalog::from_value(rich_catalog(s)).unwrap();
        let (mut customer, mut guest) = (new_cart(&catalog, "cart_c", "EUR"), new_cart(&catalog, "cart_g", "EUR"));
        for step in &a { run_step(&mut customer, &catalog, step)?; }
        for step in &b { run_step(&mut guest, &catalog, step)?; }
        let mode = if sum { MergeMode::Sum } else { MergeMode::Max };
        let now = Timestamp::from_millis(NOW + 1000);
        if guest.status() == wasm_cart::CartStatus::Active {
            let report = customer.merge(&mut guest, mode, &catalog, now).unwrap();
            prop_assert_eq!(guest.status(), wasm_cart::CartStatus::Merged);
            // Every guest line is either in the customer cart, at least as many units, or reported skipped.
            for line in guest.line_items() {
                let taken = customer.line_items().iter().any(|l| {
                    l.product_id == line.product_id && l.variant_id == line.variant_id
                        && l.attributes == line.attributes && l.quantity >= line.quantity
                });
                let skipped = report.skipped.iter().any(|s| s.line_item_id == line.id);
                prop_assert!(taken || skipped, "guest line {} lost", line.id);
            }
            prop_assert!(customer.discount_codes().len() <= 10);
            check_totals(&price(&customer, &catalog, now).unwrap(), true)?;
        }
    }
}

/// Replaces the value at a random path of a JSON document by a random (often wrong-typed) value.
fn mutate(doc: &mut Value, choices: &[(usize, u8)]) {
    // Wrong types and bad values, and plausible ones (so that some damaged catalogs load and get priced).
    let replacements = [
        json!(null),
        json!(-1),
        json!(1.5),
        json!("-0.01"),
        json!("abc"),
        json!([]),
        json!({}),
        json!(0),
        json!("1e3"),
        json!(true),
        json!("99999999999"),
        json!("5.00"),
        json!("0"),
        json!(2),
        json!("DE"),
        json!("EUR"),
        json!("0.5"),
        json!(10000),
    ];
    for &(pick, kind) in choices {
        // Walk 2 to 6 levels down (never replacing the root), picking children with a small xorshift.
        let mut seed = pick | 1;
        let depth = 2 + pick % 5;
        let mut node = &mut *doc;
        for _ in 0..depth {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = match node {
                Value::Object(m) => m.len(),
                Value::Array(a) => a.len(),
                _ => 0,
            };
            if len == 0 {
                break;
            }
            let i = seed % len;
            node = match node {
                Value::Object(m) => m.values_mut().nth(i).unwrap(),
                Value::Array(a) => &mut a[i],
                _ => unreachable!(),
            };
        }
        *node = replacements[usize::from(kind) % replacements.len()].clone();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A damaged catalog is either refused with INVALID_CATALOG or accepted; an accepted one prices any
    /// cart without panicking. Nothing a catalog says can crash the engine.
    #[test]
    fn damaged_catalogs_are_refused_or_priced_never_a_panic(
        choices in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        steps in steps(),
    ) {
        let s = Settings { gross: true, rounding: "halfEven", tax_rounding: "halfEven", unit_level: false };
        let mut doc = rich_catalog(s);
        mutate(&mut doc, &choices);
        match Catalog::from_value(doc) {
            Err(e) => prop_assert_eq!(e.code, wasm_cart::ErrorCode::InvalidCatalog),
            Ok(catalog) => {
                let new = NewCart { id: "cart_d".into(), currency: "EUR".into(), country: Some("DE".into()), ..NewCart::default() };
                let mut cart = CartState::new(new, &catalog, Timestamp::from_millis(NOW)).unwrap();
                for step in &steps {
                    run_step(&mut cart, &catalog, step)?;
                    let view = price(&cart, &catalog, Timestamp::from_millis(NOW));
                    prop_assert!(view.is_ok(), "{:?}", view.err());
                    check_totals(&view.unwrap(), true)?;
                }
            }
        }
    }
}
