//! A wave's results: every figure of the results page, the exports, the JSON API and
//! `pulse results`, computed once into one serialisable [`WaveResults`].
//!
//! **Input.** ONE grouped read per wave: its `answer_counts` rows (how many respondents of
//! each segment cell gave each value to each question), plus the invitations per cell (for
//! response rates) and the comments with their response's NPS answer. The counts are laid
//! out per cell as dense vectors ([`Layout`]) and rolled up in Rust to the whole wave and to
//! each segment value; `crate::stats` turns the rolled-up counts into figures.
//!
//! **Anonymity.** Every figure about a group goes through `crate::anonymity`: a wave with
//! fewer than k respondents has no answer figures at all (only invited / responses, which
//! the wave page shows anyway). The segment groups are decided by one
//! [`ReleasePlan`](crate::anonymity::ReleasePlan) over the wave's cells — every breakdown at
//! once, so no difference between breakdowns isolates anyone; inside a shown group, a
//! figure whose own count (NPS answers, answers per dimension) differs from the group's
//! respondents is suppressed again over those counts. A hidden group carries no number
//! (`figures: None`); comments are released by `visible_comments` (shuffled, a random
//! sample of at most [`COMMENT_SAMPLE`] per question) for the whole wave only.
//!
//! **Open waves show participation only.** Answer figures appear once a wave is closed (or
//! cancelled): two readings of an open wave a response apart differ by exactly that
//! response, whatever the threshold, and stepping the figures in blocks of k would still
//! leave the last block to be read off the final results. Invited / responses / response
//! rates (overall and per segment, under the plan) are live.
//!
//! **Changes and significance.** Each figure is compared with the previous wave of the same
//! survey (waves treated as independent samples): NPS by the adjusted-Wald z test, means by
//! Welch's t test, pain-point shares by the two-proportion z test. A change is flagged
//! significant only when its Benjamini–Hochberg adjusted p-value over all tests of the page
//! is ≤ [`Q`] AND it reaches the minimum effect ([`MIN_NPS_POINTS`], [`MIN_MEAN_CHANGE`],
//! [`MIN_SHARE_POINTS`]).
//!
//! **Caching and snapshots.** [`wave_results`] serves open (and cancelled) waves from a
//! [`ResultsCache`] keyed by (wave, respondents): the next response changes the key, so the
//! next read recomputes. This is correct across several `pulse serve` processes sharing a
//! database. A closed wave reads its snapshot (`result_snapshots`), written by [`freeze`]
//! inside `services::waves::close_wave`'s transaction; a closed wave without one (closed
//! before snapshots existed, or the snapshot failed) gets it on first read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::anonymity::{self, ReleasePlan, Scope, Threshold};
use crate::db::models::results as rows;
use crate::db::models::waves::{self as wave_rows, WaveRow, WaveWithSurvey};
use crate::db::DbConn;
use crate::domain::definition::{humanize, Question, Stage, SurveyDefinition};
use crate::services::responses::{ANSWERED_VALUE, NOT_APPLICABLE_VALUE, RESPONSES_KEY};
use crate::stats;

/// False discovery rate of the Benjamini–Hochberg procedure over the tests of a page.
pub const Q: f64 = 0.05;
/// Smallest NPS change, in points, that is ever flagged.
pub const MIN_NPS_POINTS: f64 = 5.0;
/// Smallest change of a mean (scale points) that is ever flagged.
pub const MIN_MEAN_CHANGE: f64 = 0.2;
/// Smallest change of a pain-point share or of CSAT, in percentage points, ever flagged.
pub const MIN_SHARE_POINTS: f64 = 5.0;

// ---------------------------------------------------------------------------------------
// The results, as every output path sees them
// ---------------------------------------------------------------------------------------

/// Everything the results page, the exports, the API and the CLI show about one wave.
///
/// Units: shares and rates are fractions in [0, 1]; NPS (`score`, `ci`, changes) is in
/// points (−100…100); means and their intervals are in scale points. Intervals are
/// `[low, high]` at 95 %. A figure that is hidden for anonymity, or undefined, is `null`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaveResults {
    pub wave: WaveInfo,
    /// When these figures were computed (UTC).
    pub computed_at: NaiveDateTime,
    /// True when read from the snapshot frozen at closing.
    pub frozen: bool,
    /// The segment group these figures are about; `null` for the whole wave. Filtered
    /// results have no changes, trend or comments (those are the whole wave's).
    #[serde(default)]
    pub filter: Option<SegmentFilter>,
    /// The wave's anonymity threshold k.
    pub anonymity_k: u32,
    /// Invitations of the wave.
    pub invited: u64,
    /// Respondents of the wave.
    pub responses: u64,
    /// `responses / invited`, `null` without invitations.
    pub response_rate: Option<f64>,
    /// False when the wave has fewer than k respondents: then no answer figure is given.
    pub shown: bool,
    /// False while the wave is open: its answers are shown once it closes (two readings a
    /// response apart would otherwise give that response away); participation is live.
    #[serde(default = "released_by_default")]
    pub answers_released: bool,
    /// The wave changes are measured against.
    pub previous_wave: Option<WaveRef>,
    pub nps: Option<NpsFigures>,
    /// Why `nps` is hidden, when it is.
    #[serde(default)]
    pub nps_hidden: Option<Hidden>,
    pub csat: Option<CsatFigures>,
    /// Why `csat` is hidden, when it is.
    #[serde(default)]
    pub csat_hidden: Option<Hidden>,
    pub dimensions: Vec<DimensionResult>,
    pub pain_points: Vec<PainPointsResult>,
    /// Single-choice questions (profile questions): the share choosing each option.
    #[serde(default)]
    pub choices: Vec<ChoiceResult>,
    /// Response rate, NPS and dimension means per value of each segment attribute.
    pub segments: Vec<SegmentBreakdown>,
    /// NPS and CSAT of every wave of the survey up to this one, oldest first.
    pub trend: Vec<TrendPoint>,
    pub comments: Option<Comments>,
    pub significance: SignificanceRule,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaveInfo {
    pub id: String,
    pub title: String,
    pub state: String,
    pub survey_slug: String,
    pub survey_title: String,
    pub survey_version: i32,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaveRef {
    pub id: String,
    pub title: String,
}

/// The respondents of one segment group: `attribute = value` (e.g. `region=EMEA`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentFilter {
    pub attribute: String,
    pub value: String,
}

impl SegmentFilter {
    /// Parses `attribute=value`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((attribute, value))
                if !attribute.trim().is_empty() && !value.trim().is_empty() =>
            {
                Ok(SegmentFilter {
                    attribute: attribute.trim().to_string(),
                    value: value.trim().to_string(),
                })
            }
            _ => Err(format!(
                "\"{text}\" is not a filter: write attribute=value, e.g. region=EMEA"
            )),
        }
    }

    fn matches(&self, cell: &str) -> bool {
        parse_cell(cell).get(&self.attribute) == Some(&self.value)
    }
}

impl std::fmt::Display for SegmentFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.attribute, self.value)
    }
}

