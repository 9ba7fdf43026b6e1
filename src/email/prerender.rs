//! [`RenderCache`]: a wave's mails rendered and MIME-encoded once per distinct shared
//! content, the personal parts filled in per recipient.
//!
//! The mails of a wave differ only in a few *personal* fields (the name, the survey link,
//! the unsubscribe link: [`EmailTemplate::personal_fields`]). The cache renders each
//! template once with a placeholder in each personal field, finishes the three parts as
//! every mail is finished (one-line subject, tidied text, trimmed HTML), splits them at the
//! placeholders and encodes the pieces for MIME (CRLF line ends; quoted-printable). Each
//! mail is then written by putting the recipient's values between the pieces — HTML-escaped
//! in the HTML part exactly as the template registry escapes them, unchanged in the subject
//! and the text part; in the quoted-printable bodies each value is encoded on its own,
//! between soft line breaks. Subject, text and HTML are the very text a full rendering
//! gives; the bodies decode to exactly that text, with the transfer encoding lettre would
//! choose for it (7bit when the text allows, else quoted-printable).
//!
//! The key of a rendering is the template folder and the whole context with placeholders
//! (as JSON): every other field — the title, the dates, k, whether there is a name, any
//! field a template gains later — is part of the key, so it can never be filled in wrongly.
//! A personal field must only be printed (`{{name}}`) or tested (`{{#if name}}`); the first
//! mail of each key is also rendered in full and compared, and a template that does
//! anything else with a personal field (a key whose comparison fails) is rendered in full
//! for every mail. So is a mail whose personal values are not *plain* (empty, or with line
//! breaks, control characters, tabs, doubled or outer spaces): finishing such text is not
//! the same as finishing the pieces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use email_encoding::body::Encoding;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::Body;
use serde_json::Value;

use super::locale::MailLanguage;
use super::message::{EmailError, EmailMessage, MessageId, MimeBodies, Recipient};
use super::templates::EmailTemplate;

/// Marks a personal field in a rendering: `\u{FDD0}slot<i>\u{FDD0}` (a noncharacter that
/// neither escaping nor a template changes, and no context carries).
const MARK: char = '\u{FDD0}';

/// Distinct renderings kept at most (each wave has a few: kind × language × with or
/// without a name); the cache starts over when full.
const MAX_ENTRIES: usize = 512;

/// Quoted-printable lines of the pieces and values: one short of the limit of 76, so the
/// soft line break between a piece and a value always fits.
const QP_LINE: usize = 75;

/// Renderings by template folder and shared context. Cheap to share (`Arc` inside).
#[derive(Default)]
pub struct RenderCache {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

// Entries live behind an `Arc`, a few per wave: the size of the small variant is no cost.
#[allow(clippy::large_enum_variant)]
enum Entry {
    /// The finished parts split at the personal fields.
    Split {
        subject: Pieces,
        text: Pieces,
        html: Pieces,
        text_mime: MimePieces,
        html_mime: MimePieces,
    },
    /// The template does more with a personal field than print it: render each mail in full.
    Whole,
}

/// A rendering split at its placeholders: `literal, slot, literal, slot, …, literal`.
struct Pieces {
    literals: Vec<String>,
    slots: Vec<usize>,
}

impl Pieces {
    fn split(rendered: &str) -> Option<Self> {
        let mut literals = Vec::new();
        let mut slots = Vec::new();
        let mut rest = rendered;
        while let Some(start) = rest.find(MARK) {
            let after = &rest[start + MARK.len_utf8()..];
            let end = after.find(MARK)?;
            let slot = after[..end].strip_prefix("slot")?.parse().ok()?;
            literals.push(rest[..start].to_owned());
            slots.push(slot);
            rest = &after[end + MARK.len_utf8()..];
        }
        literals.push(rest.to_owned());
        Some(Self { literals, slots })
    }

