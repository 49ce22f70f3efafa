//! The persisted form of a cart (DESIGN §7), its checksum, its migrations, and the members a shared
//! record carries when several writers (browser tabs) commit to one key (`docs/tabs.md`).
//!
//! # Format (schema 1)
//!
//! ```json
//! {"schema":1,"savedAt":"2026-11-21T12:00:00Z","checksum":"a1b2c3d4e5f60718","cart":{...CartState...}}
//! ```
//!
//! `cart` is the [`CartState`] as serde writes it: compact, fields in declaration order, attribute maps
//! sorted (they are `BTreeMap`s). That text is the *canonical cart JSON*, and `checksum` is FNV-1a
//! (64 bit, 16 lowercase hex digits) over exactly those bytes. On read, the checksum is computed over
//! the bytes of the `cart` member as stored (via [`serde_json::value::RawValue`]), so no re-encoding
//! (float formatting, key order, a field added later with a default) can make a good blob look corrupt.
//!
//! ## Why FNV-1a is enough
//!
//! The checksum detects *corruption*: a truncated write, a blob edited by hand in the dev tools, an
//! extension or an older build that wrote something else under the key. It is not meant to resist
//! *tampering*: anyone who can write localStorage can run script on the page and compute any checksum.
//! Nothing needs that protection, because the cart state holds no prices (only what the shopper chose)
//! and the server reprices the submitted cart with its own catalog (DESIGN §8–9). A 64-bit FNV-1a
//! misses an accidental change with probability about 2^-64, costs a few lines and no dependency, and
//! runs identically in the browser and natively.
//!
//! # Schemas and migrations
//!
//! [`SCHEMA`] is the version written today. A blob with an older schema is lifted step by step by
//! [`migrate`] (`STEPS[n]` turns schema `n` into `n + 1`); a blob with a newer schema (written by a
//! newer build in another tab) is refused with `INVALID_SNAPSHOT` so that this build never overwrites
//! data it does not understand — the web layer keeps such a blob under `<key>:corrupt:<millis>`.
//!
//! ## Schema 0 (the prototype's format)
//!
//! The first prototype stored carts without a version number, without a checksum and with a flatter,
//! shorter cart. The migration 0 → 1 exists so that the framework is exercised by a real step and a
//! test of a hand-written blob; it is the template for the next one. A schema-0 blob is recognised by
//! the absence of `schema`:
//!
//! ```json
//! {"savedAt": "2026-05-01T09:00:00Z",
//!  "cart": {"id": "cart_1", "version": 4, "currency": "EUR", "country": "DE",
//!           "customerId": "c-42", "customerEmail": "a@example.com", "customerGroup": null,
//!           "items": [{"id": "li_1", "productId": "mug", "sku": "MUG", "name": "Mug", "quantity": 2}],
//!           "codes": ["SUMMER"], "shippingMethodId": "standard",
//!           "createdAt": "2026-05-01T08:00:00Z", "updatedAt": "2026-05-01T09:00:00Z"}}
//! ```
//!
//! Differences from schema 1: `items` (now `lineItems`, whose entries also carry `addedAt`, `variantId`
//! and `attributes`), `codes` (now `discountCodes`), flat `customerId` / `customerEmail` /
//! `customerGroup` (now a `customer` object), and no `status`, `customLineItems`, `ttlSeconds`,
//! `nextLineId`, `nextCustomLineId` (filled in: active, none, 30 days, and one past the highest
//! `li_N` / `cli_N` id in use, so new lines never reuse an id).

use crate::cart::{CartState, CartStatus, DEFAULT_TTL_SECONDS};
use crate::catalog::Catalog;
use crate::error::{CartError, ErrorCode, Result};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// The schema written by this build.
pub const SCHEMA: u32 = 1;

/// The schema of the catalog cache written by [`encode_catalog`].
pub const CATALOG_SCHEMA: u32 = 1;

/// One migration step: `run` turns a cart of schema `from` into one of schema `from + 1`.
struct Step {
    from: u32,
    run: fn(Value) -> Result<Value>,
}

/// `STEPS[n]` lifts schema `n` to `n + 1`; the last step ends at [`SCHEMA`].
const STEPS: [Step; 1] = [Step {
    from: 0,
    run: migrate_0_to_1,
}];

