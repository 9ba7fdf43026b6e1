//! TEMPORARY stand-in for the anonymity module (branch `anon`), so the results code
//! compiles on branch `results`. It implements only the subset of the expected API that
//! the results service calls — `Threshold`, `Visibility`, `suppress_breakdown`,
//! `check_filter`, `visible_comments` — with the same signatures and rules as the module
//! being written on `anon`. The lead replaces this file with the real module at merge
//! (delete this file; the real one lives in `src/anonymity/mod.rs`).

use std::fmt;

use rand::seq::SliceRandom;
use rand::Rng;

/// The anonymity threshold k of a wave (at least 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u32);

impl Threshold {
    pub const MIN: u32 = 3;
    pub const DEFAULT: Threshold = Threshold(5);

    pub fn new(k: u32) -> Result<Self, ThresholdError> {
        if k < Self::MIN {
            return Err(ThresholdError(i64::from(k)));
        }
        Ok(Self(k))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    fn admits(self, n: u64) -> bool {
        n >= u64::from(self.0)
    }

    fn isolates(self, n: u64) -> bool {
        n > 0 && n < u64::from(self.0)
    }
}

impl TryFrom<i32> for Threshold {
    type Error = ThresholdError;

    fn try_from(k: i32) -> Result<Self, Self::Error> {
        match u32::try_from(k) {
            Ok(k) => Threshold::new(k),
            Err(_) => Err(ThresholdError(i64::from(k))),
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the anonymity threshold must be at least 3, not {0}")]
pub struct ThresholdError(pub i64);

/// Whether a group's figures may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Shown,
    Hidden,
}

impl Visibility {
    pub fn is_shown(&self) -> bool {
        matches!(self, Visibility::Shown)
    }
}

/// Groups below k are hidden; when the hidden mass (plus a remainder below k) is between 1
/// and k − 1, the smallest shown group is hidden too (complementary suppression).
pub fn suppress_breakdown<G: Ord + Clone>(
    groups: &[(G, u64)],
    parent_n: u64,
    k: Threshold,
) -> Vec<(G, Visibility)> {
    let listed: u64 = groups.iter().map(|(_, n)| *n).sum();
    let Some(remainder) = parent_n.checked_sub(listed) else {
        return groups
            .iter()
            .map(|(g, _)| (g.clone(), Visibility::Hidden))
            .collect();
    };
    let mut shown: Vec<bool> = groups.iter().map(|(_, n)| k.admits(*n)).collect();
    let mut hidden_mass = if k.admits(remainder) { 0 } else { remainder };
    hidden_mass += groups
        .iter()
        .zip(&shown)
        .filter(|(_, s)| !**s)
        .map(|((_, n), _)| *n)
        .sum::<u64>();
    if k.isolates(hidden_mass) {
        let smallest = groups
            .iter()
            .enumerate()
            .filter(|(i, _)| shown[*i])
            .min_by(|(_, (ga, na)), (_, (gb, nb))| (na, ga).cmp(&(nb, gb)))
            .map(|(i, _)| i);
        if let Some(i) = smallest {
            shown[i] = false;
        }
    }
    groups
        .iter()
        .zip(shown)
        .map(|((g, _), s)| {
            (
                g.clone(),
                if s {
                    Visibility::Shown
                } else {
                    Visibility::Hidden
                },
            )
        })
        .collect()
}

/// A refused filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("This filter would single out fewer than {k} people, so its results are not shown.")]
pub struct FilterRefusal {
    pub k: Threshold,
}

/// May a filter of `filter_n` respondents inside `parent_n` be shown?
pub fn check_filter(filter_n: u64, parent_n: u64, k: Threshold) -> Result<(), FilterRefusal> {
    match parent_n.checked_sub(filter_n) {
        Some(left_out) if k.admits(filter_n) && !k.isolates(left_out) => Ok(()),
        _ => Err(FilterRefusal { k }),
    }
}

/// The comments of a group in random order, or `None` below k respondents.
pub fn visible_comments<T, R: Rng + ?Sized>(
    mut comments: Vec<T>,
    group_n: u64,
    k: Threshold,
    rng: &mut R,
) -> Option<Vec<T>> {
    if !k.admits(group_n) {
        return None;
    }
    comments.shuffle(rng);
    Some(comments)
}
