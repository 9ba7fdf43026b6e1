//! Submission throughput over real HTTP: `POST /s/{token}` with unique tokens and a
//! realistic 15-question answer set (examples/bench-fifteen.json), 64 concurrent clients,
//! against SQLite and — when PULSE_TEST_POSTGRES_URL is set — PostgreSQL.
//!
//! Run: `cargo run --release --example submit_bench` (optionally `-- SECONDS CLIENTS`;
//! `PULSE_RESPONSE_WRITERS` sets the writer threads as for `pulse serve`).
//! Needs `wrk` for the second client (`apt-get install wrk`) and `pgbench` (PostgreSQL's
//! client tools) for the PostgreSQL baseline; without them those lines say so.
//!
//! Printed per backend, all in the same run:
//! * the baseline: on SQLite, raw single-row commits (one connection, WAL,
//!   `synchronous=FULL`, one `INSERT` of a response-sized row per transaction) on the same
//!   disk; on PostgreSQL, `pgbench` with the same number of clients, each transaction one
//!   such `INSERT`;
//! * the product's own client: acknowledged submissions per second, p50/p99 latency and the
//!   ratio to the baseline. It runs in the same process as the server, on the same 2 cores,
//!   kept small with a minimal keep-alive HTTP/1.1 client (a latency is measured from writing
//!   the request to reading the whole 303 response);
//! * `wrk` (a client that is not ours, driven by `examples/support/submit.lua`) on fresh
//!   links: submissions per second, p99, the ratio, and the server's CPU time per
//!   submission (the process's user + system time over the run divided by the submissions:
//!   with wrk as the client, this process only serves).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use pulse::config::{SecretKey, Settings};
use pulse::db::{self, DatabaseUrl};
use pulse::domain::token::{LinkToken, TokenPurpose};
use pulse::domain::wave::WaveInput;
use pulse::services::{stakeholders, surveys, waves};
use pulse::startup::Application;
use rand::{Rng, SeedableRng};

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Migrates, pins the bench survey, imports `n` stakeholders and opens a wave; returns the
/// survey link tokens.
fn prepare(
    url: &DatabaseUrl,
    definitions: &std::path::Path,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    surveys::load_and_pin(&mut conn, definitions, now())?;
    let mut csv = String::from("email,name,business_unit,region\n");
    for i in 0..n {
        csv.push_str(&format!(
            "person{i}@example.com,Person {i},BU{},R{}\n",
            i % 6,
            i % 4
        ));
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes())
        .map_err(|p| anyhow::anyhow!("{} import problems", p.len()))?;
    stakeholders::apply_import(&mut conn, &parsed, false, now())?;
    let input = WaveInput {
        survey: "bench-fifteen".into(),
        title: "Benchmark".into(),
        opens: "now".into(),
        closes: "2099-01-01".into(),
        remind: "none".into(),
        ..Default::default()
    };
    let wave =
        waves::schedule_wave(&mut conn, &input, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = SecretKey::parse_hex(KEY_HEX)?;
    waves::open_wave(&mut conn, &key, &wave.id, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ids = pulse::db::models::invitations::ids_of_wave(&mut conn, &wave.id)?;
    Ok(ids
        .iter()
        .map(|id| {
            LinkToken::derive(&key, TokenPurpose::Survey, id)
                .expose()
                .to_string()
        })
        .collect())
}

/// Raw single-row commits per second for `seconds` on a fresh SQLite file in `dir`: the
/// floor a one-commit-per-submission server would be held to.
fn sqlite_commit_rate(dir: &std::path::Path, seconds: f64) -> anyhow::Result<f64> {
    let path = dir.join("baseline.db");
    let mut conn = diesel::SqliteConnection::establish(&path.display().to_string())?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE rows (id TEXT PRIMARY KEY, wave_id TEXT NOT NULL, cell TEXT NOT NULL, \
         payload TEXT NOT NULL);",
    )?;
    let payload = "x".repeat(400);
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        diesel::sql_query("INSERT INTO rows (id, wave_id, cell, payload) VALUES (?, 'w', '{}', ?)")
            .bind::<diesel::sql_types::Text, _>(uuid::Uuid::new_v4().to_string())
            .bind::<diesel::sql_types::Text, _>(payload.as_str())
            .execute(&mut conn)?;
        commits += 1;
    }
    Ok(commits as f64 / started.elapsed().as_secs_f64())
}

