//! Every occasion is feedback: a short pulse survey to a request's requester after the
//! request is fulfilled.
//!
//! * [`record_fulfilled`]: when a request becomes fulfilled (import or API), in the same
//!   transaction, the pulse it owes is recorded — once per request, ever.
//! * [`send_due`] (each scheduler tick): after the delay, each owed pulse is decided once —
//!   skipped by a touch rule ([`rules`], counted by reason) or invited into the pulse wave of
//!   the current calendar quarter ([`period`]), with an invitation mail through the outbox.
//! * A pulse invitation's answer is stored under a *sealed* cell (`domain::token::sealed_cell`),
//!   because invitations arrive one by one and no group of k invitees exists yet. When the
//!   quarter's wave closes ([`close_due`], some days after the quarter ends) the server
//!   works out each answer's group from the quarter's invitations — coarsened to groups of
//!   at least k invitees, as for every wave — and closes the wave: results are released
//!   once per quarter through the release plan, never as a sliding window. The answer's
//!   groups are the request's business unit, category, channel and whether it was fulfilled
//!   within target; never the request or the requester.

pub mod half_year;
pub mod overview;
pub mod period;
pub mod rules;
pub mod settings;

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use crate::config::SecretKey;
use crate::db::models::responses as response_rows;
use crate::db::models::results as results_rows;
use crate::db::models::{invitations, opt_outs, outbox, pulses as rows, survey_versions, waves};
use crate::db::{self, DbConn};
use crate::domain::audience::AudienceFilter;
use crate::domain::stakeholder::Attributes;
use crate::domain::token::{sealed_cell, SEALED_CELL_PREFIX};
use crate::requests::{RequestRecord, RequestStatus};
use crate::scorecards::request_figures::TargetDays;

pub use period::Quarter;
pub use rules::SkipReason;
pub use settings::PulseSettings;

/// The segment attribute that says whether the request was fulfilled within its target.
pub const FULFILMENT: &str = "fulfilment";
pub const WITHIN_TARGET: &str = "within target";
pub const LATE: &str = "late";

/// The most pulses one tick decides (the rest wait for the next tick).
const BATCH: i64 = 20_000;

/// Records the pulses owed by `records` that are fulfilled and name a requester (the
/// caller passes the records it just wrote). Returns how many were new.
pub fn record_fulfilled(
    conn: &mut DbConn,
    records: &[&RequestRecord],
    targets: &TargetDays,
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    let owed: Vec<rows::NewPulse<'_>> = records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
        .filter_map(|r| {
            let email = r.requester_email.as_ref()?;
            let fulfilled_on = r.fulfilled_on?;
            let days = (fulfilled_on - r.opened_on).num_days();
            Some(rows::NewPulse {
                request_id: &r.id,
                requester_email: email.as_str(),
                business_unit: &r.business_unit,
                category: &r.category,
                channel: &r.channel,
                within_target: days <= i64::from(targets.for_category(&r.category)),
                fulfilled_on,
                seen_at: now,
            })
        })
        .collect();
    rows::record(conn, &owed)
}

/// What one pass of [`send_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub invited: usize,
    pub skipped: usize,
}

