//! The customer-of-choice mirror: for a half-year, how suppliers see procurement beside how
//! internal customers see it. Each pair of questions (the definitions mark both sides with
//! the same `pair`) side by side — mean and top-2-box of each side, the gap (suppliers
//! minus internal customers) and its change since the last half-year that had both — then
//! NPS both ways, the customer-of-choice index (the share of top-2 answers over the
//! supplier survey's customer-of-choice items, with its Wilson interval), and the same per
//! supplier group (tier, category…) the supplier wave's release plan shows.
//!
//! **Only published figures.** Everything here is read from the two waves'
//! [`WaveResults`](super::WaveResults) ([`super::wave_results`]: the frozen snapshot), never
//! from counts: a paired question is the only question of its dimension (the definition
//! check insists), so its dimension's published figures are its own; the index pools the
//! published top-2-box counts (`top2box × n`) of the items' dimensions and is hidden when
//! any of them is. A group the supplier wave's plan hides is not in the mirror at all.
//!
//! **Which waves.** For a half-year, the latest closed wave (not marked outside the trend)
//! of a survey whose `audience` is internal customers and the latest of one whose
//! audience is suppliers, both with paired questions; a half-year is listed only when it
//! has both.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::model::{DimensionFigures, Hidden, NpsFigures, WaveResults};
use super::store::ResultsCache;
use super::{wave_results, ResultsError};
use crate::db::models::waves as wave_rows;
use crate::db::DbConn;
use crate::domain::definition::{pair_label, Audience, SurveyDefinition};
use crate::domain::wave::WaveState;
use crate::scorecards::period::HalfYear;
use crate::stats::proportion::wilson_interval;

/// The mirror of one half-year. Units as in [`WaveResults`]: means in scale points, shares
/// as fractions, NPS in points; a hidden or undefined figure is `null`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mirror {
    /// `2026-H1`.
    pub half_year: String,
    /// The half-year the changes are measured against: the last one before with both
    /// sides; `null` when there is none.
    pub previous_half_year: Option<String>,
    /// Every half-year with both sides, newest first.
    pub half_years: Vec<String>,
    pub internal: MirrorWave,
    pub suppliers: MirrorWave,
    /// The pairs both surveys ask, in the order of the supplier survey.
    pub pairs: Vec<MirrorPair>,
    /// `null` when the supplier survey has no customer-of-choice items.
    pub customer_of_choice: Option<CustomerOfChoice>,
    /// Per breakdown of the supplier wave (tier, category…): its shown groups only.
    pub breakdowns: Vec<MirrorBreakdown>,
}

/// One side's wave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MirrorWave {
    pub audience: Audience,
    pub wave_id: String,
    pub wave_title: String,
    pub survey_slug: String,
    pub survey_title: String,
    pub anonymity_k: u32,
    pub invited: u64,
    pub responses: u64,
    /// The wave's NPS: internal customers recommending procurement, suppliers
    /// recommending the organisation as a customer.
    pub nps: Option<MirrorNps>,
    pub nps_hidden: Option<Hidden>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MirrorNps {
    pub n: u64,
    pub score: f64,
    pub ci: (f64, f64),
    /// This NPS minus the same side's NPS in the previous half-year, in points.
    pub change: Option<f64>,
}

/// One pair: both sides' published figures and the gap.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MirrorPair {
    /// The pair's key, e.g. `communication`.
    pub pair: String,
    pub label: String,
    /// Points of the scale (the same on both sides).
    pub scale: u8,
    pub internal: PairSide,
    pub suppliers: PairSide,
    /// Suppliers' mean minus internal customers' mean (scale points): negative when
    /// suppliers see procurement worse. `null` when either side is hidden.
    pub gap: Option<f64>,
    /// Suppliers' top-2-box minus internal customers' (a fraction).
    pub top2box_gap: Option<f64>,
    /// The gap in the previous half-year, where both sides were shown then.
    pub previous_gap: Option<f64>,
    /// `gap − previous_gap`.
    pub gap_change: Option<f64>,
}

/// One side of a pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairSide {
    /// The question's key in its survey.
    pub question: String,
    pub n: Option<u64>,
    pub mean: Option<f64>,
    pub mean_ci: Option<(f64, f64)>,
    pub top2box: Option<f64>,
    pub top2box_ci: Option<(f64, f64)>,
    /// Why the figures are missing, when they are.
    pub hidden: Option<Hidden>,
}

/// The customer-of-choice index: the share of top-2 answers over the customer-of-choice
/// items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerOfChoice {
    /// The items' questions.
    pub questions: Vec<String>,
    /// Answers to the items (not applicable excluded) and, of those, top-2 answers.
    pub answers: Option<u64>,
    pub top2_answers: Option<u64>,
    pub index: Option<f64>,
    /// 95 % Wilson interval over the answers (two answers of one supplier are not
    /// independent, so it is somewhat narrower than an exact one).
    pub ci: Option<(f64, f64)>,
    pub hidden: Option<Hidden>,
    /// The index in the previous half-year, and this one minus it.
    pub previous: Option<f64>,
    pub change: Option<f64>,
}

