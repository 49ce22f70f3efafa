//! Step 5 of the pipeline: tax per line, custom line and shipping (DESIGN §3), in the catalog's mode.
//! Gross prices: `net = round(gross / (1 + rate))`, `tax = gross - net`. Net prices:
//! `tax = round(net × rate)`, `gross = net + tax`. `unitPrice` mode allocates the line total over its
//! units first and taxes each unit; `lineItem` mode taxes the line total.

use crate::cart::CartState;
use crate::catalog::{Catalog, PricingSettings, TaxCalculation, TaxRate};
use crate::error::{CartError, Result};
use crate::money;
use rust_decimal::Decimal;

use super::view::TaxSummary;

/// The tax of one taxable amount.
pub(crate) struct LineTax {
    /// `None`: no rate for the tax country (issue `NO_TAX_RATE`; taxed at zero).
    pub rate: Option<TaxRate>,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
}

impl LineTax {
    pub fn rate_string(&self) -> Option<String> {
        self.rate.as_ref().map(|r| r.rate.0.to_string())
    }
}

pub(crate) struct Taxer<'a> {
    pub cart: &'a CartState,
    pub catalog: &'a Catalog,
    pub settings: PricingSettings,
}

impl Taxer<'_> {
    /// The rate of a tax category for the cart's tax country; a rate without country is the fallback.
    pub fn rate(&self, category: Option<&str>) -> Option<&TaxRate> {
        let rates = &self.catalog.tax_category(category?)?.rates;
        let country = self.cart.tax_country();
        rates
            .iter()
            .find(|r| r.country.is_some() && r.country.as_deref() == country)
            .or_else(|| rates.iter().find(|r| r.country.is_none()))
    }

    /// Taxes `amount` (catalog price terms) of `quantity` units in a category.
    pub fn tax(&self, category: Option<&str>, amount: i64, quantity: u32) -> Result<LineTax> {
        let Some(rate) = self.rate(category) else {
            return Ok(LineTax {
                rate: None,
                net: amount,
                tax: 0,
                gross: amount,
            });
        };
        let parts: Vec<(i64, i64)> = match self.settings.tax_calculation {
            TaxCalculation::LineItem => vec![(amount, 1)],
            TaxCalculation::UnitPrice => unit_groups(amount, quantity)?,
        };
        let mut tax = 0i64;
        for (unit_amount, count) in parts {
            let unit_tax = self.unit_tax(unit_amount, rate.rate.0)?;
            tax = money::add(tax, money::mul(unit_tax, count)?)?;
        }
        let (net, gross) = if self.settings.prices_include_tax {
            (money::sub(amount, tax)?, amount)
        } else {
            (amount, money::add(amount, tax)?)
        };
        Ok(LineTax {
            rate: Some(rate.clone()),
            net,
            tax,
            gross,
        })
    }

    fn unit_tax(&self, amount: i64, rate: Decimal) -> Result<i64> {
        let mode = self.settings.tax_rounding_mode;
        let value = Decimal::from(amount);
        if self.settings.prices_include_tax {
            let divisor = Decimal::ONE.checked_add(rate).ok_or_else(CartError::overflow)?;
            let net = money::round_minor(value.checked_div(divisor).ok_or_else(CartError::overflow)?, mode)?;
            money::sub(amount, net)
        } else {
            money::round_minor(value.checked_mul(rate).ok_or_else(CartError::overflow)?, mode)
        }
    }
}

/// An even split of `amount` over `quantity` units, as (unit amount, how many units) pairs: at most two.
fn unit_groups(amount: i64, quantity: u32) -> Result<Vec<(i64, i64)>> {
    let q = i64::from(quantity.max(1));
    let shares = money::split_even(amount, usize::try_from(q).map_err(|_| CartError::overflow())?)?;
    let mut groups: Vec<(i64, i64)> = Vec::new();
    for s in shares {
        match groups.iter_mut().find(|(a, _)| *a == s) {
            Some(g) => g.1 = money::add(g.1, 1)?,
            None => groups.push((s, 1)),
        }
    }
    Ok(groups)
}

/// Totals of net and tax, and the per-rate summary.
#[derive(Default)]
pub(crate) struct Summary {
    pub net: i64,
    pub tax: i64,
    /// (rate, name, net, tax) in first-seen order.
    by_rate: Vec<(Decimal, String, String, i64, i64)>,
}

impl Summary {
    pub fn add(&mut self, t: &LineTax) -> Result<()> {
        self.net = money::add(self.net, t.net)?;
        self.tax = money::add(self.tax, t.tax)?;
        if let Some(rate) = &t.rate {
            match self.by_rate.iter_mut().find(|e| e.0 == rate.rate.0) {
                Some(entry) => {
                    entry.3 = money::add(entry.3, t.net)?;
                    entry.4 = money::add(entry.4, t.tax)?;
                }
                None => self
                    .by_rate
                    .push((rate.rate.0, rate.rate.0.to_string(), rate.display_name(), t.net, t.tax)),
            }
        }
        Ok(())
    }

    /// One entry per rate, highest rate first.
    pub fn rates(&self) -> Vec<TaxSummary> {
        let mut entries = self.by_rate.clone();
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        entries
            .into_iter()
            .map(|(_, rate, name, net, tax)| TaxSummary { rate, name, net, tax })
            .collect()
    }
}
