//! The home page (`/admin`, issue 12): what a lead sees first — each survey's latest closed
//! wave with its NPS and CSAT, their change and trend, the response rate and the top three
//! pain points with their change; the open waves with their progress and days left — and,
//! for admins only, the directory's health. Figures are checked against the wave's own
//! results (the JSON API) and by hand from the raw answers.

use pulse::domain::Role;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{sign_in, spawn_app, Backend, TestApp};
use crate::results::{
    api_json, close_wave, f, import, nps_by_hand, open_wave, organisation, respond,
};

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let response = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn a_lead_sees_the_latest_results_and_the_open_waves_an_admin_also_the_directory(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let first = open_wave(&app, "internal-customer", "H2 2026", "");
    respond(
        &app,
        &first,
        &[("Manufacturing", 14), ("R&D", 9), ("Sales", 5)],
    );
    close_wave(&app, &first);
    let second = open_wave(&app, "internal-customer", "H1 2027", "");
    let given = respond(
        &app,
        &second,
        &[("R&D", 10), ("Manufacturing", 12), ("Sales", 8)],
    );
    close_wave(&app, &second);
    // An open wave of another survey, nobody has answered yet.
    let open = open_wave(&app, "pulse-check", "March pulse", "");
    app.create_user("lead@example.com", Role::Lead);
    app.create_user("boss@example.com", Role::Admin);
    {
        let mut conn = app.pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        pulse::db::models::opt_outs::suppress(
            &mut conn,
            "p1@example.com",
            "550 no such user",
            None,
            now,
        )
        .unwrap();
    }
    let lead = sign_in(&app, "lead@example.com").await.0;
    let admin = sign_in(&app, "boss@example.com").await.0;
    app.signed_in_admin().await;
    let results: Value = api_json(&app, &second).await;

    let home = page(&lead, &app, "/admin").await;
    // The latest closed wave of the survey, its figures as its results publish them.
    assert!(home.contains("H1 2027, closed"), "{home}");
    assert!(home.contains(&format!("/admin/waves/{second}/results")));
    let nps = nps_by_hand(&given.iter().map(|a| a.nps).collect::<Vec<_>>()).score;
    assert!((f(&results["nps"]["score"]) - nps).abs() < 1e-9);
    assert!(home.contains(&format!("{nps:+.1}")), "NPS on the home page");
    let nps_change = f(&results["nps"]["change"]["diff"]);
    assert!(
        home.contains(&format!("{nps_change:+.1} points since H2 2026")),
        "its change since the wave before"
    );
    assert!(home.contains(&format!("{:.1} %", 100.0 * f(&results["csat"]["top2box"]))));
    assert!(home.contains("75.0 %"), "response rate: 30 of 40");
    assert!(home.contains("class=\"spark\""), "a sparkline of the trend");
    // The top three pain points, most named first, with their change in words.
    let mut options: Vec<&Value> = results["pain_points"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["options"].as_array().unwrap())
        .collect();
    options.sort_by(|a, b| b["count"].as_u64().cmp(&a["count"].as_u64()));
    let top = &options[0];
    let label = top["label"].as_str().unwrap().replace('\'', "&#x27;");
    assert!(home.contains(&label), "{label}");
    if top["change"].is_object() {
        let diff = 100.0 * f(&top["change"]["diff"]);
        assert!(home.contains(&format!("{diff:+.1} percentage points")));
    }
    // The open wave: its progress and the days it still runs.
    assert!(home.contains(&format!("/admin/waves/{open}")));
    assert!(home.contains("March pulse"));
    assert!(home.contains("0 of 40 answered"), "{home}");
    assert!(home.contains("<progress"));
    assert!(home.contains("days left"));
    // Leads do not see the directory.
    assert!(!home.contains("Directory health"));
    assert!(!home.contains("href=\"/admin/stakeholders\""));

    let admin_home = page(&admin, &app, "/admin").await;
    assert!(admin_home.contains("Directory health"));
    for (what, n) in [
        ("Active stakeholders", 40),
        ("Opted out of a survey", 0),
        ("Blocked addresses", 1),
        ("Failed mails", 0),
    ] {
        let at = admin_home.find(what).unwrap_or_else(|| panic!("{what}"));
        assert!(
            admin_home[at..].contains(&format!("<dd>{n}</dd>")),
            "{what}: {n}"
        );
    }

    // The results index: NPS, CSAT and response rate of each wave.
    let index = page(&lead, &app, "/admin/results").await;
    assert!(index.contains(&format!("{nps:+.1}")));
    assert!(index.contains("75.0 %"));
}

both_backends!(a_lead_sees_the_latest_results_and_the_open_waves_an_admin_also_the_directory);
