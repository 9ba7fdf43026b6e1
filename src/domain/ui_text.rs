//! The respondent pages' own words (buttons, hints, the anonymity promise, error messages,
//! thank-you and "link can’t be used" pages) in every language Pulse speaks: English and
//! German. Survey texts come from the definition; these are the texts around them.
//!
//! Pick the table with [`ui_text`], passing the language the survey is shown in
//! (`SurveyDefinition::best_language`), so the page speaks one language. A language Pulse has
//! no table for gets English. Texts with `{placeholders}` are filled by the methods of
//! [`UiText`], never by templates.

use super::definition::Stage;

/// The fixed texts of the respondent pages in one language.
#[derive(Debug)]
pub struct UiText {
    /// The language of this table (`en`, `de`).
    pub language: &'static str,
    pub brand: &'static str,
    pub skip_link: &'static str,
    pub submit: &'static str,
    progress: &'static str,
    question_n: &'static str,
    pub optional: &'static str,
    pub not_applicable: &'static str,
    anonymity: &'static str,
    duration_one: &'static str,
    duration_many: &'static str,
    choose_up_to: &'static str,
    pub choose_any: &'static str,
    max_length_hint: &'static str,
    /// Before the page title when the form comes back with errors ("Error: …").
    pub error_title_prefix: &'static str,
    /// Read out (visually hidden) before each field's error message.
    pub error_prefix: &'static str,
    pub error_summary_heading: &'static str,
    pub error_summary_intro: &'static str,
    /// Above the published actions of earlier waves on the form ("you said, we did").
    pub said_did_heading: &'static str,
    /// At the top of the form opened from a score button in the email.
    one_click: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub thanks_close: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_body: &'static str,
    stages: [&'static str; 10],
    pub(crate) errors: ErrorText,
}

/// Error messages for answers (see `crate::domain::answers::AnswerError`).
#[derive(Debug)]
pub(crate) struct ErrorText {
    pub nps: &'static str,
    pub likert: &'static str,
    pub likert_or_na: &'static str,
    pub na_not_offered: &'static str,
    pub choice_missing: &'static str,
    pub choice_invalid: &'static str,
    pub options_missing: &'static str,
    pub options_invalid: &'static str,
    pub too_many: &'static str,
    pub duplicate: &'static str,
    pub text_missing: &'static str,
    pub too_long: &'static str,
    pub answered_twice: &'static str,
}

pub static EN: UiText = UiText {
    language: "en",
    brand: "Procurement Pulse",
    skip_link: "Skip to content",
    submit: "Send my answers",
    progress: "Question {n} of {total}",
    question_n: "Question {n}",
    optional: "(optional)",
    not_applicable: "Not applicable",
    anonymity: "Your answers are anonymous. Results are only ever shown for groups of at least {k} people, and nobody can see who said what.",
    duration_one: "It takes about 1 minute.",
    duration_many: "It takes about {minutes} minutes.",
    choose_up_to: "Choose up to {max}.",
    choose_any: "Choose all that apply.",
    max_length_hint: "Up to {max} characters.",
    error_title_prefix: "Error: ",
    error_prefix: "Error:",
    error_summary_heading: "Please check your answers",
    error_summary_intro: "Your answers have not been sent yet.",
    said_did_heading: "You said, we did",
    one_click: "You chose {score}. Nothing is sent yet: send it now with “{submit}”, or first add anything else you like below (the other questions are optional).",
    thanks_title: "Thank you",
    thanks_body: "Your answers have been received. Procurement only ever sees them together with the answers of other people.",
    thanks_close: "You can close this page now.",
    unavailable_title: "This survey is not available",
    unavailable_body: "This survey link can’t be used any more. If you think this is a mistake, contact your procurement team.",
    stages: [
        "Intake",
        "Approval",
        "Sourcing",
        "Contracting",
        "Ordering",
        "Delivery",
        "Invoicing & payment",
        "Supplier management",
        "Policy",
        "Communication",
    ],
    errors: ErrorText {
        nps: "Choose a number from 0 to 10.",
        likert: "Choose one answer from 1 to {scale}.",
        likert_or_na: "Choose one answer from 1 to {scale}, or “Not applicable”.",
        na_not_offered: "“Not applicable” is not offered for this question: choose one answer from 1 to {scale}.",
        choice_missing: "Choose one of the options.",
        choice_invalid: "Choose one of the options shown.",
        options_missing: "Choose at least one.",
        options_invalid: "Choose only from the options shown.",
        too_many: "Choose at most {max}. You chose {chosen}.",
        duplicate: "Choose each option only once.",
        text_missing: "Write your answer in the box.",
        too_long: "Shorten your answer to {max} characters or fewer. It has {length}.",
        answered_twice: "Give only one answer to this question.",
    },
};

pub static DE: UiText = UiText {
    language: "de",
    brand: "Procurement Pulse",
    skip_link: "Zum Inhalt springen",
    submit: "Antworten absenden",
    progress: "Frage {n} von {total}",
    question_n: "Frage {n}",
    optional: "(optional)",
    not_applicable: "Nicht zutreffend",
    anonymity: "Ihre Antworten sind anonym. Ergebnisse werden nur für Gruppen von mindestens {k} Personen gezeigt, und niemand kann sehen, wer was geantwortet hat.",
    duration_one: "Das dauert etwa 1 Minute.",
    duration_many: "Das dauert etwa {minutes} Minuten.",
    choose_up_to: "Wählen Sie bis zu {max} aus.",
    choose_any: "Wählen Sie alles Zutreffende aus.",
    max_length_hint: "Bis zu {max} Zeichen.",
    error_title_prefix: "Fehler: ",
    error_prefix: "Fehler:",
    error_summary_heading: "Bitte prüfen Sie Ihre Antworten",
    error_summary_intro: "Ihre Antworten wurden noch nicht gesendet.",
    said_did_heading: "Ihr Feedback – unsere Maßnahmen",
    one_click: "Sie haben {score} gewählt. Noch ist nichts gesendet: Senden Sie es gleich mit „{submit}“ ab, oder ergänzen Sie vorher unten, was Sie möchten (die übrigen Fragen sind freiwillig).",
    thanks_title: "Vielen Dank",
    thanks_body: "Ihre Antworten sind angekommen. Der Einkauf sieht sie immer nur zusammen mit den Antworten anderer Personen.",
    thanks_close: "Sie können diese Seite jetzt schließen.",
    unavailable_title: "Diese Umfrage ist nicht verfügbar",
    unavailable_body: "Dieser Umfragelink kann nicht mehr verwendet werden. Wenn Sie glauben, dass das ein Fehler ist, wenden Sie sich an Ihr Einkaufsteam.",
    stages: [
        "Bedarfsmeldung",
        "Freigabe",
        "Angebote und Ausschreibung",
        "Verträge",
        "Bestellung",
        "Lieferung",
        "Rechnung und Zahlung",
        "Lieferantenmanagement",
        "Regeln und Richtlinien",
        "Kommunikation",
    ],
    errors: ErrorText {
        nps: "Wählen Sie eine Zahl von 0 bis 10.",
        likert: "Wählen Sie eine Antwort von 1 bis {scale}.",
        likert_or_na: "Wählen Sie eine Antwort von 1 bis {scale} oder „Nicht zutreffend“.",
        na_not_offered: "„Nicht zutreffend“ gibt es bei dieser Frage nicht: Wählen Sie eine Antwort von 1 bis {scale}.",
        choice_missing: "Wählen Sie eine der Möglichkeiten.",
        choice_invalid: "Wählen Sie eine der angezeigten Möglichkeiten.",
        options_missing: "Wählen Sie mindestens einen Punkt aus.",
        options_invalid: "Wählen Sie nur aus den angezeigten Punkten.",
        too_many: "Wählen Sie höchstens {max} aus. Sie haben {chosen} gewählt.",
        duplicate: "Wählen Sie jeden Punkt nur einmal.",
        text_missing: "Schreiben Sie Ihre Antwort in das Feld.",
        too_long: "Kürzen Sie Ihre Antwort auf höchstens {max} Zeichen. Sie hat {length}.",
        answered_twice: "Geben Sie bei dieser Frage nur eine Antwort.",
    },
};

/// The languages Pulse has texts for, English (the fallback) first.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

/// The texts for `language` (`de`, `de-CH`, `DE`…); English for any language Pulse has no
/// texts for.
pub fn ui_text(language: &str) -> &'static UiText {
    let primary = language.split(['-', '_']).next().unwrap_or_default().trim();
    if primary.eq_ignore_ascii_case("de") {
        &DE
    } else {
        &EN
    }
}

