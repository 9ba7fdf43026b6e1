//! The mail options (`--smtp-url`, `--smtp-from`, …), shared by every command that sends
//! mail: flatten [`EmailArgs`] into its clap arguments and call [`EmailArgs::settings`].

use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use crate::email::{EmailSettings, SmtpUrl};

#[derive(Clone, clap::Args)]
#[command(next_help_heading = "Email")]
pub struct EmailArgs {
    /// SMTP relay: smtp://USER:PASSWORD@HOST:PORT (STARTTLS when the server offers it;
    /// add ?tls=required to insist on it, or ?tls=none for plaintext to a local relay),
    /// or smtps://USER:PASSWORD@HOST:PORT (implicit TLS). Percent-encode @ : / in the user
    /// name and password. Without it, mails are written as .eml files into --mail-dir.
    #[arg(long, env = "PULSE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of every mail, e.g. "Procurement Pulse <pulse@example.com>"
    #[arg(long, env = "PULSE_SMTP_FROM", default_value = EmailSettings::DEFAULT_FROM)]
    pub smtp_from: String,
    /// Seconds one send may take (connect, TLS, login and the whole transaction) before it
    /// is given up and retried later
    #[arg(long, env = "PULSE_SMTP_TIMEOUT_SECONDS", default_value_t = 30)]
    pub smtp_timeout_seconds: u64,
    /// SMTP connections kept open, and so mails sent at once
    #[arg(long, env = "PULSE_SMTP_POOL_SIZE", default_value_t = 8)]
    pub smtp_pool_size: u32,
    /// At most this many mails per second (0: no limit); set it below your relay's throttle
    #[arg(long, env = "PULSE_SMTP_MAX_PER_SECOND", default_value_t = 0)]
    pub smtp_max_per_second: u32,
    /// Folder for .eml files when no --smtp-url is given
    #[arg(long, env = "PULSE_MAIL_DIR", default_value = "outbox-mail")]
    pub mail_dir: PathBuf,
}

impl EmailArgs {
    pub fn settings(&self) -> anyhow::Result<EmailSettings> {
        let smtp = match self.smtp_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(SmtpUrl::parse(url).map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?),
        };
        let from = self.smtp_from.parse().map_err(|e| {
            anyhow::anyhow!(
                "--smtp-from '{}' is not a sender ({e}): use e.g. \"Procurement Pulse <pulse@example.com>\"",
                self.smtp_from
            )
        })?;
        if self.smtp_timeout_seconds == 0 {
            anyhow::bail!("--smtp-timeout-seconds must be at least 1");
        }
        if !(1..=100).contains(&self.smtp_pool_size) {
            anyhow::bail!("--smtp-pool-size must be between 1 and 100");
        }
        Ok(EmailSettings {
            smtp,
            from,
            timeout: Duration::from_secs(self.smtp_timeout_seconds),
            pool_size: self.smtp_pool_size,
            max_per_second: NonZeroU32::new(self.smtp_max_per_second),
            mail_dir: self.mail_dir.clone(),
        })
    }
}

/// Hides the SMTP URL: it may carry a password.
impl fmt::Debug for EmailArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailArgs")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "***"))
            .field("smtp_from", &self.smtp_from)
            .field("smtp_timeout_seconds", &self.smtp_timeout_seconds)
            .field("smtp_pool_size", &self.smtp_pool_size)
            .field("smtp_max_per_second", &self.smtp_max_per_second)
            .field("mail_dir", &self.mail_dir)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::EmailArgs;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        email: EmailArgs,
    }

    fn parse(args: &[&str]) -> anyhow::Result<crate::email::EmailSettings> {
        let mut argv = vec!["pulse"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)?.email.settings()
    }

    #[test]
    fn defaults_write_files() {
        // Only meaningful without PULSE_SMTP_* in the environment, as in CI.
        if std::env::vars().any(|(k, _)| k.starts_with("PULSE_SMTP") || k == "PULSE_MAIL_DIR") {
            return;
        }
        let settings = parse(&[]).unwrap();
        assert!(settings.smtp.is_none());
        assert_eq!(settings.mail_dir, std::path::PathBuf::from("outbox-mail"));
        assert_eq!(settings.timeout.as_secs(), 30);
        assert_eq!(settings.pool_size, 8);
        assert_eq!(settings.max_per_second, None);
        assert_eq!(settings.from.email.to_string(), "pulse@localhost");
    }

    #[test]
    fn flags_are_parsed_and_errors_name_the_flag() {
        let settings = parse(&[
            "--smtp-url",
            "smtp://u:s%40cret@relay.example.com?tls=required",
            "--smtp-from",
            "Procurement <procurement@example.com>",
            "--smtp-max-per-second",
            "10",
        ])
        .unwrap();
        assert_eq!(
            settings.smtp.unwrap().credentials.unwrap().password,
            "s@cret"
        );
        assert_eq!(settings.max_per_second.unwrap().get(), 10);
        let error = parse(&["--smtp-url", "smtp://u:secret@relay.example.com?tls=bogus"])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("--smtp-url: "), "{error}");
        assert!(!error.contains("secret"), "{error}");
        let error = parse(&["--smtp-from", "not an address"])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("--smtp-from"), "{error}");
        let args = Cli::try_parse_from(["pulse", "--smtp-url", "smtp://u:secret@h"]).unwrap();
        assert!(!format!("{args:?}").contains("secret"));
    }
}
