// Shopware 6 Store API on 127.0.0.1: an emulator of the endpoints a browser-direct guest checkout uses
// (country, currency, salutation, account/register, context, checkout/cart, checkout/cart/line-item,
// checkout/order, order), served by node:http and seeded from a wasm-cart catalog. EVERY request body
// and EVERY response body is validated with ajv (+ ajv-formats) against the official Store API OpenAPI
// document; what fails lands in `emulator.violations` (a request gets Shopware's 400 error body, a
// response the emulator got wrong is replaced by a 500 and recorded).
//
// Sources
// - Schema: node_modules/@shopware/api-client/api-types/storeApiSchema.json (@shopware/api-client 1.6.0;
//   OpenAPI 3.2.0, info.version "6.7.13.0"), compiled as a whole document (`storeApi#/paths/...` and
//   `storeApi#/components/...` references) with ajv 8 in JSON Schema 2020-12 mode, `strict: false`
//   (the document carries OpenAPI keywords such as `example`, `readOnly`, `deprecated`). Its
//   `"format": "^[0-9a-f]{32}$"` (a pattern written as a format, CartPriceReference.variantId) is an
//   unknown format to ajv and is ignored, as any validator would. Shopware's own correction file next to
//   it (storeApiSchema.overrides.json) was read but is NOT applied.
// - Shopware source, github.com/shopware/shopware (trunk snapshot of 2024-10-24, commit cfc087db92, with
//   the v6.7.0.0 feature flags read as active), read for behaviour:
//   src/Core/Framework/Api/EventListener/CorsListener.php (OPTIONS answered before routing and auth;
//     Allow-Origin *, Allow-Methods, Allow-Headers = Expose-Headers = the list in CORS_ALLOWED_HEADERS);
//   src/Core/Framework/Api/EventListener/Authentication/SalesChannelAuthenticationListener.php,
//     src/Core/Framework/Api/Util/AccessKeyHelper.php, src/Core/Framework/Api/ApiException.php,
//     src/Core/Framework/Routing/Exception/SalesChannelNotFoundException.php (no key: 401 Symfony
//     Unauthorized, code "0"; an SWSC key of no sales channel: 412
//     FRAMEWORK__ROUTING_SALES_CHANNEL_NOT_FOUND; a key of no known origin prefix: 500
//     FRAMEWORK__API_INVALID_ACCESS_KEY);
//   src/Core/Framework/Api/EventListener/ErrorResponseFactory.php, src/Core/Framework/ShopwareHttpException.php,
//     src/Core/Framework/Validation/Exception/ConstraintViolationException.php,
//     src/Core/Framework/Validation/DataValidator.php, .../DataAbstractionLayer/Validation/EntityExists.php
//     (error bodies: {status, code, title, detail, meta.parameters}; violations with source.pointer and
//     code "VIOLATION::<NAME>");
//   src/Core/Framework/Routing/SalesChannelRequestContextResolver.php, src/Core/PlatformRequest.php,
//     src/Core/Framework/Api/EventListener/ResponseHeaderListener.php, src/Core/Framework/Util/Random.php
//     (a request without sw-context-token gets a fresh 32-character alphanumeric token, echoed in the
//     response header; `_loginRequired` routes answer 403 CHECKOUT__CUSTOMER_NOT_LOGGED_IN);
//   src/Core/Framework/Routing/JsonRequestTransformerListener.php (a body is JSON only with
//     Content-Type application/json; malformed JSON: 400 "The JSON payload is malformed.");
//   src/Core/Checkout/Customer/SalesChannel/RegisterRoute.php, .../Customer/Validation/
//     {CustomerValidationFactory,CustomerProfileValidationFactory,AddressValidationFactory}.php
//     (storefrontUrl must be one of the domains, rtrim('/'); the billing address takes the customer's
//     names; the context token is replaced and the new one, logged in, is the response header);
//   src/Core/System/SalesChannel/SalesChannel/ContextSwitchRoute.php, .../SalesChannel/ContextTokenResponse.php;
//   src/Core/Checkout/Cart/SalesChannel/{CartItemAddRoute,CartOrderRoute}.php,
//     src/Core/Checkout/Cart/LineItemFactoryRegistry.php, .../LineItemFactoryHandler/{Product,Promotion}LineItemFactory.php,
//     src/Core/Checkout/Cart/Order/OrderPersister.php, src/Core/Checkout/Cart/Order/OrderConverter.php,
//     src/Core/Checkout/Cart/CartException.php (blocking errors: 500 CHECKOUT__CART_INVALID; empty cart:
//     400 CHECKOUT__CART_EMPTY; the cart is deleted after the order), src/Core/Checkout/Order/SalesChannel/
//     {OrderRoute,OrderRouteResponse}.php;
//   src/Core/Checkout/Cart/Error/{Error,ErrorCollection}.php, src/Core/System/SalesChannel/Api/StructEncoder.php
//     (an error serialises get_object_vars + key, level, message, messageKey, parameters, block,
//     blockResubmit, with Exception's `code` 0; the collection is an object keyed by error id, `[]` when
//     empty), src/Core/Checkout/Cart/CartPersister.php (errors are not persisted: each answer carries the
//     errors of its own calculation);
//   src/Core/Checkout/Promotion/Cart/{PromotionCollector,PromotionProcessor,PromotionCalculator,
//     PromotionItemBuilder,PromotionCartAddedInformationError,PromotionCartInformationTrait}.php,
//     .../Promotion/Cart/Error/{PromotionNotFoundError,PromotionNotEligibleError,PromotionsOnCartPriceZeroError}.php,
//     .../Promotion/Cart/Discount/{Calculator/DiscountPercentageCalculator,ScopePackager/CartScopeDiscountPackager}.php,
//     src/Core/Checkout/Cart/LineItem/LineItemQuantitySplitter.php (unknown code: "promotion-not-found",
//     level 20, block false, code dropped; applied: a line item {id: discount id, type promotion,
//     referencedId: code} and the notice "promotion-discount-added-<discount id>", level 0, block false;
//     the percentage is taken of the per-unit prices of the product lines);
//   src/Core/Content/Product/Cart/{ProductCartProcessor,ProductStockReachedError,ProductOutOfStockError,
//     ProductNotFoundError,MinOrderQuantityError}.php (stock: the quantity is cut to what is available and
//     "product-stock-reached<id>" is added, level 10, block true);
//   src/Core/Content/Product/SalesChannel/Price/ProductPriceCalculator.php, src/Core/Checkout/Cart/Price/
//     {GrossPriceCalculator,CashRounding,PercentagePriceCalculator,AmountCalculator}.php,
//     src/Core/Checkout/Cart/Price/Struct/{PriceCollection,CalculatedPrice,CartPrice}.php,
//     src/Core/Checkout/Cart/Tax/{TaxCalculator,PercentageTaxRuleBuilder}.php,
//     src/Core/Checkout/Cart/Tax/Struct/{CalculatedTax,CalculatedTaxCollection}.php,
//     src/Core/Framework/Util/FloatComparator.php (gross prices: unit = cashRound(gross); tax per rule =
//     gross/(1+r)*r, times quantity, PHP round() to the item rounding's decimals; every stored float goes
//     through (float)(string), i.e. 14 significant digits; cart taxes "horizontal": the lines' taxes
//     summed per rate and rounded; net = total - taxes);
//   src/Core/Checkout/Cart/Delivery/{DeliveryBuilder,DeliveryCalculator,DeliveryProcessor}.php,
//     .../Delivery/Struct/DeliveryPositionCollection.php (one delivery when a line is shipping-cost aware,
//     which promotion discount lines always are; the price matrix "by cart price" sums only positions
//     with deliveryInformation.freeDelivery === false, i.e. the shippable products BEFORE discounts, so
//     `freeAbove` is compared with that; the cheapest matching row wins; no matching row:
//     "shipping-method-blocked-<name>", level 10, block true; a delivery of discount positions only costs
//     0). The catalog's shipping `taxCategory` becomes Shopware's tax type "fixed" (not the default "auto").
// - Docs: developer.shopware.com (github.com/shopware/docs): guides/integrations-api/general-concepts/
//   search-criteria.md and resources/references/core-reference/dal-reference/filters-reference.md
//   (equalsAny takes a list of values).
//
// Schema relaxations (the only ones; everything else is validated as the document says), see RELAXATIONS:
//   R1 account/register request: billingAddress/shippingAddress reference the ENTITY CustomerAddress whose
//      `required` lists `id` and `customerId`, which RegisterRoute generates (mapAddressData + Uuid::randomHex)
//      and no client can send: those two are dropped from `required` for the request only.
//   R2 account/register request: `password` is listed required although its own description says
//      "Required, unless `guest` is `true`" (RegisterRoute validates it only for non-guests): required
//      unless guest is true.
//   R3 Criteria filters (SimpleFilter): `value` is typed string, but the documented equalsAny form is a
//      list (filters-reference.md) and QueryStringParser accepts a list or a "|"-separated string: for
//      type equalsAny a non-empty list of strings is accepted too.
//   R4 Cart.errors: declared `type: object` next to an anyOf whose first branch is a list; Shopware
//      serialises an empty ErrorCollection as `[]` (PHP empty array): the `type: object` is dropped.
//   R5 ContextTokenResponse.redirectUrl: typed string, but ContextTokenResponse always carries it and it
//      is null unless a language switch moves the domain (ContextSwitchRouteTest asserts null): null allowed.
//   R6 Country.addressFormat: typed object, but it is a list of lines (CountryDefinition::DEFAULT_ADDRESS_FORMAT):
//      a list of lists of strings is accepted too.
//   R7 Order.shippingCosts, OrderDelivery.shippingCosts, OrderDeliveryPosition.price, OrderTransaction.amount:
//      these JSON-field CalculatedPrices type calculatedTaxes/taxRules/referencePrice as object, but Shopware
//      serialises the collections as lists and absent reference/list/regulation prices as null (as the
//      schema's own CalculatedPrice says): lists and null accepted there.
//   R8 OrderRouteResponse.paymentChangeable: typed object, but it is a PHP array that is `[]` unless
//      checkPromotion is sent: an empty list is accepted too.
//
// The happy path (a guest checkout; every body is what the schema + R1-R3 accept), each request with
// `sw-access-key`, `Content-Type: application/json`, and from the second on the newest `sw-context-token`:
//   POST  /store-api/country        {"filter":[{"type":"equalsAny","field":"iso","value":["DE"]}]}  (or "DE|AT", or equals)
//   POST  /store-api/currency       {}             -> a bare list of Currency (not {elements})
//   POST  /store-api/salutation     {}             -> {elements:[...]} with salutationKey "not_specified"
//   POST  /store-api/account/register {"guest":true,"email","firstName","lastName","acceptedDataProtection":true,
//         "storefrontUrl":<a domain, no trailing slash>,"salutationId"?,"billingAddress":{"firstName","lastName",
//         "street","city","countryId","zipcode"?,...},"shippingAddress"?}  -> Customer; NEW sw-context-token header
//   PATCH /store-api/context        {"currencyId"?,"shippingMethodId"?,"countryId"?,...}  -> {"redirectUrl":null}
//   POST  /store-api/checkout/cart/line-item {"items":[{"id","type":"product","referencedId":<uuid>,"quantity"},
//         {"id","type":"promotion","referencedId":<code>}]}  -> Cart (the same id again adds to its quantity)
//   POST  /store-api/checkout/order {}             -> Order; the cart is then empty
//   POST  /store-api/order          {"limit":1,"sort":[{"field":"orderDateTime","order":"DESC"}]}  -> {orders:{elements}}
//
// Where real Shopware sends null for a property the schema types without null (entity fields such as
// Customer.title, a search result's `limit`, LineItem.description/cover) the emulator leaves the property
// out instead of relaxing the schema. Not emulated: LineItem.payload (the schema types it ProductJsonApi,
// a JSON:API product resource that Shopware's product/promotion payloads are not), promotion line items'
// priceDefinition (a PercentagePriceDefinition, which the schema types as CartPriceQuantity), parent/variant
// containers (every catalog product and variant is a standalone buyable product), advanced (tier, group,
// country) prices, promotion customer-group conditions and non-percentage or non-item promotions (listed in
// `skippedPromotions`; their codes are unknown), the cart line-item rate limiter, double opt-in, guest
// deep-link order lookup, GET /context and the other routes (a route of the schema that is not emulated
// answers 501 and is recorded as a violation).
//
// Every Store API answer after authentication carries `sw-context-token`; answers refused before it (no or
// wrong access key, unknown route) echo the request's token only, as ResponseHeaderListener does.
import http from "node:http";
import { readFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;
const require = createRequire(import.meta.url);

/** The official Store API schema shipped with @shopware/api-client. */
export const SCHEMA_PATH = path.join(
  path.dirname(require.resolve("@shopware/api-client")),
  "..",
  "api-types",
  "storeApiSchema.json",
);

/** Shopware's CorsListener list (Allow-Headers and Expose-Headers). */
export const CORS_ALLOWED_HEADERS = [
  "Content-Type",
  "Authorization",
  "sw-context-token",
  "sw-access-key",
  "sw-language-id",
  "sw-version-id",
  "sw-inheritance",
  "indexing-behavior",
  "sw-include-seo-urls",
];
const CORS_METHODS = "GET,POST,PUT,PATCH,DELETE";
const CORS_ALLOWED = new Set(CORS_ALLOWED_HEADERS.map((h) => h.toLowerCase()));
/** Headers a browser sets itself (forbidden names) or sends without preflight (CORS-safelisted), and Node's fetch defaults. */
const BROWSER_HEADERS = new Set([
  "accept", "accept-language", "content-language", "range", "accept-charset", "accept-encoding",
  "access-control-request-headers", "access-control-request-method", "connection", "content-length",
  "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer", "te", "trailer",
  "transfer-encoding", "upgrade", "via", "user-agent", "priority",
]);
const browserOwn = (name) => BROWSER_HEADERS.has(name) || name.startsWith("sec-") || name.startsWith("proxy-");

export const DEFAULT_ACCESS_KEY = "SWSCWASMCARTEMULATORKEY0001";

// Shopware's Defaults.php
const LANGUAGE_SYSTEM = "2fbb5fe2e29a4d70aa5854ce7ce3e20b";
const DEFAULT_CURRENCY = "b7d2554b0ce847cd82f3ac9bd1c0dfca";
const LIVE_VERSION = "0fa91ce3e96a4bc2be4bd9ce752c3425";
const DEFAULT_ADDRESS_FORMAT = [
  ["address/company", "symbol/dash", "address/department"],
  ["address/first_name", "address/last_name"],
  ["address/street"],
  ["address/zipcode", "address/city"],
  ["address/country"],
];

// ---------------------------------------------------------------------------------------------------
// Schema: the document, its relaxations, compiled validators
// ---------------------------------------------------------------------------------------------------

/** What is relaxed and why (also listed in the header). */
export const RELAXATIONS = [
  { id: "R1", where: "POST /account/register billingAddress, shippingAddress", change: "CustomerAddress without required id, customerId", reason: "entity schema; RegisterRoute generates both ids" },
  { id: "R2", where: "POST /account/register", change: "password required unless guest is true", reason: "its own description: Required, unless guest is true" },
  { id: "R3", where: "components.schemas.SimpleFilter", change: "equalsAny value may be a non-empty list of strings", reason: "filters-reference.md documents a list; QueryStringParser accepts it" },
  { id: "R4", where: "components.schemas.Cart.errors", change: "`type: object` dropped (the anyOf stays)", reason: "an empty ErrorCollection serialises as []" },
  { id: "R5", where: "components.responses.ContextTokenResponse redirectUrl", change: "null allowed", reason: "ContextTokenResponse always carries redirectUrl, null without a domain change" },
  { id: "R6", where: "components.schemas.Country.addressFormat", change: "list of lists of strings allowed", reason: "CountryDefinition::DEFAULT_ADDRESS_FORMAT is a list" },
  { id: "R7", where: "Order.shippingCosts, OrderDelivery.shippingCosts, OrderDeliveryPosition.price, OrderTransaction.amount", change: "calculatedTaxes/taxRules lists, reference/list/regulationPrice null", reason: "CalculatedPrice JSON fields serialise collections as lists" },
  { id: "R8", where: "components.schemas.OrderRouteResponse.paymentChangeable", change: "empty list allowed", reason: "PHP empty array without checkPromotion" },
];

const clone = (v) => structuredClone(v);
const esc = (p) => p.replace(/~/g, "~0").replace(/\//g, "~1");

function relax(doc) {
  const S = doc.components.schemas;
  // R1, R2
  const register = doc.paths["/account/register"].post.requestBody.content["application/json"].schema;
  const address = clone(S.CustomerAddress);
  address.required = address.required.filter((f) => f !== "id" && f !== "customerId");
  address.description = "wasm-cart emulator relaxation R1: CustomerAddress as a registration input";
  S.EmulatorRegisterAddress = address;
  register.properties.billingAddress = { $ref: "#/components/schemas/EmulatorRegisterAddress" };
  register.properties.shippingAddress = { $ref: "#/components/schemas/EmulatorRegisterAddress" };
  register.required = register.required.filter((f) => f !== "password");
  register.if = { required: ["guest"], properties: { guest: { const: true } } };
  register.else = { required: ["password"] };
  // R3
  const simple = S.SimpleFilter;
  simple.properties.value = {};
  simple.if = { properties: { type: { const: "equalsAny" } } };
  simple.then = { properties: { value: { anyOf: [{ type: "string" }, { type: "array", minItems: 1, items: { type: "string" } }] } } };
  simple.else = { properties: { value: { type: "string" } } };
  // R4
  delete S.Cart.properties.errors.type;
  // R5
  doc.components.responses.ContextTokenResponse.content["application/json"].schema.properties.redirectUrl.type = ["string", "null"];
  // R6
  S.Country.properties.addressFormat = {
    anyOf: [{ type: "object" }, { type: "array", items: { type: "array", items: { type: "string" } } }],
  };
  // R7
  const taxItem = clone(S.CalculatedPrice.properties.calculatedTaxes.items);
  const ruleItem = clone(S.CalculatedPrice.properties.taxRules.items);
  for (const [schema, prop] of [[S.Order, "shippingCosts"], [S.OrderDelivery, "shippingCosts"], [S.OrderDeliveryPosition, "price"], [S.OrderTransaction, "amount"]]) {
    const p = schema.properties[prop].properties;
    p.calculatedTaxes = { anyOf: [p.calculatedTaxes, { type: "array", items: taxItem }] };
    p.taxRules = { anyOf: [p.taxRules, { type: "array", items: ruleItem }] };
    for (const nullable of ["referencePrice", "listPrice", "regulationPrice"]) {
      if (p[nullable]) p[nullable] = { anyOf: [p[nullable], { type: "null" }] };
    }
  }
  // R8
  const changeable = S.OrderRouteResponse.properties.paymentChangeable;
  S.OrderRouteResponse.properties.paymentChangeable = { anyOf: [changeable, { type: "array", maxItems: 0 }] };
}

let kit;
function schemaKit() {
  if (kit) return kit;
  const doc = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
  relax(doc);
  doc.$id = "storeApi";
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    logger: { log() {}, warn() {}, error: (...a) => console.error(...a) },
  });
  addFormats(ajv);
  ajv.addSchema(doc);
  kit = { ajv, doc, validators: new Map(), version: doc.info.version };
  return kit;
}

