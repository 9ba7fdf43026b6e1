//! Turns a claimed outbox row into the email to send, or into a reason not to send it any
//! more (the stakeholder answered, opted out, or the wave is no longer open). Reads only.

use anyhow::Context;

use crate::config::SecretKey;
use crate::db::models::outbox::Claimed;
use crate::db::models::{invitations, opt_outs, stakeholders, waves};
use crate::db::DbConn;
use crate::domain::token::{LinkToken, TokenPurpose};
use crate::domain::EmailAddress;
use crate::email::{
    format_date, EmailMessage, EmailTemplate, ListUnsubscribe, MessageId, Recipient,
    ResultsReadyEmail, ResultsTooSmallEmail, SurveyEmail, SurveyEmailKind,
};

pub enum Composed {
    Send(Box<EmailMessage>),
    /// Not wanted any more; the reason is stored on the row.
    Cancel(&'static str),
}

pub fn compose(
    conn: &mut DbConn,
    key: &SecretKey,
    base_url: &str,
    row: &Claimed,
) -> anyhow::Result<Composed> {
    let wave_id = row
        .wave_id
        .as_deref()
        .context("outbox row without a wave")?;
    let wave = waves::find_with_survey(conn, wave_id)?.context("the row's wave is gone")?;
    let address = EmailAddress::parse(&row.recipient).map_err(anyhow::Error::msg)?;
    let message_id = MessageId::for_outbox(&row.id, base_url)?;
    if row.kind == "results_ready" {
        let (_, responded) = invitations::counts(conn, wave_id)?;
        if responded < i64::from(wave.wave.anonymity_k) {
            // Nothing can be shown: tell the lead why instead of "results are ready".
            let email = ResultsTooSmallEmail {
                name: None,
                wave_title: format!("{} — {}", wave.survey_title, wave.wave.title),
                wave_url: format!("{base_url}/admin/waves/{wave_id}"),
                response_count: u64::try_from(responded).unwrap_or(0),
                k: u32::try_from(wave.wave.anonymity_k).unwrap_or(5),
                closed_on: format_date(wave.wave.closed_at.unwrap_or(wave.wave.closes_at).date()),
            };
            return Ok(Composed::Send(Box::new(
                email.render(Recipient::new(address, None), message_id)?,
            )));
        }
        let email = ResultsReadyEmail {
            name: None,
            wave_title: format!("{} — {}", wave.survey_title, wave.wave.title),
            results_url: format!("{base_url}/admin/waves/{wave_id}/results"),
            response_count: u64::try_from(responded).unwrap_or(0),
            closed_on: format_date(wave.wave.closed_at.unwrap_or(wave.wave.closes_at).date()),
        };
        return Ok(Composed::Send(Box::new(
            email.render(Recipient::new(address, None), message_id)?,
        )));
    }
    if wave.wave.state != "open" {
        return Ok(Composed::Cancel("the wave is no longer open"));
    }
    let invitation_id = row
        .invitation_id
        .as_deref()
        .context("survey mail without an invitation")?;
    let invitation =
        invitations::find(conn, invitation_id)?.context("the row's invitation is gone")?;
    if invitation.responded {
        return Ok(Composed::Cancel("already answered"));
    }
    if opt_outs::is_opted_out(conn, &invitation.stakeholder_id, &wave.survey_slug)? {
        return Ok(Composed::Cancel("opted out"));
    }
    let person =
        stakeholders::find(conn, &invitation.stakeholder_id)?.context("the stakeholder is gone")?;
    let name = person.name.filter(|n| !n.trim().is_empty());
    let estimated_minutes = wave.parsed_definition()?.estimated_minutes.unwrap_or(2);
    let unsubscribe_url = format!(
        "{base_url}/u/{}",
        LinkToken::derive(key, TokenPurpose::Unsubscribe, invitation_id).expose()
    );
    let email = SurveyEmail {
        kind: if row.kind == "reminder" {
            SurveyEmailKind::Reminder
        } else {
            SurveyEmailKind::Invitation
        },
        name: name.clone(),
        survey_title: wave.survey_title,
        survey_url: format!(
            "{base_url}/s/{}",
            LinkToken::derive(key, TokenPurpose::Survey, invitation_id).expose()
        ),
        unsubscribe_url: unsubscribe_url.clone(),
        closes_on: format_date(wave.wave.closes_at.date()),
        estimated_minutes,
        k: u32::try_from(wave.wave.anonymity_k).unwrap_or(5),
    };
    let message = email
        .render(Recipient::new(address, name.as_deref()), message_id)?
        .with_list_unsubscribe(ListUnsubscribe::new(&unsubscribe_url, None)?);
    Ok(Composed::Send(Box::new(message)))
}
