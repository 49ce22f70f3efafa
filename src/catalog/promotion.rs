//! Promotions in the catalog (DESIGN §5, docs/PRICING.md): when one applies (`conditions`), to what
//! (`target`), by how much (`value`), and how it combines with the others (`priority`, `stacking`,
//! `exclusive`, `group`).

use super::{in_window, Amount, Match, Problems};
use crate::time::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stacking {
    #[default]
    Stack,
    /// Stops every later promotion, but only if this one actually discounted something.
    StopAfter,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Conditions {
    /// Compared with the item subtotal (`pricing.conditionBasis`: before any promotion, or as the
    /// earlier promotions left it).
    pub min_subtotal: Option<Amount>,
    /// Compared with the summed quantity of the lines the target matches.
    pub min_quantity: Option<u32>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub customer_groups: Vec<String>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub countries: Vec<String>,
    /// A predicate on the cart, independent of the target.
    pub when: Option<Predicate>,
}

/// A condition on the cart as a whole: `{"all": [...]}`, `{"contains": {"match": {...}}}`, ...
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Predicate {
    /// Every predicate holds (an empty list holds).
    All(Vec<Predicate>),
    /// Some predicate holds (an empty list does not).
    Any(Vec<Predicate>),
    Not(Box<Predicate>),
    /// Priced lines matching `match` hold at least `minQuantity` units (default 1).
    Contains(Contains),
    /// The priced lines matching `match` add up to at least `atLeast` (measured like `minSubtotal`).
    SubtotalOf(SubtotalOf),
    /// The cart's customer group is one of these.
    CustomerGroup(Vec<String>),
    /// The domain of the customer's e-mail (after `@`, case-insensitive) is one of these.
    EmailDomain(Vec<String>),
    /// The tax country (shipping address, else the cart's country) is one of these.
    Country(Vec<String>),
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contains {
    #[serde(rename = "match", default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub matcher: Match,
    pub min_quantity: Option<u32>,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubtotalOf {
    #[serde(rename = "match", default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub matcher: Match,
    pub at_least: Amount,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Selection {
    #[default]
    Cheapest,
    MostExpensive,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PromotionTarget", optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Target {
    /// Matching lines; no `match` = all lines.
    Items {
        #[serde(rename = "match", default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        matcher: Match,
        /// At most this many units of each line are discounted, the most expensive first
        /// (Medusa `max_quantity`).
        max_units_per_line: Option<u32>,
    },
    /// The shipping price.
    Shipping {},
    /// The cart total: lines and shipping, after every other promotion, the discount spread over
    /// them by their amounts (commercetools `totalPrice`).
    Total {},
    /// A gift: while the conditions hold, the view carries a line of this product (id
    /// `gift_<promotion id>`, `gift: true`) that only this promotion discounts (commercetools
    /// `giftLineItem`). It is not in the cart, so the shopper cannot change or remove it.
    Gift {
        product_id: String,
        variant_id: Option<u32>,
        quantity: Option<u32>,
    },
    /// Buy `trigger`, get `discounted` of them (cheapest or most expensive) at the value.
    MultiBuy {
        #[serde(rename = "match", default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        matcher: Match,
        trigger: u32,
        discounted: u32,
        max_occurrence: Option<u32>,
        #[serde(default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        selection: Selection,
    },
    /// Buy `buyQuantity` units matching `buy`, get `getQuantity` units matching `get` at the value;
    /// a unit counts once, as bought or as discounted (commercetools pattern target, Medusa buyget).
    BuyXGetY {
        buy: Match,
        buy_quantity: u32,
        get: Match,
        get_quantity: u32,
        max_occurrence: Option<u32>,
        #[serde(default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        selection: Selection,
    },
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Distribution {
    /// min(amount, matching total) spread by the lines' current amounts (`pricing.allocation`).
    #[default]
    Proportionate,
    /// Equal shares, each capped at its line.
    Even,
    /// The amount off every matching unit.
    Each,
}

/// What a percentage is taken of and where it is rounded.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PercentPer {
    /// Of each line's current total, rounded per line.
    #[default]
    Line,
    /// Of each unit's price before any promotion, rounded per unit: stacked unit percentages do not
    /// compound (Sylius unit percentage discount).
    Unit,
    /// Of the targets' current total, rounded once and allocated over the lines (Sylius order
    /// percentage discount).
    Targets,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum PromotionValue {
    Percentage {
        percent: Amount,
        #[serde(default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        per: PercentPer,
        /// The most the percentage may take off the targets together; above it, this amount is
        /// spread over them instead (Shopware `maxValue`).
        max_amount: Option<Amount>,
    },
    Absolute {
        amount: Amount,
        #[serde(default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        distribution: Distribution,
    },
    /// A unit price, applied only where lower than the current unit price.
    FixedPrice { amount: Amount },
}

impl PromotionValue {
    fn carries_amount(&self) -> bool {
        !matches!(self, PromotionValue::Percentage { max_amount: None, .. })
    }
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Promotion {
    pub id: String,
    pub label: Option<String>,
    /// No code = automatic.
    pub code: Option<String>,
    /// Higher runs first; ties by id.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub priority: i64,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub stacking: Stacking,
    /// If it applies, it is the only promotion that applies, whatever its priority (Sylius).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub exclusive: bool,
    /// Of the promotions sharing a group, only the one giving the largest discount applies
    /// (commercetools discount groups, best deal); the group runs at its first member's place.
    pub group: Option<String>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    /// Required when the value or a condition carries an amount.
    pub currency: Option<String>,
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub conditions: Conditions,
    pub target: Target,
    pub value: PromotionValue,
}

impl Promotion {
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.id)
    }

    /// `validFrom <= now < validUntil`.
    pub fn active_at(&self, now: Timestamp) -> bool {
        in_window(self.valid_from, self.valid_until, now)
    }
}

impl Predicate {
    /// Whether the predicate carries an amount (and so needs the promotion's currency).
    fn carries_amount(&self) -> bool {
        match self {
            Predicate::All(list) | Predicate::Any(list) => list.iter().any(Predicate::carries_amount),
            Predicate::Not(inner) => inner.carries_amount(),
            Predicate::SubtotalOf(_) => true,
            _ => false,
        }
    }
}

pub(super) fn validate_promotions(p: &mut Problems, promotions: &[Promotion]) {
    let mut ids = HashSet::new();
    let mut codes = HashSet::new();
    for (i, promo) in promotions.iter().enumerate() {
        let path = format!("promotions[{i}]");
        p.unique(&mut ids, &promo.id, format!("{path}.id"));
        if let Some(code) = &promo.code {
            if code.trim().is_empty() {
                p.add(format!("{path}.code"), "must not be empty");
            } else if !codes.insert(code.to_uppercase()) {
                p.add(format!("{path}.code"), format!("duplicate code \"{code}\""));
            }
        }
        match &promo.currency {
            Some(c) => p.currency(&format!("{path}.currency"), c),
            None => {
                let needs = promo.value.carries_amount()
                    || promo.conditions.min_subtotal.is_some()
                    || promo.conditions.when.as_ref().is_some_and(Predicate::carries_amount);
                p.check(
                    !needs,
                    || format!("{path}.currency"),
                    "required when the value or a condition carries an amount",
                );
            }
        }
        p.window(&path, promo.valid_from, promo.valid_until);
        validate_conditions(p, &promo.conditions, &format!("{path}.conditions"));
        if let Some(group) = &promo.group {
            p.check(!group.is_empty(), || format!("{path}.group"), "must not be empty");
            p.check(
                !matches!(
                    promo.target,
                    Target::Shipping {} | Target::Total {} | Target::Gift { .. }
                ),
                || format!("{path}.group"),
                "a shipping, total or gift promotion cannot join a group",
            );
        }
        validate_target(p, &promo.target, &format!("{path}.target"));
        p.check(
            !(matches!(promo.target, Target::Total {}) && matches!(promo.value, PromotionValue::FixedPrice { .. })),
            || format!("{path}.value"),
            "a total promotion takes a percentage or an absolute amount",
        );
        let vpath = format!("{path}.value");
        match &promo.value {
            PromotionValue::Percentage {
                percent, max_amount, ..
            } => {
                let ok = percent.0 >= Decimal::ZERO && percent.0 <= Decimal::ONE_HUNDRED;
                p.check(ok, || format!("{vpath}.percent"), "must be between 0 and 100");
                if let Some(max) = max_amount {
                    p.amount(&format!("{vpath}.maxAmount"), *max);
                }
            }
            PromotionValue::Absolute { amount, .. } | PromotionValue::FixedPrice { amount } => {
                p.amount(&format!("{vpath}.amount"), *amount)
            }
        }
    }
}

fn validate_conditions(p: &mut Problems, cond: &Conditions, path: &str) {
    if let Some(min) = cond.min_subtotal {
        p.amount(&format!("{path}.minSubtotal"), min);
    }
    for (k, c) in cond.countries.iter().enumerate() {
        p.country(&format!("{path}.countries[{k}]"), c);
    }
    if let Some(when) = &cond.when {
        validate_predicate(p, when, &format!("{path}.when"));
    }
}

fn validate_predicate(p: &mut Problems, predicate: &Predicate, path: &str) {
    match predicate {
        Predicate::All(list) | Predicate::Any(list) => {
            let key = if matches!(predicate, Predicate::All(_)) {
                "all"
            } else {
                "any"
            };
            for (k, inner) in list.iter().enumerate() {
                validate_predicate(p, inner, &format!("{path}.{key}[{k}]"));
            }
        }
        Predicate::Not(inner) => validate_predicate(p, inner, &format!("{path}.not")),
        Predicate::Contains(c) => {
            p.check(
                c.min_quantity != Some(0),
                || format!("{path}.contains.minQuantity"),
                "must be at least 1",
            );
            validate_match(p, &c.matcher, &format!("{path}.contains.match"));
        }
        Predicate::SubtotalOf(s) => {
            p.amount(&format!("{path}.subtotalOf.atLeast"), s.at_least);
            validate_match(p, &s.matcher, &format!("{path}.subtotalOf.match"));
        }
        Predicate::Country(list) => {
            for (k, c) in list.iter().enumerate() {
                p.country(&format!("{path}.country[{k}]"), c);
            }
        }
        Predicate::CustomerGroup(_) | Predicate::EmailDomain(_) => {}
    }
}

/// A promotion's matcher may filter by unit price.
pub(super) fn validate_match(p: &mut Problems, matcher: &Match, path: &str) {
    for (field, amount) in [
        ("minUnitPrice", matcher.min_unit_price),
        ("maxUnitPrice", matcher.max_unit_price),
    ] {
        if let Some(a) = amount {
            p.amount(&format!("{path}.{field}"), a);
        }
    }
    if let (Some(min), Some(max)) = (matcher.min_unit_price, matcher.max_unit_price) {
        p.check(
            min <= max,
            || format!("{path}.maxUnitPrice"),
            "must not be below minUnitPrice",
        );
    }
}

fn validate_target(p: &mut Problems, target: &Target, path: &str) {
    match target {
        Target::Items {
            matcher,
            max_units_per_line,
        } => {
            validate_match(p, matcher, &format!("{path}.match"));
            p.check(
                *max_units_per_line != Some(0),
                || format!("{path}.maxUnitsPerLine"),
                "must be at least 1",
            );
        }
        Target::MultiBuy {
            matcher,
            trigger,
            discounted,
            max_occurrence,
            ..
        } => {
            validate_match(p, matcher, &format!("{path}.match"));
            p.check(*trigger >= 2, || format!("{path}.trigger"), "must be at least 2");
            p.check(*discounted >= 1, || format!("{path}.discounted"), "must be at least 1");
            p.check(
                discounted <= trigger,
                || format!("{path}.discounted"),
                "must not exceed trigger",
            );
            p.check(
                *max_occurrence != Some(0),
                || format!("{path}.maxOccurrence"),
                "must be at least 1",
            );
        }
        Target::BuyXGetY {
            buy,
            buy_quantity,
            get,
            get_quantity,
            max_occurrence,
            ..
        } => {
            validate_match(p, buy, &format!("{path}.buy"));
            validate_match(p, get, &format!("{path}.get"));
            p.check(
                *buy_quantity >= 1,
                || format!("{path}.buyQuantity"),
                "must be at least 1",
            );
            p.check(
                *get_quantity >= 1,
                || format!("{path}.getQuantity"),
                "must be at least 1",
            );
            p.check(
                *max_occurrence != Some(0),
                || format!("{path}.maxOccurrence"),
                "must be at least 1",
            );
        }
        Target::Gift { quantity, .. } => {
            p.check(
                *quantity != Some(0),
                || format!("{path}.quantity"),
                "must be at least 1",
            );
        }
        Target::Shipping {} | Target::Total {} => {}
    }
}
