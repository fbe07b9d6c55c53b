//! The gap test: a campaign's history delivered with gaps (webhooks dropped), `check` reports the
//! drift, `sync` backfills from Smartlead's statistics, `check` agrees, and the dropped webhooks,
//! delivered hours late with millisecond times, double nothing.

use actix_web::web;
use serde_json::{json, Value};

use super::smartlead_rest::{give_api_key, start_fake, Fake, CAMPAIGN, KEY};
use crate::backends::on_both_backends;
use crate::helpers::{admin, spawn_app_on, TestApp, ORG, SECRET};

/// One email of the history: its lead, its step, when it was sent and what happened to it.
struct Email {
    lead: usize,
    step: u32,
    sent: &'static str,
    opened: Option<&'static str>,
    replied: Option<&'static str>,
    bounced: bool,
}

const HISTORY: &[Email] = &[
    Email {
        lead: 1,
        step: 1,
        sent: "2026-10-05T09:00:00",
        opened: Some("2026-10-05T11:00:00"),
        replied: None,
        bounced: false,
    },
    Email {
        lead: 1,
        step: 2,
        sent: "2026-10-08T09:00:00",
        opened: Some("2026-10-08T10:30:00"),
        replied: Some("2026-10-08T12:00:00"),
        bounced: false,
    },
    Email {
        lead: 2,
        step: 1,
        sent: "2026-10-05T09:05:00",
        opened: Some("2026-10-06T08:00:00"),
        replied: None,
        bounced: false,
    },
    Email {
        lead: 3,
        step: 1,
        sent: "2026-10-05T09:10:00",
        opened: None,
        replied: None,
        bounced: true,
    },
    Email {
        lead: 4,
        step: 1,
        sent: "2026-10-05T09:15:00",
        opened: Some("2026-10-05T09:45:00"),
        replied: Some("2026-10-05T14:00:00"),
        bounced: false,
    },
    Email {
        lead: 5,
        step: 1,
        sent: "2026-10-05T09:20:00",
        opened: None,
        replied: None,
        bounced: false,
    },
];

fn address(lead: usize) -> String {
    format!("Lead.{lead}@Acme.example")
}

/// The webhook bodies of the history (millisecond times), each with a tag to drop it by.
fn deliveries() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in HISTORY {
        let body = |event_type: &str, at: &str| {
            json!({"event_type": event_type, "event_timestamp": format!("{at}.123Z"), "campaign_id": 3701245,
                   "sequence_number": e.step, "stats_id": format!("st-{}-{}", e.lead, e.step), "to_email": address(e.lead),
                   "sl_email_lead_id": format!("{}", 4100 + e.lead), "secret_key": SECRET})
        };
        let tag = |kind: &str| format!("{}-{}-{kind}", e.lead, e.step);
        out.push((tag("sent"), body("EMAIL_SENT", e.sent)));
        if let Some(at) = e.opened {
            out.push((tag("open"), body("EMAIL_OPEN", at)));
        }
        if let Some(at) = e.replied {
            out.push((tag("reply"), body("EMAIL_REPLY", at)));
        }
        if e.bounced {
            out.push((tag("bounce"), body("EMAIL_BOUNCE", e.sent)));
        }
    }
    out
}

/// Smartlead's statistics rows for the history (second-precision times, as REST has them).
fn statistics() -> Vec<Value> {
    // "2026-10-05 09:00:00.000Z": a space, whole seconds.
    let time = |t: Option<&str>| t.map(|t| format!("{}.000Z", t.replace('T', " ")));
    HISTORY
        .iter()
        .map(|e| json!({"lead_name": format!("Lead {}", e.lead), "lead_email": address(e.lead).to_lowercase(), "sequence_number": e.step,
                        "stats_id": format!("st-{}-{}", e.lead, e.step), "sent_time": time(Some(e.sent)),
                        "open_time": time(e.opened), "click_time": null, "reply_time": time(e.replied),
                        "open_count": if e.opened.is_some() { 1 } else { 0 }, "click_count": 0,
                        "is_unsubscribed": false, "is_bounced": e.bounced}))
        .collect()
}