/// FNV-1a, 64 bit, as 16 lowercase hex digits. See the module docs for why this is enough.
pub fn checksum(bytes: &[u8]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("{hash:016x}")
}

/// Why a stored blob could not be read: the `details.reason` of an `INVALID_SNAPSHOT` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// Not JSON at all (a truncated write, random text).
    NotJson,
    /// JSON, but not a snapshot object with a `cart`.
    NotASnapshot,
    /// The checksum is missing or does not match the cart.
    BadChecksum,
    /// Written by a newer build: this one does not know how to read it and must not overwrite it.
    NewerSchema,
    /// The checksum matched (or there was none to check) but the cart does not have the expected shape.
    BadCart,
    /// The cart has the right shape but breaks a rule actions enforce (a quantity of 10^7, an unknown
    /// currency, 300 lines, a version beyond 2^53 - 1): `details.cause` holds the refusal.
    InvalidCart,
    /// The storage holds something that is not a string under the key (a custom storage's object).
    NotAString,
}

impl Corruption {
    pub fn as_str(self) -> &'static str {
        match self {
            Corruption::NotJson => "notJson",
            Corruption::NotASnapshot => "notASnapshot",
            Corruption::BadChecksum => "badChecksum",
            Corruption::NewerSchema => "newerSchema",
            Corruption::BadCart => "badCart",
            Corruption::InvalidCart => "invalidCart",
            Corruption::NotAString => "notAString",
        }
    }

    pub fn error(self, message: impl Into<String>) -> CartError {
        CartError::new(ErrorCode::InvalidSnapshot, message).with_details(json!({ "reason": self.as_str() }))
    }
}

/// `INVALID_SNAPSHOT` (`invalidCart`) for a stored cart that `cause` refuses (validation, pricing).
pub fn invalid_cart(cause: CartError) -> CartError {
    let message = format!("the stored cart is invalid: {}", cause.message);
    let cause = json!({ "code": cause.code, "message": cause.message, "details": cause.details });
    CartError::new(ErrorCode::InvalidSnapshot, message)
        .with_details(json!({ "reason": Corruption::InvalidCart.as_str(), "cause": cause }))
}

/// Reads the `details.reason` back from an `INVALID_SNAPSHOT` error.
pub fn corruption_of(error: &CartError) -> Option<Corruption> {
    if error.code != ErrorCode::InvalidSnapshot {
        return None;
    }
    match error.details.get("reason").and_then(Value::as_str)? {
        "notJson" => Some(Corruption::NotJson),
        "notASnapshot" => Some(Corruption::NotASnapshot),
        "badChecksum" => Some(Corruption::BadChecksum),
        "newerSchema" => Some(Corruption::NewerSchema),
        "badCart" => Some(Corruption::BadCart),
        "invalidCart" => Some(Corruption::InvalidCart),
        "notAString" => Some(Corruption::NotAString),
        _ => None,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeOut<'a> {
    schema: u32,
    saved_at: Timestamp,
    checksum: String,
    cart: &'a RawValue,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    sync: Option<&'a Sync>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeIn<'a> {
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    saved_at: Option<Value>,
    #[serde(default)]
    checksum: Option<Value>,
    #[serde(default, borrow)]
    cart: Option<&'a RawValue>,
    #[serde(default)]
    commit: Option<Value>,
    #[serde(default)]
    writers: Option<Value>,
    #[serde(default)]
    refused: Option<Value>,
}

/// What the session adds to the envelope when several writers (tabs) share one stored cart
/// (`docs/tabs.md`): the number of the commit that wrote it, and for each writer the last of its
/// changes the commit includes. Blobs of older builds, and of a single writer, have none; older
/// builds ignore these members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sync {
    /// Commits so far under this key (every cart it held): the newer record has the higher number.
    pub commit: u64,
    /// Writer id -> the last change of that writer included.
    pub writers: std::collections::BTreeMap<String, Writer>,
    /// The latest changes that could not be applied when they were committed (another writer's change
    /// came first), so that the writer that made them can say so.
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Writer {
    /// The writer's last change included (its sequence number).
    pub seq: u64,
    /// When that change was made (by the writer's clock).
    pub at: Timestamp,
    /// The line ids the writer's recent changes created, by change: a later change of that writer
    /// refers to such a line by the change that created it, since two writers adding a line at once
    /// get it committed under another id than the one they showed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub lines: std::collections::BTreeMap<u64, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub writer: String,
    pub seq: u64,
    pub error: CartError,
}

/// The canonical cart JSON (see the module docs).
pub fn canonical_cart_json(cart: &CartState) -> Result<String> {
    serde_json::to_string(cart).map_err(|e| CartError::invalid_request(format!("cart cannot be encoded: {e}")))
}

/// Writes the persisted form of `cart` (schema [`SCHEMA`]).
pub fn encode(cart: &CartState, saved_at: Timestamp) -> Result<String> {
    encode_synced(cart, saved_at, None)
}

/// [`encode`] with the members of a shared record ([`Sync`]).
pub fn encode_synced(cart: &CartState, saved_at: Timestamp, sync: Option<&Sync>) -> Result<String> {
    let cart_json = canonical_cart_json(cart)?;
    let raw = RawValue::from_string(cart_json)
        .map_err(|e| CartError::invalid_request(format!("cart cannot be encoded: {e}")))?;
    let envelope = EnvelopeOut {
        schema: SCHEMA,
        saved_at,
        checksum: checksum(raw.get().as_bytes()),
        cart: &raw,
        sync,
    };
    serde_json::to_string(&envelope).map_err(|e| CartError::invalid_request(format!("cart cannot be encoded: {e}")))
}

/// A cart read back from storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub cart: CartState,
    /// The schema the blob was written with (older than [`SCHEMA`] means it was migrated).
    pub schema: u32,
    /// When it was written, if the blob says so.
    pub saved_at: Option<Timestamp>,
    /// The members of a shared record, if the writer added them.
    pub sync: Option<Sync>,
}

