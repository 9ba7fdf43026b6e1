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

/// The home page's view of the results: per survey its latest closed wave, and the waves
/// open now.
#[derive(Debug, Clone)]
pub struct Home {
    pub surveys: Vec<SurveyLatest>,
    pub open_waves: Vec<OpenWave>,
}

/// A survey and the published results of its latest closed wave.
#[derive(Debug, Clone)]
pub struct SurveyLatest {
    pub slug: String,
    pub title: String,
    /// `None` while no wave of the survey has closed yet.
    pub latest: Option<std::sync::Arc<WaveResults>>,
}

/// A wave open now: its progress and how long it still runs.
#[derive(Debug, Clone)]
pub struct OpenWave {
    pub id: String,
    pub title: String,
    pub survey_title: String,
    pub closes_at: NaiveDateTime,
    pub invited: u64,
    pub responses: u64,
    /// Days until it closes, rounded up (1 on its last day; 0 once its time has come).
    pub days_left: i64,
}

/// What the home page shows of the results: one read of the wave list, then each
/// survey's latest closed snapshot (cached) and each open wave's counts.
pub fn home(
    conn: &mut DbConn,
    cache: &ResultsCache,
    now: NaiveDateTime,
) -> Result<Home, ResultsError> {
    let mut surveys: BTreeMap<(String, String), Option<std::sync::Arc<WaveResults>>> =
        BTreeMap::new();
    let mut open_waves = Vec::new();
    // Newest first: the first closed wave met is a survey's latest.
    for (wave, slug, title) in wave_rows::list(conn)? {
        let entry = surveys.entry((title.clone(), slug)).or_default();
        match wave.state() {
            WaveState::Closed if entry.is_none() => {
                *entry = Some(wave_results(conn, cache, &wave.id, now)?);
            }
            WaveState::Open => {
                let (invited, _) = invitations::counts(conn, &wave.id)?;
                let responses = respondents_count(conn, &wave.id, &wave.state)?;
                let seconds = (wave.closes_at - now).num_seconds().max(0);
                open_waves.push(OpenWave {
                    id: wave.id.clone(),
                    title: wave.title.clone(),
                    survey_title: title,
                    closes_at: wave.closes_at,
                    invited: u64::try_from(invited).unwrap_or(0),
                    responses,
                    days_left: (seconds + 86_399) / 86_400,
                });
            }
            _ => {}
        }
    }
    open_waves.sort_by_key(|a| a.closes_at);
    Ok(Home {
        surveys: surveys
            .into_iter()
            .map(|((title, slug), latest)| SurveyLatest {
                slug,
                title,
                latest,
            })
            .collect(),
        open_waves,
    })
}
