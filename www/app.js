// The demo storefront: one page that shows what an offline-capable, instantly repricing cart feels
// like. Everything here is plain DOM + the wasm-cart package; the cart lives in localStorage.
//
// Start-up, in order: the catalog request goes out at once (while the wasm loads); a returning
// shopper's cart opens from localStorage with the catalog cached beside it and is shown straight away;
// the fresh catalog, when it comes, reprices it. The page stays `inert` until the cart is open.
import init, { Cart } from "../pkg/wasm_cart.js";
import { el, money, COUNTRIES } from "./format.js";
import { renderGrid, openProduct } from "./products.js";
import { renderCart, lineElement } from "./cart-view.js";
import { showConfirmation } from "./confirmation.js";

const API = "/api/v1";
const STORAGE_KEY = "wasm-cart-demo";
/** Formats follow the page's language (`<html lang>`), not the shop's country. */
const LOCALE = document.documentElement.lang || "en";
/** A first visit waits this long for the catalog; a returning shopper has one cached and waits for nothing
 *  (its request may take as long as it takes, the cart is already shown). */
const CATALOG_TIMEOUT_MS = 10000;
const ADDRESS_FIELDS = ["lastName", "streetName", "postalCode", "city", "email"];
const $ = (id) => document.getElementById(id);

let cart;
let catalog;
let placing = false;
let undo = null;
let addressEdited = false;

// ---------------------------------------------------------------- messages

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

/** Tells a screen reader what a change did (the polite live region next to the notice). */
function announce(text) {
  $("announcer").textContent = text;
}

function totalText(view) {
  return "Total " + money(view, view.totals.total);
}

function checkoutError(text) {
  $("checkout-error").textContent = text || "";
  $("checkout-error").hidden = !text;
}

/** Runs a cart call from a control; a CartError becomes a visible notice instead of an exception. */
function guard(fn) {
  return (...args) => {
    if (!cart) return undefined;
    try {
      notice("");
      return fn(...args);
    } catch (e) {
      notice(e.message || String(e));
      return undefined;
    }
  };
}

// ---------------------------------------------------------------- cart actions (from the cart panel)

/** What the panel's controls do. changeQuantity and setAttributes throw the CartError: the line shows it. */
const actions = {
  changeQuantity(line, quantity) {
    const view = cart.changeQuantity(line.id, quantity);
    dropUndo();
    announce(`${line.name}: quantity ${quantity}. ${totalText(view)}`);
  },
  removeItem: guard((line) => {
    const view = cart.removeItem(line.id);
    offerUndo(line);
    announce(`Removed ${line.name}. ${totalText(view)}`);
  }),
  setAttributes(line, values) {
    const view = cart.setAttributes(line.id, { ...line.attributes, ...values });
    announce(`${line.name} updated. ${totalText(view)}`);
    (lineElement(document, line.id)?.querySelector("input[type=number]") || $("cart")).focus();
  },
  atMinimum(line) {
    announce(`${line.name}: quantity ${line.quantity} is the least. Remove takes it out of the cart.`);
  },
  removeCode: guard((code) => {
    const view = cart.removeCode(code);
    announce(`Code ${code} removed. ${totalText(view)}`);
    $("code-input").focus();
  }),
  setShippingMethod: guard((id) => announce(totalText(cart.setShippingMethod(id)))),
  fixFor: (issue, view) => (issue.code === "NO_SHIPPING_METHOD" ? currencyFix(view) : null),
};

/** The addLineItem that brings `line` back as it is (product, variant, attributes, quantity). */
function addRequest(line) {
  const request = { productId: line.productId, quantity: line.quantity, attributes: line.attributes };
  if (line.variantId !== null) request.variantId = line.variantId;
  return request;
}

/** Remove is one click; Undo puts the line back as it was. */
function offerUndo(line) {
  undo = { request: addRequest(line), name: line.name };
  $("undo-text").textContent = `Removed ${line.name}.`;
  $("undo").hidden = false;
  $("undo-button").focus();
}

function dropUndo() {
  undo = null;
  $("undo").hidden = true;
}

