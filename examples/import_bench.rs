//! Benchmark of the stakeholder import (`services::stakeholders`): generates a realistic
//! directory of 100,000 stakeholders with 6 attribute columns as CSV in a temp dir, imports
//! it into a fresh database, then imports a second file in which 10% of the rows changed
//! (a dry run of it first, then the real upsert). Prints wall times and rows per second.
//!
//! ```text
//! cargo run --release --example import_bench
//! PULSE_BENCH_ROWS=20000 cargo run --release --example import_bench   # other sizes
//! ```
//!
//! SQLite always (a file in the temp dir, with the product's pragmas: WAL,
//! synchronous=FULL); PostgreSQL too when PULSE_TEST_POSTGRES_URL is set (a throwaway
//! database is created next to the one named there, and dropped afterwards).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use pulse::db::{self, DatabaseUrl};
use pulse::services::stakeholders::{apply_import, parse_csv, plan_import, ImportCounts};

const FIRST_NAMES: &[&str] = &[
    "Anna", "Jörg", "Zoë", "Mohammed", "Li", "Sofia", "Lukas", "Emma", "Mateo", "Aiko", "Olivia",
    "Noah", "Chloé", "Ingrid", "Pedro", "Fatima", "Sven", "Priya", "Tomasz", "Grace",
];
const LAST_NAMES: &[&str] = &[
    "Berg", "Müller", "Nguyen", "García", "Smith", "Kowalski", "Rossi", "Tanaka", "O'Brien",
    "Jensen", "Dubois", "Silva", "Novak", "Ivanova", "Haddad", "Kumar", "Svensson", "Okafor",
];
const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "pt-BR", "it", "nl", "pl", "ja", ""];
const BUSINESS_UNITS: &[(&str, &[&str])] = &[
    (
        "Manufacturing",
        &["Plant Operations", "Quality", "Maintenance", "Engineering"],
    ),
    (
        "R&D",
        &["Labs", "Product Development", "Regulatory Affairs"],
    ),
    ("Finance", &["Controlling", "Treasury", "Accounts Payable"]),
    (
        "Sales",
        &["Sales, Marketing", "Key Accounts", "Customer Service"],
    ),
    (
        "Corporate",
        &["HR", "Legal; Compliance", "IT", "Facilities"],
    ),
    ("Logistics", &["Warehousing", "Transport", "Customs"]),
];
const SITES: &[(&str, &str, &str)] = &[
    ("EMEA", "Germany", "Stuttgart"),
    ("EMEA", "Germany", "Hamburg"),
    ("EMEA", "France", "Lyon"),
    ("EMEA", "Poland", "Wrocław"),
    ("EMEA", "United Kingdom", "Manchester"),
    ("NA", "United States", "Chicago"),
    ("NA", "United States", "Austin"),
    ("NA", "Canada", "Toronto"),
    ("APAC", "Japan", "Osaka"),
    ("APAC", "India", "Pune"),
    ("LATAM", "Brazil", "São Paulo"),
    ("LATAM", "Mexico", "Monterrey"),
];

fn main() -> anyhow::Result<()> {
    let rows: usize = match std::env::var("PULSE_BENCH_ROWS") {
        Ok(raw) => raw.parse().context("PULSE_BENCH_ROWS must be a number")?,
        Err(_) => 100_000,
    };
    let dir = tempfile::tempdir()?;
    let initial = dir.path().join("stakeholders.csv");
    let changed = dir.path().join("stakeholders-10pct-changed.csv");
    let started = Instant::now();
    let changed_rows = write_directory(&initial, &changed, rows)?;
    println!(
        "generated {rows} rows × (email, name, language + 6 attributes) in {:.2} s: {} ({:.1} MB); \
         second file with {changed_rows} changed rows",
        started.elapsed().as_secs_f64(),
        initial.display(),
        std::fs::metadata(&initial)?.len() as f64 / 1e6,
    );

    let sqlite = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    run("SQLite", &sqlite, &initial, &changed)?;

    match std::env::var("PULSE_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin_conn = diesel::PgConnection::establish(&admin)
                .context("cannot connect to PULSE_TEST_POSTGRES_URL")?;
            admin_conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let mut url = url::Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            let result = run(
                "PostgreSQL",
                &DatabaseUrl::Postgres(url.to_string()),
                &initial,
                &changed,
            );
            admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            result?;
        }
        _ => println!("PostgreSQL: skipped (PULSE_TEST_POSTGRES_URL is not set)"),
    }
    Ok(())
}

