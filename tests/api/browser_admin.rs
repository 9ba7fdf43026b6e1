//! The admin pages in a real browser (headless Chromium over WebDriver): an admin schedules
//! a wave through the form — the audience chosen with a select and counted before
//! scheduling — resends to a wrong address and reads the message at the field, closes the
//! wave early through its confirmation page and reads the message on the next page; the
//! error pages keep the navigation. Then axe-core checks EVERY admin page at 1280 and
//! 390 px: zero violations. Screenshots of each page go to `target/screenshots/`.
//!
//! axe-core comes from npm (`.ci/run` installs it; locally: `npm install --prefix
//! target/axe axe-core@4`), or from the file named by `PULSE_AXE_JS`. Without it the axe
//! part is skipped with a message — except under CI, where it is a failure.

use std::time::Duration;

use fantoccini::{Client, Locator};
use pulse::domain::Role;
use serde_json::{json, Value};

use crate::browser::{browser, click_and_wait, screenshot, sign_in};
use crate::helpers::{spawn_app, Backend, TestApp};

/// axe-core's browser bundle, or `None` (with a message) when it is not installed.
pub(crate) fn axe_source() -> Option<String> {
    let path = std::env::var_os("PULSE_AXE_JS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "axe-core is missing under CI ({}): {error}",
                path.display()
            );
            eprintln!(
                "skipped the axe-core checks: {} is missing ({error}); run `npm install --prefix target/axe axe-core@4`",
                path.display()
            );
            None
        }
    }
}

/// Runs axe-core on the page in the browser; returns one line per violation.
pub(crate) async fn axe_violations(
    client: &Client,
    axe: &str,
    page: &str,
    width: u32,
) -> Vec<String> {
    // WebDriver's script runs outside the page's Content-Security-Policy.
    client.execute(axe, vec![]).await.expect("axe-core loads");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))))
                .catch(e => done([{ id: 'axe-error', impact: 'error', help: String(e), nodes: [] }]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    result
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|v: Value| {
            format!(
                "{page} at {width} px: {} ({}): {} — {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                v["nodes"]
            )
        })
        .collect()
}

/// Opens `path` at both widths: a screenshot each (`page-NAME-390.png`, `…-1280.png`) and,
/// with axe-core, its violations.
pub(crate) async fn check_page(
    client: &Client,
    app: &TestApp,
    axe: Option<&str>,
    path: &str,
    name: &str,
    violations: &mut Vec<String>,
) {
    for width in [1280, 390] {
        client.set_window_size(width, 1000).await.unwrap();
        client.goto(&app.url(path)).await.unwrap();
        screenshot(client, width, &format!("page-{name}-{width}.png")).await;
        // Nothing wider than the window: on a phone only tables scroll, inside their box
        // (the first elements that reach past the window are named).
        let overflow = client
            .execute(
                "const w = document.documentElement.clientWidth;
                 if (document.documentElement.scrollWidth <= w) return null;
                 const wide = [...document.querySelectorAll('body *')]
                     .filter(e => e.getBoundingClientRect().right > w + 1)
                     .filter(e => !e.parentElement.closest('.table-wrap'))
                     .map(e => e.tagName + '.' + e.className);
                 return document.documentElement.scrollWidth + ' px in ' + w + ' px '
                     + '(long text, or: ' + wide.slice(0, 8).join(', ') + ')';",
                vec![],
            )
            .await
            .unwrap();
        if let Some(wide) = overflow.as_str() {
            violations.push(format!(
                "{path} at {width} px: wider than the window: {wide}"
            ));
        }
        if let Some(axe) = axe {
            violations.extend(axe_violations(client, axe, path, width).await);
        }
    }
}

async fn set_value(client: &Client, id: &str, value: &str) {
    client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await
        .unwrap();
}

