//! Changes, significance and trends — computed from **published** figures only: the
//! results of this wave (or of one filter's group) and, for every earlier wave of the
//! survey in the trend, what that wave published for the same scope (its snapshot, or its
//! live results while open). Nothing here reads counts, so nothing here can show more than
//! the release plans of the two waves already show.
//!
//! * **Change** of a figure: against the previous wave (waves treated as independent
//!   samples) — NPS by the adjusted-Wald z test, means by Welch's t test, CSAT and
//!   pain-point shares by the two-proportion z test. For the whole wave (or filter) and
//!   for every group of every breakdown, where *both* waves show that figure of that group:
//!   a group (or figure) hidden in either wave gets no change, so a change never lets a
//!   hidden figure be worked out from a shown one.
//! * **Significance**: Benjamini–Hochberg at [`Q`] over every test of the page (the whole
//!   scope's and every group's together), and only with the minimum effect of the figure
//!   ([`Change::min_effect`]).
//! * **Trend**: each earlier wave's published figures of the same scope, and of the same
//!   group inside it (`figures: null` where that wave hid it).

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::db::models::waves::{self as wave_rows, WaveWithSurvey};
use crate::db::DbConn;
use crate::stats;

use super::model::*;
use super::store::ResultsCache;
use super::{filtered_results, wave_results, ResultsError};

/// An earlier wave of the survey as the trend and the changes see it: what it published
/// for the same scope, `None` where it publishes nothing (a filter its plan refuses).
pub(super) struct Earlier {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) opens_at: NaiveDateTime,
    pub(super) results: Option<Arc<WaveResults>>,
}

/// The waves of the survey in the trend that opened before `wave`, oldest first, each
/// with its published results for the whole wave or for `filter`'s group — read through
/// the same entry points as every output (snapshots of closed waves, cached).
pub(super) fn history(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveWithSurvey,
    filter: Option<&SegmentFilter>,
    now: NaiveDateTime,
) -> Result<Vec<Earlier>, ResultsError> {
    let mut out = Vec::new();
    for other in wave_rows::opened_of_survey(conn, &wave.survey_slug)? {
        if (&other.opens_at, &other.id) >= (&wave.wave.opens_at, &wave.wave.id) {
            continue;
        }
        let results = match filter {
            None => Some(wave_results(conn, cache, &other.id, now)?),
            Some(filter) => match filtered_results(conn, cache, &other.id, filter, now) {
                Ok(results) => Some(results),
                Err(ResultsError::Refused(_)) => None,
                Err(error) => return Err(error),
            },
        };
        out.push(Earlier {
            id: other.id,
            title: other.title,
            opens_at: other.opens_at,
            results,
        });
    }
    Ok(out)
}

/// Sets the trend, the previous wave, every change and the significance of `results`
/// from the earlier waves' published results (oldest first).
pub(super) fn apply(results: &mut WaveResults, history: &[Earlier]) {
    let top = top_pain_points(&results.pain_points);
    let mut trend: Vec<TrendPoint> = history
        .iter()
        .map(|e| TrendPoint {
            wave_id: e.id.clone(),
            title: e.title.clone(),
            opens_at: e.opens_at,
            current: false,
            figures: e.results.as_deref().and_then(|r| scope_point(r, &top)),
        })
        .collect();
    trend.push(TrendPoint {
        wave_id: results.wave.id.clone(),
        title: results.wave.title.clone(),
        opens_at: results.wave.opens_at,
        current: true,
        figures: scope_point(results, &top),
    });
    results.trend = trend;
    results.previous_wave = history.last().map(|e| WaveRef {
        id: e.id.clone(),
        title: e.title.clone(),
    });
    let previous = history
        .last()
        .and_then(|e| e.results.as_deref())
        .filter(|p| p.shown && p.answers_released);
    if results.shown && results.answers_released {
        if let Some(before) = previous {
            compare_scope(results, before);
        }
        let dimension_keys: Vec<(String, u8)> = results
            .dimensions
            .iter()
            .map(|d| (d.key.clone(), d.scale))
            .collect();
        for breakdown in &mut results.segments {
            for group in &mut breakdown.groups {
                let Some(now) = group.figures.as_mut() else {
                    continue;
                };
                if let Some((before, before_keys)) = previous
                    .and_then(|p| group_of(p, &breakdown.attribute, &group.value).map(|g| (g, p)))
                {
                    compare_group(now, &dimension_keys, before, &before_keys.dimensions);
                }
                let top = top_pain_points(&now.pain_points);
                let mut points: Vec<TrendPoint> = history
                    .iter()
                    .map(|e| TrendPoint {
                        wave_id: e.id.clone(),
                        title: e.title.clone(),
                        opens_at: e.opens_at,
                        current: false,
                        figures: e.results.as_deref().and_then(|r| {
                            let g = group_of(r, &breakdown.attribute, &group.value)?;
                            Some(group_point(g, &r.dimensions, &top))
                        }),
                    })
                    .collect();
                points.push(TrendPoint {
                    wave_id: results.wave.id.clone(),
                    title: results.wave.title.clone(),
                    opens_at: results.wave.opens_at,
                    current: true,
                    figures: Some(group_point(now, &results.dimensions, &top)),
                });
                group.trend = points;
            }
        }
    }
    results.significance = adjust(results);
}

