//! The stakeholder map: every group of a breakdown that the wave's release plan shows,
//! placed by how important it is (a directory attribute the survey's definition names in
//! `importance`, summed or averaged over the group's invitees) and how satisfied it is (its
//! published NPS or CSAT, the lead chooses), in four quadrants — split at the whole wave's
//! figure and at the median importance of the groups shown — with the group's position in
//! the previous wave, so the map says where to act first.
//!
//! **Only published figures.** Satisfaction comes from the wave's published
//! [`WaveResults`] (each group's figures, and its trend for the previous wave); a group the
//! plan hides — or whose figure is hidden — is not on the map and has no importance worked
//! out. Importance is directory data, not answers: the invitees of a shown group (at least
//! k respondents among them) by the segment frozen at invitation, with the attribute's
//! current value in the directory.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::model::{SegmentGroup, WaveResults};
use super::store::ResultsCache;
use super::{counts::parse_cell, wave_results, ResultsError};
use crate::db::models::{invitations, waves as wave_rows};
use crate::db::DbConn;
use crate::domain::definition::{Audience, ImportanceAggregate, ImportanceAttribute};

/// What "satisfaction" means on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The group's NPS, in points.
    #[default]
    Nps,
    /// The group's CSAT (top-2-box over all satisfaction answers), in percent.
    Csat,
}

impl Measure {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "nps" => Ok(Self::Nps),
            "csat" => Ok(Self::Csat),
            other => Err(format!(
                "'{other}' is not a measure of satisfaction: use nps or csat"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nps => "nps",
            Self::Csat => "csat",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Nps => "NPS (points)",
            Self::Csat => "CSAT (% top-2-box)",
        }
    }
}

/// Where a group is on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Important and less satisfied than the whole wave.
    ActFirst,
    /// Important and at least as satisfied as the whole wave.
    KeepClose,
    /// Less important and less satisfied.
    ImproveWhenYouCan,
    /// Less important and at least as satisfied.
    KeepInformed,
}

impl Quadrant {
    pub fn of(important: bool, unhappy: bool) -> Self {
        match (important, unhappy) {
            (true, true) => Self::ActFirst,
            (true, false) => Self::KeepClose,
            (false, true) => Self::ImproveWhenYouCan,
            (false, false) => Self::KeepInformed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ActFirst => "Important and unhappy: act first",
            Self::KeepClose => "Important and happy: keep close",
            Self::ImproveWhenYouCan => "Less important and unhappy: improve when you can",
            Self::KeepInformed => "Less important and happy: keep informed",
        }
    }

    /// The order groups are listed in: act first first.
    pub fn rank(self) -> u8 {
        match self {
            Self::ActFirst => 0,
            Self::KeepClose => 1,
            Self::ImproveWhenYouCan => 2,
            Self::KeepInformed => 3,
        }
    }
}

/// The map of one wave by one breakdown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StakeholderMap {
    pub wave_id: String,
    pub wave_title: String,
    pub survey_slug: String,
    pub survey_title: String,
    pub audience: Option<Audience>,
    pub anonymity_k: u32,
    /// The breakdown mapped (a segment attribute) and the ones there are.
    pub attribute: String,
    pub attributes: Vec<String>,
    /// The importance attribute used and the ones the definition names.
    pub importance: ImportanceAttribute,
    pub importance_attributes: Vec<ImportanceAttribute>,
    pub measure: Measure,
    /// The wave the arrows start from.
    pub previous_wave: Option<String>,
    pub previous_wave_title: Option<String>,
    /// The whole wave's satisfaction: the line between happy and unhappy.
    pub satisfaction_split: Option<f64>,
    /// The median importance of the groups on the map: the line between important and
    /// less important.
    pub importance_split: Option<f64>,
    /// The groups on the map, act first first, then by importance.
    pub points: Vec<MapPoint>,
    /// Groups of the breakdown that are not on the map: hidden by the release plan, their
    /// figure hidden, or no importance value among their invitees.
    pub not_shown: usize,
}

/// One group on the map.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapPoint {
    pub value: String,
    pub responses: u64,
    pub importance: f64,
    /// Invitees with a number for the importance attribute.
    pub importance_from: u64,
    /// NPS points or CSAT percent.
    pub satisfaction: f64,
    pub quadrant: Quadrant,
    /// The group's place in the previous wave, where that wave showed it.
    pub previous: Option<MapPosition>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MapPosition {
    pub importance: f64,
    pub satisfaction: f64,
}

/// What the lead asked for.
#[derive(Debug, Clone, Default)]
pub struct MapQuery {
    pub attribute: Option<String>,
    pub importance: Option<String>,
    pub measure: Measure,
}

/// The map of a wave whose answers are released.
pub fn map(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    query: &MapQuery,
    now: NaiveDateTime,
) -> Result<StakeholderMap, ResultsError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ResultsError::NotFound(wave_id.to_string()))?;
    let definition = wave.parsed_definition()?;
    let Some(importance) = definition.importance_attribute(query.importance.as_deref()) else {
        return Err(ResultsError::Refused(format!(
            "{} names no importance attributes, so it has no stakeholder map: add \"importance\" (e.g. [{{\"attribute\": \"annual_spend\", \"label\": \"Annual spend\"}}]) to a new version of its definition.",
            wave.survey_title
        )));
    };
    let results = wave_results(conn, cache, wave_id, now)?;
    if !results.answers_released {
        return Err(ResultsError::Refused(
            "The map is drawn once the wave has closed: while it is open, only participation is shown.".into(),
        ));
    }
    let Some(segment) = results.segment(query.attribute.as_deref()) else {
        return Err(ResultsError::Refused(format!(
            "{} has no breakdown to map.",
            wave.survey_title
        )));
    };
    let attribute = segment.attribute.clone();
    let current = importance_by_group(conn, wave_id, &attribute, importance)?;
    let previous_importance = match &results.previous_wave {
        Some(previous) => Some(importance_by_group(
            conn,
            &previous.id,
            &attribute,
            importance,
        )?),
        None => None,
    };
    let mut map = build(
        &results,
        &attribute,
        query.measure,
        &current,
        previous_importance.as_ref(),
    );
    map.audience = definition.audience;
    map.importance = importance.clone();
    map.importance_attributes = definition.importance.clone();
    Ok(map)
}

