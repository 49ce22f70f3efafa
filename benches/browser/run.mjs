// change → view, cold open and the same change through cart-server, side by side in one run (issue 13;
// figures in docs/performance.md). Printed, never asserted.
//
//   node benches/browser/run.mjs [pkg dir ...]   (make bench; CART_SERVER_BIN: a release cart-server)
//
// Several package folders (another build of the package, e.g. before a change) are measured
// interleaved in the same run, so their figures can be compared.
//
// - node: the package in Node (memory storage), one change per sample, nothing in between;
// - chromium: the package in headless Chromium (benches/browser/change.js), with real localStorage and
//   with memory storage (the engine alone), one change per sample with a turn of the event loop in
//   between (the first localStorage write of a task costs Chromium ~75 µs here, later ones ~5 µs);
// - server: the same change (one more unit of the first line) as `POST /api/v1/carts/:id/items` to a
//   release cart-server on loopback (SQLite), from Node over a kept-alive connection;
// - cold open: navigation → first rendered 50-line cart restored from localStorage, HTTP cache cleared;
//   returning visit: the same with the HTTP cache of an earlier visit, the page under cart-server's
//   content-versioned URL (`/v/<version>/www/…`: its files and the package are immutable, not asked for).
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { startServer, launchBrowser, ROOT } from "../../tests/e2e/harness.mjs";
import { bigCatalog, catalog, fill, measure } from "./catalog.mjs";

const packages = (process.argv.length > 2 ? process.argv.slice(2) : ["pkg"]).map((p) => path.resolve(p));
const SIZES = [1, 10, 50, 250];
const SAMPLES = 300;
const hr = () => Number(process.hrtime.bigint()) / 1e6;
const us = (x) => x.toFixed(x < 100 ? 1 : 0);

async function inNode(pkg) {
  const { initSync, Cart } = await import(path.join(pkg, "wasm_cart.js"));
  initSync({ module: fs.readFileSync(path.join(pkg, "wasm_cart_bg.wasm")) });
  const out = {};
  for (const n of SIZES) {
    const cart = Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE" });
    cart.apply(fill(n));
    const id = cart.view().lineItems[0].id;
    out[n] = await measure((i) => cart.changeQuantity(id, 1 + (i % 2)), { samples: SAMPLES * 3, clock: hr });
    cart.free();
  }
  return out;
}

const BIG = [1000, 10000, 30000];

/** `Cart.open` on big catalogs in Node (memory storage): the catalog as JSON text and as an object. */
async function bigOpensInNode(pkg) {
  const { initSync, Cart } = await import(path.join(pkg, "wasm_cart.js"));
  initSync({ module: fs.readFileSync(path.join(pkg, "wasm_cart_bg.wasm")) });
  const out = {};
  for (const n of BIG) {
    const object = bigCatalog(n);
    const text = JSON.stringify(object);
    const best = (catalog) => Math.min(...[0, 1, 2].map(() => {
      const t0 = hr();
      Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE" }).free();
      return hr() - t0;
    }));
    out[n] = { bytes: text.length, text: best(text), object: best(object) };
  }
  return out;
}

