//! Gift lines (docs/PRICING.md, commercetools `giftLineItem`): present while their promotion applies,
//! never part of the cart, never discounted by another promotion, never charged when stopped.

use serde_json::{json, Value};
use wasm_cart::{price, Action, CartState, CartView, Catalog, CodeState, ErrorCode, NewCart, Timestamp};

const NOW: i64 = 1_795_262_400_000;

fn catalog(extra_promotions: &[Value]) -> Catalog {
    let mut promotions = vec![json!({
        "id": "socks-free", "currency": "EUR",
        "conditions": {"when": {"subtotalOf": {"match": {"productIds": ["shoe"]}, "atLeast": "100.00"}}},
        "target": {"type": "gift", "productId": "socks"}, "value": {"type": "percentage", "percent": "100"}})];
    promotions.extend(extra_promotions.iter().cloned());
    Catalog::from_value(json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [
            {"id": "shoe", "name": "Shoe", "taxCategory": "std", "shippable": false, "prices": [{"currency": "EUR", "amount": "60.00"}]},
            {"id": "socks", "name": "Socks", "taxCategory": "std", "shippable": false, "stock": 0,
             "prices": [{"currency": "EUR", "amount": "9.99"}]}
        ],
        "promotions": promotions
    }))
    .unwrap()
}

fn cart_with(catalog: &Catalog, actions: Value) -> CartState {
    let now = Timestamp::from_millis(NOW);
    let new = NewCart {
        id: "c".into(),
        currency: "EUR".into(),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, catalog, now).unwrap();
    cart.apply(catalog, &Action::list_from_value(actions).unwrap(), now)
        .unwrap();
    cart
}

fn view(cart: &CartState, catalog: &Catalog) -> CartView {
    price(cart, catalog, Timestamp::from_millis(NOW)).unwrap()
}

#[test]
fn the_gift_comes_and_goes_with_its_condition() {
    let catalog = catalog(&[]);
    let mut cart = cart_with(
        &catalog,
        json!([{"action": "addLineItem", "productId": "shoe", "quantity": 2}]),
    );
    let v = view(&cart, &catalog);
    let gift = v.line_items.iter().find(|l| l.gift).expect("a gift line");
    assert_eq!(
        (gift.id.as_str(), gift.total, gift.base_total),
        ("gift_socks-free", 0, 999)
    );
    // Out of stock, yet no issue blocks the order for a gift.
    assert!(v.can_checkout, "{:?}", v.issues);
    assert_eq!(cart.line_items().len(), 1, "the gift is never a cart line");

    let now = Timestamp::from_millis(NOW);
    let change = Action::from_value(json!({"action": "changeLineItemQuantity", "lineItemId": "li_1", "quantity": 1}));
    cart.apply(&catalog, &[change.unwrap()], now).unwrap();
    let v = view(&cart, &catalog);
    assert!(v.line_items.iter().all(|l| !l.gift));
    assert_eq!(v.totals.total, 6000);
}

#[test]
fn the_gift_line_cannot_be_changed() {
    let catalog = catalog(&[]);
    let mut cart = cart_with(
        &catalog,
        json!([{"action": "addLineItem", "productId": "shoe", "quantity": 2}]),
    );
    let before = serde_json::to_string(&cart).unwrap();
    let change =
        Action::from_value(json!({"action": "changeLineItemQuantity", "lineItemId": "gift_socks-free", "quantity": 3}));
    let err = cart
        .apply(&catalog, &[change.unwrap()], Timestamp::from_millis(NOW))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ItemNotFound);
    assert_eq!(serde_json::to_string(&cart).unwrap(), before);
}

#[test]
fn other_promotions_do_not_discount_the_gift() {
    let all = json!({"id": "ten", "target": {"type": "items"}, "value": {"type": "percentage", "percent": "10"}});
    let catalog = catalog(&[all]);
    let cart = cart_with(
        &catalog,
        json!([{"action": "addLineItem", "productId": "shoe", "quantity": 2}]),
    );
    let v = view(&cart, &catalog);
    let gift = v.line_items.iter().find(|l| l.gift).expect("a gift line");
    assert_eq!(gift.discounts.len(), 1);
    assert_eq!(gift.discounts[0].promotion_id, "socks-free");
    assert_eq!(v.totals.total, 12000 - 1200);
}

#[test]
fn a_stopped_gift_is_neither_given_nor_charged() {
    let exclusive = json!({"id": "vip", "exclusive": true, "code": "VIP",
                           "target": {"type": "items"}, "value": {"type": "percentage", "percent": "5"}});
    let catalog = catalog(&[exclusive]);
    let cart = cart_with(
        &catalog,
        json!([{"action": "addLineItem", "productId": "shoe", "quantity": 2}, {"action": "addDiscountCode", "code": "VIP"}]),
    );
    let v = view(&cart, &catalog);
    assert!(v.line_items.iter().all(|l| !l.gift));
    assert_eq!(v.totals.subtotal, 12000);
    assert_eq!(v.totals.total, 12000 - 600);
    assert_eq!(v.discount_codes[0].state, CodeState::Applied);
}

#[test]
fn a_gift_of_an_unknown_product_is_refused_with_its_path() {
    let err = Catalog::from_value(json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [],
        "promotions": [{"id": "g", "target": {"type": "gift", "productId": "nope"}, "value": {"type": "percentage", "percent": "100"}}]
    }))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidCatalog);
    assert!(
        err.message
            .starts_with("promotions[0].target.productId: unknown product"),
        "{}",
        err.message
    );
}

#[test]
fn a_gift_does_not_satisfy_a_requirement() {
    let mut doc = json!({
        "taxCategories": [{"id": "std", "rates": [{"rate": "0.19"}]}],
        "products": [
            {"id": "shoe", "name": "Shoe", "taxCategory": "std", "shippable": false, "prices": [{"currency": "EUR", "amount": "60.00"}]},
            {"id": "socks", "name": "Socks", "taxCategory": "std", "shippable": false, "prices": [{"currency": "EUR", "amount": "9.99"}]}
        ],
        "rules": [{"type": "requires", "when": {"productIds": ["shoe"]}, "requires": {"productIds": ["socks"]}}],
        "promotions": [{"id": "socks-free", "target": {"type": "gift", "productId": "socks"},
                        "value": {"type": "percentage", "percent": "100"}}]
    });
    let catalog = Catalog::from_value(doc.take()).unwrap();
    let cart = cart_with(
        &catalog,
        json!([{"action": "addLineItem", "productId": "shoe", "quantity": 1}]),
    );
    let v = view(&cart, &catalog);
    assert!(v.line_items.iter().any(|l| l.gift));
    assert!(!v.can_checkout);
    assert!(v.issues.iter().any(|i| i.line_item_id.as_deref() == Some("li_1")));
}
