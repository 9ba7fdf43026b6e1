//! The respondent experience over real HTTP: the form behind the emailed link, validation,
//! anonymous storage, the neutral page, races, limits and the linkage audit.

use std::collections::HashSet;

use pulse::db;
use pulse::domain::token::{LinkToken, TokenPurpose};
use pulse::domain::wave::WaveInput;
use pulse::services::{stakeholders, surveys, waves};

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, TestDb};

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Prepares `db` with `n` stakeholders and an open `internal-customer` wave; returns the
/// survey link tokens of all invitations (derived from the test secret key, as the
/// outbox does).
pub fn survey_tokens(test_db: &TestDb, n: usize) -> Vec<String> {
    let pool = db::connect(&test_db.url).unwrap();
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
    surveys::load_and_pin(&mut conn, &dir, now()).unwrap();
    let mut csv = String::from("email,name,business_unit,region\n");
    for i in 0..n {
        csv.push_str(&format!(
            "person{i}@example.com,Person {i},{},EMEA\n",
            ["Manufacturing", "R&D", "Sales"][i % 3]
        ));
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes()).unwrap();
    stakeholders::apply_import(&mut conn, &parsed, false, now()).unwrap();
    open_wave(&mut conn, "internal-customer")
}

fn open_wave(conn: &mut db::DbConn, survey: &str) -> Vec<String> {
    let input = WaveInput {
        survey: survey.into(),
        title: "H1".into(),
        opens: "now".into(),
        closes: "2099-01-01".into(),
        remind: "none".into(),
        ..Default::default()
    };
    let wave = waves::schedule_wave(conn, &input, now()).unwrap();
    let key = pulse::config::SecretKey::parse_hex(crate::helpers::TEST_SECRET_HEX).unwrap();
    waves::open_wave(conn, &key, &wave.id, now())
        .unwrap()
        .unwrap();
    let ids = pulse::db::models::invitations::ids_of_wave(conn, &wave.id).unwrap();
    ids.iter()
        .map(|id| {
            LinkToken::derive(&key, TokenPurpose::Survey, id)
                .expose()
                .to_string()
        })
        .collect()
}

/// A complete, valid answer set for `internal-customer`, with `comment` as the comment.
pub fn valid_answers(comment: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![("recommend".into(), "9".into())];
    for key in [
        "understanding_needs",
        "alignment",
        "communication",
        "responsiveness",
        "ease",
        "policy_clarity",
        "partnership",
    ] {
        form.push((key.into(), "4".into()));
    }
    form.push(("pain_points".into(), "approval_delays".into()));
    form.push(("pain_points".into(), "slow_sourcing".into()));
    form.push(("frequency".into(), "monthly".into()));
    form.push(("comment".into(), comment.into()));
    form
}

fn with(mut form: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    form.retain(|(k, _)| k != key);
    form.push((key.into(), value.into()));
    form
}

async fn app_with_tokens(backend: Backend, n: usize) -> (TestApp, Vec<String>) {
    let app = spawn_app(backend).await;
    let tokens = survey_tokens(&app.db, n);
    (app, tokens)
}

async fn post(app: &TestApp, token: &str, form: &[(String, String)]) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/s/{token}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn the_link_shows_the_form_and_get_changes_nothing(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 3).await;
    for _ in 0..2 {
        let page = app.get(&format!("/s/{}", tokens[0])).await;
        assert_eq!(page.status(), 200);
        let headers = page.headers().clone();
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert!(
            !headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src"),
            "no script allowed at all"
        );
        let html = page.text().await.unwrap();
        for key in [
            "recommend",
            "understanding_needs",
            "pain_points",
            "frequency",
            "comment",
        ] {
            assert!(
                html.contains(&format!("name=\"{key}\"")),
                "field {key} is on the form"
            );
        }
        assert!(!html.contains("<script"), "no JavaScript");
    }
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        pulse::db::models::invitations::responded_count(&mut conn).unwrap(),
        0,
        "GET stored nothing"
    );
}

