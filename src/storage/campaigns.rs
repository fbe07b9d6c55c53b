//! What a campaign is called and what state it is in, the same rule on every backend, for each
//! label (the name, the status) on its own: a campaign's label is what its newest event that
//! carries one said. Its time is stored with it (`named_at`, `status_at`), so a delivery from
//! before a rename or a pause that arrives late does not undo it; ties go to the greater value,
//! so any arrival order ends in the same labels.
//!
//! The labels ride on every event, and almost always unchanged: checking them is a read of one
//! row, and only a new value (or, at most once an hour, the same value seen later) writes, so
//! the acknowledgement path writes no more pages than before. The cost of that hour: a campaign
//! renamed (or paused) and back within it, with the deliveries out of order, can keep the middle
//! value until its next event.

use crate::domain::{CampaignLabels, CampaignName, CampaignStatus, UtcTimestamp, HOUR_MILLIS};

/// Whether an event of time `at` giving its campaign the label `value` replaces the stored
/// `(value, time)` of that label.
fn supersedes(stored: Option<(&str, UtcTimestamp)>, value: &str, at: UtcTimestamp) -> bool {
    match stored {
        None => true,
        Some((stored_value, stored_at)) if stored_value == value => {
            at.millis() - stored_at.millis() >= HOUR_MILLIS
        }
        Some((stored_value, stored_at)) => (at, value) > (stored_at, stored_value),
    }
}

/// The labels of `labels`, one event's of time `at`, that replace the stored ones (`None` in a
/// field: keep the stored one); `None` when none does, and there is nothing to write.
pub fn replaced<'a>(
    stored: &StoredLabels,
    labels: &'a CampaignLabels,
    at: UtcTimestamp,
) -> Option<Replaced<'a>> {
    let newer = |stored: &Option<(String, UtcTimestamp)>, value: Option<&'a str>| {
        value.filter(|v| supersedes(stored.as_ref().map(|(s, t)| (s.as_str(), *t)), v, at))
    };
    let replaced = Replaced {
        name: newer(&stored.name, labels.name.as_ref().map(CampaignName::as_str)),
        status: newer(
            &stored.status,
            labels.status.as_ref().map(CampaignStatus::as_str),
        ),
    };
    (replaced.name.is_some() || replaced.status.is_some()).then_some(replaced)
}

/// What one event changes of its campaign's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced<'a> {
    pub name: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// A campaign's stored labels, each with the time of the event that gave it.
#[derive(Debug, Clone, Default)]
pub struct StoredLabels {
    pub name: Option<(String, UtcTimestamp)>,
    pub status: Option<(String, UtcTimestamp)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> UtcTimestamp {
        UtcTimestamp::parse(raw).unwrap()
    }

    #[test]
    fn the_newest_label_wins_and_an_unchanged_one_is_rewritten_at_most_hourly() {
        let t = at("2025-10-16T10:00:00Z");
        assert!(supersedes(None, "Q4", t));
        assert!(supersedes(
            Some(("Q4", t)),
            "Q4 EU",
            at("2025-10-16T10:00:01Z")
        ));
        assert!(!supersedes(
            Some(("Q4 EU", t)),
            "Q4",
            at("2025-10-16T09:59:59Z")
        ));
        // Same time: the greater name, whichever arrived first.
        assert!(supersedes(Some(("A", t)), "B", t));
        assert!(!supersedes(Some(("B", t)), "A", t));
        assert!(!supersedes(
            Some(("Q4", t)),
            "Q4",
            at("2025-10-16T10:59:59Z")
        ));
        assert!(supersedes(
            Some(("Q4", t)),
            "Q4",
            at("2025-10-16T11:00:00Z")
        ));
    }

    #[test]
    fn each_label_is_judged_on_its_own() {
        let t = at("2025-10-16T10:00:00Z");
        let stored = StoredLabels {
            name: Some(("Q4".into(), t)),
            status: Some(("PAUSED".into(), at("2025-10-16T12:00:00Z"))),
        };
        let labels = |name: Option<&str>, status: Option<&str>| CampaignLabels {
            name: name.and_then(CampaignName::parse),
            status: status.and_then(CampaignStatus::parse),
        };
        // Newer than the name, older than the pause.
        let later = at("2025-10-16T11:00:00Z");
        let both = labels(Some("Q4 EU"), Some("ACTIVE"));
        let expected = Replaced {
            name: Some("Q4 EU"),
            status: None,
        };
        assert_eq!(replaced(&stored, &both, later), Some(expected));
        assert_eq!(
            replaced(&stored, &labels(None, Some("ACTIVE")), later),
            None
        );
        let first = labels(None, Some("ACTIVE"));
        let expected = Replaced {
            name: None,
            status: Some("ACTIVE"),
        };
        assert_eq!(
            replaced(&StoredLabels::default(), &first, t),
            Some(expected)
        );
    }
}
