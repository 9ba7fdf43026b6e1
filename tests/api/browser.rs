//! A real browser: headless Chromium (Debian's `chromium` + `chromium-driver`, driven over
//! WebDriver with fantoccini) follows the link from an invitation delivered to the test
//! SMTP server, answers by keyboard and click, submits, sees the thank-you page; then
//! submits an empty form and sees the field errors with focus on the error summary.
//! Screenshots of the form at 390 px and 1280 px go to `target/screenshots/`.
//!
//! Without chromedriver on the PATH the test is skipped with a message — except under CI
//! (`CI` set), where `.ci/run` installs it and a missing driver is a failure.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use pulse::clock::ManualClock;
use pulse::outbox::{Outbox, OutboxConfig};

use crate::helpers::{spawn_app, survey_link, Backend};
use crate::smtp_server::SmtpServer;

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and a headless Chromium session, or `None` when not installed.
pub(crate) async fn browser(profile: &std::path::Path) -> Option<(Driver, Client)> {
    let port = free_port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromedriver is missing under CI: {error}"
            );
            eprintln!("skipped: chromedriver is not installed ({error}); apt-get install chromium chromium-driver");
            return None;
        }
    };
    let driver = Driver(child);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()),
        ]}),
    );
    for _ in 0..50 {
        if let Ok(client) = ClientBuilder::native()
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not accept a session");
}

pub(crate) async fn screenshot(client: &Client, width: u32, name: &str) {
    screenshot_sized(client, width, 1000, name).await;
}

