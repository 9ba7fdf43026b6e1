//! Pure figures from counts: the whole wave's (or one filter's) NPS, CSAT, dimensions,
//! pain points and choices, and the breakdowns per segment group — every figure gated by
//! the release plans ([`super::plans`]).

use std::collections::{BTreeMap, HashMap};

use crate::anonymity::{self, ReleasePlan, Scope, Threshold};
use crate::db::models::waves::WaveRow;
use crate::db::DbConn;
use crate::domain::definition::{humanize, SurveyDefinition};
use crate::services::responses::ANSWERED_VALUE;
use crate::stats;

use super::counts::{
    ratio, read_cells, CellsRead, ChoiceSlots, Counts, DimensionSlots, Layout, PainSlots,
};
use super::model::*;
use super::plans::{FigurePlans, Plans};

/// Figures of one wave alone (no previous wave, trend or comments yet).
pub(super) struct Figures {
    pub(super) k: u32,
    pub(super) shown: bool,
    pub(super) answers_released: bool,
    /// The wave's counts, rolled up over all cells.
    pub(super) total: Counts,
    pub(super) responses: u64,
    pub(super) invited: u64,
    pub(super) nps: Option<NpsFigures>,
    pub(super) nps_hidden: Option<Hidden>,
    pub(super) csat: Option<CsatFigures>,
    pub(super) csat_hidden: Option<Hidden>,
    pub(super) dimensions: Vec<DimensionResult>,
    pub(super) pain_points: Vec<PainPointsResult>,
    pub(super) choices: Vec<ChoiceResult>,
    pub(super) segments: Vec<SegmentBreakdown>,
}

