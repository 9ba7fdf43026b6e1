//! The procurement request log: `pulse requests import`, and the request figures per
//! business unit and half-year that the scorecards show.
//!
//! The import is all-or-nothing: [`csv_import::parse_requests`] checks the file alone,
//! [`check_units`] checks every business unit against the directory's `business_unit`
//! values, then [`apply_import`] upserts by request id in one transaction every row that
//! is new or changes a stored request. [`check_import`] works out, without writing, what the
//! import would do: the dry run and the import page.
//!
//! The request API writes one request at a time with [`upsert_one`], which reads only that
//! request and that business unit; both paths write through `rows::upsert_many`.

pub mod csv_import;
pub mod json;
pub mod table;
pub mod writer;

use std::collections::{BTreeSet, HashMap};

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

/// What an import did (or, on a dry run, would do): each row of the file is exactly one of
/// created, updated (stored, and a column changed) or unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What importing one row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Created,
    Updated,
    Unchanged,
}

impl RowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RowOutcome::Created => "new",
            RowOutcome::Updated => "updated",
            RowOutcome::Unchanged => "unchanged",
        }
    }
}

/// What an import would do, row by row (in the file's order) and counted.
#[derive(Debug, Clone)]
pub struct RequestImportPlan {
    pub counts: RequestImportCounts,
    pub outcomes: Vec<RowOutcome>,
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

/// What the import would do, checked against the directory without writing: the plan,
/// or a problem for every unknown business unit (the dry run and the import page's preview).
pub fn check_import(
    conn: &mut DbConn,
    records: &[RequestRecord],
) -> anyhow::Result<Result<RequestImportPlan, Vec<ImportProblem>>> {
    let problems = check_units(records, &directory_units(conn)?);
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    Ok(Ok(plan_import(conn, records)?))
}

/// Whether `stored` is `record` as the import would write it (apart from `imported_at`).
fn same(stored: &rows::StoredRequest, record: &RequestRecord) -> bool {
    stored.business_unit == record.business_unit
        && stored.requester_email.as_deref() == record.requester_email.as_ref().map(|e| e.as_str())
        && stored.category == record.category
        && stored.channel == record.channel
        && stored.value_amount == record.value
        && stored.currency == record.currency
        && stored.opened_on == record.opened_on
        && stored.fulfilled_on == record.fulfilled_on
        && stored.status == record.status.as_str()
}

/// Which records are new, which change a stored request and which are as stored.
pub fn plan_import(
    conn: &mut DbConn,
    records: &[RequestRecord],
) -> anyhow::Result<RequestImportPlan> {
    let stored = rows::stored(conn)?;
    let by_id: HashMap<&str, &rows::StoredRequest> =
        stored.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut counts = RequestImportCounts::default();
    let outcomes = records
        .iter()
        .map(|record| match by_id.get(record.id.as_str()) {
            None => {
                counts.created += 1;
                RowOutcome::Created
            }
            Some(row) if same(row, record) => {
                counts.unchanged += 1;
                RowOutcome::Unchanged
            }
            Some(_) => {
                counts.updated += 1;
                RowOutcome::Updated
            }
        })
        .collect();
    Ok(RequestImportPlan { counts, outcomes })
}

/// Checks the units and writes, in one transaction, every record that is new or changes
/// a stored request: all or nothing. A request that is fulfilled now owes its requester a
/// pulse (`pulse::record_fulfilled`, once per request), recorded in the same transaction. A stored request the file leaves as it is, is not
/// rewritten (its `imported_at` says when an import last changed it), so re-importing a
/// full export writes only what changed.
pub fn apply_import(
    conn: &mut DbConn,
    records: &[RequestRecord],
    targets: &TargetDays,
    now: NaiveDateTime,
) -> anyhow::Result<Result<RequestImportCounts, Vec<ImportProblem>>> {
    db::write_transaction(conn, |conn| {
        let plan = match check_import(conn, records)? {
            Ok(plan) => plan,
            Err(problems) => return Ok(Err(problems)),
        };
        let new_rows: Vec<rows::RequestRow<'_>> = records
            .iter()
            .zip(&plan.outcomes)
            .filter(|(_, outcome)| **outcome != RowOutcome::Unchanged)
            .map(|(r, _)| row_of(r, now))
            .collect();
        rows::upsert_many(conn, &new_rows)?;
        let written: Vec<&RequestRecord> = records
            .iter()
            .zip(&plan.outcomes)
            .filter(|(_, outcome)| **outcome != RowOutcome::Unchanged)
            .map(|(r, _)| r)
            .collect();
        crate::pulse::record_fulfilled(conn, &written, targets, now)?;
        Ok(Ok(plan.counts))
    })
}

/// A request the API wrote (or found as sent): what happened and the request as stored,
/// with when it was last written.
#[derive(Debug, Clone)]
pub struct UpsertedRequest {
    pub outcome: RowOutcome,
    pub stored: rows::StoredRequest,
    pub written_at: NaiveDateTime,
}

/// Why one request was refused by the database checks: its business unit is not in the
/// directory (the message lists the directory's units, as the import does).
#[derive(Debug, Clone)]
pub struct UnknownUnit(pub String);

/// Writes one request (the request API): refused when its business unit is not one of the
/// directory's; otherwise created, updated, or — when it is stored exactly so — left as it
/// is, without a write (`imported_at` unchanged). Reads only this request and this unit.
/// (The server batches the writes of concurrent calls: [`writer::RequestWriter`].)
pub fn upsert_one(
    conn: &mut DbConn,
    record: &RequestRecord,
    targets: &TargetDays,
    now: NaiveDateTime,
) -> anyhow::Result<Result<UpsertedRequest, UnknownUnit>> {
    match check_one(conn, record)? {
        Checked::Refused(unknown) => return Ok(Err(unknown)),
        Checked::Unchanged(found) => return Ok(Ok(found)),
        Checked::ToWrite => {}
    }
    db::write_transaction(conn, |conn| {
        write_one(conn, record, targets, now, &mut None)
    })
}

/// What reading (without writing) says about a request sent to the API.
#[derive(Debug)]
pub enum Checked {
    /// Its business unit is not the directory's.
    Refused(UnknownUnit),
    /// It is stored exactly so: nothing to write.
    Unchanged(UpsertedRequest),
    /// New, or different from what is stored.
    ToWrite,
}

/// Reads the request's unit and the stored request, and says whether there is anything to
/// write; the same request sent again is only read.
pub fn check_one(conn: &mut DbConn, record: &RequestRecord) -> anyhow::Result<Checked> {
    if let Some(unknown) = unknown_unit(conn, record)? {
        return Ok(Checked::Refused(unknown));
    }
    if let Some((stored, written_at)) = rows::find(conn, &record.id)? {
        if same(&stored, record) {
            return Ok(Checked::Unchanged(UpsertedRequest {
                outcome: RowOutcome::Unchanged,
                stored,
                written_at,
            }));
        }
    }
    Ok(Checked::ToWrite)
}

/// The refusal of a record whose business unit no active stakeholder has, in the import's
/// words (with the directory's units).
fn unknown_unit(conn: &mut DbConn, record: &RequestRecord) -> anyhow::Result<Option<UnknownUnit>> {
    if rows::unit_in_directory(conn, UNIT_ATTRIBUTE, &record.business_unit)? {
        return Ok(None);
    }
    let units = rows::attribute_values_of(conn, UNIT_ATTRIBUTE)?;
    let message = check_units(std::slice::from_ref(record), &units.into_iter().collect())
        .into_iter()
        .next()
        .map(|p| p.message)
        .unwrap_or_else(|| {
            format!(
                "'{}' is not a business unit of the directory",
                record.business_unit
            )
        });
    Ok(Some(UnknownUnit(message)))
}

/// Inside a write transaction: checks the unit again (unless `known_unit` says this batch
/// found it already) and writes the record if it is new or changed.
pub fn write_one(
    conn: &mut DbConn,
    record: &RequestRecord,
    targets: &TargetDays,
    now: NaiveDateTime,
    known_unit: &mut Option<BTreeSet<String>>,
) -> anyhow::Result<Result<UpsertedRequest, UnknownUnit>> {
    let known = known_unit
        .as_ref()
        .is_some_and(|units| units.contains(&record.business_unit));
    if !known {
        if let Some(unknown) = unknown_unit(conn, record)? {
            return Ok(Err(unknown));
        }
        known_unit
            .get_or_insert_with(BTreeSet::new)
            .insert(record.business_unit.clone());
    }
    let outcome = match rows::find(conn, &record.id)? {
        None => RowOutcome::Created,
        Some((stored, written_at)) if same(&stored, record) => {
            return Ok(Ok(UpsertedRequest {
                outcome: RowOutcome::Unchanged,
                stored,
                written_at,
            }))
        }
        Some(_) => RowOutcome::Updated,
    };
    rows::upsert_many(conn, &[row_of(record, now)])?;
    // Fulfilled now: the pulse it owes its requester, in the same transaction (once ever).
    crate::pulse::record_fulfilled(conn, &[record], targets, now)?;
    Ok(Ok(UpsertedRequest {
        outcome,
        stored: stored_of(record),
        written_at: now,
    }))
}

/// The row the import and the API write for a record.
fn row_of(r: &RequestRecord, now: NaiveDateTime) -> rows::RequestRow<'_> {
    rows::RequestRow {
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
    }
}

/// A record as [`upsert_one`] stores it.
fn stored_of(r: &RequestRecord) -> rows::StoredRequest {
    rows::StoredRequest {
        id: r.id.clone(),
        business_unit: r.business_unit.clone(),
        requester_email: r.requester_email.as_ref().map(|e| e.as_str().to_string()),
        category: r.category.clone(),
        channel: r.channel.clone(),
        value_amount: r.value,
        currency: r.currency.clone(),
        opened_on: r.opened_on,
        fulfilled_on: r.fulfilled_on,
        status: r.status.as_str().to_string(),
    }
}

/// One stored request (the API's GET) and when it was last written.
pub fn stored_request(
    conn: &mut DbConn,
    id: &str,
) -> anyhow::Result<Option<(rows::StoredRequest, NaiveDateTime)>> {
    Ok(rows::find(conn, id)?)
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