impl Restored {
    /// Whether the blob was in an older schema; the caller should write it back in the current one.
    pub fn migrated(&self) -> bool {
        self.schema < SCHEMA
    }
}

/// Reads a persisted cart: checks the checksum, migrates older schemas, refuses newer ones. Every
/// refusal is `INVALID_SNAPSHOT` with `details.reason` (see [`Corruption`]).
pub fn decode(text: &str) -> Result<Restored> {
    let envelope: EnvelopeIn<'_> = serde_json::from_str(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            Corruption::NotJson.error(format!("the stored cart is not JSON: {e}"))
        } else {
            Corruption::NotASnapshot.error(format!("the stored value is not a cart snapshot: {e}"))
        }
    })?;
    let raw = envelope
        .cart
        .filter(|raw| raw.get() != "null")
        .ok_or_else(|| Corruption::NotASnapshot.error("the stored value has no cart"))?;
    let schema = match &envelope.schema {
        None => 0,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| Corruption::NotASnapshot.error(format!("schema must be a whole number, got {v}")))?,
    };
    if schema > SCHEMA {
        return Err(CartError::new(
            ErrorCode::InvalidSnapshot,
            format!("the stored cart has schema {schema}, newer than this build's {SCHEMA}"),
        )
        .with_details(json!({ "reason": Corruption::NewerSchema.as_str(), "schema": schema, "supported": SCHEMA })));
    }
    // Schema 0 had no checksum; every later schema must carry one.
    match &envelope.checksum {
        Some(Value::String(sum)) if *sum == checksum(raw.get().as_bytes()) => {}
        None if schema == 0 => {}
        Some(_) => return Err(Corruption::BadChecksum.error("the stored cart does not match its checksum")),
        None => return Err(Corruption::BadChecksum.error("the stored cart has no checksum")),
    }
    let sync = match (envelope.commit, envelope.writers, envelope.refused) {
        (None, None, None) => None,
        (commit, writers, refused) => {
            let value = json!({ "commit": commit, "writers": writers.unwrap_or_else(|| json!({})),
                                "refused": refused.unwrap_or_else(|| json!([])) });
            Some(crate::tracked::from_value::<Sync>(&value).map_err(|e| {
                Corruption::NotASnapshot.error(format!("the stored cart's commit members are malformed: {e}"))
            })?)
        }
    };
    let saved_at = match envelope.saved_at {
        Some(Value::String(s)) => Timestamp::parse_rfc3339(&s),
        _ => None,
    };
    let cart = if schema == SCHEMA {
        crate::tracked::from_str::<CartState>(raw.get())
            .map_err(|e| Corruption::BadCart.error(format!("the stored cart is malformed: {e}")))?
    } else {
        let value = serde_json::from_str::<Value>(raw.get())
            .map_err(|e| Corruption::BadCart.error(format!("the stored cart cannot be read: {e}")))?;
        cart_from(migrate(value, schema))?
    };
    cart.validate().map_err(invalid_cart)?;
    Ok(Restored {
        cart,
        schema,
        saved_at,
        sync,
    })
}

