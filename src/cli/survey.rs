//! `pulse survey validate|load|list|schema`: check definition files (no database needed),
//! pin them in the database, show what is pinned, print the JSON schema.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::GlobalArgs;
use crate::definitions::{self, Loaded, Source};
use crate::services::surveys::{self, PinError, PinOutcome, PinStatus};

#[derive(Debug, clap::Subcommand)]
pub enum SurveyCommand {
    /// Check definition files (no database needed); exit status 1 on any error
    ///
    /// Prints `ok: FILE (SLUG vN, M questions)` per good file and `FILE: PATH: PROBLEM` per
    /// problem. Whether a changed file needs a higher "version" depends on what the database
    /// has pinned, so `pulse survey load` checks that.
    Validate {
        /// A definition file or a folder of them [default: the --definitions-dir folder]
        path: Option<PathBuf>,
    },
    /// Check the definitions and pin new versions in the database, all or nothing
    Load {
        /// A definition file or a folder of them [default: the --definitions-dir folder]
        path: Option<PathBuf>,
    },
    /// Show the survey versions pinned in the database, and definition files not loaded yet
    List,
    /// Print the JSON schema of definition files
    ///
    /// Regenerate the shipped copy with `pulse survey schema > survey-definitions/schema.json`.
    Schema,
}

pub fn run(global: &GlobalArgs, command: SurveyCommand) -> anyhow::Result<ExitCode> {
    match command {
        SurveyCommand::Validate { path } => validate(global, path.as_deref()),
        SurveyCommand::Load { path } => load(global, path.as_deref()),
        SurveyCommand::List => list(global),
        SurveyCommand::Schema => {
            print!("{}", definitions::schema_json());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The given path, or the configured folder (or the built-in definitions without it).
fn read(global: &GlobalArgs, path: Option<&Path>) -> anyhow::Result<Loaded> {
    match path {
        Some(path) => definitions::load(path),
        None => {
            let loaded = definitions::load_configured(&global.definitions_dir)?;
            if loaded.source == Source::BuiltIn {
                eprintln!(
                    "note: {} does not exist; using the built-in definitions",
                    global.definitions_dir.display()
                );
            }
            Ok(loaded)
        }
    }
}

/// Prints the warnings and errors of a load; true when there were errors.
fn report_problems(loaded: &Loaded) -> bool {
    for definition in &loaded.definitions {
        for warning in definition.warnings() {
            eprintln!("warning: {}: {warning}", definition.file());
        }
    }
    for error in &loaded.errors {
        eprintln!("{error}");
    }
    if loaded.errors.is_empty() {
        return false;
    }
    let bad_files = loaded.file_count() - loaded.definitions.len();
    eprintln!(
        "{} in {} of {} {} ({})",
        plural(loaded.errors.len(), "error"),
        bad_files,
        loaded.file_count(),
        if loaded.file_count() == 1 {
            "file"
        } else {
            "files"
        },
        loaded.source
    );
    true
}

fn nothing_found(loaded: &Loaded) -> bool {
    if loaded.file_count() == 0 {
        eprintln!("error: no survey definitions (*.json) in {}", loaded.source);
        return true;
    }
    false
}

fn validate(global: &GlobalArgs, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let loaded = read(global, path)?;
    if nothing_found(&loaded) {
        return Ok(ExitCode::FAILURE);
    }
    for definition in &loaded.definitions {
        println!(
            "ok: {} ({} v{}, {})",
            definition.file(),
            definition.slug(),
            definition.version(),
            plural(definition.definition().questions.len(), "question")
        );
    }
    Ok(if report_problems(&loaded) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn load(global: &GlobalArgs, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let loaded = read(global, path)?;
    if nothing_found(&loaded) {
        return Ok(ExitCode::FAILURE);
    }
    if report_problems(&loaded) {
        eprintln!("nothing was loaded");
        return Ok(ExitCode::FAILURE);
    }
    let source = loaded.source.to_string();
    let definitions = loaded.definitions;
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let report =
        match surveys::pin_definitions(&mut conn, &definitions, chrono::Utc::now().naive_utc()) {
            Ok(report) => report,
            Err(PinError::Refused(refusals)) => {
                for refusal in refusals {
                    eprintln!("{refusal}");
                }
                eprintln!("nothing was loaded");
                return Ok(ExitCode::FAILURE);
            }
            Err(error) => return Err(error.into()),
        };
    for entry in &report.entries {
        let outcome = match entry.outcome {
            PinOutcome::New => "new",
            PinOutcome::Unchanged => "unchanged",
        };
        println!(
            "{outcome}: {} v{} ({}, hash {})",
            entry.slug,
            entry.version,
            entry.file,
            surveys::short_hash(&entry.content_hash)
        );
    }
    println!(
        "{source}: {}, {} new, {} unchanged",
        plural(report.entries.len(), "definition"),
        report.count(PinOutcome::New),
        report.count(PinOutcome::Unchanged)
    );
    Ok(ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let pinned = surveys::list_pinned(&mut conn)?;
    if pinned.is_empty() {
        println!("no survey versions are loaded yet");
    } else {
        println!(
            "{:<28} {:>7} {:>9}  {:<12}  {:<16}  TITLE",
            "SURVEY", "VERSION", "QUESTIONS", "HASH", "LOADED (UTC)"
        );
        for survey in &pinned {
            println!(
                "{:<28} {:>7} {:>9}  {:<12}  {:<16}  {}",
                survey.slug,
                survey.version,
                survey.definition.questions.len(),
                surveys::short_hash(&survey.content_hash),
                survey.loaded_at.format("%Y-%m-%d %H:%M"),
                survey.title
            );
        }
    }

    // The files, against what is pinned.
    let loaded = definitions::load_configured(&global.definitions_dir)?;
    println!();
    if !loaded.errors.is_empty() {
        println!(
            "{}: {} cannot be loaded ({}); see `pulse survey validate`",
            loaded.source,
            plural(loaded.file_count() - loaded.definitions.len(), "file"),
            plural(loaded.errors.len(), "error")
        );
    }
    let mut waiting = 0;
    for definition in &loaded.definitions {
        let status = surveys::pin_status(&mut conn, definition)?;
        let line = match status {
            PinStatus::Loaded => continue,
            PinStatus::NotLoaded => format!(
                "not loaded yet: {} ({} v{}): run `pulse survey load`",
                definition.file(),
                definition.slug(),
                definition.version()
            ),
            refused => refused.refusal(definition).unwrap_or_default(),
        };
        waiting += 1;
        println!("{line}");
    }
    if waiting == 0 && loaded.errors.is_empty() {
        match loaded.definitions.len() {
            0 => println!("{}: no survey definitions", loaded.source),
            1 => println!("{}: the one definition is loaded", loaded.source),
            n => println!("{}: all {n} definitions are loaded", loaded.source),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