async function throughServer(url) {
  const secret = randomBytes(24).toString("hex");
  const headers = { "content-type": "application/json", "x-cart-secret": secret };
  const post = async (p, body) => {
    const response = await fetch(url + p, { method: "POST", headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${p}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const out = {};
  for (const n of SIZES) {
    const { id } = await post("/api/v1/carts", { currency: "EUR", country: "DE" });
    for (let i = 0; i < n; i++) await post(`/api/v1/carts/${id}/items`, { productId: `p${i}`, quantity: 1 });
    const samples = n >= 250 ? 60 : 150;
    const times = [];
    for (let i = 0; i < samples + 10; i++) {
      const t0 = hr();
      await post(`/api/v1/carts/${id}/items`, { productId: "p0", quantity: 1 });
      if (i >= 10) times.push((hr() - t0) * 1000);
    }
    times.sort((a, b) => a - b);
    out[n] = { p50: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)] };
  }
  return out;
}

async function inChromium(server) {
  const url = server.url;
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    // Cross-origin isolation gives performance.now() 5 µs steps instead of 100 µs. Only the page that
    // times changes gets these headers: they move each navigation into a new process, which the cold
    // open must not pay.
    await context.route((u) => u.pathname.endsWith("/change.html") && u.searchParams.has("isolated"), async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers(), "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
      await route.fulfill({ response, headers });
    });
    let page = await context.newPage();
    page.on("pageerror", (e) => console.error("page error:", e.message));
    await page.goto(`${url}/change.html?lines=0&isolated`);
    await page.waitForFunction(() => window.coldOpen !== undefined);
    const change = {};
    const memory = {};
    for (const n of SIZES) {
      change[n] = await page.evaluate(([n, s]) => window.changeToView(n, s, "local"), [n, SAMPLES]);
      memory[n] = await page.evaluate(([n, s]) => window.changeToView(n, s, "memory"), [n, SAMPLES]);
    }
    const big = {};
    for (const n of BIG) big[n] = await page.evaluate((n) => window.openBig(n), n);
    if (!(await page.evaluate(() => crossOriginIsolated))) console.warn("the bench page is not cross-origin isolated: 100 µs clock steps");
    await context.close();
    // Cold open: the first visit stores a 50-line cart; each later one starts with an empty HTTP cache.
    // A context of its own: Playwright's routes (above) turn the HTTP cache off.
    const visits = await browser.newContext();
    page = await visits.newPage();
    const cdp = await visits.newCDPSession(page);
    await page.goto(`${url}/change.html?lines=50`);
    await page.waitForFunction(() => window.coldOpen !== undefined);
    const cold = [];
    for (let i = 0; i < 7; i++) {
      await cdp.send("Network.clearBrowserCache");
      await page.goto(`${url}/change.html?lines=50`);
      await page.waitForFunction(() => window.coldOpen);
      cold.push(await page.evaluate(() => ({ total: window.coldOpen, ...window.coldPhases })));
    }
    cold.sort((a, b) => a.total - b.total);
    // Returning visits: one visit fills the HTTP cache, the next seven are timed.
    const version = server.log.join("").match(/assets ([0-9a-f]{16})/)[1];
    const returning = [];
    for (let i = 0; i < 8; i++) {
      await page.goto(`${url}/v/${version}/www/change.html?lines=50`);
      await page.waitForFunction(() => window.coldOpen);
      if (i > 0) returning.push(await page.evaluate(() => ({ total: window.coldOpen, ...window.coldPhases })));
    }
    returning.sort((a, b) => a.total - b.total);
    return { change, memory, big, cold: cold[3], returning: returning[3], version: browser.version() };
  } finally {
    await browser.close();
  }
}

/** Node and Chromium figures of one package (a server of its own serves it to the page). */
async function measurePackage(dir) {
  const server = await startServer({
    staticDir: path.join(ROOT, "benches/browser"), pkgDir: dir, catalogJson: JSON.stringify(catalog),
    args: ["--rate-limit", "1000000"],
  });
  try {
    return { node: await inNode(dir), chromium: await inChromium(server) };
  } finally {
    await server.stop();
  }
}

/** Of two rounds, the one with the lower p50 (the machine's noise only ever adds time). */
const better = (a, b) => (b && b.p50 < a.p50 ? b : a);

function merge(runs) {
  const [first, ...rest] = runs;
  const pick = (get) => Object.fromEntries(SIZES.map((n) => [n, rest.reduce((acc, r) => better(acc, get(r)[n]), get(first)[n])]));
  const best = (get) => runs.map(get).sort((a, b) => a.total - b.total)[0];
  const cold = best((r) => r.chromium.cold);
  const returning = best((r) => r.chromium.returning);
  return { node: pick((r) => r.node), memory: pick((r) => r.chromium.memory), change: pick((r) => r.chromium.change), cold, returning, version: first.chromium.version };
}

