//! Anonymity (DESIGN.md §7): the one implementation of the k-threshold rules that every
//! output path — results pages, CSV/XLSX exports, the JSON API, `pulse results` — calls
//! before a figure leaves the process. Pure code: counts in, decisions out; no database,
//! no HTTP.
//!
//! # How an output path uses it
//!
//! Build one [`ReleasePlan`] per wave snapshot from the response count of every segment
//! cell, ask it about each group, and let only [`Visibility::release`] turn a figure into
//! something printable:
//!
//! ```
//! use std::collections::BTreeMap;
//! use pulse::anonymity::{visible_comments, ReleasePlan, Scope, Threshold, Visibility};
//!
//! let cell = |bu: &str, region: &str| {
//!     BTreeMap::from([
//!         ("business_unit".to_string(), bu.to_string()),
//!         ("region".to_string(), region.to_string()),
//!     ])
//! };
//! // Response counts per segment cell (every invited cell, 0 included).
//! let cells = vec![
//!     (cell("R&D", "EMEA"), 12),
//!     (cell("R&D", "APAC"), 9),
//!     (cell("Sales", "EMEA"), 2),
//!     (cell("Ops", "EMEA"), 7),
//! ];
//! let k = Threshold::new(5)?;
//! let plan = ReleasePlan::new(&["business_unit".into(), "region".into()], cells, k);
//!
//! // A figure of the whole wave (here an NPS of 31): Some(figure) or None.
//! let nps = 31.0;
//! assert_eq!(plan.total().release(nps), Some(31.0));
//!
//! // A breakdown: Sales has 2 responses, so Ops, the next smallest, is hidden too —
//! // otherwise "wave − R&D − Ops" would be the two Sales people.
//! let rows: Vec<String> = plan
//!     .breakdown(Scope::Wave, "business_unit")?
//!     .into_iter()
//!     .map(|(value, visibility)| match visibility.release(value.clone()) {
//!         Some(shown) => shown,
//!         None => format!("{value}: {}", Visibility::hidden_message(k)),
//!     })
//!     .collect();
//! assert_eq!(rows[1], "R&D");
//! assert!(rows[0].starts_with("Ops: Not shown"));
//!
//! // A filter: refused for Ops, whose group the breakdown hides.
//! assert!(plan.filter("business_unit", "Ops").is_err());
//! let emea = Scope::Filter { attribute: "region", value: "EMEA" };
//! assert!(plan.breakdown(emea, "business_unit")?[1].1.is_shown()); // R&D in EMEA
//!
//! // Comments of a shown group (R&D, 21 respondents), shuffled. The comment threshold
//! // here equals k, so the same plan decides; a stricter one needs its own plan.
//! let rnd = plan.breakdown(Scope::Wave, "business_unit")?[1].1;
//! let comments = vec!["fast answers", "too many forms"];
//! let shown = visible_comments(comments, rnd, 21, k, &mut rand::thread_rng());
//! assert_eq!(shown.map(|c| c.len()), Some(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`suppress_breakdown`] and [`check_filter`] are the building blocks: they decide one
//! breakdown or one filter in isolation. Output paths over a wave's results use the plan,
//! which applies them to every group at once and then audits the result; calling the
//! building blocks directly on a wave would release groups the plan hides, and the
//! difference could undo its protection. Pages must also take their figures from the same
//! snapshot of counts the plan was built from.
//!
//! # The rules
//!
//! 1. **Threshold.** No figure about a group of fewer than k respondents ([`Threshold`]:
//!    k ≥ 3, default 5). A group with **0** respondents is hidden like one with 1..k − 1,
//!    with the same words: showing "no responses" for empty groups and "hidden" for small
//!    ones would tell readers that every hidden group is non-empty, and an empty group
//!    says of each of its invitees that they did not answer. Hiding it costs nothing: its
//!    0 counts for nothing in rule 2.
//! 2. **Complementary suppression** ([`suppress_breakdown`]). In a breakdown of a parent,
//!    the hidden groups plus the *remainder* (respondents in no listed group, such as those
//!    without the attribute) must add up to 0 or at least k, so `parent − Σ shown groups`
//!    never describes fewer than k people. A remainder below k counts as hidden; a
//!    remainder of k or more is assumed knowable and covers nothing. While the hidden mass
//!    is between 1 and k − 1, the smallest shown group (ties broken by key, never by input
//!    order) is hidden as well; since shown groups have k or more, once is enough. One
//!    hidden group of 1..k − 1 therefore always takes a second with it, two groups of 1
//!    with k = 5 take a third, and an empty hidden group alone takes none (0 reveals no
//!    one).
//! 3. **Filters** ([`check_filter`], [`ReleasePlan::filter`]). A filter must keep at least
//!    k respondents and leave out 0 or at least k of its parent. Through the plan it must
//!    moreover be a group the breakdown by its attribute shows: "business unit = Ops" is
//!    refused when the breakdown by business unit hides Ops to protect Sales.
//! 4. **Comments** ([`visible_comments`]). Their own threshold, `k.at_least(comment_k)`
//!    (may be stricter than k, never looser): shown only for groups a plan built with that
//!    threshold shows (the results plan when it equals k), which also have that many
//!    respondents; in a uniformly random order.
//! 5. **All groups together** ([`ReleasePlan`]). The plan applies rule 2 to every pair of a
//!    shown group and a family of disjoint groups inside it (the breakdown by region of
//!    the whole wave, the cells of one attribute pair inside "region = EMEA", the
//!    departments inside a business unit), hides the cross groups of every hidden marginal
//!    group, and then runs a linear audit of everything it would release (see
//!    `plan.rs` and `audit.rs`), hiding one more group per finding until none is left.
//!
//! # Attack model
//!
//! The attacker reads every output of one wave snapshot and can ask every supported
//! query: the whole wave, a filter on one attribute value, and a breakdown by one
//! attribute of the whole wave or of one such filter. They know k and these rules, the
//! segment values of every invitee (the org chart) and — more than a reader normally
//! knows — which segment cells have no respondents at all. They combine released counts
//! with any linear combination: differences of nested groups, a parent minus its visible
//! children, a filter minus a sub-filter, sums across different breakdowns (business
//! unit against region, a column of cross groups gathered from several filters), and any
//! longer chain. They win if the result is the count of a set of between 1 and k − 1
//! respondents; the same combination over the per-answer counts would then give those
//! respondents' answers.
//!
//! **Guarantee:** for the groups a [`ReleasePlan`] shows, no such combination exists. The
//! audit checks exactly this (modulo the prime-field arithmetic noted in `audit.rs`) and
//! the plan keeps hiding until it passes, so the guarantee holds by construction rather
//! than by the rules being clever enough. The property tests attack plans on random skewed
//! populations with an independent implementation of the same linear attack, with the
//! nested differences above, and with random query sequences.
//!
//! **Not covered:**
//!
//! * *Inference beyond linear equations*: bounds from counts being non-negative integers
//!   (a hidden group "between 0 and 2"), and homogeneity — if every respondent of a shown
//!   group (or of a derivable set of k or more) gave the same answer, each one's answer is
//!   known. k-anonymity does not prevent either.
//! * *Queries outside the model*: filters with two conditions or lists of values,
//!   breakdowns by two attributes at once, breakdowns inside a cross group, splits by
//!   response date. A new kind of query must become groups of the plan (so the audit sees
//!   them), never a local decision. Breakdowns by one attribute at a time plus single-value
//!   filters are *not* safe under the per-breakdown rules alone: filters replay the
//!   two-way tables row by row, and without the audit a quarter of our random populations
//!   had a derivable group below k.
//! * *Several snapshots*: successive results of an open wave differ by the responses in
//!   between, so comparing two of them can isolate one respondent; comparisons across
//!   waves are not modelled either. The plan protects one frozen snapshot.
//! * *Background knowledge* about individuals (who answered, what colleagues answered).
//! * *Comment content* (names, style), or one respondent's comments on several questions
//!   shown side by side in the same order (shuffle each list separately).
//! * Showing [`FilterRefusalKind`] to readers, or using the building blocks instead of the
//!   plan. (Pages do say whether a hidden group has fewer than k respondents or is hidden
//!   to protect another — [`HiddenReason`] — which tells that the latter has k or more;
//!   a bound, not an equation, and no answer.)
//!
//! # Every figure with its own count
//!
//! A figure about one question rests on that question's answers, which may be fewer than
//! the group's respondents (skipped, optional, "not applicable"): the plan over respondents
//! alone would let "wave − U1 − U2" give the (n, sum) of one answer even though the groups
//! have plenty of respondents. [`ReleasePlan::for_figure`] builds and audits a plan over a
//! question's own answer counts and hides in it whatever the respondents' plan hides;
//! output paths show a question's figures only where that plan shows the group (see
//! `results::plans::FigurePlans`). The attack tests solve for every published (n, sum)
//! pair of random questions with random skip and "not applicable" patterns.
//!
//! # Storage
//!
//! [`cells::response_cells`] coarsens each invitation's segment until at least k invitees
//! share it: answers are stored under that cell, so someone reading the database finds at
//! least k possible authors for each.

