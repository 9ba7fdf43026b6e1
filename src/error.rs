//! Which error type where:
//!
//! * `AppError` is what route handlers return. Its `ResponseError` impl picks the status;
//!   the `errors` middleware in `routes` turns every error status into an HTML page (or
//!   plain text for clients that do not accept HTML, JSON under `/api/`).
//! * The request API (`/api/v1/`) returns `routes::api::ApiError` instead: JSON with the
//!   field and the reason, whatever the status.
//! * Services return `anyhow::Result` (with `.context(..)` at each step) or a domain error
//!   enum when the caller must tell cases apart (e.g. stakeholder import problems).
//! * The CLI prints `error: {error:#}` and exits non-zero.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(thiserror::Error)]
pub enum AppError {
    #[error("The page you asked for does not exist.")]
    NotFound,
    /// Not signed in (or the session ended): redirect to the sign-in page, then back.
    #[error("Please sign in.")]
    SignInRequired { next: String },
    #[error("You do not have access to this page.")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("This form has expired or did not come from this site. Go back, reload the page and try again.")]
    Csrf,
    #[error("Too many attempts. Wait a minute and try again.")]
    TooManyRequests,
    /// An upload over its limit (413); the message names the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("The service is not ready: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AppError {
    pub fn unexpected(error: impl Into<anyhow::Error>) -> Self {
        Self::Unexpected(error.into())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Unexpected(other.into()),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(error: r2d2::Error) -> Self {
        Self::Unexpected(anyhow::anyhow!("no database connection available: {error}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Unexpected(anyhow::anyhow!("a background task failed: {error}"))
    }
}

/// The full cause chain, for the log.
impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{self}")?;
        let mut current = std::error::Error::source(self);
        while let Some(cause) = current {
            writeln!(f, "Caused by:\n\t{cause}")?;
            current = cause.source();
        }
        Ok(())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A plain-text body with the public message; the error-page middleware dresses it up.
    /// Unexpected errors are logged here with their cause chain and never shown.
    fn error_response(&self) -> HttpResponse {
        if let Self::SignInRequired { next } = self {
            let location = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish();
        }
        let status = self.status_code();
        let message = match self {
            Self::Unexpected(error) => {
                tracing::error!(error = ?error, "request failed");
                "Something went wrong on our side. Try again in a moment.".to_string()
            }
            other => other.to_string(),
        };
        let mut builder = HttpResponse::build(status);
        if let Self::TooManyRequests = self {
            // The limits count per minute: a minute from now the client is allowed again.
            builder.insert_header((actix_web::http::header::RETRY_AFTER, "60"));
        }
        let mut response = builder
            .content_type("text/plain; charset=utf-8")
            .body(message.clone());
        response.extensions_mut().insert(PublicMessage(message));
        response
    }
}

/// The message of an error that may be shown to the user, attached to the response so the
/// error-page middleware can put it into the HTML page.
#[derive(Debug, Clone)]
pub struct PublicMessage(pub String);
