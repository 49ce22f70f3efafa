// The hand-written TypeScript declarations of the package, appended to pkg/wasm_cart.d.ts by
// scripts/finish-pkg.mjs: the scalar types, the options, the refinements of the actions, checkout and
// the events. The catalog, the actions and the view are generated from the Rust types
// (ts/data.generated.d.ts), the errors from their declared details (ts/errors.generated.d.ts). The
// `Cart` class itself is declared by wasm-bindgen from the `unchecked_*_type` attributes in
// src/web/*.rs; the generic `on` is declared here through interface merging. No `any` anywhere;
// tests/types/usage.ts compiles against it with `tsc --strict`.

/** A decimal amount in major units, as a string: "19.99". Never a JSON number. */
export type DecimalString = string;
/** An instant as RFC 3339 text: "2026-11-21T12:00:00Z". */
export type Rfc3339 = string;
/** Line attributes: scalars only; `null` removes an attribute. */
export type Attributes = { readonly [name: string]: string | number | boolean | null };
/** Arbitrary JSON data (catalog metadata, error details). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

// ---------------------------------------------------------------- options

/** Anything with the Web Storage methods (`localStorage`, a test double, an adapter). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem?(key: string): void;
}

export type StorageOption = "local" | "session" | "memory" | StorageLike;

/** Where the cart is kept; `"memory"` also after storage threw (an `error` event says why). */
export type Persistence = "local" | "session" | "custom" | "memory";

export interface CartOptions {
  /** The catalog (object or JSON text). Optional when one is cached under `<storageKey>:catalog`. */
  catalog?: Catalog | string | undefined;
  /** localStorage key of the cart. Default `"cart"`. */
  storageKey?: string | undefined;
  /** Default `"local"`; without localStorage (Node, workers) the cart lives in memory. */
  storage?: StorageOption | undefined;
  /** ISO 4217 code. Needed to start a new cart; a stored cart keeps its own. */
  currency?: string | undefined;
  /** ISO 3166-1 alpha-2. */
  country?: string | undefined;
  /** BCP 47, e.g. "de-DE". */
  locale?: string | undefined;
  customerId?: string | undefined;
  customerGroup?: string | undefined;
  /** Time to live after the last change. Default 30 days. */
  ttlSeconds?: number | undefined;
  /** The clock, in epoch milliseconds (tests). Default `Date.now`. */
  now?: (() => number | undefined) | undefined;
}

export interface ApplyOptions {
  /** Refuse with `CONCURRENT_MODIFICATION` unless the cart is at this version. */
  expectedVersion?: number | undefined;
}

export interface MergeOptions {
  /** A line both carts hold gets the larger (`"max"`, default) or the summed quantity. */
  quantities?: "max" | "sum" | undefined;
}

// ---------------------------------------------------------------- actions (DESIGN §6)
// `CartActionData` (ts/data.generated.d.ts) is the union the engine reads; these narrow what one
// type cannot say: an item needs a `productId` or a `sku`.

type AddLineItem = Omit<Extract<CartActionData, { action: "addLineItem" }>, "action">;

/** `cart.addItem`'s argument: a `productId` or a `sku` (or both). */
export type AddItem = (AddLineItem & { productId: string }) | (AddLineItem & { sku: string });

/** `cart.setCustomer`'s argument: a member left out stays as it is; `null` clears it. */
export type CustomerUpdate = Omit<Extract<CartActionData, { action: "setCustomer" }>, "action">;

export type CartAction = Exclude<CartActionData, { action: "addLineItem" }> | ({ action: "addLineItem" } & AddItem);

export type CartActionName = CartAction["action"];

// ---------------------------------------------------------------- errors and events

// `CartErrorCode`, `CartErrorDetails` and the `CartError` union: ts/errors.generated.d.ts.

// ---------------------------------------------------------------- checkout (DESIGN §8, docs/checkout.md)

/** The protocols a browser runs itself (docs/sync.md). */
export type CheckoutProtocol = "spec-b" | "commercetools" | "shopware" | "sylius-shop";
/** Protocols whose credentials must stay on a server: only cart-server's relay (`--relay`) runs them. */
export type RelayProtocol = "sylius" | "distributor-v3";

/** How checkout requests are sent. Also the options of `resumeCheckout()`. */
export interface SendOptions {
  /** Per attempt, enforced with an AbortController. Default 15000. */
  timeoutMs?: number | undefined;
  /** Retries after the first attempt (network errors, timeouts, 408, 429, 5xx). Default 4. */
  retries?: number | undefined;
  /** The first backoff step in ms; it doubles per retry, half of it random (jitter). Default 500. */
  retryBaseMs?: number | undefined;
  /** The longest single wait; a server asking for more (`Retry-After`) ends the retries. Default 30000. */
  retryMaxMs?: number | undefined;
  /**
   * Replaces `setTimeout` for the waits between attempts; receives the chosen delay in ms (which
   * honours `Retry-After` / `X-RateLimit-Reset`). For tests: record `ms`, resolve at once.
   */
  sleep?: ((ms: number) => Promise<void> | void | undefined) | undefined;
}

