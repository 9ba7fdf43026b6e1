//! `pulse demo`: create (or, confirmed, reset) a demo database — a realistic organisation
//! with two years of survey history, see `crate::demo` — then serve it like `pulse serve`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::serve::ServeArgs;
use super::GlobalArgs;
use crate::demo::{self, DemoOptions, DemoReport};

/// How many invitations of the open wave the demo writes out for a newcomer to answer.
const TRY_LINKS: usize = 3;

/// The demo's own database unless one is given: never the production default `pulse.db`.
pub const DEFAULT_DEMO_DATABASE: &str = "sqlite://pulse-demo.db";

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
The demo uses its own database, sqlite://pulse-demo.db, unless --database-url (or \
PULSE_DATABASE_URL) names another. A database that already holds data is only replaced \
with --reset, which asks first (--yes skips the question).

The admin and lead accounts get new random passwords, printed once.")]
pub struct DemoArgs {
    /// Seed of the answer model: the same seed gives the same organisation and answers
    #[arg(long, default_value_t = 2027)]
    pub seed: u64,
    /// Replace everything the database holds with the demo (asks first, see --yes)
    #[arg(long)]
    pub reset: bool,
    /// With --reset: replace without asking (for scripts)
    #[arg(long, requires = "reset")]
    pub yes: bool,
    /// Only create the demo database; do not serve it
    #[arg(long)]
    pub no_serve: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

pub fn run(global: &GlobalArgs, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut global = global.clone();
    if global.database_url.is_none() {
        global.database_url = Some(DEFAULT_DEMO_DATABASE.to_string());
    }
    let url = global.database_url()?;
    let key = global.secret_key()?;
    if let Some(contents) = demo::inspect(&url)? {
        if !args.reset {
            anyhow::bail!(
                "{url} already holds data ({contents}); nothing was changed.\n\
                 To replace it with the demo, run `pulse demo --reset` (it asks first; \
                 --yes skips the question). To serve it as it is, run `pulse serve \
                 --database-url {url}`. Or give the demo another --database-url."
            );
        }
        if !args.yes && !confirmed(&url.to_string(), &contents)? {
            anyhow::bail!("not confirmed; {url} was not changed");
        }
    }
    let options = DemoOptions {
        seed: args.seed,
        now: chrono::Utc::now().naive_utc(),
        definitions_dir: global.definitions_dir.clone(),
    };
    eprintln!("Creating the demo in {url} (seed {}) …", args.seed);
    let started = Instant::now();
    // Two years of invented waves log hundreds of lines ("wave opened", "reminders
    // enqueued"); the summary below says what matters, so only warnings are logged here.
    let quiet = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let report =
        tracing::subscriber::with_default(quiet, || demo::create(&url, args.reset, &key, &options))
            .context("the demo database could not be created")?;
    let base_url = global.base_url(|| format!("http://{}:{}", args.serve.host, args.serve.port))?;
    print_report(&url.to_string(), &report, started.elapsed().as_secs_f64());
    if let (Some(id), Some(last)) = (
        &report.what_we_heard,
        report
            .waves
            .iter()
            .rfind(|w| w.survey == demo::INTERNAL_SURVEY && w.state == "closed"),
    ) {
        println!();
        println!(
            "\"What we heard\" of {} (sent to everyone invited; no sign-in needed):",
            last.title
        );
        println!(
            "  {base_url}/w/{}",
            crate::actions::heard::link_token(&key, id).expose()
        );
    }
    let email = args.serve.email.settings()?;
    if let Some(open) = report.waves.iter().find(|w| w.state == "open") {
        let links = demo::try_links(
            &url,
            &key,
            &base_url,
            &email.from,
            &email.mail_dir,
            &open.id,
            TRY_LINKS,
        )
        .context("the sample invitations could not be written")?;
        println!();
        println!(
            "Answer the open wave ({}) as a stakeholder: these {} have not answered yet.",
            open.title,
            links.len()
        );
        println!(
            "Their invitations are in {}/ as .eml files; open a link in a browser:",
            email.mail_dir.display()
        );
        for link in &links {
            println!("  {}", link.url);
            println!("      for {}, mail {}", link.email, link.eml.display());
        }
    }
    println!();
    if args.no_serve {
        println!("Serve it with: pulse serve --database-url {url}");
        println!("then sign in at {base_url}/login");
        return Ok(ExitCode::SUCCESS);
    }
    println!("Sign in at {base_url}/login with one of the accounts above.");
    super::serve::run(&global, args.serve)
}

/// Asks on the terminal; without one (a script), the answer is no: use --yes.
fn confirmed(url: &str, contents: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        eprintln!("{url} holds data ({contents}) and there is no terminal to ask: add --yes to replace it.");
        return Ok(false);
    }
    eprint!("{url} holds {contents}. Replace ALL of it with the demo? Type \"reset\" to confirm: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "reset")
}

fn print_report(url: &str, report: &DemoReport, seconds: f64) {
    println!(
        "Demo database {url} created in {seconds:.1} s (seed {}):",
        report.seed
    );
    println!(
        "  {} stakeholders: {} internal customers in {} business units, {} suppliers",
        report.stakeholders, report.internal_customers, report.business_units, report.suppliers
    );
    for wave in &report.waves {
        let rate = if wave.invited > 0 {
            100.0 * wave.responses as f64 / wave.invited as f64
        } else {
            0.0
        };
        let mut line = format!(
            "  {:<28} {:<20} {:<6} {} – {}  {:>4} invited, {:>4} answers ({rate:.0} %)",
            wave.survey,
            wave.title,
            wave.state,
            wave.opens_at.format("%Y-%m-%d"),
            wave.closes_at.format("%Y-%m-%d"),
            wave.invited,
            wave.responses,
        );
        if let Some(at) = wave.next_reminder_at {
            line.push_str(&format!(
                "; next reminder {}",
                at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        println!("{line}");
    }
    println!(
        "  pulses after fulfilled requests: {} invited, {} skipped by the touch rules, {} answered; {} quarters released",
        report.pulses.invited,
        report.pulses.skipped,
        report.pulses.answered,
        report.pulses.quarters_released
    );
    println!(
        "  The past waves are invented: none of their invitations, reminders or \"results are\n  \
         ready\" mails was sent to anyone. They are recorded as sent, so nothing goes out now."
    );
    println!();
    println!(
        "Accounts (the passwords are shown only now; change them with `pulse user set-password`):"
    );
    for account in &report.accounts {
        println!(
            "  {:<5}  {}  {}",
            account.role.as_str(),
            account.email,
            account.password()
        );
    }
    println!(
        "  (the viewer sees the {} scorecard only)",
        crate::demo::scorecards::VIEWER_UNIT
    );
}