/// The first language of an `Accept-Language` header Pulse has texts for (by the header's
/// q-values), else English. For pages that must not depend on who asked, such as the
/// "link can’t be used" page: use the browser's language there, never the stakeholder's, so
/// an unknown link and a used one look exactly alike.
pub fn preferred_language(accept_language: Option<&str>) -> &'static str {
    let mut best: Option<(f32, &'static str)> = None;
    for item in accept_language.unwrap_or_default().split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if tag.is_empty() || tag == "*" || q <= 0.0 {
            continue;
        }
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(language) = LANGUAGES.iter().find(|l| l.eq_ignore_ascii_case(primary)) else {
            continue;
        };
        // The first of equal q-values wins, as the header lists them by preference.
        if best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, language));
        }
    }
    best.map_or(EN.language, |(_, language)| language)
}

/// `template` with each `{name}` replaced by its value.
pub(crate) fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = template.to_string();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

impl UiText {
    /// "Question 3 of 11".
    pub fn progress(&self, n: usize, total: usize) -> String {
        fill(self.progress, &[("n", &n), ("total", &total)])
    }

    /// "Question 3" (before an error in the error summary).
    pub fn question_n(&self, n: usize) -> String {
        fill(self.question_n, &[("n", &n)])
    }

    /// The anonymity promise for a wave's threshold `k`.
    pub fn anonymity(&self, k: i32) -> String {
        fill(self.anonymity, &[("k", &k)])
    }

