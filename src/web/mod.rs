//! The browser layer (feature `web`): the one stateful JavaScript class, `Cart` (DESIGN §7).
//!
//! Every decision is the session's (`crate::session`, tested natively); this module reads the
//! arguments, calls the session, and carries out the effects it returns (`shell.rs`): storage, the
//! IndexedDB commit point, the BroadcastChannel, `fetch`, timers, promises and events.
//!
//! No `RefCell` borrow is held while JavaScript of the caller runs (listeners, the `now` clock, a custom
//! storage), listeners run after the call that raised their event (never recursively), and no panic
//! is reachable: every fallible step is a `Result`.

mod checkout;
mod events;
mod glue;
mod js;
mod options;
mod requests;
mod shell;
mod storage;
mod tabs;
mod view;

use crate::cart::{Action, MergeMode};
use crate::error::CartError;
use crate::session::{Effect, OpenOptions, Session, Storage};
use crate::time::Timestamp;
use events::{deliver, guard_listener_loop, EventKind, Listeners};
use serde_json::{json, Value};
use shell::{execute, now_of, view_of, Inner, Shared, WebEntropy};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

pub use checkout::is_checkout_error;

/// The functions `cart.view` and `cart.subscribe` return: bound to this cart, so they can be passed
/// around unbound (`useSyncExternalStore(cart.subscribe, cart.view)`).
/// They belong to JavaScript (and hold the cart weakly), so they still answer `CART_FREED` after `free()`.
struct Bound {
    view: JsValue,
    subscribe: JsValue,
}

/// A shopping cart in the browser (DESIGN §7). Open one with `Cart.open(options)`.
#[wasm_bindgen]
pub struct Cart {
    inner: Shared,
    bound: Bound,
}

/// `cart.on(event, listener)` / `cart.subscribe(listener)`: returns the unsubscribe function.
fn listen(listeners: &Rc<RefCell<Listeners>>, kind: EventKind, listener: JsValue) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = listener
        .dyn_into()
        .map_err(|_| JsValue::from(CartError::invalid_field("listener", "listener: expected a function")))?;
    let id = listeners.try_borrow_mut().map_err(|_| js::busy())?.add(kind, f);
    let weak = Rc::downgrade(listeners);
    let off = Closure::<dyn FnMut()>::new(move || {
        if let Some(l) = weak.upgrade() {
            if let Ok(mut l) = l.try_borrow_mut() {
                l.remove(id);
            }
        }
    });
    Ok(off.into_js_value())
}

fn bind(rc: &Shared) -> Bound {
    let weak = Rc::downgrade(rc);
    let view = Closure::<dyn Fn() -> Result<JsValue, JsValue>>::new(move || {
        let rc = weak.upgrade().ok_or_else(js::freed)?;
        view_of(&rc)
    });
    let listeners = rc.try_borrow().ok().map(|inner| Rc::downgrade(&inner.listeners));
    let subscribe = Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(move |listener: JsValue| {
        let listeners = listeners.as_ref().and_then(Weak::upgrade).ok_or_else(js::freed)?;
        listen(&listeners, EventKind::Change, listener)
    });
    Bound {
        view: view.into_js_value(),
        subscribe: subscribe.into_js_value(),
    }
}

impl Cart {
    fn start(options: &JsValue, snapshot: Option<String>) -> Result<Cart, JsValue> {
        let opts = options::OpenOptions::read(options)?;
        let now = shell::read_clock(opts.clock.as_ref())?;
        let resolved = storage::resolve(&opts.storage)?;
        let open = OpenOptions {
            key: opts.key,
            persistence: resolved.persistence,
            coordination: resolved.coordination,
            catalog: opts.catalog,
            snapshot,
            defaults: opts.defaults,
            unreachable: resolved.unreachable,
            online: shell::online(),
        };
        let reader: &dyn Storage = match &resolved.store {
            Some(store) => store,
            None => &crate::session::NoStorage,
        };
        let (session, effects) = Session::open(open, reader, now, &mut WebEntropy)?;
        let rc = Rc::new(RefCell::new(Inner::new(session, resolved.store, opts.clock)));
        tabs::connect(&rc);
        execute(&rc, effects);
        // Events of `open` reach listeners registered right after it returns.
        js::defer(deliver);
        let bound = bind(&rc);
        Ok(Cart { inner: rc, bound })
    }