/// Imports `initial` into a fresh database, then dry-runs and imports `changed`.
fn run(label: &str, url: &DatabaseUrl, initial: &Path, changed: &Path) -> anyhow::Result<()> {
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    println!("\n{label}");
    for (step, file, dry_run) in [
        ("import into an empty directory", initial, false),
        ("dry run of the 10%-changed file", changed, true),
        ("re-import, 10% of rows changed", changed, false),
    ] {
        let started = Instant::now();
        let bytes = std::fs::read(file)?;
        let parsed = parse_csv(&bytes).map_err(|problems| {
            anyhow::anyhow!("{} problems, first: {}", problems.len(), problems[0])
        })?;
        let parse_time = started.elapsed();
        let counts = if dry_run {
            plan_import(&mut conn, &parsed, false)?.counts
        } else {
            apply_import(&mut conn, &parsed, false, chrono::Utc::now().naive_utc())?.counts
        };
        let total = started.elapsed();
        report(step, parsed.len(), parse_time, total, &counts);
    }
    Ok(())
}

fn report(step: &str, rows: usize, parse: Duration, total: Duration, counts: &ImportCounts) {
    println!(
        "  {step:<34} total {:>6.3} s (read+parse {:>5.3} s, database {:>6.3} s)  {:>9.0} rows/s   [{counts}]",
        total.as_secs_f64(),
        parse.as_secs_f64(),
        (total - parse).as_secs_f64(),
        rows as f64 / total.as_secs_f64(),
    );
}

/// Writes the initial directory and a copy in which every 10th row changed (department,
/// name or language); returns the number of changed rows.
fn write_directory(initial: &Path, changed: &Path, rows: usize) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(2026);
    let header = [
        "email",
        "name",
        "language",
        "business_unit",
        "department",
        "region",
        "country",
        "site",
        "cost_center",
    ];
    let mut first = csv::Writer::from_path(initial)?;
    let mut second = csv::Writer::from_path(changed)?;
    first.write_record(header)?;
    second.write_record(header)?;
    let mut changed_rows = 0;
    for i in 0..rows {
        let given = pick(&mut rng, FIRST_NAMES);
        let family = pick(&mut rng, LAST_NAMES);
        let email = format!(
            "{}.{}.{i}@example-corp.com",
            ascii_lower(given),
            ascii_lower(family)
        );
        let name = format!("{given} {family}");
        let language = pick(&mut rng, LANGUAGES);
        let (unit, departments) = *BUSINESS_UNITS
            .choose(&mut rng)
            .context("there are business units")?;
        let department = pick(&mut rng, departments);
        let (region, country, site) = *SITES.choose(&mut rng).context("there are sites")?;
        let cost_center = format!("CC-{:04}", rng.gen_range(1000..10_000));
        let mut record = [
            email,
            name,
            language.to_string(),
            unit.to_string(),
            department.to_string(),
            region.to_string(),
            country.to_string(),
            site.to_string(),
            cost_center,
        ];
        first.write_record(&record)?;
        if i % 10 == 0 {
            changed_rows += 1;
            match i % 30 {
                0 => record[4] = format!("{} (reorganised)", record[4]),
                10 => record[1] = format!("{given} {family}-Lund"),
                _ => record[2] = if language == "de" { "en" } else { "de" }.to_string(),
            }
        }
        second.write_record(&record)?;
    }
    first.flush()?;
    second.flush()?;
    Ok(changed_rows)
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// An email-safe version of a name: ASCII letters only.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase()
}
