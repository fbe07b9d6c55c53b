//! Typed, lenient-where-Smartlead-is-inconsistent access to the payload's fields.
//!
//! Smartlead sends ids as numbers in one field and strings in the next, and its "Response
//! Structure" templates show every value as a string, so id and number fields accept both. A field
//! that is present with a type no shape uses (an object for `campaign_id`, a bool for
//! `sequence_number`) is an error, never silently skipped. `null` and `""` count as absent.

use serde_json::{Map, Value};

use super::MappingError;
use crate::domain::UtcTimestamp;

pub struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self { map }
    }

    /// The value at a dotted path (`lead.email`), absent when null or an empty string.
    fn get(&self, path: &str) -> Option<&'a Value> {
        let mut parts = path.split('.');
        let mut value = self.map.get(parts.next()?)?;
        for part in parts {
            value = value.as_object()?.get(part)?;
        }
        match value {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            other => Some(other),
        }
    }

    pub fn text(&self, path: &'static str) -> Result<Option<&'a str>, MappingError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(_) => Err(MappingError::WrongType {
                field: path,
                expected: "a string",
            }),
        }
    }

    /// The first present field among `paths`, as text.
    pub fn first_text(
        &self,
        paths: &[&'static str],
    ) -> Result<Option<(&'static str, &'a str)>, MappingError> {
        for path in paths {
            if let Some(text) = self.text(path)? {
                return Ok(Some((path, text)));
            }
        }
        Ok(None)
    }

    /// An identifier sent as a string or an integer (lead ids exceed 2³¹: kept as text).
    pub fn id(&self, path: &'static str) -> Result<Option<String>, MappingError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(MappingError::WrongType {
                field: path,
                expected: "a string or an integer",
            }),
        }
    }

    pub fn first_id(&self, paths: &[&'static str]) -> Result<Option<String>, MappingError> {
        for path in paths {
            if let Some(id) = self.id(path)? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// A small non-negative integer sent as a number or a numeric string (`1`, `"3"`).
    pub fn count(&self, path: &'static str) -> Result<Option<u64>, MappingError> {
        let wrong = || MappingError::WrongType {
            field: path,
            expected: "a whole number",
        };
        match self.get(path) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(wrong),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| wrong()),
            Some(_) => Err(wrong()),
        }
    }

    /// A time as ISO-8601 text with an offset, or epoch seconds/milliseconds.
    pub fn time(&self, path: &'static str) -> Result<Option<UtcTimestamp>, MappingError> {
        let parsed = match self.get(path) {
            None => return Ok(None),
            Some(Value::String(s)) => UtcTimestamp::parse(s),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(epoch) => UtcTimestamp::from_epoch(epoch),
                None => {
                    return Err(MappingError::WrongType {
                        field: path,
                        expected: "a timestamp",
                    })
                }
            },
            Some(_) => {
                return Err(MappingError::WrongType {
                    field: path,
                    expected: "a timestamp",
                })
            }
        };
        parsed
            .map(Some)
            .map_err(|e| MappingError::InvalidTimestamp {
                field: path,
                reason: e.to_string(),
            })
    }

    pub fn first_time(&self, paths: &[&'static str]) -> Result<Option<UtcTimestamp>, MappingError> {
        for path in paths {
            if let Some(time) = self.time(path)? {
                return Ok(Some(time));
            }
        }
        Ok(None)
    }

    /// A string or an array of strings (clicked links arrive both ways), joined by spaces.
    pub fn strings(&self, path: &'static str) -> Result<Option<String>, MappingError> {
        let wrong = || MappingError::WrongType {
            field: path,
            expected: "a string or an array of strings",
        };
        match self.get(path) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Array(items)) => {
                let texts: Option<Vec<&str>> =
                    items.iter().map(|v| v.as_str().map(str::trim)).collect();
                let joined = texts.ok_or_else(wrong)?.join(" ");
                Ok(Some(joined).filter(|s| !s.is_empty()))
            }
            Some(_) => Err(wrong()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn ids_accept_strings_and_big_integers() {
        let map = with(
            json!({"a": "4155843310", "b": 4155843310_u64, "c": null, "d": {"x": 1}, "e": 1.5}),
        );
        let f = Fields::new(&map);
        assert_eq!(f.id("a").unwrap().as_deref(), Some("4155843310"));
        assert_eq!(f.id("b").unwrap().as_deref(), Some("4155843310"));
        assert_eq!(f.id("c").unwrap(), None);
        assert!(f.id("d").is_err());
        assert!(f.id("e").is_err());
    }

    #[test]
    fn counts_accept_numeric_strings_only() {
        let map = with(json!({"n": 3, "s": "2", "b": true, "x": "two"}));
        let f = Fields::new(&map);
        assert_eq!(f.count("n").unwrap(), Some(3));
        assert_eq!(f.count("s").unwrap(), Some(2));
        assert!(f.count("b").is_err());
        assert!(f.count("x").is_err());
    }

    #[test]
    fn nested_paths_and_empty_strings() {
        let map = with(json!({"lead": {"email": " A@B.io "}, "to_email": ""}));
        let f = Fields::new(&map);
        assert_eq!(f.text("lead.email").unwrap(), Some("A@B.io"));
        assert_eq!(
            f.first_text(&["to_email", "lead.email"]).unwrap(),
            Some(("lead.email", "A@B.io"))
        );
    }

    #[test]
    fn links_as_string_or_array() {
        let map =
            with(json!({"a": ["https://x.io/1", "https://x.io/2"], "b": "https://y.io", "c": [1]}));
        let f = Fields::new(&map);
        assert_eq!(
            f.strings("a").unwrap().as_deref(),
            Some("https://x.io/1 https://x.io/2")
        );
        assert_eq!(f.strings("b").unwrap().as_deref(), Some("https://y.io"));
        assert!(f.strings("c").is_err());
    }
}
