//! A catalog that exercises every feature of the engine, shared by the property tests and benches.
#![allow(dead_code)]

use serde_json::{json, Value};
use wasm_cart::{Action, CartState, Catalog, NewCart, Timestamp};

/// Pricing settings to vary over.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub gross: bool,
    pub rounding: &'static str,
    pub tax_rounding: &'static str,
    pub unit_level: bool,
}

pub const ROUNDING: [&str; 3] = ["halfEven", "halfUp", "halfDown"];

/// A rich catalog: variants, tiers, group and country prices, required attributes, stock, rules,
/// every promotion target and value, two shipping methods with tiers and free-above, DE/AT/CH tax,
/// EUR/CHF/JPY prices and CHF cash rounding.
pub fn rich_catalog(s: Settings) -> Value {
    json!({
        "version": "props#1",
        "pricing": {
            "pricesIncludeTax": s.gross, "roundingMode": s.rounding, "taxRoundingMode": s.tax_rounding,
            "taxCalculation": if s.unit_level { "unitPrice" } else { "lineItem" }
        },
        "currencies": { "CHF": { "cashRounding": "0.05" } },
        "taxCategories": [
            { "id": "std", "rates": [
                { "country": "DE", "rate": "0.19", "name": "MwSt 19%" },
                { "country": "AT", "rate": "0.20", "name": "USt 20%" },
                { "country": "CH", "rate": "0.081", "name": "MWST 8.1%" } ] },
            { "id": "reduced", "rates": [
                { "country": "DE", "rate": "0.07" }, { "country": "AT", "rate": "0.10" }, { "country": "CH", "rate": "0.026" } ] },
            { "id": "digital", "rates": [ { "rate": "0.19" } ] }
        ],
        "products": [
            { "id": "mug", "sku": "MUG", "name": "Mug", "taxCategory": "std", "kind": "product", "vendor": "acme",
              "prices": [ { "currency": "EUR", "amount": "9.99" }, { "currency": "EUR", "amount": "8.333", "minQuantity": 10 },
                          { "currency": "CHF", "amount": "10.90" }, { "currency": "JPY", "amount": "1500" } ],
              "stock": 25,
              "variants": [ { "id": 2, "sku": "MUG-L", "name": "Mug large",
                              "prices": [ { "currency": "EUR", "amount": "12.49" }, { "currency": "CHF", "amount": "13.45" } ] } ] },
            { "id": "shirt", "sku": "SHIRT", "name": "Shirt", "taxCategory": "std", "kind": "product", "vendor": "acme",
              "prices": [ { "currency": "EUR", "amount": "19.95" }, { "currency": "EUR", "amount": "17.00", "customerGroup": "b2b" },
                          { "currency": "EUR", "amount": "18.50", "country": "AT" }, { "currency": "CHF", "amount": "24.00" } ] },
            { "id": "book", "sku": "BOOK", "name": "Book", "taxCategory": "reduced",
              "prices": [ { "currency": "EUR", "amount": "24.00" }, { "currency": "CHF", "amount": "29.00" }, { "currency": "JPY", "amount": "3200" } ] },
            { "id": "phone", "sku": "PHONE", "name": "Phone", "taxCategory": "std", "kind": "device", "vendor": "telco",
              "prices": [ { "currency": "EUR", "amount": "699.00" }, { "currency": "CHF", "amount": "749.00" } ], "maxQuantity": 3 },
            { "id": "plan-post", "sku": "PLAN-POST", "name": "Postpaid", "taxCategory": "std", "kind": "plan", "shippable": false,
              "metadata": { "planType": "postpaid" }, "prices": [ { "currency": "EUR", "amount": "30.00" }, { "currency": "CHF", "amount": "35.00" } ] },
            { "id": "plan-pre", "sku": "PLAN-PRE", "name": "Prepaid", "taxCategory": "std", "kind": "plan", "shippable": false,
              "metadata": { "planType": "prepaid" }, "prices": [ { "currency": "EUR", "amount": "15.00" }, { "currency": "CHF", "amount": "17.00" } ] },
            { "id": "roam", "sku": "ROAM", "name": "Roaming", "taxCategory": "std", "kind": "addon", "shippable": false,
              "prices": [ { "currency": "EUR", "amount": "5.00" }, { "currency": "CHF", "amount": "5.50" } ] },
            { "id": "lic", "sku": "LIC", "name": "Licence", "taxCategory": "digital", "kind": "service", "vendor": "microsoft",
              "shippable": false, "requiredAttributes": ["domain"], "minQuantity": 1, "maxQuantity": 300,
              "prices": [ { "currency": "EUR", "amount": "12.50" }, { "currency": "CHF", "amount": "13.00" } ] },
            { "id": "tire", "sku": "TIRE", "name": "Tire", "taxCategory": "std",
              "prices": [ { "currency": "EUR", "amount": "100.00" }, { "currency": "CHF", "amount": "110.00" } ] },
            { "id": "gone", "sku": "GONE", "name": "Gone", "taxCategory": "std", "available": false,
              "prices": [ { "currency": "EUR", "amount": "1.00" } ] }
        ],
        "rules": [
            { "type": "requires", "when": { "kinds": ["addon"] }, "requires": { "kinds": ["plan"] }, "message": "Add-ons need a plan" },
            { "type": "exclusive", "metadataKey": "planType" },
            { "type": "maxLines", "match": { "kinds": ["device"] }, "max": 2 }
        ],
        "shippingMethods": [
            { "id": "standard", "name": "Standard", "taxCategory": "std", "default": true, "deliveryDays": { "min": 2, "max": 4 },
              "rates": [ { "currency": "EUR", "countries": ["DE", "AT"], "price": "4.99", "freeAbove": "100.00",
                           "tiers": [ { "minCartValue": "30.00", "price": "2.99" } ] },
                         { "currency": "CHF", "countries": ["CH"], "price": "7.90" } ] },
            { "id": "express", "name": "Express", "taxCategory": "std", "deliveryDays": { "min": 1, "max": 1 },
              "rates": [ { "currency": "EUR", "price": "12.90" }, { "currency": "CHF", "price": "14.90" } ] }
        ],
        "promotions": [
            { "id": "tenoff", "code": "TENOFF", "priority": 10, "target": { "type": "items" }, "value": { "type": "percentage", "percent": "10" } },
            { "id": "five", "code": "FIVE", "currency": "EUR", "priority": 20, "target": { "type": "items", "match": { "vendors": ["acme"] } },
              "value": { "type": "absolute", "amount": "5.00" } },
            { "id": "even", "code": "EVEN", "currency": "EUR", "target": { "type": "items" }, "value": { "type": "absolute", "amount": "7.01", "distribution": "even" } },
            { "id": "each", "code": "EACH", "currency": "EUR", "target": { "type": "items" }, "value": { "type": "absolute", "amount": "0.33", "distribution": "each" } },
            { "id": "fixed", "code": "FIXED", "currency": "EUR", "target": { "type": "items", "match": { "skus": ["MUG", "MUG-L"] } },
              "value": { "type": "fixedPrice", "amount": "7.77" } },
            { "id": "tires", "priority": 50, "target": { "type": "multiBuy", "match": { "productIds": ["tire", "mug"] }, "trigger": 3, "discounted": 1, "selection": "cheapest" },
              "value": { "type": "percentage", "percent": "50" } },
            { "id": "b2b", "priority": 40, "stacking": "stopAfter", "conditions": { "customerGroups": ["b2b"], "minQuantity": 3 },
              "target": { "type": "items" }, "value": { "type": "percentage", "percent": "3" } },
            { "id": "freeship", "code": "FREESHIP", "target": { "type": "shipping" }, "value": { "type": "percentage", "percent": "100" } },
            { "id": "bigcart", "currency": "EUR", "conditions": { "minSubtotal": "200.00" }, "target": { "type": "shipping" },
              "value": { "type": "absolute", "amount": "2.00" } },
            { "id": "old", "code": "OLD", "validUntil": "2020-01-01T00:00:00Z", "target": { "type": "items" }, "value": { "type": "percentage", "percent": "50" } }
        ]
    })
}
pub mod tabs;

/// A cart of `lines` lines over the rich catalog's products (each with a `domain`), with the codes
/// TENOFF and FIVE: the cart of the native benches and of `examples/price_count`.
pub fn bench_cart(catalog: &Catalog, lines: usize, now: Timestamp) -> CartState {
    let new = NewCart {
        id: "bench".into(),
        currency: "EUR".into(),
        country: Some("DE".into()),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, catalog, now).unwrap_or_else(|e| panic!("{e}"));
    let products = ["mug", "shirt", "book", "tire", "lic"];
    let mut actions = Vec::new();
    for i in 0..lines {
        let product = products[i % products.len()];
        actions.push(
            json!({"action": "addLineItem", "productId": product, "quantity": 1 + i % 4,
                            "attributes": {"domain": format!("d{i}.example")}}),
        );
    }
    actions.push(json!({"action": "addDiscountCode", "code": "TENOFF"}));
    actions.push(json!({"action": "addDiscountCode", "code": "FIVE"}));
    let actions = Action::list_from_value(json!(actions)).unwrap_or_else(|e| panic!("{e}"));
    cart.apply(catalog, &actions, now).unwrap_or_else(|e| panic!("{e}"));
    cart
}
