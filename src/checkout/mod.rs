//! Checkout and sync (DESIGN §8): the request and response models, and one adapter per cart API.
//!
//! - `client`: the browser's checkout state (persisted record, archive, retries, accepted prices).
//! - `plan`: the request-plan machinery every non-SPEC-B protocol uses, and [`plan::plan_for`].
//! - `spec_b_plan`: SPEC-B checkout as a plan, and the order lookup after an answer was lost.
//! - `distributor_v3`, `commercetools`, `shopware`, `sylius`, `sylius_shop`: the adapters (seeds 000,
//!   004, 003, 002, and the Sylius shop API v2). docs/sync.md describes each.

pub mod client;
pub mod commercetools;
#[cfg(feature = "relay")]
pub mod distributor_v3;
pub mod plan;
pub mod shopware;
pub mod spec_b_plan;
#[cfg(feature = "relay")]
pub mod sylius;
pub mod sylius_shop;

pub use plan::{plan_for, HttpRequest, HttpResponse, PlacedOrder, Plan, Protocol, Step, SyncInput, SyncOutcome};

/// SPEC-B (seed 001): the default protocol, spoken by the web layer and by `cart-server`.
pub mod spec_b;
