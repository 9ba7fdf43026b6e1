//! Action plans in Chromium: a lead plans an action from the form the results page links
//! to, and the actions page and an action's page (with "did it work" across a later wave)
//! pass axe-core at 1280 and 390 px. Screenshots: `target/screenshots/page-action*.png`.

use fantoccini::Locator;
use pulse::actions::{self, ActionInput, Actor};
use pulse::domain::Role;
use pulse::services::results::ResultsCache;

use crate::browser::{browser, click_and_wait, sign_in};
use crate::browser_admin::{axe_source, check_page};
use crate::helpers::{spawn_app, Backend};
use crate::results::{import, open_wave, organisation, respond};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_plans_an_action_and_the_action_pages_pass_axe() {
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(profile.path()).await else {
        return;
    };
    let axe = axe_source();
    let app = spawn_app(Backend::Sqlite).await;
    import(&app, &organisation());
    let now = || chrono::Utc::now().naive_utc();
    let first = open_wave(&app, "internal-customer", "H1 2026", "");
    respond(
        &app,
        &first,
        &[
            ("Manufacturing", 14),
            ("R&D", 9),
            ("Sales", 5),
            ("Legal", 2),
        ],
    );
    {
        let mut conn = app.pool.get().unwrap();
        assert!(pulse::services::waves::close_wave(&mut conn, &first, now()).unwrap());
    }
    app.create_user("admin@example.com", Role::Admin);
    app.create_user("lead@example.com", Role::Lead);
    // Two actions planned earlier: one overdue, one published with a note.
    let (overdue, published) = {
        let mut conn = app.pool.get().unwrap();
        let cache = ResultsCache::default();
        let lead = actions::actor_by_email(&mut conn, "lead@example.com").unwrap();
        let admin: Actor = actions::actor_by_email(&mut conn, "admin@example.com").unwrap();
        let plan = |target: &str, group: &str, title: &str, due: &str| ActionInput {
            wave: first.clone(),
            target: target.into(),
            group: group.into(),
            title: title.into(),
            description: [
                (
                    "en".to_string(),
                    format!("{title}: what we will do, in one sentence."),
                ),
                (
                    "de".to_string(),
                    format!("{title}: was wir tun, in einem Satz."),
                ),
            ]
            .into(),
            owner: "lead@example.com".into(),
            due: due.into(),
        };
        let overdue = actions::create(
            &mut conn,
            &cache,
            &lead,
            &plan(
                "csat",
                "",
                "Answer every request within two days",
                "2020-03-31",
            ),
            now(),
        )
        .unwrap();
        let published = actions::create(
            &mut conn,
            &cache,
            &lead,
            &plan(
                "pain_point:approval_delays",
                "business_unit=Manufacturing",
                "Approval fast track for orders under €5,000",
                "2099-06-30",
            ),
            now(),
        )
        .unwrap();
        actions::add_note(
            &mut conn,
            &lead,
            &published.id,
            "Pilot started in two plants; approvals now take a day there.",
            Some("in_progress"),
            now(),
        )
        .unwrap();
        actions::set_published(&mut conn, &admin, &published.id, true, now()).unwrap();
        (overdue.id, published.id)
    };
    // A later wave, so "did it work" has a second row.
    let second = open_wave(&app, "internal-customer", "H2 2026", "");
    respond(
        &app,
        &second,
        &[
            ("Manufacturing", 16),
            ("R&D", 12),
            ("Sales", 8),
            ("Legal", 4),
        ],
    );
    {
        let mut conn = app.pool.get().unwrap();
        assert!(pulse::services::waves::close_wave(&mut conn, &second, now()).unwrap());
    }

    sign_in(
        &client,
        &app,
        "lead@example.com",
        "a[href='/admin/results']",
    )
    .await;
    // From the results page's link to a prefilled form, planned in the browser.
    client.set_window_size(1280, 1000).await.unwrap();
    client
        .goto(&app.url(&format!("/admin/waves/{second}/results")))
        .await
        .unwrap();
    crate::browser::click_and_wait(&client, "#nps a.plan-action", Locator::Id("title")).await;
    client
        .find(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys("Publish the approval rules")
        .await
        .unwrap();
    client
        .find(Locator::Id("text-en"))
        .await
        .unwrap()
        .send_keys("The approval rules are now on one page of the intranet.")
        .await
        .unwrap();
    client
        .execute(
            "document.getElementById('due').value = '2099-04-30';",
            vec![],
        )
        .await
        .unwrap();
    click_and_wait(
        &client,
        "form[action='/admin/actions'] button[type='submit']",
        Locator::Id("worked-heading"),
    )
    .await;
    let page = client.source().await.unwrap();
    assert!(page.contains("Action planned: Publish the approval rules."));
    assert!(page.contains("Only an admin can publish"));

    let mut violations = Vec::new();
    let pages = [
        (
            "/admin/surveys/internal-customer/actions".to_string(),
            "actions",
        ),
        (
            "/admin/surveys/internal-customer/actions?overdue=1".to_string(),
            "actions-overdue",
        ),
        (format!("/admin/actions/{published}"), "action"),
        (format!("/admin/actions/{overdue}"), "action-overdue"),
        (
            format!("/admin/actions/new?wave={first}&target=dimension:ease"),
            "action-new",
        ),
        (
            format!("/admin/waves/{first}/results"),
            "results-plan-links",
        ),
    ];
    for (path, name) in &pages {
        check_page(&client, &app, axe.as_deref(), path, name, &mut violations).await;
    }
    // "Did it work" and the history, further down the action's page.
    for width in [1280, 390] {
        client.set_window_size(width, 1000).await.unwrap();
        client
            .goto(&app.url(&format!("/admin/actions/{published}")))
            .await
            .unwrap();
        client
            .execute(
                "document.getElementById('worked-heading').scrollIntoView();",
                vec![],
            )
            .await
            .unwrap();
        crate::browser::screenshot(&client, width, &format!("page-action-worked-{width}.png"))
            .await;
    }
    client.close().await.unwrap();
    assert!(
        violations.is_empty(),
        "{} axe-core violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}
