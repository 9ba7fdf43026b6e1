//! `opt_outs` (no more mail about a survey) and `suppressions` (hard-bounced addresses).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{opt_outs, stakeholders, suppressions};
use crate::db::DbConn;

/// Records the opt-out (idempotent, safe under concurrency); true if it is new.
pub fn opt_out(
    conn: &mut DbConn,
    stakeholder_id: &str,
    survey_slug: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(opt_outs::table)
        .values((
            opt_outs::stakeholder_id.eq(stakeholder_id),
            opt_outs::survey_slug.eq(survey_slug),
            opt_outs::created_at.eq(now),
        ))
        .on_conflict_do_nothing();
    let inserted = crate::on_backend!(conn, c => insert.execute(c))?;
    Ok(inserted == 1)
}

pub fn opted_out_of(conn: &mut DbConn, survey_slug: &str) -> QueryResult<HashSet<String>> {
    opt_outs::table
        .filter(opt_outs::survey_slug.eq(survey_slug))
        .select(opt_outs::stakeholder_id)
        .load::<String>(conn)
        .map(|ids| ids.into_iter().collect())
}

pub fn is_opted_out(
    conn: &mut DbConn,
    stakeholder_id: &str,
    survey_slug: &str,
) -> QueryResult<bool> {
    opt_outs::table
        .find((stakeholder_id, survey_slug))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Which of `stakeholder_ids` opted out of `survey_slug` (a batch of mails to compose).
pub fn opted_out_among(
    conn: &mut DbConn,
    stakeholder_ids: &[&str],
    survey_slug: &str,
) -> QueryResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in stakeholder_ids.chunks(500) {
        found.extend(
            opt_outs::table
                .filter(opt_outs::survey_slug.eq(survey_slug))
                .filter(opt_outs::stakeholder_id.eq_any(chunk))
                .select(opt_outs::stakeholder_id)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// The active stakeholders a wave of `survey_slug` would leave out, as `(attributes JSON,
/// opted out)`: opted out of the survey (`true`), or else with a suppressed address
/// (`false`) — each once, in the order opening a wave checks them. Read from the two small
/// tables, each stakeholder found by its key, so the cost follows the exclusions, not the
/// directory.
pub fn active_excluded(conn: &mut DbConn, survey_slug: &str) -> QueryResult<Vec<(String, bool)>> {
    // `IN (…)`, not a join: SQLite scanned every stakeholder for the join (the opt-outs'
    // key leads with the stakeholder), where this reads the opt-outs and looks each one up.
    let opted_out: Vec<(String, String)> = stakeholders::table
        .filter(stakeholders::active.eq(true))
        .filter(
            stakeholders::id.eq_any(
                opt_outs::table
                    .filter(opt_outs::survey_slug.eq(survey_slug))
                    .select(opt_outs::stakeholder_id),
            ),
        )
        .select((stakeholders::id, stakeholders::attributes))
        .load(conn)?;
    let bounced: Vec<(String, String)> = stakeholders::table
        .filter(stakeholders::active.eq(true))
        .filter(stakeholders::email.eq_any(suppressions::table.select(suppressions::email)))
        .select((stakeholders::id, stakeholders::attributes))
        .load(conn)?;
    let ids: HashSet<&str> = opted_out.iter().map(|(id, _)| id.as_str()).collect();
    let bounced: Vec<(String, bool)> = bounced
        .into_iter()
        .filter(|(id, _)| !ids.contains(id.as_str()))
        .map(|(_, attributes)| (attributes, false))
        .collect();
    Ok(opted_out
        .into_iter()
        .map(|(_, attributes)| (attributes, true))
        .chain(bounced)
        .collect())
}

pub fn suppressed_emails(conn: &mut DbConn) -> QueryResult<HashSet<String>> {
    suppressions::table
        .select(suppressions::email)
        .load::<String>(conn)
        .map(|emails| emails.into_iter().collect())
}

/// Suppresses an address (idempotent, safe under concurrency); `wave_id`: the wave whose
/// mail was refused.
pub fn suppress(
    conn: &mut DbConn,
    email: &str,
    reason: &str,
    wave_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let insert = diesel::insert_into(suppressions::table)
        .values((
            suppressions::email.eq(email),
            suppressions::reason.eq(reason),
            suppressions::created_at.eq(now),
            suppressions::wave_id.eq(wave_id),
        ))
        .on_conflict_do_nothing();
    crate::on_backend!(conn, c => insert.execute(c))?;
    Ok(())
}

pub fn is_suppressed(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    suppressions::table
        .find(email)
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Every opt-out as `(stakeholder_id, survey_slug)`, for the stakeholder directory page.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    opt_outs::table
        .order((opt_outs::stakeholder_id.asc(), opt_outs::survey_slug.asc()))
        .select((opt_outs::stakeholder_id, opt_outs::survey_slug))
        .load(conn)
}

/// The opt-outs of these stakeholders as `(stakeholder_id, survey_slug)`, sorted (one page
/// of the stakeholder directory).
pub fn of_stakeholders(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<(String, String)>> {
    opt_outs::table
        .filter(opt_outs::stakeholder_id.eq_any(ids))
        .order((opt_outs::stakeholder_id.asc(), opt_outs::survey_slug.asc()))
        .select((opt_outs::stakeholder_id, opt_outs::survey_slug))
        .load(conn)
}

/// Which of these addresses are suppressed (one page of the stakeholder directory).
pub fn suppressed_among(conn: &mut DbConn, emails: &[&str]) -> QueryResult<HashSet<String>> {
    suppressions::table
        .filter(suppressions::email.eq_any(emails))
        .select(suppressions::email)
        .load::<String>(conn)
        .map(|emails| emails.into_iter().collect())
}

/// One suppressed address, as `pulse stakeholders suppressions` and the admin page list it.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct Suppression {
    pub email: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
    pub wave_id: Option<String>,
    /// The title of that wave, if it still exists.
    pub wave_title: Option<String>,
}

/// Every suppression, newest first.
pub fn suppressions(conn: &mut DbConn) -> QueryResult<Vec<Suppression>> {
    use crate::db::schema::waves;
    suppressions::table
        .left_join(waves::table.on(suppressions::wave_id.eq(waves::id.nullable())))
        .order((suppressions::created_at.desc(), suppressions::email.asc()))
        .select((
            suppressions::email,
            suppressions::reason,
            suppressions::created_at,
            suppressions::wave_id,
            waves::title.nullable(),
        ))
        .load(conn)
}

/// Ends the suppression of an address; false if it was not suppressed.
pub fn lift(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    diesel::delete(suppressions::table.find(email))
        .execute(conn)
        .map(|n| n == 1)
}

/// For the directory's health on the home page: people who opted out of at least one
/// survey, and blocked (suppressed) addresses.
pub fn health_counts(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    use diesel::AggregateExpressionMethods;
    let opted_out = opt_outs::table
        .select(diesel::dsl::count(opt_outs::stakeholder_id).aggregate_distinct())
        .first(conn)?;
    let suppressed = suppressions::table.count().get_result(conn)?;
    Ok((opted_out, suppressed))
}
