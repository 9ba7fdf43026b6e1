//! Benchmark of email delivery through the loop `pulse serve` runs: the real
//! [`Application`] (web server and outbox worker with the `serve` defaults: 16 sends in
//! flight over an SMTP pool of 8 connections, 2 s idle poll, 20 s lease) sends a wave of
//! 10,000 invitations to an SMTP server on loopback that accepts at once. The wave is opened
//! the way an admin's "Open now" does (`waves::open_wave`, then `outbox::wake`), and the
//! clock runs from the opening until the server accepted the last mail.
//!
//! Beside it, in the same run and to the same kind of server, a **plain SMTP client** with
//! the same number of connections (8 lettre connections, TCP_NODELAY, one task each) sends
//! the very same messages (the bytes the server received from Pulse): the baseline, and the
//! ratio Pulse / baseline. A second baseline builds each message with lettre from the parts
//! Pulse sent (subject, text, HTML, headers) before sending it, as a mail-merge script
//! would: the gap between the two baselines is the cost of building messages, the rest of
//! Pulse's gap is its own per-mail work (claiming, composing, marking). Then Pulse and the
//! plain client again against a server that waits 50 ms before answering each message,
//! where the ceiling is connections / 50 ms = 160 mails/s. A third baseline is the plain
//! Python client the email issue measured (`examples/support/smtp_client.py`: smtplib, one
//! thread and connection each, the same messages).
//!
//! ```text
//! cargo run --release --example outbox_bench
//! PULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release --example outbox_bench
//! PULSE_BENCH_INVITATIONS=2000 cargo run --release --example outbox_bench   # other sizes
//! ```
//!
//! SQLite always (a file in a temp dir, with the product's pragmas: WAL, synchronous=FULL);
//! PostgreSQL too when PULSE_TEST_POSTGRES_URL is set (a throwaway database is created next
//! to the one named there, and dropped afterwards). Each wave must arrive exactly once: as
//! many messages, distinct Message-IDs and distinct recipients as invitations, and the
//! database agrees; any mismatch makes the program exit with status 1.
//!
//! The SMTP servers and the baseline client run in this process, on the same two cores as
//! Pulse and the database.

#[path = "../tests/api/smtp_server.rs"]
mod smtp_server;

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use lettre::address::Envelope;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;

use pulse::config::{SecretKey, Settings};
use pulse::db::{self, DatabaseUrl};
use pulse::domain::wave::WaveInput;
use pulse::email::{EmailSettings, SmtpUrl};
use pulse::outbox::OutboxConfig;
use pulse::services::stakeholders::{apply_import, parse_csv};
use pulse::services::{surveys, waves};
use pulse::startup::Application;

use smtp_server::{Action, ReceivedMessage, SmtpServer};

