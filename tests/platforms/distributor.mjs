// The distributor of seed 000 on 127.0.0.1: an emulator of TD SYNNEX StreamOne® Ion's V3 cart API (partner
// OAuth2, customer carts, `cartItems`, review, `:checkout`, orders), priced from a wasm-cart catalog.
// node:http and node:crypto only.
//
// Sources (read 2026; public copies):
// - The seed, /work/shared/seeds/000_e8a983a722aa8f7e.txt. It is byte for byte
//   github.com/ZELA2000/Also-TDSynnex-Trend, TDSynnex/DOC/workflows/4_Shopping_Cart.md (commit 352167c8).
// - The official "StreamOne® Ion V3 APIs" OpenAPI document that the seed was written from, in that repository:
//   TDSynnex/DOC/API reference.yaml (commit 352167c896d808e209cb24392bc46056d9b30fae). From it:
//   `POST /oauth/token` (form: grant_type, refresh_token; 200 {access_token, expires_in: 7200, refresh_token,
//   token_type: "Bearer"}; 400 {error: "cannot validate token: redis: nil"}); `POST /oauth/validateAccess`
//   ({access_expires_in, refresh_expires_in}); the tag text "access token 7200 s, refresh token valid 32 days and
//   single-use"; the cart paths `/api/v3/customers/{customerId}/carts[/{cartId}[:checkout | /cartItems[/{id}]]]`;
//   CartRequest/CartResponse (`name`, cartDisplayName, userName, payment, status OPEN|SAVED_FOR_LATER|
//   CHECKED_OUT|QUOTE, currencyCode, totalItems), Create Cart 201, cart items (`name` =
//   "customers/{c}/carts/{cart}/cartItems/{id}", quantity, recurringPrice {currency, value}, taxesEnabled,
//   checkedOut), List cart items answering `{cartitems: [...]}`, Create item 200, Delete 204; CheckoutCartRequest
//   (totalCalculatedValue, provisionData [{cartItemId, attributes [{name, value}]}]) and CheckoutCartResponse
//   (one order: `name` "accounts/{a}/customers/{c}/orders/{o}", referenceId "customers/{c}/carts/{cart}",
//   cartId, total, orderItems [{name, productId, skuId, quantity, providerName, price, subTotal, cartItemId,
//   status}], createTime); the orders paths `/api/v3/accounts/{accountId}/orders`,
//   `/api/v3/accounts/{accountId}/customers/{customerId|-}/orders[/{orderId}]` with pageSize/pageToken/status
//   (`{orders, nextPageToken}`) and the Order schema (orderId, cartId, referenceId, total as a decimal number,
//   orderItems[].price "for a single unit", resellerPO, endCustomerPO, attributes [{name, value}], errors
//   [{code, detail, sourceName, instancePath}]); the error envelope {error, message, code, details:
//   [{"@type": "type.googleapis.com/google.rpc.RequestInfo", requestId}]} of its examples (PERMISSION_DENIED
//   403, NOT_FOUND 404 "listing AWS-EC not found" / "resource '...' not found", INVALID_REQUEST 400,
//   FAILED_PRECONDITION 412) and RequiredAttributesNotPresent (400, code 3, "BAD_REQUEST: Invalid
//   provisioning data", details[0].errors [{code: "COMM-VL-001", detail}]).
// - Same repository, TDSynnex/DOC/workflows/1_Authentication.md and 5_Orders_and_Subscriptions.md.
// - StreamOne support, https://stream1.freshdesk.com/support/solutions/articles/44002509572 (the initial
//   refresh_token comes from the portal: Settings > Users > Request New Credentials).
// - github.com/cloudmindsab/td-synnex ion-api-v3 scripts and Postman collection, and a TD SYNNEX engineer's
//   PowerShell sample (grant_type=refresh_token, keep the new refresh_token; resources named
//   "accounts/{a}/customers/{id}"; orders listed with ?pageSize=100).
// - https://mspvectis.com/docs/synnex (third party: client id, client secret and refresh token per user).
// - github.com/api-evangelist/td-synnex openapi/*.yml (third party, generated; names a client-credentials flow
//   at /oauth/token; its shapes disagree with the official document and were not used otherwise).
//
// Where the official document and the seed differ, this emulator answers both ways, so a client written from
// either works: an item is named by `productId` (seed) or `planName` (Ion), its `attributes` come as an object
// (seed) or [{name, value}] (Ion), at item creation (seed) or in the checkout's `provisionData` (Ion);
// `cartId`/`cartItemId` (seed) come beside Ion's resource `name`s.
// Where the official document is silent, the seed is followed literally:
// - `:checkout` takes `poNumber`; it answers with one order (the Ion CheckoutCartResponse, with `orderId`)
//   when the cart holds one vendor's products, else `{listing: [order, ...], cartId, referenceId}` with one
//   order per vendor ("a `listing` of generated orders if multiple vendors were involved").
// - The review (GET cart) carries the items, their prices and the cart total, and `errors` (Ion's Error shape
//   of the Order resource) for items whose catalog `requiredAttributes` are missing; `errors` is [] when valid.
// Emulator choices where nothing public says (the report lists them): `vendor` on each order (Ion names the
// vendor `providerName` on order items), `poNumber` echoed on the order and copied to every order item's
// `resellerPO`; a second checkout of a cart answers 412 FAILED_PRECONDITION; 401 uses the V3 envelope with
// error UNAUTHENTICATED; grant_type=client_credentials (the partner's id and secret) is accepted beside
// refresh_token; ids are decimal strings.
//
// Prices: the catalog's amounts are the distributor's unit prices in the cart currency (a product's own, a
// variant's else its product's), the tier with the largest `minQuantity` <= quantity; a line is unit x
// quantity, exact (decimal arithmetic in minor units); amounts go out as JSON numbers in major units (Ion's
// `total` and `price` are "number/double" decimals: 12.5 means 12.50). No tax is added or removed
// (`taxesEnabled: false`): a distributor's pricebook is net B2B pricing and no Ion cart or order carries a tax
// field; the catalog's amounts are taken as that pricebook, so the cart total equals the sum of the catalog
// line totals the shop showed.
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";

