//! Pure statistics over answer **counts** (DESIGN.md §7): no database, no HTTP, no I/O.
//!
//! This module owns every formula the results pages show:
//!
//! * [`nps`]: Net Promoter Score from promoter/passive/detractor counts, its adjusted-Wald
//!   interval, and the z test for the change between two waves.
//! * [`proportion`]: Wilson score interval for a share (CSAT top-2-box, pain points) and the
//!   pooled two-proportion z test for a change in a share.
//! * [`likert`]: mean, sample standard deviation and t interval of a 1..=5 or 1..=7 scale
//!   from its histogram, plus the top-2-box share.
//! * [`significance`]: Welch's t test from two summaries, Benjamini–Hochberg adjusted
//!   p-values, and the guarded wrappers around `statrs` distributions used by the others.
//!
//! Conventions:
//!
//! * Every interval is a two-sided 95 % interval ([`Z_95`]).
//! * Shares and NPS are **fractions** (0..1 and −1..1); only fields named `score` or
//!   methods ending in `_points` are in points (−100..100).
//! * Functions return `None` when the figure is undefined (too few respondents, no
//!   variance, counts that contradict each other, NaN or infinite input) instead of
//!   panicking; each function's doc says when.
//! * Intervals are `(low, high)` tuples, which serialise as `[low, high]`.

pub mod likert;
pub mod nps;
pub mod proportion;
pub mod significance;

#[cfg(test)]
mod tests;

pub use likert::{likert_summary, LikertSummary, SampleSummary};
pub use nps::{nps_change, nps_summary, NpsChange, NpsCounts, NpsSummary};
pub use proportion::{
    proportion_summary, two_proportion_z_test, wilson_interval, ProportionSummary,
    TwoProportionTest,
};
pub use significance::{benjamini_hochberg, welch_t_test, WelchTest};

/// The 0.975 quantile of the standard normal distribution: the z of a two-sided 95 %
/// interval, as fixed by DESIGN.md §7.
pub const Z_95: f64 = 1.959963984540054;
