//! Suppressed addresses: recipients the mail server refused (5xx to RCPT, 5.1.x, 5.2.1).
//! They get no mail from future waves until an admin lifts the suppression
//! (`pulse stakeholders lift`, the "Blocked addresses" admin page); a lifted address is
//! invited by the next wave and reachable by a resend. Temporary failures never suppress.

use crate::db::models::opt_outs::{self, Suppression};
use crate::db::DbConn;
use crate::domain::EmailAddress;

/// Why a lift did not happen.
#[derive(Debug, thiserror::Error)]
pub enum LiftError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} is not blocked (see `pulse stakeholders suppressions`)")]
    NotSuppressed(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Every suppression, newest first.
pub fn list(conn: &mut DbConn) -> Result<Vec<Suppression>, diesel::result::Error> {
    opt_outs::suppressions(conn)
}

/// Ends the suppression of `email` (as typed: trimmed, domain case ignored).
pub fn lift(conn: &mut DbConn, email: &str) -> Result<EmailAddress, LiftError> {
    let address = EmailAddress::parse(email).map_err(LiftError::Invalid)?;
    if opt_outs::lift(conn, address.as_str())? {
        tracing::info!(
            to = %crate::telemetry::mask_email(address.as_str()),
            "suppression lifted"
        );
        Ok(address)
    } else {
        Err(LiftError::NotSuppressed(address.as_str().to_string()))
    }
}
