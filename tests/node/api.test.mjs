// The JavaScript API of the built package (pkg/) in Node, where there is no localStorage: server-side
// rendering and tests use it like this. Complements tests/web.rs (the browser) and the conformance run.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { initSync, Cart, isCartError } = await import(path.join(root, "pkg/wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(root, "pkg/wasm_cart_bg.wasm")) });

const catalog = {
  version: "node#1",
  taxCategories: [{ id: "std", rates: [{ country: "DE", rate: "0.19" }] }],
  products: [
    { id: "mug", name: "Mug", taxCategory: "std", prices: [{ currency: "EUR", amount: "10.00" }] },
    { id: "tee", name: "Tee", taxCategory: "std", prices: [{ currency: "EUR", amount: "20.00" }] },
  ],
};
const microtask = () => new Promise((resolve) => setTimeout(resolve, 0));

function memoryStorage() {
  const map = new Map();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), removeItem: (k) => void map.delete(k) };
}

test("without localStorage the cart lives in memory, silently", async () => {
  assert.equal(typeof globalThis.localStorage, "undefined");
  const cart = Cart.open({ catalog, currency: "EUR", country: "DE" });
  const errors = [];
  cart.on("error", (e) => errors.push(e));
  await microtask();
  assert.equal(cart.persistence, "memory");
  assert.deepEqual(errors, []);
  assert.equal(cart.addItem({ productId: "mug", quantity: 3 }).totals.total, 3000);
  cart.free();
});

test("a custom storage persists and reloads, catalog included", () => {
  const storage = memoryStorage();
  const a = Cart.open({ catalog, storage, storageKey: "c", currency: "EUR" });
  assert.equal(a.persistence, "custom");
  a.addItem({ productId: "tee" });
  const b = Cart.open({ storage, storageKey: "c" });
  assert.equal(b.view().lineItems[0].productId, "tee");
  assert.deepEqual([...storage.map.keys()].sort(), ["c", "c:catalog"]);
});

test("view and subscribe work unbound; views are stable until a change", () => {
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR" });
  const { view, subscribe } = cart;
  const seen = [];
  const off = subscribe(() => seen.push(view()));
  const v1 = cart.addItem({ productId: "mug" });
  assert.equal(view(), v1);
  assert.equal(view(), view());
  assert.deepEqual(seen, [v1]);
  off();
  off(); // idempotent
  cart.addItem({ productId: "tee" });
  assert.equal(seen.length, 1);
  assert.equal(cart.view, view, "the same bound function every time");
});

test("a change rebuilds only the lines it touched; the rest keep their objects; views are frozen", () => {
  const storage = memoryStorage();
  const cart = Cart.open({ catalog, storage, storageKey: "inc", currency: "EUR", country: "DE" });
  cart.addItem({ productId: "mug" });
  const before = cart.addItem({ productId: "tee", quantity: 2 });
  const [mug, tee] = before.lineItems;
  const after = cart.changeQuantity(tee.id, 3);
  assert.notEqual(after, before);
  assert.equal(after.lineItems[0], mug, "the untouched line is the same object");
  assert.notEqual(after.lineItems[1], tee);
  assert.equal(after.lineItems[1].quantity, 3);
  assert.equal(tee.quantity, 2, "the previous view is left as it was");
  // Removing the first line shifts the second: it still keeps its object.
  const shifted = cart.removeItem(mug.id);
  assert.equal(shifted.lineItems.length, 1);
  assert.equal(shifted.lineItems[0], after.lineItems[1]);
  // What the slots assemble equals a view built from nothing (another cart on the same storage).
  const fresh = Cart.open({ storage, storageKey: "inc" });
  assert.deepEqual(JSON.parse(JSON.stringify(fresh.view())), JSON.parse(JSON.stringify(shifted)));
  // Frozen all the way down: the view cannot be edited behind the cart's back.
  for (const object of [shifted, shifted.totals, shifted.lineItems, shifted.lineItems[0], shifted.totals.taxes[0]]) {
    assert.ok(Object.isFrozen(object));
  }
  assert.throws(() => { "use strict"; shifted.totals.total = 1; }, TypeError);
  assert.equal(cart.view().totals.total, shifted.totals.total);
  fresh.free();
  cart.free();
});