async fn page_text(client: &Client) -> String {
    client.source().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_schedules_counts_and_closes_a_wave_and_every_admin_page_passes_axe() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let app = spawn_app(Backend::Sqlite).await;
    crate::results::import(&app, &crate::results::organisation());
    // A closed wave with answers (its results page), and a schedule.
    let past = crate::results::open_wave(&app, "internal-customer", "H2 2026", "");
    crate::results::respond(
        &app,
        &past,
        &[
            ("Manufacturing", 12),
            ("R&D", 9),
            ("Sales", 6),
            ("Legal", 2),
        ],
    );
    let schedule = {
        let mut conn = app.pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        assert!(pulse::services::waves::close_wave(&mut conn, &past, now).unwrap());
        let input = pulse::services::schedules::ScheduleInput {
            survey: "internal-customer".into(),
            starting: "2099-01-15".into(),
            audience: "business_unit=R&D,Finance;region=EMEA".into(),
            ..Default::default()
        };
        pulse::services::schedules::add_schedule(&mut conn, &input, now)
            .unwrap()
            .id
    };
    app.create_user("admin@example.com", Role::Admin);
    app.create_user("lead@example.com", Role::Lead);
    sign_in(
        &client,
        &app,
        "admin@example.com",
        "a[href='/admin/schedules']",
    )
    .await;

    // The form: R&D chosen in the audience builder, counted before anything is saved.
    client.set_window_size(1280, 1000).await.unwrap();
    client.goto(&app.url("/admin/waves/new")).await.unwrap();
    client
        .find(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys("R&D pulse")
        .await
        .unwrap();
    client
        .find(Locator::Id("a-business_unit"))
        .await
        .unwrap()
        .select_by_value("R&D")
        .await
        .unwrap();
    click_and_wait(
        &client,
        "button[value='count']",
        Locator::Id("audience-count"),
    )
    .await;
    let page = page_text(&client).await;
    assert!(
        page.contains("<strong>12</strong> people would be invited"),
        "the count of R&D: {page}"
    );
    assert!(
        page.contains("value=\"R&amp;D pulse\""),
        "typed text survives the count"
    );
    screenshot(&client, 1280, "wave-new-count-1280.png").await;
    set_value(&client, "closes", "2099-01-01T12:00").await;
    click_and_wait(&client, "button[value='schedule']", Locator::Css(".flash")).await;
    let page = page_text(&client).await;
    assert!(page.contains("R&amp;D pulse is scheduled"), "{page}");
    let wave_url = client.current_url().await.unwrap();
    let wave_path = wave_url.path().to_string();
    crate::waves::tick(
        &app,
        chrono::Utc::now().naive_utc() + chrono::Duration::seconds(5),
    );
    client.goto(wave_url.as_str()).await.unwrap();
    let page = page_text(&client).await;
    assert!(page.contains("<p class=\"figure\">12</p>"), "12 invited");
    assert!(
        page.contains("Business unit: R&amp;D"),
        "the audience in words"
    );
    assert!(!page.contains("flash"), "the message was shown once");

    // A resend to an address that was not invited: the message at the field, page intact.
    client
        .find(Locator::Id("resend-email"))
        .await
        .unwrap()
        .send_keys("stranger@example.com")
        .await
        .unwrap();
    click_and_wait(
        &client,
        "#resend-heading + form button[type='submit']",
        Locator::Id("resend-email-error"),
    )
    .await;
    let page = page_text(&client).await;
    assert!(page.contains("stranger@example.com is not invited to this wave."));
    assert!(page.contains("<nav aria-label=\"Main\">"));
    screenshot(&client, 390, "wave-resend-error-390.png").await;

    // Every admin page, at both widths, through axe-core.
    let mut violations = Vec::new();
    let pages: Vec<(String, &str)> = vec![
        ("/admin".into(), "admin-home"),
        ("/admin/waves".into(), "waves"),
        ("/admin/waves/new".into(), "wave-new"),
        (wave_path.clone(), "wave"),
        (format!("{wave_path}/close"), "wave-close"),
        (format!("{wave_path}/cancel"), "wave-cancel"),
        (format!("/admin/waves/{past}"), "wave-closed"),
        (format!("/admin/waves/{past}/results"), "results"),
        ("/admin/results".into(), "results-index"),
        ("/admin/schedules".into(), "schedules"),
        (format!("/admin/schedules/{schedule}"), "schedule-edit"),
        (format!("/admin/schedules/{schedule}/stop"), "schedule-stop"),
        ("/admin/stakeholders".into(), "stakeholders"),
        ("/admin/stakeholders/import".into(), "stakeholders-import"),
        ("/admin/users".into(), "users"),
        ("/admin/api-keys".into(), "api-keys"),
        ("/admin/surveys".into(), "surveys"),
        ("/admin/suppressions".into(), "suppressions"),
        ("/admin/surveys/internal-customer/actions".into(), "actions"),
        ("/admin/actions/new".into(), "action-new"),
        ("/admin/scorecards".into(), "scorecards"),
        ("/admin/requests/import".into(), "requests-import"),
        ("/admin/kpis/import".into(), "kpis-import"),
        ("/admin/no-such-page".into(), "error-404"),
    ];
    for (path, name) in &pages {
        check_page(&client, &app, axe.as_deref(), path, name, &mut violations).await;
    }
    // The survey previews linked from the surveys page.
    client.goto(&app.url("/admin/surveys")).await.unwrap();
    let previews: Vec<String> = {
        let mut hrefs = Vec::new();
        for link in client
            .find_all(Locator::Css("main a[href*='/preview']"))
            .await
            .unwrap()
        {
            if let Some(href) = link.attr("href").await.unwrap() {
                hrefs.push(href);
            }
        }
        hrefs.sort();
        hrefs.dedup();
        hrefs
    };
    for (i, href) in previews.iter().take(3).enumerate() {
        check_page(
            &client,
            &app,
            axe.as_deref(),
            href,
            &format!("survey-preview-{i}"),
            &mut violations,
        )
        .await;
    }

    // Close early: the confirmation says what happens, then the message on the next page.
    client.set_window_size(1280, 1000).await.unwrap();
    client.goto(wave_url.as_str()).await.unwrap();
    click_and_wait(&client, "a[href$='/close']", Locator::Css(".confirm")).await;
    let page = page_text(&client).await;
    assert!(page.contains("Close R&amp;D pulse early?"));
    assert!(page.contains("Too few answers to show anything"));
    click_and_wait(
        &client,
        ".confirm button[type='submit']",
        Locator::Css(".flash"),
    )
    .await;
    let page = page_text(&client).await;
    assert!(
        page.contains("R&amp;D pulse closed with 0 answer(s): fewer than 5"),
        "{page}"
    );
    assert!(page.contains("<span class=\"tag\">closed</span>"));
    screenshot(&client, 1280, "wave-closed-message-1280.png").await;
    screenshot(&client, 390, "wave-closed-message-390.png").await;

    // A form that lost its CSRF field: "expired", in the product's words, with navigation.
    client
        .execute(
            "document.querySelector('form.trend input[name=csrf_token]').remove();",
            vec![],
        )
        .await
        .unwrap();
    client
        .find(Locator::Css("form.trend button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The error page answers the POST: wait until the browser is on its address.
    for _ in 0..100 {
        if client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/trend")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main h1"))
        .await
        .unwrap();
    let page = page_text(&client).await;
    assert!(page.contains("This form has expired"), "{page}");
    assert!(
        page.contains("<nav aria-label=\"Main\">"),
        "the navigation stays"
    );
    assert!(page.contains("Back to the wave"), "and a way back");
    screenshot(&client, 390, "error-csrf-390.png").await;
    if let Some(axe) = axe.as_deref() {
        violations.extend(axe_violations(&client, axe, "the CSRF error page", 390).await);
    }

    // A lead on an admin page: "Not allowed", with the navigation and what to do.
    client
        .find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sign_in(
        &client,
        &app,
        "lead@example.com",
        "a[href='/admin/results']",
    )
    .await;
    check_page(
        &client,
        &app,
        axe.as_deref(),
        "/admin/users",
        "error-not-allowed",
        &mut violations,
    )
    .await;
    let page = page_text(&client).await;
    assert!(page.contains("Not allowed"));
    assert!(page.contains("<nav aria-label=\"Main\">"));
    assert!(page.contains("with the lead role"));
    assert!(
        page.contains("Back to the overview"),
        "no way back to a page they may not see"
    );

    client.close().await.unwrap();
    assert!(
        violations.is_empty(),
        "{} axe-core violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}