fn cart_from(value: std::result::Result<Value, impl std::fmt::Display>) -> Result<CartState> {
    let value = value.map_err(|e| Corruption::BadCart.error(format!("the stored cart cannot be read: {e}")))?;
    crate::tracked::from_value(&value)
        .map_err(|e| Corruption::BadCart.error(format!("the stored cart is malformed: {e}")))
}

/// Lifts a cart of schema `from` to [`SCHEMA`], one step at a time. A schema newer than this build's
/// is `INVALID_SNAPSHOT` (reason `newerSchema`); a step that cannot make sense of its input is
/// `INVALID_SNAPSHOT` (reason `badCart`).
pub fn migrate(mut value: Value, from: u32) -> Result<Value> {
    if from > SCHEMA {
        return Err(Corruption::NewerSchema.error(format!("schema {from} is newer than {SCHEMA}")));
    }
    for schema in from..SCHEMA {
        let step = STEPS
            .iter()
            .find(|s| s.from == schema)
            .ok_or_else(|| Corruption::BadCart.error(format!("no migration from schema {schema}")))?;
        value = (step.run)(value)?;
    }
    Ok(value)
}

/// Schema 0 → 1 (see the module docs for both shapes).
fn migrate_0_to_1(value: Value) -> Result<Value> {
    let bad = |what: &str| Corruption::BadCart.error(format!("schema 0 cart: {what}"));
    let Value::Object(mut cart) = value else {
        return Err(bad("not an object"));
    };
    let updated_at = cart
        .get("updatedAt")
        .or_else(|| cart.get("createdAt"))
        .cloned()
        .ok_or_else(|| bad("no updatedAt"))?;
    cart.entry("createdAt").or_insert_with(|| updated_at.clone());
    cart.entry("updatedAt").or_insert_with(|| updated_at.clone());

    let items = match cart.remove("items") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(bad("items is not a list")),
    };
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut item) = item else {
            return Err(bad("an item is not an object"));
        };
        item.entry("variantId").or_insert(Value::Null);
        item.entry("attributes").or_insert_with(|| Value::Object(Map::new()));
        item.entry("addedAt").or_insert_with(|| updated_at.clone());
        if !item.contains_key("sku") {
            let product = item.get("productId").cloned().unwrap_or(Value::Null);
            item.insert("sku".into(), product);
        }
        if !item.contains_key("name") {
            let sku = item.get("sku").cloned().unwrap_or(Value::Null);
            item.insert("name".into(), sku);
        }
        lines.push(Value::Object(item));
    }
    let next_line_id = next_id(&lines, "li_");
    cart.insert("lineItems".into(), Value::Array(lines));

    let codes = cart.remove("codes").unwrap_or_else(|| json!([]));
    cart.entry("discountCodes").or_insert(codes);
    let customer = json!({
        "id": cart.remove("customerId").unwrap_or(Value::Null),
        "email": cart.remove("customerEmail").unwrap_or(Value::Null),
        "group": cart.remove("customerGroup").unwrap_or(Value::Null),
    });
    cart.entry("customer").or_insert(customer);
    cart.entry("status")
        .or_insert_with(|| json!(CartStatus::Active.as_str()));
    cart.entry("version").or_insert_with(|| json!(0));
    cart.entry("customLineItems").or_insert_with(|| json!([]));
    cart.entry("ttlSeconds").or_insert_with(|| json!(DEFAULT_TTL_SECONDS));
    let next_custom = match cart.get("customLineItems") {
        Some(Value::Array(custom)) => next_id(custom, "cli_"),
        _ => 1,
    };
    cart.entry("nextLineId").or_insert_with(|| json!(next_line_id));
    cart.entry("nextCustomLineId").or_insert_with(|| json!(next_custom));
    Ok(Value::Object(cart))
}

