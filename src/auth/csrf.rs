//! CSRF tokens: an HMAC of the session id for signed-in forms, and of a random pre-session
//! cookie for the sign-in form. Nothing to store; a token from another session never fits.

use super::tokens::hmac;
use crate::config::SecretKey;

/// Cookie carrying the random value the sign-in form's token is bound to.
pub const LOGIN_COOKIE: &str = "pulse_login";

pub fn session_token(key: &SecretKey, session_token: &str) -> String {
    hmac(key, &["csrf", session_token])
}

pub fn login_token(key: &SecretKey, login_cookie: &str) -> String {
    hmac(key, &["login-csrf", login_cookie])
}
