//! The published output model: everything the results page, the exports (CSV, XLSX), the
//! JSON API and `pulse results` show about one wave (or one group of it), as one
//! serialisable [`WaveResults`]. This is the API contract: the stored snapshot format
//! ([`super::store`]) and the page's view model (`views::results_page`) are separate.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::anonymity;
use crate::domain::definition::Stage;
use crate::domain::wave::WaveState;

/// False discovery rate of the Benjamini–Hochberg procedure over the tests of a page.
pub const Q: f64 = 0.05;
/// Smallest NPS change, in points, that is ever flagged.
pub const MIN_NPS_POINTS: f64 = 5.0;
/// Smallest change of a mean (scale points) that is ever flagged.
pub const MIN_MEAN_CHANGE: f64 = 0.2;
/// Smallest change of a pain-point share or of CSAT, in percentage points, ever flagged.
pub const MIN_SHARE_POINTS: f64 = 5.0;

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
    /// The segment group these figures are about; `null` for the whole wave. A filtered
    /// view carries the group's own changes and trend (against the same group in earlier
    /// waves, where their release plans showed it); comments are the whole wave's only.
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
    pub answers_released: bool,
    /// The wave changes are measured against.
    pub previous_wave: Option<WaveRef>,
    pub nps: Option<NpsFigures>,
    /// Why `nps` is hidden, when it is.
    pub nps_hidden: Option<Hidden>,
    pub csat: Option<CsatFigures>,
    /// Why `csat` is hidden, when it is.
    pub csat_hidden: Option<Hidden>,
    pub dimensions: Vec<DimensionResult>,
    pub pain_points: Vec<PainPointsResult>,
    /// Single-choice questions (profile questions): the share choosing each option.
    pub choices: Vec<ChoiceResult>,
    /// Per value of each segment attribute: response rate, NPS, CSAT, dimensions and pain
    /// points, each with its change since the previous wave, and the group's trend.
    pub segments: Vec<SegmentBreakdown>,
    /// NPS, CSAT, dimension means and the top pain points of every wave of the survey up
    /// to this one (of this filter's group, for a filtered view), oldest first.
    pub trend: Vec<TrendPoint>,
    pub comments: Option<Comments>,
    pub significance: SignificanceRule,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaveInfo {
    pub id: String,
    pub title: String,
    pub state: WaveState,
    pub survey_slug: String,
    pub survey_title: String,
    pub survey_version: i32,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    /// When it closed (or was cancelled); `null` while open and in snapshots of format 1.
    pub closed_at: Option<NaiveDateTime>,
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

    /// Whether a cell (its attribute values) is in the filter's group.
    pub(super) fn matches(&self, cell: &std::collections::BTreeMap<String, String>) -> bool {
        cell.get(&self.attribute) == Some(&self.value)
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
    pub top2_answers: u64,
    pub top2box: f64,
    /// 95 % Wilson interval over the answers. Each respondent gives several answers, which
    /// are not independent, so this interval (and the change test) is somewhat narrower
    /// than an exact one would be; the per-dimension top-2-box intervals are exact.
    pub ci: (f64, f64),
    /// Against the previous wave: two-proportion z test over the answers.
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
    pub(super) fn of(visibility: anonymity::Visibility, figure: bool) -> Option<Self> {
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
    /// The smallest change of this figure that is ever flagged (same unit as `diff`).
    pub min_effect: f64,
    /// Adjusted p ≤ q AND |diff| ≥ `min_effect`.
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
    pub hidden: Option<Hidden>,
    /// A shown group's figures in every wave of the survey up to this one, oldest first,
    /// as each wave published them (`figures: null` where that wave hid the group or had
    /// no answers to show). A hidden group has none (the key is left out: a hidden group
    /// carries its name and why, nothing else).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<TrendPoint>,
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
    pub nps_hidden: Option<Hidden>,
    /// Why each dimension mean is hidden, when it is (same order as `dimension_means`).
    pub dimension_hidden: Vec<Option<Hidden>>,
    /// The group's NPS in full (categories, interval, change since the previous wave);
    /// `null` exactly when `nps` is.
    pub nps_figures: Option<NpsFigures>,
    /// The group's CSAT with its change; `null` when hidden (`csat_hidden` says why).
    pub csat: Option<CsatFigures>,
    pub csat_hidden: Option<Hidden>,
    /// Per dimension (order of `WaveResults::dimensions`): mean, interval, top-2-box and
    /// change; `null` exactly when the mean is.
    pub dimensions: Vec<Option<DimensionFigures>>,
    /// Pain points of the group (share of its respondents), per pain-point question whose
    /// answers the plans show for the group; `pain_points_hidden` says why one is missing.
    pub pain_points: Vec<PainPointsResult>,
    pub pain_points_hidden: Option<Hidden>,
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
    /// Mean per dimension that wave showed (by key; a dimension it hid is absent).
    pub dimensions: Vec<KeyedValue>,
    /// The shares, in that wave, of this wave's (this scope's) top three pain points of
    /// its first pain-point question, in their order; absent where that wave hid them.
    pub pain_points: Vec<KeyedValue>,
}

/// A figure of a trend point by the key of what it measures (a dimension, a pain point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedValue {
    pub key: String,
    pub value: f64,
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
    /// Tests run on this page — the whole wave's (or filter's) figures and those of every
    /// group of every breakdown: the m of Benjamini–Hochberg.
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
