//! Out of order: any arrival order of one lead's events (sent, open, click, reply, bounce,
//! unsubscribe and two category updates) ends in the same lead row and the same counts.

use proptest::prelude::*;
use rusqlite::Connection;
use smartlead_hub::domain::UserId;

use crate::helpers::{
    add_user, admin, fixture, ingest_in_batches, inspect, spawn_app, ORG, SECRET,
};

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

/// (lead row, per-metric totals) after ingesting `bodies` in the given order into a fresh file.
/// The lead row's columns, and (campaign, metric, events, leads) per rollup total.
type Outcome = (Vec<String>, Vec<(String, String, i64, i64)>);

fn outcome(order: &[usize], bodies: &[String]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order.db");
    let user: UserId = add_user(&path, "order@example.com", "order-org", None);
    // One batch's worth of counts: summed across every event, written once before COMMIT.
    let deliveries: Vec<_> = order
        .iter()
        .map(|&i| (user, "order-org".to_owned(), bodies[i].clone().into_bytes()))
        .collect();
    ingest_in_batches(&path, &deliveries, deliveries.len());
    assert_eq!(admin(&path).check_rollups().unwrap(), vec![]);
    let conn: Connection = inspect(&path);
    let lead: Vec<String> = conn
        .query_row(
            "SELECT email, smartlead_campaign_id, last_email_event, last_event_timestamp, smartlead_category, smartlead_category_at
             FROM leads",
            [],
            |r| (0..6).map(|i| r.get::<_, String>(i)).collect(),
        )
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT campaign_id, metric, events, leads FROM rollup_totals ORDER BY campaign_id, metric")
        .unwrap();
    let totals = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (lead, totals)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::helpers::soak_count("SOAK_ORDER_CASES", 48), .. ProptestConfig::default() })]

    #[test]
    fn any_order_gives_the_same_lead_and_counts(order in Just((0..8).collect::<Vec<usize>>()).prop_shuffle()) {
        let bodies = lead_events();
        let reference = outcome(&(0..8).collect::<Vec<_>>(), &bodies);
        prop_assert_eq!(&reference.0[2], "email_unsubscribed");
        prop_assert_eq!(&reference.0[4], "Interested");
        prop_assert_eq!(outcome(&order, &bodies), reference);
    }
}

/// Every permutation of five events of one lead, each for its own tenant, ends in the same lead row.
#[actix_web::test]
async fn any_arrival_order_gives_the_same_lead_row() {
    let app = spawn_app().await;
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
            &app.db_path,
            &format!("perm{n}@example.com"),
            &org,
            Some(SECRET),
        );
        for name in order {
            let answer = app.post_webhook(&org, fixture(name), None).await;
            assert_eq!(answer.body["status"], "stored", "{name}");
        }
        let row: (String, String, String, i64) = app
            .db()
            .query_row(
                "SELECT l.last_email_event, l.last_event_timestamp, l.smartlead_campaign_id,
                        (SELECT count(*) FROM email_events e WHERE e.lead_id = l.id)
                 FROM leads l WHERE l.user_id = ?1",
                [user.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        rows.insert(row);
    }
    assert_eq!(
        rows.into_iter().collect::<Vec<_>>(),
        vec![(
            "email_follow_up_opened".to_string(),
            "2025-10-21T07:02:30.110Z".to_string(),
            "3701245".to_string(),
            5
        )]
    );
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

#[actix_web::test]
async fn an_older_category_arriving_late_does_not_overwrite_a_newer_one() {
    let app = spawn_app().await;
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
    let category: String = app
        .db()
        .query_row("SELECT smartlead_category FROM leads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(category, "Meeting Request");
}
