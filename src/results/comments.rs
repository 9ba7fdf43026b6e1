//! Comments of the whole wave: a random sample per text question, shuffled, with each
//! response's NPS category where every category has k or none.

use crate::anonymity::{self, Threshold};
use crate::db::models::results as rows;
use crate::db::models::waves::WaveRow;
use crate::db::DbConn;
use crate::domain::definition::{Question, SurveyDefinition};
use crate::services::responses::ANSWERED_VALUE;

use super::counts::{Counts, Layout};
use super::model::*;

/// Comments read per text question at most: a random sample when a wave has more (the
/// page shows 100 at a time; the sample keeps a 1,000,000-response wave cheap).
pub const COMMENT_SAMPLE: usize = 500;

pub(super) fn comments(
    conn: &mut DbConn,
    wave: &WaveRow,
    definition: &SurveyDefinition,
    layout: &Layout,
    total: &Counts,
    k: Threshold,
) -> anyhow::Result<Option<Comments>> {
    let text_keys: Vec<String> = definition
        .questions
        .iter()
        .filter(|q| matches!(q, Question::Text(_)))
        .map(|q| q.key().to_string())
        .collect();
    if text_keys.is_empty() {
        return Ok(None);
    }
    let respondents = total.respondents(layout);
    // Without an NPS question the join matches nothing: every category is null.
    let nps_key = layout.nps.as_ref().map_or("", |n| n.key.as_str());
    let start = uuid::Uuid::new_v4().to_string();
    let mut items: Vec<Comment> = Vec::new();
    let mut all = 0u64;
    for key in &text_keys {
        all += layout
            .find(key, ANSWERED_VALUE)
            .map_or(0, |slot| total.0[slot]);
        let sample = rows::comment_sample(conn, &wave.id, key, nps_key, &start, COMMENT_SAMPLE)?;
        items.extend(
            sample
                .into_iter()
                .filter(|(text, _)| !text.trim().is_empty())
                .map(|(text, answer)| Comment {
                    question: key.clone(),
                    text,
                    category: answer.and_then(NpsCategory::of),
                }),
        );
    }
    // Comments cover the whole wave: shown only when the wave itself is.
    let visibility = if k.admits(respondents) {
        anonymity::Visibility::Shown
    } else {
        anonymity::Visibility::Hidden {
            reason: anonymity::HiddenReason::TooFew,
        }
    };
    let Some(mut items) =
        anonymity::visible_comments(items, visibility, respondents, k, &mut rand::thread_rng())
    else {
        return Ok(None);
    };
    // Filtering by promoter/passive/detractor is a group of its own: offered only when no
    // category has 1..k−1 comments (otherwise "all minus the others" would isolate it).
    let per_category =
        |c: NpsCategory| items.iter().filter(|i| i.category == Some(c)).count() as u64;
    let categories = [
        NpsCategory::Promoter,
        NpsCategory::Passive,
        NpsCategory::Detractor,
    ];
    if categories.iter().any(|&c| k.isolates(per_category(c))) {
        for item in &mut items {
            item.category = None;
        }
    }
    let of = |c: NpsCategory| items.iter().filter(|i| i.category == Some(c)).count() as u64;
    Ok(Some(Comments {
        total: all.max(items.len() as u64),
        promoters: of(NpsCategory::Promoter),
        passives: of(NpsCategory::Passive),
        detractors: of(NpsCategory::Detractor),
        items,
    }))
}

/// Comments a page shows at a time.
pub const COMMENTS_PER_PAGE: usize = 25;

/// One page of the comments a results page may show — all of them, paged, in a stable
/// random order — and the counts of the categories it may filter by.
#[derive(Debug, Clone)]
pub struct CommentsPage {
    /// Comments matching the filter (all of them without one).
    pub matching: u64,
    /// All comments of the wave.
    pub total: u64,
    /// Promoters, passives, detractors: offered only when every category has k comments
    /// or none (otherwise "all minus the others" would isolate a small one).
    pub categories: Option<[u64; 3]>,
    /// The category the page is filtered by, if it may be.
    pub category: Option<NpsCategory>,
    pub items: Vec<Comment>,
    /// 1-based.
    pub page: usize,
    pub pages: usize,
}

