//! Typed contexts for the email templates in `templates/email/`: the compiler makes sure
//! every field a template reads is there (the registries run in strict mode, so a missing
//! field would otherwise fail at send time).

use chrono::NaiveDate;
use serde::Serialize;

use super::locale::MailLanguage;
use super::message::{EmailError, EmailMessage, MessageId, Recipient};
use crate::domain::definition::{NpsQuestion, Question, SurveyDefinition};

/// A context that knows which template it belongs to.
pub trait EmailTemplate: Serialize + Sized {
    /// The folder below `templates/email/`.
    fn template_name(&self) -> &'static str;

    /// The fields that differ from one recipient to the next (the name, personal links):
    /// [`super::RenderCache`] renders the rest once and fills these in. Templates may only
    /// print them (`{{name}}`) or test them (`{{#if name}}`).
    fn personal_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// In English.
    fn render(&self, to: Recipient, message_id: MessageId) -> Result<EmailMessage, EmailError> {
        self.render_in(MailLanguage::En, to, message_id)
    }

    /// In `language` (English where the template has no such language).
    fn render_in(
        &self,
        language: MailLanguage,
        to: Recipient,
        message_id: MessageId,
    ) -> Result<EmailMessage, EmailError> {
        EmailMessage::from_template(self.template_name(), language, self, to, message_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyEmailKind {
    /// `templates/email/invitation/`: the first mail of a wave.
    Invitation,
    /// `templates/email/reminder/`: shorter, "still open until …".
    Reminder,
}

/// Context of `email/invitation` and `email/reminder`.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyEmail {
    #[serde(skip)]
    pub kind: SurveyEmailKind,
    /// The stakeholder's name for the greeting; `None` gives a neutral "Hello,".
    pub name: Option<String>,
    /// The survey's title, e.g. "How is procurement doing?".
    pub survey_title: String,
    /// The personal link `{base_url}/s/{token}`.
    pub survey_url: String,
    /// The personal unsubscribe page `{base_url}/u/{token}`.
    pub unsubscribe_url: String,
    /// The last day answers are accepted, already formatted (see [`format_date`]).
    pub closes_on: String,
    /// Minutes the survey takes, e.g. 2.
    pub estimated_minutes: u32,
    /// The wave's anonymity threshold: results only for groups of at least k people.
    pub k: u32,
    /// "You said, we did": published actions of the survey's earlier waves, in the mail's
    /// language (at most three; empty: no block).
    pub you_said_we_did: Vec<crate::actions::said_did::SaidDid>,
    /// The survey's first question as eleven score buttons, when it is an NPS question
    /// ([`FirstQuestion::of`]); `None`: no buttons.
    pub first_question: Option<FirstQuestion>,
}

/// A survey's first question, an NPS question, offered in the mail as eleven buttons
/// 0…10: each links to `{survey_url}?{key}={score}`, which opens the form with that score
/// chosen and stores nothing until the form is sent (`routes::survey`). The links are the
/// personal `survey_url` with a fixed suffix, so [`super::RenderCache`] fills them in like
/// the link itself.
#[derive(Debug, Clone, Serialize)]
pub struct FirstQuestion {
    /// The question's key: the name of each button link's query parameter.
    pub key: String,
    /// The question in the mail's language (else the survey's default language).
    pub text: String,
    /// The anchors under 0 and 10, e.g. "Not at all likely" and "Extremely likely".
    pub low: String,
    pub high: String,
    /// 0 to 10.
    pub scores: Vec<u8>,
}

impl FirstQuestion {
    /// The first question of `definition` in `language` (the mail's), if it is an NPS
    /// question; `None` for any other survey.
    pub fn of(definition: &SurveyDefinition, language: MailLanguage) -> Option<Self> {
        let Some(Question::Nps(question)) = definition.questions.first() else {
            return None;
        };
        let texts = definition.texts(Some(language.code()));
        Some(Self {
            key: question.key.clone(),
            text: texts.get(&question.text).to_string(),
            low: texts.get(&question.anchors.low).to_string(),
            high: texts.get(&question.anchors.high).to_string(),
            scores: NpsQuestion::VALUES.collect(),
        })
    }
}

impl EmailTemplate for SurveyEmail {
    fn template_name(&self) -> &'static str {
        match self.kind {
            SurveyEmailKind::Invitation => "invitation",
            SurveyEmailKind::Reminder => "reminder",
        }
    }

    fn personal_fields(&self) -> &'static [&'static str] {
        &["name", "survey_url", "unsubscribe_url"]
    }
}

