//! Smartlead event names → the hub's normalized types.
//!
//! | Smartlead name (either set)               | normalized                                        |
//! |-------------------------------------------|---------------------------------------------------|
//! | `EMAIL_SENT`, `FIRST_EMAIL_SENT`          | `email_sent`                                      |
//! | `EMAIL_OPEN`, `EMAIL_OPENED`              | `email_opened`, or `email_follow_up_opened` (step > 1) |
//! | `EMAIL_LINK_CLICK`, `EMAIL_CLICKED`       | `email_clicked`, or `email_follow_up_clicked` (step > 1) |
//! | `EMAIL_REPLY`, `EMAIL_REPLIED`            | `email_replied`, or `email_follow_up_replied` (step > 1) |
//! | `EMAIL_BOUNCE`, `EMAIL_BOUNCED`           | `email_bounced`                                   |
//! | `LEAD_UNSUBSCRIBED`, `EMAIL_UNSUBSCRIBED` | `email_unsubscribed`                              |
//! | anything else                             | kept in `smartlead_events`, not an email event    |
//!
//! Names match regardless of case and surrounding spaces. No Smartlead event produces
//! `email_delivered` or `email_spam_reported` today (Smartlead has no such webhook); they stay in
//! the schema for a future source and nothing maps to them.

use crate::domain::EventType;

/// What a Smartlead event name means, before the step number is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmartleadKind {
    Sent,
    Opened,
    Clicked,
    Replied,
    Bounced,
    Unsubscribed,
    /// Not an email event: kept as it came.
    Other,
}

/// The table above, as data: (Smartlead name, kind). The README prints the same table.
pub const MAPPING_TABLE: &[(&str, SmartleadKind)] = &[
    ("EMAIL_SENT", SmartleadKind::Sent),
    ("FIRST_EMAIL_SENT", SmartleadKind::Sent),
    ("EMAIL_OPEN", SmartleadKind::Opened),
    ("EMAIL_OPENED", SmartleadKind::Opened),
    ("EMAIL_LINK_CLICK", SmartleadKind::Clicked),
    ("EMAIL_CLICKED", SmartleadKind::Clicked),
    ("EMAIL_REPLY", SmartleadKind::Replied),
    ("EMAIL_REPLIED", SmartleadKind::Replied),
    ("EMAIL_BOUNCE", SmartleadKind::Bounced),
    ("EMAIL_BOUNCED", SmartleadKind::Bounced),
    ("LEAD_UNSUBSCRIBED", SmartleadKind::Unsubscribed),
    ("EMAIL_UNSUBSCRIBED", SmartleadKind::Unsubscribed),
];

/// Classifies a raw Smartlead event name.
pub fn classify(raw_name: &str) -> SmartleadKind {
    let name = raw_name.trim();
    MAPPING_TABLE
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map_or(SmartleadKind::Other, |(_, kind)| *kind)
}

impl SmartleadKind {
    /// The normalized type for an event of this kind on sequence step `step` (1 = first email).
    /// Opens, clicks and replies on a later step are the follow-up variants.
    pub fn event_type(self, step: u64) -> Option<EventType> {
        let follow_up = step > 1;
        Some(match self {
            SmartleadKind::Sent => EventType::Sent,
            SmartleadKind::Opened if follow_up => EventType::FollowUpOpened,
            SmartleadKind::Opened => EventType::Opened,
            SmartleadKind::Clicked if follow_up => EventType::FollowUpClicked,
            SmartleadKind::Clicked => EventType::Clicked,
            SmartleadKind::Replied if follow_up => EventType::FollowUpReplied,
            SmartleadKind::Replied => EventType::Replied,
            SmartleadKind::Bounced => EventType::Bounced,
            SmartleadKind::Unsubscribed => EventType::Unsubscribed,
            SmartleadKind::Other => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_name_sets_any_case_and_spacing() {
        assert_eq!(classify("EMAIL_OPEN"), SmartleadKind::Opened);
        assert_eq!(classify("  email_opened "), SmartleadKind::Opened);
        assert_eq!(classify("Email_Link_Click"), SmartleadKind::Clicked);
        assert_eq!(classify("FIRST_EMAIL_SENT"), SmartleadKind::Sent);
        assert_eq!(classify("EMAIL_UNSUBSCRIBED"), SmartleadKind::Unsubscribed);
        assert_eq!(classify("LEAD_CATEGORY_UPDATED"), SmartleadKind::Other);
        assert_eq!(classify("EMAIL_OPEN_X"), SmartleadKind::Other);
    }

    #[test]
    fn follow_up_steps() {
        assert_eq!(SmartleadKind::Opened.event_type(1), Some(EventType::Opened));
        assert_eq!(
            SmartleadKind::Opened.event_type(3),
            Some(EventType::FollowUpOpened)
        );
        assert_eq!(
            SmartleadKind::Replied.event_type(2),
            Some(EventType::FollowUpReplied)
        );
        assert_eq!(
            SmartleadKind::Clicked.event_type(2),
            Some(EventType::FollowUpClicked)
        );
        // Sends, bounces and unsubscribes have no follow-up variant.
        assert_eq!(SmartleadKind::Sent.event_type(2), Some(EventType::Sent));
        assert_eq!(
            SmartleadKind::Unsubscribed.event_type(2),
            Some(EventType::Unsubscribed)
        );
        assert_eq!(SmartleadKind::Other.event_type(1), None);
    }

    #[test]
    fn nothing_maps_to_delivered_or_spam() {
        let kinds = MAPPING_TABLE.iter().map(|(_, k)| *k);
        for kind in kinds {
            for step in [1, 2] {
                let t = kind.event_type(step).unwrap();
                assert_ne!(t, EventType::Delivered);
                assert_ne!(t, EventType::SpamReported);
            }
        }
    }
}
