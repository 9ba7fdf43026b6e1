//! One click from the email, in headless Chromium: the invitation's HTML part (as the
//! outbox sent it to the SMTP server on loopback) shown at 1280 and 390 px — eleven
//! buttons in one row on a desktop, two rows of full-size buttons on a phone, nothing
//! wider than the window — then a click on a button opens the form with that score
//! chosen (axe-core: zero violations at 1280 and 390 px), nothing is stored, and one more
//! click, Send, stores it. Screenshots: `target/screenshots/mail-buttons-{en,de}-{1280,390}.png`,
//! `page-one-click-form-{1280,390}.png`, and for the README `mail-buttons-phone.png` and
//! `one-click-form-720.png`.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{browser, screenshot_sized};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::{spawn_app, Backend};

/// The layout of the score buttons on the page in the window: how many, in how many rows,
/// the narrowest, and whether anything is wider than the window.
async fn button_layout(client: &Client) -> Value {
    client
        .execute(
            "const links = [...document.querySelectorAll('a')]
                 .filter(a => /^([0-9]|10)$/.test(a.textContent.trim()));
             const boxes = links.map(a => a.getBoundingClientRect());
             const root = document.documentElement;
             return {
                 count: links.length,
                 rows: new Set(boxes.map(b => Math.round(b.top))).size,
                 narrowest: Math.min(...boxes.map(b => b.width)),
                 lowest: Math.min(...boxes.map(b => b.height)),
                 overflow: root.scrollWidth > root.clientWidth,
             };",
            vec![],
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stakeholder_answers_with_one_click_from_the_mail_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let app = spawn_app(Backend::Sqlite).await;
    let people = "email,name,language,business_unit\n\
                  anna@example.com,Anna Berg,en,R&D\n\
                  bernd@example.com,Bernd Schäfer,de,R&D\n";
    let (wave_id, mails) = crate::one_click::open_and_send(&app, "internal-customer", people).await;

    // The mails as a mail client shows their HTML parts.
    let files = tempfile::tempdir().unwrap();
    for (mail, language) in [(&mails[0], "en"), (&mails[1], "de")] {
        let path = files.path().join(format!("mail-{language}.html"));
        std::fs::write(&path, mail.html_body().unwrap()).unwrap();
        for width in [1280, 390] {
            client.set_window_size(width, 1400).await.unwrap();
            client
                .goto(&format!("file://{}", path.display()))
                .await
                .unwrap();
            let layout = button_layout(&client).await;
            assert_eq!(layout["count"], 11, "{language} at {width} px: {layout}");
            let rows = layout["rows"].as_u64().unwrap();
            match width {
                1280 => assert_eq!(rows, 1, "one row on a desktop: {layout}"),
                _ => assert_eq!(rows, 2, "two rows on a phone: {layout}"),
            }
            assert!(layout["narrowest"].as_f64().unwrap() >= 40.0, "{layout}");
            assert!(layout["lowest"].as_f64().unwrap() >= 40.0, "{layout}");
            assert_eq!(
                layout["overflow"], false,
                "{language} at {width} px: {layout}"
            );
            screenshot_sized(
                &client,
                width,
                1400,
                &format!("mail-buttons-{language}-{width}.png"),
            )
            .await;
        }
    }

    // On the phone, Anna clicks 8 in her mail: the form opens in a new tab.
    let path = files.path().join("mail-en.html");
    client.set_window_size(390, 1000).await.unwrap();
    client
        .goto(&format!("file://{}", path.display()))
        .await
        .unwrap();
    // For the README: the top of the mail on a phone.
    screenshot_sized(&client, 390, 960, "mail-buttons-phone.png").await;
    let mail_window = client.window().await.unwrap();
    client
        .find(Locator::XPath("//a[normalize-space(.)='8']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut form_window = None;
    for _ in 0..100 {
        form_window = client
            .windows()
            .await
            .unwrap()
            .into_iter()
            .find(|w| *w != mail_window);
        if form_window.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
        .switch_to_window(form_window.expect("the click opened the form"))
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("one-click"))
        .await
        .unwrap();
    let url = client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("recommend=8"));
    assert!(client
        .find(Locator::Id("q-recommend-8"))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap());
    let note = client
        .find(Locator::Id("one-click"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        note.starts_with("You chose 8. Nothing is sent yet"),
        "{note}"
    );
    // For the README: the note and the first question with 8 chosen.
    screenshot_sized(&client, 720, 1040, "one-click-form-720.png").await;
    client.set_window_size(390, 1000).await.unwrap();
    assert_eq!(
        crate::one_click::stored(&app, &wave_id),
        0,
        "opening stored nothing"
    );

    // The pre-filled form passes axe-core at both widths (and shows nothing wider).
    let mut violations = Vec::new();
    let path = format!("{}?recommend=8", url.path());
    check_page(
        &client,
        &app,
        axe.as_deref(),
        &path,
        "one-click-form",
        &mut violations,
    )
    .await;
    assert!(
        violations.is_empty(),
        "{} axe-core violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert_eq!(crate::one_click::stored(&app, &wave_id), 0);

    // One more click: Send, right under the line that says what was chosen.
    client
        .find(Locator::Css("#one-click button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut url = client.current_url().await.unwrap();
    for _ in 0..100 {
        if url.path() == "/thanks" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        url = client.current_url().await.unwrap();
    }
    assert_eq!(url.path(), "/thanks", "thanked after one more click");
    assert!(client.source().await.unwrap().contains("Thank you"));
    assert_eq!(crate::one_click::stored(&app, &wave_id), 1);
    assert_eq!(
        crate::one_click::answer_count(&app, &wave_id, "recommend", Some("8")),
        1
    );
    client.close().await.unwrap();
}
