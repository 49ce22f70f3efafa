// The storefront as a shopper meets it (issue 15): what survives a reload, what the page says after a
// failure and a success, a returning visit on a slow network, keyboard and screen-reader use, the
// quantity field, a phone and a laptop screen, the confirmation. Real Chromium, real cart-server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { withContext } from "./harness.mjs";
import { storeSuite, view, add, eur } from "./store.mjs";

let server;
let browser;
let catalog;
const { simple, licence, openStore, placeOrder } = storeSuite((s) => ({ server, browser, catalog } = s));

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1280, height: 800 } };

/** The focused element, described well enough to tell controls apart (`text` only for a control:
 *  the page body's text holds every label too). */
const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  const control = e.matches("button, input, select");
  return { tag: e.tagName, text: control ? e.textContent.trim() : "", id: e.id, line: e.closest(".line")?.dataset.lineId || null };
});

/** A promise that settles when `predicate(request)` first holds, or fails after `ms` with `why`. */
function requestSeen(page, predicate, why, ms = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(why)), ms);
    page.on("request", (request) => {
      if (predicate(request)) {
        clearTimeout(timer);
        resolve(request);
      }
    });
  });
}

test("the shipping address and e-mail survive a reload and go with the order", async () => {
  await withContext(browser, "address-reload", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await add(page, simple());
    await page.click("#address summary");
    const fields = { lastName: "Ada Lovelace", streetName: "Analytical Str. 1", postalCode: "10115", city: "Berlin", email: "ada@example.com" };
    for (const [name, value] of Object.entries(fields)) await page.fill(`#address-form [name=${name}]`, value);
    await page.click("#address-form button[type=submit]");
    await page.waitForFunction(() => globalThis.demoCart.view().customer.email === "ada@example.com");
    // Typed but not saved: a change of the cart (here or in another tab) leaves it in the field.
    await page.fill("#address-form [name=city]", "Potsdam");
    await page.focus("#code-input"); // out of the form: only "edited, not saved" keeps it
    await page.evaluate((id) => globalThis.demoCart.addItem({ productId: id }), simple().id);
    assert.equal(await page.inputValue("#address-form [name=city]"), "Potsdam");
    await page.fill("#address-form [name=city]", "Berlin");
    await page.click("#address-form button[type=submit]");
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart?.view().lineItems.length === 1);
    for (const [name, value] of Object.entries(fields)) {
      assert.equal(await page.inputValue(`#address-form [name=${name}]`), value, `${name} after the reload`);
    }
    const { checkout } = await placeOrder(page);
    assert.equal(checkout.customerId, "ada@example.com", "the order goes out under the shopper's e-mail, not guest");
    assert.equal(checkout.view.shippingAddress.city, "Berlin");
  }, LAPTOP);
});

test("after a declined card, a successful retry leaves only the confirmation", async () => {
  await withContext(browser, "declined-then-ok", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await add(page, simple());
    await page.selectOption("#payment", "pm_card_declined");
    await page.click("#place-order");
    await page.locator("#checkout-error").waitFor({ state: "visible" });
    await page.selectOption("#payment", "pm_card_visa");
    await page.click("#place-order");
    await page.locator("#confirmation").waitFor({ state: "visible" });
    assert.equal(await page.isHidden("#checkout-error"), true, "the decline message is gone");
    assert.equal(await page.isHidden("#notice"), true);
    assert.equal(await page.textContent("#checkout-status"), "");
  });
});

test("a required attribute of spaces is refused in the dialog, and a line without it is fixed in the cart", async () => {
  await withContext(browser, "blank-domain", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = licence();
    await page.click(`li[data-product-id="${product.id}"] button`);
    await page.fill('#product-dialog input[data-attribute="domain"]', "   ");
    await page.click("#product-add");
    await page.locator("#product-error").waitFor({ state: "visible" });
    assert.match(await page.textContent("#product-error"), /domain/);
    assert.equal(await page.isVisible("#product-dialog"), true, "the dialog stays open");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.attribute), "domain");
    assert.equal((await view(page)).lineItems.length, 0, "nothing was added");
    await page.click("#product-cancel");

    // A line without it (added through the API, as another integration or an older page could): the
    // cart asks for it right on the line.
    await page.evaluate((id) => globalThis.demoCart.addItem({ productId: id, quantity: 2 }), product.id);
    const fix = page.locator(".line .fix-form");
    await fix.waitFor();
    await fix.locator('input[data-attribute="domain"]').fill("fixed.example");
    await fix.locator("button[type=submit]").click();
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems[0].attributes.domain === "fixed.example");
    const v = await view(page);
    assert.equal(v.lineItems[0].quantity, 2);
    assert.ok(!v.issues.some((i) => i.code === "MISSING_ATTRIBUTE"));
    assert.equal(await fix.count(), 0);
  });
});

