//! Issue 10, from the outside: the four attacks that once worked, run again against the
//! real binary and database, on both backends.
//!
//! 1. A lead subtracts published (n, sum) pairs across the whole wave and filters.
//! 2. Someone with a copy of the database (the live tables, a `pulse backup` file) joins
//!    everything there is and counts the people linked to a response — open and closed.
//! 3. An admin resends a link to find out whether someone answered.
//! 4. The words: a group hidden to protect another says so.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::RunQueryDsl;
use pulse::db::models::invitations;
use pulse::db::DbConn;
use pulse::domain::token::answered_mark;
use pulse::domain::wave::WaveInput;
use pulse::services::responses::{store_batch, StoredValue, Submission, SubmitOutcome};
use pulse::services::{stakeholders, waves};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{spawn_app, text, Backend, TestApp};
use crate::smtp_server::SmtpServer;

const K: u64 = 5;
const DIMENSIONS: [&str; 7] = [
    "understanding_needs",
    "alignment",
    "communication",
    "responsiveness",
    "ease",
    "policy_clarity",
    "partnership",
];

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Imports people as (business unit, region, department).
fn import(app: &TestApp, people: &[(&str, &str, &str)]) {
    let mut csv = String::from("email,name,language,business_unit,region,department\n");
    for (i, (unit, region, department)) in people.iter().enumerate() {
        let language = if i % 2 == 0 { "en" } else { "de" };
        csv.push_str(&format!(
            "p{i}@example.com,P {i},{language},{unit},{region},{department}\n"
        ));
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes()).unwrap();
    let mut conn = app.pool.get().unwrap();
    stakeholders::apply_import(&mut conn, &parsed, false, now()).unwrap();
}

fn open_wave(app: &TestApp, remind: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = WaveInput {
        survey: "internal-customer".into(),
        title: "H1 2027".into(),
        opens: "now".into(),
        closes: "2099-01-01".into(),
        remind: remind.into(),
        ..Default::default()
    };
    let wave = waves::schedule_wave(&mut conn, &input, now()).unwrap();
    waves::open_wave(&mut conn, &app.secret_key(), &wave.id, now())
        .unwrap()
        .unwrap();
    wave.id
}

/// (invitation id, email, full segment, response cell).
type Invited = (String, String, String, String);

/// Every invitation of a wave, by email.
fn invitations_of(app: &TestApp, wave_id: &str) -> Vec<Invited> {
    let mut conn = app.pool.get().unwrap();
    invitations::of_wave_with_email(&mut conn, wave_id)
        .unwrap()
        .into_iter()
        .map(|(row, email)| (row.id, email, row.segment, row.response_cell))
        .collect()
}

fn unit_of(segment: &str) -> String {
    let map: BTreeMap<String, String> = serde_json::from_str(segment).unwrap();
    map.get("business_unit").cloned().unwrap_or_default()
}

/// A complete answer set: NPS, the seven dimensions (`None`: not applicable), a pain
/// point, a profile answer and, if given, a comment.
fn answers(
    nps: i32,
    likert: [Option<i32>; 7],
    comment: Option<&str>,
) -> Vec<(String, StoredValue)> {
    let mut out = vec![("recommend".to_string(), StoredValue::Int(nps))];
    for (key, value) in DIMENSIONS.iter().zip(likert) {
        out.push((
            key.to_string(),
            value.map_or(StoredValue::NotApplicable, StoredValue::Int),
        ));
    }
    out.push((
        "pain_points".into(),
        StoredValue::Options(vec!["approval_delays".into()]),
    ));
    out.push(("frequency".into(), StoredValue::Choice("monthly".into())));
    if let Some(comment) = comment {
        out.push(("comment".into(), StoredValue::Text(comment.into())));
    }
    out
}