const restore = guard(() => {
  if (!undo) return;
  const { name, request } = undo;
  const view = cart.addItem(request);
  dropUndo();
  announce(`${name} is back in the cart. ${totalText(view)}`);
  const line = [...view.lineItems].reverse().find((l) => l.productId === request.productId);
  const row = line && lineElement(document, line.id);
  (row ? row.querySelector("input[type=number]") : $("cart")).focus();
});

/** Another currency in which the shop ships to the cart's country, as a one-click fix. */
function currencyFix(view) {
  const country = (view.shippingAddress && view.shippingAddress.country) || view.country;
  const currency = (catalog.shippingMethods || []).flatMap((m) => m.rates || [])
    .find((r) => r.currency !== view.currency && (r.countries || []).includes(country))?.currency;
  if (!currency) return null;
  const place = COUNTRIES[country] || country;
  return { text: `We ship to ${place} in ${currency}. `, label: `Pay in ${currency}`, run: () => {
    switchCurrency(currency);
    $("cart").focus(); // the button goes with the issue it fixed
  } };
}

/** The engine changes the currency of an empty cart only: one atomic apply takes the lines out, switches,
 *  and puts them back priced in the new currency — or, if one is not sold in it, changes nothing.
 *  (Custom lines have no catalog price to carry over: a cart holding one keeps its currency.) */
const switchCurrency = guard((currency) => {
  const view = cart.view();
  if (view.currency === currency) return;
  const lines = view.lineItems.filter((l) => !l.gift);
  const next = cart.apply([
    ...lines.map((l) => ({ action: "removeLineItem", lineItemId: l.id })),
    { action: "setCurrency", currency },
    ...lines.map((l) => ({ action: "addLineItem", ...addRequest(l) })),
  ]);
  dropUndo();
  announce(`Prices are now in ${currency}. ${totalText(next)}`);
});

// ---------------------------------------------------------------- rendering

function render(view) {
  renderCart(document, view, actions);
  $("cart-count").textContent = String(view.lineItems.reduce((n, l) => n + l.quantity, 0));
  $("currency").value = view.currency;
  $("country").value = (view.shippingAddress && view.shippingAddress.country) || view.country || "DE";
  fillAddress(view);
  if (catalog) renderGrid($("products"), catalog, view, openDetail);
}

/** The shopper's e-mail: the cart's customer, else the one given with the address. */
function shopperEmail(view) {
  return view.customer.email || (view.shippingAddress && view.shippingAddress.email) || "";
}

/** The address form shows the cart's address (after a reload too), unless the shopper is editing it. */
function fillAddress(view) {
  const form = $("address-form");
  if (addressEdited || form.contains(document.activeElement)) return;
  const values = { ...view.shippingAddress, email: shopperEmail(view) };
  for (const key of ADDRESS_FIELDS) form.elements[key].value = values[key] || "";
}

function openDetail(product, opener) {
  openProduct($("product-dialog"), product, cart.view(), (request) => {
    const view = cart.addItem(request);
    dropUndo();
    announce(`Added ${request.quantity} × ${product.name}. ${totalText(view)}`);
  }, opener);
}

function showNetwork() {
  const online = navigator.onLine;
  const badge = $("network");
  badge.textContent = online ? "online" : "offline";
  badge.classList.toggle("offline", !online);
}

// ---------------------------------------------------------------- checkout

/** PRICE_CHANGED: list every line whose price moved, let the shopper accept the server's prices. */
function showPriceChanges(error) {
  const changes = cart.acceptServerPrices(error.details);
  const view = cart.view();
  $("price-changes").replaceChildren(...changes.map((c) =>
    el("li", { dataset: { lineId: c.lineItemId || "" } }, `${c.name}: ${money(view, c.oldTotal)} → ${money(view, c.newTotal)}`)));
  $("price-total").textContent = "New total: " + money(view, view.totals.total);
  const dialog = $("price-dialog");
  $("price-accept").onclick = async () => {
    dialog.close();
    await adoptCatalog(await fetchCatalog()); // later edits then price like the server, too
    placeOrder();
  };
  $("price-cancel").onclick = () => dialog.close();
  dialog.showModal();
}

