//! Step 4 of the pipeline: which shipping method, at what price (DESIGN §3, docs/PRICING.md). Shipping
//! exists only when some priced line ships and the catalog has methods. The shippable lines form one
//! delivery per shipping profile (the default profile first), each shipped by a method of its profile.
//! A delivery's price depends on the cart's item total after item discounts (`freeAbove`, cart-value
//! tiers), which is why this runs after the item promotions, and on what the delivery ships: its units
//! (`pricePerUnit`) and weight (`weightTiers`, `maxWeight`).

use super::view::{DeliveryEstimate, ShippingOption};
use super::{LineCalc, ShippingCalc};
use crate::cart::CartState;
use crate::catalog::{Amount, Catalog, ShippingMethod, ShippingRate};
use crate::error::{CartError, Result};
use crate::money::{self, RoundingMode};
use crate::time::Timestamp;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Why a delivery has no shipping although the cart needs it (issue `NO_SHIPPING_METHOD`).
pub(crate) struct ShippingProblem {
    /// The selected method, when it is the one that does not serve the destination.
    pub selected: Option<String>,
    pub country: Option<String>,
    /// The delivery's shipping profile (`None`: the default one).
    pub profile: Option<String>,
}

/// Every delivery of the cart: the ones with a method, the ones without (problems), and the methods
/// a shopper could choose for each.
pub(crate) struct ShippingOutcome<'c> {
    pub deliveries: Vec<ShippingCalc<'c>>,
    pub problems: Vec<ShippingProblem>,
    pub options: Vec<ShippingOption>,
}

/// What the shipping price depends on.
struct Shipment {
    /// Item total after item discounts, minor units.
    item_total: i64,
    /// Shipped units (priced, shippable lines).
    units: u64,
    /// Shipped weight (unit weight × quantity; lines without a weight weigh nothing).
    weight: Decimal,
    digits: u32,
    mode: RoundingMode,
}

impl Shipment {
    fn minor(&self, amount: Amount) -> Result<i64> {
        money::to_minor(amount.0, self.digits, self.mode)
    }

    /// Whether a rate takes this shipment (`maxWeight`).
    fn fits(&self, rate: &ShippingRate) -> bool {
        rate.max_weight.is_none_or(|max| self.weight <= max.0)
    }

    /// The price of a rate: free from `freeAbove`; else the highest cart-value or weight tier reached,
    /// else the base price; plus `pricePerUnit` for every shipped unit. Comparisons are `>=`.
    fn price(&self, rate: &ShippingRate) -> Result<i64> {
        if let Some(free) = rate.free_above {
            if self.item_total >= self.minor(free)? {
                return Ok(0);
            }
        }
        let mut best: Option<(i64, i64)> = None;
        for tier in &rate.tiers {
            let min = self.minor(tier.min_cart_value)?;
            if self.item_total >= min && best.is_none_or(|(m, _)| min > m) {
                best = Some((min, self.minor(tier.price)?));
            }
        }
        let mut heaviest: Option<(Decimal, Amount)> = None;
        for tier in &rate.weight_tiers {
            if self.weight >= tier.min_weight.0 && heaviest.is_none_or(|(m, _)| tier.min_weight.0 > m) {
                heaviest = Some((tier.min_weight.0, tier.price));
            }
        }
        let base = match (best, heaviest) {
            (Some((_, price)), _) => price,
            (None, Some((_, price))) => self.minor(price)?,
            (None, None) => self.minor(rate.price)?,
        };
        match rate.price_per_unit {
            Some(per_unit) => {
                let exact = per_unit
                    .0
                    .checked_mul(Decimal::from(self.units))
                    .ok_or_else(CartError::overflow)?;
                money::add(base, money::to_minor(exact, self.digits, self.mode)?)
            }
            None => Ok(base),
        }
    }
}

