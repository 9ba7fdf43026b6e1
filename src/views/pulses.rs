//! The pulses page's view model (`templates/pages/admin/pulses.html.hbs`).

use serde::Serialize;

use crate::domain::schedule::{to_local, Tz};
use crate::pulse::half_year::{HalfYearPulse, PulseGroup};
use crate::pulse::overview::PulseOverview;
use crate::pulse::settings::SettingsProblem;
use crate::pulse::PulseSettings;

#[derive(Debug, Serialize)]
pub struct PulsesPage {
    pub notice: Option<String>,
    pub is_admin: bool,
    pub enabled: bool,
    /// The form's values: the stored settings, or what was typed when it was refused.
    pub form: PulseSettings,
    /// Field → what is wrong with it.
    pub errors: std::collections::BTreeMap<&'static str, String>,
    pub waiting: i64,
    pub invited: i64,
    pub skipped: i64,
    pub reasons: Vec<ReasonRow>,
    pub periods: Vec<PeriodRow>,
    pub half_years: Vec<HalfYearTable>,
}

/// One half-year's pulse NPS: the whole and each group, per quarter and together.
#[derive(Debug, Serialize)]
pub struct HalfYearTable {
    pub period: String,
    pub quarters: Vec<String>,
    pub complete: bool,
    pub rows: Vec<HalfYearRow>,
}

#[derive(Debug, Serialize)]
pub struct HalfYearRow {
    pub group: String,
    pub by_quarter: Vec<String>,
    pub half_year: String,
    pub responses: u64,
}

/// An NPS in points as the page writes it, or why there is none.
fn nps_text(nps: Option<f64>, hidden: &str) -> String {
    match nps {
        Some(v) => format!("{v:+.1}"),
        None => hidden.to_string(),
    }
}

fn half_year_table(half: &HalfYearPulse) -> HalfYearTable {
    let row = |group: &PulseGroup, label: String| HalfYearRow {
        group: label,
        by_quarter: group
            .by_quarter
            .iter()
            .map(|nps| nps_text(*nps, "hidden"))
            .collect(),
        half_year: nps_text(
            group.nps,
            if half.complete {
                "hidden"
            } else {
                "after both quarters"
            },
        ),
        responses: group.responses,
    };
    let mut rows = vec![row(&half.whole, "Everyone".to_string())];
    rows.extend(half.groups.iter().map(|g| {
        let attribute = crate::domain::labels::attribute_label(&g.attribute, "en");
        row(g, format!("{attribute}: {}", g.value))
    }));
    HalfYearTable {
        period: half.period.clone(),
        quarters: half.quarters.clone(),
        complete: half.complete,
        rows,
    }
}

#[derive(Debug, Serialize)]
pub struct ReasonRow {
    pub description: &'static str,
    pub count: i64,
}

#[derive(Debug, Serialize)]
pub struct PeriodRow {
    pub quarter: String,
    pub wave_id: String,
    pub state: String,
    pub invited: i32,
    pub releases_on: String,
    pub released: bool,
}

impl PulsesPage {
    pub fn new(
        overview: &PulseOverview,
        halves: &[HalfYearPulse],
        refused: Option<(PulseSettings, Vec<SettingsProblem>)>,
        notice: Option<String>,
        is_admin: bool,
        tz: Tz,
    ) -> Self {
        let (form, problems) = refused.unwrap_or_else(|| (overview.settings.clone(), Vec::new()));
        Self {
            notice,
            is_admin,
            enabled: overview.settings.enabled,
            form,
            errors: problems.into_iter().map(|p| (p.field, p.message)).collect(),
            waiting: overview.waiting,
            invited: overview.invited,
            skipped: overview.skipped,
            reasons: overview
                .skipped_by_reason
                .iter()
                .map(|r| ReasonRow {
                    description: r.description,
                    count: r.count,
                })
                .collect(),
            periods: overview
                .periods
                .iter()
                .map(|p| PeriodRow {
                    quarter: p.quarter.clone(),
                    wave_id: p.wave_id.clone(),
                    state: p.state.clone(),
                    invited: p.invited,
                    releases_on: to_local(p.releases_at, tz).format("%Y-%m-%d").to_string(),
                    released: p.released,
                })
                .collect(),
            half_years: halves.iter().map(half_year_table).collect(),
        }
    }
}
