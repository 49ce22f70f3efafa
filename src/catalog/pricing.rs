//! The catalog's `pricing` object: how prices are read, rounded, taxed and discounted (DESIGN §2–3,
//! docs/PRICING.md). A `profile` names a platform's set of rule choices; a field given explicitly
//! overrides the profile's choice, so a catalog can say "Sylius, but banker's rounding".

use crate::money::RoundingMode;
use serde::{Deserialize, Serialize};

/// A named set of rule choices (docs/PRICING.md lists each profile's rules with their sources).
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PricingProfile"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Profile {
    /// The rules of DESIGN §2–5.
    #[default]
    Default,
    Commercetools,
    Shopware,
    Sylius,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Commercetools => "commercetools",
            Profile::Shopware => "shopware",
            Profile::Sylius => "sylius",
        }
    }
}

/// Where tax is computed and rounded.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaxCalculation {
    /// On each line's (custom line's, shipping's) discounted total, rounded per line.
    #[default]
    LineItem,
    /// On each unit, rounded per unit, then summed.
    UnitPrice,
    /// Once per rate over everything the cart has at that rate, rounded once per rate, then spread
    /// over the lines by their amounts (Shopware "vertical", Vendure, Sylius's decimal calculator).
    PerRate,
}

/// How an amount is split over targets when it does not divide evenly.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Allocation {
    /// Floor each exact share, leftover units to the largest remainders (DESIGN §2).
    #[default]
    LargestRemainder,
    /// Round each exact share half toward zero, then the difference one unit at a time to the
    /// first targets in cart order (Sylius `ProportionalIntegerDistributor`).
    FirstTargets,
}

/// What a promotion's cart conditions (`minSubtotal`, `subtotalOf`) are measured on.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConditionBasis {
    /// The cart before any promotion.
    #[default]
    BeforePromotions,
    /// The cart as the promotions before this one left it (Sylius re-checks rules before each action).
    AfterEarlierPromotions,
}

/// Which figure of a gross amount is rounded.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaxRoundingTarget {
    /// `net = round(gross / (1 + rate))`, `tax = gross - net` (commercetools' default target).
    #[default]
    Net,
    /// `tax = round(gross × rate / (1 + rate))`, `net = gross - tax` (Shopware, Sylius, commercetools `Tax`).
    Tax,
}

/// How a discount on items is taxed.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DiscountTax {
    /// Each line is taxed on its discounted total.
    #[default]
    Lines,
    /// Lines are taxed on their totals before promotions; each promotion's discount is taxed on its
    /// own, split over the tax rates by their share of the discounted lines, rounded per rate
    /// (Shopware `PercentageTaxRuleBuilder`).
    RateShares,
}

/// The resolved settings the pipeline runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingSettings {
    pub profile: Profile,
    /// `true`: prices are gross (tax included); `false`: prices are net. A tax rate's
    /// `includedInPrice` overrides it for the amounts taxed at that rate.
    pub prices_include_tax: bool,
    pub rounding_mode: RoundingMode,
    pub tax_rounding_mode: RoundingMode,
    pub tax_calculation: TaxCalculation,
    pub allocation: Allocation,
    pub condition_basis: ConditionBasis,
    pub tax_rounding_target: TaxRoundingTarget,
    pub discount_tax: DiscountTax,
}

impl Default for PricingSettings {
    fn default() -> Self {
        PricingData::default().resolve()
    }
}

/// The catalog's `pricing`: every field optional; the profile fills the gaps.
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PricingSettings", optional_fields))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub(crate) struct PricingData {
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    profile: Profile,
    prices_include_tax: Option<bool>,
    rounding_mode: Option<RoundingMode>,
    tax_rounding_mode: Option<RoundingMode>,
    tax_calculation: Option<TaxCalculation>,
    allocation: Option<Allocation>,
    condition_basis: Option<ConditionBasis>,
    tax_rounding_target: Option<TaxRoundingTarget>,
    discount_tax: Option<DiscountTax>,
}

