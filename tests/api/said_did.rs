//! "You said, we did" end to end (issue 13): published actions of a closed wave reach the
//! next wave's invitation — parsed from the mail a real SMTP server received, in German for
//! a `de` stakeholder — and its form's introduction; unpublished and dropped ones never do;
//! an admin previews the mail before the wave opens.

use std::sync::Arc;

use pulse::actions::{self, ActionInput};
use pulse::clock::ManualClock;
use pulse::domain::wave::WaveInput;
use pulse::domain::Role;
use pulse::services::results::ResultsCache;
use pulse::services::{stakeholders, waves};

use crate::both_backends;
use crate::helpers::{sign_in, spawn_app, survey_link, Backend, TestApp};
use crate::results::respond;
use crate::smtp_server::SmtpServer;

pub(crate) const LEAD: &str = "lead@example.com";
pub(crate) const ADMIN: &str = "admin@example.com";

pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// 40 stakeholders `p{i}@example.com` — Manufacturing 16, R&D 12, Sales 8, Legal 4 — of
/// whom every fourth writes German (`de`); returns (email, language) per person.
pub(crate) fn import_people(app: &TestApp) -> Vec<(String, &'static str)> {
    let mut csv = String::from("email,name,language,business_unit,region\n");
    let mut people = Vec::new();
    let mut i = 0;
    for (unit, n) in [
        ("Manufacturing", 16),
        ("R&D", 12),
        ("Sales", 8),
        ("Legal", 4),
    ] {
        for j in 0..n {
            let language = if i % 4 == 3 { "de" } else { "en" };
            let region = if j % 2 == 0 { "EMEA" } else { "Americas" };
            csv.push_str(&format!(
                "p{i}@example.com,Person {i},{language},{unit},{region}\n"
            ));
            people.push((format!("p{i}@example.com"), language));
            i += 1;
        }
    }
    let parsed = stakeholders::parse_csv(csv.as_bytes()).unwrap();
    let mut conn = app.pool.get().unwrap();
    stakeholders::apply_import(&mut conn, &parsed, false, now()).unwrap();
    people
}

/// Schedules a wave of `internal-customer` opening at `opens` (`now` or a date).
pub(crate) fn schedule(app: &TestApp, title: &str, opens: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = WaveInput {
        survey: "internal-customer".into(),
        title: title.into(),
        opens: opens.into(),
        closes: "2099-01-01".into(),
        remind: "none".into(),
        ..Default::default()
    };
    waves::schedule_wave(&mut conn, &input, now()).unwrap().id
}

pub(crate) fn open(app: &TestApp, wave_id: &str) {
    let mut conn = app.pool.get().unwrap();
    waves::open_wave(&mut conn, &app.secret_key(), wave_id, now())
        .unwrap()
        .expect("the wave opens");
}

pub(crate) fn close(app: &TestApp, wave_id: &str) {
    let mut conn = app.pool.get().unwrap();
    assert!(waves::close_wave(&mut conn, wave_id, now()).unwrap());
}

/// A wave opened, answered by 14 + 9 + 5 + 2 people and closed.
pub(crate) fn answered_wave(app: &TestApp, title: &str) -> String {
    let wave = schedule(app, title, "now");
    open(app, &wave);
    respond(
        app,
        &wave,
        &[
            ("Manufacturing", 14),
            ("R&D", 9),
            ("Sales", 5),
            ("Legal", 2),
        ],
    );
    close(app, &wave);
    wave
}

