//! The API keys page in a real browser (headless Chromium over WebDriver): an admin creates
//! a key through the form, reads it once in its copy field and revokes an older key through
//! the confirmation page. The page after creating (the key shown), the list (an active and a
//! revoked key) and the confirmation are checked with axe-core at 1280 and 390 px (zero
//! violations, nothing wider than the window); screenshots go to `target/screenshots/`
//! (`api-key-created-*.png`, `page-api-keys-*.png`, `page-api-key-revoke-*.png`).

use fantoccini::Locator;
use pulse::domain::Role;

use crate::browser::{browser, click_and_wait, screenshot, sign_in};
use crate::browser_admin::{axe_source, axe_violations, check_page};
use crate::helpers::{spawn_app, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_and_revokes_api_keys_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("admin@example.com", Role::Admin);
    // An older key, used once and then to be revoked.
    let older = {
        let mut conn = app.pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        let created =
            pulse::auth::api_keys::create(&mut conn, "Old ERP connector", "command line", now)
                .unwrap();
        pulse::auth::api_keys::authenticate(&mut conn, &created.key, now)
            .unwrap()
            .unwrap();
        created.row.id
    };
    sign_in(&client, &app, "admin@example.com", "nav").await;

    // Create a key through the form.
    client.set_window_size(1280, 1000).await.unwrap();
    client.goto(&app.url("/admin/api-keys")).await.unwrap();
    client
        .find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("SAP Ariba production")
        .await
        .unwrap();
    click_and_wait(
        &client,
        "form.card button[type='submit']",
        Locator::Id("new-key"),
    )
    .await;
    let key = client
        .find(Locator::Id("new-key"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .expect("the key in its field");
    assert!(key.starts_with("pulse_") && key.len() == 49, "{key}");
    let page = client.source().await.unwrap();
    assert!(page.contains("it will not be shown again"));
    let mut violations = Vec::new();
    for width in [1280, 390] {
        client.set_window_size(width, 1000).await.unwrap();
        screenshot(&client, width, &format!("api-key-created-{width}.png")).await;
        if let Some(axe) = axe.as_deref() {
            violations
                .extend(axe_violations(&client, axe, "/admin/api-keys (created)", width).await);
        }
    }
    // Reloading the list never shows the key again.
    client.goto(&app.url("/admin/api-keys")).await.unwrap();
    assert!(!client.source().await.unwrap().contains(&key));

    // Revoke the older key: its confirmation, then the list with the message.
    client.set_window_size(1280, 1000).await.unwrap();
    client
        .find(Locator::Css(&format!("#key-{older} a.button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    check_page(
        &client,
        &app,
        axe.as_deref(),
        &format!("/admin/api-keys/{older}/revoke"),
        "api-key-revoke",
        &mut violations,
    )
    .await;
    click_and_wait(
        &client,
        "button.danger",
        Locator::Css("div.notice, .flash, [role='status']"),
    )
    .await;
    let page = client.source().await.unwrap();
    assert!(
        page.contains("is revoked: calls with it are refused"),
        "{page}"
    );
    check_page(
        &client,
        &app,
        axe.as_deref(),
        "/admin/api-keys",
        "api-keys",
        &mut violations,
    )
    .await;
    assert!(violations.is_empty(), "{violations:#?}");
}
