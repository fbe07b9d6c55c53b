//! `deliveries list|show|replay` through the real binary, on a file the service is serving.

use serde_json::Value;

use crate::backends::{execute, on_both_backends, Backend};
use crate::helpers::{admin, fixture, run_hub_on, spawn_app_on, TestApp};

fn hub(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    run_hub_on(args, Some(&app.db))
}

/// A payload this version maps, held as an older version would have held it: that version did
/// not look for the address under `lead.email`. This is the upgrade a replay is for.
const HELD_BY_AN_OLDER_VERSION: &str = r#"{"campaign_id":9,"event_timestamp":"2025-10-14T11:47:09.000Z","event_type":"EMAIL_OPEN","lead":{"email":"late@b.io"}}"#;

async fn app_with_two_held(backend: Backend) -> (TestApp, String, String) {
    let app = spawn_app_on(backend).await;
    let answer = app
        .post_signed(fixture("bad/b07_email_event_missing_lead_email.json"))
        .await;
    let still_unmappable = answer.body["held_id"].as_str().unwrap().to_owned();
    let mappable = "0192f0aa-0000-7000-8000-000000000001".to_owned();
    execute(
        &app.db,
        &format!(
            "INSERT INTO held_deliveries (id, user_id, smartlead_org_id, reason, detail, payload,
                                          payload_sha256, bytes, received_at)
             VALUES ('{mappable}', '{}', 'fx-org-1001', 'missing_lead_email', 'no lead email',
                     '{HELD_BY_AN_OLDER_VERSION}', 'older', {}, '2025-10-14T11:48:00.000Z')",
            app.user_id,
            HELD_BY_AN_OLDER_VERSION.len()
        ),
    );
    (app, still_unmappable, mappable)
}

on_both_backends! {
    async fn list_and_show_held_deliveries(backend: Backend) {
        let (app, unmappable, mappable) = app_with_two_held(backend).await;
        let (ok, out, err) = hub(&app, &["deliveries", "list", "--json"]);
        assert!(ok, "{err}");
        let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
        let ids: Vec<&str> = listed.iter().map(|h| h["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [mappable.as_str(), unmappable.as_str()],
            "oldest first"
        );
        assert!(listed.iter().all(|h| h.get("payload").is_none()));

        let (ok, out, _) = hub(&app, &["deliveries", "list"]);
        assert!(ok);
        assert!(
            out.contains("missing_lead_email") && out.ends_with("2 held\n"),
            "{out}"
        );
        let (ok, out, _) = hub(
            &app,
            &["deliveries", "list", "--reason", "missing_event_type"],
        );
        assert!(ok && out.ends_with("0 held\n"), "{out}");

        let (ok, out, err) = hub(&app, &["deliveries", "show", &mappable]);
        assert!(ok, "{err}");
        let shown: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(shown["payload"]["lead"]["email"], "late@b.io");
        assert_eq!(shown["reason"], "missing_lead_email");
    }

    async fn replay_stores_what_this_mapper_knows_and_keeps_the_rest(backend: Backend) {
        let (app, unmappable, _) = app_with_two_held(backend).await;
        let (ok, out, err) = hub(&app, &["deliveries", "replay", "--all", "--json"]);
        assert!(ok, "{err}");
        let summary: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(summary["replayed"], 1);
        assert_eq!(summary["stored"], 1);
        assert_eq!(summary["still_held"][0]["id"], unmappable.as_str());
        assert_eq!(summary["still_held"][0]["reason"], "missing_lead_email");

        // Stored as the webhook would have stored it: the event, its lead, the rollups.
        let stored = app.rows("SELECT email, timestamp FROM email_events", &[]);
        assert_eq!(
            stored,
            [[Some("late@b.io".to_owned()), Some("2025-10-14T11:47:09.000Z".to_owned())]]
        );
        assert_eq!(admin(&app.db).check_rollups().unwrap(), vec![]);
        let token = app.token_for(app.user_id);
        let stats = app.get_as(&token, "/api/campaigns/9/stats").await;
        assert_eq!(
            stats.body["stats"]["headline"]["opened"]["events"], 1,
            "{}",
            stats.body
        );
        let held: Vec<String> = admin(&app.db)
            .held_deliveries(None)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(held, [unmappable]);

        // Again: nothing left that maps, nothing changes.
        let (ok, out, _) = hub(&app, &["deliveries", "replay", "--all"]);
        assert!(ok);
        assert!(out.starts_with("replayed 0:"), "{out}");
        assert_eq!(app.write_counts()[0], 1);
    }

    async fn bad_replay_ids_are_refused_and_change_nothing(backend: Backend) {
        let (app, _, mappable) = app_with_two_held(backend).await;
        let absent = "0192f0aa-0000-7000-8000-00000000ffff";
        for args in [
            vec!["deliveries", "replay", "not-an-id"],
            vec!["deliveries", "replay", mappable.as_str(), absent],
            vec!["deliveries", "replay"],
            vec!["deliveries", "replay", "--all", mappable.as_str()],
            vec!["deliveries", "show", absent],
            vec!["deliveries", "list", "--reason", "no_such_reason"],
        ] {
            let (ok, out, err) = hub(&app, &args);
            assert!(!ok, "{args:?} succeeded: {out}");
            assert!(!err.trim().is_empty(), "{args:?}: no message");
        }
        assert_eq!(app.write_counts(), [0, 0, 0]);
        assert_eq!(app.held_count(), 2);
    }
}
