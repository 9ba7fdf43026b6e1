//! The home page's view model (`/admin`, for leads and admins): per survey the latest
//! closed wave's NPS and CSAT with their change and trend, its response rate and top three
//! pain points with their change; the waves open now with their progress and days left;
//! for admins, the directory's health. Further sections (actions due, scorecard statuses)
//! are added to [`HomePage::sections`]: each names a partial under `templates/partials/home/`
//! and carries its own data, and the page renders them in order after the results.

use serde::Serialize;
use serde_json::Value;

use crate::charts;
use crate::results::overview::{Home, OpenWave, SurveyLatest};
use crate::results::WaveResults;
use crate::services::stakeholders::directory::Health;
use crate::views::figures::{change_view, pct, ChangeView, Measure};

#[derive(Debug, Serialize)]
pub struct HomePage {
    pub surveys: Vec<SurveyCard>,
    pub open_waves: Vec<OpenWaveRow>,
    /// The directory's health; admins only (`null` for leads).
    pub directory: Option<Health>,
    /// Sections after the results, each rendered by its own partial (see the module doc).
    pub sections: Vec<HomeSection>,
}

/// A section of the home page contributed by another part of the product.
#[derive(Debug, Serialize)]
pub struct HomeSection {
    /// The partial that renders it, e.g. `partials/home/actions_due`.
    pub partial: &'static str,
    /// Its heading.
    pub title: String,
    /// What the partial reads (as `data`).
    pub data: Value,
}

#[derive(Debug, Serialize)]
pub struct SurveyCard {
    pub title: String,
    pub slug: String,
    /// `null` while no wave of the survey has closed.
    pub wave: Option<LatestWave>,
}

#[derive(Debug, Serialize)]
pub struct LatestWave {
    pub id: String,
    pub title: String,
    pub closed_on: String,
    pub response_rate: Option<String>,
    pub responses: u64,
    pub invited: u64,
    /// False when fewer than k answered: no figure at all.
    pub shown: bool,
    pub k: u32,
    pub nps: Option<Headline>,
    pub csat: Option<Headline>,
    pub pain_points: Vec<PainPointLine>,
}

/// A headline figure: its value, change and trend.
#[derive(Debug, Serialize)]
pub struct Headline {
    pub value: String,
    pub change: Option<ChangeView>,
    pub since: Option<String>,
    pub sparkline: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PainPointLine {
    pub label: String,
    pub share: String,
    pub change: Option<ChangeView>,
}

#[derive(Debug, Serialize)]
pub struct OpenWaveRow {
    pub id: String,
    pub title: String,
    pub survey_title: String,
    pub closes_on: String,
    pub invited: u64,
    pub responses: u64,
    pub response_rate: Option<String>,
    /// 0–100, for the progress bar.
    pub percent: u64,
    pub days_left: String,
}

impl HomePage {
    pub fn new(home: &Home, directory: Option<Health>) -> Self {
        HomePage {
            surveys: home.surveys.iter().map(survey_card).collect(),
            open_waves: home.open_waves.iter().map(open_wave_row).collect(),
            directory,
            sections: Vec::new(),
        }
    }
}

fn survey_card(survey: &SurveyLatest) -> SurveyCard {
    SurveyCard {
        title: survey.title.clone(),
        slug: survey.slug.clone(),
        wave: survey.latest.as_deref().map(latest_wave),
    }
}

fn latest_wave(results: &WaveResults) -> LatestWave {
    let since = results.previous_wave.as_ref().map(|p| p.title.clone());
    let series = |pick: &dyn Fn(&crate::results::TrendFigures) -> Option<f64>| -> Vec<Option<f64>> {
        results
            .trend
            .iter()
            .map(|p| p.figures.as_ref().and_then(pick))
            .collect()
    };
    let nps = results.nps.as_ref().map(|n| Headline {
        value: Measure::Nps.value(n.score),
        change: change_view(n.change.as_ref(), Measure::Nps),
        since: since.clone(),
        sparkline: charts::sparkline_svg(
            &series(&|f| f.nps),
            true,
            &format!("NPS of {}, wave by wave", results.wave.survey_title),
        ),
    });
    let csat = results.csat.as_ref().map(|c| Headline {
        value: pct(c.top2box),
        change: change_view(c.change.as_ref(), Measure::Share),
        since: since.clone(),
        sparkline: charts::sparkline_svg(
            &series(&|f| f.csat.map(|c| 100.0 * c)),
            false,
            &format!("CSAT of {}, wave by wave", results.wave.survey_title),
        ),
    });
    let mut options: Vec<_> = results
        .pain_points
        .first()
        .map(|q| q.stages.iter().flat_map(|s| &s.options).collect())
        .unwrap_or_default();
    options.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    LatestWave {
        id: results.wave.id.clone(),
        title: results.wave.title.clone(),
        closed_on: results
            .wave
            .closed_at
            .unwrap_or(results.wave.closes_at)
            .format("%Y-%m-%d")
            .to_string(),
        response_rate: results.response_rate.map(pct),
        responses: results.responses,
        invited: results.invited,
        shown: results.shown,
        k: results.anonymity_k,
        nps,
        csat,
        pain_points: options
            .into_iter()
            .filter(|o| o.count > 0)
            .take(3)
            .map(|o| PainPointLine {
                label: o.label.clone(),
                share: pct(o.share),
                change: change_view(o.change.as_ref(), Measure::PainPoint),
            })
            .collect(),
    }
}

fn open_wave_row(wave: &OpenWave) -> OpenWaveRow {
    let rate = (wave.invited > 0).then(|| wave.responses as f64 / wave.invited as f64);
    OpenWaveRow {
        id: wave.id.clone(),
        title: wave.title.clone(),
        survey_title: wave.survey_title.clone(),
        closes_on: wave.closes_at.format("%Y-%m-%d").to_string(),
        invited: wave.invited,
        responses: wave.responses,
        response_rate: rate.map(pct),
        percent: rate.map_or(0, |r| (100.0 * r).round() as u64),
        days_left: match wave.days_left {
            0 => "closing now".into(),
            1 => "1 day left".into(),
            n => format!("{n} days left"),
        },
    }
}
