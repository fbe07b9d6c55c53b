/// Why a webhook body cannot be read as a delivery at all: not JSON, not one object, ambiguous.
/// The sender's fault (a 4xx): retrying the same bytes cannot succeed, and there is nothing
/// that a later version could make of them.
#[derive(Debug, thiserror::Error)]
pub enum SmartleadError {
    #[error("the request body is empty")]
    EmptyBody,
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("the key `{}` appears more than once, so the payload is ambiguous", crate::domain::Echo(.0))]
    DuplicateKey(String),
}

impl SmartleadError {
    /// The stable error code (the HTTP answer's `error.code`, an import's rejection reason).
    pub fn code(&self) -> &'static str {
        match self {
            SmartleadError::EmptyBody => "empty_body",
            SmartleadError::InvalidJson(_) => "invalid_json",
            SmartleadError::NotAnObject => "payload_not_object",
            SmartleadError::DuplicateKey(_) => "ambiguous_payload",
        }
    }
}

macro_rules! mapping_errors {
    ($($variant:ident $({ $($field:ident: $ty:ty),* })? => $code:literal, $message:literal;)*) => {
        /// Why a readable delivery cannot be mapped to an event (a field missing, of the wrong
        /// type, a time that does not parse, a shape not known yet). An authentic one is held,
        /// not refused: a later mapper may know what to make of it.
        #[derive(Debug, thiserror::Error)]
        pub enum MappingError {
            $(#[error($message)] $variant $({ $($field: $ty),* })?,)*
        }

        impl MappingError {
            /// Every reason code, as `code()` names them.
            pub const CODES: &'static [&'static str] = &[$($code),*];

            /// The stable reason code a held delivery is stored and answered with.
            pub fn code(&self) -> &'static str {
                match self { $(MappingError::$variant { .. } => $code),* }
            }
        }
    };
}

mapping_errors! {
    MissingEventType => "missing_event_type",
        "the payload has no event type (`event_type` or `event`)";
    MissingLeadEmail { event: String, looked_in: &'static str } => "missing_lead_email",
        "the {event} event names no lead email (looked in {looked_in})";
    InvalidLeadEmail { field: &'static str, reason: String } => "invalid_lead_email",
        "`{field}`: {reason}";
    MissingCampaignId { event: String } => "missing_campaign_id",
        "the {event} event has no `campaign_id`";
    InvalidTimestamp { field: &'static str, reason: String } => "invalid_timestamp",
        "`{field}`: {reason}";
    WrongType { field: &'static str, expected: &'static str } => "invalid_field_type",
        "`{field}` must be {expected}";
}
