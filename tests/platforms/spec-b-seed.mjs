// A SPEC-B server exactly as seed 001 writes it (/work/shared/seeds/001_52fdd668cc24b0e3.txt, "SPEC-B:
// Telecom Shopping Cart API Specification"), knowing nothing of wasm-cart: it creates its own carts
// (`POST /api/v1/carts` -> 201 with `id`), adds items (`POST /carts/:cartId/items` {productId, quantity,
// metadata} -> 200 with the cart), removes them, and checks a cart out (`POST /carts/:cartId/checkout`
// {customerId, paymentMethodId, shippingAddress?, billingAddress?, promoCode?} -> 200 {orderId, status,
// confirmationNumber, estimatedDelivery}). Errors are the seed's `{error: {code, message, details?}}`
// with its statuses (404 CART_NOT_FOUND / ITEM_NOT_FOUND, 400 INVALID_REQUEST / INVALID_ITEM /
// EMPTY_CART, 402 PAYMENT_FAILED, 422 INVALID_PROMO_CODE / PRODUCT_UNAVAILABLE). The seed's request
// header `X-Idempotency-Key` makes a repeated checkout answer the stored response.
//
// Cart amounts are the seed's numbers in major units: `subtotal` the items' `totalPrice`s, `tax` the tax
// in them (prices include tax when the catalog says so, as the seed's example does not say otherwise),
// `total`. The seed has no shipping: tests use goods that do not ship.
import http from "node:http";
import { randomBytes } from "node:crypto";

const minor = (amount) => {
  const [whole, fraction = ""] = String(amount).split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0").slice(0, 2));
};
const major = (cents) => cents / 100;
const id = (prefix) => `${prefix}_${randomBytes(8).toString("hex")}`;

