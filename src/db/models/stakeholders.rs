//! `stakeholders`: the directory of people a wave can invite.
//!
//! The bulk functions exist for the CSV import (`services::stakeholders`): new rows bound as
//! one JSON array per thousand (see [`crate::db::json_rows`]), and updates that always set the same columns so the
//! prepared statement is reused.
//!
//! Every write of a stakeholder keeps its two search helpers in step, in the same
//! transaction: the folded `email_key` / `name_key` columns ([`search_key`]) and the
//! `stakeholder_attributes` rows (one per attribute, the index of the JSON column);
//! `attribute_values` is counted by [`count_attribute_values`] on every import. The
//! directory search ([`DirectorySql`]) runs on those, with the indexes of migration
//! `2026-12-01-000009_directory_index`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::conn::MultiBackend;
use crate::db::schema::{attribute_values, stakeholder_attributes, stakeholders};
use crate::db::DbConn;

/// New stakeholders the import builds and hands to [`insert_many`] at a time.
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

/// A row to insert (see [`insert_many`]). `None` is stored as NULL.
#[derive(Debug, serde::Serialize)]
pub struct NewStakeholder {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub attributes: String,
    /// [`search_key`] of `email`.
    pub email_key: String,
    /// [`search_key`] of `name`; empty without a name.
    pub name_key: String,
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
#[derive(Debug, Insertable)]
#[diesel(table_name = stakeholder_attributes)]
pub struct NewAttribute<'a> {
    pub stakeholder_id: &'a str,
    pub name: &'a str,
    pub value: &'a str,
}

/// Attribute rows the import hands to [`insert_attributes`] at a time.
pub const ATTRIBUTE_BATCH_ROWS: usize = 3000;

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

/// Inserts new, active stakeholders created and updated at `now`, [`crate::db::JSON_BATCH_ROWS`]
/// per statement (see [`crate::db::json_rows`]); returns the count.
pub fn insert_many(
    conn: &mut DbConn,
    rows: &[NewStakeholder],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::sql_types::{Text, Timestamp};
    let mut inserted = 0;
    for chunk in rows.chunks(crate::db::JSON_BATCH_ROWS) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    &r.id,
                    &r.email,
                    &r.name,
                    &r.language,
                    &r.attributes,
                    &r.email_key,
                    &r.name_key,
                )
            })
            .collect();
        let json = crate::db::json_rows(&rows)?;
        inserted += match conn {
            DbConn::Sqlite(c) => diesel::sql_query(
                "INSERT INTO stakeholders (id, email, name, language, attributes, active, \
                 created_at, updated_at, email_key, name_key) \
                 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, TRUE, ?, ?, \
                 value->>5, value->>6 FROM json_each(?)",
            )
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(json)
            .execute(c)?,
            DbConn::Pg(c) => diesel::sql_query(
                "INSERT INTO stakeholders (id, email, name, language, attributes, active, \
                 created_at, updated_at, email_key, name_key) \
                 SELECT e->>0, e->>1, e->>2, e->>3, e->>4, TRUE, $1, $2, e->>5, e->>6 \
                 FROM json_array_elements($3::json) AS e",
            )
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(json)
            .execute(c)?,
        };
    }
    Ok(inserted)
}

/// Indexes the attribute `name` of new stakeholders: `(value, stakeholder id)` pairs, best
/// in the index's order (value, then id) so it is written front to back; one statement per
/// [`crate::db::JSON_BATCH_ROWS`] pairs (see [`crate::db::json_rows`]).
pub fn index_new_attributes(
    conn: &mut DbConn,
    name: &str,
    pairs: &[(&str, &str)],
) -> QueryResult<usize> {
    use diesel::sql_types::Text;
    let mut inserted = 0;
    for chunk in pairs.chunks(crate::db::JSON_BATCH_ROWS) {
        let json = crate::db::json_rows(chunk)?;
        inserted += match conn {
            DbConn::Sqlite(c) => diesel::sql_query(
                "INSERT INTO stakeholder_attributes (name, value, stakeholder_id) \
                 SELECT ?, value->>0, value->>1 FROM json_each(?)",
            )
            .bind::<Text, _>(name)
            .bind::<Text, _>(json)
            .execute(c)?,
            DbConn::Pg(c) => diesel::sql_query(
                "INSERT INTO stakeholder_attributes (name, value, stakeholder_id) \
                 SELECT $1, e->>0, e->>1 FROM json_array_elements($2::json) AS e",
            )
            .bind::<Text, _>(name)
            .bind::<Text, _>(json)
            .execute(c)?,
        };
    }
    Ok(inserted)
}