// Every package twice, interleaved (A B A B), so that a comparison of builds sees the same machine.
const runs = new Map(packages.map((p) => [p, []]));
for (let round = 0; round < 2; round++) for (const p of packages) runs.get(p).push(await measurePackage(p));
const apiServer = await startServer({
  staticDir: path.join(ROOT, "benches/browser"), pkgDir: packages[0], catalogJson: JSON.stringify(catalog),
  args: ["--rate-limit", "1000000"],
});
let api;
try {
  api = await throughServer(apiServer.url);
} finally {
  await apiServer.stop();
}
// What freezing the views costs (glue.js deep-freezes every new part of a view): the first package in
// Node once more, then with freezing switched off (glue.js freezes what is not frozen yet: with
// Object.isFrozen always true, nothing), back to back. Last, because it patches Object for good.
const bigInNode = await bigOpensInNode(packages[0]);
const frozen = await inNode(packages[0]);
Object.isFrozen = () => true;
const unfrozen = await inNode(packages[0]);
const cell = (x) => `${us(x.p50)} / ${us(x.p95)}`;
for (const p of packages) {
  const r = merge(runs.get(p));
  const size = (ext) => fs.statSync(path.join(p, `wasm_cart_bg.wasm${ext}`)).size;
  console.log(`\nnode ${process.version}, chromium ${r.version}, ${p}`);
  console.log(`wasm: ${size("")} bytes raw, ${size(".gz")} gzip, ${size(".br")} brotli`);
  const phases = (c) => `${c.total.toFixed(1)} ms = page and modules ${c.modules.toFixed(1)} + init (wasm fetch, compile) ${c.init.toFixed(1)} + Cart.open ${c.open.toFixed(1)} + first view and render ${c.view.toFixed(1)}`;
  console.log(`cold open (navigation → first 50-line view, empty HTTP cache, best of 2 × p50 of 7): ${phases(r.cold)}`);
  console.log(`returning visit (the same, immutable files from the HTTP cache, best of 2 × p50 of 7): ${phases(r.returning)}\n`);
  console.log("change → view, µs p50 / p95 (the better of two rounds)");
  console.log("| lines | node (memory) | chromium (memory) | chromium + localStorage | cart-server on loopback | server / chromium + localStorage |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const n of SIZES) {
    const [a, m, b, s] = [r.node[n], r.memory[n], r.change[n], api[n]];
    console.log(`| ${n} | ${cell(a)} | ${cell(m)} | ${cell(b)} | ${cell(s)} | ${(s.p50 / b.p50).toFixed(1)}× |`);
  }
}
console.log(`\nfrozen views, ${packages[0]}: change → view in Node (memory), µs p50 / p95, one round each`);
console.log("| lines | views frozen | not frozen |");
console.log("|---:|---:|---:|");
for (const n of SIZES) console.log(`| ${n} | ${cell(frozen[n])} | ${cell(unfrozen[n])} |`);
const bigInChromium = runs.get(packages[0])[0].chromium.big;
console.log(`\nCart.open on big catalogs, ${packages[0]}: ms, best of 3 (Node: memory storage; Chromium: localStorage, the catalog cached beside the cart)`);
console.log("| products | catalog JSON | node, text | node, object | chromium + localStorage, text | caching in localStorage |");
console.log("|---:|---:|---:|---:|---:|---|");
for (const n of BIG) {
  const [a, b] = [bigInNode[n], bigInChromium[n]];
  console.log(`| ${n} | ${(a.bytes / 1e6).toFixed(2)} MB | ${a.text.toFixed(0)} | ${a.object.toFixed(0)} | ${b.ms.toFixed(0)} | ${b.failed ?? "cached"} |`);
}
