//! A line's units as runs of alike units. A line of 9 999 units at one price is one or two runs, not
//! 9 999 numbers: pricing a cart costs O(runs), not O(units), unless a promotion picks single units
//! (multi-buy, buy X get Y, the N most expensive units, a value per unit), which then works on the
//! expanded units of the lines it targets.
//!
//! Every rule stays exact: a discount spread over a line's units by what each can still give is the
//! largest-remainder allocation `money::allocate` makes over the single units (units of a run share
//! their remainder, so the leftover minor units go to runs in (remainder, first unit) order, and a run
//! splits at most in two).

use crate::error::{CartError, Result};
use crate::money;

/// `count` alike units: each is now at `amount`, after `discount` (a positive magnitude) so far, and
/// was (or was not) used by a buy-X-get-Y promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub amount: i64,
    pub discount: i64,
    pub used: bool,
    pub count: u32,
}

/// The units of a line in unit order; adjacent runs always differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Units(Vec<Run>);

impl Units {
    /// `base` split evenly over `quantity` units, the first `|base| mod quantity` taking one more
    /// minor unit (as `money::split_even`).
    pub fn even(base: i64, quantity: u32) -> Result<Units> {
        if quantity == 0 {
            return money::split_even(base, 0).map(|_| Units::default());
        }
        let mut units = Units::default();
        for (each, count) in money::split_even_runs(base, quantity)? {
            units.push(each, 0, false, count);
        }
        Ok(units)
    }

    fn push(&mut self, amount: i64, discount: i64, used: bool, count: u32) {
        if count == 0 {
            return;
        }
        match self.0.last_mut() {
            Some(last) if (last.amount, last.discount, last.used) == (amount, discount, used) => {
                last.count = last.count.saturating_add(count);
            }
            _ => self.0.push(Run {
                amount,
                discount,
                used,
                count,
            }),
        }
    }

    /// How many units.
    pub fn len(&self) -> usize {
        self.0.iter().map(|r| r.count as usize).sum()
    }

    #[cfg(test)]
    pub fn runs(&self) -> &[Run] {
        &self.0
    }

    /// Every unit's current amount, in order (for the promotions that pick single units).
    pub fn amounts(&self) -> Vec<i64> {
        self.0
            .iter()
            .flat_map(|r| std::iter::repeat_n(r.amount, r.count as usize))
            .collect()
    }

    /// The indexes of the units a buy-X-get-Y promotion used.
    pub fn used(&self) -> Vec<usize> {
        let mut k = 0usize;
        let mut used = Vec::new();
        for r in &self.0 {
            let end = k.saturating_add(r.count as usize);
            if r.used {
                used.extend(k..end);
            }
            k = end;
        }
        used
    }

    /// Marks units `indexes` as used by a buy-X-get-Y promotion.
    pub fn mark_used(&mut self, indexes: &[usize]) {
        let mut marked = indexes.to_vec();
        marked.sort_unstable();
        let mut marked = marked.into_iter().peekable();
        let mut next = Units::default();
        let mut k = 0usize;
        for r in &self.0 {
            for _ in 0..r.count {
                let mut hit = false;
                while marked.next_if_eq(&k).is_some() {
                    hit = true;
                }
                next.push(r.amount, r.discount, r.used || hit, 1);
                k += 1;
            }
        }
        *self = next;
    }

    /// The discount so far over all units.
    pub fn discount_total(&self) -> i64 {
        let total: i128 = self
            .0
            .iter()
            .map(|r| i128::from(r.discount) * i128::from(r.count))
            .sum();
        i64::try_from(total).unwrap_or(i64::MAX)
    }

    /// How much all units can still be discounted before they reach `floor`.
    pub fn room(&self, floor: i64) -> i64 {
        let total: i128 = self
            .0
            .iter()
            .map(|r| i128::from(room(r.amount, floor)) * i128::from(r.count))
            .sum();
        i64::try_from(total).unwrap_or(i64::MAX)
    }

    /// The discount per unit as (how many units, discount) runs in unit order; none without a discount.
    pub fn discount_runs(&self) -> Vec<(u32, i64)> {
        let mut runs: Vec<(u32, i64)> = Vec::new();
        if self.0.iter().all(|r| r.discount == 0) {
            return runs;
        }
        for r in &self.0 {
            match runs.last_mut() {
                Some(last) if last.1 == r.discount => last.0 = last.0.saturating_add(r.count),
                _ => runs.push((r.count, r.discount)),
            }
        }
        runs
    }

    /// Takes `per_unit[k]` off unit `k` (each capped at what the unit can give above `floor`; units
    /// past the end of `per_unit` keep their amount). Returns the discount taken.
    pub fn discount_each(&mut self, floor: i64, per_unit: &[i64]) -> Result<i64> {
        let mut next = Units::default();
        let mut total = 0i64;
        let mut shares = per_unit.iter();
        for r in &self.0 {
            for _ in 0..r.count {
                let d = shares.next().copied().unwrap_or(0).clamp(0, room(r.amount, floor));
                next.push(money::sub(r.amount, d)?, money::add(r.discount, d)?, r.used, 1);
                total = money::add(total, d)?;
            }
        }
        *self = next;
        Ok(total)
    }

