//! The `details` of each error code: one declared shape per code. The package's TypeScript
//! (`ts/errors.generated.d.ts`, a discriminated union on `code`) is generated from this table, and the
//! JavaScript boundary checks every `CartError` it throws against it in debug builds, so the types and
//! what the engine sends cannot drift apart.

use super::ErrorCode;
use serde_json::Value;

/// One member of a code's `details`: its name, its TypeScript type, what it says. Members are optional
/// unless `required` (one code can be raised in several places, not all of which know everything).
pub struct Detail {
    pub name: &'static str,
    pub ts: &'static str,
    pub required: bool,
    pub doc: &'static str,
}

const fn opt(name: &'static str, ts: &'static str, doc: &'static str) -> Detail {
    Detail {
        name,
        ts,
        required: false,
        doc,
    }
}

const fn req(name: &'static str, ts: &'static str, doc: &'static str) -> Detail {
    Detail {
        name,
        ts,
        required: true,
        doc,
    }
}

/// Every code, in the order of the enum (the order of the generated union).
pub const ALL: [ErrorCode; 25] = [
    ErrorCode::InvalidCatalog,
    ErrorCode::InvalidRequest,
    ErrorCode::InvalidItem,
    ErrorCode::InvalidQuantity,
    ErrorCode::IncompatibleItems,
    ErrorCode::InvalidPromoCode,
    ErrorCode::TooManyCodes,
    ErrorCode::ItemNotFound,
    ErrorCode::TooManyLines,
    ErrorCode::CartNotActive,
    ErrorCode::CartExpired,
    ErrorCode::ProductUnavailable,
    ErrorCode::ConcurrentModification,
    ErrorCode::AmountOutOfRange,
    ErrorCode::InvalidSnapshot,
    ErrorCode::PriceChanged,
    ErrorCode::CheckoutFailed,
    ErrorCode::InvalidResponse,
    ErrorCode::StorageUnavailable,
    ErrorCode::Offline,
    ErrorCode::Timeout,
    ErrorCode::NetworkError,
    ErrorCode::ListenerLoop,
    ErrorCode::NotInitialized,
    ErrorCode::CartFreed,
];

/// Which action of a batch (`apply`, an `actions` array) was refused: on every code a batch can raise.
pub const ACTION_INDEX: Detail = opt(
    "actionIndex",
    "number",
    "Which action of a batch (`apply`) was refused, from 0.",
);

/// Whether `code` is a `CartError`'s (thrown by calls, carried by `error` events) rather than one only
/// a failed checkout carries (`CheckoutError`, whose `details` come from remote platforms).
pub fn is_cart_code(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::PriceChanged
            | ErrorCode::CheckoutFailed
            | ErrorCode::InvalidResponse
            | ErrorCode::Offline
            | ErrorCode::Timeout
            | ErrorCode::NetworkError
    )
}

const LINE: Detail = opt("lineItemId", "string", "The line the change named.");
const PRODUCT: Detail = opt("productId", "string", "The product given or concerned.");
const VARIANT: Detail = opt("variantId", "number | null", "The variant given or concerned.");
const MAX: Detail = opt("max", "number", "The limit that would be passed.");

const INVALID_CATALOG: &[Detail] = &[
    opt(
        "path",
        "string",
        "The JSON path of the (first) problem, e.g. `products[3].prices`.",
    ),
    opt(
        "errors",
        "readonly { readonly path: string; readonly message: string }[]",
        "Every problem found, when there are several.",
    ),
    opt(
        "field",
        "string",
        "The option that held the catalog (`catalog`), when the cached one was unusable.",
    ),
];

const INVALID_REQUEST: &[Detail] = &[
    opt(
        "field",
        "string",
        "The field or option at fault, e.g. `quantity`, `shippingAddress.country`.",
    ),
    opt("value", "JsonValue", "The value refused."),
    opt("reason", "string", "Why, where the message alone does not say."),
    opt(
        "missing",
        "JsonValue",
        "What is missing (checkout: the fields or catalog ids a platform needs).",
    ),
    opt(
        "cartVersion",
        "number",
        "The cart's version, when a view of another version was given.",
    ),
    opt("viewVersion", "number", "The given view's version."),
    PRODUCT,
    opt("cartId", "string", "The cart concerned."),
];

