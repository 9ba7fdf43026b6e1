//! Scale-out: two `pulse serve` processes on one PostgreSQL database, both with the
//! scheduler and the outbox worker on, and requests alternating between their ports (what a
//! round-robin load balancer does). Each step must happen exactly once: the wave opens once,
//! each invitation is mailed once, every answer is stored once, each reminder goes once,
//! the wave closes once and each lead gets one results-ready mail.
//!
//! PostgreSQL only: several instances behind a load balancer is the PostgreSQL setup (the
//! README says so); SQLite is one file on one machine, for one `pulse serve`.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use pulse::db::schema::{outbox, responses, result_snapshots, waves};
use pulse::domain::token::{LinkToken, TokenPurpose};
use pulse::domain::Role;

use crate::helpers::{spawn_app, text, Backend, ServeProcess, TestApp};
use crate::respondent::valid_answers;
use crate::smtp_server::{ReceivedMessage, SmtpServer};

const STAKEHOLDERS: usize = 40;
const ANSWERING: usize = 30;
const METRICS_TOKEN: &str = "scale-out-metrics-token-0123456789";

/// Waits until `ready` holds (at most `limit`), then lets a few more scheduler ticks and
/// outbox polls pass, so a double action would have the chance to show.
async fn settle(limit: Duration, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// Mails per recipient.
fn per_recipient(mails: &[ReceivedMessage]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in mails {
        *counts.entry(mail.to.join(",")).or_insert(0) += 1;
    }
    counts
}

fn outbox_of_kind(app: &TestApp, kind: &str) -> Vec<(String, Option<String>)> {
    let mut conn = app.pool.get().unwrap();
    outbox::table
        .filter(outbox::kind.eq(kind))
        .select((outbox::state, outbox::invitation_id))
        .load(&mut *conn)
        .unwrap()
}

fn summed(bodies: &[String], name: &str) -> f64 {
    bodies
        .iter()
        .flat_map(|body| body.lines())
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_do_everything_exactly_once() {
    if crate::helpers::postgres_admin_url().is_none() {
        eprintln!("skipped: PULSE_TEST_POSTGRES_URL is not set (SQLite runs one instance)");
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    app.seed_stakeholders(STAKEHOLDERS);
    app.create_user("lead.one@example.com", Role::Lead);
    app.create_user("lead.two@example.com", Role::Lead);
    let smtp = SmtpServer::start().await;

    // A wave the scheduler opens a few seconds from now, with a reminder after 7 days.
    let opens = (Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let output = app.cli(&[
        "wave",
        "schedule",
        "--survey",
        "internal-customer",
        "--title",
        "H1",
        "--opens",
        &opens,
        "--closes",
        "2099-01-01",
        "--remind",
        "7d",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let wave_id = text(&output.stdout).trim().to_string();

    let args = [
        "--tick-seconds",
        "1",
        "--outbox-poll-millis",
        "100",
        "--smtp-url",
        &smtp.url(),
    ];
    let env = [
        ("PULSE_LOG", "info"),
        ("PULSE_METRICS_TOKEN", METRICS_TOKEN),
        ("PULSE_BASE_URL", "https://pulse.example.com"),
    ];
    let logs: Vec<_> = (0..2)
        .map(|i| app.db.dir.path().join(format!("serve-{i}.log")))
        .collect();
    let servers: Vec<ServeProcess> = logs
        .iter()
        .map(|log| {
            let file = std::fs::File::create(log).unwrap();
            ServeProcess::start(&app.db, &args, &env, Stdio::from(file))
        })
        .collect();

    // 1. The wave opens once and each invitation is mailed once.
    settle(Duration::from_secs(90), || {
        smtp.messages().len() >= STAKEHOLDERS
    })
    .await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), STAKEHOLDERS, "one invitation each");
    assert_eq!(per_recipient(&mails).len(), STAKEHOLDERS);
    let mut conn = app.pool.get().unwrap();
    let (state, invited): (String, i32) = waves::table
        .find(&wave_id)
        .select((waves::state, waves::invited_count))
        .first(&mut *conn)
        .unwrap();
    assert_eq!((state.as_str(), invited), ("open", STAKEHOLDERS as i32));
    let invitation_ids = pulse::db::models::invitations::ids_of_wave(&mut conn, &wave_id).unwrap();
    assert_eq!(
        invitation_ids.len(),
        STAKEHOLDERS,
        "invitations written once"
    );
    drop(conn);

    // 2. Answers alternate between the two instances; each is stored once, and a second
    //    submit of the same link on the other instance is refused.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let key = app.secret_key();
    let tokens: Vec<String> = invitation_ids
        .iter()
        .map(|id| {
            LinkToken::derive(&key, TokenPurpose::Survey, id)
                .expose()
                .to_string()
        })
        .collect();
    for (i, token) in tokens.iter().take(ANSWERING).enumerate() {
        let server = &servers[i % 2];
        let status = client
            .post(server.url(&format!("/s/{token}")))
            .form(&valid_answers(&format!("scale-out-{i}")))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 303, "answer {i} on instance {}", i % 2);
    }
    for (i, token) in tokens.iter().take(4).enumerate() {
        let other = &servers[(i + 1) % 2];
        let status = client
            .post(other.url(&format!("/s/{token}")))
            .form(&valid_answers("a second time"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            status, 200,
            "a used link on the other instance: the answer was received, nothing stored"
        );
    }
    let mut conn = app.pool.get().unwrap();
    let stored: i64 = responses::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(stored, ANSWERING as i64, "every answer stored exactly once");

    // 3. Seven days pass for the wave (its opening is moved back): one reminder each to
    //    those who have not answered, sent once.
    let opened_at: Option<chrono::NaiveDateTime> = waves::table
        .find(&wave_id)
        .select(waves::opened_at)
        .first(&mut *conn)
        .unwrap();
    diesel::update(waves::table.find(&wave_id))
        .set(waves::opened_at.eq(opened_at.unwrap() - chrono::Duration::days(8)))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let pending_reminders = STAKEHOLDERS - ANSWERING;
    settle(Duration::from_secs(60), || {
        smtp.messages().len() >= STAKEHOLDERS + pending_reminders
    })
    .await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), STAKEHOLDERS + pending_reminders);
    let counts = per_recipient(&mails);
    assert_eq!(
        counts.values().filter(|&&n| n == 2).count(),
        pending_reminders
    );
    // A reminder row for everyone (the outbox must not tell who answered), each handled
    // once: sent, or skipped silently (also "sent") for those who answered.
    let reminders = outbox_of_kind(&app, "reminder");
    assert_eq!(reminders.len(), STAKEHOLDERS, "enqueued once");
    let mut conn = app.pool.get().unwrap();
    for (state, invitation) in &reminders {
        assert_eq!(state, "sent");
        assert!(invitation.is_some());
    }

    // 4. The wave's end comes: it closes once, results are frozen once, and each lead gets
    //    one results-ready mail.
    diesel::update(waves::table.find(&wave_id))
        .set(waves::closes_at.eq(Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let total = STAKEHOLDERS + pending_reminders + 2;
    settle(Duration::from_secs(60), || smtp.messages().len() >= total).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), total);
    let counts = per_recipient(&mails);
    assert_eq!(counts.get("lead.one@example.com"), Some(&1));
    assert_eq!(counts.get("lead.two@example.com"), Some(&1));
    let mut conn = app.pool.get().unwrap();
    let state: String = waves::table
        .find(&wave_id)
        .select(waves::state)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(state, "closed");
    let snapshots: i64 = result_snapshots::table
        .filter(result_snapshots::wave_id.eq(&wave_id))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(snapshots, 1);
    drop(conn);

    // Both instances' metrics together: one opening, one closing, one reminder round.
    let mut bodies = Vec::new();
    for server in &servers {
        let response = client
            .get(server.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        bodies.push(response.text().await.unwrap());
    }
    assert_eq!(summed(&bodies, "pulse_scheduler_waves_opened_total"), 1.0);
    assert_eq!(summed(&bodies, "pulse_scheduler_waves_closed_total"), 1.0);
    assert_eq!(
        summed(&bodies, "pulse_scheduler_reminders_enqueued_total"),
        STAKEHOLDERS as f64
    );
    assert_eq!(
        summed(&bodies, "pulse_responses_received_total"),
        ANSWERING as f64
    );
    assert_eq!(summed(&bodies, "pulse_outbox_sent_total"), total as f64);

    // Both stop cleanly; their info logs name no address in full and no link token.
    for server in servers {
        server.sigterm();
        assert_eq!(server.wait().await.code(), Some(0));
    }
    for log in &logs {
        let log = std::fs::read_to_string(log).unwrap();
        assert!(
            log.contains("wave opened") || log.contains("SIGTERM"),
            "{log}"
        );
        assert!(!has_full_address(&log), "{log}");
        for token in &tokens {
            assert!(!log.contains(token.as_str()), "a token is in the log");
        }
    }
}

/// Whether `log` holds an email address with an unmasked local part.
fn has_full_address(log: &str) -> bool {
    log.split(|c: char| c.is_whitespace() || "<>\"'(),;=".contains(c))
        .filter_map(|word| word.split_once('@'))
        .any(|(local, _)| !local.is_empty() && !local.ends_with("***"))
}
