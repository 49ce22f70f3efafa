// Generated from the Rust types (src/typescript.rs, ts-rs): `UPDATE_TYPES=1 cargo test --lib typescript`
// rewrites it. Edit the Rust types and their doc comments, not this file.

// ---------------------------------------------------------------- catalog (DESIGN §4–5, docs/PRICING.md)

/**
 * The catalog JSON (DESIGN §4, docs/PRICING.md), as read before it is validated.
 */
export type Catalog = {
  version?: string | undefined;
  pricing?: PricingSettings | undefined;
  currencies?: { [key in string]: CurrencySettings } | undefined;
  taxCategories?: Array<TaxCategory> | undefined;
  products?: Array<CatalogProduct> | undefined;
  rules?: Array<CatalogRule> | undefined;
  shippingMethods?: Array<ShippingMethod> | undefined;
  promotions?: Array<Promotion> | undefined;
};

/**
 * The catalog's `pricing`: every field optional; the profile fills the gaps.
 */
export type PricingSettings = {
  profile?: PricingProfile | undefined;
  pricesIncludeTax?: boolean | undefined;
  roundingMode?: RoundingMode | undefined;
  taxRoundingMode?: RoundingMode | undefined;
  taxCalculation?: TaxCalculation | undefined;
  allocation?: Allocation | undefined;
  conditionBasis?: ConditionBasis | undefined;
  taxRoundingTarget?: TaxRoundingTarget | undefined;
  discountTax?: DiscountTax | undefined;
};

/**
 * A named set of rule choices (docs/PRICING.md lists each profile's rules with their sources).
 */
export type PricingProfile = "default" | "commercetools" | "shopware" | "sylius";

/**
 * How an exact amount is rounded to a whole number of minor units. The names are Java's and
 * commercetools' (`HalfUp` = ties away from zero), not dinero.js's (whose `halfUp` ties toward +∞ and
 * whose `up` is our `ceiling`); docs/PRICING.md has the mapping.
 *
 * Negative amounts: the `half*` modes other than `halfCeiling`/`halfFloor`, and `up`/`down`, are
 * symmetric — they round the magnitude and put the sign back (-2.5 `halfUp` → -3). `ceiling`,
 * `floor`, `halfCeiling` and `halfFloor` are directional (-2.5 `halfCeiling` → -2). The engine
 * computes discounts and taxes as positive magnitudes, so `down` on a discount is the smaller discount.
 */
export type RoundingMode =
  | "halfEven"
  | "halfUp"
  | "halfDown"
  | "halfOdd"
  | "halfCeiling"
  | "halfFloor"
  | "up"
  | "down"
  | "ceiling"
  | "floor";

/**
 * Where tax is computed and rounded.
 */
export type TaxCalculation = "lineItem" | "unitPrice" | "perRate";

/**
 * How an amount is split over targets when it does not divide evenly.
 */
export type Allocation = "largestRemainder" | "firstTargets";

/**
 * What a promotion's cart conditions (`minSubtotal`, `subtotalOf`) are measured on.
 */
export type ConditionBasis = "beforePromotions" | "afterEarlierPromotions";

/**
 * Which figure of a gross amount is rounded.
 */
export type TaxRoundingTarget = "net" | "tax";

/**
 * How a discount on items is taxed.
 */
export type DiscountTax = "lines" | "rateShares";

/**
 * Per-currency settings; today only cash rounding (`{"CHF": {"cashRounding": "0.05"}}`).
 */
export type CurrencySettings = { cashRounding?: DecimalString | undefined };

export type TaxCategory = { id: string; name?: string | undefined; rates?: Array<TaxRate> | undefined };

/**
 * A rate with no `country` applies to every country not listed explicitly.
 */
