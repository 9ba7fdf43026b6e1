//! A respondent's submitted form, parsed against the survey definition into [`Answers`] —
//! or into one [`AnswerError`] per question that needs attention ([`AnswerErrors`]).
//!
//! The form posts `application/x-www-form-urlencoded` pairs: the field name is the question
//! key; a pain-point question posts one pair per ticked option. The rules:
//!
//! * a required question must be answered; an optional one may be left out;
//! * NPS takes one of `0`…`10`; Likert one of `1`…`scale`, or `na` where the question offers
//!   "not applicable"; a choice one option key; pain points option keys (each once, at most
//!   `max_choices`), kept in definition order;
//! * text is cleaned (CR LF and lone CR become LF, tabs become spaces, other control
//!   characters are dropped), trimmed, and may be at most `max_length` characters long
//!   (Unicode scalar values, not bytes); empty text is no answer;
//! * a question that takes one answer and gets several values is an error;
//! * field names that are no question key are ignored. Names starting with `_`
//!   ([`RESERVED_PREFIX`]) are reserved for the form itself (e.g. a `_csrf` field): the route
//!   handler reads them, they are never answers. Question keys start with a letter
//!   (`definition::is_key`), so they cannot clash.
//!
//! Errors are language-neutral values; [`AnswerErrors::messages`] words them in the UI
//! language (`crate::domain::ui_text`).
//!
//! **One click from the email.** When a survey's first question is an NPS question, the
//! invitation shows it as eleven buttons, each a link to the form with that score:
//! `/s/{token}?{key}=N`, the question's own field name and value (e.g. `?recommend=7`).
//! [`first_question_score`] reads that score (anything else — another field, a value out
//! of range, not a number, twice — is no score). The form opened this way carries the
//! hidden field [`ONE_CLICK_FIELD`] and is parsed with [`Required::FirstOnly`]: only the
//! first question must be answered, the rest is optional ("one more click stores it").

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::definition::{
    ChoiceQuestion, LikertQuestion, NpsQuestion, PainPointsQuestion, Question, SurveyDefinition,
    TextQuestion,
};
use super::ui_text::{fill, ui_text};

/// Form fields whose names start with this are the form's own, never answers.
pub const RESERVED_PREFIX: &str = "_";

/// The value a Likert question posts for "not applicable".
pub const NOT_APPLICABLE: &str = "na";

/// The hidden field of a form opened from a score button in the email (see the module
/// documentation): its questions after the first are optional.
pub const ONE_CLICK_FIELD: &str = "_one_click";

/// Which questions must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    /// As the definition says (the form as linked from "Start the survey").
    AsDefined,
    /// The first question only: the form opened from a score button in the email.
    FirstOnly,
}

impl Required {
    /// [`Self::FirstOnly`] when the posted form carries [`ONE_CLICK_FIELD`].
    pub fn of_form(fields: &[(String, String)]) -> Self {
        if fields.iter().any(|(name, _)| name == ONE_CLICK_FIELD) {
            Self::FirstOnly
        } else {
            Self::AsDefined
        }
    }

    /// Must the question at `index` (0-based, in definition order) be answered?
    pub fn is_required(self, index: usize, question: &Question) -> bool {
        match self {
            Self::AsDefined => question.is_required(),
            Self::FirstOnly => index == 0,
        }
    }
}

/// The score a link from the email chose for the survey's first question: `Some` only
/// when that question is an NPS question and `fields` (the link's query) hold exactly one
/// value for its key, a plain number from 0 to 10. Every other field is ignored — a link
/// can choose this one answer, nothing else.
pub fn first_question_score(
    definition: &SurveyDefinition,
    fields: &[(String, String)],
) -> Option<u8> {
    let Some(Question::Nps(question)) = definition.questions.first() else {
        return None;
    };
    match submitted_values(fields, &question.key).as_slice() {
        [value] => NpsQuestion::VALUES
            .into_iter()
            .find(|n| n.to_string() == *value),
        _ => None,
    }
}

/// Is `name` a field reserved for the form itself (see [`RESERVED_PREFIX`])?
pub fn is_reserved(name: &str) -> bool {
    name.starts_with(RESERVED_PREFIX)
}

