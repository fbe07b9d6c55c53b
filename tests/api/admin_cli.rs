//! The admin commands an operator runs beside the service: users show/set-org/remove,
//! credentials show (masked), `--json` on the lists, through the real binary on a served file.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::{on_both_backends, Backend};
use crate::helpers::{
    add_user, fixture, run_hub_on, sign, spawn_app_on, spawn_app_on_with, TestApp, ORG, SECRET,
};

fn hub(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    run_hub_on(args, Some(&app.db))
}

on_both_backends! {
    async fn users_list_show_and_set_org(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let user = app.user_id.to_string();
        let (ok, out, err) = hub(&app, &["users", "list", "--json"]);
        assert!(ok, "{err}");
        let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["smartlead_org_id"], ORG);
        assert_eq!(listed[0]["webhook_secret_stored"], true);
        assert_eq!(listed[0]["newest_event_at"], Value::Null);

        // Once an event is projected, its own time is the user's newest.
        let stored = app.deliver("05_email_open_seq1.json").await;
        assert_eq!(stored.body["status"], "stored", "{}", stored.body);
        app.projected().await;
        let (ok, out, _) = hub(&app, &["users", "show", &user, "--json"]);
        assert!(ok);
        let shown: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(shown["id"], user.as_str());
        assert_eq!(shown["newest_event_at"], "2025-10-14T11:47:09.603Z");
        let (ok, out, _) = hub(&app, &["users", "show", &user]);
        assert!(ok && out.contains(ORG), "{out}");
        assert!(out.contains("webhook:  secret stored"), "{out}");
        assert!(out.contains("newest event: 2025-10-14T11:47:09.603Z"), "{out}");

        // Another user's org is refused; a free one moves the webhook URL.
        let other = add_user(&app.db, "other@example.com", "taken-org", None);
        let (ok, out, _) = hub(&app, &["users", "show", &other.to_string()]);
        assert!(ok && out.contains("no secret stored: its deliveries are refused"), "{out}");
        assert!(out.contains("newest event: none yet"), "{out}");
        let (ok, _, err) = hub(&app, &["users", "set-org", &user, "--org-id", "taken-org"]);
        assert!(!ok && err.contains("belongs to"), "{err}");
        let (ok, out, err) = hub(&app, &["users", "set-org", &user, "--org-id", "moved-org"]);
        assert!(ok, "{err}");
        assert!(out.contains("org_id=moved-org"), "{out}");
        // The tenant cache forgets within --tenant-cache-ms (1 s); then the new org authenticates.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let body = fixture("05_email_open_seq1.json");
        let signature = sign(&body, SECRET);
        let moved = app
            .post_webhook("moved-org", body.clone(), Some(&signature))
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        let old = app.post_webhook(ORG, body, Some(&signature)).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED);

        for args in [
            vec!["users", "show", "not-a-uuid"],
            vec!["users", "show", "0192f0aa-0000-7000-8000-00000000ffff"],
            vec!["users", "set-org", &user, "--org-id", "   "],
        ] {
            let (ok, _, err) = hub(&app, &args);
            assert!(!ok && !err.trim().is_empty(), "{args:?}");
        }
    }

    async fn removing_a_user_takes_its_data_and_nothing_else(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let other = add_user(
            &app.db,
            "other@example.com",
            "other-org",
            Some("other-secret"),
        );
        assert_eq!(
            app.deliver("05_email_open_seq1.json").await.status,
            StatusCode::OK
        );
        app.post_signed(fixture("bad/b07_email_event_missing_lead_email.json"))
            .await;
        let other_body = fixture("05_email_open_seq1.json");
        let other_signature = sign(&other_body, "other-secret");
        let answer = app
            .post_webhook("other-org", other_body, Some(&other_signature))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        app.token_for(app.user_id);
        let user = app.user_id.to_string();

        // Without --yes: what would go, and nothing goes.
        let (ok, _, err) = hub(&app, &["users", "remove", &user]);
        assert!(!ok && err.contains("--yes"), "{err}");
        for line in ["email_events: 1 rows", "leads: 1 rows", "held_deliveries: 1 rows"] {
            assert!(err.contains(line), "{line} missing from:\n{err}");
        }
        assert!(!err.contains(": 0 rows"), "{err}");
        assert_eq!(app.write_counts()[0], 2, "nothing goes without --yes");

        // One row per transaction: on SQLite every table of the user's is emptied a row at a time
        // (the service's deliveries wait for one batch at most), then the user row goes.
        let (ok, out, err) = hub(&app, &["users", "remove", &user, "--yes", "--batch", "1"]);
        assert!(ok, "{err}");
        let rows: u64 = out
            .lines()
            .filter_map(|line| line.trim().strip_suffix(" rows")?.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        let transactions: u64 = out
            .split(" in ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no transaction count in:\n{out}"));
        match backend {
            Backend::Sqlite => assert!(transactions > rows && rows > 5, "{out}"),
            // The org released, then everything in one.
            Backend::Postgres => assert_eq!(transactions, 2, "{out}"),
        }
        for line in [
            "email_events: 1 rows",
            "leads: 1 rows",
            "held_deliveries: 1 rows",
            "api_tokens: 1 rows",
            "integration_credentials: 1 rows",
        ] {
            assert!(out.contains(line), "{line} missing from:\n{out}");
        }
        let remaining: Vec<String> = app
            .rows(
                "SELECT DISTINCT user_id FROM email_events UNION SELECT DISTINCT user_id FROM leads
                 UNION SELECT DISTINCT user_id FROM rollup_totals",
                &[],
            )
            .into_iter()
            .map(|row| row[0].clone().unwrap())
            .collect();
        assert_eq!(remaining, [other.to_string()]);
        // A user without data: the refusal says there is nothing besides the user.
        let empty = add_user(&app.db, "empty@example.com", "empty-org", None).to_string();
        let (ok, _, err) = hub(&app, &["users", "remove", &empty]);
        assert!(!ok && err.contains("no rows besides the user itself"), "{err}");
        assert_eq!(
            crate::helpers::admin(&app.db).check_rollups().unwrap(),
            vec![]
        );
    }

    /// The service remembers an org's user for `--tenant-cache-ms`; a user removed meanwhile
    /// must not turn its org's deliveries into 500s (retried by Smartlead for nothing), and a
    /// user added again for the same org must get them.
    async fn a_delivery_for_a_user_removed_while_cached_is_refused_or_reaches_its_successor(backend: Backend) {
        let app = spawn_app_on_with(backend, |s| s.tenant_cache_ms = 600_000).await;
        let first = app.deliver("01_email_sent_new_and_deprecated_fields.json").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);

        // Removed and added again (the same org and secret) while the old user is cached.
        let (ok, _, err) = hub(&app, &["users", "remove", &app.user_id.to_string(), "--yes"]);
        assert!(ok, "{err}");
        let successor = add_user(&app.db, "again@example.com", ORG, Some(SECRET));
        let answer = app.deliver("05_email_open_seq1.json").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);
        let owners = app.rows("SELECT user_id FROM email_events", &[]);
        assert_eq!(owners, vec![vec![Some(successor.to_string())]]);

        // Removed for good while cached: the org is unknown, as to any stranger, and nothing is
        // written.
        let (ok, _, err) = hub(&app, &["users", "remove", &successor.to_string(), "--yes"]);
        assert!(ok, "{err}");
        let refused = app.deliver("11_email_reply_full_new_fields_html_quotes.json").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
        assert_eq!(refused.error_code(), "unauthorized");
        assert_eq!(app.count("SELECT COUNT(*) FROM email_events"), 0);
    }

    async fn credentials_show_masks_and_tokens_list_as_json(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let user = app.user_id.to_string();
        let (ok, out, err) = hub(&app, &["credentials", "show", "--user", &user]);
        assert!(ok, "{err}");
        assert!(!out.contains(SECRET), "the secret was shown: {out}");
        assert!(
            out.contains(&format!("****{}", &SECRET[SECRET.len() - 4..])),
            "{out}"
        );
        assert!(out.contains("API key:        not set"), "{out}");
        let (ok, out, _) = hub(&app, &["credentials", "show", "--user", &user, "--json"]);
        assert!(ok && !out.contains(SECRET), "{out}");
        let shown: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(shown["api_key"], Value::Null);

        app.token_for(app.user_id);
        let (ok, out, _) = hub(&app, &["tokens", "list", "--user", &user, "--json"]);
        assert!(ok);
        let tokens: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert_eq!(tokens.len(), 1);
        assert!(tokens[0].get("token_hash").is_none());
    }
}

