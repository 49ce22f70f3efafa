//! The catalog JSON model (DESIGN §4–5): products, prices, tax categories, shipping methods, promotions
//! and rules. A catalog is validated once, on load, so the pricing pipeline can trust it: every violation
//! is an `INVALID_CATALOG` error whose message names the JSON path of the offending value.
//! A field the engine does not know is refused with its path (a typo such as `prise` would otherwise
//! load silently and fail only when the product is added); a storefront keeps its own data in the free
//! `metadata` and `attributes` maps.

use crate::error::{CartError, ErrorCode, Result};
use crate::money;
use crate::text::Text;
use crate::time::Timestamp;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

mod pricing;
mod promotion;
pub(crate) use pricing::PricingData;
pub use pricing::{
    Allocation, ConditionBasis, DiscountTax, PricingSettings, Profile, TaxCalculation, TaxRoundingTarget,
};
pub use promotion::{
    Conditions, Distribution, PercentPer, Predicate, Promotion, PromotionValue, Selection, Stacking, Target,
};
#[cfg(test)]
pub(crate) use promotion::{Contains, SubtotalOf};

/// The largest amount a catalog may carry, in major units. With at most 250 lines of 9999 units this
/// keeps every total far inside `i64` minor units, even for three-decimal currencies.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// A decimal amount written as a JSON string (`"19.99"`). JSON numbers are refused: binary floats
/// cannot carry money exactly, and a catalog that uses them is almost certainly wrong somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub Decimal);

impl Amount {
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Amount, E> {
                money::parse_decimal(v)
                    .map(Amount)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(AmountVisitor)
    }
}

/// Per-currency settings; today only cash rounding (`{"CHF": {"cashRounding": "0.05"}}`).
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CurrencySettings {
    pub cash_rounding: Option<Amount>,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxCategory {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub rates: Vec<TaxRate>,
}

/// A rate with no `country` applies to every country not listed explicitly.
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxRate {
    pub country: Option<String>,
    pub rate: Amount,
    pub name: Option<String>,
    /// Whether amounts taxed at this rate include it; absent: `pricing.pricesIncludeTax` decides
    /// (commercetools `includedInPrice`, Sylius `isIncludedInPrice`).
    pub included_in_price: Option<bool>,
    /// Parts of the rate (state + county tax); they must add up to `rate`. The tax is computed at
    /// `rate` and split over the parts (commercetools `subRates`, Shopware's partial tax rules).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub sub_rates: Vec<SubRate>,
}

/// A named part of a tax rate.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubRate {
    pub name: String,
    pub rate: Amount,
}

impl TaxRate {
    /// The rate's display name: the catalog's, else "19%".
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("{}%", (self.rate.0 * Decimal::ONE_HUNDRED).normalize()),
        }
    }
}

/// A price candidate. The pricing pipeline picks the most specific valid one (DESIGN §3 step 1).
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CatalogPrice", optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    pub currency: String,
    pub amount: Amount,
    /// Quantity tier: this price applies to the whole line from this quantity on.
    pub min_quantity: Option<u32>,
    pub customer_group: Option<String>,
    pub country: Option<String>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    /// The lowest unit price promotions may bring a unit to (Sylius channel pricing `minimumPrice`).
    pub minimum_price: Option<Amount>,
}

/// A buyable variant. The product itself is the master variant (`variantId` null).
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CatalogVariant", optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Variant {
    pub id: u32,
    pub sku: Text,
    pub name: Option<Text>,
    /// Own prices; when absent the product's prices apply.
    pub prices: Option<Vec<Price>>,
    pub stock: Option<u32>,
    pub available: Option<bool>,
    /// Descriptive attributes of the variant (size, colour) for display.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub attributes: Map<String, Value>,
    /// Overrides the product's weight.
    pub weight: Option<Amount>,
    /// This variant's id on each platform it is ordered from, by protocol name (docs/sync.md).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub external: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

