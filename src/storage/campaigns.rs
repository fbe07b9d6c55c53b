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

use crate::domain::{UtcTimestamp, HOUR_MILLIS};

/// Whether an event of time `at` giving its campaign the label `value` replaces the stored
/// `(value, time)` of that label.
pub fn supersedes(stored: Option<(&str, UtcTimestamp)>, value: &str, at: UtcTimestamp) -> bool {
    match stored {
        None => true,
        Some((stored_value, stored_at)) if stored_value == value => {
            at.millis() - stored_at.millis() >= HOUR_MILLIS
        }
        Some((stored_value, stored_at)) => (at, value) > (stored_at, stored_value),
    }
}

/// The labels one event gives its campaign that replace the stored ones (`None`: keep).
pub fn replaced<'a>(
    stored: &StoredLabels,
    name: Option<&'a str>,
    status: Option<&'a str>,
    at: UtcTimestamp,
) -> (Option<&'a str>, Option<&'a str>) {
    let newer = |stored: &Option<(String, UtcTimestamp)>, value: Option<&'a str>| {
        value.filter(|v| supersedes(stored.as_ref().map(|(s, t)| (s.as_str(), *t)), v, at))
    };
    (newer(&stored.name, name), newer(&stored.status, status))
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
}
