use super::Echo;
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

    /// The headline metric this type counts towards: follow-ups fold into their base kind.
    /// `email_delivered` and `email_spam_reported` have none (no Smartlead event produces them).
    pub fn headline(self) -> Option<Headline> {
        match self.base_kind() {
            EventType::Sent => Some(Headline::Sent),
            EventType::Opened => Some(Headline::Opened),
            EventType::Clicked => Some(Headline::Clicked),
            EventType::Replied => Some(Headline::Replied),
            EventType::Bounced => Some(Headline::Bounced),
            EventType::Unsubscribed => Some(Headline::Unsubscribed),
            _ => None,
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

/// The six headline numbers of campaign analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Headline {
    Sent,
    Opened,
    Clicked,
    Replied,
    Bounced,
    Unsubscribed,
}

impl Headline {
    pub const ALL: [Headline; 6] = [
        Headline::Sent,
        Headline::Opened,
        Headline::Clicked,
        Headline::Replied,
        Headline::Bounced,
        Headline::Unsubscribed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Headline::Sent => "sent",
            Headline::Opened => "opened",
            Headline::Clicked => "clicked",
            Headline::Replied => "replied",
            Headline::Bounced => "bounced",
            Headline::Unsubscribed => "unsubscribed",
        }
    }

    /// The event types this headline counts: `replied` is a first reply or a follow-up's.
    pub fn event_types(self) -> impl Iterator<Item = EventType> {
        EventType::ALL
            .into_iter()
            .filter(move |t| t.headline() == Some(self))
    }
}

impl FromStr for Headline {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Headline::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Headline::ALL.iter().map(|h| h.as_str()).collect();
                InvalidValue(format!("`{}` is not one of {}", Echo(s), all.join(", ")))
            })
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
            .ok_or_else(|| InvalidValue(format!("unknown event type `{}`", Echo(s))))
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

    #[test]
    fn follow_ups_fold_into_their_headline() {
        assert_eq!(EventType::FollowUpOpened.headline(), Some(Headline::Opened));
        assert_eq!(
            EventType::FollowUpReplied.headline(),
            Some(Headline::Replied)
        );
        assert_eq!(EventType::Sent.headline(), Some(Headline::Sent));
        assert_eq!(EventType::Delivered.headline(), None);
        assert_eq!(EventType::SpamReported.headline(), None);
        let covered: std::collections::HashSet<_> =
            EventType::ALL.iter().filter_map(|t| t.headline()).collect();
        assert_eq!(covered.len(), Headline::ALL.len());
    }
}
