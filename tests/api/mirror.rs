//! Customer of choice end to end, on both backends: an internal-customer wave and a
//! supplier wave in each of two half-years, answers seeded through `store_batch`, both
//! closed (frozen); then the mirror (JSON API, page, CSV, XLSX, `pulse mirror`) and the
//! stakeholder map (JSON API, page, `pulse map`) checked against figures computed by hand
//! in this file from the raw answers. Groups the release plan hides (a category of two
//! suppliers, a unit of three people, and the siblings that protect them) are absent from
//! both. Also: the shipped definitions pair their questions (a pair on two scales is a
//! clear error), and both surveys' forms read in German.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::Reader;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use pulse::db::models::invitations;
use pulse::db::schema::waves as wave_table;
use pulse::domain::wave::WaveInput;
use pulse::services::responses::{store_batch, StoredValue, Submission, SubmitOutcome};
use pulse::services::{stakeholders, waves};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{spawn_app, text, Backend, TestApp};

const Z: f64 = 1.959963984540054;
const INTERNAL: &str = "internal-customer";
const SUPPLIER: &str = "supplier-customer-of-choice";
/// (pair, internal question, supplier question).
const PAIRS: [(&str, &str, &str); 5] = [
    (
        "clarity_of_requirements",
        "policy_clarity",
        "clear_requirements",
    ),
    (
        "timely_decisions_and_payment",
        "responsiveness",
        "paid_on_time",
    ),
    ("communication", "communication", "communication"),
    ("ease_of_working_together", "ease", "ease_of_business"),
    ("partnership", "partnership", "collaboration"),
];
const INTERNAL_LIKERT: [&str; 7] = [
    "understanding_needs",
    "alignment",
    "communication",
    "responsiveness",
    "ease",
    "policy_clarity",
    "partnership",
];
const SUPPLIER_LIKERT: [&str; 9] = [
    "clear_requirements",
    "fair_sourcing",
    "paid_on_time",
    "communication",
    "ease_of_business",
    "forecast_sharing",
    "collaboration",
    "preferred_customer",
    "innovation_and_capacity_first",
];

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Internal customers: Plant 14 (influence 5), Office 10 (influence 2), Depot 8
/// (influence 3), Lab 3 (influence 4; hidden, and Depot with it); suppliers: strategic
/// Components 9, approved Logistics 7 and Rare Metals 2 (hidden, and Logistics with it).
fn import(app: &TestApp) {
    let mut csv = String::from(
        "email,name,stakeholder_type,business_unit,department,region,supplier_tier,category,influence,annual_spend\n",
    );
    let mut i = 0;
    for (unit, n, influence, spend) in [
        ("Plant", 14, 5, 400000),
        ("Office", 10, 2, 50000),
        ("Depot", 8, 3, 80000),
        ("Lab", 3, 4, 90000),
    ] {
        for _ in 0..n {
            csv.push_str(&format!(
                "i{i}@example.com,I {i},internal,{unit},Buying,EMEA,,,{influence},{spend}\n"
            ));
            i += 1;
        }
    }
    for (tier, category, n, spend) in [
        ("strategic", "Components", 9, "2,000,000"),
        ("approved", "Logistics", 7, "300000"),
        ("approved", "Rare Metals", 2, "150000"),
    ] {
        for _ in 0..n {
            csv.push_str(&format!(
                "s{i}@supplier.example,S {i},supplier,,,EMEA,{tier},{category},,\"{spend}\"\n"
            ));
            i += 1;
        }
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes()).unwrap();
    let mut conn = app.pool.get().unwrap();
    stakeholders::apply_import(&mut conn, &parsed, false, now()).unwrap();
}

fn open_wave(app: &TestApp, survey: &str, title: &str, audience: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = WaveInput {
        survey: survey.into(),
        title: title.into(),
        opens: "now".into(),
        closes: "2099-01-01".into(),
        remind: "none".into(),
        audience: audience.into(),
        ..Default::default()
    };
    let wave = waves::schedule_wave(&mut conn, &input, now()).unwrap();
    waves::open_wave(&mut conn, &app.secret_key(), &wave.id, now())
        .unwrap()
        .unwrap();
    wave.id
}

/// One respondent: the group it belongs to (unit or (tier, category)), NPS, and a value
/// per Likert question (`None`: not applicable).
#[derive(Debug, Clone)]
struct Respondent {
    group: BTreeMap<String, String>,
    nps: i32,
    likert: BTreeMap<&'static str, Option<i32>>,
}

