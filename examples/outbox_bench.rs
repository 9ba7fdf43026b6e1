//! Benchmark of the outbox worker (`outbox::Outbox::drain`): a wave of 10,000 invitations
//! dispatched to a real SMTP server on loopback (the test server of `tests/api/`), with
//! the product's own code from end to end — migrations, pinned definitions, stakeholder
//! import, `schedule_wave` + `open_wave`, then the worker: claim → compose → send → mark.
//! The target of the issue is at least 500 messages per second.
//!
//! ```text
//! cargo run --release --example outbox_bench
//! PULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release --example outbox_bench
//! PULSE_BENCH_INVITATIONS=2000 cargo run --release --example outbox_bench   # other sizes
//! ```
//!
//! SQLite always (a file in a temp dir, with the product's pragmas: WAL,
//! synchronous=FULL); PostgreSQL too when PULSE_TEST_POSTGRES_URL is set (a throwaway
//! database is created next to the one named there, and dropped afterwards).
//!
//! Every setting (SMTP pool size × the worker's `max_in_flight`) opens a wave of its own
//! (all stakeholders again) and drains it into a fresh SMTP server, which must then hold
//! exactly one message per invitation: as many distinct Message-IDs as distinct
//! recipients as invitations. Any mismatch makes the program exit with status 1.
//!
//! The SMTP server runs in this process, on the same two cores as the worker (and the
//! database), so the figures are a lower bound for a worker talking to a remote relay.

#[path = "../tests/api/smtp_server.rs"]
mod smtp_server;

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::Connection;

use pulse::clock::SystemClock;
use pulse::config::SecretKey;
use pulse::db::{self, DatabaseUrl};
use pulse::domain::wave::WaveInput;
use pulse::email::{EmailSettings, Mailer, SmtpUrl};
use pulse::outbox::{Outbox, OutboxConfig};
use pulse::services::stakeholders::{apply_import, parse_csv};
use pulse::services::{surveys, waves};

use smtp_server::SmtpServer;

const SECRET_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const BASE_URL: &str = "https://pulse.example.com";
const SURVEY: &str = "internal-customer";

/// (SMTP pool size, the worker's max_in_flight), each run on a wave of its own.
const SETTINGS: &[(u32, usize)] = &[(8, 32), (16, 32)];

const UNITS: &[(&str, &[&str])] = &[
    (
        "Manufacturing",
        &["Plant Operations", "Quality", "Maintenance"],
    ),
    ("R&D", &["Labs", "Product Development"]),
    ("Finance", &["Controlling", "Treasury"]),
    ("Sales", &["Key Accounts", "Customer Service"]),
    ("Corporate", &["HR", "Legal", "IT"]),
];
const REGIONS: &[&str] = &["EMEA", "NA", "APAC", "LATAM"];
const LANGUAGES: &[&str] = &["en", "de", "fr", "es", ""];
const GIVEN: &[&str] = &[
    "Anna", "Jörg", "Zoë", "Li", "Sofia", "Mateo", "Priya", "Grace",
];
const FAMILY: &[&str] = &["Berg", "Müller", "Nguyen", "García", "Kowalski", "O'Brien"];

fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PULSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let invitations: usize = match std::env::var("PULSE_BENCH_INVITATIONS") {
        Ok(raw) => raw
            .parse()
            .context("PULSE_BENCH_INVITATIONS must be a number")?,
        Err(_) => 10_000,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "outbox benchmark: {invitations} invitations per wave, {} cores, SMTP test server on 127.0.0.1",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir()?;
    let mut ok = true;

    let sqlite = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    ok &= run("sqlite", &sqlite, invitations, &runtime)?;

    match std::env::var("PULSE_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin_conn = diesel::PgConnection::establish(&admin)
                .context("cannot connect to PULSE_TEST_POSTGRES_URL")?;
            admin_conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let mut url = url::Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            let result = run(
                "postgres",
                &DatabaseUrl::Postgres(url.to_string()),
                invitations,
                &runtime,
            );
            admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            ok &= result?;
        }
        _ => println!("\npostgres: skipped (PULSE_TEST_POSTGRES_URL is not set)"),
    }

    if ok {
        println!("\nall checks passed");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nSOME CHECKS FAILED (see above)");
        Ok(ExitCode::FAILURE)
    }
}

