import type { CartView } from "./wasm_cart.js";

/** The parts of a view `formatMoney` reads. */
export type MoneyContext = Pick<CartView, "currency" | "fractionDigits" | "locale">;

/** Options of `Intl.NumberFormat`, and the locale (default: the view's). */
export interface FormatMoneyOptions extends Intl.NumberFormatOptions {
  locale?: string | undefined;
}

/**
 * `formatMoney(1999, view)` → "€19.99" (or "19,99 €" for `de-DE`): `minor` in the view's currency and
 * fraction digits. Throws `RangeError` for an amount that is not a safe integer.
 */
export function formatMoney(minor: number, view: MoneyContext, options?: FormatMoneyOptions): string;
