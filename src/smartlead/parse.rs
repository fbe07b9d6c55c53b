//! A webhook body → a [`Delivery`]. Field fallbacks follow docs/SMARTLEAD.md §5.

use serde_json::{Map, Value};

use super::fields::Fields;
use super::mapping::{classify, SmartleadKind};
use super::{dedupe, strict_json, Delivery, MappingError, SmartleadError, WebhookSecret};
use crate::domain::{
    CampaignId, CampaignLabels, CampaignName, CampaignStatus, EmailAddress, EmailEvent,
    LeadProfile, Mapped, OtherEvent, SmartleadEvent, UnmappedDelivery, UtcTimestamp,
};

/// The targeted lead's address, most specific first: for replies the lead the campaign wrote to
/// comes before whoever answered; the nested shapes keep it under `lead`/`lead_data`.
const LEAD_EMAIL_FIELDS: &[&str] = &[
    "leadCorrespondence.targetLeadEmail",
    "lead_correspondence.targetLeadEmail",
    "sl_lead_email",
    "to_email",
    "lead_email",
    "lead_data.email",
    "lead.email",
];
const LEAD_EMAIL_FIELDS_TEXT: &str =
    "leadCorrespondence.targetLeadEmail, sl_lead_email, to_email, lead_email, lead_data.email, lead.email";

/// Smartlead's own lead id (string in one shape, number in another).
const LEAD_ID_FIELDS: &[&str] = &["sl_email_lead_id", "lead_id", "lead.id"];

/// The event's own time; the deprecated per-event `time_*` fields carry the same instant.
const EVENT_TIME_FIELDS: &[&str] = &[
    "event_timestamp",
    "time_replied",
    "time_clicked",
    "time_opened",
    "time_sent",
    "timestamp",
    "reply_message.time",
    "reply.received_at",
    "link.clicked_at",
];
const OTHER_TIME_FIELDS: &[&str] = &["event_timestamp", "created_at", "timestamp"];

/// The outbound email for sent/open/click/bounce/unsubscribe.
const SENT_MESSAGE_ID_FIELDS: &[&str] = &[
    "sent_message.message_id",
    "sent_message.id",
    "message_id",
    "email.message_id",
];
/// A reply's own message id (the deprecated top-level `message_id` means the reply on replies).
const REPLY_MESSAGE_ID_FIELDS: &[&str] =
    &["reply_message.message_id", "message_id", "email.message_id"];

const LINK_FIELDS: &[&str] = &["link_details", "link_clicked", "link.url"];

const CATEGORY_FIELDS: &[&str] = &[
    "lead_category.new_name",
    "category",
    "lead_data.category.name",
];

/// Reads the body as a JSON object and takes the secret out of it, so no later layer can store
/// or log it by accident. The event itself is interpreted only after authentication.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, SmartleadError> {
    let mut payload = strict_json::parse_object(body)?;
    let secret_key = match payload.remove("secret_key") {
        Some(Value::String(secret)) => Some(WebhookSecret::new(secret)),
        _ => None,
    };
    Ok(Delivery {
        secret_key,
        payload,
    })
}

impl Delivery {
    /// Classifies and normalizes the event. `received_at` stands in for the event time only
    /// when the payload has none.
    /// The event, or, when this version cannot map the delivery, what to hold of it.
    pub fn map(&self, received_at: UtcTimestamp) -> Mapped {
        match self.event(received_at) {
            Ok(event) => Mapped::Event(event),
            Err(err) => Mapped::Unmapped(UnmappedDelivery {
                reason: err.code(),
                detail: err.to_string(),
                payload: to_json(&self.payload),
                received_at,
            }),
        }
    }

    pub fn event(&self, received_at: UtcTimestamp) -> Result<SmartleadEvent, MappingError> {
        let map = &self.payload;
        let fields = Fields::new(map);
        let raw_name = match fields.text("event_type")? {
            Some(name) => name,
            None => fields
                .text("event")?
                .ok_or(MappingError::MissingEventType)?,
        };
        Ok(match classify(raw_name) {
            SmartleadKind::Other => {
                SmartleadEvent::Other(other_event(&fields, raw_name, map, received_at))
            }
            kind => SmartleadEvent::Email(email_event(&fields, kind, raw_name, map, received_at)?),
        })
    }
}

