//! The results index: every survey with its waves, each with its response rate, NPS and
//! CSAT.

use super::*;

#[derive(Debug, Serialize)]
pub struct IndexPage {
    pub surveys: Vec<IndexSurvey>,
}

#[derive(Debug, Serialize)]
pub struct IndexSurvey {
    pub title: String,
    pub slug: String,
    pub waves: Vec<IndexWave>,
}

#[derive(Debug, Serialize)]
pub struct IndexWave {
    pub id: String,
    pub title: String,
    pub state: &'static str,
    pub opens_at: String,
    pub closes_at: String,
    pub invited: u64,
    pub responded: u64,
    pub response_rate: Option<String>,
    pub nps: Option<String>,
    pub nps_change: Option<ChangeView>,
    pub csat: Option<String>,
    pub csat_change: Option<ChangeView>,
    pub has_results: bool,
}

/// The results index: every survey with its waves, each with response rate, NPS and CSAT.
pub fn index_page(surveys: &[SurveyWaves]) -> IndexPage {
    IndexPage {
        surveys: surveys
            .iter()
            .map(|survey| IndexSurvey {
                title: survey.title.clone(),
                slug: survey.slug.clone(),
                waves: survey
                    .waves
                    .iter()
                    .map(|w| IndexWave {
                        id: w.id.clone(),
                        title: w.title.clone(),
                        state: w.state.as_str(),
                        opens_at: w.opens_at.format("%Y-%m-%d").to_string(),
                        closes_at: w.closes_at.format("%Y-%m-%d").to_string(),
                        invited: w.invited,
                        responded: w.responses,
                        response_rate: w.response_rate.map(pct),
                        nps: w.nps.as_ref().map(|(v, _)| points(*v)),
                        nps_change: w
                            .nps
                            .as_ref()
                            .and_then(|(_, c)| change_view(c.as_ref(), Measure::Nps)),
                        csat: w.csat.as_ref().map(|(v, _)| pct(*v)),
                        csat_change: w
                            .csat
                            .as_ref()
                            .and_then(|(_, c)| change_view(c.as_ref(), Measure::Share)),
                        has_results: w.has_results(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
