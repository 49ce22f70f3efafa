// change → view, cold open and the same change through cart-server, side by side in one run (issue 13;
// figures in docs/performance.md). Printed, never asserted.
//
//   node benches/browser/run.mjs <pkg dir>     (make bench; CART_SERVER_BIN: a release cart-server)
//
// - node: the package in Node (memory storage), one change per sample, nothing in between;
// - chromium: the package in headless Chromium (benches/browser/change.js), with real localStorage and
//   with memory storage (the engine alone), one change per sample with a turn of the event loop in
//   between (the first localStorage write of a task costs Chromium ~75 µs here, later ones ~5 µs);
// - server: the same change (one more unit of the first line) as `POST /api/v1/carts/:id/items` to a
//   release cart-server on loopback (SQLite), from Node over a kept-alive connection;
// - cold open: navigation → first rendered 50-line cart restored from localStorage, HTTP cache cleared.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { startServer, launchBrowser, ROOT } from "../../tests/e2e/harness.mjs";
import { catalog, fill, measure } from "./catalog.mjs";

const pkg = path.resolve(process.argv[2] ?? "pkg");
const SIZES = [1, 10, 50, 250];
const SAMPLES = 300;
const hr = () => Number(process.hrtime.bigint()) / 1e6;
const us = (x) => x.toFixed(x < 100 ? 1 : 0);

async function inNode() {
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

async function inChromium(url) {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    // Cross-origin isolation gives performance.now() 5 µs steps instead of 100 µs; the bench page is the
    // only one that gets these headers.
    await context.route("**/change.html*", async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers(), "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
      await route.fulfill({ response, headers });
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error("page error:", e.message));
    await page.goto(`${url}/change.html?lines=0`);
    await page.waitForFunction(() => window.coldOpen !== undefined);
    const change = {};
    const memory = {};
    for (const n of SIZES) {
      change[n] = await page.evaluate(([n, s]) => window.changeToView(n, s, "local"), [n, SAMPLES]);
      memory[n] = await page.evaluate(([n, s]) => window.changeToView(n, s, "memory"), [n, SAMPLES]);
    }
    // Cold open: the first visit stores a 50-line cart; each later one starts with an empty HTTP cache.
    const cdp = await context.newCDPSession(page);
    await page.goto(`${url}/change.html?lines=50`);
    await page.waitForFunction(() => window.coldOpen !== undefined);
    const cold = [];
    for (let i = 0; i < 7; i++) {
      await cdp.send("Network.clearBrowserCache");
      await page.goto(`${url}/change.html?lines=50`);
      cold.push(await page.waitForFunction(() => window.coldOpen).then((h) => h.jsonValue()));
    }
    cold.sort((a, b) => a - b);
    if (!(await page.evaluate(() => crossOriginIsolated))) console.warn("the bench page is not cross-origin isolated: 100 µs clock steps");
    return { change, memory, cold: cold[3], version: browser.version() };
  } finally {
    await browser.close();
  }
}

const server = await startServer({
  staticDir: path.join(ROOT, "benches/browser"), pkgDir: pkg, catalogJson: JSON.stringify(catalog),
  args: ["--rate-limit", "1000000"],
});
try {
  const node = await inNode();
  const chromium = await inChromium(server.url);
  const api = await throughServer(server.url);
  const wasm = fs.statSync(path.join(pkg, "wasm_cart_bg.wasm")).size;
  const size = (ext) => (fs.existsSync(path.join(pkg, `wasm_cart_bg.wasm${ext}`)) ? fs.statSync(path.join(pkg, `wasm_cart_bg.wasm${ext}`)).size : NaN);
  console.log(`\nnode ${process.version}, chromium ${chromium.version}, ${pkg}`);
  console.log(`wasm: ${wasm} bytes raw, ${size(".gz")} gzip, ${size(".br")} brotli`);
  console.log(`cold open (navigation → first 50-line view, empty HTTP cache, p50 of 7): ${chromium.cold.toFixed(1)} ms\n`);
  console.log("change → view, µs p50 / p95");
  console.log("| lines | node (memory) | chromium (memory) | chromium + localStorage | cart-server on loopback | server / chromium + localStorage |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  const cell = (x) => `${us(x.p50)} / ${us(x.p95)}`;
  for (const n of SIZES) {
    const [a, m, b, c] = [node[n], chromium.memory[n], chromium.change[n], api[n]];
    console.log(`| ${n} | ${cell(a)} | ${cell(m)} | ${cell(b)} | ${cell(c)} | ${(c.p50 / b.p50).toFixed(1)}× |`);
  }
} finally {
  await server.stop();
}
