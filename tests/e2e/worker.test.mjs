// The package in a browser module Worker (real Chromium, served by cart-server under its CSP): the
// glue fetches its .wasm relative to itself, the engine prices, errors keep their codes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, launchBrowser, withContext, ROOT } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({ staticDir: path.join(ROOT, "tests/e2e/pages") });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a module Worker opens a cart, prices it and gets coded errors", async () => {
  await withContext(browser, "worker", async (context) => {
    const page = await context.newPage();
    await page.goto(`${server.url}/worker.html`);
    await page.waitForFunction(() => globalThis.fromWorker !== undefined);
    const answer = await page.evaluate(() => globalThis.fromWorker);
    // 3 × 9.99 gross, shipping-free catalog.
    assert.deepEqual(answer.memory, { total: 2997, lines: 1, frozen: true, error: "INVALID_QUANTITY" });
    // No localStorage in a Worker: the default storage is memory, and the cart says so.
    assert.deepEqual(answer.defaultOptions, { total: 2997, persistence: "memory" });
  });
});
