//! Email delivery faults, each through a real SMTP server on loopback: an outage longer
//! than the retries suppresses nobody (and the mail can be sent again), a refused recipient
//! is suppressed and can be lifted, a relay that refuses our credentials pauses sending
//! with one clear message, and mails speak the stakeholder's language.

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use pulse::clock::ManualClock;
use pulse::config::MetricsToken;
use pulse::db::schema::{outbox, suppressions};
use pulse::outbox::{Outbox, OutboxConfig};
use pulse::services::waves as wave_service;

use crate::both_backends;
use crate::helpers::{
    hidden_field, spawn_app, spawn_app_with, text, Backend, ServeProcess, TestApp,
};
use crate::smtp_server::{Action, Match, SmtpServer};
use crate::waves::{schedule, t, tick};

const METRICS_TOKEN: &str = "delivery-metrics-token-0123456789";

/// A worker with few attempts, so "longer than the retries" is quick to reach.
fn worker(app: &TestApp, smtp_url: &str, clock: &ManualClock, max_attempts: i32) -> Outbox {
    Outbox::new(
        app.pool.clone(),
        Arc::new(crate::helpers::smtp_mailer(smtp_url, 2)),
        app.secret_key(),
        "https://pulse.example.com",
        Arc::new(clock.clone()),
        OutboxConfig {
            max_in_flight: 8,
            max_attempts,
            retry_base: Duration::from_secs(60),
            ..Default::default()
        },
    )
}

fn suppressed(app: &TestApp) -> Vec<String> {
    let mut conn = app.pool.get().unwrap();
    suppressions::table
        .select(suppressions::email)
        .load(&mut *conn)
        .unwrap()
}

fn progress(app: &TestApp, wave: &str) -> wave_service::WaveProgress {
    wave_service::progress(&mut app.pool.get().unwrap(), wave).unwrap()
}

