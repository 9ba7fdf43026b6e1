//! Results: every figure the results pages, the exports (CSV, XLSX), the JSON API,
//! `pulse results`, the home page, actions and scorecards show about a wave — published
//! through the wave's release plan, and from nowhere else. The steps, one file each:
//!
//! ```text
//! cell_counts ──counts──▶ dense counts per segment cell (Layout, one read of a row per cell)
//!               ──plans───▶ release plans: respondents + one audited plan per question
//!               ──figures─▶ the scope's figures and every breakdown group's (pure, stats)
//!   earlier waves' published results ──changes──▶ changes, BH significance, trends
//!               ──model───▶ WaveResults (the API contract: page, CSV, XLSX, JSON, CLI)
//!               ──store───▶ cache (live results until the next response) + snapshots
//! overview ──▶ the results index and the home page (latest closed wave per survey)
//! two waves' published results ──mirror──▶ the customer-of-choice mirror of a half-year
//! a wave's published results + directory importance ──map──▶ the stakeholder map
//! ```
//!
//! **Input.** ONE read per wave: its `cell_counts` rows (per segment cell, how many respondents
//! gave each value to each question, packed), plus the invitations per cell (for
//! response rates) and the comments with their response's NPS answer. The counts are laid
//! out per cell as dense vectors and rolled up in Rust to the whole wave and to each
//! segment value; `crate::stats` turns the rolled-up counts into figures.
//!
//! **Anonymity.** Every figure about a group goes through `crate::anonymity`: a wave with
//! fewer than k respondents has no answer figures at all (only invited / responses, which
//! the wave page shows anyway). The segment groups are decided by one
//! [`ReleasePlan`](crate::anonymity::ReleasePlan) over the wave's cells — every breakdown at
//! once, so no difference between breakdowns isolates anyone; inside a shown group, a
//! figure whose own count (NPS answers, answers per dimension) differs from the group's
//! respondents is suppressed again over those counts. A hidden group carries no number
//! (`figures: None`); comments are released by `visible_comments` (shuffled, a random
//! sample of at most [`COMMENT_SAMPLE`] per question) for the whole wave only. Changes and
//! trends are computed from the published results of this and earlier waves only
//! (`changes.rs`): a group hidden in either of two waves has no change between them.
//!
//! **Open waves show participation only.** Answer figures appear once a wave is closed (or
//! cancelled): two readings of an open wave a response apart differ by exactly that
//! response, whatever the threshold, and stepping the figures in blocks of k would still
//! leave the last block to be read off the final results. Invited / responses / response
//! rates (overall and per segment, under the plan) are live. Which waves have results at
//! all, and when answers are released, is [`WaveState`]'s to say.
//!
//! **Changes and significance.** Each figure — of the whole wave (or filter) and of every
//! shown group — is compared with the previous wave of the same survey (independent
//! samples): NPS by the adjusted-Wald z test, means by Welch's t test, CSAT and pain-point
//! shares by the two-proportion z test. A change is flagged significant only when its
//! Benjamini–Hochberg adjusted p-value over all tests of the page is ≤ [`Q`] AND it reaches
//! the minimum effect ([`MIN_NPS_POINTS`], [`MIN_MEAN_CHANGE`], [`MIN_SHARE_POINTS`]).
//!
//! **Caching and snapshots.** [`wave_results`] serves open (and cancelled) waves from a
//! [`ResultsCache`] keyed by (wave, respondents): the next response changes the key, so the
//! next read recomputes. This is correct across several `pulse serve` processes sharing a
//! database. A closed wave reads its snapshot (`result_snapshots`, a versioned format of
//! its own: [`store`]), written by [`freeze`] inside `services::waves::close_wave`'s
//! transaction together with one per filter the plan allows. Reading never writes: a
//! closed wave without a snapshot (its freezing failed) is computed from what is left, and
//! frozen by the storage upgrade at the next `pulse serve` / `pulse migrate`.

