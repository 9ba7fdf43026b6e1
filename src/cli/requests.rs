//! `pulse requests import`: the procurement request log.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::GlobalArgs;
use crate::requests::{self, parse_requests};
use crate::services::stakeholders::ImportProblem;

#[derive(Debug, clap::Subcommand)]
pub enum RequestsCommand {
    /// Create or update procurement requests from a CSV file: all rows or, if any row is
    /// wrong, none
    ///
    /// Columns: request_id, business_unit (a business_unit value of the directory), category,
    /// channel, opened_on (YYYY-MM-DD) are required; requester_email, value, currency,
    /// fulfilled_on (empty while open) and status (open, fulfilled, cancelled) are optional.
    /// Requests are matched by request_id: importing a newer export updates those that
    /// changed (and leaves the others as they are).
    Import {
        /// The CSV file
        file: PathBuf,
        /// Check the file and show what the import would do, without changing anything
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(global: &GlobalArgs, command: RequestsCommand) -> anyhow::Result<ExitCode> {
    match command {
        RequestsCommand::Import { file, dry_run } => import(global, &file, dry_run),
    }
}

/// The error of a refused file: every problem, and that nothing was imported.
pub fn refused(shown: &str, problems: &[ImportProblem]) -> anyhow::Error {
    let count = problems.len();
    let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    anyhow::anyhow!(
        "{shown}: {count} problem{} found, so nothing was imported. Fix {} and import the file again:\n{}",
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" },
        list.join("\n")
    )
}

fn import(global: &GlobalArgs, file: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {shown}"))?;
    let records = parse_requests(&bytes).map_err(|problems| refused(&shown, &problems))?;
    println!(
        "{shown}: {} request{}",
        records.len(),
        if records.len() == 1 { "" } else { "s" }
    );
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let counts = if dry_run {
        let plan = requests::check_import(&mut conn, &records)?
            .map_err(|problems| refused(&shown, &problems))?;
        println!("dry run: nothing was changed; the import would give:");
        plan.counts
    } else {
        // The scorecard's targets say which fulfilled requests were late (the pulses' groups).
        let targets = crate::scorecards::definition::load_configured(&global.definitions_dir)?
            .request_targets
            .target_days();
        requests::apply_import(
            &mut conn,
            &records,
            &targets,
            chrono::Utc::now().naive_utc(),
        )?
        .map_err(|problems| refused(&shown, &problems))?
    };
    println!("created: {}", counts.created);
    println!("updated: {}", counts.updated);
    println!("unchanged: {}", counts.unchanged);
    Ok(ExitCode::SUCCESS)
}
