//! Admin, lead and viewer accounts: create, sign in (with session rotation), change role or
//! password, deactivate, and the business units a viewer may see.
//!
//! The web pages go through [`create_account`], [`change_role`] and [`change_active`], which
//! explain a wrong field and protect the admins from locking themselves out: nobody can
//! demote or deactivate their own account, and the last active admin stays an admin.

use anyhow::Context;
use chrono::NaiveDateTime;

use crate::auth::{password, session};
use crate::db::models::{sessions, users};
use crate::db::{self, DbConn};
use crate::domain::wave::FieldError;
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

/// Why an account change from the web pages was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Form fields that need attention (field name → message).
    #[error("{}", crate::domain::wave::describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("there is no such account")]
    NotFound,
    /// The change would lock admins out; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AccountError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Unexpected(error.into())
    }
}

/// The "add an account" form as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct NewAccountInput {
    pub email: String,
    pub role: String,
    /// Empty: a password is generated and shown once.
    #[serde(default)]
    pub password: String,
    /// For a viewer: the business units they may see, one per line.
    #[serde(default)]
    pub units: String,
}

impl NewAccountInput {
    /// The units of the form, one per line, blank lines skipped.
    pub fn unit_list(&self) -> Vec<String> {
        self.units
            .lines()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// The fields of [`NewAccountInput`], in form order.
pub const NEW_ACCOUNT_FIELDS: &[&str] = &["email", "role", "units", "password"];

/// An account made by [`create_account`].
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// The generated password, to be shown once (never stored in plain text).
    pub generated_password: Option<String>,
}

/// Creates an account from the web form: every wrong field is reported, nothing is stored
/// unless all are right. An empty password gets a generated one (256 random bits).
pub fn create_account(
    conn: &mut DbConn,
    input: &NewAccountInput,
    now: NaiveDateTime,
) -> Result<CreatedAccount, AccountError> {
    let mut errors = Vec::new();
    let email = match EmailAddress::parse(input.email.trim()) {
        Ok(email) => Some(email),
        Err(message) => {
            errors.push(FieldError::new("email", message));
            None
        }
    };
    let role = match input.role.parse::<Role>() {
        Ok(role) => Some(role),
        Err(_) => {
            errors.push(FieldError::new("role", "choose admin, lead or viewer"));
            None
        }
    };
    let units = input.unit_list();
    match role {
        Some(Role::Viewer) => {
            if let Err(error) = check_viewer_units(conn, &units) {
                match error {
                    AccountError::Refused(message) => {
                        errors.push(FieldError::new("units", message))
                    }
                    other => return Err(other),
                }
            }
        }
        Some(_) if !units.is_empty() => errors.push(FieldError::new(
            "units",
            "business units are for viewers only: admins and leads see every unit",
        )),
        _ => {}
    }
    let generated = input
        .password
        .is_empty()
        .then(crate::auth::tokens::random_token);
    let plain = generated.as_deref().unwrap_or(&input.password);
    if let Err(message) = password::check_strength(plain) {
        errors.push(FieldError::new("password", message));
    }
    if let Some(email) = &email {
        if users::find_by_email(conn, email.as_str())?.is_some() {
            errors.push(FieldError::new(
                "email",
                format!("an account for {email} already exists"),
            ));
        }
    }
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(AccountError::Invalid(errors));
    };
    let id = add_user(conn, &email, role, plain, now)?;
    if role == Role::Viewer {
        set_viewer_units(conn, &id, &units)?;
    }
    Ok(CreatedAccount {
        id,
        email: email.as_str().to_string(),
        role,
        generated_password: generated,
    })
}

/// Sets the role of `target_id` on behalf of `actor_id`. Refused for one's own account and
/// for the last active admin.
pub fn change_role(
    conn: &mut DbConn,
    actor_id: &str,
    target_id: &str,
    role: Role,
) -> Result<(), AccountError> {
    db::write_transaction(conn, |conn| {
        let admins = users::lock_active_admins(conn)?;
        let target = users::find(conn, target_id)?.ok_or(AccountError::NotFound)?;
        if target.role == role.as_str() {
            return Ok(());
        }
        if role != Role::Admin {
            if target.id == actor_id {
                return Err(AccountError::Refused(
                    "You cannot take the admin role from your own account: ask another admin."
                        .into(),
                ));
            }
            if admins.len() <= 1 && admins.contains(&target.id) {
                return Err(AccountError::Refused(format!(
                    "{} is the last active admin: make someone else an admin first.",
                    target.email
                )));
            }
        }
        users::set_role(conn, &target.id, role.as_str())?;
        Ok(())
    })
}