/// Smartlead's analytics for the whole history.
fn analytics() -> Value {
    let leads = |f: &dyn Fn(&Email) -> bool| {
        let mut l: Vec<usize> = HISTORY.iter().filter(|e| f(e)).map(|e| e.lead).collect();
        l.sort();
        l.dedup();
        l.len().to_string()
    };
    json!({"id": 3701245, "sent_count": HISTORY.len().to_string(), "unique_sent_count": leads(&|_| true),
           "open_count": "6", "unique_open_count": leads(&|e| e.opened.is_some()), "click_count": "0",
           "unique_click_count": "0", "reply_count": HISTORY.iter().filter(|e| e.replied.is_some()).count().to_string(),
           "bounce_count": "1", "unsubscribed_count": "0"})
}

async fn hub(app: &TestApp, args: Vec<String>) -> (bool, String, String) {
    super::smartlead_rest::hub(&app.db, args).await
}

/// A fake Smartlead that knows the whole history.
fn fake_with_history() -> (web::Data<Fake>, String) {
    let fake = web::Data::new(Fake::default());
    *fake.analytics.lock().unwrap() = analytics();
    *fake.statistics.lock().unwrap() = statistics();
    let base = start_fake(fake.clone());
    (fake, base)
}

fn counts(app: &TestApp) -> (i64, i64) {
    (
        app.count("SELECT count(*) FROM email_events"),
        app.count("SELECT COALESCE(sum(events), 0) FROM rollup_totals"),
    )
}

