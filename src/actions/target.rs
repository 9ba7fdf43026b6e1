//! What an action aims at — a figure the results page shows — and "did it work": that
//! figure in the wave the action came from and in every later wave of the same survey,
//! read from those waves' published results (the results service and its release plan;
//! nothing here reads cells).

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::waves as wave_rows;
use crate::db::DbConn;
use crate::services::results::{
    self, Change, ResultsCache, ResultsError, SegmentFilter, WaveResults,
};

/// The figure an action is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Nps,
    Csat,
    /// A satisfaction dimension, by key.
    Dimension(String),
    /// A pain-point option, by key.
    PainPoint(String),
    /// A procurement stage (its mentions per respondent), by key.
    Stage(String),
}

impl Target {
    /// Parses `nps`, `csat`, `dimension:KEY`, `pain_point:KEY` or `stage:KEY`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (kind, key) = match text.split_once(':') {
            Some((kind, key)) => (kind.trim(), key.trim()),
            None => (text, ""),
        };
        Self::from_parts(kind, key).ok_or_else(|| {
            format!(
                "\"{text}\" is not a figure of the results: write nps, csat, dimension:KEY, pain_point:KEY or stage:KEY"
            )
        })
    }

    /// From the stored kind and key.
    pub fn from_parts(kind: &str, key: &str) -> Option<Self> {
        let keyed = |make: fn(String) -> Target| (!key.is_empty()).then(|| make(key.to_string()));
        match (kind, key) {
            ("nps", "") => Some(Target::Nps),
            ("csat", "") => Some(Target::Csat),
            ("dimension", _) => keyed(Target::Dimension),
            ("pain_point", _) => keyed(Target::PainPoint),
            ("stage", _) => keyed(Target::Stage),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Nps => "nps",
            Target::Csat => "csat",
            Target::Dimension(_) => "dimension",
            Target::PainPoint(_) => "pain_point",
            Target::Stage(_) => "stage",
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Target::Nps | Target::Csat => "",
            Target::Dimension(k) | Target::PainPoint(k) | Target::Stage(k) => k,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.key() {
            "" => f.write_str(self.kind()),
            key => write!(f, "{}:{key}", self.kind()),
        }
    }
}

/// One figure as read from a wave's results.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What it is, as the results page names it ("NPS", "Satisfaction: Communication"…).
    pub label: String,
    /// NPS in points; CSAT and pain-point shares as fractions; dimension means in scale
    /// points; a stage in mentions per respondent.
    pub value: f64,
    /// `points`, `share`, `mean` or `per_respondent`.
    pub unit: &'static str,
    /// Answers (or respondents) behind it.
    pub n: u64,
    /// The results page's change since the wave before, with its significance.
    pub change: Option<Change>,
}

/// The figure `target` in `results`, when the results show it.
pub fn figure_of(results: &WaveResults, target: &Target) -> Option<Figure> {
    if !results.shown || !results.answers_released {
        return None;
    }
    match target {
        Target::Nps => results.nps.as_ref().map(|nps| Figure {
            label: "NPS".into(),
            value: nps.score,
            unit: "points",
            n: nps.n,
            change: nps.change.clone(),
        }),
        Target::Csat => results.csat.as_ref().map(|csat| Figure {
            label: "CSAT (top-2-box)".into(),
            value: csat.top2box,
            unit: "share",
            n: csat.answers,
            change: csat.change.clone(),
        }),
        Target::Dimension(key) => results
            .dimensions
            .iter()
            .find(|d| &d.key == key)
            .and_then(|d| {
                d.figures.as_ref().map(|f| Figure {
                    label: format!("Satisfaction: {}", d.label),
                    value: f.mean,
                    unit: "mean",
                    n: f.n,
                    change: f.change.clone(),
                })
            }),
        Target::PainPoint(key) => results.pain_points.iter().find_map(|question| {
            question
                .stages
                .iter()
                .flat_map(|s| &s.options)
                .find(|o| &o.key == key)
                .map(|o| Figure {
                    label: format!("Pain point: {}", o.label),
                    value: o.share,
                    unit: "share",
                    n: question.respondents,
                    change: o.change.clone(),
                })
        }),
        Target::Stage(key) => results.pain_points.iter().find_map(|question| {
            question
                .stages
                .iter()
                .find(|s| s.stage.as_str() == key)
                .filter(|_| question.respondents > 0)
                .map(|s| Figure {
                    label: format!("Procurement stage: {}", s.label),
                    value: s.mentions as f64 / question.respondents as f64,
                    unit: "per_respondent",
                    n: question.respondents,
                    change: None,
                })
        }),
    }
}

