//! Schedules: "every 6 months from 15 January, open 21 days, remind after 7 and 14 days".
//! The scheduler creates each next wave one period ahead, so admins see it coming.
//!
//! Under control: a schedule can be paused (it creates and opens nothing; its planned wave
//! waits), resumed, edited (cadence, next opening, open-for, reminders, audience, title, k —
//! its planned wave follows) and stopped for good (its planned wave is cancelled). Waves
//! already open run to their end in every case.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::{survey_versions, waves};
use crate::db::{self, DbConn};
use crate::domain::audience::AudienceFilter;
use crate::domain::schedule::{
    default_title_template, display_in, input_value, offsets_display, offsets_from_json,
    offsets_to_json, parse_offsets, parse_time_in, render_title, EveryMonths, Hours, Tz,
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

/// A schedule's settings, parsed (everything but the survey).
struct ParsedSchedule {
    every: EveryMonths,
    starting: NaiveDateTime,
    open_for: Hours,
    reminders: Vec<Hours>,
    audience: Option<AudienceFilter>,
    anonymity_k: i32,
    title_template: String,
}

/// Parses every field but the survey and reports every problem at once.
fn parse_settings(
    input: &ScheduleInput,
    now: NaiveDateTime,
    tz: Tz,
    mut errors: Vec<FieldError>,
) -> Result<ParsedSchedule, Vec<FieldError>> {
    let every_raw = if input.every.trim().is_empty() {
        "6m"
    } else {
        input.every.trim()
    };
    let every = EveryMonths::parse(every_raw)
        .map_err(|e| errors.push(FieldError::new("every", e)))
        .ok();
    let starting = parse_time_in(&input.starting, now, tz)
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
                    last.display_words()
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
    if let Some(starting) = starting {
        if starting < now {
            errors.push(FieldError::new(
                "starting",
                "the next wave must open in the future",
            ));
        }
    }
    let title = input.title.trim();
    if title.chars().count() > 120 || title.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "title",
            "use at most 120 characters on one line",
        ));
    }
    match (every, starting, open_for) {
        (Some(every), Some(starting), Some(open_for)) if errors.is_empty() => Ok(ParsedSchedule {
            every,
            starting,
            open_for,
            reminders,
            audience,
            anonymity_k,
            title_template: match title {
                "" => default_title_template(every).to_string(),
                t => t.to_string(),
            },
        }),
        _ => Err(errors),
    }
}

/// Creates a schedule and, right away, its first wave (dates in UTC).
pub fn add_schedule(
    conn: &mut DbConn,
    input: &ScheduleInput,
    now: NaiveDateTime,
) -> Result<waves::ScheduleRow, WaveError> {
    add_schedule_in(conn, input, now, Tz::UTC)
}

/// [`add_schedule`], with dates without an offset read in the organisation's time zone.
pub fn add_schedule_in(
    conn: &mut DbConn,
    input: &ScheduleInput,
    now: NaiveDateTime,
    tz: Tz,
) -> Result<waves::ScheduleRow, WaveError> {
    let mut errors = Vec::new();
    let survey = input.survey.trim().to_string();
    if survey.is_empty() {
        errors.push(FieldError::new("survey", "choose a survey"));
    } else if survey_versions::latest(conn, &survey)?.is_none() {
        errors.push(FieldError::new(
            "survey",
            format!("no survey '{survey}' is loaded (load it with `pulse survey load`)"),
        ));
    }
    let parsed = parse_settings(input, now, tz, errors).map_err(WaveError::Invalid)?;
    let row = waves::ScheduleRow {
        id: uuid::Uuid::new_v4().to_string(),
        survey_slug: survey,
        title_template: parsed.title_template,
        every_months: i32::try_from(parsed.every.0).unwrap_or(6),
        open_for_hours: i32::try_from(parsed.open_for.0).unwrap_or(i32::MAX),
        reminder_hours: offsets_to_json(&parsed.reminders),
        audience: parsed.audience.map(|a| a.to_string()),
        anonymity_k: parsed.anonymity_k,
        active: true,
        next_opens_at: parsed.starting,
        created_at: now,
        stopped_at: None,
    };
    db::write_transaction(conn, |conn| -> Result<(), WaveError> {
        waves::insert_schedule(conn, &row)?;
        // The first wave appears right away, however far ahead it opens.
        create_next_wave(conn, &row, now)?;
        Ok(())
    })?;
    Ok(row)
}

