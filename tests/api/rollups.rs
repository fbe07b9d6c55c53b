//! Rollups equal a recount over email_events, whatever the sequence: random events with
//! duplicates in shuffled order, through the same parse → ingest path the webhook uses.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use rusqlite::{params, Connection};
use smartlead_hub::domain::{EventType, UserId};
use smartlead_hub::storage::records::{HourRange, MetricRow};
use smartlead_hub::storage::sqlite::analytics;
use smartlead_hub::storage::sqlite::{migrations, rollups};

use crate::helpers::{add_user, backend_connection};

const NAMES: &[&str] = &[
    "EMAIL_SENT",
    "EMAIL_OPEN",
    "EMAIL_LINK_CLICK",
    "EMAIL_REPLY",
    "EMAIL_BOUNCE",
    "LEAD_UNSUBSCRIBED",
];

#[derive(Debug, Clone)]
pub(crate) struct Spec {
    name: usize,
    lead: u8,
    campaign: u8,
    minute: u32,
    step: u8,
}

pub(crate) fn body(spec: &Spec) -> String {
    format!(
        r#"{{"event_type":"{}","to_email":"lead{}@example.com","campaign_id":{},"sequence_number":{},
            "event_timestamp":"2025-10-{:02}T{:02}:{:02}:00Z","link_details":["https://x.io/{}"]}}"#,
        NAMES[spec.name],
        spec.lead,
        100 + u32::from(spec.campaign),
        spec.step,
        14 + spec.minute / 1440,
        (spec.minute / 60) % 24,
        spec.minute % 60,
        spec.minute % 3,
    )
}

pub(crate) fn spec() -> impl Strategy<Value = Spec> {
    (0..NAMES.len(), 0u8..6, 0u8..3, 0u32..(3 * 1440), 1u8..4).prop_map(
        |(name, lead, campaign, minute, step)| Spec {
            name,
            lead,
            campaign,
            minute,
            step,
        },
    )
}

/// Ingests `bodies` for `user` of "prop-org", `batch` at a time (one writer batch each).
fn ingest_in_batches(path: &Path, user: UserId, bodies: &[String], batch: usize) {
    let deliveries: Vec<_> = bodies
        .iter()
        .map(|b| (user, "prop-org".to_owned(), b.clone().into_bytes()))
        .collect();
    crate::helpers::ingest_in_batches(path, &deliveries, batch);
}

fn ingest_all(path: &Path, user: UserId, bodies: &[String]) {
    ingest_in_batches(path, user, bodies, bodies.len().max(1));
}

/// (metric, events, distinct leads, first, last) per metric, straight from email_events.
fn recount(
    conn: &Connection,
    user: UserId,
    campaign: Option<&str>,
    range: Option<&HourRange>,
) -> Vec<MetricRow> {
    let (from, to) = range.map_or(("0000".to_owned(), "9999".to_owned()), |r| {
        (r.from.clone(), r.to.clone())
    });
    let mut rows: Vec<MetricRow> = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT event_type, count(*), count(DISTINCT email), min(timestamp), max(timestamp) FROM email_events
             WHERE user_id = ?1 AND (?2 IS NULL OR campaign_id = ?2) AND timestamp >= ?3 AND timestamp < ?4
             GROUP BY event_type",
        )
        .unwrap();
    let typed = stmt
        .query_map(params![user.to_string(), campaign, from, to], |r| {
            Ok(MetricRow {
                metric: r.get(0)?,
                events: r.get(1)?,
                leads: r.get(2)?,
                first_at: r.get(3)?,
                last_at: r.get(4)?,
            })
        })
        .unwrap();
    rows.extend(typed.map(Result::unwrap));
    rows.sort_by(|a, b| a.metric.cmp(&b.metric));
    rows
}

fn only_types(mut rows: Vec<MetricRow>) -> Vec<MetricRow> {
    rows.retain(|r| r.metric.starts_with("email_"));
    rows.sort_by(|a, b| a.metric.cmp(&b.metric));
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn rollups_equal_a_recount(specs in prop::collection::vec(spec(), 1..60), shuffle_seed in any::<u64>(), dupes in prop::collection::vec(any::<prop::sample::Index>(), 0..15), batch in 1usize..25) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prop.db");
        let user = add_user(&path, "prop@example.com", "prop-org", None);
        let mut bodies: Vec<String> = specs.iter().map(body).collect();
        for index in &dupes {
            let copy = bodies[index.index(bodies.len())].clone();
            bodies.push(copy);
        }
        // Deterministic shuffle from the generated seed.
        let mut state = shuffle_seed | 1;
        for i in (1..bodies.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            bodies.swap(i, (state % (i as u64 + 1)) as usize);
        }
        ingest_in_batches(&path, user, &bodies, batch);
        let conn = backend_connection(&path);

        prop_assert_eq!(rollups::check(&conn).unwrap(), vec![]);
        prop_assert_eq!(only_types(analytics::scope_metrics(&conn, user, rollups::ALL_CAMPAIGNS, None).unwrap()), recount(&conn, user, None, None));
        for campaign in ["100", "101", "102"] {
            prop_assert_eq!(only_types(analytics::scope_metrics(&conn, user, campaign, None).unwrap()), recount(&conn, user, Some(campaign), None));
        }
        // A range's event counts equal a recount of the events in those hours.
        let range = HourRange { from: "2025-10-15T00:00:00.000Z".into(), to: "2025-10-16T06:00:00.000Z".into() };
        let ranged = only_types(analytics::scope_metrics(&conn, user, rollups::ALL_CAMPAIGNS, Some(&range)).unwrap());
        let recounted = recount(&conn, user, None, Some(&range));
        let events = |rows: &[MetricRow]| rows.iter().map(|r| (r.metric.clone(), r.events, r.first_at.clone(), r.last_at.clone())).collect::<Vec<_>>();
        prop_assert_eq!(events(&ranged), events(&recounted));
    }
}

