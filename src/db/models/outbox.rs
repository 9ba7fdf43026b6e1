//! `outbox`: every email, from enqueue to sent/dead. The state machine:
//!
//! ```text
//! pending ──claim (lease)──▶ sending ──▶ sent
//!    ▲                          │ 4xx / timeout: attempts left → pending, next_attempt_at later
//!    ├── lease expired ─────────┤ attempts exhausted → dead, retryable (`retry_failed` → pending)
//!    ├── relay unusable ────────┤ (attempt given back; the worker pauses)
//!    │                          │ 5xx → dead (a refused recipient is suppressed)
//!    │                          └ no longer wanted (responded, opted out, wave closed) → cancelled
//!    └── retry-failed ◀── dead, retryable
//! ```
//!
//! Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL (several workers never claim the same
//! row) and the single-writer lock on SQLite. Every mark is fenced by `attempts`, so a worker
//! whose lease expired cannot overwrite the outcome of the one that took over. A worker
//! renews the lease of the rows it holds while it sends them ([`renew_leases`]), so the
//! lease can be short: a killed worker's rows are free again soon after.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use crate::db::schema::outbox;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub dedupe_key: String,
    pub recipient: String,
    pub wave_id: Option<String>,
    pub invitation_id: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// On a dead row: temporary failures outlasted the retries (not a refusal), so it can
    /// be sent again.
    pub retryable: bool,
}

impl OutboxRow {
    /// A new pending row.
    pub fn pending(
        kind: &str,
        dedupe_key: String,
        recipient: &str,
        wave_id: Option<&str>,
        invitation_id: Option<&str>,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            // Time-ordered (v7): a wave's mails append to the end of the primary key.
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.to_string(),
            dedupe_key,
            recipient: recipient.to_string(),
            wave_id: wave_id.map(str::to_string),
            invitation_id: invitation_id.map(str::to_string),
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            retryable: false,
        }
    }
}

/// A claimed row, as the worker needs it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub wave_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub invitation_id: Option<String>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Ids per `eq_any` update.
const BATCH: usize = 500;

/// Enqueues rows; a row whose `dedupe_key` exists already is skipped. Returns how many
/// were new. Prepared multi-row INSERTs (see [`crate::insert_batches!`]).
pub fn enqueue(conn: &mut DbConn, rows: &[OutboxRow]) -> QueryResult<usize> {
    crate::insert_batches!(conn, outbox::table, rows, on_conflict_do_nothing)
}

/// Enqueues the mails of invitations created in the same transaction: their dedupe keys
/// (`invitation:<new id>`) cannot exist yet, so no conflict is skipped — a duplicate is an
/// error that rolls the opening back. Without a conflict clause PostgreSQL takes them as
/// one `COPY` ([`crate::insert_batches!`]): opening a wave of 100,000 spent 2.5 s of server
/// time in its 1,000 `INSERT … ON CONFLICT DO NOTHING` statements.
pub fn enqueue_new(conn: &mut DbConn, rows: &[OutboxRow]) -> QueryResult<usize> {
    crate::insert_batches!(conn, outbox::table, rows)
}

/// Returns rows whose lease expired (their worker died) to pending.
pub fn release_expired_leases(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::state.eq("sending"))
            .filter(outbox::lease_until.lt(now)),
    )
    .set((
        outbox::state.eq("pending"),
        outbox::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Claims up to `limit` due rows: state sending, leased until `lease_until`, attempts + 1.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    const SQLITE: &str =
        "UPDATE outbox SET state = 'sending', lease_until = ?, attempts = attempts + 1
        WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?
                     ORDER BY next_attempt_at LIMIT ?)
        RETURNING id, kind, recipient, wave_id, invitation_id, attempts";
    const POSTGRES: &str =
        "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1
        WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2
                     ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, recipient, wave_id, invitation_id, attempts";
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(SQLITE)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c),
        DbConn::Pg(c) => diesel::sql_query(POSTGRES)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c),
    }
}

/// The row `id` as claimed with `attempts`, still in `sending`: the fence of every mark.
macro_rules! fenced {
    ($id:expr, $attempts:expr) => {
        outbox::table
            .filter(outbox::id.eq($id))
            .filter(outbox::state.eq("sending"))
            .filter(outbox::attempts.eq($attempts))
    };
}

