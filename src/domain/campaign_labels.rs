//! What Smartlead calls a campaign and what state it says it is in, as sent with its events
//! (`campaign_name`, `campaign_status`).

use std::fmt;

/// The labels one event gives its campaign; either may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignLabels {
    pub name: Option<CampaignName>,
    pub status: Option<CampaignStatus>,
}

impl CampaignLabels {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.status.is_none()
    }
}

/// The longest name kept, in characters: Smartlead's own editor stops well short of it, and it
/// bounds what a hostile payload can put on every page that lists campaigns.
pub const MAX_NAME_CHARS: usize = 200;

/// Trimmed, non-empty, at most [`MAX_NAME_CHARS`] characters, control characters replaced by spaces
/// (a name is shown on one line).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CampaignName(String);

impl CampaignName {
    /// `None` for a name that is empty once trimmed. A longer name is cut at [`MAX_NAME_CHARS`]
    /// rather than refused: it names the campaign, and its event is stored either way.
    pub fn parse(raw: &str) -> Option<Self> {
        let cleaned: String = raw
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_NAME_CHARS)
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

/// The longest status kept: Smartlead's are one word (`ACTIVE`, `PAUSED`, `COMPLETED`,
/// `STOPPED`, `DRAFTED`, `ARCHIVED`); an unknown one is kept as sent, within this bound.
pub const MAX_STATUS_CHARS: usize = 32;

/// A campaign's status: upper-cased, letters, digits and `_` only, at most
/// [`MAX_STATUS_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CampaignStatus(String);

impl CampaignStatus {
    /// `None` for anything that is not one word of at most [`MAX_STATUS_CHARS`] characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let status = raw.trim().to_ascii_uppercase();
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        (!status.is_empty() && status.len() <= MAX_STATUS_CHARS && status.chars().all(word))
            .then_some(Self(status))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
        let long = "é".repeat(MAX_NAME_CHARS + 5);
        assert_eq!(
            CampaignName::parse(&long).unwrap().as_str().chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn statuses_are_one_upper_case_word() {
        assert_eq!(
            CampaignStatus::parse(" paused ").unwrap().as_str(),
            "PAUSED"
        );
        assert_eq!(
            CampaignStatus::parse("ON_HOLD").unwrap().as_str(),
            "ON_HOLD"
        );
        assert!(CampaignStatus::parse("").is_none());
        assert!(CampaignStatus::parse("<b>ACTIVE</b>").is_none());
        assert!(CampaignStatus::parse(&"A".repeat(MAX_STATUS_CHARS + 1)).is_none());
    }
}