/// A schedule by full id or unique prefix (as `pulse schedule` takes it).
pub fn resolve(conn: &mut DbConn, id: &str) -> Result<waves::ScheduleRow, WaveError> {
    let id = id.trim();
    let matches: Vec<_> = waves::list_schedules(conn)?
        .into_iter()
        .filter(|s| !id.is_empty() && s.id.starts_with(id))
        .collect();
    let count = matches.len();
    match matches.into_iter().next() {
        Some(one) if count == 1 => Ok(one),
        Some(_) => Err(WaveError::Conflict(format!(
            "'{id}' matches several schedules: give more of the id"
        ))),
        None => Err(WaveError::NotFound(format!(
            "{id} (no such schedule; see `pulse schedule list`)"
        ))),
    }
}

/// The wave of a schedule that is created but not opened yet, if any.
fn planned_wave(conn: &mut DbConn, schedule_id: &str) -> Result<Option<waves::WaveRow>, WaveError> {
    Ok(waves::of_schedule(conn, schedule_id)?
        .into_iter()
        .find(|w| w.state == "scheduled"))
}

/// What pausing, resuming, editing or stopping a schedule did, in words for the flash
/// message and the command line.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleOutcome {
    pub message: String,
}

/// Pauses a schedule: it creates and opens no wave until it is resumed. A wave already open
/// runs to its end.
pub fn pause(conn: &mut DbConn, id: &str) -> Result<ScheduleOutcome, WaveError> {
    let schedule = resolve(conn, id)?;
    if schedule.stopped_at.is_some() {
        return Err(WaveError::Conflict(
            "this schedule is stopped; add a new one instead".into(),
        ));
    }
    if !waves::set_schedule_active(conn, &schedule.id, false)? {
        return Err(WaveError::Conflict(
            "this schedule is already paused".into(),
        ));
    }
    let planned = planned_wave(conn, &schedule.id)?;
    Ok(ScheduleOutcome {
        message: match planned {
            Some(w) => format!(
                "Schedule paused: {} will not open until you resume the schedule.",
                w.title
            ),
            None => "Schedule paused: it opens no wave until you resume it.".into(),
        },
    })
}

/// Resumes a paused schedule. Its planned wave opens at its time — at once if that passed
/// during the pause; a planned wave whose whole window passed is cancelled (the next one is
/// created as usual).
pub fn resume(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    tz: Tz,
) -> Result<ScheduleOutcome, WaveError> {
    let schedule = resolve(conn, id)?;
    if schedule.stopped_at.is_some() {
        return Err(WaveError::Conflict(
            "this schedule is stopped for good; add a new one instead".into(),
        ));
    }
    db::write_transaction(conn, |conn| {
        if !waves::set_schedule_active(conn, &schedule.id, true)? {
            return Err(WaveError::Conflict("this schedule is not paused".into()));
        }
        let message = match planned_wave(conn, &schedule.id)? {
            Some(w) if w.closes_at <= now => {
                // Never opened: nothing was sent, so marking it is all there is to do.
                waves::mark_cancelled(conn, &w.id, now)?;
                format!(
                    "Schedule resumed. {} was cancelled: its time passed while the schedule was paused.",
                    w.title
                )
            }
            Some(w) if w.opens_at <= now => format!(
                "Schedule resumed. {} opens now (it was due {}) and closes {}.",
                w.title,
                display_in(w.opens_at, tz),
                display_in(w.closes_at, tz)
            ),
            Some(w) => format!(
                "Schedule resumed. {} opens {}.",
                w.title,
                display_in(w.opens_at, tz)
            ),
            None => "Schedule resumed.".into(),
        };
        Ok(ScheduleOutcome { message })
    })
}