pub fn mark_sent(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(fenced!(id, attempts))
        .set((
            outbox::state.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn mark_retry(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    diesel::update(fenced!(id, attempts))
        .set((
            outbox::state.eq("pending"),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives a row up: refused (`retryable` false) or undelivered after every retry (true).
pub fn mark_dead(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    error: &str,
    retryable: bool,
) -> QueryResult<bool> {
    diesel::update(fenced!(id, attempts))
        .set((
            outbox::state.eq("dead"),
            outbox::retryable.eq(retryable),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// The relay could not be used (nothing about this row is wrong): pending again at once,
/// and the attempt does not count. Fenced; `attempts` goes back to what it was before the
/// claim, which is safe because only a row in `sending` can match a fence.
pub fn give_back(conn: &mut DbConn, id: &str, attempts: i32, error: &str) -> QueryResult<bool> {
    diesel::update(fenced!(id, attempts))
        .set((
            outbox::state.eq("pending"),
            outbox::attempts.eq(attempts - 1),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Marks many rows sent at once, each fenced by its claim like [`mark_sent`] (`(id,
/// attempts)` as claimed): one statement per distinct `attempts` and 500 rows. Returns the
/// ids that were marked; a row missing from it was taken over by another worker.
pub fn mark_sent_many(
    conn: &mut DbConn,
    rows: &[(&str, i32)],
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let mut marked = Vec::with_capacity(rows.len());
    for (attempts, ids) in by_attempts(rows) {
        for chunk in ids.chunks(BATCH) {
            let update = diesel::update(
                outbox::table
                    .filter(outbox::id.eq_any(chunk))
                    .filter(outbox::state.eq("sending"))
                    .filter(outbox::attempts.eq(attempts)),
            )
            .set((
                outbox::state.eq("sent"),
                outbox::sent_at.eq(now),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(None::<String>),
            ))
            .returning(outbox::id);
            marked.extend(crate::on_backend!(conn, c => update.get_results::<String>(c))?);
        }
    }
    Ok(marked)
}

/// `(id, attempts)` pairs grouped by `attempts` (in a wave nearly all rows share one).
fn by_attempts<'a>(rows: &[(&'a str, i32)]) -> Vec<(i32, Vec<&'a str>)> {
    let mut groups: Vec<(i32, Vec<&'a str>)> = Vec::new();
    for &(id, attempts) in rows {
        match groups.iter_mut().find(|(a, _)| *a == attempts) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((attempts, vec![id])),
        }
    }
    groups
}

/// Extends the lease of rows this worker is still sending (`(id, attempts)` as claimed;
/// a row another worker took over meanwhile is left alone). Returns how many were renewed.
pub fn renew_leases(
    conn: &mut DbConn,
    rows: &[(String, i32)],
    lease_until: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<(&str, i32)> = rows.iter().map(|(id, a)| (id.as_str(), *a)).collect();
    let mut renewed = 0;
    for (attempts, ids) in by_attempts(&rows) {
        for chunk in ids.chunks(BATCH) {
            renewed += diesel::update(
                outbox::table
                    .filter(outbox::id.eq_any(chunk))
                    .filter(outbox::state.eq("sending"))
                    .filter(outbox::attempts.eq(attempts)),
            )
            .set(outbox::lease_until.eq(lease_until))
            .execute(conn)?;
        }
    }
    Ok(renewed)
}

/// Sends the mail of a wave that could not be delivered (dead, retryable) again: pending
/// now, attempts from zero. Returns how many rows.
pub fn retry_failed_for_wave(
    conn: &mut DbConn,
    wave_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::wave_id.eq(wave_id))
            .filter(outbox::state.eq("dead"))
            .filter(outbox::retryable.eq(true)),
    )
    .set((
        outbox::state.eq("pending"),
        outbox::retryable.eq(false),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
    ))
    .execute(conn)
}

/// Why a wave's mail could not be delivered: `(retryable, last error, count)`, most
/// frequent first.
pub fn failures_for_wave(
    conn: &mut DbConn,
    wave_id: &str,
) -> QueryResult<Vec<(bool, Option<String>, i64)>> {
    use diesel::dsl::count_star;
    let mut rows: Vec<(bool, Option<String>, i64)> = outbox::table
        .filter(outbox::wave_id.eq(wave_id))
        .filter(outbox::state.eq("dead"))
        .group_by((outbox::retryable, outbox::last_error))
        .select((outbox::retryable, outbox::last_error, count_star()))
        .load(conn)?;
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    Ok(rows)
}

/// Hands a claimed row back unsent (graceful shutdown): pending again at once, no lease,
/// so another worker (or this one after a restart) takes it without waiting for the lease
/// to expire. Fenced like every mark; the interrupted attempt stays counted, which keeps
/// `attempts` growing so a stale fence can never match a later claim.
pub fn release_claim(conn: &mut DbConn, id: &str, attempts: i32) -> QueryResult<bool> {
    diesel::update(fenced!(id, attempts))
        .set((
            outbox::state.eq("pending"),
            outbox::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn mark_cancelled(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    reason: &str,
) -> QueryResult<bool> {
    diesel::update(fenced!(id, attempts))
        .set((
            outbox::state.eq("cancelled"),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(reason),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Cancels the pending mail of a wave (when it closes or is cancelled).
pub fn cancel_pending_for_wave(
    conn: &mut DbConn,
    wave_id: &str,
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::wave_id.eq(wave_id))
            .filter(outbox::kind.eq_any(["invitation", "reminder"]))
            .filter(outbox::state.eq("pending")),
    )
    .set((outbox::state.eq("cancelled"), outbox::last_error.eq(reason)))
    .execute(conn)
}

/// Cancels pending reminders for the given invitations (after an opt-out).
pub fn cancel_pending_reminders(
    conn: &mut DbConn,
    invitation_ids: &[String],
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::invitation_id.eq_any(invitation_ids))
            .filter(outbox::kind.eq("reminder"))
            .filter(outbox::state.eq("pending")),
    )
    .set((outbox::state.eq("cancelled"), outbox::last_error.eq(reason)))
    .execute(conn)
}

/// `(kind, state, attempts, retryable, count)`: one group of a wave's mail.
pub type WaveMailCount = (String, String, i32, bool, i64);

/// (kind, state, attempts, retryable) → count, for a wave's progress.
pub fn counts_for_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<WaveMailCount>> {
    use diesel::dsl::count_star;
    outbox::table
        .filter(outbox::wave_id.eq(wave_id))
        .group_by((
            outbox::kind,
            outbox::state,
            outbox::attempts,
            outbox::retryable,
        ))
        .select((
            outbox::kind,
            outbox::state,
            outbox::attempts,
            outbox::retryable,
            count_star(),
        ))
        .load(conn)
}

/// How many rows are in each of `states` (states without rows are left out), for
/// `/metrics`. Served by the `(state, next_attempt_at)` index.
pub fn counts_by_state(conn: &mut DbConn, states: &[&str]) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    outbox::table
        .filter(outbox::state.eq_any(states))
        .group_by(outbox::state)
        .select((outbox::state, count_star()))
        .load(conn)
}

/// Rows not yet finished (pending or sending), for metrics and tests.
pub fn depth(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::state.eq_any(["pending", "sending"]))
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OutboxRow>> {
    outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()
}

/// Marks every pending row of a wave sent at the time it was due (`next_attempt_at`). Only
/// for mail of a past that `pulse demo` plays through (`crate::demo`), so a demo server does
/// not send it all at start.
pub fn mark_pending_sent_for_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::wave_id.eq(wave_id))
            .filter(outbox::state.eq("pending")),
    )
    .set((
        outbox::state.eq("sent"),
        outbox::attempts.eq(1),
        outbox::sent_at.eq(outbox::next_attempt_at.nullable()),
    ))
    .execute(conn)
}

/// Whether an invitation mail of `invitation_id` other than `except` was sent (or handled
/// as sent) already: a second one is a resend.
pub fn invitation_sent_before(
    conn: &mut DbConn,
    invitation_id: &str,
    except: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        outbox::table
            .filter(outbox::invitation_id.eq(invitation_id))
            .filter(outbox::kind.eq("invitation"))
            .filter(outbox::state.eq("sent"))
            .filter(outbox::id.ne(except)),
    ))
    .get_result(conn)
}
