//! Step 7 of the pipeline: the issues of DESIGN §6, line by line in line order, then the cart-level
//! ones. Errors block checkout; warnings (`PRICE_CHANGED`, `PROMO_CODE_NOT_APPLICABLE`) do not.

use super::shipping::ShippingProblem;
use super::tax::Taxer;
use super::view::{CodeState, CodeView, Issue, IssueCode};
use super::{LineCalc, ShippingCalc};
use crate::cart::{broken_rules, rule_message, CartState, CartStatus};
use crate::catalog::{Catalog, Rule, ShippingTax};
use crate::error::Result;
use crate::money::{self, RoundingMode};
use crate::time::Timestamp;
use rustc_hash::FxHashMap;
use serde_json::json;

pub(crate) struct Inputs<'a, 'c> {
    pub cart: &'a CartState,
    pub catalog: &'c Catalog,
    pub lines: &'a [LineCalc<'c>],
    pub taxer: &'a Taxer<'a>,
    pub shipping_problems: &'a [ShippingProblem],
    pub deliveries: &'a [ShippingCalc<'c>],
    pub codes: &'a [CodeView],
    pub digits: u32,
    pub mode: RoundingMode,
    pub now: Timestamp,
}

pub(crate) fn collect(inp: &Inputs) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    let demand = demand_by_item(inp.lines);
    let providers = requirement_providers(inp);
    // A gift line is the promotion's to give: no stock or attribute issue blocks the order for it.
    for l in inp.lines.iter().filter(|l| l.gift_of.is_none()) {
        line_issues(inp, l, &demand, &providers, &mut issues)?;
    }
    for c in &inp.cart.custom_line_items {
        if inp.taxer.rate(Some(&c.tax_category)).is_none() {
            issues.push(
                no_tax_rate(inp.cart)
                    .on_line(&c.id)
                    .with(json!({ "taxCategory": c.tax_category })),
            );
        }
    }
    cart_issues(inp, &mut issues);
    Ok(issues)
}

type ItemKey<'a> = (&'a str, Option<u32>);

/// Total quantity asked of each product variant over all lines (lines differ by attributes).
fn demand_by_item<'a>(lines: &'a [LineCalc]) -> FxHashMap<ItemKey<'a>, u64> {
    let mut demand: FxHashMap<ItemKey, u64> = FxHashMap::default();
    for l in lines.iter().filter(|l| l.gift_of.is_none()) {
        let entry = demand
            .entry((l.line.product_id.as_str(), l.line.variant_id))
            .or_default();
        *entry = entry.saturating_add(u64::from(l.line.quantity));
    }
    demand
}

/// Per catalog rule (by index), for a `requires` rule: the shopper's lines that satisfy its
/// `requires` side, as a count and the first such line. One pass over the lines per rule, so checking
/// every line against every rule stays O(lines × rules) (it was O(lines² × rules)).
struct Providers<'a> {
    count: usize,
    first: Option<&'a str>,
}

fn requirement_providers<'a>(inp: &'a Inputs) -> Vec<Option<Providers<'a>>> {
    inp.catalog
        .rules()
        .iter()
        .map(|rule| match rule {
            Rule::Requires { requires, .. } => {
                // A gift line is not the shopper's choice: it never satisfies a requirement.
                let mut providing = inp
                    .lines
                    .iter()
                    .filter(|o| o.gift_of.is_none())
                    .filter(|o| o.product.is_some_and(|p| requires.matches(p, &o.line.sku)));
                let first = providing.next().map(|o| o.line.id.as_str());
                let count = usize::from(first.is_some()).saturating_add(providing.count());
                Some(Providers { count, first })
            }
            _ => None,
        })
        .collect()
}

fn no_tax_rate(cart: &CartState) -> Issue {
    let country = cart.tax_country().unwrap_or("-");
    Issue::error(
        IssueCode::NoTaxRate,
        format!("no tax rate for {country}; taxed at zero"),
    )
}

