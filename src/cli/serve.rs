//! `pulse serve`: the web application.

use std::process::ExitCode;
use std::time::Duration;

use super::GlobalArgs;
use crate::config::Settings;
use crate::startup::Application;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "PULSE_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0: any free port)
    #[arg(long, env = "PULSE_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Public address used in emailed links, e.g. https://pulse.example.com
    /// [default: http://HOST:PORT]
    #[arg(long, env = "PULSE_BASE_URL")]
    pub base_url: Option<String>,
    /// Minutes of inactivity after which a sign-in session ends
    #[arg(long, env = "PULSE_SESSION_IDLE_MINUTES", default_value_t = 60)]
    pub session_idle_minutes: u64,
    /// Hours after sign-in at which a session ends, however active
    #[arg(long, env = "PULSE_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Sign-in attempts allowed per minute, per client IP and per account
    #[arg(long, env = "PULSE_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub login_attempts_per_minute: u32,
    #[command(flatten)]
    pub email: super::email_args::EmailArgs,
}

impl ServeArgs {
    pub fn settings(&self, global: &GlobalArgs) -> anyhow::Result<Settings> {
        let base_url = match &self.base_url {
            Some(url) => {
                let parsed = url::Url::parse(url).map_err(|e| {
                    anyhow::anyhow!(
                        "--base-url '{url}' is not a URL ({e}): use e.g. https://pulse.example.com"
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    anyhow::bail!("--base-url must start with http:// or https://");
                }
                url.trim_end_matches('/').to_string()
            }
            None => format!("http://{}:{}", self.host, self.port),
        };
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
            email: self.email.settings()?,
        })
    }
}

pub fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings(global)?;
    actix_web::rt::System::new().block_on(async move {
        let base_url = settings.base_url.clone();
        let app = Application::build(settings).await?;
        tracing::info!(port = app.port(), %base_url, "Procurement Pulse is listening");
        println!(
            "Procurement Pulse is running at {base_url} (port {})",
            app.port()
        );
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}