/// The supplier wave's groups by one attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MirrorBreakdown {
    pub attribute: String,
    pub label: String,
    /// Shown groups only: a group the release plan hides is left out.
    pub groups: Vec<MirrorGroup>,
}

/// One shown supplier group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MirrorGroup {
    pub value: String,
    pub responses: u64,
    pub nps: Option<f64>,
    /// Per pair (order of [`Mirror::pairs`]): the group's mean, `null` where hidden.
    pub means: Vec<Option<f64>>,
    /// Per pair: the group's mean minus the internal customers' (whole wave) mean.
    pub gaps: Vec<Option<f64>>,
    /// The group's customer-of-choice index, `null` where any item is hidden.
    pub customer_of_choice: Option<f64>,
}

/// A closed wave of a survey with paired questions, and its half-year.
struct Candidate {
    wave_id: String,
    opens_at: NaiveDateTime,
    audience: Audience,
    half: HalfYear,
}

/// One side of the mirror: a wave's published results and its definition.
pub struct Side {
    pub results: Arc<WaveResults>,
    pub definition: SurveyDefinition,
}

/// The mirror of `half` (the latest half-year with both sides when `None`).
pub fn mirror(
    conn: &mut DbConn,
    cache: &ResultsCache,
    half: Option<HalfYear>,
    now: NaiveDateTime,
) -> Result<Mirror, ResultsError> {
    let candidates = candidates(conn)?;
    // Per half-year, the latest wave of each side.
    let mut by_half: BTreeMap<HalfYear, BTreeMap<&'static str, &Candidate>> = BTreeMap::new();
    for candidate in &candidates {
        let slot = by_half
            .entry(candidate.half)
            .or_default()
            .entry(candidate.audience.as_str())
            .or_insert(candidate);
        if (candidate.opens_at, &candidate.wave_id) > (slot.opens_at, &slot.wave_id) {
            *slot = candidate;
        }
    }
    by_half.retain(|_, sides| sides.len() == 2);
    let halves: Vec<HalfYear> = by_half.keys().rev().copied().collect();
    let chosen = match half {
        Some(half) if by_half.contains_key(&half) => half,
        Some(half) => {
            return Err(ResultsError::Refused(format!(
                "{half} has no mirror: it needs a closed wave of an internal-customer survey and of a supplier survey with paired questions{}",
                available(&halves)
            )))
        }
        None => *halves.first().ok_or_else(|| {
            ResultsError::Refused(
                "No half-year has a mirror yet: it needs a closed wave of an internal-customer survey and of a supplier survey with paired questions (\"pair\" in their definitions), in the same half-year.".into(),
            )
        })?,
    };
    let previous = halves.iter().copied().find(|h| *h < chosen);
    let mut load = |half: HalfYear| -> Result<(Side, Side), ResultsError> {
        // Every half-year kept above has a wave of each audience.
        let wave_of = |audience: Audience| {
            by_half
                .get(&half)
                .and_then(|sides| sides.get(audience.as_str()))
                .map(|candidate| candidate.wave_id.clone())
                .ok_or_else(|| {
                    ResultsError::Unexpected(anyhow::anyhow!(
                        "{half} lost its {} wave",
                        audience.label()
                    ))
                })
        };
        let internal = side(conn, cache, &wave_of(Audience::InternalCustomers)?, now)?;
        let suppliers = side(conn, cache, &wave_of(Audience::Suppliers)?, now)?;
        Ok((internal, suppliers))
    };
    let (internal, suppliers) = load(chosen)?;
    let before = previous.map(&mut load).transpose()?;
    let mut mirror = build(&internal, &suppliers, before.as_ref().map(|(i, s)| (i, s)));
    mirror.half_year = chosen.to_string();
    mirror.previous_half_year = previous.map(|h| h.to_string());
    mirror.half_years = halves.iter().map(ToString::to_string).collect();
    Ok(mirror)
}

