//! Campaign labels: what Smartlead calls a campaign and what state it says it is in, from its
//! events, shown by the campaign answers, each label the newest event's whatever the arrival
//! order; and migration 016 labelling the campaigns stored before it. On both backends.

use actix_web::http::StatusCode;
use serde_json::Value;
use smartlead_hub::domain::{CampaignId, OrgId, UserId};
use smartlead_hub::smartlead::rest::StatisticsRow;

use crate::backends::{on_both_backends, rows, Backend, TestDb};
use crate::helpers::{add_user, admin, fixture, ingest_in_batches, spawn_app_on, TestApp};

const CAMPAIGN: &str = "3701245";

/// A sent email of the fixtures' campaign at `at` to `email`, named `name` (or not at all), in
/// the fixture's status (`ACTIVE`).
fn sent(campaign: &str, name: Option<&str>, at: &str, email: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture("04_first_email_sent.json")).unwrap();
    body["campaign_id"] = campaign.into();
    body["event_timestamp"] = at.into();
    body["to_email"] = email.into();
    match name {
        Some(name) => body["campaign_name"] = name.into(),
        None => drop(body.as_object_mut().unwrap().remove("campaign_name")),
    }
    serde_json::to_vec(&body).unwrap()
}

/// [`sent`] in another status (or none).
fn sent_in(status: Option<&str>, name: Option<&str>, at: &str, email: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&sent(CAMPAIGN, name, at, email)).unwrap();
    match status {
        Some(status) => body["campaign_status"] = status.into(),
        None => drop(body.as_object_mut().unwrap().remove("campaign_status")),
    }
    serde_json::to_vec(&body).unwrap()
}

/// A campaign's (name, status), as the list and the campaign's own answer give them (checked
/// to agree).
async fn labels_of(app: &TestApp, token: &str, campaign: &str) -> (Value, Value) {
    let list = app.get_as(token, "/api/campaigns").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let listed = list.body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["campaign_id"] == campaign)
        .unwrap()
        .clone();
    let stats = app
        .get_as(token, &format!("/api/campaigns/{campaign}/stats"))
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    for label in ["name", "status"] {
        assert_eq!(
            stats.body[label], listed[label],
            "the list and the campaign agree"
        );
    }
    (listed["name"].clone(), listed["status"].clone())
}

async fn name_of(app: &TestApp, token: &str, campaign: &str) -> Value {
    labels_of(app, token, campaign).await.0
}

async fn status_of(app: &TestApp, token: &str, campaign: &str) -> Value {
    labels_of(app, token, campaign).await.1
}

fn named_at(app: &TestApp) -> String {
    let found = app.rows(
        "SELECT named_at FROM campaigns WHERE campaign_id = $1",
        &[CAMPAIGN],
    );
    found[0][0].clone().unwrap()
}