/// Stores answers for invitations, through the same path as `POST /s/{token}`.
fn answer(app: &TestApp, wave_id: &str, given: Vec<(&Invited, Vec<(String, StoredValue)>)>) {
    let key = app.secret_key();
    let batch: Vec<Submission> = given
        .into_iter()
        .map(|(invitation, answers)| Submission {
            answered_mark: answered_mark(&key, &invitation.0),
            wave_id: wave_id.to_string(),
            cell: invitation.3.clone(),
            answers,
            nps_key: Some("recommend".into()),
        })
        .collect();
    let mut conn = app.pool.get().unwrap();
    let outcomes = store_batch(&mut conn, &batch, now()).unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(SubmitOutcome::Stored))));
}

fn results_json(app: &TestApp, wave_id: &str, filter: Option<&str>) -> Option<Value> {
    let mut args = vec!["results", wave_id, "--format", "json"];
    if let Some(filter) = filter {
        args.extend(["--filter", filter]);
    }
    let output = app.cli(&args);
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).unwrap())
}

// ---------------------------------------------------------------------------------------
// Attack 1 and 4: subtraction across the whole wave and filters; the words
// ---------------------------------------------------------------------------------------

/// A published (n, sum) pair of one figure over one group of people.
#[derive(Debug, Clone)]
struct Pair {
    group: String,
    members: HashSet<String>,
    n: u64,
    sum: f64,
}

/// Every (n, sum) of a dimension and of the NPS question that the results publish for
/// the whole wave or a filter (`members`: the business units the group covers).
fn published_pairs(results: &Value, group: &str, members: HashSet<String>) -> Vec<(String, Pair)> {
    let mut out = Vec::new();
    for dim in results["dimensions"].as_array().unwrap() {
        if let Some(f) = dim["figures"].as_object() {
            let n = f["n"].as_u64().unwrap();
            out.push((
                dim["key"].as_str().unwrap().to_string(),
                Pair {
                    group: group.into(),
                    members: members.clone(),
                    n,
                    sum: f["mean"].as_f64().unwrap() * n as f64,
                },
            ));
        }
    }
    if let Some(nps) = results["nps"].as_object() {
        let n = nps["n"].as_u64().unwrap();
        out.push((
            "recommend".into(),
            Pair {
                group: group.into(),
                members,
                n,
                sum: nps["score"].as_f64().unwrap() * n as f64,
            },
        ));
    }
    out
}