fn available(halves: &[HalfYear]) -> String {
    if halves.is_empty() {
        String::new()
    } else {
        format!(
            "; half-years with one: {}",
            halves
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Closed waves (not outside the trend) of surveys with an audience and paired questions.
fn candidates(conn: &mut DbConn) -> Result<Vec<Candidate>, ResultsError> {
    let mut out = Vec::new();
    for (wave, _, _) in wave_rows::list(conn)? {
        if wave.state() != WaveState::Closed || wave_rows::is_outside_trend(conn, &wave.id)? {
            continue;
        }
        let Some(with_survey) = wave_rows::find_with_survey(conn, &wave.id)? else {
            continue;
        };
        let definition = with_survey.parsed_definition()?;
        let Some(audience) = definition.audience else {
            continue;
        };
        if definition.paired_questions().is_empty() {
            continue;
        }
        out.push(Candidate {
            wave_id: wave.id.clone(),
            opens_at: wave.opens_at,
            audience,
            half: HalfYear::of(wave.opens_at.date()),
        });
    }
    Ok(out)
}

fn side(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<Side, ResultsError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ResultsError::NotFound(wave_id.to_string()))?;
    Ok(Side {
        definition: wave.parsed_definition()?,
        results: wave_results(conn, cache, wave_id, now)?,
    })
}

/// The mirror of two waves' published results (pure): `previous` is the last half-year's
/// pair of sides, for the changes. The half-year fields are left empty.
pub fn build(internal: &Side, suppliers: &Side, previous: Option<(&Side, &Side)>) -> Mirror {
    let internal_pairs = internal.definition.paired_questions();
    let mut pairs = Vec::new();
    for supplier_side in suppliers.definition.paired_questions() {
        let Some(internal_side) = internal_pairs.iter().find(|p| p.pair == supplier_side.pair)
        else {
            continue;
        };
        if internal_side.question.scale != supplier_side.question.scale {
            // Versions pinned from different folders: not comparable, so not shown.
            continue;
        }
        let i = pair_side(
            &internal.results,
            &internal_side.question.key,
            &internal_side.question.dimension,
        );
        let s = pair_side(
            &suppliers.results,
            &supplier_side.question.key,
            &supplier_side.question.dimension,
        );
        let gap = diff(s.mean, i.mean);
        let previous_gap = previous.and_then(|(pi, ps)| {
            let pi_q = pi
                .definition
                .paired_questions()
                .into_iter()
                .find(|p| p.pair == supplier_side.pair)?;
            let ps_q = ps
                .definition
                .paired_questions()
                .into_iter()
                .find(|p| p.pair == supplier_side.pair)?;
            let before_i = pair_side(&pi.results, &pi_q.question.key, &pi_q.question.dimension);
            let before_s = pair_side(&ps.results, &ps_q.question.key, &ps_q.question.dimension);
            diff(before_s.mean, before_i.mean)
        });
        pairs.push(MirrorPair {
            pair: supplier_side.pair.to_string(),
            label: pair_label(supplier_side.pair),
            scale: supplier_side.question.scale,
            top2box_gap: diff(s.top2box, i.top2box),
            gap_change: diff(gap, previous_gap),
            gap,
            previous_gap,
            internal: i,
            suppliers: s,
        });
    }
    let previous_nps =
        |side: Option<&Side>| side.and_then(|side| side.results.nps.as_ref().map(|n| n.score));
    let internal_wave = mirror_wave(
        Audience::InternalCustomers,
        &internal.results,
        previous_nps(previous.map(|(i, _)| i)),
    );
    let suppliers_wave = mirror_wave(
        Audience::Suppliers,
        &suppliers.results,
        previous_nps(previous.map(|(_, s)| s)),
    );
    let items = suppliers.definition.customer_of_choice_dimensions();
    let customer_of_choice = (!items.is_empty()).then(|| {
        let questions = suppliers
            .definition
            .questions
            .iter()
            .filter_map(|q| match q {
                crate::domain::definition::Question::Likert(l) if l.customer_of_choice => {
                    Some(l.key.clone())
                }
                _ => None,
            })
            .collect();
        let now = index_of(&suppliers.results, &items);
        let before = previous.and_then(|(_, ps)| {
            let items = ps.definition.customer_of_choice_dimensions();
            index_of(&ps.results, &items)
                .ok()
                .map(|(_, _, share)| share)
        });
        match now {
            Ok((answers, top2, share)) => CustomerOfChoice {
                questions,
                answers: Some(answers),
                top2_answers: Some(top2),
                index: Some(share),
                ci: wilson_interval(top2, answers),
                hidden: None,
                previous: before,
                change: before.map(|b| share - b),
            },
            Err(hidden) => CustomerOfChoice {
                questions,
                answers: None,
                top2_answers: None,
                index: None,
                ci: None,
                hidden,
                previous: before,
                change: None,
            },
        }
    });
    let breakdowns = breakdowns(&suppliers.results, &items, &pairs);
    Mirror {
        half_year: String::new(),
        previous_half_year: None,
        half_years: Vec::new(),
        internal: internal_wave,
        suppliers: suppliers_wave,
        pairs,
        customer_of_choice,
        breakdowns,
    }
}

fn diff(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

fn mirror_wave(audience: Audience, results: &WaveResults, previous: Option<f64>) -> MirrorWave {
    MirrorWave {
        audience,
        wave_id: results.wave.id.clone(),
        wave_title: results.wave.title.clone(),
        survey_slug: results.wave.survey_slug.clone(),
        survey_title: results.wave.survey_title.clone(),
        anonymity_k: results.anonymity_k,
        invited: results.invited,
        responses: results.responses,
        nps: results.nps.as_ref().map(|nps: &NpsFigures| MirrorNps {
            n: nps.n,
            score: nps.score,
            ci: nps.ci,
            change: previous.map(|p| nps.score - p),
        }),
        nps_hidden: if results.nps.is_some() {
            None
        } else {
            results
                .nps_hidden
                .or((!results.shown).then_some(Hidden::FewerResponses))
        },
    }
}

/// A question's published figures: its dimension's (a paired question is alone in it).
fn pair_side(results: &WaveResults, question: &str, dimension: &str) -> PairSide {
    let found = results.dimensions.iter().find(|d| d.key == dimension);
    let figures = found.and_then(|d| d.figures.as_ref());
    let hidden = match (found, figures) {
        (_, Some(_)) => None,
        (Some(d), None) => d
            .hidden
            .or((!results.shown).then_some(Hidden::FewerResponses)),
        (None, None) => (!results.shown).then_some(Hidden::FewerResponses),
    };
    PairSide {
        question: question.to_string(),
        n: figures.map(|f| f.n),
        mean: figures.map(|f| f.mean),
        mean_ci: figures.map(|f| f.ci),
        top2box: figures.map(|f| f.top2box),
        top2box_ci: figures.map(|f| f.top2box_ci),
        hidden,
    }
}

/// Top-2 answers from a published share and its n (the share was computed as top2 / n).
fn top2_count(figures: &DimensionFigures) -> u64 {
    (figures.top2box * figures.n as f64).round() as u64
}

/// (answers, top-2 answers, share) over the items' dimensions of the whole wave; the
/// reason when any of them is hidden.
fn index_of(results: &WaveResults, items: &[&str]) -> Result<(u64, u64, f64), Option<Hidden>> {
    let mut answers = 0;
    let mut top2 = 0;
    for item in items {
        let dimension = results.dimensions.iter().find(|d| d.key == *item);
        match dimension.and_then(|d| d.figures.as_ref()) {
            Some(figures) => {
                answers += figures.n;
                top2 += top2_count(figures);
            }
            None => {
                return Err(dimension
                    .and_then(|d| d.hidden)
                    .or((!results.shown).then_some(Hidden::FewerResponses)))
            }
        }
    }
    if answers == 0 {
        return Err(None);
    }
    Ok((answers, top2, top2 as f64 / answers as f64))
}

fn breakdowns(
    suppliers: &WaveResults,
    items: &[&str],
    pairs: &[MirrorPair],
) -> Vec<MirrorBreakdown> {
    let position = |dimension: &str| suppliers.dimensions.iter().position(|d| d.key == dimension);
    let pair_positions: Vec<Option<usize>> = pairs
        .iter()
        .map(|pair| {
            suppliers
                .dimensions
                .iter()
                .position(|d| d.questions.contains(&pair.suppliers.question))
        })
        .collect();
    let internal_means: Vec<Option<f64>> = pairs.iter().map(|p| p.internal.mean).collect();
    let item_positions: Vec<Option<usize>> = items.iter().map(|d| position(d)).collect();
    suppliers
        .segments
        .iter()
        .map(|segment| MirrorBreakdown {
            attribute: segment.attribute.clone(),
            label: segment.label.clone(),
            groups: segment
                .groups
                .iter()
                .filter_map(|group| {
                    let figures = group.figures.as_ref()?;
                    let mean_at = |at: Option<usize>| {
                        at.and_then(|i| figures.dimension_means.get(i).copied().flatten())
                    };
                    let means: Vec<Option<f64>> =
                        pair_positions.iter().map(|at| mean_at(*at)).collect();
                    let gaps = means
                        .iter()
                        .zip(&internal_means)
                        .map(|(m, i)| diff(*m, *i))
                        .collect();
                    let mut answers = 0;
                    let mut top2 = 0;
                    let mut complete = !item_positions.is_empty();
                    for at in &item_positions {
                        match at.and_then(|i| figures.dimensions.get(i).cloned().flatten()) {
                            Some(f) => {
                                answers += f.n;
                                top2 += top2_count(&f);
                            }
                            None => complete = false,
                        }
                    }
                    Some(MirrorGroup {
                        value: group.value.clone(),
                        responses: figures.responses,
                        nps: figures.nps,
                        means,
                        gaps,
                        customer_of_choice: (complete && answers > 0)
                            .then(|| top2 as f64 / answers as f64),
                    })
                })
                .collect(),
        })
        .collect()
}
