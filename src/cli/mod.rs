//! The command line: `pulse serve | migrate | user | stakeholders | survey | wave |
//! schedule | tick | requests | api-key | kpi | scorecard | results | mirror | map | backup |
//! restore | demo`. Each command
//! group lives in its own file; this one holds the global options and the dispatch.
//! Errors print what was wrong and what to do, and exit non-zero.

mod action;
mod api_key;
mod backup;
mod demo;
mod email_args;
mod kpi;
mod mirror;
mod requests;
mod results;
mod scorecard;
mod serve;
mod stakeholders;
mod survey;
mod tick;
mod user;
mod wave;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use self::email_args::EmailArgs;
use crate::config::SecretKey;
use crate::db::{self, DatabaseUrl};

#[derive(Debug, Parser)]
#[command(
    name = "pulse",
    version,
    about = "Procurement Pulse: ask the people procurement serves how the service feels, every half-year",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The database when `--database-url` / `PULSE_DATABASE_URL` is not given.
pub const DEFAULT_DATABASE: &str = "sqlite://pulse.db";

/// Options every command understands.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Database: sqlite://FILE (created on first start) or postgres://USER@HOST/DB
    /// [default: sqlite://pulse.db; for `pulse demo`: sqlite://pulse-demo.db]
    #[arg(long, env = "PULSE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// File holding the server's secret key (64 hex characters), created with mode 0600 when
    /// missing. The environment variable PULSE_SECRET_KEY, when set, is used instead.
    #[arg(
        long,
        env = "PULSE_SECRET_KEY_FILE",
        default_value = "pulse.key",
        global = true
    )]
    pub secret_key_file: PathBuf,
    /// Folder with the survey definitions (*.json). When it does not exist, the definitions
    /// shipped inside the binary are used.
    #[arg(
        long,
        env = "PULSE_DEFINITIONS_DIR",
        default_value = "survey-definitions",
        global = true
    )]
    pub definitions_dir: PathBuf,
    /// Public address used in emailed links, e.g. https://pulse.example.com
    /// [default for serve: http://HOST:PORT]
    #[arg(long, env = "PULSE_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Log filter, e.g. info or pulse=debug (RUST_LOG wins when set)
    #[arg(long, env = "PULSE_LOG", default_value = "info", global = true)]
    pub log: String,
    /// The organisation's time zone, an IANA name such as Europe/Berlin: dates typed in forms
    /// and on the command line without an offset are read in it; pages show times in it, with
    /// UTC beside them
    #[arg(long, env = "PULSE_TIME_ZONE", default_value = "UTC", global = true)]
    pub time_zone: String,
}

