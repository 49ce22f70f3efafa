// How browser tabs can share one stored value without losing a change, measured in real Chromium
// (`make bench-tabs`, figures in docs/tabs.md):
// 1. four strategies in plain JavaScript: N pages of one origin change a shared counter as fast as they
//    can; afterwards the final state is compared with what every page was told had succeeded;
// 2. the package itself (pkg/, tests/e2e/pages/tabs.html): the same, and how long a change in one tab
//    takes to show in another (the other tab's `change` event).
//
//   node benches/tabs/lab.mjs [seconds=10] [gapMs=0] [pkgDir=pkg]
import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.argv[2] || 10);
const gapMs = Number(process.argv[3] || 0);
const root = path.resolve(here, "../..");
const pkgDir = path.resolve(root, process.argv[4] || "pkg");
const page = readFileSync(path.join(here, "lab.html"));
const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  let file = null;
  if (url.pathname.startsWith("/pkg/")) file = path.join(pkgDir, url.pathname.slice(5));
  else if (url.pathname === "/tabs.html") file = path.join(root, "tests/e2e/pages/tabs.html");
  if (file && !file.includes("..")) {
    try {
      const body = readFileSync(file);
      res.setHeader("content-type", types[path.extname(file)] || "application/octet-stream");
      return res.end(body);
    } catch {
      res.statusCode = 404;
      return res.end();
    }
  }
  res.setHeader("content-type", "text/html");
  res.end(page);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;
const FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic"];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });

console.log(`strategy         tabs  changes  lost   changes/s  p50 ms  p99 ms   (${seconds} s, ${gapMs} ms between changes)`);
for (const strategy of ["naive", "locks", "locksBroadcast", "idb"]) {
  for (const tabs of [2, 4]) {
    const context = await browser.newContext();
    const pages = [];
    for (let i = 0; i < tabs; i++) {
      const p = await context.newPage();
      await p.goto(url);
      pages.push(p);
    }
    const results = await Promise.all(pages.map((p) => p.evaluate(([s, ms, gap]) => lab.run(s, ms, gap), [strategy, seconds * 1000, gapMs])));
    await new Promise((r) => setTimeout(r, 500));
    const final = await pages[0].evaluate((s) => lab.final(s), strategy);
    const acked = results.reduce((n, r) => n + r.acknowledged, 0);
    const kept = results.reduce((n, r) => n + Math.min(final.ops[r.tab] || 0, r.acknowledged), 0);
    const p50 = Math.max(...results.map((r) => r.p50)).toFixed(2);
    const p99 = Math.max(...results.map((r) => r.p99)).toFixed(2);
    console.log(`${strategy.padEnd(16)} ${String(tabs).padStart(4)} ${String(acked).padStart(8)} ${String(acked - kept).padStart(5)} ${String(Math.round(acked / seconds)).padStart(10)} ${p50.padStart(7)} ${p99.padStart(7)}`);
    await context.close();
  }
}
console.log(`\nwasm-cart (${pkgDir})       tabs  changes  lost   changes/s   another tab sees a change: p50 ms  p99 ms`);
for (const tabs of [2, 4]) {
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < tabs; i++) {
    const p = await context.newPage();
    await p.goto(`${url}tabs.html?key=lab${tabs}`);
    await p.waitForFunction(() => globalThis.tab !== undefined);
    pages.push(p);
  }
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => globalThis.tab.id)));
  const counts = await Promise.all(pages.map((p) => p.evaluate((ms) => globalThis.tab.hammer(ms, 40), seconds * 1000)));
  let final = {};
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    final = await pages[0].evaluate(() => globalThis.tab.units());
    if (ids.every((id, k) => (final[id] || 0) >= counts[k])) break;
  }
  const acked = counts.reduce((a, b) => a + b, 0);
  const kept = ids.reduce((n, id, k) => n + Math.min(final[id] || 0, counts[k]), 0);
  // Latency: tab 0 changes, tab 1 records when its view shows it.
  const latencies = [];
  for (let i = 0; i < 50; i++) {
    const watch = pages[1].evaluate((n) => new Promise((resolve) => {
      const off = globalThis.tab.cart.subscribe((view) => {
        if (view.lineItems.some((l) => l.attributes.probe === n)) { off(); resolve(performance.timeOrigin + performance.now()); }
      });
    }), i);
    const sent = await pages[0].evaluate((n) => {
      const t = performance.timeOrigin + performance.now();
      globalThis.tab.cart.addItem({ productId: "mug", attributes: { tab: "probe", probe: n } });
      return t;
    }, i);
    latencies.push((await watch) - sent);
  }
  latencies.sort((a, b) => a - b);
  const p50 = latencies[latencies.length >> 1].toFixed(1);
  const p99 = latencies[Math.floor(latencies.length * 0.99)].toFixed(1);
  console.log(`${"".padEnd(26)} ${String(tabs).padStart(4)} ${String(acked).padStart(8)} ${String(acked - kept).padStart(5)} ${String(Math.round(acked / seconds)).padStart(11)} ${p50.padStart(38)} ${p99.padStart(7)}`);
  await context.close();
}
await browser.close();
server.close();
