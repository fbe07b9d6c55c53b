//! Lead profiles: each lead's name and company, from what Smartlead's events say about the
//! lead (`to_name`, `lead_name`, the category update's `lead_data`, the nested shape's `lead`),
//! the newest event's whatever the arrival order. On both backends.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::backends::on_both_backends;
use crate::helpers::{fixture, spawn_app_on, TestApp};
use crate::ingestion::{ANNA, EMAIL_FIXTURES, KWAME, ZOE};

/// (first name, last name, company) of the lead with this address, from its own answer.
async fn profile_of(app: &TestApp, token: &str, email: &str) -> (Value, Value, Value) {
    let found = app
        .get_as(token, &format!("/api/events?email={email}&limit=1"))
        .await;
    let lead_id = found.body["events"][0]["lead_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no event of {email}: {}", found.body))
        .to_owned();
    lead_profile(app, token, &lead_id).await
}

async fn lead_profile(app: &TestApp, token: &str, lead_id: &str) -> (Value, Value, Value) {
    let lead = app.get_as(token, &format!("/api/leads/{lead_id}")).await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let lead = &lead.body["lead"];
    (
        lead["first_name"].clone(),
        lead["last_name"].clone(),
        lead["company"].clone(),
    )
}

fn named(first: &str, last: &str, company: Option<&str>) -> (Value, Value, Value) {
    (json!(first), json!(last), json!(company))
}

/// An email sent to `email` at `at`, its lead called `to_name`.
pub fn sent(email: &str, at: &str, to_name: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture("04_first_email_sent.json")).unwrap();
    body["to_email"] = email.into();
    body["event_timestamp"] = at.into();
    body["to_name"] = to_name.into();
    serde_json::to_vec(&body).unwrap()
}