test("a returning shopper sees the cart at once, and it reprices when the catalog arrives", async () => {
  await withContext(browser, "returning", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product, { quantity: 2 });
    // The catalog request of the next visit hangs until the test answers it with new prices.
    let answer;
    const answered = new Promise((resolve) => { answer = resolve; });
    await page.route("**/api/v1/catalog", async (route) => route.fulfill(await answered));
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart?.view().lineItems.length === 1);
    assert.equal(await page.textContent("#cart-count"), "2");
    assert.equal(await page.isEnabled("#place-order"), true, "Place order works from the cached catalog");
    assert.equal(await page.evaluate(() => document.getElementById("app").inert), false);
    const before = (await view(page)).lineItems[0].unitPrice;

    const edited = structuredClone(catalog);
    edited.version = "returning-visit";
    eur(edited.products.find((p) => p.id === product.id)).amount = ((before + 100) / 100).toFixed(2);
    answer({ status: 200, contentType: "application/json", body: JSON.stringify(edited) });
    await page.waitForFunction((p) => globalThis.demoCart.view().lineItems[0].unitPrice === p, before + 100);
    assert.ok((await view(page)).issues.some((i) => i.code === "PRICE_CHANGED"), "the shopper is told the price moved");
  }, { serviceWorkers: "block" });
});

/** Holds back the responses of requests matching `glob` until the returned function is called. */
async function holdBack(page, glob) {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  await page.route(glob, async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

test("nothing responds before the app is ready, and the catalog loads while the wasm does", async () => {
  await withContext(browser, "slow-start", async (context) => {
    const page = await context.newPage();
    // First the package's JavaScript is held back: the page is there, its script cannot run yet.
    const releaseGlue = await holdBack(page, "**/pkg/wasm_cart.js");
    const releaseWasm = await holdBack(page, "**/*.wasm");
    const glueAsked = requestSeen(page, (r) => r.url().endsWith("/wasm_cart.js"), "the package was never requested");
    // DOMContentLoaded waits for module scripts: only the response is awaited, then the parsed form.
    await page.goto(server.url + "/", { waitUntil: "commit" });
    await glueAsked;
    await page.waitForSelector("#code-input", { state: "attached" });
    assert.equal(await page.evaluate(() => document.getElementById("app").inert), true);
    await page.click("#code-input", { force: true, noWaitAfter: true }).catch(() => {});
    await page.keyboard.type("WELCOME10");
    await page.keyboard.press("Enter");
    assert.notEqual((await focused(page)).id, "code-input", "the promo field cannot take the focus yet");
    assert.equal(new URL(page.url()).search, "", "Enter did not submit the promo form to the server");

    // Then the wasm is held back: the catalog request must go out meanwhile.
    const catalogAsked = requestSeen(page, (r) => r.url().endsWith("/api/v1/catalog"),
      "the catalog was not requested while the wasm was still loading");
    const wasmAsked = requestSeen(page, (r) => r.url().endsWith(".wasm"), "the wasm was never requested");
    releaseGlue();
    await wasmAsked;
    await catalogAsked;
    releaseWasm();
    await page.waitForFunction(() => globalThis.demoCart && !document.getElementById("app").inert);
    assert.equal(new URL(page.url()).search, "");
    assert.deepEqual((await view(page)).discountCodes, []);
  }, { serviceWorkers: "block" });
});

test("a first visit whose catalog request fails says so and offers Try again", async () => {
  await withContext(browser, "first-visit-retry", async (context) => {
    const page = await context.newPage();
    await page.route("**/api/v1/catalog", (route) => route.abort());
    await page.goto(server.url + "/");
    await page.locator("#catalog-retry").waitFor({ state: "visible" });
    assert.match(await page.textContent("#catalog-status"), /could not be loaded/);
    await page.unroute("**/api/v1/catalog");
    await page.click("#catalog-retry");
    await page.waitForFunction(() => globalThis.demoCart && document.querySelectorAll("#products li").length > 0);
    assert.equal(await page.isHidden("#catalog-retry"), true);
    assert.equal(await page.isHidden("#catalog-status"), true);
  }, { serviceWorkers: "block" });
});

test("checkout errors appear next to Place order on a phone", async () => {
  await withContext(browser, "phone-error", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await add(page, simple());
    await add(page, licence(), { attributes: { domain: "phone.example" } });
    await page.selectOption("#payment", "pm_card_declined");
    // Scrolled to the top of the cart: the foot with the total and Place order is on screen anyway.
    await page.locator("#cart-title").evaluate((e) => e.scrollIntoView({ block: "start" }));
    for (const id of ["#grand-total", "#place-order"]) {
      const box = await page.locator(id).boundingBox();
      assert.ok(box.y >= 0 && box.y + box.height <= 844, `${id} is on screen: ${JSON.stringify(box)}`);
    }
    await page.click("#place-order");
    const error = page.locator("#checkout-error");
    await error.waitFor({ state: "visible" });
    const [box, button] = [await error.boundingBox(), await page.locator("#place-order").boundingBox()];
    assert.ok(box.y >= 0 && box.y + box.height <= 844, `the error is on screen: ${JSON.stringify(box)}`);
    assert.ok(Math.abs(button.y - (box.y + box.height)) < 60, `right above the button: ${JSON.stringify({ box, button })}`);
  }, PHONE);
});

test("the focus stays on the control in use, Undo brings a removed line back, changes are announced", async () => {
  await withContext(browser, "focus", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = licence();
    await page.focus(`li[data-product-id="${product.id}"] button`);
    await page.keyboard.press("Enter");
    await page.locator('#product-dialog input[data-attribute="domain"]').fill("focus.example");
    await page.keyboard.press("Enter");
    await page.locator("#product-dialog").waitFor({ state: "hidden" });
    const back = await focused(page);
    assert.match(back.text, new RegExp(`^Choose options for ${product.name}`), "focus returns to the product's button");
    assert.match(await page.textContent("#announcer"), /Added 1 × .*Total/);

    const more = page.locator(".line button", { hasText: `One more ${product.name}` });
    await more.focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems[0].quantity === 3);
    assert.match((await focused(page)).text, /One more/, "still on +");
    assert.match(await page.textContent("#announcer"), /quantity 3\. Total/);

    const less = page.locator(".line button", { hasText: `One less ${product.name}` });
    await less.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press("Enter"); // the third press, at 1, does nothing
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems[0]?.quantity === 1);
    assert.equal(await less.getAttribute("aria-disabled"), "true");
    assert.equal((await view(page)).lineItems.length, 1, "− at 1 does not delete");
    assert.match((await focused(page)).text, /One less/);

    await page.locator(".line button", { hasText: `Remove ${product.name}` }).focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems.length === 0);
    assert.equal((await focused(page)).id, "undo-button");
    assert.match(await page.textContent("#announcer"), /Removed/);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems.length === 1);
    const line = (await view(page)).lineItems[0];
    assert.deepEqual([line.quantity, line.attributes], [1, { domain: "focus.example" }]);
    const now = await focused(page);
    assert.equal([now.tag, now.line].join(" "), `INPUT ${line.id}`, "focus on the restored line's quantity");
  });
});

