//! The storage as the session sees it: the keys it uses, what a read can find, and how a shell lets
//! the session read (writes are [`super::Effect`]s).

use crate::time::Timestamp;

/// What a key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Missing,
    Text(String),
    /// A string that is not well-formed UTF-16 (a lone surrogate): it has no faithful text form, so it
    /// can only be kept aside as it is ([`super::Effect::Preserve`]).
    Malformed,
    /// Not a string at all (a custom storage returned an object or a number): never overwritten.
    NotText,
}

/// A storage call that threw (quota, `SecurityError`, storage disabled): the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFailure(pub String);

/// Synchronous reads of the cart's storage, given by the shell with every input that needs them.
pub trait Storage {
    fn get(&self, key: &str) -> Result<Stored, StorageFailure>;
    /// The keys that start with `prefix` (for the outboxes of other tabs); empty when the storage cannot
    /// list its keys.
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String>;
}

/// No storage (memory mode, Node): everything is missing.
pub struct NoStorage;

impl Storage for NoStorage {
    fn get(&self, _key: &str) -> Result<Stored, StorageFailure> {
        Ok(Stored::Missing)
    }

    fn keys_with_prefix(&self, _prefix: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Where the cart is kept (`cart.persistence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    Local,
    Session,
    Custom,
    Memory,
}

impl Persistence {
    pub fn as_str(self) -> &'static str {
        match self {
            Persistence::Local => "local",
            Persistence::Session => "session",
            Persistence::Custom => "custom",
            Persistence::Memory => "memory",
        }
    }
}

/// How several writers of one storage key are kept from losing each other's changes (`docs/tabs.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coordination {
    /// Changes are committed at a serializable commit point (IndexedDB) in the background, one
    /// transaction at a time across every tab; the storage key mirrors the last commit, and each tab's
    /// changes wait in its outbox key until committed. For `localStorage` in browsers.
    Transactional,
    /// Changes are written straight to the storage, after re-reading it (`sessionStorage`, a custom
    /// storage, or `localStorage` where IndexedDB cannot be used).
    Direct,
}

/// The keys of one cart (`storageKey` and the keys beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    cart: String,
}

impl Keys {
    pub fn new(cart: &str) -> Keys {
        Keys { cart: cart.to_string() }
    }

    /// The cart (DESIGN §7).
    pub fn cart(&self) -> &str {
        &self.cart
    }

    /// The catalog cache.
    pub fn catalog(&self) -> String {
        crate::snapshot::catalog_key(&self.cart)
    }

    /// The checkout on its way (docs/checkout.md).
    pub fn checkout(&self) -> String {
        crate::checkout::client::record_key(&self.cart)
    }

    /// The order archive.
    pub fn orders(&self) -> String {
        crate::checkout::client::orders_key(&self.cart)
    }

    /// Where an unreadable value of `key` is kept (never deleted).
    pub fn corrupt(&self, key: &str, at: Timestamp) -> String {
        crate::snapshot::corrupt_key(key, at)
    }

    /// The prefix of every tab's outbox.
    pub fn outbox_prefix(&self) -> String {
        format!("{}:tab:", self.cart)
    }

    /// The outbox of tab `tab`: its changes not yet committed.
    pub fn outbox(&self, tab: &str) -> String {
        format!("{}:tab:{tab}", self.cart)
    }
}
