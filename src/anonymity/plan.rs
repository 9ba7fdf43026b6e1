//! [`ReleasePlan`]: the rules applied to every group a wave's results can show, at once.
//!
//! [`suppress_breakdown`](super::suppress_breakdown) and [`check_filter`](super::check_filter)
//! look at one breakdown or one filter, but a reader sees all of them: the filter
//! "business unit = Ops" releases the very group the breakdown by business unit hid to
//! protect Sales; "region = EMEA, by business unit" next to "by business unit" gives, by
//! subtraction, R&D outside EMEA; when every Lab person is in R&D, "R&D" minus "Lab" is
//! the rest of R&D. The plan decides every group of the supported queries together, from
//! the snapshot's cell counts alone, so every output path gets the same answer for the
//! same group, whatever order it asks in.
//!
//! # Groups and families
//!
//! With attributes `A, B, …` (the survey's `segments`), the groups are:
//!
//! * the whole wave `W`;
//! * **marginal** groups `A = a`, one per value found in the cells: the breakdown of the
//!   whole wave by `A`, and the filter `A = a`;
//! * **cross** groups `A = a ∧ B = b`: the breakdown by `B` inside the filter `A = a`, and
//!   equally by `A` inside `B = b` (one group, decided once). A cross group is shown only
//!   when both of its marginal groups are.
//!
//! A *family* is a set of disjoint groups: the marginal groups of one attribute, or the
//! cross groups of one pair of attributes. Containment is judged on the cells that have
//! respondents, as if the reader knew which combinations are empty (an org chart tells
//! them that Lab is part of R&D).
//!
//! # Deciding
//!
//! 1. Every group with fewer than k respondents is hidden, with the cross groups of every
//!    hidden marginal group.
//! 2. For every shown group `X` and every family, the groups of the family inside `X` are
//!    a breakdown of `X`: rule 2 (complementary suppression, the same code as
//!    `suppress_breakdown`) hides the smallest shown one when the hidden ones plus a small
//!    remainder add up to 1..k − 1. A newly hidden group re-checks the breakdowns it is
//!    part of, until none needs more.
//! 3. The linear audit (`audit.rs`) looks at everything still shown. If some combination
//!    of those counts gives a set of 1..k − 1 respondents (or the search runs out of
//!    steps), the smallest group taking part in one such combination — a cross group if
//!    any does, never the whole wave — is hidden, step 2 runs again, and so on until the
//!    audit finds nothing.
//!
//! Hiding only ever removes information, and each round hides at least one group, so this
//! ends. The outcome depends only on the cell counts (every choice is by size, then by a
//! fixed group order).
//!
//! Cost: finding containments takes `O(G² · C / 64)` for G groups and C non-empty cells;
//! each audit round a row reduction of the shown groups over the cells, `O(G · C ·
//! min(G, C))`, plus a search bounded by a step budget. Measured in a debug build for
//! 2 000 respondents with four attributes (8, 5, 24 and 4 values, ≈ 540 groups): 0.2 s at
//! k = 3, 0.4 s at k = 5, 1.4 s at k = 10, 3 s at k = 20 (the `report` test in
//! `attack_tests.rs` prints these). Build it once per snapshot, not per request.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::audit;
use super::{
    check_filter, piece_to_hide, FilterRefusal, FilterRefusalKind, HiddenReason, Threshold,
    Visibility,
};

/// The population a breakdown is taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole wave.
    Wave,
    /// The respondents whose `attribute` is `value` (a filter).
    Filter { attribute: &'a str, value: &'a str },
}

/// Which groups of a wave may be shown, decided once for every supported query. See the
/// module docs of [`crate::anonymity`] for how pages use it.
#[derive(Debug, Clone)]
pub struct ReleasePlan {
    k: Threshold,
    attributes: Vec<String>,
    /// Per attribute, its values in sorted order.
    values: Vec<Vec<String>>,
    groups: Vec<Group>,
    /// `marginal[attribute][value]` → group index.
    marginal: Vec<Vec<usize>>,
    /// `(a, value of a, b, value of b)` with `a < b` → group index.
    cross: BTreeMap<(usize, usize, usize, usize), usize>,
}

#[derive(Debug, Clone)]
struct Group {
    n: u64,
    visibility: Visibility,
}

/// One (group, family) pair of the rule in the module docs.
struct Line {
    parent: usize,
    pieces: Vec<usize>,
    remainder: u64,
}

