//! A request as the request API receives it: one JSON object with the CSV's fields, from
//! JSON to a validated [`RequestRecord`] — pure, no database. The rules and the words are
//! the import's ([`validate_request`]); JSON adds its own cases: a field that is missing,
//! of the wrong type, or unknown (refused, so that a misspelt `fulfiled_on` is not dropped
//! silently and the request left open).

use serde::Serialize;
use serde_json::Value;

use super::csv_import::{required, validate_request, FIELDS};
use super::RequestRecord;

/// What is wrong with a request sent to the API: the field (`None` when it is the body as
/// a whole), a short reason for programs and the message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: Option<String>,
    pub reason: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(field: Option<&str>, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.map(str::to_string),
            reason,
            message: message.into(),
        }
    }
}

/// Fields that may be sent as JSON numbers as well as text.
const NUMERIC: [&str; 2] = ["request_id", "value"];

/// Reads and validates a request: the record, or every problem (unknown fields first, then
/// the fields in the CSV's column order).
pub fn parse_request(body: &Value) -> Result<RequestRecord, Vec<Problem>> {
    let Value::Object(object) = body else {
        return Err(vec![Problem::new(
            None,
            "not_an_object",
            "the body must be one JSON object with the request's fields, e.g. {\"request_id\": \"R-1\", \"business_unit\": \"IT\", …}",
        )]);
    };
    let mut problems: Vec<Problem> = object
        .keys()
        .filter(|key| !FIELDS.contains(&key.as_str()))
        .map(|key| {
            Problem::new(
                Some(key),
                "unknown_field",
                format!(
                    "'{key}' is not a field of a request: the fields are {}",
                    FIELDS.join(", ")
                ),
            )
        })
        .collect();
    // The text of each field, as the CSV would have it; fields already found wrong here
    // are not checked again.
    let mut texts: Vec<String> = Vec::with_capacity(FIELDS.len());
    let mut reported = [false; 10];
    for (index, field) in FIELDS.iter().enumerate() {
        let text = match object.get(*field) {
            None | Some(Value::Null) => {
                if required(index) {
                    problems.push(Problem::new(
                        Some(field),
                        "missing",
                        format!("the {field} is missing: every request needs it"),
                    ));
                    reported[index] = true;
                }
                String::new()
            }
            Some(Value::String(text)) => text.trim().to_string(),
            Some(Value::Number(number)) if NUMERIC.contains(field) => number.to_string(),
            Some(_) => {
                let expected = if *field == "value" {
                    "a number, e.g. 1250.50"
                } else if field.ends_with("_on") {
                    "a date as text, YYYY-MM-DD"
                } else {
                    "text"
                };
                problems.push(Problem::new(
                    Some(field),
                    "wrong_type",
                    format!("the {field} must be {expected}"),
                ));
                reported[index] = true;
                String::new()
            }
        };
        texts.push(text);
    }
    let cells: [&str; 10] = std::array::from_fn(|i| texts[i].as_str());
    match validate_request(&cells, 1) {
        Ok(record) if problems.is_empty() => Ok(record),
        outcome => {
            let found = outcome.err().unwrap_or_default();
            problems.extend(
                found
                    .into_iter()
                    .filter(|p| !reported[p.field])
                    .map(|p| Problem::new(Some(FIELDS[p.field]), p.reason, p.message)),
            );
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "request_id": "R-1", "business_unit": "IT", "requester_email": "anna@example.com",
            "category": "Laptops", "channel": "catalogue", "value": 1200.5, "currency": "eur",
            "opened_on": "2026-01-05", "fulfilled_on": "2026-02-01", "status": "fulfilled"
        })
    }

    fn problems(body: Value) -> Vec<(Option<String>, &'static str)> {
        parse_request(&body)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.reason))
            .collect()
    }

    #[test]
    fn reads_a_request_like_a_csv_row() {
        let record = parse_request(&good()).unwrap();
        assert_eq!(record.id, "R-1");
        assert_eq!(record.currency.as_deref(), Some("EUR"));
        assert_eq!(record.value, Some(1200.5));
        let mut minimal = good();
        let object = minimal.as_object_mut().unwrap();
        for optional in ["requester_email", "value", "currency", "status"] {
            object.remove(optional);
        }
        object.insert("request_id".into(), json!(42));
        let record = parse_request(&minimal).unwrap();
        assert_eq!(record.id, "42");
        assert_eq!(record.status.as_str(), "fulfilled");
    }

    #[test]
    fn names_each_field_and_reason() {
        let mut body = good();
        let object = body.as_object_mut().unwrap();
        object.remove("category");
        object.insert("opened_on".into(), json!("2026-02-30"));
        object.insert("channel".into(), json!(["card"]));
        object.insert("fulfiled_on".into(), json!("2026-03-01"));
        let s = |f: &str| Some(f.to_string());
        assert_eq!(
            problems(body),
            [
                (s("fulfiled_on"), "unknown_field"),
                (s("category"), "missing"),
                (s("channel"), "wrong_type"),
                (s("opened_on"), "not_a_date"),
            ]
        );
        let mut before = good();
        before["fulfilled_on"] = json!("2025-12-31");
        assert_eq!(problems(before), [(s("fulfilled_on"), "before_opened_on")]);
        assert_eq!(problems(json!([1])), [(None, "not_an_object")]);
    }
}