export const ACCESS_TOKEN_SECONDS = 7200;
export const REFRESH_TOKEN_SECONDS = 32 * 24 * 3600;
const PROTOCOL = "distributor-v3";
const CART_STATUSES = ["CART_STATUS_UNSPECIFIED", "OPEN", "SAVED_FOR_LATER", "CHECKED_OUT", "QUOTE"];
const ORDER_STATUSES = ["NEW", "CONFIRMED", "ON_HOLD", "COMPLETED", "ERROR", "CANCELED", "IN_PROGRESS"];

// ---- decimals (BigInt minor units, no floating point) ----

function parseDecimal(text) {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text).trim());
  if (!m) throw new Error(`not a decimal amount: ${text}`);
  const fraction = m[3] ?? "";
  const value = BigInt(m[2] + fraction) * (m[1] ? -1n : 1n);
  return { value, scale: fraction.length };
}

/** `value` at `scale` fraction digits, rounded half-even to `digits`. */
function rescale(value, scale, digits) {
  if (scale <= digits) return value * 10n ** BigInt(digits - scale);
  const div = 10n ** BigInt(scale - digits);
  let q = value / div;
  const r = value % div;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > div || (twice === div && q % 2n !== 0n)) q += value < 0n ? -1n : 1n;
  return q;
}

const fractionDigits = (currency) =>
  new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;

/** Minor units as a JSON number in major units (1250n, 2 -> 12.5). */
const major = (minor, digits) => Number(minor) / 10 ** digits;

// ---- helpers ----

const requestId = () => crypto.randomBytes(10).toString("hex");
const timestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const newToken = () => crypto.randomBytes(36).toString("base64url").toUpperCase();

/** The V3 error envelope of the document's examples. */
function ionError(status, error, message, extra = {}) {
  return {
    status,
    body: {
      error,
      message,
      code: status,
      details: [{ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId: requestId(), ...extra }],
    },
  };
}

/** RequiredAttributesNotPresent of the document (HTTP 400, gRPC code 3, v3orberrors.ErrorBody). */
function provisioningError(errors) {
  return {
    status: 400,
    body: {
      error: "BAD_REQUEST: Invalid provisioning data",
      message: "BAD_REQUEST: Invalid provisioning data",
      code: 3,
      details: [
        {
          "@type": "type.googleapis.com/v3orberrors.ErrorBody",
          requestId: requestId(),
          errors: errors.map(({ code, detail }) => ({ code, detail })),
        },
      ],
    },
  };
}

const notFound = (resource) => ionError(404, "NOT_FOUND", `resource '${resource}' not found`);
const invalid = (message, referenceEntity) =>
  ionError(400, "INVALID_REQUEST", message, referenceEntity ? { referenceEntity } : {});

/** Attributes as a plain object, from `{name: value}` (seed) or `[{name, value}]` (Ion). */
function attributesOf(value) {
  if (value == null) return {};
  if (Array.isArray(value)) {
    const out = {};
    for (const a of value) {
      if (!a || typeof a.name !== "string") throw new Error("each attribute needs a name");
      out[a.name] = a.value;
    }
    return out;
  }
  if (typeof value === "object") return { ...value };
  throw new Error("attributes must be an object or a list of {name, value}");
}

