// Sylius on 127.0.0.1: ONE node:http server emulating two Sylius APIs over one in-memory shop seeded from a
// wasm-cart catalog, built from Sylius's own source, configuration, tests and docs (no Sylius code is run):
//
//   * the admin API v1 (SyliusAdminApiBundle, Sylius <= 1.9 core, FOSOAuthServerBundle + FOSRest + JMS)
//   * the shop API v2 (API Platform, Sylius 1.11+ / 2.x) for guests.
//
// ---------------------------------------------------------------------------------------------------------------
// Sources (repositories as stored on GitHub; "@x" = branch/tag read):
//
// Admin API v1 — github.com/Sylius/SyliusAdminApiBundle @main (branch alias 1.13-dev, used with Sylius 1.9-1.12):
//   src/Resources/config/routing.yml, routing/main.yml          /api/oauth/v2/token, /api/v1 prefix, route map
//   src/Resources/config/routing/cart.yml                        POST /carts/ (OrderType), GET/DELETE /carts/{id}
//                                                                (findCartById), PUT|PATCH /carts/{id} =
//                                                                OrderPromotionCouponType  <- the v1 coupon endpoint
//   src/Resources/config/routing/cart_item.yml                   POST /carts/{cartId}/items/, PUT/DELETE items/{id}
//   src/Resources/config/routing/checkout.yml                    addressing/select-shipping/select-payment/complete
//                                                                (updateAction + state_machine transition), GET /{id}
//   src/Resources/config/routing/order.yml                       GET /orders/{id}
//   src/Form/Type/OrderType.php                                  fields customer, localeCode, channel (NotBlank)
//   src/Form/Type/OrderItemType.php                              variant (code) + quantity; variant removed on update
//   src/Form/Type/OrderPromotionCouponType.php                   field `promotionCoupon` (coupon code)
//   src/Form/Type/AddressType.php                                shipping/billingAddress, different*Address copying
//   src/Form/ChoiceList/Loader/LazyCustomerLoader.php            customer = existing customer by e-mail
//   src/Controller/ShowAvailableShippingMethodsController.php    GET select-shipping body + 400 message
//   src/Controller/ShowAvailablePaymentMethodsController.php     GET select-payment body + 400 message
//   src/EventListener/CartChangeListener.php, services.xml       order processed on item create/update/delete
//   src/Resources/config/serializer/core/Model.Order.yml etc.    camelCase JMS fields, groups Default/Detailed/DetailedCart
//   tests/Controller/CheckoutApiTestCase.php + Checkout*ApiTest  exact request bodies and status codes (204, 400, 500)
//   tests/Controller/OauthTokenApiTest.php                       token request as JSON body
//   tests/Responses/**                                           error bodies: validation tree, 404, 401, SM 500 text
//   docs/authorization.md, docs/carts.md, docs/checkouts.md      token endpoint (GET or POST), demo_client credentials
//   /work/shared/seeds/002_8026352dfe825da6.txt                  the seeded (older) carts doc: `locale_code`, snake_case
// github.com/FriendsOfSymfony/oauth2-php @master: lib/OAuth2.php grantAccessToken/getClientCredentials/verifyAccessToken
//   (error codes + descriptions, token response shape, 3600 s lifetime, Basic auth or body credentials).
//
// Core behaviour — github.com/Sylius/Sylius @1.9 and @2.0 (branch head of 2024-10-24, "Merge branch '1.14' into 2.0"):
//   CoreBundle/Resources/config/app/state_machine/sylius_order_checkout.yml (1.9) and
//   app/workflow/sylius_order_checkout.yaml (2.0)                  checkout graph, callbacks (process, skip resolvers)
//   app/state_machine/sylius_order.yml                              cart -> new (number assigned on create)
//   Component/Core/StateResolver/CheckoutStateResolver.php          skip_shipping / skip_payment
//   Component/Core/Checker/Order{Shipping,Payment}MethodSelectionRequirementChecker.php
//   CoreBundle/Resources/config/services/order_processing.xml       processor order: clearer 60, prices/shipments 50/40,
//                                                                   shipping charges 30, promotions 20, taxes 10, payment 0
//   Component/Core/OrderProcessing/{OrderAdjustmentsClearer,OrderShipmentProcessor,ShippingChargesProcessor,
//     OrderTaxesProcessor,OrderPaymentProcessor}.php
//   Component/Core/Resolver/TaxationAddressResolver.php             billing address decides the tax zone by default
//   Component/Core/Taxation/Applicator/OrderItemsTaxesApplicator.php  tax per ITEM total, split over units
//   Component/Core/Taxation/Applicator/OrderShipmentTaxesApplicator.php
//   Component/Taxation/Calculator/DefaultCalculator.php             round(base - base/(1+rate)) | round(base*rate)
//   Component/Core/Distributor/IntegerDistributor.php, ProportionalIntegerDistributor.php (PHP_ROUND_HALF_DOWN)
//   Component/Core/Promotion/Action/PercentageDiscountPromotionActionCommand.php (order_percentage_discount)
//   Component/Core/Promotion/Applicator/UnitsPromotionAdjustmentsApplicator.php
//   Component/Promotion/Processor/PromotionProcessor.php            priority order, eligibility checked one by one
//   Component/Core/Shipping/Calculator/FlatRateCalculator.php        amount per channel code
//   Component/Core/Model/{Order,OrderItem,Shipment,Adjustment,TaxRate}.php  totals, taxTotal, shippingTotal, labels
//   Component/Order/Model/Order.php                                 total = itemsTotal + adjustmentsTotal (>= 0)
//
// Shop API v2 — github.com/Sylius/Sylius @2.0, src/Sylius/Bundle/ApiBundle:
//   Resources/config/api_platform/resources/shop/Order.xml          operations: POST /shop/orders, GET|PUT|DELETE
//                                                                   /shop/orders/{tokenValue}, POST .../items,
//                                                                   PATCH|DELETE .../items/{id}, PATCH .../shipments/{id},
//                                                                   PATCH .../payments/{id}, PATCH .../complete
//   Resources/config/serialization/Order.xml + Commands/**          field names (productVariant, shippingMethod, ...)
//   Command/Cart/{PickupCart,AddItemToCart}.php, Command/Checkout/{UpdateCart,ChooseShippingMethod,
//     ChoosePaymentMethod,CompleteOrder}.php, CommandHandler/** (same names + Handler)
//   Modifier/OrderAddressModifier.php, Assigner/OrderPromotionCodeAssigner.php  (PUT without couponCode REMOVES it)
//   Resources/config/validation/{AddItemToCart,UpdateCart,ChooseShippingMethod,ChoosePaymentMethod,CompleteOrder}.xml
//   Validator/Constraints/*Validator.php + Resources/translations/validators.en.yaml  (violation texts)
//   Resources/config/app/config.yaml                                formats (ld+json, json), patch_formats
//                                                                   (merge-patch+json), exception_to_status
//   UPGRADE-API-1.11.md (1.11 branch)                               "ApplyCouponToCart and AddressOrder ... replaced with
//                                                                   UpdateCart" (PUT); items PATCH -> POST
//   tests/Api/Shop/Checkout/{CartTest,ShippingMethodTest,CompletionTest}.php and tests/Api/Responses/shop/**  bodies
//   tests/Api/JsonApiTestCase.php                                   hydra error / ConstraintViolationList shapes
// api-platform/core State/Provider/{ContentNegotiationProvider,DeserializeProvider}.php   415 texts
// github.com/Sylius/Sylius/issues/18475 (2.1.7)                      handler assertion -> 500 hydra:Error (not 404)
// docs/getting-started-with-sylius/using-api.rst (Sylius @1.13)      OUTDATED 1.10 flow (PATCH .../items, PATCH
//                                                                   .../address); the code above is what 1.11+ runs.
// ---------------------------------------------------------------------------------------------------------------
//
// Emulator choices that are not Sylius core:
//   * per-country flat rates: a catalog shipping method's EUR rate for the address country is its flat rate (Sylius's
//     flat_rate has one amount per channel; before addressing the first EUR rate is used);
//   * `freeAbove` / cart-value `tiers` (freeShipping: "promotion", the default) act like a lowest-priority shipping
//     promotion evaluated after the coupon (adjustment type order_shipping_promotion), on the items total after item
//     discounts, `>=`, for the selected method only — Sylius core would need a custom rule/action for that;
//     freeShipping: "none" ignores them (pure core flat rate);
//   * customers: every e-mail is a known customer unless `customers` (a list of e-mails) is given;
//   * an unknown order token on POST .../items answers 404 (the 2.0 snapshot answers 500, issue #18475);
//   * CORS for loopback origins on /api/ (Sylius-Standard's NelmioCorsBundle setup, recalled, not re-read here);
//   * `violations` also lists soft problems the real API silently tolerates: unknown JSON fields (API Platform
//     ignores them), v1 bodies FOSRest does not decode, an unknown v1 coupon (silently dropped), a v2 PUT that
//     drops an earlier coupon by omitting couponCode, IRIs under an unexpected prefix.

import http from "node:http";
import { randomBytes } from "node:crypto";

// ------------------------------------------------------------------------------------------------ numbers (PHP)

/** Minor units of a decimal string in major units ("12.90" -> 1290), without floating point. */
export function cents(amount, digits = 2) {
  const text = String(amount).trim();
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
  let value = Number(whole || "0") * 10 ** digits + Number((fraction + "0".repeat(digits)).slice(0, digits) || "0");
  if (fraction.length > digits && Number(fraction[digits]) >= 5) value += 1; // half up beyond the currency digits
  return negative ? -value : value;
}

/** PHP round($value) (half away from zero, with PHP's pre-rounding to 15 significant digits); halfDown = PHP_ROUND_HALF_DOWN. */
export function phpRound(value, halfDown = false) {
  if (!Number.isFinite(value)) return value;
  const pre = Number(value.toPrecision(15));
  const abs = Math.abs(pre);
  const floor = Math.floor(abs);
  const diff = abs - floor;
  let r = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : halfDown ? floor : floor + 1;
  r *= Math.sign(pre);
  return r === 0 ? 0 : r;
}

/** Sylius\Component\Core\Distributor\IntegerDistributor::distribute. */
export function distributeInteger(amount, targets) {
  const sign = amount < 0 ? -1 : 1;
  const abs = Math.abs(Math.trunc(amount));
  const low = Math.trunc(abs / targets);
  const remainder = abs % targets;
  return Array.from({ length: targets }, (_, i) => (i < remainder ? low + 1 : low) * sign || 0);
}

/** Sylius\Component\Core\Distributor\ProportionalIntegerDistributor::distribute (2.0 form; same results as 1.9). */
export function distributeProportionally(integers, amount) {
  const total = integers.reduce((s, x) => s + x, 0);
  if (total === 0) return integers.map(() => 0);
  const distributed = integers.map((x) => (x === 0 ? 0 : phpRound((x * amount) / total, true)));
  const remainder = amount - distributed.reduce((s, x) => s + x, 0);
  if (remainder === 0 || remainder === amount) return distributed;
  for (let i = 0; i < Math.abs(remainder) && i < distributed.length; i++) distributed[i] += remainder > 0 ? 1 : -1;
  return distributed;
}

/** Sylius\Component\Taxation\Calculator\DefaultCalculator::calculate. */
export function taxOf(base, rate, includedInPrice) {
  return includedInPrice ? phpRound(base - base / (1 + rate)) : phpRound(base * rate);
}

const pct = (amount) => Number((amount * 100).toPrecision(14)); // TaxRate::getAmountAsPercentage as PHP prints it

// ------------------------------------------------------------------------------------------------ seeding

