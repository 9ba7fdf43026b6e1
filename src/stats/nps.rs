//! Net Promoter Score: the plain score, the adjusted-Wald interval, and the change between
//! two waves.
//!
//! Owns the NPS formulas of DESIGN.md §7. Promoters answered 9–10, passives 7–8,
//! detractors 0–6 on the 0..=10 "would you recommend" question.
//!
//! Units: inside this module NPS is a **fraction** in [−1, 1] (`adjusted`, `se`, `ci`,
//! `diff`); only `score`, `score_diff` and the `*_points` methods are in points
//! (−100..=100) for display.
//!
//! Adjusted Wald: `n' = n + 3`, `p'P = (nP + ¾)/n'`, `p'D = (nD + ¾)/n'`,
//! `NPS' = p'P − p'D`, `Var' = p'P + p'D − (p'P − p'D)²`, `SE' = √(Var'/n')`,
//! `CI = NPS' ± z·SE'`.

use serde::Serialize;

use super::significance::two_sided_normal_p;
use super::Z_95;

/// Answers to the 0..=10 recommendation question, grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct NpsCounts {
    /// Answers 9 or 10.
    pub promoters: u64,
    /// Answers 7 or 8.
    pub passives: u64,
    /// Answers 0 to 6.
    pub detractors: u64,
}

impl NpsCounts {
    /// Group a histogram of the 0..=10 question, where `histogram[v]` is the number of
    /// answers with value `v`.
    ///
    /// Sums saturate at `u64::MAX` instead of panicking; no real count comes near it.
    pub fn from_histogram(histogram: &[u64; 11]) -> Self {
        let sum = |range: std::ops::RangeInclusive<usize>| {
            histogram[range]
                .iter()
                .fold(0_u64, |total, &count| total.saturating_add(count))
        };
        NpsCounts {
            detractors: sum(0..=6),
            passives: sum(7..=8),
            promoters: sum(9..=10),
        }
    }

    /// Number of answers, or `None` if the sum overflows `u64`.
    fn total(&self) -> Option<u64> {
        self.promoters
            .checked_add(self.passives)?
            .checked_add(self.detractors)
    }
}

/// NPS of one group of respondents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NpsSummary {
    /// Number of answers.
    pub n: u64,
    /// Answers 9 or 10.
    pub promoters: u64,
    /// Answers 7 or 8.
    pub passives: u64,
    /// Answers 0 to 6.
    pub detractors: u64,
    /// Plain NPS in **points**: `100 · (nP − nD) / n`, in [−100, 100]. The figure to show.
    pub score: f64,
    /// Adjusted-Wald NPS' as a **fraction** in [−1, 1]: the centre of `ci`.
    pub adjusted: f64,
    /// Standard error SE' of `adjusted`, as a fraction.
    pub se: f64,
    /// 95 % interval `adjusted ± z·se` as fractions, clamped to [−1, 1].
    pub ci: (f64, f64),
}

impl NpsSummary {
    /// `adjusted` in points (−100..=100).
    pub fn adjusted_points(&self) -> f64 {
        100.0 * self.adjusted
    }

    /// `ci` in points (−100..=100).
    pub fn ci_points(&self) -> (f64, f64) {
        (100.0 * self.ci.0, 100.0 * self.ci.1)
    }
}

/// Change in NPS from one wave to the next (z test on the adjusted-Wald estimates; the
/// waves are treated as independent samples).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NpsChange {
    /// NPS'₁ of the earlier wave, as a fraction.
    pub before: f64,
    /// NPS'₂ of the later wave, as a fraction.
    pub after: f64,
    /// `after − before` (adjusted), as a fraction.
    pub diff: f64,
    /// Change of the plain score in **points**: `score₂ − score₁`. Use it for the
    /// minimum-effect rule (|ΔNPS| ≥ 5 points).
    pub score_diff: f64,
    /// `diff / √(Var'₁/n'₁ + Var'₂/n'₂)`; positive when NPS rose.
    pub z: f64,
    /// Two-sided p-value, in [0, 1].
    pub p: f64,
}

/// Adjusted-Wald quantities of one group.
struct Adjusted {
    /// n' = n + 3.
    n: f64,
    /// NPS' = p'P − p'D.
    nps: f64,
    /// Var' = p'P + p'D − NPS'².
    var: f64,
}

fn adjusted(counts: &NpsCounts) -> Option<Adjusted> {
    let n = counts.total()? as f64 + 3.0;
    let promoters = (counts.promoters as f64 + 0.75) / n;
    let detractors = (counts.detractors as f64 + 0.75) / n;
    let nps = promoters - detractors;
    let var = promoters + detractors - nps * nps;
    // Var' > 0 for any counts (both adjusted shares are strictly between 0 and 1); the
    // check only keeps an impossible value from spreading.
    (var > 0.0 && var.is_finite()).then_some(Adjusted { n, nps, var })
}

/// NPS of a group, with its adjusted-Wald 95 % interval.
///
/// Returns `None` when there are no answers (the plain score is undefined) or the total
/// overflows `u64`.
pub fn nps_summary(counts: &NpsCounts) -> Option<NpsSummary> {
    let n = counts.total()?;
    if n == 0 {
        return None;
    }
    let score = 100.0 * (counts.promoters as f64 - counts.detractors as f64) / n as f64;
    let adj = adjusted(counts)?;
    let se = (adj.var / adj.n).sqrt();
    let ci = (
        (adj.nps - Z_95 * se).max(-1.0),
        (adj.nps + Z_95 * se).min(1.0),
    );
    Some(NpsSummary {
        n,
        promoters: counts.promoters,
        passives: counts.passives,
        detractors: counts.detractors,
        score,
        adjusted: adj.nps,
        se,
        ci,
    })
}

/// Change in NPS from `before` (earlier wave) to `after` (later wave).
///
/// `z = (NPS'₂ − NPS'₁) / √(Var'₁/n'₁ + Var'₂/n'₂)`, two-sided p from the normal survival
/// function.
///
/// Returns `None` when either wave has no answers or a total overflows `u64`.
pub fn nps_change(before: &NpsCounts, after: &NpsCounts) -> Option<NpsChange> {
    let first = nps_summary(before)?;
    let second = nps_summary(after)?;
    let (a1, a2) = (adjusted(before)?, adjusted(after)?);
    let diff = a2.nps - a1.nps;
    let z = diff / (a1.var / a1.n + a2.var / a2.n).sqrt();
    let p = two_sided_normal_p(z)?;
    Some(NpsChange {
        before: a1.nps,
        after: a2.nps,
        diff,
        score_diff: second.score - first.score,
        z,
        p,
    })
}