mod changes;
mod comments;
mod counts;
mod figures;
pub mod map;
pub mod mirror;
pub mod model;
pub mod overview;
mod plans;
pub mod store;

use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDateTime;

use crate::anonymity::Threshold;
use crate::db::models::results as rows;
use crate::db::models::waves::{self as wave_rows, WaveRow, WaveWithSurvey};
use crate::db::DbConn;
use crate::domain::definition::{Question, SurveyDefinition};
pub use crate::domain::wave::WaveState;

use comments::comments;
use counts::{count, ratio, read_cells, CellsRead, Layout};
use figures::{answers_released, figures, figures_of, Figures};
use plans::Plans;
use store::Entry;

pub use comments::{comments_page, CommentsPage, COMMENTS_PER_PAGE, COMMENT_SAMPLE};
pub use model::*;
pub use store::ResultsCache;

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("no wave with id {0} (see `pulse wave list`)")]
    NotFound(String),
    /// A filter that cannot be shown (anonymity, or the wave is still open).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for ResultsError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

/// The results of a wave: a closed wave's snapshot, or an open (or cancelled) wave's live
/// results, cached until its next response. Scheduled waves have no responses and get
/// empty results.
pub fn wave_results(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<Arc<WaveResults>, ResultsError> {
    if let Some(Entry::Frozen(results)) = cache.get(wave_id) {
        return Ok(results);
    }
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ResultsError::NotFound(wave_id.to_string()))?;
    let state = wave.wave.state();
    if state == WaveState::Closed {
        if let Some(results) = store::read_snapshot(conn, wave_id)? {
            let results = Arc::new(results);
            cache.put(wave_id, Entry::Frozen(results.clone()));
            return Ok(results);
        }
    }
    let respondents = count(rows::respondents(conn, wave_id)?);
    if let Some(Entry::Live {
        respondents: cached,
        results,
    }) = cache.get(wave_id)
    {
        if cached == respondents && results.wave.state == state {
            return Ok(results);
        }
    }
    let results = Arc::new(compute(conn, cache, &wave, now)?);
    cache.put(
        wave_id,
        Entry::Live {
            respondents: results.responses,
            results: results.clone(),
        },
    );
    Ok(results)
}

/// The results of the respondents in one segment group of a closed (or cancelled) wave,
/// with the group's changes and trend: refused while the wave is open, and for any group
/// the wave's release plan hides or whose complement is too small. Cached for good (the
/// counts no longer change).
pub fn filtered_results(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    filter: &SegmentFilter,
    now: NaiveDateTime,
) -> Result<Arc<WaveResults>, ResultsError> {
    let key = format!("{wave_id}\n{filter}");
    if let Some(Entry::Frozen(results)) = cache.get(&key) {
        return Ok(results);
    }
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ResultsError::NotFound(wave_id.to_string()))?;
    if !answers_released(&wave.wave) {
        return Err(ResultsError::Refused(
            "Filters are available once the wave has closed: while it is open, only participation is shown.".into(),
        ));
    }
    if wave.wave.state() == WaveState::Closed {
        // Frozen at closing for every filter the plan allows; the counts behind them are
        // gone, so a filter without a snapshot is one the plan refuses.
        if let Some(results) = store::read_filter_snapshot(conn, wave_id, filter)? {
            let results = Arc::new(results);
            cache.put(&key, Entry::Frozen(results.clone()));
            return Ok(results);
        }
    }
    let results = Arc::new(compute_filtered(conn, cache, &wave, filter, now)?);
    cache.put(&key, Entry::Frozen(results.clone()));
    Ok(results)
}

