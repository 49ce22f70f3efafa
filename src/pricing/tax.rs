//! Step 5 of the pipeline: tax per line, custom line and shipping (DESIGN §3, docs/PRICING.md).
//! An amount at a rate that is included in the price (`includedInPrice`, else `pricesIncludeTax`) is
//! gross: `net = round(gross / (1 + rate))`, `tax = gross - net`. Otherwise it is net:
//! `tax = round(net × rate)`, `gross = net + tax`. `unitPrice` mode allocates the line total over its
//! units first and taxes each unit; `lineItem` mode taxes the line total; `perRate` mode taxes the sum
//! of everything at one rate once and spreads that tax back over the lines.

use crate::cart::CartState;
use crate::catalog::{
    Catalog, DiscountTax, PricingSettings, ShippingMethod, ShippingTax, TaxCalculation, TaxRate, TaxRoundingTarget,
};
use crate::error::{CartError, Result};
use crate::money;
use crate::pricing::LineCalc;
use rust_decimal::Decimal;

use super::view::TaxSummary;

/// One amount to be taxed: a line's discounted total, a custom line's total, the shipping price.
pub(crate) struct Taxable<'a> {
    pub category: Option<&'a str>,
    pub amount: i64,
    pub quantity: u32,
}

/// A line's part in one promotion's discount (for `discountTax: "rateShares"`).
pub(crate) struct DiscountPart<'a> {
    pub promotion: &'a str,
    pub line: usize,
    /// The discount the line took (positive magnitude).
    pub amount: i64,
    /// The line's amount just before this promotion.
    pub before: i64,
}

/// Every tax of the cart: per line, per custom line, the shipping's, and the summary.
pub(crate) struct CartTaxes<'c> {
    pub lines: Vec<LineTax<'c>>,
    pub custom: Vec<LineTax<'c>>,
    /// One per delivery, in the order of the deliveries.
    pub shipping: Vec<LineTax<'c>>,
    pub summary: Summary,
}

/// The tax of one taxable amount, at a rate of the catalog.
#[derive(Clone)]
pub(crate) struct LineTax<'c> {
    /// `None`: no rate for the tax country (issue `NO_TAX_RATE`; taxed at zero).
    pub rate: Option<&'c TaxRate>,
    /// Whether the amount was gross (the rate is included in it).
    pub included: bool,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
}

/// Each tax rate's text (`"0.19"`) for the views, formatted once per price rather than once per line.
#[derive(Default)]
pub(crate) struct RateTexts<'c>(Vec<(&'c TaxRate, String)>);

impl<'c> RateTexts<'c> {
    pub fn of(&mut self, t: &LineTax<'c>) -> Option<String> {
        let rate = t.rate?;
        if let Some((_, text)) = self.0.iter().find(|(r, _)| std::ptr::eq(*r, rate)) {
            return Some(text.clone());
        }
        let text = rate.rate.0.to_string();
        self.0.push((rate, text.clone()));
        Some(text)
    }
}

impl<'c> LineTax<'c> {
    pub fn rate_string(&self) -> Option<String> {
        self.rate.as_ref().map(|r| r.rate.0.to_string())
    }

    /// The tax of `amount` at `rate`, with net and gross derived from it.
    fn at(rate: &'c TaxRate, included: bool, amount: i64, tax: i64) -> Result<LineTax<'c>> {
        let mut line = LineTax {
            rate: Some(rate),
            included,
            net: 0,
            tax: 0,
            gross: 0,
        };
        line.set_tax(amount, tax)?;
        Ok(line)
    }

    /// Sets the tax and derives net and gross from the taxed amount.
    fn set_tax(&mut self, amount: i64, tax: i64) -> Result<()> {
        self.tax = tax;
        (self.net, self.gross) = if self.included {
            (money::sub(amount, tax)?, amount)
        } else {
            (amount, money::add(amount, tax)?)
        };
        Ok(())
    }
}

pub(crate) struct Taxer<'a> {
    pub cart: &'a CartState,
    pub catalog: &'a Catalog,
    pub settings: PricingSettings,
}

