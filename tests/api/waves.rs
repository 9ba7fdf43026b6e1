//! Waves, schedules, the scheduler and the outbox, end to end: real databases, the real
//! `pulse` binary where it matters, and a real SMTP server on loopback.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use pulse::clock::ManualClock;
use pulse::db::models::{invitations, outbox as outbox_rows, waves as wave_rows};
use pulse::domain::wave::WaveInput;
use pulse::outbox::{Outbox, OutboxConfig};
use pulse::scheduler;
use pulse::services::waves;

use crate::both_backends;
use crate::helpers::{spawn_app, text, Backend, TestApp};
use crate::smtp_server::{Action, Match, SmtpServer};

pub fn t(s: &str) -> NaiveDateTime {
    pulse::domain::schedule::parse_time(s, NaiveDateTime::default()).unwrap()
}

/// A wave of `internal-customer` opening at `opens` for the seeded stakeholders.
pub fn schedule(app: &TestApp, opens: &str, closes: &str, remind: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = WaveInput {
        survey: "internal-customer".into(),
        title: "H1 2027".into(),
        opens: opens.into(),
        closes: closes.into(),
        remind: remind.into(),
        ..Default::default()
    };
    waves::schedule_wave(&mut conn, &input, t("2027-01-01"))
        .unwrap()
        .id
}

pub fn tick(app: &TestApp, now: NaiveDateTime) -> scheduler::TickReport {
    let mut conn = app.pool.get().unwrap();
    scheduler::tick(&mut conn, &app.secret_key(), now).unwrap()
}

/// An outbox worker against `smtp` on the app's database, with a clock the test moves.
pub async fn outbox(app: &TestApp, smtp: &SmtpServer, clock: &ManualClock) -> Outbox {
    outbox_with(app, smtp, clock, 2).await
}

pub async fn outbox_with(
    app: &TestApp,
    smtp: &SmtpServer,
    clock: &ManualClock,
    timeout_seconds: u64,
) -> Outbox {
    let mailer = crate::helpers::smtp_mailer(&smtp.url(), timeout_seconds);
    Outbox::new(
        app.pool.clone(),
        Arc::new(mailer),
        app.secret_key(),
        "https://pulse.example.com",
        Arc::new(clock.clone()),
        OutboxConfig {
            max_in_flight: 8,
            retry_base: Duration::from_secs(60),
            ..Default::default()
        },
    )
}

fn outbox_state_counts(app: &TestApp, wave_id: &str) -> waves::WaveProgress {
    let mut conn = app.pool.get().unwrap();
    waves::progress(&mut conn, wave_id).unwrap()
}

async fn opening_a_wave_emails_each_stakeholder_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(12);
    let smtp = SmtpServer::start().await;
    let wave_id = schedule(&app, "2027-01-15", "2027-02-05", "7d,14d");

    // Not due yet: nothing happens.
    assert_eq!(tick(&app, t("2027-01-14")).waves_opened, 0);
    let report = tick(&app, t("2027-01-15T00:00:01Z"));
    assert_eq!((report.waves_opened, report.invitations), (1, 12));
    // A second tick (or a second process) finds nothing more to do.
    assert_eq!(tick(&app, t("2027-01-15T00:01:00Z")).invitations, 0);

    let clock = ManualClock::new(t("2027-01-15T00:02:00Z"));
    let sent = outbox(&app, &smtp, &clock).await.drain().await.unwrap();
    assert_eq!(sent.sent, 12);

    let mails = smtp.messages();
    assert_eq!(mails.len(), 12);
    let recipients: HashSet<_> = mails.iter().map(|m| m.to.join(",")).collect();
    assert_eq!(recipients.len(), 12, "one mail per stakeholder");
    let ids: HashSet<_> = mails.iter().map(|m| m.message_id().unwrap()).collect();
    assert_eq!(ids.len(), 12);
    let mut conn = app.pool.get().unwrap();
    for mail in &mails {
        let body = mail.text_body().unwrap();
        let link = crate::helpers::survey_link(&body).expect("a survey link in the mail");
        assert!(link.starts_with("https://pulse.example.com/s/"), "{link}");
        let token = link.rsplit('/').next().unwrap();
        assert!(token.len() >= 22, "at least 128 bits");
        let hash = pulse::auth::tokens::sha256_hex(token);
        assert!(
            invitations::find_by_token_hash(&mut conn, &hash)
                .unwrap()
                .is_some(),
            "the link resolves to an invitation"
        );
        let unsubscribe = mail.list_unsubscribe().unwrap();
        assert!(
            unsubscribe.starts_with("<https://pulse.example.com/u/"),
            "{unsubscribe}"
        );
        assert_eq!(
            mail.header("List-Unsubscribe-Post").unwrap(),
            "List-Unsubscribe=One-Click"
        );
    }
    let progress = outbox_state_counts(&app, &wave_id);
    assert_eq!(
        (
            progress.invited,
            progress.emailed,
            progress.pending,
            progress.bounced
        ),
        (12, 12, 0, 0)
    );
}