fn default_kind() -> Text {
    Text::from("product")
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CatalogProduct", optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Product {
    pub id: Text,
    /// Defaults to the product id.
    pub sku: Option<Text>,
    pub name: Text,
    /// Free text: the seeds use `product`, `device`, `plan`, `addon`, `service`.
    #[serde(default = "default_kind")]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub kind: Text,
    pub vendor: Option<Text>,
    pub tax_category: String,
    #[serde(default = "yes")]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub shippable: bool,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub prices: Vec<Price>,
    /// Known stock; absent: not tracked.
    pub stock: Option<u32>,
    pub min_quantity: Option<u32>,
    pub max_quantity: Option<u32>,
    #[serde(default = "yes")]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub available: bool,
    /// Line attributes that must be set before checkout (a licence's `domain`).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub required_attributes: Vec<String>,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub variants: Vec<Variant>,
    pub description: Option<String>,
    /// The weight of one unit, for weight-based shipping (any unit, used consistently).
    pub weight: Option<Amount>,
    /// The product's (master variant's) id on each platform it is ordered from, by protocol name:
    /// `{"shopware": "<product uuid>", "sylius-shop": "<variant code>"}` (docs/sync.md).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub external: BTreeMap<String, String>,
    /// The delivery the product ships in (Medusa's shipping profile): the cart's shippable lines are
    /// grouped by profile, each group shipped and priced by a method of its profile. Absent: the
    /// default profile, whose methods have no `shippingProfile` either.
    pub shipping_profile: Option<String>,
}

impl Product {
    pub fn sku(&self) -> &Text {
        self.sku.as_ref().unwrap_or(&self.id)
    }

    pub fn variant(&self, id: u32) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }
}

/// Selects lines. Every list that is given (non-empty) must match; an empty match selects all lines.
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Match {
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub product_ids: Vec<String>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub skus: Vec<String>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub kinds: Vec<String>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub vendors: Vec<String>,
    /// Promotions only: the line's unit price (before promotions) is at least this.
    pub min_unit_price: Option<Amount>,
    /// Promotions only: the line's unit price (before promotions) is at most this.
    pub max_unit_price: Option<Amount>,
}

impl Match {
    /// Whether a line of `product` at `unit_price` is selected (the price range included).
    pub fn matches_priced(&self, product: &Product, sku: &str, unit_price: Decimal) -> bool {
        self.matches(product, sku)
            && self.min_unit_price.is_none_or(|min| unit_price >= min.0)
            && self.max_unit_price.is_none_or(|max| unit_price <= max.0)
    }

    fn filters_price(&self) -> bool {
        self.min_unit_price.is_some() || self.max_unit_price.is_some()
    }

    /// Whether a line of `product` (with the line's `sku`) is selected; the price range is ignored
    /// (rules cannot carry one: validation refuses it).
    pub fn matches(&self, product: &Product, sku: &str) -> bool {
        fn ok(list: &[String], value: Option<&str>) -> bool {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|x| x == v))
        }
        ok(&self.product_ids, Some(&product.id))
            && (self.skus.is_empty() || self.skus.iter().any(|s| s == sku || s == product.sku()))
            && ok(&self.kinds, Some(&product.kind))
            && ok(&self.vendors, product.vendor.as_deref())
    }
}

/// Cart composition rules (seed 001: device / plan / add-on compatibility).
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CatalogRule", optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Rule {
    /// A line matching `when` needs some line matching `requires` (issue `REQUIRES_ITEM`).
    Requires {
        when: Match,
        requires: Match,
        message: Option<String>,
    },
    /// All lines carrying `metadata[metadataKey]` must share one value (refusal `INCOMPATIBLE_ITEMS`).
    Exclusive {
        metadata_key: String,
        message: Option<String>,
    },
    /// At most `max` lines match (refusal `INCOMPATIBLE_ITEMS`).
    MaxLines {
        #[serde(rename = "match")]
        matcher: Match,
        max: u32,
        message: Option<String>,
    },
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryDays {
    pub min: u32,
    pub max: u32,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingTier {
    pub min_cart_value: Amount,
    pub price: Amount,
}

/// A price for a currency and (optionally) a list of countries. No `countries` = every country.
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingRate {
    pub currency: String,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub countries: Vec<String>,
    pub price: Amount,
    /// Free from this item total (after item discounts, `>=`).
    pub free_above: Option<Amount>,
    /// Cart-value tiers: the highest `minCartValue` reached sets the price.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub tiers: Vec<ShippingTier>,
    /// Weight tiers: the highest `minWeight` reached by the shipped weight sets the price.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub weight_tiers: Vec<WeightTier>,
    /// Added for every shipped unit (Sylius `per_unit_rate`).
    pub price_per_unit: Option<Amount>,
    /// The rate does not serve carts whose shipped weight exceeds this.
    pub max_weight: Option<Amount>,
}

/// A price from a shipped weight on (in the catalog's weight unit, the one of `weight`).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightTier {
    pub min_weight: Amount,
    pub price: Amount,
}

