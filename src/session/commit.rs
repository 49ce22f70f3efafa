//! Committing: turning the ops of this tab (and of tabs that went away before committing theirs) into
//! the next record, and following the records other tabs commit. `docs/tabs.md` has the protocol.

use super::effect::{Effect, Effects, Event};
use super::op::{conflict, symbol, Op, Outbox, Replay};
use super::{Coordination, Persistence, Record, Session, Storage, Stored};
use crate::cart::CartStatus;
use crate::error::CartError;
use crate::pricing::price;
use crate::snapshot::{self, Refusal, Sync, Writer};
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// An outbox whose newest op is this old (ms) belongs to a tab that is gone or frozen: the next commit
/// of any tab takes its ops. Younger ones are left to their tab, which commits them within
/// milliseconds (and alone knows how it renamed the lines they refer to).
pub const ADOPT_AFTER_MS: i64 = 2_000;
/// An outbox whose ops are all committed and whose newest op is this old (ms) is removed by the tab
/// that notices (its tab would have removed it itself if it were still there).
pub const FORGET_OUTBOX_AFTER_MS: i64 = 60_000;
/// How many refused ops a record keeps (for the tabs that made them to report).
const REFUSALS_KEPT: usize = 16;
/// How many writers a record remembers (the most recent ones).
const WRITERS_KEPT: usize = 64;
/// Changes per writer whose created line ids a record keeps (a later change of that writer may refer
/// to those lines by symbol while they were not committed yet).
const LINES_KEPT: usize = 64;
/// Commits that fail in a row before the session stops using the commit point.
const COMMIT_ATTEMPTS: u32 = 3;
/// Timer ids of the session's own (not checkout) timers.
pub(crate) const TIMER_COMMIT_RETRY: u64 = 1;
pub(crate) const TIMER_ADOPT: u64 = 2;

/// The commit in progress, if any.
#[derive(Debug, Default)]
pub(crate) struct CommitState {
    running: bool,
    again: bool,
    failures: u32,
    in_flight: Option<InFlight>,
    adopt_timer: bool,
    /// The last record texts this session encoded or decoded, with their records, newest last. The
    /// commit point and the cart key usually hold exactly what this tab committed last (the key, before
    /// a commit lands, the one before): those texts then need no decoding, which was the larger part of
    /// a commit (docs/performance.md).
    known: Vec<(String, Record)>,
}

#[derive(Debug)]
struct InFlight {
    record: Record,
    /// The text stored, when the commit wrote one.
    text: Option<String>,
    /// Outboxes of gone tabs that are fully committed: removed once the commit lands.
    forget: Vec<String>,
    /// A stored record that could not be read (reported when the commit lands).
    unreadable: Option<CartError>,
}

impl CommitState {
    /// Asks for a commit: `true` if the caller must start one now (none is running).
    pub fn request(&mut self) -> bool {
        if self.running {
            self.again = true;
            false
        } else {
            self.running = true;
            true
        }
    }

    /// How many record texts [`CommitState::known`] keeps.
    const KNOWN: usize = 2;

    fn known(&self, text: &str) -> Option<&Record> {
        self.known
            .iter()
            .rev()
            .find(|(known, _)| known == text)
            .map(|(_, record)| record)
    }

    fn remember(&mut self, text: String, record: Record) {
        if self.known.len() >= Self::KNOWN {
            self.known.remove(0);
        }
        self.known.push((text, record));
    }

    pub fn mark_running(&mut self) {
        self.running = true;
    }
}

