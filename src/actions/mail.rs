//! The mails of closing the loop, composed by the outbox like every mail
//! (`outbox::compose` hands these kinds here): "what we heard" to the people invited to a
//! closed wave (`templates/email/what_we_heard/`, German in `de/`) and the owners' weekly
//! digest (`templates/email/owner_digest/`). "You said, we did" rides in the invitation
//! and reminder mails themselves ([`super::said_did`]).

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::digest::{self, OWNER_DIGEST};
use super::heard::{self, Summary, SNAPSHOTS, WHAT_WE_HEARD};
use crate::config::SecretKey;
use crate::db::models::actions as action_rows;
use crate::db::models::outbox::Claimed;
use crate::db::models::wave_summaries;
use crate::db::models::{invitations, opt_outs, stakeholders, users, waves};
use crate::db::DbConn;
use crate::domain::token::{LinkToken, TokenPurpose};
use crate::domain::EmailAddress;
use crate::email::{EmailTemplate, ListUnsubscribe, MailLanguage, MessageId, Recipient};
use crate::outbox::compose::Composed;
use crate::services::respondent::DefinitionCache;

/// Context of `email/what_we_heard` (German in `email/what_we_heard/de`).
#[derive(Debug, Clone, Serialize)]
pub struct WhatWeHeardEmail {
    /// The stakeholder's name; `None` gives a neutral greeting.
    pub name: Option<String>,
    /// The public summary page, `{base_url}/w/{token}?lang=…`.
    pub page_url: String,
    /// The personal opt-out page of the survey.
    pub unsubscribe_url: String,
    /// The figures and actions (see [`Summary`]).
    pub summary: Summary,
}

impl EmailTemplate for WhatWeHeardEmail {
    fn template_name(&self) -> &'static str {
        "what_we_heard"
    }
}

/// One action of an owner's digest.
#[derive(Debug, Clone, Serialize)]
pub struct DigestLine {
    pub title: String,
    pub survey: String,
    /// "Friday 14 March 2025".
    pub due_on: String,
    pub overdue: bool,
    /// "Planned", "In progress".
    pub status: String,
    /// The action's page.
    pub url: String,
}

/// Context of `email/owner_digest` (accounts have no language of their own: English).
#[derive(Debug, Clone, Serialize)]
pub struct OwnerDigestEmail {
    pub overdue: usize,
    pub due_soon: usize,
    pub days: i64,
    pub actions: Vec<DigestLine>,
}

impl EmailTemplate for OwnerDigestEmail {
    fn template_name(&self) -> &'static str {
        "owner_digest"
    }
}

/// Composes the mails of this module: `Some` for their kinds, `None` for every other kind
/// (the caller composes those).
pub fn compose(
    conn: &mut DbConn,
    key: &SecretKey,
    base_url: &str,
    definitions: &DefinitionCache,
    row: &Claimed,
) -> anyhow::Result<Option<Composed>> {
    match row.kind.as_str() {
        WHAT_WE_HEARD => what_we_heard(conn, key, base_url, definitions, row).map(Some),
        OWNER_DIGEST => owner_digest(conn, base_url, row).map(Some),
        _ => Ok(None),
    }
}

fn queued_at(conn: &mut DbConn, row: &Claimed) -> anyhow::Result<NaiveDateTime> {
    action_rows::queued_at(conn, &row.id)?.context("the outbox row is gone")
}