impl ShippingRate {
    pub fn serves(&self, currency: &str, country: Option<&str>) -> bool {
        self.currency == currency
            && (self.countries.is_empty() || country.is_some_and(|c| self.countries.iter().any(|x| x == c)))
    }
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingMethod {
    pub id: String,
    pub name: String,
    pub tax_category: String,
    /// How the shipping price is taxed; `category` uses `taxCategory`.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub tax_type: ShippingTax,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub default: bool,
    pub delivery_days: Option<DeliveryDays>,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub rates: Vec<ShippingRate>,
    /// The method's id (commercetools: key) on each platform, by protocol name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub external: BTreeMap<String, String>,
    /// The shipping profile whose deliveries this method ships (a product's `shippingProfile`);
    /// absent: the default profile.
    pub shipping_profile: Option<String>,
}

/// How a shipping price is taxed (Shopware `taxType`: fixed / auto / highest).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShippingTax {
    /// At the rate of the method's `taxCategory`.
    #[default]
    Category,
    /// Split over the rates of the cart's lines by their share of the item total, each part taxed
    /// and rounded at its rate (Shopware "auto").
    Proportional,
    /// At the highest rate among the cart's lines (Shopware "highest").
    Highest,
}

impl ShippingMethod {
    /// Whether the method ships the deliveries of `profile` (`None`: the default profile).
    pub fn ships(&self, profile: Option<&str>) -> bool {
        self.shipping_profile.as_deref() == profile
    }

    /// The rate for a currency and country: one that lists the country beats a catch-all one.
    pub fn rate_for(&self, currency: &str, country: Option<&str>) -> Option<&ShippingRate> {
        let specific = self.rates.iter().find(|r| {
            r.currency == currency
                && !r.countries.is_empty()
                && country.is_some_and(|c| r.countries.iter().any(|x| x == c))
        });
        specific.or_else(|| {
            self.rates
                .iter()
                .find(|r| r.currency == currency && r.countries.is_empty())
        })
    }
}

/// `from <= now < until`, open ends allowed.
pub(crate) fn in_window(from: Option<Timestamp>, until: Option<Timestamp>, now: Timestamp) -> bool {
    from.is_none_or(|f| f <= now) && until.is_none_or(|u| now < u)
}

/// The catalog JSON (DESIGN §4, docs/PRICING.md), as read before it is validated.
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "Catalog", optional_fields))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub(crate) struct CatalogData {
    version: Option<String>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pricing: PricingData,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    currencies: BTreeMap<String, CurrencySettings>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    tax_categories: Vec<TaxCategory>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    products: Vec<Product>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    rules: Vec<Rule>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    shipping_methods: Vec<ShippingMethod>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    promotions: Vec<Promotion>,
}

/// A validated catalog with its lookup indexes. Build it with [`Catalog::from_json`] or
/// [`Catalog::from_value`]; it is immutable afterwards except for stock ([`Catalog::set_stock`]).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    data: CatalogData,
    /// `data.pricing` resolved against its profile.
    pricing: PricingSettings,
    products_by_id: FxHashMap<String, usize>,
    /// sku -> (product index, variant id)
    by_sku: FxHashMap<String, (usize, Option<u32>)>,
    /// upper-cased code -> promotion index
    codes: FxHashMap<String, usize>,
}

impl Catalog {
    /// Parses and validates catalog JSON text.
    pub fn from_json(text: &str) -> Result<Catalog> {
        let value: Value = serde_json::from_str(text).map_err(|e| invalid("", &e.to_string()))?;
        Catalog::from_value(value)
    }

    /// Validates an already-parsed JSON value.
    pub fn from_value(value: Value) -> Result<Catalog> {
        if !value.is_object() {
            return Err(invalid("", "expected a JSON object"));
        }
        let data: CatalogData = crate::tracked::from_value(&value).map_err(|e| {
            let path = if e.path == "." { String::new() } else { e.path };
            invalid(&path, &e.error.to_string())
        })?;
        let problems = validate(&data);
        if let Some(first) = problems.first() {
            let list: Vec<Value> = problems.iter().map(|(p, m)| json!({"path": p, "message": m})).collect();
            return Err(invalid(&first.0, &first.1).with_details(json!({ "errors": list })));
        }
        Ok(Catalog::index(data))
    }

    fn index(data: CatalogData) -> Catalog {
        let mut catalog = Catalog {
            pricing: data.pricing.resolve(),
            data,
            ..Catalog::default()
        };
        for (i, p) in catalog.data.products.iter().enumerate() {
            catalog.products_by_id.insert(p.id.to_string(), i);
            catalog.by_sku.insert(p.sku().to_string(), (i, None));
            for v in &p.variants {
                catalog.by_sku.insert(v.sku.to_string(), (i, Some(v.id)));
            }
        }
        for (i, promo) in catalog.data.promotions.iter().enumerate() {
            if let Some(code) = &promo.code {
                catalog.codes.insert(code.to_uppercase(), i);
            }
        }
        catalog
    }

