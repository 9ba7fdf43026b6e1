//! Waves: schedule, open (invitations + outbox in one transaction), remind, close, cancel,
//! resend, and the progress figures of the wave page and `pulse wave show`.
//!
//! Every transition starts with a conditional UPDATE on the wave row (scheduled → open,
//! open → closed, reminder round n → n+1), so of several processes racing on one database
//! exactly one does the work and the others see nothing to do.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::config::SecretKey;
use crate::db::models::results as results_rows;
use crate::db::models::{
    invitations, opt_outs, outbox, stakeholders, survey_versions, users, waves,
};
use crate::db::{self, DbConn};
use crate::domain::audience::AudienceFilter;
use crate::domain::schedule::{offsets_from_json, offsets_to_json};
use crate::domain::stakeholder::Attributes;
use crate::domain::token::{LinkToken, TokenPurpose};
use crate::domain::wave::{FieldError, WaveInput, WavePlan};

#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    #[error("{}", crate::domain::wave::describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("no wave with id {0} (see `pulse wave list`)")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for WaveError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

/// Creates a scheduled wave pinned to the latest loaded version of the survey.
pub fn schedule_wave(
    conn: &mut DbConn,
    input: &WaveInput,
    now: NaiveDateTime,
) -> Result<waves::WaveRow, WaveError> {
    schedule_wave_in(conn, input, now, crate::domain::schedule::Tz::UTC)
}

/// [`schedule_wave`], with dates without an offset read in the organisation's time zone.
pub fn schedule_wave_in(
    conn: &mut DbConn,
    input: &WaveInput,
    now: NaiveDateTime,
    tz: crate::domain::schedule::Tz,
) -> Result<waves::WaveRow, WaveError> {
    let plan = WavePlan::parse(input, now, tz).map_err(WaveError::Invalid)?;
    let wave = create_wave(conn, &plan, None, now)?;
    if input.outside_trend {
        waves::set_outside_trend(conn, &wave.id, true, now)?;
    }
    Ok(wave)
}

/// Inserts the wave of a parsed plan (also used by schedules).
pub fn create_wave(
    conn: &mut DbConn,
    plan: &WavePlan,
    schedule_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<waves::WaveRow, WaveError> {
    let Some(version) = survey_versions::latest(conn, &plan.survey_slug)? else {
        return Err(WaveError::Invalid(vec![FieldError::new(
            "survey",
            format!(
                "no survey '{}' is loaded: run `pulse survey load` (see `pulse survey list`)",
                plan.survey_slug
            ),
        )]));
    };
    let row = waves::WaveRow {
        id: uuid::Uuid::new_v4().to_string(),
        survey_version_id: version.id,
        schedule_id: schedule_id.map(str::to_string),
        title: plan.title.clone(),
        audience: plan.audience.as_ref().map(|a| a.to_string()),
        opens_at: plan.opens_at,
        closes_at: plan.closes_at,
        reminder_hours: offsets_to_json(&plan.reminders),
        anonymity_k: plan.anonymity_k,
        state: "scheduled".into(),
        invited_count: 0,
        skipped_count: 0,
        reminders_enqueued: 0,
        opened_at: None,
        closed_at: None,
        created_at: now,
    };
    waves::insert(conn, &row)?;
    Ok(row)
}

/// What opening a wave did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenReport {
    pub invited: usize,
    pub skipped_opted_out: usize,
    pub skipped_suppressed: usize,
}

