//! Benchmark of opening a wave (`services::waves::open_wave`): 100,000 active stakeholders
//! (the generated directory of `import_bench`), a wave of the internal-customer survey for
//! everyone, opened in its one transaction — an invitation each (with the frozen segment
//! and two token hashes), the invited count per segment cell, and an outbox row each.
//!
//! ```text
//! cargo run --release --example wave_open_bench
//! PULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release --example wave_open_bench
//! PULSE_BENCH_ROWS=20000 cargo run --release --example wave_open_bench   # other sizes
//! ```
//!
//! Prints the time against the target (< 5 s at 100,000) and a baseline measured in the same
//! run on the same database: the same number of invitation and outbox rows written by plain
//! set-based SQL (`INSERT … SELECT` from the stakeholders, with the database's own random
//! values for the hashes) in one transaction — the floor for writing that much.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use diesel::connection::SimpleConnection;

use pulse::config::SecretKey;
use pulse::db::{self, DatabaseUrl};
use pulse::domain::wave::WaveInput;
use pulse::services::stakeholders::{apply_import, parse_csv};
use pulse::services::{surveys, waves};

#[path = "support/directory_csv.rs"]
mod directory_csv;

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let rows: usize = match std::env::var("PULSE_BENCH_ROWS") {
        Ok(raw) => raw.parse().context("PULSE_BENCH_ROWS must be a number")?,
        Err(_) => 100_000,
    };
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("stakeholders.csv");
    directory_csv::write_directory(&csv, &dir.path().join("unused.csv"), rows)?;
    let sqlite = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    run("SQLite", &sqlite, &csv)?;
    match std::env::var("PULSE_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin_conn = pulse::db::establish_postgres(&admin)
                .context("cannot connect to PULSE_TEST_POSTGRES_URL")?;
            admin_conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let mut url = url::Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            let result = run("PostgreSQL", &DatabaseUrl::Postgres(url.to_string()), &csv);
            admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            result?;
        }
        _ => println!("\nPostgreSQL: skipped (PULSE_TEST_POSTGRES_URL is not set)"),
    }
    Ok(())
}

fn run(label: &str, url: &DatabaseUrl, csv: &Path) -> anyhow::Result<()> {
    println!("\n{label}");
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let definitions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
    surveys::load_and_pin(&mut conn, &definitions, now())?;
    let parsed = parse_csv(&std::fs::read(csv)?)
        .map_err(|p| anyhow::anyhow!("{} problems, first: {}", p.len(), p[0]))?;
    apply_import(&mut conn, &parsed, false, now())?;
    drop(parsed);

    // The baseline first: tables shaped like invitations and outbox (their keys and unique
    // columns indexed alike), filled from the stakeholders in one transaction, then dropped.
    let (random, uuid) = if url.is_sqlite() {
        ("lower(hex(randomblob(32)))", "lower(hex(randomblob(16)))")
    } else {
        (
            "md5(random()::text) || md5(random()::text)",
            "gen_random_uuid()::text",
        )
    };
    conn.batch_execute(
        "CREATE TABLE bench_invitations (id TEXT PRIMARY KEY, wave_id TEXT NOT NULL,
           stakeholder_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
           unsubscribe_hash TEXT NOT NULL UNIQUE, segment TEXT NOT NULL, language TEXT,
           responded BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL, UNIQUE (wave_id, stakeholder_id));
         CREATE TABLE bench_outbox (id TEXT PRIMARY KEY, kind TEXT NOT NULL, dedupe_key TEXT NOT NULL UNIQUE,
           recipient TEXT NOT NULL, wave_id TEXT, invitation_id TEXT, state TEXT NOT NULL,
           attempts INTEGER NOT NULL, next_attempt_at TIMESTAMP NOT NULL, created_at TIMESTAMP NOT NULL);
         CREATE INDEX bench_outbox_due ON bench_outbox (state, next_attempt_at);",
    )?;
    let started = Instant::now();
    conn.batch_execute(&format!(
        "BEGIN;
         INSERT INTO bench_invitations SELECT {uuid}, 'w', id, {random}, {random}, attributes, language, FALSE, CURRENT_TIMESTAMP
           FROM stakeholders WHERE active;
         INSERT INTO bench_outbox SELECT {uuid}, 'invitation', 'invitation:' || b.id, s.email, 'w', b.id, 'pending', 0,
           CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM bench_invitations b JOIN stakeholders s ON s.id = b.stakeholder_id;
         COMMIT;"
    ))
    .context("the baseline failed")?;
    let baseline = started.elapsed().as_secs_f64();
    conn.batch_execute("DROP TABLE bench_outbox; DROP TABLE bench_invitations;")?;

    let input = WaveInput {
        survey: "internal-customer".into(),
        title: "Benchmark".into(),
        opens: "now".into(),
        closes: "2099-01-01".into(),
        remind: "none".into(),
        ..Default::default()
    };
    let wave =
        waves::schedule_wave(&mut conn, &input, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = SecretKey::parse_hex(KEY_HEX)?;
    let started = Instant::now();
    let report = waves::open_wave(&mut conn, &key, &wave.id, now())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the wave was not scheduled")?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "  opened a wave of {} invitations (+ cells + outbox rows) in {seconds:.2} s (target < 5 s); \
         baseline plain INSERT … SELECT of as many invitation and outbox rows: {baseline:.2} s; ratio {:.2}",
        report.invited,
        seconds / baseline
    );
    Ok(())
}
