//! What the pulses page shows: the settings, how many pulses wait, were sent or skipped
//! (by reason), and the quarterly pulse waves with their state. Counts only: nothing here
//! says who was invited or who answered.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{PulseSettings, Quarter, SkipReason};
use crate::db::models::pulses as rows;
use crate::db::DbConn;

#[derive(Debug, Clone, Serialize)]
pub struct PulseOverview {
    pub settings: PulseSettings,
    pub waiting: i64,
    pub invited: i64,
    pub skipped: i64,
    /// Every reason, in a fixed order, with its count (zeros too).
    pub skipped_by_reason: Vec<SkippedCount>,
    pub periods: Vec<PeriodSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedCount {
    pub reason: SkipReason,
    pub description: &'static str,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodSummary {
    pub quarter: String,
    pub wave_id: String,
    pub title: String,
    pub state: String,
    pub invited: i32,
    /// When its answers are released (the wave closes).
    pub releases_at: NaiveDateTime,
    pub released: bool,
}

pub fn overview(conn: &mut DbConn) -> anyhow::Result<PulseOverview> {
    let settings = PulseSettings::load(conn)?;
    let mut waiting = 0;
    let mut invited = 0;
    let mut by_reason = std::collections::BTreeMap::new();
    for (state, reason, n) in rows::counts(conn)? {
        match state.as_str() {
            "waiting" => waiting += n,
            "invited" => invited += n,
            _ => {
                if let Some(reason) = reason.as_deref().and_then(SkipReason::parse) {
                    *by_reason.entry(reason).or_insert(0) += n;
                }
            }
        }
    }
    let skipped_by_reason: Vec<SkippedCount> = SkipReason::ALL
        .into_iter()
        .map(|reason| SkippedCount {
            reason,
            description: reason.describe(),
            count: by_reason.get(&reason).copied().unwrap_or(0),
        })
        .collect();
    let periods = rows::periods(conn)?
        .into_iter()
        .map(|(period, wave)| PeriodSummary {
            quarter: Quarter::of(period.starts_on).to_string(),
            released: wave.state().answers_released(),
            wave_id: wave.id,
            title: wave.title,
            state: wave.state,
            invited: wave.invited_count,
            releases_at: wave.closes_at,
        })
        .collect();
    Ok(PulseOverview {
        settings,
        waiting,
        invited,
        skipped: skipped_by_reason.iter().map(|s| s.count).sum(),
        skipped_by_reason,
        periods,
    })
}
