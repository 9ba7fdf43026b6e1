//! A business unit's published results summaries: what the head of a unit (a viewer) may
//! read of the surveys beside the scorecard.
//!
//! For every closed wave that asked the unit (its results break the business unit down
//! and list the unit): the whole wave's figures ([`results::wave_results`]) beside the
//! unit's ([`results::filtered_results`] for `business_unit = UNIT`, the figures the
//! scorecard shows) — both the wave's published results, through its release plan. Where
//! the plan hides the unit its figures say so and are never numbers. Nothing here shows
//! comments, other units' groups or anything the results pages do not.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::db::models::waves as wave_rows;
use crate::db::DbConn;
use crate::requests::UNIT_ATTRIBUTE;
use crate::services::results::{self, ResultsCache, ResultsError, SegmentFilter, WaveResults};

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
    /// The option's key in the survey definition.
    pub key: String,
    pub label: String,
    pub stage: String,
    /// Share of the wave's respondents naming it, %.
    pub share: f64,
    /// Share of the unit's respondents naming it, %; `null` when the unit is hidden.
    pub group_share: Option<f64>,
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
            Err(ResultsError::NotFound(_)) | Err(ResultsError::Refused(_)) => continue,
            Err(ResultsError::Unexpected(e)) => return Err(e),
        };
        if !asked(&results, unit) {
            continue;
        }
        let filter = SegmentFilter {
            attribute: UNIT_ATTRIBUTE.to_string(),
            value: unit.to_string(),
        };
        let group = match results::filtered_results(conn, cache, &wave_id, &filter, now) {
            Ok(group) if group.shown && group.answers_released => Some(group),
            Ok(_) | Err(ResultsError::Refused(_)) | Err(ResultsError::NotFound(_)) => None,
            Err(ResultsError::Unexpected(e)) => return Err(e),
        };
        waves.push(summary(&results, group.as_deref(), unit, closed_at.date()));
    }
    Ok(UnitResults {
        unit: unit.to_string(),
        waves,
    })
}

/// Whether the wave asked the unit: its results break the business unit down and list it
/// (shown or hidden).
fn asked(results: &WaveResults, unit: &str) -> bool {
    results
        .segments
        .iter()
        .filter(|s| s.attribute == UNIT_ATTRIBUTE)
        .flat_map(|s| &s.groups)
        .any(|g| g.value == unit)
}

