//! Pulses after fulfilled requests (issue 15), end to end on both backends: requests
//! imported through the real parser and service, the real scheduler tick, the real outbox
//! sending to a real SMTP server on loopback, the real survey form on the real server.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use pulse::clock::ManualClock;
use pulse::db::schema::{request_pulses, responses};
use pulse::pulse::{Quarter, SkipReason};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{spawn_app, survey_link, unsubscribe_link, Backend, TestApp};
use crate::smtp_server::SmtpServer;
use crate::waves::{outbox, tick};

both_backends!(
    a_fulfilled_request_invites_its_requester_once_after_the_delay,
    touch_rules_skip_pulses_and_the_page_counts_them,
    two_processes_decide_each_pulse_once,
    a_request_fulfilled_through_the_api_owes_a_pulse,
    a_quarter_is_released_once_it_ends_and_only_for_groups_of_k,
);

fn real_now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// One request row of the request-log CSV.
struct Req<'a> {
    id: &'a str,
    email: &'a str,
    unit: &'a str,
    opened_days_ago: i64,
    /// `None`: still open.
    fulfilled_days_ago: Option<i64>,
}

/// Imports requests through the CSV parser and the import service, as `pulse requests
/// import` does, at `now`.
fn import(app: &TestApp, requests: &[Req<'_>], now: NaiveDateTime) -> usize {
    let today = now.date();
    let mut csv = String::from(
        "request_id,business_unit,requester_email,category,channel,opened_on,fulfilled_on\n",
    );
    for r in requests {
        let fulfilled = r
            .fulfilled_days_ago
            .map(|d| (today - Duration::days(d)).to_string())
            .unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},IT hardware,catalogue,{},{}\n",
            r.id,
            r.unit,
            r.email,
            today - Duration::days(r.opened_days_ago),
            fulfilled
        ));
    }
    let records = pulse::requests::parse_requests(csv.as_bytes()).unwrap();
    let mut conn = app.pool.get().unwrap();
    let targets = pulse::scorecards::request_figures::TargetDays::default();
    pulse::requests::apply_import(&mut conn, &records, &targets, now)
        .unwrap()
        .unwrap();
    pulses_recorded(app)
}

fn pulses_recorded(app: &TestApp) -> usize {
    let mut conn = app.pool.get().unwrap();
    let n: i64 = request_pulses::table.count().get_result(&mut conn).unwrap();
    n as usize
}

fn fulfilled<'a>(id: &'a str, email: &'a str, unit: &'a str) -> Req<'a> {
    Req {
        id,
        email,
        unit,
        opened_days_ago: 10,
        fulfilled_days_ago: Some(1),
    }
}

