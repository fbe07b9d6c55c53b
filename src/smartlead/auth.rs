//! Webhook authentication: pure functions over the raw bytes, constant-time, fail closed.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A webhook secret. Never printed: `Debug` shows `<redacted>`.
#[derive(Clone)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no webhook secret is configured for this org")]
    NoSecretConfigured,
    #[error("the delivery carries neither a secret_key nor an X-Smartlead-Signature")]
    MissingCredentials,
    #[error("the X-Smartlead-Signature header is not `sha256=<64 hex digits>`")]
    MalformedSignature,
    #[error("the delivery carries more than one X-Smartlead-Signature header")]
    RepeatedSignature,
    #[error("the X-Smartlead-Signature does not match the body")]
    BadSignature,
    #[error("the secret_key does not match")]
    WrongSecret,
}

/// Checks the `X-Smartlead-Signature` header (HMAC-SHA256 of the exact body bytes) when present,
/// else the body's `secret_key`. A header that is present but does not verify fails, whatever
/// the body says: a sender that signs is held to its signature.
pub fn authenticate(
    raw_body: &[u8],
    signature_header: Option<&str>,
    body_secret: Option<&WebhookSecret>,
    expected: Option<&WebhookSecret>,
) -> Result<(), AuthError> {
    let expected = expected.ok_or(AuthError::NoSecretConfigured)?;
    match (signature_header, body_secret) {
        (Some(header), _) => verify_signature(raw_body, header, expected),
        (None, Some(given)) => verify_secret(given, expected),
        (None, None) => Err(AuthError::MissingCredentials),
    }
}

fn verify_signature(
    raw_body: &[u8],
    header: &str,
    secret: &WebhookSecret,
) -> Result<(), AuthError> {
    let header = header.trim();
    let hex_digest = header
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
        .map(|_| &header[7..])
        .ok_or(AuthError::MalformedSignature)?;
    let signature = hex::decode(hex_digest).map_err(|_| AuthError::MalformedSignature)?;
    if signature.len() != 32 {
        return Err(AuthError::MalformedSignature);
    }
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.bytes()).expect("HMAC accepts keys of any length");
    mac.update(raw_body);
    // verify_slice compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| AuthError::BadSignature)
}

/// Compares digests rather than the secrets themselves so that neither content nor length leaks
/// through timing.
fn verify_secret(given: &WebhookSecret, expected: &WebhookSecret) -> Result<(), AuthError> {
    let given = Sha256::digest(given.bytes());
    let expected = Sha256::digest(expected.bytes());
    if bool::from(given.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(AuthError::WrongSecret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event_type":"EMAIL_OPEN"}"#;

    fn sign(body: &[u8], secret: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn secret(s: &str) -> WebhookSecret {
        WebhookSecret::new(s)
    }

    #[test]
    fn body_secret_must_match() {
        let s = secret("s3cret");
        assert_eq!(
            authenticate(BODY, None, Some(&secret("s3cret")), Some(&s)),
            Ok(())
        );
        assert_eq!(
            authenticate(BODY, None, Some(&secret("other")), Some(&s)),
            Err(AuthError::WrongSecret)
        );
        assert_eq!(
            authenticate(BODY, None, None, Some(&s)),
            Err(AuthError::MissingCredentials)
        );
    }

    #[test]
    fn signature_over_exact_bytes() {
        let s = secret("s3cret");
        let good = sign(BODY, "s3cret");
        assert_eq!(authenticate(BODY, Some(&good), None, Some(&s)), Ok(()));
        assert_eq!(
            authenticate(
                BODY,
                Some(&good.to_uppercase().replace("SHA256=", "sha256=")),
                None,
                Some(&s)
            ),
            Ok(())
        );
        // Same JSON, re-serialized with a space: a different body, so a different signature.
        let reserialized = br#"{"event_type": "EMAIL_OPEN"}"#;
        assert_eq!(
            authenticate(reserialized, Some(&good), None, Some(&s)),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            authenticate(BODY, Some(&sign(BODY, "other")), None, Some(&s)),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn a_bad_signature_fails_even_with_a_good_body_secret() {
        let s = secret("s3cret");
        let bad = sign(BODY, "other");
        assert_eq!(
            authenticate(BODY, Some(&bad), Some(&secret("s3cret")), Some(&s)),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            authenticate(BODY, Some("sha256=zz"), Some(&secret("s3cret")), Some(&s)),
            Err(AuthError::MalformedSignature)
        );
        assert_eq!(
            authenticate(BODY, Some("md5=abc"), None, Some(&s)),
            Err(AuthError::MalformedSignature)
        );
    }

    #[test]
    fn fails_closed_without_a_configured_secret() {
        let good = sign(BODY, "");
        assert_eq!(
            authenticate(BODY, Some(&good), Some(&secret("")), None),
            Err(AuthError::NoSecretConfigured)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", secret("s3cret")).contains("s3cret"));
    }
}
