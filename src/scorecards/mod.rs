//! Shared scorecards: each business unit's survey figures beside procurement's request and
//! KPI figures, per half-year, each against its target.
//!
//! * [`definition`]: the measures and targets file (`survey-definitions/kpis/`).
//! * [`period`]: half-years (`2027-H1`).
//! * [`request_figures`]: opened, fulfilled, cycle times, share within target (pure).
//! * [`status`]: met / almost / missed against a target (pure).
//! * [`kpi_import`]: the KPI values file (pure); [`import_kpis`] stores it.
//! * [`card`]: a unit's scorecard (with the actions aimed at the unit) and the
//!   organisation's view; [`export`]: CSV and XLSX.
//! * [`summary`]: every unit's statuses at a glance, for the home page.
//! * [`unit_results`]: a unit's published results summaries (what its viewers may read).
//! * [`plan_kpi_import`] / [`import_kpis`]: the KPI values file, previewed and stored.

pub mod card;
pub mod charts;
pub mod definition;
pub mod export;
pub mod kpi_import;
pub mod period;
pub mod request_figures;
pub mod status;
pub mod summary;
pub mod unit_results;

use std::collections::HashSet;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::kpis as kpi_rows;
use crate::db::{self, DbConn};
use crate::services::stakeholders::ImportProblem;

/// What a KPI values import does (or, checked without writing, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KpiImportCounts {
    /// Values for a KPI, half-year and unit that had none.
    pub new: usize,
    /// Values replacing a stored one.
    pub replaced: usize,
}

impl KpiImportCounts {
    pub fn values(&self) -> usize {
        self.new + self.replaced
    }
}

/// A checked KPI values file against what is stored: the import page's preview.
#[derive(Debug, Clone)]
pub struct KpiImportPlan {
    pub values: Vec<kpi_import::KpiValue>,
    /// Per value: whether it replaces a stored one.
    pub replaces: Vec<bool>,
    pub counts: KpiImportCounts,
}

/// Checks a KPI values file against the definition and the directory, and works out what
/// importing it would do, without writing; or every problem.
pub fn plan_kpi_import(
    conn: &mut DbConn,
    bytes: &[u8],
    definition: &definition::ScorecardDefinition,
) -> anyhow::Result<Result<KpiImportPlan, Vec<ImportProblem>>> {
    let units = crate::requests::directory_units(conn)?;
    let values = match kpi_import::parse_kpi_values(bytes, definition, &units) {
        Ok(values) => values,
        Err(problems) => return Ok(Err(problems)),
    };
    let stored: HashSet<(String, String, String)> = kpi_rows::keys(conn)?.into_iter().collect();
    let replaces: Vec<bool> = values
        .iter()
        .map(|v| stored.contains(&(v.key.clone(), v.period.to_string(), v.business_unit.clone())))
        .collect();
    let replaced = replaces.iter().filter(|r| **r).count();
    Ok(Ok(KpiImportPlan {
        counts: KpiImportCounts {
            new: values.len() - replaced,
            replaced,
        },
        values,
        replaces,
    }))
}

/// Checks a KPI values file against the definition and the directory, and stores it (all
/// values, replacing earlier ones for the same KPI, half-year and unit) unless `dry_run`.
/// Returns what it did (or would do), or every problem with nothing stored.
pub fn import_kpis(
    conn: &mut DbConn,
    bytes: &[u8],
    definition: &definition::ScorecardDefinition,
    dry_run: bool,
    now: NaiveDateTime,
) -> anyhow::Result<Result<KpiImportCounts, Vec<ImportProblem>>> {
    db::write_transaction(conn, |conn| {
        let plan = match plan_kpi_import(conn, bytes, definition)? {
            Ok(plan) => plan,
            Err(problems) => return Ok(Err(problems)),
        };
        if !dry_run {
            let rows: Vec<kpi_rows::KpiValueRow> = plan
                .values
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
        Ok(Ok(plan.counts))
    })
}