/// A screenshot of a `width` × `height` window (`target/screenshots/NAME`); tall enough
/// for the whole page when `height` is.
pub(crate) async fn screenshot_sized(client: &Client, width: u32, height: u32, name: &str) {
    client
        .set_window_size(width, height)
        .await
        .unwrap_or_else(|e| panic!("resizing the window for {name}: {e}"));
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("taking the screenshot {name}: {e}"));
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stakeholder_answers_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };

    let app = spawn_app(Backend::Sqlite).await;
    app.seed_stakeholders(2);
    app.schedule_wave_now("H1 2027");
    crate::waves::tick(&app, chrono::Utc::now().naive_utc());
    let smtp = SmtpServer::start().await;
    let outbox = Outbox::new(
        app.pool.clone(),
        Arc::new(crate::helpers::smtp_mailer(&smtp.url(), 5)),
        app.secret_key(),
        &app.address,
        Arc::new(ManualClock::new(chrono::Utc::now().naive_utc())),
        OutboxConfig::default(),
    );
    assert_eq!(outbox.drain().await.unwrap().sent, 2);
    let links: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| survey_link(&m.text_body().unwrap()).expect("a link"))
        .collect();

    // The form, on a phone and on a desktop.
    client.goto(&links[0]).await.unwrap();
    assert!(client
        .source()
        .await
        .unwrap()
        .contains("How likely are you to recommend"));
    screenshot(&client, 390, "survey-form-390.png").await;
    screenshot(&client, 1280, "survey-form-1280.png").await;

    // NPS by click.
    client
        .find(Locator::Id("q-recommend-9"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Each Likert statement by keyboard: focus the first point, arrow right to "4".
    for key in [
        "understanding_needs",
        "alignment",
        "communication",
        "responsiveness",
        "ease",
        "policy_clarity",
        "partnership",
    ] {
        let first = client.find(Locator::Id(&format!("q-{key}"))).await.unwrap();
        first.click().await.unwrap();
        for _ in 0..3 {
            client
                .active_element()
                .await
                .unwrap()
                .send_keys(&Key::Right.to_string())
                .await
                .unwrap();
        }
    }
    // Pain points: one by click, one by Space on the focused box.
    client
        .find(Locator::Id("q-pain_points-o-approval_delays"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let slow = client
        .find(Locator::Css(
            "input[name='pain_points'][value='slow_sourcing']",
        ))
        .await
        .unwrap();
    slow.send_keys(&Key::Space.to_string()).await.unwrap();
    client
        .find(Locator::Css("input[name='frequency'][value='monthly']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("textarea[name='comment']"))
        .await
        .unwrap()
        .send_keys("Typed in a real browser.")
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The click returns before the navigation finishes: wait for the next page.
    let mut url = client.current_url().await.unwrap();
    for _ in 0..100 {
        if url.path() == "/thanks" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        url = client.current_url().await.unwrap();
    }
    if url.path() != "/thanks" {
        screenshot(&client, 1280, "survey-form-unexpected.png").await;
        let summary = client
            .find(Locator::Css(".error-summary"))
            .await
            .map(|_| "has error summary")
            .unwrap_or("no summary");
        panic!("not thanked: {url} ({summary})");
    }
    assert!(client.source().await.unwrap().contains("Thank you"));
    let mut conn = app.pool.get().unwrap();
    let wave_id = pulse::db::models::waves::list(&mut conn).unwrap()[0]
        .0
        .id
        .clone();
    let counts = pulse::db::models::responses::counts_for_wave(&mut conn, &wave_id).unwrap();
    let count = |key: &str, value: &str| {
        counts
            .iter()
            .filter(|c| c.question_key == key && c.value == value)
            .map(|c| c.n)
            .sum::<i64>()
    };
    assert_eq!(count("recommend", "9"), 1);
    assert_eq!(
        count("understanding_needs", "4"),
        1,
        "the arrow keys chose 4"
    );
    assert_eq!(
        count("pain_points", "slow_sourcing"),
        1,
        "Space ticked the box"
    );
    let comments =
        pulse::db::models::responses::text_answers(&mut conn, &wave_id, "comment").unwrap();
    assert_eq!(comments[0].2, "Typed in a real browser.");

    // An empty submit: errors per field, focus on the summary.
    client.goto(&links[1]).await.unwrap();
    click_and_wait(
        &client,
        "button[type='submit']",
        Locator::Css(".error-summary"),
    )
    .await;
    let source = client.source().await.unwrap();
    assert!(
        source.contains("q-recommend-error"),
        "the NPS question has its error"
    );
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("class").await.unwrap().as_deref(),
        Some("error-summary"),
        "focus moved to the errors"
    );
    screenshot(&client, 390, "survey-form-errors-390.png").await;
    client.close().await.unwrap();
}

/// Clicks the button `button` (CSS) and waits up to 10 s for `landmark` on the next page.
pub(crate) async fn click_and_wait(client: &Client, button: &str, landmark: Locator<'_>) {
    // The landmark may be on the page we leave too (`main h1`): wait for that page to go
    // first, or the wait could end before the click's navigation has even started.
    let leaving = client
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("no page before clicking {button}: {e}"));
    client
        .find(Locator::Css(button))
        .await
        .unwrap_or_else(|e| panic!("no {button} to click: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {button}: {e}"));
    let started = std::time::Instant::now();
    while leaving.tag_name().await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "clicking {button} did not load a new page within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(landmark)
        .await
        .unwrap_or_else(|e| panic!("after clicking {button}, no {landmark:?} within 10 s: {e}"));
}

/// Signs in through the real form (the test password) and waits for `landmark`.
pub(crate) async fn sign_in(
    client: &Client,
    app: &crate::helpers::TestApp,
    email: &str,
    landmark: &str,
) {
    client.goto(&app.url("/login")).await.unwrap();
    for (id, value) in [("email", email), ("password", crate::helpers::PASSWORD)] {
        client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click_and_wait(client, "button[type='submit']", Locator::Css(landmark)).await;
}

/// What a procurement lead sees: a signed-in browser on the results page and the wave page
/// of a realistic wave (40 invited, 32 answered, one unit below k). Screenshots go to
/// `target/screenshots/results-1280.png` and `wave-1280.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_reads_the_results_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    crate::results::import(&app, &crate::results::organisation());
    let wave_id = crate::results::open_wave(&app, "internal-customer", "H1 2027", "");
    crate::results::respond(
        &app,
        &wave_id,
        &[
            ("Manufacturing", 14),
            ("R&D", 10),
            ("Sales", 6),
            ("Legal", 2),
        ],
    );
    app.create_user("lead@example.com", pulse::domain::Role::Lead);

    sign_in(
        &client,
        &app,
        "lead@example.com",
        "a[href='/admin/results']",
    )
    .await;

    // The open wave: live progress.
    client
        .goto(&app.url(&format!("/admin/waves/{wave_id}")))
        .await
        .unwrap();
    assert!(client.source().await.unwrap().contains("H1 2027"));
    screenshot(&client, 1280, "wave-1280.png").await;

    // Closed: its answers are released.
    {
        let mut conn = app.pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        assert!(pulse::services::waves::close_wave(&mut conn, &wave_id, now).unwrap());
    }
    client
        .goto(&app.url(&format!("/admin/waves/{wave_id}/results")))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("<svg"), "the charts are rendered");
    assert!(page.contains("Net Promoter Score"));
    assert!(
        page.contains("fewer than 5 responses"),
        "Legal (2) is hidden"
    );
    screenshot(&client, 1280, "results-1280.png").await;
    screenshot(&client, 390, "results-390.png").await;
    // Hidden groups say why: Legal (too few), Sales (hidden to protect Legal).
    for (anchor, width) in [
        ("segments", 1280),
        ("segments", 390),
        ("heatmap", 1280),
        ("heatmap", 390),
    ] {
        client.set_window_size(width, 1000).await.unwrap();
        client
            .goto(&app.url(&format!(
                "/admin/waves/{wave_id}/results?by=business_unit#{anchor}"
            )))
            .await
            .unwrap();
        let page = client.source().await.unwrap();
        assert!(page.contains("hidden so that a smaller group cannot be worked out"));
        screenshot(&client, width, &format!("results-{anchor}-{width}.png")).await;
    }
    client.close().await.unwrap();
}

/// An admin imports a CSV file through the real file input: the preview, the confirmation,
/// then the directory filtered by a select. Screenshots: `stakeholders-import-preview-1280.png`
/// and `stakeholders-1280.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_stakeholders_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("admin@example.com", pulse::domain::Role::Admin);
    let mut csv = String::from("email;name;language;business_unit;region\n");
    for i in 0..30 {
        csv.push_str(&format!(
            "person{i}@example.com;Person {i};{};{};{}\n",
            ["en", "de"][i % 2],
            ["Manufacturing", "R&D", "Sales"][i % 3],
            ["EMEA", "Americas", "APAC"][i % 3 / 2 + i % 2]
        ));
    }
    let file = app.db.dir.path().join("people.csv");
    std::fs::write(&file, csv).unwrap();

    sign_in(
        &client,
        &app,
        "admin@example.com",
        "a[href='/admin/stakeholders']",
    )
    .await;

    client
        .goto(&app.url("/admin/stakeholders/import"))
        .await
        .unwrap();
    client
        .find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click_and_wait(
        &client,
        "main button[type='submit']",
        Locator::Id("count-created"),
    )
    .await;
    let page = client.source().await.unwrap();
    assert!(page.contains("people.csv is valid: 30 stakeholder(s)"));
    screenshot(&client, 1280, "stakeholders-import-preview-1280.png").await;
    click_and_wait(
        &client,
        "main button[type='submit']",
        Locator::Css(".flash"),
    )
    .await;
    assert!(client
        .source()
        .await
        .unwrap()
        .contains("Import done: created 30, updated 0"));

    // A second file with a region the directory has never seen: a warning to confirm.
    let mut update = String::from("email;name;language;business_unit;region\n");
    for i in 0..3 {
        update.push_str(&format!("latam{i}@example.com;Latam {i};es;Sales;LATAM\n"));
    }
    let second = app.db.dir.path().join("more-people.csv");
    std::fs::write(&second, update).unwrap();
    client
        .goto(&app.url("/admin/stakeholders/import"))
        .await
        .unwrap();
    client
        .find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(second.to_str().unwrap())
        .await
        .unwrap();
    click_and_wait(
        &client,
        "main button[type='submit']",
        Locator::Id("new-values-heading"),
    )
    .await;
    let page = client.source().await.unwrap();
    assert!(
        page.contains("<strong>LATAM</strong> is new for Region, in 3 row(s)"),
        "{page}"
    );
    screenshot(&client, 1280, "stakeholders-import-warning-1280.png").await;
    screenshot(&client, 390, "stakeholders-import-warning-390.png").await;

    client
        .goto(&app.url("/admin/stakeholders?a.business_unit=R%26D"))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("10 matching"), "{page}");
    screenshot(&client, 1280, "stakeholders-1280.png").await;
    client.close().await.unwrap();
}

