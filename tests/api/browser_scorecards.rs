//! The scorecards in a real browser, on the demo database: a lead reads the organisation
//! page and IT's scorecard, and IT's head (the demo's viewer) signs in with the printed
//! password and lands on IT's scorecard. Screenshots at 1280 and 390 px go to
//! `target/screenshots/scorecards-*.png` and `scorecard-it-*.png`.

use fantoccini::Locator;

use crate::browser::{browser, screenshot_sized, sign_in};
use crate::helpers::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scorecards_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let (db, stdout) = crate::demo::seeded(Backend::Sqlite, "7");
    let viewer = stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.len() == 3 && words[0] == "viewer")
        .map(|w| (w[1].to_string(), w[2].to_string()))
        .expect("the demo prints a viewer account");
    let app = crate::demo::serve(db).await;
    app.create_user("reader@example.com", pulse::domain::Role::Lead);

    sign_in(&client, &app, "reader@example.com", "main").await;
    client.goto(&app.url("/admin/scorecards")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("Business units × measures"), "{page}");
    assert!(page.contains("<svg"), "the NPS-against-speed chart");
    screenshot_sized(&client, 1280, 2000, "scorecards-1280.png").await;
    screenshot_sized(&client, 390, 2400, "scorecards-390.png").await;

    client.goto(&app.url("/admin/scorecards/IT")).await.unwrap();
    client
        .find(Locator::Css("table.scorecard"))
        .await
        .expect("IT's scorecard");
    screenshot_sized(&client, 1280, 1300, "scorecard-it-1280.png").await;
    screenshot_sized(&client, 390, 2600, "scorecard-it-390.png").await;

    // An admin's users page, where viewers are created and scoped.
    app.create_user("boss@example.com", pulse::domain::Role::Admin);
    client.delete_all_cookies().await.unwrap();
    sign_in(&client, &app, "boss@example.com", "main").await;
    client.goto(&app.url("/admin/users")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(
        page.contains("sees IT"),
        "the demo viewer's scope is listed"
    );
    screenshot_sized(&client, 1280, 1400, "users-1280.png").await;
    screenshot_sized(&client, 390, 2400, "users-390.png").await;

    // IT's head, with the printed password, in a fresh session.
    client.delete_all_cookies().await.unwrap();
    client.goto(&app.url("/login")).await.unwrap();
    for (id, value) in [
        ("email", viewer.0.as_str()),
        ("password", viewer.1.as_str()),
    ] {
        client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    crate::browser::click_and_wait(&client, "button[type='submit']", Locator::Css("main h1")).await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/admin/scorecards");
    let page = client.source().await.unwrap();
    assert!(page.contains(">IT</a>"));
    assert!(!page.contains(">Manufacturing</a>"));
    assert!(
        !page.contains("href=\"/admin/results\""),
        "no results link for a viewer"
    );
    screenshot_sized(&client, 390, 1400, "scorecards-viewer-390.png").await;
}
