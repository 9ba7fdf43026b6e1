//! `request_pulses`, `pulse_periods` and `pulse_settings`: the pulses fulfilled requests
//! owe, the quarterly pulse waves, and the settings an admin edits; plus the reads the
//! touch rules need (who was pulsed lately, who holds an open survey invitation, which
//! waves open soon).

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{
    invitations, pulse_periods, pulse_settings, request_pulses, schedules, stakeholders, waves,
};
use crate::db::DbConn;

/// Rows per multi-row INSERT (9 columns).
const BATCH: usize = 1000;

/// A pulse a request owes, as recorded when it became fulfilled.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = request_pulses, treat_none_as_default_value = false)]
pub struct NewPulse<'a> {
    pub request_id: &'a str,
    pub requester_email: &'a str,
    pub business_unit: &'a str,
    pub category: &'a str,
    pub channel: &'a str,
    pub within_target: bool,
    pub fulfilled_on: NaiveDate,
    pub seen_at: NaiveDateTime,
}

/// A pulse as the scheduler decides it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = request_pulses)]
pub struct PulseRow {
    pub request_id: String,
    pub requester_email: String,
    pub business_unit: String,
    pub category: String,
    pub channel: String,
    pub within_target: bool,
    pub fulfilled_on: NaiveDate,
    pub seen_at: NaiveDateTime,
}