/// The figures of a wave from its counts. `with_segments: false` skips the breakdowns
/// (earlier waves of the trend need only the wave's own figures).
pub(super) fn figures(
    conn: &mut DbConn,
    wave: &WaveRow,
    definition: &SurveyDefinition,
    layout: &Layout,
    k: Threshold,
    with_segments: bool,
) -> anyhow::Result<Figures> {
    let read = read_cells(conn, wave, layout)?;
    figures_of(
        definition,
        layout,
        k,
        read,
        with_segments,
        answers_released(wave),
        None,
        None,
    )
    .map_err(|refusal| anyhow::anyhow!("{refusal}"))
}
/// The figures of the whole wave or, with `filter`, of the respondents in one segment
/// group — refused unless the wave's release plan allows that filter.
#[allow(clippy::too_many_arguments)] // a private step of the computation, called twice
pub(super) fn figures_of(
    definition: &SurveyDefinition,
    layout: &Layout,
    k: Threshold,
    mut read: CellsRead,
    with_segments: bool,
    answers_released: bool,
    filter: Option<&SegmentFilter>,
    given: Option<&Plans>,
) -> Result<Figures, anonymity::FilterRefusal> {
    // The plans are always of the whole wave (a filter is one of its groups), made before
    // a filter narrows the cells down.
    let owned;
    let plans = match given {
        Some(plans) => Some(plans),
        None if with_segments || filter.is_some() => {
            owned = Plans::new(definition, layout, &read, k, answers_released);
            Some(&owned)
        }
        None => None,
    };
    let plan = plans.map(|p| &p.plan);
    let figure_plans = plans.and_then(|p| p.figures.as_ref());
    if let (Some(filter), Some(plan)) = (filter, plan) {
        plan.filter(&filter.attribute, &filter.value)?;
        let parsed = read.parsed.clone();
        let matches = |cell: &str| filter.matches(parsed.get(cell));
        read.table.cells.retain(|(cell, _)| matches(cell));
        read.invited.retain(|(cell, _)| matches(cell));
        read.segments.retain(|(cell, _)| matches(cell));
    }
    let total = read.table.total(layout);
    let responses = total.respondents(layout);
    let invited = read.invited.iter().map(|(_, n)| n).sum();
    let shown = match (&plan, filter) {
        (Some(_), Some(_)) => true, // allowed by the plan: at least k respondents
        (Some(plan), None) => plan.total().is_shown(),
        (None, _) => k.admits(responses),
    };
    let mut figures = Figures {
        k: k.get(),
        shown,
        answers_released,
        total: Counts::zero(layout),
        responses,
        invited,
        nps: None,
        nps_hidden: None,
        csat: None,
        csat_hidden: None,
        dimensions: Vec::new(),
        pain_points: Vec::new(),
        choices: Vec::new(),
        segments: Vec::new(),
    };
    // Dimensions are listed even when hidden, so pages and exports keep their rows.
    figures.dimensions = layout
        .dimensions
        .iter()
        .map(|dim| DimensionResult {
            key: dim.key.clone(),
            label: humanize(&dim.key),
            scale: dim.scale,
            questions: dim.questions.clone(),
            figures: None,
            hidden: None,
        })
        .collect();
    let scope = match filter {
        Some(f) => Scope::Filter {
            attribute: &f.attribute,
            value: &f.value,
        },
        None => Scope::Wave,
    };
    if let Some(plan) = plan.filter(|_| with_segments && figures.shown) {
        // Participation per segment is live; answer figures only once released.
        figures.segments = segments(definition, layout, &read, plan, figure_plans, scope);
    }
    if !figures.shown || !answers_released {
        return Ok(figures);
    }
    // Whether a figure of the whole scope (the wave, or the filter's group) may be shown:
    // by its own plan when there is one, by its own count otherwise (earlier waves of
    // the trend, which show only the whole wave's figures).
    let gate = |plans: Option<Vec<&ReleasePlan>>, n: u64| -> Option<Hidden> {
        match plans {
            Some(plans) => Hidden::of(FigurePlans::whole(&plans, scope), true),
            None if k.admits(n) => None,
            None => Some(Hidden::FewerAnswers),
        }
    };
    let nps_answers = total
        .nps(layout)
        .map_or(0, |n| n.promoters + n.passives + n.detractors);
    figures.nps_hidden = layout.nps.as_ref().and_then(|nps| {
        let plans = figure_plans.map(|p| p.questions(std::slice::from_ref(&nps.key)));
        gate(plans, nps_answers)
    });
    if figures.nps_hidden.is_none() {
        figures.nps = nps_figures(&total, layout, k);
    }
    for (result, dim) in figures.dimensions.iter_mut().zip(&layout.dimensions) {
        let n: u64 = total.dimension(dim).0.iter().sum();
        result.hidden = gate(figure_plans.map(|p| p.questions(&dim.questions)), n);
        if result.hidden.is_none() {
            result.figures = dimension_figures(&total, dim);
        }
    }
    let likert = layout.likert_questions();
    let csat_answers = csat_figures(&total, layout).map_or(0, |c| c.answers);
    figures.csat_hidden = gate(figure_plans.map(|p| p.questions(&likert)), csat_answers);
    if figures.csat_hidden.is_none() {
        figures.csat = csat_figures(&total, layout);
    }
    let answered = |key: &str| {
        layout
            .find(key, ANSWERED_VALUE)
            .map_or(0, |slot| total.0[slot])
    };
    figures.pain_points = layout
        .pain_points
        .iter()
        .filter(|pain| {
            let plans = figure_plans.map(|p| p.questions(std::slice::from_ref(&pain.key)));
            gate(plans, answered(&pain.key)).is_none()
        })
        .map(|pain| pain_points(&total, pain, responses))
        .collect();
    figures.choices = layout
        .choices
        .iter()
        .filter(|choice| {
            let plans = figure_plans.map(|p| p.questions(std::slice::from_ref(&choice.key)));
            let answers = choice
                .options
                .iter()
                .map(|(_, _, slot)| total.0[*slot])
                .sum();
            gate(plans, answers).is_none()
        })
        .filter_map(|choice| choice_figures(&total, choice, k))
        .collect();
    figures.total = total;
    Ok(figures)
}

