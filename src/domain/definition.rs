//! A survey definition as written in `survey-definitions/*.json`: the serde types (which
//! also generate `survey-definitions/schema.json`), the semantic checks serde cannot express
//! (`SurveyDefinition::problems`), and the accessors the respondent form and the results
//! pages read texts and questions through. No I/O here: `crate::definitions` reads files,
//! adds the file name to each problem and computes the content hash.
//!
//! The content hash is taken over the canonical JSON of these types, so a field added later
//! must be optional and skipped when absent (`skip_serializing_if`), or every pinned survey
//! version would look changed.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod mirror;
pub use mirror::{
    pair_conflicts, pair_label, Audience, ImportanceAggregate, ImportanceAttribute, PairedQuestion,
};

/// Likert scales may have this many points.
pub const LIKERT_SCALES: [u8; 2] = [5, 7];
/// The longest free-text answer a definition may allow.
pub const MAX_TEXT_LENGTH: u32 = 5000;
/// The language of a definition that does not list `languages`.
pub const IMPLIED_LANGUAGE: &str = "en";

/// A Procurement Pulse survey definition.
///
/// One file per survey in survey-definitions/, named after its slug. Change the content
/// only together with a higher "version": answers already collected keep the meaning of
/// the version they were given to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    /// For editors: "./schema.json". Ignored by Pulse (not part of the content hash).
    #[serde(rename = "$schema", default, skip_serializing)]
    pub schema: Option<String>,
    /// Stable name of the survey, the same as the file name without ".json", e.g.
    /// "internal-customer": lower-case letters, digits and "-".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{1,62}$"))]
    pub slug: String,
    /// Raise by one with every change of content. A version, once loaded, is pinned to its
    /// content for good.
    #[schemars(range(min = 1))]
    pub version: i32,
    /// The survey's title, shown on the form and in the invitation email.
    pub title: LocalizedText,
    /// A short introduction above the first question: why we ask, how long it takes, that
    /// answers are anonymous.
    pub intro: LocalizedText,
    /// Language codes the texts are written in, the default first, e.g. ["en", "de"].
    /// Without this list the survey is in English ("en") only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")))]
    pub languages: Vec<String>,
    /// Stakeholder attributes results are broken down by, e.g. ["business_unit",
    /// "department", "region"]. Each answer keeps the respondent's values at invitation time.
    #[schemars(inner(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$")))]
    pub segments: Vec<String>,
    /// How long answering takes, as told to respondents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 60))]
    pub estimated_minutes: Option<u32>,
    /// Who answers the survey: "internal_customers" or "suppliers". Needed for paired
    /// questions: the customer-of-choice mirror sets the suppliers' side of each pair beside
    /// the internal customers' side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// Directory attributes that say how important a group of respondents is (e.g.
    /// "influence" or "annual_spend"), for the stakeholder map: each group is placed by
    /// its importance and its satisfaction. The first is the map's default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importance: Vec<ImportanceAttribute>,
    /// The questions, in the order they are asked.
    #[schemars(length(min = 1))]
    pub questions: Vec<Question>,
}

/// A text in the survey's only language ("How are we doing?"), or one per language keyed
/// by language code ({"en": "How are we doing?", "de": "Wie machen wir es?"}).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "expected a text, or an object of texts keyed by language code such as {\"en\": \"…\", \"de\": \"…\"}"
)]
pub enum LocalizedText {
    /// The text in the default language.
    Plain(String),
    /// The text per language code.
    ByLanguage(BTreeMap<String, String>),
}

/// One question. `kind` decides the answer format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Question {
    /// "How likely are you to recommend …?", answered 0–10: the Net Promoter Score.
    Nps(NpsQuestion),
    /// A statement rated on a 5- or 7-point agreement or satisfaction scale; reported as
    /// satisfaction per `dimension`.
    Likert(LikertQuestion),
    /// "What slows you down?": pick up to `max_choices` options, each tagged with the
    /// procurement stage it belongs to.
    PainPoints(PainPointsQuestion),
    /// One of several options (profile and routing questions).
    Choice(ChoiceQuestion),
    /// A free-text comment.
    Text(TextQuestion),
}

