//! Results end to end: answers seeded through `store_batch` (or counts added directly where
//! a test needs thousands of respondents), then the page, the CSV, the XLSX, the JSON API
//! and `pulse results` checked against figures computed by hand in this file from the raw
//! answers — never through `pulse::stats`.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::Reader;
use chrono::NaiveDateTime;
use pulse::db::models::invitations;
use pulse::db::models::responses::{add_counts, CountRow};
use pulse::domain::wave::WaveInput;
use pulse::services::responses::{store_batch, StoredValue, Submission, SubmitOutcome};
use pulse::services::{stakeholders, waves};
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::both_backends;
use crate::helpers::{new_client, segment_group, spawn_app, text, Backend, TestApp};

const Z: f64 = 1.959963984540054;
const DIMENSIONS: [&str; 7] = [
    "understanding_needs",
    "alignment",
    "communication",
    "responsiveness",
    "ease",
    "policy_clarity",
    "partnership",
];
const NPS_VALUES: [i32; 10] = [10, 9, 9, 8, 7, 6, 5, 3, 10, 0];
const FORMULA_DEPARTMENT: &str = "=HYPERLINK(\"http://evil.example\")";

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Imports stakeholders: (business unit, region, department) per person.
pub(crate) fn import(app: &TestApp, people: &[(&str, &str, &str)]) {
    let mut csv = String::from("email,name,business_unit,region,department\n");
    for (i, (unit, region, department)) in people.iter().enumerate() {
        let department = department.replace('"', "\"\"");
        csv.push_str(&format!(
            "p{i}@example.com,P {i},{unit},{region},\"{department}\"\n"
        ));
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes()).unwrap();
    let mut conn = app.pool.get().unwrap();
    stakeholders::apply_import(&mut conn, &parsed, false, now()).unwrap();
}

/// Schedules and opens a wave of `survey` now; returns its id.
pub(crate) fn open_wave(app: &TestApp, survey: &str, title: &str, audience: &str) -> String {
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

/// The invitations of a wave as (id, segment JSON, response cell JSON), in a stable order:
/// by segment, so who answers in which region is the same in every run.
fn invitations_of(app: &TestApp, wave_id: &str) -> Vec<(String, String, String)> {
    let mut conn = app.pool.get().unwrap();
    let mut out: Vec<(String, String, String)> = invitations::ids_of_wave(&mut conn, wave_id)
        .unwrap()
        .into_iter()
        .map(|id| {
            let row = invitations::find(&mut conn, &id).unwrap().unwrap();
            (id, row.segment, row.response_cell)
        })
        .collect();
    out.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    out
}

fn attribute(segment: &str, name: &str) -> String {
    let map: BTreeMap<String, String> = serde_json::from_str(segment).unwrap();
    map.get(name).cloned().unwrap_or_default()
}

/// One respondent's answers, as the test knows them.
#[derive(Debug, Clone)]
pub(crate) struct Answers {
    pub(crate) unit: String,
    pub(crate) nps: i32,
    /// Per dimension: Some(1..=5) or None for "not applicable".
    likert: Vec<Option<i32>>,
    pain: Vec<&'static str>,
    frequency: &'static str,
    pub(crate) comment: Option<String>,
}

fn answers_for(j: usize, unit: &str) -> Answers {
    Answers {
        unit: unit.to_string(),
        nps: NPS_VALUES[j % NPS_VALUES.len()],
        likert: (0..DIMENSIONS.len())
            .map(|d| {
                if d == 1 && j.is_multiple_of(7) {
                    None
                } else {
                    Some(1 + ((j * (d + 2) + d) % 5) as i32)
                }
            })
            .collect(),
        pain: match j % 3 {
            0 => vec!["approval_delays"],
            1 => vec!["approval_delays", "slow_sourcing"],
            _ => vec![],
        },
        frequency: ["weekly", "monthly", "monthly", "few_times_a_year"][j % 4],
        comment: j.is_multiple_of(2).then(|| format!("Comment number {j}")),
    }
}

fn submission(
    key: &pulse::config::SecretKey,
    invitation: &(String, String, String),
    wave_id: &str,
    a: &Answers,
) -> Submission {
    let mut answers = vec![("recommend".to_string(), StoredValue::Int(a.nps))];
    for (d, value) in a.likert.iter().enumerate() {
        answers.push((
            DIMENSIONS[d].to_string(),
            match value {
                Some(v) => StoredValue::Int(*v),
                None => StoredValue::NotApplicable,
            },
        ));
    }
    if !a.pain.is_empty() {
        answers.push((
            "pain_points".into(),
            StoredValue::Options(a.pain.iter().map(|s| s.to_string()).collect()),
        ));
    }
    answers.push(("frequency".into(), StoredValue::Choice(a.frequency.into())));
    if let Some(comment) = &a.comment {
        answers.push(("comment".into(), StoredValue::Text(comment.clone())));
    }
    Submission {
        answered_mark: pulse::domain::token::answered_mark(key, &invitation.0),
        wave_id: wave_id.to_string(),
        cell: invitation.2.clone(),
        answers,
        nps_key: Some("recommend".into()),
    }
}

/// Lets `per_unit[unit]` invitees of each business unit answer; returns their answers.
pub(crate) fn respond(app: &TestApp, wave_id: &str, per_unit: &[(&str, usize)]) -> Vec<Answers> {
    let invitations = invitations_of(app, wave_id);
    let mut given = Vec::new();
    let mut batch = Vec::new();
    for (unit, count) in per_unit {
        for invitation in invitations
            .iter()
            .filter(|(_, segment, _)| attribute(segment, "business_unit") == *unit)
            .take(*count)
        {
            let a = answers_for(given.len(), unit);
            batch.push(submission(&app.secret_key(), invitation, wave_id, &a));
            given.push(a);
        }
    }
    let mut conn = app.pool.get().unwrap();
    let outcomes = store_batch(&mut conn, &batch, now()).unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(SubmitOutcome::Stored))));
    given
}

