//! The pulse settings: whether fulfilled requests trigger pulses, which survey, after how
//! long, and the touch rules' numbers. Stored in one row an admin edits on the pulses page;
//! until then the defaults hold.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::pulses as rows;
use crate::db::DbConn;

/// The pulse survey shipped with Pulse.
pub const DEFAULT_SURVEY: &str = "pulse-check";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PulseSettings {
    pub enabled: bool,
    pub survey_slug: String,
    /// Hours from learning that a request was fulfilled to the invitation.
    pub delay_hours: i32,
    /// At most one pulse per person in this many days.
    pub min_days_between: i32,
    /// No pulse in the days before a survey wave that includes the person opens.
    pub quiet_days_before_wave: i32,
    /// Requests fulfilled longer ago than this (an imported history) get no pulse.
    pub max_age_days: i32,
    /// Days after a quarter ends that its pulses can still be answered; then its results
    /// are released.
    pub answer_days: i32,
    /// The anonymity threshold of the pulse waves.
    pub anonymity_k: i32,
}

impl Default for PulseSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            survey_slug: DEFAULT_SURVEY.to_string(),
            delay_hours: 24,
            min_days_between: 30,
            quiet_days_before_wave: 14,
            max_age_days: 30,
            answer_days: 14,
            anonymity_k: 5,
        }
    }
}

/// One field of the settings form, with the problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsProblem {
    pub field: &'static str,
    pub message: String,
}

impl PulseSettings {
    pub fn load(conn: &mut DbConn) -> diesel::QueryResult<Self> {
        Ok(rows::settings(conn)?.map(Self::from).unwrap_or_default())
    }

    pub fn save(&self, conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<()> {
        rows::save_settings(
            conn,
            &rows::SettingsRow {
                id: 1,
                enabled: self.enabled,
                survey_slug: self.survey_slug.clone(),
                delay_hours: self.delay_hours,
                min_days_between: self.min_days_between,
                quiet_days_before_wave: self.quiet_days_before_wave,
                max_age_days: self.max_age_days,
                answer_days: self.answer_days,
                anonymity_k: self.anonymity_k,
                updated_at: now,
            },
        )
        .map(|_| ())
    }

    /// Every number within its range, or a problem per field.
    pub fn check(&self) -> Result<(), Vec<SettingsProblem>> {
        let ranges: [(&'static str, i32, i32, i32, &str); 6] = [
            ("delay_hours", self.delay_hours, 0, 24 * 30, "hours"),
            ("min_days_between", self.min_days_between, 0, 365, "days"),
            (
                "quiet_days_before_wave",
                self.quiet_days_before_wave,
                0,
                90,
                "days",
            ),
            ("max_age_days", self.max_age_days, 1, 365, "days"),
            ("answer_days", self.answer_days, 1, 60, "days"),
            ("anonymity_k", self.anonymity_k, 3, 50, "answers"),
        ];
        let mut problems: Vec<SettingsProblem> = ranges
            .into_iter()
            .filter(|(_, value, low, high, _)| value < low || value > high)
            .map(|(field, _, low, high, unit)| SettingsProblem {
                field,
                message: format!("Give a whole number from {low} to {high} {unit}."),
            })
            .collect();
        if self.survey_slug.trim().is_empty() {
            problems.push(SettingsProblem {
                field: "survey_slug",
                message: "Choose the survey pulses send.".into(),
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

impl From<rows::SettingsRow> for PulseSettings {
    fn from(row: rows::SettingsRow) -> Self {
        Self {
            enabled: row.enabled,
            survey_slug: row.survey_slug,
            delay_hours: row.delay_hours,
            min_days_between: row.min_days_between,
            quiet_days_before_wave: row.quiet_days_before_wave,
            max_age_days: row.max_age_days,
            answer_days: row.answer_days,
            anonymity_k: row.anonymity_k,
        }
    }
}