/// A wave of more than `db::COPY_ROWS` people (PostgreSQL writes its invitations and
/// outbox rows with COPY, SQLite with batched INSERTs): every person is invited once, with
/// a link of their own and one mail waiting; a second tick adds nothing.
async fn a_large_wave_invites_everyone_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let n = pulse::db::COPY_ROWS + 234;
    app.seed_stakeholders(n);
    let wave_id = schedule(&app, "2027-01-15", "2027-02-05", "none");
    let report = tick(&app, t("2027-01-15T00:00:01Z"));
    assert_eq!((report.waves_opened, report.invitations), (1, n));
    assert_eq!(tick(&app, t("2027-01-15T00:01:00Z")).invitations, 0);

    let mut conn = app.pool.get().unwrap();
    let invited = invitations::of_wave_with_email(&mut conn, &wave_id).unwrap();
    assert_eq!(invited.len(), n);
    let emails: HashSet<_> = invited.iter().map(|(_, email)| email.clone()).collect();
    let hashes: HashSet<_> = invited.iter().map(|(i, _)| i.token_hash.clone()).collect();
    assert_eq!((emails.len(), hashes.len()), (n, n), "one link per person");
    assert!(emails.contains(&format!("person{}@example.com", n - 1)));
    let progress = outbox_state_counts(&app, &wave_id);
    assert_eq!((progress.invited, progress.pending), (n as i64, n as i64));

    // One mail per invitation, to its stakeholder, keyed by it (on PostgreSQL all of them
    // written by one COPY).
    let mails: Vec<(Option<String>, String, String)> = {
        use diesel::prelude::*;
        use pulse::db::schema::outbox;
        outbox::table
            .filter(outbox::wave_id.eq(&wave_id))
            .select((outbox::invitation_id, outbox::dedupe_key, outbox::recipient))
            .load(&mut *conn)
            .unwrap()
    };
    let email_of: std::collections::HashMap<_, _> = invited
        .iter()
        .map(|(invitation, email)| (invitation.id.clone(), email.clone()))
        .collect();
    assert_eq!(mails.len(), n);
    let mut mailed = HashSet::new();
    for (invitation, dedupe_key, recipient) in mails {
        let invitation = invitation.expect("an invitation's mail names it");
        assert_eq!(dedupe_key, format!("invitation:{invitation}"));
        assert_eq!(Some(&recipient), email_of.get(&invitation));
        assert!(mailed.insert(invitation), "one mail per invitation");
    }
}

async fn a_4xx_reply_is_retried_and_delivered_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let smtp = SmtpServer::start().await;
    smtp.script(Match::Recipient("person1@example.com"), [Action::TempFail]);
    schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let worker = outbox(&app, &smtp, &clock).await;

    let first = worker.drain().await.unwrap();
    assert_eq!((first.sent, first.retried), (2, 1));
    // Backoff: not due 30 s later, due after a minute.
    clock.advance(chrono::Duration::seconds(30));
    assert_eq!(worker.drain().await.unwrap().sent, 0);
    clock.advance(chrono::Duration::seconds(31));
    assert_eq!(worker.drain().await.unwrap().sent, 1);

    let to_person1 = smtp
        .messages()
        .iter()
        .filter(|m| m.to == ["person1@example.com"])
        .count();
    assert_eq!(to_person1, 1, "delivered exactly once");
}

