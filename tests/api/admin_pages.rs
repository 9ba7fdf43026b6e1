//! The administration pages over real HTTP: the stakeholder directory (search, filters,
//! CSV import with preview, every problem, all-or-nothing confirmation), accounts (add,
//! role, deactivate, self-protection) and survey previews (exactly the respondent form,
//! storing nothing).

use pulse::db::models::{responses, stakeholders, users};
use pulse::domain::Role;

use crate::both_backends;
use crate::helpers::{hidden_field, spawn_app, Backend, TestApp, PASSWORD};

const BOUNDARY: &str = "----pulse-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body as a browser sends it for the import form.
fn multipart_body(
    csrf: &str,
    file: Option<(&str, &[u8])>,
    text: &str,
    deactivate: bool,
) -> Vec<u8> {
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
    if deactivate {
        part(
            "Content-Disposition: form-data; name=\"deactivate_missing\"".into(),
            b"on",
        );
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/admin/stakeholders/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("request")
}

/// The hidden fields of the preview's confirmation form, with `csrf_token` first.
fn confirmation_fields(page: &str) -> Vec<(String, String)> {
    [
        "csrf_token",
        "content",
        "issued_at",
        "deactivate_missing",
        "seal",
    ]
    .iter()
    .map(|name| {
        let value = hidden_field(page, name)
            .unwrap_or_else(|| panic!("no {name} on the preview page"))
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

fn stakeholder_emails(app: &TestApp) -> Vec<String> {
    let mut conn = app.pool.get().unwrap();
    stakeholders::load_all(&mut conn)
        .unwrap()
        .into_iter()
        .map(|s| s.email)
        .collect()
}

async fn search_and_filter_return_the_right_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    // person{i}: business units Manufacturing, R&D, Sales by i % 3; regions EMEA, Americas by i % 2.
    app.seed_stakeholders(120);
    app.signed_in_admin().await;

    let page = app.get("/admin/stakeholders").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("120 active of 120"), "{html}");
    assert!(html.contains("120 matching · page 1 of 3"));
    assert!(
        html.contains("<option value=\"R&amp;D\">R&amp;D</option>"),
        "a select offers every value of an attribute"
    );

    // Search by email or name substring.
    let html = app
        .get("/admin/stakeholders?q=PERSON11")
        .await
        .text()
        .await
        .unwrap();
    // person11, person110..person119
    assert!(html.contains("11 matching"), "{html}");
    assert!(html.contains("person110@example.com") && !html.contains("person12@example.com"));

    // The audience syntax, URL-encoded as a browser would.
    let html = app
        .get("/admin/stakeholders?filter=business_unit%3DR%26D%3Bregion%3DEMEA")
        .await
        .text()
        .await
        .unwrap();
    // i % 3 == 1 and i % 2 == 0: i ≡ 4 (mod 6), 4..=118 → 20 people
    assert!(html.contains("20 matching · page 1 of 1"), "{html}");
    assert!(html.contains("person4@example.com") && !html.contains("person1@example.com<"));

    // A per-attribute select gives the same rows; combined with the text search.
    let html = app
        .get("/admin/stakeholders?a.business_unit=R%26D&a.region=EMEA&q=person10")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("3 matching"),
        "person10, person100, person106: {html}"
    );

    // Pages: the third page holds the last 20, with a link back keeping the search.
    let html = app
        .get("/admin/stakeholders?page=3")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("page 3 of 3"));
    assert!(
        html.contains("href=\"/admin/stakeholders?page&#x3D;2\""),
        "{html}"
    );

    // A wrong filter says what is wrong, and lists nobody.
    let bad = app.get("/admin/stakeholders?filter=region").await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"filter-error\"") && !html.contains("matching ·"));

    // Inactive people appear only when asked for.
    {
        let mut conn = app.pool.get().unwrap();
        let row = stakeholders::find_by_email(&mut conn, "person7@example.com")
            .unwrap()
            .unwrap();
        stakeholders::deactivate_many(
            &mut conn,
            &[row.id.as_str()],
            chrono::Utc::now().naive_utc(),
        )
        .unwrap();
    }
    let html = app
        .get("/admin/stakeholders?q=person7")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("person7@example.com"));
    let html = app
        .get("/admin/stakeholders?q=person7&state=inactive")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("person7@example.com") && html.contains("1 matching"));
}

