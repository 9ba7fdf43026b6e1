//! Owners are reminded: once a week each owner of planned or in-progress actions that are
//! due within [`DUE_WITHIN_DAYS`] days or overdue gets one mail listing them (nobody gets a
//! mail when there is nothing to say). The scheduler tick queues it
//! ([`enqueue_due`]); the outbox row's dedupe key names the owner and the ISO week, so
//! however many ticks and instances run, an owner's digest is queued once a week. What it
//! lists is read when it is sent, as of the day it was queued. The same list, for everyone
//! or one owner, is the home page's "actions due" ([`due`]).

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::{ActionError, ActionView};
use crate::db::models::actions as rows;
use crate::db::models::{outbox, users};
use crate::db::DbConn;

/// Actions due within this many days (or overdue) are listed.
pub const DUE_WITHIN_DAYS: i64 = 14;

/// The outbox kind of the digest.
pub const OWNER_DIGEST: &str = "owner_digest";

/// The last due date a digest (or the home page) as of `today` lists.
pub fn horizon(today: NaiveDate) -> NaiveDate {
    today + Duration::days(DUE_WITHIN_DAYS)
}

/// The dedupe key of `owner_id`'s digest in the ISO week of `today`.
pub fn dedupe_key(owner_id: &str, today: NaiveDate) -> String {
    let week = today.iso_week();
    format!(
        "{OWNER_DIGEST}:{owner_id}:{}-W{:02}",
        week.year(),
        week.week()
    )
}

/// Queues this week's digest for every active owner with something due and no digest this
/// week yet; returns how many were queued. Reads only when there is nothing new to queue.
pub fn enqueue_due(conn: &mut DbConn, now: NaiveDateTime) -> anyhow::Result<usize> {
    let today = now.date();
    let owners: BTreeSet<String> = rows::open_due_by(conn, horizon(today), None)?
        .into_iter()
        .map(|row| row.owner_id)
        .collect();
    if owners.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = owners.iter().map(|o| dedupe_key(o, today)).collect();
    let queued = rows::queued_keys(conn, &keys)?;
    let mut mail = Vec::new();
    for (owner, key) in owners.iter().zip(keys) {
        if queued.contains(&key) {
            continue;
        }
        match users::find(conn, owner)? {
            Some(user) if user.active => mail.push(outbox::OutboxRow::pending(
                OWNER_DIGEST,
                key,
                &user.email,
                None,
                None,
                now,
            )),
            _ => {}
        }
    }
    if mail.is_empty() {
        return Ok(0);
    }
    Ok(outbox::enqueue(conn, &mail)?)
}

/// Planned or in-progress actions due within [`DUE_WITHIN_DAYS`] days of `now` or overdue,
/// soonest first; only `owner_email`'s when given.
pub fn due(
    conn: &mut DbConn,
    owner_email: Option<&str>,
    now: NaiveDateTime,
) -> Result<Vec<ActionView>, ActionError> {
    let owner_id = match owner_email {
        Some(email) => match users::find_by_email(conn, &email.trim().to_lowercase())? {
            Some(user) => Some(user.id),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let found = rows::open_due_by(conn, horizon(now.date()), owner_id.as_deref())?;
    super::views(conn, found, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_owner_and_iso_week() {
        let monday = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        let sunday = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
        let next_monday = NaiveDate::from_ymd_opt(2027, 1, 11).unwrap();
        assert_eq!(dedupe_key("u1", monday), "owner_digest:u1:2027-W01");
        assert_eq!(dedupe_key("u1", monday), dedupe_key("u1", sunday));
        assert_ne!(dedupe_key("u1", sunday), dedupe_key("u1", next_monday));
        assert_ne!(dedupe_key("u1", monday), dedupe_key("u2", monday));
        // The ISO year: 1 January 2027 is a Friday of 2026's week 53.
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(dedupe_key("u1", new_year), "owner_digest:u1:2026-W53");
        assert_eq!(
            horizon(monday),
            NaiveDate::from_ymd_opt(2027, 1, 18).unwrap()
        );
    }
}
