//! Shared scorecards: each business unit's survey figures beside procurement's request and
//! KPI figures, per half-year, each against its target.
//!
//! * [`definition`]: the measures and targets file (`survey-definitions/kpis/`).
//! * [`period`]: half-years (`2027-H1`).
//! * [`request_figures`]: opened, fulfilled, cycle times, share within target (pure).
//! * [`status`]: met / almost / missed against a target (pure).
//! * [`kpi_import`]: the KPI values file (pure); [`import_kpis`] stores it.
//! * [`card`]: a unit's scorecard and the organisation's view; [`export`]: CSV and XLSX.

pub mod card;
pub mod charts;
pub mod definition;
pub mod export;
pub mod kpi_import;
pub mod period;
pub mod request_figures;
pub mod status;

use chrono::NaiveDateTime;

use crate::db::models::kpis as kpi_rows;
use crate::db::{self, DbConn};
use crate::services::stakeholders::ImportProblem;

/// Checks a KPI values file against the definition and the directory, and stores it (all
/// values, replacing earlier ones for the same KPI, half-year and unit) unless `dry_run`.
/// Returns the number of values, or every problem with nothing stored.
pub fn import_kpis(
    conn: &mut DbConn,
    bytes: &[u8],
    definition: &definition::ScorecardDefinition,
    dry_run: bool,
    now: NaiveDateTime,
) -> anyhow::Result<Result<usize, Vec<ImportProblem>>> {
    db::write_transaction(conn, |conn| {
        let units = crate::requests::directory_units(conn)?;
        let values = match kpi_import::parse_kpi_values(bytes, definition, &units) {
            Ok(values) => values,
            Err(problems) => return Ok(Err(problems)),
        };
        if !dry_run {
            let rows: Vec<kpi_rows::KpiValueRow> = values
                .iter()
                .map(|v| kpi_rows::KpiValueRow {
                    kpi_key: v.key.clone(),
                    period: v.period.to_string(),
                    business_unit: v.business_unit.clone(),
                    value: v.value,
                    imported_at: now,
                })
                .collect();
            kpi_rows::upsert_many(conn, &rows)?;
        }
        Ok(Ok(values.len()))
    })
}
