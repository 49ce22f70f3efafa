//! The session of one cart, natively: opening (fresh, restored, migrated, expired, ordered, corrupt,
//! invalid, not a string, unreadable), changes and what they write, storage that fails, catalogs,
//! merging, snapshots. Several tabs are `tests/session_tabs.rs`; checkout is `tests/session_checkout.rs`.

mod common;

use common::tabs::{catalog_json, Rng, START};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use wasm_cart::session::{
    CatalogInput, Coordination, Defaults, Effect, Event, OpenOptions, Persistence, Reported, Session, Storage,
    StorageFailure, Stored,
};
use wasm_cart::snapshot::{self, Corruption};
use wasm_cart::{Action, CartState, CartStatus, ErrorCode, MergeMode, Timestamp};

/// A storage a test controls: values by key, keys that hold something else, keys that throw.
#[derive(Default)]
struct TestStorage {
    values: RefCell<BTreeMap<String, Stored>>,
    failing_writes: bool,
    /// Writes of this key alone throw (a catalog larger than what is left of the quota).
    failing_key: Option<&'static str>,
    failing_reads: bool,
    writes: RefCell<Vec<String>>,
}

impl Storage for TestStorage {
    fn get(&self, key: &str) -> Result<Stored, StorageFailure> {
        if self.failing_reads {
            return Err(StorageFailure("SecurityError: the operation is insecure".into()));
        }
        Ok(self.values.borrow().get(key).cloned().unwrap_or(Stored::Missing))
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.values
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl TestStorage {
    fn text(&self, key: &str) -> Option<String> {
        match self.values.borrow().get(key) {
            Some(Stored::Text(t)) => Some(t.clone()),
            _ => None,
        }
    }

    fn put(&self, key: &str, value: &str) {
        self.values
            .borrow_mut()
            .insert(key.to_string(), Stored::Text(value.to_string()));
    }
}

/// Runs the effects the way the browser shell does (writes, copies; a failing write reported back).
fn run(session: &mut Session, storage: &TestStorage, effects: Vec<Effect>, events: &mut Vec<Event>) {
    let mut todo: std::collections::VecDeque<Effect> = effects.into();
    while let Some(effect) = todo.pop_front() {
        let more = match effect {
            Effect::Write { key, value } => {
                storage.writes.borrow_mut().push(key.clone());
                if storage.failing_writes || storage.failing_key == Some(key.as_str()) {
                    session.write_failed(&key, "QuotaExceededError")
                } else {
                    storage.put(&key, &value);
                    Vec::new()
                }
            }
            Effect::Remove { key } => {
                storage.values.borrow_mut().remove(&key);
                Vec::new()
            }
            Effect::Preserve { from, to } => {
                let value = storage.values.borrow().get(&from).cloned();
                if let Some(v) = value {
                    storage.values.borrow_mut().insert(to, v);
                }
                Vec::new()
            }
            Effect::Emit(event) => {
                events.push(event);
                Vec::new()
            }
            _ => Vec::new(),
        };
        for e in more.into_iter().rev() {
            todo.push_front(e);
        }
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(START)
}

fn options(persistence: Persistence) -> OpenOptions {
    OpenOptions {
        key: "cart".into(),
        persistence,
        coordination: Coordination::Direct,
        catalog: Some(CatalogInput::parse(&catalog_json().to_string()).unwrap()),
        snapshot: None,
        defaults: Defaults {
            currency: Some("EUR".into()),
            country: Some("DE".into()),
            ..Defaults::default()
        },
        unreachable: None,
        online: true,
    }
}

/// Randomness that differs from one call to the next (ids must not repeat across opens).
fn rng() -> Rng {
    static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Rng(SEED.fetch_add(7919, std::sync::atomic::Ordering::Relaxed))
}

fn open_with(storage: &TestStorage, options: OpenOptions, at: Timestamp) -> (Session, Vec<Event>) {
    let (mut session, effects) = Session::open(options, storage, at, &mut rng()).unwrap();
    let mut events = Vec::new();
    run(&mut session, storage, effects, &mut events);
    (session, events)
}

fn open(storage: &TestStorage) -> (Session, Vec<Event>) {
    open_with(storage, options(Persistence::Custom), now())
}

fn add(session: &mut Session, storage: &TestStorage, product: &str, quantity: u32) -> Vec<Event> {
    let action =
        Action::from_value(json!({"action": "addLineItem", "productId": product, "quantity": quantity})).unwrap();
    let effects = session.apply(&[action], None, storage, now(), &mut rng()).unwrap();
    let mut events = Vec::new();
    run(session, storage, effects, &mut events);
    events
}

fn errors(events: &[Event]) -> Vec<(ErrorCode, Value)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Error(Reported::Cart(e)) => Some((e.code, e.details.clone())),
            _ => None,
        })
        .collect()
}

