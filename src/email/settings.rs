//! [`EmailSettings`]: where mail goes and how fast, parsed once from `--smtp-url`,
//! `--smtp-from`, … (see `cli/email_args.rs`). The SMTP password is redacted in `Debug`
//! and `Display`.

use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;

/// Everything the [`super::Mailer`] needs.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `None`: write `.eml` files into `mail_dir` instead of sending.
    pub smtp: Option<SmtpUrl>,
    /// The `From:` of every mail, e.g. `Procurement Pulse <pulse@example.com>`.
    pub from: Mailbox,
    /// Upper bound for one send: connect, TLS, AUTH, MAIL … final reply.
    pub timeout: Duration,
    /// At most this many SMTP connections, and so this many sends at once.
    pub pool_size: u32,
    /// Messages per second over all sends of this process; `None`: unlimited.
    pub max_per_second: Option<NonZeroU32>,
    /// Where the file transport writes `<message-id>.eml`.
    pub mail_dir: PathBuf,
}

impl EmailSettings {
    pub const DEFAULT_FROM: &'static str = "Procurement Pulse <pulse@localhost>";

    /// Files into `mail_dir`, defaults for the rest (tests, first runs).
    pub fn file(mail_dir: impl Into<PathBuf>) -> Self {
        Self {
            smtp: None,
            from: default_from(),
            timeout: Duration::from_secs(30),
            pool_size: 8,
            max_per_second: None,
            mail_dir: mail_dir.into(),
        }
    }

    /// SMTP to `url`, defaults for the rest.
    pub fn smtp(url: SmtpUrl) -> Self {
        Self {
            smtp: Some(url),
            ..Self::file("outbox-mail")
        }
    }
}

pub(crate) fn default_from() -> Mailbox {
    Mailbox::new(
        Some("Procurement Pulse".to_owned()),
        // Cannot fail: a constant address, checked by `the_default_sender_is_valid`.
        lettre::Address::new("pulse", "localhost").expect("a valid constant address"),
    )
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://` (default): STARTTLS when the server offers it, plaintext otherwise.
    Opportunistic,
    /// `smtp://…?tls=required`: STARTTLS or no mail.
    Required,
    /// `smtps://`: TLS from the first byte (port 465).
    Implicit,
    /// `smtp://…?tls=none`: plaintext (a relay on localhost, a test server).
    None,
}

/// SMTP user and password (percent-decoded from the URL).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

/// A parsed `--smtp-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<SmtpCredentials>,
}

