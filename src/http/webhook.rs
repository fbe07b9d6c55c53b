//! `POST /api/webhooks/smartlead?org_id=…`: authenticate, parse, commit, then answer.
//! A 2xx is sent only after the COMMIT that made the event durable.

use std::time::Instant;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use super::api::DeliveryAnswer;
use super::body_budget::BodyShare;
use super::error::{AuthFailure, ErrorBody};
use super::openapi::query::Webhook;
use super::{ApiError, AppState};
use crate::domain::{Mapped, OrgId, UserId, UtcTimestamp};
use crate::smartlead::{self, AuthError, Delivery, WebhookSecret};
use crate::storage::records::{IngestOutcome, WebhookTenant};
use crate::storage::StorageError;

const SIGNATURE_HEADER: &str = "x-smartlead-signature";
pub const PATH: &str = "/api/webhooks/smartlead";

#[derive(Deserialize)]
pub(crate) struct WebhookQuery {
    org_id: Option<String>,
}

/// One Smartlead event. A 2xx means it is committed to disk (stored, found stored before, kept,
/// or held because it could not be mapped); Smartlead retries 5xx answers and never 4xx ones.
/// Authentic when the body's `secret_key` is the org's secret, or when `X-Smartlead-Signature`
/// is the HMAC-SHA256 of the raw body under it.
#[utoipa::path(
    post,
    path = "/api/webhooks/smartlead",
    operation_id = "receive_delivery",
    tag = "webhook",
    params(
        Webhook,
        ("X-Smartlead-Signature" = Option<String>, Header, description = "`sha256=<64 hex digits>`: HMAC-SHA256 of the raw body under the org's secret"),
    ),
    request_body(content = Object, description = "One Smartlead event, in any of its shapes", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed to disk", body = DeliveryAnswer),
        (status = 400, description = "A missing or unusable org_id; or, once authentic, a body that is not one readable JSON object", body = ErrorBody),
        (status = 401, description = "Not authentic for this org (the same answer for an unknown org)", body = ErrorBody),
        (status = 413, description = "A declared Content-Length over the limit", body = ErrorBody),
        (status = 503, description = "Not written now (busy, at capacity, storage fault); retry", body = ErrorBody),
    )
)]
pub(crate) async fn receive(
    req: HttpRequest,
    query: web::Query<WebhookQuery>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let answer = deliver(req, query, payload, &state).await;
    let metrics = &state.metrics;
    match &answer {
        Ok(outcome) => {
            metrics
                .ingest_seconds
                .observe(started.elapsed().as_secs_f64());
            match outcome {
                IngestOutcome::Stored { .. } => metrics.delivery("stored", ""),
                IngestOutcome::Duplicate { .. } => metrics.delivery("duplicate", ""),
                IngestOutcome::Kept { .. } => metrics.delivery("kept", ""),
                IngestOutcome::Held { reason, .. } => metrics.delivery("held", reason),
            }
        }
        Err(err) => metrics.delivery("rejected", err.code().name()),
    }
    Ok(HttpResponse::Ok().json(DeliveryAnswer::from(answer?)))
}

