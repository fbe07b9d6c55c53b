//! A model-based property test of everything ingestion derives. Random deliveries for two users
//! (every event kind and both names of each, category updates and other kept events, shouted
//! and padded addresses, follow-up steps, several links, times on a coarse grid so that ties
//! happen, redeliveries that differ in metadata) go through the real parse → ingest path. An oracle computed here in
//! Rust from the README's rules says what the analytics (all-time and per range, newly reached
//! leads included) and every lead row must be; and two different orders and batchings of the
//! same deliveries must leave identical tables.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use smartlead_hub::domain::{EventType, UserId, UtcTimestamp};
use smartlead_hub::storage::records::{HourRange, MetricRow};
use smartlead_hub::storage::sqlite::analytics;
use smartlead_hub::storage::sqlite::rollups;

use crate::helpers::{add_user, backend_connection, ingest_in_batches};

/// Event names, each with its alternate spelling; the last two are kept events: a category
/// update, and a manual step (it only names the lead).
const KINDS: [(&str, &str); 8] = [
    ("EMAIL_SENT", "FIRST_EMAIL_SENT"),
    ("EMAIL_OPEN", "EMAIL_OPENED"),
    ("EMAIL_LINK_CLICK", "EMAIL_CLICKED"),
    ("EMAIL_REPLY", "EMAIL_REPLIED"),
    ("EMAIL_BOUNCE", "EMAIL_BOUNCED"),
    ("LEAD_UNSUBSCRIBED", "EMAIL_UNSUBSCRIBED"),
    ("LEAD_CATEGORY_UPDATED", "LEAD_CATEGORY_UPDATED"),
    ("MANUAL_STEP_REACHED", "MANUAL_STEP_REACHED"),
];
const CATEGORY: usize = 6;
const MANUAL_STEP: usize = 7;
const CATEGORIES: [&str; 3] = ["Interested", "Not interested", "Out of office"];

#[derive(Debug, Clone)]
struct Delivery {
    user: usize,
    kind: usize,
    alternate: bool,
    lead: u8,
    shout: bool,
    campaign: u8,
    /// Half-hours from the start: a coarse grid, so that same-time events are common.
    slot: u32,
    step: u8,
    link: u8,
    category: usize,
    /// Metadata that differs between redeliveries of one event.
    attempt: u32,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    (
        (
            0usize..2,
            0..KINDS.len(),
            any::<bool>(),
            0u8..4,
            any::<bool>(),
        ),
        (0u8..2, 0u32..96, 1u8..4, 0u8..2, 0..CATEGORIES.len()),
    )
        .prop_map(
            |((user, kind, alternate, lead, shout), (campaign, slot, step, link, category))| {
                Delivery {
                    user,
                    kind,
                    alternate,
                    lead,
                    shout,
                    campaign,
                    slot,
                    step,
                    link,
                    category,
                    attempt: 0,
                }
            },
        )
}

impl Delivery {
    fn email(&self) -> String {
        format!("lead{}@example.com", self.lead)
    }

    fn at(&self) -> UtcTimestamp {
        UtcTimestamp::parse("2025-10-14T00:00:00Z")
            .unwrap()
            .plus_millis(i64::from(self.slot) * 30 * 60 * 1000)
    }

    fn campaign_id(&self) -> String {
        (100 + u32::from(self.campaign)).to_string()
    }

    /// The webhook body, as Smartlead would send it.
    fn body(&self) -> Vec<u8> {
        let (name, alternate) = KINDS[self.kind];
        let address = match self.shout {
            true => format!("  {}  ", self.email().to_uppercase()),
            false => self.email(),
        };
        let mut body = serde_json::json!({
            "event_type": if self.alternate { alternate } else { name },
            "campaign_id": 100 + u32::from(self.campaign),
            "event_timestamp": self.at().to_string(),
            "webhook_id": 311842 + self.attempt,
            "description": format!("delivery attempt {}", self.attempt),
        });
        if self.kind == CATEGORY {
            body["lead_email"] = address.into();
            body["category"] = CATEGORIES[self.category].into();
        } else if self.kind == MANUAL_STEP {
            body["lead_email"] = address.into();
            body["sequence_number"] = self.step.into();
        } else {
            body["to_email"] = address.into();
            body["sequence_number"] = self.step.into();
            // One sent email (stats id) per lead, campaign and step, as Smartlead numbers them.
            body["stats_id"] = format!("st-{}-{}-{}", self.lead, self.campaign, self.step).into();
            if self.kind == 2 {
                body["link_details"] = serde_json::json!([format!("https://x.io/{}", self.link)]);
            }
        }
        serde_json::to_vec(&body).unwrap()
    }

