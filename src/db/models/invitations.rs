//! `invitations`: one per audience member of an opened wave, found by the hash of its link
//! token. Nothing here ever links a response to an invitation.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{invitations, opt_outs, stakeholders, suppressions, waves};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations, treat_none_as_default_value = false)]
pub struct InvitationRow {
    pub id: String,
    pub wave_id: String,
    pub stakeholder_id: String,
    pub token_hash: String,
    pub unsubscribe_hash: String,
    pub segment: String,
    pub language: Option<String>,
    pub responded: bool,
    pub created_at: NaiveDateTime,
}

/// Rows per multi-row INSERT: 9 columns × 500 stays far below SQLite's parameter limit.
const BATCH: usize = 500;

pub fn insert_all(conn: &mut DbConn, rows: &[InvitationRow]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(BATCH) {
        let insert = diesel::insert_into(invitations::table).values(chunk);
        inserted += crate::on_backend!(conn, c => insert.execute(c))?;
    }
    Ok(inserted)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_token_hash(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_unsubscribe_hash(
    conn: &mut DbConn,
    hash: &str,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::unsubscribe_hash.eq(hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// The invitation of a stakeholder (by email) in a wave.
pub fn find_in_wave_by_email(
    conn: &mut DbConn,
    wave_id: &str,
    email: &str,
) -> QueryResult<Option<(InvitationRow, String)>> {
    invitations::table
        .inner_join(stakeholders::table)
        .filter(invitations::wave_id.eq(wave_id))
        .filter(stakeholders::email.eq(email))
        .select((InvitationRow::as_select(), stakeholders::email))
        .first(conn)
        .optional()
}

/// Marks the invitation responded if it was not yet: true for the one caller that did.
pub fn mark_responded(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::responded.eq(false)),
    )
    .set(invitations::responded.eq(true))
    .execute(conn)
    .map(|n| n == 1)
}

/// Invitations of `wave_id` that still deserve a reminder: not responded, stakeholder
/// still active, not opted out of `survey_slug`, address not suppressed. (id, email).
pub fn awaiting_reminder(
    conn: &mut DbConn,
    wave_id: &str,
    survey_slug: &str,
) -> QueryResult<Vec<(String, String)>> {
    invitations::table
        .inner_join(stakeholders::table)
        .filter(invitations::wave_id.eq(wave_id))
        .filter(invitations::responded.eq(false))
        .filter(stakeholders::active.eq(true))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            opt_outs::table
                .filter(opt_outs::stakeholder_id.eq(invitations::stakeholder_id))
                .filter(opt_outs::survey_slug.eq(survey_slug)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            suppressions::table.filter(suppressions::email.eq(stakeholders::email)),
        )))
        .select((invitations::id, stakeholders::email))
        .load(conn)
}

/// Counts for a wave: (invitations, responded).
pub fn counts(conn: &mut DbConn, wave_id: &str) -> QueryResult<(i64, i64)> {
    let total = invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .count()
        .get_result(conn)?;
    let responded = invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .filter(invitations::responded.eq(true))
        .count()
        .get_result(conn)?;
    Ok((total, responded))
}

/// Invitations of the open waves of a survey for one stakeholder (for opt-outs).
pub fn open_ids_for_stakeholder(
    conn: &mut DbConn,
    stakeholder_id: &str,
    wave_ids: &[String],
) -> QueryResult<Vec<String>> {
    invitations::table
        .inner_join(waves::table)
        .filter(invitations::stakeholder_id.eq(stakeholder_id))
        .filter(invitations::wave_id.eq_any(wave_ids))
        .select(invitations::id)
        .load(conn)
}

/// The invitation behind a link token with its wave, for the respondent form.
pub fn find_with_wave_by_token_hash(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<(InvitationRow, crate::db::models::waves::WaveRow)>> {
    invitations::table
        .inner_join(waves::table)
        .filter(invitations::token_hash.eq(token_hash))
        .select((
            InvitationRow::as_select(),
            crate::db::models::waves::WaveRow::as_select(),
        ))
        .first(conn)
        .optional()
}

pub fn ids_of_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<String>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .order(invitations::created_at.asc())
        .select(invitations::id)
        .load(conn)
}

/// Invitations answered, over all waves.
pub fn responded_count(conn: &mut DbConn) -> QueryResult<i64> {
    invitations::table
        .filter(invitations::responded.eq(true))
        .count()
        .get_result(conn)
}

/// The invitations of a wave with their stakeholder's email, ordered by email: a stable
/// order (ids are random), e.g. for `pulse demo`'s seeded answers.
pub fn of_wave_with_email(
    conn: &mut DbConn,
    wave_id: &str,
) -> QueryResult<Vec<(InvitationRow, String)>> {
    invitations::table
        .inner_join(stakeholders::table)
        .filter(invitations::wave_id.eq(wave_id))
        .order(stakeholders::email.asc())
        .select((InvitationRow::as_select(), stakeholders::email))
        .load(conn)
}
