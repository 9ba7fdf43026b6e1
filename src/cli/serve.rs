//! `pulse serve`: the web application.

use std::process::ExitCode;
use std::time::Duration;

use super::GlobalArgs;
use crate::config::{MetricsToken, Settings};
use crate::startup::Application;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "PULSE_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0: any free port)
    #[arg(long, env = "PULSE_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Minutes of inactivity after which a sign-in session ends
    #[arg(long, env = "PULSE_SESSION_IDLE_MINUTES", default_value_t = 60)]
    pub session_idle_minutes: u64,
    /// Hours after sign-in at which a session ends, however active
    #[arg(long, env = "PULSE_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Failed sign-ins per minute before the client IP waits (and before an account under
    /// attack from many IPs lets each of them fail only once a minute)
    #[arg(long, env = "PULSE_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub login_attempts_per_minute: u32,
    /// Requests per minute and client IP on survey and opt-out links
    #[arg(long, env = "PULSE_SURVEY_REQUESTS_PER_MINUTE", default_value_t = 300)]
    pub survey_requests_per_minute: u32,
    /// Request API calls per minute and API key; more get 429 with Retry-After
    #[arg(long, env = "PULSE_API_REQUESTS_PER_MINUTE", default_value_t = 6000)]
    pub api_requests_per_minute: u32,
    /// A reverse proxy you trust sets X-Forwarded-For: use it as the client IP for rate limits
    #[arg(long, env = "PULSE_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Threads storing answers in groups (one is fastest: its batches are larger, and
    /// batches of several writers wait on each other's locked counts)
    #[arg(long, env = "PULSE_RESPONSE_WRITERS", default_value_t = 1)]
    pub response_writers: usize,
    /// Do not run the scheduler in this process (run `pulse tick` from cron instead)
    #[arg(long, env = "PULSE_NO_SCHEDULER")]
    pub no_scheduler: bool,
    /// Seconds between scheduler ticks
    #[arg(long, env = "PULSE_TICK_SECONDS", default_value_t = 30)]
    pub tick_seconds: u64,
    /// Do not run the outbox worker in this process
    #[arg(long, env = "PULSE_NO_OUTBOX_WORKER")]
    pub no_outbox_worker: bool,
    /// Serve GET /metrics (Prometheus text format) to requests carrying
    /// `Authorization: Bearer TOKEN`; without it there is no metrics endpoint
    #[arg(long, env = "PULSE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// On SIGTERM/SIGINT: seconds in-flight requests and email sends get to finish; unsent
    /// mail is then handed back to the outbox at once
    #[arg(long, env = "PULSE_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,
    #[command(flatten)]
    pub outbox: OutboxArgs,
    #[command(flatten)]
    pub email: super::email_args::EmailArgs,
}

/// How the outbox worker sends.
#[derive(Debug, Clone, clap::Args)]
pub struct OutboxArgs {
    /// Emails being sent at the same time, at most
    #[arg(long, env = "PULSE_OUTBOX_MAX_IN_FLIGHT", default_value_t = 16)]
    pub outbox_max_in_flight: usize,
    /// Milliseconds between looks at the outbox when it is empty
    #[arg(long, env = "PULSE_OUTBOX_POLL_MILLIS", default_value_t = 2000)]
    pub outbox_poll_millis: u64,
    /// First retry delay after a temporary failure, doubled each attempt (capped at 6 h)
    #[arg(long, env = "PULSE_OUTBOX_RETRY_BASE_SECONDS", default_value_t = 60)]
    pub outbox_retry_base_seconds: u64,
    /// Attempts before an email is given up as undelivered (retryable with
    /// `pulse wave retry-failed`; the address is not suppressed)
    #[arg(long, env = "PULSE_OUTBOX_MAX_ATTEMPTS", default_value_t = 8)]
    pub outbox_max_attempts: i32,
    /// Seconds a claimed email stays with its instance without renewal (renewed every
    /// quarter of it while sending): a killed instance's emails are sent by another
    /// instance at most this long after the kill
    #[arg(long, env = "PULSE_OUTBOX_LEASE_SECONDS", default_value_t = 20)]
    pub outbox_lease_seconds: u64,
}

impl OutboxArgs {
    pub fn config(&self) -> crate::outbox::OutboxConfig {
        crate::outbox::OutboxConfig {
            max_in_flight: self.outbox_max_in_flight.max(1),
            // The worker renews it every quarter while it sends, so a live worker keeps it.
            lease: Duration::from_secs(self.outbox_lease_seconds.max(2)),
            retry_base: Duration::from_secs(self.outbox_retry_base_seconds),
            max_attempts: self.outbox_max_attempts.max(1),
            poll_interval: Duration::from_millis(self.outbox_poll_millis.max(10)),
            ..Default::default()
        }
    }
}

impl ServeArgs {
    pub fn settings(&self, global: &GlobalArgs) -> anyhow::Result<Settings> {
        let base_url = global.base_url(|| format!("http://{}:{}", self.host, self.port))?;
        let email = self.email.settings()?;
        Ok(Settings {
            database_url: global.database_url()?,
            host: self.host.clone(),
            port: self.port,
            base_url,
            secret_key: global.secret_key()?,
            definitions_dir: global.definitions_dir.clone(),
            session_idle_timeout: Duration::from_secs(self.session_idle_minutes * 60),
            session_absolute_timeout: Duration::from_secs(self.session_max_hours * 3600),
            login_attempts_per_minute: self.login_attempts_per_minute,
            survey_requests_per_minute: self.survey_requests_per_minute,
            api_requests_per_minute: self.api_requests_per_minute,
            trust_proxy: self.trust_proxy,
            response_writers: self.response_writers,
            outbox: self.outbox.config(),
            email,
            scheduler_interval: (!self.no_scheduler)
                .then(|| Duration::from_secs(self.tick_seconds.max(1))),
            outbox_worker: !self.no_outbox_worker,
            metrics_token: self
                .metrics_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(MetricsToken::parse)
                .transpose()?,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
            time_zone: global.time_zone()?,
        })
    }
}

pub fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings(global)?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        let base_url = app.base_url().to_string();
        tracing::info!(port = app.port(), %base_url, "Procurement Pulse is listening");
        println!(
            "Procurement Pulse is running at {base_url} (port {})",
            app.port()
        );
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}
