//! [`Mailer`]: hands an [`EmailMessage`] to SMTP, to a folder of `.eml` files, or to
//! memory, and says how it went ([`SendError`]).
//!
//! The SMTP side keeps its own small pool of lettre [`AsyncSmtpConnection`]s rather than
//! lettre's `AsyncSmtpTransport` pool, for three reasons found in lettre 0.11.23:
//!
//! * a send cut off by our per-send timeout drops lettre's pooled connection in the middle
//!   of a transaction, and lettre parks it for reuse anyway (it is not marked broken): the
//!   next send on it then hangs or, worse, reads the previous message's late reply as its
//!   own. Here a connection is owned by the send that uses it, so a cancelled send closes
//!   it;
//! * lettre's `max_size` only caps idle connections, not concurrent ones: here a semaphore
//!   caps both at `--smtp-pool-size`;
//! * lettre does not set `TCP_NODELAY`, so the final `.` of each message waits for a
//!   delayed ACK (~40 ms, ~23 msg/s per connection); connections opened here set it
//!   (`smtps://` still goes through lettre's own connect, without it).
//!
//! Everything on the wire — commands, replies, STARTTLS, AUTH, dot-stuffing — is lettre's.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailParameter};
use tokio::sync::Semaphore;

use super::message::{EmailError, EmailMessage};
use super::settings::{EmailSettings, SmtpSecurity, SmtpUrl};

/// Why a send failed, in the terms the outbox needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: a 4xx reply about this message, a connection reset mid-way, no
    /// answer within the per-send timeout. Nothing about the recipient is known to be wrong.
    #[error("temporary failure: {reason}")]
    Transient { reason: String },
    /// The relay itself cannot be used: connection refused, no greeting, TLS or AUTH
    /// failure (535, 530), our sender refused. Nothing about this mail or its recipient is
    /// wrong, so the outbox pauses sending instead of using up the rows' attempts.
    #[error("the mail relay cannot be used: {reason}")]
    Relay { reason: String, kind: RelayProblem },
    /// Retrying cannot help: a 5xx reply to RCPT (the address is refused), to DATA or to
    /// the message, or a message that cannot be built. `reply` is the server's text.
    #[error("permanent failure: {reply}")]
    Permanent { reply: String, rejected: Rejected },
}

/// What kind of relay problem paused sending (the `reason` label of
/// `pulse_outbox_relay_paused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayProblem {
    /// Cannot connect, no greeting, the connection closed at once, 421.
    Unreachable,
    /// STARTTLS or TLS failed, or TLS is required and not offered.
    Tls,
    /// The relay refused our credentials (535) or wants some (530).
    Authentication,
    /// The relay refused our sender address.
    Sender,
}

impl RelayProblem {
    pub fn label(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::Tls => "tls",
            Self::Authentication => "authentication",
            Self::Sender => "sender",
        }
    }
}

/// What a permanent failure was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The server refused the recipient (5xx to RCPT): suppress the address.
    Recipient,
    /// The server refused this message (5xx to DATA or after it, e.g. too large, spam),
    /// or it could not be built: give up on the row, keep the address.
    Message,
}

impl SendError {
    /// A failure of this one attempt, worth retrying later (not a relay problem).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// A failure of the relay rather than of this mail: pause sending.
    pub fn relay_problem(&self) -> Option<RelayProblem> {
        match self {
            Self::Relay { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    fn relay(kind: RelayProblem, reason: impl Into<String>) -> Self {
        Self::Relay {
            reason: reason.into(),
            kind,
        }
    }

    /// Should the outbox suppress the recipient's address from now on?
    pub fn suppresses_address(&self) -> bool {
        matches!(
            self,
            Self::Permanent {
                rejected: Rejected::Recipient,
                ..
            }
        )
    }

    fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
        }
    }
}

impl From<EmailError> for SendError {
    fn from(error: EmailError) -> Self {
        Self::Permanent {
            reply: error.to_string(),
            rejected: Rejected::Message,
        }
    }
}

/// A message as a transport saw it: the [`EmailMessage`] and the exact bytes.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub message: EmailMessage,
    pub raw: Vec<u8>,
}