async fn a_valid_answer_is_stored_and_redirects_to_a_page_without_the_token(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 3).await;
    let response = post(
        &app,
        &tokens[0],
        &valid_answers("Quicker approvals, please."),
    )
    .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(!location.contains(&tokens[0]), "{location}");
    let thanks = app.get(&location).await;
    assert_eq!(thanks.status(), 200);
    assert!(thanks
        .text()
        .await
        .unwrap()
        .to_lowercase()
        .contains("thank"));

    let mut conn = app.pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    assert_eq!(
        pulse::db::models::responses::count_for_wave(&mut conn, &wave_id).unwrap(),
        1
    );
    let counts = pulse::db::models::responses::counts_for_wave(&mut conn, &wave_id).unwrap();
    let count = |key: &str, value: &str| {
        counts
            .iter()
            .filter(|c| c.question_key == key && c.value == value)
            .map(|c| c.n)
            .sum::<i64>()
    };
    assert_eq!(count("recommend", "9"), 1);
    assert_eq!(count("pain_points", "approval_delays"), 1);
    assert_eq!(count("pain_points", "slow_sourcing"), 1);
    assert_eq!(count("_responses", ""), 1);
    let comments =
        pulse::db::models::responses::text_answers(&mut conn, &wave_id, "comment").unwrap();
    assert_eq!(comments[0].2, "Quicker approvals, please.");
    // The response cell: the survey's segment attributes, nothing else about the person,
    // and only down to a group of at least k invitees — here three people in three units,
    // so the whole wave.
    let cell: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&comments[0].1).unwrap();
    assert!(cell.is_empty(), "{cell:?}");
    let invitations =
        pulse::db::models::invitations::of_wave_with_email(&mut conn, &wave_id).unwrap();
    assert!(invitations
        .iter()
        .all(|(i, _)| i.response_cell == comments[0].1));
    assert!(
        invitations.iter().any(|(i, _)| i.segment.contains("EMEA")),
        "the invitation keeps its segment"
    );

    // Per response only what is read per response is kept: the comment and, beside it, the
    // NPS answer (the comments are filtered by it). Every other answer is only counted,
    // and an answer without a comment keeps nothing per response.
    assert_eq!(
        kept_answers(&mut conn),
        [
            (
                "comment".to_string(),
                None,
                Some("Quicker approvals, please.".to_string())
            ),
            ("recommend".to_string(), Some(9), None),
        ]
    );
    drop(conn);
    let response = post(&app, &tokens[1], &valid_answers("")).await;
    assert_eq!(response.status(), 303);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(kept_answers(&mut conn).len(), 2);
    assert_eq!(
        pulse::db::models::responses::count_for_wave(&mut conn, &wave_id).unwrap(),
        2
    );
    let counts = pulse::db::models::responses::counts_for_wave(&mut conn, &wave_id).unwrap();
    let recommended: i64 = counts
        .iter()
        .filter(|c| c.question_key == "recommend" && c.value == "9")
        .map(|c| c.n)
        .sum();
    assert_eq!(recommended, 2, "the second answer is counted");
}

/// Every row of the `answers` table: (question, integer value, text value), sorted.
fn kept_answers(conn: &mut db::DbConn) -> Vec<(String, Option<i32>, Option<String>)> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Kept {
        #[diesel(sql_type = diesel::sql_types::Text)]
        question_key: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
        value_int: Option<i32>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        value_text: Option<String>,
    }
    diesel::sql_query(
        "SELECT question_key, value_int, value_text FROM answers ORDER BY question_key",
    )
    .load::<Kept>(conn)
    .unwrap()
    .into_iter()
    .map(|k| (k.question_key, k.value_int, k.value_text))
    .collect()
}

async fn every_question_kind_is_validated_and_nothing_is_stored(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 2).await;
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("recommend", with(valid_answers(""), "recommend", "11")),
        (
            "recommend",
            valid_answers("")
                .into_iter()
                .filter(|(k, _)| k != "recommend")
                .collect(),
        ),
        (
            "understanding_needs",
            with(valid_answers(""), "understanding_needs", "6"),
        ),
        ("ease", with(valid_answers(""), "ease", "na")),
        ("frequency", with(valid_answers(""), "frequency", "hourly")),
        (
            "pain_points",
            with(valid_answers(""), "pain_points", "not_an_option"),
        ),
        (
            "comment",
            with(valid_answers(""), "comment", &"x".repeat(1001)),
        ),
    ];
    for (field, form) in cases {
        let response = post(&app, &tokens[0], &form).await;
        assert_eq!(response.status(), 422, "{field}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("aria-invalid=\"true\""),
            "{field}: the field is marked invalid"
        );
        assert!(
            html.contains(&format!("{field}-error")),
            "{field}: an error tied to the field"
        );
    }
    // Too many pain points: max_choices is 3.
    let mut too_many = valid_answers("");
    for option in ["unclear_contact", "contract_turnaround"] {
        too_many.push(("pain_points".into(), option.into()));
    }
    assert_eq!(post(&app, &tokens[0], &too_many).await.status(), 422);
    // "Not applicable" where the definition allows it is fine.
    assert_eq!(
        post(
            &app,
            &tokens[1],
            &with(valid_answers(""), "alignment", "na")
        )
        .await
        .status(),
        303
    );
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        pulse::db::models::invitations::responded_count(&mut conn).unwrap(),
        1,
        "only the valid one was stored"
    );
}

