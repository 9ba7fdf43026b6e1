//! What a closed wave leads to: a wave too small to show anything sends the leads a note
//! saying so instead of "results are ready", and a wave marked outside the trend is neither
//! a point of the trend nor "the previous wave" of the next one.

use pulse::clock::ManualClock;
use pulse::domain::Role;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{hidden_field, spawn_app, Backend, TestApp};
use crate::results::{import, open_wave, organisation, respond};
use crate::smtp_server::SmtpServer;

fn close(app: &TestApp, wave_id: &str) {
    let mut conn = app.pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    assert!(pulse::services::waves::close_wave(&mut conn, wave_id, now).unwrap());
}

/// Sends what the outbox holds to a test SMTP server; returns (subject, text) of the mails
/// to `to`.
async fn mails_to(app: &TestApp, to: &str) -> Vec<(String, String)> {
    let smtp = SmtpServer::start().await;
    let clock = ManualClock::new(chrono::Utc::now().naive_utc() + chrono::Duration::minutes(1));
    let outbox = crate::waves::outbox(app, &smtp, &clock).await;
    outbox.drain().await.unwrap();
    smtp.messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains(to)))
        .map(|m| {
            (
                m.subject().unwrap_or_default(),
                m.text_body().unwrap_or_default(),
            )
        })
        .collect()
}

async fn a_wave_too_small_to_show_anything_tells_the_leads_why(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    app.create_user("lead@example.com", Role::Lead);
    let small = open_wave(
        &app,
        "internal-customer",
        "Ad-hoc check",
        "business_unit=Legal",
    );
    respond(&app, &small, &[("Legal", 2)]);
    let big = open_wave(&app, "internal-customer", "H1 2027", "business_unit=R&D");
    respond(&app, &big, &[("R&D", 6)]);
    close(&app, &small);
    close(&app, &big);

    let mails = mails_to(&app, "lead@example.com").await;
    let small_mail = mails
        .iter()
        .find(|(subject, _)| subject.contains("Ad-hoc check"))
        .expect("the lead hears about the small wave");
    assert_eq!(
        small_mail.0,
        "No results to show: How is Procurement doing for you? — Ad-hoc check"
    );
    assert!(
        small_mail.1.contains("with 2 responses"),
        "{}",
        small_mail.1
    );
    assert!(small_mail.1.contains("fewer than 5"), "{}", small_mail.1);
    assert!(
        !small_mail.1.contains("/results"),
        "no link to an empty page"
    );
    let big_mail = mails
        .iter()
        .find(|(subject, _)| subject.contains("H1 2027"))
        .expect("the lead hears about the big wave");
    assert!(big_mail.0.starts_with("Results ready:"), "{}", big_mail.0);
}

async fn results_json(app: &TestApp, wave_id: &str) -> Value {
    app.get(&format!("/api/v1/waves/{wave_id}/results"))
        .await
        .json()
        .await
        .unwrap()
}

async fn a_wave_outside_the_trend_is_not_compared(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &organisation());
    let first = open_wave(&app, "internal-customer", "H2 2026", "");
    respond(&app, &first, &[("Manufacturing", 8), ("R&D", 6)]);
    close(&app, &first);
    let test_wave = open_wave(&app, "internal-customer", "Test run", "");
    respond(&app, &test_wave, &[("Manufacturing", 6)]);

    // Marked from its page: a form with CSRF, then the message.
    let csrf = app.signed_in_admin().await;
    let marked = app
        .post_form(
            &format!("/admin/waves/{test_wave}/trend"),
            &[("csrf_token", &csrf), ("trend", "outside")],
        )
        .await;
    assert_eq!(marked.status(), 303);
    let page = app
        .get(&format!("/admin/waves/{test_wave}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Test run is now outside the trend"), "{page}");
    assert!(page.contains("<span class=\"tag\">outside the trend</span>"));
    assert!(hidden_field(&page, "csrf_token").is_some());
    close(&app, &test_wave);

    let next = open_wave(&app, "internal-customer", "H1 2027", "");
    respond(&app, &next, &[("Manufacturing", 8), ("R&D", 6)]);
    close(&app, &next);
    let results = results_json(&app, &next).await;
    assert_eq!(
        results["previous_wave"]["id"],
        first.as_str(),
        "compared with the last wave in the trend, not the test run"
    );
    let trend: Vec<&str> = results["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(trend, ["H2 2026", "H1 2027"]);
}

both_backends!(
    a_wave_too_small_to_show_anything_tells_the_leads_why,
    a_wave_outside_the_trend_is_not_compared,
);