/// The results of one filter, computed from the wave's counts.
fn compute_filtered(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveWithSurvey,
    filter: &SegmentFilter,
    now: NaiveDateTime,
) -> Result<WaveResults, ResultsError> {
    let definition = parse_definition(wave)?;
    let k = threshold(&wave.wave)?;
    let layout = Layout::new(&definition);
    let read = read_cells(conn, &wave.wave, &layout)?;
    let mut results = filtered_from(wave, &definition, &layout, k, read, None, filter, now)?;
    let history = changes::history(conn, cache, wave, Some(filter), now)?;
    changes::apply(&mut results, &history);
    Ok(results)
}

/// The figures of one filter from a wave's cells, with the wave's plans when known (no
/// changes yet).
#[allow(clippy::too_many_arguments)]
fn filtered_from(
    wave: &WaveWithSurvey,
    definition: &SurveyDefinition,
    layout: &Layout,
    k: Threshold,
    read: CellsRead,
    plans: Option<&Plans>,
    filter: &SegmentFilter,
    now: NaiveDateTime,
) -> Result<WaveResults, ResultsError> {
    let figures = figures_of(definition, layout, k, read, true, true, Some(filter), plans)
        .map_err(|refusal| ResultsError::Refused(refusal.to_string()))?;
    let mut results = assemble(wave, figures, now, None);
    results.filter = Some(filter.clone());
    results.frozen = wave.wave.state() == WaveState::Closed;
    Ok(results)
}

/// Respondents of a wave: from the snapshot once it is closed (its responses are gone
/// then), else counted. `state` is the stored word (`waves.state`).
pub fn respondents_count(conn: &mut DbConn, wave_id: &str, state: &str) -> anyhow::Result<u64> {
    if WaveState::parse(state) == Some(WaveState::Closed) {
        if let Some(responses) = store::snapshot_responses(conn, wave_id)? {
            return Ok(responses);
        }
    }
    Ok(count(rows::respondents(conn, wave_id)?))
}

/// Computes and stores the snapshot of a wave that has just closed. Called inside
/// `close_wave`'s transaction, after the wave was marked closed (no answer can be added any
/// more), so the snapshot holds exactly the answers the wave closed with. Does nothing if
/// the wave has a snapshot already.
/// The results of every filter the release plan allows are frozen too (the counts they
/// come from are deleted by [`compact`]).
pub fn freeze(conn: &mut DbConn, wave_id: &str, now: NaiveDateTime) -> anyhow::Result<()> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .with_context(|| format!("no wave {wave_id}"))?;
    // Earlier waves are read through a cache of this freeze alone.
    let cache = ResultsCache::default();
    if !store::has_snapshot(conn, wave_id)? {
        let mut results = compute(conn, &cache, &wave, now)?;
        results.frozen = true;
        store::write_snapshot(conn, wave_id, &results, now)?;
    }
    if crate::db::models::responses::has_answers(conn, wave_id)? {
        freeze_filters(conn, &cache, &wave, now)?;
    }
    Ok(())
}

/// After [`freeze`]: deletes everything of a closed wave finer than what can be published
/// — the comments are kept without any cell (`wave_comments`), its answers, responses,
/// counts and marks are deleted
/// ([`responses::compact_wave`](crate::services::responses::compact_wave)). Does nothing
/// when done already.
pub fn compact(conn: &mut DbConn, wave_id: &str) -> anyhow::Result<()> {
    if !crate::db::models::responses::has_answers(conn, wave_id)? {
        return Ok(());
    }
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .with_context(|| format!("no wave {wave_id}"))?;
    let definition = parse_definition(&wave)?;
    let nps_key = definition.nps_key();
    let text_keys: Vec<String> = definition
        .questions
        .iter()
        .filter(|q| matches!(q, Question::Text(_)))
        .map(|q| q.key().to_string())
        .collect();
    crate::services::responses::compact_wave(conn, wave_id, nps_key, &text_keys)?;
    Ok(())
}