fn stored_cart(storage: &TestStorage) -> CartState {
    snapshot::decode(&storage.text("cart").unwrap()).unwrap().cart
}

#[test]
fn a_fresh_cart_is_written_and_every_change_after_it() {
    let storage = TestStorage::default();
    let (mut s, events) = open(&storage);
    assert!(errors(&events).is_empty());
    let fresh = stored_cart(&storage);
    assert_eq!(&fresh, s.cart());
    assert!(fresh.id().starts_with("cart_"));
    assert_eq!((fresh.currency(), fresh.country()), ("EUR", Some("DE")));
    let events = add(&mut s, &storage, "mug", 2);
    assert_eq!(events, vec![Event::Change]);
    assert_eq!(stored_cart(&storage).line_items()[0].quantity, 2);
    assert!(storage.text("cart:catalog").is_some(), "the catalog is cached");
    // A reload without a catalog prices the restored cart with the cached one.
    let mut offline = options(Persistence::Custom);
    offline.catalog = None;
    let (again, events) = open_with(&storage, offline, now());
    assert!(errors(&events).is_empty());
    assert_eq!(again.cart(), s.cart());
    assert_eq!(again.view(now()).unwrap().totals.total, 1998);
}

#[test]
fn a_change_that_changes_nothing_writes_nothing_and_notifies_nobody() {
    let storage = TestStorage::default();
    let (mut s, _) = open(&storage);
    add(&mut s, &storage, "mug", 2);
    let writes = storage.writes.borrow().len();
    let same =
        Action::from_value(json!({"action": "changeLineItemQuantity", "lineItemId": "li_1", "quantity": 2})).unwrap();
    let effects = s.apply(&[same], None, &storage, now(), &mut rng()).unwrap();
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(storage.writes.borrow().len(), writes);
}

#[test]
fn every_unreadable_value_is_kept_aside_byte_for_byte_and_a_fresh_cart_starts() {
    let good = {
        let storage = TestStorage::default();
        let (mut s, _) = open(&storage);
        add(&mut s, &storage, "mug", 1);
        storage.text("cart").unwrap()
    };
    let tampered = good.replace("\"quantity\":1", "\"quantity\":2");
    let forged_invalid = {
        let mut v: Value = serde_json::from_str(&good).unwrap();
        v["cart"]["lineItems"][0]["quantity"] = json!(10_000_000);
        let cart = serde_json::to_string(&v["cart"]).unwrap();
        format!(
            r#"{{"schema":1,"checksum":"{}","cart":{cart}}}"#,
            snapshot::checksum(cart.as_bytes())
        )
    };
    for (stored, reason) in [
        (Stored::Text("{not json".into()), Corruption::NotJson),
        (Stored::Text(tampered), Corruption::BadChecksum),
        (
            Stored::Text(good.replace("\"schema\":1", "\"schema\":9")),
            Corruption::NewerSchema,
        ),
        (Stored::Text(forged_invalid), Corruption::InvalidCart),
        (Stored::Malformed, Corruption::NotJson),
    ] {
        let storage = TestStorage::default();
        storage.values.borrow_mut().insert("cart".into(), stored.clone());
        let (s, events) = open(&storage);
        let errs = errors(&events);
        assert_eq!(errs.len(), 1, "{reason:?}");
        assert_eq!(errs[0].0, ErrorCode::InvalidSnapshot);
        assert_eq!(errs[0].1["reason"], json!(reason.as_str()));
        let kept = errs[0].1["corruptKey"].as_str().unwrap().to_string();
        assert_eq!(kept, format!("cart:corrupt:{START}"));
        assert_eq!(
            storage.values.borrow().get(&kept),
            Some(&stored),
            "the copy is the original"
        );
        assert!(s.cart().line_items().is_empty());
        assert_eq!(&stored_cart(&storage), s.cart(), "a fresh cart replaced it");
    }
}