impl Session {
    /// Inside the commit point's read-write transaction: `stored` is the record there (`None`: none
    /// yet). Returns the record to store, or `None` when nothing changes. Call [`Session::committed`]
    /// once the transaction is over.
    pub fn commit(&mut self, stored: Option<&str>, storage: &dyn Storage, now: Timestamp) -> Option<String> {
        let (current, unreadable) = match stored.map(|text| self.record_of(text)) {
            None => (None, None),
            Some(Ok(r)) => (Some(r), None),
            Some(Err(e)) => (None, Some(e)),
        };
        let (record, changed, forget) = self.decide(current.clone(), storage, now);
        let text = if changed { record.encode(now).ok() } else { None };
        if let Some(text) = &text {
            self.commit.remember(text.clone(), record.clone());
        }
        let record = if text.is_some() {
            record
        } else {
            current.unwrap_or(record)
        };
        self.commit.in_flight = Some(InFlight {
            record,
            text: text.clone(),
            forget,
            unreadable,
        });
        text
    }

    /// The record `text` holds: the one this session encoded or decoded last if it is that text (a
    /// record's text decodes to the record it was encoded from: every tab relies on that), else decoded.
    fn record_of(&mut self, text: &str) -> Result<Record, CartError> {
        if let Some(record) = self.commit.known(text) {
            return Ok(record.clone());
        }
        let record = Record::from_restored(snapshot::decode(text)?);
        self.commit.remember(text.to_string(), record.clone());
        Ok(record)
    }

    /// The commit transaction is over: `ok` if it completed (what `commit` returned is stored).
    pub fn committed(&mut self, ok: bool, storage: &dyn Storage, now: Timestamp) -> Vec<Effect> {
        let mut fx = Effects::default();
        self.commit.running = false;
        let in_flight = self.commit.in_flight.take();
        match (ok, in_flight) {
            (true, Some(done)) => {
                self.commit.failures = 0;
                if let Some(e) = done.unreadable {
                    fx.error(e);
                }
                for key in &done.forget {
                    self.remove(key, &mut fx);
                }
                self.land(done.record, done.text, storage, now, &mut fx);
            }
            (true, None) => {}
            (false, _) => {
                self.commit.failures = self.commit.failures.saturating_add(1);
                if self.commit.failures >= COMMIT_ATTEMPTS {
                    fx.error(
                        CartError::new(
                            crate::error::ErrorCode::StorageUnavailable,
                            "IndexedDB keeps failing; tabs now share the cart through localStorage alone (docs/tabs.md)",
                        )
                        .with_details(serde_json::json!({ "operation": "commit" })),
                    );
                    self.coordination = Coordination::Direct;
                    self.commit = CommitState::default();
                    self.commit_direct(storage, now, &mut fx);
                    return fx.into_vec();
                }
                let ms = 50u64 << self.commit.failures.min(6);
                fx.push(Effect::Wait {
                    id: TIMER_COMMIT_RETRY,
                    ms,
                    retry: false,
                });
                return fx.into_vec();
            }
        }
        if self.coordination == Coordination::Transactional && (self.commit.again || !self.pending.is_empty()) {
            self.commit.again = false;
            if self.commit.request() {
                fx.push(Effect::Commit);
            }
        }
        fx.into_vec()
    }

    /// The commit point cannot be used at all (no IndexedDB, or it refused to open): from now on the
    /// cart is written straight to storage.
    pub fn commit_point_unavailable(&mut self, storage: &dyn Storage, now: Timestamp) -> Vec<Effect> {
        let mut fx = Effects::default();
        if self.coordination == Coordination::Transactional {
            self.coordination = Coordination::Direct;
            self.commit = CommitState::default();
            self.remove(&self.keys.outbox(&self.tab), &mut fx);
            self.commit_direct(storage, now, &mut fx);
        }
        fx.into_vec()
    }