/// Records the pulses of requests that became fulfilled; a request that already owes (or
/// was decided) one is left alone: one pulse per request, however often it is imported.
pub fn record(conn: &mut DbConn, rows: &[NewPulse<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(BATCH) {
        let insert = diesel::insert_into(request_pulses::table)
            .values(chunk)
            .on_conflict(request_pulses::request_id)
            .do_nothing();
        inserted += crate::on_backend!(conn, c => insert.execute(c))?;
    }
    Ok(inserted)
}

/// Takes up to `limit` waiting pulses seen by `seen_by` for this transaction: they are
/// marked decided at once (a conditional UPDATE … RETURNING), so two processes never take
/// the same pulse. The caller sets each one's outcome in the same transaction.
pub fn take_due(
    conn: &mut DbConn,
    seen_by: NaiveDateTime,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<PulseRow>> {
    let ids: Vec<String> = request_pulses::table
        .filter(request_pulses::state.eq("waiting"))
        .filter(request_pulses::seen_at.le(seen_by))
        .order((
            request_pulses::seen_at.asc(),
            request_pulses::request_id.asc(),
        ))
        .limit(limit)
        .select(request_pulses::request_id)
        .load(conn)?;
    let mut taken = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let update = diesel::update(
            request_pulses::table
                .filter(request_pulses::request_id.eq_any(chunk))
                .filter(request_pulses::state.eq("waiting")),
        )
        .set((
            request_pulses::state.eq("skipped"),
            request_pulses::decided_at.eq(now),
        ));
        // `as_returning` is typed per backend, so it is built inside each arm.
        let rows: Vec<PulseRow> = crate::on_backend!(conn, c => update
            .returning(PulseRow::as_returning())
            .get_results(c))?;
        taken.extend(rows);
    }
    taken.sort_by(|a, b| (a.seen_at, &a.request_id).cmp(&(b.seen_at, &b.request_id)));
    Ok(taken)
}

/// Sets the outcome of taken pulses: skipped with `reason`.
pub fn mark_skipped(conn: &mut DbConn, ids: &[&str], reason: &str) -> QueryResult<usize> {
    let mut updated = 0;
    for chunk in ids.chunks(BATCH) {
        updated +=
            diesel::update(request_pulses::table.filter(request_pulses::request_id.eq_any(chunk)))
                .set(request_pulses::skip_reason.eq(reason))
                .execute(conn)?;
    }
    Ok(updated)
}

/// Sets the outcome of taken pulses: invited in `wave_id`.
pub fn mark_invited(conn: &mut DbConn, ids: &[&str], wave_id: &str) -> QueryResult<usize> {
    let mut updated = 0;
    for chunk in ids.chunks(BATCH) {
        updated +=
            diesel::update(request_pulses::table.filter(request_pulses::request_id.eq_any(chunk)))
                .set((
                    request_pulses::state.eq("invited"),
                    request_pulses::skip_reason.eq(None::<String>),
                    request_pulses::wave_id.eq(wave_id),
                ))
                .execute(conn)?;
    }
    Ok(updated)
}

/// Dates every waiting pulse to 17:00 on the day its request was fulfilled (the demo's
/// history, imported at once, is replayed as it happened).
pub fn backdate_seen_to_fulfilment(conn: &mut DbConn) -> QueryResult<usize> {
    let days: Vec<NaiveDate> = request_pulses::table
        .filter(request_pulses::state.eq("waiting"))
        .select(request_pulses::fulfilled_on)
        .distinct()
        .load(conn)?;
    let mut updated = 0;
    for day in days {
        let seen = day.and_hms_opt(17, 0, 0).unwrap_or_default();
        updated += diesel::update(
            request_pulses::table
                .filter(request_pulses::state.eq("waiting"))
                .filter(request_pulses::fulfilled_on.eq(day)),
        )
        .set(request_pulses::seen_at.eq(seen))
        .execute(conn)?;
    }
    Ok(updated)
}

/// Pulses per state and skip reason: (state, reason, count).
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(String, Option<String>, i64)>> {
    request_pulses::table
        .group_by((request_pulses::state, request_pulses::skip_reason))
        .select((
            request_pulses::state,
            request_pulses::skip_reason,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// An active stakeholder as the touch rules read them.
#[derive(Debug, Clone, Queryable)]
pub struct PersonRow {
    pub id: String,
    pub email: String,
    pub language: Option<String>,
    /// The attributes' JSON.
    pub attributes: String,
}

/// The active stakeholders with these addresses.
pub fn people_by_email(conn: &mut DbConn, emails: &[&str]) -> QueryResult<Vec<PersonRow>> {
    let mut people = Vec::new();
    for chunk in emails.chunks(BATCH) {
        people.extend(
            stakeholders::table
                .filter(stakeholders::active.eq(true))
                .filter(stakeholders::email.eq_any(chunk))
                .select((
                    stakeholders::id,
                    stakeholders::email,
                    stakeholders::language,
                    stakeholders::attributes,
                ))
                .load::<PersonRow>(conn)?,
        );
    }
    Ok(people)
}

/// Stakeholders invited to a pulse at or after `since`.
pub fn pulsed_since(conn: &mut DbConn, since: NaiveDateTime) -> QueryResult<HashSet<String>> {
    invitations::table
        .inner_join(pulse_periods::table.on(pulse_periods::wave_id.eq(invitations::wave_id)))
        .filter(invitations::created_at.ge(since))
        .select(invitations::stakeholder_id)
        .distinct()
        .load::<String>(conn)
        .map(|ids| ids.into_iter().collect())
}

/// The stakeholders invited in a wave.
pub fn invited_people(conn: &mut DbConn, wave_id: &str) -> QueryResult<HashSet<String>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .select(invitations::stakeholder_id)
        .load::<String>(conn)
        .map(|ids| ids.into_iter().collect())
}

/// Stakeholders holding an invitation of an open wave that is not a pulse period.
pub fn in_open_surveys(conn: &mut DbConn) -> QueryResult<HashSet<String>> {
    let pulse_waves = pulse_periods::table.select(pulse_periods::wave_id);
    invitations::table
        .inner_join(waves::table)
        .filter(waves::state.eq("open"))
        .filter(waves::id.ne_all(pulse_waves))
        .select(invitations::stakeholder_id)
        .distinct()
        .load::<String>(conn)
        .map(|ids| ids.into_iter().collect())
}

/// The audiences (None: everyone) of survey waves that open between `now` and `until`:
/// scheduled waves, and active schedules whose next wave is not created yet.
pub fn audiences_opening(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<Option<String>>> {
    let mut audiences: Vec<Option<String>> = waves::table
        .filter(waves::state.eq("scheduled"))
        .filter(waves::opens_at.ge(now))
        .filter(waves::opens_at.le(until))
        .select(waves::audience)
        .load(conn)?;
    audiences.extend(
        schedules::table
            .filter(schedules::active.eq(true))
            .filter(schedules::next_opens_at.ge(now))
            .filter(schedules::next_opens_at.le(until))
            .select(schedules::audience)
            .load::<Option<String>>(conn)?,
    );
    Ok(audiences)
}

/// A pulse period: its wave and the quarter it collects.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pulse_periods)]
pub struct PeriodRow {
    pub wave_id: String,
    pub survey_slug: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

pub fn insert_period(conn: &mut DbConn, row: &PeriodRow) -> QueryResult<usize> {
    let insert = diesel::insert_into(pulse_periods::table)
        .values(row)
        .on_conflict_do_nothing();
    crate::on_backend!(conn, c => insert.execute(c))
}

pub fn find_period(
    conn: &mut DbConn,
    survey_slug: &str,
    starts_on: NaiveDate,
) -> QueryResult<Option<PeriodRow>> {
    pulse_periods::table
        .filter(pulse_periods::survey_slug.eq(survey_slug))
        .filter(pulse_periods::starts_on.eq(starts_on))
        .select(PeriodRow::as_select())
        .first(conn)
        .optional()
}

/// Every pulse period with its wave, newest first.
pub fn periods(conn: &mut DbConn) -> QueryResult<Vec<(PeriodRow, super::waves::WaveRow)>> {
    pulse_periods::table
        .inner_join(waves::table)
        .order(pulse_periods::starts_on.desc())
        .select((PeriodRow::as_select(), super::waves::WaveRow::as_select()))
        .load(conn)
}

/// Whether a wave is a pulse period.
pub fn is_period(conn: &mut DbConn, wave_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        pulse_periods::table.filter(pulse_periods::wave_id.eq(wave_id)),
    ))
    .get_result(conn)
}

/// Open pulse waves whose closing time has come.
pub fn due_to_close(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    pulse_periods::table
        .inner_join(waves::table)
        .filter(waves::state.eq("open"))
        .filter(waves::closes_at.le(now))
        .select(waves::id)
        .load(conn)
}

/// Adds `n` invitations to a wave's count.
pub fn add_invited(conn: &mut DbConn, wave_id: &str, n: i32) -> QueryResult<usize> {
    diesel::update(waves::table.find(wave_id))
        .set(waves::invited_count.eq(waves::invited_count + n))
        .execute(conn)
}

/// A pulse wave's invitations: (id, segment).
pub fn invitation_segments(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<(String, String)>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .select((invitations::id, invitations::segment))
        .load(conn)
}

/// Sets the response cell of a wave's invitations of one segment.
pub fn set_response_cell(
    conn: &mut DbConn,
    wave_id: &str,
    segment: &str,
    cell: &str,
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::wave_id.eq(wave_id))
            .filter(invitations::segment.eq(segment)),
    )
    .set(invitations::response_cell.eq(cell))
    .execute(conn)
}

/// A wave's invitations per response cell.
pub fn invited_per_response_cell(
    conn: &mut DbConn,
    wave_id: &str,
) -> QueryResult<Vec<(String, i64)>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .group_by(invitations::response_cell)
        .select((invitations::response_cell, diesel::dsl::count_star()))
        .load(conn)
}

/// The stored pulse settings, if an admin saved any.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = pulse_settings)]
pub struct SettingsRow {
    pub id: i32,
    pub enabled: bool,
    pub survey_slug: String,
    pub delay_hours: i32,
    pub min_days_between: i32,
    pub quiet_days_before_wave: i32,
    pub max_age_days: i32,
    pub answer_days: i32,
    pub anonymity_k: i32,
    pub updated_at: NaiveDateTime,
}

pub fn settings(conn: &mut DbConn) -> QueryResult<Option<SettingsRow>> {
    pulse_settings::table
        .find(1)
        .select(SettingsRow::as_select())
        .first(conn)
        .optional()
}

pub fn save_settings(conn: &mut DbConn, row: &SettingsRow) -> QueryResult<usize> {
    let upsert = diesel::insert_into(pulse_settings::table)
        .values(row)
        .on_conflict(pulse_settings::id)
        .do_update()
        .set(row);
    crate::on_backend!(conn, c => upsert.execute(c))
}