#[test]
fn a_value_that_is_not_a_string_is_reported_and_never_overwritten() {
    let storage = TestStorage::default();
    storage.values.borrow_mut().insert("cart".into(), Stored::NotText);
    let (mut s, events) = open(&storage);
    let errs = errors(&events);
    assert_eq!(errs[0].0, ErrorCode::InvalidSnapshot);
    assert_eq!(errs[0].1["reason"], json!("notAString"));
    assert_eq!(s.persistence(), Persistence::Memory);
    add(&mut s, &storage, "mug", 1);
    assert!(!storage.writes.borrow().contains(&"cart".to_string()));
    assert_eq!(storage.values.borrow().get("cart"), Some(&Stored::NotText));
    assert_eq!(s.cart().line_items().len(), 1, "the cart works in memory");
}

#[test]
fn storage_that_throws_turns_the_cart_into_memory_with_an_error_event() {
    let unreadable = TestStorage {
        failing_reads: true,
        ..TestStorage::default()
    };
    let (s, events) = open(&unreadable);
    assert_eq!(errors(&events)[0].0, ErrorCode::StorageUnavailable);
    assert_eq!(s.persistence(), Persistence::Memory);

    let full = TestStorage {
        failing_writes: true,
        ..TestStorage::default()
    };
    let (mut s, events) = open(&full);
    let errs = errors(&events);
    assert_eq!(errs[0].0, ErrorCode::StorageUnavailable);
    assert_eq!(errs[0].1["operation"], json!("write"));
    assert_eq!(s.persistence(), Persistence::Memory);
    let writes = full.writes.borrow().len();
    let events = add(&mut s, &full, "mug", 3);
    assert!(errors(&events).is_empty());
    assert_eq!(full.writes.borrow().len(), writes, "no more attempts");
    assert_eq!(s.view(now()).unwrap().line_items[0].quantity, 3);
}

/// A catalog too big for the quota: reported as the catalog cache that could not be saved, while the
/// cart itself is still saved (issue 14: the message said "the cart is kept in memory only").
#[test]
fn a_catalog_cache_that_does_not_fit_is_reported_and_the_cart_is_still_saved() {
    let storage = TestStorage {
        failing_key: Some("cart:catalog"),
        ..TestStorage::default()
    };
    let (mut s, events) = open(&storage);
    let errs: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Error(Reported::Cart(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, ErrorCode::StorageUnavailable);
    assert_eq!(errs[0].details["key"], json!("cart:catalog"));
    assert!(
        errs[0].message.contains("the cart itself is still saved"),
        "{}",
        errs[0].message
    );
    assert!(!errs[0].message.contains("memory"), "{}", errs[0].message);
    assert_eq!(s.persistence(), Persistence::Custom);
    add(&mut s, &storage, "mug", 2);
    assert_eq!(stored_cart(&storage).line_items()[0].quantity, 2, "the cart is saved");
}

#[test]
fn an_older_schema_is_migrated_and_written_back() {
    let storage = TestStorage::default();
    storage.put(
        "cart",
        r#"{"savedAt": "2026-11-21T09:00:00Z", "cart": {"id": "cart_old", "version": 4, "currency": "EUR",
            "country": "DE", "items": [{"id": "li_1", "productId": "mug", "quantity": 2}], "codes": [],
            "createdAt": "2026-11-21T08:00:00Z", "updatedAt": "2026-11-21T09:00:00Z"}}"#,
    );
    let (s, events) = open(&storage);
    assert!(errors(&events).is_empty());
    assert_eq!(s.cart().id(), "cart_old");
    let stored = snapshot::decode(&storage.text("cart").unwrap()).unwrap();
    assert_eq!(stored.schema, snapshot::SCHEMA);
    assert_eq!(stored.cart.line_items()[0].quantity, 2);
}

#[test]
fn an_expired_cart_raises_expired_and_an_ordered_one_gives_way() {
    let storage = TestStorage::default();
    let (mut s, _) = open(&storage);
    add(&mut s, &storage, "mug", 1);
    let old = s.cart().id().to_string();
    let later = Timestamp::from_millis(START + 31 * 86_400_000);
    let (s2, events) = open_with(&storage, options(Persistence::Custom), later);
    match events.iter().find(|e| matches!(e, Event::Expired(_))) {
        Some(Event::Expired(view)) => assert_eq!(view.id, old),
        _ => panic!("no expired event: {events:?}"),
    }
    assert_ne!(s2.cart().id(), old);
    assert!(s2.cart().line_items().is_empty());
    // An ordered cart in storage is read-only: a new one starts (same currency and country).
    let mut ordered = s2.cart().clone();
    ordered.mark_ordered(later).unwrap();
    storage.put("cart", &snapshot::encode(&ordered, later).unwrap());
    let (s3, _) = open_with(&storage, options(Persistence::Custom), later);
    assert_ne!(s3.cart().id(), ordered.id());
    assert_eq!(s3.cart().status(), CartStatus::Active);
}

