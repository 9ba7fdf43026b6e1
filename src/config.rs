//! Settings: command-line flags with `PULSE_*` environment fallbacks over in-code defaults
//! (the flags themselves live in `cli.rs`). Secrets are redacted in `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;

use crate::db::DatabaseUrl;

/// Everything `pulse serve` needs to run, parsed once at the edge.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub host: String,
    /// 0 lets the OS choose (tests).
    pub port: u16,
    /// The public address used in links, e.g. `https://pulse.example.com`; no trailing slash.
    pub base_url: String,
    pub secret_key: SecretKey,
    pub definitions_dir: PathBuf,
    /// A session that has not been used for this long is over.
    pub session_idle_timeout: Duration,
    /// A session is over this long after sign-in, however active.
    pub session_absolute_timeout: Duration,
    /// Failed sign-ins per minute per client IP (and per account under attack, per IP).
    pub login_attempts_per_minute: u32,
    /// Requests per minute and client IP on survey and opt-out links.
    pub survey_requests_per_minute: u32,
    /// Request API calls per minute and API key (the rest get 429 with Retry-After).
    pub api_requests_per_minute: u32,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// Writer threads storing answers (group commit); 1 is right for SQLite.
    pub response_writers: usize,
    /// Where mail goes (`--smtp-url`, … or `.eml` files).
    pub email: crate::email::EmailSettings,
    /// How often the in-process scheduler ticks; `None`: no scheduler in this process.
    pub scheduler_interval: Option<Duration>,
    /// Whether this process runs the outbox worker.
    pub outbox_worker: bool,
    pub outbox: crate::outbox::OutboxConfig,
    /// `GET /metrics` answers only this bearer token; `None`: no metrics endpoint.
    pub metrics_token: Option<MetricsToken>,
    /// At shutdown, how long in-flight requests and sends may take before they are cut
    /// (unsent mail is handed back to the outbox at once).
    pub shutdown_grace: Duration,
    /// The organisation's time zone: forms read dates in it, pages show times in it.
    pub time_zone: crate::domain::schedule::Tz,
}

impl Settings {
    /// Cookies get `Secure` when the product is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// The bearer token of `GET /metrics`; redacted in `Debug`.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// At least 16 characters: a scraper's secret, not a password to remember.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let raw = raw.trim();
        if raw.len() < 16 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            anyhow::bail!("--metrics-token must be at least 16 characters without spaces; generate one with `openssl rand -hex 24`");
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// The server's secret: keys the HMACs behind survey links, CSRF tokens and session ids.
/// Comes from `PULSE_SECRET_KEY` or a key file, never from the database.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex characters (what the key file holds and what `PULSE_SECRET_KEY` takes).
    pub fn parse_hex(text: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .context("a secret key must be 64 hexadecimal characters (32 bytes); generate one with `openssl rand -hex 32`")?;
        Ok(Self(bytes))
    }

    /// `PULSE_SECRET_KEY` when given, else the key file, created with mode 0600 on first use.
    pub fn load(env_value: Option<&str>, key_file: &Path) -> anyhow::Result<Self> {
        if let Some(value) = env_value.filter(|v| !v.trim().is_empty()) {
            return Self::parse_hex(value).context("PULSE_SECRET_KEY is not usable");
        }
        match std::fs::read_to_string(key_file) {
            Ok(text) => Self::parse_hex(&text)
                .with_context(|| format!("the key file {} is not usable", key_file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                write_private_file(key_file, &hex::encode(bytes)).with_context(|| {
                    format!("cannot create the key file {}", key_file.display())
                })?;
                tracing::info!(path = %key_file.display(), "created a new secret key file (mode 0600); keep it with your backups");
                Ok(Self(bytes))
            }
            Err(e) => {
                Err(e).with_context(|| format!("cannot read the key file {}", key_file.display()))
            }
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Creates `path` readable and writable by the owner only; fails if it already exists.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::SecretKey;

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pulse.key");
        let first = SecretKey::load(None, &path).unwrap();
        let again = SecretKey::load(None, &path).unwrap();
        assert_eq!(first.as_bytes(), again.as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{first:?}"), "SecretKey(***)");
    }

    #[test]
    fn env_key_wins_and_bad_keys_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "ab".repeat(32);
        let key = SecretKey::load(Some(&hex), &dir.path().join("none")).unwrap();
        assert_eq!(key.as_bytes(), &[0xab; 32]);
        let err = SecretKey::load(Some("short"), &dir.path().join("none")).unwrap_err();
        assert!(format!("{err:#}").contains("64 hexadecimal"));
    }
}
