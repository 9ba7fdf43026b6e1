//! `stakeholders`: the directory of people a wave can invite.
//!
//! The bulk functions exist for the CSV import (`services::stakeholders`): new rows as
//! prepared multi-row INSERTs of a fixed size (see [`crate::insert_batches!`]), and updates
//! that always set the same columns so the prepared statement is reused.
//!
//! Every write of a stakeholder keeps its two search helpers in step, in the same
//! transaction: the folded `email_key` / `name_key` columns ([`search_key`]) and the
//! `stakeholder_attributes` rows (one per attribute, the index of the JSON column);
//! `attribute_values` is counted by [`count_attribute_values`] on every import. The
//! directory search ([`DirectorySql`](super::directory_sql::DirectorySql)) runs on those,
//! with the indexes of migrations `2026-12-01-000009_directory_index`,
//! `2026-12-02-000019_directory_search` (whose SQLite triggers keep the trigram index of the
//! keys in step with every write) and `2026-12-02-000023_directory_filters` (SQLite: the
//! matches' emails by id, for sorting).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{attribute_values, stakeholder_attributes, stakeholders};
use crate::db::DbConn;

/// New stakeholders the import builds and hands to [`insert_many`] at a time.
pub const INSERT_BATCH_ROWS: usize = 1000;

/// Ids per `UPDATE … WHERE id IN (…)` when deactivating.
const ID_BATCH: usize = 1000;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = stakeholders)]
pub struct StakeholderRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    /// JSON object of strings; read it with `domain::stakeholder::Attributes::from_json`.
    pub attributes: String,
    pub active: bool,
}

/// A row to insert (see [`insert_many`]). `None` is stored as NULL. Owned, like every row
/// type of a bulk insert: a statement is cached by its type, which must not borrow.
#[derive(Debug, Insertable)]
#[diesel(table_name = stakeholders, treat_none_as_default_value = false)]
pub struct NewStakeholder {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub attributes: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// [`search_key`] of `email`.
    pub email_key: String,
    /// [`search_key`] of `name`; empty without a name.
    pub name_key: String,
}

/// The full new state of an existing row (every column but the id and `created_at`), for
/// [`update_many`]. `None` sets NULL.
#[derive(Debug)]
pub struct StakeholderChanges<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub language: Option<&'a str>,
    pub attributes: &'a str,
    pub active: bool,
    pub updated_at: NaiveDateTime,
    /// [`search_key`] of `email`.
    pub email_key: String,
    /// [`search_key`] of `name`; empty without a name.
    pub name_key: String,
}

/// The folded form of an email or a name that the directory search compares with a
/// substring (Unicode lower case, like the search text is folded).
pub fn search_key(text: &str) -> String {
    text.to_lowercase()
}

/// One attribute of a stakeholder, as indexed in `stakeholder_attributes`.
#[derive(Debug)]
pub struct NewAttribute<'a> {
    pub stakeholder_id: &'a str,
    pub name: &'a str,
    pub value: &'a str,
}

/// [`NewAttribute`] to insert, owned (see [`NewStakeholder`]). Without
/// `treat_none_as_default_value = false` diesel inserts a batch into SQLite row by row
/// (a statement per row inside a savepoint), even with no `Option` field.
#[derive(Debug, Insertable)]
#[diesel(table_name = stakeholder_attributes, treat_none_as_default_value = false)]
pub struct AttributeRow {
    pub stakeholder_id: String,
    pub name: String,
    pub value: String,
}

impl From<&NewAttribute<'_>> for AttributeRow {
    fn from(a: &NewAttribute<'_>) -> Self {
        Self {
            stakeholder_id: a.stakeholder_id.to_string(),
            name: a.name.to_string(),
            value: a.value.to_string(),
        }
    }
}

/// Attribute rows the import hands to [`insert_attributes`] at a time.
pub const ATTRIBUTE_BATCH_ROWS: usize = 3000;

