// Real tabs (pages of one origin in one Chromium profile) sharing one cart in localStorage: changes
// made as fast as the tabs can, tabs closed with changes not yet committed, a frozen and a throttled
// tab, a listener that loops. Outcomes only: every change a tab was told succeeded is in the final
// cart, every tab shows it, and the stored blob holds it. docs/tabs.md describes the protocol.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, launchBrowser, withContext, ROOT } from "./harness.mjs";

let server;
let browser;

before(async () => {
  // WASM_CART_PKG runs these tests against another build (e.g. an older one, to see them fail).
  const pkgDir = process.env.WASM_CART_PKG ? path.resolve(process.env.WASM_CART_PKG) : undefined;
  server = await startServer({ staticDir: path.join(ROOT, "tests/e2e/pages"), pkgDir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openTabs(context, n, key) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error("page error:", e));
    await page.goto(`${server.url}/tabs.html?key=${key}`);
    await page.waitForFunction(() => globalThis.tab !== undefined);
    pages.push(page);
  }
  return pages;
}

const tabId = (page) => page.evaluate(() => globalThis.tab.id);
const units = (page) => page.evaluate(() => globalThis.tab.units());

/** Waits until every page shows `expected` (units per tab) and the stored cart holds it too. */
async function converged(pages, expected) {
  const want = JSON.stringify(Object.fromEntries(Object.entries(expected).filter(([, n]) => n > 0).sort()));
  const sorted = (u) => JSON.stringify(Object.fromEntries(Object.entries(u).sort()));
  let last = [];
  let stored = [];
  for (let i = 0; i < 300; i++) {
    last = await Promise.all(pages.map((p) => units(p).then(sorted)));
    stored = await Promise.all(pages.map((p) => p.evaluate(() => globalThis.tab.storedUnits())));
    if (last.every((u) => u === want) && stored.every((s) => sorted(s.units) === want)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const committed = await pages[0].evaluate(() => globalThis.tab.committedUnits());
  const errors = await Promise.all(pages.map((p) => p.evaluate(() => globalThis.tab.errors)));
  assert.fail(`the tabs and the stored cart never all held every acknowledged change:\n want ${want}\n tabs ${last.join("\n      ")}` +
    `\n stored (as each tab reads it) ${JSON.stringify(stored)}\n committed ${JSON.stringify(committed)}\n errors ${JSON.stringify(errors)}`);
}

async function noErrors(pages) {
  for (const page of pages) {
    const errors = await page.evaluate(() => globalThis.tab.errors);
    assert.deepEqual(errors, [], "no error events");
  }
}

for (const n of [2, 4]) {
  test(`${n} tabs changing one cart as fast as they can for 10 s lose nothing`, async () => {
    await withContext(browser, `tabs-${n}`, async (context) => {
      const pages = await openTabs(context, n, `stress${n}`);
      const ids = await Promise.all(pages.map(tabId));
      const counts = await Promise.all(pages.map((p) => p.evaluate(() => globalThis.tab.hammer(10_000, 40))));
      const expected = Object.fromEntries(ids.map((id, i) => [id, counts[i]]));
      const total = counts.reduce((a, b) => a + b, 0);
      // No floor on the rate (a busy machine makes fewer changes; what matters is that none is lost),
      // but every tab must have changed the cart, or the test would prove nothing.
      assert.ok(counts.every((c) => c > 0), `a tab made no change: ${counts.join(" + ")}`);
      console.log(`# ${n} tabs: ${total} acknowledged changes (${counts.join(" + ")})`);
      await converged(pages, expected);
      await noErrors(pages);
    });
  });
}

test("lines two tabs add at the same moment get their quantities, whatever ids they end up with", async () => {
  await withContext(browser, "tabs-renames", async (context) => {
    const pages = await openTabs(context, 3, "renames");
    const ids = await Promise.all(pages.map(tabId));
    const set = await Promise.all(pages.map((p) => p.evaluate(() => globalThis.tab.renames(60))));
    const want = JSON.stringify(ids.map((id, i) => [id, set[i]]));
    let have = "";
    for (let i = 0; i < 300 && have !== want; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const views = await Promise.all(pages.map((p) => p.evaluate((all) => JSON.stringify(all.map((id) => [id, globalThis.tab.roundQuantities(id)])), ids)));
      have = views.every((v) => v === views[0]) ? views[0] : "the tabs disagree";
    }
    assert.equal(have, want);
    await noErrors(pages);
  });
});

test("changes of a tab closed before it could commit them are taken over by another tab", async () => {
  await withContext(browser, "tabs-closed", async (context) => {
    const [a, b] = await openTabs(context, 2, "closing");
    const [idA, idB] = await Promise.all([tabId(a), tabId(b)]);
    // A makes 30 changes in one task and is closed at once: its commit never ran.
    const made = await a.evaluate(() => globalThis.tab.burst(30));
    await a.close();
    const more = await b.evaluate(() => globalThis.tab.burst(5));
    await converged([b], { [idA]: made, [idB]: more });
    // A tab opened afterwards shows the same.
    const [c] = await openTabs(context, 1, "closing");
    await converged([b, c], { [idA]: made, [idB]: more });
    await noErrors([b, c]);
  });
});

test("a frozen tab and a throttled tab: their changes survive and they catch up", async () => {
  await withContext(browser, "tabs-frozen", async (context) => {
    const [a, frozen, slow] = await openTabs(context, 3, "frozen");
    const ids = await Promise.all([a, frozen, slow].map(tabId));
    const cdpFrozen = await context.newCDPSession(frozen);
    const cdpSlow = await context.newCDPSession(slow);
    await cdpSlow.send("Emulation.setCPUThrottlingRate", { rate: 20 });
    // The frozen tab's last changes are made just before it freezes: another tab takes them over.
    const beforeFreeze = await frozen.evaluate(() => globalThis.tab.burst(7));
    await cdpFrozen.send("Page.setWebLifecycleState", { state: "frozen" });
    const [fromA, fromSlow] = await Promise.all([
      a.evaluate(() => globalThis.tab.hammer(3_000, 10)),
      slow.evaluate(() => globalThis.tab.hammer(3_000, 10)),
    ]);
    await converged([a, slow], { [ids[0]]: fromA, [ids[1]]: beforeFreeze, [ids[2]]: fromSlow });
    await cdpFrozen.send("Page.setWebLifecycleState", { state: "active" });
    await cdpSlow.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    // Thawed, it shows everything and applies nothing twice.
    const afterThaw = await frozen.evaluate(() => globalThis.tab.burst(2));
    await converged([a, frozen, slow], { [ids[0]]: fromA, [ids[1]]: beforeFreeze + afterThaw, [ids[2]]: fromSlow });
    await noErrors([a, frozen, slow]);
  });
});

test("a listener that keeps changing its cart is stopped, and every cart of the page still works", async () => {
  await withContext(browser, "tabs-reentrant", async (context) => {
    const [page] = await openTabs(context, 1, "reentrant");
    const result = await page.evaluate(() => globalThis.tab.reentrant());
    assert.deepEqual(result.errors, ["LISTENER_LOOP"]);
    assert.equal(result.quantity, 101);
    assert.equal(result.thirdTotal, 900);
    assert.equal(result.sameCartStillWorks, true);
    assert.equal(result.mainCartStillWorks, true);
  });
});
