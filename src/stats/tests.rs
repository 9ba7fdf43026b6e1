//! Unit tests of [`crate::stats`]: reference values (DESIGN.md §7 formulas, computed
//! independently), the guards against undefined input, and proptest properties.

use std::time::{Duration, Instant};

use super::significance::{t_quantile_975, two_sided_normal_p, two_sided_t_p};
use super::*;

/// Asserts `|actual − expected| ≤ tol`, naming the quantity on failure.
fn close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual:.15}, expected {expected:.15} (tolerance {tol:e})"
    );
}

/// Histogram of a 1..=5 Likert sample.
fn hist5(values: &[u64]) -> [u64; 5] {
    let mut counts = [0; 5];
    for &v in values {
        counts[(v - 1) as usize] += 1;
    }
    counts
}

fn nps(promoters: u64, passives: u64, detractors: u64) -> NpsCounts {
    NpsCounts {
        promoters,
        passives,
        detractors,
    }
}

const LIKERT_A: [u64; 10] = [4, 5, 3, 4, 2, 5, 4, 4, 3, 5];
const LIKERT_B: [u64; 12] = [3, 3, 2, 4, 2, 3, 1, 3, 2, 4, 3, 2];

// ---------------------------------------------------------------- reference values

#[test]
fn nps_reference_90_60_50() {
    let s = nps_summary(&nps(90, 60, 50)).expect("200 answers");
    assert_eq!(s.n, 200);
    close("score", s.score, 20.0, 1e-12);
    close("NPS'", s.adjusted, 0.197044335, 1e-9);
    close("SE'", s.se, 0.0569425372, 1e-9);
    close("CI low", s.ci.0, 0.0854390130, 1e-9);
    close("CI high", s.ci.1, 0.3086496570, 1e-9);
    close("NPS' points", s.adjusted_points(), 19.7044335, 1e-7);
    close("CI low points", s.ci_points().0, 8.54390130, 1e-7);
}

#[test]
fn nps_reference_130_70_50() {
    let s = nps_summary(&nps(130, 70, 50)).expect("250 answers");
    assert_eq!(s.n, 250);
    close("score", s.score, 32.0, 1e-12);
    close("NPS'", s.adjusted, 0.3162055336, 1e-9);
    close("SE'", s.se, 0.0493997714, 1e-9);
    close("CI low", s.ci.0, 0.2193837609, 1e-9);
    close("CI high", s.ci.1, 0.4130273063, 1e-9);
}

#[test]
fn nps_change_reference() {
    let c = nps_change(&nps(90, 60, 50), &nps(130, 70, 50)).expect("both waves answered");
    close("z", c.z, 1.580716772, 1e-9);
    close("p", c.p, 0.1139428118, 1e-9);
    close("before", c.before, 0.197044335, 1e-9);
    close("after", c.after, 0.3162055336, 1e-9);
    close("diff", c.diff, 0.3162055336 - 0.197044335, 1e-9);
    close("score diff", c.score_diff, 12.0, 1e-12);
}

#[test]
fn nps_change_of_a_wave_with_itself_is_zero() {
    let c = nps_change(&nps(90, 60, 50), &nps(90, 60, 50)).expect("answered");
    assert_eq!(c.z, 0.0);
    assert_eq!(c.p, 1.0);
}

#[test]
fn nps_counts_from_histogram() {
    let hist = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    assert_eq!(NpsCounts::from_histogram(&hist), nps(10 + 11, 8 + 9, 28));
    assert_eq!(NpsCounts::from_histogram(&[0; 11]), NpsCounts::default());
    let mut huge = [0; 11];
    huge[9] = u64::MAX;
    huge[10] = 1;
    assert_eq!(NpsCounts::from_histogram(&huge).promoters, u64::MAX);
}

