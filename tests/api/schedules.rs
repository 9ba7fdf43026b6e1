//! Schedules under control: pause, resume, edit and stop — on the command line and on the
//! admin pages — and a paused schedule opens nothing.

use pulse::db::models::waves as wave_rows;

use crate::both_backends;
use crate::helpers::{text, Backend, TestApp};
use crate::waves::{t, tick};

/// A half-yearly schedule from 2027-01-15, added on 2026-11-22; returns its id.
fn half_yearly(app: &TestApp) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = pulse::services::schedules::ScheduleInput {
        survey: "internal-customer".into(),
        every: "6m".into(),
        starting: "2027-01-15".into(),
        open_for: "21d".into(),
        remind: "7d,14d".into(),
        ..Default::default()
    };
    pulse::services::schedules::add_schedule(&mut conn, &input, t("2026-11-22"))
        .unwrap()
        .id
}

fn waves_of(app: &TestApp, schedule: &str) -> Vec<wave_rows::WaveRow> {
    let mut conn = app.pool.get().unwrap();
    let mut waves = wave_rows::of_schedule(&mut conn, schedule).unwrap();
    waves.sort_by_key(|w| w.opens_at);
    waves
}

async fn a_paused_schedule_opens_nothing_until_resumed(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    app.seed_stakeholders(3);
    let id = half_yearly(&app);
    let paused = app.cli(&["schedule", "pause", &id[..8]]);
    assert!(paused.status.success(), "{}", text(&paused.stderr));
    assert!(
        text(&paused.stdout).contains("H1 2027 will not open until you resume"),
        "{}",
        text(&paused.stdout)
    );
    let listed = text(&app.cli(&["schedule", "list"]).stdout);
    assert!(listed.contains("paused"), "{listed}");

    // Its opening time comes and goes: nothing opens, nothing new is created.
    let report = tick(&app, t("2027-01-15T01:00:00Z"));
    assert_eq!((report.waves_opened, report.waves_created), (0, 0));
    assert_eq!(waves_of(&app, &id)[0].state, "scheduled");
    let again = app.cli(&["schedule", "pause", &id]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already paused"));

    // Resumed: the wave whose time has come opens at the next tick, and the next is created.
    let mut conn = app.pool.get().unwrap();
    let outcome = pulse::services::schedules::resume(
        &mut conn,
        &id,
        t("2027-01-16"),
        pulse::domain::schedule::Tz::UTC,
    )
    .unwrap();
    assert!(
        outcome.message.contains("H1 2027 opens now"),
        "{}",
        outcome.message
    );
    let report = tick(&app, t("2027-01-16"));
    assert_eq!((report.waves_opened, report.waves_created), (1, 1));
    assert_eq!(report.invitations, 3);
    let titles: Vec<_> = waves_of(&app, &id).into_iter().map(|w| w.title).collect();
    assert_eq!(titles, ["H1 2027", "H2 2027"]);
}

async fn a_schedule_whose_window_passed_while_paused_skips_that_wave(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let id = half_yearly(&app);
    let mut conn = app.pool.get().unwrap();
    pulse::services::schedules::pause(&mut conn, &id).unwrap();
    let outcome = pulse::services::schedules::resume(
        &mut conn,
        &id,
        t("2027-03-01"),
        pulse::domain::schedule::Tz::UTC,
    )
    .unwrap();
    assert!(
        outcome.message.contains("H1 2027 was cancelled"),
        "{}",
        outcome.message
    );
    assert_eq!(waves_of(&app, &id)[0].state, "cancelled");
    assert_eq!(tick(&app, t("2027-03-01")).waves_opened, 0);
}

async fn editing_a_schedule_moves_its_planned_wave(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let id = half_yearly(&app);
    let edited = app.cli(&[
        "schedule",
        "edit",
        &id,
        "--every",
        "3m",
        "--starting",
        "2099-02-01T09:30",
        "--open-for",
        "14d",
        "--remind",
        "3, 10",
        "--time-zone",
        "Europe/Berlin",
    ]);
    assert!(edited.status.success(), "{}", text(&edited.stderr));
    let said = text(&edited.stdout);
    assert!(
        said.contains("opens 2099-02-01 09:30 Europe/Berlin (08:30 UTC)"),
        "{said}"
    );
    let waves = waves_of(&app, &id);
    assert_eq!(waves.len(), 1, "the planned wave moved, none was added");
    let planned = &waves[0];
    assert_eq!(
        planned.opens_at,
        t("2099-02-01T08:30:00Z"),
        "09:30 in Berlin"
    );
    assert_eq!(planned.closes_at, t("2099-02-15T08:30:00Z"));
    assert_eq!(planned.reminder_hours, "[72,240]");
    assert_eq!(planned.title, "H1 2099");
    let mut conn = app.pool.get().unwrap();
    let schedule = wave_rows::find_schedule(&mut conn, &id).unwrap().unwrap();
    assert_eq!(schedule.every_months, 3);
    assert_eq!(schedule.next_opens_at, t("2099-05-01T08:30:00Z"));

    // Bad values: every problem named, nothing changed.
    let bad = app.cli(&[
        "schedule",
        "edit",
        &id,
        "--open-for",
        "0d",
        "--anonymity-k",
        "2",
    ]);
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(
        err.contains("--open-for") && err.contains("--anonymity-k"),
        "{err}"
    );
    assert_eq!(waves_of(&app, &id)[0].closes_at, t("2099-02-15T08:30:00Z"));
}

async fn a_stopped_schedule_cancels_its_planned_wave_and_creates_no_more(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let id = half_yearly(&app);
    let csrf = app.signed_in_admin().await;

    // Listed with its next wave, in navigation, with a confirmation before stopping.
    let page = app.get("/admin/schedules").await.text().await.unwrap();
    assert!(
        page.contains("href=\"/admin/schedules\">Schedules</a>"),
        "in the navigation"
    );
    assert!(page.contains("every 6 months, open 21 days"), "{page}");
    assert!(page.contains("H1 2027, opens"));
    let confirm = app.get(&format!("/admin/schedules/{id}/stop")).await;
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains("Stop the “How is Procurement doing for you?” schedule?"));
    assert!(confirm.contains("cannot be undone"));
    assert_eq!(
        waves_of(&app, &id)[0].state,
        "scheduled",
        "showing changes nothing"
    );

    let stopped = app
        .post_form(
            &format!("/admin/schedules/{id}/stop"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(stopped.status(), 303);
    let page = app.get("/admin/schedules").await.text().await.unwrap();
    assert!(
        page.contains("Schedule stopped. H1 2027 was cancelled"),
        "the message on the next page"
    );
    let again = app.get("/admin/schedules").await.text().await.unwrap();
    assert!(
        !again.contains("Schedule stopped."),
        "a message is shown once"
    );
    assert_eq!(waves_of(&app, &id)[0].state, "cancelled");
    assert_eq!(tick(&app, t("2027-07-15")).waves_created, 0);
    let resumed = app.cli(&["schedule", "resume", &id]);
    assert!(!resumed.status.success());
    assert!(text(&resumed.stderr).contains("stopped for good"));
}

async fn schedules_are_paused_and_edited_from_the_web(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let id = half_yearly(&app);
    let csrf = app.signed_in_admin().await;
    let paused = app
        .post_form(
            &format!("/admin/schedules/{id}/pause"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(paused.status(), 303);
    let page = app.get("/admin/schedules").await.text().await.unwrap();
    assert!(page.contains("Schedule paused"));
    assert!(page.contains("<span class=\"tag\">paused</span>"));
    assert!(page.contains(">Resume<"));

    let form = app
        .get(&format!("/admin/schedules/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("value=\"2027-01-15T00:00\""),
        "the next opening, as a date input"
    );
    assert!(
        form.contains("value=\"7, 14\""),
        "reminders as a list of days"
    );
    let bad = app
        .post_form(
            &format!("/admin/schedules/{id}"),
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("every", "6m"),
                ("starting", "2099-03-01T10:00"),
                ("open_for", "21"),
                ("remind", "7, 30"),
                ("title", ""),
                ("anonymity_k", "5"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"remind-error\""), "{html}");
    assert!(html.contains("value=\"7, 30\""), "typed values are kept");
    let good = app
        .post_form(
            &format!("/admin/schedules/{id}"),
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("every", "12m"),
                ("starting", "2099-03-01T10:00"),
                ("open_for", "21"),
                ("remind", "7"),
                ("title", ""),
                ("anonymity_k", "5"),
                ("a.region", ""),
            ],
        )
        .await;
    assert_eq!(good.status(), 303);
    let planned = &waves_of(&app, &id)[0];
    assert_eq!(planned.opens_at, t("2099-03-01T10:00:00Z"));
    assert_eq!(planned.reminder_hours, "[168]");
    let page = app.get("/admin/schedules").await.text().await.unwrap();
    assert!(page.contains("Schedule saved."), "{page}");
    assert!(page.contains("every year"));
    assert!(
        page.contains("<span class=\"tag\">paused</span>"),
        "editing does not resume"
    );
}

both_backends!(
    a_paused_schedule_opens_nothing_until_resumed,
    a_schedule_whose_window_passed_while_paused_skips_that_wave,
    editing_a_schedule_moves_its_planned_wave,
    a_stopped_schedule_cancels_its_planned_wave_and_creates_no_more,
    schedules_are_paused_and_edited_from_the_web,
);