export type TaxRate = {
  country?: string | undefined;
  rate: DecimalString;
  name?: string | undefined;
  /**
   * Whether amounts taxed at this rate include it; absent: `pricing.pricesIncludeTax` decides
   * (commercetools `includedInPrice`, Sylius `isIncludedInPrice`).
   */
  includedInPrice?: boolean | undefined;
  /**
   * Parts of the rate (state + county tax); they must add up to `rate`. The tax is computed at
   * `rate` and split over the parts (commercetools `subRates`, Shopware's partial tax rules).
   */
  subRates?: Array<SubRate> | undefined;
};

/**
 * A named part of a tax rate.
 */
export type SubRate = { name: string; rate: DecimalString };

export type CatalogProduct = {
  id: string;
  /** Defaults to the product id. */
  sku?: string | undefined;
  name: string;
  /** Free text: the seeds use `product`, `device`, `plan`, `addon`, `service`. */
  kind?: string | undefined;
  vendor?: string | undefined;
  taxCategory: string;
  shippable?: boolean | undefined;
  prices?: Array<CatalogPrice> | undefined;
  /** Known stock; absent: not tracked. */
  stock?: number | undefined;
  minQuantity?: number | undefined;
  maxQuantity?: number | undefined;
  available?: boolean | undefined;
  /** Line attributes that must be set before checkout (a licence's `domain`). */
  requiredAttributes?: Array<string> | undefined;
  metadata?: { [key in string]: JsonValue } | undefined;
  variants?: Array<CatalogVariant> | undefined;
  description?: string | undefined;
  /** The weight of one unit, for weight-based shipping (any unit, used consistently). */
  weight?: DecimalString | undefined;
  /**
   * The product's (master variant's) id on each platform it is ordered from, by protocol name:
   * `{"shopware": "<product uuid>", "sylius-shop": "<variant code>"}` (docs/sync.md).
   */
  external?: { [key in string]: string } | undefined;
  /**
   * The delivery the product ships in (Medusa's shipping profile): the cart's shippable lines are
   * grouped by profile, each group shipped and priced by a method of its profile. Absent: the
   * default profile, whose methods have no `shippingProfile` either.
   */
  shippingProfile?: string | undefined;
};

/**
 * A buyable variant. The product itself is the master variant (`variantId` null).
 */
export type CatalogVariant = {
  id: number;
  sku: string;
  name?: string | undefined;
  /** Own prices; when absent the product's prices apply. */
  prices?: Array<CatalogPrice> | undefined;
  stock?: number | undefined;
  available?: boolean | undefined;
  /** Descriptive attributes of the variant (size, colour) for display. */
  attributes?: { [key in string]: JsonValue } | undefined;
  /** Overrides the product's weight. */
  weight?: DecimalString | undefined;
  /** This variant's id on each platform it is ordered from, by protocol name (docs/sync.md). */
  external?: { [key in string]: string } | undefined;
};

/**
 * A price candidate. The pricing pipeline picks the most specific valid one (DESIGN §3 step 1).
 */
export type CatalogPrice = {
  currency: string;
  amount: DecimalString;
  /** Quantity tier: this price applies to the whole line from this quantity on. */
  minQuantity?: number | undefined;
  customerGroup?: string | undefined;
  country?: string | undefined;
  validFrom?: Rfc3339 | undefined;
  validUntil?: Rfc3339 | undefined;
  /**
   * The lowest unit price promotions may bring a unit to (Sylius channel pricing `minimumPrice`).
   */
  minimumPrice?: DecimalString | undefined;
};

/**
 * Selects lines. Every list that is given (non-empty) must match; an empty match selects all lines.
 */
export type Match = {
  productIds?: Array<string> | undefined;
  skus?: Array<string> | undefined;
  kinds?: Array<string> | undefined;
  vendors?: Array<string> | undefined;
  /** Promotions only: the line's unit price (before promotions) is at least this. */
  minUnitPrice?: DecimalString | undefined;
  /** Promotions only: the line's unit price (before promotions) is at most this. */
  maxUnitPrice?: DecimalString | undefined;
};

