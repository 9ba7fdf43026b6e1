//! The outbox worker: claim (lease) → compose → send → mark. Nothing is ever sent from a
//! request handler; handlers and the scheduler only enqueue rows (`db::models::outbox`
//! documents the state machine) and then call [`wake`].
//!
//! * **Driven by free slots and new work** ([`Outbox::run`]): at most `max_in_flight` sends
//!   at once; the worker holds up to eight times as many rows (composed and waiting for a
//!   send slot, being sent, or waiting for the commit of their outcome). One loop does all
//!   its writing: each commit writes the outcomes queued since the last one and, when half
//!   the rows it may hold are free (or it holds none), claims that many more —
//!   one transaction, one fsync on SQLite. A claimed batch is composed in one go
//!   ([`compose::Composer`]: a few queries for the batch, templates rendered once per wave,
//!   kind and language). A queued outcome wakes the loop; it sleeps only when nothing is
//!   due — until [`wake`] (mail enqueued in this process) or `poll_interval` (mail enqueued
//!   by another instance, retries falling due).
//! * **Temporary failures** (4xx, timeouts, a connection reset mid-way): retried with
//!   backoff `retry_base · 2^(attempts−1)`, capped at 6 hours, up to `max_attempts`. After
//!   the last one the row is *dead, retryable*: nobody is suppressed, and
//!   `pulse wave retry-failed` or the wave page's button sends it again.
//! * **Refusals** (5xx): the row is dead; a refused recipient (5xx to RCPT, 5.1.x, 5.2.1)
//!   is suppressed for future waves until an admin lifts it.
//! * **Relay problems** (connection refused, TLS, 535/530, our sender refused): the row
//!   goes back to pending without using an attempt and this worker **pauses**: it logs one
//!   error, shows it on the admin pages and in `/metrics` (`pulse_outbox_relay_paused`),
//!   and tries one row every `relay_probe` (doubling up to 2 minutes) until the relay
//!   takes mail again.
//! * **Crash safety**: each mail is marked sent by the next commit after the server's 250
//!   (the outcomes that finish meanwhile share that commit, and a claim is only ever
//!   committed together with every outcome queued before it: [`marks`]). Claimed rows are
//!   leased for `lease` and the worker renews the lease of the rows it holds every
//!   `lease / 4`, so a live worker never loses a row however slow the relay, and the rows
//!   of a killed worker are free again at most `lease` later. A killed worker's duplicates
//!   are at most the mails the server had accepted and whose outcome was not committed
//!   yet: at most the rows it held (8 × `max_in_flight`), each with its row's Message-ID.
//! * **Graceful shutdown**: the worker stops claiming, gives the sends in flight a grace
//!   period, then cuts those still waiting for the mail server and hands their rows back
//!   (pending, no lease, fenced by the claim), so the next worker takes them at once.

pub mod compose;
mod marks;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{watch, Notify, Semaphore};

use crate::clock::Clock;
use crate::config::SecretKey;
use crate::db::models::outbox::{self as rows, Claimed};
use crate::db::Pool;
use crate::email::{Mailer, SendError};
use crate::metrics::{Metrics, RelayPause};

use compose::{Composed, Composer};
use marks::{Mark, Outcome};

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub max_in_flight: usize,
    /// How long a claimed row stays with its worker without a renewal.
    pub lease: Duration,
    pub retry_base: Duration,
    pub max_attempts: i32,
    /// How often an idle worker looks for mail enqueued elsewhere.
    pub poll_interval: Duration,
    /// First wait before trying a relay that could not be used (doubles up to 2 min).
    pub relay_probe: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 16,
            lease: Duration::from_secs(20),
            retry_base: Duration::from_secs(60),
            max_attempts: 8,
            poll_interval: Duration::from_secs(2),
            relay_probe: Duration::from_secs(5),
        }
    }
}

/// Rows a worker holds per send slot (`max_in_flight`): sent, waiting to be sent, or
/// waiting for the commit of their outcome. Enough that the send slots never wait for a
/// claim while commits take a few milliseconds each (an fsync; on PostgreSQL also the round
/// trips), and the bound on what a killed worker can have sent without its outcome
/// committed.
const HELD_PER_SLOT: usize = 8;

/// The longest wait between two tries of a relay that cannot be used.
const MAX_RELAY_PROBE: Duration = Duration::from_secs(120);

/// Counts enqueues in this process; every worker watches it.
static ENQUEUED: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Tells the outbox workers of this process that mail was enqueued: call it after the
/// transaction that enqueued the rows committed. (Workers of other processes find the
/// rows at their next poll.)
pub fn wake() {
    ENQUEUED.send_modify(|n| *n = n.wrapping_add(1));
}

