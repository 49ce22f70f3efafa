// SPEC-B into a server that follows seed 001 as written (tests/platforms/spec-b-seed.mjs): it keeps its
// own carts and has never seen the browser's cart id. The checkout finds that out (404 CART_NOT_FOUND),
// builds the server's cart as the seed describes, checks its total, and checks it out with the same
// idempotency key; a resend after lost answers checks the same server cart out again, never a second one.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, memoryStorage } from "../platforms/cart-server.mjs";
import { startSpecBSeed } from "../platforms/spec-b-seed.mjs";

const { initSync, Cart } = await import(path.join(ROOT, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(ROOT, "pkg/wasm_cart_bg.wasm")) });
const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/platforms/catalog.json"), "utf8"));

const stops = [];
after(() => stops.reverse().forEach((stop) => stop()));

async function seedServer() {
  const server = await startSpecBSeed({ catalog });
  stops.push(() => server.stop());
  return server;
}

function digitalCart(storage = memoryStorage()) {
  const cart = Cart.open({ catalog, storage, storageKey: "seed", currency: "EUR", country: "DE" });
  cart.addItem({ productId: "EBOOK", quantity: 2 });
  return { cart, shown: cart.addItem({ productId: "COURSE", quantity: 1 }) };
}

test("an order placed into a server that knows nothing of the cart's id", async () => {
  const seed = await seedServer();
  const { cart, shown } = digitalCart();
  const order = await cart.checkout({ endpoint: seed.api, customerId: "cust-1", paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() });
  assert.equal(seed.orders.length, 1);
  assert.equal(order.orderId, seed.orders[0].orderId);
  assert.equal(order.confirmationNumber, seed.orders[0].confirmationNumber);
  assert.equal(Math.round(seed.orders[0].cart.total * 100), shown.totals.total, "the server's cart holds what the shopper saw");
  assert.deepEqual(seed.orders[0].cart.items.map((i) => [i.productId, i.quantity]), [["EBOOK", 2], ["COURSE", 1]]);
  assert.equal(seed.orders[0].customerId, "cust-1");
  const [serverCart] = seed.carts.keys();
  assert.notEqual(serverCart, shown.id);
  const paths = seed.requests.map((r) => `${r.method} ${r.path.replace(serverCart, "{id}")}`);
  assert.deepEqual(paths, [
    `POST /api/v1/carts/${shown.id}/checkout`, "POST /api/v1/carts", "POST /api/v1/carts/{id}/items",
    "POST /api/v1/carts/{id}/items", "GET /api/v1/carts/{id}", "POST /api/v1/carts/{id}/checkout",
  ]);
  assert.equal(cart.view().lineItems.length, 0, "a new cart starts");
});

test("lost answers: the resend checks the same server cart out under the same key; one order", async () => {
  const seed = await seedServer();
  const { cart } = digitalCart();
  const real = globalThis.fetch;
  globalThis.fetch = async (url, init = {}) => {
    const answer = await real(url, init);
    const serverCart = [...seed.carts.keys()][0];
    if (serverCart && String(url).endsWith(`/carts/${serverCart}/checkout`)) throw new TypeError("fetch failed"); // placed, answer lost
    return answer;
  };
  let error;
  try {
    error = await cart.checkout({ endpoint: seed.api, customerId: "cust-2", paymentMethodId: "pm_card_visa", retries: 1, sleep: () => Promise.resolve() })
      .then(() => assert.fail("no answer arrived"), (e) => e);
  } finally {
    globalThis.fetch = real;
  }
  assert.equal(error.code, "NETWORK_ERROR");
  assert.equal(seed.orders.length, 1, "the first attempt placed it");
  const order = await cart.resumeCheckout({ sleep: () => Promise.resolve() });
  assert.equal(order.orderId, seed.orders[0].orderId, "the server's answer under the same key");
  assert.equal(seed.orders.length, 1);
  assert.equal(seed.carts.size, 1, "no second server cart");
});

test("the server's refusals reach the shopper with its codes, and the cart stays", async () => {
  const seed = await seedServer();
  const { cart } = digitalCart();
  const declined = await cart.checkout({ endpoint: seed.api, customerId: "cust-3", paymentMethodId: "pm_card_declined", sleep: () => Promise.resolve() })
    .then(() => assert.fail(), (e) => e);
  assert.equal(declined.code, "PAYMENT_FAILED");
  const noCustomer = await cart.checkout({ endpoint: seed.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() })
    .then(() => assert.fail(), (e) => e);
  assert.deepEqual([noCustomer.code, noCustomer.details.field], ["INVALID_REQUEST", "customerId"]);
  assert.equal(seed.orders.length, 0);
  assert.equal(cart.view().lineItems.length, 2);
});
