//! Step 4 of the pipeline: which shipping method, at what price (DESIGN §3). Shipping exists only when
//! some priced line ships and the catalog has methods; its price depends on the item total after item
//! discounts (`freeAbove`, cart-value tiers), which is why it runs after the item promotions.

use super::view::{DeliveryEstimate, ShippingOption};
use super::{LineCalc, ShippingCalc};
use crate::cart::CartState;
use crate::catalog::{Catalog, ShippingMethod, ShippingRate};
use crate::error::Result;
use crate::money::{self, RoundingMode};
use crate::time::Timestamp;

/// Why there is no shipping although the cart needs it (issue `NO_SHIPPING_METHOD`).
pub(crate) struct ShippingProblem {
    /// The selected method, when it is the one that does not serve the destination.
    pub selected: Option<String>,
    pub country: Option<String>,
}

pub(crate) struct ShippingOutcome<'c> {
    pub calc: Option<ShippingCalc<'c>>,
    pub problem: Option<ShippingProblem>,
    pub options: Vec<ShippingOption>,
}

/// The price of a rate for an item total: free from `freeAbove`, else the highest tier reached, else
/// the base price. Comparisons are `>=` on minor units.
fn rate_price(rate: &ShippingRate, item_total: i64, digits: u32, mode: RoundingMode) -> Result<i64> {
    if let Some(free) = rate.free_above {
        if item_total >= money::to_minor(free.0, digits, mode)? {
            return Ok(0);
        }
    }
    let mut best: Option<(i64, i64)> = None;
    for tier in &rate.tiers {
        let min = money::to_minor(tier.min_cart_value.0, digits, mode)?;
        if item_total >= min && best.is_none_or(|(m, _)| min > m) {
            best = Some((min, money::to_minor(tier.price.0, digits, mode)?));
        }
    }
    match best {
        Some((_, price)) => Ok(price),
        None => money::to_minor(rate.price.0, digits, mode),
    }
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
    lines: &[LineCalc],
    item_total: i64,
    digits: u32,
    mode: RoundingMode,
    now: Timestamp,
) -> Result<ShippingOutcome<'c>> {
    let none = ShippingOutcome {
        calc: None,
        problem: None,
        options: Vec::new(),
    };
    let ships = lines
        .iter()
        .any(|l| l.priced() && l.product.is_some_and(|p| p.shippable));
    if !ships || catalog.shipping_methods().is_empty() {
        return Ok(none);
    }
    let country = cart.tax_country();
    let mut options = Vec::new();
    for method in catalog.shipping_methods() {
        if let Some(rate) = method.rate_for(&cart.currency, country) {
            options.push(ShippingOption {
                id: method.id.clone(),
                name: method.name.clone(),
                price: rate_price(rate, item_total, digits, mode)?,
                default: method.default,
                estimated_delivery: estimate(method, now),
            });
        }
    }
    let chosen = match cart.shipping_method_id.as_deref() {
        Some(id) => catalog.shipping_method(id),
        None => catalog
            .shipping_methods()
            .iter()
            .find(|m| m.default && m.rate_for(&cart.currency, country).is_some()),
    };
    let served = chosen.and_then(|m| m.rate_for(&cart.currency, country).map(|r| (m, r)));
    match served {
        Some((method, rate)) => Ok(ShippingOutcome {
            calc: Some(ShippingCalc {
                method,
                price: rate_price(rate, item_total, digits, mode)?,
                discounts: Vec::new(),
            }),
            problem: None,
            options,
        }),
        None => Ok(ShippingOutcome {
            calc: None,
            problem: Some(ShippingProblem {
                selected: cart.shipping_method_id.clone(),
                country: country.map(str::to_string),
            }),
            options,
        }),
    }
}
