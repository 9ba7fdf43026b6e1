//! The demo's pulses after fulfilled requests: the two years of requests of the request log
//! replayed week by week through the real pulse service — each fulfilled request's pulse
//! decided a day later by the touch rules (some people opted out of pulses, some requesters
//! are contractors outside the directory, nobody gets two pulses in 30 days, nobody while
//! the open half-year wave invites them), invited into its quarter's pulse wave, answered
//! by about half (late requests score lower), and every quarter closed and released after
//! its answer days. Past mail is recorded as sent, so serving the demo sends nothing.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::model::{normal, Person};
use crate::config::SecretKey;
use crate::db::models::{invitations, opt_outs, outbox, pulses as pulse_rows, waves};
use crate::db::DbConn;
use crate::domain::answers;
use crate::domain::token::{answered_mark, sealed_cell};
use crate::pulse::{self, PulseSettings, Quarter};
use crate::services::responses::{self, StoredValue, Submission};

/// What the demo's pulses did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PulseDemo {
    pub invited: usize,
    pub skipped: usize,
    pub answered: usize,
    pub quarters_released: usize,
}

/// Share of internal customers who opted out of pulses (but not of the surveys).
const OPT_OUT_SHARE: f64 = 0.03;

const COMMENTS_LATE: [(&str, &str); 3] = [
    (
        "It took far too long, and nobody told me where it was stuck.",
        "Es hat viel zu lange gedauert, und niemand hat mir gesagt, wo es hängt.",
    ),
    (
        "Please tell requesters about delays before the deadline passes.",
        "Bitte informieren Sie über Verzögerungen, bevor die Frist abläuft.",
    ),
    (
        "The approval loop cost us weeks.",
        "Die Genehmigungsschleife hat uns Wochen gekostet.",
    ),
];
const COMMENTS_ON_TIME: [(&str, &str); 3] = [
    (
        "Quick and friendly, thank you.",
        "Schnell und freundlich, danke.",
    ),
    (
        "Clear steps, and the catalogue made it easy.",
        "Klare Schritte, und der Katalog hat es leicht gemacht.",
    ),
    (
        "Fine; a status update by mail would help.",
        "Gut; eine Statusmeldung per Mail wäre hilfreich.",
    ),
];

/// The weekly replay of the pulses owed by the stored request log: [`Replay::until`] moves
/// it on (the demo moves it on up to each wave's opening, so the touch rules see the waves
/// as they were).
pub struct Replay {
    rng: StdRng,
    at: NaiveDateTime,
    now: NaiveDateTime,
    pub done: PulseDemo,
}

impl Replay {
    /// Starts at `from`: the pulses owed are dated to their fulfilment, and a few people
    /// opt out of pulses.
    pub fn start(
        conn: &mut DbConn,
        people: &HashMap<&str, &Person>,
        seed: u64,
        from: NaiveDate,
        now: NaiveDateTime,
    ) -> anyhow::Result<Self> {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x0090_15e5);
        let settings = PulseSettings::load(conn)?;
        // The import recorded every fulfilled request as seen now; the log is a history, so
        // each was seen on the day it was fulfilled.
        pulse_rows::backdate_seen_to_fulfilment(conn)?;
        let mut emails: Vec<&&Person> = people.values().collect();
        emails.sort_by(|a, b| a.email.cmp(&b.email));
        for person in emails {
            if person.attributes.iter().any(|(k, _)| *k == "business_unit")
                && rng.gen_bool(OPT_OUT_SHARE)
            {
                if let Some(row) =
                    crate::db::models::stakeholders::find_by_email(conn, &person.email)?
                {
                    opt_outs::opt_out(conn, &row.id, &settings.survey_slug, now)?;
                }
            }
        }
        Ok(Self {
            rng,
            at: from.and_hms_opt(9, 0, 0).context("a valid time")?,
            now,
            done: PulseDemo::default(),
        })
    }

    /// Plays the weeks before `until` (and not after the demo's now).
    pub fn until(
        &mut self,
        conn: &mut DbConn,
        key: &SecretKey,
        people: &HashMap<&str, &Person>,
        until: NaiveDateTime,
    ) -> anyhow::Result<()> {
        while self.at < until.min(self.now) {
            let at = self.at;
            self.done.quarters_released += released_quarters(conn, key, at)?;
            let report = pulse::send_due(conn, key, at)?;
            self.done.invited += report.invited;
            self.done.skipped += report.skipped;
            if report.invited > 0 {
                self.done.answered += answer(conn, key, &mut self.rng, people, at, self.now)?;
            }
            self.at += Duration::days(7);
        }
        Ok(())
    }
}