test("listeners may call back into the cart, and one that throws does not break the others", () => {
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR" });
  const reported = [];
  const original = console.error;
  console.error = (e) => reported.push(e);
  try {
    const calls = [];
    cart.on("change", () => { throw new Error("listener bug"); });
    cart.on("change", (v) => {
      calls.push(v.version);
      assert.equal(cart.view(), v);
      if (v.version === 1) cart.addItem({ productId: "tee" }); // a nested change
    });
    const returned = cart.addItem({ productId: "mug" });
    assert.deepEqual(calls, [1, 2]);
    assert.equal(cart.view().version, 2);
    assert.equal(returned.version, 2, "the call returns the cart's current view");
    assert.equal(reported.length, 2);
    assert.equal(reported[0].message, "listener bug");
  } finally {
    console.error = original;
  }
});

test("errors are CartErrors with a code and details; refused calls change nothing", () => {
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR", now: () => Date.parse("2026-11-21T12:00:00Z") });
  cart.addItem({ productId: "mug" });
  const before = cart.view();
  for (const [call, code] of [
    [() => cart.addItem({ productId: "mug", quantity: 10000 }), "INVALID_QUANTITY"],
    [() => cart.changeQuantity(42, 1), "INVALID_REQUEST"],
    [() => cart.apply("clear"), "INVALID_REQUEST"],
    [() => cart.apply([{ action: "clear" }], { expectedVersion: -1 }), "INVALID_REQUEST"],
    [() => cart.apply([{ action: "clear" }], { expectedVersion: 7 }), "CONCURRENT_MODIFICATION"],
    [() => cart.setCatalog({ products: "none" }), "INVALID_CATALOG"],
    [() => cart.on("change", "not a function"), "INVALID_REQUEST"],
    [() => Cart.open({ catalog, storage: "memory", currency: "EUR", now: () => "noon" }), "INVALID_REQUEST"],
    [() => Cart.open({ catalog, storage: "memory", currency: "XXY" }), "INVALID_REQUEST"],
    [() => Cart.fromSnapshot("{}", { catalog, storage: "memory" }), "INVALID_SNAPSHOT"],
  ]) {
    assert.throws(call, (e) => {
      assert.ok(e instanceof Error && isCartError(e), String(e));
      assert.equal(e.name, "CartError");
      assert.equal(e.code, code, e.message);
      assert.equal(typeof e.details, "object");
      assert.notEqual(e.details, null);
      return true;
    });
  }
  assert.equal(cart.view(), before);
  assert.equal(isCartError(new Error("x")), false);
  assert.equal(isCartError(null), false);
});

test("a snapshot moves a cart between contexts (server render -> client)", () => {
  const now = () => Date.parse("2026-11-21T12:00:00Z");
  const server = Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE", now });
  server.addItem({ productId: "mug", quantity: 2 });
  const text = server.snapshot();
  assert.equal(JSON.parse(text).schema, 1);
  const client = Cart.fromSnapshot(text, { catalog, storage: "memory", now });
  assert.deepEqual(client.view(), server.view());
});

test("misuse gets codes: before init, after free, merge with something that is not a cart", async () => {
  // A second instance of the module (another URL), never initialized.
  const fresh = await import(path.join(root, "pkg/wasm_cart.js") + "?uninitialized");
  assert.throws(() => fresh.Cart.open({ catalog, currency: "EUR" }), (e) => fresh.isCartError(e) && e.code === "NOT_INITIALIZED");
  assert.equal(fresh.isCartError(new Error("plain")), false, "isCartError works before init");

  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR" });
  assert.throws(() => cart.merge({ not: "a cart" }), (e) => isCartError(e) && e.code === "INVALID_REQUEST" && e.details.field === "other");
  const other = Cart.open({ catalog, storage: "memory", storageKey: "other", currency: "EUR" });
  other.free();
  assert.throws(() => cart.merge(other), (e) => isCartError(e) && e.code === "CART_FREED");
  const { view } = cart;
  cart.free();
  for (const call of [() => cart.addItem({ productId: "mug" }), () => cart.view(), () => view(), () => cart.persistence]) {
    assert.throws(call, (e) => isCartError(e) && e.code === "CART_FREED" && e instanceof Error);
  }
  await assert.rejects(cart.checkout({ endpoint: "/api/v1" }), (e) => isCartError(e) && e.code === "CART_FREED");
});

