//! Validation of a cart that did not come from actions: a restored snapshot (localStorage, another
//! tab, `Cart.fromSnapshot`). The checksum of a blob only catches accidents; a person or an extension
//! editing storage can write any cart with a valid checksum. So a restored cart passes the same checks
//! actions enforce — texts, currency, country, locale, quantities, attributes, line and code limits —
//! plus what only a stored cart can get wrong (a version or id counter JavaScript cannot represent,
//! duplicate ids). Catalog-dependent limits (a product's own min/max, stock) are not checked here: a
//! catalog may change after a cart was saved, and the view reports those as issues.

use super::{
    check_address, check_country, check_locale, check_quantity, check_text, clean_attributes, CartState, MAX_CODES,
    MAX_LINES, MAX_SAFE_INTEGER,
};
use crate::catalog::{Amount, MAX_AMOUNT};
use crate::error::{CartError, Result};
use crate::money;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeSet;

/// The longest time to live a stored cart may carry (ten years); beyond it `expiresAt` is meaningless.
const MAX_TTL_SECONDS: u64 = 10 * 366 * 24 * 3600;

impl CartState {
    /// Checks a cart that was not built by actions (see the module docs). The first problem is
    /// returned with the code an action would have got and `details.field` naming the place.
    pub fn validate(&self) -> Result<()> {
        check_text("id", &self.id)?;
        counter("version", self.version)?;
        if !money::is_known_currency(&self.currency) {
            return Err(CartError::invalid_field(
                "currency",
                format!("unknown currency {}", self.currency),
            ));
        }
        if let Some(c) = &self.country {
            check_country("country", c)?;
        }
        if let Some(l) = &self.locale {
            check_locale(l)?;
        }
        self.validate_customer()?;
        check_address("shippingAddress", &self.shipping_address)?;
        check_address("billingAddress", &self.billing_address)?;
        optional_texts(&[
            ("shippingMethodId", &self.shipping_method_id),
            ("paymentMethodId", &self.payment_method_id),
            ("catalogVersion", &self.catalog_version),
        ])?;
        // One delivery per shipping profile: a restored cart holds at most as many as the catalog
        // could define, each a text like any other.
        if self.delivery_methods.len() > MAX_LINES {
            return Err(CartError::invalid_field("deliveryMethods", "too many delivery methods"));
        }
        for (profile, method) in &self.delivery_methods {
            check_text("deliveryMethods", profile)?;
            check_text("deliveryMethods", method)?;
        }
        if self.ttl_seconds == 0 || self.ttl_seconds > MAX_TTL_SECONDS {
            return Err(CartError::invalid_field(
                "ttlSeconds",
                format!("ttlSeconds must be from 1 to {MAX_TTL_SECONDS}"),
            ));
        }
        if self.line_count() > MAX_LINES {
            return Err(CartError::invalid_field(
                "lineItems",
                format!("a cart holds at most {MAX_LINES} lines"),
            ));
        }
        self.validate_lines()?;
        self.validate_codes()
    }

    fn validate_customer(&self) -> Result<()> {
        let c = &self.customer;
        optional_texts(&[
            ("customer.id", &c.id),
            ("customer.email", &c.email),
            ("customer.group", &c.group),
        ])?;
        if c.email.as_ref().is_some_and(|e| !e.contains('@')) {
            return Err(CartError::invalid_field(
                "customer.email",
                "email: expected an e-mail address",
            ));
        }
        Ok(())
    }

    fn validate_lines(&self) -> Result<()> {
        let mut ids = BTreeSet::new();
        for (i, line) in self.line_items.iter().enumerate() {
            let at = |f: &str| format!("lineItems[{i}].{f}");
            unique_id(&mut ids, &line.id, &at("id"))?;
            check_text(&at("productId"), &line.product_id)?;
            check_text(&at("sku"), &line.sku)?;
            check_text(&at("name"), &line.name)?;
            check_quantity(i64::from(line.quantity)).map_err(|e| e.with_details(json!({ "field": at("quantity") })))?;
            if clean_attributes(&line.attributes)? != *line.attributes {
                return Err(CartError::invalid_field(
                    &at("attributes"),
                    "attributes: null values are not stored",
                ));
            }
            if let Some(seen) = line.seen_price {
                amount_in_range(&at("seenPrice"), seen)?;
            }
            if let Some(change) = line.price_change {
                amount_in_range(&at("priceChange.old"), change.old)?;
                amount_in_range(&at("priceChange.new"), change.new)?;
            }
            below_counter(&line.id, "li_", self.next_line_id, &at("id"))?;
        }
        for (i, line) in self.custom_line_items.iter().enumerate() {
            let at = |f: &str| format!("customLineItems[{i}].{f}");
            unique_id(&mut ids, &line.id, &at("id"))?;
            check_text(&at("name"), &line.name)?;
            check_text(&at("taxCategory"), &line.tax_category)?;
            check_quantity(i64::from(line.quantity)).map_err(|e| e.with_details(json!({ "field": at("quantity") })))?;
            amount_in_range(&at("amount"), line.amount)?;
            below_counter(&line.id, "cli_", self.next_custom_line_id, &at("id"))?;
        }
        counter("nextLineId", self.next_line_id)?;
        counter("nextCustomLineId", self.next_custom_line_id)
    }

    fn validate_codes(&self) -> Result<()> {
        if self.discount_codes.len() > MAX_CODES {
            return Err(CartError::invalid_field(
                "discountCodes",
                format!("a cart holds at most {MAX_CODES} discount codes"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, code) in self.discount_codes.iter().enumerate() {
            check_text(&format!("discountCodes[{i}]"), code)?;
            if !seen.insert(code.to_ascii_uppercase()) {
                return Err(CartError::invalid_field(
                    &format!("discountCodes[{i}]"),
                    format!("code {code} is listed twice"),
                ));
            }
        }
        Ok(())
    }
}

/// The texts that are set must be texts as actions accept them.
fn optional_texts(fields: &[(&str, &Option<String>)]) -> Result<()> {
    for (field, value) in fields {
        if let Some(v) = value {
            check_text(field, v)?;
        }
    }
    Ok(())
}

/// A counter JavaScript must represent exactly, at least 1 for id counters (0 is allowed for `version`).
fn counter(field: &str, value: u64) -> Result<()> {
    let min = u64::from(field != "version");
    if value < min || value > MAX_SAFE_INTEGER {
        return Err(CartError::invalid_field(
            field,
            format!("{field} must be from {min} to {MAX_SAFE_INTEGER}, got {value}"),
        ));
    }
    Ok(())
}

fn unique_id(ids: &mut BTreeSet<String>, id: &str, field: &str) -> Result<()> {
    check_text(field, id)?;
    if !ids.insert(id.to_string()) {
        return Err(CartError::invalid_field(field, format!("line id {id} is used twice")));
    }
    Ok(())
}

/// An id of the form `<prefix>N` must be below the cart's counter, or a new line could reuse it.
fn below_counter(id: &str, prefix: &str, next: u64, field: &str) -> Result<()> {
    match id.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()) {
        Some(n) if n >= next => Err(CartError::invalid_field(
            field,
            format!("line id {id} is not below the id counter {next}"),
        )),
        _ => Ok(()),
    }
}

fn amount_in_range(field: &str, amount: Amount) -> Result<()> {
    if amount.0 < Decimal::ZERO || amount.0 > MAX_AMOUNT {
        return Err(CartError::invalid_field(
            field,
            format!("{field} must be from 0 to {MAX_AMOUNT}"),
        ));
    }
    Ok(())
}
