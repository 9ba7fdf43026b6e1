//! The pulses page's view model (`templates/pages/admin/pulses.html.hbs`).

use serde::Serialize;

use crate::domain::schedule::{to_local, Tz};
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
        }
    }
}
