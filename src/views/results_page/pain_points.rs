//! The pain points of the results page: one aligned Pareto table per question (most named
//! first, with the stage as a column), the options nobody named, and mentions per stage.

use super::*;

#[derive(Debug, Serialize)]
pub struct ParetoTable {
    pub question: String,
    pub respondents: u64,
    /// The pain points someone named, most named first.
    pub rows: Vec<ParetoRow>,
    /// Those nobody named (with their change, when there was one).
    pub unnamed: Vec<ParetoRow>,
    /// Stages with mentions, most first.
    pub stages: Vec<StageLine>,
}

#[derive(Debug, Serialize)]
pub struct ParetoRow {
    pub rank: usize,
    pub key: String,
    pub label: String,
    pub stage: String,
    pub count: u64,
    pub share: String,
    pub ci: String,
    pub bar: String,
    pub cumulative: String,
    pub change: Option<ChangeView>,
    pub actions: Vec<FigureAction>,
}

#[derive(Debug, Serialize)]
pub struct StageLine {
    pub key: String,
    pub label: String,
    pub mentions: u64,
    pub share_of_mentions: String,
    pub actions: Vec<FigureAction>,
}

pub(super) fn pareto(
    inputs: &PageInputs<'_>,
    question: &str,
    respondents: u64,
    stages: &[crate::results::StageGroup],
) -> ParetoTable {
    let mut options: Vec<(&PainPointFigures, &str)> = stages
        .iter()
        .flat_map(|s| s.options.iter().map(move |o| (o, s.label.as_str())))
        .collect();
    options.sort_by(|a, b| {
        b.0.count
            .cmp(&a.0.count)
            .then_with(|| a.0.key.cmp(&b.0.key))
    });
    let mentions: u64 = options.iter().map(|(o, _)| o.count).sum();
    let max = options
        .iter()
        .map(|(o, _)| o.ci.1)
        .fold(0.0f64, f64::max)
        .max(0.01);
    let mut running = 0u64;
    let rows: Vec<ParetoRow> = options
        .iter()
        .enumerate()
        .map(|(i, (o, stage))| {
            running += o.count;
            ParetoRow {
                rank: i + 1,
                key: o.key.clone(),
                label: o.label.clone(),
                stage: stage.to_string(),
                count: o.count,
                share: pct(o.share),
                ci: format!("{}–{}", pct(o.ci.0), pct(o.ci.1)),
                bar: charts::share_bar_svg(o.share, o.ci, max),
                cumulative: if mentions > 0 {
                    pct(running as f64 / mentions as f64)
                } else {
                    "—".into()
                },
                change: change_view(o.change.as_ref(), Measure::PainPoint),
                actions: actions_beside(inputs, "pain_point", &o.key),
            }
        })
        .collect();
    let (rows, unnamed): (Vec<ParetoRow>, Vec<ParetoRow>) =
        rows.into_iter().partition(|r| r.count > 0);
    ParetoTable {
        question: question.to_string(),
        respondents,
        rows,
        unnamed,
        stages: stages
            .iter()
            .filter(|s| s.mentions > 0)
            .map(|s| StageLine {
                key: s.stage.as_str().to_string(),
                actions: actions_beside(inputs, "stage", s.stage.as_str()),
                label: s.label.clone(),
                mentions: s.mentions,
                share_of_mentions: if mentions > 0 {
                    pct(s.mentions as f64 / mentions as f64)
                } else {
                    "—".into()
                },
            })
            .collect(),
    }
}
