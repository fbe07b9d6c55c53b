//! `GET /api/campaigns/{id}/steps`: events and leads per sequence step, from the step rollup,
//! kept by the projector and rebuilt the same by migrations 009 (events, from stored payloads)
//! and 021 (leads).

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::backends::on_both_backends;
use crate::helpers::{
    add_user, admin, fixture, ingest_in_batches, serve_file, spawn_app_on, ORG, SECRET,
};

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

/// Fixture 05 (a step-1 open) again, three hours later: the same lead opening the same email.
fn reopened() -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture("05_email_open_seq1.json")).unwrap();
    for field in ["time_opened", "event_timestamp"] {
        body[field] = json!("2025-10-14T14:47:09.603514+00:00");
    }
    serde_json::to_vec(&body).unwrap()
}

fn expected() -> Value {
    // (events, leads) of each kind.
    let step =
        |step: u32, [sent, opened, clicked, replied, bounced, unsubscribed]: [(i64, i64); 6]| {
            json!({"step": step, "sent": sent.0, "opened": opened.0, "clicked": clicked.0,
               "replied": replied.0, "bounced": bounced.0, "unsubscribed": unsubscribed.0,
               "unique_leads": {"sent": sent.1, "opened": opened.1, "clicked": clicked.1,
                                "replied": replied.1, "bounced": bounced.1,
                                "unsubscribed": unsubscribed.1}})
        };
    json!({"campaign_id": "3701245", "steps": [
        // Zoë opened the step-1 email twice, Anna once: three opens, two leads.
        step(1, [(2, 2), (3, 2), (1, 1), (1, 1), (1, 1), (0, 0)]),
        step(2, [(0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 1)]),
        // Zoë's step-3 open is her first there.
        step(3, [(0, 0), (1, 1), (0, 0), (0, 0), (0, 0), (0, 0)]),
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
        .map(|name| fixture(name))
        .chain([reopened()])
        .map(|body| (user, ORG.to_owned(), body))
        .collect();
    ingest_in_batches(&db, &deliveries, 4);
    let (status, steps) = steps_of(&db, "3701245").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(steps, expected());
    assert_eq!(steps_of(&db, "999").await.0, StatusCode::NOT_FOUND);

    // Migrations 009 and 021 rebuild the same numbers from the stored events, and 021 alone
    // the same leads.
    for migration in ["_021_", "_009_"] {
        let mut admin = admin(&db);
        let names = admin.migration_names();
        let before = names
            .iter()
            .position(|name| name.contains(migration))
            .unwrap();
        admin.migrate_to(before).unwrap();
        admin.migrate_to_latest().unwrap();
        assert_eq!(admin.check_rollups().unwrap(), vec![], "{migration}");
        drop(admin);
        assert_eq!(steps_of(&db, "3701245").await.1, expected(), "{migration}");
    }
}

on_both_backends! {
    /// Through the service, in any order and across projections: the re-open first, then the
    /// rest, each delivery its own projection.
    async fn a_lead_counts_once_per_kind_and_step_whatever_the_order(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let bodies = std::iter::once(reopened()).chain(FIXTURES.iter().map(|name| fixture(name)));
        for body in bodies {
            let answer = app.post_signed(body).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            app.projected().await;
        }
        let mut steps = app.get_as(&token, "/api/campaigns/3701245/steps").await;
        assert_eq!(steps.status, StatusCode::OK, "{}", steps.body);
        steps.body.as_object_mut().unwrap().remove("as_of");
        assert_eq!(steps.body, expected());
        assert_eq!(admin(&app.db).check_rollups().unwrap(), vec![]);
    }
}