/// Context of `email/answered` (German in `email/answered/de`): what someone
/// who already answered gets when an admin resends their invitation — "your answer is in,
/// thank you" — instead of a new link. The admin's side looks the same either way.
#[derive(Debug, Clone, Serialize)]
pub struct AnsweredEmail {
    /// The stakeholder's name for the greeting; `None` gives a neutral greeting.
    pub name: Option<String>,
    pub survey_title: String,
    /// The personal unsubscribe page `{base_url}/u/{token}`.
    pub unsubscribe_url: String,
    /// The last day of the wave, formatted (see [`format_date`]).
    pub closes_on: String,
    /// The wave's anonymity threshold.
    pub k: u32,
}

impl EmailTemplate for AnsweredEmail {
    fn template_name(&self) -> &'static str {
        "answered"
    }

    fn personal_fields(&self) -> &'static [&'static str] {
        &["name", "unsubscribe_url"]
    }
}

/// Context of `email/results_ready`, sent to procurement leads when a wave closes.
#[derive(Debug, Clone, Serialize)]
pub struct ResultsReadyEmail {
    /// The lead's name; `None` gives "Hello,".
    pub name: Option<String>,
    /// The wave, e.g. "Internal customer survey, spring 2025".
    pub wave_title: String,
    /// `{base_url}/results/{wave_id}` (or wherever the results page lives).
    pub results_url: String,
    /// How many people answered.
    pub response_count: u64,
    /// The day the wave closed, formatted (see [`format_date`]).
    pub closed_on: String,
}

impl EmailTemplate for ResultsReadyEmail {
    fn template_name(&self) -> &'static str {
        "results_ready"
    }
}

/// Context of `email/results_too_small`: sent to the leads instead of "results are ready"
/// when a wave closed with fewer answers than its anonymity threshold, so nothing can be
/// shown — the mail says so and why, rather than pointing at an empty page.
#[derive(Debug, Clone, Serialize)]
pub struct ResultsTooSmallEmail {
    pub name: Option<String>,
    pub wave_title: String,
    /// The wave's page (participation is shown there).
    pub wave_url: String,
    pub response_count: u64,
    /// The wave's anonymity threshold k.
    pub k: u32,
    pub closed_on: String,
}

impl EmailTemplate for ResultsTooSmallEmail {
    fn template_name(&self) -> &'static str {
        "results_too_small"
    }
}