    /// The stored type (README: follow-ups when `sequence_number` > 1).
    fn event_type(&self) -> Option<EventType> {
        let follow_up = self.step > 1;
        Some(match self.kind {
            0 => EventType::Sent,
            1 if follow_up => EventType::FollowUpOpened,
            1 => EventType::Opened,
            2 if follow_up => EventType::FollowUpClicked,
            2 => EventType::Clicked,
            3 if follow_up => EventType::FollowUpReplied,
            3 => EventType::Replied,
            4 => EventType::Bounced,
            5 => EventType::Unsubscribed,
            _ => return None,
        })
    }

    /// What makes two deliveries the same email event (README: type, lead, stats id, time, link).
    fn identity(&self) -> (usize, &'static str, String, u8, u8, u32, u8) {
        let event_type = self.event_type().map_or("", EventType::as_str);
        let link = if self.kind == 2 { self.link } else { 0 };
        (
            self.user,
            event_type,
            self.email(),
            self.campaign,
            self.step,
            self.slot,
            link,
        )
    }
}

/// One stored email event as the oracle sees it.
#[derive(Debug, Clone)]
struct Stored {
    user: usize,
    event_type: EventType,
    email: String,
    campaign: String,
    at: String,
}

/// The distinct email events among `deliveries` (redeliveries count once).
fn stored_events(deliveries: &[Delivery]) -> Vec<Stored> {
    let mut seen = BTreeSet::new();
    deliveries
        .iter()
        .filter(|d| d.event_type().is_some() && seen.insert(d.identity()))
        .map(|d| Stored {
            user: d.user,
            event_type: d.event_type().unwrap(),
            email: d.email(),
            campaign: d.campaign_id(),
            at: d.at().to_string(),
        })
        .collect()
}

