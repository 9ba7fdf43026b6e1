//! Benchmark of the request-log import (`pulse requests import`): 100,000 requests as CSV,
//! imported into a fresh SQLite database whose directory knows the business units; then the
//! same file again (every request matched, none changed: nothing to write); then another
//! export of the same requests in which every row changed (every request rewritten). Times
//! the steps the command runs — read the file, parse and check every row, check the units
//! against the directory, compare with the stored log, upsert what is new or changed in one
//! transaction — through the same functions. The baseline, in the same run, interleaved
//! step by step: Python's `csv` and `sqlite3` modules reading the same file, parsing the
//! dates, and upserting every row into the same table (with the same index on business
//! unit and opening date) with the same pragmas (WAL, synchronous=FULL) in one transaction.
//! Prints both and the ratio. (The scorecard pages have their own benchmark:
//! `scorecard_bench`.)
//!
//! ```text
//! cargo run --release --example requests_bench
//! PULSE_BENCH_ROWS=20000 cargo run --release --example requests_bench
//! ```

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
const CATEGORIES: &[&str] = &[
    "IT hardware",
    "Services",
    "Catalogue items",
    "Works",
    "Software",
];
const CHANNELS: &[&str] = &["catalogue", "purchase order", "tender", "card"];

const BASELINE: &str = r#"
import csv, datetime, sqlite3, sys, time
path, db = sys.argv[1], sys.argv[2]
started = time.perf_counter()
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=FULL")
conn.execute("""CREATE TABLE IF NOT EXISTS procurement_requests (
    id TEXT PRIMARY KEY NOT NULL, business_unit TEXT NOT NULL, requester_email TEXT,
    category TEXT NOT NULL, channel TEXT NOT NULL, value_amount DOUBLE PRECISION,
    currency TEXT, opened_on DATE NOT NULL, fulfilled_on DATE, status TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL)""")
conn.execute("""CREATE INDEX IF NOT EXISTS procurement_requests_unit
    ON procurement_requests (business_unit, opened_on)""")
