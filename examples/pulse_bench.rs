//! Benchmark of pulses after fulfilled requests (issue 15's target: a fulfilled-request
//! import of 10,000 requests enqueues its pulse invitations in < 2 s).
//!
//! On a fresh database whose directory holds the 10,000 requesters, it times what a user's
//! import sets off, through the product's own functions: the request-log import (parse,
//! check, upsert, and the pulses owed recorded in the same transaction — what `pulse
//! requests import` and the import page run), then the scheduler tick after the delay (the
//! touch rules read once, every pulse decided, an invitation and an outbox row each — what
//! `pulse serve`'s scheduler and `pulse tick` run). Every requester is invitable: the worst
//! case. The baseline, in the same run, writes the same rows with nothing decided: Python's
//! `sqlite3` upserting the 10,000 requests and inserting 10,000 pulse, invitation (two
//! SHA-256 hashes each) and outbox rows into the product's own tables in one transaction
//! (WAL, synchronous=FULL); on PostgreSQL, `psql` running the same rows as multi-row
//! INSERTs in one transaction. Prints both and the ratio.
//!
//! ```text
//! cargo run --release --example pulse_bench
//! PULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release --example pulse_bench
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, NaiveDateTime};

use pulse::config::SecretKey;
use pulse::db::{self, DatabaseUrl};
use pulse::requests::{apply_import, parse_requests};
use pulse::services::stakeholders;

const UNITS: &[&str] = &[
    "Manufacturing",
    "R&D",
    "Finance",
    "Sales",
    "IT",
    "Logistics",
];

const SQLITE_BASELINE: &str = r#"
import hashlib, sqlite3, sys, time, uuid
db, n, now = sys.argv[1], int(sys.argv[2]), sys.argv[3]
units = ["Manufacturing", "R&D", "Finance", "Sales", "IT", "Logistics"]
started = time.perf_counter()
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=FULL")
wave = str(uuid.uuid4())
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO waves (id, survey_version_id, title, opens_at, closes_at, reminder_hours, anonymity_k, state, invited_count, skipped_count, reminders_enqueued, created_at) SELECT ?, id, 'baseline', ?, '2999-01-01 00:00:00', '[]', 5, 'open', 0, 0, 0, ? FROM survey_versions LIMIT 1", (wave, now, now))
people = dict(conn.execute("SELECT email, id FROM stakeholders"))
requests, pulses, invitations, mails = [], [], [], []
for i in range(n):
    rid, email, unit = "PR-%07d" % i, "requester%d@example.com" % i, units[i % 6]
    requests.append((rid, unit, email, "IT hardware", "catalogue", None, None, "2026-11-01", "2026-11-20", "fulfilled", now))
    pulses.append((rid, email, unit, "IT hardware", "catalogue", 1, "2026-11-20", now))
    inv = str(uuid.uuid4())
    invitations.append((inv, wave, people[email], hashlib.sha256(("a" + inv).encode()).hexdigest(), hashlib.sha256(("b" + inv).encode()).hexdigest(), '{"business_unit":"%s"}' % unit, None, now, ""))
    mails.append((str(uuid.uuid4()), "invitation", "invitation:" + inv, email, wave, inv, "pending", 0, now, now, 1))