const present = (v) => v !== undefined && v !== null && !(typeof v === "string" && v.trim() === "");

// ---- catalog ----

function indexCatalog(catalog) {
  const entries = new Map();
  const currencies = new Set();
  const add = (id, entry) => {
    if (id != null && !entries.has(String(id))) entries.set(String(id), entry);
  };
  for (const product of catalog.products ?? []) {
    for (const p of product.prices ?? []) currencies.add(p.currency);
    add(product.external?.[PROTOCOL] ?? product.sku ?? product.id, {
      product,
      variant: null,
      sku: product.sku ?? product.id,
      title: product.name,
      prices: product.prices ?? [],
    });
    for (const variant of product.variants ?? []) {
      for (const p of variant.prices ?? []) currencies.add(p.currency);
      add(variant.external?.[PROTOCOL] ?? variant.sku, {
        product,
        variant,
        sku: variant.sku,
        title: variant.name ?? product.name,
        prices: variant.prices ?? product.prices ?? [],
      });
    }
  }
  return { entries, currencies };
}

/** The unit price of `entry` for `quantity` in `currency`: the applicable tier, as {value, scale}, or null. */
function unitPrice(entry, currency, quantity) {
  const now = Date.now();
  const candidates = entry.prices.filter(
    (p) =>
      p.currency === currency &&
      !p.customerGroup &&
      !p.country &&
      (!p.validFrom || Date.parse(p.validFrom) <= now) &&
      (!p.validUntil || Date.parse(p.validUntil) > now) &&
      (p.minQuantity ?? 1) <= quantity,
  );
  if (!candidates.length) return null;
  candidates.sort((a, b) => (b.minQuantity ?? 1) - (a.minQuantity ?? 1));
  return { ...parseDecimal(candidates[0].amount), amount: candidates[0].amount };
}

// ---- the server ----

/**
 * Starts the emulator. Resolves `{ url, stop, orders, violations, carts, accountId, partner, refreshToken,
 * requests, expireAccessTokens, loseNextCheckoutAnswer }`:
 * - `orders`: every order created (the objects the API serves), in creation order;
 * - `violations`: `{type, method, path, customerId, cartId, status?, poNumber?, at}` for each checkout of a cart
 *   that is not OPEN (`checkout-not-open`), each change to such a cart (`modify-not-open`) and each checkout
 *   reusing a poNumber already ordered (`po-number-reused`; the checkout still succeeds, as nothing public
 *   says Ion refuses it);
 * - `carts`: Map cartId -> the emulator's cart state ({id, customerId, status, currencyCode, items, checkout});
 * - `refreshToken`: the initial refresh token, as the Ion portal hands it out (single use);
 * - `requests`: `{method, path, body}` of every request;
 * - `expireAccessTokens()`: makes every access token issued so far expired (then 401);
 * - `loseNextCheckoutAnswer()`: the next successful checkout commits its orders and drops the connection.
 */