    /// The next record: `current` (else what this session knows) with every new op of this tab, and of
    /// tabs gone for [`ADOPT_AFTER_MS`], replayed. Returns it, whether it changed, and the outboxes to
    /// forget.
    pub(crate) fn decide(
        &self,
        current: Option<Record>,
        storage: &dyn Storage,
        now: Timestamp,
    ) -> (Record, bool, Vec<String>) {
        let seeded = current.is_none() && self.base.is_some();
        let on_our_base = matches!((&current, &self.base), (Some(c), Some(b)) if c.sync.commit == b.sync.commit);
        let start = current.or_else(|| self.base.clone());
        let mut cart = start.as_ref().map(|r| r.cart.clone());
        let mut sync = start.map(|r| r.sync).unwrap_or_default();
        let (mut tabs, forget) = self.foreign_ops(&sync, storage, now);
        // The common case: nothing was committed since this tab's base and no other tab's ops are taken
        // over, so replaying this tab's ops gives the cart it shows, which was checked (applied and
        // priced) when each op was made: no need to do it again.
        let shown = (on_our_base && tabs.is_empty()).then(|| self.shown.clone());
        tabs.push((self.tab.clone(), self.pending.clone()));
        let replay = Replay {
            catalog: &self.catalog.catalog,
        };
        let mut changed = seeded;
        for (tab, ops) in tabs {
            let mut writer = sync.writers.get(&tab).cloned().unwrap_or_default();
            let mut resolve = resolution(&writer);
            let done = writer.seq;
            if let Some(shown) = shown.as_ref().filter(|_| ops.iter().any(|op| op.seq > done)) {
                for op in ops.iter().filter(|op| op.seq > done) {
                    if !op.created.is_empty() {
                        writer.lines.insert(op.seq, op.created.clone());
                    }
                    writer.seq = op.seq;
                    writer.at = op.at;
                }
                cart = Some(shown.clone());
                changed = true;
                keep_last(&mut writer.lines, LINES_KEPT);
                sync.writers.insert(tab, writer);
                continue;
            }
            for op in ops.iter().filter(|op| op.seq > done) {
                let outcome = replay.run(cart.as_ref(), op, &resolve).and_then(|r| {
                    price(&r.cart, &self.catalog.catalog, op.at)?;
                    Ok(r)
                });
                match outcome {
                    Ok(r) => {
                        cart = Some(r.cart);
                        for (k, id) in r.created.iter().enumerate() {
                            resolve.insert(symbol(op.seq, k), id.clone());
                        }
                        if !r.created.is_empty() {
                            writer.lines.insert(op.seq, r.created);
                        }
                    }
                    Err(e) => sync.refused.push(Refusal {
                        writer: tab.clone(),
                        seq: op.seq,
                        error: conflict(op, &e),
                    }),
                }
                writer.seq = op.seq;
                writer.at = op.at;
                changed = true;
            }
            keep_last(&mut writer.lines, LINES_KEPT);
            sync.writers.insert(tab, writer);
        }
        let Some(cart) = cart.filter(|_| changed) else {
            let record = self.base.clone().unwrap_or(Record {
                cart: self.shown.clone(),
                sync,
            });
            return (record, false, forget);
        };
        sync.commit = sync.commit.saturating_add(1);
        let excess = sync.refused.len().saturating_sub(REFUSALS_KEPT);
        sync.refused.drain(..excess);
        prune_writers(&mut sync.writers, &self.tab);
        (Record { cart, sync }, true, forget)
    }

    /// The ops of other tabs' outboxes to take over (their tab is gone), and the outboxes to forget.
    fn foreign_ops(&self, sync: &Sync, storage: &dyn Storage, now: Timestamp) -> (Vec<(String, Vec<Op>)>, Vec<String>) {
        let (mut take, mut forget) = (Vec::new(), Vec::new());
        if self.coordination != Coordination::Transactional {
            return (take, forget);
        }
        let own = self.keys.outbox(&self.tab);
        for key in storage.keys_with_prefix(&self.keys.outbox_prefix()) {
            if key == own {
                continue;
            }
            let Some(outbox) = self.read_outbox(storage, &key) else {
                continue;
            };
            let done = sync.writers.get(&outbox.tab).map_or(0, |w| w.seq);
            let newest = outbox.ops.iter().map(|o| o.at.millis()).max().unwrap_or(i64::MIN);
            let age = now.millis().saturating_sub(newest);
            let open: Vec<Op> = outbox.ops.into_iter().filter(|o| o.seq > done).collect();
            if open.is_empty() {
                if age >= FORGET_OUTBOX_AFTER_MS {
                    forget.push(key);
                }
            } else if age >= ADOPT_AFTER_MS {
                take.push((outbox.tab, open));
            }
        }
        take.sort_by(|a, b| a.0.cmp(&b.0));
        (take, forget)
    }

