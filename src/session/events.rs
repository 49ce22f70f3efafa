//! When listeners run. Events are delivered after the call that raised them has finished, by the
//! outermost call of the module, one at a time, never from inside another listener: a listener that
//! changes the cart queues the next event instead of recursing (which in WebAssembly exhausts the
//! stack and kills the module for good). A listener that keeps changing the cart in reaction to its
//! own events is stopped after [`LISTENER_ROUNDS`] changes in one delivery: further changes from
//! listeners are refused with `LISTENER_LOOP` until the delivery ends, and one `error` event says so.

use crate::error::{CartError, ErrorCode};
use serde_json::json;
use std::collections::VecDeque;

/// Changes listeners may make during one delivery before they are refused.
pub const LISTENER_ROUNDS: u32 = 100;

/// The queue of events of a module (shared by its carts, so that a listener of one cart changing
/// another does not recurse either). Generic over what the shell queues.
#[derive(Debug)]
pub struct Dispatcher<T> {
    queue: VecDeque<T>,
    delivering: bool,
    changes: u32,
    stopped: bool,
}

impl<T> Default for Dispatcher<T> {
    fn default() -> Self {
        Dispatcher {
            queue: VecDeque::new(),
            delivering: false,
            changes: 0,
            stopped: false,
        }
    }
}

impl<T> Dispatcher<T> {
    pub fn push(&mut self, item: T) {
        self.queue.push_back(item);
    }

    /// `true` when the caller must deliver the queue now: there is something to deliver and no
    /// delivery is running further up the stack (that one will deliver it). Pair with [`Self::end`].
    pub fn begin(&mut self) -> bool {
        if self.delivering || self.queue.is_empty() {
            return false;
        }
        self.delivering = true;
        true
    }

    pub fn pop(&mut self) -> Option<T> {
        self.queue.pop_front()
    }

    /// The delivery is over.
    pub fn end(&mut self) {
        self.delivering = false;
        self.changes = 0;
        self.stopped = false;
    }

    pub fn delivering(&self) -> bool {
        self.delivering
    }

    /// A listener is about to change a cart. `Err((error, first))`: refused, the loop is stopped; when
    /// `first`, the shell also reports `error` as an `error` event.
    pub fn change_from_listener(&mut self) -> Result<(), (CartError, bool)> {
        if !self.delivering {
            return Ok(());
        }
        self.changes = self.changes.saturating_add(1);
        if self.changes <= LISTENER_ROUNDS {
            return Ok(());
        }
        let first = !self.stopped;
        self.stopped = true;
        Err((
            CartError::new(
                ErrorCode::ListenerLoop,
                format!("a listener changed the cart {LISTENER_ROUNDS} times in reaction to change events; further changes from listeners are refused until the events are delivered"),
            )
            .with_details(json!({ "limit": LISTENER_ROUNDS })),
            first,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_delivered_by_the_outermost_call_only() {
        let mut d = Dispatcher::default();
        assert!(!d.begin(), "nothing to deliver");
        d.push(1);
        assert!(d.begin());
        assert_eq!(d.pop(), Some(1));
        // A listener makes a change: its event is queued, and its call does not deliver.
        d.push(2);
        assert!(!d.begin());
        assert_eq!(d.pop(), Some(2));
        assert_eq!(d.pop(), None);
        d.end();
        assert!(!d.delivering());
    }

    #[test]
    fn a_listener_that_keeps_changing_the_cart_is_stopped_once_and_reset_after() {
        let mut d = Dispatcher::<u32>::default();
        assert!(d.change_from_listener().is_ok(), "outside a delivery anything goes");
        d.push(0);
        assert!(d.begin());
        for _ in 0..LISTENER_ROUNDS {
            assert!(d.change_from_listener().is_ok());
        }
        let (e, first) = d.change_from_listener().unwrap_err();
        assert_eq!(e.code, ErrorCode::ListenerLoop);
        assert!(first);
        let (_, first) = d.change_from_listener().unwrap_err();
        assert!(!first, "reported once");
        d.end();
        d.push(0);
        assert!(d.begin());
        assert!(d.change_from_listener().is_ok(), "the next delivery starts afresh");
    }
}
