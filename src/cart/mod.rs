//! The cart state and the update actions that are the only way to change it (DESIGN §6).
//!
//! `apply` runs a list of actions atomically on a copy: all succeed and the version goes up by one, or
//! one fails and the cart is untouched. The state holds what the shopper chose, never computed prices;
//! `pricing::price` derives everything else, so a cart can be repriced against any catalog.

use crate::catalog::{Amount, Catalog, Product, Rule};
use crate::error::{CartError, ErrorCode, Result};
use crate::money;
use crate::pricing::select_price;
use crate::text::Text;
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

mod validate;

/// Largest quantity of one line (and of a custom line).
pub const MAX_QUANTITY: u32 = 9999;
/// Largest number of lines (line items and custom line items together).
pub const MAX_LINES: usize = 250;
/// Largest number of discount codes on one cart (commercetools).
pub const MAX_CODES: usize = 10;
/// The largest integer JavaScript represents exactly (`Number.MAX_SAFE_INTEGER`): no version, id
/// counter or amount a view carries may exceed it (DESIGN §10).
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;
/// Default time to live after the last change: 30 days.
pub const DEFAULT_TTL_SECONDS: u64 = 30 * 24 * 3600;
/// Attribute limits, so a cart blob stays small enough for localStorage.
const MAX_ATTRIBUTES: usize = 50;
const MAX_TEXT: usize = 1000;

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CartStatus {
    #[default]
    Active,
    /// Converted to an order; read-only.
    Ordered,
    /// Absorbed into another cart by `merge`; read-only.
    Merged,
}

impl CartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CartStatus::Active => "active",
            CartStatus::Ordered => "ordered",
            CartStatus::Merged => "merged",
        }
    }
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CustomerView"))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: Option<String>,
    pub email: Option<String>,
    pub group: Option<String>,
}

/// A postal address (commercetools BaseAddress). Only `country` is required; it drives tax.
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_street_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Address {
    /// Every optional text of the address, by its JSON name.
    fn text_fields(&self) -> [(&'static str, Option<&String>); 13] {
        [
            ("firstName", self.first_name.as_ref()),
            ("lastName", self.last_name.as_ref()),
            ("company", self.company.as_ref()),
            ("streetName", self.street_name.as_ref()),
            ("streetNumber", self.street_number.as_ref()),
            ("additionalStreetInfo", self.additional_street_info.as_ref()),
            ("postalCode", self.postal_code.as_ref()),
            ("city", self.city.as_ref()),
            ("region", self.region.as_ref()),
            ("state", self.state.as_ref()),
            ("phone", self.phone.as_ref()),
            ("email", self.email.as_ref()),
            ("country", Some(&self.country)),
        ]
    }
}

/// A catalog price that moved under a line (`PRICE_CHANGED`), in major units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChange {
    pub old: Amount,
    pub new: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub id: Text,
    pub product_id: Text,
    pub variant_id: Option<u32>,
    /// Kept so the line can still be shown if the product leaves the catalog.
    pub sku: Text,
    pub name: Text,
    pub quantity: u32,
    #[serde(default)]
    pub attributes: Attributes,
    pub added_at: Timestamp,
    /// The unit price the shopper last saw; a new catalog is compared against it.
    #[serde(default)]
    pub seen_price: Option<Amount>,
    #[serde(default)]
    pub price_change: Option<PriceChange>,
}

/// A line's attributes, keys in sorted order. Shared: every price copies them into the line's view, and
/// every change copies the cart; a shared map makes both a reference count.
pub type Attributes = std::sync::Arc<BTreeMap<String, Value>>;

impl LineItem {
    /// Same product, variant and attributes: such lines stack into one.
    pub fn is_same_item(
        &self,
        product_id: &str,
        variant_id: Option<u32>,
        attributes: &BTreeMap<String, Value>,
    ) -> bool {
        self.product_id == product_id && self.variant_id == variant_id && *self.attributes == *attributes
    }
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CustomLineKind {
    #[default]
    Custom,
    /// A credit: its amount is subtracted.
    Credit,
}

/// A line not backed by a product (a fee, a credit). Promotions never touch it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomLineItem {
    pub id: String,
    pub name: String,
    /// Unit amount in major units, in the catalog's price terms; always >= 0 (a credit negates it).
    pub amount: Amount,
    pub tax_category: String,
    pub quantity: u32,
    pub kind: CustomLineKind,
}

/// How `merge` combines a line both carts hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MergeMode {
    /// The larger of the two quantities (re-adding what is already there does not double it).
    #[default]
    Max,
    Sum,
}

/// What `merge` did with the other cart's content.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeReport {
    /// Lines of the other cart that could not be taken over, with the reason.
    pub skipped: Vec<SkippedLine>,
    /// Discount codes that could not be taken over.
    pub skipped_codes: Vec<String>,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedLine {
    pub line_item_id: String,
    #[cfg_attr(test, ts(type = "CartErrorCode"))]
    pub code: ErrorCode,
    pub message: String,
}

/// Everything needed to start a cart. Ids come from the caller: the core generates none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCart {
    pub id: String,
    pub currency: String,
    pub country: Option<String>,
    pub locale: Option<String>,
    pub customer_id: Option<String>,
    pub customer_group: Option<String>,
    pub ttl_seconds: Option<u64>,
}

/// The persisted cart: what the shopper chose, never what it costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartState {
    pub(crate) id: String,
    pub(crate) version: u64,
    pub(crate) status: CartStatus,
    pub(crate) currency: String,
    pub(crate) country: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) customer: Customer,
    pub(crate) line_items: Vec<LineItem>,
    pub(crate) custom_line_items: Vec<CustomLineItem>,
    pub(crate) discount_codes: Vec<String>,
    pub(crate) shipping_address: Option<Address>,
    pub(crate) billing_address: Option<Address>,
    /// The method of the default profile's delivery (DESIGN §6).
    pub(crate) shipping_method_id: Option<String>,
    /// The methods of the other deliveries, by shipping profile (`Product::shipping_profile`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) delivery_methods: BTreeMap<String, String>,
    pub(crate) payment_method_id: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) ttl_seconds: u64,
    pub(crate) catalog_version: Option<String>,
    pub(crate) next_line_id: u64,
    pub(crate) next_custom_line_id: u64,
}

