//! What a definition says for the customer-of-choice mirror and the stakeholder map: who
//! answers it (`audience`), which Likert questions are one side of a pair (`pair`), which
//! are customer-of-choice items, and which directory attributes say how important a group
//! is (`importance`). The checks of one file live here ([`Checker::importance`],
//! [`Checker::pairs`]); [`pair_conflicts`] checks pairs across the files of a folder (both
//! sides of a pair must be asked on the same scale).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    humanize, is_key, Checker, JsonPath, LikertQuestion, LocalizedText, Problem, Question,
    SurveyDefinition, KEY_RULE,
};

/// Who answers a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The people procurement serves inside the organisation.
    InternalCustomers,
    /// The organisation's suppliers (procurement as their customer).
    Suppliers,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InternalCustomers => "internal_customers",
            Self::Suppliers => "suppliers",
        }
    }

    /// "internal customers" / "suppliers", for sentences.
    pub fn label(self) -> &'static str {
        match self {
            Self::InternalCustomers => "internal customers",
            Self::Suppliers => "suppliers",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::InternalCustomers => Self::Suppliers,
            Self::Suppliers => Self::InternalCustomers,
        }
    }
}

/// A directory attribute that says how important a group is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportanceAttribute {
    /// The stakeholder attribute (a column of the directory), e.g. "annual_spend". Its
    /// values must be numbers; stakeholders without a number are left out.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub attribute: String,
    /// How a group's importance follows from its members' values: "sum" (e.g. spend) or
    /// "mean" (e.g. influence on a 1–5 scale). Default: "sum".
    #[serde(default, skip_serializing_if = "ImportanceAggregate::is_sum")]
    pub aggregate: ImportanceAggregate,
    /// What the axis of the map says, e.g. "Annual spend (EUR)".
    pub label: LocalizedText,
}

/// How a group's importance is worked out from its members' attribute values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportanceAggregate {
    /// The total over the group's members (spend, headcount).
    #[default]
    Sum,
    /// The average over the group's members (a rating such as influence 1–5).
    Mean,
}

impl ImportanceAggregate {
    fn is_sum(&self) -> bool {
        *self == Self::Sum
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Mean => "mean",
        }
    }
}

/// One side of a pair: a Likert question and where it is.
#[derive(Debug, Clone, Copy)]
pub struct PairedQuestion<'a> {
    /// The pair's key, e.g. "communication".
    pub pair: &'a str,
    /// Its index in `questions`.
    pub index: usize,
    pub question: &'a LikertQuestion,
}

impl SurveyDefinition {
    /// The paired Likert questions, in the order they are asked.
    pub fn paired_questions(&self) -> Vec<PairedQuestion<'_>> {
        self.questions
            .iter()
            .enumerate()
            .filter_map(|(index, question)| match question {
                Question::Likert(q) => q.pair.as_deref().map(|pair| PairedQuestion {
                    pair,
                    index,
                    question: q,
                }),
                _ => None,
            })
            .collect()
    }

    /// The dimensions of the customer-of-choice items, in the order they are asked.
    pub fn customer_of_choice_dimensions(&self) -> Vec<&str> {
        let mut dimensions: Vec<&str> = Vec::new();
        for question in &self.questions {
            if let Question::Likert(q) = question {
                if q.customer_of_choice && !dimensions.contains(&q.dimension.as_str()) {
                    dimensions.push(&q.dimension);
                }
            }
        }
        dimensions
    }

    /// The importance attribute named `attribute`, else the first one.
    pub fn importance_attribute(&self, attribute: Option<&str>) -> Option<&ImportanceAttribute> {
        attribute
            .and_then(|a| self.importance.iter().find(|i| i.attribute == a))
            .or_else(|| self.importance.first())
    }
}

/// `"timely_decisions_and_payment"` → "Timely decisions and payment".
pub fn pair_label(pair: &str) -> String {
    humanize(pair)
}

impl Checker {
    pub(super) fn importance(&mut self, d: &SurveyDefinition) {
        let path = JsonPath::root().field("importance");
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, importance) in d.importance.iter().enumerate() {
            let at = path.index(i);
            if !is_key(&importance.attribute) {
                self.error(
                    at.field("attribute"),
                    format!(
                        "'{}' is not a stakeholder attribute name: use {KEY_RULE}",
                        importance.attribute
                    ),
                );
            } else if let Some(first) = seen.get(importance.attribute.as_str()) {
                self.error(
                    at.field("attribute"),
                    format!(
                        "'{}' is already named by importance[{first}]",
                        importance.attribute
                    ),
                );
            } else {
                seen.insert(&importance.attribute, i);
            }
            self.text(&at.field("label"), &importance.label);
        }
    }

    pub(super) fn pairs(&mut self, d: &SurveyDefinition) {
        let questions = JsonPath::root().field("questions");
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for paired in d.paired_questions() {
            let at = questions.index(paired.index);
            if !is_key(paired.pair) {
                self.error(
                    at.field("pair"),
                    format!("'{}' is not a valid pair: use {KEY_RULE}", paired.pair),
                );
                continue;
            }
            if let Some(first) = seen.get(paired.pair) {
                self.error(
                    at.field("pair"),
                    format!(
                        "'{}' already pairs questions[{first}]: a survey has one side of each pair",
                        paired.pair
                    ),
                );
                continue;
            }
            seen.insert(paired.pair, paired.index);
            if d.audience.is_none() {
                self.error(
                    at.field("pair"),
                    "pairs a question, but the survey has no \"audience\": add \"audience\": \"internal_customers\" or \"suppliers\" so the mirror knows which side it is",
                );
            }
            let dimension = &paired.question.dimension;
            if let Some(other) = d.questions.iter().enumerate().find_map(|(i, q)| match q {
                Question::Likert(q) if i != paired.index && &q.dimension == dimension => Some(i),
                _ => None,
            }) {
                self.error(
                    at.field("dimension"),
                    format!(
                        "'{dimension}' is also the dimension of questions[{other}]: a paired question needs a dimension of its own, so the mirror compares this question's own figures"
                    ),
                );
            }
        }
        for (i, question) in d.questions.iter().enumerate() {
            if let Question::Likert(q) = question {
                if q.customer_of_choice && d.audience != Some(Audience::Suppliers) {
                    self.error(
                        questions.index(i).field("customer_of_choice"),
                        "customer-of-choice items belong to a supplier survey: add \"audience\": \"suppliers\"",
                    );
                }
            }
        }
    }
}