impl<'a> Taxer<'a> {
    /// The rate of a tax category for the cart's tax country; a rate without country is the fallback.
    pub fn rate(&self, category: Option<&str>) -> Option<&'a TaxRate> {
        let rates = &self.catalog.tax_category(category?)?.rates;
        let country = self.cart.tax_country();
        rates
            .iter()
            .find(|r| r.country.is_some() && r.country.as_deref() == country)
            .or_else(|| rates.iter().find(|r| r.country.is_none()))
    }

    /// Taxes the lines (at their discounted amounts, or before promotions with `rateShares`), the
    /// custom lines and the deliveries (`shipping`: each one's method and price after discounts).
    pub fn tax_cart(
        &self,
        lines: &[LineCalc],
        custom_totals: &[i64],
        shipping: &[(&ShippingMethod, i64)],
    ) -> Result<CartTaxes<'a>> {
        // Shopware's rate shares: lines are taxed before promotions, each discount on its own.
        let rate_shares = self.settings.discount_tax == DiscountTax::RateShares
            && self.settings.tax_calculation != TaxCalculation::PerRate;
        let mut items: Vec<Taxable> = lines
            .iter()
            .map(|l| Taxable {
                category: self
                    .catalog
                    .product(&l.line.product_id)
                    .map(|p| p.tax_category.as_str()),
                amount: if rate_shares { l.base } else { l.current() },
                quantity: l.line.quantity,
            })
            .collect();
        for (c, &total) in self.cart.custom_line_items.iter().zip(custom_totals) {
            items.push(Taxable {
                category: Some(&c.tax_category),
                amount: total,
                quantity: c.quantity,
            });
        }
        let by_category = |m: &ShippingMethod| m.tax_type == ShippingTax::Category;
        for &(method, total) in shipping.iter().filter(|(m, _)| by_category(m)) {
            items.push(Taxable {
                category: Some(&method.tax_category),
                amount: total,
                quantity: 1,
            });
        }
        let mut taxes = self.tax_all(&items)?;
        if rate_shares {
            let parts: Vec<DiscountPart> = lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    l.discounts.iter().map(move |(p, amount, before)| DiscountPart {
                        promotion: p.id.as_str(),
                        line: i,
                        amount: *amount,
                        before: *before,
                    })
                })
                .collect();
            let currents: Vec<i64> = lines.iter().map(LineCalc::current).collect();
            self.tax_discounts(&parts, &mut taxes, &currents)?;
        }
        let mut summary = Summary::default();
        for t in &taxes {
            summary.add(t)?;
        }
        // The taxes of the deliveries taxed at their category's rate came last, in delivery order.
        let first_shipping = lines.len().saturating_add(custom_totals.len()).min(taxes.len());
        let mut by_category_taxes = taxes.split_off(first_shipping).into_iter();
        let line_taxes = taxes.get(..lines.len()).unwrap_or(&[]);
        let mut shipping_taxes = Vec::with_capacity(shipping.len());
        for &(method, total) in shipping {
            if by_category(method) {
                shipping_taxes.extend(by_category_taxes.next());
                continue;
            }
            let parts = self.shipping_parts(method, total, lines, line_taxes)?;
            for part in &parts {
                summary.add(part)?;
            }
            shipping_taxes.push(merge(&parts)?);
        }
        let custom = taxes.split_off(lines.len().min(taxes.len()));
        Ok(CartTaxes {
            lines: taxes,
            custom,
            shipping: shipping_taxes,
            summary,
        })
    }

    /// A shipping price taxed by the cart's lines (`taxType` proportional or highest): one part per
    /// rate, each taxed on its exact share of the price and rounded on its own (Shopware
    /// `DeliveryCalculator` with `PercentageTaxRuleBuilder`). Without a taxed line: the category's rate.
    fn shipping_parts(
        &self,
        method: &ShippingMethod,
        total: i64,
        lines: &[LineCalc],
        line_taxes: &[LineTax<'a>],
    ) -> Result<Vec<LineTax<'a>>> {
        let mut groups = rate_groups(lines.iter().map(LineCalc::current).zip(line_taxes))
            .into_iter()
            .map(|(rate, included, amounts)| Ok((rate, included, money::sum(amounts)?)))
            .collect::<Result<Vec<_>>>()?;
        groups.retain(|g| g.2 > 0);
        if method.tax_type == ShippingTax::Highest {
            groups.sort_by_key(|g| std::cmp::Reverse(g.0.rate));
            groups.truncate(1);
        }
        let whole = money::sum(groups.iter().map(|g| g.2))?;
        if whole <= 0 {
            let item = Taxable {
                category: Some(&method.tax_category),
                amount: total,
                quantity: 1,
            };
            return Ok(vec![self.tax(&item)?]);
        }
        if let [(rate, included, _)] = groups.as_slice() {
            // One rate (`highest`, or every line at one rate): a whole amount, taxed as any other.
            let tax = self.tax_of(total, rate.rate.0, *included)?;
            return Ok(vec![LineTax::at(rate, *included, total, tax)?]);
        }
        let weights: Vec<i64> = groups.iter().map(|g| g.2).collect();
        let amounts = money::allocate(total, &weights)?;
        let mut parts = Vec::with_capacity(groups.len());
        for ((rate, included, weight), amount) in groups.into_iter().zip(amounts) {
            let tax = self.tax_of_exact(exact_share(total, weight, whole)?, rate.rate.0, included)?;
            parts.push(LineTax::at(rate, included, amount, tax)?);
        }
        Ok(parts)
    }

    fn included(&self, rate: &TaxRate) -> bool {
        rate.included_in_price.unwrap_or(self.settings.prices_include_tax)
    }

    /// Taxes every amount; in `perRate` mode the amounts at one rate are taxed together.
    pub fn tax_all(&self, items: &[Taxable]) -> Result<Vec<LineTax<'a>>> {
        let mut taxes = items.iter().map(|t| self.tax(t)).collect::<Result<Vec<_>>>()?;
        if self.settings.tax_calculation == TaxCalculation::PerRate {
            self.round_per_rate(items, &mut taxes)?;
        }
        Ok(taxes)
    }

    /// Taxes one amount (catalog price terms) of `quantity` units.
    fn tax(&self, item: &Taxable) -> Result<LineTax<'a>> {
        let Some(rate) = self.rate(item.category) else {
            return Ok(LineTax {
                rate: None,
                included: self.settings.prices_include_tax,
                net: item.amount,
                tax: 0,
                gross: item.amount,
            });
        };
        let included = self.included(rate);
        let parts = match self.settings.tax_calculation {
            TaxCalculation::LineItem | TaxCalculation::PerRate => [(item.amount, 1), (0, 0)],
            TaxCalculation::UnitPrice => unit_groups(item.amount, item.quantity)?,
        };
        let mut tax = 0i64;
        for (unit_amount, count) in parts.into_iter().filter(|&(_, count)| count > 0) {
            let unit_tax = self.tax_of(unit_amount, rate.rate.0, included)?;
            tax = money::add(tax, money::mul(unit_tax, count)?)?;
        }
        LineTax::at(rate, included, item.amount, tax)
    }

    /// The rounded tax of one amount at `rate`. A gross amount rounds its net or its tax, as
    /// `taxRoundingTarget` says (with the half modes they differ only when the exact net ends in
    /// exactly half a unit; with `up`, `down`, `ceiling` and `floor` on any fraction).
    fn tax_of(&self, amount: i64, rate: Decimal, included: bool) -> Result<i64> {
        let mode = self.settings.tax_rounding_mode;
        if included && self.settings.tax_rounding_target == TaxRoundingTarget::Net {
            let divisor = Decimal::ONE.checked_add(rate).ok_or_else(CartError::overflow)?;
            let exact = Decimal::from(amount)
                .checked_div(divisor)
                .ok_or_else(CartError::overflow)?;
            return money::sub(amount, money::round_minor(exact, mode)?);
        }
        self.tax_of_exact(Decimal::from(amount), rate, included)
    }

    /// `round(value × rate / (1 + rate))` for a gross value, `round(value × rate)` for a net one.
    fn tax_of_exact(&self, value: Decimal, rate: Decimal, included: bool) -> Result<i64> {
        let mut tax = value.checked_mul(rate).ok_or_else(CartError::overflow)?;
        if included {
            let divisor = Decimal::ONE.checked_add(rate).ok_or_else(CartError::overflow)?;
            tax = tax.checked_div(divisor).ok_or_else(CartError::overflow)?;
        }
        money::round_minor(tax, self.settings.tax_rounding_mode)
    }

    /// `discountTax: "rateShares"`: the lines were taxed on their amounts before promotions; each
    /// promotion's discount is now taxed on its own. Its share at a rate is the discount times the
    /// share of that rate in the discounted lines' amounts (lines without a rate keep their share
    /// untaxed); each rate's tax is rounded once and taken off that rate's lines in proportion to
    /// their discounts. `currents` are the lines' amounts after every promotion.
    pub fn tax_discounts(&self, parts: &[DiscountPart], taxes: &mut [LineTax], currents: &[i64]) -> Result<()> {
        let mut promotions: Vec<&str> = Vec::new();
        for part in parts {
            if !promotions.contains(&part.promotion) {
                promotions.push(part.promotion);
            }
        }
        for promotion in promotions {
            let mine: Vec<&DiscountPart> = parts.iter().filter(|p| p.promotion == promotion).collect();
            let discount = money::sum(mine.iter().map(|p| p.amount))?;
            let whole = money::sum(mine.iter().map(|p| p.before))?;
            if discount == 0 || whole <= 0 {
                continue;
            }
            let groups = rate_groups(mine.iter().filter_map(|&p| taxes.get(p.line).map(|t| (p, t))));
            for (rate, included, members) in groups {
                let at_rate = money::sum(members.iter().map(|p| p.before))?;
                let share = exact_share(discount, at_rate, whole)?;
                let tax = self.tax_of_exact(share, rate.rate.0, included)?;
                let weights: Vec<i64> = members.iter().map(|p| p.amount).collect();
                for (part, cut) in members.iter().zip(money::allocate(tax, &weights)?) {
                    if let Some(t) = taxes.get_mut(part.line) {
                        t.tax = money::sub(t.tax, cut)?;
                    }
                }
            }
        }
        for (t, &current) in taxes.iter_mut().zip(currents) {
            let tax = t.tax;
            t.set_tax(current, tax)?;
        }
        Ok(())
    }

    /// `perRate` mode: for every (rate, included) group the tax of the summed amounts, rounded once;
    /// the difference to the per-line taxes goes one minor unit at a time to the group's largest
    /// amounts (ties to the earlier line), so line taxes add up to the group's tax.
    fn round_per_rate(&self, items: &[Taxable], taxes: &mut [LineTax]) -> Result<()> {
        for (rate, included, mut members) in rate_groups(taxes.iter().enumerate()) {
            let amount = money::sum(members.iter().filter_map(|&i| items.get(i)).map(|t| t.amount))?;
            let line_taxes = money::sum(members.iter().filter_map(|&i| taxes.get(i)).map(|t| t.tax))?;
            let mut diff = money::sub(self.tax_of(amount, rate.rate.0, included)?, line_taxes)?;
            members.sort_by_key(|&i| std::cmp::Reverse(items.get(i).map_or(0, |t| t.amount)));
            // |diff| is at most half a unit per line, so one round over the members suffices; the
            // cycle only guards against a pathological catalog.
            for &i in members.iter().cycle().take(members.len().saturating_mul(2)) {
                if diff == 0 {
                    break;
                }
                if let (Some(item), Some(line)) = (items.get(i), taxes.get_mut(i)) {
                    let step = diff.signum();
                    line.set_tax(item.amount, money::add(line.tax, step)?)?;
                    diff = money::sub(diff, step)?;
                }
            }
        }
        Ok(())
    }
}

