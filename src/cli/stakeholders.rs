//! `pulse stakeholders import|list|suppressions|lift`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::GlobalArgs;
use crate::domain::audience::AudienceFilter;
use crate::services::stakeholders::{self as directory, parse_csv};

#[derive(Debug, clap::Subcommand)]
pub enum StakeholdersCommand {
    /// Create or update stakeholders from a CSV file: all rows or, if any row is wrong, none
    ///
    /// Columns: email (required), name, language (e.g. en, de, pt-BR); every other column is a
    /// segment attribute (business_unit, department, region, ...). Headers are matched
    /// case-insensitively, spaces and hyphens count as _. UTF-8 (with or without BOM),
    /// delimiter , or ; (detected from the header line). Stakeholders are matched by email;
    /// an empty cell means "no value".
    Import {
        /// The CSV file
        file: PathBuf,
        /// Check the file and show what the import would do, without changing anything
        #[arg(long)]
        dry_run: bool,
        /// Deactivate active stakeholders who are not in the file (they keep their history)
        #[arg(long)]
        deactivate_missing: bool,
    },
    /// List stakeholders (active ones unless --all), ordered by email
    List {
        /// Only stakeholders whose attribute has one of the values: ATTRIBUTE=VALUE[,VALUE...]
        /// (e.g. business_unit=Manufacturing,R&D). Repeat the option, or join conditions with
        /// ;, for AND. Values match exactly; quote one containing , or ; as "Sales, Marketing"
        #[arg(long = "filter", value_name = "ATTRIBUTE=VALUES")]
        filters: Vec<AudienceFilter>,
        /// Include deactivated stakeholders
        #[arg(long)]
        all: bool,
    },
    /// List blocked addresses: those the mail server refused (address, reason, date, wave).
    /// They get no mail until lifted
    Suppressions,
    /// Unblock an address the mail server once refused: the next wave invites it again and
    /// a resend reaches it
    Lift {
        /// The email address
        email: String,
    },
}

pub fn run(global: &GlobalArgs, command: StakeholdersCommand) -> anyhow::Result<ExitCode> {
    match command {
        StakeholdersCommand::Import {
            file,
            dry_run,
            deactivate_missing,
        } => import(global, &file, dry_run, deactivate_missing),
        StakeholdersCommand::List { filters, all } => {
            let mut filter = AudienceFilter::everyone();
            for one in filters {
                filter = filter.and(one).context("--filter")?;
            }
            list(global, &filter, all)
        }
        StakeholdersCommand::Suppressions => suppressions(global),
        StakeholdersCommand::Lift { email } => lift(global, &email),
    }
}

fn suppressions(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let list = crate::services::suppressions::list(&mut conn)?;
    let width = list
        .iter()
        .map(|s| s.email.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "{:<width$}  {:<16}  {:<24}  REASON",
        "EMAIL", "SINCE (UTC)", "WAVE"
    );
    for s in &list {
        let wave = match (&s.wave_title, &s.wave_id) {
            (Some(title), _) => title.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => "-".into(),
        };
        println!(
            "{:<width$}  {:<16}  {:<24}  {}",
            s.email,
            s.created_at.format("%Y-%m-%d %H:%M"),
            wave,
            s.reason
        );
    }
    println!(
        "{} blocked address{}{}",
        list.len(),
        if list.len() == 1 { "" } else { "es" },
        if list.is_empty() {
            ""
        } else {
            " (unblock one with `pulse stakeholders lift EMAIL`)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn lift(global: &GlobalArgs, email: &str) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let address = crate::services::suppressions::lift(&mut conn, email)?;
    println!("{address} is no longer blocked: the next wave invites it, and a resend reaches it");
    Ok(ExitCode::SUCCESS)
}

fn import(
    global: &GlobalArgs,
    file: &std::path::Path,
    dry_run: bool,
    deactivate_missing: bool,
) -> anyhow::Result<ExitCode> {
    let shown = file.display();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {shown}"))?;
    let parsed = match parse_csv(&bytes) {
        Ok(parsed) => parsed,
        Err(problems) => {
            let count = problems.len();
            let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            anyhow::bail!(
                "{shown}: {count} problem{} found, so nothing was imported. Fix {} and import the file again:\n{}",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" },
                list.join("\n")
            );
        }
    };
    // The parsed file holds what the import needs; the file's bytes would only add to the
    // peak memory (10 MB for 100,000 people).
    drop(bytes);
    let attributes: Vec<&str> = parsed
        .columns()
        .attributes
        .iter()
        .map(|a| a.as_str())
        .collect();
    println!(
        "{shown}: {} stakeholder{}, attributes: {}",
        parsed.len(),
        if parsed.len() == 1 { "" } else { "s" },
        if attributes.is_empty() {
            "none".to_string()
        } else {
            attributes.join(", ")
        }
    );

    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let counts = if dry_run {
        directory::plan_import(&mut conn, &parsed, deactivate_missing)?.counts
    } else {
        directory::apply_import(
            &mut conn,
            &parsed,
            deactivate_missing,
            chrono::Utc::now().naive_utc(),
        )?
        .counts
    };
    if dry_run {
        println!("dry run: nothing was changed; the import would give:");
    }
    println!("created: {}", counts.created);
    println!("updated: {}", counts.updated);
    println!("unchanged: {}", counts.unchanged);
    println!("reactivated: {}", counts.reactivated);
    println!("deactivated: {}", counts.deactivated);
    Ok(ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs, filter: &AudienceFilter, all: bool) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    // Streamed: the column widths come from the database first, then the rows in batches of
    // ten thousand, so memory does not grow with the directory.
    let (longest_email, longest_name) = directory::directory::longest(&mut conn, filter, all)?;
    let width = longest_email.max(5);
    let name_width = longest_name.max(4);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(
        out,
        "{:<width$}  {:<name_width$}  {:<8}  {:<8}  ATTRIBUTES",
        "EMAIL", "NAME", "LANGUAGE", "STATUS"
    )?;
    let count = directory::directory::for_each(&mut conn, filter, all, |s| {
        writeln!(
            out,
            "{:<width$}  {:<name_width$}  {:<8}  {:<8}  {}",
            s.email,
            s.name.as_deref().unwrap_or("-"),
            s.language.as_deref().unwrap_or("-"),
            if s.active { "active" } else { "inactive" },
            s.attributes
        )?;
        Ok(())
    })?;
    let status = if all { "" } else { "active " };
    let noun = if count == 1 {
        "stakeholder"
    } else {
        "stakeholders"
    };
    let matching = if filter.is_everyone() {
        String::new()
    } else {
        format!(" matching {filter}")
    };
    writeln!(out, "{count} {status}{noun}{matching}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
