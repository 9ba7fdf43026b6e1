//! The linear audit behind [`ReleasePlan`](super::ReleasePlan): can any combination of the
//! released counts give the number of respondents of a set of between 1 and k − 1 people?
//!
//! Every released group is a set of segment cells, so its count is the dot product of its
//! 0/1 indicator vector with the vector of cell counts. A set of cells `S` is *derivable*
//! when `1_S` is a linear combination of released indicators: then `|S|`, and every
//! figure of `S`, follows from released figures by the same combination. The audit looks
//! for a derivable `S` with `1 ≤ |S| ≤ k − 1`.
//!
//! Only cells with fewer than k respondents can be in such an `S`, so the audit brings the
//! released vectors to reduced row echelon form with the big cells' columns first: the
//! rows whose pivot lies among the small cells span exactly the derivable vectors that
//! vanish on every big cell. A 0/1 vector in that span is the sum of the rows whose pivot
//! it contains, so it is found by trying sets of at most k − 1 rows (each row puts a 1 on
//! its own pivot cell, which holds at least one respondent), row groups that share no cell
//! separately, with the pivot cells' respondents bounding the search.
//!
//! Arithmetic is modulo the prime p = 2⁶¹ − 1 rather than over the rationals (no growing
//! fractions). The two agree unless p divides a minor of the 0/1 matrix of released groups
//! (then a rational combination may be missed, or one found that exists only modulo p);
//! such a minor would be a multiple of a 61-bit prime, which the audit treats as
//! impossible. If a search runs out of steps (`BUDGET`), the audit says so instead of
//! answering, and the plan hides a group as if it had found a leak.

use super::Threshold;

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    // Both factors are below P < 2⁶¹, so the product fits in u128 and the rest in u64.
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

fn add(a: u64, b: u64) -> u64 {
    (a + b) % P
}

