//! `pulse scorecard [UNIT] --period 2027-H1 [--format json|csv]`: the figures of the
//! scorecard pages on standard output; `pulse scorecard UNIT --results`: the unit's
//! published results summaries (the figures of `/admin/scorecards/{unit}/results`).

use std::io::Write;
use std::process::ExitCode;

use super::GlobalArgs;
use crate::clock::{Clock, SystemClock};
use crate::scorecards::card::{organisation, unit_scorecard};
use crate::scorecards::period::HalfYear;
use crate::scorecards::{definition, export};
use crate::services::results::ResultsCache;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The same document as GET /api/v1/scorecards/{unit}?period=…
    Json,
    /// One row per measure (the same rows as the CSV download)
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ScorecardArgs {
    /// Business unit (a business_unit value of the directory); without it, every unit
    pub unit: Option<String>,
    /// Half-year, e.g. 2027-H1 [default: the one in which the survey's latest wave closed]
    #[arg(long, value_parser = HalfYear::parse)]
    pub period: Option<HalfYear>,
    /// Output format
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// The unit's published results summaries instead of its scorecard (needs UNIT)
    #[arg(long, requires = "unit", conflicts_with = "period")]
    pub results: bool,
}

pub fn run(global: &GlobalArgs, args: ScorecardArgs) -> anyhow::Result<ExitCode> {
    let loaded = definition::load_configured(&global.definitions_dir)?;
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let cache = ResultsCache::default();
    let now = SystemClock.now();
    let period = match args.period {
        Some(period) => period,
        None => crate::scorecards::card::default_period(&mut conn, &loaded, now.date())?,
    };
    if args.results {
        let unit = args.unit.as_deref().unwrap_or_default();
        if !crate::scorecards::card::known_units(&mut conn)?.contains(unit) {
            anyhow::bail!(
                "'{unit}' is not a business unit: neither the directory, nor the request log, nor the KPI values name it"
            );
        }
        let results = crate::scorecards::unit_results::unit_results(&mut conn, &cache, unit, now)?;
        let output = match args.format {
            Format::Json => json(&results)?,
            Format::Csv => crate::scorecards::unit_results::to_csv(&results)?,
        };
        std::io::stdout().lock().write_all(&output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let output = match &args.unit {
        Some(unit) => {
            let card = unit_scorecard(&mut conn, &cache, &loaded, unit, period, now)?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "'{unit}' is not a business unit: neither the directory, nor the request log, nor the KPI values name it"
                    )
                })?;
            match args.format {
                Format::Json => json(&card)?,
                Format::Csv => export::to_csv(std::slice::from_ref(&card))?,
            }
        }
        None => {
            let org = organisation(&mut conn, &cache, &loaded, period, now)?;
            match args.format {
                Format::Json => json(&org)?,
                Format::Csv => export::to_csv(&org.units)?,
            }
        }
    };
    std::io::stdout().lock().write_all(&output)?;
    Ok(ExitCode::SUCCESS)
}

fn json(value: &impl serde::Serialize) -> anyhow::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(value)?;
    json.push(b'\n');
    Ok(json)
}
