//! Benchmark of the scorecard pages as users open them: `pulse serve` (in a child process:
//! this example started again with `--serve`) on the demo database (`pulse demo`'s data),
//! pages fetched over HTTP by a signed-in admin, full responses read.
//!
//! ```text
//! cargo run --release --example scorecard_bench
//! PULSE_BENCH_RUNS=5 cargo run --release --example scorecard_bench
//! ```
//!
//! Printed per page — the organisation's scorecards (`/admin/scorecards`: every unit ×
//! every measure, NPS against speed), IT's scorecard (`/admin/scorecards/IT`), IT's
//! published results summaries (`…/IT/results`) and the overview with its scorecard status
//! (`/admin`):
//! * **cold**: the first request after the server started (its results cache empty),
//!   median over `PULSE_BENCH_RUNS` server starts (default 3);
//! * **warm**: median of 30 requests after that.
//!
//! The baseline, measured in the same run the same way: the results page of the survey's
//! latest closed wave (`/admin/waves/{id}/results`), the page whose published figures the
//! scorecards read. Ratio = page / baseline. Target: a scorecard page ≤ 50 ms.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::Context;

use pulse::config::{SecretKey, Settings};
use pulse::db::DatabaseUrl;
use pulse::startup::Application;

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const WARM_REQUESTS: usize = 30;

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve") {
        return serve(&args[1], Path::new(&args[2]));
    }
    let runs: usize = match std::env::var("PULSE_BENCH_RUNS") {
        Ok(raw) => raw.parse().context("PULSE_BENCH_RUNS must be a number")?,
        Err(_) => 3,
    };
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::Sqlite(dir.path().join("demo.db").display().to_string());
    let key = SecretKey::parse_hex(KEY_HEX)?;
    let started = Instant::now();
    let report = pulse::demo::create(
        &url,
        false,
        &key,
        &pulse::demo::DemoOptions {
            seed: 7,
            now: chrono::Utc::now().naive_utc(),
            definitions_dir: definitions_dir(),
        },
    )?;
    let admin = report
        .accounts
        .iter()
        .find(|a| a.role == pulse::domain::Role::Admin)
        .context("the demo has an admin")?;
    let wave = report
        .waves
        .iter()
        .rev()
        .find(|w| w.state == "closed" && w.survey == "internal-customer")
        .context("the demo has a closed internal-customer wave")?;
    println!(
        "demo database: {} stakeholders, {} business units, {} waves, created in {:.1} s",
        report.stakeholders,
        report.business_units,
        report.waves.len(),
        started.elapsed().as_secs_f64()
    );

    let baseline_path = format!("/admin/waves/{}/results", wave.id);
    let pages = [
        ("organisation scorecards", "/admin/scorecards".to_string()),
        ("IT's scorecard", "/admin/scorecards/IT".to_string()),
        (
            "IT's results summaries",
            "/admin/scorecards/IT/results".into(),
        ),
        ("overview with scorecard status", "/admin".to_string()),
        ("baseline: results page", baseline_path.clone()),
    ];
    let mut cold: Vec<Vec<Duration>> = vec![Vec::new(); pages.len()];
    let mut warm: Vec<Vec<Duration>> = vec![Vec::new(); pages.len()];
    let mut sizes = vec![0usize; pages.len()];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for _ in 0..runs {
        for (index, (_, path)) in pages.iter().enumerate() {
            // A server of its own: this page is its first request.
            let server = Server::start(&url, dir.path())?;
            let client = runtime.block_on(server.sign_in(&admin.email, admin.password()))?;
            let (elapsed, html) = runtime.block_on(server.get(&client, path))?;
            cold[index].push(elapsed);
            sizes[index] = html.len();
            if warm[index].is_empty() {
                for _ in 0..WARM_REQUESTS {
                    warm[index].push(runtime.block_on(server.get(&client, path))?.0);
                }
            }
        }
    }
    let (base_cold, base_warm) = (median(&mut cold[4]), median(&mut warm[4]));
    println!(
        "\n{:<34} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "page (HTTP, full response)", "cold ms", "warm ms", "cold ratio", "warm ratio", "kB"
    );
    for (index, (label, _)) in pages.iter().enumerate() {
        let (c, w) = (median(&mut cold[index]), median(&mut warm[index]));
        println!(
            "{label:<34} {c:>10.1} {w:>10.1} {:>11.2}× {:>11.2}× {:>8.0}{}",
            c / base_cold,
            w / base_warm,
            sizes[index] as f64 / 1e3,
            if index < 2 {
                if c <= 50.0 && w <= 50.0 {
                    "  (target ≤ 50 ms: met)"
                } else {
                    "  (target ≤ 50 ms: MISSED)"
                }
            } else {
                ""
            }
        );
    }
    println!(
        "\ncold: median of {runs} server starts (first request after start); warm: median of {WARM_REQUESTS}; baseline: {baseline_path}"
    );
    Ok(())
}

fn definitions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions")
}

fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// Child process: the server, until killed; writes its port to `port_file`.
fn serve(url: &str, port_file: &Path) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(url).map_err(anyhow::Error::msg)?;
    let dir = port_file.parent().context("the port file has a folder")?;
    let settings = Settings {
        database_url: url,
        host: "127.0.0.1".into(),
        port: 0,
        base_url: "http://127.0.0.1".into(),
        secret_key: SecretKey::parse_hex(KEY_HEX)?,
        definitions_dir: definitions_dir(),
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
    };
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        std::fs::write(port_file, app.port().to_string())?;
        app.run_until_stopped().await?;
        anyhow::Ok(())
    })
}

/// A `pulse serve` child process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(url: &DatabaseUrl, dir: &Path) -> anyhow::Result<Self> {
        let port_file = dir.join(format!("port-{}", uuid::Uuid::new_v4().simple()));
        let child = Command::new(std::env::current_exe()?)
            .args([
                "--serve",
                &url.to_string(),
                &port_file.display().to_string(),
            ])
            .env("PULSE_LOG", "warn")
            .spawn()?;
        let mut server = Server {
            child,
            base: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let port: u16 = loop {
            if let Ok(raw) = std::fs::read_to_string(&port_file) {
                if let Ok(port) = raw.trim().parse() {
                    break port;
                }
            }
            anyhow::ensure!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        server.base = format!("http://127.0.0.1:{port}");
        Ok(server)
    }

    async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<reqwest::Client> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let login = client
            .get(format!("{}/login", self.base))
            .send()
            .await?
            .text()
            .await?;
        let csrf = hidden(&login, "csrf_token").context("no CSRF token on /login")?;
        let response = client
            .post(format!("{}/login", self.base))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", "/admin"),
            ])
            .send()
            .await?;
        anyhow::ensure!(response.status().as_u16() == 303, "sign-in failed");
        Ok(client)
    }

    /// GET `path`, the whole body read: (time, body).
    async fn get(
        &self,
        client: &reqwest::Client,
        path: &str,
    ) -> anyhow::Result<(Duration, String)> {
        let started = Instant::now();
        let response = client.get(format!("{}{path}", self.base)).send().await?;
        let status = response.status();
        let body = response.text().await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(status.is_success(), "{path}: {status}");
        Ok((elapsed, body))
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}
