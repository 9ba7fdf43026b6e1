//! The scorecards' pages beyond the figures (issue 14's second part), through the real
//! server on both backends: a viewer reading their unit's published results summaries (no
//! comments, no other unit, hidden where the release plan hides the unit; the same figures
//! on page, CSV, XLSX, JSON and CLI), the actions aimed at a unit on its scorecard (viewers:
//! the published ones), and the scorecard statuses on the overview equal to the scorecards'
//! own. The admin import pages are in `scorecard_imports`.

use pulse::domain::Role;
use pulse::services::results::ResultsCache;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp, PASSWORD};
use crate::results::{close_wave, import, nps_by_hand, open_wave, organisation, respond};

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Creates a viewer of `units` and signs the app's client in as them.
async fn sign_in_viewer(app: &TestApp, email: &str, units: &[&str]) {
    app.create_user(email, Role::Viewer);
    let mut conn = app.pool.get().unwrap();
    let user = pulse::db::models::users::find_by_email(&mut conn, email)
        .unwrap()
        .unwrap();
    let units: Vec<String> = units.iter().map(|u| u.to_string()).collect();
    pulse::services::accounts::set_viewer_units(&mut conn, &user.id, &units).unwrap();
    assert_eq!(app.login(email, PASSWORD).await.status(), 303);
}

/// The cells of the summary row `key` in the wave section whose heading holds `title`:
/// (everyone asked, the unit).
fn summary_row(page: &str, title: &str, key: &str) -> (String, String) {
    let section = page
        .split("<section class=\"card unit-wave\"")
        .find(|s| s.contains(title))
        .unwrap_or_else(|| panic!("no section for {title}"));
    let row = section
        .split(&format!("<tr data-key=\"{key}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no row {key} in {section}"))
        .split("</tr>")
        .next()
        .unwrap();
    let cells: Vec<String> = row
        .split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').unwrap() + 1..];
            c.split("</td>").next().unwrap().to_string()
        })
        .collect();
    (cells[0].clone(), cells[1].clone())
}

