// The demo storefront in real Chromium against a real cart-server: every promise of the project.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { mkdirSync } from "node:fs";
import { startServer, withContext, screenshots, ROOT, SHOTS } from "./harness.mjs";
import { storeSuite, eur, view, add } from "./store.mjs";

let server;
let browser;
let catalog;
const { simple, licence, openStore, stockOf, placeOrder, confirmedCheckout } =
  storeSuite((s) => ({ server, browser, catalog } = s));

/** FNV-1a 64 (the cart's storage checksum), so a test can forge a blob the way an attacker would. */
function fnv1a64(text) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, "0");
}

test("add, change and remove a line", async () => {
  await withContext(browser, "add-change-remove", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product);
    await page.locator(".line").first().waitFor();
    await page.click(`.line button:has-text("One more ${product.name}")`);
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems[0]?.quantity === 2);
    const v = await view(page);
    assert.equal(v.lineItems[0].baseTotal, v.lineItems[0].unitPrice * 2);
    await page.click(`.line button:has-text("Remove ${product.name}")`);
    await page.locator("#cart-empty").waitFor({ state: "visible" });
    assert.equal((await view(page)).lineItems.length, 0);
    assert.equal(await page.isDisabled("#place-order"), true);
  });
});

test("promo codes show their state and unknown codes are refused", async () => {
  const promo = catalog.promotions.find((p) => p.code && p.target.type === "items" && !p.conditions);
  assert.ok(promo, "the demo catalog has an item promotion with a code and no conditions");
  await withContext(browser, "promo-codes", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await add(page, simple(), { quantity: 2 });
    await page.fill("#code-input", "NO-SUCH-CODE");
    await page.click("#code-form button[type=submit]");
    await page.locator("#code-error").waitFor({ state: "visible" });
    await page.fill("#code-input", promo.code.toLowerCase());
    await page.click("#code-form button[type=submit]");
    await page.locator(`.code[data-state="applied"]`).waitFor();
    const v = await view(page);
    assert.ok(v.totals.discountTotal < 0);
    assert.ok(v.lineItems[0].discounts.some((d) => d.promotionId === promo.id));
  });
});

test("shipping and tax follow the destination country", async () => {
  await withContext(browser, "shipping-tax", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product);
    const rateFor = (country) => catalog.taxCategories.find((t) => t.id === product.taxCategory).rates
      .find((r) => r.country === country || !r.country).rate;
    for (const country of ["AT", "DE"]) {
      await page.selectOption("#country", country);
      await page.waitForFunction((c) => globalThis.demoCart.view().shippingAddress?.country === c, country);
      const v = await view(page);
      assert.equal(v.lineItems[0].taxRate, rateFor(country));
      assert.ok(v.shipping, "a shippable product has shipping");
      assert.equal(await page.locator("#shipping-options input[type=radio]").count(), v.availableShippingMethods.length);
    }
  });
});

test("the cart survives a reload and two tabs stay in sync", async () => {
  await withContext(browser, "reload-tabs", async (context) => {
    const one = await context.newPage();
    await openStore(one);
    const two = await context.newPage();
    await openStore(two);
    await add(one, simple(), { quantity: 3 });
    await two.waitForFunction(() => globalThis.demoCart.view().lineItems[0]?.quantity === 3);
    await two.locator(".line").first().waitFor();
    await one.reload();
    await one.waitForFunction(() => globalThis.demoCart?.view().lineItems[0]?.quantity === 3);
    const lic = licence();
    await add(two, lic, { quantity: 2, attributes: { domain: "example.com" } });
    await one.waitForFunction(() => globalThis.demoCart.view().lineItems.length === 2);
  });
});

test("a successful order is charged exactly what the page showed", async () => {
  await withContext(browser, "order-ok", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    const before = await stockOf(product.id);
    await add(page, product, { quantity: 2 });
    await add(page, licence(), { quantity: 3, attributes: { domain: "shop.example" } });
    const { shown, checkout } = await placeOrder(page);
    assert.equal(checkout.view.totals.total, shown, "charged exactly what the page showed");
    assert.equal(await page.locator("#order-numbers li").count(), checkout.orders.length);
    assert.ok(checkout.orders.length >= 2, "a router (telco) and a licence (microsoft): one order per vendor");
    assert.equal(await stockOf(product.id), before - 2);
    assert.equal((await view(page)).lineItems.length, 0, "a new empty cart starts");
  });
});

test("a declined payment leaves the cart and the stock as they were", async () => {
  await withContext(browser, "declined", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    const before = await stockOf(product.id);
    await add(page, product);
    await page.selectOption("#payment", "pm_card_declined");
    await page.click("#place-order");
    await page.locator("#checkout-error").waitFor({ state: "visible" });
    assert.match(await page.textContent("#checkout-error"), /declined/i);
    const v = await view(page);
    assert.equal(v.status, "active");
    assert.equal(v.lineItems.length, 1);
    assert.equal(await stockOf(product.id), before);
  });
});