/// The kinds of question, without their details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionKind {
    Nps,
    Likert,
    PainPoints,
    Choice,
    Text,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nps => "nps",
            Self::Likert => "likert",
            Self::PainPoints => "pain_points",
            Self::Choice => "choice",
            Self::Text => "text",
        }
    }

    /// Whether a question of this kind must be answered when the file does not say.
    pub fn required_by_default(self) -> bool {
        matches!(self, Self::Nps | Self::Likert | Self::Choice)
    }
}

impl fmt::Display for QuestionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An NPS question: 0 (not at all likely) to 10 (extremely likely).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NpsQuestion {
    /// Stable identifier of the question (answers and trends are keyed by it):
    /// lower-case letters, digits and "_", e.g. "recommend".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The question as the respondent reads it.
    pub text: LocalizedText,
    /// An optional hint below the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalizedText>,
    /// Must it be answered? Default: true.
    #[serde(default = "yes")]
    pub required: bool,
    /// Labels under 0 and 10, e.g. "Not at all likely" and "Extremely likely".
    pub anchors: EndAnchors,
}

/// A Likert question: a statement rated 1..=`scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LikertQuestion {
    /// Stable identifier of the question: lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The statement or question as the respondent reads it.
    pub text: LocalizedText,
    /// An optional hint below the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalizedText>,
    /// Must it be answered? Default: true.
    #[serde(default = "yes")]
    pub required: bool,
    /// Number of points: 5 or 7.
    #[schemars(extend("enum" = [5, 7]))]
    pub scale: u8,
    /// What the question measures, e.g. "responsiveness": results show satisfaction per
    /// dimension. Lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub dimension: String,
    /// A label for every point (lowest first), or labels for the two ends only.
    pub anchors: LikertAnchors,
    /// Offer "Not applicable" besides the scale (not counted in the results). Default: false.
    #[serde(default)]
    pub allow_not_applicable: bool,
    /// Makes this question one side of a pair, e.g. "communication": the customer-of-choice
    /// mirror sets it beside the question with the same pair in a survey of the other
    /// audience (same scale required). The question must be the only one of its dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub pair: Option<String>,
    /// A customer-of-choice item of a supplier survey ("you offer us your innovations
    /// first"): the mirror's customer-of-choice index is the share of top-2 answers over
    /// these items. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_of_choice: bool,
}

/// Labels for the two ends of a scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndAnchors {
    /// Label of the lowest point.
    pub low: LocalizedText,
    /// Label of the highest point.
    pub high: LocalizedText,
}

/// The anchor labels of a Likert scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "expected a list with one label per point (lowest first), or {\"low\": …, \"high\": …}"
)]
pub enum LikertAnchors {
    /// One label per point, lowest first.
    PerPoint(Vec<LocalizedText>),
    /// Labels for the lowest and the highest point.
    Ends(EndAnchors),
}

/// A multi-select of pain points, each tagged with a procurement stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PainPointsQuestion {
    /// Stable identifier of the question: lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The question as the respondent reads it.
    pub text: LocalizedText,
    /// An optional hint below the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalizedText>,
    /// Must at least one option be picked? Default: false.
    #[serde(default)]
    pub required: bool,
    /// The pain points to choose from.
    #[schemars(length(min = 1))]
    pub options: Vec<PainPointOption>,
    /// At most this many may be picked (default: any number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_choices: Option<u32>,
}

/// One pain point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PainPointOption {
    /// Stable identifier of the option: lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The option as the respondent reads it.
    pub label: LocalizedText,
    /// The procurement stage this pain point belongs to.
    pub stage: Stage,
}

