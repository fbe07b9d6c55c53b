//! Smartlead's REST answers the hub reads (docs/SMARTLEAD-REST.md): campaigns and their
//! analytics. Counters arrive as strings as often as numbers ("2", 2), ids exceed 2³¹; both are
//! read either way. No HTTP here: the client is in `reconcile/`.

use serde::{Deserialize, Deserializer};

use super::mapping::SmartleadKind;
use super::MappingError;
use crate::domain::{CampaignId, CampaignLabels, CampaignName, CampaignStatus};
use crate::domain::{EmailAddress, EmailEvent, LeadProfile, UtcTimestamp};

/// A count or id sent as a number or as a string of digits.
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
        Null(()),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(text) => text.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("`{}` is not a count", crate::domain::Echo(&text)))
        }),
        Raw::Null(()) => Ok(0),
    }
}

/// One campaign of `GET /campaigns/`.
#[derive(Debug, Clone, Deserialize)]
pub struct Campaign {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

impl Campaign {
    pub fn campaign_id(&self) -> CampaignId {
        CampaignId::parse(&self.id.to_string()).expect("a number is a campaign id")
    }

    /// The name and status the listing gives the campaign, read as a webhook's are: a name
    /// that is blank, or a status that is not one word, is left out.
    pub fn labels(&self) -> CampaignLabels {
        CampaignLabels {
            name: self.name.as_deref().and_then(CampaignName::parse),
            status: self.status.as_deref().and_then(CampaignStatus::parse),
        }
    }
}

/// `GET /campaigns/{id}/analytics`: the campaign's all-time counters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CampaignAnalytics {
    #[serde(default, deserialize_with = "number")]
    pub sent_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub unique_sent_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub open_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub unique_open_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub click_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub unique_click_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub reply_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub bounce_count: u64,
    #[serde(default, deserialize_with = "number")]
    pub unsubscribed_count: u64,
}

/// One webhook of `GET /campaigns/{id}/webhooks`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Webhook {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub webhook_url: String,
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// A page of `GET /campaigns/{id}/statistics`: one row per email sent.
#[derive(Debug, Clone, Deserialize)]
pub struct StatisticsPage {
    #[serde(default, deserialize_with = "number")]
    pub total_stats: u64,
    #[serde(default)]
    pub data: Vec<StatisticsRow>,
}

/// One email of a campaign, as Smartlead's statistics list it: when it was sent, and the first
/// open, click and reply it got; whether it bounced or its lead unsubscribed.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct StatisticsRow {
    pub lead_email: String,
    /// The lead's whole name; read only when it is text.
    #[serde(default)]
    pub lead_name: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "number")]
    pub sequence_number: u64,
    #[serde(default)]
    pub stats_id: Option<String>,
    #[serde(default)]
    pub sent_time: Option<String>,
    #[serde(default)]
    pub open_time: Option<String>,
    #[serde(default)]
    pub click_time: Option<String>,
    #[serde(default)]
    pub reply_time: Option<String>,
    #[serde(default)]
    pub is_bounced: Option<bool>,
    #[serde(default)]
    pub is_unsubscribed: Option<bool>,
}

impl StatisticsRow {
    /// The events this row stands for, as the webhook would have normalized them. A bounce or an
    /// unsubscribe has no time in REST: the latest time the row has stands in, marked estimated.
    pub fn events(&self, campaign: &CampaignId) -> Result<Vec<EmailEvent>, MappingError> {
        let email =
            EmailAddress::parse(&self.lead_email).map_err(|e| MappingError::InvalidLeadEmail {
                field: "lead_email",
                reason: e.to_string(),
            })?;
        let step = self.sequence_number.max(1);
        let at = |field: &'static str,
                  raw: &Option<String>|
         -> Result<Option<UtcTimestamp>, MappingError> {
            raw.as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    UtcTimestamp::parse(&t.trim().replacen(' ', "T", 1))
                        .map_err(|e| MappingError::InvalidTimestamp { field, reason: e.0 })
                })
                .transpose()
        };
        let sent = at("sent_time", &self.sent_time)?;
        let opened = at("open_time", &self.open_time)?;
        let clicked = at("click_time", &self.click_time)?;
        let replied = at("reply_time", &self.reply_time)?;
        let latest = [sent, opened, clicked, replied].into_iter().flatten().max();
        let mut found: Vec<(SmartleadKind, UtcTimestamp, bool)> = Vec::new();
        for (kind, time) in [
            (SmartleadKind::Sent, sent),
            (SmartleadKind::Opened, opened),
            (SmartleadKind::Clicked, clicked),
            (SmartleadKind::Replied, replied),
        ] {
            if let Some(time) = time {
                found.push((kind, time, false));
            }
        }
        if let (Some(true), Some(time)) = (self.is_bounced, latest) {
            found.push((SmartleadKind::Bounced, time, true));
        }
        if let (Some(true), Some(time)) = (self.is_unsubscribed, latest) {
            found.push((SmartleadKind::Unsubscribed, time, true));
        }
        let profile = LeadProfile::default()
            .or_full_name(self.lead_name.as_ref().and_then(serde_json::Value::as_str));
        let step32 = u32::try_from(step).map_err(|_| MappingError::WrongType {
            field: "sequence_number",
            expected: "a step number",
        })?;
        Ok(found
            .into_iter()
            .filter_map(|(kind, time, estimated)| {
                let event_type = kind.event_type(step)?;
                let payload = serde_json::json!({
                    "source": "smartlead_rest",
                    "stats_id": self.stats_id,
                    "lead_email": email.as_str(),
                    "sequence_number": step,
                    "event_type": event_type.as_str(),
                    "time": time.to_string(),
                    "time_estimated": estimated,
                });
                Some(EmailEvent {
                    event_type,
                    email: email.clone(),
                    lead_profile: profile.clone(),
                    campaign_id: campaign.clone(),
                    campaign_labels: CampaignLabels::default(),
                    step: step32,
                    message_id: String::new(),
                    occurred_at: time,
                    dedupe_key: super::dedupe::key(
                        "rest-v1",
                        &[
                            campaign.as_str(),
                            email.as_str(),
                            &step.to_string(),
                            event_type.as_str(),
                        ],
                    ),
                    // Backfills are found by their own table, not this key: untimed as before.
                    legacy_dedupe_key: None,
                    payload: payload.to_string(),
                })
            })
            .collect())
    }
}

