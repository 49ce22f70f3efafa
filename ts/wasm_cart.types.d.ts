// The TypeScript declarations of the package, appended to pkg/wasm_cart.d.ts by
// scripts/finish-pkg.mjs: the options, the catalog, the actions (a discriminated union on `action`), the
// view, the errors and the events. The `Cart` class itself is declared by wasm-bindgen from the
// `unchecked_*_type` attributes in src/web/*.rs; the generic `on` is declared here through interface
// merging. No `any` anywhere; tests/types/usage.ts compiles against it with `tsc --strict`.

/** A decimal amount in major units, as a string: "19.99". Never a JSON number. */
export type DecimalString = string;
/** An instant as RFC 3339 text: "2026-11-21T12:00:00Z". */
export type Rfc3339 = string;
/** Line attributes: scalars only; `null` removes an attribute. */
export type Attributes = { readonly [name: string]: string | number | boolean | null };
/** Arbitrary JSON data (catalog metadata, error details). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

// ---------------------------------------------------------------- catalog (DESIGN §4–5)

/** Java / commercetools names: `halfUp` ties away from zero, `up` rounds away from zero (docs/PRICING.md). */
export type RoundingMode =
  | "halfEven" | "halfUp" | "halfDown" | "halfOdd" | "halfCeiling" | "halfFloor"
  | "up" | "down" | "ceiling" | "floor";

export type PricingProfile = "default" | "commercetools" | "shopware" | "sylius";

/** Every field is optional: the profile's choice applies where a field is absent (docs/PRICING.md). */
export interface PricingSettings {
  profile?: PricingProfile | undefined;
  pricesIncludeTax?: boolean | undefined;
  roundingMode?: RoundingMode | undefined;
  taxRoundingMode?: RoundingMode | undefined;
  taxCalculation?: "lineItem" | "unitPrice" | "perRate" | undefined;
  allocation?: "largestRemainder" | "firstTargets" | undefined;
  conditionBasis?: "beforePromotions" | "afterEarlierPromotions" | undefined;
}

export interface CatalogPrice {
  currency: string;
  amount: DecimalString;
  minQuantity?: number | undefined;
  customerGroup?: string | undefined;
  country?: string | undefined;
  validFrom?: Rfc3339 | undefined;
  validUntil?: Rfc3339 | undefined;
  /** The lowest unit price promotions may bring a unit to (Sylius `minimumPrice`). */
  minimumPrice?: DecimalString | undefined;
}

export interface CatalogVariant {
  id: number;
  sku: string;
  name?: string | undefined;
  prices?: CatalogPrice[] | undefined;
  stock?: number | undefined;
  available?: boolean | undefined;
  attributes?: { [name: string]: JsonValue } | undefined;
  /** Overrides the product's weight. */
  weight?: DecimalString | undefined;
  /** This variant's id per checkout protocol (docs/sync.md). */
  external?: { [protocol: string]: string } | undefined;
}

export interface CatalogProduct {
  id: string;
  sku?: string | undefined;
  name: string;
  /** Free text; the seeds use product, device, plan, addon, service. */
  kind?: string | undefined;
  vendor?: string | undefined;
  taxCategory: string;
  shippable?: boolean | undefined;
  prices?: CatalogPrice[] | undefined;
  stock?: number | undefined;
  minQuantity?: number | undefined;
  maxQuantity?: number | undefined;
  available?: boolean | undefined;
  requiredAttributes?: string[] | undefined;
  metadata?: { [key: string]: JsonValue } | undefined;
  variants?: CatalogVariant[] | undefined;
  description?: string | undefined;
  /** The weight of one unit, for weight-based shipping. */
  weight?: DecimalString | undefined;
  /** This product's id per checkout protocol (docs/sync.md). */
  external?: { [protocol: string]: string } | undefined;
}

export interface Match {
  productIds?: string[] | undefined;
  skus?: string[] | undefined;
  kinds?: string[] | undefined;
  vendors?: string[] | undefined;
  /** Promotions only: the line's unit price (before promotions) is at least this. */
  minUnitPrice?: DecimalString | undefined;
  /** Promotions only: the line's unit price (before promotions) is at most this. */
  maxUnitPrice?: DecimalString | undefined;
}