/// One question's answer. Stored as JSON, externally tagged:
/// `{"scale": 4}`, `"not_applicable"`, `{"choice": "weekly"}`,
/// `{"options": ["approval_delays"]}`, `{"text": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerValue {
    /// NPS 0..=10 or Likert 1..=scale.
    Scale(i32),
    /// "Not applicable" on a Likert question that offers it.
    NotApplicable,
    /// The option key of a choice question.
    Choice(String),
    /// The ticked pain-point option keys, in definition order (never empty).
    Options(Vec<String>),
    /// A cleaned, trimmed, non-empty comment.
    Text(String),
}

/// The validated answers of one response, keyed by question key. Unanswered optional
/// questions are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, AnswerValue>);

impl Answers {
    /// Each answered question's key and answer, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AnswerValue)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value))
    }

    pub fn get(&self, question_key: &str) -> Option<&AnswerValue> {
        self.0.get(question_key)
    }

    /// How many questions were answered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The answers as a JSON object `{question_key: answer}` (see [`AnswerValue`]).
    pub fn to_json(&self) -> serde_json::Value {
        let map = self
            .0
            .iter()
            .map(|(key, value)| (key.clone(), value.to_json()))
            .collect();
        serde_json::Value::Object(map)
    }
}

/// The answers by key, owned: for mapping into a storage type without cloning.
impl IntoIterator for Answers {
    type Item = (String, AnswerValue);
    type IntoIter = std::collections::btree_map::IntoIter<String, AnswerValue>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl AnswerValue {
    /// The answer as stored (see the type's documentation).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Scale(value) => serde_json::json!({ "scale": value }),
            Self::NotApplicable => serde_json::json!("not_applicable"),
            Self::Choice(key) => serde_json::json!({ "choice": key }),
            Self::Options(keys) => serde_json::json!({ "options": keys }),
            Self::Text(text) => serde_json::json!({ "text": text }),
        }
    }
}

/// Why one question's answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// A required question was left out.
    Missing(Expected),
    /// A value the question does not take.
    Invalid(Expected),
    /// `na` for a Likert question that does not offer "not applicable".
    NotApplicableNotOffered { scale: u8 },
    /// More pain points ticked than `max_choices`.
    TooMany { max: u32, chosen: usize },
    /// The same pain point ticked twice.
    Duplicate,
    /// A text longer than `max_length` characters.
    TooLong { max: u32, length: usize },
    /// Several values for a question that takes one answer.
    AnsweredTwice,
}

/// What a question takes, for wording its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// 0..=10.
    Nps,
    /// 1..=scale, with or without "not applicable".
    Likert { scale: u8, not_applicable: bool },
    /// One option.
    Choice,
    /// Pain-point options.
    Options,
    /// Text.
    Text,
}

impl AnswerError {
    /// The message in `language` (English where Pulse has no texts for it): plain and
    /// specific, e.g. "Choose a number from 0 to 10.".
    pub fn message(&self, language: &str) -> String {
        let t = &ui_text(language).errors;
        let likert = |scale: u8, not_applicable: bool| {
            let template = if not_applicable {
                t.likert_or_na
            } else {
                t.likert
            };
            fill(template, &[("scale", &scale)])
        };
        match self {
            Self::Missing(Expected::Nps) | Self::Invalid(Expected::Nps) => t.nps.to_string(),
            Self::Missing(Expected::Likert {
                scale,
                not_applicable,
            })
            | Self::Invalid(Expected::Likert {
                scale,
                not_applicable,
            }) => likert(*scale, *not_applicable),
            Self::Missing(Expected::Choice) => t.choice_missing.to_string(),
            Self::Invalid(Expected::Choice) => t.choice_invalid.to_string(),
            Self::Missing(Expected::Options) => t.options_missing.to_string(),
            Self::Invalid(Expected::Options) => t.options_invalid.to_string(),
            Self::Missing(Expected::Text) | Self::Invalid(Expected::Text) => {
                t.text_missing.to_string()
            }
            Self::NotApplicableNotOffered { scale } => fill(t.na_not_offered, &[("scale", scale)]),
            Self::TooMany { max, chosen } => fill(t.too_many, &[("max", max), ("chosen", chosen)]),
            Self::Duplicate => t.duplicate.to_string(),
            Self::TooLong { max, length } => fill(t.too_long, &[("max", max), ("length", length)]),
            Self::AnsweredTwice => t.answered_twice.to_string(),
        }
    }
}

/// The questions whose answers were not accepted, by question key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerErrors(BTreeMap<String, AnswerError>);