impl SentEmail {
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// Where mail goes. Cheap to clone: clones share the pool, the rate limit and the
/// memory.
#[derive(Clone, Debug)]
pub enum Mailer {
    /// A relay over SMTP (production).
    Smtp(SmtpMailer),
    /// `<message-id>.eml` files in a folder (the default without `--smtp-url`).
    File(FileMailer),
    /// A list in memory (unit tests).
    Memory(MemoryMailer),
}

impl Mailer {
    /// SMTP when `settings.smtp` is set, else files in `settings.mail_dir`; logs which.
    pub fn from_settings(settings: &EmailSettings) -> Self {
        match &settings.smtp {
            Some(url) => {
                if url.credentials.is_some()
                    && url.security == SmtpSecurity::None
                    && !url.is_loopback()
                {
                    tracing::warn!(smtp = %url, "the SMTP password travels unencrypted (?tls=none) to a remote host");
                }
                tracing::info!(
                    smtp = %url,
                    pool_size = settings.pool_size,
                    max_per_second = settings.max_per_second.map_or(0, |n| n.get()),
                    timeout_seconds = settings.timeout.as_secs_f64(),
                    "mail goes to the SMTP relay"
                );
                Self::Smtp(SmtpMailer::new(url.clone(), settings))
            }
            None => {
                tracing::warn!(
                    dir = %settings.mail_dir.display(),
                    "no --smtp-url: mails are written as .eml files into this folder, not sent"
                );
                Self::File(FileMailer::new(
                    settings.mail_dir.clone(),
                    settings.from.clone(),
                ))
            }
        }
    }

    /// A mailer that keeps every message in memory; see [`Mailer::as_memory`].
    pub fn memory() -> Self {
        Self::Memory(MemoryMailer::new(super::settings::default_from()))
    }

    /// The memory transport, to read what was sent (tests).
    pub fn as_memory(&self) -> Option<&MemoryMailer> {
        match self {
            Self::Memory(memory) => Some(memory),
            _ => None,
        }
    }

    pub async fn send(&self, message: &EmailMessage) -> Result<(), SendError> {
        let result = match self {
            Self::Smtp(smtp) => smtp.send(message).await,
            Self::File(file) => file.send(message).await,
            Self::Memory(memory) => memory.send(message),
        };
        match &result {
            Ok(()) => tracing::debug!(
                to = %crate::telemetry::mask_email(message.to.address.as_str()),
                message_id = %message.message_id,
                "mail handed over"
            ),
            Err(error) => tracing::debug!(
                to = %crate::telemetry::mask_email(message.to.address.as_str()),
                message_id = %message.message_id,
                // SMTP replies often repeat the address.
                error = %crate::telemetry::mask_emails_in(&error.to_string()),
                "mail not handed over"
            ),
        }
        result
    }

    /// Closes idle SMTP connections politely (QUIT); a no-op for the other transports.
    pub async fn shutdown(&self) {
        if let Self::Smtp(smtp) = self {
            smtp.shutdown().await;
        }
    }
}

/// Writes each message to `<dir>/<message-id>.eml` (a retry overwrites the same file).
#[derive(Clone, Debug)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> Self {
        Self { dir, from }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    async fn send(&self, message: &EmailMessage) -> Result<(), SendError> {
        let raw = message.to_lettre(&self.from)?.formatted();
        let stem = message.message_id.file_stem();
        let path = self.dir.join(format!("{stem}.eml"));
        let partial = self.dir.join(format!(".{stem}.eml.partial"));
        let io = |e: std::io::Error| {
            SendError::transient(format!("cannot write {}: {e}", path.display()))
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        // Write then rename, so a reader never sees half a message.
        tokio::fs::write(&partial, &raw).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        Ok(())
    }
}

/// Keeps sent messages in memory.
#[derive(Clone, Debug)]
pub struct MemoryMailer {
    from: Mailbox,
    sent: Arc<Mutex<Vec<SentEmail>>>,
}

impl MemoryMailer {
    pub fn new(from: Mailbox) -> Self {
        Self {
            from,
            sent: Arc::default(),
        }
    }