export type CatalogRule =
  | { type: "requires"; when: Match; requires: Match; message?: string | undefined }
  | { type: "exclusive"; metadataKey: string; message?: string | undefined }
  | { type: "maxLines"; match: Match; max: number; message?: string | undefined };

export interface TaxCategory {
  id: string;
  name?: string | undefined;
  rates: TaxRate[];
}

export interface TaxRate {
  country?: string | undefined;
  rate: DecimalString;
  name?: string | undefined;
  /** Whether amounts at this rate include it; absent: `pricing.pricesIncludeTax`. */
  includedInPrice?: boolean | undefined;
  /** Parts of the rate, adding up to `rate`; the tax summary lists one entry per part. */
  subRates?: { name: string; rate: DecimalString }[] | undefined;
}

export interface ShippingMethod {
  id: string;
  name: string;
  taxCategory: string;
  /** `category`: at taxCategory's rate; `proportional` / `highest`: by the cart's line rates. */
  taxType?: "category" | "proportional" | "highest" | undefined;
  default?: boolean | undefined;
  deliveryDays?: { min: number; max: number } | undefined;
  rates: {
    currency: string;
    countries?: string[] | undefined;
    price: DecimalString;
    freeAbove?: DecimalString | undefined;
    tiers?: { minCartValue: DecimalString; price: DecimalString }[] | undefined;
    weightTiers?: { minWeight: DecimalString; price: DecimalString }[] | undefined;
    pricePerUnit?: DecimalString | undefined;
    maxWeight?: DecimalString | undefined;
  }[];
  /** This method's id (commercetools: key) per checkout protocol. */
  external?: { [protocol: string]: string } | undefined;
}

export type PromotionTarget =
  | { type: "items"; match?: Match | undefined; maxUnitsPerLine?: number | undefined }
  | { type: "shipping" }
  | { type: "total" }
  | { type: "gift"; productId: string; variantId?: number | undefined; quantity?: number | undefined }
  | {
      type: "buyXGetY";
      buy: Match;
      buyQuantity: number;
      get: Match;
      getQuantity: number;
      maxOccurrence?: number | undefined;
      selection?: "cheapest" | "mostExpensive" | undefined;
    }
  | {
      type: "multiBuy";
      match?: Match | undefined;
      trigger: number;
      discounted: number;
      maxOccurrence?: number | undefined;
      selection?: "cheapest" | "mostExpensive" | undefined;
    };

export type PromotionValue =
  | { type: "percentage"; percent: DecimalString; per?: "line" | "unit" | "targets" | undefined; maxAmount?: DecimalString | undefined }
  | { type: "absolute"; amount: DecimalString; distribution?: "proportionate" | "even" | "each" | undefined }
  | { type: "fixedPrice"; amount: DecimalString };

export interface Promotion {
  id: string;
  label?: string | undefined;
  /** No code: automatic. */
  code?: string | undefined;
  priority?: number | undefined;
  stacking?: "stack" | "stopAfter" | undefined;
  /** If it applies, it alone applies. */
  exclusive?: boolean | undefined;
  /** Of a group, only the member giving the largest discount applies. */
  group?: string | undefined;
  validFrom?: Rfc3339 | undefined;
  validUntil?: Rfc3339 | undefined;
  currency?: string | undefined;
  conditions?: {
    minSubtotal?: DecimalString | undefined;
    minQuantity?: number | undefined;
    customerGroups?: string[] | undefined;
    countries?: string[] | undefined;
    when?: Predicate | undefined;
  } | undefined;
  target: PromotionTarget;
  value: PromotionValue;
}

/** A condition on the cart as a whole (docs/PRICING.md). */
export type Predicate =
  | { all: Predicate[] }
  | { any: Predicate[] }
  | { not: Predicate }
  | { contains: { match?: Match | undefined; minQuantity?: number | undefined } }
  | { subtotalOf: { match?: Match | undefined; atLeast: DecimalString } }
  | { customerGroup: string[] }
  | { emailDomain: string[] }
  | { country: string[] };

