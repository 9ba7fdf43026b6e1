//! The scheduler: each tick opens due waves, enqueues due reminders, closes due waves,
//! rolls schedules forward and queues the action owners' weekly digests. Runs inside every
//! `pulse serve` (unless `--no-scheduler`) and as `pulse tick` for cron users. Every step is
//! idempotent and guarded by a conditional UPDATE (or a unique key), so several processes
//! on one database never do anything twice.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::SecretKey;
use crate::db::models::waves as wave_rows;
use crate::db::{DbConn, Pool};
use crate::services::{schedules, waves};

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TickReport {
    pub waves_created: usize,
    pub waves_opened: usize,
    pub invitations: usize,
    pub reminders: usize,
    pub waves_closed: usize,
    /// Owners' weekly digests queued (`actions::digest`).
    pub digests: usize,
    /// Pulses after fulfilled requests: invited, skipped by a touch rule (`pulse`).
    pub pulses_invited: usize,
    pub pulses_skipped: usize,
    /// Pulse waves closed after their quarter (answers unsealed, results released).
    pub pulses_closed: usize,
}

impl TickReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One pass of the scheduler at time `now`.
pub fn tick(conn: &mut DbConn, key: &SecretKey, now: NaiveDateTime) -> anyhow::Result<TickReport> {
    let mut report = TickReport {
        waves_created: schedules::roll_forward(conn, now)?,
        ..Default::default()
    };
    for wave_id in wave_rows::due_to_open(conn, now)? {
        if let Some(opened) = waves::open_wave(conn, key, &wave_id, now)? {
            report.waves_opened += 1;
            report.invitations += opened.invited;
        }
    }
    report.pulses_closed = crate::pulse::close_due(conn, key, now)?;
    for wave_id in wave_rows::due_to_close(conn, now)? {
        if waves::close_wave(conn, &wave_id, now)? {
            report.waves_closed += 1;
        }
    }
    for wave in wave_rows::open_waves(conn)? {
        report.reminders += waves::enqueue_due_reminders(conn, &wave, now)?;
    }
    report.digests = crate::actions::digest::enqueue_due(conn, now)?;
    let pulses = crate::pulse::send_due(conn, key, now)?;
    report.pulses_invited = pulses.invited;
    report.pulses_skipped = pulses.skipped;
    Ok(report)
}

/// Ticks every `interval` until `shutdown` turns true. Errors are logged and the next
/// tick tries again.
pub async fn run(
    pool: Pool,
    key: SecretKey,
    clock: Arc<dyn Clock>,
    interval: Duration,
    metrics: Arc<crate::metrics::Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let (pool, key, now) = (pool.clone(), key.clone(), clock.now());
        let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<TickReport> {
            let mut conn = pool.get()?;
            tick(&mut conn, &key, now)
        })
        .await;
        metrics.scheduler_tick(outcome.as_ref().ok().and_then(|r| r.as_ref().ok()));
        match outcome {
            Ok(Ok(report)) if !report.is_empty() => {
                tracing::info!(?report, "scheduler tick");
                // Invitations, reminders, results-ready mail or digests may be waiting.
                crate::outbox::wake();
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::error!(error = format!("{error:#}"), "scheduler tick failed")
            }
            Err(error) => tracing::error!(%error, "scheduler tick panicked"),
        }
    }
}
