// The confirmation: what was ordered, what was charged, where it goes and when it should arrive —
// all from the server's priced view of the order (`order.view`), which is what the card was charged.
import { el, money, day, deliveryText, totalTerms, COUNTRIES } from "./format.js";

/** `order`: what checkout() resolved (or the `ordered` event carried); `shown`: the cart's view when
 *  the order was placed, used only when the answer has no view; `focus`: move the focus to it. */
export function showConfirmation(root, order, shown, { focus = true } = {}) {
  const $ = (id) => root.querySelector("#" + id);
  const view = order.view || shown;
  const section = $("confirmation");
  section.dataset.checkoutId = order.orderId || "";
  $("confirmation-number").textContent = order.confirmationNumber ? "Confirmation number " + order.confirmationNumber : "";
  $("confirmation-items").replaceChildren(...(view ? view.lineItems : []).map((line) =>
    el("li", { dataset: { productId: line.productId } },
      el("span", {}, `${line.quantity} × ${line.name}`, attributesText(line)),
      el("span", { class: "price" }, money(view, line.total)))));
  $("confirmation-totals").replaceChildren(...(view ? sums(view) : []));
  $("confirmation-delivery").textContent = delivery(view, order);
  $("confirmation-address").replaceChildren(...addressLines(view && view.shippingAddress).flatMap((line, i) =>
    i ? [el("br"), line] : [line]));
  const vendorOrders = order.orders && order.orders.length ? order.orders : [order];
  $("order-numbers").replaceChildren(...vendorOrders.map((o) =>
    el("li", { dataset: { orderId: o.orderId } }, (o.vendor ? o.vendor + ": " : "") + "order " + o.orderId)));
  section.hidden = false;
  if (focus) section.focus();
}

function attributesText(line) {
  const entries = Object.entries(line.attributes || {});
  return entries.length ? el("span", { class: "muted" }, " (" + entries.map(([k, v]) => `${k}: ${v}`).join(", ") + ")") : null;
}

function sums(view) {
  const t = view.totals;
  return [...totalTerms(view),
    el("dt", { class: "grand" }, "Charged"), el("dd", { class: "grand", dataset: { total: String(t.total) } }, money(view, t.total))];
}

function delivery(view, order) {
  if (view && view.shipping) {
    const when = deliveryText(view.locale, view.shipping.estimatedDelivery);
    return `${view.shipping.name} shipping` + (when ? `, arriving ${when}.` : ".");
  }
  if (order.estimatedDelivery) return "Arriving " + day(view ? view.locale : "en", order.estimatedDelivery) + ".";
  return view ? "Nothing in this order is shipped: services start once the order is confirmed." : "";
}

function addressLines(address) {
  if (!address) return [];
  const cityLine = [address.postalCode, address.city].filter(Boolean).join(" ");
  return [[address.firstName, address.lastName].filter(Boolean).join(" "),
    [address.streetName, address.streetNumber].filter(Boolean).join(" "), cityLine,
    COUNTRIES[address.country] || address.country, address.email].filter(Boolean);
}