test("a double click on Place order gives one order", async () => {
  await withContext(browser, "double-click", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    const before = await stockOf(product.id);
    await add(page, product);
    await page.dblclick("#place-order");
    await page.locator("#confirmation").waitFor({ state: "visible" });
    assert.equal(await stockOf(product.id), before - 1);
  });
});

test("a price change between adding and ordering is shown, then charged at the new price", async () => {
  await withContext(browser, "price-change", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product);
    const edited = JSON.parse(readFileSync(server.catalog, "utf8"));
    const price = eur(edited.products.find((p) => p.id === product.id));
    price.amount = (Number(price.amount) + 1).toFixed(2);
    edited.version = "e2e-price-change";
    writeFileSync(server.catalog, JSON.stringify(edited));
    await page.click("#place-order");
    await page.locator("#price-dialog").waitFor({ state: "visible" });
    assert.ok(await page.locator("#price-changes li").count() >= 1);
    await page.click("#price-accept");
    await page.locator("#confirmation").waitFor({ state: "visible" });
    const checkout = await confirmedCheckout(page);
    const line = checkout.view.lineItems.find((l) => l.productId === product.id);
    assert.equal(line.unitPrice, Math.round(Number(price.amount) * 100), "charged at the new price");
  });
});

test("prices edited in localStorage are still charged at server prices", async () => {
  // No service worker here, so that page.route can keep the page from fetching a fresh catalog.
  await withContext(browser, "tampered", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product);
    const serverUnitPrice = (await view(page)).lineItems[0].unitPrice;
    // Forge the cached catalog as an attacker would: every price 0.01, with a matching checksum.
    const blobs = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(":catalog"))
      .map((key) => [key, localStorage.getItem(key)]));
    assert.equal(blobs.length, 1, "the catalog is cached beside the cart");
    const [key, text] = blobs[0];
    const blob = JSON.parse(text);
    const raw = JSON.stringify(blob.catalog).replace(/"amount":"[0-9.]+"/g, '"amount":"0.01"');
    const forged = `{"schema":${blob.schema},"savedAt":${JSON.stringify(blob.savedAt)},"checksum":"${fnv1a64(raw)}","catalog":${raw}}`;
    await page.evaluate(([k, v]) => localStorage.setItem(k, v), [key, forged]);
    await page.route("**/api/v1/catalog", (route) => route.abort());
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart?.view().lineItems[0]?.unitPrice === 1);
    await page.click("#place-order");
    await page.locator("#price-dialog").waitFor({ state: "visible" });
    await page.click("#price-accept");
    await page.locator("#confirmation").waitFor({ state: "visible" });
    const checkout = await confirmedCheckout(page);
    const line = checkout.view.lineItems.find((l) => l.productId === product.id);
    assert.equal(line.unitPrice, serverUnitPrice, "charged at the server's price, not 0.01");
  }, { serviceWorkers: "block" });
});

test("offline: a reload still shows the cart and a queued order is sent once back online", async () => {
  await withContext(browser, "offline", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller && globalThis.demoCart);
    const product = simple();
    const before = await stockOf(product.id);
    await add(page, product);
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart?.view().lineItems.length === 1);
    await page.click("#place-order");
    await page.waitForFunction(() => /queued/.test(document.querySelector("#checkout-status").textContent));
    assert.equal(await stockOf(product.id), before);
    await context.setOffline(false);
    await page.locator("#confirmation").waitFor({ state: "visible", timeout: 30000 });
    assert.equal(await stockOf(product.id), before - 1);
    assert.equal(await page.textContent("#checkout-status"), "", "the queued message goes once the order is placed");
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart);
    assert.equal(await stockOf(product.id), before - 1, "sent exactly once");
  });
});

test("offline after a single visit: the service worker installed everything the page needs", async () => {
  await withContext(browser, "offline-first-visit", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await add(page, simple());
    // No reload under the worker first: what the page needs must have come from its install.
    await page.evaluate(() => navigator.serviceWorker.ready);
    // Nor from the HTTP cache, which a browser may evict at any time: only the worker's caches count.
    await (await context.newCDPSession(page)).send("Network.clearBrowserCache");
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart?.view().lineItems.length === 1);
    await page.waitForFunction(() => [...document.querySelectorAll("#products img")].every((i) => i.complete));
    const broken = await page.evaluate(() => [...document.querySelectorAll("#products img")]
      .filter((i) => i.naturalWidth === 0).map((i) => i.src));
    assert.deepEqual(broken, [], "product pictures offline");
  });
});