    fn borrow_mut(&self) -> Result<std::cell::RefMut<'_, Inner>, JsValue> {
        self.inner.try_borrow_mut().map_err(|_| js::busy())
    }

    /// One change: the session decides, the shell carries out, listeners hear of it; returns the view.
    fn mutate(
        &self,
        f: impl FnOnce(&mut Session, &dyn Storage, Timestamp) -> Result<Vec<Effect>, CartError>,
    ) -> Result<JsValue, JsValue> {
        guard_listener_loop(&self.inner)?;
        let now = now_of(&self.inner)?;
        let effects = {
            let mut inner = self.borrow_mut()?;
            let (session, storage) = inner.parts();
            f(session, storage, now)
        };
        let outcome = effects.map(|effects| execute(&self.inner, effects));
        if outcome.is_ok() {
            // Built at the change's time, from the view the session priced to check it; an error
            // shows again in the `view_of` below.
            let _ = shell::view_at(&self.inner, now);
        }
        deliver();
        outcome?;
        // The cart's view once listeners ran (they may have changed it again): what `view()` returns.
        view_of(&self.inner)
    }

    fn act(&self, actions: Vec<Action>, expected_version: Option<u64>) -> Result<JsValue, JsValue> {
        self.mutate(|session, storage, now| session.apply(&actions, expected_version, storage, now, &mut WebEntropy))
    }

    fn act_one(&self, action: Value) -> Result<JsValue, JsValue> {
        self.act(vec![Action::from_value(action)?], None)
    }
}

/// An argument as JSON (`INVALID_REQUEST` naming it when it has none).
fn arg(value: &JsValue, name: &str) -> Result<Value, JsValue> {
    Ok(js::to_value(value, name)?)
}

/// An object argument with `action` added.
fn action_from(value: &JsValue, name: &str, action: &str) -> Result<Value, JsValue> {
    let mut v = arg(value, name)?;
    let Value::Object(map) = &mut v else {
        return Err(CartError::invalid_field(name, format!("{name}: expected an object")).into());
    };
    map.insert("action".into(), json!(action));
    Ok(v)
}

#[wasm_bindgen]
impl Cart {
    /// Opens the cart stored under `storageKey` (or starts one). See `CartOptions`.
    #[wasm_bindgen(js_name = open)]
    pub fn open(
        #[wasm_bindgen(unchecked_optional_param_type = "CartOptions")] options: JsValue,
    ) -> Result<Cart, JsValue> {
        Cart::start(&options, None)
    }

    /// Opens a cart from a `snapshot()` string; it replaces whatever is stored under `storageKey`.
    #[wasm_bindgen(js_name = fromSnapshot)]
    pub fn from_snapshot(
        #[wasm_bindgen(unchecked_param_type = "string")] snapshot: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CartOptions")] options: JsValue,
    ) -> Result<Cart, JsValue> {
        let text = match snapshot.as_string() {
            Some(text) => text,
            None => js::to_json_text(&snapshot, "snapshot")?,
        };
        Cart::start(&options, Some(text))
    }

    /// The view, as a function bound to this cart: `cart.view()`, or `useSyncExternalStore(cart.subscribe,
    /// cart.view)`. Returns the same object until the cart changes.
    #[wasm_bindgen(getter = view, unchecked_return_type = "() => CartView")]
    pub fn view_fn(&self) -> JsValue {
        self.bound.view.clone()
    }

    /// `cart.subscribe(listener)`, bound to this cart: calls `listener(view)` after every change and
    /// returns the unsubscribe function.
    #[wasm_bindgen(getter = subscribe, unchecked_return_type = "(listener: (view: CartView) => void) => () => void")]
    pub fn subscribe_fn(&self) -> JsValue {
        self.bound.subscribe.clone()
    }

    /// `cart.on(event, listener)`; returns the unsubscribe function. Typed in `CartEvents`.
    #[wasm_bindgen(js_name = on, skip_typescript)]
    pub fn on(&self, event: JsValue, listener: JsValue) -> Result<JsValue, JsValue> {
        let kind = event.as_string().as_deref().and_then(EventKind::parse).ok_or_else(|| {
            JsValue::from(CartError::invalid_field(
                "event",
                "event: expected \"change\", \"error\", \"expired\" or \"ordered\"",
            ))
        })?;
        let listeners = self.inner.try_borrow().map_err(|_| js::busy())?.listeners.clone();
        listen(&listeners, kind, listener)
    }

    /// Where the cart is kept: `"local"`, `"session"`, `"custom"`, or `"memory"` (also after storage failed).
    #[wasm_bindgen(getter, unchecked_return_type = "Persistence")]
    pub fn persistence(&self) -> Result<String, JsValue> {
        Ok(self
            .inner
            .try_borrow()
            .map_err(|_| js::busy())?
            .session
            .persistence()
            .as_str()
            .to_string())
    }