impl AnswerErrors {
    pub fn get(&self, question_key: &str) -> Option<&AnswerError> {
        self.0.get(question_key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &AnswerError)> {
        self.0.iter().map(|(key, error)| (key.as_str(), error))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `{question_key: message}` in the language the form is shown in to a stakeholder who
    /// speaks `language` (`definition.best_language`): what `form_page` takes.
    pub fn messages_for(
        &self,
        definition: &SurveyDefinition,
        language: Option<&str>,
    ) -> BTreeMap<String, String> {
        self.messages(definition.best_language(language))
    }

    /// `{question_key: message}` in `language` (English where Pulse has no texts for it).
    pub fn messages(&self, language: &str) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(key, error)| (key.clone(), error.message(language)))
            .collect()
    }
}

/// For logs and `anyhow`: the question keys with their English messages.
impl fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (key, error) in &self.0 {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{key}: {}", error.message("en"))?;
        }
        Ok(())
    }
}

impl std::error::Error for AnswerErrors {}

/// Parses a submitted form against `definition`: every question's answer, or every
/// question's error at once.
pub fn parse(
    definition: &SurveyDefinition,
    fields: &[(String, String)],
) -> Result<Answers, AnswerErrors> {
    parse_as(definition, fields, Required::AsDefined)
}

/// [`parse`], with the questions `required` says must be answered (the others optional).
pub fn parse_as(
    definition: &SurveyDefinition,
    fields: &[(String, String)],
    required: Required,
) -> Result<Answers, AnswerErrors> {
    let mut answers = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (index, question) in definition.questions.iter().enumerate() {
        let key = question.key();
        let values = submitted_values(fields, key);
        match parse_question(question, &values, required.is_required(index, question)) {
            Ok(Some(value)) => {
                answers.insert(key.to_string(), value);
            }
            Ok(None) => {}
            Err(error) => {
                errors.insert(key.to_string(), error);
            }
        }
    }
    if errors.is_empty() {
        Ok(Answers(answers))
    } else {
        Err(AnswerErrors(errors))
    }
}

/// The values posted under `key`, in the order posted (reserved names never match: they
/// start with `_`, keys with a letter).
pub(crate) fn submitted_values<'f>(fields: &'f [(String, String)], key: &str) -> Vec<&'f str> {
    fields
        .iter()
        .filter(|(name, _)| name == key && !is_reserved(name))
        .map(|(_, value)| value.as_str())
        .collect()
}

/// One question: `Ok(None)` when it was (allowed to be) left out.
fn parse_question(
    question: &Question,
    values: &[&str],
    required: bool,
) -> Result<Option<AnswerValue>, AnswerError> {
    let answer = match question {
        Question::Nps(q) => nps(q, values)?,
        Question::Likert(q) => likert(q, values)?,
        Question::PainPoints(q) => pain_points(q, values)?,
        Question::Choice(q) => choice(q, values)?,
        Question::Text(q) => text(q, values)?,
    };
    match answer {
        None if required => Err(AnswerError::Missing(expected(question))),
        answer => Ok(answer),
    }
}

fn expected(question: &Question) -> Expected {
    match question {
        Question::Nps(_) => Expected::Nps,
        Question::Likert(q) => Expected::Likert {
            scale: q.scale,
            not_applicable: q.allow_not_applicable,
        },
        Question::PainPoints(_) => Expected::Options,
        Question::Choice(_) => Expected::Choice,
        Question::Text(_) => Expected::Text,
    }
}

/// The one value of a single-answer question, trimmed; `None` if nothing (or only
/// whitespace) was posted.
fn single<'v>(values: &[&'v str]) -> Result<Option<&'v str>, AnswerError> {
    match values {
        [] => Ok(None),
        [value] => Ok(Some(value.trim()).filter(|v| !v.is_empty())),
        _ => Err(AnswerError::AnsweredTwice),
    }
}

/// `value` if it is exactly one of the numbers in `range` written plainly (`7`, not `07`
/// or `+7`): the values the form's radios post.
fn plain_number(value: &str, range: std::ops::RangeInclusive<u8>) -> Option<i32> {
    range
        .into_iter()
        .find(|n| n.to_string() == value)
        .map(i32::from)
}

fn nps(_q: &NpsQuestion, values: &[&str]) -> Result<Option<AnswerValue>, AnswerError> {
    let Some(value) = single(values)? else {
        return Ok(None);
    };
    plain_number(value, NpsQuestion::VALUES)
        .map(|n| Some(AnswerValue::Scale(n)))
        .ok_or(AnswerError::Invalid(Expected::Nps))
}