/// The results an action's target is read from: the whole wave's, or one group's
/// (refused by the results service when the release plan hides the group).
pub fn results_for(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    group: Option<&SegmentFilter>,
    now: NaiveDateTime,
) -> Result<std::sync::Arc<WaveResults>, ResultsError> {
    match group {
        Some(group) => results::filtered_results(conn, cache, wave_id, group, now),
        None => results::wave_results(conn, cache, wave_id, now),
    }
}

/// The target in one wave, for "did it work".
#[derive(Debug, Clone, Serialize)]
pub struct TargetPoint {
    pub wave_id: String,
    pub wave_title: String,
    pub opens_at: NaiveDateTime,
    /// The wave the action was planned on.
    pub origin: bool,
    /// `null` when this wave does not show the figure (see `note`).
    pub figure: Option<Figure>,
    /// This wave's value minus the origin wave's (same unit).
    pub since_origin: Option<f64>,
    /// Why there is no figure.
    pub note: Option<String>,
}

/// The target in the origin wave and in every later wave of the same survey that is in
/// the trend: closed waves from their published results; open ones say they are open.
pub fn did_it_work(
    conn: &mut DbConn,
    cache: &ResultsCache,
    slug: &str,
    origin_wave_id: &str,
    target: &Target,
    group: Option<&SegmentFilter>,
    now: NaiveDateTime,
) -> Result<Vec<TargetPoint>, ResultsError> {
    let waves = wave_rows::opened_of_survey(conn, slug)?;
    let Some(origin) = waves.iter().find(|w| w.id == origin_wave_id) else {
        return Ok(Vec::new());
    };
    let origin_opens = origin.opens_at;
    let mut points = Vec::new();
    let mut origin_value = None;
    for wave in waves.iter().filter(|w| w.opens_at >= origin_opens) {
        let is_origin = wave.id == origin_wave_id;
        let (figure, note) = if wave.state != "closed" {
            (
                None,
                Some("Open: its figures come when it closes.".to_string()),
            )
        } else {
            match results_for(conn, cache, &wave.id, group, now) {
                Ok(results) => match figure_of(&results, target) {
                    Some(figure) => (Some(figure), None),
                    None => (
                        None,
                        Some("Not shown in this wave (too few answers, or not asked).".into()),
                    ),
                },
                Err(ResultsError::Refused(_)) => (
                    None,
                    Some("This group is hidden in this wave's results.".into()),
                ),
                Err(e) => return Err(e),
            }
        };
        if is_origin {
            origin_value = figure.as_ref().map(|f| f.value);
        }
        let since_origin = match (&figure, origin_value, is_origin) {
            (Some(f), Some(o), false) => Some(f.value - o),
            _ => None,
        };
        points.push(TargetPoint {
            wave_id: wave.id.clone(),
            wave_title: wave.title.clone(),
            opens_at: wave.opens_at,
            origin: is_origin,
            figure,
            since_origin,
            note,
        });
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn targets_parse_and_print_back() {
        for text in [
            "nps",
            "csat",
            "dimension:ease",
            "pain_point:approval_delay",
            "stage:approval",
        ] {
            assert_eq!(Target::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Target::parse(" NPS ").ok(), None);
        assert!(Target::parse("dimension:").is_err());
        assert!(Target::parse("nps:x").is_err());
        assert!(Target::parse("revenue")
            .unwrap_err()
            .contains("not a figure"));
    }
}
