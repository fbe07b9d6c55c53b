//! The webhook bodies of the demo history, in the shapes Smartlead sends: the flat help-centre
//! shape, the nested API-docs shape, and a campaign's status change.

use serde_json::{json, Value};

use super::{Campaign, Lead, Plan};
use crate::domain::UtcTimestamp;

const SUBJECTS: [&str; 4] = [
    "Quick question about your warehouse",
    "Following up",
    "Worth a look?",
    "Closing the loop",
];

/// Smartlead's `CAMPAIGN_STATUS_CHANGED` (which has no time of its own: the demo gives it one,
/// so that a second run finds it already stored).
pub(super) fn status_change(campaign: &Campaign, at: UtcTimestamp, plan: &Plan) -> String {
    json!({
        "event_type": "CAMPAIGN_STATUS_CHANGED",
        "event_timestamp": at.to_string(),
        "previous_status": "ACTIVE",
        "current_status": "PAUSED",
        "campaign_status": "PAUSED",
        "campaign_id": campaign.id,
        "campaign_name": campaign.name,
        "description": format!("Email Campaign status changed ACTIVE to PAUSED for campaign - {}", campaign.name),
        "secret_key": plan.secret,
    })
    .to_string()
}

pub(super) struct Body<'a> {
    campaign: &'a Campaign,
    lead: &'a Lead,
    step: u32,
    secret: &'a str,
}

impl<'a> Body<'a> {
    pub(super) fn new(campaign: &'a Campaign, lead: &'a Lead, step: u32, plan: &'a Plan) -> Self {
        Self {
            campaign,
            lead,
            step,
            secret: &plan.secret,
        }
    }

    fn message_id(&self) -> String {
        format!(
            "<demo-{}-{}@mail.northpeak-growth.example>",
            self.lead.number, self.step
        )
    }

    /// The help-centre shape: `event_type`, `event_timestamp`, `to_email`, `sent_message`.
    pub(super) fn flat(&self, event_type: &str, at: UtcTimestamp, extra: Value) -> String {
        let mut body = json!({
            "event_type": event_type,
            "event_timestamp": at.to_string(),
            "campaign_id": self.campaign.id,
            "campaign_name": self.campaign.name,
            "campaign_status": match self.campaign.paused_at {
                Some(paused) if at >= paused => "PAUSED",
                _ => "ACTIVE",
            },
            "sequence_number": self.step,
            "sl_email_lead_id": (4_100_000_000u64 + self.lead.number as u64).to_string(),
            "stats_id": format!("demo-stats-{}-{}", self.lead.number, self.step),
            "from_email": "tomas@northpeak-growth.example",
            "to_email": self.lead.email,
            "to_name": format!("{} {}", self.lead.first_name, self.lead.last_name),
            "subject": SUBJECTS[(self.step as usize - 1) % SUBJECTS.len()],
            "sent_message": {"message_id": self.message_id()},
            "secret_key": self.secret,
        });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        body.to_string()
    }

    /// The API-docs shape: `event`, `timestamp`, `lead{}`, `email{}`.
    pub(super) fn nested(&self, event: &str, at: UtcTimestamp) -> String {
        json!({
            "event": event,
            "timestamp": at.to_string(),
            "campaign_id": self.campaign.id,
            "sequence_number": self.step,
            "lead_id": 4_100_000_000u64 + self.lead.number as u64,
            "lead": {"email": self.lead.email, "first_name": self.lead.first_name,
                     "last_name": self.lead.last_name},
            "email": {"message_id": self.message_id(), "subject": SUBJECTS[0]},
            "secret_key": self.secret,
        })
        .to_string()
    }
}
