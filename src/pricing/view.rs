//! The priced cart as the browser receives it (DESIGN §7): plain data, camelCase, every amount an
//! integer count of minor units of `currency`. It is derived from the state on demand, never stored.

use crate::cart::{Address, CartStatus, Customer};
use crate::text::Text;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    pub id: String,
    pub version: u64,
    pub status: CartStatus,
    pub currency: String,
    pub fraction_digits: u32,
    /// The pricing profile whose rules priced this view (`pricing.profile`).
    #[cfg_attr(test, ts(type = "PricingProfile"))]
    pub pricing_profile: String,
    pub country: Option<String>,
    pub locale: Option<String>,
    pub customer: Customer,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
    pub catalog_version: Option<String>,
    pub line_items: Vec<LineView>,
    pub custom_line_items: Vec<CustomLineView>,
    pub discount_codes: Vec<CodeView>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method_id: Option<String>,
    /// `null` when nothing in the cart ships (or the catalog has no shipping methods). With several
    /// deliveries (products of several shipping profiles), the first of `deliveries`.
    pub shipping: Option<ShippingView>,
    /// One per shipping profile among the cart's shippable lines that has a method, the default
    /// profile first; `totals.shippingTotal` is their sum. `[]` or `[shipping]` unless the catalog
    /// gives products a `shippingProfile`.
    #[serde(default)]
    pub deliveries: Vec<ShippingView>,
    /// The methods that serve the destination, with their price for this cart, so a UI can offer a choice.
    pub available_shipping_methods: Vec<ShippingOption>,
    pub totals: Totals,
    pub issues: Vec<Issue>,
    pub can_checkout: bool,
}

