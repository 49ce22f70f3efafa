// Renders the cart panel from the engine's view. Rows are keyed by line id and updated in place, so a
// focused control (a quantity field, +, −) keeps the focus while the cart reprices around it.
import { el, money, deliveryText, keyed, keyedRow, setText, totalTerms } from "./format.js";

/** `actions` (app.js) run the change and throw the engine's CartError when it is refused. */
export function renderCart(root, view, actions) {
  const $ = (id) => root.querySelector("#" + id);
  const { byLine, cartLevel } = groupIssues(view.issues);
  $("cart-empty").hidden = view.lineItems.length > 0;
  const rows = [...view.lineItems.map((line) => ({ key: line.id, line })),
    ...view.customLineItems.map((custom) => ({ key: "custom:" + custom.id, custom }))];
  keyed($("lines"), rows, (r) => r.key, (r) => (r.line ? lineRow(actions) : customRow()), (row, r) =>
    (r.line ? updateLine(row, view, r.line, byLine.get(r.line.id) || []) : updateCustom(row, view, r.custom)));
  keyed($("codes"), view.discountCodes, (c) => c.code, (c) => codeChip(c, actions), (chip, c) => {
    chip.className = "code " + c.state;
    chip.dataset.state = c.state;
    setText(chip.parts.text, c.code + " — " + codeState(c.state));
  });
  renderShipping($("shipping"), $("shipping-options"), view, actions);
  $("totals").replaceChildren(...totalTerms(view));
  const grand = $("grand-total");
  setText(grand, money(view, view.totals.total));
  grand.dataset.total = String(view.totals.total);
  const withFixes = cartLevel.map((issue) => ({ issue, fix: actions.fixFor(issue, view) }));
  keyed($("cart-issues"), withFixes, ({ issue, fix }) => [issue.code, issue.message, fix?.text, fix?.label].join("|"),
    issueItem, () => {});
  $("place-order").disabled = !view.canCheckout;
}

function groupIssues(issues) {
  const byLine = new Map();
  const cartLevel = [];
  for (const issue of issues) {
    if (issue.lineItemId) {
      if (!byLine.has(issue.lineItemId)) byLine.set(issue.lineItemId, []);
      byLine.get(issue.lineItemId).push(issue);
    } else if (issue.code !== "EMPTY_CART") {
      cartLevel.push(issue);
    }
  }
  return { byLine, cartLevel };
}

/** A cart-level issue, with a button that resolves it when `actions.fixFor(issue, view)` offers one. */
function issueItem({ issue, fix }) {
  return el("li", { class: "issue " + issue.severity, dataset: { code: issue.code } }, fix ? fix.text : issue.message,
    fix ? el("button", { type: "button", class: "fix", onclick: fix.run }, fix.label) : null);
}

function lineRow(actions) {
  const p = {};
  const row = el("li", { class: "line" },
    el("div", { class: "line-head" },
      p.name = el("span", { class: "line-name" }),
      p.total = el("span", { class: "price" })),
    p.attrs = el("span", { class: "line-attrs" }),
    p.each = el("span", { class: "muted" }),
    p.discounts = el("div", { class: "discounts" }),
    el("div", { class: "line-controls" },
      p.stepper = el("div", { class: "stepper", role: "group" },
        p.less = el("button", { type: "button", onclick: () => step(row, -1, actions) },
          el("span", { "aria-hidden": "true" }, "−"), p.lessName = el("span", { class: "vh" })),
        p.qty = el("input", { type: "number", min: "1", max: "9999", inputmode: "numeric",
          onchange: () => typed(row, actions),
          // Left without a change (or after another tab's): the field shows the cart's quantity again.
          onblur: () => { p.qty.value = String(row.line.quantity); } }),
        p.more = el("button", { type: "button", onclick: () => step(row, 1, actions) },
          el("span", { "aria-hidden": "true" }, "+"), p.moreName = el("span", { class: "vh" }))),
      p.remove = el("button", { type: "button", onclick: () => actions.removeItem(row.line) }, "Remove",
        p.removeName = el("span", { class: "vh" }))),
    p.error = el("p", { class: "error-text", role: "alert", hidden: true }),
    p.fix = el("div", { class: "fix-attributes" }),
    p.issues = el("ul", { class: "issues" }));
  row.parts = p;
  row.actions = actions;
  return row;
}

function updateLine(row, view, line, issues) {
  const p = row.parts;
  row.line = line;
  row.view = view;
  row.dataset.lineId = line.id;
  setText(p.name, line.name);
  setText(p.total, money(view, line.total));
  setText(p.attrs, Object.entries(line.attributes || {}).map(([k, v]) => k + ": " + v).join(", "));
  setText(p.each, `${money(view, line.unitPrice)} each`);
  const perUnit = line.unitDiscounts.length ? [el("details", { class: "unit-detail" }, el("summary", {}, "Per unit"),
    el("ul", {}, ...line.unitDiscounts.map((u) =>
      el("li", {}, `${u.quantity} × ${money(view, line.unitPrice + u.amount)} (${money(view, u.amount)})`))))] : [];
  p.discounts.replaceChildren(...line.discounts.map((d) => el("span", { class: "discount" }, `${d.label}: ${money(view, d.amount)}`)),
    ...perUnit);
  setText(p.lessName, "One less " + line.name);
  setText(p.moreName, "One more " + line.name);
  setText(p.removeName, " " + line.name);
  p.qty.setAttribute("aria-label", "Quantity of " + line.name);
  p.stepper.setAttribute("aria-label", "Quantity of " + line.name);
  if (row.ownerDocument.activeElement !== p.qty) p.qty.value = String(line.quantity);
  // At 1, − would delete the line: Remove does that (with Undo). aria-disabled keeps the focus on it.
  p.less.setAttribute("aria-disabled", String(line.quantity <= 1));
  for (const button of [p.less, p.more, p.remove]) button.hidden = line.gift;
  p.qty.readOnly = line.gift;
  const missing = issues.find((i) => i.code === "MISSING_ATTRIBUTE");
  renderAttributeFix(row, missing ? missing.details.attributes : []);
  p.issues.replaceChildren(...issues.filter((i) => i !== missing).map((i) =>
    el("li", { class: "issue " + i.severity, dataset: { code: i.code } }, i.message)));
}

