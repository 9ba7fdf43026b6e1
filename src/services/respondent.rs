//! What the respondent form needs to know about a link: whose invitation (by token hash
//! only), which survey version, the wave's threshold, the respondent's language — or that
//! the link cannot be used, without saying why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::NaiveDateTime;

use crate::db::models::{invitations, survey_versions};
use crate::db::DbConn;
use crate::domain::definition::SurveyDefinition;
use crate::domain::token::TokenHash;

/// An invitation whose form can be shown and answered now.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    /// The invitation's answered mark: what a submission stores (never the invitation id).
    pub answered_mark: String,
    pub wave_id: String,
    pub cell: String,
    pub language: Option<String>,
    pub definition: Arc<SurveyDefinition>,
    pub anonymity_k: i32,
    pub closes_at: NaiveDateTime,
}

/// Parsed definitions by survey version id: versions never change, so they are parsed once.
#[derive(Default)]
pub struct DefinitionCache(Mutex<HashMap<String, Arc<SurveyDefinition>>>);

impl DefinitionCache {
    pub fn get(
        &self,
        conn: &mut DbConn,
        survey_version_id: &str,
    ) -> anyhow::Result<Arc<SurveyDefinition>> {
        if let Some(found) = self
            .0
            .lock()
            .ok()
            .and_then(|cache| cache.get(survey_version_id).cloned())
        {
            return Ok(found);
        }
        let row = survey_versions::find(conn, survey_version_id)?
            .context("the wave's survey version is missing")?;
        let definition: Arc<SurveyDefinition> = Arc::new(
            serde_json::from_str(&row.definition).context("a pinned definition does not parse")?,
        );
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(survey_version_id.to_string(), definition.clone());
        }
        Ok(definition)
    }
}

/// For a link that cannot show the form: the language of the person behind it if they
/// have answered already (their answer is stored) and the wave is still open, so they can
/// be told that it was received — e.g. when the connection broke before the thank-you
/// page. `None` for every other link (unknown, closed, cancelled).
pub fn answered_language(
    conn: &mut DbConn,
    key: &crate::config::SecretKey,
    token_hash: &TokenHash,
    now: NaiveDateTime,
) -> anyhow::Result<Option<String>> {
    let Some((invitation, wave)) =
        invitations::find_with_wave_by_token_hash(conn, token_hash.as_str())?
    else {
        return Ok(None);
    };
    if wave.state == "open"
        && wave.closes_at > now
        && invitations::has_answered_mark(
            conn,
            &wave.id,
            &crate::domain::token::answered_mark(key, &invitation.id),
        )?
    {
        Ok(Some(invitation.language.unwrap_or_default()))
    } else {
        Ok(None)
    }
}

/// `Some` only if the link belongs to an invitation that has not answered yet, of a wave that
/// is open and not past its closing time. Every other case — unknown, used, closed,
/// cancelled, not yet open — is `None`, and callers answer them all alike.
pub fn find_open_invitation(
    conn: &mut DbConn,
    cache: &DefinitionCache,
    key: &crate::config::SecretKey,
    token_hash: &TokenHash,
    now: NaiveDateTime,
) -> anyhow::Result<Option<OpenInvitation>> {
    match find_answerable(conn, cache, key, token_hash, now)? {
        Some(invitation) if !has_answered(conn, &invitation)? => Ok(Some(invitation)),
        _ => Ok(None),
    }
}

/// Whether the person behind `invitation` has answered already (its mark is stored).
pub fn has_answered(conn: &mut DbConn, invitation: &OpenInvitation) -> anyhow::Result<bool> {
    Ok(invitations::has_answered_mark(
        conn,
        &invitation.wave_id,
        &invitation.answered_mark,
    )?)
}

/// Like [`find_open_invitation`] but without looking up whether the link has been answered:
/// for a submission, whose writer inserts the answered mark unless it is there, in the
/// transaction that stores the answer (`services::responses`), and says `AlreadyAnswered`
/// otherwise. Checking the mark before as well would cost every answer a second query.
pub fn find_answerable(
    conn: &mut DbConn,
    cache: &DefinitionCache,
    key: &crate::config::SecretKey,
    token_hash: &TokenHash,
    now: NaiveDateTime,
) -> anyhow::Result<Option<OpenInvitation>> {
    match invitations::find_with_wave_by_token_hash(conn, token_hash.as_str())? {
        Some((invitation, wave)) => answerable(conn, cache, key, invitation, wave, now),
        None => Ok(None),
    }
}

/// [`find_answerable`] of an invitation and its wave as read: `None` unless the wave takes
/// answers now.
pub fn answerable(
    conn: &mut DbConn,
    cache: &DefinitionCache,
    key: &crate::config::SecretKey,
    invitation: invitations::InvitationRow,
    wave: crate::db::models::waves::WaveRow,
    now: NaiveDateTime,
) -> anyhow::Result<Option<OpenInvitation>> {
    if wave.state != "open" || wave.closes_at <= now {
        return Ok(None);
    }
    let answered_mark = crate::domain::token::answered_mark(key, &invitation.id);
    Ok(Some(OpenInvitation {
        definition: cache.get(conn, &wave.survey_version_id)?,
        answered_mark,
        wave_id: wave.id,
        // A pulse invitation's group is sealed until its period closes (`pulse`).
        cell: if invitation.response_cell.is_empty() {
            crate::domain::token::sealed_cell(key, &invitation.id)
        } else {
            invitation.response_cell
        },
        language: invitation.language,
        anonymity_k: wave.anonymity_k,
        closes_at: wave.closes_at,
    }))
}
