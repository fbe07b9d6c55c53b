//! Every read endpoint over real HTTP, on data ingested through the real webhook. Expected numbers
//! come from the hand-written fixture table in `ingestion.rs`, not from the service.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::{on_both_backends, Backend};
use crate::helpers::{add_user, spawn_app_on, spawn_app_on_with, TestApp};
use crate::ingestion::{EMAIL_FIXTURES, KWAME, ZOE};

const CAMPAIGN: &str = "3701245";

async fn app_with_fixtures(backend: Backend) -> (TestApp, String) {
    let app = spawn_app_on(backend).await;
    for (name, ..) in EMAIL_FIXTURES {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    let token = app.token_for(app.user_id);
    (app, token)
}

/// (events, unique leads) per normalized type, recounted from the fixture table.
fn expected_by_type() -> BTreeMap<&'static str, (i64, i64)> {
    let mut emails: BTreeMap<&str, (i64, BTreeSet<&str>)> = BTreeMap::new();
    for (_, event_type, email, ..) in EMAIL_FIXTURES {
        let entry = emails.entry(event_type).or_default();
        entry.0 += 1;
        entry.1.insert(email);
    }
    emails
        .into_iter()
        .map(|(t, (n, leads))| (t, (n, leads.len() as i64)))
        .collect()
}

pub(crate) fn headline_of(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "email_sent" => "sent",
        "email_opened" | "email_follow_up_opened" => "opened",
        "email_clicked" | "email_follow_up_clicked" => "clicked",
        "email_replied" | "email_follow_up_replied" => "replied",
        "email_bounced" => "bounced",
        "email_unsubscribed" => "unsubscribed",
        _ => return None,
    })
}

fn expected_headline() -> BTreeMap<&'static str, (i64, i64)> {
    let mut kinds: BTreeMap<&str, (i64, BTreeSet<&str>)> = BTreeMap::new();
    for (_, event_type, email, ..) in EMAIL_FIXTURES {
        let entry = kinds.entry(headline_of(event_type).unwrap()).or_default();
        entry.0 += 1;
        entry.1.insert(email);
    }
    kinds
        .into_iter()
        .map(|(k, (n, leads))| (k, (n, leads.len() as i64)))
        .collect()
}

fn assert_stats_match_fixtures(stats: &Value) {
    for (event_type, (events, leads)) in expected_by_type() {
        assert_eq!(
            stats["by_type"][event_type]["events"], events,
            "{event_type}"
        );
        assert_eq!(
            stats["by_type"][event_type]["unique_leads"], leads,
            "{event_type}"
        );
    }
    assert_eq!(stats["by_type"]["email_delivered"]["events"], 0);
    assert_eq!(stats["by_type"].as_object().unwrap().len(), 11);
    let headline = expected_headline();
    for (kind, (events, leads)) in &headline {
        assert_eq!(stats["headline"][kind]["events"], *events, "{kind}");
        assert_eq!(stats["headline"][kind]["unique_leads"], *leads, "{kind}");
    }
    let sent = headline["sent"].1 as f64;
    assert_eq!(
        stats["rates"]["open_rate"].as_f64().unwrap(),
        headline["opened"].1 as f64 / sent
    );
    assert_eq!(
        stats["rates"]["reply_rate"].as_f64().unwrap(),
        headline["replied"].1 as f64 / sent
    );
    let times: Vec<&str> = EMAIL_FIXTURES.iter().map(|f| f.4).collect();
    assert_eq!(stats["first_event_at"], *times.iter().min().unwrap());
    assert_eq!(stats["last_event_at"], *times.iter().max().unwrap());
}

