//! The read API's answers as typed structs, ready for an OpenAPI document to be derived from
//! them. Fields are declared in alphabetical order on purpose: the answers were first built as
//! `serde_json::Value`s, whose maps sort their keys, and clients may compare bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::names::LeadName;

use super::params::ShownRange;
use super::stats_view::StatsView;
use crate::storage::records::{EventRow, IngestOutcome, LeadRow};

/// `GET /api/me`.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub email: String,
    pub id: String,
    pub name: Option<String>,
    pub smartlead_org_id: Option<String>,
    pub smartlead_org_name: Option<String>,
    /// When the token this request used stops being accepted (`tokens issue --expires-in`), so a
    /// client can warn before it lapses; `null`: it does not expire.
    #[schema(example = "2026-12-03T09:00:00.000Z")]
    pub token_expires_at: Option<String>,
    /// How the org's webhook deliveries are authenticated: `own` (its secret is stored),
    /// `default` (none stored; the service's `--default-webhook-secret`), `none` (every
    /// delivery is refused with 401, which Smartlead never retries: store one).
    #[schema(example = "own")]
    pub webhook_secret: &'static str,
}

/// `GET /api/held-deliveries`: deliveries Smartlead sent for this user that were authentic but
/// could not be read as an event (held, not counted), by reason.
#[derive(Serialize, ToSchema)]
pub struct HeldDeliveries {
    /// How many are held (0: none).
    pub total: i64,
    /// The commonest reason first.
    pub reasons: Vec<HeldReason>,
}

#[derive(Serialize, ToSchema)]
pub struct HeldReason {
    /// The reason's code (README, "Held deliveries"): `missing_event_type`,
    /// `missing_lead_email`, `invalid_lead_email`, `missing_campaign_id`, `invalid_timestamp`,
    /// `invalid_field_type`.
    pub reason: String,
    pub count: i64,
    /// When the newest of them was received.
    pub latest_received_at: String,
}

/// `GET /api/campaigns/{id}/stats`.
#[derive(Serialize, ToSchema)]
pub struct CampaignStats {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    pub campaign_id: String,
    /// The name the campaign's newest event gave it (`null` until an event names it).
    pub name: Option<String>,
    /// The status the campaign's newest event gave it, as Smartlead spells it (`ACTIVE`,
    /// `PAUSED`, `COMPLETED`, `STOPPED`, `DRAFTED`, …; `null` until an event says).
    pub status: Option<String>,
    pub range: Option<ShownRange>,
    pub stats: StatsView,
}

/// `GET /api/stats`.
#[derive(Serialize, ToSchema)]
pub struct UserStats {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    pub range: Option<ShownRange>,
    pub stats: StatsView,
    pub user_id: String,
}

/// One campaign of `GET /api/campaigns`.
#[derive(Serialize, ToSchema)]
pub struct CampaignSummary {
    pub campaign_id: String,
    /// The name the campaign's newest event gave it (`null` until an event names it).
    pub name: Option<String>,
    /// The status the campaign's newest event gave it, as Smartlead spells it (`ACTIVE`,
    /// `PAUSED`, `COMPLETED`, `STOPPED`, `DRAFTED`, …; `null` until an event says).
    pub status: Option<String>,
    pub stats: StatsView,
}

/// `GET /api/campaigns`.
#[derive(Serialize, ToSchema)]
pub struct CampaignList {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    pub campaigns: Vec<CampaignSummary>,
    pub next_cursor: Option<String>,
}

/// One bucket of a time series: its start and its counts per metric (empty when none).
#[derive(Serialize, ToSchema)]
pub struct SeriesBucket {
    pub counts: BTreeMap<String, i64>,
    pub start: String,
}

/// `GET /api/campaigns/{id}/timeseries`.
#[derive(Serialize, ToSchema)]
pub struct TimeSeries {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    /// `hour` or `day`.
    #[schema(value_type = String)]
    pub bucket: &'static str,
    pub campaign_id: String,
    pub from: String,
    pub series: Vec<SeriesBucket>,
    pub to: String,
}

