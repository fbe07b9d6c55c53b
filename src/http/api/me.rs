use actix_web::{web, HttpResponse};

use super::bodies::Me;
use crate::domain::OrgId;
use crate::http::auth::AuthenticatedToken;
use crate::http::error::ErrorBody;
use crate::http::{get_only, ApiError, AppState};

/// Who the token belongs to, their Smartlead org, and when the token expires.
#[utoipa::path(
    get,
    path = "/api/me",
    operation_id = "get_me",
    tag = "read",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's user", body = Me),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now; retry", body = ErrorBody),
    )
)]
pub(crate) async fn me(
    token: AuthenticatedToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let found = state
        .store
        .user(token.user)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let own = match found.smartlead_org_id.as_deref().map(OrgId::parse) {
        Some(Ok(org)) => state
            .store
            .webhook_tenant(org)
            .await?
            .is_some_and(|tenant| tenant.webhook_secret.is_some()),
        _ => false,
    };
    let webhook_secret = match (own, &state.default_webhook_secret) {
        (true, _) => "own",
        (false, Some(_)) => "default",
        (false, None) => "none",
    };
    Ok(HttpResponse::Ok().json(Me {
        email: found.email,
        id: found.id,
        name: found.name,
        smartlead_org_id: found.smartlead_org_id,
        smartlead_org_name: found.smartlead_org_name,
        token_expires_at: token.expires_at,
        webhook_secret,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/me", me));
}