/// Net Promoter Score of the wave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NpsFigures {
    pub question: String,
    /// Answers to the NPS question.
    pub n: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub promoter_share: f64,
    pub passive_share: f64,
    pub detractor_share: f64,
    /// %promoters − %detractors, in points (−100…100).
    pub score: f64,
    /// Adjusted-Wald 95 % interval, in points.
    pub ci: (f64, f64),
    /// Change since the previous wave, in points.
    pub change: Option<Change>,
}

/// CSAT: the share of all satisfaction answers in the top two boxes (4–5 of 5, 6–7 of 7).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CsatFigures {
    /// Satisfaction answers (not applicable excluded), over all dimensions.
    pub answers: u64,
    /// Of those, answers in the top two boxes.
    #[serde(default)]
    pub top2_answers: u64,
    pub top2box: f64,
    /// 95 % Wilson interval over the answers. Each respondent gives several answers, which
    /// are not independent, so this interval (and the change test) is somewhat narrower
    /// than an exact one would be; the per-dimension top-2-box intervals are exact.
    #[serde(default)]
    pub ci: (f64, f64),
    /// Against the previous wave: two-proportion z test over the answers.
    #[serde(default)]
    pub change: Option<Change>,
}

/// Satisfaction on one Likert dimension.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DimensionResult {
    pub key: String,
    pub label: String,
    /// Points of the scale (5 or 7).
    pub scale: u8,
    /// The questions pooled into this dimension.
    pub questions: Vec<String>,
    /// `null` when hidden (fewer than k answers) or undefined.
    pub figures: Option<DimensionFigures>,
    /// Why `figures` is hidden (`null` when shown or simply undefined).
    #[serde(default)]
    pub hidden: Option<Hidden>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DimensionFigures {
    /// Answers on the scale ("not applicable" excluded).
    pub n: u64,
    pub not_applicable: u64,
    pub mean: f64,
    pub sd: f64,
    /// t interval of the mean, scale points.
    pub ci: (f64, f64),
    /// Share of answers in the top two boxes.
    pub top2box: f64,
    /// Wilson interval of `top2box`.
    pub top2box_ci: (f64, f64),
    /// Change of the mean since the previous wave, scale points (Welch).
    pub change: Option<Change>,
}

/// One pain-point question: options grouped by procurement stage, as a Pareto.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PainPointsResult {
    pub question: String,
    /// Respondents of the wave: the denominator of every share.
    pub respondents: u64,
    /// Stages by mentions, most first; options inside by count, most first.
    pub stages: Vec<StageGroup>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageGroup {
    pub stage: Stage,
    pub label: String,
    /// Mentions of all options of the stage.
    pub mentions: u64,
    pub options: Vec<PainPointFigures>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PainPointFigures {
    pub key: String,
    pub label: String,
    pub stage: Stage,
    /// Respondents who named it.
    pub count: u64,
    /// `count / respondents` (shares of one question may add up past 100 %).
    pub share: f64,
    /// Wilson interval of `share`.
    pub ci: (f64, f64),
    /// Change of the share since the previous wave, as a fraction (two-proportion z).
    pub change: Option<Change>,
}

/// Why a figure or group is not shown, in the words pages, exports and the CLI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hidden {
    /// The group has fewer than k respondents (0 included).
    FewerResponses,
    /// The group is shown, but fewer than k of its respondents answered this question
    /// (skipped, optional, "not applicable").
    FewerAnswers,
    /// The group (or this figure of it) has enough, but is hidden so that a smaller group
    /// cannot be worked out by subtraction.
    ProtectsSmallerGroup,
    /// Its answers are stored only as part of a larger group (its combinations of
    /// attributes have fewer than k invitees, or were merged with such a group so that no
    /// stored group has fewer than k): counted there, never on their own.
    NotStoredSeparately,
}

impl Hidden {
    /// From the plan's decision on a group: `None` when shown. `figure` says whether the
    /// decision is about one figure's answers rather than the group's respondents.
    fn of(visibility: anonymity::Visibility, figure: bool) -> Option<Self> {
        match visibility {
            anonymity::Visibility::Shown => None,
            anonymity::Visibility::Hidden {
                reason: anonymity::HiddenReason::ProtectsAnotherGroup,
            } => Some(Hidden::ProtectsSmallerGroup),
            anonymity::Visibility::Hidden { .. } if figure => Some(Hidden::FewerAnswers),
            anonymity::Visibility::Hidden { .. } => Some(Hidden::FewerResponses),
        }
    }

    /// The words shown in place of the figure.
    pub fn text(self, k: u32) -> String {
        match self {
            Hidden::FewerResponses => format!("hidden: fewer than {k} responses"),
            Hidden::FewerAnswers => format!("hidden: fewer than {k} answers to this question"),
            Hidden::ProtectsSmallerGroup => {
                "hidden so that a smaller group cannot be worked out".to_string()
            }
            Hidden::NotStoredSeparately => format!(
                "hidden: (some of) its answers are stored only as part of a larger group, so that no group of fewer than {k} is stored apart"
            ),
        }
    }
}

/// A change since the previous wave and whether it is flagged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// The previous wave's figure (same unit as the figure).
    pub previous: f64,
    /// This wave minus the previous one (same unit as the figure).
    pub diff: f64,
    /// Two-sided p-value of the test.
    pub p: f64,
    /// Benjamini–Hochberg adjusted p-value over all tests of the page.
    pub p_adjusted: f64,
    /// Adjusted p ≤ q AND the change reaches the minimum effect.
    pub significant: bool,
}

