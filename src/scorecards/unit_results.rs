//! A business unit's published results summaries: what the head of a unit (a viewer) may
//! read of the surveys beside the scorecard.
//!
//! For every closed wave that asked the unit (its results break the business unit down
//! and list the unit): the whole wave's figures and the unit's group figures, both taken
//! from the wave's published results ([`results::wave_results`], which applies the release
//! plan). Where the plan hides the unit its figures say so and are never numbers. Nothing
//! here shows comments, other units' groups or anything the results page does not.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::db::models::waves as wave_rows;
use crate::db::DbConn;
use crate::requests::UNIT_ATTRIBUTE;
use crate::services::results::{self, GroupFigures, ResultsCache, ResultsError, WaveResults};

use super::card::HIDDEN_NOTE;

/// Closed waves a summary page lists, newest first.
pub const MAX_WAVES: usize = 6;
/// Pain points listed per wave.
pub const TOP_PAIN_POINTS: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct UnitResults {
    pub unit: String,
    /// Newest first.
    pub waves: Vec<UnitWave>,
}

/// One closed wave, for one unit.
#[derive(Debug, Clone, Serialize)]
pub struct UnitWave {
    pub wave_id: String,
    pub title: String,
    pub survey_slug: String,
    pub survey_title: String,
    pub closed_on: NaiveDate,
    pub anonymity_k: u32,
    /// Whether the whole wave has enough respondents to show answer figures.
    pub shown: bool,
    /// Whether the release plan shows the unit on its own.
    pub unit_shown: bool,
    /// Why the unit's figures are missing, in words (`null` when shown).
    pub unit_note: Option<String>,
    /// Response rate, NPS, CSAT and each satisfaction dimension: the whole wave beside the
    /// unit.
    pub lines: Vec<SummaryLine>,
    /// The whole wave's most named pain points.
    pub pain_points: Vec<PainPointLine>,
}

/// One figure of the whole wave and of the unit. `null` where hidden or not asked.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryLine {
    pub key: String,
    pub label: String,
    /// `%` (response rate, CSAT: in percent), `points` (NPS) or `mean` (scale points).
    pub unit: &'static str,
    /// The scale's points, for means.
    pub scale: Option<u8>,
    pub whole: Option<f64>,
    pub group: Option<f64>,
    /// The unit's figure is hidden (not merely absent).
    pub group_hidden: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PainPointLine {
    pub label: String,
    pub stage: String,
    /// Share of the wave's respondents naming it, %.
    pub share: f64,
}

/// The summaries of `unit`: every closed wave that asked it, newest first (at most
/// [`MAX_WAVES`]).
pub fn unit_results(
    conn: &mut DbConn,
    cache: &ResultsCache,
    unit: &str,
    now: NaiveDateTime,
) -> anyhow::Result<UnitResults> {
    let mut closed: Vec<(NaiveDateTime, String)> = wave_rows::list(conn)?
        .into_iter()
        .filter(|(wave, _, _)| wave.state == "closed")
        .map(|(wave, _, _)| (wave.closed_at.unwrap_or(wave.closes_at), wave.id))
        .collect();
    closed.sort_by(|a, b| b.cmp(a));
    let mut waves = Vec::new();
    for (closed_at, wave_id) in closed {
        if waves.len() == MAX_WAVES {
            break;
        }
        let results = match results::wave_results(conn, cache, &wave_id, now) {
            Ok(results) => results,
            Err(ResultsError::NotFound(_)) => continue,
            Err(ResultsError::Refused(_)) => continue,
            Err(ResultsError::Unexpected(e)) => return Err(e),
        };
        if let Some(wave) = summary(&results, unit, closed_at.date()) {
            waves.push(wave);
        }
    }
    Ok(UnitResults {
        unit: unit.to_string(),
        waves,
    })
}

/// The wave's summary for `unit`, or `None` when its results do not break the business
/// unit down or do not list the unit (it was not asked).
fn summary(results: &WaveResults, unit: &str, closed_on: NaiveDate) -> Option<UnitWave> {
    let group = results
        .segments
        .iter()
        .find(|s| s.attribute == UNIT_ATTRIBUTE)?
        .groups
        .iter()
        .find(|g| g.value == unit)?;
    let k = results.anonymity_k;
    let figures: Option<&GroupFigures> = if results.shown && results.answers_released {
        group.figures.as_ref()
    } else {
        None
    };
    let unit_note = match (figures, group.hidden) {
        (Some(_), _) => None,
        (None, Some(hidden)) => Some(format!("{HIDDEN_NOTE} ({})", hidden.text(k))),
        (None, None) => Some(format!("{HIDDEN_NOTE}: the wave has too few responses")),
    };
    let released = results.shown && results.answers_released;
    let mut lines = vec![SummaryLine {
        key: "response_rate".into(),
        label: "Response rate".into(),
        unit: "%",
        scale: None,
        whole: results.response_rate.map(|r| r * 100.0),
        group: figures.and_then(|f| f.response_rate).map(|r| r * 100.0),
        group_hidden: figures.is_none(),
    }];
    if let Some(nps) = results.nps.as_ref().filter(|_| released) {
        let group = figures.and_then(|f| f.nps);
        lines.push(SummaryLine {
            key: "nps".into(),
            label: "Net Promoter Score".into(),
            unit: "points",
            scale: None,
            whole: Some(nps.score),
            group,
            group_hidden: group.is_none(),
        });
    }
    if let Some(csat) = results.csat.as_ref().filter(|_| released) {
        // The breakdown has no CSAT per group: the unit's column stays empty, not hidden.
        lines.push(SummaryLine {
            key: "csat".into(),
            label: "Satisfied (top-2-box)".into(),
            unit: "%",
            scale: None,
            whole: Some(csat.top2box * 100.0),
            group: None,
            group_hidden: false,
        });
    }
    for (index, dimension) in results.dimensions.iter().enumerate() {
        let whole = dimension
            .figures
            .as_ref()
            .filter(|_| released)
            .map(|f| f.mean);
        let group = figures.and_then(|f| f.dimension_means.get(index).copied().flatten());
        lines.push(SummaryLine {
            key: format!("dimension:{}", dimension.key),
            label: dimension.label.clone(),
            unit: "mean",
            scale: Some(dimension.scale),
            whole,
            group,
            group_hidden: group.is_none(),
        });
    }
    let mut pain_points: Vec<PainPointLine> = if released {
        results
            .pain_points
            .iter()
            .flat_map(|q| &q.stages)
            .flat_map(|s| {
                s.options.iter().map(|o| PainPointLine {
                    label: o.label.clone(),
                    stage: s.label.clone(),
                    share: o.share * 100.0,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    pain_points.sort_by(|a, b| b.share.total_cmp(&a.share));
    pain_points.truncate(TOP_PAIN_POINTS);
    Some(UnitWave {
        wave_id: results.wave.id.clone(),
        title: results.wave.title.clone(),
        survey_slug: results.wave.survey_slug.clone(),
        survey_title: results.wave.survey_title.clone(),
        closed_on,
        anonymity_k: k,
        shown: released,
        unit_shown: figures.is_some(),
        unit_note,
        lines,
        pain_points,
    })
}
