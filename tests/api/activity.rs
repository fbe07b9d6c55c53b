//! The user's activity over time (`GET /api/timeseries`): every campaign's events summed per
//! hour or day, on both backends; and the plan of a series read on SQLite (each metric's range
//! of the rollup key, not every hour the scope ever had).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::{on_both_backends, Backend};
use crate::helpers::{add_user, fixture, spawn_app_on, spawn_app_with, TestApp};
use crate::ingestion::EMAIL_FIXTURES;
use crate::read_api::headline_of;

const CAMPAIGN: &str = "3701245";
const OTHER_CAMPAIGN: &str = "3702000";
/// Sends of another campaign, on the fixtures' first day and the next.
const OTHER_SENDS: [(&str, &str); 3] = [
    ("2025-10-14T09:50:00.000Z", "p.novak@other.example"),
    ("2025-10-15T10:00:00.000Z", "l.berg@other.example"),
    ("2025-10-15T10:30:00.000Z", "m.ruiz@other.example"),
];

fn sent_in_other_campaign(at: &str, email: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture("04_first_email_sent.json")).unwrap();
    body["campaign_id"] = OTHER_CAMPAIGN.into();
    body["event_timestamp"] = at.into();
    body["to_email"] = email.into();
    serde_json::to_vec(&body).unwrap()
}

async fn app_with_two_campaigns(backend: Backend) -> (TestApp, String) {
    let app = spawn_app_on(backend).await;
    for (name, ..) in EMAIL_FIXTURES {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    for (at, email) in OTHER_SENDS {
        let answer = app.post_signed(sent_in_other_campaign(at, email)).await;
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);
    }
    let token = app.token_for(app.user_id);
    (app, token)
}

/// Events per bucket start and metric (each type and its headline kind), recounted from the
/// fixture table and the other campaign's sends; `bucket_of` cuts a time to its bucket's start.
fn expected(bucket_of: impl Fn(&str) -> String) -> BTreeMap<String, BTreeMap<String, i64>> {
    let events = EMAIL_FIXTURES
        .iter()
        .map(|f| (f.1, f.4))
        .chain(OTHER_SENDS.iter().map(|(at, _)| ("email_sent", *at)));
    let mut counts: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (event_type, at) in events {
        let bucket = counts.entry(bucket_of(at)).or_default();
        for metric in [event_type, headline_of(event_type).unwrap()] {
            *bucket.entry(metric.to_owned()).or_default() += 1;
        }
    }
    counts
}

fn counts_of(answer: &Value) -> BTreeMap<String, BTreeMap<String, i64>> {
    answer["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| {
            let counts = bucket["counts"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(metric, n)| (metric.clone(), n.as_i64().unwrap()))
                .collect();
            (bucket["start"].as_str().unwrap().to_owned(), counts)
        })
        .collect()
}