/// On SQLite a removal reports each batch (the CLI's spinner): every table of the user's, its
/// count rising a batch at a time to what the removal says went.
#[actix_web::test]
async fn a_removal_reports_every_batch_up_to_what_went() {
    let app = crate::helpers::spawn_app().await;
    for name in [
        "01_email_sent_new_and_deprecated_fields.json",
        "05_email_open_seq1.json",
        "11_email_reply_full_new_fields_html_quotes.json",
    ] {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    let mut heard: Vec<(String, u64)> = Vec::new();
    let removal = crate::helpers::admin(&app.db)
        .remove_user(app.user_id, 1, &mut |table, rows| {
            heard.push((table.to_owned(), rows))
        })
        .unwrap();
    // One report per batch; the first transaction releases the org, the last deletes the user
    // row.
    assert_eq!(heard.len() + 2, removal.transactions);
    for (table, rows) in &removal.tables {
        let counts: Vec<u64> = heard
            .iter()
            .filter(|(heard, _)| heard == table)
            .map(|(_, rows)| *rows)
            .collect();
        // A row per batch, then the batch that found none left.
        let expected: Vec<u64> = (1..=*rows).chain([*rows]).collect();
        assert_eq!(counts, expected, "{table}");
    }
    let events = removal
        .tables
        .iter()
        .find(|(table, _)| table == "email_events")
        .unwrap();
    assert_eq!(events.1, 3);
}

/// A removal on SQLite runs in many transactions while the service serves: from its first one
/// the org's deliveries are refused (401, as an unknown org's), not stored to be deleted by a
/// later step; another org's are stored as ever.
#[actix_web::test]
async fn a_removal_refuses_the_orgs_deliveries_while_it_runs() {
    let app = crate::helpers::spawn_app_with(|s| s.tenant_cache_ms = 0).await;
    add_user(
        &app.db,
        "other@example.com",
        "other-org",
        Some("other-secret"),
    );
    for name in [
        "01_email_sent_new_and_deprecated_fields.json",
        "05_email_open_seq1.json",
    ] {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    // The removal, on its own thread, stops after its first batch until the test says go.
    let (paused, mut at_pause) = tokio::sync::mpsc::channel::<()>(1);
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let db = app.db.clone();
    let user = app.user_id;
    let removal = std::thread::spawn(move || {
        let mut first = true;
        crate::helpers::admin(db).remove_user(user, 1, &mut |_, _| {
            if std::mem::take(&mut first) {
                paused.blocking_send(()).unwrap();
                wait_for_go.recv().unwrap();
            }
        })
    });
    at_pause
        .recv()
        .await
        .expect("the removal reached its first batch");

    let events = app.count("SELECT COUNT(*) FROM email_events");
    let refused = app
        .deliver("11_email_reply_full_new_fields_html_quotes.json")
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM email_events"), events);
    let body = fixture("05_email_open_seq1.json");
    let other = app
        .post_webhook(
            "other-org",
            body.clone(),
            Some(&sign(&body, "other-secret")),
        )
        .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);

    go.send(()).unwrap();
    let removal = removal.join().unwrap().unwrap();
    assert!(removal.transactions > 3, "{removal:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM email_events"), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 1);
}

