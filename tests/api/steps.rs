//! `GET /api/campaigns/{id}/steps`: events per sequence step, from the step rollup, kept by the
//! ingest and rebuilt the same by migration 009 from stored payloads.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{add_user, admin, fixture, ingest_in_batches, serve_file, ORG, SECRET};

const FIXTURES: &[&str] = &[
    "01_email_sent_new_and_deprecated_fields.json",
    "04_first_email_sent.json",
    "05_email_open_seq1.json",
    "06_email_open_followup_step3_string_seq.json",
    "07_email_opened_nested_docs_shape.json",
    "08_email_link_click_arrays.json",
    "11_email_reply_full_new_fields_html_quotes.json",
    "17_email_bounce_new_and_deprecated.json",
    "20_lead_unsubscribed_new_z_timestamp.json",
];

fn expected() -> Value {
    let step = |step: u32, sent, opened, clicked, replied, bounced, unsubscribed| {
        json!({"step": step, "sent": sent, "opened": opened, "clicked": clicked, "replied": replied,
               "bounced": bounced, "unsubscribed": unsubscribed})
    };
    json!({"campaign_id": "3701245", "steps": [
        step(1, 2, 2, 1, 1, 1, 0),
        step(2, 0, 0, 0, 0, 0, 1),
        step(3, 0, 1, 0, 0, 0, 0),
    ]})
}

async fn steps_of(db: &std::path::Path, campaign: &str) -> (StatusCode, Value) {
    let served = serve_file(db, |_| {});
    let base = served.base.clone();
    let token = crate::helpers::issue_token(db);
    let mut response = crate::helpers::client()
        .get(format!("{base}/api/campaigns/{campaign}/steps"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let mut body: Value = response.json().await.unwrap();
    // The watermark is the projector's, not the steps': the tests compare the counts.
    if let Some(fields) = body.as_object_mut() {
        fields.remove("as_of");
    }
    let answer = (response.status(), body);
    // Stopped for good (the file's serve lock released) before the next one starts.
    served.stop().await;
    answer
}

#[actix_web::test]
async fn steps_count_each_step_s_email_and_survive_a_migration_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("steps.db");
    let user = add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    let deliveries: Vec<_> = FIXTURES
        .iter()
        .map(|name| (user, ORG.to_owned(), fixture(name)))
        .collect();
    ingest_in_batches(&db, &deliveries, 4);
    let (status, steps) = steps_of(&db, "3701245").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(steps, expected());
    assert_eq!(steps_of(&db, "999").await.0, StatusCode::NOT_FOUND);

    // Migration 009 rebuilds the same numbers from the stored payloads.
    let mut admin = admin(&db);
    let names = admin.migration_names();
    let before_009 = names
        .iter()
        .position(|name| name.contains("_009_"))
        .unwrap();
    admin.migrate_to(before_009).unwrap();
    admin.migrate_to_latest().unwrap();
    assert_eq!(admin.check_rollups().unwrap(), vec![]);
    drop(admin);
    assert_eq!(steps_of(&db, "3701245").await.1, expected());
}