/// 40 stakeholders: Manufacturing 16, R&D 12, Sales 8, Legal 4 (Legal in a department
/// whose name is a spreadsheet formula).
pub(crate) fn organisation() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut people = Vec::new();
    for (unit, n) in [
        ("Manufacturing", 16),
        ("R&D", 12),
        ("Sales", 8),
        ("Legal", 4),
    ] {
        for i in 0..n {
            let region = if i % 2 == 0 { "EMEA" } else { "Americas" };
            let department = if unit == "Legal" {
                FORMULA_DEPARTMENT
            } else {
                "Buying"
            };
            people.push((unit, region, department));
        }
    }
    people
}

// ---------------------------------------------------------------------------------------
// Figures by hand
// ---------------------------------------------------------------------------------------

pub(crate) struct NpsByHand {
    pub(crate) score: f64,
    ci: (f64, f64),
}

pub(crate) fn nps_by_hand(values: &[i32]) -> NpsByHand {
    let n = values.len() as f64;
    let promoters = values.iter().filter(|v| **v >= 9).count() as f64;
    let detractors = values.iter().filter(|v| **v <= 6).count() as f64;
    let n_adj = n + 3.0;
    let p = (promoters + 0.75) / n_adj;
    let d = (detractors + 0.75) / n_adj;
    let centre = p - d;
    let var = p + d - centre * centre;
    let half = Z * (var / n_adj).sqrt();
    NpsByHand {
        score: 100.0 * (promoters - detractors) / n,
        ci: (100.0 * (centre - half), 100.0 * (centre + half)),
    }
}

struct MeanByHand {
    n: usize,
    mean: f64,
    ci: (f64, f64),
    top2: f64,
    top2_ci: (f64, f64),
}

fn wilson(k: f64, n: f64) -> (f64, f64) {
    let p = k / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let low = if k == 0.0 { 0.0 } else { centre - half };
    let high = if k == n { 1.0 } else { centre + half };
    (low, high)
}

fn mean_by_hand(values: &[i32]) -> MeanByHand {
    let n = values.len() as f64;
    let mean = values.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let sd = (values
        .iter()
        .map(|v| (f64::from(*v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0))
        .sqrt();
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.975);
    let half = t * sd / n.sqrt();
    let top = values.iter().filter(|v| **v >= 4).count() as f64;
    MeanByHand {
        n: values.len(),
        mean,
        ci: ((mean - half).max(1.0), (mean + half).min(5.0)),
        top2: top / n,
        top2_ci: wilson(top, n),
    }
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

pub(crate) fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        close(actual, expected, tolerance),
        "{what}: got {actual}, expected {expected}"
    );
}

pub(crate) fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

// ---------------------------------------------------------------------------------------
// Reading the exports
// ---------------------------------------------------------------------------------------

/// Export rows keyed by (section, attribute, group, item, figure) → (value, low, high, note).
pub(crate) type Table =
    BTreeMap<(String, String, String, String, String), (String, String, String, String)>;

pub(crate) fn csv_table(bytes: &[u8]) -> Table {
    let mut reader = csv::Reader::from_reader(bytes);
    let mut table = Table::new();
    for record in reader.records() {
        let r = record.unwrap();
        table.insert(
            (
                r[0].to_string(),
                r[1].to_string(),
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
            ),
            (
                r[5].to_string(),
                r[6].to_string(),
                r[7].to_string(),
                r[9].to_string(),
            ),
        );
    }
    table
}

pub(crate) fn xlsx_table(bytes: Vec<u8>) -> Table {
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range("Results").unwrap();
    let cell = |row: &[calamine::Data], i: usize| match row.get(i) {
        Some(calamine::Data::String(s)) => s.clone(),
        Some(calamine::Data::Float(v)) => format!("{v}"),
        Some(calamine::Data::Int(v)) => format!("{v}"),
        Some(calamine::Data::Empty) | None => String::new(),
        Some(other) => format!("{other}"),
    };
    let mut table = Table::new();
    for row in range.rows().skip(1) {
        table.insert(
            (
                cell(row, 0),
                cell(row, 1),
                cell(row, 2),
                cell(row, 3),
                cell(row, 4),
            ),
            (cell(row, 5), cell(row, 6), cell(row, 7), cell(row, 9)),
        );
    }
    table
}