/// The stages of the procure-to-pay journey a pain point can belong to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Raising a need, finding the right channel and form.
    Intake,
    /// Budget and purchase approvals.
    Approval,
    /// Tenders, quotes, supplier selection.
    Sourcing,
    /// Contract drafting, negotiation and signature.
    Contracting,
    /// Purchase requisitions, purchase orders, catalogues.
    Ordering,
    /// Receiving goods and services.
    Delivery,
    /// Invoices and supplier payments.
    InvoicingPayment,
    /// Supplier onboarding, performance and relationships.
    SupplierManagement,
    /// Procurement policies and rules.
    Policy,
    /// Contacts, updates, answers.
    Communication,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Intake,
        Stage::Approval,
        Stage::Sourcing,
        Stage::Contracting,
        Stage::Ordering,
        Stage::Delivery,
        Stage::InvoicingPayment,
        Stage::SupplierManagement,
        Stage::Policy,
        Stage::Communication,
    ];

    /// The identifier used in definition files and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Approval => "approval",
            Stage::Sourcing => "sourcing",
            Stage::Contracting => "contracting",
            Stage::Ordering => "ordering",
            Stage::Delivery => "delivery",
            Stage::InvoicingPayment => "invoicing_payment",
            Stage::SupplierManagement => "supplier_management",
            Stage::Policy => "policy",
            Stage::Communication => "communication",
        }
    }

    /// An English label for results pages.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Intake => "Intake",
            Stage::Approval => "Approval",
            Stage::Sourcing => "Sourcing",
            Stage::Contracting => "Contracting",
            Stage::Ordering => "Ordering",
            Stage::Delivery => "Delivery",
            Stage::InvoicingPayment => "Invoicing & payment",
            Stage::SupplierManagement => "Supplier management",
            Stage::Policy => "Policy",
            Stage::Communication => "Communication",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of several options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceQuestion {
    /// Stable identifier of the question: lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The question as the respondent reads it.
    pub text: LocalizedText,
    /// An optional hint below the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalizedText>,
    /// Must it be answered? Default: true.
    #[serde(default = "yes")]
    pub required: bool,
    /// The options, in the order shown (at least two).
    #[schemars(length(min = 2))]
    pub options: Vec<ChoiceOption>,
}

/// An option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// Stable identifier of the option: lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The option as the respondent reads it.
    pub label: LocalizedText,
}

/// A free-text comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextQuestion {
    /// Stable identifier of the question: lower-case letters, digits and "_".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The question as the respondent reads it.
    pub text: LocalizedText,
    /// An optional hint below the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalizedText>,
    /// Must it be answered? Default: false.
    #[serde(default)]
    pub required: bool,
    /// The longest answer accepted, in characters (1–5000). Default: 1000.
    #[serde(default = "default_max_length")]
    #[schemars(range(min = 1, max = 5000))]
    pub max_length: u32,
}

fn yes() -> bool {
    true
}

fn default_max_length() -> u32 {
    1000
}

// ---------------------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------------------

impl LocalizedText {
    /// The text in `language`, else in `default_language`, else any text there is (a
    /// validated definition always has the default language).
    pub fn get<'a>(&'a self, language: &str, default_language: &str) -> &'a str {
        match self {
            Self::Plain(text) => text,
            Self::ByLanguage(texts) => texts
                .get(language)
                .or_else(|| texts.get(default_language))
                .or_else(|| texts.values().next())
                .map_or("", String::as_str),
        }
    }
}

/// The texts of one definition in one language, falling back to the default language
/// where a translation is missing. Get one with [`SurveyDefinition::texts`].
#[derive(Debug, Clone, Copy)]
pub struct Texts<'a> {
    language: &'a str,
    default_language: &'a str,
}

impl<'a> Texts<'a> {
    /// The language chosen (one of the definition's languages): use it for `<html lang>`.
    pub fn language(&self) -> &'a str {
        self.language
    }

    pub fn get<'t>(&self, text: &'t LocalizedText) -> &'t str {
        text.get(self.language, self.default_language)
    }

    pub fn get_opt<'t>(&self, text: Option<&'t LocalizedText>) -> Option<&'t str> {
        text.map(|t| self.get(t))
    }
}

impl SurveyDefinition {
    /// The key of the NPS question (the first, should there be several): the score the
    /// results report and the comments are filtered by.
    pub fn nps_key(&self) -> Option<&str> {
        self.questions.iter().find_map(|q| match q {
            Question::Nps(q) => Some(q.key.as_str()),
            _ => None,
        })
    }

