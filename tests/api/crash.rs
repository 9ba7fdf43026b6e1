//! Durability: answers are acknowledged only after they are committed. Many clients submit
//! continuously, the server is killed with SIGKILL at a random moment, and then every
//! acknowledged answer must be in the database exactly once and the database must pass
//! `PRAGMA integrity_check`. 20 rounds here (`PULSE_CRASH_ROUNDS` for a longer soak).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::RunQueryDsl;
use pulse::db::{self, DbConn};
use rand::Rng;

use crate::helpers::{Backend, TestDb};
use crate::respondent::{survey_tokens, valid_answers};

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(diesel::QueryableByName)]
struct Marker {
    #[diesel(sql_type = Text)]
    value_text: String,
    #[diesel(sql_type = BigInt)]
    copies: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_answers_survive_kill_9() {
    let rounds: usize = std::env::var("PULSE_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let test_db = TestDb::new(Backend::Sqlite);
    let tokens = survey_tokens(&test_db, 200 * rounds);
    let tokens = Arc::new(Mutex::new(tokens));
    let mut acknowledged: Vec<String> = Vec::new();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    for round in 0..rounds {
        let (mut server, port) = crate::helpers::start_serve(
            &test_db,
            &["--no-scheduler", "--no-outbox-worker"],
            &[
                ("PULSE_SURVEY_REQUESTS_PER_MINUTE", "100000"),
                ("PULSE_LOG", "error"),
            ],
            Stdio::inherit(),
        );

        let acked = Arc::new(Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for worker in 0..16 {
            let (tokens, acked, client) = (tokens.clone(), acked.clone(), client.clone());
            clients.push(tokio::spawn(async move {
                for n in 0.. {
                    let Some(token) = tokens.lock().unwrap().pop() else {
                        return;
                    };
                    let marker = format!("crash-marker-{round}-{worker}-{n}");
                    let response = client
                        .post(format!("http://127.0.0.1:{port}/s/{token}"))
                        .form(&valid_answers(&marker))
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status() == 303 => acked.lock().unwrap().push(marker),
                        Ok(r) => panic!("unexpected status {} before the crash", r.status()),
                        Err(_) => return, // the server is gone: not acknowledged
                    }
                }
            }));
        }
        let delay = rand::thread_rng().gen_range(150..700);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        for client in clients {
            client.await.unwrap();
        }
        acknowledged.extend(acked.lock().unwrap().drain(..));

        let pool = db::connect(&test_db.url).unwrap();
        let mut conn = pool.get().unwrap();
        let DbConn::Sqlite(inner) = &mut *conn else {
            unreachable!()
        };
        let check: Check = diesel::sql_query("PRAGMA integrity_check")
            .get_result(inner)
            .unwrap();
        assert_eq!(check.integrity_check, "ok", "round {round}");
        let markers: Vec<Marker> = diesel::sql_query(
            "SELECT value_text, COUNT(*) AS copies FROM answers WHERE question_key = 'comment' GROUP BY value_text",
        )
        .load(inner)
        .unwrap();
        let stored: HashMap<String, i64> = markers
            .into_iter()
            .map(|m| (m.value_text, m.copies))
            .collect();
        for marker in &acknowledged {
            assert_eq!(
                stored.get(marker),
                Some(&1),
                "round {round}: acknowledged {marker} must be stored exactly once"
            );
        }
        assert!(
            stored.values().all(|&copies| copies == 1),
            "round {round}: an answer was stored twice"
        );
    }
    assert!(
        acknowledged.len() > rounds * 5,
        "the rounds did real work: {} acknowledged",
        acknowledged.len()
    );
}