/** The catalog JSON of DESIGN §4 and docs/PRICING.md. */
export interface Catalog {
  version?: string | undefined;
  pricing?: PricingSettings | undefined;
  currencies?: { [currency: string]: { cashRounding?: DecimalString | undefined } } | undefined;
  taxCategories?: TaxCategory[] | undefined;
  products?: CatalogProduct[] | undefined;
  rules?: CatalogRule[] | undefined;
  shippingMethods?: ShippingMethod[] | undefined;
  promotions?: Promotion[] | undefined;
}

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

export interface Address {
  /** ISO 3166-1 alpha-2; drives tax and shipping. */
  country: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  company?: string | undefined;
  streetName?: string | undefined;
  streetNumber?: string | undefined;
  additionalStreetInfo?: string | undefined;
  postalCode?: string | undefined;
  city?: string | undefined;
  region?: string | undefined;
  state?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
}

export type AddItem =
  | { productId: string; sku?: string | undefined; variantId?: number | null | undefined; quantity?: number | undefined; attributes?: Attributes | undefined }
  | { productId?: string | undefined; sku: string; variantId?: number | null | undefined; quantity?: number | undefined; attributes?: Attributes | undefined };

export interface CustomerUpdate {
  customerId?: string | null | undefined;
  email?: string | null | undefined;
  customerGroup?: string | null | undefined;
}

export type CartAction =
  | ({ action: "addLineItem" } & AddItem)
  | { action: "removeLineItem"; lineItemId: string; quantity?: number | undefined }
  | { action: "changeLineItemQuantity"; lineItemId: string; quantity: number }
  | { action: "setLineItemAttributes"; lineItemId: string; attributes: Attributes }
  | {
      action: "addCustomLineItem";
      name: string;
      amount: DecimalString;
      taxCategory: string;
      quantity?: number | undefined;
      kind?: "custom" | "credit" | undefined;
    }
  | { action: "removeCustomLineItem"; id: string }
  | { action: "addDiscountCode"; code: string }
  | { action: "removeDiscountCode"; code: string }
  | { action: "setShippingAddress"; address?: Address | null | undefined }
  | { action: "setBillingAddress"; address?: Address | null | undefined }
  | { action: "setShippingMethod"; shippingMethodId?: string | null | undefined }
  | { action: "setPaymentMethod"; paymentMethodId?: string | null | undefined }
  | ({ action: "setCustomer" } & CustomerUpdate)
  | { action: "setCountry"; country?: string | null | undefined }
  | { action: "setLocale"; locale?: string | null | undefined }
  | { action: "setCurrency"; currency: string }
  | { action: "acknowledgePriceChanges" }
  | { action: "clear" };

export type CartActionName = CartAction["action"];

// ---------------------------------------------------------------- the view (DESIGN §7)
// Every amount is an integer count of minor units of `currency` (1999 = 19.99 EUR).

export type CartStatus = "active" | "ordered" | "merged";

export interface DiscountView {
  readonly promotionId: string;
  readonly label: string;
  /** Negative. */
  readonly amount: number;
}

export interface UnitDiscount {
  readonly quantity: number;
  /** Negative: the discount on each of these units. */
  readonly amount: number;
}

export interface LineView {
  readonly id: string;
  readonly productId: string;
  readonly variantId: number | null;
  readonly sku: string;
  readonly name: string;
  readonly kind: string;
  readonly vendor: string | null;
  readonly quantity: number;
  readonly attributes: Attributes;
  readonly unitPrice: number;
  readonly baseTotal: number;
  readonly discounts: readonly DiscountView[];
  readonly unitDiscounts: readonly UnitDiscount[];
  readonly total: number;
  readonly shippable: boolean;
  /** A gift a promotion adds while its conditions hold (id `gift_<promotion id>`): not a cart line. */
  readonly gift: boolean;
  readonly taxRate: string | null;
  readonly net: number;
  readonly tax: number;
  readonly gross: number;
}