impl CartView {
    /// Every amount of the view, so that [`CartView::check_exact_in_js`] cannot miss one.
    fn amounts(&self) -> impl Iterator<Item = i64> + '_ {
        let t = &self.totals;
        let totals = [
            t.subtotal,
            t.discount_total,
            t.shipping_total,
            t.net,
            t.tax_total,
            t.gross,
            t.cash_rounding,
            t.total,
        ];
        let rates = t.taxes.iter().flat_map(|r| [r.net, r.tax]);
        let lines = self.line_items.iter().flat_map(|l| {
            let fixed = [l.unit_price, l.base_total, l.total, l.net, l.tax, l.gross];
            let discounts = l.discounts.iter().map(|d| d.amount);
            let units = l.unit_discounts.iter().map(|u| u.amount);
            fixed.into_iter().chain(discounts).chain(units)
        });
        let custom = self
            .custom_line_items
            .iter()
            .flat_map(|c| [c.unit_price, c.total, c.net, c.tax, c.gross]);
        let shipping = self
            .deliveries
            .iter()
            .flat_map(|s| [s.price, s.discount, s.total, s.net, s.tax, s.gross]);
        let options = self.available_shipping_methods.iter().map(|o| o.price);
        totals
            .into_iter()
            .chain(rates)
            .chain(lines)
            .chain(custom)
            .chain(shipping)
            .chain(options)
    }

    /// `AMOUNT_OUT_OF_RANGE` unless every amount (and the version) is an integer JavaScript holds
    /// exactly (|x| <= 2^53 - 1): the view is read as JSON numbers, and a total that silently rounds is
    /// worse than a refusal.
    pub fn check_exact_in_js(&self) -> crate::error::Result<()> {
        let limit = crate::cart::MAX_SAFE_INTEGER;
        let bad = self.amounts().find(|a| a.unsigned_abs() > limit);
        if bad.is_some() || self.version > limit {
            return Err(crate::error::CartError::new(
                crate::error::ErrorCode::AmountOutOfRange,
                "an amount of this cart would exceed 2^53 - 1 minor units, beyond what JavaScript holds exactly",
            )
            .with_details(serde_json::json!({ "max": limit })));
        }
        Ok(())
    }
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineView {
    /// `gift_<promotion id>` for a gift line.
    pub id: Text,
    pub product_id: Text,
    pub variant_id: Option<u32>,
    pub sku: Text,
    pub name: Text,
    pub kind: Text,
    pub vendor: Option<Text>,
    pub quantity: u32,
    /// The cart line's attributes, keys in sorted order (as the cart keeps them: copying the map is
    /// cheaper than building a JSON object per line per price).
    #[cfg_attr(test, ts(type = "Attributes"))]
    pub attributes: crate::cart::Attributes,
    /// The selected unit price, rounded to the currency (catalog price terms).
    pub unit_price: i64,
    /// round(unit price × quantity).
    pub base_total: i64,
    pub discounts: Vec<DiscountView>,
    /// The discount per unit, run-length encoded in unit order; `[]` without a discount.
    pub unit_discounts: Vec<UnitDiscount>,
    /// base total + discounts.
    pub total: i64,
    pub shippable: bool,
    /// A gift a promotion adds while its conditions hold: not a cart line, not changeable.
    pub gift: bool,
    pub tax_rate: Option<String>,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountView {
    pub promotion_id: String,
    pub label: String,
    /// Negative.
    pub amount: i64,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitDiscount {
    pub quantity: u32,
    /// Negative: the discount on each of these units.
    pub amount: i64,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomLineView {
    pub id: String,
    pub name: String,
    pub kind: crate::cart::CustomLineKind,
    pub quantity: u32,
    /// Signed: negative for a credit.
    pub unit_price: i64,
    pub total: i64,
    pub tax_category: String,
    pub tax_rate: Option<String>,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeState {
    Applied,
    /// Conditions fail or nothing matched.
    NotApplicable,
    StoppedByPreviousDiscount,
    /// Outside its validity dates.
    NotActive,
    /// An exclusive promotion applied, so no other did.
    StoppedByExclusiveDiscount,
    /// Another promotion of its group gave a larger discount.
    StoppedByGroupBestDeal,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeView {
    pub code: String,
    pub state: CodeState,
    /// `null` when the catalog no longer knows the code.
    pub promotion_id: Option<String>,
    pub label: String,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEstimate {
    /// ISO 8601 calendar dates (UTC).
    pub min: String,
    pub max: String,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingView {
    pub method_id: String,
    pub name: String,
    /// After `freeAbove` and tiers, before shipping promotions.
    pub price: i64,
    /// Negative (or 0).
    pub discount: i64,
    pub total: i64,
    pub tax_rate: Option<String>,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    pub estimated_delivery: Option<DeliveryEstimate>,
    /// The delivery's shipping profile; absent for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub shipping_profile: Option<String>,
    /// The lines this delivery ships.
    #[serde(default)]
    pub line_item_ids: Vec<Text>,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOption {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub default: bool,
    pub estimated_delivery: Option<DeliveryEstimate>,
    /// The shipping profile whose delivery this method would ship; absent for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub shipping_profile: Option<String>,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Line base totals + custom line totals (catalog price terms).
    pub subtotal: i64,
    /// Every discount, items and shipping (negative).
    pub discount_total: i64,
    /// The shipping price before shipping discounts.
    pub shipping_total: i64,
    pub net: i64,
    pub tax_total: i64,
    pub gross: i64,
    pub cash_rounding: i64,
    /// What the shopper pays: gross + cashRounding.
    pub total: i64,
    /// One entry per rate, highest first.
    pub taxes: Vec<TaxSummary>,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxSummary {
    pub rate: String,
    pub name: String,
    pub net: i64,
    pub tax: i64,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Error,
    Warning,
}

/// The stable codes of `view.issues` (DESIGN §6 and docs/DESIGN-NOTES.md).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IssueCode {
    EmptyCart,
    ProductUnavailable,
    InventoryUnavailable,
    MissingAttribute,
    RequiresItem,
    NoShippingMethod,
    NoTaxRate,
    CartExpired,
    /// A rule broken after a catalog change.
    IncompatibleItems,
    /// A quantity outside new product limits.
    InvalidQuantity,
    /// The cart is ordered or merged.
    CartNotActive,
    /// Warning: a new catalog moved the line's unit price.
    PriceChanged,
    /// Warning: a discount code on the cart does not apply.
    PromoCodeNotApplicable,
}

impl IssueCode {
    /// Every code, in the order of the enum.
    pub const ALL: [IssueCode; 13] = [
        IssueCode::EmptyCart,
        IssueCode::ProductUnavailable,
        IssueCode::InventoryUnavailable,
        IssueCode::MissingAttribute,
        IssueCode::RequiresItem,
        IssueCode::NoShippingMethod,
        IssueCode::NoTaxRate,
        IssueCode::CartExpired,
        IssueCode::IncompatibleItems,
        IssueCode::InvalidQuantity,
        IssueCode::CartNotActive,
        IssueCode::PriceChanged,
        IssueCode::PromoCodeNotApplicable,
    ];

    /// The stable string, e.g. `"EMPTY_CART"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::EmptyCart => "EMPTY_CART",
            IssueCode::ProductUnavailable => "PRODUCT_UNAVAILABLE",
            IssueCode::InventoryUnavailable => "INVENTORY_UNAVAILABLE",
            IssueCode::MissingAttribute => "MISSING_ATTRIBUTE",
            IssueCode::RequiresItem => "REQUIRES_ITEM",
            IssueCode::NoShippingMethod => "NO_SHIPPING_METHOD",
            IssueCode::NoTaxRate => "NO_TAX_RATE",
            IssueCode::CartExpired => "CART_EXPIRED",
            IssueCode::IncompatibleItems => "INCOMPATIBLE_ITEMS",
            IssueCode::InvalidQuantity => "INVALID_QUANTITY",
            IssueCode::CartNotActive => "CART_NOT_ACTIVE",
            IssueCode::PriceChanged => "PRICE_CHANGED",
            IssueCode::PromoCodeNotApplicable => "PROMO_CODE_NOT_APPLICABLE",
        }
    }
}

/// `issue.code == "EMPTY_CART"` reads as the JSON does.
impl PartialEq<&str> for IssueCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something about the cart the shopper should know; errors block checkout (`canCheckout`).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub code: IssueCode,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(test, ts(optional))]
    pub line_item_id: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(test, ts(optional))]
    pub details: Option<Value>,
}

impl Issue {
    pub(crate) fn error(code: IssueCode, message: impl Into<String>) -> Issue {
        Issue {
            code,
            severity: Severity::Error,
            line_item_id: None,
            message: message.into(),
            details: None,
        }
    }

    pub(crate) fn warning(code: IssueCode, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(code, message)
        }
    }

    pub(crate) fn on_line(mut self, id: &str) -> Issue {
        self.line_item_id = Some(id.to_string());
        self
    }

    pub(crate) fn with(mut self, details: Value) -> Issue {
        self.details = Some(details);
        self
    }
}
