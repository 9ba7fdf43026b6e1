//! The outbox worker: claim (lease) → compose → send → mark. Nothing is ever sent from a
//! request handler; handlers and the scheduler only enqueue rows (`db::models::outbox`
//! documents the state machine).
//!
//! * At most `max_in_flight` sends at once; a slow or stalled send holds one slot only.
//! * SMTP 4xx, timeouts and connection failures: retried with backoff
//!   `retry_base · 2^(attempts−1)`, capped at 6 hours, up to `max_attempts`.
//! * SMTP 5xx (or attempts exhausted): the row is dead and the address suppressed for
//!   future waves.
//! * A worker that dies leaves its rows leased; when the lease expires they are pending
//!   again. The lease is longer than the send timeout, so a live worker never loses one.
//! * Graceful shutdown ([`Outbox::run`]): the worker stops claiming, gives the sends in
//!   flight a grace period, then cuts those still waiting for the mail server and hands
//!   their rows back (pending, no lease, fenced by the claim), so the next worker takes them
//!   at once instead of after the lease. A mail is "sent" only once the server said 250, so
//!   a cut send was not delivered (unless the server kept it without answering — SMTP's
//!   usual at-least-once edge).
//! * Writes go one at a time per worker (claims, and outcomes written in groups: see
//!   [`Outbox::finish`]). SQLite has one writer anyway, and its busy handler makes
//!   concurrent writers sleep 1, 2, 5, 10… ms between tries: with 32 sends in flight that
//!   held a 10,000-mail wave to ~280 msg/s (`examples/outbox_bench.rs`).

pub mod compose;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::Serialize;
use tokio::sync::{oneshot, watch, Semaphore};

use crate::clock::Clock;
use crate::config::SecretKey;
use crate::db::models::opt_outs;
use crate::db::models::outbox::{self as rows, Claimed};
use crate::db::{DbConn, Pool};
use crate::email::{Mailer, SendError};
use crate::metrics::Metrics;

use compose::{compose, Composed};

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub max_in_flight: usize,
    pub lease: Duration,
    pub retry_base: Duration,
    pub max_attempts: i32,
    pub poll_interval: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 16,
            lease: Duration::from_secs(300),
            retry_base: Duration::from_secs(60),
            max_attempts: 8,
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// What a dispatch did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub cancelled: usize,
}

impl DispatchReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Dead => self.dead += 1,
            Outcome::Cancelled => self.cancelled += 1,
            Outcome::Lost | Outcome::Released => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    Retried,
    Dead,
    Cancelled,
    /// The row was taken over by another worker after our lease expired.
    Lost,
    /// Handed back unsent at shutdown.
    Released,
}

