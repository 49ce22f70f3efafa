// Loaded as a module by tabs.html (no inline script: cart-server's CSP forbids it).
// One tab of tests/e2e/tabs.test.mjs: the package as a storefront uses it (localStorage, the default).
import init, { Cart, isCartError } from "/pkg/wasm_cart.js";

await init();
const catalog = {
  version: "tabs#1",
  taxCategories: [{ id: "std", rates: [{ country: "DE", rate: "0.19", name: "MwSt 19%" }] }],
  products: [
    { id: "mug", sku: "MUG", name: "Mug", taxCategory: "std", prices: [{ currency: "EUR", amount: "9.99" }] },
    { id: "tea", sku: "TEA", name: "Tea", taxCategory: "std", prices: [{ currency: "EUR", amount: "4.50" }] },
  ],
};
const key = new URLSearchParams(location.search).get("key") || "tabs";
const cart = Cart.open({ catalog, storageKey: key, currency: "EUR", country: "DE" });
const errors = [];
cart.on("error", (e) => errors.push(`${e.code}: ${e.message}`));
let changes = 0;
cart.subscribe(() => { changes++; });

/** A macrotask without the clamping of nested setTimeout: lets commits and messages run. */
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToBrowser = () => new Promise((resolve) => { waiting.push(resolve); channel.port2.postMessage(0); });

globalThis.tab = {
  id: Math.random().toString(16).slice(2, 8),
  cart,
  errors,
  changes: () => changes,
  /** Adds units as fast as it can for `ms`, spread over `slots` lines of this tab; returns the count. */
  async hammer(ms, slots) {
    const end = performance.now() + ms;
    let acknowledged = 0;
    while (performance.now() < end) {
      cart.addItem({ productId: acknowledged % 2 ? "mug" : "tea", attributes: { tab: this.id, slot: acknowledged % slots } });
      acknowledged++;
      await yieldToBrowser();
    }
    return acknowledged;
  },
  /**
   * Adds a line and at once sets its quantity by the id the view shows, `rounds` times: when two tabs
   * add lines at the same moment, one of them is committed under another id, and the quantity must
   * still reach the right line. Returns the quantity set on each of this tab's lines.
   */
  async renames(rounds) {
    const set = {};
    for (let round = 0; round < rounds; round++) {
      const view = cart.addItem({ productId: "tea", attributes: { tab: this.id, round } });
      const line = view.lineItems.find((l) => l.attributes.tab === this.id && l.attributes.round === round);
      const quantity = 2 + (round % 5);
      cart.changeQuantity(line.id, quantity);
      set[round] = quantity;
      if (round % 3 === 0) await yieldToBrowser();
    }
    return set;
  },
  /** The quantity of each of tab `id`'s `renames` lines, as this tab shows them. */
  roundQuantities(id) {
    const out = {};
    for (const line of cart.view().lineItems) if (line.attributes.tab === id && line.attributes.round !== undefined) out[line.attributes.round] = line.quantity;
    return out;
  },
  /** `n` changes in one go, without giving the browser a chance to commit them. */
  burst(n) {
    for (let i = 0; i < n; i++) cart.addItem({ productId: "mug", attributes: { tab: this.id, slot: "burst" } });
    return n;
  },
  /** Units per tab id in what this tab shows. */
  units() {
    const out = {};
    for (const line of cart.view().lineItems) out[line.attributes.tab] = (out[line.attributes.tab] || 0) + line.quantity;
    return out;
  },
  /** The same, in the cart stored under the key (DESIGN §7). */
  storedUnits() {
    const blob = JSON.parse(localStorage.getItem(key));
    const out = {};
    for (const line of blob.cart.lineItems) out[line.attributes.tab] = (out[line.attributes.tab] || 0) + line.quantity;
    return { version: blob.cart.version, commit: blob.commit, units: out };
  },
  /** The same in the commit point (the IndexedDB record, docs/tabs.md), for failure messages. */
  committedUnits() {
    return new Promise((resolve) => {
      const open = indexedDB.open("wasm-cart");
      open.onerror = () => resolve({ error: String(open.error) });
      open.onsuccess = () => {
        const get = open.result.transaction("records").objectStore("records").get(key);
        get.onerror = () => resolve({ error: String(get.error) });
        get.onsuccess = () => {
          open.result.close();
          if (typeof get.result !== "string") return resolve({ missing: true });
          const blob = JSON.parse(get.result);
          const out = {};
          for (const line of blob.cart.lineItems) out[line.attributes.tab] = (out[line.attributes.tab] || 0) + line.quantity;
          resolve({ version: blob.cart.version, commit: blob.commit, units: out });
        };
      };
    });
  },
  /** A listener that changes the cart it listens to; afterwards, whether carts still work. */
  reentrant() {
    const other = Cart.open({ catalog, storageKey: key + ":reentrant", currency: "EUR", storage: "memory" });
    const loop = [];
    other.on("error", (e) => loop.push(e.code));
    other.subscribe(() => { try { other.addItem({ productId: "mug" }); } catch (e) { if (!isCartError(e)) throw e; } });
    other.addItem({ productId: "mug" });
    return new Promise((resolve) => setTimeout(() => {
      const errors = loop.slice();
      const third = Cart.open({ catalog, storageKey: key + ":third", currency: "EUR", storage: "memory" });
      resolve({
        errors,
        quantity: other.view().lineItems[0].quantity,
        thirdTotal: third.addItem({ productId: "tea", quantity: 2 }).totals.total,
        sameCartStillWorks: other.changeQuantity("li_1", 3) === other.view(),
        mainCartStillWorks: cart.view().id.startsWith("cart_"),
      });
    }, 0));
  },
};
document.querySelector("#state").textContent = "ready";