    pub fn version(&self) -> Option<&str> {
        self.data.version.as_deref()
    }
    pub fn pricing(&self) -> &PricingSettings {
        &self.pricing
    }
    pub fn products(&self) -> &[Product] {
        &self.data.products
    }
    pub fn tax_categories(&self) -> &[TaxCategory] {
        &self.data.tax_categories
    }
    pub fn rules(&self) -> &[Rule] {
        &self.data.rules
    }
    pub fn shipping_methods(&self) -> &[ShippingMethod] {
        &self.data.shipping_methods
    }
    pub fn promotions(&self) -> &[Promotion] {
        &self.data.promotions
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products_by_id.get(id).and_then(|&i| self.data.products.get(i))
    }

    /// The product and variant id a SKU names.
    pub fn find_sku(&self, sku: &str) -> Option<(&Product, Option<u32>)> {
        let &(i, variant) = self.by_sku.get(sku)?;
        Some((self.data.products.get(i)?, variant))
    }

    pub fn tax_category(&self, id: &str) -> Option<&TaxCategory> {
        self.data.tax_categories.iter().find(|t| t.id == id)
    }

    pub fn shipping_method(&self, id: &str) -> Option<&ShippingMethod> {
        self.data.shipping_methods.iter().find(|m| m.id == id)
    }

    /// The promotion a code unlocks; codes match case-insensitively.
    pub fn promotion_by_code(&self, code: &str) -> Option<&Promotion> {
        self.codes
            .get(&code.to_uppercase())
            .and_then(|&i| self.data.promotions.get(i))
    }

    /// Cash-rounding increment for a currency, in major units.
    pub fn cash_rounding(&self, currency: &str) -> Option<Decimal> {
        self.data
            .currencies
            .get(currency)
            .and_then(|c| c.cash_rounding)
            .map(Amount::value)
    }

    /// Replaces the known stock of a product (variant `None`) or one of its variants. The reference
    /// server uses it to price against live stock. Unknown product or variant -> `INVALID_ITEM`.
    pub fn set_stock(&mut self, product_id: &str, variant_id: Option<u32>, stock: Option<u32>) -> Result<()> {
        let unknown = || CartError::new(ErrorCode::InvalidItem, format!("unknown product {product_id}"));
        let &i = self.products_by_id.get(product_id).ok_or_else(unknown)?;
        let product = self.data.products.get_mut(i).ok_or_else(unknown)?;
        match variant_id {
            None => product.stock = stock,
            Some(id) => {
                let variant = product.variants.iter_mut().find(|v| v.id == id).ok_or_else(|| {
                    CartError::new(ErrorCode::InvalidItem, format!("unknown variant {id} of {product_id}"))
                })?;
                variant.stock = stock;
            }
        }
        Ok(())
    }
}

fn invalid(path: &str, message: &str) -> CartError {
    let text = if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    };
    CartError::new(ErrorCode::InvalidCatalog, text).with_details(json!({ "path": path }))
}

/// Collects every semantic violation as (path, message), in document order.
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push((path.into(), message.into()));
    }

    fn check(&mut self, ok: bool, path: impl FnOnce() -> String, message: &str) {
        if !ok {
            self.0.push((path(), message.to_string()));
        }
    }

    /// A product's or method's `shippingProfile`, when given, is a name.
    fn profile(&mut self, path: &str, profile: Option<&str>) {
        if profile.is_some_and(str::is_empty) {
            self.add(format!("{path}.shippingProfile"), "must not be empty");
        }
    }

    fn currency(&mut self, path: &str, code: &str) {
        self.check(
            money::is_known_currency(code),
            || path.to_string(),
            "unknown currency code",
        );
    }

    fn country(&mut self, path: &str, code: &str) {
        let ok = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
        self.check(ok, || path.to_string(), "expected an ISO 3166-1 alpha-2 country code");
    }

    fn amount(&mut self, path: &str, amount: Amount) {
        if amount.0.is_sign_negative() && !amount.0.is_zero() {
            self.add(path, "must not be negative");
        } else if amount.0 > MAX_AMOUNT {
            self.add(path, "must not exceed 1000000000");
        }
    }

    fn window(&mut self, path: &str, from: Option<Timestamp>, until: Option<Timestamp>) {
        if let (Some(f), Some(u)) = (from, until) {
            self.check(f < u, || format!("{path}.validUntil"), "must be after validFrom");
        }
    }

    fn unique<'a>(&mut self, seen: &mut HashSet<&'a str>, id: &'a str, path: String) {
        if id.is_empty() {
            self.add(path, "must not be empty");
        } else if !seen.insert(id) {
            self.add(path, format!("duplicate id \"{id}\""));
        }
    }
}

