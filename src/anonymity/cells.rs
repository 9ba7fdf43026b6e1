//! Response cells: the finest groups answers are stored by. A response is stored with the
//! segment values of its invitation, but only down to a group of at least k invitees, so
//! that someone holding a copy of the database — who knows every invitee's segment from the
//! invitations — finds at least k people who could have written each response.

use std::collections::BTreeMap;

use super::Threshold;

/// A cell: attribute → value.
pub type Cell = BTreeMap<String, String>;

/// For each cell (with its number of invitees), the cell its responses are stored under:
/// the cell itself when at least k invitees share it; otherwise its group is made larger,
/// until it has at least k invitees or nothing is left to add:
///
/// * when finer groups share the small group's values (the small group is "U2" without a
///   department, and "U2 · Buying" is stored finer), the smallest of them is merged into
///   it — stored with the same fewer attributes — so a small group never stays apart
///   from the larger ones around it;
/// * otherwise the small group drops its last attribute (in `attributes` order) and
///   joins whatever is stored under the values left.
///
/// Groups only grow, and a cell only moves when its group is below k or is merged into
/// one, so this ends; every group has at least k invitees unless the whole wave has fewer.
pub fn response_cells(attributes: &[String], cells: &[(Cell, u64)], k: Threshold) -> Vec<Cell> {
    let keep = |cell: &Cell, level: usize| -> Cell {
        cell.iter()
            .filter(|(name, _)| {
                attributes
                    .iter()
                    .position(|a| a == *name)
                    .is_some_and(|i| i < level)
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    };
    let mut levels: Vec<usize> = vec![attributes.len(); cells.len()];
    loop {
        let stored: Vec<Cell> = cells
            .iter()
            .zip(&levels)
            .map(|((cell, _), &level)| keep(cell, level))
            .collect();
        let mut sizes: BTreeMap<&Cell, u64> = BTreeMap::new();
        for (cell, (_, n)) in stored.iter().zip(cells) {
            *sizes.entry(cell).or_default() += n;
        }
        // A group below k that can still grow: the finest first (so groups grow from the
        // bottom up, each merging with its nearest neighbours), then the smallest, then
        // by its values.
        let small = sizes
            .iter()
            .filter(|(_, &n)| !k.admits(n))
            .map(|(cell, &n)| {
                (
                    std::cmp::Reverse(level_of(attributes, cell)),
                    n,
                    (*cell).clone(),
                )
            })
            .filter(|(_, _, cell)| {
                // It can grow if it has a level left, or finer groups share its values.
                let level = level_of(attributes, cell);
                level > 0
                    || cells
                        .iter()
                        .zip(&levels)
                        .any(|((c, _), &l)| l > level && keep(c, level) == *cell)
            })
            .min();
        let Some((_, _, group)) = small else {
            return stored;
        };
        let level = level_of(attributes, &group);
        // Finer groups sharing its values: merge the smallest into it.
        let mut siblings: BTreeMap<&Cell, u64> = BTreeMap::new();
        for (i, (cell, _)) in cells.iter().enumerate() {
            if levels[i] > level && stored[i] != group && keep(cell, level) == group {
                siblings.insert(&stored[i], sizes[&stored[i]]);
            }
        }
        let sibling = siblings.iter().map(|(cell, &n)| (n, (*cell).clone())).min();
        let mut next = levels.clone();
        match sibling {
            Some((_, sibling)) => {
                for (i, stored_as) in stored.iter().enumerate() {
                    if *stored_as == sibling {
                        next[i] = level;
                    }
                }
            }
            None => {
                for (i, stored_as) in stored.iter().enumerate() {
                    if *stored_as == group {
                        next[i] = level.saturating_sub(1);
                    }
                }
            }
        }
        if next == levels {
            return stored; // cannot happen: the chosen group can grow
        }
        levels = next;
    }
}

/// How many leading attributes a stored cell keeps: one past the last attribute it has.
fn level_of(attributes: &[String], cell: &Cell) -> usize {
    attributes
        .iter()
        .rposition(|a| cell.contains_key(a))
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(pairs: &[(&str, &str)]) -> Cell {
        pairs
            .iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn small_cells_fall_into_coarser_groups_of_at_least_k() {
        let attributes = vec!["unit".to_string(), "region".to_string()];
        let k = Threshold::new(5).unwrap();
        let cells = vec![
            (cell(&[("unit", "A"), ("region", "EU")]), 12),
            (cell(&[("unit", "A"), ("region", "US")]), 2),
            (cell(&[("unit", "A"), ("region", "APAC")]), 1),
            (cell(&[("unit", "A")]), 2),
            (cell(&[("unit", "B"), ("region", "EU")]), 3),
            (cell(&[("unit", "C"), ("region", "EU")]), 1),
        ];
        let stored = response_cells(&attributes, &cells, k);
        assert_eq!(stored[0], cells[0].0, "big enough alone");
        // A/US, A/APAC and A without region: 5 together, as "A".
        // B (3) and C (1) are too small even as units, and 4 together: the smallest
        // group left ("A", 5) joins them in the whole wave's cell.
        for (i, stored) in stored.iter().enumerate().skip(1) {
            assert_eq!(*stored, cell(&[]), "{i}");
        }
        assert_every_group_has_k(&stored, &cells, k);
    }

    #[test]
    fn a_small_department_takes_its_unit_along() {
        // U2 · Audit (3) has no neighbour inside its department: as "U2" it would be alone
        // (U2 · Buying is stored finer), so U2 · Buying joins it as "U2".
        let attributes = vec!["unit".to_string(), "department".to_string()];
        let k = Threshold::new(5).unwrap();
        let cells = vec![
            (cell(&[("unit", "U1"), ("department", "Buying")]), 12),
            (cell(&[("unit", "U2"), ("department", "Buying")]), 12),
            (cell(&[("unit", "U2"), ("department", "Audit")]), 3),
        ];
        let stored = response_cells(&attributes, &cells, k);
        assert_eq!(stored[0], cells[0].0);
        assert_eq!(stored[1], cell(&[("unit", "U2")]));
        assert_eq!(stored[2], cell(&[("unit", "U2")]));
        assert_every_group_has_k(&stored, &cells, k);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Random organisations: every stored group has at least k invitees (unless the
        /// whole wave has fewer), and a cell is only ever stored with fewer of its own
        /// values, never with others.
        #[test]
        fn every_stored_group_has_k_invitees(
            raw in proptest::collection::vec((0u8..4, 0u8..5, 0u8..3, 1u64..9), 1..40),
            k in 3u32..=6,
        ) {
            let attributes = vec!["unit".to_string(), "department".to_string(), "region".to_string()];
            let k = Threshold::new(k).unwrap();
            let mut merged: BTreeMap<Cell, u64> = BTreeMap::new();
            for (u, d, r, n) in raw {
                let mut c = cell(&[("unit", &format!("u{u}")), ("department", &format!("d{d}"))]);
                if r > 0 {
                    c.insert("region".into(), format!("r{r}"));
                }
                *merged.entry(c).or_default() += n;
            }
            let cells: Vec<(Cell, u64)> = merged.into_iter().collect();
            let total: u64 = cells.iter().map(|(_, n)| n).sum();
            let stored = response_cells(&attributes, &cells, k);
            for (s, (c, _)) in stored.iter().zip(&cells) {
                proptest::prop_assert!(s.iter().all(|(a, v)| c.get(a) == Some(v)));
            }
            if k.admits(total) {
                let mut sizes: BTreeMap<&Cell, u64> = BTreeMap::new();
                for (c, (_, n)) in stored.iter().zip(&cells) {
                    *sizes.entry(c).or_default() += n;
                }
                proptest::prop_assert!(sizes.values().all(|&n| k.admits(n)), "{:?}", sizes);
            }
        }
    }

    fn assert_every_group_has_k(stored: &[Cell], cells: &[(Cell, u64)], k: Threshold) {
        let mut sizes: BTreeMap<&Cell, u64> = BTreeMap::new();
        for (c, (_, n)) in stored.iter().zip(cells) {
            *sizes.entry(c).or_default() += n;
        }
        assert!(sizes.values().all(|&n| k.admits(n)), "{sizes:?}");
    }
}