async fn deliver(
    req: HttpRequest,
    query: web::Query<WebhookQuery>,
    payload: web::Payload,
    state: &AppState,
) -> Result<IngestOutcome, ApiError> {
    // Judged before the org is looked up: these answers say nothing about which orgs exist.
    let raw_org = query.org_id.as_deref().ok_or(ApiError::MissingOrgId)?;
    let org = OrgId::parse(raw_org).map_err(|e| ApiError::InvalidQuery {
        name: "org_id".into(),
        reason: e.to_string(),
    })?;
    let declared = declared_length(&req);
    if declared.is_some_and(|len| len > state.max_body_bytes as u64) {
        return Err(ApiError::PayloadTooLarge {
            limit: state.max_body_bytes,
        });
    }
    if state.body_budget.is_spent() {
        return Err(ApiError::Overloaded);
    }
    let signature = signature_header(&req)?;

    // An unknown org is refused before a byte of its body is read. From here until the
    // delivery is authenticated every failure is the same 401, so that a caller without the
    // secret cannot tell a known org from an unknown one; the log says what really failed.
    let (tenant, from_cache) = webhook_tenant(state, &org).await?;
    let (body, _share) = read_body(payload, declared, state)
        .await
        .map_err(|err| match err {
            BodyError::Overloaded => ApiError::Overloaded,
            err => ApiError::Unauthorized(AuthFailure::Body(err)),
        })?;
    let received_at = UtcTimestamp::now();

    let (user, verified) = match verify(state, &tenant, &body, signature, received_at) {
        // A secret rotated (or set) since the tenant was cached: the new one works at once.
        // Only a secret that did not match is worth a fresh read; a broken body is not.
        Err(ApiError::Unauthorized(AuthFailure::Webhook(
            AuthError::WrongSecret | AuthError::BadSignature | AuthError::NoSecretConfigured,
        ))) if from_cache => {
            state.tenants.forget(&org);
            let (fresh, _) = webhook_tenant(state, &org).await?;
            let verified = verify(state, &fresh, &body, signature, received_at)?;
            (fresh.user_id, verified)
        }
        verified => (tenant.user_id, verified?),
    };
    match store(state, user, &org, verified, received_at).await {
        // Refused for a reason a retry would not fix. A tenant read before its user was removed
        // (`users remove`, within `--tenant-cache-ms`) ends here, its rows' foreign key failing:
        // read the org again. Gone, the delivery gets the 401 of any unknown org, not a 500;
        // another user's now (removed and added again), it is stored for that user.
        Err(err) if !err.is_transient() => {
            state.tenants.forget(&org);
            let (fresh, _) = webhook_tenant(state, &org).await?;
            if fresh.user_id == user {
                return Err(err.into());
            }
            tracing::info!(%org, "the org's user changed since its tenant was read");
            let verified = verify(state, &fresh, &body, signature, received_at)?;
            Ok(store(state, fresh.user_id, &org, verified, received_at).await?)
        }
        outcome => Ok(outcome?),
    }
}

