//! The scorecards in a real browser, on the demo database: a lead reads the organisation
//! page and IT's scorecard and prints both (Chromium's print to PDF: one A4 page for the
//! unit, no navigation, downloads or links on paper), and IT's head (the demo's viewer)
//! signs in with the printed password, lands on IT's scorecard and reads IT's results
//! summaries; those pages pass axe-core at 1280 and 390 px. Screenshots go to
//! `target/screenshots/scorecards-*.png`, `scorecard-it-*.png` and `page-*.png`; the PDFs,
//! and their pages as PNG when `pdftoppm` is installed, to `scorecard*-print*`.

use std::path::PathBuf;

use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, Locator};

use crate::browser::{browser, screenshot_sized, sign_in};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::Backend;

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a poppler tool (`pdftotext`, `pdftoppm`, `pdfinfo`), or `None` when it is not
/// installed (outside CI).
fn poppler(tool: &str, args: &[&str]) -> Option<String> {
    match std::process::Command::new(tool).args(args).output() {
        Ok(output) => {
            assert!(output.status.success(), "{tool} {args:?} failed");
            Some(String::from_utf8_lossy(&output.stdout).into_owned())
        }
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{tool} is missing under CI: {error}"
            );
            eprintln!("skipped the {tool} check: {error} (apt-get install poppler-utils)");
            None
        }
    }
}

/// Prints the current page as Chromium does to A4 (backgrounds as the page's CSS asks,
/// like a print dialog's defaults), saves the PDF as `name.pdf` and its pages as PNG; returns
/// (pages, text) — `None` for what the missing poppler tools could not read.
async fn print(client: &Client, name: &str) -> (Option<usize>, Option<String>) {
    let pdf = client
        .print(PrintConfiguration::default())
        .await
        .expect("Chromium prints the page to PDF");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let path = screenshots().join(format!("{name}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    let file = path.to_str().unwrap();
    let pages = poppler("pdfinfo", &[file]).map(|info| {
        info.lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("pdfinfo names the pages")
    });
    let text = poppler("pdftotext", &["-layout", file, "-"]);
    let prefix = screenshots().join(name);
    poppler(
        "pdftoppm",
        &["-png", "-r", "60", file, prefix.to_str().unwrap()],
    );
    (pages, text)
}

/// What no printed scorecard shows: the navigation, the half-year links, the downloads.
fn assert_paper(text: &str, what: &str) {
    for web_only in ["Sign out", "Download:", "Skip to content", "←"] {
        assert!(
            !text.contains(web_only),
            "{what} prints \"{web_only}\":\n{text}"
        );
    }
}

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

    // On paper: the organisation's table and chart, without the web's links.
    let (_, text) = print(&client, "scorecards-print").await;
    if let Some(text) = text {
        assert!(text.contains("Business units × measures"), "{text}");
        assert!(text.contains("Satisfaction against speed"));
        assert_paper(&text, "the organisation page");
    }

    client.goto(&app.url("/admin/scorecards/IT")).await.unwrap();
    client
        .find(Locator::Css("table.scorecard"))
        .await
        .expect("IT's scorecard");
    screenshot_sized(&client, 1280, 1300, "scorecard-it-1280.png").await;
    screenshot_sized(&client, 390, 2600, "scorecard-it-390.png").await;
    // IT's scorecard on paper: a one-page handout with every measure and its status.
    let (pages, text) = print(&client, "scorecard-it-print").await;
    if let Some(pages) = pages {
        assert_eq!(pages, 1, "IT's scorecard prints on one A4 page");
    }
    if let Some(text) = text {
        assert!(text.contains("Scorecard: IT"), "{text}");
        for measure in [
            "Net Promoter Score",
            "Requests fulfilled",
            "Cycle time, median",
        ] {
            assert!(text.contains(measure), "{measure} on paper: {text}");
        }
        assert!(text.contains("Actions aimed at IT"));
        assert_paper(&text, "IT's scorecard");
    }

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

    // IT's head reads IT's results summaries; the viewer's pages pass axe-core.
    client
        .goto(&app.url("/admin/scorecards/IT/results"))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("Survey results: IT"), "{page}");
    assert!(page.contains("Everyone asked"));
    let axe = axe_source();
    let mut violations = Vec::new();
    for (path, name) in [
        ("/admin/scorecards", "scorecards-viewer"),
        ("/admin/scorecards/IT", "scorecard-it-viewer"),
        ("/admin/scorecards/IT/results", "unit-results-it"),
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