    fn fill(&self, values: &[String]) -> String {
        fill(&self.literals, &self.slots, values)
    }
}

fn fill(literals: &[String], slots: &[usize], values: &[String]) -> String {
    let len = literals.iter().map(String::len).sum::<usize>()
        + slots.iter().map(|&s| values[s].len()).sum::<usize>();
    let mut out = String::with_capacity(len);
    for (literal, slot) in literals.iter().zip(slots) {
        out.push_str(literal);
        out.push_str(&values[*slot]);
    }
    if let Some(last) = literals.last() {
        out.push_str(last);
    }
    out
}

/// The literals of a finished part, ready for a MIME body.
struct MimePieces {
    /// With CRLF line ends: a 7bit body once filled in.
    crlf: Vec<String>,
    /// With CRLF line ends, quoted-printable encoded each on its own.
    qp: Vec<String>,
}

impl MimePieces {
    fn new(pieces: &Pieces) -> Self {
        let crlf: Vec<String> = pieces.literals.iter().map(|l| crlf(l)).collect();
        let qp = crlf.iter().map(|l| quoted_printable(l)).collect();
        Self { crlf, qp }
    }

    /// The body of `filled` (`pieces` filled with `values`, which are plain), encoded as
    /// lettre encodes a body: 7bit when the text allows, else quoted-printable; `None` for
    /// base64 (text that is mostly not ASCII), which is left to lettre.
    fn body(&self, pieces: &Pieces, filled: &str, values: &[String]) -> Option<Body> {
        match Encoding::choose(filled, false) {
            Encoding::SevenBit => Some(Body::dangerous_pre_encoded(
                fill(&self.crlf, &pieces.slots, values).into_bytes(),
                ContentTransferEncoding::SevenBit,
            )),
            Encoding::QuotedPrintable => {
                let encoded: Vec<String> = values.iter().map(|v| quoted_printable(v)).collect();
                let mut out =
                    String::with_capacity(self.qp.iter().map(String::len).sum::<usize>() + 256);
                for (literal, slot) in self.qp.iter().zip(&pieces.slots) {
                    push_qp(&mut out, literal);
                    push_qp(&mut out, &encoded[*slot]);
                }
                if let Some(last) = self.qp.last() {
                    push_qp(&mut out, last);
                }
                Some(Body::dangerous_pre_encoded(
                    out.into_bytes(),
                    ContentTransferEncoding::QuotedPrintable,
                ))
            }
            _ => None,
        }
    }
}

/// Appends an encoded chunk, after a soft line break unless a line just ended.
fn push_qp(out: &mut String, chunk: &str) {
    if chunk.is_empty() {
        return;
    }
    if !out.is_empty() && !out.ends_with("\r\n") {
        out.push_str("=\r\n");
    }
    out.push_str(chunk);
}

fn quoted_printable(text: &str) -> String {
    quoted_printable::encode_with_options(
        text,
        quoted_printable::Options::default()
            .line_length_limit(QP_LINE)
            .input_mode(quoted_printable::InputMode::Text),
    )
}

/// Line ends as CRLF (as lettre writes text bodies).
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// Can this value be put between finished pieces? Non-empty, no line breaks, control
/// characters or whitespace other than single inner spaces.
fn plain(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.contains("  ")
        && !value
            .chars()
            .any(|c| c.is_control() || (c.is_whitespace() && c != ' ') || c == MARK)
}

impl RenderCache {
    /// Exactly what `context.render_in(language, to, message_id)` gives (the bodies
    /// encoded already).
    pub fn render<T: EmailTemplate>(
        &self,
        context: &T,
        language: MailLanguage,
        to: Recipient,
        message_id: MessageId,
    ) -> Result<EmailMessage, EmailError> {
        let personal = context.personal_fields();
        let (folder, language) = EmailMessage::folder(context.template_name(), language);
        let mut shared = EmailMessage::context(&folder, context, language)?;
        // Each personal string field gets its placeholder; its value is kept aside.
        let mut values = Vec::with_capacity(personal.len());
        if let Value::Object(map) = &mut shared {
            for (slot, field) in personal.iter().enumerate() {
                match map.get_mut(*field) {
                    Some(Value::String(value)) => {
                        values.push(std::mem::replace(value, placeholder(slot)))
                    }
                    _ => values.push(String::new()),
                }
            }
        }
        if personal.is_empty() {
            return EmailMessage::from_context(&folder, &shared, to, message_id);
        }
        let key = format!("{folder}\n{shared}");
        let entry = match self.lookup(&key) {
            Some(entry) => entry,
            None => self.prepare(key, &folder, &shared)?,
        };
        let Entry::Split {
            subject,
            text,
            html,
            text_mime,
            html_mime,
        } = &*entry
        else {
            return context.render_in(language, to, message_id);
        };
        // Placeholders that stayed (a field that was null) are filled with nothing, as in
        // the sentinel rendering they were never there; only values in use must be plain.
        let used = |slot: usize| {
            subject.slots.contains(&slot)
                || text.slots.contains(&slot)
                || html.slots.contains(&slot)
        };
        if !values
            .iter()
            .enumerate()
            .all(|(slot, value)| !used(slot) || plain(value))
        {
            return context.render_in(language, to, message_id);
        }
        let escaped: Vec<String> = values.iter().map(|v| handlebars::html_escape(v)).collect();
        let (subject, text_filled, html_filled) = (
            subject.fill(&values),
            text.fill(&values),
            html.fill(&escaped),
        );
        let bodies = match (
            text_mime.body(text, &text_filled, &values),
            html_mime.body(html, &html_filled, &escaped),
        ) {
            (Some(text), Some(html)) => Some(MimeBodies { text, html }),
            _ => None,
        };
        let message = EmailMessage::new(to, subject, text_filled, html_filled, message_id);
        Ok(match bodies {
            Some(bodies) => message.with_bodies(bodies),
            None => message,
        })
    }

