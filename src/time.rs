//! Timestamps without a date library.
//!
//! The engine never reads a clock (DESIGN §1: time comes in as a parameter, so the browser and the
//! server price the same cart at the same `now` identically), and all it needs from time is ordering,
//! adding days, and RFC 3339 text in and out. That is a few lines of calendar arithmetic — Howard
//! Hinnant's `days_from_civil` / `civil_from_days` — rather than a dependency that would also have to
//! be compiled to WebAssembly.

use crate::error::CartError;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

const MILLIS_PER_SECOND: i64 = 1_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// The earliest instant [`Timestamp::parse_rfc3339`] accepts: 0000-01-01T00:00:00Z.
const MIN_PARSED_MILLIS: i64 = days_from_civil(0, 1, 1) * MILLIS_PER_DAY;
/// The latest instant [`Timestamp::parse_rfc3339`] accepts: 9999-12-31T23:59:59.999Z.
const MAX_PARSED_MILLIS: i64 = days_from_civil(10_000, 1, 1) * MILLIS_PER_DAY - 1;

/// The message of every refused timestamp (serde and `FromStr`), so that the UI sees one wording.
const EXPECTED: &str = "expected an RFC 3339 timestamp";

/// An instant: milliseconds since the Unix epoch (1970-01-01T00:00:00Z), UTC, no leap seconds.
///
/// A plain integer so that comparing, hashing and persisting are trivial and exact. The engine never
/// reads a clock: callers pass `now`. It serializes as an RFC 3339 string (see
/// [`Timestamp::to_rfc3339`]) because that is what catalogs, snapshots and the JSON API carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `ms` milliseconds after the epoch (negative: before it).
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS`, optionally followed by `.` and one or more
    /// digits of fractional seconds (truncated to milliseconds), then `Z` or a `±HH:MM` offset. `T` and
    /// `Z` may be lower case, as RFC 3339 allows.
    ///
    /// Everything else is `None`: a space instead of `T`, a missing offset (a local time is ambiguous,
    /// and two machines would read it differently), out-of-range fields (month 13, 29 February outside
    /// leap years, hour 24), leap second 60 (the engine counts Unix time, which has none), and
    /// instants outside 0000-01-01T00:00:00Z..=9999-12-31T23:59:59.999Z, so that whatever parses can
    /// be written back by [`Timestamp::to_rfc3339`] and parsed again.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let mut cursor = Cursor {
            bytes: s.as_bytes(),
            pos: 0,
        };
        let year = cursor.digits(4)?;
        cursor.byte(b'-')?;
        let month = cursor.digits(2)?;
        cursor.byte(b'-')?;
        let day = cursor.digits(2)?;
        cursor.one_of(b"Tt")?;
        let hour = cursor.digits(2)?;
        cursor.byte(b':')?;
        let minute = cursor.digits(2)?;
        cursor.byte(b':')?;
        let second = cursor.digits(2)?;
        let millis = if cursor.byte(b'.').is_some() {
            cursor.fraction_millis()?
        } else {
            0
        };
        let offset_minutes = match cursor.one_of(b"Zz+-")? {
            b'+' => cursor.offset()?,
            b'-' => -cursor.offset()?,
            _ => 0,
        };
        if !cursor.at_end() {
            return None;
        }

        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let local_seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
        // Local time minus the offset is UTC: 12:00+02:00 is 10:00Z.
        let utc_millis = (local_seconds - offset_minutes * 60) * MILLIS_PER_SECOND + millis;
        (MIN_PARSED_MILLIS..=MAX_PARSED_MILLIS)
            .contains(&utc_millis)
            .then_some(Timestamp(utc_millis))
    }

    /// Formats as RFC 3339 in UTC: `2026-11-21T12:00:00Z` when the milliseconds are 0, else
    /// `2026-11-21T12:00:00.123Z`. Always UTC with `Z`, so equal instants always give equal strings.
    ///
    /// Years 0..=9999 (everything [`Timestamp::parse_rfc3339`] accepts) have four digits. An instant
    /// beyond that (only reachable through [`Timestamp::from_millis`]) is written with a signed,
    /// expanded year (`+10000-01-01T00:00:00Z`, `-0001-12-31T23:59:59Z`) rather than failing; such a
    /// string is not RFC 3339 and does not parse back.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// The UTC calendar date, `2026-11-21` (delivery estimates, daily windows).
    pub fn to_date_string(self) -> String {
        let (year, month, day) = civil_from_days(self.0.div_euclid(MILLIS_PER_DAY));
        format!("{}-{month:02}-{day:02}", Year(year))
    }

    /// `self + ms`, or `None` beyond the range of `i64` milliseconds.
    pub fn checked_add_millis(self, ms: i64) -> Option<Timestamp> {
        self.0.checked_add(ms).map(Timestamp)
    }

    /// `self + days × 24 h` (UTC days have no DST), or `None` beyond the range of `i64` milliseconds.
    pub fn checked_add_days(self, days: i64) -> Option<Timestamp> {
        self.checked_add_millis(days.checked_mul(MILLIS_PER_DAY)?)
    }
}

/// RFC 3339, exactly as [`Timestamp::to_rfc3339`].
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MILLIS_PER_DAY);
        let millis_of_day = self.0.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let seconds_of_day = millis_of_day / MILLIS_PER_SECOND;
        let (hour, minute, second) = (seconds_of_day / 3_600, seconds_of_day / 60 % 60, seconds_of_day % 60);
        write!(
            f,
            "{}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}",
            Year(year)
        )?;
        match millis_of_day % MILLIS_PER_SECOND {
            0 => f.write_str("Z"),
            millis => write!(f, ".{millis:03}Z"),
        }
    }
}

/// Parses with [`Timestamp::parse_rfc3339`]; the error is `INVALID_REQUEST`.
impl FromStr for Timestamp {
    type Err = CartError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse_rfc3339(s).ok_or_else(|| CartError::invalid_request(format!("{EXPECTED}, got {s:?}")))
    }
}

/// As the RFC 3339 string.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// From an RFC 3339 string; anything else fails with "expected an RFC 3339 timestamp".
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Timestamp::parse_rfc3339(v).ok_or_else(|| E::custom(EXPECTED))
    }
}

/// A year as RFC 3339 wants it (four digits), or, outside 0..=9999, ISO 8601's expanded form with an
/// explicit sign, so that formatting never fails or lies.
struct Year(i64);

impl fmt::Display for Year {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (0..=9999).contains(&self.0) {
            write!(f, "{:04}", self.0)
        } else {
            write!(f, "{:+05}", self.0)
        }
    }
}

/// A strict left-to-right reader over the bytes of a timestamp. Every method consumes on success
/// and returns `None` on anything unexpected, so the parser reads like the grammar.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Exactly `count` ASCII digits as a number.
    fn digits(&mut self, count: usize) -> Option<i64> {
        let mut value = 0i64;
        for _ in 0..count {
            let digit = self.one_of(b"0123456789")?;
            value = value * 10 + i64::from(digit - b'0');
        }
        Some(value)
    }

    /// The next byte if it is `expected`.
    fn byte(&mut self, expected: u8) -> Option<u8> {
        self.one_of(&[expected])
    }

    /// The next byte if it is one of `allowed`.
    fn one_of(&mut self, allowed: &[u8]) -> Option<u8> {
        let next = *self.bytes.get(self.pos)?;
        if allowed.contains(&next) {
            self.pos += 1;
            Some(next)
        } else {
            None
        }
    }

    /// One or more digits of fractional seconds, as whole milliseconds (extra digits are truncated,
    /// missing ones are zeros: `.5` is 500 ms).
    fn fraction_millis(&mut self) -> Option<i64> {
        let mut millis = 0i64;
        let mut count = 0usize;
        while let Some(digit) = self.one_of(b"0123456789") {
            if count < 3 {
                millis = millis * 10 + i64::from(digit - b'0');
            }
            count += 1;
        }
        match count {
            0 => None,
            1 => Some(millis * 100),
            2 => Some(millis * 10),
            _ => Some(millis),
        }
    }

    /// `HH:MM` after the sign of an offset, in minutes.
    fn offset(&mut self) -> Option<i64> {
        let hours = self.digits(2)?;
        self.byte(b':')?;
        let minutes = self.digits(2)?;
        (hours <= 23 && minutes <= 59).then_some(hours * 60 + minutes)
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// Gregorian leap years (proleptic, so year 0 is one).
fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1..=12) of `year`.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant, "chrono-Compatible Low-Level
/// Date Algorithms"). Shifting the year to start on 1 March puts the leap day last, so a day of the
/// year follows from the month by a linear formula; 400-year eras of 146 097 days handle the rest.
/// Exact for every `year` whose day count fits an `i64` (far beyond what timestamps use).
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // [0, 399]
    let shifted_month = if month > 2 { month - 3 } else { month + 9 }; // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year; // [0, 146096]
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month 1..=12, day 1..=31) of a day count since
/// 1970-01-01. Total over every `i64` day count that a millisecond `i64` can produce.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468; // days since 0000-03-01
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097; // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let shifted_month = (5 * day_of_year + 2) / 153; // [0, 11], March = 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Option<i64> {
        Timestamp::parse_rfc3339(s).map(Timestamp::millis)
    }

    #[test]
    fn known_instants() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2026-11-21T12:00:00Z"), Some(1_795_262_400_000));
        assert_eq!(parse("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(parse("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(parse("9999-12-31T23:59:59.999Z"), Some(253_402_300_799_999));
        assert_eq!(parse("0001-01-01T00:00:00Z"), Some(-62_135_596_800_000));
        assert_eq!(parse("0000-01-01T00:00:00Z"), Some(-62_167_219_200_000));
        assert_eq!(parse("2024-02-29T23:30:00-05:30"), Some(1_709_269_200_000));
        assert_eq!(MIN_PARSED_MILLIS, -62_167_219_200_000);
        assert_eq!(MAX_PARSED_MILLIS, 253_402_300_799_999);
    }

    #[test]
    fn accepted_variants() {
        let noon = Some(1_795_262_400_000);
        assert_eq!(parse("2026-11-21t12:00:00z"), noon);
        assert_eq!(parse("2026-11-21T12:00:00+00:00"), noon);
        assert_eq!(parse("2026-11-21T12:00:00-00:00"), noon);
        assert_eq!(parse("2026-11-21T14:00:00+02:00"), noon);
        assert_eq!(parse("2026-11-21T06:30:00-05:30"), noon);
        assert_eq!(parse("2026-11-22T11:59:00+23:59"), noon);
        assert_eq!(parse("2026-11-21T12:00:00.0Z"), noon);
        assert_eq!(parse("2026-11-21T12:00:00.5Z"), noon.map(|m| m + 500));
        assert_eq!(parse("2026-11-21T12:00:00.12Z"), noon.map(|m| m + 120));
        assert_eq!(parse("2026-11-21T12:00:00.123Z"), noon.map(|m| m + 123));
        assert_eq!(parse("2026-11-21T12:00:00.123999999999999Z"), noon.map(|m| m + 123));
        assert_eq!(
            parse("2026-11-21T12:00:00.999+01:00"),
            noon.map(|m| m + 999 - 3_600_000)
        );
        assert!(parse("2024-02-29T00:00:00Z").is_some());
        assert!(parse("2000-02-29T00:00:00Z").is_some());
        assert!(parse("2026-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn rejected_inputs() {
        for input in [
            "",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-21 12:00:00Z",
            "2026-11-21T12:00:00",
            "2026-11-21T24:00:00Z",
            "2026-11-21T12:60:00Z",
            "2026-11-21T12:00:60Z",
            "2026-11-21T12:00:00.Z",
            "2026-11-21T12:00:00.1",
            "2026-11-21T12:00:00+0200",
            "2026-11-21T12:00:00+02",
            "2026-11-21T12:00:00+24:00",
            "2026-11-21T12:00:00+02:60",
            "2026-11-21T12:00:00Z ",
            " 2026-11-21T12:00:00Z",
            "2026-11-21T12:00:00ZZ",
            "2026-11-21T12:00Z",
            "2026-11-21",
            "2026-1-21T12:00:00Z",
            "26-11-21T12:00:00Z",
            "+2026-11-21T12:00:00Z",
            "02026-11-21T12:00:00Z",
            "2026/11/21T12:00:00Z",
            "2026-11-21T12:00:00,5Z",
            "2026-11-21T12:00:00UTC",
            "２026-11-21T12:00:00Z",
            "0000-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-00:01",
        ] {
            assert_eq!(parse(input), None, "{input:?}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(Timestamp(1_795_262_400_000).to_rfc3339(), "2026-11-21T12:00:00Z");
        assert_eq!(Timestamp(1_795_262_400_123).to_rfc3339(), "2026-11-21T12:00:00.123Z");
        assert_eq!(Timestamp(1_795_262_400_007).to_rfc3339(), "2026-11-21T12:00:00.007Z");
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Timestamp(951_782_400_000).to_rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp(MIN_PARSED_MILLIS).to_rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp(MAX_PARSED_MILLIS).to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Timestamp(MAX_PARSED_MILLIS + 1).to_rfc3339(), "+10000-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(MIN_PARSED_MILLIS - 1000).to_rfc3339(),
            "-0001-12-31T23:59:59Z"
        );
        // Never panics, whatever the integer.
        assert_eq!(Timestamp(i64::MAX).to_rfc3339(), "+292278994-08-17T07:12:55.807Z");
        assert_eq!(Timestamp(i64::MIN).to_rfc3339(), "-292275055-05-16T16:47:04.192Z");
        assert_eq!(Timestamp(1_795_262_400_000).to_string(), "2026-11-21T12:00:00Z");
    }

    #[test]
    fn date_strings() {
        assert_eq!(Timestamp(1_795_262_400_000).to_date_string(), "2026-11-21");
        assert_eq!(Timestamp(0).to_date_string(), "1970-01-01");
        assert_eq!(Timestamp(-1).to_date_string(), "1969-12-31");
        assert_eq!(
            parse("2026-11-21T23:59:59.999Z").map(|m| Timestamp(m).to_date_string()),
            Some("2026-11-21".into())
        );
        assert_eq!(
            parse("2026-11-21T23:00:00-02:00").map(|m| Timestamp(m).to_date_string()),
            Some("2026-11-22".into())
        );
    }

    #[test]
    fn arithmetic() {
        let noon = Timestamp(1_795_262_400_000);
        assert_eq!(noon.checked_add_days(10).unwrap().to_date_string(), "2026-12-01");
        assert_eq!(noon.checked_add_days(-1).unwrap().to_rfc3339(), "2026-11-20T12:00:00Z");
        assert_eq!(noon.checked_add_millis(1).unwrap().millis(), 1_795_262_400_001);
        assert_eq!(Timestamp(i64::MAX).checked_add_millis(1), None);
        assert_eq!(Timestamp(i64::MIN).checked_add_millis(-1), None);
        assert_eq!(noon.checked_add_days(i64::MAX / 1000), None);
        assert_eq!(noon.checked_add_days(106_751_991_167), None);
        assert_eq!(Timestamp::from_millis(5).millis(), 5);
        assert_eq!(Timestamp::default(), Timestamp(0));
        assert!(Timestamp(1) < Timestamp(2));
    }

    #[test]
    fn serde_round_trip() {
        let noon = Timestamp(1_795_262_400_123);
        assert_eq!(serde_json::to_string(&noon).unwrap(), "\"2026-11-21T12:00:00.123Z\"");
        let back: Timestamp = serde_json::from_str("\"2026-11-21T13:00:00.123+01:00\"").unwrap();
        assert_eq!(back, noon);
        let err = serde_json::from_str::<Timestamp>("\"2026-02-29T00:00:00Z\"").unwrap_err();
        assert!(err.to_string().starts_with(EXPECTED), "{err}");
        let err = serde_json::from_str::<Timestamp>("1795262400000").unwrap_err();
        assert!(err.to_string().contains("an RFC 3339 timestamp"), "{err}");
        let value = serde_json::from_value::<Timestamp>(serde_json::json!("2026-11-21T12:00:00Z")).unwrap();
        assert_eq!(value.millis(), 1_795_262_400_000);
    }

    #[test]
    fn from_str() {
        assert_eq!(
            "2026-11-21T12:00:00Z".parse::<Timestamp>().unwrap().millis(),
            1_795_262_400_000
        );
        let err = "tomorrow".parse::<Timestamp>().unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidRequest);
        assert!(err.message.starts_with(EXPECTED));
    }

    /// Checks the closed-form algorithms against a day-by-day walk of the calendar over all of
    /// 0000-01-01..=9999-12-31.
    #[test]
    fn calendar_matches_naive_walk() {
        let mut days = days_from_civil(0, 1, 1);
        for year in 0..=9999 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_from_civil(year, month, day), days);
                    assert_eq!(civil_from_days(days), (year, month, day));
                    days += 1;
                }
            }
        }
        assert_eq!(days, days_from_civil(10_000, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    proptest! {
        #[test]
        fn round_trip_1970_to_9999(ms in 0i64..=MAX_PARSED_MILLIS) {
            let text = Timestamp(ms).to_rfc3339();
            prop_assert_eq!(parse(&text), Some(ms), "{}", text);
            prop_assert!(text.starts_with(&Timestamp(ms).to_date_string()));
        }

        #[test]
        fn round_trip_whole_range(ms in MIN_PARSED_MILLIS..=MAX_PARSED_MILLIS) {
            let text = Timestamp(ms).to_rfc3339();
            prop_assert_eq!(text.len(), if ms % 1000 == 0 { 20 } else { 24 });
            prop_assert_eq!(parse(&text), Some(ms));
            let json = serde_json::to_string(&Timestamp(ms)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), Timestamp(ms));
        }

        #[test]
        fn offsets_shift_the_instant(ms in 0i64..=250_000_000_000_000, hours in 0i64..=23, minutes in 0i64..=59,
                                      negative in any::<bool>()) {
            let offset = (hours * 60 + minutes) * if negative { -1 } else { 1 };
            let local = Timestamp(ms + offset * 60_000).to_rfc3339();
            let sign = if negative { '-' } else { '+' };
            let text = format!("{}{sign}{hours:02}:{minutes:02}", local.trim_end_matches('Z'));
            prop_assert_eq!(parse(&text), Some(ms), "{}", text);
        }

        #[test]
        fn never_panics(s in "[0-9T:Zz+.-]{0,40}") {
            let _ = Timestamp::parse_rfc3339(&s);
        }

        #[test]
        fn formatting_never_panics(ms in any::<i64>()) {
            let _ = Timestamp(ms).to_rfc3339();
            let _ = Timestamp(ms).to_date_string();
        }
    }
}
