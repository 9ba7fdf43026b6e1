//! Operations: a backup taken while answers come in restores to a database that answers
//! the same results; `/metrics` speaks the Prometheus text format, moves with requests,
//! answers and sends, and never shows a token or an address; SIGTERM finishes in-flight
//! requests and hands unsent mail back to the outbox without a double send after restart.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use pulse::config::MetricsToken;
use pulse::db::schema::{answered_marks, answers, outbox, responses};
use pulse::domain::token::{LinkToken, TokenPurpose};
use pulse::domain::Role;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{
    run_cli, spawn_app, spawn_app_on, spawn_app_with, text, Backend, ServeProcess, TestApp, TestDb,
    PASSWORD,
};
use crate::respondent::{survey_tokens, valid_answers};
use crate::smtp_server::{Action, Match, SmtpServer};

const METRICS_TOKEN: &str = "metrics-token-for-the-test-0123456789";

// ---------------------------------------------------------------- backup and restore

/// A backup the way the README says: `pulse backup` on SQLite, `pg_dump` on PostgreSQL.
fn backup(db: &TestDb, file: &Path) -> Output {
    match db.backend() {
        Backend::Sqlite => run_cli(
            &db.raw_url,
            db.dir.path(),
            &["backup", file.to_str().unwrap()],
            None,
        ),
        Backend::Postgres => Command::new("pg_dump")
            .arg("--format=custom")
            .arg(format!("--file={}", file.display()))
            .arg(&db.raw_url)
            .output()
            .expect("pg_dump runs"),
    }
}

/// A restore the way the README says, into the fresh database `into`.
fn restore(file: &Path, into: &TestDb) {
    let output = match into.backend() {
        Backend::Sqlite => run_cli(
            &into.raw_url,
            into.dir.path(),
            &["restore", file.to_str().unwrap()],
            None,
        ),
        Backend::Postgres => Command::new("pg_restore")
            .args(["--clean", "--if-exists", "--no-owner"])
            .arg(format!("--dbname={}", into.raw_url))
            .arg(file)
            .output()
            .expect("pg_restore runs"),
    };
    assert!(output.status.success(), "restore: {}", text(&output.stderr));
}