    /// The languages the texts are written in, the default first.
    pub fn languages(&self) -> Vec<&str> {
        if self.languages.is_empty() {
            vec![IMPLIED_LANGUAGE]
        } else {
            self.languages.iter().map(String::as_str).collect()
        }
    }

    pub fn default_language(&self) -> &str {
        self.languages
            .first()
            .map_or(IMPLIED_LANGUAGE, String::as_str)
    }

    /// The definition's language that best matches a stakeholder's language (`de`, `de-CH`,
    /// `DE`…): an exact match, else the same primary language, else the default language.
    pub fn best_language(&self, wanted: Option<&str>) -> &str {
        let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
            return self.default_language();
        };
        let languages = self.languages();
        if let Some(exact) = languages.iter().find(|l| l.eq_ignore_ascii_case(wanted)) {
            return exact;
        }
        let primary = |code: &str| code.split('-').next().unwrap_or(code).to_ascii_lowercase();
        let wanted_primary = primary(wanted);
        languages
            .iter()
            .find(|l| primary(l) == wanted_primary)
            .copied()
            .unwrap_or_else(|| self.default_language())
    }

    /// Texts in the language that best matches `wanted` (see [`Self::best_language`]).
    pub fn texts(&self, wanted: Option<&str>) -> Texts<'_> {
        Texts {
            language: self.best_language(wanted),
            default_language: self.default_language(),
        }
    }

    /// The title in the default language (what admin pages and the database show).
    pub fn default_title(&self) -> &str {
        self.title
            .get(self.default_language(), self.default_language())
    }

    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.key() == key)
    }

    /// The Likert dimensions in the order they first appear.
    pub fn dimensions(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for question in &self.questions {
            if let Question::Likert(likert) = question {
                if !seen.contains(&likert.dimension.as_str()) {
                    seen.push(likert.dimension.as_str());
                }
            }
        }
        seen
    }
}

/// `each_question!(question, q => expr)`: `expr` for whichever kind `question` is.
macro_rules! each_question {
    ($question:expr, $q:ident => $e:expr) => {
        match $question {
            Question::Nps($q) => $e,
            Question::Likert($q) => $e,
            Question::PainPoints($q) => $e,
            Question::Choice($q) => $e,
            Question::Text($q) => $e,
        }
    };
}

impl Question {
    pub fn key(&self) -> &str {
        each_question!(self, q => &q.key)
    }

    pub fn text(&self) -> &LocalizedText {
        each_question!(self, q => &q.text)
    }

    pub fn help(&self) -> Option<&LocalizedText> {
        each_question!(self, q => q.help.as_ref())
    }

    /// Must the respondent answer it? (Defaults: see [`QuestionKind::required_by_default`].)
    pub fn is_required(&self) -> bool {
        each_question!(self, q => q.required)
    }

    pub fn kind(&self) -> QuestionKind {
        match self {
            Question::Nps(_) => QuestionKind::Nps,
            Question::Likert(_) => QuestionKind::Likert,
            Question::PainPoints(_) => QuestionKind::PainPoints,
            Question::Choice(_) => QuestionKind::Choice,
            Question::Text(_) => QuestionKind::Text,
        }
    }
}

impl NpsQuestion {
    /// The answers an NPS question takes.
    pub const VALUES: RangeInclusive<u8> = 0..=10;
}

impl LikertQuestion {
    /// The answers on the scale: 1..=scale ("not applicable" is not one of them).
    pub fn values(&self) -> RangeInclusive<u8> {
        1..=self.scale
    }

    /// Each point of the scale with its label, if it has one (with end anchors only the
    /// first and last point are labelled).
    pub fn point_labels<'t>(&'t self, texts: Texts<'_>) -> Vec<(u8, Option<&'t str>)> {
        self.values()
            .map(|point| {
                let label = match &self.anchors {
                    LikertAnchors::PerPoint(labels) => labels
                        .get(usize::from(point) - 1)
                        .map(|label| texts.get(label)),
                    LikertAnchors::Ends(ends) if point == 1 => Some(texts.get(&ends.low)),
                    LikertAnchors::Ends(ends) if point == self.scale => Some(texts.get(&ends.high)),
                    LikertAnchors::Ends(_) => None,
                };
                (point, label)
            })
            .collect()
    }

    /// The top-two-box answers (4–5 on a 5-point scale, 6–7 on a 7-point one).
    pub fn top_two_box(&self) -> RangeInclusive<u8> {
        self.scale.saturating_sub(1)..=self.scale
    }
}