async fn subtraction_across_filters_recovers_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    // The organisation: U1 21, U2 20, U3 6, U4 3.
    let mut people = Vec::new();
    for (unit, n) in [("U1", 21), ("U2", 20), ("U3", 6), ("U4", 3)] {
        for _ in 0..n {
            people.push((unit, "EMEA", "Buying"));
        }
    }
    import(&app, &people);
    let wave_id = open_wave(&app, "none");
    let invited = invitations_of(&app, &wave_id);
    // Everyone answers. In U3 and U4 eight say "not applicable" to alignment, one says 1.
    let mut small_seen = 0;
    let given: Vec<_> = invited
        .iter()
        .map(|inv| {
            let unit = unit_of(&inv.2);
            let alignment = if unit == "U1" || unit == "U2" {
                Some(4)
            } else {
                small_seen += 1;
                (small_seen == 1).then_some(1)
            };
            let mut likert = [Some(4); 7];
            likert[1] = alignment;
            (inv, answers(9, likert, None))
        })
        .collect();
    answer(&app, &wave_id, given);
    let closed = app.cli(&["wave", "close", &wave_id]);
    assert!(closed.status.success(), "{}", text(&closed.stderr));

    // What the lead can read: the whole wave and every filter the product allows.
    let wave = results_json(&app, &wave_id, None).unwrap();
    let all: HashSet<String> = ["U1", "U2", "U3", "U4"].map(String::from).into();
    let mut pairs = published_pairs(&wave, "wave", all.clone());
    let mut allowed = Vec::new();
    for unit in ["U1", "U2", "U3", "U4"] {
        if let Some(filtered) = results_json(&app, &wave_id, Some(&format!("business_unit={unit}")))
        {
            allowed.push(unit);
            pairs.extend(published_pairs(
                &filtered,
                unit,
                HashSet::from([unit.to_string()]),
            ));
        }
    }
    assert!(
        allowed.contains(&"U1") && allowed.contains(&"U2"),
        "{allowed:?}"
    );
    let alignment_wave = pairs
        .iter()
        .find(|(q, p)| q == "alignment" && p.group == "wave")
        .expect("the whole wave's alignment is published");
    assert_eq!(alignment_wave.1.n, 42);

    // The attacker: the wave minus any set of disjoint filters, for every question.
    let mut questions: Vec<&String> = pairs.iter().map(|(q, _)| q).collect();
    questions.sort();
    questions.dedup();
    for question in questions {
        let of_question: Vec<&Pair> = pairs
            .iter()
            .filter(|(q, _)| q == question)
            .map(|(_, p)| p)
            .collect();
        let Some(whole) = of_question.iter().find(|p| p.group == "wave") else {
            continue;
        };
        let parts: Vec<&&Pair> = of_question.iter().filter(|p| p.group != "wave").collect();
        for mask in 1u32..(1 << parts.len()) {
            let chosen: Vec<&&&Pair> = parts
                .iter()
                .enumerate()
                .filter(|(i, _)| mask >> i & 1 == 1)
                .map(|(_, p)| p)
                .collect();
            let disjoint = chosen.iter().flat_map(|p| p.members.iter()).count()
                == chosen
                    .iter()
                    .flat_map(|p| p.members.iter())
                    .collect::<HashSet<_>>()
                    .len();
            if !disjoint {
                continue;
            }
            let n: i64 = whole.n as i64 - chosen.iter().map(|p| p.n as i64).sum::<i64>();
            let sum = whole.sum - chosen.iter().map(|p| p.sum).sum::<f64>();
            assert!(
                !(1..K as i64).contains(&n),
                "{question}: wave − {:?} gives n = {n}, sum = {sum}",
                chosen.iter().map(|p| &p.group).collect::<Vec<_>>()
            );
        }
        // Filters against each other: any single one below k is a leak too.
        for p in &parts {
            assert!(p.n >= K, "{question} in {}: n = {}", p.group, p.n);
        }
    }

    // Attack 4: U4's three invitees are too few to be stored apart, so U3 (the smallest
    // other group) is stored with them: neither is shown, and the words say why — U4 has
    // fewer than 5, U3 (six) is stored only as part of a larger group.
    let csv = text(&app.cli(&["results", &wave_id, "--format", "csv"]).stdout);
    let row = |unit: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("segment,business_unit,{unit},")))
            .unwrap_or_else(|| panic!("{csv}"))
            .to_string()
    };
    assert!(row("U3").contains("stored only as part of a larger group"));
    assert!(!row("U3").contains("fewer than 5 responses"), "U3 has 6");
    assert!(
        row("U4").contains("hidden: fewer than 5 responses"),
        "U4 has 3"
    );
    let u3_json = wave["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["attribute"] == "business_unit")
        .unwrap()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == "U3")
        .unwrap()
        .clone();
    assert_eq!(u3_json["figures"], Value::Null);
    assert_eq!(u3_json["hidden"], "not_stored_separately");
    let csrf = app.signed_in_admin().await;
    let _ = csrf;
    let page = app
        .get(&format!("/admin/waves/{wave_id}/results"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("stored only as part of a larger group"),
        "the page says why U3 is hidden"
    );
}

// ---------------------------------------------------------------------------------------
// Attack 2: a copy of the database
// ---------------------------------------------------------------------------------------

#[derive(diesel::QueryableByName, Debug)]
struct InvitationDump {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    wave_id: String,
    #[diesel(sql_type = Text)]
    segment: String,
    #[diesel(sql_type = Text)]
    response_cell: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct CellDump {
    #[diesel(sql_type = Text)]
    cell: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct OutboxDump {
    #[diesel(sql_type = Nullable<Text>)]
    invitation_id: Option<String>,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    state: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName, Debug)]
struct Mark {
    #[diesel(sql_type = Text)]
    mark: String,
}

fn load<
    T: diesel::deserialize::QueryableByName<diesel::sqlite::Sqlite>
        + diesel::deserialize::QueryableByName<diesel::pg::Pg>
        + 'static,
>(
    conn: &mut DbConn,
    sql: &str,
) -> Vec<T> {
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        DbConn::Pg(c) => diesel::sql_query(sql).load(c).unwrap(),
    }
}

