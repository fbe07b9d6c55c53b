//! An event search by type reads back only as far as a matching event can be (the rollups'
//! oldest of the metric, or the oldest not projected yet), and no further. These tests hold the
//! projector off so that some matching events are acknowledged but not projected: they must be
//! found all the same, older than every projected one or of a type nothing projected has.

use actix_web::http::StatusCode;
use serde_json::Value;
use smartlead_hub::storage::Database;

use crate::backends::{on_both_backends, write_lock_before_projection, ProjectorTurn};
use crate::helpers::{fixture, spawn_app_on, TestApp};
use crate::ingestion::EMAIL_FIXTURES;

/// A reply of `step` at `at`, its own message.
fn reply(n: usize, step: u32, at: &str) -> Vec<u8> {
    let mut body: Value =
        serde_json::from_slice(&fixture("11_email_reply_full_new_fields_html_quotes.json"))
            .unwrap();
    body["sequence_number"] = step.into();
    body["time_replied"] = at.into();
    body["event_timestamp"] = at.into();
    body["message_id"] = format!("<reach-{n}-{step}@mail.example>").into();
    serde_json::to_vec(&body).unwrap()
}

/// The projector's turn, taken from outside until dropped.
enum Held {
    Sqlite(rusqlite::Connection),
    Postgres(ProjectorTurn),
}

impl Held {
    fn release(self) {
        match self {
            Held::Sqlite(lock) => lock.execute_batch("ROLLBACK").unwrap(),
            Held::Postgres(turn) => turn.release(),
        }
    }
}

/// Delivers a follow-up's reply (a type nothing projected has) and a first reply older than
/// every projected one, and keeps the projector from both: on PostgreSQL its advisory lock
/// (taken first); on SQLite the write lock, taken once it is clear the projector has not
/// reached them (else two more, until it has not).
/// Also says how many pairs it delivered.
async fn unprojected_replies(app: &TestApp) -> (Held, [String; 2], usize) {
    if let Database::Postgres(url) = app.db.clone() {
        let turn = ProjectorTurn::take(url.expose());
        let ids = deliver_pair(app, 0).await.1;
        return (Held::Postgres(turn), ids, 1);
    }
    for n in 0..50 {
        let (seq, ids) = deliver_pair(app, n).await;
        if let Some(lock) = write_lock_before_projection(&app.db_path, seq) {
            return (Held::Sqlite(lock), ids, n + 1);
        }
    }
    panic!("the projector reached every pair before the lock was taken");
}

/// (the lower seq, [the follow-up's reply, the old first reply]).
async fn deliver_pair(app: &TestApp, n: usize) -> (i64, [String; 2]) {
    let mut stored = Vec::new();
    let (newer, older) = (
        format!("2025-10-23T08:{n:02}:00+00:00"),
        format!("2025-10-01T07:{n:02}:00+00:00"),
    );
    for body in [reply(n, 3, &newer), reply(n, 1, &older)] {
        let answer = app.post_signed(body).await;
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);
        stored.push((
            answer.body["seq"].as_i64().unwrap(),
            answer.body["event_id"].as_str().unwrap().to_owned(),
        ));
    }
    (
        stored[0].0.min(stored[1].0),
        [stored[0].1.clone(), stored[1].1.clone()],
    )
}

async fn ids(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let answer = app
        .get_as_is(token, &format!("/api/events?{query}&limit=500"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
    answer.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn a_search_by_type_finds_what_the_projector_has_not_reached(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        for (name, ..) in EMAIL_FIXTURES {
            assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
        }
        app.projected().await;
        let projected_replies = ids(&app, &token, "event_type=email_replied").await;
        assert_eq!(projected_replies.len(), 3);

        let (held, [follow_up, old], pairs) = unprojected_replies(&app).await;
        let queries = [
            "event_type=email_follow_up_replied",
            "event_type=email_replied",
            "kind=replied",
            "kind=replied&campaign_id=3701245",
            "kind=replied&campaign_id=999",
            "event_type=email_spam_reported",
        ];
        let mut while_held = Vec::new();
        for query in queries {
            while_held.push(ids(&app, &token, query).await);
        }
        held.release();
        // Of a type nothing projected has, and older than every projected reply: both found.
        assert!(while_held[0].contains(&follow_up), "{while_held:?}");
        assert_eq!(while_held[1].len(), 3 + pairs, "{while_held:?}");
        assert!(while_held[1].contains(&old), "{while_held:?}");
        assert!(while_held[2].contains(&follow_up) && while_held[2].contains(&old));
        assert_eq!(while_held[2], while_held[3]);
        assert!(while_held[4].is_empty() && while_held[5].is_empty(), "{while_held:?}");

        // Once projected, the same answers.
        app.projected().await;
        for (query, held) in queries.iter().zip(&while_held) {
            assert_eq!(&ids(&app, &token, query).await, held, "{query}");
        }
    }
}

/// SQLite: the probe for matching events not projected yet reads the seq index (the events
/// above the watermark), never the user's.
#[actix_web::test]
async fn the_pending_probe_reads_the_seq_index() {
    use smartlead_hub::domain::EventType;
    use smartlead_hub::storage::sqlite::analytics::plans;

    let app = crate::helpers::spawn_app_with(|_| {}).await;
    let conn = app.sqlite();
    let types = [EventType::Replied, EventType::FollowUpReplied];
    for campaign in [None, Some("3701245")] {
        let plan = plans::search_pending(&conn, app.user_id, &types, campaign).unwrap();
        assert!(
            plan.iter().any(|l| l
                .starts_with("SEARCH email_event_rows USING INDEX idx_email_events_seq (seq>?)")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|l| l.starts_with("SCAN")), "{plan:?}");
    }
}
