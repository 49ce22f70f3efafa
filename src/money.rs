//! Money arithmetic (DESIGN §2).
//!
//! Every amount the engine hands out is an `i64` count of minor units (`1999` = 19.99 EUR), and every
//! operation on those counts is checked: an amount beyond `i64` is refused with `AMOUNT_OUT_OF_RANGE`
//! instead of silently wrapping around. Catalog amounts arrive as decimal strings in major units and are
//! kept as exact [`Decimal`]s until they are rounded to minor units with an explicit [`RoundingMode`].
//! There is no floating point anywhere in here: binary floats cannot represent 0.10 exactly, and a cart
//! total that is off by one cent between the browser and the server is a bug report.

use crate::error::{CartError, Result};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// The ISO 4217 minor units ("fraction digits") of a currency: `Some(2)` for EUR, `Some(0)` for JPY,
/// `Some(3)` for BHD, `None` for a code that is not an active ISO 4217 currency.
///
/// The table holds every active ISO 4217 code that is an actual means of payment (the precious metals,
/// SDR, test and bond-market units have no minor unit and are not prices a cart can be in). The match
/// is exact and case-sensitive: ISO codes are upper case, and accepting `"eur"` here would let two
/// spellings of one currency into carts and catalogs that compare currencies as strings.
pub fn fraction_digits(code: &str) -> Option<u32> {
    match code {
        // No minor unit in circulation.
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => Some(0),
        // Dinars and rials divided into 1000 fils / baisa / millimes / dirhams.
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => Some(3),
        // Units of account (Chilean Unidad de Fomento, Uruguayan Unidad Previsional).
        "CLF" | "UYW" => Some(4),
        // Everything else that is active has two digits.
        "AED" | "AFN" | "ALL" | "AMD" | "ANG" | "AOA" | "ARS" | "AUD" | "AWG" | "AZN" | "BAM" | "BBD" | "BDT"
        | "BGN" | "BMD" | "BND" | "BOB" | "BOV" | "BRL" | "BSD" | "BTN" | "BWP" | "BYN" | "BZD" | "CAD" | "CDF"
        | "CHE" | "CHF" | "CHW" | "CNY" | "COP" | "COU" | "CRC" | "CUC" | "CUP" | "CVE" | "CZK" | "DKK" | "DOP"
        | "DZD" | "EGP" | "ERN" | "ETB" | "EUR" | "FJD" | "FKP" | "GBP" | "GEL" | "GHS" | "GIP" | "GMD" | "GTQ"
        | "GYD" | "HKD" | "HNL" | "HTG" | "HUF" | "IDR" | "ILS" | "INR" | "IRR" | "JMD" | "KES" | "KGS" | "KHR"
        | "KPW" | "KYD" | "KZT" | "LAK" | "LBP" | "LKR" | "LRD" | "LSL" | "MAD" | "MDL" | "MGA" | "MKD" | "MMK"
        | "MNT" | "MOP" | "MRU" | "MUR" | "MVR" | "MWK" | "MXN" | "MXV" | "MYR" | "MZN" | "NAD" | "NGN" | "NIO"
        | "NOK" | "NPR" | "NZD" | "PAB" | "PEN" | "PGK" | "PHP" | "PKR" | "PLN" | "QAR" | "RON" | "RSD" | "RUB"
        | "SAR" | "SBD" | "SCR" | "SDG" | "SEK" | "SGD" | "SHP" | "SLE" | "SOS" | "SRD" | "SSP" | "STN" | "SVC"
        | "SYP" | "SZL" | "THB" | "TJS" | "TMT" | "TOP" | "TRY" | "TTD" | "TWD" | "TZS" | "UAH" | "USD" | "USN"
        | "UYU" | "UZS" | "VED" | "VES" | "WST" | "XCD" | "XCG" | "YER" | "ZAR" | "ZMW" | "ZWG" => Some(2),
        _ => None,
    }
}

/// Whether `code` is a currency the engine can price in (see [`fraction_digits`]).
pub fn is_known_currency(code: &str) -> bool {
    fraction_digits(code).is_some()
}

/// How an exact amount is rounded to a whole number of minor units. The names are Java's and
/// commercetools' (`HalfUp` = ties away from zero), not dinero.js's (whose `halfUp` ties toward +∞ and
/// whose `up` is our `ceiling`); docs/PRICING.md has the mapping.
///
/// Negative amounts: the `half*` modes other than `halfCeiling`/`halfFloor`, and `up`/`down`, are
/// symmetric — they round the magnitude and put the sign back (-2.5 `halfUp` → -3). `ceiling`,
/// `floor`, `halfCeiling` and `halfFloor` are directional (-2.5 `halfCeiling` → -2). The engine
/// computes discounts and taxes as positive magnitudes, so `down` on a discount is the smaller discount.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RoundingMode {
    /// Ties to the even neighbour (banker's rounding): the default, because over many lines the
    /// rounding errors cancel out instead of always leaning the same way.
    #[default]
    HalfEven,
    /// Ties away from zero (the "school" rounding many tax authorities prescribe; PHP's `round`).
    HalfUp,
    /// Ties toward zero.
    HalfDown,
    /// Ties to the odd neighbour.
    HalfOdd,
    /// Ties toward +∞ (JavaScript's `Math.round`, dinero.js `halfUp`).
    HalfCeiling,
    /// Ties toward −∞ (dinero.js `halfDown`).
    HalfFloor,
    /// Any fraction away from zero.
    Up,
    /// Any fraction toward zero (truncation).
    Down,
    /// Any fraction toward +∞.
    Ceiling,
    /// Any fraction toward −∞.
    Floor,
}

impl RoundingMode {
    /// Rounds to a whole number. Every mode but `halfOdd` is one rust_decimal strategy (the directional
    /// half modes pick theirs by sign).
    fn round(self, value: Decimal) -> Decimal {
        let negative = value.is_sign_negative();
        let strategy = match self {
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfDown => RoundingStrategy::MidpointTowardZero,
            RoundingMode::HalfCeiling if negative => RoundingStrategy::MidpointTowardZero,
            RoundingMode::HalfCeiling => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfFloor if negative => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfFloor => RoundingStrategy::MidpointTowardZero,
            RoundingMode::Up => RoundingStrategy::AwayFromZero,
            RoundingMode::Down => RoundingStrategy::ToZero,
            RoundingMode::Ceiling => RoundingStrategy::ToPositiveInfinity,
            RoundingMode::Floor => RoundingStrategy::ToNegativeInfinity,
            RoundingMode::HalfOdd => {
                let even = value.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
                let tie = (value - value.trunc()).abs() == Decimal::new(5, 1);
                return if tie {
                    // The even neighbour is the wrong one: step to the other side of the tie.
                    let step = if negative { -Decimal::ONE } else { Decimal::ONE };
                    if even.abs() > value.abs() {
                        value.trunc()
                    } else {
                        value.trunc().checked_add(step).unwrap_or(even)
                    }
                } else {
                    even
                };
            }
        };
        value.round_dp_with_strategy(0, strategy)
    }
}

