//! An item promotion's value on its target lines: percentages (per line, per unit, or once over the
//! targets), absolute amounts (proportionate, even, each) and fixed unit prices. No unit goes below
//! its floor (`minimumPrice`); a share a line cannot take goes to the other targets (Sylius
//! `MinimumPriceDistributor`).

use super::PromoContext;
use crate::catalog::{Distribution, PercentPer, Promotion, PromotionValue};
use crate::error::Result;
use crate::money;
use crate::pricing::LineCalc;

/// The units of a line a promotion may discount: all, or the `max` most expensive (ties: earlier).
fn unit_mask(line: &LineCalc, max: Option<u32>) -> Option<Vec<usize>> {
    let max = usize::try_from(max?).unwrap_or(usize::MAX);
    let amounts = line.units.amounts();
    let mut order: Vec<usize> = (0..amounts.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(amounts.get(k).copied().unwrap_or(0)));
    order.truncate(max);
    order.sort_unstable();
    Some(order)
}

fn masked_current(line: &LineCalc, mask: Option<&[usize]>) -> i64 {
    match mask {
        None => line.current(),
        Some(m) => {
            let amounts = line.units.amounts();
            m.iter().filter_map(|&k| amounts.get(k)).sum()
        }
    }
}

pub(super) fn apply<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    max_units: Option<u32>,
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    if targets.is_empty() {
        return Ok(0);
    }
    let masks: Vec<Option<Vec<usize>>> = targets
        .iter()
        .map(|&i| lines.get(i).and_then(|l| unit_mask(l, max_units)))
        .collect();
    let currents: Vec<i64> = targets
        .iter()
        .zip(&masks)
        .map(|(&i, m)| lines.get(i).map_or(0, |l| masked_current(l, m.as_deref())))
        .collect();
    if let PromotionValue::Percentage {
        max_amount: Some(max), ..
    } = &promo.value
    {
        // Tried as it is; above the cap, the cap is spread like an absolute amount instead.
        let max = ctx.minor(max.0)?;
        let mut trial = lines.to_vec();
        let taken = apply_value(&mut trial, targets, &masks, &currents, promo, ctx)?;
        if taken <= max {
            lines.clone_from_slice(&trial);
            return Ok(taken);
        }
        return spread(lines, targets, &masks, &currents, max, promo, ctx);
    }
    apply_value(lines, targets, &masks, &currents, promo, ctx)
}

/// The promotion's value on the target lines (`masks`: the units each may discount).
fn apply_value<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    masks: &[Option<Vec<usize>>],
    currents: &[i64],
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let mut total = 0i64;
    match &promo.value {
        PromotionValue::Percentage {
            percent,
            per: PercentPer::Line,
            ..
        } => {
            for ((&i, mask), &current) in targets.iter().zip(masks).zip(currents) {
                if let Some(line) = lines.get_mut(i) {
                    let d = ctx.percent_of(current, percent.0)?;
                    total = money::add(total, line.discount_line(promo, d, mask.as_deref())?)?;
                }
            }
        }
        PromotionValue::Percentage {
            percent,
            per: PercentPer::Unit,
            ..
        } => {
            for (&i, mask) in targets.iter().zip(masks) {
                if let Some(line) = lines.get_mut(i) {
                    let per_unit = per_unit(line, mask.as_deref(), |k| {
                        ctx.percent_of(line.original_unit(k), percent.0)
                    })?;
                    total = money::add(total, line.discount_units(promo, &per_unit)?)?;
                }
            }
        }
        PromotionValue::Percentage {
            percent,
            per: PercentPer::Targets,
            ..
        } => {
            let whole = ctx.percent_of(money::sum(currents.iter().copied())?, percent.0)?;
            total = spread(lines, targets, masks, currents, whole, promo, ctx)?;
        }
        PromotionValue::Absolute {
            amount,
            distribution: Distribution::Proportionate,
        } => {
            let whole = ctx.minor(amount.0)?.min(money::sum(currents.iter().copied())?);
            total = spread(lines, targets, masks, currents, whole, promo, ctx)?;
        }
        PromotionValue::Absolute {
            amount,
            distribution: Distribution::Even,
        } => {
            let shares = money::split_even(ctx.minor(amount.0)?, targets.len())?;
            for ((&i, mask), share) in targets.iter().zip(masks).zip(shares) {
                if let Some(line) = lines.get_mut(i) {
                    total = money::add(total, line.discount_line(promo, share, mask.as_deref())?)?;
                }
            }
        }
        value @ (PromotionValue::Absolute {
            distribution: Distribution::Each,
            ..
        }
        | PromotionValue::FixedPrice { .. }) => {
            for (&i, mask) in targets.iter().zip(masks) {
                if let Some(line) = lines.get_mut(i) {
                    let amounts = line.units.amounts();
                    let per_unit = per_unit(line, mask.as_deref(), |k| {
                        ctx.discount_on(amounts.get(k).copied().unwrap_or(0), value)
                    })?;
                    total = money::add(total, line.discount_units(promo, &per_unit)?)?;
                }
            }
        }
    }
    Ok(total)
}

