//! Response cells: the finest groups answers are stored by. A response is stored with the
//! segment values of its invitation, but only down to a group of at least k invitees, so
//! that someone holding a copy of the database — who knows every invitee's segment from the
//! invitations — finds at least k people who could have written each response.

use std::collections::BTreeMap;

use super::Threshold;

/// A cell: attribute → value.
pub type Cell = BTreeMap<String, String>;

/// For each cell (with its number of invitees), the cell its responses are stored under:
/// the cell itself when at least k invitees share it, otherwise the same cell without its
/// last attribute (in `attributes` order), and so on, until the group it falls into has at
/// least k invitees or no attribute is left. Cells that end up equal are one group.
///
/// A group only grows when cells fall into it, and a cell leaves a group only when the
/// whole group is below k, so the result is stable: every group has at least k invitees,
/// except the empty cell when the whole wave has fewer.
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
        let mut changed = false;
        let mut next = levels.clone();
        for (i, cell) in stored.iter().enumerate() {
            let small = !k.admits(sizes.get(cell).copied().unwrap_or(0));
            if small && levels[i] > 0 {
                next[i] -= 1;
                changed = true;
            }
        }
        if !changed {
            return stored;
        }
        levels = next;
    }
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
        // A/US, A/APAC and A without region: 5 together.
        assert_eq!(stored[1], cell(&[("unit", "A")]));
        assert_eq!(stored[2], cell(&[("unit", "A")]));
        assert_eq!(stored[3], cell(&[("unit", "A")]));
        // B (3) and C (1) are too small even as units: the whole wave.
        assert_eq!(stored[4], cell(&[]));
        assert_eq!(stored[5], cell(&[]));
        let mut sizes: BTreeMap<&Cell, u64> = BTreeMap::new();
        for (c, (_, n)) in stored.iter().zip(&cells) {
            *sizes.entry(c).or_default() += n;
        }
        // The empty cell holds 4 < k only because the whole of B and C has 4.
        assert!(sizes.iter().all(|(c, &n)| k.admits(n) || c.is_empty()));
    }
}
