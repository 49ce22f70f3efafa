//! SPEC-B (seed 001), the default checkout protocol (DESIGN §8): the request the browser sends to
//! `POST {endpoint}/carts/{cartId}/checkout`, how the server turns it back into a cart, and the answers.
//!
//! The request carries what the shopper chose (ids, quantities, attributes, codes, addresses, method ids)
//! and the totals the shopper saw (`cart.expected`, integer minor units). A server never trusts the
//! latter: [`CheckoutRequest::rebuild_cart`] replays the choices as cart actions against the server's
//! catalog, so every refusal is a typed [`CartError`], and [`ExpectedTotals::mismatch`] compares what the
//! shopper saw with what the server priced.
//!
//! Amounts in the SPEC-B shapes (`Cart`, `CartItem`, orders) are JSON numbers in **major units**
//! (`1084.99`), as in the seed, written exactly from decimals (never through a float); the engine's own
//! view (`view`) keeps integer minor units.

use crate::cart::{Action, Address, CartState, CartStatus, CustomLineKind, NewCart};
use crate::catalog::{Amount, Catalog};
use crate::error::{CartError, ErrorCode, Result};
use crate::money;
use crate::pricing::{CartView, LineView, Totals};
use crate::time::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The body of `POST /carts/{cartId}/checkout`: SPEC-B's fields, plus `poNumber` (seed 000) and the
/// cart itself (DESIGN §8), since a browser cart never existed on the server. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    /// SPEC-B marks it required; guests may omit it (the order then has no customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub payment_method_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// One more discount code, added to the cart's codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    /// Purchase order number (seed 000), copied onto every order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The cart to check out. Without it the server checks out its own cart `{cartId}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart: Option<CheckoutCart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutCart {
    pub currency: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub items: Vec<CheckoutItem>,
    #[serde(default)]
    pub custom_line_items: Vec<CheckoutCustomLine>,
    #[serde(default)]
    pub discount_codes: Vec<String>,
    #[serde(default)]
    pub shipping_method_id: Option<String>,
    /// The chosen methods of the deliveries other than the default profile's, by shipping profile.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delivery_methods: BTreeMap<String, String>,
    /// The shopper's e-mail, for the order (a relayed platform order needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    /// The totals the shopper saw, in minor units of `currency`.
    pub expected: ExpectedTotals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutItem {
    pub product_id: String,
    #[serde(default)]
    pub variant_id: Option<u32>,
    /// When given it must name the same product and variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: i64,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

/// A custom line (fee or credit). Its amount comes from the client, so a server that trusts nothing
/// about prices refuses carts that carry one; the model keeps them so the request is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutCustomLine {
    pub name: String,
    pub amount: Amount,
    pub tax_category: String,
    pub quantity: i64,
    #[serde(default)]
    pub kind: CustomLineKind,
}

/// The totals the shopper saw (integer minor units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectedTotals {
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub tax_total: i64,
    pub total: i64,
}

/// Where the client's totals and the server's differ (`PRICE_CHANGED`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceMismatch {
    pub expected: ExpectedTotals,
    pub actual: ExpectedTotals,
    /// The names of the totals that differ, e.g. `["taxTotal", "total"]`.
    pub differences: Vec<&'static str>,
}

impl ExpectedTotals {
    pub fn from_totals(totals: &Totals) -> ExpectedTotals {
        ExpectedTotals {
            subtotal: totals.subtotal,
            discount_total: totals.discount_total,
            shipping_total: totals.shipping_total,
            tax_total: totals.tax_total,
            total: totals.total,
        }
    }

    /// `None` when every total equals the server's; otherwise what differs.
    pub fn mismatch(&self, actual: &Totals) -> Option<PriceMismatch> {
        let actual = ExpectedTotals::from_totals(actual);
        let pairs = [
            ("subtotal", self.subtotal, actual.subtotal),
            ("discountTotal", self.discount_total, actual.discount_total),
            ("shippingTotal", self.shipping_total, actual.shipping_total),
            ("taxTotal", self.tax_total, actual.tax_total),
            ("total", self.total, actual.total),
        ];
        let differences: Vec<&'static str> = pairs.iter().filter(|(_, e, a)| e != a).map(|(n, _, _)| *n).collect();
        if differences.is_empty() {
            None
        } else {
            Some(PriceMismatch {
                expected: *self,
                actual,
                differences,
            })
        }
    }
}

