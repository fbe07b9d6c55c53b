use std::fmt;
use std::str::FromStr;

use super::InvalidValue;

/// The eleven normalized email event types. `ALL` is the single source for the SQL CHECK
/// (tested against the migration) and for every JSON answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    Opened,
    Clicked,
    Replied,
    Bounced,
    Delivered,
    Sent,
    Unsubscribed,
    SpamReported,
    FollowUpOpened,
    FollowUpClicked,
    FollowUpReplied,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::Opened,
        EventType::Clicked,
        EventType::Replied,
        EventType::Bounced,
        EventType::Delivered,
        EventType::Sent,
        EventType::Unsubscribed,
        EventType::SpamReported,
        EventType::FollowUpOpened,
        EventType::FollowUpClicked,
        EventType::FollowUpReplied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Opened => "email_opened",
            EventType::Clicked => "email_clicked",
            EventType::Replied => "email_replied",
            EventType::Bounced => "email_bounced",
            EventType::Delivered => "email_delivered",
            EventType::Sent => "email_sent",
            EventType::Unsubscribed => "email_unsubscribed",
            EventType::SpamReported => "email_spam_reported",
            EventType::FollowUpOpened => "email_follow_up_opened",
            EventType::FollowUpClicked => "email_follow_up_clicked",
            EventType::FollowUpReplied => "email_follow_up_replied",
        }
    }

    /// The headline kind a follow-up variant counts towards (an open of step 3 is still an open).
    pub fn base_kind(self) -> EventType {
        match self {
            EventType::FollowUpOpened => EventType::Opened,
            EventType::FollowUpClicked => EventType::Clicked,
            EventType::FollowUpReplied => EventType::Replied,
            other => other,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| InvalidValue(format!("unknown event type `{s}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), t);
        }
        let mut names: Vec<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 11);
        assert!("email_exploded".parse::<EventType>().is_err());
    }
}
