use sha2::{Digest, Sha256};

use super::InvalidValue;

/// A bearer token: 256 random bits, shown to the operator once. Only its SHA-256 is stored, so a
/// copy of the database does not hand out API access.
pub struct ApiToken(String);

const PREFIX: &str = "slh_";

impl ApiToken {
    pub fn generate() -> Result<Self, InvalidValue> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| InvalidValue(format!("no randomness available: {e}")))?;
        Ok(Self(format!("{PREFIX}{}", hex::encode(bytes))))
    }

    /// The token as presented by a client. Anything of the wrong shape is refused before a lookup.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let valid = raw.len() == PREFIX.len() + 64
            && raw.starts_with(PREFIX)
            && raw[PREFIX.len()..].bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue("malformed API token".into()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value stored and looked up: hex SHA-256 of the token.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = ApiToken::generate().unwrap();
        let b = ApiToken::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(ApiToken::parse(a.expose()).unwrap().hash(), a.hash());
        assert_eq!(a.hash().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "slh_",
            "slh_xyz",
            &format!("abc_{}", "0".repeat(64)),
            &format!("slh_{}", "g".repeat(64)),
        ] {
            assert!(ApiToken::parse(bad).is_err(), "{bad:?}");
        }
    }
}