#[test]
fn check_finds_a_tampered_rollup_and_rebuild_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tamper.db");
    let user = add_user(&path, "t@example.com", "prop-org", None);
    let bodies: Vec<String> = (0..20)
        .map(|i| {
            body(&Spec {
                name: i % 6,
                lead: (i % 4) as u8,
                campaign: (i % 2) as u8,
                minute: i as u32 * 37,
                step: 1,
            })
        })
        .collect();
    ingest_all(&path, user, &bodies);
    let conn = backend_connection(&path);
    assert_eq!(rollups::check(&conn).unwrap(), vec![]);
    conn.execute("UPDATE rollup_totals SET events = events + 1 WHERE metric = 'email_sent' AND campaign_id = ''", []).unwrap();
    conn.execute(
        "UPDATE rollup_hourly SET new_leads = new_leads + 1
         WHERE (campaign_id, metric, hour) = (SELECT campaign_id, metric, hour FROM rollup_hourly LIMIT 1)",
        [],
    )
    .unwrap();
    conn.execute("UPDATE rollup_daily SET events = events * 2", [])
        .unwrap();
    let found = rollups::check(&conn).unwrap();
    assert_eq!(
        found.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        ["rollup_hourly", "rollup_daily", "rollup_totals"]
    );
    rollups::rebuild(&conn).unwrap();
    assert_eq!(rollups::check(&conn).unwrap(), vec![]);
}

#[test]
fn the_cli_checks_and_rebuilds_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cli.db");
    let user = add_user(&path, "c@example.com", "prop-org", None);
    ingest_all(
        &path,
        user,
        &[body(&Spec {
            name: 1,
            lead: 1,
            campaign: 0,
            minute: 5,
            step: 1,
        })],
    );
    let hub = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
            .args(args)
            .arg("--db")
            .arg(&path)
            .output()
            .unwrap()
    };
    let ok = hub(&["rollups", "check"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    backend_connection(&path)
        .execute("DELETE FROM rollup_hourly", [])
        .unwrap();
    let bad = hub(&["rollups", "check"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("rollup_hourly"));
    assert!(hub(&["rollups", "rebuild"]).status.success());
    assert!(hub(&["rollups", "check"]).status.success());
}

/// Migration 007 dropped the first-seen table; its down step recomputes it in SQL.
/// Those rows must be what the domain's metric mapping gives for the stored events.
#[test]
fn undoing_migration_007_recomputes_the_first_seen_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("down.db");
    let user = add_user(&path, "d@example.com", "prop-org", None);
    let bodies: Vec<String> = (0..48)
        .map(|i| {
            body(&Spec {
                name: i % NAMES.len(),
                lead: (i % 5) as u8,
                campaign: (i % 3) as u8,
                minute: (i as u32 * 613) % (3 * 1440),
                step: 1 + (i % 3) as u8,
            })
        })
        .collect();
    ingest_all(&path, user, &bodies);
    let mut conn = backend_connection(&path);

    let mut expected: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
    let stored: Vec<(String, String, String, String, String)> = conn
        .prepare("SELECT user_id, campaign_id, event_type, email, timestamp FROM email_events")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (user, campaign, event_type, email, at) in stored {
        let event_type: EventType = event_type.parse().unwrap();
        let metrics = [
            Some(event_type.as_str()),
            event_type.headline().map(|h| h.as_str()),
        ];
        for metric in metrics.into_iter().flatten() {
            for scope in [campaign.as_str(), ""] {
                let key = (
                    user.clone(),
                    scope.to_owned(),
                    metric.to_owned(),
                    email.clone(),
                );
                let first = expected.entry(key).or_insert_with(|| at.clone());
                if at < *first {
                    first.clone_from(&at);
                }
            }
        }
    }

    // Version N is the state after the Nth migration: the position of 007 is the one before it.
    let before_007 = migrations::names()
        .position(|name| name.ends_with("_007_firsts_from_lead_events"))
        .unwrap();
    migrations::to_version(&mut conn, before_007).unwrap();
    assert_eq!(migrations::current_version(&conn).unwrap(), before_007);
    let restored: BTreeMap<(String, String, String, String), String> = conn
        .prepare("SELECT user_id, campaign_id, metric, email, first_at FROM rollup_lead_firsts")
        .unwrap()
        .query_map([], |r| {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        expected.len() > 40,
        "too few rows to mean much: {}",
        expected.len()
    );
    assert_eq!(restored, expected);
    migrations::to_latest(&mut conn).unwrap();
}
