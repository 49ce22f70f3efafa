//! A change as the session records it until it is committed: an *op*. A tab applies its ops to the
//! view at once (so every call returns the new view), keeps them in its outbox, and the commit
//! replays them on the newest committed cart. Replaying must give what the tab showed unless another
//! tab's change came first; then it gives the combination of both, or refuses the op.

use crate::cart::{Action, CartState, CartStatus, MergeMode};
use crate::catalog::Catalog;
use crate::error::{CartError, ErrorCode, Result};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// One change of one tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Op {
    /// The tab's sequence number, from 1: the commit records the last one it included.
    pub seq: u64,
    /// When the change was made; a replay runs at that time.
    pub at: Timestamp,
    /// The cart it was made on.
    pub cart_id: String,
    /// The version of the cart it was applied to when it was made.
    pub on_version: u64,
    /// Made with `expectedVersion`: then it only applies on that very version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guarded: bool,
    /// The line (and custom line) ids it created in the tab's view, in order (updated when the view is
    /// re-derived on a newer record).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    pub kind: OpKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum OpKind {
    /// A batch of actions (every mutating method).
    Actions { actions: Vec<Action> },
    /// The replaying tab's catalog is adopted (`update_catalog`).
    Catalog,
    /// The cart's time to live changes (the `ttlSeconds` option of `open`).
    SetTtl { seconds: u64 },
    /// A new cart replaces cart `previous` (expiry, an ordered or merged cart at open), or, with
    /// `previous` null, starts the first cart under the key. Another tab that replaced it first wins.
    Replace {
        previous: Option<String>,
        cart: Box<CartState>,
    },
    /// Cart `ordered.id` became an order; `next` replaces it, and keeps what the stored cart holds beyond
    /// what was ordered (a line another tab added while the order was on its way).
    Ordered {
        ordered: Box<CartState>,
        next: Box<CartState>,
    },
    /// `guest` is merged into the cart (`cart.merge(other)`).
    Merge { guest: Box<CartState>, mode: MergeMode },
    /// This cart was merged into another.
    MarkMerged,
}

/// A tab's ops not yet committed, under `<key>:tab:<tab>`. Written at every change, so that a change
/// survives its tab closing before the commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outbox {
    pub tab: String,
    pub ops: Vec<Op>,
}

impl Outbox {
    pub fn encode(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| CartError::invalid_request(format!("outbox: {e}")))
    }

    /// An unreadable outbox is `None`: it holds changes of a tab that is gone, and cannot be replayed.
    pub fn decode(text: &str) -> Option<Outbox> {
        crate::tracked::from_str(text).ok()
    }
}

/// What replaying needs besides the op.
pub(crate) struct Replay<'a> {
    pub catalog: &'a Catalog,
}

/// The outcome of one op.
pub(crate) struct Replayed {
    pub cart: CartState,
    /// The line ids it created, in order.
    pub created: Vec<String>,
}

/// How an op refers to a line that an earlier op of its tab created and that was not committed yet
/// when the op was made: by that op and position, since the line's id may change when it is committed
/// (another tab's line took it). No line id starts with the unit separator.
pub(crate) fn symbol(seq: u64, index: usize) -> String {
    format!("\u{1f}op:{seq}:{index}")
}

/// The symbols of the lines `ops` created (as the tab shows them) -> the ids the tab shows.
pub(crate) fn symbols_of(ops: &[Op]) -> BTreeMap<String, String> {
    ops.iter()
        .flat_map(|op| {
            op.created
                .iter()
                .enumerate()
                .map(move |(k, id)| (id.clone(), symbol(op.seq, k)))
        })
        .collect()
}

impl Replay<'_> {
    /// Applies `op` to `base` (`None`: nothing stored yet). `resolve` maps the symbols the op uses
    /// ([`symbol`]) to the ids those lines have now.
    pub fn run(&self, base: Option<&CartState>, op: &Op, resolve: &BTreeMap<String, String>) -> Result<Replayed> {
        let unchanged = |cart: &CartState| Replayed {
            cart: cart.clone(),
            created: Vec::new(),
        };
        let Some(base) = base else {
            return match &op.kind {
                OpKind::Replace { cart, .. } => Ok(unchanged(cart)),
                _ => Err(CartError::new(ErrorCode::CartNotActive, "there is no cart to change")),
            };
        };
        let mut cart = base.clone();
        match &op.kind {
            OpKind::Actions { actions } => {
                let actions: Vec<Action> = actions.iter().map(|a| a.with_line_ids(resolve)).collect();
                let expected = op.guarded.then_some(op.on_version);
                cart.apply_expecting(self.catalog, &actions, op.at, expected)?;
            }
            OpKind::Catalog => {
                cart.update_catalog(self.catalog, op.at)?;
            }
            OpKind::SetTtl { seconds } => cart.set_ttl(*seconds),
            OpKind::Replace { previous, cart: next } => {
                // First writer wins: a replacement of a cart that is no longer there is dropped.
                if previous.as_deref() == Some(base.id()) {
                    cart = (**next).clone();
                }
            }
            OpKind::Ordered { ordered, next } => {
                if base.id() == ordered.id() {
                    cart = carry_over(base, ordered, (**next).clone(), self.catalog, op.at);
                }
            }
            OpKind::Merge { guest, mode } => {
                cart.merge(&mut (**guest).clone(), *mode, self.catalog, op.at)?;
            }
            OpKind::MarkMerged => {
                if base.id() == op.cart_id && base.status() == CartStatus::Active {
                    cart.mark_merged(op.at)?;
                }
            }
        }
        let created = created_ids(base, &cart);
        Ok(Replayed { cart, created })
    }
}

/// The ids `after` created compared with `before`, in order (what an op records as `created`).
pub(crate) fn created_ids(before: &CartState, after: &CartState) -> Vec<String> {
    let old = before.line_ids();
    after
        .line_ids()
        .into_iter()
        .filter(|id| !old.contains(id))
        .map(str::to_string)
        .collect()
}

/// The cart that follows an order: `next`, plus whatever `current` (the cart as stored now) holds
/// beyond `ordered` (the cart as it was ordered): lines or units another tab added while the order was
/// on its way would otherwise vanish with the ordered cart. What cannot be added is left out.
pub(crate) fn carry_over(
    current: &CartState,
    ordered: &CartState,
    next: CartState,
    catalog: &Catalog,
    now: Timestamp,
) -> CartState {
    let mut next = next;
    for line in current.line_items() {
        let in_order: u32 = ordered
            .line_items()
            .iter()
            .filter(|o| o.is_same_item(&line.product_id, line.variant_id, &line.attributes))
            .map(|o| o.quantity)
            .sum();
        let extra = line.quantity.saturating_sub(in_order);
        if extra == 0 {
            continue;
        }
        let add = Action::AddLineItem {
            product_id: Some(line.product_id.to_string()),
            sku: None,
            variant_id: line.variant_id,
            quantity: i64::from(extra),
            attributes: (*line.attributes).clone(),
        };
        let mut trial = next.clone();
        if trial.apply(catalog, &[add], now).is_ok() {
            next = trial;
        }
    }
    next
}

/// The refusal of an op whose cart was replaced before it could be committed.
pub(crate) fn conflict(op: &Op, cause: &CartError) -> CartError {
    CartError::new(
        ErrorCode::ConcurrentModification,
        format!(
            "a change could not be kept: another tab changed the cart first ({})",
            cause.message
        ),
    )
    .with_details(json!({ "cause": cause, "cartId": op.cart_id, "at": op.at }))
}
