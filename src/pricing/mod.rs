//! The pure pricing pipeline (DESIGN §3): `price(cart, catalog, now)` turns a cart state into the
//! view the browser shows. Same inputs, same output, on every platform: no clock, no I/O, no floats.
//!
//! Steps: price selection and line base (here) → promotions (`promotions`) → shipping (`shipping`) →
//! tax (`tax`) → totals and issues (`issues`).

mod issues;
mod promotions;
mod runs;
mod shipping;
mod tax;
pub mod view;

use crate::cart::{CartState, CustomLineKind, LineItem, PriceContext};
use crate::catalog::{in_window, Catalog, Price, Product, Promotion, ShippingMethod};
use crate::error::{CartError, Result};
use crate::money::{self, RoundingMode};
use crate::text::Text;
use crate::time::Timestamp;
use rust_decimal::Decimal;
pub use view::{
    CartView, CodeState, CodeView, CustomLineView, DeliveryEstimate, DiscountView, Issue, IssueCode, LineView,
    Severity, ShippingOption, ShippingView, TaxSummary, Totals, UnitDiscount,
};

/// Picks the price of a line (DESIGN §3 step 1): candidates in the cart currency, valid at `now`, whose
/// country and customer group (if set) equal the cart's, whose tier `minQuantity` is reached. The most
/// specific wins: customer group, then country, then dated, then the highest tier, then catalog order.
pub(crate) fn select_price<'p>(
    product: &'p Product,
    variant_id: Option<u32>,
    ctx: &PriceContext,
    quantity: u32,
    now: Timestamp,
) -> Option<&'p Price> {
    let prices = match variant_id.and_then(|v| product.variant(v)) {
        Some(variant) => variant.prices.as_ref().unwrap_or(&product.prices),
        None => &product.prices,
    };
    let applies = |p: &&Price| {
        p.currency == ctx.currency
            && in_window(p.valid_from, p.valid_until, now)
            && p.country.as_ref().is_none_or(|c| Some(c) == ctx.country.as_ref())
            && p.customer_group
                .as_ref()
                .is_none_or(|g| Some(g) == ctx.customer_group.as_ref())
            && p.min_quantity.unwrap_or(1) <= quantity
    };
    let specificity = |p: &Price| {
        (
            p.customer_group.is_some(),
            p.country.is_some(),
            p.valid_from.is_some() || p.valid_until.is_some(),
            p.min_quantity.unwrap_or(1),
        )
    };
    // max_by_key keeps the last of equals; reverse so that catalog order breaks ties.
    prices.iter().filter(applies).rev().max_by_key(|p| specificity(p))
}

/// A line item on its way through the pipeline.
#[derive(Clone)]
pub(crate) struct LineCalc<'c> {
    pub line: &'c LineItem,
    pub product: Option<&'c Product>,
    /// `None`: no product, not available, or no price: the line is priced at zero.
    pub unit_price: Option<Decimal>,
    pub base: i64,
    /// Every unit's current amount (base split evenly, minus discounts so far), the discount so far,
    /// and whether a buy-X-get-Y promotion used it (bought or rewarded: no later one uses it again),
    /// as runs of alike units.
    pub units: runs::Units,
    /// The lowest amount a unit may be discounted to (the price's `minimumPrice`; 0 without one).
    pub floor: i64,
    /// The gift promotion this line exists for (not a cart line; only that promotion targets it).
    pub gift_of: Option<&'c Promotion>,
    /// (promotion, positive amount, the line's amount just before it) in the order they applied.
    pub discounts: Vec<(&'c Promotion, i64, i64)>,
}

impl<'c> LineCalc<'c> {
    pub fn priced(&self) -> bool {
        self.unit_price.is_some()
    }

    /// Unit `k`'s amount before any promotion: the base split evenly, the first units taking the
    /// extra minor unit (as `money::split_even`, without keeping the vector).
    pub fn original_unit(&self, k: usize) -> i64 {
        let n = i64::try_from(self.units.len()).unwrap_or(i64::MAX).max(1);
        let (each, extra) = (self.base / n, self.base % n);
        let k = i64::try_from(k).unwrap_or(i64::MAX);
        each + if k < extra.abs() { extra.signum() } else { 0 }
    }

    pub fn discount_total(&self) -> i64 {
        self.units.discount_total()
    }

    pub fn current(&self) -> i64 {
        self.base.saturating_sub(self.discount_total())
    }

    /// How much a unit can still be discounted before it reaches the floor.
    pub fn room(&self, unit: i64) -> i64 {
        unit.saturating_sub(self.floor).max(0)
    }

