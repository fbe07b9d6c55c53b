//! `Authorization: Bearer <token>` → the user every `/api/*` answer is scoped to.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::AuthFailure;
use super::{ApiError, AppState};
use crate::domain::{ApiToken, UserId, UtcTimestamp};
use crate::storage::records::TokenOwner;

/// `last_used_at` is refreshed at most this often, so reads do not turn into a write each.
const LAST_USED_RESOLUTION_MILLIS: i64 = 60_000;

/// The user a valid, unrevoked API token belongs to.
pub struct AuthenticatedUser(pub UserId);

/// The token itself, for the one answer that describes it (`/api/me`).
pub struct AuthenticatedToken {
    pub user: UserId,
    /// When the token stops being accepted; `None`: never.
    pub expires_at: Option<String>,
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let owner = authenticate(req);
        Box::pin(async move { Ok(AuthenticatedUser(owner.await?.user_id)) })
    }
}

impl FromRequest for AuthenticatedToken {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let owner = authenticate(req);
        Box::pin(async move {
            let owner = owner.await?;
            Ok(AuthenticatedToken {
                user: owner.user_id,
                expires_at: owner.expires_at,
            })
        })
    }
}

/// The live token the request carries, its use recorded; a 401 for anything else.
fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<TokenOwner, ApiError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let denied = || ApiError::Unauthorized(AuthFailure::Token);
        let raw = header
            .as_deref()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(denied)?;
        let token = ApiToken::parse(raw.trim()).map_err(|_| denied())?;
        let owner = state.store.token_owner(token).await?.ok_or_else(denied)?;
        let now = UtcTimestamp::now();
        let stale_before = now.plus_millis(-LAST_USED_RESOLUTION_MILLIS).to_string();
        if owner
            .last_used_at
            .as_deref()
            .is_none_or(|used| used < stale_before.as_str())
        {
            // Best effort, off the request path: a full queue just skips this refresh.
            let store = state.store.clone();
            let token_id = owner.token_id.clone();
            actix_web::rt::spawn(async move {
                let _ = store.touch_token(token_id, now).await;
            });
        }
        Ok(owner)
    })
}