/**
 * Cart composition rules (seed 001: device / plan / add-on compatibility).
 */
export type CatalogRule =
  | { "type": "requires"; when: Match; requires: Match; message?: string | undefined }
  | { "type": "exclusive"; metadataKey: string; message?: string | undefined }
  | { "type": "maxLines"; match: Match; max: number; message?: string | undefined };

export type ShippingMethod = {
  id: string;
  name: string;
  taxCategory: string;
  /** How the shipping price is taxed; `category` uses `taxCategory`. */
  taxType?: ShippingTax | undefined;
  default?: boolean | undefined;
  deliveryDays?: DeliveryDays | undefined;
  rates?: Array<ShippingRate> | undefined;
  /** The method's id (commercetools: key) on each platform, by protocol name. */
  external?: { [key in string]: string } | undefined;
  /**
   * The shipping profile whose deliveries this method ships (a product's `shippingProfile`);
   * absent: the default profile.
   */
  shippingProfile?: string | undefined;
};

/**
 * How a shipping price is taxed (Shopware `taxType`: fixed / auto / highest).
 */
export type ShippingTax = "category" | "proportional" | "highest";

export type DeliveryDays = { min: number; max: number };

/**
 * A price for a currency and (optionally) a list of countries. No `countries` = every country.
 */
export type ShippingRate = {
  currency: string;
  countries?: Array<string> | undefined;
  price: DecimalString;
  /** Free from this item total (after item discounts, `>=`). */
  freeAbove?: DecimalString | undefined;
  /** Cart-value tiers: the highest `minCartValue` reached sets the price. */
  tiers?: Array<ShippingTier> | undefined;
  /** Weight tiers: the highest `minWeight` reached by the shipped weight sets the price. */
  weightTiers?: Array<WeightTier> | undefined;
  /** Added for every shipped unit (Sylius `per_unit_rate`). */
  pricePerUnit?: DecimalString | undefined;
  /** The rate does not serve carts whose shipped weight exceeds this. */
  maxWeight?: DecimalString | undefined;
};

export type ShippingTier = { minCartValue: DecimalString; price: DecimalString };

/**
 * A price from a shipped weight on (in the catalog's weight unit, the one of `weight`).
 */
export type WeightTier = { minWeight: DecimalString; price: DecimalString };

export type Promotion = {
  id: string;
  label?: string | undefined;
  /** No code = automatic. */
  code?: string | undefined;
  /** Higher runs first; ties by id. */
  priority?: number | undefined;
  stacking?: Stacking | undefined;
  /** If it applies, it is the only promotion that applies, whatever its priority (Sylius). */
  exclusive?: boolean | undefined;
  /**
   * Of the promotions sharing a group, only the one giving the largest discount applies
   * (commercetools discount groups, best deal); the group runs at its first member's place.
   */
  group?: string | undefined;
  validFrom?: Rfc3339 | undefined;
  validUntil?: Rfc3339 | undefined;
  /** Required when the value or a condition carries an amount. */
  currency?: string | undefined;
  conditions?: Conditions | undefined;
  target: PromotionTarget;
  value: PromotionValue;
};

export type Stacking = "stack" | "stopAfter";

export type Conditions = {
  /**
   * Compared with the item subtotal (`pricing.conditionBasis`: before any promotion, or as the
   * earlier promotions left it).
   */
  minSubtotal?: DecimalString | undefined;
  /** Compared with the summed quantity of the lines the target matches. */
  minQuantity?: number | undefined;
  customerGroups?: Array<string> | undefined;
  countries?: Array<string> | undefined;
  /** A predicate on the cart, independent of the target. */
  when?: Predicate | undefined;
};

/**
 * A condition on the cart as a whole: `{"all": [...]}`, `{"contains": {"match": {...}}}`, ...
 */
