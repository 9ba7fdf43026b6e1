//! `pulse demo`: the binary seeds a fresh database (`--no-serve`), then a real server on that
//! database is asked for results. A closed wave keeps only its published results (its
//! answers are deleted at closing, see the README's threat model), so the served figures
//! must equal the stored snapshots and hold together (NPS from its own counts, means
//! inside their intervals) — checked here with raw SQL and arithmetic, never through
//! `pulse::stats` or the results service; the open wave's answers are checked against its
//! stored counts. Also: the accounts sign in with the printed passwords, the intended trends
//! are in the results, a non-empty database is only replaced with `--reset --yes`, a failed
//! reset changes nothing, and the same seed gives the same numbers.

use std::path::PathBuf;
use std::process::Output;

use diesel::sql_types::{BigInt, Integer, Text};
use diesel::QueryableByName;
use pulse::demo::model::{FADING_PAIN_POINT, FALLING_UNIT, GROWING_PAIN_POINT, IMPROVING_UNIT};
use pulse::startup::Application;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{
    client_with_jar, new_client, run_cli, segment, segment_group, test_settings, text, Backend,
    TestApp, TestDb,
};

fn demo(db: &TestDb, args: &[&str]) -> Output {
    let mut all = vec!["demo", "--no-serve"];
    all.extend_from_slice(args);
    run_cli(&db.raw_url, db.dir.path(), &all, None)
}

pub(crate) fn seeded(backend: Backend, seed: &str) -> (TestDb, String) {
    let db = TestDb::new(backend);
    let output = demo(&db, &["--seed", seed]);
    assert!(
        output.status.success(),
        "pulse demo failed: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        !text(&output.stderr).contains('\u{1b}'),
        "no colour codes in logs that go to a file or a pipe"
    );
    (db, text(&output.stdout))
}

/// (role, email, password) of the printed accounts.
fn printed_accounts(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|words| words.len() == 3 && (words[0] == "admin" || words[0] == "lead"))
        .map(|w| (w[0].to_string(), w[1].to_string(), w[2].to_string()))
        .collect()
}

/// A server on the seeded database (scheduler and outbox worker off, as in every test).
pub(crate) async fn serve(db: TestDb) -> TestApp {
    let app = Application::build(test_settings(&db))
        .await
        .expect("the application starts on the demo database");
    let port = app.port();
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());
    let cookie_jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        pool,
        client: client_with_jar(cookie_jar.clone()),
        cookie_jar,
        db,
    }
}

// ---------------------------------------------------------------------------------------
// Raw SQL over the stored rows
// ---------------------------------------------------------------------------------------

fn query<T>(db: &TestDb, sql: &str) -> Vec<T>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    use diesel::RunQueryDsl;
    let pool = pulse::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    let conn: &mut pulse::db::DbConn = &mut conn;
    pulse::on_backend!(conn, c => diesel::sql_query(sql).load::<T>(c)).unwrap()
}

#[derive(QueryableByName, Debug, Clone)]
struct WaveRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Integer)]
    reminders_enqueued: i32,
}

fn waves(db: &TestDb) -> Vec<WaveRow> {
    query(
        db,
        "SELECT w.id, w.title, w.state, v.slug, w.reminders_enqueued FROM waves w
         JOIN survey_versions v ON v.id = w.survey_version_id ORDER BY w.opens_at",
    )
}

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(db: &TestDb, sql: &str) -> i64 {
    query::<Count>(db, sql)[0].n
}

#[derive(QueryableByName, Debug)]
struct Snapshot {
    #[diesel(sql_type = Text)]
    results: String,
}

/// The results frozen when a wave closed.
fn snapshot(db: &TestDb, wave_id: &str) -> Value {
    let rows: Vec<Snapshot> = query(
        db,
        &format!("SELECT results FROM result_snapshots WHERE wave_id = '{wave_id}'"),
    );
    serde_json::from_str(&rows[0].results).unwrap()
}

/// A business unit's NPS as the frozen breakdown shows it.
fn unit_nps(db: &TestDb, wave_id: &str, unit: &str) -> f64 {
    segment_group(&snapshot(db, wave_id), "business_unit", unit)["figures"]["nps"]
        .as_f64()
        .unwrap()
}