/// The event types this hub registers for: everything it maps or keeps, under the names
/// Smartlead's campaign webhook API accepts (docs/SMARTLEAD-REST.md §3).
pub const WEBHOOK_EVENT_TYPES: &[&str] = &[
    "EMAIL_SENT",
    "EMAIL_OPEN",
    "EMAIL_LINK_CLICK",
    "EMAIL_REPLY",
    "EMAIL_BOUNCE",
    "LEAD_UNSUBSCRIBED",
    "LEAD_CATEGORY_UPDATED",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_campaign_is_labelled_as_a_webhook_would_label_it() {
        let listed: Vec<Campaign> = serde_json::from_str(
            r#"[{"id":"77","name":"  Q4\nEU ","status":"paused"},
                {"id":78,"name":"","status":"on hold"},{"id":79}]"#,
        )
        .unwrap();
        let labels: Vec<(String, Option<String>, Option<String>)> = listed
            .iter()
            .map(|c| {
                let l = c.labels();
                (
                    c.campaign_id().to_string(),
                    l.name.map(|n| n.to_string()),
                    l.status.map(|s| s.as_str().to_owned()),
                )
            })
            .collect();
        assert_eq!(
            labels,
            [
                ("77".into(), Some("Q4 EU".into()), Some("PAUSED".into())),
                ("78".into(), None, None),
                ("79".into(), None, None),
            ]
        );
    }

    #[test]
    fn a_statistics_row_stands_for_its_events() {
        let row: StatisticsRow = serde_json::from_str(
            r#"{"lead_email":"Zoe@Acme.example","sequence_number":"2","stats_id":"st-1",
                "sent_time":"2026-10-05 09:00:00.000Z","open_time":"2026-10-05T10:00:00Z",
                "click_time":null,"reply_time":"","is_bounced":true,"is_unsubscribed":null}"#,
        )
        .unwrap();
        let campaign = CampaignId::parse("77").unwrap();
        let events = row.events(&campaign).unwrap();
        let summary: Vec<(&str, String, u32)> = events
            .iter()
            .map(|e| (e.event_type.as_str(), e.occurred_at.to_string(), e.step))
            .collect();
        assert_eq!(
            summary,
            [
                ("email_sent", "2026-10-05T09:00:00.000Z".to_owned(), 2),
                (
                    "email_follow_up_opened",
                    "2026-10-05T10:00:00.000Z".to_owned(),
                    2
                ),
                // No bounce time in REST: the row's latest time, marked estimated.
                ("email_bounced", "2026-10-05T10:00:00.000Z".to_owned(), 2),
            ]
        );
        assert!(events
            .iter()
            .all(|e| e.email.as_str() == "zoe@acme.example"));
        assert!(events[2].payload.contains("\"time_estimated\":true"));
        // The same row gives the same keys: a second sync finds them stored.
        assert_eq!(
            events[0].dedupe_key,
            row.events(&campaign).unwrap()[0].dedupe_key
        );
        let bad: StatisticsRow =
            serde_json::from_str(r#"{"lead_email":"a@b.io","sent_time":"yesterday"}"#).unwrap();
        assert!(matches!(
            bad.events(&campaign),
            Err(MappingError::InvalidTimestamp {
                field: "sent_time",
                ..
            })
        ));
    }

    #[test]
    fn counters_are_read_from_strings_numbers_and_nulls() {
        let analytics: CampaignAnalytics = serde_json::from_str(
            r#"{"id":1562695,"sent_count":"30","unique_sent_count":10,"open_count":null,"reply_count":"0","extra":"kept out"}"#,
        )
        .unwrap();
        assert_eq!(
            (analytics.sent_count, analytics.unique_sent_count),
            (30, 10)
        );
        assert_eq!((analytics.open_count, analytics.click_count), (0, 0));
        let campaign: Campaign =
            serde_json::from_str(r#"{"id":"4155843310","name":"Q4"}"#).unwrap();
        assert_eq!(campaign.id, 4_155_843_310);
        assert!(serde_json::from_str::<CampaignAnalytics>(r#"{"sent_count":"many"}"#).is_err());
    }
}
