//! The release plans of a wave snapshot: the plan over respondents (every breakdown and
//! filter at once) and one audited plan per question over its own answers
//! ([`FigurePlans`]). Every figure of every output is shown only where these show it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::anonymity::{self, CellIndex, ReleasePlan, Scope, Threshold};
use crate::domain::definition::SurveyDefinition;
use crate::services::responses::ANSWERED_VALUE;

use super::counts::{CellTable, CellsRead, Counts, Layout};

/// The cells the plans are decided over: the cells with answers, then every invited cell
/// (with 0 where nobody answered, so values without responses are listed and hidden).
fn cell_index(definition: &SurveyDefinition, read: &CellsRead) -> CellIndex {
    let cells = read
        .table
        .cells
        .iter()
        .map(|(cell, _)| cell)
        .chain(read.invited.iter().map(|(cell, _)| cell))
        .map(|cell| read.parsed.get(cell));
    CellIndex::new(&definition.segments, cells)
}

/// Per indexed cell, `count` of the cells with answers and 0 for the invited cells.
fn counts_of(table: &CellTable, invited: usize, count: impl Fn(&Counts) -> u64) -> Vec<u64> {
    table
        .cells
        .iter()
        .map(|(_, c)| count(c))
        .chain(std::iter::repeat_n(0, invited))
        .collect()
}

/// The plans of one wave snapshot: the release plan over respondents and, once answers are
/// released, the plans of every question's figures. Built once per snapshot (and shared by
/// every filter when a wave closes).
pub(super) struct Plans {
    pub(super) plan: ReleasePlan,
    pub(super) figures: Option<FigurePlans>,
}

impl Plans {
    pub(super) fn new(
        definition: &SurveyDefinition,
        layout: &Layout,
        read: &CellsRead,
        k: Threshold,
        answers_released: bool,
    ) -> Self {
        // The anonymity plan of a wave: every group of every breakdown decided at once
        // from the respondents per cell.
        let index = cell_index(definition, read);
        let respondents = counts_of(&read.table, read.invited.len(), |c| c.respondents(layout));
        let plan = ReleasePlan::indexed(&index, &respondents, k);
        // Every answer figure is audited with its own counts over the whole wave.
        let figures = (answers_released && plan.total().is_shown())
            .then(|| FigurePlans::new(&plan, layout, &read.table, &index, read.invited.len()));
        Plans { plan, figures }
    }
}

/// The release plans of a wave's answer figures, one per question (see
/// [`ReleasePlan::for_figure`]): a figure is shown for a group only where the plan of every
/// question it is computed from shows that group. Each plan is decided and audited over
/// the question's own answers per cell — NPS answers, answers on the scale ("not
/// applicable" excluded), respondents who answered a pain-point question, answers to a
/// choice question — and hides whatever the respondents' plan hides. So no combination
/// of the published (n, sum) pairs of one question, across the whole wave, every filter
/// and every breakdown, isolates the answers of 1..k − 1 people.
pub(super) struct FigurePlans {
    /// Per question key; `None` when nobody answered it (nothing to show anywhere).
    pub(super) plans: HashMap<String, Option<Arc<ReleasePlan>>>,
}

