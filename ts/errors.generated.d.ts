// Generated from src/error/details.rs: `UPDATE_TYPES=1 cargo test --lib typescript` rewrites it.

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
  | "STORAGE_UNAVAILABLE"
  | "LISTENER_LOOP"
  | "NOT_INITIALIZED"
  | "CART_FREED";

/**
 * `details` per code: one shape each (members optional unless typed otherwise), and on every
 * code a batch can raise, `actionIndex`.
 */
export interface CartErrorDetails {
  readonly INVALID_CATALOG: {
    /** The JSON path of the (first) problem, e.g. `products[3].prices`. */
    readonly path?: string;
    /** Every problem found, when there are several. */
    readonly errors?: readonly { readonly path: string; readonly message: string }[];
    /** The option that held the catalog (`catalog`), when the cached one was unusable. */
    readonly field?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly INVALID_REQUEST: {
    /** The field or option at fault, e.g. `quantity`, `shippingAddress.country`. */
    readonly field?: string;
    /** The value refused. */
    readonly value?: JsonValue;
    /** Why, where the message alone does not say. */
    readonly reason?: string;
    /** What is missing (checkout: the fields or catalog ids a platform needs). */
    readonly missing?: JsonValue;
    /** The cart's version, when a view of another version was given. */
    readonly cartVersion?: number;
    /** The given view's version. */
    readonly viewVersion?: number;
    /** The product given or concerned. */
    readonly productId?: string;
    /** The cart concerned. */
    readonly cartId?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly INVALID_ITEM: {
    /** The product given (`null` when only a SKU was). */
    readonly productId?: string | null;
    /** The SKU given. */
    readonly sku?: string;
    /** The variant given or concerned. */
    readonly variantId?: number | null;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly INVALID_QUANTITY: {
    /** The line the change named. */
    readonly lineItemId?: string;
    /** The smallest quantity allowed. */
    readonly min?: number;
    /** The largest quantity allowed. */
    readonly max?: number;
    /** The quantity asked for. */
    readonly requested?: number;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly INCOMPATIBLE_ITEMS: {
    /** The index of the catalog rule that would break. */
    readonly rule?: number;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly INVALID_PROMO_CODE: {
    /** The code given. */
    readonly code?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly TOO_MANY_CODES: {
    /** The limit that would be passed. */
    readonly max?: number;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly ITEM_NOT_FOUND: {
    /** The line the change named. */
    readonly lineItemId?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly TOO_MANY_LINES: {
    /** The limit that would be passed. */
    readonly max?: number;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly CART_NOT_ACTIVE: {
    /** The cart's status (`ordered`, `merged`); absent when there is no cart at all. */
    readonly status?: CartStatus;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly CART_EXPIRED: {
    /** When the cart expired. */
    readonly expiresAt?: Rfc3339;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly PRODUCT_UNAVAILABLE: {
    /** The line the change named. */
    readonly lineItemId?: string;
    /** The product given or concerned. */
    readonly productId?: string;
    /** The variant given or concerned. */
    readonly variantId?: number | null;
    /** The cart's currency, when the product has no price in it. */
    readonly currency?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly CONCURRENT_MODIFICATION: {
    /** The version the call expected (`expectedVersion`). */
    readonly expectedVersion?: number;
    /** The cart's version. */
    readonly version?: number;
    /** Event: why the change could not be replayed on what another tab committed first. */
    readonly cause?: { readonly code: CartErrorCode; readonly message: string; readonly details: JsonValue };
    /** Event: the cart the refused change was made on. */
    readonly cartId?: string;
    /** Event: when the refused change was made. */
    readonly at?: Rfc3339;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly AMOUNT_OUT_OF_RANGE: {
    /** The limit that would be passed. */
    readonly max?: number;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly INVALID_SNAPSHOT: {
    /** What is wrong with the stored value. */
    readonly reason?: "notJson" | "notASnapshot" | "badChecksum" | "newerSchema" | "badCart" | "invalidCart" | "notAString";
    /** The stored schema (`newerSchema`). */
    readonly schema?: number;
    /** The newest schema this build reads. */
    readonly supported?: number;
    /** Why the stored cart was refused (`invalidCart`). */
    readonly cause?: { readonly code: CartErrorCode; readonly message: string; readonly details: JsonValue };
    /** The storage key read. */
    readonly key?: string;
    /** Where the unreadable value was kept. */
    readonly corruptKey?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly STORAGE_UNAVAILABLE: {
    /** The storage key. */
    readonly key?: string;
    /** What failed. */
    readonly operation: "open" | "read" | "write" | "commit";
    /** What the storage threw. */
    readonly cause?: string;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly LISTENER_LOOP: {
    /** How many rounds of change events ran before the loop was stopped. */
    readonly limit: number;
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly NOT_INITIALIZED: {
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
  readonly CART_FREED: {
    /** Which action of a batch (`apply`) was refused, from 0. */
    readonly actionIndex?: number;
  };
}

/** The error of one code: `details` typed by `code`. */
export interface CartErrorOf<C extends CartErrorCode> extends Error {
  readonly name: "CartError";
  readonly code: C;
  readonly details: CartErrorDetails[C];
}

/**
 * What every method throws (and `error` events carry): a real `Error` with `name === "CartError"`,
 * a discriminated union on `code`: `if (e.code === "ITEM_NOT_FOUND") e.details.lineItemId`.
 * `NOT_INITIALIZED` (a call before `init()`) and `CART_FREED` (a call after `free()`) are thrown by the
 * package's JavaScript.
 */
export type CartError = { [C in CartErrorCode]: CartErrorOf<C> }[CartErrorCode];

/**
 * The codes of `CheckoutError`: the engine's (`NETWORK_ERROR`, `TIMEOUT`, `OFFLINE` with status 0,
 * `CHECKOUT_FAILED`, `INVALID_RESPONSE`, `PRICE_CHANGED`, and every `CartErrorCode`), the view's issue codes
 * (a cart refused for its own problems, status 0) and a SPEC-B server's (`PAYMENT_FAILED` 402,
 * `INVENTORY_UNAVAILABLE` 409, `RATE_LIMITED` 429, ...). A server's answer with any other code is
 * `CHECKOUT_FAILED` with that code in `details.remoteCode`.
 */
export type CheckoutErrorCode =
  | "AMOUNT_OUT_OF_RANGE"
  | "CART_EXPIRED"
  | "CART_FREED"
  | "CART_NOT_ACTIVE"
  | "CART_NOT_FOUND"
  | "CART_SECRET_REQUIRED"
  | "CHECKOUT_FAILED"
  | "CHECKOUT_IN_PROGRESS"
  | "CONCURRENT_MODIFICATION"
  | "DATABASE_BUSY"
  | "EMPTY_CART"
  | "IDEMPOTENCY_KEY_REUSED"
  | "INCOMPATIBLE_ITEMS"
  | "INTERNAL_ERROR"
  | "INVALID_CART_ID"
  | "INVALID_CATALOG"
  | "INVALID_ITEM"
  | "INVALID_PROMO_CODE"
  | "INVALID_QUANTITY"
  | "INVALID_REQUEST"
  | "INVALID_RESPONSE"
  | "INVALID_SNAPSHOT"
  | "INVENTORY_UNAVAILABLE"
  | "ITEM_NOT_FOUND"
  | "LISTENER_LOOP"
  | "METHOD_NOT_ALLOWED"
  | "MISSING_ATTRIBUTE"
  | "NETWORK_ERROR"
  | "NOT_FOUND"
  | "NOT_INITIALIZED"
  | "NO_SHIPPING_METHOD"
  | "NO_TAX_RATE"
  | "OFFLINE"
  | "ORDER_NOT_FOUND"
  | "PAYLOAD_TOO_LARGE"
  | "PAYMENT_FAILED"
  | "PRICE_CHANGED"
  | "PRODUCT_UNAVAILABLE"
  | "PROMO_CODE_NOT_APPLICABLE"
  | "RATE_LIMITED"
  | "REQUEST_TIMEOUT"
  | "REQUIRES_ITEM"
  | "STORAGE_UNAVAILABLE"
  | "TIMEOUT"
  | "TOO_MANY_CODES"
  | "TOO_MANY_LINES"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UPSTREAM_INVALID_RESPONSE"
  | "UPSTREAM_OUTCOME_UNKNOWN"
  | "UPSTREAM_REFUSED";
