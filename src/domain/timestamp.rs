use super::Echo;
use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

use super::InvalidValue;

/// A UTC instant with millisecond precision. Its text form `YYYY-MM-DDTHH:MM:SS.sssZ` has a fixed
/// width, so text order is time order: the database compares and indexes it as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcTimestamp(DateTime<Utc>);

/// Epoch values below this are seconds, above it milliseconds (1e11 s is the year 5138).
const EPOCH_MILLIS_THRESHOLD: i64 = 100_000_000_000;

impl UtcTimestamp {
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        // Truncate to millis so the stored text and the in-memory value compare the same way.
        let millis = dt.timestamp_millis();
        Self(Utc.timestamp_millis_opt(millis).single().unwrap_or(dt))
    }

    /// Parses RFC 3339 with any offset and fraction (`…+00:00`, `…Z`, µs or none), normalized to UTC.
    /// A date alone (`2025-10-14`) means its midnight UTC, which is what query ranges want.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let trimmed = raw.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(trimmed) {
            return Self::checked(dt.with_timezone(&Utc), raw);
        }
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
            if let Some(dt) = date.and_hms_opt(0, 0, 0) {
                return Self::checked(dt.and_utc(), raw);
            }
        }
        Err(InvalidValue(format!(
            "`{}` is not an ISO-8601 timestamp with an offset",
            Echo(trimmed)
        )))
    }

    /// Epoch seconds or milliseconds (told apart by magnitude).
    pub fn from_epoch(value: i64) -> Result<Self, InvalidValue> {
        let millis = if value.abs() < EPOCH_MILLIS_THRESHOLD {
            value.checked_mul(1000)
        } else {
            Some(value)
        };
        millis
            .and_then(|m| Utc.timestamp_millis_opt(m).single())
            .map(Self::from_datetime)
            .and_then(|t| Self::checked(t.0, &value.to_string()).ok())
            .ok_or_else(|| InvalidValue(format!("`{value}` is not a usable epoch timestamp")))
    }

    /// Only years 0000–9999 keep the fixed-width text form that makes text order time order.
    fn checked(dt: DateTime<Utc>, raw: &str) -> Result<Self, InvalidValue> {
        let year = dt.format("%Y").to_string();
        if year.len() == 4 && !year.starts_with('-') {
            Ok(Self::from_datetime(dt))
        } else {
            Err(InvalidValue(format!(
                "`{}` is outside years 0000-9999",
                Echo(raw.trim())
            )))
        }
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// The hour this instant falls in: the one place analytics' hour buckets are computed.
    pub fn hour_start(&self) -> Self {
        self.floor_to(HOUR_MILLIS)
    }

    /// The (UTC) day this instant falls in.
    pub fn day_start(&self) -> Self {
        self.floor_to(DAY_MILLIS)
    }

    /// The start of the unit (an hour or a day, in millis) this instant falls in.
    pub fn floor_to(&self, unit_millis: i64) -> Self {
        let m = self.millis();
        Self::from_millis(m - m.rem_euclid(unit_millis))
    }

    /// The first unit boundary at or after this instant.
    pub fn ceil_to(&self, unit_millis: i64) -> Self {
        let floor = self.floor_to(unit_millis);
        if floor == *self {
            floor
        } else {
            Self::from_millis(floor.millis() + unit_millis)
        }
    }

    /// This instant moved by `millis` (negative: earlier).
    pub fn plus_millis(&self, millis: i64) -> Self {
        Self::from_millis(self.millis().saturating_add(millis))
    }

    fn from_millis(millis: i64) -> Self {
        Self(
            Utc.timestamp_millis_opt(millis)
                .single()
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }
}

pub const HOUR_MILLIS: i64 = 3_600_000;
pub const DAY_MILLIS: i64 = 24 * HOUR_MILLIS;

impl fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_every_smartlead_format_to_utc_millis() {
        let cases = [
            (
                "2025-10-14T09:12:44.218301+00:00",
                "2025-10-14T09:12:44.218Z",
            ),
            ("2025-03-28T09:35:01+00:00", "2025-03-28T09:35:01.000Z"),
            ("2023-09-26T11:16:24.671Z", "2023-09-26T11:16:24.671Z"),
            ("2025-10-14T11:00:00+02:00", "2025-10-14T09:00:00.000Z"),
            ("2025-10-14", "2025-10-14T00:00:00.000Z"),
        ];
        for (raw, want) in cases {
            assert_eq!(UtcTimestamp::parse(raw).unwrap().to_string(), want, "{raw}");
        }
    }

    #[test]
    fn epoch_seconds_and_millis() {
        assert_eq!(
            UtcTimestamp::from_epoch(1_760_433_164).unwrap().to_string(),
            "2025-10-14T09:12:44.000Z"
        );
        assert_eq!(
            UtcTimestamp::from_epoch(1_760_433_164_218)
                .unwrap()
                .to_string(),
            "2025-10-14T09:12:44.218Z"
        );
    }

    #[test]
    fn rejects_garbage_and_naive_times() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-10-14T09:12:44",
        ] {
            assert!(UtcTimestamp::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rounding_to_hours_and_days() {
        let t = UtcTimestamp::parse("2025-10-14T09:12:44.218Z").unwrap();
        assert_eq!(
            t.floor_to(HOUR_MILLIS).to_string(),
            "2025-10-14T09:00:00.000Z"
        );
        assert_eq!(
            t.ceil_to(HOUR_MILLIS).to_string(),
            "2025-10-14T10:00:00.000Z"
        );
        assert_eq!(
            t.floor_to(DAY_MILLIS).to_string(),
            "2025-10-14T00:00:00.000Z"
        );
        let on_hour = UtcTimestamp::parse("2025-10-14T09:00:00Z").unwrap();
        assert_eq!(on_hour.ceil_to(HOUR_MILLIS), on_hour);
        assert_eq!(
            on_hour.plus_millis(-HOUR_MILLIS).to_string(),
            "2025-10-14T08:00:00.000Z"
        );
    }

    #[test]
    fn text_order_is_time_order() {
        let a = UtcTimestamp::parse("2025-10-14T09:59:59.999Z").unwrap();
        let b = UtcTimestamp::parse("2025-10-14T10:00:00+00:00").unwrap();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }
}
