// commercetools on 127.0.0.1: @labdigital/commercetools-mock (a maintained third-party emulator of the
// commercetools HTTP API, https://github.com/labd/commercetools-node-mock) served by its own fastify app,
// seeded through that API with what a wasm-cart catalog holds: tax categories, zones, shipping methods,
// a product type, products with their variants and prices, cart discounts and their codes.
//
// The drafts follow the HTTP API reference (docs.commercetools.com/api/projects/): TaxCategoryDraft
// (rates with `amount` and `includedInPrice`), ZoneDraft, ShippingMethodDraft (zoneRates, `isDefault`,
// `freeAbove`), ProductDraft (masterVariant / variants by SKU, `publish`), CartDiscountDraft
// (`requiresDiscountCode`) and DiscountCodeDraft.
import { CommercetoolsMock } from "@labdigital/commercetools-mock";

export const PROJECT = "wasm-cart";

/** Minor units of a decimal string in major units ("12.90" -> 1290), without floating point. */
export function cents(amount, digits = 2) {
  const [whole, fraction = ""] = String(amount).split(".");
  const sign = whole.startsWith("-") ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 10 ** digits + Number(fraction.padEnd(digits, "0").slice(0, digits)));
}

/**
 * A Money draft: cent precision, or HighPrecisionMoney when the amount has more decimals than the
 * currency's two (docs.commercetools.com/api/types#highprecisionmoneydraft: `preciseAmount` in units of
 * 10^-fractionDigits; commercetools derives `centAmount` and line totals from it).
 */
function money(currency, amount) {
  const decimals = (String(amount).split(".")[1] ?? "").length;
  if (decimals <= 2) return { currencyCode: currency, centAmount: cents(amount) };
  return { type: "highPrecision", currencyCode: currency, fractionDigits: decimals, preciseAmount: cents(amount, decimals) };
}
const ref = (typeId, key) => ({ typeId, key });

/** Starts the emulator with authentication on; resolves `{ url, mock, stop }`. */
export async function startCommercetools() {
  const mock = new CommercetoolsMock({
    defaultProjectKey: PROJECT,
    enableAuthentication: true,
    validateCredentials: false,
    silent: true,
  });
  await mock.app.listen({ port: 0, host: "127.0.0.1" });
  const url = `http://127.0.0.1:${mock.app.server.address().port}`;
  return { url, mock, stop: () => mock.app.close() };
}

async function token(url, path, scope = "") {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: {
      Authorization: "Basic " + Buffer.from("client:secret").toString("base64"),
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: `grant_type=client_credentials${scope}`,
  });
  if (!response.ok) throw new Error(`token ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

/** A project token (client credentials), as a backend holds it. */
export const adminToken = (url) => token(url, "/oauth/token", `&scope=manage_project:${PROJECT}`);
/** An anonymous session's token, as a storefront gets it for a shopper (`/me` endpoints). */
export const anonymousToken = (url, project = PROJECT) => token(url, `/oauth/${project}/anonymous/token`);

/** `method path` on the project API with `bearer`; throws on anything but 2xx. */
export async function api(url, bearer, method, path, body, project = PROJECT) {
  const response = await fetch(`${url}/${project}${path}`, {
    method,
    headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The commercetools key of a catalog entry: its `external.commercetools`, else its id. */
const keyOf = (entry) => entry.external?.commercetools ?? entry.id;

/** Prices of one currency/country as commercetools Prices: the base price with the tiered ones as `tiers`. */
function prices(list) {
  const base = list.filter((p) => !p.minQuantity && !p.customerGroup && !p.validFrom && !p.validUntil);
  return base.map((p) => {
    const tiers = list
      .filter((t) => t.minQuantity && t.currency === p.currency && t.country === p.country)
      .map((t) => ({ minimumQuantity: t.minQuantity, value: money(t.currency, t.amount) }));
    return {
      value: money(p.currency, p.amount),
      ...(p.country ? { country: p.country } : {}),
      ...(tiers.length ? { tiers } : {}),
    };
  });
}

/** Creates in `project` everything `catalog` sells. Returns the admin token. */
export async function seedFromCatalog(url, catalog, project = PROJECT) {
  const bearer = await adminToken(url);
  const post = (path, body) => api(url, bearer, "POST", path, body, project);
  const includedInPrice = catalog.pricing?.pricesIncludeTax ?? true;
  for (const category of catalog.taxCategories) {
    await post("/tax-categories", {
      key: category.id,
      name: category.name ?? category.id,
      rates: category.rates.map((r) => ({
        name: r.name ?? `${r.rate}`,
        amount: Number(r.rate),
        includedInPrice,
        country: r.country,
      })),
    });
  }
  const countries = [...new Set(catalog.shippingMethods.flatMap((m) => m.rates.flatMap((r) => r.countries)))];
  for (const country of countries) {
    await post("/zones", { key: `zone-${country}`, name: country, locations: [{ country }] });
  }
  for (const method of catalog.shippingMethods) {
    await post("/shipping-methods", {
      key: keyOf(method),
      name: method.name,
      isDefault: Boolean(method.default),
      taxCategory: ref("tax-category", method.taxCategory),
      zoneRates: countries.map((country) => ({
        zone: ref("zone", `zone-${country}`),
        shippingRates: method.rates
          .filter((r) => r.countries.includes(country))
          .map((r) => ({
            price: money(r.currency, r.price),
            ...(r.freeAbove ? { freeAbove: money(r.currency, r.freeAbove) } : {}),
            tiers: (r.tiers ?? []).map((t) => ({
              type: "CartValue",
              minimumCentAmount: cents(t.minCartValue),
              price: money(r.currency, t.price),
            })),
          })),
      })),
    });
  }
  await post("/product-types", { key: "wasm-cart", name: "wasm-cart product", description: "seeded", attributes: [] });
  for (const product of catalog.products) {
    const variant = (v) => ({ sku: v.external?.commercetools ?? v.sku, prices: prices(v.prices ?? product.prices) });
    await post("/products", {
      key: product.id,
      name: { en: product.name },
      slug: { en: product.id.toLowerCase() },
      productType: ref("product-type", "wasm-cart"),
      taxCategory: ref("tax-category", product.taxCategory),
      masterVariant: { sku: product.external?.commercetools ?? product.sku ?? product.id, prices: prices(product.prices) },
      variants: (product.variants ?? []).map(variant),
      publish: true,
    });
  }
  for (const promotion of catalog.promotions ?? []) {
    if (!promotion.code || promotion.value.type !== "percentage" || promotion.target.type !== "items") continue;
    const discount = await post("/cart-discounts", {
      key: promotion.id,
      name: { en: promotion.label ?? promotion.id },
      value: { type: "relative", permyriad: Math.round(Number(promotion.value.percent) * 100) },
      cartPredicate: "1 = 1",
      target: { type: "lineItems", predicate: "1 = 1" },
      sortOrder: "0.5",
      requiresDiscountCode: true,
    });
    await post("/discount-codes", { code: promotion.code, cartDiscounts: [{ typeId: "cart-discount", id: discount.id }] });
  }
  return bearer;
}