/// The wave's summary: the whole wave beside the unit's filtered results (`None` when the
/// release plan does not show the unit).
fn summary(
    results: &WaveResults,
    group: Option<&WaveResults>,
    unit: &str,
    closed_on: NaiveDate,
) -> UnitWave {
    let k = results.anonymity_k;
    let released = results.shown && results.answers_released;
    let unit_note = match group {
        Some(_) => None,
        None => {
            let reason = results
                .segments
                .iter()
                .filter(|s| s.attribute == UNIT_ATTRIBUTE)
                .flat_map(|s| &s.groups)
                .find(|g| g.value == unit)
                .and_then(|g| g.hidden);
            Some(match reason {
                Some(hidden) => format!("{HIDDEN_NOTE} ({})", hidden.text(k)),
                None => format!(
                    "{HIDDEN_NOTE}: the survey's release plan does not show {unit} on its own"
                ),
            })
        }
    };
    // A figure of the unit: `(value, hidden)`. Hidden when the unit is, or when its results
    // hide that figure; merely absent when it is undefined there.
    let of_group = |value: Option<f64>, hidden: bool| -> (Option<f64>, bool) {
        match group {
            None => (None, true),
            Some(_) => (value, value.is_none() && hidden),
        }
    };
    let mut lines = Vec::new();
    let (value, hidden) = of_group(group.and_then(|g| g.response_rate), false);
    lines.push(SummaryLine {
        key: "response_rate".into(),
        label: "Response rate".into(),
        unit: "%",
        scale: None,
        whole: results.response_rate.map(|r| r * 100.0),
        group: value.map(|r| r * 100.0),
        group_hidden: hidden,
    });
    if let Some(nps) = results.nps.as_ref().filter(|_| released) {
        let (value, hidden) = of_group(
            group.and_then(|g| g.nps.as_ref()).map(|n| n.score),
            group.is_some_and(|g| g.nps_hidden.is_some()),
        );
        lines.push(SummaryLine {
            key: "nps".into(),
            label: "Net Promoter Score".into(),
            unit: "points",
            scale: None,
            whole: Some(nps.score),
            group: value,
            group_hidden: hidden,
        });
    }
    if let Some(csat) = results.csat.as_ref().filter(|_| released) {
        let (value, hidden) = of_group(
            group
                .and_then(|g| g.csat.as_ref())
                .map(|c| c.top2box * 100.0),
            group.is_some_and(|g| g.csat_hidden.is_some()),
        );
        lines.push(SummaryLine {
            key: "csat".into(),
            label: "Satisfied (top-2-box)".into(),
            unit: "%",
            scale: None,
            whole: Some(csat.top2box * 100.0),
            group: value,
            group_hidden: hidden,
        });
    }
    for dimension in &results.dimensions {
        let whole = dimension
            .figures
            .as_ref()
            .filter(|_| released)
            .map(|f| f.mean);
        let mine = group.and_then(|g| g.dimensions.iter().find(|d| d.key == dimension.key));
        let (value, hidden) = of_group(
            mine.and_then(|d| d.figures.as_ref()).map(|f| f.mean),
            mine.is_some_and(|d| d.hidden.is_some()),
        );
        lines.push(SummaryLine {
            key: format!("dimension:{}", dimension.key),
            label: dimension.label.clone(),
            unit: "mean",
            scale: Some(dimension.scale),
            whole,
            group: value,
            group_hidden: hidden,
        });
    }
    let group_share = |key: &str| {
        group.and_then(|g| {
            g.pain_points
                .iter()
                .flat_map(|q| &q.stages)
                .flat_map(|s| &s.options)
                .find(|o| o.key == key)
                .map(|o| o.share * 100.0)
        })
    };
    let mut pain_points: Vec<PainPointLine> = if released {
        results
            .pain_points
            .iter()
            .flat_map(|q| &q.stages)
            .flat_map(|s| {
                s.options.iter().map(|o| PainPointLine {
                    key: o.key.clone(),
                    label: o.label.clone(),
                    stage: s.label.clone(),
                    share: o.share * 100.0,
                    group_share: group_share(&o.key),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    pain_points.sort_by(|a, b| b.share.total_cmp(&a.share));
    pain_points.truncate(TOP_PAIN_POINTS);
    UnitWave {
        wave_id: results.wave.id.clone(),
        title: results.wave.title.clone(),
        survey_slug: results.wave.survey_slug.clone(),
        survey_title: results.wave.survey_title.clone(),
        closed_on,
        anonymity_k: k,
        shown: released,
        unit_shown: group.is_some(),
        unit_note,
        lines,
        pain_points,
    }
}

/// The columns of the CSV and XLSX downloads: one row per wave and figure (pain points
/// as `pain_point:KEY`). `everyone` and `unit_value` in the figure's unit (% for rates
/// and shares, points for NPS, scale points for means); `unit_status` is `shown`, `hidden`
/// or empty when the figure is not there.
pub const HEADER: [&str; 10] = [
    "business_unit",
    "wave_id",
    "wave",
    "survey",
    "closed_on",
    "figure",
    "label",
    "everyone",
    "unit_value",
    "unit_status",
];

/// One exported row: texts, then the two numbers, then the status.
struct Row {
    texts: [String; 7],
    everyone: Option<f64>,
    unit_value: Option<f64>,
    status: &'static str,
}

fn rows(results: &UnitResults) -> Vec<Row> {
    use crate::export::neutralise;
    let mut out = Vec::new();
    for wave in &results.waves {
        let texts = |figure: &str, label: &str| {
            [
                neutralise(&results.unit),
                wave.wave_id.clone(),
                neutralise(&wave.title),
                neutralise(&wave.survey_title),
                wave.closed_on.to_string(),
                neutralise(figure),
                neutralise(label),
            ]
        };
        for line in &wave.lines {
            out.push(Row {
                texts: texts(&line.key, &line.label),
                everyone: line.whole,
                unit_value: line.group,
                status: match (line.group_hidden, line.group) {
                    (true, _) => "hidden",
                    (false, Some(_)) => "shown",
                    (false, None) => "",
                },
            });
        }
        for pain in &wave.pain_points {
            out.push(Row {
                texts: texts(&format!("pain_point:{}", pain.key), &pain.label),
                everyone: Some(pain.share),
                unit_value: pain.group_share,
                status: match (wave.unit_shown, pain.group_share) {
                    (false, _) => "hidden",
                    (true, Some(_)) => "shown",
                    (true, None) => "",
                },
            });
        }
    }
    out
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{}", (v * 1e6).round() / 1e6),
        _ => String::new(),
    }
}

/// The summaries as CSV: the same figures as the page and the JSON API.
pub fn to_csv(results: &UnitResults) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for row in rows(results) {
        let mut record: Vec<String> = row.texts.to_vec();
        record.push(number(row.everyone));
        record.push(number(row.unit_value));
        record.push(row.status.to_string());
        writer.write_record(record)?;
    }
    Ok(writer.into_inner()?)
}

/// The summaries as XLSX: the rows of [`to_csv`], numbers as numbers.
pub fn to_xlsx(results: &UnitResults) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Results summaries")?;
    let bold = Format::new().set_bold();
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    for (i, row) in rows(results).into_iter().enumerate() {
        let r = u32::try_from(i + 1)?;
        for (col, text) in row.texts.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r, col as u16, text)?;
            }
        }
        for (col, value) in [(7, row.everyone), (8, row.unit_value)] {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                sheet.write_number(r, col, v)?;
            }
        }
        if !row.status.is_empty() {
            sheet.write_string(r, 9, row.status)?;
        }
    }
    sheet.set_column_width(2, 24)?;
    sheet.set_column_width(6, 36)?;
    Ok(workbook.save_to_buffer()?)
}
