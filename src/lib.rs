//! # wasm-cart
//!
//! An offline-capable shopping cart and pricing engine. The cart domain and its pricing pipeline are
//! plain Rust (no I/O, no clock: time comes in as a parameter), so the same code prices a cart in the
//! browser (compiled to WebAssembly, see the `web` feature) and on the checkout server.
//!
//! ```
//! use wasm_cart::{price, Action, CartState, Catalog, NewCart, Timestamp};
//!
//! let catalog = Catalog::from_json(r#"{
//!   "taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}],
//!   "products": [{"id": "mug", "name": "Mug", "taxCategory": "std",
//!                 "prices": [{"currency": "EUR", "amount": "10.00"}]}]
//! }"#)?;
//! let now = Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap_or_default();
//! let new = NewCart { id: "cart_1".into(), currency: "EUR".into(), country: Some("DE".into()), ..Default::default() };
//! let mut cart = CartState::new(new, &catalog, now)?;
//! cart.apply(&catalog, &[Action::from_value(serde_json::json!({"action": "addLineItem", "productId": "mug", "quantity": 3}))?], now)?;
//! let view = price(&cart, &catalog, now)?;
//! assert_eq!(view.totals.total, 3000); // minor units: 30.00 EUR, 19% VAT included
//! assert_eq!(view.totals.tax_total, 479);
//! # Ok::<(), wasm_cart::CartError>(())
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod error;
pub mod money;
pub mod pricing;
pub mod session;
pub mod snapshot;
pub mod text;
pub mod time;
pub mod tracked;
#[cfg(test)]
mod typescript;
#[cfg(feature = "web")]
pub mod web;

pub use cart::{Action, Address, CartState, CartStatus, Customer, MergeMode, MergeReport, NewCart};
pub use catalog::Catalog;
pub use error::{CartError, ErrorCode, Result};
pub use money::{Money, RoundingMode};
pub use pricing::{price, CartView, CodeState, LineView};
pub use time::Timestamp;

/// Runs the README's Rust example as a doc test, so the documented API cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
