// wasm-cart for Node (the `node` condition of the package's `exports`): the engine is initialised
// from the package's own .wasm file as this module loads, so `import { Cart } from "wasm-cart"` works
// without `init()` — Node's `fetch` cannot read `file:` URLs, which the browser entry would use.
// `init()` and `initSync()` still work and do nothing more.
import { readFileSync } from "node:fs";
import { initSync } from "./wasm_cart.js";

initSync({ module: readFileSync(new URL("./wasm_cart_bg.wasm", import.meta.url)) });

export * from "./wasm_cart.js";
export { default } from "./wasm_cart.js";