fn email_event(
    fields: &Fields<'_>,
    kind: SmartleadKind,
    raw_name: &str,
    map: &Map<String, Value>,
    received_at: UtcTimestamp,
) -> Result<EmailEvent, MappingError> {
    let step = fields.count("sequence_number")?.unwrap_or(1);
    let event_type = kind
        .event_type(step)
        .expect("email kinds have a normalized type");
    let step = u32::try_from(step.max(1)).map_err(|_| MappingError::WrongType {
        field: "sequence_number",
        expected: "a step number",
    })?;
    let (email_field, raw_email) =
        fields
            .first_text(LEAD_EMAIL_FIELDS)?
            .ok_or_else(|| MappingError::MissingLeadEmail {
                event: raw_name.to_owned(),
                looked_in: LEAD_EMAIL_FIELDS_TEXT,
            })?;
    let email = EmailAddress::parse(raw_email).map_err(|e| MappingError::InvalidLeadEmail {
        field: email_field,
        reason: e.to_string(),
    })?;
    let campaign_id = fields
        .id("campaign_id")?
        .ok_or_else(|| MappingError::MissingCampaignId {
            event: raw_name.to_owned(),
        })
        .and_then(|id| {
            CampaignId::parse(&id).map_err(|_| MappingError::WrongType {
                field: "campaign_id",
                expected: "an id of 1 to 200 printable characters",
            })
        })?;
    let message_fields = if kind == SmartleadKind::Replied {
        REPLY_MESSAGE_ID_FIELDS
    } else {
        SENT_MESSAGE_ID_FIELDS
    };
    let message_id = fields
        .first_text(message_fields)?
        .map(|(_, id)| id.to_owned())
        .unwrap_or_default();
    let own_time = fields.first_time(EVENT_TIME_FIELDS)?;
    let lead_id = fields.first_id(LEAD_ID_FIELDS)?.unwrap_or_default();
    let stats_id = fields.id("stats_id")?.unwrap_or_default();
    let link = first_link(fields)?.unwrap_or_default();
    let payload = to_json(map);
    let (dedupe_key, legacy_dedupe_key) = match own_time {
        Some(time) => {
            let timed = dedupe::timed_key(
                time,
                "email-v1",
                &[
                    event_type.as_str(),
                    campaign_id.as_str(),
                    email.as_str(),
                    &lead_id,
                    &stats_id,
                    &message_id,
                    &time.to_string(),
                    &link,
                ],
            );
            (timed.key, Some(timed.legacy))
        }
        // No time to lead with: these are few, and keyed as before.
        None => (
            dedupe::key("email-payload-v1", &[event_type.as_str(), &payload]),
            None,
        ),
    };
    Ok(EmailEvent {
        event_type,
        email,
        lead_profile: lead_profile(fields),
        campaign_id,
        campaign_labels: campaign_labels(fields, EMAIL_STATUS_FIELDS),
        step,
        message_id,
        occurred_at: own_time.unwrap_or(received_at),
        dedupe_key,
        legacy_dedupe_key,
        payload,
    })
}

/// The campaign's status on an email event: as it was when the event happened.
const EMAIL_STATUS_FIELDS: &[&str] = &["campaign_status"];
/// A `CAMPAIGN_STATUS_CHANGED` says the new status twice; other kept events once.
const OTHER_STATUS_FIELDS: &[&str] = &["current_status", "campaign_status"];

/// The lead's first and last name and company as Smartlead's lead record has them (the
/// category update's `lead_data`, the nested shape's `lead`).
const LEAD_FIRST_NAME_FIELDS: &[&str] = &["lead_data.first_name", "lead.first_name"];
const LEAD_LAST_NAME_FIELDS: &[&str] = &["lead_data.last_name", "lead.last_name"];
const LEAD_COMPANY_FIELDS: &[&str] = &["lead_data.company_name", "lead.company_name"];
/// The whole name, when the parts are not there (`lead_name` and `sl_lead_name` are older).
const LEAD_FULL_NAME_FIELDS: &[&str] = &["to_name", "lead_name", "sl_lead_name"];

