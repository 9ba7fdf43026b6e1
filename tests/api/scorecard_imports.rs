//! The request-log and KPI-value imports on the admin pages, through the real server on
//! both backends: the form and its sample file, every problem of a bad file with its line
//! and column (pasted text kept, nothing written), a preview that writes nothing, and a
//! confirmation that writes all or nothing — refused when altered, from another session,
//! or sealed for the other import; leads and viewers refused.

use pulse::domain::Role;

use crate::both_backends;
use crate::helpers::{hidden_field, spawn_app, Backend, TestApp, PASSWORD};
use crate::results::{import, organisation};

const BOUNDARY: &str = "----pulse-scorecard-boundary-2h4Qm";

/// A `multipart/form-data` body as a browser sends the import form: a file or pasted text.
fn multipart_body(csrf: &str, file: Option<(&str, &[u8])>, text: &str) -> Vec<u8> {
    let mut body = Vec::new();
    let mut part = |headers: String, content: &[u8]| {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"csrf_token\"".into(),
        csrf.as_bytes(),
    );
    let (name, content) = file.unwrap_or(("", b""));
    part(
        format!(
            "Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv"
        ),
        content,
    );
    part(
        "Content-Disposition: form-data; name=\"csv_text\"".into(),
        text.as_bytes(),
    );
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("request")
}

/// The hidden fields of the preview's confirmation form, `csrf_token` first.
fn confirmation_fields(page: &str) -> Vec<(String, String)> {
    ["csrf_token", "content", "issued_at", "seal"]
        .iter()
        .map(|name| {
            let value = hidden_field(page, name)
                .unwrap_or_else(|| panic!("no {name} on the preview page: {page}"))
                .replace("&#x3D;", "=");
            (name.to_string(), value)
        })
        .collect()
}

async fn post_pairs(app: &TestApp, path: &str, pairs: &[(String, String)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(pairs)
        .send()
        .await
        .expect("request")
}

fn request_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::requests::count(&mut conn).unwrap()
}

fn kpi_rows(app: &TestApp) -> Vec<(String, String, String, f64)> {
    let mut conn = app.pool.get().unwrap();
    let periods = vec!["2026-H1".to_string(), "2026-H2".to_string()];
    let mut rows: Vec<_> = pulse::db::models::kpis::for_periods(&mut conn, None, &periods)
        .unwrap()
        .into_iter()
        .map(|r| (r.kpi_key, r.period, r.business_unit, r.value))
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    rows
}

const REQUESTS_HEADER: &str =
    "request_id,business_unit,category,channel,value,currency,opened_on,fulfilled_on,status\n";

