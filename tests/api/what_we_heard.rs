//! "What we heard" and the owners' digest end to end (issue 13): the summary of a closed
//! wave goes to everyone invited except who opted out or is suppressed — exactly once, if
//! pressed twice or sent by two instances at once — in each reader's language, with the
//! figures of the results page, and its link opens the same summary without signing in
//! until it is revoked. Owners get one digest a week with what is due, none when nothing
//! is; the home page lists actions due.

use std::collections::HashMap;

use diesel::prelude::*;
use pulse::actions::{self, heard};
use pulse::db::models::{opt_outs, stakeholders as stakeholder_rows};
use pulse::db::schema::outbox;
use pulse::domain::Role;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{new_client, sign_in, spawn_app, Backend, TestApp};
use crate::results::respond;
use crate::said_did::{
    answered_wave, close, import_people, now, open, plan, schedule, worker, worker_at, ADMIN, LEAD,
};
use crate::smtp_server::SmtpServer;

fn outbox_count(app: &TestApp, kind: &str, wave: Option<&str>) -> i64 {
    let mut conn = app.pool.get().unwrap();
    let mut query = outbox::table.filter(outbox::kind.eq(kind)).into_boxed();
    if let Some(wave) = wave {
        query = query.filter(outbox::wave_id.eq(wave.to_string()));
    }
    query.count().get_result(&mut *conn).unwrap()
}

/// The first `…/w/{token}` link in a mail body.
fn summary_link(body: &str) -> Option<String> {
    body.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|word| word.starts_with("http") && word.contains("/w/"))
        .map(|word| word.trim_end_matches(['.', ',', ')']).to_string())
}

fn pct(share: f64) -> String {
    format!("{:.1} %", 100.0 * share)
}

/// The top pain points of a results JSON document: (key, English label, share), most
/// named first.
fn top_pain_points(results: &Value) -> Vec<(String, String, f64)> {
    let mut all: Vec<(u64, String, String, f64)> = Vec::new();
    for question in results["pain_points"].as_array().unwrap() {
        for stage in question["stages"].as_array().unwrap() {
            for option in stage["options"].as_array().unwrap() {
                let count = option["count"].as_u64().unwrap();
                if count > 0 {
                    all.push((
                        count,
                        option["key"].as_str().unwrap().to_string(),
                        option["label"].as_str().unwrap().to_string(),
                        option["share"].as_f64().unwrap(),
                    ));
                }
            }
        }
    }
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    all.into_iter()
        .take(3)
        .map(|(_, key, label, share)| (key, label, share))
        .collect()
}

