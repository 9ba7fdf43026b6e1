//! `spawn_app()` and friends: a real server on a free port with a fresh database, an HTTP
//! client with a cookie jar, and shortcuts for the CLI binary.
// Shared by every test module; not each module uses each helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::connection::SimpleConnection;
use pulse::config::{SecretKey, Settings};
use pulse::db::{self, DatabaseUrl};
use pulse::domain::{EmailAddress, Role};
use pulse::startup::Application;

pub const TEST_SECRET_HEX: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const PASSWORD: &str = "a long test password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `mod $name { sqlite, postgres }` tests calling `$name(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::Backend;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_admin_url().is_none() {
                        eprintln!("skipped: PULSE_TEST_POSTGRES_URL is not set");
                        return;
                    }
                    super::$name(Backend::Postgres).await;
                }
            }
        )+
    };
}

pub fn postgres_admin_url() -> Option<String> {
    std::env::var("PULSE_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A fresh database: a temp SQLite file, or a new PostgreSQL database dropped on drop.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub raw_url: String,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let raw_url = format!("sqlite://{}", dir.path().join("pulse.db").display());
                Self {
                    url: DatabaseUrl::parse(&raw_url).unwrap(),
                    raw_url,
                    dir,
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url().expect("PULSE_TEST_POSTGRES_URL");
                let name = format!("pulse_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn =
                    pulse::db::establish_postgres(&admin).expect("connect to PostgreSQL");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                let mut parsed = url::Url::parse(&admin).expect("PULSE_TEST_POSTGRES_URL is a URL");
                parsed.set_path(&format!("/{name}"));
                let raw_url = parsed.to_string();
                Self {
                    url: DatabaseUrl::parse(&raw_url).unwrap(),
                    raw_url,
                    dir,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        if self.postgres.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            if let Ok(mut conn) = pulse::db::establish_postgres(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub pool: db::Pool,
    pub client: reqwest::Client,
    pub cookie_jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub db: TestDb,
}

pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        database_url: db.url.clone(),
        host: "127.0.0.1".into(),
        port: 0,
        base_url: "http://127.0.0.1".into(),
        secret_key: SecretKey::parse_hex(TEST_SECRET_HEX).unwrap(),
        definitions_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions"),
        session_idle_timeout: std::time::Duration::from_secs(3600),
        session_absolute_timeout: std::time::Duration::from_secs(12 * 3600),
        login_attempts_per_minute: 10,
        survey_requests_per_minute: 1000,
        api_requests_per_minute: 6000,
        trust_proxy: false,
        // Several writers on PostgreSQL, as several instances have: the races between
        // their batches are what the concurrency tests must see.
        response_writers: if db.url.is_sqlite() { 1 } else { 4 },
        email: pulse::email::EmailSettings::file(db.dir.path().join("mail")),
        // Tests drive the scheduler and the outbox themselves, with a clock they move.
        scheduler_interval: None,
        outbox_worker: false,
        outbox: pulse::outbox::OutboxConfig::default(),
        metrics_token: None,
        shutdown_grace: std::time::Duration::from_secs(5),
        time_zone: pulse::domain::schedule::Tz::UTC,
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like `spawn_app`, with a chance to change the settings first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDb::new(backend), adjust).await
}

/// Like `spawn_app_with`, on a database that may hold data already (a restored backup).
pub async fn spawn_app_on(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&db);
    adjust(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let port = app.port();
    let pool = app.pool();
    // Runs until the test ends; signals are left to the test runner.
    tokio::spawn(app.run_until(std::future::pending()));
    let cookie_jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        pool,
        client: client_with_jar(cookie_jar.clone()),
        cookie_jar,
        db,
    }
}

/// A browser-like client: its own cookie jar, no automatic redirects, asks for HTML.
pub fn new_client() -> reqwest::Client {
    client_with_jar(std::sync::Arc::new(reqwest::cookie::Jar::default()))
}

/// A browser of its own (cookie jar), signed in as `email` with [`PASSWORD`] through the
/// real sign-in form: (client, the session's CSRF token, read from `/admin`).
pub async fn sign_in(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let client = new_client();
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf_token").unwrap();
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", "/admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{email} signs in");
    let page = client
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (client, hidden_field(&page, "csrf_token").unwrap())
}

pub fn client_with_jar(jar: std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        "text/html,*/*;q=0.8".parse().unwrap(),
    );
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub fn create_user(&self, email: &str, role: Role) {
        let mut conn = self.pool.get().unwrap();
        pulse::services::accounts::add_user(
            &mut conn,
            &EmailAddress::parse(email).unwrap(),
            role,
            PASSWORD,
            chrono::Utc::now().naive_utc(),
        )
        .unwrap();
    }

    /// GET /login, then POST it with the page's CSRF token; returns the POST response.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap();
        let csrf = hidden_field(&page, "csrf_token").expect("csrf token on the login page");
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", "/admin"),
            ],
        )
        .await
    }

    /// Creates an admin and signs in; returns the CSRF token of the session.
    pub async fn signed_in_admin(&self) -> String {
        self.create_user("admin@example.com", Role::Admin);
        let response = self.login("admin@example.com", PASSWORD).await;
        assert_eq!(response.status(), 303);
        let page = self.get("/admin").await.text().await.unwrap();
        hidden_field(&page, "csrf_token").expect("csrf token on admin pages")
    }

    /// Runs the `pulse` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.db.raw_url, self.db.dir.path(), args, None)
    }
}