fn validate(data: &CatalogData) -> Vec<(String, String)> {
    let mut p = Problems(Vec::new());
    for (code, settings) in &data.currencies {
        let path = format!("currencies.{code}");
        p.currency(&path, code);
        if let Some(step) = settings.cash_rounding {
            let digits = money::fraction_digits(code).unwrap_or(2);
            let minor = step.0 * Decimal::from(10u64.pow(digits.min(9)));
            let ok = step.0 > Decimal::ZERO && minor.fract().is_zero() && step.0 <= MAX_AMOUNT;
            p.check(
                ok,
                || format!("{path}.cashRounding"),
                "must be a positive multiple of the minor unit",
            );
        }
    }
    let mut tax_ids = HashSet::new();
    for (i, cat) in data.tax_categories.iter().enumerate() {
        let path = format!("taxCategories[{i}]");
        p.unique(&mut tax_ids, &cat.id, format!("{path}.id"));
        let mut countries = HashSet::new();
        for (j, rate) in cat.rates.iter().enumerate() {
            let rpath = format!("{path}.rates[{j}]");
            if let Some(c) = &rate.country {
                p.country(&format!("{rpath}.country"), c);
            }
            let ok = rate.rate.0 >= Decimal::ZERO && rate.rate.0 <= Decimal::ONE;
            p.check(ok, || format!("{rpath}.rate"), "must be between 0 and 1");
            validate_sub_rates(&mut p, rate, &rpath);
            if !countries.insert(rate.country.as_deref()) {
                p.add(format!("{rpath}.country"), "duplicate rate for this country");
            }
        }
    }
    validate_products(&mut p, data, &tax_ids);
    validate_rules(&mut p, data);
    validate_shipping(&mut p, data, &tax_ids);
    validate_weights(&mut p, data);
    promotion::validate_promotions(&mut p, &data.promotions);
    validate_gifts(&mut p, data);
    p.0
}

fn validate_sub_rates(p: &mut Problems, rate: &TaxRate, path: &str) {
    if rate.sub_rates.is_empty() {
        return;
    }
    let mut sum = Decimal::ZERO;
    for (k, sub) in rate.sub_rates.iter().enumerate() {
        let ok = sub.rate.0 >= Decimal::ZERO && sub.rate.0 <= Decimal::ONE;
        p.check(ok, || format!("{path}.subRates[{k}].rate"), "must be between 0 and 1");
        sum = sum.saturating_add(sub.rate.0);
    }
    p.check(
        sum == rate.rate.0,
        || format!("{path}.subRates"),
        "must add up to the rate",
    );
}

fn validate_prices(p: &mut Problems, prices: &[Price], path: &str) {
    for (j, price) in prices.iter().enumerate() {
        let ppath = format!("{path}[{j}]");
        p.currency(&format!("{ppath}.currency"), &price.currency);
        p.amount(&format!("{ppath}.amount"), price.amount);
        if let Some(min) = price.minimum_price {
            p.amount(&format!("{ppath}.minimumPrice"), min);
            p.check(
                min <= price.amount,
                || format!("{ppath}.minimumPrice"),
                "must not exceed amount",
            );
        }
        if let Some(c) = &price.country {
            p.country(&format!("{ppath}.country"), c);
        }
        if price.min_quantity == Some(0) {
            p.add(format!("{ppath}.minQuantity"), "must be at least 1");
        }
        p.window(&ppath, price.valid_from, price.valid_until);
    }
}