fn what_we_heard(
    conn: &mut DbConn,
    key: &SecretKey,
    base_url: &str,
    definitions: &DefinitionCache,
    row: &Claimed,
) -> anyhow::Result<Composed> {
    let wave_id = row
        .wave_id
        .as_deref()
        .context("a summary mail without a wave")?;
    let invitation_id = row
        .invitation_id
        .as_deref()
        .context("a summary mail without an invitation")?;
    let Some(summary_row) = wave_summaries::find_by_wave(conn, wave_id)? else {
        return Ok(Composed::Cancel("the summary is gone"));
    };
    if summary_row.revoked_at.is_some() {
        return Ok(Composed::Cancel("the summary's link was revoked"));
    }
    let wave = waves::find(conn, wave_id)?.context("the row's wave is gone")?;
    let definition = definitions.get(conn, &wave.survey_version_id)?;
    let invitation =
        invitations::find(conn, invitation_id)?.context("the row's invitation is gone")?;
    if opt_outs::is_opted_out(conn, &invitation.stakeholder_id, &definition.slug)? {
        return Ok(Composed::Cancel("opted out"));
    }
    let person =
        stakeholders::find(conn, &invitation.stakeholder_id)?.context("the stakeholder is gone")?;
    if !person.active {
        return Ok(Composed::Cancel("no longer in the directory"));
    }
    let language = MailLanguage::choose(
        invitation
            .language
            .as_deref()
            .or(person.language.as_deref()),
        Some(definition.default_language()),
    );
    let now = queued_at(conn, row)?;
    let summary = heard::build(conn, &SNAPSHOTS, wave_id, language, now)
        .map_err(|e| anyhow::anyhow!("the summary of wave {wave_id}: {e}"))?;
    let unsubscribe_url = format!(
        "{base_url}/u/{}?lang={}",
        LinkToken::derive(key, TokenPurpose::Unsubscribe, invitation_id).expose(),
        language.code()
    );
    let name = person.name.filter(|n| !n.trim().is_empty());
    let email = WhatWeHeardEmail {
        name: name.clone(),
        page_url: format!(
            "{base_url}/w/{}?lang={}",
            heard::link_token(key, &summary_row.id).expose(),
            language.code()
        ),
        unsubscribe_url: unsubscribe_url.clone(),
        summary,
    };
    let address = EmailAddress::parse(&row.recipient).map_err(anyhow::Error::msg)?;
    let message = email
        .render_in(
            language,
            Recipient::new(address, name.as_deref()),
            MessageId::for_outbox(&row.id, base_url)?,
        )?
        .with_list_unsubscribe(ListUnsubscribe::new(&unsubscribe_url, None)?);
    Ok(Composed::Send(Box::new(message)))
}

fn owner_digest(conn: &mut DbConn, base_url: &str, row: &Claimed) -> anyhow::Result<Composed> {
    let Some(user) = users::find_by_email(conn, &row.recipient)? else {
        return Ok(Composed::Cancel("the account is gone"));
    };
    if !user.active {
        return Ok(Composed::Cancel("the account is deactivated"));
    }
    let as_of = queued_at(conn, row)?;
    let today = as_of.date();
    let rows = action_rows::open_due_by(conn, digest::horizon(today), Some(&user.id))?;
    if rows.is_empty() {
        // Done (or moved) since the digest was queued: nothing to say.
        return Ok(Composed::Cancel("nothing is due any more"));
    }
    let views =
        super::views(conn, rows, as_of).map_err(|e| anyhow::anyhow!("the owner's actions: {e}"))?;
    let mut surveys = std::collections::HashMap::new();
    let mut actions = Vec::with_capacity(views.len());
    for action in views {
        if !surveys.contains_key(&action.survey_slug) {
            let title = super::survey_title(conn, &action.survey_slug)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .unwrap_or_else(|| action.survey_slug.clone());
            surveys.insert(action.survey_slug.clone(), title);
        }
        actions.push(DigestLine {
            survey: surveys
                .get(&action.survey_slug)
                .cloned()
                .unwrap_or_default(),
            due_on: MailLanguage::En.format_date(action.due_on),
            overdue: action.due_on < today,
            status: action.status.label().to_string(),
            url: format!("{base_url}/admin/actions/{}", action.id),
            title: action.title,
        });
    }
    let email = OwnerDigestEmail {
        overdue: actions.iter().filter(|a| a.overdue).count(),
        due_soon: actions.iter().filter(|a| !a.overdue).count(),
        days: digest::DUE_WITHIN_DAYS,
        actions,
    };
    let address = EmailAddress::parse(&row.recipient).map_err(anyhow::Error::msg)?;
    let message = email.render(
        Recipient::new(address, None),
        MessageId::for_outbox(&row.id, base_url)?,
    )?;
    Ok(Composed::Send(Box::new(message)))
}
