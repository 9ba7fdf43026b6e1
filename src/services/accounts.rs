//! Admin and lead accounts: create, sign in (with session rotation), change role or
//! password, deactivate.

use anyhow::Context;
use chrono::NaiveDateTime;

use crate::auth::{password, session};
use crate::db::models::{sessions, users};
use crate::db::{self, DbConn};
use crate::domain::{EmailAddress, Role};

/// Creates an account; refuses an email that already has one.
pub fn add_user(
    conn: &mut DbConn,
    email: &EmailAddress,
    role: Role,
    plain_password: &str,
    now: NaiveDateTime,
) -> anyhow::Result<String> {
    password::check_strength(plain_password).map_err(anyhow::Error::msg)?;
    let hash = password::hash(plain_password)?;
    let id = uuid::Uuid::new_v4().to_string();
    db::write_transaction(conn, |conn| -> anyhow::Result<()> {
        if users::find_by_email(conn, email.as_str())?.is_some() {
            anyhow::bail!("an account for {email} already exists");
        }
        users::insert(
            conn,
            &users::NewUser {
                id: &id,
                email: email.as_str(),
                password_hash: &hash,
                role: role.as_str(),
                active: true,
                created_at: now,
            },
        )
        .context("cannot store the account")?;
        Ok(())
    })?;
    Ok(id)
}

/// Checks the credentials; on success ends the session the browser presented (if any) and
/// starts a fresh one, whose cookie value is returned. `None`: wrong email or password, or
/// the account is deactivated (the caller cannot tell which, nor can an attacker).
pub fn sign_in(
    conn: &mut DbConn,
    email: &str,
    plain_password: &str,
    previous_session: Option<&str>,
    now: NaiveDateTime,
) -> anyhow::Result<Option<String>> {
    let user = match EmailAddress::parse(email) {
        Ok(email) => users::find_by_email(conn, email.as_str())?,
        Err(_) => None,
    };
    let Some(user) = user.filter(|u| u.active) else {
        password::verify_dummy(plain_password);
        return Ok(None);
    };
    if !password::verify(plain_password, &user.password_hash) {
        return Ok(None);
    }
    let token = db::write_transaction(conn, |conn| -> diesel::QueryResult<String> {
        if let Some(previous) = previous_session {
            session::end(conn, previous)?;
        }
        session::start(conn, &user.id, now)
    })?;
    Ok(Some(token))
}

/// Sets a new password and ends every session of the account.
pub fn change_password(
    conn: &mut DbConn,
    user_id: &str,
    plain_password: &str,
) -> anyhow::Result<()> {
    password::check_strength(plain_password).map_err(anyhow::Error::msg)?;
    let hash = password::hash(plain_password)?;
    db::write_transaction(conn, |conn| -> diesel::QueryResult<()> {
        users::set_password(conn, user_id, &hash)?;
        sessions::delete_for_user(conn, user_id)?;
        Ok(())
    })?;
    Ok(())
}

/// Deactivates (or reactivates) an account; deactivation ends its sessions.
pub fn set_active(conn: &mut DbConn, user_id: &str, active: bool) -> anyhow::Result<()> {
    db::write_transaction(conn, |conn| -> diesel::QueryResult<()> {
        users::set_active(conn, user_id, active)?;
        if !active {
            sessions::delete_for_user(conn, user_id)?;
        }
        Ok(())
    })?;
    Ok(())
}