export type Predicate =
  | { "all": Array<Predicate> }
  | { "any": Array<Predicate> }
  | { "not": Predicate }
  | { "contains": Contains }
  | { "subtotalOf": SubtotalOf }
  | { "customerGroup": Array<string> }
  | { "emailDomain": Array<string> }
  | { "country": Array<string> };

export type Contains = { match?: Match | undefined; minQuantity?: number | undefined };

export type SubtotalOf = { match?: Match | undefined; atLeast: DecimalString };

export type PromotionTarget =
  | {
    "type": "items";
    match?: Match | undefined;
    /**
     * At most this many units of each line are discounted, the most expensive first
     * (Medusa `max_quantity`).
     */
    maxUnitsPerLine?: number | undefined;
  }
  | { "type": "shipping" }
  | { "type": "total" }
  | {
    "type": "gift";
    productId: string;
    variantId?: number | undefined;
    quantity?: number | undefined;
  }
  | {
    "type": "multiBuy";
    match?: Match | undefined;
    trigger: number;
    discounted: number;
    maxOccurrence?: number | undefined;
    selection?: Selection | undefined;
  }
  | {
    "type": "buyXGetY";
    buy: Match;
    buyQuantity: number;
    get: Match;
    getQuantity: number;
    maxOccurrence?: number | undefined;
    selection?: Selection | undefined;
  };

export type Selection = "cheapest" | "mostExpensive";

export type PromotionValue =
  | {
    "type": "percentage";
    percent: DecimalString;
    per?: PercentPer | undefined;
    /**
     * The most the percentage may take off the targets together; above it, this amount is
     * spread over them instead (Shopware `maxValue`).
     */
    maxAmount?: DecimalString | undefined;
  }
  | { "type": "absolute"; amount: DecimalString; distribution?: Distribution | undefined }
  | { "type": "fixedPrice"; amount: DecimalString };

/**
 * What a percentage is taken of and where it is rounded.
 */
export type PercentPer = "line" | "unit" | "targets";

export type Distribution = "proportionate" | "even" | "each";

// ---------------------------------------------------------------- actions (DESIGN §6)

/**
 * An update action (DESIGN §6; names follow commercetools): an element of `cart.apply([…])`. In
 * Rust, read one from JSON with [`Action::from_value`].
 */
export type CartActionData =
  | {
    "action": "addLineItem";
    productId?: string | undefined;
    sku?: string | undefined;
    variantId?: number | null | undefined;
    quantity?: number | undefined;
    attributes?: Attributes | undefined;
  }
  | { "action": "removeLineItem"; lineItemId: string; quantity?: number | undefined }
  | { "action": "changeLineItemQuantity"; lineItemId: string; quantity: number }
  | { "action": "setLineItemAttributes"; lineItemId: string; attributes: Attributes }
  | {
    "action": "addCustomLineItem";
    name: string;
    amount: DecimalString;
    taxCategory: string;
    quantity?: number | undefined;
    kind?: CustomLineKind | undefined;
  }
  | { "action": "removeCustomLineItem"; id: string }
  | { "action": "addDiscountCode"; code: string }
  | { "action": "removeDiscountCode"; code: string }
  | { "action": "setShippingAddress"; address?: Address | null | undefined }
  | { "action": "setBillingAddress"; address?: Address | null | undefined }
  | {
    "action": "setShippingMethod";
    shippingMethodId?: string | null | undefined;
    shippingProfile?: string | undefined;
  }
  | { "action": "setPaymentMethod"; paymentMethodId?: string | null | undefined }
  | {
    "action": "setCustomer";
    customerId?: string | null | undefined;
    email?: string | null | undefined;
    customerGroup?: string | null | undefined;
  }
  | { "action": "setCountry"; country?: string | null | undefined }
  | { "action": "setLocale"; locale?: string | null | undefined }
  | { "action": "setCurrency"; currency: string }
  | { "action": "acknowledgePriceChanges" }
  | { "action": "clear" };

