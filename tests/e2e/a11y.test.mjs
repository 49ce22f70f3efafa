// axe-core (Deque's accessibility engine, from npm) over every main state of the storefront, on a
// laptop and on a phone: the suite fails on any serious or critical violation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { withContext } from "./harness.mjs";
import { storeSuite, add } from "./store.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const SCREENS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
};

let browser;
const { simple, licence, openStore } = storeSuite((s) => ({ browser } = s));

/** Serious and critical violations on the page as it is now, one line each. */
async function audit(page) {
  // Injected as a script of its own: the context bypasses the page's CSP for it (script-src 'self').
  if (!(await page.evaluate(() => Boolean(globalThis.axe)))) await page.addScriptTag({ content: AXE });
  // label-content-name-mismatch is experimental in axe (off by default): on, as a shopper's visible
  // "Remove" must be how voice control can call the button.
  const results = await page.evaluate(() => globalThis.axe.run(document, {
    resultTypes: ["violations"],
    rules: { "label-content-name-mismatch": { enabled: true } },
  }));
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

for (const [screen, options] of Object.entries(SCREENS)) {
  test(`no serious accessibility violations on a ${screen}: empty, filled, undo, dialog, error, confirmation`, async () => {
    await withContext(browser, `axe-${screen}`, async (context) => {
      const page = await context.newPage();
      const found = {};
      await openStore(page);
      found.empty = await audit(page);

      await add(page, simple(), { quantity: 2 });
      await add(page, licence(), { quantity: 1, attributes: { domain: "axe.example" } });
      await page.fill("#code-input", "WELCOME10");
      await page.click("#code-form button[type=submit]");
      await page.locator(".code").first().waitFor();
      found.filled = await audit(page);

      await page.locator(".line button", { hasText: "Remove" }).first().click();
      await page.locator("#undo").waitFor({ state: "visible" });
      found.undo = await audit(page);
      await page.click("#undo-button");

      await page.click(`li[data-product-id="${licence().id}"] button`);
      await page.click("#product-add"); // no domain: the dialog shows its error
      await page.locator("#product-error").waitFor({ state: "visible" });
      found.dialog = await audit(page);
      await page.click("#product-cancel");

      await page.selectOption("#payment", "pm_card_declined");
      await page.click("#place-order");
      await page.locator("#checkout-error").waitFor({ state: "visible" });
      await page.locator(".line input[type=number]").first().fill("10000");
      await page.locator(".line input[type=number]").first().press("Enter");
      await page.locator(".line .error-text").first().waitFor({ state: "visible" });
      found.error = await audit(page);

      await page.selectOption("#payment", "pm_card_visa");
      await page.click("#place-order");
      await page.locator("#confirmation").waitFor({ state: "visible" });
      found.confirmation = await audit(page);

      assert.deepEqual(found, { empty: [], filled: [], undo: [], dialog: [], error: [], confirmation: [] });
    }, { ...options, bypassCSP: true });
  });
}
