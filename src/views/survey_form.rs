//! View-models of the respondent pages: the survey form (also re-rendered with the
//! respondent's answers and a message per question after a failed submit), the thank-you
//! page and the one neutral "this link can’t be used" page. Each function returns the full
//! template context (strict mode: every key a template reads is present, `null` where
//! absent); render it with `crate::views::render_html(FORM_TEMPLATE, &context)`.
//!
//! Element ids, for links and `aria-describedby`: `q-<key>` is the question's first input
//! (the error summary links there), `q-<key>-hint`, `q-<key>-limit` and `q-<key>-error` its
//! help, limit and error texts, `q-<key>-<value>` its other radios (`na` for "not
//! applicable"), `q-<key>-o-<option>` its other options, `q-<key>-low`/`-high` the NPS
//! anchors, `q-<key>-stage-<stage>` the pain-point stage headings. Keys contain no `-`, so
//! ids cannot collide.
//!
//! The admin preview of a definition renders the very same context and template, adding
//! only a banner (`preview`) and hidden form fields (`hidden`).
//!
//! The form opened from a score button in the email ([`Required::FirstOnly`], see
//! `domain::answers`) is the same form with the score checked, a line at the top saying so
//! (`one_click`), every question after the first marked optional, and the hidden field
//! `answers::ONE_CLICK_FIELD`, so that its submit (and a re-rendering after a mistake) is
//! parsed the same way.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::domain::answers::{
    clean_text, first_question_score, submitted_values, Required, NOT_APPLICABLE, ONE_CLICK_FIELD,
};
use crate::domain::definition::{
    ChoiceQuestion, LikertQuestion, NpsQuestion, PainPointOption, PainPointsQuestion, Question,
    Stage, SurveyDefinition, TextQuestion, Texts,
};
use crate::domain::ui_text::{ui_text, UiText};

pub const FORM_TEMPLATE: &str = "pages/survey/form";
pub const THANKS_TEMPLATE: &str = "pages/survey/thanks";
pub const UNAVAILABLE_TEMPLATE: &str = "pages/survey/unavailable";

/// The id of a question's first input: what the error summary links to.
pub fn question_id(key: &str) -> String {
    format!("q-{key}")
}

/// The survey form in the definition's language that best matches `language` (the
/// stakeholder's), with UI texts in that language (English where Pulse has none).
///
/// `submitted` are the posted pairs (empty on the first GET): radios and boxes come back
/// checked and text comes back as typed. `errors` maps question keys to messages:
/// `AnswerErrors::messages_for(definition, language)` gives them in the page's language.
/// The form posts to `action_path`; `anonymity_k` is the wave's threshold, named in the
/// promise. `required`: [`Required::FirstOnly`] for the form opened from a score button in
/// the email (its score is among `submitted`), else [`Required::AsDefined`].
pub fn form_page(
    definition: &SurveyDefinition,
    language: Option<&str>,
    submitted: &[(String, String)],
    errors: &BTreeMap<String, String>,
    action_path: &str,
    anonymity_k: i32,
    required: Required,
) -> Value {
    let texts = definition.texts(language);
    let ui = ui_text(texts.language());
    let total = definition.questions.len();
    let mut questions = Vec::with_capacity(total);
    let mut error_list = Vec::new();
    for (index, question) in definition.questions.iter().enumerate() {
        let number = index + 1;
        let key = question.key();
        let error = errors.get(key).map(String::as_str);
        if let Some(message) = error {
            error_list.push(json!({
                "target": question_id(key),
                "message": format!("{}: {message}", ui.question_n(number)),
            }));
        }
        let values = submitted_values(submitted, key);
        let view = QuestionView {
            question,
            required: required.is_required(index, question),
            number,
            total,
            texts,
            ui,
            values: &values,
            error,
        };
        questions.push(view.to_json());
    }
    let survey_title = texts.get(&definition.title);
    let has_errors = !error_list.is_empty();
    let one_click = required == Required::FirstOnly;
    // "You chose 7 …" while the first question holds a score (the respondent may change it).
    let one_click_note = one_click
        .then(|| first_question_score(definition, submitted))
        .flatten()
        .map(|score| ui.one_click(score));
    let hidden: Vec<Value> = if one_click {
        vec![json!({ "name": ONE_CLICK_FIELD, "value": "1" })]
    } else {
        Vec::new()
    };
    let title = if has_errors {
        format!("{}{survey_title}", ui.error_title_prefix)
    } else {
        survey_title.to_string()
    };
    json!({
        "lang": texts.language(),
        "title": title,
        "ui": {
            "brand": ui.brand,
            "skip_link": ui.skip_link,
            "submit": ui.submit,
            "error_summary_heading": ui.error_summary_heading,
            "error_summary_intro": ui.error_summary_intro,
        },
        "survey_title": survey_title,
        "intro": texts.get(&definition.intro),
        "anonymity": ui.anonymity(anonymity_k),
        "duration": definition.estimated_minutes.map(|m| ui.duration(m)),
        // "You said, we did": published actions of earlier waves, set by the respondent
        // route (`crate::actions::said_did`); none in the admin preview.
        "you_said_we_did": [],
        "you_said_we_did_heading": ui.said_did_heading,
        "one_click": one_click_note,
        "action": action_path,
        "has_errors": has_errors,
        "error_list": error_list,
        "questions": questions,
        // Set by the admin preview (`routes::admin::surveys`): its banner, and the hidden
        // fields (the CSRF token) its form posts. Respondents get no banner, and a hidden
        // field only on the form opened from a score button in the email.
        "preview": null,
        "hidden": hidden,
    })
}