/// What to write for a row whose attempt is over, decided (and logged) before writing.
#[derive(Debug)]
enum Mark {
    Sent {
        at: NaiveDateTime,
    },
    Retry {
        next: NaiveDateTime,
        reason: String,
    },
    Dead {
        reason: String,
        suppress: bool,
        at: NaiveDateTime,
    },
    Cancelled(&'static str),
    /// Shutdown cut the send: back to pending, no lease.
    Released,
}

/// A mark waiting for the next group write, and who waits for its outcome.
struct QueuedMark {
    row: Claimed,
    mark: Mark,
    done: oneshot::Sender<anyhow::Result<Outcome>>,
}

pub struct Outbox {
    pool: Pool,
    mailer: Arc<Mailer>,
    key: SecretKey,
    base_url: String,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
    /// Marks not written yet (see [`Outbox::finish`]).
    queued: Mutex<Vec<QueuedMark>>,
    /// Held while this worker writes: a claim, or a group of marks.
    writer: tokio::sync::Mutex<()>,
    /// Turns true when shutdown cuts the sends still in flight.
    cut_sends: watch::Sender<bool>,
    metrics: Arc<Metrics>,
}

impl Outbox {
    pub fn new(
        pool: Pool,
        mailer: Arc<Mailer>,
        key: SecretKey,
        base_url: &str,
        clock: Arc<dyn Clock>,
        config: OutboxConfig,
    ) -> Self {
        Self {
            pool,
            mailer,
            key,
            base_url: base_url.trim_end_matches('/').to_string(),
            clock,
            config,
            queued: Mutex::new(Vec::new()),
            writer: tokio::sync::Mutex::new(()),
            cut_sends: watch::channel(false).0,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Counts sends and failures into `metrics` (those of `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sends everything that is due now, `max_in_flight` at a time, and returns when
    /// nothing due is left (used by `pulse tick` and tests).
    pub async fn drain(&self) -> anyhow::Result<DispatchReport> {
        let mut report = DispatchReport::default();
        loop {
            let claimed = self.claim(self.config.max_in_flight).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            let outcomes =
                futures_util::future::join_all(claimed.into_iter().map(|row| self.process(row)))
                    .await;
            for outcome in outcomes {
                report.add(outcome);
            }
        }
    }

    /// The worker loop of `pulse serve`: keeps up to `max_in_flight` sends going, polls
    /// when idle. On shutdown it stops claiming and gives the sends in flight `grace` to
    /// finish; those still waiting for the mail server then are cut and their rows handed
    /// back to pending.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, grace: Duration) {
        let slots = Arc::new(Semaphore::new(self.config.max_in_flight));
        loop {
            if *shutdown.borrow() {
                break;
            }
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                self.claim(free).await
            };
            let claimed = match claimed {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "outbox claim failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for row in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let this = self.clone();
                tokio::spawn(async move {
                    this.process(row).await;
                    drop(permit);
                });
            }
        }
        // Graceful shutdown: wait for the sends in flight, at most `grace`; then cut the
        // sends still waiting and wait for their rows to be handed back.
        let total = u32::try_from(self.config.max_in_flight).unwrap_or(u32::MAX);
        let all_idle = slots.acquire_many(total);
        tokio::pin!(all_idle);
        if tokio::time::timeout(grace, &mut all_idle).await.is_err() {
            let in_flight = self.config.max_in_flight - slots.available_permits();
            tracing::info!(
                in_flight,
                "outbox: sends still in flight after the grace period; handing them back"
            );
            self.cut_sends.send_replace(true);
            let _ = all_idle.await;
        }
        tracing::info!("outbox worker stopped");
    }

    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<Claimed>> {
        let pool = self.pool.clone();
        let now = self.clock.now();
        let lease_until = now
            + chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(5));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let _writer = self.writer.lock().await;
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Claimed>> {
            let mut conn = pool.get()?;
            crate::db::write_transaction(&mut conn, |conn| -> anyhow::Result<Vec<Claimed>> {
                rows::release_expired_leases(conn, now)?;
                Ok(rows::claim(conn, now, lease_until, limit)?)
            })
        })
        .await?
    }

    async fn process(&self, row: Claimed) -> Outcome {
        match self.try_process(&row).await {
            Ok(outcome) => outcome,
            Err(error) => {
                // Our own failure (database, template): retry later like a transient error.
                tracing::error!(row = %row.id, error = format!("{error:#}"), "outbox row failed");
                let error = SendError::Transient {
                    reason: format!("internal error: {error:#}"),
                };
                let mark = self.decide(&row, Err(error));
                self.finish(&row, mark).await.unwrap_or(Outcome::Lost)
            }
        }
    }

    async fn try_process(&self, row: &Claimed) -> anyhow::Result<Outcome> {
        let (pool, key, base_url, claimed) = (
            self.pool.clone(),
            self.key.clone(),
            self.base_url.clone(),
            row.clone(),
        );
        let composed = tokio::task::spawn_blocking(move || -> anyhow::Result<Composed> {
            let mut conn = pool.get()?;
            compose(&mut conn, &key, &base_url, &claimed)
        })
        .await??;
        let message = match composed {
            Composed::Send(message) => message,
            Composed::Cancel(reason) => {
                return self.finish(row, Mark::Cancelled(reason)).await;
            }
            Composed::Skip => {
                let at = self.clock.now();
                return self.finish(row, Mark::Sent { at }).await;
            }
        };
        let mut cut = self.cut_sends.subscribe();
        let result = tokio::select! {
            result = self.mailer.send(&message) => Some(result),
            // (The watch guard must not live across an await: map it away here.)
            _ = async { cut.wait_for(|cut| *cut).await.is_ok() } => None,
        };
        let Some(result) = result else {
            let outcome = self.finish(row, Mark::Released).await?;
            if outcome == Outcome::Released {
                self.metrics.outbox_released(1);
            }
            return Ok(outcome);
        };
        let mark = self.decide(row, result);
        self.finish(row, mark).await
    }

    /// What the result of a send attempt means for the row; logs failures.
    fn decide(&self, row: &Claimed, result: Result<(), SendError>) -> Mark {
        let now = self.clock.now();
        match &result {
            Ok(()) => self.metrics.outbox_sent(),
            Err(error) => self.metrics.outbox_failed(error.is_transient()),
        }
        match result {
            Ok(()) => Mark::Sent { at: now },
            Err(SendError::Transient { reason }) if row.attempts < self.config.max_attempts => {
                let next = now + backoff(&self.config, row.attempts);
                let reason = crate::telemetry::mask_emails_in(&reason);
                tracing::warn!(row = %row.id, attempts = row.attempts, %reason, "send failed, will retry");
                Mark::Retry { next, reason }
            }
            Err(error) => {
                // Permanent failures, and transient ones after the last attempt. Only a
                // refused recipient (or giving up) suppresses the address; a refused
                // message (too big, spam filter) does not.
                let suppress = error.suppresses_address() || error.is_transient();
                let reason = crate::telemetry::mask_emails_in(&error.to_string());
                tracing::warn!(row = %row.id, to = %crate::telemetry::mask_email(&row.recipient), %reason, suppress, "mail is undeliverable");
                Mark::Dead {
                    reason,
                    suppress,
                    at: now,
                }
            }
        }
    }

    /// Writes the outcome of an attempt, in a group with the others that finished
    /// meanwhile: the mark is queued, then whoever holds the writer lock writes everything
    /// queued in one transaction (one commit, one fsync) and hands each its outcome. A mark
    /// queued before the lock was taken is always written by the time it is released, so
    /// each caller either finds its outcome ready or writes the group itself.
    async fn finish(&self, row: &Claimed, mark: Mark) -> anyhow::Result<Outcome> {
        let (done, outcome) = oneshot::channel();
        self.queue().push(QueuedMark {
            row: row.clone(),
            mark,
            done,
        });
        {
            let _writer = self.writer.lock().await;
            let group = std::mem::take(&mut *self.queue());
            if !group.is_empty() {
                let pool = self.pool.clone();
                // Runs to the end even if this future is dropped: no queued mark is lost.
                tokio::task::spawn_blocking(move || write_marks(&pool, group)).await?;
            }
        }
        outcome
            .await
            .context("the outcome of the row was not written")?
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<QueuedMark>> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes a group of marks in one write transaction. Should that fail, each is written on
/// its own, so one bad row cannot fail the others.
fn write_marks(pool: &Pool, group: Vec<QueuedMark>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(error) => {
            for queued in group {
                let _ = queued.done.send(Err(anyhow::anyhow!(
                    "cannot connect to the database: {error}"
                )));
            }
            return;
        }
    };
    let together = crate::db::write_transaction(&mut conn, |conn| {
        group
            .iter()
            .map(|queued| write_mark(conn, queued))
            .collect::<diesel::QueryResult<Vec<Outcome>>>()
    });
    match together {
        Ok(outcomes) => {
            for (queued, outcome) in group.into_iter().zip(outcomes) {
                let _ = queued.done.send(Ok(outcome));
            }
        }
        Err(error) => {
            if group.len() > 1 {
                tracing::warn!(rows = group.len(), error = %error, "writing a group of outbox outcomes failed; writing them one by one");
            }
            for queued in group {
                let outcome =
                    crate::db::write_transaction(&mut conn, |conn| write_mark(conn, &queued));
                let _ = queued.done.send(outcome.map_err(anyhow::Error::from));
            }
        }
    }
}

/// One mark, fenced by the attempt (a row taken over by another worker is `Lost`).
fn write_mark(conn: &mut DbConn, queued: &QueuedMark) -> diesel::QueryResult<Outcome> {
    let row = &queued.row;
    let (marked, outcome) = match &queued.mark {
        Mark::Sent { at } => (
            rows::mark_sent(conn, &row.id, row.attempts, *at)?,
            Outcome::Sent,
        ),
        Mark::Retry { next, reason } => (
            rows::mark_retry(conn, &row.id, row.attempts, *next, reason)?,
            Outcome::Retried,
        ),
        Mark::Dead {
            reason,
            suppress,
            at,
        } => {
            let marked = rows::mark_dead(conn, &row.id, row.attempts, reason)?;
            if marked && *suppress {
                opt_outs::suppress(conn, &row.recipient, reason, *at)?;
            }
            (marked, Outcome::Dead)
        }
        Mark::Cancelled(reason) => (
            rows::mark_cancelled(conn, &row.id, row.attempts, reason)?,
            Outcome::Cancelled,
        ),
        Mark::Released => (
            rows::release_claim(conn, &row.id, row.attempts)?,
            Outcome::Released,
        ),
    };
    Ok(if marked { outcome } else { Outcome::Lost })
}

/// `retry_base · 2^(attempts−1)`, capped at 6 hours.
fn backoff(config: &OutboxConfig, attempts: i32) -> chrono::Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let seconds = config.retry_base.as_secs_f64() * f64::from(2u32.pow(exponent));
    let capped = seconds.min(6.0 * 3600.0);
    chrono::Duration::milliseconds((capped * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let config = OutboxConfig {
            retry_base: Duration::from_secs(60),
            ..Default::default()
        };
        assert_eq!(backoff(&config, 1), chrono::Duration::seconds(60));
        assert_eq!(backoff(&config, 2), chrono::Duration::seconds(120));
        assert_eq!(backoff(&config, 4), chrono::Duration::seconds(480));
        assert_eq!(backoff(&config, 30), chrono::Duration::hours(6));
    }
}