impl PainPointsQuestion {
    pub fn option(&self, key: &str) -> Option<&PainPointOption> {
        self.options.iter().find(|o| o.key == key)
    }

    /// How many options a respondent may pick.
    pub fn choice_limit(&self) -> usize {
        self.max_choices
            .and_then(|m| usize::try_from(m).ok())
            .unwrap_or(self.options.len())
            .min(self.options.len())
    }
}

impl ChoiceQuestion {
    pub fn option(&self, key: &str) -> Option<&ChoiceOption> {
        self.options.iter().find(|o| o.key == key)
    }
}

/// `business_unit` → `Business unit`: a dimension or segment name for display.
pub fn humanize(identifier: &str) -> String {
    let spaced = identifier.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Problems and their place in the file
// ---------------------------------------------------------------------------------------

/// A place in a JSON document, printed like `questions[3].options[0].stage`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(Vec<PathSegment>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Field(String),
    Index(usize),
}

impl JsonPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    pub fn field(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.0.push(PathSegment::Field(name.to_string()));
        path
    }

    pub fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.0.push(PathSegment::Index(index));
        path
    }

    /// This path followed by `rest`.
    pub fn join(&self, rest: &JsonPath) -> Self {
        let mut path = self.clone();
        path.0.extend(rest.0.iter().cloned());
        path
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Field(name) if i == 0 => f.write_str(name)?,
                PathSegment::Field(name) => write!(f, ".{name}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Something wrong (or worth a warning) at a place in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: JsonPath,
    pub message: String,
}

impl Problem {
    pub fn new(path: JsonPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

// ---------------------------------------------------------------------------------------
// Semantic checks
// ---------------------------------------------------------------------------------------

/// Is `s` a slug: `^[a-z][a-z0-9-]{1,62}$`?
pub fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && (2..=63).contains(&s.len())
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

/// Is `s` a key (question, option, dimension, segment): `^[a-z][a-z0-9_]{0,62}$`?
pub fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 63
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Is `s` a language code such as `en`, `de` or `pt-BR`?
pub fn is_language_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

const KEY_RULE: &str = "lower-case letters, digits and _, starting with a letter, at most 63 characters (e.g. policy_clarity)";

impl SurveyDefinition {
    /// Everything wrong with the definition that serde could not see, all at once. An empty
    /// list means the definition can be published.
    pub fn problems(&self) -> Vec<Problem> {
        let mut check = Checker::new(self);
        check.definition(self);
        check.errors
    }

    /// Texts missing in a language the definition lists (respondents in that language see
    /// the default language's text instead): worth a warning, not an error.
    pub fn missing_translations(&self) -> Vec<Problem> {
        let mut check = Checker::new(self);
        check.definition(self);
        check.warnings
    }
}

struct Checker {
    languages: Vec<String>,
    default_language: String,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl Checker {
    fn new(definition: &SurveyDefinition) -> Self {
        Self {
            languages: definition
                .languages()
                .into_iter()
                .map(str::to_string)
                .collect(),
            default_language: definition.default_language().to_string(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn error(&mut self, path: JsonPath, message: impl Into<String>) {
        self.errors.push(Problem::new(path, message));
    }

    fn definition(&mut self, d: &SurveyDefinition) {
        let root = JsonPath::root();
        if !is_slug(&d.slug) {
            self.error(
                root.field("slug"),
                format!(
                    "'{}' is not a valid slug: use 2–63 lower-case letters, digits and -, starting with a letter (e.g. internal-customer)",
                    d.slug
                ),
            );
        }
        if d.version < 1 {
            self.error(
                root.field("version"),
                format!("must be 1 or more (found {})", d.version),
            );
        }
        self.languages_list(d);
        self.text(&root.field("title"), &d.title);
        self.text(&root.field("intro"), &d.intro);
        self.segments(d);
        if let Some(minutes) = d.estimated_minutes {
            if !(1..=60).contains(&minutes) {
                self.error(
                    root.field("estimated_minutes"),
                    format!("must be between 1 and 60 (found {minutes})"),
                );
            }
        }
        if d.questions.is_empty() {
            self.error(
                root.field("questions"),
                "a survey needs at least one question",
            );
        }
        self.importance(d);
        self.pairs(d);
        let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, question) in d.questions.iter().enumerate() {
            let path = root.field("questions").index(i);
            let key = question.key();
            if !is_key(key) {
                self.error(
                    path.field("key"),
                    format!("'{key}' is not a valid key: use {KEY_RULE}"),
                );
            } else if let Some(first) = keys.get(key) {
                self.error(
                    path.field("key"),
                    format!("'{key}' is already the key of questions[{first}]: every question needs its own key"),
                );
            } else {
                keys.insert(key, i);
            }
            self.question(&path, question);
        }
    }

    fn languages_list(&mut self, d: &SurveyDefinition) {
        let path = JsonPath::root().field("languages");
        let mut seen = HashSet::new();
        for (i, code) in d.languages.iter().enumerate() {
            if !is_language_code(code) {
                self.error(
                    path.index(i),
                    format!("'{code}' is not a language code: use e.g. en, de or pt-BR"),
                );
            } else if !seen.insert(code.as_str()) {
                self.error(path.index(i), format!("'{code}' is listed twice"));
            }
        }
    }

    fn segments(&mut self, d: &SurveyDefinition) {
        let path = JsonPath::root().field("segments");
        let mut seen = HashSet::new();
        for (i, segment) in d.segments.iter().enumerate() {
            if segment.trim().is_empty() {
                self.error(
                    path.index(i),
                    "is empty: name a stakeholder attribute such as business_unit",
                );
            } else if !is_key(segment) {
                self.error(
                    path.index(i),
                    format!("'{segment}' is not a stakeholder attribute name: use {KEY_RULE}"),
                );
            } else if !seen.insert(segment.as_str()) {
                self.error(path.index(i), format!("'{segment}' is listed twice"));
            }
        }
    }

    /// A text: not empty, only in listed languages, present in the default language.
    fn text(&mut self, path: &JsonPath, text: &LocalizedText) {
        match text {
            LocalizedText::Plain(plain) => {
                if plain.trim().is_empty() {
                    self.error(path.clone(), "is empty");
                }
                if self.languages.len() > 1 {
                    self.warnings.push(Problem::new(
                        path.clone(),
                        format!(
                            "has one text for all languages; respondents in {} see it as written",
                            self.languages[1..].join(", ")
                        ),
                    ));
                }
            }
            LocalizedText::ByLanguage(texts) => {
                if texts.is_empty() {
                    self.error(
                        path.clone(),
                        format!(
                            "has no text: give at least {{\"{}\": \"…\"}}",
                            self.default_language
                        ),
                    );
                    return;
                }
                for (language, value) in texts {
                    if !self.languages.contains(language) {
                        let hint = if self.languages.len() == 1
                            && self.languages[0] == IMPLIED_LANGUAGE
                        {
                            format!("add \"languages\": [\"{IMPLIED_LANGUAGE}\", \"{language}\"] to the survey")
                        } else {
                            format!("the survey lists {}", self.languages.join(", "))
                        };
                        self.error(
                            path.field(language),
                            format!(
                                "'{language}' is not one of the survey's \"languages\" ({hint})"
                            ),
                        );
                    } else if value.trim().is_empty() {
                        self.error(path.field(language), "is empty");
                    }
                }
                if !texts.contains_key(&self.default_language) {
                    self.error(
                        path.clone(),
                        format!(
                            "has no text in the default language '{}' (the first of \"languages\")",
                            self.default_language
                        ),
                    );
                }
                for language in &self.languages[1..] {
                    if !texts.contains_key(language) {
                        self.warnings.push(Problem::new(
                            path.clone(),
                            format!(
                                "has no '{language}' text; respondents in that language see the '{}' text",
                                self.default_language
                            ),
                        ));
                    }
                }
            }
        }
    }

    fn question(&mut self, path: &JsonPath, question: &Question) {
        self.text(&path.field("text"), question.text());
        if let Some(help) = question.help() {
            self.text(&path.field("help"), help);
        }
        match question {
            Question::Nps(q) => self.end_anchors(&path.field("anchors"), &q.anchors),
            Question::Likert(q) => self.likert(path, q),
            Question::PainPoints(q) => self.pain_points(path, q),
            Question::Choice(q) => self.choice(path, q),
            Question::Text(q) => {
                if !(1..=MAX_TEXT_LENGTH).contains(&q.max_length) {
                    self.error(
                        path.field("max_length"),
                        format!(
                            "must be between 1 and {MAX_TEXT_LENGTH} (found {})",
                            q.max_length
                        ),
                    );
                }
            }
        }
    }

    fn end_anchors(&mut self, path: &JsonPath, anchors: &EndAnchors) {
        self.text(&path.field("low"), &anchors.low);
        self.text(&path.field("high"), &anchors.high);
    }

    fn likert(&mut self, path: &JsonPath, q: &LikertQuestion) {
        let scale_ok = LIKERT_SCALES.contains(&q.scale);
        if !scale_ok {
            self.error(path.field("scale"), "must be 5 or 7");
        }
        if !is_key(&q.dimension) {
            self.error(
                path.field("dimension"),
                format!("'{}' is not a valid dimension: use {KEY_RULE}", q.dimension),
            );
        }
        match &q.anchors {
            LikertAnchors::Ends(ends) => self.end_anchors(&path.field("anchors"), ends),
            LikertAnchors::PerPoint(labels) => {
                if scale_ok && labels.len() != usize::from(q.scale) {
                    self.error(
                        path.field("anchors"),
                        format!(
                            "has {} labels for a {}-point scale: give one label per point, or {{\"low\": …, \"high\": …}}",
                            labels.len(),
                            q.scale
                        ),
                    );
                }
                for (i, label) in labels.iter().enumerate() {
                    self.text(&path.field("anchors").index(i), label);
                }
            }
        }
    }

    fn option_keys<'o>(&mut self, path: &JsonPath, keys: impl Iterator<Item = &'o str>) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, key) in keys.enumerate() {
            let key_path = path.field("options").index(i).field("key");
            if !is_key(key) {
                self.error(
                    key_path,
                    format!("'{key}' is not a valid key: use {KEY_RULE}"),
                );
            } else if let Some(first) = seen.get(key) {
                self.error(
                    key_path,
                    format!("'{key}' is already the key of options[{first}]: every option needs its own key"),
                );
            } else {
                seen.insert(key, i);
            }
        }
    }

    fn pain_points(&mut self, path: &JsonPath, q: &PainPointsQuestion) {
        if q.options.is_empty() {
            self.error(
                path.field("options"),
                "has no options: list the pain points to choose from",
            );
        }
        self.option_keys(path, q.options.iter().map(|o| o.key.as_str()));
        for (i, option) in q.options.iter().enumerate() {
            self.text(
                &path.field("options").index(i).field("label"),
                &option.label,
            );
        }
        if let Some(max) = q.max_choices {
            if max == 0 {
                self.error(
                    path.field("max_choices"),
                    "must be at least 1 (leave it out to allow any number)",
                );
            } else if !q.options.is_empty()
                && usize::try_from(max).map_or(true, |m| m > q.options.len())
            {
                self.error(
                    path.field("max_choices"),
                    format!(
                        "is {max} but there are only {} options (leave it out to allow any number)",
                        q.options.len()
                    ),
                );
            }
        }
    }

    fn choice(&mut self, path: &JsonPath, q: &ChoiceQuestion) {
        match q.options.len() {
            0 => self.error(
                path.field("options"),
                "has no options: a choice needs at least two",
            ),
            1 => self.error(
                path.field("options"),
                "has only one option: a choice needs at least two",
            ),
            _ => {}
        }
        self.option_keys(path, q.options.iter().map(|o| o.key.as_str()));
        for (i, option) in q.options.iter().enumerate() {
            self.text(
                &path.field("options").index(i).field("label"),
                &option.label,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> SurveyDefinition {
        serde_json::from_value(serde_json::json!({
            "slug": "pulse-check",
            "version": 1,
            "title": {"en": "Pulse", "de": "Puls"},
            "intro": "Two minutes.",
            "languages": ["en", "de"],
            "segments": ["region"],
            "questions": [
                {"kind": "nps", "key": "recommend", "text": "Recommend?", "anchors": {"low": "No", "high": "Yes"}},
                {"kind": "likert", "key": "overall", "text": "Overall?", "scale": 5, "dimension": "overall",
                 "anchors": ["1", "2", "3", "4", "5"]},
                {"kind": "pain_points", "key": "pains", "text": "Pains?", "options": [
                    {"key": "slow", "label": "Slow", "stage": "approval"}]},
                {"kind": "text", "key": "comment", "text": "Anything else?"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn required_defaults_by_kind() {
        let d = minimal();
        let required: Vec<bool> = d.questions.iter().map(Question::is_required).collect();
        assert_eq!(required, [true, true, false, false]);
        for q in &d.questions {
            assert_eq!(q.is_required(), q.kind().required_by_default());
        }
        let Question::Text(text) = &d.questions[3] else {
            panic!()
        };
        assert_eq!(text.max_length, 1000);
    }

    #[test]
    fn texts_fall_back_to_the_default_language() {
        let d = minimal();
        assert_eq!(d.default_language(), "en");
        assert_eq!(d.best_language(Some("de-CH")), "de");
        assert_eq!(d.best_language(Some("DE")), "de");
        assert_eq!(d.best_language(Some("fr")), "en");
        assert_eq!(d.best_language(None), "en");
        let de = d.texts(Some("de"));
        assert_eq!(de.get(&d.title), "Puls");
        assert_eq!(de.get(&d.intro), "Two minutes.");
        assert_eq!(d.texts(Some("fr")).get(&d.title), "Pulse");
        assert_eq!(d.default_title(), "Pulse");
    }

    #[test]
    fn likert_points_carry_their_labels() {
        let mut d = minimal();
        let Question::Likert(likert) = &mut d.questions[1] else {
            panic!()
        };
        let texts = Texts {
            language: "en",
            default_language: "en",
        };
        assert_eq!(likert.point_labels(texts)[4], (5, Some("5")));
        likert.anchors = LikertAnchors::Ends(EndAnchors {
            low: LocalizedText::Plain("Poor".into()),
            high: LocalizedText::Plain("Excellent".into()),
        });
        let labels = likert.point_labels(texts);
        assert_eq!(labels[0], (1, Some("Poor")));
        assert_eq!(labels[2], (3, None));
        assert_eq!(labels[4], (5, Some("Excellent")));
        assert_eq!(likert.top_two_box(), 4..=5);
    }

    #[test]
    fn a_good_definition_has_no_problems_but_may_lack_translations() {
        let d = minimal();
        assert_eq!(d.problems(), []);
        let warnings = d.missing_translations();
        assert!(
            warnings.iter().any(|w| w.path.to_string() == "intro"),
            "{warnings:?}"
        );
    }

    #[test]
    fn paths_print_like_javascript() {
        let path = JsonPath::root()
            .field("questions")
            .index(3)
            .field("options")
            .index(0)
            .field("stage");
        assert_eq!(path.to_string(), "questions[3].options[0].stage");
        assert_eq!(JsonPath::root().to_string(), "(top level)");
    }

    #[test]
    fn key_and_slug_rules() {
        assert!(is_slug("internal-customer"));
        assert!(!is_slug("a"));
        assert!(!is_slug("Internal"));
        assert!(!is_slug("9lives"));
        assert!(is_key("q"));
        assert!(is_key("policy_clarity2"));
        assert!(!is_key("policy-clarity"));
        assert!(!is_key(""));
        assert!(!is_key(&"a".repeat(64)));
        assert!(is_language_code("pt-BR"));
        assert!(!is_language_code("english"));
        assert_eq!(humanize("business_unit"), "Business unit");
    }
}
