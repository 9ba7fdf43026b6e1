//! Benchmark of the stakeholder directory at scale: 100,000 stakeholders (the generated
//! directory of `import_bench`, with a cost centre of ~9,000 values), the admin page
//! `GET /admin/stakeholders` over real HTTP against a server in its own process, and the
//! streamed `pulse stakeholders list --filter`.
//!
//! ```text
//! cargo run --release --example directory_bench
//! PULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release --example directory_bench
//! PULSE_BENCH_ROWS=1000000 cargo run --release --example directory_bench   # other sizes
//! ```
//!
//! Printed, per backend:
//! * the page (50 rows + counts + filter controls, rendered), median over pages spread across
//!   the directory, against the baseline measured in the same run, interleaved: the same page
//!   of 50 plus the count in plain SQL on a connection of the bench (`SELECT … WHERE active
//!   ORDER BY email LIMIT 50 OFFSET …` and `SELECT COUNT(*) … WHERE active`); the ratio;
//! * a text search and two attribute filters (one on the cost centre), same baseline: the
//!   median of 9 requests (the server keeps a search's count while the directory is
//!   unchanged, `directory::DirectoryCache`) and the first, which counts the matches;
//! * the wave form (`GET /admin/waves/new`, its audience builder) and its "Count who would be
//!   invited" for one region, same baseline: median of 9 and the first;
//! * the server's resident memory idle, and after 100 directory pages (and the searches and
//!   the wave forms);
//! * the listing of everyone in one region, streamed to /dev/null in a process of its own:
//!   time (median of 5) and peak memory, against plain SQL reading the active rows (median of
//!   5, interleaved).
//!
//! The server and the listing run in child processes (this example started again with
//! `--serve` / `--list`), so their memory is theirs alone, not the seeding's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use pulse::config::{SecretKey, Settings};
use pulse::db::{self, DatabaseUrl, DbConn};
use pulse::domain::audience::AudienceFilter;
use pulse::domain::{EmailAddress, Role};
use pulse::services::accounts;
use pulse::services::stakeholders::{apply_import, directory, parse_csv};
use pulse::startup::Application;

#[path = "support/directory_csv.rs"]
mod directory_csv;

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ADMIN: &str = "bench-admin@example.com";
const PASSWORD: &str = "bench-password-long-enough-2026";
/// Runs of the streamed listing and of its baseline, interleaved.
const LISTING_ROUNDS: usize = 5;

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => return serve(&args[1], Path::new(&args[2])),
        Some("--list") => return list(&args[1], &args[2]),
        _ => {}
    }
    let rows: usize = match std::env::var("PULSE_BENCH_ROWS") {
        Ok(raw) => raw.parse().context("PULSE_BENCH_ROWS must be a number")?,
        Err(_) => 100_000,
    };
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("stakeholders.csv");
    directory_csv::write_directory(&csv, &dir.path().join("unused.csv"), rows)?;

    let sqlite = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    run("SQLite", &sqlite, &csv, dir.path())?;
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
                &csv,
                dir.path(),
            );
            admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            result?;
        }
        _ => println!("\nPostgreSQL: skipped (PULSE_TEST_POSTGRES_URL is not set)"),
    }
    Ok(())
}

fn settings(url: DatabaseUrl, dir: &Path) -> anyhow::Result<Settings> {
    Ok(Settings {
        database_url: url,
        host: "127.0.0.1".into(),
        port: 0,
        base_url: "http://127.0.0.1".into(),
        secret_key: SecretKey::parse_hex(KEY_HEX)?,
        definitions_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions"),
        session_idle_timeout: Duration::from_secs(3600),
        session_absolute_timeout: Duration::from_secs(3600),
        login_attempts_per_minute: 1000,
        survey_requests_per_minute: 1000,
        api_requests_per_minute: 6000,
        trust_proxy: false,
        response_writers: 1,
        email: pulse::email::EmailSettings::file(dir.join("mail")),
        scheduler_interval: None,
        outbox_worker: false,
        outbox: pulse::outbox::OutboxConfig::default(),
        metrics_token: None,
        shutdown_grace: Duration::from_secs(1),
        time_zone: pulse::domain::schedule::Tz::UTC,
    })
}

