//! Building scorecards: one business unit's measures in a half-year, each against its
//! target, with the trend over the last four half-years; and the organisation's view (every
//! unit × every measure, and NPS against speed).
//!
//! Survey figures come only from the published results of the survey's wave that closed in
//! the half-year, filtered to the unit through the wave's release plan
//! ([`results::filtered_results`]): where the plan does not show the unit, the figure is
//! "hidden", never a number.
//!
//! A scorecard also lists the actions aimed at the unit: those planned on a wave's results
//! for the unit's `business_unit` group (see [`crate::actions`]), created by the end of the
//! half-year.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::definition::{Measure, RequestFigure, ScorecardDefinition, Source};
use super::period::HalfYear;
use super::request_figures::RequestFigures;
use super::status::{Better, Status};
use crate::db::models::{kpis, waves as wave_rows};
use crate::db::DbConn;
use crate::requests::{self, RequestLog};
use crate::services::results::{self, ResultsCache, ResultsError, SegmentFilter, WaveResults};

/// Half-years a trend covers (this one and the three before).
pub const TREND_PERIODS: usize = 4;

/// What "hidden" means, in the product's words.
pub const HIDDEN_NOTE: &str = "hidden to protect anonymity";

#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    pub unit: String,
    pub period: HalfYear,
    /// The version of the scorecard definition the targets come from.
    pub definition_version: i32,
    /// The survey wave the survey figures come from, per half-year of the trend.
    pub survey: SurveySource,
    pub measures: Vec<MeasureLine>,
    /// The actions aimed at the unit, created by the end of the half-year, soonest due
    /// first. Viewers see only the published ones (the routes filter).
    pub actions: Vec<UnitAction>,
}

/// An action aimed at the unit, as a scorecard lists it.
#[derive(Debug, Clone, Serialize)]
pub struct UnitAction {
    pub id: String,
    pub title: String,
    /// The figure it aims at, as the results page names it.
    pub target_label: String,
    /// The wave whose results it answers.
    pub wave_title: String,
    pub status: crate::actions::Status,
    pub status_label: &'static str,
    pub due_on: NaiveDate,
    pub overdue: bool,
    /// Shown to respondents (and to viewers).
    pub published: bool,
}

