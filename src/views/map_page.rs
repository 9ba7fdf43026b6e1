//! The stakeholder map page's view model (`templates/pages/admin/map.html.hbs`): the SVG of
//! [`StakeholderMap`], the table beside it (the same groups with their numbers, for screen
//! readers and for reading exact values), the pickers (breakdown, importance, NPS or CSAT)
//! and, per group, the link that starts an action on it.

use serde::Serialize;

use crate::charts::{compact_number, stakeholder_map_svg, MapAxes, MapDot};
use crate::domain::definition::humanize;
use crate::domain::wave::WaveState;
use crate::results::map::{Measure, Quadrant, StakeholderMap};

#[derive(Debug, Serialize)]
pub struct MapPage {
    pub wave_id: String,
    pub wave_title: String,
    pub survey_title: String,
    pub audience: Option<&'static str>,
    pub k: u32,
    pub attribute_label: String,
    /// "business unit", for sentences.
    pub attribute_lower: String,
    pub importance_label: String,
    pub importance_how: String,
    pub measure_label: &'static str,
    pub attributes: Vec<Choice>,
    pub importances: Vec<Choice>,
    pub measures: Vec<Choice>,
    pub svg: Option<String>,
    pub description: String,
    pub previous_title: Option<String>,
    pub satisfaction_split: Option<String>,
    pub importance_split: Option<String>,
    pub rows: Vec<RowView>,
    pub not_shown: usize,
    pub json_href: String,
}

#[derive(Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct RowView {
    pub number: usize,
    pub value: String,
    pub responses: u64,
    pub importance: String,
    pub satisfaction: String,
    pub previous: Option<String>,
    pub quadrant: &'static str,
    pub act_first: bool,
    /// Starts an action on the group's NPS or CSAT (closed waves only).
    pub plan_href: Option<String>,
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn satisfaction_text(measure: Measure, value: f64) -> String {
    match measure {
        Measure::Nps => format!("{value:+.1}"),
        Measure::Csat => format!("{value:.1} %"),
    }
}

pub fn map_page(map: &StakeholderMap, wave_state: WaveState) -> MapPage {
    let texts_language = "en";
    let importance_label = map
        .importance
        .label
        .get(texts_language, texts_language)
        .to_string();
    let attribute_label = humanize(&map.attribute);
    let dots: Vec<MapDot<'_>> = map
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| MapDot {
            number: i + 1,
            label: &p.value,
            importance: p.importance,
            satisfaction: p.satisfaction,
            previous: p.previous.map(|q| (q.importance, q.satisfaction)),
            act_first: p.quadrant == Quadrant::ActFirst,
        })
        .collect();
    let description = format!(
        "Stakeholder map of {} by {}: {} across, {} up; {} groups, listed in the table that follows",
        map.wave_title,
        attribute_label.to_lowercase(),
        importance_label,
        map.measure.label(),
        map.points.len()
    );
    let svg = stakeholder_map_svg(
        &dots,
        &MapAxes {
            importance_label: &importance_label,
            satisfaction_label: map.measure.label(),
            importance_split: map.importance_split,
            satisfaction_split: map.satisfaction_split,
        },
        &description,
    );
    let target = map.measure.as_str();
    let rows = map
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| RowView {
            number: i + 1,
            value: p.value.clone(),
            responses: p.responses,
            importance: compact_number(p.importance),
            satisfaction: satisfaction_text(map.measure, p.satisfaction),
            previous: p.previous.map(|q| {
                format!(
                    "{} · {}",
                    compact_number(q.importance),
                    satisfaction_text(map.measure, q.satisfaction)
                )
            }),
            quadrant: p.quadrant.label(),
            act_first: p.quadrant == Quadrant::ActFirst,
            plan_href: (wave_state == WaveState::Closed).then(|| {
                format!(
                    "/admin/actions/new?wave={}&target={target}&group={}",
                    url_encode(&map.wave_id),
                    url_encode(&format!("{}={}", map.attribute, p.value))
                )
            }),
        })
        .collect();
    MapPage {
        wave_id: map.wave_id.clone(),
        wave_title: map.wave_title.clone(),
        survey_title: map.survey_title.clone(),
        audience: map.audience.map(|a| a.label()),
        k: map.anonymity_k,
        importance_how: match map.importance.aggregate {
            crate::domain::definition::ImportanceAggregate::Sum => format!(
                "the total of {} over the group's invitees",
                map.importance.attribute
            ),
            crate::domain::definition::ImportanceAggregate::Mean => format!(
                "the average {} of the group's invitees",
                map.importance.attribute
            ),
        },
        attribute_lower: attribute_label.to_lowercase(),
        attribute_label,
        importance_label,
        measure_label: map.measure.label(),
        attributes: map
            .attributes
            .iter()
            .map(|a| Choice {
                value: a.clone(),
                label: humanize(a),
                selected: *a == map.attribute,
            })
            .collect(),
        importances: map
            .importance_attributes
            .iter()
            .map(|i| Choice {
                value: i.attribute.clone(),
                label: i.label.get(texts_language, texts_language).to_string(),
                selected: i.attribute == map.importance.attribute,
            })
            .collect(),
        measures: [Measure::Nps, Measure::Csat]
            .into_iter()
            .map(|m| Choice {
                value: m.as_str().into(),
                label: m.label().into(),
                selected: m == map.measure,
            })
            .collect(),
        svg,
        description,
        previous_title: map.previous_wave_title.clone(),
        satisfaction_split: map
            .satisfaction_split
            .map(|s| satisfaction_text(map.measure, s)),
        importance_split: map.importance_split.map(compact_number),
        rows,
        not_shown: map.not_shown,
        json_href: format!(
            "/api/v1/waves/{}/map?by={}&importance={}&measure={}",
            url_encode(&map.wave_id),
            url_encode(&map.attribute),
            url_encode(&map.importance.attribute),
            map.measure.as_str()
        ),
    }
}
