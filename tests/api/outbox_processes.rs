//! The outbox and scheduler as separate processes: `pulse tick` and `pulse serve`, against
//! a real SMTP server. Checks that tokens never reach the database or the logs, that the
//! logs show addresses only masked, and that two instances on one PostgreSQL database
//! never send anything twice.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::both_backends;
use crate::helpers::{run_cli_env, spawn_app, text, Backend, TestApp};
use crate::smtp_server::SmtpServer;

async fn no_plaintext_token_reaches_the_database_or_the_logs(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(5);
    let smtp = SmtpServer::start().await;
    app.schedule_wave_now("H1");

    let tick = run_cli_env(
        &app,
        &["tick", "--smtp-url", &smtp.url()],
        &[("PULSE_LOG", "debug")],
    );
    assert!(tick.status.success(), "{}", text(&tick.stderr));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 5);
    let tokens: Vec<String> = mails
        .iter()
        .flat_map(|m| {
            [
                crate::helpers::survey_link(&m.text_body().unwrap()),
                crate::helpers::unsubscribe_link(&m.text_body().unwrap()),
            ]
        })
        .map(|link| {
            link.expect("links in the mail")
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(tokens.len(), 10);

    let log = format!("{}{}", text(&tick.stdout), text(&tick.stderr));
    let dump = database_dump(&app);
    assert!(dump.len() > 1000, "the dump has content");
    for token in &tokens {
        assert!(!log.contains(token.as_str()), "a token is in the log");
        assert!(!dump.contains(token.as_str()), "a token is in the database");
        assert!(
            !dump.contains(&token[..20]),
            "part of a token is in the database"
        );
    }
    // Addresses appear in the debug log only masked (`p***@example.com`).
    for i in 0..5 {
        assert!(
            !log.contains(&format!("person{i}@example.com")),
            "an unmasked address is in the log"
        );
    }
    // The hashes are there instead.
    assert!(dump.contains(&pulse::auth::tokens::sha256_hex(&tokens[0])));
}

/// Everything the database holds, as text.
fn database_dump(app: &TestApp) -> String {
    match app.db.backend() {
        Backend::Sqlite => {
            let path = app.db.raw_url.trim_start_matches("sqlite://");
            let mut all = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    all.extend(bytes);
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
        Backend::Postgres => {
            let output = Command::new("pg_dump")
                .arg("--data-only")
                .arg(&app.db.raw_url)
                .output()
                .expect("pg_dump runs");
            assert!(output.status.success(), "{}", text(&output.stderr));
            text(&output.stdout)
        }
    }
}

both_backends!(no_plaintext_token_reaches_the_database_or_the_logs);

/// `pulse serve` as a child process; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(db: &crate::helpers::TestDb, smtp_url: &str) -> Server {
    let args = [
        "--tick-seconds",
        "1",
        "--outbox-poll-millis",
        "200",
        "--smtp-url",
        smtp_url,
    ];
    Server(crate::helpers::start_serve(db, &args, &[], Stdio::inherit()).0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_send_each_invitation_exactly_once() {
    if crate::helpers::postgres_admin_url().is_none() {
        eprintln!("skipped: PULSE_TEST_POSTGRES_URL is not set");
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    app.seed_stakeholders(2000);
    let smtp = SmtpServer::start().await;
    app.schedule_wave_now("H1");

    let _first = start_server(&app.db, &smtp.url());
    let _second = start_server(&app.db, &smtp.url());
    let started = Instant::now();
    while smtp.messages().len() < 2000 && started.elapsed() < Duration::from_secs(240) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Give a double send the chance to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = smtp.messages();
    let recipients: HashSet<_> = mails.iter().map(|m| m.to.join(",")).collect();
    let ids: HashSet<_> = mails.iter().map(|m| m.message_id().unwrap()).collect();
    assert_eq!(mails.len(), 2000, "exactly one mail per stakeholder");
    assert_eq!(recipients.len(), 2000);
    assert_eq!(ids.len(), 2000);
    let mut conn = app.pool.get().unwrap();
    let waves = pulse::db::models::waves::list(&mut conn).unwrap();
    assert_eq!(waves[0].0.invited_count, 2000, "opened once");
}
