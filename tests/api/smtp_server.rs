//! A small SMTP server for tests: real SMTP over TCP on 127.0.0.1, no TLS. It records
//! every accepted message and can be scripted per recipient or per attempt (4xx, 5xx, a
//! stall after DATA, a slow answer, a dropped connection), stopped and restarted on the
//! same port.
//!
//! ```ignore
//! let server = SmtpServer::start().await;
//! server.script(Match::Recipient("bob@example.com"), [Action::TempFail, Action::TempFail]);
//! // … send to server.url() (smtp://127.0.0.1:PORT?tls=none) …
//! let mails = server.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(mails[0].message_id().as_deref(), Some("<1@pulse.example.com>"));
//! ```
//!
//! Speaks EHLO/HELO, AUTH PLAIN and LOGIN (any credentials unless [`SmtpServer::require_login`]),
//! MAIL, RCPT, DATA (with dot-unstuffing), RSET, NOOP, QUIT. STARTTLS is refused.
// Shared by many test modules; not each one uses every helper.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use mail_parser::MimeHeaders;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

/// What the server does with one RCPT (and the transaction it starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 250 everywhere; the message is recorded.
    Accept,
    /// `451 4.3.0 try again later` to RCPT.
    TempFail,
    /// `550 5.1.1 no such user` to RCPT.
    Reject,
    /// This reply line (e.g. `452 4.2.2 mailbox full`) to RCPT.
    RcptReply(String),
    /// Accept RCPT and DATA, then answer the final `.` with this line; a 2xx line records
    /// the message.
    DataReply(String),
    /// Read the message and never answer the final `.` (until the client hangs up).
    Stall,
    /// Record the message, wait this long, then answer 250.
    Slow(Duration),
    /// Close the connection instead of answering RCPT.
    Disconnect,
}

/// Which sends a script applies to.
#[derive(Debug, Clone, Copy)]
pub enum Match<'a> {
    /// Each RCPT of this address takes the next action (case-insensitive).
    Recipient(&'a str),
    /// Each RCPT of any address without a recipient script takes the next action.
    Any,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA as received, dot-unstuffed, CRLF line ends.
    pub raw: String,
    /// Which connection (1, 2, …) delivered it.
    pub connection: usize,
}

impl ReceivedMessage {
    /// The header lines, unfolded, in order: `("Subject", "Hello")`.
    pub fn headers(&self) -> Vec<(String, String)> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut lines: Vec<String> = Vec::new();
        for line in head.split("\r\n") {
            match lines.last_mut() {
                Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
                _ => lines.push(line.to_owned()),
            }
        }
        lines
            .into_iter()
            .filter_map(|l| {
                let (name, value) = l.split_once(':')?;
                Some((name.to_owned(), value.trim().to_owned()))
            })
            .collect()
    }

    /// The first header of that name (case-insensitive), unfolded, undecoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("the test server received a parsable message")
    }

    /// Decoded (RFC 2047) subject.
    pub fn subject(&self) -> Option<String> {
        self.parsed().subject().map(str::to_owned)
    }

    /// With angle brackets, as in the header.
    pub fn message_id(&self) -> Option<String> {
        self.header("Message-ID")
    }

    pub fn list_unsubscribe(&self) -> Option<String> {
        self.header("List-Unsubscribe")
    }

    /// The decoded text/plain part.
    pub fn text_body(&self) -> Option<String> {
        self.parsed().body_text(0).map(|b| b.into_owned())
    }

    /// The decoded text/html part.
    pub fn html_body(&self) -> Option<String> {
        let parsed = self.parsed();
        let part = parsed.html_part(0)?;
        part.text_contents().map(str::to_owned)
    }

    /// `(type, subtype)` of every part, e.g. `[("multipart","alternative"), ("text","plain"), …]`.
    pub fn mime_types(&self) -> Vec<(String, String)> {
        self.parsed()
            .parts
            .iter()
            .filter_map(|p| p.content_type())
            .map(|ct| {
                (
                    ct.ctype().to_ascii_lowercase(),
                    ct.subtype().unwrap_or_default().to_ascii_lowercase(),
                )
            })
            .collect()
    }
}

#[derive(Default)]
struct Scripts {
    any: VecDeque<Action>,
    by_recipient: HashMap<String, VecDeque<Action>>,
    default: Option<Action>,
}

