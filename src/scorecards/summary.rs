//! The scorecards at a glance, for the home page: per business unit how many measures met,
//! almost met or missed their targets in the half-year the scorecards open on, and the
//! totals. Rendered by the self-contained partial `partials/scorecard_status`
//! (`{{> partials/scorecard_status scorecard_status}}` with this struct as
//! `scorecard_status`).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::card::{self, Scorecard};
use super::definition::ScorecardDefinition;
use super::period::HalfYear;
use super::status::Status;
use crate::db::DbConn;
use crate::services::results::ResultsCache;

#[derive(Debug, Clone, Serialize)]
pub struct ScorecardStatus {
    pub period: HalfYear,
    /// Units with most missed first, then most almost, then by name.
    pub units: Vec<UnitStatus>,
    pub totals: StatusCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitStatus {
    pub unit: String,
    /// The unit's scorecard page, e.g. `/admin/scorecards/R%26D?period=2027-H1`.
    pub href: String,
    pub counts: StatusCounts,
}

/// Measures per status. `hidden` are survey figures the release plan does not show for the
/// unit; `no_data` have no figure in the half-year; `no_target` a figure but no target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub met: usize,
    pub almost: usize,
    pub missed: usize,
    pub hidden: usize,
    pub no_data: usize,
    pub no_target: usize,
}

impl StatusCounts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Met => self.met += 1,
            Status::Almost => self.almost += 1,
            Status::Missed => self.missed += 1,
            Status::Hidden => self.hidden += 1,
            Status::NoData => self.no_data += 1,
            Status::NoTarget => self.no_target += 1,
        }
    }

    fn of(card: &Scorecard) -> Self {
        let mut counts = Self::default();
        for measure in &card.measures {
            counts.add(measure.status);
        }
        counts
    }
}

/// The status of every unit's scorecard in the half-year the scorecards open on (the one
/// of the survey's latest closed wave), from the same scorecards as the pages; only the
/// units of `scope` when given (a viewer's).
pub fn status_summary(
    conn: &mut DbConn,
    cache: &ResultsCache,
    definition: &ScorecardDefinition,
    scope: Option<&[String]>,
    now: NaiveDateTime,
) -> anyhow::Result<ScorecardStatus> {
    let period = card::default_period(conn, definition, now.date())?;
    let organisation = card::organisation(conn, cache, definition, period, now)?;
    let mut totals = StatusCounts::default();
    let mut units: Vec<UnitStatus> = organisation
        .units
        .iter()
        .filter(|c| scope.is_none_or(|units| units.contains(&c.unit)))
        .map(|c| {
            let counts = StatusCounts::of(c);
            for measure in &c.measures {
                totals.add(measure.status);
            }
            UnitStatus {
                href: format!(
                    "/admin/scorecards/{}?period={period}",
                    crate::views::scorecards::unit_path(&c.unit)
                ),
                unit: c.unit.clone(),
                counts,
            }
        })
        .collect();
    units.sort_by(|a, b| {
        (b.counts.missed, b.counts.almost)
            .cmp(&(a.counts.missed, a.counts.almost))
            .then_with(|| a.unit.cmp(&b.unit))
    });
    Ok(ScorecardStatus {
        period,
        units,
        totals,
    })
}
