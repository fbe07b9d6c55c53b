//! `leads forget`: an erasure request for one person. Their address, name, company and
//! payloads are gone from every table the service reads (held deliveries naming them deleted),
//! while every count and rate stays, another lead is untouched, and a redelivery of a forgotten
//! event is still a duplicate. On both backends, through the real CLI and server.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::{on_both_backends, rows, Backend};
use crate::helpers::{fixture, post_fixture, read, run_hub_on, spawn_app_on, TestApp, ORG};

const ZOE: &str = "zoe.lefevre@mueller-soehne.example";
/// Zoë's events, and one of them with her address and name swapped for Omar's.
const HERS: [&str; 4] = [
    "01_email_sent_new_and_deprecated_fields.json",
    "05_email_open_seq1.json",
    "11_email_reply_full_new_fields_html_quotes.json",
    "23_lead_category_updated_full_history.json",
];

fn as_omar(name: &str) -> Vec<u8> {
    String::from_utf8(fixture(name))
        .unwrap()
        .replace("zoe.lefevre", "omar.haddad")
        .replace("Lefèvre", "Haddad")
        .replace("Zoë", "Omar")
        .into_bytes()
}

/// Every table with a row whose text holds `needle` (payloads
/// decompressed), but the payload dictionaries (README: trained fragments stay in them).
fn cells_holding(app: &TestApp, needle: &str) -> Vec<String> {
    let tables = match app.db {
        smartlead_hub::storage::Database::Sqlite(_) => {
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        smartlead_hub::storage::Database::Postgres(_) => {
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let tables: Vec<String> = rows(&app.db, tables, &[])
        .into_iter()
        .filter_map(|row| row[0].clone())
        .filter(|table| table != "payload_dictionaries")
        .collect();
    let mut found = Vec::new();
    match app.db {
        // Each table read whole: a compressed payload is only readable decompressed.
        smartlead_hub::storage::Database::Sqlite(_) => {
            for table in tables {
                let all = rows(&app.db, &format!("SELECT * FROM \"{table}\""), &[]);
                if all
                    .iter()
                    .flatten()
                    .flatten()
                    .any(|cell| cell.to_lowercase().contains(needle))
                {
                    found.push(table);
                }
            }
        }
        // One statement for every table (a row's text holds each of its columns).
        smartlead_hub::storage::Database::Postgres(_) => {
            let union = tables
                .iter()
                .map(|t| {
                    format!(
                        "SELECT '{t}' FROM \"{t}\" x WHERE strpos(lower(x::text), lower($1)) > 0"
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ");
            found.extend(
                rows(&app.db, &union, &[needle])
                    .into_iter()
                    .filter_map(|r| r[0].clone()),
            );
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A GET on a connection of its own: its body as JSON (200 only).
async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = read(&app.address, token, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn forget(app: &TestApp, email: &str, yes: bool) -> (bool, String, String) {
    let user = app.user_id.to_string();
    let mut args = vec![
        "leads", "forget", "--user", &user, "--email", email, "--json",
    ];
    if yes {
        args.push("--yes");
    }
    run_hub_on(&args, Some(&app.db))
}

on_both_backends! {
    async fn a_forgotten_person_is_gone_and_every_count_stays(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        for name in HERS {
            assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
            let omar = app.post_webhook(ORG, as_omar(name), None).await;
            assert!(
                matches!(omar.body["status"].as_str(), Some("stored" | "kept")),
                "{name}: {}",
                omar.body
            );
        }
        // Authentic but unmappable, naming her: held whole.
        let held = String::from_utf8(fixture(HERS[1]))
            .unwrap()
            .replace("2025-10-14T11:47:09.603514+00:00", "last tuesday");
        assert_eq!(app.post_webhook(ORG, held, None).await.body["status"], "held");
        app.projected().await;
        let stats = app.get_as(&token, "/api/stats").await.body["stats"].clone();
        let campaigns = app.get_as(&token, "/api/campaigns").await.body["campaigns"].clone();
        let holding = cells_holding(&app, ZOE);
        for table in ["email_event_rows", "email_events", "held_deliveries", "leads", "smartlead_events"] {
            if backend == Backend::Sqlite && table == "email_events" {
                continue; // a view there
            }
            if backend == Backend::Postgres && table == "email_event_rows" {
                continue;
            }
            assert!(holding.contains(&table.to_owned()), "{table} before: {holding:?}");
        }
        let zoe = &app.get_as(&token, "/api/leads?q=lef%C3%A8vre").await.body["leads"][0];
        let lead_id = zoe["id"].as_str().unwrap().to_owned();

        // Refused without --yes, and nothing changed.
        let (ok, _, err) = forget(&app, "Zoe.Lefevre@Mueller-Soehne.example", false);
        assert!(!ok && err.contains("--yes"), "{err}");
        assert_eq!(cells_holding(&app, ZOE), holding);

        let (ok, out, err) = forget(&app, "Zoe.Lefevre@Mueller-Soehne.example", true);
        assert!(ok, "{err}");
        let done: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(done["lead_id"], lead_id.as_str());
        assert_eq!(done["pseudonym"], format!("forgotten-{lead_id}@forgotten.invalid"));
        assert_eq!(done["email_events"], 3);
        assert_eq!(done["kept_events"], 1);
        assert_eq!(done["held_deliveries_deleted"], 1);

        // Her address and her name are nowhere; Omar's data is all there.
        assert_eq!(cells_holding(&app, ZOE), Vec::<String>::new());
        assert_eq!(cells_holding(&app, "lefèvre"), Vec::<String>::new());
        assert!(!cells_holding(&app, "omar.haddad@mueller-soehne.example").is_empty());
        // Reads and deliveries from here on each take a new connection: the scans above and
        // the CLI below block this thread for longer than the server keeps an idle one open.
        let found = get(&app, &token, "/api/leads?q=lef%C3%A8vre").await;
        assert_eq!(found["leads"], Value::Array(vec![]), "{found}");
        let events = get(&app, &token, &format!("/api/events?email={ZOE}")).await;
        assert_eq!(events["events"], Value::Array(vec![]), "{events}");
        let omar = get(&app, &token, "/api/leads?q=haddad").await;
        assert_eq!(omar["leads"][0]["last_name"], "Haddad", "{omar}");

        // The anonymous lead keeps its activity, its events their facts (not their payloads).
        let timeline = get(&app, &token, &format!("/api/leads/{lead_id}/events")).await;
        let timeline = timeline["events"].as_array().unwrap().clone();
        assert_eq!(timeline.len(), 3);
        for event in &timeline {
            assert_eq!(event["event_data"], serde_json::json!({"pruned": true}), "{event}");
        }
        // Every count and rate as before; the rollups equal a recount.
        assert_eq!(get(&app, &token, "/api/stats").await["stats"], stats);
        assert_eq!(get(&app, &token, "/api/campaigns").await["campaigns"], campaigns);
        let (ok, _, err) = run_hub_on(&["rollups", "check"], Some(&app.db));
        assert!(ok, "{err}");

        // A redelivery of one of her events, or of her kept event, is recognised, and stores
        // nothing again.
        for name in [HERS[1], HERS[3]] {
            let again = post_fixture(&app.address, name).await;
            assert_eq!(again, "duplicate", "{name}");
        }
        assert_eq!(cells_holding(&app, ZOE), Vec::<String>::new());

        // Forgetting again, or an address never stored: nothing to do, and said so.
        let (ok, out, _) = run_hub_on(
            &["leads", "forget", "--user", &app.user_id.to_string(), "--email", ZOE, "--yes"],
            Some(&app.db),
        );
        assert!(ok && out.contains("nothing is stored about that address"), "{out}");
    }
}