test("the quantity field: cleared or too large keeps the cart's quantity and says why", async () => {
  await withContext(browser, "quantity-field", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product, { quantity: 2 });
    const field = page.locator(".line input[type=number]");
    await field.fill("");
    await field.press("Tab");
    const error = page.locator(".line .error-text");
    await error.waitFor({ state: "visible" });
    assert.equal((await view(page)).lineItems[0]?.quantity, 2, "clearing the field does not delete the line");
    assert.equal(await field.inputValue(), "2");

    await field.fill("10000");
    await field.press("Enter");
    await page.waitForFunction(() => /at most/.test(document.querySelector(".line .error-text").textContent));
    assert.equal((await view(page)).lineItems[0].quantity, 2);
    assert.equal(await field.inputValue(), "2", "the field shows what the cart holds");

    await field.fill("4");
    await field.press("Enter");
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems[0].quantity === 4);
    assert.equal(await error.isHidden(), true, "the error goes once a valid quantity is in");
  });
});

test("the page speaks English and formats prices and dates in English, even for an older German cart", async () => {
  await withContext(browser, "language", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await page.evaluate(() => globalThis.demoCart.apply([{ action: "setLocale", locale: "de-DE" }]));
    await add(page, simple());
    await page.reload();
    await page.waitForFunction(() => globalThis.demoCart?.view().lineItems.length === 1);
    const lang = await page.getAttribute("html", "lang");
    const v = await view(page);
    assert.equal(v.locale.split("-")[0], lang.split("-")[0]);
    assert.match(await page.textContent("#grand-total"), /^€\d{1,3}(,\d{3})*\.\d{2}$/);
    assert.match(await page.textContent("#shipping-options"), /arrives (Mon|Tue|Wed|Thu|Fri|Sat|Sun), /);
  });
});