/// `GET /api/timeseries`: the user's counts per bucket, every campaign summed.
#[derive(Serialize, ToSchema)]
pub struct UserTimeSeries {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    /// `hour` or `day`.
    #[schema(value_type = String)]
    pub bucket: &'static str,
    pub from: String,
    pub series: Vec<SeriesBucket>,
    pub to: String,
    pub user_id: String,
}

/// One sequence step of `GET /api/campaigns/{id}/steps`: events of each headline kind whose
/// email was that step (follow-up variants folded in), e.g. opens of the step-2 email, and the
/// leads they came from.
#[derive(Serialize, ToSchema, Default)]
pub struct StepStats {
    pub bounced: i64,
    pub clicked: i64,
    pub opened: i64,
    pub replied: i64,
    pub sent: i64,
    pub step: u32,
    /// Leads with at least one event of each kind at this step: a lead that opened the step's
    /// email five times counts five `opened` and one here.
    pub unique_leads: StepLeads,
    pub unsubscribed: i64,
}

/// Leads of one step, by headline kind.
#[derive(Serialize, ToSchema, Default)]
pub struct StepLeads {
    pub bounced: i64,
    pub clicked: i64,
    pub opened: i64,
    pub replied: i64,
    pub sent: i64,
    pub unsubscribed: i64,
}

/// `GET /api/campaigns/{id}/steps`.
#[derive(Serialize, ToSchema)]
pub struct CampaignSteps {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    pub campaign_id: String,
    /// Every step with events, in order.
    pub steps: Vec<StepStats>,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub schema_version: usize,
    /// `ok` (`/health`) or `ready` (`/ready`).
    #[schema(value_type = String)]
    pub status: &'static str,
}

// The list answers below keep the field order of the rows they were first serialized from.

/// One lead of `GET /api/leads`.
#[derive(Serialize, ToSchema)]
pub struct Lead {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub smartlead_campaign_id: Option<String>,
    pub smartlead_category: Option<String>,
    pub last_email_event: Option<String>,
    pub last_event_timestamp: Option<String>,
}

impl From<LeadRow> for Lead {
    fn from(row: LeadRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            company: row.company,
            smartlead_campaign_id: row.smartlead_campaign_id,
            smartlead_category: row.smartlead_category,
            last_email_event: row.last_email_event,
            last_event_timestamp: row.last_event_timestamp,
        }
    }
}

/// `GET /api/leads/{lead_id}`.
#[derive(Serialize, ToSchema)]
pub struct LeadDetail {
    /// Every event with `seq` at or below this is in the lead's activity (see `min_event`).
    pub as_of: i64,
    pub lead: Lead,
}

/// `GET /api/leads`.
#[derive(Serialize, ToSchema)]
pub struct LeadPage {
    /// Every event with `seq` at or below this is counted (see `min_event`).
    pub as_of: i64,
    pub leads: Vec<Lead>,
    pub next_cursor: Option<String>,
}

/// One stored email event.
#[derive(Serialize, ToSchema)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub timestamp: String,
    pub campaign_id: String,
    /// The campaign's name now (not when the event happened), as in `/api/campaigns`; `null`
    /// until an event or a sync names it.
    pub campaign_name: Option<String>,
    pub message_id: String,
    pub email: String,
    pub lead_id: Option<String>,
    /// The lead's name now ("First Last", as `/api/leads/{lead_id}` has its parts); `null` when
    /// unknown.
    pub lead_name: Option<String>,
    /// The lead's company now; `null` when unknown.
    pub lead_company: Option<String>,
    /// The payload as Smartlead sent it, without its `secret_key` (`{"pruned":true}` once
    /// retention cleared it). Passed through as stored, never re-parsed.
    #[schema(value_type = Object)]
    pub event_data: Box<RawValue>,
}