/// Stops a schedule for good: its planned wave is cancelled; a wave already open runs to its
/// end.
pub fn stop(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<ScheduleOutcome, WaveError> {
    let schedule = resolve(conn, id)?;
    db::write_transaction(conn, |conn| {
        if !waves::stop_schedule(conn, &schedule.id, now)? {
            return Err(WaveError::Conflict(
                "this schedule is already stopped".into(),
            ));
        }
        let message = match planned_wave(conn, &schedule.id)? {
            Some(w) => {
                // Never opened: nothing was sent, so marking it is all there is to do.
                waves::mark_cancelled(conn, &w.id, now)?;
                format!(
                    "Schedule stopped. {} was cancelled; no more waves will be created.",
                    w.title
                )
            }
            None => "Schedule stopped; no more waves will be created.".into(),
        };
        Ok(ScheduleOutcome { message })
    })
}

/// The form values of an existing schedule, for its edit page and `pulse schedule edit`
/// (fields not given keep these).
pub fn input_of(
    conn: &mut DbConn,
    schedule: &waves::ScheduleRow,
    tz: Tz,
) -> Result<ScheduleInput, WaveError> {
    let next = match planned_wave(conn, &schedule.id)? {
        Some(w) => w.opens_at,
        None => schedule.next_opens_at,
    };
    Ok(ScheduleInput {
        survey: schedule.survey_slug.clone(),
        every: format!("{}m", schedule.every_months),
        starting: input_value(next, tz),
        open_for: Hours(i64::from(schedule.open_for_hours)).display(),
        remind: offsets_days(&offsets_from_json(&schedule.reminder_hours)),
        audience: schedule.audience.clone().unwrap_or_default(),
        title: schedule.title_template.clone(),
        anonymity_k: schedule.anonymity_k.to_string(),
    })
}

/// Changes a schedule: cadence, next opening, how long waves stay open, reminders, audience,
/// title template and k. Its planned wave (created, not opened) follows at once; waves
/// already open or closed keep their settings.
pub fn edit(
    conn: &mut DbConn,
    id: &str,
    input: &ScheduleInput,
    now: NaiveDateTime,
    tz: Tz,
) -> Result<ScheduleOutcome, WaveError> {
    let schedule = resolve(conn, id)?;
    if schedule.stopped_at.is_some() {
        return Err(WaveError::Conflict(
            "this schedule is stopped; add a new one instead".into(),
        ));
    }
    let parsed = parse_settings(input, now, tz, Vec::new()).map_err(WaveError::Invalid)?;
    db::write_transaction(conn, |conn| {
        let planned = planned_wave(conn, &schedule.id)?;
        let taken = waves::of_schedule(conn, &schedule.id)?
            .into_iter()
            .any(|w| {
                w.opens_at == parsed.starting && planned.as_ref().is_none_or(|p| p.id != w.id)
            });
        if taken {
            return Err(WaveError::Invalid(vec![FieldError::new(
                "starting",
                "a wave of this schedule already opened at that time",
            )]));
        }
        let next_opens_at = if planned.is_some() {
            parsed.every.after(parsed.starting)
        } else {
            parsed.starting
        };
        let changes = waves::ScheduleChanges {
            title_template: parsed.title_template.clone(),
            every_months: i32::try_from(parsed.every.0).unwrap_or(6),
            open_for_hours: i32::try_from(parsed.open_for.0).unwrap_or(i32::MAX),
            reminder_hours: offsets_to_json(&parsed.reminders),
            audience: parsed.audience.as_ref().map(|a| a.to_string()),
            anonymity_k: parsed.anonymity_k,
            next_opens_at,
        };
        if !waves::update_schedule(conn, &schedule.id, &changes)? {
            return Err(WaveError::Conflict("this schedule is stopped".into()));
        }
        let message = match planned {
            Some(w) => {
                let title = render_title(&parsed.title_template, parsed.starting);
                waves::update_planned_wave(
                    conn,
                    &w.id,
                    &waves::PlannedWaveChanges {
                        title: title.clone(),
                        audience: changes.audience.clone(),
                        opens_at: parsed.starting,
                        closes_at: parsed.starting + parsed.open_for.duration(),
                        reminder_hours: changes.reminder_hours.clone(),
                        anonymity_k: parsed.anonymity_k,
                    },
                )?;
                format!(
                    "Schedule saved. {title} opens {} and closes {}.",
                    display_in(parsed.starting, tz),
                    display_in(parsed.starting + parsed.open_for.duration(), tz)
                )
            }
            None => format!(
                "Schedule saved. Its next wave opens {}.",
                display_in(parsed.starting, tz)
            ),
        };
        Ok(ScheduleOutcome { message })
    })
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
    /// The title of the survey's latest loaded version (the slug if none is loaded).
    pub survey_title: String,
    pub every: String,
    /// "every 6 months"
    pub every_words: String,
    pub open_for: String,
    /// "21 days"
    pub open_for_words: String,
    pub remind: String,
    /// "after 7 and 14 days"
    pub remind_words: String,
    /// In words, as the wave page says it: "Cost centre: CC-007 or CC-013; Region: EMEA".
    pub audience: String,
    pub anonymity_k: i32,
    /// active | paused | stopped
    pub state: &'static str,
    pub active: bool,
    pub stopped: bool,
    /// The next wave: its title and when it opens (planned, or to be created).
    pub next_wave: Option<String>,
    pub next_opens_at: String,
    pub title_template: String,
}

pub fn list(conn: &mut DbConn, tz: Tz) -> Result<Vec<ScheduleView>, WaveError> {
    let mut views = Vec::new();
    for s in waves::list_schedules(conn)? {
        let planned = planned_wave(conn, &s.id)?;
        let (next_wave, next_opens_at) = match (&planned, s.stopped_at) {
            (_, Some(_)) => (None, String::new()),
            (Some(w), None) => (Some(w.title.clone()), display_in(w.opens_at, tz)),
            (None, None) => (
                Some(render_title(&s.title_template, s.next_opens_at)),
                display_in(s.next_opens_at, tz),
            ),
        };
        let reminders = offsets_from_json(&s.reminder_hours);
        let survey_title = survey_versions::latest(conn, &s.survey_slug)?
            .map(|v| v.title)
            .unwrap_or_else(|| s.survey_slug.clone());
        views.push(ScheduleView {
            survey_title,
            every: format!("{}m", s.every_months),
            every_words: every_words(s.every_months),
            open_for: Hours(i64::from(s.open_for_hours)).display(),
            open_for_words: Hours(i64::from(s.open_for_hours)).display_words(),
            remind: offsets_display(&reminders),
            remind_words: reminders_words(&reminders),
            audience: super::audience::describe_stored(s.audience.as_deref()),
            state: match (s.stopped_at, s.active) {
                (Some(_), _) => "stopped",
                (None, true) => "active",
                (None, false) => "paused",
            },
            active: s.active,
            stopped: s.stopped_at.is_some(),
            next_wave,
            next_opens_at,
            id: s.id,
            survey_slug: s.survey_slug,
            anonymity_k: s.anonymity_k,
            title_template: s.title_template,
        });
    }
    Ok(views)
}

/// "every 6 months", "every year", "every month".
fn every_words(months: i32) -> String {
    match months {
        1 => "every month".into(),
        12 => "every year".into(),
        m if m % 12 == 0 => format!("every {} years", m / 12),
        m => format!("every {m} months"),
    }
}

/// "after 7 and 14 days", "none".
pub fn reminders_words(offsets: &[Hours]) -> String {
    if offsets.is_empty() {
        return "none".into();
    }
    if offsets.iter().all(|h| h.0 % 24 == 0) {
        let days: Vec<String> = offsets.iter().map(|h| (h.0 / 24).to_string()).collect();
        let unit = if days.len() == 1 && days[0] == "1" {
            "day"
        } else {
            "days"
        };
        return format!("after {} {unit}", join_and(&days));
    }
    let parts: Vec<String> = offsets.iter().map(|h| h.display_words()).collect();
    format!("after {}", join_and(&parts))
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Reminder offsets as the days list the forms show (`7, 14`); hours where not whole days.
pub fn offsets_days(offsets: &[Hours]) -> String {
    if offsets.is_empty() {
        return "none".into();
    }
    offsets
        .iter()
        .map(|h| {
            if h.0 % 24 == 0 {
                (h.0 / 24).to_string()
            } else {
                h.display()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