pub(super) fn nps_figures(counts: &Counts, layout: &Layout, k: Threshold) -> Option<NpsFigures> {
    let slots = layout.nps.as_ref()?;
    let nps = counts.nps(layout)?;
    let summary = stats::nps_summary(&nps)?;
    if !k.admits(summary.n) {
        return None;
    }
    let share = |x: u64| x as f64 / summary.n as f64;
    Some(NpsFigures {
        question: slots.key.clone(),
        n: summary.n,
        promoters: summary.promoters,
        passives: summary.passives,
        detractors: summary.detractors,
        promoter_share: share(summary.promoters),
        passive_share: share(summary.passives),
        detractor_share: share(summary.detractors),
        score: summary.score,
        ci: summary.ci_points(),
        change: None,
    })
}

/// A dimension's figures from a group's counts (`None` without answers on the scale).
pub(super) fn dimension_figures(counts: &Counts, dim: &DimensionSlots) -> Option<DimensionFigures> {
    let (histogram, not_applicable) = counts.dimension(dim);
    stats::likert_summary(&histogram).map(|s| DimensionFigures {
        n: s.n,
        not_applicable,
        mean: s.mean,
        sd: s.sd,
        ci: s.ci,
        top2box: s.top2.share,
        top2box_ci: s.top2.ci,
        change: None,
    })
}

/// CSAT from a group's counts: the share of all its satisfaction answers in the top two
/// boxes (`None` without any).
pub(super) fn csat_figures(counts: &Counts, layout: &Layout) -> Option<CsatFigures> {
    let (mut answers, mut top) = (0u64, 0u64);
    for dim in &layout.dimensions {
        let (histogram, _) = counts.dimension(dim);
        answers += histogram.iter().sum::<u64>();
        top += histogram.iter().rev().take(2).sum::<u64>();
    }
    stats::proportion_summary(top, answers).map(|summary| CsatFigures {
        answers,
        top2_answers: top,
        top2box: summary.share,
        ci: summary.ci,
        change: None,
    })
}

/// A choice question of the whole wave, when at least k answered it.
pub(super) fn choice_figures(
    total: &Counts,
    choice: &ChoiceSlots,
    k: Threshold,
) -> Option<ChoiceResult> {
    let answers: u64 = choice
        .options
        .iter()
        .map(|(_, _, slot)| total.0[*slot])
        .sum();
    if !k.admits(answers) {
        return None;
    }
    let options = choice
        .options
        .iter()
        .filter_map(|(key, label, slot)| {
            let count = total.0[*slot];
            let summary = stats::proportion_summary(count, answers)?;
            Some(ChoiceFigures {
                key: key.clone(),
                label: label.clone(),
                count,
                share: summary.share,
                ci: summary.ci,
            })
        })
        .collect();
    Some(ChoiceResult {
        question: choice.key.clone(),
        text: choice.text.clone(),
        answers,
        options,
    })
}

pub(super) fn pain_points(total: &Counts, pain: &PainSlots, respondents: u64) -> PainPointsResult {
    let mut stages: Vec<StageGroup> = Vec::new();
    for (key, label, stage, slot) in &pain.options {
        let count = total.0[*slot];
        let Some(summary) = stats::proportion_summary(count, respondents) else {
            continue;
        };
        let figures = PainPointFigures {
            key: key.clone(),
            label: label.clone(),
            stage: *stage,
            count,
            share: summary.share,
            ci: summary.ci,
            change: None,
        };
        match stages.iter_mut().find(|g| g.stage == *stage) {
            Some(group) => {
                group.mentions += count;
                group.options.push(figures);
            }
            None => stages.push(StageGroup {
                stage: *stage,
                label: stage.label().to_string(),
                mentions: count,
                options: vec![figures],
            }),
        }
    }
    for group in &mut stages {
        group
            .options
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    }
    stages.sort_by(|a, b| b.mentions.cmp(&a.mentions).then(a.stage.cmp(&b.stage)));
    PainPointsResult {
        question: pain.key.clone(),
        respondents,
        stages,
    }
}