/// The most fractional digits a [`Decimal`] can hold.
const MAX_SCALE: u32 = Decimal::MAX_SCALE;

/// Parses a catalog amount such as `"19.99"`, `"-0.5"` or `"0.012345"`.
///
/// The grammar is deliberately narrower than `Decimal::from_str`: an optional leading `-`, one or more
/// ASCII digits, and optionally a `.` followed by one or more digits. No `+`, no exponent, no
/// underscores, no surrounding spaces, no bare `.5` or `5.`, at most 28 fractional digits. A catalog is
/// a contract between systems, and a lenient parser would accept strings that another implementation
/// of the same contract reads differently (or rejects). Values that a `Decimal` cannot hold exactly
/// are rejected too, never rounded. The scale is kept as written (`"0.10"` has scale 2) so that
/// diagnostics can echo the amount back as the catalog spelled it. `"-0"` parses to (positive) zero.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((int_part, frac_part)) => (int_part, Some(frac_part)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) {
        return None;
    }
    if let Some(frac_part) = frac_part {
        if !all_digits(frac_part) || frac_part.len() > MAX_SCALE as usize {
            return None;
        }
    }
    // The grammar check above leaves only inputs rust_decimal reads the obvious way; `from_str_exact`
    // then refuses anything it would otherwise have to round.
    let mut value = Decimal::from_str_exact(s).ok()?;
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    Some(value)
}

/// Converts an amount in major units to minor units: `round(amount × 10^digits)` with `mode`.
///
/// Multiplying by a power of ten is done by moving the decimal point (adjusting the scale), so it is
/// exact; the only rounding is the one the caller asked for. `Err(AMOUNT_OUT_OF_RANGE)` if the result
/// does not fit an `i64`.
pub fn to_minor(amount: Decimal, digits: u32, mode: RoundingMode) -> Result<i64> {
    if amount.is_zero() {
        return Ok(0);
    }
    let mantissa = amount.mantissa();
    let scale = amount.scale();
    match scale.checked_sub(digits) {
        // Still fractional after the shift: round at the decimal point.
        Some(remaining) => {
            let shifted = Decimal::try_from_i128_with_scale(mantissa, remaining).map_err(|_| CartError::overflow())?;
            round_minor(shifted, mode)
        }
        // Fewer fractional digits than the currency: the result is an integer, no rounding at all.
        None => {
            let factor = 10i128.checked_pow(digits - scale).ok_or_else(CartError::overflow)?;
            let minor = mantissa.checked_mul(factor).ok_or_else(CartError::overflow)?;
            i64::try_from(minor).map_err(|_| CartError::overflow())
        }
    }
}

/// The exact decimal value of `minor` minor units: `from_minor(1999, 2)` is `19.99`, with scale
/// `digits` so it prints with the currency's number of places (`from_minor(1500, 3)` is `1.500`).
///
/// Exact for `digits <= 28`, which covers every currency (none has more than 4). Beyond that a
/// `Decimal` cannot hold the value; it is then rounded half-even to 28 places rather than panicking.
pub fn from_minor(minor: i64, digits: u32) -> Decimal {
    if let Ok(value) = Decimal::try_from_i128_with_scale(i128::from(minor), digits) {
        return value;
    }
    let Some(divisor) = digits
        .checked_sub(MAX_SCALE)
        .and_then(|shift| 10i128.checked_pow(shift))
    else {
        // 10^shift beyond i128 means |value| < 10^-28 / 10^10: it rounds to zero.
        return Decimal::ZERO;
    };
    let minor = i128::from(minor);
    let quotient = minor / divisor;
    let remainder = (minor % divisor).abs();
    let rounded = match (remainder * 2).cmp(&divisor) {
        Ordering::Greater => quotient + minor.signum(),
        Ordering::Equal if quotient % 2 != 0 => quotient + minor.signum(),
        _ => quotient,
    };
    Decimal::try_from_i128_with_scale(rounded, MAX_SCALE).unwrap_or(Decimal::ZERO)
}

/// Rounds a fractional number of minor units (a tax of `840.336` cents, a percentage discount) to a
/// whole number with `mode`. `Err(AMOUNT_OUT_OF_RANGE)` if the result does not fit an `i64`.
pub fn round_minor(value: Decimal, mode: RoundingMode) -> Result<i64> {
    let rounded = mode.round(value);
    // `rounded` has no fractional part any more, so the conversion (which truncates) is exact and
    // fails only when the integer is beyond `i64`.
    i64::try_from(rounded).map_err(|_| CartError::overflow())
}

/// Cash rounding of a cart total to a multiple of `increment` minor units (CHF rounds to 0.05, i.e. an
/// increment of 5): half-up on the magnitude, the sign put back after, so that a refund rounds exactly
/// like the matching charge. Examples with increment 5: `1697 -> 1695`, `11013 -> 11015`; a tie goes
/// away from zero (`1005` with increment 10 is `1010`). An increment of 1 or less means "no cash
/// rounding" and returns `total` unchanged.
pub fn cash_round(total: i64, increment: i64) -> Result<i64> {
    if increment <= 1 {
        return Ok(total);
    }
    // i128 so that the magnitude of i64::MIN and the rounded-up value are representable.
    let magnitude = i128::from(total).abs();
    let increment = i128::from(increment);
    let quotient = magnitude / increment;
    let remainder = magnitude % increment;
    let steps = if remainder * 2 >= increment {
        quotient + 1
    } else {
        quotient
    };
    let rounded = steps * increment;
    let signed = if total < 0 { -rounded } else { rounded };
    i64::try_from(signed).map_err(|_| CartError::overflow())
}