mod audit;
pub mod cells;
mod plan;

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use rand::seq::SliceRandom;
use rand::Rng;

pub use plan::{CellIndex, ReleasePlan, Scope};

/// The anonymity threshold k of a wave: no figure about fewer than k respondents.
///
/// Constructed only through [`Threshold::new`] (or `TryFrom<i32>` for the database column),
/// which refuse anything below [`Threshold::MIN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u32);

impl Threshold {
    /// Below 3 a group cannot hide one person (DESIGN.md §7: "never below 3").
    pub const MIN: u32 = 3;
    /// The default k of a wave.
    pub const DEFAULT: Threshold = Threshold(5);

    /// `k`, refused when below [`Threshold::MIN`].
    pub fn new(k: u32) -> Result<Self, ThresholdError> {
        if k < Self::MIN {
            return Err(ThresholdError(i64::from(k)));
        }
        Ok(Self(k))
    }

    /// The number k itself.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The larger of the two thresholds: use it to derive the comment threshold, which may
    /// be stricter than the wave's k but never looser
    /// (`wave_k.at_least(configured_comment_k)`).
    pub fn at_least(self, other: Threshold) -> Threshold {
        Threshold(self.0.max(other.0))
    }

    /// `n ≥ k`: a group this large may be shown.
    pub fn admits(self, n: u64) -> bool {
        n >= u64::from(self.0)
    }

