//! Pulse results per half-year, made only from the two quarters' *published* results: the
//! whole half-year and every group both quarters show, their NPS the quarters' NPS weighted
//! by their answers (the pulse survey's NPS question is required, so a group's answers to
//! it are its responses). A group a quarter hides is hidden for the half-year too — beside
//! the other quarter's published figure it would give the hidden quarter away. So the
//! half-year publishes nothing the quarters did not: no new release plan is needed.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::pulses as rows;
use crate::db::DbConn;
use crate::results::{wave_results, ResultsCache, ResultsError};
use crate::scorecards::period::HalfYear;

#[derive(Debug, Clone, Serialize)]
pub struct HalfYearPulse {
    pub period: String,
    /// The quarters released so far ("2027-Q1"), oldest first; the half-year's figures
    /// appear once both are.
    pub quarters: Vec<String>,
    pub complete: bool,
    pub whole: PulseGroup,
    pub groups: Vec<PulseGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PulseGroup {
    /// "business_unit", … ; empty for the whole half-year.
    pub attribute: String,
    pub value: String,
    /// NPS per released quarter, in points (`None`: hidden there).
    pub by_quarter: Vec<Option<f64>>,
    pub responses: u64,
    /// `None` while the half-year is not complete or a quarter hides the group.
    pub nps: Option<f64>,
}

/// Every half-year with a released pulse quarter, newest first.
pub fn half_years(
    conn: &mut DbConn,
    cache: &ResultsCache,
    now: NaiveDateTime,
) -> anyhow::Result<Vec<HalfYearPulse>> {
    let mut by_half: std::collections::BTreeMap<HalfYear, Vec<(String, String)>> =
        Default::default();
    for (period, wave) in rows::periods(conn)? {
        if wave.state().answers_released() {
            by_half
                .entry(HalfYear::of(period.starts_on))
                .or_default()
                .push((super::Quarter::of(period.starts_on).to_string(), wave.id));
        }
    }
    let mut out = Vec::new();
    for (half, mut quarters) in by_half.into_iter().rev() {
        quarters.sort();
        let mut results = Vec::with_capacity(quarters.len());
        for (_, wave_id) in &quarters {
            match wave_results(conn, cache, wave_id, now) {
                Ok(r) => results.push(r),
                Err(ResultsError::Unexpected(e)) => return Err(e),
                Err(other) => anyhow::bail!("pulse results of {wave_id}: {other}"),
            }
        }
        let complete = results.len() == 2;
        let whole = combine(
            String::new(),
            String::new(),
            results
                .iter()
                .map(|r| (r.nps.as_ref().map(|n| n.score), r.responses))
                .collect(),
            complete,
        );
        // The groups of the first quarter, in its order; a group missing from another
        // quarter counts as hidden there.
        let mut groups = Vec::new();
        if let Some(first) = results.first() {
            for breakdown in &first.segments {
                for group in &breakdown.groups {
                    let per_quarter = results
                        .iter()
                        .map(|r| {
                            r.segments
                                .iter()
                                .find(|s| s.attribute == breakdown.attribute)
                                .and_then(|s| s.groups.iter().find(|g| g.value == group.value))
                                .and_then(|g| g.figures.as_ref())
                                .map(|f| (f.nps, f.responses))
                                .unwrap_or((None, 0))
                        })
                        .collect();
                    groups.push(combine(
                        breakdown.attribute.clone(),
                        group.value.clone(),
                        per_quarter,
                        complete,
                    ));
                }
            }
        }
        out.push(HalfYearPulse {
            period: half.to_string(),
            quarters: quarters.into_iter().map(|(q, _)| q).collect(),
            complete,
            whole,
            groups,
        });
    }
    Ok(out)
}

/// One group over the quarters: (NPS, responses) each.
fn combine(
    attribute: String,
    value: String,
    quarters: Vec<(Option<f64>, u64)>,
    complete: bool,
) -> PulseGroup {
    let all_shown = quarters.iter().all(|(nps, _)| nps.is_some());
    let responses: u64 = quarters.iter().map(|(_, n)| n).sum();
    let nps = (complete && all_shown && responses > 0).then(|| {
        quarters
            .iter()
            .map(|(nps, n)| nps.unwrap_or(0.0) * *n as f64)
            .sum::<f64>()
            / responses as f64
    });
    PulseGroup {
        attribute,
        value,
        by_quarter: quarters.iter().map(|(nps, _)| *nps).collect(),
        responses: if all_shown { responses } else { 0 },
        nps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_year_is_the_quarters_weighted_and_hidden_with_either() {
        let shown = combine(
            "u".into(),
            "IT".into(),
            vec![(Some(10.0), 30), (Some(-20.0), 10)],
            true,
        );
        assert_eq!(shown.nps, Some((10.0 * 30.0 - 20.0 * 10.0) / 40.0));
        assert_eq!(shown.responses, 40);
        let hidden = combine(
            "u".into(),
            "IT".into(),
            vec![(Some(10.0), 30), (None, 0)],
            true,
        );
        assert_eq!((hidden.nps, hidden.responses), (None, 0));
        let half = combine("u".into(), "IT".into(), vec![(Some(10.0), 30)], false);
        assert_eq!(half.nps, None, "not before both quarters are released");
    }
}
