//! Submission throughput over real HTTP: `POST /s/{token}` with unique tokens and a
//! realistic 15-question answer set (examples/bench-fifteen.json), 64 concurrent clients,
//! against SQLite and — when PULSE_TEST_POSTGRES_URL is set — PostgreSQL.
//!
//! Run: `cargo run --release --example submit_bench` (optionally `-- SECONDS CLIENTS`).
//! Prints acknowledged submissions per second and p50/p99 latency. The clients run in
//! the same process as the server, on the same 2 cores: the figures include their cost,
//! kept small with a minimal keep-alive HTTP/1.1 client (a latency is measured from
//! writing the request to reading the whole 303 response).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
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
    let population = 8000 * seconds as usize;
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
        trust_proxy: false,
        response_writers: if url.is_sqlite() { 1 } else { 4 },
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
    tokio::spawn(app.run_until_stopped());

    let tokens = Arc::new(tokens);
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
    println!(
        "{label}: {} acknowledged in {elapsed:.1} s = {:.0} submissions/s; p50 {:.1} ms, p99 {:.1} ms; {failures} failed ({clients} clients)",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
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
            diesel::PgConnection::establish(&admin)?
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
            diesel::PgConnection::establish(&admin)?
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            result?;
        }
        Ok(())
    })
}