/// A set of non-empty cells.
#[derive(Debug, Clone)]
struct Cells(Vec<u64>);

impl Cells {
    fn empty(len: usize) -> Self {
        Cells(vec![0; len.div_ceil(64)])
    }

    /// How many cells the set could hold (a multiple of 64).
    fn len(&self) -> usize {
        self.0.len() * 64
    }

    fn insert(&mut self, cell: usize) {
        self.0[cell / 64] |= 1 << (cell % 64);
    }

    fn ones(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (w, &word) in self.0.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                let bit = rest.trailing_zeros() as usize;
                out.push(w * 64 + bit);
                rest &= rest - 1;
            }
        }
        out
    }
}

/// A wave's segment cells with each attribute's value as an index into that attribute's
/// values (sorted): what a [`ReleasePlan`] is decided over. Built once per wave, it serves
/// the respondents' plan and every figure's ([`ReleasePlan::indexed`],
/// [`ReleasePlan::for_figure_indexed`]) without comparing strings again.
#[derive(Debug, Clone)]
pub struct CellIndex {
    attributes: Vec<String>,
    /// Per attribute, the values found in the cells, sorted.
    values: Vec<Vec<String>>,
    /// Per cell, the index of its value of each attribute (`None`: it has none).
    keys: Vec<Vec<Option<usize>>>,
}

impl CellIndex {
    /// Indexes `cells` (attribute → value; attributes not in `attributes` are ignored).
    pub fn new<'a, I>(attributes: &[String], cells: I) -> Self
    where
        I: IntoIterator<Item = &'a BTreeMap<String, String>>,
        I::IntoIter: Clone,
    {
        let mut names: Vec<String> = Vec::new();
        for name in attributes {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        let cells = cells.into_iter();
        let values: Vec<Vec<String>> = names
            .iter()
            .map(|name| {
                let seen: BTreeSet<&String> =
                    cells.clone().filter_map(|cell| cell.get(name)).collect();
                seen.into_iter().cloned().collect()
            })
            .collect();
        let keys = cells
            .map(|cell| {
                names
                    .iter()
                    .zip(&values)
                    .map(|(name, vals)| cell.get(name).and_then(|v| vals.binary_search(v).ok()))
                    .collect()
            })
            .collect();
        CellIndex {
            attributes: names,
            values,
            keys,
        }
    }
}

impl ReleasePlan {
    /// Builds the plan for a wave.
    ///
    /// `attributes` are the segment attributes the results report by; `cells` are the
    /// wave's segment cells (attribute → value, a missing attribute simply absent) with
    /// their number of **responses**. Pass every cell of the wave's invitations, with 0
    /// where nobody answered, so that values without responses are listed (and hidden)
    /// rather than missing. Repeated cells are added up; attributes not in `attributes`
    /// are ignored.
    pub fn new<I>(attributes: &[String], cells: I, k: Threshold) -> Self
    where
        I: IntoIterator<Item = (BTreeMap<String, String>, u64)>,
    {
        let (cells, counts): (Vec<BTreeMap<String, String>>, Vec<u64>) = cells.into_iter().unzip();
        Self::indexed(&CellIndex::new(attributes, &cells), &counts, k)
    }

    /// [`ReleasePlan::new`] for cells indexed once: `counts[i]` is the number of
    /// respondents of the index's cell `i`.
    pub fn indexed(index: &CellIndex, counts: &[u64], k: Threshold) -> Self {
        Self::decide(index, counts, k, true)
    }