/**
 * A postal address (commercetools BaseAddress). Only `country` is required; it drives tax.
 */
export type Address = {
  country: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  company?: string | undefined;
  streetName?: string | undefined;
  streetNumber?: string | undefined;
  additionalStreetInfo?: string | undefined;
  postalCode?: string | undefined;
  city?: string | undefined;
  region?: string | undefined;
  state?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
};

export type CustomLineKind = "custom" | "credit";

// ---------------------------------------------------------------- the view (DESIGN §7): every amount an integer count of minor units of `currency`

export type CartView = {
  readonly id: string;
  readonly version: number;
  readonly status: CartStatus;
  readonly currency: string;
  readonly fractionDigits: number;
  /** The pricing profile whose rules priced this view (`pricing.profile`). */
  readonly pricingProfile: PricingProfile;
  readonly country: string | null;
  readonly locale: string | null;
  readonly customer: CustomerView;
  readonly createdAt: Rfc3339;
  readonly updatedAt: Rfc3339;
  readonly expiresAt: Rfc3339;
  readonly catalogVersion: string | null;
  readonly lineItems: ReadonlyArray<LineView>;
  readonly customLineItems: ReadonlyArray<CustomLineView>;
  readonly discountCodes: ReadonlyArray<CodeView>;
  readonly shippingAddress: Address | null;
  readonly billingAddress: Address | null;
  readonly paymentMethodId: string | null;
  /**
   * `null` when nothing in the cart ships (or the catalog has no shipping methods). With several
   * deliveries (products of several shipping profiles), the first of `deliveries`.
   */
  readonly shipping: ShippingView | null;
  /**
   * One per shipping profile among the cart's shippable lines that has a method, the default
   * profile first; `totals.shippingTotal` is their sum. `[]` or `[shipping]` unless the catalog
   * gives products a `shippingProfile`.
   */
  readonly deliveries: ReadonlyArray<ShippingView>;
  /**
   * The methods that serve the destination, with their price for this cart, so a UI can offer a choice.
   */
  readonly availableShippingMethods: ReadonlyArray<ShippingOption>;
  readonly totals: Totals;
  readonly issues: ReadonlyArray<Issue>;
  readonly canCheckout: boolean;
};

export type CartStatus = "active" | "ordered" | "merged";

export type CustomerView = { readonly id: string | null; readonly email: string | null; readonly group: string | null };

export type LineView = {
  /** `gift_<promotion id>` for a gift line. */
  readonly id: string;
  readonly productId: string;
  readonly variantId: number | null;
  readonly sku: string;
  readonly name: string;
  readonly kind: string;
  readonly vendor: string | null;
  readonly quantity: number;
  /**
   * The cart line's attributes, keys in sorted order (as the cart keeps them: copying the map is
   * cheaper than building a JSON object per line per price).
   */
  readonly attributes: Attributes;
  /** The selected unit price, rounded to the currency (catalog price terms). */
  readonly unitPrice: number;
  /** round(unit price × quantity). */
  readonly baseTotal: number;
  readonly discounts: ReadonlyArray<DiscountView>;
  /** The discount per unit, run-length encoded in unit order; `[]` without a discount. */
  readonly unitDiscounts: ReadonlyArray<UnitDiscount>;
  /** base total + discounts. */
  readonly total: number;
  readonly shippable: boolean;
  /** A gift a promotion adds while its conditions hold: not a cart line, not changeable. */
  readonly gift: boolean;
  readonly taxRate: string | null;
  readonly net: number;
  readonly tax: number;
  readonly gross: number;
};

export type DiscountView = {
  readonly promotionId: string;
  readonly label: string;
  /** Negative. */
  readonly amount: number;
};

export type UnitDiscount = {
  readonly quantity: number;
  /** Negative: the discount on each of these units. */
  readonly amount: number;
};