/// Units and weight of the lines `members` of one delivery. `freeAbove` and cart-value tiers are
/// measured on the whole cart's `item_total`, as a platform's cart-level shipping rules are (Medusa's
/// `item_total` rules, Vendure's order checkers), so a second delivery changes no threshold.
fn shipment(
    lines: &[LineCalc],
    members: &[usize],
    item_total: i64,
    digits: u32,
    mode: RoundingMode,
) -> Result<Shipment> {
    let mut units = 0u64;
    let mut weight = Decimal::ZERO;
    for l in members.iter().filter_map(|&i| lines.get(i)) {
        let Some(product) = l.product else {
            continue;
        };
        units = units.saturating_add(u64::from(l.line.quantity));
        let variant = l.line.variant_id.and_then(|v| product.variant(v));
        if let Some(unit) = variant.and_then(|v| v.weight).or(product.weight) {
            let line_weight = unit
                .0
                .checked_mul(Decimal::from(l.line.quantity))
                .ok_or_else(CartError::overflow)?;
            weight = weight.checked_add(line_weight).ok_or_else(CartError::overflow)?;
        }
    }
    Ok(Shipment {
        item_total,
        units,
        weight,
        digits,
        mode,
    })
}

/// The priced, shippable lines by shipping profile, the default profile (`None`) first.
fn deliveries<'c>(lines: &[LineCalc<'c>]) -> BTreeMap<Option<&'c str>, Vec<usize>> {
    let mut groups: BTreeMap<Option<&'c str>, Vec<usize>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(product) = l.product.filter(|p| p.shippable && l.priced()) {
            groups.entry(product.shipping_profile.as_deref()).or_default().push(i);
        }
    }
    groups
}

/// Delivery dates from the method's `deliveryDays`, counted from `now`.
pub(crate) fn estimate(method: &ShippingMethod, now: Timestamp) -> Option<DeliveryEstimate> {
    let days = method.delivery_days?;
    let min = now.checked_add_days(i64::from(days.min))?;
    let max = now.checked_add_days(i64::from(days.max))?;
    Some(DeliveryEstimate {
        min: min.to_date_string(),
        max: max.to_date_string(),
    })
}

pub(crate) fn compute<'c>(
    cart: &CartState,
    catalog: &'c Catalog,
    lines: &[LineCalc<'c>],
    item_total: i64,
    digits: u32,
    mode: RoundingMode,
    now: Timestamp,
) -> Result<ShippingOutcome<'c>> {
    let mut out = ShippingOutcome {
        deliveries: Vec::new(),
        problems: Vec::new(),
        options: Vec::new(),
    };
    if catalog.shipping_methods().is_empty() {
        return Ok(out);
    }
    let country = cart.tax_country();
    for (profile, members) in deliveries(lines) {
        let shipment = shipment(lines, &members, item_total, digits, mode)?;
        let rate_of = |m: &'c ShippingMethod| {
            m.rate_for(&cart.currency, country)
                .filter(|r| m.ships(profile) && shipment.fits(r))
        };
        for method in catalog.shipping_methods() {
            if let Some(rate) = rate_of(method) {
                out.options.push(ShippingOption {
                    id: method.id.clone(),
                    name: method.name.clone(),
                    price: shipment.price(rate)?,
                    default: method.default,
                    estimated_delivery: estimate(method, now),
                    shipping_profile: profile.map(str::to_string),
                });
            }
        }
        let selected = cart.delivery_method(profile);
        let chosen = match selected {
            Some(id) => catalog.shipping_method(id),
            None => catalog
                .shipping_methods()
                .iter()
                .find(|m| m.default && rate_of(m).is_some()),
        };
        match chosen.and_then(|m| rate_of(m).map(|r| (m, r))) {
            Some((method, rate)) => out.deliveries.push(ShippingCalc {
                method,
                price: shipment.price(rate)?,
                discounts: Vec::new(),
                profile,
                lines: members,
            }),
            None => out.problems.push(ShippingProblem {
                selected: selected.map(str::to_string),
                country: country.map(str::to_string),
                profile: profile.map(str::to_string),
            }),
        }
    }
    Ok(out)
}