    /// [`ReleasePlan::indexed`]; with `shortcut`, a wave whose every cell has 0 or at least
    /// k respondents skips rules 2 and 3, which cannot hide anything there (see below).
    fn decide(index: &CellIndex, counts: &[u64], k: Threshold, shortcut: bool) -> Self {
        // Counts of repeated cells added up, cells in the order of their keys.
        let mut by_key: BTreeMap<&[Option<usize>], u64> = BTreeMap::new();
        for (key, n) in index.keys.iter().zip(counts) {
            // Respondent counts are far below u64::MAX; saturating keeps this total.
            let entry = by_key.entry(key).or_insert(0);
            *entry = entry.saturating_add(*n);
        }
        let nonempty: Vec<(&[Option<usize>], u64)> =
            by_key.into_iter().filter(|(_, n)| *n > 0).collect();
        let attribute_names = index.attributes.clone();
        let values = index.values.clone();

        let mut plan = ReleasePlan {
            k,
            attributes: attribute_names,
            values,
            groups: Vec::new(),
            marginal: Vec::new(),
            cross: BTreeMap::new(),
        };
        // Every group's index first (whole wave, marginal, cross), then its cells in one
        // pass over the cells: each cell belongs to the wave, to one marginal group per
        // attribute it has, and to one cross group per pair of them.
        let mut families: Vec<Vec<usize>> = Vec::new();
        let mut family_of: Vec<Option<usize>> = vec![None];
        let mut next = 1;
        for a in 0..plan.attributes.len() {
            let ids: Vec<usize> = (next..next + plan.values[a].len()).collect();
            next += ids.len();
            family_of.extend(std::iter::repeat_n(Some(families.len()), ids.len()));
            families.push(ids.clone());
            plan.marginal.push(ids);
        }
        for a in 0..plan.attributes.len() {
            for b in a + 1..plan.attributes.len() {
                let mut ids = Vec::new();
                for v in 0..plan.values[a].len() {
                    for w in 0..plan.values[b].len() {
                        plan.cross.insert((a, v, b, w), next);
                        ids.push(next);
                        next += 1;
                    }
                }
                family_of.extend(std::iter::repeat_n(Some(families.len()), ids.len()));
                families.push(ids);
            }
        }
        let mut members: Vec<Cells> = vec![Cells::empty(nonempty.len()); next];
        let mut sizes: Vec<u64> = vec![0; next];
        let mut cross_ids: Vec<usize> = Vec::new();
        for (i, (key, count)) in nonempty.iter().enumerate() {
            let mut of_cell = vec![0];
            for (a, value) in key.iter().enumerate() {
                if let Some(v) = value {
                    of_cell.push(plan.marginal[a][*v]);
                }
            }
            cross_ids.clear();
            for (a, value) in key.iter().enumerate() {
                let Some(v) = value else { continue };
                for (b, other) in key.iter().enumerate().skip(a + 1) {
                    if let Some(w) = other {
                        if let Some(&id) = plan.cross.get(&(a, *v, b, *w)) {
                            cross_ids.push(id);
                        }
                    }
                }
            }
            for &g in of_cell.iter().chain(&cross_ids) {
                members[g].insert(i);
                sizes[g] = sizes[g].saturating_add(*count);
            }
        }
        plan.groups = sizes
            .into_iter()
            .map(|n| Group {
                n,
                visibility: if k.admits(n) {
                    Visibility::Shown
                } else {
                    Visibility::Hidden {
                        reason: HiddenReason::TooFew,
                    }
                },
            })
            .collect();

        // Every group is a union of cells. When no cell holds 1..k − 1 respondents, every
        // group, every remainder of a breakdown and every derivable set of cells holds 0 or
        // at least k: rule 1 hides exactly the empty groups, rule 2 finds no breakdown
        // whose hidden part adds up to 1..k − 1, and the audit no small set. The plan is
        // decided by rule 1 alone (the `large_cells_need_only_rule_one` test checks that the
        // full procedure agrees).
        if shortcut && nonempty.iter().all(|(_, n)| !k.isolates(*n)) {
            return plan;
        }
        let cell_counts: Vec<u64> = nonempty.iter().map(|(_, n)| *n).collect();
        let mut decider = Decider::new(&plan, &members, &families, &family_of);
        decider.run(&mut plan.groups);
        plan.audit(&mut decider, &members, &cell_counts);
        plan
    }

    /// Runs the linear audit until it finds nothing: each leak hides the smallest group
    /// taking part in it (a cross group if there is one), then the rule runs again.
    fn audit(&mut self, decider: &mut Decider, members: &[Cells], cell_counts: &[u64]) {
        let cross: BTreeSet<usize> = self.cross.values().copied().collect();
        loop {
            let released: Vec<usize> = (0..self.groups.len())
                .filter(|&g| self.groups[g].visibility.is_shown())
                .collect();
            let cells: Vec<Vec<usize>> = released.iter().map(|&g| members[g].ones()).collect();
            let used = match audit::audit(&cells, cell_counts, self.k) {
                audit::Finding::Clean => return,
                audit::Finding::Leak { groups, .. } | audit::Finding::Unproven { groups } => groups,
            };
            let used: Vec<usize> = used.iter().map(|&i| released[i]).collect();
            let pick = |want_cross: bool| {
                used.iter()
                    .copied()
                    .filter(|&g| g != 0 && cross.contains(&g) == want_cross)
                    .min_by_key(|&g| (self.groups[g].n, g))
            };
            let to_hide: Vec<usize> = match pick(true).or_else(|| pick(false)) {
                Some(g) => vec![g],
                // Cannot happen (the whole wave alone derives only itself, k or more
                // people); hide everything else rather than loop.
                None => released.iter().copied().filter(|&g| g != 0).collect(),
            };
            if to_hide.is_empty() {
                return;
            }
            for g in to_hide {
                decider.hide(g);
            }
            decider.run(&mut self.groups);
        }
    }