/// `items` grouped by the (rate, included) of their tax, in first-seen order; items whose tax has no
/// rate are left out. Groups are few (one per rate), so a linear search beats a map here.
fn rate_groups<'t, 'c: 't, T>(
    items: impl IntoIterator<Item = (T, &'t LineTax<'c>)>,
) -> Vec<(&'c TaxRate, bool, Vec<T>)> {
    let mut groups: Vec<(&'c TaxRate, bool, Vec<T>)> = Vec::new();
    for (item, t) in items {
        let Some(rate) = t.rate else { continue };
        match groups.iter_mut().find(|g| g.0.rate == rate.rate && g.1 == t.included) {
            Some(g) => g.2.push(item),
            None => groups.push((rate, t.included, vec![item])),
        }
    }
    groups
}

/// `amount × part / whole`, exact (a share of an amount is not a whole number of minor units).
fn exact_share(amount: i64, part: i64, whole: i64) -> Result<Decimal> {
    Decimal::from(amount)
        .checked_mul(Decimal::from(part))
        .and_then(|v| v.checked_div(Decimal::from(whole)))
        .ok_or_else(CartError::overflow)
}

/// One tax for the view out of several parts: their sums, and their rate when there is only one.
fn merge<'c>(parts: &[LineTax<'c>]) -> Result<LineTax<'c>> {
    let first = parts.first();
    Ok(LineTax {
        rate: if parts.len() == 1 {
            first.and_then(|p| p.rate)
        } else {
            None
        },
        included: first.is_some_and(|p| p.included),
        net: money::sum(parts.iter().map(|p| p.net))?,
        tax: money::sum(parts.iter().map(|p| p.tax))?,
        gross: money::sum(parts.iter().map(|p| p.gross))?,
    })
}

