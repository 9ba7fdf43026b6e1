//! `waves` and `schedules`: what goes out when, and the guarded state transitions
//! (each a conditional UPDATE, so two processes never both win).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{schedules, survey_versions, trend_exclusions, waves};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = waves, treat_none_as_default_value = false)]
pub struct WaveRow {
    pub id: String,
    pub survey_version_id: String,
    pub schedule_id: Option<String>,
    pub title: String,
    pub audience: Option<String>,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub reminder_hours: String,
    pub anonymity_k: i32,
    pub state: String,
    pub invited_count: i32,
    pub skipped_count: i32,
    pub reminders_enqueued: i32,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl WaveRow {
    /// The typed state. The column is constrained to the four words (a CHECK constraint in
    /// the migration), so the fallback — scheduled, which shows nothing — is never taken.
    pub fn state(&self) -> crate::domain::wave::WaveState {
        crate::domain::wave::WaveState::parse(&self.state)
            .unwrap_or(crate::domain::wave::WaveState::Scheduled)
    }
}

/// A wave with the survey it pins.
#[derive(Debug, Clone)]
pub struct WaveWithSurvey {
    pub wave: WaveRow,
    pub survey_slug: String,
    pub survey_version: i32,
    pub survey_title: String,
    pub definition: String,
}

impl WaveWithSurvey {
    /// The pinned definition, parsed. It was validated when pinned, so a failure here means
    /// the stored row was changed behind Pulse's back.
    pub fn parsed_definition(&self) -> anyhow::Result<crate::domain::definition::SurveyDefinition> {
        serde_json::from_str(&self.definition).map_err(|e| {
            anyhow::anyhow!(
                "the pinned definition of wave {} does not parse: {e}",
                self.wave.id
            )
        })
    }
}

pub fn insert(conn: &mut DbConn, wave: &WaveRow) -> QueryResult<usize> {
    diesel::insert_into(waves::table).values(wave).execute(conn)
}

/// Deletes a wave that was never used (a pulse wave another process created first).
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(waves::table.find(id)).execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<WaveRow>> {
    waves::table
        .find(id)
        .select(WaveRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_with_survey(conn: &mut DbConn, id: &str) -> QueryResult<Option<WaveWithSurvey>> {
    waves::table
        .inner_join(survey_versions::table)
        .filter(waves::id.eq(id))
        .select((
            WaveRow::as_select(),
            survey_versions::slug,
            survey_versions::version,
            survey_versions::title,
            survey_versions::definition,
        ))
        .first::<(WaveRow, String, i32, String, String)>(conn)
        .optional()
        .map(|found| {
            found.map(
                |(wave, survey_slug, survey_version, survey_title, definition)| WaveWithSurvey {
                    wave,
                    survey_slug,
                    survey_version,
                    survey_title,
                    definition,
                },
            )
        })
}

/// All waves, newest opening first, with their survey's slug and title.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<(WaveRow, String, String)>> {
    waves::table
        .inner_join(survey_versions::table)
        .order(waves::opens_at.desc())
        .select((
            WaveRow::as_select(),
            survey_versions::slug,
            survey_versions::title,
        ))
        .load(conn)
}

/// Scheduled waves whose opening time has come — except those of a paused or stopped
/// schedule: a paused schedule opens nothing.
pub fn due_to_open(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    let active_schedules = schedules::table
        .filter(schedules::active.eq(true))
        .select(schedules::id.nullable());
    waves::table
        .filter(waves::state.eq("scheduled"))
        .filter(waves::opens_at.le(now))
        .filter(
            waves::schedule_id
                .is_null()
                .or(waves::schedule_id.eq_any(active_schedules)),
        )
        .order(waves::opens_at.asc())
        .select(waves::id)
        .load(conn)
}

/// Open survey waves whose closing time has come (pulse waves close through
/// `pulse::close_due`, which unseals their answers first).
pub fn due_to_close(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    use crate::db::schema::pulse_periods;
    waves::table
        .filter(waves::state.eq("open"))
        .filter(waves::closes_at.le(now))
        .filter(waves::id.ne_all(pulse_periods::table.select(pulse_periods::wave_id)))
        .select(waves::id)
        .load(conn)
}

pub fn open_waves(conn: &mut DbConn) -> QueryResult<Vec<WaveRow>> {
    waves::table
        .filter(waves::state.eq("open"))
        .select(WaveRow::as_select())
        .load(conn)
}

pub fn open_ids_of_survey(conn: &mut DbConn, slug: &str) -> QueryResult<Vec<String>> {
    waves::table
        .inner_join(survey_versions::table)
        .filter(waves::state.eq("open"))
        .filter(survey_versions::slug.eq(slug))
        .select(waves::id)
        .load(conn)
}

/// scheduled → open; true for the one caller that made the change.
pub fn mark_open(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        waves::table
            .filter(waves::id.eq(id))
            .filter(waves::state.eq("scheduled")),
    )
    .set((waves::state.eq("open"), waves::opened_at.eq(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// open → closed; true for the one caller that made the change.
pub fn mark_closed(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        waves::table
            .filter(waves::id.eq(id))
            .filter(waves::state.eq("open")),
    )
    .set((waves::state.eq("closed"), waves::closed_at.eq(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// scheduled|open → cancelled; true for the one caller that made the change.
pub fn mark_cancelled(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        waves::table
            .filter(waves::id.eq(id))
            .filter(waves::state.eq_any(["scheduled", "open"])),
    )
    .set((waves::state.eq("cancelled"), waves::closed_at.eq(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Moves the reminder round counter from `from` to `to`; true for the one caller that did.
pub fn advance_reminders(conn: &mut DbConn, id: &str, from: i32, to: i32) -> QueryResult<bool> {
    diesel::update(
        waves::table
            .filter(waves::id.eq(id))
            .filter(waves::state.eq("open"))
            .filter(waves::reminders_enqueued.eq(from)),
    )
    .set(waves::reminders_enqueued.eq(to))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn set_counts(conn: &mut DbConn, id: &str, invited: i32, skipped: i32) -> QueryResult<usize> {
    diesel::update(waves::table.find(id))
        .set((
            waves::invited_count.eq(invited),
            waves::skipped_count.eq(skipped),
        ))
        .execute(conn)
}

/// The waves of a survey (any version) that opened (open or closed), oldest first: the trend.
/// Waves marked outside the trend (ad-hoc or test waves) are left out.
pub fn opened_of_survey(conn: &mut DbConn, slug: &str) -> QueryResult<Vec<WaveRow>> {
    waves::table
        .inner_join(survey_versions::table)
        .filter(survey_versions::slug.eq(slug))
        .filter(waves::state.eq_any(["open", "closed"]))
        .filter(diesel::dsl::not(waves::id.eq_any(
            trend_exclusions::table.select(trend_exclusions::wave_id),
        )))
        .order((waves::opens_at.asc(), waves::id.asc()))
        .select(WaveRow::as_select())
        .load(conn)
}

/// The most recent wave of the same survey (any version) that opened before `wave`.
pub fn previous_of_survey(
    conn: &mut DbConn,
    slug: &str,
    before: NaiveDateTime,
) -> QueryResult<Option<WaveRow>> {
    waves::table
        .inner_join(survey_versions::table)
        .filter(survey_versions::slug.eq(slug))
        .filter(waves::opens_at.lt(before))
        .filter(waves::state.eq_any(["open", "closed"]))
        .filter(diesel::dsl::not(waves::id.eq_any(
            trend_exclusions::table.select(trend_exclusions::wave_id),
        )))
        .order(waves::opens_at.desc())
        .select(WaveRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schedules)]
pub struct ScheduleRow {
    pub id: String,
    pub survey_slug: String,
    pub title_template: String,
    pub every_months: i32,
    pub open_for_hours: i32,
    pub reminder_hours: String,
    pub audience: Option<String>,
    pub anonymity_k: i32,
    pub active: bool,
    pub next_opens_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// Set when the schedule was stopped for good.
    pub stopped_at: Option<NaiveDateTime>,
}

pub fn insert_schedule(conn: &mut DbConn, schedule: &ScheduleRow) -> QueryResult<usize> {
    diesel::insert_into(schedules::table)
        .values(schedule)
        .execute(conn)
}

pub fn list_schedules(conn: &mut DbConn) -> QueryResult<Vec<ScheduleRow>> {
    schedules::table
        .order(schedules::created_at.asc())
        .select(ScheduleRow::as_select())
        .load(conn)
}

pub fn find_schedule(conn: &mut DbConn, id: &str) -> QueryResult<Option<ScheduleRow>> {
    schedules::table
        .find(id)
        .select(ScheduleRow::as_select())
        .first(conn)
        .optional()
}

/// Active schedules whose next wave should now be created (it opens before `horizon`).
pub fn schedules_due(conn: &mut DbConn, horizon: NaiveDateTime) -> QueryResult<Vec<ScheduleRow>> {
    schedules::table
        .filter(schedules::active.eq(true))
        .filter(schedules::next_opens_at.le(horizon))
        .select(ScheduleRow::as_select())
        .load(conn)
}

/// Moves a schedule's next opening from `from` to `to`; true for the one caller that did.
pub fn advance_schedule(
    conn: &mut DbConn,
    id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        schedules::table
            .filter(schedules::id.eq(id))
            .filter(schedules::next_opens_at.eq(from)),
    )
    .set(schedules::next_opens_at.eq(to))
    .execute(conn)
    .map(|n| n == 1)
}

/// Pauses (false) or resumes (true) a schedule that was not stopped; true for the one
/// caller that changed it.
pub fn set_schedule_active(conn: &mut DbConn, id: &str, active: bool) -> QueryResult<bool> {
    diesel::update(
        schedules::table
            .filter(schedules::id.eq(id))
            .filter(schedules::stopped_at.is_null())
            .filter(schedules::active.eq(!active)),
    )
    .set(schedules::active.eq(active))
    .execute(conn)
    .map(|n| n == 1)
}

/// Stops a schedule for good; true for the one caller that stopped it.
pub fn stop_schedule(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        schedules::table
            .filter(schedules::id.eq(id))
            .filter(schedules::stopped_at.is_null()),
    )
    .set((schedules::active.eq(false), schedules::stopped_at.eq(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// The settings an admin may change on a schedule (not its survey).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = schedules, treat_none_as_null = true)]
pub struct ScheduleChanges {
    pub title_template: String,
    pub every_months: i32,
    pub open_for_hours: i32,
    pub reminder_hours: String,
    pub audience: Option<String>,
    pub anonymity_k: i32,
    pub next_opens_at: NaiveDateTime,
}

/// Changes a schedule that was not stopped; true if it was changed.
pub fn update_schedule(
    conn: &mut DbConn,
    id: &str,
    changes: &ScheduleChanges,
) -> QueryResult<bool> {
    diesel::update(
        schedules::table
            .filter(schedules::id.eq(id))
            .filter(schedules::stopped_at.is_null()),
    )
    .set(changes)
    .execute(conn)
    .map(|n| n == 1)
}

/// The waves of a schedule, newest opening first.
pub fn of_schedule(conn: &mut DbConn, schedule_id: &str) -> QueryResult<Vec<WaveRow>> {
    waves::table
        .filter(waves::schedule_id.eq(schedule_id))
        .order(waves::opens_at.desc())
        .select(WaveRow::as_select())
        .load(conn)
}

/// The settings of a wave not yet opened that follow its schedule.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = waves, treat_none_as_null = true)]
pub struct PlannedWaveChanges {
    pub title: String,
    pub audience: Option<String>,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub reminder_hours: String,
    pub anonymity_k: i32,
}

/// Changes a wave that is still scheduled (not opened); true if it was changed.
pub fn update_planned_wave(
    conn: &mut DbConn,
    id: &str,
    changes: &PlannedWaveChanges,
) -> QueryResult<bool> {
    diesel::update(
        waves::table
            .filter(waves::id.eq(id))
            .filter(waves::state.eq("scheduled")),
    )
    .set(changes)
    .execute(conn)
    .map(|n| n == 1)
}

/// Marks a wave as outside its survey's trend (or back inside).
pub fn set_outside_trend(
    conn: &mut DbConn,
    id: &str,
    outside: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(trend_exclusions::table.find(id)).execute(conn)?;
    if outside {
        diesel::insert_into(trend_exclusions::table)
            .values((
                trend_exclusions::wave_id.eq(id),
                trend_exclusions::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Is the wave marked outside its survey's trend?
pub fn is_outside_trend(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(trend_exclusions::table.find(id))).get_result(conn)
}