/// Everyone invited answers; the values depend on the respondent's place and `round`.
fn respond(app: &TestApp, wave_id: &str, supplier: bool, round: usize) -> Vec<Respondent> {
    let mut conn = app.pool.get().unwrap();
    let mut rows: Vec<(String, String, String)> = invitations::ids_of_wave(&mut conn, wave_id)
        .unwrap()
        .into_iter()
        .map(|id| {
            let row = invitations::find(&mut conn, &id).unwrap().unwrap();
            (id, row.segment, row.response_cell)
        })
        .collect();
    rows.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let questions: &[&'static str] = if supplier {
        &SUPPLIER_LIKERT
    } else {
        &INTERNAL_LIKERT
    };
    let mut given = Vec::new();
    let mut batch = Vec::new();
    for (j, (id, segment, cell)) in rows.iter().enumerate() {
        let group: BTreeMap<String, String> = serde_json::from_str(segment).unwrap();
        let nps = [10, 9, 8, 6, 3, 9, 10, 7, 0, 5][(j + round) % 10];
        let mut likert = BTreeMap::new();
        for (q, key) in questions.iter().enumerate() {
            let value = if *key == "paid_on_time" {
                // Suppliers find payment slow, and slower in the second round.
                Some(1 + ((j + q) % (3 - round.min(1))) as i32)
            } else if *key == "innovation_and_capacity_first" && j % 6 == 0 {
                None
            } else {
                Some(1 + ((j * (q + 2) + q + round) % 5) as i32)
            };
            likert.insert(*key, value);
        }
        let nps_key = if supplier {
            "recommend_as_customer"
        } else {
            "recommend"
        };
        let mut answers = vec![(nps_key.to_string(), StoredValue::Int(nps))];
        for (key, value) in &likert {
            answers.push((
                key.to_string(),
                match value {
                    Some(v) => StoredValue::Int(*v),
                    None => StoredValue::NotApplicable,
                },
            ));
        }
        answers.push(if supplier {
            (
                "relationship_length".into(),
                StoredValue::Choice("one_to_three_years".into()),
            )
        } else {
            ("frequency".into(), StoredValue::Choice("monthly".into()))
        });
        batch.push(Submission {
            answered_mark: pulse::domain::token::answered_mark(&app.secret_key(), id),
            wave_id: wave_id.to_string(),
            cell: cell.clone(),
            answers,
            nps_key: Some(nps_key.into()),
        });
        given.push(Respondent { group, nps, likert });
    }
    let outcomes = store_batch(&mut conn, &batch, now()).unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(SubmitOutcome::Stored))));
    given
}

fn close(app: &TestApp, wave_id: &str) {
    let mut conn = app.pool.get().unwrap();
    assert!(waves::close_wave(&mut conn, wave_id, now()).unwrap());
}

/// Moves a closed wave `days` into the past (an earlier half-year).
fn move_back(app: &TestApp, wave_id: &str, days: i64) {
    let mut conn = app.pool.get().unwrap();
    let row = pulse::db::models::waves::find(&mut conn, wave_id)
        .unwrap()
        .unwrap();
    diesel::update(wave_table::table.find(wave_id))
        .set((
            wave_table::opens_at.eq(row.opens_at - Duration::days(days)),
            wave_table::closes_at.eq(row.closes_at - Duration::days(days)),
        ))
        .execute(&mut conn)
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Figures by hand
// ---------------------------------------------------------------------------------------

fn nps(values: &[i32]) -> (f64, (f64, f64)) {
    let n = values.len() as f64;
    let promoters = values.iter().filter(|v| **v >= 9).count() as f64;
    let detractors = values.iter().filter(|v| **v <= 6).count() as f64;
    let n_adj = n + 3.0;
    let p = (promoters + 0.75) / n_adj;
    let d = (detractors + 0.75) / n_adj;
    let centre = p - d;
    let half = Z * ((p + d - centre * centre) / n_adj).sqrt();
    (
        100.0 * (promoters - detractors) / n,
        (100.0 * (centre - half), 100.0 * (centre + half)),
    )
}

fn wilson(k: f64, n: f64) -> (f64, f64) {
    let p = k / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (
        if k == 0.0 { 0.0 } else { centre - half },
        if k == n { 1.0 } else { centre + half },
    )
}

fn values<'a>(people: impl Iterator<Item = &'a Respondent>, key: &str) -> Vec<i32> {
    people
        .filter_map(|r| r.likert.get(key).copied().flatten())
        .collect()
}