/// Whether a wave's answers may be shown ([`WaveState::answers_released`]).
pub(super) fn answers_released(wave: &WaveRow) -> bool {
    wave.state().answers_released()
}

/// Per segment attribute: the groups (values) as the release plan decides them; inside a
/// shown group, each answer figure (NPS, dimension means) as the plans of its questions
/// decide it ([`FigurePlans`]). Without figure plans (an open wave) only participation.
pub(super) fn segments(
    definition: &SurveyDefinition,
    layout: &Layout,
    read: &CellsRead,
    plan: &ReleasePlan,
    figure_plans: Option<&FigurePlans>,
    scope: Scope<'_>,
) -> Vec<SegmentBreakdown> {
    let parsed: Vec<(&BTreeMap<String, String>, &Counts)> = read
        .table
        .cells
        .iter()
        .map(|(cell, counts)| (read.parsed.get(cell), counts))
        .collect();
    let invited_parsed: Vec<(&BTreeMap<String, String>, u64)> = read
        .invited
        .iter()
        .map(|(cell, n)| (read.parsed.get(cell), *n))
        .collect();
    let mut out = Vec::new();
    for attribute in &definition.segments {
        if matches!(scope, Scope::Filter { attribute: a, .. } if a == attribute) {
            continue; // Inside a filter, its own attribute has one group: the filter.
        }
        // Every value any invitation or response has, in the plan's order: a group without
        // responses is listed too, so a missing row never tells "none" apart from "a few".
        let Ok(decided) = plan.breakdown(scope, attribute) else {
            continue; // The filter was allowed before: its breakdowns are not refused.
        };
        let mut groups: Vec<(String, (u64, Counts))> = decided
            .iter()
            .map(|(value, _)| (value.clone(), (0, Counts::zero(layout))))
            .collect();
        let index: HashMap<String, usize> = decided
            .iter()
            .enumerate()
            .map(|(i, (value, _))| (value.clone(), i))
            .collect();
        for (attributes, n) in &invited_parsed {
            if let Some(&i) = attributes.get(attribute).and_then(|v| index.get(v)) {
                groups[i].1 .0 += n;
            }
        }
        for (attributes, counts) in &parsed {
            if let Some(&i) = attributes.get(attribute).and_then(|v| index.get(v)) {
                groups[i].1 .1.add(counts);
            }
        }
        let n = groups.len();
        let hidden_rows = || vec![Some(Hidden::FewerAnswers); n];
        let rows_of = |plans: Vec<&ReleasePlan>| -> Vec<Option<Hidden>> {
            FigurePlans::breakdown(&plans, scope, attribute, n)
                .into_iter()
                .map(|v| Hidden::of(v, true))
                .collect()
        };
        let nps_hidden: Vec<Option<Hidden>> = match (figure_plans, &layout.nps) {
            (Some(p), Some(nps)) => rows_of(p.questions(std::slice::from_ref(&nps.key))),
            _ => hidden_rows(),
        };
        let dimension_hidden: Vec<Vec<Option<Hidden>>> = layout
            .dimensions
            .iter()
            .map(|dim| match figure_plans {
                Some(p) => rows_of(p.questions(&dim.questions)),
                None => hidden_rows(),
            })
            .collect();
        let csat_hidden: Vec<Option<Hidden>> = match figure_plans {
            Some(p) => rows_of(p.questions(&layout.likert_questions())),
            None => hidden_rows(),
        };
        let pain_hidden: Vec<Vec<Option<Hidden>>> = layout
            .pain_points
            .iter()
            .map(|pain| match figure_plans {
                Some(p) => rows_of(p.questions(std::slice::from_ref(&pain.key))),
                None => hidden_rows(),
            })
            .collect();
        let released = figure_plans.is_some();
        let shown_if = |hidden: Option<Hidden>| released && hidden.is_none();
        // Invited per value by the org chart (full segments), to tell groups stored whole
        // from groups part of whose people are stored only in larger ones.
        let mut full_invited: HashMap<String, u64> = HashMap::new();
        for (cell, n) in &read.segments {
            if let Some(value) = read.parsed.get(cell).get(attribute) {
                *full_invited.entry(value.clone()).or_default() += n;
            }
        }
        let groups = groups
            .into_iter()
            .enumerate()
            .map(|(i, (value, (invited, counts)))| {
                let visibility = decided[i].1;
                let figures = visibility.is_shown().then(|| {
                    let responses = counts.respondents(layout);
                    let nps_figures = shown_if(nps_hidden[i])
                        .then(|| nps_figures(&counts, layout, plan.k()))
                        .flatten();
                    let dimensions: Vec<Option<DimensionFigures>> = layout
                        .dimensions
                        .iter()
                        .zip(&dimension_hidden)
                        .map(|(dim, hidden)| {
                            shown_if(hidden[i])
                                .then(|| dimension_figures(&counts, dim))
                                .flatten()
                        })
                        .collect();
                    let csat = shown_if(csat_hidden[i])
                        .then(|| csat_figures(&counts, layout))
                        .flatten();
                    let pain_points: Vec<PainPointsResult> = layout
                        .pain_points
                        .iter()
                        .zip(&pain_hidden)
                        .filter(|(_, hidden)| shown_if(hidden[i]))
                        .map(|(pain, _)| pain_points(&counts, pain, responses))
                        .collect();
                    let unless_released = |h: Option<Hidden>| if released { h } else { None };
                    GroupFigures {
                        invited,
                        responses,
                        response_rate: ratio(responses, invited),
                        nps: nps_figures.as_ref().map(|n| n.score),
                        dimension_means: dimensions
                            .iter()
                            .map(|d| d.as_ref().map(|d| d.mean))
                            .collect(),
                        nps_hidden: unless_released(nps_hidden[i]),
                        dimension_hidden: dimension_hidden
                            .iter()
                            .map(|h| unless_released(h[i]))
                            .collect(),
                        nps_figures,
                        csat,
                        csat_hidden: unless_released(csat_hidden[i]),
                        dimensions,
                        pain_points,
                        pain_points_hidden: unless_released(pain_hidden.iter().find_map(|h| h[i])),
                    }
                });
                // A group part of whose people are stored only in larger groups is not
                // "fewer than k": say where the rest went.
                let hidden = match Hidden::of(visibility, false) {
                    Some(Hidden::FewerResponses)
                        if full_invited.get(value.as_str()).copied().unwrap_or(0) > invited =>
                    {
                        Some(Hidden::NotStoredSeparately)
                    }
                    other => other,
                };
                SegmentGroup {
                    value,
                    figures,
                    hidden,
                    trend: Vec::new(),
                }
            })
            .collect::<Vec<_>>();
        // Groups of the org chart whose people are all stored under coarser cells (too
        // few share their combinations): listed, hidden, without any number.
        let mut vanished: BTreeMap<String, u64> = BTreeMap::new();
        for (cell, n) in &read.segments {
            if let Some(value) = read.parsed.get(cell).get(attribute) {
                if !index.contains_key(value) {
                    *vanished.entry(value.clone()).or_default() += n;
                }
            }
        }
        let mut groups = groups;
        groups.extend(vanished.into_iter().map(|(value, invited)| SegmentGroup {
            value,
            figures: None,
            hidden: Some(if plan.k().admits(invited) {
                Hidden::NotStoredSeparately
            } else {
                Hidden::FewerResponses
            }),
            trend: Vec::new(),
        }));
        groups.sort_by(|a, b| a.value.cmp(&b.value));
        out.push(SegmentBreakdown {
            attribute: attribute.clone(),
            label: humanize(attribute),
            groups,
        });
    }
    out
}