/// One segment attribute (business unit, region…) broken down by value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentBreakdown {
    pub attribute: String,
    pub label: String,
    pub groups: Vec<SegmentGroup>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentGroup {
    pub value: String,
    /// `null` when the group is hidden: fewer than k respondents, or hidden so that a
    /// smaller group cannot be worked out by subtraction.
    pub figures: Option<GroupFigures>,
    /// Which of the two, when hidden.
    #[serde(default)]
    pub hidden: Option<Hidden>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupFigures {
    pub invited: u64,
    pub responses: u64,
    pub response_rate: Option<f64>,
    /// NPS in points; `null` when hidden.
    pub nps: Option<f64>,
    /// Mean per dimension, in the order of `WaveResults::dimensions`; `null` when hidden.
    pub dimension_means: Vec<Option<f64>>,
    /// Why `nps` is hidden, when it is.
    #[serde(default)]
    pub nps_hidden: Option<Hidden>,
    /// Why each dimension mean is hidden, when it is (same order as `dimension_means`).
    #[serde(default)]
    pub dimension_hidden: Vec<Option<Hidden>>,
}

/// A single-choice question of the whole wave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChoiceResult {
    pub question: String,
    /// The question as respondents read it (the definition's default language).
    pub text: String,
    /// Respondents who answered it.
    pub answers: u64,
    pub options: Vec<ChoiceFigures>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChoiceFigures {
    pub key: String,
    pub label: String,
    pub count: u64,
    /// `count / answers`, with its 95 % Wilson interval.
    pub share: f64,
    pub ci: (f64, f64),
}

/// One wave of the trend.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendPoint {
    pub wave_id: String,
    pub title: String,
    pub opens_at: NaiveDateTime,
    /// This wave (the one the page is about).
    pub current: bool,
    /// `null` when the wave had fewer than k respondents.
    pub figures: Option<TrendFigures>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendFigures {
    pub responses: u64,
    pub nps: Option<f64>,
    pub nps_ci: Option<(f64, f64)>,
    pub csat: Option<f64>,
}

/// Free-text comments of the whole wave, in random order, each with its response's NPS
/// category (so the page can filter). Present only when the wave has at least k
/// respondents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comments {
    /// Comments of the wave; `items` holds all of them or, past [`COMMENT_SAMPLE`] per
    /// question, a random sample (the category counts are those of `items`).
    pub total: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub items: Vec<Comment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    pub question: String,
    pub text: String,
    /// The NPS category of the same response; `null` when it gave no NPS answer.
    pub category: Option<NpsCategory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NpsCategory {
    Promoter,
    Passive,
    Detractor,
}

impl NpsCategory {
    pub fn of(answer: i32) -> Option<Self> {
        match answer {
            0..=6 => Some(Self::Detractor),
            7..=8 => Some(Self::Passive),
            9..=10 => Some(Self::Promoter),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "promoter" | "promoters" => Some(Self::Promoter),
            "passive" | "passives" => Some(Self::Passive),
            "detractor" | "detractors" => Some(Self::Detractor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promoter => "promoter",
            Self::Passive => "passive",
            Self::Detractor => "detractor",
        }
    }
}

/// The rule changes are flagged by, as shown on the page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignificanceRule {
    pub q: f64,
    pub min_nps_points: f64,
    pub min_mean_change: f64,
    pub min_share_points: f64,
    /// Tests run on this page (the m of Benjamini–Hochberg).
    pub tests: usize,
    /// Changes flagged significant.
    pub flagged: usize,
}

impl WaveResults {
    /// The breakdown by `attribute`, else the first one.
    pub fn segment(&self, attribute: Option<&str>) -> Option<&SegmentBreakdown> {
        attribute
            .and_then(|a| self.segments.iter().find(|s| s.attribute == a))
            .or_else(|| self.segments.first())
    }
}

// ---------------------------------------------------------------------------------------
// Errors and the cache
// ---------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("no wave with id {0} (see `pulse wave list`)")]
    NotFound(String),
    /// A filter that cannot be shown (anonymity, or the wave is still open).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for ResultsError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

#[derive(Clone)]
enum Entry {
    /// Results of an open (or cancelled) wave at a number of respondents.
    Live {
        respondents: u64,
        results: Arc<WaveResults>,
    },
    /// The snapshot of a closed wave: never changes.
    Frozen(Arc<WaveResults>),
}

/// Results kept in memory: live results until the wave's next response, snapshots for good.
#[derive(Default)]
pub struct ResultsCache(Mutex<HashMap<String, Entry>>);

impl ResultsCache {
    fn get(&self, wave_id: &str) -> Option<Entry> {
        self.0.lock().ok()?.get(wave_id).cloned()
    }

    fn put(&self, wave_id: &str, entry: Entry) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(wave_id.to_string(), entry);
        }
    }

    /// Forgets everything (tests and benchmarks measure cold computations with it).
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------

/// The results of a wave: a closed wave's snapshot, or an open wave's live results (cached
/// until its next response). Scheduled waves have no responses and get empty results.
pub fn wave_results(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<Arc<WaveResults>, ResultsError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ResultsError::NotFound(wave_id.to_string()))?;
    if wave.wave.state == "closed" {
        return Ok(frozen(conn, cache, &wave, now)?);
    }
    let respondents = count(rows::respondents(conn, wave_id, RESPONSES_KEY)?);
    if let Some(Entry::Live {
        respondents: cached,
        results,
    }) = cache.get(wave_id)
    {
        if cached == respondents && results.wave.state == wave.wave.state {
            return Ok(results);
        }
    }
    let results = Arc::new(compute(conn, cache, &wave, now)?);
    cache.put(
        wave_id,
        Entry::Live {
            respondents: results.responses,
            results: results.clone(),
        },
    );
    Ok(results)
}

/// The results of the respondents in one segment group of a closed (or cancelled) wave:
/// refused while the wave is open, and for any group the wave's release plan hides or
/// whose complement is too small. Cached for good (the counts no longer change).
pub fn filtered_results(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    filter: &SegmentFilter,
    now: NaiveDateTime,
) -> Result<Arc<WaveResults>, ResultsError> {
    let key = format!("{wave_id}\n{filter}");
    if let Some(Entry::Frozen(results)) = cache.get(&key) {
        return Ok(results);
    }
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ResultsError::NotFound(wave_id.to_string()))?;
    if !answers_released(&wave.wave) {
        return Err(ResultsError::Refused(
            "Filters are available once the wave has closed: while it is open, only participation is shown.".into(),
        ));
    }
    if wave.wave.state == "closed" {
        // Frozen at closing for every filter the plan allows; the counts behind them are
        // gone, so a filter without a snapshot is one the plan refuses.
        if let Some(json) = rows::find_filter_snapshot(conn, wave_id, &filter.to_string())? {
            let results: WaveResults = serde_json::from_str(&json).with_context(|| {
                format!("the snapshot of {filter} in wave {wave_id} does not parse")
            })?;
            let results = Arc::new(results);
            cache.put(&key, Entry::Frozen(results.clone()));
            return Ok(results);
        }
    }
    let results = Arc::new(compute_filtered(conn, &wave, filter, now)?);
    cache.put(&key, Entry::Frozen(results.clone()));
    Ok(results)
}

/// The results of one filter, computed from the wave's counts.
fn compute_filtered(
    conn: &mut DbConn,
    wave: &WaveWithSurvey,
    filter: &SegmentFilter,
    now: NaiveDateTime,
) -> Result<WaveResults, ResultsError> {
    let definition = parse_definition(wave)?;
    let k = threshold(&wave.wave)?;
    let layout = Layout::new(&definition);
    let read = read_cells(conn, &wave.wave, &layout)?;
    filtered_from(wave, &definition, &layout, k, read, None, filter, now)
}

/// The results of one filter from a wave's cells, with the wave's plans when known.
#[allow(clippy::too_many_arguments)]
fn filtered_from(
    wave: &WaveWithSurvey,
    definition: &SurveyDefinition,
    layout: &Layout,
    k: Threshold,
    read: CellsRead,
    plans: Option<&Plans>,
    filter: &SegmentFilter,
    now: NaiveDateTime,
) -> Result<WaveResults, ResultsError> {
    let figures = figures_of(definition, layout, k, read, true, true, Some(filter), plans)
        .map_err(|refusal| ResultsError::Refused(refusal.to_string()))?;
    let mut results = assemble(
        wave,
        figures,
        now,
        None,
        Vec::new(),
        None,
        SignificanceRule::new(0, 0),
    );
    results.filter = Some(filter.clone());
    results.frozen = wave.wave.state == "closed";
    Ok(results)
}

/// Respondents of a wave: from the snapshot once it is closed (its responses are gone
/// then), else counted.
pub fn respondents_count(conn: &mut DbConn, wave_id: &str, state: &str) -> anyhow::Result<u64> {
    #[derive(Deserialize)]
    struct Responses {
        responses: u64,
    }
    if state == "closed" {
        if let Some(json) = rows::find_snapshot(conn, wave_id)? {
            let parsed: Responses =
                serde_json::from_str(&json).context("a results snapshot does not parse")?;
            return Ok(parsed.responses);
        }
    }
    Ok(count(rows::respondents(conn, wave_id, RESPONSES_KEY)?))
}

