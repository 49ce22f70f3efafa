//! Which promotions run (docs/PRICING.md §6): best-deal groups, exclusive promotions and `stopAfter`,
//! and the state each code ends in.

use serde_json::{json, Value};
use wasm_cart::{price, Action, CartState, CartView, Catalog, CodeState, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000;

/// One line of 100.00 and every promotion's code on the cart; the view.
fn priced(promotions: Value) -> CartView {
    let promotions: Vec<Value> = promotions.as_array().cloned().unwrap_or_default();
    let codes: Vec<Value> = promotions
        .iter()
        .map(|p| json!({"action": "addDiscountCode", "code": p["code"]}))
        .collect();
    let catalog = Catalog::from_value(json!({
        "taxCategories": [{"id": "zero", "rates": [{"rate": "0"}]}],
        "products": [{"id": "p", "name": "P", "taxCategory": "zero", "shippable": false,
                      "prices": [{"currency": "EUR", "amount": "100.00"}]}],
        "promotions": promotions
    }))
    .unwrap();
    let now = Timestamp::from_millis(NOW);
    let new = NewCart {
        id: "c".into(),
        currency: "EUR".into(),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, &catalog, now).unwrap();
    let mut actions = vec![json!({"action": "addLineItem", "productId": "p", "quantity": 1})];
    actions.extend(codes);
    cart.apply(&catalog, &Action::list_from_value(Value::Array(actions)).unwrap(), now)
        .unwrap();
    price(&cart, &catalog, now).unwrap()
}

fn states(view: &CartView) -> Vec<CodeState> {
    view.discount_codes.iter().map(|c| c.state).collect()
}

fn pct(id: &str, percent: &str, extra: Value) -> Value {
    let mut p = json!({"id": id, "code": id.to_uppercase(), "target": {"type": "items"},
                       "value": {"type": "percentage", "percent": percent}});
    if let (Some(map), Some(more)) = (p.as_object_mut(), extra.as_object()) {
        map.extend(more.clone());
    }
    p
}

#[test]
fn a_group_applies_its_largest_discount_at_its_first_members_place() {
    use CodeState::{Applied, StoppedByGroupBestDeal};
    let view = priced(json!([
        pct("a", "10", json!({"group": "g", "priority": 3})),
        pct("b", "15", json!({"group": "g", "priority": 1})),
        pct("c", "50", json!({"priority": 2})),
    ]));
    // The group runs at a's place (before c): 15 % of 100.00, then c's 50 % of what is left.
    assert_eq!(states(&view), vec![StoppedByGroupBestDeal, Applied, Applied]);
    assert_eq!(view.totals.total, 4250);
}

#[test]
fn a_stop_after_winner_leaves_its_group_mates_stopped_by_the_group() {
    use CodeState::{Applied, StoppedByGroupBestDeal, StoppedByPreviousDiscount};
    let view = priced(json!([
        pct("a", "10", json!({"group": "g", "priority": 3})),
        pct("b", "15", json!({"group": "g", "priority": 1, "stacking": "stopAfter"})),
        pct("c", "50", json!({"priority": 2})),
    ]));
    assert_eq!(
        states(&view),
        vec![StoppedByGroupBestDeal, Applied, StoppedByPreviousDiscount]
    );
    assert_eq!(view.totals.total, 8500);
}

#[test]
fn an_exclusive_promotion_applies_alone_even_inside_a_group() {
    use CodeState::{Applied, StoppedByExclusiveDiscount};
    let view = priced(json!([
        pct("a", "10", json!({"group": "g", "exclusive": true})),
        pct("b", "15", json!({"group": "g"})),
        pct("c", "50", json!({"priority": 9})),
    ]));
    assert_eq!(
        states(&view),
        vec![Applied, StoppedByExclusiveDiscount, StoppedByExclusiveDiscount]
    );
    assert_eq!(view.totals.total, 9000);
}

#[test]
fn an_exclusive_promotion_whose_conditions_fail_stops_nothing() {
    use CodeState::{Applied, NotApplicable};
    let view = priced(json!([
        pct(
            "a",
            "10",
            json!({"exclusive": true, "conditions": {"customerGroups": ["b2b"]}})
        ),
        pct("b", "15", json!({})),
    ]));
    assert_eq!(states(&view), vec![NotApplicable, Applied]);
    assert_eq!(view.totals.total, 8500);
}