    /// What the last `merge` could not take over (lines and codes), or `null`.
    #[wasm_bindgen(getter = lastMergeReport, unchecked_return_type = "MergeReport | null")]
    pub fn last_merge_report(&self) -> Result<JsValue, JsValue> {
        let inner = self.inner.try_borrow().map_err(|_| js::busy())?;
        Ok(match inner.session.last_merge() {
            Some(report) => js::from_value(&serde_json::to_value(report).unwrap_or(Value::Null)),
            None => JsValue::NULL,
        })
    }

    /// Adds a product (`addLineItem`); the same product, variant and attributes stack onto one line.
    #[wasm_bindgen(js_name = addItem, unchecked_return_type = "CartView")]
    pub fn add_item(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AddItem")] item: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.act_one(action_from(&item, "item", "addLineItem")?)
    }

    /// Sets a line's quantity (`changeLineItemQuantity`); 0 removes the line.
    #[wasm_bindgen(js_name = changeQuantity, unchecked_return_type = "CartView")]
    pub fn change_quantity(
        &self,
        #[wasm_bindgen(js_name = lineItemId, unchecked_param_type = "string")] line_item_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] quantity: JsValue,
    ) -> Result<JsValue, JsValue> {
        let (id, quantity) = (arg(&line_item_id, "lineItemId")?, arg(&quantity, "quantity")?);
        self.act_one(json!({ "action": "changeLineItemQuantity", "lineItemId": id, "quantity": quantity }))
    }

    /// Removes a line (`removeLineItem`), or only `quantity` units of it.
    #[wasm_bindgen(js_name = removeItem, unchecked_return_type = "CartView")]
    pub fn remove_item(
        &self,
        #[wasm_bindgen(js_name = lineItemId, unchecked_param_type = "string")] line_item_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] quantity: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = arg(&line_item_id, "lineItemId")?;
        let action = if js::is_nullish(&quantity) {
            json!({ "action": "removeLineItem", "lineItemId": id })
        } else {
            json!({ "action": "removeLineItem", "lineItemId": id, "quantity": arg(&quantity, "quantity")? })
        };
        self.act_one(action)
    }

    /// Replaces a line's attributes (`setLineItemAttributes`); a `null` value removes that attribute.
    #[wasm_bindgen(js_name = setAttributes, unchecked_return_type = "CartView")]
    pub fn set_attributes(
        &self,
        #[wasm_bindgen(js_name = lineItemId, unchecked_param_type = "string")] line_item_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Attributes")] attributes: JsValue,
    ) -> Result<JsValue, JsValue> {
        let (id, attributes) = (arg(&line_item_id, "lineItemId")?, arg(&attributes, "attributes")?);
        self.act_one(json!({ "action": "setLineItemAttributes", "lineItemId": id, "attributes": attributes }))
    }