fn validate_products(p: &mut Problems, data: &CatalogData, tax_ids: &HashSet<&str>) {
    let mut ids = HashSet::new();
    let mut skus = HashSet::new();
    for (i, product) in data.products.iter().enumerate() {
        let path = format!("products[{i}]");
        p.unique(&mut ids, &product.id, format!("{path}.id"));
        let sku_path = if product.sku.is_some() { "sku" } else { "id" };
        if !skus.insert(product.sku()) {
            p.add(
                format!("{path}.{sku_path}"),
                format!("duplicate sku \"{}\"", product.sku()),
            );
        }
        let known = tax_ids.contains(product.tax_category.as_str());
        p.check(known, || format!("{path}.taxCategory"), "unknown tax category");
        validate_prices(p, &product.prices, &format!("{path}.prices"));
        let min = product.min_quantity.unwrap_or(1);
        let max = product.max_quantity.unwrap_or(crate::cart::MAX_QUANTITY);
        p.check(min >= 1, || format!("{path}.minQuantity"), "must be at least 1");
        p.check(
            max <= crate::cart::MAX_QUANTITY,
            || format!("{path}.maxQuantity"),
            "must not exceed 9999",
        );
        p.check(
            min <= max,
            || format!("{path}.maxQuantity"),
            "must not be below minQuantity",
        );
        p.profile(&path, product.shipping_profile.as_deref());
        // A shippable product no method ships could never be ordered (NO_SHIPPING_METHOD).
        let profile = product.shipping_profile.as_deref();
        let shipped = !product.shippable
            || data.shipping_methods.is_empty()
            || data.shipping_methods.iter().any(|m| m.ships(profile));
        p.check(
            shipped,
            || format!("{path}.shippingProfile"),
            match profile {
                Some(_) => "no shipping method ships this profile",
                None => "no shipping method ships the default profile (methods without shippingProfile)",
            },
        );
        for (j, attr) in product.required_attributes.iter().enumerate() {
            p.check(
                !attr.is_empty(),
                || format!("{path}.requiredAttributes[{j}]"),
                "must not be empty",
            );
        }
        let mut variant_ids = HashSet::new();
        for (j, variant) in product.variants.iter().enumerate() {
            let vpath = format!("{path}.variants[{j}]");
            if !variant_ids.insert(variant.id) {
                p.add(format!("{vpath}.id"), format!("duplicate variant id {}", variant.id));
            }
            if variant.sku.is_empty() {
                p.add(format!("{vpath}.sku"), "must not be empty");
            } else if !skus.insert(&variant.sku) {
                p.add(format!("{vpath}.sku"), format!("duplicate sku \"{}\"", variant.sku));
            }
            if let Some(prices) = &variant.prices {
                validate_prices(p, prices, &format!("{vpath}.prices"));
            }
        }
    }
}

fn validate_rules(p: &mut Problems, data: &CatalogData) {
    for (i, rule) in data.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        let matchers: Vec<(&Match, &str)> = match rule {
            Rule::Requires { when, requires, .. } => vec![(when, "when"), (requires, "requires")],
            Rule::MaxLines { matcher, .. } => vec![(matcher, "match")],
            Rule::Exclusive { .. } => Vec::new(),
        };
        for (matcher, key) in matchers {
            p.check(
                !matcher.filters_price(),
                || format!("{path}.{key}"),
                "a rule cannot filter by unit price (promotions only)",
            );
        }
        match rule {
            Rule::Exclusive { metadata_key, .. } => p.check(
                !metadata_key.is_empty(),
                || format!("{path}.metadataKey"),
                "must not be empty",
            ),
            Rule::MaxLines { max, .. } => p.check(*max >= 1, || format!("{path}.max"), "must be at least 1"),
            Rule::Requires { .. } => {}
        }
    }
}

/// A gift names a product (and variant) of this catalog.
fn validate_gifts(p: &mut Problems, data: &CatalogData) {
    for (i, promo) in data.promotions.iter().enumerate() {
        let Target::Gift {
            product_id, variant_id, ..
        } = &promo.target
        else {
            continue;
        };
        let path = format!("promotions[{i}].target");
        match data.products.iter().find(|x| &x.id == product_id) {
            None => p.add(format!("{path}.productId"), "unknown product"),
            Some(product) => p.check(
                variant_id.is_none_or(|v| product.variant(v).is_some()),
                || format!("{path}.variantId"),
                "unknown variant",
            ),
        }
    }
}

fn validate_weights(p: &mut Problems, data: &CatalogData) {
    for (i, product) in data.products.iter().enumerate() {
        if let Some(w) = product.weight {
            p.amount(&format!("products[{i}].weight"), w);
        }
        for (j, variant) in product.variants.iter().enumerate() {
            if let Some(w) = variant.weight {
                p.amount(&format!("products[{i}].variants[{j}].weight"), w);
            }
        }
    }
}

