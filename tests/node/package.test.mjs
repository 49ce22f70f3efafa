// The npm package as a consumer gets it: `npm pack` of pkg/, installed from the tarball into a fresh
// folder (offline: the package has no dependencies), then imported by name from Node ESM and from a
// Node module Worker without `init()` or `initSync` (the `node` export condition initialises the engine
// from the package's own .wasm file). The figures are compared with the same cart priced in this
// process through pkg/ directly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { catalog } from "../../benches/browser/catalog.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { initSync, Cart } = await import(path.join(root, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(root, "pkg/wasm_cart_bg.wasm")) });

let dir;
let tarball;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-cart-consumer-"));
  const packed = JSON.parse(execFileSync("npm", ["pack", path.join(root, "pkg"), "--pack-destination", dir, "--json"], { encoding: "utf8" }));
  tarball = packed[0];
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(catalog));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", `./${tarball.filename}`], { cwd: dir });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const expected = () => {
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE" });
  const totals = cart.addItem({ productId: "p1", quantity: 2 }).totals;
  let code;
  try { cart.addItem({ productId: "nope", quantity: 1 }); } catch (e) { code = e.code; }
  cart.free();
  return { totals, code, initialised: true };
};

/** What a consumer module prints: the totals of two units of p1, and whether `init()` resolved. */
const CONSUMER = `
import init, { Cart, isCartError } from "wasm-cart";
import { readFileSync } from "node:fs";
const catalog = JSON.parse(readFileSync(new URL("./catalog.json", import.meta.url), "utf8"));
const cart = Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE" });
const totals = cart.addItem({ productId: "p1", quantity: 2 }).totals;
let code;
try { cart.addItem({ productId: "nope", quantity: 1 }); } catch (e) { code = isCartError(e) && e.code; }
const initialised = (await init()) !== undefined;
export const result = { totals, code, initialised };
`;

test("the tarball holds the package's files and nothing else", () => {
  const files = tarball.files.map((f) => f.path).sort();
  const snippets = files.filter((f) => f.startsWith("snippets/"));
  assert.equal(snippets.length, 1, `one glue snippet: ${snippets}`);
  assert.deepEqual(files.filter((f) => !f.startsWith("snippets/")), [
    "CHANGELOG.md", "LICENSE-APACHE", "LICENSE-MIT", "README.md", "format.d.ts", "format.js", "node.js",
    "package.json", "react.d.ts", "react.js", "wasm_cart.d.ts", "wasm_cart.js", "wasm_cart_bg.wasm",
  ]);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "node_modules/wasm-cart/package.json"), "utf8"));
  assert.equal(manifest.license, "MIT OR Apache-2.0");
  assert.deepEqual(manifest.engines, { node: ">=18" });
  assert.deepEqual(manifest.exports["."], { types: "./wasm_cart.d.ts", node: "./node.js", default: "./wasm_cart.js" });
  assert.deepEqual(manifest.exports["./react"], { types: "./react.d.ts", default: "./react.js" });
  assert.deepEqual(manifest.peerDependenciesMeta, { react: { optional: true } }, "the core entry needs no React");
  assert.deepEqual(manifest.sideEffects, ["./node.js"], "a bundler must keep the Node entry's initialisation");
  assert.equal(manifest.repository, undefined, "no placeholder address");
  const changelog = fs.readFileSync(path.join(dir, "node_modules/wasm-cart/CHANGELOG.md"), "utf8");
  assert.match(changelog, new RegExp(`^## \\[${manifest.version.replace(/\./g, "\\.")}\\]`, "m"), "the version has its changelog entry");
});

test("Node ESM: import by name, no init(), no initSync", () => {
  fs.writeFileSync(path.join(dir, "consumer.mjs"), CONSUMER);
  fs.writeFileSync(path.join(dir, "main.mjs"), `import { result } from "./consumer.mjs"; console.log(JSON.stringify(result));`);
  const result = JSON.parse(execFileSync(process.execPath, ["main.mjs"], { cwd: dir, encoding: "utf8" }));
  assert.deepEqual(result, expected());
});

test("a Node module Worker imports the package the same way", () => {
  fs.writeFileSync(path.join(dir, "worker.mjs"), `
import { parentPort } from "node:worker_threads";
import { result } from "./consumer.mjs";
parentPort.postMessage(result);`);
  fs.writeFileSync(path.join(dir, "spawn.mjs"), `
import { Worker } from "node:worker_threads";
const worker = new Worker(new URL("./worker.mjs", import.meta.url));
worker.once("message", (m) => { console.log(JSON.stringify(m)); worker.terminate(); });
worker.once("error", (e) => { console.error(e); process.exit(1); });`);
  const result = JSON.parse(execFileSync(process.execPath, ["spawn.mjs"], { cwd: dir, encoding: "utf8" }));
  assert.deepEqual(result, expected());
});

test("the package README's catalog example opens and prices", () => {
  const readme = fs.readFileSync(path.join(dir, "node_modules/wasm-cart/README.md"), "utf8");
  const example = /```json\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, "the README has a JSON catalog");
  fs.writeFileSync(path.join(dir, "readme-catalog.json"), example);
  fs.writeFileSync(path.join(dir, "readme.mjs"), `
import { Cart } from "wasm-cart";
import { formatMoney } from "wasm-cart/format";
import { readFileSync } from "node:fs";
const catalog = JSON.parse(readFileSync(new URL("./readme-catalog.json", import.meta.url), "utf8"));
const cart = Cart.open({ catalog, currency: "EUR", country: "DE", locale: "de-DE" });
const view = cart.addItem({ productId: "mug", quantity: 2 });
console.log(JSON.stringify({ total: view.totals.total, text: formatMoney(view.totals.total, view), persistence: cart.persistence }));`);
  const result = JSON.parse(execFileSync(process.execPath, ["readme.mjs"], { cwd: dir, encoding: "utf8" }));
  assert.deepEqual(result, { total: 1998, text: "19,98\u00a0€", persistence: "memory" });
});

test("the package README's error table names every error code and every member of its details", () => {
  const readme = fs.readFileSync(path.join(dir, "node_modules/wasm-cart/README.md"), "utf8");
  const source = fs.readFileSync(path.join(root, "src/error/mod.rs"), "utf8");
  const codes = [...source.matchAll(/ErrorCode::\w+ => "([A-Z_]+)"/g)].map((m) => m[1]);
  assert.ok(codes.length >= 25, `${codes.length} codes read from src/error/mod.rs`);
  const rows = new Map([...readme.matchAll(/^\| `([A-Z_]+)` \|[^|]*\|(.*)\|$/gm)].map((m) => [m[1], m[2]]));
  assert.deepEqual(codes.filter((c) => !rows.has(c)), [], "codes missing from the table");
  assert.deepEqual([...rows.keys()].filter((c) => !codes.includes(c)), [], "codes in the table the engine does not have");
  // The shipped declarations (generated from src/error/details.rs) against the table's last column.
  const types = fs.readFileSync(path.join(dir, "node_modules/wasm-cart/wasm_cart.d.ts"), "utf8");
  const details = types.slice(types.indexOf("export interface CartErrorDetails {"));
  const undocumented = [];
  for (const [, code, body] of details.matchAll(/^  readonly ([A-Z_]+): \{\n([\s\S]*?)^  \};/gm)) {
    for (const [, member] of body.matchAll(/^    readonly (\w+)\??:/gm)) {
      if (member !== "actionIndex" && !rows.get(code)?.includes(`\`${member}\``)) undocumented.push(`${code}.${member}`);
    }
  }
  assert.deepEqual(undocumented, [], "details members the table does not name");
});