    /// How much the units in `mask` (all units: `None`) can still be discounted.
    pub fn room_of(&self, mask: Option<&[usize]>) -> i64 {
        match mask {
            None => self.units.room(self.floor),
            Some(m) => {
                let amounts = self.units.amounts();
                m.iter().filter_map(|&k| amounts.get(k)).map(|&u| self.room(u)).sum()
            }
        }
    }

    /// Spreads a discount over the units of `mask` (all units: `None`) by what each can still give
    /// (largest remainder), so no unit goes below its floor.
    pub fn discount_line(&mut self, promo: &'c Promotion, amount: i64, mask: Option<&[usize]>) -> Result<i64> {
        let Some(indexes) = mask else {
            let before = self.current();
            let total = self.units.discount_spread(self.floor, amount)?;
            return Ok(self.record(promo, total, before));
        };
        let amount = amount.clamp(0, self.room_of(mask));
        if amount == 0 {
            return Ok(0);
        }
        let amounts = self.units.amounts();
        let rooms: Vec<i64> = indexes
            .iter()
            .map(|&k| amounts.get(k).map_or(0, |&u| self.room(u)))
            .collect();
        let mut per_unit = vec![0; amounts.len()];
        for (&k, share) in indexes.iter().zip(money::allocate(amount, &rooms)?) {
            if let Some(slot) = per_unit.get_mut(k) {
                *slot = share;
            }
        }
        self.discount_units(promo, &per_unit)
    }

    /// Takes a discount off each unit (each capped at what the unit can give above its floor).
    pub fn discount_units(&mut self, promo: &'c Promotion, per_unit: &[i64]) -> Result<i64> {
        let before = self.current();
        let total = self.units.discount_each(self.floor, per_unit)?;
        Ok(self.record(promo, total, before))
    }

    /// Keeps a promotion's discount on this line (none when it took nothing).
    fn record(&mut self, promo: &'c Promotion, total: i64, before: i64) -> i64 {
        if total > 0 {
            self.discounts.push((promo, total, before));
        }
        total
    }
}

/// The shipping of the cart on its way through the pipeline.
pub(crate) struct ShippingCalc<'c> {
    pub method: &'c ShippingMethod,
    pub price: i64,
    pub discounts: Vec<(&'c Promotion, i64)>,
    /// The delivery's shipping profile (`None`: the default one).
    pub profile: Option<&'c str>,
    /// The indexes of the lines it ships.
    pub lines: Vec<usize>,
}

impl ShippingCalc<'_> {
    pub fn discount_total(&self) -> i64 {
        self.discounts.iter().map(|(_, d)| d).sum()
    }

    /// The price after the shipping discounts so far.
    pub fn current(&self) -> i64 {
        self.price.saturating_sub(self.discount_total())
    }
}

/// A custom line's signed total in minor units.
fn custom_total(amount: Decimal, quantity: u32, kind: CustomLineKind, digits: u32, mode: RoundingMode) -> Result<i64> {
    let gross = amount
        .checked_mul(Decimal::from(quantity))
        .ok_or_else(CartError::overflow)?;
    let total = money::to_minor(gross, digits, mode)?;
    Ok(if kind == CustomLineKind::Credit { -total } else { total })
}

fn price_line<'c>(
    line: &'c LineItem,
    catalog: &'c Catalog,
    ctx: &PriceContext,
    digits: u32,
    mode: RoundingMode,
    now: Timestamp,
) -> Result<LineCalc<'c>> {
    let product = catalog.product(&line.product_id);
    let buyable = product.filter(|p| {
        let variant = line.variant_id.map(|v| p.variant(v));
        p.available && !matches!(variant, Some(None)) && variant.flatten().and_then(|v| v.available) != Some(false)
    });
    let price = buyable.and_then(|p| select_price(p, line.variant_id, ctx, line.quantity, now));
    let unit_price = price.map(|p| p.amount.0);
    let floor = match price.and_then(|p| p.minimum_price) {
        Some(min) => money::to_minor(min.0, digits, mode)?,
        None => 0,
    };
    let base = match unit_price {
        Some(unit) => {
            let exact = unit
                .checked_mul(Decimal::from(line.quantity))
                .ok_or_else(CartError::overflow)?;
            money::to_minor(exact, digits, mode)?
        }
        None => 0,
    };
    Ok(LineCalc {
        line,
        product,
        unit_price,
        base,
        units: runs::Units::even(base, line.quantity)?,
        floor,
        gift_of: None,
        discounts: Vec::new(),
    })
}