export interface CheckoutOptions extends SendOptions {
  /** The API base: `"/api/v1"` or `"https://shop.example/api/v1"` (no trailing slash needed). */
  endpoint: string;
  /**
   * Required unless the cart has one (`setPaymentMethod`). `pm_card_visa`, `pm_card_declined` on cart-server;
   * with `sylius-shop`, the Sylius payment method's code (e.g. `"bank_transfer"`).
   */
  paymentMethodId?: string | undefined;
  /** Default: the cart's customer id. */
  customerId?: string | undefined;
  /** Purchase order number, copied onto every order. */
  poNumber?: string | undefined;
  /** One more discount code for this order. */
  promoCode?: string | undefined;
  /**
   * Default `"spec-b"` (one request, idempotency key, resumable; to cart-server, which may relay it to a
   * platform). The others run the core's request plans against the platform directly (docs/sync.md).
   */
  protocol?: CheckoutProtocol | undefined;
  /**
   * commercetools: the `/me` bearer token (a customer's, or an anonymous session's). Shopware: the context
   * token of a logged-in customer; without one a guest is registered from the cart's e-mail and address.
   */
  token?: string | undefined;
  /** Shopware's `sw-access-key` (the sales channel's public key). Required with `"shopware"`. */
  accessKey?: string | undefined;
  /**
   * Shopware: the `storefrontUrl` of the guest registration, one of the sales channel's domains.
   * Default: the page's `location.origin`.
   */
  storefrontUrl?: string | undefined;
  /**
   * `"fail"` (default): offline rejects with `OFFLINE`. `"queue"` (spec-b only): offline (`navigator.onLine
   * === false`, or network errors after every retry) persists the order and resolves `{status: "queued"}`;
   * it is sent on the `online` event or at the next `Cart.open`, and `ordered` (or `error`) fires then.
   */
  whenOffline?: "fail" | "queue" | undefined;
}

/** Integer minor units, as in the view. */
export interface ExpectedTotals {
  readonly subtotal: number;
  readonly discountTotal: number;
  readonly shippingTotal: number;
  readonly taxTotal: number;
  readonly total: number;
}

/** SPEC-B's cart item. Amounts are JSON numbers in major units (62.5), as in SPEC-B. */
export interface SpecBCartItem {
  readonly id: string;
  readonly productId: string;
  readonly variantId: number | null;
  readonly sku: string;
  readonly productName: string;
  readonly productType: string;
  readonly vendor?: string | undefined;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly totalPrice: number;
  readonly attributes: { readonly [name: string]: JsonValue };
  readonly metadata: { readonly [key: string]: JsonValue };
}

export interface SpecBCart {
  readonly id: string;
  readonly status: CartStatus;
  readonly version: number;
  readonly currency: string;
  readonly items: readonly SpecBCartItem[];
  readonly subtotal: number;
  readonly discountTotal: number;
  readonly shippingTotal: number;
  readonly tax: number;
  readonly total: number;
  readonly createdAt: Rfc3339;
  readonly expiresAt: Rfc3339;
  readonly customerId?: string | undefined;
  readonly metadata?: JsonValue | undefined;
}

/** One order per vendor (major units). */
export interface VendorOrder {
  readonly orderId: string;
  readonly vendor: string;
  readonly status: "confirmed" | "pending";
  readonly items: readonly SpecBCartItem[];
  readonly subtotal: number;
  readonly discountTotal: number;
  readonly tax: number;
  readonly total: number;
}

/** The SPEC-B checkout answer (`docs/server.md`), plus `protocol`. */
export interface SpecBOrder {
  readonly protocol: "spec-b";
  readonly orderId: string;
  readonly status: "confirmed" | "pending";
  readonly confirmationNumber: string;
  readonly paymentMethodId: string;
  readonly estimatedDelivery?: Rfc3339 | undefined;
  readonly customerId?: string | undefined;
  readonly poNumber?: string | undefined;
  readonly currency: string;
  /** What was charged, major units. `view.totals.total` has it in minor units. */
  readonly total: number;
  readonly createdAt: Rfc3339;
  readonly orders: readonly VendorOrder[];
  readonly cart: SpecBCart;
  /** The server's priced cart the order was charged from (minor units). */
  readonly view: CartView;
  /** Set when an earlier attempt placed the order, its answer was lost, and the order was fetched. */
  readonly recovered?: true | undefined;
  /** The platform's order, when cart-server relayed the checkout (`--relay`, docs/sync.md). */
  readonly upstream?: UpstreamOrder | undefined;
}

/** The order a relaying cart-server placed upstream. */
export interface UpstreamOrder {
  readonly protocol: Exclude<CheckoutProtocol, "spec-b"> | RelayProtocol;
  readonly remoteCartId: string | null;
  /** Minor units: the platform's total, equal to the cart's. */
  readonly remoteTotal: number | null;
  readonly orders: readonly PlacedOrder[];
}

export interface PlacedOrder {
  readonly orderId: string;
  readonly vendor: string | null;
  readonly orderNumber: string | null;
}

