// How browser tabs can share one stored value without losing a change, measured in real Chromium:
// N pages of one origin change a shared counter state as fast as they can; afterwards the final state is
// compared with what every page was told had succeeded. docs/tabs.md reports the figures.
//
//   node benches/tabs/lab.mjs [seconds=10] [gapMs=0]
import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.argv[2] || 10);
const gapMs = Number(process.argv[3] || 0);
const page = readFileSync(path.join(here, "lab.html"));
const server = http.createServer((req, res) => { res.setHeader("content-type", "text/html"); res.end(page); });
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
await browser.close();
server.close();
