//! The procurement request log: `pulse requests import`, and the request figures per
//! business unit and half-year that the scorecards show.
//!
//! The import is all-or-nothing: [`csv_import::parse_requests`] checks the file alone,
//! [`check_units`] checks every business unit against the directory's `business_unit`
//! values, then [`apply_import`] upserts every row by request id in one transaction.

pub mod csv_import;
pub mod table;

use std::collections::{BTreeSet, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::db::models::requests as rows;
use crate::db::{self, DbConn};
use crate::domain::stakeholder::Attributes;
use crate::scorecards::period::HalfYear;
use crate::scorecards::request_figures::{self, RequestDates, RequestFigures, TargetDays};
use crate::services::stakeholders::ImportProblem;

pub use csv_import::{parse_requests, RequestRecord, RequestStatus};

/// The directory attribute requests are filed under.
pub const UNIT_ATTRIBUTE: &str = "business_unit";

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestImportCounts {
    pub created: usize,
    pub updated: usize,
}

/// The business units of the directory: the values of the active stakeholders'
/// `business_unit` attribute.
pub fn directory_units(conn: &mut DbConn) -> anyhow::Result<BTreeSet<String>> {
    let mut units = BTreeSet::new();
    for json in rows::directory_attributes(conn)? {
        let attributes = Attributes::from_json(&json).map_err(anyhow::Error::msg)?;
        if let Some(unit) = attributes.get(UNIT_ATTRIBUTE) {
            units.insert(unit.to_string());
        }
    }
    Ok(units)
}

/// A problem for every request whose business unit the directory does not know.
pub fn check_units(records: &[RequestRecord], units: &BTreeSet<String>) -> Vec<ImportProblem> {
    let known: Vec<&str> = units.iter().map(String::as_str).collect();
    let listed = if known.is_empty() {
        "the directory has no business_unit values yet: import the stakeholders first".to_string()
    } else {
        format!("the directory's business units are {}", known.join(", "))
    };
    records
        .iter()
        .filter(|r| !units.contains(&r.business_unit))
        .map(|r| {
            ImportProblem::new(
                r.line,
                Some("business_unit"),
                format!(
                    "'{}' is not a business unit of the directory ({listed})",
                    r.business_unit
                ),
            )
        })
        .collect()
}

/// What the import would do, checked against the directory without writing: the counts,
/// or a problem for every unknown business unit (the dry run and the import page's preview).
pub fn check_import(
    conn: &mut DbConn,
    records: &[RequestRecord],
) -> anyhow::Result<Result<RequestImportCounts, Vec<ImportProblem>>> {
    let problems = check_units(records, &directory_units(conn)?);
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    Ok(Ok(plan_import(conn, records)?))
}

/// Which of `ids` are stored already (the preview's first rows: new or updated).
pub fn stored_ids(conn: &mut DbConn, ids: &[&str]) -> anyhow::Result<HashSet<String>> {
    Ok(rows::existing_ids(conn, ids)?.into_iter().collect())
}

/// How many of the records are new and how many update stored requests.
pub fn plan_import(
    conn: &mut DbConn,
    records: &[RequestRecord],
) -> anyhow::Result<RequestImportCounts> {
    let existing: HashSet<String> = rows::all_ids(conn)?.into_iter().collect();
    let updated = records.iter().filter(|r| existing.contains(&r.id)).count();
    Ok(RequestImportCounts {
        created: records.len() - updated,
        updated,
    })
}

/// Checks the units and writes every record in one transaction: all or nothing.
pub fn apply_import(
    conn: &mut DbConn,
    records: &[RequestRecord],
    now: NaiveDateTime,
) -> anyhow::Result<Result<RequestImportCounts, Vec<ImportProblem>>> {
    db::write_transaction(conn, |conn| {
        let problems = check_units(records, &directory_units(conn)?);
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        // Counted around the upsert (the file's ids are unique): cheaper than reading every
        // stored id first.
        let before = rows::count(conn)?;
        let new_rows: Vec<rows::RequestRow<'_>> = records
            .iter()
            .map(|r| rows::RequestRow {
                id: &r.id,
                business_unit: &r.business_unit,
                requester_email: r.requester_email.as_ref().map(|e| e.as_str()),
                category: &r.category,
                channel: &r.channel,
                value_amount: r.value,
                currency: r.currency.as_deref(),
                opened_on: r.opened_on,
                fulfilled_on: r.fulfilled_on,
                status: r.status.as_str(),
                imported_at: now,
            })
            .collect();
        rows::upsert_many(conn, &new_rows)?;
        let created = usize::try_from(rows::count(conn)? - before)
            .map_err(|_| anyhow::anyhow!("the request log shrank during the import"))?;
        Ok(Ok(RequestImportCounts {
            created,
            updated: records.len().saturating_sub(created),
        }))
    })
}

/// The stored requests' dates, to compute figures from.
pub struct RequestLog {
    rows: Vec<rows::RequestDates>,
}

impl RequestLog {
    /// One unit's requests, or every unit's: those the figures of the half-years `first`
    /// to `last` can count, as of `today`. A request opened after `last`, or fulfilled
    /// before `first` began (and before today), counts in none of them: not opened, not
    /// fulfilled, not open at any of their ends.
    pub fn load(
        conn: &mut DbConn,
        unit: Option<&str>,
        first: HalfYear,
        last: HalfYear,
        today: NaiveDate,
    ) -> anyhow::Result<Self> {
        let window = rows::Window {
            opened_by: last.end(),
            fulfilled_from: first.start().min(today),
        };
        Ok(Self {
            rows: rows::dates(conn, unit, &window)?,
        })
    }

    /// The figures of `unit` (or all units) in `period` as of `today`.
    pub fn figures(
        &self,
        unit: Option<&str>,
        period: HalfYear,
        today: NaiveDate,
        targets: &TargetDays,
    ) -> RequestFigures {
        let dates: Vec<RequestDates<'_>> = self
            .rows
            .iter()
            .filter(|r| unit.is_none_or(|u| r.business_unit == u))
            .map(|r| RequestDates {
                category: &r.category,
                opened: r.opened_on,
                fulfilled: r.fulfilled_on,
                cancelled: r.status == "cancelled",
            })
            .collect();
        request_figures::request_figures(&dates, period, today, targets)
    }
}