const SECRET_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const BASE_URL: &str = "https://pulse.example.com";
const SURVEY: &str = "internal-customer";
/// The SMTP pool of `pulse serve` by default (`--smtp-pool-size`), and so the baseline's
/// connections.
const CONNECTIONS: usize = 8;
/// The slow server's wait per message.
const SLOW: Duration = Duration::from_millis(50);

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
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
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
        "outbox benchmark: the `pulse serve` loop, {invitations} invitations per wave, {} cores, \
         SMTP test server on 127.0.0.1, baseline: a plain SMTP client with {CONNECTIONS} connections",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir()?;
    let mut ok = true;

    let sqlite = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    ok &= runtime.block_on(run("sqlite", &sqlite, invitations, dir.path()))?;

    match std::env::var("PULSE_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin_conn = pulse::db::establish_postgres(&admin)
                .context("cannot connect to PULSE_TEST_POSTGRES_URL")?;
            admin_conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let mut url = url::Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            let result = runtime.block_on(run(
                "postgres",
                &DatabaseUrl::Postgres(url.to_string()),
                invitations,
                dir.path(),
            ));
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

/// One backend: a fresh database with the stakeholders, then a wave to a server that
/// accepts at once and a (smaller) wave to one that waits 50 ms per message, each beside
/// the plain client. Returns whether every check passed.
async fn run(
    label: &str,
    url: &DatabaseUrl,
    invitations: usize,
    dir: &Path,
) -> anyhow::Result<bool> {
    println!("\n{label}");
    let pool = db::connect(url)?;
    {
        let started = Instant::now();
        let csv = stakeholder_csv(invitations);
        let pool = pool.clone();
        let created = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            let definitions = Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
            surveys::load_and_pin(&mut conn, &definitions, now())?;
            let parsed = parse_csv(&csv).map_err(|problems| {
                anyhow::anyhow!("{} problems, first: {}", problems.len(), problems[0])
            })?;
            Ok(apply_import(&mut conn, &parsed, false, now())?
                .counts
                .created)
        })
        .await??;
        println!(
            "{label}: imported {created} stakeholders in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    let mut ok = true;

    // 1. A server that accepts at once.
    let fast = SmtpServer::start().await;
    let wave = deliver(label, url, &pool, &fast, dir, "fast", invitations).await?;
    ok &= wave.passed;
    let baseline = plain_client(&wave.messages, None).await?;
    let building = building_client(&wave.messages).await?;
    let python = python_client(&wave.messages, dir).await?;
    let pulse_rate = wave.sent as f64 / wave.send_time.as_secs_f64();
    let baseline_rate = wave.messages.len() as f64 / baseline.as_secs_f64();
    let building_rate = wave.messages.len() as f64 / building.as_secs_f64();
    println!(
        "{label}: pulse serve: wave of {} opened in {:.2} s, last mail accepted {:.2} s after the opening began; \
         sending {:.0} mails/s ({} SMTP connections)",
        wave.invited,
        wave.open_time.as_secs_f64(),
        wave.total_time.as_secs_f64(),
        pulse_rate,
        fast.connections(),
    );
    println!(
        "{label}: baseline: plain SMTP client, {CONNECTIONS} connections, the same {} messages: {:.2} s = {:.0} mails/s",
        wave.messages.len(),
        baseline.as_secs_f64(),
        baseline_rate
    );
    println!(
        "{label}: second baseline: a client that builds each message (lettre, from the subject, text and HTML \
         Pulse sent) and sends it, {CONNECTIONS} connections: {:.2} s = {:.0} mails/s; pulse / this client = {:.2}",
        building.as_secs_f64(),
        building_rate,
        pulse_rate / building_rate
    );
    match python {
        Some(python) => {
            let python_rate = wave.messages.len() as f64 / python.as_secs_f64();
            println!(
                "{label}: third baseline: plain Python client (smtplib, one thread each), {CONNECTIONS} connections, \
                 the same messages: {:.2} s = {:.0} mails/s; pulse / this client = {:.2}",
                python.as_secs_f64(),
                python_rate,
                pulse_rate / python_rate
            );
        }
        None => println!("{label}: third baseline skipped: no python3"),
    }
    println!(
        "{label}: RATIO pulse / plain client = {:.2}   (target >= 0.90; >= 1,000 mails/s; wave in < 10 s: {})",
        pulse_rate / baseline_rate,
        if wave.total_time < Duration::from_secs(10) {
            "yes"
        } else {
            "NO"
        }
    );
    drop(fast);

    // 2. A server that waits 50 ms before accepting each message.
    let slow_size = invitations.min(1_000);
    let slow = SmtpServer::start().await;
    slow.set_default(Action::Slow(SLOW));
    let wave = deliver(label, url, &pool, &slow, dir, "slow", slow_size).await?;
    ok &= wave.passed;
    let slow_baseline_server = SmtpServer::start().await;
    slow_baseline_server.set_default(Action::Slow(SLOW));
    let baseline = plain_client(&wave.messages, Some(&slow_baseline_server)).await?;
    let ceiling = CONNECTIONS as f64 / SLOW.as_secs_f64();
    let pulse_rate = wave.sent as f64 / wave.send_time.as_secs_f64();
    let baseline_rate = wave.messages.len() as f64 / baseline.as_secs_f64();
    println!(
        "{label}: server waiting {} ms per message: pulse serve {:.0} mails/s, plain client {:.0} mails/s, \
         ceiling {CONNECTIONS} connections / {} ms = {ceiling:.0} mails/s; RATIO pulse / plain client = {:.2}, pulse / ceiling = {:.2}",
        SLOW.as_millis(),
        pulse_rate,
        baseline_rate,
        SLOW.as_millis(),
        pulse_rate / baseline_rate,
        pulse_rate / ceiling,
    );
    Ok(ok)
}

/// What one wave through `pulse serve` gave.
struct Delivered {
    invited: usize,
    sent: usize,
    open_time: Duration,
    /// From the start of the opening to the last mail accepted.
    total_time: Duration,
    /// From the end of the opening to the last mail accepted.
    send_time: Duration,
    messages: Vec<ReceivedMessage>,
    passed: bool,
}

/// Starts the application (as `pulse serve` with its defaults, mail to `server`), opens a
/// wave of everyone as "Open now" does, waits for every mail, stops the application.
async fn deliver(
    label: &str,
    url: &DatabaseUrl,
    pool: &db::Pool,
    server: &SmtpServer,
    dir: &Path,
    name: &str,
    audience: usize,
) -> anyhow::Result<Delivered> {
    let key = SecretKey::parse_hex(SECRET_HEX)?;
    let mut email = EmailSettings::smtp(
        SmtpUrl::parse(&server.url()).map_err(|e| anyhow::anyhow!("SMTP URL: {e}"))?,
    );
    email.from = "Procurement Pulse <pulse@example.com>"
        .parse()
        .context("sender")?;
    email.pool_size = CONNECTIONS as u32;
    let settings = Settings {
        database_url: url.clone(),
        host: "127.0.0.1".into(),
        port: 0,
        base_url: BASE_URL.into(),
        secret_key: key.clone(),
        definitions_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions"),
        session_idle_timeout: Duration::from_secs(3600),
        session_absolute_timeout: Duration::from_secs(12 * 3600),
        login_attempts_per_minute: 10,
        survey_requests_per_minute: 300,
        api_requests_per_minute: 6000,
        trust_proxy: false,
        response_writers: if url.is_sqlite() { 1 } else { 4 },
        email,
        // The bench opens the wave itself, as "Open now" does (a scheduler tick could open
        // it first and the clock would miss the opening).
        scheduler_interval: None,
        outbox_worker: true,
        outbox: OutboxConfig::default(),
        metrics_token: None,
        shutdown_grace: Duration::from_secs(10),
        time_zone: pulse::domain::schedule::Tz::UTC,
    };
    let app = Application::build(settings).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    // A wave for the first `audience` stakeholders (by region and unit: everyone when all).
    let input = WaveInput {
        survey: SURVEY.into(),
        title: format!("Benchmark {name}"),
        opens: "now".into(),
        closes: (now() + chrono::Duration::days(21))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        remind: "none".into(),
        ..Default::default()
    };
    let wave_pool = pool.clone();
    let wave = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let mut conn = wave_pool.get()?;
        Ok(waves::schedule_wave(&mut conn, &input, now())?.id)
    })
    .await??;
    if audience < count_active(pool).await? {
        limit_audience(pool, audience).await?;
    }
    let started = Instant::now();
    let (open_pool, open_key, open_wave) = (pool.clone(), key.clone(), wave.clone());
    let invited = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = open_pool.get()?;
        Ok(waves::open_wave(&mut conn, &open_key, &open_wave, now())?
            .context("the new wave was scheduled")?
            .invited)
    })
    .await??;
    pulse::outbox::wake();
    let open_time = started.elapsed();
    let messages = server.wait_for(invited, Duration::from_secs(600)).await;
    let total_time = started.elapsed();
    let send_time = total_time - open_time;
    // Give a double send the chance to show before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages_now = server.messages();
    let _ = stop.send(());
    running.await??;
    if audience < count_all(pool).await? {
        restore_audience(pool).await?;
    }
    let progress = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<waves::WaveProgress> {
            Ok(waves::progress(&mut *pool.get()?, &wave)?)
        })
        .await??
    };
    let passed = check(label, name, invited, &progress, &messages_now);
    let _ = dir;
    Ok(Delivered {
        invited,
        sent: messages.len(),
        open_time,
        total_time,
        send_time,
        messages: messages_now,
        passed,
    })
}

