//! Step 3 of the pipeline (DESIGN §5): promotions in descending priority (ties by id), each on the
//! amounts the ones before it left. Discounts are tracked per unit, so a line's discount can be shown
//! per unit (Sylius unit adjustments) and multi-buy offers can pick individual units.

use super::view::CodeState;
use super::{LineCalc, ShippingCalc};
use crate::cart::CartState;
use crate::catalog::{Catalog, Distribution, Promotion, PromotionValue, Selection, Stacking, Target};
use crate::error::Result;
use crate::money::{self, RoundingMode};
use crate::time::Timestamp;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// What the promotion pass decided, for the view.
pub(crate) struct PromotionPass<'c> {
    /// State of every promotion that ran or was considered, by promotion id.
    pub states: HashMap<&'c str, CodeState>,
    /// Shipping promotions waiting for the shipping price, in order.
    shipping_queue: Vec<&'c Promotion>,
}

/// Shared inputs of the promotion steps.
pub(crate) struct PromoContext<'a> {
    pub cart: &'a CartState,
    pub catalog: &'a Catalog,
    pub digits: u32,
    pub mode: RoundingMode,
    /// Subtotal before any promotion (conditions are checked against the cart as it was).
    pub subtotal: i64,
    pub now: Timestamp,
}

impl PromoContext<'_> {
    fn minor(&self, amount: Decimal) -> Result<i64> {
        money::to_minor(amount, self.digits, self.mode)
    }

    fn percent_of(&self, amount: i64, percent: Decimal) -> Result<i64> {
        let exact = Decimal::from(amount)
            .checked_mul(percent)
            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
            .ok_or_else(crate::error::CartError::overflow)?;
        Ok(money::round_minor(exact, self.mode)?.clamp(0, amount.max(0)))
    }

    /// The discount `value` gives one amount (a unit or the shipping price), never more than it.
    fn discount_on(&self, amount: i64, value: &PromotionValue) -> Result<i64> {
        let d = match value {
            PromotionValue::Percentage { percent } => self.percent_of(amount, percent.0)?,
            PromotionValue::Absolute { amount: off, .. } => self.minor(off.0)?,
            PromotionValue::FixedPrice { amount: fixed } => amount.saturating_sub(self.minor(fixed.0)?),
        };
        Ok(d.clamp(0, amount.max(0)))
    }
}

/// The promotions that take part: automatic ones and those whose code is on the cart, in run order.
fn participating<'c>(cart: &CartState, catalog: &'c Catalog) -> Vec<&'c Promotion> {
    let mut promos: Vec<&Promotion> = catalog
        .promotions()
        .iter()
        .filter(|p| match &p.code {
            None => true,
            Some(code) => cart.discount_codes.iter().any(|c| c.eq_ignore_ascii_case(code)),
        })
        .collect();
    promos.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.id.cmp(&b.id)));
    promos
}

/// Indexes of the priced lines a matcher selects.
fn matching(lines: &[LineCalc], matcher: &crate::catalog::Match) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.product.is_some_and(|p| l.priced() && matcher.matches(p, &l.line.sku)))
        .map(|(i, _)| i)
        .collect()
}