    /// `0 < n < k`: a number of people that must never be derivable.
    pub fn isolates(self, n: u64) -> bool {
        n > 0 && n < u64::from(self.0)
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<i32> for Threshold {
    type Error = ThresholdError;

    /// From the `anonymity_k` column of a wave.
    fn try_from(k: i32) -> Result<Self, Self::Error> {
        match u32::try_from(k) {
            Ok(k) => Threshold::new(k),
            Err(_) => Err(ThresholdError(i64::from(k))),
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A k below [`Threshold::MIN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the anonymity threshold must be at least {min}, not {0}", min = Threshold::MIN)]
pub struct ThresholdError(pub i64);

/// Whether a group's figures may be shown. `Hidden` carries no count and no figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Shown,
    Hidden { reason: HiddenReason },
}

/// Why a group is hidden. For logs and tests: pages show [`Visibility::hidden_message`]
/// for every hidden group alike, because telling the reasons apart would tell readers which
/// hidden groups have at least k respondents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenReason {
    /// Fewer than k respondents (0 included: see the module docs, rule 1).
    TooFew,
    /// At least k respondents, hidden so that subtraction cannot reveal a smaller group
    /// (complementary suppression, rules 2 and 3).
    ProtectsAnotherGroup,
    /// The caller's counts contradict each other (children add up to more than their
    /// parent); everything is hidden rather than guessed.
    InconsistentCounts,
}

impl Visibility {
    fn hidden(reason: HiddenReason) -> Self {
        Visibility::Hidden { reason }
    }

    pub fn is_shown(&self) -> bool {
        matches!(self, Visibility::Shown)
    }

    /// `Some(figure)` when shown, `None` when hidden: the one way a figure should reach a
    /// page, export or API answer.
    pub fn release<T>(&self, figure: T) -> Option<T> {
        match self {
            Visibility::Shown => Some(figure),
            Visibility::Hidden { .. } => None,
        }
    }

    /// Like [`Visibility::release`], computing the figure only when it is shown.
    pub fn release_with<T>(&self, figure: impl FnOnce() -> T) -> Option<T> {
        match self {
            Visibility::Shown => Some(figure()),
            Visibility::Hidden { .. } => None,
        }
    }

    /// What a page says in place of a hidden figure: the same words whatever the reason.
    pub fn hidden_message(k: Threshold) -> String {
        format!(
            "Not shown to protect anonymity (fewer than {k} responses here or in a related group)"
        )
    }
}

/// The shared core of complementary suppression (rule 2), used by [`suppress_breakdown`]
/// and by every line of [`ReleasePlan`].
///
/// `pieces` are disjoint parts of one shown parent, each with its count, whether it is
/// still shown, and a key that orders ties; `remainder` is the part of the parent in no
/// piece. The *hidden mass* is the sum of the hidden pieces, plus the remainder when it is
/// between 1 and k − 1 (a remainder of k or more is treated as possibly known: it covers
/// nothing). When the hidden mass is between 1 and k − 1, `parent − Σ shown pieces` would
/// describe fewer than k people, so the smallest shown piece (ties: smallest key) must be
/// hidden too: its key is returned. Shown pieces have at least k respondents, so one is
/// always enough. `None` when nothing needs hiding, or nothing is left to hide.
fn piece_to_hide<K: Ord>(
    pieces: impl IntoIterator<Item = (u64, bool, K)>,
    remainder: u64,
    k: Threshold,
) -> Option<K> {
    let mut hidden_mass = if k.isolates(remainder) { remainder } else { 0 };
    let mut smallest_shown: Option<(u64, K)> = None;
    for (n, shown, key) in pieces {
        if shown {
            let candidate = (n, key);
            smallest_shown = match smallest_shown {
                Some(current) if current <= candidate => Some(current),
                _ => Some(candidate),
            };
        } else {
            hidden_mass = hidden_mass.saturating_add(n);
        }
    }
    if k.isolates(hidden_mass) {
        smallest_shown.map(|(_, key)| key)
    } else {
        None
    }
}

/// Rules 1 and 2 for one breakdown: which groups of a parent (the whole wave, or a filter)
/// may be shown.
///
/// `groups` are disjoint groups of the parent with their respondent counts; `parent_n` is
/// the parent's count. Respondents in no listed group (`parent_n − Σ groups`, e.g. those
/// without the attribute) form the remainder, which this function never shows: a
/// remainder between 1 and k − 1 counts as a hidden group, one of k or more is assumed
/// knowable and covers nothing.
///
/// * every group with fewer than k respondents (0 included) is hidden ([`HiddenReason::TooFew`]);
/// * if the hidden groups (plus a small remainder) then add up to between 1 and k − 1, the
///   smallest shown group — ties broken by the key, so the choice does not depend on the
///   order of `groups` — is hidden too ([`HiddenReason::ProtectsAnotherGroup`]). Shown
///   groups have at least k respondents, so afterwards the hidden total is 0 or at least k
///   and `parent − Σ shown groups` never singles out fewer than k people;
/// * counts adding up to more than `parent_n` hide everything ([`HiddenReason::InconsistentCounts`]).
///
/// One case is beyond a single breakdown: when every listed group ends up hidden and the
/// remainder is k or more, `parent − remainder` would describe the hidden groups if the
/// remainder were released elsewhere; only hiding the parent could prevent that, which is
/// the plan's audit's business.
///
/// The result keeps the order of `groups`. List every group the page will show, including
/// those with no responses (take the values from the wave's invitations), or a missing row
/// would tell "none" apart from "a few".
pub fn suppress_breakdown<G: Ord + Clone>(
    groups: &[(G, u64)],
    parent_n: u64,
    k: Threshold,
) -> Vec<(G, Visibility)> {
    let listed = groups
        .iter()
        .try_fold(0u64, |sum, (_, n)| sum.checked_add(*n));
    let remainder = match listed.and_then(|listed| parent_n.checked_sub(listed)) {
        Some(remainder) => remainder,
        None => {
            return groups
                .iter()
                .map(|(g, _)| {
                    (
                        g.clone(),
                        Visibility::hidden(HiddenReason::InconsistentCounts),
                    )
                })
                .collect();
        }
    };
    let mut visibility: Vec<Visibility> = groups
        .iter()
        .map(|(_, n)| {
            if k.admits(*n) {
                Visibility::Shown
            } else {
                Visibility::hidden(HiddenReason::TooFew)
            }
        })
        .collect();
    let pieces = groups
        .iter()
        .zip(&visibility)
        .enumerate()
        .map(|(i, ((g, n), v))| (*n, v.is_shown(), (g, i)));
    if let Some((_, i)) = piece_to_hide(pieces, remainder, k) {
        visibility[i] = Visibility::hidden(HiddenReason::ProtectsAnotherGroup);
    }
    groups
        .iter()
        .zip(visibility)
        .map(|((g, _), v)| (g.clone(), v))
        .collect()
}

/// Why a filter is refused. Every kind shows the same message (see [`FilterRefusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterRefusalKind {
    /// The filter keeps fewer than k respondents.
    TooFew,
    /// The filter leaves out between 1 and k − 1 respondents of its parent, so parent
    /// minus filter would describe them.
    ComplementTooSmall,
    /// The filter's group is hidden in the breakdown it belongs to (complementary
    /// suppression): releasing it through a filter would undo that protection.
    HiddenInBreakdown,
    /// The counts contradict each other (filter larger than its parent).
    InconsistentCounts,
}

/// A refused filter, with the message to show the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "This filter would single out fewer than {k} people (in the filtered group or among \
     those it leaves out), so its results are not shown. Choose a different filter, or none."
)]
pub struct FilterRefusal {
    pub kind: FilterRefusalKind,
    pub k: Threshold,
}

/// Rule 3: may the results of a filter (`filter_n` respondents) inside its parent
/// (`parent_n`, usually the whole wave) be shown?
///
/// Refused when the filter keeps fewer than k respondents, or when it leaves out between 1
/// and k − 1 (parent minus filter would describe them). Leaving out nobody is allowed: the
/// figures are then the parent's own.
///
/// For a filter that is also a group of a breakdown (region = EMEA is a group of the
/// breakdown by region), use [`ReleasePlan::filter`], which also refuses groups hidden by
/// complementary suppression.
pub fn check_filter(filter_n: u64, parent_n: u64, k: Threshold) -> Result<(), FilterRefusal> {
    let refuse = |kind| Err(FilterRefusal { kind, k });
    let Some(left_out) = parent_n.checked_sub(filter_n) else {
        return refuse(FilterRefusalKind::InconsistentCounts);
    };
    if !k.admits(filter_n) {
        return refuse(FilterRefusalKind::TooFew);
    }
    if k.isolates(left_out) {
        return refuse(FilterRefusalKind::ComplementTooSmall);
    }
    Ok(())
}

/// Rule 4: the free-text comments of a group, in random order, or `None` unless the group
/// is shown and has at least `comment_k` respondents.
///
/// `visibility` is the group's visibility in a [`ReleasePlan`] built with the comment
/// threshold (`wave_k.at_least(configured)`: may be stricter than k, never looser; with no
/// separate setting, the results plan itself). It matters: the comments of a group hidden
/// to protect a smaller one, next to those of the whole wave and the shown groups, would be
/// the small group's comments, and the plan's guarantee for comment lists — any two nested
/// lists differ by the comments of 0 or at least `comment_k` respondents — holds only for
/// the threshold it was built with. `group_n` is the number of **respondents** in the group
/// (not of comments: a comment is anonymous among everyone who could have written it),
/// checked again here.
///
/// The order is a uniform shuffle, so it says nothing about who answered first. Pass
/// `&mut rand::thread_rng()` for a fresh order per request, or an `StdRng` seeded from the
/// OS RNG and stored with a snapshot for a stable order; never a seed derived from response
/// ids or dates. Shuffle each question's comments separately.
pub fn visible_comments<T, R: Rng + ?Sized>(
    mut comments: Vec<T>,
    visibility: Visibility,
    group_n: u64,
    comment_k: Threshold,
    rng: &mut R,
) -> Option<Vec<T>> {
    if !visibility.is_shown() || !comment_k.admits(group_n) {
        return None;
    }
    comments.shuffle(rng);
    Some(comments)
}
