//! Pulses after fulfilled requests in a real browser, on the demo database (two years of
//! pulses replayed): an admin reads the pulses page (counts by touch rule, the quarters),
//! a released quarter's results and IT's scorecard with its pulse NPS; every page passes
//! axe-core at 1280 and 390 px and nothing is wider than a phone. Screenshots go to
//! `target/screenshots/page-pulses-*.png`, `page-pulse-quarter-*.png`.

use fantoccini::Locator;

use crate::browser::{browser, screenshot_sized, sign_in};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulses_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let (db, stdout) = crate::demo::seeded(Backend::Sqlite, "7");
    assert!(
        stdout.contains("pulses after fulfilled requests:"),
        "{stdout}"
    );
    let app = crate::demo::serve(db).await;
    app.create_user("pulse.reader@example.com", pulse::domain::Role::Admin);
    sign_in(&client, &app, "pulse.reader@example.com", "main").await;

    client.goto(&app.url("/admin/pulses")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("Pulses after fulfilled requests"), "{page}");
    assert!(page.contains("the requester had a pulse recently"));
    assert!(
        page.contains("released — read the results"),
        "a released quarter"
    );
    screenshot_sized(&client, 1280, 1800, "pulses-1280.png").await;

    // The newest released quarter's results, linked from the page.
    let link = client
        .find(Locator::Css("a[href^='/admin/waves/'][href$='/results']"))
        .await
        .expect("a released quarter's results link");
    let results = link.attr("href").await.unwrap().expect("an href");
    client.goto(&app.url(&results)).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("Procurement pulse check"), "{page}");
    assert!(page.contains("fulfilment") || page.contains("Fulfilment"));

    // The home page shows the pulse survey's latest released quarter like every survey.
    client.goto(&app.url("/admin")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("Procurement pulse check 20"), "{page}");

    client.goto(&app.url("/admin/scorecards/IT")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(
        page.contains("Pulse NPS after fulfilled requests"),
        "{page}"
    );

    let axe = axe_source();
    let mut violations = Vec::new();
    for (path, name) in [
        ("/admin/pulses", "pulses"),
        (results.as_str(), "pulse-quarter"),
        ("/admin/scorecards/IT", "scorecard-it-pulses"),
        ("/admin", "home-pulses"),
    ] {
        check_page(&client, &app, axe.as_deref(), path, name, &mut violations).await;
    }
    assert!(
        violations.is_empty(),
        "{} axe-core violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}