export async function startSpecBSeed({ catalog, currency = "EUR", country = "DE" }) {
  const products = new Map(catalog.products.map((p) => [p.id, p]));
  const rateOf = (product) => {
    const category = catalog.taxCategories.find((c) => c.id === product.taxCategory);
    const rate = category?.rates.find((r) => !r.country || r.country === country);
    return rate ? Number(rate.rate) : 0;
  };
  const gross = catalog.pricing?.pricesIncludeTax ?? true;
  const carts = new Map();
  const orders = [];
  const keys = new Map();
  const requests = [];

  function view(cart) {
    let subtotal = 0;
    let tax = 0;
    const items = cart.items.map((item) => {
      const product = products.get(item.productId);
      const unit = minor(product.prices.find((p) => p.currency === currency).amount);
      const total = unit * item.quantity;
      const rate = rateOf(product);
      tax += gross ? Math.round(total - total / (1 + rate)) : Math.round(total * rate);
      subtotal += total;
      return { id: item.id, productId: item.productId, productName: product.name, productType: product.kind ?? "device",
        quantity: item.quantity, unitPrice: major(unit), totalPrice: major(total), ...(item.metadata ? { metadata: item.metadata } : {}) };
    });
    const total = gross ? subtotal : subtotal + tax;
    return { id: cart.id, items, subtotal: major(subtotal), tax: major(tax), total: major(total), createdAt: cart.createdAt,
      expiresAt: cart.expiresAt, ...(cart.customerId ? { customerId: cart.customerId } : {}) };
  }

  const fail = (res, status, code, message, details) =>
    send(res, status, { error: { code, message, ...(details ? { details } : {}) } });

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url, "http://x");
    requests.push({ method: req.method, path: url.pathname, key: req.headers["x-idempotency-key"] });
    let body = {};
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return fail(res, 400, "INVALID_REQUEST", "the body is not JSON");
      }
    }
    const m = (re) => url.pathname.match(re);
    let match;
    if (req.method === "POST" && url.pathname === "/api/v1/carts") {
      const now = new Date();
      const cart = { id: id("cart"), items: [], customerId: body.customerId, createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 30 * 60 * 1000).toISOString(), status: "active" };
      carts.set(cart.id, cart);
      return send(res, 201, view(cart));
    }
    if ((match = m(/^\/api\/v1\/carts\/([^/]+)$/)) && req.method === "GET") {
      const cart = carts.get(decodeURIComponent(match[1]));
      return cart ? send(res, 200, view(cart)) : fail(res, 404, "CART_NOT_FOUND", "cart not found");
    }
    if ((match = m(/^\/api\/v1\/carts\/([^/]+)\/items$/)) && req.method === "POST") {
      const cart = carts.get(decodeURIComponent(match[1]));
      if (!cart || cart.status !== "active") return fail(res, 404, "CART_NOT_FOUND", "cart not found");
      const product = products.get(body.productId);
      if (!product) return fail(res, 400, "INVALID_ITEM", `unknown product ${body.productId}`, { productId: body.productId });
      if (!Number.isInteger(body.quantity) || body.quantity < 1) return fail(res, 400, "INVALID_ITEM", "quantity", { field: "quantity" });
      if (product.available === false) return fail(res, 422, "PRODUCT_UNAVAILABLE", "unavailable");
      cart.items.push({ id: id("item"), productId: body.productId, quantity: body.quantity, metadata: body.metadata });
      return send(res, 200, view(cart));
    }
    if ((match = m(/^\/api\/v1\/carts\/([^/]+)\/items\/([^/]+)$/)) && req.method === "DELETE") {
      const cart = carts.get(decodeURIComponent(match[1]));
      if (!cart) return fail(res, 404, "CART_NOT_FOUND", "cart not found");
      const before = cart.items.length;
      cart.items = cart.items.filter((i) => i.id !== decodeURIComponent(match[2]));
      return before === cart.items.length ? fail(res, 404, "ITEM_NOT_FOUND", "item not found") : send(res, 200, view(cart));
    }
    if ((match = m(/^\/api\/v1\/carts\/([^/]+)\/checkout$/)) && req.method === "POST") {
      const key = req.headers["x-idempotency-key"];
      if (key && keys.has(key)) return send(res, 200, keys.get(key));
      const cart = carts.get(decodeURIComponent(match[1]));
      if (!cart || cart.status !== "active") return fail(res, 404, "CART_NOT_FOUND", "cart not found");
      if (!body.customerId) return fail(res, 400, "INVALID_REQUEST", "customerId is required", { field: "customerId" });
      if (!body.paymentMethodId) return fail(res, 400, "INVALID_REQUEST", "paymentMethodId is required", { field: "paymentMethodId" });
      if (!cart.items.length) return fail(res, 400, "EMPTY_CART", "the cart is empty");
      if (body.promoCode) return fail(res, 422, "INVALID_PROMO_CODE", "unknown promo code", { promoCode: body.promoCode });
      if (body.paymentMethodId === "pm_card_declined") return fail(res, 402, "PAYMENT_FAILED", "declined");
      cart.status = "ordered";
      const date = new Date().toISOString().slice(0, 10);
      const answer = { orderId: id("ord"), status: "confirmed", confirmationNumber: `CONF-${date}-${randomBytes(3).toString("hex").toUpperCase()}`,
        estimatedDelivery: new Date(Date.now() + 4 * 86400000).toISOString() };
      orders.push({ ...answer, cart: view(cart), customerId: body.customerId, paymentMethodId: body.paymentMethodId,
        shippingAddress: body.shippingAddress, billingAddress: body.billingAddress });
      if (key) keys.set(key, answer);
      return send(res, 200, answer);
    }
    return fail(res, 404, "NOT_FOUND", "no such endpoint");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, api: `${url}/api/v1`, carts, orders, requests, stop: () => new Promise((r) => server.close(r)) };
}

function send(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "X-Request-ID": randomBytes(8).toString("hex") });
  res.end(JSON.stringify(body));
}