/// Spreads `whole` over whole target lines by their current amounts (a total promotion's line part).
pub(super) fn spread_over<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    whole: i64,
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let masks = vec![None; targets.len()];
    let currents: Vec<i64> = targets
        .iter()
        .filter_map(|&i| lines.get(i))
        .map(LineCalc::current)
        .collect();
    spread(lines, targets, &masks, &currents, whole, promo, ctx)
}

/// A per-unit discount vector: `discount(k)` for the units in `mask` (all: `None`), 0 elsewhere.
fn per_unit(line: &LineCalc, mask: Option<&[usize]>, discount: impl Fn(usize) -> Result<i64>) -> Result<Vec<i64>> {
    (0..line.units.len())
        .map(|k| match mask {
            Some(m) if !m.contains(&k) => Ok(0),
            _ => discount(k),
        })
        .collect()
}

/// Spreads `whole` over the target lines by their current amounts (the catalog's allocation rule);
/// a line that cannot take its share above its floor keeps what it can, and the rest is spread again
/// over the others. What no line can take is not given.
fn spread<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    masks: &[Option<Vec<usize>>],
    currents: &[i64],
    whole: i64,
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let rooms: Vec<i64> = targets
        .iter()
        .zip(masks)
        .map(|(&i, m)| lines.get(i).map_or(0, |l| l.room_of(m.as_deref())))
        .collect();
    let mut shares = vec![0i64; targets.len()];
    let mut open: Vec<usize> = (0..targets.len())
        .filter(|&k| rooms.get(k).is_some_and(|&r| r > 0))
        .collect();
    let mut left = whole.max(0);
    while left > 0 && !open.is_empty() {
        let weights: Vec<i64> = open.iter().map(|&k| currents.get(k).copied().unwrap_or(0)).collect();
        let proposal = ctx.allocate(left, &weights)?;
        let over: Vec<usize> = open
            .iter()
            .zip(&proposal)
            .filter(|(&k, &p)| p > rooms.get(k).copied().unwrap_or(0) - shares.get(k).copied().unwrap_or(0))
            .map(|(&k, _)| k)
            .collect();
        if over.is_empty() {
            for (&k, p) in open.iter().zip(proposal) {
                if let Some(s) = shares.get_mut(k) {
                    *s = money::add(*s, p)?;
                }
            }
            break;
        }
        // The lines that cannot take their share take all they can and leave the round.
        for &k in &over {
            let room = rooms.get(k).copied().unwrap_or(0);
            if let Some(s) = shares.get_mut(k) {
                left = money::sub(left, room - *s)?;
                *s = room;
            }
        }
        open.retain(|k| !over.contains(k));
    }
    let mut total = 0i64;
    for ((&i, mask), share) in targets.iter().zip(masks).zip(shares) {
        if let Some(line) = lines.get_mut(i) {
            total = money::add(total, line.discount_line(promo, share, mask.as_deref())?)?;
        }
    }
    Ok(total)
}
