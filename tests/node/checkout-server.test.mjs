// The JavaScript client's checkout (pkg/, cart.checkout) against the real cart-server binary: a spawned
// process on an ephemeral port with a temporary SQLite database and the demo catalog. Built by
// `make server` (a prerequisite of `make test-node`); CART_SERVER_BIN overrides the path.
//
// Covers: a successful order whose charged total is the view's; a response dropped after the server
// processed it, then the retry -> exactly one order (same key, replayed answer, stock taken once); a lost
// answer whose key then expired on the server -> resumeCheckout recovers that order (CART_NOT_ACTIVE,
// then GET /orders/:id), still one order; a declined payment leaves the cart, the storage and the stock
// untouched; PRICE_CHANGED -> acceptServerPrices -> an order at the server's prices; a checkout queued
// offline is sent once (on `online`, and at the next open). No test asserts on timing: retries wait through the `sleep` option.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCartServer, memoryStorage } from "../platforms/cart-server.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { initSync, Cart, isCheckoutError } = await import(path.join(root, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(root, "pkg/wasm_cart_bg.wasm")) });

const demoCatalog = JSON.parse(fs.readFileSync(path.join(root, "server/catalog/demo.json"), "utf8"));
/** cart-server with the demo catalog and `extraArgs` (tests/platforms/cart-server.mjs). */
const startServer = (extraArgs = []) => startCartServer({ catalog: demoCatalog, args: extraArgs });

let main;
let base;

before(async () => {
  main = await startServer();
  base = main.url;
});

after(() => main?.stop());

const api = () => `${base}/api/v1`;
const noWait = () => Promise.resolve();

function openCart(storage, catalog = demoCatalog) {
  return Cart.open({ catalog, storage, storageKey: "shop", currency: "EUR", country: "DE", locale: "de-DE" });
}

/** Replaces globalThis.fetch for the duration of `body`; `wrap(realFetch)` returns the stand-in. */
async function withFetch(wrap, body) {
  const real = globalThis.fetch;
  globalThis.fetch = wrap(real);
  try {
    return await body();
  } finally {
    globalThis.fetch = real;
  }
}

/** Records every checkout POST (headers as sent) and passes it on. */
function recording(log, onCheckout = (real, url, init) => real(url, init)) {
  return (real) => (url, init = {}) => {
    if (String(url).endsWith("/checkout")) {
      log.push({ url: String(url), headers: { ...init.headers }, body: init.body });
      return onCheckout(real, url, init, log.length);
    }
    return real(url, init);
  };
}

/** How many units of `productId` (variant `variantId`) the server still has: it refuses to add more
 * than it has, and says how many are available. */
async function stockOf(productId, variantId, endpoint = api()) {
  const headers = { "Content-Type": "application/json", "X-Cart-Secret": "stock-probe-0123456789abcdefghijklmn" };
  const created = await fetch(`${endpoint}/carts`, { method: "POST", headers, body: "{}" });
  const cart = await created.json();
  const add = await fetch(`${endpoint}/carts/${cart.id}/items`, {
    method: "POST",
    headers,
    body: JSON.stringify({ productId, variantId, quantity: 9999 }),
  });
  const answer = await add.json();
  assert.equal(add.status, 409, JSON.stringify(answer));
  assert.equal(answer.error.code, "INVENTORY_UNAVAILABLE");
  return answer.error.details.available;
}