export interface CustomLineView {
  readonly id: string;
  readonly name: string;
  readonly kind: "custom" | "credit";
  readonly quantity: number;
  /** Signed: negative for a credit. */
  readonly unitPrice: number;
  readonly total: number;
  readonly taxCategory: string;
  readonly taxRate: string | null;
  readonly net: number;
  readonly tax: number;
  readonly gross: number;
}

export type CodeState =
  | "applied" | "notApplicable" | "stoppedByPreviousDiscount" | "notActive"
  | "stoppedByExclusiveDiscount" | "stoppedByGroupBestDeal";

export interface CodeView {
  readonly code: string;
  readonly state: CodeState;
  readonly promotionId: string | null;
  readonly label: string;
}

export interface DeliveryEstimate {
  /** ISO 8601 dates (UTC). */
  readonly min: string;
  readonly max: string;
}

export interface ShippingView {
  readonly methodId: string;
  readonly name: string;
  readonly price: number;
  readonly discount: number;
  readonly total: number;
  readonly taxRate: string | null;
  readonly net: number;
  readonly tax: number;
  readonly gross: number;
  readonly estimatedDelivery: DeliveryEstimate | null;
}

export interface ShippingOption {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly default: boolean;
  readonly estimatedDelivery: DeliveryEstimate | null;
}

export interface TaxSummary {
  readonly rate: string;
  readonly name: string;
  readonly net: number;
  readonly tax: number;
}

export interface Totals {
  readonly subtotal: number;
  readonly discountTotal: number;
  readonly shippingTotal: number;
  readonly net: number;
  readonly taxTotal: number;
  readonly gross: number;
  readonly cashRounding: number;
  /** What the shopper pays. */
  readonly total: number;
  readonly taxes: readonly TaxSummary[];
}

export type IssueCode =
  | "EMPTY_CART"
  | "PRODUCT_UNAVAILABLE"
  | "INVENTORY_UNAVAILABLE"
  | "MISSING_ATTRIBUTE"
  | "REQUIRES_ITEM"
  | "NO_SHIPPING_METHOD"
  | "NO_TAX_RATE"
  | "CART_EXPIRED"
  | "PRICE_CHANGED"
  | "PROMO_CODE_NOT_APPLICABLE"
  | "INCOMPATIBLE_ITEMS";

export interface Issue {
  readonly code: IssueCode;
  readonly severity: "error" | "warning";
  readonly lineItemId?: string | undefined;
  readonly message: string;
  readonly details?: { readonly [key: string]: JsonValue } | undefined;
}

export interface CartView {
  readonly id: string;
  readonly version: number;
  readonly status: CartStatus;
  readonly currency: string;
  readonly fractionDigits: number;
  /** The pricing profile whose rules priced this view (catalog `pricing.profile`). */
  readonly pricingProfile: PricingProfile;
  readonly country: string | null;
  readonly locale: string | null;
  readonly customer: { readonly id: string | null; readonly email: string | null; readonly group: string | null };
  readonly createdAt: Rfc3339;
  readonly updatedAt: Rfc3339;
  readonly expiresAt: Rfc3339;
  readonly catalogVersion: string | null;
  readonly lineItems: readonly LineView[];
  readonly customLineItems: readonly CustomLineView[];
  readonly discountCodes: readonly CodeView[];
  readonly shippingAddress: Readonly<Address> | null;
  readonly billingAddress: Readonly<Address> | null;
  readonly paymentMethodId: string | null;
  /** `null` when nothing in the cart ships. */
  readonly shipping: ShippingView | null;
  readonly availableShippingMethods: readonly ShippingOption[];
  readonly totals: Totals;
  readonly issues: readonly Issue[];
  readonly canCheckout: boolean;
}

export interface MergeReport {
  readonly skipped: readonly { readonly lineItemId: string; readonly code: CartErrorCode; readonly message: string }[];
  readonly skippedCodes: readonly string[];
}

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