/// Closes the quarters whose answer days are over; their "results are ready" mails are
/// recorded as sent.
fn released_quarters(
    conn: &mut DbConn,
    key: &SecretKey,
    at: NaiveDateTime,
) -> anyhow::Result<usize> {
    let due = pulse_rows::due_to_close(conn, at)?;
    let closed = pulse::close_due(conn, key, at)?;
    for wave_id in due {
        outbox::mark_pending_sent_for_wave(conn, &wave_id)?;
    }
    Ok(closed)
}

/// Answers about half of the invitations sent at `at`, a day later (not after `now`).
fn answer(
    conn: &mut DbConn,
    key: &SecretKey,
    rng: &mut StdRng,
    people: &HashMap<&str, &Person>,
    at: NaiveDateTime,
    now: NaiveDateTime,
) -> anyhow::Result<usize> {
    let settings = PulseSettings::load(conn)?;
    let period =
        pulse_rows::find_period(conn, &settings.survey_slug, Quarter::of(at.date()).start())?
            .context("the pulse wave of the quarter is missing")?;
    outbox::mark_pending_sent_for_wave(conn, &period.wave_id)?;
    let answered_at = at + Duration::hours(20);
    if answered_at > now {
        return Ok(0);
    }
    let definition = waves::find_with_survey(conn, &period.wave_id)?
        .context("the pulse wave disappeared")?
        .parsed_definition()?;
    let mut batch = Vec::new();
    for (invitation, email) in invitations::of_wave_with_email(conn, &period.wave_id)? {
        if invitation.created_at != at || !rng.gen_bool(0.55) {
            continue;
        }
        let late =
            invitation
                .segment
                .contains(&format!("\"{}\":\"{}\"", pulse::FULFILMENT, pulse::LATE));
        let offset = people.get(email.as_str()).map(|p| p.offset).unwrap_or(0.0);
        let german = people
            .get(email.as_str())
            .is_some_and(|p| p.language == "de");
        let mood = if late { 4.6 } else { 8.1 } + offset + normal(rng, 1.4);
        let score = mood.round().clamp(0.0, 10.0) as i64;
        let satisfaction = ((mood - 1.0) / 2.0).round().clamp(1.0, 5.0) as i64;
        let mut form = vec![
            ("recommend".to_string(), score.to_string()),
            ("overall_satisfaction".to_string(), satisfaction.to_string()),
        ];
        if rng.gen_bool(0.3) {
            let comments = if late {
                COMMENTS_LATE
            } else {
                COMMENTS_ON_TIME
            };
            let (en, de) = comments[rng.gen_range(0..comments.len())];
            form.push((
                "improve_first".to_string(),
                if german { de } else { en }.to_string(),
            ));
        }
        let parsed = answers::parse(&definition, &form).map_err(|errors| {
            anyhow::anyhow!("the demo's pulse answers are refused by the form: {errors}")
        })?;
        batch.push(Submission {
            answered_mark: answered_mark(key, &invitation.id),
            wave_id: period.wave_id.clone(),
            cell: sealed_cell(key, &invitation.id),
            answers: parsed
                .into_iter()
                .map(|(question, value)| (question, StoredValue::from(value)))
                .collect(),
            nps_key: definition.nps_key().map(str::to_string),
        });
    }
    let mut stored = 0;
    for chunk in batch.chunks(responses::MAX_BATCH) {
        for outcome in responses::store_batch(conn, chunk, answered_at)? {
            if outcome? == responses::SubmitOutcome::Stored {
                stored += 1;
            }
        }
    }
    Ok(stored)
}