    fn read_outbox(&self, storage: &dyn Storage, key: &str) -> Option<Outbox> {
        match storage.get(key) {
            Ok(Stored::Text(text)) => Outbox::decode(&text),
            _ => None,
        }
    }

    /// Whether some other tab's outbox holds ops no record includes yet (a tab that went away).
    fn orphaned_ops(&self, storage: &dyn Storage) -> bool {
        let Some(base) = &self.base else {
            return false;
        };
        let own = self.keys.outbox(&self.tab);
        storage
            .keys_with_prefix(&self.keys.outbox_prefix())
            .into_iter()
            .filter(|k| *k != own)
            .filter_map(|k| self.read_outbox(storage, &k))
            .any(|o| {
                let done = base.sync.writers.get(&o.tab).map_or(0, |w| w.seq);
                o.ops.iter().any(|op| op.seq > done)
            })
    }

    /// A commit of this session was stored: mirror and broadcast it, then follow it.
    fn land(&mut self, record: Record, text: Option<String>, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) {
        let commit = record.sync.commit;
        // What the key holds, read once: a newer record is not overwritten, an older one caught up.
        let stored = self.mirror_is_older_or_newer(commit, storage);
        let wrote = match text {
            Some(text) => {
                let newest = self.base.as_ref().is_none_or(|b| b.sync.commit <= commit) && !stored.is_gt();
                if newest {
                    self.write_cart(text.clone(), fx);
                }
                if self.persistence != Persistence::Memory {
                    fx.push(Effect::Broadcast(text.clone()));
                }
                self.mirror = Some(text);
                newest
            }
            None => false,
        };
        // The outbox follows in `rebase` (the ops this commit included leave it).
        if self.adopt(record, storage, now, fx) {
            self.wrote_base |= wrote;
            if !wrote && stored.is_lt() && self.coordination == Coordination::Transactional {
                // The key holds an older record than the commit point (its writer closed before writing
                // it, or a late writer overwrote it): catch it up.
                self.rewrite_mirror(now, fx);
            }
        }
    }

    /// How the record under the cart key compares with commit `commit` (transactional mode; `Equal`
    /// otherwise, and when it cannot be read): `Greater` when another tab's newer commit landed first
    /// (then it is not overwritten), `Less` when the key lags behind.
    fn mirror_is_older_or_newer(&self, commit: u64, storage: &dyn Storage) -> std::cmp::Ordering {
        if self.coordination != Coordination::Transactional {
            return std::cmp::Ordering::Equal;
        }
        let stored = match storage.get(self.keys.cart()) {
            Ok(Stored::Text(text)) => match self.commit.known(&text) {
                Some(record) => Some(record.sync.commit),
                None => snapshot::decode(&text).ok().and_then(|r| r.sync).map(|s| s.commit),
            },
            _ => None,
        };
        stored.map_or(std::cmp::Ordering::Less, |c| c.cmp(&commit))
    }

    /// Makes `record` the base if it is newer than the one this session has, and re-derives the view.
    fn adopt(&mut self, record: Record, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) -> bool {
        let order = self
            .base
            .as_ref()
            .map_or(std::cmp::Ordering::Greater, |b| record.sync.commit.cmp(&b.sync.commit));
        match order {
            std::cmp::Ordering::Less => return false,
            std::cmp::Ordering::Greater => self.wrote_base = false,
            // The same commit (another tab's repair of the key): the duty to repair stays with this tab.
            std::cmp::Ordering::Equal => {}
        }
        self.base = Some(record);
        self.rebase(storage, now, fx);
        true
    }

