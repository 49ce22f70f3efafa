// The catalog every change → view figure is measured on (Node, Chromium, cart-server): 250 products,
// two tax rates, an automatic and a code promotion, a shipping method. Shared by the page and the driver.
export const catalog = {
  version: "bench",
  taxCategories: [
    { id: "std", rates: [{ country: "DE", rate: "0.19", name: "MwSt 19%" }] },
    { id: "reduced", rates: [{ country: "DE", rate: "0.07", name: "MwSt 7%" }] },
  ],
  products: Array.from({ length: 250 }, (_, i) => ({
    id: `p${i}`, sku: `SKU-${i}`, name: `Product number ${i}`, kind: i % 3 ? "device" : "product",
    vendor: i % 2 ? "acme" : "globex", taxCategory: i % 5 ? "std" : "reduced",
    prices: [{ currency: "EUR", amount: (5 + (i % 40) + 0.99).toFixed(2) }],
  })),
  shippingMethods: [{ id: "standard", name: "Standard", taxCategory: "std", default: true, deliveryDays: { min: 2, max: 4 },
    rates: [{ currency: "EUR", price: "4.99", freeAbove: "100.00" }] }],
  promotions: [
    { id: "ten", label: "10% off devices", target: { type: "items", match: { kinds: ["device"] } }, value: { type: "percentage", percent: "10" } },
    { id: "code", code: "SAVE5", currency: "EUR", target: { type: "items" }, value: { type: "absolute", amount: "5.00" } },
  ],
};

/** The actions that fill a cart with `lines` lines (one attribute each) and a code. */
export function fill(lines) {
  return [
    ...Array.from({ length: lines }, (_, i) => ({ action: "addLineItem", productId: `p${i}`, quantity: 1 + (i % 4), attributes: { note: `line ${i}` } })),
    { action: "addDiscountCode", code: "SAVE5" },
  ];
}

/** Times `change()` `samples` times (after `warmup` untimed calls) with `clock()` in ms; `between()`
 * runs untimed after each call (a turn of the event loop in the page). Returns p50 / p95 in µs. */
export async function measure(change, { samples, warmup = 20, clock, between = async () => {} }) {
  for (let i = 0; i < warmup; i++) { change(i); await between(); }
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t0 = clock();
    change(i);
    times.push((clock() - t0) * 1000);
    await between();
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p95: at(0.95) };
}

/** A catalog of `n` products shaped like a real shop's (two variants on every tenth, a description,
 * metadata), for timing `Cart.open` on big catalogs. */
export function bigCatalog(n) {
  return {
    ...catalog,
    version: `big-${n}`,
    products: Array.from({ length: n }, (_, i) => ({
      id: `p${i}`, sku: `SKU-${i}`, name: `Product number ${i}`, kind: i % 3 ? "device" : "product",
      vendor: i % 2 ? "acme" : "globex", taxCategory: i % 5 ? "std" : "reduced",
      description: `A sturdy, well-made product number ${i}, for everyday use at home and at work.`,
      metadata: { brand: i % 2 ? "Acme" : "Globex", colour: ["red", "blue", "green"][i % 3] },
      prices: [{ currency: "EUR", amount: (5 + (i % 40) + 0.99).toFixed(2) }],
      ...(i % 10 === 0 ? { variants: [{ id: 1, sku: `SKU-${i}-S`, name: "Small" }, { id: 2, sku: `SKU-${i}-L`, name: "Large" }] } : {}),
    })),
  };
}