/// Opens a scheduled wave: in ONE transaction, the state change, an invitation per
/// audience member (with a frozen copy of the segment attributes the survey reports by)
/// and an outbox row each. `None` when the wave was not scheduled any more (someone else
/// opened or cancelled it).
pub fn open_wave(
    conn: &mut DbConn,
    key: &SecretKey,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<Option<OpenReport>, WaveError> {
    db::bulk_write_transaction(conn, |conn| {
        if !waves::mark_open(conn, wave_id, now)? {
            return Ok(None);
        }
        let wave = waves::find_with_survey(conn, wave_id)?
            .ok_or_else(|| WaveError::NotFound(wave_id.to_string()))?;
        let audience = match &wave.wave.audience {
            Some(raw) => AudienceFilter::parse(raw)
                .map_err(|e| anyhow::anyhow!("stored audience of wave {wave_id}: {e}"))?,
            None => AudienceFilter::everyone(),
        };
        let segments = wave.parsed_definition()?.segments;
        let opted_out = opt_outs::opted_out_of(conn, &wave.survey_slug)?;
        let suppressed = opt_outs::suppressed_emails(conn)?;
        let mut report = OpenReport::default();
        let mut new_invitations = Vec::new();
        let mut mails = Vec::new();
        for (id, email, language, attributes) in stakeholders::list_invitees(conn)? {
            let attributes = Attributes::from_json(&attributes).unwrap_or_default();
            if !audience.matches(&attributes) {
                continue;
            }
            if opted_out.contains(&id) {
                report.skipped_opted_out += 1;
                continue;
            }
            if suppressed.contains(&email) {
                report.skipped_suppressed += 1;
                continue;
            }
            // Time-ordered (v7): a wave's invitations and their mails append to the end of
            // their indexes instead of landing on random pages. The id is no secret (the
            // links are keyed hashes of it) and links to no response.
            let invitation_id = uuid::Uuid::now_v7().to_string();
            let segment: BTreeMap<&str, &str> = attributes
                .iter()
                .filter(|(k, _)| segments.iter().any(|s| s == k))
                .collect();
            let (invitation, mail) = invitation_with_mail(
                key,
                invitation_id,
                wave_id,
                Invitee {
                    id: &id,
                    email: &email,
                    language: language.as_deref(),
                },
                &segment,
                now,
            )?;
            new_invitations.push(invitation);
            mails.push(mail);
        }
        report.invited = new_invitations.len();
        // Each response is stored under its segment only down to a group of at least k
        // invitees (the response cell), so it has at least k possible authors even for
        // someone who reads the invitations (see `anonymity::cells`).
        let k = crate::anonymity::Threshold::try_from(wave.wave.anonymity_k)
            .map_err(|e| anyhow::anyhow!("wave {wave_id}: {e}"))?;
        let mut counted: HashMap<&str, u64> = HashMap::new();
        for invitation in &new_invitations {
            *counted.entry(invitation.segment.as_str()).or_default() += 1;
        }
        let full: BTreeMap<String, u64> = counted
            .into_iter()
            .map(|(segment, n)| (segment.to_string(), n))
            .collect();
        let coarse = response_cells(&segments, &full, k)?;
        for invitation in &mut new_invitations {
            invitation.response_cell = coarse
                .get(&invitation.segment)
                .cloned()
                .unwrap_or_else(|| invitation.segment.clone());
        }
        invitations::insert_all(conn, &new_invitations)?;
        let per_segment: BTreeMap<String, i64> = full
            .iter()
            .map(|(segment, n)| (segment.clone(), i64::try_from(*n).unwrap_or(i64::MAX)))
            .collect();
        results_rows::add_invited_per_segment(conn, wave_id, &per_segment)?;
        // Invited per response cell: the cells results are computed over.
        let mut per_cell: BTreeMap<&str, i64> = BTreeMap::new();
        for invitation in &new_invitations {
            *per_cell
                .entry(invitation.response_cell.as_str())
                .or_default() += 1;
        }
        let per_cell: Vec<(String, i64)> = per_cell
            .into_iter()
            .map(|(cell, n)| (cell.to_string(), n))
            .collect();
        results_rows::insert_invited_per_cell(conn, wave_id, &per_cell)?;
        outbox::enqueue_new(conn, &mails)?;
        let skipped = report.skipped_opted_out + report.skipped_suppressed;
        waves::set_counts(conn, wave_id, to_i32(report.invited), to_i32(skipped))?;
        tracing::info!(
            wave = wave_id,
            invited = report.invited,
            skipped,
            "wave opened"
        );
        Ok(Some(report))
    })
}

/// Who an invitation is for.
pub(crate) struct Invitee<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub language: Option<&'a str>,
}