fn range_of(category: NpsCategory) -> (i32, i32) {
    match category {
        NpsCategory::Detractor => (0, 6),
        NpsCategory::Passive => (7, 8),
        NpsCategory::Promoter => (9, 10),
    }
}

/// The comments of a wave's results page (`None` when the results show none: fewer than
/// k respondents, a filtered view, an open wave). A closed wave's comments are read from
/// what it kept (`wave_comments`: every comment, without any cell); otherwise from the
/// results themselves.
pub fn comments_page(
    conn: &mut DbConn,
    results: &WaveResults,
    category: Option<NpsCategory>,
    page: usize,
) -> anyhow::Result<Option<CommentsPage>> {
    let Some(published) = results.comments.as_ref() else {
        return Ok(None);
    };
    let k = u64::from(results.anonymity_k);
    let allowed = |counts: [u64; 3]| counts.iter().all(|&n| n == 0 || n >= k);
    let page = page.max(1);
    let per_page = COMMENTS_PER_PAGE;
    let kept = if results.wave.state == crate::domain::wave::WaveState::Closed {
        rows::wave_comment_counts(conn, &results.wave.id)?
    } else {
        Vec::new()
    };
    if !kept.is_empty() {
        let mut counts = [0u64; 3];
        let mut total = 0u64;
        for (answer, n) in &kept {
            let n = u64::try_from(*n).unwrap_or(0);
            total += n;
            match answer.and_then(NpsCategory::of) {
                Some(NpsCategory::Promoter) => counts[0] += n,
                Some(NpsCategory::Passive) => counts[1] += n,
                Some(NpsCategory::Detractor) => counts[2] += n,
                None => {}
            }
        }
        // Categories as the published results offered them, checked again over all kept.
        let offered = published.items.iter().any(|i| i.category.is_some()) && allowed(counts);
        let categories = offered.then_some(counts);
        // A category asked for where none may be told apart matches nothing.
        let matching = match (category, offered) {
            (Some(_), false) => 0,
            (Some(NpsCategory::Promoter), true) => counts[0],
            (Some(NpsCategory::Passive), true) => counts[1],
            (Some(NpsCategory::Detractor), true) => counts[2],
            (None, _) => total,
        };
        let pages = (matching as usize).div_ceil(per_page).max(1);
        let page = page.min(pages);
        let offset = i64::try_from((page - 1) * per_page).unwrap_or(0);
        let items = if matching == 0 {
            Vec::new()
        } else {
            rows::wave_comment_page(
                conn,
                &results.wave.id,
                category.map(range_of),
                offset,
                i64::try_from(per_page).unwrap_or(25),
            )?
        }
        .into_iter()
        .filter(|(_, text, _)| !text.trim().is_empty())
        .map(|(question, text, answer)| Comment {
            question,
            text,
            category: answer.and_then(NpsCategory::of).filter(|_| offered),
        })
        .collect();
        return Ok(Some(CommentsPage {
            matching,
            total,
            categories,
            category,
            items,
            page,
            pages,
        }));
    }
    // Not closed (a cancelled wave): the comments the results carry.
    let offered = published.items.iter().any(|i| i.category.is_some());
    let counts = [
        published.promoters,
        published.passives,
        published.detractors,
    ];
    let matching: Vec<&Comment> = published
        .items
        .iter()
        .filter(|i| category.is_none() || i.category == category)
        .collect();
    let pages = matching.len().div_ceil(per_page).max(1);
    let page = page.min(pages);
    Ok(Some(CommentsPage {
        matching: matching.len() as u64,
        total: published.items.len() as u64,
        categories: offered.then_some(counts),
        category,
        items: matching
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .cloned()
            .collect(),
        page,
        pages,
    }))
}