const CHECKOUT_TRANSITIONS = [
  ["address", ["cart", "addressed", "shipping_selected", "shipping_skipped", "payment_selected", "payment_skipped"], "addressed"],
  ["skip_shipping", ["addressed"], "shipping_skipped"],
  ["select_shipping", ["addressed", "shipping_selected", "payment_selected", "payment_skipped"], "shipping_selected"],
  ["skip_payment", ["shipping_selected", "shipping_skipped"], "payment_skipped"],
  ["select_payment", ["payment_selected", "shipping_skipped", "shipping_selected"], "payment_selected"],
  ["complete", ["payment_selected", "payment_skipped"], "completed"],
];

function basePrice(list = [], currency = "EUR") {
  const mine = list.filter((p) => p.currency === currency);
  const plain = mine.find((p) => !p.minQuantity && !p.customerGroup && !p.validFrom && !p.validUntil && !p.country);
  return plain ?? mine.find((p) => !p.minQuantity && !p.customerGroup) ?? mine[0];
}

function seed(catalog, { channel, paymentMethods, currency }) {
  const ids = { variant: 0, method: 0 };
  const includedInPrice = catalog.pricing?.pricesIncludeTax ?? true;
  const variants = { v1: new Map(), v2: new Map() };
  const products = [];
  for (const product of catalog.products ?? []) {
    const entries = [
      { source: product, sku: product.sku ?? product.id, name: product.name, master: true },
      ...(product.variants ?? []).map((v) => ({ source: v, sku: v.sku, name: v.name ?? product.name, master: false })),
    ];
    for (const entry of entries) {
      const price = basePrice(entry.source.prices ?? (entry.master ? [] : product.prices), currency);
      if (!price) continue; // no price in the channel currency: not sellable in this channel
      const stock = entry.source.stock ?? (entry.master ? undefined : product.stock);
      const variant = {
        id: ++ids.variant,
        v1: entry.source.external?.sylius ?? entry.sku,
        v2: entry.source.external?.["sylius-shop"] ?? entry.sku,
        productCode: product.id,
        productName: product.name,
        name: entry.name,
        price: cents(price.amount),
        taxCategory: product.taxCategory,
        shippingRequired: product.shippable !== false,
        tracked: stock !== undefined && stock !== null,
        onHand: stock ?? 0,
        enabled: product.available !== false && entry.source.available !== false,
      };
      variants.v1.set(variant.v1, variant);
      variants.v2.set(variant.v2, variant);
    }
    products.push(product.id);
  }
  const taxRates = [];
  for (const category of catalog.taxCategories ?? []) {
    for (const rate of category.rates ?? []) {
      const amount = Number(rate.rate);
      const name = rate.name ?? `${category.id} ${rate.country}`;
      taxRates.push({
        code: `${category.id}_${rate.country}`.toLowerCase(),
        category: category.id,
        country: rate.country,
        amount,
        includedInPrice,
        name,
        label: `${name} (${pct(amount)}%)`,
      });
    }
  }
  const ordered = [...(catalog.shippingMethods ?? [])].sort((a, b) => Number(Boolean(b.default)) - Number(Boolean(a.default)));
  const shippingMethods = [];
  for (const method of ordered) {
    const rates = (method.rates ?? [])
      .filter((r) => r.currency === currency)
      .map((r) => ({
        countries: r.countries ?? [],
        price: cents(r.price),
        freeAbove: r.freeAbove != null ? cents(r.freeAbove) : null,
        tiers: (r.tiers ?? []).map((t) => ({ min: cents(t.minCartValue), price: cents(t.price) })),
      }));
    if (!rates.length) continue; // FlatRateCalculator needs an amount for the channel
    shippingMethods.push({
      id: ++ids.method,
      v1: method.external?.sylius ?? method.id,
      v2: method.external?.["sylius-shop"] ?? method.id,
      name: method.name ?? method.id,
      description: method.description ?? null,
      position: shippingMethods.length,
      taxCategory: method.taxCategory ?? null,
      rates,
    });
  }
  const payments = (paymentMethods ?? [
    { code: "bank_transfer", name: "Bank transfer" },
    { code: "cash_on_delivery", name: "Cash on delivery" },
  ]).map((m, i) => ({ id: i + 1, code: m.code, name: m.name ?? m.code, description: m.description ?? null, position: i }));
  const promotions = [];
  for (const promotion of catalog.promotions ?? []) {
    if (!promotion.code || promotion.value?.type !== "percentage") continue;
    promotions.push({
      id: promotions.length + 1,
      code: promotion.id,
      name: promotion.label ?? promotion.id,
      couponCode: promotion.code,
      percentage: Number(promotion.value.percent) / 100,
      priority: 10,
      exclusive: false,
    });
  }
  const countries = new Set(taxRates.map((r) => r.country));
  for (const m of shippingMethods) for (const r of m.rates) for (const c of r.countries) countries.add(c);
  return { channel, currency, variants, taxRates, shippingMethods, payments, promotions, countries, includedInPrice };
}

// ------------------------------------------------------------------------------------------------ the shop

class Shop {
  constructor(seedData, options) {
    Object.assign(this, seedData);
    this.options = options;
    this.seq = { order: 0, item: 0, unit: 0, adjustment: 0, shipment: 0, payment: 0, customer: 0, address: 0, number: 0 };
    this.orders = new Map(); // id -> order
    this.byToken = new Map();
    this.customers = new Map(); // email -> customer
    this.completed = [];
  }

  next(kind) {
    return ++this.seq[kind];
  }

  customer(email, { create = true } = {}) {
    const key = String(email).toLowerCase();
    let found = this.customers.get(key);
    if (!found && create) {
      found = { id: this.next("customer"), email: String(email), firstName: null, lastName: null };
      this.customers.set(key, found);
    }
    return found ?? null;
  }

  newOrder({ api, localeCode, customer = null, tokenValue = null }) {
    const order = {
      id: this.next("order"),
      api,
      tokenValue,
      channel: this.channel,
      currencyCode: this.currency,
      localeCode,
      customer,
      items: [],
      shipments: [],
      payments: [],
      adjustments: [],
      shippingAddress: null,
      billingAddress: null,
      promotionCoupon: null,
      checkoutState: "cart",
      state: "cart",
      paymentState: "cart",
      shippingState: "cart",
      number: null,
      notes: null,
      checkoutCompletedAt: null,
      createdAt: new Date().toISOString(),
    };
    this.orders.set(order.id, order);
    if (tokenValue) this.byToken.set(tokenValue, order);
    return order;
  }

  // -- totals (Sylius model getters) --------------------------------------------------------------------------

  static nonNeutral(adjustments, type) {
    return adjustments.reduce((s, a) => (a.neutral || (type && a.type !== type) ? s : s + a.amount), 0);
  }
  static all(adjustments, type) {
    return adjustments.reduce((s, a) => (type && a.type !== type ? s : s + a.amount), 0);
  }
  unitTotal(item, unit) {
    return Math.max(0, item.unitPrice + Shop.nonNeutral(unit.adjustments));
  }
  unitsTotal(item) {
    return item.units.reduce((s, u) => s + this.unitTotal(item, u), 0);
  }
  itemTotal(item) {
    return Math.max(0, this.unitsTotal(item) + Shop.nonNeutral(item.adjustments));
  }
  itemsTotal(order) {
    return order.items.reduce((s, i) => s + this.itemTotal(i), 0);
  }
  orderAdjustments(order) {
    return [...order.adjustments, ...order.shipments.flatMap((s) => s.adjustments)];
  }
  total(order) {
    return Math.max(0, this.itemsTotal(order) + Shop.nonNeutral(this.orderAdjustments(order)));
  }
  recursive(order) {
    return [
      ...this.orderAdjustments(order),
      ...order.items.flatMap((i) => [...i.adjustments, ...i.units.flatMap((u) => u.adjustments)]),
    ];
  }
  totals(order) {
    const all = this.recursive(order);
    const orderLevel = this.orderAdjustments(order);
    const type = (t) => all.filter((a) => a.type === t);
    return {
      itemsTotal: this.itemsTotal(order),
      itemsSubtotal: order.items.reduce((s, i) => s + i.unitPrice * i.quantity, 0),
      total: this.total(order),
      taxTotal: Shop.all(all, "tax"),
      // Order::getShippingTaxTotal() of the 2.0 branch sums the SHIPPING adjustments (tests/Api/Responses/shop/**
      // expect "shippingTaxTotal": 500 next to "taxTotal": 0); reproduced as read.
      shippingTaxTotal: Shop.all(orderLevel, "shipping"),
      taxExcludedTotal: Shop.nonNeutral(type("tax")),
      taxIncludedTotal: type("tax").reduce((s, a) => (a.neutral ? s + a.amount : s), 0),
      shippingTotal:
        Shop.nonNeutral(orderLevel, "shipping") + Shop.nonNeutral(orderLevel, "order_shipping_promotion") + Shop.nonNeutral(orderLevel, "tax"),
      orderPromotionTotal:
        Shop.nonNeutral(all, "order_promotion") + Shop.nonNeutral(all, "order_item_promotion") + Shop.nonNeutral(all, "order_unit_promotion"),
      shippingPromotionTotal: Shop.nonNeutral(all, "order_shipping_promotion"),
      adjustmentsTotal: Shop.nonNeutral(orderLevel),
    };
  }

  // -- rules --------------------------------------------------------------------------------------------------

  shippingRequired(order) {
    return order.items.some((i) => i.variant.shippingRequired);
  }
  rateFor(method, country) {
    return (country && method.rates.find((r) => !r.countries.length || r.countries.includes(country))) || method.rates[0];
  }
  serves(method, country) {
    return method.rates.some((r) => !r.countries.length || r.countries.includes(country));
  }
  /** ShippingMethodsResolver::getSupportedMethods (zone of the shipping address; none without an address). */
  supportedShippingMethods(order) {
    const country = order.shippingAddress?.countryCode;
    if (!country) return [];
    return this.shippingMethods.filter((m) => this.serves(m, country));
  }
  /** EligibleDefaultShippingMethodResolver: first method for the zone, or for the channel without an address. */
  defaultShippingMethod(order) {
    return order.shippingAddress ? this.supportedShippingMethods(order)[0] ?? null : this.shippingMethods[0] ?? null;
  }
  taxCountry(order) {
    const address = this.options.shippingAddressBasedTaxation ? order.shippingAddress : order.billingAddress;
    const country = address?.countryCode;
    if (country && this.taxRates.some((r) => r.country === country)) return country;
    return this.options.defaultTaxCountry ?? null;
  }
  taxRate(category, country) {
    return this.taxRates.find((r) => r.category === category && r.country === country) ?? null;
  }
  canTransition(order, name) {
    const t = CHECKOUT_TRANSITIONS.find(([n]) => n === name);
    return Boolean(t && t[1].includes(order.checkoutState));
  }
  enabledTransitions(order) {
    return CHECKOUT_TRANSITIONS.filter(([, from]) => from.includes(order.checkoutState)).map(([n]) => n);
  }
  adjustment(type, label, amount, neutral = false, details = {}) {
    return { id: this.next("adjustment"), type, label, amount, neutral, details };
  }

  // -- OrderProcessor composite -------------------------------------------------------------------------------

