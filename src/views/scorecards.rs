//! View models of the scorecard pages (`pages/admin/scorecard`, `pages/admin/scorecards`
//! and a unit's results summaries, `pages/admin/unit_results`): figures formatted in words,
//! statuses as words and colours, sparklines and the NPS-against-speed chart as inline SVG.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::scorecards::card::{MeasureLine, Organisation, Scorecard, UnitAction, HIDDEN_NOTE};
use crate::scorecards::charts;
use crate::scorecards::period::HalfYear;
use crate::scorecards::status::{Better, Status};
use crate::scorecards::unit_results::{SummaryLine, UnitResults};

/// The path segment of a unit ("R&D" → "R%26D").
pub fn unit_path(unit: &str) -> String {
    utf8_percent_encode(unit, NON_ALPHANUMERIC).to_string()
}

/// A figure in its unit: "+12 points", "64 %", "87 days", "250 kEUR".
pub fn format_value(value: f64, unit: Option<&str>) -> String {
    match unit {
        Some("points") => format!("{value:+.0}"),
        Some("%") => format!("{value:.0} %"),
        Some("days") => format!("{value:.0} days"),
        Some(other) => format!("{} {other}", plain(value)),
        None => plain(value),
    }
}

fn plain(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn target_text(line: &MeasureLine) -> String {
    match line.target {
        None => "—".into(),
        Some(target) => {
            let sign = match line.better {
                Better::Higher => "≥",
                Better::Lower => "≤",
            };
            format!("{sign} {}", format_value(target, line.unit.as_deref()))
        }
    }
}

fn value_text(line: &MeasureLine) -> String {
    match (line.status, line.value) {
        (Status::Hidden, _) => HIDDEN_NOTE.to_string(),
        (_, Some(value)) => format_value(value, line.unit.as_deref()),
        (_, None) => "no data".into(),
    }
}

#[derive(Serialize)]
pub struct MeasureView {
    pub key: String,
    pub name: String,
    pub value: String,
    pub target: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub hidden: bool,
    pub sparkline: Option<String>,
    /// The trend in words (the chart's text alternative).
    pub trend_text: String,
}

fn measure_view(line: &MeasureLine) -> MeasureView {
    let values: Vec<Option<f64>> = line.trend.iter().map(|t| t.value).collect();
    let trend_text: Vec<String> = line
        .trend
        .iter()
        .map(|t| {
            let text = match (t.hidden, t.value) {
                (true, _) => "hidden".to_string(),
                (_, Some(v)) => format_value(v, line.unit.as_deref()),
                (_, None) => "no data".to_string(),
            };
            format!("{}: {text}", t.period)
        })
        .collect();
    let trend_text = trend_text.join("; ");
    MeasureView {
        key: line.key.clone(),
        name: line.name.clone(),
        value: value_text(line),
        target: target_text(line),
        status: line.status.as_str(),
        status_label: line.status.label(),
        hidden: line.status == Status::Hidden,
        sparkline: charts::sparkline_svg(
            &values,
            line.target,
            &format!("{}, last four half-years: {trend_text}", line.name),
        ),
        trend_text,
    }
}

#[derive(Serialize)]
pub struct PeriodNav {
    pub current: String,
    pub previous: String,
    pub next: String,
}

fn nav(period: HalfYear) -> PeriodNav {
    let next = if period.half() == 1 {
        HalfYear::new(period.year(), 2)
    } else {
        HalfYear::new(period.year() + 1, 1)
    };
    PeriodNav {
        current: period.to_string(),
        previous: period.previous().to_string(),
        next: next.unwrap_or(period).to_string(),
    }
}

#[derive(Serialize)]
pub struct ScorecardPage {
    pub unit: String,
    pub unit_path: String,
    pub period: PeriodNav,
    pub survey_note: String,
    pub survey_shown: bool,
    pub definition_version: i32,
    pub measures: Vec<MeasureView>,
    pub counts: StatusCounts,
    /// Whether the reader may go to the organisation page.
    pub organisation_link: bool,
    pub actions: Vec<ActionLine>,
}

/// An action aimed at the unit, in words.
#[derive(Serialize)]
pub struct ActionLine {
    pub title: String,
    pub target_label: String,
    pub wave_title: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub due_on: String,
    pub overdue: bool,
    pub published: bool,
}

fn action_line(action: &UnitAction) -> ActionLine {
    ActionLine {
        title: action.title.clone(),
        target_label: action.target_label.clone(),
        wave_title: action.wave_title.clone(),
        status: action.status.as_str(),
        status_label: action.status_label,
        due_on: action.due_on.to_string(),
        overdue: action.overdue,
        published: action.published,
    }
}

#[derive(Serialize, Default)]
pub struct StatusCounts {
    pub met: usize,
    pub almost: usize,
    pub missed: usize,
}

pub fn scorecard_page(card: &Scorecard, organisation_link: bool) -> ScorecardPage {
    let mut counts = StatusCounts::default();
    for m in &card.measures {
        match m.status {
            Status::Met => counts.met += 1,
            Status::Almost => counts.almost += 1,
            Status::Missed => counts.missed += 1,
            _ => {}
        }
    }
    ScorecardPage {
        unit: card.unit.clone(),
        unit_path: unit_path(&card.unit),
        period: nav(card.period),
        survey_note: card.survey.note.clone(),
        survey_shown: card.survey.shown,
        definition_version: card.definition_version,
        measures: card.measures.iter().map(measure_view).collect(),
        counts,
        organisation_link,
        actions: card.actions.iter().map(action_line).collect(),
    }
}

#[derive(Serialize)]
pub struct OrganisationPage {
    pub period: PeriodNav,
    /// The columns: the units.
    pub units: Vec<UnitHead>,
    /// The rows: one per measure, a cell per unit.
    pub rows: Vec<MeasureRow>,
    pub speed_svg: Option<String>,
    pub speed_points: Vec<SpeedText>,
    pub definition_version: i32,
}

#[derive(Serialize)]
pub struct UnitHead {
    pub unit: String,
    pub unit_path: String,
}

#[derive(Serialize)]
pub struct MeasureRow {
    pub name: String,
    pub target: String,
    pub cells: Vec<CellView>,
}

#[derive(Serialize)]
pub struct CellView {
    pub value: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub hidden: bool,
}

#[derive(Serialize)]
pub struct SpeedText {
    pub unit: String,
    pub period: String,
    pub nps: String,
    pub within_target: String,
}

pub fn organisation_page(org: &Organisation, units: &[&Scorecard]) -> OrganisationPage {
    let points: Vec<_> = org
        .speed_and_satisfaction
        .iter()
        .filter(|p| units.iter().any(|u| u.unit == p.unit))
        .cloned()
        .collect();
    let rows = org
        .measures
        .iter()
        .enumerate()
        .map(|(index, head)| MeasureRow {
            name: head.name.clone(),
            // Per-unit targets differ: the row names the general one, "varies" otherwise.
            target: {
                let targets: Vec<String> = units
                    .iter()
                    .filter_map(|card| card.measures.get(index))
                    .map(target_text)
                    .collect();
                match targets.first() {
                    Some(first) if targets.iter().all(|t| t == first) => first.clone(),
                    Some(_) => "varies by unit".into(),
                    None => "—".into(),
                }
            },
            cells: units
                .iter()
                .filter_map(|card| card.measures.get(index))
                .map(|m| CellView {
                    value: if m.status == Status::Hidden {
                        "hidden".into()
                    } else {
                        value_text(m)
                    },
                    status: m.status.as_str(),
                    status_label: m.status.label(),
                    hidden: m.status == Status::Hidden,
                })
                .collect(),
        })
        .collect();
    OrganisationPage {
        period: nav(org.period),
        units: units
            .iter()
            .map(|card| UnitHead {
                unit: card.unit.clone(),
                unit_path: unit_path(&card.unit),
            })
            .collect(),
        rows,
        speed_svg: charts::speed_svg(
            &points,
            "Each business unit's NPS against its share of requests fulfilled within target, per half-year",
        ),
        speed_points: points
            .iter()
            .map(|p| SpeedText {
                unit: p.unit.clone(),
                period: p.period.to_string(),
                nps: format!("{:+.0}", p.nps),
                within_target: format!("{:.0} %", p.within_target),
            })
            .collect(),
        definition_version: org.definition_version,
    }
}

#[derive(Serialize)]
pub struct UnitResultsPage {
    pub unit: String,
    pub unit_path: String,
    pub waves: Vec<UnitWaveView>,
}

#[derive(Serialize)]
pub struct UnitWaveView {
    /// The unit again, for the template's loop.
    pub unit: String,
    pub wave_id: String,
    pub title: String,
    pub survey_title: String,
    pub closed_on: String,
    pub shown: bool,
    pub unit_shown: bool,
    pub unit_note: Option<String>,
    pub lines: Vec<SummaryLineView>,
    pub pain_points: Vec<PainPointView>,
}

#[derive(Serialize)]
pub struct SummaryLineView {
    pub key: String,
    pub label: String,
    pub whole: String,
    pub group: String,
    pub group_hidden: bool,
}

#[derive(Serialize)]
pub struct PainPointView {
    pub label: String,
    pub stage: String,
    pub share: String,
    /// The unit's share, "hidden" when the unit is.
    pub group_share: String,
}

fn summary_value(value: Option<f64>, line: &SummaryLine) -> String {
    match value {
        None => "—".into(),
        Some(v) => match line.unit {
            "points" => format!("{v:+.0}"),
            "%" => format!("{v:.0} %"),
            _ => match line.scale {
                Some(scale) => format!("{v:.1} of {scale}"),
                None => format!("{v:.1}"),
            },
        },
    }
}

/// A unit's published results summaries, in words.
pub fn unit_results_page(results: &UnitResults) -> UnitResultsPage {
    UnitResultsPage {
        unit: results.unit.clone(),
        unit_path: unit_path(&results.unit),
        waves: results
            .waves
            .iter()
            .map(|wave| UnitWaveView {
                unit: results.unit.clone(),
                wave_id: wave.wave_id.clone(),
                title: wave.title.clone(),
                survey_title: wave.survey_title.clone(),
                closed_on: wave.closed_on.to_string(),
                shown: wave.shown,
                unit_shown: wave.unit_shown,
                unit_note: wave.unit_note.clone(),
                lines: wave
                    .lines
                    .iter()
                    .map(|line| SummaryLineView {
                        key: line.key.clone(),
                        label: line.label.clone(),
                        whole: summary_value(line.whole, line),
                        group: if line.group_hidden {
                            "hidden".into()
                        } else {
                            summary_value(line.group, line)
                        },
                        group_hidden: line.group_hidden,
                    })
                    .collect(),
                pain_points: wave
                    .pain_points
                    .iter()
                    .map(|p| PainPointView {
                        label: p.label.clone(),
                        stage: p.stage.clone(),
                        share: format!("{:.0} %", p.share),
                        group_share: match (wave.unit_shown, p.group_share) {
                            (false, _) => "hidden".into(),
                            (true, Some(share)) => format!("{share:.0} %"),
                            (true, None) => "—".into(),
                        },
                    })
                    .collect(),
            })
            .collect(),
    }
}
