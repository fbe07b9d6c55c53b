//! Smartlead's campaign counters beside the hub's, metric by metric, with what each side counts.
//! A metric is *compared* where both sides count the same thing; the others are shown for
//! information, with the reason they may differ.

use serde::Serialize;

use crate::smartlead::rest::CampaignAnalytics;
use crate::storage::records::MetricRow;

#[derive(Debug, Clone, Serialize)]
pub struct MetricCheck {
    pub metric: &'static str,
    pub smartlead: u64,
    pub local: u64,
    /// Whether the two count the same thing, so that a difference means missing data.
    pub compared: bool,
    pub definition: &'static str,
}

impl MetricCheck {
    pub fn agrees(&self) -> bool {
        !self.compared || self.smartlead == self.local
    }
}

/// (name, Smartlead's counter, local metric, unique leads (true) or events, compared, definition)
type Rule = (
    &'static str,
    fn(&CampaignAnalytics) -> u64,
    &'static str,
    bool,
    bool,
    &'static str,
);

const RULES: &[Rule] = &[
    ("sent", |a| a.sent_count, "sent", false, true,
     "emails sent: Smartlead's sent_count, the hub's EMAIL_SENT deliveries"),
    ("unique leads sent", |a| a.unique_sent_count, "sent", true, true,
     "leads sent at least one email"),
    ("unique leads opened", |a| a.unique_open_count, "opened", true, true,
     "leads who opened at least once (any step)"),
    ("opens", |a| a.open_count, "opened", false, false,
     "not compared: Smartlead's open_count counts opens per email (unconfirmed), the hub each open delivery"),
    ("unique leads clicked", |a| a.unique_click_count, "clicked", true, true,
     "leads who clicked at least once"),
    ("clicks", |a| a.click_count, "clicked", false, false,
     "not compared: Smartlead's click_count and the hub's click deliveries (one per link) may differ"),
    ("replies", |a| a.reply_count, "replied", false, true,
     "replies received: Smartlead's reply_count, the hub's EMAIL_REPLY deliveries"),
    ("bounces", |a| a.bounce_count, "bounced", false, true,
     "emails bounced"),
    ("unsubscribes", |a| a.unsubscribed_count, "unsubscribed", false, true,
     "leads unsubscribed"),
];

/// Every metric of one campaign: Smartlead's `analytics` beside the hub's all-time rollup rows.
pub fn compare(analytics: &CampaignAnalytics, local: &[MetricRow]) -> Vec<MetricCheck> {
    RULES
        .iter()
        .map(|(metric, remote, kind, unique, compared, definition)| {
            let row = local.iter().find(|row| row.metric == *kind);
            let value = row.map_or(0, |row| if *unique { row.leads } else { row.events });
            MetricCheck {
                metric,
                smartlead: remote(analytics),
                local: value.max(0) as u64,
                compared: *compared,
                definition,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metric: &str, events: i64, leads: i64) -> MetricRow {
        MetricRow {
            metric: metric.into(),
            events,
            leads,
            first_at: String::new(),
            last_at: String::new(),
        }
    }

    #[test]
    fn compared_metrics_decide_and_informational_ones_do_not() {
        let analytics = CampaignAnalytics {
            sent_count: 3,
            unique_sent_count: 2,
            unique_open_count: 1,
            open_count: 7,
            ..CampaignAnalytics::default()
        };
        let local = [row("sent", 3, 2), row("opened", 2, 1)];
        let checks = compare(&analytics, &local);
        assert!(checks.iter().all(MetricCheck::agrees), "{checks:?}");
        let opens = checks.iter().find(|c| c.metric == "opens").unwrap();
        assert_eq!(
            (opens.smartlead, opens.local, opens.compared),
            (7, 2, false)
        );

        let missing = compare(
            &CampaignAnalytics {
                reply_count: 1,
                ..analytics
            },
            &local,
        );
        let replies = missing.iter().find(|c| c.metric == "replies").unwrap();
        assert!(!replies.agrees());
    }
}
