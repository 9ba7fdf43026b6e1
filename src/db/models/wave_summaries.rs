//! `wave_summaries`: the "what we heard" summary of a closed wave, sent once per wave (the
//! wave is the primary key), with the hash of its public link and whether that link was
//! revoked.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::wave_summaries;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wave_summaries, treat_none_as_default_value = false)]
pub struct SummaryRow {
    pub wave_id: String,
    /// The public link's token is derived from this id with the server key.
    pub id: String,
    /// SHA-256 of the link token.
    pub link_hash: String,
    pub sent_by: String,
    pub sent_at: NaiveDateTime,
    /// Mails queued.
    pub recipients: i32,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

/// Inserts the summary of a wave unless the wave has one: true for the one caller that
/// inserted it (two presses, or two instances, at once: one wins, the other gets false).
pub fn insert_once(conn: &mut DbConn, row: &SummaryRow) -> QueryResult<bool> {
    let insert = diesel::insert_into(wave_summaries::table)
        .values(row)
        .on_conflict_do_nothing();
    crate::on_backend!(conn, c => insert.execute(c)).map(|n| n == 1)
}

/// Sets how many mails were queued (in the transaction that inserted the row).
pub fn set_recipients(conn: &mut DbConn, wave_id: &str, recipients: i32) -> QueryResult<usize> {
    diesel::update(wave_summaries::table.find(wave_id))
        .set(wave_summaries::recipients.eq(recipients))
        .execute(conn)
}

pub fn find_by_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<Option<SummaryRow>> {
    wave_summaries::table
        .find(wave_id)
        .select(SummaryRow::as_select())
        .first(conn)
        .optional()
}

/// The summary behind a link, unless its link was revoked.
pub fn find_live_by_link_hash(
    conn: &mut DbConn,
    link_hash: &str,
) -> QueryResult<Option<SummaryRow>> {
    wave_summaries::table
        .filter(wave_summaries::link_hash.eq(link_hash))
        .filter(wave_summaries::revoked_at.is_null())
        .select(SummaryRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes the link of a wave's summary: true when this call revoked it.
pub fn revoke(conn: &mut DbConn, wave_id: &str, by: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        wave_summaries::table
            .find(wave_id)
            .filter(wave_summaries::revoked_at.is_null()),
    )
    .set((
        wave_summaries::revoked_at.eq(now),
        wave_summaries::revoked_by.eq(by),
    ))
    .execute(conn)
    .map(|n| n == 1)
}
