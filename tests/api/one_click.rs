//! One click from the email: the invitation of a survey whose first question is an NPS
//! question shows it as eleven buttons; each opens the form with that score chosen (the
//! rest optional) and stores nothing — one more click, the form's Send, stores it. Each
//! test opens a real wave, lets the real outbox send its mail to an SMTP server on
//! loopback, parses the mail and follows its links over HTTP.

use std::sync::Arc;

use pulse::clock::ManualClock;
use pulse::domain::wave::WaveInput;
use pulse::outbox::{Outbox, OutboxConfig};
use pulse::services::waves;

use crate::both_backends;
use crate::helpers::{spawn_app, survey_link, text, Backend, TestApp};
use crate::smtp_server::{ReceivedMessage, SmtpServer};

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Imports `csv` (email,name,language,business_unit), opens a wave of `survey` now and
/// lets the outbox send its invitations to an SMTP server on loopback, links pointing at
/// the app; returns the wave id and the mails received, by recipient.
pub(crate) async fn open_and_send(
    app: &TestApp,
    survey: &str,
    csv: &str,
) -> (String, Vec<ReceivedMessage>) {
    let path = app
        .db
        .dir
        .path()
        .join(format!("people-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&path, csv).unwrap();
    let import = app.cli(&["stakeholders", "import", path.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let wave_id = {
        let mut conn = app.pool.get().unwrap();
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
        pulse::services::surveys::load_and_pin(&mut conn, &dir, now()).unwrap();
        let input = WaveInput {
            survey: survey.into(),
            title: "H1 2027".into(),
            opens: "now".into(),
            closes: "2099-01-01".into(),
            remind: "none".into(),
            ..Default::default()
        };
        let wave = waves::schedule_wave(&mut conn, &input, now()).unwrap();
        waves::open_wave(&mut conn, &app.secret_key(), &wave.id, now())
            .unwrap()
            .unwrap();
        wave.id
    };
    let smtp = SmtpServer::start().await;
    let outbox = Outbox::new(
        app.pool.clone(),
        Arc::new(crate::helpers::smtp_mailer(&smtp.url(), 5)),
        app.secret_key(),
        &app.address,
        Arc::new(ManualClock::new(now())),
        OutboxConfig::default(),
    );
    let people = csv.lines().count() - 1;
    assert_eq!(outbox.drain().await.unwrap().sent, people);
    let mut mails = smtp
        .wait_for(people, std::time::Duration::from_secs(10))
        .await;
    mails.sort_by(|a, b| a.to.cmp(&b.to));
    (wave_id, mails)
}

/// Every `href="…"` of an HTML part, unescaped as a browser reads it.
pub(crate) fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| {
            href.replace("&#x3D;", "=")
                .replace("&amp;", "&")
                .replace("&#x27;", "'")
        })
        .collect()
}

/// The eleven score links of a mail, by score; asserts there are exactly these, each once,
/// each the mail's own personal link with `?{key}={score}`.
pub(crate) fn score_links(mail: &ReceivedMessage, key: &str) -> Vec<String> {
    let html = mail.html_body().unwrap();
    let link = survey_link(&mail.text_body().unwrap()).expect("the text part has the link");
    let with_query: Vec<String> = hrefs(&html)
        .into_iter()
        .filter(|h| h.contains("/s/") && h.contains('?'))
        .collect();
    let expected: Vec<String> = (0..=10).map(|n| format!("{link}?{key}={n}")).collect();
    assert_eq!(with_query, expected, "eleven buttons 0…10 in order");
    // The plain link is still there (the "start" button and the copyable link).
    assert_eq!(hrefs(&html).iter().filter(|h| **h == link).count(), 2);
    expected
}

/// Responses stored for `wave_id`.
pub(crate) fn stored(app: &TestApp, wave_id: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::responses::count_for_wave(&mut conn, wave_id).unwrap()
}

/// How many stored answers of `wave_id` gave `key` the value `value` — or any value
/// (`None`; not counting the counts' own `_answered` and `_responses` rows).
pub(crate) fn answer_count(app: &TestApp, wave_id: &str, key: &str, value: Option<&str>) -> i64 {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::responses::counts_for_wave(&mut conn, wave_id)
        .unwrap()
        .iter()
        .filter(|c| c.question_key == key)
        .filter(|c| match value {
            Some(v) => c.value == v,
            None => !c.value.starts_with('_'),
        })
        .map(|c| c.n)
        .sum()
}

fn marks(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    pulse::db::models::invitations::responded_count(&mut conn).unwrap()
}

async fn get(app: &TestApp, url: &str) -> (u16, String) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The `checked` radios of a form page, as `name=value`.
fn checked(page: &str) -> Vec<String> {
    page.split("<input ")
        .skip(1)
        .filter_map(|input| input.split('>').next())
        .filter(|input| input.contains(" checked"))
        .map(|input| {
            let attr = |name: &str| {
                input
                    .split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .unwrap_or_default()
                    .to_string()
            };
            format!("{}={}", attr("name"), attr("value"))
        })
        .collect()
}

/// The action and the hidden fields of the page's form, to post it as a browser would.
fn form_fields(page: &str) -> (String, Vec<(String, String)>) {
    let action = page
        .split("<form class=\"survey-form\" id=\"survey-form\" method=\"post\" action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the survey form")
        .to_string();
    let hidden = page
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    (action, hidden)
}

const PEOPLE: &str = "email,name,language,business_unit\n\
                      anna@example.com,Anna,en,R&D\n\
                      bernd@example.com,Bernd,de-DE,R&D\n\
                      carla@example.com,Carla,en,Sales\n";

async fn a_score_button_opens_the_form_with_the_score_and_only_send_stores_it(backend: Backend) {
    // Arrange: the half-year survey's invitation, as the outbox sent it.
    let app = spawn_app(backend).await;
    let (wave_id, mails) = open_and_send(&app, "internal-customer", PEOPLE).await;
    let anna = &mails[0];
    assert_eq!(anna.to, ["anna@example.com"]);
    let links = score_links(anna, "recommend");
    // Every recipient's buttons carry their own link (the mails are rendered once per
    // language and filled in per recipient).
    let personal: std::collections::HashSet<String> = mails
        .iter()
        .map(|mail| score_links(mail, "recommend")[0].clone())
        .collect();
    assert_eq!(personal.len(), 3, "{personal:?}");
    let html = anna.html_body().unwrap();
    assert!(html.contains("How likely are you to recommend working with Procurement"));
    assert!(html.contains("0 = Not at all likely") && html.contains("10 = Extremely likely"));
    // Built for mail clients: every button a link in a cell of its own, inline styles.
    assert_eq!(html.matches("width=\"40\" height=\"40\"").count(), 11);
    for forbidden in [
        "class=",
        "<script",
        "<img",
        "<svg",
        "display:flex",
        "display:grid",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in the mail");
    }
    // The text part asks the question with the normal link, no score links.
    let body = anna.text_body().unwrap();
    assert!(
        body.contains("It starts with this question: How likely are you to recommend"),
        "{body}"
    );
    assert!(body.contains("(0 = Not at all likely, 10 = Extremely likely)"));
    assert!(!body.contains("?recommend="), "{body}");

    // Act: a mail scanner follows (HEAD and GET) every button; the person clicks 7, twice.
    for link in &links {
        let head = app.client.head(link).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(get(&app, link).await.0, 200);
    }
    let (status, page) = get(&app, &links[7]).await;
    let (_, again) = get(&app, &links[7]).await;

    // Assert: the form with 7 chosen, saying so; nothing stored.
    assert_eq!(status, 200);
    assert_eq!(page, again, "the same form each time");
    assert_eq!(checked(&page), ["recommend=7"]);
    assert!(page.contains(
        "You chose 7. Nothing is sent yet: send it now with “Send my answers”, or first add anything else you like below (the other questions are optional)."
    ));
    assert_eq!(page.matches("(optional)").count(), 10);
    assert!(page.contains(
        r#"<button type="submit" class="button" form="survey-form">Send my answers</button>"#
    ));
    assert_eq!(
        (stored(&app, &wave_id), marks(&app)),
        (0, 0),
        "GET stored nothing"
    );

    // One more click: the form's Send, as a browser posts it (score, hidden field).
    let (action, mut fields) = form_fields(&page);
    assert_eq!(fields, [("_one_click".to_string(), "1".to_string())]);
    fields.push(("recommend".into(), "7".into()));
    let response = app
        .client
        .post(app.url(&action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/thanks"));
    assert_eq!((stored(&app, &wave_id), marks(&app)), (1, 1));
    assert_eq!(answer_count(&app, &wave_id, "recommend", Some("7")), 1);
    assert_eq!(answer_count(&app, &wave_id, "recommend", None), 1);
    for skipped in ["ease", "frequency", "pain_points", "comment"] {
        assert_eq!(answer_count(&app, &wave_id, skipped, None), 0, "{skipped}");
    }

    // The link, answered: as before (the thank-you page), whatever the score; still one.
    for link in [&links[0], &links[7]] {
        let (status, page) = get(&app, link).await;
        assert_eq!(status, 200);
        assert!(page.contains("Your answers have been received."), "{page}");
        assert!(!page.contains("<form class=\"survey-form\""));
    }
    assert_eq!(stored(&app, &wave_id), 1);
}

async fn a_score_that_is_no_score_opens_the_plain_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let (wave_id, mails) = open_and_send(&app, "internal-customer", PEOPLE).await;
    let link = survey_link(&mails[2].text_body().unwrap()).unwrap();
    let (_, plain) = get(&app, &link).await;
    assert!(checked(&plain).is_empty());
    for query in [
        "?recommend=11",
        "?recommend=-1",
        "?recommend=seven",
        "?recommend=",
        "?recommend=07",
        "?recommend=3&recommend=4",
        "?ease=4",
        "?recommend",
        "?%ZZ=1",
    ] {
        let (status, page) = get(&app, &format!("{link}{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(page, plain, "{query}: the form as without a score");
        assert!(!page.contains("one-click") && !page.contains("_one_click"));
    }
    // A score only ever chooses the first answer: other fields in the link are ignored.
    let (_, page) = get(&app, &format!("{link}?recommend=2&ease=5&comment=Hi")).await;
    assert_eq!(checked(&page), ["recommend=2"]);
    assert!(!page.contains(">Hi</textarea>"));
    // The ordinary form still needs every required answer: the score alone is refused.
    let response = app
        .client
        .post(&link)
        .form(&[("recommend", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(stored(&app, &wave_id), 0);
}

async fn a_german_stakeholder_gets_german_buttons_and_a_german_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let (wave_id, mails) = open_and_send(&app, "internal-customer", PEOPLE).await;
    let bernd = &mails[1];
    assert_eq!(bernd.to, ["bernd@example.com"]);
    let links = score_links(bernd, "recommend");
    let html = bernd.html_body().unwrap();
    assert!(html.contains("<html lang=\"de\""));
    assert!(html.contains("Es beginnt mit einer Frage. Sie können sie gleich hier beantworten:"));
    assert!(html.contains("Wie wahrscheinlich ist es, dass Sie die Zusammenarbeit mit dem Einkauf"));
    assert!(html.contains("0 = Überhaupt nicht wahrscheinlich"));
    assert!(html.contains("10 = Äußerst wahrscheinlich"));
    assert!(html.contains("„Antworten absenden“"));
    let body = bernd.text_body().unwrap();
    assert!(
        body.contains("Die erste Frage lautet: Wie wahrscheinlich ist es"),
        "{body}"
    );
    assert!(
        !body.contains("question") && !body.contains("likely"),
        "{body}"
    );

    let (status, page) = get(&app, &links[4]).await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"de\">"));
    assert_eq!(checked(&page), ["recommend=4"]);
    assert!(
        page.contains("Sie haben 4 gewählt. Noch ist nichts gesendet"),
        "{page}"
    );
    assert_eq!(stored(&app, &wave_id), 0);
    // A mistake in an optional answer: the form comes back in German, still one-click.
    let (action, mut fields) = form_fields(&page);
    fields.push(("recommend".into(), "4".into()));
    fields.push(("ease".into(), "9".into()));
    let response = app
        .client
        .post(app.url(&action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Wählen Sie eine Antwort von 1 bis 5."),
        "{page}"
    );
    assert!(page.contains("Sie haben 4 gewählt."));
    assert_eq!(
        page.matches("Fehler:</span>").count(),
        1,
        "only the wrong answer"
    );
    assert_eq!(stored(&app, &wave_id), 0);
    fields.retain(|(name, _)| name != "ease");
    fields.push(("ease".into(), "2".into()));
    let response = app
        .client
        .post(app.url(&action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(answer_count(&app, &wave_id, "recommend", Some("4")), 1);
    assert_eq!(answer_count(&app, &wave_id, "ease", Some("2")), 1);
}

async fn any_survey_whose_first_question_is_nps_has_the_buttons(backend: Backend) {
    // The pulse check (first question `recommend`) and the supplier survey
    // (`recommend_as_customer`): the buttons, and one more click stores the score alone
    // although their other questions are required on the ordinary form.
    for (survey, key) in [
        ("pulse-check", "recommend"),
        ("supplier-customer-of-choice", "recommend_as_customer"),
    ] {
        let app = spawn_app(backend).await;
        let (wave_id, mails) = open_and_send(&app, survey, PEOPLE).await;
        let links = score_links(&mails[0], key);
        let (status, page) = get(&app, &links[10]).await;
        assert_eq!(status, 200, "{survey}");
        assert_eq!(checked(&page), [format!("{key}=10")]);
        let (action, mut fields) = form_fields(&page);
        fields.push((key.into(), "10".into()));
        let response = app
            .client
            .post(app.url(&action))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{survey}");
        assert_eq!(answer_count(&app, &wave_id, key, Some("10")), 1, "{survey}");
        assert_eq!(stored(&app, &wave_id), 1);
    }
}

async fn a_closed_wave_s_button_gets_the_page_every_unusable_link_gets(backend: Backend) {
    let app = spawn_app(backend).await;
    let (wave_id, mails) = open_and_send(&app, "internal-customer", PEOPLE).await;
    let links = score_links(&mails[0], "recommend");
    {
        let mut conn = app.pool.get().unwrap();
        assert!(waves::close_wave(&mut conn, &wave_id, now()).unwrap());
    }
    let (status, page) = get(&app, &links[9]).await;
    let (unknown_status, unknown) = get(&app, &app.url("/s/unknown-token?recommend=9")).await;
    assert_eq!((status, unknown_status), (404, 404));
    assert_eq!(page, unknown);
    assert!(!page.contains("<form class=\"survey-form\""));
}

both_backends!(
    a_score_button_opens_the_form_with_the_score_and_only_send_stores_it,
    a_score_that_is_no_score_opens_the_plain_form,
    a_german_stakeholder_gets_german_buttons_and_a_german_form,
    any_survey_whose_first_question_is_nps_has_the_buttons,
    a_closed_wave_s_button_gets_the_page_every_unusable_link_gets,
);