/// `pgbench` one-row inserts per second with `clients` clients for `seconds` on the
/// database at `url` (a table of its own), or why it could not run.
fn pgbench_rate(url: &str, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let mut conn = pulse::db::establish_postgres(url)?;
    conn.batch_execute(
        "CREATE TABLE baseline_rows (id TEXT PRIMARY KEY, wave_id TEXT NOT NULL, \
         cell TEXT NOT NULL, payload TEXT NOT NULL)",
    )?;
    let script = tempfile::NamedTempFile::new()?;
    std::fs::write(
        script.path(),
        "INSERT INTO baseline_rows VALUES (md5(random()::text || clock_timestamp()::text), \
         'w', '{}', repeat('x', 400));\n",
    )?;
    let output = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(script.path())
        .arg(url)
        .output()
        .map_err(|e| anyhow::anyhow!("pgbench could not run ({e})"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "pgbench printed no rate: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// This process's user + system CPU time so far, in seconds.
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/self/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}

/// What `wrk` measured.
struct WrkRun {
    requests: u64,
    per_second: f64,
    p99_ms: f64,
    not_303: u64,
}

/// Runs `wrk` with `examples/support/submit.lua` over the `token<TAB>body` lines in `file`.
fn wrk(port: u16, clients: usize, seconds: u64, file: &std::path::Path) -> anyhow::Result<WrkRun> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/support/submit.lua");
    let output = std::process::Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            &clients.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--")
        .arg(file)
        .arg("2")
        .output()
        .map_err(|e| anyhow::anyhow!("wrk could not run ({e}); apt-get install wrk"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let field = |prefix: &str| {
        stdout
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(|rest| rest.trim().to_string())
    };
    let per_second = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("wrk printed no rate: {stdout}"))?;
    let p99_ms = field("99%")
        .map(|v| {
            let number: f64 = v
                .trim_end_matches(|c: char| c.is_alphabetic())
                .parse()
                .unwrap_or(f64::NAN);
            if v.ends_with("us") {
                number / 1000.0
            } else if v.ends_with("ms") {
                number
            } else {
                number * 1000.0
            }
        })
        .unwrap_or(f64::NAN);
    let not_303 = field("Not 303 responses:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("wrk printed no count of refused answers: {stdout}"))?;
    let requests = stdout
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("wrk printed no request count: {stdout}"))?;
    Ok(WrkRun {
        requests,
        per_second,
        p99_ms,
        not_303,
    })
}

fn answers(rng: &mut impl Rng) -> Vec<(String, String)> {
    let mut form = vec![("recommend".to_string(), rng.gen_range(0..=10).to_string())];
    for q in 1..=10 {
        let scale = if q >= 8 { 7 } else { 5 };
        form.push((format!("q{q}"), rng.gen_range(1..=scale).to_string()));
    }
    for pain in [
        "approval_delays",
        "supplier_onboarding",
        "unclear_contact",
        "late_payment",
    ] {
        if rng.gen_bool(0.3) {
            form.push(("pains".into(), pain.into()));
        }
    }
    form.truncate(14);
    form.push((
        "frequency".into(),
        ["weekly", "monthly", "rarely"][rng.gen_range(0..3)].into(),
    ));
    form.push(("keep".into(), "Fast answers from the category team.".into()));
    form.push((
        "change".into(),
        "Approvals over 10k take two weeks; please simplify them.".into(),
    ));
    form
}

async fn run(label: &str, url: DatabaseUrl, seconds: u64, clients: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let definitions = dir.path().join("definitions");
    std::fs::create_dir_all(&definitions)?;
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/bench-fifteen.json"),
        definitions.join("bench-fifteen.json"),
    )?;
    // Enough fresh links for both clients at up to 16,000 submissions per second.
    let population = 2 * 16_000 * seconds as usize;
    let prepare_url = url.clone();
    let prepare_dir = definitions.clone();
    let started = Instant::now();
    let tokens =
        tokio::task::spawn_blocking(move || prepare(&prepare_url, &prepare_dir, population))
            .await??;
    println!(
        "{label}: prepared {} invitations in {:.1} s",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );

    let baseline = if url.is_sqlite() {
        let rate = sqlite_commit_rate(dir.path(), 5.0)?;
        println!("{label}: baseline raw single-row commits (synchronous=FULL): {rate:.0}/s");
        Some(rate)
    } else if let DatabaseUrl::Postgres(raw) = &url {
        match pgbench_rate(raw, clients, 5) {
            Ok(rate) => {
                println!(
                    "{label}: baseline pgbench one-row inserts, {clients} clients: {rate:.0}/s"
                );
                Some(rate)
            }
            Err(e) => {
                println!("{label}: no pgbench baseline: {e}");
                None
            }
        }
    } else {
        None
    };
    let ratio = |rate: f64| match baseline {
        Some(base) => format!("{:.2}× the baseline", rate / base),
        None => "no baseline".to_string(),
    };
    let (own_tokens, wrk_tokens) = {
        let mut tokens = tokens;
        let second_half = tokens.split_off(tokens.len() / 2);
        (tokens, second_half)
    };
    let wrk_file = dir.path().join("wrk-requests.tsv");
    {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4242);
        let mut lines = String::new();
        for token in &wrk_tokens {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(answers(&mut rng))
                .finish();
            lines.push_str(&format!("{token}\t{body}\n"));
        }
        std::fs::write(&wrk_file, lines)?;
    }

    let settings = Settings {
        database_url: url.clone(),
        host: "127.0.0.1".into(),
        port: 0,
        base_url: "http://127.0.0.1".into(),
        secret_key: SecretKey::parse_hex(KEY_HEX)?,
        definitions_dir: definitions,
        session_idle_timeout: Duration::from_secs(3600),
        session_absolute_timeout: Duration::from_secs(3600),
        login_attempts_per_minute: 10,
        survey_requests_per_minute: 10_000_000,
        api_requests_per_minute: 6000,
        trust_proxy: false,
        // As `pulse serve`: PULSE_RESPONSE_WRITERS, else one.
        response_writers: std::env::var("PULSE_RESPONSE_WRITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        email: pulse::email::EmailSettings::file(dir.path().join("mail")),
        scheduler_interval: None,
        outbox_worker: false,
        outbox: pulse::outbox::OutboxConfig::default(),
        metrics_token: None,
        shutdown_grace: std::time::Duration::from_secs(10),
        time_zone: pulse::domain::schedule::Tz::UTC,
    };
    let app = Application::build(settings).await?;
    let port = app.port();
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());

    let tokens = Arc::new(own_tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (tokens, next) = (tokens.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(worker as u64);
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            let mut connection = None;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(answers(&mut rng)).finish();
                let request = format!(
                    "POST /s/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let sent = Instant::now();
                match post(&mut connection, port, request.as_bytes()).await {
                    Ok(303) => latencies.push(sent.elapsed()),
                    _ => {
                        failures += 1;
                        connection = None;
                    }
                }
            }
            (latencies, failures)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = latencies.len() as f64 / elapsed;
    println!(
        "{label}: own client: {} acknowledged in {elapsed:.1} s = {rate:.0} submissions/s ({}); p50 {:.1} ms, p99 {:.1} ms; {failures} failed ({clients} clients)",
        latencies.len(),
        ratio(rate),
        pct(0.50),
        pct(0.99)
    );

    let cpu_before = cpu_seconds()?;
    let run = tokio::task::spawn_blocking(move || wrk(port, clients, seconds, &wrk_file)).await?;
    let cpu = cpu_seconds()? - cpu_before;
    let wrk_acknowledged = match run {
        Ok(run) => {
            let acknowledged = run.requests.saturating_sub(run.not_303);
            // wrk's own rate counts every request; this one only the acknowledged answers.
            let rate = acknowledged as f64 * run.per_second / run.requests.max(1) as f64;
            println!(
                "{label}: wrk: {rate:.0} acknowledged submissions/s ({}); p99 {:.1} ms; {} not acknowledged; server CPU {:.3} ms per submission",
                ratio(rate),
                run.p99_ms,
                run.not_303,
                cpu * 1000.0 / acknowledged.max(1) as f64
            );
            acknowledged
        }
        Err(e) => {
            println!("{label}: no wrk run: {e}");
            0
        }
    };
    // Every acknowledged answer is in the database (and a few more: those wrk stopped
    // waiting for when its time was up).
    let stored = tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let mut conn = pool.get()?;
        let waves = pulse::db::models::waves::list(&mut conn)?;
        let mut stored = 0;
        for (wave, _, _) in waves {
            stored += pulse::db::models::responses::count_for_wave(&mut conn, &wave.id)?;
        }
        Ok(stored)
    })
    .await??;
    let acknowledged = latencies.len() as u64 + wrk_acknowledged;
    println!("{label}: responses in the database: {stored} (acknowledged: {acknowledged})");
    anyhow::ensure!(
        stored as u64 >= acknowledged,
        "{label}: fewer responses stored than acknowledged"
    );
    Ok(())
}