    /// The view after the base moved: the base with this tab's remaining ops replayed. Ops the base
    /// already includes are dropped; ops that no longer apply are dropped and reported.
    fn rebase(&mut self, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) {
        let Some(base) = self.base.clone() else {
            return;
        };
        let writer = base.sync.writers.get(&self.tab).cloned().unwrap_or_default();
        for refusal in base.sync.refused.iter().filter(|r| r.writer == self.tab) {
            if self.pending.iter().any(|op| op.seq == refusal.seq) {
                fx.error(refusal.error.clone());
            }
        }
        let before = std::mem::replace(&mut self.shown, base.cart.clone());
        let before_pending = self.pending.len();
        self.pending.retain(|op| op.seq > writer.seq);
        let replay = Replay {
            catalog: &self.catalog.catalog,
        };
        let mut resolve = resolution(&writer);
        let mut kept = Vec::with_capacity(self.pending.len());
        for mut op in std::mem::take(&mut self.pending) {
            match replay.run(Some(&self.shown), &op, &resolve) {
                Ok(r) => {
                    // The lines it created may show under other ids now; later ops name them by symbol.
                    for (k, id) in r.created.iter().enumerate() {
                        resolve.insert(symbol(op.seq, k), id.clone());
                    }
                    op.created = r.created;
                    self.shown = r.cart;
                    kept.push(op);
                }
                Err(e) => fx.error(conflict(&op, &e)),
            }
        }
        self.pending = kept;
        if self.pending.len() != before_pending && self.coordination == Coordination::Transactional {
            self.write_outbox(fx);
        }
        if self.shown != before {
            fx.emit(Event::Change);
            self.announce_ordered_elsewhere(&before, storage, now, fx);
        }
    }

    /// The cart shown before was active and another cart replaced it: if the archive says it was
    /// ordered (in another tab), raise `ordered` here too.
    fn announce_ordered_elsewhere(
        &mut self,
        before: &crate::cart::CartState,
        storage: &dyn Storage,
        now: Timestamp,
        fx: &mut Effects,
    ) {
        if before.id() == self.shown.id() || before.status() != CartStatus::Active || before.id().is_empty() {
            return;
        }
        if self.announced.as_deref() == Some(before.id()) {
            return;
        }
        match self.archived_in(storage, before.id()) {
            Some(archived) => {
                self.announced = Some(before.id().to_string());
                self.unannounced = None;
                if let Ok(view) = price(&archived.cart, &self.catalog.catalog, now) {
                    fx.emit(Event::Ordered {
                        order: Some(archived.order),
                        cart: Box::new(view),
                    });
                }
            }
            // The archive may reach this tab after the new cart does (two keys, no order between them).
            None => self.unannounced = Some(before.clone()),
        }
    }