/// An update action (DESIGN §6; names follow commercetools): an element of `cart.apply([…])`. In
/// Rust, read one from JSON with [`Action::from_value`].
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CartActionData", optional_fields))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Action {
    /// Same product + variant + attributes stacks onto the existing line.
    AddLineItem {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sku: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(optional = nullable))]
        variant_id: Option<u32>,
        #[serde(default = "one", deserialize_with = "quantity")]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        quantity: i64,
        #[serde(default)]
        #[cfg_attr(test, ts(as = "Option<crate::typescript::AttributesTs>", optional))]
        attributes: BTreeMap<String, Value>,
    },
    /// Without `quantity` the whole line goes.
    RemoveLineItem {
        line_item_id: String,
        #[serde(
            default,
            deserialize_with = "optional_quantity",
            skip_serializing_if = "Option::is_none"
        )]
        quantity: Option<i64>,
    },
    /// 0 removes the line.
    ChangeLineItemQuantity {
        line_item_id: String,
        #[serde(deserialize_with = "quantity")]
        quantity: i64,
    },
    /// Replaces the line's attributes; a `null` value is dropped.
    SetLineItemAttributes {
        line_item_id: String,
        #[cfg_attr(test, ts(type = "Attributes"))]
        attributes: BTreeMap<String, Value>,
    },
    AddCustomLineItem {
        name: String,
        amount: Amount,
        tax_category: String,
        #[serde(default = "one", deserialize_with = "quantity")]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        quantity: i64,
        #[serde(default)]
        #[cfg_attr(test, ts(as = "Option<_>", optional))]
        kind: CustomLineKind,
    },
    RemoveCustomLineItem {
        id: String,
    },
    AddDiscountCode {
        code: String,
    },
    RemoveDiscountCode {
        code: String,
    },
    SetShippingAddress {
        #[serde(default)]
        #[cfg_attr(test, ts(optional = nullable))]
        address: Option<Address>,
    },
    SetBillingAddress {
        #[serde(default)]
        #[cfg_attr(test, ts(optional = nullable))]
        address: Option<Address>,
    },
    /// Chooses the method of the delivery of the method's shipping profile; `null` clears the choice
    /// of `shippingProfile`'s delivery (absent: the default profile's).
    SetShippingMethod {
        #[serde(default)]
        #[cfg_attr(test, ts(optional = nullable))]
        shipping_method_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipping_profile: Option<String>,
    },
    SetPaymentMethod {
        #[serde(default)]
        #[cfg_attr(test, ts(optional = nullable))]
        payment_method_id: Option<String>,
    },
    /// A field left out stays as it is; `null` clears it.
    SetCustomer {
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(optional))]
        customer_id: Option<Option<String>>,
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(optional))]
        email: Option<Option<String>>,
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(optional))]
        customer_group: Option<Option<String>>,
    },
    SetCountry {
        #[serde(default)]
        #[cfg_attr(test, ts(optional = nullable))]
        country: Option<String>,
    },
    SetLocale {
        #[serde(default)]
        #[cfg_attr(test, ts(optional = nullable))]
        locale: Option<String>,
    },
    /// Only on a cart with no lines.
    SetCurrency {
        currency: String,
    },
    AcknowledgePriceChanges {},
    Clear {},
}

fn one() -> i64 {
    1
}

/// Quantities arrive as JSON numbers; a fraction or an out-of-range number becomes `i64::MIN`, which no
/// check accepts, so the refusal is `INVALID_QUANTITY` (not a generic parse error).
fn quantity<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    Ok(n.as_i64().unwrap_or(i64::MIN))
}

fn optional_quantity<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    let n = Option::<serde_json::Number>::deserialize(d)?;
    Ok(n.map(|n| n.as_i64().unwrap_or(i64::MIN)))
}

/// Distinguishes a field set to `null` (`Some(None)`) from one left out (`None`, via `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl Action {
    /// Reads one action from JSON; anything malformed is `INVALID_REQUEST` naming the field.
    pub fn from_value(value: Value) -> Result<Action> {
        crate::tracked::from_value(&value).map_err(|e| {
            let inner = e.error.to_string();
            let message = if e.path == "." {
                inner
            } else {
                format!("{}: {inner}", e.path)
            };
            CartError::invalid_request(message).with_details(json!({ "field": e.path }))
        })
    }

    /// Reads a list of actions (`[{action}, ...]`).
    pub fn list_from_value(value: Value) -> Result<Vec<Action>> {
        match value {
            Value::Array(items) => items.into_iter().map(Action::from_value).collect(),
            _ => Err(CartError::invalid_request("expected an array of actions")),
        }
    }

    /// The same action with its line or custom line id replaced where `ids` maps it (a line created in
    /// another tab at the same time took the id this one showed; `docs/tabs.md`).
    pub fn with_line_ids(&self, ids: &BTreeMap<String, String>) -> Action {
        let mut action = self.clone();
        let id = match &mut action {
            Action::RemoveLineItem { line_item_id, .. }
            | Action::ChangeLineItemQuantity { line_item_id, .. }
            | Action::SetLineItemAttributes { line_item_id, .. } => line_item_id,
            Action::RemoveCustomLineItem { id } => id,
            _ => return action,
        };
        if let Some(mapped) = ids.get(id.as_str()) {
            id.clone_from(mapped);
        }
        action
    }

    /// The line an action touches, if any (a touched line drops its `PRICE_CHANGED` warning).
    fn line_item_id(&self) -> Option<&str> {
        match self {
            Action::RemoveLineItem { line_item_id, .. }
            | Action::ChangeLineItemQuantity { line_item_id, .. }
            | Action::SetLineItemAttributes { line_item_id, .. } => Some(line_item_id),
            _ => None,
        }
    }
}

fn err(code: ErrorCode, message: impl Into<String>) -> CartError {
    CartError::new(code, message)
}