/// Computes and stores the snapshot of a wave that has just closed. Called inside
/// `close_wave`'s transaction, after the wave was marked closed (no answer can be added any
/// more), so the snapshot holds exactly the answers the wave closed with. Does nothing if
/// the wave has a snapshot already.
/// The results of every filter the release plan allows are frozen too (the counts they
/// come from are deleted by [`compact`]).
pub fn freeze(conn: &mut DbConn, wave_id: &str, now: NaiveDateTime) -> anyhow::Result<()> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .with_context(|| format!("no wave {wave_id}"))?;
    if rows::find_snapshot(conn, wave_id)?.is_none() {
        let mut results = compute(conn, &ResultsCache::default(), &wave, now)?;
        results.frozen = true;
        let json = serde_json::to_string(&results).context("results to JSON")?;
        rows::insert_snapshot(conn, wave_id, &json, now)?;
    }
    if crate::db::models::responses::has_answers(conn, wave_id)? {
        freeze_filters(conn, &wave, now)?;
    }
    Ok(())
}

/// After [`freeze`]: deletes everything of a closed wave finer than what can be published
/// — the comments are kept without any cell (`wave_comments`), its answers, responses,
/// counts and marks are deleted
/// ([`responses::compact_wave`](crate::services::responses::compact_wave)). Does nothing
/// when done already.
pub fn compact(conn: &mut DbConn, wave_id: &str) -> anyhow::Result<()> {
    if !crate::db::models::responses::has_answers(conn, wave_id)? {
        return Ok(());
    }
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .with_context(|| format!("no wave {wave_id}"))?;
    let definition = parse_definition(&wave)?;
    let nps_key = definition.questions.iter().find_map(|q| match q {
        Question::Nps(q) => Some(q.key.clone()),
        _ => None,
    });
    let text_keys: Vec<String> = definition
        .questions
        .iter()
        .filter(|q| matches!(q, Question::Text(_)))
        .map(|q| q.key().to_string())
        .collect();
    crate::services::responses::compact_wave(conn, wave_id, nps_key.as_deref(), &text_keys)?;
    Ok(())
}

/// Freezes the results of every filter the wave's release plan allows.
fn freeze_filters(
    conn: &mut DbConn,
    wave: &WaveWithSurvey,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let definition = parse_definition(wave)?;
    let k = threshold(&wave.wave)?;
    let layout = Layout::new(&definition);
    let read = read_cells(conn, &wave.wave, &layout)?;
    // One read and one set of plans for every filter.
    let plans = Plans::new(&definition, &layout, &read, k, true);
    let plan = &plans.plan;
    for attribute in &definition.segments {
        for value in plan.values(attribute) {
            if plan.filter(attribute, value).is_err() {
                continue;
            }
            let filter = SegmentFilter {
                attribute: attribute.clone(),
                value: value.clone(),
            };
            let results = match filtered_from(
                wave,
                &definition,
                &layout,
                k,
                read.clone(),
                Some(&plans),
                &filter,
                now,
            ) {
                Ok(results) => results,
                Err(ResultsError::Refused(_)) => continue,
                Err(error) => return Err(anyhow::anyhow!("{error:#}")),
            };
            let json = serde_json::to_string(&results).context("results to JSON")?;
            rows::insert_filter_snapshot(conn, &wave.wave.id, &filter.to_string(), &json, now)?;
        }
    }
    Ok(())
}

fn frozen(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveWithSurvey,
    now: NaiveDateTime,
) -> anyhow::Result<Arc<WaveResults>> {
    if let Some(Entry::Frozen(results)) = cache.get(&wave.wave.id) {
        return Ok(results);
    }
    let results = match rows::find_snapshot(conn, &wave.wave.id)? {
        Some(json) => serde_json::from_str::<WaveResults>(&json)
            .with_context(|| format!("the snapshot of wave {} does not parse", wave.wave.id))?,
        None => {
            // Closed before snapshots existed (or freezing failed): the counts of a closed
            // wave no longer change, so freeze them now (and keep nothing finer).
            // A savepoint when called inside a transaction (closing another wave).
            {
                use diesel::Connection;
                conn.transaction(|conn| {
                    freeze(conn, &wave.wave.id, now)?;
                    compact(conn, &wave.wave.id)
                })?;
            }
            let json = rows::find_snapshot(conn, &wave.wave.id)?
                .with_context(|| format!("wave {} has no snapshot after freezing", wave.wave.id))?;
            serde_json::from_str::<WaveResults>(&json)
                .with_context(|| format!("the snapshot of wave {} does not parse", wave.wave.id))?
        }
    };
    let results = Arc::new(results);
    cache.put(&wave.wave.id, Entry::Frozen(results.clone()));
    Ok(results)
}

