//! Smartlead's REST answers the hub reads (docs/SMARTLEAD-REST.md): campaigns and their
//! analytics. Counters arrive as strings as often as numbers ("2", 2), ids exceed 2³¹; both are
//! read either way. No HTTP here: the client is in `reconcile/`.

use serde::{Deserialize, Deserializer};

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
