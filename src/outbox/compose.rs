//! Turns claimed outbox rows into the emails to send, or into reasons not to send them any
//! more (opted out, or the wave is no longer open). Reads only.
//!
//! Rows come in batches (a claim): [`Composer::compose_batch`] reads what the whole batch
//! needs in a few queries ([`Batch`]: the waves, the invitations with their stakeholders,
//! the opt-outs, the answered marks), then composes each row from it; the templates are
//! rendered once per wave, kind and language ([`RenderCache`]) and each recipient's name
//! and links filled in.
//!
//! Whether the stakeholder answered is decided here, at sending, with the key (see
//! `domain::token::answered_mark`) — never when a row is queued: reminders are queued
//! for everyone, and one to someone who answered is [`Composed::Skip`]ped, which marks the
//! row sent like any other, so the outbox does not tell respondents from the others. An
//! invitation (a resend) to someone who answered becomes the "your answer is in" mail.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use anyhow::Context;

use crate::actions::said_did::SaidDid;
use crate::config::SecretKey;
use crate::db::models::invitations::MailInvitation;
use crate::db::models::outbox::Claimed;
use crate::db::models::waves::WaveRow;
use crate::db::models::{invitations, opt_outs, outbox, waves};
use crate::db::DbConn;
use crate::domain::definition::SurveyDefinition;
use crate::domain::token::{answered_mark, LinkToken, TokenPurpose};
use crate::domain::EmailAddress;
use crate::email::{
    AnsweredEmail, EmailMessage, EmailTemplate, FirstQuestion, ListUnsubscribe, MailLanguage,
    MessageId, Recipient, RenderCache, ResultsReadyEmail, ResultsTooSmallEmail, SurveyEmail,
    SurveyEmailKind,
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

/// What composing needs besides the rows, kept for the life of the worker: the key (links,
/// answered marks), the base URL, and the caches — each pinned definition parsed once (they
/// never change) and each template rendered once per wave, kind and language.
pub struct Composer {
    key: SecretKey,
    base_url: String,
    definitions: DefinitionCache,
    renders: RenderCache,
}

/// What a batch of rows needs from the database, read in a few queries.
#[derive(Default)]
pub struct Batch {
    waves: HashMap<String, WaveRow>,
    /// By invitation id.
    invitations: HashMap<String, MailInvitation>,
    /// `(stakeholder id, survey slug)` of the opt-outs among the batch.
    opted_out: HashSet<(String, String)>,
    /// The answered marks among the batch's invitations.
    answered: HashSet<String>,
    /// "You said, we did" by wave and language, read at the first mail that needs it.
    said_did: RefCell<HashMap<(String, &'static str), Vec<SaidDid>>>,
}

impl Batch {
    fn read(
        conn: &mut DbConn,
        key: &SecretKey,
        definitions: &DefinitionCache,
        rows: &[Claimed],
    ) -> anyhow::Result<Self> {
        let mut batch = Self::default();
        let wave_ids: HashSet<&str> = rows.iter().filter_map(|r| r.wave_id.as_deref()).collect();
        for wave_id in wave_ids {
            if let Some(wave) = waves::find(conn, wave_id)? {
                batch.waves.insert(wave.id.clone(), wave);
            }
        }
        let invitation_ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.kind != "results_ready")
            .filter_map(|r| r.invitation_id.as_deref())
            .collect();
        if invitation_ids.is_empty() {
            return Ok(batch);
        }
        for invitation in invitations::find_for_mail(conn, &invitation_ids)? {
            batch.invitations.insert(invitation.id.clone(), invitation);
        }
        // Opt-outs are per survey: one query per survey among the batch's waves.
        let mut slugs: HashMap<&str, String> = HashMap::new();
        for wave in batch.waves.values() {
            let slug = definitions.get(conn, &wave.survey_version_id)?.slug.clone();
            slugs.insert(&wave.id, slug);
        }
        let mut by_survey: HashMap<&str, Vec<&str>> = HashMap::new();
        for invitation in batch.invitations.values() {
            if let Some(slug) = slugs.get(invitation.wave_id.as_str()) {
                by_survey
                    .entry(slug)
                    .or_default()
                    .push(&invitation.stakeholder_id);
            }
        }
        let mut opted_out = HashSet::new();
        for (slug, stakeholders) in by_survey {
            for id in opt_outs::opted_out_among(conn, &stakeholders, slug)? {
                opted_out.insert((id, slug.to_string()));
            }
        }
        batch.opted_out = opted_out;
        let marks: Vec<(String, String)> = batch
            .invitations
            .values()
            .map(|i| (i.wave_id.clone(), answered_mark(key, &i.id)))
            .collect();
        batch.answered = invitations::answered_marks_among(conn, &marks)?;
        Ok(batch)
    }
}

impl Batch {
    fn said_did_for(
        &self,
        conn: &mut DbConn,
        wave: &WaveRow,
        definition: &SurveyDefinition,
        language: MailLanguage,
    ) -> diesel::QueryResult<Vec<SaidDid>> {
        let key = (wave.id.clone(), language.code());
        if let Some(found) = self.said_did.borrow().get(&key) {
            return Ok(found.clone());
        }
        let found = crate::actions::said_did::for_wave(
            conn,
            &definition.slug,
            wave.opens_at,
            definition,
            language.code(),
        )?;
        self.said_did.borrow_mut().insert(key, found.clone());
        Ok(found)
    }
}

impl Composer {
    pub fn new(key: SecretKey, base_url: &str) -> Self {
        Self {
            key,
            base_url: base_url.to_string(),
            definitions: DefinitionCache::default(),
            renders: RenderCache::default(),
        }
    }

    /// Composes a batch of claimed rows (the result of each, in order).
    pub fn compose_batch(
        &self,
        conn: &mut DbConn,
        rows: &[Claimed],
    ) -> Vec<anyhow::Result<Composed>> {
        match Batch::read(conn, &self.key, &self.definitions, rows) {
            Ok(batch) => rows
                .iter()
                .map(|row| self.compose(conn, &batch, row))
                .collect(),
            Err(error) => rows
                .iter()
                .map(|_| Err(anyhow::anyhow!("reading the batch: {error:#}")))
                .collect(),
        }
    }

    /// One row, from what `batch` read (and the database for the rare cases: results
    /// mails, a resend to someone who answered).
    fn compose(&self, conn: &mut DbConn, batch: &Batch, row: &Claimed) -> anyhow::Result<Composed> {
        let (key, base_url) = (&self.key, self.base_url.as_str());
        // "What we heard" and the owners' digest are composed by the actions module.
        if let Some(composed) =
            crate::actions::mail::compose(conn, key, base_url, &self.definitions, row)?
        {
            return Ok(composed);
        }
        let wave_id = row
            .wave_id
            .as_deref()
            .context("outbox row without a wave")?;
        let wave = batch.waves.get(wave_id).context("the row's wave is gone")?;
        let address = EmailAddress::parse(&row.recipient).map_err(anyhow::Error::msg)?;
        let message_id = MessageId::for_outbox(&row.id, base_url)?;
        let definition = self.definitions.get(conn, &wave.survey_version_id)?;
        if row.kind == "results_ready" {
            // Accounts have no language of their own: the survey's default language.
            let language = MailLanguage::choose(None, Some(definition.default_language()));
            let responded =
                crate::services::results::respondents_count(conn, wave_id, &wave.state)?;
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
                    closed_on: language
                        .format_date(wave.closed_at.unwrap_or(wave.closes_at).date()),
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
        let invitation = batch
            .invitations
            .get(invitation_id)
            .context("the row's invitation is gone")?;
        if batch
            .opted_out
            .contains(&(invitation.stakeholder_id.clone(), definition.slug.clone()))
        {
            return Ok(Composed::Cancel("opted out"));
        }
        let answered = batch.answered.contains(&answered_mark(key, invitation_id));
        // A reminder, or the first invitation (answered through a link resent meanwhile), to
        // someone who answered is skipped; a resend gets the "your answer is in" mail.
        if answered
            && (row.kind == "reminder"
                || !outbox::invitation_sent_before(conn, invitation_id, &row.id)?)
        {
            return Ok(Composed::Skip);
        }
        let name = invitation.name.clone().filter(|n| !n.trim().is_empty());
        let estimated_minutes = definition.estimated_minutes.unwrap_or(2);
        // The stakeholder's language (as at invitation time), else the survey's default.
        let language = MailLanguage::choose(
            invitation
                .language
                .as_deref()
                .or(invitation.stakeholder_language.as_deref()),
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
            let message = self
                .renders
                .render(
                    &email,
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
            you_said_we_did: batch.said_did_for(conn, wave, &definition, language)?,
            // The first question as eleven score buttons, when it is an NPS question.
            first_question: FirstQuestion::of(&definition, language),
        };
        let message = self
            .renders
            .render(
                &email,
                language,
                Recipient::new(address, name.as_deref()),
                message_id,
            )?
            .with_list_unsubscribe(ListUnsubscribe::new(&unsubscribe_url, None)?);
        Ok(Composed::Send(Box::new(message)))
    }
}
