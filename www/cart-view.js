// Renders the cart panel from the engine's view. Rows whose line object kept its identity (the engine
// returns the same object for an unchanged line) are reused instead of rebuilt.
import { el, money, day } from "./format.js";

const ISSUE_TEXT = {
  MISSING_ATTRIBUTE: (i) => "Please enter: " + ((i.details && i.details.attributes) || []).join(", "),
};

function issueItem(issue) {
  const text = ISSUE_TEXT[issue.code] ? ISSUE_TEXT[issue.code](issue) : issue.message;
  return el("li", { class: "issue " + issue.severity, dataset: { code: issue.code } }, text);
}

const rowCache = new WeakMap();

function lineRow(view, line, issues, actions) {
  const cached = rowCache.get(line);
  if (cached && cached.issues === issues.map((i) => i.code + i.message).join("|")) return cached.row;
  const qty = el("input", {
    type: "number", min: "1", max: "9999", value: String(line.quantity), inputmode: "numeric",
    "aria-label": "Quantity of " + line.name,
    onchange: (e) => actions.changeQuantity(line.id, Number(e.target.value)),
  });
  const attrs = Object.entries(line.attributes || {}).map(([k, v]) => k + ": " + v).join(", ");
  const unitDetail = line.unitDiscounts.length
    ? el("details", { class: "unit-detail" },
      el("summary", {}, "Per unit"),
      el("ul", {}, ...line.unitDiscounts.map((u) =>
        el("li", {}, `${u.quantity} × ${money(view, line.unitPrice + u.amount)} (${money(view, u.amount)})`))))
    : null;
  const row = el("li", { class: "line", dataset: { lineId: line.id } },
    el("div", { class: "line-head" },
      el("span", { class: "line-name", text: line.name }),
      el("span", { class: "price", text: money(view, line.total) })),
    attrs ? el("span", { class: "line-attrs", text: attrs }) : null,
    el("span", { class: "muted" }, `${money(view, line.unitPrice)} each`),
    ...line.discounts.map((d) => el("span", { class: "discount" }, `${d.label}: ${money(view, d.amount)}`)),
    unitDetail,
    el("div", { class: "line-controls" },
      el("div", { class: "stepper" },
        el("button", { type: "button", "aria-label": "One less " + line.name, onclick: () => actions.changeQuantity(line.id, line.quantity - 1) }, "−"),
        qty,
        el("button", { type: "button", "aria-label": "One more " + line.name, onclick: () => actions.changeQuantity(line.id, line.quantity + 1) }, "+")),
      el("button", { type: "button", onclick: () => actions.removeItem(line.id), "aria-label": "Remove " + line.name }, "Remove")),
    issues.length ? el("ul", { class: "issues" }, ...issues.map(issueItem)) : null);
  rowCache.set(line, { row, issues: issues.map((i) => i.code + i.message).join("|") });
  return row;
}

function totalsRows(view) {
  const t = view.totals;
  const rows = [["Subtotal", t.subtotal]];
  if (t.discountTotal) rows.push(["Discounts", t.discountTotal]);
  if (view.shipping) rows.push(["Shipping (" + view.shipping.name + ")", t.shippingTotal]);
  const included = isGross(view) ? " included" : "";
  for (const tax of t.taxes) rows.push([(tax.name || tax.rate) + included, tax.tax]);
  if (t.cashRounding) rows.push(["Cash rounding", t.cashRounding]);
  const out = [];
  for (const [label, amount] of rows) out.push(el("dt", {}, label), el("dd", {}, money(view, amount)));
  out.push(el("dt", { class: "grand" }, "Total"), el("dd", { class: "grand", "data-total": String(t.total) }, money(view, t.total)));
  return out;
}

/** Gross prices: line totals already contain the tax (subtotal + discounts + shipping = gross). */
function isGross(view) {
  const t = view.totals;
  return t.subtotal + t.discountTotal + t.shippingTotal === t.gross;
}

export function renderCart(root, view, actions) {
  const $ = (id) => root.querySelector("#" + id);
  const lineIssues = new Map();
  const cartIssues = [];
  for (const issue of view.issues) {
    if (issue.lineItemId) {
      if (!lineIssues.has(issue.lineItemId)) lineIssues.set(issue.lineItemId, []);
      lineIssues.get(issue.lineItemId).push(issue);
    } else if (issue.code !== "EMPTY_CART") {
      cartIssues.push(issue);
    }
  }
  $("cart-empty").hidden = view.lineItems.length > 0;
  $("lines").replaceChildren(...view.lineItems.map((l) => lineRow(view, l, lineIssues.get(l.id) || [], actions)),
    ...view.customLineItems.map((c) => el("li", { class: "line" },
      el("div", { class: "line-head" }, el("span", { class: "line-name", text: c.name }), el("span", { class: "price", text: money(view, c.total) })))));
  $("codes").replaceChildren(...view.discountCodes.map((c) =>
    el("li", { class: "code " + c.state, dataset: { code: c.code, state: c.state } },
      el("span", {}, c.code + " — " + codeState(c.state)),
      el("button", { type: "button", "aria-label": "Remove code " + c.code, onclick: () => actions.removeCode(c.code) }, "×"))));
  const shipping = $("shipping");
  shipping.hidden = view.availableShippingMethods.length === 0;
  $("shipping-options").replaceChildren(...view.availableShippingMethods.map((m) => {
    const d = m.estimatedDelivery;
    const when = !d ? "" : d.min === d.max ? day(view.locale, d.min) : `${day(view.locale, d.min)} – ${day(view.locale, d.max)}`;
    return el("label", { class: "ship-option" },
      el("input", { type: "radio", name: "shipping", value: m.id, checked: view.shipping && view.shipping.methodId === m.id,
        onchange: () => actions.setShippingMethod(m.id) }),
      el("span", {}, `${m.name} — ${m.price === 0 ? "free" : money(view, m.price)}`, el("br"), el("span", { class: "muted" }, when ? "arrives " + when : "")));
  }));
  $("totals").replaceChildren(...totalsRows(view));
  $("cart-issues").replaceChildren(...cartIssues.map(issueItem));
  $("place-order").disabled = !view.canCheckout;
}

function codeState(state) {
  return { applied: "applied", notApplicable: "not applicable", stoppedByPreviousDiscount: "not combinable", notActive: "expired or not yet valid" }[state] || state;
}