async fn a_5xx_reply_ends_dead_and_suppresses_the_address(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let smtp = SmtpServer::start().await;
    smtp.script(Match::Recipient("person2@example.com"), [Action::Reject]);
    let first_wave = schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let report = outbox(&app, &smtp, &clock).await.drain().await.unwrap();
    assert_eq!((report.sent, report.dead), (2, 1));
    assert_eq!(outbox_state_counts(&app, &first_wave).bounced, 1);

    // The next wave skips the address.
    let second = {
        let mut conn = app.pool.get().unwrap();
        let input = WaveInput {
            survey: "internal-customer".into(),
            title: "H2 2027".into(),
            opens: "2027-07-15".into(),
            closes: "2027-08-05".into(),
            remind: "none".into(),
            ..Default::default()
        };
        waves::schedule_wave(&mut conn, &input, t("2027-02-10"))
            .unwrap()
            .id
    };
    let report = tick(&app, t("2027-07-15"));
    assert_eq!(report.invitations, 2);
    assert_eq!(outbox_state_counts(&app, &second).skipped, 1);
}

async fn with_the_server_down_mail_waits_and_goes_out_once_it_is_back(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(5);
    let smtp = SmtpServer::start().await;
    schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let worker = outbox(&app, &smtp, &clock).await;

    smtp.stop().await;
    // A relay that cannot be reached pauses sending; no mail uses up an attempt.
    let down = worker.drain().await.unwrap();
    assert_eq!((down.sent, down.retried, down.given_back), (0, 0, 5));
    assert!(down.relay_problem.unwrap().contains("cannot connect"));

    smtp.restart().await;
    clock.advance(chrono::Duration::minutes(2));
    let up = worker.drain().await.unwrap();
    assert_eq!(up.sent, 5);
    clock.advance(chrono::Duration::hours(7));
    assert_eq!(
        worker.drain().await.unwrap(),
        pulse::outbox::DispatchReport::default()
    );
    assert_eq!(smtp.messages().len(), 5, "each exactly once");
}

async fn a_stalled_server_times_out_without_blocking_other_sends(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(4);
    let smtp = SmtpServer::start().await;
    smtp.script(Match::Recipient("person0@example.com"), [Action::Stall]);
    schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let worker = outbox_with(&app, &smtp, &clock, 1).await;

    let started = std::time::Instant::now();
    let report = worker.drain().await.unwrap();
    assert_eq!((report.sent, report.retried), (3, 1));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stall was cut off by the timeout"
    );
    assert_eq!(
        smtp.messages()
            .iter()
            .filter(|m| m.to != ["person0@example.com"])
            .count(),
        3
    );
}