async fn count_active(pool: &db::Pool) -> anyhow::Result<usize> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let n = pulse::db::models::stakeholders::count_active(&mut *pool.get()?)?;
        Ok(usize::try_from(n).unwrap_or(0))
    })
    .await?
}

async fn count_all(pool: &db::Pool) -> anyhow::Result<usize> {
    use diesel::prelude::*;
    use pulse::db::schema::stakeholders;
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = pool.get()?;
        let n: i64 =
            pulse::on_backend!(&mut *conn, c => stakeholders::table.count().get_result(c))?;
        Ok(usize::try_from(n).unwrap_or(0))
    })
    .await?
}

/// Deactivates all but the first `keep` stakeholders (by email), for a smaller wave.
async fn limit_audience(pool: &db::Pool, keep: usize) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use pulse::db::schema::stakeholders;
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = pool.get()?;
        let emails: Vec<String> = pulse::on_backend!(&mut *conn, c => stakeholders::table
            .order(stakeholders::email.asc())
            .select(stakeholders::email)
            .offset(i64::try_from(keep).unwrap_or(0))
            .load(c))?;
        for chunk in emails.chunks(500) {
            pulse::on_backend!(&mut *conn, c => diesel::update(stakeholders::table.filter(stakeholders::email.eq_any(chunk)))
                .set(stakeholders::active.eq(false))
                .execute(c))?;
        }
        Ok(())
    })
    .await?
}