test("at 1280×800 the total and Place order are in view with a full cart", async () => {
  await withContext(browser, "laptop-fold", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const products = catalog.products.filter((p) => eur(p) && !(p.requiredAttributes || []).length && !(p.variants || []).length &&
      (p.stock ?? 1) > 0 && !p.minQuantity).slice(0, 6);
    // Some cannot go together (one plan per cart): those are refused and skipped.
    const added = await page.evaluate((ids) => ids.filter((id) => {
      try {
        globalThis.demoCart.addItem({ productId: id });
        return true;
      } catch {
        return false;
      }
    }).length, products.map((p) => p.id));
    assert.ok(added >= 4, `a full cart (${added} lines)`);
    await page.evaluate(() => window.scrollTo(0, 0));
    for (const id of ["#grand-total", "#place-order"]) {
      const box = await page.locator(id).boundingBox();
      assert.ok(box.y >= 0 && box.y + box.height <= 800, `${id} is above the fold: ${JSON.stringify(box)}`);
    }
  }, LAPTOP);
});

test("the confirmation lists the items, the total charged, the address and the delivery estimate", async () => {
  await withContext(browser, "confirmation", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    const product = simple();
    await add(page, product, { quantity: 2 });
    await add(page, licence(), { quantity: 1, attributes: { domain: "ok.example" } });
    await page.click("#address summary");
    await page.fill("#address-form [name=lastName]", "Grace Hopper");
    await page.fill("#address-form [name=city]", "Vienna");
    await page.click("#address-form button[type=submit]");
    const { checkout } = await placeOrder(page);
    const items = await page.locator("#confirmation-items li").allTextContents();
    assert.equal(items.length, checkout.view.lineItems.length);
    assert.ok(items.some((t) => t.startsWith(`2 × ${product.name}`)), items.join(" | "));
    assert.equal(Number(await page.getAttribute("#confirmation-totals [data-total]", "data-total")), checkout.view.totals.total);
    assert.match(await page.textContent("#confirmation-address"), /Grace Hopper.*Vienna/s);
    assert.match(await page.textContent("#confirmation-delivery"), /arriving (Mon|Tue|Wed|Thu|Fri|Sat|Sun), /);
    assert.match(await page.textContent("#confirmation-number"), /^Confirmation number /);
  });
});

test("after an order in CHF to Switzerland, the next cart is in CHF to Switzerland with the same address", async () => {
  await withContext(browser, "carry-over", async (context) => {
    const page = await context.newPage();
    await openStore(page);
    await page.selectOption("#currency", "CHF");
    await page.selectOption("#country", "CH");
    await page.click("#address summary");
    await page.fill("#address-form [name=lastName]", "Heidi Muster");
    await page.fill("#address-form [name=city]", "Zürich");
    await page.click("#address-form button[type=submit]");
    await add(page, simple());
    await placeOrder(page);
    await page.waitForFunction(() => globalThis.demoCart.view().lineItems.length === 0);
    const next = await view(page);
    assert.deepEqual([next.currency, next.shippingAddress?.country, next.shippingAddress?.city], ["CHF", "CH", "Zürich"]);
    assert.equal(await page.inputValue("#currency"), "CHF");
    assert.equal(await page.inputValue("#country"), "CH");
  });
});

test("a first visit whose catalog never answers gives up after a while and offers Try again", async () => {
  await withContext(browser, "first-visit-timeout", async (context) => {
    const page = await context.newPage();
    await page.route("**/api/v1/catalog", () => {}); // never answered
    await page.goto(server.url + "/");
    await page.locator("#catalog-retry").waitFor({ state: "visible", timeout: 30000 });
    assert.equal(await page.evaluate(() => document.getElementById("app").inert), true, "the store stays inert without a cart");
    assert.equal((await focused(page)).id, "catalog-retry");
  }, { serviceWorkers: "block" });
});

test("every product has a picture served by the storefront itself", async () => {
  await withContext(browser, "pictures", async (context) => {
    const page = await context.newPage();
    const foreign = [];
    page.on("request", (r) => new URL(r.url()).origin !== server.url && foreign.push(r.url()));
    await openStore(page);
    await page.waitForFunction(() => [...document.querySelectorAll("#products img")].every((i) => i.complete));
    const images = await page.evaluate(() => [...document.querySelectorAll("#products li")].map((li) => {
      const img = li.querySelector("img");
      return { id: li.dataset.productId, width: img ? img.naturalWidth : 0 };
    }));
    const shown = catalog.products.filter((p) => p.available !== false).length;
    assert.equal(images.length, shown);
    for (const { id, width } of images) assert.ok(width > 0, `${id} has a picture`);
    assert.deepEqual(foreign, [], "no external assets");
    const html = readFileSync(new URL("../../www/index.html", import.meta.url), "utf8");
    assert.ok(!/https?:\/\//.test(html), "the page names no other origin");
  });
});