    /// The plan of one figure whose own count per cell differs from the respondents (the
    /// answers to one question: skipped, optional and "not applicable" answers are not
    /// among them). `cells` are the same cells this plan was built from (0 included), each
    /// with the figure's count.
    ///
    /// The figure's own plan is decided and audited over its own counts, and then every
    /// group this plan hides is hidden in it too. A subset of groups that passes the audit
    /// passes it as well (fewer released counts, fewer combinations), so the figure may be
    /// shown exactly where the returned plan shows a group: no combination of its published
    /// (n, sum) pairs isolates the answers of 1..k − 1 people. Cells that do not match this
    /// plan's hide everything.
    pub fn for_figure<I>(&self, cells: I) -> ReleasePlan
    where
        I: IntoIterator<Item = (BTreeMap<String, String>, u64)>,
    {
        let (cells, counts): (Vec<BTreeMap<String, String>>, Vec<u64>) = cells.into_iter().unzip();
        self.for_figure_indexed(&CellIndex::new(&self.attributes, &cells), &counts)
    }

    /// [`ReleasePlan::for_figure`] over cells indexed once (`counts[i]`: the figure's count
    /// in the index's cell `i`).
    pub fn for_figure_indexed(&self, index: &CellIndex, counts: &[u64]) -> ReleasePlan {
        let mut plan = ReleasePlan::indexed(index, counts, self.k);
        if plan.values != self.values || plan.groups.len() != self.groups.len() {
            for group in &mut plan.groups {
                group.visibility = Visibility::Hidden {
                    reason: HiddenReason::InconsistentCounts,
                };
            }
            return plan;
        }
        for (figure, group) in plan.groups.iter_mut().zip(&self.groups) {
            if !group.visibility.is_shown() {
                figure.visibility = group.visibility;
            }
        }
        plan
    }

    /// The visibility of the group `attribute = value` (its row in the breakdown of the
    /// whole wave, and the group of the filter). Unknown groups are hidden as too few.
    pub fn marginal(&self, attribute: &str, value: &str) -> Visibility {
        self.attribute_index(attribute)
            .and_then(|a| Some(self.marginal[a][self.value_index(a, value)?]))
            .map_or(
                Visibility::Hidden {
                    reason: HiddenReason::TooFew,
                },
                |g| self.groups[g].visibility,
            )
    }

    /// The threshold the plan was built with.
    pub fn k(&self) -> Threshold {
        self.k
    }

    /// The values of `attribute` in the cells, sorted; empty for an unknown attribute.
    pub fn values(&self, attribute: &str) -> &[String] {
        match self.attribute_index(attribute) {
            Some(a) => &self.values[a],
            None => &[],
        }
    }

    /// Whether the whole wave's figures may be shown (at least k respondents).
    pub fn total(&self) -> Visibility {
        self.groups[0].visibility
    }

    /// Rule 3 for the filter `attribute = value`: allowed only when that group is shown in
    /// the breakdown of the whole wave by `attribute` (so at least k respondents, at least
    /// k or none left out, and not hidden to protect another group).
    pub fn filter(&self, attribute: &str, value: &str) -> Result<(), FilterRefusal> {
        let refuse = |kind| Err(FilterRefusal { kind, k: self.k });
        let Some(group) = self
            .attribute_index(attribute)
            .and_then(|a| Some(self.marginal[a][self.value_index(a, value)?]))
        else {
            return refuse(FilterRefusalKind::TooFew);
        };
        let group = &self.groups[group];
        match group.visibility {
            Visibility::Shown => check_filter(group.n, self.groups[0].n, self.k),
            Visibility::Hidden { reason } => refuse(match reason {
                HiddenReason::TooFew => FilterRefusalKind::TooFew,
                HiddenReason::ProtectsAnotherGroup => FilterRefusalKind::HiddenInBreakdown,
                HiddenReason::InconsistentCounts => FilterRefusalKind::InconsistentCounts,
            }),
        }
    }

