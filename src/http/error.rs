//! The one place errors become HTTP answers. Every error code, its status and its name are in
//! the table below; bodies are `{"error":{"code","message"}}`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::domain::Echo;
use crate::smartlead::{AuthError, SmartleadError};
use crate::storage::StorageError;

/// Seconds a sender should wait before retrying after a 503.
const RETRY_AFTER_SECONDS: &str = "5";

macro_rules! error_codes {
    ($($variant:ident => $status:ident, $name:literal;)*) => {
        /// Stable, documented error codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),* }
            }

            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name),* }
            }
        }
    };
}

error_codes! {
    RouteNotFound => NOT_FOUND, "route_not_found";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed";
    NotFound => NOT_FOUND, "not_found";
    Unauthorized => UNAUTHORIZED, "unauthorized";
    MissingOrgId => BAD_REQUEST, "missing_org_id";
    InvalidQueryParameter => BAD_REQUEST, "invalid_query_parameter";
    InvalidPathParameter => BAD_REQUEST, "invalid_path_parameter";
    EmptyBody => BAD_REQUEST, "empty_body";
    InvalidJson => BAD_REQUEST, "invalid_json";
    PayloadNotObject => BAD_REQUEST, "payload_not_object";
    AmbiguousPayload => BAD_REQUEST, "ambiguous_payload";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large";
    QueueFull => SERVICE_UNAVAILABLE, "queue_full";
    Overloaded => SERVICE_UNAVAILABLE, "overloaded";
    DatabaseUnavailable => SERVICE_UNAVAILABLE, "database_unavailable";
    StorageFault => SERVICE_UNAVAILABLE, "storage_fault";
    NotReady => SERVICE_UNAVAILABLE, "not_ready";
    ProjectionBehind => SERVICE_UNAVAILABLE, "projection_behind";
    Internal => INTERNAL_SERVER_ERROR, "internal";
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {} {}", Echo(method), Echo(path))]
    RouteNotFound { method: String, path: String },
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    /// One message for every cause, so a caller cannot probe which orgs exist; the cause is logged.
    #[error("the request could not be authenticated")]
    Unauthorized(#[source] AuthFailure),
    #[error("the webhook URL needs `?org_id=<your Smartlead org id>`")]
    MissingOrgId,
    #[error("query parameter `{}`: {reason}", Echo(name))]
    InvalidQuery { name: String, reason: String },
    #[error("path parameter `{}`: {reason}", Echo(name))]
    InvalidPath { name: String, reason: String },
    #[error("the request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("too many request bodies are being received at once")]
    Overloaded,
    #[error(transparent)]
    Payload(#[from] SmartleadError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<ApiError>),
    #[error("not ready: {0}")]
    NotReady(String),
    #[error("the analytics include events up to seq {as_of}, not yet {min_event}; retry shortly")]
    ProjectionBehind { min_event: i64, as_of: i64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why authentication failed (logged, never sent).
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("unknown org")]
    UnknownOrg,
    #[error(transparent)]
    Webhook(#[from] AuthError),
    #[error("missing, invalid or revoked API token")]
    Token,
    #[error("missing or wrong metrics token")]
    Metrics,
    /// Before authentication a broken body is an authentication failure like any other.
    #[error("the body was not received: {0}")]
    Body(#[source] crate::http::webhook::BodyError),
    #[error("an unsigned body that does not parse cannot show its secret: {0}")]
    Unparsed(#[source] SmartleadError),
}

impl ApiError {
    /// Reports any failure as the database being unavailable (503).
    pub fn unavailable(err: ApiError) -> ApiError {
        ApiError::Unavailable(Box::new(err))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::RouteNotFound { .. } => ErrorCode::RouteNotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::MissingOrgId => ErrorCode::MissingOrgId,
            ApiError::InvalidQuery { .. } => ErrorCode::InvalidQueryParameter,
            ApiError::InvalidPath { .. } => ErrorCode::InvalidPathParameter,
            ApiError::Overloaded => ErrorCode::Overloaded,
            ApiError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ApiError::Payload(err) => match err {
                SmartleadError::EmptyBody => ErrorCode::EmptyBody,
                SmartleadError::InvalidJson(_) => ErrorCode::InvalidJson,
                SmartleadError::NotAnObject => ErrorCode::PayloadNotObject,
                SmartleadError::DuplicateKey(_) => ErrorCode::AmbiguousPayload,
            },
            ApiError::Unavailable(_) | ApiError::Storage(_) if self.storage_fault().is_some() => {
                ErrorCode::StorageFault
            }
            ApiError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            ApiError::NotReady(_) => ErrorCode::NotReady,
            ApiError::ProjectionBehind { .. } => ErrorCode::ProjectionBehind,
            ApiError::Storage(StorageError::QueueFull) => ErrorCode::QueueFull,
            ApiError::Storage(StorageError::NotFound(_)) => ErrorCode::NotFound,
            ApiError::Storage(err) if err.is_transient() => ErrorCode::DatabaseUnavailable,
            ApiError::Storage(_) | ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ApiError {
    /// The storage fault behind this error, if it is one (its text is safe to show).
    pub fn storage_fault(&self) -> Option<crate::storage::StorageFault> {
        match self {
            ApiError::Storage(err) => err.fault(),
            ApiError::Unavailable(inner) => inner.storage_fault(),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let code = self.code();
        let status = code.status();
        let message = if status.is_server_error() {
            // The full chain goes to the log; the caller gets a generic sentence.
            tracing::error!(code = code.name(), error = %self, chain = %ErrorChain(self), "request failed");
            match code {
                ErrorCode::QueueFull | ErrorCode::Overloaded => {
                    "the service is at capacity; retry shortly".to_owned()
                }
                ErrorCode::DatabaseUnavailable => {
                    "the database is unavailable; retry shortly".to_owned()
                }
                ErrorCode::StorageFault => self
                    .storage_fault()
                    .map(|fault| format!("writes are stopped until a restart: {fault}"))
                    .unwrap_or_default(),
                // Built by /ready from what it measured, or two numbers; nothing of the
                // caller's in it.
                ErrorCode::NotReady | ErrorCode::ProjectionBehind => self.to_string(),
                _ => "internal error".to_owned(),
            }
        } else {
            if let ApiError::Unauthorized(cause) = self {
                tracing::warn!(cause = %cause, "authentication failed");
            }
            self.to_string()
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            ));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: code.name(),
                message,
            },
        })
    }
}

/// `{"error":{"code":…,"message":…}}`: every error answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code (README, "Errors").
    #[schema(value_type = String)]
    code: &'static str,
    message: String,
}

/// Formats an error with all its sources: `a: b: c`.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_4xx_or_5xx() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        assert!(ErrorCode::ALL
            .iter()
            .all(|c| c.status().is_client_error() || c.status().is_server_error()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[actix_web::test]
    async fn transient_storage_failures_are_503_with_retry_after_and_a_generic_message() {
        for err in [
            ApiError::Storage(StorageError::QueueFull),
            ApiError::Storage(StorageError::WriterStopped),
            ApiError::unavailable(ApiError::Storage(StorageError::Panicked)),
        ] {
            let response = err.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response.headers().get(header::RETRY_AFTER).unwrap(),
                RETRY_AFTER_SECONDS
            );
            let body: serde_json::Value =
                serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap();
            assert!(body["error"]["message"].as_str().unwrap().contains("retry"));
        }
    }

    #[test]
    fn unreadable_bodies_answer_the_code_an_import_reports() {
        let bad_json = serde_json::from_slice::<serde_json::Value>(b"{").unwrap_err();
        for err in [
            SmartleadError::EmptyBody,
            SmartleadError::InvalidJson(bad_json),
            SmartleadError::NotAnObject,
            SmartleadError::DuplicateKey("k".into()),
        ] {
            let code = err.code();
            assert_eq!(ApiError::Payload(err).code().name(), code);
        }
    }

    #[actix_web::test]
    async fn bugs_are_500_without_details() {
        let response = ApiError::Storage(StorageError::Panicked).error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(
            body,
            r#"{"error":{"code":"internal","message":"internal error"}}"#
        );
    }
}
