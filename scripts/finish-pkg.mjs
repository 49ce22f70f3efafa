// Post-processes wasm-pack's output in pkg/ into the npm package `wasm-cart` (run by `make pkg`):
//   - package.json: name `wasm-cart`, `types`, `sideEffects` (only node.js has one: it initialises the
//     engine as it loads, which a bundler must not drop), `engines`, an `exports` map with a
//     `node` condition (scripts/pkg/node.js: initialised from the .wasm file as it loads) and the
//     browser/bundler/Worker default, that also exposes the .wasm file (`new URL(..., import.meta.url)`,
//     Vite `?url`); the licences and CHANGELOG.md beside them;
//   - the .d.ts files: the raw wasm exports that wasm-bindgen types with `any` (the `InitOutput`
//     interface, internal plumbing) become `unknown`, so that the package's types contain no `any`.
// Fails loudly if wasm-pack's output changes shape.
import { copyFileSync, rmSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";

const dir = process.argv[2] ?? "pkg";

/** Every file under `root`. */
function listFiles(root) {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
const manifestPath = join(dir, "package.json");
const pkg = JSON.parse(readFileSync(manifestPath, "utf8"));

const main = pkg.main ?? pkg.module;
if (main !== "wasm_cart.js") throw new Error(`unexpected entry point in ${manifestPath}: ${main}`);
// src/web/glue.js becomes pkg/snippets/...: plain functions, no top-level statements with effects,
// so that node.js stays the package's only module with a side effect. Checked here so that a change
// there cannot slip by.
// wasm-pack leaves the snippet folders of earlier builds in place: only the glue's own goes in the package.
const imported = new Set([...readFileSync(join(dir, "wasm_cart.js"), "utf8").matchAll(/'\.\/snippets\/([^/']+)\//g)].map((m) => m[1]));
if (existsSync(join(dir, "snippets"))) {
  if (imported.size === 0) throw new Error("wasm_cart.js imports no snippet: the import's shape changed");
  for (const name of readdirSync(join(dir, "snippets"))) {
    if (!imported.has(name)) rmSync(join(dir, "snippets", name), { recursive: true, force: true });
  }
}
const snippets = existsSync(join(dir, "snippets")) ? listFiles(join(dir, "snippets")) : [];
for (const file of snippets) {
  const code = readFileSync(file, "utf8");
  const topLevel = code.split("\n").filter((l) => /^[a-z]/i.test(l) && !/^(export |function |async function |const |let |\}|\/\/)/.test(l));
  if (topLevel.length > 0) throw new Error(`${file} has top-level statements:\n${topLevel.join("\n")}`);
}

// The Node entry, the licences and the changelog come from the repository.
// So do the React binding and the money formatter (scripts/pkg/react.js, format.js, with their types).
const own = ["node.js", "react.js", "react.d.ts", "format.js", "format.d.ts"];
// The package's README is its own (scripts/pkg/README.md), not the repository's that wasm-pack copies.
for (const [from, to] of [...[...own, "README.md"].map((f) => [`scripts/pkg/${f}`, f]), ["LICENSE-MIT", "LICENSE-MIT"],
  ["LICENSE-APACHE", "LICENSE-APACHE"], ["CHANGELOG.md", "CHANGELOG.md"]]) {
  copyFileSync(new URL(`../${from}`, import.meta.url), join(dir, to));
}
const files = new Set(pkg.files ?? []);
for (const f of ["wasm_cart_bg.wasm", "wasm_cart.js", "wasm_cart.d.ts", ...own, "README.md", "snippets",
  "LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"]) {
  if (existsSync(join(dir, f))) files.add(f);
}

const out = {
  name: "wasm-cart",
  type: "module",
  description: pkg.description,
  version: pkg.version,
  license: pkg.license,
  files: [...files],
  engines: { node: ">=18" },
  main: "wasm_cart.js",
  module: "wasm_cart.js",
  types: "wasm_cart.d.ts",
  exports: {
    // Node initialises itself from the file (node.js); browsers, bundlers and Workers call init().
    ".": { types: "./wasm_cart.d.ts", node: "./node.js", default: "./wasm_cart.js" },
    // React ≥ 18 (an optional peer dependency): CartProvider, useCart, useCartInstance, formatMoney.
    "./react": { types: "./react.d.ts", default: "./react.js" },
    "./format": { types: "./format.d.ts", default: "./format.js" },
    "./wasm_cart_bg.wasm": "./wasm_cart_bg.wasm",
    "./package.json": "./package.json",
  },
  // node.js initialises the engine as it loads: a bundler building for Node must keep it even when
  // only re-exports are used (webpack's sideEffects optimisation would skip it). Nothing else has one.
  sideEffects: ["./node.js"],
  peerDependencies: { react: ">=18" },
  peerDependenciesMeta: { react: { optional: true } },
  keywords: pkg.keywords,
};
writeFileSync(manifestPath, JSON.stringify(out, null, 2) + "\n");

// Misuse gets codes: scripts/pkg-guards.js, appended to the glue (it needs `wasm` and `Cart` in scope).
const gluePath = join(dir, "wasm_cart.js");
const glue = readFileSync(gluePath, "utf8");
const guards = readFileSync(new URL("./pkg-guards.js", import.meta.url), "utf8");
for (const needed of ["export class Cart", "let wasmModule, wasmInstance, wasm;", "export function isCartError(", "export function isCheckoutError("]) {
  if (!glue.includes(needed)) throw new Error(`wasm_cart.js changed shape: no \`${needed}\``);
}
if (!glue.includes("---- wasm-cart: misuse gets codes")) writeFileSync(gluePath, glue + guards);

// The package's own declarations after wasm-bindgen's: the hand-written ones (ts/wasm_cart.types.d.ts),
// the catalog, actions and view generated from the Rust types (ts/data.generated.d.ts, src/typescript.rs)
// and the error types generated from src/error/details.rs (ts/errors.generated.d.ts).
const typesPath = join(dir, "wasm_cart.d.ts");
const declared = readFileSync(typesPath, "utf8");
if (!declared.includes("export type DecimalString")) {
  const own = ["wasm_cart.types.d.ts", "data.generated.d.ts", "errors.generated.d.ts"].map((f) => readFileSync(new URL(`../ts/${f}`, import.meta.url), "utf8"));
  writeFileSync(typesPath, [declared, ...own].join("\n"));
}

// What init() resolves to keeps only the memory in its type: the raw exports are the glue's plumbing,
// not API (issue 14: "wasm-bindgen internals appear in the exported types").
{
  const text = readFileSync(typesPath, "utf8");
  const internals = /^export interface InitOutput \{\n[\s\S]*?^\}\n/m;
  if (!internals.test(text)) throw new Error("wasm_cart.d.ts changed shape: no `export interface InitOutput`");
  writeFileSync(typesPath, text.replace(internals,
    "/** What `init()` resolves to: the module's memory (the raw exports are internal). */\nexport interface InitOutput {\n    readonly memory: WebAssembly.Memory;\n}\n"));
}

for (const name of ["wasm_cart.d.ts", "wasm_cart_bg.wasm.d.ts"]) {
  const path = join(dir, name);
  if (!existsSync(path)) continue;
  let text = readFileSync(path, "utf8");
  // Only the raw export signatures (`(a: number, b: any) => ...`) are rewritten.
  text = text.replace(/^(\s*(?:readonly \w+: |export const \w+: )\(.*)$/gm, (line) => line.replace(/\bany\b/g, "unknown"));
  // `any:` as a property name (the predicate `{ any: Predicate[] }`), a quoted key (`{ "any": … }`) and
  // comments are not the type.
  const code = (l) => l.replace(/\/\*.*?\*\//g, "").replace(/"[^"]*"/g, '""');
  const left = text.split("\n").filter((l) => /\bany\b(?!\s*:)/.test(code(l)) && !/^\s*(\*|\/\/)/.test(l));
  if (left.length > 0) throw new Error(`${name} still has \`any\`:\n${left.join("\n")}`);
  writeFileSync(path, text);
}
// Precompressed copies for servers that send them as they are (cart-server's ServeDir, nginx
// gzip_static / brotli_static): compressing the wasm on every request costs ~40 ms. They are not in
// `files`, so npm does not publish them.
for (const name of ["wasm_cart_bg.wasm", "wasm_cart.js"]) {
  const bytes = readFileSync(join(dir, name));
  writeFileSync(join(dir, name + ".br"), brotliCompressSync(bytes, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }));
  writeFileSync(join(dir, name + ".gz"), gzipSync(bytes, { level: 9 }));
}
console.log(`${manifestPath}: wasm-cart ${out.version}, types ${out.types}, sideEffects ${out.sideEffects}`);
