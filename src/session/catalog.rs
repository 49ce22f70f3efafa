//! The catalog a session prices with: given to `open` / `setCatalog`, or the cached one.

use super::{Keys, Persistence, Storage, Stored};
use crate::catalog::Catalog;
use crate::error::{CartError, ErrorCode, Result};
use crate::snapshot::{self, CachedCatalog};
use serde_json::{json, Value};

/// A parsed catalog, with its compact JSON (for the cache and `cart.catalog()`) and checksum.
#[derive(Debug, Clone)]
pub struct CatalogInput {
    pub catalog: Catalog,
    pub json: String,
    pub checksum: String,
    /// Given by the caller (and so to be cached), rather than read from the cache.
    pub given: bool,
}

impl CatalogInput {
    /// Parses a catalog given as JSON text (`INVALID_CATALOG` naming the path of every problem).
    pub fn parse(text: &str) -> Result<CatalogInput> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| CartError::new(ErrorCode::InvalidCatalog, format!("catalog is not JSON: {e}")))?;
        let json =
            serde_json::to_string(&value).map_err(|e| CartError::new(ErrorCode::InvalidCatalog, e.to_string()))?;
        let catalog = Catalog::from_value(value)?;
        let checksum = snapshot::catalog_checksum(&json);
        Ok(CatalogInput {
            catalog,
            json,
            checksum,
            given: true,
        })
    }

    pub(crate) fn from_cache(cached: CachedCatalog) -> CatalogInput {
        CatalogInput {
            catalog: cached.catalog,
            json: cached.json,
            checksum: cached.checksum,
            given: false,
        }
    }

    /// The catalog cached under `<storageKey>:catalog`, for an `open` without one.
    pub(crate) fn cached(storage: &dyn Storage, keys: &Keys, persistence: Persistence) -> Result<CatalogInput> {
        let text = match (persistence, storage.get(&keys.catalog())) {
            (Persistence::Memory, _) => None,
            (_, Ok(Stored::Text(text))) => Some(text),
            _ => None,
        };
        let text = text.ok_or_else(|| {
            CartError::invalid_field(
                "catalog",
                "catalog: required (none given, and none cached under this storageKey)",
            )
        })?;
        snapshot::decode_catalog(&text)
            .map(CatalogInput::from_cache)
            .map_err(|e| {
                CartError::new(
                    ErrorCode::InvalidCatalog,
                    format!("no catalog given, and the cached one cannot be used: {}", e.message),
                )
                .with_details(json!({ "field": "catalog" }))
            })
    }
}
