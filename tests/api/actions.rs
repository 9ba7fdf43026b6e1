//! Action plans end to end (issue 13, first part): planned through the real server on a
//! closed wave's figure — for a group the release plan shows, refused for a hidden one —
//! with their history, publishing by admins only, "did it work" across a later wave, and
//! the same actions in the JSON API, the CSV, the XLSX and `pulse action`.

use std::io::Cursor;

use calamine::Reader;
use pulse::domain::Role;
use pulse::services::waves;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{sign_in, spawn_app, text, Backend, TestApp};
use crate::results::{import, open_wave, organisation, respond};

const LEAD: &str = "lead@example.com";
const ADMIN: &str = "admin@example.com";

fn close_wave(app: &TestApp, wave_id: &str) {
    let mut conn = app.pool.get().unwrap();
    assert!(waves::close_wave(&mut conn, wave_id, chrono::Utc::now().naive_utc()).unwrap());
}

async fn api_list(client: &reqwest::Client, app: &TestApp) -> Vec<Value> {
    client
        .get(app.url("/api/v1/actions?survey=internal-customer"))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

async fn api_detail(client: &reqwest::Client, app: &TestApp, id: &str) -> Value {
    client
        .get(app.url(&format!("/api/v1/actions/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn group_nps(client: &reqwest::Client, app: &TestApp, wave_id: &str) -> f64 {
    let json: Value = client
        .get(app.url(&format!(
            "/api/v1/waves/{wave_id}/results?filter=business_unit%3DManufacturing"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    json["nps"]["score"].as_f64().expect("the group's NPS")
}

fn plan_form<'a>(csrf: &'a str, wave_id: &'a str, group: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf_token", csrf),
        ("wave", wave_id),
        ("target", "nps"),
        ("group", group),
        ("title", "Approval fast track"),
        (
            "text.en",
            "We now approve orders under €5,000 within one day.",
        ),
        (
            "text.de",
            "Wir genehmigen Bestellungen unter 5.000 € jetzt innerhalb eines Tages.",
        ),
        ("owner", LEAD),
        ("due", "2020-01-31"),
    ]
}

async fn actions_are_planned_on_shown_groups_refused_on_hidden_ones_and_kept_with_history(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let first = open_wave(&app, "internal-customer", "H1", "");
    // Manufacturing 14 is shown; Legal (2) is too small and Sales (5) is hidden to protect it.
    respond(
        &app,
        &first,
        &[
            ("Manufacturing", 14),
            ("R&D", 9),
            ("Sales", 5),
            ("Legal", 2),
        ],
    );
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let (lead, lead_csrf) = sign_in(&app, LEAD).await;
    let (admin, admin_csrf) = sign_in(&app, ADMIN).await;

    // An open wave cannot be acted on yet.
    let open = lead
        .post(app.url("/admin/actions"))
        .form(&plan_form(
            &lead_csrf,
            &first,
            "business_unit=Manufacturing",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 422);
    assert!(open.text().await.unwrap().contains("answer a closed wave"));
    close_wave(&app, &first);

    // The results page links to a prefilled form; the form offers the shown group only.
    let results = lead
        .get(app.url(&format!(
            "/admin/waves/{first}/results?filter=business_unit%3DManufacturing"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = format!("/admin/actions/new?wave={first}&amp;target=nps&amp;filter&#x3D;business_unit%3DManufacturing");
    assert!(results.contains(&link), "a Plan an action link beside NPS");
    assert!(
        !results.contains("class=\"figure-action\""),
        "no action planned yet"
    );
    let form = lead
        .get(app.url(&format!(
            "/admin/actions/new?wave={first}&target=nps&filter=business_unit%3DManufacturing"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("<option value=\"business_unit&#x3D;Manufacturing\" selected>"));
    assert!(!form.contains("business_unit&#x3D;Legal"));
    assert!(!form.contains("business_unit&#x3D;Sales"));

    // Without the CSRF token: refused, nothing stored.
    let mut no_csrf = plan_form("", &first, "business_unit=Manufacturing");
    no_csrf.remove(0);
    let refused = lead
        .post(app.url("/admin/actions"))
        .form(&no_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Hidden groups are refused with the reason; nothing is stored.
    for hidden in ["business_unit=Legal", "business_unit=Sales"] {
        let response = lead
            .post(app.url("/admin/actions"))
            .form(&plan_form(&lead_csrf, &first, hidden))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{hidden}");
        let body = response.text().await.unwrap();
        assert!(body.contains("do not show that group"), "{hidden}: {body}");
        assert!(body.contains("Nothing was saved"));
    }
    // A missing title and a bad date: the form again, nothing stored.
    let mut bad = plan_form(&lead_csrf, &first, "");
    bad[4] = ("title", " ");
    let response = lead
        .post(app.url("/admin/actions"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Give the action a title"));
    assert!(api_list(&lead, &app).await.is_empty());

    // Planned by the lead on the shown group.
    let created = lead
        .post(app.url("/admin/actions"))
        .form(&plan_form(
            &lead_csrf,
            &first,
            "business_unit=Manufacturing",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let id = location
        .strip_prefix("/admin/actions/")
        .unwrap()
        .to_string();
    let list = api_list(&lead, &app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["target"], "nps");
    assert_eq!(list[0]["group"], "business_unit=Manufacturing");
    assert_eq!(list[0]["status"], "planned");
    assert_eq!(list[0]["published"], false);
    assert_eq!(list[0]["owner"], LEAD);
    assert_eq!(list[0]["overdue"], true, "due 2020-01-31, still planned");
    assert_eq!(
        list[0]["description"]["de"],
        "Wir genehmigen Bestellungen unter 5.000 € jetzt innerhalb eines Tages."
    );

    // The group's results page (rendered and kept before the action existed) shows the
    // action beside the NPS it targets; the whole wave's page (another group) does not.
    let page = |filter: &'static str| {
        let lead = lead.clone();
        let url = app.url(&format!("/admin/waves/{first}/results{filter}"));
        async move { lead.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let group_page = page("?filter=business_unit%3DManufacturing").await;
    let nps_card = group_page
        .split("id=\"nps\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the NPS card");
    assert!(
        nps_card.contains(&format!(
            "<a href=\"/admin/actions/{id}\">Approval fast track</a>"
        )),
        "the action beside NPS: {nps_card}"
    );
    assert!(
        nps_card.contains("(Planned, overdue: due 2020-01-31)"),
        "{nps_card}"
    );
    assert!(!page("").await.contains(&format!("/admin/actions/{id}\"")));

    // Only an admin publishes.
    let forbidden = lead
        .post(app.url(&format!("/admin/actions/{id}/publish")))
        .form(&[("csrf_token", lead_csrf.as_str()), ("published", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    assert_eq!(
        api_detail(&lead, &app, &id).await["action"]["published"],
        false
    );

    // A note that moves it on, and a changed due date: both in the history with who.
    let noted = lead
        .post(app.url(&format!("/admin/actions/{id}/notes")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("note", "Pilot with two plants started."),
            ("status", "in_progress"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(noted.status(), 303);
    let saved = lead
        .post(app.url(&format!("/admin/actions/{id}")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("title", "Approval fast track"),
            (
                "text.en",
                "We now approve orders under €5,000 within one day.",
            ),
            (
                "text.de",
                "Wir genehmigen Bestellungen unter 5.000 € jetzt innerhalb eines Tages.",
            ),
            ("owner", ADMIN),
            ("due", "2099-06-30"),
            ("status", "in_progress"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let published = admin
        .post(app.url(&format!("/admin/actions/{id}/publish")))
        .form(&[("csrf_token", admin_csrf.as_str()), ("published", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 303);

    let detail = api_detail(&admin, &app, &id).await;
    assert_eq!(detail["action"]["published"], true);
    assert_eq!(detail["action"]["status"], "in_progress");
    assert_eq!(detail["action"]["owner"], ADMIN);
    assert_eq!(detail["action"]["overdue"], false);
    assert_eq!(detail["notes"][0]["body"], "Pilot with two plants started.");
    assert_eq!(detail["notes"][0]["author"], LEAD);
    let history: Vec<(String, String, String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                s(&h["field"]),
                s(&h["by"]),
                s(&h["old_value"]),
                s(&h["new_value"]),
            )
        })
        .collect();
    let expected = [
        ("created", LEAD, "", "Approval fast track"),
        ("status", LEAD, "planned", "in_progress"),
        ("owner", LEAD, LEAD, ADMIN),
        ("due", LEAD, "2020-01-31", "2099-06-30"),
        ("published", ADMIN, "false", "true"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    // One save changed owner and due at the same moment: their order is not defined.
    let sorted = |mut v: Vec<(String, String, String, String)>| {
        v[2..4].sort();
        v
    };
    assert_eq!(sorted(history), sorted(expected));

    // The action's page shows the target, the note and the history.
    let page = lead
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Did it work?"));
    assert!(page.contains("Pilot with two plants started."));
    assert!(page.contains("Only an admin can publish"));
    let first_nps = group_nps(&lead, &app, &first).await;
    assert!(
        page.contains(&format!("{first_nps:+.1}")),
        "the origin figure"
    );

    // A later wave: "did it work" shows the group's NPS there and the change.
    let second = open_wave(&app, "internal-customer", "H2", "");
    respond(
        &app,
        &second,
        &[
            ("Manufacturing", 16),
            ("R&D", 12),
            ("Sales", 8),
            ("Legal", 4),
        ],
    );
    let pending = api_detail(&lead, &app, &id).await;
    assert_eq!(pending["did_it_work"].as_array().unwrap().len(), 2);
    assert!(
        pending["did_it_work"][1]["figure"].is_null(),
        "an open wave has no figure yet"
    );
    close_wave(&app, &second);
    let second_nps = group_nps(&lead, &app, &second).await;
    let worked = api_detail(&lead, &app, &id).await;
    let points = worked["did_it_work"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["origin"], true);
    assert_eq!(points[0]["wave_id"], first.as_str());
    assert!((points[0]["figure"]["value"].as_f64().unwrap() - first_nps).abs() < 1e-9);
    assert_eq!(points[1]["wave_id"], second.as_str());
    assert!((points[1]["figure"]["value"].as_f64().unwrap() - second_nps).abs() < 1e-9);
    assert!((points[1]["since_origin"].as_f64().unwrap() - (second_nps - first_nps)).abs() < 1e-9);

    // The filters of the actions page.
    let overdue = lead
        .get(app.url("/admin/surveys/internal-customer/actions?overdue=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(overdue.contains("No action matches these filters."));
    let all = lead
        .get(app.url("/admin/surveys/internal-customer/actions?status=in_progress"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(all.contains("Approval fast track"));
}

async fn actions_in_the_json_api_csv_xlsx_and_cli_agree(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let wave = open_wave(&app, "internal-customer", "H1", "");
    respond(
        &app,
        &wave,
        &[
            ("Manufacturing", 14),
            ("R&D", 9),
            ("Sales", 5),
            ("Legal", 2),
        ],
    );
    close_wave(&app, &wave);
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let (lead, csrf) = sign_in(&app, LEAD).await;

    // Anonymous: 401 JSON.
    let anonymous = crate::helpers::new_client()
        .get(app.url("/api/v1/actions"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("Sign in"));

    let body = json!({
        "wave": wave, "target": "pain_point:approval_delays", "title": "=Approvals in a day",
        "description": { "en": "Orders under €5,000 are approved within a day." },
        "owner": LEAD, "due": "2099-03-31",
    });
    // Without the session's CSRF header: refused.
    let no_header = lead
        .post(app.url("/api/v1/actions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_header.status(), 403);
    let created = lead
        .post(app.url("/api/v1/actions"))
        .header("X-CSRF-Token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let api_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["target_label"], "Pain point: Approval delays");

    // A hidden group through the API: 400 with the field.
    let mut hidden = body.clone();
    hidden["group"] = json!("business_unit=Legal");
    let refused = lead
        .post(app.url("/api/v1/actions"))
        .header("X-CSRF-Token", &csrf)
        .json(&hidden)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["fields"][0]["field"], "group");
    // A body that is not the expected JSON: 400 JSON, nothing stored.
    let malformed = lead
        .post(app.url("/api/v1/actions"))
        .header("X-CSRF-Token", &csrf)
        .header("Content-Type", "application/json")
        .body("{\"wave\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let malformed: Value = malformed.json().await.unwrap();
    assert!(malformed["error"]
        .as_str()
        .unwrap()
        .contains("nothing was changed"));
    // A lead cannot publish through the API either.
    let publish = lead
        .post(app.url(&format!("/api/v1/actions/{api_id}/publish")))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "published": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(publish.status(), 403);

    // The command line: add (refused on a hidden group, then on the whole wave's CSAT),
    // publish only as an admin.
    let add = |group: &str, by: &str| {
        app.cli(&[
            "action",
            "add",
            "--by",
            by,
            "--wave",
            &wave,
            "--target",
            "csat",
            "--group",
            group,
            "--title",
            "Faster answers",
            "--text",
            "We answer every request within two days.",
            "--text-in",
            "de=Wir antworten auf jede Anfrage innerhalb von zwei Tagen.",
            "--owner",
            LEAD,
            "--due",
            "2099-05-01",
        ])
    };
    let output = add("business_unit=Legal", LEAD);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("do not show that group"),
        "{}",
        text(&output.stderr)
    );
    let output = add("", LEAD);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let cli_id = text(&output.stdout).trim().to_string();
    let output = app.cli(&["action", "publish", &cli_id, "--by", LEAD]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("Only an admin"));
    let output = app.cli(&["action", "publish", &cli_id[..8], "--by", ADMIN]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = app.cli(&[
        "action",
        "note",
        &cli_id,
        "--by",
        LEAD,
        "--text",
        "Done in all units.",
        "--status",
        "done",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    // JSON API, CLI JSON, CSV and XLSX hold the same two actions.
    let list: Vec<Value> = lead
        .get(app.url("/api/v1/actions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    let by_id = |id: &str| list.iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id(&cli_id)["published"], true);
    assert_eq!(by_id(&cli_id)["status"], "done");
    assert_eq!(
        by_id(&cli_id)["description"]["de"],
        "Wir antworten auf jede Anfrage innerhalb von zwei Tagen."
    );
    assert_eq!(by_id(&api_id)["published"], false);
    let output = app.cli(&["action", "list", "--format", "json"]);
    assert!(output.status.success());
    let cli_list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cli_list, list);

    let csv = lead
        .get(app.url("/admin/surveys/internal-customer/actions.csv"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_ref());
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = |id: &str| {
        rows.iter()
            .find(|r| &r[column("id")] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        &row(&api_id)[column("title")],
        "'=Approvals in a day",
        "formulas neutralised"
    );
    assert_eq!(
        &row(&api_id)[column("target")],
        "pain_point:approval_delays"
    );
    assert_eq!(&row(&cli_id)[column("status")], "done");
    assert_eq!(&row(&cli_id)[column("published")], "true");
    assert_eq!(&row(&cli_id)[column("owner")], LEAD);

    let xlsx = lead
        .get(app.url("/admin/surveys/internal-customer/actions.xlsx"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).unwrap();
    let range = workbook.worksheet_range("Actions").unwrap();
    let sheet: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        sheet[0],
        header.iter().map(String::from).collect::<Vec<_>>()
    );
    assert_eq!(sheet.len(), 3);
    for record in &rows {
        let line = sheet.iter().find(|l| l[0] == record[0]).unwrap();
        assert_eq!(
            line,
            &record.iter().map(String::from).collect::<Vec<_>>(),
            "XLSX = CSV"
        );
    }
}

both_backends!(
    actions_are_planned_on_shown_groups_refused_on_hidden_ones_and_kept_with_history,
    actions_in_the_json_api_csv_xlsx_and_cli_agree,
);