    /// Spreads `amount` over all units by what each can still give above `floor`, by largest
    /// remainder (ties: the earlier unit), without expanding the runs. Returns the discount taken.
    pub fn discount_spread(&mut self, floor: i64, amount: i64) -> Result<i64> {
        let amount = amount.clamp(0, self.room(floor));
        if amount == 0 {
            return Ok(0);
        }
        let weight_sum: i128 = self
            .0
            .iter()
            .map(|r| i128::from(room(r.amount, floor)) * i128::from(r.count))
            .sum();
        if weight_sum <= 0 {
            return Ok(0);
        }
        let magnitude = i128::from(amount);
        let mut assigned = 0i128;
        let mut parts: Vec<(i128, i128)> = Vec::with_capacity(self.0.len());
        for r in &self.0 {
            let exact = magnitude * i128::from(room(r.amount, floor));
            let share = exact / weight_sum;
            assigned += share * i128::from(r.count);
            parts.push((share, exact % weight_sum));
        }
        // The units left over go one each to the largest remainders, earlier units first.
        let mut leftover = magnitude - assigned;
        let mut order: Vec<usize> = (0..parts.len())
            .filter(|&i| parts.get(i).is_some_and(|p| p.1 > 0))
            .collect();
        order.sort_by(|&a, &b| {
            let rem = |i: usize| parts.get(i).map_or(0, |p| p.1);
            rem(b).cmp(&rem(a)).then(a.cmp(&b))
        });
        let mut extra = vec![0u32; parts.len()];
        for i in order {
            let (Some(r), Some(slot)) = (self.0.get(i), extra.get_mut(i)) else {
                continue;
            };
            let take = leftover.min(i128::from(r.count));
            *slot = u32::try_from(take).map_err(|_| CartError::overflow())?;
            leftover -= take;
        }
        let mut next = Units::default();
        let mut total = 0i64;
        for ((r, (share, _)), more) in self.0.iter().zip(&parts).zip(extra) {
            let share = i64::try_from(*share).map_err(|_| CartError::overflow())?;
            for (each, count) in [(money::add(share, 1)?, more), (share, r.count.saturating_sub(more))] {
                let d = each.clamp(0, room(r.amount, floor));
                next.push(money::sub(r.amount, d)?, money::add(r.discount, d)?, r.used, count);
                total = money::add(total, money::mul(d, i64::from(count))?)?;
            }
        }
        *self = next;
        Ok(total)
    }
}

/// How much a unit at `amount` can still be discounted before it reaches `floor`.
fn room(amount: i64, floor: i64) -> i64 {
    amount.saturating_sub(floor).max(0)
}

#[cfg(test)]
mod tests {
    use super::Units;
    use crate::money;

    /// The units one by one: (amount, discount).
    fn expanded(units: &Units) -> Vec<(i64, i64)> {
        units
            .runs()
            .iter()
            .flat_map(|r| std::iter::repeat_n((r.amount, r.discount), r.count as usize))
            .collect()
    }

    /// What the per-unit model did: `money::allocate` over each unit's room, then each share capped.
    fn per_unit_spread(units: &[(i64, i64)], floor: i64, amount: i64) -> Vec<(i64, i64)> {
        let rooms: Vec<i64> = units.iter().map(|&(a, _)| (a - floor).max(0)).collect();
        let amount = amount.clamp(0, rooms.iter().sum());
        if amount == 0 {
            return units.to_vec();
        }
        let shares = money::allocate(amount, &rooms).unwrap();
        units
            .iter()
            .zip(shares)
            .map(|(&(a, d), s)| {
                let s = s.clamp(0, (a - floor).max(0));
                (a - s, d + s)
            })
            .collect()
    }

    #[test]
    fn even_is_split_even() {
        for (base, q) in [(1000, 3), (-452, 3), (0, 5), (7, 9_999), (99_999_999, 9_999)] {
            let units = Units::even(base, q).unwrap();
            let amounts: Vec<i64> = expanded(&units).iter().map(|u| u.0).collect();
            assert_eq!(amounts, money::split_even(base, q as usize).unwrap(), "{base} over {q}");
            assert!(units.runs().len() <= 2);
        }
    }

    #[test]
    fn a_spread_over_runs_is_the_per_unit_allocation() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..2_000 {
            let quantity = 1 + next(40) as u32;
            let mut units = Units::even(next(50_000) as i64, quantity).unwrap();
            let floor = if next(3) == 0 { next(400) as i64 } else { 0 };
            for _ in 0..1 + next(4) {
                let before = expanded(&units);
                let amount = next(30_000) as i64;
                let want = per_unit_spread(&before, floor, amount);
                let taken = units.discount_spread(floor, amount).unwrap();
                assert_eq!(expanded(&units), want, "{amount} over {before:?} above {floor}");
                let taken_before: i64 = before.iter().map(|u| u.1).sum();
                assert_eq!(taken, want.iter().map(|u| u.1).sum::<i64>() - taken_before);
                let runs = units.runs();
                assert!(runs.windows(2).all(|w| w[0] != w[1] || w[0].count == 0));
            }
        }
    }

    #[test]
    fn single_units_each_capped_at_their_room() {
        let mut units = Units::even(1000, 4).unwrap();
        assert_eq!(units.runs().len(), 1);
        assert_eq!(units.discount_each(0, &[100, 0, 300]).unwrap(), 350);
        assert_eq!(expanded(&units), vec![(150, 100), (250, 0), (0, 250), (250, 0)]);
        assert_eq!(units.discount_runs(), vec![(1, 100), (1, 0), (1, 250), (1, 0)]);
        assert_eq!(units.discount_total(), 350);
        units.mark_used(&[1, 2]);
        assert_eq!(units.used(), vec![1, 2]);
        assert_eq!(units.len(), 4);
    }
}