test("a successful order: the charged total is the view's, the cart is archived, a new cart starts", async () => {
  const storage = memoryStorage();
  const cart = openCart(storage);
  const ordered = [];
  cart.on("ordered", (e) => ordered.push(e));
  cart.addItem({ productId: "MUG", variantId: 1, quantity: 2 });
  cart.addItem({ productId: "MS-365-BUS-STD", quantity: 3, attributes: { domain: "example.com" } });
  const before = cart.setShippingAddress({ country: "DE", city: "Berlin" });
  const sent = [];
  const order = await withFetch(recording(sent), () =>
    cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", customerId: "cust_42", poNumber: "PO-7" }));

  assert.equal(order.protocol, "spec-b");
  assert.equal(order.status, "confirmed");
  assert.match(order.orderId, /^ord_/);
  assert.equal(order.view.totals.total, before.totals.total, "charged what the shopper saw");
  assert.equal(order.poNumber, "PO-7");
  assert.deepEqual(order.orders.map((o) => o.vendor).sort(), ["merch", "microsoft"]);
  assert.equal(sent.length, 1);
  assert.match(sent[0].headers["X-Idempotency-Key"], new RegExp(`^${before.id}-v${before.version}-`));
  assert.equal(JSON.parse(sent[0].body).cart.expected.total, before.totals.total);

  assert.equal(ordered.length, 1);
  assert.equal(ordered[0].order.orderId, order.orderId);
  assert.equal(ordered[0].cart.status, "ordered");
  assert.equal(ordered[0].cart.id, before.id);
  const fresh = cart.view();
  assert.notEqual(fresh.id, before.id);
  assert.equal(fresh.lineItems.length, 0);
  assert.deepEqual([fresh.currency, fresh.country, fresh.locale], ["EUR", "DE", "de-DE"]);
  const archive = JSON.parse(storage.map.get("shop:orders"));
  assert.equal(archive.length, 1);
  assert.equal(archive[0].orderId, order.orderId);
  assert.equal(archive[0].cart.status, "ordered");
  assert.deepEqual(cart.orders().map((o) => o.orderId), [order.orderId]);
  assert.equal(storage.map.has("shop:checkout"), false);
  assert.equal(cart.pendingCheckout, null);

  // The order opens with the secret it resolved with, and with nothing else.
  assert.match(order.secret, /^[0-9a-f]{32}$/);
  const stored = await (await fetch(`${api()}/orders/${order.orderId}`, { headers: { "X-Cart-Secret": order.secret } })).json();
  assert.equal((await fetch(`${api()}/orders/${order.orderId}`)).status, 401);
  assert.equal(stored.orderId, order.orderId);
  assert.equal(stored.view.totals.total, before.totals.total);
  cart.free();
});

test("a dropped response, then the retry: exactly one order", async () => {
  const stockBefore = await stockOf("TSHIRT", 4);
  const storage = memoryStorage();
  const cart = openCart(storage);
  const view = cart.addItem({ productId: "TSHIRT", variantId: 4, quantity: 3 });
  const sent = [];
  const answers = [];
  const delays = [];
  const order = await withFetch(
    recording(sent, async (real, url, init, n) => {
      const response = await real(url, init); // the server processes it ...
      if (n === 1) {
        await response.text();
        throw new TypeError("fetch failed: the connection dropped"); // ... and the answer is lost
      }
      answers.push(response.headers.get("idempotent-replayed"));
      return response;
    }),
    () => cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", sleep: (ms) => void delays.push(ms) }),
  );
  assert.equal(sent.length, 2);
  assert.equal(sent[0].headers["X-Idempotency-Key"], sent[1].headers["X-Idempotency-Key"]);
  assert.notEqual(sent[0].headers["X-Request-ID"], sent[1].headers["X-Request-ID"]);
  assert.equal(sent[0].body, sent[1].body);
  assert.deepEqual(answers, ["true"], "the second answer is the stored one");
  assert.equal(delays.length, 1);
  assert.equal(order.view.totals.total, view.totals.total);
  assert.equal(await stockOf("TSHIRT", 4), stockBefore - 3, "stock taken once");
  // The cart id is ordered once: another key for the same cart is refused with that order's id.
  const again = await fetch(`${api()}/carts/${view.id}/checkout`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Idempotency-Key": "another-key", "X-Cart-Secret": order.secret },
    body: sent[0].body,
  });
  assert.equal(again.status, 409);
  assert.equal((await again.json()).error.details.orderId, order.orderId);
  assert.equal(cart.orders().length, 1);
});

