//! Accounts and sessions for admins and leads: sign-in, server-side sessions (stored as
//! hashes, rotated at sign-in, idle and absolute timeouts), CSRF tokens bound to the
//! session, and the per-IP and per-account sign-in rate limits.
//!
//! Route handlers ask for [`SignedIn`] (any role) or call [`SignedIn::require_admin`].
//! Viewers are refused by [`SignedIn`] itself outside [`viewer_may_open`].

pub mod api_keys;
pub mod csrf;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use serde::Serialize;

use crate::domain::Role;
use crate::error::AppError;
use crate::startup::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "pulse_session";

/// The account behind a request.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub is_admin: bool,
    /// A viewer sees only the scorecards of the business units in their scope.
    pub is_viewer: bool,
}

/// The paths a viewer may open (everything else is refused before any handler runs): the
/// scorecard pages, downloads and API and a unit's results summaries
/// (`/admin/scorecards/{unit}/results…`) — each of which checks the viewer's units — the
/// overview (which sends them to their scorecards) and signing out.
pub fn viewer_may_open(path: &str) -> bool {
    path == "/admin"
        || path == "/logout"
        || path == "/admin/scorecards"
        || path.starts_with("/admin/scorecards/")
        || path.starts_with("/admin/scorecards.")
        || path == "/api/v1/scorecards"
        || path.starts_with("/api/v1/scorecards/")
}

/// A signed-in request: the user, the CSRF token its forms must carry, and the message
/// the previous action left for this page (see `routes::flash`).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: CurrentUser,
    pub csrf_token: String,
    pub flash: Option<String>,
    session_token: String,
}

impl SignedIn {
    /// Refuses a form whose CSRF token is not the one of this session.
    pub fn verify_csrf(&self, provided: &str) -> Result<(), AppError> {
        if tokens::same(&self.csrf_token, provided) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn session_token(&self) -> &str {
        &self.session_token
    }
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let flash = crate::routes::flash::read(req);
        // Kept on the request so an error page after this can show the navigation.
        let request = req.clone();
        let path = req.path().to_string();
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/admin".into());
        Box::pin(async move {
            let state =
                state.ok_or_else(|| AppError::unexpected(anyhow::anyhow!("no app state")))?;
            let Some(token) = token else {
                return Err(AppError::SignInRequired { next });
            };
            let pool = state.pool.clone();
            let settings = state.settings.clone();
            let lookup_token = token.clone();
            let now = state.clock.now();
            let user = web::block(move || {
                let mut conn = pool.get()?;
                session::resume(&mut conn, &lookup_token, now, &settings).map_err(AppError::from)
            })
            .await??;
            match user {
                Some(user) if user.is_viewer && !viewer_may_open(&path) => Err(AppError::Forbidden),
                Some(user) => {
                    let signed_in = SignedIn {
                        csrf_token: csrf::session_token(&state.settings.secret_key, &token),
                        user,
                        flash,
                        session_token: token,
                    };
                    actix_web::HttpMessage::extensions_mut(&request).insert(signed_in.clone());
                    Ok(signed_in)
                }
                None => Err(AppError::SignInRequired { next }),
            }
        })
    }
}
