//! Server-side sessions: start at sign-in (a fresh id every time), resume on each request
//! (refusing idle or too-old sessions), end at sign-out.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::tokens::{random_token, sha256_hex};
use super::CurrentUser;
use crate::config::Settings;
use crate::db::models::sessions::{self, SessionRow};
use crate::db::DbConn;
use crate::domain::Role;

/// `last_seen_at` is written at most this often, not on every request.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// Creates a session for `user_id`; returns the cookie value (only its hash is stored).
pub fn start(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<String> {
    let token = random_token();
    sessions::insert(
        conn,
        &SessionRow {
            id_hash: sha256_hex(&token),
            user_id: user_id.to_string(),
            created_at: now,
            last_seen_at: now,
        },
    )?;
    Ok(token)
}

/// The user of a live session, or `None` (unknown, idle too long, too old, user inactive).
/// Expired sessions are deleted on the way.
pub fn resume(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    settings: &Settings,
) -> QueryResult<Option<CurrentUser>> {
    let id_hash = sha256_hex(token);
    let Some((session, user)) = sessions::find_with_user(conn, &id_hash)? else {
        return Ok(None);
    };
    let idle = now - session.last_seen_at;
    let age = now - session.created_at;
    let idle_limit =
        chrono::Duration::from_std(settings.session_idle_timeout).unwrap_or(chrono::Duration::MAX);
    let age_limit = chrono::Duration::from_std(settings.session_absolute_timeout)
        .unwrap_or(chrono::Duration::MAX);
    if idle > idle_limit || age > age_limit {
        sessions::delete(conn, &id_hash)?;
        return Ok(None);
    }
    if idle.num_seconds() >= TOUCH_INTERVAL_SECONDS {
        sessions::touch(conn, &id_hash, now)?;
    }
    let Ok(role) = user.role.parse::<Role>() else {
        return Ok(None);
    };
    Ok(Some(CurrentUser {
        id: user.id,
        email: user.email,
        is_admin: role == Role::Admin,
        is_viewer: role == Role::Viewer,
        role,
    }))
}

/// Ends the session behind `token` (no-op if it is already gone).
pub fn end(conn: &mut DbConn, token: &str) -> QueryResult<()> {
    sessions::delete(conn, &sha256_hex(token))?;
    Ok(())
}
