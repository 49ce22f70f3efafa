//! The TypeScript declarations of the package (appended to `wasm_cart.d.ts` by wasm-bindgen): the
//! options, the catalog, the actions (a discriminated union on `action`), the view, the errors and the
//! events. The `Cart` class itself is declared by wasm-bindgen from the `unchecked_*_type` attributes in
//! `mod.rs`; the generic `on` is declared here through interface merging. No `any` anywhere.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A decimal amount in major units, as a string: "19.99". Never a JSON number. */
export type DecimalString = string;
/** An instant as RFC 3339 text: "2026-11-21T12:00:00Z". */
export type Rfc3339 = string;
/** Line attributes: scalars only; `null` removes an attribute. */
export type Attributes = { readonly [name: string]: string | number | boolean | null };
/** Arbitrary JSON data (catalog metadata, error details). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

// ---------------------------------------------------------------- catalog (DESIGN §4–5)

export type RoundingMode = "halfEven" | "halfUp" | "halfDown";

export interface PricingSettings {
  pricesIncludeTax?: boolean;
  roundingMode?: RoundingMode;
  taxRoundingMode?: RoundingMode;
  taxCalculation?: "lineItem" | "unitPrice";
}

export interface CatalogPrice {
  currency: string;
  amount: DecimalString;
  minQuantity?: number;
  customerGroup?: string;
  country?: string;
  validFrom?: Rfc3339;
  validUntil?: Rfc3339;
}

export interface CatalogVariant {
  id: number;
  sku: string;
  name?: string;
  prices?: CatalogPrice[];
  stock?: number;
  available?: boolean;
  attributes?: { [name: string]: JsonValue };
}

export interface CatalogProduct {
  id: string;
  sku?: string;
  name: string;
  /** Free text; the seeds use product, device, plan, addon, service. */
  kind?: string;
  vendor?: string;
  taxCategory: string;
  shippable?: boolean;
  prices?: CatalogPrice[];
  stock?: number;
  minQuantity?: number;
  maxQuantity?: number;
  available?: boolean;
  requiredAttributes?: string[];
  metadata?: { [key: string]: JsonValue };
  variants?: CatalogVariant[];
  description?: string;
}

export interface Match {
  productIds?: string[];
  skus?: string[];
  kinds?: string[];
  vendors?: string[];
}

export type CatalogRule =
  | { type: "requires"; when: Match; requires: Match; message?: string }
  | { type: "exclusive"; metadataKey: string; message?: string }
  | { type: "maxLines"; match: Match; max: number; message?: string };

export interface TaxCategory {
  id: string;
  name?: string;
  rates: { country?: string; rate: DecimalString; name?: string }[];
}

export interface ShippingMethod {
  id: string;
  name: string;
  taxCategory: string;
  default?: boolean;
  deliveryDays?: { min: number; max: number };
  rates: {
    currency: string;
    countries?: string[];
    price: DecimalString;
    freeAbove?: DecimalString;
    tiers?: { minCartValue: DecimalString; price: DecimalString }[];
  }[];
}

export type PromotionTarget =
  | { type: "items"; match?: Match }
  | { type: "shipping" }
  | {
      type: "multiBuy";
      match?: Match;
      trigger: number;
      discounted: number;
      maxOccurrence?: number;
      selection?: "cheapest" | "mostExpensive";
    };

export type PromotionValue =
  | { type: "percentage"; percent: DecimalString }
  | { type: "absolute"; amount: DecimalString; distribution?: "proportionate" | "even" | "each" }
  | { type: "fixedPrice"; amount: DecimalString };

export interface Promotion {
  id: string;
  label?: string;
  /** No code: automatic. */
  code?: string;
  priority?: number;
  stacking?: "stack" | "stopAfter";
  validFrom?: Rfc3339;
  validUntil?: Rfc3339;
  currency?: string;
  conditions?: {
    minSubtotal?: DecimalString;
    minQuantity?: number;
    customerGroups?: string[];
    countries?: string[];
  };
  target: PromotionTarget;
  value: PromotionValue;
}

/** The catalog JSON of DESIGN §4. */
export interface Catalog {
  version?: string;
  pricing?: PricingSettings;
  currencies?: { [currency: string]: { cashRounding?: DecimalString } };
  taxCategories?: TaxCategory[];
  products?: CatalogProduct[];
  rules?: CatalogRule[];
  shippingMethods?: ShippingMethod[];
  promotions?: Promotion[];
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
  catalog?: Catalog | string;
  /** localStorage key of the cart. Default `"cart"`. */
  storageKey?: string;
  /** Default `"local"`; without localStorage (Node, workers) the cart lives in memory. */
  storage?: StorageOption;
  /** ISO 4217 code. Needed to start a new cart; a stored cart keeps its own. */
  currency?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  /** BCP 47, e.g. "de-DE". */
  locale?: string;
  customerId?: string;
  customerGroup?: string;
  /** Time to live after the last change. Default 30 days. */
  ttlSeconds?: number;
  /** The clock, in epoch milliseconds (tests). Default `Date.now`. */
  now?: () => number;
}