test("after a deploy a returning visitor runs the new files, with the service worker in place", async () => {
  // A server of its own over a copy of the storefront, so that the test can deploy a change to it.
  const www = path.join(server.dir, "www-deploy");
  cpSync(path.join(ROOT, "www"), www, { recursive: true });
  const own = await startServer({ staticDir: www });
  try {
    await withContext(browser, "deploy", async (context) => {
      const page = await context.newPage();
      await page.goto(own.url + "/");
      await page.waitForFunction(() => globalThis.demoCart);
      await page.evaluate(() => navigator.serviceWorker.ready);
      await page.reload();
      await page.waitForFunction(() => navigator.serviceWorker.controller && globalThis.demoCart);
      const first = await page.evaluate(() => document.querySelector("script[type=module]").src);
      assert.match(first, /\/v\/[0-9a-f]{16}\/www\/app\.js$/);
      const cached = await page.evaluate(async () => (await caches.keys()).join(" "));
      assert.ok(cached.includes(new URL(first).pathname.replace("app.js", "")), cached);

      writeFileSync(path.join(www, "app.js"), readFileSync(path.join(www, "app.js"), "utf8") + "\nglobalThis.deployed = 2;\n");
      await page.reload();
      await page.waitForFunction(() => globalThis.demoCart);
      const second = await page.evaluate(() => document.querySelector("script[type=module]").src);
      assert.notEqual(second, first, "the page names the new version");
      assert.equal(await page.evaluate(() => globalThis.deployed), 2, "the new app.js runs");
      assert.equal((await fetch(first)).status, 404, "the old version is gone from the server");
      // The new worker takes over and drops the old version's cache.
      const folder = new URL(second).pathname.replace("app.js", "");
      await page.waitForFunction(async (f) => {
        const keys = await caches.keys();
        return keys.length === 1 && keys[0].endsWith(f);
      }, folder, { polling: 100 });
    });
  } finally {
    await own.stop();
  }
});

test("Switzerland with a EUR cart: one click pays in CHF, with Swiss tax, shipping and cash rounding", async () => {
  await withContext(browser, "chf", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product, { quantity: 2 });
    await page.selectOption("#country", "CH");
    // The demo ships to Switzerland in CHF only: the cart says so and offers the switch, lines kept.
    const fix = page.locator('#cart-issues [data-code="NO_SHIPPING_METHOD"] button');
    await fix.waitFor();
    assert.equal(await fix.textContent(), "Pay in CHF");
    await fix.click();
    await page.waitForFunction(() => globalThis.demoCart.view().currency === "CHF");
    assert.equal(await page.inputValue("#currency"), "CHF");
    const v = await view(page);
    assert.equal(v.lineItems.length, 1);
    assert.equal(v.lineItems[0].quantity, 2);
    const chf = product.prices.find((p) => p.currency === "CHF" && !p.customerGroup);
    assert.equal(v.lineItems[0].unitPrice, Math.round(Number(chf.amount) * 100));
    const swiss = catalog.taxCategories.find((t) => t.id === product.taxCategory).rates.find((r) => r.country === "CH");
    assert.equal(v.lineItems[0].taxRate, swiss.rate);
    assert.ok(v.shipping, "a shipping method once the cart is in CHF");
    assert.equal(v.canCheckout, true);
    assert.equal(v.totals.total % 5, 0, "CHF totals are rounded to 5 Rappen");
    assert.equal(v.totals.total, v.totals.gross + v.totals.cashRounding);
    assert.match(await page.textContent("#totals"), /CHF/);
    // And back: the select switches a filled cart too.
    await page.selectOption("#currency", "EUR");
    await page.waitForFunction(() => globalThis.demoCart.view().currency === "EUR");
    assert.equal((await view(page)).lineItems[0].quantity, 2);
  });
});

test("usable by keyboard alone", async () => {
  await withContext(browser, "keyboard", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = licence();
    await page.focus(`li[data-product-id="${product.id}"] button`);
    await page.keyboard.press("Enter");
    await page.locator("#product-dialog").waitFor({ state: "visible" });
    // The dialog takes the focus; type the domain, then submit with Enter.
    await page.locator('#product-dialog input[data-attribute="domain"]').focus();
    await page.keyboard.type("keys.example");
    await page.keyboard.press("Enter");
    await page.locator("#product-dialog").waitFor({ state: "hidden" });
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems.length === 1);
    await page.focus(`.line button:has-text("One more ${product.name}")`);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems[0].quantity === 2);
    const v = await view(page);
    assert.deepEqual(v.lineItems[0].attributes, { domain: "keys.example" });
    assert.equal(v.canCheckout, true);
  });
});

test("screenshot of the storefront for the README", async () => {
  mkdirSync(SHOTS, { recursive: true });
  await withContext(browser, "readme", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await add(page, simple(), { quantity: 2 });
    await add(page, licence(), { quantity: 5, attributes: { domain: "example.com" } });
    await page.fill("#code-input", "WELCOME10");
    await page.click("#code-form button[type=submit]");
    await page.locator(".code").first().waitFor();
    assert.doesNotMatch(await page.textContent("body"), /\b(null|undefined|NaN)\b/, "no JavaScript values leak into the text");
    await page.screenshot({ path: path.join(ROOT, "target/e2e/storefront.png") });
    // `make screenshot` (UPDATE_SCREENSHOT=1) refreshes the README's picture from this run.
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: path.join(ROOT, "docs/storefront.png") });
  }, { viewport: { width: 1280, height: 1250 } });
});

export { screenshots };