/// Pairs across the definitions of a folder: both sides of a pair must be asked on the same
/// scale, or their figures cannot be set side by side. Each conflict is reported once, in
/// the file of the suppliers' side, as (file, problem).
pub fn pair_conflicts(definitions: &[(&str, &SurveyDefinition)]) -> Vec<(String, Problem)> {
    let mut problems = Vec::new();
    for (file, definition) in definitions {
        if definition.audience != Some(Audience::Suppliers) {
            continue;
        }
        for paired in definition.paired_questions() {
            for (other_file, other) in definitions {
                if other.audience != Some(Audience::InternalCustomers) {
                    continue;
                }
                let Some(counterpart) = other
                    .paired_questions()
                    .into_iter()
                    .find(|p| p.pair == paired.pair)
                else {
                    continue;
                };
                if counterpart.question.scale != paired.question.scale {
                    problems.push((
                        file.to_string(),
                        Problem::new(
                            JsonPath::root()
                                .field("questions")
                                .index(paired.index)
                                .field("scale"),
                            format!(
                                "pair '{}' is asked on a {}-point scale here but on a {}-point scale in {other_file} (questions[{}]): both sides of a pair need the same scale",
                                paired.pair,
                                paired.question.scale,
                                counterpart.question.scale,
                                counterpart.index
                            ),
                        ),
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(audience: &str, scale: u8, extra: serde_json::Value) -> SurveyDefinition {
        let mut value = serde_json::json!({
            "slug": "survey",
            "version": 1,
            "title": "T",
            "intro": "I",
            "audience": audience,
            "segments": ["region"],
            "questions": [
                {"kind": "likert", "key": "talk", "text": "Talk?", "scale": scale,
                 "dimension": "talk", "pair": "communication",
                 "anchors": {"low": "No", "high": "Yes"}}
            ]
        });
        if let (Some(object), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                object.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn pairs_with_different_scales_are_a_clear_error() {
        let internal = survey("internal_customers", 5, serde_json::json!({}));
        let suppliers = survey("suppliers", 7, serde_json::json!({}));
        assert!(internal.problems().is_empty());
        assert!(suppliers.problems().is_empty());
        let conflicts = pair_conflicts(&[("a.json", &internal), ("b.json", &suppliers)]);
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].0, "b.json");
        assert_eq!(
            conflicts[0].1.to_string(),
            "questions[0].scale: pair 'communication' is asked on a 7-point scale here but on a 5-point scale in a.json (questions[0]): both sides of a pair need the same scale"
        );
        let same = survey("suppliers", 5, serde_json::json!({}));
        assert!(pair_conflicts(&[("a.json", &internal), ("b.json", &same)]).is_empty());
    }

    #[test]
    fn a_pair_needs_an_audience_and_a_dimension_of_its_own() {
        let mut d = survey("suppliers", 5, serde_json::json!({}));
        d.audience = None;
        let mut second = d.questions[0].clone();
        if let Question::Likert(q) = &mut second {
            q.key = "talk_again".into();
        }
        d.questions.push(second);
        let problems: Vec<String> = d.problems().iter().map(ToString::to_string).collect();
        assert!(
            problems.iter().any(|p| p.starts_with(
                "questions[0].pair: pairs a question, but the survey has no \"audience\""
            )),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p
                    .starts_with("questions[1].pair: 'communication' already pairs questions[0]")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with(
                "questions[0].dimension: 'talk' is also the dimension of questions[1]"
            )),
            "{problems:?}"
        );
    }

    #[test]
    fn importance_attributes_are_checked() {
        let d = survey(
            "suppliers",
            5,
            serde_json::json!({"importance": [
                {"attribute": "annual_spend", "label": "Spend"},
                {"attribute": "annual_spend", "aggregate": "mean", "label": "Spend"},
                {"attribute": "Bad Name", "label": ""}
            ]}),
        );
        let problems: Vec<String> = d.problems().iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            vec![
                "importance[1].attribute: 'annual_spend' is already named by importance[0]",
                "importance[2].attribute: 'Bad Name' is not a stakeholder attribute name: use lower-case letters, digits and _, starting with a letter, at most 63 characters (e.g. policy_clarity)",
                "importance[2].label: is empty",
            ]
        );
        assert_eq!(d.importance[0].aggregate, ImportanceAggregate::Sum);
        assert_eq!(
            d.importance_attribute(Some("nope"))
                .map(|i| i.attribute.as_str()),
            Some("annual_spend")
        );
    }

    #[test]
    fn customer_of_choice_items_need_a_supplier_survey() {
        let mut d = survey("internal_customers", 5, serde_json::json!({}));
        if let Question::Likert(q) = &mut d.questions[0] {
            q.customer_of_choice = true;
        }
        let problems: Vec<String> = d.problems().iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("questions[0].customer_of_choice:"));
        d.audience = Some(Audience::Suppliers);
        assert!(d.problems().is_empty());
        assert_eq!(d.customer_of_choice_dimensions(), vec!["talk"]);
    }
}
