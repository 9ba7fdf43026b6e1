//! `invitations`: one per audience member of an opened wave, found by the hash of its link
//! token; and `answered_marks`, the keyed marks of answered invitations (see
//! `domain::token::answered_mark`). Nothing here ever links a response to an invitation,
//! and no column says whether an invitation was answered.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

use crate::db::cached_sql::{bind, cached};
use crate::db::schema::{
    answered_marks, invitations, legacy_answered, opt_outs, stakeholder_attributes, stakeholders,
    suppressions, waves,
};
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
    pub created_at: NaiveDateTime,
    /// The cell its response is stored under: `segment`, coarsened to a group of at least
    /// k invitees (see `anonymity::cells`).
    pub response_cell: String,
}

/// Inserts the invitations as prepared multi-row INSERTs (see [`crate::insert_batches!`]).
pub fn insert_all(conn: &mut DbConn, rows: &[InvitationRow]) -> QueryResult<usize> {
    crate::insert_batches!(conn, invitations::table, rows)
}

/// Values per `eq_any` lookup: far below SQLite's parameter limit.
const BATCH: usize = 500;

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

/// Stores the answered mark of an invitation of `wave_id` unless it is there already: true
/// for the one caller that stored it (of 50 concurrent submits with one link, one wins).
pub fn insert_answered_mark(conn: &mut DbConn, wave_id: &str, mark: &str) -> QueryResult<bool> {
    Ok(!insert_answered_marks(conn, &[(wave_id, mark)])?.is_empty())
}

/// Stores the answered marks `(wave id, mark)` that are not there already and returns
/// those this call stored (each distinct; of concurrent writers storing one mark, one
/// gets it). SQLite: one cached single-row INSERT per mark; PostgreSQL: one INSERT …
/// RETURNING of the marks bound as arrays — one statement text for any number of marks,
/// prepared once per connection ([`cached`]).
pub fn insert_answered_marks(
    conn: &mut DbConn,
    marks: &[(&str, &str)],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut stored = std::collections::HashSet::new();
    match conn {
        DbConn::Sqlite(c) => {
            for (wave_id, mark) in marks {
                let inserted = diesel::insert_into(answered_marks::table)
                    .values((
                        answered_marks::wave_id.eq(*wave_id),
                        answered_marks::mark.eq(*mark),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)?;
                if inserted == 1 {
                    stored.insert(mark.to_string());
                }
            }
        }
        DbConn::Pg(c) => {
            #[derive(QueryableByName)]
            struct Stored {
                #[diesel(sql_type = Text)]
                mark: String,
            }
            let (waves, marks): (Vec<&str>, Vec<&str>) = marks.iter().copied().unzip();
            stored.extend(
                cached(
                    "INSERT INTO answered_marks (wave_id, mark) \
                     SELECT * FROM unnest(?::text[], ?::text[]) \
                     ON CONFLICT DO NOTHING RETURNING mark",
                    (bind::<Array<Text>, _>(waves), bind::<Array<Text>, _>(marks)),
                )
                .load::<Stored>(c)?
                .into_iter()
                .map(|row| row.mark),
            );
        }
    }
    Ok(stored)
}

/// Whether `mark` is stored for the wave (the invitation it was computed from was answered).
pub fn has_answered_mark(conn: &mut DbConn, wave_id: &str, mark: &str) -> QueryResult<bool> {
    // On the backend's own connection: this runs for every survey page and answer.
    crate::on_backend!(conn, c => diesel::select(diesel::dsl::exists(
        answered_marks::table
            .filter(answered_marks::wave_id.eq(wave_id))
            .filter(answered_marks::mark.eq(mark)),
    ))
    .get_result(c))
}

/// Which of the `(wave id, mark)` pairs are stored (the answered marks among a batch of
/// mails to compose), read wave by wave: marks are keyed by (wave, mark).
pub fn answered_marks_among(
    conn: &mut DbConn,
    marks: &[(String, String)],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut by_wave: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (wave_id, mark) in marks {
        by_wave.entry(wave_id).or_default().push(mark);
    }
    let mut found = std::collections::HashSet::new();
    for (wave_id, marks) in by_wave {
        for chunk in marks.chunks(BATCH) {
            found.extend(
                answered_marks::table
                    .filter(answered_marks::wave_id.eq(wave_id))
                    .filter(answered_marks::mark.eq_any(chunk))
                    .select(answered_marks::mark)
                    .load::<String>(conn)?,
            );
        }
    }
    Ok(found)
}

/// What a mail needs of an invitation and its stakeholder.
#[derive(Debug, Clone, Queryable)]
pub struct MailInvitation {
    pub id: String,
    pub wave_id: String,
    pub stakeholder_id: String,
    /// The language at invitation time.
    pub language: Option<String>,
    pub name: Option<String>,
    /// The stakeholder's language now.
    pub stakeholder_language: Option<String>,
}

/// The invitations with these ids, each with what the mail needs of its stakeholder (a
/// batch of mails to compose).
pub fn find_for_mail(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<MailInvitation>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        found.extend(
            invitations::table
                .inner_join(stakeholders::table)
                .filter(invitations::id.eq_any(chunk))
                .select((
                    invitations::id,
                    invitations::wave_id,
                    invitations::stakeholder_id,
                    invitations::language,
                    stakeholders::name,
                    stakeholders::language,
                ))
                .load::<MailInvitation>(conn)?,
        );
    }
    Ok(found)
}

