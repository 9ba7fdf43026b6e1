//! Hand-made examples for each rule.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::audit::{audit, audit_with_budget, Finding};
use super::*;

fn k(k: u32) -> Threshold {
    Threshold::new(k).unwrap()
}

const TOO_FEW: Visibility = Visibility::Hidden {
    reason: HiddenReason::TooFew,
};
const PROTECTS: Visibility = Visibility::Hidden {
    reason: HiddenReason::ProtectsAnotherGroup,
};
const SHOWN: Visibility = Visibility::Shown;

fn visibilities<G: Ord + Clone>(groups: &[(G, u64)], parent: u64, k: Threshold) -> Vec<Visibility> {
    suppress_breakdown(groups, parent, k)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

// ---- Threshold ----

#[test]
fn threshold_is_at_least_three() {
    assert!(Threshold::new(2).is_err());
    assert!(Threshold::new(0).is_err());
    assert_eq!(Threshold::new(3).unwrap().get(), 3);
    assert_eq!(Threshold::default().get(), 5);
    assert!(Threshold::try_from(-5).is_err());
    assert!(Threshold::try_from(2).is_err());
    assert_eq!(Threshold::try_from(7).unwrap().get(), 7);
    assert_eq!(
        Threshold::new(1).unwrap_err().to_string(),
        "the anonymity threshold must be at least 3, not 1"
    );
}

#[test]
fn threshold_matches_the_wave_limits() {
    assert_eq!(
        i64::from(Threshold::MIN),
        i64::from(crate::domain::wave::MIN_ANONYMITY_K)
    );
    assert_eq!(
        i64::from(Threshold::DEFAULT.get()),
        i64::from(crate::domain::wave::DEFAULT_ANONYMITY_K)
    );
}

#[test]
fn threshold_admits_and_isolates() {
    let k = k(5);
    assert!(!k.admits(4) && k.admits(5));
    assert!(!k.isolates(0) && k.isolates(1) && k.isolates(4) && !k.isolates(5));
    assert_eq!(k.at_least(Threshold::new(8).unwrap()).get(), 8);
    assert_eq!(k.at_least(Threshold::new(3).unwrap()).get(), 5);
}

// ---- Rule 1 and 2: one breakdown ----

#[test]
fn large_groups_are_all_shown() {
    let groups = [("a", 10), ("b", 5), ("c", 7)];
    assert_eq!(visibilities(&groups, 22, k(5)), [SHOWN, SHOWN, SHOWN]);
}

#[test]
fn one_hidden_group_takes_the_next_smallest_with_it() {
    let groups = [("a", 10), ("b", 2), ("c", 6), ("d", 8)];
    assert_eq!(
        visibilities(&groups, 26, k(5)),
        [SHOWN, TOO_FEW, PROTECTS, SHOWN]
    );
}

#[test]
fn ties_are_broken_by_key_not_by_input_order() {
    let forward = [("b", 6), ("a", 6), ("c", 1)];
    let backward = [("c", 1), ("a", 6), ("b", 6)];
    let hidden = |groups: &[(&'static str, u64)]| -> Vec<&'static str> {
        suppress_breakdown(groups, 13, k(5))
            .into_iter()
            .filter(|(_, v)| *v == PROTECTS)
            .map(|(g, _)| g)
            .collect()
    };
    assert_eq!(hidden(&forward), ["a"]);
    assert_eq!(hidden(&backward), ["a"]);
}

#[test]
fn two_tiny_groups_below_k_together_take_a_third() {
    // 1 + 1 = 2 < 5: both together would be recoverable as "wave − visible".
    let groups = [("a", 1), ("b", 1), ("c", 6), ("d", 10)];
    assert_eq!(
        visibilities(&groups, 18, k(5)),
        [TOO_FEW, TOO_FEW, PROTECTS, SHOWN]
    );
}

#[test]
fn hidden_groups_adding_up_to_k_need_no_more() {
    let groups = [("a", 3), ("b", 4), ("c", 10)];
    assert_eq!(visibilities(&groups, 17, k(5)), [TOO_FEW, TOO_FEW, SHOWN]);
}

#[test]
fn an_empty_group_is_hidden_but_needs_no_cover() {
    let groups = [("a", 0), ("b", 10), ("c", 12)];
    assert_eq!(visibilities(&groups, 22, k(5)), [TOO_FEW, SHOWN, SHOWN]);
    // Empty and small look alike, and the small one still takes a cover.
    let groups = [("a", 0), ("b", 2), ("c", 10), ("d", 12)];
    assert_eq!(
        visibilities(&groups, 24, k(5)),
        [TOO_FEW, TOO_FEW, PROTECTS, SHOWN]
    );
}

#[test]
fn a_small_remainder_counts_as_a_hidden_group() {
    // 20 respondents, 18 with the attribute: 2 without it would be "wave − a − b".
    let groups = [("a", 10), ("b", 8)];
    assert_eq!(visibilities(&groups, 20, k(5)), [SHOWN, PROTECTS]);
}

#[test]
fn a_small_remainder_and_a_small_group_can_cover_each_other() {
    // 3 hidden + 2 without the attribute = 5: "wave − a" gives only the pair.
    let groups = [("a", 15), ("b", 3)];
    assert_eq!(visibilities(&groups, 20, k(5)), [SHOWN, TOO_FEW]);
}

#[test]
fn a_large_remainder_covers_nothing() {
    // 6 without the attribute might be known elsewhere; then "wave − a − 6" = b.
    let groups = [("a", 15), ("b", 2)];
    assert_eq!(visibilities(&groups, 23, k(5)), [PROTECTS, TOO_FEW]);
}

#[test]
fn a_small_parent_hides_everything() {
    let groups = [("a", 2), ("b", 2)];
    assert_eq!(visibilities(&groups, 4, k(5)), [TOO_FEW, TOO_FEW]);
}

#[test]
fn contradictory_counts_hide_everything() {
    let groups = [("a", 10), ("b", 10)];
    let hidden = Visibility::Hidden {
        reason: HiddenReason::InconsistentCounts,
    };
    assert_eq!(visibilities(&groups, 15, k(5)), [hidden, hidden]);
    let huge = [("a", u64::MAX), ("b", 1)];
    assert_eq!(visibilities(&huge, u64::MAX, k(5)), [hidden, hidden]);
}

#[test]
fn shown_groups_never_leave_a_small_difference() {
    // Exhaustive over small breakdowns of a shown parent: parent − Σ(any subset of the
    // shown groups) is never 1..k − 1, nor is it after also taking away a remainder of k
    // or more (which rule 2 assumes may be known).
    let k = k(4);
    for a in 0..9u64 {
        for b in 0..9u64 {
            for c in 0..9u64 {
                for rest in [0u64, 1, 2, 3, 4, 6] {
                    let groups = [(0, a), (1, b), (2, c)];
                    let parent = a + b + c + rest;
                    if !k.admits(parent) {
                        continue;
                    }
                    let shown: Vec<u64> = suppress_breakdown(&groups, parent, k)
                        .into_iter()
                        .filter(|(_, v)| v.is_shown())
                        .map(|(g, _)| groups[g].1)
                        .collect();
                    for mask in 0..(1u32 << shown.len()) {
                        let taken: u64 = (0..shown.len())
                            .filter(|i| mask >> i & 1 == 1)
                            .map(|i| shown[i])
                            .sum();
                        let left = parent - taken;
                        assert!(!k.isolates(left), "{groups:?} of {parent}: {left} left");
                        // (With every group hidden there is nothing left to hide: "parent −
                        // remainder" is then for the plan's audit to watch.)
                        if k.admits(rest) && !shown.is_empty() {
                            let left = left - rest;
                            assert!(!k.isolates(left), "{groups:?} of {parent}: {left} left");
                        }
                    }
                }
            }
        }
    }
}

// ---- Rule 3: filters ----

#[test]
fn filters_need_k_inside_and_k_or_none_outside() {
    let k5 = k(5);
    assert_eq!(check_filter(10, 30, k5), Ok(()));
    assert_eq!(
        check_filter(30, 30, k5),
        Ok(()),
        "leaving nobody out is the parent"
    );
    assert_eq!(check_filter(25, 30, k5), Ok(()));
    let kind = |r: Result<(), FilterRefusal>| r.unwrap_err().kind;
    assert_eq!(kind(check_filter(4, 30, k5)), FilterRefusalKind::TooFew);
    assert_eq!(kind(check_filter(0, 30, k5)), FilterRefusalKind::TooFew);
    assert_eq!(
        kind(check_filter(29, 30, k5)),
        FilterRefusalKind::ComplementTooSmall,
        "everyone except one person"
    );
    assert_eq!(
        kind(check_filter(26, 30, k5)),
        FilterRefusalKind::ComplementTooSmall
    );
    assert_eq!(
        kind(check_filter(31, 30, k5)),
        FilterRefusalKind::InconsistentCounts
    );
}

#[test]
fn a_refusal_says_why_without_numbers() {
    let refusal = check_filter(29, 30, k(5)).unwrap_err();
    let message = refusal.to_string();
    assert!(message.starts_with("This filter would single out fewer than 5 people"));
    assert!(!message.contains("29") && !message.contains("30"));
    // Both sides read the same, so the message does not say which one is small.
    assert_eq!(message, check_filter(2, 30, k(5)).unwrap_err().to_string());
}

// ---- Rule 4: comments ----

#[test]
fn comments_need_k_respondents() {
    let mut rng = StdRng::seed_from_u64(1);
    assert_eq!(
        visible_comments(vec!["a", "b"], SHOWN, 4, k(5), &mut rng),
        None
    );
    let shown = visible_comments(vec!["a", "b"], SHOWN, 5, k(5), &mut rng).unwrap();
    assert_eq!(shown.len(), 2);
}

#[test]
fn comments_of_hidden_groups_stay_hidden_whatever_their_size() {
    // Ops (7) is hidden to protect Sales (2): the wave's comments minus R&D's minus Ops'
    // would be the Sales comments.
    let plan = organisation(k(5));
    let ops = plan.breakdown(Scope::Wave, "business_unit").unwrap()[0].1;
    assert_eq!(ops, PROTECTS);
    let mut rng = StdRng::seed_from_u64(1);
    assert_eq!(visible_comments(vec!["a"], ops, 7, k(5), &mut rng), None);
}

#[test]
fn the_comment_threshold_may_be_stricter_never_looser() {
    let mut rng = StdRng::seed_from_u64(1);
    let wave_k = k(5);
    let stricter = wave_k.at_least(k(10));
    assert_eq!(
        visible_comments(vec!["a"], SHOWN, 7, stricter, &mut rng),
        None
    );
    let looser = wave_k.at_least(k(3));
    assert_eq!(looser, wave_k);
    assert_eq!(
        visible_comments(vec!["a"], SHOWN, 4, looser, &mut rng),
        None
    );
    // A stricter threshold gets its own plan. At 10, R&D (21) has enough respondents,
    // but the wave's comments minus R&D's would be those of the 9 others: hidden. At 9
    // those 9 are enough.
    let by_unit = |comment_k: u32| -> Vec<bool> {
        organisation(wave_k.at_least(k(comment_k)))
            .breakdown(Scope::Wave, "business_unit")
            .unwrap()
            .into_iter()
            .map(|(_, v)| v.is_shown())
            .collect()
    };
    assert_eq!(by_unit(10), [false, false, false]);
    assert_eq!(by_unit(9), [false, true, false]);
}

#[test]
fn comments_are_shuffled_and_kept() {
    let comments: Vec<u32> = (0..20).collect();
    let shuffle = |comments: Vec<u32>, seed: u64| {
        visible_comments(comments, SHOWN, 20, k(5), &mut StdRng::seed_from_u64(seed)).unwrap()
    };
    let shuffled = shuffle(comments.clone(), 7);
    assert_ne!(
        shuffled, comments,
        "20! orders: the input order is not kept"
    );
    let mut sorted = shuffled.clone();
    sorted.sort();
    assert_eq!(sorted, comments);
    // The same seed gives the same order (a stable order for a snapshot)…
    assert_eq!(shuffle(comments.clone(), 7), shuffled);
    // …and the first place goes to every comment about equally often.
    let mut first = [0u32; 4];
    for seed in 0..4000 {
        first[shuffle(vec![0, 1, 2, 3], seed)[0] as usize] += 1;
    }
    assert!(first.iter().all(|&n| (850..1150).contains(&n)), "{first:?}");
    // thread_rng works too.
    let fresh = visible_comments(comments.clone(), SHOWN, 20, k(5), &mut rand::thread_rng());
    assert_eq!(fresh.map(|c| c.len()), Some(20));
}

// ---- Released figures ----

#[test]
fn hidden_figures_are_never_released_nor_computed() {
    assert_eq!(SHOWN.release(42), Some(42));
    assert_eq!(TOO_FEW.release(42), None);
    assert_eq!(
        PROTECTS.release_with(|| -> u32 { panic!("computed") }),
        None
    );
    assert_eq!(SHOWN.release_with(|| 7), Some(7));
    assert_eq!(
        Visibility::hidden_message(k(5)),
        "Not shown to protect anonymity (fewer than 5 responses here or in a related group)"
    );
}

// ---- The plan ----

fn cell(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, v)| (a.to_string(), v.to_string()))
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn shown(plan: &ReleasePlan, scope: Scope<'_>, attribute: &str) -> Vec<String> {
    plan.breakdown(scope, attribute)
        .unwrap()
        .into_iter()
        .filter(|(_, v)| v.is_shown())
        .map(|(value, _)| value)
        .collect()
}

/// 30 respondents: R&D 21 (12 EMEA, 9 APAC), Sales 2 (EMEA), Ops 7 (EMEA).
fn organisation(k: Threshold) -> ReleasePlan {
    let bu = |b: &str, r: &str| cell(&[("business_unit", b), ("region", r)]);
    ReleasePlan::new(
        &names(&["business_unit", "region"]),
        vec![
            (bu("R&D", "EMEA"), 12),
            (bu("R&D", "APAC"), 9),
            (bu("Sales", "EMEA"), 2),
            (bu("Ops", "EMEA"), 7),
        ],
        k,
    )
}

#[test]
fn plan_breakdown_follows_rule_two() {
    let plan = organisation(k(5));
    assert!(plan.total().is_shown());
    let breakdown = plan.breakdown(Scope::Wave, "business_unit").unwrap();
    assert_eq!(
        breakdown,
        vec![
            ("Ops".to_string(), PROTECTS),
            ("R&D".to_string(), SHOWN),
            ("Sales".to_string(), TOO_FEW),
        ]
    );
    assert_eq!(shown(&plan, Scope::Wave, "region"), ["APAC", "EMEA"]);
}

#[test]
fn plan_refuses_filters_on_groups_hidden_as_complements() {
    // check_filter alone would allow "Ops" (7 in, 23 out); the plan does not, or
    // "wave − R&D − Ops" would be the two Sales people.
    assert_eq!(check_filter(7, 30, k(5)), Ok(()));
    let plan = organisation(k(5));
    let refusal = plan.filter("business_unit", "Ops").unwrap_err();
    assert_eq!(refusal.kind, FilterRefusalKind::HiddenInBreakdown);
    assert_eq!(
        plan.filter("business_unit", "Sales").unwrap_err().kind,
        FilterRefusalKind::TooFew
    );
    assert_eq!(plan.filter("business_unit", "R&D"), Ok(()));
    assert_eq!(
        plan.filter("business_unit", "Marketing").unwrap_err().kind,
        FilterRefusalKind::TooFew
    );
    assert_eq!(
        plan.filter("cost_centre", "X").unwrap_err().kind,
        FilterRefusalKind::TooFew
    );
    let ops = Scope::Filter {
        attribute: "business_unit",
        value: "Ops",
    };
    assert_eq!(plan.breakdown(ops, "region").unwrap_err(), refusal);
}

#[test]
fn plan_breakdowns_inside_filters_agree_both_ways() {
    let plan = organisation(k(5));
    let emea = Scope::Filter {
        attribute: "region",
        value: "EMEA",
    };
    let rnd = Scope::Filter {
        attribute: "business_unit",
        value: "R&D",
    };
    // R&D ∧ EMEA (12) is shown from either side; Ops ∧ EMEA (7) is not, since Ops is
    // hidden in the breakdown by business unit.
    assert_eq!(shown(&plan, emea, "business_unit"), ["R&D"]);
    assert_eq!(shown(&plan, rnd, "region"), ["APAC", "EMEA"]);
    // A filter broken down by its own attribute is just the filter.
    assert_eq!(shown(&plan, emea, "region"), ["EMEA"]);
    assert!(plan.breakdown(emea, "cost_centre").unwrap().is_empty());
}

#[test]
fn plan_hides_a_cross_group_that_a_marginal_would_give_away() {
    // R&D 20 = 17 in EMEA + 3 in APAC. "EMEA by business unit" shows R&D ∧ EMEA = 17,
    // "by business unit" shows R&D = 20: 20 − 17 = the 3 R&D people in APAC.
    let c = |b: &str, r: &str| cell(&[("business_unit", b), ("region", r)]);
    let plan = ReleasePlan::new(
        &names(&["business_unit", "region"]),
        vec![
            (c("R&D", "EMEA"), 17),
            (c("R&D", "APAC"), 3),
            (c("Sales", "EMEA"), 10),
            (c("Sales", "APAC"), 10),
        ],
        k(5),
    );
    let rnd = Scope::Filter {
        attribute: "business_unit",
        value: "R&D",
    };
    assert!(plan.filter("business_unit", "R&D").is_ok());
    assert!(shown(&plan, rnd, "region").is_empty());
    let emea = Scope::Filter {
        attribute: "region",
        value: "EMEA",
    };
    assert!(!shown(&plan, emea, "business_unit").contains(&"R&D".to_string()));
}

#[test]
fn plan_respects_nested_attributes() {
    // Lab (10) and Dev (2) are the departments of R&D (12); Field (20) is Sales. The
    // breakdown by department alone would hide Dev and then the smallest other
    // department, which must not leave "R&D − Lab" = Dev.
    let c = |b: &str, d: &str| cell(&[("business_unit", b), ("department", d)]);
    let plan = ReleasePlan::new(
        &names(&["business_unit", "department"]),
        vec![
            (c("R&D", "Lab"), 10),
            (c("R&D", "Dev"), 2),
            (c("Sales", "Field"), 20),
            (c("Sales", "Desk"), 9),
        ],
        k(5),
    );
    let departments = shown(&plan, Scope::Wave, "department");
    let units = shown(&plan, Scope::Wave, "business_unit");
    assert!(
        !(departments.contains(&"Lab".to_string()) && units.contains(&"R&D".to_string())),
        "R&D {units:?} and Lab {departments:?} both shown"
    );
    // Without the plan, the breakdown by department hides Dev and Desk, the next
    // smallest: exactly the mistake.
    let alone = suppress_breakdown(
        &[("Desk", 9), ("Dev", 2), ("Field", 20), ("Lab", 10)],
        41,
        k(5),
    );
    assert!(alone[3].1.is_shown());
}

#[test]
fn plan_lists_and_hides_values_without_responses() {
    let c = |r: &str| cell(&[("region", r)]);
    let plan = ReleasePlan::new(
        &names(&["region"]),
        vec![(c("EMEA"), 10), (c("APAC"), 8), (c("LATAM"), 0)],
        k(5),
    );
    assert_eq!(plan.values("region"), ["APAC", "EMEA", "LATAM"]);
    let breakdown = plan.breakdown(Scope::Wave, "region").unwrap();
    assert_eq!(breakdown[2], ("LATAM".to_string(), TOO_FEW));
    // An empty group needs no cover.
    assert!(breakdown[0].1.is_shown() && breakdown[1].1.is_shown());
}

#[test]
fn plan_of_a_small_wave_shows_nothing() {
    let plan = ReleasePlan::new(
        &names(&["region"]),
        vec![(cell(&[("region", "EMEA")]), 4)],
        k(5),
    );
    assert_eq!(plan.total(), TOO_FEW);
    assert!(shown(&plan, Scope::Wave, "region").is_empty());
}

#[test]
fn plan_treats_a_missing_attribute_as_a_remainder() {
    // 3 respondents have no region: "wave − EMEA − APAC" would be them.
    let plan = ReleasePlan::new(
        &names(&["region"]),
        vec![
            (cell(&[("region", "EMEA")]), 10),
            (cell(&[("region", "APAC")]), 8),
            (cell(&[]), 3),
        ],
        k(5),
    );
    assert_eq!(shown(&plan, Scope::Wave, "region"), ["EMEA"]);
}

// ---- The audit ----

#[test]
fn audit_finds_a_difference_and_a_longer_chain() {
    // Cells: 0 → 10, 1 → 2, 2 → 10, 3 → 10.
    let cells = [10, 2, 10, 10];
    // {0,1} − {0} = cell 1 (2 people).
    match audit(&[vec![0, 1], vec![0]], &cells, k(5)) {
        Finding::Leak { cells, groups } => {
            assert_eq!(cells, [1]);
            assert_eq!(groups, [0, 1]);
        }
        other => panic!("{other:?}"),
    }
    // ({0,1} + {2,3}) − {0,2} − {3} = cell 1, with no group inside another.
    assert!(matches!(
        audit(&[vec![0, 1], vec![2, 3], vec![0, 2], vec![3]], &cells, k(5)),
        Finding::Leak { .. }
    ));
    // Without {3} the small cell stays mixed with a large one.
    assert!(matches!(
        audit(&[vec![0, 1], vec![2, 3], vec![0, 2]], &cells, k(5)),
        Finding::Clean
    ));
}

#[test]
fn audit_ignores_differences_of_k_or_more() {
    // Cells: 0 → 10, 1 → 5, then five cells of 1.
    let cells = [10, 5, 1, 1, 1, 1, 1];
    let everyone = vec![0, 1, 2, 3, 4, 5, 6];
    // everyone − {0} = 10, everyone − {0,1} = 5, {0,1} − {0} = 5.
    assert!(matches!(
        audit(&[everyone.clone(), vec![0], vec![0, 1]], &cells, k(5)),
        Finding::Clean
    ));
    // everyone − {0,1,2} = four cells of 1: 4 < 5.
    assert!(matches!(
        audit(&[everyone, vec![0, 1, 2]], &cells, k(5)),
        Finding::Leak { .. }
    ));
}

#[test]
fn audit_out_of_steps_names_groups_to_hide() {
    let cells = [10, 2, 10, 10];
    let released = [vec![0, 1], vec![2, 3], vec![0, 2], vec![3]];
    match audit_with_budget(&released, &cells, k(5), 0) {
        Finding::Unproven { groups } => assert!(!groups.is_empty()),
        other => panic!("{other:?}"),
    }
}