/// (importance, invitees with a value) per group value of `attribute`, from the wave's
/// invitees' directory values.
pub type Importance = BTreeMap<String, (f64, u64)>;

fn importance_by_group(
    conn: &mut DbConn,
    wave_id: &str,
    attribute: &str,
    importance: &ImportanceAttribute,
) -> Result<Importance, ResultsError> {
    let mut sums: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for (segment, value) in
        invitations::segments_with_attribute(conn, wave_id, &importance.attribute)?
    {
        let Some(number) = parse_number(&value) else {
            continue;
        };
        let Some(group) = parse_cell(&segment).remove(attribute) else {
            continue;
        };
        let entry = sums.entry(group).or_default();
        entry.0 += number;
        entry.1 += 1;
    }
    Ok(sums
        .into_iter()
        .map(|(group, (sum, n))| {
            let value = match importance.aggregate {
                ImportanceAggregate::Sum => sum,
                ImportanceAggregate::Mean => sum / n as f64,
            };
            (group, (value, n))
        })
        .collect())
}

/// `1200000`, `1,200,000`, `1 200 000.5`: a directory value as a number.
fn parse_number(value: &str) -> Option<f64> {
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_' | '\u{a0}'))
        .collect();
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn satisfaction(group: &SegmentGroup, measure: Measure) -> Option<f64> {
    let figures = group.figures.as_ref()?;
    match measure {
        Measure::Nps => figures.nps,
        Measure::Csat => figures.csat.as_ref().map(|c| c.top2box * 100.0),
    }
}

/// The map from a wave's published results and its groups' importance (pure).
pub fn build(
    results: &WaveResults,
    attribute: &str,
    measure: Measure,
    importance: &Importance,
    previous_importance: Option<&Importance>,
) -> StakeholderMap {
    let groups = results
        .segments
        .iter()
        .find(|s| s.attribute == attribute)
        .map(|s| s.groups.as_slice())
        .unwrap_or_default();
    let previous_id = results.previous_wave.as_ref().map(|w| w.id.clone());
    let mut points = Vec::new();
    for group in groups {
        let (Some(satisfaction), Some((importance, from))) = (
            satisfaction(group, measure),
            importance.get(&group.value).copied(),
        ) else {
            continue;
        };
        let previous = previous_id.as_ref().and_then(|id| {
            let point = group.trend.iter().find(|p| &p.wave_id == id)?;
            let figures = point.figures.as_ref()?;
            let satisfaction = match measure {
                Measure::Nps => figures.nps?,
                Measure::Csat => figures.csat? * 100.0,
            };
            let (importance, _) = previous_importance?.get(&group.value).copied()?;
            Some(MapPosition {
                importance,
                satisfaction,
            })
        });
        points.push(MapPoint {
            value: group.value.clone(),
            responses: group.figures.as_ref().map_or(0, |f| f.responses),
            importance,
            importance_from: from,
            satisfaction,
            quadrant: Quadrant::KeepInformed,
            previous,
        });
    }
    let satisfaction_split = match measure {
        Measure::Nps => results.nps.as_ref().map(|n| n.score),
        Measure::Csat => results.csat.as_ref().map(|c| c.top2box * 100.0),
    };
    let importance_split = median(points.iter().map(|p| p.importance).collect());
    for point in &mut points {
        let important = importance_split.is_some_and(|split| point.importance >= split);
        let unhappy = satisfaction_split.is_some_and(|split| point.satisfaction < split);
        point.quadrant = Quadrant::of(important, unhappy);
    }
    points.sort_by(|a, b| {
        a.quadrant
            .rank()
            .cmp(&b.quadrant.rank())
            .then(b.importance.total_cmp(&a.importance))
            .then(a.value.cmp(&b.value))
    });
    StakeholderMap {
        wave_id: results.wave.id.clone(),
        wave_title: results.wave.title.clone(),
        survey_slug: results.wave.survey_slug.clone(),
        survey_title: results.wave.survey_title.clone(),
        audience: None,
        anonymity_k: results.anonymity_k,
        attribute: attribute.to_string(),
        attributes: results
            .segments
            .iter()
            .map(|s| s.attribute.clone())
            .collect(),
        importance: ImportanceAttribute {
            attribute: String::new(),
            aggregate: ImportanceAggregate::Sum,
            label: crate::domain::definition::LocalizedText::Plain(String::new()),
        },
        importance_attributes: Vec::new(),
        measure,
        previous_wave: previous_id,
        previous_wave_title: results.previous_wave.as_ref().map(|w| w.title.clone()),
        satisfaction_split,
        importance_split,
        not_shown: groups.len() - points.len(),
        points,
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_medians() {
        assert_eq!(parse_number("1,200,000"), Some(1_200_000.0));
        assert_eq!(parse_number(" 3.5 "), Some(3.5));
        assert_eq!(parse_number("high"), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
        assert_eq!(Quadrant::of(true, true), Quadrant::ActFirst);
        assert_eq!(Measure::parse("CSAT"), Ok(Measure::Csat));
        assert!(Measure::parse("mood").is_err());
    }
}