/// Freezes the results of every filter the wave's release plan allows, each with the
/// group's changes and trend against the same group in earlier waves.
fn freeze_filters(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveWithSurvey,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let definition = parse_definition(wave)?;
    let k = threshold(&wave.wave)?;
    let layout = Layout::new(&definition);
    let read = read_cells(conn, &wave.wave, &layout)?;
    // One read and one set of plans for every filter.
    let plans = Plans::new(&definition, &layout, &read, k, true);
    let plan = &plans.plan;
    for attribute in &definition.segments {
        for value in plan.values(attribute) {
            if plan.filter(attribute, value).is_err() {
                continue;
            }
            let filter = SegmentFilter {
                attribute: attribute.clone(),
                value: value.clone(),
            };
            let mut results = match filtered_from(
                wave,
                &definition,
                &layout,
                k,
                read.clone(),
                Some(&plans),
                &filter,
                now,
            ) {
                Ok(results) => results,
                Err(ResultsError::Refused(_)) => continue,
                Err(error) => return Err(anyhow::anyhow!("{error:#}")),
            };
            let history = changes::history(conn, cache, wave, Some(&filter), now)
                .map_err(|error| anyhow::anyhow!("{error:#}"))?;
            changes::apply(&mut results, &history);
            store::write_filter_snapshot(conn, &wave.wave.id, &filter, &results, now)?;
        }
    }
    Ok(())
}

fn parse_definition(wave: &WaveWithSurvey) -> anyhow::Result<SurveyDefinition> {
    serde_json::from_str(&wave.definition).with_context(|| {
        format!(
            "the pinned definition of wave {} does not parse",
            wave.wave.id
        )
    })
}

fn threshold(wave: &WaveRow) -> anyhow::Result<Threshold> {
    Threshold::try_from(wave.anonymity_k).map_err(|e| anyhow::anyhow!("wave {}: {e}", wave.id))
}

/// The whole wave's results from its counts, with comments, changes and trend.
fn compute(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave: &WaveWithSurvey,
    now: NaiveDateTime,
) -> Result<WaveResults, ResultsError> {
    let definition = parse_definition(wave)?;
    let k = threshold(&wave.wave)?;
    let layout = Layout::new(&definition);
    let figures = figures(conn, &wave.wave, &definition, &layout, k, true)?;
    let comments = if figures.shown && figures.answers_released {
        comments(conn, &wave.wave, &definition, &layout, &figures.total, k)?
    } else {
        None
    };
    let mut results = assemble(wave, figures, now, comments);
    let history = changes::history(conn, cache, wave, None, now)?;
    changes::apply(&mut results, &history);
    Ok(results)
}

/// One [`WaveResults`] from a wave's figures, before changes and trend are known.
fn assemble(
    wave: &WaveWithSurvey,
    figures: Figures,
    now: NaiveDateTime,
    comments: Option<Comments>,
) -> WaveResults {
    WaveResults {
        wave: WaveInfo {
            id: wave.wave.id.clone(),
            title: wave.wave.title.clone(),
            state: wave.wave.state(),
            survey_slug: wave.survey_slug.clone(),
            survey_title: wave.survey_title.clone(),
            survey_version: wave.survey_version,
            opens_at: wave.wave.opens_at,
            closes_at: wave.wave.closes_at,
            closed_at: wave.wave.closed_at,
        },
        computed_at: now,
        frozen: false,
        filter: None,
        anonymity_k: figures.k,
        invited: figures.invited,
        responses: figures.responses,
        response_rate: ratio(figures.responses, figures.invited),
        shown: figures.shown,
        answers_released: figures.answers_released,
        previous_wave: None,
        nps: figures.nps,
        nps_hidden: figures.nps_hidden,
        csat: figures.csat,
        csat_hidden: figures.csat_hidden,
        dimensions: figures.dimensions,
        pain_points: figures.pain_points,
        choices: figures.choices,
        segments: figures.segments,
        trend: Vec::new(),
        comments,
        significance: SignificanceRule::new(0, 0),
    }
}