async fn an_outage_longer_than_the_retries_suppresses_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let smtp = SmtpServer::start().await;
    // person1's mailbox answers 451 to every try (a long outage for that address).
    smtp.script(
        Match::Recipient("person1@example.com"),
        [Action::TempFail, Action::TempFail],
    );
    let wave = schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let worker = worker(&app, &smtp.url(), &clock, 2);
    let first = worker.drain().await.unwrap();
    assert_eq!((first.sent, first.retried), (2, 1));
    clock.advance(chrono::Duration::minutes(2));
    let second = worker.drain().await.unwrap();
    assert_eq!((second.sent, second.failed, second.dead), (0, 1, 0));

    // Nobody is suppressed; the wave says what could not be delivered and why.
    assert!(suppressed(&app).is_empty(), "{:?}", suppressed(&app));
    let p = progress(&app, &wave);
    assert_eq!((p.failed, p.bounced), (1, 0));
    assert!(
        p.failure_reasons[0].reason.contains("451") && p.failure_reasons[0].retryable,
        "{:?}",
        p.failure_reasons
    );
    let show = app.cli(&["wave", "show", &wave]);
    assert!(
        text(&show.stdout).contains("undelivered   1 after every retry"),
        "{}",
        text(&show.stdout)
    );
    // The wave page says so, with a button that sends them again.
    let csrf = app.signed_in_admin().await;
    let page = app
        .get(&format!("/admin/waves/{wave}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("1 mail could not be delivered"),
        "the wave page counts undelivered mail"
    );
    assert!(page.contains(&format!("/admin/waves/{wave}/retry-failed")));

    // `pulse wave retry-failed` queues it again; the server works now: delivered once.
    let retry = app.cli(&["wave", "retry-failed", &wave]);
    assert!(retry.status.success(), "{}", text(&retry.stderr));
    assert!(text(&retry.stdout).starts_with("1 undelivered mail queued again"));
    assert_eq!(worker.drain().await.unwrap().sent, 1);
    let to_person1 = smtp
        .messages()
        .iter()
        .filter(|m| m.to == ["person1@example.com"])
        .count();
    assert_eq!(to_person1, 1);
    assert_eq!(progress(&app, &wave).failed, 0);

    // The button works the same way (nothing left to retry: still a clean redirect).
    let response = app
        .post_form(
            &format!("/admin/waves/{wave}/retry-failed"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
}

async fn a_refused_recipient_is_suppressed_and_can_be_lifted(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let smtp = SmtpServer::start().await;
    smtp.script(Match::Recipient("person2@example.com"), [Action::Reject]);
    let first = schedule(&app, "2027-01-15", "2027-02-05", "none");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let report = worker(&app, &smtp.url(), &clock, 8).drain().await.unwrap();
    assert_eq!((report.sent, report.dead, report.failed), (2, 1, 0));
    assert_eq!(suppressed(&app), ["person2@example.com"]);
    assert_eq!(progress(&app, &first).bounced, 1);

    // Listed with reason, date and wave.
    let listed = app.cli(&["stakeholders", "suppressions"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let out = text(&listed.stdout);
    let row = out
        .lines()
        .find(|l| l.starts_with("person2@example.com"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("550 5.1.1") && row.contains("H1 2027"),
        "{row}"
    );

    // The admin page lists it; lifting needs the CSRF token.
    let csrf = app.signed_in_admin().await;
    let page = app.get("/admin/suppressions").await.text().await.unwrap();
    assert!(page.contains("person2@example.com") && page.contains("550 5.1.1"));
    let forged = app
        .post_form(
            "/admin/suppressions/lift",
            &[("csrf_token", "forged"), ("email", "person2@example.com")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(suppressed(&app).len(), 1);
    let lifted = app
        .post_form(
            "/admin/suppressions/lift",
            &[
                ("csrf_token", csrf.as_str()),
                ("email", "person2@example.com"),
            ],
        )
        .await;
    assert_eq!(lifted.status(), 200);
    assert!(lifted
        .text()
        .await
        .unwrap()
        .contains("person2@example.com is no longer blocked"));
    assert!(suppressed(&app).is_empty());
    // Lifting again says it is not blocked, in the product's words.
    let again = app.cli(&["stakeholders", "lift", "person2@example.com"]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("is not blocked"));

    // The next wave invites the lifted address.
    let second = {
        let mut conn = app.pool.get().unwrap();
        let input = pulse::domain::wave::WaveInput {
            survey: "internal-customer".into(),
            title: "H2 2027".into(),
            opens: "2027-07-15".into(),
            closes: "2027-08-05".into(),
            remind: "none".into(),
            ..Default::default()
        };
        wave_service::schedule_wave(&mut conn, &input, t("2027-02-10"))
            .unwrap()
            .id
    };
    assert_eq!(tick(&app, t("2027-07-15")).invitations, 3);
    assert_eq!(progress(&app, &second).skipped, 0);
}

async fn a_relay_refusing_our_login_pauses_sending_with_a_message(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.require_login("pulse", "the right password");
    let url = format!("smtp://pulse:wrong@127.0.0.1:{}?tls=none", smtp.port());
    let app = spawn_app_with(backend, |s| {
        s.email = pulse::email::EmailSettings::smtp(pulse::email::SmtpUrl::parse(&url).unwrap());
        s.outbox_worker = true;
        s.outbox.poll_interval = Duration::from_millis(100);
        s.metrics_token = Some(MetricsToken::parse(METRICS_TOKEN).unwrap());
    })
    .await;
    app.seed_stakeholders(6);
    let wave = app.schedule_wave_now("H1");
    let open = app.cli(&["wave", "open", &wave]);
    assert!(open.status.success(), "{}", text(&open.stderr));

    // The worker (polling: the CLI is another process) pauses at the first refusal.
    let csrf = app.signed_in_admin().await;
    let started = Instant::now();
    let page = loop {
        let page = app
            .get(&format!("/admin/waves/{wave}"))
            .await
            .text()
            .await
            .unwrap();
        if page.contains("Sending is paused") || started.elapsed() > Duration::from_secs(20) {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(page.contains("Sending is paused"), "no pause message");
    assert!(page.contains("535"), "the relay's answer is shown");
    let _ = csrf;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pulse_outbox_relay_paused{reason=\"authentication\"} 1"),
        "{metrics}"
    );
    // No mail used up an attempt or was given up, nobody is suppressed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows: Vec<(String, i32)> = {
        let mut conn = app.pool.get().unwrap();
        outbox::table
            .select((outbox::state, outbox::attempts))
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter()
            .all(|(state, attempts)| (state == "pending" || state == "sending") && *attempts <= 1),
        "{rows:?}"
    );
    assert!(suppressed(&app).is_empty());
    assert!(smtp.messages().is_empty());

    // Once the relay accepts us, sending resumes by itself (the next probe, within 5 s).
    smtp.require_login("pulse", "wrong");
    smtp.wait_for(6, Duration::from_secs(30)).await;
    let page = app
        .get(&format!("/admin/waves/{wave}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Sending is paused"));
}

async fn mails_and_opt_out_pages_speak_the_stakeholders_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let csv = "email,name,language,business_unit\n\
               anna@example.com,Anna,de-AT,R&D\n\
               bob@example.com,Bob,en,R&D\n\
               chloe@example.com,Chloé,fr,R&D\n";
    let path = app.db.dir.path().join("people.csv");
    std::fs::write(&path, csv).unwrap();
    let import = app.cli(&["stakeholders", "import", path.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let smtp = SmtpServer::start().await;
    let wave = schedule(&app, "2027-01-15", "2027-02-05", "7d");
    tick(&app, t("2027-01-15"));
    let clock = ManualClock::new(t("2027-01-15T00:00:01Z"));
    let worker = worker(&app, &smtp.url(), &clock, 8);
    assert_eq!(worker.drain().await.unwrap().sent, 3);
    let mails: HashMap<String, _> = smtp
        .messages()
        .into_iter()
        .map(|m| (m.to[0].clone(), m))
        .collect();

    let anna = &mails["anna@example.com"];
    let subject = anna.subject().unwrap();
    assert_eq!(
        subject,
        "2 Minuten für Ihre Meinung: Wie gut arbeitet der Einkauf für Sie?"
    );
    let body = anna.text_body().unwrap();
    assert!(body.starts_with("Guten Tag Anna,"), "{body}");
    assert!(
        body.contains("„Wie gut unterstützt Sie der Einkauf?“"),
        "{body}"
    );
    assert!(body.contains("dauert etwa 2 Minuten"), "{body}");
    assert!(body.contains("Freitag, 5. Februar 2027"), "{body}");
    let html = anna.html_body().unwrap();
    assert!(
        html.contains("<html lang=\"de\""),
        "the HTML part says its language"
    );
    assert!(html.contains("Umfrage starten"));
    for english in ["Hello", "minutes", "survey"] {
        assert!(!body.contains(english), "English '{english}' in: {body}");
    }

    let bob = mails["bob@example.com"].text_body().unwrap();
    assert!(bob.starts_with("Hello Bob,"), "{bob}");
    assert!(bob.contains("takes about 2 minutes") && bob.contains("Friday 5 February 2027"));
    // A language Pulse does not write falls back to the survey's default (English).
    assert!(mails["chloe@example.com"]
        .text_body()
        .unwrap()
        .starts_with("Hello Chloé,"));

    // The opt-out link keeps the language; the pages say what opting out does.
    let link = crate::helpers::unsubscribe_link(&body).unwrap();
    assert!(link.ends_with("?lang=de"), "{link}");
    let path = link.trim_start_matches("https://pulse.example.com");
    let confirm = app.get(path).await.text().await.unwrap();
    assert!(confirm.contains("<html lang=\"de\""));
    assert!(confirm.contains("Keine E-Mails mehr zu dieser Umfrage?"));
    assert!(confirm.contains("Ihr Umfrage-Link funktioniert weiter"));
    let done = app.post_form(path, &[]).await;
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert!(
        done.contains("keine E-Mails mehr zu „Wie gut unterstützt Sie der Einkauf?“"),
        "{done}"
    );
    // The survey link still opens the form after the opt-out, as the pages say.
    let survey = crate::helpers::survey_link(&body).unwrap();
    let form = app
        .get(survey.trim_start_matches("https://pulse.example.com"))
        .await;
    assert_eq!(form.status(), 200);

    // The reminder a week later: German for Anna? She opted out: none. Bob's is English.
    clock.advance(chrono::Duration::days(7));
    tick(&app, t("2027-01-22T00:00:01Z"));
    worker.drain().await.unwrap();
    let reminders: Vec<_> = smtp.messages().into_iter().skip(3).collect();
    let to: HashSet<String> = reminders.iter().map(|m| m.to[0].clone()).collect();
    assert!(!to.contains("anna@example.com"));
    assert!(to.contains("bob@example.com"));
    let _ = wave;
}

async fn head_answers_like_get_and_the_survey_link_says_when_to_retry(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.survey_requests_per_minute = 3).await;
    let head = app
        .client
        .head(app.url("/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(head.text().await.unwrap().is_empty(), "HEAD has no body");
    let head = app
        .client
        .head(app.url("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404, "as GET answers an unknown link");
    assert!(head.text().await.unwrap().is_empty());
    // Three requests a minute: the third is the last one allowed.
    let third = app
        .get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(third.status(), 404);
    let limited = app
        .get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "60");
}

async fn a_used_link_opened_again_says_the_answer_was_received(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = crate::respondent::survey_tokens(&app.db, 1);
    let path = format!("/s/{}", tokens[0]);
    let stored = app
        .client
        .post(app.url(&path))
        .form(&crate::respondent::valid_answers("fine"))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 303);
    // The thank-you page never showed (say the connection broke); the link again:
    let again = app.get(&path).await;
    assert_eq!(again.status(), 200);
    let page = again.text().await.unwrap();
    assert!(page.contains("Your answers have been received"), "{page}");
    assert!(!page.contains("not available"));
    // An unknown link still gets the one neutral page.
    let unknown = app
        .get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(unknown.status(), 404);
}

async fn a_stranger_cannot_lock_the_admin_out(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.login_attempts_per_minute = 3;
        s.trust_proxy = true;
    })
    .await;
    app.create_user("admin@example.com", pulse::domain::Role::Admin);
    let login_from = |ip: &'static str, password: &'static str| {
        let client = crate::helpers::new_client();
        let url = app.url("/login");
        async move {
            let page = client.get(&url).send().await.unwrap();
            let html = page.text().await.unwrap();
            let csrf = hidden_field(&html, "csrf_token").unwrap();
            client
                .post(&url)
                .header("x-forwarded-for", ip)
                .form(&[
                    ("email", "admin@example.com"),
                    ("password", password),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // One address guesses: after 3 failures it waits.
    for _ in 0..3 {
        assert_eq!(login_from("203.0.113.9", "guess guess guess").await, 401);
    }
    assert_eq!(
        login_from("203.0.113.9", crate::helpers::PASSWORD).await,
        429
    );
    // Many addresses guess (the account is under attack): each fails once, then waits.
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(login_from(ip, "guess guess guess").await, 401);
        assert_eq!(login_from(ip, "guess guess guess").await, 429);
    }
    // The admin, from their own address, signs in.
    assert_eq!(
        login_from("192.0.2.10", crate::helpers::PASSWORD).await,
        303
    );
}

both_backends!(
    an_outage_longer_than_the_retries_suppresses_nobody,
    a_refused_recipient_is_suppressed_and_can_be_lifted,
    a_relay_refusing_our_login_pauses_sending_with_a_message,
    mails_and_opt_out_pages_speak_the_stakeholders_language,
    head_answers_like_get_and_the_survey_link_says_when_to_retry,
    a_used_link_opened_again_says_the_answer_was_received,
    a_stranger_cannot_lock_the_admin_out,
);

/// The command line ends quietly when its reader goes away (`pulse … | head`).
#[test]
fn the_command_line_exits_quietly_on_a_closed_pipe() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app(Backend::Sqlite));
    app.seed_stakeholders(3000);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["stakeholders", "list"])
        .current_dir(app.db.dir.path())
        .env("PULSE_DATABASE_URL", &app.db.raw_url)
        .env("PULSE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then hang up (as `head -1` does).
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with("EMAIL"), "{first}");
    }
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(output.status.code(), Some(141));
}

/// Two `pulse serve` instances on one PostgreSQL database send a wave; one is killed with
/// SIGKILL in the middle. Every invitation arrives; the duplicates are at most the mails the
/// killed instance held (8 × `--outbox-max-in-flight` = 128: sent, waiting to be sent, or
/// waiting for the commit of their outcome), each with the same Message-ID as its first copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_of_two_instances_duplicates_at_most_its_mails_in_flight() {
    if crate::helpers::postgres_admin_url().is_none() {
        eprintln!("skipped: PULSE_TEST_POSTGRES_URL is not set (SQLite runs one instance)");
        return;
    }
    const PEOPLE: usize = 3000;
    let app = spawn_app(Backend::Postgres).await;
    app.seed_stakeholders(PEOPLE);
    let smtp = SmtpServer::start().await;
    // 20 ms per message: 8 connections × 2 instances ≈ 800 mails/s, a few seconds in all.
    smtp.set_default(Action::Slow(Duration::from_millis(20)));
    let wave = app.schedule_wave_now("H1");
    let args = [
        "--tick-seconds",
        "1",
        "--outbox-poll-millis",
        "100",
        "--outbox-lease-seconds",
        "4",
        "--smtp-url",
        &smtp.url(),
    ];
    let env = [("PULSE_BASE_URL", "https://pulse.example.com")];
    let mut victim = Some(ServeProcess::start(&app.db, &args, &env, Stdio::null()));
    let survivor = ServeProcess::start(&app.db, &args, &env, Stdio::null());

    // Mid-wave: SIGKILL one (dropping a ServeProcess kills it with SIGKILL).
    let began = Instant::now();
    smtp.wait_for(PEOPLE / 5, Duration::from_secs(120)).await;
    let before_kill = smtp.messages().len();
    drop(victim.take());
    let killed_at = Instant::now();
    eprintln!(
        "kill -9 after {before_kill} mails ({:.1} s after the first)",
        began.elapsed().as_secs_f64()
    );
    // Everyone gets the invitation, the killed instance's rows within a lease or so.
    let started = Instant::now();
    let mut last_report = Instant::now();
    while distinct_recipients(&smtp) < PEOPLE && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if last_report.elapsed() > Duration::from_secs(2) {
            eprintln!(
                "  {:.1} s after the kill: {} mails",
                killed_at.elapsed().as_secs_f64(),
                smtp.messages().len()
            );
            last_report = Instant::now();
        }
    }
    let recovered_in = killed_at.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = smtp.messages();
    assert_eq!(
        distinct_recipients(&smtp),
        PEOPLE,
        "every invitation arrived"
    );
    let mut by_recipient: HashMap<String, Vec<String>> = HashMap::new();
    for mail in &mails {
        by_recipient
            .entry(mail.to.join(","))
            .or_default()
            .push(mail.message_id().unwrap());
    }
    let duplicates = mails.len() - PEOPLE;
    eprintln!(
        "kill -9: {} mails for {PEOPLE} people, {duplicates} duplicates, all delivered {:.1} s after the kill",
        mails.len(),
        recovered_in.as_secs_f64()
    );
    assert!(
        duplicates <= 128,
        "{duplicates} duplicates: more than the 128 mails the killed instance held"
    );
    for (to, ids) in &by_recipient {
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 1, "{to}: a duplicate keeps its Message-ID");
    }
    let p = progress(&app, &wave);
    assert_eq!((p.emailed, p.pending), (PEOPLE as i64, 0));
    drop(survivor);
}

fn distinct_recipients(smtp: &SmtpServer) -> usize {
    smtp.messages()
        .iter()
        .map(|m| m.to.join(","))
        .collect::<HashSet<_>>()
        .len()
}