/// Splits `total` over `weights` by the largest-remainder method (DESIGN §2).
///
/// Works on the magnitude `|total|` and puts the sign back at the end, so that splitting a refund
/// mirrors splitting the charge exactly. Each share starts as the floor of its exact share
/// `|total| × w / Σw`; the minor units that are left over (fewer than the number of weights) go one by
/// one to the shares with the largest fractional remainders, ties to the earlier index. The shares
/// therefore always sum exactly to `total`, and none is ever more than one minor unit away from its
/// exact value.
///
/// Weights must be `>= 0`; a negative weight is `Err(INVALID_REQUEST)`. If every weight is 0 the split
/// is even (there is no better information). Empty `weights` give an empty result for a zero `total`
/// and `Err(INVALID_REQUEST)` otherwise, because a non-zero amount cannot vanish.
///
/// The exact products are computed in `i128` (`|total| × w < 2^126`, `Σw < 2^63 × n`), so no weight or
/// total can overflow. O(n) on average and O(n log n) at worst: only the leftover units need the
/// remainders ordered, and they are found by selection, not by sorting everything.
pub fn allocate(total: i64, weights: &[i64]) -> Result<Vec<i64>> {
    if weights.iter().any(|&w| w < 0) {
        return Err(CartError::invalid_request("allocation weights must not be negative"));
    }
    let first = weights.first().copied();
    if weights.iter().all(|&w| Some(w) == first) {
        // Equal (or all-zero, or no) weights: the even split needs no remainders at all.
        return split_even(total, weights.len());
    }

    let magnitude = i128::from(total).abs();
    let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    // Not all weights are equal and none is negative, so at least one is positive: weight_sum > 0.
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::new();
    let mut assigned: i128 = 0;
    for (index, &weight) in weights.iter().enumerate() {
        let exact = magnitude * i128::from(weight);
        let floor = exact / weight_sum;
        let remainder = exact % weight_sum;
        assigned += floor;
        shares.push(floor);
        if remainder > 0 {
            remainders.push((remainder, index));
        }
    }

    // Each remainder is < weight_sum, so fewer units are left over than there are non-zero remainders.
    let leftover = usize::try_from(magnitude - assigned).map_err(|_| CartError::overflow())?;
    if leftover > 0 {
        // Largest remainder first; on equal remainders the earlier index first.
        let order = |a: &(i128, usize), b: &(i128, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if remainders.len() > leftover {
            // Moves the `leftover` winners to the front (in no particular order, which is fine: each
            // of them gets exactly one unit).
            remainders.select_nth_unstable_by(leftover - 1, order);
            remainders.truncate(leftover);
        }
        for &(_, index) in &remainders {
            if let Some(share) = shares.get_mut(index) {
                *share += 1;
            }
        }
    }

    shares.into_iter().map(|share| signed_share(total, share)).collect()
}

/// Splits `total` by `weights` the way Sylius's `ProportionalIntegerDistributor` does: each exact
/// share rounded to the nearest unit with ties toward zero, then the difference handed out one unit at
/// a time to the first targets in order (targets of weight zero are skipped and get nothing; all-zero
/// weights split evenly, where Sylius would distribute nothing). Unlike
/// [`allocate`], a share can end up a unit above its exact value while a later one stays below.
/// Sylius's `[4300, 1400, 2300]` with `-300` gives `[-162, -52, -86]`.
pub fn allocate_first(total: i64, weights: &[i64]) -> Result<Vec<i64>> {
    if weights.iter().any(|&w| w < 0) {
        return Err(CartError::invalid_request("allocation weights must not be negative"));
    }
    let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    if weight_sum == 0 {
        return split_even(total, weights.len());
    }
    let magnitude = i128::from(total).abs();
    let mut shares: Vec<i128> = weights
        .iter()
        .map(|&w| {
            let exact = magnitude * i128::from(w);
            let (q, r) = (exact / weight_sum, exact % weight_sum);
            if 2 * r > weight_sum {
                q + 1
            } else {
                q
            }
        })
        .collect();
    // Each share is within half a unit of its exact value, so |difference| <= (targets of weight > 0) / 2
    // and one pass over those targets settles it.
    let mut difference = magnitude - shares.iter().sum::<i128>();
    for (share, &w) in shares.iter_mut().zip(weights) {
        if difference == 0 {
            break;
        }
        if w > 0 && (difference > 0 || *share > 0) {
            *share += difference.signum();
            difference -= difference.signum();
        }
    }
    shares.into_iter().map(|share| signed_share(total, share)).collect()
}

/// Splits `total` into `parts` shares that differ by at most one minor unit: the same result as
/// [`allocate`] with equal weights (the first `|total| mod parts` shares get the extra unit), computed
/// directly. `split_even(-452, 3)` is `[-151, -151, -150]`. Zero parts give an empty result for a zero
/// `total` and `Err(INVALID_REQUEST)` otherwise.
pub fn split_even(total: i64, parts: usize) -> Result<Vec<i64>> {
    if parts == 0 {
        return if total == 0 {
            Ok(Vec::new())
        } else {
            Err(CartError::invalid_request(
                "cannot split a non-zero amount into zero parts",
            ))
        };
    }
    let magnitude = i128::from(total).abs();
    let count = i128::try_from(parts).map_err(|_| CartError::overflow())?;
    let base = magnitude / count;
    // The remainder is < parts, so it fits a usize.
    let extra = usize::try_from(magnitude % count).map_err(|_| CartError::overflow())?;
    (0..parts)
        .map(|index| signed_share(total, if index < extra { base + 1 } else { base }))
        .collect()
}

/// [`split_even`] as two runs of equal shares, `(share, how many)`, without a vector of parts (a count
/// may be zero): `split_even_runs(-452, 3)` is `[(-151, 2), (-150, 1)]`. Zero parts count as one.
pub fn split_even_runs(total: i64, parts: u32) -> Result<[(i64, u32); 2]> {
    let parts = parts.max(1);
    let q = i64::from(parts);
    let (base, extra) = (total / q, (total % q).abs());
    let extra = u32::try_from(extra).map_err(|_| CartError::overflow())?;
    Ok([(add(base, total.signum())?, extra), (base, parts.saturating_sub(extra))])
}

/// Gives a share of `|total|` the sign of `total`.
fn signed_share(total: i64, share: i128) -> Result<i64> {
    let signed = if total < 0 { -share } else { share };
    i64::try_from(signed).map_err(|_| CartError::overflow())
}

/// `a + b`, or `Err(AMOUNT_OUT_OF_RANGE)` instead of wrapping around.
pub fn add(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b).ok_or_else(CartError::overflow)
}