on_both_backends! {
    async fn me_names_the_user_and_org(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let me = app.get_as(&token, "/api/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body["id"], app.user_id.to_string());
        assert_eq!(me.body["smartlead_org_id"], "fx-org-1001");
        assert_eq!(me.body["smartlead_org_name"], "Test org");
        assert_eq!(me.body["webhook_secret"], "own");
    }

    /// Whether the org's deliveries can authenticate at all: a user added without a secret is
    /// told `none` (and its deliveries are indeed refused), `default` once the service has one.
    async fn me_says_how_the_org_s_deliveries_authenticate(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let bare = add_user(&app.db, "bare@example.com", "bare-org", None);
        let me = app.get_as(&app.token_for(bare), "/api/me").await;
        assert_eq!(me.body["webhook_secret"], "none", "{}", me.body);
        let refused = app
            .post_webhook("bare-org", r#"{"secret_key":"anything","event_type":"EMAIL_OPEN"}"#, None)
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

        let app = spawn_app_on_with(backend, |s| {
            s.default_webhook_secret = Some("the-default".into())
        })
        .await;
        let bare = add_user(&app.db, "bare@example.com", "bare-org", None);
        let me = app.get_as(&app.token_for(bare), "/api/me").await;
        assert_eq!(me.body["webhook_secret"], "default", "{}", me.body);
        let me = app.get_as(&app.token_for(app.user_id), "/api/me").await;
        assert_eq!(me.body["webhook_secret"], "own", "{}", me.body);
    }

    async fn campaign_stats_count_every_type_and_fold_follow_ups_into_headlines(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let answer = app
            .get_as(&token, &format!("/api/campaigns/{CAMPAIGN}/stats"))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["campaign_id"], CAMPAIGN);
        assert_eq!(answer.body["range"], Value::Null);
        assert_stats_match_fixtures(&answer.body["stats"]);
        // The follow-up open is shown separately and also counted as an open.
        assert_eq!(
            answer.body["stats"]["by_type"]["email_follow_up_opened"]["events"],
            1
        );
        assert_eq!(answer.body["stats"]["headline"]["opened"]["events"], 3);
    }

    async fn user_stats_and_campaign_list_agree_with_the_campaign(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let user = app.get_as(&token, "/api/stats").await;
        assert_eq!(user.status, StatusCode::OK);
        assert_stats_match_fixtures(&user.body["stats"]);
        let list = app.get_as(&token, "/api/campaigns").await;
        let campaigns = list.body["campaigns"].as_array().unwrap();
        assert_eq!(campaigns.len(), 1);
        assert_eq!(campaigns[0]["campaign_id"], CAMPAIGN);
        assert_stats_match_fixtures(&campaigns[0]["stats"]);
        assert_eq!(list.body["next_cursor"], Value::Null);
    }

    async fn a_range_counts_only_its_hours(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        // 2025-10-14 09:00–12:00 holds: sent 01 (09:12), 04 (09:31), bounce 17 (09:40), open 05 (11:47),
        // clicks 08 (11:48), 09 (11:49). The open of 07 is at 12:03, outside.
        let answer = app
            .get_as(
                &token,
                &format!(
                    "/api/campaigns/{CAMPAIGN}/stats?from=2025-10-14T09:00:00Z&to=2025-10-14T12:00:00Z"
                ),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let stats = &answer.body["stats"];
        assert_eq!(stats["by_type"]["email_sent"]["events"], 2);
        assert_eq!(stats["by_type"]["email_bounced"]["events"], 1);
        assert_eq!(stats["by_type"]["email_opened"]["events"], 1);
        assert_eq!(stats["by_type"]["email_clicked"]["events"], 2);
        assert_eq!(stats["by_type"]["email_clicked"]["unique_leads"], 1);
        assert_eq!(stats["by_type"]["email_replied"]["events"], 0);
        assert_eq!(stats["first_event_at"], "2025-10-14T09:12:44.218Z");
        assert_eq!(stats["last_event_at"], "2025-10-14T11:49:05.331Z");
        assert_eq!(answer.body["range"]["from"], "2025-10-14T09:00:00.000Z");
    }

    async fn daily_timeseries_has_every_bucket_with_its_counts(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let answer = app
            .get_as(
                &token,
                &format!(
                    "/api/campaigns/{CAMPAIGN}/timeseries?bucket=day&from=2025-10-14&to=2025-10-22"
                ),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let series = answer.body["series"].as_array().unwrap();
        assert_eq!(series.len(), 8, "one bucket per day, empty days included");
        let mut expected: BTreeMap<String, BTreeMap<&str, i64>> = BTreeMap::new();
        for (_, event_type, _, _, at) in EMAIL_FIXTURES {
            *expected
                .entry(format!("{}T00:00:00.000Z", &at[..10]))
                .or_default()
                .entry(event_type)
                .or_default() += 1;
        }
        for bucket in series {
            let start = bucket["start"].as_str().unwrap();
            let want = expected.get(start).cloned().unwrap_or_default();
            for (event_type, n) in &want {
                assert_eq!(bucket["counts"][event_type], *n, "{start} {event_type}");
            }
            let typed = bucket["counts"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with("email_"))
                .count();
            assert_eq!(typed, want.len(), "{start}");
        }
        let hourly = app
            .get_as(&token, &format!("/api/campaigns/{CAMPAIGN}/timeseries?bucket=hour&from=2025-10-14T11:00:00Z&to=2025-10-14T13:00:00Z"))
            .await;
        let series = hourly.body["series"].as_array().unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0]["counts"]["email_clicked"], 2);
        assert_eq!(series[1]["counts"]["email_opened"], 1);
    }

    async fn leads_come_newest_activity_first_with_filters_and_pages(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let all = app.get_as(&token, "/api/leads?order=recent").await;
        let leads = all.body["leads"].as_array().unwrap();
        let times: Vec<&str> = leads
            .iter()
            .map(|l| l["last_event_timestamp"].as_str().unwrap())
            .collect();
        assert_eq!(leads.len(), 5);
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
        assert_eq!(leads[0]["email"], ZOE);

        let unsubscribed = app
            .get_as(&token, "/api/leads?last_event=email_unsubscribed")
            .await;
        let emails: Vec<&str> = unsubscribed.body["leads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, [KWAME]);
        let other_campaign = app.get_as(&token, "/api/leads?campaign_id=999").await;
        assert_eq!(other_campaign.body["leads"].as_array().unwrap().len(), 0);

        let mut seen = Vec::new();
        let mut path = "/api/leads?limit=2".to_owned();
        loop {
            let page = app.get_as(&token, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            seen.extend(
                page.body["leads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["email"].as_str().unwrap().to_owned()),
            );
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/leads?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        let expected: Vec<String> = leads
            .iter()
            .map(|l| l["email"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, expected);

        // Each lead on its own is the lead as listed.
        for listed in leads {
            let one = app
                .get_as(&token, &format!("/api/leads/{}", listed["id"].as_str().unwrap()))
                .await;
            assert_eq!(one.status, StatusCode::OK, "{}", one.body);
            assert_eq!(&one.body["lead"], listed);
            assert!(one.body["as_of"].as_i64().unwrap() > 0);
        }
    }

    async fn a_lead_timeline_is_newest_first_and_pages(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let leads = app.get_as(&token, "/api/leads").await;
        let zoe = leads.body["leads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["email"] == ZOE)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let timeline = app
            .get_as(&token, &format!("/api/leads/{zoe}/events"))
            .await;
        assert_eq!(timeline.status, StatusCode::OK);
        let types: Vec<&str> = timeline.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "email_follow_up_opened",
                "email_replied",
                "email_clicked",
                "email_clicked",
                "email_opened",
                "email_sent"
            ]
        );
        assert_eq!(
            timeline.body["events"][0]["event_data"]["event_type"],
            "EMAIL_OPEN"
        );

        let first = app
            .get_as(&token, &format!("/api/leads/{zoe}/events?limit=4"))
            .await;
        assert_eq!(first.body["events"].as_array().unwrap().len(), 4);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let second = app
            .get_as(
                &token,
                &format!("/api/leads/{zoe}/events?limit=4&cursor={cursor}"),
            )
            .await;
        let rest: Vec<&str> = second.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(rest, ["email_opened", "email_sent"]);
        assert_eq!(second.body["next_cursor"], Value::Null);
    }

    async fn event_search_filters_by_email_type_campaign_and_time(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let count = |answer: &crate::helpers::Answer| answer.body["events"].as_array().unwrap().len();
        let by_email = app
            .get_as(&token, &format!("/api/events?email={}", ZOE.to_uppercase()))
            .await;
        assert_eq!(
            count(&by_email),
            EMAIL_FIXTURES.iter().filter(|f| f.2 == ZOE).count()
        );
        let clicks = app
            .get_as(&token, "/api/events?event_type=email_clicked")
            .await;
        assert_eq!(count(&clicks), 2);
        let in_campaign = app
            .get_as(
                &token,
                &format!("/api/events?campaign_id={CAMPAIGN}&limit=500"),
            )
            .await;
        assert_eq!(count(&in_campaign), EMAIL_FIXTURES.len());
        let window = app
            .get_as(
                &token,
                "/api/events?from=2025-10-15T00:00:00Z&to=2025-10-19T00:00:00Z",
            )
            .await;
        let expected = EMAIL_FIXTURES
            .iter()
            .filter(|f| f.4 >= "2025-10-15" && f.4 < "2025-10-19")
            .count();
        assert_eq!(count(&window), expected);
        let times: Vec<&str> = in_campaign.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["timestamp"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    }

    async fn bad_parameters_are_400s_naming_the_parameter(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        let cases = [
            (
                format!("/api/campaigns/{CAMPAIGN}/timeseries?bucket=week"),
                "bucket",
            ),
            (
                format!("/api/campaigns/{CAMPAIGN}/stats?from=yesterday"),
                "from",
            ),
            (
                format!("/api/campaigns/{CAMPAIGN}/stats?from=2025-10-20&to=2025-10-10"),
                "from",
            ),
            ("/api/events?limit=0".to_owned(), "limit"),
            ("/api/events?limit=501".to_owned(), "limit"),
            ("/api/events?cursor=zz".to_owned(), "cursor"),
            ("/api/events?cursor=6869".to_owned(), "cursor"),
            (
                "/api/events?event_type=email_exploded".to_owned(),
                "event_type",
            ),
            ("/api/events?email=not-an-email".to_owned(), "email"),
            ("/api/leads?order=oldest".to_owned(), "order"),
            (
                format!("/api/campaigns/{CAMPAIGN}/timeseries?bucket=hour&from=2000-01-01"),
                "from",
            ),
        ];
        for (path, parameter) in cases {
            let answer = app.get_as(&token, &path).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{path}: {}",
                answer.body
            );
            assert_eq!(answer.error_code(), "invalid_query_parameter", "{path}");
            assert!(
                answer.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{parameter}`")),
                "{path}: {}",
                answer.body
            );
        }
    }

    async fn unknown_campaigns_and_leads_are_404(backend: Backend) {
        let (app, token) = app_with_fixtures(backend).await;
        for path in [
            "/api/campaigns/999/stats".to_owned(),
            "/api/campaigns/999/timeseries".to_owned(),
            "/api/leads/00000000-0000-4000-8000-000000000000/events".to_owned(),
            "/api/leads/not-a-uuid/events".to_owned(),
        ] {
            let answer = app.get_as(&token, &path).await;
            assert_eq!(
                (answer.status, answer.error_code()),
                (StatusCode::NOT_FOUND, "not_found"),
                "{path}"
            );
        }
    }
}