#[test]
fn wilson_reference() {
    let (lo, hi) = wilson_interval(45, 60).expect("n > 0");
    close("45/60 low", lo, 0.627679299229522, 1e-9);
    close("45/60 high", hi, 0.842234774699433, 1e-9);
    let (lo, hi) = wilson_interval(0, 10).expect("n > 0");
    assert_eq!(lo, 0.0);
    close("0/10 high", hi, 0.277532799862889, 1e-9);
    let (lo, hi) = wilson_interval(10, 10).expect("n > 0");
    close("10/10 low", lo, 0.722467200137111, 1e-9);
    assert_eq!(hi, 1.0);
}

#[test]
fn proportion_summary_carries_counts() {
    let s = proportion_summary(45, 60).expect("n > 0");
    assert_eq!((s.successes, s.n), (45, 60));
    close("share", s.share, 0.75, 1e-15);
    assert_eq!(Some(s.ci), wilson_interval(45, 60));
}

#[test]
fn two_proportion_reference() {
    // 30/60 → 45/60: pooled 0.625, SE = √(0.625·0.375·2/60) = 0.25/(2√2), so z = 2√2
    // and p = 2·(1 − Φ(2√2)) = erfc(2).
    let t = two_proportion_z_test(30, 60, 45, 60).expect("defined");
    close("diff", t.diff, 0.25, 1e-15);
    close("z", t.z, 2.0 * std::f64::consts::SQRT_2, 1e-12);
    close("p", t.p, 0.004677734981047266, 1e-12);
    let reversed = two_proportion_z_test(45, 60, 30, 60).expect("defined");
    close("reversed z", reversed.z, -t.z, 1e-15);
    close("reversed p", reversed.p, t.p, 1e-15);
}

#[test]
fn likert_reference() {
    let s = likert_summary(&hist5(&LIKERT_A)).expect("10 answers");
    assert_eq!((s.points, s.n), (5, 10));
    close("mean", s.mean, 3.9, 1e-12);
    close("sd", s.sd, 0.994428926, 1e-9);
    close("CI low", s.ci.0, 3.1886284, 1e-7);
    close("CI high", s.ci.1, 4.6113716, 1e-7);
    // Top-2-box: 4 fours and 3 fives of 10.
    assert_eq!((s.top2.successes, s.top2.n), (7, 10));
    assert_eq!(Some(s.top2.ci), wilson_interval(7, 10));
}

#[test]
fn likert_seven_point_top2_is_six_and_seven() {
    let s = likert_summary(&[1, 1, 1, 1, 1, 2, 3]).expect("10 answers");
    assert_eq!((s.points, s.n), (7, 10));
    assert_eq!(s.top2.successes, 5);
    close(
        "mean",
        s.mean,
        (1 + 2 + 3 + 4 + 5 + 12 + 21) as f64 / 10.0,
        1e-12,
    );
}

#[test]
fn welch_reference() {
    // Sign convention: t = (after − before)/SE, so the first reference sample is `after`.
    let a = likert_summary(&hist5(&LIKERT_A)).expect("10 answers");
    let b = likert_summary(&hist5(&LIKERT_B)).expect("12 answers");
    let w = welch_t_test(&b.sample(), &a.sample()).expect("defined");
    close("t", w.t, 3.0404476101, 1e-9);
    close("df", w.df, 18.3132820521, 1e-9);
    close("p", w.p, 0.0069369431523, 1e-9);
    close("diff", w.diff, 3.9 - 32.0 / 12.0, 1e-12);
    let reversed = welch_t_test(&a.sample(), &b.sample()).expect("defined");
    close("reversed t", reversed.t, -w.t, 1e-12);
    close("reversed p", reversed.p, w.p, 1e-12);
}

#[test]
fn benjamini_hochberg_reference() {
    let raw = [0.50, 0.01, 0.001, 0.69, 0.02, 0.05, 0.0025];
    let expected = [
        0.5 * 7.0 / 6.0,
        0.07 / 3.0,
        0.007,
        0.69,
        0.035,
        0.07,
        0.00875,
    ];
    let adjusted = benjamini_hochberg(&raw).expect("valid p-values");
    assert_eq!(adjusted.len(), expected.len());
    for (i, (&got, &want)) in adjusted.iter().zip(&expected).enumerate() {
        close(&format!("adjusted[{i}]"), got, want, 1e-9);
    }
}