fn sub(a: u64, b: u64) -> u64 {
    (a + P - b) % P
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(P−2) is the inverse of a non-zero a modulo the prime P.
    let (mut base, mut exp, mut acc) = (a, P - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    acc
}

/// Brings `rows` to reduced row echelon form in place; returns the pivot column of each
/// leading row (the rows after them are zero).
fn rref(rows: &mut [Vec<u64>], columns: usize) -> Vec<usize> {
    let mut pivots = Vec::new();
    let mut r = 0;
    for c in 0..columns {
        if r == rows.len() {
            break;
        }
        let Some(p) = (r..rows.len()).find(|&i| rows[i][c] != 0) else {
            continue;
        };
        rows.swap(r, p);
        let inv = inverse(rows[r][c]);
        for x in rows[r].iter_mut() {
            *x = mul(*x, inv);
        }
        let pivot_row = rows[r].clone();
        for (i, row) in rows.iter_mut().enumerate() {
            if i != r && row[c] != 0 {
                let factor = row[c];
                for (x, &y) in row.iter_mut().zip(&pivot_row) {
                    if y != 0 {
                        *x = sub(*x, mul(factor, y));
                    }
                }
            }
        }
        pivots.push(c);
        r += 1;
    }
    pivots
}

/// The outcome of one audit.
#[derive(Debug)]
pub(super) enum Finding {
    /// No set of 1..k − 1 respondents is derivable.
    Clean,
    /// A set of 1..k − 1 respondents is derivable: `cells` (indices into the `cells`
    /// argument) make it up, and the released `groups` (indices into `released`) take part
    /// in one combination that gives it.
    Leak {
        // Read by the tests, which check the set against an independent attack.
        #[cfg_attr(not(test), allow(dead_code))]
        cells: Vec<usize>,
        groups: Vec<usize>,
    },
    /// The search ran out of steps before it could rule out such a set. These released
    /// groups take part in a combination of released counts that involves only small
    /// cells (the raw material of any leak); hiding one of them shrinks the search.
    Unproven { groups: Vec<usize> },
}

/// How many search steps one audit may take before giving up.
const BUDGET: u64 = 200_000;

/// Audits `released` (each a list of cell indices) over cells with counts `cells`.
pub(super) fn audit(released: &[Vec<usize>], cells: &[u64], k: Threshold) -> Finding {
    audit_with_budget(released, cells, k, BUDGET)
}

/// [`audit`] with a given number of search steps.
pub(super) fn audit_with_budget(
    released: &[Vec<usize>],
    cells: &[u64],
    k: Threshold,
    budget: u64,
) -> Finding {
    // Big cells first, then the small ones (1..k − 1); empty cells hold nobody.
    let mut big: Vec<usize> = Vec::new();
    let mut small: Vec<usize> = Vec::new();
    for (c, &n) in cells.iter().enumerate() {
        if k.isolates(n) {
            small.push(c);
        } else if n > 0 {
            big.push(c);
        }
    }
    if small.is_empty() || released.is_empty() {
        return Finding::Clean;
    }
    let order: Vec<usize> = big.iter().chain(&small).copied().collect();
    let mut column_of: Vec<Option<usize>> = vec![None; cells.len()];
    for (position, &c) in order.iter().enumerate() {
        column_of[c] = Some(position);
    }
    let columns = order.len();
    let mut rows: Vec<Vec<u64>> = released
        .iter()
        .map(|group| {
            let mut row = vec![0u64; columns];
            for &c in group {
                if let Some(Some(column)) = column_of.get(c) {
                    row[*column] = 1;
                }
            }
            row
        })
        .collect();
    let pivots = rref(&mut rows, columns);

    // The rows spanning the derivable vectors that vanish on every big cell, sparse, with
    // columns numbered among the small cells.
    let z: Vec<ZRow> = pivots
        .iter()
        .enumerate()
        .filter(|(_, &p)| p >= big.len())
        .map(|(i, &p)| ZRow {
            pivot: p - big.len(),
            entries: rows[i][big.len()..]
                .iter()
                .enumerate()
                .filter(|(_, &x)| x != 0)
                .map(|(c, &x)| (c, x))
                .collect(),
        })
        .collect();
    if z.is_empty() {
        return Finding::Clean;
    }
    let weights: Vec<u64> = small.iter().map(|&c| cells[c]).collect();
    let to_target = |entries: &mut dyn Iterator<Item = (usize, u64)>| {
        let mut target = vec![0u64; cells.len()];
        for (j, x) in entries {
            target[small[j]] = x;
        }
        target
    };
    let mut search = Search {
        z: &z,
        weights: &weights,
        k: u64::from(k.get()),
        steps: 0,
        budget,
        sum: vec![0; weights.len()],
        not_binary: 0,
        size: 0,
    };
    for component in components(&z, weights.len()) {
        match search.run(&component, 0, 0) {
            Step::Found => {
                let sum = std::mem::take(&mut search.sum);
                let set: Vec<usize> = sum
                    .iter()
                    .enumerate()
                    .filter(|(_, &x)| x == 1)
                    .map(|(j, _)| small[j])
                    .collect();
                let target = to_target(&mut sum.into_iter().enumerate());
                return Finding::Leak {
                    cells: set,
                    groups: combination(released, cells.len(), &target),
                };
            }
            Step::OutOfBudget => {
                let first = &z[component[0]];
                let target = to_target(&mut first.entries.iter().copied());
                return Finding::Unproven {
                    groups: combination(released, cells.len(), &target),
                };
            }
            Step::NotFound => {}
        }
    }
    Finding::Clean
}

/// A row of the reduced echelon form that is zero on every big cell.
struct ZRow {
    pivot: usize,
    entries: Vec<(usize, u64)>,
}

/// Groups of rows of `z` that share no non-zero column (searched independently: a
/// smallest derivable set lies within one group).
fn components(z: &[ZRow], width: usize) -> Vec<Vec<usize>> {
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..z.len()).collect();
    let mut owner: Vec<Option<usize>> = vec![None; width];
    for (i, row) in z.iter().enumerate() {
        for &(c, _) in &row.entries {
            match owner[c] {
                None => owner[c] = Some(i),
                Some(j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: Vec<Option<usize>> = vec![None; z.len()];
    for i in 0..z.len() {
        let root = find(&mut parent, i);
        let g = match group_of[root] {
            Some(g) => g,
            None => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        group_of[root] = Some(g);
        groups[g].push(i);
    }
    groups
}

enum Step {
    Found,
    NotFound,
    OutOfBudget,
}

/// Depth-first search over sets of rows, keeping their sum and how far it is from a 0/1
/// vector up to date as rows come and go.
struct Search<'a> {
    z: &'a [ZRow],
    weights: &'a [u64],
    k: u64,
    steps: u64,
    budget: u64,
    sum: Vec<u64>,
    /// Entries of `sum` that are neither 0 nor 1.
    not_binary: usize,
    /// Respondents in the cells where `sum` is 1.
    size: u64,
}

impl Search<'_> {
    fn apply(&mut self, row: usize, adding: bool) {
        for &(c, x) in &self.z[row].entries {
            let old = self.sum[c];
            let new = if adding { add(old, x) } else { sub(old, x) };
            self.not_binary = self.not_binary + usize::from(new > 1) - usize::from(old > 1);
            if old == 1 {
                self.size -= self.weights[c];
            }
            if new == 1 {
                self.size += self.weights[c];
            }
            self.sum[c] = new;
        }
    }

    /// Tries every set of rows of `component` from `start` on whose pivot cells hold fewer
    /// than k respondents together (each row puts a 1 on its own pivot cell, so that is a
    /// lower bound of the set's size).
    fn run(&mut self, component: &[usize], start: usize, pivot_weight: u64) -> Step {
        for position in start..component.len() {
            self.steps += 1;
            if self.steps > self.budget {
                return Step::OutOfBudget;
            }
            let row = component[position];
            let weight = pivot_weight + self.weights[self.z[row].pivot];
            if weight >= self.k {
                continue;
            }
            self.apply(row, true);
            if self.not_binary == 0 && self.size > 0 && self.size < self.k {
                return Step::Found;
            }
            match self.run(component, position + 1, weight) {
                Step::NotFound => {}
                other => return other,
            }
            self.apply(row, false);
        }
        Step::NotFound
    }
}

/// One combination of `released` groups giving `target`: the groups with a non-zero
/// coefficient in a solution of `Σ yᵢ·releasedᵢ = target`.
fn combination(released: &[Vec<usize>], cells: usize, target: &[u64]) -> Vec<usize> {
    // One row per cell: the released groups containing it, then the target's entry.
    let width = released.len() + 1;
    let mut rows = vec![vec![0u64; width]; cells];
    for (g, group) in released.iter().enumerate() {
        for &c in group {
            if let Some(row) = rows.get_mut(c) {
                row[g] = 1;
            }
        }
    }
    for (row, &t) in rows.iter_mut().zip(target) {
        row[released.len()] = t;
    }
    let pivots = rref(&mut rows, released.len());
    pivots
        .iter()
        .enumerate()
        .filter(|(i, _)| rows[*i][released.len()] != 0)
        .map(|(_, &g)| g)
        .collect()
}
