//! Storing answers, anonymously and durably, fast.
//!
//! A submission is stored in one transaction: the invitation's answered mark (a keyed HMAC
//! of its id, see `domain::token::answered_mark`) is inserted unless present (so of 50
//! concurrent POSTs with one token exactly one stores anything), the wave is checked to
//! still accept answers, and the response — a random UUIDv4, the wave, the invitation's
//! response cell (a group of at least k invitees, fixed at opening) and the date, nothing
//! that points back to the invitation — is written and its answers are added to the
//! answer counts. No invitation row changes: the database does not say who answered to
//! anyone without the server's key.
//!
//! **What is kept per response.** Every figure is read from the counts, so the only answers
//! stored per response are the ones read per response: its free-text answers and, beside
//! them, its NPS answer (the comments are filtered by promoter and detractor). A response
//! without a free-text answer stores none; a scale, choice or pain-point answer is only
//! ever counted. Less per response to write (three rows instead of fifteen in the benchmark
//! survey), and less in a copy of the database to match answer patterns with.
//!
//! **When a wave closes** ([`compact_wave`]) its answers, responses, counts and marks are
//! deleted; what stays is what the release plan can publish — the results snapshot of the
//! wave and of every allowed filter — and the comments without any cell.
//!
//! **Group commit.** Every submission goes through a [`SubmissionQueue`]: writer threads
//! take whatever submissions are waiting (up to [`MAX_BATCH`]) and store them in ONE
//! transaction, so one fsync acknowledges many answers.
//! Nobody is told "stored" before the commit returned. One writer is right on both backends:
//! SQLite has one writer anyway, and on PostgreSQL the batches of several writers lock the
//! same cells' counts and wait on each other (`submit_bench`: 4,860–5,782 answers/s with
//! one writer, 2,933–3,543/s with four).

use std::collections::{BTreeMap, HashSet};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use tokio::sync::oneshot;

use crate::db::models::invitations;
use crate::db::models::responses::{self as rows, AnswerRow, CountRow, ResponseRow};
use crate::db::models::results as results_rows;
use crate::db::{self, DbConn, Pool};

/// The most submissions stored in one transaction.
pub const MAX_BATCH: usize = 256;

/// One answer, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// NPS 0–10, Likert 1–7.
    Int(i32),
    /// Likert "not applicable".
    NotApplicable,
    /// A choice question's option key.
    Choice(String),
    /// A pain-point question's ticked option keys.
    Options(Vec<String>),
    /// A free-text answer, verbatim.
    Text(String),
}

/// A parsed form answer, as stored.
impl From<crate::domain::answers::AnswerValue> for StoredValue {
    fn from(value: crate::domain::answers::AnswerValue) -> Self {
        use crate::domain::answers::AnswerValue;
        match value {
            AnswerValue::Scale(n) => Self::Int(n),
            AnswerValue::NotApplicable => Self::NotApplicable,
            AnswerValue::Choice(option) => Self::Choice(option),
            AnswerValue::Options(options) => Self::Options(options),
            AnswerValue::Text(text) => Self::Text(text),
        }
    }
}