function validator(pointer) {
  const { ajv, validators } = schemaKit();
  let v = validators.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: `storeApi#${pointer}` });
    validators.set(pointer, v);
  }
  return v;
}

const JSON_CONTENT = "content/application~1json/schema";

function requestPointer(apiPath, method) {
  const op = schemaKit().doc.paths[apiPath]?.[method];
  if (!op?.requestBody) return null;
  if (op.requestBody.$ref) return { pointer: `${op.requestBody.$ref.slice(1)}/${JSON_CONTENT}`, required: true };
  if (!op.requestBody.content?.["application/json"]) return null;
  return { pointer: `/paths/${esc(apiPath)}/${method}/requestBody/${JSON_CONTENT}`, required: Boolean(op.requestBody.required) };
}

function responsePointer(apiPath, method, status) {
  const op = schemaKit().doc.paths[apiPath]?.[method];
  const declared = op?.responses?.[String(status)];
  if (declared) {
    if (declared.$ref) {
      const name = declared.$ref.split("/").pop();
      const r = schemaKit().doc.components.responses[name];
      return r?.content?.["application/json"] ? `/components/responses/${esc(name)}/${JSON_CONTENT}` : null;
    }
    return declared.content?.["application/json"] ? `/paths/${esc(apiPath)}/${method}/responses/${status}/${JSON_CONTENT}` : null;
  }
  return status >= 400 ? "/components/schemas/failure" : undefined;
}

const ajvErrors = (errors) =>
  (errors ?? []).map((e) => ({ path: e.instancePath || "/", keyword: e.keyword, message: e.message, params: e.params, schemaPath: e.schemaPath }));

// ---------------------------------------------------------------------------------------------------
// Numbers as PHP and Shopware handle them
// ---------------------------------------------------------------------------------------------------

/** PHP round(): half away from zero after pre-rounding to 15 significant digits. */
export function phpRound(value, places = 0) {
  if (!Number.isFinite(value) || value === 0) return value;
  const sign = value < 0 ? -1 : 1;
  // the 15 significant digits PHP pre-rounds to, as a digit string and the position of the point
  const [mantissa, exponent = "0"] = Math.abs(value).toPrecision(15).split("e");
  const [whole, fraction = ""] = mantissa.split(".");
  const digits = whole + fraction;
  const keep = whole.length + Number(exponent) + places;
  if (keep < 0) return 0;
  let kept = keep === 0 ? 0n : BigInt(digits.slice(0, keep).padEnd(keep, "0"));
  if (Number(digits[keep] ?? "0") >= 5) kept += 1n;
  const rounded = Number(`${kept}e-${places}`);
  return rounded === 0 ? 0 : sign * rounded;
}

/** FloatComparator::cast: (float)(string)$a, PHP's precision ini of 14 significant digits. */
const cast = (x) => (x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(14)) || 0);
const mathRound = (value, cfg) => phpRound(value, cfg.decimals);
function cashRound(value, cfg) {
  const rounded = mathRound(value, cfg);
  if (cfg.decimals > 2) return rounded;
  const multiplier = 100 / (cfg.interval * 100);
  return phpRound(rounded * multiplier, 0) / multiplier;
}

/** "0.19" -> 19: a decimal string times 100, without floating point. */
function percentOf(decimal) {
  const [w, f = ""] = String(decimal).split(".");
  const s = `${w}${f.padEnd(2, "0").slice(0, 2)}.${f.slice(2)}`;
  return Number(s.endsWith(".") ? s.slice(0, -1) : s);
}

const tax = (t, rate, price) => ({ tax: cast(t), taxRate: cast(rate), price: cast(price) });
const calculated = (unitPrice, totalPrice, calculatedTaxes, taxRules, quantity = 1) => ({
  unitPrice: cast(unitPrice),
  quantity,
  totalPrice: cast(totalPrice),
  calculatedTaxes,
  taxRules,
});

/** GrossPriceCalculator for an already gross (isCalculated) price definition. */
function grossPrice(price, taxRules, quantity, rounding) {
  const unitPrice = cashRound(price, rounding);
  const calculatedTaxes = taxRules.map((rule) => {
    const gross = (unitPrice / 100) * rule.percentage;
    const t = tax((gross / ((100 + rule.taxRate) / 100)) * (rule.taxRate / 100), rule.taxRate, gross);
    t.tax = cast(mathRound(t.tax * quantity, rounding));
    t.price = cast(mathRound(t.price * quantity, rounding));
    return t;
  });
  return calculated(unitPrice, cashRound(unitPrice * quantity, rounding), calculatedTaxes, taxRules, quantity);
}

