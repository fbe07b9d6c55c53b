//! Who may read what: tokens, revocation, and tenant isolation.

use actix_web::http::StatusCode;
use smartlead_hub::domain::TokenId;

use crate::backends::on_both_backends;
use crate::helpers::{add_user, admin, fixture, spawn_app_on, SECRET};

const PATHS: &[&str] = &[
    "/api/me",
    "/api/campaigns",
    "/api/stats",
    "/api/timeseries",
    "/api/leads",
    "/api/leads/export",
    "/api/events",
    "/api/campaigns/3701245/stats",
];

on_both_backends! {
    async fn missing_malformed_unknown_and_revoked_tokens_are_401(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        assert_eq!(app.get_as(&token, "/api/me").await.status, StatusCode::OK);

        let unknown = format!("slh_{}", "ab".repeat(32));
        for path in PATHS {
            assert_eq!(
                app.get(path).await.status,
                StatusCode::UNAUTHORIZED,
                "no header: {path}"
            );
            for bad in ["", "not-a-token", &unknown, &token[..token.len() - 1]] {
                let answer = app.get_as(bad, path).await;
                assert_eq!(
                    (answer.status, answer.error_code()),
                    (StatusCode::UNAUTHORIZED, "unauthorized"),
                    "{bad:?} {path}"
                );
            }
        }
        let basic = app
            .client
            .get(format!("{}/api/me", app.address))
            .insert_header(("authorization", format!("Basic {token}")));
        assert_eq!(
            basic.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );

        let admin = admin(&app.db);
        let listed = admin.tokens(app.user_id).unwrap();
        let id: TokenId = listed[0].id.parse().unwrap();
        admin.revoke_token(id).unwrap();
        let revoked = app.get_as(&token, "/api/me").await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
        // Revoked and unknown tokens get the very same answer.
        assert_eq!(revoked.body, app.get_as(&unknown, "/api/me").await.body);
    }

    async fn tokens_store_only_a_hash_and_record_their_use(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let stored = app.rows("SELECT count(*) FROM api_tokens WHERE token_hash = $1", &[&token]);
        let stored: i64 = stored[0][0].as_deref().unwrap().parse().unwrap();
        assert_eq!(stored, 0, "the token itself is never stored");
        assert_eq!(app.get_as(&token, "/api/me").await.status, StatusCode::OK);
        // Recorded off the request's path: poll, within a budget far beyond what it takes.
        let mut used = None;
        for _ in 0..500 {
            used = admin(&app.db).tokens(app.user_id).unwrap()[0]
                .last_used_at
                .clone();
            if used.is_some() {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(used.is_some(), "last_used_at is recorded");
    }

    /// Two users with the same campaign id and the same lead address see only their own data.
    async fn tenants_see_only_their_own_data(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let other = add_user(&app.db, "other@example.com", "org-other", Some(SECRET));
        // User A: open + click for Zoë in campaign 3701245. User B: only the open.
        for name in ["05_email_open_seq1.json", "08_email_link_click_arrays.json"] {
            assert_eq!(app.deliver(name).await.status, StatusCode::OK);
        }
        assert_eq!(
            app.post_webhook("org-other", fixture("05_email_open_seq1.json"), None)
                .await
                .body["status"],
            "stored"
        );

        let token_a = app.token_for(app.user_id);
        let token_b = app.token_for(other);
        let stats_a = app.get_as(&token_a, "/api/campaigns/3701245/stats").await;
        let stats_b = app.get_as(&token_b, "/api/campaigns/3701245/stats").await;
        assert_eq!(stats_a.body["stats"]["headline"]["clicked"]["events"], 1);
        assert_eq!(stats_b.body["stats"]["headline"]["clicked"]["events"], 0);
        assert_eq!(stats_b.body["stats"]["headline"]["opened"]["events"], 1);
        assert_eq!(
            app.get_as(&token_b, "/api/stats").await.body["stats"]["headline"]["opened"]
                ["unique_leads"],
            1
        );
        assert_eq!(
            app.get_as(&token_b, "/api/events").await.body["events"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            app.get_as(&token_a, "/api/events").await.body["events"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // Every id of A's, asked for with B's token, is a 404 like a made-up one.
        let lead_a = app.get_as(&token_a, "/api/leads").await.body["leads"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let lead_b = app.get_as(&token_b, "/api/leads").await.body["leads"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(lead_a, lead_b);
        let cross = app
            .get_as(&token_b, &format!("/api/leads/{lead_a}/events"))
            .await;
        let made_up = app
            .get_as(
                &token_b,
                "/api/leads/00000000-0000-4000-8000-000000000000/events",
            )
            .await;
        assert_eq!(cross.status, StatusCode::NOT_FOUND);
        assert_eq!(cross.body, made_up.body);
        assert_eq!(
            app.get_as(&token_a, &format!("/api/leads/{lead_b}/events"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // The lead itself, too.
        let own = app.get_as(&token_a, &format!("/api/leads/{lead_a}")).await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.body);
        assert_eq!(own.body["lead"]["id"], lead_a.as_str());
        let cross = app.get_as(&token_b, &format!("/api/leads/{lead_a}")).await;
        let made_up = app
            .get_as(&token_b, "/api/leads/00000000-0000-4000-8000-000000000000")
            .await;
        let malformed = app.get_as(&token_b, "/api/leads/not-a-lead").await;
        assert_eq!(cross.status, StatusCode::NOT_FOUND);
        assert_eq!(cross.body, made_up.body);
        assert_eq!(cross.body, malformed.body);

        // A campaign only A has is B's 404.
        let only_a = String::from_utf8(fixture("05_email_open_seq1.json"))
            .unwrap()
            .replace("3701245", "5550001");
        assert_eq!(
            app.post_webhook("fx-org-1001", only_a, None).await.body["status"],
            "stored"
        );
        assert_eq!(
            app.get_as(&token_a, "/api/campaigns/5550001/stats")
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.get_as(&token_b, "/api/campaigns/5550001/stats")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get_as(&token_b, "/api/campaigns").await.body["campaigns"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            app.get_as(&token_b, "/api/events?campaign_id=5550001")
                .await
                .body["events"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
    }
}