/** The outcome of the other protocols. */
export interface SyncOrder {
  readonly protocol: Exclude<CheckoutProtocol, "spec-b">;
  readonly status: "placed";
  /** The first order's id. */
  readonly orderId: string | null;
  readonly orders: readonly PlacedOrder[];
  readonly remoteCartId: string | null;
  /** Minor units, when the remote system reports a total (it matched the cart's). */
  readonly remoteTotal: number | null;
}

/** `whenOffline: "queue"` while offline: persisted, sent later. */
export interface QueuedCheckout {
  readonly status: "queued";
  readonly protocol: "spec-b";
  readonly cartId: string;
  readonly idempotencyKey: string;
}

export type PlacedCheckout = SpecBOrder | SyncOrder;
export type CheckoutResult = PlacedCheckout | QueuedCheckout;

// `CheckoutErrorCode` (a closed union): ts/errors.generated.d.ts.

/**
 * What `checkout()` and `resumeCheckout()` reject with: a real `Error`, `name === "CheckoutError"`,
 * `status` the HTTP status (0 when no answer was involved), `details` always an object. For
 * `PRICE_CHANGED`, `details` is `PriceChangedDetails`: pass it to `cart.acceptServerPrices`.
 */
export interface CheckoutError extends Error {
  readonly name: "CheckoutError";
  readonly code: CheckoutErrorCode;
  readonly status: number;
  readonly details: { readonly [key: string]: JsonValue };
}

/** `details` of SPEC-B's `PRICE_CHANGED`. */
export interface PriceChangedDetails {
  readonly expected: ExpectedTotals;
  readonly actual: ExpectedTotals;
  readonly differences: readonly string[];
  /** The server's priced cart (minor units). */
  readonly view: CartView;
}

/** A line whose price moved (minor units). */
export interface PriceDifference {
  readonly lineItemId: string;
  readonly productId: string;
  readonly name: string;
  readonly quantity: number;
  readonly oldUnitPrice: number;
  readonly newUnitPrice: number;
  readonly oldTotal: number;
  readonly newTotal: number;
}

/** The cart-level change (minor units). */
export interface TotalDifference {
  readonly oldTotal: number;
  readonly newTotal: number;
  /** `newTotal - oldTotal`. */
  readonly difference: number;
  readonly old: ExpectedTotals;
  readonly new: ExpectedTotals;
  /** The totals that moved: "subtotal", "discountTotal", "shippingTotal", "taxTotal", "total". */
  readonly fields: readonly string[];
}

/**
 * What `acceptServerPrices` returns: the lines whose unit price or total moved (possibly none, e.g.
 * when only shipping moved), and the cart-level difference as the array's `total` property.
 */
export type PriceDifferences = readonly PriceDifference[] & { readonly total: TotalDifference };

/** The checkout stored under `<storageKey>:checkout`. */
export interface PendingCheckout {
  /**
   * "sending": a send is running (or its page went away: sent again at the next open); "queued":
   * waiting to be online; "failed": no answer after every retry, the order may or may not exist; the
   * key is kept so that a checkout of the unchanged cart (or `resumeCheckout()`) gets the same order.
   */
  readonly state: "sending" | "queued" | "failed";
  readonly cartId: string;
  readonly version: number;
  readonly idempotencyKey: string;
  readonly endpoint: string;
  readonly createdAt: Rfc3339;
  readonly attempts: number;
}

/** An entry of `<storageKey>:orders` (`cart.orders()`). */
export interface ArchivedOrder {
  readonly orderId: string | null;
  readonly cartId: string;
  readonly orderedAt: Rfc3339;
  readonly order: PlacedCheckout;
  /** The cart's persisted state, status "ordered". */
  readonly cart: { readonly [key: string]: JsonValue };
}

/** The payload of `ordered`. */
export interface OrderedEvent {
  /** The order (as `checkout()` resolved it), or `null` when another tab ordered without archiving it. */
  readonly order: PlacedCheckout | null;
  /** The ordered cart's view (status "ordered"). */
  readonly cart: CartView;
}

/** The payload of each event of `cart.on(event, listener)`. */
export interface CartEvents {
  /** The view changed: a change here, another tab's change, a new catalog, accepted server prices. */
  change: CartView;
  /**
   * Something went wrong without failing a call: corrupt storage (kept aside), storage unavailable,
   * a queued checkout the server finally refused (a `CheckoutError`).
   */
  error: CartError | CheckoutError;
  /** The stored cart had expired and a fresh one replaced it; the payload is the expired cart's view. */
  expired: CartView;
  /** An order was placed (here, by a queued checkout, or in another tab); a new cart has started. */
  ordered: OrderedEvent;
}

export type CartEventName = keyof CartEvents;

export interface Cart {
  /**
   * Listens to an event; returns the function that stops listening. Events raised while `open`
   * runs (a corrupt blob, an expired cart) are delivered in a microtask, so listeners added right
   * after `open` returns receive them.
   */
  on<E extends CartEventName>(event: E, listener: (payload: CartEvents[E]) => void): () => void;
}