/// Where the survey figures of the scorecard's half-year come from.
#[derive(Debug, Clone, Serialize)]
pub struct SurveySource {
    pub slug: String,
    /// The wave that closed in the half-year, if any.
    pub wave_id: Option<String>,
    pub wave_title: Option<String>,
    /// Whether its release plan shows the unit.
    pub shown: bool,
    /// In words: which wave, or why there are no survey figures.
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureLine {
    pub key: String,
    pub name: String,
    /// "survey", "requests" or "kpi".
    pub source: &'static str,
    pub unit: Option<String>,
    pub better: Better,
    /// `None` when there is no figure, or when it is hidden (see `status`).
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub almost: f64,
    pub status: Status,
    pub status_label: &'static str,
    /// Oldest first, ending with this half-year.
    pub trend: Vec<TrendValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendValue {
    pub period: HalfYear,
    pub value: Option<f64>,
    pub hidden: bool,
}

/// The pulse NPS of one unit and half-year, from the released quarters' published figures.
#[derive(Debug, Clone, Copy, Default)]
struct PulseFigure {
    value: Option<f64>,
    hidden: bool,
}

/// A survey figure of one period: the filtered results, or why there are none.
enum SurveyFigures {
    Shown(std::sync::Arc<WaveResults>),
    Hidden,
    NoWave,
}

/// The half-year a scorecard opens on when none is asked for: the one in which the
/// survey's latest wave closed (its survey figures are the newest there are), else the
/// current one.
pub fn default_period(
    conn: &mut DbConn,
    definition: &ScorecardDefinition,
    today: NaiveDate,
) -> anyhow::Result<HalfYear> {
    let latest = wave_rows::list(conn)?
        .into_iter()
        .filter(|(wave, slug, _)| slug == &definition.survey && wave.state == "closed")
        .map(|(wave, _, _)| wave.closed_at.unwrap_or(wave.closes_at).date())
        .max();
    Ok(HalfYear::of(latest.unwrap_or(today)))
}

/// The business units a scorecard can be made for: the directory's and those of the
/// request log and KPI values.
pub fn known_units(conn: &mut DbConn) -> anyhow::Result<BTreeSet<String>> {
    let mut units = requests::directory_units(conn)?;
    units.extend(crate::db::models::requests::units(conn)?);
    units.extend(kpis::units(conn)?);
    Ok(units)
}

/// Everything a scorecard reads, loaded once: request log, KPI values, survey waves.
pub struct Inputs<'a> {
    definition: &'a ScorecardDefinition,
    log: RequestLog,
    kpis: BTreeMap<(String, String, String), f64>,
    /// Half-year → (wave id, title) of the survey's last wave closed in it.
    waves: BTreeMap<HalfYear, (String, String)>,
    /// Unit → the actions aimed at it, soonest due first.
    actions: BTreeMap<String, Vec<(NaiveDate, UnitAction)>>,
    /// Half-year → the pulse waves of its quarters whose results are released.
    pulse_waves: BTreeMap<HalfYear, Vec<String>>,
    today: NaiveDate,
    now: NaiveDateTime,
}

impl<'a> Inputs<'a> {
    /// Loads what the scorecards of `unit` (or every unit) for the periods up to `period`
    /// need.
    pub fn load(
        conn: &mut DbConn,
        definition: &'a ScorecardDefinition,
        unit: Option<&str>,
        period: HalfYear,
        now: NaiveDateTime,
    ) -> anyhow::Result<Self> {
        let periods: Vec<String> = period
            .last(TREND_PERIODS)
            .iter()
            .map(ToString::to_string)
            .collect();
        let kpis = kpis::for_periods(conn, unit, &periods)?
            .into_iter()
            .map(|row| ((row.kpi_key, row.period, row.business_unit), row.value))
            .collect();
        let mut waves = BTreeMap::new();
        // Newest first: the first wave seen per half-year is its last to close.
        let mut listed = wave_rows::list(conn)?;
        listed.sort_by_key(|(wave, _, _)| {
            std::cmp::Reverse(wave.closed_at.unwrap_or(wave.closes_at))
        });
        for (wave, slug, _) in listed {
            if slug != definition.survey || wave.state != "closed" {
                continue;
            }
            let closed = wave.closed_at.unwrap_or(wave.closes_at).date();
            waves
                .entry(HalfYear::of(closed))
                .or_insert((wave.id, wave.title));
        }
        Ok(Self {
            definition,
            log: RequestLog::load(
                conn,
                unit,
                period
                    .last(TREND_PERIODS)
                    .first()
                    .copied()
                    .unwrap_or(period),
                period,
                now.date(),
            )?,
            kpis,
            waves,
            actions: unit_actions(conn, unit, now)?,
            pulse_waves: pulse_waves(conn)?,
            today: now.date(),
            now,
        })
    }

    /// The business units a scorecard can be made for: the directory's and those of the
    /// request log and KPI values.
    pub fn units(&self, conn: &mut DbConn) -> anyhow::Result<BTreeSet<String>> {
        let mut units = requests::directory_units(conn)?;
        // Every unit of the log, not only of the requests loaded for these half-years.
        units.extend(crate::db::models::requests::units(conn)?);
        units.extend(self.kpis.keys().map(|(_, _, unit)| unit.clone()));
        Ok(units)
    }

    fn survey(
        &self,
        conn: &mut DbConn,
        cache: &ResultsCache,
        unit: &str,
        period: HalfYear,
    ) -> anyhow::Result<SurveyFigures> {
        let Some((wave_id, _)) = self.waves.get(&period) else {
            return Ok(SurveyFigures::NoWave);
        };
        let filter = SegmentFilter {
            attribute: requests::UNIT_ATTRIBUTE.to_string(),
            value: unit.to_string(),
        };
        match results::filtered_results(conn, cache, wave_id, &filter, self.now) {
            Ok(results) if results.shown => Ok(SurveyFigures::Shown(results)),
            Ok(_) | Err(ResultsError::Refused(_)) => Ok(SurveyFigures::Hidden),
            Err(ResultsError::NotFound(_)) => Ok(SurveyFigures::NoWave),
            Err(ResultsError::Unexpected(e)) => Err(e),
        }
    }

