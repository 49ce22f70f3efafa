import type { ReactNode, ReactElement } from "react";
import type { Cart, CartOptions, CartView } from "./wasm_cart.js";

export { formatMoney, type FormatMoneyOptions, type MoneyContext } from "./format.js";

export interface CartProviderProps {
  /** A cart you opened (and free yourself). */
  cart?: Cart | null | undefined;
  /** Opened with `Cart.open(options)` once mounted (after awaiting `init()`), freed when unmounted. */
  options?: CartOptions | undefined;
  /** What the server rendered (`serializeView` into the page): the view until the cart is open. */
  serverView?: CartView | null | undefined;
  children?: ReactNode;
}

export function CartProvider(props: CartProviderProps): ReactElement;

/** The view (or `null` before the cart is open and without a `serverView`). */
export function useCart(): CartView | null;
/** What `selector` picks from the view; kept while the view is the same object. */
export function useCart<T>(selector: (view: CartView | null) => T): T;

/** The open cart, or `null` before it is open (on the server, while hydrating). */
export function useCartInstance(): Cart | null;

/** The view as JSON safe to embed in a `<script type="application/json">` element. */
export function serializeView(view: CartView | null): string;