export interface ApplyOptions {
  /** Refuse with `CONCURRENT_MODIFICATION` unless the cart is at this version. */
  expectedVersion?: number;
}

export interface MergeOptions {
  /** A line both carts hold gets the larger (`"max"`, default) or the summed quantity. */
  quantities?: "max" | "sum";
}

// ---------------------------------------------------------------- actions (DESIGN §6)

export interface Address {
  /** ISO 3166-1 alpha-2; drives tax and shipping. */
  country: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  streetName?: string;
  streetNumber?: string;
  additionalStreetInfo?: string;
  postalCode?: string;
  city?: string;
  region?: string;
  state?: string;
  phone?: string;
  email?: string;
}

export type AddItem =
  | { productId: string; sku?: string; variantId?: number | null; quantity?: number; attributes?: Attributes }
  | { productId?: string; sku: string; variantId?: number | null; quantity?: number; attributes?: Attributes };

export interface CustomerUpdate {
  customerId?: string | null;
  email?: string | null;
  customerGroup?: string | null;
}

export type CartAction =
  | ({ action: "addLineItem" } & AddItem)
  | { action: "removeLineItem"; lineItemId: string; quantity?: number }
  | { action: "changeLineItemQuantity"; lineItemId: string; quantity: number }
  | { action: "setLineItemAttributes"; lineItemId: string; attributes: Attributes }
  | {
      action: "addCustomLineItem";
      name: string;
      amount: DecimalString;
      taxCategory: string;
      quantity?: number;
      kind?: "custom" | "credit";
    }
  | { action: "removeCustomLineItem"; id: string }
  | { action: "addDiscountCode"; code: string }
  | { action: "removeDiscountCode"; code: string }
  | { action: "setShippingAddress"; address?: Address | null }
  | { action: "setBillingAddress"; address?: Address | null }
  | { action: "setShippingMethod"; shippingMethodId?: string | null }
  | { action: "setPaymentMethod"; paymentMethodId?: string | null }
  | ({ action: "setCustomer" } & CustomerUpdate)
  | { action: "setCountry"; country?: string | null }
  | { action: "setLocale"; locale?: string | null }
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

export type CodeState = "applied" | "notApplicable" | "stoppedByPreviousDiscount" | "notActive";

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
  readonly lineItemId?: string;
  readonly message: string;
  readonly details?: { readonly [key: string]: JsonValue };
}

export interface CartView {
  readonly id: string;
  readonly version: number;
  readonly status: CartStatus;
  readonly currency: string;
  readonly fractionDigits: number;
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

/** The stable codes of thrown errors (DESIGN §6) and of `error` events. */
export type CartErrorCode =
  | "INVALID_CATALOG"
  | "INVALID_REQUEST"
  | "INVALID_ITEM"
  | "INVALID_QUANTITY"
  | "INCOMPATIBLE_ITEMS"
  | "INVALID_PROMO_CODE"
  | "TOO_MANY_CODES"
  | "ITEM_NOT_FOUND"
  | "TOO_MANY_LINES"
  | "CART_NOT_ACTIVE"
  | "CART_EXPIRED"
  | "PRODUCT_UNAVAILABLE"
  | "CONCURRENT_MODIFICATION"
  | "AMOUNT_OUT_OF_RANGE"
  | "INVALID_SNAPSHOT"
  | "STORAGE_UNAVAILABLE";

/**
 * What every method throws (and `error` events carry): a real `Error` with `name === "CartError"`.
 * `details` is always an object, e.g. `{ field }`, `{ lineItemId, min, max }`, `{ actionIndex }`,
 * `{ reason, key, corruptKey }` for `INVALID_SNAPSHOT`, `{ key, operation, cause }` for `STORAGE_UNAVAILABLE`.
 */
export interface CartError extends Error {
  readonly name: "CartError";
  readonly code: CartErrorCode;
  readonly details: { readonly [key: string]: JsonValue };
}

/** The payload of each event of `cart.on(event, listener)`. */
export interface CartEvents {
  /** The view changed: a change here, another tab's change, a new catalog. */
  change: CartView;
  /** Something went wrong without failing a call: corrupt storage (kept aside), storage unavailable. */
  error: CartError;
  /** The stored cart had expired and a fresh one replaced it; the payload is the expired cart's view. */
  expired: CartView;
  /** The cart became `ordered` (here or in another tab). */
  ordered: CartView;
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
"#;
