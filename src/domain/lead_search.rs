use super::{Echo, InvalidValue};

/// The longest text a lead search takes, in characters: longer than any address (320) would
/// never be needed to tell leads apart, and a bound keeps a scan's comparison cheap.
pub const MAX_SEARCH_CHARS: usize = 100;

/// What a person typed to find a lead (`/api/leads?q=`): a part of its address, its name
/// ("First Last" as shown) or its company. Trimmed and lower-cased, so that the match ignores
/// case the same way whichever backend compares it, and one line: a line break cannot be
/// typed into a search box, and the stores join a lead's fields with one to keep a search from
/// matching across two of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadSearch(String);

impl LeadSearch {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim().to_lowercase();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(InvalidValue(
                "give at least one character to search for".into(),
            ));
        }
        if chars > MAX_SEARCH_CHARS {
            return Err(InvalidValue(format!(
                "`{}` is longer than {MAX_SEARCH_CHARS} characters",
                Echo(raw.trim())
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidValue(format!(
                "`{}` holds a control character",
                Echo(raw.trim())
            )));
        }
        Ok(Self(text))
    }

    /// The lower-cased text: what each lead's lower-cased fields are searched for.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases_letters_of_any_script() {
        assert_eq!(
            LeadSearch::parse("  Zoë LEFÈVRE ").unwrap().as_str(),
            "zoë lefèvre"
        );
        assert_eq!(LeadSearch::parse("@Acme.IO").unwrap().as_str(), "@acme.io");
    }

    #[test]
    fn takes_one_to_a_hundred_characters_of_one_line() {
        assert!(LeadSearch::parse(&"é".repeat(MAX_SEARCH_CHARS)).is_ok());
        for bad in [
            String::new(),
            "   ".into(),
            "é".repeat(MAX_SEARCH_CHARS + 1),
            "ann\nkowalska".into(),
            "ann\u{0}".into(),
        ] {
            assert!(LeadSearch::parse(&bad).is_err(), "{bad:?} accepted");
        }
    }
}