/// `version + 1`, refused beyond [`MAX_SAFE_INTEGER`] (a version JavaScript could no longer compare).
fn next_version(version: u64) -> Result<u64> {
    version
        .checked_add(1)
        .filter(|v| *v <= MAX_SAFE_INTEGER)
        .ok_or_else(CartError::overflow)
}

fn check_quantity(q: i64) -> Result<u32> {
    match u32::try_from(q) {
        Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Ok(q),
        _ => Err(
            err(ErrorCode::InvalidQuantity, "quantity must be an integer from 1 to 9999")
                .with_details(json!({ "min": 1, "max": MAX_QUANTITY })),
        ),
    }
}

fn check_country(field: &str, country: &str) -> Result<()> {
    if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(
            CartError::invalid_request(format!("{field}: expected an ISO 3166-1 alpha-2 country code"))
                .with_details(json!({ "field": field, "value": country })),
        )
    }
}

fn check_text(field: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() || text.len() > MAX_TEXT {
        return Err(
            CartError::invalid_request(format!("{field}: must be 1 to {MAX_TEXT} characters"))
                .with_details(json!({ "field": field })),
        );
    }
    Ok(())
}

/// BCP 47-ish: a 2–3 letter language, then subtags of 1–8 letters or digits.
fn check_locale(locale: &str) -> Result<()> {
    let mut parts = locale.split(['-', '_']);
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if lang_ok && rest_ok {
        Ok(())
    } else {
        Err(
            CartError::invalid_request("locale: expected a BCP 47 language tag such as de-DE")
                .with_details(json!({ "field": "locale", "value": locale })),
        )
    }
}

/// Attribute values are scalars (string, number, boolean); `null` means "not set" and is dropped.
fn clean_attributes(attributes: &BTreeMap<String, Value>) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for (key, value) in attributes {
        check_text("attributes", key)?;
        match value {
            Value::Null => continue,
            Value::String(s) if s.len() > MAX_TEXT => {
                return Err(CartError::invalid_request(format!("attributes.{key}: too long")))
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            _ => {
                return Err(CartError::invalid_request(format!(
                    "attributes.{key}: expected a string, number or boolean"
                ))
                .with_details(json!({ "field": format!("attributes.{key}") })))
            }
        }
        out.insert(key.clone(), value.clone());
    }
    if out.len() > MAX_ATTRIBUTES {
        return Err(CartError::invalid_request(format!(
            "at most {MAX_ATTRIBUTES} attributes"
        )));
    }
    Ok(out)
}

fn product_limits(product: &Product) -> (u32, u32) {
    (
        product.min_quantity.unwrap_or(1),
        product.max_quantity.unwrap_or(MAX_QUANTITY).min(MAX_QUANTITY),
    )
}