#[test]
fn benjamini_hochberg_ties_and_cap() {
    let adjusted = benjamini_hochberg(&[0.04, 0.04, 0.9, 1.0]).expect("valid");
    assert_eq!(adjusted[0], adjusted[1]);
    close("tied", adjusted[0], 0.08, 1e-15);
    assert_eq!(adjusted[2], 1.0);
    assert_eq!(adjusted[3], 1.0);
}

#[test]
fn benjamini_hochberg_never_rounds_below_raw() {
    // Found by proptest: 0.9770989747614383 · 12 / 12 rounds to …381.
    let mut raw = [0.0; 12];
    raw[1] = 0.9770989747614383;
    let adjusted = benjamini_hochberg(&raw).expect("valid");
    assert_eq!(adjusted, raw.to_vec());
}

#[test]
fn t_quantiles_match_tables() {
    // qt(0.975, df) from R.
    for (df, q) in [
        (1.0, 12.706204736174698),
        (2.0, 4.302652729749464),
        (9.0, 2.262157162798205),
        (30.0, 2.042272456301238),
        (1000.0, 1.962339080826408),
    ] {
        close(
            &format!("t quantile df={df}"),
            t_quantile_975(df).expect("df > 0"),
            q,
            1e-9,
        );
    }
}

// ---------------------------------------------------------------- guards

#[test]
fn nps_guards() {
    assert_eq!(nps_summary(&NpsCounts::default()), None);
    assert_eq!(nps_change(&NpsCounts::default(), &nps(1, 0, 0)), None);
    assert_eq!(nps_change(&nps(1, 0, 0), &NpsCounts::default()), None);
    assert_eq!(nps_summary(&nps(u64::MAX, 1, 0)), None, "overflowing total");

    let one = nps_summary(&nps(1, 0, 0)).expect("one answer");
    assert_eq!((one.n, one.score), (1, 100.0));
    assert!(one.ci.0 <= one.adjusted && one.adjusted <= one.ci.1);

    // All promoters, n = 10: the raw interval would end above 1; it is clamped.
    let all = nps_summary(&nps(10, 0, 0)).expect("ten answers");
    assert_eq!(all.ci.1, 1.0);
    let none = nps_summary(&nps(0, 0, 10)).expect("ten answers");
    assert_eq!(none.ci.0, -1.0);
}

#[test]
fn proportion_guards() {
    assert_eq!(wilson_interval(0, 0), None);
    assert_eq!(wilson_interval(3, 2), None);
    assert_eq!(proportion_summary(0, 0), None);
    let (lo, hi) = wilson_interval(1, 1).expect("n = 1");
    assert!(0.0 < lo && hi == 1.0);

    assert_eq!(two_proportion_z_test(0, 0, 1, 2), None, "empty before");
    assert_eq!(two_proportion_z_test(1, 2, 0, 0), None, "empty after");
    assert_eq!(two_proportion_z_test(3, 2, 1, 2), None, "k > n");
    assert_eq!(two_proportion_z_test(0, 5, 0, 7), None, "nobody in either");
    assert_eq!(two_proportion_z_test(5, 5, 7, 7), None, "everybody in both");
    let t = two_proportion_z_test(0, 5, 7, 7).expect("0 % → 100 % is defined");
    assert!(t.z > 0.0 && t.p < 0.01);
}

#[test]
fn likert_guards() {
    assert_eq!(likert_summary(&[0; 5]), None, "n = 0");
    assert_eq!(likert_summary(&[0, 0, 1, 0, 0]), None, "n = 1");
    assert_eq!(likert_summary(&[1, 1, 1, 1]), None, "4-point scale");
    assert_eq!(likert_summary(&[]), None, "empty");
    assert_eq!(likert_summary(&[u64::MAX, 1, 0, 0, 0]), None, "overflow");

    // Identical answers: sd 0, the interval collapses to the mean.
    let same = likert_summary(&[0, 0, 0, 8, 0]).expect("8 answers");
    assert_eq!((same.mean, same.sd, same.ci), (4.0, 0.0, (4.0, 4.0)));

    // Small, spread sample: the raw t interval leaves [1, 5] and is clamped.
    let wide = likert_summary(&[1, 0, 0, 0, 1]).expect("2 answers");
    assert_eq!(wide.ci, (1.0, 5.0));
}

