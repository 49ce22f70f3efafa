// wasm-cart/react as a frontend team uses it: tests/react-app (Vite + React + TypeScript strict with
// exactOptionalPropertyTypes) is copied to target/react-app, gets the packed tarball installed
// (npm pack, offline), is type-checked with tsc, built with Vite (client and server render), rendered
// on the server with renderToString and hydrated in headless Chromium: no console error or warning
// (React reports hydration mismatches there), then lines are added, changed and removed and a code is
// applied through the hook.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { build } from "vite";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const app = path.join(root, "target/react-app");
const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".html": "text/html" };
let server;
let url;
let browser;
let rendered;

before(async () => {
  fs.rmSync(app, { recursive: true, force: true });
  fs.cpSync(path.join(root, "tests/react-app"), app, { recursive: true });
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "react-app", private: true, type: "module" }));
  const [packed] = JSON.parse(execFileSync("npm", ["pack", path.join(root, "pkg"), "--pack-destination", app, "--json"], { encoding: "utf8" }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", `./${packed.filename}`], { cwd: app });
  execFileSync(path.join(root, "node_modules/.bin/tsc"), ["-p", app], { stdio: "inherit" });
  const configFile = path.join(app, "vite.config.mjs");
  await build({ root: app, configFile, build: { outDir: "dist/client", emptyOutDir: true } });
  await build({ root: app, configFile, build: { ssr: "src/entry-server.tsx", outDir: "dist/server", emptyOutDir: true } });
  const { render } = await import(pathToFileURL(path.join(app, "dist/server/entry-server.js")).href);
  rendered = render();
  const page = fs.readFileSync(path.join(app, "dist/client/index.html"), "utf8")
    .replace("<!--app-->", rendered.html)
    .replace("<!--view-->", `<script id="cart-view" type="application/json">${rendered.view}</script>`);
  server = http.createServer((req, res) => {
    const pathname = new URL(req.url, "http://127.0.0.1").pathname;
    if (pathname === "/") return res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    const file = path.join(app, "dist/client", path.normalize(pathname));
    if (!file.startsWith(path.join(app, "dist/client")) || !fs.existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(fs.readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium" });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

test("the server renders the cart it priced", () => {
  assert.match(rendered.html, /Cart \(<span id="count">1<\/span>\)/);
  assert.match(rendered.html, /Tea/);
  assert.match(rendered.html, /4,50\s€/);
  assert.equal(JSON.parse(rendered.view).lineItems[0].productId, "tea");
});

test("hydrates without a warning, then adds, changes, removes and applies a code through the hook", async () => {
  const page = await browser.newPage();
  const messages = [];
  page.on("console", (m) => ["error", "warning"].includes(m.type()) && messages.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  await page.goto(url);
  // The live cart (empty localStorage) takes over from the server's view after hydration.
  await page.waitForFunction(() => document.querySelector("#ready")?.textContent === "live");
  assert.equal(await page.textContent("#count"), "0");
  await page.click("#add-mug");
  await page.waitForFunction(() => document.querySelector("#count").textContent === "1");
  await page.click('[data-line="mug"] .more');
  await page.waitForFunction(() => document.querySelector("#count").textContent === "2");
  assert.match(await page.textContent("#total"), /19,98\s€/);
  await page.click("#add-tea");
  await page.waitForFunction(() => document.querySelector("#count").textContent === "4");
  await page.click("#code");
  // 2 × 9.99 + 2 × 4.50 − 1.00
  await page.waitForFunction(() => /27,98\s€/.test(document.querySelector("#total").textContent));
  await page.click('[data-line="mug"] .remove');
  await page.waitForFunction(() => document.querySelector("#count").textContent === "2");
  assert.match(await page.textContent("#total"), /8,00\s€/);
  assert.equal(await page.locator("#error").count(), 0);
  assert.deepEqual(messages, []);
  await page.close();
});