fn mean(values: &[i32]) -> f64 {
    values.iter().map(|v| f64::from(*v)).sum::<f64>() / values.len() as f64
}

fn top2(values: &[i32]) -> f64 {
    values.iter().filter(|v| **v >= 4).count() as f64 / values.len() as f64
}

/// (answers, top-2 answers) to the customer-of-choice items.
fn coc<'a>(people: impl Iterator<Item = &'a Respondent> + Clone) -> (f64, f64) {
    let mut answers = 0.0;
    let mut top = 0.0;
    for key in ["preferred_customer", "innovation_and_capacity_first"] {
        let v = values(people.clone(), key);
        answers += v.len() as f64;
        top += v.iter().filter(|v| **v >= 4).count() as f64;
    }
    (answers, top)
}

fn close_to(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-9, "{what}: {a} != {b}");
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

async fn signed_in_get(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.unwrap()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

both_backends!(the_mirror_and_the_map_show_published_figures_only);

async fn the_mirror_and_the_map_show_published_figures_only(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app);
    // Round 1, moved back to an earlier half-year once closed.
    let internal_1 = open_wave(
        &app,
        INTERNAL,
        "Internal round 1",
        "stakeholder_type=internal",
    );
    let supplier_1 = open_wave(
        &app,
        SUPPLIER,
        "Suppliers round 1",
        "stakeholder_type=supplier",
    );
    let internal_answers_1 = respond(&app, &internal_1, false, 0);
    let supplier_answers_1 = respond(&app, &supplier_1, true, 0);
    close(&app, &internal_1);
    close(&app, &supplier_1);
    move_back(&app, &internal_1, 200);
    move_back(&app, &supplier_1, 200);
    // Round 2, now.
    let internal_2 = open_wave(
        &app,
        INTERNAL,
        "Internal round 2",
        "stakeholder_type=internal",
    );
    let supplier_2 = open_wave(
        &app,
        SUPPLIER,
        "Suppliers round 2",
        "stakeholder_type=supplier",
    );
    let internal_answers = respond(&app, &internal_2, false, 1);
    let supplier_answers = respond(&app, &supplier_2, true, 1);
    close(&app, &internal_2);
    close(&app, &supplier_2);
    assert_eq!(internal_answers.len(), 35);
    assert_eq!(supplier_answers.len(), 18);

    app.create_user("lead@example.com", pulse::domain::Role::Lead);
    let (client, _) = crate::helpers::sign_in(&app, "lead@example.com").await;
    // Anonymous API requests get 401 JSON.
    let anonymous = app.get("/api/v1/mirror").await;
    assert_eq!(anonymous.status().as_u16(), 401);

    let response = signed_in_get(&app, &client, "/api/v1/mirror").await;
    assert_eq!(response.status().as_u16(), 200);
    let mirror: Value = response.json().await.unwrap();
    let this_half = pulse::scorecards::period::HalfYear::of(now().date()).to_string();
    assert_eq!(mirror["half_year"], this_half.as_str());
    assert_eq!(mirror["half_years"].as_array().unwrap().len(), 2);
    assert_eq!(mirror["internal"]["wave_id"], internal_2.as_str());
    assert_eq!(mirror["suppliers"]["wave_id"], supplier_2.as_str());

    // NPS both ways, with the change since round 1.
    for (side, now_answers, before) in [
        ("internal", &internal_answers, &internal_answers_1),
        ("suppliers", &supplier_answers, &supplier_answers_1),
    ] {
        let all: Vec<i32> = now_answers.iter().map(|r| r.nps).collect();
        let previous: Vec<i32> = before.iter().map(|r| r.nps).collect();
        let (score, ci) = nps(&all);
        let figures = &mirror[side]["nps"];
        close_to(num(&figures["score"]), score, "nps");
        close_to(num(&figures["ci"][0]), ci.0, "nps ci low");
        close_to(num(&figures["ci"][1]), ci.1, "nps ci high");
        close_to(
            num(&figures["change"]),
            score - nps(&previous).0,
            "nps change",
        );
    }

    // Every pair: means, top-2-box, the gap and its change.
    let pairs = mirror["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), PAIRS.len());
    let gap_of = |internal: &[Respondent], supplier: &[Respondent], i_key: &str, s_key: &str| {
        mean(&values(supplier.iter(), s_key)) - mean(&values(internal.iter(), i_key))
    };
    for (pair, i_key, s_key) in PAIRS {
        let json = pairs.iter().find(|p| p["pair"] == pair).unwrap();
        let i_values = values(internal_answers.iter(), i_key);
        let s_values = values(supplier_answers.iter(), s_key);
        close_to(num(&json["internal"]["mean"]), mean(&i_values), pair);
        close_to(num(&json["suppliers"]["mean"]), mean(&s_values), pair);
        close_to(num(&json["internal"]["top2box"]), top2(&i_values), pair);
        close_to(num(&json["suppliers"]["top2box"]), top2(&s_values), pair);
        let gap = gap_of(&internal_answers, &supplier_answers, i_key, s_key);
        close_to(num(&json["gap"]), gap, pair);
        close_to(
            num(&json["top2box_gap"]),
            top2(&s_values) - top2(&i_values),
            pair,
        );
        let before = gap_of(&internal_answers_1, &supplier_answers_1, i_key, s_key);
        close_to(num(&json["previous_gap"]), before, pair);
        close_to(num(&json["gap_change"]), gap - before, pair);
    }
    let payment = pairs
        .iter()
        .find(|p| p["pair"] == "timely_decisions_and_payment")
        .unwrap();
    assert!(
        num(&payment["gap"]) < -0.5,
        "suppliers rate payment low: {payment}"
    );

    // The customer-of-choice index with its Wilson interval and change.
    let (answers, top) = coc(supplier_answers.iter());
    let (answers_1, top_1) = coc(supplier_answers_1.iter());
    let index = &mirror["customer_of_choice"];
    assert_eq!(index["answers"], answers as u64);
    assert_eq!(index["top2_answers"], top as u64);
    close_to(num(&index["index"]), top / answers, "index");
    let ci = wilson(top, answers);
    close_to(num(&index["ci"][0]), ci.0, "index ci low");
    close_to(num(&index["ci"][1]), ci.1, "index ci high");
    close_to(
        num(&index["change"]),
        top / answers - top_1 / answers_1,
        "index change",
    );

    // Supplier groups: the shown ones with their figures; the hidden ones absent.
    let wave_results: Value = signed_in_get(
        &app,
        &client,
        &format!("/api/v1/waves/{supplier_2}/results"),
    )
    .await
    .json()
    .await
    .unwrap();
    let breakdowns = mirror["breakdowns"].as_array().unwrap();
    let category = breakdowns
        .iter()
        .find(|b| b["attribute"] == "category")
        .unwrap();
    let shown: Vec<&str> = category["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["value"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["Components"], "Rare Metals and Logistics hidden");
    for segment in wave_results["segments"].as_array().unwrap() {
        let in_mirror = breakdowns
            .iter()
            .find(|b| b["attribute"] == segment["attribute"])
            .unwrap();
        for group in segment["groups"].as_array().unwrap() {
            let listed = in_mirror["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["value"] == group["value"]);
            assert_eq!(listed, !group["figures"].is_null(), "{group}");
        }
    }
    let strategic = breakdowns
        .iter()
        .find(|b| b["attribute"] == "supplier_tier")
        .unwrap()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == "strategic")
        .unwrap()
        .clone();
    let of_strategic = || {
        supplier_answers
            .iter()
            .filter(|r| r.group.get("supplier_tier").map(String::as_str) == Some("strategic"))
    };
    let (g_answers, g_top) = coc(of_strategic());
    close_to(
        num(&strategic["customer_of_choice"]),
        g_top / g_answers,
        "group index",
    );
    for (i, (pair, i_key, s_key)) in PAIRS.iter().enumerate() {
        let group_mean = mean(&values(of_strategic(), s_key));
        close_to(num(&strategic["means"][i]), group_mean, pair);
        close_to(
            num(&strategic["gaps"][i]),
            group_mean - mean(&values(internal_answers.iter(), i_key)),
            pair,
        );
    }

    // The page, the CSV, the XLSX and `pulse mirror` show the same figures, and no hidden
    // group.
    let page = text(
        &signed_in_get(&app, &client, "/admin/mirror")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert!(page.contains("Customer-of-choice index"), "{page}");
    assert!(page.contains(&format!("{:.1} %", 100.0 * top / answers)));
    assert!(page.contains("Timely decisions and payment"));
    assert!(page.contains(&format!("{:+.2}", num(&payment["gap"]))));
    assert!(!page.contains("Rare Metals") && !page.contains("Logistics"));
    let csv = text(
        &signed_in_get(
            &app,
            &client,
            &format!("/admin/mirror.csv?half={this_half}"),
        )
        .await
        .bytes()
        .await
        .unwrap(),
    );
    assert!(csv.starts_with("section,attribute,group,item,figure,value,low,high,n,note"));
    let index_row = csv
        .lines()
        .find(|l| l.starts_with("customer_of_choice,,suppliers,,index,"))
        .unwrap();
    let value: f64 = index_row.split(',').nth(5).unwrap().parse().unwrap();
    assert!((value - top / answers).abs() < 1e-6, "{index_row}");
    assert!(!csv.contains("Rare Metals") && !csv.contains("Logistics"));
    let xlsx = signed_in_get(&app, &client, "/admin/mirror.xlsx")
        .await
        .bytes()
        .await
        .unwrap();
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).unwrap();
    let sheet = workbook.worksheet_range("Customer of choice").unwrap();
    let csv_rows = csv.lines().count();
    assert_eq!(sheet.height(), csv_rows, "XLSX and CSV hold the same rows");
    let cli = app.cli(&["mirror", "--format", "json"]);
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    let from_cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(from_cli["pairs"], mirror["pairs"]);
    assert_eq!(from_cli["customer_of_choice"], mirror["customer_of_choice"]);
    let table = app.cli(&["mirror"]);
    assert!(text(&table.stdout).contains("Timely decisions and payment"));
    // A half-year without both sides is refused in words.
    let refused = signed_in_get(&app, &client, "/api/v1/mirror?half=2001-H1").await;
    assert_eq!(refused.status().as_u16(), 400);
    assert!(text(&refused.bytes().await.unwrap()).contains("2001-H1 has no mirror"));

    // The internal customers' map: Plant and Office shown; Lab (3 people) and Depot (its
    // protector) absent.
    let map: Value = signed_in_get(&app, &client, &format!("/api/v1/waves/{internal_2}/map"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(map["attribute"], "business_unit");
    assert_eq!(map["importance"]["attribute"], "influence");
    let points = map["points"].as_array().unwrap();
    let names: Vec<&str> = points
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Plant") && names.contains(&"Office"));
    assert_eq!(map["not_shown"], 2);
    let whole = nps(&internal_answers.iter().map(|r| r.nps).collect::<Vec<_>>()).0;
    close_to(num(&map["satisfaction_split"]), whole, "split");
    close_to(num(&map["importance_split"]), 3.5, "median of 5 and 2");
    for (unit, influence) in [("Plant", 5.0), ("Office", 2.0)] {
        let point = points.iter().find(|p| p["value"] == unit).unwrap();
        let of_unit = |answers: &[Respondent]| -> Vec<i32> {
            answers
                .iter()
                .filter(|r| r.group.get("business_unit").map(String::as_str) == Some(unit))
                .map(|r| r.nps)
                .collect()
        };
        let score = nps(&of_unit(&internal_answers)).0;
        close_to(num(&point["satisfaction"]), score, unit);
        close_to(num(&point["importance"]), influence, unit);
        close_to(
            num(&point["previous"]["satisfaction"]),
            nps(&of_unit(&internal_answers_1)).0,
            unit,
        );
        let expected = match (influence > 3.5, score < whole) {
            (true, true) => "act_first",
            (true, false) => "keep_close",
            (false, true) => "improve_when_you_can",
            (false, false) => "keep_informed",
        };
        assert_eq!(point["quadrant"], expected, "{unit}");
    }
    // CSAT and another importance attribute (a sum of spend).
    let csat_map: Value = signed_in_get(
        &app,
        &client,
        &format!("/api/v1/waves/{internal_2}/map?measure=csat&importance=annual_spend"),
    )
    .await
    .json()
    .await
    .unwrap();
    let plant = csat_map["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["value"] == "Plant")
        .unwrap();
    close_to(num(&plant["importance"]), 14.0 * 400000.0, "spend sum");
    let plant_likert: Vec<i32> = internal_answers
        .iter()
        .filter(|r| r.group.get("business_unit").map(String::as_str) == Some("Plant"))
        .flat_map(|r| INTERNAL_LIKERT.iter().filter_map(|k| r.likert[k]))
        .collect();
    close_to(
        num(&plant["satisfaction"]),
        100.0 * top2(&plant_likert),
        "csat",
    );

    // The map page: chart, table and an action to start per group; no hidden group.
    let page = text(
        &signed_in_get(&app, &client, &format!("/admin/waves/{internal_2}/map"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert!(page.contains("<svg role=\"img\""), "{page}");
    assert!(
        page.contains("Important and unhappy: act first")
            || page.contains("Important and happy: keep close")
    );
    assert!(
        page.contains(&format!(
            "/admin/actions/new?wave&#x3D;{internal_2}&amp;target&#x3D;nps&amp;group&#x3D;business_unit%3DPlant"
        )),
        "{page}"
    );
    assert!(
        !page.contains(">Lab ") && !page.contains("Depot"),
        "hidden units absent"
    );
    // The suppliers' map by category: Components only.
    let supplier_map: Value = signed_in_get(
        &app,
        &client,
        &format!("/api/v1/waves/{supplier_2}/map?by=category"),
    )
    .await
    .json()
    .await
    .unwrap();
    let names: Vec<&str> = supplier_map["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Components"]);
    close_to(
        num(&supplier_map["points"][0]["importance"]),
        9.0 * 2_000_000.0,
        "spend with thousands separators",
    );
    let cli = app.cli(&["map", &internal_2]);
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    let from_cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(from_cli["points"], map["points"]);
    let bad = signed_in_get(
        &app,
        &client,
        &format!("/admin/waves/{internal_2}/map?measure=mood"),
    )
    .await;
    assert_eq!(bad.status().as_u16(), 400);
}

both_backends!(both_surveys_pair_their_questions_and_read_in_german);

async fn both_surveys_pair_their_questions_and_read_in_german(backend: Backend) {
    let app = spawn_app(backend).await;
    // The shipped folder is valid: every pair on the same scale on both sides.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
    let ok = app.cli(&["survey", "validate", dir.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // A pair whose scales differ is an error that names the file, the place and both sides.
    let copy = tempfile::tempdir().unwrap();
    for name in ["internal-customer.json", "supplier-customer-of-choice.json"] {
        std::fs::copy(dir.join(name), copy.path().join(name)).unwrap();
    }
    let path = copy.path().join("supplier-customer-of-choice.json");
    let mut supplier: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let index = supplier["questions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|q| q["pair"] == "communication")
        .unwrap();
    supplier["questions"][index]["scale"] = 7.into();
    supplier["questions"][index]["anchors"] =
        serde_json::json!({"low": {"en": "No", "de": "Nein"}, "high": {"en": "Yes", "de": "Ja"}});
    std::fs::write(&path, serde_json::to_string_pretty(&supplier).unwrap()).unwrap();
    let refused = app.cli(&["survey", "validate", copy.path().to_str().unwrap()]);
    assert!(!refused.status.success());
    let stderr = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert!(
        stderr.contains(&format!(
            "supplier-customer-of-choice.json: questions[{index}].scale: pair 'communication' is asked on a 7-point scale here but on a 5-point scale in internal-customer.json (questions[3]): both sides of a pair need the same scale"
        )),
        "{stderr}"
    );

    // Both forms in German, the new items included.
    app.create_user("admin@example.com", pulse::domain::Role::Admin);
    let (client, _) = crate::helpers::sign_in(&app, "admin@example.com").await;
    for (slug, version, german) in [
        (INTERNAL, 2, "Ich erfahre, wo meine Anfragen stehen"),
        (SUPPLIER, 3, "Wir gehören zu Ihren bevorzugten Kunden"),
        (
            SUPPLIER,
            3,
            "Sie bieten uns Ihre Innovationen und Ihre Kapazitäten zuerst an",
        ),
    ] {
        let page = signed_in_get(
            &app,
            &client,
            &format!("/admin/surveys/{slug}/preview?version={version}&lang=de"),
        )
        .await;
        assert_eq!(page.status().as_u16(), 200);
        let html = text(&page.bytes().await.unwrap());
        assert!(html.contains("lang=\"de\""), "{slug}");
        assert!(html.contains(german), "{slug}: {german}");
    }
}
