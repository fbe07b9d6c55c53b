//! A length of time an operator types: `90d`, `12h`, `2w`.

use std::fmt;
use std::str::FromStr;

use super::{Echo, InvalidValue, DAY_MILLIS, HOUR_MILLIS};

/// Whole hours, days or weeks, from one hour to a hundred years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    millis: i64,
    text: (u32, char),
}

impl Period {
    pub fn millis(&self) -> i64 {
        self.millis
    }
}

impl FromStr for Period {
    type Err = InvalidValue;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            InvalidValue(format!(
                "`{}` is not a period: a whole number and h, d or w (e.g. 90d), from 1h to 36500d",
                Echo(raw)
            ))
        };
        let raw = raw.trim();
        let unit = raw.chars().last().ok_or_else(invalid)?;
        let per_unit = match unit {
            'h' => HOUR_MILLIS,
            'd' => DAY_MILLIS,
            'w' => 7 * DAY_MILLIS,
            _ => return Err(invalid()),
        };
        let digits = &raw[..raw.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let count: u32 = digits.parse().map_err(|_| invalid())?;
        let millis = i64::from(count) * per_unit;
        if count == 0 || millis > 36_500 * DAY_MILLIS {
            return Err(invalid());
        }
        Ok(Self {
            millis,
            text: (count, unit),
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.text.0, self.text.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_nonsense_does_not() {
        assert_eq!("90d".parse::<Period>().unwrap().millis(), 90 * DAY_MILLIS);
        assert_eq!("12h".parse::<Period>().unwrap().millis(), 12 * HOUR_MILLIS);
        assert_eq!("2w".parse::<Period>().unwrap().to_string(), "2w");
        for bad in [
            "",
            "d",
            "0d",
            "-5d",
            "5",
            "5m",
            "1.5d",
            "36501d",
            "99999999999d",
            "5 d",
            "٣d",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }
}
