//! `stakeholders`: the directory of people a wave can invite.
//!
//! The bulk functions exist for the CSV import (`services::stakeholders`): one multi-row
//! INSERT per [`INSERT_BATCH_ROWS`] rows, and updates that always set the same columns so the
//! prepared statement is reused.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::stakeholders;
use crate::db::DbConn;

/// Rows per multi-row INSERT: 8 columns × 1000 rows = 8,000 bound parameters, well under
/// SQLite's limit (32,766 since 3.32; the bundled SQLite is newer) and PostgreSQL's (65,535).
pub const INSERT_BATCH_ROWS: usize = 1000;

/// Ids per `UPDATE … WHERE id IN (…)` when deactivating.
const ID_BATCH: usize = 1000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stakeholders)]
pub struct StakeholderRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    /// JSON object of strings; read it with `domain::stakeholder::Attributes::from_json`.
    pub attributes: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A row to insert. `None` is stored as NULL (not as the column default).
#[derive(Debug, Insertable)]
#[diesel(table_name = stakeholders, treat_none_as_default_value = false)]
pub struct NewStakeholder<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub language: Option<&'a str>,
    pub attributes: &'a str,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The full new state of an existing row (every column but the id and `created_at`).
/// `None` sets NULL.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = stakeholders, treat_none_as_null = true)]
pub struct StakeholderChanges<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub language: Option<&'a str>,
    pub attributes: &'a str,
    pub active: bool,
    pub updated_at: NaiveDateTime,
}

pub fn count_active(conn: &mut DbConn) -> QueryResult<i64> {
    stakeholders::table
        .filter(stakeholders::active.eq(true))
        .count()
        .get_result(conn)
}

/// Every stakeholder, active or not, ordered by email.
pub fn load_all(conn: &mut DbConn) -> QueryResult<Vec<StakeholderRow>> {
    stakeholders::table
        .order(stakeholders::email.asc())
        .select(StakeholderRow::as_select())
        .load(conn)
}

/// Active stakeholders (or all of them), ordered by email.
pub fn list(conn: &mut DbConn, include_inactive: bool) -> QueryResult<Vec<StakeholderRow>> {
    let mut query = stakeholders::table
        .order(stakeholders::email.asc())
        .select(StakeholderRow::as_select())
        .into_boxed();
    if !include_inactive {
        query = query.filter(stakeholders::active.eq(true));
    }
    query.load(conn)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<StakeholderRow>> {
    stakeholders::table
        .filter(stakeholders::email.eq(email))
        .select(StakeholderRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts the rows with one multi-row INSERT per [`INSERT_BATCH_ROWS`]; returns the count.
/// The SQL is the same on both backends, but diesel's `MultiConnection` does not support
/// multi-row inserts, so the statement runs on the inner connection.
pub fn insert_many(conn: &mut DbConn, rows: &[NewStakeholder<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_BATCH_ROWS) {
        let statement = diesel::insert_into(stakeholders::table).values(chunk);
        inserted += match conn {
            DbConn::Sqlite(inner) => statement.execute(inner)?,
            DbConn::Pg(inner) => statement.execute(inner)?,
        };
    }
    Ok(inserted)
}

pub fn update(conn: &mut DbConn, id: &str, changes: &StakeholderChanges<'_>) -> QueryResult<usize> {
    diesel::update(stakeholders::table.find(id))
        .set(changes)
        .execute(conn)
}

/// Marks the stakeholders inactive (their history stays); returns how many rows changed.
pub fn deactivate_many(conn: &mut DbConn, ids: &[&str], now: NaiveDateTime) -> QueryResult<usize> {
    let mut changed = 0;
    for chunk in ids.chunks(ID_BATCH) {
        changed += diesel::update(stakeholders::table.filter(stakeholders::id.eq_any(chunk)))
            .set((
                stakeholders::active.eq(false),
                stakeholders::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(changed)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<StakeholderRow>> {
    stakeholders::table
        .find(id)
        .select(StakeholderRow::as_select())
        .first(conn)
        .optional()
}
