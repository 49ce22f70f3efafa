//! Checkout in the session (DESIGN §8, docs/checkout.md).

use super::effect::Effects;
use super::{Session, Storage};
use crate::cart::CartState;
use crate::checkout::client::{self, ArchivedOrder, PriceQuote};
use crate::pricing::CartView;
use crate::time::Timestamp;

/// How requests are sent.
#[derive(Debug, Clone)]
pub struct SendOptions {}

/// The options of a checkout.
#[derive(Debug, Clone)]
pub struct CheckoutInput {}

#[derive(Debug, Default)]
pub(crate) struct CheckoutState {
    /// Prices accepted after `PRICE_CHANGED`.
    pub quote: Option<PriceQuote>,
}

impl CheckoutState {
    /// The view the shopper sees: the engine's, with the accepted server prices while they apply.
    pub fn shown(&self, cart: &CartState, view: CartView) -> CartView {
        match &self.quote {
            Some(quote) if quote.applies_to(cart) => quote.overlay(view),
            _ => view,
        }
    }
}

impl Session {
    pub(crate) fn checkout_at_open(&mut self, _storage: &dyn Storage, _now: Timestamp, _fx: &mut Effects) {}

    pub(crate) fn checkout_timer(
        &mut self,
        _id: u64,
        _storage: &dyn Storage,
        _now: Timestamp,
        _entropy: &mut dyn super::Entropy,
        _fx: &mut Effects,
    ) {
    }

    pub(crate) fn checkout_storage_changed(&mut self, _storage: &dyn Storage, _now: Timestamp, _fx: &mut Effects) {}

    /// The archived order of cart `cart_id`, if `<storageKey>:orders` holds one.
    pub(crate) fn archived(&self, cart_id: &str) -> Option<ArchivedOrder> {
        let _ = client::orders_key;
        let _ = cart_id;
        None
    }
}