  process(order) {
    if (order.state !== "cart") return; // Order::canBeProcessed()
    // OrderAdjustmentsClearer (promotion, shipping and tax adjustments, recursively)
    order.adjustments = [];
    for (const item of order.items) {
      item.adjustments = [];
      for (const unit of item.units) unit.adjustments = [];
    }
    for (const shipment of order.shipments) shipment.adjustments = [];
    // OrderPricesRecalculator (channel pricing)
    for (const item of order.items) item.unitPrice = item.variant.price;
    // OrderShipmentProcessor
    if (!order.items.length || !this.shippingRequired(order)) {
      order.shipments = [];
    } else if (order.shipments.length) {
      const shipment = order.shipments[0];
      if (!this.supportedShippingMethods(order).includes(shipment.method)) {
        const fallback = this.defaultShippingMethod(order);
        if (fallback) shipment.method = fallback;
      }
    } else {
      const method = this.defaultShippingMethod(order);
      if (method) order.shipments.push({ id: this.next("shipment"), method, state: "cart", adjustments: [] });
    }
    // ShippingChargesProcessor (flat rate per channel; here per address country)
    const country = order.shippingAddress?.countryCode;
    for (const shipment of order.shipments) {
      const rate = this.rateFor(shipment.method, country);
      shipment.adjustments.push(
        this.adjustment("shipping", shipment.method.name, rate.price, false, {
          shippingMethodCode: shipment.method.v2,
          shippingMethodName: shipment.method.name,
        }),
      );
    }
    // OrderPromotionProcessor
    this.applyPromotions(order);
    // OrderTaxesProcessor (order_items_based strategy)
    this.applyTaxes(order);
    // OrderPaymentProcessor (target state "cart")
    const total = this.total(order);
    if (total === 0) {
      order.payments = order.payments.filter((p) => p.state !== "cart");
    } else {
      const last = [...order.payments].reverse().find((p) => p.state === "cart");
      if (last) {
        last.amount = total;
        last.method ??= this.payments[0] ?? null;
      } else {
        order.payments.push({ id: this.next("payment"), method: this.payments[0] ?? null, amount: total, state: "cart", currencyCode: order.currencyCode });
      }
    }
  }

  applyPromotions(order) {
    const coupon = order.promotionCoupon;
    const candidates = this.promotions
      .filter((p) => coupon && p.couponCode === coupon) // PromotionCouponEligibilityChecker
      .sort((a, b) => b.priority - a.priority);
    for (const promotion of candidates) {
      if (!order.items.length) continue; // DiscountPromotionActionCommand::isSubjectValid
      const amount = -1 * phpRound(this.itemsTotal(order) * promotion.percentage);
      if (amount === 0) continue;
      const split = distributeProportionally(order.items.map((i) => this.itemTotal(i)), amount);
      order.items.forEach((item, index) => {
        if (split[index] === 0) return;
        distributeInteger(split[index], item.quantity).forEach((share, u) => {
          const unit = item.units[u];
          if (!unit || share === 0) return;
          const unitTotal = this.unitTotal(item, unit);
          const value = unitTotal + share <= 0 ? -unitTotal : share; // minimum price 0 (2.0 applicator)
          const adj = this.adjustment("order_promotion", promotion.name, value);
          adj.originCode = promotion.code;
          unit.adjustments.push(adj);
        });
      });
    }
    // Catalog freeAbove / tiers: lowest priority, after the item promotions (see header).
    if (this.options.freeShipping === "promotion") {
      const itemsTotal = this.itemsTotal(order);
      const country = order.shippingAddress?.countryCode;
      for (const shipment of order.shipments) {
        const rate = this.rateFor(shipment.method, country);
        let price = rate.price;
        let label = null;
        if (rate.freeAbove != null && itemsTotal >= rate.freeAbove) {
          price = 0;
          label = "Free shipping";
        } else {
          const tier = rate.tiers.filter((t) => itemsTotal >= t.min).sort((a, b) => b.min - a.min)[0];
          if (tier) {
            price = tier.price;
            label = "Shipping tier";
          }
        }
        if (label && price !== rate.price) {
          const charge = Shop.nonNeutral(shipment.adjustments, "shipping");
          const amount = Math.max(price - rate.price, -charge);
          const adj = this.adjustment("order_shipping_promotion", label, amount);
          adj.originCode = `free_shipping_${shipment.method.v2}`;
          shipment.adjustments.push(adj);
        }
      }
    }
  }

  applyTaxes(order) {
    if (!order.items.length) return;
    const country = this.taxCountry(order);
    if (!country) return;
    for (const item of order.items) {
      const rate = this.taxRate(item.variant.taxCategory, country);
      if (!rate) continue;
      const amount = taxOf(this.itemTotal(item), rate.amount, rate.includedInPrice);
      distributeInteger(amount, item.quantity).forEach((share, u) => {
        if (share === 0 || !item.units[u]) return;
        item.units[u].adjustments.push(
          this.adjustment("tax", rate.label, share, rate.includedInPrice, { taxRateCode: rate.code, taxRateName: rate.name, taxRateAmount: rate.amount }),
        );
      });
    }
    const shippingTotal = this.totals(order).shippingTotal;
    if (shippingTotal === 0) return;
    for (const shipment of order.shipments) {
      const rate = shipment.method.taxCategory && this.taxRate(shipment.method.taxCategory, country);
      if (!rate) continue;
      const amount = taxOf(Shop.nonNeutral(shipment.adjustments), rate.amount, rate.includedInPrice);
      if (amount === 0) continue;
      shipment.adjustments.push(
        this.adjustment("tax", rate.label, amount, rate.includedInPrice, {
          shippingMethodCode: shipment.method.v2,
          taxRateCode: rate.code,
          taxRateName: rate.name,
          taxRateAmount: rate.amount,
        }),
      );
    }
  }

  // -- cart changes -------------------------------------------------------------------------------------------

  setQuantity(item, quantity) {
    while (item.units.length < quantity) item.units.push({ id: this.next("unit"), adjustments: [] });
    item.units.length = quantity;
    item.quantity = quantity;
  }
  newItem(order, variant, quantity) {
    const item = { id: this.next("item"), variant, unitPrice: variant.price, quantity: 0, units: [], adjustments: [] };
    this.setQuantity(item, quantity);
    order.items.push(item);
    return item;
  }

  // -- checkout -----------------------------------------------------------------------------------------------

  /** Applies a checkout transition and its callbacks (sylius_process_cart, sylius_skip_shipping/payment). */
  apply(order, name) {
    const t = CHECKOUT_TRANSITIONS.find(([n]) => n === name);
    order.checkoutState = t[2];
    if (name === "complete") return this.complete(order);
    if (["address", "select_shipping", "select_payment", "skip_shipping", "skip_payment"].includes(name)) this.process(order);
    if (name === "address" || name === "select_shipping") this.resolveCheckout(order);
  }
  resolveCheckout(order) {
    // OrderShippingMethodSelectionRequirementChecker with the channel's skippingShippingStepAllowed = false
    const shippingSelectionRequired = this.shippingRequired(order);
    if (!shippingSelectionRequired && this.canTransition(order, "skip_shipping")) this.apply(order, "skip_shipping");
    const paymentSelectionRequired = this.total(order) > 0; // channel: skippingPaymentStepAllowed = false
    if (!paymentSelectionRequired && this.canTransition(order, "skip_payment")) this.apply(order, "skip_payment");
  }
  complete(order) {
    order.checkoutCompletedAt = new Date().toISOString();
    order.state = "new";
    order.number = String(this.next("number")).padStart(9, "0");
    order.tokenValue ??= randomBytes(48).toString("base64url").slice(0, 64);
    this.byToken.set(order.tokenValue, order);
    for (const p of order.payments) if (p.state === "cart") p.state = "new";
    for (const s of order.shipments) if (s.state === "cart") s.state = "ready";
    order.paymentState = order.payments.length ? "awaiting_payment" : "paid";
    order.shippingState = order.shipments.length ? "ready" : "shipped";
    for (const item of order.items) if (item.variant.tracked) item.variant.onHand -= item.quantity; // onHold, simplified
    const totals = this.totals(order);
    const api = order.api;
    this.completed.push({
      api,
      id: order.id,
      number: order.number,
      tokenValue: order.tokenValue,
      channel: order.channel,
      currencyCode: order.currencyCode,
      localeCode: order.localeCode,
      customer: order.customer?.email ?? null,
      couponCode: order.promotionCoupon,
      notes: order.notes,
      checkoutState: order.checkoutState,
      state: order.state,
      paymentState: order.paymentState,
      shippingState: order.shippingState,
      shippingAddress: order.shippingAddress && { ...order.shippingAddress },
      billingAddress: order.billingAddress && { ...order.billingAddress },
      shippingMethod: order.shipments[0] ? order.shipments[0].method[api] : null,
      paymentMethod: order.payments[0]?.method?.code ?? null,
      lines: order.items.map((item) => {
        const adjs = item.units.flatMap((u) => u.adjustments);
        return {
          variant: item.variant[api],
          product: item.variant.productCode,
          name: item.variant.name,
          quantity: item.quantity,
          unitPrice: item.unitPrice,
          discount: Shop.nonNeutral(adjs, "order_promotion"),
          tax: Shop.all(adjs, "tax"),
          total: this.itemTotal(item),
        };
      }),
      ...totals,
      checkoutCompletedAt: order.checkoutCompletedAt,
    });
  }
}

// ------------------------------------------------------------------------------------------------ HTTP helpers

function send(res, status, body, headers = {}) {
  const text = body === undefined || body === null ? "" : typeof body === "string" ? body : JSON.stringify(body);
  const h = { ...headers };
  if (text && !h["Content-Type"]) h["Content-Type"] = "application/json";
  res.writeHead(status, h);
  res.end(text);
}

function mediaType(header) {
  return String(header ?? "").split(";")[0].trim().toLowerCase();
}

/** application/x-www-form-urlencoded with PHP bracket nesting (a[b][0][c]=x). */
function parseForm(text) {
  const root = {};
  for (const pair of text.split("&")) {
    if (!pair) continue;
    const [rawKey, rawValue = ""] = pair.split("=");
    const key = decodeURIComponent(rawKey.replace(/\+/g, " "));
    const value = decodeURIComponent(rawValue.replace(/\+/g, " "));
    const parts = key.match(/^[^[]+|\[[^\]]*\]/g) ?? [key];
    const path = parts.map((p) => (p.startsWith("[") ? p.slice(1, -1) : p));
    let node = root;
    path.forEach((segment, i) => {
      const last = i === path.length - 1;
      const k = segment === "" ? (Array.isArray(node) ? node.length : Object.keys(node).length) : segment;
      if (last) node[k] = value;
      else node = node[k] ??= /^\d+$/.test(path[i + 1]) || path[i + 1] === "" ? [] : {};
    });
  }
  return root;
}

const phpType = (v) =>
  v === null ? "null" : typeof v === "number" ? "float" : typeof v === "boolean" ? "bool" : typeof v === "object" ? "array" : typeof v;
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const blank = (v) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");
const phpTruthy = (v) => !(v === undefined || v === null || v === false || v === 0 || v === "" || v === "0");

// ------------------------------------------------------------------------------------------------ server

/**
 * Starts the emulator. Options beyond the brief (all optional):
 *   locales ["en_US","en_GB","de_DE","de_AT","fr_FR"], defaultLocale "en_US", customers (e-mails known to Sylius;
 *   default: any), defaultTaxCountry (channel default tax zone; default: first rate country of the first tax
 *   category), shippingAddressBasedTaxation false, freeShipping "promotion" | "none", paymentMethods [{code,name}].
 * Resolves { url, stop, orders, violations }.
 */
