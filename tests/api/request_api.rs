//! The request API through the real server, on both backends: API keys created on the admin
//! page (CSRF, admins only, shown once) and on the command line, stored only as hashes and
//! refused after revocation; `POST /api/v1/requests` created / updated / unchanged (no
//! write the second time); every bad payload answered with JSON naming its field and
//! reason, storing nothing; JSON for unknown addresses, wrong methods, oversized bodies and
//! wrong content types; the per-key rate limit with Retry-After; and the README's `curl`
//! examples, run as written.

use diesel::prelude::*;
use pulse::domain::Role;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{hidden_field, sign_in, spawn_app, spawn_app_with, text, Backend, TestApp};

/// A directory whose business units are IT and Sales.
fn seed_units(app: &TestApp) {
    let path = app.db.dir.path().join("units.csv");
    std::fs::write(
        &path,
        "email,name,business_unit\nanna@example.com,Anna,IT\nbo@example.com,Bo,Sales\ncy@example.com,Cy,IT\n",
    )
    .unwrap();
    let output = app.cli(&["stakeholders", "import", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// A key made by the service, as the command line makes it.
fn new_key(app: &TestApp, name: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    pulse::auth::api_keys::create(
        &mut conn,
        name,
        "command line",
        chrono::Utc::now().naive_utc(),
    )
    .unwrap()
    .key
}

fn good_request() -> Value {
    json!({
        "request_id": "PR-1", "business_unit": "IT", "requester_email": "anna@example.com",
        "category": "IT hardware", "channel": "catalogue", "value": 1250.5, "currency": "EUR",
        "opened_on": "2027-01-11"
    })
}

async fn post(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/requests"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get(app: &TestApp, key: &str, id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn stored(app: &TestApp, id: &str) -> Option<chrono::NaiveDateTime> {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::requests::find(&mut conn, id)
        .unwrap()
        .map(|(_, written_at)| written_at)
}

fn request_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::requests::count(&mut conn).unwrap()
}

/// Every stored key row: (prefix, key_hash, every column as text joined).
fn key_rows(app: &TestApp) -> Vec<pulse::db::models::api_keys::ApiKeyRow> {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::api_keys::list(&mut conn).unwrap()
}

/// The key is in no column of its row: only its SHA-256 and a 12-character prefix are.
fn assert_not_stored_in_plaintext(app: &TestApp, key: &str) {
    let rows = key_rows(app);
    let row = rows
        .iter()
        .find(|r| key.starts_with(&r.prefix))
        .expect("the key's row");
    assert_eq!(row.prefix.len(), 12);
    assert_ne!(row.key_hash, key);
    assert_eq!(row.key_hash, pulse::auth::tokens::sha256_hex(key));
    let secret = &key[row.prefix.len()..];
    for row in &rows {
        let all = format!("{row:?}");
        assert!(!all.contains(key) && !all.contains(secret), "{all}");
    }
    // Read back with SQL too, every column of the table as text.
    let mut conn = app.pool.get().unwrap();
    let dump: Vec<(String, String, String, String, String)> = pulse::db::schema::api_keys::table
        .select((
            pulse::db::schema::api_keys::id,
            pulse::db::schema::api_keys::name,
            pulse::db::schema::api_keys::prefix,
            pulse::db::schema::api_keys::key_hash,
            pulse::db::schema::api_keys::created_by,
        ))
        .load(&mut *conn)
        .unwrap();
    for columns in dump {
        let joined = format!("{columns:?}");
        assert!(!joined.contains(secret), "{joined}");
    }
}

both_backends!(
    admin_page_creates_shows_once_and_revokes,
    command_line_creates_lists_and_revokes,
    requests_are_created_updated_and_left_unchanged,
    bad_payloads_name_their_field_and_store_nothing,
    keys_are_rate_limited_with_retry_after,
    readme_curl_examples_answer_as_written,
    concurrent_calls_are_each_written_once,
);

async fn admin_page_creates_shows_once_and_revokes(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_units(&app);
    let csrf = app.signed_in_admin().await;

    // Arrange: the page, with its form.
    let page = app.get("/admin/api-keys").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("There are no API keys yet."), "{page}");
    assert!(
        page.contains("href=\"/admin/api-keys\""),
        "the navigation links the page"
    );

    // A form without its CSRF token, or with another, creates nothing.
    let refused = app.post_form("/admin/api-keys", &[("name", "ERP")]).await;
    assert_eq!(refused.status(), 403);
    let refused = app
        .post_form(
            "/admin/api-keys",
            &[("name", "ERP"), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    // A name is needed.
    let empty = app
        .post_form("/admin/api-keys", &[("name", "  "), ("csrf_token", &csrf)])
        .await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("the key needs a name"));
    assert!(key_rows(&app).is_empty());

    // Act: create.
    let created = app
        .post_form(
            "/admin/api-keys",
            &[("name", "SAP Ariba <production>"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(created.status(), 200);
    assert_eq!(
        created.headers()["cache-control"],
        "no-store",
        "the page with the key is not cached"
    );
    let created = created.text().await.unwrap();
    assert!(created.contains("it will not be shown again"), "{created}");
    assert!(created.contains("SAP Ariba &lt;production&gt;"), "escaped");
    let marker = "spellcheck=\"false\">";
    let start = created.find(marker).expect("the key's field") + marker.len();
    let key = created[start..start + created[start..].find('<').unwrap()].to_string();
    assert!(key.starts_with("pulse_") && key.len() == 49, "{key}");

    // Assert: stored hashed; never shown again.
    assert_not_stored_in_plaintext(&app, &key);
    let list = app.get("/admin/api-keys").await.text().await.unwrap();
    assert!(!list.contains(&key), "the list never shows the key");
    assert!(list.contains(&format!("{}…", &key[..12])), "{list}");
    assert!(list.contains("never"), "not used yet");
    assert!(list.contains("admin@example.com"), "who created it");

    // The key works, and its use is recorded.
    let (status, _) = post(&app, &key, &good_request()).await;
    assert_eq!(status, 201);
    assert!(key_rows(&app)[0].last_used_at.is_some());

    // Revoking asks first; the question changes nothing.
    let id = key_rows(&app)[0].id.clone();
    let confirm = app.get(&format!("/admin/api-keys/{id}/revoke")).await;
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains("Revoke the key"), "{confirm}");
    assert!(key_rows(&app)[0].revoked_at.is_none());
    let (status, _) = get(&app, &key, "PR-1").await;
    assert_eq!(status, 200);
    let forged = app
        .post_form(
            &format!("/admin/api-keys/{id}/revoke"),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert!(key_rows(&app)[0].revoked_at.is_none());
    let csrf = hidden_field(&confirm, "csrf_token").unwrap();
    let revoked = app
        .post_form(
            &format!("/admin/api-keys/{id}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    assert!(key_rows(&app)[0].revoked_at.is_some());
    let list = app.get("/admin/api-keys").await.text().await.unwrap();
    assert!(
        list.contains("is revoked: calls with it are refused"),
        "{list}"
    );
    assert!(list.contains("revoked 20"), "{list}");

    // Refused from now on, for reading and writing, and nothing is stored.
    let mut changed = good_request();
    changed["fulfilled_on"] = json!("2027-02-01");
    let (status, body) = post(&app, &key, &changed).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["reason"], "revoked_key", "{body}");
    let (status, body) = get(&app, &key, "PR-1").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["reason"], "revoked_key");
    let mut conn = app.pool.get().unwrap();
    let (request, _) = pulse::db::models::requests::find(&mut conn, "PR-1")
        .unwrap()
        .unwrap();
    assert_eq!(request.status, "open", "the refused update stored nothing");

    // Leads may not see or make keys.
    app.create_user("lead@example.com", Role::Lead);
    let (lead, lead_csrf) = sign_in(&app, "lead@example.com").await;
    let page = lead.get(app.url("/admin/api-keys")).send().await.unwrap();
    assert_eq!(page.status(), 403);
    let made = lead
        .post(app.url("/admin/api-keys"))
        .form(&[("name", "mine"), ("csrf_token", &lead_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 403);
    assert_eq!(key_rows(&app).len(), 1);
}

async fn command_line_creates_lists_and_revokes(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_units(&app);

    let output = app.cli(&["api-key", "create", "Coupa sandbox"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let key = text(&output.stdout).trim().to_string();
    assert!(key.starts_with("pulse_"), "{key}");
    assert!(text(&output.stderr).contains("shown only now"));
    assert_not_stored_in_plaintext(&app, &key);

    let list = app.cli(&["api-key", "list"]);
    let listed = text(&list.stdout);
    assert!(
        listed.contains("Coupa sandbox") && listed.contains("active"),
        "{listed}"
    );
    assert!(
        listed.contains(&key[..12]) && !listed.contains(&key),
        "{listed}"
    );

    let (status, _) = post(&app, &key, &good_request()).await;
    assert_eq!(status, 201);

    let unknown = app.cli(&["api-key", "revoke", "pulse_nothing"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no API key has the id or prefix"));

    let revoked = app.cli(&["api-key", "revoke", &key[..12]]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&revoked.stdout).contains("refused from now on"));
    assert!(text(&app.cli(&["api-key", "list"]).stdout).contains("revoked"));

    let (status, body) = post(&app, &key, &good_request()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["reason"], "revoked_key");
    // Another key still works.
    let other = new_key(&app, "other");
    let (status, body) = get(&app, &other, "PR-1").await;
    assert_eq!(status, 200, "{body}");
}

async fn requests_are_created_updated_and_left_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_units(&app);
    let key = new_key(&app, "ERP");

    // Created.
    let (status, body) = post(&app, &key, &good_request()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["outcome"], "created");
    assert_eq!(body["request"]["request_id"], "PR-1");
    assert_eq!(body["request"]["status"], "open");
    assert_eq!(body["request"]["currency"], "EUR");
    let first_write = stored(&app, "PR-1").expect("stored");

    // The same request again: nothing changes, not even the time of the last write.
    let (status, body) = post(&app, &key, &good_request()).await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"], "unchanged");
    assert_eq!(stored(&app, "PR-1"), Some(first_write));
    // Written as the CSV would be (lower-case currency, id as a number) it is the same.
    let mut same = good_request();
    same["currency"] = json!("eur");
    same["status"] = json!("open");
    let (_, body) = post(&app, &key, &same).await;
    assert_eq!(body["outcome"], "unchanged");
    assert_eq!(stored(&app, "PR-1"), Some(first_write));

    // Fulfilled: updated.
    let mut fulfilled = good_request();
    fulfilled["fulfilled_on"] = json!("2027-02-01");
    let (status, body) = post(&app, &key, &fulfilled).await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"], "updated");
    assert_eq!(body["request"]["status"], "fulfilled");
    let (status, again) = post(&app, &key, &fulfilled).await;
    assert_eq!(
        (status, again["outcome"].as_str()),
        (200, Some("unchanged"))
    );
    assert_eq!(request_count(&app), 1);

    // GET shows what is stored and changes nothing.
    let before = stored(&app, "PR-1");
    let (status, body) = get(&app, &key, "PR-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["request"]["fulfilled_on"], "2027-02-01");
    assert_eq!(body["request"]["value"], 1250.5);
    assert_eq!(stored(&app, "PR-1"), before);
    let (status, body) = get(&app, &key, "PR-404").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["field"], "request_id");
    assert_eq!(body["error"]["reason"], "not_found");

    // A numeric id is read as its text.
    let mut numeric = good_request();
    numeric["request_id"] = json!(42);
    let (status, body) = post(&app, &key, &numeric).await;
    assert_eq!(status, 201);
    assert_eq!(body["request"]["request_id"], "42");
    // The request log the scorecards read has both.
    assert_eq!(request_count(&app), 2);
}

async fn bad_payloads_name_their_field_and_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_units(&app);
    let key = new_key(&app, "ERP");
    let with = |changes: Value| {
        let mut body = good_request();
        for (field, value) in changes.as_object().unwrap() {
            if value == &json!("<absent>") {
                body.as_object_mut().unwrap().remove(field);
            } else {
                body[field] = value.clone();
            }
        }
        body
    };
    // (body, status, field, reason, words in the message)
    let cases = [
        (with(json!({"business_unit": "Marketing"})), 422, "business_unit", "unknown_business_unit", "'Marketing' is not a business unit of the directory (the directory's business units are IT, Sales)"),
        (with(json!({"opened_on": "2027-02-30"})), 422, "opened_on", "not_a_date", "is not a date: write it as YYYY-MM-DD"),
        (with(json!({"opened_on": "11.01.2027"})), 422, "opened_on", "not_a_date", "'11.01.2027' is not a date"),
        (with(json!({"fulfilled_on": "2027-01-01"})), 422, "fulfilled_on", "before_opened_on", "2027-01-01 is before the opening date 2027-01-11"),
        (with(json!({"category": "<absent>"})), 422, "category", "missing", "the category is missing"),
        (with(json!({"opened_on": null})), 422, "opened_on", "missing", "the opened_on is missing"),
        (with(json!({"channel": ""})), 422, "channel", "empty", "the channel is empty"),
        (with(json!({"fulfiled_on": "2027-02-01"})), 422, "fulfiled_on", "unknown_field", "'fulfiled_on' is not a field of a request"),
        (with(json!({"value": "12x"})), 422, "value", "not_a_number", "'12x' is not a number"),
        (with(json!({"value": true})), 422, "value", "wrong_type", "the value must be a number"),
        (with(json!({"currency": "<absent>"})), 422, "currency", "missing_currency", "a value needs its currency"),
        (with(json!({"requester_email": "anna@"})), 422, "requester_email", "not_an_email", "not a valid email address"),
        (with(json!({"status": "shipped"})), 422, "status", "not_a_status", "'shipped' is not a status"),
        (with(json!({"status": "fulfilled"})), 422, "fulfilled_on", "missing_fulfilled_on", "fulfilled but has no fulfilment date"),
        (with(json!({"status": "open", "fulfilled_on": "2027-02-01"})), 422, "status", "open_with_fulfilled_on", "the request is open but has a fulfilment date"),
        (json!([good_request()]), 422, "", "not_an_object", "the body must be one JSON object"),
    ];
    for (body, status, field, reason, words) in cases {
        let (got, answer) = post(&app, &key, &body).await;
        assert_eq!(got, status, "{body} → {answer}");
        let error = &answer["error"];
        let expected_field = if field.is_empty() {
            Value::Null
        } else {
            json!(field)
        };
        assert_eq!(error["field"], expected_field, "{answer}");
        assert_eq!(error["reason"], reason, "{answer}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
        assert_eq!(error["problems"][0]["field"], expected_field);
        assert_eq!(request_count(&app), 0, "{body} stored nothing");
    }
    // Several problems at once: every one, in field order.
    let (_, answer) = post(
        &app,
        &key,
        &with(json!({"request_id": "", "opened_on": "2027-13-01", "colour": "red"})),
    )
    .await;
    let problems: Vec<(&str, &str)> = answer["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["field"].as_str().unwrap(), p["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [
            ("colour", "unknown_field"),
            ("request_id", "empty"),
            ("opened_on", "not_a_date")
        ]
    );

    let client = reqwest::Client::new();
    let raw = |body: &'static str, content_type: &'static str| {
        client
            .post(app.url("/api/v1/requests"))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
    };
    // Not JSON, no body, the wrong content type, too large.
    for (request, status, reason) in [
        (
            raw("{\"request_id\": ", "application/json"),
            400,
            "not_json",
        ),
        (raw("", "application/json"), 400, "empty_body"),
        (
            raw("request_id=PR-1", "application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
        ),
        (raw("{}", "text/plain"), 415, "unsupported_media_type"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["reason"], reason, "{answer}");
        assert_eq!(answer["error"]["field"], Value::Null);
    }
    let mut big = good_request();
    big["category"] = json!("x".repeat(70 * 1024));
    let response = client
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&key)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["reason"], "too_large");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("64 KiB"));

    // No key, a wrong one, a key of the wrong scheme.
    for (authorization, reason) in [
        (None, "missing_key"),
        (Some("Bearer pulse_notakeyatall".to_string()), "unknown_key"),
        (Some("Bearer nonsense".to_string()), "unknown_key"),
        (Some(format!("Basic {key}")), "missing_key"),
    ] {
        let mut request = client
            .post(app.url("/api/v1/requests"))
            .json(&good_request());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["reason"], reason);
    }

    // Unknown addresses and methods answer JSON too, even to a browser asking for HTML.
    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.status(), 404);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["reason"], "not_found");
    let response = app
        .client
        .put(app.url("/api/v1/requests"))
        .bearer_auth(&key)
        .json(&good_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["reason"], "method_not_allowed");

    assert_eq!(request_count(&app), 0, "no bad call stored anything");
}

async fn keys_are_rate_limited_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.api_requests_per_minute = 3).await;
    seed_units(&app);
    let key = new_key(&app, "ERP");
    let other = new_key(&app, "other");
    for _ in 0..3 {
        let (status, _) = get(&app, &key, "PR-1").await;
        assert_eq!(status, 404);
    }
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&key)
        .json(&good_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["reason"], "rate_limited");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("wait {wait} s")));
    assert_eq!(request_count(&app), 0, "the refused call stored nothing");
    // Each key has its own budget.
    let (status, _) = post(&app, &other, &good_request()).await;
    assert_eq!(status, 201);
}

