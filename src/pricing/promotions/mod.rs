//! Step 3 of the pipeline (DESIGN §5, docs/PRICING.md): promotions in descending priority (ties by id),
//! each on the amounts the ones before it left. An `exclusive` promotion that applies runs alone (its
//! group, if any, does not matter then); of a `group`, only the member giving the largest discount
//! runs, at the place of its first member.
//! Discounts are tracked per unit, so a line's discount can be shown per unit (Sylius unit
//! adjustments) and multi-buy offers can pick individual units.

mod conditions;
mod lines;
mod units;

use super::view::CodeState;
use super::{LineCalc, ShippingCalc};
use crate::cart::{CartState, LineItem};
use crate::catalog::{Allocation, Catalog, ConditionBasis, Match, Promotion, PromotionValue, Stacking, Target};
use crate::error::Result;
use crate::money::{self, RoundingMode};
use crate::time::Timestamp;
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};

/// What the promotion pass decided, for the view.
pub(crate) struct PromotionPass<'c> {
    /// State of every promotion that ran or was considered, by promotion id.
    pub states: FxHashMap<&'c str, CodeState>,
    /// Shipping and total promotions waiting for the shipping price, in order.
    shipping_queue: Vec<&'c Promotion>,
}

/// Shared inputs of the promotion steps.
pub(crate) struct PromoContext<'a> {
    pub cart: &'a CartState,
    pub catalog: &'a Catalog,
    pub digits: u32,
    pub mode: RoundingMode,
    pub allocation: Allocation,
    pub basis: ConditionBasis,
    /// Subtotal before any promotion (lines and custom lines).
    pub subtotal: i64,
    /// The custom lines' total (promotions never change it).
    pub custom_total: i64,
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
            PromotionValue::Percentage {
                percent, max_amount, ..
            } => {
                let d = self.percent_of(amount, percent.0)?;
                match max_amount {
                    Some(max) => d.min(self.minor(max.0)?),
                    None => d,
                }
            }
            PromotionValue::Absolute { amount: off, .. } => self.minor(off.0)?,
            PromotionValue::FixedPrice { amount: fixed } => amount.saturating_sub(self.minor(fixed.0)?),
        };
        Ok(d.clamp(0, amount.max(0)))
    }

    /// Splits `total` by `weights` with the catalog's allocation rule.
    fn allocate(&self, total: i64, weights: &[i64]) -> Result<Vec<i64>> {
        match self.allocation {
            Allocation::LargestRemainder => money::allocate(total, weights),
            Allocation::FirstTargets => money::allocate_first(total, weights),
        }
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

/// Indexes of the priced cart lines a matcher selects (its unit-price range on the price before
/// promotions). Gift lines are never selected: only their own promotion targets them.
pub(super) fn matching(lines: &[LineCalc], matcher: &Match) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.gift_of.is_none())
        .filter(|(_, l)| match (l.product, l.unit_price) {
            (Some(p), Some(unit)) => matcher.matches_priced(p, &l.line.sku, unit),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect()
}

/// Runs every item promotion; shipping and total promotions are queued for [`apply_shipping`].
pub(crate) fn apply_items<'c>(lines: &mut Vec<LineCalc<'c>>, ctx: &PromoContext<'c>) -> Result<PromotionPass<'c>> {
    let mut pass = PromotionPass {
        states: FxHashMap::default(),
        shipping_queue: Vec::new(),
    };
    let promos = participating(ctx.cart, ctx.catalog);
    let exclusive = first_exclusive(&promos, lines, ctx)?;
    let mut done_groups: FxHashSet<&str> = FxHashSet::default();
    let mut stopped = false;
    for &promo in &promos {
        let grouped = promo.group.as_deref().filter(|_| exclusive.is_none());
        if grouped.is_some_and(|g| done_groups.contains(g)) {
            continue; // decided with the group's first member
        }
        let state = if !promo.active_at(ctx.now) {
            CodeState::NotActive
        } else if exclusive.is_some_and(|x| !std::ptr::eq(x, promo)) {
            CodeState::StoppedByExclusiveDiscount
        } else if stopped {
            CodeState::StoppedByPreviousDiscount
        } else if let Some(group) = grouped {
            done_groups.insert(group);
            let (winner, applied) = run_group(lines, &promos, group, ctx, &mut pass)?;
            if let Some(w) = winner {
                stopped = applied > 0 && w.stacking == Stacking::StopAfter;
            }
            continue;
        } else if !conditions::conditions_hold(promo, lines, ctx)? {
            CodeState::NotApplicable
        } else if matches!(promo.target, Target::Shipping {} | Target::Total {}) {
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

/// The first active exclusive promotion whose conditions hold on the cart before promotions.
fn first_exclusive<'c>(
    promos: &[&'c Promotion],
    lines: &[LineCalc],
    ctx: &PromoContext,
) -> Result<Option<&'c Promotion>> {
    for &promo in promos.iter().filter(|p| p.exclusive && p.active_at(ctx.now)) {
        if conditions::conditions_hold(promo, lines, ctx)? {
            return Ok(Some(promo));
        }
    }
    Ok(None)
}

/// Tries every member of a group on a copy of the lines and applies the one that discounts most
/// (ties: the earlier in run order). The others are `stoppedByGroupBestDeal` (or `notApplicable`).
fn run_group<'c>(
    lines: &mut Vec<LineCalc<'c>>,
    promos: &[&'c Promotion],
    group: &str,
    ctx: &PromoContext,
    pass: &mut PromotionPass<'c>,
) -> Result<(Option<&'c Promotion>, i64)> {
    let mut best: Option<(&Promotion, i64, Vec<LineCalc<'c>>)> = None;
    let mut candidates = Vec::new();
    for &member in promos.iter().filter(|p| p.group.as_deref() == Some(group)) {
        if !member.active_at(ctx.now) {
            pass.states.insert(&member.id, CodeState::NotActive);
            continue;
        }
        if !conditions::conditions_hold(member, lines, ctx)? {
            pass.states.insert(&member.id, CodeState::NotApplicable);
            continue;
        }
        let mut trial = lines.clone();
        let discount = apply_one(&mut trial, member, ctx)?;
        candidates.push((member, discount));
        if discount > 0 && best.as_ref().is_none_or(|b| discount > b.1) {
            best = Some((member, discount, trial));
        }
    }
    let winner = best.map(|(promo, discount, trial)| {
        *lines = trial;
        (promo, discount)
    });
    for (member, discount) in candidates {
        let state = match winner {
            Some((w, _)) if std::ptr::eq(w, member) => CodeState::Applied,
            _ if discount > 0 => CodeState::StoppedByGroupBestDeal,
            _ => CodeState::NotApplicable,
        };
        pass.states.insert(&member.id, state);
    }
    Ok(winner.map_or((None, 0), |(w, d)| (Some(w), d)))
}

/// Applies the queued shipping and total promotions once the shipping price is known. A `stopAfter`
/// one stops those after it (item promotions ran already: shipping depends on them).
pub(crate) fn apply_shipping<'c>(
    pass: &mut PromotionPass<'c>,
    lines: &mut [LineCalc<'c>],
    deliveries: &mut [ShippingCalc<'c>],
    ctx: &PromoContext,
) -> Result<()> {
    let mut stopped = false;
    for promo in std::mem::take(&mut pass.shipping_queue) {
        let discounted = if stopped {
            None
        } else if matches!(promo.target, Target::Total {}) {
            Some(apply_total(lines, deliveries, promo, ctx)?)
        } else {
            Some(apply_to_deliveries(deliveries, promo, ctx)?)
        };
        let state = match discounted {
            None => CodeState::StoppedByPreviousDiscount,
            Some(d) if d > 0 => {
                stopped = promo.stacking == Stacking::StopAfter;
                CodeState::Applied
            }
            Some(_) => CodeState::NotApplicable,
        };
        pass.states.insert(&promo.id, state);
    }
    Ok(())
}

/// A shipping promotion: the value on the deliveries' shipping as one amount (one delivery: its
/// price), spread over them by their amounts, so that "4.95 off shipping" takes 4.95 in all.
fn apply_to_deliveries<'c>(
    deliveries: &mut [ShippingCalc<'c>],
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let weights: Vec<i64> = deliveries.iter().map(ShippingCalc::current).collect();
    let whole = ctx.discount_on(money::sum(weights.iter().copied())?, &promo.value)?;
    if whole <= 0 {
        return Ok(0);
    }
    let shares = ctx.allocate(whole, &weights)?;
    take_from_deliveries(deliveries, &shares, promo)
}

/// Records each delivery's share of a promotion's discount, capped at its current amount (`firstTargets`
/// rounds each share before it hands out the difference, so a share can exceed a small delivery);
/// returns what was taken.
fn take_from_deliveries<'c>(deliveries: &mut [ShippingCalc<'c>], shares: &[i64], promo: &'c Promotion) -> Result<i64> {
    let mut taken = 0i64;
    for (ship, &share) in deliveries.iter_mut().zip(shares) {
        let share = share.clamp(0, ship.current());
        if share > 0 {
            ship.discounts.push((promo, share));
            taken = money::add(taken, share)?;
        }
    }
    Ok(taken)
}

/// A total promotion: the discount of the lines' and deliveries' current amounts, spread over them.
fn apply_total<'c>(
    lines: &mut [LineCalc<'c>],
    deliveries: &mut [ShippingCalc<'c>],
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let targets: Vec<usize> = (0..lines.len())
        .filter(|&i| lines.get(i).is_some_and(|l| l.priced() && l.gift_of.is_none()))
        .collect();
    let mut weights: Vec<i64> = targets
        .iter()
        .filter_map(|&i| lines.get(i))
        .map(LineCalc::current)
        .collect();
    weights.extend(deliveries.iter().map(ShippingCalc::current));
    let whole_base = money::sum(weights.iter().copied())?;
    // The value on the whole as on one amount (a total promotion cannot be a fixed price: validation).
    let whole = ctx.discount_on(whole_base, &promo.value)?;
    if whole <= 0 {
        return Ok(0);
    }
    let shares = ctx.allocate(whole, &weights)?;
    let ship_total = take_from_deliveries(deliveries, shares.get(targets.len()..).unwrap_or(&[]), promo)?;
    let line_total = lines::spread_over(lines, &targets, money::sub(whole, ship_total)?, promo, ctx)?;
    money::add(line_total, ship_total)
}

/// Applies one item promotion; returns the total it discounted.
fn apply_one<'c>(lines: &mut [LineCalc<'c>], promo: &'c Promotion, ctx: &PromoContext) -> Result<i64> {
    match &promo.target {
        Target::Items {
            matcher,
            max_units_per_line,
        } => {
            let targets = matching(lines, matcher);
            lines::apply(lines, &targets, *max_units_per_line, promo, ctx)
        }
        Target::MultiBuy {
            matcher,
            trigger,
            discounted,
            max_occurrence,
            selection,
        } => {
            let offer = units::MultiBuy {
                trigger: *trigger,
                discounted: *discounted,
                max: *max_occurrence,
                selection: *selection,
            };
            units::multibuy(lines, &matching(lines, matcher), promo, &offer, ctx)
        }
        Target::BuyXGetY {
            buy,
            buy_quantity,
            get,
            get_quantity,
            max_occurrence,
            selection,
        } => {
            let offer = units::BuyGet {
                buy: matching(lines, buy),
                buy_quantity: *buy_quantity,
                get: matching(lines, get),
                get_quantity: *get_quantity,
                max: *max_occurrence,
                selection: *selection,
            };
            units::buy_x_get_y(lines, promo, &offer, ctx)
        }
        Target::Gift { .. } => {
            let targets: Vec<usize> = (0..lines.len())
                .filter(|&i| {
                    lines
                        .get(i)
                        .and_then(|l| l.gift_of)
                        .is_some_and(|g| std::ptr::eq(g, promo))
                })
                .collect();
            lines::apply(lines, &targets, None, promo, ctx)
        }
        Target::Shipping {} | Target::Total {} => Ok(0),
    }
}

/// The gift lines to add: one per participating, active gift promotion whose conditions hold on the
/// cart lines (before any promotion), with the promotion it belongs to.
pub(crate) fn gift_items<'c>(lines: &[LineCalc<'c>], ctx: &PromoContext<'c>) -> Result<Vec<(LineItem, &'c Promotion)>> {
    let mut gifts = Vec::new();
    if !ctx
        .catalog
        .promotions()
        .iter()
        .any(|p| matches!(p.target, Target::Gift { .. }))
    {
        return Ok(gifts);
    }
    for promo in participating(ctx.cart, ctx.catalog) {
        let Target::Gift {
            product_id,
            variant_id,
            quantity,
        } = &promo.target
        else {
            continue;
        };
        let Some(product) = ctx.catalog.product(product_id) else {
            continue;
        };
        if !promo.active_at(ctx.now) || !conditions::conditions_hold(promo, lines, ctx)? {
            continue;
        }
        let item = LineItem {
            id: format!("gift_{}", promo.id).into(),
            product_id: product.id.clone(),
            variant_id: *variant_id,
            sku: crate::cart::line_sku(product, *variant_id),
            name: crate::cart::line_name(product, *variant_id),
            quantity: quantity.unwrap_or(1),
            attributes: Default::default(),
            added_at: ctx.cart.created_at,
            seen_price: None,
            price_change: None,
        };
        gifts.push((item, promo));
    }
    Ok(gifts)
}
