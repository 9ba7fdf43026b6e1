//! Writing the outcome of a send attempt ("marks"), in groups: the worker writes every
//! mark queued since its last commit in one transaction (one commit, one fsync), together
//! with its next claim when it has room for more rows ([`commit`]). A mark is queued the
//! moment the server answered, and the next commit writes it (marks are never held back
//! for more marks, and no claim is committed without the marks queued before it), so a mail
//! accepted by the server is marked sent by the next commit after the reply.

use std::collections::HashSet;

use chrono::NaiveDateTime;

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

/// Writes `marks` in the caller's transaction: the sent ones together (one statement per
/// distinct `attempts`), the others one by one. The outcome of each, in order.
pub(super) fn write_marks(
    conn: &mut DbConn,
    marks: &[(Claimed, Mark)],
) -> diesel::QueryResult<Vec<Outcome>> {
    let sent: Vec<(&str, i32)> = marks
        .iter()
        .filter(|(_, mark)| matches!(mark, Mark::Sent { .. }))
        .map(|(row, _)| (row.id.as_str(), row.attempts))
        .collect();
    // The group's sent mails share one time: the latest acceptance among them.
    let sent_at = marks
        .iter()
        .filter_map(|(_, mark)| match mark {
            Mark::Sent { at } => Some(*at),
            _ => None,
        })
        .max();
    let marked_sent: HashSet<String> = match sent_at {
        Some(at) => rows::mark_sent_many(conn, &sent, at)?.into_iter().collect(),
        None => HashSet::new(),
    };
    marks
        .iter()
        .map(|(row, mark)| match mark {
            Mark::Sent { .. } => Ok(if marked_sent.contains(&row.id) {
                Outcome::Sent
            } else {
                Outcome::Lost
            }),
            _ => write_mark(conn, row, mark),
        })
        .collect()
}

/// Writes `marks` and then claims up to `claim` rows (none for 0), in one transaction —
/// one commit, one fsync on SQLite. Should it fail, the marks are written one by one, each
/// in its own transaction, so one bad row cannot fail the others, and nothing is claimed.
pub(super) fn commit(
    pool: &Pool,
    marks: &[(Claimed, Mark)],
    claim: usize,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> (Vec<anyhow::Result<Outcome>>, anyhow::Result<Vec<Claimed>>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(error) => {
            let outcomes = marks
                .iter()
                .map(|_| Err(anyhow::anyhow!("cannot connect to the database: {error}")))
                .collect();
            return (
                outcomes,
                Err(anyhow::anyhow!("cannot connect to the database: {error}")),
            );
        }
    };
    let limit = i64::try_from(claim).unwrap_or(i64::MAX);
    let together = crate::db::write_transaction(&mut conn, |conn| {
        let outcomes = write_marks(conn, marks)?;
        let claimed = if claim > 0 {
            rows::release_expired_leases(conn, now)?;
            rows::claim(conn, now, lease_until, limit)?
        } else {
            Vec::new()
        };
        diesel::QueryResult::Ok((outcomes, claimed))
    });
    match together {
        Ok((outcomes, claimed)) => (outcomes.into_iter().map(Ok).collect(), Ok(claimed)),
        Err(error) => {
            if !marks.is_empty() {
                tracing::warn!(rows = marks.len(), error = %error, "writing a group of outbox outcomes failed; writing them one by one");
            }
            let outcomes = marks
                .iter()
                .map(|(row, mark)| {
                    crate::db::write_transaction(&mut conn, |conn| write_mark(conn, row, mark))
                        .map_err(anyhow::Error::from)
                })
                .collect();
            (
                outcomes,
                Err(anyhow::Error::from(error).context("claiming outbox rows")),
            )
        }
    }
}

/// One mark, fenced by the attempt (a row taken over by another worker is `Lost`).
fn write_mark(conn: &mut DbConn, row: &Claimed, mark: &Mark) -> diesel::QueryResult<Outcome> {
    let (marked, outcome) = match mark {
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