/// `serve --reconcile-every … --reconcile-backfill`: the sync in the background.
#[actix_web::test]
async fn serve_backfills_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let user = crate::helpers::add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    give_api_key(&db, user);
    // Lead 4's history never arrived.
    let delivered: Vec<_> = deliveries()
        .into_iter()
        .filter(|(tag, _)| !tag.starts_with("4-"))
        .map(|(_, body)| (user, ORG.to_owned(), body.to_string().into_bytes()))
        .collect();
    crate::helpers::ingest_in_batches(&db, &delivered, 4);
    let (_fake, base) = fake_with_history();

    let served = crate::helpers::serve_file(&db, |s| {
        s.reconcile_every = Some("1h".parse().unwrap());
        s.reconcile_backfill = true;
        s.smartlead_api_base = base.clone();
    });
    let stored = || {
        crate::helpers::inspect(&db)
            .query_row("SELECT count(*) FROM email_events", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    let everything = deliveries().len() as i64;
    for _ in 0..200 {
        if stored() == everything {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    served.stop().await;
    assert_eq!(
        stored(),
        everything,
        "the background sync did not fill the gap"
    );
    assert_eq!(admin(&db).check_rollups().unwrap(), vec![]);
    // The campaigns are named as Smartlead lists them (the webhooks named none).
    let label = crate::helpers::inspect(&db)
        .query_row(
            "SELECT name, status FROM campaigns WHERE campaign_id = '3701245'",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .unwrap();
    assert_eq!(label, ("Q4 Ops leaders".to_owned(), "ACTIVE".to_owned()));
}

on_both_backends! {
    async fn a_gap_is_reported_backfilled_and_never_doubled_by_late_webhooks(backend: Backend) {
        let app = spawn_app_on(backend).await;
        give_api_key(&app.db, app.user_id);
        let (_fake, base) = fake_with_history();

        // Delivered with gaps: lead 4's whole history and lead 2's open never arrived.
        let dropped = |tag: &str| tag.starts_with("4-") || tag == "2-1-open";
        let mut late = Vec::new();
        for (tag, body) in deliveries() {
            if dropped(&tag) {
                late.push(body);
                continue;
            }
            let answer = app.post_webhook(ORG, body.to_string(), None).await;
            assert_eq!(answer.body["status"], "stored", "{tag}: {}", answer.body);
        }
        let user = app.user_id.to_string();
        let command = |words: &[&str]| -> Vec<String> {
            let mut args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
            args.extend([
                "--user".into(),
                user.clone(),
                "--smartlead-api-base".into(),
                base.clone(),
            ]);
            args
        };

        let (ok, out, _) = hub(
            &app,
            command(&["smartlead", "check", "--campaign", CAMPAIGN]),
        )
        .await;
        assert!(!ok, "the gap went unnoticed:\n{out}");

        // A dry run says what it would do and stores nothing.
        app.projected().await;
        let before = counts(&app);
        let (ok, out, err) = hub(
            &app,
            command(&[
                "smartlead",
                "sync",
                "--campaign",
                CAMPAIGN,
                "--dry-run",
                "--json",
            ]),
        )
        .await;
        assert!(ok, "{err}");
        let dry: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(dry[0]["backfilled"], late.len(), "{dry}");
        assert_eq!(counts(&app), before);

        // The sync backfills exactly what was dropped; check agrees; a second sync adds nothing.
        let (ok, out, err) = hub(&app, command(&["smartlead", "sync", "--json"])).await;
        assert!(ok, "{err}");
        let synced: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(synced[0]["rows"], HISTORY.len());
        assert_eq!(synced[0]["backfilled"], late.len(), "{synced}");
        let (ok, out, _) = hub(
            &app,
            command(&["smartlead", "check", "--campaign", CAMPAIGN]),
        )
        .await;
        assert!(ok, "check still differs after the sync:\n{out}");
        let (_, out, _) = hub(&app, command(&["smartlead", "sync", "--json"])).await;
        let again: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(again[0]["backfilled"], 0);
        // Lead 4, known only through the sync, is named by the statistics' `lead_name`.
        let named = app.rows(
            "SELECT first_name, last_name FROM leads WHERE email = $1",
            &[&address(4).to_lowercase()],
        );
        assert_eq!(named, vec![vec![Some("Lead".to_owned()), Some("4".to_owned())]]);
        let after_sync = counts(&app);

        // The dropped webhooks arrive hours late, with millisecond times: each is the event already
        // backfilled, and nothing is counted twice.
        for body in late {
            let answer = app.post_webhook(ORG, body.to_string(), None).await;
            assert_eq!(answer.body["status"], "duplicate", "{}", answer.body);
        }
        assert_eq!(counts(&app), after_sync);
        assert_eq!(admin(&app.db).check_rollups().unwrap(), vec![]);
        // The claimed rows now carry the webhook's payload.
        let rest_left =
            app.count("SELECT count(*) FROM email_events WHERE CAST(event_data AS TEXT) LIKE '%smartlead_rest%'");
        assert_eq!(rest_left, 0);
        let (ok, out, _) = hub(
            &app,
            command(&["smartlead", "check", "--campaign", CAMPAIGN]),
        )
        .await;
        assert!(ok, "{out}");
    }

    /// Hostile answers end the command cleanly: a clear error naming the endpoint, nothing stored.
    async fn hostile_answers_end_cleanly_and_store_nothing(backend: Backend) {
        let app = spawn_app_on(backend).await;
        give_api_key(&app.db, app.user_id);
        let (fake, base) = fake_with_history();
        let user = app.user_id.to_string();
        let run = |words: &[&str]| -> Vec<String> {
            let mut args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
            args.extend([
                "--user".into(),
                user.clone(),
                "--smartlead-api-base".into(),
                base.clone(),
                "--campaign".into(),
                CAMPAIGN.into(),
            ]);
            args
        };
        for (fault, command, expected) in [
            ("huge_page", "sync", "rows for a page of 1000"),
            ("truncated", "sync", "not what was expected"),
            ("server_error", "sync", "answered 503"),
            ("wrong_types", "check", "not what was expected"),
            // Last: its first page is a valid one, and is stored before the repeat shows.
            ("repeat_pages", "sync", "same page twice"),
        ] {
            if fault == "repeat_pages" {
                assert_eq!(counts(&app), (0, 0), "a hostile answer stored something");
            }
            *fake.fault.lock().unwrap() = Some(fault);
            let (ok, _, err) = hub(&app, run(&["smartlead", command])).await;
            assert!(!ok, "{fault} was accepted");
            assert!(err.contains(expected), "{fault}: {err}");
            assert!(!err.contains(KEY), "{fault}: the key in {err}");
            assert!(
                err.contains("/campaigns/"),
                "{fault}: no endpoint named in {err}"
            );
        }
        assert_eq!(admin(&app.db).check_rollups().unwrap(), vec![]);
    }
}

on_both_backends! {
    /// The sync takes each campaign's name and status from Smartlead's list, as of the moment
    /// it asked: a later event's labels still win, an earlier one's do not undo them.
    async fn the_sync_labels_campaigns_as_smartlead_lists_them(backend: Backend) {
        let app = spawn_app_on(backend).await;
        give_api_key(&app.db, app.user_id);
        let (_fake, base) = fake_with_history();
        let token = app.token_for(app.user_id);
        // Leads outside the history, so that no delivery meets a backfilled row.
        let deliver = |at: String, lead: usize, name: &str, status: &str| {
            let body = json!({"event_type": "EMAIL_SENT", "event_timestamp": at, "campaign_id": 3701245,
                              "campaign_name": name, "campaign_status": status, "sequence_number": 1,
                              "stats_id": format!("label-{lead}"), "to_email": address(lead),
                              "sl_email_lead_id": format!("{}", 4100 + lead), "secret_key": SECRET});
            let app = &app;
            async move {
                let answer = app.post_webhook(ORG, body.to_string(), None).await;
                assert_eq!(answer.body["status"], "stored", "{}", answer.body);
            }
        };
        let labels = || async {
            let stats = app
                .get_as(&token, &format!("/api/campaigns/{CAMPAIGN}/stats"))
                .await;
            (stats.body["name"].clone(), stats.body["status"].clone())
        };
        let sync = |extra: &[&str]| {
            let mut args: Vec<String> = ["smartlead", "sync", "--json", "--user"]
                .into_iter()
                .map(String::from)
                .collect();
            args.extend([app.user_id.to_string(), "--smartlead-api-base".into(), base.clone()]);
            args.extend(extra.iter().map(|s| s.to_string()));
            let app = &app;
            async move {
                let (ok, out, err) = hub(app, args).await;
                assert!(ok, "{err}");
                let report: Value = serde_json::from_str(&out).unwrap();
                let updated = |id: &str| {
                    report
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|c| c["campaign_id"] == id)
                        .unwrap_or_else(|| panic!("{id} not in {report}"))["labels_updated"]
                        .clone()
                };
                (updated(CAMPAIGN), updated("3709999"))
            }
        };

        // An email of October names the campaign as it was called then.
        deliver("2026-10-05T09:00:00.123Z".into(), 11, "Q4 draft", "ACTIVE").await;
        assert_eq!(labels().await, (json!("Q4 draft"), json!("ACTIVE")));

        // A dry run says what would change and changes nothing.
        assert_eq!(sync(&["--dry-run"]).await, (json!(true), json!(true)));
        assert_eq!(labels().await, (json!("Q4 draft"), json!("ACTIVE")));

        // The sync: Smartlead's names, and the status of a campaign with no events here yet.
        assert_eq!(sync(&[]).await, (json!(true), json!(true)));
        assert_eq!(labels().await, (json!("Q4 Ops leaders"), json!("ACTIVE")));
        let paused = app.rows(
            "SELECT name, status FROM campaigns WHERE campaign_id = $1",
            &["3709999"],
        );
        assert_eq!(
            paused,
            vec![vec![Some("Paused one".to_owned()), Some("PAUSED".to_owned())]]
        );
        // Nothing new the second time (the same labels within the hour are not rewritten).
        assert_eq!(sync(&[]).await, (json!(false), json!(false)));

        // A late email from before the listing does not bring the old name back ...
        deliver("2026-10-06T09:00:00.123Z".into(), 12, "Q4 draft", "ACTIVE").await;
        assert_eq!(labels().await, (json!("Q4 Ops leaders"), json!("ACTIVE")));
        // ... and one from after it wins.
        let later = (chrono::Utc::now() + chrono::Duration::minutes(1))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        deliver(later, 13, "Q4 Ops leaders (EU)", "PAUSED").await;
        assert_eq!(labels().await, (json!("Q4 Ops leaders (EU)"), json!("PAUSED")));
    }
}

on_both_backends! {
    /// `sync --campaign` labels the campaigns it names from Smartlead's list too, and only
    /// those; one the list does not hold is synced unlabelled.
    async fn a_named_sync_labels_the_campaigns_it_names(backend: Backend) {
        let app = spawn_app_on(backend).await;
        give_api_key(&app.db, app.user_id);
        let (_fake, base) = fake_with_history();
        let mut args: Vec<String> = ["smartlead", "sync", "--json", "--user"]
            .into_iter()
            .map(String::from)
            .collect();
        args.extend([app.user_id.to_string(), "--smartlead-api-base".into(), base]);
        args.extend(["--campaign", "3709999", "--campaign", "3700001"].map(String::from));
        let (ok, out, err) = hub(&app, args).await;
        assert!(ok, "{err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        let updated: Vec<_> = report
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["campaign_id"].clone(), c["labels_updated"].clone()))
            .collect();
        assert_eq!(
            updated,
            [(json!("3709999"), json!(true)), (json!("3700001"), json!(false))]
        );
        let labelled = app.rows("SELECT campaign_id, name, status FROM campaigns", &[]);
        let row = |id: &str, name: &str, status: &str| {
            vec![Some(id.to_owned()), Some(name.to_owned()), Some(status.to_owned())]
        };
        assert_eq!(labelled, vec![row("3709999", "Paused one", "PAUSED")]);
    }
}