/// The answered marks of a wave (the server tells who answered by recomputing marks).
pub fn answered_marks_of_wave(
    conn: &mut DbConn,
    wave_id: &str,
) -> QueryResult<std::collections::HashSet<String>> {
    Ok(answered_marks::table
        .filter(answered_marks::wave_id.eq(wave_id))
        .select(answered_marks::mark)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// Forgets who answered a wave (at closing and cancelling): afterwards not even the key
/// tells it.
pub fn delete_answered_marks(conn: &mut DbConn, wave_id: &str) -> QueryResult<usize> {
    diesel::delete(answered_marks::table.filter(answered_marks::wave_id.eq(wave_id))).execute(conn)
}

/// Invitations flagged answered before marks existed (migration 2026-12-01-000006), with
/// their wave: turned into marks at start by the server, which has the key.
pub fn legacy_answered(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    legacy_answered::table
        .inner_join(invitations::table.on(invitations::id.eq(legacy_answered::invitation_id)))
        .select((invitations::id, invitations::wave_id))
        .load(conn)
}

pub fn delete_legacy_answered(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(legacy_answered::table).execute(conn)
}

/// Invitations of `wave_id` that may get a reminder: stakeholder still active, not opted
/// out of `survey_slug`, address not suppressed. (id, email). Whether they answered is
/// decided when the reminder is sent (`outbox::compose`), so the outbox holds a reminder
/// row for respondents and non-respondents alike.
pub fn awaiting_reminder(
    conn: &mut DbConn,
    wave_id: &str,
    survey_slug: &str,
) -> QueryResult<Vec<(String, String)>> {
    invitations::table
        .inner_join(stakeholders::table)
        .filter(invitations::wave_id.eq(wave_id))
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

/// Counts for a wave: (invitations, answered marks). After closing the marks are gone;
/// callers take the respondents from the results snapshot then.
pub fn counts(conn: &mut DbConn, wave_id: &str) -> QueryResult<(i64, i64)> {
    let total = invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .count()
        .get_result(conn)?;
    let responded = answered_marks::table
        .filter(answered_marks::wave_id.eq(wave_id))
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
    // On the backend's own connection: this runs for every survey page and answer.
    crate::on_backend!(conn, c => invitations::table
        .inner_join(waves::table)
        .filter(invitations::token_hash.eq(token_hash))
        .select((
            InvitationRow::as_select(),
            crate::db::models::waves::WaveRow::as_select(),
        ))
        .first(c)
        .optional())
}

/// [`find_with_wave_by_token_hash`] of many links in one statement (on PostgreSQL one
/// array parameter, so one prepared statement for any number): the invitations found, with
/// their waves, in no order.
pub fn find_with_waves_by_token_hashes(
    conn: &mut DbConn,
    token_hashes: &[&str],
) -> QueryResult<Vec<(InvitationRow, crate::db::models::waves::WaveRow)>> {
    let mut found = Vec::with_capacity(token_hashes.len());
    for chunk in token_hashes.chunks(BATCH) {
        found.extend(crate::on_backend!(conn, c => invitations::table
            .inner_join(waves::table)
            .filter(invitations::token_hash.eq_any(chunk))
            .select((
                InvitationRow::as_select(),
                crate::db::models::waves::WaveRow::as_select(),
            ))
            .load(c))?);
    }
    Ok(found)
}

pub fn ids_of_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<String>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .order(invitations::created_at.asc())
        .select(invitations::id)
        .load(conn)
}

/// Answered marks, over all waves (open ones: closing deletes a wave's marks).
pub fn responded_count(conn: &mut DbConn) -> QueryResult<i64> {
    answered_marks::table.count().get_result(conn)
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

/// Stores the invitations of one segment cell of a wave under another response cell
/// (coarsening).
pub fn move_cell(conn: &mut DbConn, wave_id: &str, from: &str, to: &str) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::wave_id.eq(wave_id))
            .filter(invitations::response_cell.eq(from)),
    )
    .set(invitations::response_cell.eq(to))
    .execute(conn)
}

/// The frozen segment of each invitation of a wave whose stakeholder has `attribute` in the
/// directory, with that attribute's current value (the stakeholder map's importance).
pub fn segments_with_attribute(
    conn: &mut DbConn,
    wave_id: &str,
    attribute: &str,
) -> QueryResult<Vec<(String, String)>> {
    invitations::table
        .inner_join(
            stakeholder_attributes::table.on(stakeholder_attributes::stakeholder_id
                .eq(invitations::stakeholder_id)
                .and(stakeholder_attributes::name.eq(attribute))),
        )
        .filter(invitations::wave_id.eq(wave_id))
        .select((invitations::segment, stakeholder_attributes::value))
        .load(conn)
}
