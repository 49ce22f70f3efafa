//! The `when` predicate of promotion conditions (docs/PRICING.md §6): each form decides on the cart it
//! is given, the combinations nest, and `subtotalOf` follows `pricing.conditionBasis`.

use serde_json::{json, Value};
use wasm_cart::{price, Action, CartState, Catalog, CodeState, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000;

/// The state of one promotion `P` (a 10 % code) with `when`, on a cart built by `actions`.
fn state(when: Value, actions: Value, pricing: Value) -> CodeState {
    let catalog = Catalog::from_value(json!({
        "pricing": pricing,
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [
            {"id": "plan", "name": "Plan", "kind": "plan", "taxCategory": "std", "shippable": false,
             "prices": [{"currency": "EUR", "amount": "20.00"}]},
            {"id": "phone", "name": "Phone", "kind": "device", "taxCategory": "std", "shippable": false,
             "prices": [{"currency": "EUR", "amount": "120.00"}]}
        ],
        "promotions": [
            {"id": "first", "priority": 5, "target": {"type": "items"}, "value": {"type": "percentage", "percent": "50"}},
            {"id": "P", "code": "P", "currency": "EUR", "conditions": {"when": when},
             "target": {"type": "items"}, "value": {"type": "percentage", "percent": "10"}}
        ]
    }))
    .unwrap();
    let now = Timestamp::from_millis(NOW);
    let new = NewCart {
        id: "c".into(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, &catalog, now).unwrap();
    let mut all = actions.as_array().cloned().unwrap_or_default();
    all.push(json!({"action": "addDiscountCode", "code": "P"}));
    cart.apply(&catalog, &Action::list_from_value(Value::Array(all)).unwrap(), now)
        .unwrap();
    price(&cart, &catalog, now).unwrap().discount_codes[0].state
}

fn plan_and_phone() -> Value {
    json!([{"action": "addLineItem", "productId": "plan", "quantity": 1},
           {"action": "addLineItem", "productId": "phone", "quantity": 1},
           {"action": "setCustomer", "customerId": "c1", "email": "anna@Example.COM"}])
}

#[test]
fn each_predicate_decides() {
    use CodeState::{Applied, NotApplicable};
    let cases = [
        (json!({"contains": {"match": {"kinds": ["plan"]}}}), Applied),
        (
            json!({"contains": {"match": {"kinds": ["plan"]}, "minQuantity": 2}}),
            NotApplicable,
        ),
        (
            json!({"subtotalOf": {"match": {"kinds": ["device"]}, "atLeast": "120.00"}}),
            Applied,
        ),
        (
            json!({"subtotalOf": {"match": {"kinds": ["device"]}, "atLeast": "120.01"}}),
            NotApplicable,
        ),
        (json!({"emailDomain": ["example.com"]}), Applied),
        (json!({"emailDomain": ["mail.example.com"]}), NotApplicable),
        (json!({"customerGroup": ["b2b"]}), NotApplicable),
        (json!({"country": ["DE", "AT"]}), Applied),
        (json!({"not": {"country": ["DE"]}}), NotApplicable),
        (json!({"all": []}), Applied),
        (json!({"any": []}), NotApplicable),
        (
            json!({"all": [{"contains": {"match": {"kinds": ["plan"]}}},
                        {"any": [{"customerGroup": ["b2b"]}, {"emailDomain": ["example.com"]}]},
                        {"not": {"country": ["CH"]}}]}),
            Applied,
        ),
        (
            json!({"all": [{"contains": {"match": {"kinds": ["plan"]}}}, {"customerGroup": ["b2b"]}]}),
            NotApplicable,
        ),
        (json!({"contains": {"match": {"minUnitPrice": "100.00"}}}), Applied),
        (json!({"contains": {"match": {"maxUnitPrice": "19.99"}}}), NotApplicable),
    ];
    for (when, expected) in cases {
        assert_eq!(state(when.clone(), plan_and_phone(), json!({})), expected, "{when}");
    }
}

/// 50 % off first: the phone's 120.00 is 60.00 when `P` is checked after it.
#[test]
fn subtotal_of_follows_the_condition_basis() {
    let when = json!({"subtotalOf": {"match": {"kinds": ["device"]}, "atLeast": "100.00"}});
    let before = state(
        when.clone(),
        plan_and_phone(),
        json!({"conditionBasis": "beforePromotions"}),
    );
    let after = state(
        when,
        plan_and_phone(),
        json!({"conditionBasis": "afterEarlierPromotions"}),
    );
    assert_eq!((before, after), (CodeState::Applied, CodeState::NotApplicable));
}

#[test]
fn a_predicate_with_an_amount_needs_a_currency() {
    let err = Catalog::from_value(json!({
        "promotions": [{"id": "P", "conditions": {"when": {"any": [{"subtotalOf": {"atLeast": "5.00"}}]}},
                        "target": {"type": "items"}, "value": {"type": "percentage", "percent": "5"}}]
    }))
    .unwrap_err();
    assert!(
        err.message.starts_with("promotions[0].currency: required"),
        "{}",
        err.message
    );
    let err = Catalog::from_value(json!({
        "promotions": [{"id": "P", "currency": "EUR", "conditions": {"when": {"all": [{"country": ["de"]}]}},
                        "target": {"type": "items"}, "value": {"type": "percentage", "percent": "5"}}]
    }))
    .unwrap_err();
    assert!(
        err.message
            .starts_with("promotions[0].conditions.when.all[0].country[0]"),
        "{}",
        err.message
    );
}