/// `a - b`, or `Err(AMOUNT_OUT_OF_RANGE)` instead of wrapping around.
pub fn sub(a: i64, b: i64) -> Result<i64> {
    a.checked_sub(b).ok_or_else(CartError::overflow)
}

/// `a × b`, or `Err(AMOUNT_OUT_OF_RANGE)` instead of wrapping around.
pub fn mul(a: i64, b: i64) -> Result<i64> {
    a.checked_mul(b).ok_or_else(CartError::overflow)
}

/// The sum of `items`, or `Err(AMOUNT_OUT_OF_RANGE)` as soon as a partial sum leaves `i64` (even if a
/// later negative item would have brought it back: the engine never relies on wrapping).
pub fn sum<I: IntoIterator<Item = i64>>(items: I) -> Result<i64> {
    items.into_iter().try_fold(0i64, add)
}

/// An amount of money: an integer count of minor units in a known currency.
///
/// Carrying the currency with the amount lets arithmetic refuse to mix currencies (adding EUR to USD
/// is always a bug), and carrying the fraction digits lets it print itself without a table lookup.
/// All arithmetic is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: String,
    fraction_digits: u32,
}

impl Money {
    /// `minor` minor units of `currency`; `Err(INVALID_REQUEST)` for an unknown currency code.
    pub fn from_minor(minor: i64, currency: &str) -> Result<Money> {
        let digits = fraction_digits(currency)
            .ok_or_else(|| CartError::invalid_request(format!("unknown currency code {currency:?}")))?;
        Ok(Money {
            minor,
            currency: currency.to_string(),
            fraction_digits: digits,
        })
    }

    /// Parses a decimal string in major units (the [`parse_decimal`] grammar) and rounds it to the
    /// currency's minor unit with `mode`. `Err(INVALID_REQUEST)` for a malformed amount or an unknown
    /// currency, `Err(AMOUNT_OUT_OF_RANGE)` if it does not fit.
    pub fn parse(amount: &str, currency: &str, mode: RoundingMode) -> Result<Money> {
        let digits = fraction_digits(currency)
            .ok_or_else(|| CartError::invalid_request(format!("unknown currency code {currency:?}")))?;
        let value = parse_decimal(amount)
            .ok_or_else(|| CartError::invalid_request(format!("not a decimal amount: {amount:?}")))?;
        let minor = to_minor(value, digits, mode)?;
        Ok(Money {
            minor,
            currency: currency.to_string(),
            fraction_digits: digits,
        })
    }

    /// The amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The ISO 4217 code.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The currency's minor units (2 for EUR).
    pub fn fraction_digits(&self) -> u32 {
        self.fraction_digits
    }

    /// The exact value in major units, with the currency's number of places (`19.99`, `1.500`).
    pub fn to_decimal(&self) -> Decimal {
        from_minor(self.minor, self.fraction_digits)
    }

    /// `self + other`; `Err(INVALID_REQUEST)` if the currencies differ, `Err(AMOUNT_OUT_OF_RANGE)` on
    /// overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        Ok(self.with_minor(add(self.minor, other.minor)?))
    }

    /// `self - other`; `Err(INVALID_REQUEST)` if the currencies differ, `Err(AMOUNT_OUT_OF_RANGE)` on
    /// overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        Ok(self.with_minor(sub(self.minor, other.minor)?))
    }

    /// `self × quantity` (a unit price times a line quantity); `Err(AMOUNT_OUT_OF_RANGE)` on overflow.
    pub fn checked_mul(&self, quantity: i64) -> Result<Money> {
        Ok(self.with_minor(mul(self.minor, quantity)?))
    }

    /// Splits this amount over `weights` with [`allocate`]; the shares are in the same currency and
    /// sum exactly to `self`.
    pub fn allocate(&self, weights: &[i64]) -> Result<Vec<Money>> {
        Ok(allocate(self.minor, weights)?
            .into_iter()
            .map(|minor| self.with_minor(minor))
            .collect())
    }

    fn with_minor(&self, minor: i64) -> Money {
        Money {
            minor,
            currency: self.currency.clone(),
            fraction_digits: self.fraction_digits,
        }
    }

    fn same_currency(&self, other: &Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(CartError::invalid_request(format!(
                "cannot combine amounts in different currencies ({} and {})",
                self.currency, other.currency
            )))
        }
    }
}