conn.executemany("INSERT INTO procurement_requests VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET status=excluded.status", requests)
conn.executemany("INSERT INTO request_pulses (request_id, requester_email, business_unit, category, channel, within_target, fulfilled_on, seen_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", pulses)
conn.executemany("INSERT INTO invitations (id, wave_id, stakeholder_id, token_hash, unsubscribe_hash, segment, language, created_at, response_cell) VALUES (?,?,?,?,?,?,?,?,?)", invitations)
conn.executemany("INSERT INTO outbox (id, kind, dedupe_key, recipient, wave_id, invitation_id, state, attempts, next_attempt_at, created_at, retryable) VALUES (?,?,?,?,?,?,?,?,?,?,?)", mails)
conn.execute("COMMIT")
print(time.perf_counter() - started)
"#;

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let rows: usize = match std::env::var("PULSE_BENCH_ROWS") {
        Ok(raw) => raw.parse().context("PULSE_BENCH_ROWS must be a number")?,
        Err(_) => 10_000,
    };
    let dir = tempfile::tempdir()?;
    let now = chrono::Utc::now().naive_utc();
    let mut targets = vec![(
        "SQLite",
        DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string()),
    )];
    if let Ok(url) = std::env::var("PULSE_TEST_POSTGRES_URL") {
        targets.push(("PostgreSQL", fresh_postgres(&url)?));
    }
    for (name, url) in targets {
        let pool = db::connect(&url)?;
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
        pulse::services::surveys::load_and_pin(&mut conn, Path::new("survey-definitions"), now)?;
        let mut directory = String::from("email,business_unit\n");
        for i in 0..rows {
            let _ = writeln!(
                directory,
                "requester{i}@example.com,{}",
                UNITS[i % UNITS.len()]
            );
        }
        let parsed = stakeholders::parse_csv(directory.as_bytes())
            .map_err(|p| anyhow::anyhow!("directory: {}", p[0]))?;
        stakeholders::apply_import(&mut conn, &parsed, false, now)?;
        let baseline_copy = dir.path().join(format!("baseline-{name}.db"));
        if url.is_sqlite() {
            // The baseline writes into a copy of the same database (directory, surveys).
            pulse::db::backup::vacuum_into(&mut conn, &baseline_copy)?;
        }

        let csv = requests_csv(rows, now);
        let started = Instant::now();
        let records =
            parse_requests(csv.as_bytes()).map_err(|p| anyhow::anyhow!("requests: {}", p[0]))?;
        apply_import(&mut conn, &records, &Default::default(), now)?
            .map_err(|p| anyhow::anyhow!("requests refused: {}", p[0]))?;
        let imported = started.elapsed().as_secs_f64();
        let key = SecretKey::parse_hex(&"ab".repeat(32)).context("a bench key")?;
        let ticked = Instant::now();
        let report = pulse::scheduler::tick(&mut conn, &key, now + Duration::hours(25))?;
        let tick = ticked.elapsed().as_secs_f64();
        anyhow::ensure!(
            report.pulses_invited == rows,
            "expected {rows} pulses, got {report:?}"
        );
        let total = imported + tick;
        println!(
            "pulse, {name:<10}: import {imported:.3} s + tick {tick:.3} s = {total:.3} s for {rows} fulfilled requests → {} invitations queued (target < 2 s for 10,000: {})",
            report.pulses_invited,
            if total < 2.0 * rows as f64 / 10_000.0 { "met" } else { "missed" }
        );
        let baseline = match &url {
            DatabaseUrl::Sqlite(_) => sqlite_baseline(dir.path(), &baseline_copy, rows, now)?,
            DatabaseUrl::Postgres(url) => postgres_baseline(dir.path(), url, rows, now)?,
        };
        println!(
            "baseline {name:<8}: the same rows written in one transaction, nothing decided: {baseline:.3} s; ratio pulse / baseline {:.2}×",
            total / baseline
        );
    }
    Ok(())
}

/// `rows` requests, each fulfilled yesterday by its own requester.
fn requests_csv(rows: usize, now: NaiveDateTime) -> String {
    let fulfilled = now.date() - Duration::days(1);
    let opened = fulfilled - Duration::days(20);
    let mut csv = String::from(
        "request_id,business_unit,requester_email,category,channel,opened_on,fulfilled_on\n",
    );
    for i in 0..rows {
        let _ = writeln!(
            csv,
            "PR-{i:07},{},requester{i}@example.com,IT hardware,catalogue,{opened},{fulfilled}",
            UNITS[i % UNITS.len()]
        );
    }
    csv
}