on_both_backends! {
    async fn the_user_series_sums_every_campaign(backend: Backend) {
        let (app, token) = app_with_two_campaigns(backend).await;
        let range = "from=2025-10-13&to=2025-10-23";
        let daily = app.get_as(&token, &format!("/api/timeseries?bucket=day&{range}")).await;
        assert_eq!(daily.status, StatusCode::OK, "{}", daily.body);
        assert_eq!(daily.body["bucket"], "day");
        assert_eq!(daily.body["user_id"], app.user_id.to_string());
        assert_eq!(daily.body["from"], "2025-10-13T00:00:00.000Z");
        assert_eq!(daily.body["to"], "2025-10-23T00:00:00.000Z");
        let got = counts_of(&daily.body);
        assert_eq!(got.len(), 10, "one bucket per day, empty days included");
        let mut want = expected(|at| format!("{}T00:00:00.000Z", &at[..10]));
        for (start, counts) in &got {
            assert_eq!(counts, &want.remove(start).unwrap_or_default(), "{start}");
        }
        assert!(want.is_empty(), "days missing from the answer: {want:?}");

        // Every bucket is the sum of the two campaigns' own series.
        let mut summed: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for campaign in [CAMPAIGN, OTHER_CAMPAIGN] {
            let own = app
                .get_as(&token, &format!("/api/campaigns/{campaign}/timeseries?bucket=day&{range}"))
                .await;
            for (start, counts) in counts_of(&own.body) {
                let bucket = summed.entry(start).or_default();
                for (metric, n) in counts {
                    *bucket.entry(metric).or_default() += n;
                }
            }
        }
        assert_eq!(got, summed);

        // Over all time the series adds up to the user's totals, metric by metric: no metric
        // is left out of the read.
        let stats = app.get_as(&token, "/api/stats").await.body["stats"].clone();
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for counts in got.values() {
            for (metric, n) in counts {
                *totals.entry(metric.clone()).or_default() += n;
            }
        }
        for (metric, n) in &totals {
            let total = match metric.starts_with("email_") {
                true => &stats["by_type"][metric]["events"],
                false => &stats["headline"][metric]["events"],
            };
            assert_eq!(total, n, "{metric}");
        }
        assert_eq!(totals["email_sent"], 2 + OTHER_SENDS.len() as i64);

        let hourly = app
            .get_as(&token, "/api/timeseries?bucket=hour&from=2025-10-14T09:00:00Z&to=2025-10-14T12:00:00Z")
            .await;
        let got = counts_of(&hourly.body);
        assert_eq!(got.len(), 3);
        let want = expected(|at| format!("{}:00:00.000Z", &at[..13]));
        for (start, counts) in &got {
            assert_eq!(counts, &want.get(start).cloned().unwrap_or_default(), "{start}");
        }
        assert_eq!(got["2025-10-14T09:00:00.000Z"]["sent"], 3, "two of the fixtures' and one other");
    }

    async fn a_user_without_events_has_every_bucket_empty(backend: Backend) {
        let (app, _) = app_with_two_campaigns(backend).await;
        let other = add_user(&app.db, "other@example.com", "org-other", None);
        let token = app.token_for(other);
        for (path, buckets) in [("/api/timeseries", 30), ("/api/timeseries?bucket=hour", 48)] {
            let answer = app.get_as(&token, path).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            let series = counts_of(&answer.body);
            assert_eq!(series.len(), buckets, "{path}: the default span");
            assert!(series.values().all(BTreeMap::is_empty), "{path}: {}", answer.body);
        }
        let theirs = app
            .get_as(&token, "/api/timeseries?bucket=day&from=2025-10-13&to=2025-10-23")
            .await;
        assert!(counts_of(&theirs.body).values().all(BTreeMap::is_empty), "another user's events");
    }

    async fn bad_series_parameters_are_named(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        for (path, name) in [
            ("/api/timeseries?bucket=minute", "bucket"),
            ("/api/timeseries?bucket=hour&from=2000-01-01", "from"),
            ("/api/timeseries?from=tomorrow", "from"),
            ("/api/timeseries?bucket=day&bucket=hour", "bucket"),
        ] {
            let answer = app.get_as(&token, path).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {}", answer.body);
            assert_eq!(answer.error_code(), "invalid_query_parameter", "{path}");
            assert!(
                answer.body["error"]["message"].as_str().unwrap().contains(name),
                "{path}: {}",
                answer.body
            );
        }
    }
}

#[actix_web::test]
async fn a_series_seeks_each_metric_in_the_rollup_key() {
    use smartlead_hub::storage::records::Bucket;
    use smartlead_hub::storage::sqlite::analytics::plans;

    let app = spawn_app_with(|_| {}).await;
    let conn = app.sqlite();
    for scope in [CAMPAIGN, ""] {
        for (bucket, table, at) in [
            (Bucket::Hour, "rollup_hourly", "hour"),
            (Bucket::Day, "rollup_daily", "day"),
        ] {
            let plan = plans::timeseries(&conn, app.user_id, scope, bucket).unwrap();
            let seek = format!(
                "SEARCH {table} USING PRIMARY KEY (user_id=? AND campaign_id=? AND metric=? AND {at}>? AND {at}<?)"
            );
            assert!(plan.contains(&seek), "{plan:?}");
            assert!(!plan.iter().any(|l| l.starts_with("SCAN")), "{plan:?}");
        }
    }
}
