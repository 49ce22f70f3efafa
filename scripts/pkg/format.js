// formatMoney: an amount in minor units, in the view's currency, with `Intl.NumberFormat`.

/**
 * `formatMoney(1999, view)` → "€19.99" (or "19,99 €" for `de-DE`): `minor` in the view's currency
 * and fraction digits, the view's locale unless `options.locale` is given; other options go to
 * `Intl.NumberFormat`. The amount reaches `Intl` as a decimal string, which engines with
 * Intl.NumberFormat v3 (Chrome 106, Safari 15.4, Firefox 116, Node 19) format exactly; older ones
 * convert it to a number, exact up to 15 significant digits (10¹³ major units with 2 decimals).
 */
export function formatMoney(minor, view, options = {}) {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`formatMoney: ${minor} is not a whole number of minor units`);
  const { locale = view.locale ?? undefined, ...rest } = options;
  const digits = view.fractionDigits;
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: view.currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    ...rest,
  });
  return format.format(decimal(minor, digits));
}

/** `-1999`, 2 → `"-19.99"`. */
function decimal(minor, digits) {
  const sign = minor < 0 ? "-" : "";
  const text = String(Math.abs(minor)).padStart(digits + 1, "0");
  return digits === 0 ? sign + text : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
