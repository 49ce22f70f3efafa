//! Promotions that pick individual units: multi-buy ("3 for 2") and buy X get Y across products. Units
//! are (current amount, line index, unit index); stable sorts keep ties in line and unit order.

use super::PromoContext;
use crate::catalog::{Promotion, Selection};
use crate::error::Result;
use crate::money;
use crate::pricing::LineCalc;
use rustc_hash::{FxHashMap, FxHashSet};

type Unit = (i64, usize, usize);

fn units_of(lines: &[LineCalc], targets: &[usize]) -> Vec<Unit> {
    let mut units = Vec::new();
    for &i in targets {
        if let Some(line) = lines.get(i) {
            units.extend(line.units.amounts().into_iter().enumerate().map(|(k, u)| (u, i, k)));
        }
    }
    units
}

fn order(units: &mut [Unit], selection: Selection) {
    match selection {
        Selection::Cheapest => units.sort_by_key(|u| u.0),
        Selection::MostExpensive => units.sort_by_key(|u| std::cmp::Reverse(u.0)),
    }
}

fn cap(count: usize, max: Option<u32>) -> usize {
    max.map_or(count, |m| count.min(usize::try_from(m).unwrap_or(usize::MAX)))
}

/// Gives each chosen unit the promotion's value, line by line.
fn discount_chosen<'c>(
    lines: &mut [LineCalc<'c>],
    chosen: &[Unit],
    promo: &'c Promotion,
    ctx: &PromoContext,
) -> Result<i64> {
    let mut per_line: FxHashMap<usize, Vec<i64>> = FxHashMap::default();
    let mut order: Vec<usize> = Vec::new();
    for &(amount, i, k) in chosen {
        let d = ctx.discount_on(amount, &promo.value)?;
        let size = lines.get(i).map_or(0, |l| l.units.len());
        let slots = per_line.entry(i).or_insert_with(|| {
            order.push(i);
            vec![0; size]
        });
        if let Some(slot) = slots.get_mut(k) {
            *slot = d;
        }
    }
    order.sort_unstable();
    let mut total = 0i64;
    for i in order {
        if let (Some(per_unit), Some(line)) = (per_line.get(&i), lines.get_mut(i)) {
            total = money::add(total, line.discount_units(promo, per_unit)?)?;
        }
    }
    Ok(total)
}

pub(super) struct MultiBuy {
    pub trigger: u32,
    pub discounted: u32,
    pub max: Option<u32>,
    pub selection: Selection,
}

/// Among the matching units, floor(units / trigger) occurrences (capped at `max`); the
/// `occurrences × discounted` cheapest (or most expensive) units get the value, each on its own.
pub(super) fn multibuy<'c>(
    lines: &mut [LineCalc<'c>],
    targets: &[usize],
    promo: &'c Promotion,
    offer: &MultiBuy,
    ctx: &PromoContext,
) -> Result<i64> {
    let mut units = units_of(lines, targets);
    let trigger = usize::try_from(offer.trigger).unwrap_or(usize::MAX).max(1);
    let occurrences = cap(units.len() / trigger, offer.max);
    let count = occurrences.saturating_mul(usize::try_from(offer.discounted).unwrap_or(0));
    order(&mut units, offer.selection);
    units.truncate(count);
    discount_chosen(lines, &units, promo, ctx)
}

pub(super) struct BuyGet {
    pub buy: Vec<usize>,
    pub buy_quantity: u32,
    pub get: Vec<usize>,
    pub get_quantity: u32,
    pub max: Option<u32>,
    pub selection: Selection,
}

/// Each occurrence takes `buyQuantity` unused bought units (the most expensive first, so the cheaper
/// ones stay available as rewards), then `getQuantity` other unused units matching `get` in
/// `selection` order; it stops when either runs out or at `maxOccurrence`. A unit is used once, also
/// across buy-X-get-Y promotions (Medusa `buy-get.ts`: units consumed by another promotion).
pub(super) fn buy_x_get_y<'c>(
    lines: &mut [LineCalc<'c>],
    promo: &'c Promotion,
    offer: &BuyGet,
    ctx: &PromoContext,
) -> Result<i64> {
    let mut buy = units_of(lines, &offer.buy);
    order(&mut buy, Selection::MostExpensive);
    let mut get = units_of(lines, &offer.get);
    order(&mut get, offer.selection);
    let need_buy = usize::try_from(offer.buy_quantity).unwrap_or(usize::MAX);
    let need_get = usize::try_from(offer.get_quantity).unwrap_or(usize::MAX);
    let max = cap(usize::MAX, offer.max);
    let mut used: FxHashSet<(usize, usize)> = FxHashSet::default();
    for &i in offer.buy.iter().chain(&offer.get) {
        if let Some(line) = lines.get(i) {
            used.extend(line.units.used().into_iter().map(|k| (i, k)));
        }
    }
    let mut rewards: Vec<Unit> = Vec::new();
    let mut consumed: Vec<(usize, usize)> = Vec::new();
    for _ in 0..max {
        let bought: Vec<(usize, usize)> = buy
            .iter()
            .map(|&(_, i, k)| (i, k))
            .filter(|u| !used.contains(u))
            .take(need_buy)
            .collect();
        if bought.len() < need_buy {
            break;
        }
        let reward: Vec<Unit> = get
            .iter()
            .filter(|&&(_, i, k)| !used.contains(&(i, k)) && !bought.contains(&(i, k)))
            .take(need_get)
            .copied()
            .collect();
        if reward.len() < need_get {
            break;
        }
        consumed.extend(bought.iter().copied());
        consumed.extend(reward.iter().map(|&(_, i, k)| (i, k)));
        used.extend(bought);
        used.extend(reward.iter().map(|&(_, i, k)| (i, k)));
        rewards.extend(reward);
    }
    let discounted = discount_chosen(lines, &rewards, promo, ctx)?;
    if discounted > 0 {
        let mut by_line: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (i, k) in consumed {
            by_line.entry(i).or_default().push(k);
        }
        for (i, ks) in by_line {
            if let Some(line) = lines.get_mut(i) {
                line.units.mark_used(&ks);
            }
        }
    }
    Ok(discounted)
}
