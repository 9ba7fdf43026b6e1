//! The pages of email delivery in a real browser (headless Chromium, see `browser.rs`):
//! the wave page with undelivered and refused mail and the relay paused, the blocked
//! addresses page with its "Unblock" button, and the German opt-out pages. Screenshots at
//! 390 and 1280 px go to `target/screenshots/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use pulse::clock::ManualClock;
use pulse::outbox::{Outbox, OutboxConfig};

use crate::browser::{browser, click_and_wait, sign_in};
use crate::helpers::{spawn_app_with, text, unsubscribe_link, Backend};
use crate::smtp_server::{Action, Match, SmtpServer};

/// A screenshot tall enough for the whole page (`target/screenshots/NAME`).
async fn screenshot(client: &fantoccini::Client, width: u32, name: &str) {
    crate::browser::screenshot_sized(client, width, 1800, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_pages_in_a_real_browser() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    // The app's own worker talks to a relay that refuses its password: sending pauses.
    let relay = SmtpServer::start().await;
    relay.require_login("pulse", "the right password");
    let url = format!("smtp://pulse:wrong@127.0.0.1:{}?tls=none", relay.port());
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.email = pulse::email::EmailSettings::smtp(pulse::email::SmtpUrl::parse(&url).unwrap());
        s.outbox_worker = true;
        s.outbox.poll_interval = Duration::from_millis(100);
    })
    .await;
    let csv = "email,name,language,business_unit\n\
               anna@example.com,Anna Berg,de,R&D\n\
               bob@example.com,Bob Stone,en,R&D\n\
               cleo@example.com,Cleo Park,en,Sales\n\
               dan@example.com,Dan Ito,en,Sales\n";
    let path = app.db.dir.path().join("people.csv");
    std::fs::write(&path, csv).unwrap();
    assert!(app
        .cli(&["stakeholders", "import", path.to_str().unwrap()])
        .status
        .success());
    let wave = app.schedule_wave_now("H1 2027");
    let open = app.cli(&["wave", "open", &wave]);
    assert!(open.status.success(), "{}", text(&open.stderr));
    // Wait for the pause (the worker polls every 100 ms).
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Meanwhile a worker with a working relay sends: one refused, two failing every try.
    let smtp = SmtpServer::start().await;
    smtp.script(Match::Recipient("dan@example.com"), [Action::Reject]);
    smtp.script(Match::Recipient("bob@example.com"), [Action::TempFail]);
    smtp.script(Match::Recipient("cleo@example.com"), [Action::TempFail]);
    let worker = Outbox::new(
        app.pool.clone(),
        Arc::new(crate::helpers::smtp_mailer(&smtp.url(), 5)),
        app.secret_key(),
        &app.address,
        Arc::new(ManualClock::new(chrono::Utc::now().naive_utc())),
        OutboxConfig {
            max_attempts: 1,
            ..Default::default()
        },
    );
    let started = Instant::now();
    let undelivered = || {
        pulse::services::waves::progress(&mut app.pool.get().unwrap(), &wave)
            .unwrap()
            .failed
    };
    while (smtp.messages().is_empty() || undelivered() < 2)
        && started.elapsed() < Duration::from_secs(30)
    {
        worker.drain().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let german = smtp
        .messages()
        .into_iter()
        .find(|m| m.to == ["anna@example.com"])
        .expect("Anna's invitation");

    app.create_user("admin@example.com", pulse::domain::Role::Admin);
    sign_in(&client, &app, "admin@example.com", "h1").await;
    client
        .goto(&app.url(&format!("/admin/waves/{wave}")))
        .await
        .unwrap();
    let source = client.source().await.unwrap();
    assert!(source.contains("Sending is paused"), "relay pause shown");
    assert!(
        source.contains("2 mails could not be delivered"),
        "undelivered shown"
    );
    screenshot(&client, 390, "wave-delivery-390.png").await;
    screenshot(&client, 1280, "wave-delivery-1280.png").await;

    client.goto(&app.url("/admin/suppressions")).await.unwrap();
    screenshot(&client, 390, "suppressions-390.png").await;
    screenshot(&client, 1280, "suppressions-1280.png").await;
    click_and_wait(
        &client,
        "ul.blocked form button",
        Locator::Css("div.notice"),
    )
    .await;
    assert!(client
        .source()
        .await
        .unwrap()
        .contains("dan@example.com is no longer blocked"));
    screenshot(&client, 1280, "suppressions-lifted-1280.png").await;

    // The German opt-out pages.
    let link = unsubscribe_link(&german.text_body().unwrap()).unwrap();
    let local = link.replace("https://pulse.example.com", &app.address);
    client.goto(&local).await.unwrap();
    screenshot(&client, 390, "optout-de-390.png").await;
    screenshot(&client, 1280, "optout-de-1280.png").await;
    click_and_wait(
        &client,
        "form button",
        Locator::Css("section[role='status']"),
    )
    .await;
    assert!(client.source().await.unwrap().contains("Erledigt"));
    screenshot(&client, 390, "optout-done-de-390.png").await;
    screenshot(&client, 1280, "optout-done-de-1280.png").await;
    client.close().await.unwrap();
}
