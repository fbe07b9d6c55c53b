//! Rollups equal a recount on both backends: random events of one user, with duplicates, in
//! shuffled order and random batches, through the webhook's parse and ingest; every campaign's
//! all-time metrics (through the storage boundary) against a recount of the stored events
//! (plain SQL), and `rollups check` (the backend's own full recount) clean.

use proptest::prelude::*;
use smartlead_hub::domain::{CampaignId, UserId};

use crate::backends::{postgres_available, rows, Backend, TestDb};
use crate::helpers::{add_user, admin, ingest_in_batches};
use crate::model::shuffled;
use crate::rollups::{body, spec, Spec};

fn check(
    backend: Backend,
    specs: &[Spec],
    dupes: &[usize],
    batch: usize,
    seed: u64,
) -> Result<(), TestCaseError> {
    let test_db = TestDb::new(backend);
    let db = &test_db.db;
    let user: UserId = add_user(db, "prop@example.com", "prop-org", None);
    let mut bodies: Vec<String> = specs.iter().map(body).collect();
    for index in dupes {
        bodies.push(bodies[index % bodies.len()].clone());
    }
    let bodies = shuffled(&bodies, seed);
    let deliveries: Vec<_> = bodies
        .iter()
        .map(|b| (user, "prop-org".to_owned(), b.clone().into_bytes()))
        .collect();
    ingest_in_batches(db, &deliveries, batch);

    let mut admin = admin(db);
    prop_assert_eq!(admin.check_rollups().unwrap(), vec![]);
    for campaign in ["100", "101", "102"] {
        let mut stored: Vec<Vec<Option<String>>> = admin
            .campaign_metrics(user, &CampaignId::parse(campaign).unwrap())
            .unwrap()
            .into_iter()
            .filter(|m| m.metric.starts_with("email_"))
            .map(|m| {
                vec![
                    Some(m.metric),
                    Some(m.events.to_string()),
                    Some(m.leads.to_string()),
                    Some(m.first_at),
                    Some(m.last_at),
                ]
            })
            .collect();
        stored.sort();
        let recounted = rows(
            db,
            "SELECT event_type, count(*), count(DISTINCT email), min(timestamp), max(timestamp)
             FROM email_events WHERE user_id = $1 AND campaign_id = $2
             GROUP BY event_type ORDER BY event_type",
            &[&user.to_string(), campaign],
        );
        prop_assert_eq!(stored, recounted, "campaign {}", campaign);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    #[test]
    fn rollups_equal_a_recount_sqlite(specs in prop::collection::vec(spec(), 1..60), dupes in prop::collection::vec(0usize..100, 0..15), batch in 1usize..25, seed in any::<u64>()) {
        check(Backend::Sqlite, &specs, &dupes, batch, seed)?;
    }

    #[test]
    fn rollups_equal_a_recount_postgres(specs in prop::collection::vec(spec(), 1..60), dupes in prop::collection::vec(0usize..100, 0..15), batch in 1usize..25, seed in any::<u64>()) {
        if postgres_available("rollups_both::rollups_equal_a_recount_postgres") {
            check(Backend::Postgres, &specs, &dupes, batch, seed)?;
        }
    }
}