/// A plain decimal with exactly the currency's number of places, then the code: `"19.99 EUR"`,
/// `"-1.500 BHD"`, `"999 JPY"`. Meant for logs and messages; the wire format is minor units.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    #[test]
    fn split_even_runs_are_split_even_counted() {
        for total in [-452, -7, -1, 0, 1, 2, 10, 999, 1_000_001, i64::MIN + 1] {
            for parts in [1u32, 2, 3, 7, 9_999] {
                let runs = super::split_even_runs(total, parts).unwrap();
                let expanded: Vec<i64> = runs
                    .iter()
                    .flat_map(|&(share, count)| std::iter::repeat_n(share, count as usize))
                    .collect();
                assert_eq!(
                    expanded,
                    super::split_even(total, parts as usize).unwrap(),
                    "{total} over {parts}"
                );
            }
        }
    }

    use super::*;
    use crate::error::ErrorCode;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn fraction_digit_table() {
        for code in [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
            "XOF", "XPF",
        ] {
            assert_eq!(fraction_digits(code), Some(0), "{code}");
        }
        for code in ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"] {
            assert_eq!(fraction_digits(code), Some(3), "{code}");
        }
        for code in ["CLF", "UYW"] {
            assert_eq!(fraction_digits(code), Some(4), "{code}");
        }
        for code in [
            "ARS", "AUD", "BRL", "CAD", "CNY", "EUR", "GBP", "INR", "IDR", "MXN", "RUB", "SAR", "ZAR", "TRY", "USD",
            "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "NZD", "SGD", "HKD", "AED",
        ] {
            assert_eq!(fraction_digits(code), Some(2), "{code}");
        }
        for code in ["", "eur", "Eur", "EURO", "XXX", "XAU", "ABC", " EUR", "EUR "] {
            assert_eq!(fraction_digits(code), None, "{code:?}");
            assert!(!is_known_currency(code));
        }
        assert!(is_known_currency("EUR"));
    }

    #[test]
    fn rounding_mode_serde() {
        assert_eq!(RoundingMode::default(), RoundingMode::HalfEven);
        assert_eq!(serde_json::to_string(&RoundingMode::HalfUp).unwrap(), "\"halfUp\"");
        assert_eq!(serde_json::to_string(&RoundingMode::HalfDown).unwrap(), "\"halfDown\"");
        assert_eq!(serde_json::to_string(&RoundingMode::HalfEven).unwrap(), "\"halfEven\"");
        let mode: RoundingMode = serde_json::from_str("\"halfDown\"").unwrap();
        assert_eq!(mode, RoundingMode::HalfDown);
        assert!(serde_json::from_str::<RoundingMode>("\"HalfUp\"").is_err());
    }

    #[test]
    fn parse_decimal_accepts() {
        for (input, expected, scale) in [
            ("0", "0", 0),
            ("19.99", "19.99", 2),
            ("0.10", "0.10", 2),
            ("-0.5", "-0.5", 1),
            ("007", "7", 0),
            ("0.012345", "0.012345", 6),
            ("-0", "0", 0),
            ("-0.00", "0.00", 2),
            ("0.0000000000000000000000000001", "0.0000000000000000000000000001", 28),
            ("79228162514264337593543950335", "79228162514264337593543950335", 0),
        ] {
            let value = parse_decimal(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(value.to_string(), expected, "{input}");
            assert_eq!(value.scale(), scale, "{input}");
        }
        assert!(parse_decimal("-0").unwrap().is_sign_positive());
    }

    #[test]
    fn parse_decimal_rejects() {
        for input in [
            "",
            "-",
            ".",
            ".5",
            "5.",
            "-.5",
            "+1",
            "1e3",
            "1E3",
            " 1",
            "1 ",
            "1,5",
            "1_000",
            "--1",
            "1.2.3",
            "0x10",
            "١",
            "NaN",
            "inf",
            "1.00000000000000000000000000000",
            "79228162514264337593543950336",
            "792281625142643375935439503.36",
        ] {
            assert_eq!(parse_decimal(input), None, "{input:?}");
        }
    }

    #[test]
    fn to_minor_rounds_with_mode() {
        use RoundingMode::*;
        let cases = [
            ("19.99", 2, HalfEven, 1999),
            ("19.9", 2, HalfEven, 1990),
            ("19", 2, HalfEven, 1900),
            ("0.125", 2, HalfEven, 12),
            ("0.135", 2, HalfEven, 14),
            ("0.125", 2, HalfUp, 13),
            ("0.125", 2, HalfDown, 12),
            ("-0.125", 2, HalfUp, -13),
            ("-0.125", 2, HalfDown, -12),
            ("-0.125", 2, HalfEven, -12),
            ("0.1251", 2, HalfDown, 13),
            ("0.1249", 2, HalfUp, 12),
            ("999.5", 0, HalfEven, 1000),
            ("998.5", 0, HalfEven, 998),
            ("1.5", 3, HalfEven, 1500),
            ("0.00005", 4, HalfUp, 1),
            ("92233720368547758.07", 2, HalfEven, i64::MAX),
            ("-92233720368547758.08", 2, HalfEven, i64::MIN),
        ];
        for (amount, digits, mode, expected) in cases {
            assert_eq!(
                to_minor(dec(amount), digits, mode).unwrap(),
                expected,
                "{amount} {digits} {mode:?}"
            );
        }
    }

    #[test]
    fn to_minor_overflow() {
        for (amount, digits) in [
            ("92233720368547758.08", 2),
            ("-92233720368547758.09", 2),
            ("79228162514264337593543950335", 0),
            ("1", 19),
            ("1", 40),
            ("1", u32::MAX),
        ] {
            let err = to_minor(dec(amount), digits, RoundingMode::HalfEven).unwrap_err();
            assert_eq!(err.code, ErrorCode::AmountOutOfRange, "{amount} {digits}");
        }
        // Zero stays zero however many digits.
        assert_eq!(to_minor(Decimal::ZERO, 40, RoundingMode::HalfEven).unwrap(), 0);
        // Rounding up to the last representable unit still fits; one more does not.
        assert_eq!(
            to_minor(dec("92233720368547758.0749"), 2, RoundingMode::HalfUp).unwrap(),
            i64::MAX
        );
        assert!(to_minor(dec("92233720368547758.075"), 2, RoundingMode::HalfUp).is_err());
    }

    #[test]
    fn from_minor_is_exact() {
        assert_eq!(from_minor(1999, 2).to_string(), "19.99");
        assert_eq!(from_minor(-1500, 3).to_string(), "-1.500");
        assert_eq!(from_minor(999, 0).to_string(), "999");
        assert_eq!(from_minor(5, 2).to_string(), "0.05");
        assert_eq!(from_minor(i64::MIN, 2).to_string(), "-92233720368547758.08");
        assert_eq!(from_minor(1, 28).to_string(), "0.0000000000000000000000000001");
        // Beyond 28 places: rounded half-even, never a panic.
        assert_eq!(from_minor(15, 29), dec("0.0000000000000000000000000002"));
        assert_eq!(from_minor(25, 29), dec("0.0000000000000000000000000002"));
        assert_eq!(from_minor(-26, 29), dec("-0.0000000000000000000000000003"));
        assert_eq!(from_minor(i64::MAX, 100), Decimal::ZERO);
        assert_eq!(from_minor(i64::MIN, u32::MAX), Decimal::ZERO);
    }

    #[test]
    fn round_minor_examples() {
        assert_eq!(round_minor(dec("840.336"), RoundingMode::HalfEven).unwrap(), 840);
        assert_eq!(round_minor(dec("840.5"), RoundingMode::HalfEven).unwrap(), 840);
        assert_eq!(round_minor(dec("841.5"), RoundingMode::HalfEven).unwrap(), 842);
        assert_eq!(round_minor(dec("840.5"), RoundingMode::HalfUp).unwrap(), 841);
        assert_eq!(round_minor(dec("840.5"), RoundingMode::HalfDown).unwrap(), 840);
        assert_eq!(round_minor(dec("-840.5"), RoundingMode::HalfUp).unwrap(), -841);
        assert_eq!(round_minor(dec("-840.5"), RoundingMode::HalfDown).unwrap(), -840);
        assert_eq!(round_minor(dec("-0.4"), RoundingMode::HalfUp).unwrap(), 0);
        assert_eq!(
            round_minor(dec("9223372036854775807.4"), RoundingMode::HalfUp).unwrap(),
            i64::MAX
        );
        let err = round_minor(dec("9223372036854775807.5"), RoundingMode::HalfUp).unwrap_err();
        assert_eq!(err.code, ErrorCode::AmountOutOfRange);
        assert!(round_minor(dec("-9223372036854775809"), RoundingMode::HalfUp).is_err());
    }

    /// The tie table of dinero.js's rounding tests (packages/dinero.js/src/core/divide/__tests__/*.test.ts),
    /// under our (Java / commercetools) names: dinero `up` = `ceiling`, `down` = `floor`, `halfUp` =
    /// `halfCeiling`, `halfDown` = `halfFloor`, `halfTowardsZero` = `halfDown`, `halfAwayFromZero` =
    /// `halfUp`; and commercetools' 250 × 5 % = 12.5 → 12 / 13 / 12 (HalfEven / HalfUp / HalfDown).
    #[test]
    fn rounding_modes_match_dinero_and_commercetools() {
        use RoundingMode::*;
        let cases: &[(RoundingMode, &str, i64)] = &[
            (Ceiling, "1.5", 2),
            (Ceiling, "-1.5", -1),
            (Floor, "1.5", 1),
            (Floor, "-1.5", -2),
            (HalfCeiling, "1.5", 2),
            (HalfCeiling, "-1.5", -1),
            (HalfFloor, "1.5", 1),
            (HalfFloor, "-1.5", -2),
            (HalfFloor, "4.4", 4),
            (HalfFloor, "4.8", 5),
            (HalfFloor, "-4.4", -4),
            (HalfFloor, "-4.8", -5),
            (HalfEven, "1.5", 2),
            (HalfEven, "2.5", 2),
            (HalfEven, "-2.5", -2),
            (HalfEven, "3.5", 4),
            (HalfOdd, "1.5", 1),
            (HalfOdd, "2.5", 3),
            (HalfOdd, "3.5", 3),
            (HalfOdd, "-2.5", -3),
            (HalfOdd, "-1.5", -1),
            (HalfOdd, "2.4", 2),
            (HalfOdd, "2.6", 3),
            (HalfDown, "1.5", 1),
            (HalfDown, "-2.5", -2),
            (HalfUp, "1.5", 2),
            (HalfUp, "-2.5", -3),
            (HalfEven, "12.5", 12),
            (HalfUp, "12.5", 13),
            (HalfDown, "12.5", 12),
            (Up, "1.1", 2),
            (Up, "-1.1", -2),
            (Up, "3", 3),
            (Down, "1.9", 1),
            (Down, "-1.9", -1),
            (Ceiling, "0.1", 1),
            (Ceiling, "-0.9", 0),
            (Floor, "-0.1", -1),
        ];
        for &(mode, value, expected) in cases {
            assert_eq!(round_minor(dec(value), mode).unwrap(), expected, "{mode:?} {value}");
        }
    }

    #[test]
    fn cash_round_examples() {
        assert_eq!(cash_round(1697, 5).unwrap(), 1695);
        assert_eq!(cash_round(1698, 5).unwrap(), 1700);
        assert_eq!(cash_round(11013, 5).unwrap(), 11015);
        assert_eq!(cash_round(1005, 10).unwrap(), 1010);
        assert_eq!(cash_round(1004, 10).unwrap(), 1000);
        assert_eq!(cash_round(-1005, 10).unwrap(), -1010);
        assert_eq!(cash_round(-1697, 5).unwrap(), -1695);
        assert_eq!(cash_round(0, 5).unwrap(), 0);
        assert_eq!(cash_round(2, 5).unwrap(), 0);
        assert_eq!(cash_round(3, 5).unwrap(), 5);
        assert_eq!(cash_round(1697, 1).unwrap(), 1697);
        assert_eq!(cash_round(1697, 0).unwrap(), 1697);
        assert_eq!(cash_round(1697, -5).unwrap(), 1697);
        assert_eq!(cash_round(i64::MIN, 1).unwrap(), i64::MIN);
        assert_eq!(cash_round(i64::MAX, 2).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(cash_round(i64::MIN, 10).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(cash_round(i64::MIN, 2).unwrap(), i64::MIN);
        assert_eq!(cash_round(i64::MAX, i64::MAX).unwrap(), i64::MAX);
        assert_eq!(cash_round(100, i64::MAX).unwrap(), 0);
    }

    #[test]
    fn allocate_examples() {
        assert_eq!(allocate(1003, &[1, 3]).unwrap(), vec![251, 752]);
        assert_eq!(allocate(1003, &[1000, 3000]).unwrap(), vec![251, 752]);
        assert_eq!(allocate(-452, &[1, 1, 1]).unwrap(), vec![-151, -151, -150]);
        assert_eq!(allocate(100, &[1, 1, 1]).unwrap(), vec![34, 33, 33]);
        assert_eq!(allocate(100, &[0, 1, 1]).unwrap(), vec![0, 50, 50]);
        assert_eq!(allocate(101, &[0, 1, 1]).unwrap(), vec![0, 51, 50]);
        // Largest remainders win: exact 2.5, 3.75, 3.75 -> the two .75 get the leftover unit.
        assert_eq!(allocate(10, &[2, 3, 3]).unwrap(), vec![2, 4, 4]);
        assert_eq!(allocate(-10, &[2, 3, 3]).unwrap(), vec![-2, -4, -4]);
        // Ties to the earlier index among the largest remainders.
        assert_eq!(allocate(2, &[1, 1, 1, 2]).unwrap(), vec![1, 0, 0, 1]);
        assert_eq!(allocate(0, &[1, 2, 3]).unwrap(), vec![0, 0, 0]);
        assert_eq!(allocate(7, &[0, 0, 0]).unwrap(), vec![3, 2, 2]);
        assert_eq!(allocate(7, &[5]).unwrap(), vec![7]);
        assert_eq!(allocate(0, &[]).unwrap(), Vec::<i64>::new());
        assert_eq!(allocate(1, &[]).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(allocate(10, &[1, -1, 3]).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(allocate(0, &[-1]).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    /// `ProportionalIntegerDistributorSpec` (Sylius/Sylius, src/Sylius/Component/Core/spec/Distributor/).
    #[test]
    fn allocate_first_matches_sylius() {
        assert_eq!(allocate_first(300, &[4000, 2000, 2000]).unwrap(), vec![150, 75, 75]);
        assert_eq!(allocate_first(-300, &[4000, 2000, 2000]).unwrap(), vec![-150, -75, -75]);
        assert_eq!(allocate_first(300, &[4300, 1400, 2300]).unwrap(), vec![162, 52, 86]);
        assert_eq!(allocate_first(-300, &[4300, 1400, 2300]).unwrap(), vec![-162, -52, -86]);
        assert_eq!(allocate_first(-299, &[4300, 1400, 2300]).unwrap(), vec![-161, -52, -86]);
        // Sylius returns [0] here (nothing distributed when every weight is 0); the engine keeps the
        // shares adding up to the whole and splits evenly. Its callers never pass all-zero weights.
        assert_eq!(allocate_first(-299, &[0]).unwrap(), vec![-299]);
        // Rounding up overshoots: the first target gives the unit back.
        assert_eq!(allocate_first(5, &[16, 16, 18]).unwrap(), vec![1, 2, 2]);
        assert_eq!(allocate_first(7, &[0, 1, 1]).unwrap(), vec![0, 4, 3]);
        assert!(allocate_first(1, &[1, -1]).is_err());
    }

    #[test]
    fn allocate_extremes() {
        assert_eq!(allocate(i64::MIN, &[1]).unwrap(), vec![i64::MIN]);
        assert_eq!(allocate(i64::MAX, &[i64::MAX]).unwrap(), vec![i64::MAX]);
        assert_eq!(allocate(i64::MIN, &[i64::MAX, 0]).unwrap(), vec![i64::MIN, 0]);
        let shares = allocate(i64::MAX, &[i64::MAX, i64::MAX - 1, 1]).unwrap();
        assert_eq!(sum(shares.iter().copied()).unwrap(), i64::MAX);
        let shares = allocate(i64::MIN, &[i64::MAX, 3, i64::MAX]).unwrap();
        assert_eq!(
            shares.iter().map(|&s| i128::from(s)).sum::<i128>(),
            i128::from(i64::MIN)
        );
        assert_eq!(split_even(i64::MIN, 1).unwrap(), vec![i64::MIN]);
        assert_eq!(split_even(i64::MIN, 2).unwrap(), vec![i64::MIN / 2, i64::MIN / 2]);
    }

    #[test]
    fn allocate_large_inputs() {
        // 2.5 million units, all different weights: must stay fast and exact.
        let weights: Vec<i64> = (0..2_500_000i64).map(|i| (i * 7919) % 10_007 + 1).collect();
        let shares = allocate(12_345_678_901, &weights).unwrap();
        assert_eq!(shares.len(), weights.len());
        assert_eq!(sum(shares.iter().copied()).unwrap(), 12_345_678_901);
        let shares = split_even(-1_000_000_007, 2_500_000).unwrap();
        assert_eq!(sum(shares.iter().copied()).unwrap(), -1_000_000_007);
    }

    #[test]
    fn split_even_examples() {
        assert_eq!(split_even(-452, 3).unwrap(), vec![-151, -151, -150]);
        assert_eq!(split_even(452, 3).unwrap(), vec![151, 151, 150]);
        assert_eq!(split_even(2, 4).unwrap(), vec![1, 1, 0, 0]);
        assert_eq!(split_even(0, 0).unwrap(), Vec::<i64>::new());
        assert_eq!(split_even(5, 0).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(split_even(9, 3).unwrap(), allocate(9, &[4, 4, 4]).unwrap());
    }

    #[test]
    fn checked_helpers() {
        assert_eq!(add(2, 3).unwrap(), 5);
        assert_eq!(sub(2, 3).unwrap(), -1);
        assert_eq!(mul(-4, 3).unwrap(), -12);
        assert_eq!(sum([1, 2, 3]).unwrap(), 6);
        assert_eq!(sum(Vec::new()).unwrap(), 0);
        assert_eq!(add(i64::MAX, 1).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(sub(i64::MIN, 1).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(mul(i64::MAX, 2).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(mul(i64::MIN, -1).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(sum([i64::MAX, 1, -5]).unwrap_err().code, ErrorCode::AmountOutOfRange);
    }

    #[test]
    fn money_basics() {
        let price = Money::parse("19.99", "EUR", RoundingMode::HalfEven).unwrap();
        assert_eq!(price.minor(), 1999);
        assert_eq!(price.currency(), "EUR");
        assert_eq!(price.fraction_digits(), 2);
        assert_eq!(price.to_decimal(), dec("19.99"));
        assert_eq!(price.to_string(), "19.99 EUR");
        assert_eq!(Money::from_minor(-1500, "BHD").unwrap().to_string(), "-1.500 BHD");
        assert_eq!(Money::from_minor(999, "JPY").unwrap().to_string(), "999 JPY");
        assert_eq!(Money::from_minor(5, "EUR").unwrap().to_string(), "0.05 EUR");
        assert_eq!(Money::from_minor(-5, "EUR").unwrap().to_string(), "-0.05 EUR");
        assert_eq!(Money::from_minor(0, "CLF").unwrap().to_string(), "0.0000 CLF");
        assert_eq!(Money::parse("0.125", "EUR", RoundingMode::HalfUp).unwrap().minor(), 13);
        assert_eq!(
            Money::parse("999.5", "JPY", RoundingMode::HalfEven).unwrap().minor(),
            1000
        );

        assert_eq!(Money::from_minor(1, "XXX").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(
            Money::parse("1", "eur", RoundingMode::HalfEven).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            Money::parse("1e2", "EUR", RoundingMode::HalfEven).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let err = Money::parse("92233720368547758.08", "EUR", RoundingMode::HalfEven).unwrap_err();
        assert_eq!(err.code, ErrorCode::AmountOutOfRange);
    }

    #[test]
    fn money_arithmetic() {
        let a = Money::from_minor(1999, "EUR").unwrap();
        let b = Money::from_minor(1, "EUR").unwrap();
        assert_eq!(a.checked_add(&b).unwrap(), Money::from_minor(2000, "EUR").unwrap());
        assert_eq!(a.checked_sub(&b).unwrap().minor(), 1998);
        assert_eq!(a.checked_mul(3).unwrap().minor(), 5997);
        let usd = Money::from_minor(1, "USD").unwrap();
        assert_eq!(a.checked_add(&usd).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(a.checked_sub(&usd).unwrap_err().code, ErrorCode::InvalidRequest);
        let max = Money::from_minor(i64::MAX, "EUR").unwrap();
        assert_eq!(max.checked_add(&b).unwrap_err().code, ErrorCode::AmountOutOfRange);
        assert_eq!(max.checked_mul(2).unwrap_err().code, ErrorCode::AmountOutOfRange);
        let shares = Money::from_minor(1003, "EUR").unwrap().allocate(&[1, 3]).unwrap();
        assert_eq!(
            shares,
            vec![
                Money::from_minor(251, "EUR").unwrap(),
                Money::from_minor(752, "EUR").unwrap()
            ]
        );
        assert!(a.allocate(&[]).is_err());
    }

    fn modes() -> impl Strategy<Value = RoundingMode> {
        prop_oneof![
            Just(RoundingMode::HalfEven),
            Just(RoundingMode::HalfUp),
            Just(RoundingMode::HalfDown),
            Just(RoundingMode::HalfOdd),
            Just(RoundingMode::HalfCeiling),
            Just(RoundingMode::HalfFloor),
            Just(RoundingMode::Up),
            Just(RoundingMode::Down),
            Just(RoundingMode::Ceiling),
            Just(RoundingMode::Floor)
        ]
    }

    proptest! {
        #[test]
        fn allocation_sums_to_total(total in any::<i64>(), weights in prop::collection::vec(0i64..=i64::MAX, 1..40)) {
            let shares = allocate(total, &weights).unwrap();
            prop_assert_eq!(shares.len(), weights.len());
            let sum: i128 = shares.iter().map(|&s| i128::from(s)).sum();
            prop_assert_eq!(sum, i128::from(total));
        }

        #[test]
        fn allocation_small_weights(total in -1_000_000i64..1_000_000, weights in prop::collection::vec(0i64..20, 1..40)) {
            let shares = allocate(total, &weights).unwrap();
            prop_assert_eq!(sum(shares.iter().copied()).unwrap(), total);
            let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            for (&share, &weight) in shares.iter().zip(&weights) {
                // Each share has the sign of the total (or is zero) ...
                prop_assert!(share == 0 || share.signum() == total.signum());
                // ... and is within one minor unit of its exact share.
                if weight_sum > 0 {
                    let exact_times_sum = i128::from(total) * i128::from(weight);
                    let diff = (i128::from(share) * weight_sum - exact_times_sum).abs();
                    prop_assert!(diff < weight_sum);
                }
                if weight == 0 && weight_sum > 0 {
                    prop_assert_eq!(share, 0);
                }
            }
        }

        #[test]
        fn first_target_allocation_sums_to_total(total in -1_000_000_000i64..1_000_000_000, weights in prop::collection::vec(0i64..100_000, 1..40)) {
            let shares = allocate_first(total, &weights).unwrap();
            prop_assert_eq!(shares.len(), weights.len());
            prop_assert_eq!(sum(shares.iter().copied()).unwrap(), total);
            let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            for (&share, &weight) in shares.iter().zip(&weights) {
                prop_assert!(share == 0 || share.signum() == total.signum());
                if weight_sum > 0 {
                    if weight == 0 { prop_assert_eq!(share, 0); }
                    // Within 1.5 units of the exact share: half a unit of rounding, one unit of settling.
                    let diff = (i128::from(share) * weight_sum - i128::from(total) * i128::from(weight)).abs();
                    prop_assert!(2 * diff <= 3 * weight_sum);
                }
            }
        }

        #[test]
        fn allocation_has_sign_of_total(total in any::<i64>(), weights in prop::collection::vec(0i64..1_000_000, 1..40)) {
            for share in allocate(total, &weights).unwrap() {
                prop_assert!(share == 0 || share.signum() == total.signum());
            }
        }

        #[test]
        fn allocation_is_sign_symmetric(total in -i64::MAX..=i64::MAX, weights in prop::collection::vec(0i64..1000, 1..20)) {
            let positive = allocate(total, &weights).unwrap();
            let negative = allocate(-total, &weights).unwrap();
            prop_assert_eq!(positive.iter().map(|s| -s).collect::<Vec<_>>(), negative);
        }

        #[test]
        fn equal_weights_differ_by_at_most_one(total in any::<i64>(), weight in 0i64..1000, n in 1usize..60) {
            let shares = allocate(total, &vec![weight; n]).unwrap();
            let min = shares.iter().min().copied().unwrap();
            let max = shares.iter().max().copied().unwrap();
            prop_assert!(i128::from(max) - i128::from(min) <= 1);
            prop_assert_eq!(shares.iter().map(|&s| i128::from(s)).sum::<i128>(), i128::from(total));
            prop_assert_eq!(&shares, &split_even(total, n).unwrap());
            // The generic path agrees with the even fast path.
            let mut nearly_even = vec![weight * 2 + 2; n];
            nearly_even.push(0);
            let mut generic = allocate(total, &nearly_even).unwrap();
            prop_assert_eq!(generic.pop(), Some(0));
            prop_assert_eq!(generic, shares);
        }

        #[test]
        fn cash_round_is_nearest_multiple(total in any::<i64>(), increment in 2i64..10_000) {
            match cash_round(total, increment) {
                Ok(rounded) => {
                    prop_assert_eq!(rounded % increment, 0);
                    let diff = (i128::from(rounded) - i128::from(total)).abs();
                    prop_assert!(diff * 2 <= i128::from(increment));
                    prop_assert!(rounded == 0 || rounded.signum() == total.signum());
                    if let (Some(negated), Some(expected)) = (total.checked_neg(), rounded.checked_neg()) {
                        prop_assert_eq!(cash_round(negated, increment).ok(), Some(expected));
                    }
                }
                // Only possible right at the edge of i64.
                Err(_) => prop_assert!(total.unsigned_abs() > (i64::MAX - increment) as u64),
            }
        }

        #[test]
        fn minor_round_trip(minor in any::<i64>(), digits in 0u32..=4, mode in modes()) {
            let value = from_minor(minor, digits);
            prop_assert_eq!(value.scale(), digits);
            prop_assert_eq!(to_minor(value, digits, mode).unwrap(), minor);
            prop_assert_eq!(parse_decimal(&value.to_string()), Some(value));
        }

        #[test]
        fn to_minor_matches_round_minor(mantissa in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u32..10,
                                        digits in 0u32..=4, mode in modes()) {
            let amount = Decimal::new(mantissa, scale);
            let scaled = amount * Decimal::from(10i64.pow(digits));
            prop_assert_eq!(to_minor(amount, digits, mode).unwrap(), round_minor(scaled, mode).unwrap());
        }
    }
}