/// An action of the lead on `wave`, its texts `{title} (en)` / `{title} (de)`; published
/// by the admin when `published`, with `status` set (through a note) when given.
pub(crate) fn plan(
    app: &TestApp,
    wave: &str,
    target: &str,
    title: &str,
    published: bool,
    status: Option<&str>,
    due: &str,
) -> String {
    let mut conn = app.pool.get().unwrap();
    let lead = actions::actor_by_email(&mut conn, LEAD).unwrap();
    let admin = actions::actor_by_email(&mut conn, ADMIN).unwrap();
    let action = actions::create(
        &mut conn,
        &ResultsCache::default(),
        &lead,
        &ActionInput {
            wave: wave.into(),
            target: target.into(),
            group: String::new(),
            title: title.into(),
            description: [
                ("en".to_string(), format!("{title}: what we do (en).")),
                ("de".to_string(), format!("{title}: was wir tun (de).")),
            ]
            .into(),
            owner: LEAD.into(),
            due: due.into(),
        },
        now(),
    )
    .unwrap();
    if published {
        actions::set_published(&mut conn, &admin, &action.id, true, now()).unwrap();
    }
    if let Some(status) = status {
        actions::add_note(
            &mut conn,
            &lead,
            &action.id,
            "Progress.",
            Some(status),
            now(),
        )
        .unwrap();
    }
    action.id
}

/// An outbox worker sending to `smtp`, with links to this app.
pub(crate) fn worker(app: &TestApp, smtp: &SmtpServer) -> pulse::outbox::Outbox {
    worker_at(app, smtp, now() + chrono::Duration::minutes(1))
}

/// [`worker`] with its clock at `at`.
pub(crate) fn worker_at(
    app: &TestApp,
    smtp: &SmtpServer,
    at: chrono::NaiveDateTime,
) -> pulse::outbox::Outbox {
    pulse::outbox::Outbox::new(
        app.pool.clone(),
        Arc::new(crate::helpers::smtp_mailer(&smtp.url(), 5)),
        app.secret_key(),
        &app.address,
        Arc::new(ManualClock::new(at)),
        pulse::outbox::OutboxConfig {
            max_in_flight: 8,
            ..Default::default()
        },
    )
}