    /// Direct mode: re-reads the stored cart and follows it if another writer changed it. Called before
    /// every change (DESIGN §7: reload, re-apply, then write).
    pub(crate) fn sync_direct(&mut self, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) {
        if self.coordination != Coordination::Direct || self.persistence == Persistence::Memory {
            return;
        }
        let key = self.keys.cart().to_string();
        match self.read(storage, &key) {
            Ok(Stored::Text(text)) if self.mirror.as_deref() == Some(text.as_str()) => {}
            Ok(Stored::Text(text)) => match snapshot::decode(&text) {
                Ok(r) => {
                    let legacy = r.sync.is_none();
                    let mut record = Record::from_restored(r);
                    if legacy {
                        // Written without the commit members (an older build, by hand): newer than ours.
                        record.sync = self.base.as_ref().map(|b| b.sync.clone()).unwrap_or_default();
                        record.sync.commit = record.sync.commit.saturating_add(1);
                    }
                    self.mirror = Some(text);
                    self.adopt(record, storage, now, fx);
                }
                Err(e) => {
                    self.set_aside(&key, e, now, fx);
                    self.mirror = None;
                    self.commit_direct(storage, now, fx);
                }
            },
            Ok(Stored::Missing) => self.mirror = None,
            Ok(Stored::Malformed) => {
                let e = snapshot::Corruption::NotJson.error("the stored cart is not well-formed text");
                self.set_aside(&key, e, now, fx);
                self.mirror = None;
                self.commit_direct(storage, now, fx);
            }
            Ok(Stored::NotText) => {}
            Err(super::StorageFailure(cause)) => {
                fx.error(super::storage_error(&key, "read", &cause));
                self.go_in_memory();
                self.settle_in_memory();
            }
        }
    }

    /// Direct mode (and memory): commit the pending ops right away, on what storage holds now.
    pub(crate) fn commit_direct(&mut self, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) {
        let key = self.keys.cart().to_string();
        let current = match self.read(storage, &key) {
            // What this session last wrote or read: its base, without decoding it again.
            Ok(Stored::Text(text)) if self.mirror.as_deref() == Some(text.as_str()) && self.base.is_some() => {
                self.base.clone()
            }
            Ok(Stored::Text(text)) => snapshot::decode(&text).ok().map(Record::from_restored),
            _ => None,
        };
        let (record, changed, _) = self.decide(current, storage, now);
        let text = if changed {
            match record.encode(now) {
                Ok(text) => Some(text),
                Err(e) => return fx.error(e),
            }
        } else {
            None
        };
        self.land(record, text, storage, now, fx);
    }

    /// A record another tab (or another cart of this page) committed (BroadcastChannel).
    pub fn message(&mut self, text: &str, storage: &dyn Storage, now: Timestamp) -> Vec<Effect> {
        let mut fx = Effects::default();
        if let Ok(r) = snapshot::decode(text) {
            let record = Record::from_restored(r);
            if self.coordination == Coordination::Direct {
                self.mirror = Some(text.to_string());
            }
            if self.adopt(record, storage, now, &mut fx) && self.coordination == Coordination::Transactional {
                self.mirror = Some(text.to_string());
            }
        }
        let _ = storage;
        fx.into_vec()
    }

    /// Another tab wrote a key of this cart (the `storage` event; `value` is what it holds now).
    pub fn storage_changed(&mut self, key: &str, value: Stored, storage: &dyn Storage, now: Timestamp) -> Vec<Effect> {
        let mut fx = Effects::default();
        if key == self.keys.cart() {
            self.cart_key_changed(value, storage, now, &mut fx);
        } else if key == self.keys.catalog() {
            self.reload_catalog(value, now, &mut fx);
        } else if key == self.keys.orders() {
            if let Some(before) = self.unannounced.take() {
                self.announce_ordered_elsewhere(&before, storage, now, &mut fx);
            }
        } else if key.starts_with(&self.keys.outbox_prefix())
            && key != self.keys.outbox(&self.tab)
            && !self.commit.adopt_timer
            && self.coordination == Coordination::Transactional
        {
            // Another tab's outbox changed: if it is still not committed a while later, that tab is gone.
            self.commit.adopt_timer = true;
            fx.push(Effect::Wait {
                id: TIMER_ADOPT,
                ms: u64::try_from(ADOPT_AFTER_MS).unwrap_or(2_000).saturating_add(100),
                retry: false,
            });
        }
        fx.into_vec()
    }