/// The figures of a shown group in an earlier wave's results (`None` where it was hidden
/// or the wave had no breakdown by that attribute).
fn group_of<'r>(
    results: &'r WaveResults,
    attribute: &str,
    value: &str,
) -> Option<&'r GroupFigures> {
    results
        .segments
        .iter()
        .find(|s| s.attribute == attribute)?
        .groups
        .iter()
        .find(|g| g.value == value)?
        .figures
        .as_ref()
        .filter(|_| results.answers_released)
}

/// The keys of the three pain points named most in the first pain-point question.
fn top_pain_points(questions: &[PainPointsResult]) -> Vec<String> {
    let Some(question) = questions.first() else {
        return Vec::new();
    };
    let mut options: Vec<&PainPointFigures> =
        question.stages.iter().flat_map(|s| &s.options).collect();
    options.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    options
        .into_iter()
        .filter(|o| o.count > 0)
        .take(3)
        .map(|o| o.key.clone())
        .collect()
}

fn pain_shares(questions: &[PainPointsResult], keys: &[String]) -> Vec<KeyedValue> {
    let Some(question) = questions.first() else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|key| {
            question
                .stages
                .iter()
                .flat_map(|s| &s.options)
                .find(|o| &o.key == key)
                .map(|o| KeyedValue {
                    key: key.clone(),
                    value: o.share,
                })
        })
        .collect()
}

/// A wave's point of the trend of its whole scope.
fn scope_point(results: &WaveResults, top: &[String]) -> Option<TrendFigures> {
    results.shown.then(|| TrendFigures {
        responses: results.responses,
        nps: results.nps.as_ref().map(|n| n.score),
        nps_ci: results.nps.as_ref().map(|n| n.ci),
        csat: results.csat.as_ref().map(|c| c.top2box),
        dimensions: results
            .dimensions
            .iter()
            .filter_map(|d| {
                d.figures.as_ref().map(|f| KeyedValue {
                    key: d.key.clone(),
                    value: f.mean,
                })
            })
            .collect(),
        pain_points: pain_shares(&results.pain_points, top),
    })
}

/// A group's point of its trend; `dimensions` are the results' (the order of the group's).
fn group_point(
    group: &GroupFigures,
    dimensions: &[DimensionResult],
    top: &[String],
) -> TrendFigures {
    TrendFigures {
        responses: group.responses,
        nps: group.nps_figures.as_ref().map(|n| n.score),
        nps_ci: group.nps_figures.as_ref().map(|n| n.ci),
        csat: group.csat.as_ref().map(|c| c.top2box),
        dimensions: dimensions
            .iter()
            .zip(&group.dimensions)
            .filter_map(|(d, f)| {
                f.as_ref().map(|f| KeyedValue {
                    key: d.key.clone(),
                    value: f.mean,
                })
            })
            .collect(),
        pain_points: pain_shares(&group.pain_points, top),
    }
}

fn compare_scope(now: &mut WaveResults, before: &WaveResults) {
    if let (Some(now), Some(then)) = (now.nps.as_mut(), before.nps.as_ref()) {
        nps_change(now, then);
    }
    if let (Some(now), Some(then)) = (now.csat.as_mut(), before.csat.as_ref()) {
        csat_change(now, then);
    }
    for dim in &mut now.dimensions {
        let then = before
            .dimensions
            .iter()
            .find(|d| d.key == dim.key && d.scale == dim.scale)
            .and_then(|d| d.figures.as_ref());
        if let (Some(now), Some(then)) = (dim.figures.as_mut(), then) {
            dimension_change(now, then);
        }
    }
    pain_changes(&mut now.pain_points, &before.pain_points);
}

/// A group's changes: `keys` are the (key, scale) of `now.dimensions`, `before_keys` the
/// earlier wave's dimensions (the order of `before.dimensions`).
fn compare_group(
    now: &mut GroupFigures,
    keys: &[(String, u8)],
    before: &GroupFigures,
    before_keys: &[DimensionResult],
) {
    if let (Some(now), Some(then)) = (now.nps_figures.as_mut(), before.nps_figures.as_ref()) {
        nps_change(now, then);
        // The plain score keeps no change of its own: `nps_figures.change` is it.
    }
    if let (Some(now), Some(then)) = (now.csat.as_mut(), before.csat.as_ref()) {
        csat_change(now, then);
    }
    for ((key, scale), figures) in keys.iter().zip(now.dimensions.iter_mut()) {
        let then = before_keys
            .iter()
            .zip(&before.dimensions)
            .find(|(d, _)| &d.key == key && d.scale == *scale)
            .and_then(|(_, f)| f.as_ref());
        if let (Some(now), Some(then)) = (figures.as_mut(), then) {
            dimension_change(now, then);
        }
    }
    pain_changes(&mut now.pain_points, &before.pain_points);
}