export async function startSylius({
  catalog,
  channel = "WEB",
  admin = {},
  locales = ["en_US", "en_GB", "de_DE", "de_AT", "fr_FR"],
  defaultLocale = "en_US",
  customers,
  defaultTaxCountry,
  shippingAddressBasedTaxation = false,
  freeShipping = "promotion",
  paymentMethods,
} = {}) {
  if (!catalog) throw new Error("startSylius needs a catalog");
  const credentials = {
    clientId: admin.clientId ?? "demo_client",
    clientSecret: admin.clientSecret ?? "secret_demo_client",
    username: admin.username ?? "api@example.com",
    password: admin.password ?? "sylius-api",
  };
  const shop = new Shop(seed(catalog, { channel, paymentMethods, currency: "EUR" }), {
    shippingAddressBasedTaxation,
    freeShipping,
    defaultTaxCountry: defaultTaxCountry === undefined ? catalog.taxCategories?.[0]?.rates?.[0]?.country ?? null : defaultTaxCountry,
  });
  if (customers) for (const email of customers) shop.customer(email);
  const strictCustomers = Boolean(customers);
  const orders = shop.completed;
  const violations = [];
  const tokens = new Map(); // access token -> expiry (ms)
  const refreshTokens = new Map();

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url, "http://127.0.0.1");
      const ctx = { req, res, raw, url, path: url.pathname, method: req.method.toUpperCase() };
      ctx.violate = (api, kind, message, status) => violations.push({ api, method: ctx.method, path: ctx.path, kind, status, message });
      // CORS for loopback origins on /api/ (Sylius-Standard ships NelmioCorsBundle for ^/api/ with a
      // localhost/127.0.0.1 origin regex; reproduced so a browser page can call the shop API directly).
      const origin = req.headers.origin;
      if (origin && /^https?:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(origin) && ctx.path.startsWith("/api/")) {
        res.setHeader("Access-Control-Allow-Origin", origin);
        res.setHeader("Vary", "Origin");
        if (ctx.method === "OPTIONS" && req.headers["access-control-request-method"]) {
          res.setHeader("Access-Control-Allow-Methods", "GET, OPTIONS, POST, PUT, PATCH, DELETE");
          res.setHeader("Access-Control-Allow-Headers", "Content-Type, Authorization, Accept, Accept-Language");
          res.setHeader("Access-Control-Max-Age", "3600");
          return send(res, 204);
        }
      }
      try {
        if (ctx.path === "/api/oauth/v2/token") return oauthToken(ctx);
        if (ctx.path.startsWith("/api/v1/") || ctx.path === "/api/v1") return v1(ctx);
        if (ctx.path.startsWith("/api/v2/")) return v2(ctx);
        ctx.violate("none", "route", `no such endpoint`, 404);
        return send(res, 404, { code: 404, message: `No route found for "${ctx.method} ${ctx.path}"` });
      } catch (error) {
        ctx.violate("emulator", "crash", String(error?.stack ?? error), 500);
        return send(res, 500, { code: 500, message: String(error?.message ?? error) });
      }
    });
  });

  // ============================================================================================= OAuth2 (v1)

  function oauthToken(ctx) {
    const { res } = ctx;
    const fail = (status, error, description) => {
      ctx.violate("oauth", "auth", `${error}: ${description}`, status);
      return send(res, status, { error, error_description: description }, { "Cache-Control": "no-store", Pragma: "no-cache" });
    };
    if (!["GET", "POST"].includes(ctx.method)) {
      ctx.violate("oauth", "method", "token endpoint is GET|POST", 405);
      return send(res, 405, { code: 405, message: `No route found for "${ctx.method} ${ctx.path}": Method Not Allowed (Allow: GET, POST)` });
    }
    let input = {};
    if (ctx.method === "POST") {
      const type = mediaType(ctx.req.headers["content-type"]);
      if (type === "application/json") {
        try {
          input = JSON.parse(ctx.raw || "{}");
        } catch {
          return fail(400, "invalid_request", "Invalid json message received");
        }
      } else if (type === "application/x-www-form-urlencoded" || (!type && ctx.raw)) {
        input = parseForm(ctx.raw);
      }
      if (!isObject(input)) input = {};
    } else {
      input = Object.fromEntries(ctx.url.searchParams);
    }
    if (!input.grant_type || !/^(authorization_code|token|password|client_credentials|refresh_token|https?:\/\/.+|urn:.+)$/.test(input.grant_type)) {
      return fail(400, "invalid_request", "Invalid grant_type parameter or parameter missing");
    }
    let clientId = input.client_id;
    let clientSecret = input.client_secret ?? null;
    const auth = ctx.req.headers.authorization;
    if (auth?.startsWith("Basic ")) [clientId, clientSecret] = Buffer.from(auth.slice(6), "base64").toString().split(":");
    if (blank(clientId)) return fail(400, "invalid_client", "Client id was not found in the headers or body");
    if (clientId !== credentials.clientId || clientSecret !== credentials.clientSecret) {
      return fail(400, "invalid_client", "The client credentials are invalid");
    }
    if (input.grant_type === "password") {
      if (blank(input.username) || blank(input.password)) return fail(400, "invalid_request", 'Missing parameters. "username" and "password" required');
      if (input.username !== credentials.username || input.password !== credentials.password) {
        return fail(400, "invalid_grant", "Invalid username and password combination");
      }
    } else if (input.grant_type === "refresh_token") {
      if (blank(input.refresh_token)) return fail(400, "invalid_request", 'No "refresh_token" parameter found');
      if (!refreshTokens.has(input.refresh_token)) return fail(400, "invalid_grant", "Invalid refresh token");
      refreshTokens.delete(input.refresh_token);
    } else {
      return fail(400, "unauthorized_client", "The grant type is unauthorized for this client_id");
    }
    const accessToken = randomBytes(64).toString("base64url");
    const refreshToken = randomBytes(64).toString("base64url");
    tokens.set(accessToken, Date.now() + 3600 * 1000);
    refreshTokens.set(refreshToken, true);
    return send(
      res,
      200,
      { access_token: accessToken, expires_in: 3600, token_type: "bearer", scope: null, refresh_token: refreshToken },
      { "Cache-Control": "no-store", Pragma: "no-cache" },
    );
  }

  // ============================================================================================= admin API v1

  const V1_ORDER_CLASS = "Sylius\\Component\\Core\\Model\\Order";

  function v1(ctx) {
    const { res } = ctx;
    // FOSOAuthServerBundle firewall on ^/api/v1
    const auth = ctx.req.headers.authorization ?? "";
    const bearer = auth.match(/^Bearer\s+(.+)$/i)?.[1] ?? ctx.url.searchParams.get("access_token");
    const denied = (status, error, description) => {
      ctx.violate("v1", "auth", description, status);
      return send(res, status, { error, error_description: description }, { "WWW-Authenticate": `Bearer realm="Service", error="${error}", error_description="${description}"` });
    };
    if (!bearer) return denied(401, "access_denied", "OAuth2 authentication required");
    const expiry = tokens.get(bearer);
    if (!expiry) return denied(401, "invalid_grant", "The access token provided is invalid.");
    if (expiry < Date.now()) return denied(401, "invalid_grant", "The access token provided has expired.");

    // FOSRest body listener: JSON bodies are decoded, forms are parsed; anything else leaves the form empty.
    const type = mediaType(ctx.req.headers["content-type"]);
    let body = {};
    if (ctx.raw.trim()) {
      if (type === "application/json") {
        try {
          body = JSON.parse(ctx.raw);
        } catch {
          ctx.violate("v1", "body", "malformed JSON", 400);
          return send(res, 400, { code: 400, message: "Invalid json message received" });
        }
      } else if (type === "application/x-www-form-urlencoded") {
        body = parseForm(ctx.raw);
      } else {
        ctx.violate("v1", "content-type", `body with Content-Type "${type || "(none)"}" is not decoded by FOSRest; the form sees no data`, null);
      }
    }
    if (!isObject(body)) body = {};
    ctx.body = body;

    const p = ctx.path.replace(/^\/api\/v1/, "");
    const m = (re) => p.match(re);
    let r;
    const notFound = (message) => {
      ctx.violate("v1", "not-found", message, 404);
      return send(res, 404, { code: 404, message });
    };
    const methodNotAllowed = (allow) => {
      ctx.violate("v1", "method", `allowed: ${allow}`, 405);
      return send(res, 405, { code: 405, message: `No route found for "${ctx.method} ${ctx.path}": Method Not Allowed (Allow: ${allow})` }, { Allow: allow });
    };
    const cartById = (id) => {
      const order = shop.orders.get(Number(id));
      return order && order.state === "cart" && /^\d+$/.test(id) ? order : null;
    };
    const orderById = (id) => (/^\d+$/.test(id) ? shop.orders.get(Number(id)) ?? null : null);
    const resourceNotFound = () => notFound('The "order" has not been found');

    if ((r = m(/^\/carts\/?$/))) {
      if (ctx.method === "POST") return v1CreateCart(ctx);
      if (ctx.method === "GET") return v1CartIndex(ctx);
      return methodNotAllowed("GET, POST");
    }
    if ((r = m(/^\/carts\/([^/]+)\/items\/?$/))) {
      if (ctx.method !== "POST") return methodNotAllowed("POST");
      const cart = cartById(r[1]);
      if (!cart) return notFound("Not Found");
      return v1AddItem(ctx, cart);
    }
    if ((r = m(/^\/carts\/([^/]+)\/items\/([^/]+)$/))) {
      const cart = cartById(r[1]);
      const item = cart?.items.find((i) => String(i.id) === r[2]);
      if (!["PUT", "PATCH", "DELETE"].includes(ctx.method)) return methodNotAllowed("PUT, PATCH, DELETE");
      if (!cart || !item) return notFound('The "order_item" has not been found');
      return v1ChangeItem(ctx, cart, item);
    }
    if ((r = m(/^\/carts\/([^/]+)$/))) {
      if (ctx.method === "GET" || ctx.method === "DELETE") {
        const cart = cartById(r[1]);
        if (!cart) return resourceNotFound();
        if (ctx.method === "GET") return send(res, 200, v1Order(cart, "cart"));
        shop.orders.delete(cart.id);
        return send(res, 204);
      }
      if (ctx.method === "PUT" || ctx.method === "PATCH") {
        const order = orderById(r[1]); // default repository find(): any order
        if (!order) return resourceNotFound();
        return v1Coupon(ctx, order);
      }
      return methodNotAllowed("GET, PUT, PATCH, DELETE");
    }
    if ((r = m(/^\/checkouts\/addressing\/([^/]+)$/))) {
      if (ctx.method !== "PUT") return methodNotAllowed("PUT");
      const order = orderById(r[1]);
      if (!order) return resourceNotFound();
      return v1Address(ctx, order);
    }
    if ((r = m(/^\/checkouts\/select-shipping\/([^/]+)$/))) {
      if (ctx.method === "GET") {
        const cart = cartById(r[1]);
        if (!cart) return notFound(`The cart with ${r[1]} id could not be found!`);
        if (!shop.canTransition(cart, "select_shipping")) {
          ctx.violate("v1", "state", `select_shipping not possible in checkout state ${cart.checkoutState}`, 400);
          return send(res, 400, { code: 400, message: "The shipment methods cannot be resolved in the current state of cart!" });
        }
        const shipments = cart.shipments.map((s) => ({
          methods: shop.supportedShippingMethods(cart).map((method) => ({
            id: method.id,
            code: method.v1,
            name: method.name,
            description: method.description,
            price: shop.rateFor(method, cart.shippingAddress?.countryCode).price,
          })),
        }));
        return send(res, 200, shipments.length ? { shipments } : []);
      }
      if (ctx.method !== "PUT") return methodNotAllowed("GET, PUT");
      const order = orderById(r[1]);
      if (!order) return resourceNotFound();
      return v1SelectShipping(ctx, order);
    }
    if ((r = m(/^\/checkouts\/select-payment\/([^/]+)$/))) {
      if (ctx.method === "GET") {
        const cart = cartById(r[1]);
        if (!cart) return notFound(`The cart with ${r[1]} id could not be found!`);
        if (!shop.canTransition(cart, "select_payment")) {
          ctx.violate("v1", "state", `select_payment not possible in checkout state ${cart.checkoutState}`, 400);
          return send(res, 400, { code: 400, message: "The payment methods cannot be resolved in the current state of cart!" });
        }
        const payments = cart.payments.map(() => ({
          methods: shop.payments.map((pm) => ({ id: pm.id, code: pm.code, name: pm.name, description: pm.description })),
        }));
        return send(res, 200, payments.length ? { payments } : []);
      }
      if (ctx.method !== "PUT" && ctx.method !== "PATCH") return methodNotAllowed("GET, PUT, PATCH");
      const order = orderById(r[1]);
      if (!order) return resourceNotFound();
      return v1SelectPayment(ctx, order);
    }
    if ((r = m(/^\/checkouts\/complete\/([^/]+)$/))) {
      if (ctx.method !== "PUT") return methodNotAllowed("PUT");
      const order = orderById(r[1]);
      if (!order) return resourceNotFound();
      return v1Complete(ctx, order);
    }
    if ((r = m(/^\/checkouts\/([^/]+)$/)) || (r = m(/^\/orders\/([^/]+)$/))) {
      if (ctx.method !== "GET") return methodNotAllowed("GET");
      const order = orderById(r[1]);
      if (!order) return resourceNotFound();
      return send(res, 200, v1Order(order, "detailed"));
    }
    ctx.violate("v1", "route", "no such admin API v1 endpoint", 404);
    return send(res, 404, { code: 404, message: `No route found for "${ctx.method} ${ctx.path}"` });
  }

  /** FOSRest form-error body. `tree` = { errors?: [], children: {...} }. */
  function flattenFormErrors(node, path = "", out = []) {
    for (const message of node?.errors ?? []) out.push(path ? `${path}: ${message}` : message);
    const children = node?.children ?? {};
    for (const [key, child] of Object.entries(children)) flattenFormErrors(child, path ? `${path}.${key}` : key, out);
    return out;
  }
  function v1FormError(ctx, tree, summary) {
    ctx.violate("v1", "validation", `${summary}: ${flattenFormErrors(tree).join("; ")}`, 400);
    return send(ctx.res, 400, { code: 400, message: "Validation Failed", errors: tree });
  }
  const EXTRA = "This form should not contain extra fields.";
  const field = (errors) => (errors.length ? { errors } : {});
  function smFailure(ctx, order, transition) {
    const message = `Transition "${transition}" cannot be applied on state "${order.checkoutState}" of object "${V1_ORDER_CLASS}" with graph "sylius_order_checkout"`;
    ctx.violate("v1", "state", message, 500);
    return send(ctx.res, 500, { code: 500, message });
  }
  function extraKeys(object, allowed) {
    return Object.keys(object).filter((k) => !allowed.includes(k));
  }

  function v1CartIndex(ctx) {
    const carts = [...shop.orders.values()].filter((o) => o.state === "cart");
    const page = Number(ctx.url.searchParams.get("page") ?? 1);
    const limit = Number(ctx.url.searchParams.get("limit") ?? ctx.url.searchParams.get("paginate") ?? 10);
    const slice = carts.slice((page - 1) * limit, page * limit);
    const href = (n) => ({ href: `/api/v1/carts/?page=${n}&limit=${limit}` });
    const pages = Math.max(1, Math.ceil(carts.length / limit));
    return send(ctx.res, 200, {
      page,
      limit,
      pages,
      total: carts.length,
      _links: { self: href(page), first: href(1), last: href(pages) },
      _embedded: { items: slice.map((o) => v1Order(o, "index")) },
    });
  }

  function v1CreateCart(ctx) {
    const body = ctx.body;
    const extra = extraKeys(body, ["customer", "localeCode", "channel"]);
    const children = { customer: [], localeCode: [], channel: [] };
    let customer = null;
    if (blank(body.customer)) children.customer.push("This value should not be blank.");
    else {
      // LazyCustomerLoader finds customers by e-mail; without a `customers` list every e-mail is taken as known.
      const email = String(body.customer);
      customer = /^[^@\s]+@[^@\s]+$/.test(email) ? shop.customer(email, { create: !strictCustomers }) : null;
      if (!customer) children.customer.push("This value is not valid.");
    }
    if (blank(body.localeCode)) children.localeCode.push("This value should not be blank.");
    else if (!locales.includes(String(body.localeCode))) children.localeCode.push("This value is not valid.");
    if (blank(body.channel)) children.channel.push("This value should not be blank.");
    else if (String(body.channel) !== channel) children.channel.push("This value is not valid.");
    if (extra.length || Object.values(children).some((e) => e.length)) {
      const tree = {};
      if (extra.length) tree.errors = [EXTRA];
      tree.children = Object.fromEntries(Object.entries(children).map(([k, e]) => [k, field(e)]));
      return v1FormError(ctx, tree, extra.length ? `extra fields: ${extra.join(", ")}` : "create cart validation");
    }
    const order = shop.newOrder({ api: "v1", localeCode: String(body.localeCode), customer });
    return send(ctx.res, 201, v1Order(order, "cart"));
  }

  function v1Quantity(value, errors) {
    if (blank(value)) {
      errors.push("Quantity of an order item cannot be lower than 1.");
      return null;
    }
    const n = typeof value === "number" ? value : /^\s*-?\d+\s*$/.test(String(value)) ? Number(value) : NaN;
    if (!Number.isInteger(n)) {
      errors.push("This value is not valid.");
      return null;
    }
    if (n < 1) errors.push("Quantity of an order item cannot be lower than 1.");
    return n;
  }

  function v1AddItem(ctx, cart) {
    const body = ctx.body;
    const extra = extraKeys(body, ["variant", "quantity"]);
    const children = { quantity: [], variant: [] };
    const quantity = v1Quantity(body.quantity, children.quantity);
    let variant = null;
    if (blank(body.variant)) children.variant.push("This value should not be blank.");
    else {
      variant = shop.variants.v1.get(String(body.variant)) ?? null;
      if (!variant) children.variant.push("This value is not valid.");
    }
    const formErrors = extra.length ? [EXTRA] : [];
    if (variant && quantity && variant.tracked && variant.onHand < quantity) formErrors.push(`${variant.productName} does not have sufficient stock.`);
    if (formErrors.length || children.quantity.length || children.variant.length) {
      const tree = {};
      if (formErrors.length) tree.errors = formErrors;
      tree.children = { quantity: field(children.quantity), variant: field(children.variant) };
      return v1FormError(ctx, tree, `add item: ${[...formErrors, ...children.quantity, ...children.variant].join(" ")}`);
    }
    const item = shop.newItem(cart, variant, quantity); // the admin API never merges lines (factory createForCart)
    shop.process(cart); // CartChangeListener::recalculateOrderOnAdd
    return send(ctx.res, 201, v1Item(cart, item));
  }

  function v1ChangeItem(ctx, cart, item) {
    if (ctx.method === "DELETE") {
      cart.items = cart.items.filter((i) => i !== item);
      shop.process(cart);
      return send(ctx.res, 204);
    }
    const body = ctx.body;
    const extra = extraKeys(body, ["quantity"]);
    const errors = [];
    const quantity = ctx.method === "PATCH" && body.quantity === undefined ? item.quantity : v1Quantity(body.quantity, errors);
    if (extra.length || errors.length) {
      const tree = {};
      if (extra.length) tree.errors = [EXTRA];
      tree.children = { quantity: field(errors) };
      return v1FormError(ctx, tree, `update item: ${extra.length ? `extra fields ${extra.join(", ")}` : errors.join(" ")}`);
    }
    shop.setQuantity(item, quantity);
    shop.process(cart);
    return send(ctx.res, 204);
  }

  function v1Coupon(ctx, order) {
    const body = ctx.body;
    const extra = extraKeys(body, ["promotionCoupon"]);
    if (extra.length) return v1FormError(ctx, { errors: [EXTRA], children: { promotionCoupon: {} } }, `extra fields: ${extra.join(", ")}`);
    if (ctx.method === "PATCH" && body.promotionCoupon === undefined) return send(ctx.res, 204);
    const code = blank(body.promotionCoupon) ? null : String(body.promotionCoupon);
    // PromotionCouponToCodeType: an unknown code silently becomes null (no validation in the "sylius" group).
    const known = code && shop.promotions.some((p) => p.couponCode === code);
    if (code && !known) ctx.violate("v1", "coupon", `unknown coupon ${code} is silently dropped by Sylius`, 204);
    order.promotionCoupon = known ? code : null;
    // No recalculation here: Sylius processes the order on the next item change or checkout step.
    return send(ctx.res, 204);
  }

  const V1_ADDRESS_FIELDS = ["firstName", "lastName", "phoneNumber", "company", "countryCode", "street", "city", "postcode", "provinceCode", "provinceName"];
  const ADDRESS_RULES = [
    ["firstName", "Please enter first name.", 2, "First name must be at least 2 characters long."],
    ["lastName", "Please enter last name.", 2, "Last name must be at least 2 characters long."],
    ["countryCode", "Please select country.", 0, null],
    ["street", "Please enter street.", 2, "Street must be at least 2 characters long."],
    ["city", "Please enter city.", 2, "City must be at least 2 characters long."],
    ["postcode", "Please enter postcode.", 1, "Postcode must be at least 1 character long."],
  ];
  function addressViolations(address) {
    const out = [];
    for (const [name, notBlank, min, minMessage] of ADDRESS_RULES) {
      const value = address?.[name];
      if (blank(value)) out.push([name, notBlank]);
      else if (min && String(value).length < min) out.push([name, minMessage]);
    }
    return out;
  }
  function cleanAddress(input) {
    const a = { id: shop.next("address") };
    for (const k of V1_ADDRESS_FIELDS) a[k] = blank(input?.[k]) ? null : String(input[k]);
    return a;
  }

  function v1Address(ctx, order) {
    const data = { ...ctx.body };
    const extra = extraKeys(data, ["shippingAddress", "billingAddress", "differentBillingAddress", "differentShippingAddress"]);
    // AddressType PRE_SUBMIT
    const differentBilling = phpTruthy(data.differentBillingAddress);
    const differentShipping = phpTruthy(data.differentShippingAddress);
    if (data.billingAddress !== undefined && !differentBilling && !differentShipping) data.shippingAddress = data.billingAddress;
    if (data.shippingAddress !== undefined && !differentBilling && !differentShipping) data.billingAddress = data.shippingAddress;
    const child = (input) => {
      const errors = {};
      const object = isObject(input) ? input : {};
      const own = [];
      const extraAddress = extraKeys(object, V1_ADDRESS_FIELDS);
      if (extraAddress.length) own.push(EXTRA);
      for (const [name, message] of addressViolations(object)) (errors[name] ??= []).push(message);
      if (!blank(object.countryCode) && !shop.countries.has(String(object.countryCode))) (errors.countryCode ??= []).push("This value is not valid.");
      const children = {};
      for (const name of ["firstName", "lastName", "phoneNumber", "company", "countryCode", "street", "city", "postcode"]) children[name] = field(errors[name] ?? []);
      const failed = own.length || Object.keys(errors).length;
      return { failed, tree: own.length ? { errors: own, children } : { children }, extraAddress };
    };
    const shipping = child(data.shippingAddress);
    const billing = child(data.billingAddress);
    if (extra.length || shipping.failed || billing.failed) {
      const tree = {};
      if (extra.length) tree.errors = [EXTRA];
      tree.children = { shippingAddress: shipping.tree, billingAddress: billing.tree, differentBillingAddress: {}, differentShippingAddress: {} };
      return v1FormError(ctx, tree, `addressing: ${extra.length ? `extra fields ${extra.join(", ")}; ` : ""}${[...shipping.extraAddress, ...billing.extraAddress].join(", ")} invalid address`);
    }
    if (!shop.canTransition(order, "address")) return smFailure(ctx, order, "address");
    order.shippingAddress = cleanAddress(data.shippingAddress);
    order.billingAddress = cleanAddress(data.billingAddress);
    shop.apply(order, "address");
    return send(ctx.res, 204);
  }

  function choiceForm(ctx, { order, collection, list, allowed, blankMessage, patch }) {
    // SelectShippingType / SelectPaymentType: a collection over the order's shipments/payments, each with a
    // `method` choice among the methods available for it (expanded: one child per choice).
    const body = ctx.body;
    const extra = extraKeys(body, [collection]);
    const submitted = body[collection];
    const entries = Array.isArray(submitted) ? submitted : isObject(submitted) ? Object.values(submitted) : [];
    const treeChildren = [];
    const chosen = [];
    let failed = Boolean(extra.length);
    const collectionErrors = [];
    if (submitted !== undefined && !Array.isArray(submitted) && !isObject(submitted)) {
      collectionErrors.push("This value is not valid.");
      failed = true;
    }
    if (entries.length > list.length) {
      collectionErrors.push(EXTRA);
      failed = true;
    }
    list.forEach((target, index) => {
      const entry = isObject(entries[index]) ? entries[index] : {};
      const own = extraKeys(entry, ["method"]).length ? [EXTRA] : [];
      const options = allowed(target);
      const errors = [];
      let method = null;
      if (entry.method === undefined && patch) method = target.method;
      else if (blank(entry.method)) errors.push(blankMessage);
      else {
        method = options.find((o) => o.code === String(entry.method)) ?? null;
        if (!method) errors.push("This value is not valid.");
      }
      if (own.length || errors.length) failed = true;
      const methodNode = { ...(errors.length ? { errors } : {}), children: options.map(() => ({})) };
      treeChildren.push({ ...(own.length ? { errors: own } : {}), children: { method: methodNode } });
      chosen.push(method);
    });
    if (!failed) return { chosen };
    const tree = {};
    if (extra.length) tree.errors = [EXTRA];
    tree.children = { [collection]: { ...(collectionErrors.length ? { errors: collectionErrors } : {}), children: treeChildren } };
    return { tree, order };
  }

  function v1SelectShipping(ctx, order) {
    const list = order.shipments;
    const form = choiceForm(ctx, {
      order,
      collection: "shipments",
      list,
      allowed: () => shop.supportedShippingMethods(order).map((m) => ({ code: m.v1, method: m })),
      blankMessage: "Please select shipping method.",
      patch: false,
    });
    if (form.tree) return v1FormError(ctx, form.tree, "select shipping");
    if (!shop.canTransition(order, "select_shipping")) return smFailure(ctx, order, "select_shipping");
    list.forEach((s, i) => (s.method = form.chosen[i].method));
    shop.apply(order, "select_shipping");
    return send(ctx.res, 204);
  }

  function v1SelectPayment(ctx, order) {
    const list = order.payments;
    const form = choiceForm(ctx, {
      order,
      collection: "payments",
      list: list.map((p) => ({ ...p, method: p.method && { code: p.method.code, method: p.method } })),
      allowed: () => shop.payments.map((pm) => ({ code: pm.code, method: pm })),
      blankMessage: "Please select payment method.",
      patch: ctx.method === "PATCH",
    });
    if (form.tree) return v1FormError(ctx, form.tree, "select payment");
    if (!shop.canTransition(order, "select_payment")) return smFailure(ctx, order, "select_payment");
    list.forEach((payment, i) => (payment.method = form.chosen[i]?.method ?? payment.method));
    shop.apply(order, "select_payment");
    return send(ctx.res, 204);
  }

  function v1Complete(ctx, order) {
    const body = ctx.body;
    const extra = extraKeys(body, ["notes"]);
    const errors = extra.length ? [EXTRA] : [];
    for (const item of order.items) {
      if (!item.variant.enabled) errors.push(`This product ${item.variant.productName} has been disabled.`);
      else if (item.variant.tracked && item.variant.onHand < item.quantity) errors.push(`${item.variant.productName} does not have sufficient stock.`);
    }
    if (errors.length) return v1FormError(ctx, { errors, children: { notes: {} } }, `complete: ${errors.join(" ")}`);
    if (!shop.canTransition(order, "complete")) return smFailure(ctx, order, "complete");
    if (!blank(body.notes)) order.notes = String(body.notes);
    shop.apply(order, "complete");
    return send(ctx.res, 204);
  }

  // -- v1 serialisation (JMS, camelCase, nulls skipped) ---------------------------------------------------

  function v1Adjustment(a) {
    return { id: a.id, type: a.type, label: a.label, amount: a.amount };
  }
  function v1Variant(variant) {
    const productHref = `/api/v1/products/${encodeURIComponent(variant.productCode)}`;
    return {
      id: variant.id,
      code: variant.v1,
      optionValues: [],
      position: 0,
      translations: { en_US: { locale: "en_US", id: variant.id, name: variant.name } },
      version: 1,
      onHold: 0,
      onHand: variant.onHand,
      tracked: variant.tracked,
      channelPricings: { [channel]: { channelCode: channel, price: variant.price } },
      _links: { self: { href: `${productHref}/variants/${encodeURIComponent(variant.v1)}` }, product: { href: productHref } },
    };
  }
  function v1Item(order, item) {
    const productHref = `/api/v1/products/${encodeURIComponent(item.variant.productCode)}`;
    return {
      id: item.id,
      quantity: item.quantity,
      unitPrice: item.unitPrice,
      total: shop.itemTotal(item),
      units: item.units.map((u) => ({ id: u.id, adjustments: u.adjustments.map(v1Adjustment), adjustmentsTotal: Shop.nonNeutral(u.adjustments) })),
      unitsTotal: shop.unitsTotal(item),
      adjustments: item.adjustments.map(v1Adjustment),
      adjustmentsTotal: Shop.nonNeutral(item.adjustments),
      variant: v1Variant(item.variant),
      _links: {
        order: { href: `/api/v1/orders/${order.id}` },
        product: { href: productHref },
        variant: { href: `${productHref}/variants/${encodeURIComponent(item.variant.v1)}` },
      },
    };
  }
  function v1AddressJson(address) {
    if (!address) return undefined;
    const out = { id: address.id };
    for (const k of ["firstName", "lastName", "phoneNumber", "company", "countryCode", "provinceCode", "provinceName", "street", "city", "postcode"]) {
      if (address[k] !== null && address[k] !== undefined) out[k] = address[k];
    }
    return out;
  }
  function v1Order(order, view) {
    const detailed = view === "detailed";
    const totals = shop.totals(order);
    const out = { id: order.id };
    if (order.checkoutCompletedAt) out.checkoutCompletedAt = order.checkoutCompletedAt;
    if (order.number) out.number = order.number;
    out.items = order.items.map((i) => v1Item(order, i));
    out.itemsTotal = totals.itemsTotal;
    out.adjustments = shop.orderAdjustments(order).map(v1Adjustment);
    out.adjustmentsTotal = totals.adjustmentsTotal;
    out.total = totals.total;
    if (detailed) out.state = order.state;
    if (order.customer) {
      out.customer = {
        id: order.customer.id,
        email: order.customer.email,
        emailCanonical: order.customer.email.toLowerCase(),
        ...(order.customer.firstName ? { firstName: order.customer.firstName } : {}),
        ...(order.customer.lastName ? { lastName: order.customer.lastName } : {}),
        gender: "u",
        _links: { self: { href: `/api/v1/customers/${order.customer.id}` } },
      };
    }
    out.channel = { id: 1, code: channel, name: channel, enabled: true, taxCalculationStrategy: "order_items_based", _links: { self: { href: `/api/v1/channels/${channel}` } } };
    if (detailed) {
      if (order.shippingAddress) out.shippingAddress = v1AddressJson(order.shippingAddress);
      if (order.billingAddress) out.billingAddress = v1AddressJson(order.billingAddress);
      out.payments = order.payments.map((p) => ({
        id: p.id,
        ...(p.method ? { method: { id: p.method.id, code: p.method.code, _links: { self: { href: `/api/v1/payment-methods/${p.method.code}` } } } } : {}),
        amount: p.amount,
        state: p.state,
        _links: {
          self: { href: `/api/v1/payments/${p.id}` },
          ...(p.method ? { "payment-method": { href: `/api/v1/payment-methods/${p.method.code}` } } : {}),
          order: { href: `/api/v1/orders/${order.id}` },
        },
      }));
      out.shipments = order.shipments.map((s) => ({
        id: s.id,
        state: s.state,
        method: {
          id: s.method.id,
          code: s.method.v1,
          calculator: "flat_rate",
          configuration: { [channel]: { amount: shop.rateFor(s.method, order.shippingAddress?.countryCode).price } },
          enabled: true,
          _links: { self: { href: `/api/v1/shipping-methods/${s.method.v1}` } },
        },
        _links: {
          self: { href: `/api/v1/shipments/${s.id}` },
          "shipping-method": { href: `/api/v1/shipping-methods/${s.method.v1}` },
          order: { href: `/api/v1/orders/${order.id}` },
        },
      }));
    }
    out.currencyCode = order.currencyCode;
    out.localeCode = order.localeCode;
    if (order.promotionCoupon) {
      const promotion = shop.promotions.find((p) => p.couponCode === order.promotionCoupon);
      out.promotionCoupon = { id: promotion.id, code: promotion.couponCode, used: 0, _links: { self: { href: `/api/v1/promotions/${promotion.code}/coupons/${promotion.couponCode}` }, promotion: { href: `/api/v1/promotions/${promotion.code}` } } };
    }
    out.checkoutState = order.checkoutState;
    return out;
  }

  // ============================================================================================= shop API v2

  function v2(ctx) {
    const { res } = ctx;
    const accept = String(ctx.req.headers.accept ?? "");
    ctx.plainJson = /application\/json/.test(accept) && !/application\/ld\+json/.test(accept) && !/\*\/\*/.test(accept);
    const ld = (status, body, headers = {}) =>
      send(res, status, ctx.plainJson ? stripLd(body) : body, { "Content-Type": ctx.plainJson ? "application/json; charset=utf-8" : "application/ld+json; charset=utf-8", ...headers });
    ctx.ld = ld;
    ctx.hydraError = (status, description, kind = "error") => {
      ctx.violate("v2", kind, description, status);
      return ld(status, {
        "@context": "/api/v2/contexts/Error",
        "@id": `/api/v2/errors/${status}`,
        "@type": "hydra:Error",
        title: "An error occurred",
        detail: description,
        status,
        type: `/errors/${status}`,
        "hydra:title": "An error occurred",
        "hydra:description": description,
      });
    };
    ctx.violationList = (list, kind = "validation") => {
      const description = list.map((v) => (v.propertyPath ? `${v.propertyPath}: ${v.message}` : v.message)).join("\n");
      ctx.violate("v2", kind, description, 422);
      return ld(422, {
        "@context": "/api/v2/contexts/ConstraintViolationList",
        "@id": `/api/v2/validation_errors/${randomBytes(8).toString("hex")}`,
        "@type": "ConstraintViolationList",
        status: 422,
        violations: list.map((v) => ({ propertyPath: v.propertyPath ?? "", message: v.message, code: v.code ?? null })),
        detail: description,
        "hydra:title": "An error occurred",
        "hydra:description": description,
        title: "An error occurred",
      });
    };
    ctx.missingFields = (fields) => {
      const message = `Request does not have the following required fields specified: ${fields.join(", ")}.`;
      ctx.violate("v2", "validation", message, 400);
      return send(res, 400, { code: 400, message });
    };
    if (ctx.req.headers.authorization) {
      // Lexik JWT authenticator on ^/api/v2: a guest sends no Authorization header.
      ctx.violate("v2", "auth", "Authorization header on the guest shop API (admin tokens are not JWTs)", 401);
      return send(res, 401, { code: 401, message: "Invalid JWT Token" });
    }
    const p = ctx.path.replace(/^\/api\/v2/, "");
    let r;
    const route = (re, allow, handlers) => {
      const match = p.match(re);
      if (!match) return false;
      const handler = handlers[ctx.method];
      if (!handler) {
        ctx.violate("v2", "method", `allowed: ${allow}`, 405);
        ld(405, hydraBody(405, `No route found for "${ctx.method} http://127.0.0.1${ctx.path}": Method Not Allowed (Allow: ${allow})`), { Allow: allow });
        return true;
      }
      handler(match);
      return true;
    };
    const hydraBody = (status, description) => ({
      "@context": "/api/v2/contexts/Error",
      "@id": `/api/v2/errors/${status}`,
      "@type": "hydra:Error",
      title: "An error occurred",
      detail: description,
      status,
      type: `/errors/${status}`,
      "hydra:title": "An error occurred",
      "hydra:description": description,
    });
    const cart = (token, { anyState = false } = {}) => {
      const order = shop.byToken.get(decodeURIComponent(token));
      if (!order || (!anyState && order.state !== "cart")) return null;
      return order;
    };
    const notFound = () => ctx.hydraError(404, "Not Found", "not-found");
    const withCart = (token, fn, opts) => {
      const order = cart(token, opts);
      return order ? fn(order) : notFound();
    };

    if (
      route(/^\/shop\/orders$/, "POST", {
        POST: () => v2PickupCart(ctx),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/items$/, "POST", {
        POST: (m) => withCart(m[1], (o) => v2AddItem(ctx, o)),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/items\/([^/]+)$/, "PATCH, DELETE", {
        PATCH: (m) => withCart(m[1], (o) => v2ChangeItem(ctx, o, m[2])),
        DELETE: (m) => withCart(m[1], (o) => v2ChangeItem(ctx, o, m[2])),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/shipments\/([^/]+)\/methods$/, "GET", {
        GET: (m) => withCart(m[1], (o) => v2ShippingMethods(ctx, o, m[2])),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/shipments\/([^/]+)$/, "PATCH", {
        PATCH: (m) => withCart(m[1], (o) => v2ChooseShipping(ctx, o, m[2])),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/payments\/([^/]+)\/methods$/, "GET", {
        GET: (m) => withCart(m[1], (o) => v2PaymentMethods(ctx, o, m[2]), { anyState: true }),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/payments\/([^/]+)$/, "PATCH", {
        PATCH: (m) => withCart(m[1], (o) => v2ChoosePayment(ctx, o, m[2]), { anyState: true }),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)\/complete$/, "PATCH", {
        PATCH: (m) => withCart(m[1], (o) => v2Complete(ctx, o)),
      })
    )
      return;
    if (
      route(/^\/shop\/orders\/([^/]+)$/, "GET, PUT, DELETE", {
        GET: (m) => withCart(m[1], (o) => ld(200, v2Order(o)), { anyState: true }),
        PUT: (m) => withCart(m[1], (o) => v2UpdateCart(ctx, o)),
        DELETE: (m) =>
          withCart(m[1], (o) => {
            shop.orders.delete(o.id);
            shop.byToken.delete(o.tokenValue);
            send(res, 204);
          }),
      })
    )
      return;
    if ((r = p.match(/^\/shop\/product-variants\/([^/]+)$/)) && ctx.method === "GET") {
      const variant = shop.variants.v2.get(decodeURIComponent(r[1]));
      if (!variant) return notFound();
      return ld(200, {
        "@context": "/api/v2/contexts/ProductVariant",
        "@id": `/api/v2/shop/product-variants/${encodeURIComponent(variant.v2)}`,
        "@type": "ProductVariant",
        id: variant.id,
        code: variant.v2,
        product: `/api/v2/shop/products/${encodeURIComponent(variant.productCode)}`,
        name: variant.name,
        price: variant.price,
        originalPrice: variant.price,
        inStock: !variant.tracked || variant.onHand > 0,
      });
    }
    if ((r = p.match(/^\/shop\/shipping-methods\/([^/]+)$/)) && ctx.method === "GET") {
      const method = shop.shippingMethods.find((x) => x.v2 === decodeURIComponent(r[1]));
      return method ? ld(200, { "@context": "/api/v2/contexts/ShippingMethod", ...v2ShippingMethod(method) }) : notFound();
    }
    if ((r = p.match(/^\/shop\/payment-methods\/([^/]+)$/)) && ctx.method === "GET") {
      const method = shop.payments.find((x) => x.code === decodeURIComponent(r[1]));
      return method ? ld(200, { "@context": "/api/v2/contexts/PaymentMethod", ...v2PaymentMethod(method) }) : notFound();
    }
    if (/^\/shop\/orders\/[^/]+\/(address|apply-coupon)$/.test(p)) {
      ctx.violate("v2", "route", "PATCH .../address and .../apply-coupon were Sylius 1.10; since 1.11 it is PUT /api/v2/shop/orders/{tokenValue}", 404);
      return ld(404, hydraBody(404, `No route found for "${ctx.method} http://127.0.0.1${ctx.path}"`));
    }
    ctx.violate("v2", "route", "no such shop API v2 endpoint", 404);
    return ld(404, hydraBody(404, `No route found for "${ctx.method} http://127.0.0.1${ctx.path}"`));
  }

  function stripLd(value) {
    if (Array.isArray(value)) return value.map(stripLd);
    if (!isObject(value)) return value;
    return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith("@")).map(([k, v]) => [k, stripLd(v)]));
  }

  /**
   * API Platform input handling: content type (415), JSON syntax (400), object body. Returns the body or null
   * when a response was sent. `patch` = operation is a PATCH (merge-patch+json only).
   */
  function v2Input(ctx, { patch, allowed = [], nested = {} }) {
    const type = mediaType(ctx.req.headers["content-type"]);
    if (!type) {
      ctx.hydraError(415, 'The "Content-Type" header must exist.', "content-type");
      return null;
    }
    const supported = patch ? ["application/merge-patch+json"] : ["application/ld+json", "application/json"];
    if (!supported.includes(type)) {
      ctx.hydraError(415, `The content-type "${ctx.req.headers["content-type"]}" is not supported. Supported MIME types are "${supported.join('", "')}".`, "content-type");
      return null;
    }
    let body = {};
    if (ctx.raw.trim()) {
      try {
        body = JSON.parse(ctx.raw);
      } catch {
        ctx.hydraError(400, "Syntax error", "body");
        return null;
      }
    }
    if (!isObject(body)) {
      ctx.hydraError(400, "Syntax error", "body");
      return null;
    }
    // API Platform ignores unknown attributes (allow_extra_attributes); they are still not part of the API.
    const unknown = Object.keys(body).filter((k) => !k.startsWith("@") && !allowed.includes(k));
    for (const [key, fields] of Object.entries(nested)) {
      if (isObject(body[key])) for (const k of Object.keys(body[key])) if (!k.startsWith("@") && !fields.includes(k)) unknown.push(`${key}.${k}`);
    }
    if (unknown.length) ctx.violate("v2", "unknown-field", `ignored by API Platform: ${unknown.join(", ")}`, null);
    return body;
  }

  /** IRI (or bare identifier, which the IriToIdentifierConverter also accepts) -> identifier. */
  function fromIri(ctx, value, prefix) {
    const text = String(value);
    if (text.startsWith("/")) {
      if (!text.startsWith(`${prefix}/`)) ctx.violate("v2", "iri", `expected an IRI under ${prefix}/, got ${text}`, null);
      return decodeURIComponent(text.slice(text.lastIndexOf("/") + 1));
    }
    return text;
  }

  function v2Locale(ctx) {
    const header = String(ctx.req.headers["accept-language"] ?? "");
    for (const part of header.split(",")) {
      const tag = part.split(";")[0].trim().replace("-", "_");
      if (!tag) continue;
      const hit = locales.find((l) => l.toLowerCase() === tag.toLowerCase()) ?? locales.find((l) => l.split("_")[0] === tag.split("_")[0] && !tag.includes("_"));
      if (hit) return hit;
    }
    return defaultLocale;
  }

  function v2PickupCart(ctx) {
    const body = v2Input(ctx, { patch: false, allowed: ["localeCode", "email"] });
    if (!body) return;
    // Sylius 2.x takes the locale from the request (Accept-Language) or the channel default; a body `localeCode`
    // (Sylius 1.8-1.13) is ignored by 2.x. It is honoured here only when no Accept-Language header is sent.
    let localeCode = v2Locale(ctx);
    if (!ctx.req.headers["accept-language"] && typeof body.localeCode === "string" && locales.includes(body.localeCode)) localeCode = body.localeCode;
    const token = randomBytes(48).toString("base64url").slice(0, 64);
    const order = shop.newOrder({ api: "v2", localeCode, tokenValue: token });
    return ctx.ld(201, v2Order(order), { Location: `/api/v2/shop/orders/${token}` });
  }

  function v2AddItem(ctx, order) {
    const body = v2Input(ctx, { patch: false, allowed: ["productVariant", "quantity"] });
    if (!body) return;
    const missing = ["productVariant", "quantity"].filter((k) => body[k] === undefined);
    if (missing.length) return ctx.missingFields(missing);
    if (typeof body.quantity !== "number" || !Number.isInteger(body.quantity)) {
      return ctx.hydraError(400, `The type of the "quantity" attribute must be "int", "${phpType(body.quantity)}" given.`, "body");
    }
    const code = fromIri(ctx, body.productVariant, "/api/v2/shop/product-variants");
    const list = [];
    const variant = shop.variants.v2.get(code);
    if (!variant) list.push({ propertyPath: "", message: `The product variant ${code} does not exist.` });
    else if (!variant.enabled) list.push({ propertyPath: "", message: `The product ${variant.productName} does not exist.` });
    else {
      const existing = order.items.find((i) => i.variant === variant);
      if (variant.tracked && variant.onHand < body.quantity + (existing?.quantity ?? 0)) {
        list.push({ propertyPath: "", message: `The product variant with ${variant.v2} code does not have sufficient stock.` });
      }
    }
    if (body.quantity < 1 || body.quantity > 9999) list.push({ propertyPath: "quantity", message: "Quantity must be between 1 and 9999." });
    if (list.length) return ctx.violationList(list);
    const existing = order.items.find((i) => i.variant === variant); // OrderModifier::addToOrder merges equal items
    if (existing) shop.setQuantity(existing, existing.quantity + body.quantity);
    else shop.newItem(order, variant, body.quantity);
    shop.process(order);
    return ctx.ld(201, v2Order(order));
  }

  function v2ChangeItem(ctx, order, itemId) {
    const item = order.items.find((i) => String(i.id) === itemId);
    if (!item) return ctx.hydraError(404, "Not Found", "not-found");
    if (ctx.method === "DELETE") {
      order.items = order.items.filter((i) => i !== item);
      shop.process(order);
      return send(ctx.res, 204);
    }
    const body = v2Input(ctx, { patch: true, allowed: ["quantity"] });
    if (!body) return;
    if (body.quantity === undefined) return ctx.missingFields(["quantity"]);
    if (typeof body.quantity !== "number" || !Number.isInteger(body.quantity)) {
      return ctx.hydraError(400, `The type of the "quantity" attribute must be "int", "${phpType(body.quantity)}" given.`, "body");
    }
    if (body.quantity < 1 || body.quantity > 9999) return ctx.violationList([{ propertyPath: "quantity", message: "Quantity must be between 1 and 9999." }]);
    shop.setQuantity(item, body.quantity);
    shop.process(order);
    return ctx.ld(200, v2Order(order));
  }

  const V2_ADDRESS_FIELDS = ["firstName", "lastName", "phoneNumber", "company", "countryCode", "provinceCode", "provinceName", "street", "city", "postcode"];

  function v2UpdateCart(ctx, order) {
    const body = v2Input(ctx, {
      patch: false,
      allowed: ["email", "billingAddress", "shippingAddress", "couponCode"],
      nested: { billingAddress: V2_ADDRESS_FIELDS, shippingAddress: V2_ADDRESS_FIELDS },
    });
    if (!body) return;
    for (const key of ["billingAddress", "shippingAddress"]) {
      if (body[key] !== undefined && body[key] !== null && !isObject(body[key])) {
        return ctx.hydraError(400, `The type of the "${key}" attribute must be "array" (nested document) or "string" (IRI), "${typeof body[key]}" given.`, "body");
      }
    }
    const billing = isObject(body.billingAddress) ? body.billingAddress : null;
    const shipping = isObject(body.shippingAddress) ? body.shippingAddress : null;
    const couponCode = body.couponCode === undefined || body.couponCode === null ? null : String(body.couponCode);
    const list = [];
    // OrderAddressRequirement (channel does not require a shipping address in checkout)
    if ((billing || shipping) && !billing) list.push({ propertyPath: "", message: "Please provide a billing address." });
    // CorrectOrderAddress
    for (const address of [billing, shipping]) {
      if (!address) continue;
      if (blank(address.countryCode)) list.push({ propertyPath: "", message: "The address without country cannot exist" });
      else if (!shop.countries.has(String(address.countryCode))) list.push({ propertyPath: "", message: `The country ${address.countryCode} does not exist.` });
    }
    // PromotionCouponEligibility
    if (couponCode !== null && !shop.promotions.some((p) => p.couponCode === couponCode)) list.push({ propertyPath: "couponCode", message: "Coupon code is invalid." });
    // OrderNotEmpty
    if (!order.items.length) list.push({ propertyPath: "", message: "An empty order cannot be processed." });
    // Valid on the addresses
    for (const [key, address] of [["billingAddress", billing], ["shippingAddress", shipping]]) {
      if (!address) continue;
      for (const [name, message] of addressViolations(address)) list.push({ propertyPath: `${key}.${name}`, message });
    }
    if (body.email !== undefined && body.email !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(body.email))) {
      list.push({ propertyPath: "email", message: "This email is invalid." });
    }
    if (list.length) return ctx.violationList(list);
    // UpdateCartHandler
    if (!blank(body.email)) order.customer = shop.customer(String(body.email));
    if (billing || shipping) {
      if (!shop.canTransition(order, "address")) return ctx.hydraError(500, `Order with ${order.tokenValue} token cannot be addressed.`, "state");
      const bill = cleanAddress(billing);
      const ship = shipping ? cleanAddress(shipping) : { ...cleanAddress(billing), id: shop.next("address") };
      if (order.billingAddress) bill.id = order.billingAddress.id; // AddressMapper::mapExisting keeps the entity
      if (order.shippingAddress) ship.id = order.shippingAddress.id;
      order.billingAddress = bill;
      order.shippingAddress = ship;
      shop.apply(order, "address");
    }
    // OrderPromotionCodeAssigner: always assigns (null removes a coupon set earlier) and processes.
    if (couponCode === null && order.promotionCoupon) {
      ctx.violate("v2", "coupon-dropped", `PUT without couponCode removed coupon ${order.promotionCoupon} (OrderPromotionCodeAssigner assigns null)`, null);
    }
    order.promotionCoupon = couponCode;
    shop.process(order);
    return ctx.ld(200, v2Order(order));
  }

  function v2ShippingMethods(ctx, order, shipmentId) {
    const shipment = order.shipments.find((s) => String(s.id) === shipmentId);
    if (!shipment) return ctx.hydraError(404, "Not Found", "not-found");
    const methods = shop.supportedShippingMethods(order);
    return ctx.ld(200, {
      "@context": "/api/v2/contexts/ShippingMethod",
      "@id": `/api/v2/shop/orders/${order.tokenValue}/shipments/${shipment.id}/methods`,
      "@type": "hydra:Collection",
      "hydra:member": methods.map((m) => ({ ...v2ShippingMethod(m), price: shop.rateFor(m, order.shippingAddress?.countryCode).price })),
      "hydra:totalItems": methods.length,
    });
  }

  function v2PaymentMethods(ctx, order, paymentId) {
    const payment = order.payments.find((x) => String(x.id) === paymentId);
    if (!payment) return ctx.hydraError(404, "Not Found", "not-found");
    return ctx.ld(200, {
      "@context": "/api/v2/contexts/PaymentMethod",
      "@id": `/api/v2/shop/orders/${order.tokenValue}/payments/${payment.id}/methods`,
      "@type": "hydra:Collection",
      "hydra:member": shop.payments.map(v2PaymentMethod),
      "hydra:totalItems": shop.payments.length,
    });
  }

  function v2ChooseShipping(ctx, order, shipmentId) {
    const shipment = order.shipments.find((s) => String(s.id) === shipmentId);
    if (!shipment) return ctx.hydraError(404, "Not Found", "not-found");
    const body = v2Input(ctx, { patch: true, allowed: ["shippingMethod"] });
    if (!body) return;
    if (body.shippingMethod === undefined) return ctx.missingFields(["shippingMethod"]);
    const code = fromIri(ctx, body.shippingMethod, "/api/v2/shop/shipping-methods");
    const method = shop.shippingMethods.find((m) => m.v2 === code);
    // ChosenShippingMethodEligibility
    if (!method) return ctx.violationList([{ propertyPath: "", message: `The shipping method with ${code} code does not exist.` }]);
    const list = [];
    if (!order.shippingAddress) list.push({ propertyPath: "", message: "Order should be addressed first." });
    if (!shop.supportedShippingMethods(order).includes(method)) {
      list.push({ propertyPath: "", message: `The shipping method ${method.name} is not available for this order. Please reselect your shipping method.` });
    }
    if (list.length) return ctx.violationList(list, order.shippingAddress ? "validation" : "state");
    // ChooseShippingMethodHandler
    if (!shop.canTransition(order, "select_shipping")) return ctx.hydraError(500, "Order cannot have shipment method assigned.", "state");
    shipment.method = method;
    shop.apply(order, "select_shipping");
    return ctx.ld(200, v2Order(order));
  }

  function v2ChoosePayment(ctx, order, paymentId) {
    const payment = order.payments.find((x) => String(x.id) === paymentId);
    if (!payment) return ctx.hydraError(404, "Not Found", "not-found");
    const body = v2Input(ctx, { patch: true, allowed: ["paymentMethod"] });
    if (!body) return;
    if (body.paymentMethod === undefined) return ctx.missingFields(["paymentMethod"]);
    const code = fromIri(ctx, body.paymentMethod, "/api/v2/shop/payment-methods");
    const method = shop.payments.find((m) => m.code === code);
    if (!method) return ctx.violationList([{ propertyPath: "", message: `The payment method with ${code} code does not exist.` }]);
    if (order.state === "new") {
      if (payment.state !== "new") return ctx.hydraError(500, "You cannot change the payment method for a cancelled order.", "state");
      payment.method = method; // PaymentMethodChanger
      return ctx.ld(200, v2Order(order));
    }
    if (order.state !== "cart") return ctx.hydraError(500, "You cannot change the payment method for a cancelled order.", "state");
    if (!shop.canTransition(order, "select_payment")) return ctx.hydraError(500, "Order cannot have payment method assigned.", "state");
    payment.method = method;
    shop.apply(order, "select_payment");
    return ctx.ld(200, v2Order(order));
  }

  function v2Complete(ctx, order) {
    const body = v2Input(ctx, { patch: true, allowed: ["notes"] });
    if (!body) return;
    const list = [];
    if (!shop.canTransition(order, "complete")) {
      list.push({
        propertyPath: "",
        message: `Cannot complete as order is in a wrong state. Current: ${order.checkoutState}. Possible transitions: ${shop.enabledTransitions(order).join(", ")}.`,
      });
    }
    if (!order.items.length) list.push({ propertyPath: "", message: "An empty order cannot be processed." });
    for (const item of order.items) {
      if (!item.variant.enabled) list.push({ propertyPath: "", message: `This product ${item.variant.productName} has been disabled.` });
      else if (item.variant.tracked && item.variant.onHand < item.quantity) {
        list.push({ propertyPath: "", message: `The product variant with ${item.variant.name} name does not have sufficient stock.` });
      }
    }
    if (list.length) return ctx.violationList(list, shop.canTransition(order, "complete") ? "validation" : "state");
    if (!order.customer) return ctx.hydraError(500, "Please enter your email before completing the order.", "state");
    if (body.notes !== undefined && body.notes !== null) order.notes = String(body.notes);
    shop.apply(order, "complete");
    return ctx.ld(200, v2Order(order));
  }

  // -- v2 serialisation (JSON-LD, sylius:shop:cart:show) -------------------------------------------------

  function v2ShippingMethod(m) {
    return { "@id": `/api/v2/shop/shipping-methods/${encodeURIComponent(m.v2)}`, "@type": "ShippingMethod", id: m.id, code: m.v2, position: m.position, name: m.name, description: m.description };
  }
  function v2PaymentMethod(m) {
    return { "@id": `/api/v2/shop/payment-methods/${encodeURIComponent(m.code)}`, "@type": "PaymentMethod", id: m.id, code: m.code, position: m.position, name: m.name, description: m.description, instructions: null };
  }
  function v2Address(a) {
    if (!a) return null;
    return {
      "@id": `/api/v2/shop/addresses/${a.id}`,
      "@type": "Address",
      firstName: a.firstName,
      lastName: a.lastName,
      phoneNumber: a.phoneNumber,
      company: a.company,
      countryCode: a.countryCode,
      provinceCode: a.provinceCode,
      provinceName: a.provinceName,
      street: a.street,
      city: a.city,
      postcode: a.postcode,
    };
  }
  function v2Order(order) {
    const t = shop.totals(order);
    const base = `/api/v2/shop/orders/${order.tokenValue}`;
    return {
      "@context": "/api/v2/contexts/Order",
      "@id": base,
      "@type": "Order",
      channel: `/api/v2/shop/channels/${channel}`,
      customer: order.customer ? { "@id": `/api/v2/shop/customers/${order.customer.id}`, "@type": "Customer", email: order.customer.email } : null,
      shippingAddress: v2Address(order.shippingAddress),
      billingAddress: v2Address(order.billingAddress),
      payments: order.payments.map((p) => ({
        "@id": `${base}/payments/${p.id}`,
        "@type": "Payment",
        id: p.id,
        method: p.method ? `/api/v2/shop/payment-methods/${encodeURIComponent(p.method.code)}` : null,
      })),
      shipments: order.shipments.map((s) => ({
        "@id": `${base}/shipments/${s.id}`,
        "@type": "Shipment",
        id: s.id,
        method: `/api/v2/shop/shipping-methods/${encodeURIComponent(s.method.v2)}`,
      })),
      currencyCode: order.currencyCode,
      localeCode: order.localeCode,
      checkoutState: order.checkoutState,
      paymentState: order.paymentState,
      shippingState: order.shippingState,
      tokenValue: order.tokenValue,
      number: order.number,
      items: order.items.map((i) => ({
        "@id": `${base}/items/${i.id}`,
        "@type": "OrderItem",
        variant: `/api/v2/shop/product-variants/${encodeURIComponent(i.variant.v2)}`,
        productName: i.variant.productName,
        id: i.id,
        quantity: i.quantity,
        unitPrice: i.unitPrice,
        originalUnitPrice: i.variant.price,
        total: shop.itemTotal(i),
        discountedUnitPrice: i.unitPrice,
        subtotal: i.unitPrice * i.quantity,
      })),
      itemsTotal: t.itemsTotal,
      total: t.total,
      state: order.state,
      itemsSubtotal: t.itemsSubtotal,
      taxTotal: t.taxTotal,
      shippingTaxTotal: t.shippingTaxTotal,
      taxExcludedTotal: t.taxExcludedTotal,
      taxIncludedTotal: t.taxIncludedTotal,
      shippingTotal: t.shippingTotal,
      orderPromotionTotal: t.orderPromotionTotal,
      shippingPromotionTotal: t.shippingPromotionTotal,
    };
  }

  // ============================================================================================= start

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const stop = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  return { url, stop, orders, violations };
}
