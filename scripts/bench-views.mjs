// How should the priced view cross into JavaScript? Times, in Node against a `--features bench` build
// (make bench-views), for carts of 1, 10, 50 and 200 lines:
//   price     the pricing pipeline alone
//   json      serde_json::to_string in wasm + JSON.parse       (view already priced)
//   swb       serde-wasm-bindgen, object by object             (view already priced)
//   view      cart.view() after a change, end to end, with json  (price + encode + line identity)
//   view-swb  the same with serde-wasm-bindgen
// Figures are printed, never asserted. Usage: node scripts/bench-views.mjs <pkg dir>
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

const dir = path.resolve(process.argv[2] ?? "target/pkg-bench");
const { initSync, Cart } = await import(path.join(dir, "wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(dir, "wasm_cart_bg.wasm")) });

const products = Array.from({ length: 200 }, (_, i) => ({
  id: `p${i}`, sku: `SKU-${i}`, name: `Product number ${i}`, kind: i % 3 ? "device" : "product",
  vendor: i % 2 ? "acme" : "globex", taxCategory: i % 5 ? "std" : "reduced",
  prices: [{ currency: "EUR", amount: (5 + (i % 40) + 0.99).toFixed(2) }],
}));
const catalog = {
  version: "bench",
  taxCategories: [
    { id: "std", rates: [{ country: "DE", rate: "0.19", name: "MwSt 19%" }] },
    { id: "reduced", rates: [{ country: "DE", rate: "0.07", name: "MwSt 7%" }] },
  ],
  products,
  shippingMethods: [{ id: "standard", name: "Standard", taxCategory: "std", default: true, deliveryDays: { min: 2, max: 4 },
    rates: [{ currency: "EUR", price: "4.99", freeAbove: "100.00" }] }],
  promotions: [
    { id: "ten", label: "10% off devices", target: { type: "items", match: { kinds: ["device"] } }, value: { type: "percentage", percent: "10" } },
    { id: "code", code: "SAVE5", currency: "EUR", target: { type: "items" }, value: { type: "absolute", amount: "5.00" } },
  ],
};

function cartWith(lines) {
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE", now: () => Date.parse("2026-11-21T12:00:00Z") });
  cart.apply([
    ...Array.from({ length: lines }, (_, i) => ({ action: "addLineItem", productId: `p${i}`, quantity: 1 + (i % 4), attributes: { note: `line ${i}` } })),
    { action: "addDiscountCode", code: "SAVE5" },
  ]);
  return cart;
}

/** Median microseconds per iteration over `rounds` rounds. */
function time(cart, mode, iterations, rounds = 7) {
  cart.__benchView(mode, Math.max(1, iterations / 10)); // warm up
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    cart.__benchView(mode, iterations);
    samples.push(((performance.now() - t0) * 1000) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const modes = ["price", "json", "swb", "view", "view-swb"];
const rows = [];
for (const lines of [1, 10, 50, 200]) {
  const cart = cartWith(lines);
  const bytes = JSON.stringify(cart.view()).length;
  const iterations = Math.max(20, Math.round(20000 / lines));
  const row = { lines, bytes };
  for (const mode of modes) row[mode] = time(cart, mode, iterations);
  rows.push(row);
  cart.free();
}

console.log(`node ${process.version}, ${dir}`);
console.log(`| lines | view JSON bytes | ${modes.map((m) => `${m} (µs)`).join(" | ")} | swb / json |`);
console.log(`|---:|---:|${modes.map(() => "---:").join("|")}|---:|`);
for (const r of rows) {
  console.log(`| ${r.lines} | ${r.bytes} | ${modes.map((m) => r[m].toFixed(1)).join(" | ")} | ${(r.swb / r.json).toFixed(2)}× |`);
}
