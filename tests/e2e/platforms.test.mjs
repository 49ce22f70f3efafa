// Browser-direct platform checkout in real Chromium: the page (cart-server's origin) checks out to a
// Shopware Store API on another origin (tests/platforms/shopware.mjs, validated against the official
// schema), so the browser itself runs the CORS preflights and decides which answer headers the page
// may read (the rotated `sw-context-token`). A header Shopware's CORS does not allow (X-Request-ID was
// one) fails the preflight here, as it would against a real shop.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startServer, launchBrowser, withContext, ROOT } from "./harness.mjs";
import { startShopware } from "../platforms/shopware.mjs";

const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/platforms/catalog.json"), "utf8"));
const pkgDir = process.env.WASM_CART_PKG ?? path.join(ROOT, "pkg");
let server;
let browser;

before(async () => {
  // The page checks out browser-direct to emulators on other loopback ports: the CSP must allow them.
  server = await startServer({ staticDir: path.join(ROOT, "tests/e2e/pages"), pkgDir, args: ["--connect-src", "http://127.0.0.1:*"] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("Shopware from a page on another origin: preflights pass, the guest's token is read, the order is placed", async () => {
  const shop = await startShopware({ catalog, domains: [server.url] });
  try {
    await withContext(browser, "platform-shopware", async (context) => {
      const page = await context.newPage();
      await page.goto(`${server.url}/platform.html`);
      await page.waitForFunction(() => document.getElementById("state").textContent === "ready");
      const result = await page.evaluate((input) => window.checkout(input), {
        catalog,
        items: [{ productId: "MUG", variantId: 2, quantity: 2 }, { productId: "BOOK", quantity: 1 }],
        customer: { email: "ada@example.com" },
        address: { country: "DE", firstName: "Ada", lastName: "Lovelace", streetName: "Unter den Linden", streetNumber: "5", postalCode: "10117", city: "Berlin" },
        code: "WELCOME10",
        options: { endpoint: shop.url, protocol: "shopware", accessKey: shop.accessKey },
      });
      assert.ok(result.ok, `checkout failed: ${JSON.stringify(result)}`);
      assert.equal(shop.orders.length, 1);
      assert.equal(Math.round(shop.orders[0].total * 100), result.total);
      // The storefront URL defaults to the page's origin, which the sales channel lists.
      assert.deepEqual(shop.violations, []);
      // The browser does enforce Shopware's CORS here: a request with a header it does not allow fails.
      const refused = await page.evaluate(async ({ url, key }) => {
        try {
          await fetch(`${url}/store-api/context`, { headers: { "sw-access-key": key, "X-Request-ID": "req_1" } });
          return "sent";
        } catch (e) {
          return e.name;
        }
      }, { url: shop.url, key: shop.accessKey });
      assert.equal(refused, "TypeError", "the preflight refused X-Request-ID");
    });
  } finally {
    await shop.stop();
  }
});
