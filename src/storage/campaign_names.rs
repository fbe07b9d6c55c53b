//! Campaign names, the same rule on every backend: a campaign is called what its newest event
//! called it. `named_at` is that event's time, so a delivery from before a rename that arrives
//! late does not undo the rename; ties go to the greater name, so any arrival order ends in the
//! same name.
//!
//! The name rides on every event, and almost always unchanged: checking it is a read of one
//! row, and only a new name (or, at most once an hour, the same name seen later) writes one, so
//! the acknowledgement path writes no more pages than before. The cost of that hour: a campaign
//! renamed back and forth within it, with the deliveries out of order, can keep the middle name
//! until its next event.

use crate::domain::{UtcTimestamp, HOUR_MILLIS};

/// Whether an event naming its campaign `name` at `at` changes the stored `(name, named_at)`.
pub fn supersedes(stored: Option<(&str, UtcTimestamp)>, name: &str, at: UtcTimestamp) -> bool {
    match stored {
        None => true,
        Some((stored_name, named_at)) if stored_name == name => {
            at.millis() - named_at.millis() >= HOUR_MILLIS
        }
        Some((stored_name, named_at)) => (at, name) > (named_at, stored_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> UtcTimestamp {
        UtcTimestamp::parse(raw).unwrap()
    }

    #[test]
    fn the_newest_name_wins_and_an_unchanged_one_is_rewritten_at_most_hourly() {
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
