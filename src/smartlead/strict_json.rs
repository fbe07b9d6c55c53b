//! JSON parsing that refuses repeated keys. serde_json keeps the last of two equal keys, so a
//! body with two `secret_key`s or two `event_type`s could authenticate with one value and be
//! read with another; such a body is ambiguous and rejected, at any depth.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::SmartleadError;

/// The body as a JSON object with unique keys.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, SmartleadError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(SmartleadError::EmptyBody);
    }
    let value = serde_json::from_slice::<StrictValue>(body).map_err(|err| {
        match err.to_string().strip_prefix(DUPLICATE_PREFIX) {
            Some(rest) => {
                SmartleadError::DuplicateKey(rest.split('`').next().unwrap_or_default().to_owned())
            }
            None => SmartleadError::InvalidJson(err),
        }
    })?;
    match value.0 {
        Value::Object(map) => Ok(map),
        _ => Err(SmartleadError::NotAnObject),
    }
}

const DUPLICATE_PREFIX: &str = "duplicate key `";

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let StrictValue(value) = access.next_value()?;
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUPLICATE_PREFIX}{key}`")));
            }
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_objects_and_rejects_other_json() {
        assert_eq!(
            parse_object(br#"{"a":1,"b":{"c":[1,"x"]}}"#).unwrap()["b"]["c"][1],
            "x"
        );
        assert!(matches!(
            parse_object(b"[1,2]"),
            Err(SmartleadError::NotAnObject)
        ));
        assert!(matches!(
            parse_object(b"  \n"),
            Err(SmartleadError::EmptyBody)
        ));
        assert!(matches!(
            parse_object(br#"{"a":"#),
            Err(SmartleadError::InvalidJson(_))
        ));
        assert!(matches!(
            parse_object(&[0xff, 0xfe]),
            Err(SmartleadError::InvalidJson(_))
        ));
    }

    #[test]
    fn repeated_keys_are_ambiguous_at_any_depth() {
        let top = parse_object(br#"{"secret_key":"a","event_type":"EMAIL_OPEN","secret_key":"b"}"#);
        assert!(matches!(top, Err(SmartleadError::DuplicateKey(k)) if k == "secret_key"));
        let nested = parse_object(br#"{"lead":{"email":"a@x.io","email":"b@x.io"}}"#);
        assert!(matches!(nested, Err(SmartleadError::DuplicateKey(k)) if k == "email"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let body = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_object(body.as_bytes()),
            Err(SmartleadError::InvalidJson(_))
        ));
    }
}