/// What the caller adds to the cart's own data when it builds a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckoutOptions {
    /// Else the cart's payment method; one of the two is required.
    pub payment_method_id: Option<String>,
    /// Else the cart's customer id.
    pub customer_id: Option<String>,
    pub promo_code: Option<String>,
    pub po_number: Option<String>,
}

impl CheckoutRequest {
    /// The request for a cart as the shopper sees it: `view` must be the view of this very cart
    /// (same id and version), its totals become `cart.expected`. Refuses an inactive cart
    /// (`CART_NOT_ACTIVE`) and a missing payment method (`INVALID_REQUEST`, field `paymentMethodId`).
    pub fn from_cart(cart: &CartState, view: &CartView, options: CheckoutOptions) -> Result<CheckoutRequest> {
        if cart.status() != CartStatus::Active {
            return Err(CartError::new(
                ErrorCode::CartNotActive,
                format!("the cart is {}", cart.status().as_str()),
            )
            .with_details(json!({ "status": cart.status().as_str() })));
        }
        if view.id != cart.id() || view.version != cart.version() {
            return Err(
                CartError::invalid_request("the view is not the current view of this cart").with_details(
                    json!({ "field": "view", "cartVersion": cart.version(), "viewVersion": view.version }),
                ),
            );
        }
        let payment_method_id = options
            .payment_method_id
            .or_else(|| cart.payment_method_id().map(str::to_string))
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| {
                CartError::invalid_request("a payment method is required")
                    .with_details(json!({ "field": "paymentMethodId" }))
            })?;
        let items = cart
            .line_items()
            .iter()
            .map(|l| CheckoutItem {
                product_id: l.product_id.to_string(),
                variant_id: l.variant_id,
                sku: Some(l.sku.clone()).filter(|s| !s.is_empty()).map(String::from),
                quantity: i64::from(l.quantity),
                attributes: (*l.attributes).clone(),
            })
            .collect();
        let custom_line_items = cart
            .custom_line_items()
            .iter()
            .map(|c| CheckoutCustomLine {
                name: c.name.clone(),
                amount: c.amount,
                tax_category: c.tax_category.clone(),
                quantity: i64::from(c.quantity),
                kind: c.kind,
            })
            .collect();
        Ok(CheckoutRequest {
            customer_id: options.customer_id.or_else(|| cart.customer().id.clone()),
            payment_method_id,
            shipping_address: cart.shipping_address().cloned(),
            billing_address: cart.billing_address().cloned(),
            promo_code: options.promo_code,
            po_number: options.po_number,
            cart: Some(CheckoutCart {
                currency: cart.currency().to_string(),
                country: cart.country().map(str::to_string),
                locale: cart.locale().map(str::to_string),
                items,
                custom_line_items,
                discount_codes: cart.discount_codes().to_vec(),
                shipping_method_id: cart.shipping_method_id().map(str::to_string),
                // Only the choices of deliveries the cart has: a choice kept for a profile no longer in
                // the cart must not fail the order if the server's catalog has dropped its method.
                delivery_methods: cart
                    .delivery_methods()
                    .iter()
                    .filter(|(profile, _)| {
                        view.deliveries
                            .iter()
                            .any(|d| d.shipping_profile.as_deref() == Some(profile.as_str()))
                    })
                    .map(|(p, m)| (p.clone(), m.clone()))
                    .collect(),
                customer_email: cart.customer().email.clone(),
                expected: ExpectedTotals::from_totals(&view.totals),
            }),
        })
    }

    /// Parses a request body; anything malformed is `INVALID_REQUEST` with the JSON path in
    /// `details.field` (e.g. `cart.items[1].quantity`).
    pub fn from_json(text: &str) -> Result<CheckoutRequest> {
        let mut de = serde_json::Deserializer::from_str(text);
        let request: CheckoutRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let message = e.inner().to_string();
            CartError::invalid_request(if field == "." {
                message.clone()
            } else {
                format!("{field}: {message}")
            })
            .with_details(json!({ "field": field, "reason": message }))
        })?;
        de.end()
            .map_err(|e| CartError::invalid_request(format!("trailing characters: {e}")))?;
        Ok(request)
    }

    /// The actions the body-level fields stand for (addresses, promo code, customer, payment method),
    /// each with the field it came from. They apply to a rebuilt cart and to a server-side cart alike.
    pub fn body_actions(&self) -> Vec<(Action, String)> {
        let mut actions = Vec::new();
        if let Some(address) = &self.shipping_address {
            let action = Action::SetShippingAddress {
                address: Some(address.clone()),
            };
            actions.push((action, "shippingAddress".to_string()));
        }
        if let Some(address) = &self.billing_address {
            let action = Action::SetBillingAddress {
                address: Some(address.clone()),
            };
            actions.push((action, "billingAddress".to_string()));
        }
        if let Some(code) = &self.promo_code {
            actions.push((Action::AddDiscountCode { code: code.clone() }, "promoCode".to_string()));
        }
        if let Some(id) = &self.customer_id {
            let action = Action::SetCustomer {
                customer_id: Some(Some(id.clone())),
                email: None,
                customer_group: None,
            };
            actions.push((action, "customerId".to_string()));
        }
        let action = Action::SetPaymentMethod {
            payment_method_id: Some(self.payment_method_id.clone()),
        };
        actions.push((action, "paymentMethodId".to_string()));
        actions
    }

    /// Rebuilds the submitted cart on the server: a new cart `cart_id` in the request's currency,
    /// country and locale, then every choice replayed as an action against `catalog`, atomically. The
    /// customer group is never taken from the client (it selects prices). Errors are the engine's
    /// (`INVALID_ITEM`, `INVALID_QUANTITY`, `INCOMPATIBLE_ITEMS`, `INVALID_PROMO_CODE`, ...) with the
    /// request field in `details.field`. `INVALID_REQUEST` (field `cart`) when there is no cart.
    pub fn rebuild_cart(&self, cart_id: &str, catalog: &Catalog, now: Timestamp) -> Result<CartState> {
        let submitted = self.cart.as_ref().ok_or_else(|| {
            CartError::invalid_request("the request carries no cart").with_details(json!({ "field": "cart" }))
        })?;
        let new = NewCart {
            id: cart_id.to_string(),
            currency: submitted.currency.clone(),
            country: submitted.country.clone(),
            locale: submitted.locale.clone(),
            customer_id: None,
            customer_group: None,
            ttl_seconds: None,
        };
        let mut cart = CartState::new(new, catalog, now).map_err(|e| at_field(e, "cart"))?;
        let mut actions: Vec<(Action, String)> = Vec::new();
        // Addresses first: the tax country matters to nothing that refuses, but keep the cart's order.
        for (index, item) in submitted.items.iter().enumerate() {
            let action = Action::AddLineItem {
                product_id: Some(item.product_id.clone()),
                sku: item.sku.clone(),
                variant_id: item.variant_id,
                quantity: item.quantity,
                attributes: item.attributes.clone(),
            };
            actions.push((action, format!("cart.items[{index}]")));
        }
        for (index, line) in submitted.custom_line_items.iter().enumerate() {
            let action = Action::AddCustomLineItem {
                name: line.name.clone(),
                amount: line.amount,
                tax_category: line.tax_category.clone(),
                quantity: line.quantity,
                kind: line.kind,
            };
            actions.push((action, format!("cart.customLineItems[{index}]")));
        }
        for (index, code) in submitted.discount_codes.iter().enumerate() {
            actions.push((
                Action::AddDiscountCode { code: code.clone() },
                format!("cart.discountCodes[{index}]"),
            ));
        }
        if let Some(id) = &submitted.shipping_method_id {
            let action = Action::SetShippingMethod {
                shipping_method_id: Some(id.clone()),
                shipping_profile: None,
            };
            actions.push((action, "cart.shippingMethodId".to_string()));
        }
        for (profile, id) in &submitted.delivery_methods {
            let action = Action::SetShippingMethod {
                shipping_method_id: Some(id.clone()),
                shipping_profile: Some(profile.clone()),
            };
            actions.push((action, format!("cart.deliveryMethods.{profile}")));
        }
        if let Some(email) = &submitted.customer_email {
            let action = Action::SetCustomer {
                customer_id: None,
                email: Some(Some(email.clone())),
                customer_group: None,
            };
            actions.push((action, "cart.customerEmail".to_string()));
        }
        actions.extend(self.body_actions());
        apply_with_fields(&mut cart, catalog, &actions, now)?;
        Ok(cart)
    }
}

