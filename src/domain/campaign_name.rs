//! A campaign's human name, as Smartlead sends it with its events (`campaign_name`).

use std::fmt;

/// The longest name kept, in characters: Smartlead's own editor stops well short of it, and it
/// bounds what a hostile payload can put on every page that lists campaigns.
pub const MAX_CHARS: usize = 200;

/// Trimmed, non-empty, at most [`MAX_CHARS`] characters, control characters replaced by spaces
/// (a name is shown on one line).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CampaignName(String);

impl CampaignName {
    /// `None` for a name that is empty once trimmed. A longer name is cut at [`MAX_CHARS`]
    /// rather than refused: it names the campaign, and its event is stored either way.
    pub fn parse(raw: &str) -> Option<Self> {
        let cleaned: String = raw
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_CHARS)
            .collect();
        let name = cleaned.trim_end();
        (!name.is_empty()).then(|| Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CampaignName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_one_line_and_bounded() {
        assert_eq!(
            CampaignName::parse("  Q4 Ops leaders — EU 🇪🇺 ")
                .unwrap()
                .as_str(),
            "Q4 Ops leaders — EU 🇪🇺"
        );
        assert_eq!(CampaignName::parse("a\nb\t").unwrap().as_str(), "a b");
        assert!(CampaignName::parse(" \n ").is_none());
        let long = "é".repeat(MAX_CHARS + 5);
        assert_eq!(
            CampaignName::parse(&long).unwrap().as_str().chars().count(),
            MAX_CHARS
        );
    }
}