export type CustomLineView = {
  readonly id: string;
  readonly name: string;
  readonly kind: CustomLineKind;
  readonly quantity: number;
  /** Signed: negative for a credit. */
  readonly unitPrice: number;
  readonly total: number;
  readonly taxCategory: string;
  readonly taxRate: string | null;
  readonly net: number;
  readonly tax: number;
  readonly gross: number;
};

export type CodeView = {
  readonly code: string;
  readonly state: CodeState;
  /** `null` when the catalog no longer knows the code. */
  readonly promotionId: string | null;
  readonly label: string;
};

export type CodeState =
  | "applied"
  | "notApplicable"
  | "stoppedByPreviousDiscount"
  | "notActive"
  | "stoppedByExclusiveDiscount"
  | "stoppedByGroupBestDeal";

export type ShippingView = {
  readonly methodId: string;
  readonly name: string;
  /** After `freeAbove` and tiers, before shipping promotions. */
  readonly price: number;
  /** Negative (or 0). */
  readonly discount: number;
  readonly total: number;
  readonly taxRate: string | null;
  readonly net: number;
  readonly tax: number;
  readonly gross: number;
  readonly estimatedDelivery: DeliveryEstimate | null;
  /** The delivery's shipping profile; absent for the default one. */
  readonly shippingProfile?: string;
  /** The lines this delivery ships. */
  readonly lineItemIds: ReadonlyArray<string>;
};

export type DeliveryEstimate = {
  /** ISO 8601 calendar dates (UTC). */
  readonly min: string;
  readonly max: string;
};

export type ShippingOption = {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly default: boolean;
  readonly estimatedDelivery: DeliveryEstimate | null;
  /** The shipping profile whose delivery this method would ship; absent for the default one. */
  readonly shippingProfile?: string;
};

export type Totals = {
  /** Line base totals + custom line totals (catalog price terms). */
  readonly subtotal: number;
  /** Every discount, items and shipping (negative). */
  readonly discountTotal: number;
  /** The shipping price before shipping discounts. */
  readonly shippingTotal: number;
  readonly net: number;
  readonly taxTotal: number;
  readonly gross: number;
  readonly cashRounding: number;
  /** What the shopper pays: gross + cashRounding. */
  readonly total: number;
  /** One entry per rate, highest first. */
  readonly taxes: ReadonlyArray<TaxSummary>;
};

export type TaxSummary = { readonly rate: string; readonly name: string; readonly net: number; readonly tax: number };

/**
 * Something about the cart the shopper should know; errors block checkout (`canCheckout`).
 */
export type Issue = {
  readonly code: IssueCode;
  readonly severity: Severity;
  readonly lineItemId?: string;
  readonly message: string;
  readonly details?: JsonValue;
};

/**
 * The stable codes of `view.issues` (DESIGN §6 and docs/DESIGN-NOTES.md).
 */
export type IssueCode =
  | "EMPTY_CART"
  | "PRODUCT_UNAVAILABLE"
  | "INVENTORY_UNAVAILABLE"
  | "MISSING_ATTRIBUTE"
  | "REQUIRES_ITEM"
  | "NO_SHIPPING_METHOD"
  | "NO_TAX_RATE"
  | "CART_EXPIRED"
  | "INCOMPATIBLE_ITEMS"
  | "INVALID_QUANTITY"
  | "CART_NOT_ACTIVE"
  | "PRICE_CHANGED"
  | "PROMO_CODE_NOT_APPLICABLE";

export type Severity = "error" | "warning";

/**
 * What `merge` did with the other cart's content.
 */
export type MergeReport = {
  /** Lines of the other cart that could not be taken over, with the reason. */
  readonly skipped: ReadonlyArray<SkippedLine>;
  /** Discount codes that could not be taken over. */
  readonly skippedCodes: ReadonlyArray<string>;
};

export type SkippedLine = { readonly lineItemId: string; readonly code: CartErrorCode; readonly message: string };