fn likert(q: &LikertQuestion, values: &[&str]) -> Result<Option<AnswerValue>, AnswerError> {
    let Some(value) = single(values)? else {
        return Ok(None);
    };
    if value == NOT_APPLICABLE {
        return if q.allow_not_applicable {
            Ok(Some(AnswerValue::NotApplicable))
        } else {
            Err(AnswerError::NotApplicableNotOffered { scale: q.scale })
        };
    }
    plain_number(value, q.values())
        .map(|n| Some(AnswerValue::Scale(n)))
        .ok_or(AnswerError::Invalid(Expected::Likert {
            scale: q.scale,
            not_applicable: q.allow_not_applicable,
        }))
}

fn choice(q: &ChoiceQuestion, values: &[&str]) -> Result<Option<AnswerValue>, AnswerError> {
    let Some(value) = single(values)? else {
        return Ok(None);
    };
    q.option(value)
        .map(|option| Some(AnswerValue::Choice(option.key.clone())))
        .ok_or(AnswerError::Invalid(Expected::Choice))
}

fn pain_points(
    q: &PainPointsQuestion,
    values: &[&str],
) -> Result<Option<AnswerValue>, AnswerError> {
    let picked: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if picked.iter().any(|v| q.option(v).is_none()) {
        return Err(AnswerError::Invalid(Expected::Options));
    }
    for (i, value) in picked.iter().enumerate() {
        if picked[..i].contains(value) {
            return Err(AnswerError::Duplicate);
        }
    }
    if let Some(max) = q.max_choices {
        if usize::try_from(max).is_ok_and(|max| picked.len() > max) {
            return Err(AnswerError::TooMany {
                max,
                chosen: picked.len(),
            });
        }
    }
    if picked.is_empty() {
        return Ok(None);
    }
    let in_definition_order = q
        .options
        .iter()
        .filter(|o| picked.contains(&o.key.as_str()))
        .map(|o| o.key.clone())
        .collect();
    Ok(Some(AnswerValue::Options(in_definition_order)))
}

fn text(q: &TextQuestion, values: &[&str]) -> Result<Option<AnswerValue>, AnswerError> {
    let raw = match values {
        [] => return Ok(None),
        [value] => *value,
        _ => return Err(AnswerError::AnsweredTwice),
    };
    let cleaned = clean_text(raw);
    let text = cleaned.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let length = text.chars().count();
    if usize::try_from(q.max_length).is_ok_and(|max| length > max) {
        return Err(AnswerError::TooLong {
            max: q.max_length,
            length,
        });
    }
    Ok(Some(AnswerValue::Text(text.to_string())))
}