/// Share of the wave's respondents who ticked `option`, as frozen.
fn pain_share(db: &TestDb, wave_id: &str, option: &str) -> f64 {
    snapshot(db, wave_id)["pain_points"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|stage| stage["options"].as_array().unwrap())
        .find(|o| o["key"] == option)
        .map_or(0.0, |o| o["share"].as_f64().unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

both_backends!(
    the_demo_shows_figures_computed_from_its_stored_answers,
    a_non_empty_database_is_replaced_only_when_confirmed,
    the_same_seed_gives_the_same_numbers,
);

async fn the_demo_shows_figures_computed_from_its_stored_answers(backend: Backend) {
    let (db, stdout) = seeded(backend, "42");

    // The organisation and the waves.
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM stakeholders"), 1500);
    let units = count(
        &db,
        "SELECT COUNT(DISTINCT attributes) AS n FROM stakeholders WHERE attributes LIKE '%\"internal\"%'",
    );
    assert!(units > 50, "varied attributes: {units}");
    let all = waves(&db);
    let internal: Vec<&WaveRow> = all
        .iter()
        .filter(|w| w.slug == "internal-customer")
        .collect();
    let states: Vec<&str> = internal.iter().map(|w| w.state.as_str()).collect();
    assert_eq!(states, ["closed", "closed", "closed", "closed", "open"]);
    let supplier: Vec<&WaveRow> = all
        .iter()
        .filter(|w| w.slug == "supplier-customer-of-choice")
        .collect();
    // One beside each closed internal wave (the mirror pairs them), one three months ago.
    assert_eq!(supplier.len(), 5);
    assert!(supplier.iter().all(|w| w.state == "closed"));

    // The open wave: some answers, one reminder round sent and the second one still to
    // come; nothing of the past waits in the outbox to be sent at start.
    let open = internal[4];
    let open_invited = count(
        &db,
        &format!(
            "SELECT COUNT(*) AS n FROM invitations WHERE wave_id = '{}'",
            open.id
        ),
    );
    let open_responses = count(
        &db,
        &format!(
            "SELECT COUNT(*) AS n FROM responses WHERE wave_id = '{}'",
            open.id
        ),
    );
    assert_eq!(open_invited, 1400);
    assert!(
        open_responses > 200 && open_responses < open_invited / 2,
        "{open_responses}"
    );
    assert_eq!(open.reminders_enqueued, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM outbox WHERE state NOT IN ('sent', 'cancelled')"
        ),
        0
    );
    assert!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM outbox WHERE wave_id = '{}' AND kind = 'reminder'",
                open.id
            )
        ) > 0
    );

    // Response rates of the closed waves between 45 and 75 %.
    for wave in internal.iter().take(4).chain(&supplier) {
        let invited = count(
            &db,
            &format!(
                "SELECT COUNT(*) AS n FROM invitations WHERE wave_id = '{}'",
                wave.id
            ),
        );
        let responded = snapshot(&db, &wave.id)["responses"].as_i64().unwrap();
        let rate = responded as f64 / invited as f64;
        assert!((0.45..=0.75).contains(&rate), "{}: {rate}", wave.title);
    }

    // The summary says plainly that past mail was never sent, and where to sign in.
    assert!(
        stdout.contains("none of their invitations, reminders or"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sign in at http://127.0.0.1:8080/login"),
        "{stdout}"
    );
    assert!(!stdout.contains("enqueued"), "no log lines in the summary");
    // Three invitations of the open wave, printed and written as .eml files.
    let links: Vec<&str> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("http://127.0.0.1:8080/s/"))
        .collect();
    assert_eq!(links.len(), 3, "{stdout}");
    let emls: Vec<String> = std::fs::read_dir(db.dir.path().join("outbox-mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(emls.len(), 3);
    assert!(
        emls.iter()
            .any(|eml| eml.contains(links[0].trim_start_matches("http://127.0.0.1:8080"))),
        "the printed link is the one in the mail"
    );
    let try_path = links[0]
        .trim_start_matches("http://127.0.0.1:8080")
        .to_string();

    // The printed accounts sign in.
    let accounts = printed_accounts(&stdout);
    assert_eq!(accounts.len(), 2, "{stdout}");
    let mut app = serve(db).await;
    let (_, admin_email, admin_password) = &accounts[0];
    let response = app.login(admin_email, admin_password).await;
    assert_eq!(response.status(), 303, "the admin signs in");
    assert_eq!(app.get("/admin").await.status(), 200);
    // The lead, in a browser of their own.
    app.cookie_jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    app.client = client_with_jar(app.cookie_jar.clone());
    let (role, lead_email, lead_password) = &accounts[1];
    assert_eq!(role, "lead");
    assert_eq!(
        app.login(lead_email, "not the password").await.status(),
        401
    );
    assert_eq!(app.login(lead_email, lead_password).await.status(), 303);
    let form = app.get(&try_path).await;
    assert_eq!(form.status(), 200, "a printed link opens the survey");
    // In the stakeholder's language: English or German.
    let form = form.text().await.unwrap();
    assert!(
        form.contains("How likely are you to recommend")
            || form.contains("Wie wahrscheinlich ist es, dass Sie"),
        "{form}"
    );
    let lead = &app;

    // Every closed wave's results are its snapshot, and they hold together.
    for wave in internal.iter().take(4).chain(&supplier) {
        let json: Value = lead
            .get(&format!("/api/v1/waves/{}/results", wave.id))
            .await
            .json()
            .await
            .unwrap();
        let db = &app.db;
        let invited = count(
            db,
            &format!(
                "SELECT COUNT(*) AS n FROM invitations WHERE wave_id = '{}'",
                wave.id
            ),
        );
        let frozen = snapshot(db, &wave.id);
        let responses = frozen["responses"].as_i64().unwrap();
        assert_eq!(
            count(
                db,
                &format!(
                    "SELECT COUNT(*) AS n FROM responses WHERE wave_id = '{}'",
                    wave.id
                ),
            ),
            0,
            "a closed wave keeps no responses"
        );
        assert_eq!(json["nps"], frozen["nps"]);
        assert_eq!(json["dimensions"], frozen["dimensions"]);
        assert_eq!(json["frozen"], true, "{}", wave.title);
        assert_eq!(json["invited"], invited);
        assert_eq!(json["responses"], responses);
        assert!(close(
            json["response_rate"].as_f64().unwrap(),
            responses as f64 / invited as f64
        ));
        let (promoters, passives, detractors) = (
            json["nps"]["promoters"].as_u64().unwrap(),
            json["nps"]["passives"].as_u64().unwrap(),
            json["nps"]["detractors"].as_u64().unwrap(),
        );
        let n = promoters + passives + detractors;
        let score = 100.0 * (promoters as f64 - detractors as f64) / n as f64;
        assert_eq!(json["nps"]["n"], n);
        assert!(n > 0 && n <= responses as u64);
        assert!(
            close(json["nps"]["score"].as_f64().unwrap(), score),
            "{}: {} vs {score}",
            wave.title,
            json["nps"]["score"]
        );
        // A Likert dimension: a mean on the scale, inside its interval.
        if wave.slug == "internal-customer" {
            let dimension = json["dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["key"] == "communication")
                .unwrap();
            let mean = dimension["figures"]["mean"].as_f64().unwrap();
            let ci = &dimension["figures"]["ci"];
            assert!((1.0..=5.0).contains(&mean));
            assert!(ci[0].as_f64().unwrap() <= mean && mean <= ci[1].as_f64().unwrap());
            assert!(dimension["figures"]["n"].as_u64().unwrap() <= responses as u64);
            // NPS per business unit, as the segment breakdown shows it.
            for group in segment(&json, "business_unit")["groups"]
                .as_array()
                .unwrap()
            {
                let unit = group["value"].as_str().unwrap();
                if let Some(shown) = group["figures"]["nps"].as_f64() {
                    assert!(close(shown, unit_nps(db, &wave.id, unit)), "{unit}");
                }
            }
            // The tiny department stays hidden.
            let audit = segment_group(&json, "department", "Internal Audit");
            assert!(audit["figures"].is_null(), "{audit}");
            // Comments are shown.
            let comments = json["comments"]["items"].as_array().unwrap();
            assert!(comments.len() > 20);
        }
    }
    let page = lead
        .get(&format!("/admin/waves/{}/results", internal[3].id))
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&internal[3].title));

    // The trend is in the answers: one unit improves, another falls, and the pain points
    // shift from approvals to supplier onboarding.
    let (first, last) = (&internal[0].id, &internal[3].id);
    let db = &app.db;
    let (up_before, up_after) = (
        unit_nps(db, first, IMPROVING_UNIT),
        unit_nps(db, last, IMPROVING_UNIT),
    );
    assert!(up_after > up_before + 20.0, "{up_before} → {up_after}");
    let (down_before, down_after) = (
        unit_nps(db, first, FALLING_UNIT),
        unit_nps(db, last, FALLING_UNIT),
    );
    assert!(
        down_after < down_before - 20.0,
        "{down_before} → {down_after}"
    );
    assert!(pain_share(db, first, FADING_PAIN_POINT) > pain_share(db, first, GROWING_PAIN_POINT));
    assert!(pain_share(db, last, FADING_PAIN_POINT) < pain_share(db, last, GROWING_PAIN_POINT));
    let german = count(
        db,
        "SELECT COUNT(*) AS n FROM wave_comments WHERE question_key = 'comment'
         AND (text LIKE '%Lieferant%' OR text LIKE '%Einkauf%' OR text LIKE '%itte%')",
    );
    assert!(german > 0, "some comments are in German");

    // Closing the loop: actions on the past waves, some done and one dropped, whose targets
    // moved later; the published ones in the open wave's invitation and form; "what we
    // heard" of the last closed wave, printed and open without signing in.
    let actions: Vec<Value> = lead
        .get("/api/v1/actions?survey=internal-customer")
        .await
        .json()
        .await
        .unwrap();
    let with_status = |s: &str| actions.iter().filter(|a| a["status"] == s).count();
    assert_eq!(actions.len(), 6);
    assert_eq!((with_status("done"), with_status("dropped")), (2, 1));
    assert!(actions.iter().any(|a| a["overdue"] == true));
    let fast_track = actions
        .iter()
        .find(|a| a["title"] == "Approval fast track")
        .unwrap();
    assert_eq!(fast_track["wave_id"], internal[0].id.as_str());
    assert_eq!(fast_track["published"], true);
    let detail: Value = lead
        .get(&format!(
            "/api/v1/actions/{}",
            fast_track["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    let shares: Vec<f64> = detail["did_it_work"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["figure"]["value"].as_f64())
        .collect();
    assert_eq!(shares.len(), 4, "{detail}");
    assert!(
        shares[3] < shares[0] - 0.05,
        "the approval-delay pain point fell after the fast track: {shares:?}"
    );
    let eml = std::fs::read_to_string(
        std::fs::read_dir(app.db.dir.path().join("outbox-mail"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    let invitation = crate::smtp_server::ReceivedMessage {
        from: String::new(),
        to: Vec::new(),
        raw: eml,
        connection: 0,
    }
    .text_body()
    .unwrap();
    assert!(invitation.contains("You said, we did:"), "{invitation}");
    assert!(
        invitation.contains("New suppliers are set up within five working days"),
        "{invitation}"
    );
    assert!(
        !invitation.contains("A chat in the intranet"),
        "not the dropped one: {invitation}"
    );
    let form = app.get(&try_path).await.text().await.unwrap();
    assert!(
        form.contains("New suppliers are set up within five working days")
            || form.contains("Neue Lieferanten werden innerhalb von fünf Arbeitstagen angelegt"),
        "{form}"
    );
    let heard = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://127.0.0.1:8080/w/"))
        .expect("the printed \"what we heard\" link");
    let page = new_client()
        .get(app.url(heard.trim_start_matches("http://127.0.0.1:8080")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&internal[3].title), "{page}");
    assert!(
        page.contains("Supplier onboarding in five days")
            || page.contains("New suppliers are set up")
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'what_we_heard' AND state = 'sent'"
        ),
        count(
            db,
            &format!(
                "SELECT CAST(recipients AS BIGINT) AS n FROM wave_summaries WHERE wave_id = '{}'",
                internal[3].id
            )
        )
    );
}

async fn a_non_empty_database_is_replaced_only_when_confirmed(backend: Backend) {
    let (db, _) = seeded(backend, "1");
    let before: Vec<String> = waves(&db).into_iter().map(|w| w.id).collect();

    let again = demo(&db, &[]);
    assert!(!again.status.success());
    let message = text(&again.stderr);
    assert!(message.contains("already holds data"), "{message}");
    assert!(message.contains("--reset"), "{message}");

    // No terminal to ask on: --reset alone is not enough.
    let unconfirmed = demo(&db, &["--reset"]);
    assert!(!unconfirmed.status.success());
    assert!(text(&unconfirmed.stderr).contains("--yes"));

    // A reset that fails half-way (here: broken survey definitions) changes nothing.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("broken.json"), "{ not json").unwrap();
    let failed = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["demo", "--no-serve", "--reset", "--yes"])
        .current_dir(db.dir.path())
        .env("PULSE_DATABASE_URL", &db.raw_url)
        .env("PULSE_SECRET_KEY", crate::helpers::TEST_SECRET_HEX)
        .env("PULSE_DEFINITIONS_DIR", broken.path())
        .env("PULSE_LOG", "warn")
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(text(&failed.stderr).contains("not changed") || backend == Backend::Postgres);
    let kept: Vec<String> = waves(&db).into_iter().map(|w| w.id).collect();
    assert_eq!(kept, before, "the failed reset left the old demo in place");
    if let pulse::db::DatabaseUrl::Sqlite(path) = &db.url {
        assert!(!PathBuf::from(format!("{path}.demo-seeding")).exists());
    }

    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM stakeholders"), 1500);
    let replaced = demo(&db, &["--reset", "--yes", "--seed", "2"]);
    assert!(replaced.status.success(), "{}", text(&replaced.stderr));
    let after: Vec<String> = waves(&db).into_iter().map(|w| w.id).collect();
    assert_eq!(after.len(), before.len());
    assert!(
        after.iter().all(|id| !before.contains(id)),
        "all waves are new"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM stakeholders"), 1500);
    // Admin, lead and the IT viewer.
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users"), 3);
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct CountsRow {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    cell: String,
    #[diesel(sql_type = Text)]
    question_key: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct PackedCell {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    cell: String,
    #[diesel(sql_type = Text)]
    counts: String,
}

fn all_counts(db: &TestDb) -> Vec<CountsRow> {
    let cells: Vec<PackedCell> = query(
        db,
        "SELECT w.title, c.cell, c.counts FROM cell_counts c JOIN waves w ON w.id = c.wave_id",
    );
    let mut rows: Vec<CountsRow> = cells
        .iter()
        .flat_map(|c| {
            pulse::db::models::responses::unpack(&c.counts).map(|(question_key, value, n)| {
                CountsRow {
                    title: c.title.clone(),
                    cell: c.cell.clone(),
                    question_key: question_key.to_string(),
                    value: value.to_string(),
                    n,
                }
            })
        })
        .collect();
    // An open pulse quarter's answers sit in sealed cells (a keyed hash of a random
    // invitation id, different in every database): compared as one sealed group.
    let mut summed: std::collections::BTreeMap<(String, String, String, String), i64> =
        Default::default();
    for row in rows.drain(..) {
        let cell = if row.cell.starts_with("sealed:") {
            "sealed".to_string()
        } else {
            row.cell
        };
        *summed
            .entry((row.title, cell, row.question_key, row.value))
            .or_default() += row.n;
    }
    rows = summed
        .into_iter()
        .map(|((title, cell, question_key, value), n)| CountsRow {
            title,
            cell,
            question_key,
            value,
            n,
        })
        .collect();
    rows.sort();
    rows
}

async fn the_same_seed_gives_the_same_numbers(backend: Backend) {
    let (a, _) = seeded(backend, "7");
    let (b, _) = seeded(backend, "7");
    let (c, _) = seeded(backend, "8");
    // The open wave's counts, and the closed waves' published figures.
    let (counts_a, counts_b, counts_c) = (all_counts(&a), all_counts(&b), all_counts(&c));
    assert!(counts_a.len() > 1000);
    assert!(counts_a == counts_b, "the same seed, the same answers");
    assert!(counts_a != counts_c, "another seed, other answers");
    // Wave ids are random per database: the groups' trends name their waves by them.
    fn without_wave_ids(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("wave_id");
                map.values_mut().for_each(without_wave_ids);
            }
            Value::Array(items) => items.iter_mut().for_each(without_wave_ids),
            _ => {}
        }
    }
    let published = |db: &TestDb| -> Vec<(String, Value, Value, Value)> {
        waves(db)
            .iter()
            .filter(|w| w.state == "closed")
            .map(|w| {
                let s = snapshot(db, &w.id);
                let mut segments = s["segments"].clone();
                without_wave_ids(&mut segments);
                (
                    w.title.clone(),
                    s["nps"].clone(),
                    s["dimensions"].clone(),
                    segments,
                )
            })
            .collect()
    };
    assert_eq!(published(&a), published(&b));
    assert_ne!(published(&a), published(&c));
    let comments = |db: &TestDb| {
        let mut texts: Vec<String> = query::<AnswerText>(
            db,
            "SELECT text AS value_text FROM wave_comments WHERE question_key = 'comment'
             UNION ALL SELECT value_text FROM answers WHERE question_key = 'comment'",
        )
        .into_iter()
        .map(|r| r.value_text)
        .collect();
        texts.sort();
        texts
    };
    assert!(!comments(&a).is_empty());
    assert_eq!(comments(&a), comments(&b));
}

#[derive(QueryableByName)]
struct AnswerText {
    #[diesel(sql_type = Text)]
    value_text: String,
}

/// Without --database-url the demo uses its own file, never the production `pulse.db`.
#[tokio::test]
async fn the_demo_database_is_pulse_demo_db_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["demo", "--no-serve", "--seed", "3"])
        .current_dir(dir.path())
        .env_remove("PULSE_DATABASE_URL")
        .env("PULSE_SECRET_KEY", crate::helpers::TEST_SECRET_HEX)
        .env(
            "PULSE_DEFINITIONS_DIR",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions"),
        )
        .env("PULSE_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(dir.path().join("pulse-demo.db").exists());
    assert!(!dir.path().join("pulse.db").exists());
    assert!(text(&output.stdout).contains("sqlite://pulse-demo.db"));
}
