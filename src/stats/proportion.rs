//! Shares of respondents: the Wilson score interval and the pooled two-proportion z test.
//!
//! Owns the formulas behind CSAT top-2-box and pain-point shares (each option is its own
//! proportion, so shares of a multi-choice question may sum past 100 %) and their change
//! between waves. Shares are fractions in [0, 1].

use serde::Serialize;

use super::significance::two_sided_normal_p;
use super::Z_95;

/// A share of respondents with its 95 % Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProportionSummary {
    /// Respondents counted in the share (e.g. answered 4 or 5, or ticked the option).
    pub successes: u64,
    /// Respondents who answered the question.
    pub n: u64,
    /// `successes / n`, a fraction in [0, 1].
    pub share: f64,
    /// 95 % Wilson score interval, fractions within [0, 1].
    pub ci: (f64, f64),
}

/// Result of the pooled two-proportion z test for the change from `before` to `after`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoProportionTest {
    /// `after share − before share`, a fraction in [−1, 1].
    pub diff: f64,
    /// z statistic with the pooled standard error; positive when the share grew.
    pub z: f64,
    /// Two-sided p-value, in [0, 1].
    pub p: f64,
}

/// 95 % Wilson score interval for `successes` out of `n`, as fractions.
///
/// `centre = (p̂ + z²/2n) / (1 + z²/n)`,
/// `half = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²)`, clamped to [0, 1]; the low end is
/// exactly 0 when `successes = 0` and the high end exactly 1 when `successes = n`.
///
/// Returns `None` when `n = 0` or `successes > n`.
pub fn wilson_interval(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z_95 / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).clamp(0.0, 1.0)
    };
    let high = if successes == n {
        1.0
    } else {
        (centre + half).clamp(0.0, 1.0)
    };
    Some((low, high))
}

/// Share of `successes` out of `n` with its Wilson interval.
///
/// Returns `None` when `n = 0` or `successes > n`.
pub fn proportion_summary(successes: u64, n: u64) -> Option<ProportionSummary> {
    let ci = wilson_interval(successes, n)?;
    Some(ProportionSummary {
        successes,
        n,
        share: successes as f64 / n as f64,
        ci,
    })
}

/// Pooled two-proportion z test for the change from `before` (`successes_before` of
/// `n_before`) to `after` (`successes_after` of `n_after`); the two groups are treated as
/// independent samples.
///
/// `p̄ = (k₁ + k₂)/(n₁ + n₂)`, `z = (p̂₂ − p̂₁) / √(p̄(1 − p̄)(1/n₁ + 1/n₂))`, two-sided p
/// from the normal survival function.
///
/// Returns `None` when either `n` is 0, successes exceed `n`, or the pooled share is 0 or 1
/// (nobody or everybody in both groups: no variance, so z is undefined).
pub fn two_proportion_z_test(
    successes_before: u64,
    n_before: u64,
    successes_after: u64,
    n_after: u64,
) -> Option<TwoProportionTest> {
    if n_before == 0 || n_after == 0 || successes_before > n_before || successes_after > n_after {
        return None;
    }
    let (k1, n1) = (successes_before as f64, n_before as f64);
    let (k2, n2) = (successes_after as f64, n_after as f64);
    let pooled = (k1 + k2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se <= 0.0 || !se.is_finite() {
        return None;
    }
    let diff = k2 / n2 - k1 / n1;
    let z = diff / se;
    let p = two_sided_normal_p(z)?;
    Some(TwoProportionTest { diff, z, p })
}