    /// Everything sent so far, oldest first.
    pub fn sent(&self) -> Vec<SentEmail> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn send(&self, message: &EmailMessage) -> Result<(), SendError> {
        let raw = message.to_lettre(&self.from)?.formatted();
        let mut sent = self
            .sent
            .lock()
            .map_err(|_| SendError::transient("the memory mailer's lock is poisoned"))?;
        sent.push(SentEmail {
            message: message.clone(),
            raw,
        });
        Ok(())
    }
}

/// Connections idle for longer than this are closed rather than reused (relays drop idle
/// clients after a minute or more).
const MAX_IDLE: Duration = Duration::from_secs(30);

/// SMTP through a pool of at most `pool_size` connections, with a per-send timeout and
/// an optional rate limit shared by every send.
#[derive(Clone)]
pub struct SmtpMailer {
    inner: Arc<SmtpInner>,
}

struct SmtpInner {
    url: SmtpUrl,
    /// Why TLS cannot be used, when the host name is not usable for it.
    tls: Result<TlsParameters, String>,
    pool_size: usize,
    credentials: Option<Credentials>,
    hello: ClientId,
    from: Mailbox,
    timeout: Duration,
    /// One permit per connection: at most `pool_size` sends talk to the server at once.
    slots: Semaphore,
    idle: Mutex<Vec<IdleConnection>>,
    limiter: Option<DefaultDirectRateLimiter>,
}

struct IdleConnection {
    conn: AsyncSmtpConnection,
    since: Instant,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("url", &self.inner.url.to_string())
            .field("timeout", &self.inner.timeout)
            .field("pool_size", &self.inner.pool_size)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url` with the sender, timeout, pool size and rate of `settings`
    /// (`settings.smtp` is not consulted). Opens no connection yet.
    pub fn new(url: SmtpUrl, settings: &EmailSettings) -> Self {
        // Building rustls parameters with the bundled webpki roots only fails for a host
        // name that is not a valid TLS server name; every send that needs TLS reports it.
        let tls = TlsParameters::new(url.host.clone()).map_err(|e| e.to_string());
        match &tls {
            Err(error) if url.security != SmtpSecurity::None => {
                tracing::error!(smtp = %url, %error, "TLS cannot be used with this SMTP host");
            }
            _ => {}
        }
        let credentials = url
            .credentials
            .as_ref()
            .map(|c| Credentials::new(c.user.clone(), c.password.clone()));
        let pool_size = settings.pool_size.max(1) as usize;
        // One message every 1/n s, no bursts: relays that throttle count per second.
        let limiter = settings.max_per_second.map(|n| {
            RateLimiter::direct(Quota::per_second(n).allow_burst(std::num::NonZeroU32::MIN))
        });
        Self {
            inner: Arc::new(SmtpInner {
                url,
                tls,
                pool_size,
                credentials,
                hello: ClientId::default(),
                from: settings.from.clone(),
                timeout: settings.timeout,
                slots: Semaphore::new(pool_size),
                idle: Mutex::new(Vec::with_capacity(pool_size)),
                limiter,
            }),
        }
    }

    /// Waits for a free connection slot and the rate limit, then gives the send itself
    /// (connect, TLS, AUTH, MAIL … final reply) `timeout` to finish. A send that times out
    /// closes its connection; the server may still deliver the message (SMTP cannot rule
    /// that out), so a retry can rarely duplicate a mail.
    async fn send(&self, message: &EmailMessage) -> Result<(), SendError> {
        let email = message.to_lettre(&self.inner.from)?;
        let bytes = email.formatted();
        let envelope = email.envelope();
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| SendError::transient("the mailer is shut down"))?;
        if let Some(limiter) = &self.inner.limiter {
            limiter.until_ready().await;
        }
        match tokio::time::timeout(self.inner.timeout, self.deliver(envelope, &bytes)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::transient(format!(
                "no answer from {} within {} s",
                self.inner.url,
                self.inner.timeout.as_secs_f64()
            ))),
        }
    }

    async fn deliver(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        loop {
            let (mut conn, reused) = match self.checkout() {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            match transaction(&mut conn, envelope, bytes).await {
                Ok(()) => {
                    self.checkin(conn);
                    return Ok(());
                }
                // A reused connection the server has closed meanwhile (or is closing
                // with 421): nothing was accepted yet, so try again on another one.
                Err(Failure::Stale(_)) if reused => continue,
                // A fresh connection closed (or 421) before anything was accepted: the
                // relay is not taking mail.
                Err(Failure::Stale(reason)) => {
                    return Err(SendError::relay(
                        RelayProblem::Unreachable,
                        format!("{}: {reason}", self.inner.url),
                    ))
                }
                Err(Failure::Broken(error)) => return Err(error),
                Err(Failure::Refused(error)) => {
                    // The connection is still in step: RSET and keep it.
                    if conn.command(Rset).await.is_ok() {
                        self.checkin(conn);
                    }
                    return Err(error);
                }
            }
        }
    }

    /// The most recently used idle connection, if one is fresh enough.
    fn checkout(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.inner.idle.lock().ok()?;
        // Oldest first: those past MAX_IDLE are dropped (closing the socket).
        idle.retain(|c| c.since.elapsed() < MAX_IDLE);
        idle.pop().map(|c| c.conn)
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        if let Ok(mut idle) = self.inner.idle.lock() {
            idle.push(IdleConnection {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// Connects, says EHLO, upgrades with STARTTLS as configured and authenticates.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let inner = &self.inner;
        let url = &inner.url;
        let failed = |kind: RelayProblem, what: &str, error: &dyn std::fmt::Display| {
            SendError::relay(kind, format!("{what} {url}: {error}"))
        };
        let tls = || {
            inner.tls.clone().map_err(|e| {
                SendError::relay(
                    RelayProblem::Tls,
                    format!("{url}: TLS is not possible: {e}"),
                )
            })
        };
        let mut conn = if url.security == SmtpSecurity::Implicit {
            AsyncSmtpConnection::connect_tokio1(
                (url.host.as_str(), url.port),
                Some(inner.timeout),
                &inner.hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(|e| {
                failed(
                    RelayProblem::Unreachable,
                    "cannot connect to",
                    &error_text(&e),
                )
            })?
        } else {
            let stream = tokio::net::TcpStream::connect((url.host.as_str(), url.port))
                .await
                .map_err(|e| failed(RelayProblem::Unreachable, "cannot connect to", &e))?;
            // See the module comment: without it each message waits for a delayed ACK.
            stream.set_nodelay(true).map_err(|e| {
                failed(
                    RelayProblem::Unreachable,
                    "cannot configure the connection to",
                    &e,
                )
            })?;
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &inner.hello)
                .await
                .map_err(|e| {
                    failed(
                        RelayProblem::Unreachable,
                        "no SMTP greeting from",
                        &error_text(&e),
                    )
                })?
        };
        match url.security {
            SmtpSecurity::Opportunistic if conn.can_starttls() => {
                conn.starttls(tls()?, &inner.hello).await.map_err(|e| {
                    failed(RelayProblem::Tls, "STARTTLS failed with", &error_text(&e))
                })?;
            }
            SmtpSecurity::Required => {
                if !conn.can_starttls() {
                    conn.abort().await;
                    return Err(SendError::relay(
                        RelayProblem::Tls,
                        format!("{url} does not offer STARTTLS, and ?tls=required insists on it"),
                    ));
                }
                conn.starttls(tls()?, &inner.hello).await.map_err(|e| {
                    failed(RelayProblem::Tls, "STARTTLS failed with", &error_text(&e))
                })?;
            }
            _ => {}
        }
        if let Some(credentials) = &inner.credentials {
            // 5xx here means wrong credentials or mechanism: a configuration problem,
            // never the recipient's.
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| {
                    failed(
                        RelayProblem::Authentication,
                        "authentication failed at",
                        &error_text(&e),
                    )
                })?;
        }
        Ok(conn)
    }

    async fn shutdown(&self) {
        let idle = match self.inner.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => return,
        };
        for mut c in idle {
            let _ = tokio::time::timeout(Duration::from_secs(2), c.conn.quit()).await;
        }
    }
}

/// How one mail transaction ended, when not with 250.
enum Failure {
    /// The connection was closed (or is closing, 421) before anything was accepted.
    Stale(String),
    /// The server refused with a reply; the connection is still usable after RSET.
    Refused(SendError),
    /// The connection broke mid-way (I/O error, garbled reply): drop it.
    Broken(SendError),
}

/// MAIL FROM, RCPT TO, DATA, message, each answered before the next (no pipelining).
async fn transaction(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), Failure> {
    let mut parameters = Vec::new();
    let non_ascii_address = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii_address {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(Failure::Refused(SendError::Permanent {
                reply: "the address needs SMTPUTF8, which the relay does not offer".into(),
                rejected: Rejected::Message,
            }));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    // lettre encodes bodies as 7bit, quoted-printable or base64 and headers per RFC 2047,
    // so the message itself is ASCII and needs no 8BITMIME.
    match conn
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
    {
        Ok(_) => {}
        Err(e) if e.status().is_some_and(|c| c.to_string() == "421") => {
            return Err(Failure::Stale(error_text(&e)))
        }
        Err(e) if e.status().is_some() => {
            // The relay refuses our sender: configuration, not the recipient.
            let kind = if is_auth_required(&e) {
                RelayProblem::Authentication
            } else {
                RelayProblem::Sender
            };
            return Err(Failure::Refused(SendError::relay(
                kind,
                format!("the relay refused the sender: {}", error_text(&e)),
            )));
        }
        Err(e) => return Err(Failure::Stale(error_text(&e))),
    }
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))
            .await
            .map_err(|e| classify(&e, Rejected::Recipient))?;
    }
    conn.command(Data)
        .await
        .map_err(|e| classify(&e, Rejected::Message))?;
    match conn.message(bytes).await {
        Ok(_) => Ok(()),
        // After the final dot the server has answered: the connection is in step.
        Err(e) if e.status().is_some() => Err(Failure::Refused(reply_error(&e, Rejected::Message))),
        Err(e) => Err(Failure::Broken(SendError::transient(error_text(&e)))),
    }
}

fn classify(error: &lettre::transport::smtp::Error, rejected: Rejected) -> Failure {
    if error.status().is_some() {
        Failure::Refused(reply_error(error, rejected))
    } else {
        Failure::Broken(SendError::transient(error_text(error)))
    }
}

/// 530 ("authentication required"): the relay's configuration, not the mail.
fn is_auth_required(error: &lettre::transport::smtp::Error) -> bool {
    error.status().is_some_and(|c| c.to_string() == "530")
}

/// 5xx → permanent; 4xx → transient; 530 → a relay problem. A 5xx to RCPT refuses the
/// recipient; so does a 5xx with an enhanced code 5.1.x (bad address) or 5.2.1 (mailbox
/// disabled) given after DATA. Other 5xx after DATA refuse the message only.
fn reply_error(error: &lettre::transport::smtp::Error, rejected: Rejected) -> SendError {
    let reply = error_text(error);
    if is_auth_required(error) {
        return SendError::relay(RelayProblem::Authentication, reply);
    }
    if error.is_permanent() {
        let rejected = if refuses_recipient(&reply) {
            Rejected::Recipient
        } else {
            rejected
        };
        SendError::Permanent { reply, rejected }
    } else {
        SendError::Transient { reason: reply }
    }
}

/// Does a reply text carry an enhanced status code about the recipient's address (5.1.x)
/// or a disabled mailbox (5.2.1)? Looks at the first word after the reply code.
fn refuses_recipient(reply: &str) -> bool {
    let mut words = reply.split_whitespace();
    let _code = words.next();
    words
        .next()
        .is_some_and(|enhanced| enhanced.starts_with("5.1.") || enhanced == "5.2.1")
}

/// `550 5.1.1 no such user` for a reply, lettre's description otherwise.
fn error_text(error: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    match (error.status(), error.source()) {
        (Some(code), Some(text)) => format!("{code} {text}"),
        (Some(code), None) => code.to_string(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;
    use crate::email::{MessageId, Recipient};

    fn message(id: &str) -> EmailMessage {
        EmailMessage::new(
            Recipient::new(
                EmailAddress::parse("anna@example.com").unwrap(),
                Some("Anna"),
            ),
            "Hello".into(),
            "text".into(),
            "<p>html</p>".into(),
            MessageId::parse(id).unwrap(),
        )
    }

    #[tokio::test]
    async fn memory_keeps_what_was_sent() {
        let mailer = Mailer::memory();
        mailer.send(&message("<1@x.example>")).await.unwrap();
        let sent = mailer.as_memory().unwrap().sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].raw_text().contains("Message-ID: <1@x.example>"));
    }

    #[tokio::test]
    async fn files_are_named_after_the_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::from_settings(&EmailSettings::file(dir.path().join("mail")));
        mailer.send(&message("<row/1@x.example>")).await.unwrap();
        mailer.send(&message("<row/1@x.example>")).await.unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["row_1@x.example.eml"]);
    }

    #[test]
    fn only_refused_recipients_suppress_addresses() {
        let permanent = |rejected| SendError::Permanent {
            reply: "550".into(),
            rejected,
        };
        assert!(permanent(Rejected::Recipient).suppresses_address());
        assert!(!permanent(Rejected::Message).suppresses_address());
        assert!(!SendError::transient("x").suppresses_address());
        assert!(SendError::transient("x").is_transient());
        let relay = SendError::relay(RelayProblem::Authentication, "535");
        assert!(!relay.suppresses_address() && !relay.is_transient());
        assert_eq!(relay.relay_problem(), Some(RelayProblem::Authentication));
    }

    #[test]
    fn enhanced_codes_about_the_address_refuse_the_recipient() {
        assert!(refuses_recipient("550 5.1.1 no such user"));
        assert!(refuses_recipient("554 5.2.1 mailbox disabled"));
        assert!(!refuses_recipient("552 5.2.2 mailbox full"));
        assert!(!refuses_recipient("554 5.7.1 message refused as spam"));
        assert!(!refuses_recipient("550 no enhanced code"));
    }
}