/// A validated answer set for one invitation.
#[derive(Debug, Clone)]
pub struct Submission {
    /// `domain::token::answered_mark` of the invitation: stored instead of any flag.
    pub answered_mark: String,
    pub wave_id: String,
    /// The invitation's response cell (canonical JSON of its segment, coarsened at opening
    /// to a group of at least k invitees).
    pub cell: String,
    pub answers: Vec<(String, StoredValue)>,
    /// The survey's NPS question ([`SurveyDefinition::nps_key`]): its answer is kept with
    /// the response's free-text answers.
    ///
    /// [`SurveyDefinition::nps_key`]: crate::domain::definition::SurveyDefinition::nps_key
    pub nps_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitOutcome {
    Stored,
    /// The invitation was used already (a double submit, or another tab).
    AlreadyAnswered,
    /// The wave closed (or was cancelled) before the answer arrived.
    WaveClosed,
}

/// Special count keys: respondents of a cell (a question key of its own), and respondents
/// who answered a question at all (a value).
pub use crate::db::models::responses::RESPONSES_KEY;
pub const ANSWERED_VALUE: &str = "_answered";
pub const NOT_APPLICABLE_VALUE: &str = "na";

/// Stores a batch in one write transaction; one outcome per submission, in order. Should
/// the transaction fail, each submission is tried again in a transaction of its own, so
/// one bad submission cannot fail the others.
pub fn store_batch(
    conn: &mut DbConn,
    batch: &[Submission],
    now: NaiveDateTime,
) -> anyhow::Result<Vec<anyhow::Result<SubmitOutcome>>> {
    match store_all(conn, batch, now) {
        Ok(outcomes) => Ok(outcomes.into_iter().map(Ok).collect()),
        Err(error) if batch.len() > 1 => {
            tracing::warn!(
                error = format!("{error:#}"),
                size = batch.len(),
                "a batch of answers failed; storing them one by one"
            );
            Ok(batch
                .iter()
                .map(|submission| {
                    store_all(conn, std::slice::from_ref(submission), now)
                        .map(|outcomes| outcomes[0])
                })
                .collect())
        }
        Err(error) => Ok(vec![Err(error)]),
    }
}

/// The batch in one transaction: the wave check once per wave, the answered marks of the
/// batch (those already there are answered already), then the stored submissions'
/// responses, answers and counts.
fn store_all(
    conn: &mut DbConn,
    batch: &[Submission],
    now: NaiveDateTime,
) -> anyhow::Result<Vec<SubmitOutcome>> {
    db::write_transaction(conn, |conn| -> anyhow::Result<_> {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut accepting: BTreeMap<&str, bool> = BTreeMap::new();
        let mut responses = Vec::new();
        let mut answers = Vec::new();
        let mut counts: BTreeMap<(&str, &str, String, String), i64> = BTreeMap::new();
        for submission in batch {
            if !accepting.contains_key(submission.wave_id.as_str()) {
                let open = rows::wave_accepts_answers(conn, &submission.wave_id, now)?;
                accepting.insert(&submission.wave_id, open);
            }
        }
        let is_open = |submission: &Submission| {
            accepting
                .get(submission.wave_id.as_str())
                .copied()
                .unwrap_or(false)
        };
        // The marks of the batch's submissions to open waves, each once: a mark twice in
        // one batch (the same link sent twice at once) is stored for the first only.
        let mut seen = HashSet::new();
        let marks: Vec<(&str, &str)> = batch
            .iter()
            .filter(|s| is_open(s) && seen.insert(s.answered_mark.as_str()))
            .map(|s| (s.wave_id.as_str(), s.answered_mark.as_str()))
            .collect();
        let mut stored = invitations::insert_answered_marks(conn, &marks)?;
        for submission in batch {
            if !is_open(submission) {
                outcomes.push(SubmitOutcome::WaveClosed);
                continue;
            }
            // `remove`: a later submission with the same mark finds it taken.
            if !stored.remove(&submission.answered_mark) {
                outcomes.push(SubmitOutcome::AlreadyAnswered);
                continue;
            }
            let response_id = uuid::Uuid::new_v4().to_string();
            answers.extend(kept_answer_rows(&response_id, submission));
            responses.push(ResponseRow {
                id: response_id,
                wave_id: submission.wave_id.clone(),
                cell: submission.cell.clone(),
                // A sealed (pulse) answer carries its quarter, not its day: the day would
                // point at the invitations sent just before it.
                submitted_on: if submission
                    .cell
                    .starts_with(crate::domain::token::SEALED_CELL_PREFIX)
                {
                    crate::pulse::Quarter::of(now.date()).start()
                } else {
                    now.date()
                },
            });
            for (question, value) in count_keys(submission) {
                *counts
                    .entry((&submission.wave_id, &submission.cell, question, value))
                    .or_default() += 1;
            }
            outcomes.push(SubmitOutcome::Stored);
        }
        rows::insert_responses(conn, &responses)?;
        rows::insert_answers(conn, &answers)?;
        let increments: Vec<CountRow> = counts
            .into_iter()
            .map(|((wave_id, cell, question_key, value), n)| CountRow {
                wave_id: wave_id.to_string(),
                cell: cell.to_string(),
                question_key,
                value,
                n,
            })
            .collect();
        rows::add_counts(conn, &increments)?;
        Ok(outcomes)
    })
}

/// The answers kept per response (see the module doc): its free-text answers and, when it
/// has one, its NPS answer beside them.
fn kept_answer_rows(response_id: &str, submission: &Submission) -> Vec<AnswerRow> {
    let row = |key: &str, value_int: Option<i32>, value_text: Option<String>| AnswerRow {
        response_id: response_id.to_string(),
        question_key: key.to_string(),
        position: 0,
        value_int,
        value_text,
    };
    let mut out: Vec<AnswerRow> = submission
        .answers
        .iter()
        .filter_map(|(key, value)| match value {
            StoredValue::Text(text) => Some(row(key, None, Some(text.clone()))),
            _ => None,
        })
        .collect();
    if out.is_empty() {
        return out;
    }
    let nps = submission
        .answers
        .iter()
        .find_map(|(key, value)| match value {
            StoredValue::Int(n) if Some(key.as_str()) == submission.nps_key.as_deref() => Some(*n),
            _ => None,
        });
    if let (Some(key), Some(n)) = (submission.nps_key.as_deref(), nps) {
        out.push(row(key, Some(n), None));
    }
    out
}

/// The (question, value) pairs one response adds 1 to.
fn count_keys(submission: &Submission) -> Vec<(String, String)> {
    let mut keys = vec![(RESPONSES_KEY.to_string(), String::new())];
    for (key, value) in &submission.answers {
        match value {
            StoredValue::Int(n) => keys.push((key.clone(), n.to_string())),
            StoredValue::NotApplicable => {
                keys.push((key.clone(), NOT_APPLICABLE_VALUE.to_string()))
            }
            StoredValue::Choice(option) => keys.push((key.clone(), option.clone())),
            StoredValue::Options(options) => {
                keys.extend(options.iter().map(|o| (key.clone(), o.clone())))
            }
            StoredValue::Text(_) => {}
        }
        keys.push((key.clone(), ANSWERED_VALUE.to_string()));
    }
    keys
}

/// What a closed wave keeps, and nothing more (inside `results::freeze`, after the wave's
/// snapshots were written): its comments move to `wave_comments` — text, question and the
/// same response's NPS answer, under new random ids, in random order, without any cell —
/// and its answers, responses, counts and answered marks are deleted.
pub fn compact_wave(
    conn: &mut DbConn,
    wave_id: &str,
    nps_key: Option<&str>,
    text_keys: &[String],
) -> anyhow::Result<()> {
    use rand::seq::SliceRandom;
    let mut kept = Vec::new();
    for key in text_keys {
        let comments = results_rows::all_comments(conn, wave_id, key, nps_key.unwrap_or(""))?;
        kept.extend(
            comments
                .into_iter()
                .filter(|(text, _)| !text.trim().is_empty())
                .map(|(text, nps_answer)| rows::WaveCommentRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    wave_id: wave_id.to_string(),
                    question_key: key.clone(),
                    text,
                    nps_answer,
                }),
        );
    }
    kept.shuffle(&mut rand::thread_rng());
    rows::insert_wave_comments(conn, &kept)?;
    rows::delete_wave_answers(conn, wave_id)?;
    invitations::delete_answered_marks(conn, wave_id)?;
    tracing::info!(
        wave = wave_id,
        comments = kept.len(),
        "closed wave compacted: only its published results and comments are kept"
    );
    Ok(())
}

