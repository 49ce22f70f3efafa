// Sylius: the shop API v2 from the package (browser-direct, a guest, no token) and through cart-server's
// relay, and the admin API v1 through the relay only (its OAuth credentials stay on the server). The
// emulator (tests/platforms/sylius.mjs) is written from Sylius's own source and documentation (cited
// there), with its checkout state machines, error bodies and auth; `violations` records anything the
// client did that Sylius does not allow, and stays empty here.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCartServer, memoryStorage } from "../platforms/cart-server.mjs";
import { startSylius } from "../platforms/sylius.mjs";

const { initSync, Cart } = await import(path.join(ROOT, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(ROOT, "pkg/wasm_cart_bg.wasm")) });
const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/platforms/catalog.json"), "utf8"));
const ADMIN = { clientId: "relay", clientSecret: "sylius-client-secret-51", username: "api@example.com", password: "sylius-admin-pw-88" };

const stops = [];
after(() => stops.reverse().forEach((stop) => stop()));

async function sylius() {
  const shop = await startSylius({ catalog, channel: "WEB", admin: ADMIN });
  stops.push(() => shop.stop());
  return shop;
}

async function relayTo(relay, env) {
  const server = await startCartServer({ catalog, relay, env });
  stops.push(server.stop);
  return server;
}

const ADDRESS = { country: "DE", firstName: "Ada", lastName: "Lovelace", streetName: "Unter den Linden", streetNumber: "5",
  postalCode: "10117", city: "Berlin" };

/** A shipped cart: a large mug, a cookbook, an address; the catalog's default shipping method. */
function shippedCart(key) {
  const cart = Cart.open({ catalog, storage: memoryStorage(), storageKey: key, currency: "EUR", country: "DE", locale: "de-DE" });
  cart.addItem({ productId: "MUG", variantId: 2, quantity: 1 });
  cart.addItem({ productId: "BOOK", quantity: 1 });
  cart.setCustomer({ email: "ada@example.com" });
  return { cart, shown: cart.setShippingAddress(ADDRESS) };
}

function assertOrder(order, shown) {
  assert.equal(order.total, shown.totals.total, "Sylius charges what the shopper saw");
  assert.equal(order.shippingTotal, shown.shipping.total);
  assert.deepEqual(order.lines.map((l) => [l.variant, l.quantity, l.total]),
    shown.lineItems.map((l) => [l.sku, l.quantity, l.total]));
}

test("shop API v2, browser-direct: a guest order completed in Sylius at the cart's total", async () => {
  const shop = await sylius();
  const { cart, shown } = shippedCart("v2");
  const sent = [];
  const real = globalThis.fetch;
  globalThis.fetch = (url, init = {}) => {
    sent.push({ url: String(url), method: init.method, headers: { ...init.headers } });
    return real(url, init);
  };
  let order;
  try {
    order = await cart.checkout({ endpoint: shop.url, protocol: "sylius-shop", paymentMethodId: "bank_transfer", sleep: () => Promise.resolve() });
  } finally {
    globalThis.fetch = real;
  }
  assert.equal(order.protocol, "sylius-shop");
  assert.equal(shop.orders.length, 1);
  assertOrder(shop.orders[0], shown);
  assert.equal(order.orderId, shop.orders[0].tokenValue);
  assert.equal(order.orders[0].orderNumber, shop.orders[0].number);
  assert.ok(sent.every((r) => !("Authorization" in r.headers)), "no token at all");
  assert.deepEqual(shop.violations, []);
});

test("shop API v2: a coupon goes with the address, and Sylius's discount and free-shipping rule give the cart's total", async () => {
  const shop = await sylius();
  // 2 mugs + a cookbook, WELCOME10: items 50.75, Sylius's -10 % rounds to -5.08 and is spread over the
  // items (ProportionalIntegerDistributor), shipping 4.99 (58.05 after the discount is below the 60.00
  // of free shipping): 50.66.
  for (const [items, total] of [[[["MUG", 2], ["BOOK", 1]], 5066], [[["MUG", 5]], 6304]]) {
    const cart = Cart.open({ catalog, storage: memoryStorage(), storageKey: `v2-code-${total}`, currency: "EUR", country: "DE" });
    for (const [productId, quantity] of items) cart.addItem({ productId, quantity });
    cart.setCustomer({ email: "ada@example.com" });
    cart.setShippingAddress(ADDRESS);
    const shown = cart.applyCode("WELCOME10");
    assert.equal(shown.totals.total, total);
    const before = shop.orders.length;
    await cart.checkout({ endpoint: shop.url, protocol: "sylius-shop", paymentMethodId: "bank_transfer", sleep: () => Promise.resolve() });
    const order = shop.orders[before];
    assert.equal(order.total, total);
    assert.equal(order.couponCode, "WELCOME10");
  }
  assert.deepEqual(shop.violations, []);
});

test("shop API v2 through the relay", async () => {
  const shop = await sylius();
  const server = await relayTo({ protocol: "sylius-shop", endpoint: shop.url, paymentMethod: "bank_transfer" }, {});
  const { cart, shown } = shippedCart("v2-relay");
  const order = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() });
  assert.equal(order.upstream.protocol, "sylius-shop");
  assert.equal(shop.orders.length, 1);
  assertOrder(shop.orders[0], shown);
  assert.deepEqual(shop.violations, []);
});

test("admin API v1 through the relay: every checkout step, the order completed, the admin credentials never leave the server", async () => {
  const shop = await sylius();
  const server = await relayTo({
    protocol: "sylius", endpoint: shop.url, channel: "WEB", paymentMethod: "bank_transfer",
    auth: { type: "password", tokenUrl: `${shop.url}/api/oauth/v2/token`, clientId: ADMIN.clientId,
      clientSecret: "${SYLIUS_CLIENT_SECRET}", username: ADMIN.username, password: "${SYLIUS_PASSWORD}" },
  }, { SYLIUS_CLIENT_SECRET: ADMIN.clientSecret, SYLIUS_PASSWORD: ADMIN.password });
  const { cart, shown } = shippedCart("v1-relay");
  const order = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() });
  assert.equal(order.upstream.protocol, "sylius");
  assert.equal(shop.orders.length, 1);
  assertOrder(shop.orders[0], shown);
  assert.equal(order.confirmationNumber, shop.orders[0].number);
  assert.deepEqual(shop.violations, []);
  const log = server.log();
  assert.ok(!log.includes(ADMIN.password) && !log.includes(ADMIN.clientSecret), "no credential in the log");
});

test("admin API v1 with wrong credentials: a refusal, no order, no secret in the answer", async () => {
  const shop = await sylius();
  const server = await relayTo({
    protocol: "sylius", endpoint: shop.url, channel: "WEB", paymentMethod: "bank_transfer",
    auth: { type: "password", tokenUrl: `${shop.url}/api/oauth/v2/token`, clientId: ADMIN.clientId,
      clientSecret: "wrong-secret-3", username: ADMIN.username, password: "wrong-password-3" },
  }, {});
  const { cart } = shippedCart("v1-wrong");
  const error = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", retries: 0, sleep: () => Promise.resolve() })
    .then(() => assert.fail("ordered with wrong credentials"), (e) => e);
  assert.equal(error.code, "UPSTREAM_REFUSED");
  assert.ok(!JSON.stringify(error).includes("wrong-secret-3") && !JSON.stringify(error).includes("wrong-password-3"));
  assert.equal(shop.orders.length, 0);
  assert.equal(cart.view().lineItems.length, 2, "the cart is kept");
});