async fn reminders_go_only_to_those_who_have_not_answered_or_opted_out(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(4);
    let smtp = SmtpServer::start().await;
    let wave_id = schedule(&app, "2027-01-15", "2027-02-05", "7d,14d");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let worker = outbox(&app, &smtp, &clock).await;
    worker.drain().await.unwrap();
    let invitations_sent = smtp.messages();

    // person0 answers; person1 opts out with the one-click POST from their mail.
    {
        let mut conn = app.pool.get().unwrap();
        let (inv, _) =
            invitations::find_in_wave_by_email(&mut conn, &wave_id, "person0@example.com")
                .unwrap()
                .unwrap();
        let mark = pulse::domain::token::answered_mark(&app.secret_key(), &inv.id);
        assert!(invitations::insert_answered_mark(&mut conn, &wave_id, &mark).unwrap());
    }
    let person1 = invitations_sent
        .iter()
        .find(|m| m.to == ["person1@example.com"])
        .unwrap();
    let unsubscribe = person1.list_unsubscribe().unwrap();
    let path = unsubscribe
        .trim_matches(|c| c == '<' || c == '>')
        .replace("https://pulse.example.com", "");
    let one_click = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);

    // Day 6: nothing. Day 7: the first round. Day 14: the second. A round is queued for
    // everyone who may still get mail (person0, who answered, too: the outbox must not
    // tell who answered); whether to send is decided at sending.
    assert_eq!(tick(&app, t("2027-01-21")).reminders, 0);
    assert_eq!(tick(&app, t("2027-01-22T00:00:01Z")).reminders, 3);
    assert_eq!(
        tick(&app, t("2027-01-22T01:00:00Z")).reminders,
        0,
        "a round is enqueued once"
    );
    clock.set(t("2027-01-22T00:00:02Z"));
    // Three rows end as sent alike; two mails go out (person0's is skipped silently).
    assert_eq!(worker.drain().await.unwrap().sent, 3);
    assert_eq!(smtp.messages().len(), 6);
    {
        let mut conn = app.pool.get().unwrap();
        let states: HashSet<(String, String)> = outbox_rows::counts_for_wave(&mut conn, &wave_id)
            .unwrap()
            .into_iter()
            .filter(|(kind, ..)| kind == "reminder")
            .map(|(kind, state, ..)| (kind, state))
            .collect();
        assert_eq!(
            states,
            HashSet::from([("reminder".to_string(), "sent".to_string())])
        );
    }
    let reminded: HashSet<_> = smtp.messages()[4..]
        .iter()
        .map(|m| m.to[0].clone())
        .collect();
    assert_eq!(
        reminded,
        HashSet::from([
            "person2@example.com".to_string(),
            "person3@example.com".to_string()
        ])
    );
    let reminder = &smtp.messages()[4];
    let original = invitations_sent
        .iter()
        .find(|m| m.to == reminder.to)
        .unwrap();
    assert_eq!(
        crate::helpers::survey_link(&reminder.text_body().unwrap()),
        crate::helpers::survey_link(&original.text_body().unwrap()),
        "a reminder carries the same link"
    );
    assert_eq!(tick(&app, t("2027-01-29T00:00:01Z")).reminders, 3);
    // Closing cancels what is still pending and no reminder follows.
    assert_eq!(tick(&app, t("2027-02-05")).waves_closed, 1);
    clock.set(t("2027-02-05T00:00:01Z"));
    let after_close = worker.drain().await.unwrap();
    assert_eq!(after_close.sent, 0, "{after_close:?}");
}

async fn opt_out_get_changes_nothing_and_post_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(1);
    let smtp = SmtpServer::start().await;
    schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    outbox(&app, &smtp, &clock).await.drain().await.unwrap();
    let mail = &smtp.messages()[0];
    let link = crate::helpers::unsubscribe_link(&mail.text_body().unwrap())
        .expect("an unsubscribe link in the body");
    let path = link.replace("https://pulse.example.com", "");

    let page = app.get(&path).await;
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Stop emails about this survey?"));
    let mut conn = app.pool.get().unwrap();
    assert!(
        waves::opted_out(&mut conn, "internal-customer")
            .unwrap()
            .is_empty(),
        "GET changed nothing"
    );

    for _ in 0..2 {
        let done = app.post_form(&path, &[]).await;
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("no more emails"));
    }
    assert_eq!(
        waves::opted_out(&mut conn, "internal-customer")
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.post_form("/u/not-a-real-token-at-all-xxxxxxxxxxxx", &[])
            .await
            .status(),
        404
    );
}

async fn closing_and_cancelling_are_guarded(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(2);
    let wave_id = schedule(&app, "2027-01-15", "2027-02-05", "none");
    let mut conn = app.pool.get().unwrap();
    assert!(
        !waves::close_wave(&mut conn, &wave_id, t("2027-01-10")).unwrap(),
        "a scheduled wave cannot close"
    );
    tick(&app, t("2027-01-15"));
    assert!(waves::close_wave(&mut conn, &wave_id, t("2027-01-20")).unwrap());
    assert!(
        !waves::close_wave(&mut conn, &wave_id, t("2027-01-20")).unwrap(),
        "closing twice does nothing"
    );
    assert!(
        !waves::cancel_wave(&mut conn, &wave_id, t("2027-01-20")).unwrap(),
        "a closed wave cannot be cancelled"
    );
    let wave = wave_rows::find(&mut conn, &wave_id).unwrap().unwrap();
    assert_eq!(wave.state, "closed");
    let pending: i64 = outbox_rows::depth(&mut conn).unwrap();
    assert_eq!(pending, 0, "closing cancelled the unsent invitations");
}