/// Every email fixture, the category update (Zoë's company) and the manual step (a lead only
/// it knows), for `ORG`.
pub async fn deliver_every_naming_fixture(app: &TestApp) {
    for (name, ..) in EMAIL_FIXTURES {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    for name in [
        "23_lead_category_updated_full_history.json",
        "26_manual_step_reached.json",
    ] {
        assert_eq!(app.deliver(name).await.body["status"], "kept", "{name}");
    }
}

on_both_backends! {
    async fn every_shape_names_its_lead(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        deliver_every_naming_fixture(&app).await;
        // `to_name` split at its first space; the category update's `lead_data` adds the
        // company; the nested shape's `lead{}` names its parts.
        assert_eq!(profile_of(&app, &token, ZOE).await, named("Zoë", "Lefèvre", Some("Müller & Söhne")));
        assert_eq!(profile_of(&app, &token, KWAME).await, named("Kwame", "Osei", None));
        assert_eq!(profile_of(&app, &token, ANNA).await, named("Anna", "Kowalska", None));
        assert_eq!(
            profile_of(&app, &token, "rahul.iyer@example.in").await,
            named("Rahul", "Iyer", Some("Iyer & Sons"))
        );
        assert_eq!(
            profile_of(&app, &token, "jp.martin@ancien-domaine.example").await,
            named("Jean-Pierre", "Martin", None)
        );
        // A lead only a manual step names (no email activity: not in the list, but its own
        // answer has it), its name's escaped line break a space.
        let kept = app.get_as(&token, "/api/kept-events").await;
        let manual = kept.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_type"] == "MANUAL_STEP_REACHED")
            .unwrap()
            .clone();
        let lead_id = manual["lead_id"].as_str().unwrap();
        assert_eq!(lead_profile(&app, &token, lead_id).await, named("Siobhán", "Ní Bhriain", None));
        // The events' answers name their lead as it is now.
        let found = app.get_as(&token, &format!("/api/events?email={ZOE}")).await;
        for event in found.body["events"].as_array().unwrap() {
            assert_eq!(event["lead_name"], "Zoë Lefèvre", "{event}");
            assert_eq!(event["lead_company"], "Müller & Söhne", "{event}");
        }
        let kept = app.get_as(&token, "/api/kept-events").await;
        for event in kept.body["events"].as_array().unwrap() {
            let expected = match event["event_type"].as_str().unwrap() {
                "MANUAL_STEP_REACHED" => json!("Siobhán Ní Bhriain"),
                "LEAD_CATEGORY_UPDATED" => json!("Zoë Lefèvre"),
                _ => Value::Null,
            };
            assert_eq!(event["lead_name"], expected, "{event}");
        }
        // The list shows the same.
        let listed = app.get_as(&token, "/api/leads").await;
        let zoe = listed.body["leads"].as_array().unwrap().iter().find(|l| l["email"] == ZOE).unwrap().clone();
        assert_eq!((zoe["first_name"].clone(), zoe["last_name"].clone(), zoe["company"].clone()),
                   named("Zoë", "Lefèvre", Some("Müller & Söhne")));
    }

    async fn the_newest_event_names_the_lead_whatever_the_arrival_order(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let deliver = |body: Vec<u8>| async { app.post_signed(body).await.body["status"].clone() };
        let lead = "mary.smith@acme.example";

        assert_eq!(deliver(sent(lead, "2025-10-14T09:00:00Z", "Mary Ann Smith")).await, "stored");
        assert_eq!(profile_of(&app, &token, lead).await, named("Mary", "Ann Smith", None));
        // Renamed (married), then an email from before the rename arrives late: the rename stands.
        deliver(sent(lead, "2025-10-16T09:00:00Z", "Mary Ann Jones")).await;
        deliver(sent(lead, "2025-10-15T09:00:00Z", "Mary Ann Smith")).await;
        assert_eq!(profile_of(&app, &token, lead).await, named("Mary", "Ann Jones", None));
        // An older event that names the company (which the lead has none of) fills it in.
        let mut category: Value =
            serde_json::from_slice(&fixture("23_lead_category_updated_full_history.json")).unwrap();
        for field in ["lead_email", "to_email"] {
            category[field] = lead.into();
        }
        category["lead_data"] = json!({"email": lead, "first_name": "Mary Ann", "last_name": "Smith",
                                       "company_name": "Acme Ltd"});
        category["event_timestamp"] = "2025-10-15T12:00:00Z".into();
        assert_eq!(deliver(serde_json::to_vec(&category).unwrap()).await, "kept");
        assert_eq!(profile_of(&app, &token, lead).await, named("Mary", "Ann Jones", Some("Acme Ltd")));
        // A newer record's parts replace the split name; no name at all changes nothing.
        category["lead_data"]["last_name"] = "Jones".into();
        category["event_timestamp"] = "2025-10-17T12:00:00Z".into();
        assert_eq!(deliver(serde_json::to_vec(&category).unwrap()).await, "kept");
        deliver(sent(lead, "2025-10-18T09:00:00Z", " ")).await;
        assert_eq!(profile_of(&app, &token, lead).await, named("Mary Ann", "Jones", Some("Acme Ltd")));
        // Markup is kept as text; an address in the name field is not a name.
        deliver(sent("x@acme.example", "2025-10-14T09:00:00Z", "<b>X</b> Æ")).await;
        assert_eq!(profile_of(&app, &token, "x@acme.example").await, named("<b>X</b>", "Æ", None));
        deliver(sent("y@acme.example", "2025-10-14T09:00:00Z", "y@acme.example")).await;
        assert_eq!(profile_of(&app, &token, "y@acme.example").await, (Value::Null, Value::Null, Value::Null));
    }

    /// Migration 017 adds `profile_at`; its way down drops it and keeps the names (the base
    /// schema's columns), and the way up again names leads as before.
    async fn the_profile_time_goes_down_and_up(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let lead = "mary.smith@acme.example";
        app.post_signed(sent(lead, "2025-10-14T09:00:00Z", "Mary Smith")).await;
        let mut admin = crate::helpers::admin(&app.db);
        admin.migrate_to(17).unwrap();
        let column = match backend {
            crate::backends::Backend::Sqlite => {
                "SELECT count(*) FROM pragma_table_info('leads') WHERE name = 'profile_at'"
            }
            crate::backends::Backend::Postgres => {
                "SELECT count(*) FROM information_schema.columns
                 WHERE table_name = 'leads' AND column_name = 'profile_at'"
            }
        };
        assert_eq!(app.count(column), 0, "the way down drops profile_at");
        let kept = app.rows("SELECT first_name, last_name FROM leads WHERE email = $1", &[lead]);
        assert_eq!(kept, vec![vec![Some("Mary".to_owned()), Some("Smith".to_owned())]]);
        admin.migrate_to_latest().unwrap();
        assert_eq!(app.count(column), 1);
        // Without a time, the stored name is replaced by the next event's, whatever its time.
        app.post_signed(sent(lead, "2025-10-13T09:00:00Z", "Mary Jones")).await;
        assert_eq!(profile_of(&app, &token, lead).await, named("Mary", "Jones", None));
    }

    /// `leads name`: the leads stored before migration 017 (no names, no profile time) are named
    /// from their newest stored email event that names them, and completed from their kept
    /// events (the company a category update gives, a lead only a manual step knows); a dry run
    /// stores nothing, and a second run finds nothing more to name.
    async fn leads_stored_before_profiles_are_named_from_their_events(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        deliver_every_naming_fixture(&app).await;
        // Mary's newest email names nobody; an older one does.
        let mary = "mary.smith@acme.example";
        app.post_signed(sent(mary, "2025-10-14T09:00:00Z", "Mary Smith")).await;
        let mut unnamed: Value = serde_json::from_slice(&sent(mary, "2025-10-15T09:00:00Z", "x")).unwrap();
        unnamed.as_object_mut().unwrap().remove("to_name");
        app.post_signed(serde_json::to_vec(&unnamed).unwrap()).await;
        app.projected().await;
        let forget = "UPDATE leads SET first_name = NULL, last_name = NULL, company = NULL, profile_at = NULL
                      RETURNING id";
        let leads = app.rows(forget, &[]).len();
        assert_eq!(profile_of(&app, &token, mary).await, (Value::Null, Value::Null, Value::Null));

        let run = |words: &[&str]| {
            let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            let db = app.db.clone();
            async move {
                let (ok, out, err) = crate::smartlead_rest::hub(db, args).await;
                assert!(ok, "{err}");
                serde_json::from_str::<Value>(&out).unwrap()
            }
        };
        let siobhan = || async {
            let manual = app.rows(
                "SELECT lead_id FROM smartlead_events WHERE event_type = 'MANUAL_STEP_REACHED'",
                &[],
            );
            let lead = manual[0][0].clone().expect("the manual step's lead");
            lead_profile(&app, &token, &lead).await
        };
        assert_eq!(siobhan().await, (Value::Null, Value::Null, Value::Null));

        // Every lead with email activity has an email that names it (Siobhán has none); then the
        // category update gives Zoë her company and the manual step names Siobhán.
        let dry = run(&["leads", "name", "--dry-run", "--json", "--batch", "2"]).await;
        assert_eq!(dry["read"], leads, "{dry}");
        assert_eq!(dry["kept_events_read"], 2, "{dry}");
        assert_eq!(dry["named"], leads + 1, "{dry}");
        assert_eq!(profile_of(&app, &token, mary).await, (Value::Null, Value::Null, Value::Null));

        let done = run(&["leads", "name", "--json", "--batch", "2"]).await;
        assert_eq!(done["named"], leads + 1, "{done}");
        assert_eq!(profile_of(&app, &token, mary).await, named("Mary", "Smith", None));
        assert_eq!(profile_of(&app, &token, KWAME).await, named("Kwame", "Osei", None));
        assert_eq!(
            profile_of(&app, &token, "rahul.iyer@example.in").await,
            named("Rahul", "Iyer", Some("Iyer & Sons"))
        );
        // As the deliveries named them (`every_shape_names_its_lead`).
        assert_eq!(profile_of(&app, &token, ZOE).await, named("Zoë", "Lefèvre", Some("Müller & Söhne")));
        assert_eq!(siobhan().await, named("Siobhán", "Ní Bhriain", None));
        let again = run(&["leads", "name", "--json"]).await;
        assert_eq!((again["read"].clone(), again["named"].clone()), (json!(0), json!(0)));
    }
}
