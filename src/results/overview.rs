//! Results across waves, for the pages that list them: the results index (every survey
//! with its waves, each with its response rate, NPS and CSAT) and the home page's view of
//! each survey (its latest closed wave). Every figure is read from the wave's published
//! results ([`super::wave_results`]: the snapshot of a closed wave, cached), so the lists
//! show exactly what the results pages show.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::model::{Change, WaveResults};
use super::store::ResultsCache;
use super::{respondents_count, wave_results, ResultsError};
use crate::db::models::{invitations, waves as wave_rows};
use crate::db::DbConn;
use crate::domain::wave::WaveState;

/// A survey and its waves, newest first.
#[derive(Debug, Clone)]
pub struct SurveyWaves {
    pub slug: String,
    pub title: String,
    pub waves: Vec<WaveSummary>,
}

/// One wave as a list shows it.
#[derive(Debug, Clone)]
pub struct WaveSummary {
    pub id: String,
    pub title: String,
    pub state: WaveState,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub invited: u64,
    pub responses: u64,
    pub response_rate: Option<f64>,
    /// The published NPS (points) and its change, once the answers are released.
    pub nps: Option<(f64, Option<Change>)>,
    /// The published CSAT (fraction) and its change.
    pub csat: Option<(f64, Option<Change>)>,
}

impl WaveSummary {
    /// Whether the wave has a results page ([`WaveState::has_results`]).
    pub fn has_results(&self) -> bool {
        self.state.has_results()
    }
}

/// Every survey with a wave, by title, each with its waves newest first.
pub fn surveys(
    conn: &mut DbConn,
    cache: &ResultsCache,
    now: NaiveDateTime,
) -> Result<Vec<SurveyWaves>, ResultsError> {
    let mut by_survey: BTreeMap<(String, String), Vec<WaveSummary>> = BTreeMap::new();
    for (wave, slug, title) in wave_rows::list(conn)? {
        let state = wave.state();
        let summary = if state.answers_released() {
            // Closed: its snapshot (cached); cancelled: what it has, computed once.
            let results = wave_results(conn, cache, &wave.id, now)?;
            summary_of(&results)
        } else {
            let (invited, _) = invitations::counts(conn, &wave.id)?;
            let invited = u64::try_from(invited).unwrap_or(0);
            let responses = respondents_count(conn, &wave.id, &wave.state)?;
            WaveSummary {
                id: wave.id.clone(),
                title: wave.title.clone(),
                state,
                opens_at: wave.opens_at,
                closes_at: wave.closes_at,
                invited,
                responses,
                response_rate: (invited > 0).then(|| responses as f64 / invited as f64),
                nps: None,
                csat: None,
            }
        };
        by_survey.entry((title, slug)).or_default().push(summary);
    }
    Ok(by_survey
        .into_iter()
        .map(|((title, slug), waves)| SurveyWaves { slug, title, waves })
        .collect())
}

/// A wave's summary from its published results.
pub fn summary_of(results: &WaveResults) -> WaveSummary {
    WaveSummary {
        id: results.wave.id.clone(),
        title: results.wave.title.clone(),
        state: results.wave.state,
        opens_at: results.wave.opens_at,
        closes_at: results.wave.closes_at,
        invited: results.invited,
        responses: results.responses,
        response_rate: results.response_rate,
        nps: results.nps.as_ref().map(|n| (n.score, n.change.clone())),
        csat: results.csat.as_ref().map(|c| (c.top2box, c.change.clone())),
    }
}