impl GlobalArgs {
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        let url = self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE);
        DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("--database-url: {e}"))
    }

    /// `--base-url`, checked, without a trailing slash; `default` when not given.
    pub fn base_url(&self, default: impl FnOnce() -> String) -> anyhow::Result<String> {
        let Some(url) = &self.base_url else {
            return Ok(default());
        };
        let parsed = url::Url::parse(url).map_err(|e| {
            anyhow::anyhow!(
                "--base-url '{url}' is not a URL ({e}): use e.g. https://pulse.example.com"
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("--base-url must start with http:// or https://");
        }
        Ok(url.trim_end_matches('/').to_string())
    }

    pub fn time_zone(&self) -> anyhow::Result<crate::domain::schedule::Tz> {
        crate::domain::schedule::parse_time_zone(&self.time_zone)
            .map_err(|e| anyhow::anyhow!("--time-zone: {e}"))
    }

    pub fn secret_key(&self) -> anyhow::Result<SecretKey> {
        let env_key = std::env::var("PULSE_SECRET_KEY").ok();
        SecretKey::load(env_key.as_deref(), &self.secret_key_file)
    }

    /// Connects and brings the schema up to date: every command runs on a migrated database.
    pub fn connect(&self) -> anyhow::Result<db::Pool> {
        let url = self.database_url()?;
        let pool = db::connect(&url)?;
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
        Ok(pool)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application (with the outbox worker and the scheduler)
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit
    Migrate,
    /// Manage admin and lead accounts
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage the stakeholder directory
    #[command(subcommand)]
    Stakeholders(stakeholders::StakeholdersCommand),
    /// Check, load and list survey definitions
    #[command(subcommand)]
    Survey(survey::SurveyCommand),
    /// Schedule, open, close, cancel and inspect survey waves
    #[command(subcommand)]
    Wave(wave::WaveCommand),
    /// Repeat waves on a cadence (half-yearly by default)
    #[command(subcommand)]
    Schedule(wave::ScheduleCommand),
    /// One scheduler pass (open, remind, close, roll schedules) and send due mail: for cron
    Tick(tick::TickArgs),
    /// Import the procurement request log (cycle times against targets on the scorecards)
    #[command(subcommand)]
    Requests(requests::RequestsCommand),
    /// Keys of the request API (POST /api/v1/requests): create (shown once), list, revoke
    #[command(subcommand)]
    ApiKey(api_key::ApiKeyCommand),
    /// Load KPI values; check the scorecard definition
    #[command(subcommand)]
    Kpi(kpi::KpiCommand),
    /// Print a business unit's scorecard (or every unit's) for a half-year as JSON or CSV
    Scorecard(scorecard::ScorecardArgs),
    /// Print a wave's results (the figures of the results page) as JSON or CSV
    Results(results::ResultsArgs),
    /// Print the customer-of-choice mirror of a half-year (text, JSON or CSV)
    Mirror(mirror::MirrorArgs),
    /// Print a wave's stakeholder map: groups by importance and satisfaction (JSON)
    Map(mirror::MapArgs),
    /// Action plans on a closed wave's figures: add, list, show, update, note, publish
    #[command(subcommand)]
    Action(action::ActionCommand),
    /// Write a consistent copy of the SQLite database while pulse keeps running
    Backup(backup::BackupArgs),
    /// Put a copy written by `pulse backup` in place of the SQLite database (pulse stopped)
    Restore(backup::RestoreArgs),
    /// Create a demo database (realistic organisation, two years of answers) and serve it
    Demo(demo::DemoArgs),
}

/// Parses the command line and runs the command; the process exit code says how it went.
pub fn run() -> ExitCode {
    run_from(std::env::args_os())
}

/// [`run`] with these arguments (the program's name first) instead of the process's: what
/// a benchmark runs to measure a command as users run it (`examples/import_bench.rs`).
pub fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    crate::allocator::give_memory_back();
    quiet_on_closed_pipe();
    let cli = Cli::parse_from(args);
    crate::telemetry::init(&cli.global.log);
    match dispatch(cli) {
        Ok(code) => code,
        // A streamed listing whose reader went away (`| head`): quiet, as with `println!`.
        Err(error)
            if error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `pulse stakeholders list | head`: once the reader has gone, `println!` fails with a
/// broken pipe and panics. That is not an error of ours: end quietly with status 141, as
/// programs killed by SIGPIPE do, instead of printing a panic. (Rust ignores SIGPIPE, so
/// the failed write is the only sign; std words that panic "failed printing to stdout: …".)
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        let broken_pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe).to_string();
        if message.starts_with("failed printing to stdout")
            && (message.contains("Broken pipe") || message.contains(&broken_pipe))
        {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Serve(args) => serve::run(&global, args),
        Command::Migrate => {
            let url = global.database_url()?;
            let pool = db::connect(&url)?;
            let applied = db::run_migrations(&mut *pool.get()?)?;
            let key = global.secret_key()?;
            crate::services::responses::upgrade_storage(
                &mut *pool.get()?,
                &key,
                chrono::Utc::now().naive_utc(),
            )?;
            if applied.is_empty() {
                println!("{url}: the schema is up to date");
            }
            for name in applied {
                println!("applied {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(command) => user::run(&global, command),
        Command::Stakeholders(command) => stakeholders::run(&global, command),
        Command::Survey(command) => survey::run(&global, command),
        Command::Wave(command) => wave::run_wave(&global, command),
        Command::Schedule(command) => wave::run_schedule(&global, command),
        Command::Tick(args) => tick::run(&global, args),
        Command::Requests(command) => requests::run(&global, command),
        Command::ApiKey(command) => api_key::run(&global, command),
        Command::Kpi(command) => kpi::run(&global, command),
        Command::Scorecard(args) => scorecard::run(&global, args),
        Command::Results(args) => results::run(&global, args),
        Command::Mirror(args) => mirror::run(&global, args),
        Command::Map(args) => mirror::run_map(&global, args),
        Command::Action(command) => action::run(&global, command),
        Command::Backup(args) => backup::run_backup(&global, args),
        Command::Restore(args) => backup::run_restore(&global, args),
        Command::Demo(args) => demo::run(&global, args),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
