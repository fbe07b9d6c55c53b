//! Out of order: any arrival order of one lead's events (sent, open, click, reply, bounce,
//! unsubscribe and two category updates) ends in the same lead row and the same counts.

use proptest::prelude::*;
use smartlead_hub::domain::UserId;

use crate::backends::{on_both_backends, postgres_available, rows, Backend, TestDb};
use crate::helpers::{add_user, admin, fixture, ingest_in_batches, spawn_app_on, ORG, SECRET};

/// The lead's eight events, from the real fixtures (the bounce and unsubscribe re-addressed to
/// the same lead, the second category update later and different).
fn lead_events() -> Vec<String> {
    let zoe = "zoe.lefevre@mueller-soehne.example";
    let text = |name: &str| String::from_utf8(fixture(name)).unwrap();
    let category = text("23_lead_category_updated_full_history.json");
    let later_category = category
        .replace("2025-10-14T13:36:12.402Z", "2025-10-19T10:00:00.000Z")
        .replace(
            "\"new_name\": \"Meeting Request\"",
            "\"new_name\": \"Interested\"",
        );
    vec![
        text("01_email_sent_new_and_deprecated_fields.json"),
        text("05_email_open_seq1.json"),
        text("08_email_link_click_arrays.json"),
        text("11_email_reply_full_new_fields_html_quotes.json"),
        text("17_email_bounce_new_and_deprecated.json")
            .replace("jp.martin@ancien-domaine.example", zoe),
        text("20_lead_unsubscribed_new_z_timestamp.json")
            .replace("k.osei@harbourline.example", zoe),
        category,
        later_category,
    ]
}

/// (lead row, per-metric totals) after ingesting `bodies` in the given order into a fresh
/// database: the lead row's columns, and (campaign, metric, events, leads) per rollup total.
type Outcome = (Vec<crate::backends::Cell>, Vec<Vec<crate::backends::Cell>>);

fn outcome(backend: Backend, order: &[usize], bodies: &[String]) -> Outcome {
    let test_db = TestDb::new(backend);
    let db = &test_db.db;
    let user: UserId = add_user(db, "order@example.com", "order-org", None);
    // One batch's worth of counts: summed across every event, written once before COMMIT.
    let deliveries: Vec<_> = order
        .iter()
        .map(|&i| (user, "order-org".to_owned(), bodies[i].clone().into_bytes()))
        .collect();
    ingest_in_batches(db, &deliveries, deliveries.len());
    assert_eq!(admin(db).check_rollups().unwrap(), vec![]);
    let lead = rows(
        db,
        "SELECT email, smartlead_campaign_id, last_email_event, last_event_timestamp, smartlead_category, smartlead_category_at
         FROM leads",
        &[],
    )
    .remove(0);
    let totals = rows(
        db,
        "SELECT campaign_id, metric, events, leads FROM rollup_totals ORDER BY campaign_id, metric",
        &[],
    );
    (lead, totals)
}

fn any_order_gives_the_same_lead_and_counts(
    backend: Backend,
    order: &[usize],
) -> Result<(), TestCaseError> {
    let bodies = lead_events();
    let reference = outcome(backend, &(0..8).collect::<Vec<_>>(), &bodies);
    prop_assert_eq!(reference.0[2].as_deref(), Some("email_unsubscribed"));
    prop_assert_eq!(reference.0[4].as_deref(), Some("Interested"));
    prop_assert_eq!(outcome(backend, order, &bodies), reference);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::helpers::soak_count("SOAK_ORDER_CASES", 48), .. ProptestConfig::default() })]

    #[test]
    fn any_order_gives_the_same_lead_and_counts_sqlite(order in Just((0..8).collect::<Vec<usize>>()).prop_shuffle()) {
        any_order_gives_the_same_lead_and_counts(Backend::Sqlite, &order)?;
    }
}

proptest! {
    // Each case creates two databases on the server: fewer cases, the same orders' space.
    #![proptest_config(ProptestConfig { cases: crate::helpers::soak_count("SOAK_ORDER_CASES", 48) / 4, .. ProptestConfig::default() })]

    #[test]
    fn any_order_gives_the_same_lead_and_counts_postgres(order in Just((0..8).collect::<Vec<usize>>()).prop_shuffle()) {
        if postgres_available("ordering::any_order_gives_the_same_lead_and_counts_postgres") {
            any_order_gives_the_same_lead_and_counts(Backend::Postgres, &order)?;
        }
    }
}

on_both_backends! {
/// Every permutation of five events of one lead, each for its own tenant, ends in the same lead row.
async fn any_arrival_order_gives_the_same_lead_row(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let events = [
        "01_email_sent_new_and_deprecated_fields.json",
        "05_email_open_seq1.json",
        "08_email_link_click_arrays.json",
        "11_email_reply_full_new_fields_html_quotes.json",
        "06_email_open_followup_step3_string_seq.json",
    ];
    let mut rows = std::collections::HashSet::new();
    for (n, order) in permutations(&events).into_iter().enumerate() {
        let org = format!("perm-org-{n}");
        let user = add_user(
            &app.db,
            &format!("perm{n}@example.com"),
            &org,
            Some(SECRET),
        );
        for name in order {
            let answer = app.post_webhook(&org, fixture(name), None).await;
            assert_eq!(answer.body["status"], "stored", "{name}");
        }
        app.projected().await;
        let row = app
            .rows(
                "SELECT l.last_email_event, l.last_event_timestamp, l.smartlead_campaign_id,
                            (SELECT count(*) FROM email_events e WHERE e.lead_id = l.id)
                     FROM leads l WHERE l.user_id = $1",
                &[&user.to_string()],
            )
            .remove(0);
        rows.insert(row);
    }
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        rows.into_iter().collect::<Vec<_>>(),
        vec![vec![
            some("email_follow_up_opened"),
            some("2025-10-21T07:02:30.110Z"),
            some("3701245"),
            some("5")
        ]]
    );
}


async fn an_older_category_arriving_late_does_not_overwrite_a_newer_one(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let newer = String::from_utf8(fixture("23_lead_category_updated_full_history.json")).unwrap();
    let older = newer
        .replace("2025-10-14T13:36:12.402Z", "2025-10-10T08:00:00.000Z")
        .replace(
            "\"new_name\": \"Meeting Request\"",
            "\"new_name\": \"Interested\"",
        );
    assert_ne!(older, newer);
    assert_eq!(
        app.post_webhook(ORG, newer, None).await.body["status"],
        "kept"
    );
    assert_eq!(
        app.post_webhook(ORG, older, None).await.body["status"],
        "kept"
    );
    let category = app.rows("SELECT smartlead_category FROM leads", &[]);
    assert_eq!(category, [[Some("Meeting Request".to_owned())]]);
}
}

fn permutations<'a>(items: &[&'a str]) -> Vec<Vec<&'a str>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}