/// One past the highest `<prefix>N` id in `lines` (1 when there is none).
fn next_id(lines: &[Value], prefix: &str) -> u64 {
    lines
        .iter()
        .filter_map(|l| l.get("id").and_then(Value::as_str))
        .filter_map(|id| id.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()))
        .max()
        .map_or(1, |n| n.saturating_add(1))
}

/// The key a corrupt blob is kept under (never deleted): `<key>:corrupt:<epoch millis>`.
pub fn corrupt_key(key: &str, at: Timestamp) -> String {
    format!("{key}:corrupt:{}", at.millis())
}

/// The key the catalog cache lives under: `<key>:catalog`.
pub fn catalog_key(key: &str) -> String {
    format!("{key}:catalog")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogOut<'a> {
    schema: u32,
    saved_at: Timestamp,
    checksum: String,
    catalog: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogIn<'a> {
    schema: u32,
    checksum: String,
    #[serde(borrow)]
    catalog: &'a RawValue,
}

/// The checksum of a catalog's compact JSON: two catalogs with the same checksum need no rewrite.
pub fn catalog_checksum(catalog_json: &str) -> String {
    checksum(catalog_json.as_bytes())
}

/// The catalog cache (`<key>:catalog`), so that a reload while offline still prices:
/// `{"schema":1,"savedAt":...,"checksum":...,"catalog":{...}}`. `catalog_json` should be compact.
pub fn encode_catalog(catalog_json: &str, saved_at: Timestamp) -> Result<String> {
    let raw = RawValue::from_string(catalog_json.to_string())
        .map_err(|e| CartError::new(ErrorCode::InvalidCatalog, format!("catalog is not JSON: {e}")))?;
    let out = CatalogOut {
        schema: CATALOG_SCHEMA,
        saved_at,
        checksum: catalog_checksum(raw.get()),
        catalog: &raw,
    };
    serde_json::to_string(&out).map_err(|e| CartError::new(ErrorCode::InvalidCatalog, e.to_string()))
}

/// The checksum a catalog cache was written with, read without parsing the catalog itself (to decide
/// whether a catalog needs writing again). `None` when the cache cannot be read.
pub fn cached_catalog_checksum(text: &str) -> Option<String> {
    serde_json::from_str::<CatalogIn<'_>>(text).ok().map(|c| c.checksum)
}

/// A catalog read back from the cache.
#[derive(Debug, Clone)]
pub struct CachedCatalog {
    pub catalog: Catalog,
    /// The catalog's compact JSON (what [`encode_catalog`] was given).
    pub json: String,
    pub checksum: String,
}