async fn an_import_is_previewed_then_confirmed_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let csrf = app.signed_in_admin().await;
    let form = app
        .get("/admin/stakeholders/import")
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("enctype=\"multipart/form-data\""));
    let sample = app.get("/admin/stakeholders/import/sample.csv").await;
    assert_eq!(sample.status(), 200);
    assert!(sample.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("stakeholders-sample.csv"));
    let sample = sample.bytes().await.unwrap();
    let parsed = pulse::services::stakeholders::parse_csv(&sample).expect("the sample imports");
    assert_eq!(parsed.len(), 4);

    // person0 updated (new name), person1 unchanged, 12 new; person2 not in the file.
    let mut csv = String::from("email;name;business_unit;region\r\n");
    csv.push_str("person0@example.com;\"Berg, Anna\";Manufacturing;EMEA\r\n");
    csv.push_str("person1@example.com;Person 1;R&D;Americas\r\n");
    for i in 0..12 {
        csv.push_str(&format!("new{i}@example.com;New <b>{i}</b>;Sales;APAC\r\n"));
    }
    let preview = upload(
        &app,
        multipart_body(&csrf, Some(("people.csv", csv.as_bytes())), "", true),
    )
    .await;
    assert_eq!(preview.status(), 200);
    let page = preview.text().await.unwrap();
    assert!(
        page.contains("people.csv is valid: 14 stakeholder(s)"),
        "{page}"
    );
    assert!(page.contains("<p class=\"figure\" id=\"count-created\">12</p>"));
    assert!(page.contains("<p class=\"figure\" id=\"count-updated\">1</p>"));
    assert!(page.contains("<p class=\"figure\" id=\"count-unchanged\">1</p>"));
    assert!(page.contains("<p class=\"figure\" id=\"count-deactivated\">1</p>"));
    assert!(page.contains("Berg, Anna") && page.contains("<span class=\"tag\">updated</span>"));
    assert!(
        page.contains("Business unit: Sales"),
        "attributes as people read them"
    );
    assert!(
        page.contains("New &lt;b&gt;0&lt;/b&gt;"),
        "cells are escaped"
    );
    assert!(page.contains("… and 4 more."), "ten rows are shown");
    assert!(
        page.contains("<strong>APAC</strong> is new for Region, in 12 row(s): the directory has Americas, EMEA."),
        "a new value of a short list is flagged: {page}"
    );
    assert!(page.contains("1 active stakeholder(s) are not in the file and will be deactivated"));
    assert!(
        !page.contains("new9@example.com"),
        "only the first ten rows"
    );
    assert_eq!(
        stakeholder_emails(&app).len(),
        3,
        "the preview writes nothing"
    );

    let fields = confirmation_fields(&page);
    // A confirmation without the CSRF token, or with an altered file, is refused.
    let refused = post_pairs(&app, "/admin/stakeholders/import/confirm", &fields[1..]).await;
    assert_eq!(
        refused.status(),
        403,
        "no csrf_token field at all: the same \"expired\" answer as a wrong token"
    );
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("This form has expired"));
    let mut forged = fields.clone();
    forged[0].1 = "forged".into();
    let refused = post_pairs(&app, "/admin/stakeholders/import/confirm", &forged).await;
    assert_eq!(refused.status(), 403);
    let mut altered = fields.clone();
    altered[3].1 = "false".into();
    let refused = post_pairs(&app, "/admin/stakeholders/import/confirm", &altered).await;
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("does not match the previewed file"));
    assert_eq!(stakeholder_emails(&app).len(), 3);

    let done = post_pairs(&app, "/admin/stakeholders/import/confirm", &fields).await;
    assert_eq!(done.status(), 303, "then the directory, with a message");
    assert_eq!(done.headers()["location"], "/admin/stakeholders");
    let page = app.get("/admin/stakeholders").await.text().await.unwrap();
    assert!(
        page.contains(
            "Import done: created 12, updated 1, unchanged 1, reactivated 0, deactivated 1."
        ),
        "{page}"
    );
    let mut conn = app.pool.get().unwrap();
    let all = stakeholders::load_all(&mut conn).unwrap();
    assert_eq!(all.len(), 15);
    let anna = all
        .iter()
        .find(|s| s.email == "person0@example.com")
        .unwrap();
    assert_eq!(anna.name.as_deref(), Some("Berg, Anna"));
    let gone = all
        .iter()
        .find(|s| s.email == "person2@example.com")
        .unwrap();
    assert!(!gone.active, "deactivated: not in the file");
}

