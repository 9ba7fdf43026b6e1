//! The admin pages for waves and schedules.

use pulse::domain::Role;

use crate::both_backends;
use crate::helpers::{hidden_field, spawn_app, Backend, PASSWORD};
use crate::waves::{t, tick};

async fn the_schedule_form_explains_every_wrong_field_and_saves_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in_admin().await;
    let form = app.get("/admin/waves/new").await;
    assert_eq!(form.status(), 200);
    assert!(form
        .text()
        .await
        .unwrap()
        .contains("<option value=\"internal-customer\""));

    let response = app
        .post_form(
            "/admin/waves",
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("title", ""),
                ("opens", "soon"),
                ("closes", "2099-01-01"),
                ("remind", "7d"),
                ("anonymity_k", "2"),
                ("audience", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"title-error\""), "{page}");
    assert!(page.contains("aria-describedby=\"opens-hint opens-error\""));
    assert!(page.contains("Must be at least 3"));
    assert!(
        page.contains("value=\"2099-01-01\""),
        "the typed values are kept"
    );
    let mut conn = app.pool.get().unwrap();
    assert!(pulse::db::models::waves::list(&mut conn)
        .unwrap()
        .is_empty());
}

async fn an_admin_schedules_watches_and_closes_a_wave(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let csrf = app.signed_in_admin().await;
    let created = app
        .post_form(
            "/admin/waves",
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("title", "H1 2027"),
                ("opens", "2027-01-15"),
                ("closes", "2099-01-01"),
                ("remind", "7d,14d"),
                ("anonymity_k", "5"),
                ("audience", ""),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/admin/waves/"));

    tick(&app, t("2027-01-15"));
    let page = app.get(&location).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers().get("refresh").is_none(),
        "the page never reloads itself (typed text would be lost)"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("H1 2027") && html.contains("<span class=\"tag\">open</span>"));
    assert!(html.contains("<p class=\"figure\">3</p>"), "three invited");
    assert!(
        html.contains("Figures as of "),
        "the page says when it was computed"
    );
    assert!(html.contains(&format!("href=\"{location}\">Refresh</a>")));

    let resend = app
        .post_form(
            &format!("{location}/resend"),
            &[("csrf_token", &csrf), ("email", "person1@example.com")],
        )
        .await;
    assert_eq!(resend.status(), 303);
    let unknown = app
        .post_form(
            &format!("{location}/resend"),
            &[("csrf_token", &csrf), ("email", "stranger@example.com")],
        )
        .await;
    assert_eq!(
        unknown.status(),
        422,
        "the wave page again, the message at the field"
    );
    let html = unknown.text().await.unwrap();
    assert!(html.contains("id=\"resend-email-error\""), "{html}");
    assert!(html.contains("stranger@example.com is not invited to this wave."));
    assert!(
        html.contains("value=\"stranger@example.com\""),
        "the typed address is kept"
    );
    assert!(
        html.contains("<nav aria-label=\"Main\">"),
        "with the navigation"
    );
    assert!(!html.contains("--email"), "no command-line wording");

    let forged = app
        .post_form(&format!("{location}/close"), &[("csrf_token", "forged")])
        .await;
    assert_eq!(forged.status(), 403);

    // Close early: a confirmation first (GET changes nothing), then the message.
    let confirm = app.get(&format!("{location}/close")).await;
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains("Close H1 2027 early?"), "{confirm}");
    assert!(confirm.contains("<strong>0</strong> of 3 invited have answered"));
    assert!(confirm.contains("Too few answers to show anything"));
    let html = app.get(&location).await.text().await.unwrap();
    assert!(
        html.contains("<span class=\"tag\">open</span>"),
        "still open"
    );
    let closed = app
        .post_form(&format!("{location}/close"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(closed.status(), 303);
    let html = app.get(&location).await.text().await.unwrap();
    assert!(html.contains("<span class=\"tag\">closed</span>"));
    assert!(
        html.contains("H1 2027 closed with 0 answer(s): fewer than 5"),
        "the message on the next page: {html}"
    );
    assert!(html.contains("(early; planned for 2099-01-01 00:00 UTC)"));
}

async fn leads_see_waves_but_cannot_change_them(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("lead@example.com", Role::Lead);
    assert_eq!(app.login("lead@example.com", PASSWORD).await.status(), 303);
    let page = app.get("/admin/waves").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("Schedule a wave"));
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    assert_eq!(app.get("/admin/waves/new").await.status(), 403);
    let refused = app
        .post_form(
            "/admin/waves",
            &[("csrf_token", &csrf), ("survey", "internal-customer")],
        )
        .await;
    assert_eq!(refused.status(), 403);
}

async fn a_half_yearly_schedule_is_added_from_the_web(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in_admin().await;
    let bad = app
        .post_form(
            "/admin/schedules",
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("every", "6"),
                ("starting", "2099-01-15"),
                ("open_for", "21d"),
                ("remind", "7d,30d"),
                ("audience", ""),
                ("title", ""),
                ("anonymity_k", "5"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("id=\"every-error\"") && html.contains("id=\"remind-error\""),
        "{html}"
    );
    let good = app
        .post_form(
            "/admin/schedules",
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("every", "6m"),
                ("starting", "2099-01-15"),
                ("open_for", "21d"),
                ("remind", "7d,14d"),
                ("audience", ""),
                ("title", ""),
                ("anonymity_k", "5"),
            ],
        )
        .await;
    assert_eq!(good.status(), 303);
    let waves = app.get("/admin/waves").await.text().await.unwrap();
    assert!(
        waves.contains("H1 2099"),
        "the first wave of the schedule is listed"
    );
}

both_backends!(
    the_schedule_form_explains_every_wrong_field_and_saves_nothing,
    an_admin_schedules_watches_and_closes_a_wave,
    leads_see_waves_but_cannot_change_them,
    a_half_yearly_schedule_is_added_from_the_web,
);
