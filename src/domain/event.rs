//! The events the hub stores, as the rest of the service sees them: normalized from Smartlead's
//! wire formats by `smartlead/`, stored by `storage/`.

use super::{CampaignId, CampaignLabels, EmailAddress, EventType, LeadProfile, UtcTimestamp};

/// One authenticated Smartlead event, normalized.
#[derive(Debug, Clone)]
pub enum SmartleadEvent {
    Email(EmailEvent),
    Other(OtherEvent),
}

/// An event with one of the eleven normalized types: stored in `email_events`.
#[derive(Debug, Clone)]
pub struct EmailEvent {
    pub event_type: EventType,
    /// The targeted lead (for replies, the lead the campaign wrote to, not whoever answered).
    pub email: EmailAddress,
    /// The lead's name and company as the payload gives them, when it does.
    pub lead_profile: LeadProfile,
    pub campaign_id: CampaignId,
    /// The campaign's name and status as the payload gives them, when it does.
    pub campaign_labels: CampaignLabels,
    /// The sequence step the email belongs to (Smartlead's `sequence_number`; 1 when absent).
    pub step: u32,
    /// The email this event is about (for replies, the reply's own id); empty when absent.
    pub message_id: String,
    /// The event's own time, or the receipt time when the payload has none.
    pub occurred_at: UtcTimestamp,
    /// Same event → same key, whatever the delivery (see `dedupe.rs`).
    pub dedupe_key: String,
    /// The key the same event was stored under before keys began with the event's time
    /// (issue 19): looked up too in a database that holds events from before.
    pub legacy_dedupe_key: Option<String>,
    /// The payload minus `secret_key`, as JSON text.
    pub payload: String,
}

/// An authenticated Smartlead event that is not an email event: kept in `smartlead_events`.
#[derive(Debug, Clone)]
pub struct OtherEvent {
    /// The Smartlead name, upper-cased (`LEAD_CATEGORY_UPDATED`, …).
    pub raw_type: String,
    pub campaign_id: Option<CampaignId>,
    /// Empty without a campaign id.
    pub campaign_labels: CampaignLabels,
    pub email: Option<EmailAddress>,
    /// Empty without an address.
    pub lead_profile: LeadProfile,
    /// The payload's own time, when it has one.
    pub occurred_at: Option<UtcTimestamp>,
    pub received_at: UtcTimestamp,
    /// The lead's new Smartlead category (LEAD_CATEGORY_UPDATED only).
    pub new_category: Option<String>,
    /// Only for events with their own time: without one, two genuinely separate events (a
    /// campaign paused twice) would be byte-identical, and keeping both beats losing one.
    pub dedupe_key: Option<String>,
    pub payload: String,
}

impl OtherEvent {
    /// The time that orders this event against others for the same lead.
    pub fn effective_time(&self) -> UtcTimestamp {
        self.occurred_at.unwrap_or(self.received_at)
    }
}

/// An authentic delivery that could not be mapped to an event: held, not refused, so that a
/// later mapper can replay it (Smartlead never retries a 4xx).
#[derive(Debug, Clone)]
pub struct UnmappedDelivery {
    /// The mapping error's stable code (`missing_lead_email`, …).
    pub reason: &'static str,
    /// The mapping error's message.
    pub detail: String,
    /// The payload minus `secret_key`, as JSON text.
    pub payload: String,
    pub received_at: UtcTimestamp,
}

/// What a delivery maps to: an event to store, or a delivery to hold. (One per delivery, moved
/// straight into the writer's job: boxing the larger variant would only add an allocation.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Mapped {
    Event(SmartleadEvent),
    Unmapped(UnmappedDelivery),
}