function mergeTaxes(prices) {
  const out = new Map();
  for (const p of prices) {
    for (const t of p.calculatedTaxes) {
      const key = String(t.taxRate);
      const have = out.get(key);
      if (!have) out.set(key, { ...t });
      else {
        have.tax = cast(have.tax + t.tax);
        have.price = cast(have.price + t.price);
      }
    }
  }
  return [...out.values()];
}

function mergeRules(prices) {
  const out = new Map();
  for (const p of prices) for (const r of p.taxRules) if (!out.has(String(r.taxRate))) out.set(String(r.taxRate), r);
  return [...out.values()];
}

/** PriceCollection::sum(). */
function sumPrices(prices) {
  const unit = prices.reduce((a, p) => a + p.unitPrice, 0);
  const total = prices.reduce((a, p) => a + p.totalPrice, 0);
  return calculated(unit, total, mergeTaxes(prices), mergeRules(prices));
}

/** PercentagePriceCalculator (gross): a negative percentage of the summed prices. */
function percentagePrice(percentage, prices, rounding) {
  const sum = sumPrices(prices);
  const discount = cashRound((sum.totalPrice / 100) * percentage, rounding);
  const rules = sum.calculatedTaxes.map((t) => ({
    taxRate: t.taxRate,
    percentage: sum.totalPrice > 0 ? (t.price / sum.totalPrice) * 100 : 0,
  }));
  return grossPrice(discount, rules, 1, rounding);
}

/** AmountCalculator::calculateGrossAmount with horizontal tax calculation. */
function grossAmount(itemPrices, shippingPrices, itemRounding, totalRounding) {
  const all = [...itemPrices, ...shippingPrices];
  const total = sumPrices(all);
  const taxes = mergeTaxes(all).map((t) => ({ ...t, tax: cast(mathRound(t.tax, itemRounding)) }));
  const taxAmount = cast(taxes.reduce((a, t) => a + t.tax, 0));
  return {
    netPrice: cast(mathRound(total.totalPrice - taxAmount, itemRounding)),
    totalPrice: cast(cashRound(total.totalPrice, totalRounding)),
    calculatedTaxes: taxes,
    taxStatus: "gross",
    taxRules: total.taxRules,
    positionPrice: cast(sumPrices(itemPrices).totalPrice),
    rawTotal: cast(total.totalPrice),
  };
}

// ---------------------------------------------------------------------------------------------------
// Ids, tokens, dates
// ---------------------------------------------------------------------------------------------------

const uuidOf = (s) => createHash("md5").update(`wasm-cart-emulator:${s}`).digest("hex");
function randomId() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return b.toString("hex");
}
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function randomToken(length = 32) {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join("");
}
const isUuid = (s) => typeof s === "string" && /^[0-9a-f]{32}$/.test(s);
const isoDate = (d) => d.toISOString().replace("Z", "+00:00");
const addDays = (d, n) => new Date(d.getTime() + n * 86400000);

// ---------------------------------------------------------------------------------------------------
// The shop, from a wasm-cart catalog
// ---------------------------------------------------------------------------------------------------

const COUNTRY_NAMES = {
  DE: ["Germany", "DEU", true], AT: ["Austria", "AUT", true], CH: ["Switzerland", "CHE", false],
  FR: ["France", "FRA", true], NL: ["Netherlands", "NLD", true], BE: ["Belgium", "BEL", true],
  IT: ["Italy", "ITA", true], ES: ["Spain", "ESP", true], PL: ["Poland", "POL", true],
  DK: ["Denmark", "DNK", true], SE: ["Sweden", "SWE", true], LU: ["Luxembourg", "LUX", true],
  GB: ["United Kingdom", "GBR", false], US: ["USA", "USA", false], IE: ["Ireland", "IRL", true],
};
const CURRENCY_INFO = {
  EUR: ["Euro", "€"], USD: ["US-Dollar", "$"], GBP: ["Pound", "£"], CHF: ["Swiss francs", "CHF"],
  SEK: ["Swedish krone", "kr"], DKK: ["Danish krone", "kr."], PLN: ["Złoty", "zł"], JPY: ["Yen", "¥"],
};
const ZERO_DECIMAL = new Set(["JPY", "KRW", "ISK", "HUF"]);

const basePrice = (p) => !p.minQuantity && !p.customerGroup && !p.country && !p.validFrom && !p.validUntil;

function buildShop(catalog, domains, defaultCountry) {
  const taxCategories = catalog.taxCategories ?? [];
  const isos = [];
  const addIso = (iso) => iso && !isos.includes(iso) && isos.push(iso);
  if (defaultCountry) addIso(defaultCountry);
  for (const c of taxCategories) for (const r of c.rates ?? []) addIso(r.country);
  for (const m of catalog.shippingMethods ?? []) for (const r of m.rates ?? []) for (const iso of r.countries ?? []) addIso(iso);
  if (!isos.length) addIso("DE");

  const countries = isos.map((iso, i) => {
    const [name, iso3, isEu] = COUNTRY_NAMES[iso] ?? [iso, iso, false];
    return { id: uuidOf(`country:${iso}`), iso, iso3, name, position: i + 1, isEu };
  });
  const countryByIso = new Map(countries.map((c) => [c.iso, c]));
  const countryById = new Map(countries.map((c) => [c.id, c]));

  const currencyIsos = [];
  const addCurrency = (iso) => iso && !currencyIsos.includes(iso) && currencyIsos.push(iso);
  for (const p of catalog.products ?? []) {
    for (const price of p.prices ?? []) addCurrency(price.currency);
    for (const v of p.variants ?? []) for (const price of v.prices ?? []) addCurrency(price.currency);
  }
  if (currencyIsos.includes("EUR")) currencyIsos.splice(currencyIsos.indexOf("EUR"), 1), currencyIsos.unshift("EUR");
  if (!currencyIsos.length) currencyIsos.push("EUR");
  const currencies = currencyIsos.map((iso, i) => {
    const [name, symbol] = CURRENCY_INFO[iso] ?? [iso, iso];
    const decimals = ZERO_DECIMAL.has(iso) ? 0 : 2;
    const cash = catalog.currencies?.[iso]?.cashRounding;
    const interval = decimals === 0 ? 1 : 0.01;
    return {
      id: i === 0 ? DEFAULT_CURRENCY : uuidOf(`currency:${iso}`),
      isoCode: iso,
      name,
      symbol,
      shortName: iso,
      position: i + 1,
      factor: 1,
      isSystemDefault: i === 0,
      itemRounding: { decimals, interval, roundForNet: true },
      totalRounding: { decimals, interval: cash ? Number(cash) : interval, roundForNet: true },
    };
  });
  const currencyById = new Map(currencies.map((c) => [c.id, c]));

  const taxes = new Map();
  for (const c of taxCategories) {
    const rules = new Map((c.rates ?? []).filter((r) => r.country).map((r) => [r.country, percentOf(r.rate)]));
    const general = (c.rates ?? []).find((r) => !r.country);
    const base = general ? percentOf(general.rate) : rules.get(isos[0]) ?? rules.values().next().value ?? 0;
    taxes.set(c.id, { id: uuidOf(`tax:${c.id}`), name: c.name ?? c.id, taxRate: base, rules });
  }

  const products = new Map();
  const addProduct = (id, data) => {
    if (!isUuid(id)) throw new Error(`shopware emulator: external.shopware ${JSON.stringify(id)} is not a 32-hex UUID`);
    products.set(id, { id, ...data });
  };
  for (const p of catalog.products ?? []) {
    const common = {
      taxCategory: p.taxCategory,
      shippable: p.shippable !== false,
      minPurchase: p.minQuantity ?? null,
      maxPurchase: p.maxQuantity ?? null,
      catalogProductId: p.id,
      kind: p.kind ?? "product",
      vendor: p.vendor ?? null,
    };
    if (p.external?.shopware) {
      addProduct(p.external.shopware, {
        ...common,
        name: p.name,
        productNumber: p.sku ?? p.id,
        prices: (p.prices ?? []).filter(basePrice),
        stock: p.stock ?? null,
        available: p.available !== false,
        variantId: null,
      });
    }
    for (const v of p.variants ?? []) {
      if (!v.external?.shopware) continue;
      addProduct(v.external.shopware, {
        ...common,
        name: v.name ?? p.name,
        productNumber: v.sku,
        prices: (v.prices ?? p.prices ?? []).filter(basePrice),
        stock: v.stock ?? p.stock ?? null,
        available: (v.available ?? true) && p.available !== false,
        variantId: v.id,
      });
    }
  }

  const deliveryTimes = new Map();
  const deliveryTime = (days) => {
    const min = days?.min ?? 1;
    const max = days?.max ?? 3;
    const key = `${min}-${max}`;
    if (!deliveryTimes.has(key)) {
      deliveryTimes.set(key, { id: uuidOf(`delivery-time:${key}`), name: `${min}-${max} days`, min, max, unit: "day" });
    }
    return deliveryTimes.get(key);
  };
  const shippingMethods = (catalog.shippingMethods ?? []).map((m, i) => {
    const id = m.external?.shopware ?? uuidOf(`shipping-method:${m.id}`);
    if (!isUuid(id)) throw new Error(`shopware emulator: shipping method external.shopware ${JSON.stringify(id)} is not a 32-hex UUID`);
    return {
      id,
      name: m.name,
      technicalName: `shipping_${m.id}`,
      position: i + 1,
      isDefault: Boolean(m.default),
      taxCategory: m.taxCategory,
      deliveryTime: deliveryTime(m.deliveryDays),
      rates: m.rates ?? [],
    };
  });
  const defaultShipping = shippingMethods.find((m) => m.isDefault) ?? shippingMethods[0] ?? null;

  const promotions = [];
  const skippedPromotions = [];
  for (const p of catalog.promotions ?? []) {
    const target = p.target?.type ?? "items";
    if (p.value?.type !== "percentage" || target !== "items") {
      skippedPromotions.push({ id: p.id, code: p.code ?? null, reason: `value ${p.value?.type} / target ${target} not emulated` });
      continue;
    }
    promotions.push({
      id: uuidOf(`promotion:${p.id}`),
      discountId: uuidOf(`promotion-discount:${p.id}`),
      catalogId: p.id,
      name: p.label ?? p.id,
      code: p.code ?? null,
      percent: Number(p.value.percent),
      priority: p.priority ?? 0,
      validFrom: p.validFrom ? Date.parse(p.validFrom) : null,
      validUntil: p.validUntil ? Date.parse(p.validUntil) : null,
      match: p.target?.match ?? {},
      conditions: p.conditions ?? {},
    });
  }

  const salutations = [
    { key: "not_specified", displayName: "Not specified", letterName: " " },
    { key: "mr", displayName: "Mr.", letterName: "Dear Mr." },
    { key: "mrs", displayName: "Mrs.", letterName: "Dear Mrs." },
  ].map((s, i) => ({ id: uuidOf(`salutation:${s.key}`), salutationKey: s.key, displayName: s.displayName, letterName: s.letterName, position: i + 1 }));

  return {
    salesChannelId: uuidOf("sales-channel"),
    customerGroupId: uuidOf("customer-group:default"),
    paymentMethod: { id: uuidOf("payment:invoice"), technicalName: "payment_invoicepayment", name: "Invoice" },
    orderStates: { order: uuidOf("state:order.open"), delivery: uuidOf("state:delivery.open"), transaction: uuidOf("state:transaction.open") },
    domains: domains.map((d) => d.replace(/\/+$/, "")),
    countries,
    countryByIso,
    countryById,
    defaultCountry: countries[0],
    currencies,
    currencyById,
    defaultCurrency: currencies[0],
    taxes,
    products,
    shippingMethods,
    defaultShipping,
    promotions,
    skippedPromotions,
    salutations,
    salutationByKey: new Map(salutations.map((s) => [s.salutationKey, s])),
  };
}

