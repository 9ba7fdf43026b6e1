//! Request API throughput over real HTTP: `POST /api/v1/requests` with an API key, many
//! concurrent clients on kept-alive connections, against SQLite and — when
//! PULSE_TEST_POSTGRES_URL is set — PostgreSQL. Every call writes: request `B-n` is sent
//! twice, open and then fulfilled (created, then updated), so none is "unchanged".
//!
//! Run: `cargo run --release --example api_bench` (optionally `-- SECONDS CLIENTS`).
//!
//! Printed per backend, all in the same run, on the same database:
//! * baseline 1, the database alone: single-row upserts of a request-sized row into
//!   `procurement_requests`, one transaction each, one after another, straight through
//!   diesel (no HTTP, no key, no validation, no directory check) — what one commit per
//!   update costs here;
//! * baseline 2, the HTTP stack alone: `GET /healthz` with the same clients and client;
//! * the API: acknowledged request updates per second (201 or 200), p50/p99 latency, and
//!   the ratio to each baseline. The target is ≥ 500 updates/s.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use pulse::config::{SecretKey, Settings};
use pulse::db::{self, DatabaseUrl};
use pulse::services::stakeholders;
use pulse::startup::Application;

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const UNITS: [&str; 6] = [
    "IT",
    "Sales",
    "Finance",
    "R&D",
    "Manufacturing",
    "Logistics",
];

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Migrates, imports a directory of 6,000 people in six units and creates an API key.
fn prepare(url: &DatabaseUrl) -> anyhow::Result<String> {
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let mut csv = String::from("email,name,business_unit\n");
    for i in 0..6000 {
        csv.push_str(&format!(
            "person{i}@example.com,Person {i},{}\n",
            UNITS[i % 6]
        ));
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes())
        .map_err(|p| anyhow::anyhow!("{} import problems", p.len()))?;
    stakeholders::apply_import(&mut conn, &parsed, false, now())?;
    let created = pulse::auth::api_keys::create(&mut conn, "bench", "command line", now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(created.key)
}

/// Single-row upserts per second for `seconds`, one transaction each, on `url`'s
/// `procurement_requests` (ids of their own, removed afterwards).
fn upsert_rate(url: &DatabaseUrl, seconds: f64) -> anyhow::Result<f64> {
    use pulse::db::models::requests::{upsert_many, RequestRow};
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    let opened = chrono::NaiveDate::from_ymd_opt(2027, 1, 11).unwrap_or_default();
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        let id = format!("baseline-{commits}");
        let row = RequestRow {
            id: &id,
            business_unit: UNITS[(commits % 6) as usize],
            requester_email: Some("anna@example.com"),
            category: "IT hardware",
            channel: "catalogue",
            value_amount: Some(1250.5),
            currency: Some("EUR"),
            opened_on: opened,
            fulfilled_on: None,
            status: "open",
            imported_at: now(),
        };
        db::write_transaction(&mut conn, |c| upsert_many(c, &[row]))?;
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    conn.batch_execute("DELETE FROM procurement_requests WHERE id LIKE 'baseline-%'")?;
    Ok(rate)
}

/// The body of the `n`th call: request `B-{n/2}`, open (even n) or fulfilled (odd n).
fn body(n: usize) -> String {
    let fulfilled = if n % 2 == 1 {
        r#", "fulfilled_on": "2027-02-01""#
    } else {
        ""
    };
    format!(
        r#"{{"request_id": "B-{}", "business_unit": "{}", "requester_email": "person{}@example.com", "category": "IT hardware", "channel": "catalogue", "value": 1250.50, "currency": "EUR", "opened_on": "2027-01-11"{fulfilled}}}"#,
        n / 2,
        UNITS[(n / 2) % 6],
        n % 6000
    )
}

struct Run {
    ok: usize,
    failures: usize,
    elapsed: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `clients` connections sending the request `make(n)` for n = 0, 1, … for `seconds`;
/// a call counts when its status is one of `ok` and its answer is not "unchanged".
async fn drive(
    port: u16,
    clients: usize,
    seconds: u64,
    ok: &'static [u16],
    make: Arc<dyn Fn(usize) -> String + Send + Sync>,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, make) = (next.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            let mut connection = None;
            while Instant::now() < deadline {
                let request = make(next.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                match call(&mut connection, port, request.as_bytes()).await {
                    // A write was asked for: an "unchanged" answer would not count.
                    Ok((status, body))
                        if ok.contains(&status)
                            && !String::from_utf8_lossy(&body).contains("\"unchanged\"") =>
                    {
                        latencies.push(sent.elapsed())
                    }
                    _ => {
                        failures += 1;
                        connection = None;
                    }
                }
            }
            (latencies, failures)
        }));
    }
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
    Ok(Run {
        ok: latencies.len(),
        failures,
        elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    })
}