const INVALID_ITEM: &[Detail] = &[
    opt(
        "productId",
        "string | null",
        "The product given (`null` when only a SKU was).",
    ),
    opt("sku", "string", "The SKU given."),
    VARIANT,
];

const INVALID_QUANTITY: &[Detail] = &[
    LINE,
    opt("min", "number", "The smallest quantity allowed."),
    opt("max", "number", "The largest quantity allowed."),
    opt("requested", "number", "The quantity asked for."),
];

const INCOMPATIBLE_ITEMS: &[Detail] = &[opt("rule", "number", "The index of the catalog rule that would break.")];

const INVALID_PROMO_CODE: &[Detail] = &[opt("code", "string", "The code given.")];

/// `TOO_MANY_CODES`, `TOO_MANY_LINES`, `AMOUNT_OUT_OF_RANGE`.
const LIMITED: &[Detail] = &[MAX];

const ITEM_NOT_FOUND: &[Detail] = &[LINE];

const CART_NOT_ACTIVE: &[Detail] = &[opt(
    "status",
    "CartStatus",
    "The cart's status (`ordered`, `merged`); absent when there is no cart at all.",
)];

const CART_EXPIRED: &[Detail] = &[opt("expiresAt", "Rfc3339", "When the cart expired.")];

const PRODUCT_UNAVAILABLE: &[Detail] = &[
    LINE,
    PRODUCT,
    VARIANT,
    opt(
        "currency",
        "string",
        "The cart's currency, when the product has no price in it.",
    ),
];

/** A `cause` that is itself a refusal: the error a change or a stored cart met. */
const CAUSE: &str = "{ readonly code: CartErrorCode; readonly message: string; readonly details: JsonValue }";

const CONCURRENT_MODIFICATION: &[Detail] = &[
    opt(
        "expectedVersion",
        "number",
        "The version the call expected (`expectedVersion`).",
    ),
    opt("version", "number", "The cart's version."),
    opt(
        "cause",
        CAUSE,
        "Event: why the change could not be replayed on what another tab committed first.",
    ),
    opt("cartId", "string", "Event: the cart the refused change was made on."),
    opt("at", "Rfc3339", "Event: when the refused change was made."),
];

const INVALID_SNAPSHOT: &[Detail] = &[
    opt(
        "reason",
        concat!(
            "\"notJson\" | \"notASnapshot\" | \"badChecksum\" | \"newerSchema\" | \"badCart\"",
            " | \"invalidCart\" | \"notAString\""
        ),
        "What is wrong with the stored value.",
    ),
    opt("schema", "number", "The stored schema (`newerSchema`)."),
    opt("supported", "number", "The newest schema this build reads."),
    opt("cause", CAUSE, "Why the stored cart was refused (`invalidCart`)."),
    opt("key", "string", "The storage key read."),
    opt("corruptKey", "string", "Where the unreadable value was kept."),
];

const STORAGE_UNAVAILABLE: &[Detail] = &[
    opt("key", "string", "The storage key."),
    req(
        "operation",
        "\"open\" | \"read\" | \"write\" | \"commit\"",
        "What failed.",
    ),
    opt("cause", "string", "What the storage threw."),
];

const LISTENER_LOOP: &[Detail] = &[req(
    "limit",
    "number",
    "How many rounds of change events ran before the loop was stopped.",
)];

/// Codes whose details say nothing more (misuse the message says all about).
const NONE: &[Detail] = &[];

/// Checkout failures: their details are what the platform answered, not declared here.
const REMOTE: &[Detail] = &[];