/// Prices a cart against a catalog at `now` (DESIGN §3). Pure: the same inputs give the same view.
pub fn price(cart: &CartState, catalog: &Catalog, now: Timestamp) -> Result<CartView> {
    let settings = *catalog.pricing();
    let digits = money::fraction_digits(&cart.currency)
        .ok_or_else(|| CartError::invalid_request(format!("unknown currency {}", cart.currency)))?;
    let mode = settings.rounding_mode;
    let ctx = cart.price_context();

    let mut lines = cart
        .line_items
        .iter()
        .map(|l| price_line(l, catalog, &ctx, digits, mode, now))
        .collect::<Result<Vec<_>>>()?;
    let custom_totals = cart
        .custom_line_items
        .iter()
        .map(|c| custom_total(c.amount.0, c.quantity, c.kind, digits, mode))
        .collect::<Result<Vec<_>>>()?;
    let subtotal = money::add(
        money::sum(lines.iter().map(|l| l.base))?,
        money::sum(custom_totals.iter().copied())?,
    )?;

    let promo_ctx = promotions::PromoContext {
        cart,
        catalog,
        digits,
        mode,
        allocation: settings.allocation,
        basis: settings.condition_basis,
        subtotal,
        custom_total: money::sum(custom_totals.iter().copied())?,
        now,
    };
    let gift_items = promotions::gift_items(&lines, &promo_ctx)?;
    for (item, promo) in &gift_items {
        let mut calc = price_line(item, catalog, &ctx, digits, mode, now)?;
        calc.gift_of = Some(promo);
        lines.push(calc);
    }
    let mut pass = promotions::apply_items(&mut lines, &promo_ctx)?;
    let subtotal = money::add(subtotal, keep_applied_gifts(&mut lines, &pass)?)?;
    let item_total = money::sum(lines.iter().map(LineCalc::current))?;
    let mut ship = shipping::compute(cart, catalog, &lines, item_total, digits, mode, now)?;
    promotions::apply_shipping(&mut pass, &mut lines, &mut ship.deliveries, &promo_ctx)?;

    let taxer = tax::Taxer {
        cart,
        catalog,
        settings,
    };
    let shipping: Vec<_> = ship.deliveries.iter().map(|s| (s.method, s.current())).collect();
    let tax::CartTaxes {
        lines: line_taxes,
        custom: custom_taxes,
        shipping: shipping_taxes,
        summary: taxes,
    } = taxer.tax_cart(&lines, &custom_totals, &shipping)?;
    let mut line_views = Vec::with_capacity(lines.len());
    let mut rate_texts = tax::RateTexts::default();
    for (l, t) in lines.iter().zip(&line_taxes) {
        line_views.push(line_view(l, t, rate_texts.of(t), digits, mode)?);
    }
    let custom_views = cart
        .custom_line_items
        .iter()
        .zip(&custom_totals)
        .zip(&custom_taxes)
        .map(|((c, &total), t)| custom_view(c, total, t, digits, mode))
        .collect::<Result<Vec<_>>>()?;
    let deliveries: Vec<ShippingView> = ship
        .deliveries
        .iter()
        .zip(&shipping_taxes)
        .map(|(s, t)| shipping_view(s, &lines, t, now))
        .collect();

    let item_discounts = money::sum(lines.iter().map(LineCalc::discount_total))?;
    let shipping_discount = money::sum(ship.deliveries.iter().map(ShippingCalc::discount_total))?;
    let gross = money::add(taxes.net, taxes.tax)?;
    let increment = match catalog.cash_rounding(&cart.currency) {
        Some(step) => money::to_minor(step, digits, RoundingMode::HalfUp)?,
        None => 1,
    };
    let total = money::cash_round(gross, increment)?;
    let totals = Totals {
        subtotal,
        discount_total: -money::add(item_discounts, shipping_discount)?,
        shipping_total: money::sum(ship.deliveries.iter().map(|s| s.price))?,
        net: taxes.net,
        tax_total: taxes.tax,
        gross,
        cash_rounding: money::sub(total, gross)?,
        total,
        taxes: taxes.rates(),
    };

    let codes = code_views(cart, catalog, &pass.states);
    let issue_list = issues::collect(&issues::Inputs {
        cart,
        catalog,
        lines: &lines,
        taxer: &taxer,
        shipping_problems: &ship.problems,
        deliveries: &ship.deliveries,
        codes: &codes,
        digits,
        mode,
        now,
    })?;
    let can_checkout = !issue_list.iter().any(|i| i.severity == view::Severity::Error);
    let view = CartView {
        id: cart.id.clone(),
        version: cart.version,
        status: cart.status,
        currency: cart.currency.clone(),
        fraction_digits: digits,
        pricing_profile: settings.profile.as_str().to_string(),
        country: cart.country.clone(),
        locale: cart.locale.clone(),
        customer: cart.customer.clone(),
        created_at: cart.created_at,
        updated_at: cart.updated_at,
        expires_at: cart.expires_at(),
        catalog_version: cart.catalog_version.clone(),
        line_items: line_views,
        custom_line_items: custom_views,
        discount_codes: codes,
        shipping_address: cart.shipping_address.clone(),
        billing_address: cart.billing_address.clone(),
        payment_method_id: cart.payment_method_id.clone(),
        shipping: deliveries.first().cloned(),
        deliveries,
        available_shipping_methods: ship.options,
        totals,
        issues: issue_list,
        can_checkout,
    };
    view.check_exact_in_js()?;
    Ok(view)
}