async fn get_text(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn only_published_actions_reach_the_next_wave_in_the_stakeholders_language(backend: Backend) {
    // Arrange: a closed wave with four actions — two published, one not, one published
    // and then dropped.
    let app = spawn_app(backend).await;
    let people = import_people(&app);
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let first = answered_wave(&app, "H1 2026");
    plan(
        &app,
        &first,
        "dimension:communication",
        "Status mails",
        true,
        Some("in_progress"),
        "2099-03-31",
    );
    plan(
        &app,
        &first,
        "pain_point:approval_delays",
        "Approval fast track",
        true,
        Some("done"),
        "2099-03-31",
    );
    plan(
        &app,
        &first,
        "csat",
        "Internal only",
        false,
        None,
        "2099-03-31",
    );
    plan(
        &app,
        &first,
        "dimension:ease",
        "Dropped idea",
        true,
        Some("dropped"),
        "2099-03-31",
    );
    let second = schedule(&app, "H2 2026", "2098-06-01");

    // The admin previews the mail before the wave opens, in each language.
    let (admin, _) = sign_in(&app, ADMIN).await;
    let (status, wave_page) = get_text(&admin, &app.url(&format!("/admin/waves/{second}"))).await;
    assert_eq!(status, 200);
    assert!(wave_page.contains(&format!("/admin/waves/{second}/mail-preview")));
    let response = admin
        .get(app.url(&format!("/admin/waves/{second}/mail-preview?lang=de")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-src 'self'"), "{csp}");
    let preview = response.text().await.unwrap();
    assert!(preview.contains("Approval fast track: was wir tun (de)."));
    assert!(preview.contains("Status mails: was wir tun (de)."));
    assert!(preview.contains("Ihr Feedback – unsere Maßnahmen"));
    assert!(preview.contains("2 published actions in this mail"));
    for absent in ["Internal only", "Dropped idea"] {
        assert!(!preview.contains(absent), "{absent} is not in the preview");
    }
    let framed = admin
        .get(app.url(&format!(
            "/admin/waves/{second}/mail-preview.html?kind=invitation&lang=en"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(framed.status(), 200);
    let csp = framed.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("style-src 'unsafe-inline'") && !csp.contains("script"),
        "{csp}"
    );
    assert_eq!(framed.headers()["x-frame-options"], "SAMEORIGIN");
    let html = framed.text().await.unwrap();
    assert!(html.contains("You said, we did"));
    assert!(html.contains("Approval fast track: what we do (en)."));
    // Signed out, the preview is not there.
    let (status, _) = get_text(
        &crate::helpers::new_client(),
        &app.url(&format!("/admin/waves/{second}/mail-preview")),
    )
    .await;
    assert_ne!(status, 200);

    // Act: the wave opens and its invitations go out through a real SMTP server.
    open(&app, &second);
    let smtp = SmtpServer::start().await;
    let report = worker(&app, &smtp).drain().await.unwrap();
    // The invitations, and the lead's "results are ready" of the first wave.
    assert_eq!(report.sent, people.len() + 1);

    // Assert: each mail carries the published actions in its reader's language, done first.
    let mails: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.to != [LEAD])
        .collect();
    assert_eq!(mails.len(), people.len());
    let mut seen = (0, 0);
    for mail in &mails {
        let (_, language) = people
            .iter()
            .find(|(email, _)| mail.to == [email.clone()])
            .expect("a mail to an imported person");
        let text = mail.text_body().unwrap();
        let html = mail.html_body().unwrap();
        for absent in ["Internal only", "Dropped idea"] {
            assert!(!text.contains(absent) && !html.contains(absent), "{text}");
        }
        if *language == "de" {
            seen.1 += 1;
            assert!(mail.subject().unwrap().contains("Ihre Meinung"));
            assert!(text.contains("Ihr Feedback – unsere Maßnahmen:"), "{text}");
            let done = text
                .find("* Sie haben uns gesagt: Freigaben haben zu lange gedauert. Approval fast track: was wir tun (de). (Erledigt)")
                .unwrap_or_else(|| panic!("{text}"));
            let under_way = text
                .find("Status mails: was wir tun (de). (In Arbeit)")
                .unwrap_or_else(|| panic!("{text}"));
            assert!(done < under_way, "done before under way: {text}");
            assert!(html.contains("Ihr Feedback – unsere Maßnahmen"));
            assert!(!text.contains("(en)"), "{text}");
        } else {
            seen.0 += 1;
            assert!(text.contains("You said, we did:"), "{text}");
            assert!(
                text.contains("* You told us: Approvals took too long. Approval fast track: what we do (en). (Done)"),
                "{text}"
            );
            assert!(
                text.contains("* You rated “I am kept informed about where my requests stand, without having to chase”. Status mails: what we do (en). (Under way)"),
                "{text}"
            );
            assert!(html.contains("<strong>Status mails: what we do (en).</strong>"));
            assert!(!text.contains("(de)"), "{text}");
        }
    }
    assert_eq!(seen, (30, 10));

    // The form's introduction says the same, in the same language.
    let client = crate::helpers::new_client();
    for (language, heading, text) in [
        (
            "de",
            "Ihr Feedback – unsere Maßnahmen",
            "Approval fast track: was wir tun (de).",
        ),
        (
            "en",
            "You said, we did",
            "Approval fast track: what we do (en).",
        ),
    ] {
        let mail = mails
            .iter()
            .find(|m| {
                people
                    .iter()
                    .any(|(e, l)| m.to == [e.clone()] && *l == language)
            })
            .unwrap();
        let link = survey_link(&mail.text_body().unwrap()).unwrap();
        let (status, form) = get_text(&client, &link).await;
        assert_eq!(status, 200);
        assert!(form.contains(heading), "{form}");
        assert!(form.contains(text), "{form}");
        assert!(!form.contains("Internal only") && !form.contains("Dropped idea"));
    }

    // A wave of another survey shows none of them.
    let other = {
        let mut conn = app.pool.get().unwrap();
        let input = WaveInput {
            survey: "pulse-check".into(),
            title: "Pulse".into(),
            opens: "2099-01-01".into(),
            closes: "2099-02-01".into(),
            remind: "none".into(),
            ..Default::default()
        };
        waves::schedule_wave(&mut conn, &input, now()).unwrap().id
    };
    let (status, preview) = get_text(
        &admin,
        &app.url(&format!("/admin/waves/{other}/mail-preview")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(preview.contains("No published action of an earlier wave"));
    assert!(!preview.contains("Approval fast track"));
}

both_backends!(only_published_actions_reach_the_next_wave_in_the_stakeholders_language);