pub(crate) fn get<'t>(
    table: &'t Table,
    key: (&str, &str, &str, &str, &str),
) -> &'t (String, String, String, String) {
    table
        .get(&(
            key.0.to_string(),
            key.1.to_string(),
            key.2.to_string(),
            key.3.to_string(),
            key.4.to_string(),
        ))
        .unwrap_or_else(|| panic!("no export row {key:?}"))
}

pub(crate) fn num(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("not a number in the export: '{s}'"))
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

async fn a_small_wave_agrees_on_the_page_csv_xlsx_json_and_cli(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "H1 2027", "");
    let given = respond(
        &app,
        &wave_id,
        &[
            ("Manufacturing", 14),
            ("R&D", 9),
            ("Sales", 5),
            ("Legal", 2),
        ],
    );
    assert_eq!(given.len(), 30);
    // Answers are released when the wave closes (an open wave shows participation only).
    close_wave(&app, &wave_id);
    app.signed_in_admin().await;

    // By hand, from the raw answers.
    let nps = nps_by_hand(&given.iter().map(|a| a.nps).collect::<Vec<_>>());
    let dims: Vec<MeanByHand> = (0..DIMENSIONS.len())
        .map(|d| mean_by_hand(&given.iter().filter_map(|a| a.likert[d]).collect::<Vec<_>>()))
        .collect();
    let approval = given
        .iter()
        .filter(|a| a.pain.contains(&"approval_delays"))
        .count() as f64;
    let approval_share = approval / 30.0;
    let approval_ci = wilson(approval, 30.0);
    let manufacturing: Vec<&Answers> = given.iter().filter(|a| a.unit == "Manufacturing").collect();
    let manufacturing_nps =
        nps_by_hand(&manufacturing.iter().map(|a| a.nps).collect::<Vec<_>>()).score;
    let manufacturing_ease = {
        let v: Vec<i32> = manufacturing.iter().filter_map(|a| a.likert[4]).collect();
        v.iter().map(|x| f64::from(*x)).sum::<f64>() / v.len() as f64
    };

    // JSON API.
    let json: Value = app
        .get(&format!("/api/v1/waves/{wave_id}/results"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["invited"], 40);
    assert_eq!(json["responses"], 30);
    assert_close(f(&json["response_rate"]), 0.75, 1e-12, "response rate");
    assert_eq!(json["shown"], true);
    assert_close(f(&json["nps"]["score"]), nps.score, 1e-9, "nps score");
    assert_close(f(&json["nps"]["ci"][0]), nps.ci.0, 1e-9, "nps ci low");
    assert_close(f(&json["nps"]["ci"][1]), nps.ci.1, 1e-9, "nps ci high");
    for (d, key) in DIMENSIONS.iter().enumerate() {
        let dim = json["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == *key)
            .unwrap();
        let figures = &dim["figures"];
        assert_eq!(figures["n"].as_u64().unwrap() as usize, dims[d].n, "{key}");
        assert_close(f(&figures["mean"]), dims[d].mean, 1e-9, key);
        assert_close(f(&figures["ci"][0]), dims[d].ci.0, 1e-9, key);
        assert_close(f(&figures["ci"][1]), dims[d].ci.1, 1e-9, key);
        assert_close(f(&figures["top2box"]), dims[d].top2, 1e-9, key);
        assert_close(f(&figures["top2box_ci"][0]), dims[d].top2_ci.0, 1e-9, key);
        assert_close(f(&figures["top2box_ci"][1]), dims[d].top2_ci.1, 1e-9, key);
    }
    assert_eq!(
        dims[1].n,
        30 - 5,
        "'not applicable' is not counted (j = 0, 7, 14, 21, 28)"
    );
    let options: Vec<&Value> = json["pain_points"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["options"].as_array().unwrap())
        .collect();
    let approval_json = options
        .iter()
        .find(|o| o["key"] == "approval_delays")
        .unwrap();
    assert_close(f(&approval_json["share"]), approval_share, 1e-12, "share");
    assert_close(f(&approval_json["ci"][0]), approval_ci.0, 1e-9, "share ci");
    assert_close(f(&approval_json["ci"][1]), approval_ci.1, 1e-9, "share ci");
    // CSAT: top-2-box over every satisfaction answer, with its Wilson interval.
    let likert: Vec<i32> = given
        .iter()
        .flat_map(|a| a.likert.iter().flatten().copied())
        .collect();
    let top2 = likert.iter().filter(|&&v| v >= 4).count() as f64;
    let csat_ci = wilson(top2, likert.len() as f64);
    assert_eq!(json["csat"]["answers"], likert.len() as u64);
    assert_close(
        f(&json["csat"]["top2box"]),
        top2 / likert.len() as f64,
        1e-12,
        "csat",
    );
    assert_close(f(&json["csat"]["ci"][0]), csat_ci.0, 1e-9, "csat ci");
    assert_close(f(&json["csat"]["ci"][1]), csat_ci.1, 1e-9, "csat ci");
    // The choice question: the share choosing each option, with its Wilson interval.
    let frequency = &json["choices"][0];
    assert_eq!(frequency["question"], "frequency");
    assert_eq!(frequency["answers"], 30);
    for option in frequency["options"].as_array().unwrap() {
        let key = option["key"].as_str().unwrap();
        let chosen = given.iter().filter(|a| a.frequency == key).count() as f64;
        assert_eq!(option["count"], chosen as u64, "{key}");
        assert_close(f(&option["share"]), chosen / 30.0, 1e-12, key);
        let ci = wilson(chosen, 30.0);
        assert_close(f(&option["ci"][0]), ci.0, 1e-9, key);
        assert_close(f(&option["ci"][1]), ci.1, 1e-9, key);
    }
    assert_eq!(
        json["pain_points"][0]["stages"][0]["stage"], "approval",
        "Pareto: the most named stage first"
    );
    // Segments: Legal (2) is hidden, and Sales (5, the smallest shown) with it.
    let group = |value: &str| segment_group(&json, "business_unit", value).clone();
    assert!(group("Legal")["figures"].is_null());
    assert!(
        group("Sales")["figures"].is_null(),
        "complementary suppression"
    );
    assert_eq!(
        group("Legal").as_object().unwrap().len(),
        3,
        "a hidden group carries its name, why, and nothing else"
    );
    assert_eq!(group("Legal")["hidden"], "fewer_responses");
    assert_eq!(group("Sales")["hidden"], "protects_smaller_group");
    let m = group("Manufacturing");
    assert_eq!(m["figures"]["responses"], 14);
    assert_eq!(m["figures"]["invited"], 16);
    assert_close(
        f(&m["figures"]["nps"]),
        manufacturing_nps,
        1e-9,
        "segment nps",
    );
    assert_close(
        f(&m["figures"]["dimension_means"][4]),
        manufacturing_ease,
        1e-9,
        "heatmap cell",
    );
    let comments = json["comments"]["items"].as_array().unwrap();
    assert_eq!(comments.len(), 15);
    let mut texts: Vec<&str> = comments
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    texts.sort();
    let mut expected: Vec<String> = given.iter().filter_map(|a| a.comment.clone()).collect();
    expected.sort();
    assert_eq!(texts, expected);
    let category_of = |nps: i32| match nps {
        9..=10 => "promoter",
        7..=8 => "passive",
        _ => "detractor",
    };
    // Categories are released only when no category has 1..k-1 comments.
    let mut per_category = std::collections::BTreeMap::new();
    for a in given.iter().filter(|a| a.comment.is_some()) {
        *per_category.entry(category_of(a.nps)).or_insert(0) += 1;
    }
    let categories_shown = per_category.values().all(|&n| n == 0 || n >= 5);
    for c in comments {
        let j: usize = c["text"].as_str().unwrap()["Comment number ".len()..]
            .parse()
            .unwrap();
        if categories_shown {
            assert_eq!(
                c["category"],
                category_of(given[j].nps),
                "the comment's own NPS category"
            );
        } else {
            assert!(
                c["category"].is_null(),
                "a small category is not told apart"
            );
        }
    }

    // CSV and XLSX: the same figures, hidden groups without a number, formulas neutralised.
    let csv_response = app
        .get(&format!("/admin/waves/{wave_id}/results.csv"))
        .await;
    assert_eq!(csv_response.status(), 200);
    assert!(csv_response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv_bytes = csv_response.bytes().await.unwrap().to_vec();
    let xlsx_response = app
        .get(&format!("/admin/waves/{wave_id}/results.xlsx"))
        .await;
    assert_eq!(xlsx_response.status(), 200);
    let xlsx_bytes = xlsx_response.bytes().await.unwrap().to_vec();
    let csv_text = text(&csv_bytes);
    assert!(
        !csv_text.contains("Comment number"),
        "exports hold aggregates only"
    );
    for (name, table) in [
        ("csv", csv_table(&csv_bytes)),
        ("xlsx", xlsx_table(xlsx_bytes)),
    ] {
        let tolerance = 1e-5;
        assert_close(
            num(&get(&table, ("wave", "", "", "H1 2027", "responses")).0),
            30.0,
            0.0,
            name,
        );
        let score = get(&table, ("nps", "", "", "recommend", "score"));
        assert_close(num(&score.0), nps.score, tolerance, name);
        assert_close(num(&score.1), nps.ci.0, tolerance, name);
        assert_close(num(&score.2), nps.ci.1, tolerance, name);
        for (d, key) in DIMENSIONS.iter().enumerate() {
            let mean = get(&table, ("dimension", "", "", key, "mean"));
            assert_close(num(&mean.0), dims[d].mean, tolerance, name);
            assert_close(num(&mean.1), dims[d].ci.0, tolerance, name);
            let top2 = get(&table, ("dimension", "", "", key, "top2box"));
            assert_close(num(&top2.0), dims[d].top2, tolerance, name);
        }
        let share = get(
            &table,
            (
                "pain_point",
                "stage",
                "approval",
                "approval_delays",
                "share",
            ),
        );
        assert_close(num(&share.0), approval_share, tolerance, name);
        assert_close(num(&share.1), approval_ci.0, tolerance, name);
        for (hidden, why) in [
            ("Legal", "hidden: fewer than 5 responses"),
            (
                "Sales",
                "hidden so that a smaller group cannot be worked out",
            ),
        ] {
            let rows: Vec<_> = table
                .iter()
                .filter(|(k, _)| k.0 == "segment" && k.1 == "business_unit" && k.2 == hidden)
                .collect();
            assert_eq!(rows.len(), 1, "{name}: one row for hidden {hidden}");
            assert_eq!(rows[0].1 .0, "", "{name}: no figure for {hidden}");
            assert_eq!(rows[0].1 .3, why, "{name}");
        }
        let m = get(
            &table,
            ("segment", "business_unit", "Manufacturing", "", "responses"),
        );
        assert_close(num(&m.0), 14.0, 0.0, name);
        assert!(
            table
                .keys()
                .any(|k| k.1 == "department" && k.2 == format!("'{FORMULA_DEPARTMENT}")),
            "{name}: the formula-like group name is neutralised"
        );
        assert!(
            !table.keys().any(|k| k.2 == FORMULA_DEPARTMENT),
            "{name}: no cell starts with '='"
        );
    }

    // The page.
    let page = app
        .get(&format!("/admin/waves/{wave_id}/results?by=business_unit"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("{:+.1}", nps.score)),
        "NPS on the page"
    );
    assert!(html.contains(&format!("{:+.1} to {:+.1}", nps.ci.0, nps.ci.1)));
    for d in &dims {
        assert!(html.contains(&format!("{:.2}", d.mean)));
        assert!(html.contains(&format!("{:.1} %", 100.0 * d.top2)));
    }
    assert!(html.contains(&format!("{:.1} %", 100.0 * approval_share)));
    assert!(html.contains("75.0 %"), "response rate");
    assert!(html.contains("fewer than 5 responses"));
    assert!(
        html.contains(&format!("{:.2}", manufacturing_ease)),
        "heatmap"
    );
    assert!(html.contains("<svg role=\"img\""), "inline SVG charts");
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(html.contains("independent samples"));
    // Comments filtered by category.
    let detractors = app
        .get(&format!(
            "/admin/waves/{wave_id}/results?comments=detractor"
        ))
        .await
        .text()
        .await
        .unwrap();
    for a in given.iter().filter(|a| a.comment.is_some()) {
        let shown = detractors.contains(&format!("<p>{}</p>", a.comment.as_ref().unwrap()));
        assert_eq!(shown, categories_shown && a.nps <= 6, "{:?}", a.comment);
    }
    // Linked from the navigation, the waves list and the index.
    assert!(html.contains("href=\"/admin/results\""));
    let index = app.get("/admin/results").await.text().await.unwrap();
    assert!(index.contains(&format!("/admin/waves/{wave_id}/results")));
    let list = app.get("/admin/waves").await.text().await.unwrap();
    assert!(list.contains(&format!("/admin/waves/{wave_id}/results")));

    // The command line prints the same.
    let output = app.cli(&["results", &wave_id, "--format", "csv"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(csv_table(&output.stdout), csv_table(&csv_bytes));
    let output = app.cli(&["results", &wave_id[..8], "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let cli_json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_close(f(&cli_json["nps"]["score"]), nps.score, 1e-9, "cli");
}

async fn a_wave_below_k_shows_no_figures_and_no_comments(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "Small", "");
    let given = respond(&app, &wave_id, &[("Manufacturing", 4)]);
    assert!(given.iter().any(|a| a.comment.is_some()));
    app.signed_in_admin().await;
    let json: Value = app
        .get(&format!("/api/v1/waves/{wave_id}/results"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["responses"], 4);
    assert_eq!(json["shown"], false);
    assert!(json["nps"].is_null());
    assert!(json["comments"].is_null());
    assert!(json["segments"].as_array().unwrap().is_empty());
    assert!(json["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["figures"].is_null()));
    let html = app
        .get(&format!("/admin/waves/{wave_id}/results"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("fewer than 5 responses"));
    assert!(!html.contains("Comment number"));
    let csv = text(
        &app.get(&format!("/admin/waves/{wave_id}/results.csv"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert!(!csv.contains("recommend"), "{csv}");
    assert!(csv.contains("fewer than 5 responses"));
}

async fn the_api_refuses_anonymous_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "H1", "");
    let response = new_client()
        .get(app.url(&format!("/api/v1/waves/{wave_id}/results")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("Sign in"));
    // The pages and downloads redirect to the sign-in page.
    for path in ["results", "results.csv", "results.xlsx"] {
        let response = new_client()
            .get(app.url(&format!("/admin/waves/{wave_id}/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{path}");
    }
    app.signed_in_admin().await;
    let missing = app.get("/api/v1/waves/no-such-wave/results").await;
    assert_eq!(missing.status(), 404);
}

/// Adds counts to a wave directly: `n` respondents in one cell with these NPS and
/// satisfaction histograms (thousands of respondents without thousands of inserts).
fn add_wave_counts(app: &TestApp, wave_id: &str, nps: &[(i32, i64)], likert: &[(i32, i64)]) {
    let n: i64 = nps.iter().map(|(_, c)| c).sum();
    let row = |key: &str, value: &str, n: i64| CountRow {
        wave_id: wave_id.into(),
        cell: "{}".into(),
        question_key: key.into(),
        value: value.into(),
        n,
    };
    let mut rows = vec![
        row("_responses", "", n),
        row("recommend", "_answered", n),
        row("overall_satisfaction", "_answered", n),
    ];
    rows.extend(
        nps.iter()
            .map(|(v, c)| row("recommend", &v.to_string(), *c)),
    );
    rows.extend(
        likert
            .iter()
            .map(|(v, c)| row("overall_satisfaction", &v.to_string(), *c)),
    );
    let mut conn = app.pool.get().unwrap();
    add_counts(&mut conn, &rows).unwrap();
}

pub(crate) async fn api_json(app: &TestApp, wave_id: &str) -> Value {
    app.get(&format!("/api/v1/waves/{wave_id}/results"))
        .await
        .json()
        .await
        .unwrap()
}

pub(crate) fn close_wave(app: &TestApp, wave_id: &str) {
    let mut conn = app.pool.get().unwrap();
    assert!(waves::close_wave(&mut conn, wave_id, now()).unwrap());
}

async fn changes_are_flagged_only_past_bh_and_the_minimum_effect(backend: Backend) {
    let app = spawn_app(backend).await;
    // No stakeholder matches: the waves have no invitations, only the counts added here.
    let nobody = "region=Nowhere";
    // W1 → W2: NPS −30 → +30 (n = 200 each) and the mean 3.0 → 3.6: big and significant.
    let w1 = open_wave(&app, "pulse-check", "W1", nobody);
    add_wave_counts(
        &app,
        &w1,
        &[(10, 40), (8, 60), (3, 100)],
        &[(2, 50), (3, 100), (4, 50)],
    );
    close_wave(&app, &w1);
    let w2 = open_wave(&app, "pulse-check", "W2", nobody);
    add_wave_counts(
        &app,
        &w2,
        &[(10, 100), (8, 60), (3, 40)],
        &[(3, 80), (4, 120)],
    );
    close_wave(&app, &w2);
    // W3 → W4: 20,000 each, NPS +10 → +14 and the mean 3.50 → 3.55: clearly not chance
    // (p < 0.001) but below the minimum effect (5 points, 0.2).
    let w3 = open_wave(&app, "pulse-check", "W3", nobody);
    add_wave_counts(
        &app,
        &w3,
        &[(10, 8000), (8, 6000), (3, 6000)],
        &[(3, 10000), (4, 10000)],
    );
    close_wave(&app, &w3);
    let w4 = open_wave(&app, "pulse-check", "W4", nobody);
    add_wave_counts(
        &app,
        &w4,
        &[(10, 8800), (8, 5200), (3, 6000)],
        // Mean 3.50 → 3.55 with CSAT (top-2-box) unchanged at 50 %.
        &[(3, 10000), (4, 9000), (5, 1000)],
    );
    close_wave(&app, &w4);
    app.signed_in_admin().await;

    let second = api_json(&app, &w2).await;
    assert_eq!(second["frozen"], true, "a closed wave reads its snapshot");
    assert_eq!(second["previous_wave"]["id"], w1.as_str());
    let change = &second["nps"]["change"];
    assert_close(f(&change["diff"]), 60.0, 1e-9, "ΔNPS");
    assert!(f(&change["p_adjusted"]) <= 0.05);
    assert_eq!(change["significant"], true);
    let mean_change = &second["dimensions"][0]["figures"]["change"];
    assert_close(f(&mean_change["diff"]), 0.6, 1e-9, "Δmean");
    assert_eq!(mean_change["significant"], true);
    // CSAT (top-2-box over all satisfaction answers) 25 % → 60 %.
    let csat_change = &second["csat"]["change"];
    assert_close(f(&csat_change["diff"]), 0.35, 1e-9, "ΔCSAT");
    assert_eq!(csat_change["significant"], true);
    assert_eq!(second["significance"]["tests"], 3);
    assert_eq!(second["significance"]["flagged"], 3);

    let fourth = api_json(&app, &w4).await;
    assert_eq!(fourth["frozen"], true);
    assert_eq!(fourth["previous_wave"]["id"], w3.as_str());
    let change = &fourth["nps"]["change"];
    assert_close(f(&change["diff"]), 4.0, 1e-9, "ΔNPS");
    assert!(f(&change["p_adjusted"]) < 0.001, "statistically clear");
    assert!(f(&change["p_adjusted"]) >= f(&change["p"]));
    assert_eq!(change["significant"], false, "but below 5 points");
    let mean_change = &fourth["dimensions"][0]["figures"]["change"];
    assert_close(f(&mean_change["diff"]), 0.05, 1e-9, "Δmean");
    assert!(f(&mean_change["p_adjusted"]) < 0.001);
    assert_eq!(mean_change["significant"], false, "below 0.2");
    assert_eq!(fourth["significance"]["flagged"], 0);
    // The trend holds every wave up to this one.
    let trend: Vec<&str> = fourth["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(trend, ["W1", "W2", "W3", "W4"]);

    let page2 = app
        .get(&format!("/admin/waves/{w2}/results"))
        .await
        .text()
        .await
        .unwrap();
    // Issue 12 changed the colours on purpose: by better or worse, not by up or down.
    assert!(
        page2.contains("class=\"sig-better\""),
        "flagged on the page"
    );
    assert!(page2.contains("+60.0 points since W1 — significant"));
    let page4 = app
        .get(&format!("/admin/waves/{w4}/results"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page4.contains("class=\"sig-"), "nothing flagged");
    assert!(page4.contains("not a significant change"));
}

async fn open_results_follow_new_responses_and_closed_results_are_frozen(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "H1", "");
    respond(&app, &wave_id, &[("Manufacturing", 6)]);
    app.signed_in_admin().await;
    let first = api_json(&app, &wave_id).await;
    assert_eq!(first["responses"], 6);
    let page = || async {
        let html = app
            .get(&format!("/admin/waves/{wave_id}/results"))
            .await
            .text()
            .await
            .unwrap();
        let invited = first["invited"].as_u64().unwrap();
        (1..=invited)
            .find(|n| html.contains(&format!("<p>{n} of {invited} invited answered</p>")))
            .unwrap_or(0)
    };
    assert_eq!(page().await, 6, "the page as the API");
    assert_eq!(page().await, 6, "the page again (its body kept)");
    let again = api_json(&app, &wave_id).await;
    assert_eq!(
        again["computed_at"], first["computed_at"],
        "served from the cache"
    );
    respond(&app, &wave_id, &[("R&D", 5)]);
    let after = api_json(&app, &wave_id).await;
    assert_eq!(
        after["responses"], 11,
        "the next response invalidates the cache"
    );
    assert_eq!(page().await, 11, "and the page's kept body with it");

    close_wave(&app, &wave_id);
    let frozen = api_json(&app, &wave_id).await;
    assert_eq!(frozen["frozen"], true);
    assert_eq!(frozen["responses"], 11);
    // Counts that change after closing (they cannot, but suppose) leave the snapshot alone.
    add_counts(
        &mut app.pool.get().unwrap(),
        &[CountRow {
            wave_id: wave_id.clone(),
            cell: "{}".into(),
            question_key: "_responses".into(),
            value: String::new(),
            n: 100,
        }],
    )
    .unwrap();
    assert_eq!(api_json(&app, &wave_id).await["responses"], 11);
    let mut conn = app.pool.get().unwrap();
    assert!(
        pulse::db::models::results::find_snapshot(&mut conn, &wave_id)
            .unwrap()
            .is_some()
    );
}

async fn an_open_wave_shows_participation_only_until_it_closes(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "H1", "");
    respond(&app, &wave_id, &[("Manufacturing", 14), ("R&D", 9)]);
    app.signed_in_admin().await;

    let open = api_json(&app, &wave_id).await;
    assert_eq!(open["responses"], 23);
    assert_eq!(open["shown"], true);
    assert_eq!(open["answers_released"], false);
    for figure in ["nps", "csat", "comments"] {
        assert!(open[figure].is_null(), "{figure} while open");
    }
    assert!(open["pain_points"].as_array().unwrap().is_empty());
    assert!(open["choices"].as_array().unwrap().is_empty());
    assert!(open["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["figures"].is_null()));
    // Participation per segment is live; no answer figure in any group. (Which groups
    // are shown depends on how answers are stored: Legal's four invitees are too few to
    // be stored apart, so the smallest other combination is stored with them.)
    let mut shown = 0;
    for breakdown in open["segments"].as_array().unwrap() {
        for group in breakdown["groups"].as_array().unwrap() {
            if group["figures"].is_object() {
                shown += 1;
                let f = &group["figures"];
                assert!(f["responses"].as_u64().unwrap() <= f["invited"].as_u64().unwrap());
                assert!(f["responses"].as_u64().unwrap() >= 5);
                assert!(f["nps"].is_null());
                assert!(f["dimension_means"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(Value::is_null));
            }
        }
    }
    assert!(shown > 0, "{}", open["segments"]);
    let html = app
        .get(&format!("/admin/waves/{wave_id}/results"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"open-wave\""), "says why");
    assert!(!html.contains("id=\"nps\""));
    assert!(!html.contains("Comment number"));
    let csv = text(
        &app.get(&format!("/admin/waves/{wave_id}/results.csv"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert!(csv.contains(pulse::export::OPEN_WAVE_NOTE), "{csv}");
    assert!(!csv.contains("recommend"), "{csv}");

    close_wave(&app, &wave_id);
    let closed = api_json(&app, &wave_id).await;
    assert_eq!(closed["answers_released"], true);
    assert_eq!(closed["nps"]["n"], 23);
    assert!(!closed["comments"].is_null());
}

async fn comment_categories_are_offered_when_every_category_has_k_or_none(backend: Backend) {
    let app = spawn_app(backend).await;
    let people: Vec<(&str, &str, &str)> = (0..60)
        .map(|i| {
            if i % 2 == 0 {
                ("Manufacturing", "EMEA", "Plant")
            } else {
                ("R&D", "EMEA", "Lab")
            }
        })
        .collect();
    import(&app, &people);
    let wave_id = open_wave(&app, "internal-customer", "H1", "");
    // 50 respondents, every second one comments: 15 promoters, 5 passives, 5 detractors.
    let given = respond(&app, &wave_id, &[("Manufacturing", 25), ("R&D", 25)]);
    close_wave(&app, &wave_id);
    app.signed_in_admin().await;
    let json = api_json(&app, &wave_id).await;
    let comments = &json["comments"];
    assert_eq!(comments["total"], 25);
    assert_eq!(comments["promoters"], 15);
    assert_eq!(comments["passives"], 5);
    assert_eq!(comments["detractors"], 5);
    let passive_page = app
        .get(&format!("/admin/waves/{wave_id}/results?comments=passive"))
        .await
        .text()
        .await
        .unwrap();
    assert!(passive_page.contains("Passives (5)"));
    for a in given.iter().filter(|a| a.comment.is_some()) {
        let shown = passive_page.contains(&format!("<p>{}</p>", a.comment.as_ref().unwrap()));
        assert_eq!(shown, (7..=8).contains(&a.nps), "{:?}", a.comment);
    }
}

async fn a_segment_filter_shows_one_group_and_refuses_groups_the_plan_hides(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "H1", "");
    let given = respond(
        &app,
        &wave_id,
        &[
            ("Manufacturing", 14),
            ("R&D", 9),
            ("Sales", 5),
            ("Legal", 2),
        ],
    );
    app.signed_in_admin().await;
    let url = |filter: &str| {
        format!(
            "/api/v1/waves/{wave_id}/results?filter={}",
            url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
        )
    };
    // Open: refused, with the reason.
    let open = app.get(&url("business_unit=Manufacturing")).await;
    assert_eq!(open.status(), 400);
    assert!(open
        .text()
        .await
        .unwrap()
        .contains("once the wave has closed"));

    close_wave(&app, &wave_id);
    let json: Value = app
        .get(&url("business_unit=Manufacturing"))
        .await
        .json()
        .await
        .unwrap();
    let manufacturing: Vec<i32> = given
        .iter()
        .filter(|a| a.unit == "Manufacturing")
        .map(|a| a.nps)
        .collect();
    let nps = nps_by_hand(&manufacturing);
    assert_eq!(json["filter"]["value"], "Manufacturing");
    assert_eq!(json["responses"], 14);
    assert_eq!(json["invited"], 16);
    assert_close(f(&json["nps"]["score"]), nps.score, 1e-9, "filtered NPS");
    assert_close(f(&json["nps"]["ci"][0]), nps.ci.0, 1e-9, "filtered NPS ci");
    assert!(json["comments"].is_null(), "comments are the whole wave's");
    assert!(json["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["attribute"] != "business_unit"));

    // Legal (4 invitees) is too few to be stored apart: its answers are stored in the
    // wave's cell together with the smallest other combination (R&D in the Americas), so
    // R&D's group is its three respondents in EMEA — too few — and Sales (5), the next
    // smallest, is hidden to protect them: all refused, with the same words.
    for refused in [
        "business_unit=Legal",
        "business_unit=Sales",
        "business_unit=Nowhere",
    ] {
        let response = app.get(&url(refused)).await;
        assert_eq!(response.status(), 400, "{refused}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("fewer than 5 people"),
            "{refused}"
        );
    }
    let malformed = app.get(&url("business_unit")).await;
    assert_eq!(malformed.status(), 400);

    // The page offers the shown groups and says what it shows; the CSV and the CLI agree.
    let page = app
        .get(&format!("/admin/waves/{wave_id}/results"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"business_unit&#x3D;Manufacturing\""));
    assert!(!page.contains("value=\"business_unit&#x3D;Legal\""));
    let filtered_page = app
        .get(&format!(
            "/admin/waves/{wave_id}/results?filter=business_unit%3DManufacturing"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(filtered_page.contains("Showing only"));
    assert!(filtered_page.contains(&format!("{:+.1}", nps.score)));
    let csv = app
        .get(&format!(
            "/admin/waves/{wave_id}/results.csv?filter=business_unit%3DManufacturing"
        ))
        .await
        .bytes()
        .await
        .unwrap();
    let output = app.cli(&[
        "results",
        &wave_id,
        "--format",
        "csv",
        "--filter",
        "business_unit=Manufacturing",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(csv_table(&output.stdout), csv_table(&csv));
    let output = app.cli(&["results", &wave_id, "--filter", "business_unit=Legal"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("fewer than 5 people"));
}

both_backends!(
    a_small_wave_agrees_on_the_page_csv_xlsx_json_and_cli,
    a_wave_below_k_shows_no_figures_and_no_comments,
    the_api_refuses_anonymous_requests,
    changes_are_flagged_only_past_bh_and_the_minimum_effect,
    open_results_follow_new_responses_and_closed_results_are_frozen,
    an_open_wave_shows_participation_only_until_it_closes,
    comment_categories_are_offered_when_every_category_has_k_or_none,
    a_segment_filter_shows_one_group_and_refuses_groups_the_plan_hides,
);