/** −/+: the quantity the row shows, one step away. */
function step(row, delta, actions) {
  if (delta < 0 && row.line.quantity <= 1) return actions.atMinimum(row.line);
  return change(row, row.line.quantity + delta, actions);
}

/** A typed quantity: empty or not a whole number keeps the line as it is and says why. */
function typed(row, actions) {
  const text = row.parts.qty.value.trim();
  const quantity = Number(text);
  if (text === "" || !Number.isInteger(quantity) || quantity < 1) {
    showLineError(row, "Enter a quantity of 1 or more; Remove takes the item out.");
    return;
  }
  change(row, quantity, actions);
}

function change(row, quantity, actions) {
  try {
    actions.changeQuantity(row.line, quantity);
    showLineError(row, "");
  } catch (e) {
    showLineError(row, e.code === "INVALID_QUANTITY" ? quantityText(e, row.line) : e.message || String(e));
  }
}

function quantityText(error, line) {
  const d = error.details || {};
  const limit = d.requested < d.min ? `at least ${d.min}` : `at most ${Number.isInteger(d.max) ? d.max : 9999}`;
  return `${line.name}: ${limit} (the cart keeps ${line.quantity}).`;
}

/** The row's own error, next to the field; the field shows the cart's quantity again. */
function showLineError(row, text) {
  const p = row.parts;
  setText(p.error, text);
  p.error.hidden = !text;
  p.qty.value = String(row.line.quantity);
  if (text) p.qty.setAttribute("aria-describedby", (p.error.id ||= "line-error-" + row.line.id));
  else p.qty.removeAttribute("aria-describedby");
}

/** Required attributes the line lacks, as fields right on the line (not "remove and add again"). */
function renderAttributeFix(row, names) {
  const box = row.parts.fix;
  const key = names.join("|");
  if (box.dataset.names === key) return;
  box.dataset.names = key;
  if (!names.length) {
    box.replaceChildren();
    return;
  }
  const errorId = "fix-error-" + row.line.id;
  const inputs = names.map((name) => el("input", { name, autocomplete: "off", "data-attribute": name, "aria-describedby": errorId }));
  const error = el("p", { class: "error-text", role: "alert", id: errorId, hidden: true });
  const fail = (text, input) => {
    error.textContent = text;
    error.hidden = false;
    for (const i of inputs) i.setAttribute("aria-invalid", String(i === input));
    input.focus();
  };
  const form = el("form", { class: "fix-form", onsubmit: (e) => {
    e.preventDefault();
    const empty = inputs.find((i) => !i.value.trim());
    if (empty) return fail("Please enter: " + empty.name, empty);
    try {
      return row.actions.setAttributes(row.line, Object.fromEntries(inputs.map((i) => [i.name, i.value.trim()])));
    } catch (err) {
      return fail(err.message || String(err), inputs[0]);
    }
  } },
  el("p", { class: "issue error" }, "Please enter: " + names.join(", ")),
  ...inputs.map((input) => el("label", {}, input.name, input)),
  error,
  el("button", { type: "submit" }, "Save"));
  box.replaceChildren(form);
}

function customRow() {
  const row = el("li", { class: "line" });
  row.parts = { name: el("span", { class: "line-name" }), total: el("span", { class: "price" }) };
  row.append(el("div", { class: "line-head" }, row.parts.name, row.parts.total));
  return row;
}

function updateCustom(row, view, custom) {
  setText(row.parts.name, custom.name);
  setText(row.parts.total, money(view, custom.total));
}

function codeChip(code, actions) {
  const text = el("span");
  const chip = el("li", { class: "code", dataset: { code: code.code } }, text,
    el("button", { type: "button", onclick: () => actions.removeCode(code.code) },
      el("span", { "aria-hidden": "true" }, "×"), el("span", { class: "vh" }, "Remove code " + code.code)));
  chip.parts = { text };
  return chip;
}

function renderShipping(fieldset, list, view, actions) {
  fieldset.hidden = view.availableShippingMethods.length === 0;
  keyed(list, view.availableShippingMethods, (m) => m.id, (m) => {
    const input = el("input", { type: "radio", name: "shipping", value: m.id, onchange: () => actions.setShippingMethod(m.id) });
    const text = el("span");
    const when = el("span", { class: "muted" });
    const option = el("label", { class: "ship-option" }, input, el("span", {}, text, el("br"), when));
    option.parts = { input, text, when };
    return option;
  }, (option, m) => {
    const p = option.parts;
    p.input.checked = Boolean(view.shipping && view.shipping.methodId === m.id);
    setText(p.text, `${m.name} — ${m.price === 0 ? "free" : money(view, m.price)}`);
    const when = deliveryText(view.locale, m.estimatedDelivery);
    setText(p.when, when ? "arrives " + when : "");
  });
}

function codeState(state) {
  return { applied: "applied", notApplicable: "not applicable", stoppedByPreviousDiscount: "not combinable", notActive: "expired or not yet valid" }[state] || state;
}

/** The row of a line, for moving the focus to it. */
export function lineElement(root, lineId) {
  return keyedRow(root.querySelector("#lines"), lineId);
}