impl PricingData {
    /// The profile's choices, overridden by every field the catalog gives.
    pub(crate) fn resolve(&self) -> PricingSettings {
        let base = profile_rules(self.profile);
        PricingSettings {
            profile: self.profile,
            prices_include_tax: self.prices_include_tax.unwrap_or(base.prices_include_tax),
            rounding_mode: self.rounding_mode.unwrap_or(base.rounding_mode),
            tax_rounding_mode: self.tax_rounding_mode.unwrap_or(base.tax_rounding_mode),
            tax_calculation: self.tax_calculation.unwrap_or(base.tax_calculation),
            allocation: self.allocation.unwrap_or(base.allocation),
            condition_basis: self.condition_basis.unwrap_or(base.condition_basis),
            tax_rounding_target: self.tax_rounding_target.unwrap_or(base.tax_rounding_target),
            discount_tax: self.discount_tax.unwrap_or(base.discount_tax),
        }
    }
}

/// Each profile's rule choices. Sources (docs/PRICING.md has the details):
/// - commercetools: `priceRoundingMode` and `taxRoundingMode` default `HalfEven`, `taxCalculationMode`
///   default `LineItemLevel` (docs.commercetools.com, Carts API).
/// - Shopware: PHP `round()` (half away from zero) for prices and taxes (`CashRounding::mathRound`),
///   horizontal tax per line (`TaxCalculationType::HORIZONTAL`, the default), the tax of a gross
///   amount rounded (`TaxCalculator::calculateGrossTaxes`), promotions as lines of their own taxed by
///   rate share (`PercentageTaxRuleBuilder`).
/// - Sylius: `(int) round()` (half away from zero) for discounts and taxes; order discounts split by
///   `ProportionalIntegerDistributor` (leftover cents to the first items); promotion rules re-checked
///   against the order before each promotion (`PromotionApplicator`, `ItemTotalRuleChecker`); the tax of
///   an included rate rounded (`DefaultCalculator`: `round($base - $base / (1 + $rate))`).
fn profile_rules(profile: Profile) -> PricingSettings {
    let default = PricingSettings {
        profile,
        prices_include_tax: true,
        rounding_mode: RoundingMode::HalfEven,
        tax_rounding_mode: RoundingMode::HalfEven,
        tax_calculation: TaxCalculation::LineItem,
        allocation: Allocation::LargestRemainder,
        condition_basis: ConditionBasis::BeforePromotions,
        tax_rounding_target: TaxRoundingTarget::Net,
        discount_tax: DiscountTax::Lines,
    };
    match profile {
        Profile::Default | Profile::Commercetools => default,
        Profile::Shopware => PricingSettings {
            rounding_mode: RoundingMode::HalfUp,
            tax_rounding_mode: RoundingMode::HalfUp,
            tax_rounding_target: TaxRoundingTarget::Tax,
            discount_tax: DiscountTax::RateShares,
            ..default
        },
        Profile::Sylius => PricingSettings {
            rounding_mode: RoundingMode::HalfUp,
            tax_rounding_mode: RoundingMode::HalfUp,
            allocation: Allocation::FirstTargets,
            condition_basis: ConditionBasis::AfterEarlierPromotions,
            tax_rounding_target: TaxRoundingTarget::Tax,
            ..default
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(json: serde_json::Value) -> PricingSettings {
        serde_json::from_value::<PricingData>(json).unwrap().resolve()
    }

    #[test]
    fn explicit_fields_override_the_profile() {
        let sylius = resolve(serde_json::json!({"profile": "sylius"}));
        assert_eq!(sylius.rounding_mode, RoundingMode::HalfUp);
        assert_eq!(sylius.allocation, Allocation::FirstTargets);
        let mixed = resolve(serde_json::json!({"profile": "sylius", "roundingMode": "halfEven"}));
        assert_eq!(mixed.rounding_mode, RoundingMode::HalfEven);
        assert_eq!(mixed.allocation, Allocation::FirstTargets);
        assert_eq!(resolve(serde_json::json!({})), PricingSettings::default());
        assert_eq!(PricingSettings::default().profile, Profile::Default);
    }
}