/// Decides every owed pulse whose delay has passed: skipped with its reason, or invited
/// (invitation + outbox mail) into the current quarter's pulse wave. One transaction; the
/// pulses are taken with a conditional UPDATE, so with several processes each pulse is
/// decided exactly once.
pub fn send_due(
    conn: &mut DbConn,
    key: &SecretKey,
    now: NaiveDateTime,
) -> anyhow::Result<SendReport> {
    let settings = PulseSettings::load(conn)?;
    let seen_by = now - Duration::hours(i64::from(settings.delay_hours));
    db::bulk_write_transaction(conn, |conn| {
        let taken = rows::take_due(conn, seen_by, BATCH, now)?;
        if taken.is_empty() {
            return Ok(SendReport::default());
        }
        let mut facts = touch_facts(conn, &settings, &taken, now)?;
        let mut skipped: BTreeMap<SkipReason, Vec<&str>> = BTreeMap::new();
        let mut invite = Vec::new();
        for pulse in &taken {
            match facts.decide(&pulse.requester_email, pulse.fulfilled_on) {
                Ok(person) => invite.push((pulse, person)),
                Err(reason) => skipped
                    .entry(reason)
                    .or_default()
                    .push(pulse.request_id.as_str()),
            }
        }
        let mut report = SendReport::default();
        for (reason, ids) in &skipped {
            report.skipped += rows::mark_skipped(conn, ids, reason.as_str())?;
        }
        if invite.is_empty() {
            return Ok(report);
        }
        let wave = period_wave(conn, &settings, now)?;
        let mut new_invitations = Vec::with_capacity(invite.len());
        let mut mails = Vec::with_capacity(invite.len());
        for (pulse, person) in &invite {
            let invitation_id = uuid::Uuid::now_v7().to_string();
            let segment: BTreeMap<&str, &str> = [
                ("business_unit", pulse.business_unit.as_str()),
                ("category", pulse.category.as_str()),
                ("channel", pulse.channel.as_str()),
                (
                    FULFILMENT,
                    if pulse.within_target {
                        WITHIN_TARGET
                    } else {
                        LATE
                    },
                ),
            ]
            .into_iter()
            .collect();
            // Its response cell stays empty: sealed until the period closes (module doc).
            let (invitation, mail) = crate::services::waves::invitation_with_mail(
                key,
                invitation_id,
                &wave.id,
                crate::services::waves::Invitee {
                    id: &person.id,
                    email: &person.email,
                    language: person.language.as_deref(),
                },
                &segment,
                now,
            )?;
            new_invitations.push(invitation);
            mails.push(mail);
        }
        invitations::insert_all(conn, &new_invitations)?;
        let mut per_segment: BTreeMap<String, i64> = BTreeMap::new();
        for invitation in &new_invitations {
            *per_segment.entry(invitation.segment.clone()).or_default() += 1;
        }
        crate::db::models::results::add_invited_per_segment(conn, &wave.id, &per_segment)?;
        outbox::enqueue_new(conn, &mails)?;
        let ids: Vec<&str> = invite.iter().map(|(p, _)| p.request_id.as_str()).collect();
        report.invited = rows::mark_invited(conn, &ids, &wave.id)?;
        rows::add_invited(conn, &wave.id, i32::try_from(ids.len()).unwrap_or(i32::MAX))?;
        tracing::info!(
            wave = %wave.id,
            invited = report.invited,
            skipped = report.skipped,
            "pulses decided"
        );
        Ok(report)
    })
}