    /// The breakdown of `scope` by `attribute`: every value of the attribute, in sorted
    /// order, with its visibility. A refused filter gives its [`FilterRefusal`]; an unknown
    /// attribute gives no groups.
    pub fn breakdown(
        &self,
        scope: Scope<'_>,
        attribute: &str,
    ) -> Result<Vec<(String, Visibility)>, FilterRefusal> {
        let Some(b) = self.attribute_index(attribute) else {
            return Ok(Vec::new());
        };
        let visibility_of = |group: usize| self.groups[group].visibility;
        let too_few = Visibility::Hidden {
            reason: HiddenReason::TooFew,
        };
        let groups = match scope {
            Scope::Wave => self.values[b]
                .iter()
                .zip(&self.marginal[b])
                .map(|(value, &g)| (value.clone(), visibility_of(g)))
                .collect(),
            Scope::Filter {
                attribute: filter_attribute,
                value: filter_value,
            } => {
                self.filter(filter_attribute, filter_value)?;
                let (Some(a), Some(v)) = (
                    self.attribute_index(filter_attribute),
                    self.attribute_index(filter_attribute)
                        .and_then(|a| self.value_index(a, filter_value)),
                ) else {
                    // Unreachable: `filter` refuses unknown attributes and values.
                    return Err(FilterRefusal {
                        kind: FilterRefusalKind::TooFew,
                        k: self.k,
                    });
                };
                self.values[b]
                    .iter()
                    .enumerate()
                    .map(|(w, value)| {
                        let visibility = if a == b {
                            // Breaking a filter down by its own attribute: the filter's
                            // group is the filter itself, the others are empty.
                            if w == v {
                                Visibility::Shown
                            } else {
                                too_few
                            }
                        } else {
                            let key = if a < b { (a, v, b, w) } else { (b, w, a, v) };
                            self.cross.get(&key).map_or(too_few, |&g| visibility_of(g))
                        };
                        (value.clone(), visibility)
                    })
                    .collect()
            }
        };
        Ok(groups)
    }

    fn attribute_index(&self, attribute: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a == attribute)
    }

    fn value_index(&self, attribute: usize, value: &str) -> Option<usize> {
        self.values[attribute]
            .binary_search_by(|v| v.as_str().cmp(value))
            .ok()
    }
}

/// The rule of the module docs, run to its fixed point; kept between runs so the audit
/// can hide more groups and run it again.
struct Decider {
    k: Threshold,
    lines: Vec<Line>,
    lines_by_piece: Vec<Vec<usize>>,
    /// Cross groups of each marginal group, hidden with it.
    cross_of: Vec<Vec<usize>>,
    queue: VecDeque<usize>,
    queued: Vec<bool>,
    to_hide: Vec<usize>,
}

impl Decider {
    fn new(
        plan: &ReleasePlan,
        members: &[Cells],
        families: &[Vec<usize>],
        family_of: &[Option<usize>],
    ) -> Self {
        let groups = &plan.groups;
        let count = groups.len();
        // A group of a family lies inside a parent when all its cells do: count, per
        // group, its cells inside the parent (each cell is in one group per family).
        let cells = members.first().map_or(0, |m| m.len());
        let mut owner: Vec<Vec<Option<usize>>> = vec![vec![None; cells]; families.len()];
        let mut size: Vec<usize> = vec![0; count];
        for (f, family) in families.iter().enumerate() {
            for &y in family {
                let ones = members[y].ones();
                size[y] = ones.len();
                for c in ones {
                    owner[f][c] = Some(y);
                }
            }
        }
        let mut inside: Vec<usize> = vec![0; count];
        let mut lines: Vec<Line> = Vec::new();
        let mut lines_by_piece: Vec<Vec<usize>> = vec![Vec::new(); count];
        for parent in 0..count {
            let parent_n = groups[parent].n;
            if parent_n == 0 {
                continue;
            }
            let parent_cells = members[parent].ones();
            for (f, family) in families.iter().enumerate() {
                if family_of[parent] == Some(f) {
                    continue; // the other groups of its own family are disjoint from it
                }
                for &c in &parent_cells {
                    if let Some(y) = owner[f][c] {
                        inside[y] += 1;
                    }
                }
                let pieces: Vec<usize> = family
                    .iter()
                    .copied()
                    .filter(|&y| {
                        let n = groups[y].n;
                        n > 0 && n <= parent_n && inside[y] == size[y]
                    })
                    .collect();
                for &y in family {
                    inside[y] = 0;
                }
                if pieces.is_empty() {
                    continue;
                }
                // Pieces are disjoint subsets of the parent, so they add up to at most it.
                let covered: u64 = pieces.iter().map(|&y| groups[y].n).sum();
                let line = lines.len();
                for &y in &pieces {
                    lines_by_piece[y].push(line);
                }
                lines.push(Line {
                    parent,
                    pieces,
                    remainder: parent_n.saturating_sub(covered),
                });
            }
        }
        let mut cross_of: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (&(a, v, b, w), &id) in &plan.cross {
            cross_of[plan.marginal[a][v]].push(id);
            cross_of[plan.marginal[b][w]].push(id);
        }
        // Groups hidden from the start take their cross groups with them.
        let to_hide = (0..count)
            .filter(|&g| !groups[g].visibility.is_shown())
            .flat_map(|g| cross_of[g].iter().copied())
            .collect();
        Decider {
            k: plan.k,
            queue: (0..lines.len()).collect(),
            queued: vec![true; lines.len()],
            lines,
            lines_by_piece,
            cross_of,
            to_hide,
        }
    }

