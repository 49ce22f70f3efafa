// Compiled with `tsc --noEmit --strict -p tests/types` (make test-types) against pkg/wasm_cart.d.ts:
// everything a storefront writes against the package must type-check, and the mistakes marked
// `@ts-expect-error` must not.
import init, { Cart, isCartError, isCheckoutError } from "wasm-cart";
import type {
  ArchivedOrder,
  CartAction,
  CartError,
  CartErrorCode,
  CartEvents,
  CartOptions,
  CartView,
  Catalog,
  CheckoutError,
  CheckoutOptions,
  CheckoutResult,
  OrderedEvent,
  PendingCheckout,
  PriceDifference,
  PriceDifferences,
  LineView,
  MergeReport,
  Persistence,
  StorageLike,
} from "wasm-cart";

const catalog: Catalog = {
  version: "2026-11-21T10:00:00Z#42",
  pricing: { pricesIncludeTax: true, roundingMode: "halfEven", taxCalculation: "lineItem" },
  currencies: { CHF: { cashRounding: "0.05" } },
  taxCategories: [{ id: "standard", rates: [{ country: "DE", rate: "0.19", name: "MwSt 19%" }] }],
  products: [
    {
      id: "MS-365-BUS-STD",
      name: "Microsoft 365 Business Standard",
      kind: "plan",
      taxCategory: "standard",
      shippable: false,
      prices: [{ currency: "EUR", amount: "12.50", minQuantity: 10, customerGroup: "b2b" }],
      requiredAttributes: ["domain"],
      metadata: { planType: "postpaid", contractLength: 24 },
      variants: [{ id: 2, sku: "MS-365-BUS-STD-ANNUAL", stock: 40 }],
    },
  ],
  rules: [
    { type: "requires", when: { kinds: ["addon"] }, requires: { kinds: ["plan"] } },
    { type: "exclusive", metadataKey: "planType" },
    { type: "maxLines", match: { kinds: ["plan"] }, max: 1 },
  ],
  shippingMethods: [
    { id: "standard", name: "Standard", taxCategory: "standard", default: true,
      rates: [{ currency: "EUR", countries: ["DE"], price: "4.99", freeAbove: "50.00" }] },
  ],
  promotions: [
    { id: "summer", code: "SUMMER2026", target: { type: "items", match: { kinds: ["device"] } },
      value: { type: "percentage", percent: "10" } },
    { id: "3for2", target: { type: "multiBuy", trigger: 3, discounted: 1, selection: "cheapest" },
      value: { type: "absolute", amount: "5.00", distribution: "each" } },
  ],
};

// Pricing profiles and the promotion, tax and shipping features of docs/PRICING.md.
const sylius: Catalog = {
  pricing: { profile: "sylius", roundingMode: "halfOdd", taxCalculation: "perRate" },
  taxCategories: [{ id: "s", rates: [{ rate: "0.0825", includedInPrice: false, subRates: [{ name: "state", rate: "0.0625" }, { name: "city", rate: "0.02" }] }] }],
  products: [{ id: "x", name: "X", taxCategory: "s", weight: "1.5", prices: [{ currency: "USD", amount: "10.00", minimumPrice: "6.00" }] }],
  shippingMethods: [{ id: "m", name: "M", taxCategory: "s", rates: [{ currency: "USD", price: "0", pricePerUnit: "2.00", weightTiers: [{ minWeight: "5", price: "9.00" }], maxWeight: "30" }] }],
  promotions: [
    { id: "a", exclusive: true, currency: "USD", conditions: { when: { all: [{ contains: { match: { productIds: ["x"] }, minQuantity: 2 } }, { not: { emailDomain: ["example.com"] } }] } }, target: { type: "items", match: { minUnitPrice: "5.00" }, maxUnitsPerLine: 1 }, value: { type: "percentage", percent: "10", per: "unit" } },
    { id: "b", group: "best", target: { type: "buyXGetY", buy: { productIds: ["x"] }, buyQuantity: 2, get: { productIds: ["x"] }, getQuantity: 1 }, value: { type: "percentage", percent: "100" } },
    { id: "c", currency: "USD", target: { type: "total" }, value: { type: "absolute", amount: "5.00" } },
  ],
};
// @ts-expect-error no such profile
const badProfile: Catalog = { pricing: { profile: "magento" } };
// @ts-expect-error a predicate has exactly the documented shapes
const badPredicate: Catalog = { promotions: [{ id: "p", conditions: { when: { subtotal: "5" } }, target: { type: "total" }, value: { type: "percentage", percent: "5" } }] };
// @ts-expect-error amounts are decimal strings, never numbers
const badPrice: Catalog = { products: [{ id: "x", name: "X", taxCategory: "s", prices: [{ currency: "EUR", amount: 12.5 }] }] };

