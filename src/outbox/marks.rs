//! Writing the outcome of a send attempt ("marks"), in groups: whoever holds the worker's
//! writer lock writes every mark queued meanwhile in one transaction (one commit, one
//! fsync). A mark is queued the moment the server answered, and the group is written at
//! once (never held back for more marks), so a mail accepted by the server is marked sent
//! within one commit of the reply.

use chrono::NaiveDateTime;
use tokio::sync::oneshot;

use crate::db::models::opt_outs;
use crate::db::models::outbox::{self as rows, Claimed};
use crate::db::{DbConn, Pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Sent,
    Retried,
    Dead,
    /// Temporary failures outlasted the retries: dead, retryable, nobody suppressed.
    Failed,
    Cancelled,
    /// The relay could not be used: back to pending, the attempt not counted.
    GivenBack,
    /// The row was taken over by another worker after our lease expired.
    Lost,
    /// Handed back unsent at shutdown.
    Released,
}

/// What to write for a row whose attempt is over, decided (and logged) before writing.
#[derive(Debug)]
pub(super) enum Mark {
    Sent {
        at: NaiveDateTime,
    },
    Retry {
        next: NaiveDateTime,
        reason: String,
    },
    /// Refused for good; `suppress` when the recipient itself was refused.
    Dead {
        reason: String,
        suppress: bool,
        at: NaiveDateTime,
    },
    /// Undelivered after every retry: retryable later, nobody suppressed.
    Failed {
        reason: String,
    },
    /// The relay could not be used: pending again, the attempt not counted.
    GiveBack {
        reason: String,
    },
    Cancelled(&'static str),
    /// Shutdown cut the send: back to pending, no lease.
    Released,
}

/// A mark waiting for the next group write, and who waits for its outcome.
pub(super) struct QueuedMark {
    pub row: Claimed,
    pub mark: Mark,
    pub done: oneshot::Sender<anyhow::Result<Outcome>>,
}

/// Writes a group of marks in one write transaction. Should that fail, each is written on
/// its own, so one bad row cannot fail the others.
pub(super) fn write_marks(pool: &Pool, group: Vec<QueuedMark>) {
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
            let marked = rows::mark_dead(conn, &row.id, row.attempts, reason, false)?;
            if marked && *suppress {
                opt_outs::suppress(conn, &row.recipient, reason, row.wave_id.as_deref(), *at)?;
            }
            (marked, Outcome::Dead)
        }
        Mark::Failed { reason } => (
            rows::mark_dead(conn, &row.id, row.attempts, reason, true)?,
            Outcome::Failed,
        ),
        Mark::GiveBack { reason } => (
            rows::give_back(conn, &row.id, row.attempts, reason)?,
            Outcome::GivenBack,
        ),
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