fn sqlite_baseline(dir: &Path, db: &Path, rows: usize, now: NaiveDateTime) -> anyhow::Result<f64> {
    let script = dir.join("baseline.py");
    std::fs::write(&script, SQLITE_BASELINE)?;
    let output = Command::new("python3")
        .arg(&script)
        .arg(db)
        .arg(rows.to_string())
        .arg(now.format("%Y-%m-%d %H:%M:%S").to_string())
        .output()
        .context("cannot run python3 for the baseline")?;
    anyhow::ensure!(
        output.status.success(),
        "the baseline failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

/// A new database on the server of `admin_url`, for this run.
fn fresh_postgres(admin_url: &str) -> anyhow::Result<DatabaseUrl> {
    let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
    let status = Command::new("psql")
        .arg(admin_url)
        .arg("-qc")
        .arg(format!("CREATE DATABASE {name}"))
        .status()?;
    anyhow::ensure!(status.success(), "cannot create the bench database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .context("a PostgreSQL URL ends in /DATABASE")?;
    DatabaseUrl::parse(&format!("{base}/{name}")).map_err(|e| anyhow::anyhow!("{e}"))
}

fn postgres_baseline(
    dir: &Path,
    url: &str,
    rows: usize,
    now: NaiveDateTime,
) -> anyhow::Result<f64> {
    use sha2::{Digest, Sha256};
    let stamp = now.format("%Y-%m-%d %H:%M:%S").to_string();
    let wave = uuid::Uuid::new_v4();
    let mut sql = String::from("BEGIN;\n");
    let _ = writeln!(
        sql,
        "INSERT INTO waves (id, survey_version_id, title, opens_at, closes_at, reminder_hours, anonymity_k, state, invited_count, skipped_count, reminders_enqueued, created_at) SELECT '{wave}', id, 'baseline', '{stamp}', '2999-01-01 00:00:00', '[]', 5, 'open', 0, 0, 0, '{stamp}' FROM survey_versions LIMIT 1;"
    );
    for chunk in (0..rows).collect::<Vec<_>>().chunks(1000) {
        let mut requests = Vec::new();
        let mut pulses = Vec::new();
        let mut invitations = Vec::new();
        let mut mails = Vec::new();
        for &i in chunk {
            let (id, email, unit) = (
                format!("B-{i:07}"),
                format!("requester{i}@example.com"),
                UNITS[i % UNITS.len()],
            );
            requests.push(format!("('{id}','{unit}','{email}','IT hardware','catalogue','2026-11-01','2026-11-20','fulfilled','{stamp}')"));
            pulses.push(format!(
                "('{id}','{email}','{unit}','IT hardware','catalogue',true,'2026-11-20','{stamp}')"
            ));
            let inv = uuid::Uuid::new_v4();
            let hash = |salt: &str| format!("{:x}", Sha256::digest(format!("{salt}{inv}")));
            invitations.push(format!(
                "('{inv}','{wave}',(SELECT id FROM stakeholders WHERE email = '{email}'),'{}','{}','{{\"business_unit\":\"{unit}\"}}','{stamp}','')",
                hash("a"),
                hash("b")
            ));
            mails.push(format!("('{}','invitation','invitation:{inv}','{email}','{wave}','{inv}','pending',0,'{stamp}','{stamp}',true)", uuid::Uuid::new_v4()));
        }
        let _ = writeln!(sql, "INSERT INTO procurement_requests (id, business_unit, requester_email, category, channel, opened_on, fulfilled_on, status, imported_at) VALUES {} ON CONFLICT (id) DO UPDATE SET status = excluded.status;", requests.join(","));
        let _ = writeln!(sql, "INSERT INTO request_pulses (request_id, requester_email, business_unit, category, channel, within_target, fulfilled_on, seen_at) VALUES {} ON CONFLICT DO NOTHING;", pulses.join(","));
        let _ = writeln!(sql, "INSERT INTO invitations (id, wave_id, stakeholder_id, token_hash, unsubscribe_hash, segment, created_at, response_cell) VALUES {};", invitations.join(","));
        let _ = writeln!(sql, "INSERT INTO outbox (id, kind, dedupe_key, recipient, wave_id, invitation_id, state, attempts, next_attempt_at, created_at, retryable) VALUES {};", mails.join(","));
    }
    sql.push_str("COMMIT;\n");
    let file = dir.join("baseline.sql");
    std::fs::write(&file, sql)?;
    let started = Instant::now();
    let output = Command::new("psql")
        .arg(url)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&file)
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        output.status.success(),
        "the baseline failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(seconds)
}
