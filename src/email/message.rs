//! [`EmailMessage`]: one rendered email for one recipient, and its conversion to a lettre
//! [`Message`] — the single place where header values are made safe.

use std::fmt;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use serde::Serialize;

use crate::domain::EmailAddress;
use crate::views;

/// Why an email could not be rendered or built.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("email template {template}: {source}")]
    Render {
        template: String,
        #[source]
        source: handlebars::RenderError,
    },
    #[error("'{0}' is not a Message-ID: use <local@domain>")]
    MessageId(String),
    #[error("unsubscribe link: {0}")]
    Unsubscribe(String),
    #[error("the address {address} cannot be used in a mail header: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot build the email: {0}")]
    Build(#[from] lettre::error::Error),
}

/// Who gets the email: a validated address and, when known, a display name (the name
/// comes from the stakeholder CSV, so it is made one-line before it reaches a header).
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: EmailAddress,
    pub name: Option<String>,
}

impl Recipient {
    pub fn new(address: EmailAddress, name: Option<&str>) -> Self {
        let name = name.map(one_line).filter(|n| !n.is_empty());
        Self { address, name }
    }
}

/// Masks the address, like [`EmailAddress`] does.
impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("address", &self.address)
            .field("has_name", &self.name.is_some())
            .finish()
    }
}