fn count(conn: &mut DbConn, sql: &str) -> i64 {
    load::<Count>(conn, sql)[0].n
}

/// What someone holding the database (no key) links: for every stored response and every
/// cell of the answer counts, the invitations it can belong to — same wave, a segment or
/// response cell equal to the response's cell — minus those the outbox shows to be in
/// another situation than the rest of the cell. Returns the responses (or counted
/// respondents) whose candidates number fewer than k: each of those is a person linked
/// with better odds than 1 in k.
fn people_linked(conn: &mut DbConn, wave_id: &str) -> u64 {
    let invitations: Vec<InvitationDump> = load(
        conn,
        "SELECT id, wave_id, segment, response_cell FROM invitations",
    );
    let outbox: Vec<OutboxDump> = load(conn, "SELECT invitation_id, kind, state FROM outbox");
    let mut signature: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for row in &outbox {
        if let Some(id) = &row.invitation_id {
            signature
                .entry(id.as_str())
                .or_default()
                .push((row.kind.clone(), row.state.clone()));
        }
    }
    for rows in signature.values_mut() {
        rows.sort();
    }
    let candidates = |cell: &str| -> u64 {
        let matching: Vec<&InvitationDump> = invitations
            .iter()
            .filter(|i| i.wave_id == wave_id && (i.segment == cell || i.response_cell == cell))
            .collect();
        // The attacker splits the candidates by what the outbox holds for them and takes
        // the smallest class as the best guess.
        let mut classes: HashMap<Vec<(String, String)>, u64> = HashMap::new();
        for i in &matching {
            *classes
                .entry(signature.get(i.id.as_str()).cloned().unwrap_or_default())
                .or_default() += 1;
        }
        classes.values().copied().min().unwrap_or(0)
    };
    let responses: Vec<CellDump> = load(
        conn,
        &format!("SELECT cell FROM responses WHERE wave_id = '{wave_id}'"),
    );
    let counted: Vec<CellDump> = load(
        conn,
        &format!("SELECT cell FROM cell_counts WHERE wave_id = '{wave_id}'"),
    );
    let mut linked = 0;
    for row in responses.iter().chain(&counted) {
        let c = candidates(&row.cell);
        if c < K {
            linked += 1;
        }
    }
    linked
}

/// The checks of a database copy: nobody linked, no mark tied to an invitation without the
/// key, and after closing nothing finer than the published results.
fn check_copy(conn: &mut DbConn, wave_id: &str, closed: bool, comments: i64) {
    assert_eq!(
        people_linked(conn, wave_id),
        0,
        "people linked (closed: {closed})"
    );
    let invitation_values: HashSet<String> = load::<InvitationDump>(
        conn,
        "SELECT id, wave_id, segment, response_cell FROM invitations",
    )
    .into_iter()
    .flat_map(|i| [i.id, i.segment, i.response_cell])
    .collect();
    let marks: Vec<Mark> = load(
        conn,
        &format!("SELECT mark FROM answered_marks WHERE wave_id = '{wave_id}'"),
    );
    assert!(marks.iter().all(|m| !invitation_values.contains(&m.mark)));
    let responses = count(
        conn,
        &format!("SELECT COUNT(*) AS n FROM responses WHERE wave_id = '{wave_id}'"),
    );
    if closed {
        assert!(marks.is_empty(), "no answered marks after closing");
        assert_eq!(responses, 0);
        assert_eq!(
            count(
                conn,
                "SELECT COUNT(*) AS n FROM answers WHERE response_id NOT IN (SELECT id FROM responses)"
            ),
            0
        );
        assert_eq!(
            count(
                conn,
                &format!("SELECT COUNT(*) AS n FROM cell_counts WHERE wave_id = '{wave_id}'")
            ),
            0
        );
        assert_eq!(
            count(
                conn,
                &format!("SELECT COUNT(*) AS n FROM wave_comments WHERE wave_id = '{wave_id}'")
            ),
            comments
        );
        assert!(
            count(
                conn,
                &format!(
                    "SELECT COUNT(*) AS n FROM result_filter_snapshots WHERE wave_id = '{wave_id}'"
                )
            ) > 0,
            "the allowed filters are kept as published results"
        );
    } else {
        assert_eq!(marks.len() as i64, responses, "one mark per response");
    }
}