fn nps_change(now: &mut NpsFigures, then: &NpsFigures) {
    let counts = |f: &NpsFigures| stats::NpsCounts {
        promoters: f.promoters,
        passives: f.passives,
        detractors: f.detractors,
    };
    if let Some(test) = stats::nps_change(&counts(then), &counts(now)) {
        now.change = Some(Change::new(
            then.score,
            test.score_diff,
            test.p,
            MIN_NPS_POINTS,
        ));
    }
}

fn csat_change(now: &mut CsatFigures, then: &CsatFigures) {
    if let Some(test) = stats::two_proportion_z_test(
        then.top2_answers,
        then.answers,
        now.top2_answers,
        now.answers,
    ) {
        now.change = Some(Change::new(
            then.top2box,
            test.diff,
            test.p,
            MIN_SHARE_POINTS / 100.0,
        ));
    }
}

fn dimension_change(now: &mut DimensionFigures, then: &DimensionFigures) {
    let sample = |f: &DimensionFigures| stats::SampleSummary {
        n: f.n,
        mean: f.mean,
        sd: f.sd,
    };
    if let Some(test) = stats::welch_t_test(&sample(then), &sample(now)) {
        now.change = Some(Change::new(then.mean, test.diff, test.p, MIN_MEAN_CHANGE));
    }
}

fn pain_changes(now: &mut [PainPointsResult], before: &[PainPointsResult]) {
    for question in now {
        let Some(then) = before.iter().find(|q| q.question == question.question) else {
            continue;
        };
        let respondents = question.respondents;
        for option in question
            .stages
            .iter_mut()
            .flat_map(|s| s.options.iter_mut())
        {
            let Some(old) = then
                .stages
                .iter()
                .flat_map(|s| &s.options)
                .find(|o| o.key == option.key)
            else {
                continue;
            };
            if let Some(test) =
                stats::two_proportion_z_test(old.count, then.respondents, option.count, respondents)
            {
                option.change = Some(Change::new(
                    old.share,
                    test.diff,
                    test.p,
                    MIN_SHARE_POINTS / 100.0,
                ));
            }
        }
    }
}

/// Every change of the page, in a fixed order: the scope's NPS, CSAT, dimensions and pain
/// points, then the same of every group of every breakdown.
fn changes_mut(results: &mut WaveResults) -> Vec<&mut Change> {
    fn pain<'a>(questions: &'a mut [PainPointsResult], out: &mut Vec<&'a mut Change>) {
        for question in questions {
            for option in question
                .stages
                .iter_mut()
                .flat_map(|s| s.options.iter_mut())
            {
                out.extend(option.change.as_mut());
            }
        }
    }
    let mut out: Vec<&mut Change> = Vec::new();
    out.extend(results.nps.as_mut().and_then(|n| n.change.as_mut()));
    out.extend(results.csat.as_mut().and_then(|c| c.change.as_mut()));
    for dim in &mut results.dimensions {
        out.extend(dim.figures.as_mut().and_then(|f| f.change.as_mut()));
    }
    pain(&mut results.pain_points, &mut out);
    for breakdown in &mut results.segments {
        for group in &mut breakdown.groups {
            let Some(f) = group.figures.as_mut() else {
                continue;
            };
            out.extend(f.nps_figures.as_mut().and_then(|n| n.change.as_mut()));
            out.extend(f.csat.as_mut().and_then(|c| c.change.as_mut()));
            for dim in f.dimensions.iter_mut().flatten() {
                out.extend(dim.change.as_mut());
            }
            pain(&mut f.pain_points, &mut out);
        }
    }
    out
}

/// Benjamini–Hochberg over every test of the page; a change is significant when its
/// adjusted p is ≤ q and it reaches its minimum effect.
fn adjust(results: &mut WaveResults) -> SignificanceRule {
    let mut changes = changes_mut(results);
    let p: Vec<f64> = changes.iter().map(|c| c.p).collect();
    let adjusted = stats::benjamini_hochberg(&p).unwrap_or_else(|| vec![1.0; p.len()]);
    let mut flagged = 0;
    for (change, adj) in changes.iter_mut().zip(adjusted) {
        change.p_adjusted = adj;
        change.significant = adj <= Q && change.diff.abs() >= change.min_effect;
        flagged += usize::from(change.significant);
    }
    SignificanceRule::new(changes.len(), flagged)
}

impl Change {
    pub(super) fn new(previous: f64, diff: f64, p: f64, min_effect: f64) -> Self {
        Change {
            previous,
            diff,
            p,
            p_adjusted: p,
            min_effect,
            significant: false,
        }
    }
}

impl SignificanceRule {
    pub(super) fn new(tests: usize, flagged: usize) -> Self {
        SignificanceRule {
            q: Q,
            min_nps_points: MIN_NPS_POINTS,
            min_mean_change: MIN_MEAN_CHANGE,
            min_share_points: MIN_SHARE_POINTS,
            tests,
            flagged,
        }
    }
}
