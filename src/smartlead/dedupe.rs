//! Event identity. Smartlead payloads carry no event id, retries repeat the body, and operators
//! re-send by hand days later, so the hub derives a key from what makes an event *that* event:
//! its normalized type, campaign, lead, stats/message ids, its own timestamp and the clicked link.
//! Not the whole body: a re-send may differ in `metadata` or deprecated fields. Not `message_id`
//! alone: it is shared by the sent/open/click events of one email.
//!
//! When the payload has no time of its own, the only stable identity left is the payload itself
//! (minus the secret), so retries of the same bytes still collapse.

use sha2::{Digest, Sha256};

use crate::domain::UtcTimestamp;

const SEPARATOR: u8 = 0x1f;

/// [`key`], after the event's time as 11 hex digits of Unix milliseconds: keys of events that
/// arrive in time order sort in time order, so a tenant's inserts into the dedupe index land on
/// its rightmost page instead of a random one (one random page written per event fewer,
/// issue 19). The whole of [`key`] follows, so the key without the prefix is the one the same
/// event had before (`legacy`, and what `migrate down` restores).
pub fn timed_key(time: UtcTimestamp, kind: &str, parts: &[&str]) -> TimedKey {
    let legacy = key(kind, parts);
    TimedKey {
        key: format!("{:011x}{legacy}", time.millis().max(0)),
        legacy,
    }
}

pub struct TimedKey {
    pub key: String,
    pub legacy: String,
}

/// A 128-bit hex digest of the parts, each length-delimited so that no two part lists collide.
pub fn key(kind: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    for part in parts {
        hasher.update([SEPARATOR]);
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// The identity an import gives a kept event without a time of its own: its payload and how
/// many identical bodies came before it in the same import (`occurrence`, from 0). The webhook
/// keeps every such delivery, since two genuinely separate events may be byte-identical; an
/// import of the same capture twice must keep each once, and two identical bodies in one
/// capture are still both kept.
pub fn import_key(raw_type: &str, payload: &str, occurrence: usize) -> String {
    key(
        "import-payload-v1",
        &[raw_type, payload, &occurrence.to_string()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_part_boundaries_matter() {
        assert_eq!(key("v1", &["a", "b"]), key("v1", &["a", "b"]));
        assert_ne!(key("v1", &["ab", ""]), key("v1", &["a", "b"]));
        assert_ne!(key("v1", &["a"]), key("v2", &["a"]));
        assert_eq!(key("v1", &["a"]).len(), 32);
    }

    #[test]
    fn timed_keys_sort_by_time_and_end_with_the_untimed_key() {
        let at = |s| UtcTimestamp::parse(s).unwrap();
        let early = timed_key(at("2025-10-14T09:12:44.218Z"), "v1", &["b"]);
        let late = timed_key(at("2025-10-14T09:12:44.219Z"), "v1", &["a"]);
        assert!(early.key < late.key);
        assert_eq!(early.key.len(), 43);
        assert_eq!(early.key[11..], key("v1", &["b"]));
        assert_eq!(early.legacy, key("v1", &["b"]));
        assert_eq!(&early.key[..11], "199e1fe4fba");
    }
}