// ---------------------------------------------------------------------------------------------------
// Entity JSON as the Store API serialises it (nulls the schema does not allow are left out)
// ---------------------------------------------------------------------------------------------------

const entityDates = (e) => ({ createdAt: e.createdAt ?? "2024-01-01T00:00:00.000+00:00" });

const countryJson = (c) => ({
  id: c.id,
  name: c.name,
  iso: c.iso,
  position: c.position,
  active: true,
  shippingAvailable: true,
  iso3: c.iso3,
  displayStateInRegistration: false,
  forceStateInRegistration: false,
  checkVatIdPattern: false,
  vatIdRequired: false,
  customerTax: { enabled: false, currencyId: DEFAULT_CURRENCY, amount: 0 },
  companyTax: { enabled: false, currencyId: DEFAULT_CURRENCY, amount: 0 },
  postalCodeRequired: false,
  checkPostalCodePattern: false,
  checkAdvancedPostalCodePattern: false,
  addressFormat: DEFAULT_ADDRESS_FORMAT,
  isEu: c.isEu,
  ...entityDates(c),
  translated: { name: c.name, addressFormat: DEFAULT_ADDRESS_FORMAT, customFields: {} },
  apiAlias: "country",
});

const currencyJson = (c) => ({
  id: c.id,
  factor: c.factor,
  symbol: c.symbol,
  isoCode: c.isoCode,
  shortName: c.shortName,
  name: c.name,
  position: c.position,
  isSystemDefault: c.isSystemDefault,
  taxFreeFrom: 0,
  itemRounding: { ...c.itemRounding, extensions: [], apiAlias: "shopware_core_framework_data_abstraction_layer_pricing_cash_rounding_config" },
  totalRounding: { ...c.totalRounding, extensions: [], apiAlias: "shopware_core_framework_data_abstraction_layer_pricing_cash_rounding_config" },
  ...entityDates(c),
  translated: { shortName: c.shortName, name: c.name, customFields: {} },
  apiAlias: "currency",
});

const salutationJson = (s) => ({
  id: s.id,
  salutationKey: s.salutationKey,
  displayName: s.displayName,
  letterName: s.letterName,
  position: s.position,
  ...entityDates(s),
  translated: { displayName: s.displayName, letterName: s.letterName, customFields: {} },
  apiAlias: "salutation",
});

const stateJson = (id, technicalName, name) => ({
  id,
  technicalName,
  name,
  ...entityDates({}),
  translated: { name, customFields: {} },
  apiAlias: "state_machine_state",
});

function searchResult(entity, elements, criteria) {
  const out = { entity, total: elements.total ?? elements.length, aggregations: [], page: criteria.page ?? 1 };
  if (criteria.limit != null) out.limit = criteria.limit;
  out.elements = elements;
  out.apiAlias = "dal_entity_search_result";
  return out;
}

const priceJson = (p) => ({
  unitPrice: p.unitPrice,
  quantity: p.quantity,
  totalPrice: p.totalPrice,
  calculatedTaxes: p.calculatedTaxes.map((t) => ({ tax: t.tax, taxRate: t.taxRate, price: t.price, apiAlias: "cart_tax_calculated" })),
  taxRules: p.taxRules.map((r) => ({ taxRate: r.taxRate, percentage: r.percentage, apiAlias: "cart_tax_rule" })),
  referencePrice: null,
  listPrice: null,
  regulationPrice: null,
  apiAlias: "calculated_price",
});

const cartPriceJson = (p) => ({
  netPrice: p.netPrice,
  totalPrice: p.totalPrice,
  calculatedTaxes: p.calculatedTaxes.map((t) => ({ tax: t.tax, taxRate: t.taxRate, price: t.price, apiAlias: "cart_tax_calculated" })),
  taxStatus: p.taxStatus,
  taxRules: p.taxRules.map((r) => ({ taxRate: r.taxRate, percentage: r.percentage, apiAlias: "cart_tax_rule" })),
  positionPrice: p.positionPrice,
  rawTotal: p.rawTotal,
  apiAlias: "cart_price",
});

// ---------------------------------------------------------------------------------------------------
// Cart errors (Error::jsonSerialize)
// ---------------------------------------------------------------------------------------------------

function cartError(key, messageKey, level, block, message, parameters, own = {}) {
  return { message, code: 0, ...own, key, level, messageKey, parameters, block, blockResubmit: block };
}
const errors = {
  promotionNotFound: (code) =>
    cartError("promotion-not-found", "promotion-not-found", 20, false, `Promotion with code ${code} not found!`, { code }, { promotionCode: code }),
  promotionAdded: (item) =>
    cartError(`promotion-discount-added-${item.id}`, "promotion-discount-added", 0, false, `Discount ${item.label} has been added`, { name: item.label, discountLineItemId: item.id }),
  promotionNotEligible: (name) =>
    cartError("promotion-not-eligible", "promotion-not-eligible", 0, false, `Promotion ${name} not eligible for cart!`, { name }, { name }),
  promotionsOnZero: (names) =>
    cartError("promotions-on-cart-price-zero-error", "promotions-on-cart-price-zero-error", 0, false, `Promotions ${names.join(", ")} were excluded for cart because the price of the cart is zero.`, { promotions: names.join(", ") }, { promotions: names }),
  productNotFound: (id) =>
    cartError(`product-not-found${id}`, "product-not-found", 20, true, "The product %s could not be found", { id }, { id }),
  outOfStock: (id, name) =>
    cartError(`product-out-of-stock${id}`, "product-out-of-stock", 20, true, `The product ${name} is no longer available`, { name }, { id, name }),
  stockReached: (id, name, quantity) =>
    cartError(`product-stock-reached${id}`, "product-stock-reached", 10, true, `The product ${name} is only available ${quantity} times`, { name, quantity }),
  minQuantity: (id, name, quantity) =>
    cartError(`min-order-quantity${id}`, "min-order-quantity", 10, true, `The quantity of product ${name} did not meet the minimum order quantity threshold. The quantity has automatically been increased to ${quantity}`, { name, quantity }),
  shippingBlocked: (name) =>
    cartError(`shipping-method-blocked-${name}`, "shipping-method-blocked", 10, true, `Shipping method ${name} not available`, { name }),
};

// ---------------------------------------------------------------------------------------------------
// HTTP errors (ErrorResponseFactory)
// ---------------------------------------------------------------------------------------------------

const STATUS_TEXT = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed", 500: "Internal Server Error", 501: "Not Implemented" };

class HttpError extends Error {
  constructor(status, errorsList) {
    super(errorsList[0]?.detail ?? String(status));
    this.status = status;
    this.errors = errorsList;
  }
}
/** A ShopwareHttpException: one error with code and meta.parameters. */
const shopwareError = (status, code, detail, parameters = {}) =>
  new HttpError(status, [{ status: String(status), code, title: STATUS_TEXT[status] ?? "unknown status", detail, meta: { parameters: Object.keys(parameters).length ? parameters : [] } }]);
/** A Symfony HttpException: code "0", no meta. */
const symfonyError = (status, detail) => new HttpError(status, [{ code: "0", status: String(status), title: STATUS_TEXT[status], detail }]);
/** A ConstraintViolationException. */
const violationError = (violations) =>
  new HttpError(
    400,
    violations.map((v) => ({
      code: v.code,
      status: "400",
      title: "Constraint violation error",
      detail: v.detail,
      source: { pointer: v.pointer },
      meta: { parameters: v.parameters ?? [] },
    })),
  );
const customerNotLoggedIn = () => shopwareError(403, "CHECKOUT__CUSTOMER_NOT_LOGGED_IN", "Customer is not logged in.");
const fmt = (v) => (typeof v === "string" ? `"${v}"` : v === null || v === undefined ? "null" : JSON.stringify(v));
const blank = (v) => v === undefined || v === null || v === "" || v === false || (Array.isArray(v) && v.length === 0);
const notBlank = (pointer, message = "This value should not be blank.") => ({ code: "VIOLATION::IS_BLANK_ERROR", detail: message, pointer, parameters: { "{{ value }}": "null" } });
const notExists = (pointer, entity, id) => ({
  code: "VIOLATION::ENTITY_DOES_NOT_EXISTS",
  detail: `The ${fmt(entity)} entity with id ${fmt(id)} does not exist.`,
  pointer,
  parameters: { "{{ primaryProperty }}": "id", "{{ id }}": fmt(id), "{{ entity }}": fmt(entity) },
});

// ---------------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------------

/**
 * Starts the Shopware Store API emulator. `catalog` is a wasm-cart catalog (tests/platforms/catalog.json);
 * `accessKey` the sales channel's key; `domains` its storefront domains (account/register's
 * `storefrontUrl` must be one of them); `defaultCountry` the sales channel's country (default: the first
 * country of the catalog's tax rates). Resolves
 * `{ url, accessKey, violations, orders, contexts, customers, ids, stop }`.
 */