async fn a_fulfilled_request_invites_its_requester_once_after_the_delay(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(6);
    let smtp = SmtpServer::start().await;
    let now = real_now();
    let mut open = fulfilled("R-2", "person1@example.com", "Sales");
    open.fulfilled_days_ago = None;
    let recorded = import(
        &app,
        &[fulfilled("R-1", "person0@example.com", "Sales"), open],
        now,
    );
    assert_eq!(recorded, 1, "only the fulfilled request owes a pulse");

    // Within the delay (a day by default): nothing.
    let early = tick(&app, now + Duration::hours(23));
    assert_eq!((early.pulses_invited, early.pulses_skipped), (0, 0));
    // After it: one invitation, and a second tick (or process) finds nothing more.
    let due = tick(&app, now + Duration::hours(25));
    assert_eq!((due.pulses_invited, due.pulses_skipped), (1, 0));
    assert_eq!(tick(&app, now + Duration::hours(26)).pulses_invited, 0);

    // Imported again, and R-2 fulfilled now: R-1 owes nothing more, R-2 owes one.
    let mut later = fulfilled("R-2", "person1@example.com", "Sales");
    later.fulfilled_days_ago = Some(0);
    let recorded = import(
        &app,
        &[fulfilled("R-1", "person0@example.com", "Sales"), later],
        now + Duration::hours(30),
    );
    assert_eq!(
        recorded, 2,
        "one pulse per request, however often it is imported"
    );
    let second = tick(&app, now + Duration::hours(55));
    assert_eq!(second.pulses_invited, 1);

    // The mails: one each, with the pulse survey's personal link.
    let clock = ManualClock::new(now + Duration::hours(56));
    assert_eq!(
        outbox(&app, &smtp, &clock)
            .await
            .drain()
            .await
            .unwrap()
            .sent,
        2
    );
    let mails = smtp.messages();
    let mut recipients: Vec<String> = mails.iter().map(|m| m.to.join(",")).collect();
    recipients.sort();
    assert_eq!(recipients, ["person0@example.com", "person1@example.com"]);
    let to = |who: &str| mails.iter().find(|m| m.to == [who]).unwrap();
    let body = to("person0@example.com").text_body().unwrap();
    let link = survey_link(&body).expect("a survey link");
    let path = link.replace("https://pulse.example.com", "");

    // Opening the link twice stores nothing; the form is the pulse survey's.
    for _ in 0..2 {
        let page = app.get(&path).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("name=\"recommend\""), "{html}");
        assert!(html.contains("name=\"overall_satisfaction\""));
    }
    assert_eq!(stored_responses(&app).len(), 0);
    let answered = app
        .client
        .post(app.url(&path))
        .form(&[("recommend", "9"), ("overall_satisfaction", "4")])
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_success() || answered.status().is_redirection());
    // Stored under a sealed cell (no group, no link to the invitation without the key) and
    // dated by quarter, not by day.
    let stored = stored_responses(&app);
    assert_eq!(stored.len(), 1);
    assert!(stored[0].0.starts_with("sealed:"), "{}", stored[0].0);
    assert!(!stored[0].0.contains("Sales"));
    assert_eq!(stored[0].1, Quarter::of(real_now().date()).start());
    let mut conn = app.pool.get().unwrap();
    let invitations: Vec<String> = pulse::db::schema::invitations::table
        .select(pulse::db::schema::invitations::response_cell)
        .load(&mut conn)
        .unwrap();
    assert!(
        invitations.iter().all(|cell| *cell != stored[0].0),
        "no invitation row names the sealed cell"
    );

    // A pulse opt-out is its own choice: the next pulse is skipped, surveys still come.
    let unsubscribe = unsubscribe_link(&to("person1@example.com").text_body().unwrap()).unwrap();
    let unsubscribe = unsubscribe.replace("https://pulse.example.com", "");
    let confirm = app
        .client
        .post(app.url(&unsubscribe))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert!(confirm.status().is_success(), "{}", confirm.status());
    let recorded = import(
        &app,
        &[fulfilled("R-3", "person1@example.com", "Sales")],
        now + Duration::days(40),
    );
    assert_eq!(recorded, 3);
    let third = tick(&app, now + Duration::days(41));
    assert_eq!((third.pulses_invited, third.pulses_skipped), (0, 1));
    assert_eq!(skip_counts(&app)[SkipReason::OptedOut.as_str()], 1);
    let opted_out: Vec<(String, String)> = pulse::db::schema::opt_outs::table
        .select((
            pulse::db::schema::opt_outs::stakeholder_id,
            pulse::db::schema::opt_outs::survey_slug,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(opted_out.len(), 1);
    assert_eq!(
        opted_out[0].1, "pulse-check",
        "only pulses were opted out of"
    );
}

fn stored_responses(app: &TestApp) -> Vec<(String, chrono::NaiveDate)> {
    let mut conn = app.pool.get().unwrap();
    responses::table
        .select((responses::cell, responses::submitted_on))
        .load(&mut conn)
        .unwrap()
}

/// Skipped pulses per reason, as stored.
fn skip_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let mut conn = app.pool.get().unwrap();
    let mut counts: BTreeMap<String, i64> = SkipReason::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), 0))
        .collect();
    let rows: Vec<Option<String>> = request_pulses::table
        .filter(request_pulses::state.eq("skipped"))
        .select(request_pulses::skip_reason)
        .load(&mut conn)
        .unwrap();
    for reason in rows.into_iter().flatten() {
        *counts.entry(reason).or_default() += 1;
    }
    counts
}