async fn run(label: &str, url: DatabaseUrl, seconds: u64, clients: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let prepare_url = url.clone();
    let key = tokio::task::spawn_blocking(move || prepare(&prepare_url)).await??;

    let settings = Settings {
        database_url: url.clone(),
        host: "127.0.0.1".into(),
        port: 0,
        base_url: "http://127.0.0.1".into(),
        secret_key: SecretKey::parse_hex(KEY_HEX)?,
        definitions_dir: dir.path().join("no-definitions"),
        session_idle_timeout: Duration::from_secs(3600),
        session_absolute_timeout: Duration::from_secs(3600),
        login_attempts_per_minute: 10,
        survey_requests_per_minute: 1000,
        api_requests_per_minute: 100_000_000,
        trust_proxy: false,
        response_writers: if url.is_sqlite() { 1 } else { 4 },
        email: pulse::email::EmailSettings::file(dir.path().join("mail")),
        scheduler_interval: None,
        outbox_worker: false,
        outbox: pulse::outbox::OutboxConfig::default(),
        metrics_token: None,
        shutdown_grace: Duration::from_secs(10),
        time_zone: pulse::domain::schedule::Tz::UTC,
    };
    let app = Application::build(settings).await?;
    let port = app.port();
    tokio::spawn(app.run_until_stopped());

    let baseline_url = url.clone();
    let upserts = tokio::task::spawn_blocking(move || upsert_rate(&baseline_url, 5.0)).await??;
    println!("{label}: baseline 1, single-row upsert commits straight through diesel (one after another): {upserts:.0}/s");
    let health = drive(
        port,
        clients,
        seconds.min(5),
        &[200],
        Arc::new(|_| "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_string()),
    )
    .await?;
    let health_rate = health.ok as f64 / health.elapsed;
    println!(
        "{label}: baseline 2, GET /healthz with the same {clients} clients: {health_rate:.0}/s (p99 {:.1} ms)",
        health.p99_ms
    );

    let make: Arc<dyn Fn(usize) -> String + Send + Sync> = Arc::new(move |n| {
        let body = body(n);
        format!(
            "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    });
    let api = drive(port, clients, seconds, &[200, 201], make).await?;
    let rate = api.ok as f64 / api.elapsed;
    println!(
        "{label}: POST /api/v1/requests: {} request updates in {:.1} s = {rate:.0} updates/s ({:.2}× baseline 1, {:.2}× baseline 2); p50 {:.1} ms, p99 {:.1} ms; {} failed ({clients} clients); target ≥ 500/s: {}",
        api.ok,
        api.elapsed,
        rate / upserts,
        rate / health_rate,
        api.p50_ms,
        api.p99_ms,
        api.failures,
        if rate >= 500.0 { "met" } else { "NOT met" }
    );
    Ok(())
}

/// One request on a kept-alive HTTP/1.1 connection (opened when needed); the status code
/// and the body.
/// A minimal client, so the load generator takes as little of the cores as possible.
async fn call(
    connection: &mut Option<tokio::io::BufReader<tokio::net::TcpStream>>,
    port: u16,
    request: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
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
    Ok((status, body))
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