/// Reads the catalog cache. A cache that is unreadable, from another schema or fails its checksum is
/// `INVALID_SNAPSHOT`; one that reads but is no valid catalog is `INVALID_CATALOG`.
pub fn decode_catalog(text: &str) -> Result<CachedCatalog> {
    let cached: CatalogIn<'_> = serde_json::from_str(text)
        .map_err(|e| Corruption::NotASnapshot.error(format!("the cached catalog cannot be read: {e}")))?;
    if cached.schema != CATALOG_SCHEMA {
        return Err(Corruption::NewerSchema.error(format!("catalog cache schema {} is unknown", cached.schema)));
    }
    let sum = catalog_checksum(cached.catalog.get());
    if sum != cached.checksum {
        return Err(Corruption::BadChecksum.error("the cached catalog does not match its checksum"));
    }
    let json = cached.catalog.get().to_string();
    let catalog = Catalog::from_json(&json)?;
    Ok(CachedCatalog {
        catalog,
        json,
        checksum: sum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{Action, NewCart};
    use crate::pricing::price;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn catalog() -> Catalog {
        Catalog::from_value(json!({
            "version": "v1",
            "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}],
            "products": [
                {"id": "mug", "sku": "MUG", "name": "Mug", "taxCategory": "std",
                 "prices": [{"currency": "EUR", "amount": "10.00"}]},
                {"id": "shirt", "sku": "SHIRT", "name": "Shirt", "taxCategory": "std",
                 "prices": [{"currency": "EUR", "amount": "20.00"}]}
            ],
            "shippingMethods": [{"id": "standard", "name": "Standard", "taxCategory": "std", "default": true,
                                 "rates": [{"currency": "EUR", "price": "4.99"}]}],
            "promotions": [{"id": "summer", "code": "SUMMER", "target": {"type": "items"},
                            "value": {"type": "percentage", "percent": "10"}}]
        }))
        .unwrap()
    }

    fn cart(catalog: &Catalog) -> CartState {
        let new = NewCart {
            id: "cart_1".into(),
            currency: "EUR".into(),
            country: Some("DE".into()),
            ..NewCart::default()
        };
        let now = ts("2026-11-21T12:00:00Z");
        let mut cart = CartState::new(new, catalog, now).unwrap();
        let add = Action::from_value(json!({"action": "addLineItem", "productId": "mug", "quantity": 2,
                                            "attributes": {"b": 1.1, "a": "x"}}))
        .unwrap();
        cart.apply(catalog, &[add], now).unwrap();
        cart
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // Test vectors of the FNV reference implementation.
        assert_eq!(checksum(b""), "cbf29ce484222325");
        assert_eq!(checksum(b"a"), "af63dc4c8601ec8c");
        assert_eq!(checksum(b"foobar"), "85944171f73967e8");
    }

    #[test]
    fn round_trips_and_writes_the_documented_envelope() {
        let catalog = catalog();
        let cart = cart(&catalog);
        let text = encode(&cart, ts("2026-11-21T12:00:01Z")).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["schema"], json!(1));
        assert_eq!(value["savedAt"], json!("2026-11-21T12:00:01Z"));
        let cart_json = canonical_cart_json(&cart).unwrap();
        assert_eq!(value["checksum"], json!(checksum(cart_json.as_bytes())));
        assert!(text.ends_with(&format!("\"cart\":{cart_json}}}")));
        let restored = decode(&text).unwrap();
        assert_eq!(restored.cart, cart);
        assert_eq!(restored.schema, 1);
        assert!(!restored.migrated());
        assert_eq!(restored.saved_at, Some(ts("2026-11-21T12:00:01Z")));
        // Encoding is deterministic.
        assert_eq!(encode(&restored.cart, ts("2026-11-21T12:00:01Z")).unwrap(), text);
    }

    #[test]
    fn each_kind_of_corruption_is_named() {
        let catalog = catalog();
        let good = encode(&cart(&catalog), ts("2026-11-21T12:00:00Z")).unwrap();
        let reason = |text: &str| decode(text).map(|_| ()).map_err(|e| corruption_of(&e)).unwrap_err();
        assert_eq!(reason(""), Some(Corruption::NotJson));
        assert_eq!(reason(&good[..good.len() - 5]), Some(Corruption::NotJson));
        assert_eq!(reason("{not json"), Some(Corruption::NotJson));
        assert_eq!(reason("[1, 2]"), Some(Corruption::NotASnapshot));
        assert_eq!(reason("\"cart\""), Some(Corruption::NotASnapshot));
        assert_eq!(reason("{\"schema\": 1}"), Some(Corruption::NotASnapshot));
        assert_eq!(
            reason("{\"schema\": \"1\", \"cart\": {}}"),
            Some(Corruption::NotASnapshot)
        );
        // One changed byte inside the cart: the quantity 2 becomes 3.
        let tampered = good.replace("\"quantity\":2", "\"quantity\":3");
        assert_ne!(tampered, good);
        assert_eq!(reason(&tampered), Some(Corruption::BadChecksum));
        let no_sum = good.replace("\"checksum\"", "\"checksun\"");
        assert_eq!(reason(&no_sum), Some(Corruption::BadChecksum));
        let newer = good.replace("\"schema\":1", "\"schema\":2");
        let err = decode(&newer).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidSnapshot);
        assert_eq!(corruption_of(&err), Some(Corruption::NewerSchema));
        assert_eq!(err.details["schema"], json!(2));
        // A checksum that matches a cart of the wrong shape.
        let shapeless = format!(
            "{{\"schema\":1,\"checksum\":\"{}\",\"cart\":{{\"id\":5}}}}",
            checksum(b"{\"id\":5}")
        );
        let err = decode(&shapeless).unwrap_err();
        assert_eq!(corruption_of(&err), Some(Corruption::BadCart));
    }

    /// A blob whose cart was edited and whose checksum was recomputed, as a person or an extension
    /// editing storage would.
    fn forged(cart: &CartState, edit: impl Fn(&mut Value)) -> String {
        let mut value = serde_json::to_value(cart).unwrap();
        edit(&mut value);
        let cart_json = serde_json::to_string(&value).unwrap();
        format!(
            "{{\"schema\":1,\"savedAt\":\"2026-11-21T12:00:00Z\",\"checksum\":\"{}\",\"cart\":{cart_json}}}",
            checksum(cart_json.as_bytes())
        )
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn a_blob_with_a_valid_checksum_is_still_validated() {
        let catalog = catalog();
        let good = cart(&catalog);
        assert!(decode(&forged(&good, |_| {})).is_ok());
        let line = |v: &mut Value| v["lineItems"][0].clone();
        let cases: Vec<(&str, Box<dyn Fn(&mut Value)>)> = vec![
            (
                "quantity 2^31",
                Box::new(|v| v["lineItems"][0]["quantity"] = json!(2_147_483_648u64)),
            ),
            (
                "quantity 10^7",
                Box::new(|v| v["lineItems"][0]["quantity"] = json!(10_000_000)),
            ),
            ("quantity 0", Box::new(|v| v["lineItems"][0]["quantity"] = json!(0))),
            ("unknown currency", Box::new(|v| v["currency"] = json!("XXY"))),
            (
                "version 2^53",
                Box::new(|v| v["version"] = json!(9_007_199_254_740_992u64)),
            ),
            (
                "251 lines",
                Box::new(move |v| {
                    let template = line(v);
                    let lines: Vec<Value> = (1..=251)
                        .map(|i| {
                            let mut l = template.clone();
                            l["id"] = json!(format!("li_{i}"));
                            l["attributes"] = json!({ "n": i });
                            l
                        })
                        .collect();
                    v["lineItems"] = json!(lines);
                    v["nextLineId"] = json!(252);
                }),
            ),
            (
                "duplicate line ids",
                Box::new(move |v| {
                    let l = line(v);
                    v["lineItems"] = json!([l.clone(), l]);
                }),
            ),
            (
                "a line id the counter would hand out again",
                Box::new(|v| v["nextLineId"] = json!(1)),
            ),
            (
                "a country that is no code",
                Box::new(|v| v["country"] = json!("Germany")),
            ),
            (
                "a null attribute",
                Box::new(|v| v["lineItems"][0]["attributes"]["a"] = Value::Null),
            ),
            (
                "11 codes",
                Box::new(|v| v["discountCodes"] = json!((0..11).map(|i| format!("C{i}")).collect::<Vec<_>>())),
            ),
            ("ttl 0", Box::new(|v| v["ttlSeconds"] = json!(0))),
            ("an empty id", Box::new(|v| v["id"] = json!(" "))),
        ];
        for (what, edit) in cases {
            let err = decode(&forged(&good, edit)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidSnapshot, "{what}");
            assert_eq!(
                corruption_of(&err),
                Some(Corruption::InvalidCart),
                "{what}: {}",
                err.message
            );
            assert!(err.details["cause"]["code"].is_string(), "{what}");
        }
    }

    #[test]
    fn an_older_hand_written_blob_is_migrated() {
        // The prototype's format, written by hand (see the module docs).
        let blob = r#"{"savedAt": "2026-05-01T09:00:00Z",
          "cart": {"id": "cart_old", "version": 4, "currency": "EUR", "country": "DE", "locale": "de-DE",
                   "customerId": "c-42", "customerEmail": "a@example.com", "customerGroup": null,
                   "items": [{"id": "li_1", "productId": "mug", "sku": "MUG", "name": "Mug", "quantity": 2},
                             {"id": "li_3", "productId": "shirt", "quantity": 1, "attributes": {"size": "L"}}],
                   "codes": ["SUMMER"], "shippingMethodId": "standard",
                   "createdAt": "2026-05-01T08:00:00Z", "updatedAt": "2026-05-01T09:00:00Z"}}"#;
        let restored = decode(blob).unwrap();
        assert_eq!(restored.schema, 0);
        assert!(restored.migrated());
        assert_eq!(restored.saved_at, Some(ts("2026-05-01T09:00:00Z")));
        let cart = restored.cart;
        assert_eq!(cart.id(), "cart_old");
        assert_eq!(cart.version(), 4);
        assert_eq!(cart.status(), CartStatus::Active);
        assert_eq!(cart.customer().id.as_deref(), Some("c-42"));
        assert_eq!(cart.customer().email.as_deref(), Some("a@example.com"));
        assert_eq!(cart.discount_codes(), ["SUMMER".to_string()]);
        assert_eq!(cart.ttl_seconds(), DEFAULT_TTL_SECONDS);
        assert_eq!(cart.line_items().len(), 2);
        let shirt = &cart.line_items()[1];
        assert_eq!((shirt.sku.as_str(), shirt.name.as_str()), ("shirt", "shirt"));
        assert_eq!(shirt.added_at, ts("2026-05-01T09:00:00Z"));
        assert_eq!(shirt.attributes.get("size"), Some(&json!("L")));

        // The migrated cart works: it prices, and a new line gets an id after the highest in use.
        let catalog = catalog();
        let now = ts("2026-05-02T10:00:00Z");
        let view = price(&cart, &catalog, now).unwrap();
        assert_eq!(view.totals.subtotal, 4000);
        assert_eq!(view.totals.discount_total, -400);
        let mut cart = cart;
        let custom = Action::from_value(json!({"action": "addLineItem", "productId": "mug",
                                               "attributes": {"gift": true}}))
        .unwrap();
        cart.apply(&catalog, &[custom], now).unwrap();
        assert_eq!(cart.line_items()[2].id, "li_4");
        assert_eq!(cart.version(), 5);

        // Written back, it is a schema-1 blob that reads without migration.
        let again = decode(&encode(&cart, now).unwrap()).unwrap();
        assert_eq!(again.schema, SCHEMA);
        assert_eq!(again.cart, cart);
    }

    #[test]
    fn migration_refuses_what_it_cannot_read() {
        assert_eq!(
            corruption_of(&migrate(json!([1]), 0).unwrap_err()),
            Some(Corruption::BadCart)
        );
        assert_eq!(
            corruption_of(&migrate(json!({"id": "x"}), 0).unwrap_err()),
            Some(Corruption::BadCart)
        );
        assert_eq!(
            corruption_of(&migrate(json!({}), SCHEMA + 1).unwrap_err()),
            Some(Corruption::NewerSchema)
        );
        // The current schema needs no step.
        assert_eq!(migrate(json!({"a": 1}), SCHEMA).unwrap(), json!({"a": 1}));
        // A blob without a schema is schema 0 and needs the prototype's shape.
        let err = decode(r#"{"cart": {"id": "x", "items": 3, "updatedAt": "2026-05-01T09:00:00Z"}}"#).unwrap_err();
        assert_eq!(corruption_of(&err), Some(Corruption::BadCart));
    }

    #[test]
    fn catalog_cache_round_trips_and_detects_corruption() {
        let json = r#"{"version":"v9","taxCategories":[{"id":"std","rates":[{"rate":"0.19"}]}],"products":[]}"#;
        let text = encode_catalog(json, ts("2026-11-21T12:00:00Z")).unwrap();
        let cached = decode_catalog(&text).unwrap();
        assert_eq!(cached.catalog.version(), Some("v9"));
        assert_eq!(cached.json, json);
        assert_eq!(cached.checksum, catalog_checksum(json));
        assert_eq!(cached_catalog_checksum(&text), Some(catalog_checksum(json)));
        assert_eq!(cached_catalog_checksum("{"), None);
        let bad = text.replace("v9", "v8");
        assert_eq!(
            corruption_of(&decode_catalog(&bad).unwrap_err()),
            Some(Corruption::BadChecksum)
        );
        assert_eq!(
            corruption_of(&decode_catalog("nope").unwrap_err()),
            Some(Corruption::NotASnapshot)
        );
        let invalid = encode_catalog(r#"{"products":[{"id":"x"}]}"#, ts("2026-11-21T12:00:00Z")).unwrap();
        assert_eq!(decode_catalog(&invalid).unwrap_err().code, ErrorCode::InvalidCatalog);
        assert_eq!(catalog_key("cart"), "cart:catalog");
        assert_eq!(corrupt_key("cart", Timestamp::from_millis(42)), "cart:corrupt:42");
    }
}