async fn a_rejected_form_keeps_every_answer(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 1).await;
    let form = with(
        with(valid_answers("Keep this comment"), "recommend", "12"),
        "frequency",
        "weekly",
    );
    let response = post(&app, &tokens[0], &form).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("Keep this comment"));
    assert!(
        html.contains("value=\"weekly\" checked")
            || html.contains("value=\"weekly\"\n") && html.contains("checked"),
        "the choice stays ticked"
    );
    assert!(
        html.contains("autofocus"),
        "focus goes to the error summary"
    );
}

async fn unknown_used_closed_and_cancelled_links_look_the_same(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 2).await;
    assert_eq!(
        post(&app, &tokens[0], &valid_answers("")).await.status(),
        303
    );
    // A used link of an open wave says the answer was received (the person may never
    // have seen the thank-you page), by GET and by POST alike.
    for used in [
        app.get(&format!("/s/{}", tokens[0])).await,
        post(&app, &tokens[0], &valid_answers("")).await,
    ] {
        assert_eq!(used.status(), 200);
        assert!(used
            .text()
            .await
            .unwrap()
            .contains("Your answers have been received"));
    }
    let unknown = app
        .get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    let malformed = app.get("/s/..%2F..%2Fetc").await;
    let mut conn = app.pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    waves::close_wave(&mut conn, &wave_id, now()).unwrap();
    let closed = app.get(&format!("/s/{}", tokens[1])).await;
    let closed_post = post(&app, &tokens[1], &valid_answers("")).await;
    // Once the wave is closed, a used link looks like every other unusable one.
    let used_closed = app.get(&format!("/s/{}", tokens[0])).await;

    let mut statuses = HashSet::new();
    let mut bodies = HashSet::new();
    for response in [unknown, malformed, closed, closed_post, used_closed] {
        statuses.insert(response.status().as_u16());
        bodies.insert(response.text().await.unwrap());
    }
    assert_eq!(statuses.len(), 1, "one status for all: {statuses:?}");
    assert_eq!(bodies.len(), 1, "one body for all");
    // Closing forgot who answered; the one answer is in the frozen results.
    assert_eq!(
        pulse::db::models::invitations::responded_count(&mut conn).unwrap(),
        0
    );
    assert_eq!(
        pulse::services::results::respondents_count(&mut conn, &wave_id, "closed").unwrap(),
        1
    );
}

async fn fifty_concurrent_posts_with_one_token_store_exactly_one(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 1).await;
    let form = valid_answers("race");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        tasks.push(spawn_post(
            app.url(&format!("/s/{}", tokens[0])),
            form.clone(),
        ));
    }
    let mut stored = 0;
    for task in tasks {
        match task.await.unwrap() {
            303 => stored += 1,
            // The others are told the answer was received.
            200 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(stored, 1);
    assert_eq!(responses_in_first_wave(&app), 1);
}

/// POSTs a form from a client of its own that does not follow redirects; gives the status.
fn spawn_post(url: String, form: Vec<(String, String)>) -> tokio::task::JoinHandle<u16> {
    tokio::spawn(async move {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(url)
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

fn responses_in_first_wave(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    pulse::db::models::responses::count_for_wave(&mut conn, &wave_id).unwrap()
}

/// Many links answered at once (looked up together on PostgreSQL: `services::link_lookups`):
/// each finds its own invitation, and a link that does not exist among them finds none.
async fn links_answered_at_once_each_find_their_own_invitation(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 40).await;
    let unknown = "x".repeat(tokens[0].len());
    let mut tasks = Vec::new();
    for token in tokens.iter().chain(std::iter::once(&unknown)) {
        tasks.push(spawn_post(
            app.url(&format!("/s/{token}")),
            valid_answers("together"),
        ));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let unknown_status = statuses.pop().unwrap();
    assert_eq!(unknown_status, 404, "the unknown link");
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(responses_in_first_wave(&app), 40);
}

async fn a_form_opened_before_closing_is_refused_after(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 1).await;
    assert_eq!(
        app.get(&format!("/s/{}", tokens[0])).await.status(),
        200,
        "the form was open"
    );
    let mut conn = app.pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    waves::close_wave(&mut conn, &wave_id, now()).unwrap();
    assert_eq!(
        post(&app, &tokens[0], &valid_answers("too late"))
            .await
            .status(),
        404
    );
    assert_eq!(
        pulse::db::models::responses::count_for_wave(&mut conn, &wave_id).unwrap(),
        0
    );
}

async fn script_in_a_comment_is_stored_verbatim_and_shown_escaped(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 2).await;
    let payload = "<script>alert('x')</script> & \"quotes\"";
    // Re-rendered (invalid form): escaped.
    let invalid = post(
        &app,
        &tokens[0],
        &with(valid_answers(payload), "recommend", ""),
    )
    .await;
    let html = invalid.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "never rendered raw");
    assert!(html.contains("&lt;script&gt;alert"));
    // Stored: verbatim.
    assert_eq!(
        post(&app, &tokens[0], &valid_answers(payload))
            .await
            .status(),
        303
    );
    let mut conn = app.pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    let comments =
        pulse::db::models::responses::text_answers(&mut conn, &wave_id, "comment").unwrap();
    assert_eq!(comments[0].2, payload);
}

async fn oversized_bodies_get_413(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 1).await;
    let huge = with(valid_answers(""), "comment", &"x".repeat(200_000));
    let response = post(&app, &tokens[0], &huge).await;
    assert_eq!(response.status(), 413);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        pulse::db::models::invitations::responded_count(&mut conn).unwrap(),
        0
    );
}

