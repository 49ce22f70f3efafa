// The product grid and the product detail dialog (image, variant choice, required attributes, quantity).
import { el, formatDecimal, keyed, setText } from "./format.js";

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

/** The product's picture: `metadata.image` of the catalog, relative to the storefront's own files
 *  (so it is versioned and cached offline with them). Decorative: the name is next to it. */
function image(product) {
  const src = product.metadata && product.metadata.image;
  if (typeof src !== "string" || !/^img\/[a-z0-9-]+\.svg$/.test(src)) return null;
  return el("img", { src: new URL(src, import.meta.url).href, alt: "", width: "160", height: "120" });
}

function productCard(product, onOpen) {
  const name = el("span", { class: "name" });
  const vendor = el("span", { class: "muted" });
  const price = el("span", { class: "price" });
  const label = el("span", { class: "vh" });
  const choose = el("button", { type: "button", onclick: () => onOpen(card.product, choose) }, "Choose", label);
  const card = el("li", { class: "product", dataset: { productId: product.id } },
    image(product), el("span", { class: "kind", text: product.kind || "product" }), name, vendor, price, choose);
  card.parts = { name, vendor, price, label, choose };
  return card;
}

/** The grid, updated in place (keyed by product id): a card's button keeps the focus across
 *  re-renders, and a new catalog updates names and prices without rebuilding. */
export function renderGrid(list, catalog, view, onOpen) {
  const products = catalog.products.filter((p) => p.available !== false);
  keyed(list, products, (p) => p.id, (p) => productCard(p, onOpen), (card, product) => {
    const parts = card.parts;
    const price = listPrice(product.prices, view.currency, view.country);
    card.product = product;
    setText(parts.name, product.name);
    setText(parts.vendor, product.vendor ? "by " + product.vendor : "");
    setText(parts.label, " options for " + product.name);
    setText(parts.price, price ? formatDecimal(view.locale, view.currency, price.amount) : "not sold in " + view.currency);
    parts.choose.disabled = !price;
  });
}

/** The required attributes the shopper left empty (spaces only count as empty, as in the engine). */
function missingAttributes(names, values) {
  return names.filter((name) => !String(values[name] ?? "").trim());
}

/** Fills and opens the product dialog. `add(request)` is the cart's addItem: when it throws, the
 *  dialog stays open and shows why, so nothing the shopper typed is lost. On close the focus goes back
 *  to `opener`. */
export function openProduct(dialog, product, view, add, opener) {
  const $ = (id) => dialog.querySelector("#" + id);
  $("product-title").textContent = product.name;
  $("product-image").replaceChildren(...[image(product)].filter(Boolean));
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

  const required = product.requiredAttributes || [];
  const attrBox = $("product-attributes");
  attrBox.replaceChildren(...required.map((name) =>
    el("label", {}, name + " (required)", el("input", { name: "attr-" + name, "data-attribute": name, required: true, autocomplete: "off" }))));

  const fail = (text, field) => {
    error.textContent = text;
    error.hidden = false;
    if (field) field.focus();
  };
  $("product-form").onsubmit = (event) => {
    event.preventDefault();
    const attributes = {};
    for (const input of attrBox.querySelectorAll("input[data-attribute]")) attributes[input.dataset.attribute] = input.value.trim();
    const missing = missingAttributes(required, attributes);
    if (missing.length) {
      fail("Please enter: " + missing.join(", "), attrBox.querySelector(`input[data-attribute="${missing[0]}"]`));
      return;
    }
    const request = { productId: product.id, quantity: Number(quantity.value), attributes };
    const variant = chosen();
    if (variant && variant.id !== null) request.variantId = variant.id;
    try {
      add(request);
      dialog.close();
    } catch (e) {
      fail(e.message || String(e), e.code === "INVALID_QUANTITY" ? quantity : null);
    }
  };
  $("product-cancel").onclick = () => dialog.close();
  dialog.onclose = () => opener && opener.isConnected && opener.focus();
  dialog.showModal();
}
