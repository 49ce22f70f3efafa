// The product grid and the product detail dialog (variant choice, required attributes, quantity).
import { el, formatDecimal } from "./format.js";

/** The price a product is listed at for a cart: currency match, no group, country if any, tier 1. */
export function listPrice(prices, currency, country, now = Date.now()) {
  const candidates = (prices || []).filter((p) =>
    p.currency === currency && !p.customerGroup && (!p.country || p.country === country) &&
    (p.minQuantity || 1) <= 1 &&
    (!p.validFrom || Date.parse(p.validFrom) <= now) && (!p.validUntil || now < Date.parse(p.validUntil)));
  candidates.sort((a, b) => Number(Boolean(b.country)) - Number(Boolean(a.country)));
  return candidates[0] || null;
}

function variantPrices(product, variant) {
  return variant && variant.prices ? variant.prices : product.prices;
}

export function renderGrid(list, catalog, view, onOpen) {
  const items = catalog.products.filter((p) => p.available !== false).map((product) => {
    const price = listPrice(product.prices, view.currency, view.country);
    return el("li", { class: "product", dataset: { productId: product.id } },
      el("span", { class: "kind", text: product.kind || "product" }),
      el("span", { class: "name", text: product.name }),
      product.vendor ? el("span", { class: "muted", text: "by " + product.vendor }) : null,
      el("span", { class: "price", text: price ? formatDecimal(view.locale, view.currency, price.amount) : "not sold in " + view.currency }),
      el("button", {
        type: "button", disabled: !price, "aria-label": "Choose options for " + product.name,
        onclick: () => onOpen(product),
      }, "Choose"));
  });
  list.replaceChildren(...items);
}

/** Fills and opens the product dialog. `add(request)` is the cart's addItem: when it throws, the
 *  dialog stays open and shows why (a CartError's message), so nothing the shopper typed is lost. */
export function openProduct(dialog, product, view, add) {
  const $ = (id) => dialog.querySelector("#" + id);
  $("product-title").textContent = product.name;
  $("product-meta").textContent = [product.kind, product.vendor && "by " + product.vendor, product.sku].filter(Boolean).join(" · ");
  $("product-description").textContent = product.description || "";
  const error = $("product-error");
  error.hidden = true;
  const quantity = $("product-quantity");
  quantity.value = String(product.minQuantity || 1);
  quantity.min = String(product.minQuantity || 1);
  quantity.max = String(product.maxQuantity || 9999);

  const variants = [{ id: null, name: product.name, sku: product.sku, prices: null }, ...(product.variants || [])];
  const variantBox = $("product-variants");
  variantBox.replaceChildren();
  let select = null;
  if ((product.variants || []).length) {
    select = el("select", { id: "variant-select" },
      ...variants.map((v, i) => el("option", { value: String(i), text: v.name || v.sku })));
    variantBox.append(el("label", { for: "variant-select" }, "Variant"), select);
  }
  const chosen = () => (select ? variants[Number(select.value)] : null);
  const showPrice = () => {
    const price = listPrice(variantPrices(product, chosen()), view.currency, view.country);
    $("product-price").textContent = price ? formatDecimal(view.locale, view.currency, price.amount) : "not available";
    $("product-add").disabled = !price;
  };
  if (select) select.addEventListener("change", showPrice);
  showPrice();

  const attrBox = $("product-attributes");
  attrBox.replaceChildren(...(product.requiredAttributes || []).map((name) =>
    el("label", {}, name + " (required)", el("input", { name: "attr-" + name, "data-attribute": name, required: true, autocomplete: "off" }))));

  $("product-form").onsubmit = (event) => {
    event.preventDefault();
    const attributes = {};
    for (const input of attrBox.querySelectorAll("input[data-attribute]")) {
      if (input.value.trim()) attributes[input.dataset.attribute] = input.value.trim();
    }
    const request = { productId: product.id, quantity: Number(quantity.value), attributes };
    const variant = chosen();
    if (variant && variant.id !== null) request.variantId = variant.id;
    try {
      add(request);
      dialog.close();
    } catch (e) {
      error.textContent = e.message || String(e);
      error.hidden = false;
    }
  };
  $("product-cancel").onclick = () => dialog.close();
  dialog.showModal();
}