/// The declared members of `code`'s `details` (besides [`ACTION_INDEX`]).
pub fn declared(code: ErrorCode) -> &'static [Detail] {
    use ErrorCode::*;
    match code {
        InvalidCatalog => INVALID_CATALOG,
        InvalidRequest => INVALID_REQUEST,
        InvalidItem => INVALID_ITEM,
        InvalidQuantity => INVALID_QUANTITY,
        IncompatibleItems => INCOMPATIBLE_ITEMS,
        InvalidPromoCode => INVALID_PROMO_CODE,
        TooManyCodes | TooManyLines | AmountOutOfRange => LIMITED,
        ItemNotFound => ITEM_NOT_FOUND,
        CartNotActive => CART_NOT_ACTIVE,
        CartExpired => CART_EXPIRED,
        ProductUnavailable => PRODUCT_UNAVAILABLE,
        ConcurrentModification => CONCURRENT_MODIFICATION,
        InvalidSnapshot => INVALID_SNAPSHOT,
        StorageUnavailable => STORAGE_UNAVAILABLE,
        ListenerLoop => LISTENER_LOOP,
        NotInitialized | CartFreed => NONE,
        PriceChanged | CheckoutFailed | InvalidResponse | Offline | Timeout | NetworkError => REMOTE,
    }
}

/// The members of `details` that `code` does not declare, and the required ones it lacks (empty for
/// codes only checkout failures carry: their details come from remote platforms).
pub fn mismatches(code: ErrorCode, details: &Value) -> Vec<String> {
    if !is_cart_code(code) {
        return Vec::new();
    }
    let declared = declared(code);
    let empty = serde_json::Map::new();
    let map = match details {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return vec!["details is not an object".to_string()],
    };
    let extra = map
        .keys()
        .filter(|k| k.as_str() != ACTION_INDEX.name && !declared.iter().any(|d| d.name == k.as_str()))
        .map(|k| format!("{code}: undeclared details.{k}"));
    let lacking = declared
        .iter()
        .filter(|d| d.required && !map.contains_key(d.name))
        .map(|d| format!("{code}: details.{} missing", d.name));
    extra.chain(lacking).collect()
}

/// The codes a SPEC-B server answers besides the engine's error and issue codes: DESIGN §8's and
/// cart-server's (docs/server.md; a server test checks that it answers no other).
pub const SERVER_CODES: [&str; 18] = [
    "CART_NOT_FOUND",
    "CART_SECRET_REQUIRED",
    "CHECKOUT_IN_PROGRESS",
    "DATABASE_BUSY",
    "IDEMPOTENCY_KEY_REUSED",
    "INTERNAL_ERROR",
    "INVALID_CART_ID",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
    "ORDER_NOT_FOUND",
    "PAYLOAD_TOO_LARGE",
    "PAYMENT_FAILED",
    "RATE_LIMITED",
    "REQUEST_TIMEOUT",
    "UNSUPPORTED_MEDIA_TYPE",
    "UPSTREAM_INVALID_RESPONSE",
    "UPSTREAM_OUTCOME_UNKNOWN",
    "UPSTREAM_REFUSED",
];

/// Every code a `CheckoutError` can have, sorted: the engine's error codes, the view's issue codes (a
/// cart refused for its own problems) and [`SERVER_CODES`]. A server's answer with any other code
/// becomes `CHECKOUT_FAILED` with the code in `details.remoteCode`.
pub fn checkout_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = ALL
        .iter()
        .map(|c| c.as_str())
        .chain(crate::pricing::IssueCode::ALL.iter().map(|c| c.as_str()))
        .chain(SERVER_CODES)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Whether a checkout rejects with `code` as it is (see [`checkout_codes`]).
pub fn is_checkout_code(code: &str) -> bool {
    ALL.iter().any(|c| c.as_str() == code)
        || crate::pricing::IssueCode::ALL.iter().any(|c| c.as_str() == code)
        || SERVER_CODES.contains(&code)
}