async fn touch_rules_skip_pulses_and_the_page_counts_them(backend: Backend) {
    let app = spawn_app(backend).await;
    // person{i}: business units Manufacturing, R&D, Sales by i % 3; EMEA, Americas by i % 2.
    app.seed_stakeholders(12);
    let now = real_now();
    {
        let mut conn = app.pool.get().unwrap();
        // person1's address bounced.
        pulse::db::models::opt_outs::suppress(
            &mut conn,
            "person1@example.com",
            "550 no such user",
            None,
            now,
        )
        .unwrap();
    }
    // A half-year wave for Manufacturing is open (person0, 3, 6, 9 hold its invitations),
    // and one for R&D (person1, 4, 7, 10) opens in ten days.
    let open_id = scheduled_wave(
        &app,
        "business_unit=Manufacturing",
        now - Duration::days(1),
        now,
    );
    assert_eq!(tick(&app, now).waves_opened, 1, "{open_id}");
    scheduled_wave(&app, "business_unit=R&D", now + Duration::days(10), now);

    let old = Req {
        id: "R-old",
        email: "person2@example.com",
        unit: "Sales",
        opened_days_ago: 120,
        fulfilled_days_ago: Some(90),
    };
    import(
        &app,
        &[
            fulfilled("R-a", "person0@example.com", "Sales"), // open survey invitation
            fulfilled("R-b", "person1@example.com", "Sales"), // suppressed
            old,                                              // fulfilled long ago
            fulfilled("R-c", "person4@example.com", "Sales"), // R&D wave opens soon
            fulfilled("R-d", "nobody@example.com", "Sales"),  // not in the directory
            fulfilled("R-e", "person5@example.com", "Sales"), // invited
            fulfilled("R-f", "person5@example.com", "Sales"), // same person, same batch
            fulfilled("R-g", "person2@example.com", "Sales"), // invited
        ],
        now,
    );
    let report = tick(&app, now + Duration::hours(25));
    assert_eq!((report.pulses_invited, report.pulses_skipped), (2, 6));
    let counts = skip_counts(&app);
    for (reason, n) in [
        (SkipReason::OpenSurveyInvitation, 1),
        (SkipReason::Suppressed, 1),
        (SkipReason::FulfilledLongAgo, 1),
        (SkipReason::WaveOpensSoon, 1),
        (SkipReason::NotInDirectory, 1),
        (SkipReason::PulsedRecently, 1),
        (SkipReason::OptedOut, 0),
        (SkipReason::SwitchedOff, 0),
    ] {
        assert_eq!(counts[reason.as_str()], n, "{reason:?}");
    }

    // Within 30 days person5 gets no second pulse; after them, one.
    import(
        &app,
        &[fulfilled("R-h", "person5@example.com", "Sales")],
        now + Duration::days(20),
    );
    let within = tick(&app, now + Duration::days(21));
    assert_eq!((within.pulses_invited, within.pulses_skipped), (0, 1));
    import(
        &app,
        &[fulfilled("R-i", "person5@example.com", "Sales")],
        now + Duration::days(35),
    );
    assert_eq!(tick(&app, now + Duration::days(36)).pulses_invited, 1);

    // The page counts them by reason, in words.
    app.create_user("admin@example.com", pulse::domain::role::Role::Admin);
    let (client, csrf) = crate::helpers::sign_in(&app, "admin@example.com").await;
    let html = client
        .get(app.url("/admin/pulses"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"pulses-invited\">3<"), "{html}");
    assert!(html.contains("id=\"pulses-skipped\">7<"), "{html}");
    assert!(html.contains("the requester had a pulse recently</td><td class=\"num\">2<"));
    assert!(html.contains("the requester is not an active stakeholder</td><td class=\"num\">1<"));

    // Switched off by an admin (with CSRF): owed pulses are skipped as such.
    let refused = client
        .post(app.url("/admin/pulses/settings"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("survey_slug", "pulse-check"),
            ("delay_hours", "a day"),
            ("min_days_between", "30"),
            ("quiet_days_before_wave", "14"),
            ("max_age_days", "30"),
            ("answer_days", "14"),
            ("anonymity_k", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Give a whole number from 0 to 720 hours."));
    let saved = client
        .post(app.url("/admin/pulses/settings"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("survey_slug", "pulse-check"),
            ("delay_hours", "2"),
            ("min_days_between", "30"),
            ("quiet_days_before_wave", "14"),
            ("max_age_days", "30"),
            ("answer_days", "14"),
            ("anonymity_k", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    import(
        &app,
        &[fulfilled("R-j", "person8@example.com", "Sales")],
        now + Duration::days(50),
    );
    let off = tick(&app, now + Duration::days(50) + Duration::hours(3));
    assert_eq!((off.pulses_invited, off.pulses_skipped), (0, 1));
    assert_eq!(skip_counts(&app)[SkipReason::SwitchedOff.as_str()], 1);
    let no_csrf = client
        .post(app.url("/admin/pulses/settings"))
        .form(&[("survey_slug", "pulse-check")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
}

/// A wave of `internal-customer` for `audience`, opening at `opens` and closing 30 days later.
fn scheduled_wave(
    app: &TestApp,
    audience: &str,
    opens: NaiveDateTime,
    now: NaiveDateTime,
) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = pulse::domain::wave::WaveInput {
        survey: "internal-customer".into(),
        title: format!("Survey for {audience}"),
        opens: opens.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        closes: (opens + Duration::days(30))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        remind: "none".into(),
        audience: audience.into(),
        ..Default::default()
    };
    pulse::services::waves::schedule_wave(&mut conn, &input, now - Duration::days(2))
        .unwrap()
        .id
}

async fn two_processes_decide_each_pulse_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(40);
    let now = real_now();
    let emails: Vec<String> = (0..40).map(|i| format!("person{i}@example.com")).collect();
    let ids: Vec<String> = (0..40).map(|i| format!("R-{i}")).collect();
    let requests: Vec<Req<'_>> = (0..40)
        .map(|i| fulfilled(&ids[i], &emails[i], "Sales"))
        .collect();
    import(&app, &requests, now);
    // Two "processes" (two connections, two threads) tick at once, several times.
    let key = app.secret_key();
    let at = now + Duration::hours(25);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let pool = app.pool.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                let mut invited = 0;
                for _ in 0..3 {
                    let mut conn = pool.get().unwrap();
                    invited += pulse::pulse::send_due(&mut conn, &key, at).unwrap().invited;
                }
                invited
            })
        })
        .collect();
    let invited: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(invited, 40);
    let mut conn = app.pool.get().unwrap();
    use pulse::db::schema::{invitations, outbox, pulse_periods};
    let mails: i64 = outbox::table.count().get_result(&mut conn).unwrap();
    let invitation_rows: i64 = invitations::table.count().get_result(&mut conn).unwrap();
    let periods: i64 = pulse_periods::table.count().get_result(&mut conn).unwrap();
    assert_eq!((mails, invitation_rows, periods), (40, 40, 1));
}

async fn a_quarter_is_released_once_it_ends_and_only_for_groups_of_k(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(14);
    let smtp = SmtpServer::start().await;
    let now = real_now();
    // 14 requests of Sales, IT hardware, catalogue: 10 fulfilled within target, 4 late.
    let emails: Vec<String> = (0..14).map(|i| format!("person{i}@example.com")).collect();
    let ids: Vec<String> = (0..14).map(|i| format!("R-{i}")).collect();
    let requests: Vec<Req<'_>> = (0..14)
        .map(|i| Req {
            id: &ids[i],
            email: &emails[i],
            unit: "Sales",
            opened_days_ago: if i < 10 { 20 } else { 200 },
            fulfilled_days_ago: Some(1),
        })
        .collect();
    import(&app, &requests, now);
    let at = now + Duration::hours(25);
    assert_eq!(tick(&app, at).pulses_invited, 14);
    let clock = ManualClock::new(at);
    assert_eq!(
        outbox(&app, &smtp, &clock)
            .await
            .drain()
            .await
            .unwrap()
            .sent,
        14
    );

    // Everyone answers; the late requesters score lower.
    let mut scores = Vec::new();
    for mail in smtp.messages() {
        let to = mail.to.join(",");
        let i: usize = to
            .trim_start_matches("person")
            .trim_end_matches("@example.com")
            .parse()
            .unwrap();
        let score = if i < 10 {
            7 + (i % 4) as i32
        } else {
            2 + (i % 3) as i32
        };
        scores.push(score);
        let path = survey_link(&mail.text_body().unwrap())
            .unwrap()
            .replace("https://pulse.example.com", "");
        let answered = app
            .client
            .post(app.url(&path))
            .form(&[
                ("recommend", score.to_string()),
                ("overall_satisfaction", "4".to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert!(answered.status().is_success() || answered.status().is_redirection());
    }
    let promoters = scores.iter().filter(|s| **s >= 9).count() as f64;
    let detractors = scores.iter().filter(|s| **s <= 6).count() as f64;
    let nps = (promoters - detractors) / 14.0 * 100.0;

    app.create_user("lead@example.com", pulse::domain::role::Role::Lead);
    let (client, _) = crate::helpers::sign_in(&app, "lead@example.com").await;
    let wave_id = {
        let mut conn = app.pool.get().unwrap();
        pulse::db::schema::pulse_periods::table
            .select(pulse::db::schema::pulse_periods::wave_id)
            .first::<String>(&mut conn)
            .unwrap()
    };
    let results = |client: reqwest::Client, wave_id: String| {
        let url = app.url(&format!("/api/v1/waves/{wave_id}/results"));
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    // While the quarter runs: participation only, no answer figure.
    let open = results(client.clone(), wave_id.clone()).await;
    assert_eq!(open["answers_released"], false);
    assert!(open["nps"].is_null());
    assert_eq!(open["responses"], 14);

    // A pulse wave is not closed by hand: it closes by itself after its quarter.
    for verb in ["close", "cancel"] {
        let refused = app.cli(&["wave", verb, &wave_id]);
        assert!(!refused.status.success());
        assert!(
            crate::helpers::text(&refused.stderr).contains("closes by itself"),
            "{}",
            crate::helpers::text(&refused.stderr)
        );
    }

    // Not yet at the quarter's end, nor within the answer days after it.
    let quarter = Quarter::of(at.date());
    let end = quarter.end().and_hms_opt(23, 0, 0).unwrap();
    assert_eq!(tick(&app, end).pulses_closed, 0);
    assert_eq!(tick(&app, end + Duration::days(14)).pulses_closed, 0);
    assert_eq!(tick(&app, end + Duration::days(15)).pulses_closed, 1);

    let closed = results(client, wave_id).await;
    assert_eq!(closed["answers_released"], true);
    let shown_nps = closed["nps"]["score"].as_f64().unwrap();
    assert!((shown_nps - nps).abs() < 1e-9, "{shown_nps} vs {nps}");
    // By fulfilment: the late group (4 < k = 5) is hidden, and with it the other one (the
    // whole wave minus it would give it away).
    let groups = crate::helpers::segment(&closed, "fulfilment")["groups"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!groups.is_empty());
    for group in &groups {
        assert!(group["hidden"].is_string(), "{group}");
        assert!(group["nps"].is_null(), "{group}");
    }
    // The half-year: the quarter's published NPS, and no half-year figure until both
    // quarters are released.
    let (admin, _) = {
        app.create_user("admin@example.com", pulse::domain::role::Role::Admin);
        crate::helpers::sign_in(&app, "admin@example.com").await
    };
    let halves: Value = admin
        .get(app.url("/api/v1/pulses/half-years"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let half = &halves["half_years"][0];
    assert_eq!(half["quarters"][0], quarter.to_string());
    assert_eq!(half["complete"], false);
    assert!((half["whole"]["by_quarter"][0].as_f64().unwrap() - nps).abs() < 1e-9);
    assert!(half["whole"]["nps"].is_null());

    // Nothing finer than the published results is kept: answers and sealed cells are gone.
    assert!(stored_responses(&app).is_empty());
}

async fn a_request_fulfilled_through_the_api_owes_a_pulse(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_stakeholders(3);
    let output = app.cli(&["api-key", "create", "purchasing system"]);
    assert!(output.status.success());
    let key = crate::helpers::text(&output.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("pulse_"))
        .expect("the key is printed once")
        .to_string();
    let today = real_now().date();
    let send = |status: &'static str, fulfilled: Option<String>| {
        let body = serde_json::json!({
            "request_id": "PO-77",
            "business_unit": "Sales",
            "requester_email": "person2@example.com",
            "category": "IT hardware",
            "channel": "catalogue",
            "opened_on": (today - Duration::days(12)).to_string(),
            "fulfilled_on": fulfilled,
            "status": status,
        });
        app.client
            .post(app.url("/api/v1/requests"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    // Opened: nothing owed. Fulfilled: one pulse; the same call again: still one.
    assert_eq!(send("open", None).await.unwrap().status(), 201);
    assert_eq!(pulses_recorded(&app), 0);
    for _ in 0..2 {
        let sent = send("fulfilled", Some(today.to_string())).await.unwrap();
        assert!(sent.status().is_success(), "{}", sent.status());
    }
    assert_eq!(pulses_recorded(&app), 1);
    let report = tick(&app, real_now() + Duration::hours(25));
    assert_eq!(report.pulses_invited, 1);
}