/// Child process: the server, until killed; writes its port to `port_file`.
fn serve(url: &str, port_file: &Path) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(url).map_err(anyhow::Error::msg)?;
    let dir = port_file.parent().context("the port file has a folder")?;
    let settings = settings(url, dir)?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        std::fs::write(port_file, app.port().to_string())?;
        app.run_until_stopped().await?;
        anyhow::Ok(())
    })
}

/// Child process: `pulse stakeholders list --filter FILTER` to a sink; prints
/// `count seconds peak_kb`.
fn list(url: &str, filter: &str) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(url).map_err(anyhow::Error::msg)?;
    let filter = AudienceFilter::parse(filter)?;
    let pool = db::connect(&url)?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let mut sink = std::io::BufWriter::new(std::fs::File::create("/dev/null")?);
    let _ = directory::longest(&mut conn, &filter, false)?;
    let count = directory::for_each(&mut conn, &filter, false, |s| {
        writeln!(sink, "{} {:?} {}", s.email, s.name, s.attributes)?;
        Ok(())
    })?;
    sink.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{count} {seconds} {}",
        status_kb(std::process::id(), "VmHWM")?
    );
    Ok(())
}

/// A line of /proc/PID/status in kB (VmRSS: resident now, VmHWM: peak).
fn status_kb(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(QueryableByName)]
#[allow(dead_code)] // read, not used: the baseline only has to fetch the rows
struct PlainRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    language: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    attributes: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    active: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The baseline: one page of 50 active stakeholders by email and their count, plain SQL.
fn plain_page(conn: &mut DbConn, page: usize) -> anyhow::Result<usize> {
    let rows: Vec<PlainRow> = diesel::sql_query(format!(
        "SELECT id, email, name, language, attributes, active FROM stakeholders \
         WHERE active ORDER BY email LIMIT 50 OFFSET {}",
        (page - 1) * 50
    ))
    .load(conn)?;
    let count: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM stakeholders WHERE active")
        .get_result(conn)?;
    Ok(rows.len() + usize::from(count.n > 0))
}

/// Requests timed against the baseline: [`ROUNDS`] of `request`, each followed by the
/// plain page 1 + count.
struct Timed {
    first_html: String,
    first_ms: f64,
    pulse_ms: f64,
    plain_ms: f64,
}

const ROUNDS: usize = 9;

fn against_baseline(
    conn: &mut DbConn,
    mut request: impl FnMut() -> anyhow::Result<String>,
) -> anyhow::Result<Timed> {
    let (mut pulse, mut plain) = (Vec::new(), Vec::new());
    let mut first = None;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let html = request()?;
        let took = started.elapsed();
        pulse.push(took);
        first.get_or_insert((html, took));
        let started = Instant::now();
        plain_page(conn, 1)?;
        plain.push(started.elapsed());
    }
    let (first_html, first) = first.context("no request was made")?;
    Ok(Timed {
        first_html,
        first_ms: first.as_secs_f64() * 1000.0,
        pulse_ms: median(&mut pulse),
        plain_ms: median(&mut plain),
    })
}

fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn run(label: &str, url: &DatabaseUrl, csv: &Path, dir: &Path) -> anyhow::Result<()> {
    println!("\n{label}");
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let started = Instant::now();
    let parsed = parse_csv(&std::fs::read(csv)?)
        .map_err(|p| anyhow::anyhow!("{} problems, first: {}", p.len(), p[0]))?;
    let rows = parsed.len();
    let counts = apply_import(&mut conn, &parsed, false, chrono::Utc::now().naive_utc())?.counts;
    drop(parsed);
    println!(
        "  seeded {rows} stakeholders by the import in {:.1} s [{counts}]",
        started.elapsed().as_secs_f64()
    );
    accounts::add_user(
        &mut conn,
        &EmailAddress::parse(ADMIN).map_err(anyhow::Error::msg)?,
        Role::Admin,
        PASSWORD,
        chrono::Utc::now().naive_utc(),
    )?;

    let port_file = dir.join(format!("port-{}", uuid::Uuid::new_v4().simple()));
    let server = Server(
        Command::new(std::env::current_exe()?)
            .args([
                "--serve",
                &url.to_string(),
                &port_file.display().to_string(),
            ])
            .env("PULSE_LOG", "warn")
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let port: u16 = loop {
        if let Ok(raw) = std::fs::read_to_string(&port_file) {
            if let Ok(port) = raw.trim().parse() {
                break port;
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let idle_kb = status_kb(pid, "VmRSS")?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let response = client.get(&url).send().await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            Ok::<String, anyhow::Error>(response.text().await?)
        }
    };
    runtime.block_on(async {
        let login = get("/login".into()).await?;
        let csrf = hidden(&login, "csrf_token").context("no CSRF token on /login")?;
        let response = client
            .post(format!("{base}/login"))
            .form(&[
                ("email", ADMIN),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("next", "/admin"),
            ])
            .send()
            .await?;
        anyhow::ensure!(response.status().as_u16() == 303, "sign-in failed");
        anyhow::Ok(())
    })?;

    let active_pages = rows.div_ceil(50).max(1);
    let sample: Vec<usize> = (0..21).map(|i| 1 + i * (active_pages - 1) / 20).collect();
    // Warm both sides up.
    for page in &sample[..3] {
        runtime.block_on(get(format!("/admin/stakeholders?page={page}")))?;
        plain_page(&mut conn, *page)?;
    }
    let html = runtime.block_on(get("/admin/stakeholders".into()))?;
    println!(
        "  page 1: {:.0} kB of HTML, {} <option>s, {} <datalist>s",
        html.len() as f64 / 1e3,
        html.matches("<option").count(),
        html.matches("<datalist").count()
    );
    let (mut pulse, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        for page in &sample {
            let started = Instant::now();
            runtime.block_on(get(format!("/admin/stakeholders?page={page}")))?;
            pulse.push(started.elapsed());
            let started = Instant::now();
            plain_page(&mut conn, *page)?;
            plain.push(started.elapsed());
        }
    }
    let (pulse_ms, plain_ms) = (median(&mut pulse), median(&mut plain));
    println!(
        "  directory page (median of {} over pages 1..{active_pages}): {pulse_ms:.2} ms; \
         baseline plain SQL page of 50 + count: {plain_ms:.2} ms; ratio {:.2} (target ≤ 3)",
        pulse.len(),
        pulse_ms / plain_ms
    );

    let searches = [
        ("text search 'MÜLLER' (names)", "q=M%C3%9CLLER"),
        ("text search '.4242@' (emails)", "q=.4242%40"),
        (
            "filter business_unit=R&D, region=EMEA",
            "a.business_unit=R%26D&a.region=EMEA",
        ),
        (
            "filter cost_center=CC-4242 (typed)",
            "a.cost_center=CC-4242",
        ),
        (
            "audience filter, page 20",
            "filter=region%3DNA%3Bdepartment%3DLabs,IT&page=20",
        ),
    ];
    for (what, query) in searches {
        let timed = against_baseline(&mut conn, || {
            runtime.block_on(get(format!("/admin/stakeholders?{query}")))
        })?;
        let matching = timed
            .first_html
            .split("id=\"matching\" role=\"status\">")
            .nth(1)
            .and_then(|s| s.split(" matching").next())
            .unwrap_or("?");
        println!(
            "  {what}: {matching} matching; {:.2} ms; baseline {:.2} ms; ratio {:.2} (first \
             request, matches counted: {:.2} ms, {:.2})",
            timed.pulse_ms,
            timed.plain_ms,
            timed.pulse_ms / timed.plain_ms,
            timed.first_ms,
            timed.first_ms / timed.plain_ms
        );
    }

    // The wave form: its audience builder (the attribute values) and "Count who would be
    // invited" for one region, same baseline.
    let form = runtime.block_on(get("/admin/waves/new".into()))?;
    println!(
        "  wave form: {:.0} kB of HTML, {} <option>s, {} <datalist>s",
        form.len() as f64 / 1e3,
        form.matches("<option").count(),
        form.matches("<datalist").count()
    );
    let csrf = hidden(&form, "csrf_token").context("no CSRF token on the wave form")?;
    let count_form = [
        ("csrf_token", csrf.as_str()),
        ("survey", "internal-customer"),
        ("title", "Bench"),
        ("action", "count"),
        ("a.region", "EMEA"),
    ];
    let post_count = || {
        let client = client.clone();
        let url = format!("{base}/admin/waves");
        async move {
            let response = client.post(&url).form(&count_form).send().await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            Ok::<String, anyhow::Error>(response.text().await?)
        }
    };
    for what in [
        "wave form GET /admin/waves/new",
        "audience count region=EMEA",
    ] {
        let timed = against_baseline(&mut conn, || {
            if what.starts_with("wave form") {
                runtime.block_on(get("/admin/waves/new".into()))
            } else {
                runtime.block_on(post_count())
            }
        })?;
        let count = timed
            .first_html
            .split("id=\"audience-count\">")
            .nth(1)
            .and_then(|s| s.split("</p>").next())
            .map(|c| format!("{}; ", c.replace("<strong>", "").replace("</strong>", "")))
            .unwrap_or_default();
        println!(
            "  {what}: {count}{:.2} ms; baseline {:.2} ms; ratio {:.2} (first request {:.2} ms, \
             {:.2})",
            timed.pulse_ms,
            timed.plain_ms,
            timed.pulse_ms / timed.plain_ms,
            timed.first_ms,
            timed.first_ms / timed.plain_ms
        );
    }

    // 100 more pages, then the server's memory.
    for i in 0..100 {
        let page = 1 + (i * 997) % active_pages;
        runtime.block_on(get(format!("/admin/stakeholders?page={page}&state=all")))?;
    }
    let after_kb = status_kb(pid, "VmRSS")?;
    let peak_kb = status_kb(pid, "VmHWM")?;
    println!(
        "  server memory: idle {:.1} MB; after {} directory pages {:.1} MB (peak {:.1} MB; target < 100 MB)",
        idle_kb as f64 / 1024.0,
        3 + 1 + sample.len() * 3 + searches.len() * 9 + 100,
        after_kb as f64 / 1024.0,
        peak_kb as f64 / 1024.0
    );
    drop(server);

    // The streamed listing, in a process of its own, against plain SQL loading the rows:
    // LISTING_ROUNDS of each, interleaved, medians compared (one run of each swung the ratio
    // by a third on a shared machine).
    let filter = "region=EMEA";
    let (mut listed, mut plain) = (Vec::new(), Vec::new());
    let (mut rows, mut peak_kb, mut plain_len) = (0.0, 0.0_f64, 0);
    for _ in 0..LISTING_ROUNDS {
        let output = Command::new(std::env::current_exe()?)
            .args(["--list", &url.to_string(), filter])
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let figures: Vec<f64> = stdout
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        anyhow::ensure!(figures.len() == 3, "list printed {stdout:?}");
        rows = figures[0];
        listed.push(Duration::from_secs_f64(figures[1]));
        peak_kb = peak_kb.max(figures[2]);
        let started = Instant::now();
        let plain_rows: Vec<PlainRow> = diesel::sql_query(
            "SELECT id, email, name, language, attributes, active FROM stakeholders \
             WHERE active ORDER BY email",
        )
        .load(&mut conn)?;
        plain.push(started.elapsed());
        plain_len = plain_rows.len();
    }
    let (listed_ms, plain_ms) = (median(&mut listed), median(&mut plain));
    println!(
        "  stakeholders list --filter {filter}: {rows} rows streamed in {:.3} s (median of \
         {LISTING_ROUNDS}), peak memory {:.1} MB; baseline plain SQL reading all {plain_len} \
         active rows at once: {:.3} s; ratio {:.2}",
        listed_ms / 1000.0,
        peak_kb / 1024.0,
        plain_ms / 1000.0,
        listed_ms / plain_ms
    );
    Ok(())
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&#x3D;", "="))
}