fn sqlite_copy(app: &TestApp, name: &str) -> (pulse::db::Pool, std::path::PathBuf) {
    let path = app.db.dir.path().join(name);
    let output = app.cli(&["backup", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let url = pulse::db::DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    (pulse::db::connect(&url).unwrap(), path)
}

async fn a_database_copy_links_no_one(backend: Backend) {
    let app = spawn_app(backend).await;
    // 60 people; many combinations of unit, department and region hold one or two.
    let units = ["Manufacturing", "R&D", "Sales", "Legal", "Finance"];
    let departments = ["Buying", "Planning", "Quality", "Audit"];
    let regions = ["EMEA", "Americas", "APAC"];
    let people: Vec<(&str, &str, &str)> = (0..60)
        .map(|i| {
            (
                units[(i * i) % units.len()],
                regions[(i / 3) % regions.len()],
                departments[(i * 7 / 5) % departments.len()],
            )
        })
        .collect();
    import(&app, &people);
    let wave_id = open_wave(&app, "7d");
    let invited = invitations_of(&app, &wave_id);
    let mut per_segment: HashMap<&str, u64> = HashMap::new();
    for inv in &invited {
        *per_segment.entry(inv.2.as_str()).or_default() += 1;
    }
    // Half answer, with a comment each.
    let respondents: Vec<&Invited> = invited.iter().step_by(2).collect();
    let would_have_been_linked = respondents
        .iter()
        .filter(|inv| per_segment[inv.2.as_str()] < K)
        .count();
    assert!(
        would_have_been_linked > 5,
        "the organisation has respondents alone in their segment ({would_have_been_linked})"
    );
    answer(
        &app,
        &wave_id,
        respondents
            .iter()
            .enumerate()
            .map(|(i, inv)| {
                (
                    *inv,
                    answers(i as i32 % 11, [Some(3); 7], Some("more people")),
                )
            })
            .collect(),
    );
    // A reminder round, sent: reminders go to respondents' rows as well.
    {
        let mut conn = app.pool.get().unwrap();
        let wave = pulse::db::models::waves::find(&mut conn, &wave_id)
            .unwrap()
            .unwrap();
        let enqueued =
            waves::enqueue_due_reminders(&mut conn, &wave, now() + chrono::Duration::days(8))
                .unwrap();
        assert_eq!(enqueued, invited.len());
    }
    let smtp = SmtpServer::start().await;
    let clock = pulse::clock::ManualClock::new(now() + chrono::Duration::days(9));
    let worker = crate::waves::outbox(&app, &smtp, &clock).await;
    worker.drain().await.unwrap();
    // Mails: an invitation and a reminder to each who has not answered; none to those who
    // answered (here before their invitation went out: it is skipped like a reminder).
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for mail in smtp.messages() {
        *per_recipient.entry(mail.to[0].clone()).or_default() += 1;
    }
    let answered: HashSet<&str> = respondents.iter().map(|inv| inv.1.as_str()).collect();
    for (_, email, ..) in &invited {
        let expected = if answered.contains(email.as_str()) {
            0
        } else {
            2
        };
        assert_eq!(
            per_recipient.get(email).copied().unwrap_or(0),
            expected,
            "{email}"
        );
    }

    // Open: the live database, and on SQLite a `pulse backup` copy.
    check_copy(&mut app.pool.get().unwrap(), &wave_id, false, 0);
    if backend == Backend::Sqlite {
        let (copy, _) = sqlite_copy(&app, "open-copy.db");
        check_copy(&mut copy.get().unwrap(), &wave_id, false, 0);
        // Rows are kept in key order: there is no rowid to number them by arrival.
        let mut conn = copy.get().unwrap();
        if let DbConn::Sqlite(c) = &mut *conn {
            use diesel::connection::SimpleConnection;
            assert!(c.batch_execute("SELECT rowid FROM responses").is_err());
            assert!(c.batch_execute("SELECT rowid FROM answers").is_err());
            assert!(c.batch_execute("SELECT rowid FROM answered_marks").is_err());
            assert!(c.batch_execute("SELECT rowid FROM cell_counts").is_err());
        }
    }

    let closed = app.cli(&["wave", "close", &wave_id]);
    assert!(closed.status.success(), "{}", text(&closed.stderr));
    let comments = respondents.len() as i64;
    check_copy(&mut app.pool.get().unwrap(), &wave_id, true, comments);
    if backend == Backend::Sqlite {
        let (copy, _) = sqlite_copy(&app, "closed-copy.db");
        check_copy(&mut copy.get().unwrap(), &wave_id, true, comments);
    }
    // The published results survive: the same figures as before compaction would give.
    let results = results_json(&app, &wave_id, None).unwrap();
    assert_eq!(results["responses"], respondents.len());
    assert_eq!(results["comments"]["total"], respondents.len());
}

// ---------------------------------------------------------------------------------------
// Attack 3: resend
// ---------------------------------------------------------------------------------------

async fn resend_tells_the_admin_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    import(
        &app,
        &[
            ("Sales", "EMEA", "Buying"),
            ("Sales", "EMEA", "Buying"),
            ("Sales", "EMEA", "Buying"),
        ],
    );
    let wave_id = open_wave(&app, "none");
    let invited = invitations_of(&app, &wave_id);
    // p0 (English) and p1 (German) answer; p2 does not.
    answer(
        &app,
        &wave_id,
        vec![
            (&invited[0], answers(9, [Some(4); 7], None)),
            (&invited[1], answers(7, [Some(3); 7], None)),
        ],
    );
    let smtp = SmtpServer::start().await;
    let clock = pulse::clock::ManualClock::new(now());
    let worker = crate::waves::outbox(&app, &smtp, &clock).await;
    worker.drain().await.unwrap();
    let before = smtp.messages().len();

    // Command line: the same output and exit code for all three.
    let mut outputs = Vec::new();
    for (_, email, ..) in &invited {
        let output = app.cli(&["wave", "resend", &wave_id, "--email", email]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        outputs.push(text(&output.stdout).replace(email.as_str(), "EMAIL"));
    }
    assert!(outputs.iter().all(|o| o == &outputs[0]), "{outputs:?}");
    // Web: the same redirect.
    let csrf = app.signed_in_admin().await;
    let mut locations = Vec::new();
    for (_, email, ..) in &invited {
        let response = app
            .post_form(
                &format!("/admin/waves/{wave_id}/resend"),
                &[("csrf_token", &csrf), ("email", email)],
            )
            .await;
        assert_eq!(response.status(), 303);
        locations.push(response.headers()["location"].to_str().unwrap().to_string());
    }
    assert!(locations.iter().all(|l| l == &locations[0]));
    // The outbox holds the same rows for each of them, before and after sending.
    let shape = |app: &TestApp| -> Vec<Vec<(String, String)>> {
        let mut conn = app.pool.get().unwrap();
        let rows: Vec<OutboxDump> = load(
            &mut conn,
            &format!("SELECT invitation_id, kind, state FROM outbox WHERE wave_id = '{wave_id}'"),
        );
        invited
            .iter()
            .map(|inv| {
                let mut mine: Vec<(String, String)> = rows
                    .iter()
                    .filter(|r| r.invitation_id.as_deref() == Some(inv.0.as_str()))
                    .map(|r| (r.kind.clone(), r.state.clone()))
                    .collect();
                mine.sort();
                mine
            })
            .collect()
    };
    let queued = shape(&app);
    assert!(queued.iter().all(|s| s == &queued[0]), "{queued:?}");
    clock.set(now() + chrono::Duration::minutes(1));
    worker.drain().await.unwrap();
    let sent = shape(&app);
    assert!(sent.iter().all(|s| s == &sent[0]), "{sent:?}");
    // Only the mails differ: the respondents get "your answer is in" (in their language),
    // the other the link again.
    let mails = &smtp.messages()[before..];
    assert_eq!(mails.len(), 6);
    for mail in mails {
        let body = mail.text_body().unwrap();
        let subject = mail.subject().unwrap();
        if mail.to[0] == invited[2].1 {
            assert!(crate::helpers::survey_link(&body).is_some(), "{body}");
        } else {
            assert!(crate::helpers::survey_link(&body).is_none(), "{body}");
            if mail.to[0] == "p1@example.com" {
                assert_eq!(subject, "Ihre Antwort ist angekommen: vielen Dank");
            } else {
                assert_eq!(subject, "Your answer is in: thank you");
            }
        }
    }
    // (The first load shows the message of the last resend, the same for everyone.)
    app.get(&format!("/admin/waves/{wave_id}")).await;
    let page = app
        .get(&format!("/admin/waves/{wave_id}"))
        .await
        .text()
        .await
        .unwrap();
    for (_, email, ..) in &invited {
        assert!(!page.contains(email.as_str()), "the wave page names no one");
    }
}

// ---------------------------------------------------------------------------------------
// Upgrading a database written before marks and response cells
// ---------------------------------------------------------------------------------------

fn exec(conn: &mut DbConn, sql: &str) {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(c) => c.batch_execute(sql).unwrap(),
        DbConn::Pg(c) => c.batch_execute(sql).unwrap(),
    }
}

async fn an_old_database_upgrades_without_losing_published_results(backend: Backend) {
    let app = spawn_app(backend).await;
    // U1: 6 + 6 by region; U2: 12 in Buying and a department of 3 (Audit).
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(("U1", if i % 2 == 0 { "EMEA" } else { "Americas" }, "Buying"));
    }
    for _ in 0..12 {
        people.push(("U2", "EMEA", "Buying"));
    }
    for _ in 0..3 {
        people.push(("U2", "EMEA", "Audit"));
    }
    import(&app, &people);
    let closed = open_wave(&app, "none");
    let open = open_wave(&app, "none");
    let closed_invited = invitations_of(&app, &closed);
    let open_invited = invitations_of(&app, &open);
    let pick =
        |invited: &[Invited]| -> Vec<Invited> { invited.iter().step_by(2).cloned().collect() };
    let (closed_answered, open_answered) = (pick(&closed_invited), pick(&open_invited));
    for (wave, answered) in [(&closed, &closed_answered), (&open, &open_answered)] {
        answer(
            &app,
            wave,
            answered
                .iter()
                .enumerate()
                .map(|(i, inv)| (inv, answers(i as i32 % 11, [Some(4); 7], Some("kept"))))
                .collect(),
        );
    }
    let mut conn = app.pool.get().unwrap();
    // The closed wave as before: closed, its results published (snapshot), answers kept.
    exec(
        &mut conn,
        &format!("UPDATE waves SET state = 'closed', closed_at = opens_at WHERE id = '{closed}'"),
    );
    pulse::services::results::freeze(&mut conn, &closed, now()).unwrap();
    let published = pulse::db::models::results::find_snapshot(&mut conn, &closed)
        .unwrap()
        .unwrap();
    // Back to the schema before: a responded flag on each invitation, and the open wave's
    // answers under full segments (as the old code stored them).
    crate::helpers::revert_migrations_through(&mut conn, "20261201000006");
    for inv in closed_answered.iter().chain(&open_answered) {
        exec(
            &mut conn,
            &format!(
                "UPDATE invitations SET responded = TRUE WHERE id = '{}'",
                inv.0
            ),
        );
    }
    exec(
        &mut conn,
        &format!(
            "DELETE FROM answers WHERE response_id IN (SELECT id FROM responses WHERE wave_id = '{open}');
             DELETE FROM responses WHERE wave_id = '{open}';
             DELETE FROM answer_counts WHERE wave_id = '{open}';
             DELETE FROM wave_cells WHERE wave_id = '{open}';"
        ),
    );
    let mut per_segment: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for inv in &open_invited {
        per_segment.entry(inv.2.as_str()).or_default().0 += 1;
    }
    for inv in &open_answered {
        per_segment.entry(inv.2.as_str()).or_default().1 += 1;
        exec(
            &mut conn,
            &format!(
                "INSERT INTO responses (id, wave_id, cell, submitted_on) VALUES ('{}', '{open}', '{}', '2027-01-20')",
                uuid::Uuid::new_v4(),
                inv.2
            ),
        );
    }
    for (segment, (invited, answered)) in &per_segment {
        exec(
            &mut conn,
            &format!(
                "INSERT INTO wave_cells (wave_id, cell, invited) VALUES ('{open}', '{segment}', {invited})"
            ),
        );
        if *answered > 0 {
            exec(
                &mut conn,
                &format!(
                    "INSERT INTO answer_counts (wave_id, cell, question_key, value, n) VALUES ('{open}', '{segment}', '_responses', '', {answered})"
                ),
            );
        }
    }
    assert!(
        per_segment
            .values()
            .any(|(invited, answered)| *invited < K as i64 && *answered > 0),
        "the old form has answers in cells of fewer than k"
    );
    drop(conn);

    // The upgrade: the migration, then the server's pass with its key.
    let migrated = app.cli(&["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));

    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM legacy_answered"),
        0
    );
    // Flags became marks; the closed wave's are gone with its answers.
    let marks: HashSet<String> = load::<Mark>(&mut conn, "SELECT mark FROM answered_marks")
        .into_iter()
        .map(|m| m.mark)
        .collect();
    let expected: HashSet<String> = open_answered
        .iter()
        .map(|inv| answered_mark(&app.secret_key(), &inv.0))
        .collect();
    assert_eq!(marks, expected);
    // The closed wave: its published results as they were, the filters added, nothing finer.
    assert_eq!(
        pulse::db::models::results::find_snapshot(&mut conn, &closed)
            .unwrap()
            .unwrap(),
        published
    );
    check_copy(&mut conn, &closed, true, closed_answered.len() as i64);
    // The open wave: coarsened, nobody linked, every answer still counted.
    check_copy(&mut conn, &open, false, 0);
    let respondents =
        pulse::services::results::respondents_count(&mut conn, &open, "open").unwrap();
    assert_eq!(respondents, open_answered.len() as u64);
    drop(conn);
    let token = pulse::domain::token::LinkToken::derive(
        &app.secret_key(),
        pulse::domain::token::TokenPurpose::Survey,
        &open_answered[0].0,
    );
    // A link that was used stays used: it tells its holder the answer was received.
    let used = app.get(&format!("/s/{}", token.expose())).await;
    assert_eq!(used.status(), 200);
    let page = used.text().await.unwrap();
    assert!(page.contains("Your answers have been received"), "{page}");
    let fresh = pulse::domain::token::LinkToken::derive(
        &app.secret_key(),
        pulse::domain::token::TokenPurpose::Survey,
        &open_invited[1].0,
    );
    assert_eq!(
        app.get(&format!("/s/{}", fresh.expose())).await.status(),
        200
    );
}

both_backends!(
    an_old_database_upgrades_without_losing_published_results,
    subtraction_across_filters_recovers_nothing,
    a_database_copy_links_no_one,
    resend_tells_the_admin_nothing
);
