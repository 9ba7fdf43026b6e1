//! `survey_versions`: survey definitions as loaded, pinned by (slug, version, content hash).
//! A row is never updated or deleted: answers collected for a version keep its meaning.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::survey_versions;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = survey_versions)]
pub struct SurveyVersionRow {
    pub id: String,
    pub slug: String,
    pub version: i32,
    /// SHA-256 (hex) of `definition`.
    pub content_hash: String,
    /// The title in the definition's default language.
    pub title: String,
    /// The definition as canonical JSON.
    pub definition: String,
    pub loaded_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = survey_versions)]
pub struct NewSurveyVersion<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub version: i32,
    pub content_hash: &'a str,
    pub title: &'a str,
    pub definition: &'a str,
    pub loaded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewSurveyVersion<'_>) -> QueryResult<usize> {
    diesel::insert_into(survey_versions::table)
        .values(row)
        .execute(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    survey_versions::table.count().get_result(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SurveyVersionRow>> {
    survey_versions::table
        .find(id)
        .select(SurveyVersionRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_slug_version(
    conn: &mut DbConn,
    slug: &str,
    version: i32,
) -> QueryResult<Option<SurveyVersionRow>> {
    survey_versions::table
        .filter(survey_versions::slug.eq(slug))
        .filter(survey_versions::version.eq(version))
        .select(SurveyVersionRow::as_select())
        .first(conn)
        .optional()
}

/// Every pinned version, by slug, oldest version first.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<SurveyVersionRow>> {
    survey_versions::table
        .order((survey_versions::slug.asc(), survey_versions::version.asc()))
        .select(SurveyVersionRow::as_select())
        .load(conn)
}

/// The highest version pinned for `slug`, if any.
pub fn latest_version(conn: &mut DbConn, slug: &str) -> QueryResult<Option<i32>> {
    survey_versions::table
        .filter(survey_versions::slug.eq(slug))
        .select(diesel::dsl::max(survey_versions::version))
        .first(conn)
}

/// The newest version of each survey, by slug.
pub fn latest_per_slug(conn: &mut DbConn) -> QueryResult<Vec<SurveyVersionRow>> {
    // A handful of rows per survey: one ordered query, newest first within a slug, keeping
    // the first row of each slug, is simpler than a portable correlated subquery.
    let rows: Vec<SurveyVersionRow> = survey_versions::table
        .order((survey_versions::slug.asc(), survey_versions::version.desc()))
        .select(SurveyVersionRow::as_select())
        .load(conn)?;
    let mut latest: Vec<SurveyVersionRow> = Vec::new();
    for row in rows {
        if latest.last().is_none_or(|last| last.slug != row.slug) {
            latest.push(row);
        }
    }
    Ok(latest)
}

/// The newest pinned version of `slug`.
pub fn latest(conn: &mut DbConn, slug: &str) -> QueryResult<Option<SurveyVersionRow>> {
    survey_versions::table
        .filter(survey_versions::slug.eq(slug))
        .order(survey_versions::version.desc())
        .select(SurveyVersionRow::as_select())
        .first(conn)
        .optional()
}

/// The slugs of every pinned survey, sorted.
pub fn slugs(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    survey_versions::table
        .select(survey_versions::slug)
        .distinct()
        .order(survey_versions::slug.asc())
        .load(conn)
}