/// Snapshots written before `answers_released` existed are of closed waves.
fn released_by_default() -> bool {
    true
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

// ---------------------------------------------------------------------------------------
// Counts laid out per cell
// ---------------------------------------------------------------------------------------

/// Where each (question, value) count of a definition lives in a cell's dense vector.
struct Layout {
    slots: HashMap<String, HashMap<String, usize>>,
    len: usize,
    responses: usize,
    nps: Option<NpsSlots>,
    dimensions: Vec<DimensionSlots>,
    pain_points: Vec<PainSlots>,
    choices: Vec<ChoiceSlots>,
}

struct ChoiceSlots {
    key: String,
    text: String,
    /// (option key, label, slot)
    options: Vec<(String, String, usize)>,
}

struct NpsSlots {
    key: String,
    /// Slots of the values 0..=10.
    values: [usize; 11],
}

struct DimensionSlots {
    key: String,
    scale: u8,
    questions: Vec<String>,
    /// Per question, the slots of 1..=scale, and of "not applicable".
    per_question: Vec<(Vec<usize>, usize)>,
}

struct PainSlots {
    key: String,
    options: Vec<(String, String, Stage, usize)>,
}

impl Layout {
    fn new(definition: &SurveyDefinition) -> Self {
        let mut layout = Layout {
            slots: HashMap::new(),
            len: 0,
            responses: 0,
            nps: None,
            dimensions: Vec::new(),
            pain_points: Vec::new(),
            choices: Vec::new(),
        };
        layout.responses = layout.slot(RESPONSES_KEY, "");
        let texts = definition.texts(None);
        for question in &definition.questions {
            match question {
                Question::Nps(q) if layout.nps.is_none() => {
                    let mut values = [0; 11];
                    for (v, slot) in values.iter_mut().enumerate() {
                        *slot = layout.slot(&q.key, &v.to_string());
                    }
                    layout.nps = Some(NpsSlots {
                        key: q.key.clone(),
                        values,
                    });
                }
                Question::Likert(q) => {
                    let values: Vec<usize> = q
                        .values()
                        .map(|v| layout.slot(&q.key, &v.to_string()))
                        .collect();
                    let na = layout.slot(&q.key, NOT_APPLICABLE_VALUE);
                    match layout.dimensions.iter_mut().find(|d| d.key == q.dimension) {
                        // A dimension pools questions of one scale; a question on another
                        // scale than the dimension's first is left out of it.
                        Some(dim) if dim.scale == q.scale => {
                            dim.questions.push(q.key.clone());
                            dim.per_question.push((values, na));
                        }
                        Some(_) => {}
                        None => layout.dimensions.push(DimensionSlots {
                            key: q.dimension.clone(),
                            scale: q.scale,
                            questions: vec![q.key.clone()],
                            per_question: vec![(values, na)],
                        }),
                    }
                }
                Question::PainPoints(q) => {
                    let options = q
                        .options
                        .iter()
                        .map(|o| {
                            (
                                o.key.clone(),
                                texts.get(&o.label).to_string(),
                                o.stage,
                                layout.slot(&q.key, &o.key),
                            )
                        })
                        .collect();
                    layout.slot(&q.key, ANSWERED_VALUE);
                    layout.pain_points.push(PainSlots {
                        key: q.key.clone(),
                        options,
                    });
                }
                Question::Choice(q) => {
                    let options = q
                        .options
                        .iter()
                        .map(|o| {
                            (
                                o.key.clone(),
                                texts.get(&o.label).to_string(),
                                layout.slot(&q.key, &o.key),
                            )
                        })
                        .collect();
                    layout.choices.push(ChoiceSlots {
                        key: q.key.clone(),
                        text: texts.get(&q.text).to_string(),
                        options,
                    });
                }
                Question::Text(q) => {
                    // How many answered it: the number of comments, without reading them.
                    layout.slot(&q.key, ANSWERED_VALUE);
                }
                // A second NPS question is not reported.
                Question::Nps(_) => {}
            }
        }
        layout
    }

    fn slot(&mut self, question: &str, value: &str) -> usize {
        let next = self.len;
        let slot = *self
            .slots
            .entry(question.to_string())
            .or_default()
            .entry(value.to_string())
            .or_insert(next);
        if slot == next {
            self.len += 1;
        }
        slot
    }

    fn find(&self, question: &str, value: &str) -> Option<usize> {
        self.slots.get(question)?.get(value).copied()
    }
}

/// The counts of one group of respondents (a cell, a segment value, the wave).
#[derive(Clone)]
struct Counts(Vec<u64>);

impl Counts {
    fn zero(layout: &Layout) -> Self {
        Counts(vec![0; layout.len])
    }

    fn add(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = a.saturating_add(*b);
        }
    }

    fn respondents(&self, layout: &Layout) -> u64 {
        self.0[layout.responses]
    }

    fn nps(&self, layout: &Layout) -> Option<stats::NpsCounts> {
        let slots = layout.nps.as_ref()?;
        let mut histogram = [0u64; 11];
        for (h, &slot) in histogram.iter_mut().zip(&slots.values) {
            *h = self.0[slot];
        }
        Some(stats::NpsCounts::from_histogram(&histogram))
    }

    /// Pooled histogram of a dimension (index i = value i + 1) and its "not applicable".
    fn dimension(&self, dim: &DimensionSlots) -> (Vec<u64>, u64) {
        let mut histogram = vec![0u64; usize::from(dim.scale)];
        let mut not_applicable = 0;
        for (values, na) in &dim.per_question {
            for (h, &slot) in histogram.iter_mut().zip(values) {
                *h += self.0[slot];
            }
            not_applicable += self.0[*na];
        }
        (histogram, not_applicable)
    }
}

/// The counts of a wave per cell, keyed by the cell's canonical JSON.
#[derive(Clone)]
struct CellTable {
    cells: Vec<(String, Counts)>,
}

impl CellTable {
    fn build(layout: &Layout, read: Vec<rows::CellCounts>) -> Self {
        let mut cells: Vec<(String, Counts)> = Vec::with_capacity(read.len());
        for cell in read {
            let mut counts = Counts::zero(layout);
            for (question, value, n) in cell.counts() {
                if let Some(slot) = layout.find(question, value) {
                    counts.0[slot] = counts.0[slot].saturating_add(count(n));
                }
            }
            cells.push((cell.cell, counts));
        }
        CellTable { cells }
    }

    fn total(&self, layout: &Layout) -> Counts {
        let mut total = Counts::zero(layout);
        for (_, counts) in &self.cells {
            total.add(counts);
        }
        total
    }
}

