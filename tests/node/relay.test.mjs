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
  const relay = {
    protocol: "commercetools",
    endpoint: `${ct.url}/${PROJECT}`,
    auth: { type: "commercetools-anonymous", authUrl: ct.url, projectKey: PROJECT, clientId: "storefront", clientSecret: "${CT_CLIENT_SECRET}" },
  };
  server = await startCartServer({ catalog, relay, env: { CT_CLIENT_SECRET: SECRET } });
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
  const status = await fetch(`${server.api}/carts/${cart.view().id}`, { headers: { "X-Cart-Secret": "any-secret-0123456789abcdefghijklmnopq" } });
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

// ---------------------------------------------------------------- distributor v3 (seed 000, TD SYNNEX
// StreamOne Ion V3): tests/platforms/distributor.mjs, built from the seed and Ion's V3 OpenAPI document.

import { startDistributor } from "../platforms/distributor.mjs";

const demoCatalog = JSON.parse(fs.readFileSync(path.join(ROOT, "server/catalog/demo.json"), "utf8"));

async function distributorRelay() {
  const ion = await startDistributor({ catalog: demoCatalog, partner: { clientId: "partner", clientSecret: "ion-secret-9d2c" } });
  stops.push(() => ion.stop());
  const relay = await startCartServer({
    catalog: demoCatalog,
    relay: {
      protocol: "distributor-v3",
      endpoint: ion.url,
      accountId: ion.accountId,
      auth: { type: "client-credentials", tokenUrl: `${ion.url}/oauth/token`, clientId: "partner", clientSecret: "${ION_SECRET}" },
    },
    env: { ION_SECRET: "ion-secret-9d2c" },
  });
  stops.push(relay.stop);
  return { ion, relay };
}

function licenceCart() {
  const cart = Cart.open({ catalog: demoCatalog, storage: memoryStorage(), storageKey: "ion", currency: "EUR", country: "DE", locale: "de-DE" });
  cart.addItem({ productId: "MS-365-BUS-STD", quantity: 5, attributes: { domain: "example.com" } });
  cart.addItem({ productId: "MS-365-BUS-BASIC", quantity: 2, attributes: { domain: "example.org" } });
  return cart;
}

test("distributor v3 through the relay: one order per vendor, with the PO number, priced as the cart showed", async () => {
  const { ion, relay } = await distributorRelay();
  const cart = licenceCart();
  const shown = cart.view();
  const order = await cart.checkout({ endpoint: relay.api, paymentMethodId: "pm_card_visa", customerId: "cust-77", poNumber: "PO-4711", sleep: () => Promise.resolve() });
  assert.equal(order.upstream.protocol, "distributor-v3");
  assert.deepEqual(order.upstream.orders.map((o) => o.vendor).sort(), ["cloudhub", "microsoft"]);
  assert.equal(ion.orders.length, 2);
  assert.ok(ion.orders.every((o) => o.poNumber === "PO-4711" && o.customerId === "cust-77"));
  const lines = shown.lineItems.reduce((sum, l) => sum + l.total, 0);
  assert.equal(order.upstream.remoteTotal, lines, "the distributor's net total is the lines the shopper saw");
  const items = ion.orders.flatMap((o) => o.orderItems.map((i) => [i.productId, i.quantity, i.attributes]));
  assert.deepEqual(items.sort(), [
    ["MS-365-BUS-BASIC", 2, [{ name: "domain", value: "example.org" }]],
    ["MS-365-BUS-STD", 5, [{ name: "domain", value: "example.com" }]],
  ]);
  assert.deepEqual(ion.violations, []);
  assert.ok(!relay.log().includes("ion-secret-9d2c"));
});

test("distributor v3: a lost checkout answer is found among the customer's orders, never checked out twice", async () => {
  const { ion, relay } = await distributorRelay();
  ion.loseNextCheckoutAnswer();
  const cart = licenceCart();
  const order = await cart.checkout({ endpoint: relay.api, paymentMethodId: "pm_card_visa", customerId: "cust-78", sleep: () => Promise.resolve() });
  assert.deepEqual(order.upstream.orders.map((o) => o.orderId).sort(), ion.orders.map((o) => o.orderId).sort());
  assert.equal(ion.orders.length, 2);
  assert.deepEqual(ion.violations, [], "no second checkout of the cart");
});

// ---------------------------------------------------------------- an unknown upstream outcome

import http from "node:http";

/** A proxy in front of `target` that forwards everything; `fault(req)` may answer instead. */
async function faultyProxy(target, fault) {
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const override = fault(req);
    const headers = { ...req.headers };
    delete headers.host;
    const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    const text = await answer.text();
    if (override === "drop") return req.socket.destroy(); // forwarded: the platform acted; the answer is lost
    if (override) {
      res.writeHead(override, { "content-type": "application/json" });
      return res.end("{}");
    }
    res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
    res.end(text);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(() => server.close());
  return `http://127.0.0.1:${server.address().port}`;
}

test("an order the relay cannot confirm is never placed again: not by a repeat, not by an edited cart", async () => {
  let lookups = 0;
  const proxy = await faultyProxy(ct.url, (req) => {
    if (req.method === "POST" && req.url.endsWith("/me/orders")) return "drop";
    if (req.method === "GET" && req.url.includes("/me/orders?")) return ++lookups && 503;
    return null;
  });
  const relay = await startCartServer({
    catalog,
    relay: {
      protocol: "commercetools", endpoint: `${proxy}/${PROJECT}`,
      auth: { type: "commercetools-anonymous", authUrl: ct.url, projectKey: PROJECT, clientId: "storefront", clientSecret: "${CT_CLIENT_SECRET}" },
    },
    env: { CT_CLIENT_SECRET: SECRET },
  });
  stops.push(relay.stop);
  const before = (await api(ct.url, admin, "GET", "/orders?limit=500")).results.length;
  const cart = digitalCart();
  cart.setShippingAddress({ country: "DE" });
  const error = await cart.checkout({ endpoint: relay.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() })
    .then(() => assert.fail("reported placed without a confirmation"), (e) => e);
  assert.equal(error.code, "UPSTREAM_OUTCOME_UNKNOWN");
  assert.equal(error.details.outcome, "unknown");
  assert.ok(lookups >= 1, "the relay looked before giving up");
  const placed = (await api(ct.url, admin, "GET", "/orders?limit=500")).results.length - before;
  assert.equal(placed, 1, "the platform placed it once, even though every resend of the browser reached the relay");
  // The shopper edits the cart and tries again (a new key): the relay does not order it a second time.
  cart.addItem({ productId: "EBOOK", quantity: 1 });
  const again = await cart.checkout({ endpoint: relay.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() })
    .then(() => assert.fail("ordered again"), (e) => e);
  assert.equal(again.code, "UPSTREAM_OUTCOME_UNKNOWN");
  assert.equal((await api(ct.url, admin, "GET", "/orders?limit=500")).results.length - before, 1);
  assert.ok(!JSON.stringify(error).includes(SECRET));
});