export async function startShopware({
  catalog,
  accessKey = DEFAULT_ACCESS_KEY,
  domains = ["http://storefront.test"],
  defaultCountry,
  requireDataProtectionCheckbox = false,
  maxQuantity = 100,
} = {}) {
  if (!catalog) throw new Error("startShopware needs a catalog");
  schemaKit();
  const shop = buildShop(catalog, domains, defaultCountry);
  const violations = [];
  const orders = [];
  const contexts = new Map();
  const customers = new Map();
  let orderNumber = 10000;
  let customerNumber = 10000;

  const violation = (v) => violations.push({ at: new Date().toISOString(), ...v });

  // ---- contexts -----------------------------------------------------------------------------------
  function newContext(token) {
    const ctx = {
      token,
      currencyId: shop.defaultCurrency.id,
      languageId: LANGUAGE_SYSTEM,
      shippingMethodId: shop.defaultShipping?.id ?? null,
      paymentMethodId: shop.paymentMethod.id,
      countryId: shop.defaultCountry.id,
      customerId: null,
      billingAddressId: null,
      shippingAddressId: null,
      cart: { items: [], codes: [], discountIds: [] },
    };
    contexts.set(token, ctx);
    return ctx;
  }
  const customerOf = (ctx) => (ctx.customerId ? customers.get(ctx.customerId) : null);
  const addressOf = (customer, id) => customer.addresses.find((a) => a.id === id);
  function shippingAddress(ctx) {
    const customer = customerOf(ctx);
    if (!customer) return null;
    return addressOf(customer, ctx.shippingAddressId) ?? addressOf(customer, customer.defaultShippingAddressId);
  }
  function billingAddress(ctx) {
    const customer = customerOf(ctx);
    if (!customer) return null;
    return addressOf(customer, ctx.billingAddressId) ?? addressOf(customer, customer.defaultBillingAddressId);
  }
  const shippingCountry = (ctx) => shop.countryById.get(shippingAddress(ctx)?.countryId ?? ctx.countryId) ?? shop.defaultCountry;
  const currencyOf = (ctx) => shop.currencyById.get(ctx.currencyId) ?? shop.defaultCurrency;

  function taxRules(categoryId, country) {
    const t = shop.taxes.get(categoryId);
    if (!t) return [];
    return [{ taxRate: t.rules.get(country.iso) ?? t.taxRate, percentage: 100 }];
  }

  function unitGross(product, currency) {
    const own = product.prices.find((p) => p.currency === currency.isoCode);
    if (own) return Number(own.amount);
    const fallback = product.prices.find((p) => p.currency === shop.defaultCurrency.isoCode);
    return fallback ? Number(fallback.amount) * currency.factor : null;
  }

  function maxPurchase(product) {
    let max = product.maxPurchase ?? maxQuantity;
    if (product.stock != null && product.stock < max) max = product.stock;
    const min = product.minPurchase ?? 1;
    return Math.max(Math.floor(max - min) + min, 0);
  }

  // ---- addresses and customers ------------------------------------------------------------------
  function addressJson(a) {
    const country = shop.countryById.get(a.countryId);
    const salutation = shop.salutations.find((s) => s.id === a.salutationId);
    const out = { id: a.id, customerId: a.customerId, countryId: a.countryId };
    if (a.salutationId) out.salutationId = a.salutationId;
    for (const k of ["firstName", "lastName", "zipcode", "city", "company", "street", "department", "title", "phoneNumber", "additionalAddressLine1", "additionalAddressLine2"]) {
      if (typeof a[k] === "string") out[k] = a[k];
    }
    Object.assign(out, entityDates(a));
    if (country) out.country = countryJson(country);
    if (salutation) out.salutation = salutationJson(salutation);
    out.apiAlias = "customer_address";
    return out;
  }

  function customerJson(c, ctx) {
    const billing = addressOf(c, c.defaultBillingAddressId);
    const shipping = addressOf(c, c.defaultShippingAddressId);
    const out = {
      id: c.id,
      groupId: shop.customerGroupId,
      salesChannelId: shop.salesChannelId,
      languageId: LANGUAGE_SYSTEM,
      defaultBillingAddressId: c.defaultBillingAddressId,
      defaultShippingAddressId: c.defaultShippingAddressId,
      customerNumber: c.customerNumber,
      salutationId: c.salutationId,
      firstName: c.firstName,
      lastName: c.lastName,
      email: c.email,
    };
    for (const k of ["title", "affiliateCode", "campaignCode"]) if (typeof c[k] === "string") out[k] = c[k];
    Object.assign(out, {
      active: true,
      doubleOptInRegistration: false,
      hash: "",
      guest: c.guest,
      firstLogin: c.createdAt,
      accountType: "private",
      createdAt: c.createdAt,
      defaultBillingAddress: addressJson(billing),
      activeBillingAddress: addressJson(billingAddress(ctx) ?? billing),
      defaultShippingAddress: addressJson(shipping),
      activeShippingAddress: addressJson(shippingAddress(ctx) ?? shipping),
      addresses: c.addresses.map(addressJson),
    });
    const salutation = shop.salutations.find((s) => s.id === c.salutationId);
    if (salutation) out.salutation = salutationJson(salutation);
    out.apiAlias = "customer";
    return out;
  }

  function shippingMethodJson(m) {
    const out = {
      id: m.id,
      name: m.name,
      technicalName: m.technicalName,
      active: true,
      position: m.position,
      deliveryTimeId: m.deliveryTime.id,
      taxType: "fixed",
      ...entityDates(m),
      translated: { name: m.name, customFields: {} },
      deliveryTime: { ...m.deliveryTime, ...entityDates(m), translated: { name: m.deliveryTime.name, customFields: {} }, apiAlias: "delivery_time" },
      apiAlias: "shipping_method",
    };
    const t = shop.taxes.get(m.taxCategory);
    if (t) out.taxId = t.id;
    return out;
  }

  // ---- the cart calculation (Processor::process) ---------------------------------------------------
  function calculate(ctx, { placeholder = false } = {}) {
    const stored = ctx.cart;
    const currency = currencyOf(ctx);
    const country = shippingCountry(ctx);
    const itemRounding = currency.itemRounding;
    const errs = new Map();
    const addError = (e) => errs.set(e.key, e);
    const now = Date.now();
    // Processor::runProcessors: without line items (a promotion placeholder counts) nothing is collected.
    if (!stored.items.length && !placeholder) {
      const price = grossAmount([], [], itemRounding, currency.totalRounding);
      return { lines: [], deliveries: [], price, errors: errs, keptItems: [], keptCodes: [...stored.codes], discountIds: [], currency, country };
    }

    // PromotionCollector: codes without a valid promotion are dropped with an error.
    const promotions = [];
    const keptCodes = [];
    for (const code of stored.codes) {
      const promo = shop.promotions.find((p) => p.code === code && (p.validFrom == null || p.validFrom <= now) && (p.validUntil == null || now < p.validUntil));
      if (!promo) {
        addError(errors.promotionNotFound(code));
        continue;
      }
      keptCodes.push(code);
      if (!promotions.includes(promo)) promotions.push(promo);
    }
    for (const promo of shop.promotions) {
      if (promo.code == null && (promo.validFrom == null || promo.validFrom <= now) && (promo.validUntil == null || now < promo.validUntil)) promotions.push(promo);
    }

    // ProductCartProcessor
    const lines = [];
    const keptItems = [];
    for (const item of stored.items) {
      const product = shop.products.get(item.referencedId);
      const gross = product && product.available ? unitGross(product, currency) : null;
      if (!product || !product.available || gross == null) {
        addError(errors.productNotFound(item.label ?? item.id));
        continue;
      }
      const min = product.minPurchase ?? 1;
      const max = maxPurchase(product);
      let quantity = item.quantity;
      if (max < min) {
        addError(errors.outOfStock(product.id, product.name));
        continue;
      }
      if (max < quantity) {
        quantity = max;
        addError(errors.stockReached(product.id, product.name, quantity));
      } else if (quantity < min) {
        quantity = min;
        addError(errors.minQuantity(product.id, product.name, quantity));
      }
      const rules = taxRules(product.taxCategory, country);
      const stack = { ...item, quantity, label: product.name };
      keptItems.push(stack);
      lines.push({
        kind: "product",
        id: item.id,
        referencedId: product.id,
        label: product.name,
        quantity,
        product,
        definition: { price: gross, taxRules: rules, quantity },
        price: grossPrice(gross, rules, quantity, itemRounding),
        quantityInformation: { minPurchase: min, maxPurchase: max, purchaseSteps: 1 },
      });
    }

    // PromotionProcessor / PromotionCalculator (percentage discounts of the whole cart's products)
    const discountIds = [];
    const products = lines.filter((l) => l.kind === "product");
    if (promotions.length && products.length === 0) {
      // cart price 0 with promotions to apply
      addError(errors.promotionsOnZero(promotions.map((p) => p.name)));
    } else if (promotions.length && products.length) {
      const sorted = [...promotions].sort((a, b) => b.priority - a.priority);
      for (const promo of sorted) {
        const positionPrice = sumPrices(lines.map((l) => l.price)).totalPrice;
        const matching = products.filter((l) => matches(promo.match, l.product));
        const c = promo.conditions;
        const quantityMatched = matching.reduce((a, l) => a + l.quantity, 0);
        const eligible =
          (c.minSubtotal == null || positionPrice >= Number(c.minSubtotal)) &&
          (!c.countries?.length || c.countries.includes(country.iso)) &&
          (c.minQuantity == null || quantityMatched >= c.minQuantity);
        if (!eligible) {
          if (promo.code) addError(errors.promotionNotEligible(promo.name));
          continue;
        }
        const units = matching.flatMap((l) => {
          const unit = grossPrice(l.price.unitPrice, l.price.taxRules, 1, itemRounding);
          return Array.from({ length: l.quantity }, () => unit);
        });
        if (!units.length) continue;
        const price = percentagePrice(-Math.abs(promo.percent), units, itemRounding);
        if (Math.abs(price.totalPrice) === 0) continue;
        const line = {
          kind: "promotion",
          id: promo.discountId,
          referencedId: promo.code,
          label: promo.name,
          quantity: 1,
          promotion: promo,
          price,
        };
        lines.push(line);
        discountIds.push(line.id);
        if (!stored.discountIds.includes(line.id)) addError(errors.promotionAdded(line));
      }
    }

    // DeliveryProcessor
    const deliveries = [];
    const method = shop.shippingMethods.find((m) => m.id === ctx.shippingMethodId) ?? shop.defaultShipping;
    const positions = lines.filter((l) => (l.kind === "product" ? l.product.shippable : true));
    if (method && positions.length) {
      const rules = taxRules(method.taxCategory, country);
      const physical = positions.filter((l) => l.kind === "product");
      let costs;
      if (!physical.length) {
        costs = grossPrice(0, rules, 1, itemRounding);
      } else {
        const value = sumPrices(physical.map((l) => l.price)).totalPrice;
        const rows = shippingRows(method, country, currency);
        const row = rows.find((r) => (!r.start || value >= r.start - 1e-8));
        if (row) costs = grossPrice(row.price, rules, 1, itemRounding);
        else {
          addError(errors.shippingBlocked(method.name));
          costs = calculated(0, 0, [], [], 1);
        }
      }
      const today = new Date();
      const earliest = addDays(today, method.deliveryTime.min);
      let latest = addDays(today, method.deliveryTime.max);
      if (earliest.toISOString().slice(0, 10) === latest.toISOString().slice(0, 10)) latest = addDays(latest, 1);
      deliveries.push({ method, positions, costs, earliest, latest, country, address: shippingAddress(ctx) });
    }

    const price = grossAmount(lines.map((l) => l.price), deliveries.map((d) => d.costs), itemRounding, currency.totalRounding);
    return { lines, deliveries, price, errors: errs, keptItems, keptCodes, discountIds, currency, country };
  }

  function matches(match, product) {
    const ok = (list, value) => !list?.length || (value != null && list.includes(value));
    return (
      ok(match.productIds, product.catalogProductId) &&
      (!match.skus?.length || match.skus.includes(product.productNumber)) &&
      ok(match.kinds, product.kind) &&
      ok(match.vendors, product.vendor)
    );
  }

  /** The shipping method's price matrix for the country, cheapest row first (DeliveryCalculator sorts by price). */
  function shippingRows(method, country, currency) {
    const serves = (r, iso) => r.currency === iso && (!r.countries?.length || r.countries.includes(country.iso));
    let rate = method.rates.find((r) => serves(r, currency.isoCode) && r.countries?.includes(country.iso)) ?? method.rates.find((r) => serves(r, currency.isoCode));
    let factor = 1;
    if (!rate) {
      rate = method.rates.find((r) => serves(r, shop.defaultCurrency.isoCode) && r.countries?.includes(country.iso)) ?? method.rates.find((r) => serves(r, shop.defaultCurrency.isoCode));
      factor = currency.factor;
    }
    if (!rate) return [];
    const rows = [{ start: 0, price: Number(rate.price) * factor }];
    for (const t of rate.tiers ?? []) rows.push({ start: Number(t.minCartValue), price: Number(t.price) * factor });
    if (rate.freeAbove != null) rows.push({ start: Number(rate.freeAbove), price: 0 });
    return rows.sort((a, b) => a.price - b.price);
  }

  function persist(ctx, result) {
    ctx.cart = { items: result.keptItems, codes: result.keptCodes, discountIds: result.discountIds };
  }

  // ---- cart JSON -----------------------------------------------------------------------------------
  function lineItemJson(l) {
    if (l.kind === "product") {
      const p = l.product;
      const stock = p.stock ?? 999999;
      return {
        id: l.id,
        referencedId: l.referencedId,
        label: l.label,
        quantity: l.quantity,
        type: "product",
        good: true,
        removable: true,
        stackable: true,
        modified: false,
        modifiedByApp: false,
        states: [p.shippable ? "is-physical" : "is-download"],
        priceDefinition: {
          price: l.definition.price,
          taxRules: l.definition.taxRules.map((r) => ({ taxRate: r.taxRate, percentage: r.percentage, apiAlias: "cart_tax_rule" })),
          quantity: l.quantity,
          isCalculated: true,
          type: "quantity",
          apiAlias: "cart_price_quantity",
        },
        price: priceJson(l.price),
        quantityInformation: { ...l.quantityInformation, apiAlias: "cart_line_item_quantity_information" },
        deliveryInformation: {
          stock,
          freeDelivery: false,
          restockTime: 0,
          apiAlias: "cart_delivery_information",
        },
        children: [],
        apiAlias: "cart_line_item",
      };
    }
    const out = { id: l.id };
    if (l.referencedId) out.referencedId = l.referencedId;
    Object.assign(out, {
      label: l.label,
      description: l.label,
      quantity: 1,
      type: "promotion",
      good: false,
      removable: Boolean(l.referencedId),
      stackable: false,
      modified: false,
      modifiedByApp: false,
      states: [],
      price: priceJson(l.price),
      children: [],
      apiAlias: "cart_line_item",
    });
    return out;
  }

  function cartJson(ctx, result) {
    const paymentMethodId = ctx.paymentMethodId;
    const transactions = [
      {
        paymentMethodId,
        amount: priceJson(calculated(result.price.totalPrice, result.price.totalPrice, result.price.calculatedTaxes, result.price.taxRules, 1)),
        apiAlias: "cart_transaction",
      },
    ];
    const errs = result.errors.size ? Object.fromEntries(result.errors) : [];
    return {
      token: ctx.token,
      price: cartPriceJson(result.price),
      lineItems: result.lines.map(lineItemJson),
      errors: errs,
      deliveries: result.deliveries.map((d) => {
        const location = { country: countryJson(d.country) };
        if (d.address) location.address = addressJson(d.address);
        location.apiAlias = "cart_delivery_shipping_location";
        const date = { earliest: isoDate(d.earliest), latest: isoDate(d.latest), apiAlias: "cart_delivery_date" };
        return {
          deliveryDate: date,
          positions: d.positions.map((l) => ({
            lineItem: lineItemJson(l),
            quantity: l.quantity,
            price: priceJson(l.price),
            identifier: l.id,
            deliveryDate: date,
            apiAlias: "cart_delivery_position",
          })),
          location,
          shippingMethod: shippingMethodJson(d.method),
          shippingCosts: priceJson(d.costs),
          apiAlias: "cart_delivery",
        };
      }),
      transactions,
      modified: false,
      customerComment: null,
      affiliateCode: null,
      campaignCode: null,
      apiAlias: "cart",
    };
  }

  // ---- routes --------------------------------------------------------------------------------------
  function criteriaList(entity, all, criteria) {
    let list = all;
    if (Array.isArray(criteria.ids) && criteria.ids.length) list = list.filter((e) => criteria.ids.includes(e.id));
    for (const [i, f] of (criteria.filter ?? []).entries()) list = list.filter((e) => filterMatch(entity, e, f, `/filter/${i}`));
    for (const s of [...(criteria.sort ?? [])].reverse()) {
      const field = String(s.field).replace(`${entity}.`, "");
      const dir = String(s.order).toUpperCase() === "DESC" ? -1 : 1;
      list = [...list].sort((a, b) => (a[field] < b[field] ? -dir : a[field] > b[field] ? dir : 0));
    }
    const total = list.length;
    const limit = Number.isInteger(criteria.limit) && criteria.limit > 0 ? criteria.limit : null;
    const page = Number.isInteger(criteria.page) && criteria.page > 0 ? criteria.page : 1;
    if (limit) list = list.slice((page - 1) * limit, page * limit);
    list.total = total;
    return list;
  }

  function filterMatch(entity, element, f, where) {
    const type = f.type;
    if (type === "multi" || type === "not") {
      const results = (f.queries ?? []).map((q, i) => filterMatch(entity, element, q, `${where}/queries/${i}`));
      const op = String(f.operator ?? "and").toLowerCase();
      const combined = op === "or" || op === "nor" ? results.some(Boolean) : results.every(Boolean);
      return type === "not" || op === "nor" || op === "nand" ? !combined : combined;
    }
    const field = String(f.field ?? "").replace(`${entity}.`, "");
    if (!field) throw shopwareError(400, "FRAMEWORK__INVALID_FILTER_QUERY", `Parameter "field" for ${type} filter is missing.`, { path: `${where}/field` });
    const value = field.split(".").reduce((o, k) => (o == null ? undefined : o[k]), element);
    if (value === undefined) throw shopwareError(400, "FRAMEWORK__INVALID_FILTER_QUERY", `Field "${field}" in entity "${entity}" was not found.`, { path: `${where}/field` });
    const str = (v) => String(v ?? "").toLowerCase();
    switch (type) {
      case "equals":
        return typeof value === "string" && typeof f.value === "string" ? str(value) === str(f.value) : value === f.value;
      case "equalsAny": {
        let values = f.value;
        if (typeof values === "string") values = values.split("|").filter(Boolean);
        if (!Array.isArray(values)) values = [values];
        if (!values.length) throw shopwareError(400, "FRAMEWORK__INVALID_FILTER_QUERY", 'Parameter "value" for equalsAny filter does not contain any value.', { path: `${where}/value` });
        return values.some((v) => str(v) === str(value));
      }
      case "contains":
        return str(value).includes(str(f.value));
      case "prefix":
        return str(value).startsWith(str(f.value));
      case "suffix":
        return str(value).endsWith(str(f.value));
      case "range": {
        const p = f.parameters ?? {};
        return (p.gte == null || value >= p.gte) && (p.gt == null || value > p.gt) && (p.lte == null || value <= p.lte) && (p.lt == null || value < p.lt);
      }
      default:
        throw shopwareError(400, "FRAMEWORK__INVALID_FILTER_QUERY", `Unsupported filter type: ${type}`, { path: `${where}/type` });
    }
  }

  function register(ctx, body) {
    const data = { ...body };
    const guest = data.guest === true;
    if (!data.salutationId) data.salutationId = shop.salutationByKey.get("not_specified").id;
    const billing = data.billingAddress && typeof data.billingAddress === "object" ? { ...data.billingAddress } : null;
    const shipping = data.shippingAddress && typeof data.shippingAddress === "object" ? { ...data.shippingAddress } : null;
    if (billing) {
      if (billing.firstName !== undefined && data.firstName === undefined) data.firstName = billing.firstName;
      if (billing.lastName !== undefined && data.lastName === undefined) data.lastName = billing.lastName;
      billing.firstName = data.firstName;
      billing.lastName = data.lastName;
      billing.salutationId = data.salutationId;
    }
    const v = [];
    const salutationOk = (id) => id == null || shop.salutations.some((s) => s.id === id);
    if (!salutationOk(data.salutationId)) v.push(notExists("/salutationId", "salutation", data.salutationId));
    if (blank(data.firstName)) v.push(notBlank("/firstName"));
    if (blank(data.lastName)) v.push(notBlank("/lastName"));
    if (blank(data.email)) v.push(notBlank("/email"));
    else if (typeof data.email !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(data.email)) {
      v.push({ code: "VIOLATION::INVALID_FORMAT_ERROR", detail: "VIOLATION::INVALID_EMAIL_FORMAT_ERROR", pointer: "/email", parameters: { "{{ value }}": fmt(data.email) } });
    }
    if (!guest) {
      if (blank(data.password)) v.push(notBlank("/password"));
      else if (String(data.password).length < 8) v.push({ code: "VIOLATION::TOO_SHORT_ERROR", detail: "This value is too short. It should have 8 characters or more.", pointer: "/password", parameters: { "{{ limit }}": "8" } });
      else if ([...customers.values()].some((c) => !c.guest && c.email === data.email)) {
        v.push({ code: "VIOLATION::CUSTOMER_EMAIL_NOT_UNIQUE", detail: "The email address " + data.email + " is already in use", pointer: "/email", parameters: { "{{ email }}": data.email } });
      }
    }
    if (blank(data.storefrontUrl)) v.push(notBlank("/storefrontUrl"));
    else if (!shop.domains.includes(data.storefrontUrl)) {
      v.push({ code: "VIOLATION::NO_SUCH_CHOICE_ERROR", detail: "The value you selected is not a valid choice.", pointer: "/storefrontUrl", parameters: { "{{ value }}": fmt(data.storefrontUrl), "{{ choices }}": shop.domains.map(fmt).join(", ") } });
    }
    const checkAddress = (a, where) => {
      if (!salutationOk(a.salutationId || null)) v.push(notExists(`${where}/salutationId`, "salutation", a.salutationId));
      if (a.countryStateId) v.push(notExists(`${where}/countryStateId`, "country_state", a.countryStateId));
      if (blank(a.firstName)) v.push(notBlank(`${where}/firstName`, "VIOLATION::FIRST_NAME_IS_BLANK_ERROR"));
      if (blank(a.lastName)) v.push(notBlank(`${where}/lastName`, "VIOLATION::LAST_NAME_IS_BLANK_ERROR"));
      if (blank(a.street)) v.push(notBlank(`${where}/street`, "VIOLATION::STREET_IS_BLANK_ERROR"));
      if (blank(a.city)) v.push(notBlank(`${where}/city`, "VIOLATION::CITY_IS_BLANK_ERROR"));
      if (blank(a.countryId)) v.push(notBlank(`${where}/countryId`, "VIOLATION::COUNTRY_IS_BLANK_ERROR"));
      else if (!shop.countryById.has(a.countryId)) v.push(notExists(`${where}/countryId`, "country", a.countryId));
      if (typeof a.zipcode === "string" && a.zipcode.length > 50) v.push({ code: "VIOLATION::TOO_LONG_ERROR", detail: "This value is too long. It should have 50 characters or less.", pointer: `${where}/zipcode`, parameters: { "{{ limit }}": "50" } });
    };
    if (billing || !shipping) checkAddress(billing ?? {}, "/billingAddress");
    if (shipping) checkAddress(shipping, "/shippingAddress");
    if (requireDataProtectionCheckbox && blank(data.acceptedDataProtection)) v.push(notBlank("/acceptedDataProtection"));
    if (v.length) throw violationError(v);

    const createdAt = isoDate(new Date());
    const customer = {
      id: randomId(),
      customerNumber: String(customerNumber++),
      email: data.email,
      firstName: data.firstName,
      lastName: data.lastName,
      salutationId: data.salutationId,
      title: data.title,
      affiliateCode: data.affiliateCode,
      campaignCode: data.campaignCode,
      guest,
      createdAt,
      addresses: [],
    };
    const fields = ["title", "firstName", "lastName", "salutationId", "street", "zipcode", "city", "company", "department", "countryId", "additionalAddressLine1", "additionalAddressLine2", "phoneNumber"];
    const toAddress = (a) => {
      const out = { id: randomId(), customerId: customer.id, createdAt };
      for (const k of fields) if (a[k] !== undefined && a[k] !== null && a[k] !== "") out[k] = a[k];
      return out;
    };
    if (billing) {
      const a = toAddress(billing);
      customer.addresses.push(a);
      customer.defaultBillingAddressId = a.id;
      customer.defaultShippingAddressId = a.id;
    }
    if (shipping) {
      const a = toAddress(shipping);
      customer.addresses.push(a);
      customer.defaultShippingAddressId = a.id;
      if (!billing) customer.defaultBillingAddressId = a.id;
    }
    customers.set(customer.id, customer);

    // SalesChannelContextPersister::replace + save: the context (and cart) move to a new token.
    const newToken = randomToken();
    contexts.delete(ctx.token);
    ctx.token = newToken;
    ctx.customerId = customer.id;
    ctx.billingAddressId = null;
    ctx.shippingAddressId = null;
    contexts.set(newToken, ctx);
    return { status: 200, body: customerJson(customer, ctx), token: newToken };
  }

  function switchContext(ctx, body) {
    const fields = ["shippingMethodId", "paymentMethodId", "billingAddressId", "shippingAddressId", "countryId", "countryStateId", "currencyId", "languageId"];
    const params = {};
    for (const k of fields) if (k in body) params[k] = body[k];
    const typeErrors = Object.entries(params)
      .filter(([, value]) => value !== null && typeof value !== "string")
      .map(([k, value]) => ({ code: "VIOLATION::INVALID_TYPE_ERROR", detail: "This value should be of type string.", pointer: `/${k}`, parameters: { "{{ value }}": fmt(value), "{{ type }}": "string" } }));
    if (typeErrors.length) throw violationError(typeErrors);
    const customer = customerOf(ctx);
    if (!customer && (params.shippingAddressId || params.billingAddressId)) throw customerNotLoggedIn();
    const v = [];
    const check = (k, entity, ok) => {
      if (params[k] != null && !ok(params[k])) v.push(notExists(`/${k}`, entity, params[k]));
    };
    check("languageId", "language", (id) => id === LANGUAGE_SYSTEM);
    check("currencyId", "currency", (id) => shop.currencyById.has(id));
    check("shippingMethodId", "shipping_method", (id) => shop.shippingMethods.some((m) => m.id === id));
    check("paymentMethodId", "payment_method", (id) => id === shop.paymentMethod.id);
    check("billingAddressId", "customer_address", (id) => Boolean(customer && addressOf(customer, id)));
    check("shippingAddressId", "customer_address", (id) => Boolean(customer && addressOf(customer, id)));
    check("countryId", "country", (id) => shop.countryById.has(id));
    check("countryStateId", "country_state", () => false);
    if (v.length) throw violationError(v);
    for (const [k, value] of Object.entries(params)) if (value != null) ctx[k] = value;
    return { status: 200, body: { redirectUrl: null, apiAlias: "array_struct" } };
  }

  function addLineItems(ctx, body) {
    const cart = ctx.cart;
    const items = Array.isArray(body.items) ? body.items : [];
    const created = [];
    for (const raw of items) {
      const data = { ...raw };
      if (data.id === undefined) data.id = randomId();
      const v = [];
      const type = (k, t, ok) => data[k] !== undefined && !ok(data[k]) && v.push({ code: "VIOLATION::INVALID_TYPE_ERROR", detail: `This value should be of type ${t}.`, pointer: `/${k}`, parameters: { "{{ value }}": fmt(data[k]), "{{ type }}": t } });
      type("id", "string", (x) => typeof x === "string");
      if (data.type === undefined) v.push({ code: "VIOLATION::MISSING_ERROR", detail: "This field is missing.", pointer: "/type", parameters: { "{{ field }}": '"type"' } });
      type("type", "string", (x) => typeof x === "string");
      type("quantity", "int", (x) => Number.isInteger(x));
      type("referencedId", "string", (x) => typeof x === "string");
      type("label", "string", (x) => typeof x === "string");
      if (v.length) throw violationError(v);
      if (data.type === "product") created.push({ type: "product", id: data.id, referencedId: data.referencedId ?? data.id, quantity: data.quantity ?? 1 });
      else if (data.type === "promotion") {
        if (typeof data.referencedId !== "string" || data.referencedId === "") throw shopwareError(400, "CHECKOUT__PROMOTION_CODE_NOT_FOUND", 'Promotion code "" has not been found!', { code: "" });
        created.push({ type: "promotion", code: data.referencedId });
      } else if (data.type === "custom" || data.type === "credit") {
        throw shopwareError(403, "CHECKOUT__INSUFFICIENT_PERMISSION", "Insufficient permission.");
      } else throw shopwareError(400, "CHECKOUT__CART_LINE_ITEM_TYPE_NOT_SUPPORTED", `Line item type "${data.type}" is not supported.`, { type: data.type });
    }
    for (const c of created) {
      if (c.type === "promotion") {
        if (!cart.codes.includes(c.code)) cart.codes.push(c.code);
        continue;
      }
      const existing = cart.items.find((i) => i.id === c.id);
      if (existing) {
        if (existing.referencedId !== c.referencedId && c.referencedId) existing.referencedId = c.referencedId;
        existing.quantity += c.quantity;
      } else cart.items.push({ id: c.id, referencedId: c.referencedId, quantity: c.quantity });
    }
    const result = calculate(ctx, { placeholder: created.some((c) => c.type === "promotion") });
    persist(ctx, result);
    return { status: 200, body: cartJson(ctx, result) };
  }

  function readCart(ctx) {
    const result = calculate(ctx);
    persist(ctx, result);
    return { status: 200, body: cartJson(ctx, result) };
  }

  function orderJson(ctx, result, customer, id, number, createdAt) {
    const orderDate = isoDate(createdAt);
    const currency = result.currency;
    const orderAddress = (a) => {
      const out = { id: randomId(), versionId: LIVE_VERSION, countryId: a.countryId };
      if (a.salutationId) out.salutationId = a.salutationId;
      for (const k of ["firstName", "lastName", "street", "zipcode", "city", "company", "department", "title", "phoneNumber", "additionalAddressLine1", "additionalAddressLine2"]) {
        if (typeof a[k] === "string") out[k] = a[k];
      }
      out.createdAt = orderDate;
      out.country = countryJson(shop.countryById.get(a.countryId));
      out.apiAlias = "order_address";
      return out;
    };
    const billingSource = billingAddress(ctx);
    const shippingSource = shippingAddress(ctx);
    const shippingOrderAddress = orderAddress(shippingSource);
    const billingOrderAddress = billingSource.id === shippingSource.id ? shippingOrderAddress : orderAddress(billingSource);
    const addresses = billingOrderAddress === shippingOrderAddress ? [shippingOrderAddress] : [billingOrderAddress, shippingOrderAddress];
    const lineItems = result.lines.map((l, i) => {
      const out = { id: randomId(), versionId: LIVE_VERSION, orderId: id, orderVersionId: LIVE_VERSION };
      if (l.kind === "product") Object.assign(out, { productId: l.product.id, productVersionId: LIVE_VERSION });
      else out.promotionId = l.promotion.id;
      Object.assign(out, { identifier: l.id });
      if (l.referencedId) out.referencedId = l.referencedId;
      Object.assign(out, {
        quantity: l.quantity,
        label: l.label,
        payload: l.kind === "product"
          ? { productNumber: l.product.productNumber }
          : { promotionId: l.promotion.id, discountId: l.id, code: l.referencedId ?? "", discountType: "percentage", value: String(l.promotion.percent), discountScope: "cart" },
        good: l.kind === "product",
        removable: l.kind === "product" || Boolean(l.referencedId),
        stackable: l.kind === "product",
        position: i + 1,
        price: priceJson(l.price),
        // a promotion's PercentagePriceDefinition does not fit the schema's CartPriceQuantity: left out
        ...(l.kind === "product"
          ? { priceDefinition: { price: l.definition.price, taxRules: l.definition.taxRules.map((r) => ({ ...r, apiAlias: "cart_tax_rule" })), quantity: l.quantity, isCalculated: true, type: "quantity", apiAlias: "cart_price_quantity" } }
          : {}),
        unitPrice: l.price.unitPrice,
        totalPrice: l.price.totalPrice,
        type: l.kind,
        states: l.kind === "product" ? [l.product.shippable ? "is-physical" : "is-download"] : [],
        children: [],
        createdAt: orderDate,
        apiAlias: "order_line_item",
      });
      if (l.kind === "promotion") out.description = l.label;
      return out;
    });
    const byIdentifier = new Map(lineItems.map((o) => [o.identifier, o]));
    const deliveries = result.deliveries.map((d) => {
      const deliveryId = randomId();
      return {
        id: deliveryId,
        versionId: LIVE_VERSION,
        orderId: id,
        orderVersionId: LIVE_VERSION,
        shippingOrderAddressId: shippingOrderAddress.id,
        shippingOrderAddressVersionId: LIVE_VERSION,
        shippingMethodId: d.method.id,
        stateId: shop.orderStates.delivery,
        trackingCodes: [],
        shippingDateEarliest: isoDate(d.earliest),
        shippingDateLatest: isoDate(d.latest),
        shippingCosts: priceJson(d.costs),
        createdAt: orderDate,
        stateMachineState: stateJson(shop.orderStates.delivery, "open", "Open"),
        shippingOrderAddress,
        shippingMethod: shippingMethodJson(d.method),
        positions: d.positions.map((l) => ({
          id: randomId(),
          versionId: LIVE_VERSION,
          orderDeliveryId: deliveryId,
          orderDeliveryVersionId: LIVE_VERSION,
          orderLineItemId: byIdentifier.get(l.id).id,
          orderLineItemVersionId: LIVE_VERSION,
          price: priceJson(l.price),
          unitPrice: l.price.unitPrice,
          totalPrice: l.price.totalPrice,
          quantity: l.quantity,
          createdAt: orderDate,
          apiAlias: "order_delivery_position",
        })),
        apiAlias: "order_delivery",
      };
    });
    const shippingCosts = sumPrices(result.deliveries.map((d) => d.costs));
    const transactionId = randomId();
    const transactions = [
      {
        id: transactionId,
        versionId: LIVE_VERSION,
        orderId: id,
        orderVersionId: LIVE_VERSION,
        paymentMethodId: ctx.paymentMethodId,
        amount: priceJson(calculated(result.price.totalPrice, result.price.totalPrice, result.price.calculatedTaxes, result.price.taxRules, 1)),
        stateId: shop.orderStates.transaction,
        createdAt: orderDate,
        stateMachineState: stateJson(shop.orderStates.transaction, "open", "Open"),
        paymentMethod: { id: shop.paymentMethod.id, technicalName: shop.paymentMethod.technicalName, name: shop.paymentMethod.name, active: true, translated: { name: shop.paymentMethod.name, customFields: {} }, apiAlias: "payment_method" },
        apiAlias: "order_transaction",
      },
    ];
    const out = {
      id,
      versionId: LIVE_VERSION,
      orderNumber: number,
      billingAddressId: billingOrderAddress.id,
      billingAddressVersionId: LIVE_VERSION,
      currencyId: currency.id,
      languageId: LANGUAGE_SYSTEM,
      salesChannelId: shop.salesChannelId,
      orderDateTime: orderDate,
      orderDate: orderDate.slice(0, 10),
      price: cartPriceJson(result.price),
      amountTotal: result.price.totalPrice,
      amountNet: result.price.netPrice,
      positionPrice: result.price.positionPrice,
      taxStatus: result.price.taxStatus,
      shippingCosts: priceJson({ ...shippingCosts, quantity: 1 }),
      shippingTotal: shippingCosts.totalPrice,
      currencyFactor: currency.factor,
      deepLinkCode: randomBytes(24).toString("base64url"),
      taxCalculationType: "horizontal",
      stateId: shop.orderStates.order,
      itemRounding: currency.itemRounding,
      totalRounding: currency.totalRounding,
      createdAt: orderDate,
      stateMachineState: stateJson(shop.orderStates.order, "open", "Open"),
      orderCustomer: {
        id: randomId(),
        versionId: LIVE_VERSION,
        email: customer.email,
        salutationId: customer.salutationId,
        firstName: customer.firstName,
        lastName: customer.lastName,
        customerNumber: customer.customerNumber,
        customerId: customer.id,
        createdAt: orderDate,
        apiAlias: "order_customer",
      },
      currency: currencyJson(currency),
      addresses,
      billingAddress: billingOrderAddress,
      deliveries,
      lineItems,
      transactions,
      documents: [],
      tags: [],
      apiAlias: "order",
    };
    if (deliveries.length) out.primaryOrderDeliveryId = deliveries[0].id;
    out.primaryOrderTransactionId = transactionId;
    return out;
  }

  function placeOrder(ctx, body) {
    const customer = customerOf(ctx);
    if (!customer) throw customerNotLoggedIn();
    // CartOrderRoute recalculates the stored cart without saving it; on success the cart is deleted.
    const result = calculate(ctx);
    const blocking = [...result.errors.values()].filter((e) => e.block);
    if (blocking.length) {
      const list = blocking.map((e) => `${e.key}: ${e.message}`).join("\n");
      throw shopwareError(500, "CHECKOUT__CART_INVALID", `The cart is invalid, got ${blocking.length} error(s): ${list}`, { errorCount: blocking.length, errors: list });
    }
    if (result.lines.length === 0) throw shopwareError(400, "CHECKOUT__CART_EMPTY", "Cart is empty");
    const id = randomId();
    const number = String(orderNumber++);
    const createdAt = new Date();
    const json = orderJson(ctx, result, customer, id, number, createdAt);
    if (typeof body.customerComment === "string" && body.customerComment.trim()) json.customerComment = body.customerComment.trim();
    if (typeof body.affiliateCode === "string" && body.affiliateCode) json.affiliateCode = body.affiliateCode;
    if (typeof body.campaignCode === "string" && body.campaignCode) json.campaignCode = body.campaignCode;
    orders.push({
      id,
      orderNumber: number,
      customerId: customer.id,
      email: customer.email,
      token: ctx.token,
      currency: result.currency.isoCode,
      country: result.country.iso,
      shippingMethodId: result.deliveries[0]?.method.id ?? null,
      lines: result.lines.map((l) => ({
        type: l.kind,
        id: l.id,
        referencedId: l.referencedId ?? null,
        label: l.label,
        quantity: l.quantity,
        unitPrice: l.price.unitPrice,
        totalPrice: l.price.totalPrice,
        taxes: l.price.calculatedTaxes,
      })),
      shipping: result.deliveries.length ? result.deliveries.reduce((a, d) => a + d.costs.totalPrice, 0) : null,
      total: result.price.totalPrice,
      net: result.price.netPrice,
      positionPrice: result.price.positionPrice,
      taxes: result.price.calculatedTaxes,
      createdAt: json.orderDateTime,
      json,
    });
    ctx.cart = { items: [], codes: [], discountIds: [] };
    return { status: 200, body: json };
  }

  function listOrders(ctx, criteria) {
    const customer = customerOf(ctx);
    if (!customer) throw customerNotLoggedIn();
    // newest first unless sorted otherwise (ties keep newest first)
    const own = orders.filter((o) => o.customerId === customer.id).map((o) => o.json).reverse();
    const list = criteriaList("order", own, criteria);
    const body = { orders: searchResult("order", list, criteria), paymentChangeable: [] };
    if (criteria.checkPromotion === true) body.paymentChangeable = Object.fromEntries(list.map((o) => [o.id, true]));
    body.apiAlias = "order-route-response-struct";
    return { status: 200, body };
  }

  const ROUTES = {
    "/country": {
      post: (ctx, body) => ({ status: 200, body: searchResult("country", criteriaList("country", shop.countries.map(countryJson), body), body) }),
    },
    "/currency": {
      post: (ctx, body) => ({ status: 200, body: [...criteriaList("currency", shop.currencies.map(currencyJson), body)] }),
    },
    "/salutation": {
      post: (ctx, body) => ({ status: 200, body: searchResult("salutation", criteriaList("salutation", shop.salutations.map(salutationJson), body), body) }),
    },
    "/account/register": { post: register },
    "/context": { patch: switchContext },
    "/checkout/cart": {
      get: readCart,
      delete: (ctx) => {
        ctx.cart = { items: [], codes: [], discountIds: [] };
        return { status: 204, body: null };
      },
    },
    "/checkout/cart/line-item": { post: addLineItems },
    "/checkout/order": { post: placeOrder },
    "/order": { post: listOrders },
  };

  // ---- HTTP ----------------------------------------------------------------------------------------
  function corsHeaders(res) {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Methods", CORS_METHODS);
    res.setHeader("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS.join(","));
    res.setHeader("Access-Control-Expose-Headers", CORS_ALLOWED_HEADERS.join(","));
  }

  function send(res, status, body, token) {
    corsHeaders(res);
    if (token) res.setHeader("sw-context-token", token);
    if (body === null || body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  /** Validates what the emulator answers; a schema failure is the emulator's bug: recorded, 500 sent. */
  function answer(res, req, apiPath, method, status, body, token) {
    if (body !== null && body !== undefined) {
      const pointer = responsePointer(apiPath, method, status);
      if (pointer === undefined) {
        violation({ kind: "response", method: method.toUpperCase(), path: req.url, status, message: `status ${status} is not declared for ${method.toUpperCase()} ${apiPath}` });
      } else if (pointer) {
        const validate = validator(pointer);
        if (!validate(body)) {
          const errs = ajvErrors(validate.errors);
          violation({ kind: "response", method: method.toUpperCase(), path: req.url, status, schema: pointer, errors: errs, body });
          const detail = `emulator bug: its ${status} answer does not match ${pointer}: ${errs.slice(0, 5).map((e) => `${e.path} ${e.message}`).join("; ")}`;
          send(res, 500, { errors: [{ status: "500", code: "EMULATOR__INVALID_RESPONSE", title: "Internal Server Error", detail }] }, token);
          return;
        }
      }
    }
    send(res, status, body, token);
  }

  function checkCorsHeaders(req, method, url) {
    for (const name of Object.keys(req.headers)) {
      if (CORS_ALLOWED.has(name) || browserOwn(name)) continue;
      violation({ kind: "cors", method, path: url, header: name, message: `request header "${name}" is not in Shopware's Access-Control-Allow-Headers; a browser's preflight would fail` });
    }
  }

  async function handle(req, res) {
    const method = req.method.toUpperCase();
    const url = new URL(req.url, "http://127.0.0.1");
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString("utf8");

    // CorsListener (REQUEST, priority 9999): OPTIONS is answered before routing and authentication.
    if (method === "OPTIONS") {
      const requested = String(req.headers["access-control-request-headers"] ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      for (const h of requested) {
        if (!CORS_ALLOWED.has(h) && !["accept", "accept-language", "content-language"].includes(h)) {
          violation({ kind: "cors-preflight", method, path: req.url, header: h, message: `preflight asks for "${h}", which Shopware does not allow` });
        }
      }
      const wanted = String(req.headers["access-control-request-method"] ?? "").toUpperCase();
      if (wanted && !CORS_METHODS.split(",").includes(wanted)) {
        violation({ kind: "cors-preflight", method, path: req.url, header: "access-control-request-method", message: `preflight asks for method ${wanted}` });
      }
      corsHeaders(res);
      res.writeHead(200);
      res.end();
      return;
    }
    checkCorsHeaders(req, method, req.url);
    const echoToken = typeof req.headers["sw-context-token"] === "string" ? req.headers["sw-context-token"] : undefined;

    // Routing
    if (!url.pathname.startsWith("/store-api/")) {
      throw symfonyError(404, `No route found for "${method} ${url.href}"`);
    }
    const apiPath = url.pathname.slice("/store-api".length).replace(/\/+$/, "") || "/";
    const lower = method.toLowerCase();
    const declared = schemaKit().doc.paths[apiPath];
    const route = ROUTES[apiPath]?.[lower] ?? (lower === "get" && ["/country", "/currency", "/salutation"].includes(apiPath) ? ROUTES[apiPath].post : null);
    if (!declared) throw symfonyError(404, `No route found for "${method} ${url.href}"`);
    if (!declared[lower]) {
      const allow = Object.keys(declared).filter((k) => ["get", "post", "patch", "put", "delete"].includes(k)).map((k) => k.toUpperCase());
      throw symfonyError(405, `No route found for "${method} ${url.href}": Method Not Allowed (Allow: ${allow.join(", ")})`);
    }

    // JsonRequestTransformerListener (REQUEST, 128)
    const contentType = String(req.headers["content-type"] ?? "");
    let body;
    let bodySent = false;
    if (raw.length) {
      if (contentType.toLowerCase().startsWith("application/json")) {
        try {
          body = JSON.parse(raw);
          bodySent = true;
        } catch {
          violation({ kind: "request", method, path: req.url, message: "malformed JSON body" });
          throw symfonyError(400, "The JSON payload is malformed.");
        }
      } else {
        violation({ kind: "request", method, path: req.url, message: `a body with Content-Type "${contentType}" is not read as JSON by Shopware (JsonRequestTransformerListener)` });
      }
    }

    // SalesChannelAuthenticationListener (CONTROLLER, -2)
    const key = req.headers["sw-access-key"];
    if (!key) {
      throw Object.assign(symfonyError(401, 'Header "sw-access-key" is required.'), { token: echoToken });
    }
    const origin = { SWUA: "user", SWIA: "integration", SWSC: "sales-channel", SWPE: "product-export" }[String(key).slice(0, 4)];
    if (!origin) throw Object.assign(shopwareError(500, "FRAMEWORK__API_INVALID_ACCESS_KEY", "Access key is invalid and could not be identified."), { token: echoToken });
    if (origin !== "sales-channel" || key !== accessKey) {
      throw Object.assign(shopwareError(412, "FRAMEWORK__ROUTING_SALES_CHANNEL_NOT_FOUND", "No matching sales channel found."), { token: echoToken });
    }

    // ContextResolverListener (CONTROLLER, -10): an unknown token gets a fresh context under that token.
    const token = echoToken || randomToken();
    const ctx = contexts.get(token) ?? newContext(token);

    if (!route) {
      violation({ kind: "unimplemented", method, path: req.url, message: `${method} /store-api${apiPath} exists in the schema but is not emulated` });
      throw Object.assign(shopwareError(501, "EMULATOR__NOT_IMPLEMENTED", `${method} /store-api${apiPath} is not emulated`), { token: ctx.token });
    }

    // Request body against the schema
    const req_ = requestPointer(apiPath, lower);
    if (req_ && (bodySent || req_.required)) {
      const validate = validator(req_.pointer);
      const value = bodySent ? body : undefined;
      const ok = value !== undefined && validate(value);
      if (!ok) {
        const errs = value === undefined ? [{ path: "/", keyword: "required", message: "the request body is required", params: {} }] : ajvErrors(validate.errors);
        violation({ kind: "request", method, path: req.url, schema: req_.pointer, errors: errs, body: value });
        const seen = new Set();
        const list = [];
        for (const e of errs) {
          const item = {
            status: "400",
            code: "FRAMEWORK__INVALID_REQUEST_PARAMETER",
            title: "Bad Request",
            detail: `The parameter "${e.path}" is invalid: ${e.message} (Store API schema, ${e.keyword}).`,
            source: { pointer: e.path },
            meta: { parameters: { parameter: e.path } },
          };
          const k = JSON.stringify(item);
          if (!seen.has(k)) seen.add(k), list.push(item);
        }
        throw Object.assign(new HttpError(400, list), { token: ctx.token });
      }
    }
    const data = bodySent && body && typeof body === "object" && !Array.isArray(body) ? body : {};
    const criteria = lower === "get" ? criteriaFromQuery(url) : data;

    try {
      const out = route(ctx, criteria);
      answer(res, req, apiPath, lower, out.status, out.body, out.token ?? ctx.token);
    } catch (err) {
      if (err instanceof HttpError) err.token = err.token ?? ctx.token;
      err.apiPath = apiPath;
      err.method = lower;
      throw err;
    }
  }

  function criteriaFromQuery(url) {
    const c = {};
    for (const [k, v] of url.searchParams) {
      if (k === "limit" || k === "page") c[k] = Number(v);
      else if (k === "filter" || k === "sort") {
        try {
          c[k] = JSON.parse(v);
        } catch {
          /* ignored */
        }
      }
    }
    return c;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (res.headersSent) return;
      if (err instanceof HttpError) {
        answer(res, req, err.apiPath ?? "", err.method ?? "", err.status, { errors: err.errors }, err.token);
        return;
      }
      violation({ kind: "crash", method: req.method, path: req.url, message: String(err?.stack ?? err) });
      send(res, 500, { errors: [{ code: "0", status: "500", title: "Internal Server Error", detail: String(err?.message ?? err) }] });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    storeApi: `${url}/store-api`,
    accessKey,
    violations,
    orders,
    contexts,
    customers,
    schemaVersion: schemaKit().version,
    relaxations: RELAXATIONS,
    skippedPromotions: shop.skippedPromotions,
    ids: {
      salesChannel: shop.salesChannelId,
      languageId: LANGUAGE_SYSTEM,
      countries: Object.fromEntries(shop.countries.map((c) => [c.iso, c.id])),
      currencies: Object.fromEntries(shop.currencies.map((c) => [c.isoCode, c.id])),
      salutations: Object.fromEntries(shop.salutations.map((s) => [s.salutationKey, s.id])),
      shippingMethods: Object.fromEntries(shop.shippingMethods.map((m) => [m.technicalName.replace(/^shipping_/, ""), m.id])),
      paymentMethod: shop.paymentMethod.id,
      promotions: Object.fromEntries(shop.promotions.map((p) => [p.catalogId, { id: p.id, discountId: p.discountId, code: p.code }])),
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
