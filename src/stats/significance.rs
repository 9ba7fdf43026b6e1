//! Significance tests over summaries, multiple-testing control, and the guarded wrappers
//! around `statrs` distributions that the rest of [`crate::stats`] uses.
//!
//! Owns: Welch's t test ([`welch_t_test`]), Benjamini–Hochberg adjusted p-values
//! ([`benjamini_hochberg`]), and the only calls into `statrs` (`Normal`, `StudentsT`) of
//! this module tree. Those calls are guarded here so no caller can reach a `statrs` panic
//! (`inverse_cdf` outside [0, 1], non-positive or NaN degrees of freedom) or its known
//! `StudentsT::inverse_cdf` trouble at large degrees of freedom.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::likert::SampleSummary;
use super::Z_95;

/// Above this many degrees of freedom the t quantile is replaced by the normal quantile:
/// `StudentsT::inverse_cdf` in statrs 0.19.1 is wrong or hangs for very large df
/// (DESIGN.md §7). At df = 1000 the two quantiles differ by less than 0.0024.
pub const NORMAL_QUANTILE_ABOVE_DF: f64 = 1000.0;

/// Result of Welch's unequal-variance t test between two samples (`before`, `after`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WelchTest {
    /// `after.mean − before.mean`, in the units of the scale (e.g. Likert points).
    pub diff: f64,
    /// Standard error of `diff`: √(s₁²/n₁ + s₂²/n₂).
    pub se: f64,
    /// t statistic `diff / se`; positive when `after` has the larger mean.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom (not an integer in general).
    pub df: f64,
    /// Two-sided p-value, in [0, 1].
    pub p: f64,
}

/// Welch's t test for the change in mean from `before` to `after`.
///
/// `t = (after.mean − before.mean) / √(s₁²/n₁ + s₂²/n₂)`, degrees of freedom by
/// Welch–Satterthwaite, two-sided p from the t distribution's survival function.
///
/// Returns `None` when either sample has fewer than 2 observations, a mean or sd is not
/// finite, an sd is negative, or both sds are 0 (the standard error is 0 and t is undefined).
pub fn welch_t_test(before: &SampleSummary, after: &SampleSummary) -> Option<WelchTest> {
    if before.n < 2 || after.n < 2 {
        return None;
    }
    let valid = |s: &SampleSummary| s.mean.is_finite() && s.sd.is_finite() && s.sd >= 0.0;
    if !valid(before) || !valid(after) {
        return None;
    }
    let (n1, n2) = (before.n as f64, after.n as f64);
    let v1 = before.sd * before.sd / n1;
    let v2 = after.sd * after.sd / n2;
    let se2 = v1 + v2;
    if se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let se = se2.sqrt();
    let diff = after.mean - before.mean;
    let t = diff / se;
    let df = se2 * se2 / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    let p = two_sided_t_p(t, df)?;
    Some(WelchTest { diff, se, t, df, p })
}

/// Benjamini–Hochberg adjusted p-values ("q-values" in the loose sense), in input order.
///
/// For the i-th smallest of m p-values the adjusted value is
/// `min(1, min_{j ≥ i} p₍ⱼ₎ · m / j)`: monotone in the raw p-values (ties get equal
/// adjusted values), never below the raw value, never above 1. Compare each adjusted value
/// with q (0.05 on the results pages) to decide which changes to flag.
///
/// An empty input gives an empty output. Returns `None` if any p-value is NaN or outside
/// [0, 1].
pub fn benjamini_hochberg(p_values: &[f64]) -> Option<Vec<f64>> {
    if p_values.iter().any(|p| !(0.0..=1.0).contains(p)) {
        return None;
    }
    let m = p_values.len() as f64;
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; p_values.len()];
    let mut running_min = 1.0_f64;
    for (position, &index) in order.iter().enumerate().rev() {
        let rank = (position + 1) as f64;
        // `p · (m / rank)`, not `p · m / rank`: m / rank ≥ 1 rounds to ≥ 1, so the product
        // never rounds below p (at rank m it is exactly p).
        running_min = running_min.min(p_values[index] * (m / rank));
        adjusted[index] = running_min;
    }
    Some(adjusted)
}

/// Two-sided p-value of a standard normal statistic: `2 · sf(|z|)`, capped at 1.
///
/// Returns `None` for a NaN statistic. (±∞ gives 0.)
pub(crate) fn two_sided_normal_p(z: f64) -> Option<f64> {
    if z.is_nan() {
        return None;
    }
    Some((2.0 * Normal::standard().sf(z.abs())).min(1.0))
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom: `2 · sf(|t|)`, capped
/// at 1. Uses the survival function, not `1 − cdf`, so small p-values keep their precision.
///
/// Returns `None` for a NaN statistic or for `df` that is NaN, infinite or not positive.
pub(crate) fn two_sided_t_p(t: f64, df: f64) -> Option<f64> {
    if t.is_nan() || !df.is_finite() || df <= 0.0 {
        return None;
    }
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = 2.0 * dist.sf(t.abs());
    p.is_finite().then_some(p.min(1.0))
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (the multiplier of a
/// two-sided 95 % interval). Above [`NORMAL_QUANTILE_ABOVE_DF`] it is the normal quantile
/// [`Z_95`].
///
/// Returns `None` for `df` that is NaN or not positive. (`df = +∞` gives [`Z_95`].)
pub(crate) fn t_quantile_975(df: f64) -> Option<f64> {
    if df.is_nan() || df <= 0.0 {
        return None;
    }
    if df > NORMAL_QUANTILE_ABOVE_DF {
        return Some(Z_95);
    }
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    // 0.975 is inside [0, 1], so inverse_cdf's assertion holds.
    let q = dist.inverse_cdf(0.975);
    (q.is_finite() && q > 0.0).then_some(q)
}
