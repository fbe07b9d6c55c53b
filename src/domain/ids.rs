use super::Echo;
use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use super::InvalidValue;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered id: v7 keeps B-tree inserts append-only.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The id a stored `uuid` column holds.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            /// Lowercase hyphenated, the form stored in the database.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| InvalidValue(format!("`{}` is not a valid id", Echo(s))))
            }
        }
    };
}

uuid_id!(
    /// A hub user (a Clento customer, one Smartlead org).
    UserId
);
uuid_id!(
    /// A lead row of one user.
    LeadId
);
uuid_id!(
    /// One stored email event.
    EventId
);
uuid_id!(
    /// An API token's public id (never the secret).
    TokenId
);
uuid_id!(
    /// A held delivery: authentic, but not mappable to an event yet.
    HeldId
);

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                let trimmed = raw.trim();
                if trimmed.is_empty() || trimmed.len() > 200 || trimmed.chars().any(char::is_control) {
                    Err(InvalidValue(format!(concat!("`{}` is not a valid ", $what), Echo(trimmed))))
                } else {
                    Ok(Self(trimmed.to_owned()))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// A Smartlead organisation id, as the customer pasted it into `?org_id=`.
    OrgId,
    "org id"
);
text_id!(
    /// A Smartlead campaign id. Numeric in practice but kept as text: the schema stores text
    /// and Smartlead sends it as either a number or a string.
    CampaignId,
    "campaign id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_ids_are_lowercase_hyphenated_and_time_ordered() {
        let a = EventId::new();
        let b = EventId::new();
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text, text.to_lowercase());
        assert!(a.to_string() < b.to_string(), "v7 ids sort by creation");
        assert_eq!(text.parse::<EventId>().unwrap(), a);
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }

    #[test]
    fn text_ids_are_trimmed_and_non_empty() {
        assert_eq!(CampaignId::parse(" 3701245 ").unwrap().as_str(), "3701245");
        assert!(OrgId::parse("  ").is_err());
        assert!(OrgId::parse("a\nb").is_err());
    }
}
