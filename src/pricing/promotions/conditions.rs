//! When a promotion applies: its currency, `conditions` (subtotal, quantity, customer group, country)
//! and the `when` predicate. Subtotals are measured as `pricing.conditionBasis` says: on the cart
//! before any promotion, or as the promotions before this one left it (Sylius).

use super::{matching, PromoContext};
use crate::catalog::{ConditionBasis, Match, Predicate, Promotion, Target};
use crate::error::Result;
use crate::money;
use crate::pricing::LineCalc;

/// The item subtotal a condition compares with.
fn subtotal(lines: &[LineCalc], ctx: &PromoContext) -> Result<i64> {
    match ctx.basis {
        ConditionBasis::BeforePromotions => Ok(ctx.subtotal),
        ConditionBasis::AfterEarlierPromotions => {
            let cart_lines = lines.iter().filter(|l| l.gift_of.is_none());
            money::add(money::sum(cart_lines.map(LineCalc::current))?, ctx.custom_total)
        }
    }
}

/// The summed amount of the lines a matcher selects, on the same basis.
fn subtotal_of(lines: &[LineCalc], matcher: &Match, ctx: &PromoContext) -> Result<i64> {
    let selected = matching(lines, matcher).into_iter().filter_map(|i| lines.get(i));
    match ctx.basis {
        ConditionBasis::BeforePromotions => money::sum(selected.map(|l| l.base)),
        ConditionBasis::AfterEarlierPromotions => money::sum(selected.map(LineCalc::current)),
    }
}

fn quantity_of(lines: &[LineCalc], indexes: &[usize]) -> u64 {
    indexes
        .iter()
        .filter_map(|&i| lines.get(i))
        .map(|l| u64::from(l.line.quantity))
        .sum()
}

fn listed(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x == v))
}

pub(super) fn conditions_hold(promo: &Promotion, lines: &[LineCalc], ctx: &PromoContext) -> Result<bool> {
    let cart = ctx.cart;
    if promo.currency.as_deref().is_some_and(|c| c != cart.currency) {
        return Ok(false);
    }
    let cond = &promo.conditions;
    if let Some(min) = cond.min_subtotal {
        if subtotal(lines, ctx)? < ctx.minor(min.0)? {
            return Ok(false);
        }
    }
    if !cond.customer_groups.is_empty() && !listed(&cond.customer_groups, cart.customer.group.as_deref()) {
        return Ok(false);
    }
    if !cond.countries.is_empty() && !listed(&cond.countries, cart.tax_country()) {
        return Ok(false);
    }
    if let Some(min) = cond.min_quantity {
        let targeted = match &promo.target {
            Target::Items { matcher, .. } | Target::MultiBuy { matcher, .. } => matching(lines, matcher),
            Target::BuyXGetY { buy, .. } => matching(lines, buy),
            Target::Shipping {} | Target::Total {} | Target::Gift { .. } => (0..lines.len())
                .filter(|&i| lines.get(i).is_some_and(|l| l.priced() && l.gift_of.is_none()))
                .collect(),
        };
        if quantity_of(lines, &targeted) < u64::from(min) {
            return Ok(false);
        }
    }
    match &cond.when {
        Some(predicate) => holds(predicate, lines, ctx),
        None => Ok(true),
    }
}

/// Evaluates a predicate on the cart (depth is bounded by the JSON parser's nesting limit).
fn holds(predicate: &Predicate, lines: &[LineCalc], ctx: &PromoContext) -> Result<bool> {
    let cart = ctx.cart;
    Ok(match predicate {
        Predicate::All(list) => {
            for p in list {
                if !holds(p, lines, ctx)? {
                    return Ok(false);
                }
            }
            true
        }
        Predicate::Any(list) => {
            for p in list {
                if holds(p, lines, ctx)? {
                    return Ok(true);
                }
            }
            false
        }
        Predicate::Not(inner) => !holds(inner, lines, ctx)?,
        Predicate::Contains(c) => {
            quantity_of(lines, &matching(lines, &c.matcher)) >= u64::from(c.min_quantity.unwrap_or(1))
        }
        Predicate::SubtotalOf(s) => subtotal_of(lines, &s.matcher, ctx)? >= ctx.minor(s.at_least.0)?,
        Predicate::CustomerGroup(groups) => listed(groups, cart.customer.group.as_deref()),
        Predicate::Country(countries) => listed(countries, cart.tax_country()),
        Predicate::EmailDomain(domains) => {
            let domain = cart
                .customer
                .email
                .as_deref()
                .and_then(|e| e.rsplit_once('@'))
                .map(|(_, d)| d);
            domain.is_some_and(|d| domains.iter().any(|x| x.eq_ignore_ascii_case(d)))
        }
    })
}
