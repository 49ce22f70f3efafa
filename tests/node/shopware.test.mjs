// Shopware Store API checkout from the package (browser-direct with the sales channel's public access
// key). The emulator (tests/platforms/shopware.mjs) validates every request and every response against
// the official Store API OpenAPI schema shipped in @shopware/api-client (api-types/storeApiSchema.json,
// Shopware 6.7.13) and behaves as Shopware's source does (cited there): access key, context-token
// rotation, guest registration, notices vs blocking errors, 403 for anonymous orders, and its CORS
// allowed headers. `violations` collects schema violations (either side) and any header a browser's
// preflight would refuse; it stays empty.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, memoryStorage } from "../platforms/cart-server.mjs";
import { startShopware } from "../platforms/shopware.mjs";

const { initSync, Cart } = await import(path.join(ROOT, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(ROOT, "pkg/wasm_cart_bg.wasm")) });
const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/platforms/catalog.json"), "utf8"));
// A code the engine knows and the shop does not (the emulator seeds percentage promotions only).
catalog.promotions.push({ id: "fiveoff", code: "FIVEOFF", target: { type: "items" }, value: { type: "absolute", amount: "5.00" }, currency: "EUR" });

const STOREFRONT = "http://storefront.test";
const ADDRESS = { country: "DE", firstName: "Ada", lastName: "Lovelace", streetName: "Unter den Linden", streetNumber: "5",
  postalCode: "10117", city: "Berlin" };

const stops = [];
after(() => stops.reverse().forEach((stop) => stop()));

async function shopware() {
  const shop = await startShopware({ catalog, domains: [STOREFRONT] });
  stops.push(() => shop.stop());
  return shop;
}

function cartOf(items, code) {
  const cart = Cart.open({ catalog, storage: memoryStorage(), storageKey: "sw", currency: "EUR", country: "DE", locale: "de-DE" });
  for (const [productId, variantId, quantity] of items) cart.addItem({ productId, variantId, quantity });
  cart.setCustomer({ email: "ada@example.com" });
  const shown = cart.setShippingAddress(ADDRESS);
  return { cart, shown: code ? cart.applyCode(code) : shown };
}

const options = (shop, extra = {}) => ({
  endpoint: shop.url, protocol: "shopware", accessKey: shop.accessKey, storefrontUrl: STOREFRONT,
  sleep: () => Promise.resolve(), ...extra,
});

test("a guest order: registered, context set, items and the code added, ordered at the cart's total", async () => {
  const shop = await shopware();
  // 2 mugs + a cookbook with WELCOME10: Shopware's promotion line and its taxes give the cart's 50.66.
  const { cart, shown } = cartOf([["MUG", undefined, 2], ["BOOK", undefined, 1]], "WELCOME10");
  assert.equal(shown.totals.total, 5066);
  const order = await cart.checkout(options(shop));
  assert.equal(order.protocol, "shopware");
  assert.equal(shop.orders.length, 1);
  const placed = shop.orders[0];
  assert.equal(order.orderId, placed.id);
  assert.equal(Math.round(placed.total * 100), shown.totals.total, "Shopware charges what the shopper saw");
  assert.equal(Math.round(placed.shipping * 100), shown.shipping.total);
  assert.deepEqual(
    placed.lines.filter((l) => l.type === "product").map((l) => [l.quantity, Math.round(l.totalPrice * 100)]),
    shown.lineItems.map((l) => [l.quantity, l.baseTotal]),
  );
  assert.deepEqual(shop.violations, [], "every request and answer matched the schema; no header a browser would be refused");
});

test("a big mug and an e-book: each line by its Shopware id, shipping as the shop computes it", async () => {
  const shop = await shopware();
  const { cart, shown } = cartOf([["MUG", 2, 1], ["EBOOK", undefined, 1]]);
  await cart.checkout(options(shop));
  assert.equal(Math.round(shop.orders[0].total * 100), shown.totals.total);
  assert.equal(Math.round(shop.orders[0].shipping * 100), 499);
  assert.deepEqual(shop.violations, []);
});