    fn lookup(&self, key: &str) -> Option<Arc<Entry>> {
        self.lock().get(key).cloned()
    }

    /// Renders the shared context with its placeholders, finishes and splits it, and checks
    /// the split against a full rendering ([`Self::agrees`]).
    fn prepare(&self, key: String, folder: &str, shared: &Value) -> Result<Arc<Entry>, EmailError> {
        let finished = EmailMessage::from_context(folder, shared, dummy_recipient()?, dummy_id()?)?;
        let split = match (
            Pieces::split(&finished.subject),
            Pieces::split(&finished.text),
            Pieces::split(&finished.html),
        ) {
            (Some(subject), Some(text), Some(html)) => Some((subject, text, html)),
            _ => None,
        };
        let entry = match split {
            Some((subject, text, html))
                if Self::agrees(&subject, &text, &html, folder, shared)? =>
            {
                Entry::Split {
                    text_mime: MimePieces::new(&text),
                    html_mime: MimePieces::new(&html),
                    subject,
                    text,
                    html,
                }
            }
            _ => {
                tracing::warn!(
                    template = folder,
                    "an email template does more with a personal field than print it; its mails are rendered one by one"
                );
                Entry::Whole
            }
        };
        let entry = Arc::new(entry);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, entry.clone());
        Ok(entry)
    }

