/// Why a webhook body cannot be turned into an event. Each is the sender's fault (a 4xx):
/// retrying the same bytes cannot succeed.
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
    #[error("the payload has no event type (`event_type` or `event`)")]
    MissingEventType,
    #[error("the {event} event names no lead email (looked in {looked_in})")]
    MissingLeadEmail {
        event: String,
        looked_in: &'static str,
    },
    #[error("`{field}`: {reason}")]
    InvalidLeadEmail { field: &'static str, reason: String },
    #[error("the {event} event has no `campaign_id`")]
    MissingCampaignId { event: String },
    #[error("`{field}`: {reason}")]
    InvalidTimestamp { field: &'static str, reason: String },
    #[error("`{field}` must be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
}
