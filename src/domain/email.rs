use super::Echo;
use std::fmt;

use super::InvalidValue;

/// A lead's address, trimmed and lower-cased so that the same person always matches the same
/// lead row whatever case Smartlead used in a given payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let normalized = raw.trim().to_lowercase();
        let valid = match normalized.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && normalized.len() <= 320
                    && !normalized
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Self(normalized))
        } else {
            Err(InvalidValue(format!(
                "`{}` is not an email address",
                Echo(raw.trim())
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        let e = EmailAddress::parse("  Anna.Kowalska@Wisla-Logistyka.example ").unwrap();
        assert_eq!(e.as_str(), "anna.kowalska@wisla-logistyka.example");
    }

    #[test]
    fn rejects_non_addresses() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@domain",
            "local@",
            "a b@c.d",
            "a@b@c",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