    fn cart_key_changed(&mut self, value: Stored, storage: &dyn Storage, now: Timestamp, fx: &mut Effects) {
        if self.coordination == Coordination::Direct {
            return self.sync_direct(storage, now, fx);
        }
        let Stored::Text(text) = value else {
            return; // removed (the next commit writes it again), or not ours to read
        };
        if self.mirror.as_deref() == Some(text.as_str()) {
            return;
        }
        match snapshot::decode(&text) {
            Ok(r) if r.sync.is_some() => {
                if self.adopt(Record::from_restored(r), storage, now, fx) {
                    self.mirror = Some(text);
                } else if self.wrote_base {
                    // A tab whose write reached the browser late put an older record over the newest,
                    // which this tab wrote: put it back (only the tab that wrote the newest does, or
                    // every tab would answer every late write, and every other's repair).
                    self.rewrite_mirror(now, fx);
                }
            }
            Ok(r) => {
                // Written outside the protocol (an older build, by hand): it replaces the cart, as a
                // change of its own that is committed like any other.
                self.mirror = Some(text);
                let previous = Some(self.shown.id().to_string());
                self.shown = r.cart.clone();
                let kind = super::OpKind::Replace {
                    previous,
                    cart: Box::new(r.cart),
                };
                if self.record(kind, Vec::new(), false, storage, now, fx).is_ok() {
                    fx.emit(Event::Change);
                }
            }
            Err(e) => {
                let key = self.keys.cart().to_string();
                self.set_aside(&key, e, now, fx);
                self.rewrite_mirror(now, fx);
            }
        }
    }

    /// Writes the base record under the cart key again.
    fn rewrite_mirror(&mut self, now: Timestamp, fx: &mut Effects) {
        if let Some(text) = self.base.as_ref().and_then(|b| b.encode(now).ok()) {
            self.write_cart(text.clone(), fx);
            self.mirror = Some(text);
            self.wrote_base = true;
        }
    }

    fn reload_catalog(&mut self, value: Stored, now: Timestamp, fx: &mut Effects) {
        let Stored::Text(text) = value else {
            return;
        };
        if snapshot::cached_catalog_checksum(&text).as_deref() == Some(self.catalog.checksum.as_str()) {
            return;
        }
        if let Ok(cached) = snapshot::decode_catalog(&text) {
            if price(&self.shown, &cached.catalog, now).is_ok() {
                self.catalog = super::CatalogInput::from_cache(cached);
                fx.emit(Event::Change);
            }
        }
    }

    /// A timer of the session fired.
    pub(crate) fn commit_timer(&mut self, id: u64, storage: &dyn Storage, fx: &mut Effects) {
        if self.coordination != Coordination::Transactional {
            return;
        }
        if id == TIMER_ADOPT {
            self.commit.adopt_timer = false;
            if !self.orphaned_ops(storage) {
                return;
            }
        }
        if self.commit.request() {
            fx.push(Effect::Commit);
        }
    }
}

/// The symbols of the lines a writer's committed changes created -> their ids.
fn resolution(writer: &Writer) -> BTreeMap<String, String> {
    writer
        .lines
        .iter()
        .flat_map(|(seq, ids)| ids.iter().enumerate().map(move |(k, id)| (symbol(*seq, k), id.clone())))
        .collect()
}

/// Keeps the `n` entries with the highest keys (the most recent changes).
fn keep_last(map: &mut BTreeMap<u64, Vec<String>>, n: usize) {
    while map.len() > n {
        let Some(first) = map.keys().next().cloned() else {
            break;
        };
        map.remove(&first);
    }
}

/// Keeps the [`WRITERS_KEPT`] most recent writers (and always `me`).
fn prune_writers(writers: &mut BTreeMap<String, Writer>, me: &str) {
    if writers.len() <= WRITERS_KEPT {
        return;
    }
    let mut by_age: Vec<(String, Timestamp)> = writers.iter().map(|(k, w)| (k.clone(), w.at)).collect();
    by_age.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
    for (tab, _) in by_age.into_iter().skip(WRITERS_KEPT) {
        if tab != me {
            writers.remove(&tab);
        }
    }
}
