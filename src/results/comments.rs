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