async fn requests_and_kpis_are_imported_on_the_admin_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let csrf = app.signed_in_admin().await;

    // The form and its sample file, which imports as it is once the units exist.
    let form = app.get("/admin/requests/import").await;
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.contains("<code>request_id</code>"));
    let sample = app.get("/admin/requests/import/sample.csv").await;
    assert!(sample.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("requests-sample.csv"));
    let sample = sample.bytes().await.unwrap();
    assert_eq!(pulse::requests::parse_requests(&sample).unwrap().len(), 4);

    // A bad file, pasted: every problem with line and column, the text kept, no seal.
    let bad = format!(
        "{REQUESTS_HEADER}PR-1,Sales,Works,tender,12x,EUR,2026-02-01,,open\n\
         PR-2,Sales,Works,tender,,,2026-02-30,,open\n\
         PR-1,Sales,Works,tender,,,2026-02-01,2026-01-01,fulfilled\n"
    );
    let response = upload(
        &app,
        "/admin/requests/import",
        multipart_body(&csrf, None, &bad),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("4 problem(s) in the pasted text"), "{page}");
    for expected in [
        "line 2, column &quot;value&quot;: &#x27;12x&#x27; is not a number",
        "line 3, column &quot;opened_on&quot;: &#x27;2026-02-30&#x27; is not a date",
        "line 4, column &quot;request_id&quot;: &#x27;PR-1&#x27; is also on line 2",
        "line 4, column &quot;fulfilled_on&quot;: 2026-01-01 is before the opening date 2026-02-01",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    assert!(
        !page.contains("name=\"seal\""),
        "no way to confirm a bad file"
    );
    assert!(
        page.contains("PR-2,Sales,Works,tender,,,2026-02-30,,open"),
        "the pasted text is kept"
    );
    // A unit the directory does not know: reported like the file's own problems.
    let unknown = format!("{REQUESTS_HEADER}PR-1,Nowhere,Works,tender,,,2026-02-01,,open\n");
    let page = upload(
        &app,
        "/admin/requests/import",
        multipart_body(&csrf, Some(("log.csv", unknown.as_bytes())), ""),
    )
    .await;
    assert_eq!(page.status(), 422);
    let page = page.text().await.unwrap();
    assert!(page.contains("1 problem(s) in log.csv"), "{page}");
    assert!(page.contains(
        "line 2, column &quot;business_unit&quot;: &#x27;Nowhere&#x27; is not a business unit of the directory"
    ));
    assert_eq!(request_count(&app), 0);

    // A good file: the preview writes nothing; the confirmation writes all of it.
    let mut good = String::from(REQUESTS_HEADER);
    for i in 0..14 {
        good.push_str(&format!(
            "PR-{i:03},{},IT hardware,catalogue,120.50,EUR,2026-01-{:02},2026-03-01,fulfilled\n",
            ["Sales", "Legal"][i % 2],
            i + 1
        ));
    }
    let preview = upload(
        &app,
        "/admin/requests/import",
        multipart_body(&csrf, Some(("log.csv", good.as_bytes())), ""),
    )
    .await;
    assert_eq!(preview.status(), 200);
    let page = preview.text().await.unwrap();
    assert!(page.contains("log.csv is valid: 14 request(s)"), "{page}");
    assert!(page.contains("<p class=\"figure\" id=\"count-new\">14</p>"));
    assert!(page.contains("<p class=\"figure\" id=\"count-updated\">0</p>"));
    assert!(page.contains("<td>PR-000</td>") && page.contains("120.50 EUR"));
    assert!(page.contains("… and 4 more."), "ten rows are shown");
    assert_eq!(request_count(&app), 0, "the preview writes nothing");

    let fields = confirmation_fields(&page);
    let forged_csrf = {
        let mut f = fields.clone();
        f[0].1 = "forged".into();
        f
    };
    assert_eq!(
        post_pairs(&app, "/admin/requests/import/confirm", &forged_csrf)
            .await
            .status(),
        403
    );
    let mut altered = fields.clone();
    altered[1].1 = base64_url(
        format!("{REQUESTS_HEADER}PR-9,Sales,Works,tender,,,2026-02-01,,open\n").as_bytes(),
    );
    let refused = post_pairs(&app, "/admin/requests/import/confirm", &altered).await;
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("does not match the previewed file"));
    // Sealed for the request log: not a KPI values file.
    let refused = post_pairs(&app, "/admin/kpis/import/confirm", &fields).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(request_count(&app), 0);

    let done = post_pairs(&app, "/admin/requests/import/confirm", &fields).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/admin/scorecards");
    let page = app
        .get("/admin/scorecards?period=2026-H1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Requests imported: 14 new, 0 updated, 0 unchanged."),
        "{page}"
    );
    assert_eq!(request_count(&app), 14);

    // Again with one more row and PR-001 now fulfilled on 2 March: 1 new, 1 updated, 13
    // as they were — said so in the preview, and done so.
    good.push_str("PR-900,Sales,Works,tender,,,2026-02-01,,open\n");
    let good = good.replace(
        "PR-001,Legal,IT hardware,catalogue,120.50,EUR,2026-01-02,2026-03-01,fulfilled",
        "PR-001,Legal,IT hardware,catalogue,120.50,EUR,2026-01-02,2026-03-02,fulfilled",
    );
    let page = upload(
        &app,
        "/admin/requests/import",
        multipart_body(&csrf, Some(("log.csv", good.as_bytes())), ""),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("<p class=\"figure\" id=\"count-new\">1</p>"));
    assert!(page.contains("<p class=\"figure\" id=\"count-updated\">1</p>"));
    assert!(page.contains("<p class=\"figure\" id=\"count-unchanged\">13</p>"));
    assert!(page.contains("<td>2</td>\n    <td><span class=\"tag\">unchanged</span></td>"));
    assert!(page.contains("<td>3</td>\n    <td><span class=\"tag\">updated</span></td>"));
    let done = post_pairs(
        &app,
        "/admin/requests/import/confirm",
        &confirmation_fields(&page),
    )
    .await;
    assert_eq!(done.status(), 303);
    let page = app.get("/admin/scorecards").await.text().await.unwrap();
    assert!(
        page.contains("Requests imported: 1 new, 1 updated, 13 unchanged."),
        "{page}"
    );
    assert_eq!(request_count(&app), 15);
    let mut conn = app.pool.get().unwrap();
    let stored = pulse::db::models::requests::stored(&mut conn).unwrap();
    let pr1 = stored.iter().find(|r| r.id == "PR-001").unwrap();
    assert_eq!(pr1.fulfilled_on.unwrap().to_string(), "2026-03-02");
    drop(conn);

    // KPI values: problems, then a preview, then the import.
    let bad = "kpi,period,business_unit,value\ncost_savings,2026-H3,Sales,1\nnps,2026-H1,Sales,x\n";
    let response = upload(&app, "/admin/kpis/import", multipart_body(&csrf, None, bad)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("3 problem(s) in the pasted text"), "{page}");
    assert!(
        page.contains("line 2, column &quot;period&quot;: &#x27;2026-H3&#x27; is not a half-year")
    );
    assert!(page.contains("line 3, column &quot;kpi&quot;: &#x27;nps&#x27; is not a KPI"));
    assert!(page.contains("line 3, column &quot;value&quot;: &#x27;x&#x27; is not a number"));
    let good = "kpi,period,business_unit,value\ncost_savings,2026-H1,Sales,300\ncontract_coverage,2026-H1,Legal,\"74,5\"\n";
    let page = upload(
        &app,
        "/admin/kpis/import",
        multipart_body(&csrf, None, good),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        page.contains("the pasted text is valid: 2 KPI value(s)"),
        "{page}"
    );
    assert!(page.contains("<p class=\"figure\" id=\"count-new\">2</p>"));
    assert!(kpi_rows(&app).is_empty(), "the preview writes nothing");
    let fields = confirmation_fields(&page);
    assert_eq!(
        post_pairs(&app, "/admin/requests/import/confirm", &fields)
            .await
            .status(),
        400,
        "sealed for KPI values: not a request log"
    );
    let done = post_pairs(&app, "/admin/kpis/import/confirm", &fields).await;
    assert_eq!(done.status(), 303);
    let page = app.get("/admin/scorecards").await.text().await.unwrap();
    assert!(page.contains("KPI values imported: 2 new, 0 replacing earlier values."));
    assert_eq!(
        kpi_rows(&app),
        [
            (
                "contract_coverage".into(),
                "2026-H1".into(),
                "Legal".into(),
                74.5
            ),
            (
                "cost_savings".into(),
                "2026-H1".into(),
                "Sales".into(),
                300.0
            ),
        ]
    );
    // A replacement is previewed as one.
    let again = "kpi,period,business_unit,value\ncost_savings,2026-H1,Sales,310\n";
    let page = upload(
        &app,
        "/admin/kpis/import",
        multipart_body(&csrf, None, again),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("<p class=\"figure\" id=\"count-updated\">1</p>"));
    assert!(page.contains("<span class=\"tag\">replaces</span>"));

    // Leads and viewers: refused, before anything is read.
    app.create_user("lead@example.com", Role::Lead);
    assert_eq!(app.login("lead@example.com", PASSWORD).await.status(), 303);
    let home = app.get("/admin").await.text().await.unwrap();
    let lead_csrf = hidden_field(&home, "csrf_token").unwrap();
    for path in [
        "/admin/requests/import",
        "/admin/kpis/import",
        "/admin/kpis/import/sample.csv",
    ] {
        assert_eq!(app.get(path).await.status(), 403, "{path}");
    }
    let refused = upload(
        &app,
        "/admin/requests/import",
        multipart_body(&lead_csrf, None, good),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(request_count(&app), 15);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

both_backends!(requests_and_kpis_are_imported_on_the_admin_pages);
