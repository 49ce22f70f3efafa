// cart-server's relay (docs/sync.md): the browser's SPEC-B checkout goes to cart-server, which reprices
// it with the engine and places it into the platform by running the same plan natively, with
// credentials from the environment that never reach the browser, an answer or the log.
//
// commercetools: @labdigital/commercetools-mock (third-party), seeded from tests/platforms/catalog.json.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCartServer, memoryStorage } from "../platforms/cart-server.mjs";
import { PROJECT, startCommercetools, seedFromCatalog, api } from "../platforms/commercetools.mjs";

const { initSync, Cart } = await import(path.join(ROOT, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(ROOT, "pkg/wasm_cart_bg.wasm")) });
const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/platforms/catalog.json"), "utf8"));

const SECRET = "ct-secret-never-shown-7f3a";
const stops = [];
after(() => stops.reverse().forEach((stop) => stop()));

/** cart-server relaying to `config` (written to a file; `${VAR}`s come from `env`). */
async function relayServer(config, env) {
  const server = await startCartServer({ catalog, args: ["--relay", "relay.json"], env });
  stops.push(server.stop);
  return server;
}

function writeRelay(dir, config) {
  const file = path.join(dir, "relay.json");
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

function digitalCart() {
  const cart = Cart.open({ catalog, storage: memoryStorage(), storageKey: "relay", currency: "EUR", country: "DE", locale: "de-DE" });
  cart.addItem({ productId: "EBOOK", quantity: 1 });
  cart.addItem({ productId: "COURSE", quantity: 2 });
  cart.setCustomer({ email: "grace@example.com" });
  return cart;
}

let ct;
let admin;
let server;

before(async () => {
  ct = await startCommercetools();
  stops.push(() => ct.stop());
  admin = await seedFromCatalog(ct.url, catalog);
  // The relay file names the variables; the values live in the server's environment only.
  const dir = fs.mkdtempSync(path.join(ROOT, "target", "relay-"));
  stops.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = writeRelay(dir, {
    protocol: "commercetools",
    endpoint: `${ct.url}/${PROJECT}`,
    auth: { type: "commercetools-anonymous", authUrl: ct.url, projectKey: PROJECT, clientId: "storefront", clientSecret: "${CT_CLIENT_SECRET}" },
  });
  server = await startCartServer({ catalog, args: ["--relay", file], env: { CT_CLIENT_SECRET: SECRET } });
  stops.push(server.stop);
});

test("commercetools through the relay: the platform's order is what the cart showed, the browser holds no credential", async () => {
  const cart = digitalCart();
  const shown = cart.setShippingAddress({ country: "DE", firstName: "Grace", lastName: "Hopper", city: "Hamburg" });
  const sent = [];
  const real = globalThis.fetch;
  globalThis.fetch = (url, init = {}) => {
    sent.push({ url: String(url), headers: { ...init.headers }, body: init.body ?? "" });
    return real(url, init);
  };
  let order;
  try {
    order = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() });
  } finally {
    globalThis.fetch = real;
  }
  assert.equal(order.protocol, "spec-b", "the browser speaks SPEC-B to cart-server");
  assert.ok(sent.every((r) => r.url.startsWith(server.url)), "the browser only talks to cart-server");
  assert.ok(sent.every((r) => !JSON.stringify(r).includes(SECRET)));
  assert.equal(order.upstream.protocol, "commercetools");
  const remote = await api(ct.url, admin, "GET", `/orders/${order.upstream.orders[0].orderId}`);
  assert.equal(remote.totalPrice.centAmount, shown.totals.total, "the platform charges what the shopper saw");
  assert.deepEqual(remote.lineItems.map((l) => [l.variant.sku, l.quantity]), [["EBOOK", 1], ["COURSE", 2]]);
  assert.equal(remote.customerEmail, "grace@example.com");
  assert.equal(order.confirmationNumber, remote.orderNumber);
  assert.ok(!server.log().includes(SECRET), "the secret is never logged");
});

test("a repeat under the same key answers the same upstream order, never a second one", async () => {
  const cart = digitalCart();
  cart.setShippingAddress({ country: "DE" });
  let record;
  const real = globalThis.fetch;
  // The first answer is lost on its way back: the session sends the same request again.
  let dropped = false;
  globalThis.fetch = async (url, init = {}) => {
    const answer = await real(url, init);
    if (!dropped && String(url).endsWith("/checkout")) {
      dropped = true;
      record = { url: String(url), init };
      throw new TypeError("fetch failed");
    }
    return answer;
  };
  let order;
  try {
    order = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() });
  } finally {
    globalThis.fetch = real;
  }
  const where = encodeURIComponent(`cart(id="${order.upstream.remoteCartId}")`);
  const orders = (await api(ct.url, admin, "GET", `/orders?where=${where}`)).results;
  assert.deepEqual(orders.map((o) => o.id), [order.upstream.orders[0].orderId]);
  // And once more by hand, as any client might: the stored answer, same order.
  const again = await real(record.url, record.init);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal((await again.json()).upstream.orders[0].orderId, order.upstream.orders[0].orderId);
  const all = (await api(ct.url, admin, "GET", `/orders?limit=500`)).results;
  assert.equal(all.filter((o) => o.customerEmail === "grace@example.com" && o.lineItems[1]?.quantity === 2).length, 2,
    "two checkouts in this file, two orders");
});

test("the platform's refusal reaches the browser as a refusal, and nothing is recorded as ordered", async () => {
  const cart = digitalCart();
  cart.setShippingAddress({ country: "DE" });
  cart.applyCode("WELCOME10"); // the emulator records codes without applying them: its total differs
  const error = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() })
    .then(() => assert.fail("ordered although the platform's total differs"), (e) => e);
  assert.equal(error.code, "PRICE_CHANGED");
  assert.equal(error.details.upstream, "commercetools");
  assert.ok(error.details.lines.length > 0);
  assert.equal(cart.view().lineItems.length, 2, "the cart is kept");
  const status = await fetch(`${server.api}/carts/${cart.view().id}`);
  assert.equal(status.status, 404, "cart-server recorded no order for it");
});

test("relay-only protocols are refused in the browser", async () => {
  const cart = digitalCart();
  for (const protocol of ["sylius", "distributor-v3"]) {
    const error = await cart.checkout({ endpoint: "https://shop.example", protocol }).then(() => assert.fail(), (e) => e);
    assert.equal(error.code, "INVALID_REQUEST");
    assert.equal(error.details.field, "protocol");
  }
});