/// (responses, answered marks, comment answers) in a database.
fn stored_counts(db: &TestDb) -> (i64, i64, i64) {
    let pool = pulse::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    let stored: i64 = responses::table.count().get_result(&mut *conn).unwrap();
    let marked: i64 = answered_marks::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let comments: i64 = answers::table
        .filter(answers::question_key.eq("comment"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    (stored, marked, comments)
}

/// The results JSON without what differs between two reads of the same data: the time it
/// was computed, and the order of the comments (shown shuffled).
fn normalized(mut value: Value) -> Value {
    fn walk(value: &mut Value, in_comments: bool) {
        match value {
            Value::Object(map) => {
                map.remove("computed_at");
                for (key, child) in map.iter_mut() {
                    walk(child, in_comments || key == "comments");
                }
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    walk(item, in_comments);
                }
                if in_comments {
                    items.sort_by_key(|item| item.to_string());
                }
            }
            _ => {}
        }
    }
    walk(&mut value, false);
    value
}

async fn results_json(app: &TestApp, wave_id: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/waves/{wave_id}/results")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    normalized(response.json().await.unwrap())
}

async fn post_answer(app: &TestApp, token: &str, marker: &str) -> reqwest::StatusCode {
    app.client
        .post(app.url(&format!("/s/{token}")))
        .form(&valid_answers(marker))
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_backup_taken_under_load_restores_to_the_same_results(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = survey_tokens(&app.db, 40);
    app.create_user("lead@example.com", Role::Lead);
    let wave_id = {
        let mut conn = app.pool.get().unwrap();
        pulse::db::models::waves::list(&mut conn).unwrap()[0]
            .0
            .id
            .clone()
    };

    // 1. A backup while answers keep arriving.
    let (answered_first, rest) = tokens.split_at(5);
    for (i, token) in answered_first.iter().enumerate() {
        assert_eq!(post_answer(&app, token, &format!("first-{i}")).await, 303);
    }
    let (during, unused) = rest.split_at(20);
    let poster = {
        let (client, base, during) = (app.client.clone(), app.address.clone(), during.to_vec());
        tokio::spawn(async move {
            for (i, token) in during.iter().enumerate() {
                let status = client
                    .post(format!("{base}/s/{token}"))
                    .form(&valid_answers(&format!("during-{i}")))
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, 303);
            }
        })
    };
    let under_load = app.db.dir.path().join("under-load.backup");
    let output = {
        let (db_url, dir, file) = (
            app.db.raw_url.clone(),
            app.db.dir.path().to_path_buf(),
            under_load.clone(),
        );
        let backend = app.db.backend();
        tokio::task::spawn_blocking(move || match backend {
            Backend::Sqlite => run_cli(&db_url, &dir, &["backup", file.to_str().unwrap()], None),
            Backend::Postgres => Command::new("pg_dump")
                .arg("--format=custom")
                .arg(format!("--file={}", file.display()))
                .arg(&db_url)
                .output()
                .unwrap(),
        })
        .await
        .unwrap()
    };
    assert!(output.status.success(), "{}", text(&output.stderr));
    if backend == Backend::Sqlite {
        let said = text(&output.stdout);
        assert!(
            said.contains("bytes") && said.contains("integrity ok"),
            "{said}"
        );
    }
    poster.await.unwrap();

    // The copy is one consistent moment: every stored answer has its invitation marked and
    // its comment, and nothing is half there.
    let copy = TestDb::new(backend);
    restore(&under_load, &copy);
    let (stored, marked, comments) = stored_counts(&copy);
    assert!((5..=25).contains(&stored), "{stored} answers in the copy");
    assert_eq!(stored, marked, "answers and marked invitations agree");
    assert_eq!(stored, comments, "every answer is complete");

    // 2. Once quiet, a second backup restores to a server that answers the same results.
    let quiet = app.db.dir.path().join("quiet.backup");
    let output = backup(&app.db, &quiet);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let restored_db = TestDb::new(backend);
    restore(&quiet, &restored_db);
    assert_eq!(stored_counts(&restored_db), (25, 25, 25));
    let restored = spawn_app_on(restored_db, |_| {}).await;

    for server in [&app, &restored] {
        assert_eq!(
            server.login("lead@example.com", PASSWORD).await.status(),
            303
        );
    }
    let original_results = results_json(&app, &wave_id).await;
    assert_eq!(original_results["wave"]["id"], Value::from(wave_id.clone()));
    assert_eq!(results_json(&restored, &wave_id).await, original_results);
    let cli_results = |server: &TestApp| {
        let output = server.cli(&["results", &wave_id, "--format", "json"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        normalized(serde_json::from_slice(&output.stdout).unwrap())
    };
    assert_eq!(cli_results(&restored), cli_results(&app));

    // The restored server knows which links were used (same secret key, same hashes): it
    // says the answer was received and stores nothing.
    assert_eq!(
        post_answer(&restored, &answered_first[0], "again").await,
        200
    );
    assert_eq!(
        post_answer(&restored, &unused[0], "after-restore").await,
        303
    );
    assert_eq!(stored_counts(&restored.db).0, 26);
}

both_backends!(a_backup_taken_under_load_restores_to_the_same_results);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_refuse_what_would_lose_data() {
    let app = spawn_app(Backend::Sqlite).await;
    let dir = app.db.dir.path();
    let file = dir.join("copy.db");
    let first = app.cli(&["backup", file.to_str().unwrap()]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let size = std::fs::metadata(&file).unwrap().len();

    // An existing file is kept unless --force.
    let again = app.cli(&["backup", file.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
    let forced = app.cli(&["backup", "--force", file.to_str().unwrap()]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".partial-")), "{names:?}");

    // Restore refuses a file that is not a Procurement Pulse database …
    let target = TestDb::new(Backend::Sqlite);
    let junk = dir.join("junk.db");
    std::fs::write(
        &junk,
        b"not a database at all, just some bytes that are long enough",
    )
    .unwrap();
    let refused = run_cli(
        &target.raw_url,
        target.dir.path(),
        &["restore", junk.to_str().unwrap()],
        None,
    );
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("cannot be restored"));
    // … and an existing database unless --force.
    let refused = run_cli(
        &app.db.raw_url,
        dir,
        &["restore", file.to_str().unwrap()],
        None,
    );
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("--force"));

    // On PostgreSQL, the message gives the pg_dump command, without the password.
    let pg = run_cli(
        "postgres://pulse:s3cret@db.example.com/pulse",
        dir,
        &["backup", "nightly.dump"],
        None,
    );
    assert!(!pg.status.success());
    let message = text(&pg.stderr);
    assert!(
        message.contains("pg_dump --format=custom --file=nightly.dump"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
}

// ---------------------------------------------------------------- metrics

/// One sample line of the text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text format strictly: every line is a `# HELP`, a `# TYPE` or a
/// sample `name{label="value",…} number`, and every sample belongs to a family with both.
fn parse_exposition(body: &str) -> Vec<Sample> {
    let mut helped = HashSet::new();
    let mut typed = HashMap::new();
    let mut samples = Vec::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty());
            helped.insert(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.insert(name.to_string(), kind.to_string());
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').expect("closing brace");
                let mut labels = BTreeMap::new();
                for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once("=\"").expect("label=\"value\"");
                    labels.insert(key.to_string(), value.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{name}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| typed.get(*base).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(&name)
            .to_string();
        assert!(typed.contains_key(&family), "{family} has no TYPE");
        assert!(helped.contains(&family), "{family} has no HELP");
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(app: &TestApp) -> (String, Vec<Sample>) {
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let body = response.text().await.unwrap();
    let samples = parse_exposition(&body);
    (body, samples)
}

async fn metrics_are_prometheus_text_and_never_show_a_token_or_an_address(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.script(Match::Recipient("person1@example.com"), [Action::TempFail]);
    smtp.script(Match::Recipient("person2@example.com"), [Action::Reject]);
    let smtp_url = smtp.url();
    let app = spawn_app_with(backend, |s| {
        s.metrics_token = Some(MetricsToken::parse(METRICS_TOKEN).unwrap());
        s.email =
            pulse::email::EmailSettings::smtp(pulse::email::SmtpUrl::parse(&smtp_url).unwrap());
        s.outbox_worker = true;
        s.outbox.poll_interval = Duration::from_millis(100);
    })
    .await;

    // Without the token there is nothing to see.
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-the-test-0123456780")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let (_, before) = scrape(&app).await;
    assert_eq!(
        value_of(&before, "pulse_responses_received_total", &[]),
        0.0
    );
    assert_eq!(value_of(&before, "pulse_build_info", &[]), 1.0);

    // Six invitations go out (one to be retried later, one refused) …
    let tokens = survey_tokens(&app.db, 6);
    let started = Instant::now();
    loop {
        let (_, samples) = scrape(&app).await;
        let settled = value_of(&samples, "pulse_outbox_sent_total", &[]) >= 4.0
            && value_of(&samples, "pulse_outbox_send_failures_total", &[]) >= 2.0;
        if settled || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // … then three people answer, and someone asks for a page that does not exist.
    assert_eq!(app.get(&format!("/s/{}", tokens[0])).await.status(), 200);
    for (i, token) in tokens.iter().take(3).enumerate() {
        assert_eq!(post_answer(&app, token, &format!("metrics-{i}")).await, 303);
    }
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    let (body, samples) = scrape(&app).await;
    assert_eq!(value_of(&samples, "pulse_outbox_sent_total", &[]), 4.0);
    let failures = |kind| {
        value_of(
            &samples,
            "pulse_outbox_send_failures_total",
            &[("kind", kind)],
        )
    };
    assert_eq!(failures("transient"), 1.0);
    assert_eq!(failures("permanent"), 1.0);
    let messages = |state| value_of(&samples, "pulse_outbox_messages", &[("state", state)]);
    assert_eq!(messages("dead"), 1.0);
    assert_eq!(
        messages("pending"),
        1.0,
        "the retried one waits for its backoff"
    );
    assert_eq!(messages("sending"), 0.0);
    assert_eq!(
        value_of(&samples, "pulse_responses_received_total", &[]),
        3.0
    );

    let requests = |method, route, status| {
        value_of(
            &samples,
            "pulse_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("POST", "/s/{token}", "303"), 3.0);
    assert_eq!(requests("GET", "/s/{token}", "200"), 1.0);
    assert_eq!(requests("GET", "(unmatched)", "404"), 1.0);
    assert_eq!(requests("GET", "/metrics", "401"), 2.0);
    assert!(requests("GET", "/metrics", "200") >= 2.0);
    assert_eq!(
        value_of(
            &before,
            "pulse_http_requests_total",
            &[("route", "/s/{token}")]
        ),
        0.0
    );
    let timed = value_of(
        &samples,
        "pulse_http_request_duration_seconds_count",
        &[("method", "POST"), ("route", "/s/{token}")],
    );
    assert_eq!(timed, 3.0);
    let within_inf = value_of(
        &samples,
        "pulse_http_request_duration_seconds_bucket",
        &[("method", "POST"), ("route", "/s/{token}"), ("le", "+Inf")],
    );
    assert_eq!(within_inf, 3.0);

    // Nothing personal or secret: no token, no address, no name, not the metrics token.
    for token in &tokens {
        assert!(
            !body.contains(token.as_str()),
            "a survey token is in /metrics"
        );
    }
    assert!(!body.contains('@'), "an address is in /metrics");
    assert!(!body.contains("person"), "a name is in /metrics");
    assert!(!body.contains(METRICS_TOKEN));
}

both_backends!(metrics_are_prometheus_text_and_never_show_a_token_or_an_address);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_metrics_token_there_is_no_metrics_endpoint() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
}

// ---------------------------------------------------------------- graceful shutdown

fn outbox_rows(app: &TestApp) -> Vec<(String, String, Option<chrono::NaiveDateTime>, i32)> {
    let mut conn = app.pool.get().unwrap();
    outbox::table
        .select((
            outbox::recipient,
            outbox::state,
            outbox::lease_until,
            outbox::attempts,
        ))
        .load(&mut *conn)
        .unwrap()
}

async fn sigterm_finishes_requests_and_hands_unsent_mail_back(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let smtp = SmtpServer::start().await;
    smtp.set_default(Action::Stall);
    let wave_id = app.schedule_wave_now("H1");
    let log_path = app.db.dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let args = [
        "--tick-seconds",
        "1",
        "--outbox-poll-millis",
        "100",
        "--smtp-url",
        &smtp.url(),
        "--smtp-timeout-seconds",
        "300",
        "--shutdown-grace-seconds",
        "2",
    ];
    let server = ServeProcess::start(&app.db, &args, &[("PULSE_LOG", "info")], log.into());
    let port = server.port;

    // The scheduler opens the wave; the three sends stall at the mail server.
    let started = Instant::now();
    while (0..3).any(|i| smtp.attempts(&format!("person{i}@example.com")) == 0)
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = outbox_rows(&app);
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|(_, state, lease, _)| state == "sending" && lease.is_some()));

    // A request is in flight (headers sent, half the body) when SIGTERM arrives.
    let invitation_ids = {
        let mut conn = app.pool.get().unwrap();
        pulse::db::models::invitations::ids_of_wave(&mut conn, &wave_id).unwrap()
    };
    let token = LinkToken::derive(&app.secret_key(), TokenPurpose::Survey, &invitation_ids[0])
        .expose()
        .to_string();
    let body = valid_answers("in-flight at shutdown")
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // First a whole request on this keep-alive connection: it is accepted and being served.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 1024];
    while !seen.ends_with(b"\r\n\r\nok") {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "the connection closed early");
        seen.extend_from_slice(&buffer[..n]);
    }
    write!(
        stream,
        "POST /s/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (head, tail) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).unwrap();
    stream.flush().unwrap();
    // Give the server time to parse the head and call the handler, which then waits for
    // the body: a request whose head was not read yet when the signal came is dropped with
    // its connection, like one that never arrived.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sigterm();
    // Let the server act on the signal before the request completes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(tail.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 303"), "{reply}");

    let status = server.wait().await;
    assert_eq!(status.code(), Some(0), "a clean exit");

    // Nothing was sent; every row is pending again, without a lease, right away.
    assert!(smtp.messages().is_empty());
    let rows = outbox_rows(&app);
    assert_eq!(rows.len(), 3);
    for (_, state, lease, attempts) in &rows {
        assert_eq!(state, "pending");
        assert_eq!(*lease, None);
        assert_eq!(*attempts, 1, "the interrupted attempt counts once");
    }
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        responses::table
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap(),
        1,
        "the in-flight answer was stored"
    );
    drop(conn);

    // After a restart each mail goes out exactly once; the one to the person who answered
    // meanwhile is no longer needed.
    smtp.set_default(Action::Accept);
    let again = ServeProcess::start(
        &app.db,
        &args,
        &[("PULSE_LOG", "info")],
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log_path)
            .unwrap()
            .into(),
    );
    let started = Instant::now();
    while outbox_rows(&app)
        .iter()
        .any(|(_, state, _, _)| state == "pending" || state == "sending")
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    again.sigterm();
    let status = again.wait().await;
    assert_eq!(status.code(), Some(0));
    let rows = outbox_rows(&app);
    let sent: HashSet<String> = rows
        .iter()
        .filter(|(_, state, _, _)| state == "sent")
        .map(|(to, _, _, _)| to.clone())
        .collect();
    // The mail to the person who answered meanwhile is skipped, recorded like a sent one
    // (the outbox does not tell who answered).
    assert_eq!(sent.len(), 3, "{rows:?}");
    let mails = smtp.messages();
    let recipients: HashSet<String> = mails.iter().map(|m| m.to.join(",")).collect();
    assert_eq!(
        mails.len(),
        2,
        "no mail twice, none to the person who answered"
    );
    assert!(recipients.is_subset(&sent));

    // The info log of both runs names no address in full and no token.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("SIGTERM"), "{log}");
    for i in 0..3 {
        assert!(!log.contains(&format!("person{i}@example.com")), "{log}");
    }
    assert!(!log.contains(&token), "{log}");
}

both_backends!(sigterm_finishes_requests_and_hands_unsent_mail_back);