export async function startDistributor({
  catalog,
  partner = { clientId: "partner-client", clientSecret: "partner-secret" },
  accountId = "acc-1",
  currency,
} = {}) {
  if (typeof catalog === "string") catalog = JSON.parse(fs.readFileSync(catalog, "utf8"));
  if (!catalog || !Array.isArray(catalog.products)) throw new Error("startDistributor needs a catalog with products");
  accountId = String(accountId);
  const { entries, currencies } = indexCatalog(catalog);
  const defaultCurrency = currency ?? catalog.products.flatMap((p) => p.prices ?? [])[0]?.currency ?? "EUR";

  const accessTokens = new Map(); // token -> { expiresAt, refreshToken }
  const refreshTokens = new Map(); // token -> { expiresAt, used }
  const carts = new Map();
  const orders = [];
  const violations = [];
  const requests = [];
  let nextCart = 1001;
  let nextItem = 1;
  let nextOrder = 70001;
  let nextOrderItem = 1;
  let loseAnswer = false;

  const issueRefresh = () => {
    const token = newToken();
    refreshTokens.set(token, { expiresAt: Date.now() + REFRESH_TOKEN_SECONDS * 1000, used: false });
    return token;
  };
  const initialRefreshToken = issueRefresh();

  function issuePair() {
    const access_token = newToken();
    const refresh_token = issueRefresh();
    accessTokens.set(access_token, { expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000, refreshToken: refresh_token });
    return { access_token, expires_in: ACCESS_TOKEN_SECONDS, refresh_token, token_type: "Bearer" };
  }

  function bearerOk(req) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    const entry = m && accessTokens.get(m[1]);
    return Boolean(entry && entry.expiresAt > Date.now());
  }

  function violation(type, ctx, extra = {}) {
    violations.push({ type, method: ctx.method, path: ctx.path, customerId: ctx.customerId, cartId: ctx.cartId, ...extra, at: timestamp() });
  }

  // ---- views ----

  function cartName(cart) {
    return `customers/${cart.customerId}/carts/${cart.id}`;
  }

  function priceItem(cart, item) {
    const digits = fractionDigits(cart.currencyCode);
    const unit = unitPrice(item.entry, cart.currencyCode, item.quantity);
    if (!unit) return null;
    const unitMinor = rescale(unit.value, unit.scale, Math.max(unit.scale, digits));
    const lineMinor = rescale(unitMinor * BigInt(item.quantity), Math.max(unit.scale, digits), digits);
    return { unit: Number(unit.amount), lineMinor, digits };
  }

  function itemErrors(cart, item, index) {
    const name = `${cartName(cart)}/cartItems/${item.id}`;
    return (item.entry.product.requiredAttributes ?? [])
      .filter((attr) => !present(item.attributes[attr]))
      .map((attr) => ({
        code: "COMM-VL-001",
        detail: `The '${attr}' attribute must be present in the 'cartItem' object.`,
        sourceName: name,
        instancePath: `/cartItems/${index}/attributes/${attr}`,
      }));
  }

  function itemView(cart, item, index) {
    const price = priceItem(cart, item);
    const vendor = item.entry.product.vendor ?? null;
    return {
      name: `${cartName(cart)}/cartItems/${item.id}`,
      cartItemId: String(item.id),
      cartName: cartName(cart),
      title: item.entry.title,
      planName: item.planName ?? item.productId,
      productId: item.productId,
      skuId: item.entry.sku,
      vendor,
      providerName: vendor,
      status: "DRAFT",
      quantity: item.quantity,
      attributes: { ...item.attributes },
      currencyCode: cart.currencyCode,
      price: price?.unit ?? null,
      subTotal: price ? major(price.lineMinor, price.digits) : null,
      recurringPrice: { currency: cart.currencyCode, value: price?.unit ?? null },
      taxesEnabled: false,
      productType: "PRODUCT",
      checkedOut: cart.status === "CHECKED_OUT" ? "SUCCESS" : "UNSPECIFIED",
      errors: itemErrors(cart, item, index),
      createTime: item.createTime,
    };
  }

  function cartErrors(cart) {
    return cart.items.flatMap((item, i) => itemErrors(cart, item, i));
  }

  function cartTotalMinor(cart) {
    return cart.items.reduce((sum, item) => sum + (priceItem(cart, item)?.lineMinor ?? 0n), 0n);
  }

  function cartView(cart) {
    const digits = fractionDigits(cart.currencyCode);
    return {
      name: cartName(cart),
      cartId: String(cart.id),
      customerId: cart.customerId,
      cartDisplayName: cart.cartDisplayName,
      ...(cart.userName !== undefined ? { userName: cart.userName } : {}),
      ...(cart.payment !== undefined ? { payment: cart.payment } : {}),
      status: cart.status,
      currencyCode: cart.currencyCode,
      totalItems: cart.items.length,
      cartItems: cart.items.map((item, i) => itemView(cart, item, i)),
      total: major(cartTotalMinor(cart), digits),
      errors: cartErrors(cart),
      createTime: cart.createTime,
      updateTime: cart.updateTime,
    };
  }

  const cartSummary = (cart) => {
    const { cartItems, errors, ...summary } = cartView(cart);
    return summary;
  };

  // ---- handlers ----

  function token(form, req) {
    const grant = form.grant_type;
    let basic = null;
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (m) {
      const [id, ...rest] = Buffer.from(m[1], "base64").toString("utf8").split(":");
      basic = { id: decodeURIComponent(id), secret: decodeURIComponent(rest.join(":")) };
    }
    const clientId = basic?.id ?? form.client_id;
    const clientSecret = basic?.secret ?? form.client_secret;
    if (grant === "refresh_token") {
      if (clientId !== undefined && (clientId !== partner.clientId || (clientSecret !== undefined && clientSecret !== partner.clientSecret))) {
        return { status: 401, body: { error: "invalid_client" } };
      }
      const entry = refreshTokens.get(form.refresh_token ?? "");
      if (!entry || entry.used || entry.expiresAt <= Date.now()) {
        return { status: 400, body: { error: "cannot validate token: redis: nil" } };
      }
      entry.used = true;
      return { status: 200, body: issuePair() };
    }
    if (grant === "client_credentials") {
      if (clientId !== partner.clientId || clientSecret !== partner.clientSecret) {
        return { status: 401, body: { error: "invalid_client" } };
      }
      return { status: 200, body: issuePair() };
    }
    return { status: 400, body: { error: `unsupported grant_type: ${grant ?? "(none)"}` } };
  }

  function validateAccess(form) {
    const entry = accessTokens.get(form.access_token ?? "");
    if (!entry || entry.expiresAt <= Date.now()) return { status: 400, body: { error: "cannot validate token: redis: nil" } };
    const refresh = refreshTokens.get(entry.refreshToken);
    const left = (at) => Math.max(0, Math.floor((at - Date.now()) / 1000));
    return {
      status: 200,
      body: { access_expires_in: left(entry.expiresAt), refresh_expires_in: refresh && !refresh.used ? left(refresh.expiresAt) : 0 },
    };
  }

  function findCart(ctx) {
    const cart = carts.get(ctx.cartId);
    return cart && cart.customerId === ctx.customerId ? cart : null;
  }

  /** 412 for a change to a cart that is not open, recorded as a violation. */
  function notOpen(ctx, cart, type) {
    violation(type, ctx, { status: cart.status });
    return ionError(412, "FAILED_PRECONDITION", `cart '${cartName(cart)}' is ${cart.status}, not OPEN`, {
      referenceEntity: "cart",
      detail: `The cart has status ${cart.status}; only an OPEN cart can be changed or checked out.`,
    });
  }

  function checkStatusField(status, allowed) {
    if (status === undefined) return null;
    if (!allowed.includes(status)) return invalid(`status must be one of ${allowed.join(", ")}`, "status");
    return null;
  }

  function createCart(ctx, body) {
    const bad = checkStatusField(body.status, ["OPEN", "SAVED_FOR_LATER", "QUOTE"]);
    if (bad) return bad;
    const currencyCode = body.currencyCode ?? defaultCurrency;
    if (!currencies.has(currencyCode)) return invalid(`currencyCode ${currencyCode} is not priced in this pricebook`, "currencyCode");
    const id = String(nextCart++);
    const now = timestamp();
    const cart = {
      id,
      customerId: ctx.customerId,
      cartDisplayName: body.cartDisplayName ?? `Cart ${id}`,
      userName: body.userName,
      payment: body.payment,
      status: body.status ?? "OPEN",
      currencyCode,
      items: [],
      createTime: now,
      updateTime: now,
      checkout: null,
    };
    carts.set(id, cart);
    return { status: 201, body: cartView(cart) };
  }

  function listCarts(ctx, query) {
    const status = query.get("status");
    if (!status) return invalid("status is required", "status");
    if (!CART_STATUSES.includes(status)) return invalid(`status must be one of ${CART_STATUSES.join(", ")}`, "status");
    const limit = Number(query.get("pagination.limit") ?? 100);
    const offset = Number(query.get("pagination.offset") ?? 0);
    const list = [...carts.values()].filter(
      (c) => c.customerId === ctx.customerId && (status === "CART_STATUS_UNSPECIFIED" || c.status === status),
    );
    return { status: 200, body: { carts: list.slice(offset, offset + limit).map(cartSummary) } };
  }

  function updateCart(ctx, cart, body) {
    if (cart.status === "CHECKED_OUT") return notOpen(ctx, cart, "modify-not-open");
    const bad = checkStatusField(body.status, ["OPEN", "SAVED_FOR_LATER", "QUOTE"]);
    if (bad) return bad;
    if (body.currencyCode !== undefined) {
      if (!currencies.has(body.currencyCode)) return invalid(`currencyCode ${body.currencyCode} is not priced in this pricebook`, "currencyCode");
      const unpriced = cart.items.find((item) => !unitPrice(item.entry, body.currencyCode, item.quantity));
      if (unpriced) return invalid(`listing ${unpriced.productId} has no price in ${body.currencyCode}`, "currencyCode");
      cart.currencyCode = body.currencyCode;
    }
    for (const key of ["cartDisplayName", "userName", "payment", "status"]) if (body[key] !== undefined) cart[key] = body[key];
    cart.updateTime = timestamp();
    return { status: 200, body: cartView(cart) };
  }

  function checkQuantity(entry, quantity) {
    if (!Number.isInteger(quantity) || quantity < 1) return invalid("quantity must be a positive integer", "quantity");
    const { minQuantity, maxQuantity } = entry.product;
    if ((minQuantity != null && quantity < minQuantity) || (maxQuantity != null && quantity > maxQuantity)) {
      return invalid(`quantity must be between ${minQuantity ?? 1} and ${maxQuantity ?? "any"}`, "quantity");
    }
    return null;
  }

  function lookupListing(body) {
    let id = body.productId ?? body.planName;
    if (id == null || id === "") return { error: invalid("productId (or planName) is required", "productId") };
    id = String(id);
    let entry = entries.get(id);
    const path = !entry && /(?:^|\/)products\/([^/]+)/.exec(id);
    if (path) entry = entries.get(path[1]);
    if (!entry) return { error: ionError(404, "NOT_FOUND", `listing ${id} not found`) };
    return { id, entry };
  }

  function addItem(ctx, cart, body) {
    if (cart.status === "CHECKED_OUT") return notOpen(ctx, cart, "modify-not-open");
    const { id, entry, error } = lookupListing(body);
    if (error) return error;
    const quantity = body.quantity ?? 1;
    const bad = checkQuantity(entry, quantity);
    if (bad) return bad;
    if (!unitPrice(entry, cart.currencyCode, quantity)) return invalid(`listing ${id} has no price in ${cart.currencyCode}`, "currencyCode");
    let attributes;
    try {
      attributes = attributesOf(body.attributes);
    } catch (e) {
      return invalid(e.message, "attributes");
    }
    const item = {
      id: String(nextItem++),
      productId: id,
      planName: body.planName,
      entry,
      quantity,
      attributes,
      payment: body.payment,
      createTime: timestamp(),
    };
    cart.items.push(item);
    cart.updateTime = item.createTime;
    return { status: 200, body: itemView(cart, item, cart.items.length - 1) };
  }

  function updateItem(ctx, cart, item, body) {
    if (cart.status === "CHECKED_OUT") return notOpen(ctx, cart, "modify-not-open");
    const quantity = body.quantity ?? item.quantity;
    const bad = checkQuantity(item.entry, quantity);
    if (bad) return bad;
    if (!unitPrice(item.entry, cart.currencyCode, quantity)) return invalid(`listing ${item.productId} has no price for quantity ${quantity}`, "quantity");
    if (body.attributes !== undefined) {
      try {
        item.attributes = attributesOf(body.attributes);
      } catch (e) {
        return invalid(e.message, "attributes");
      }
    }
    item.quantity = quantity;
    if (body.payment !== undefined) item.payment = body.payment;
    cart.updateTime = timestamp();
    return { status: 200, body: itemView(cart, item, cart.items.indexOf(item)) };
  }

  function orderView(order) {
    return order; // stored in the served shape
  }

  function checkout(ctx, cart, body) {
    if (cart.status !== "OPEN") return notOpen(ctx, cart, "checkout-not-open");
    if (body.poNumber !== undefined && body.poNumber !== null && typeof body.poNumber !== "string") {
      return invalid("poNumber must be a string", "poNumber");
    }
    // Ion's way to pass provisioning attributes: provisionData [{cartItemId, attributes [{name, value}]}].
    if (body.provisionData !== undefined) {
      if (!Array.isArray(body.provisionData)) return invalid("provisionData must be a list", "provisionData");
      for (const data of body.provisionData) {
        const item = cart.items.find((i) => i.id === String(data?.cartItemId));
        if (!item) return notFound(`${cartName(cart)}/cartItems/${data?.cartItemId}`);
        try {
          Object.assign(item.attributes, attributesOf(data.attributes));
        } catch (e) {
          return invalid(e.message, "provisionData");
        }
      }
    }
    if (!cart.items.length) return invalid(`cart '${cartName(cart)}' has no cart items`, "cartItems");
    const errors = cartErrors(cart);
    if (errors.length) return provisioningError(errors);

    const poNumber = body.poNumber || null;
    if (poNumber && orders.some((o) => o.poNumber === poNumber && o.customerId === cart.customerId)) {
      violation("po-number-reused", ctx, { poNumber });
    }
    const digits = fractionDigits(cart.currencyCode);
    const now = timestamp();
    const byVendor = new Map();
    for (const item of cart.items) {
      const vendor = item.entry.product.vendor ?? null;
      if (!byVendor.has(vendor)) byVendor.set(vendor, []);
      byVendor.get(vendor).push(item);
    }
    const created = [];
    for (const [vendor, items] of byVendor) {
      const orderId = String(nextOrder++);
      const name = `accounts/${accountId}/customers/${cart.customerId}/orders/${orderId}`;
      let totalMinor = 0n;
      const orderItems = items.map((item) => {
        const price = priceItem(cart, item);
        totalMinor += price.lineMinor;
        return {
          name: `${name}/orderItems/${nextOrderItem++}`,
          referenceId: `${cartName(cart)}/cartItems/${item.id}`,
          action: "CREATE",
          productId: item.productId,
          skuId: item.entry.sku,
          quantity: item.quantity,
          providerName: vendor,
          price: price.unit,
          subTotal: major(price.lineMinor, digits),
          currencyCode: cart.currencyCode,
          ...(poNumber ? { resellerPO: poNumber } : {}),
          attributes: Object.entries(item.attributes).map(([n, v]) => ({ name: n, value: v == null ? "" : String(v) })),
          cartItemId: item.id,
          status: "NEW",
          createTime: now,
          updateTime: now,
        };
      });
      const order = {
        name,
        accountId,
        customerId: cart.customerId,
        orderId,
        referenceId: cartName(cart),
        displayName: cart.cartDisplayName,
        status: "NEW",
        currencyCode: cart.currencyCode,
        total: major(totalMinor, digits),
        cartId: cart.id,
        vendor,
        poNumber,
        orderItems,
        errors: [],
        createTime: now,
        updateTime: now,
      };
      orders.push(order);
      created.push(order);
    }
    cart.status = "CHECKED_OUT";
    cart.updateTime = now;
    cart.checkout = {
      poNumber,
      orderIds: created.map((o) => o.orderId),
      totalCalculatedValue: body.totalCalculatedValue,
      at: now,
    };
    const answer =
      created.length === 1
        ? orderView(created[0])
        : { cartId: cart.id, referenceId: cartName(cart), poNumber, listing: created.map(orderView) };
    return { status: 200, body: answer, loseAnswer: loseAnswer && ((loseAnswer = false), true) };
  }

  function listOrders(query, match) {
    const pageSize = query.get("pageSize");
    const pageToken = query.get("pageToken");
    if (!pageSize && !pageToken) {
      return ionError(400, "INVALID_REQUEST", "At least one of page_size and page_token must be present");
    }
    const status = query.get("status");
    if (status && !ORDER_STATUSES.includes(status)) return invalid(`status must be one of ${ORDER_STATUSES.join(", ")}`, "status");
    let offset = 0;
    let size = Number(pageSize ?? 100);
    if (pageToken) {
      try {
        ({ offset, size } = JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8")));
      } catch {
        return invalid("invalid pageToken", "pageToken");
      }
      if (pageSize) size = Number(pageSize);
    }
    if (!Number.isInteger(size) || size < 1) return invalid("pageSize must be a positive integer", "pageSize");
    const list = orders.filter((o) => match(o) && (!status || o.status === status));
    const sortBy = query.get("sortBy");
    if (sortBy && list.length && sortBy in list[0]) {
      const dir = (query.get("sortOrder") ?? "ASC").toUpperCase() === "DESC" ? -1 : 1;
      list.sort((a, b) => (a[sortBy] < b[sortBy] ? -dir : a[sortBy] > b[sortBy] ? dir : 0));
    }
    const page = list.slice(offset, offset + size).map(orderView);
    const more = offset + size < list.length;
    return {
      status: 200,
      body: {
        orders: page,
        ...(more ? { nextPageToken: Buffer.from(JSON.stringify({ offset: offset + size, size })).toString("base64url") } : {}),
      },
    };
  }

  const csv = (v) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : null);

  // ---- routing ----

  async function route(req, url, body) {
    const method = req.method;
    let segments;
    try {
      segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return invalid("malformed path");
    }
    const ctx = { method, path: url.pathname + url.search };

    if (segments[0] === "oauth" && segments.length === 2 && method === "POST") {
      if (segments[1] === "token") return token(body.form, req);
      if (segments[1] === "validateAccess") return validateAccess(body.form);
    }
    if (segments[0] !== "api" || segments[1] !== "v3") return ionError(404, "NOT_FOUND", `no route for ${method} ${url.pathname}`);
    if (!bearerOk(req)) {
      return {
        ...ionError(401, "UNAUTHENTICATED", "Request is missing a valid access token."),
        headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
      };
    }
    if (body.invalidJson) return invalid("request body is not valid JSON");
    const json = body.json ?? {};
    if (typeof json !== "object" || Array.isArray(json)) return invalid("request body must be a JSON object");
    const rest = segments.slice(2);

    // /api/v3/customers/{customerId}/carts...
    if (rest[0] === "customers" && rest[2] === "carts" && rest.length >= 3) {
      ctx.customerId = rest[1];
      if (rest.length === 3) {
        if (method === "GET") return listCarts(ctx, url.searchParams);
        if (method === "POST") return createCart(ctx, json);
        return methodNotAllowed(method, url);
      }
      const checkoutMatch = /^(.*):checkout$/.exec(rest[3]);
      ctx.cartId = checkoutMatch ? checkoutMatch[1] : rest[3];
      const cart = findCart(ctx);
      if (!cart) return notFound(`customers/${ctx.customerId}/carts/${ctx.cartId}`);
      if (checkoutMatch && rest.length === 4) {
        if (method !== "POST") return methodNotAllowed(method, url);
        return checkout(ctx, cart, json);
      }
      if (rest.length === 4) {
        if (method === "GET") return { status: 200, body: cartView(cart) };
        if (method === "PUT") return updateCart(ctx, cart, json);
        if (method === "DELETE") {
          carts.delete(cart.id);
          return { status: 204 };
        }
        return methodNotAllowed(method, url);
      }
      if (rest[4] === "cartItems" && rest.length === 5) {
        if (method === "GET") return { status: 200, body: { cartitems: cart.items.map((item, i) => itemView(cart, item, i)) } };
        if (method === "POST") return addItem(ctx, cart, json);
        return methodNotAllowed(method, url);
      }
      if (rest[4] === "cartItems" && rest.length === 6) {
        const item = cart.items.find((i) => i.id === rest[5]);
        if (!item) return notFound(`${cartName(cart)}/cartItems/${rest[5]}`);
        if (method === "GET") return { status: 200, body: itemView(cart, item, cart.items.indexOf(item)) };
        if (method === "PUT") return updateItem(ctx, cart, item, json);
        if (method === "DELETE") {
          if (cart.status === "CHECKED_OUT") return notOpen(ctx, cart, "modify-not-open");
          cart.items.splice(cart.items.indexOf(item), 1);
          cart.updateTime = timestamp();
          return { status: 204 };
        }
        return methodNotAllowed(method, url);
      }
    }

    // /api/v3/accounts/{accountId}/orders, .../customers/{customerId|-}/orders[/{orderId}]
    if (rest[0] === "accounts" && rest.length >= 3) {
      if (rest[1] !== accountId) return ionError(403, "PERMISSION_DENIED", `permission denied to access accounts/${rest[1]}`);
      if (rest[2] === "orders" && rest.length === 3) {
        if (method !== "GET") return methodNotAllowed(method, url);
        const customers = csv(url.searchParams.get("filter.customerIdList"));
        const providers = csv(url.searchParams.get("filter.providerNameList"));
        return listOrders(
          url.searchParams,
          (o) => (!customers || customers.includes(o.customerId)) && (!providers || providers.includes(o.vendor)),
        );
      }
      if (rest[2] === "customers" && rest[4] === "orders") {
        const customerId = rest[3];
        const ofCustomer = (o) => customerId === "-" || o.customerId === customerId;
        if (rest.length === 5) {
          if (method !== "GET") return methodNotAllowed(method, url);
          return listOrders(url.searchParams, ofCustomer);
        }
        if (rest.length === 6) {
          if (method !== "GET") return methodNotAllowed(method, url);
          const order = orders.find((o) => o.orderId === rest[5] && ofCustomer(o));
          if (!order) return notFound(`accounts/${accountId}/customers/${customerId}/orders/${rest[5]}`);
          return { status: 200, body: orderView(order) };
        }
      }
    }
    return ionError(404, "NOT_FOUND", `no route for ${method} ${url.pathname}`);
  }

  function methodNotAllowed(method, url) {
    return ionError(405, "METHOD_NOT_ALLOWED", `${method} is not supported on ${url.pathname}`);
  }

  async function readBody(req) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8");
    const type = (req.headers["content-type"] ?? "").toLowerCase();
    const out = { text };
    if (type.includes("application/x-www-form-urlencoded")) {
      out.form = Object.fromEntries(new URLSearchParams(text));
    } else if (text.trim()) {
      try {
        out.json = JSON.parse(text);
      } catch {
        out.invalidJson = true;
      }
    }
    out.form ??= out.json && typeof out.json === "object" ? out.json : {};
    return out;
  }

  const server = http.createServer(async (req, res) => {
    let answer;
    try {
      const url = new URL(req.url, "http://127.0.0.1");
      const body = await readBody(req);
      requests.push({ method: req.method, path: url.pathname + url.search, body: body.text ? (body.json ?? body.form) : undefined });
      answer = await route(req, url, body);
    } catch (e) {
      answer = ionError(500, "INTERNAL_ERROR", `Internal Server Error: ${e.message}`);
    }
    if (answer.loseAnswer) {
      res.socket?.destroy();
      return;
    }
    const headers = { "Cache-Control": "no-store", ...(answer.headers ?? {}) };
    if (answer.status === 204 || answer.body === undefined) {
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) });
    res.end(payload);
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    accountId,
    partner,
    refreshToken: initialRefreshToken,
    orders,
    violations,
    carts,
    requests,
    expireAccessTokens() {
      for (const entry of accessTokens.values()) entry.expiresAt = 0;
    },
    loseNextCheckoutAnswer() {
      loseAnswer = true;
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