/// The TypeScript declarations of `CartErrorCode`, `CartErrorDetails` and the `CartError` union, and
/// the closed `CheckoutErrorCode` union.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src/error/details.rs: `UPDATE_TYPES=1 cargo test --lib typescript` rewrites it.\n\n",
    );
    out.push_str(
        "/** The stable codes of thrown errors (DESIGN §6) and of `error` events. */\nexport type CartErrorCode =\n",
    );
    let codes: Vec<ErrorCode> = ALL.iter().copied().filter(|c| is_cart_code(*c)).collect();
    for (i, code) in codes.iter().enumerate() {
        let end = if i + 1 == codes.len() { ";" } else { "" };
        out.push_str(&format!("  | \"{code}\"{end}\n"));
    }
    out.push_str(
        "\n/**\n * `details` per code: one shape each (members optional unless typed otherwise), and on every\n \
         * code a batch can raise, `actionIndex`.\n */\nexport interface CartErrorDetails {\n",
    );
    for code in &codes {
        out.push_str(&format!("  readonly {code}: {{\n"));
        for d in declared(*code).iter().chain(std::iter::once(&ACTION_INDEX)) {
            let optional = if d.required { "" } else { "?" };
            out.push_str(&format!(
                "    /** {} */\n    readonly {}{optional}: {};\n",
                d.doc, d.name, d.ts
            ));
        }
        out.push_str("  };\n");
    }
    out.push_str(
        "}\n\n/** The error of one code: `details` typed by `code`. */\n\
         export interface CartErrorOf<C extends CartErrorCode> extends Error {\n  readonly name: \"CartError\";\n  \
         readonly code: C;\n  readonly details: CartErrorDetails[C];\n}\n\n\
         /**\n * What every method throws (and `error` events carry): a real `Error` with `name === \"CartError\"`,\n \
         * a discriminated union on `code`: `if (e.code === \"ITEM_NOT_FOUND\") e.details.lineItemId`.\n \
         * `NOT_INITIALIZED` (a call before `init()`) and `CART_FREED` (a call after `free()`) are thrown by the\n \
         * package's JavaScript.\n */\n\
         export type CartError = { [C in CartErrorCode]: CartErrorOf<C> }[CartErrorCode];\n",
    );
    out.push_str(
        "\n/**\n * The codes of `CheckoutError`: the engine's (`NETWORK_ERROR`, `TIMEOUT`, `OFFLINE` with status 0,\n \
         * `CHECKOUT_FAILED`, `INVALID_RESPONSE`, `PRICE_CHANGED`, and every `CartErrorCode`), the view's issue codes\n \
         * (a cart refused for its own problems, status 0) and a SPEC-B server's (`PAYMENT_FAILED` 402,\n \
         * `INVENTORY_UNAVAILABLE` 409, `RATE_LIMITED` 429, ...). A server's answer with any other code is\n \
         * `CHECKOUT_FAILED` with that code in `details.remoteCode`.\n */\nexport type CheckoutErrorCode =\n",
    );
    let codes = checkout_codes();
    for (i, code) in codes.iter().enumerate() {
        let end = if i + 1 == codes.len() { ";" } else { "" };
        out.push_str(&format!("  | \"{code}\"{end}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_lists_every_code_once() {
        let mut seen: Vec<&str> = ALL.iter().map(|c| c.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), ALL.len());
    }

    #[test]
    fn mismatches_name_undeclared_and_missing_members() {
        assert!(mismatches(
            ErrorCode::ItemNotFound,
            &json!({"lineItemId": "li_1", "actionIndex": 2})
        )
        .is_empty());
        assert_eq!(
            mismatches(ErrorCode::ItemNotFound, &json!({"id": "li_1"})),
            vec!["ITEM_NOT_FOUND: undeclared details.id"]
        );
        assert_eq!(
            mismatches(ErrorCode::StorageUnavailable, &Value::Null),
            vec!["STORAGE_UNAVAILABLE: details.operation missing"]
        );
        assert!(mismatches(ErrorCode::CheckoutFailed, &json!({"anything": 1})).is_empty());
    }

    #[test]
    fn checkout_codes_are_closed() {
        assert!(is_checkout_code("PAYMENT_FAILED") && is_checkout_code("EMPTY_CART") && is_checkout_code("TIMEOUT"));
        assert!(!is_checkout_code("PRICE_CHANGD"));
        assert!(checkout_codes().iter().all(|c| is_checkout_code(c)));
    }
}