async fn the_cli_schedules_shows_and_refuses_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let scheduled = app.cli(&[
        "wave",
        "schedule",
        "--survey",
        "internal-customer",
        "--title",
        "H1 2027",
        "--opens",
        "now",
        "--closes",
        "2099-01-01",
        "--remind",
        "7d,14d",
    ]);
    assert!(scheduled.status.success(), "{}", text(&scheduled.stderr));
    let id = text(&scheduled.stdout).trim().to_string();
    assert_eq!(id.len(), 36, "prints the new wave's id: {id}");

    let opened = app.cli(&["wave", "open", &id[..8]]);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert!(text(&opened.stdout).contains("3 invitations"));
    let shown = app.cli(&["wave", "show", &id]);
    let out = text(&shown.stdout);
    for field in [
        "invited       3",
        "emailed       0",
        "refused       0",
        "undelivered   0",
        "responded     0",
        "response rate 0.0 %",
    ] {
        assert!(out.contains(field), "missing {field:?} in\n{out}");
    }

    let bad = app.cli(&[
        "wave",
        "schedule",
        "--survey",
        "nope",
        "--title",
        "",
        "--opens",
        "soon",
        "--closes",
        "2027-01-01",
        "--anonymity-k",
        "2",
    ]);
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    for expected in ["--title", "--opens", "--anonymity-k: must be at least 3"] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    let typo = app.cli(&["wave", "schedule", "--survey", "x", "--titel", "y"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        text(&typo.stderr).contains("--title"),
        "clap suggests the right flag"
    );
}

async fn schedules_create_each_next_wave_ahead_of_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut conn = app.pool.get().unwrap();
    let input = pulse::services::schedules::ScheduleInput {
        survey: "internal-customer".into(),
        every: "6m".into(),
        starting: "2027-01-15".into(),
        open_for: "21d".into(),
        remind: "7d,14d".into(),
        ..Default::default()
    };
    pulse::services::schedules::add_schedule(&mut conn, &input, t("2026-11-22")).unwrap();
    let titles = |conn: &mut pulse::db::DbConn| -> Vec<String> {
        let mut v: Vec<_> = wave_rows::list(conn)
            .unwrap()
            .into_iter()
            .map(|(w, _, _)| w.title)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        titles(&mut conn),
        vec!["H1 2027"],
        "the first wave is visible right away"
    );
    assert_eq!(tick(&app, t("2026-12-01")).waves_created, 0);
    let report = tick(&app, t("2027-01-15"));
    assert_eq!((report.waves_created, report.waves_opened), (1, 1));
    assert_eq!(titles(&mut conn), vec!["H1 2027", "H2 2027"]);
    assert_eq!(
        tick(&app, t("2027-01-16")).waves_created,
        0,
        "no double creation"
    );
    let waves = wave_rows::list(&mut conn).unwrap();
    let h2 = waves.iter().find(|(w, _, _)| w.title == "H2 2027").unwrap();
    assert_eq!(h2.0.opens_at, t("2027-07-15"));
    assert_eq!(h2.0.closes_at, t("2027-08-05"));
}

both_backends!(
    opening_a_wave_emails_each_stakeholder_once,
    a_large_wave_invites_everyone_once,
    a_4xx_reply_is_retried_and_delivered_once,
    a_5xx_reply_ends_dead_and_suppresses_the_address,
    with_the_server_down_mail_waits_and_goes_out_once_it_is_back,
    a_stalled_server_times_out_without_blocking_other_sends,
    reminders_go_only_to_those_who_have_not_answered_or_opted_out,
    opt_out_get_changes_nothing_and_post_is_idempotent,
    closing_and_cancelling_are_guarded,
    the_cli_schedules_shows_and_refuses_bad_input,
    schedules_create_each_next_wave_ahead_of_time,
);