/// Applies `(action, field)` pairs atomically; a refusal gets `details.field` of the action that failed.
pub fn apply_with_fields(
    cart: &mut CartState,
    catalog: &Catalog,
    actions: &[(Action, String)],
    now: Timestamp,
) -> Result<()> {
    let list: Vec<Action> = actions.iter().map(|(a, _)| a.clone()).collect();
    cart.apply(catalog, &list, now).map_err(|e| {
        let field = e
            .details
            .get("actionIndex")
            .and_then(Value::as_u64)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| actions.get(i))
            .map(|(_, f)| f.clone());
        match field {
            Some(field) => at_field(e, &field),
            None => e,
        }
    })
}

/// Prefixes the field an error names (`quantity` in `cart.items[2]` -> `cart.items[2].quantity`), or
/// sets it; `actionIndex` (an internal detail) is dropped.
fn at_field(mut e: CartError, field: &str) -> CartError {
    let mut details = match std::mem::take(&mut e.details) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    details.remove("actionIndex");
    let full = match details.get("field").and_then(Value::as_str) {
        // `setShippingAddress {address}` names `address.country`: the request field is `shippingAddress`.
        Some(inner) if field.ends_with("Address") && inner.starts_with("address.") => {
            format!("{field}{}", inner.trim_start_matches("address"))
        }
        Some(inner) if !inner.is_empty() && inner != "." => format!("{field}.{inner}"),
        _ => field.to_string(),
    };
    details.insert("field".to_string(), Value::String(full));
    e.details = Value::Object(details);
    e
}