#[test]
fn likert_large_df_uses_normal_quantile_quickly() {
    assert_eq!(t_quantile_975(5000.0), Some(Z_95));
    assert_eq!(t_quantile_975(1e12), Some(Z_95));
    assert_eq!(t_quantile_975(f64::INFINITY), Some(Z_95));

    let started = Instant::now();
    let s = likert_summary(&[1000, 1000, 1001, 1000, 1000]).expect("5001 answers");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(s.n, 5001);
    close(
        "half width",
        s.ci.1 - s.mean,
        Z_95 * s.sd / 5001f64.sqrt(),
        1e-12,
    );

    let started = Instant::now();
    let big = likert_summary(&[0, 0, 10_000_000, 10_000_000, 0]).expect("2e7 answers");
    assert!(started.elapsed() < Duration::from_secs(1));
    close(
        "half width",
        big.ci.1 - big.mean,
        Z_95 * big.sd / 2e7f64.sqrt(),
        1e-12,
    );
}

#[test]
fn welch_guards() {
    let s = |n, mean, sd| SampleSummary { n, mean, sd };
    assert_eq!(
        welch_t_test(&s(1, 3.0, 1.0), &s(10, 3.0, 1.0)),
        None,
        "n = 1"
    );
    assert_eq!(
        welch_t_test(&s(10, 3.0, 1.0), &s(0, 3.0, 1.0)),
        None,
        "n = 0"
    );
    assert_eq!(
        welch_t_test(&s(10, 3.0, 0.0), &s(10, 4.0, 0.0)),
        None,
        "both sd 0"
    );
    assert_eq!(welch_t_test(&s(10, f64::NAN, 1.0), &s(10, 3.0, 1.0)), None);
    assert_eq!(
        welch_t_test(&s(10, 3.0, f64::INFINITY), &s(10, 3.0, 1.0)),
        None
    );
    assert_eq!(welch_t_test(&s(10, 3.0, -1.0), &s(10, 3.0, 1.0)), None);
    // Variances so small their squares underflow: df is 0/0, refused rather than NaN.
    assert_eq!(welch_t_test(&s(10, 3.0, 1e-160), &s(10, 3.0, 1e-160)), None);

    // Identical samples: no difference at all.
    let same = welch_t_test(&s(10, 3.0, 1.0), &s(10, 3.0, 1.0)).expect("defined");
    assert_eq!((same.t, same.p), (0.0, 1.0));
    close("df", same.df, 18.0, 1e-12);

    // One sample without variance is still a valid test.
    let one_sided = welch_t_test(&s(10, 3.0, 0.0), &s(10, 4.0, 1.0)).expect("defined");
    close("df", one_sided.df, 9.0, 1e-12);

    // Huge samples: p from the t survival function stays fast and near the normal one.
    let started = Instant::now();
    let big = welch_t_test(&s(5_000_000, 3.0, 1.0), &s(5_000_000, 3.001, 1.0)).expect("ok");
    assert!(started.elapsed() < Duration::from_secs(1));
    close(
        "big p",
        big.p,
        two_sided_normal_p(big.t).expect("finite"),
        1e-6,
    );
}

#[test]
fn distribution_wrapper_guards() {
    assert_eq!(t_quantile_975(0.0), None);
    assert_eq!(t_quantile_975(-3.0), None);
    assert_eq!(t_quantile_975(f64::NAN), None);
    assert_eq!(two_sided_t_p(1.0, 0.0), None);
    assert_eq!(two_sided_t_p(1.0, -1.0), None);
    assert_eq!(two_sided_t_p(1.0, f64::NAN), None);
    assert_eq!(two_sided_t_p(1.0, f64::INFINITY), None);
    assert_eq!(two_sided_t_p(f64::NAN, 5.0), None);
    assert_eq!(two_sided_t_p(f64::INFINITY, 5.0), Some(0.0));
    assert_eq!(two_sided_t_p(0.0, 5.0), Some(1.0));
    assert_eq!(two_sided_normal_p(f64::NAN), None);
    assert_eq!(two_sided_normal_p(0.0), Some(1.0));
    assert_eq!(two_sided_normal_p(f64::NEG_INFINITY), Some(0.0));
    // statrs' erfc is accurate to about 5e-11 relative: 2·sf(Z_95) = 0.049999999997754.
    close(
        "normal p at z95",
        two_sided_normal_p(Z_95).expect("finite"),
        0.05,
        1e-11,
    );
}