async fn restore_audience(pool: &db::Pool) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use pulse::db::schema::stakeholders;
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = pool.get()?;
        pulse::on_backend!(&mut *conn, c => diesel::update(stakeholders::table)
            .set(stakeholders::active.eq(true))
            .execute(c))?;
        Ok(())
    })
    .await?
}

/// The baseline: `messages` (as Pulse sent them) sent again by a plain SMTP client with
/// [`CONNECTIONS`] connections, one task each, to `server` (a fresh fast one by default).
/// Returns the time from the first connect to the last reply.
async fn plain_client(
    messages: &[ReceivedMessage],
    server: Option<&SmtpServer>,
) -> anyhow::Result<Duration> {
    let own;
    let server = match server {
        Some(server) => server,
        None => {
            own = SmtpServer::start().await;
            &own
        }
    };
    let port = server.port();
    let mut work: Vec<Vec<(Envelope, Vec<u8>)>> = vec![Vec::new(); CONNECTIONS];
    for (i, message) in messages.iter().enumerate() {
        let from = message.from.parse().ok();
        let to: Vec<lettre::Address> = message.to.iter().filter_map(|a| a.parse().ok()).collect();
        let envelope = Envelope::new(from, to).context("an envelope")?;
        work[i % CONNECTIONS].push((envelope, message.raw.clone().into_bytes()));
    }
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|batch| {
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                stream.set_nodelay(true)?;
                let mut conn = AsyncSmtpConnection::connect_with_transport(
                    Box::new(stream),
                    &ClientId::default(),
                )
                .await?;
                for (envelope, bytes) in &batch {
                    conn.send(envelope, bytes).await?;
                }
                conn.quit().await?;
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(
        server.messages().len() >= messages.len(),
        "the plain client's messages did not all arrive"
    );
    Ok(elapsed)
}

/// The third baseline: `examples/support/smtp_client.py` (Python's smtplib, one thread
/// and connection each, as the email issue measured it) sends the same messages to a fresh
/// fast server; `None` without a `python3`.
async fn python_client(
    messages: &[ReceivedMessage],
    dir: &Path,
) -> anyhow::Result<Option<Duration>> {
    let server = SmtpServer::start().await;
    let file = dir.join("python-client-messages.jsonl");
    let mut lines = String::new();
    for message in messages {
        let line = serde_json::json!({"from": message.from, "to": message.to, "raw": message.raw});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    std::fs::write(&file, lines)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/support/smtp_client.py");
    let (port, connections) = (server.port().to_string(), CONNECTIONS.to_string());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .args([&port, &connections])
            .arg(&file)
            .output()
    })
    .await?;
    let Ok(output) = output else {
        return Ok(None);
    };
    anyhow::ensure!(
        output.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seconds: f64 = String::from_utf8_lossy(&output.stdout).trim().parse()?;
    anyhow::ensure!(
        server.messages().len() >= messages.len(),
        "the Python client's messages did not all arrive"
    );
    Ok(Some(Duration::from_secs_f64(seconds)))
}

/// The second baseline: a client that builds each message with lettre (From, To, Subject,
/// Date, Message-ID, List-Unsubscribe, text and HTML alternatives — what Pulse's messages
/// carry, parsed from what the server received, before the clock starts) and sends it over
/// [`CONNECTIONS`] connections, one task each, to a fresh fast server.
async fn building_client(messages: &[ReceivedMessage]) -> anyhow::Result<Duration> {
    let server = SmtpServer::start().await;
    let port = server.port();
    #[derive(Clone)]
    struct Parts {
        to: String,
        subject: String,
        message_id: String,
        unsubscribe: Option<String>,
        text: String,
        html: String,
    }
    let mut work: Vec<Vec<Parts>> = vec![Vec::new(); CONNECTIONS];
    for (i, message) in messages.iter().enumerate() {
        let parts = Parts {
            to: message.header("To").context("To")?,
            subject: message.subject().context("Subject")?,
            message_id: message.message_id().context("Message-ID")?,
            unsubscribe: message.list_unsubscribe(),
            text: message.text_body().context("text part")?,
            html: message.html_body().context("HTML part")?,
        };
        work[i % CONNECTIONS].push(parts);
    }
    let from: lettre::message::Mailbox = "Procurement Pulse <pulse@example.com>".parse()?;
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|batch| {
            let from = from.clone();
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                stream.set_nodelay(true)?;
                let mut conn = AsyncSmtpConnection::connect_with_transport(
                    Box::new(stream),
                    &ClientId::default(),
                )
                .await?;
                for parts in batch {
                    let mut builder = lettre::Message::builder()
                        .from(from.clone())
                        .to(parts.to.parse()?)
                        .subject(parts.subject)
                        .date_now()
                        .message_id(Some(parts.message_id));
                    if let Some(unsubscribe) = parts.unsubscribe {
                        builder = builder.raw_header(lettre::message::header::HeaderValue::new(
                            lettre::message::header::HeaderName::new_from_ascii_str(
                                "List-Unsubscribe",
                            ),
                            unsubscribe,
                        ));
                    }
                    let message = builder.multipart(
                        lettre::message::MultiPart::alternative_plain_html(parts.text, parts.html),
                    )?;
                    conn.send(message.envelope(), &message.formatted()).await?;
                }
                conn.quit().await?;
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(
        server.messages().len() >= messages.len(),
        "the building client's messages did not all arrive"
    );
    Ok(elapsed)
}

/// Exactly one message per invitation arrived, each to its own recipient, each with its
/// own Message-ID, and the database agrees.
fn check(
    label: &str,
    name: &str,
    invited: usize,
    progress: &waves::WaveProgress,
    messages: &[ReceivedMessage],
) -> bool {
    let message_ids: HashSet<String> = messages.iter().filter_map(|m| m.message_id()).collect();
    let recipients: HashSet<String> = messages
        .iter()
        .flat_map(|m| m.to.iter().map(|to| to.to_ascii_lowercase()))
        .collect();
    let one_recipient_each = messages.iter().all(|m| m.to.len() == 1);
    let passed = messages.len() == invited
        && message_ids.len() == invited
        && recipients.len() == invited
        && one_recipient_each
        && progress.emailed == invited as i64
        && progress.pending == 0;
    println!(
        "{label}: check {name} {}: server received {} messages, {} distinct Message-IDs, {} distinct recipients{}; \
         database: {} emailed, {} pending (expected {invited} / 0)",
        if passed { "OK" } else { "FAILED" },
        messages.len(),
        message_ids.len(),
        recipients.len(),
        if one_recipient_each { "" } else { " (some messages had several recipients)" },
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