/// What a link's query (`?recommend=7`, a score button of the email) fills in: the first
/// question's score as a posted pair, and [`Required::FirstOnly`]; nothing and
/// [`Required::AsDefined`] for any other query (see `answers::first_question_score`).
pub fn chosen_by_link(
    definition: &SurveyDefinition,
    query: &[(String, String)],
) -> (Vec<(String, String)>, Required) {
    match (
        first_question_score(definition, query),
        definition.questions.first(),
    ) {
        (Some(score), Some(question)) => (
            vec![(question.key().to_string(), score.to_string())],
            Required::FirstOnly,
        ),
        _ => (Vec::new(), Required::AsDefined),
    }
}

/// The page after a successful submit (it needs no token, so it can sit behind a redirect),
/// in `language`: the language the form was shown in (`definition.best_language(..)`).
pub fn thanks_page(language: &str) -> Value {
    let ui = ui_text(language);
    json!({
        "lang": ui.language,
        "title": ui.thanks_title,
        "ui": { "brand": ui.brand, "skip_link": ui.skip_link },
        "heading": ui.thanks_title,
        "body": ui.thanks_body,
        "close": ui.thanks_close,
    })
}

/// The one page for every link that cannot be used (unknown, used, closed, cancelled): it
/// never says which. Pass the browser's language
/// (`ui_text::preferred_language(Accept-Language)`), never the stakeholder's, so that
/// nothing on the page depends on whether the link was known.
pub fn unavailable_page(language: &str) -> Value {
    let ui = ui_text(language);
    json!({
        "lang": ui.language,
        "title": ui.unavailable_title,
        "ui": { "brand": ui.brand, "skip_link": ui.skip_link },
        "heading": ui.unavailable_title,
        "body": ui.unavailable_body,
    })
}

/// How an input is shown.
#[derive(Clone, Copy)]
enum Control {
    /// A numbered point of an NPS or Likert scale (a tile).
    Point,
    /// "Not applicable" beside a Likert scale (a tile).
    NotApplicable,
    /// An option of a choice question.
    Radio,
    /// A pain point.
    Checkbox,
}

/// One question with what the respondent posted for it.
struct QuestionView<'a> {
    question: &'a Question,
    /// Must it be answered on this form (see [`Required`])?
    required: bool,
    number: usize,
    total: usize,
    texts: Texts<'a>,
    ui: &'static UiText,
    values: &'a [&'a str],
    error: Option<&'a str>,
}