const memory: StorageLike = (() => {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
})();

async function main(): Promise<void> {
  await init();
  const options: CartOptions = { catalog, storageKey: "cart", currency: "EUR", country: "DE", now: () => Date.now() };
  const cart = Cart.open(options);
  Cart.open({ catalog: JSON.stringify(catalog), storage: "session", ttlSeconds: 3600 });
  Cart.open({ storage: memory });
  Cart.open();
  // @ts-expect-error storage is "local" | "session" | "memory" or a Storage-like object
  Cart.open({ storage: "indexeddb" });
  // @ts-expect-error now returns epoch milliseconds
  Cart.open({ now: () => new Date() });

  let view: CartView = cart.addItem({ productId: "MS-365-BUS-STD", quantity: 5, attributes: { domain: "example.com" } });
  view = cart.addItem({ sku: "MS-365-BUS-STD-ANNUAL" });
  // @ts-expect-error an item needs a productId or a sku
  cart.addItem({ quantity: 2 });
  const first: LineView | undefined = view.lineItems[0];
  if (first) {
    view = cart.changeQuantity(first.id, 3);
    view = cart.setAttributes(first.id, { domain: "example.org", seats: 3, trial: false, note: null });
    view = cart.removeItem(first.id, 1);
    view = cart.removeItem(first.id);
  }
  view = cart.applyCode("SUMMER2026");
  view = cart.removeCode("SUMMER2026");
  view = cart.setShippingAddress({ country: "DE", city: "Berlin", postalCode: "10115" });
  view = cart.setBillingAddress(null);
  view = cart.setShippingMethod("express");
  view = cart.setShippingMethod(null, "bulky"); // clears the choice of the "bulky" delivery
  const shippedLines: readonly string[] = view.deliveries[0]?.lineItemIds ?? [];
  const profile: string | undefined = view.deliveries[0]?.shippingProfile;
  void shippedLines;
  void profile;
  view = cart.setCustomer({ customerId: "c-1", email: null });
  view = cart.setCatalog(catalog);
  view = cart.clear();

  const actions: CartAction[] = [
    { action: "addLineItem", productId: "MS-365-BUS-STD", quantity: 2 },
    { action: "changeLineItemQuantity", lineItemId: "li_1", quantity: 0 },
    { action: "addCustomLineItem", name: "Setup fee", amount: "25.00", taxCategory: "standard", kind: "custom" },
    { action: "setShippingMethod", shippingMethodId: "express" },
    { action: "setCountry", country: "AT" },
    { action: "acknowledgePriceChanges" },
    { action: "clear" },
  ];
  view = cart.apply(actions, { expectedVersion: view.version });
  view = cart.apply([{ action: "addDiscountCode", code: "SUMMER2026" }]);
  // @ts-expect-error unknown action
  cart.apply([{ action: "teleport" }]);
  // @ts-expect-error changeLineItemQuantity needs a quantity
  cart.apply([{ action: "changeLineItemQuantity", lineItemId: "li_1" }]);
  // @ts-expect-error custom line amounts are decimal strings
  cart.apply([{ action: "addCustomLineItem", name: "Fee", amount: 25, taxCategory: "standard" }]);

  // The view: minor units, plain data, read-only.
  const total: number = view.totals.total;
  const digits: number = view.fractionDigits;
  const shipping: number | undefined = view.shipping?.total;
  const taxRate: string | null | undefined = view.lineItems[0]?.taxRate;
  for (const issue of view.issues) {
    if (issue.code === "PRICE_CHANGED" && issue.severity === "warning") console.log(issue.lineItemId, issue.details);
  }
  // @ts-expect-error views are read-only
  view.totals.total = 0;
  console.log(total, digits, shipping, taxRate, view.status === "active", view.canCheckout);

  // Subscriptions: `view` and `subscribe` are bound, so they can be passed unbound.
  const off: () => void = cart.subscribe((v) => console.log(v.version));
  off();
  useSyncExternalStore(cart.subscribe, cart.view);
  const getSnapshot: () => CartView = cart.view;
  console.log(getSnapshot().id);

  // Events, typed by name.
  const offChange = cart.on("change", (v) => console.log(v.totals.total));
  cart.on("error", (e) => {
    if (e.name === "CartError") {
      const code: CartErrorCode = e.code;
      if (e.code === "INVALID_SNAPSHOT") console.log(code, e.message, e.details.corruptKey, e.details.reason);
      if (e.code === "STORAGE_UNAVAILABLE") {
        const operation: "open" | "read" | "write" | "commit" = e.details.operation; // required for this code
        console.log(operation);
      }
    } else {
      const status: number = e.status; // a queued checkout the server refused
      console.log(e.code, status);
    }
  });
  cart.on("expired", (old) => console.log(old.id));
  cart.on("ordered", (e: OrderedEvent) => console.log(e.cart.status, e.order?.orderId));
  // @ts-expect-error no such event
  cart.on("click", () => {});
  // @ts-expect-error error listeners get a CartError, not a view
  cart.on("error", (v: CartView) => v);
  offChange();
  const payloads: CartEvents["change"] = cart.view();
  console.log(payloads);

  // Errors are real Errors with a code and details.
  try {
    cart.changeQuantity("li_1", 0.5);
  } catch (e: unknown) {
    if (isCartError(e)) {
      const err: CartError = e;
      const name: "CartError" = err.name;
      if (err.code === "INVALID_QUANTITY") console.log(name, err.details.min, err.details.actionIndex, err.stack);
      if (err.code === "ITEM_NOT_FOUND") {
        const id: string | undefined = err.details.lineItemId;
        console.log(id);
      }
      // @ts-expect-error details are narrowed by code: INCOMPATIBLE_ITEMS has no lineItemId
      if (err.code === "INCOMPATIBLE_ITEMS") console.log(err.details.lineItemId);
      // @ts-expect-error without narrowing, only what every code's details have
      console.log(err.details.lineItemId);
      // Codes of misuse and of the browser session are in the union too.
      if (err.code === "CART_FREED" || err.code === "NOT_INITIALIZED" || err.code === "LISTENER_LOOP") console.log(err.message);
      // @ts-expect-error codes are a closed union
      if (err.code === "OOPS") console.log("never");
    }
  }

  const persistence: Persistence = cart.persistence;
  const report: MergeReport | null = cart.lastMergeReport;
  const guest = Cart.open({ storageKey: "guest", storage: "memory", catalog, currency: "EUR" });
  cart.merge(guest, { quantities: "sum" });
  // @ts-expect-error quantities is "max" | "sum"
  cart.merge(guest, { quantities: "min" });
  const copy = Cart.fromSnapshot(cart.snapshot(), { catalog, storage: "memory" });
  console.log(persistence, report, copy.view().id);
  copy.free();
  guest[Symbol.dispose]();

  await checkout(cart);
}

