//! API keys for the request API: created by an admin (page or `pulse api-key create`), shown
//! once, stored only as the SHA-256 of the key, recognised by a short prefix, revocable.
//!
//! A key is `pulse_` followed by 43 URL-safe base64 characters (256 random bits). The
//! stored hash is unkeyed: with 256 random bits nothing can be guessed from it, and keys
//! keep working if the server's secret key changes. A presented key is looked up by its
//! hash, and the hashes are compared again in constant time.

use chrono::NaiveDateTime;

use super::tokens;
use crate::db::models::api_keys::{self as rows, ApiKeyRow};
use crate::db::DbConn;

/// What every key starts with, so that a leaked key is recognisable (secret scanners).
pub const KEY_PREFIX: &str = "pulse_";
/// Characters of the key kept as its non-secret prefix (`pulse_` and 6 more).
const SHOWN: usize = 12;
/// Longest name of a key.
const MAX_NAME: usize = 100;
/// A key's `last_used_at` is written at most once in this many seconds.
const TOUCH_SECONDS: i64 = 60;

/// A key as created: its row, and the key itself — to be shown once, never stored.
pub struct CreatedKey {
    pub row: ApiKeyRow,
    pub key: String,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("row", &self.row)
            .field("key", &"***")
            .finish()
    }
}

/// Why a key was not accepted or could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("{0}")]
    Invalid(String),
    #[error("no API key has the id or prefix '{0}': `pulse api-key list` shows them")]
    NotFound(String),
    #[error("more than one API key starts with '{0}': name it by its id (`pulse api-key list`)")]
    Ambiguous(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for ApiKeyError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Unexpected(error.into())
    }
}

/// Why a presented key does not open the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No key, or not a key of this server.
    Unknown,
    Revoked,
}

/// The hash under which a key is stored and looked up.
pub fn hash(key: &str) -> String {
    tokens::sha256_hex(key)
}

/// The name of a key, trimmed: 1 to 100 characters.
pub fn parse_name(raw: &str) -> Result<String, ApiKeyError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ApiKeyError::Invalid(
            "the key needs a name, e.g. the purchasing system that will use it".into(),
        ));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiKeyError::Invalid(format!(
            "the name must be at most {MAX_NAME} characters on one line"
        )));
    }
    Ok(name.to_string())
}

/// Creates a key named `name` by `created_by` (an admin's email, or "command line").
pub fn create(
    conn: &mut DbConn,
    name: &str,
    created_by: &str,
    now: NaiveDateTime,
) -> Result<CreatedKey, ApiKeyError> {
    let name = parse_name(name)?;
    let key = format!("{KEY_PREFIX}{}", tokens::random_token());
    let row = ApiKeyRow {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        prefix: key.chars().take(SHOWN).collect(),
        key_hash: hash(&key),
        created_by: created_by.to_string(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    rows::insert(conn, &row)?;
    Ok(CreatedKey { row, key })
}

pub fn list(conn: &mut DbConn) -> Result<Vec<ApiKeyRow>, ApiKeyError> {
    Ok(rows::list(conn)?)
}

/// The key with id `id_or_prefix`, or the one key with that prefix.
pub fn find(conn: &mut DbConn, id_or_prefix: &str) -> Result<ApiKeyRow, ApiKeyError> {
    let wanted = id_or_prefix.trim();
    if let Some(row) = rows::find(conn, wanted)? {
        return Ok(row);
    }
    let mut matches = rows::with_prefix(conn, wanted)?;
    match matches.len() {
        0 => Err(ApiKeyError::NotFound(wanted.to_string())),
        1 => Ok(matches.remove(0)),
        _ => Err(ApiKeyError::Ambiguous(wanted.to_string())),
    }
}

/// Revokes the key (by id or prefix): from now on it is refused. Returns the key and
/// whether it was still active.
pub fn revoke(
    conn: &mut DbConn,
    id_or_prefix: &str,
    now: NaiveDateTime,
) -> Result<(ApiKeyRow, bool), ApiKeyError> {
    let row = find(conn, id_or_prefix)?;
    let changed = rows::revoke(conn, &row.id, now)?;
    Ok((row, changed))
}

/// The key a request presents (`Authorization: Bearer KEY`), checked: its row, or why it is
/// refused. Records the use (at most once a minute per key).
pub fn authenticate(
    conn: &mut DbConn,
    presented: &str,
    now: NaiveDateTime,
) -> anyhow::Result<Result<ApiKeyRow, Refusal>> {
    if !presented.starts_with(KEY_PREFIX) {
        return Ok(Err(Refusal::Unknown));
    }
    let presented_hash = hash(presented);
    let Some(row) = rows::find_by_hash(conn, &presented_hash)? else {
        return Ok(Err(Refusal::Unknown));
    };
    if !tokens::same(&row.key_hash, &presented_hash) {
        return Ok(Err(Refusal::Unknown));
    }
    if row.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    if row
        .last_used_at
        .is_none_or(|t| (now - t).num_seconds() >= TOUCH_SECONDS)
    {
        rows::touch(
            conn,
            &row.id,
            now,
            now - chrono::Duration::seconds(TOUCH_SECONDS),
        )?;
    }
    Ok(Ok(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(parse_name("  ").is_err());
        assert!(parse_name(&"x".repeat(101)).is_err());
        assert_eq!(parse_name(" ERP ").unwrap(), "ERP");
    }

    #[test]
    fn the_hash_is_not_the_key() {
        let key = format!("{KEY_PREFIX}{}", tokens::random_token());
        assert_eq!(key.len(), KEY_PREFIX.len() + 43);
        assert_ne!(hash(&key), key);
        assert!(!hash(&key).contains(&key[KEY_PREFIX.len()..]));
    }
}