units = {"Manufacturing", "R&D", "Finance", "Sales", "IT", "Logistics"}
now = datetime.datetime.utcnow().isoformat(sep=" ")
rows = []
with open(path, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    next(reader)
    for r in reader:
        opened = datetime.date.fromisoformat(r[7])
        fulfilled = datetime.date.fromisoformat(r[8]) if r[8] else None
        assert r[1] in units and (fulfilled is None or fulfilled >= opened)
        rows.append((r[0], r[1], r[2] or None, r[3], r[4], float(r[5]) if r[5] else None,
                     r[6] or None, opened.isoformat(), fulfilled.isoformat() if fulfilled else None,
                     r[9], now))
conn.execute("BEGIN IMMEDIATE")
conn.executemany("""INSERT INTO procurement_requests VALUES (?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (id) DO UPDATE SET business_unit=excluded.business_unit,
    requester_email=excluded.requester_email, category=excluded.category,
    channel=excluded.channel, value_amount=excluded.value_amount, currency=excluded.currency,
    opened_on=excluded.opened_on, fulfilled_on=excluded.fulfilled_on, status=excluded.status,
    imported_at=excluded.imported_at""", rows)
conn.execute("COMMIT")
print(time.perf_counter() - started)
"#;

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let rows: usize = match std::env::var("PULSE_BENCH_ROWS") {
        Ok(raw) => raw.parse().context("PULSE_BENCH_ROWS must be a number")?,
        Err(_) => 100_000,
    };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("requests.csv");
    write_requests(&file, rows, 14)?;
    let changed = dir.path().join("requests-changed.csv");
    write_requests(&changed, rows, 15)?;
    println!(
        "generated {rows} requests: {} ({:.1} MB), and the same requests, every row changed",
        file.display(),
        std::fs::metadata(&file)?.len() as f64 / 1e6
    );

    // The product, on a fresh database whose directory has the units.
    let url = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    let pool = db::connect(&url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let mut directory = String::from("email,business_unit\n");
    for (i, unit) in UNITS.iter().enumerate() {
        directory.push_str(&format!("head{i}@example.com,{unit}\n"));
    }
    let parsed = stakeholders::parse_csv(directory.as_bytes())
        .map_err(|p| anyhow::anyhow!("directory: {}", p[0]))?;
    stakeholders::apply_import(&mut conn, &parsed, false, chrono::Utc::now().naive_utc())?;
    let script = dir.path().join("baseline.py");
    std::fs::write(&script, BASELINE)?;
    let baseline_db = dir.path().join("baseline.db");

    let steps = [
        ("import into an empty log", &file),
        ("the same file again", &file),
        ("an export, every row changed", &changed),
    ];
    let mut figures = Vec::new();
    for (step, path) in steps {
        let started = Instant::now();
        let bytes = std::fs::read(path)?;
        let records = parse_requests(&bytes)
            .map_err(|p| anyhow::anyhow!("{} problems, first: {}", p.len(), p[0]))?;
        let parsed_after = started.elapsed();
        let counts = apply_import(
            &mut conn,
            &records,
            &Default::default(),
            chrono::Utc::now().naive_utc(),
        )?
        .map_err(|p| anyhow::anyhow!("{} problems, first: {}", p.len(), p[0]))?;
        let total = started.elapsed().as_secs_f64();
        println!(
            "pulse, SQLite:      {step:<30} {total:>6.3} s (read+parse+check {:.3} s) {:>8.0} rows/s  created {} updated {} unchanged {}",
            parsed_after.as_secs_f64(),
            rows as f64 / total,
            counts.created,
            counts.updated,
            counts.unchanged
        );
        // The baseline on its own database: every row upserted, changed or not.
        let output = Command::new("python3")
            .arg(&script)
            .arg(path)
            .arg(&baseline_db)
            .output()
            .context("cannot run python3 for the baseline")?;
        anyhow::ensure!(
            output.status.success(),
            "the baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let seconds: f64 = String::from_utf8_lossy(&output.stdout).trim().parse()?;
        println!(
            "python csv+sqlite3: {step:<30} {seconds:>6.3} s {:>41.0} rows/s",
            rows as f64 / seconds
        );
        figures.push((step, total, seconds));
    }
    for (step, pulse, python) in figures {
        println!(
            "ratio pulse / python, {step}: {:.2}× (target: 100,000 rows ≤ 2 s → {})",
            pulse / python,
            if pulse <= 2.0 * rows as f64 / 100_000.0 {
                "met"
            } else {
                "missed"
            }
        );
    }
    Ok(())
}

/// `rows` requests `PR-0000000`…, their fields drawn with `seed`.
fn write_requests(path: &Path, rows: usize, seed: u64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record([
        "request_id",
        "business_unit",
        "requester_email",
        "category",
        "channel",
        "value",
        "currency",
        "opened_on",
        "fulfilled_on",
        "status",
    ])?;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("a valid date")?;
    for i in 0..rows {
        let opened = start + chrono::Duration::days(rng.gen_range(0..700));
        let fulfilled = (rng.gen_range(0..10) > 1)
            .then(|| opened + chrono::Duration::days(rng.gen_range(1..240)));
        writer.write_record([
            format!("PR-{i:07}"),
            UNITS[rng.gen_range(0..UNITS.len())].to_string(),
            if i % 3 == 0 {
                format!("requester{}@example.com", i % 5000)
            } else {
                String::new()
            },
            CATEGORIES[rng.gen_range(0..CATEGORIES.len())].to_string(),
            CHANNELS[rng.gen_range(0..CHANNELS.len())].to_string(),
            format!("{:.2}", rng.gen_range(50.0..250_000.0)),
            "EUR".to_string(),
            opened.to_string(),
            fulfilled.map(|d| d.to_string()).unwrap_or_default(),
            if fulfilled.is_some() {
                "fulfilled"
            } else {
                "open"
            }
            .to_string(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}
