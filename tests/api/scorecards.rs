//! Scorecards end to end: the request log and KPI values imported through the CLI (good
//! and bad files), the 120-day figures checked against values computed here from the rows
//! written to the file, statuses against the shipped targets, a unit the release plan
//! hides showing no survey number, the same figures on the page, CSV, XLSX, JSON and CLI,
//! and a viewer refused everywhere outside their unit.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::Reader;
use chrono::{Duration, NaiveDate};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{text, Backend, TestApp, PASSWORD};
use crate::results::{close_wave, import, nps_by_hand, open_wave, organisation, respond};

/// The shipped definition's request targets: 120 days, IT hardware 60, catalogue items 30.
fn target_days(category: &str) -> i64 {
    match category {
        "IT hardware" => 60,
        "Catalogue items" => 30,
        _ => 120,
    }
}

const CATEGORIES: [&str; 4] = ["IT hardware", "Services", "Catalogue items", "Works"];
const UNITS: [&str; 4] = ["Manufacturing", "R&D", "Sales", "Legal"];

/// One request as written to the file.
#[derive(Debug, Clone)]
struct Request {
    id: String,
    unit: &'static str,
    category: &'static str,
    opened: NaiveDate,
    fulfilled: Option<NaiveDate>,
    cancelled: bool,
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// 600 requests opened between October 2025 and June 2026, from a fixed pseudo-random
/// sequence: cycle times 3–220 days, about one in eight still open, one in twenty cancelled.
fn requests() -> Vec<Request> {
    let mut state: u64 = 42;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    (0..600)
        .map(|i| {
            let opened = day("2025-10-01") + Duration::days(next(273) as i64);
            let roll = next(40);
            let cancelled = roll < 2;
            let fulfilled =
                (roll >= 7 && !cancelled).then(|| opened + Duration::days(3 + next(218) as i64));
            Request {
                id: format!("PR-{i:05}"),
                unit: UNITS[next(4) as usize],
                category: CATEGORIES[next(4) as usize],
                opened,
                fulfilled,
                cancelled,
            }
        })
        .collect()
}

fn requests_csv(requests: &[Request]) -> String {
    let mut csv = String::from(
        "request_id,business_unit,requester_email,category,channel,value,currency,opened_on,fulfilled_on,status\n",
    );
    for r in requests {
        let status = if r.cancelled {
            "cancelled"
        } else if r.fulfilled.is_some() {
            "fulfilled"
        } else {
            "open"
        };
        csv.push_str(&format!(
            "{},{},,{},purchase order,1000.00,EUR,{},{},{status}\n",
            r.id,
            r.unit,
            r.category,
            r.opened,
            r.fulfilled.map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    csv
}

/// numpy.percentile's default (linear interpolation), written out here.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

struct Expected {
    opened: u64,
    within_share: f64,
    median: f64,
    p90: f64,
    open_past_target: u64,
}

/// The 2026-H1 figures of one unit, by hand.
fn expected_h1(requests: &[Request], unit: &str) -> Expected {
    let (start, end) = (day("2026-01-01"), day("2026-06-30"));
    let mine: Vec<&Request> = requests.iter().filter(|r| r.unit == unit).collect();
    let opened = mine
        .iter()
        .filter(|r| r.opened >= start && r.opened <= end)
        .count() as u64;
    let mut cycles = Vec::new();
    let mut within = 0;
    for r in &mine {
        if let Some(f) = r.fulfilled.filter(|f| *f >= start && *f <= end) {
            let days = (f - r.opened).num_days();
            cycles.push(days as f64);
            if days <= target_days(r.category) {
                within += 1;
            }
        }
    }
    cycles.sort_by(f64::total_cmp);
    let open_past_target = mine
        .iter()
        .filter(|r| !r.cancelled && r.opened <= end && r.fulfilled.is_none_or(|f| f > end))
        .filter(|r| (end - r.opened).num_days() > target_days(r.category))
        .count() as u64;
    Expected {
        opened,
        within_share: within as f64 / cycles.len() as f64,
        median: percentile(&cycles, 0.5),
        p90: percentile(&cycles, 0.9),
        open_past_target,
    }
}

fn write(app: &TestApp, name: &str, content: &str) -> String {
    let path = app.db.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

fn measure<'a>(card: &'a Value, key: &str) -> &'a Value {
    card["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == key)
        .unwrap_or_else(|| panic!("no measure {key}"))
}

fn close(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!((a - b).abs() <= tolerance, "{what}: {a} != {b}");
}

fn encode(unit: &str) -> String {
    url::form_urlencoded::byte_serialize(unit.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Export rows: (unit, measure) → (value, target, status, note).
type Rows = BTreeMap<(String, String), (String, String, String, String)>;

fn csv_rows(bytes: &[u8]) -> Rows {
    let mut reader = csv::Reader::from_reader(bytes);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                (r[0].to_string(), r[2].to_string()),
                (
                    r[6].to_string(),
                    r[7].to_string(),
                    r[8].to_string(),
                    r[9].to_string(),
                ),
            )
        })
        .collect()
}

fn xlsx_rows(bytes: Vec<u8>) -> Rows {
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range("Scorecard").unwrap();
    let cell = |row: &[calamine::Data], i: usize| match row.get(i) {
        Some(calamine::Data::String(s)) => s.clone(),
        Some(calamine::Data::Float(v)) => format!("{}", (v * 1e6).round() / 1e6),
        Some(calamine::Data::Empty) | None => String::new(),
        Some(other) => format!("{other}"),
    };
    range
        .rows()
        .skip(1)
        .map(|row| {
            (
                (cell(row, 0), cell(row, 2)),
                (cell(row, 6), cell(row, 7), cell(row, 8), cell(row, 9)),
            )
        })
        .collect()
}

async fn requests_import_and_120_day_figures(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    import(&app, &organisation());
    let log = requests();

    // A bad file: every problem with line and column, nothing stored.
    let mut bad = requests_csv(&log[..20]);
    bad.push_str("PR-00003,Manufacturing,,Works,tender,,,2026-02-01,,\n");
    bad.push_str("PR-90001,Nowhere,,Works,tender,12,EUR,2026-02-30,,open\n");
    let output = app.cli(&["requests", "import", &write(&app, "bad.csv", &bad)]);
    assert!(!output.status.success());
    let error = text(&output.stderr);
    assert!(error.contains("nothing was imported"), "{error}");
    assert!(
        error.contains("line 22, column \"request_id\": 'PR-00003' is also on line 5"),
        "{error}"
    );
    assert!(
        error.contains("line 23, column \"opened_on\": '2026-02-30' is not a date"),
        "{error}"
    );
    // The unknown unit is reported once the file itself is right.
    let unknown = format!(
        "{}PR-90001,Nowhere,,Works,tender,12,EUR,2026-02-03,,open\n",
        requests_csv(&log[..3])
    );
    let output = app.cli(&["requests", "import", &write(&app, "unknown.csv", &unknown)]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("line 5, column \"business_unit\": 'Nowhere' is not a business unit of the directory (the directory's business units are Legal, Manufacturing, R&D, Sales)"),
        "{}",
        text(&output.stderr)
    );
    let mut conn = app.pool.get().unwrap();
    assert_eq!(pulse::db::models::requests::count(&mut conn).unwrap(), 0);

    // The good file, then a re-import that changes one request: updated, not duplicated.
    let path = write(&app, "requests.csv", &requests_csv(&log));
    let output = app.cli(&["requests", "import", &path]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("created: 600"));
    let mut changed = log.clone();
    let first_fulfilled = changed
        .iter()
        .position(|r| r.fulfilled.is_some() && r.opened >= day("2026-01-01"))
        .unwrap();
    changed[first_fulfilled].fulfilled = Some(changed[first_fulfilled].opened + Duration::days(1));
    let path = write(&app, "requests.csv", &requests_csv(&changed));
    let output = app.cli(&["requests", "import", &path]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("created: 0\nupdated: 1\nunchanged: 599"),
        "only the changed request is rewritten: {}",
        text(&output.stdout)
    );
    assert_eq!(pulse::db::models::requests::count(&mut conn).unwrap(), 600);

    app.signed_in_admin().await;
    for unit in UNITS {
        let expected = expected_h1(&changed, unit);
        let card: Value = app
            .get(&format!(
                "/api/v1/scorecards/{}?period=2026-H1",
                encode(unit)
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(card["unit"], unit);
        let value = |key: &str| measure(&card, key)["value"].as_f64().unwrap();
        close(
            value("within_target"),
            100.0 * expected.within_share,
            1e-9,
            "within target",
        );
        close(value("cycle_median"), expected.median, 1e-9, "median");
        close(value("cycle_p90"), expected.p90, 1e-9, "p90");
        assert_eq!(
            value("open_past_target") as u64,
            expected.open_past_target,
            "{unit}"
        );
        assert!(expected.opened > 0);

        // Statuses against the shipped targets (80 % ±10, R&D 70 %; median ≤ 60 days ±15).
        let target = if unit == "R&D" { 70.0 } else { 80.0 };
        let share = 100.0 * expected.within_share;
        let status = if share >= target {
            "met"
        } else if share >= target - 10.0 {
            "almost"
        } else {
            "missed"
        };
        assert_eq!(measure(&card, "within_target")["status"], status, "{unit}");
        assert_eq!(measure(&card, "within_target")["target"], target);
        let median_status = if expected.median <= 60.0 {
            "met"
        } else if expected.median <= 75.0 {
            "almost"
        } else {
            "missed"
        };
        assert_eq!(measure(&card, "cycle_median")["status"], median_status);
        // No survey wave closed in 2026-H1: no data, never a number.
        assert_eq!(measure(&card, "nps")["status"], "no_data");
        assert!(measure(&card, "nps")["value"].is_null());
    }

    // The same figures on the page, in the CSV, the XLSX and the CLI.
    let org_csv = app
        .get("/admin/scorecards.csv?period=2026-H1")
        .await
        .bytes()
        .await
        .unwrap();
    let org_xlsx = app
        .get("/admin/scorecards.xlsx?period=2026-H1")
        .await
        .bytes()
        .await
        .unwrap();
    let csv = csv_rows(&org_csv);
    assert_eq!(csv, xlsx_rows(org_xlsx.to_vec()));
    let cli = app.cli(&["scorecard", "--period", "2026-H1", "--format", "csv"]);
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    assert_eq!(csv, csv_rows(&cli.stdout));
    let unit_cli = app.cli(&["scorecard", "R&D", "--period", "2026-H1", "--format", "csv"]);
    let unit_csv = app
        .get("/admin/scorecards/R%26D/scorecard.csv?period=2026-H1")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(csv_rows(&unit_cli.stdout), csv_rows(&unit_csv));
    let page = app
        .get("/admin/scorecards/R%26D?period=2026-H1")
        .await
        .text()
        .await
        .unwrap();
    for ((unit, key), (value, _, status, _)) in &csv {
        if unit != "R&D" || value.is_empty() {
            continue;
        }
        let shown = match key.as_str() {
            "within_target" => format!("{:.0} %", value.parse::<f64>().unwrap()),
            "cycle_median" | "cycle_p90" => format!("{:.0} days", value.parse::<f64>().unwrap()),
            _ => continue,
        };
        let row = page
            .split(&format!("id=\"measure-{key}\""))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap();
        assert!(row.contains(&shown), "{key}: {shown} not in {row}");
        assert!(row.contains(&format!("status-{status}")), "{key}: {row}");
    }
    let org_page = app.get("/admin/scorecards?period=2026-H1").await;
    assert_eq!(org_page.status(), 200);
    let org_page = org_page.text().await.unwrap();
    for unit in UNITS {
        assert!(org_page.contains(&format!(">{}</a>", unit.replace('&', "&amp;"))));
    }
}

async fn kpi_values_and_statuses(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    import(&app, &organisation());
    let bad = "kpi,period,business_unit,value\ncost_savings,2026-H1,Nowhere,10\nnps,2026-H1,Sales,1\ncost_savings,2026-H3,Sales,x\n";
    let output = app.cli(&["kpi", "import", &write(&app, "bad.csv", bad)]);
    assert!(!output.status.success());
    let error = text(&output.stderr);
    assert!(
        error.contains("4 problems found, so nothing was imported"),
        "{error}"
    );
    assert!(error.contains("line 2, column \"business_unit\": 'Nowhere' is not a business unit"));
    assert!(
        error.contains("line 3, column \"kpi\": 'nps' is not a KPI of the scorecard definition")
    );
    assert!(error.contains("line 4, column \"period\": '2026-H3' is not a half-year"));
    assert!(error.contains("line 4, column \"value\": 'x' is not a number"));

    // Cost savings: target 250 kEUR, almost within 50. Contract coverage: 75 %, almost 10.
    let good = "kpi,period,business_unit,value\n\
                cost_savings,2026-H1,Sales,300\n\
                cost_savings,2026-H1,Legal,210\n\
                cost_savings,2026-H1,R&D,120.5\n\
                contract_coverage,2026-H1,Sales,\"74,5\"\n\
                cost_savings,2025-H2,Sales,180\n";
    let output = app.cli(&["kpi", "import", &write(&app, "kpi.csv", good)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("5 KPI values imported"));
    // A later file replaces a value.
    let again = "kpi,period,business_unit,value\ncost_savings,2026-H1,Legal,190\n";
    let output = app.cli(&["kpi", "import", &write(&app, "kpi2.csv", again)]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    app.signed_in_admin().await;
    let org: Value = app
        .get("/api/v1/scorecards?period=2026-H1")
        .await
        .json()
        .await
        .unwrap();
    let card = |unit: &str| {
        org["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["unit"] == unit)
            .unwrap()
            .clone()
    };
    let status = |unit: &str, key: &str| measure(&card(unit), key)["status"].clone();
    assert_eq!(status("Sales", "cost_savings"), "met");
    assert_eq!(status("Legal", "cost_savings"), "missed");
    assert_eq!(status("R&D", "cost_savings"), "missed");
    assert_eq!(status("Sales", "contract_coverage"), "almost");
    assert_eq!(status("Manufacturing", "cost_savings"), "no_data");
    assert_eq!(measure(&card("Legal"), "cost_savings")["value"], 190.0);
    let trend: Vec<Value> = measure(&card("Sales"), "cost_savings")["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].clone())
        .collect();
    assert_eq!(
        trend,
        [Value::Null, Value::Null, 180.0.into(), 300.0.into()]
    );
}

async fn a_hidden_unit_shows_no_survey_number(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "Internal customers", "");
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
    close_wave(&app, &wave_id);
    app.signed_in_admin().await;
    let period = pulse::scorecards::period::HalfYear::of(chrono::Utc::now().date_naive());
    let card = |unit: &'static str| {
        let app = &app;
        async move {
            app.get(&format!(
                "/api/v1/scorecards/{}?period={period}",
                encode(unit)
            ))
            .await
            .json::<Value>()
            .await
            .unwrap()
        }
    };
    // Manufacturing is shown: its NPS is the filtered results' NPS.
    let manufacturing = card("Manufacturing").await;
    let nps: Vec<i32> = given
        .iter()
        .filter(|a| a.unit == "Manufacturing")
        .map(|a| a.nps)
        .collect();
    close(
        measure(&manufacturing, "nps")["value"].as_f64().unwrap(),
        nps_by_hand(&nps).score,
        1e-9,
        "Manufacturing NPS",
    );
    assert_eq!(manufacturing["survey"]["shown"], true);
    // Legal (2 answers) and Sales (hidden to protect Legal): no survey number anywhere.
    for unit in ["Legal", "Sales"] {
        let json = card(unit).await;
        assert_eq!(json["survey"]["shown"], false, "{unit}");
        for key in ["nps", "csat", "responsiveness", "approval_delays"] {
            let m = measure(&json, key);
            assert_eq!(m["status"], "hidden", "{unit} {key}");
            assert!(m["value"].is_null(), "{unit} {key}");
            assert!(m["trend"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["value"].is_null()));
        }
        let page = app
            .get(&format!(
                "/admin/scorecards/{}?period={period}",
                encode(unit)
            ))
            .await
            .text()
            .await
            .unwrap();
        let row = page
            .split("id=\"measure-nps\"")
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap();
        let figure = row
            .split("class=\"sc-figure hidden-cell\">")
            .nth(1)
            .unwrap()
            .split("</td>")
            .next()
            .unwrap();
        assert_eq!(figure, "hidden to protect anonymity");
        assert!(
            !row.contains("<svg"),
            "a trend chart in the hidden row: {row}"
        );
        let trend = row
            .split("class=\"trend-text\">")
            .nth(1)
            .unwrap()
            .split("</span>")
            .next()
            .unwrap();
        for point in trend.split("; ") {
            assert!(
                point.ends_with(": hidden") || point.ends_with(": no data"),
                "{point}"
            );
        }
        let csv = csv_rows(
            &app.get(&format!(
                "/admin/scorecards/{}/scorecard.csv?period={period}",
                encode(unit)
            ))
            .await
            .bytes()
            .await
            .unwrap(),
        );
        let (value, _, status, note) = &csv[&(unit.to_string(), "nps".to_string())];
        assert_eq!((value.as_str(), status.as_str()), ("", "hidden"));
        assert_eq!(note, "hidden to protect anonymity");
    }
    // The organisation page says "hidden" for them, and the chart leaves them out.
    let org: Value = app
        .get(&format!("/api/v1/scorecards?period={period}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(org["speed_and_satisfaction"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["unit"] != "Legal" && p["unit"] != "Sales"));
}

async fn a_viewer_sees_only_their_unit(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "Internal customers", "");
    respond(&app, &wave_id, &[("Manufacturing", 14), ("R&D", 9)]);
    close_wave(&app, &wave_id);

    // Created on the command line; a unit the directory lacks is refused.
    let refused = crate::helpers::run_cli(
        &app.db.raw_url,
        app.db.dir.path(),
        &[
            "user",
            "add",
            "--email",
            "head@example.com",
            "--role",
            "viewer",
            "--unit",
            "Nowhere",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("'Nowhere' is not a business unit"));
    let output = crate::helpers::run_cli(
        &app.db.raw_url,
        app.db.dir.path(),
        &[
            "user",
            "add",
            "--email",
            "head@example.com",
            "--role",
            "viewer",
            "--unit",
            "R&D",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let list = app.cli(&["user", "list"]);
    assert!(text(&list.stdout).contains("head@example.com"));
    assert!(text(&list.stdout).contains("(R&D)"));

    assert_eq!(app.login("head@example.com", PASSWORD).await.status(), 303);
    // The overview sends a viewer to the scorecards; they list only R&D.
    let home = app.get("/admin").await;
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/admin/scorecards");
    let page = app.get("/admin/scorecards").await.text().await.unwrap();
    assert!(page.contains(">R&amp;D</a>"));
    for other in ["Manufacturing", "Sales", "Legal"] {
        assert!(
            !page.contains(&format!(">{other}</a>")),
            "{other} on a viewer's page"
        );
    }
    let org: Value = app.get("/api/v1/scorecards").await.json().await.unwrap();
    let units: Vec<&str> = org["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["R&D"]);
    for own in [
        "/admin/scorecards/R%26D",
        "/admin/scorecards/R%26D/scorecard.csv",
        "/admin/scorecards/R%26D/scorecard.xlsx",
        "/api/v1/scorecards/R%26D",
        "/admin/scorecards.csv",
    ] {
        assert_eq!(app.get(own).await.status(), 200, "{own}");
    }

    // Every other page, download and API: refused.
    let mut refused_urls = vec![
        "/admin/waves".to_string(),
        "/admin/waves/new".into(),
        format!("/admin/waves/{wave_id}"),
        "/admin/results".into(),
        format!("/admin/waves/{wave_id}/results"),
        format!("/admin/waves/{wave_id}/results?filter=business_unit%3DR%26D"),
        format!("/admin/waves/{wave_id}/results.csv"),
        format!("/admin/waves/{wave_id}/results.xlsx"),
        format!("/api/v1/waves/{wave_id}/results"),
        "/admin/schedules".into(),
        "/admin/surveys".into(),
        "/admin/stakeholders".into(),
        "/admin/stakeholders/import".into(),
        "/admin/users".into(),
    ];
    for other in ["Manufacturing", "Sales", "Legal", "Nowhere"] {
        refused_urls.push(format!("/admin/scorecards/{other}"));
        refused_urls.push(format!("/admin/scorecards/{other}/scorecard.csv"));
        refused_urls.push(format!("/admin/scorecards/{other}/scorecard.xlsx"));
        refused_urls.push(format!("/api/v1/scorecards/{other}"));
    }
    for url in &refused_urls {
        let response = app.get(url).await;
        assert_eq!(response.status(), 403, "{url}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("Manufacturing"), "{url} names another unit");
    }
    for (url, form) in [
        ("/admin/waves", vec![("title", "x")]),
        ("/admin/users", vec![("email", "x@example.com")]),
        ("/admin/stakeholders/import", vec![]),
        ("/admin/schedules", vec![]),
        (&*format!("/admin/waves/{wave_id}/close"), vec![]),
    ] {
        // Refused by the form parser (400) or, for a well-formed form, the session's role
        // (403): never carried out.
        let response = app.post_form(url, &form).await;
        assert!(
            matches!(response.status().as_u16(), 400 | 403),
            "POST {url}: {}",
            response.status()
        );
    }
    let mut conn = app.pool.get().unwrap();
    let wave = pulse::db::models::waves::find(&mut conn, &wave_id)
        .unwrap()
        .unwrap();
    assert_eq!(wave.state, "closed");
    assert!(
        pulse::db::models::users::find_by_email(&mut conn, "x@example.com")
            .unwrap()
            .is_none()
    );
}

async fn an_admin_creates_and_scopes_a_viewer_on_the_users_page(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    import(&app, &organisation());
    let csrf = app.signed_in_admin().await;
    // An unknown unit: the form comes back with the reason, no account is made.
    let refused = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "head@example.com"),
                ("role", "viewer"),
                ("units", "Nowhere"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("Nowhere&#x27; is not a business unit"),
        "{body}"
    );
    let created = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "head@example.com"),
                ("role", "viewer"),
                ("units", "Sales\r\nLegal"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let mut conn = app.pool.get().unwrap();
    let user = pulse::db::models::users::find_by_email(&mut conn, "head@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(user.role, "viewer");
    assert_eq!(
        pulse::services::accounts::viewer_units(&mut conn, &user.id).unwrap(),
        ["Legal", "Sales"]
    );
    let page = app.get("/admin/users").await.text().await.unwrap();
    assert!(page.contains("sees Legal, Sales"));
    // Re-scoped to one unit.
    let response = app
        .post_form(
            &format!("/admin/users/{}/units", user.id),
            &[("csrf_token", &csrf), ("units", "R&D")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        pulse::services::accounts::viewer_units(&mut conn, &user.id).unwrap(),
        ["R&D"]
    );
    // A lead cannot be given units.
    let lead = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "lead@example.com"),
                ("role", "lead"),
                ("units", "Sales"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(lead.status(), 422);
}

/// The demo: its viewer signs in with the printed password and sees IT only, whose requests
/// get slower as its NPS falls.
async fn the_demo_viewer_sees_it_getting_slower(backend: Backend) {
    let (db, stdout) = crate::demo::seeded(backend, "5");
    let (email, password) = stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.len() == 3 && words[0] == "viewer")
        .map(|w| (w[1].to_string(), w[2].to_string()))
        .expect("the demo prints a viewer account");
    let app = crate::demo::serve(db).await;
    assert_eq!(app.login(&email, &password).await.status(), 303);
    let org: Value = app.get("/api/v1/scorecards").await.json().await.unwrap();
    let units: Vec<&str> = org["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["IT"]);
    let it = &org["units"][0];
    let trend = |key: &str| -> Vec<f64> {
        measure(it, key)["trend"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["value"].as_f64())
            .collect()
    };
    let (speed, nps) = (trend("within_target"), trend("nps"));
    assert_eq!(speed.len(), 4, "{speed:?}");
    assert!(speed[3] < speed[0] - 15.0, "IT gets slower: {speed:?}");
    assert!(
        nps.len() >= 2 && nps[nps.len() - 1] < nps[0],
        "IT's NPS falls: {nps:?}"
    );
    assert_eq!(
        app.get("/api/v1/scorecards/Manufacturing").await.status(),
        403
    );
}

both_backends!(
    the_demo_viewer_sees_it_getting_slower,
    an_admin_creates_and_scopes_a_viewer_on_the_users_page,
    requests_import_and_120_day_figures,
    kpi_values_and_statuses,
    a_hidden_unit_shows_no_survey_number,
    a_viewer_sees_only_their_unit,
);