async fn a_viewer_reads_their_units_published_results(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "Spring 2026", "");
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
    // The wave's published results, as an admin reads them: the whole wave, and Manufacturing's.
    app.signed_in_admin().await;
    let published: Value = app
        .get(&format!("/api/v1/waves/{wave_id}/results"))
        .await
        .json()
        .await
        .unwrap();
    let published_unit: Value = app
        .get(&format!(
            "/api/v1/waves/{wave_id}/results?filter=business_unit%3DManufacturing"
        ))
        .await
        .json()
        .await
        .unwrap();
    let scorecard_unit: Value = app
        .get("/api/v1/scorecards/Manufacturing")
        .await
        .json()
        .await
        .unwrap();
    let all: Vec<i32> = given.iter().map(|a| a.nps).collect();
    let mine: Vec<i32> = given
        .iter()
        .filter(|a| a.unit == "Manufacturing")
        .map(|a| a.nps)
        .collect();

    sign_in_viewer(&app, "head.plants@example.com", &["Manufacturing"]).await;
    let response = app.get("/admin/scorecards/Manufacturing/results").await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Survey results: Manufacturing"), "{page}");
    let (whole, unit) = summary_row(&page, "Spring 2026", "nps");
    assert_eq!(whole, format!("{:+.0}", nps_by_hand(&all).score));
    assert_eq!(unit, format!("{:+.0}", nps_by_hand(&mine).score));
    assert_eq!(
        unit,
        format!("{:+.0}", published_unit["nps"]["score"].as_f64().unwrap()),
        "the published group figure"
    );
    let nps_measure = scorecard_unit["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "nps")
        .unwrap();
    assert_eq!(
        unit,
        format!("{:+.0}", nps_measure["value"].as_f64().unwrap()),
        "the scorecard's figure"
    );
    let (whole_csat, _) = summary_row(&page, "Spring 2026", "csat");
    assert_eq!(
        whole_csat,
        format!(
            "{:.0} %",
            100.0 * published["csat"]["top2box"].as_f64().unwrap()
        )
    );
    let (whole_rate, unit_rate) = summary_row(&page, "Spring 2026", "response_rate");
    assert_eq!(whole_rate, format!("{:.0} %", 100.0 * 30.0 / 40.0));
    assert_eq!(unit_rate, format!("{:.0} %", 100.0 * 14.0 / 16.0));
    assert!(!page.contains("Comment number"), "no comments for viewers");
    for other in ["R&amp;D", "Sales", "Legal"] {
        assert!(
            !page.contains(other),
            "{other} on Manufacturing's summary page"
        );
    }
    // The JSON API: the same figures.
    let json: Value = app
        .get("/api/v1/scorecards/Manufacturing/results")
        .await
        .json()
        .await
        .unwrap();
    let line = json["waves"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "nps")
        .unwrap()
        .clone();
    assert!((line["group"].as_f64().unwrap() - nps_by_hand(&mine).score).abs() < 1e-9);
    assert!((line["whole"].as_f64().unwrap() - nps_by_hand(&all).score).abs() < 1e-9);
    // The same figures in the CSV, the XLSX and `pulse scorecard UNIT --results`.
    let csv = app
        .get("/admin/scorecards/Manufacturing/results.csv")
        .await
        .bytes()
        .await
        .unwrap();
    let csv = csv_rows(&csv);
    let nps_row = csv.iter().find(|r| r[5] == "nps").unwrap();
    // Rounded to six decimals, as the scorecard exports are.
    assert!((nps_row[8].parse::<f64>().unwrap() - nps_by_hand(&mine).score).abs() < 1e-6);
    assert_eq!(nps_row[9], "shown");
    let xlsx = app
        .get("/admin/scorecards/Manufacturing/results.xlsx")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(csv, xlsx_rows(xlsx.to_vec()));
    let cli = app.cli(&["scorecard", "Manufacturing", "--results", "--format", "csv"]);
    assert!(
        cli.status.success(),
        "{}",
        crate::helpers::text(&cli.stderr)
    );
    assert_eq!(csv, csv_rows(&cli.stdout));
    assert!(csv.iter().any(|r| r[5].starts_with("pain_point:")));
    // Other units' summaries are refused, like their scorecards.
    for url in [
        "/admin/scorecards/R%26D/results",
        "/api/v1/scorecards/Legal/results",
        "/admin/scorecards/Nowhere/results",
    ] {
        assert_eq!(app.get(url).await.status(), 403, "{url}");
    }
    // The scorecard links to the summaries.
    let card = app
        .get("/admin/scorecards/Manufacturing")
        .await
        .text()
        .await
        .unwrap();
    assert!(card.contains("href=\"/admin/scorecards/Manufacturing/results\""));

    // Legal (2 answers) is hidden by the release plan: no number for it, anywhere.
    sign_in_viewer(&app, "head.legal@example.com", &["Legal"]).await;
    let page = app
        .get("/admin/scorecards/Legal/results")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("hidden to protect anonymity"), "{page}");
    for key in ["nps", "response_rate", "dimension:communication"] {
        let (whole, unit) = summary_row(&page, "Spring 2026", key);
        assert_ne!(whole, "—", "{key}: the whole wave is shown");
        assert_eq!(unit, "hidden", "{key}");
    }
    let json: Value = app
        .get("/api/v1/scorecards/Legal/results")
        .await
        .json()
        .await
        .unwrap();
    let wave = &json["waves"][0];
    assert_eq!(wave["unit_shown"], false);
    assert!(wave["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["group"].is_null()));
    assert!(
        crate::helpers::segment_group(&published, "business_unit", "Legal")["figures"].is_null(),
        "the results page hides it too"
    );
    let csv = csv_rows(
        &app.get("/admin/scorecards/Legal/results.csv")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert!(!csv.is_empty());
    assert!(
        csv.iter().all(|r| r[8].is_empty() && r[9] == "hidden"),
        "{csv:?}"
    );
    assert_eq!(
        app.get("/admin/scorecards/Manufacturing/results.csv")
            .await
            .status(),
        403
    );
}

/// The rows of a CSV download, header left out.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::Reader::from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The rows of an XLSX download as the CSV writes them.
fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range("Results summaries").unwrap();
    range
        .rows()
        .skip(1)
        .map(|row| {
            (0..10)
                .map(|i| match row.get(i) {
                    Some(calamine::Data::String(s)) => s.clone(),
                    Some(calamine::Data::Float(v)) => format!("{}", (v * 1e6).round() / 1e6),
                    Some(calamine::Data::Empty) | None => String::new(),
                    Some(other) => format!("{other}"),
                })
                .collect()
        })
        .collect()
}

/// Plans an action on `wave_id` for `group` (empty: the whole wave) as the admin.
fn plan(app: &TestApp, wave_id: &str, group: &str, title: &str, due: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    let actor = pulse::actions::actor_by_email(&mut conn, "admin@example.com").unwrap();
    let input = pulse::actions::ActionInput {
        wave: wave_id.into(),
        target: "nps".into(),
        group: group.into(),
        title: title.into(),
        description: [("en".to_string(), format!("{title}, for everyone."))].into(),
        owner: "admin@example.com".into(),
        due: due.into(),
    };
    pulse::actions::create(&mut conn, &ResultsCache::default(), &actor, &input, now())
        .unwrap()
        .id
}

async fn actions_aimed_at_a_unit_are_on_its_scorecard(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave_id = open_wave(&app, "internal-customer", "Spring 2026", "");
    respond(
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
    let published = plan(
        &app,
        &wave_id,
        "business_unit=Manufacturing",
        "Faster approvals for the plants",
        "2020-01-31",
    );
    plan(
        &app,
        &wave_id,
        "business_unit=Manufacturing",
        "Draft: a buyer on site",
        "2099-06-30",
    );
    plan(
        &app,
        &wave_id,
        "",
        "Clearer policy for everyone",
        "2099-06-30",
    );
    plan(
        &app,
        &wave_id,
        "region=EMEA",
        "Buyers in every EMEA office",
        "2099-06-30",
    );
    {
        let mut conn = app.pool.get().unwrap();
        let actor = pulse::actions::actor_by_email(&mut conn, "admin@example.com").unwrap();
        pulse::actions::set_published(&mut conn, &actor, &published, true, now()).unwrap();
    }

    // An admin: both actions aimed at Manufacturing, the draft marked, nothing else.
    let page = app
        .get("/admin/scorecards/Manufacturing")
        .await
        .text()
        .await
        .unwrap();
    let section = page
        .split("id=\"actions-heading\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(section.contains("Faster approvals for the plants"));
    assert!(section.contains("Draft: a buyer on site <span class=\"muted\">(not published)</span>"));
    assert!(
        section.contains("<tr class=\"overdue\">"),
        "the overdue one stands out"
    );
    assert!(
        !section.contains("Clearer policy"),
        "a whole-wave action is not the unit's"
    );
    assert!(
        !section.contains("Buyers in every"),
        "aimed at a region, not the unit"
    );
    let json: Value = app
        .get("/api/v1/scorecards/Manufacturing")
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Faster approvals for the plants", "Draft: a buyer on site"],
        "soonest due first"
    );
    // Before the actions existed (an earlier half-year): none.
    let earlier: Value = app
        .get("/api/v1/scorecards/Manufacturing?period=2020-H1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(earlier["actions"], Value::Array(vec![]));

    // The unit's head: only the published one.
    sign_in_viewer(&app, "head@example.com", &["Manufacturing"]).await;
    let page = app
        .get("/admin/scorecards/Manufacturing")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Faster approvals for the plants"));
    assert!(!page.contains("Draft: a buyer on site"));
    assert!(!page.contains("not published"));
    let json: Value = app.get("/api/v1/scorecards").await.json().await.unwrap();
    let actions = json["units"][0]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["published"], true);
}

async fn the_home_page_shows_the_scorecard_statuses(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let period = pulse::scorecards::period::HalfYear::of(now().date());
    // Cost savings: target 250 (almost within 50); contract coverage 75 % (almost within 10).
    let kpis = format!(
        "kpi,period,business_unit,value\n\
         cost_savings,{period},Sales,300\n\
         cost_savings,{period},Legal,210\n\
         cost_savings,{period},R&D,120\n\
         contract_coverage,{period},Sales,70\n\
         contract_coverage,{period},R&D,90\n"
    );
    let path = app.db.dir.path().join("kpis.csv");
    std::fs::write(&path, kpis).unwrap();
    let output = app.cli(&["kpi", "import", path.to_str().unwrap()]);
    assert!(output.status.success());

    app.signed_in_admin().await;
    let home = app.get("/admin").await.text().await.unwrap();
    let org: Value = app.get("/api/v1/scorecards").await.json().await.unwrap();
    assert_eq!(org["period"], period.to_string());
    assert!(home.contains(&format!("Scorecards · {period}")), "{home}");
    let mut totals = [0usize; 3];
    for card in org["units"].as_array().unwrap() {
        let count = |status: &str| {
            card["measures"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["status"] == status)
                .count()
        };
        let counts = [count("met"), count("almost"), count("missed")];
        for (total, n) in totals.iter_mut().zip(counts) {
            *total += n;
        }
        let unit = card["unit"].as_str().unwrap();
        let row = format!(
            "{}</a></th><td>{}</td><td>{}</td><td>{}</td></tr>",
            unit.replace('&', "&amp;"),
            counts[0],
            counts[1],
            if counts[2] > 0 {
                format!("<strong>{}</strong>", counts[2])
            } else {
                "0".into()
            }
        );
        assert!(home.contains(&row), "{row} in {home}");
    }
    assert_eq!(totals[2], 1, "only R&D's cost savings are missed");
    assert!(home.contains(&format!(
        "<span class=\"status status-met\">{} met</span> <span class=\"status status-almost\">{} almost</span> <span class=\"status status-missed\">{} missed</span>",
        totals[0], totals[1], totals[2]
    )));
    // Most missed first: R&D (cost savings missed) heads the table.
    let first = home
        .split("<table class=\"status-table\">")
        .nth(1)
        .unwrap()
        .split("<tbody>")
        .nth(1)
        .unwrap();
    assert!(
        first
            .trim_start()
            .starts_with("<tr><th scope=\"row\"><a href=\"/admin/scorecards/R%26D"),
        "{first}"
    );
}

both_backends!(
    a_viewer_reads_their_units_published_results,
    actions_aimed_at_a_unit_are_on_its_scorecard,
    the_home_page_shows_the_scorecard_statuses,
);
