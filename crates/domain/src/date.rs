//! Calendar dates, the only notion of time the rules know.
//!
//! Events carry their own dates (issue date, effective date); `decide` never reads a clock.
//! On the wire a date is the number of days since 1970-01-01 as an `i32` (little-endian),
//! which keeps ordering trivial and the encoding independent of any date library.

use std::fmt;
use std::str::FromStr;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date as CivilDate, Month};

/// A calendar date (proleptic Gregorian), written `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(CivilDate);

const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

impl Date {
    /// The latest representable date: "as of now, whatever is on the ledger".
    pub const MAX: Date = Date(CivilDate::MAX);

    /// Builds a date from its parts, or `None` when it does not exist (e.g. 2023-02-29).
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Date> {
        let month = Month::try_from(month).ok()?;
        CivilDate::from_calendar_date(year, month, day)
            .ok()
            .map(Date)
    }

    /// Days since 1970-01-01 (negative before it): the wire form.
    pub fn days_since_unix_epoch(self) -> i32 {
        self.0.to_julian_day() - UNIX_EPOCH_JULIAN_DAY
    }

    /// The inverse of [`Date::days_since_unix_epoch`]; `None` outside the supported range.
    pub fn from_days_since_unix_epoch(days: i32) -> Option<Date> {
        let julian = days.checked_add(UNIX_EPOCH_JULIAN_DAY)?;
        CivilDate::from_julian_day(julian).ok().map(Date)
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    pub fn month(self) -> u8 {
        self.0.month() as u8
    }

    pub fn day(self) -> u8 {
        self.0.day()
    }

    /// The same calendar day `years` later. A 29 February lands on 28 February in a common
    /// year: "N full years after a leap day" is the day before 1 March, as the sources count
    /// seniority in whole years.
    pub fn add_years(self, years: u32) -> Date {
        let target_year = self.year().saturating_add(years as i32);
        match CivilDate::from_calendar_date(target_year, self.0.month(), self.day()) {
            Ok(date) => Date(date),
            // Only 29 February can fail: fall back to 28 February.
            Err(_) => Date(
                CivilDate::from_calendar_date(target_year, self.0.month(), 28)
                    .unwrap_or(CivilDate::MAX),
            ),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a date in the form YYYY-MM-DD")]
pub struct DateParseError {
    pub text: String,
}

impl FromStr for Date {
    type Err = DateParseError;

    fn from_str(text: &str) -> Result<Date, DateParseError> {
        let error = || DateParseError {
            text: text.to_string(),
        };
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(error());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, DateParseError> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error());
            }
            part.parse().map_err(|_| error())
        };
        let year = number(0..4)? as i32;
        let month = number(5..7)? as u8;
        let day = number(8..10)? as u8;
        Date::from_ymd(year, month, day).ok_or_else(error)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl bincode::Encode for Date {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.days_since_unix_epoch().encode(encoder)
    }
}

impl<Context> bincode::Decode<Context> for Date {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Date, DecodeError> {
        let days = i32::decode(decoder)?;
        Date::from_days_since_unix_epoch(days)
            .ok_or(DecodeError::Other("date out of the supported range"))
    }
}
bincode::impl_borrow_decode!(Date);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let date: Date = "2024-02-29".parse().expect("valid date");
        assert_eq!(date.to_string(), "2024-02-29");
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2023-2-28".parse::<Date>().is_err());
        assert!("2023-02-2x".parse::<Date>().is_err());
    }

    #[test]
    fn epoch_days_round_trip() {
        let date = Date::from_ymd(1970, 1, 1).expect("epoch");
        assert_eq!(date.days_since_unix_epoch(), 0);
        let date = Date::from_ymd(2025, 11, 22).expect("date");
        assert_eq!(
            Date::from_days_since_unix_epoch(date.days_since_unix_epoch()),
            Some(date)
        );
    }

    #[test]
    fn leap_day_plus_years_is_the_last_day_of_february() {
        let leap = Date::from_ymd(2020, 2, 29).expect("leap day");
        assert_eq!(
            leap.add_years(1),
            Date::from_ymd(2021, 2, 28).expect("date")
        );
        assert_eq!(leap.add_years(4), leap.add_years(4));
        assert_eq!(
            leap.add_years(4),
            Date::from_ymd(2024, 2, 29).expect("date")
        );
    }
}