    /// Adds a discount code (`addDiscountCode`); an unknown code throws `INVALID_PROMO_CODE`.
    #[wasm_bindgen(js_name = applyCode, unchecked_return_type = "CartView")]
    pub fn apply_code(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] code: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.act_one(json!({ "action": "addDiscountCode", "code": arg(&code, "code")? }))
    }

    /// Removes a discount code (`removeDiscountCode`).
    #[wasm_bindgen(js_name = removeCode, unchecked_return_type = "CartView")]
    pub fn remove_code(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] code: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.act_one(json!({ "action": "removeDiscountCode", "code": arg(&code, "code")? }))
    }

    /// Sets (or with `null` clears) the shipping address; its country drives tax and shipping.
    #[wasm_bindgen(js_name = setShippingAddress, unchecked_return_type = "CartView")]
    pub fn set_shipping_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Address | null")] address: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.act_one(json!({ "action": "setShippingAddress", "address": arg(&address, "address")? }))
    }

    /// Sets (or with `null` clears) the billing address.
    #[wasm_bindgen(js_name = setBillingAddress, unchecked_return_type = "CartView")]
    pub fn set_billing_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Address | null")] address: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.act_one(json!({ "action": "setBillingAddress", "address": arg(&address, "address")? }))
    }

    /// Selects a shipping method for the delivery of its shipping profile (`null`: the catalog's
    /// default for the destination, for `shippingProfile`'s delivery; absent: the default profile's).
    #[wasm_bindgen(js_name = setShippingMethod, unchecked_return_type = "CartView")]
    pub fn set_shipping_method(
        &self,
        #[wasm_bindgen(js_name = shippingMethodId, unchecked_param_type = "string | null")] shipping_method_id: JsValue,
        #[wasm_bindgen(js_name = shippingProfile)] shipping_profile: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let id = arg(&shipping_method_id, "shippingMethodId")?;
        self.act_one(json!({
            "action": "setShippingMethod",
            "shippingMethodId": id,
            "shippingProfile": shipping_profile,
        }))
    }

    /// Sets customer fields (`setCustomer`); a field left out stays, `null` clears it.
    #[wasm_bindgen(js_name = setCustomer, unchecked_return_type = "CartView")]
    pub fn set_customer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CustomerUpdate")] customer: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.act_one(action_from(&customer, "customer", "setCustomer")?)
    }

    /// Runs `actions` atomically (all or nothing; the version rises by one). With `expectedVersion`,
    /// a cart at another version refuses with `CONCURRENT_MODIFICATION`.
    #[wasm_bindgen(js_name = apply, unchecked_return_type = "CartView")]
    pub fn apply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "readonly CartAction[]")] actions: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ApplyOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        if !js::is_nullish(&options) && !options.is_object() {
            return Err(CartError::invalid_request("options: expected an object").into());
        }
        let expected = options::opt_count(&options, "expectedVersion")?;
        let actions = Action::list_from_value(arg(&actions, "actions")?)?;
        self.act(actions, expected)
    }

    /// Empties the cart (lines, custom lines, codes).
    #[wasm_bindgen(js_name = clear, unchecked_return_type = "CartView")]
    pub fn clear(&self) -> Result<JsValue, JsValue> {
        self.act_one(json!({ "action": "clear" }))
    }

    /// Switches to a new catalog: reprices, and marks lines whose price moved with `PRICE_CHANGED`.
    /// The catalog is cached under `<storageKey>:catalog` for offline reloads.
    #[wasm_bindgen(js_name = setCatalog, unchecked_return_type = "CartView")]
    pub fn set_catalog(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Catalog | string")] catalog: JsValue,
    ) -> Result<JsValue, JsValue> {
        let input = options::catalog(&catalog)?;
        self.mutate(|session, storage, now| session.set_catalog(input, storage, now))
    }

    /// Merges `other` (a guest cart) into this one, as when a shopper signs in: lines both hold get the
    /// larger (`quantities: "max"`, default) or summed (`"sum"`) quantity; `other` becomes `merged`.
    /// What could not be taken over is in `lastMergeReport`.
    #[wasm_bindgen(js_name = merge, unchecked_return_type = "CartView")]
    pub fn merge(
        &self,
        other: &Cart,
        #[wasm_bindgen(unchecked_optional_param_type = "MergeOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        if Rc::ptr_eq(&self.inner, &other.inner) {
            return Err(CartError::invalid_request("a cart cannot be merged into itself").into());
        }
        let mode = match options::opt_string(&options, "quantities")?.as_deref() {
            None | Some("max") => MergeMode::Max,
            Some("sum") => MergeMode::Sum,
            Some(_) => {
                return Err(CartError::invalid_field("quantities", "quantities: expected \"max\" or \"sum\"").into())
            }
        };
        guard_listener_loop(&self.inner)?;
        let now = now_of(&self.inner)?;
        let result = {
            let mut mine = self.borrow_mut()?;
            let mut theirs = other.borrow_mut()?;
            let (
                Inner {
                    session: a, store: sa, ..
                },
                Inner {
                    session: b, store: sb, ..
                },
            ) = (&mut *mine, &mut *theirs);
            let none = crate::session::NoStorage;
            let ra: &dyn Storage = sa.as_ref().map_or(&none as &dyn Storage, |s| s as &dyn Storage);
            let rb: &dyn Storage = sb.as_ref().map_or(&none as &dyn Storage, |s| s as &dyn Storage);
            a.merge(b, mode, (ra, rb), now)
        };
        let outcome = result.map(|(mine, theirs)| {
            execute(&self.inner, mine);
            execute(&other.inner, theirs);
        });
        deliver();
        outcome?;
        view_of(&self.inner)
    }

    /// The persisted form of the cart (`{"schema", "savedAt", "checksum", "cart"}`) as a string, for
    /// `Cart.fromSnapshot` (server-side rendering, moving a cart to a worker, tests).
    #[wasm_bindgen(js_name = snapshot)]
    pub fn snapshot(&self) -> Result<String, JsValue> {
        let now = now_of(&self.inner)?;
        let inner = self.inner.try_borrow().map_err(|_| js::busy())?;
        Ok(inner.session.snapshot(now)?)
    }
}

/// Whether `value` is an error thrown (or reported) by this package: `name === "CartError"` with a
/// string `code`.
#[wasm_bindgen(js_name = isCartError, unchecked_return_type = "value is CartError")]
pub fn is_cart_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    js::get(&value, "name").as_string().as_deref() == Some("CartError") && js::get(&value, "code").is_string()
}
