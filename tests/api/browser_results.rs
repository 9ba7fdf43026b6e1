//! The results as a lead reads them, in headless Chromium (issue 12): the home page, the
//! results index, a wave's results page (whole wave, another breakdown, one group) with
//! two closed waves behind it so every figure has a change and a trend. Every page passes
//! axe-core at 1280 and 390 px and is no wider than the window; full-page screenshots go to
//! `target/screenshots/` (`results-full-1280.png`, `home-full-390.png`, …). Then the results
//! page is printed to PDF through Chromium (`target/screenshots/results-print.pdf`), and
//! with poppler's `pdftotext` each A4 page is checked: the running header (survey, wave,
//! page number) on every page, no page that ends with a heading, none that holds only a
//! chart. `pdftoppm` renders the pages as PNGs to look at (`results-print-1.png`, …).

use std::process::Command;

use fantoccini::wd::PrintConfiguration;
use fantoccini::Client;
use pulse::domain::Role;

use crate::browser::{browser, sign_in};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::{spawn_app, Backend};
use crate::results::{close_wave, import, open_wave, organisation, respond};

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The whole page, however long, at `width`.
async fn full_page(client: &Client, width: u32, name: &str) {
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
    std::fs::write(screenshots().join(name), png).unwrap();
    client.set_window_size(width, 1000).await.unwrap();
}

/// The text of each page of a PDF (`pdftotext -layout`), or `None` without poppler.
fn pdf_pages(pdf: &std::path::Path) -> Option<Vec<String>> {
    let output = match Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
    {
        Ok(output) if output.status.success() => output,
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext (poppler-utils) is missing under CI"
            );
            eprintln!("skipped the print checks: pdftotext (poppler-utils) is not installed");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Some(pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_reads_home_and_results_pages_that_pass_axe_and_print_on_a4() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let app = spawn_app(Backend::Sqlite).await;
    import(&app, &organisation());
    let first = open_wave(&app, "internal-customer", "H2 2026", "");
    respond(
        &app,
        &first,
        &[
            ("Manufacturing", 14),
            ("R&D", 10),
            ("Sales", 6),
            ("Legal", 2),
        ],
    );
    close_wave(&app, &first);
    let second = open_wave(&app, "internal-customer", "H1 2027", "");
    respond(
        &app,
        &second,
        &[
            ("R&D", 12),
            ("Manufacturing", 16),
            ("Sales", 8),
            ("Legal", 3),
        ],
    );
    close_wave(&app, &second);
    let pulse_wave = open_wave(&app, "pulse-check", "March pulse", "");
    respond(&app, &pulse_wave, &[("Manufacturing", 7)]);
    app.create_user("lead@example.com", Role::Lead);
    sign_in(
        &client,
        &app,
        "lead@example.com",
        "a[href='/admin/results']",
    )
    .await;

    let results = format!("/admin/waves/{second}/results");
    let pages = [
        ("/admin".to_string(), "home"),
        ("/admin/results".to_string(), "index"),
        (results.clone(), "results"),
        (format!("{results}?by=region#heatmap"), "results-by-region"),
        (
            format!("{results}?filter=business_unit%3DManufacturing"),
            "results-manufacturing",
        ),
    ];
    let mut violations = Vec::new();
    for (path, name) in &pages {
        check_page(&client, &app, axe.as_deref(), path, name, &mut violations).await;
        for width in [1280, 390] {
            client.goto(&app.url(path)).await.unwrap();
            full_page(&client, width, &format!("{name}-full-{width}.png")).await;
        }
    }
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );

    // What a lead reads first: the findings, in words.
    client.goto(&app.url(&results)).await.unwrap();
    let html = client.source().await.unwrap();
    for words in [
        "Findings",
        "What moved since H2 2026",
        "Groups: Business unit",
        "Pain points",
        "Participation",
    ] {
        assert!(html.contains(words), "{words}");
    }
    let order: Vec<usize> = [
        "id=\"findings\"",
        "id=\"heatmap\"",
        "id=\"pain-points\"",
        "id=\"comments\"",
        "id=\"segments\"",
    ]
    .iter()
    .map(|id| html.find(id).unwrap_or_else(|| panic!("{id}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "top-down: {order:?}");

    // Printed: A4 pages with the running header, no heading at the foot of a page, no page
    // holding only a chart.
    client.set_window_size(1280, 1000).await.unwrap();
    let pdf = client
        .print(
            PrintConfiguration::builder()
                .background(true)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let path = screenshots().join("results-print.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let _ = Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&path)
        .arg(screenshots().join("results-print"))
        .status();
    if let Some(pages) = pdf_pages(&path) {
        let n = pages.len();
        assert!(n >= 2, "{n} pages");
        let headings = [
            "Findings",
            "What moved",
            "Trend across waves",
            "Satisfaction per dimension",
            "Groups: Business unit",
            "NPS of each group across waves",
            "Pain points",
            "By stage",
            "Who answered",
            "Comments",
            "Participation",
        ];
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.contains(&format!("Page {} of {n}", i + 1)),
                "page {}: running header with its number:\n{page}",
                i + 1
            );
            assert!(
                page.contains("How is Procurement doing for you?") && page.contains("H1 2027"),
                "page {}: survey and wave in the header",
                i + 1
            );
            let lines: Vec<&str> = page
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .filter(|l| !l.starts_with("Procurement Pulse ·"))
                .collect();
            if let Some(last) = lines.last() {
                assert!(
                    !headings.iter().any(|h| last.starts_with(h)),
                    "page {} ends with the heading {last:?}",
                    i + 1
                );
            }
            assert!(
                lines.len() >= 8,
                "page {} holds next to nothing (a lone chart?):\n{page}",
                i + 1
            );
        }
    }
    client.close().await.unwrap();
}

/// The demo organisation (1,500 people, four past waves, 25 departments): the home page
/// and the latest closed wave's results as a lead reads them, through axe-core at both
/// widths. Full-page screenshots `demo-home-*.png` and `demo-results-*.png` (the README's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_home_and_results_pages_pass_axe() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let (db, _) = crate::demo::seeded(Backend::Sqlite, "7");
    let app = crate::demo::serve(db).await;
    app.create_user("reader@example.com", Role::Lead);
    sign_in(&client, &app, "reader@example.com", "main").await;
    client.goto(&app.url("/admin")).await.unwrap();
    let home = client.source().await.unwrap();
    let card = home
        .find("How is Procurement doing for you?")
        .expect("the internal-customer survey on the home page");
    let start = card
        + home[card..]
            .find("/admin/waves/")
            .expect("its results link");
    let end = start + home[start..].find("/results").unwrap() + "/results".len();
    let results = home[start..end].to_string();
    let mut violations = Vec::new();
    for (path, name) in [
        ("/admin".to_string(), "demo-home"),
        (results.clone(), "demo-results"),
        (
            format!("{results}?by=department#heatmap"),
            "demo-results-departments",
        ),
        (
            format!("{results}?filter=business_unit%3DIT"),
            "demo-results-it",
        ),
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
    client.close().await.unwrap();
}
