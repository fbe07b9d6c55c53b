//! Who a lead is, as Smartlead's events say it: their name and their company.

/// The longest name or company kept, in characters: far past any real one, and it bounds what a
/// hostile payload can put on every page that lists leads.
pub const MAX_PROFILE_CHARS: usize = 200;

/// One line of text for a profile: trimmed, whitespace runs (line breaks included) made one
/// space, at most [`MAX_PROFILE_CHARS`]; `None` when nothing is left.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileText(String);

impl ProfileText {
    pub fn parse(raw: &str) -> Option<Self> {
        let words = raw.split(|c: char| c.is_whitespace() || c.is_control());
        let text: String = words
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(MAX_PROFILE_CHARS)
            .collect();
        let text = text.trim_end();
        (!text.is_empty()).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What one event says about its lead; any part may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadProfile {
    pub first_name: Option<ProfileText>,
    pub last_name: Option<ProfileText>,
    pub company: Option<ProfileText>,
}

impl LeadProfile {
    /// From the parts as Smartlead's lead record has them.
    pub fn from_parts(first: Option<&str>, last: Option<&str>, company: Option<&str>) -> Self {
        Self {
            first_name: first.and_then(ProfileText::parse),
            last_name: last.and_then(ProfileText::parse),
            company: company.and_then(ProfileText::parse),
        }
    }

    /// From a whole name written first name first: split at the first space, so that the two
    /// parts shown together are the name as given ("Mary Ann Smith" is "Mary" and "Ann Smith").
    /// An address is not a name.
    pub fn from_full_name(raw: &str) -> Self {
        let Some(name) = ProfileText::parse(raw).filter(|n| !n.0.contains('@')) else {
            return Self::default();
        };
        let (first, last) = match name.0.split_once(' ') {
            Some((first, last)) => (first, Some(last)),
            None => (name.0.as_str(), None),
        };
        Self::from_parts(Some(first), last, None)
    }

    pub fn is_empty(&self) -> bool {
        self.first_name.is_none() && self.last_name.is_none() && self.company.is_none()
    }

    /// `self`, named by the whole name `raw` when it has neither a first nor a last name (never
    /// half of each: "Mary Ann" and a split "Mary Ann Smith" would show "Mary Ann Ann Smith").
    pub fn or_full_name(self, raw: Option<&str>) -> Self {
        if self.first_name.is_some() || self.last_name.is_some() {
            return self;
        }
        let named = raw.map(Self::from_full_name).unwrap_or_default();
        Self {
            company: self.company,
            ..named
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(profile: &LeadProfile) -> [Option<&str>; 3] {
        [
            profile.first_name.as_ref().map(ProfileText::as_str),
            profile.last_name.as_ref().map(ProfileText::as_str),
            profile.company.as_ref().map(ProfileText::as_str),
        ]
    }

    #[test]
    fn a_whole_name_splits_at_its_first_space() {
        let cases = [
            ("Zoë Lefèvre", [Some("Zoë"), Some("Lefèvre"), None]),
            (
                "  Mary Ann\n   Smith ",
                [Some("Mary"), Some("Ann Smith"), None],
            ),
            ("Cher", [Some("Cher"), None, None]),
            ("zoe@acme.example", [None, None, None]),
            (" \t ", [None, None, None]),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                parts(&LeadProfile::from_full_name(raw)),
                expected,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn parts_are_one_bounded_line_and_fill_in_from_another_profile() {
        let long = "x".repeat(MAX_PROFILE_CHARS + 10);
        let given = LeadProfile::from_parts(Some("Rahul"), None, Some(" Iyer &\r\nSons "));
        assert_eq!(parts(&given), [Some("Rahul"), None, Some("Iyer & Sons")]);
        let kept = given.clone().or_full_name(Some("Rahul Iyer"));
        assert_eq!(parts(&kept), [Some("Rahul"), None, Some("Iyer & Sons")]);
        let company_only = LeadProfile::from_parts(None, None, Some("Iyer & Sons"));
        let named = company_only.or_full_name(Some("Rahul Iyer"));
        assert_eq!(
            parts(&named),
            [Some("Rahul"), Some("Iyer"), Some("Iyer & Sons")]
        );
        let bounded = LeadProfile::from_parts(Some(&long), Some(""), None);
        assert_eq!(
            bounded.first_name.unwrap().as_str().chars().count(),
            MAX_PROFILE_CHARS
        );
        assert!(bounded.last_name.is_none());
    }
}
