//! Group commit for the request API: the server's calls that have something to write are
//! queued, and writer threads store whatever is waiting (up to [`MAX_BATCH`]) in ONE
//! transaction, each request checked and written in arrival order ([`super::write_one`]).
//! One commit (one fsync) answers many calls, and on SQLite no two connections wait for the
//! write lock. Nobody is answered before the commit returned; if it fails, every call of
//! the batch gets the error and nothing of the batch is stored.
//!
//! With several writers (PostgreSQL), each request id belongs to one of them (by a hash of
//! the id), so two calls for the same request are never written by two transactions at
//! once: the second sees the first's write and is told "unchanged" or "updated".

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use tokio::sync::oneshot;

use crate::scorecards::request_figures::TargetDays;

use super::{write_one, RequestRecord, UnknownUnit, UpsertedRequest};
use crate::db::{self, Pool};

/// The most requests written in one transaction.
pub const MAX_BATCH: usize = 256;

type Outcome = anyhow::Result<Result<UpsertedRequest, UnknownUnit>>;

struct Job {
    record: RequestRecord,
    reply: oneshot::Sender<Outcome>,
}

pub struct RequestWriter {
    senders: Vec<mpsc::SyncSender<Job>>,
}

impl RequestWriter {
    /// Starts `writers` writer threads on `pool`; `now` gives the time of each batch.
    pub fn start(
        pool: Pool,
        writers: usize,
        targets: TargetDays,
        now: Arc<dyn Fn() -> NaiveDateTime + Send + Sync>,
    ) -> Self {
        let mut senders = Vec::new();
        for index in 0..writers.max(1) {
            let (sender, receiver) = mpsc::sync_channel::<Job>(4 * MAX_BATCH);
            senders.push(sender);
            let receiver = Mutex::new(receiver);
            let (pool, now, targets) = (pool.clone(), now.clone(), targets.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("pulse-requests-{index}"))
                .spawn(move || writer_loop(&pool, &receiver, &targets, now.as_ref()));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a request writer thread");
            }
        }
        Self { senders }
    }

    /// Writes one request; returns after its transaction committed (or failed).
    pub async fn write(&self, record: RequestRecord) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let sender = self.writer_of(&record.id);
        match sender.try_send(Job { record, reply }) {
            Ok(()) => {}
            // The queue is full (back-pressure): wait for room off the async threads.
            Err(mpsc::TrySendError::Full(job)) => {
                let sender = sender.clone();
                tokio::task::spawn_blocking(move || sender.send(job).map_err(|_| ()))
                    .await?
                    .map_err(|_| anyhow::anyhow!("the request writer has stopped"))?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                anyhow::bail!("the request writer has stopped")
            }
        }
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the request writer dropped the answer"))?
    }

    /// The writer of request `id`: always the same one.
    fn writer_of(&self, id: &str) -> &mpsc::SyncSender<Job> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % self.senders.len() as u64).unwrap_or(0);
        &self.senders[index]
    }
}

fn writer_loop(
    pool: &Pool,
    receiver: &Mutex<mpsc::Receiver<Job>>,
    targets: &TargetDays,
    now: &(dyn Fn() -> NaiveDateTime + Send + Sync),
) {
    loop {
        // The first waiting job (blocking), then whatever else is queued already.
        let jobs = {
            let Ok(receiver) = receiver.lock() else {
                return;
            };
            let Ok(first) = receiver.recv() else { return };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
        let at = now();
        let result = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| {
                db::write_transaction(&mut conn, |conn| {
                    let mut units: Option<BTreeSet<String>> = None;
                    jobs.iter()
                        .map(|job| write_one(conn, &job.record, targets, at, &mut units))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            });
        match result {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    size = jobs.len(),
                    "writing a batch of requests failed"
                );
                for job in jobs {
                    let _ = job.reply.send(Err(anyhow::anyhow!(
                        "the request could not be stored: {error}"
                    )));
                }
            }
        }
    }
}