test("an answer lost and its key expired: resumeCheckout recovers the order the lost attempt placed", async () => {
  const short = await startServer(["--idempotency-ttl", "1"]);
  try {
    const endpoint = `${short.url}/api/v1`;
    const stockBefore = await stockOf("ROUTER-5G", undefined, endpoint);
    const storage = memoryStorage();
    const cart = openCart(storage);
    const ordered = [];
    cart.on("ordered", (e) => ordered.push(e));
    const view = cart.addItem({ productId: "ROUTER-5G", quantity: 2 });
    const sent = [];
    const dropEvery = recording(sent, async (real, url, init) => {
      const response = await real(url, init); // placed on the server, the answer never arrives
      await response.text();
      throw new TypeError("fetch failed: the connection dropped");
    });
    await assert.rejects(
      withFetch(dropEvery, () => cart.checkout({ endpoint, paymentMethodId: "pm_card_visa", retries: 0, sleep: noWait })),
      (e) => isCheckoutError(e) && e.code === "NETWORK_ERROR",
    );
    assert.equal(sent.length, 1);
    assert.equal(cart.view(), view, "the cart is unchanged");
    assert.equal(await stockOf("ROUTER-5G", undefined, endpoint), stockBefore - 2, "the lost attempt placed it");
    // Wait out the server's one-second idempotency TTL: the resend's key is unknown there now, so the
    // server answers CART_NOT_ACTIVE with the order id, and the client fetches and checks that order.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const resent = [];
    const order = await withFetch(recording(resent), () => cart.resumeCheckout({ sleep: noWait }));
    assert.equal(resent.length, 1);
    assert.equal(resent[0].headers["X-Idempotency-Key"], sent[0].headers["X-Idempotency-Key"]);
    assert.equal(order.recovered, true);
    assert.equal(order.status, "confirmed");
    assert.equal(resent[0].headers["X-Cart-Secret"], sent[0].headers["X-Cart-Secret"], "one secret per cart");
    const placed = await (await fetch(`${endpoint}/orders/${order.orderId}`, { headers: { "X-Cart-Secret": order.secret } })).json();
    assert.equal(placed.orderId, order.orderId);
    assert.equal(await stockOf("ROUTER-5G", undefined, endpoint), stockBefore - 2, "still one order");
    assert.equal(ordered.length, 1);
    assert.equal(cart.orders().length, 1);
    assert.equal(cart.orders()[0].order.orderId, order.orderId);
    assert.notEqual(cart.view().id, view.id, "a new cart started");
    assert.equal(cart.view().lineItems.length, 0);
  } finally {
    short.stop();
  }
});