/// "Friday 14 March 2025": unambiguous in every English-speaking country (see
/// [`MailLanguage::format_date`] for the other languages).
pub fn format_date(date: NaiveDate) -> String {
    MailLanguage::En.format_date(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    fn to(name: Option<&str>) -> Recipient {
        Recipient::new(EmailAddress::parse("anna@example.com").unwrap(), name)
    }

    fn id() -> MessageId {
        MessageId::parse("<1@pulse.example.com>").unwrap()
    }

    fn survey(kind: SurveyEmailKind, name: Option<&str>) -> SurveyEmail {
        SurveyEmail {
            kind,
            name: name.map(str::to_owned),
            survey_title: "How is procurement doing?".into(),
            survey_url: "https://pulse.example.com/s/tok?x=1&y=2".into(),
            unsubscribe_url: "https://pulse.example.com/u/tok".into(),
            closes_on: format_date(NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()),
            estimated_minutes: 2,
            k: 5,
            you_said_we_did: Vec::new(),
            first_question: None,
        }
    }

    #[test]
    fn dates_read_naturally() {
        assert_eq!(
            format_date(NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()),
            "Friday 14 March 2025"
        );
    }

    #[test]
    fn every_template_renders_all_three_parts() {
        for kind in [SurveyEmailKind::Invitation, SurveyEmailKind::Reminder] {
            for name in [Some("Anna"), None] {
                let msg = survey(kind, name).render(to(name), id()).unwrap();
                assert!(!msg.subject.is_empty());
                assert!(!msg.subject.contains('\n'));
                assert!(
                    msg.text.contains("https://pulse.example.com/s/tok?x=1&y=2"),
                    "{}",
                    msg.text
                );
                assert!(msg.text.contains("https://pulse.example.com/u/tok"));
                assert!(msg.text.contains("Friday 14 March 2025"), "{}", msg.text);
                assert!(
                    msg.html
                        .contains("https://pulse.example.com/s/tok?x&#x3D;1&amp;y&#x3D;2"),
                    "{}",
                    msg.html
                );
                assert!(msg.html.contains("https://pulse.example.com/u/tok"));
                assert!(msg.html.contains("Friday 14 March 2025"));
                assert!(msg.text.contains("at least 5 people"), "{}", msg.text);
                match name {
                    Some(n) => {
                        assert!(msg.text.starts_with(&format!("Hello {n},")), "{}", msg.text);
                        assert!(msg.html.contains(&format!("Hello {n},")));
                    }
                    None => {
                        assert!(msg.text.starts_with("Hello,"), "{}", msg.text);
                        assert!(msg.html.contains("Hello,"));
                    }
                }
                for part in [&msg.text, &msg.html] {
                    assert!(!part.contains("{{"), "unrendered placeholder: {part}");
                }
                let html = msg.html.to_ascii_lowercase();
                assert!(
                    !html.contains("<svg") && !html.contains("<script") && !html.contains("<img")
                );
            }
        }
        let results = ResultsReadyEmail {
            name: Some("Lena".into()),
            wave_title: "Internal customer survey, spring 2025".into(),
            results_url: "https://pulse.example.com/results/w1".into(),
            response_count: 42,
            closed_on: "Friday 14 March 2025".into(),
        }
        .render(to(Some("Lena")), id())
        .unwrap();
        assert!(results
            .subject
            .contains("Internal customer survey, spring 2025"));
        assert!(results
            .text
            .contains("https://pulse.example.com/results/w1"));
        assert!(results
            .html
            .contains("https://pulse.example.com/results/w1"));
        assert!(results.text.contains("42"));
    }

    #[test]
    fn every_template_speaks_german_with_the_right_plurals() {
        for kind in [SurveyEmailKind::Invitation, SurveyEmailKind::Reminder] {
            for minutes in [1, 2] {
                let mut ctx = survey(kind, Some("Anna"));
                ctx.estimated_minutes = minutes;
                ctx.closes_on =
                    MailLanguage::De.format_date(NaiveDate::from_ymd_opt(2025, 3, 14).unwrap());
                let msg = ctx
                    .render_in(MailLanguage::De, to(Some("Anna")), id())
                    .unwrap();
                assert!(msg.text.starts_with("Guten Tag Anna,"), "{}", msg.text);
                assert!(msg.text.contains("Freitag, 14. März 2025"), "{}", msg.text);
                let expected = if minutes == 1 {
                    "1 Minute"
                } else {
                    "2 Minuten"
                };
                assert!(msg.text.contains(expected), "{}", msg.text);
                assert!(!msg.text.contains("1 Minuten"), "{}", msg.text);
                assert!(msg.html.contains("<html lang=\"de\""));
                for part in [&msg.subject, &msg.text, &msg.html] {
                    assert!(!part.contains("{{"), "unrendered placeholder: {part}");
                    assert!(
                        !part.contains("Hello") && !part.contains("minutes"),
                        "{part}"
                    );
                }
                let html = msg.html.to_ascii_lowercase();
                assert!(!html.contains("<svg") && !html.contains("<script"));
                assert!(
                    html.contains("role=\"presentation\""),
                    "table layout for Outlook"
                );
            }
        }
        // English says "1 minute", never "1 minutes".
        let mut ctx = survey(SurveyEmailKind::Invitation, None);
        ctx.estimated_minutes = 1;
        let msg = ctx.render(to(None), id()).unwrap();
        assert!(
            msg.subject.starts_with("1 minute to tell"),
            "{}",
            msg.subject
        );
        assert!(!msg.text.contains("1 minutes"));
        for count in [1, 7] {
            let results = ResultsReadyEmail {
                name: None,
                wave_title: "Wie gut unterstützt Sie der Einkauf? — H1".into(),
                results_url: "https://pulse.example.com/results/w1".into(),
                response_count: count,
                closed_on: "Freitag, 14. März 2025".into(),
            }
            .render_in(MailLanguage::De, to(None), id())
            .unwrap();
            assert!(results.subject.starts_with("Ergebnisse verfügbar:"));
            let expected = if count == 1 {
                "mit 1 Antwort "
            } else {
                "mit 7 Antworten "
            };
            assert!(results.text.contains(expected), "{}", results.text);
        }
    }

    #[test]
    fn html_escapes_and_text_does_not() {
        let hostile = "<script>alert(1)</script> Ann \"A&B\" O'Neil";
        let mut ctx = survey(SurveyEmailKind::Invitation, Some(hostile));
        ctx.survey_title = hostile.into();
        let msg = ctx.render(to(Some(hostile)), id()).unwrap();
        assert!(!msg.html.contains("<script>"), "{}", msg.html);
        assert!(msg.html.contains("&lt;script&gt;"));
        assert!(
            msg.html.contains("Ann &quot;A&amp;B&quot; O&#x27;Neil"),
            "{}",
            msg.html
        );
        assert!(msg.text.contains(hostile), "{}", msg.text);
        let results = ResultsReadyEmail {
            name: None,
            wave_title: hostile.into(),
            results_url: "https://pulse.example.com/results/w1".into(),
            response_count: 7,
            closed_on: "Friday 14 March 2025".into(),
        }
        .render(to(None), id())
        .unwrap();
        assert_eq!(results.subject, format!("Results ready: {hostile}"));
        assert!(results.html.contains("&lt;script&gt;"));
    }

    fn shipped(slug: &str) -> SurveyDefinition {
        crate::definitions::load_built_in()
            .into_result()
            .unwrap()
            .into_iter()
            .find(|d| d.slug() == slug)
            .unwrap()
            .definition()
            .clone()
    }

    /// The first question's eleven buttons in the invitation and the reminder, in English
    /// and German, each linking to the personal link with its score; the text part asks the
    /// question without them. A survey whose first question is no NPS question has none.
    #[test]
    fn the_first_nps_question_is_eleven_buttons_in_both_mails_and_languages() {
        let definition = shipped("internal-customer");
        for language in MailLanguage::ALL {
            for kind in [SurveyEmailKind::Invitation, SurveyEmailKind::Reminder] {
                let mut email = survey(kind, Some("Anna"));
                email.survey_url = "https://pulse.example.com/s/tok".into();
                email.first_question = FirstQuestion::of(&definition, language);
                let msg = email.render_in(language, to(Some("Anna")), id()).unwrap();
                for score in 0..=10 {
                    let href =
                        format!(r#"href="https://pulse.example.com/s/tok?recommend={score}""#);
                    assert_eq!(msg.html.matches(&href).count(), 1, "{href}");
                    let button = format!(">{score}</a>");
                    assert_eq!(msg.html.matches(&button).count(), 1, "{button}");
                }
                assert!(!msg.text.contains("?recommend="));
                let (question, low, high) = match language {
                    MailLanguage::En => (
                        "How likely are you to recommend working with Procurement to a colleague?",
                        "0 = Not at all likely",
                        "10 = Extremely likely",
                    ),
                    MailLanguage::De => (
                        "Wie wahrscheinlich ist es, dass Sie die Zusammenarbeit mit dem Einkauf",
                        "0 = Überhaupt nicht wahrscheinlich",
                        "10 = Äußerst wahrscheinlich",
                    ),
                };
                for part in [&msg.html, &msg.text] {
                    assert!(part.contains(question), "{part}");
                    assert!(part.contains(low) && part.contains(high), "{part}");
                }
                // Inline styles and tables only: no classes, flex or grid, scripts or images.
                for forbidden in ["class=", "display:flex", "display:grid", "<script", "<img"] {
                    assert!(!msg.html.contains(forbidden), "{forbidden}");
                }
            }
        }
        let supplier =
            FirstQuestion::of(&shipped("supplier-customer-of-choice"), MailLanguage::En).unwrap();
        assert_eq!(supplier.key, "recommend_as_customer");
        assert_eq!(supplier.scores, (0..=10).collect::<Vec<u8>>());
        let mut likert_first = definition.clone();
        likert_first.questions.remove(0);
        assert!(FirstQuestion::of(&likert_first, MailLanguage::En).is_none());
        // Without a first question to offer, the mail is as before: no buttons.
        let msg = survey(SurveyEmailKind::Invitation, None)
            .render(to(None), id())
            .unwrap();
        assert!(!msg.html.contains("?recommend=") && !msg.html.contains("width=\"40\""));
        assert!(!msg.text.contains("It starts with this question"));
    }
}