/// An invitation (its links' keyed hashes, its frozen segment; the response cell left for
/// the caller to set) and the outbox row of its mail.
pub(crate) fn invitation_with_mail(
    key: &SecretKey,
    invitation_id: String,
    wave_id: &str,
    invitee: Invitee<'_>,
    segment: &BTreeMap<&str, &str>,
    now: NaiveDateTime,
) -> anyhow::Result<(invitations::InvitationRow, outbox::OutboxRow)> {
    let mail = outbox::OutboxRow::pending(
        "invitation",
        format!("invitation:{invitation_id}"),
        invitee.email,
        Some(wave_id),
        Some(&invitation_id),
        now,
    );
    let invitation = invitations::InvitationRow {
        token_hash: LinkToken::derive(key, TokenPurpose::Survey, &invitation_id)
            .hash()
            .as_str()
            .to_string(),
        unsubscribe_hash: LinkToken::derive(key, TokenPurpose::Unsubscribe, &invitation_id)
            .hash()
            .as_str()
            .to_string(),
        id: invitation_id,
        wave_id: wave_id.to_string(),
        stakeholder_id: invitee.id.to_string(),
        segment: serde_json::to_string(segment).context("segment to JSON")?,
        language: invitee.language.map(str::to_string),
        created_at: now,
        response_cell: String::new(),
    };
    Ok((invitation, mail))
}

/// Full segment cell (canonical JSON) → the response cell it is stored under.
pub(crate) fn response_cells(
    segments: &[String],
    full: &BTreeMap<String, u64>,
    k: crate::anonymity::Threshold,
) -> anyhow::Result<BTreeMap<String, String>> {
    let parsed: Vec<(crate::anonymity::cells::Cell, u64)> = full
        .iter()
        .map(|(cell, n)| {
            serde_json::from_str(cell)
                .map(|c| (c, *n))
                .context("a stored segment is not JSON")
        })
        .collect::<anyhow::Result<_>>()?;
    let stored = crate::anonymity::cells::response_cells(segments, &parsed, k);
    full.keys()
        .zip(stored)
        .map(|(cell, coarse)| {
            Ok((
                cell.clone(),
                serde_json::to_string(&coarse).context("segment to JSON")?,
            ))
        })
        .collect()
}