test("every answer lost, then the cart edited: the next checkout finds the order, nothing is orphaned", async () => {
  const routers = await stockOf("ROUTER-5G");
  const storage = memoryStorage();
  const cart = openCart(storage);
  const ordered = [];
  cart.on("ordered", (e) => ordered.push(e));
  const sentCart = cart.addItem({ productId: "ROUTER-5G", quantity: 1 });
  const sent = [];
  const dropAll = recording(sent, async (real, url, init) => {
    const response = await real(url, init); // placed; the answer never arrives
    await response.text();
    throw new TypeError("fetch failed: the connection dropped");
  });
  await assert.rejects(
    withFetch(dropAll, () => cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", retries: 2, sleep: noWait })),
    (e) => isCheckoutError(e) && e.code === "NETWORK_ERROR",
  );
  assert.equal(sent.length, 3, "every attempt lost its answer");
  assert.equal(await stockOf("ROUTER-5G"), routers - 1, "the first attempt placed the order");
  // The shopper goes on: a mug more, and checks out again (a new version, so a new key).
  cart.addItem({ productId: "MUG", variantId: 1, quantity: 1 });
  const again = [];
  const order = await withFetch(recording(again), () => cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", sleep: noWait }));
  assert.notEqual(again[0].headers["X-Idempotency-Key"], sent[0].headers["X-Idempotency-Key"]);
  assert.equal(order.recovered, true);
  assert.equal(order.view.totals.total, sentCart.totals.total, "the order placed by the lost attempt");
  assert.equal(ordered.length, 1);
  assert.equal(cart.orders().length, 1);
  assert.deepEqual(cart.orders()[0].cart.lineItems.map((l) => l.productId), ["ROUTER-5G"]);
  // The new cart keeps the mug added after the lost attempt; nothing was ordered twice.
  assert.deepEqual(cart.view().lineItems.map((l) => [l.productId, l.quantity]), [["MUG", 1]]);
  assert.equal(await stockOf("ROUTER-5G"), routers - 1);
  assert.equal(cart.pendingCheckout, null);
});

test("an answer lost, then a reload: the order is looked up, not sent again, and announced", async () => {
  const storage = memoryStorage();
  const first = openCart(storage);
  const view = first.addItem({ productId: "ROUTER-5G", quantity: 1 });
  const sent = [];
  const dropAll = recording(sent, async (real, url, init) => {
    const response = await real(url, init);
    await response.text();
    throw new TypeError("fetch failed: the connection dropped");
  });
  await assert.rejects(
    withFetch(dropAll, () => first.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", retries: 0, sleep: noWait })),
    (e) => isCheckoutError(e) && e.code === "NETWORK_ERROR",
  );
  assert.equal(first.pendingCheckout.state, "failed");
  first.free();
  const posts = [];
  await withFetch(recording(posts), async () => {
    const second = openCart(storage);
    const event = await new Promise((resolve) => second.on("ordered", resolve));
    assert.equal(event.cart.id, view.id);
    assert.match(event.order.orderId, /^ord_/);
    assert.equal(event.order.recovered, true);
    assert.equal(posts.length, 0, "looked up with GETs, never sent again");
    assert.notEqual(second.view().id, view.id, "a new cart");
    assert.equal(second.orders().length, 1);
    assert.equal(second.pendingCheckout, null);
  });
});

test("a declined payment leaves the cart, its storage and the stock untouched", async () => {
  const stockBefore = await stockOf("ROUTER-5G");
  const storage = memoryStorage();
  const cart = openCart(storage);
  cart.addItem({ productId: "ROUTER-5G", quantity: 1 });
  const before = cart.setShippingAddress({ country: "DE" });
  const blob = storage.map.get("shop");
  const events = [];
  cart.on("ordered", (e) => events.push(e));
  cart.on("change", (v) => events.push(v));
  const error = await cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_declined", sleep: noWait }).then(
    () => assert.fail("a declined card must reject"),
    (e) => e,
  );
  assert.ok(error instanceof Error);
  assert.ok(isCheckoutError(error));
  assert.equal(error.name, "CheckoutError");
  assert.equal(error.code, "PAYMENT_FAILED");
  assert.equal(error.status, 402);
  assert.equal(error.details.declineCode, "card_declined");
  assert.equal(cart.view(), before, "the very same view: nothing changed");
  assert.equal(storage.map.get("shop"), blob);
  assert.deepEqual([...storage.map.keys()].sort(), ["shop", "shop:catalog"], "no pending record, no archive");
  assert.equal(cart.pendingCheckout, null);
  assert.deepEqual(events, []);
  assert.equal(await stockOf("ROUTER-5G"), stockBefore);

  // The same cart then goes through with a card that works.
  const order = await cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa" });
  assert.equal(order.view.totals.total, before.totals.total);
  assert.equal(await stockOf("ROUTER-5G"), stockBefore - 1);
});

test("PRICE_CHANGED: acceptServerPrices adopts the server's prices, the retry is charged those", async () => {
  // This client's catalog is stale: the mug costs 10.00 here, 12.90 on the server.
  const stale = structuredClone(demoCatalog);
  const mug = stale.products.find((p) => p.id === "MUG");
  mug.prices = mug.prices.map((p) => (p.currency === "EUR" && !p.minQuantity ? { ...p, amount: "10.00" } : p));
  mug.variants = mug.variants.map(({ prices, ...v }) => v);
  const storage = memoryStorage();
  const cart = openCart(storage, stale);
  const mugLine = cart.addItem({ productId: "MUG", quantity: 2 }).lineItems[0];
  const before = cart.addItem({ productId: "MS-365-BUS-BASIC", quantity: 1, attributes: { domain: "example.org" } });
  assert.equal(mugLine.unitPrice, 1000);

  const error = await cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa" }).then(
    () => assert.fail("stale prices must be refused"),
    (e) => e,
  );
  assert.equal(error.code, "PRICE_CHANGED");
  assert.equal(error.status, 409);
  assert.equal(error.details.expected.total, before.totals.total);
  assert.notEqual(error.details.actual.total, before.totals.total);
  assert.equal(cart.view(), before, "the refusal changed nothing");
  assert.equal(cart.pendingCheckout, null);

  const changes = cart.acceptServerPrices(error.details);
  assert.deepEqual(changes.map((c) => [c.lineItemId, c.name, c.quantity, c.oldUnitPrice, c.newUnitPrice, c.oldTotal, c.newTotal]), [
    [mugLine.id, mugLine.name, 2, 1000, 1290, 2000, 2580],
  ]);
  assert.equal(changes.total.oldTotal, before.totals.total);
  assert.equal(changes.total.newTotal, error.details.actual.total);
  assert.equal(changes.total.difference, error.details.actual.total - before.totals.total);
  const accepted = cart.view();
  assert.equal(accepted.totals.total, error.details.actual.total, "the view shows the accepted prices");
  assert.equal(accepted.lineItems[0].id, mugLine.id);
  assert.equal(accepted.lineItems[0].unitPrice, 1290);
  assert.equal(accepted.version, before.version, "accepting is not a change to the cart");

  const order = await cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa" });
  assert.equal(order.view.totals.total, error.details.actual.total);
  assert.equal(order.orders.find((o) => o.vendor === "merch").items[0].unitPrice, 12.9);
});

test("a checkout queued while offline is sent once: on `online`, not again at the next open", async () => {
  const target = new EventTarget();
  const saved = {
    navigator: Object.getOwnPropertyDescriptor(globalThis, "navigator"),
    addEventListener: globalThis.addEventListener,
    removeEventListener: globalThis.removeEventListener,
  };
  const network = { onLine: false };
  Object.defineProperty(globalThis, "navigator", { value: network, configurable: true, writable: true });
  globalThis.addEventListener = target.addEventListener.bind(target);
  globalThis.removeEventListener = target.removeEventListener.bind(target);
  try {
    const sent = [];
    await withFetch(recording(sent), async () => {
      const storage = memoryStorage();
      const cart = openCart(storage);
      const view = cart.addItem({ productId: "ROUTER-5G", quantity: 1 });
      const ordered = new Promise((resolve) => cart.on("ordered", resolve));
      const queued = await cart.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", whenOffline: "queue" });
      assert.equal(queued.status, "queued");
      assert.equal(queued.cartId, view.id);
      assert.equal(cart.pendingCheckout.state, "queued");
      assert.equal(cart.pendingCheckout.idempotencyKey, queued.idempotencyKey);
      assert.equal(sent.length, 0, "nothing is sent while offline");
      assert.equal(cart.view().id, view.id, "the cart stays until the order is placed");

      network.onLine = true;
      target.dispatchEvent(new Event("online"));
      target.dispatchEvent(new Event("online")); // a second event while the first send runs
      const event = await ordered;
      assert.equal(sent.length, 1);
      assert.equal(sent[0].headers["X-Idempotency-Key"], queued.idempotencyKey);
      assert.equal(event.cart.id, view.id);
      assert.equal(event.order.view.totals.total, view.totals.total);
      assert.equal(cart.pendingCheckout, null);
      assert.notEqual(cart.view().id, view.id);

      // A reload and another `online`: nothing left to send.
      const reloaded = openCart(storage);
      target.dispatchEvent(new Event("online"));
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(reloaded.pendingCheckout, null);
      assert.equal(reloaded.orders().length, 1);
      assert.equal(sent.length, 1, "sent exactly once");
      cart.free();
      reloaded.free();
    });
  } finally {
    if (saved.navigator) Object.defineProperty(globalThis, "navigator", saved.navigator);
    else delete globalThis.navigator;
    globalThis.addEventListener = saved.addEventListener;
    globalThis.removeEventListener = saved.removeEventListener;
    if (saved.addEventListener === undefined) delete globalThis.addEventListener;
    if (saved.removeEventListener === undefined) delete globalThis.removeEventListener;
  }
});

test("a checkout queued while offline is sent at the next open (a reload), once", async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  const network = { onLine: false };
  Object.defineProperty(globalThis, "navigator", { value: network, configurable: true, writable: true });
  try {
    const sent = [];
    await withFetch(recording(sent), async () => {
      const storage = memoryStorage();
      const first = openCart(storage);
      const view = first.addItem({ productId: "MUG", variantId: 3, quantity: 1 });
      const queued = await first.checkout({ endpoint: api(), paymentMethodId: "pm_card_visa", whenOffline: "queue" });
      assert.equal(queued.status, "queued");
      first.free(); // the page goes away

      network.onLine = true;
      const second = openCart(storage);
      assert.equal(second.view().id, view.id);
      // Online at open: the queued record is on its way at once, with its key.
      assert.equal(second.pendingCheckout.state, "sending");
      const event = await new Promise((resolve) => second.on("ordered", resolve));
      assert.equal(event.order.view.totals.total, view.totals.total);
      assert.equal(sent.length, 1);
      assert.equal(sent[0].headers["X-Idempotency-Key"], queued.idempotencyKey);
      assert.equal(second.pendingCheckout, null);
      assert.equal(second.orders().length, 1);

      const third = openCart(storage);
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(third.pendingCheckout, null);
      assert.notEqual(third.view().id, view.id);
      assert.equal(sent.length, 1, "sent exactly once");
    });
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete globalThis.navigator;
  }
});