/// The `curl` commands of the README's "Request API" section, each followed by a `text`
/// block with its expected output: the JSON body, then the status that `-w` prints.
fn readme_examples() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("\n## Request API")
        .expect("a Request API section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(language) = line.strip_prefix("```") {
            if language.is_empty() {
                continue;
            }
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((language.to_string(), body.join("\n")));
        }
    }
    let mut examples = Vec::new();
    for pair in blocks.windows(2) {
        if pair[0].0 == "sh" && pair[0].1.starts_with("curl ") && pair[1].0 == "text" {
            examples.push((pair[0].1.clone(), pair[1].1.clone()));
        }
    }
    examples
}

/// `updated_at` is when the test ran, not the README's example time.
fn without_times(mut value: Value) -> Value {
    if let Some(request) = value.get_mut("request").and_then(Value::as_object_mut) {
        request.insert("updated_at".into(), json!("…"));
    }
    value
}

async fn readme_curl_examples_answer_as_written(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_units(&app);
    let key = new_key(&app, "README");
    let examples = readme_examples();
    assert!(examples.len() >= 6, "{examples:?}");
    for (command, expected) in examples {
        let (address, key) = (app.address.clone(), key.clone());
        let run = command.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(&run)
                .env("PULSE_URL", &address)
                .env("PULSE_API_KEY", &key)
                .output()
                .expect("sh runs curl")
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "{command}: {}",
            text(&output.stderr)
        );
        let got = text(&output.stdout);
        let (got_body, got_status) = got.trim_end().rsplit_once('\n').expect("body and status");
        let (want_body, want_status) = expected.trim_end().rsplit_once('\n').unwrap();
        assert_eq!(got_status, want_status, "{command}\n{got}");
        let got_json: Value = serde_json::from_str(got_body).unwrap();
        let want_json: Value = serde_json::from_str(want_body)
            .unwrap_or_else(|e| panic!("the README's answer is not JSON ({e}): {want_body}"));
        assert_eq!(
            without_times(got_json),
            without_times(want_json),
            "{command}"
        );
    }
    // What the examples left: PR-1042, fulfilled; the refused PR-1043 is not stored.
    assert_eq!(request_count(&app), 1);
}

/// Calls at the same time are written in groups: each is answered with its own outcome,
/// and the same request sent ten times at once is created once and unchanged nine times.
async fn concurrent_calls_are_each_written_once(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_units(&app);
    let key = new_key(&app, "ERP");
    let mut calls = Vec::new();
    for i in 0..40 {
        let mut body = good_request();
        body["request_id"] = json!(format!("PR-{i}"));
        body["business_unit"] = json!(if i % 2 == 0 { "IT" } else { "Sales" });
        calls.push(body);
    }
    for _ in 0..10 {
        let mut body = good_request();
        body["request_id"] = json!("PR-same");
        calls.push(body);
    }
    let answers =
        futures_util::future::join_all(calls.iter().map(|body| post(&app, &key, body))).await;
    let outcome = |id: &str| -> Vec<(u16, String)> {
        answers
            .iter()
            .filter(|(_, a)| a["request"]["request_id"] == id)
            .map(|(s, a)| (*s, a["outcome"].as_str().unwrap().to_string()))
            .collect()
    };
    for i in 0..40 {
        assert_eq!(outcome(&format!("PR-{i}")), [(201, "created".to_string())]);
    }
    let mut same = outcome("PR-same");
    same.sort();
    let mut expected = vec![(200, "unchanged".to_string()); 9];
    expected.push((201, "created".to_string()));
    expected.sort();
    assert_eq!(same, expected);
    assert_eq!(request_count(&app), 41);
}
