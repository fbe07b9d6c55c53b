//! The records' text values (UTC times, UUIDs) as PostgreSQL's native types and back: the
//! boundary speaks text, the schema `timestamptz` and `uuid`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StorageError;
use crate::domain::UtcTimestamp;

/// A time of a record (a cursor, a range bound) as `timestamptz`.
pub fn time(text: &str) -> Result<DateTime<Utc>, StorageError> {
    UtcTimestamp::parse(text)
        .map(|t| t.as_datetime())
        .map_err(|e| StorageError::Database(format!("a time: {}", e.0).into()))
}

/// A stored `timestamptz` in the records' form (`YYYY-MM-DDTHH:MM:SS.sssZ`).
pub fn text(at: DateTime<Utc>) -> String {
    UtcTimestamp::from_datetime(at).to_string()
}

pub fn text_opt(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(text)
}

/// An id of a record as `uuid`.
pub fn id(text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text)
        .map_err(|_| StorageError::Database(format!("`{text}` is not a stored id").into()))
}

/// A stored `uuid` in the records' form (lowercase, hyphenated).
pub fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// JSON text for a `jsonb` column, bound as text and cast in the statement (`$n::text::jsonb`),
/// so the server parses it once. `jsonb` cannot hold the character U+0000 (PostgreSQL's text
/// never can), which JSON may escape as `\u0000`: such a payload is stored with U+FFFD in its
/// place rather than refused, since a refused authentic delivery would be lost.
pub fn json(raw: &str) -> Result<std::borrow::Cow<'_, str>, StorageError> {
    if !raw.contains("\\u0000") {
        return Ok(raw.into());
    }
    let mut value: serde_json::Value = serde_json::from_str(raw)
        .map_err(|e| StorageError::Database(format!("a payload: {e}").into()))?;
    replace_nul(&mut value);
    Ok(value.to_string().into())
}

fn replace_nul(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => *s = s.replace('\0', "\u{FFFD}"),
        Value::Array(items) => items.iter_mut().for_each(replace_nul),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                replace_nul(&mut item);
                map.insert(key.replace('\0', "\u{FFFD}"), item);
            }
        }
        _ => {}
    }
}

/// Text for a `text` column: PostgreSQL's text cannot hold U+0000 either.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}").into()
    } else {
        text.into()
    }
}
