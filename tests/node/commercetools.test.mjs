// commercetools checkout against a third-party emulator: @labdigital/commercetools-mock on 127.0.0.1,
// seeded through its HTTP API from tests/platforms/catalog.json (tests/platforms/commercetools.mjs).
// The built package runs in Node as a storefront would run it in a browser (protocol "commercetools",
// an anonymous session's token, the `/me` endpoints). Every request body the package sent is then
// compiled against the types of @commercetools/platform-sdk (MyCartDraft, MyOrderFromCartDraft).
//
// What the emulator computes differently from commercetools (docs/sync.md lists it): it never applies
// cart discounts, never gives product lines a platform tax rate, and leaves shipping out of
// `totalPrice`. So a shipped cart or a code cannot be ordered there: those tests check that the
// package refuses with PRICE_CHANGED instead of reporting an order, and that nothing was ordered.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PROJECT, startCommercetools, seedFromCatalog, anonymousToken, api } from "../platforms/commercetools.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { initSync, Cart, isCheckoutError } = await import(path.join(root, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(root, "pkg/wasm_cart_bg.wasm")) });
// The shared platform catalog, plus a product priced finer than the currency (commercetools
// HighPrecisionMoney): cable at 1.01499 EUR a metre.
const shared = JSON.parse(fs.readFileSync(path.join(root, "tests/platforms/catalog.json"), "utf8"));
const cable = { id: "CABLE", name: "Cable (per metre)", taxCategory: "reduced", shippable: false, prices: [{ currency: "EUR", amount: "1.01499" }] };
const catalog = { ...shared, products: [...shared.products, cable] };

let ct;
let admin;
/** Every request the package sent to the emulator: { method, url, body }. */
const sent = [];

before(async () => {
  ct = await startCommercetools();
  admin = await seedFromCatalog(ct.url, catalog);
});
after(() => ct?.stop());

function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), removeItem: (k) => void map.delete(k) };
}

function openCart() {
  return Cart.open({ catalog, storage: memoryStorage(), storageKey: "ct", currency: "EUR", country: "DE", locale: "de-DE" });
}

/** Runs `body` with fetch recording into `sent`; `fault(request, forward)` may answer instead. */
async function withFetch(body, fault) {
  fault ??= (_req, forward) => forward();
  const real = globalThis.fetch;
  globalThis.fetch = (url, init = {}) => {
    const req = { method: init.method ?? "GET", url: String(url), headers: { ...init.headers }, body: init.body ? JSON.parse(init.body) : undefined };
    sent.push(req);
    return fault(req, () => real(url, init));
  };
  try {
    return await body();
  } finally {
    globalThis.fetch = real;
  }
}

const checkoutOptions = async () => ({
  endpoint: `${ct.url}/${PROJECT}`,
  protocol: "commercetools",
  token: await anonymousToken(ct.url),
  sleep: () => Promise.resolve(),
});

async function ordersOfCart(cartId) {
  const where = encodeURIComponent(`cart(id="${cartId}")`);
  return (await api(ct.url, admin, "GET", `/orders?where=${where}`)).results;
}

function digitalCart() {
  const cart = openCart();
  cart.addItem({ productId: "EBOOK", quantity: 2 });
  cart.addItem({ productId: "COURSE", quantity: 1 });
  cart.setCustomer({ email: "ada@example.com" });
  return cart;
}

test("an order placed browser-direct: the emulator's order is what the cart showed", async () => {
  const cart = digitalCart();
  const shown = cart.setShippingAddress({ country: "DE", firstName: "Ada", lastName: "Lovelace", city: "Berlin" });
  assert.equal(shown.shipping, null, "digital goods: no shipping");
  const options = await checkoutOptions();
  const order = await withFetch(async () => cart.checkout(options), undefined);

  assert.equal(order.protocol, "commercetools");
  assert.equal(order.remoteTotal, shown.totals.total);
  const remote = await api(ct.url, admin, "GET", `/orders/${order.orderId}`);
  assert.equal(remote.totalPrice.centAmount, shown.totals.total, "charged what the shopper saw");
  assert.equal(remote.totalPrice.currencyCode, "EUR");
  assert.deepEqual(
    remote.lineItems.map((l) => [l.variant.sku, l.quantity, l.totalPrice.centAmount]),
    shown.lineItems.map((l) => [l.sku, l.quantity, l.total]),
  );
  assert.equal(remote.customerEmail, "ada@example.com");
  assert.equal(remote.shippingAddress.city, "Berlin");
  assert.equal((await ordersOfCart(order.remoteCartId)).length, 1);
  assert.equal(cart.view().lineItems.length, 0, "a new cart starts");
  assert.equal(cart.orders().at(-1).orderId, order.orderId);
});

test("a price finer than the currency: the line is rounded once, as commercetools rounds HighPrecisionMoney", async () => {
  const cart = openCart();
  cart.addItem({ productId: "CABLE", quantity: 2 });
  cart.setCustomer({ email: "ada@example.com" });
  const shown = cart.setShippingAddress({ country: "DE", firstName: "Ada", lastName: "Lovelace", city: "Berlin" });
  assert.deepEqual([shown.lineItems[0].unitPrice, shown.lineItems[0].total], [101, 203], "2 x 1.01499 = 2.02998 -> 2.03");
  const options = await checkoutOptions();
  const order = await withFetch(async () => cart.checkout(options), undefined);
  const remote = await api(ct.url, admin, "GET", `/orders/${order.orderId}`);
  assert.equal(remote.lineItems[0].price.value.type, "highPrecision");
  assert.equal(remote.lineItems[0].totalPrice.centAmount, 203);
  assert.equal(remote.totalPrice.centAmount, shown.totals.total, "charged what the shopper saw");
});