/// Drops the gift lines whose promotion did not apply (stopped by another: not given, not charged);
/// returns the base of the gifts kept, which the subtotal includes.
fn keep_applied_gifts(lines: &mut Vec<LineCalc>, pass: &promotions::PromotionPass) -> Result<i64> {
    lines.retain(|l| {
        l.gift_of
            .is_none_or(|p| pass.states.get(p.id.as_str()) == Some(&CodeState::Applied))
    });
    money::sum(lines.iter().filter(|l| l.gift_of.is_some()).map(|l| l.base))
}

fn custom_view(
    c: &crate::cart::CustomLineItem,
    total: i64,
    t: &tax::LineTax,
    digits: u32,
    mode: RoundingMode,
) -> Result<CustomLineView> {
    let unit = money::to_minor(c.amount.0, digits, mode)?;
    Ok(CustomLineView {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind,
        quantity: c.quantity,
        unit_price: if c.kind == CustomLineKind::Credit { -unit } else { unit },
        total,
        tax_category: c.tax_category.clone(),
        tax_rate: t.rate_string(),
        net: t.net,
        tax: t.tax,
        gross: t.gross,
    })
}

fn shipping_view(s: &ShippingCalc, lines: &[LineCalc], t: &tax::LineTax, now: Timestamp) -> ShippingView {
    ShippingView {
        method_id: s.method.id.clone(),
        name: s.method.name.clone(),
        price: s.price,
        discount: -s.discount_total(),
        total: s.current(),
        tax_rate: t.rate_string(),
        net: t.net,
        tax: t.tax,
        gross: t.gross,
        estimated_delivery: shipping::estimate(s.method, now),
        shipping_profile: s.profile.map(str::to_string),
        line_item_ids: s
            .lines
            .iter()
            .filter_map(|&i| lines.get(i))
            .map(|l| l.line.id.clone())
            .collect(),
    }
}

fn line_view(
    l: &LineCalc,
    t: &tax::LineTax,
    tax_rate: Option<String>,
    digits: u32,
    mode: RoundingMode,
) -> Result<LineView> {
    let line = l.line;
    let unit_price = match l.unit_price {
        Some(unit) => money::to_minor(unit, digits, mode)?,
        None => 0,
    };
    Ok(LineView {
        id: line.id.clone(),
        product_id: line.product_id.clone(),
        variant_id: line.variant_id,
        sku: line.sku.clone(),
        name: l
            .product
            .map_or_else(|| line.name.clone(), |p| crate::cart::line_name(p, line.variant_id)),
        kind: l.product.map_or_else(|| Text::from("product"), |p| p.kind.clone()),
        vendor: l.product.and_then(|p| p.vendor.clone()),
        quantity: line.quantity,
        attributes: line.attributes.clone(),
        unit_price,
        base_total: l.base,
        discounts: l
            .discounts
            .iter()
            .map(|(p, d, _)| DiscountView {
                promotion_id: p.id.clone(),
                label: p.label().to_string(),
                amount: -d,
            })
            .collect(),
        unit_discounts: l
            .units
            .discount_runs()
            .into_iter()
            .map(|(quantity, d)| UnitDiscount { quantity, amount: -d })
            .collect(),
        total: l.current(),
        shippable: l.product.is_some_and(|p| p.shippable),
        gift: l.gift_of.is_some(),
        tax_rate,
        net: t.net,
        tax: t.tax,
        gross: t.gross,
    })
}

/// The cart's codes in the order they were added, each with its state. A code the catalog no longer
/// knows stays visible (as `notApplicable`) so the shopper can see and remove it.
fn code_views(cart: &CartState, catalog: &Catalog, states: &rustc_hash::FxHashMap<&str, CodeState>) -> Vec<CodeView> {
    cart.discount_codes
        .iter()
        .map(|code| match catalog.promotion_by_code(code) {
            Some(promo) => CodeView {
                code: code.clone(),
                state: states
                    .get(promo.id.as_str())
                    .copied()
                    .unwrap_or(CodeState::NotApplicable),
                promotion_id: Some(promo.id.clone()),
                label: promo.label().to_string(),
            },
            None => CodeView {
                code: code.clone(),
                state: CodeState::NotApplicable,
                promotion_id: None,
                label: code.clone(),
            },
        })
        .collect()
}
