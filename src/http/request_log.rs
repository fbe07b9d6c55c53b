//! One log line per request, and an `x-request-id` on every response to find it by.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use super::AppState;
use tracing::Instrument;
use uuid::Uuid;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = Uuid::now_v7().to_string();
    // The path only: query strings can carry tokens a customer pasted into a URL.
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let took = started.elapsed();
    // Read API latency by route pattern (never the raw path: ids would make a series each).
    if let (Some(state), Some(route)) = (state, response.request().match_pattern()) {
        if route.starts_with("/api/") && route != super::webhook::PATH {
            state.metrics.read(&route, took);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = crate::telemetry::millis(took),
            "request"
        )
    });
    Ok(response)
}