/** Checkout (DESIGN §8): options, results, errors, accepted prices, the pending record, the archive. */
async function checkout(cart: Cart): Promise<void> {
  const options: CheckoutOptions = {
    endpoint: "/api/v1",
    paymentMethodId: "pm_card_visa",
    customerId: "cust_42",
    poNumber: "PO-1",
    whenOffline: "queue",
    timeoutMs: 10_000,
    retries: 3,
    sleep: async (ms) => void ms,
  };
  // @ts-expect-error the endpoint is required
  void cart.checkout({ paymentMethodId: "pm_card_visa" });
  // @ts-expect-error whenOffline is "fail" | "queue"
  void cart.checkout({ endpoint: "/api/v1", whenOffline: "retry" });
  // @ts-expect-error unknown protocol
  void cart.checkout({ endpoint: "/api/v1", protocol: "magento" });
  void cart.checkout({ endpoint: "https://ct.example/p", protocol: "commercetools", token: "t" });
  void cart.checkout({ endpoint: "https://sylius.example", protocol: "sylius-shop", paymentMethodId: "bank_transfer" });
  void cart.checkout({ endpoint: "https://shop.example", protocol: "shopware", accessKey: "SWSC1", storefrontUrl: "https://shop.example" });
  // @ts-expect-error the Sylius admin API runs only in cart-server's relay
  void cart.checkout({ endpoint: "https://sylius.example", protocol: "sylius" });
  // @ts-expect-error the distributor's partner API runs only in cart-server's relay
  void cart.checkout({ endpoint: "https://ion.example", protocol: "distributor-v3" });
  try {
    const result: CheckoutResult = await cart.checkout(options);
    if (result.status === "queued") {
      const key: string = result.idempotencyKey;
      console.log("queued", key);
    } else if (result.protocol === "spec-b") {
      const charged: number = result.view.totals.total;
      const vendors: string[] = result.orders.map((o) => o.vendor);
      console.log(result.orderId, result.confirmationNumber, result.estimatedDelivery, charged, vendors);
      const upstream: string | undefined = result.upstream?.orders[0]?.orderId;
      console.log(upstream, result.upstream?.protocol === "distributor-v3");
    } else {
      console.log(result.protocol, result.orders[0]?.orderNumber, result.remoteTotal);
    }
  } catch (e: unknown) {
    if (isCheckoutError(e)) {
      const err: CheckoutError = e;
      const status: number = err.status;
      if (err.code === "PRICE_CHANGED") {
        const changes: PriceDifferences = cart.acceptServerPrices(err.details);
        const first: PriceDifference | undefined = changes[0];
        console.log(first?.lineItemId, first?.oldUnitPrice, first?.newTotal, changes.total.difference, changes.total.fields);
        cart.acceptServerPrices(err);
        // @ts-expect-error the differences are read-only
        changes.total.newTotal = 0;
      }
      if (err.code === "PAYMENT_FAILED" || err.code === "EMPTY_CART") console.log(status, err.details["declineCode"]);
      if (err.code === "CHECKOUT_FAILED") console.log(err.details["remoteCode"]);
      // @ts-expect-error checkout codes are a closed union: a typo does not compile
      if (err.code === "PRICE_CHANGD") console.log("never");
    }
  }
  const pending: PendingCheckout | null = cart.pendingCheckout;
  if (pending?.state === "queued") console.log(pending.idempotencyKey);
  const resumed: CheckoutResult | null = await cart.resumeCheckout({ retries: 1 });
  const discarded: boolean = cart.discardPendingCheckout();
  const orders: ArchivedOrder[] = cart.orders();
  const catalogInUse: Catalog = cart.catalog();
  console.log(resumed, discarded, orders[0]?.order.orderId, catalogInUse.version);
}

/** React's signature, to check that `cart.subscribe` and `cart.view` fit it. */
declare function useSyncExternalStore<T>(subscribe: (onStoreChange: () => void) => () => void, getSnapshot: () => T): T;

void main();
void badPrice;
void sylius;
void badProfile;
void badPredicate;

// exactOptionalPropertyTypes: an optional field takes `undefined` as the runtime does (JSON drops it).
declare const user: { id?: string; email?: string } | undefined;
Cart.open({ catalog, currency: "EUR", customerId: user?.id, locale: undefined });
const setCustomer: CartAction = { action: "setCustomer", customerId: user?.id, email: user?.email };
void setCustomer;
