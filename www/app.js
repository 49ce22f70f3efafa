// The demo storefront: one page that shows what an offline-capable, instantly repricing cart feels
// like. Everything here is plain DOM + the wasm-cart package; the cart lives in localStorage.
import init, { Cart } from "../pkg/wasm_cart.js";
import { el, money } from "./format.js";
import { renderGrid, openProduct } from "./products.js";
import { renderCart } from "./cart-view.js";

const API = "/api/v1";
const STORAGE_KEY = "wasm-cart-demo";
const $ = (id) => document.getElementById(id);

let cart;
let catalog;

function notice(text) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

/** Runs a cart call; a CartError becomes a visible notice instead of an uncaught exception. */
function guard(fn) {
  return (...args) => {
    try {
      notice("");
      return fn(...args);
    } catch (e) {
      notice(e.message || String(e));
      return undefined;
    }
  };
}

const actions = {
  changeQuantity: guard((id, q) => (q <= 0 ? cart.removeItem(id) : cart.changeQuantity(id, q))),
  removeItem: guard((id) => cart.removeItem(id)),
  removeCode: guard((code) => cart.removeCode(code)),
  setShippingMethod: guard((id) => cart.setShippingMethod(id)),
};

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

/** Adopts the server's current catalog (after it reported new prices); offline, the cart keeps its own. */
async function refreshCatalog() {
  const fresh = await fetchCatalog();
  if (!fresh) return;
  catalog = fresh;
  guard(() => cart.setCatalog(fresh))();
}

function render(view) {
  renderCart(document, view, actions);
  $("cart-count").textContent = String(view.lineItems.reduce((n, l) => n + l.quantity, 0));
  const currency = $("currency");
  currency.value = view.currency;
  currency.disabled = view.lineItems.length > 0;
  $("currency-hint").hidden = !currency.disabled;
  $("country").value = (view.shippingAddress && view.shippingAddress.country) || view.country || "DE";
  if (catalog) renderGrid($("products"), catalog, view, openDetail);
}

function openDetail(product) {
  openProduct($("product-dialog"), product, cart.view(), (request) => cart.addItem(request));
}

function showNetwork() {
  const online = navigator.onLine;
  const badge = $("network");
  badge.textContent = online ? "online" : "offline";
  badge.classList.toggle("offline", !online);
}

/** The order as the server confirmed it: the checkout's confirmation number and one order per vendor. */
function showConfirmation(order, total) {
  const section = $("confirmation");
  section.dataset.checkoutId = order.orderId || "";
  const vendorOrders = order.orders && order.orders.length ? order.orders : [order];
  $("order-numbers").replaceChildren(...vendorOrders.map((o) =>
    el("li", { dataset: { orderId: o.orderId } }, o.orderId + (o.vendor ? ` (${o.vendor})` : ""))));
  const charged = order.view ? money(order.view, order.view.totals.total) : total;
  $("confirmation-total").textContent = [order.confirmationNumber && "Confirmation " + order.confirmationNumber,
    charged && "charged " + charged].filter(Boolean).join(" · ");
  section.hidden = false;
  section.focus();
}

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
    await refreshCatalog(); // later edits then price like the server, too
    placeOrder();
  };
  $("price-cancel").onclick = () => dialog.close();
  dialog.showModal();
}

let placing = false;
async function placeOrder() {
  if (placing) return; // a double click places one order (the idempotency key would too)
  placing = true;
  const button = $("place-order");
  const status = $("checkout-status");
  button.disabled = true;
  status.textContent = "Placing your order…";
  const totalText = money(cart.view(), cart.view().totals.total);
  try {
    const email = $("address-form").elements.email.value.trim();
    const result = await cart.checkout({
      endpoint: API,
      paymentMethodId: $("payment").value,
      customerId: email || "guest",
      whenOffline: "queue",
    });
    if (result && result.status === "queued") {
      status.textContent = "You are offline: the order is queued and will be sent when you are back online.";
    } else {
      status.textContent = "";
      showConfirmation(result, totalText);
    }
  } catch (e) {
    status.textContent = "";
    if (e.code === "PRICE_CHANGED") showPriceChanges(e);
    else notice(e.code === "PAYMENT_FAILED" ? "Your payment was declined. Please choose another payment method." : e.message || String(e));
  } finally {
    placing = false;
    button.disabled = !cart.view().canCheckout;
  }
}

function wire() {
  $("currency").addEventListener("change", guard((e) => cart.apply([{ action: "setCurrency", currency: e.target.value }])));
  $("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("code-input");
    const error = $("code-error");
    try {
      cart.applyCode(input.value.trim());
      input.value = "";
      error.hidden = true;
    } catch (err) {
      error.textContent = err.code === "INVALID_PROMO_CODE" ? "Unknown code" : err.message;
      error.hidden = false;
    }
  });
  $("address-form").addEventListener("submit", guard((e) => {
    e.preventDefault();
    const form = e.target.elements;
    const address = { country: $("country").value };
    for (const key of ["lastName", "streetName", "postalCode", "city", "email"]) {
      if (form[key].value.trim()) address[key] = form[key].value.trim();
    }
    cart.setShippingAddress(address);
    if (address.email) cart.setCustomer({ email: address.email });
  }));
  $("country").addEventListener("change", guard((e) => {
    const current = cart.view().shippingAddress || {};
    cart.setShippingAddress({ ...current, country: e.target.value });
  }));
  $("checkout-form").addEventListener("submit", (e) => {
    e.preventDefault();
    placeOrder();
  });
  $("continue").addEventListener("click", () => {
    $("confirmation").hidden = true;
    $("cart").focus();
  });
  addEventListener("online", showNetwork);
  addEventListener("offline", showNetwork);
}

async function main() {
  await init();
  showNetwork();
  wire();
  catalog = await fetchCatalog();
  // Offline: open() with no catalog uses the one cached under `<key>:catalog` by the last visit.
  cart = Cart.open({ catalog: catalog || undefined, storageKey: STORAGE_KEY, currency: "EUR", country: "DE", locale: "de-DE" });
  if (!catalog) catalog = cart.catalog();
  $("catalog-status").textContent = catalog ? "" : "The catalog could not be loaded.";
  $("catalog-status").hidden = Boolean(catalog);
  cart.subscribe(render);
  // Also fires when a queued order goes out later (back online, or at the next visit).
  cart.on("ordered", (e) => e.order && showConfirmation(e.order, ""));
  cart.on("error", (e) => notice(e.message || String(e)));
  render(cart.view());
  globalThis.demoCart = cart; // for the end-to-end tests and curious developers
  // The worker caches the files of the version this page came from (www/sw.js).
  const assets = new URL("./", import.meta.url).pathname;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js?assets=" + encodeURIComponent(assets)).catch(() => {});
  }
}

main().catch((e) => notice("The store could not start: " + (e.message || e)));