    /// Schedules `group` to be hidden by the next [`Decider::run`].
    fn hide(&mut self, group: usize) {
        self.to_hide.push(group);
    }

    /// Hides what is scheduled, then checks lines until none is violated.
    fn run(&mut self, groups: &mut [Group]) {
        loop {
            while let Some(g) = self.to_hide.pop() {
                if !groups[g].visibility.is_shown() {
                    continue;
                }
                groups[g].visibility = Visibility::Hidden {
                    reason: HiddenReason::ProtectsAnotherGroup,
                };
                self.to_hide.extend(self.cross_of[g].iter().copied());
                for &line in &self.lines_by_piece[g] {
                    if !self.queued[line] {
                        self.queued[line] = true;
                        self.queue.push_back(line);
                    }
                }
            }
            let Some(line) = self.queue.pop_front() else {
                return;
            };
            self.queued[line] = false;
            if let Some(g) = self.violation(groups, line) {
                self.to_hide.push(g);
            }
        }
    }

    /// The piece a line requires hiding, if the line is violated. Only shown parents
    /// have lines to keep: a hidden group releases nothing to subtract from.
    fn violation(&self, groups: &[Group], line: usize) -> Option<usize> {
        let line = &self.lines[line];
        if !groups[line.parent].visibility.is_shown() {
            return None;
        }
        let pieces = line.pieces.iter().map(|&y| {
            let group = &groups[y];
            (group.n, group.visibility.is_shown(), y)
        });
        piece_to_hide(pieces, line.remainder, self.k)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// Waves whose cells all hold 0 or at least k respondents: rule 1 alone decides the
    /// same as the full procedure (rules 2 and 3), so the shortcut changes nothing.
    #[test]
    fn large_cells_need_only_rule_one() {
        let attributes: Vec<String> = ["unit", "team", "region", "level"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        let mut rng = StdRng::seed_from_u64(7);
        for round in 0..200 {
            let k = Threshold::new(rng.gen_range(3..=10)).unwrap();
            let mut cells: Vec<BTreeMap<String, String>> = Vec::new();
            let mut counts: Vec<u64> = Vec::new();
            for _ in 0..rng.gen_range(1..40) {
                let unit = rng.gen_range(0..3);
                let mut cell = BTreeMap::new();
                cell.insert("unit".to_string(), format!("u{unit}"));
                // Teams nest in units; some cells have no region (coarsened).
                cell.insert(
                    "team".to_string(),
                    format!("u{unit}/t{}", rng.gen_range(0..3)),
                );
                if rng.gen_bool(0.8) {
                    cell.insert("region".to_string(), format!("r{}", rng.gen_range(0..3)));
                }
                cell.insert("level".to_string(), format!("l{}", rng.gen_range(0..2)));
                cells.push(cell);
                let n = if rng.gen_bool(0.2) {
                    0
                } else {
                    rng.gen_range(u64::from(k.get())..60)
                };
                counts.push(n);
            }
            let index = CellIndex::new(&attributes, &cells);
            let fast = ReleasePlan::decide(&index, &counts, k, true);
            let full = ReleasePlan::decide(&index, &counts, k, false);
            assert_eq!(
                format!("{:?}", fast.groups),
                format!("{:?}", full.groups),
                "round {round}"
            );
        }
    }
}