/// A cell's attribute values (`{"business_unit":"Sales","region":"EMEA"}`).
fn parse_cell(cell: &str) -> BTreeMap<String, String> {
    serde_json::from_str::<BTreeMap<String, serde_json::Value>>(cell)
        .map(|map| {
            map.into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    serde_json::Value::Null => None,
                    other => Some((k, other.to_string())),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Computing
// ---------------------------------------------------------------------------------------

/// Figures of one wave alone (no previous wave, trend or comments yet).
struct Figures {
    k: u32,
    shown: bool,
    answers_released: bool,
    /// The wave's counts, rolled up over all cells.
    total: Counts,
    responses: u64,
    invited: u64,
    nps: Option<NpsFigures>,
    nps_hidden: Option<Hidden>,
    csat: Option<CsatFigures>,
    csat_hidden: Option<Hidden>,
    dimensions: Vec<DimensionResult>,
    pain_points: Vec<PainPointsResult>,
    choices: Vec<ChoiceResult>,
    segments: Vec<SegmentBreakdown>,
}

fn parse_definition(wave: &WaveWithSurvey) -> anyhow::Result<SurveyDefinition> {
    serde_json::from_str(&wave.definition).with_context(|| {
        format!(
            "the pinned definition of wave {} does not parse",
            wave.wave.id
        )
    })
}

fn threshold(wave: &WaveRow) -> anyhow::Result<Threshold> {
    Threshold::try_from(wave.anonymity_k).map_err(|e| anyhow::anyhow!("wave {}: {e}", wave.id))
}

fn compute(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveWithSurvey,
    now: NaiveDateTime,
) -> anyhow::Result<WaveResults> {
    let definition = parse_definition(wave)?;
    let k = threshold(&wave.wave)?;
    let layout = Layout::new(&definition);
    let mut figures = figures(conn, &wave.wave, &definition, &layout, k, true)?;

    // The previous wave and the trend: snapshots of closed waves, live results otherwise.
    let mut trend = Vec::new();
    let mut previous: Option<(WaveRef, Baseline)> = None;
    for other in wave_rows::opened_of_survey(conn, &wave.survey_slug)? {
        if (&other.opens_at, &other.id) >= (&wave.wave.opens_at, &wave.wave.id) {
            continue;
        }
        let baseline = baseline(conn, cache, &other, now)?;
        trend.push(baseline.trend_point(&other, false));
        previous = Some((
            WaveRef {
                id: other.id.clone(),
                title: other.title.clone(),
            },
            baseline,
        ));
    }
    let current = Baseline::of(&figures);
    trend.push(current.trend_point(&wave.wave, true));

    let significance = match &previous {
        Some((_, before)) if figures.shown && figures.answers_released && before.shown => {
            compare(&mut figures, before)
        }
        _ => SignificanceRule::new(0, 0),
    };
    let comments = if figures.shown && figures.answers_released {
        comments(conn, &wave.wave, &definition, &layout, &figures.total, k)?
    } else {
        None
    };
    Ok(assemble(
        wave,
        figures,
        now,
        previous.map(|(r, _)| r),
        trend,
        comments,
        significance,
    ))
}

/// One [`WaveResults`] from a wave's figures and what was found around them.
fn assemble(
    wave: &WaveWithSurvey,
    figures: Figures,
    now: NaiveDateTime,
    previous_wave: Option<WaveRef>,
    trend: Vec<TrendPoint>,
    comments: Option<Comments>,
    significance: SignificanceRule,
) -> WaveResults {
    WaveResults {
        wave: WaveInfo {
            id: wave.wave.id.clone(),
            title: wave.wave.title.clone(),
            state: wave.wave.state.clone(),
            survey_slug: wave.survey_slug.clone(),
            survey_title: wave.survey_title.clone(),
            survey_version: wave.survey_version,
            opens_at: wave.wave.opens_at,
            closes_at: wave.wave.closes_at,
        },
        computed_at: now,
        frozen: false,
        filter: None,
        anonymity_k: figures.k,
        invited: figures.invited,
        responses: figures.responses,
        response_rate: ratio(figures.responses, figures.invited),
        shown: figures.shown,
        answers_released: figures.answers_released,
        previous_wave,
        nps: figures.nps,
        nps_hidden: figures.nps_hidden,
        csat: figures.csat,
        csat_hidden: figures.csat_hidden,
        dimensions: figures.dimensions,
        pain_points: figures.pain_points,
        choices: figures.choices,
        segments: figures.segments,
        trend,
        comments,
        significance,
    }
}

/// The figures of a wave from its counts. `with_segments: false` skips the breakdowns
/// (earlier waves of the trend need only the wave's own figures).
fn figures(
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

/// A wave's counts per cell and invitations per cell, as read from the database.
#[derive(Clone)]
struct CellsRead {
    table: CellTable,
    /// Invited per response cell (the cells answers are stored under).
    invited: Vec<(String, u64)>,
    /// Invited per full segment: the groups whose people are all stored under coarser
    /// cells are still listed (hidden), so the org chart's groups all appear.
    segments: Vec<(String, u64)>,
}

/// Reads what the figures need: every count of a wave whose answers are released, only
/// the respondents per cell otherwise (participation is all an open wave shows).
fn read_cells(conn: &mut DbConn, wave: &WaveRow, layout: &Layout) -> anyhow::Result<CellsRead> {
    let table = if answers_released(wave) {
        CellTable::build(layout, rows::cell_counts(conn, &wave.id)?)
    } else {
        CellTable {
            cells: rows::respondents_per_cell(conn, &wave.id, RESPONSES_KEY)?
                .into_iter()
                .map(|(cell, n)| {
                    let mut counts = Counts::zero(layout);
                    counts.0[layout.responses] = count(n);
                    (cell, counts)
                })
                .collect(),
        }
    };
    Ok(CellsRead {
        table,
        invited: rows::invited_per_cell(conn, &wave.id)?
            .into_iter()
            .map(|(cell, n)| (cell, count(n)))
            .collect(),
        segments: rows::invited_per_segment(conn, &wave.id)?
            .into_iter()
            .map(|(cell, n)| (cell, count(n)))
            .collect(),
    })
}

/// The figures of the whole wave or, with `filter`, of the respondents in one segment
/// group — refused unless the wave's release plan allows that filter.
#[allow(clippy::too_many_arguments)] // a private step of the computation, called twice
fn figures_of(
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
        read.table.cells.retain(|(cell, _)| filter.matches(cell));
        read.invited.retain(|(cell, _)| filter.matches(cell));
        read.segments.retain(|(cell, _)| filter.matches(cell));
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
    let mut csat_answers = 0u64;
    let mut csat_top = 0u64;
    for (result, dim) in figures.dimensions.iter_mut().zip(&layout.dimensions) {
        let (histogram, not_applicable) = total.dimension(dim);
        let n: u64 = histogram.iter().sum();
        csat_answers += n;
        csat_top += histogram.iter().rev().take(2).sum::<u64>();
        result.hidden = gate(figure_plans.map(|p| p.questions(&dim.questions)), n);
        if result.hidden.is_some() {
            continue;
        }
        result.figures = stats::likert_summary(&histogram).map(|s| DimensionFigures {
            n: s.n,
            not_applicable,
            mean: s.mean,
            sd: s.sd,
            ci: s.ci,
            top2box: s.top2.share,
            top2box_ci: s.top2.ci,
            change: None,
        });
    }
    let likert: Vec<String> = layout
        .dimensions
        .iter()
        .flat_map(|d| d.questions.iter().cloned())
        .collect();
    figures.csat_hidden = gate(figure_plans.map(|p| p.questions(&likert)), csat_answers);
    figures.csat = stats::proportion_summary(csat_top, csat_answers)
        .filter(|_| figures.csat_hidden.is_none())
        .map(|summary| CsatFigures {
            answers: csat_answers,
            top2_answers: csat_top,
            top2box: summary.share,
            ci: summary.ci,
            change: None,
        });
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

fn nps_figures(counts: &Counts, layout: &Layout, k: Threshold) -> Option<NpsFigures> {
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

/// A choice question of the whole wave, when at least k answered it.
fn choice_figures(total: &Counts, choice: &ChoiceSlots, k: Threshold) -> Option<ChoiceResult> {
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

fn pain_points(total: &Counts, pain: &PainSlots, respondents: u64) -> PainPointsResult {
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

/// Whether a wave's answers may be shown: only once no answer can be added any more
/// (closed or cancelled). While a wave is open, two readings of its results a response
/// apart would differ by exactly that response — whatever the threshold — so an open wave
/// shows participation only (invited, responses, response rates, also per segment).
fn answers_released(wave: &WaveRow) -> bool {
    matches!(wave.state.as_str(), "closed" | "cancelled")
}

/// The anonymity plan of a wave: every group of every breakdown decided at once from the
/// respondents per cell (every invited cell included, with 0 where nobody answered).
fn release_plan(
    definition: &SurveyDefinition,
    layout: &Layout,
    table: &CellTable,
    invited_cells: &[(String, u64)],
    k: Threshold,
) -> ReleasePlan {
    let responded = table
        .cells
        .iter()
        .map(|(cell, counts)| (parse_cell(cell), counts.respondents(layout)));
    let invited = invited_cells.iter().map(|(cell, _)| (parse_cell(cell), 0));
    ReleasePlan::new(&definition.segments, responded.chain(invited), k)
}

/// The plans of one wave snapshot: the release plan over respondents and, once answers are
/// released, the plans of every question's figures. Built once per snapshot (and shared by
/// every filter when a wave closes).
struct Plans {
    plan: ReleasePlan,
    figures: Option<FigurePlans>,
}

impl Plans {
    fn new(
        definition: &SurveyDefinition,
        layout: &Layout,
        read: &CellsRead,
        k: Threshold,
        answers_released: bool,
    ) -> Self {
        let plan = release_plan(definition, layout, &read.table, &read.invited, k);
        // Every answer figure is audited with its own counts over the whole wave.
        let figures = (answers_released && plan.total().is_shown())
            .then(|| FigurePlans::new(&plan, layout, &read.table, &read.invited));
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
struct FigurePlans {
    /// Per question key; `None` when nobody answered it (nothing to show anywhere).
    plans: HashMap<String, Option<Arc<ReleasePlan>>>,
}

impl FigurePlans {
    fn new(
        plan: &ReleasePlan,
        layout: &Layout,
        table: &CellTable,
        invited: &[(String, u64)],
    ) -> Self {
        let cells: Vec<BTreeMap<String, String>> = table
            .cells
            .iter()
            .map(|(cell, _)| parse_cell(cell))
            .collect();
        let invited: Vec<BTreeMap<String, String>> =
            invited.iter().map(|(cell, _)| parse_cell(cell)).collect();
        let respondents: Vec<u64> = table
            .cells
            .iter()
            .map(|(_, c)| c.respondents(layout))
            .collect();
        let same_as_respondents = Arc::new(plan.clone());
        // Questions answered alike (every respondent, no "not applicable") share a plan.
        let mut by_counts: HashMap<Vec<u64>, Arc<ReleasePlan>> = HashMap::new();
        let mut plan_of = |slots: &[usize]| -> Option<Arc<ReleasePlan>> {
            let counts: Vec<u64> = table
                .cells
                .iter()
                .map(|(_, c)| slots.iter().map(|&s| c.0[s]).sum())
                .collect();
            if counts.iter().all(|&n| n == 0) {
                return None;
            }
            if counts == respondents {
                return Some(same_as_respondents.clone());
            }
            let built = by_counts.entry(counts.clone()).or_insert_with(|| {
                let with_counts = cells.iter().cloned().zip(counts.iter().copied());
                let zeros = invited.iter().map(|cell| (cell.clone(), 0));
                Arc::new(plan.for_figure(with_counts.chain(zeros)))
            });
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
    fn questions(&self, questions: &[String]) -> Vec<&ReleasePlan> {
        questions
            .iter()
            .filter_map(|q| self.plans.get(q).and_then(|p| p.as_deref()))
            .collect()
    }

    /// The visibility of a figure of the whole scope (the wave, or the filter's group).
    fn whole(plans: &[&ReleasePlan], scope: Scope<'_>) -> anonymity::Visibility {
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
    fn breakdown(
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
fn combine(decisions: impl Iterator<Item = anonymity::Visibility>) -> anonymity::Visibility {
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

/// Per segment attribute: the groups (values) as the release plan decides them; inside a
/// shown group, each answer figure (NPS, dimension means) as the plans of its questions
/// decide it ([`FigurePlans`]). Without figure plans (an open wave) only participation.
fn segments(
    definition: &SurveyDefinition,
    layout: &Layout,
    read: &CellsRead,
    plan: &ReleasePlan,
    figure_plans: Option<&FigurePlans>,
    scope: Scope<'_>,
) -> Vec<SegmentBreakdown> {
    let parsed: Vec<(BTreeMap<String, String>, &Counts)> = read
        .table
        .cells
        .iter()
        .map(|(cell, counts)| (parse_cell(cell), counts))
        .collect();
    let invited_parsed: Vec<(BTreeMap<String, String>, u64)> = read
        .invited
        .iter()
        .map(|(cell, n)| (parse_cell(cell), *n))
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
        let released = figure_plans.is_some();
        // Invited per value by the org chart (full segments), to tell groups stored whole
        // from groups part of whose people are stored only in larger ones.
        let mut full_invited: HashMap<String, u64> = HashMap::new();
        for (cell, n) in &read.segments {
            if let Some(value) = parse_cell(cell).remove(attribute) {
                *full_invited.entry(value).or_default() += n;
            }
        }
        let groups = groups
            .into_iter()
            .enumerate()
            .map(|(i, (value, (invited, counts)))| {
                let visibility = decided[i].1;
                let figures = visibility.is_shown().then(|| {
                    let responses = counts.respondents(layout);
                    let nps = nps_hidden[i]
                        .is_none()
                        .then(|| counts.nps(layout))
                        .flatten()
                        .and_then(|n| stats::nps_summary(&n))
                        .map(|s| s.score);
                    let dimension_means = layout
                        .dimensions
                        .iter()
                        .zip(&dimension_hidden)
                        .map(|(dim, hidden)| {
                            hidden[i]
                                .is_none()
                                .then(|| stats::likert_summary(&counts.dimension(dim).0))
                                .flatten()
                                .map(|s| s.mean)
                        })
                        .collect();
                    GroupFigures {
                        invited,
                        responses,
                        response_rate: ratio(responses, invited),
                        nps,
                        dimension_means,
                        nps_hidden: if released { nps_hidden[i] } else { None },
                        dimension_hidden: dimension_hidden
                            .iter()
                            .map(|h| if released { h[i] } else { None })
                            .collect(),
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
                }
            })
            .collect::<Vec<_>>();
        // Groups of the org chart whose people are all stored under coarser cells (too
        // few share their combinations): listed, hidden, without any number.
        let mut vanished: BTreeMap<String, u64> = BTreeMap::new();
        for (cell, n) in &read.segments {
            if let Some(value) = parse_cell(cell).remove(attribute) {
                if !index.contains_key(&value) {
                    *vanished.entry(value).or_default() += n;
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

// ---------------------------------------------------------------------------------------
// Earlier waves: the baseline of changes and the trend
// ---------------------------------------------------------------------------------------

/// What a later wave needs of an earlier one.
struct Baseline {
    shown: bool,
    responses: u64,
    nps: Option<NpsFigures>,
    csat: Option<CsatFigures>,
    dimensions: Vec<DimensionResult>,
    pain_points: Vec<PainPointsResult>,
}

impl Baseline {
    fn of(figures: &Figures) -> Self {
        Baseline {
            shown: figures.shown,
            responses: figures.responses,
            nps: figures.nps.clone(),
            csat: figures.csat.clone(),
            dimensions: figures.dimensions.clone(),
            pain_points: figures.pain_points.clone(),
        }
    }

    fn from_results(results: &WaveResults) -> Self {
        Baseline {
            shown: results.shown,
            responses: results.responses,
            nps: results.nps.clone(),
            csat: results.csat.clone(),
            dimensions: results.dimensions.clone(),
            pain_points: results.pain_points.clone(),
        }
    }

    fn trend_point(&self, wave: &WaveRow, current: bool) -> TrendPoint {
        TrendPoint {
            wave_id: wave.id.clone(),
            title: wave.title.clone(),
            opens_at: wave.opens_at,
            current,
            figures: self.shown.then(|| TrendFigures {
                responses: self.responses,
                nps: self.nps.as_ref().map(|n| n.score),
                nps_ci: self.nps.as_ref().map(|n| n.ci),
                csat: self.csat.as_ref().map(|c| c.top2box),
            }),
        }
    }
}

/// An earlier wave's figures: from its snapshot when closed (via the cache), otherwise
/// computed from its counts (without breakdowns).
fn baseline(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveRow,
    now: NaiveDateTime,
) -> anyhow::Result<Baseline> {
    if wave.state == "closed" {
        if let Some(with_survey) = wave_rows::find_with_survey(conn, &wave.id)? {
            let results = frozen(conn, cache, &with_survey, now)?;
            return Ok(Baseline::from_results(&results));
        }
    }
    let with_survey = wave_rows::find_with_survey(conn, &wave.id)?
        .with_context(|| format!("wave {} disappeared", wave.id))?;
    let definition = parse_definition(&with_survey)?;
    let layout = Layout::new(&definition);
    let k = threshold(wave)?;
    let figures = figures(conn, wave, &definition, &layout, k, false)?;
    Ok(Baseline::of(&figures))
}

/// Tests every figure against the previous wave, adjusts the p-values (BH) and flags.
fn compare(figures: &mut Figures, before: &Baseline) -> SignificanceRule {
    // (p, |effect| ≥ minimum) of each test, in the order the changes are stored.
    let mut tests: Vec<(f64, bool)> = Vec::new();
    if let (Some(now), Some(then)) = (figures.nps.as_mut(), before.nps.as_ref()) {
        let counts = |f: &NpsFigures| stats::NpsCounts {
            promoters: f.promoters,
            passives: f.passives,
            detractors: f.detractors,
        };
        if let Some(test) = stats::nps_change(&counts(then), &counts(now)) {
            tests.push((test.p, test.score_diff.abs() >= MIN_NPS_POINTS));
            now.change = Some(Change::new(then.score, test.score_diff, test.p));
        }
    }
    if let (Some(now), Some(then)) = (figures.csat.as_mut(), before.csat.as_ref()) {
        if let Some(test) = stats::two_proportion_z_test(
            then.top2_answers,
            then.answers,
            now.top2_answers,
            now.answers,
        ) {
            tests.push((test.p, test.diff.abs() * 100.0 >= MIN_SHARE_POINTS));
            now.change = Some(Change::new(then.top2box, test.diff, test.p));
        }
    }
    for dim in &mut figures.dimensions {
        let Some(then) = before
            .dimensions
            .iter()
            .find(|d| d.key == dim.key && d.scale == dim.scale)
            .and_then(|d| d.figures.as_ref())
        else {
            continue;
        };
        let Some(now) = dim.figures.as_mut() else {
            continue;
        };
        let sample = |f: &DimensionFigures| stats::SampleSummary {
            n: f.n,
            mean: f.mean,
            sd: f.sd,
        };
        if let Some(test) = stats::welch_t_test(&sample(then), &sample(now)) {
            tests.push((test.p, test.diff.abs() >= MIN_MEAN_CHANGE));
            now.change = Some(Change::new(then.mean, test.diff, test.p));
        }
    }
    for question in &mut figures.pain_points {
        let Some(then) = before
            .pain_points
            .iter()
            .find(|q| q.question == question.question)
        else {
            continue;
        };
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
            if let Some(test) = stats::two_proportion_z_test(
                old.count,
                then.respondents,
                option.count,
                question.respondents,
            ) {
                tests.push((test.p, test.diff.abs() * 100.0 >= MIN_SHARE_POINTS));
                option.change = Some(Change::new(old.share, test.diff, test.p));
            }
        }
    }
    let p: Vec<f64> = tests.iter().map(|(p, _)| *p).collect();
    let adjusted = stats::benjamini_hochberg(&p).unwrap_or_else(|| vec![1.0; p.len()]);
    let mut verdicts = adjusted
        .iter()
        .zip(&tests)
        .map(|(adj, (_, big))| (*adj, *adj <= Q && *big));
    let mut flagged = 0;
    let mut apply = |change: &mut Option<Change>| {
        if let Some(change) = change {
            if let Some((adj, significant)) = verdicts.next() {
                change.p_adjusted = adj;
                change.significant = significant;
                flagged += usize::from(significant);
            }
        }
    };
    // Same order as the tests were pushed.
    if let Some(nps) = figures.nps.as_mut() {
        apply(&mut nps.change);
    }
    if let Some(csat) = figures.csat.as_mut() {
        apply(&mut csat.change);
    }
    for dim in &mut figures.dimensions {
        if let Some(f) = dim.figures.as_mut() {
            apply(&mut f.change);
        }
    }
    for question in &mut figures.pain_points {
        for option in question
            .stages
            .iter_mut()
            .flat_map(|s| s.options.iter_mut())
        {
            apply(&mut option.change);
        }
    }
    SignificanceRule::new(tests.len(), flagged)
}

impl Change {
    fn new(previous: f64, diff: f64, p: f64) -> Self {
        Change {
            previous,
            diff,
            p,
            p_adjusted: p,
            significant: false,
        }
    }
}

impl SignificanceRule {
    fn new(tests: usize, flagged: usize) -> Self {
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

// ---------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------

/// Comments read per text question at most: a random sample when a wave has more (the
/// page shows 100 at a time; the sample keeps a 1,000,000-response wave cheap).
pub const COMMENT_SAMPLE: usize = 500;

fn comments(
    conn: &mut DbConn,
    wave: &WaveRow,
    definition: &SurveyDefinition,
    layout: &Layout,
    total: &Counts,
    k: Threshold,
) -> anyhow::Result<Option<Comments>> {
    let text_keys: Vec<String> = definition
        .questions
        .iter()
        .filter(|q| matches!(q, Question::Text(_)))
        .map(|q| q.key().to_string())
        .collect();
    if text_keys.is_empty() {
        return Ok(None);
    }
    let respondents = total.respondents(layout);
    // Without an NPS question the join matches nothing: every category is null.
    let nps_key = layout.nps.as_ref().map_or("", |n| n.key.as_str());
    let start = uuid::Uuid::new_v4().to_string();
    let mut items: Vec<Comment> = Vec::new();
    let mut all = 0u64;
    for key in &text_keys {
        all += layout
            .find(key, ANSWERED_VALUE)
            .map_or(0, |slot| total.0[slot]);
        let sample = rows::comment_sample(conn, &wave.id, key, nps_key, &start, COMMENT_SAMPLE)?;
        items.extend(
            sample
                .into_iter()
                .filter(|(text, _)| !text.trim().is_empty())
                .map(|(text, answer)| Comment {
                    question: key.clone(),
                    text,
                    category: answer.and_then(NpsCategory::of),
                }),
        );
    }
    // Comments cover the whole wave: shown only when the wave itself is.
    let visibility = if k.admits(respondents) {
        anonymity::Visibility::Shown
    } else {
        anonymity::Visibility::Hidden {
            reason: anonymity::HiddenReason::TooFew,
        }
    };
    let Some(mut items) =
        anonymity::visible_comments(items, visibility, respondents, k, &mut rand::thread_rng())
    else {
        return Ok(None);
    };
    // Filtering by promoter/passive/detractor is a group of its own: offered only when no
    // category has 1..k−1 comments (otherwise "all minus the others" would isolate it).
    let per_category =
        |c: NpsCategory| items.iter().filter(|i| i.category == Some(c)).count() as u64;
    let categories = [
        NpsCategory::Promoter,
        NpsCategory::Passive,
        NpsCategory::Detractor,
    ];
    if categories.iter().any(|&c| k.isolates(per_category(c))) {
        for item in &mut items {
            item.category = None;
        }
    }
    let of = |c: NpsCategory| items.iter().filter(|i| i.category == Some(c)).count() as u64;
    Ok(Some(Comments {
        total: all.max(items.len() as u64),
        promoters: of(NpsCategory::Promoter),
        passives: of(NpsCategory::Passive),
        detractors: of(NpsCategory::Detractor),
        items,
    }))
}
