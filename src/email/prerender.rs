//! [`RenderCache`]: a wave's mails rendered once per distinct shared content, the
//! personal parts filled in per recipient.
//!
//! The mails of a wave differ only in a few *personal* fields (the name, the survey link,
//! the unsubscribe link: [`EmailTemplate::personal_fields`]). The cache renders each
//! template once with a placeholder in each personal field, splits the three parts at the
//! placeholders, and then writes each mail by putting the recipient's values between the
//! pieces — HTML-escaped in the HTML part exactly as the template registry escapes them,
//! unchanged in the subject and the text part — before the same finishing as a full
//! rendering (one-line subject, tidied text, trimmed HTML). The result is the very text a
//! full rendering gives.
//!
//! The key of a rendering is the template folder and the whole context with placeholders
//! (as JSON): every other field — the title, the dates, k, whether there is a name, any
//! field a template gains later — is part of the key, so it can never be filled in wrongly.
//! A personal field must only be printed (`{{name}}`) or tested (`{{#if name}}`); the first
//! mail of each key is also rendered in full and compared, and a template that does
//! anything else with a personal field (a key whose comparison fails) is rendered in full
//! for every mail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::locale::MailLanguage;
use super::message::{EmailError, EmailMessage, MessageId, Recipient};
use super::templates::EmailTemplate;

/// Marks a personal field in a rendering: `\u{FDD0}slot<i>\u{FDD0}` (a noncharacter that
/// neither escaping nor a template changes, and no context carries).
const MARK: char = '\u{FDD0}';

/// Distinct renderings kept at most (each wave has a few: kind × language × with or
/// without a name); the cache starts over when full.
const MAX_ENTRIES: usize = 512;

/// Renderings by template folder and shared context. Cheap to share (`Arc` inside).
#[derive(Default)]
pub struct RenderCache {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

enum Entry {
    /// The three parts split at the personal fields.
    Split {
        subject: Pieces,
        text: Pieces,
        html: Pieces,
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
        let len = self.literals.iter().map(String::len).sum::<usize>()
            + self.slots.iter().map(|&s| values[s].len()).sum::<usize>();
        let mut out = String::with_capacity(len);
        for (literal, slot) in self.literals.iter().zip(&self.slots) {
            out.push_str(literal);
            out.push_str(&values[*slot]);
        }
        if let Some(last) = self.literals.last() {
            out.push_str(last);
        }
        out
    }
}

impl RenderCache {
    /// Exactly what `context.render_in(language, to, message_id)` gives.
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
        let entry = self.lookup(&key).map_or_else(
            || self.prepare(key, &folder, &shared, context, language),
            Ok,
        )?;
        match &*entry {
            Entry::Whole => EmailMessage::from_template(
                context.template_name(),
                language,
                context,
                to,
                message_id,
            ),
            Entry::Split {
                subject,
                text,
                html,
            } => {
                let escaped: Vec<String> = values.iter().map(|v| handlebars::html_escape(v)).collect();
                Ok(EmailMessage::from_parts(
                    &subject.fill(&values),
                    &text.fill(&values),
                    &html.fill(&escaped),
                    to,
                    message_id,
                ))
            }
        }
    }

    fn lookup(&self, key: &str) -> Option<Arc<Entry>> {
        self.lock().get(key).cloned()
    }

    /// Renders the shared context with its placeholders, splits it, and checks the split
    /// against a full rendering of `context` (the mail at hand).
    fn prepare<T: EmailTemplate>(
        &self,
        key: String,
        folder: &str,
        shared: &Value,
        context: &T,
        language: MailLanguage,
    ) -> Result<Arc<Entry>, EmailError> {
        let (subject, text, html) = EmailMessage::render_parts(folder, shared)?;
        let split = match (
            Pieces::split(&subject),
            Pieces::split(&text),
            Pieces::split(&html),
        ) {
            (Some(subject), Some(text), Some(html)) => Entry::Split {
                subject,
                text,
                html,
            },
            _ => Entry::Whole,
        };
        let entry = match split {
            Entry::Split {
                subject,
                text,
                html,
            } => {
                // The check: the mail at hand, filled in, equals its full rendering.
                let full = EmailMessage::context(folder, context, language)?;
                let (full_subject, full_text, full_html) = EmailMessage::render_parts(folder, &full)?;
                let mut values = Vec::new();
                if let Value::Object(map) = &full {
                    for field in context.personal_fields() {
                        values.push(match map.get(*field) {
                            Some(Value::String(value)) => value.clone(),
                            _ => String::new(),
                        });
                    }
                }
                let escaped: Vec<String> =
                    values.iter().map(|v| handlebars::html_escape(v)).collect();
                if subject.fill(&values) == full_subject
                    && text.fill(&values) == full_text
                    && html.fill(&escaped) == full_html
                {
                    Entry::Split {
                        subject,
                        text,
                        html,
                    }
                } else {
                    tracing::warn!(
                        template = folder,
                        "an email template does more with a personal field than print it; its mails are rendered one by one"
                    );
                    Entry::Whole
                }
            }
            whole => whole,
        };
        let entry = Arc::new(entry);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, entry.clone());
        Ok(entry)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn placeholder(slot: usize) -> String {
    format!("{MARK}slot{slot}{MARK}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;
    use crate::email::{AnsweredEmail, SurveyEmail, SurveyEmailKind};

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

    fn same(cached: &EmailMessage, full: &EmailMessage) {
        assert_eq!(cached.subject, full.subject);
        assert_eq!(cached.text, full.text);
        assert_eq!(cached.html, full.html);
        assert_eq!(cached.message_id, full.message_id);
        assert_eq!(cached.to, full.to);
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
                            survey_url: format!("https://pulse.example.com/s/tok{i}{round}?a=1&b=2"),
                            unsubscribe_url: format!("https://pulse.example.com/u/u{i}?lang=de"),
                            closes_on: language
                                .format_date(chrono::NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()),
                            estimated_minutes: 1 + round,
                            k: 5,
                        };
                        let cached = cache.render(&email, language, to(*name), id(n)).unwrap();
                        let full = email.render_in(language, to(*name), id(n)).unwrap();
                        same(&cached, &full);
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