/// What the touch rules look at for this batch.
fn touch_facts(
    conn: &mut DbConn,
    settings: &PulseSettings,
    taken: &[rows::PulseRow],
    now: NaiveDateTime,
) -> anyhow::Result<rules::TouchFacts> {
    if !settings.enabled {
        return Ok(rules::TouchFacts::default());
    }
    let mut emails: Vec<&str> = taken.iter().map(|p| p.requester_email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    let people: HashMap<String, rules::Person> = rows::people_by_email(conn, &emails)?
        .into_iter()
        .map(|row| {
            let person = rules::Person {
                id: row.id,
                email: row.email.clone(),
                language: row.language,
                attributes: Attributes::from_json(&row.attributes).unwrap_or_default(),
            };
            (row.email, person)
        })
        .collect();
    let quiet_until = now + Duration::days(i64::from(settings.quiet_days_before_wave));
    let opening_soon = rows::audiences_opening(conn, now, quiet_until)?
        .into_iter()
        .map(|audience| match audience {
            Some(raw) => AudienceFilter::parse(&raw)
                .map_err(|e| anyhow::anyhow!("a stored wave audience: {e}")),
            None => Ok(AudienceFilter::everyone()),
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(rules::TouchFacts {
        enabled: true,
        oldest_fulfilled: Some(rules::oldest_fulfilled(now.date(), settings.max_age_days)),
        people,
        opted_out: opt_outs::opted_out_of(conn, &settings.survey_slug)?,
        suppressed: opt_outs::suppressed_emails(conn)?,
        pulsed_recently: rows::pulsed_since(
            conn,
            now - Duration::days(i64::from(settings.min_days_between)),
        )?,
        pulsed_this_quarter: match rows::find_period(
            conn,
            &settings.survey_slug,
            Quarter::of(now.date()).start(),
        )? {
            Some(period) => rows::invited_people(conn, &period.wave_id)?,
            None => Default::default(),
        },
        in_open_surveys: rows::in_open_surveys(conn)?,
        opening_soon,
    })
}

/// The open pulse wave of the quarter `now` is in, created if it does not exist yet.
fn period_wave(
    conn: &mut DbConn,
    settings: &PulseSettings,
    now: NaiveDateTime,
) -> anyhow::Result<waves::WaveRow> {
    let quarter = Quarter::of(now.date());
    let slug = &settings.survey_slug;
    if let Some(period) = rows::find_period(conn, slug, quarter.start())? {
        let wave = waves::find(conn, &period.wave_id)?.context("a pulse period lost its wave")?;
        anyhow::ensure!(
            wave.state == "open",
            "the pulse wave of {quarter} is {}, so its pulses cannot be sent",
            wave.state
        );
        return Ok(wave);
    }
    let version = survey_versions::latest(conn, slug)?.with_context(|| {
        format!("the pulse survey '{slug}' is not loaded: run `pulse survey load`")
    })?;
    let midnight = |day: chrono::NaiveDate| day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let closes_on = quarter.end() + Duration::days(1 + i64::from(settings.answer_days));
    let wave = waves::WaveRow {
        id: uuid::Uuid::new_v4().to_string(),
        survey_version_id: version.id,
        schedule_id: None,
        title: format!("{} {quarter}", version.title),
        audience: None,
        opens_at: midnight(quarter.start()),
        closes_at: midnight(closes_on),
        reminder_hours: crate::domain::schedule::offsets_to_json(&[]),
        anonymity_k: settings.anonymity_k,
        state: "open".into(),
        invited_count: 0,
        skipped_count: 0,
        reminders_enqueued: 0,
        opened_at: Some(now),
        closed_at: None,
        created_at: now,
    };
    waves::insert(conn, &wave)?;
    let period = rows::PeriodRow {
        wave_id: wave.id.clone(),
        survey_slug: slug.clone(),
        starts_on: quarter.start(),
        ends_on: quarter.end(),
    };
    if rows::insert_period(conn, &period)? == 0 {
        // Another process created the quarter's wave first: use that one.
        waves::delete(conn, &wave.id)?;
        return period_wave(conn, settings, now);
    }
    tracing::info!(wave = %wave.id, %quarter, "pulse wave created");
    Ok(wave)
}

/// Closes the pulse waves whose time has come: each answer's sealed cell is replaced by its
/// group (coarsened to at least k invitees), then the wave closes like any other —
/// results frozen through the release plan, answers deleted. Returns how many closed.
pub fn close_due(conn: &mut DbConn, key: &SecretKey, now: NaiveDateTime) -> anyhow::Result<usize> {
    let mut closed = 0;
    for wave_id in rows::due_to_close(conn, now)? {
        unseal(conn, key, &wave_id)?;
        if crate::services::waves::close_wave(conn, &wave_id, now)? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Moves a pulse wave's answers from sealed cells to their groups' response cells (and
/// gives its invitations those cells). Idempotent: answers already moved stay.
fn unseal(conn: &mut DbConn, key: &SecretKey, wave_id: &str) -> anyhow::Result<()> {
    db::bulk_write_transaction(conn, |conn| {
        let wave = waves::find_with_survey(conn, wave_id)?.context("the pulse wave disappeared")?;
        let segments = wave.parsed_definition()?.segments;
        let k = crate::anonymity::Threshold::try_from(wave.wave.anonymity_k)
            .map_err(|e| anyhow::anyhow!("wave {wave_id}: {e}"))?;
        let invited = rows::invitation_segments(conn, wave_id)?;
        let mut full: BTreeMap<String, u64> = BTreeMap::new();
        let mut segment_of_seal: HashMap<String, String> = HashMap::with_capacity(invited.len());
        for (id, segment) in invited {
            *full.entry(segment.clone()).or_default() += 1;
            segment_of_seal.insert(sealed_cell(key, &id), segment);
        }
        let coarse = crate::services::waves::response_cells(&segments, &full, k)?;
        for (segment, cell) in &coarse {
            rows::set_response_cell(conn, wave_id, segment, cell)?;
        }
        let root = "{}".to_string();
        let mut moved: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        let mut sealed_cells = Vec::new();
        for row in response_rows::counts_for_wave(conn, wave_id)? {
            if !row.cell.starts_with(SEALED_CELL_PREFIX) {
                continue;
            }
            let to = segment_of_seal
                .get(&row.cell)
                .and_then(|segment| coarse.get(segment))
                .unwrap_or(&root)
                .clone();
            if row.question_key == crate::services::responses::RESPONSES_KEY {
                sealed_cells.push((row.cell.clone(), to.clone()));
            }
            *moved.entry((to, row.question_key, row.value)).or_default() += row.n;
        }
        for (from, to) in &sealed_cells {
            response_rows::move_cell(conn, wave_id, from, to)?;
            response_rows::delete_counts_of_cell(conn, wave_id, from)?;
        }
        let moved: Vec<response_rows::CountRow> = moved
            .into_iter()
            .map(|((cell, question_key, value), n)| response_rows::CountRow {
                wave_id: wave_id.to_string(),
                cell,
                question_key,
                value,
                n,
            })
            .collect();
        response_rows::add_counts(conn, &moved)?;
        results_rows::delete_invited_per_cell(conn, wave_id)?;
        let per_cell = rows::invited_per_response_cell(conn, wave_id)?;
        results_rows::insert_invited_per_cell(conn, wave_id, &per_cell)?;
        tracing::info!(
            wave = wave_id,
            answers = sealed_cells.len(),
            "pulse answers unsealed"
        );
        Ok(())
    })
}
