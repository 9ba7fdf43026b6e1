//! `pulse kpi import|validate|schema`: KPI values and the scorecard definition.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::GlobalArgs;
use crate::scorecards::{self, definition};

#[derive(Debug, clap::Subcommand)]
pub enum KpiCommand {
    /// Load KPI values per half-year and business unit from a CSV file: all rows or, if any
    /// row is wrong, none
    ///
    /// Columns: kpi (the key of a measure with "source": {"from": "kpi"} in the scorecard
    /// definition), period (e.g. 2027-H1), business_unit (a business_unit value of the
    /// directory), value (. or , as decimal separator). A value for the same KPI, period and
    /// unit replaces the earlier one.
    Import {
        /// The CSV file
        file: PathBuf,
        /// Check the file without storing anything
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the scorecard definition (DEFINITIONS_DIR/kpis/scorecard.json, or the built-in one)
    Validate,
    /// Print the JSON schema of the scorecard definition
    ///
    /// Regenerate the shipped copy with `pulse kpi schema > survey-definitions/kpis/schema.json`.
    Schema,
}

pub fn run(global: &GlobalArgs, command: KpiCommand) -> anyhow::Result<ExitCode> {
    match command {
        KpiCommand::Import { file, dry_run } => import(global, &file, dry_run),
        KpiCommand::Validate => {
            let loaded = definition::load_configured(&global.definitions_dir)?;
            println!(
                "the scorecard definition (version {}) is valid: {} measures",
                loaded.version,
                loaded.measures.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        KpiCommand::Schema => {
            print!("{}", definition::schema_json());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn import(global: &GlobalArgs, file: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {shown}"))?;
    let loaded = definition::load_configured(&global.definitions_dir)?;
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let counts = scorecards::import_kpis(
        &mut conn,
        &bytes,
        &loaded,
        dry_run,
        chrono::Utc::now().naive_utc(),
    )?
    .map_err(|problems| super::requests::refused(&shown, &problems))?;
    let count = counts.values();
    if dry_run {
        println!(
            "dry run: nothing was changed; {count} KPI values are valid ({} new, {} replacing stored values)",
            counts.new, counts.replaced
        );
    } else {
        println!(
            "{shown}: {count} KPI values imported ({} new, {} replaced)",
            counts.new, counts.replaced
        );
    }
    Ok(ExitCode::SUCCESS)
}