impl Scripts {
    fn next(&mut self, recipient: &str) -> Action {
        let key = recipient.to_ascii_lowercase();
        if let Some(action) = self
            .by_recipient
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
        {
            return action;
        }
        if let Some(action) = self.any.pop_front() {
            return action;
        }
        self.default.clone().unwrap_or(Action::Accept)
    }
}

#[derive(Default)]
struct State {
    messages: Mutex<Vec<ReceivedMessage>>,
    scripts: Mutex<Scripts>,
    attempts: Mutex<HashMap<String, usize>>,
    logins: Mutex<Vec<(String, String)>>,
    required_login: Mutex<Option<(String, String)>>,
    changed: Notify,
    connections: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
}

struct Running {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The server; stops when dropped.
pub struct SmtpServer {
    port: u16,
    state: Arc<State>,
    running: Mutex<Option<Running>>,
}

impl SmtpServer {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test SMTP server");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let running = serve(listener, state.clone());
        Self {
            port,
            state,
            running: Mutex::new(Some(running)),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT?tls=none`
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Every accepted message so far, in order of acceptance.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.state.messages.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages were accepted; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.state.changed.notified();
            // Counted under the lock, copied once at the end: copying every message at each
            // arrival made waiting for a large wave quadratic (and slowed what it waited for).
            if self.state.messages.lock().unwrap().len() >= n {
                return self.messages();
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!(
                    "the SMTP server got {} of {n} messages within {timeout:?}",
                    self.messages().len()
                );
            }
        }
    }

    /// Queues `actions` for the next RCPTs matching `target`; once used up, the default
    /// ([`Action::Accept`] unless [`SmtpServer::set_default`]) applies again.
    pub fn script(&self, target: Match<'_>, actions: impl IntoIterator<Item = Action>) {
        let mut scripts = self.state.scripts.lock().unwrap();
        let queue = match target {
            Match::Any => &mut scripts.any,
            Match::Recipient(address) => scripts
                .by_recipient
                .entry(address.to_ascii_lowercase())
                .or_default(),
        };
        queue.extend(actions);
    }

    /// What happens to RCPTs that no script covers.
    pub fn set_default(&self, action: Action) {
        self.state.scripts.lock().unwrap().default = Some(action);
    }

    /// How many times RCPT was given for this address (accepted or not).
    pub fn attempts(&self, recipient: &str) -> usize {
        let attempts = self.state.attempts.lock().unwrap();
        attempts
            .get(&recipient.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Connections accepted since the start.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The most connections open at the same time.
    pub fn max_concurrent_connections(&self) -> usize {
        self.state.max_open.load(Ordering::SeqCst)
    }

    /// `(user, password)` of every successful AUTH.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.state.logins.lock().unwrap().clone()
    }

    /// From now on only these credentials pass AUTH (others get 535).
    pub fn require_login(&self, user: &str, password: &str) {
        *self.state.required_login.lock().unwrap() = Some((user.into(), password.into()));
    }

    /// Stops listening and closes every connection; the port stays reserved for
    /// [`SmtpServer::restart`].
    pub async fn stop(&self) {
        let running = self.running.lock().unwrap().take();
        if let Some(running) = running {
            let _ = running.shutdown.send(true);
            let _ = running.task.await;
        }
    }

    /// Listens again on the same port (recorded messages and scripts are kept).
    pub async fn restart(&self) {
        self.stop().await;
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind the test SMTP server on its port");
        *self.running.lock().unwrap() = Some(serve(listener, self.state.clone()));
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().unwrap().take() {
            let _ = running.shutdown.send(true);
            running.task.abort();
        }
    }
}

fn serve(listener: TcpListener, state: Arc<State>) -> Running {
    let (shutdown, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut sessions = JoinSet::new();
        loop {
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let id = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
                    let open = state.open.fetch_add(1, Ordering::SeqCst) + 1;
                    state.max_open.fetch_max(open, Ordering::SeqCst);
                    let state = state.clone();
                    sessions.spawn(async move {
                        let _ = session(stream, &state, id).await;
                        state.open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        drop(listener);
        // Closes every client connection (aborting a session drops its socket).
        sessions.shutdown().await;
        state.open.store(0, Ordering::SeqCst);
    });
    Running { shutdown, task }
}

#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
    data_action: Option<Action>,
}

async fn session(stream: TcpStream, state: &State, id: usize) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 pulse-test ESMTP ready\r\n").await?;
    let mut tx = Transaction::default();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let (verb, argument) = command.split_once(' ').unwrap_or((command, ""));
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => "250-pulse-test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE 10485760\r\n250 AUTH PLAIN LOGIN".into(),
            "HELO" => "250 pulse-test".into(),
            "AUTH" => auth(argument, &mut reader, &mut write, state).await?,
            "MAIL" => {
                tx = Transaction {
                    from: Some(address_of(argument)),
                    ..Transaction::default()
                };
                "250 2.1.0 sender ok".into()
            }
            "RCPT" if tx.from.is_none() => "503 5.5.1 MAIL first".into(),
            "RCPT" => {
                let recipient = address_of(argument);
                *state
                    .attempts
                    .lock()
                    .unwrap()
                    .entry(recipient.to_ascii_lowercase())
                    .or_default() += 1;
                let action = state.scripts.lock().unwrap().next(&recipient);
                match action {
                    Action::TempFail => "451 4.3.0 try again later".into(),
                    Action::Reject => "550 5.1.1 no such user".into(),
                    Action::RcptReply(reply) => reply,
                    Action::Disconnect => return Ok(()),
                    data_action => {
                        tx.to.push(recipient);
                        tx.data_action = Some(data_action);
                        "250 2.1.5 recipient ok".into()
                    }
                }
            }
            "DATA" if tx.to.is_empty() => "503 5.5.1 no valid recipients".into(),
            "DATA" => {
                write.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let raw = read_data(&mut reader).await?;
                let received = ReceivedMessage {
                    from: tx.from.take().unwrap_or_default(),
                    to: std::mem::take(&mut tx.to),
                    raw,
                    connection: id,
                };
                let record = |message: ReceivedMessage| {
                    state.messages.lock().unwrap().push(message);
                    state.changed.notify_waiters();
                };
                match tx.data_action.take().unwrap_or(Action::Accept) {
                    Action::Stall => {
                        // Never answer; wait for the client to give up.
                        let mut sink = Vec::new();
                        let _ = reader.read_to_end(&mut sink).await;
                        return Ok(());
                    }
                    Action::Slow(delay) => {
                        record(received);
                        tokio::time::sleep(delay).await;
                        "250 2.0.0 queued".into()
                    }
                    Action::DataReply(reply) => {
                        if reply.starts_with('2') {
                            record(received);
                        }
                        reply
                    }
                    _ => {
                        record(received);
                        "250 2.0.0 queued".into()
                    }
                }
            }
            "RSET" => {
                tx = Transaction::default();
                "250 2.0.0 reset".into()
            }
            "NOOP" => "250 2.0.0 ok".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            "STARTTLS" => "454 4.7.0 TLS not available".into(),
            _ => "502 5.5.2 command not implemented".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// `FROM:<a@b> SIZE=1` → `a@b`
fn address_of(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument[start..]
        .find('>')
        .map_or(argument.len(), |i| start + i);
    argument[start..end].to_owned()
}

/// Reads up to the line `.`; undoes dot-stuffing.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}

/// AUTH PLAIN [initial-response] or AUTH LOGIN [user]; returns the final reply.
async fn auth(
    argument: &str,
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    state: &State,
) -> std::io::Result<String> {
    let decode = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    let mut ask = async |prompt: &str| -> std::io::Result<String> {
        write
            .write_all(format!("334 {prompt}\r\n").as_bytes())
            .await?;
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        Ok(line)
    };
    let (mechanism, initial) = argument.split_once(' ').unwrap_or((argument, ""));
    let credentials = match mechanism.to_ascii_uppercase().as_str() {
        "PLAIN" => {
            let response = if initial.is_empty() {
                ask("").await?
            } else {
                initial.to_owned()
            };
            decode(&response).and_then(|plain| {
                let mut parts = plain.split('\0');
                let _authzid = parts.next()?;
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
        }
        "LOGIN" => {
            let user = if initial.is_empty() {
                ask("VXNlcm5hbWU6").await?
            } else {
                initial.to_owned()
            };
            let password = ask("UGFzc3dvcmQ6").await?;
            decode(&user).zip(decode(&password))
        }
        _ => return Ok("504 5.5.4 mechanism not supported".into()),
    };
    let Some(credentials) = credentials else {
        return Ok("501 5.5.2 cannot decode the credentials".into());
    };
    let required = state.required_login.lock().unwrap().clone();
    if required.is_some_and(|r| r != credentials) {
        return Ok("535 5.7.8 authentication credentials invalid".into());
    }
    state.logins.lock().unwrap().push(credentials);
    Ok("235 2.7.0 authentication successful".into())
}
