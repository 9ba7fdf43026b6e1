//! View-models of the action pages: the actions of a survey (filters, overdue
//! highlighted), one action (texts, "did it work", notes, history, the forms that change
//! it) and the "plan an action" form. Each function returns the page's data (strict
//! templates: every key present, `null` where absent).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::actions::{
    ActionDetail, ActionInput, ActionView, Figure, FormChoices, ListFilter, Status,
};
use crate::services::results::WaveResults;

/// A figure in the unit the results page uses.
pub fn figure_text(figure: &Figure) -> String {
    value_text(figure.unit, figure.value)
}

fn value_text(unit: &str, value: f64) -> String {
    match unit {
        "points" => format!("{value:+.1}"),
        "share" => format!("{:.1} %", 100.0 * value),
        "mean" => format!("{value:.2}"),
        _ => format!("{value:.2}"),
    }
}

/// A difference in the figure's unit, with words for its direction: for NPS, CSAT and
/// satisfaction up is better; for pain points and stages (complaints) down is better.
fn diff_json(unit: &str, lower_is_better: bool, diff: f64) -> Value {
    let text = match unit {
        "points" => format!("{diff:+.1} points"),
        "share" => format!("{:+.1} percentage points", 100.0 * diff),
        _ => format!("{diff:+.2}"),
    };
    let direction = if diff.abs() < 1e-9 {
        "same"
    } else if (diff > 0.0) != lower_is_better {
        "better"
    } else {
        "worse"
    };
    json!({ "text": text, "direction": direction })
}

/// `business_unit=Manufacturing` as people read it: "Business unit: Manufacturing".
fn group_label(group: &str) -> String {
    match group.split_once('=') {
        Some((attribute, value)) => {
            format!(
                "{}: {value}",
                crate::domain::definition::humanize(attribute)
            )
        }
        None => group.to_string(),
    }
}

fn lower_is_better(target: &str) -> bool {
    target.starts_with("pain_point") || target.starts_with("stage")
}

fn status_options(chosen: Option<Status>) -> Vec<Value> {
    Status::ALL
        .iter()
        .map(|s| json!({ "value": s.as_str(), "label": s.label(), "selected": Some(*s) == chosen }))
        .collect()
}

fn action_json(action: &ActionView) -> Value {
    let mut value = json!(action);
    value["status_label"] = json!(action.status.label());
    value["group_label"] = json!(action.group.as_deref().map(group_label));
    value["texts"] = json!(action
        .description
        .iter()
        .map(|(language, text)| json!({ "language": language, "text": text }))
        .collect::<Vec<_>>());
    value
}

/// The actions page of one survey.
pub fn list_page(
    slug: &str,
    survey_title: &str,
    actions: &[ActionView],
    filter: &ListFilter,
    owners: &[String],
    query: &str,
) -> Value {
    let (status, overdue) = (filter.status, filter.overdue);
    let owner = filter.owner.as_deref().unwrap_or("");
    json!({
        "slug": slug,
        "survey_title": survey_title,
        "actions": actions.iter().map(action_json).collect::<Vec<_>>(),
        "count": actions.len(),
        "overdue_count": actions.iter().filter(|a| a.overdue).count(),
        "statuses": status_options(status),
        "owners": owners.iter().map(|o| json!({ "email": o, "selected": o == owner })).collect::<Vec<_>>(),
        "overdue_only": overdue,
        "filtered": status.is_some() || !owner.is_empty() || overdue,
        "query": query,
    })
}

