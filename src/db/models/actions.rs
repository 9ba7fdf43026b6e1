//! `actions`, `action_notes` and `action_history`: action plans aimed at a figure of a
//! closed wave, their dated progress notes, and every change with who and when.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{action_history, action_notes, actions, outbox, users, waves};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = actions, treat_none_as_default_value = false)]
pub struct ActionRow {
    pub id: String,
    pub wave_id: String,
    pub survey_slug: String,
    pub target_kind: String,
    pub target_key: String,
    pub group_attribute: Option<String>,
    pub group_value: Option<String>,
    pub title: String,
    /// JSON object: language → text for respondents.
    pub description: String,
    pub owner_id: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub published: bool,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = action_notes)]
pub struct NoteRow {
    pub id: String,
    pub action_id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = action_history, treat_none_as_default_value = false)]
pub struct HistoryRow {
    pub id: String,
    pub action_id: String,
    pub changed_by: String,
    pub changed_at: NaiveDateTime,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// What may change on an action (one `UPDATE`; history rows are written beside it).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = actions)]
pub struct ActionChanges {
    pub title: String,
    pub description: String,
    pub owner_id: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub published: bool,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &ActionRow) -> QueryResult<usize> {
    diesel::insert_into(actions::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ActionRow>> {
    actions::table
        .find(id)
        .select(ActionRow::as_select())
        .first(conn)
        .optional()
}

/// The actions of a survey (all of them when `slug` is `None`), soonest due first.
pub fn list(conn: &mut DbConn, slug: Option<&str>) -> QueryResult<Vec<ActionRow>> {
    let mut query = actions::table.into_boxed();
    if let Some(slug) = slug {
        query = query.filter(actions::survey_slug.eq(slug.to_string()));
    }
    query
        .order((
            actions::due_on.asc(),
            actions::created_at.asc(),
            actions::id.asc(),
        ))
        .select(ActionRow::as_select())
        .load(conn)
}

pub fn update(conn: &mut DbConn, id: &str, changes: &ActionChanges) -> QueryResult<usize> {
    diesel::update(actions::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn insert_note(conn: &mut DbConn, row: &NoteRow) -> QueryResult<usize> {
    diesel::insert_into(action_notes::table)
        .values(row)
        .execute(conn)
}

/// Inserts history rows one by one (a multi-row insert is not portable across the two
/// backends of `DbConn`); callers run it inside their transaction.
pub fn insert_history(conn: &mut DbConn, rows: &[HistoryRow]) -> QueryResult<usize> {
    let mut n = 0;
    for row in rows {
        n += diesel::insert_into(action_history::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(n)
}

/// The notes of an action with their author's email, oldest first.
pub fn notes(conn: &mut DbConn, action_id: &str) -> QueryResult<Vec<(NoteRow, String)>> {
    action_notes::table
        .inner_join(users::table.on(users::id.eq(action_notes::author_id)))
        .filter(action_notes::action_id.eq(action_id))
        .order((action_notes::created_at.asc(), action_notes::id.asc()))
        .select((NoteRow::as_select(), users::email))
        .load(conn)
}

/// The history of an action with the email of who changed it, oldest first.
pub fn history(conn: &mut DbConn, action_id: &str) -> QueryResult<Vec<(HistoryRow, String)>> {
    action_history::table
        .inner_join(users::table.on(users::id.eq(action_history::changed_by)))
        .filter(action_history::action_id.eq(action_id))
        .order((action_history::changed_at.asc(), action_history::id.asc()))
        .select((HistoryRow::as_select(), users::email))
        .load(conn)
}

/// The published actions of a survey that are not dropped, with the opening time of the
/// wave each answers ("you said, we did" picks from them).
pub fn published_of_survey(
    conn: &mut DbConn,
    slug: &str,
) -> QueryResult<Vec<(ActionRow, NaiveDateTime)>> {
    actions::table
        .inner_join(waves::table.on(waves::id.eq(actions::wave_id)))
        .filter(actions::survey_slug.eq(slug))
        .filter(actions::published.eq(true))
        .filter(actions::status.ne("dropped"))
        .select((ActionRow::as_select(), waves::opens_at))
        .load(conn)
}

/// The published actions planned on one wave's results, not dropped ("what we heard").
pub fn published_of_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<ActionRow>> {
    actions::table
        .filter(actions::wave_id.eq(wave_id))
        .filter(actions::published.eq(true))
        .filter(actions::status.ne("dropped"))
        .order((actions::due_on.asc(), actions::id.asc()))
        .select(ActionRow::as_select())
        .load(conn)
}

/// Planned or in-progress actions due on or before `until`, soonest first (overdue ones
/// included): the owners' digest and the home page's "actions due".
pub fn open_due_by(
    conn: &mut DbConn,
    until: NaiveDate,
    owner_id: Option<&str>,
) -> QueryResult<Vec<ActionRow>> {
    let mut query = actions::table
        .filter(actions::status.eq_any(["planned", "in_progress"]))
        .filter(actions::due_on.le(until))
        .into_boxed();
    if let Some(owner) = owner_id {
        query = query.filter(actions::owner_id.eq(owner.to_string()));
    }
    query
        .order((
            actions::due_on.asc(),
            actions::created_at.asc(),
            actions::id.asc(),
        ))
        .select(ActionRow::as_select())
        .load(conn)
}

/// Which of the outbox `dedupe_keys` exist already (a read, so a scheduler tick with
/// nothing new to queue writes nothing).
pub fn queued_keys(
    conn: &mut DbConn,
    dedupe_keys: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    Ok(outbox::table
        .filter(outbox::dedupe_key.eq_any(dedupe_keys))
        .select(outbox::dedupe_key)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// When an outbox row was queued (the digest lists what was due on that day).
pub fn queued_at(conn: &mut DbConn, outbox_id: &str) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .find(outbox_id)
        .select(outbox::created_at)
        .first(conn)
        .optional()
}
