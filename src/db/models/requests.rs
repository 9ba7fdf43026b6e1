//! `procurement_requests`: the request log the scorecards compute cycle times from.
//!
//! The import upserts by request id in multi-row statements of [`BATCH`] rows (only the
//! rows that are new or changed: [`stored`] is what it compares with); the readers return
//! only the columns the figures need.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{
    attribute_values, procurement_requests as requests, stakeholder_attributes, stakeholders,
};
use crate::db::DbConn;

/// Rows per multi-row upsert: 11 columns × 1000 rows = 11,000 bound parameters, under the
/// limits of SQLite (32,766) and PostgreSQL (65,535).
pub const BATCH: usize = 1000;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = requests, treat_none_as_default_value = false)]
pub struct RequestRow<'a> {
    pub id: &'a str,
    pub business_unit: &'a str,
    pub requester_email: Option<&'a str>,
    pub category: &'a str,
    pub channel: &'a str,
    pub value_amount: Option<f64>,
    pub currency: Option<&'a str>,
    pub opened_on: NaiveDate,
    pub fulfilled_on: Option<NaiveDate>,
    pub status: &'a str,
    pub imported_at: NaiveDateTime,
}

/// What the cycle-time figures read of a request.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct RequestDates {
    pub business_unit: String,
    pub category: String,
    pub opened_on: NaiveDate,
    pub fulfilled_on: Option<NaiveDate>,
    pub status: String,
}

/// What an import compares with the file: every column but `imported_at`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct StoredRequest {
    pub id: String,
    pub business_unit: String,
    pub requester_email: Option<String>,
    pub category: String,
    pub channel: String,
    pub value_amount: Option<f64>,
    pub currency: Option<String>,
    pub opened_on: NaiveDate,
    pub fulfilled_on: Option<NaiveDate>,
    pub status: String,
}

/// Inserts the rows, or updates every column of the rows whose id exists; returns the count.
pub fn upsert_many(conn: &mut DbConn, rows: &[RequestRow<'_>]) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in rows.chunks(BATCH) {
        let upsert = diesel::insert_into(requests::table)
            .values(chunk)
            .on_conflict(requests::id)
            .do_update()
            .set((
                requests::business_unit.eq(excluded(requests::business_unit)),
                requests::requester_email.eq(excluded(requests::requester_email)),
                requests::category.eq(excluded(requests::category)),
                requests::channel.eq(excluded(requests::channel)),
                requests::value_amount.eq(excluded(requests::value_amount)),
                requests::currency.eq(excluded(requests::currency)),
                requests::opened_on.eq(excluded(requests::opened_on)),
                requests::fulfilled_on.eq(excluded(requests::fulfilled_on)),
                requests::status.eq(excluded(requests::status)),
                requests::imported_at.eq(excluded(requests::imported_at)),
            ));
        written += crate::on_backend!(conn, c => upsert.execute(c))?;
    }
    Ok(written)
}

/// Every stored request, as an import compares it (the preview and the dry run).
pub fn stored(conn: &mut DbConn) -> QueryResult<Vec<StoredRequest>> {
    requests::table
        .select(StoredRequest::as_select())
        .load(conn)
}

/// One stored request and when it was last written (the request API's read and compare).
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<(StoredRequest, NaiveDateTime)>> {
    requests::table
        .filter(requests::id.eq(id))
        .select((StoredRequest::as_select(), requests::imported_at))
        .first(conn)
        .optional()
}

/// Whether an active stakeholder has `business_unit = unit`: one index lookup, for the
/// request API (the import reads every unit at once: [`directory_attributes`]).
pub fn unit_in_directory(conn: &mut DbConn, attribute: &str, unit: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        stakeholder_attributes::table
            .inner_join(stakeholders::table)
            .filter(stakeholder_attributes::name.eq(attribute))
            .filter(stakeholder_attributes::value.eq(unit))
            .filter(stakeholders::active.eq(true)),
    ))
    .get_result(conn)
}

/// The values of `attribute` the directory counts (active stakeholders or not), sorted:
/// named in the request API's answer to an unknown business unit.
pub fn attribute_values_of(conn: &mut DbConn, attribute: &str) -> QueryResult<Vec<String>> {
    attribute_values::table
        .filter(attribute_values::name.eq(attribute))
        .select(attribute_values::value)
        .order(attribute_values::value.asc())
        .load(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    requests::table.count().get_result(conn)
}

/// Which requests [`dates`] reads: opened by `opened_by`, and still open or fulfilled on or
/// after `fulfilled_from`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub opened_by: NaiveDate,
    pub fulfilled_from: NaiveDate,
}

/// The dates of one unit's requests, or of every unit's (`None`), in `window`.
pub fn dates(
    conn: &mut DbConn,
    unit: Option<&str>,
    window: &Window,
) -> QueryResult<Vec<RequestDates>> {
    let mut query = requests::table
        .select(RequestDates::as_select())
        .filter(requests::opened_on.le(window.opened_by))
        .filter(
            requests::fulfilled_on
                .is_null()
                .or(requests::fulfilled_on.ge(window.fulfilled_from)),
        )
        .into_boxed();
    if let Some(unit) = unit {
        query = query.filter(requests::business_unit.eq(unit));
    }
    query.load(conn)
}

/// The business units requests are filed under.
pub fn units(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    requests::table
        .select(requests::business_unit)
        .distinct()
        .order(requests::business_unit.asc())
        .load(conn)
}

/// The distinct attribute objects of active stakeholders (JSON text), from which the
/// directory's business units are read.
pub fn directory_attributes(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    stakeholders::table
        .filter(stakeholders::active.eq(true))
        .select(stakeholders::attributes)
        .distinct()
        .load(conn)
}