fn conditions_hold(promo: &Promotion, lines: &[LineCalc], ctx: &PromoContext) -> Result<bool> {
    let cart = ctx.cart;
    if promo.currency.as_deref().is_some_and(|c| c != cart.currency) {
        return Ok(false);
    }
    let cond = &promo.conditions;
    if let Some(min) = cond.min_subtotal {
        if ctx.subtotal < ctx.minor(min.0)? {
            return Ok(false);
        }
    }
    let group = cart.customer.group.as_deref();
    if !cond.customer_groups.is_empty() && !group.is_some_and(|g| cond.customer_groups.iter().any(|x| x == g)) {
        return Ok(false);
    }
    let country = cart.tax_country();
    if !cond.countries.is_empty() && !country.is_some_and(|c| cond.countries.iter().any(|x| x == c)) {
        return Ok(false);
    }
    if let Some(min) = cond.min_quantity {
        let targeted = match &promo.target {
            Target::Items { matcher } | Target::MultiBuy { matcher, .. } => matching(lines, matcher),
            Target::Shipping {} => (0..lines.len())
                .filter(|&i| lines.get(i).is_some_and(LineCalc::priced))
                .collect(),
        };
        let quantity: u64 = targeted
            .iter()
            .filter_map(|&i| lines.get(i))
            .map(|l| u64::from(l.line.quantity))
            .sum();
        if quantity < u64::from(min) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Runs every item and multi-buy promotion; shipping promotions are queued for [`apply_shipping`].
pub(crate) fn apply_items<'c>(lines: &mut [LineCalc<'c>], ctx: &PromoContext<'c>) -> Result<PromotionPass<'c>> {
    let mut pass = PromotionPass {
        states: HashMap::new(),
        shipping_queue: Vec::new(),
    };
    let mut stopped = false;
    for promo in participating(ctx.cart, ctx.catalog) {
        let state = if !promo.active_at(ctx.now) {
            CodeState::NotActive
        } else if stopped {
            CodeState::StoppedByPreviousDiscount
        } else if !conditions_hold(promo, lines, ctx)? {
            CodeState::NotApplicable
        } else if matches!(promo.target, Target::Shipping {}) {
            pass.shipping_queue.push(promo);
            continue;
        } else if apply_one(lines, promo, ctx)? > 0 {
            stopped = promo.stacking == Stacking::StopAfter;
            CodeState::Applied
        } else {
            CodeState::NotApplicable
        };
        pass.states.insert(&promo.id, state);
    }
    Ok(pass)
}

/// Applies the queued shipping promotions to the shipping price. A `stopAfter` shipping promotion
/// stops the shipping promotions after it (item promotions ran already: shipping depends on them).
pub(crate) fn apply_shipping<'c>(
    pass: &mut PromotionPass<'c>,
    shipping: &mut Option<ShippingCalc<'c>>,
    ctx: &PromoContext,
) -> Result<()> {
    let mut stopped = false;
    for promo in std::mem::take(&mut pass.shipping_queue) {
        let state = match shipping.as_mut() {
            _ if stopped => CodeState::StoppedByPreviousDiscount,
            None => CodeState::NotApplicable,
            Some(ship) => {
                let current = ship.price.saturating_sub(ship.discount_total());
                let d = ctx.discount_on(current, &promo.value)?;
                if d > 0 {
                    ship.discounts.push((promo, d));
                    stopped = promo.stacking == Stacking::StopAfter;
                    CodeState::Applied
                } else {
                    CodeState::NotApplicable
                }
            }
        };
        pass.states.insert(&promo.id, state);
    }
    Ok(())
}

/// Applies one item or multi-buy promotion; returns the total it discounted.
fn apply_one<'c>(lines: &mut [LineCalc<'c>], promo: &'c Promotion, ctx: &PromoContext) -> Result<i64> {
    match &promo.target {
        Target::Items { matcher } => {
            let targets = matching(lines, matcher);
            apply_to_lines(lines, &targets, promo, ctx)
        }
        Target::MultiBuy {
            matcher,
            trigger,
            discounted,
            max_occurrence,
            selection,
        } => {
            let targets = matching(lines, matcher);
            let offer = MultiBuy {
                trigger: *trigger,
                discounted: *discounted,
                max: *max_occurrence,
                selection: *selection,
            };
            apply_multibuy(lines, &targets, promo, &offer, ctx)
        }
        Target::Shipping {} => Ok(0),
    }
}