pub fn count_active(conn: &mut DbConn) -> QueryResult<i64> {
    stakeholders::table
        .filter(stakeholders::active.eq(true))
        .count()
        .get_result(conn)
}

/// What an import plan needs of every stakeholder: the id, the email and whether active.
#[derive(Debug, Clone, Queryable)]
pub struct StoredKey {
    pub id: String,
    pub email: String,
    pub active: bool,
}

/// [`StoredKey`] of every stakeholder, active or not, ordered by email.
pub fn load_keys(conn: &mut DbConn) -> QueryResult<Vec<StoredKey>> {
    stakeholders::table
        .order(stakeholders::email.asc())
        .select((stakeholders::id, stakeholders::email, stakeholders::active))
        .load(conn)
}

/// The stakeholders with these ids (at most a few thousand: one statement), in no order.
pub fn find_many(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<StakeholderRow>> {
    stakeholders::table
        .filter(stakeholders::id.eq_any(ids))
        .select(StakeholderRow::as_select())
        .load(conn)
}

/// Every stakeholder, active or not, ordered by email.
pub fn load_all(conn: &mut DbConn) -> QueryResult<Vec<StakeholderRow>> {
    stakeholders::table
        .order(stakeholders::email.asc())
        .select(StakeholderRow::as_select())
        .load(conn)
}

/// What opening a wave reads of each active stakeholder: id, email, language, attributes
/// (JSON), ordered by email.
pub type InviteeRow = (String, String, Option<String>, String);

/// Every active stakeholder as [`InviteeRow`], ordered by email: the columns a wave's
/// invitations need, without the timestamps or search keys.
pub fn list_invitees(conn: &mut DbConn) -> QueryResult<Vec<InviteeRow>> {
    stakeholders::table
        .filter(stakeholders::active.eq(true))
        .order(stakeholders::email.asc())
        .select((
            stakeholders::id,
            stakeholders::email,
            stakeholders::language,
            stakeholders::attributes,
        ))
        .load(conn)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<StakeholderRow>> {
    stakeholders::table
        .filter(stakeholders::email.eq(email))
        .select(StakeholderRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts new stakeholders (see [`crate::insert_batches!`]); returns the count. A large
/// import calls it inside [`super::stakeholder_search::index_after`], which indexes the new
/// rows' search keys in one statement on SQLite.
pub fn insert_many(conn: &mut DbConn, rows: &[NewStakeholder]) -> QueryResult<usize> {
    crate::insert_batches!(conn, stakeholders::table, rows)
}

/// Indexes attributes of new stakeholders: best in the index's order (attribute, value,
/// stakeholder id) so it is written front to back (see [`crate::insert_batches!`]).
pub fn index_new_attributes(conn: &mut DbConn, rows: &[AttributeRow]) -> QueryResult<usize> {
    crate::insert_batches!(conn, stakeholder_attributes::table, rows, 300)
}

/// Indexes attributes of stakeholders whose rows were removed by [`delete_attributes`]
/// first (an import's updates).
pub fn insert_attributes(conn: &mut DbConn, rows: &[NewAttribute<'_>]) -> QueryResult<usize> {
    let rows: Vec<AttributeRow> = rows.iter().map(AttributeRow::from).collect();
    index_new_attributes(conn, &rows)
}

/// Refreshes the planner's statistics of the directory tables after an import changed many
/// rows: without them PostgreSQL plans a filtered page of a freshly imported directory as if
/// the tables were empty (seconds instead of milliseconds) until autovacuum gets to them.
///
/// SQLite's read every entry (0.1 s of a 100,000-row import): sampled (`analysis_limit =
/// 1000`) they came out far off — 1,001 rows per attribute name instead of 100,000, a
/// thousand values of `active` — the kind of figures that turn a plan.
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(c) => {
            c.batch_execute("ANALYZE stakeholders; ANALYZE stakeholder_attributes;")
        }
        DbConn::Pg(c) => c.batch_execute("ANALYZE stakeholders, stakeholder_attributes"),
    }
}

/// Removes these indexed attributes (each by its full key: the caller knows the old values).
pub fn delete_attributes(conn: &mut DbConn, rows: &[NewAttribute<'_>]) -> QueryResult<usize> {
    let mut deleted = 0;
    for row in rows {
        deleted += diesel::delete(stakeholder_attributes::table.find((
            row.name,
            row.value,
            row.stakeholder_id,
        )))
        .execute(conn)?;
    }
    Ok(deleted)
}

/// Adds `delta` to the number of stakeholders with each `(attribute, value)`; values no one
/// has any more are removed.
pub fn count_attribute_values(conn: &mut DbConn, delta: &[(&str, &str, i64)]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    for chunk in delta.chunks(ATTRIBUTE_BATCH_ROWS) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(name, value, n)| {
                (
                    attribute_values::name.eq(*name),
                    attribute_values::value.eq(*value),
                    attribute_values::people.eq(*n),
                )
            })
            .collect();
        let upsert = diesel::insert_into(attribute_values::table)
            .values(&rows)
            .on_conflict((attribute_values::name, attribute_values::value))
            .do_update()
            .set(
                attribute_values::people
                    .eq(attribute_values::people + excluded(attribute_values::people)),
            );
        crate::on_backend!(conn, c => upsert.execute(c))?;
    }
    diesel::delete(attribute_values::table.filter(attribute_values::people.le(0))).execute(conn)?;
    Ok(())
}

/// Every attribute with its distinct values and how many stakeholders (active or not) have
/// each, sorted by attribute and value.
pub fn attribute_values(conn: &mut DbConn) -> QueryResult<Vec<(String, String, i64)>> {
    attribute_values::table
        .order((attribute_values::name.asc(), attribute_values::value.asc()))
        .select((
            attribute_values::name,
            attribute_values::value,
            attribute_values::people,
        ))
        .load(conn)
}

/// Each attribute (sorted by name) with how many distinct values it has and the values its
/// filter control offers: every value (sorted) when there are at most `all_up_to`, otherwise
/// the `most_common` values most people have (most first; equal counts by value), read from
/// the index `attribute_values_by_people`.
pub fn attribute_choices(
    conn: &mut DbConn,
    all_up_to: i64,
    most_common: i64,
) -> QueryResult<Vec<(String, i64, Vec<String>)>> {
    let names: Vec<(String, i64)> = attribute_values::table
        .group_by(attribute_values::name)
        .select((attribute_values::name, diesel::dsl::count_star()))
        .order(attribute_values::name.asc())
        .load(conn)?;
    let mut choices = Vec::with_capacity(names.len());
    for (name, distinct) in names {
        let of_name = attribute_values::table.filter(attribute_values::name.eq(&name));
        let values: Vec<String> = if distinct <= all_up_to {
            of_name
                .order(attribute_values::value.asc())
                .select(attribute_values::value)
                .load(conn)?
        } else {
            of_name
                .order((
                    attribute_values::people.desc(),
                    attribute_values::value.asc(),
                ))
                .limit(most_common)
                .select(attribute_values::value)
                .load(conn)?
        };
        choices.push((name, distinct, values));
    }
    Ok(choices)
}

/// Every stakeholder, active or not.
pub fn count_all(conn: &mut DbConn) -> QueryResult<i64> {
    stakeholders::table.count().get_result(conn)
}

/// Sets `email_key` / `name_key` to [`search_key`] wherever they differ from it (rows
/// folded by the database's `lower()` in the migration: ASCII only on SQLite, and on
/// PostgreSQL by the database's locale); returns how many rows changed.
pub fn refold_search_keys(conn: &mut DbConn) -> QueryResult<usize> {
    let rows: Vec<(String, String, Option<String>, String, String)> = stakeholders::table
        .select((
            stakeholders::id,
            stakeholders::email,
            stakeholders::name,
            stakeholders::email_key,
            stakeholders::name_key,
        ))
        .load(conn)?;
    let mut changed = 0;
    for (id, email, name, email_key, name_key) in rows {
        let email_folded = search_key(&email);
        let name_folded = name.as_deref().map(search_key).unwrap_or_default();
        if email_folded != email_key || name_folded != name_key {
            changed += diesel::update(stakeholders::table.find(&id))
                .set((
                    stakeholders::email_key.eq(email_folded),
                    stakeholders::name_key.eq(name_folded),
                ))
                .execute(conn)?;
        }
    }
    Ok(changed)
}

/// Rows per statement of [`update_many`]: 9 bound values each, far below either backend's
/// limit on a statement's values.
pub const UPDATE_BATCH_ROWS: usize = 500;

/// The columns of [`update_many`]'s `changes` rows, in the order of their bound values.
const CHANGE_COLUMNS: [&str; 9] = [
    "id",
    "email",
    "name",
    "language",
    "attributes",
    "active",
    "updated_at",
    "email_key",
    "name_key",
];

/// The rows of `rows` bound to a statement of `$backend` in [`CHANGE_COLUMNS`]' order.
macro_rules! bind_changes {
    ($sql:expr, $rows:expr, $backend:ty) => {{
        use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
        let mut query = diesel::sql_query($sql).into_boxed::<$backend>();
        for row in $rows {
            query = query
                .bind::<Text, _>(row.id)
                .bind::<Text, _>(row.email)
                .bind::<Nullable<Text>, _>(row.name)
                .bind::<Nullable<Text>, _>(row.language)
                .bind::<Text, _>(row.attributes)
                .bind::<Bool, _>(row.active)
                .bind::<Timestamp, _>(row.updated_at)
                .bind::<Text, _>(&row.email_key)
                .bind::<Text, _>(&row.name_key);
        }
        query
    }};
}

/// Writes the new state of existing stakeholders, [`UPDATE_BATCH_ROWS`] rows per statement
/// (`UPDATE … FROM` a `VALUES` list), in the order given; returns how many rows changed.
///
/// One statement per row was prepared anew each time (diesel does not keep an `UPDATE`), and
/// on SQLite each statement ends with FTS5 writing its pending search-index entries out as a
/// new segment, which it then merges: 10,000 changed people of 100,000 took seconds. FTS5
/// also writes out early whenever a rowid is lower than the one before, so give the rows in
/// rowid order where you can (for time-ordered ids: in id order).
pub fn update_many(conn: &mut DbConn, rows: &[StakeholderChanges<'_>]) -> QueryResult<usize> {
    let mut changed = 0;
    let pg = matches!(conn, DbConn::Pg(_));
    for chunk in rows.chunks(UPDATE_BATCH_ROWS) {
        let sql = update_sql(chunk.len(), pg);
        changed += match conn {
            DbConn::Sqlite(c) => bind_changes!(sql, chunk, diesel::sqlite::Sqlite).execute(c)?,
            DbConn::Pg(c) => bind_changes!(sql, chunk, diesel::pg::Pg).execute(c)?,
        };
    }
    Ok(changed)
}

/// `WITH changes (…) AS (VALUES …) UPDATE stakeholders SET … FROM changes WHERE …` for
/// `rows` rows, with `?` placeholders (SQLite) or `$n` (PostgreSQL).
fn update_sql(rows: usize, pg: bool) -> String {
    let mut sql = format!("WITH changes ({}) AS (VALUES ", CHANGE_COLUMNS.join(", "));
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..CHANGE_COLUMNS.len() {
            n += 1;
            if column > 0 {
                sql.push_str(", ");
            }
            if pg {
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    let set: Vec<String> = CHANGE_COLUMNS[1..]
        .iter()
        .map(|column| format!("{column} = changes.{column}"))
        .collect();
    sql.push_str(") UPDATE stakeholders SET ");
    sql.push_str(&set.join(", "));
    sql.push_str(" FROM changes WHERE stakeholders.id = changes.id");
    sql
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
