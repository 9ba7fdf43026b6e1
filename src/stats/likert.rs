//! Likert (rating-scale) questions on a 1..=5 or 1..=7 scale, summarised from a histogram.
//!
//! Owns the mean, sample standard deviation and t interval of a scale, and its CSAT
//! top-2-box share (4–5 on a 5-point scale, 6–7 on a 7-point scale) with a Wilson interval.
//! Means and standard deviations are in scale points (1..=5 or 1..=7).

use serde::Serialize;

use super::proportion::{proportion_summary, ProportionSummary};
use super::significance::t_quantile_975;

/// The sufficient statistics a mean comparison needs: size, mean and sample sd.
///
/// Input of [`welch_t_test`](super::welch_t_test); [`LikertSummary::sample`] produces one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleSummary {
    /// Number of observations.
    pub n: u64,
    /// Arithmetic mean, in scale points.
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1), in scale points.
    pub sd: f64,
}

/// Summary of one Likert question.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LikertSummary {
    /// Number of scale points: 5 or 7.
    pub points: u8,
    /// Number of answers.
    pub n: u64,
    /// Mean answer, in scale points.
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1), in scale points.
    pub sd: f64,
    /// 95 % t interval of the mean, `mean ± t(0.975, n − 1)·sd/√n`, clamped to
    /// [1, points] (the mean cannot leave the scale). The normal quantile replaces t above
    /// 1000 degrees of freedom.
    pub ci: (f64, f64),
    /// CSAT top-2-box: share answering one of the two highest values, with its Wilson
    /// interval (fractions).
    pub top2: ProportionSummary,
}

impl LikertSummary {
    /// The `(n, mean, sd)` triple for [`welch_t_test`](super::welch_t_test).
    pub fn sample(&self) -> SampleSummary {
        SampleSummary {
            n: self.n,
            mean: self.mean,
            sd: self.sd,
        }
    }
}

/// Summarise a Likert question from its histogram.
///
/// `counts[i]` is the number of answers with value `i + 1`, so `counts` has 5 entries for a
/// 1..=5 scale and 7 for a 1..=7 scale.
///
/// Returns `None` when `counts` has another length, when there are fewer than 2 answers
/// (the sample sd is undefined), or when the total overflows `u64`. When every answer is
/// the same the sd is 0 and the interval is the single point `(mean, mean)`.
pub fn likert_summary(counts: &[u64]) -> Option<LikertSummary> {
    let points: u8 = match counts.len() {
        5 => 5,
        7 => 7,
        _ => return None,
    };
    let n = counts
        .iter()
        .try_fold(0_u64, |total, &count| total.checked_add(count))?;
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let values = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| ((i + 1) as f64, c as f64));
    let mean = values.clone().map(|(v, c)| v * c).sum::<f64>() / nf;
    let squares = values
        .map(|(v, c)| c * (v - mean) * (v - mean))
        .sum::<f64>();
    let sd = (squares / (nf - 1.0)).sqrt();
    let half = t_quantile_975(nf - 1.0)? * sd / nf.sqrt();
    let top = f64::from(points);
    let ci = ((mean - half).clamp(1.0, top), (mean + half).clamp(1.0, top));
    // Both counts are part of the checked total n, so their sum cannot overflow.
    let last = counts.len() - 1;
    let top2 = proportion_summary(counts[last - 1] + counts[last], n)?;
    Some(LikertSummary {
        points,
        n,
        mean,
        sd,
        ci,
        top2,
    })
}