#[test]
fn benjamini_hochberg_guards() {
    assert_eq!(benjamini_hochberg(&[]), Some(vec![]));
    assert_eq!(benjamini_hochberg(&[0.1, f64::NAN]), None);
    assert_eq!(benjamini_hochberg(&[0.1, 1.5]), None);
    assert_eq!(benjamini_hochberg(&[-0.1]), None);
    assert_eq!(benjamini_hochberg(&[f64::INFINITY]), None);
    assert_eq!(benjamini_hochberg(&[0.03]), Some(vec![0.03]));
}

// ---------------------------------------------------------------- properties

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    fn count_of() -> impl Strategy<Value = (u64, u64)> {
        (1_u64..100_000).prop_flat_map(|n| (0..=n, Just(n)))
    }

    proptest! {
        #[test]
        fn wilson_contains_share_and_stays_in_unit_interval((k, n) in count_of()) {
            let (lo, hi) = wilson_interval(k, n).expect("n > 0, k <= n");
            let share = k as f64 / n as f64;
            prop_assert!(0.0 <= lo && lo <= share && share <= hi && hi <= 1.0,
                "{k}/{n}: [{lo}, {hi}] vs {share}");
        }

        #[test]
        fn benjamini_hochberg_is_bounded_and_keeps_order(
            raw in prop::collection::vec(0.0_f64..=1.0, 0..60)
        ) {
            let adjusted = benjamini_hochberg(&raw).expect("valid p-values");
            prop_assert_eq!(adjusted.len(), raw.len());
            for (i, (&a, &p)) in adjusted.iter().zip(&raw).enumerate() {
                prop_assert!(p <= a && a <= 1.0, "[{}]: raw {} adjusted {}", i, p, a);
                for (j, &q) in raw.iter().enumerate() {
                    if p < q {
                        prop_assert!(a <= adjusted[j]);
                    } else if p == q {
                        prop_assert_eq!(a, adjusted[j]);
                    }
                }
            }
        }

        #[test]
        fn nps_interval_contains_adjusted(
            promoters in 0_u64..5_000, passives in 0_u64..5_000, detractors in 0_u64..5_000
        ) {
            let counts = NpsCounts { promoters, passives, detractors };
            match nps_summary(&counts) {
                None => prop_assert_eq!(promoters + passives + detractors, 0),
                Some(s) => {
                    prop_assert!(-1.0 <= s.ci.0 && s.ci.0 <= s.adjusted);
                    prop_assert!(s.adjusted <= s.ci.1 && s.ci.1 <= 1.0);
                    prop_assert!((-100.0..=100.0).contains(&s.score));
                    prop_assert!(s.se > 0.0);
                }
            }
        }

        #[test]
        fn two_proportion_p_is_a_probability(
            (k1, n1) in count_of(), (k2, n2) in count_of()
        ) {
            if let Some(t) = two_proportion_z_test(k1, n1, k2, n2) {
                prop_assert!((0.0..=1.0).contains(&t.p));
                prop_assert!(t.z.is_finite());
            }
        }

        #[test]
        fn likert_interval_contains_mean(counts in prop::collection::vec(0_u64..2_000, 5)) {
            if let Some(s) = likert_summary(&counts) {
                prop_assert!(1.0 <= s.ci.0 && s.ci.0 <= s.mean);
                prop_assert!(s.mean <= s.ci.1 && s.ci.1 <= 5.0);
                prop_assert!(s.sd >= 0.0);
            }
        }
    }
}
