//! Closing the loop in Chromium: the public "what we heard" page (English and German), its
//! admin page, the mail preview with "you said, we did", the survey form that shows the
//! published actions and the home page's "actions due" pass axe-core at 1280 and 390 px.
//! Screenshots: `target/screenshots/page-what-we-heard*.png`, `page-mail-preview-*.png`,
//! `page-form-said-did-*.png`, `page-home-actions-due-*.png`.

use pulse::actions::{self, heard};
use pulse::domain::token::{LinkToken, TokenPurpose};
use pulse::domain::Role;

use crate::browser::{browser, sign_in};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::{spawn_app, Backend};
use crate::said_did::{answered_wave, import_people, now, open, plan, schedule, ADMIN, LEAD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closing_the_loop_pages_pass_axe() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let app = spawn_app(Backend::Sqlite).await;
    import_people(&app);
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let first = answered_wave(&app, "H1 2026");
    let second = answered_wave(&app, "H2 2026");
    let today = now().date();
    plan(
        &app,
        &second,
        "pain_point:approval_delays",
        "Approval fast track",
        true,
        Some("done"),
        "2099-03-31",
    );
    plan(
        &app,
        &second,
        "dimension:communication",
        "Status mails for every request",
        true,
        Some("in_progress"),
        &(today + chrono::Duration::days(5)).to_string(),
    );
    plan(
        &app,
        &first,
        "csat",
        "Answer every request within two days",
        false,
        None,
        &(today - chrono::Duration::days(3)).to_string(),
    );
    // "What we heard" of the second wave, sent; its public link.
    let token = {
        let mut conn = app.pool.get().unwrap();
        let admin = actions::actor_by_email(&mut conn, ADMIN).unwrap();
        heard::send(&mut conn, &app.secret_key(), &admin, &second, now()).unwrap();
        let id = pulse::db::models::wave_summaries::find_by_wave(&mut conn, &second)
            .unwrap()
            .unwrap()
            .id;
        heard::link_token(&app.secret_key(), &id)
            .expose()
            .to_string()
    };
    // The next wave: scheduled (its mail previewed), then one open with a form to show.
    let next = schedule(&app, "H1 2027", "2098-06-01");
    let open_wave = schedule(&app, "H1 2027 (open)", "now");
    open(&app, &open_wave);
    let form_path = {
        let mut conn = app.pool.get().unwrap();
        let invitation = pulse::db::models::invitations::of_wave_with_email(&mut conn, &open_wave)
            .unwrap()
            .into_iter()
            .find(|(_, email)| email == "p3@example.com")
            .unwrap()
            .0;
        format!(
            "/s/{}",
            LinkToken::derive(&app.secret_key(), TokenPurpose::Survey, &invitation.id).expose()
        )
    };

    let mut violations = Vec::new();
    // Signed out: the public summary and the form.
    for (path, name) in [
        (format!("/w/{token}?lang=en"), "what-we-heard"),
        (format!("/w/{token}?lang=de"), "what-we-heard-de"),
        (form_path.clone(), "form-said-did"),
    ] {
        check_page(&client, &app, axe.as_deref(), &path, name, &mut violations).await;
    }
    let form = client.source().await.unwrap();
    assert!(form.contains("Ihr Feedback – unsere Maßnahmen"), "{form}");
    sign_in(&client, &app, ADMIN, "a[href='/admin/results']").await;
    for (path, name) in [
        (
            format!("/admin/waves/{second}/what-we-heard"),
            "what-we-heard-admin",
        ),
        (
            format!("/admin/waves/{first}/what-we-heard?lang=de"),
            "what-we-heard-admin-unsent",
        ),
        (format!("/admin/waves/{next}/mail-preview"), "mail-preview"),
        (
            format!("/admin/waves/{next}/mail-preview?kind=reminder&lang=de"),
            "mail-preview-de",
        ),
        ("/admin".to_string(), "home-actions-due"),
    ] {
        check_page(&client, &app, axe.as_deref(), &path, name, &mut violations).await;
    }
    let home = client.source().await.unwrap();
    assert!(home.contains("Actions due"));
    assert!(home.contains("Answer every request within two days"));
    client.close().await.unwrap();
    assert!(
        violations.is_empty(),
        "{} axe-core violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}