/// A decimal amount in major units written as a JSON number (`1084.99`), exactly: it is serialized
/// from its decimal text, never through a binary float. Reads a JSON number or a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct MajorAmount(pub Decimal);

impl MajorAmount {
    /// `minor` minor units of a currency with `digits` fraction digits.
    pub fn from_minor(minor: i64, digits: u32) -> MajorAmount {
        MajorAmount(money::from_minor(minor, digits))
    }
}

impl Serialize for MajorAmount {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for MajorAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = match Value::deserialize(d)? {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a decimal number, got {other}"
                )))
            }
        };
        money::parse_decimal(&text)
            .map(MajorAmount)
            .ok_or_else(|| serde::de::Error::custom(format!("not a decimal amount: {text}")))
    }
}

/// SPEC-B's `Cart`, with our additions (`currency`, `status`, `version`, `discountTotal`,
/// `shippingTotal`, `metadata`). Amounts in major units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecCart {
    pub id: String,
    pub status: CartStatus,
    pub version: u64,
    pub currency: String,
    pub items: Vec<SpecCartItem>,
    pub subtotal: MajorAmount,
    pub discount_total: MajorAmount,
    pub shipping_total: MajorAmount,
    pub tax: MajorAmount,
    pub total: MajorAmount,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// SPEC-B's `CartItem`. `productType` is the catalog `kind`; `metadata` is the product's catalog