test("a listener that changes its own cart runs after the change, and one that never stops is stopped", async () => {
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR" });
  const errors = [];
  cart.on("error", (e) => errors.push(e.code));
  let depth = 0;
  let deepest = 0;
  cart.subscribe(() => {
    depth++;
    deepest = Math.max(deepest, depth);
    try {
      cart.addItem({ productId: "mug" });
    } catch (e) {
      assert.ok(isCartError(e) && e.code === "LISTENER_LOOP");
    }
    depth--;
  });
  const first = cart.addItem({ productId: "mug" });
  assert.equal(first, cart.view(), "the cart's view once its listeners ran");
  assert.equal(deepest, 1, "never recursive");
  assert.deepEqual(errors, ["LISTENER_LOOP"]);
  assert.equal(cart.view().lineItems[0].quantity, 101);
  const another = Cart.open({ catalog, storage: "memory", storageKey: "x", currency: "EUR" });
  assert.equal(another.addItem({ productId: "tee" }).totals.total, 2000, "the module lives on");
});

test("two carts on one custom storage and key follow each other, as two tabs would", async () => {
  const storage = memoryStorage();
  const a = Cart.open({ catalog, storage, storageKey: "shared", currency: "EUR" });
  const b = Cart.open({ catalog, storage, storageKey: "shared", currency: "EUR" });
  assert.equal(a.view().id, b.view().id);
  const heard = [];
  b.subscribe((v) => heard.push(v.lineItems.length));
  a.addItem({ productId: "mug" });
  assert.equal(b.view().lineItems.length, 1, "b shows a's change");
  assert.deepEqual(heard, [1], "b's subscribers were told");
  b.addItem({ productId: "tee", quantity: 2 });
  assert.deepEqual(a.view().lineItems.map((l) => [l.productId, l.quantity]), [["mug", 1], ["tee", 2]]);
  const stored = JSON.parse(storage.map.get("shared"));
  assert.equal(stored.cart.lineItems.length, 2);
});

test("several deliveries cross the boundary frozen; setShippingMethod chooses and clears by profile", () => {
  const shipped = {
    ...catalog,
    products: [
      ...catalog.products,
      { id: "sofa", name: "Sofa", taxCategory: "std", shippingProfile: "bulky", prices: [{ currency: "EUR", amount: "500.00" }] },
    ],
    shippingMethods: [
      { id: "parcel", name: "Parcel", taxCategory: "std", default: true, rates: [{ currency: "EUR", price: "4.90" }] },
      { id: "freight", name: "Freight", taxCategory: "std", default: true, shippingProfile: "bulky", rates: [{ currency: "EUR", price: "49.00" }] },
      { id: "glove", name: "White glove", taxCategory: "std", shippingProfile: "bulky", rates: [{ currency: "EUR", price: "99.00" }] },
    ],
  };
  const cart = Cart.open({ catalog: shipped, storage: "memory", currency: "EUR", country: "DE" });
  cart.addItem({ productId: "mug" });
  let view = cart.addItem({ productId: "sofa" });
  const chosen = (v) => v.deliveries.map((d) => [d.methodId, d.shippingProfile ?? null, d.lineItemIds]);
  assert.deepEqual(chosen(view), [["parcel", null, ["li_1"]], ["freight", "bulky", ["li_2"]]]);
  assert.equal(view.shipping, view.deliveries[0].methodId === view.shipping.methodId ? view.shipping : null);
  assert.equal(view.totals.shippingTotal, 490 + 4900);
  assert.ok(Object.isFrozen(view.deliveries) && Object.isFrozen(view.deliveries[1].lineItemIds));
  view = cart.setShippingMethod("glove");
  assert.deepEqual(chosen(view).map((d) => d[0]), ["parcel", "glove"]);
  view = cart.setShippingMethod(null, "bulky");
  assert.deepEqual(chosen(view).map((d) => d[0]), ["parcel", "freight"]);
  assert.throws(() => cart.setShippingMethod("parcel", "bulky"), (e) => isCartError(e) && e.code === "INVALID_REQUEST" && e.details.field === "shippingProfile");
  cart.free();
});