impl CartState {
    /// A new, empty, active cart at version 0.
    pub fn new(new: NewCart, catalog: &Catalog, now: Timestamp) -> Result<CartState> {
        check_text("id", &new.id)?;
        if !money::is_known_currency(&new.currency) {
            return Err(CartError::invalid_request(format!("unknown currency {}", new.currency))
                .with_details(json!({ "field": "currency", "value": new.currency })));
        }
        if let Some(c) = &new.country {
            check_country("country", c)?;
        }
        if let Some(l) = &new.locale {
            check_locale(l)?;
        }
        Ok(CartState {
            id: new.id,
            currency: new.currency,
            country: new.country,
            locale: new.locale,
            customer: Customer {
                id: new.customer_id,
                email: None,
                group: new.customer_group,
            },
            ttl_seconds: new.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS),
            catalog_version: catalog.version().map(str::to_string),
            ..CartState::blank(now)
        })
    }

    /// An empty cart with no id, for a value that is replaced before anyone sees it.
    pub(crate) fn blank(now: Timestamp) -> CartState {
        CartState {
            id: String::new(),
            version: 0,
            status: CartStatus::Active,
            currency: "EUR".to_string(),
            country: None,
            locale: None,
            customer: Customer::default(),
            line_items: Vec::new(),
            custom_line_items: Vec::new(),
            discount_codes: Vec::new(),
            shipping_address: None,
            billing_address: None,
            shipping_method_id: None,
            delivery_methods: BTreeMap::new(),
            payment_method_id: None,
            created_at: now,
            updated_at: now,
            ttl_seconds: DEFAULT_TTL_SECONDS,
            catalog_version: None,
            next_line_id: 1,
            next_custom_line_id: 1,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn status(&self) -> CartStatus {
        self.status
    }
    pub fn currency(&self) -> &str {
        &self.currency
    }
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }
    pub fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }
    pub fn customer(&self) -> &Customer {
        &self.customer
    }
    pub fn line_items(&self) -> &[LineItem] {
        &self.line_items
    }
    pub fn custom_line_items(&self) -> &[CustomLineItem] {
        &self.custom_line_items
    }
    pub fn discount_codes(&self) -> &[String] {
        &self.discount_codes
    }
    pub fn shipping_address(&self) -> Option<&Address> {
        self.shipping_address.as_ref()
    }
    pub fn billing_address(&self) -> Option<&Address> {
        self.billing_address.as_ref()
    }
    pub fn shipping_method_id(&self) -> Option<&str> {
        self.shipping_method_id.as_deref()
    }
    /// The chosen method of the delivery of `profile` (`None`: the default profile).
    pub fn delivery_method(&self, profile: Option<&str>) -> Option<&str> {
        match profile {
            None => self.shipping_method_id.as_deref(),
            Some(p) => self.delivery_methods.get(p).map(String::as_str),
        }
    }
    /// The chosen methods of the deliveries other than the default profile's, by profile.
    pub fn delivery_methods(&self) -> &BTreeMap<String, String> {
        &self.delivery_methods
    }
    pub fn payment_method_id(&self) -> Option<&str> {
        self.payment_method_id.as_deref()
    }
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    pub fn catalog_version(&self) -> Option<&str> {
        self.catalog_version.as_deref()
    }
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// `updatedAt + ttl`; saturates instead of overflowing.
    pub fn expires_at(&self) -> Timestamp {
        let ttl_ms = i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX).saturating_mul(1000);
        Timestamp::from_millis(self.updated_at.millis().saturating_add(ttl_ms))
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.status == CartStatus::Active && now >= self.expires_at()
    }

    /// The country taxes and shipping are computed for: the shipping address's, else the cart's.
    pub fn tax_country(&self) -> Option<&str> {
        self.shipping_address
            .as_ref()
            .map(|a| a.country.as_str())
            .or(self.country.as_deref())
    }

    /// Changes the time to live; the cart then expires `ttl_seconds` after its last change.
    pub fn set_ttl(&mut self, ttl_seconds: u64) {
        self.ttl_seconds = ttl_seconds;
    }

    fn ensure_active(&self, now: Timestamp) -> Result<()> {
        if self.status != CartStatus::Active {
            return Err(err(
                ErrorCode::CartNotActive,
                format!("the cart is {}", self.status.as_str()),
            )
            .with_details(json!({ "status": self.status.as_str() })));
        }
        if self.is_expired(now) {
            return Err(err(ErrorCode::CartExpired, "the cart has expired")
                .with_details(json!({ "expiresAt": self.expires_at() })));
        }
        Ok(())
    }

    /// Runs `actions` in order, atomically: all succeed and `version` rises by one, or the first
    /// refusal is returned (with `details.actionIndex`) and the cart is left exactly as it was.
    /// A batch that changes nothing (an empty list, a quantity set to its current value) leaves the
    /// cart as it is, version included.
    pub fn apply(&mut self, catalog: &Catalog, actions: &[Action], now: Timestamp) -> Result<()> {
        self.apply_expecting(catalog, actions, now, None).map(|_| ())
    }

    /// [`CartState::apply`] guarded by the version the caller last saw: a cart at another version
    /// refuses with `CONCURRENT_MODIFICATION` (details: `expectedVersion`, `version`). Returns whether
    /// the cart changed.
    pub fn apply_expecting(
        &mut self,
        catalog: &Catalog,
        actions: &[Action],
        now: Timestamp,
        expected_version: Option<u64>,
    ) -> Result<bool> {
        if let Some(expected) = expected_version.filter(|e| *e != self.version) {
            return Err(err(
                ErrorCode::ConcurrentModification,
                format!("the cart is at version {}, not {expected}", self.version),
            )
            .with_details(json!({ "expectedVersion": expected, "version": self.version })));
        }
        self.ensure_active(now)?;
        let mut next = self.clone();
        for (index, action) in actions.iter().enumerate() {
            next.apply_one(catalog, action, now).map_err(|e| at_action(e, index))?;
        }
        if next == *self {
            return Ok(false);
        }
        next.check_rules(self, catalog)?;
        next.commit(catalog, now)?;
        *self = next;
        Ok(true)
    }

    fn commit(&mut self, catalog: &Catalog, now: Timestamp) -> Result<()> {
        self.refresh_seen_prices(catalog, now);
        self.version = next_version(self.version)?;
        self.updated_at = now;
        Ok(())
    }

    /// `setShippingMethod`: a method is chosen for the delivery of its own shipping profile; `null`
    /// clears the choice of `profile`'s delivery.
    fn set_shipping_method(&mut self, catalog: &Catalog, id: Option<&str>, profile: Option<&str>) -> Result<()> {
        let Some(id) = id else {
            match profile {
                None => self.shipping_method_id = None,
                Some(p) => {
                    self.delivery_methods.remove(p);
                }
            }
            return Ok(());
        };
        let Some(method) = catalog.shipping_method(id) else {
            return Err(CartError::invalid_request(format!("unknown shipping method {id}"))
                .with_details(json!({ "field": "shippingMethodId", "value": id })));
        };
        if let Some(p) = profile.filter(|p| !method.ships(Some(p))) {
            return Err(
                CartError::invalid_request(format!("shipping method {id} does not ship the profile {p}"))
                    .with_details(json!({ "field": "shippingProfile", "value": p })),
            );
        }
        match method.shipping_profile.as_deref() {
            None => self.shipping_method_id = Some(id.to_string()),
            Some(p) => {
                if !self.delivery_methods.contains_key(p) && self.delivery_methods.len() >= MAX_LINES {
                    return Err(
                        CartError::invalid_request("a cart holds at most one method per line's profile")
                            .with_details(json!({ "field": "shippingProfile", "value": p })),
                    );
                }
                self.delivery_methods.insert(p.to_string(), id.to_string());
            }
        }
        Ok(())
    }

    fn apply_one(&mut self, catalog: &Catalog, action: &Action, now: Timestamp) -> Result<()> {
        if let Some(id) = action.line_item_id() {
            self.line_mut(id)?.price_change = None;
        }
        match action {
            Action::AddLineItem {
                product_id,
                sku,
                variant_id,
                quantity,
                attributes,
            } => {
                let (product, variant_id) = resolve_item(catalog, product_id.as_deref(), sku.as_deref(), *variant_id)?;
                self.add_line(catalog, product, variant_id, *quantity, attributes, now)
            }
            Action::RemoveLineItem { line_item_id, quantity } => {
                self.remove_line(catalog, line_item_id, *quantity, now)
            }
            Action::ChangeLineItemQuantity { line_item_id, quantity } => {
                if *quantity == 0 {
                    return self.remove_line(catalog, line_item_id, None, now);
                }
                let q = check_quantity(*quantity)?;
                self.set_line_quantity(catalog, line_item_id, q, now)
            }
            Action::SetLineItemAttributes {
                line_item_id,
                attributes,
            } => self.set_attributes(catalog, line_item_id, attributes, now),
            Action::AddCustomLineItem {
                name,
                amount,
                tax_category,
                quantity,
                kind,
            } => self.add_custom_line(catalog, name, *amount, tax_category, *quantity, *kind),
            Action::RemoveCustomLineItem { id } => {
                let before = self.custom_line_items.len();
                self.custom_line_items.retain(|c| &c.id != id);
                if self.custom_line_items.len() == before {
                    return Err(err(ErrorCode::ItemNotFound, format!("no custom line item {id}"))
                        .with_details(json!({ "lineItemId": id })));
                }
                Ok(())
            }
            Action::AddDiscountCode { code } => self.add_code(catalog, code),
            Action::RemoveDiscountCode { code } => {
                self.discount_codes.retain(|c| !c.eq_ignore_ascii_case(code));
                Ok(())
            }
            Action::SetShippingAddress { address } => {
                self.shipping_address = check_address("address", address)?;
                Ok(())
            }
            Action::SetBillingAddress { address } => {
                self.billing_address = check_address("address", address)?;
                Ok(())
            }
            Action::SetShippingMethod {
                shipping_method_id,
                shipping_profile,
            } => self.set_shipping_method(catalog, shipping_method_id.as_deref(), shipping_profile.as_deref()),
            Action::SetPaymentMethod { payment_method_id } => {
                if let Some(id) = payment_method_id {
                    check_text("paymentMethodId", id)?;
                }
                self.payment_method_id = payment_method_id.clone();
                Ok(())
            }
            Action::SetCustomer {
                customer_id,
                email,
                customer_group,
            } => self.set_customer(customer_id, email, customer_group),
            Action::SetCountry { country } => {
                if let Some(c) = country {
                    check_country("country", c)?;
                }
                self.country = country.clone();
                Ok(())
            }
            Action::SetLocale { locale } => {
                if let Some(l) = locale {
                    check_locale(l)?;
                }
                self.locale = locale.clone();
                Ok(())
            }
            Action::SetCurrency { currency } => self.set_currency(currency),
            Action::AcknowledgePriceChanges {} => {
                for line in &mut self.line_items {
                    line.price_change = None;
                }
                Ok(())
            }
            Action::Clear {} => {
                self.line_items.clear();
                self.custom_line_items.clear();
                self.discount_codes.clear();
                Ok(())
            }
        }
    }

    fn line_mut(&mut self, id: &str) -> Result<&mut LineItem> {
        self.line_items
            .iter_mut()
            .find(|l| l.id == id)
            .ok_or_else(|| item_not_found(id))
    }

    fn line_count(&self) -> usize {
        self.line_items.len().saturating_add(self.custom_line_items.len())
    }

    fn check_line_room(&self) -> Result<()> {
        if self.line_count() >= MAX_LINES {
            return Err(err(
                ErrorCode::TooManyLines,
                format!("a cart holds at most {MAX_LINES} lines"),
            )
            .with_details(json!({ "max": MAX_LINES })));
        }
        Ok(())
    }

    fn add_line(
        &mut self,
        catalog: &Catalog,
        product: &Product,
        variant_id: Option<u32>,
        quantity: i64,
        attributes: &BTreeMap<String, Value>,
        now: Timestamp,
    ) -> Result<()> {
        let q = check_quantity(quantity)?;
        let attributes = clean_attributes(attributes)?;
        let existing = self
            .line_items
            .iter()
            .position(|l| l.is_same_item(&product.id, variant_id, &attributes));
        if let Some(line) = existing.and_then(|i| self.line_items.get_mut(i)) {
            let total = line.quantity.saturating_add(q);
            let id = line.id.clone();
            line.price_change = None;
            return self.set_line_quantity(catalog, &id, total, now);
        }
        self.check_line_room()?;
        let id = format!("li_{}", self.next_line_id);
        let line = LineItem {
            id: id.clone().into(),
            product_id: product.id.clone(),
            variant_id,
            sku: line_sku(product, variant_id),
            name: line_name(product, variant_id),
            quantity: q,
            attributes: Attributes::new(attributes),
            added_at: now,
            seen_price: None,
            price_change: None,
        };
        self.line_items.push(line);
        self.next_line_id = self.next_line_id.checked_add(1).ok_or_else(CartError::overflow)?;
        self.set_line_quantity(catalog, &id, q, now)
    }

    /// Sets a line's quantity after checking it against the limits and the price list.
    fn set_line_quantity(&mut self, catalog: &Catalog, id: &str, q: u32, now: Timestamp) -> Result<()> {
        let ctx = self.price_context();
        let line = self.line_mut(id)?;
        let product = catalog.product(&line.product_id).ok_or_else(|| {
            err(
                ErrorCode::ProductUnavailable,
                format!("{} is no longer sold", line.name),
            )
            .with_details(json!({ "lineItemId": line.id, "productId": line.product_id, "variantId": line.variant_id }))
        })?;
        let (min, max) = product_limits(product);
        if q > MAX_QUANTITY || q < min || q > max {
            return Err(err(
                ErrorCode::InvalidQuantity,
                format!("quantity of {} must be from {min} to {max}", product.name),
            )
            .with_details(json!({ "lineItemId": line.id, "min": min, "max": max, "requested": q })));
        }
        check_buyable(product, line.variant_id, &ctx, q, now)?;
        line.quantity = q;
        Ok(())
    }

    fn remove_line(&mut self, catalog: &Catalog, id: &str, quantity: Option<i64>, now: Timestamp) -> Result<()> {
        let line = self.line_mut(id)?;
        let remaining = match quantity {
            None => 0,
            Some(q) => line.quantity.saturating_sub(check_quantity(q)?),
        };
        if remaining == 0 {
            self.line_items.retain(|l| l.id != id);
            Ok(())
        } else {
            self.set_line_quantity(catalog, id, remaining, now)
        }
    }

    fn set_attributes(
        &mut self,
        catalog: &Catalog,
        id: &str,
        attributes: &BTreeMap<String, Value>,
        now: Timestamp,
    ) -> Result<()> {
        let attributes = clean_attributes(attributes)?;
        let line = self.line_mut(id)?;
        line.attributes = Attributes::new(attributes);
        let changed = line.clone();
        // Two lines with the same product, variant and attributes are one line: fold this one into its twin.
        let twin = self
            .line_items
            .iter()
            .find(|l| l.id != id && l.is_same_item(&changed.product_id, changed.variant_id, &changed.attributes));
        let quantity = changed.quantity;
        if let Some(twin_id) = twin.map(|l| l.id.clone()) {
            self.line_items.retain(|l| l.id != id);
            let total = self.line_mut(&twin_id)?.quantity.saturating_add(quantity);
            return self.set_line_quantity(catalog, &twin_id, total, now);
        }
        Ok(())
    }

    fn add_custom_line(
        &mut self,
        catalog: &Catalog,
        name: &str,
        amount: Amount,
        tax_category: &str,
        quantity: i64,
        kind: CustomLineKind,
    ) -> Result<()> {
        check_text("name", name)?;
        let q = check_quantity(quantity)?;
        if amount.0.is_sign_negative() && !amount.0.is_zero() || amount.0 > crate::catalog::MAX_AMOUNT {
            return Err(CartError::invalid_request(
                "amount: must be from 0 to 1000000000 (a credit is kind \"credit\")",
            )
            .with_details(json!({ "field": "amount" })));
        }
        if catalog.tax_category(tax_category).is_none() {
            return Err(
                CartError::invalid_request(format!("unknown tax category {tax_category}"))
                    .with_details(json!({ "field": "taxCategory", "value": tax_category })),
            );
        }
        self.check_line_room()?;
        let id = format!("cli_{}", self.next_custom_line_id);
        self.next_custom_line_id = self
            .next_custom_line_id
            .checked_add(1)
            .ok_or_else(CartError::overflow)?;
        self.custom_line_items.push(CustomLineItem {
            id,
            name: name.to_string(),
            amount,
            tax_category: tax_category.to_string(),
            quantity: q,
            kind,
        });
        Ok(())
    }

    fn add_code(&mut self, catalog: &Catalog, code: &str) -> Result<()> {
        let promo = catalog.promotion_by_code(code.trim()).ok_or_else(|| {
            err(ErrorCode::InvalidPromoCode, format!("unknown discount code {code}"))
                .with_details(json!({ "code": code }))
        })?;
        let canonical = promo.code.clone().unwrap_or_else(|| code.to_string());
        if self.discount_codes.iter().any(|c| c.eq_ignore_ascii_case(&canonical)) {
            return Ok(());
        }
        if self.discount_codes.len() >= MAX_CODES {
            return Err(err(
                ErrorCode::TooManyCodes,
                format!("a cart holds at most {MAX_CODES} discount codes"),
            )
            .with_details(json!({ "max": MAX_CODES })));
        }
        self.discount_codes.push(canonical);
        Ok(())
    }

    fn set_customer(
        &mut self,
        id: &Option<Option<String>>,
        email: &Option<Option<String>>,
        group: &Option<Option<String>>,
    ) -> Result<()> {
        if let Some(Some(id)) = id {
            check_text("customerId", id)?;
        }
        if let Some(Some(email)) = email {
            check_text("email", email)?;
            if !email.contains('@') {
                return Err(CartError::invalid_request("email: expected an e-mail address")
                    .with_details(json!({ "field": "email", "value": email })));
            }
        }
        if let Some(Some(group)) = group {
            check_text("customerGroup", group)?;
        }
        if let Some(id) = id {
            self.customer.id = id.clone();
        }
        if let Some(email) = email {
            self.customer.email = email.clone();
        }
        if let Some(group) = group {
            self.customer.group = group.clone();
        }
        Ok(())
    }

    fn set_currency(&mut self, currency: &str) -> Result<()> {
        if !money::is_known_currency(currency) {
            return Err(CartError::invalid_request(format!("unknown currency {currency}"))
                .with_details(json!({ "field": "currency", "value": currency })));
        }
        if currency != self.currency && self.line_count() > 0 {
            return Err(
                CartError::invalid_request("the currency can only change on an empty cart")
                    .with_details(json!({ "field": "currency" })),
            );
        }
        self.currency = currency.to_string();
        Ok(())
    }

    pub(crate) fn price_context(&self) -> PriceContext {
        PriceContext {
            currency: self.currency.clone(),
            country: self.country.clone(),
            customer_group: self.customer.group.clone(),
        }
    }

    /// Refuses the batch if it breaks an `exclusive` or `maxLines` rule that `before` did not already
    /// break as badly (so a cart that a new catalog put in breach can still be repaired).
    fn check_rules(&self, before: &CartState, catalog: &Catalog) -> Result<()> {
        for (index, rule) in catalog.rules().iter().enumerate() {
            let (after, limit) = rule_measure(self, catalog, rule);
            let (was, _) = rule_measure(before, catalog, rule);
            if after > limit && after > was {
                return Err(
                    err(ErrorCode::IncompatibleItems, rule_message(rule)).with_details(json!({ "rule": index }))
                );
            }
        }
        Ok(())
    }

    /// Every line without a pending price change remembers the unit price it is shown at now.
    fn refresh_seen_prices(&mut self, catalog: &Catalog, now: Timestamp) {
        let ctx = self.price_context();
        for line in &mut self.line_items {
            if line.price_change.is_none() {
                line.seen_price = current_unit_price(catalog, line, &ctx, now);
            }
        }
    }

    /// Adopts a new catalog: lines whose unit price moved get a `PRICE_CHANGED` warning (old and new),
    /// which stays until an action touches the line or `acknowledgePriceChanges`. Quantity tiers never
    /// raise it, since old and new are compared at the same quantity. Returns whether the cart changed
    /// (its version then rises by one; `updatedAt` does not, this is not shopper activity).
    pub fn update_catalog(&mut self, catalog: &Catalog, now: Timestamp) -> Result<bool> {
        if self.status != CartStatus::Active {
            return Ok(false);
        }
        let before = self.clone();
        let ctx = self.price_context();
        for line in &mut self.line_items {
            let Some(new) = current_unit_price(catalog, line, &ctx, now) else {
                continue; // shown as PRODUCT_UNAVAILABLE instead
            };
            line.price_change = match (line.price_change, line.seen_price) {
                (Some(change), _) if change.old == new => None,
                (Some(change), _) => Some(PriceChange { old: change.old, new }),
                (None, Some(seen)) if seen.0 != new.0 => Some(PriceChange { old: seen, new }),
                (None, _) => None,
            };
            line.seen_price = Some(new);
        }
        self.catalog_version = catalog.version().map(str::to_string);
        if *self == before {
            return Ok(false);
        }
        self.version = next_version(self.version)?;
        Ok(true)
    }

    /// Marks the cart as ordered (after a successful checkout); it is read-only from then on.
    pub fn mark_ordered(&mut self, now: Timestamp) -> Result<()> {
        self.ensure_active(now)?;
        self.status = CartStatus::Ordered;
        self.version = next_version(self.version)?;
        self.updated_at = now;
        Ok(())
    }

    /// Marks the cart as merged into another (the other side of [`CartState::merge`], when the two
    /// carts live apart, as two browser sessions do); it is read-only from then on.
    pub fn mark_merged(&mut self, now: Timestamp) -> Result<()> {
        if self.status != CartStatus::Active {
            return Err(err(
                ErrorCode::CartNotActive,
                format!("the cart is {}", self.status.as_str()),
            )
            .with_details(json!({ "status": self.status.as_str() })));
        }
        self.version = next_version(self.version)?;
        self.status = CartStatus::Merged;
        self.updated_at = now;
        Ok(())
    }

    /// The ids of the line items and custom line items, in order.
    pub fn line_ids(&self) -> Vec<&str> {
        let lines = self.line_items.iter().map(|l| l.id.as_str());
        lines
            .chain(self.custom_line_items.iter().map(|c| c.id.as_str()))
            .collect()
    }

    /// Merges `other` (a guest cart) into this one (the customer's cart), as when a shopper signs in.
    /// Lines both hold get the larger (`Max`) or summed (`Sum`, capped at the product's maximum)
    /// quantity; other lines are added; codes are united up to 10; addresses, shipping and payment
    /// method fill in where this cart has none. Lines and codes that this cart cannot take (unknown
    /// product, a broken rule, too many lines) are skipped and reported. `other` is marked `merged`.
    pub fn merge(
        &mut self,
        other: &mut CartState,
        mode: MergeMode,
        catalog: &Catalog,
        now: Timestamp,
    ) -> Result<MergeReport> {
        self.ensure_active(now)?;
        if other.status != CartStatus::Active {
            return Err(err(
                ErrorCode::CartNotActive,
                format!("the other cart is {}", other.status.as_str()),
            )
            .with_details(json!({ "status": other.status.as_str() })));
        }
        if other.id == self.id {
            return Err(CartError::invalid_request("a cart cannot be merged into itself"));
        }
        let mut next = self.clone();
        let mut report = MergeReport::default();
        for line in &other.line_items {
            if let Err(e) = next.merge_line(catalog, line, mode, now) {
                report.skipped.push(SkippedLine {
                    line_item_id: line.id.to_string(),
                    code: e.code,
                    message: e.message,
                });
            }
        }
        for custom in &other.custom_line_items {
            let action = Action::AddCustomLineItem {
                name: custom.name.clone(),
                amount: custom.amount,
                tax_category: custom.tax_category.clone(),
                quantity: i64::from(custom.quantity),
                kind: custom.kind,
            };
            if let Err(e) = next.try_action(catalog, &action, now) {
                report.skipped.push(SkippedLine {
                    line_item_id: custom.id.clone(),
                    code: e.code,
                    message: e.message,
                });
            }
        }
        for code in &other.discount_codes {
            let action = Action::AddDiscountCode { code: code.clone() };
            if next.try_action(catalog, &action, now).is_err() {
                report.skipped_codes.push(code.clone());
            }
        }
        next.shipping_address = next.shipping_address.or_else(|| other.shipping_address.clone());
        next.billing_address = next.billing_address.or_else(|| other.billing_address.clone());
        next.shipping_method_id = next.shipping_method_id.or_else(|| other.shipping_method_id.clone());
        for (profile, method) in &other.delivery_methods {
            if next.delivery_methods.len() < MAX_LINES {
                next.delivery_methods
                    .entry(profile.clone())
                    .or_insert_with(|| method.clone());
            }
        }
        next.payment_method_id = next.payment_method_id.or_else(|| other.payment_method_id.clone());
        next.customer.email = next.customer.email.or_else(|| other.customer.email.clone());
        next.commit(catalog, now)?;
        let other_version = next_version(other.version)?;
        *self = next;
        other.status = CartStatus::Merged;
        other.version = other_version;
        other.updated_at = now;
        Ok(report)
    }

    fn merge_line(&mut self, catalog: &Catalog, line: &LineItem, mode: MergeMode, now: Timestamp) -> Result<()> {
        let twin = self
            .line_items
            .iter()
            .find(|l| l.is_same_item(&line.product_id, line.variant_id, &line.attributes));
        let action = match twin {
            Some(twin) => {
                let max = catalog
                    .product(&line.product_id)
                    .map_or(MAX_QUANTITY, |p| product_limits(p).1);
                let wanted = match mode {
                    MergeMode::Max => twin.quantity.max(line.quantity),
                    MergeMode::Sum => twin.quantity.saturating_add(line.quantity).min(max),
                };
                Action::ChangeLineItemQuantity {
                    line_item_id: twin.id.to_string(),
                    quantity: i64::from(wanted),
                }
            }
            None => Action::AddLineItem {
                product_id: Some(line.product_id.to_string()),
                sku: None,
                variant_id: line.variant_id,
                quantity: i64::from(line.quantity),
                attributes: (*line.attributes).clone(),
            },
        };
        self.try_action(catalog, &action, now)
    }

    /// One action on a copy, kept only if it and the rules hold.
    fn try_action(&mut self, catalog: &Catalog, action: &Action, now: Timestamp) -> Result<()> {
        let mut trial = self.clone();
        trial.apply_one(catalog, action, now)?;
        trial.check_rules(self, catalog)?;
        *self = trial;
        Ok(())
    }
}