/// Runs `pulse ARGS` with the given database and working directory.
pub fn run_cli(database_url: &str, cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulse"));
    command
        .args(args)
        .current_dir(cwd)
        .env("PULSE_DATABASE_URL", database_url)
        .env("PULSE_SECRET_KEY", TEST_SECRET_HEX)
        .env(
            "PULSE_DEFINITIONS_DIR",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions"),
        )
        .env("PULSE_LOG", "warn")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("start pulse");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("pulse finishes")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The value of `<input type="hidden" name="NAME" value="...">` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

impl TestApp {
    pub fn secret_key(&self) -> SecretKey {
        SecretKey::parse_hex(TEST_SECRET_HEX).unwrap()
    }

    /// Imports `n` stakeholders `person{i}@example.com` through `pulse stakeholders import`,
    /// spread over three business units and two regions.
    pub fn seed_stakeholders(&self, n: usize) {
        let mut csv = String::from("email,name,business_unit,region\n");
        let units = ["Manufacturing", "R&D", "Sales"];
        let regions = ["EMEA", "Americas"];
        for i in 0..n {
            csv.push_str(&format!(
                "person{i}@example.com,Person {i},{},{}\n",
                units[i % 3],
                regions[i % 2]
            ));
        }
        let path = self
            .db
            .dir
            .path()
            .join(format!("seed-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, csv).unwrap();
        let output = self.cli(&["stakeholders", "import", path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "seeding stakeholders failed: {}",
            text(&output.stderr)
        );
    }
}

/// An SMTP mailer for `url` (`smtp://127.0.0.1:PORT?tls=none`) with a per-send timeout.
pub fn smtp_mailer(url: &str, timeout_seconds: u64) -> pulse::email::Mailer {
    let mut settings = pulse::email::EmailSettings::smtp(
        pulse::email::SmtpUrl::parse(url).expect("a valid SMTP URL"),
    );
    settings.timeout = std::time::Duration::from_secs(timeout_seconds);
    pulse::email::Mailer::from_settings(&settings)
}

/// The first `…/s/{token}` link in a mail body.
pub fn survey_link(body: &str) -> Option<String> {
    link_with(body, "/s/")
}

/// The first `…/u/{token}` link in a mail body.
pub fn unsubscribe_link(body: &str) -> Option<String> {
    link_with(body, "/u/")
}

fn link_with(body: &str, marker: &str) -> Option<String> {
    body.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|word| word.starts_with("http") && word.contains(marker))
        .map(|word| word.trim_end_matches(['.', ',', ')']).to_string())
}

/// Runs `pulse ARGS` against the app's database with extra environment variables.
pub fn run_cli_env(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulse"));
    command
        .args(args)
        .current_dir(app.db.dir.path())
        .env("PULSE_DATABASE_URL", &app.db.raw_url)
        .env("PULSE_SECRET_KEY", TEST_SECRET_HEX)
        .env("PULSE_BASE_URL", "https://pulse.example.com")
        .env(
            "PULSE_DEFINITIONS_DIR",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions"),
        )
        .env("PULSE_LOG", "warn")
        .env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("pulse runs")
}

/// `pulse serve --port 0 ARGS` as a child process against `db`; returns it with the port it
/// printed on its first line. `stderr` receives the server's log.
pub fn start_serve(
    db: &TestDb,
    args: &[&str],
    env: &[(&str, &str)],
    stderr: std::process::Stdio,
) -> (std::process::Child, u16) {
    use std::io::{BufRead, BufReader};
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulse"));
    command
        .args(["serve", "--port", "0"])
        .args(args)
        .current_dir(db.dir.path())
        .env("PULSE_DATABASE_URL", &db.raw_url)
        .env("PULSE_SECRET_KEY", TEST_SECRET_HEX)
        .env("PULSE_LOG", "warn")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("pulse serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("the first line");
    let port = line
        .trim()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok());
    (child, port.unwrap_or_else(|| panic!("no port in {line:?}")))
}

impl TestApp {
    /// `pulse wave schedule` of `internal-customer`, opening now, for everyone; the wave id.
    pub fn schedule_wave_now(&self, title: &str) -> String {
        let output = self.cli(&[
            "wave",
            "schedule",
            "--survey",
            "internal-customer",
            "--title",
            title,
            "--opens",
            "now",
            "--closes",
            "2099-01-01",
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout).trim().to_string()
    }
}

/// A `pulse serve` child process ([`start_serve`]); killed if still running when dropped,
/// so a failing test leaves no server behind.
pub struct ServeProcess {
    child: Option<std::process::Child>,
    pub port: u16,
}

impl ServeProcess {
    pub fn start(
        db: &TestDb,
        args: &[&str],
        env: &[(&str, &str)],
        stderr: std::process::Stdio,
    ) -> Self {
        let (child, port) = start_serve(db, args, env, stderr);
        Self {
            child: Some(child),
            port,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn sigterm(&self) {
        let child = self.child.as_ref().expect("still running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to end; its exit status.
    pub async fn wait(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("still running");
        tokio::task::spawn_blocking(move || child.wait().expect("wait for pulse serve"))
            .await
            .expect("the waiting thread")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The breakdown by `attribute` in a results JSON document (`segments[]`).
pub fn segment<'a>(results: &'a serde_json::Value, attribute: &str) -> &'a serde_json::Value {
    results["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["attribute"] == attribute)
        .unwrap_or_else(|| panic!("no breakdown by {attribute}"))
}

/// The group `attribute = value` in a results JSON document.
pub fn segment_group<'a>(
    results: &'a serde_json::Value,
    attribute: &str,
    value: &str,
) -> &'a serde_json::Value {
    segment(results, attribute)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == value)
        .unwrap_or_else(|| panic!("no group {attribute}={value}"))
}

/// Reverts applied migrations, newest first, down to and including the one whose version
/// starts with `version` (e.g. "20261201000006"): a database as it was before that migration,
/// whatever migrations came after it. Returns the versions reverted.
pub fn revert_migrations_through(conn: &mut pulse::db::DbConn, version: &str) -> Vec<String> {
    let mut reverted = Vec::new();
    loop {
        let name = pulse::db::revert_last_migration(conn).unwrap();
        let this = name.replace('-', "");
        assert!(this.as_str() >= version, "reverted past {version}: {name}");
        reverted.push(name);
        if this.starts_with(version) {
            return reverted;
        }
    }
}