impl FigurePlans {
    pub(super) fn new(
        plan: &ReleasePlan,
        layout: &Layout,
        table: &CellTable,
        index: &CellIndex,
        invited: usize,
    ) -> Self {
        let respondents = counts_of(table, invited, |c| c.respondents(layout));
        let same_as_respondents = Arc::new(plan.clone());
        // Questions answered alike (every respondent, no "not applicable") share a plan.
        let mut by_counts: HashMap<Vec<u64>, Arc<ReleasePlan>> = HashMap::new();
        let mut plan_of = |slots: &[usize]| -> Option<Arc<ReleasePlan>> {
            let counts = counts_of(table, invited, |c| slots.iter().map(|&s| c.0[s]).sum());
            if counts.iter().all(|&n| n == 0) {
                return None;
            }
            if counts == respondents {
                return Some(same_as_respondents.clone());
            }
            let built = by_counts
                .entry(counts)
                .or_insert_with_key(|counts| Arc::new(plan.for_figure_indexed(index, counts)));
            Some(built.clone())
        };
        let mut plans = HashMap::new();
        if let Some(nps) = &layout.nps {
            plans.insert(nps.key.clone(), plan_of(&nps.values));
        }
        for dim in &layout.dimensions {
            for (question, (values, _)) in dim.questions.iter().zip(&dim.per_question) {
                plans.insert(question.clone(), plan_of(values));
            }
        }
        for pain in &layout.pain_points {
            let slot: Vec<usize> = layout.find(&pain.key, ANSWERED_VALUE).into_iter().collect();
            plans.insert(pain.key.clone(), plan_of(&slot));
        }
        for choice in &layout.choices {
            let slots: Vec<usize> = choice.options.iter().map(|(_, _, s)| *s).collect();
            plans.insert(choice.key.clone(), plan_of(&slots));
        }
        FigurePlans { plans }
    }

    /// The plans of `questions` that someone answered. A figure pooling them is shown
    /// where all of them show the group; with none, nothing is shown.
    pub(super) fn questions(&self, questions: &[String]) -> Vec<&ReleasePlan> {
        questions
            .iter()
            .filter_map(|q| self.plans.get(q).and_then(|p| p.as_deref()))
            .collect()
    }

    /// The visibility of a figure of the whole scope (the wave, or the filter's group).
    pub(super) fn whole(plans: &[&ReleasePlan], scope: Scope<'_>) -> anonymity::Visibility {
        let too_few = anonymity::Visibility::Hidden {
            reason: anonymity::HiddenReason::TooFew,
        };
        if plans.is_empty() {
            return too_few;
        }
        combine(plans.iter().map(|plan| match scope {
            Scope::Wave => plan.total(),
            Scope::Filter { attribute, value } => plan.marginal(attribute, value),
        }))
    }

    /// The visibility of a figure in each group of a breakdown of `scope` by `attribute`.
    pub(super) fn breakdown(
        plans: &[&ReleasePlan],
        scope: Scope<'_>,
        attribute: &str,
        groups: usize,
    ) -> Vec<anonymity::Visibility> {
        let too_few = anonymity::Visibility::Hidden {
            reason: anonymity::HiddenReason::TooFew,
        };
        if plans.is_empty() {
            return vec![too_few; groups];
        }
        let per_plan: Vec<Vec<anonymity::Visibility>> = plans
            .iter()
            .map(|plan| match plan.breakdown(scope, attribute) {
                Ok(rows) if rows.len() == groups => rows.into_iter().map(|(_, v)| v).collect(),
                // The figure's plan refuses the filter: nothing of it inside the filter.
                _ => vec![too_few; groups],
            })
            .collect();
        (0..groups)
            .map(|i| combine(per_plan.iter().map(|rows| rows[i])))
            .collect()
    }
}

/// Shown when every decision shows; otherwise hidden, "to protect a smaller group" when
/// any decision says so (the group itself has enough), else as too few.
pub(super) fn combine(
    decisions: impl Iterator<Item = anonymity::Visibility>,
) -> anonymity::Visibility {
    let mut out = anonymity::Visibility::Shown;
    for decision in decisions {
        match (out, decision) {
            (_, anonymity::Visibility::Shown) => {}
            (anonymity::Visibility::Shown, hidden) => out = hidden,
            (
                anonymity::Visibility::Hidden {
                    reason: anonymity::HiddenReason::TooFew,
                },
                hidden @ anonymity::Visibility::Hidden {
                    reason: anonymity::HiddenReason::ProtectsAnotherGroup,
                },
            ) => out = hidden,
            _ => {}
        }
    }
    out
}