/// metadata (planType, dataCap, contractLength) overlaid with the line's attributes (e.g. `imei`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecCartItem {
    pub id: String,
    pub product_id: String,
    #[serde(default)]
    pub variant_id: Option<u32>,
    pub sku: String,
    pub product_name: String,
    pub product_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub quantity: u32,
    pub unit_price: MajorAmount,
    /// After discounts (the line total).
    pub total_price: MajorAmount,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl SpecCartItem {
    pub fn from_line(line: &LineView, digits: u32, catalog: &Catalog) -> SpecCartItem {
        let mut metadata = catalog
            .product(&line.product_id)
            .map(|p| p.metadata.clone())
            .unwrap_or_default();
        for (key, value) in line.attributes.iter() {
            metadata.entry(key.clone()).or_insert_with(|| value.clone());
        }
        SpecCartItem {
            id: line.id.to_string(),
            product_id: line.product_id.to_string(),
            variant_id: line.variant_id,
            sku: line.sku.to_string(),
            product_name: line.name.to_string(),
            product_type: line.kind.to_string(),
            vendor: line.vendor.clone().map(String::from),
            quantity: line.quantity,
            unit_price: MajorAmount::from_minor(line.unit_price, digits),
            total_price: MajorAmount::from_minor(line.total, digits),
            attributes: line.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            metadata,
        }
    }
}

impl SpecCart {
    /// The SPEC-B shape of a priced cart. `tax` is the tax total, `total` what the shopper pays.
    pub fn from_view(view: &CartView, catalog: &Catalog) -> SpecCart {
        let d = view.fraction_digits;
        SpecCart {
            id: view.id.clone(),
            status: view.status,
            version: view.version,
            currency: view.currency.clone(),
            items: view
                .line_items
                .iter()
                .map(|l| SpecCartItem::from_line(l, d, catalog))
                .collect(),
            subtotal: MajorAmount::from_minor(view.totals.subtotal, d),
            discount_total: MajorAmount::from_minor(view.totals.discount_total, d),
            shipping_total: MajorAmount::from_minor(view.totals.shipping_total, d),
            tax: MajorAmount::from_minor(view.totals.tax_total, d),
            total: MajorAmount::from_minor(view.totals.total, d),
            created_at: view.created_at,
            expires_at: view.expires_at,
            customer_id: view.customer.id.clone(),
            metadata: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderStatus {
    Confirmed,
    Pending,
}

/// The vendor orders are keyed by the product's `vendor`; products without one go to this vendor.
pub const DEFAULT_VENDOR: &str = "store";

/// One order per vendor (seed 000): its lines and their amounts (major units). Shipping, custom lines
/// and cash rounding belong to the checkout as a whole (one payment), not to a vendor order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VendorOrder {
    pub order_id: String,
    pub vendor: String,
    pub status: OrderStatus,
    pub items: Vec<SpecCartItem>,
    /// Sum of the lines' base totals.
    pub subtotal: MajorAmount,
    pub discount_total: MajorAmount,
    pub tax: MajorAmount,
    /// Sum of the lines' totals (after discounts).
    pub total: MajorAmount,
}

/// The lines of a view grouped by vendor, in order of first appearance.
pub fn lines_by_vendor(view: &CartView) -> Vec<(String, Vec<&LineView>)> {
    let mut groups: Vec<(String, Vec<&LineView>)> = Vec::new();
    for line in &view.line_items {
        let vendor = line.vendor.as_deref().unwrap_or(DEFAULT_VENDOR);
        match groups.iter_mut().find(|(v, _)| v == vendor) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((vendor.to_string(), vec![line])),
        }
    }
    groups
}

impl VendorOrder {
    pub fn new(order_id: String, vendor: String, lines: &[&LineView], digits: u32, catalog: &Catalog) -> Result<Self> {
        let sum = |f: fn(&LineView) -> i64| money::sum(lines.iter().map(|l| f(l)));
        let discount = money::sum(
            lines
                .iter()
                .map(|l| money::sum(l.discounts.iter().map(|d| d.amount)))
                .collect::<Result<Vec<i64>>>()?,
        )?;
        Ok(VendorOrder {
            order_id,
            vendor,
            status: OrderStatus::Confirmed,
            items: lines
                .iter()
                .map(|l| SpecCartItem::from_line(l, digits, catalog))
                .collect(),
            subtotal: MajorAmount::from_minor(sum(|l| l.base_total)?, digits),
            discount_total: MajorAmount::from_minor(discount, digits),
            tax: MajorAmount::from_minor(sum(|l| l.tax)?, digits),
            total: MajorAmount::from_minor(sum(|l| l.total)?, digits),
        })
    }
}

/// SPEC-B's checkout answer (`CheckoutCart`), with one order per vendor and the server's priced view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderConfirmation {
    pub order_id: String,
    pub status: OrderStatus,
    pub confirmation_number: String,
    pub payment_method_id: String,
    /// The latest delivery date of the shipping method (noon UTC); absent when nothing ships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    pub currency: String,
    /// What was charged, in major units (= `view.totals.total`).
    pub total: MajorAmount,
    pub created_at: Timestamp,
    pub orders: Vec<VendorOrder>,
    pub cart: SpecCart,
    /// The platform's order when cart-server relayed the checkout (docs/sync.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<super::plan::SyncOutcome>,
    /// The engine's priced cart the order was charged from (integer minor units).
    pub view: CartView,
}