    /// The pulse NPS of `unit` in `period`: the promoters and detractors of the released
    /// quarters added up, each quarter filtered to the unit through its release plan. Hidden
    /// when any released quarter does not show the unit (a half-year figure beside a hidden
    /// quarter would give that quarter away).
    fn pulse_nps(
        &self,
        conn: &mut DbConn,
        cache: &ResultsCache,
        unit: &str,
        period: HalfYear,
    ) -> anyhow::Result<PulseFigure> {
        let Some(waves) = self.pulse_waves.get(&period) else {
            return Ok(PulseFigure::default());
        };
        let filter = SegmentFilter {
            attribute: requests::UNIT_ATTRIBUTE.to_string(),
            value: unit.to_string(),
        };
        let (mut n, mut promoters, mut detractors) = (0u64, 0u64, 0u64);
        for wave_id in waves {
            match results::filtered_results(conn, cache, wave_id, &filter, self.now) {
                Ok(results) if results.shown => {
                    let Some(nps) = results.nps.as_ref() else {
                        return Ok(PulseFigure {
                            value: None,
                            hidden: true,
                        });
                    };
                    n += nps.n;
                    promoters += nps.promoters;
                    detractors += nps.detractors;
                }
                Ok(_) | Err(ResultsError::Refused(_)) => {
                    return Ok(PulseFigure {
                        value: None,
                        hidden: true,
                    })
                }
                Err(ResultsError::NotFound(_)) => {}
                Err(ResultsError::Unexpected(e)) => return Err(e),
            }
        }
        Ok(PulseFigure {
            value: (n > 0).then(|| (promoters as f64 - detractors as f64) / n as f64 * 100.0),
            hidden: false,
        })
    }

    /// The scorecard of `unit` in `period`.
    pub fn scorecard(
        &self,
        conn: &mut DbConn,
        cache: &ResultsCache,
        unit: &str,
        period: HalfYear,
    ) -> anyhow::Result<Scorecard> {
        let targets = self.definition.request_targets.target_days();
        let periods = period.last(TREND_PERIODS);
        let mut survey = Vec::with_capacity(periods.len());
        let mut request = Vec::with_capacity(periods.len());
        let mut pulse = Vec::with_capacity(periods.len());
        for &p in &periods {
            survey.push(self.survey(conn, cache, unit, p)?);
            pulse.push(self.pulse_nps(conn, cache, unit, p)?);
            request.push(self.log.figures(Some(unit), p, self.today, &targets));
        }
        let measures = self
            .definition
            .measures
            .iter()
            .map(|measure| {
                let trend: Vec<TrendValue> = periods
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| {
                        let (value, hidden) = if measure.source == Source::PulseNps {
                            (pulse[i].value, pulse[i].hidden)
                        } else {
                            self.value(measure, unit, p, &survey[i], &request[i])
                        };
                        TrendValue {
                            period: p,
                            value,
                            hidden,
                        }
                    })
                    .collect();
                let current = trend.last();
                let value = current.and_then(|t| t.value);
                let hidden = current.is_some_and(|t| t.hidden);
                let target = measure.target_for(Some(unit));
                let status = if hidden {
                    Status::Hidden
                } else {
                    Status::of(value, target, measure.almost, measure.better)
                };
                MeasureLine {
                    key: measure.key.clone(),
                    name: measure.name().to_string(),
                    source: source_kind(&measure.source),
                    unit: measure.unit.clone(),
                    better: measure.better,
                    value,
                    target,
                    almost: measure.almost,
                    status,
                    status_label: status.label(),
                    trend,
                }
            })
            .collect();
        let wave = self.waves.get(&period);
        let shown = matches!(survey.last(), Some(SurveyFigures::Shown(_)));
        let note = match (wave, shown) {
            (None, _) => format!(
                "No {} wave closed in {period}: there are no survey figures for it.",
                self.definition.survey
            ),
            (Some((_, title)), true) => format!("Survey figures from “{title}”, the wave that closed in {period}."),
            (Some((_, title)), false) => format!(
                "“{title}” closed in {period}, but its release plan does not show {unit} on its own: its survey figures are {HIDDEN_NOTE}."
            ),
        };
        Ok(Scorecard {
            unit: unit.to_string(),
            period,
            definition_version: self.definition.version,
            survey: SurveySource {
                slug: self.definition.survey.clone(),
                wave_id: wave.map(|(id, _)| id.clone()),
                wave_title: wave.map(|(_, title)| title.clone()),
                shown,
                note,
            },
            measures,
            actions: self
                .actions
                .get(unit)
                .into_iter()
                .flatten()
                .filter(|(created, _)| *created <= period.end())
                .map(|(_, action)| action.clone())
                .collect(),
        })
    }