/// One request on a kept-alive HTTP/1.1 connection (opened when needed); the status code.
/// A minimal client, so the load generator takes as little of the 2 cores as possible.
async fn post(
    connection: &mut Option<tokio::io::BufReader<tokio::net::TcpStream>>,
    port: u16,
    request: &[u8],
) -> anyhow::Result<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    if connection.is_none() {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        *connection = Some(tokio::io::BufReader::new(stream));
    }
    let Some(stream) = connection.as_mut() else {
        anyhow::bail!("no connection")
    };
    stream.get_mut().write_all(request).await?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line).await?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("bad status line {status_line:?}"))?;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await?;
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse()?;
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(status)
}

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    actix_web::rt::System::new().block_on(async move {
        let dir = tempfile::tempdir()?;
        let sqlite = DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        ))
        .map_err(anyhow::Error::msg)?;
        run("sqlite", sqlite, seconds, clients).await?;
        if let Ok(admin) = std::env::var("PULSE_TEST_POSTGRES_URL") {
            let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
            pulse::db::establish_postgres(&admin)?
                .batch_execute(&format!("CREATE DATABASE {name}"))?;
            let mut url = url::Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            let result = run(
                "postgres",
                DatabaseUrl::parse(url.as_str()).map_err(anyhow::Error::msg)?,
                seconds,
                clients,
            )
            .await;
            pulse::db::establish_postgres(&admin)?
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            result?;
        }
        Ok(())
    })
}