/// `{"error": {"code", "message", "details"}}`: every error body of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>, details: Option<Value>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                details: details.filter(|d| !d.is_null()),
            },
        }
    }
}

impl From<&CartError> for ErrorBody {
    fn from(e: &CartError) -> ErrorBody {
        ErrorBody::new(e.code.as_str(), e.message.clone(), Some(e.details.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::price;

    const CATALOG: &str = r#"{
      "version": "v1",
      "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}],
      "products": [
        {"id": "mug", "name": "Mug", "taxCategory": "std", "vendor": "merch", "stock": 5,
         "prices": [{"currency": "EUR", "amount": "10.00"}],
         "variants": [{"id": 2, "sku": "mug-big", "prices": [{"currency": "EUR", "amount": "12.00"}]}]},
        {"id": "lic", "name": "Licence", "kind": "service", "taxCategory": "std", "vendor": "microsoft",
         "shippable": false, "requiredAttributes": ["domain"], "metadata": {"planType": "postpaid"},
         "prices": [{"currency": "EUR", "amount": "12.50"}]},
        {"id": "tee", "name": "Tee", "taxCategory": "std", "prices": [{"currency": "EUR", "amount": "19.99"}]}
      ],
      "shippingMethods": [{"id": "standard", "name": "Standard", "taxCategory": "std", "default": true,
         "deliveryDays": {"min": 2, "max": 4}, "rates": [{"currency": "EUR", "price": "4.99"}]}],
      "promotions": [{"id": "ten", "code": "TEN", "target": {"type": "items"},
         "value": {"type": "percentage", "percent": "10"}}]
    }"#;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap_or_default()
    }

    fn catalog() -> Catalog {
        Catalog::from_json(CATALOG).unwrap()
    }

    fn cart(catalog: &Catalog) -> CartState {
        let new = NewCart {
            id: "cart_1".into(),
            currency: "EUR".into(),
            country: Some("DE".into()),
            locale: Some("de-DE".into()),
            ..Default::default()
        };
        let mut cart = CartState::new(new, catalog, now()).unwrap();
        let actions = Action::list_from_value(json!([
            {"action": "addLineItem", "productId": "mug", "quantity": 2},
            {"action": "addLineItem", "productId": "mug", "variantId": 2, "quantity": 1},
            {"action": "addLineItem", "productId": "lic", "quantity": 3, "attributes": {"domain": "example.com"}},
            {"action": "addDiscountCode", "code": "TEN"},
            {"action": "setShippingAddress", "address": {"country": "DE", "city": "Berlin"}}
        ]))
        .unwrap();
        cart.apply(catalog, &actions, now()).unwrap();
        cart
    }

    fn options() -> CheckoutOptions {
        CheckoutOptions {
            payment_method_id: Some("pm_card_visa".into()),
            customer_id: Some("cust_1".into()),
            po_number: Some("PO-1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn request_round_trips_and_rebuilds_the_same_priced_cart() {
        let catalog = catalog();
        let cart = cart(&catalog);
        let view = price(&cart, &catalog, now()).unwrap();
        let request = CheckoutRequest::from_cart(&cart, &view, options()).unwrap();
        let text = serde_json::to_string(&request).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["cart"]["items"][1]["variantId"], json!(2));
        assert_eq!(value["cart"]["items"][2]["attributes"]["domain"], json!("example.com"));
        assert_eq!(value["cart"]["expected"]["total"], json!(view.totals.total));
        assert_eq!(value["shippingAddress"]["country"], json!("DE"));
        let parsed = CheckoutRequest::from_json(&text).unwrap();
        assert_eq!(parsed, request);

        let rebuilt = parsed.rebuild_cart("cart_server", &catalog, now()).unwrap();
        let server_view = price(&rebuilt, &catalog, now()).unwrap();
        assert_eq!(server_view.totals, view.totals);
        assert_eq!(rebuilt.customer().id.as_deref(), Some("cust_1"));
        assert_eq!(rebuilt.payment_method_id(), Some("pm_card_visa"));
        let expected = parsed.cart.as_ref().unwrap().expected;
        assert_eq!(expected.mismatch(&server_view.totals), None);
    }

    #[test]
    fn tampered_totals_are_a_mismatch_naming_the_fields() {
        let catalog = catalog();
        let cart = cart(&catalog);
        let view = price(&cart, &catalog, now()).unwrap();
        let mut expected = ExpectedTotals::from_totals(&view.totals);
        expected.total -= 100;
        expected.tax_total -= 1;
        let mismatch = expected.mismatch(&view.totals).unwrap();
        assert_eq!(mismatch.differences, vec!["taxTotal", "total"]);
        assert_eq!(mismatch.actual.total, view.totals.total);
    }

    #[test]
    fn refusals_name_the_request_field() {
        let catalog = catalog();
        let body = json!({
            "paymentMethodId": "pm_card_visa",
            "cart": {"currency": "EUR", "country": "DE", "items": [
                {"productId": "mug", "quantity": 1},
                {"productId": "nope", "quantity": 1}],
              "expected": {"subtotal": 0, "discountTotal": 0, "shippingTotal": 0, "taxTotal": 0, "total": 0}}
        });
        let request = CheckoutRequest::from_json(&body.to_string()).unwrap();
        let e = request.rebuild_cart("c", &catalog, now()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidItem);
        assert_eq!(e.details["field"], json!("cart.items[1]"));
        assert!(e.details.get("actionIndex").is_none());

        let mut bad = body.clone();
        bad["cart"]["items"][0]["quantity"] = json!(0);
        let e = CheckoutRequest::from_json(&bad.to_string())
            .unwrap()
            .rebuild_cart("c", &catalog, now())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidQuantity);
        assert_eq!(e.details["field"], json!("cart.items[0]"));

        let mut bad = body.clone();
        bad["promoCode"] = json!("NOPE");
        bad["cart"]["items"] = json!([]);
        let e = CheckoutRequest::from_json(&bad.to_string())
            .unwrap()
            .rebuild_cart("c", &catalog, now())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidPromoCode);
        assert_eq!(e.details["field"], json!("promoCode"));

        let mut bad = body.clone();
        bad["shippingAddress"] = json!({"country": "germany"});
        bad["cart"]["items"] = json!([]);
        let e = CheckoutRequest::from_json(&bad.to_string())
            .unwrap()
            .rebuild_cart("c", &catalog, now())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.details["field"], json!("shippingAddress.country"));
    }

    #[test]
    fn malformed_bodies_are_invalid_requests_with_paths() {
        let e = CheckoutRequest::from_json(
            r#"{"paymentMethodId": "pm", "cart": {"currency": "EUR",
            "items": [{"productId": "mug", "quantity": "two"}],
            "expected": {"subtotal": 0, "discountTotal": 0, "shippingTotal": 0, "taxTotal": 0, "total": 0}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.details["field"], json!("cart.items[0].quantity"));
        let e = CheckoutRequest::from_json(r#"{"paymentMethodId": "pm", "price": 1}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = CheckoutRequest::from_json(r#"{"customerId": "c"}"#).unwrap_err();
        assert!(e.message.contains("paymentMethodId"), "{}", e.message);
        let e = CheckoutRequest::from_json(r#"{"paymentMethodId": "pm"} x"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = CheckoutRequest::from_json(r#"{"paymentMethodId": "pm"}"#)
            .unwrap()
            .rebuild_cart("c", &catalog(), now())
            .unwrap_err();
        assert_eq!(e.details["field"], json!("cart"));
    }

    #[test]
    fn from_cart_needs_a_payment_method_and_the_matching_view() {
        let catalog = catalog();
        let cart = cart(&catalog);
        let view = price(&cart, &catalog, now()).unwrap();
        let e = CheckoutRequest::from_cart(&cart, &view, CheckoutOptions::default()).unwrap_err();
        assert_eq!(e.details["field"], json!("paymentMethodId"));
        let mut stale = view.clone();
        stale.version -= 1;
        assert!(CheckoutRequest::from_cart(&cart, &stale, options()).is_err());
        let mut ordered = cart.clone();
        ordered.mark_ordered(now()).unwrap();
        let e = CheckoutRequest::from_cart(&ordered, &view, options()).unwrap_err();
        assert_eq!(e.code, ErrorCode::CartNotActive);
    }

    #[test]
    fn spec_b_shapes_use_exact_major_unit_numbers_and_one_order_per_vendor() {
        let catalog = catalog();
        let mut cart = cart(&catalog);
        let tee = Action::from_value(json!({"action": "addLineItem", "productId": "tee", "quantity": 1})).unwrap();
        cart.apply(&catalog, &[tee], now()).unwrap();
        let view = price(&cart, &catalog, now()).unwrap();
        let spec = SpecCart::from_view(&view, &catalog);
        let text = serde_json::to_string(&spec).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["items"][0]["unitPrice"], json!(10.0));
        assert!(text.contains(r#""unitPrice":10.00"#), "{text}");
        assert_eq!(value["items"][2]["metadata"]["planType"], json!("postpaid"));
        assert_eq!(value["items"][2]["metadata"]["domain"], json!("example.com"));
        assert_eq!(value["items"][2]["productType"], json!("service"));
        let back: SpecCart = serde_json::from_str(&text).unwrap();
        assert_eq!(back.total, MajorAmount::from_minor(view.totals.total, 2));

        let groups = lines_by_vendor(&view);
        let vendors: Vec<&str> = groups.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(vendors, vec!["merch", "microsoft", DEFAULT_VENDOR]);
        let orders: Vec<VendorOrder> = groups
            .iter()
            .map(|(v, lines)| VendorOrder::new(format!("ord_{v}"), v.clone(), lines, 2, &catalog).unwrap())
            .collect();
        let lines_total: Decimal = orders.iter().map(|o| o.total.0).sum();
        let shipping = view.shipping.as_ref().map_or(0, |s| s.total);
        let charged = lines_total + money::from_minor(shipping + view.totals.cash_rounding, 2);
        assert_eq!(charged, money::from_minor(view.totals.total, 2));
        assert_eq!(orders.first().unwrap().items.len(), 2);
    }

    #[test]
    fn error_body_shape() {
        let e = CartError::new(ErrorCode::InvalidItem, "unknown product x").with_details(json!({"field": "productId"}));
        let body = serde_json::to_value(ErrorBody::from(&e)).unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": "INVALID_ITEM", "message": "unknown product x", "details": {"field": "productId"}}})
        );
        let body = serde_json::to_value(ErrorBody::new("INTERNAL_ERROR", "boom", None)).unwrap();
        assert!(body["error"].get("details").is_none());
    }
}
