// What the storefront tests share: finding products in the demo catalog and driving the page as a
// shopper does (the product dialog, Place order), plus reading an order back from cart-server.
import assert from "node:assert/strict";
import { before, after } from "node:test";
import { startServer, launchBrowser } from "./harness.mjs";

/** Registers the file's hooks: a cart-server on the demo catalog and a browser before its tests, both
 *  stopped after them. `ready({ server, browser, catalog })` receives them (`catalog`: what it serves).
 *  Returns the helpers below bound to that server and catalog. */
export function storeSuite(ready) {
  const state = {};
  before(async () => {
    state.server = await startServer();
    state.browser = await launchBrowser();
    state.catalog = await (await fetch(state.server.url + "/api/v1/catalog")).json();
    ready(state);
  });
  after(async () => {
    await state.browser?.close();
    await state.server?.stop();
  });
  return {
    simple: () => simpleProduct(state.catalog),
    licence: () => licenceProduct(state.catalog),
    openStore: (page) => openStore(page, state.server.url),
    stockOf: (productId) => stockOf(state.server.url, productId),
    placeOrder: (page) => placeOrder(page, state.server.url),
    confirmedCheckout: (page) => confirmedCheckout(page, state.server.url),
  };
}

export const eur = (p) => (p.prices || []).find((x) => x.currency === "EUR" && !x.customerGroup && !x.country && !x.minQuantity);

/** A plain shippable product with stock and a EUR price, no variants or required attributes. */
export const simpleProduct = (catalog) => catalog.products.find((p) => p.available !== false && p.shippable !== false && eur(p) &&
  !(p.requiredAttributes || []).length && !(p.variants || []).length && (p.stock ?? 0) >= 20 && p.kind !== "addon");

/** A product that needs a `domain` attribute (a licence). */
export const licenceProduct = (catalog) => catalog.products.find((p) => (p.requiredAttributes || []).includes("domain") && eur(p));

export async function openStore(page, url) {
  await page.goto(url + "/");
  await page.waitForFunction(() => globalThis.demoCart && document.querySelectorAll("#products li").length > 0);
}

export const view = (page) => page.evaluate(() => globalThis.demoCart.view());

/** Adds through the product dialog, as a shopper does. */
export async function add(page, product, { quantity = 1, attributes = {} } = {}) {
  await page.click(`li[data-product-id="${product.id}"] button`);
  const dialog = page.locator("#product-dialog");
  await dialog.waitFor({ state: "visible" });
  for (const [name, value] of Object.entries(attributes)) await dialog.locator(`input[data-attribute="${name}"]`).fill(value);
  await dialog.locator("#product-quantity").fill(String(quantity));
  await dialog.locator("#product-add").click();
  await dialog.waitFor({ state: "hidden" });
}

/** The catalog's stock of a product now. */
export async function stockOf(url, productId) {
  const fresh = await (await fetch(url + "/api/v1/catalog")).json();
  return fresh.products.find((p) => p.id === productId).stock;
}

/** Clicks Place order and waits for the confirmation: the total the page showed and the stored checkout. */
export async function placeOrder(page, url) {
  const shown = Number(await page.getAttribute("#grand-total", "data-total"));
  await page.click("#place-order");
  await page.locator("#confirmation").waitFor({ state: "visible" });
  return { shown, checkout: await confirmedCheckout(page, url) };
}

/** The checkout the confirmation view shows, as the server stored it (its view is in minor units). */
export async function confirmedCheckout(page, url) {
  const id = await page.getAttribute("#confirmation", "data-checkout-id");
  assert.ok(id, "the confirmation names its checkout");
  // The order opens with the secret the page's archive keeps with it (the storage blob is JSON in JSON).
  const secret = await page.evaluate((id) => {
    for (let i = 0; i < localStorage.length; i++) {
      const text = localStorage.getItem(localStorage.key(i)) || "";
      const match = text.includes(id) && text.match(/\\?"secret\\?":\\?"([A-Za-z0-9_-]{32,128})/);
      if (match) return match[1];
    }
    return null;
  }, id);
  assert.ok(secret, "the archived order keeps its secret");
  const response = await fetch(`${url}/api/v1/orders/${id}`, { headers: { "X-Cart-Secret": secret } });
  assert.equal(response.status, 200);
  return response.json();
}