impl SmtpUrl {
    /// `smtp://[user:pass@]host[:port][?tls=starttls|required|none]` or
    /// `smtps://[user:pass@]host[:port]`. Default ports: 587 (STARTTLS), 25 (`tls=none`),
    /// 465 (`smtps`). Error messages never repeat the URL (it may hold a password).
    pub fn parse(text: &str) -> Result<Self, String> {
        const FORMS: &str = "use smtp://USER:PASSWORD@HOST:PORT (STARTTLS when offered), \
                             add ?tls=required (STARTTLS mandatory) or ?tls=none (plaintext), \
                             or smtps://USER:PASSWORD@HOST:PORT (implicit TLS)";
        let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e}); {FORMS}"))?;
        let implicit = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("unsupported scheme '{other}:'; {FORMS}")),
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(format!("no host; {FORMS}")),
        };
        if host.is_empty() {
            return Err(format!("no host; {FORMS}"));
        }
        if !matches!(url.path(), "" | "/") {
            return Err(format!("unexpected path '{}'; {FORMS}", url.path()));
        }
        if url.fragment().is_some() {
            return Err(format!("unexpected #fragment; {FORMS}"));
        }
        let mut tls = None;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), tls.is_some()) {
                ("tls", false) => tls = Some(value.into_owned()),
                ("tls", true) => return Err("?tls= is given twice".into()),
                (other, _) => {
                    return Err(format!(
                        "unknown parameter '{other}': the only parameter is ?tls=starttls|required|none"
                    ))
                }
            }
        }
        let security = match (implicit, tls.as_deref()) {
            (true, None) => SmtpSecurity::Implicit,
            (true, Some(_)) => {
                return Err(
                    "smtps:// always uses implicit TLS: drop ?tls=, or use smtp:// with it".into(),
                )
            }
            (false, None | Some("starttls" | "opportunistic")) => SmtpSecurity::Opportunistic,
            (false, Some("required")) => SmtpSecurity::Required,
            (false, Some("none")) => SmtpSecurity::None,
            (false, Some(other)) => {
                return Err(format!(
                    "?tls={other} is not understood: use starttls (default), required or none"
                ))
            }
        };
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Implicit => 465,
            SmtpSecurity::None => 25,
            SmtpSecurity::Opportunistic | SmtpSecurity::Required => 587,
        });
        let decode = |part: &str, what: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| format!("the {what} is not valid UTF-8 after percent-decoding"))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err("a password without a user name".into()),
            (_, None) => {
                return Err(
                    "a user name without a password: use smtp://USER:PASSWORD@HOST \
                     (percent-encode @ : / in them, e.g. %40)"
                        .into(),
                )
            }
            (user, Some(password)) => Some(SmtpCredentials {
                user: decode(user, "user name")?,
                password: decode(password, "password")?,
            }),
        };
        Ok(Self {
            host,
            port,
            security,
            credentials,
        })
    }

    /// Is the host this machine? (Plaintext credentials are only unremarkable there.)
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// For logs: `smtp://user@host:587 (STARTTLS when offered)`, never the password.
impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.security == SmtpSecurity::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        write!(f, "{scheme}://")?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}@", credentials.user)?;
        }
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let security = match self.security {
            SmtpSecurity::Opportunistic => "STARTTLS when offered",
            SmtpSecurity::Required => "STARTTLS required",
            SmtpSecurity::Implicit => "implicit TLS",
            SmtpSecurity::None => "plaintext",
        };
        write!(f, "{host}:{} ({security})", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SmtpUrl {
        SmtpUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn forms_and_default_ports() {
        let url = parse("smtp://relay.example.com");
        assert_eq!(
            (url.host.as_str(), url.port, url.security, url.credentials),
            ("relay.example.com", 587, SmtpSecurity::Opportunistic, None)
        );
        assert_eq!(
            parse("smtp://relay.example.com:2525?tls=starttls").port,
            2525
        );
        assert_eq!(
            parse("smtp://relay.example.com?tls=required").security,
            SmtpSecurity::Required
        );
        let none = parse("smtp://127.0.0.1:2525?tls=none");
        assert_eq!((none.port, none.security), (2525, SmtpSecurity::None));
        assert!(none.is_loopback());
        assert_eq!(parse("smtp://localhost?tls=none").port, 25);
        let smtps = parse("smtps://mail.example.com");
        assert_eq!((smtps.port, smtps.security), (465, SmtpSecurity::Implicit));
        assert_eq!(parse("smtp://[::1]:25?tls=none").host, "::1");
        assert!(parse("smtp://[::1]:25?tls=none").is_loopback());
    }

    #[test]
    fn credentials_are_percent_decoded_and_redacted() {
        let url = parse("smtp://pulse%40corp.example:p%40ss%3Aw%2Frd%20x@relay.example.com:587");
        let credentials = url.credentials.clone().unwrap();
        assert_eq!(credentials.user, "pulse@corp.example");
        assert_eq!(credentials.password, "p@ss:w/rd x");
        let debug = format!("{url:?}");
        assert!(
            !debug.contains("p@ss") && !debug.contains("p%40ss"),
            "{debug}"
        );
        assert_eq!(
            url.to_string(),
            "smtp://pulse@corp.example@relay.example.com:587 (STARTTLS when offered)"
        );
        let settings = format!("{:?}", EmailSettings::smtp(url));
        assert!(!settings.contains("p@ss"), "{settings}");
    }

    #[test]
    fn errors_explain_and_never_echo_the_password() {
        for (text, expected) in [
            ("relay.example.com", "not a URL"),
            ("http://relay.example.com", "unsupported scheme 'http:'"),
            (
                "smtp://relay.example.com?tls=maybe",
                "?tls=maybe is not understood",
            ),
            (
                "smtp://relay.example.com?tsl=none",
                "unknown parameter 'tsl'",
            ),
            (
                "smtps://relay.example.com?tls=none",
                "smtps:// always uses implicit TLS",
            ),
            (
                "smtp://user@relay.example.com",
                "a user name without a password",
            ),
            (
                "smtp://:secret@relay.example.com",
                "a password without a user name",
            ),
            ("smtp://relay.example.com/x", "unexpected path"),
            ("smtp://u:secret@relay.example.com:99999", "not a URL"),
            (
                "smtp://u:secret@relay.example.com?tls=none&tls=none",
                "twice",
            ),
        ] {
            let error = SmtpUrl::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("secret"), "{text}: {error}");
        }
    }

    #[test]
    fn the_default_sender_is_valid() {
        let from = EmailSettings::file("x").from;
        assert_eq!(from.name.as_deref(), Some("Procurement Pulse"));
        assert_eq!(from.email.to_string(), "pulse@localhost");
        let parsed: Mailbox = EmailSettings::DEFAULT_FROM.parse().unwrap();
        assert_eq!(parsed, from);
    }
}