impl Event {
    /// The answer for a stored event of a campaign called `campaign_name`, of the lead `lead`.
    pub(crate) fn named(row: EventRow, campaign_name: Option<String>, lead: LeadName) -> Self {
        Self {
            id: row.id,
            event_type: row.event_type,
            timestamp: row.timestamp,
            campaign_id: row.campaign_id,
            campaign_name,
            message_id: row.message_id,
            email: row.email,
            lead_id: row.lead_id,
            lead_name: lead.name,
            lead_company: lead.company,
            event_data: row.event_data,
        }
    }
}

/// `GET /api/leads/{lead_id}/events`.
#[derive(Serialize, ToSchema)]
pub struct Timeline {
    pub lead_id: String,
    pub events: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// `GET /api/events`.
#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// A kept (non-email) Smartlead event: a category change, a campaign status change, a manual
/// step, an untracked reply, or a name Smartlead added later.
#[derive(Serialize, ToSchema)]
pub struct KeptEvent {
    pub id: String,
    /// Smartlead's name, upper-cased (`LEAD_CATEGORY_UPDATED`, …).
    pub event_type: String,
    pub campaign_id: Option<String>,
    /// The campaign's name now, as in `/api/campaigns` (`null` when unknown).
    pub campaign_name: Option<String>,
    pub email: Option<String>,
    pub lead_id: Option<String>,
    /// The lead's name now ("First Last"); `null` when unknown.
    pub lead_name: Option<String>,
    /// The lead's company now; `null` when unknown.
    pub lead_company: Option<String>,
    /// The payload's own time, when it has one.
    pub event_timestamp: Option<String>,
    pub received_at: String,
    /// The payload, without its `secret_key`.
    #[schema(value_type = Object)]
    pub event_data: Box<RawValue>,
}

impl KeptEvent {
    /// The answer for a kept event of a campaign called `campaign_name`, of the lead `lead`.
    pub(crate) fn named(
        row: crate::storage::records::KeptEvent,
        campaign_name: Option<String>,
        lead: LeadName,
    ) -> Self {
        Self {
            id: row.id,
            event_type: row.event_type,
            campaign_id: row.campaign_id,
            campaign_name,
            email: row.email,
            lead_id: row.lead_id,
            lead_name: lead.name,
            lead_company: lead.company,
            event_timestamp: row.event_timestamp,
            received_at: row.received_at,
            event_data: row.event_data,
        }
    }
}

/// `GET /api/kept-events`.
#[derive(Serialize, ToSchema)]
pub struct KeptEventList {
    pub events: Vec<KeptEvent>,
    pub next_cursor: Option<String>,
}

/// The webhook's 200 answers.
#[derive(Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeliveryAnswer {
    /// A new email event, committed to disk. `seq` is its place in commit order: a read with
    /// `min_event=<seq>` waits until the analytics include it.
    Stored { event_id: String, seq: i64 },
    /// This event was stored before; nothing changed. `seq` is the stored event's; 0 when there
    /// is nothing to wait for (a kept event, or one stored before events were numbered).
    Duplicate { event_id: String, seq: i64 },
    /// A non-email Smartlead event, committed to disk.
    Kept { event_id: String },
    /// Authentic but not mappable: held for a replay, committed to disk.
    Held { held_id: String, reason: String },
}

impl From<IngestOutcome> for DeliveryAnswer {
    fn from(outcome: IngestOutcome) -> Self {
        match outcome {
            IngestOutcome::Stored { event_id, seq } => Self::Stored { event_id, seq },
            IngestOutcome::Duplicate { event_id, seq } => Self::Duplicate { event_id, seq },
            IngestOutcome::Kept { event_id } => Self::Kept { event_id },
            IngestOutcome::Held { held_id, reason } => Self::Held { held_id, reason },
        }
    }
}