/// Indexes attributes of stakeholders whose rows were removed by [`delete_attributes`]
/// first (an import's updates: a few rows).
pub fn insert_attributes(conn: &mut DbConn, rows: &[NewAttribute<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(ATTRIBUTE_BATCH_ROWS) {
        let statement = diesel::insert_into(stakeholder_attributes::table).values(chunk);
        inserted += crate::on_backend!(conn, c => statement.execute(c))?;
    }
    Ok(inserted)
}

/// Refreshes the planner's statistics of the directory tables after an import changed many
/// rows: without them PostgreSQL plans a filtered page of a freshly imported directory as if
/// the tables were empty (seconds instead of milliseconds) until autovacuum gets to them.
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

/// Which stakeholders by state, in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveFilter {
    Active,
    Inactive,
    Any,
}

/// A directory search as SQL: a folded substring of the email or the name, the state and
/// conditions on attributes (each attribute must have one of its values).
#[derive(Debug, Clone)]
pub struct DirectorySql {
    /// Already folded with [`search_key`]; empty for everyone.
    pub text: String,
    pub active: ActiveFilter,
    /// `(attribute, values)`; every condition must hold.
    pub conditions: Vec<(String, Vec<String>)>,
}

diesel::define_sql_function! {
    /// Length in characters (`length` on both backends).
    #[sql_name = "length"]
    fn char_length(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

type BoxedStakeholders<'a> = stakeholders::BoxedQuery<'a, MultiBackend>;

/// `text` as a LIKE pattern matching it anywhere, with `\`, `%` and `_` escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl DirectorySql {
    fn query(&self) -> BoxedStakeholders<'_> {
        let mut query = stakeholders::table.into_boxed();
        match self.active {
            ActiveFilter::Active => query = query.filter(stakeholders::active.eq(true)),
            ActiveFilter::Inactive => query = query.filter(stakeholders::active.eq(false)),
            ActiveFilter::Any => {}
        }
        if !self.text.is_empty() {
            let pattern = contains_pattern(&self.text);
            query = query.filter(
                stakeholders::email_key
                    .like(pattern.clone())
                    .escape('\\')
                    .or(stakeholders::name_key.like(pattern).escape('\\')),
            );
        }
        for (name, values) in &self.conditions {
            query = query.filter(
                stakeholders::id.eq_any(
                    stakeholder_attributes::table
                        .filter(stakeholder_attributes::name.eq(name))
                        .filter(stakeholder_attributes::value.eq_any(values))
                        .select(stakeholder_attributes::stakeholder_id),
                ),
            );
        }
        query
    }

    /// How many stakeholders the search selects.
    pub fn count(&self, conn: &mut DbConn) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    /// `limit` stakeholders the search selects, ordered by email, from `offset`.
    pub fn page(
        &self,
        conn: &mut DbConn,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<StakeholderRow>> {
        self.query()
            .order(stakeholders::email.asc())
            .offset(offset)
            .limit(limit)
            .select(StakeholderRow::as_select())
            .load(conn)
    }

    /// The longest email and name (in characters) among the stakeholders the search selects,
    /// to align a listing before streaming it.
    pub fn longest(&self, conn: &mut DbConn) -> QueryResult<(usize, usize)> {
        use diesel::dsl::max;
        let (email, name): (Option<i32>, Option<i32>) = self
            .query()
            .select((
                max(char_length(stakeholders::email.nullable())),
                max(char_length(stakeholders::name)),
            ))
            .get_result(conn)?;
        let width = |n: Option<i32>| n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        Ok((width(email), width(name)))
    }

    /// `limit` stakeholders the search selects with an email after `after` (all from the
    /// start with `None`), ordered by email: the pages of a stream, each one index seek.
    pub fn after(
        &self,
        conn: &mut DbConn,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let mut query = self.query();
        if let Some(email) = after {
            query = query.filter(stakeholders::email.gt(email.to_string()));
        }
        query
            .order(stakeholders::email.asc())
            .limit(limit)
            .select(StakeholderRow::as_select())
            .load(conn)
    }
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
