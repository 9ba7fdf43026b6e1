//! The survey links of submissions, looked up together on PostgreSQL.
//!
//! Every answer starts by finding its link's invitation and wave
//! ([`respondent::find_answerable`]). On PostgreSQL that was a pooled connection, a blocking
//! thread and a round trip per answer; here one thread takes every link waiting (up to
//! [`MAX_BATCH`]) and finds them all with one statement (`token_hash = ANY(…)`), on a
//! connection it keeps, the way the answer writer stores answers (`services::responses`).
//! Under load one round trip serves dozens of answers; alone, an answer waits for nobody.
//! SQLite reads in the process, with nothing to save by batching: it is not used there.

use std::collections::HashMap;
use std::sync::{mpsc, Arc};

use chrono::NaiveDateTime;
use tokio::sync::oneshot;

use crate::config::SecretKey;
use crate::db::models::invitations;
use crate::db::{self, Pool};
use crate::domain::token::TokenHash;
use crate::services::respondent::{self, DefinitionCache, OpenInvitation};

/// The most links looked up in one statement.
pub const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<anyhow::Result<Option<OpenInvitation>>>;

struct Job {
    token_hash: TokenHash,
    reply: Reply,
}

/// The queue in front of the lookup thread.
pub struct LinkLookups {
    sender: mpsc::SyncSender<Job>,
}

impl LinkLookups {
    /// Starts the lookup thread (for PostgreSQL); `None` if it cannot be started.
    pub fn start(
        pool: Pool,
        definitions: Arc<DefinitionCache>,
        key: SecretKey,
        now: Arc<dyn Fn() -> NaiveDateTime + Send + Sync>,
    ) -> Option<Self> {
        let (sender, receiver) = mpsc::sync_channel::<Job>(4 * MAX_BATCH);
        let spawned = std::thread::Builder::new()
            .name("pulse-links".into())
            .spawn(move || lookup_loop(&pool, &receiver, &definitions, &key, now.as_ref()));
        match spawned {
            Ok(_) => Some(Self { sender }),
            Err(error) => {
                tracing::error!(%error, "cannot start the link lookup thread");
                None
            }
        }
    }

    /// [`respondent::find_answerable`] of one link. `None` when the queue is full or the
    /// thread has stopped: the caller then looks it up itself.
    pub async fn answerable(
        &self,
        token_hash: TokenHash,
    ) -> Option<anyhow::Result<Option<OpenInvitation>>> {
        let (reply, answer) = oneshot::channel();
        self.sender.try_send(Job { token_hash, reply }).ok()?;
        answer.await.ok()
    }
}

fn lookup_loop(
    pool: &Pool,
    receiver: &mpsc::Receiver<Job>,
    definitions: &DefinitionCache,
    key: &SecretKey,
    now: &(dyn Fn() -> NaiveDateTime + Send + Sync),
) {
    let mut kept: Option<db::PooledConn> = None;
    // Take the first waiting link (blocking), then whatever else is already queued.
    while let Ok(first) = receiver.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut conn = match kept.take() {
            Some(conn) => conn,
            None => match pool.get() {
                Ok(conn) => conn,
                Err(error) => {
                    answer_all(jobs, &anyhow::Error::from(error));
                    continue;
                }
            },
        };
        let hashes: Vec<&str> = jobs.iter().map(|job| job.token_hash.as_str()).collect();
        let found = match invitations::find_with_waves_by_token_hashes(&mut conn, &hashes) {
            Ok(found) => found,
            Err(error) => {
                answer_all(jobs, &anyhow::Error::from(error));
                continue;
            }
        };
        // (The same link twice in a batch — a double submit — is found for both.)
        let by_hash: HashMap<String, _> = found
            .into_iter()
            .map(|(invitation, wave)| (invitation.token_hash.clone(), (invitation, wave)))
            .collect();
        let now = now();
        let mut failed = false;
        for job in jobs {
            let outcome = match by_hash.get(job.token_hash.as_str()).cloned() {
                Some((invitation, wave)) => {
                    respondent::answerable(&mut conn, definitions, key, invitation, wave, now)
                }
                None => Ok(None),
            };
            failed |= outcome.is_err();
            let _ = job.reply.send(outcome);
        }
        // After a failure the connection goes back to the pool, which drops it if broken.
        if !failed {
            kept = Some(conn);
        }
    }
}

/// Tells every job of a batch that failed why (the connection is not kept).
fn answer_all(jobs: Vec<Job>, error: &anyhow::Error) {
    tracing::error!(error = format!("{error:#}"), "cannot look up survey links");
    for job in jobs {
        let _ = job.reply.send(Err(anyhow::anyhow!(
            "cannot look up the survey link: {error:#}"
        )));
    }
}
