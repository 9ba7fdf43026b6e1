//! `ApiError`: what every request API response that is not a success carries, as JSON —
//! `{"error": {"field", "reason", "message", "problems": [...]}}`: the first problem's field
//! (or null when it is about the whole request), a short reason for programs, the message in
//! the product's words, and every problem found. Never HTML, whatever went wrong.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::AppError;
use crate::requests::json::Problem;

pub struct ApiError {
    status: StatusCode,
    problems: Vec<Problem>,
    retry_after: Option<u64>,
    allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, problems: Vec<Problem>) -> Self {
        Self {
            status,
            problems,
            retry_after: None,
            allow: None,
        }
    }

    /// One problem about the request as a whole.
    pub fn general(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(status, vec![Problem::new(None, reason, message)])
    }

    pub fn unauthorized(reason: &'static str, message: &str) -> Self {
        Self::general(StatusCode::UNAUTHORIZED, reason, message)
    }

    pub fn rate_limited(seconds: u64) -> Self {
        let mut error = Self::general(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("this API key has made too many calls in the last minute: wait {seconds} s (Retry-After) and send the request again"),
        );
        error.retry_after = Some(seconds);
        error
    }

    pub fn not_found(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            vec![Problem::new(field, "not_found", message)],
        )
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut error = Self::general(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this address accepts {allow} only"),
        );
        error.allow = Some(allow);
        error
    }

    pub fn unexpected(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = ?error, "request API call failed");
        Self::general(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side and nothing was stored: try again in a moment",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::unexpected(anyhow::anyhow!("{error:?}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::unexpected(anyhow::anyhow!("a background task failed: {error}"))
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(error: r2d2::Error) -> Self {
        Self::unexpected(anyhow::anyhow!("no database connection available: {error}"))
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::unexpected(error)
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.status, self.problems)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.problems.first() {
            Some(p) => write!(f, "{}", p.message),
            None => write!(f, "{}", self.status),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let first = self.problems.first();
        let body = json!({
            "error": {
                "field": first.and_then(|p| p.field.as_deref()),
                "reason": first.map_or("error", |p| p.reason),
                "message": first.map_or(String::new(), |p| p.message.clone()),
                "problems": self.problems,
            }
        });
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, allow));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"pulse\""));
        }
        response.json(body)
    }
}