/// An even split of `amount` over `quantity` units, as two (unit amount, how many units) pairs (a count
/// may be zero).
fn unit_groups(amount: i64, quantity: u32) -> Result<[(i64, i64); 2]> {
    Ok(money::split_even_runs(amount, quantity)?.map(|(share, count)| (share, i64::from(count))))
}

/// Totals of net and tax, and the per-rate summary (one entry per sub-rate where a rate has them).
#[derive(Default)]
pub(crate) struct Summary {
    pub net: i64,
    pub tax: i64,
    /// (rate, rate string, name, net, tax) in first-seen order.
    by_rate: Vec<(Decimal, String, String, i64, i64)>,
}

impl Summary {
    pub fn add(&mut self, t: &LineTax) -> Result<()> {
        self.net = money::add(self.net, t.net)?;
        self.tax = money::add(self.tax, t.tax)?;
        let Some(rate) = t.rate else { return Ok(()) };
        if rate.sub_rates.is_empty() {
            return match &rate.name {
                Some(name) => self.add_entry(rate.rate.0, name, t.net, t.tax),
                None => self.add_entry(rate.rate.0, &rate.display_name(), t.net, t.tax),
            };
        }
        for (sub, share) in rate.sub_rates.iter().zip(sub_rate_shares(rate, t.tax)?) {
            self.add_entry(sub.rate.0, &sub.name, t.net, share)?;
        }
        Ok(())
    }

