//! Domain values: parsed once at the edge, valid by construction.
//!
//! Nothing here knows about HTTP, SQL or Smartlead's wire formats.

mod api_token;
mod campaign_labels;
mod echo;
mod email;
mod event;
mod event_type;
mod ids;
mod lead_profile;
mod lead_search;
mod period;
mod timestamp;

pub use api_token::ApiToken;
pub use campaign_labels::{CampaignLabels, CampaignName, CampaignStatus};
pub use echo::Echo;
pub use email::EmailAddress;
pub use event::{EmailEvent, Mapped, OtherEvent, SmartleadEvent, UnmappedDelivery};
pub use event_type::{EventType, Headline};
pub use ids::{CampaignId, EventId, HeldId, LeadId, OrgId, TokenId, UserId};
pub use lead_profile::{LeadProfile, ProfileText, MAX_PROFILE_CHARS};
pub use lead_search::{LeadSearch, MAX_SEARCH_CHARS};
pub use period::Period;
pub use timestamp::{UtcTimestamp, DAY_MILLIS, HOUR_MILLIS};

/// Why a domain value could not be constructed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);