async fn a_bad_file_shows_every_problem_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(2);
    let csrf = app.signed_in_admin().await;
    // Pasted text this time: three bad rows among good ones.
    let csv = "email,name,language\n\
               good@example.com,Good,en\n\
               anna@,Anna,en\n\
               bob@example.com,Bob,klingon-xx-1\n\
               good@example.com,Again,de\n";
    let response = upload(&app, multipart_body(&csrf, None, csv, false)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("3 problem(s) in the pasted text"), "{page}");
    assert!(page.contains("line 3, column &quot;email&quot;"), "{page}");
    assert!(page.contains("line 4, column &quot;language&quot;"));
    assert!(page.contains("line 5, column &quot;email&quot;"));
    assert!(
        !page.contains("name=\"seal\""),
        "no way to confirm a bad file"
    );
    assert!(
        page.contains("bob@example.com,Bob,klingon-xx-1"),
        "the pasted text is kept for the correction"
    );
    assert_eq!(stakeholder_emails(&app).len(), 2);

    // Neither file nor text: the form again, with a message.
    let empty = upload(&app, multipart_body(&csrf, None, "", false)).await;
    assert_eq!(empty.status(), 422);
    // Without the right CSRF token the upload is refused before it is read.
    let forged = upload(&app, multipart_body("forged", None, csv, false)).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(stakeholder_emails(&app).len(), 2);
}

async fn leads_cannot_reach_the_directory_or_the_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("lead@example.com", Role::Lead);
    assert_eq!(app.login("lead@example.com", PASSWORD).await.status(), 303);
    let home = app.get("/admin").await.text().await.unwrap();
    let csrf = hidden_field(&home, "csrf_token").unwrap();
    assert!(home.contains("href=\"/admin/surveys\""));
    assert!(
        !home.contains("href=\"/admin/stakeholders\""),
        "admin links are hidden"
    );
    for path in [
        "/admin/stakeholders",
        "/admin/stakeholders/import",
        "/admin/users",
    ] {
        assert_eq!(app.get(path).await.status(), 403, "{path}");
    }
    let refused = upload(
        &app,
        multipart_body(&csrf, None, "email\na@example.com\n", false),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let refused = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "x@example.com"),
                ("role", "admin"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(stakeholder_emails(&app).len(), 0);
    // Survey definitions and previews are readable by leads.
    assert_eq!(app.get("/admin/surveys").await.status(), 200);
    assert_eq!(
        app.get("/admin/surveys/internal-customer/preview")
            .await
            .status(),
        200
    );
}

fn user_id(app: &TestApp, email: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    users::find_by_email(&mut conn, email).unwrap().unwrap().id
}