#[test]
fn amounts_beyond_2_53_are_refused_and_leave_the_cart_as_it_was() {
    let products: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("p{i}"), "name": "P", "taxCategory": "std", "prices": [{"currency": "EUR", "amount": "99999999.99"}]}))
        .collect();
    let catalog =
        json!({"taxCategories": [{"id": "std", "rates": [{"country": "DE", "rate": "0.19"}]}], "products": products});
    let mut o = options(Persistence::Memory);
    o.catalog = Some(CatalogInput::parse(&catalog.to_string()).unwrap());
    let storage = TestStorage::default();
    let (mut s, _) = open_with(&storage, o, now());
    for i in 0..90 {
        let a = Action::from_value(json!({"action": "addLineItem", "productId": format!("p{i}"), "quantity": 9999}))
            .unwrap();
        s.apply(&[a], None, &storage, now(), &mut rng()).unwrap();
    }
    let before = s.cart().clone();
    let a = Action::from_value(json!({"action": "addLineItem", "productId": "p90", "quantity": 9999})).unwrap();
    let e = s.apply(&[a], None, &storage, now(), &mut rng()).unwrap_err();
    assert_eq!(e.code, ErrorCode::AmountOutOfRange);
    assert_eq!(s.cart(), &before);
}

#[test]
fn a_new_catalog_marks_moved_prices_and_is_cached() {
    let storage = TestStorage::default();
    let (mut s, _) = open(&storage);
    add(&mut s, &storage, "mug", 1);
    let mut catalog = catalog_json();
    catalog["version"] = json!("tabs#2");
    catalog["products"][0]["prices"][0]["amount"] = json!("11.99");
    let input = CatalogInput::parse(&catalog.to_string()).unwrap();
    let effects = s.set_catalog(input, &storage, now()).unwrap();
    let mut events = Vec::new();
    run(&mut s, &storage, effects, &mut events);
    assert!(events.contains(&Event::Change));
    let view = s.view(now()).unwrap();
    assert_eq!(view.issues[0].code, "PRICE_CHANGED");
    assert_eq!(view.line_items[0].unit_price, 1199);
    let cached = snapshot::decode_catalog(&storage.text("cart:catalog").unwrap()).unwrap();
    assert_eq!(cached.catalog.version(), Some("tabs#2"));
    assert!(stored_cart(&storage).line_items()[0].price_change.is_some());
}

#[test]
fn merging_a_guest_cart_marks_it_merged() {
    let mine = TestStorage::default();
    let theirs = TestStorage::default();
    let (mut customer, _) = open(&mine);
    let mut guest_options = options(Persistence::Custom);
    guest_options.key = "guest".into();
    let (mut guest, _) = open_with(&theirs, guest_options, now());
    add(&mut customer, &mine, "mug", 1);
    let action = Action::from_value(json!({"action": "addLineItem", "productId": "mug", "quantity": 3})).unwrap();
    let effects = guest.apply(&[action], None, &theirs, now(), &mut rng()).unwrap();
    run(&mut guest, &theirs, effects, &mut Vec::new());
    let (fx, gx) = customer
        .merge(&mut guest, MergeMode::Max, (&mine, &theirs), now())
        .unwrap();
    run(&mut customer, &mine, fx, &mut Vec::new());
    run(&mut guest, &theirs, gx, &mut Vec::new());
    assert_eq!(customer.cart().line_items()[0].quantity, 3);
    assert_eq!(guest.cart().status(), CartStatus::Merged);
    let stored_guest = snapshot::decode(&theirs.text("guest").unwrap()).unwrap().cart;
    assert_eq!(stored_guest.status(), CartStatus::Merged);
    assert_eq!(customer.last_merge().unwrap().skipped.len(), 0);
}

#[test]
fn a_snapshot_opens_in_place_of_what_is_stored() {
    let storage = TestStorage::default();
    let (mut s, _) = open(&storage);
    add(&mut s, &storage, "tea", 2);
    let text = s.snapshot(now()).unwrap();
    let elsewhere = TestStorage::default();
    let (other, _) = open(&elsewhere);
    assert_ne!(other.cart().id(), s.cart().id());
    let mut o = options(Persistence::Custom);
    o.snapshot = Some(text);
    let (restored, _) = open_with(&elsewhere, o, now());
    assert_eq!(restored.cart().id(), s.cart().id());
    assert_eq!(stored_cart(&elsewhere).id(), s.cart().id());
}