/// Brings a database written before answered marks (migration 2026-12-01-000006) to the
/// new form; runs at every start after the migrations and does nothing once done. Needs
/// the key: invitations flagged answered become marks, then the flags' table is emptied;
/// closed waves that still hold answers are frozen (their published results kept as they
/// are, every allowed filter added) and compacted; open waves' cells are coarsened to
/// groups of at least k invitees.
pub fn upgrade_storage(
    conn: &mut DbConn,
    key: &crate::config::SecretKey,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    db::write_transaction(conn, |conn| -> anyhow::Result<()> {
        let legacy = invitations::legacy_answered(conn)?;
        for (invitation_id, wave_id) in &legacy {
            let mark = crate::domain::token::answered_mark(key, invitation_id);
            invitations::insert_answered_mark(conn, wave_id, &mark)?;
        }
        invitations::delete_legacy_answered(conn)?;
        if !legacy.is_empty() {
            tracing::info!(
                marks = legacy.len(),
                "answered invitations turned into keyed marks"
            );
        }
        Ok(())
    })?;
    for (wave, _, _) in crate::db::models::waves::list(conn)? {
        match wave.state.as_str() {
            "closed" if rows::has_answers(conn, &wave.id)? => {
                db::write_transaction(conn, |conn| {
                    crate::results::freeze(conn, &wave.id, now)?;
                    crate::results::compact(conn, &wave.id)
                })?;
            }
            "closed" | "cancelled" => {
                invitations::delete_answered_marks(conn, &wave.id)?;
            }
            "open" => {
                db::write_transaction(conn, |conn| {
                    crate::services::waves::coarsen_open_wave(conn, &wave)
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

struct Job {
    submission: Submission,
    reply: oneshot::Sender<anyhow::Result<SubmitOutcome>>,
}

/// The group-commit queue in front of the database.
#[derive(Clone)]
pub struct SubmissionQueue {
    sender: mpsc::SyncSender<Job>,
}

impl SubmissionQueue {
    /// Starts `writers` writer threads on `pool`; `now` gives the time of each batch.
    pub fn start(
        pool: Pool,
        writers: usize,
        now: Arc<dyn Fn() -> NaiveDateTime + Send + Sync>,
    ) -> Self {
        let (sender, receiver) = mpsc::sync_channel::<Job>(4 * MAX_BATCH);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..writers.max(1) {
            let (pool, receiver, now) = (pool.clone(), receiver.clone(), now.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("pulse-writer-{index}"))
                .spawn(move || writer_loop(&pool, &receiver, now.as_ref()));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a response writer thread");
            }
        }
        Self { sender }
    }

    /// Stores one submission; returns after its transaction committed (or failed).
    pub async fn submit(&self, submission: Submission) -> anyhow::Result<SubmitOutcome> {
        let (reply, answer) = oneshot::channel();
        match self.sender.try_send(Job { submission, reply }) {
            Ok(()) => {}
            // The queue is full (back-pressure): wait for room off the async threads.
            Err(mpsc::TrySendError::Full(job)) => {
                let sender = self.sender.clone();
                // The job comes back only with the error: the writer has stopped.
                tokio::task::spawn_blocking(move || sender.send(job).map_err(|_| ()))
                    .await?
                    .map_err(|()| anyhow::anyhow!("the response writer has stopped"))?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                anyhow::bail!("the response writer has stopped")
            }
        }
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the response writer dropped the answer"))?
    }
}

fn writer_loop(
    pool: &Pool,
    receiver: &Mutex<mpsc::Receiver<Job>>,
    now: &(dyn Fn() -> NaiveDateTime + Send + Sync),
) {
    // The writer keeps its connection (and SQLite's page cache with it) from one batch to
    // the next; after a batch with a failure it takes a fresh one from the pool.
    let mut kept: Option<db::PooledConn> = None;
    loop {
        // Take the first waiting job (blocking), then whatever else is already queued.
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
        let batch: Vec<Submission> = jobs.iter().map(|job| job.submission.clone()).collect();
        let conn = match kept.take() {
            Some(conn) => Ok(conn),
            None => pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| {
                    db::keep_as_writer(&mut conn)?;
                    Ok(conn)
                }),
        };
        let result = conn.and_then(|mut conn| {
            let outcomes = store_batch(&mut conn, &batch, now())?;
            if outcomes.iter().all(Result::is_ok) {
                kept = Some(conn);
            }
            Ok(outcomes)
        });
        match result {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    size = batch.len(),
                    "storing a batch of answers failed"
                );
                for job in jobs {
                    let _ = job.reply.send(Err(anyhow::anyhow!(
                        "the answers could not be stored: {error}"
                    )));
                }
            }
        }
    }
}
