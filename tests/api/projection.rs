//! Derived data off the acknowledgement path (issue 19): the analytics and the leads' activity
//! trail the stored events by a projection, every answer built from them says which events it
//! includes (`as_of`), a read can wait for its own write (`min_event`), and a projector killed
//! at any point replays exactly the events above its watermark.

use std::time::Duration;

use actix_web::http::StatusCode;
use smartlead_hub::domain::UserId;
use smartlead_hub::storage::Database;

use crate::backends::{count, execute, on_both_backends, rows, Cell};
use crate::helpers::{admin, fixture, ingest_in_batches, spawn_app_on, spawn_app_with, ORG};
use crate::process::{prepared, HubProcess};

on_both_backends! {
/// The webhook's answer numbers the event; a read with that number as `min_event` includes it,
/// and says so.
async fn answers_say_which_events_they_include_and_a_read_waits_for_its_own(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let token = app.token_for(app.user_id);
    let first = app.deliver("05_email_open_seq1.json").await;
    assert_eq!(first.body["status"], "stored", "{}", first.body);
    let seq = first.body["seq"].as_i64().expect("a stored event has a seq");
    assert!(seq > 0);
    // A redelivery is the same event: the same number.
    let again = app.deliver("05_email_open_seq1.json").await;
    assert_eq!(again.body["status"], "duplicate");
    assert_eq!(again.body["seq"].as_i64(), Some(seq));

    let stats = app
        .get_as_is(&token, &format!("/api/stats?min_event={seq}"))
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    assert!(stats.body["as_of"].as_i64().unwrap() >= seq, "{}", stats.body);
    assert_eq!(stats.body["stats"]["headline"]["opened"]["events"], 1);
    let leads = app
        .get_as_is(&token, &format!("/api/leads?min_event={seq}"))
        .await;
    assert_eq!(leads.body["leads"][0]["last_email_event"], "email_opened");
    for path in [
        "/api/campaigns",
        "/api/campaigns/3701245/stats",
        "/api/campaigns/3701245/timeseries",
        "/api/campaigns/3701245/steps",
        "/api/leads",
    ] {
        let answer = app.get_as_is(&token, &format!("{path}?min_event={seq}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert!(answer.body["as_of"].as_i64().unwrap() >= seq, "{path}: {}", answer.body);
    }

    // A number nobody was given would be waited for forever: refused at once, named.
    let ahead = app
        .get_as_is(&token, &format!("/api/stats?min_event={}", seq + 1000))
        .await;
    assert_eq!(ahead.status, StatusCode::BAD_REQUEST);
    assert_eq!(ahead.error_code(), "invalid_query_parameter");
    assert!(ahead.body["error"]["message"].as_str().unwrap().contains("min_event"));
    for bad in ["-1", "x", "1.5"] {
        let answer = app
            .get_as_is(&token, &format!("/api/stats?min_event={bad}"))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Without a token nothing waits: the same 401 as any read.
    assert_eq!(
        app.get(&format!("/api/stats?min_event={seq}")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// A backlog (the state after a crash that left events unprojected, or an import) is worked off
/// in transactions of `--projection-batch` events. The service is killed with SIGKILL each time
/// the watermark is seen part way through it, so kills land between and inside projections. After
/// every kill the rollups equal a recount of exactly the events at or below the watermark; in the
/// end the derived data is what one uninterrupted projection made: nothing lost, nothing counted
/// twice.
async fn a_projector_killed_mid_backlog_replays_exactly_the_events_above_its_watermark(backend: Backend) {
    let (test_db, logs) = prepared(backend);
    let db = &test_db.db;
    const EVENTS: u64 = 3_000;
    ingest_backlog(db, EVENTS);
    let projected = derived(db);
    unproject(db);
    assert_eq!(pending(db), EVENTS as i64);
    assert_ne!(derived(db), projected, "the backlog is really unprojected");

    let mut kills = 0;
    while kills < 3 {
        let before = pending(db);
        assert!(before > 0, "the backlog was worked off before three kills");
        let hub = HubProcess::start_on(db, logs.path(), &["--projection-batch", "150"], "warn");
        // Killed as soon as a projection has committed: the next one is under way.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while pending(db) == before {
            assert!(std::time::Instant::now() < deadline, "no projection committed in 60 s");
            std::thread::sleep(Duration::from_millis(2));
        }
        hub.kill9();
        kills += 1;
        assert_eq!(
            admin(db).check_rollups().unwrap(),
            vec![],
            "after kill {kills}, the rollups are not a recount of the projected events"
        );
    }
    assert!(pending(db) > 0, "every kill landed part way through the backlog");

    // The rest, and a graceful stop (which projects what is left).
    let hub = HubProcess::start_on(db, logs.path(), &["--projection-batch", "150"], "warn");
    assert!(hub.terminate().success());
    assert_eq!(pending(db), 0);
    assert_eq!(derived(db), projected, "the replayed derived data differs from one projection");
}
}

/// The first `events` of the backlog, stored for the database's one user in transactions of
/// 500, each projected before it commits.
fn ingest_backlog(db: &Database, events: u64) {
    let user: UserId = rows(db, "SELECT id FROM users", &[])[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let deliveries: Vec<_> = (0..events)
        .map(|n| (user, ORG.to_owned(), backlog_event(n).into_bytes()))
        .collect();
    ingest_in_batches(db, &deliveries, 500);
}

/// Events of 60 leads over three campaigns and three types, their times out of order.
fn backlog_event(n: u64) -> String {
    let name = [
        "05_email_open_seq1.json",
        "08_email_link_click_arrays.json",
        "11_email_reply_full_new_fields_html_quotes.json",
    ][(n % 3) as usize];
    let mut event: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
    let minute = (n * 7919) % 600;
    let time = format!(
        "2025-10-{:02}T{:02}:{:02}:00+00:00",
        10 + minute / 120,
        (minute / 10) % 12,
        minute % 60
    );
    for field in [
        "event_timestamp",
        "time_opened",
        "time_clicked",
        "time_replied",
    ] {
        if event.get(field).is_some() {
            event[field] = time.clone().into();
        }
    }
    event["stats_id"] = format!("backlog-{n}").into();
    event["to_email"] = format!("lead-{}@backlog.example", n % 60).into();
    event["campaign_id"] = (3_701_245 + n % 3).into();
    event.to_string()
}

/// Back to "nothing projected": no rollup rows, no lead activity, the watermark at zero, and on
/// PostgreSQL every event queued again.
fn unproject(db: &Database) {
    for table in [
        "rollup_hourly",
        "rollup_daily",
        "rollup_totals",
        "rollup_steps",
    ] {
        execute(db, &format!("DELETE FROM {table}"));
    }
    execute(
        db,
        "UPDATE leads SET last_email_event = NULL, last_event_timestamp = NULL, smartlead_campaign_id = NULL",
    );
    execute(db, "UPDATE projection_watermark SET through = 0");
    if let Database::Postgres(_) = db {
        execute(
            db,
            "INSERT INTO projection_queue (user_id, seq, lead_id, campaign_id, event_type, \"timestamp\",
                                           sequence_step, received_at)
             SELECT user_id, seq, lead_id, campaign_id, event_type, \"timestamp\", COALESCE(sequence_step, 1),
                    created_at
             FROM email_events",
        );
    }
}

/// Events not projected yet.
fn pending(db: &Database) -> i64 {
    match db {
        Database::Sqlite(_) => count(
            db,
            "SELECT count(*) FROM email_events WHERE seq > (SELECT through FROM projection_watermark)",
        ),
        Database::Postgres(_) => count(db, "SELECT count(*) FROM projection_queue"),
    }
}

/// Everything the projector derives: every rollup row and every lead's activity.
fn derived(db: &Database) -> Vec<Vec<Cell>> {
    let mut all = Vec::new();
    for sql in [
        "SELECT user_id, campaign_id, metric, hour, events, new_leads, first_at, last_at FROM rollup_hourly ORDER BY 1, 2, 3, 4",
        "SELECT user_id, campaign_id, metric, day, events FROM rollup_daily ORDER BY 1, 2, 3, 4",
        "SELECT user_id, campaign_id, metric, events, leads, first_at, last_at FROM rollup_totals ORDER BY 1, 2, 3",
        "SELECT user_id, campaign_id, step, metric, events FROM rollup_steps ORDER BY 1, 2, 3, 4",
        "SELECT email, last_email_event, last_event_timestamp, smartlead_campaign_id FROM leads ORDER BY 1",
    ] {
        all.extend(rows(db, sql, &[]));
        all.push(vec![None]);
    }
    all
}

/// SQLite: another process holds the write lock (`BEGIN IMMEDIATE` on a connection of the
/// test's own), so the projector's turn cannot run. A read waiting for its own write gets a 503
/// `projection_behind` after the wait's limit, never an answer without the event; the projector
/// keeps retrying, and once the lock is let go the same read answers with the event.
#[actix_web::test]
async fn a_read_waiting_for_a_projector_kept_from_the_write_lock_is_a_503_not_a_short_answer() {
    let app = spawn_app_with(|settings| settings.busy_timeout_ms = 100).await;
    let token = app.token_for(app.user_id);
    // A delivery the projector has not reached yet, the lock held from then on (the projector
    // may get there first: then another delivery).
    let mut n = 0;
    let (seq, lock) = loop {
        let stored = app.post_signed(backlog_event(n)).await;
        assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
        let seq = stored.body["seq"].as_i64().unwrap();
        if let Some(lock) = crate::backends::write_lock_before_projection(&app.db_path, seq) {
            break (seq, lock);
        }
        n += 1;
        assert!(
            n < 50,
            "the projector reached every delivery before the lock was taken"
        );
    };

    assert_behind_after_the_wait(&app, &token, seq).await;

    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    let answer = app
        .get_as_is(&token, &format!("/api/stats?min_event={seq}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body["as_of"].as_i64().unwrap() >= seq,
        "{}",
        answer.body
    );
    // A projector kept from the lock is not a fault: writes go on.
    let after = app.post_signed(backlog_event(n + 1)).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
}

/// PostgreSQL: another process holds the projector's turn (its advisory lock), so nothing is
/// projected. A read waiting for its own write gets a 503 `projection_behind` naming both numbers
/// after the wait's limit, never an answer without the event; once the turn is free, the same read
/// answers with it.
#[actix_web::test]
async fn a_read_waiting_for_a_projector_that_cannot_run_is_a_503_not_a_short_answer() {
    if !crate::backends::postgres_available(
        "projection::a_read_waiting_for_a_projector_that_cannot_run_is_a_503_not_a_short_answer",
    ) {
        return;
    }
    let app = spawn_app_on(crate::backends::Backend::Postgres).await;
    let token = app.token_for(app.user_id);
    let Database::Postgres(url) = app.db.clone() else {
        unreachable!()
    };
    let turn = crate::backends::ProjectorTurn::take(url.expose());

    let stored = app.deliver("05_email_open_seq1.json").await;
    let seq = stored.body["seq"].as_i64().unwrap();
    assert_behind_after_the_wait(&app, &token, seq).await;

    turn.release();
    let answer = app
        .get_as_is(&token, &format!("/api/stats?min_event={seq}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["stats"]["headline"]["opened"]["events"], 1);
}

/// SQLite: a lead has an entry in the lead list's two indexes only once it has email activity
/// (migration 014). The delivery that first names a lead inserts it without activity, so that
/// insert costs the acknowledgement no page of either index; the projector adds the entries.
#[test]
fn a_lead_enters_the_lead_list_indexes_only_with_its_activity() {
    let (test_db, logs) = prepared(crate::backends::Backend::Sqlite);
    let db = &test_db.db;
    ingest_backlog(db, 300);
    let leads = count(db, "SELECT count(*) FROM leads");
    let active = "SELECT count(*) FROM leads WHERE last_event_timestamp IS NOT NULL";
    assert!(leads >= 30, "{leads} leads");
    assert_eq!(count(db, active), leads, "every lead has its activity");
    assert_eq!(lead_list_index_entries(db), [leads, leads]);

    unproject(db);
    assert_eq!(count(db, active), 0);
    assert_eq!(
        lead_list_index_entries(db),
        [0, 0],
        "leads without activity are in neither index"
    );

    // A graceful stop projects everything pending.
    let hub = HubProcess::start_on(db, logs.path(), &[], "warn");
    assert!(hub.terminate().success());
    assert_eq!(count(db, active), leads);
    assert_eq!(lead_list_index_entries(db), [leads, leads]);
}

/// The entries in each of the lead list's indexes, counted from their pages (`dbstat`).
fn lead_list_index_entries(db: &Database) -> [i64; 2] {
    // An index's b-tree holds one entry in every cell, its interior pages' included (a table's
    // interior cells only point the way); with 1 KiB pages these indexes have interior pages.
    ["idx_leads_user_last_event", "idx_leads_user_campaign_last_event"].map(|index| {
        count(
            db,
            &format!(
                "SELECT coalesce(sum(ncell), 0) FROM dbstat WHERE name = '{index}' AND pagetype IN ('leaf', 'internal')"
            ),
        )
    })
}

/// A read of the stats waiting for `seq` is a 503 `projection_behind` naming it, after the wait's
/// limit; without `min_event` the answer comes at once and says it does not include the event.
async fn assert_behind_after_the_wait(app: &crate::helpers::TestApp, token: &str, seq: i64) {
    let started = std::time::Instant::now();
    // The wait outlasts the default client's 5 s timeout.
    let patient = crate::helpers::client();
    let request = patient
        .get(format!("{}/api/stats?min_event={seq}", app.address))
        .bearer_auth(token);
    let behind = crate::helpers::answer(request.send().await.unwrap()).await;
    assert_eq!(
        behind.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        behind.body
    );
    assert_eq!(behind.error_code(), "projection_behind");
    assert!(behind.headers.contains_key("retry-after"));
    let message = behind.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&seq.to_string()), "{message}");
    assert!(started.elapsed() >= Duration::from_secs(9), "it did wait");
    let now = app.get_as_is(token, "/api/stats").await;
    assert!(now.body["as_of"].as_i64().unwrap() < seq, "{}", now.body);
}