fn item_not_found(id: &str) -> CartError {
    err(ErrorCode::ItemNotFound, format!("no line item {id}")).with_details(json!({ "lineItemId": id }))
}

fn at_action(mut e: CartError, index: usize) -> CartError {
    match &mut e.details {
        Value::Object(map) => {
            map.insert("actionIndex".to_string(), json!(index));
        }
        _ => e.details = json!({ "actionIndex": index }),
    }
    e
}

fn check_address(field: &str, address: &Option<Address>) -> Result<Option<Address>> {
    if let Some(a) = address {
        check_country(&format!("{field}.country"), &a.country)?;
        for (name, value) in a.text_fields() {
            if let Some(value) = value.filter(|v| v.len() > MAX_TEXT) {
                return Err(CartError::invalid_request(format!(
                    "{field}.{name}: at most {MAX_TEXT} characters ({} given)",
                    value.len()
                ))
                .with_details(json!({ "field": format!("{field}.{name}") })));
            }
        }
    }
    Ok(address.clone())
}

/// The SKU a line of `product` (and `variant_id`) carries: the variant's, else the product's.
pub(crate) fn line_sku(product: &Product, variant_id: Option<u32>) -> Text {
    variant_id
        .and_then(|v| product.variant(v))
        .map_or_else(|| product.sku(), |v| &v.sku)
        .clone()
}