/// Deactivates (ending its sessions) or reactivates `target_id` on behalf of `actor_id`.
/// Nobody can deactivate their own account, nor the last active admin.
pub fn change_active(
    conn: &mut DbConn,
    actor_id: &str,
    target_id: &str,
    active: bool,
) -> Result<(), AccountError> {
    db::write_transaction(conn, |conn| {
        let admins = users::lock_active_admins(conn)?;
        let target = users::find(conn, target_id)?.ok_or(AccountError::NotFound)?;
        if !active {
            if target.id == actor_id {
                return Err(AccountError::Refused(
                    "You cannot deactivate your own account: ask another admin.".into(),
                ));
            }
            if admins.len() <= 1 && admins.contains(&target.id) {
                return Err(AccountError::Refused(format!(
                    "{} is the last active admin: make someone else an admin first.",
                    target.email
                )));
            }
        }
        users::set_active(conn, &target.id, active)?;
        if !active {
            sessions::delete_for_user(conn, &target.id)?;
        }
        Ok(())
    })
}

/// The business units a viewer may see.
pub fn viewer_units(conn: &mut DbConn, user_id: &str) -> anyhow::Result<Vec<String>> {
    Ok(crate::db::models::user_scopes::units_of(conn, user_id)?)
}

/// Sets the business units a viewer may see: each must be a business unit of the directory
/// (or of the request log), at least one. Refused for accounts that are not viewers.
pub fn set_viewer_units(
    conn: &mut DbConn,
    user_id: &str,
    units: &[String],
) -> Result<(), AccountError> {
    db::write_transaction(conn, |conn| set_viewer_units_in(conn, user_id, units))
}

/// [`set_viewer_units`] inside the caller's transaction.
pub fn set_viewer_units_in(
    conn: &mut DbConn,
    user_id: &str,
    units: &[String],
) -> Result<(), AccountError> {
    let target = users::find(conn, user_id)?.ok_or(AccountError::NotFound)?;
    if target.role != Role::Viewer.as_str() {
        return Err(AccountError::Refused(format!(
            "{} is not a viewer: only viewer accounts are scoped to business units.",
            target.email
        )));
    }
    let wanted = check_viewer_units(conn, units)?;
    crate::db::models::user_scopes::replace(conn, user_id, &wanted)?;
    Ok(())
}

/// The units, trimmed, sorted and deduplicated, if each is a business unit of the directory
/// (or of the request log) and there is at least one.
pub fn check_viewer_units(
    conn: &mut DbConn,
    units: &[String],
) -> Result<Vec<String>, AccountError> {
    let mut known = crate::requests::directory_units(conn)?;
    known.extend(crate::db::models::requests::units(conn)?);
    let mut wanted: Vec<String> = units
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Err(AccountError::Refused(
            "Give the viewer at least one business unit.".into(),
        ));
    }
    if let Some(unknown) = wanted.iter().find(|u| !known.contains(*u)) {
        let list: Vec<&str> = known.iter().map(String::as_str).collect();
        return Err(AccountError::Refused(format!(
            "'{unknown}' is not a business unit (known: {}).",
            if list.is_empty() {
                "none yet".to_string()
            } else {
                list.join(", ")
            }
        )));
    }
    Ok(wanted)
}

/// `(user id, business unit)` of every viewer's scope.
pub type Scopes = Vec<(String, String)>;

/// Every account (by email) and the viewers' business units, for the accounts page.
pub fn list_with_scopes(conn: &mut DbConn) -> diesel::QueryResult<(Vec<users::UserRow>, Scopes)> {
    Ok((
        users::list(conn)?,
        crate::db::models::user_scopes::all(conn)?,
    ))
}

/// Active lead accounts: who gets the "results are ready" mail.
pub fn active_leads(conn: &mut DbConn) -> diesel::QueryResult<usize> {
    Ok(users::list(conn)?
        .into_iter()
        .filter(|u| u.active && u.role == "lead")
        .count())
}