/// A comment as the respondent meant it: line breaks as `\n` (browsers post CR LF, and count
/// a line break as one character for `maxlength`), tabs as spaces, no other control
/// characters. Not trimmed.
pub fn clean_text(raw: &str) -> String {
    let normalized = raw.replace("\r\n", "\n").replace('\r', "\n");
    normalized
        .chars()
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::definition::QuestionKind;

    fn shipped(slug: &str) -> SurveyDefinition {
        crate::definitions::load_built_in()
            .into_result()
            .unwrap()
            .into_iter()
            .find(|d| d.slug() == slug)
            .unwrap_or_else(|| panic!("no shipped survey {slug}"))
            .definition()
            .clone()
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A complete, valid internal-customer answer set.
    fn internal_valid() -> Vec<(String, String)> {
        form(&[
            ("_csrf", "whatever"),
            ("recommend", "9"),
            ("understanding_needs", "4"),
            ("alignment", "na"),
            ("communication", "2"),
            ("responsiveness", "5"),
            ("ease", "1"),
            ("policy_clarity", "3"),
            ("partnership", "4"),
            ("pain_points", "policy_unclear"),
            ("pain_points", "approval_delays"),
            ("frequency", "monthly"),
            ("comment", "Keep the\r\nweekly office hours."),
        ])
    }

    fn with(
        mut fields: Vec<(String, String)>,
        key: &str,
        values: &[&str],
    ) -> Vec<(String, String)> {
        fields.retain(|(name, _)| name != key);
        fields.extend(values.iter().map(|v| (key.to_string(), v.to_string())));
        fields
    }

    fn error_of(
        definition: &SurveyDefinition,
        fields: &[(String, String)],
        key: &str,
    ) -> AnswerError {
        let errors = parse(definition, fields).expect_err("should be invalid");
        assert_eq!(errors.len(), 1, "{errors}");
        errors
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("no error for {key}: {errors}"))
    }

    #[test]
    fn a_complete_internal_customer_form_parses() {
        let d = shipped("internal-customer");
        let answers = parse(&d, &internal_valid()).unwrap();
        assert_eq!(answers.len(), 11);
        assert_eq!(answers.get("recommend"), Some(&AnswerValue::Scale(9)));
        assert_eq!(answers.get("alignment"), Some(&AnswerValue::NotApplicable));
        assert_eq!(answers.get("ease"), Some(&AnswerValue::Scale(1)));
        assert_eq!(
            answers.get("pain_points"),
            Some(&AnswerValue::Options(vec![
                "approval_delays".into(),
                "policy_unclear".into()
            ])),
            "definition order, not the order posted"
        );
        assert_eq!(
            answers.get("frequency"),
            Some(&AnswerValue::Choice("monthly".into()))
        );
        assert_eq!(
            answers.get("comment"),
            Some(&AnswerValue::Text("Keep the\nweekly office hours.".into()))
        );
        assert!(answers.get("_csrf").is_none());
        let keys: Vec<&str> = answers.iter().map(|(k, _)| k).collect();
        assert!(keys.contains(&"partnership"));
        let owned: Vec<(String, AnswerValue)> = answers.clone().into_iter().collect();
        assert_eq!(owned.len(), 11);
        assert_eq!(owned[0].0, "alignment", "by key");
    }

    #[test]
    fn answers_serialize_for_storage_and_back() {
        let d = shipped("internal-customer");
        let answers = parse(&d, &internal_valid()).unwrap();
        let json = answers.to_json();
        assert_eq!(json["recommend"], serde_json::json!({"scale": 9}));
        assert_eq!(json["alignment"], serde_json::json!("not_applicable"));
        assert_eq!(json["frequency"], serde_json::json!({"choice": "monthly"}));
        assert_eq!(
            json["pain_points"],
            serde_json::json!({"options": ["approval_delays", "policy_unclear"]})
        );
        assert_eq!(
            json["comment"],
            serde_json::json!({"text": "Keep the\nweekly office hours."})
        );
        // `to_json` and serde agree, and the JSON reads back.
        assert_eq!(serde_json::to_value(&answers).unwrap(), json);
        let back: Answers = serde_json::from_value(json).unwrap();
        assert_eq!(back, answers);
    }

    #[test]
    fn nps_takes_0_to_10() {
        let d = shipped("internal-customer");
        for ok in ["0", "10", " 7 "] {
            let answers = parse(&d, &with(internal_valid(), "recommend", &[ok])).unwrap();
            assert_eq!(
                answers.get("recommend"),
                Some(&AnswerValue::Scale(ok.trim().parse().unwrap()))
            );
        }
        for bad in ["11", "-1", "07", "+7", "7.0", "seven", "na"] {
            let fields = with(internal_valid(), "recommend", &[bad]);
            assert_eq!(
                error_of(&d, &fields, "recommend"),
                AnswerError::Invalid(Expected::Nps),
                "{bad}"
            );
        }
        let error = error_of(
            &d,
            &with(internal_valid(), "recommend", &["11"]),
            "recommend",
        );
        assert_eq!(error.message("en"), "Choose a number from 0 to 10.");
        assert_eq!(error.message("de"), "Wählen Sie eine Zahl von 0 bis 10.");
    }

    #[test]
    fn a_question_answered_twice_is_an_error() {
        let d = shipped("internal-customer");
        for (key, values) in [
            ("recommend", ["9", "10"]),
            ("understanding_needs", ["4", "4"]),
            ("frequency", ["weekly", "monthly"]),
            ("comment", ["one", "two"]),
        ] {
            let fields = with(internal_valid(), key, &values);
            let error = error_of(&d, &fields, key);
            assert_eq!(error, AnswerError::AnsweredTwice, "{key}");
            assert_eq!(
                error.message("en"),
                "Give only one answer to this question."
            );
        }
    }

    #[test]
    fn likert_takes_its_scale_and_na_only_where_offered() {
        let d = shipped("internal-customer");
        // `alignment` offers "not applicable", `understanding_needs` does not.
        let error = error_of(
            &d,
            &with(internal_valid(), "understanding_needs", &["na"]),
            "understanding_needs",
        );
        assert_eq!(error, AnswerError::NotApplicableNotOffered { scale: 5 });
        assert!(
            error.message("en").contains("from 1 to 5"),
            "{}",
            error.message("en")
        );
        for bad in ["0", "6", "NA", "n/a", "3.5"] {
            let error = error_of(
                &d,
                &with(internal_valid(), "alignment", &[bad]),
                "alignment",
            );
            assert_eq!(
                error,
                AnswerError::Invalid(Expected::Likert {
                    scale: 5,
                    not_applicable: true
                }),
                "{bad}"
            );
            assert_eq!(
                error.message("en"),
                "Choose one answer from 1 to 5, or “Not applicable”."
            );
        }
        let error = error_of(&d, &with(internal_valid(), "ease", &["9"]), "ease");
        assert_eq!(error.message("en"), "Choose one answer from 1 to 5.");
    }

    #[test]
    fn choice_takes_one_of_its_option_keys() {
        let d = shipped("internal-customer");
        let error = error_of(
            &d,
            &with(internal_valid(), "frequency", &["daily"]),
            "frequency",
        );
        assert_eq!(error, AnswerError::Invalid(Expected::Choice));
        // An option key of another question is no better.
        let error = error_of(
            &d,
            &with(internal_valid(), "frequency", &["approval_delays"]),
            "frequency",
        );
        assert_eq!(error, AnswerError::Invalid(Expected::Choice));
    }

    #[test]
    fn pain_points_are_checked_for_keys_duplicates_and_max_choices() {
        let d = shipped("internal-customer");
        let key = "pain_points";
        // Three is the limit of the shipped question.
        let three = ["unclear_contact", "approval_delays", "slow_sourcing"];
        let answers = parse(&d, &with(internal_valid(), key, &three)).unwrap();
        assert_eq!(
            answers.get(key),
            Some(&AnswerValue::Options(
                three.iter().map(|s| s.to_string()).collect()
            ))
        );
        let four = [
            "unclear_contact",
            "approval_delays",
            "slow_sourcing",
            "policy_unclear",
        ];
        let error = error_of(&d, &with(internal_valid(), key, &four), key);
        assert_eq!(error, AnswerError::TooMany { max: 3, chosen: 4 });
        assert_eq!(error.message("en"), "Choose at most 3. You chose 4.");
        assert_eq!(
            error.message("de"),
            "Wählen Sie höchstens 3 aus. Sie haben 4 gewählt."
        );
        let error = error_of(
            &d,
            &with(
                internal_valid(),
                key,
                &["approval_delays", "approval_delays"],
            ),
            key,
        );
        assert_eq!(error, AnswerError::Duplicate);
        let error = error_of(&d, &with(internal_valid(), key, &["weekly"]), key);
        assert_eq!(error, AnswerError::Invalid(Expected::Options));
        // Optional: none ticked is fine and leaves the question out.
        let answers = parse(&d, &with(internal_valid(), key, &[])).unwrap();
        assert_eq!(answers.get(key), None);
    }

    #[test]
    fn text_is_cleaned_trimmed_and_limited_in_characters() {
        let d = shipped("pulse-check");
        let Some(Question::Text(q)) = d.question("improve_first") else {
            panic!("pulse-check has a text question improve_first")
        };
        assert_eq!(q.max_length, 500);
        let base = form(&[("recommend", "6"), ("overall_satisfaction", "3")]);
        let parse_text = |text: &str| parse(&d, &with(base.clone(), "improve_first", &[text]));

        // 500 multi-byte characters are fine (1000+ bytes); 501 are not.
        let umlauts = "ä".repeat(500);
        assert!(umlauts.len() > 500);
        assert_eq!(
            parse_text(&umlauts).unwrap().get("improve_first"),
            Some(&AnswerValue::Text(umlauts.clone()))
        );
        let emoji = "🙂".repeat(500);
        assert!(parse_text(&emoji).is_ok());
        let errors = parse_text(&format!("{umlauts}ö")).unwrap_err();
        assert_eq!(
            errors.get("improve_first"),
            Some(&AnswerError::TooLong {
                max: 500,
                length: 501
            })
        );
        assert_eq!(
            errors.messages("en")["improve_first"],
            "Shorten your answer to 500 characters or fewer. It has 501."
        );
        // Surrounding whitespace does not count; blank is no answer.
        assert!(parse_text(&format!("   {umlauts}\r\n\r\n")).is_ok());
        assert_eq!(parse_text(" \r\n\t ").unwrap().get("improve_first"), None);
        // Line breaks stay (as \n, one character each); other control characters go.
        let answers = parse_text("Line one\r\nLine two\rthree\u{0}\u{7}\u{1b}[31m\tend").unwrap();
        assert_eq!(
            answers.get("improve_first"),
            Some(&AnswerValue::Text(
                "Line one\nLine two\nthree[31m end".into()
            ))
        );
        let with_breaks = format!("{}\r\n{}", "a".repeat(250), "b".repeat(249));
        assert!(
            parse_text(&with_breaks).is_ok(),
            "CR LF counts as one character"
        );
    }

    #[test]
    fn a_script_in_a_comment_is_kept_verbatim() {
        let d = shipped("internal-customer");
        let payload = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
        let answers = parse(&d, &with(internal_valid(), "comment", &[payload])).unwrap();
        assert_eq!(
            answers.get("comment"),
            Some(&AnswerValue::Text(payload.to_string()))
        );
    }

    #[test]
    fn every_missing_required_question_gets_one_error() {
        for slug in [
            "internal-customer",
            "pulse-check",
            "supplier-customer-of-choice",
        ] {
            let d = shipped(slug);
            let errors = parse(&d, &form(&[("_csrf", "x"), ("unknown", "1")])).unwrap_err();
            let required: Vec<&str> = d
                .questions
                .iter()
                .filter(|q| q.is_required())
                .map(Question::key)
                .collect();
            let with_errors: Vec<&str> = errors.iter().map(|(k, _)| k).collect();
            let mut expected = required.clone();
            expected.sort_unstable();
            assert_eq!(with_errors, expected, "{slug}");
            for question in d.questions.iter().filter(|q| q.is_required()) {
                let error = errors.get(question.key()).unwrap();
                assert!(matches!(error, AnswerError::Missing(_)), "{error:?}");
                assert!(!error.message("en").is_empty());
                assert!(!error.message("de").is_empty());
            }
        }
    }

    #[test]
    fn messages_follow_the_language_the_form_is_shown_in() {
        let fields = form(&[("recommend", "11")]);
        // internal-customer has German texts: German messages for de-CH, English for fr.
        let d = shipped("internal-customer");
        let errors = parse(&d, &fields).unwrap_err();
        assert_eq!(
            errors.messages_for(&d, Some("de-CH"))["recommend"],
            "Wählen Sie eine Zahl von 0 bis 10."
        );
        assert_eq!(
            errors.messages_for(&d, Some("fr"))["recommend"],
            "Choose a number from 0 to 10."
        );
        // A survey in English only: its form, and so its messages, stay English.
        let mut d = shipped("pulse-check");
        d.languages = vec!["en".into()];
        let errors = parse(&d, &fields).unwrap_err();
        assert_eq!(
            errors.messages_for(&d, Some("de"))["recommend"],
            "Choose a number from 0 to 10."
        );
        assert_eq!(
            errors.to_string(),
            "overall_satisfaction: Choose one answer from 1 to 5.; recommend: Choose a number from 0 to 10."
        );
    }

    #[test]
    fn blank_values_count_as_unanswered() {
        let d = shipped("internal-customer");
        let error = error_of(
            &d,
            &with(internal_valid(), "recommend", &[" "]),
            "recommend",
        );
        assert_eq!(error, AnswerError::Missing(Expected::Nps));
        let error = error_of(&d, &with(internal_valid(), "frequency", &[""]), "frequency");
        assert_eq!(error, AnswerError::Missing(Expected::Choice));
        assert_eq!(error.message("en"), "Choose one of the options.");
    }

    #[test]
    fn unknown_and_reserved_fields_are_ignored() {
        let d = shipped("internal-customer");
        let mut fields = internal_valid();
        fields.extend(form(&[
            ("_csrf", "token"),
            ("_started", "2027-01-01"),
            ("utm_source", "mail"),
            ("Recommend", "3"),
        ]));
        let answers = parse(&d, &fields).unwrap();
        assert_eq!(answers.len(), 11);
        assert_eq!(answers.get("recommend"), Some(&AnswerValue::Scale(9)));
        assert!(is_reserved("_csrf"));
        assert!(!is_reserved("recommend"));
    }

    #[test]
    fn every_kind_in_the_supplier_survey() {
        let d = shipped("supplier-customer-of-choice");
        let kinds: Vec<QuestionKind> = d.questions.iter().map(Question::kind).collect();
        for kind in [
            QuestionKind::Nps,
            QuestionKind::Likert,
            QuestionKind::PainPoints,
            QuestionKind::Choice,
            QuestionKind::Text,
        ] {
            assert!(kinds.contains(&kind), "{kind}");
        }
        // Answer every question with its first valid value.
        let mut fields = Vec::new();
        for question in &d.questions {
            let value = match question {
                Question::Nps(_) => "0".to_string(),
                Question::Likert(q) if q.allow_not_applicable => NOT_APPLICABLE.to_string(),
                Question::Likert(q) => q.scale.to_string(),
                Question::PainPoints(q) => q.options[0].key.clone(),
                Question::Choice(q) => q.options[1].key.clone(),
                Question::Text(_) => "Thanks.".to_string(),
            };
            fields.push((question.key().to_string(), value));
        }
        let answers = parse(&d, &fields).unwrap();
        assert_eq!(answers.len(), d.questions.len());
        assert_eq!(
            answers.get("recommend_as_customer"),
            Some(&AnswerValue::Scale(0))
        );
        // `paid_on_time` offers no "not applicable".
        let fields = with(fields, "paid_on_time", &["na"]);
        let errors = parse(&d, &fields).unwrap_err();
        assert_eq!(
            errors.get("paid_on_time"),
            Some(&AnswerError::NotApplicableNotOffered { scale: 5 })
        );
        assert!(errors.messages("de")["paid_on_time"].contains("„Nicht zutreffend“"));
    }

    #[test]
    fn a_link_chooses_the_first_nps_question_score_and_nothing_else() {
        let d = shipped("internal-customer");
        for n in 0..=10u8 {
            let query = form(&[("recommend", &n.to_string())]);
            assert_eq!(first_question_score(&d, &query), Some(n));
        }
        for bad in ["11", "-1", "07", "+7", "7.0", "seven", "", " 7"] {
            let query = form(&[("recommend", bad)]);
            assert_eq!(first_question_score(&d, &query), None, "{bad:?}");
        }
        // Twice, another field, a reserved name: no score.
        assert_eq!(
            first_question_score(&d, &form(&[("recommend", "7"), ("recommend", "8")])),
            None
        );
        assert_eq!(first_question_score(&d, &form(&[("ease", "4")])), None);
        assert_eq!(
            first_question_score(&d, &form(&[("_recommend", "4")])),
            None
        );
        assert_eq!(first_question_score(&d, &[]), None);
        // Other fields beside the score are ignored (never answers).
        assert_eq!(
            first_question_score(&d, &form(&[("recommend", "3"), ("ease", "4")])),
            Some(3)
        );
        // Any survey whose first question is NPS, whatever its key.
        let supplier = shipped("supplier-customer-of-choice");
        assert_eq!(
            first_question_score(&supplier, &form(&[("recommend_as_customer", "10")])),
            Some(10)
        );
        assert_eq!(
            first_question_score(&supplier, &form(&[("recommend", "10")])),
            None
        );
        // A survey whose first question is not NPS has no score.
        let mut likert_first = d.clone();
        likert_first.questions.remove(0);
        assert_eq!(
            first_question_score(&likert_first, &form(&[("understanding_needs", "4")])),
            None
        );
    }

    #[test]
    fn a_one_click_form_needs_only_the_first_question() {
        let d = shipped("internal-customer");
        let only_score = form(&[(ONE_CLICK_FIELD, "1"), ("recommend", "7")]);
        assert_eq!(Required::of_form(&only_score), Required::FirstOnly);
        assert_eq!(Required::of_form(&internal_valid()), Required::AsDefined);
        let answers = parse_as(&d, &only_score, Required::FirstOnly).unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers.get("recommend"), Some(&AnswerValue::Scale(7)));
        // The same form without the field: every required question is missing.
        let errors = parse(&d, &only_score).unwrap_err();
        assert_eq!(errors.len(), 8, "{errors}");
        // Optional does not mean unchecked: a wrong answer is still an error, and the first
        // question is still required.
        let wrong = with(only_score.clone(), "ease", &["9"]);
        let errors = parse_as(&d, &wrong, Required::FirstOnly).unwrap_err();
        assert!(
            errors.get("ease").is_some() && errors.len() == 1,
            "{errors}"
        );
        let no_score = form(&[(ONE_CLICK_FIELD, "1"), ("comment", "Hi")]);
        let errors = parse_as(&d, &no_score, Required::FirstOnly).unwrap_err();
        assert_eq!(
            errors.get("recommend"),
            Some(&AnswerError::Missing(Expected::Nps))
        );
        // Everything else answered too: all of it is kept.
        let mut full = internal_valid();
        full.push((ONE_CLICK_FIELD.into(), "1".into()));
        assert_eq!(parse_as(&d, &full, Required::FirstOnly).unwrap().len(), 11);
    }
}
