// Starts tests/e2e/pages/cart-worker.js as a module Worker and keeps what it answers in
// `globalThis.fromWorker` (tests/e2e/worker.test.mjs).
const worker = new Worker("cart-worker.js", { type: "module" });
worker.onmessage = (e) => { globalThis.fromWorker = e.data; };
worker.onerror = (e) => { globalThis.fromWorker = { failed: e.message || "worker error" }; };
worker.postMessage({ productId: "mug", quantity: 3 });