    /// Does a mail filled in equal its full rendering? Checked with made-up plain values
    /// that HTML escaping changes, in place of the placeholders.
    fn agrees(
        subject: &Pieces,
        text: &Pieces,
        html: &Pieces,
        folder: &str,
        shared: &Value,
    ) -> Result<bool, EmailError> {
        let mut probe = shared.clone();
        let mut values = Vec::new();
        if let Value::Object(map) = &mut probe {
            for value in map.values_mut() {
                if let Value::String(text) = value {
                    if let Some(slot) = text
                        .strip_prefix(MARK)
                        .and_then(|t| t.strip_suffix(MARK))
                        .and_then(|t| t.strip_prefix("slot"))
                        .and_then(|t| t.parse::<usize>().ok())
                    {
                        if values.len() <= slot {
                            values.resize(slot + 1, String::new());
                        }
                        values[slot] = format!("Probe {slot} <Ä&\"'=`>");
                        *text = values[slot].clone();
                    }
                }
            }
        }
        let full = EmailMessage::from_context(folder, &probe, dummy_recipient()?, dummy_id()?)?;
        let escaped: Vec<String> = values.iter().map(|v| handlebars::html_escape(v)).collect();
        let in_range = |pieces: &Pieces| pieces.slots.iter().all(|&s| s < values.len());
        Ok(in_range(subject)
            && in_range(text)
            && in_range(html)
            && subject.fill(&values) == full.subject
            && text.fill(&values) == full.text
            && html.fill(&escaped) == full.html)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn placeholder(slot: usize) -> String {
    format!("{MARK}slot{slot}{MARK}")
}

/// For the renderings made only to be split or compared (their recipient and Message-ID
/// are not used).
fn dummy_recipient() -> Result<Recipient, EmailError> {
    let address = crate::domain::EmailAddress::parse("render@pulse.invalid")
        .map_err(|e| EmailError::MessageId(e.to_string()))?;
    Ok(Recipient::new(address, None))
}

fn dummy_id() -> Result<MessageId, EmailError> {
    MessageId::parse("<render@pulse.invalid>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;
    use crate::email::{AnsweredEmail, FirstQuestion, SurveyEmail, SurveyEmailKind};

    const NAMES: [Option<&str>; 5] = [
        None,
        Some("Anna"),
        Some("Zoë Müller-Łukasiewicz"),
        Some("<b>Ann</b> \"A&B\" O'Neil =`x`"),
        Some("Line\r\nBreak {{name}}"),
    ];

    fn to(name: Option<&str>) -> Recipient {
        Recipient::new(EmailAddress::parse("anna@example.com").unwrap(), name)
    }

    fn id(n: usize) -> MessageId {
        MessageId::parse(&format!("<{n}@pulse.example.com>")).unwrap()
    }

    /// The same message: the same parts, and MIME bodies that decode to the same text
    /// with the same transfer encoding, in lines of at most 76 characters.
    fn same(cached: &EmailMessage, full: &EmailMessage) {
        assert_eq!(cached.subject, full.subject);
        assert_eq!(cached.text, full.text);
        assert_eq!(cached.html, full.html);
        assert_eq!(cached.message_id, full.message_id);
        assert_eq!(cached.to, full.to);
        let from: lettre::message::Mailbox = "Pulse <pulse@example.com>".parse().unwrap();
        let raw = |m: &EmailMessage| m.to_lettre(&from).unwrap().formatted();
        let (cached_raw, full_raw) = (raw(cached), raw(full));
        let parse = |raw: &[u8]| {
            let message = mail_parser::MessageParser::default().parse(raw).unwrap();
            (
                message.body_text(0).unwrap().into_owned(),
                message.body_html(0).unwrap().into_owned(),
            )
        };
        assert_eq!(parse(&cached_raw), parse(&full_raw));
        let encodings = |raw: &[u8]| {
            String::from_utf8_lossy(raw)
                .lines()
                .filter(|l| l.starts_with("Content-Transfer-Encoding"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(encodings(&cached_raw), encodings(&full_raw));
        for line in String::from_utf8(cached_raw).unwrap().split("\r\n") {
            assert!(line.len() <= 76, "{line:?}");
        }
    }

    /// Every mail the cache writes is the text a full rendering gives: every template with
    /// personal fields, both languages, names with markup, quotes and line breaks, links
    /// with `&` and `=`, the first mail of a key (checked) and the later ones (filled in).
    #[test]
    fn filled_in_mails_equal_full_renderings() {
        let cache = RenderCache::default();
        let mut n = 0;
        for round in 0..2 {
            for language in MailLanguage::ALL {
                for kind in [SurveyEmailKind::Invitation, SurveyEmailKind::Reminder] {
                    for (i, name) in NAMES.iter().enumerate() {
                        n += 1;
                        let email = SurveyEmail {
                            kind,
                            name: name.map(str::to_owned),
                            survey_title: "How is procurement doing? <R&D>".into(),
                            survey_url: format!(
                                "https://pulse.example.com/s/tok{i}{round}?a=1&b=2"
                            ),
                            unsubscribe_url: format!("https://pulse.example.com/u/u{i}?lang=de"),
                            closes_on: language
                                .format_date(chrono::NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()),
                            estimated_minutes: 1 + round,
                            k: 5,
                            // Every other round with "you said, we did" (part of the key).
                            you_said_we_did: if round % 2 == 0 {
                                Vec::new()
                            } else {
                                vec![crate::actions::said_did::SaidDid {
                                    said: "You told us: approvals took <too> long.".into(),
                                    did: "We approve orders under €5,000 within one day.".into(),
                                    status: "done",
                                    status_label: "Done",
                                }]
                            },
                            // The other rounds with the first question's score buttons:
                            // eleven links that are the personal link with a suffix.
                            first_question: (round % 2 == 0).then(|| FirstQuestion {
                                key: "recommend".into(),
                                text: "How likely <is> it that you'd recommend \"us\"?".into(),
                                low: "Not at all likely".into(),
                                high: "Extremely & likely".into(),
                                scores: (0..=10).collect(),
                            }),
                        };
                        let cached = cache.render(&email, language, to(*name), id(n)).unwrap();
                        let full = email.render_in(language, to(*name), id(n)).unwrap();
                        same(&cached, &full);
                        if round % 2 == 0 {
                            // Each button carries this recipient's own link.
                            let link = handlebars::html_escape(&email.survey_url);
                            for score in 0..=10 {
                                let href = format!("href=\"{link}?recommend={score}\"");
                                assert_eq!(cached.html.matches(&href).count(), 1, "{href}");
                            }
                        }
                        // Plain names take the fast way; the others are rendered in full.
                        assert_eq!(cached.is_pre_encoded(), i != 4, "{name:?}");
                        let answered = AnsweredEmail {
                            name: name.map(str::to_owned),
                            survey_title: "Wie gut unterstützt Sie der Einkauf?".into(),
                            unsubscribe_url: format!("https://pulse.example.com/u/x{i}{round}"),
                            closes_on: "Freitag, 14. März 2025".into(),
                            k: 3 + round,
                        };
                        let cached = cache.render(&answered, language, to(*name), id(n)).unwrap();
                        let full = answered.render_in(language, to(*name), id(n)).unwrap();
                        same(&cached, &full);
                    }
                }
            }
        }
        // Keys: (kind, language, with or without a name, minutes, k) — not one per mail.
        let entries = cache.lock().len();
        assert!(entries <= 2 * 2 * 3 * 2 * 2, "{entries} renderings kept");
        assert!(cache
            .lock()
            .values()
            .all(|entry| matches!(**entry, Entry::Split { .. })));
    }

    #[test]
    fn pieces_split_at_placeholders_and_fill_in_order() {
        let rendered = format!("a{}b{}{}c", placeholder(1), placeholder(0), placeholder(1));
        let pieces = Pieces::split(&rendered).unwrap();
        assert_eq!(pieces.fill(&["X".into(), "Y".into()]), "aYbXYc");
        assert_eq!(Pieces::split("plain").unwrap().fill(&[]), "plain");
        // An unterminated mark is not split (the template is then rendered in full).
        assert!(Pieces::split(&format!("a{MARK}slot0")).is_none());
    }
}