/// One action's page.
pub fn detail_page(
    detail: &ActionDetail,
    languages: &[String],
    owners: &[String],
    errors: Value,
) -> Value {
    let action = &detail.action;
    let lower = lower_is_better(&action.target);
    let points: Vec<Value> = detail
        .did_it_work
        .iter()
        .map(|p| {
            json!({
                "wave_id": p.wave_id,
                "wave_title": p.wave_title,
                "origin": p.origin,
                "value": p.figure.as_ref().map(figure_text),
                "n": p.figure.as_ref().map(|f| f.n),
                "since_origin": match (&p.figure, p.since_origin) {
                    (Some(f), Some(d)) => diff_json(f.unit, lower, d),
                    _ => Value::Null,
                },
                "significant": p.figure.as_ref().and_then(|f| f.change.as_ref()).map(|c| c.significant),
                "has_change": p.figure.as_ref().is_some_and(|f| f.change.is_some()),
                "note": p.note,
            })
        })
        .collect();
    let later = points.iter().filter(|p| p["origin"] == false).count();
    let texts: Vec<Value> = languages
        .iter()
        .enumerate()
        .map(|(i, language)| {
            json!({
                "language": language,
                "first": i == 0,
                "text": action.description.get(language).cloned().unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "group_label": action.group.as_deref().map(group_label),
        "action": action_json(action),
        "points": points,
        "later_waves": later,
        "notes": detail.notes,
        "history": detail.history.iter().map(|h| json!({
            "by": h.by,
            "at": h.at.format("%Y-%m-%d %H:%M").to_string(),
            "field": h.field,
            "old_value": h.old_value,
            "new_value": h.new_value,
        })).collect::<Vec<_>>(),
        "notes_view": detail.notes.iter().map(|n| json!({
            "author": n.author,
            "at": n.created_at.format("%Y-%m-%d %H:%M").to_string(),
            "body": n.body,
        })).collect::<Vec<_>>(),
        "statuses": status_options(Some(action.status)),
        "owners": owners.iter().map(|o| json!({ "email": o, "selected": *o == action.owner })).collect::<Vec<_>>(),
        "texts": texts,
        "errors": errors,
    })
}

/// The figures of `results` an action can aim at, as select options.
fn target_options(results: &WaveResults, chosen: &str) -> Vec<Value> {
    let mut options = Vec::new();
    let mut push = |value: String, label: String| {
        let selected = value == chosen;
        options.push(json!({ "value": value, "label": label, "selected": selected }));
    };
    if results.nps.is_some() {
        push("nps".into(), "NPS".into());
    }
    if results.csat.is_some() {
        push("csat".into(), "CSAT (top-2-box)".into());
    }
    for d in results.dimensions.iter().filter(|d| d.figures.is_some()) {
        push(
            format!("dimension:{}", d.key),
            format!("Satisfaction: {}", d.label),
        );
    }
    for question in &results.pain_points {
        for stage in &question.stages {
            push(
                format!("stage:{}", stage.stage.as_str()),
                format!("Procurement stage: {}", stage.label),
            );
            for option in &stage.options {
                push(
                    format!("pain_point:{}", option.key),
                    format!("Pain point: {}", option.label),
                );
            }
        }
    }
    options
}

/// The groups the results show, as select options (the whole wave first).
fn group_options(results: &WaveResults, chosen: &str) -> Vec<Value> {
    let mut options =
        vec![json!({ "value": "", "label": "The whole wave", "selected": chosen.is_empty() })];
    for segment in &results.segments {
        for group in segment.groups.iter().filter(|g| g.figures.is_some()) {
            let value = format!("{}={}", segment.attribute, group.value);
            options.push(json!({
                "label": format!("{}: {}", segment.label, group.value),
                "selected": value == chosen,
                "value": value,
            }));
        }
    }
    options
}

/// The "plan an action" form: first the wave, then (with the wave's results) the figure,
/// the group and the rest.
pub fn new_form(
    choices: &FormChoices,
    results: Option<&WaveResults>,
    languages: &[String],
    input: &ActionInput,
    errors: Value,
) -> Value {
    let waves: Vec<Value> = choices
        .waves
        .iter()
        .map(|(id, label, _)| json!({ "id": id, "label": label, "selected": *id == input.wave }))
        .collect();
    let texts: Vec<Value> = languages
        .iter()
        .enumerate()
        .map(|(i, language)| {
            json!({
                "language": language,
                "first": i == 0,
                "text": input.description.get(language).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let owners: Vec<Value> = choices
        .owners
        .iter()
        .map(|o| json!({ "email": o, "selected": *o == input.owner }))
        .collect();
    json!({
        "waves": waves,
        "wave": results.map(|r| json!({
            "id": r.wave.id,
            "title": r.wave.title,
            "survey_title": r.wave.survey_title,
            "survey_slug": r.wave.survey_slug,
        })),
        "targets": results.map(|r| target_options(r, input.target.trim())).unwrap_or_default(),
        "groups": results.map(|r| group_options(r, input.group.trim())).unwrap_or_default(),
        "texts": texts,
        "owners": owners,
        "form": input,
        "errors": errors,
        "has_errors": errors.as_object().is_some_and(|m| m.values().any(|v| !v.is_null())),
    })
}

/// The texts of a posted form: fields `text.LANG`.
pub fn texts_from_form(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(name, value)| {
            name.strip_prefix("text.")
                .map(|language| (language.to_string(), value.clone()))
        })
        .collect()
}
