//! Turns a claimed outbox row into the email to send, or into a reason not to send it any
//! more (opted out, or the wave is no longer open). Reads only.
//!
//! Whether the stakeholder answered is decided here, at sending, with the key (see
//! `domain::token::answered_mark`) — never when a row is queued: reminders are queued
//! for everyone, and one to someone who answered is [`Composed::Skip`]ped, which marks the
//! row sent like any other, so the outbox does not tell respondents from the others. An
//! invitation (a resend) to someone who answered becomes the "your answer is in" mail.

use anyhow::Context;

use crate::config::SecretKey;
use crate::db::models::outbox::Claimed;
use crate::db::models::{invitations, opt_outs, outbox, stakeholders, waves};
use crate::db::DbConn;
use crate::domain::token::{answered_mark, LinkToken, TokenPurpose};
use crate::domain::EmailAddress;
use crate::email::{
    AnsweredEmail, EmailMessage, EmailTemplate, ListUnsubscribe, MailLanguage, MessageId,
    Recipient, ResultsReadyEmail, ResultsTooSmallEmail, SurveyEmail, SurveyEmailKind,
};
use crate::services::respondent::DefinitionCache;

pub enum Composed {
    Send(Box<EmailMessage>),
    /// Nothing to send (a reminder to someone who answered), recorded exactly like a
    /// sent mail.
    Skip,
    /// Not wanted any more; the reason is stored on the row.
    Cancel(&'static str),
}

/// `definitions` keeps each pinned definition parsed (they never change), so a wave of
/// 10,000 mails reads and parses its definition once.
pub fn compose(
    conn: &mut DbConn,
    key: &SecretKey,
    base_url: &str,
    definitions: &DefinitionCache,
    row: &Claimed,
) -> anyhow::Result<Composed> {
    // "What we heard" and the owners' digest are composed by the actions module.
    if let Some(composed) = crate::actions::mail::compose(conn, key, base_url, definitions, row)? {
        return Ok(composed);
    }
    let wave_id = row
        .wave_id
        .as_deref()
        .context("outbox row without a wave")?;
    let wave = waves::find(conn, wave_id)?.context("the row's wave is gone")?;
    let address = EmailAddress::parse(&row.recipient).map_err(anyhow::Error::msg)?;
    let message_id = MessageId::for_outbox(&row.id, base_url)?;
    let definition = definitions.get(conn, &wave.survey_version_id)?;
    if row.kind == "results_ready" {
        // Accounts have no language of their own: the survey's default language.
        let language = MailLanguage::choose(None, Some(definition.default_language()));
        let responded = crate::services::results::respondents_count(conn, wave_id, &wave.state)?;
        let survey_title = definition
            .title
            .get(language.code(), definition.default_language());
        if responded < u64::try_from(wave.anonymity_k).unwrap_or(5) {
            // Nothing can be shown: tell the lead why instead of "results are ready".
            let email = ResultsTooSmallEmail {
                name: None,
                wave_title: format!("{survey_title} — {}", wave.title),
                wave_url: format!("{base_url}/admin/waves/{wave_id}"),
                response_count: responded,
                k: u32::try_from(wave.anonymity_k).unwrap_or(5),
                closed_on: language.format_date(wave.closed_at.unwrap_or(wave.closes_at).date()),
            };
            return Ok(Composed::Send(Box::new(email.render_in(
                language,
                Recipient::new(address, None),
                message_id,
            )?)));
        }
        let email = ResultsReadyEmail {
            name: None,
            wave_title: format!("{survey_title} — {}", wave.title),
            results_url: format!("{base_url}/admin/waves/{wave_id}/results"),
            response_count: responded,
            closed_on: language.format_date(wave.closed_at.unwrap_or(wave.closes_at).date()),
        };
        return Ok(Composed::Send(Box::new(email.render_in(
            language,
            Recipient::new(address, None),
            message_id,
        )?)));
    }
    if wave.state != "open" {
        return Ok(Composed::Cancel("the wave is no longer open"));
    }
    let invitation_id = row
        .invitation_id
        .as_deref()
        .context("survey mail without an invitation")?;
    let invitation =
        invitations::find(conn, invitation_id)?.context("the row's invitation is gone")?;
    if opt_outs::is_opted_out(conn, &invitation.stakeholder_id, &definition.slug)? {
        return Ok(Composed::Cancel("opted out"));
    }
    let answered = invitations::has_answered_mark(conn, &answered_mark(key, invitation_id))?;
    // A reminder, or the first invitation (answered through a link resent meanwhile), to
    // someone who answered is skipped; a resend gets the "your answer is in" mail.
    if answered
        && (row.kind == "reminder"
            || !outbox::invitation_sent_before(conn, invitation_id, &row.id)?)
    {
        return Ok(Composed::Skip);
    }
    let person =
        stakeholders::find(conn, &invitation.stakeholder_id)?.context("the stakeholder is gone")?;
    let name = person.name.filter(|n| !n.trim().is_empty());
    let estimated_minutes = definition.estimated_minutes.unwrap_or(2);
    // The stakeholder's language (as at invitation time), else the survey's default.
    let language = MailLanguage::choose(
        invitation
            .language
            .as_deref()
            .or(person.language.as_deref()),
        Some(definition.default_language()),
    );
    // The survey's title in that language if the definition has it.
    let survey_title = definition
        .title
        .get(language.code(), definition.default_language())
        .to_string();
    // `?lang=`: the opt-out page speaks the mail's language without looking the token up.
    let unsubscribe_url = format!(
        "{base_url}/u/{}?lang={}",
        LinkToken::derive(key, TokenPurpose::Unsubscribe, invitation_id).expose(),
        language.code()
    );
    let k = u32::try_from(wave.anonymity_k).unwrap_or(5);
    if answered {
        let email = AnsweredEmail {
            name: name.clone(),
            survey_title,
            unsubscribe_url: unsubscribe_url.clone(),
            closes_on: language.format_date(wave.closes_at.date()),
            k,
        };
        let message = email
            .render_in(
                language,
                Recipient::new(address, name.as_deref()),
                message_id,
            )?
            .with_list_unsubscribe(ListUnsubscribe::new(&unsubscribe_url, None)?);
        return Ok(Composed::Send(Box::new(message)));
    }
    let email = SurveyEmail {
        kind: if row.kind == "reminder" {
            SurveyEmailKind::Reminder
        } else {
            SurveyEmailKind::Invitation
        },
        name: name.clone(),
        survey_title,
        survey_url: format!(
            "{base_url}/s/{}",
            LinkToken::derive(key, TokenPurpose::Survey, invitation_id).expose()
        ),
        unsubscribe_url: unsubscribe_url.clone(),
        closes_on: language.format_date(wave.closes_at.date()),
        estimated_minutes,
        k,
        // Up to three published actions of the survey's earlier waves.
        you_said_we_did: crate::actions::said_did::for_wave(
            conn,
            &definition.slug,
            wave.opens_at,
            &definition,
            language.code(),
        )?,
    };
    let message = email
        .render_in(
            language,
            Recipient::new(address, name.as_deref()),
            message_id,
        )?
        .with_list_unsubscribe(ListUnsubscribe::new(&unsubscribe_url, None)?);
    Ok(Composed::Send(Box::new(message)))
}