/// The display name of a line: the variant's name when it has one.
pub(crate) fn line_name(product: &Product, variant_id: Option<u32>) -> Text {
    variant_id
        .and_then(|v| product.variant(v))
        .and_then(|v| v.name.clone())
        .unwrap_or_else(|| product.name.clone())
}

/// The inputs of price selection that come from the cart.
#[derive(Debug, Clone)]
pub(crate) struct PriceContext {
    pub currency: String,
    pub country: Option<String>,
    pub customer_group: Option<String>,
}

fn current_unit_price(catalog: &Catalog, line: &LineItem, ctx: &PriceContext, now: Timestamp) -> Option<Amount> {
    let product = catalog.product(&line.product_id)?;
    select_price(product, line.variant_id, ctx, line.quantity, now).map(|p| p.amount)
}

/// Looks a product up by id and/or SKU; both given must agree.
fn resolve_item<'c>(
    catalog: &'c Catalog,
    product_id: Option<&str>,
    sku: Option<&str>,
    variant_id: Option<u32>,
) -> Result<(&'c Product, Option<u32>)> {
    let unknown = |what: String| err(ErrorCode::InvalidItem, what);
    let (product, variant) = match (product_id, sku) {
        (None, None) => return Err(CartError::invalid_request("addLineItem needs productId or sku")),
        (Some(id), None) => {
            let p = catalog
                .product(id)
                .ok_or_else(|| unknown(format!("unknown product {id}")).with_details(json!({ "productId": id })))?;
            (p, variant_id)
        }
        (id, Some(sku)) => {
            let (p, v) = catalog
                .find_sku(sku)
                .ok_or_else(|| unknown(format!("unknown sku {sku}")).with_details(json!({ "sku": sku })))?;
            if id.is_some_and(|id| id != p.id) || (variant_id.is_some() && variant_id != v) {
                return Err(
                    unknown(format!("sku {sku} does not belong to the product or variant given"))
                        .with_details(json!({ "sku": sku, "productId": id, "variantId": variant_id })),
                );
            }
            (p, v)
        }
    };
    if let Some(v) = variant {
        if product.variant(v).is_none() {
            return Err(unknown(format!("unknown variant {v} of product {}", product.id))
                .with_details(json!({ "productId": product.id, "variantId": v })));
        }
    }
    Ok((product, variant))
}