    /// "You chose 7. Nothing is sent yet: …" — the line at the top of the form opened from
    /// a score button in the email.
    pub fn one_click(&self, score: u8) -> String {
        fill(
            self.one_click,
            &[("score", &score), ("submit", &self.submit)],
        )
    }

    /// "It takes about 2 minutes."
    pub fn duration(&self, minutes: u32) -> String {
        if minutes == 1 {
            self.duration_one.to_string()
        } else {
            fill(self.duration_many, &[("minutes", &minutes)])
        }
    }

    /// The hint of a pain-point question: "Choose up to 3." or "Choose all that apply.".
    pub fn choice_hint(&self, max_choices: Option<u32>) -> String {
        match max_choices {
            Some(max) => fill(self.choose_up_to, &[("max", &max)]),
            None => self.choose_any.to_string(),
        }
    }

    /// "Up to 1000 characters."
    pub fn max_length_hint(&self, max: u32) -> String {
        fill(self.max_length_hint, &[("max", &max)])
    }

    /// The sub-heading of a procurement stage among pain points.
    pub fn stage(&self, stage: Stage) -> &'static str {
        let index = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
        self.stages[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_fall_back_to_english() {
        assert_eq!(ui_text("de").language, "de");
        assert_eq!(ui_text("de-CH").language, "de");
        assert_eq!(ui_text("DE").language, "de");
        assert_eq!(ui_text("fr").language, "en");
        assert_eq!(ui_text("").language, "en");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(EN.progress(3, 11), "Question 3 of 11");
        assert_eq!(DE.progress(3, 11), "Frage 3 von 11");
        assert!(EN.anonymity(5).contains("at least 5 people"));
        assert!(DE.anonymity(7).contains("mindestens 7 Personen"));
        assert_eq!(EN.duration(1), "It takes about 1 minute.");
        assert_eq!(DE.duration(2), "Das dauert etwa 2 Minuten.");
        assert_eq!(EN.choice_hint(Some(3)), "Choose up to 3.");
        assert_eq!(EN.choice_hint(None), "Choose all that apply.");
        assert_eq!(DE.max_length_hint(500), "Bis zu 500 Zeichen.");
        assert!(EN
            .one_click(7)
            .starts_with("You chose 7. Nothing is sent yet"));
        assert!(EN
            .one_click(0)
            .contains("send it now with “Send my answers”"));
        assert!(DE.one_click(10).starts_with("Sie haben 10 gewählt."));
        assert!(DE.one_click(10).contains("mit „Antworten absenden“ ab"));
    }

    #[test]
    fn every_stage_has_a_label_in_every_language() {
        for text in [&EN, &DE] {
            for stage in Stage::ALL {
                assert!(!text.stage(stage).is_empty());
            }
        }
        for stage in Stage::ALL {
            assert_eq!(EN.stage(stage), stage.label());
        }
        assert_eq!(DE.stage(Stage::InvoicingPayment), "Rechnung und Zahlung");
    }

    #[test]
    fn accept_language_picks_a_language_we_speak() {
        assert_eq!(preferred_language(None), "en");
        assert_eq!(preferred_language(Some("de-CH,de;q=0.9,en;q=0.8")), "de");
        assert_eq!(preferred_language(Some("fr-FR,fr;q=0.9,de;q=0.5")), "de");
        assert_eq!(preferred_language(Some("fr, en;q=0.3, de;q=0.4")), "de");
        assert_eq!(preferred_language(Some("en-GB, de")), "en");
        assert_eq!(preferred_language(Some("fr")), "en");
        assert_eq!(preferred_language(Some("de;q=0, en")), "en");
        assert_eq!(preferred_language(Some("garbage;;q=x,,")), "en");
    }
}
