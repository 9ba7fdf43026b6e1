//! Schedules: "every 6 months from 15 January, open 21 days, remind after 7 and 14 days".
//! The scheduler creates each next wave one period ahead, so admins see it coming.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::{survey_versions, waves};
use crate::db::{self, DbConn};
use crate::domain::audience::AudienceFilter;
use crate::domain::schedule::{
    default_title_template, offsets_display, offsets_from_json, offsets_to_json, parse_offsets,
    parse_time, render_title, EveryMonths, Hours,
};
use crate::domain::wave::{
    FieldError, WavePlan, DEFAULT_ANONYMITY_K, DEFAULT_REMINDERS, MIN_ANONYMITY_K,
};

use super::waves::WaveError;

/// The raw fields of a new schedule, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct ScheduleInput {
    pub survey: String,
    pub every: String,
    pub starting: String,
    pub open_for: String,
    pub remind: String,
    pub audience: String,
    pub title: String,
    pub anonymity_k: String,
}

/// Creates a schedule and, right away, its first wave.
pub fn add_schedule(
    conn: &mut DbConn,
    input: &ScheduleInput,
    now: NaiveDateTime,
) -> Result<waves::ScheduleRow, WaveError> {
    let mut errors = Vec::new();
    let survey = input.survey.trim().to_string();
    if survey.is_empty() {
        errors.push(FieldError::new("survey", "choose a survey"));
    } else if survey_versions::latest(conn, &survey)?.is_none() {
        errors.push(FieldError::new(
            "survey",
            format!(
                "no survey '{survey}' is loaded: run `pulse survey load` (see `pulse survey list`)"
            ),
        ));
    }
    let every_raw = if input.every.trim().is_empty() {
        "6m"
    } else {
        input.every.trim()
    };
    let every = EveryMonths::parse(every_raw)
        .map_err(|e| errors.push(FieldError::new("every", e)))
        .ok();
    let starting = parse_time(&input.starting, now)
        .map_err(|e| errors.push(FieldError::new("starting", e)))
        .ok();
    let open_for_raw = if input.open_for.trim().is_empty() {
        "21d"
    } else {
        input.open_for.trim()
    };
    let open_for = Hours::parse(open_for_raw)
        .map_err(|e| errors.push(FieldError::new("open_for", e)))
        .ok();
    let remind_raw = if input.remind.trim().is_empty() {
        DEFAULT_REMINDERS
    } else {
        input.remind.trim()
    };
    let reminders = parse_offsets(remind_raw)
        .map_err(|e| errors.push(FieldError::new("remind", e)))
        .unwrap_or_default();
    if let (Some(open_for), Some(last)) = (open_for, reminders.last()) {
        if *last >= open_for {
            errors.push(FieldError::new(
                "remind",
                format!(
                    "the reminder after {} would come after the wave closes",
                    last.display()
                ),
            ));
        }
    }
    if let (Some(every), Some(open_for)) = (every, open_for) {
        if open_for.0 > i64::from(every.0) * 28 * 24 {
            errors.push(FieldError::new(
                "open_for",
                "a wave would still be open when the next one starts",
            ));
        }
    }
    let audience = match input.audience.trim() {
        "" | "all" | "everyone" => None,
        raw => AudienceFilter::parse(raw)
            .map_err(|e| errors.push(FieldError::new("audience", e.to_string())))
            .ok(),
    };
    let anonymity_k = match input.anonymity_k.trim() {
        "" => DEFAULT_ANONYMITY_K,
        raw => match raw.parse::<i32>() {
            Ok(k) if (MIN_ANONYMITY_K..=1000).contains(&k) => k,
            _ => {
                errors.push(FieldError::new(
                    "anonymity_k",
                    format!("must be a whole number from {MIN_ANONYMITY_K} to 1000"),
                ));
                DEFAULT_ANONYMITY_K
            }
        },
    };
    let (Some(every), Some(starting), Some(open_for)) = (every, starting, open_for) else {
        return Err(WaveError::Invalid(errors));
    };
    if starting < now {
        errors.push(FieldError::new(
            "starting",
            "the first wave must open in the future",
        ));
    }
    if !errors.is_empty() {
        return Err(WaveError::Invalid(errors));
    }
    let title_template = match input.title.trim() {
        "" => default_title_template(every).to_string(),
        t => t.to_string(),
    };
    let row = waves::ScheduleRow {
        id: uuid::Uuid::new_v4().to_string(),
        survey_slug: survey,
        title_template,
        every_months: i32::try_from(every.0).unwrap_or(6),
        open_for_hours: i32::try_from(open_for.0).unwrap_or(i32::MAX),
        reminder_hours: offsets_to_json(&reminders),
        audience: audience.map(|a| a.to_string()),
        anonymity_k,
        active: true,
        next_opens_at: starting,
        created_at: now,
    };
    db::write_transaction(conn, |conn| -> Result<(), WaveError> {
        waves::insert_schedule(conn, &row)?;
        // The first wave appears right away, however far ahead it opens.
        create_next_wave(conn, &row, now)?;
        Ok(())
    })?;
    Ok(row)
}