fn line_issues(
    inp: &Inputs,
    l: &LineCalc,
    demand: &FxHashMap<ItemKey, u64>,
    providers: &[Option<Providers>],
    out: &mut Vec<Issue>,
) -> Result<()> {
    let line = l.line;
    let Some(product) = l.product.filter(|_| l.priced()) else {
        out.push(
            Issue::error(IssueCode::ProductUnavailable, format!("{} is not available", line.name))
                .on_line(&line.id)
                .with(json!({ "productId": line.product_id, "variantId": line.variant_id })),
        );
        return Ok(());
    };
    let variant = line.variant_id.and_then(|v| product.variant(v));
    let stock = variant.and_then(|v| v.stock).or(product.stock);
    let wanted = demand
        .get(&(line.product_id.as_str(), line.variant_id))
        .copied()
        .unwrap_or(0);
    if let Some(stock) = stock.filter(|&s| wanted > u64::from(s)) {
        out.push(
            Issue::error(
                IssueCode::InventoryUnavailable,
                format!("only {stock} of {} in stock", line.name),
            )
            .on_line(&line.id)
            .with(json!({ "available": stock, "requested": wanted })),
        );
    }
    let (min, max) = (
        product.min_quantity.unwrap_or(1),
        product.max_quantity.unwrap_or(crate::cart::MAX_QUANTITY),
    );
    if line.quantity < min || line.quantity > max {
        out.push(
            Issue::error(
                IssueCode::InvalidQuantity,
                format!("quantity of {} must be from {min} to {max}", line.name),
            )
            .on_line(&line.id)
            .with(json!({ "min": min, "max": max })),
        );
    }
    let missing: Vec<&String> = product
        .required_attributes
        .iter()
        .filter(|a| {
            line.attributes
                .get(*a)
                .is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
        })
        .collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        out.push(
            Issue::error(
                IssueCode::MissingAttribute,
                format!("{} needs {}", line.name, names.join(", ")),
            )
            .on_line(&line.id)
            .with(json!({ "attributes": names })),
        );
    }
    for (index, (rule, provided)) in inp.catalog.rules().iter().zip(providers).enumerate() {
        if let (Rule::Requires { when, .. }, Some(provided)) = (rule, provided) {
            let needs = when.matches(product, &line.sku);
            // Another line provides it: two or more do, or the one that does is not this line.
            let satisfied = provided.count > 1 || (provided.count == 1 && provided.first != Some(line.id.as_str()));
            if needs && !satisfied {
                out.push(
                    Issue::error(IssueCode::RequiresItem, rule_message(rule))
                        .on_line(&line.id)
                        .with(json!({ "rule": index })),
                );
            }
        }
    }
    if inp.taxer.rate(Some(&product.tax_category)).is_none() {
        out.push(
            no_tax_rate(inp.cart)
                .on_line(&line.id)
                .with(json!({ "taxCategory": product.tax_category })),
        );
    }
    if let Some(change) = line.price_change {
        let old = money::to_minor(change.old.0, inp.digits, inp.mode)?;
        let new = money::to_minor(change.new.0, inp.digits, inp.mode)?;
        out.push(
            Issue::warning(IssueCode::PriceChanged, format!("the price of {} changed", line.name))
                .on_line(&line.id)
                .with(json!({ "old": old, "new": new })),
        );
    }
    Ok(())
}

/// `NO_SHIPPING_METHOD` for one delivery; `details.shippingProfile` names a delivery other than the
/// default one.
fn no_shipping_method(cart: &CartState, problem: &ShippingProblem) -> Issue {
    let country = problem.country.as_deref().unwrap_or("-");
    let what = match &problem.profile {
        Some(profile) => format!(" the {profile} items"),
        None => String::new(),
    };
    let message = match &problem.selected {
        Some(id) => format!(
            "shipping method {id} does not deliver{what} to {country} in {}",
            cart.currency
        ),
        None => format!("no shipping method delivers{what} to {country} in {}", cart.currency),
    };
    let mut details = json!({ "shippingMethodId": problem.selected, "country": problem.country });
    if let (Some(profile), Some(map)) = (&problem.profile, details.as_object_mut()) {
        map.insert("shippingProfile".into(), json!(profile));
    }
    Issue::error(IssueCode::NoShippingMethod, message).with(details)
}

fn cart_issues(inp: &Inputs, out: &mut Vec<Issue>) {
    let cart = inp.cart;
    if cart.line_items.is_empty() {
        out.push(Issue::error(IssueCode::EmptyCart, "the cart is empty"));
    }
    for rule in broken_rules(cart, inp.catalog) {
        out.push(Issue::error(IssueCode::IncompatibleItems, rule_message(rule)));
    }
    for problem in inp.shipping_problems {
        out.push(no_shipping_method(cart, problem));
    }
    for ship in inp.deliveries {
        // A price taxed by the lines' rates needs the category's rate only when no line has one.
        let by_lines = ship.method.tax_type != ShippingTax::Category
            && inp
                .lines
                .iter()
                .any(|l| l.current() > 0 && inp.taxer.rate(l.product.map(|p| p.tax_category.as_str())).is_some());
        if !by_lines && inp.taxer.rate(Some(&ship.method.tax_category)).is_none() {
            out.push(no_tax_rate(cart).with(json!({ "shippingMethodId": ship.method.id })));
        }
    }
    if cart.is_expired(inp.now) {
        out.push(
            Issue::error(IssueCode::CartExpired, "the cart has expired")
                .with(json!({ "expiresAt": cart.expires_at() })),
        );
    }
    if cart.status != CartStatus::Active {
        out.push(Issue::error(
            IssueCode::CartNotActive,
            format!("the cart is {}", cart.status.as_str()),
        ));
    }
    for code in inp.codes {
        if code.state != CodeState::Applied {
            out.push(
                Issue::warning(
                    IssueCode::PromoCodeNotApplicable,
                    format!("code {} does not apply", code.code),
                )
                .with(json!({ "code": code.code, "state": code.state })),
            );
        }
    }
}