fn metrics_of(event_type: EventType) -> Vec<&'static str> {
    [
        Some(event_type.as_str()),
        event_type.headline().map(|h| h.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn hour_of(at: &str) -> String {
    format!("{}:00:00.000Z", &at[..13])
}

/// The README's analytics for one user and scope: all-time, or within `range` (events in its
/// hours; leads whose *first* event of the metric falls in them).
fn oracle_metrics(
    events: &[Stored],
    user: usize,
    scope: &str,
    range: Option<&HourRange>,
) -> Vec<MetricRow> {
    let in_scope = |e: &&Stored| e.user == user && (scope.is_empty() || e.campaign == scope);
    let mut by_metric: BTreeMap<&str, Vec<&Stored>> = BTreeMap::new();
    for event in events.iter().filter(in_scope) {
        for metric in metrics_of(event.event_type) {
            by_metric.entry(metric).or_default().push(event);
        }
    }
    let inside = |at: &str| range.is_none_or(|r| hour_of(at) >= r.from && hour_of(at) < r.to);
    let mut rows = Vec::new();
    for (metric, all) in by_metric {
        let counted: Vec<&&Stored> = all.iter().filter(|e| inside(&e.at)).collect();
        if counted.is_empty() {
            continue;
        }
        let mut firsts: BTreeMap<&str, &str> = BTreeMap::new();
        for e in &all {
            let first = firsts.entry(e.email.as_str()).or_insert(e.at.as_str());
            if e.at.as_str() < *first {
                *first = e.at.as_str();
            }
        }
        rows.push(MetricRow {
            metric: metric.to_owned(),
            events: counted.len() as i64,
            leads: firsts.values().filter(|at| inside(at)).count() as i64,
            first_at: counted.iter().map(|e| e.at.clone()).min().unwrap(),
            last_at: counted.iter().map(|e| e.at.clone()).max().unwrap(),
        });
    }
    rows
}

/// (email, last_email_event, last_event_timestamp, smartlead_campaign_id, smartlead_category)
type LeadRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The README's lead rows: the newest email event wins (ties by type, then campaign), the
/// newest category wins; leads named only by category updates have no campaign.
fn oracle_leads(deliveries: &[Delivery], user: usize) -> Vec<LeadRow> {
    let mut leads: BTreeMap<String, LeadRow> = BTreeMap::new();
    let mut categories: BTreeMap<String, (String, &str)> = BTreeMap::new();
    for d in deliveries.iter().filter(|d| d.user == user) {
        let row = leads
            .entry(d.email())
            .or_insert_with(|| (d.email(), None, None, None, None));
        match d.event_type() {
            Some(t) => {
                let candidate = (d.at().to_string(), t.as_str().to_owned(), d.campaign_id());
                let current = (row.2.clone(), row.1.clone(), row.3.clone());
                if current.0.is_none()
                    || (
                        current.0.clone().unwrap(),
                        current.1.clone().unwrap(),
                        current.2.clone().unwrap(),
                    ) < candidate
                {
                    (row.1, row.2, row.3) =
                        (Some(candidate.1), Some(candidate.0), Some(candidate.2));
                }
            }
            None if d.kind == MANUAL_STEP => {}
            None => {
                let candidate = (d.at().to_string(), CATEGORIES[d.category]);
                let newest = categories.entry(d.email()).or_insert(candidate.clone());
                if candidate > *newest {
                    *newest = candidate;
                }
            }
        }
    }
    for (email, (_, category)) in categories {
        leads.get_mut(&email).unwrap().4 = Some(category.to_owned());
    }
    leads.into_values().collect()
}

fn stored_leads(conn: &Connection, user: UserId) -> Vec<LeadRow> {
    let mut statement = conn
        .prepare(
            "SELECT email, last_email_event, last_event_timestamp, smartlead_campaign_id, smartlead_category
             FROM leads WHERE user_id = ?1 ORDER BY email",
        )
        .unwrap();
    let rows = statement
        .query_map([user.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Every row of the derived tables, users named by number, sorted: comparable across files.
fn derived_tables(conn: &Connection, users: &[UserId]) -> Vec<(String, Vec<Vec<Sql>>)> {
    let queries = [
        ("rollup_hourly", "SELECT * FROM rollup_hourly"),
        ("rollup_daily", "SELECT * FROM rollup_daily"),
        ("rollup_totals", "SELECT * FROM rollup_totals"),
        ("leads", "SELECT user_id, email, last_email_event, last_event_timestamp, smartlead_campaign_id, smartlead_category, smartlead_category_at FROM leads"),
    ];
    queries
        .iter()
        .map(|(table, sql)| {
            let mut statement = conn.prepare(sql).unwrap();
            let width = statement.column_count();
            let mut rows: Vec<Vec<Sql>> = statement
                .query_map([], |r| (0..width).map(|i| r.get::<_, Sql>(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .map(|row: Vec<Sql>| {
                    row.into_iter()
                        .map(|value| match value {
                            Sql::Text(t) => match users.iter().position(|u| u.to_string() == t) {
                                Some(n) => Sql::Text(format!("user{n}")),
                                None => Sql::Text(t),
                            },
                            other => other,
                        })
                        .collect()
                })
                .collect();
            rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            (table.to_string(), rows)
        })
        .collect()
}

pub(crate) fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut items = items.to_vec();
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
    items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn ingestion_matches_the_model_whatever_the_order_and_batching(
        deliveries in prop::collection::vec(delivery(), 1..50),
        redelivered in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        seeds in (any::<u64>(), any::<u64>()),
        batches in (1usize..20, 1usize..20),
    ) {
        let mut all = deliveries.clone();
        for (n, index) in redelivered.iter().enumerate() {
            let mut again = deliveries[index.index(deliveries.len())].clone();
            again.attempt = n as u32 + 1;
            all.push(again);
        }
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (run, (seed, batch)) in [(seeds.0, batches.0), (seeds.1, batches.1)].into_iter().enumerate() {
            let path = dir.path().join(format!("model-{run}.db"));
            let users: Vec<UserId> = (0..2)
                .map(|n| add_user(&path, &format!("u{n}@example.com"), &format!("model-org-{n}"), None))
                .collect();
            let deliveries: Vec<_> = shuffled(&all, seed)
                .iter()
                .map(|d| (users[d.user], format!("model-org-{}", d.user), d.body()))
                .collect();
            ingest_in_batches(&path, &deliveries, batch);
            files.push((backend_connection(&path), users));
        }

        let events = stored_events(&all);
        let range = HourRange { from: "2025-10-14T12:00:00.000Z".into(), to: "2025-10-15T06:00:00.000Z".into() };
        for (conn, users) in &files {
            prop_assert_eq!(rollups::check(conn).unwrap(), vec![]);
            for (n, user) in users.iter().enumerate() {
                for scope in [rollups::ALL_CAMPAIGNS, "100", "101"] {
                    for range in [None, Some(&range)] {
                        let mut stored = analytics::scope_metrics(conn, *user, scope, range).unwrap();
                        stored.sort_by(|a, b| a.metric.cmp(&b.metric));
                        prop_assert_eq!(stored, oracle_metrics(&events, n, scope, range), "user {} scope {:?} range {:?}", n, scope, range);
                    }
                }
                prop_assert_eq!(stored_leads(conn, *user), oracle_leads(&all, n), "user {}", n);
            }
        }
        prop_assert_eq!(derived_tables(&files[0].0, &files[0].1), derived_tables(&files[1].0, &files[1].1));
    }
}