on_both_backends! {
    /// A sync backfills an email from Smartlead's statistics (which name no campaign); its
    /// webhook, arriving late, takes the row over as a duplicate and still names the campaign.
    async fn a_late_webhook_for_a_backfilled_email_names_its_campaign(backend: Backend) {
        let test_db = TestDb::new(backend);
        let db = &test_db.db;
        let user: UserId = add_user(db, "sync@example.com", "sync-org", None);
        let row: StatisticsRow = serde_json::from_value(serde_json::json!({
            "lead_email": "a@x.example",
            "sequence_number": 1,
            "stats_id": "s-1",
            "sent_time": "2025-10-14T09:00:00Z",
        }))
        .unwrap();
        let events = row.events(&CampaignId::parse(CAMPAIGN).unwrap()).unwrap();
        let org = OrgId::parse("sync-org").unwrap();
        admin(db).backfill_batch(user, &org, &events, true).unwrap();
        let names = || rows(db, "SELECT name FROM campaigns", &[]);
        assert!(names().is_empty(), "a backfill names nothing");

        let late = sent(CAMPAIGN, Some("Named by its webhook"), "2025-10-14T09:00:00Z", "a@x.example");
        ingest_in_batches(db, &[(user, "sync-org".to_owned(), late)], 1);
        let stored = rows(db, "SELECT count(*) FROM email_events", &[]);
        assert_eq!(stored[0][0].as_deref(), Some("1"), "the webhook took the backfilled row over");
        assert_eq!(names(), vec![vec![Some("Named by its webhook".to_owned())]]);
    }

    async fn a_campaign_is_named_and_paused_as_its_newest_events_say(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let deliver = |body: Vec<u8>| async { app.post_signed(body).await.body["status"].clone() };

        assert_eq!(deliver(sent(CAMPAIGN, Some(" Q4 Ops "), "2025-10-14T09:00:00Z", "a@x.example")).await, "stored");
        assert_eq!(name_of(&app, &token, CAMPAIGN).await, "Q4 Ops", "trimmed");
        deliver(sent(CAMPAIGN, Some("Q4 Ops — EU 🇪🇺"), "2025-10-14T11:00:00Z", "b@x.example")).await;
        assert_eq!(name_of(&app, &token, CAMPAIGN).await, "Q4 Ops — EU 🇪🇺", "renamed");

        // From before the rename, delivered after it: the rename stands.
        deliver(sent(CAMPAIGN, Some("Q4 Ops"), "2025-10-14T10:00:00Z", "c@x.example")).await;
        // No name at all: nothing changes.
        deliver(sent(CAMPAIGN, None, "2025-10-14T12:00:00Z", "d@x.example")).await;
        assert_eq!(name_of(&app, &token, CAMPAIGN).await, "Q4 Ops — EU 🇪🇺");

        // The same name again within the hour writes nothing; an hour on, it moves named_at.
        let before = named_at(&app);
        deliver(sent(CAMPAIGN, Some("Q4 Ops — EU 🇪🇺"), "2025-10-14T11:30:00Z", "e@x.example")).await;
        assert_eq!(named_at(&app), before, "an unchanged name is not rewritten");
        deliver(sent(CAMPAIGN, Some("Q4 Ops — EU 🇪🇺"), "2025-10-14T12:30:00Z", "f@x.example")).await;
        assert_ne!(named_at(&app), before);
        // So a rename from 12:00 that arrives now is older than what is known: it loses.
        deliver(sent(CAMPAIGN, Some("Q4 interim"), "2025-10-14T12:00:00Z", "g@x.example")).await;
        assert_eq!(name_of(&app, &token, CAMPAIGN).await, "Q4 Ops — EU 🇪🇺");

        // A campaign no event names has no name; markup in a name is kept as text.
        deliver(sent("42", None, "2025-10-14T09:00:00Z", "a@x.example")).await;
        assert_eq!(name_of(&app, &token, "42").await, Value::Null);
        deliver(sent("43", Some("<img src=x onerror=alert(1)>"), "2025-10-14T09:00:00Z", "a@x.example")).await;
        assert_eq!(name_of(&app, &token, "43").await, "<img src=x onerror=alert(1)>");

        // A status change is a kept event with no time of its own (received now): it pauses
        // the campaign and, here, renames it.
        assert_eq!(status_of(&app, &token, CAMPAIGN).await, "ACTIVE");
        let mut change: Value = serde_json::from_slice(&fixture("25_campaign_status_changed.json")).unwrap();
        change["campaign_name"] = "Q4 Ops — EU (paused)".into();
        assert_eq!(deliver(serde_json::to_vec(&change).unwrap()).await, "kept");
        assert_eq!(
            labels_of(&app, &token, CAMPAIGN).await,
            (Value::from("Q4 Ops — EU (paused)"), Value::from("PAUSED"))
        );
        // An email from before the pause, delivered after it, says ACTIVE: the pause stands.
        deliver(sent_in(Some("active"), None, "2025-10-15T09:00:00Z", "h@x.example")).await;
        assert_eq!(status_of(&app, &token, CAMPAIGN).await, "PAUSED");
        // A newer event that names the campaign and says no status renames it and keeps the
        // pause: each label on its own.
        deliver(sent_in(None, Some("Q4 Ops — EU (archive)"), "2099-01-01T00:00:00Z", "i@x.example")).await;
        assert_eq!(
            labels_of(&app, &token, CAMPAIGN).await,
            (Value::from("Q4 Ops — EU (archive)"), Value::from("PAUSED"))
        );
        // A status that is not one word is not a status; the name alone is still taken.
        let mut odd: Value = serde_json::from_slice(&sent("44", Some("Odd"), "2025-10-14T09:00:00Z", "a@x.example")).unwrap();
        odd["campaign_status"] = "<b>ACTIVE</b>".into();
        deliver(serde_json::to_vec(&odd).unwrap()).await;
        assert_eq!(labels_of(&app, &token, "44").await, (Value::from("Odd"), Value::Null));

        // A row per campaign an event labelled: 42 has only its status.
        let stored = app.rows("SELECT count(*) FROM campaigns", &[]);
        assert_eq!(stored[0][0].as_deref(), Some("4"), "3701245, 42, 43, 44");

        // The events' answers name each event's campaign by its name now.
        let now_named = |campaign: &str| match campaign {
            CAMPAIGN => Value::from("Q4 Ops — EU (archive)"),
            "43" => Value::from("<img src=x onerror=alert(1)>"),
            "44" => Value::from("Odd"),
            _ => Value::Null,
        };
        let found = app.get_as(&token, "/api/events?email=a@x.example").await;
        let events = found.body["events"].as_array().unwrap().clone();
        let mut campaigns: Vec<&str> = events.iter().map(|e| e["campaign_id"].as_str().unwrap()).collect();
        campaigns.sort();
        assert_eq!(campaigns, [CAMPAIGN, "42", "43", "44"], "{}", found.body);
        for event in &events {
            assert_eq!(event["campaign_name"], now_named(event["campaign_id"].as_str().unwrap()), "{event}");
        }
        let lead = events[0]["lead_id"].as_str().unwrap();
        let timeline = app.get_as(&token, &format!("/api/leads/{lead}/events")).await;
        for event in timeline.body["events"].as_array().unwrap() {
            assert_eq!(event["campaign_name"], now_named(event["campaign_id"].as_str().unwrap()), "{event}");
        }
        let kept = app.get_as(&token, "/api/kept-events").await;
        assert_eq!(kept.body["events"][0]["campaign_name"], now_named(CAMPAIGN), "{}", kept.body);
    }

    async fn the_upgrade_labels_the_campaigns_stored_before_it(backend: Backend) {
        let test_db = TestDb::new(backend);
        let db = &test_db.db;
        let user: UserId = add_user(db, "names@example.com", "names-org", None);
        let bodies = [
            sent(CAMPAIGN, Some("Old name"), "2025-10-14T09:00:00Z", "a@x.example"),
            sent(CAMPAIGN, Some("New name"), "2025-10-15T09:00:00Z", "b@x.example"),
            sent(CAMPAIGN, Some("Old name"), "2025-10-14T10:00:00Z", "c@x.example"),
            sent("42", Some("Named once"), "2025-10-14T09:00:00Z", "a@x.example"),
            sent("42", None, "2025-10-16T09:00:00Z", "b@x.example"),
            sent("43", Some("  "), "2025-10-14T09:00:00Z", "a@x.example"),
        ];
        let deliveries: Vec<_> = bodies
            .iter()
            .map(|b| (user, "names-org".to_owned(), b.clone()))
            .collect();
        ingest_in_batches(db, &deliveries, 2);
        let names = || {
            rows(db, "SELECT campaign_id, name, status FROM campaigns ORDER BY campaign_id", &[])
        };
        let as_delivered = names();
        let row = |id: &str, name: Option<&str>| {
            vec![Some(id.to_owned()), name.map(str::to_owned), Some("ACTIVE".to_owned())]
        };
        assert_eq!(
            as_delivered,
            vec![
                row(CAMPAIGN, Some("New name")),
                row("42", Some("Named once")),
                row("43", None),
            ]
        );

        let mut admin = admin(db);
        // Version 16 is the schema before migration 016 (the versions count from 000).
        admin.migrate_to(16).unwrap();
        let tables = match backend {
            Backend::Sqlite => "SELECT count(*) FROM sqlite_schema WHERE name = 'campaigns'",
            Backend::Postgres => {
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'campaigns'"
            }
        };
        assert_eq!(rows(db, tables, &[])[0][0].as_deref(), Some("0"), "the way down drops it");
        admin.migrate_to_latest().unwrap();
        // Labelled by each campaign's newest event: 42's newest names nothing, so it has no
        // name now (a delivery that names it again names it); 43's name was blank.
        assert_eq!(
            names(),
            vec![row(CAMPAIGN, Some("New name")), row("42", None), row("43", None)]
        );
    }
}