async fn admins_add_accounts_change_roles_and_deactivate_but_not_themselves(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in_admin().await;
    let page = app.get("/admin/users").await.text().await.unwrap();
    assert!(page.contains("admin@example.com <span class=\"tag\">you</span>"));

    // Every wrong field is explained; nothing is stored.
    let bad = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "not-an-email"),
                ("role", "owner"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    for field in ["email", "role", "password"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field}: {html}"
        );
    }
    assert!(
        html.contains("value=\"not-an-email\""),
        "the typed email is kept"
    );
    let taken = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "admin@example.com"),
                ("role", "lead"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(taken.text().await.unwrap().contains("already exists"));

    // A chosen password: back to the list. A generated one: shown once, and it works.
    let added = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "lead@example.com"),
                ("role", "lead"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let added = app
        .post_form(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("email", "second@example.com"),
                ("role", "admin"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(added.status(), 200);
    let html = added.text().await.unwrap();
    let marker = "<code id=\"generated-password\">";
    let start = html.find(marker).unwrap() + marker.len();
    let generated = &html[start..start + html[start..].find('<').unwrap()];
    assert_eq!(generated.len(), 43, "256 random bits");
    let other = Browser::new(&app);
    assert_eq!(
        other.login("second@example.com", generated).await.status(),
        303
    );
    assert!(
        !app.get("/admin/users")
            .await
            .text()
            .await
            .unwrap()
            .contains(generated),
        "shown once"
    );

    // Role changes and deactivation need the CSRF token.
    let lead = user_id(&app, "lead@example.com");
    let forged = app
        .post_form(
            &format!("/admin/users/{lead}/role"),
            &[("csrf_token", "forged"), ("role", "admin")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let promoted = app
        .post_form(
            &format!("/admin/users/{lead}/role"),
            &[("csrf_token", &csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(promoted.status(), 303);
    let deactivated = app
        .post_form(
            &format!("/admin/users/{lead}/active"),
            &[("csrf_token", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(deactivated.status(), 303);
    {
        let mut conn = app.pool.get().unwrap();
        let row = users::find(&mut conn, &lead).unwrap().unwrap();
        assert_eq!((row.role.as_str(), row.active), ("admin", false));
    }
    assert_eq!(app.login("lead@example.com", PASSWORD).await.status(), 401);

    // Nobody demotes or deactivates their own account.
    let me = user_id(&app, "admin@example.com");
    let refused = app
        .post_form(
            &format!("/admin/users/{me}/role"),
            &[("csrf_token", &csrf), ("role", "lead")],
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("your own account"));
    let refused = app
        .post_form(
            &format!("/admin/users/{me}/active"),
            &[("csrf_token", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(refused.status(), 409);

    // The last active admin stays: with `second` deactivated, `admin` is the last one, and
    // `second` (signed in elsewhere) cannot demote it.
    let second = user_id(&app, "second@example.com");
    let page = other.get("/admin/users").await.text().await.unwrap();
    let second_csrf = hidden_field(&page, "csrf_token").unwrap();
    let demoted = other
        .post_form(
            &format!("/admin/users/{me}/role"),
            &[("csrf_token", &second_csrf), ("role", "lead")],
        )
        .await;
    assert_eq!(
        demoted.status(),
        303,
        "two active admins: one may be demoted"
    );
    let restored = other
        .post_form(
            &format!("/admin/users/{me}/role"),
            &[("csrf_token", &second_csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(restored.status(), 303);
    let gone = app
        .post_form(
            &format!("/admin/users/{second}/active"),
            &[("csrf_token", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(gone.status(), 303);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        users::lock_active_admins(&mut conn).unwrap(),
        vec![me.clone()]
    );
}

/// A second browser on the same server.
struct Browser {
    client: reqwest::Client,
    address: String,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: crate::helpers::new_client(),
            address: app.address.clone(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap();
        let csrf = hidden_field(&page, "csrf_token").unwrap();
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", "/admin"),
            ],
        )
        .await
    }
}

async fn the_survey_preview_is_the_respondent_form_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in_admin().await;
    let list = app.get("/admin/surveys").await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(html.contains("internal-customer") && html.contains("pulse-check"));
    assert!(html.contains("<td>en, de</td>"), "{html}");
    assert!(html.contains("href=\"/admin/surveys/internal-customer/preview?version&#x3D;2\""));
    assert!(
        html.contains("<td>loaded</td>"),
        "the folder's files are loaded"
    );

    let en = app
        .get("/admin/surveys/internal-customer/preview?version=2")
        .await;
    assert_eq!(en.status(), 200);
    let en = en.text().await.unwrap();
    assert!(en.contains("Preview — answers are not stored."));
    assert!(en.contains("How likely are you to recommend working with Procurement to a colleague?"));
    assert!(
        en.contains("<body class=\"respondent\">"),
        "the respondent layout"
    );
    assert!(
        !en.contains("aria-label=\"Main\""),
        "no admin navigation inside the form"
    );
    let de = app
        .get("/admin/surveys/internal-customer/preview?version=2&lang=de")
        .await
        .text()
        .await
        .unwrap();
    assert!(de.contains("<html lang=\"de\">"));
    assert!(de.contains("Wie wahrscheinlich ist es, dass Sie die Zusammenarbeit mit dem Einkauf"));

    // The same form a respondent gets, but for the banner and the hidden CSRF field.
    let token = crate::respondent::survey_tokens(&app.db, 1).remove(0);
    let respondent = crate::helpers::new_client()
        .get(app.url(&format!("/s/{token}")))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let questions = |page: &str| {
        let start = page.find("<form class=\"survey-form\"").unwrap();
        let body = &page[start..];
        let body = &body[body.find('>').unwrap() + 1..];
        body.lines()
            .filter(|line| !line.contains("name=\"csrf_token\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let respondent_lang = if respondent.contains("<html lang=\"de\">") {
        "de"
    } else {
        "en"
    };
    let preview_same_lang = app
        .get(&format!(
            "/admin/surveys/internal-customer/preview?version=2&lang={respondent_lang}"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(questions(&preview_same_lang), questions(&respondent));

    // Submitting validates like the real form and stores nothing.
    let mut conn = app.pool.get().unwrap();
    let wave = pulse::db::models::waves::list(&mut conn)
        .unwrap()
        .remove(0)
        .0
        .id;
    assert_eq!(responses::count_for_wave(&mut conn, &wave).unwrap(), 0);
    let action = "/admin/surveys/internal-customer/preview?version=2&lang=en";
    let empty = app.post_form(action, &[("csrf_token", &csrf)]).await;
    assert_eq!(empty.status(), 422);
    let html = empty.text().await.unwrap();
    assert!(
        html.contains("class=\"error-summary\"")
            && html.contains("Preview — answers are not stored.")
    );
    let mut answers = crate::respondent::valid_answers("Looks good");
    answers.push(("csrf_token".into(), csrf.clone()));
    let valid = app
        .client
        .post(app.url(action))
        .form(&answers)
        .send()
        .await
        .unwrap();
    assert_eq!(valid.status(), 200);
    assert!(valid
        .text()
        .await
        .unwrap()
        .contains("These answers are valid"));
    let forged = app.post_form(action, &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(responses::count_for_wave(&mut conn, &wave).unwrap(), 0);
    let invitations = pulse::db::models::invitations::ids_of_wave(&mut conn, &wave).unwrap();
    assert_eq!(invitations.len(), 1);
    assert_eq!(
        app.get("/admin/surveys/no-such-survey/preview")
            .await
            .status(),
        404
    );
}

both_backends!(
    search_and_filter_return_the_right_rows,
    an_import_is_previewed_then_confirmed_all_or_nothing,
    a_bad_file_shows_every_problem_and_writes_nothing,
    leads_cannot_reach_the_directory_or_the_accounts,
    admins_add_accounts_change_roles_and_deactivate_but_not_themselves,
    the_survey_preview_is_the_respondent_form_and_stores_nothing,
);
