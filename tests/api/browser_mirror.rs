//! Customer of choice in headless Chromium, on the demo organisation: the mirror page and
//! both stakeholder maps (internal customers by business unit, suppliers by category) as a
//! lead reads them pass axe-core at 1280 and 390 px and are no wider than the window; an
//! action is started from a group on the map (the action form arrives filled in). Full-page
//! screenshots `demo-mirror-full-*.png` and `demo-map-*-full-*.png` (the README's).

use fantoccini::{Client, Locator};
use pulse::domain::Role;

use crate::browser::{browser, sign_in};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::Backend;

/// The whole page, however long, at `width` (`target/screenshots/NAME`).
async fn full_page(client: &Client, width: u32, name: &str) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    client.set_window_size(width, 1000).await.unwrap();
    let height = client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(1000);
    let height = u32::try_from(height.min(20_000)).unwrap_or(20_000) + 140;
    client.set_window_size(width, height).await.unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(name), png).unwrap();
    client.set_window_size(width, 1000).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_reads_the_mirror_and_the_maps_and_acts_from_the_map() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let (db, _) = crate::demo::seeded(Backend::Sqlite, "7");
    let app = crate::demo::serve(db).await;
    app.create_user("reader@example.com", Role::Lead);
    sign_in(&client, &app, "reader@example.com", "main").await;

    // The mirror: reached from the navigation.
    client.goto(&app.url("/admin")).await.unwrap();
    client
        .find(Locator::LinkText("Customer of choice"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mirror = client.source().await.unwrap();
    assert!(mirror.contains("Customer-of-choice index"), "{mirror}");
    assert!(mirror.contains("Timely decisions and payment"));
    assert!(mirror.contains("suppliers") && mirror.contains("lower"));
    let map_links: Vec<String> = mirror
        .match_indices("/admin/waves/")
        .filter_map(|(at, _)| {
            let rest = &mirror[at..];
            let end = rest.find('"')?;
            rest[..end]
                .ends_with("/map")
                .then(|| rest[..end].to_string())
        })
        .collect();
    assert_eq!(map_links.len(), 2, "{map_links:?}");
    let (internal_map, supplier_map) = (map_links[0].clone(), map_links[1].clone());

    let mut violations = Vec::new();
    for (path, name) in [
        ("/admin/mirror".to_string(), "demo-mirror"),
        (internal_map.clone(), "demo-map-internal"),
        (format!("{supplier_map}?by=category"), "demo-map-suppliers"),
    ] {
        check_page(&client, &app, axe.as_deref(), &path, name, &mut violations).await;
        for width in [1280, 390] {
            client.goto(&app.url(&path)).await.unwrap();
            full_page(&client, width, &format!("{name}-full-{width}.png")).await;
        }
    }
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );

    // IT is important and unhappy on the internal map: act first, from the map.
    client.goto(&app.url(&internal_map)).await.unwrap();
    let map = client.source().await.unwrap();
    assert!(map.contains("Important and unhappy: act first"), "{map}");
    let row = client
        .find(Locator::XPath(
            "//tr[contains(@class, 'act-first')]//a[contains(@class, 'plan-action')]",
        ))
        .await
        .unwrap();
    row.click().await.unwrap();
    let form = client.source().await.unwrap();
    assert!(client.current_url().await.unwrap().path() == "/admin/actions/new");
    assert!(
        form.contains("business_unit") || form.contains("Business unit"),
        "{form}"
    );
    client.close().await.unwrap();
}
