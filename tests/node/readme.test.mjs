// The README's "Use it in the browser" example, run as written: the ```html block of that section is
// served next to pkg/ on 127.0.0.1 and driven in headless Chromium (playwright-core, /usr/bin/chromium,
// never a downloaded browser). Keeps the documented example working.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const section = readme.split(/^## /m).find((s) => s.startsWith("Use it in the browser"));
const html = section && /```html\n([\s\S]*?)```/.exec(section)?.[1];

const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".ts": "text/plain", ".json": "application/json" };

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
      return;
    }
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const file = path.join(root, path.normalize(url.pathname));
    if (!file.startsWith(path.join(root, "pkg") + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

test("the README's browser example works as written", async (t) => {
  assert.ok(html, "README has a ```html block in “Use it in the browser”");
  const server = await serve();
  t.after(() => server.close());
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  t.after(() => browser.close()); // playwright gives each launch a fresh, temporary profile
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(m.text()); });

  const base = `http://127.0.0.1:${server.address().port}/`;
  await page.goto(base);
  const total = () => page.locator("#total").textContent();
  await page.waitForFunction(() => document.querySelector("#total")?.textContent !== "");
  assert.match(await total(), /0,00/);

  // `subscribe` renders after the call returns (listeners are queued): wait for the outcome.
  const shows = (text) => page.waitForFunction((t) => document.querySelector("#total").textContent.includes(t), text);
  await page.click("#mug");
  await page.click("#mug");
  await shows("24,97"); // 19.98 + 4.99 shipping
  assert.equal(await page.locator("#lines li").first().textContent(), "2 × Mug: 19,98\u00a0€");
  await page.click("#code");
  await shows("22,97"); // 10% off the mugs: 17.98 + 4.99

  // A reload restores the cart from localStorage.
  await page.reload();
  await page.waitForFunction(() => document.querySelector("#lines li") !== null);
  assert.match(await total(), /22,97/);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("cart")));
  assert.equal(stored.schema, 1);
  assert.equal(stored.cart.lineItems[0].quantity, 2);
  assert.ok(await page.evaluate(() => localStorage.getItem("cart:catalog") !== null));

  await page.click("#clear");
  assert.equal(await page.locator("#lines li").count(), 0);
  assert.deepEqual(problems, []);
});

// The README states the package's size: those figures must be the built package's, within 3 %
// (a figure left behind by a change that moved the size by more fails here).
// Both READMEs: the repository's (“Use it in the browser”) and the one the package ships.
const packageReadme = fs.readFileSync(path.join(root, "pkg/README.md"), "utf8");
for (const [name, text] of [["README.md", section], ["pkg/README.md", packageReadme]]) {
  test(`${name}: the size figures are the built package's`, () => {
    const stated = /`wasm_cart_bg\.wasm` is ([\d ]+) KB raw, ([\d ]+) KB gzip, ([\d ]+) KB brotli; the JavaScript glue is ([\d ]+) KB\s+raw, ([\d ]+) KB brotli/.exec(text);
    assert.ok(stated, `${name} states the size`);
    const kb = (file) => fs.statSync(path.join(root, "pkg", file)).size / 1000;
    const actual = [kb("wasm_cart_bg.wasm"), kb("wasm_cart_bg.wasm.gz"), kb("wasm_cart_bg.wasm.br"), kb("wasm_cart.js"), kb("wasm_cart.js.br")];
    stated.slice(1).map((s) => Number(s.replace(/ /g, ""))).forEach((figure, i) => {
      assert.ok(Math.abs(figure - actual[i]) <= Math.max(1, actual[i] * 0.03), `${name} says ${figure} KB, the package has ${actual[i].toFixed(1)} KB`);
    });
  });
}