// Shopware's free-shipping threshold (`freeAbove`) is compared with the shippable products' total before
// discounts; the engine compares the whole subtotal after them. Where that decides, the totals differ and
// the checkout refuses truthfully (issue 11's Shopware profile takes over Shopware's rule).
test("free shipping decided differently: PRICE_CHANGED names the shipping, nothing is ordered", async () => {
  const shop = await shopware();
  const cases = [
    // 64.50 - 6.45 = 58.05 < 60.00 for the engine; 64.50 >= 60.00 for Shopware.
    { items: [["MUG", undefined, 5]], code: "WELCOME10", engine: 499, shopware: 0 },
    // 83.88 >= 60.00 for the engine; the shippable mug alone, 14.90, for Shopware.
    { items: [["MUG", 2, 1], ["EBOOK", undefined, 2], ["COURSE", undefined, 1]], engine: 0, shopware: 499 },
  ];
  for (const { items, code, engine, shopware: charged } of cases) {
    const { cart, shown } = cartOf(items, code);
    assert.equal(shown.shipping.total, engine);
    const error = await cart.checkout(options(shop)).then(() => assert.fail("ordered at another total"), (e) => e);
    assert.equal(error.code, "PRICE_CHANGED");
    assert.deepEqual(error.details.shipping, { expected: engine, actual: charged });
    assert.equal(cart.view().lineItems.length, items.length, "the cart is kept");
  }
  assert.equal(shop.orders.length, 0);
});

test("a code the shop does not know: INVALID_PROMO_CODE, not an order without its discount", async () => {
  const shop = await shopware();
  const { cart } = cartOf([["MUG", undefined, 1]], "FIVEOFF");
  const error = await cart.checkout(options(shop)).then(() => assert.fail(), (e) => e);
  assert.equal(error.code, "INVALID_PROMO_CODE");
  assert.equal(shop.orders.length, 0);
});

test("refusals: no access key before any request; a wrong one, and an anonymous context, as Shopware answers them", async () => {
  const shop = await shopware();
  const { cart } = cartOf([["MUG", undefined, 1]]);
  const noKey = await cart.checkout(options(shop, { accessKey: undefined })).then(() => assert.fail(), (e) => e);
  assert.deepEqual([noKey.code, noKey.details.field], ["INVALID_REQUEST", "accessKey"]);
  const wrongKey = await cart.checkout(options(shop, { accessKey: "SWSCNOTTHEKEY" })).then(() => assert.fail(), (e) => e);
  assert.equal(wrongKey.code, "CHECKOUT_FAILED");
  assert.ok([401, 412].includes(wrongKey.status), `status ${wrongKey.status}`);
  // A context token of nobody logged in: Shopware refuses the order itself (403).
  const anonymous = await cart.checkout(options(shop, { token: "0123456789abcdef0123456789abcdef" })).then(() => assert.fail(), (e) => e);
  assert.equal(anonymous.code, "CHECKOUT_FAILED");
  assert.equal(anonymous.details.remoteCode, "CHECKOUT__CUSTOMER_NOT_LOGGED_IN");
  assert.equal(shop.orders.length, 0);
});

test("through cart-server's relay: the same guest order, placed by the server", async () => {
  const { startCartServer } = await import("../platforms/cart-server.mjs");
  const shop = await shopware();
  const relay = { protocol: "shopware", endpoint: shop.url, accessKey: "${SW_ACCESS_KEY}", storefrontUrl: STOREFRONT };
  const server = await startCartServer({ catalog, relay, env: { SW_ACCESS_KEY: shop.accessKey } });
  stops.push(server.stop);
  const { cart, shown } = cartOf([["MUG", undefined, 2], ["BOOK", undefined, 1]], "WELCOME10");
  const order = await cart.checkout({ endpoint: server.api, paymentMethodId: "pm_card_visa", sleep: () => Promise.resolve() });
  assert.equal(order.upstream.protocol, "shopware");
  assert.equal(order.upstream.orders[0].orderId, shop.orders[0].id);
  assert.equal(Math.round(shop.orders[0].total * 100), shown.totals.total);
  assert.deepEqual(shop.violations, []);
});