    /// A measure's value in one period; `(None, true)` when hidden for anonymity.
    fn value(
        &self,
        measure: &Measure,
        unit: &str,
        period: HalfYear,
        survey: &SurveyFigures,
        request: &RequestFigures,
    ) -> (Option<f64>, bool) {
        if measure.source.is_survey() {
            return match survey {
                SurveyFigures::Shown(results) => (survey_value(&measure.source, results), false),
                SurveyFigures::Hidden => (None, true),
                SurveyFigures::NoWave => (None, false),
            };
        }
        let value = match &measure.source {
            Source::Requests { figure } => request_value(*figure, request),
            Source::Kpi => self
                .kpis
                .get(&(measure.key.clone(), period.to_string(), unit.to_string()))
                .copied(),
            _ => None,
        };
        (value, false)
    }
}

/// The actions aimed at a `business_unit` group (of `unit`, or of every unit), by unit,
/// each with the day it was created.
fn unit_actions(
    conn: &mut DbConn,
    unit: Option<&str>,
    now: NaiveDateTime,
) -> anyhow::Result<BTreeMap<String, Vec<(NaiveDate, UnitAction)>>> {
    let prefix = format!("{}=", requests::UNIT_ATTRIBUTE);
    let mut by_unit: BTreeMap<String, Vec<(NaiveDate, UnitAction)>> = BTreeMap::new();
    let listed = crate::actions::list(conn, None, &crate::actions::ListFilter::default(), now)
        .map_err(anyhow::Error::from)?;
    for action in listed {
        let Some(aimed_at) = action
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix(&prefix))
        else {
            continue;
        };
        if unit.is_some_and(|u| u != aimed_at) {
            continue;
        }
        by_unit.entry(aimed_at.to_string()).or_default().push((
            action.created_at.date(),
            UnitAction {
                status_label: action.status.label(),
                id: action.id,
                title: action.title,
                target_label: action.target_label,
                wave_title: action.wave_title,
                status: action.status,
                due_on: action.due_on,
                overdue: action.overdue,
                published: action.published,
            },
        ));
    }
    Ok(by_unit)
}

/// The released pulse waves by the half-year of their quarter.
fn pulse_waves(conn: &mut DbConn) -> anyhow::Result<BTreeMap<HalfYear, Vec<String>>> {
    let mut by_half = BTreeMap::<HalfYear, Vec<String>>::new();
    for (period, wave) in crate::db::models::pulses::periods(conn)? {
        if wave.state().answers_released() {
            by_half
                .entry(HalfYear::of(period.starts_on))
                .or_default()
                .push(wave.id);
        }
    }
    Ok(by_half)
}

fn source_kind(source: &Source) -> &'static str {
    match source {
        Source::Kpi => "kpi",
        Source::Requests { .. } => "requests",
        Source::PulseNps => "pulses",
        _ => "survey",
    }
}