const CHECKOUT_TEXT = {
  PAYMENT_FAILED: "Your payment was declined. Please choose another payment method.",
  NETWORK_ERROR: "The shop could not be reached. Your cart is kept; please try again.",
};

async function placeOrder() {
  if (placing || !cart) return; // a double click places one order (the idempotency key would too)
  placing = true;
  const button = $("place-order");
  const status = $("checkout-status");
  button.disabled = true;
  notice("");
  checkoutError("");
  status.textContent = "Placing your order…";
  const shown = cart.view();
  try {
    const result = await cart.checkout({
      endpoint: API,
      paymentMethodId: $("payment").value,
      customerId: shopperEmail(shown) || "guest",
      whenOffline: "queue",
    });
    if (result && result.status === "queued") {
      status.textContent = "You are offline: the order is queued and will be sent when you are back online.";
    } else {
      orderPlaced(result, shown);
    }
  } catch (e) {
    status.textContent = "";
    if (e.code === "PRICE_CHANGED") showPriceChanges(e);
    else checkoutError(CHECKOUT_TEXT[e.code] || e.message || String(e));
  } finally {
    placing = false;
    button.disabled = !cart.view().canCheckout;
  }
}

/** Whatever the page said about earlier attempts (declined, queued) is cleared once an order is placed. */
function orderPlaced(order, shown) {
  const section = $("confirmation");
  if (!section.hidden && section.dataset.checkoutId === (order.orderId || "")) return; // checkout() and `ordered` both tell
  $("checkout-status").textContent = "";
  checkoutError("");
  notice("");
  dropUndo();
  // The tab the shopper is using moves to the confirmation; another tab shows it and keeps its focus
  // and anything typed in its address form.
  const here = document.hasFocus();
  if (here) addressEdited = false;
  showConfirmation(document, order, shown, { focus: here });
}

/** The new cart after an order (placed here, sent later from a queue, or in another tab) starts where
 *  the ordered one left off: currency, country, address and e-mail — a Swiss shopper is not sent back to
 *  EUR and Germany. Only what differs is applied, so every tab that hears of the order converges on
 *  the same cart; the currency stays if lines were added meanwhile (the engine keeps it then). */
const carryOver = guard((previous) => {
  const next = cart.view();
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const changes = [];
  if (next.currency !== previous.currency && next.lineItems.length === 0) {
    changes.push({ action: "setCurrency", currency: previous.currency });
  }
  if (previous.country && next.country !== previous.country) changes.push({ action: "setCountry", country: previous.country });
  if (previous.shippingAddress && !same(next.shippingAddress, previous.shippingAddress)) {
    changes.push({ action: "setShippingAddress", address: previous.shippingAddress });
  }
  if (previous.customer.email && next.customer.email !== previous.customer.email) {
    changes.push({ action: "setCustomer", email: previous.customer.email });
  }
  if (changes.length) cart.apply(changes);
});

// ---------------------------------------------------------------- wiring

function wire() {
  $("currency").addEventListener("change", (e) => {
    switchCurrency(e.target.value);
    if (cart) e.target.value = cart.view().currency; // refused: the select shows the cart's currency again
  });
  $("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!cart) return;
    const input = $("code-input");
    const error = $("code-error");
    const code = input.value.trim();
    if (!code) return;
    try {
      const view = cart.applyCode(code);
      input.value = "";
      error.hidden = true;
      announce(`Code ${code.toUpperCase()} added. ${totalText(view)}`);
    } catch (err) {
      error.textContent = err.code === "INVALID_PROMO_CODE" ? `Unknown code ${code}` : err.message;
      error.hidden = false;
    }
  });
  $("address-form").addEventListener("input", () => {
    addressEdited = true;
    $("address-status").textContent = "";
  });
  $("address-form").addEventListener("submit", guard((e) => {
    e.preventDefault();
    const form = e.target.elements;
    const address = { country: $("country").value };
    for (const key of ADDRESS_FIELDS) {
      if (form[key].value.trim()) address[key] = form[key].value.trim();
    }
    // One apply: a refused e-mail leaves the address unsaved too, and the form keeps what was typed.
    cart.apply([{ action: "setShippingAddress", address },
      ...(address.email ? [{ action: "setCustomer", email: address.email }] : [])]);
    addressEdited = false;
    $("address-status").textContent = "Address saved.";
  }));
  $("country").addEventListener("change", guard((e) => {
    const current = cart.view().shippingAddress || {};
    announce(totalText(cart.setShippingAddress({ ...current, country: e.target.value })));
  }));
  $("checkout-form").addEventListener("submit", (e) => {
    e.preventDefault();
    placeOrder();
  });
  $("undo-button").addEventListener("click", restore);
  $("continue").addEventListener("click", () => {
    $("confirmation").hidden = true;
    $("cart").focus();
  });
  $("catalog-retry").addEventListener("click", () => {
    $("catalog-retry").hidden = true;
    $("catalog-status").textContent = "Loading the store…";
    start(fetchCatalog()).catch(failed);
  });
  addEventListener("online", showNetwork);
  addEventListener("offline", showNetwork);
}