/// The lead's name and company, read leniently like the campaign's labels: a field of another
/// type is left in the payload.
fn lead_profile(fields: &Fields<'_>) -> LeadProfile {
    let text = |paths: &[&'static str]| {
        let (_, text) = fields.first_text(paths).ok().flatten()?;
        Some(unescaped(text))
    };
    LeadProfile::from_parts(
        text(LEAD_FIRST_NAME_FIELDS).as_deref(),
        text(LEAD_LAST_NAME_FIELDS).as_deref(),
        text(LEAD_COMPANY_FIELDS).as_deref(),
    )
    .or_full_name(text(LEAD_FULL_NAME_FIELDS).as_deref())
}

/// A backslash and `n`, `r` or `t` in a name is the space it stands for: Smartlead's
/// manual-step example names its lead with a template's escaped line break in it
/// ("Siobhán \\n        Ní Bhriain").
fn unescaped(text: &str) -> String {
    text.replace("\\n", " ")
        .replace("\\r", " ")
        .replace("\\t", " ")
}

/// The campaign's name and status, read leniently: they only label the campaign, so a value of
/// another type (or a status that is not one word) is left in the payload rather than holding
/// the delivery.
fn campaign_labels(fields: &Fields<'_>, status_fields: &[&'static str]) -> CampaignLabels {
    CampaignLabels {
        name: fields
            .text("campaign_name")
            .ok()
            .flatten()
            .and_then(CampaignName::parse),
        status: fields
            .first_text(status_fields)
            .ok()
            .flatten()
            .and_then(|(_, status)| CampaignStatus::parse(status)),
    }
}

fn first_link(fields: &Fields<'_>) -> Result<Option<String>, MappingError> {
    for path in LINK_FIELDS {
        if let Some(link) = fields.strings(path)? {
            return Ok(Some(link));
        }
    }
    Ok(None)
}

/// Non-email events are kept whatever their shape, so their optional fields are read leniently:
/// a field of an unexpected type is simply not extracted (the payload still holds it).
fn other_event(
    fields: &Fields<'_>,
    raw_name: &str,
    map: &Map<String, Value>,
    received_at: UtcTimestamp,
) -> OtherEvent {
    let raw_type = raw_name.trim().to_ascii_uppercase();
    let email = fields
        .first_text(LEAD_EMAIL_FIELDS)
        .ok()
        .flatten()
        .and_then(|(_, e)| EmailAddress::parse(e).ok());
    let campaign_id = fields
        .id("campaign_id")
        .ok()
        .flatten()
        .and_then(|id| CampaignId::parse(&id).ok());
    let occurred_at = fields.first_time(OTHER_TIME_FIELDS).ok().flatten();
    let new_category = if raw_type == "LEAD_CATEGORY_UPDATED" {
        fields
            .first_text(CATEGORY_FIELDS)
            .ok()
            .flatten()
            .map(|(_, c)| c.to_owned())
    } else {
        None
    };
    let payload = to_json(map);
    let dedupe_key = occurred_at.map(|_| dedupe::key("other-v1", &[&raw_type, &payload]));
    OtherEvent {
        raw_type,
        campaign_labels: campaign_id
            .as_ref()
            .map(|_| campaign_labels(fields, OTHER_STATUS_FIELDS))
            .unwrap_or_default(),
        campaign_id,
        lead_profile: email
            .as_ref()
            .map(|_| lead_profile(fields))
            .unwrap_or_default(),
        email,
        occurred_at,
        received_at,
        new_category,
        dedupe_key,
        payload,
    }
}

fn to_json(map: &Map<String, Value>) -> String {
    serde_json::to_string(map).expect("a JSON map serializes")
}
