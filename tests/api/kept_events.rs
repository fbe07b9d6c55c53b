//! `GET /api/kept-events`: the non-email Smartlead events, newest received first, by campaign,
//! in pages.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::on_both_backends;
use crate::helpers::{spawn_app_on, SECRET};

const KEPT: &[&str] = &[
    "23_lead_category_updated_full_history.json",
    "25_campaign_status_changed.json",
    "26_manual_step_reached.json",
    "27_untracked_replies.json",
];

fn types(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn kept_events_list_newest_first_by_campaign_and_page(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for name in KEPT {
            assert_eq!(app.deliver(name).await.body["status"], "kept", "{name}");
        }
        let token = app.token_for(app.user_id);
        let all = app.get_as(&token, "/api/kept-events").await;
        assert_eq!(all.status, StatusCode::OK);
        assert_eq!(
            types(&all.body),
            [
                "UNTRACKED_REPLIES",
                "MANUAL_STEP_REACHED",
                "CAMPAIGN_STATUS_CHANGED",
                "LEAD_CATEGORY_UPDATED"
            ]
        );
        assert!(
            !all.body.to_string().contains(SECRET),
            "a secret in the answer"
        );
        let campaign = app
            .get_as(&token, "/api/kept-events?campaign_id=3701245")
            .await;
        assert_eq!(types(&campaign.body).len(), 3, "27 names no campaign");

        let first = app.get_as(&token, "/api/kept-events?limit=3").await;
        let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
        let rest = app
            .get_as(&token, &format!("/api/kept-events?limit=3&cursor={cursor}"))
            .await;
        assert_eq!(types(&rest.body), ["LEAD_CATEGORY_UPDATED"]);
        assert_eq!(rest.body["next_cursor"], Value::Null);

        let bad = app.get_as(&token, "/api/kept-events?limit=0").await;
        assert_eq!(bad.error_code(), "invalid_query_parameter");
        assert_eq!(
            app.get("/api/kept-events").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}