/// What a dispatch did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    /// Refused by the server (the row is dead).
    pub dead: usize,
    /// Undelivered after every retry (dead, retryable).
    pub failed: usize,
    pub cancelled: usize,
    /// Handed back because the relay could not be used.
    pub given_back: usize,
    /// Set when sending stopped because the relay cannot be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_problem: Option<String>,
}

impl DispatchReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Dead => self.dead += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Cancelled => self.cancelled += 1,
            Outcome::GivenBack => self.given_back += 1,
            Outcome::Lost | Outcome::Released => {}
        }
    }
}

/// While the relay cannot be used.
#[derive(Debug, Clone)]
struct Pause {
    reason: String,
    since: chrono::NaiveDateTime,
    next_probe: Instant,
    wait: Duration,
}

pub struct Outbox {
    pool: Pool,
    mailer: Arc<Mailer>,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
    /// Outcomes decided and not committed yet, in the order they were decided.
    queued: Mutex<Vec<(Claimed, Mark)>>,
    /// Held while this worker writes: a commit (outcomes and a claim) or a lease renewal.
    writer: tokio::sync::Mutex<()>,
    /// Turns true when shutdown cuts the sends still in flight.
    cut_sends: watch::Sender<bool>,
    metrics: Arc<Metrics>,
    /// Rows claimed and not marked yet (id → attempts as claimed): their leases are renewed.
    held: Mutex<HashMap<String, i32>>,
    /// An outcome was queued.
    finished: Notify,
    /// Set while the relay cannot be used.
    pause: Mutex<Option<Pause>>,
    /// What this worker did since it started.
    report: Mutex<DispatchReport>,
    /// Composes the claimed rows (key, links, parsed definitions, rendered templates).
    composer: Arc<Composer>,
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
            clock,
            config,
            queued: Mutex::new(Vec::new()),
            writer: tokio::sync::Mutex::new(()),
            cut_sends: watch::channel(false).0,
            metrics: Arc::new(Metrics::new()),
            held: Mutex::new(HashMap::new()),
            finished: Notify::new(),
            pause: Mutex::new(None),
            report: Mutex::new(DispatchReport::default()),
            composer: Arc::new(Composer::new(key, base_url.trim_end_matches('/'))),
        }
    }

    /// Counts sends and failures into `metrics` (those of `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sends everything that is due now, `max_in_flight` at a time, and returns when
    /// nothing due is left — or when the relay cannot be used (`relay_problem` says why;
    /// the rows stay pending). Used by `pulse tick` and tests.
    pub async fn drain(&self) -> anyhow::Result<DispatchReport> {
        let before = self.lock_report().clone();
        let mut first = true;
        loop {
            // Each drain tries the relay once more, even if it was paused before.
            if !first && self.paused().is_some() {
                break;
            }
            first = false;
            // The outcomes of the previous round and the next claim: one commit.
            let marks = self.take_queued();
            let claimed = self.commit(marks, self.config.max_in_flight.max(1)).await?;
            if claimed.is_empty() {
                break;
            }
            let composed = self.compose(&claimed).await;
            let sends = claimed
                .into_iter()
                .zip(composed)
                .map(|(row, composed)| self.process(row, composed, None));
            self.renewing(futures_util::future::join_all(sends)).await;
        }
        let marks = self.take_queued();
        if !marks.is_empty() {
            self.commit(marks, 0).await?;
        }
        let after = self.lock_report().clone();
        Ok(DispatchReport {
            sent: after.sent - before.sent,
            retried: after.retried - before.retried,
            dead: after.dead - before.dead,
            failed: after.failed - before.failed,
            cancelled: after.cancelled - before.cancelled,
            given_back: after.given_back - before.given_back,
            relay_problem: self.paused().map(|p| p.reason),
        })
    }

    /// The worker loop of `pulse serve` (see the module comment). On shutdown it stops
    /// claiming and gives the sends in flight `grace` to finish; those still waiting for
    /// the mail server then are cut and their rows handed back to pending.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, grace: Duration) {
        let max = self.config.max_in_flight.max(1);
        // Rows this worker holds at most: those being sent (`max`) plus those waiting for a
        // send slot or for the commit of their outcome. Holding more than are sent keeps
        // claims and outcome commits few and large (one fsync each on SQLite).
        let held_cap = max * HELD_PER_SLOT;
        // Claim when half the rows can be taken (or nothing is held): large claims keep the
        // per-claim work (the commit, the batch's queries) small per mail.
        let batch = (held_cap / 2).max(1);
        let sending = Arc::new(Semaphore::new(max));
        let (stopping_tx, stopping) = watch::channel(false);
        let mut enqueued = ENQUEUED.subscribe();
        let (stop_renewing, renewing_stopped) = watch::channel(false);
        let renewer = tokio::spawn(self.clone().renew_until(renewing_stopped));
        // Rows claimed whose outcome is not committed yet.
        let mut held = 0usize;
        // The last claim found nothing due: the next one waits for a wake or this time.
        let mut idle_until: Option<tokio::time::Instant> = None;
        // Shutdown: when the sends still in flight are cut (`None` until shutdown).
        let mut cut_at: Option<tokio::time::Instant> = None;
        let mut cut = false;
        loop {
            let stopped = *shutdown.borrow();
            if stopped && cut_at.is_none() {
                // Rows waiting for a send slot go back at once; the sends in flight get
                // at most `grace`.
                let _ = stopping_tx.send(true);
                cut_at = Some(tokio::time::Instant::now() + grace);
            }
            let marks = self.take_queued();
            // Rows still held once these outcomes are committed.
            let after = held.saturating_sub(marks.len());
            let idle = idle_until.is_some_and(|until| until > tokio::time::Instant::now());
            if !idle {
                idle_until = None;
            }
            let pause = self.paused();
            let want = match &pause {
                _ if stopped || idle => 0,
                None if held_cap - after >= batch || after == 0 => held_cap - after,
                None => 0,
                // Paused: one row at a time, when the next probe is due.
                Some(pause) if after == 0 && pause.next_probe <= Instant::now() => 1,
                Some(_) => 0,
            };
            if marks.is_empty() && want == 0 {
                if stopped && held == 0 {
                    break;
                }
                let probe = pause
                    .filter(|_| after == 0 && !stopped && !idle)
                    .map(|p| p.next_probe.saturating_duration_since(Instant::now()));
                tokio::select! {
                    _ = self.finished.notified() => {}
                    changed = enqueued.changed() => {
                        if changed.is_ok() {
                            idle_until = None;
                        }
                    }
                    _ = sleep_until(idle_until), if idle_until.is_some() => idle_until = None,
                    _ = tokio::time::sleep(probe.unwrap_or_default().max(Duration::from_millis(10))), if probe.is_some() => {}
                    _ = shutdown.changed(), if !stopped => {}
                    _ = sleep_until(cut_at), if cut_at.is_some() && !cut => {
                        cut = true;
                        tracing::info!(
                            in_flight = held,
                            "outbox: sends still in flight after the grace period; handing them back"
                        );
                        self.cut_sends.send_replace(true);
                    }
                }
                continue;
            }
            if want > 0 {
                // Mail enqueued from now on wakes the wait above.
                let _ = enqueued.borrow_and_update();
            }
            held = after;
            let claimed = match self.commit(marks, want).await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "outbox claim failed");
                    idle_until = Some(tokio::time::Instant::now() + self.config.poll_interval);
                    continue;
                }
            };
            if want > 0 && claimed.is_empty() {
                idle_until = Some(tokio::time::Instant::now() + self.config.poll_interval);
                continue;
            }
            if claimed.is_empty() {
                continue;
            }
            held += claimed.len();
            let (this, sending, stopping) = (self.clone(), sending.clone(), stopping.clone());
            tokio::spawn(async move {
                let composed = this.compose(&claimed).await;
                for (row, composed) in claimed.into_iter().zip(composed) {
                    let (this, sending, stopping) =
                        (this.clone(), sending.clone(), stopping.clone());
                    tokio::spawn(async move {
                        this.process(row, composed, Some((&sending, stopping)))
                            .await;
                    });
                }
            });
        }
        let _ = stop_renewing.send(true);
        let _ = renewer.await;
        tracing::info!("outbox worker stopped");
    }

    /// Renews the leases of the rows this worker holds, every `lease / 4`, until `stop`.
    async fn renew_until(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.renew_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.renew_leases().await,
                // (The watch guard must not live across an await: map it away here.)
                _ = async { stop.wait_for(|stop| *stop).await.is_ok() } => return,
            }
        }
    }

    /// Runs `work` while renewing the leases of the rows this worker holds.
    async fn renewing<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(work);
        let mut tick = tokio::time::interval(self.renew_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.reset();
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tick.tick() => self.renew_leases().await,
            }
        }
    }

    fn renew_every(&self) -> Duration {
        (self.config.lease / 4).max(Duration::from_millis(100))
    }

    async fn renew_leases(&self) {
        let held: Vec<(String, i32)> = self
            .lock_held()
            .iter()
            .map(|(id, attempts)| (id.clone(), *attempts))
            .collect();
        if held.is_empty() {
            return;
        }
        let pool = self.pool.clone();
        let lease_until = self.lease_until();
        let _writer = self.writer.lock().await;
        let renewed = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(crate::db::write_transaction(&mut conn, |conn| {
                rows::renew_leases(conn, &held, lease_until)
            })?)
        })
        .await;
        match renewed {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "renewing outbox leases failed"
                )
            }
            Err(error) => tracing::warn!(%error, "renewing outbox leases failed"),
        }
    }

    fn lease_until(&self) -> chrono::NaiveDateTime {
        self.clock.now()
            + chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(20))
    }

    /// One commit: writes `marks` (the queued outcomes) and claims up to `claim` rows, in
    /// one transaction. Takes the outcomes into the report; returns the claimed rows.
    async fn commit(
        &self,
        marks: Vec<(Claimed, Mark)>,
        claim: usize,
    ) -> anyhow::Result<Vec<Claimed>> {
        let pool = self.pool.clone();
        let now = self.clock.now();
        let lease_until = self.lease_until();
        let (marks, outcomes, claimed) = {
            let _writer = self.writer.lock().await;
            tokio::task::spawn_blocking(move || {
                let (outcomes, claimed) = marks::commit(&pool, &marks, claim, now, lease_until);
                (marks, outcomes, claimed)
            })
            .await?
        };
        {
            let mut held = self.lock_held();
            let mut report = self.lock_report();
            for ((row, mark), outcome) in marks.iter().zip(outcomes) {
                let outcome = outcome.unwrap_or_else(|error| {
                    tracing::error!(row = %row.id, error = format!("{error:#}"), "writing the outcome of an outbox row failed");
                    Outcome::Lost
                });
                if matches!(mark, Mark::Released) && outcome == Outcome::Released {
                    self.metrics.outbox_released(1);
                }
                held.remove(&row.id);
                report.add(outcome);
            }
        }
        let claimed = claimed?;
        let mut held = self.lock_held();
        for row in &claimed {
            held.insert(row.id.clone(), row.attempts);
        }
        Ok(claimed)
    }

    /// Composes a claimed batch (one blocking task, a few queries for all of it).
    async fn compose(&self, rows: &[Claimed]) -> Vec<anyhow::Result<Composed>> {
        let (pool, composer, batch) = (self.pool.clone(), self.composer.clone(), rows.to_vec());
        let composed = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<_>> {
            let mut conn = pool.get()?;
            Ok(composer.compose_batch(&mut conn, &batch))
        })
        .await;
        match composed {
            Ok(Ok(composed)) => composed,
            Ok(Err(error)) => rows
                .iter()
                .map(|_| Err(anyhow::anyhow!("{error:#}")))
                .collect(),
            Err(error) => rows
                .iter()
                .map(|_| Err(anyhow::anyhow!("composing failed: {error}")))
                .collect(),
        }
    }

    /// One composed row from send to queued outcome. With a `gate` (the worker loop), the
    /// send waits for one of the send slots, and a row still waiting when the worker stops
    /// goes back.
    async fn process(
        &self,
        row: Claimed,
        composed: anyhow::Result<Composed>,
        gate: Option<(&Semaphore, watch::Receiver<bool>)>,
    ) {
        let mark = match gate {
            None => self.attempt(&row, composed).await,
            Some((sending, mut stopping)) => {
                let permit = tokio::select! {
                    permit = sending.acquire() => permit.ok(),
                    // (The watch guard must not live across an await: map it away here.)
                    _ = async { stopping.wait_for(|stop| *stop).await.is_ok() } => None,
                };
                match permit {
                    // The slot is free again as soon as the server answered.
                    Some(_slot) => self.attempt(&row, composed).await,
                    None => Mark::Released,
                }
            }
        };
        self.queue().push((row, mark));
        self.finished.notify_one();
    }

    /// Sends one composed row; what to write for it.
    async fn attempt(&self, row: &Claimed, composed: anyhow::Result<Composed>) -> Mark {
        let message = match composed {
            Ok(Composed::Send(message)) => message,
            Ok(Composed::Cancel(reason)) => return Mark::Cancelled(reason),
            // Nothing to send for this row (a reminder to someone who answered): marked sent,
            // exactly as a real send is.
            Ok(Composed::Skip) => {
                return Mark::Sent {
                    at: self.clock.now(),
                }
            }
            Err(error) => {
                // Our own failure (database, template): retry later like a transient error.
                tracing::error!(row = %row.id, error = format!("{error:#}"), "outbox row failed");
                let error = SendError::Transient {
                    reason: format!("internal error: {error:#}"),
                };
                return self.decide(row, Err(error));
            }
        };
        let mut cut = self.cut_sends.subscribe();
        let result = tokio::select! {
            result = self.mailer.send(&message) => Some(result),
            // (The watch guard must not live across an await: map it away here.)
            _ = async { cut.wait_for(|cut| *cut).await.is_ok() } => None,
        };
        match result {
            Some(result) => self.decide(row, result),
            None => Mark::Released,
        }
    }

    /// What the result of a send attempt means for the row; logs failures and pauses or
    /// resumes sending on the relay's account.
    fn decide(&self, row: &Claimed, result: Result<(), SendError>) -> Mark {
        let now = self.clock.now();
        match &result {
            Ok(()) => {
                self.metrics.outbox_sent();
                self.resume();
            }
            Err(SendError::Relay { .. }) => self.metrics.outbox_failed("relay"),
            Err(error) if error.is_transient() => self.metrics.outbox_failed("transient"),
            Err(_) => self.metrics.outbox_failed("permanent"),
        }
        match result {
            Ok(()) => Mark::Sent { at: now },
            Err(SendError::Relay { reason, kind }) => {
                let reason = crate::telemetry::mask_emails_in(&reason);
                self.pause_sending(kind.label(), &reason);
                Mark::GiveBack { reason }
            }
            Err(SendError::Transient { reason }) if row.attempts < self.config.max_attempts => {
                let next = now + backoff(&self.config, row.attempts);
                let reason = crate::telemetry::mask_emails_in(&reason);
                tracing::warn!(row = %row.id, attempts = row.attempts, %reason, "send failed, will retry");
                Mark::Retry { next, reason }
            }
            Err(error @ SendError::Transient { .. }) => {
                let reason = crate::telemetry::mask_emails_in(&error.to_string());
                tracing::warn!(row = %row.id, to = %crate::telemetry::mask_email(&row.recipient), attempts = row.attempts, %reason, "mail could not be delivered after every retry; `pulse wave retry-failed` sends it again");
                Mark::Failed { reason }
            }
            Err(error) => {
                // Only a refused recipient suppresses the address; a refused message (too
                // big, spam filter) does not.
                let suppress = error.suppresses_address();
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

    /// The relay cannot be used: stop claiming (one row per probe until it works again).
    fn pause_sending(&self, kind: &'static str, reason: &str) {
        let mut pause = self.lock_pause();
        let wait = match pause.as_ref() {
            // A failed probe: wait longer. (Sends that were in flight when the pause began
            // fail too; they leave the wait as it is.)
            Some(p) if p.next_probe <= Instant::now() => (p.wait * 2).min(MAX_RELAY_PROBE),
            Some(p) => p.wait,
            None => self.config.relay_probe,
        };
        let first = pause.is_none();
        let since = pause.as_ref().map_or(self.clock.now(), |p| p.since);
        let next = Pause {
            reason: reason.to_string(),
            since,
            next_probe: Instant::now() + wait,
            wait,
        };
        if first {
            tracing::error!(
                reason = %reason,
                retry_seconds = wait.as_secs(),
                "sending paused: the mail relay cannot be used; no mail uses up its attempts meanwhile, and Pulse tries the relay again"
            );
        }
        self.metrics.set_relay_pause(Some(RelayPause {
            since,
            reason: next.reason.clone(),
            kind,
            retry_seconds: wait.as_secs(),
        }));
        *pause = Some(next);
    }

    /// A mail went through: the relay works (again).
    fn resume(&self) {
        let mut pause = self.lock_pause();
        if let Some(was) = pause.take() {
            tracing::info!(paused_since = %was.since, "the mail relay takes mail again; sending resumed");
            self.metrics.set_relay_pause(None);
        }
    }

    fn paused(&self) -> Option<Pause> {
        self.lock_pause().clone()
    }

    /// The outcomes queued since the last commit.
    fn take_queued(&self) -> Vec<(Claimed, Mark)> {
        std::mem::take(&mut *self.queue())
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<(Claimed, Mark)>> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_held(&self) -> std::sync::MutexGuard<'_, HashMap<String, i32>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_pause(&self) -> std::sync::MutexGuard<'_, Option<Pause>> {
        self.pause.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_report(&self) -> std::sync::MutexGuard<'_, DispatchReport> {
        self.report.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sleeps until `at`, or forever for `None`.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
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

/// Rows per state, for `/metrics`.
pub fn counts_by_state(
    conn: &mut crate::db::DbConn,
    states: &[&str],
) -> diesel::QueryResult<Vec<(String, i64)>> {
    rows::counts_by_state(conn, states)
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