// ---------------------------------------------------------------- start-up

/** The catalog from the server (ETag-cached by the browser and the service worker), else null. */
async function fetchCatalog() {
  try {
    const response = await fetch(API + "/catalog", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("catalog: HTTP " + response.status);
    return await response.json();
  } catch {
    return null;
  }
}

/** Reprices the open cart with a newer catalog (offline or on failure the cart keeps its own). */
async function adoptCatalog(fresh) {
  if (!fresh || !cart) return;
  if (cart.view().catalogVersion !== fresh.version) guard(() => cart.setCatalog(fresh))();
  catalog = cart.catalog(); // the one the cart prices with (a catalog it refused is not shown either)
  render(cart.view());
}

/** `promise`'s value, or null if it takes longer than `ms`. */
function within(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

/** The page is inert (and busy) until the cart is open (index.html). */
function ready() {
  for (const id of ["app", "tools"]) $(id).inert = false;
  $("app").removeAttribute("aria-busy");
}

function failed(e) {
  notice("The store could not start: " + (e.message || e));
}

function openCart(withCatalog) {
  const options = { storageKey: STORAGE_KEY, currency: "EUR", country: "DE", locale: LOCALE };
  if (withCatalog) return Cart.open({ ...options, catalog: withCatalog });
  try {
    return Cart.open(options); // the catalog cached under `<key>:catalog` by the last visit
  } catch {
    return null; // first visit: nothing cached yet
  }
}

/** Opens the cart: at once from storage when it can, else with the catalog from `catalogRequest`. */
async function start(catalogRequest) {
  const status = $("catalog-status");
  cart = openCart(null);
  if (!cart) {
    const fetched = await within(catalogRequest, CATALOG_TIMEOUT_MS);
    if (!fetched) {
      status.textContent = "The catalog could not be loaded. Check your connection and try again.";
      $("catalog-retry").hidden = false; // outside the inert part of the page
      $("catalog-retry").focus();
      return;
    }
    cart = openCart(fetched);
  }
  catalog = cart.catalog();
  if (cart.view().locale !== LOCALE) cart.apply([{ action: "setLocale", locale: LOCALE }]);
  cart.subscribe(render);
  // Also fires when a queued order goes out later (back online, or at the next visit).
  cart.on("ordered", (e) => {
    if (e.order) orderPlaced(e.order, e.cart);
    carryOver(e.cart);
  });
  cart.on("error", (e) => {
    if (e.name !== "CheckoutError") return notice(e.message || String(e));
    // A queued order the server refused once it was sent: said where the order was placed.
    $("checkout-status").textContent = "";
    return checkoutError(CHECKOUT_TEXT[e.code] || e.message);
  });
  render(cart.view());
  status.hidden = true;
  ready();
  globalThis.demoCart = cart; // for the end-to-end tests and curious developers
  catalogRequest.then(adoptCatalog);
}

async function main() {
  const catalogRequest = fetchCatalog(); // in parallel with the wasm download
  wire();
  await init();
  showNetwork();
  await start(catalogRequest);
  // The worker caches the files of the version this page came from (www/sw.js).
  const assets = new URL("./", import.meta.url).pathname;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js?assets=" + encodeURIComponent(assets)).catch(() => {});
  }
}

main().catch(failed);