/// A survey figure from published results, in the measure's unit (NPS points, shares in %).
fn survey_value(source: &Source, results: &WaveResults) -> Option<f64> {
    match source {
        Source::Nps => results.nps.as_ref().map(|n| n.score),
        Source::Csat => results.csat.as_ref().map(|c| c.top2box * 100.0),
        Source::Dimension { dimension } => results
            .dimensions
            .iter()
            .find(|d| &d.key == dimension)
            .and_then(|d| d.figures.as_ref())
            .map(|f| f.mean),
        Source::PainPoint { option } => results
            .pain_points
            .iter()
            .flat_map(|p| &p.stages)
            .flat_map(|s| &s.options)
            .find(|o| &o.key == option)
            .map(|o| o.share * 100.0),
        Source::Kpi | Source::Requests { .. } | Source::PulseNps => None,
    }
}

fn request_value(figure: RequestFigure, figures: &RequestFigures) -> Option<f64> {
    match figure {
        RequestFigure::Opened => Some(figures.opened as f64),
        RequestFigure::Fulfilled => Some(figures.fulfilled as f64),
        RequestFigure::WithinTargetShare => figures.within_target_share.map(|s| s * 100.0),
        RequestFigure::CycleMedianDays => figures.cycle_median_days,
        RequestFigure::CycleP90Days => figures.cycle_p90_days,
        RequestFigure::OpenPastTarget => Some(figures.open_past_target as f64),
    }
}

/// Every unit's scorecard in a half-year, and NPS against speed.
#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub period: HalfYear,
    pub definition_version: i32,
    pub measures: Vec<MeasureHead>,
    pub units: Vec<Scorecard>,
    /// Per unit and half-year: NPS (when shown) against the share within target.
    pub speed_and_satisfaction: Vec<SpeedPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureHead {
    pub key: String,
    pub name: String,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpeedPoint {
    pub unit: String,
    pub period: HalfYear,
    pub nps: f64,
    /// Share of requests fulfilled within target, %.
    pub within_target: f64,
}

/// The organisation's page: every unit's scorecard.
pub fn organisation(
    conn: &mut DbConn,
    cache: &ResultsCache,
    definition: &ScorecardDefinition,
    period: HalfYear,
    now: NaiveDateTime,
) -> anyhow::Result<Organisation> {
    let inputs = Inputs::load(conn, definition, None, period, now)?;
    let units = inputs.units(conn)?;
    let mut cards = Vec::with_capacity(units.len());
    for unit in &units {
        cards.push(inputs.scorecard(conn, cache, unit, period)?);
    }
    let nps_key = definition
        .measures
        .iter()
        .find(|m| m.source == Source::Nps)
        .map(|m| m.key.as_str());
    let speed_key = definition
        .measures
        .iter()
        .find(|m| {
            m.source
                == Source::Requests {
                    figure: RequestFigure::WithinTargetShare,
                }
        })
        .map(|m| m.key.as_str());
    let mut points = Vec::new();
    for card in &cards {
        let find = |key: Option<&str>| card.measures.iter().find(|m| Some(m.key.as_str()) == key);
        if let (Some(nps), Some(speed)) = (find(nps_key), find(speed_key)) {
            for (n, s) in nps.trend.iter().zip(&speed.trend) {
                if let (Some(nps), Some(within)) = (n.value, s.value) {
                    points.push(SpeedPoint {
                        unit: card.unit.clone(),
                        period: n.period,
                        nps,
                        within_target: within,
                    });
                }
            }
        }
    }
    Ok(Organisation {
        period,
        definition_version: definition.version,
        measures: definition
            .measures
            .iter()
            .map(|m| MeasureHead {
                key: m.key.clone(),
                name: m.name().to_string(),
                unit: m.unit.clone(),
            })
            .collect(),
        units: cards,
        speed_and_satisfaction: points,
    })
}

/// One unit's scorecard; `None` when the unit is neither in the directory nor in the
/// request log or KPI values.
pub fn unit_scorecard(
    conn: &mut DbConn,
    cache: &ResultsCache,
    definition: &ScorecardDefinition,
    unit: &str,
    period: HalfYear,
    now: NaiveDateTime,
) -> anyhow::Result<Option<Scorecard>> {
    let inputs = Inputs::load(conn, definition, Some(unit), period, now)?;
    if !inputs.units(conn)?.contains(unit) {
        return Ok(None);
    }
    inputs.scorecard(conn, cache, unit, period).map(Some)
}