/// Writes an authenticated delivery for `user`: its event, or, when no event can be read from
/// it, the delivery itself, held.
async fn store(
    state: &AppState,
    user: UserId,
    org: &OrgId,
    verified: Verified,
    received_at: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    if verified.by_previous_secret {
        state.metrics.previous_secret_accepted(user);
    }
    match verified.delivery.map(received_at) {
        Mapped::Event(event) => {
            state
                .store
                .ingest(user, org.clone(), event, received_at)
                .await
        }
        // Authentic, but not an event this version can map. Smartlead never retries a 4xx, so
        // refusing it would lose it: it is held for a replay by a later mapper.
        Mapped::Unmapped(unmapped) => {
            tracing::warn!(reason = unmapped.reason, detail = %unmapped.detail, "held an authentic delivery that could not be mapped");
            state.store.hold(user, org.clone(), unmapped).await
        }
    }
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The `X-Smartlead-Signature` header, if any. Two of them are ambiguous: which one would be
/// checked? Authentication fails rather than pick one.
fn signature_header(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let mut headers = req.headers().get_all(SIGNATURE_HEADER);
    let Some(first) = headers.next() else {
        return Ok(None);
    };
    if headers.next().is_some() {
        return Err(unauthorized(AuthError::RepeatedSignature));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| unauthorized(AuthError::MalformedSignature))
}

/// The org's user and secret, and whether they came from the cache.
async fn webhook_tenant(state: &AppState, org: &OrgId) -> Result<(WebhookTenant, bool), ApiError> {
    if let Some(tenant) = state.tenants.get(org) {
        return Ok((tenant, true));
    }
    let tenant = state
        .store
        .webhook_tenant(org.clone())
        .await?
        .ok_or(ApiError::Unauthorized(AuthFailure::UnknownOrg))?;
    state.tenants.put(&tenant);
    Ok((tenant, false))
}

/// A delivery that authenticated, and whether it did so with the org's previous secret.
struct Verified {
    delivery: Delivery,
    by_previous_secret: bool,
}

/// Checks the delivery against the tenant's secret (or the default one) and parses it; a
/// delivery that fails that check is tried once more against the secret the current one
/// replaced, while its grace period lasts (`credentials set-smartlead --keep-previous-for`).
fn verify(
    state: &AppState,
    tenant: &WebhookTenant,
    body: &[u8],
    signature: Option<&str>,
    now: UtcTimestamp,
) -> Result<Verified, ApiError> {
    let current = tenant
        .webhook_secret
        .clone()
        .map(WebhookSecret::new)
        .or_else(|| state.default_webhook_secret.clone());
    let refused = match authenticate(body, signature, current.as_ref()) {
        Ok(delivery) => {
            return Ok(Verified {
                delivery,
                by_previous_secret: false,
            })
        }
        Err(refused) => refused,
    };
    let wrong_secret = matches!(
        refused,
        ApiError::Unauthorized(AuthFailure::Webhook(
            AuthError::WrongSecret | AuthError::BadSignature
        ))
    );
    match tenant.previous_secret_at(now) {
        Some(previous) if wrong_secret => {
            let previous = WebhookSecret::new(previous.to_owned());
            // Refused under both: the answer is the current secret's refusal.
            let delivery = authenticate(body, signature, Some(&previous)).map_err(|_| refused)?;
            Ok(Verified {
                delivery,
                by_previous_secret: true,
            })
        }
        _ => Err(refused),
    }
}

/// Checks the delivery against one secret and parses it. A signed body is checked before it is
/// even parsed: the signature covers the raw bytes.
fn authenticate(
    body: &[u8],
    signature: Option<&str>,
    expected: Option<&WebhookSecret>,
) -> Result<Delivery, ApiError> {
    if let Some(header) = signature {
        smartlead::authenticate(body, Some(header), None, expected).map_err(unauthorized)?;
        return Ok(smartlead::parse_delivery(body)?);
    }
    // Unsigned: the secret is inside the body, so a body that does not parse cannot be
    // authenticated, and its defect is nobody's business but the log's.
    let delivery = smartlead::parse_delivery(body)
        .map_err(|err| ApiError::Unauthorized(AuthFailure::Unparsed(err)))?;
    smartlead::authenticate(body, None, delivery.secret_key.as_ref(), expected)
        .map_err(unauthorized)?;
    Ok(delivery)
}

fn unauthorized(err: AuthError) -> ApiError {
    ApiError::Unauthorized(AuthFailure::Webhook(err))
}

/// Why a body was not received whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the connection broke before the body was complete")]
    Incomplete,
    #[error("the body was not received within {0} seconds")]
    TimedOut(u64),
    #[error("the body passed the limit of {0} bytes while streaming")]
    TooLarge(usize),
    #[error("the budget of buffered body bytes is spent")]
    Overloaded,
}

/// Reads the body up to the size limit, counting every chunk against the shared body budget
/// (returned, to be held until the body is dropped). Nothing is reserved for the declared
/// length; a chunked body is cut off as soon as it passes the limit, and a body that trickles
/// in slower than the body timeout is refused too (slow-loris).
async fn read_body(
    mut payload: web::Payload,
    declared: Option<u64>,
    state: &AppState,
) -> Result<(web::Bytes, BodyShare), BodyError> {
    let limit = state.max_body_bytes;
    let mut share = state.body_budget.share();
    let collect = async {
        let first = declared.map_or(INITIAL_BUFFER, |len| (len as usize).min(INITIAL_BUFFER));
        let mut body = web::BytesMut::with_capacity(first);
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| BodyError::Incomplete)?;
            if body.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge(limit));
            }
            share.grow(chunk.len()).map_err(|_| BodyError::Overloaded)?;
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    let timeout = state.body_timeout;
    let body = tokio::time::timeout(timeout, collect)
        .await
        .map_err(|_| BodyError::TimedOut(timeout.as_secs()))??;
    Ok((body, share))
}

/// The buffer a body starts with; it grows as the bytes arrive.
const INITIAL_BUFFER: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PATH)
            .route(web::post().to(receive))
            .default_service(web::to(super::method_not_allowed)),
    );
}