/// One backend: a fresh database, the stakeholders, then a wave per setting. Returns
/// whether every check passed.
fn run(
    label: &str,
    url: &DatabaseUrl,
    invitations: usize,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<bool> {
    println!("\n{label}");
    let key = SecretKey::parse_hex(SECRET_HEX)?;
    let pool = db::connect(url)?;
    {
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
        let definitions = Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
        surveys::load_and_pin(&mut conn, &definitions, now())?;

        let started = Instant::now();
        let csv = stakeholder_csv(invitations);
        let parsed = parse_csv(&csv).map_err(|problems| {
            anyhow::anyhow!("{} problems, first: {}", problems.len(), problems[0])
        })?;
        let report = apply_import(&mut conn, &parsed, false, now())?;
        println!(
            "{label}: imported {} stakeholders in {:.2} s",
            report.counts.created,
            started.elapsed().as_secs_f64()
        );
    }

    let mut ok = true;
    for &(pool_size, max_in_flight) in SETTINGS {
        // A wave of its own: every stakeholder is invited again.
        let started = Instant::now();
        let (wave_id, invited) = {
            let mut conn = pool.get()?;
            let input = WaveInput {
                survey: SURVEY.into(),
                title: format!("Benchmark, pool {pool_size}, in flight {max_in_flight}"),
                opens: "now".into(),
                closes: (now() + chrono::Duration::days(21))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
                remind: "none".into(),
                ..Default::default()
            };
            let wave = waves::schedule_wave(&mut conn, &input, now())?;
            let report = waves::open_wave(&mut conn, &key, &wave.id, now())?
                .context("the new wave was scheduled")?;
            (wave.id, report.invited)
        };
        let open_time = started.elapsed();

        let server = runtime.block_on(SmtpServer::start());
        let mut settings = EmailSettings::smtp(
            SmtpUrl::parse(&server.url()).map_err(|e| anyhow::anyhow!("SMTP URL: {e}"))?,
        );
        settings.from = "Procurement Pulse <pulse@example.com>"
            .parse()
            .context("sender")?;
        settings.pool_size = pool_size;
        let mailer = Arc::new(Mailer::from_settings(&settings));
        let outbox = Outbox::new(
            pool.clone(),
            mailer.clone(),
            key.clone(),
            BASE_URL,
            Arc::new(SystemClock),
            OutboxConfig {
                max_in_flight,
                ..Default::default()
            },
        );
        let started = Instant::now();
        let report = runtime.block_on(outbox.drain())?;
        let send_time = started.elapsed();
        runtime.block_on(mailer.shutdown());

        println!(
            "{label}: opened wave with {invited} invitations in {:.2} s; sent {} in {:.2} s = {:.0} msg/s \
             (pool {pool_size}, in flight {max_in_flight}; {} SMTP connections)",
            open_time.as_secs_f64(),
            report.sent,
            send_time.as_secs_f64(),
            report.sent as f64 / send_time.as_secs_f64(),
            server.connections(),
        );

        let progress = waves::progress(&mut *pool.get()?, &wave_id)?;
        ok &= check(label, invitations, invited, &report, &progress, &server);
        drop(server);
        // Let the server's connection tasks wind down before the next run.
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    }
    Ok(ok)
}

/// Exactly one message per invitation arrived, each to its own recipient, each with its
/// own Message-ID, and the database agrees.
fn check(
    label: &str,
    expected: usize,
    invited: usize,
    report: &pulse::outbox::DispatchReport,
    progress: &waves::WaveProgress,
    server: &SmtpServer,
) -> bool {
    let messages = server.messages();
    let message_ids: HashSet<String> = messages.iter().filter_map(|m| m.message_id()).collect();
    let recipients: HashSet<String> = messages
        .iter()
        .flat_map(|m| m.to.iter().map(|to| to.to_ascii_lowercase()))
        .collect();
    let one_recipient_each = messages.iter().all(|m| m.to.len() == 1);
    let passed = invited == expected
        && report.sent == expected
        && (report.retried, report.dead, report.cancelled) == (0, 0, 0)
        && messages.len() == expected
        && message_ids.len() == expected
        && recipients.len() == expected
        && one_recipient_each
        && progress.emailed == expected as i64
        && progress.pending == 0;
    println!(
        "{label}: check {}: server received {} messages, {} distinct Message-IDs, {} distinct recipients{}; \
         worker: {} sent, {} retried, {} dead, {} cancelled; database: {} emailed, {} pending (expected {expected} / 0)",
        if passed { "OK" } else { "FAILED" },
        messages.len(),
        message_ids.len(),
        recipients.len(),
        if one_recipient_each { "" } else { " (some messages had several recipients)" },
        report.sent,
        report.retried,
        report.dead,
        report.cancelled,
        progress.emailed,
        progress.pending,
    );
    passed
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// `rows` stakeholders with a name, a language and the segment attributes the survey
/// reports by, as the CSV an administrator would upload.
fn stakeholder_csv(rows: usize) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "email",
        "name",
        "language",
        "business_unit",
        "department",
        "region",
    ])
    .expect("writing to memory");
    for i in 0..rows {
        let (given, family) = (GIVEN[i % GIVEN.len()], FAMILY[i / 7 % FAMILY.len()]);
        let (unit, departments) = UNITS[i % UNITS.len()];
        let email = format!(
            "{}.{}.{i}@example-corp.com",
            ascii_lower(given),
            ascii_lower(family)
        );
        out.write_record([
            email.as_str(),
            &format!("{given} {family}"),
            LANGUAGES[i % LANGUAGES.len()],
            unit,
            departments[i / 3 % departments.len()],
            REGIONS[i / 11 % REGIONS.len()],
        ])
        .expect("writing to memory");
    }
    out.into_inner().expect("writing to memory")
}

/// An email-safe version of a name: ASCII letters only.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase()
}
