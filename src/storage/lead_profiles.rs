//! A lead's name and company (`first_name`, `last_name`, `company`), the same rule on every
//! backend: each part is what the newest event that gave one said, as of `profile_at`, the time
//! of the newest event that wrote the profile. A part the lead has no value for is filled by any
//! event, however old; ties go to the greater value, so any arrival order ends the same.
//!
//! Nearly every delivery repeats the lead's profile: checking it is a read of the lead's row,
//! which the ingest reads anyway, and only a change writes. The same profile seen a day or more
//! after `profile_at` moves it on (one write a day at most), so that an older, different name
//! delivered late does not win over a newer delivery that only repeated the stored one. The cost
//! of that day: a name changed and changed back within it, delivered out of order, can keep the
//! middle value until the next delivery.

use crate::domain::{LeadProfile, ProfileText, UtcTimestamp, DAY_MILLIS};

/// A lead's stored profile and its time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredProfile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub at: Option<UtcTimestamp>,
}

/// The profile to write: every part (the stored one where the event changes nothing) and its
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedProfile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub at: UtcTimestamp,
}

/// What an event of time `at` giving `profile` makes of the stored profile; `None` when nothing
/// is to be written.
pub fn updated(
    stored: &StoredProfile,
    profile: &LeadProfile,
    at: UtcTimestamp,
) -> Option<UpdatedProfile> {
    if profile.is_empty() {
        return None;
    }
    let newer = stored.at.is_none_or(|stored_at| at > stored_at);
    let tie = stored.at == Some(at);
    let mut changed = false;
    let mut pick = |stored: &Option<String>, given: &Option<ProfileText>| {
        let Some(given) = given.as_ref().map(ProfileText::as_str) else {
            return stored.clone();
        };
        let replaces = match stored.as_deref() {
            None => true,
            Some(value) => value != given && (newer || (tie && given > value)),
        };
        changed |= replaces;
        if replaces {
            Some(given.to_owned())
        } else {
            stored.clone()
        }
    };
    let first_name = pick(&stored.first_name, &profile.first_name);
    let last_name = pick(&stored.last_name, &profile.last_name);
    let company = pick(&stored.company, &profile.company);
    let refresh = stored
        .at
        .is_none_or(|stored_at| at.millis() - stored_at.millis() >= DAY_MILLIS);
    (changed || refresh).then(|| UpdatedProfile {
        first_name,
        last_name,
        company,
        at: stored.at.map_or(at, |stored_at| stored_at.max(at)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> UtcTimestamp {
        UtcTimestamp::parse(raw).unwrap()
    }

    fn stored(first: &str, last: Option<&str>, company: Option<&str>, time: &str) -> StoredProfile {
        StoredProfile {
            first_name: Some(first.into()),
            last_name: last.map(Into::into),
            company: company.map(Into::into),
            at: Some(at(time)),
        }
    }

    /// (first name, last name, company, time) of an update.
    type Parts = Option<(Option<String>, Option<String>, Option<String>, String)>;

    fn parts(update: Option<UpdatedProfile>) -> Parts {
        update.map(|u| (u.first_name, u.last_name, u.company, u.at.to_string()))
    }

    fn some(first: &str, last: Option<&str>, company: Option<&str>, time: &str) -> Parts {
        Some((
            Some(first.into()),
            last.map(Into::into),
            company.map(Into::into),
            at(time).to_string(),
        ))
    }

    #[test]
    fn the_newest_profile_wins_and_a_missing_part_is_filled_by_any() {
        let zoe = stored("Zoë", Some("Lefèvre"), None, "2025-10-14T10:00:00Z");
        let renamed = LeadProfile::from_full_name("Zoë Martin");
        // Newer: replaces. Older: does not. The same time: the greater value.
        assert_eq!(
            parts(updated(&zoe, &renamed, at("2025-10-14T11:00:00Z"))),
            some("Zoë", Some("Martin"), None, "2025-10-14T11:00:00Z")
        );
        assert_eq!(
            parts(updated(&zoe, &renamed, at("2025-10-14T09:00:00Z"))),
            None
        );
        assert_eq!(
            parts(updated(&zoe, &renamed, at("2025-10-14T10:00:00Z"))),
            some("Zoë", Some("Martin"), None, "2025-10-14T10:00:00Z")
        );
        // A company the lead has none of, from an older event: filled, the time kept.
        let company = LeadProfile::from_parts(None, None, Some("Müller & Söhne"));
        assert_eq!(
            parts(updated(&zoe, &company, at("2025-10-13T10:00:00Z"))),
            some(
                "Zoë",
                Some("Lefèvre"),
                Some("Müller & Söhne"),
                "2025-10-14T10:00:00Z"
            )
        );
        // Nothing given, nothing written; a first profile is written whatever its time.
        assert_eq!(
            parts(updated(
                &zoe,
                &LeadProfile::default(),
                at("2026-01-01T00:00:00Z")
            )),
            None
        );
        assert_eq!(
            parts(updated(
                &StoredProfile::default(),
                &renamed,
                at("2020-01-01T00:00:00Z")
            )),
            some("Zoë", Some("Martin"), None, "2020-01-01T00:00:00Z")
        );
    }

    #[test]
    fn the_same_profile_moves_its_time_on_at_most_daily() {
        let zoe = stored("Zoë", Some("Lefèvre"), None, "2025-10-14T10:00:00Z");
        let same = LeadProfile::from_full_name("Zoë Lefèvre");
        assert_eq!(
            parts(updated(&zoe, &same, at("2025-10-15T09:59:59Z"))),
            None
        );
        let a_day_on = updated(&zoe, &same, at("2025-10-15T10:00:00Z"));
        assert_eq!(
            parts(a_day_on.clone()),
            some("Zoë", Some("Lefèvre"), None, "2025-10-15T10:00:00Z")
        );
        // So an older rename delivered after that is older than what is known: it loses.
        let moved = StoredProfile {
            at: Some(a_day_on.unwrap().at),
            ..zoe
        };
        let old_rename = LeadProfile::from_full_name("Zoë Martin");
        assert_eq!(
            parts(updated(&moved, &old_rename, at("2025-10-15T08:00:00Z"))),
            None
        );
    }
}
