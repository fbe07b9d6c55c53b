//! Routes, extractors and the mapping of every error to an HTTP answer.

mod api;
mod auth;
mod body_budget;
mod dashboard;
mod error;
mod health;
mod metrics;
pub mod openapi;
mod request_log;
mod state;
mod tenant_cache;
pub(crate) mod webhook;

use actix_web::error::InternalError;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
pub use body_budget::BodyBudget;
pub use error::{ApiError, ErrorCode};
pub use metrics::Metrics;
pub use request_log::log_requests;
pub use state::AppState;
pub use tenant_cache::TenantCache;

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // actix's own extractor failures become coded JSON errors like every other.
    cfg.app_data(web::QueryConfig::default().error_handler(|err, _| {
        let api = ApiError::InvalidQuery {
            name: "query".into(),
            reason: err.to_string(),
        };
        InternalError::from_response(err, api.error_response()).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, _| {
        let api = ApiError::InvalidPath {
            name: "path".into(),
            reason: err.to_string(),
        };
        InternalError::from_response(err, api.error_response()).into()
    }))
    .configure(health::configure)
    .configure(metrics::configure)
    .configure(openapi::configure)
    .configure(dashboard::configure)
    .configure(webhook::configure)
    .configure(api::configure)
    .default_service(web::to(route_not_found));
}

/// A route that answers GET and HEAD (the same answer without its body, for caches, probes and
/// link checkers); any other method is a 405 `method_not_allowed`, not the 404 of a route that
/// does not exist.
pub(crate) fn get_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(method_not_allowed))
}

async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        method: req.method().to_string(),
        path: req.path().to_owned(),
    })
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
    })
}