/// Coarsens the cells of an open wave opened before response cells existed (at start,
/// after the migrations): invitations, responses, counts and invitations per cell move
/// to groups of at least k invitees. Nothing changes when they are coarse already.
pub fn coarsen_open_wave(conn: &mut DbConn, wave: &waves::WaveRow) -> anyhow::Result<()> {
    use crate::db::models::responses as response_rows;
    let k = crate::anonymity::Threshold::try_from(wave.anonymity_k)
        .map_err(|e| anyhow::anyhow!("wave {}: {e}", wave.id))?;
    let segments = waves::find_with_survey(conn, &wave.id)?
        .context("the wave disappeared")?
        .parsed_definition()?
        .segments;
    let full: BTreeMap<String, u64> = results_rows::invited_per_cell(conn, &wave.id)?
        .into_iter()
        .map(|(cell, n)| (cell, u64::try_from(n).unwrap_or(0)))
        .collect();
    let coarse = response_cells(&segments, &full, k)?;
    if coarse.iter().all(|(from, to)| from == to) {
        return Ok(());
    }
    let counts = response_rows::counts_for_wave(conn, &wave.id)?;
    for (from, to) in coarse.iter().filter(|(from, to)| from != to) {
        invitations::move_cell(conn, &wave.id, from, to)?;
        response_rows::move_cell(conn, &wave.id, from, to)?;
    }
    // Added up per target key first: one multi-row upsert may not touch a row twice.
    let mut moved: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for row in counts {
        if let Some(to) = coarse.get(&row.cell).filter(|to| **to != row.cell) {
            *moved
                .entry((to.clone(), row.question_key, row.value))
                .or_default() += row.n;
        }
    }
    let moved: Vec<response_rows::CountRow> = moved
        .into_iter()
        .map(|((cell, question_key, value), n)| response_rows::CountRow {
            wave_id: wave.id.clone(),
            cell,
            question_key,
            value,
            n,
        })
        .collect();
    for (from, to) in &coarse {
        if from != to {
            response_rows::delete_counts_of_cell(conn, &wave.id, from)?;
        }
    }
    response_rows::add_counts(conn, &moved)?;
    let mut per_cell: BTreeMap<String, i64> = BTreeMap::new();
    for (from, n) in &full {
        let to = coarse.get(from).unwrap_or(from);
        *per_cell.entry(to.clone()).or_default() += i64::try_from(*n).unwrap_or(i64::MAX);
    }
    results_rows::delete_invited_per_cell(conn, &wave.id)?;
    results_rows::insert_invited_per_cell(
        conn,
        &wave.id,
        &per_cell.into_iter().collect::<Vec<_>>(),
    )?;
    tracing::info!(wave = %wave.id, "open wave's cells coarsened to groups of at least k invitees");
    Ok(())
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Enqueues the reminder round that is due for an open wave, if any: only to
/// stakeholders who have not answered, are still active, have not opted out and whose
/// address is not suppressed. If several rounds are due at once (the scheduler was down),
/// one reminder goes out, not several. Returns how many reminders were enqueued.
pub fn enqueue_due_reminders(
    conn: &mut DbConn,
    wave: &waves::WaveRow,
    now: NaiveDateTime,
) -> Result<usize, WaveError> {
    let Some(opened_at) = wave.opened_at else {
        return Ok(0);
    };
    if now >= wave.closes_at {
        return Ok(0);
    }
    let offsets = offsets_from_json(&wave.reminder_hours);
    let due_rounds = offsets
        .iter()
        .filter(|o| opened_at + o.duration() <= now)
        .count();
    let done = usize::try_from(wave.reminders_enqueued).unwrap_or(0);
    if due_rounds <= done {
        return Ok(0);
    }
    db::write_transaction(conn, |conn| {
        if !waves::advance_reminders(conn, &wave.id, to_i32(done), to_i32(due_rounds))? {
            return Ok(0);
        }
        let slug = waves::find_with_survey(conn, &wave.id)?
            .map(|w| w.survey_slug)
            .unwrap_or_default();
        let rows: Vec<_> = invitations::awaiting_reminder(conn, &wave.id, &slug)?
            .into_iter()
            .map(|(invitation_id, email)| {
                outbox::OutboxRow::pending(
                    "reminder",
                    format!("reminder:{invitation_id}:{due_rounds}"),
                    &email,
                    Some(&wave.id),
                    Some(&invitation_id),
                    now,
                )
            })
            .collect();
        let enqueued = outbox::enqueue(conn, &rows)?;
        tracing::info!(wave = %wave.id, round = due_rounds, enqueued, "reminders enqueued");
        Ok(enqueued)
    })
}

/// Closes an open wave: pending invitations and reminders are cancelled, the results are
/// frozen as a snapshot (in this transaction), and the leads are told results are ready.
/// Returns false if the wave was not open.
pub fn close_wave(conn: &mut DbConn, wave_id: &str, now: NaiveDateTime) -> Result<bool, WaveError> {
    db::write_transaction(conn, |conn| {
        if !waves::mark_closed(conn, wave_id, now)? {
            return Ok(false);
        }
        outbox::cancel_pending_for_wave(conn, wave_id, "the wave closed")?;
        // Who answered is forgotten at once: not even the key tells it any more.
        invitations::delete_answered_marks(conn, wave_id)?;
        let leads: Vec<_> = users::list(conn)?
            .into_iter()
            .filter(|u| u.active && u.role == "lead")
            .map(|u| {
                outbox::OutboxRow::pending(
                    "results_ready",
                    format!("results_ready:{wave_id}:{}", u.id),
                    &u.email,
                    Some(wave_id),
                    None,
                    now,
                )
            })
            .collect();
        outbox::enqueue(conn, &leads)?;
        // Freeze the results in this transaction and keep nothing finer: the wave is
        // closed (no answer can be added any more), and the snapshots and the deletion of
        // its answers commit with the close. A failure must not keep
        // the wave open, so it is confined to a savepoint and logged; the snapshot is then
        // written at the first read of the results.
        {
            use diesel::Connection;
            let frozen = conn.transaction(|conn| {
                crate::results::freeze(conn, wave_id, now)?;
                crate::results::compact(conn, wave_id)
            });
            if let Err(error) = frozen {
                tracing::error!(
                    wave = wave_id,
                    error = format!("{error:#}"),
                    "freezing the results failed"
                );
            }
        }
        tracing::info!(wave = wave_id, "wave closed");
        Ok(true)
    })
}

/// Refuses to close or cancel a pulse wave by hand: it closes by itself after its quarter,
/// when the scheduler (with the key) can place its answers in their groups (`pulse`).
pub fn ensure_not_pulse(conn: &mut DbConn, wave_id: &str) -> Result<(), WaveError> {
    if crate::db::models::pulses::is_period(conn, wave_id)? {
        return Err(WaveError::Conflict(
            "This is a quarter's pulse wave: it closes by itself once the quarter's answers are in, and its results are released then. To stop pulses, switch them off on the Pulses page.".into(),
        ));
    }
    Ok(())
}

/// Cancels a scheduled or open wave; its pending mail is cancelled too.
pub fn cancel_wave(
    conn: &mut DbConn,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<bool, WaveError> {
    db::write_transaction(conn, |conn| {
        if !waves::mark_cancelled(conn, wave_id, now)? {
            return Ok(false);
        }
        outbox::cancel_pending_for_wave(conn, wave_id, "the wave was cancelled")?;
        invitations::delete_answered_marks(conn, wave_id)?;
        tracing::info!(wave = wave_id, "wave cancelled");
        Ok(true)
    })
}

/// Sends the invitation of one stakeholder of an open wave again (same link), e.g. after
/// they deleted the mail. Refused if they opted out.
///
/// The admin sees the same outcome whether or not the person answered: one invitation row
/// is queued either way, and only when it is sent (`outbox::compose`, which has the key)
/// is it decided what it carries — the link again, or, to someone who answered already, a
/// short "your answer is in, thank you" mail. Nothing here reads whether they answered.
pub fn resend_invitation(
    conn: &mut DbConn,
    wave_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<(), WaveError> {
    db::write_transaction(conn, |conn| {
        let wave = waves::find_with_survey(conn, wave_id)?
            .ok_or_else(|| WaveError::NotFound(wave_id.to_string()))?;
        if wave.wave.state != "open" {
            return Err(WaveError::Conflict(format!(
                "the wave is {}, not open: nothing to resend",
                wave.wave.state
            )));
        }
        let normalised = crate::domain::EmailAddress::parse(email)
            .map_err(|e| WaveError::Invalid(vec![FieldError::new("email", e)]))?;
        let Some((invitation, address)) =
            invitations::find_in_wave_by_email(conn, wave_id, normalised.as_str())?
        else {
            return Err(WaveError::Invalid(vec![FieldError::new(
                "email",
                format!("{normalised} is not invited to this wave"),
            )]));
        };
        if opt_outs::is_opted_out(conn, &invitation.stakeholder_id, &wave.survey_slug)? {
            return Err(WaveError::Conflict(
                "this stakeholder has opted out of this survey".into(),
            ));
        }
        let row = outbox::OutboxRow::pending(
            "invitation",
            format!("resend:{}:{}", invitation.id, uuid::Uuid::new_v4()),
            &address,
            Some(wave_id),
            Some(&invitation.id),
            now,
        );
        outbox::enqueue(conn, &[row])?;
        Ok(())
    })
}

/// The figures of a wave's progress.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WaveProgress {
    pub invited: i64,
    pub skipped: i64,
    /// Invitations delivered to the mail server.
    pub emailed: i64,
    /// Invitation mails still waiting (incl. retries).
    pub pending: i64,
    /// Of those, how many failed at least once and wait for a retry.
    pub retrying: i64,
    /// Refused by the mail server (a refused recipient is suppressed).
    pub bounced: i64,
    /// Undelivered after every retry (temporary failures): nobody is suppressed, and
    /// [`retry_failed`] sends them again.
    pub failed: i64,
    /// Why mail of this wave could not be delivered: the server's or the connection's
    /// words, with how many mails each.
    pub failure_reasons: Vec<FailureReason>,
    pub reminders_sent: i64,
    pub reminders_pending: i64,
    pub responded: i64,
    /// responded / invited, 0–100, one decimal.
    pub response_rate: f64,
}

pub fn progress(conn: &mut DbConn, wave_id: &str) -> Result<WaveProgress, WaveError> {
    let wave =
        waves::find(conn, wave_id)?.ok_or_else(|| WaveError::NotFound(wave_id.to_string()))?;
    let (invited, _) = invitations::counts(conn, wave_id)?;
    let responded = i64::try_from(crate::results::respondents_count(
        conn,
        wave_id,
        &wave.state,
    )?)
    .unwrap_or(i64::MAX);
    let mut p = WaveProgress {
        invited,
        responded,
        skipped: i64::from(wave.skipped_count),
        ..Default::default()
    };
    for (kind, state, attempts, retryable, n) in outbox::counts_for_wave(conn, wave_id)? {
        match (kind.as_str(), state.as_str()) {
            ("invitation" | "reminder", "dead") if retryable => p.failed += n,
            ("invitation", "sent") => p.emailed += n,
            ("invitation", "pending" | "sending") => {
                p.pending += n;
                if attempts > 0 && state == "pending" {
                    p.retrying += n;
                }
            }
            ("invitation" | "reminder", "dead") => p.bounced += n,
            ("reminder", "sent") => p.reminders_sent += n,
            ("reminder", "pending" | "sending") => p.reminders_pending += n,
            _ => {}
        }
    }
    p.failure_reasons = outbox::failures_for_wave(conn, wave_id)?
        .into_iter()
        .map(|(retryable, reason, mails)| FailureReason {
            retryable,
            reason: reason.unwrap_or_else(|| "no reason recorded".into()),
            mails,
        })
        .collect();
    p.response_rate = if invited > 0 {
        (responded as f64 * 1000.0 / invited as f64).round() / 10.0
    } else {
        0.0
    };
    Ok(p)
}

/// One reason mail of a wave could not be delivered.
#[derive(Debug, Clone, Serialize)]
pub struct FailureReason {
    /// Undelivered after every retry (true) or refused (false).
    pub retryable: bool,
    pub reason: String,
    pub mails: i64,
}

/// Sends the mail of a wave that could not be delivered after every retry again (the
/// invitations and reminders left dead and retryable). Only while the wave is open (or,
/// for results-ready mail, closed). Returns how many mails are queued again; the caller
/// wakes the outbox ([`crate::outbox::wake`]).
pub fn retry_failed(
    conn: &mut DbConn,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<usize, WaveError> {
    db::write_transaction(conn, |conn| {
        let wave =
            waves::find(conn, wave_id)?.ok_or_else(|| WaveError::NotFound(wave_id.to_string()))?;
        if wave.state == "scheduled" || wave.state == "cancelled" {
            return Err(WaveError::Conflict(format!(
                "the wave is {}: it has no mail to send again",
                wave.state
            )));
        }
        let queued = outbox::retry_failed_for_wave(conn, wave_id, now)?;
        tracing::info!(wave = wave_id, queued, "undelivered mail queued again");
        Ok(queued)
    })
}

/// Opt-out from `/u/{token}`: no more mail about this survey for this stakeholder; their
/// pending reminders are cancelled (the survey link itself keeps working while the wave is
/// open). Idempotent. Returns the survey's title in `language` (else its default), `None`
/// for an unknown token.
pub fn opt_out(
    conn: &mut DbConn,
    unsubscribe_hash: &str,
    language: &str,
    now: NaiveDateTime,
) -> anyhow::Result<Option<String>> {
    db::write_transaction(conn, |conn| -> anyhow::Result<Option<String>> {
        let Some(invitation) = invitations::find_by_unsubscribe_hash(conn, unsubscribe_hash)?
        else {
            return Ok(None);
        };
        let wave = waves::find_with_survey(conn, &invitation.wave_id)?
            .context("the invitation's wave is missing")?;
        if opt_outs::opt_out(conn, &invitation.stakeholder_id, &wave.survey_slug, now)? {
            let open = waves::open_ids_of_survey(conn, &wave.survey_slug)?;
            let ids =
                invitations::open_ids_for_stakeholder(conn, &invitation.stakeholder_id, &open)?;
            outbox::cancel_pending_reminders(conn, &ids, "opted out")?;
            tracing::info!(survey = %wave.survey_slug, "a stakeholder opted out");
        }
        let title = match wave.parsed_definition() {
            Ok(definition) => definition
                .title
                .get(language, definition.default_language())
                .to_string(),
            Err(_) => wave.survey_title,
        };
        Ok(Some(title))
    })
}

/// Ids of stakeholders who opted out of a survey (for tests and the admin page).
pub fn opted_out(conn: &mut DbConn, survey_slug: &str) -> anyhow::Result<HashSet<String>> {
    Ok(opt_outs::opted_out_of(conn, survey_slug)?)
}

// ---------------------------------------------------------------------------------------
// Reads of the wave pages (the SQL is in `db::models::waves`)
// ---------------------------------------------------------------------------------------

pub use crate::db::models::waves::{ScheduleRow, WaveRow, WaveWithSurvey};

/// Every wave with its survey's slug and title, newest first.
pub fn list_with_surveys(conn: &mut DbConn) -> diesel::QueryResult<Vec<(WaveRow, String, String)>> {
    waves::list(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> diesel::QueryResult<Option<WaveRow>> {
    waves::find(conn, id)
}

pub fn find_with_survey(
    conn: &mut DbConn,
    id: &str,
) -> diesel::QueryResult<Option<WaveWithSurvey>> {
    waves::find_with_survey(conn, id)
}

pub fn find_schedule(conn: &mut DbConn, id: &str) -> diesel::QueryResult<Option<ScheduleRow>> {
    waves::find_schedule(conn, id)
}

pub fn is_outside_trend(conn: &mut DbConn, id: &str) -> diesel::QueryResult<bool> {
    waves::is_outside_trend(conn, id)
}

/// Puts a wave outside its survey's trend (or back inside); its title, or `None` when
/// there is no such wave.
pub fn set_outside_trend(
    conn: &mut DbConn,
    id: &str,
    outside: bool,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<String>> {
    let Some(wave) = waves::find(conn, id)? else {
        return Ok(None);
    };
    db::write_transaction(conn, |conn| {
        waves::set_outside_trend(conn, id, outside, now)
    })?;
    Ok(Some(wave.title))
}
