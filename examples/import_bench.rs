//! Benchmark of the stakeholder import (`services::stakeholders`): generates a realistic
//! directory of 100,000 stakeholders with 6 attribute columns as CSV in a temp dir, imports
//! it into a fresh database, then imports a second file in which 10% of the rows changed
//! (a dry run of it first, then the real upsert). Prints wall time, rows per second and the
//! peak memory of each import — each is `pulse stakeholders import` in a process of its own
//! (this example started again with `--import`, running the CLI's code with
//! `pulse::cli::run_from`), timed from the start of the process to its end.
//!
//! The baseline, in the same run on SQLite: Python's `csv` + `sqlite3` reading the same file
//! into a stakeholders table in one transaction (examples/support/python_import.py), and the
//! ratio Pulse / Python (target ≤ 0.5 at 100,000 rows); and what the same writes cost
//! SQLite alone (examples/support/import_floor.py: the rows staged in memory, then copied
//! with `INSERT … SELECT` in the import's order): about the least these writes can cost.
//!
//! ```text
//! cargo run --release --example import_bench
//! PULSE_BENCH_ROWS=1000000 cargo run --release --example import_bench   # other sizes
//! ```
//!
//! SQLite always (a file in the temp dir, with the product's pragmas: WAL,
//! synchronous=FULL); PostgreSQL too when PULSE_TEST_POSTGRES_URL is set (a throwaway
//! database is created next to the one named there, and dropped afterwards).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use diesel::connection::SimpleConnection;

#[path = "support/directory_csv.rs"]
mod directory_csv;
use directory_csv::write_directory;

use pulse::db::{self, DatabaseUrl};

/// The server key the CLI is given (a benchmark's, not a secret).
const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--import") {
        return import(
            &args[1],
            Path::new(&args[2]),
            args.get(3).map(String::as_str) == Some("--dry-run"),
        );
    }
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
            let mut admin_conn = pulse::db::establish_postgres(&admin)
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

/// Child process: `pulse stakeholders import` (with `--dry-run`) as users run it — the CLI's
/// own code, from reading the file to its report — then this process's peak memory on a
/// last line of its own.
fn import(url: &str, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let file = file.display().to_string();
    let mut args = vec![
        "pulse",
        "--database-url",
        url,
        "stakeholders",
        "import",
        &file,
    ];
    if dry_run {
        args.push("--dry-run");
    }
    let code = pulse::cli::run_from(args);
    anyhow::ensure!(code == std::process::ExitCode::SUCCESS, "the import failed");
    println!("peak_kb {}", peak_kb()?);
    Ok(())
}

/// This process's peak resident memory (VmHWM of /proc/self/status), in kB.
fn peak_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}

/// Runs `pulse stakeholders import` in a child process; returns (rows, counts, seconds of
/// the whole command, peak MB).
fn child_import(
    url: &DatabaseUrl,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<(usize, String, f64, f64)> {
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .args(["--import", &url.to_string(), &file.display().to_string()])
        .env("PULSE_SECRET_KEY", KEY_HEX);
    if dry_run {
        command.arg("--dry-run");
    }
    let started = Instant::now();
    let output = command.output()?;
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the import failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let value = |prefix: &str| -> anyhow::Result<&str> {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .with_context(|| format!("the import printed no {prefix:?}: {stdout}"))
    };
    let rows = value(&format!("{}: ", file.display()))?
        .split(' ')
        .next()
        .unwrap_or_default()
        .parse()?;
    let counts = [
        "created",
        "updated",
        "unchanged",
        "reactivated",
        "deactivated",
    ]
    .iter()
    .map(|what| Ok(format!("{what} {}", value(&format!("{what}: "))?)))
    .collect::<anyhow::Result<Vec<_>>>()?
    .join(", ");
    let peak_mb = value("peak_kb ")?.parse::<f64>()? / 1024.0;
    Ok((rows, counts, seconds, peak_mb))
}

/// Runs `examples/support/<script> FILE DATABASE` with python3; its wall time in seconds and
/// what it printed.
fn python(script: &str, file: &Path, database: &Path) -> anyhow::Result<(f64, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/support")
        .join(script);
    let started = Instant::now();
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(file)
        .arg(database)
        .output()
        .context("python3 is needed for the baseline")?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((
        seconds,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

/// The Python baseline into a fresh SQLite file; its wall time in seconds.
fn python_import(file: &Path, database: &Path) -> anyhow::Result<f64> {
    Ok(python("python_import.py", file, database)?.0)
}

/// What the import's writes cost SQLite alone (examples/support/import_floor.py, on a
/// freshly migrated file): the seconds of its timed part.
fn sqlite_floor(file: &Path, database: &Path) -> anyhow::Result<f64> {
    {
        let pool = db::connect(&DatabaseUrl::Sqlite(database.display().to_string()))?;
        db::run_migrations(&mut *pool.get()?)?;
    }
    let (_, stdout) = python("import_floor.py", file, database)?;
    stdout
        .split("total ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .with_context(|| format!("the floor printed {stdout:?}"))
}

/// Imports `initial` into a fresh database, then dry-runs and imports `changed`.
fn run(label: &str, url: &DatabaseUrl, initial: &Path, changed: &Path) -> anyhow::Result<()> {
    {
        let pool = db::connect(url)?;
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
    }
    println!("\n{label}");
    let (baseline, floor) = if url.is_sqlite() {
        let folder = initial.parent().context("the file has a folder")?;
        let database = folder.join(format!("python-{}.db", uuid::Uuid::new_v4().simple()));
        let floor = folder.join(format!("floor-{}.db", uuid::Uuid::new_v4().simple()));
        (
            Some(python_import(initial, &database)?),
            Some(sqlite_floor(initial, &floor)?),
        )
    } else {
        (None, None)
    };
    for (step, file, dry_run) in [
        ("import into an empty directory", initial, false),
        ("dry run of the 10%-changed file", changed, true),
        ("re-import, 10% of rows changed", changed, false),
    ] {
        let (rows, counts, total, peak_mb) = child_import(url, file, dry_run)?;
        println!(
            "  {step:<34} total {total:>6.3} s  {:>9.0} rows/s  peak memory {peak_mb:>6.1} MB   [{counts}]",
            rows as f64 / total,
        );
        if let (Some(python), false) = (baseline, dry_run) {
            if step.starts_with("import into") {
                println!(
                    "  baseline: Python csv + sqlite3, same file, one transaction: {python:.3} s; ratio {:.2} (target ≤ 0.5; memory target < 100 MB)",
                    total / python
                );
                if let Some(floor) = floor {
                    println!(
                        "  floor: SQLite's own work for the same writes, rows staged in memory first \
                         (examples/support/import_floor.py): {floor:.3} s = {:.2} × Python; Pulse = {:.2} × the floor",
                        floor / python,
                        total / floor
                    );
                }
            }
        }
    }
    Ok(())
}