test("a lost answer to POST /me/orders is looked up, not ordered twice", async () => {
  for (const lose of ["network", "502"]) {
    const cart = digitalCart();
    cart.setShippingAddress({ country: "DE" });
    let dropped = 0;
    const options = await checkoutOptions();
    const order = await withFetch(async () => cart.checkout(options), async (req, forward) => {
      const answer = await forward();
      if (req.method === "POST" && req.url.endsWith("/me/orders") && dropped++ === 0) {
        // The emulator placed the order; the shopper's page never hears of it.
        if (lose === "network") throw new TypeError("fetch failed");
        return new Response(JSON.stringify({ statusCode: 502, message: "Bad Gateway" }), { status: 502 });
      }
      return answer;
    });
    assert.equal(dropped, 1, `${lose}: no second order was asked for`);
    const lookup = sent.at(-1);
    assert.equal(lookup.method, "GET");
    assert.ok(lookup.url.includes("/me/orders?where="), `${lose}: the order was looked up`);
    const orders = await ordersOfCart(order.remoteCartId);
    assert.deepEqual(orders.map((o) => o.id), [order.orderId], `${lose}: exactly one order`);
  }
});

test("a shipped cart: the default method by key and the address reach the emulator, whose total leaves shipping out, so PRICE_CHANGED", async () => {
  const cart = openCart();
  cart.addItem({ productId: "MUG", variantId: 2, quantity: 2 });
  const shown = cart.setShippingAddress({ country: "DE", firstName: "Ada", lastName: "Lovelace", city: "Berlin" });
  assert.equal(shown.shipping.methodId, "standard");
  const before = sent.length;
  const options = await checkoutOptions();
  const error = await withFetch(async () => cart.checkout(options), undefined).then(
    () => assert.fail("ordered although the totals differ"),
    (e) => e,
  );
  assert.ok(isCheckoutError(error));
  assert.equal(error.code, "PRICE_CHANGED");
  assert.equal(error.details.expected, shown.totals.total);
  const draft = sent.slice(before).find((r) => r.url.endsWith("/me/carts")).body;
  assert.deepEqual(draft.shippingMethod, { typeId: "shipping-method", key: "standard" });
  // The emulator took the method (it matched the zone of the address) and priced it as we do.
  const remote = await api(ct.url, admin, "GET", `/carts/${error.details.remoteCartId}`);
  assert.equal(remote.shippingInfo.shippingMethodName, "Standard");
  assert.equal(remote.shippingInfo.price.centAmount, shown.shipping.total);
  assert.equal(remote.shippingAddress.city, "Berlin");
  assert.equal(sent.slice(before).filter((r) => r.url.endsWith("/me/orders")).length, 0, "no order asked for");
  assert.equal(cart.view().lineItems.length, 1, "the cart is kept");
});

test("a discount code the emulator records but does not apply: PRICE_CHANGED names the lines", async () => {
  const cart = digitalCart();
  cart.setShippingAddress({ country: "DE" });
  const shown = cart.applyCode("WELCOME10");
  assert.ok(shown.totals.discountTotal < 0);
  const options = await checkoutOptions();
  const error = await withFetch(async () => cart.checkout(options), undefined).then(
    () => assert.fail("ordered although the totals differ"),
    (e) => e,
  );
  assert.equal(error.code, "PRICE_CHANGED");
  assert.deepEqual(error.details.lines.map((l) => l.sku).sort(), ["COURSE", "EBOOK"]);
  assert.equal(error.details.actual, shown.totals.subtotal, "the emulator's undiscounted total");
});

test("every request body compiles against @commercetools/platform-sdk's types", () => {
  const bodies = { carts: [], orders: [] };
  for (const r of sent) {
    if (r.method === "POST" && r.url.endsWith("/me/carts")) bodies.carts.push(r.body);
    if (r.method === "POST" && r.url.endsWith("/me/orders")) bodies.orders.push(r.body);
  }
  assert.ok(bodies.carts.length >= 4 && bodies.orders.length >= 3);
  const dir = path.join(root, "target/platform-types");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "commercetools-requests.ts");
  fs.writeFileSync(file, [
    'import type { MyCartDraft, MyOrderFromCartDraft } from "@commercetools/platform-sdk";',
    // Object literals under a declared type: tsc also refuses properties the type does not have.
    ...bodies.carts.map((b, i) => `export const cart${i}: MyCartDraft = ${JSON.stringify(b)};`),
    ...bodies.orders.map((b, i) => `export const order${i}: MyOrderFromCartDraft = ${JSON.stringify(b)};`),
    "",
  ].join("\n"));
  const tsc = path.join(root, "node_modules/.bin/tsc");
  const args = ["--noEmit", "--strict", "--exactOptionalPropertyTypes", "--skipLibCheck", "--moduleResolution", "bundler",
    "--module", "esnext", "--target", "es2022", "--typeRoots", path.join(root, "node_modules/@types"), file];
  try {
    execFileSync(tsc, args, { cwd: root, encoding: "utf8" });
  } catch (e) {
    assert.fail(`the requests do not type-check:\n${e.stdout}${e.stderr}`);
  }
});