/// On PostgreSQL a removal deletes in one transaction, which locks the user row: a delivery of
/// the org's arriving then would wait on it, and the service's writer, every tenant's
/// deliveries, with it. The org is released first, and running services have forgotten it
/// before that transaction starts: meanwhile the org's deliveries are refused at once.
#[actix_web::test]
async fn a_removal_on_postgres_refuses_the_orgs_deliveries_before_it_locks_the_user() {
    if !crate::backends::postgres_available(
        "admin_cli::a_removal_on_postgres_refuses_the_orgs_deliveries_before_it_locks_the_user",
    ) {
        return;
    }
    let app = spawn_app_on_with(Backend::Postgres, |s| s.tenant_cache_ms = 0).await;
    let stored = app
        .deliver("01_email_sent_new_and_deprecated_fields.json")
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    let db = app.db.clone();
    let user = app.user_id;
    let removal = std::thread::spawn(move || {
        crate::helpers::admin(db).remove_user(user, 500, &mut |_, _| {})
    });
    let released = "SELECT COUNT(*) FROM users WHERE smartlead_org_id IS NULL";
    while app.count(released) == 0 {
        assert!(
            !removal.is_finished(),
            "the removal ended before the test saw the org released"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let refused = app.deliver("05_email_open_seq1.json").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    // The grace had not run out: the user's rows were all still there.
    assert_eq!(app.count("SELECT COUNT(*) FROM email_events"), 1);
    let removal = removal.join().unwrap().unwrap();
    assert_eq!(removal.transactions, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 0);
}