async fn survey_links_are_rate_limited_per_ip(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.survey_requests_per_minute = 5).await;
    let tokens = survey_tokens(&app.db, 1);
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            app.get(&format!("/s/{}", tokens[0]))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..5], &[200; 5]);
    assert_eq!(statuses[6], 429);
}

async fn no_column_or_log_line_links_a_response_to_an_invitation(backend: Backend) {
    let (app, tokens) = app_with_tokens(backend, 5).await;
    for token in &tokens[..3] {
        assert_eq!(
            post(&app, token, &valid_answers("audit")).await.status(),
            303
        );
    }
    let mut conn = app.pool.get().unwrap();
    // The response tables have exactly these columns: nothing that refers to a person.
    assert_eq!(
        pulse::db::models::responses::column_names(&mut conn, "responses").unwrap(),
        vec!["cell", "id", "submitted_on", "wave_id"]
    );
    assert_eq!(
        pulse::db::models::responses::column_names(&mut conn, "answers").unwrap(),
        vec![
            "position",
            "question_key",
            "response_id",
            "value_int",
            "value_text"
        ]
    );
    assert_eq!(
        pulse::db::models::responses::column_names(&mut conn, "cell_counts").unwrap(),
        vec!["cell", "counts", "respondents", "wave_id"]
    );
    // Response ids are random UUIDv4s, unrelated to invitation ids.
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    let response_ids: Vec<String> =
        pulse::db::models::responses::text_answers(&mut conn, &wave_id, "comment")
            .unwrap()
            .into_iter()
            .map(|c| c.0)
            .collect();
    let invitation_ids = pulse::db::models::invitations::ids_of_wave(&mut conn, &wave_id).unwrap();
    for id in &response_ids {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        assert!(!invitation_ids.contains(id));
    }
}

both_backends!(
    the_link_shows_the_form_and_get_changes_nothing,
    a_valid_answer_is_stored_and_redirects_to_a_page_without_the_token,
    every_question_kind_is_validated_and_nothing_is_stored,
    a_rejected_form_keeps_every_answer,
    unknown_used_closed_and_cancelled_links_look_the_same,
    fifty_concurrent_posts_with_one_token_store_exactly_one,
    links_answered_at_once_each_find_their_own_invitation,
    a_form_opened_before_closing_is_refused_after,
    script_in_a_comment_is_stored_verbatim_and_shown_escaped,
    oversized_bodies_get_413,
    survey_links_are_rate_limited_per_ip,
    no_column_or_log_line_links_a_response_to_an_invitation,
);

/// The server's own log, at debug level, while answers are submitted: no line carries an
/// invitation id, a stakeholder's address, a token or a response id.
async fn no_log_line_ties_an_answer_to_a_person(backend: Backend) {
    use std::io::Read;
    let test_db = TestDb::new(backend);
    let tokens = survey_tokens(&test_db, 3);
    let (mut server, port) = crate::helpers::start_serve(
        &test_db,
        &["--no-scheduler", "--no-outbox-worker"],
        &[("PULSE_LOG", "debug")],
        std::process::Stdio::piped(),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for token in &tokens {
        let r = client
            .post(format!("http://127.0.0.1:{port}/s/{token}"))
            .form(&valid_answers("log audit"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    server.kill().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    server.wait().unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("INFO"),
        "the log was captured"
    );

    let pool = db::connect(&test_db.url).unwrap();
    let mut conn = pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    let mut secrets: Vec<String> =
        pulse::db::models::invitations::ids_of_wave(&mut conn, &wave_id).unwrap();
    secrets.extend(tokens.iter().cloned());
    secrets.extend((0..3).map(|i| format!("person{i}@example.com")));
    secrets.extend(
        pulse::db::models::responses::text_answers(&mut conn, &wave_id, "comment")
            .unwrap()
            .into_iter()
            .map(|c| c.0),
    );
    assert!(secrets.len() >= 12);
    for secret in secrets {
        assert!(!log.contains(&secret), "the log contains {secret}");
    }
}

both_backends!(no_log_line_ties_an_answer_to_a_person);