fn apply_to_lines<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let mut total = 0i64;
    if targets.is_empty() {
        return Ok(0);
    }
    match &promo.value {
        PromotionValue::Percentage { percent } => {
            for &i in targets {
                if let Some(line) = lines.get_mut(i) {
                    let d = ctx.percent_of(line.current(), percent.0)?;
                    total = money::add(total, line.discount_line(promo, d)?)?;
                }
            }
        }
        PromotionValue::Absolute {
            amount,
            distribution: Distribution::Proportionate,
        } => {
            let currents: Vec<i64> = targets
                .iter()
                .filter_map(|&i| lines.get(i))
                .map(LineCalc::current)
                .collect();
            let whole = ctx.minor(amount.0)?.min(money::sum(currents.iter().copied())?);
            if whole <= 0 {
                return Ok(0);
            }
            for (&i, share) in targets.iter().zip(money::allocate(whole, &currents)?) {
                if let Some(line) = lines.get_mut(i) {
                    total = money::add(total, line.discount_line(promo, share)?)?;
                }
            }
        }
        PromotionValue::Absolute {
            amount,
            distribution: Distribution::Even,
        } => {
            let shares = money::split_even(ctx.minor(amount.0)?, targets.len())?;
            for (&i, share) in targets.iter().zip(shares) {
                if let Some(line) = lines.get_mut(i) {
                    let d = share.min(line.current());
                    total = money::add(total, line.discount_line(promo, d)?)?;
                }
            }
        }
        value @ (PromotionValue::Absolute {
            distribution: Distribution::Each,
            ..
        }
        | PromotionValue::FixedPrice { .. }) => {
            for &i in targets {
                if let Some(line) = lines.get_mut(i) {
                    let per_unit = line
                        .units
                        .iter()
                        .map(|&u| ctx.discount_on(u, value))
                        .collect::<Result<Vec<i64>>>()?;
                    total = money::add(total, line.discount_units(promo, &per_unit)?)?;
                }
            }
        }
    }
    Ok(total)
}

struct MultiBuy {
    trigger: u32,
    discounted: u32,
    max: Option<u32>,
    selection: Selection,
}

/// Among the matching units, floor(units / trigger) occurrences (capped at `max`); the
/// `occurrences × discounted` cheapest (or most expensive) units get the value, each on its own.
fn apply_multibuy<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    promo: &'c Promotion,
    offer: &MultiBuy,
    ctx: &PromoContext,
) -> Result<i64> {
    // (current unit amount, line index, unit index); a stable sort keeps ties in line and unit order.
    let mut units: Vec<(i64, usize, usize)> = Vec::new();
    for &i in targets {
        if let Some(line) = lines.get(i) {
            units.extend(line.units.iter().enumerate().map(|(k, &u)| (u, i, k)));
        }
    }
    let trigger = usize::try_from(offer.trigger).unwrap_or(usize::MAX).max(1);
    let mut occurrences = units.len() / trigger;
    if let Some(max) = offer.max {
        occurrences = occurrences.min(usize::try_from(max).unwrap_or(usize::MAX));
    }
    let count = occurrences.saturating_mul(usize::try_from(offer.discounted).unwrap_or(0));
    match offer.selection {
        Selection::Cheapest => units.sort_by_key(|u| u.0),
        Selection::MostExpensive => units.sort_by_key(|u| std::cmp::Reverse(u.0)),
    }
    let mut per_line: HashMap<usize, Vec<i64>> = HashMap::new();
    for &(amount, i, k) in units.iter().take(count) {
        let d = ctx.discount_on(amount, &promo.value)?;
        let size = lines.get(i).map_or(0, |l| l.units.len());
        if let Some(slot) = per_line.entry(i).or_insert_with(|| vec![0; size]).get_mut(k) {
            *slot = d;
        }
    }
    let mut total = 0i64;
    for &i in targets {
        if let (Some(per_unit), Some(line)) = (per_line.get(&i), lines.get_mut(i)) {
            total = money::add(total, line.discount_units(promo, per_unit)?)?;
        }
    }
    Ok(total)
}