fn validate_shipping(p: &mut Problems, data: &CatalogData, tax_ids: &HashSet<&str>) {
    let mut ids = HashSet::new();
    for (i, method) in data.shipping_methods.iter().enumerate() {
        let path = format!("shippingMethods[{i}]");
        p.unique(&mut ids, &method.id, format!("{path}.id"));
        let known = tax_ids.contains(method.tax_category.as_str());
        p.check(known, || format!("{path}.taxCategory"), "unknown tax category");
        p.profile(&path, method.shipping_profile.as_deref());
        if let Some(days) = method.delivery_days {
            p.check(
                days.min <= days.max,
                || format!("{path}.deliveryDays.max"),
                "must not be below min",
            );
        }
        for (j, rate) in method.rates.iter().enumerate() {
            let rpath = format!("{path}.rates[{j}]");
            p.currency(&format!("{rpath}.currency"), &rate.currency);
            p.amount(&format!("{rpath}.price"), rate.price);
            if let Some(free) = rate.free_above {
                p.amount(&format!("{rpath}.freeAbove"), free);
            }
            for (k, country) in rate.countries.iter().enumerate() {
                p.country(&format!("{rpath}.countries[{k}]"), country);
            }
            for (k, tier) in rate.tiers.iter().enumerate() {
                p.amount(&format!("{rpath}.tiers[{k}].minCartValue"), tier.min_cart_value);
                p.amount(&format!("{rpath}.tiers[{k}].price"), tier.price);
            }
            for (k, tier) in rate.weight_tiers.iter().enumerate() {
                p.amount(&format!("{rpath}.weightTiers[{k}].minWeight"), tier.min_weight);
                p.amount(&format!("{rpath}.weightTiers[{k}].price"), tier.price);
            }
            p.check(
                rate.tiers.is_empty() || rate.weight_tiers.is_empty(),
                || format!("{rpath}.weightTiers"),
                "a rate has cart-value tiers or weight tiers, not both",
            );
            for (field, amount) in [("pricePerUnit", rate.price_per_unit), ("maxWeight", rate.max_weight)] {
                if let Some(a) = amount {
                    p.amount(&format!("{rpath}.{field}"), a);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn base() -> Value {
        json!({
            "version": "t#1",
            "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}],
            "products": [
                {"id": "a", "sku": "A", "name": "A", "taxCategory": "std", "prices": [{"currency": "EUR", "amount": "1.00"}]},
                {"id": "b", "name": "B", "taxCategory": "std", "prices": [{"currency": "EUR", "amount": "2.00"}],
                 "variants": [{"id": 2, "sku": "B-2"}]}
            ]
        })
    }

    fn error_of(v: Value) -> CartError {
        Catalog::from_value(v).unwrap_err()
    }

    type Mutation = fn(&mut Value);

    /// Each mutation of the base catalog is refused with a message starting with its expectation.
    fn assert_refused(cases: Vec<(Mutation, &str)>) {
        for (mutate, expected) in cases {
            let mut v = base();
            mutate(&mut v);
            let e = error_of(v);
            assert_eq!(e.code, ErrorCode::InvalidCatalog);
            assert!(
                e.message.starts_with(expected),
                "{} does not start with {expected}",
                e.message
            );
        }
    }

    #[test]
    fn loads_and_indexes() {
        let c = Catalog::from_value(base()).unwrap();
        assert_eq!(c.product("a").unwrap().sku(), "A");
        assert_eq!(c.find_sku("B-2").map(|(p, v)| (p.id.as_str(), v)), Some(("b", Some(2))));
        assert_eq!(c.find_sku("b").map(|(p, v)| (p.id.as_str(), v)), Some(("b", None)));
        assert!(c.pricing().prices_include_tax);
    }

    #[test]
    fn json_number_amount_names_the_path() {
        let mut v = base();
        v["products"][1]["prices"][0]["amount"] = json!(19.99);
        let e = error_of(v);
        assert_eq!(e.code, ErrorCode::InvalidCatalog);
        assert!(e.message.starts_with("products[1].prices[0].amount: "), "{}", e.message);
        assert!(e.message.contains("expected a decimal string"), "{}", e.message);
    }

    #[test]
    fn semantic_violations_name_their_paths() {
        let cases: Vec<(Mutation, &str)> = vec![
            (|v| v["products"][1]["id"] = json!("a"), "products[1].id: duplicate id"),
            (
                |v| v["products"][0]["taxCategory"] = json!("nope"),
                "products[0].taxCategory: unknown tax category",
            ),
            (
                |v| v["products"][0]["prices"][0]["currency"] = json!("XXY"),
                "products[0].prices[0].currency: unknown currency",
            ),
            (
                |v| v["products"][0]["prices"][0]["amount"] = json!("-1.00"),
                "products[0].prices[0].amount: must not be negative",
            ),
            (
                |v| v["products"][1]["variants"][0]["sku"] = json!("A"),
                "products[1].variants[0].sku: duplicate sku",
            ),
            (
                |v| v["taxCategories"][0]["rates"][0]["rate"] = json!("1.5"),
                "taxCategories[0].rates[0].rate",
            ),
            (
                |v| v["promotions"] = json!([{"id": "m", "target": {"type": "multiBuy", "trigger": 1, "discounted": 1}, "value": {"type": "percentage", "percent": "50"}}]),
                "promotions[0].target.trigger: must be at least 2",
            ),
            (
                |v| {
                    v["promotions"] = json!([{"id": "m", "target": {"type": "items"}, "value": {"type": "absolute", "amount": "5.00"}}])
                },
                "promotions[0].currency: required",
            ),
            (
                |v| {
                    v["promotions"] = json!([
                    {"id": "x", "code": "SAVE", "target": {"type": "items"}, "value": {"type": "percentage", "percent": "5"}},
                    {"id": "y", "code": "save", "target": {"type": "items"}, "value": {"type": "percentage", "percent": "5"}}])
                },
                "promotions[1].code: duplicate code",
            ),
            (
                |v| v["products"][0]["prices"][0]["validFrom"] = json!("yesterday"),
                "products[0].prices[0].validFrom",
            ),
        ];
        assert_refused(cases);
    }

    #[test]
    fn unknown_fields_are_refused_with_their_path() {
        let cases: Vec<(Mutation, &str)> = vec![
            (
                |v| v["products"][0]["prise"] = json!([]),
                "products[0].prise: unknown field `prise`",
            ),
            (
                |v| v["somethingElse"] = json!({"x": 1}),
                "somethingElse: unknown field `somethingElse`",
            ),
            (
                |v| v["products"][1]["variants"][0]["colour"] = json!("red"),
                "products[1].variants[0].colour: unknown field `colour`",
            ),
            (
                |v| v["taxCategories"][0]["rates"][0]["included"] = json!(true),
                "taxCategories[0].rates[0].included: unknown field",
            ),
            (
                |v| v["promotions"] = json!([{"id": "x", "target": {"type": "items", "matcher": {}}, "value": {"type": "percentage", "percent": "5"}}]),
                "promotions[0].target: unknown field `matcher`",
            ),
            (
                |v| v["pricing"] = json!({"roundingMod": "halfUp"}),
                "pricing.roundingMod: unknown field",
            ),
        ];
        assert_refused(cases);
        // Free-form maps stay free: a storefront keeps its own data there.
        let mut v = base();
        v["products"][0]["metadata"] = json!({"image": "a.png", "colour": "red"});
        v["products"][1]["variants"][0]["attributes"] = json!({"size": "L"});
        assert!(Catalog::from_value(v).is_ok());
    }

    #[test]
    fn not_an_object_or_not_json() {
        assert_eq!(error_of(json!([1])).code, ErrorCode::InvalidCatalog);
        assert_eq!(Catalog::from_json("{").unwrap_err().code, ErrorCode::InvalidCatalog);
    }

    #[test]
    fn codes_match_case_insensitively() {
        let mut v = base();
        v["promotions"] = json!([{"id": "x", "code": "Save10", "target": {"type": "items"}, "value": {"type": "percentage", "percent": "10"}}]);
        let c = Catalog::from_value(v).unwrap();
        assert_eq!(c.promotion_by_code("SAVE10").unwrap().id, "x");
        assert!(c.promotion_by_code("SAVE11").is_none());
    }

    #[test]
    fn shipping_rate_prefers_the_listed_country() {
        let m: ShippingMethod = serde_json::from_value(json!({"id": "s", "name": "S", "taxCategory": "std", "rates": [
            {"currency": "EUR", "price": "9.00"},
            {"currency": "EUR", "countries": ["DE"], "price": "4.00"}]}))
        .unwrap();
        assert_eq!(m.rate_for("EUR", Some("DE")).unwrap().price.0, Decimal::new(400, 2));
        assert_eq!(m.rate_for("EUR", Some("AT")).unwrap().price.0, Decimal::new(900, 2));
        assert!(m.rate_for("CHF", Some("DE")).is_none());
    }

    #[test]
    fn set_stock_updates_products_and_variants() {
        let mut c = Catalog::from_value(base()).unwrap();
        c.set_stock("b", Some(2), Some(3)).unwrap();
        c.set_stock("a", None, Some(0)).unwrap();
        assert_eq!(c.product("b").unwrap().variant(2).unwrap().stock, Some(3));
        assert_eq!(c.product("a").unwrap().stock, Some(0));
        assert_eq!(c.set_stock("zz", None, None).unwrap_err().code, ErrorCode::InvalidItem);
    }
}
