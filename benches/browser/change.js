// Driven by benches/browser/run.mjs in headless Chromium. On load: opens (or restores) the cart under
// localStorage["bench"], renders its view and records the time from navigation to that first render
// (`window.coldOpen`). `window.changeToView(lines, samples, storage)` then times one quantity change that
// returns the new view, with real localStorage (or "memory") and a turn of the event loop between
// changes (so the tab protocol's asynchronous commit runs as it would between a shopper's clicks).
import init, { Cart } from "../pkg/wasm_cart.js";
import { catalog, fill, measure } from "./catalog.mjs";

const render = (view) => {
  document.querySelector("#lines").replaceChildren(...view.lineItems.map((line) => {
    const row = document.createElement("tr");
    row.textContent = `${line.quantity} × ${line.name}: ${line.total}`;
    return row;
  }));
  document.querySelector("#total").textContent = String(view.totals.total);
};

const started = performance.now(); // this module, its imports and the package's glue are loaded
await init();
const initialised = performance.now(); // the wasm fetched, compiled and instantiated
const lines = Number(new URLSearchParams(location.search).get("lines") ?? 0);
const cart = Cart.open({ catalog, storageKey: "bench", currency: "EUR", country: "DE" });
const opened = performance.now();
if (cart.view().lineItems.length !== lines) {
  cart.clear();
  if (lines > 0) cart.apply(fill(lines));
}
render(cart.view());
window.coldPhases = { modules: started, init: initialised - started, open: opened - initialised, view: performance.now() - opened };
window.coldOpen = performance.now();
cart.free();

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

window.changeToView = async (n, samples, storage = "local") => {
  localStorage.clear();
  const bench = Cart.open({ catalog, storage, storageKey: `bench-${n}`, currency: "EUR", country: "DE" });
  bench.apply(fill(n));
  const id = bench.view().lineItems[0].id;
  const result = await measure((i) => bench.changeQuantity(id, 1 + (i % 2)), { samples, clock: () => performance.now(), between: turn });
  bench.free();
  return result;
};

/** `Cart.open` on a catalog of `n` products given as JSON text, with real localStorage (the catalog is
 * cached under `<key>:catalog`): ms of the best of `rounds` opens on fresh keys, and whether caching
 * the catalog failed (the `error` event's code, e.g. the quota). */
window.openBig = async (n, rounds = 3) => {
  const { bigCatalog } = await import("./catalog.mjs");
  const text = JSON.stringify(bigCatalog(n));
  let best = Infinity;
  let failed = null;
  for (let i = 0; i < rounds; i++) {
    localStorage.clear();
    const t0 = performance.now();
    const big = Cart.open({ catalog: text, storageKey: `big-${n}-${i}`, currency: "EUR", country: "DE" });
    best = Math.min(best, performance.now() - t0);
    big.on("error", (e) => { failed = e.code; });
    await turn();
    big.free();
  }
  localStorage.clear();
  return { ms: best, bytes: text.length, failed };
};
