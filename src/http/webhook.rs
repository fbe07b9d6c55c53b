//! `POST /api/webhooks/smartlead?org_id=…`: authenticate, parse, commit, then answer.
//! A 2xx is sent only after the COMMIT that made the event durable.

use std::time::Duration;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use super::error::AuthFailure;
use super::{ApiError, AppState};
use crate::domain::{OrgId, UtcTimestamp};
use crate::smartlead::{self, AuthError, Delivery, WebhookSecret};
use crate::storage::events;
use crate::storage::users::{self, WebhookTenant};

const SIGNATURE_HEADER: &str = "x-smartlead-signature";

#[derive(Deserialize)]
struct WebhookQuery {
    org_id: Option<String>,
}

async fn receive(
    req: HttpRequest,
    query: web::Query<WebhookQuery>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw_org = query.org_id.as_deref().ok_or(ApiError::MissingOrgId)?;
    let org = OrgId::parse(raw_org).map_err(|e| ApiError::InvalidQuery {
        name: "org_id".into(),
        reason: e.to_string(),
    })?;
    let body = read_body(&req, payload, state.max_body_bytes, state.body_timeout).await?;
    let received_at = UtcTimestamp::now();

    let signature = match req.headers().get(SIGNATURE_HEADER) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| unauthorized(AuthError::MalformedSignature))?,
        ),
        None => None,
    };
    let (tenant, from_cache) = webhook_tenant(&state, &org).await?;
    let (user, delivery) = match verify(&state, &tenant, &body, signature) {
        // A secret rotated since the tenant was cached: the new one works at once.
        Err(ApiError::Unauthorized(_)) if from_cache => {
            state.tenants.forget(&org);
            let (fresh, _) = webhook_tenant(&state, &org).await?;
            (fresh.user_id, verify(&state, &fresh, &body, signature)?)
        }
        verified => (tenant.user_id, verified?),
    };
    let event = delivery.into_event(received_at)?;

    let outcome = state
        .writer
        .write(move |conn, counts| events::ingest(conn, counts, user, &org, &event, received_at))
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

/// The org's user and secret, and whether they came from the cache.
async fn webhook_tenant(state: &AppState, org: &OrgId) -> Result<(WebhookTenant, bool), ApiError> {
    if let Some(tenant) = state.tenants.get(org) {
        return Ok((tenant, true));
    }
    let lookup_org = org.clone();
    let tenant = state
        .read(move |conn| users::webhook_tenant(conn, &lookup_org))
        .await?
        .ok_or(ApiError::Unauthorized(AuthFailure::UnknownOrg))?;
    state.tenants.put(&tenant);
    Ok((tenant, false))
}

/// Checks the delivery against the tenant's secret (or the default one) and parses it. A signed
/// body is checked before it is even parsed: the signature covers the raw bytes.
fn verify(
    state: &AppState,
    tenant: &WebhookTenant,
    body: &[u8],
    signature: Option<&str>,
) -> Result<Delivery, ApiError> {
    let expected = tenant
        .webhook_secret
        .clone()
        .map(WebhookSecret::new)
        .or_else(|| state.default_webhook_secret.clone());
    if let Some(header) = signature {
        smartlead::authenticate(body, Some(header), None, expected.as_ref())
            .map_err(unauthorized)?;
    }
    let delivery = smartlead::parse_delivery(body)?;
    if signature.is_none() {
        smartlead::authenticate(body, None, delivery.secret_key.as_ref(), expected.as_ref())
            .map_err(unauthorized)?;
    }
    Ok(delivery)
}

fn unauthorized(err: AuthError) -> ApiError {
    ApiError::Unauthorized(AuthFailure::Webhook(err))
}

/// Reads the body up to `limit` bytes. A declared length over the limit is refused before a
/// byte is read; a chunked body is cut off as soon as it passes the limit; a body that trickles
/// in slower than `timeout` is refused too (slow-loris).
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    timeout: Duration,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let collect = async {
        let mut body = web::BytesMut::with_capacity(declared.map_or(8 * 1024, |len| len as usize));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| ApiError::IncompleteBody)?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(timeout, collect)
        .await
        .map_err(|_| ApiError::BodyTimeout(timeout.as_secs()))?
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/webhooks/smartlead")
            .route(web::post().to(receive))
            .default_service(web::to(super::method_not_allowed)),
    );
}