async fn what_we_heard_goes_once_to_the_invited_with_the_results_pages_figures(backend: Backend) {
    // Arrange: two closed waves (the second is compared with the first), an action of each
    // kind, one person opted out of the survey and one address suppressed.
    let app = spawn_app(backend).await;
    let people = import_people(&app);
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let first = answered_wave(&app, "H1 2026");
    let second = answered_wave(&app, "H2 2026");
    plan(
        &app,
        &second,
        "pain_point:approval_delays",
        "Approval fast track",
        true,
        Some("in_progress"),
        "2099-03-31",
    );
    plan(
        &app,
        &second,
        "csat",
        "Internal only",
        false,
        None,
        "2099-03-31",
    );
    {
        let mut conn = app.pool.get().unwrap();
        let p5 = stakeholder_rows::find_by_email(&mut conn, "p5@example.com")
            .unwrap()
            .unwrap();
        opt_outs::opt_out(&mut conn, &p5.id, "internal-customer", now()).unwrap();
        opt_outs::suppress(&mut conn, "p6@example.com", "550 no such user", None, now()).unwrap();
    }
    let reached = people.len() - 2;
    let (lead, lead_csrf) = sign_in(&app, LEAD).await;
    let (admin, admin_csrf) = sign_in(&app, ADMIN).await;

    // A lead sees the page but cannot send.
    let page = lead
        .get(app.url(&format!("/admin/waves/{second}/what-we-heard")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("An admin sends it."));
    let refused = lead
        .post(app.url(&format!("/admin/what-we-heard/{second}")))
        .form(&[("csrf_token", lead_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // Without the CSRF token, neither can an admin.
    let refused = admin
        .post(app.url(&format!("/admin/what-we-heard/{second}")))
        .form(&[("csrf_token", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(outbox_count(&app, "what_we_heard", None), 0);
    let page = admin
        .get(app.url(&format!("/admin/waves/{second}/what-we-heard")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("Send “what we heard” to {reached} people")),
        "{page}"
    );

    // Act: the admin presses twice at once.
    let send = || {
        admin
            .post(app.url(&format!("/admin/what-we-heard/{second}")))
            .form(&[("csrf_token", admin_csrf.as_str())])
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    assert_eq!(
        (a.unwrap().status().as_u16(), b.unwrap().status().as_u16()),
        (303, 303)
    );
    assert_eq!(
        outbox_count(&app, "what_we_heard", Some(&second)),
        reached as i64
    );
    // Two instances send the first wave's at the same moment: one queues, one finds it done.
    let sends: Vec<_> = (0..2)
        .map(|_| {
            let pool = app.pool.clone();
            let key = app.secret_key();
            let first = first.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                let admin = actions::actor_by_email(&mut conn, ADMIN).unwrap();
                heard::send(&mut conn, &key, &admin, &first, now()).unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for send in sends {
        outcomes.push(send.await.unwrap());
    }
    let queued: Vec<usize> = outcomes
        .iter()
        .filter_map(|o| match o {
            heard::SendOutcome::Sent { recipients } => Some(*recipients),
            heard::SendOutcome::AlreadySent { .. } => None,
        })
        .collect();
    assert_eq!(queued, [reached], "{outcomes:?}");
    assert_eq!(
        outbox_count(&app, "what_we_heard", Some(&first)),
        reached as i64
    );

    // The mails go out through a real SMTP server: one per person and wave, nobody else.
    let smtp = SmtpServer::start().await;
    let report = worker(&app, &smtp).drain().await.unwrap();
    // And the lead's two "results are ready".
    assert_eq!(report.sent, 2 * reached + 2);
    let mails: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.to != [LEAD])
        .collect();
    let mut per_person: HashMap<String, usize> = HashMap::new();
    for mail in &mails {
        *per_person.entry(mail.to.join(",")).or_default() += 1;
    }
    assert_eq!(per_person.len(), reached);
    assert!(per_person.values().all(|n| *n == 2));
    assert!(!per_person.contains_key("p5@example.com"));
    assert!(!per_person.contains_key("p6@example.com"));
    // Nothing more, however often the outbox runs.
    assert_eq!(worker(&app, &smtp).drain().await.unwrap().sent, 0);

    // The figures are the results page's.
    let results: Value = lead
        .get(app.url(&format!("/api/v1/waves/{second}/results")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results_page = lead
        .get(app.url(&format!("/admin/waves/{second}/results")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let nps = format!("{:+.1}", results["nps"]["score"].as_f64().unwrap());
    let nps_change = format!(
        "{:+.1} points since H1 2026",
        results["nps"]["change"]["diff"].as_f64().unwrap()
    );
    let csat = pct(results["csat"]["top2box"].as_f64().unwrap());
    let rate = pct(results["response_rate"].as_f64().unwrap());
    for figure in [&nps, &rate] {
        assert!(
            results_page.contains(figure.as_str()),
            "{figure} on the results page"
        );
    }
    let pain = top_pain_points(&results);
    assert_eq!(pain[0].0, "approval_delays");
    let is_second =
        |m: &&crate::smtp_server::ReceivedMessage| m.subject().unwrap().ends_with("H2 2026");
    let english = mails
        .iter()
        .filter(is_second)
        .find(|m| m.to == ["p0@example.com"])
        .unwrap();
    assert_eq!(
        english.subject().unwrap(),
        "What we heard: How is Procurement doing for you? — H2 2026"
    );
    let text = english.text_body().unwrap();
    assert!(text.starts_with("Hello Person 0,"), "{text}");
    assert!(
        text.contains(&format!(
            "{} of {} people answered ({rate} response rate).",
            results["responses"], results["invited"]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("Net Promoter Score: {nps} ({nps_change}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Satisfaction, share of good or very good ratings: {csat}"
        )),
        "{text}"
    );
    for (_, label, share) in &pain {
        assert!(
            text.contains(&format!("* {label}: named by {}", pct(*share))),
            "{text}"
        );
    }
    assert!(text.contains(
        "* You told us: Approvals took too long. Approval fast track: what we do (en). (Under way)"
    ));
    assert!(!text.contains("Internal only"));
    assert!(english.list_unsubscribe().unwrap().contains("/u/"));
    let html = english.html_body().unwrap();
    assert!(html.contains(&format!("<strong>{nps}</strong>")), "{html}");
    // German for a German reader, with a decimal comma.
    let german = mails
        .iter()
        .filter(is_second)
        .find(|m| m.to == ["p3@example.com"])
        .unwrap();
    assert!(german
        .subject()
        .unwrap()
        .starts_with("Was wir gehört haben: Wie gut unterstützt Sie der Einkauf?"));
    let text_de = german.text_body().unwrap();
    assert!(
        text_de.contains(&format!("Net Promoter Score: {}", nps.replace('.', ","))),
        "{text_de}"
    );
    assert!(text_de.contains("* Freigaben haben zu lange gedauert: genannt von"));
    assert!(text_de.contains("Approval fast track: was wir tun (de). (In Arbeit)"));

    // The mail's link opens the same summary, signed out.
    let link = summary_link(&text).expect("a summary link");
    assert!(link.ends_with("?lang=en"), "{link}");
    let visitor = new_client();
    let response = visitor.get(&link).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let page = response.text().await.unwrap();
    for figure in [&nps, &nps_change, &csat, &rate] {
        assert!(page.contains(figure.as_str()), "{figure}: {page}");
    }
    assert!(page.contains("Approval fast track: what we do (en)."));
    assert!(!page.contains("Internal only"));
    let page_de = visitor
        .get(link.replace("?lang=en", "?lang=de"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page_de.contains("<html lang=\"de\""));
    assert!(page_de.contains("Was wir gehört haben"));
    assert!(page_de.contains(&nps.replace('.', ",")));
    // The database holds the link's hash, never the link.
    let token = link
        .rsplit("/w/")
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let mut conn = app.pool.get().unwrap();
    let stored: Vec<(String, String)> = pulse::db::schema::wave_summaries::table
        .select((
            pulse::db::schema::wave_summaries::id,
            pulse::db::schema::wave_summaries::link_hash,
        ))
        .load(&mut *conn)
        .unwrap();
    drop(conn);
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|(id, hash)| id != token && hash != token));

    // The JSON API has the same summary.
    let api: Value = lead
        .get(app.url(&format!("/api/v1/waves/{second}/what-we-heard")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["summary"]["nps"]["value"], nps);
    assert_eq!(api["status"]["sent"]["recipients"], reached);

    // Revoked, the link opens nothing — like a link that never existed.
    let unknown = visitor
        .get(app.url("/w/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown = unknown.text().await.unwrap();
    let revoke = admin
        .post(app.url(&format!("/admin/what-we-heard/{second}/revoke")))
        .form(&[("csrf_token", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303);
    let gone = visitor.get(&link).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.text().await.unwrap(), unknown);
    let page = admin
        .get(app.url(&format!("/admin/waves/{second}/what-we-heard")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The link was revoked"), "{page}");
}

async fn a_wave_with_too_few_answers_says_so_and_shows_no_figure(backend: Backend) {
    let app = spawn_app(backend).await;
    import_people(&app);
    app.create_user(LEAD, Role::Lead);
    let wave = schedule(&app, "Small", "now");
    open(&app, &wave);
    respond(&app, &wave, &[("Legal", 2)]);
    close(&app, &wave);
    let (lead, _) = sign_in(&app, LEAD).await;
    let api: Value = lead
        .get(app.url(&format!("/api/v1/waves/{wave}/what-we-heard")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let summary = &api["summary"];
    assert_eq!(summary["shown"], false, "{api}");
    assert!(summary["nps"].is_null() && summary["csat"].is_null());
    assert_eq!(summary["pain_points"], serde_json::json!([]));
    assert_eq!(summary["responses"], 2);
    let page = lead
        .get(app.url(&format!("/admin/waves/{wave}/what-we-heard")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Too few people answered"));
    // An open wave has no summary to send.
    let open_wave = schedule(&app, "Open", "now");
    open(&app, &open_wave);
    app.create_user(ADMIN, Role::Admin);
    let mut conn = app.pool.get().unwrap();
    let admin = actions::actor_by_email(&mut conn, ADMIN).unwrap();
    let refused = heard::send(&mut conn, &app.secret_key(), &admin, &open_wave, now());
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("goes out once the wave has closed"),);
}

async fn owners_get_one_digest_a_week_listing_what_is_due(backend: Backend) {
    let app = spawn_app(backend).await;
    import_people(&app);
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let wave = answered_wave(&app, "H1 2026");
    // The lead's "results are ready" goes first.
    let smtp = SmtpServer::start().await;
    assert_eq!(worker(&app, &smtp).drain().await.unwrap().sent, 1);
    let today = now().date();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    plan(
        &app,
        &wave,
        "nps",
        "Due in three days",
        false,
        None,
        &day(3),
    );
    plan(
        &app,
        &wave,
        "csat",
        "Overdue since Monday",
        false,
        Some("in_progress"),
        &day(-2),
    );
    plan(
        &app,
        &wave,
        "dimension:ease",
        "Due next month",
        false,
        None,
        &day(30),
    );
    plan(
        &app,
        &wave,
        "dimension:alignment",
        "Done already",
        false,
        Some("done"),
        &day(-5),
    );

    // The first tick of the week queues one digest (the admin owns nothing); later ticks —
    // of this process or another — queue nothing more that week.
    let tick = |at: chrono::NaiveDateTime| crate::waves::tick(&app, at);
    assert_eq!(tick(now()).digests, 1);
    assert_eq!(tick(now()).digests, 0);
    let ticks: Vec<_> = (0..2)
        .map(|_| {
            let pool = app.pool.clone();
            let key = app.secret_key();
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                pulse::scheduler::tick(&mut conn, &key, now())
                    .unwrap()
                    .digests
            })
        })
        .collect();
    for t in ticks {
        assert_eq!(t.await.unwrap(), 0);
    }
    assert_eq!(outbox_count(&app, "owner_digest", None), 1);

    assert_eq!(worker(&app, &smtp).drain().await.unwrap().sent, 1);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2);
    let mail = &mails[1];
    assert_eq!(mail.to, [LEAD]);
    assert_eq!(
        mail.subject().unwrap(),
        "Your actions: 1 overdue, 1 due within 14 days"
    );
    let text = mail.text_body().unwrap();
    let overdue = text.find("* Overdue since Monday").expect(&text);
    let soon = text.find("* Due in three days").expect(&text);
    assert!(overdue < soon, "soonest first: {text}");
    assert!(text.contains("OVERDUE, was due"));
    assert!(!text.contains("Due next month") && !text.contains("Done already"));
    assert!(text.contains(&format!("{}/admin/actions/", app.address)));

    // A week later, a new digest.
    let next_week = now() + chrono::Duration::days(7);
    assert_eq!(tick(next_week).digests, 1);
    // Nothing due (all done): no digest, and none is sent if it was queued meanwhile.
    {
        let mut conn = app.pool.get().unwrap();
        let lead = actions::actor_by_email(&mut conn, LEAD).unwrap();
        for action in actions::list(&mut conn, None, &Default::default(), now()).unwrap() {
            if action.status.is_open() {
                actions::update(
                    &mut conn,
                    &lead,
                    &action.id,
                    &actions::ActionUpdate {
                        status: Some("done".into()),
                        ..Default::default()
                    },
                    now(),
                )
                .unwrap();
            }
        }
    }
    let report = worker_at(&app, &smtp, next_week + chrono::Duration::minutes(1))
        .drain()
        .await
        .unwrap();
    assert_eq!((report.sent, report.cancelled), (0, 1), "{report:?}");
    assert_eq!(tick(now() + chrono::Duration::days(14)).digests, 0);
    assert_eq!(smtp.messages().len(), 2);
}

async fn the_home_page_lists_actions_due(backend: Backend) {
    let app = spawn_app(backend).await;
    import_people(&app);
    app.create_user(LEAD, Role::Lead);
    app.create_user(ADMIN, Role::Admin);
    let (lead, _) = sign_in(&app, LEAD).await;
    let home = |client: reqwest::Client| {
        let url = app.url("/admin");
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(home(lead.clone())
        .await
        .contains("Nothing due in the next 14 days, and nothing overdue."));
    let wave = answered_wave(&app, "H1 2026");
    let today = now().date();
    plan(
        &app,
        &wave,
        "nps",
        "Late <one>",
        false,
        None,
        &(today - chrono::Duration::days(1)).to_string(),
    );
    plan(&app, &wave, "csat", "Far off", false, None, "2099-01-01");
    let page = home(lead).await;
    assert!(page.contains("Late &lt;one&gt;"), "escaped: {page}");
    assert!(page.contains("overdue: was due"));
    assert!(!page.contains("Far off"));
}

both_backends!(
    what_we_heard_goes_once_to_the_invited_with_the_results_pages_figures,
    a_wave_with_too_few_answers_says_so_and_shows_no_figure,
    owners_get_one_digest_a_week_listing_what_is_due,
    the_home_page_lists_actions_due,
);
