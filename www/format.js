// Money and text helpers. Amounts in the view are integer minor units; they are turned into exact
// decimal strings (never divided as floats) and formatted by Intl.NumberFormat in the cart's locale.

/** 1999, 2 -> "19.99"; -5, 2 -> "-0.05"; 1500, 0 -> "1500". */
export function minorToDecimal(minor, digits) {
  const negative = minor < 0;
  const text = String(Math.abs(minor)).padStart(digits + 1, "0");
  const whole = digits === 0 ? text : text.slice(0, -digits);
  const frac = digits === 0 ? "" : "." + text.slice(-digits);
  return (negative ? "-" : "") + whole + frac;
}

/** The countries the demo ships to, by ISO code. */
export const COUNTRIES = { DE: "Germany", AT: "Austria", CH: "Switzerland" };

/** The view's totals as [label, minor units] rows, before the grand total: subtotal, discounts,
 *  shipping, each tax rate ("included" when prices are gross), cash rounding. */
function totalRows(view) {
  const t = view.totals;
  const rows = [["Subtotal", t.subtotal]];
  if (t.discountTotal) rows.push(["Discounts", t.discountTotal]);
  if (view.shipping) rows.push(["Shipping (" + view.shipping.name + ")", t.shippingTotal]);
  const included = isGross(view) ? " included" : "";
  for (const tax of t.taxes) rows.push([(tax.name || tax.rate) + included, tax.tax]);
  if (t.cashRounding) rows.push(["Cash rounding", t.cashRounding]);
  return rows;
}

/** Gross prices: line totals already contain the tax (subtotal + discounts + shipping = gross). */
function isGross(view) {
  const t = view.totals;
  return t.subtotal + t.discountTotal + t.shippingTotal === t.gross;
}

/** `totalRows` as the <dt>/<dd> pairs of a <dl>. */
export function totalTerms(view) {
  return totalRows(view).flatMap(([label, amount]) => [el("dt", {}, label), el("dd", {}, money(view, amount))]);
}

const formatters = new Map();

/** Formats minor units of the view's currency in its locale. */
export function money(view, minor) {
  return formatDecimal(view.locale || "en", view.currency, minorToDecimal(minor, view.fractionDigits));
}

/** Formats a decimal string ("19.99", as the catalog writes amounts). */
export function formatDecimal(locale, currency, decimal) {
  const key = locale + "|" + currency;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.NumberFormat(locale, { style: "currency", currency }));
  }
  return formatters.get(key).format(decimal);
}

/** Creates an element with text content only: catalog text is never parsed as HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A delivery estimate ({min, max} ISO dates) as "Thu, Nov 26" or "Thu, Nov 26 – Sat, Nov 28". */
export function deliveryText(locale, estimate) {
  if (!estimate) return "";
  const first = day(locale, estimate.min);
  return estimate.min === estimate.max ? first : `${first} – ${day(locale, estimate.max)}`;
}

/** "2026-11-23" -> a short localized date. */
export function day(locale, isoDate) {
  const [y, m, d] = isoDate.slice(0, 10).split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

const keyedRows = new WeakMap();

/**
 * Keeps `list`'s children in step with `items`, one element per key: an element is made once
 * (`create(item)`) and updated in place afterwards (`update(element, item)`), and elements are only
 * moved when the order changed. Rebuilding would drop the focus and anything half-typed in a row.
 */
export function keyed(list, items, key, create, update) {
  if (!keyedRows.has(list)) keyedRows.set(list, new Map());
  const rows = keyedRows.get(list);
  const wanted = new Map(items.map((item) => [key(item), item]));
  for (const [k, row] of rows) {
    if (!wanted.has(k)) {
      row.remove();
      rows.delete(k);
    }
  }
  let index = 0;
  for (const [k, item] of wanted) {
    let row = rows.get(k);
    if (!row) {
      row = create(item);
      rows.set(k, row);
    }
    update(row, item);
    const here = list.children[index] || null;
    if (here !== row) list.insertBefore(row, here);
    index += 1;
  }
}

/** The element of `list` that `keyed` keeps for `key`, if any. */
export function keyedRow(list, key) {
  return keyedRows.get(list)?.get(key) || null;
}

/** Sets an element's text only when it changed (a screen reader re-reads a live node that is written). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