impl QuestionView<'_> {
    fn key(&self) -> &str {
        self.question.key()
    }

    fn id(&self) -> String {
        question_id(self.key())
    }

    /// The id of the input at `index` in display order: the first is the question's id.
    fn input_id(&self, index: usize, suffix: &str) -> String {
        if index == 0 {
            self.id()
        } else {
            format!("{}-{suffix}", self.id())
        }
    }

    fn is_checked(&self, value: &str) -> bool {
        self.values.iter().any(|v| v.trim() == value)
    }

    /// A radio or checkbox.
    fn input(
        &self,
        control: Control,
        index: usize,
        value: &str,
        label: Option<&str>,
        describedby: Option<String>,
    ) -> Value {
        let (kind, suffix, number) = match control {
            Control::Point => ("radio", value.to_string(), Some(value)),
            Control::NotApplicable => ("radio", value.to_string(), None),
            Control::Radio => ("radio", format!("o-{value}"), None),
            Control::Checkbox => ("checkbox", format!("o-{value}"), None),
        };
        json!({
            "type": kind,
            "name": self.key(),
            "value": value,
            "id": self.input_id(index, &suffix),
            "number": number,
            "label": label,
            "checked": self.is_checked(value),
            "invalid": self.error.is_some(),
            "describedby": describedby,
        })
    }

    fn to_json(&self) -> Value {
        let id = self.id();
        let hint_id = format!("{id}-hint");
        let limit_id = format!("{id}-limit");
        let error_id = format!("{id}-error");
        let help = self.texts.get_opt(self.question.help());
        let has_limit = matches!(self.question, Question::PainPoints(_) | Question::Text(_));
        let described: Vec<&str> = [
            help.is_some().then_some(hint_id.as_str()),
            has_limit.then_some(limit_id.as_str()),
            self.error.is_some().then_some(error_id.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let kind = self.question.kind();
        let mut view = json!({
            "key": self.key(),
            "name": self.key(),
            "kind": kind.as_str(),
            "is_nps": matches!(self.question, Question::Nps(_)),
            "is_likert": matches!(self.question, Question::Likert(_)),
            "is_pain_points": matches!(self.question, Question::PainPoints(_)),
            "is_choice": matches!(self.question, Question::Choice(_)),
            "is_text": matches!(self.question, Question::Text(_)),
            "id": id,
            "number": self.number,
            "progress": self.ui.progress(self.number, self.total),
            "text": self.texts.get(self.question.text()),
            "optional": (!self.required).then_some(self.ui.optional),
            "help": help,
            "hint_id": hint_id,
            "limit_id": limit_id,
            "error": self.error,
            "invalid": self.error.is_some(),
            "error_id": error_id,
            "error_prefix": self.ui.error_prefix,
            "describedby": (!described.is_empty()).then(|| described.join(" ")),
        });
        let details = match self.question {
            Question::Nps(q) => self.nps(q),
            Question::Likert(q) => self.likert(q),
            Question::PainPoints(q) => self.pain_points(q),
            Question::Choice(q) => self.choice(q),
            Question::Text(q) => self.text(q),
        };
        if let (Value::Object(view), Value::Object(details)) = (&mut view, details) {
            view.extend(details);
        }
        view
    }

    fn nps(&self, q: &NpsQuestion) -> Value {
        let id = self.id();
        let low_id = format!("{id}-low");
        let high_id = format!("{id}-high");
        let last = *NpsQuestion::VALUES.end();
        let points: Vec<Value> = NpsQuestion::VALUES
            .enumerate()
            .map(|(index, n)| {
                let describedby = match n {
                    0 => Some(low_id.clone()),
                    n if n == last => Some(high_id.clone()),
                    _ => None,
                };
                self.input(Control::Point, index, &n.to_string(), None, describedby)
            })
            .collect();
        json!({
            "points": points,
            "low": self.texts.get(&q.anchors.low),
            "high": self.texts.get(&q.anchors.high),
            "low_id": low_id,
            "high_id": high_id,
        })
    }

    fn likert(&self, q: &LikertQuestion) -> Value {
        let points: Vec<Value> = q
            .point_labels(self.texts)
            .into_iter()
            .enumerate()
            .map(|(index, (point, label))| {
                self.input(Control::Point, index, &point.to_string(), label, None)
            })
            .collect();
        let not_applicable = q.allow_not_applicable.then(|| {
            self.input(
                Control::NotApplicable,
                points.len(),
                NOT_APPLICABLE,
                Some(self.ui.not_applicable),
                None,
            )
        });
        json!({
            "scale": q.scale,
            "points": points,
            "not_applicable": not_applicable,
        })
    }

    fn pain_points(&self, q: &PainPointsQuestion) -> Value {
        // Stages in the order they first appear; options keep their order within a stage.
        let mut groups: Vec<(Stage, Vec<&PainPointOption>)> = Vec::new();
        for option in &q.options {
            match groups.iter_mut().find(|(stage, _)| *stage == option.stage) {
                Some((_, options)) => options.push(option),
                None => groups.push((option.stage, vec![option])),
            }
        }
        let mut index = 0;
        let stages: Vec<Value> = groups
            .into_iter()
            .map(|(stage, options)| {
                let options: Vec<Value> = options
                    .into_iter()
                    .map(|option| {
                        let input = self.input(
                            Control::Checkbox,
                            index,
                            &option.key,
                            Some(self.texts.get(&option.label)),
                            None,
                        );
                        index += 1;
                        input
                    })
                    .collect();
                json!({
                    "stage": stage.as_str(),
                    "label": self.ui.stage(stage),
                    "heading_id": format!("{}-stage-{}", self.id(), stage.as_str()),
                    "options": options,
                })
            })
            .collect();
        json!({
            "stages": stages,
            "max_choices": q.max_choices,
            "limit_hint": self.ui.choice_hint(q.max_choices),
        })
    }

    fn choice(&self, q: &ChoiceQuestion) -> Value {
        let options: Vec<Value> = q
            .options
            .iter()
            .enumerate()
            .map(|(index, option)| {
                self.input(
                    Control::Radio,
                    index,
                    &option.key,
                    Some(self.texts.get(&option.label)),
                    None,
                )
            })
            .collect();
        json!({ "options": options })
    }

    fn text(&self, q: &TextQuestion) -> Value {
        // As typed (cleaned of control characters, not trimmed), so nothing is lost.
        let value = self
            .values
            .first()
            .map(|v| clean_text(v))
            .unwrap_or_default();
        json!({
            "value": value,
            "max_length": q.max_length,
            "limit_hint": self.ui.max_length_hint(q.max_length),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers;
    use crate::views::render_html;

    fn shipped() -> Vec<SurveyDefinition> {
        crate::definitions::load_built_in()
            .into_result()
            .unwrap()
            .into_iter()
            .map(|d| d.definition().clone())
            .collect()
    }

    fn shipped_one(slug: &str) -> SurveyDefinition {
        shipped().into_iter().find(|d| d.slug == slug).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn render(
        definition: &SurveyDefinition,
        language: Option<&str>,
        submitted: &[(String, String)],
    ) -> String {
        let errors = match answers::parse(definition, submitted) {
            Ok(_) => BTreeMap::new(),
            Err(errors) => errors.messages_for(definition, language),
        };
        let context = form_page(
            definition,
            language,
            submitted,
            &errors,
            "/s/abc",
            5,
            Required::AsDefined,
        );
        render_html(FORM_TEMPLATE, &context).unwrap()
    }

    /// The form as first shown (GET): nothing submitted, no errors.
    fn render_fresh(definition: &SurveyDefinition, language: Option<&str>) -> String {
        let context = form_page(
            definition,
            language,
            &[],
            &BTreeMap::new(),
            "/s/abc",
            5,
            Required::AsDefined,
        );
        render_html(FORM_TEMPLATE, &context).unwrap()
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn every_shipped_survey_renders_every_question_once_with_one_submit_button() {
        for definition in shipped() {
            for language in [None, Some("de"), Some("fr")] {
                let context = form_page(
                    &definition,
                    language,
                    &[],
                    &BTreeMap::new(),
                    "/s/tok",
                    5,
                    Required::AsDefined,
                );
                let page = render_html(FORM_TEMPLATE, &context).unwrap();
                let slug = &definition.slug;
                assert!(
                    page.contains(
                        r#"<form class="survey-form" id="survey-form" method="post" action="/s/tok" novalidate>"#
                    ),
                    "{slug}"
                );
                assert_eq!(count(&page, r#"type="submit""#), 1, "{slug}");
                assert_eq!(count(&page, "<button"), 1, "{slug}");
                assert!(!page.contains("<script"), "{slug}");
                assert!(!page.contains("style="), "the CSP allows no inline style");
                assert!(!page.contains("error-summary"), "{slug}");
                assert!(!page.contains("aria-invalid"), "{slug}");
                assert!(
                    page.contains("at least 5 people") || page.contains("mindestens 5 Personen")
                );
                let total = definition.questions.len();
                for (i, question) in definition.questions.iter().enumerate() {
                    let id = format!(r#"id="q-{}""#, question.key());
                    assert_eq!(count(&page, &id), 1, "{slug}: {id}");
                    let progress =
                        ui_text(definition.best_language(language)).progress(i + 1, total);
                    assert!(page.contains(&progress), "{slug}: {progress}");
                }
                // Every radio and checkbox sits inside its label; every id is unique.
                let ids: Vec<&str> = page
                    .split(r#" id=""#)
                    .skip(1)
                    .filter_map(|rest| rest.split('"').next())
                    .collect();
                let mut unique = ids.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(ids.len(), unique.len(), "{slug}: duplicate ids");
                // Every aria-describedby points at an element of the page.
                for list in page.split(r#"aria-describedby=""#).skip(1) {
                    let list = list.split('"').next().unwrap();
                    for target in list.split(' ') {
                        assert!(ids.contains(&target), "{slug}: {target} is not on the page");
                    }
                }
            }
        }
    }

    #[test]
    fn each_question_kind_has_its_accessible_markup() {
        let d = shipped_one("internal-customer");
        let page = render_fresh(&d, Some("en"));
        // NPS: fieldset + legend, radios 0-10 with visible numbers, anchors described.
        assert_eq!(
            count(&page, "<fieldset"),
            10,
            "every question but the text one"
        );
        assert_eq!(count(&page, "<legend"), 10);
        assert!(page.contains(
            r#"<input type="radio" id="q-recommend" name="recommend" value="0" aria-describedby="q-recommend-low"><span><span class="num">0</span></span>"#
        ), "{page}");
        assert!(
            page.contains(r#"id="q-recommend-10" name="recommend" value="10" aria-describedby="q-recommend-high">"#)
        );
        assert!(page.contains(r#"<span id="q-recommend-low">Not at all likely</span>"#));
        assert_eq!(count(&page, r#"name="recommend""#), 11);
        // Likert: points with labels; "not applicable" only where offered.
        assert!(page.contains(r#"<span class="num">1</span> <span>Strongly disagree</span>"#));
        assert!(page.contains(r#"id="q-alignment-na""#));
        assert!(!page.contains(r#"id="q-understanding_needs-na""#));
        assert_eq!(count(&page, "Not applicable"), 4);
        assert_eq!(count(&page, r#"name="ease""#), 5);
        // Help texts are tied to their fieldset.
        assert!(page.contains(r#"<fieldset aria-describedby="q-understanding_needs-hint">"#));
        // Pain points: checkboxes under a heading per stage, the limit as a hint.
        assert_eq!(count(&page, r#"type="checkbox" id="q-pain_points"#), 12);
        assert!(page
            .contains(r#"<fieldset aria-describedby="q-pain_points-hint q-pain_points-limit">"#));
        assert!(page.contains(r#"<p class="hint" id="q-pain_points-limit">Choose up to 3.</p>"#));
        assert!(page.contains(
            r#"<h3 class="stage-heading" id="q-pain_points-stage-invoicing_payment">Invoicing &amp; payment</h3>"#
        ));
        assert_eq!(count(&page, r#"class="stage-heading""#), 10);
        // The two ordering options share one heading.
        assert_eq!(count(&page, ">Ordering</h3>"), 1);
        // Choice: radios with labels.
        assert!(page.contains(
            r#"<input type="radio" id="q-frequency" name="frequency" value="weekly"> <span>Every week</span>"#
        ));
        // Text: a labelled textarea with maxlength and the limit in a hint.
        assert!(page.contains(r#"<label for="q-comment">"#));
        assert!(page.contains(
            r#"<textarea id="q-comment" name="comment" rows="5" maxlength="1000" aria-describedby="q-comment-hint q-comment-limit">"#
        ));
        assert!(page.contains("Up to 1000 characters."));
        assert!(page.contains("(optional)"));
        assert!(page.contains("Question 11 of 11"));
        assert!(page.contains("It takes about 2 minutes."));
    }

    #[test]
    fn german_for_de_and_de_ch_english_for_fr() {
        let d = shipped_one("internal-customer");
        for language in ["de", "de-CH"] {
            let page = render_fresh(&d, Some(language));
            assert!(page.contains(r#"<html lang="de">"#), "{language}");
            assert!(page.contains("Wie gut unterstützt Sie der Einkauf?"));
            assert!(page.contains("Antworten absenden"));
            assert!(page.contains("Frage 3 von 11"));
            assert!(page.contains("Nicht zutreffend"));
            assert!(page.contains("Wählen Sie bis zu 3 aus."));
            assert!(page.contains("Rechnung und Zahlung"));
            assert!(page.contains("Überhaupt nicht wahrscheinlich"));
            assert!(!page.contains("Send my answers"));
        }
        let page = render_fresh(&d, Some("fr"));
        assert!(page.contains(r#"<html lang="en">"#));
        assert!(page.contains("How is Procurement doing for you?"));
        assert!(page.contains("Send my answers"));
        // An English-only survey stays English for a German stakeholder: one language per page.
        let mut english_only = shipped_one("pulse-check");
        english_only.languages = vec!["en".into()];
        let page = render_fresh(&english_only, Some("de"));
        assert!(page.contains(r#"<html lang="en">"#));
        assert!(page.contains("Send my answers"));
        // pulse-check itself speaks German too.
        let page = render_fresh(&shipped_one("pulse-check"), Some("de"));
        assert!(page.contains("Kurzbefragung Einkauf"));
    }

    #[test]
    fn a_failed_submit_keeps_every_answer_and_ties_errors_to_fields() {
        let d = shipped_one("internal-customer");
        let submitted = form(&[
            ("_csrf", "x"),
            ("recommend", "11"),
            ("understanding_needs", "4"),
            ("alignment", "na"),
            ("communication", "2"),
            ("responsiveness", "5"),
            ("policy_clarity", "3"),
            ("partnership", "4"),
            ("pain_points", "approval_delays"),
            ("pain_points", "policy_unclear"),
            ("frequency", "monthly"),
            ("comment", "Line one\r\nLine two & more"),
        ]);
        let page = render(&d, Some("en"), &submitted);
        // Answers come back.
        assert!(page.contains(
            r#"id="q-understanding_needs-4" name="understanding_needs" value="4" checked>"#
        ));
        assert!(page.contains(r#"id="q-alignment-na" name="alignment" value="na" checked>"#));
        assert!(page
            .contains(r#"id="q-pain_points-o-approval_delays" name="pain_points" value="approval_delays" checked>"#));
        assert!(
            page.contains(r#"id="q-pain_points-o-policy_unclear" name="pain_points" value="policy_unclear" checked>"#)
        );
        assert!(!page.contains(
            r#"id="q-pain_points-o-slow_sourcing" name="pain_points" value="slow_sourcing" checked"#
        ));
        assert!(page
            .contains(r#"id="q-frequency-o-monthly" name="frequency" value="monthly" checked>"#));
        assert!(
            page.contains(">\nLine one\nLine two &amp; more</textarea>"),
            "{page}"
        );
        // No NPS value is checked: 11 was not one of them.
        assert!(!page.contains(r#"id="q-recommend-10" name="recommend" value="10" checked"#));
        // Two errors (recommend invalid, ease missing), summarised at the top and focused.
        assert!(page.contains("<title>Error: How is Procurement doing for you?</title>"));
        assert!(page.contains(
            r#"<div class="error-summary" tabindex="-1" autofocus aria-labelledby="error-summary-title">"#
        ));
        assert_eq!(count(&page, "autofocus"), 1);
        assert!(page.contains(
            r##"<li><a href="#q-recommend">Question 1: Choose a number from 0 to 10.</a></li>"##
        ));
        assert!(page.contains(
            r##"<li><a href="#q-ease">Question 6: Choose one answer from 1 to 5.</a></li>"##
        ));
        assert_eq!(count(&page, "<li><a href=\"#q-"), 2);
        assert!(page.find("error-summary").unwrap() < page.find("<h1>").unwrap());
        // Each error is tied to its field.
        assert!(page.contains(r#"<fieldset aria-describedby="q-recommend-error">"#));
        assert!(page.contains(
            r#"<p class="field-error" id="q-recommend-error"><span class="vh">Error:</span> Choose a number from 0 to 10.</p>"#
        ));
        assert_eq!(count(&page, r#"name="recommend" value"#), 11);
        assert_eq!(
            count(
                &page,
                r#"id="q-recommend-5" name="recommend" value="5" aria-invalid="true">"#
            ),
            1
        );
        assert_eq!(
            count(&page, r#"aria-invalid="true""#),
            11 + 5,
            "recommend and ease"
        );
        assert_eq!(count(&page, "question has-error"), 2);
    }

    #[test]
    fn a_script_in_a_comment_comes_back_escaped() {
        let d = shipped_one("internal-customer");
        let payload = r#"<script>alert("x")</script>"#;
        // recommend is missing, so the form comes back with the comment.
        let submitted = form(&[("comment", payload)]);
        let errors = answers::parse(&d, &submitted).unwrap_err();
        assert!(errors.get("comment").is_none());
        let page = render(&d, None, &submitted);
        assert!(
            page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</textarea>"),
            "{page}"
        );
        assert!(!page.contains("<script"));
        // Stored verbatim once it is valid.
        let mut complete = form(&[
            ("recommend", "8"),
            ("understanding_needs", "4"),
            ("alignment", "4"),
            ("communication", "4"),
            ("responsiveness", "4"),
            ("ease", "4"),
            ("policy_clarity", "4"),
            ("partnership", "4"),
            ("frequency", "weekly"),
        ]);
        complete.push(("comment".into(), payload.into()));
        let answers = answers::parse(&d, &complete).unwrap();
        assert_eq!(
            answers.get("comment"),
            Some(&answers::AnswerValue::Text(payload.into()))
        );
    }

    #[test]
    fn every_missing_required_question_is_listed_and_linked() {
        for d in shipped() {
            let page = render(&d, Some("de"), &[]);
            let required: Vec<&Question> = d.questions.iter().filter(|q| q.is_required()).collect();
            assert_eq!(
                count(&page, "<li><a href=\"#q-"),
                required.len(),
                "{}",
                d.slug
            );
            for question in required {
                let link = format!(r##"<a href="#q-{}">"##, question.key());
                assert_eq!(count(&page, &link), 1, "{}: {link}", d.slug);
                let target = format!(r#"id="q-{}""#, question.key());
                assert_eq!(count(&page, &target), 1);
                let error = format!(r#"id="q-{}-error""#, question.key());
                assert_eq!(count(&page, &error), 1);
            }
        }
    }

    #[test]
    fn pain_point_errors_come_back_with_the_ticks() {
        let d = shipped_one("supplier-customer-of-choice");
        let Some(Question::PainPoints(q)) = d.question("pain_points") else {
            panic!("the supplier survey has pain points")
        };
        let mut submitted = Vec::new();
        for option in q.options.iter().take(4) {
            submitted.push(("pain_points".to_string(), option.key.clone()));
        }
        let page = render(&d, None, &submitted);
        assert!(page.contains("Choose at most 3. You chose 4."));
        assert_eq!(count(&page, " checked"), 4, "{page}");
    }

    #[test]
    fn a_score_from_the_email_is_chosen_and_the_rest_is_optional() {
        let d = shipped_one("internal-customer");
        let query = form(&[("recommend", "7"), ("ease", "1"), ("comment", "<b>x</b>")]);
        let (prefilled, required) = chosen_by_link(&d, &query);
        // Only the score is taken from the link.
        assert_eq!(prefilled, form(&[("recommend", "7")]));
        assert_eq!(required, Required::FirstOnly);
        for (language, note) in [
            ("en", "You chose 7. Nothing is sent yet"),
            ("de", "Sie haben 7 gewählt. Noch ist nichts gesendet"),
        ] {
            let context = form_page(
                &d,
                Some(language),
                &prefilled,
                &BTreeMap::new(),
                "/s/abc",
                5,
                required,
            );
            let page = render_html(FORM_TEMPLATE, &context).unwrap();
            assert!(
                page.contains(&format!(
                    "<div class=\"notice one-click\" id=\"one-click\">\n  <p>{note}"
                )),
                "{page}"
            );
            assert!(page.find("one-click").unwrap() < page.find("<form").unwrap());
            // Its own Send button, for the form below: the one more click.
            assert_eq!(count(&page, r#"type="submit""#), 2);
            assert!(page.contains(r#"<button type="submit" class="button" form="survey-form">"#));
            assert!(page.contains(r#"id="q-recommend-7" name="recommend" value="7" checked>"#));
            assert_eq!(count(&page, " checked"), 1);
            assert!(!page.contains("&lt;b&gt;") && !page.contains("<b>x"));
            assert!(page.contains(r#"<input type="hidden" name="_one_click" value="1">"#));
            // Every question but the first says it is optional.
            assert_eq!(
                count(&page, "(optional)"),
                d.questions.len() - 1,
                "{language}"
            );
            assert!(!page.contains("style="), "the CSP allows no inline style");
        }
        // A query that is no score: the plain form, nothing chosen, nothing hidden.
        for bad in [
            form(&[("recommend", "11")]),
            form(&[("recommend", "x")]),
            form(&[("recommend", "7"), ("recommend", "8")]),
            form(&[("ease", "4")]),
            Vec::new(),
        ] {
            let (prefilled, required) = chosen_by_link(&d, &bad);
            assert!(prefilled.is_empty(), "{bad:?}");
            assert_eq!(required, Required::AsDefined);
            let context = form_page(
                &d,
                None,
                &prefilled,
                &BTreeMap::new(),
                "/s/abc",
                5,
                required,
            );
            let page = render_html(FORM_TEMPLATE, &context).unwrap();
            assert!(!page.contains("one-click") && !page.contains(" checked"));
            assert!(!page.contains("_one_click"));
        }
        // After a mistake the one-click form comes back as it was: score, note, hidden field.
        let posted = form(&[("_one_click", "1"), ("recommend", "3"), ("ease", "9")]);
        let errors = answers::parse_as(&d, &posted, Required::of_form(&posted))
            .unwrap_err()
            .messages("en");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let context = form_page(&d, None, &posted, &errors, "/s/abc", 5, Required::FirstOnly);
        let page = render_html(FORM_TEMPLATE, &context).unwrap();
        assert!(page.contains("You chose 3."));
        assert!(page.contains(r#"name="_one_click" value="1""#));
        assert!(page.contains(r##"<a href="#q-ease">"##));
    }

    #[test]
    fn thanks_and_unavailable_pages_render_in_both_languages() {
        let d = shipped_one("internal-customer");
        let language = d.best_language(Some("de-AT"));
        let page = render_html(THANKS_TEMPLATE, &thanks_page(language)).unwrap();
        assert!(page.contains(r#"<html lang="de">"#));
        assert!(page.contains("Vielen Dank"));
        assert!(!page.contains("<form"));
        let page = render_html(THANKS_TEMPLATE, &thanks_page("en")).unwrap();
        assert!(page.contains("Thank you"));
        let page = render_html(UNAVAILABLE_TEMPLATE, &unavailable_page("en")).unwrap();
        assert!(page.contains(
            "This survey link can’t be used any more. If you think this is a mistake, contact your procurement team."
        ));
        for word in ["closed", "expired", "already", "unknown", "cancel"] {
            assert!(!page.to_lowercase().contains(word), "{word}");
        }
        let page = render_html(UNAVAILABLE_TEMPLATE, &unavailable_page("de-CH")).unwrap();
        assert!(page.contains(r#"<html lang="de">"#));
        assert!(page.contains("Dieser Umfragelink kann nicht mehr verwendet werden."));
    }
}