/// A product can be put in the cart when it is available and has a price for the cart at that quantity.
fn check_buyable(product: &Product, variant_id: Option<u32>, ctx: &PriceContext, q: u32, now: Timestamp) -> Result<()> {
    let variant_available = variant_id
        .and_then(|v| product.variant(v))
        .and_then(|v| v.available)
        .unwrap_or(true);
    if !product.available || !variant_available {
        return Err(err(
            ErrorCode::ProductUnavailable,
            format!("{} is not available", product.name),
        )
        .with_details(json!({ "productId": product.id, "variantId": variant_id })));
    }
    if select_price(product, variant_id, ctx, q, now).is_none() {
        return Err(err(
            ErrorCode::ProductUnavailable,
            format!("{} has no price in {} for this cart", product.name, ctx.currency),
        )
        .with_details(json!({ "productId": product.id, "variantId": variant_id, "currency": ctx.currency })));
    }
    Ok(())
}

/// (how far the cart goes, the limit): an `exclusive` rule counts distinct values (limit 1), a
/// `maxLines` rule counts matching lines (limit `max`); `requires` is an issue, never a refusal.
fn rule_measure(cart: &CartState, catalog: &Catalog, rule: &Rule) -> (usize, usize) {
    let products = cart
        .line_items
        .iter()
        .filter_map(|l| catalog.product(&l.product_id).map(|p| (l, p)));
    match rule {
        Rule::Exclusive { metadata_key, .. } => {
            let values: BTreeSet<String> = products
                .filter_map(|(_, p)| p.metadata.get(metadata_key).map(|v| v.to_string()))
                .collect();
            (values.len(), 1)
        }
        Rule::MaxLines { matcher, max, .. } => {
            let count = products.filter(|(l, p)| matcher.matches(p, &l.sku)).count();
            (count, usize::try_from(*max).unwrap_or(usize::MAX))
        }
        Rule::Requires { .. } => (0, 0),
    }
}

pub(crate) fn rule_message(rule: &Rule) -> String {
    match rule {
        Rule::Exclusive { metadata_key, message } => message
            .clone()
            .unwrap_or_else(|| format!("items with different {metadata_key} cannot share a cart")),
        Rule::MaxLines { max, message, .. } => message
            .clone()
            .unwrap_or_else(|| format!("at most {max} such line(s) per cart")),
        Rule::Requires { message, .. } => message
            .clone()
            .unwrap_or_else(|| "this item needs another item in the cart".to_string()),
    }
}

/// Whether the cart breaks an `exclusive` or `maxLines` rule (a new catalog can put it there).
pub(crate) fn broken_rules<'c>(cart: &CartState, catalog: &'c Catalog) -> Vec<&'c Rule> {
    catalog
        .rules()
        .iter()
        .filter(|rule| {
            let (measure, limit) = rule_measure(cart, catalog, rule);
            !matches!(rule, Rule::Requires { .. }) && measure > limit
        })
        .collect()
}