    fn add_entry(&mut self, rate: Decimal, name: &str, net: i64, tax: i64) -> Result<()> {
        match self.by_rate.iter_mut().find(|e| e.0 == rate && e.2 == name) {
            Some(entry) => {
                entry.3 = money::add(entry.3, net)?;
                entry.4 = money::add(entry.4, tax)?;
            }
            None => self.by_rate.push((rate, rate.to_string(), name.to_string(), net, tax)),
        }
        Ok(())
    }

    /// One entry per rate (or sub-rate), highest rate first.
    pub fn rates(&self) -> Vec<TaxSummary> {
        let mut entries = self.by_rate.clone();
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        entries
            .into_iter()
            .map(|(_, rate, name, net, tax)| TaxSummary { rate, name, net, tax })
            .collect()
    }
}

/// A line's tax split over its rate's sub-rates by their share of the rate (largest remainder, so the
/// parts add up to the tax; commercetools accumulates its `taxPortions` per line the same way).
fn sub_rate_shares(rate: &TaxRate, tax: i64) -> Result<Vec<i64>> {
    // Rates have at most 28 decimals; scaling by 10^12 keeps every realistic rate (0.0625) exact.
    let scale = Decimal::from(1_000_000_000_000i64);
    let weights = rate
        .sub_rates
        .iter()
        .map(|s| {
            let scaled = s.rate.0.checked_mul(scale).ok_or_else(CartError::overflow)?;
            i64::try_from(scaled.trunc()).map_err(|_| CartError::overflow())
        })
        .collect::<Result<Vec<i64>>>()?;
    money::allocate(tax, &weights)
}