/// A `Message-ID` in angle brackets, e.g. `<0190a4c2-…@pulse.example.com>`. Stable per
/// outbox row, so a retried send is recognisably the same message.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    /// `<{id}@{host of base_url}>` (an IPv6 host keeps its brackets); the host falls back
    /// to `localhost` when `base_url` has none.
    pub fn for_outbox(id: impl fmt::Display, base_url: &str) -> Result<Self, EmailError> {
        let host = url::Url::parse(base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        Self::parse(&format!("<{id}@{host}>"))
    }

    /// Accepts `<local@domain>` with printable ASCII and no spaces, brackets or quotes.
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let invalid = || EmailError::MessageId(text.escape_debug().to_string());
        let inner = text
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .ok_or_else(invalid)?;
        let (local, domain) = inner.split_once('@').ok_or_else(invalid)?;
        let allowed =
            |c: char| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '@' | '"' | '\\' | ',');
        if local.is_empty()
            || domain.is_empty()
            || !local.chars().chain(domain.chars()).all(allowed)
        {
            return Err(invalid());
        }
        Ok(Self(text.to_owned()))
    }

    /// With the angle brackets, as in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Safe as a file name: `<a/b@c>` → `a_b@c`.
    pub fn file_stem(&self) -> String {
        self.0[1..self.0.len() - 1]
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

/// The `List-Unsubscribe` links: an http(s) URL (the confirm page, whose POST is the
/// RFC 8058 one-click target) and optionally a `mailto:`. `List-Unsubscribe-Post:
/// List-Unsubscribe=One-Click` is added only for an https URL, as RFC 8058 requires; a
/// plain-http URL (a local or test instance) gets the `List-Unsubscribe` header alone.
#[derive(Clone, PartialEq, Eq)]
pub struct ListUnsubscribe {
    url: url::Url,
    mailto: Option<url::Url>,
}

impl ListUnsubscribe {
    pub fn new(url: &str, mailto: Option<&str>) -> Result<Self, EmailError> {
        let url = url::Url::parse(url)
            .map_err(|e| EmailError::Unsubscribe(format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(EmailError::Unsubscribe("the link must be http(s)".into()));
        }
        let mailto = match mailto {
            Some(m) => {
                let m = url::Url::parse(m)
                    .map_err(|e| EmailError::Unsubscribe(format!("not a mailto: URL ({e})")))?;
                if m.scheme() != "mailto" {
                    return Err(EmailError::Unsubscribe(
                        "the address must be mailto:".into(),
                    ));
                }
                Some(m)
            }
            None => None,
        };
        Ok(Self { url, mailto })
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    pub fn one_click(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The header value: `<https://…/u/TOKEN>` or `<https://…>, <mailto:…>`. `Url`
    /// percent-encodes anything outside printable ASCII, so no CR/LF can appear here.
    fn header_value(&self) -> String {
        match &self.mailto {
            Some(mailto) => format!("<{}>, <{}>", self.url, mailto),
            None => format!("<{}>", self.url),
        }
    }
}

/// Hides the URL: it carries a personal token.
impl fmt::Debug for ListUnsubscribe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListUnsubscribe")
            .field("one_click", &self.one_click())
            .field("mailto", &self.mailto.is_some())
            .finish()
    }
}

/// One email for one recipient, ready for a [`super::Mailer`].
#[derive(Clone)]
pub struct EmailMessage {
    pub to: Recipient,
    /// May contain anything; it is made one line when the message is built.
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: MessageId,
    pub list_unsubscribe: Option<ListUnsubscribe>,
    /// `text` and `html` already encoded for MIME ([`super::RenderCache`] assembles them
    /// from pieces encoded once); `None`: encoded from `text` and `html` when sent.
    bodies: Option<MimeBodies>,
}

/// The text and HTML parts of a message, encoded (7bit or quoted-printable).
#[derive(Clone)]
pub(super) struct MimeBodies {
    pub text: lettre::message::Body,
    pub html: lettre::message::Body,
}

impl EmailMessage {
    /// A message from its parts (no `List-Unsubscribe`; see [`Self::with_list_unsubscribe`]).
    pub fn new(
        to: Recipient,
        subject: String,
        text: String,
        html: String,
        message_id: MessageId,
    ) -> Self {
        Self {
            to,
            subject,
            text,
            html,
            message_id,
            list_unsubscribe: None,
            bodies: None,
        }
    }

    /// Renders `templates/email/<name>/` in English, or `templates/email/<name>/<lang>/`
    /// when that folder exists: `subject.txt.hbs` and `body.txt.hbs` (plain text, not
    /// escaped) and `body.html.hbs` (HTML, escaped), with `context`. The context gets
    /// `lang` (the language written) added.
    pub fn from_template(
        name: &str,
        language: super::MailLanguage,
        context: &impl Serialize,
        to: Recipient,
        message_id: MessageId,
    ) -> Result<Self, EmailError> {
        let (folder, language) = Self::folder(name, language);
        let context = Self::context(&folder, context, language)?;
        Self::from_context(&folder, &context, to, message_id)
    }

    /// The template folder of mail `name` in `language`, and the language it is written in
    /// (English when the template has no folder for `language`).
    pub(super) fn folder(
        name: &str,
        language: super::MailLanguage,
    ) -> (String, super::MailLanguage) {
        let localized = format!("email/{name}/{}", language.code());
        if language != super::MailLanguage::En && views::has_html(&format!("{localized}/body")) {
            (localized, language)
        } else {
            (format!("email/{name}"), super::MailLanguage::En)
        }
    }

    /// `context` as the templates of `folder` read it: with `lang` added.
    pub(super) fn context(
        folder: &str,
        context: &impl Serialize,
        language: super::MailLanguage,
    ) -> Result<serde_json::Value, EmailError> {
        let mut context = serde_json::to_value(context).map_err(|e| EmailError::Render {
            template: folder.to_owned(),
            source: handlebars::RenderError::from(handlebars::RenderErrorReason::SerdeError(e)),
        })?;
        if let serde_json::Value::Object(map) = &mut context {
            map.insert("lang".into(), language.code().into());
        }
        Ok(context)
    }

    /// Renders the three templates of `folder` with `context` (from [`Self::context`]).
    pub(super) fn from_context(
        folder: &str,
        context: &serde_json::Value,
        to: Recipient,
        message_id: MessageId,
    ) -> Result<Self, EmailError> {
        let (subject, text, html) = Self::render_parts(folder, context)?;
        Ok(Self::from_parts(&subject, &text, &html, to, message_id))
    }

    /// Subject, text and HTML of `folder` rendered with `context`, before finishing.
    pub(super) fn render_parts(
        folder: &str,
        context: &serde_json::Value,
    ) -> Result<(String, String, String), EmailError> {
        let render_error = |part: &str| {
            let template = format!("{folder}/{part}");
            move |source| EmailError::Render { template, source }
        };
        let subject = views::render_text(&format!("{folder}/subject"), context)
            .map_err(render_error("subject.txt"))?;
        let text = views::render_text(&format!("{folder}/body"), context)
            .map_err(render_error("body.txt"))?;
        let html = views::render_html(&format!("{folder}/body"), context)
            .map_err(render_error("body.html"))?;
        Ok((subject, text, html))
    }

    /// The message from rendered parts: the subject made one line, the text tidied, the
    /// HTML trimmed.
    pub(super) fn from_parts(
        subject: &str,
        text: &str,
        html: &str,
        to: Recipient,
        message_id: MessageId,
    ) -> Self {
        Self::new(
            to,
            one_line(subject),
            tidy_text(text),
            html.trim().to_owned(),
            message_id,
        )
    }

    /// Were `text` and `html` encoded already (by [`super::RenderCache`])?
    #[cfg(test)]
    pub(super) fn is_pre_encoded(&self) -> bool {
        self.bodies.is_some()
    }

    /// With `text` and `html` already encoded as `bodies` (which must be exactly those two
    /// parts, encoded).
    pub(super) fn with_bodies(mut self, bodies: MimeBodies) -> Self {
        self.bodies = Some(bodies);
        self
    }

    pub fn with_list_unsubscribe(mut self, links: ListUnsubscribe) -> Self {
        self.list_unsubscribe = Some(links);
        self
    }

    /// The MIME message: From, To (with display name), Subject, Date, the given
    /// Message-ID, List-Unsubscribe(-Post) and a multipart/alternative text + HTML body.
    pub fn to_lettre(&self, from: &Mailbox) -> Result<Message, EmailError> {
        let address: lettre::Address =
            self.to
                .address
                .as_str()
                .parse()
                .map_err(|e: lettre::address::AddressError| EmailError::Address {
                    address: crate::telemetry::mask_email(self.to.address.as_str()),
                    reason: e.to_string(),
                })?;
        let name = self
            .to
            .name
            .as_deref()
            .map(one_line)
            .filter(|n| !n.is_empty());
        let mut builder = Message::builder()
            .from(from.clone())
            .to(Mailbox::new(name, address))
            .subject(one_line(&self.subject))
            .date_now()
            .message_id(Some(self.message_id.as_str().to_owned()));
        if let Some(links) = &self.list_unsubscribe {
            builder = builder.header(ListUnsubscribeHeader(links.header_value()));
            if links.one_click() {
                builder = builder.header(ListUnsubscribePost);
            }
        }
        let parts = match &self.bodies {
            Some(bodies) => {
                MultiPart::alternative_plain_html(bodies.text.clone(), bodies.html.clone())
            }
            None => MultiPart::alternative_plain_html(self.text.clone(), self.html.clone()),
        };
        Ok(builder.multipart(parts)?)
    }
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailMessage")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("message_id", &self.message_id)
            .field("list_unsubscribe", &self.list_unsubscribe)
            .finish_non_exhaustive()
    }
}

/// Collapses every control or line-separator character (CR, LF, TAB, NEL, U+2028/9, …)
/// and runs of whitespace into single spaces, and trims: what remains cannot start a new
/// header line.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Plain-text bodies: no leading blank lines (left by the template's doc comment), no
/// trailing spaces, at most one blank line in a row, one final newline.
fn tidy_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// `List-Unsubscribe` (RFC 2369); lettre has no typed header for it.
#[derive(Clone)]
struct ListUnsubscribeHeader(String);

impl Header for ListUnsubscribeHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        // HeaderValue::new encodes anything that is not printable ASCII, so even a value
        // that bypassed `ListUnsubscribe::new` could not inject a line.
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        if s.trim() == "List-Unsubscribe=One-Click" {
            Ok(Self)
        } else {
            Err(format!("unexpected List-Unsubscribe-Post value {s:?}").into())
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient(name: Option<&str>) -> Recipient {
        Recipient::new(EmailAddress::parse("anna.berg@example.com").unwrap(), name)
    }

    fn message(name: Option<&str>, subject: &str) -> EmailMessage {
        EmailMessage::new(
            recipient(name),
            subject.into(),
            "Hello\n".into(),
            "<p>Hello</p>".into(),
            MessageId::parse("<row-1@pulse.example.com>").unwrap(),
        )
    }

    fn raw(message: &EmailMessage) -> String {
        let from: Mailbox = "Procurement Pulse <pulse@example.com>".parse().unwrap();
        String::from_utf8(message.to_lettre(&from).unwrap().formatted()).unwrap()
    }

    /// The header block, one entry per (unfolded) header.
    fn header_lines(raw: &str) -> Vec<String> {
        let head = raw.split("\r\n\r\n").next().unwrap();
        let mut lines: Vec<String> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                lines.last_mut().unwrap().push_str(line);
            } else {
                lines.push(line.to_owned());
            }
        }
        lines
    }

    #[test]
    fn one_line_removes_every_line_break() {
        assert_eq!(
            one_line(" Evil\r\nBcc: x@example.com\t\u{2028}ok\u{85}\u{0} "),
            "Evil Bcc: x@example.com ok"
        );
        assert_eq!(one_line("\r\n"), "");
    }

    #[test]
    fn crlf_in_name_or_subject_adds_no_header() {
        let evil = "Evil\r\nBcc: attacker@example.com";
        let raw = raw(&message(Some(evil), evil));
        let headers = header_lines(&raw);
        assert!(
            !headers
                .iter()
                .any(|h| h.to_ascii_lowercase().starts_with("bcc")),
            "{raw}"
        );
        let subject = headers.iter().find(|h| h.starts_with("Subject:")).unwrap();
        assert_eq!(subject, "Subject: Evil Bcc: attacker@example.com");
        assert!(!raw.contains("\nBcc"), "{raw}");
    }

    #[test]
    fn builds_the_expected_headers() {
        let msg = message(
            Some("Ann \"A&B\" O'Neil"),
            "Tell procurement how we're doing",
        )
        .with_list_unsubscribe(
            ListUnsubscribe::new(
                "https://pulse.example.com/u/abc",
                Some("mailto:unsubscribe@example.com?subject=abc"),
            )
            .unwrap(),
        );
        let raw = raw(&msg);
        let headers = header_lines(&raw);
        let has = |line: &str| headers.iter().any(|h| h == line);
        assert!(has("Message-ID: <row-1@pulse.example.com>"), "{raw}");
        assert!(
            has("List-Unsubscribe: <https://pulse.example.com/u/abc>, <mailto:unsubscribe@example.com?subject=abc>"),
            "{raw}"
        );
        assert!(
            has("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
        assert!(
            has("From: \"Procurement Pulse\" <pulse@example.com>"),
            "{raw}"
        );
        assert!(
            // The quotes make lettre use an RFC 2047 encoded word for the name.
            headers
                .iter()
                .any(|h| h == "To: =?utf-8?b?QW5uICJBJkIiIE8nTmVpbA==?= <anna.berg@example.com>"),
            "{raw}"
        );
        assert!(headers.iter().any(|h| h.starts_with("Date: ")), "{raw}");
        assert!(
            headers
                .iter()
                .any(|h| h.starts_with("Content-Type: multipart/alternative")),
            "{raw}"
        );
    }

    #[test]
    fn plain_http_unsubscribe_gets_no_one_click_header() {
        let msg = message(None, "s").with_list_unsubscribe(
            ListUnsubscribe::new("http://127.0.0.1:8080/u/abc", None).unwrap(),
        );
        let raw = raw(&msg);
        assert!(raw.contains("List-Unsubscribe: <http://127.0.0.1:8080/u/abc>"));
        assert!(!raw.contains("List-Unsubscribe-Post"));
        assert!(ListUnsubscribe::new("javascript:alert(1)", None).is_err());
        assert!(ListUnsubscribe::new("https://x.example/u/a", Some("https://x")).is_err());
    }

    #[test]
    fn message_ids_are_validated_and_derived_from_the_base_url() {
        let id = MessageId::for_outbox("0190a4c2-7d3e", "https://pulse.example.com:8443/").unwrap();
        assert_eq!(id.as_str(), "<0190a4c2-7d3e@pulse.example.com>");
        assert_eq!(id.file_stem(), "0190a4c2-7d3e@pulse.example.com");
        let local = MessageId::for_outbox(7, "http://127.0.0.1:8080").unwrap();
        assert_eq!(local.as_str(), "<7@127.0.0.1>");
        let v6 = MessageId::for_outbox(8, "http://[::1]:8080").unwrap();
        assert_eq!(v6.as_str(), "<8@[::1]>");
        assert_eq!(v6.file_stem(), "8@___1_");
        for bad in [
            "a@b",
            "<a>",
            "<@b>",
            "<a@>",
            "<a b@c>",
            "<a@b\r\nBcc: x>",
            "<a<b@c>",
        ] {
            assert!(MessageId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn text_is_tidied() {
        assert_eq!(
            tidy_text("\n\n  \nHello,  \n\n\n\nbye\n\n"),
            "Hello,\n\nbye\n"
        );
    }
}