/// The directory page in a browser: an attribute with 40 values is a text field with
/// suggestions (a select for the few-valued ones), typing a value and searching filters.
/// Screenshots: `stakeholders-directory-1280.png` and `stakeholders-directory-390.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_filters_the_directory_by_typing_a_value_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("admin@example.com", pulse::domain::Role::Admin);
    let mut csv = String::from("email,name,business_unit,region,cost_center\n");
    for i in 0..120 {
        csv.push_str(&format!(
            "person{i}@example.com,Person {i},{},{},CC-{:04}\n",
            ["Manufacturing", "R&D", "Sales"][i % 3],
            ["EMEA", "Americas"][i % 2],
            1000 + i % 40
        ));
    }
    let file = app.db.dir.path().join("people.csv");
    std::fs::write(&file, csv).unwrap();
    let output = app.cli(&["stakeholders", "import", file.to_str().unwrap()]);
    assert!(output.status.success());

    sign_in(
        &client,
        &app,
        "admin@example.com",
        "a[href='/admin/stakeholders']",
    )
    .await;
    client.goto(&app.url("/admin/stakeholders")).await.unwrap();
    let field = client.find(Locator::Id("attr-cost_center")).await.unwrap();
    assert_eq!(
        field.attr("list").await.unwrap().as_deref(),
        Some("attr-cost_center-values")
    );
    screenshot(&client, 1280, "stakeholders-directory-1280.png").await;
    screenshot(&client, 390, "stakeholders-directory-390.png").await;
    field.send_keys("CC-1007").await.unwrap();
    click_and_wait(
        &client,
        "form[role='search'] button[type='submit']",
        Locator::Id("matching"),
    )
    .await;
    let page = client.source().await.unwrap();
    // i % 40 == 7 for i < 120: 7, 47, 87.
    assert!(page.contains("3 matching"), "{page}");
    screenshot(&client, 1280, "stakeholders-directory-filtered-1280.png").await;

    // The wave form offers the same: a text field with suggestions, counted as typed.
    client.goto(&app.url("/admin/waves/new")).await.unwrap();
    let field = client.find(Locator::Id("a-cost_center")).await.unwrap();
    assert_eq!(
        field.attr("list").await.unwrap().as_deref(),
        Some("a-cost_center-values")
    );
    field.send_keys("CC-1007").await.unwrap();
    click_and_wait(
        &client,
        "button[value='count']",
        Locator::Id("audience-count"),
    )
    .await;
    let page = client.source().await.unwrap();
    assert!(
        page.contains("<strong>3</strong> people would be invited"),
        "{page}"
    );
    let mut violations = Vec::new();
    for width in [1280, 390] {
        crate::browser::screenshot_sized(
            &client,
            width,
            1800,
            &format!("wave-new-many-values-{width}.png"),
        )
        .await;
        if let Some(axe) = crate::browser_admin::axe_source() {
            violations.extend(
                crate::browser_admin::axe_violations(&client, &axe, "/admin/waves (count)", width)
                    .await,
            );
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    client.close().await.unwrap();
}