/// Creates the next wave of every active schedule whose next opening is less than one
/// period away. Guarded: the schedule's `next_opens_at` moves by a conditional UPDATE in
/// the same transaction as the insert, and (schedule, opens_at) is unique.
pub fn roll_forward(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, WaveError> {
    let mut created = 0;
    // A schedule is due when its next opening is within one period (at most 36 months).
    let horizon = EveryMonths(36).after(now);
    for schedule in waves::schedules_due(conn, horizon)? {
        let every = EveryMonths(u32::try_from(schedule.every_months).unwrap_or(6));
        // Keep one future wave: create the next only once its period has begun.
        let period_start = schedule
            .next_opens_at
            .checked_sub_months(chrono::Months::new(every.0))
            .unwrap_or(schedule.next_opens_at);
        if now < period_start {
            continue;
        }
        if db::write_transaction(conn, |conn| create_next_wave(conn, &schedule, now))? {
            created += 1;
        }
    }
    Ok(created)
}

/// Creates the wave that opens at the schedule's `next_opens_at` and moves that on by one
/// period; false if another process did it first. Call inside a write transaction.
fn create_next_wave(
    conn: &mut DbConn,
    schedule: &waves::ScheduleRow,
    now: NaiveDateTime,
) -> Result<bool, WaveError> {
    let every = EveryMonths(u32::try_from(schedule.every_months).unwrap_or(6));
    let opens_at = schedule.next_opens_at;
    if !waves::advance_schedule(conn, &schedule.id, opens_at, every.after(opens_at))? {
        return Ok(false);
    }
    let plan = WavePlan {
        survey_slug: schedule.survey_slug.clone(),
        title: render_title(&schedule.title_template, opens_at),
        audience: schedule
            .audience
            .as_deref()
            .and_then(|a| AudienceFilter::parse(a).ok()),
        opens_at,
        closes_at: opens_at + chrono::Duration::hours(i64::from(schedule.open_for_hours)),
        reminders: offsets_from_json(&schedule.reminder_hours),
        anonymity_k: schedule.anonymity_k,
    };
    // A wave whose whole window passed while nobody ran the scheduler is skipped.
    if plan.closes_at <= now {
        tracing::warn!(schedule = %schedule.id, title = %plan.title, "skipped a wave whose window has already passed");
        return Ok(false);
    }
    super::waves::create_wave(conn, &plan, Some(&schedule.id), now)?;
    tracing::info!(schedule = %schedule.id, title = %plan.title, "scheduled the next wave");
    Ok(true)
}

/// A schedule for display.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    pub id: String,
    pub survey_slug: String,
    pub every: String,
    pub open_for: String,
    pub remind: String,
    pub audience: String,
    pub anonymity_k: i32,
    pub active: bool,
    pub next_opens_at: String,
    pub title_template: String,
}

pub fn list(conn: &mut DbConn) -> Result<Vec<ScheduleView>, WaveError> {
    Ok(waves::list_schedules(conn)?
        .into_iter()
        .map(|s| ScheduleView {
            every: format!("{}m", s.every_months),
            open_for: Hours(i64::from(s.open_for_hours)).display(),
            remind: offsets_display(&offsets_from_json(&s.reminder_hours)),
            audience: s.audience.clone().unwrap_or_else(|| "everyone".into()),
            next_opens_at: s.next_opens_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            id: s.id,
            survey_slug: s.survey_slug,
            anonymity_k: s.anonymity_k,
            active: s.active,
            title_template: s.title_template,
        })
        .collect())
}
