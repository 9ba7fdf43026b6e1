//! The email layer against a real SMTP server on loopback: templates and headers, how
//! failures are classified, timeouts, the pool, the rate limit, files. No database.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use pulse::domain::EmailAddress;
use pulse::email::{
    EmailMessage, EmailSettings, EmailTemplate, ListUnsubscribe, Mailer, MessageId, Recipient,
    Rejected, RelayProblem, ResultsReadyEmail, SendError, SmtpUrl, SurveyEmail, SurveyEmailKind,
};

use crate::smtp_server::{Action, Match, SmtpServer};

const WAIT: Duration = Duration::from_secs(10);

fn smtp_settings(server: &SmtpServer) -> EmailSettings {
    let mut settings = EmailSettings::smtp(SmtpUrl::parse(&server.url()).unwrap());
    settings.from = "Procurement Pulse <pulse@example.com>".parse().unwrap();
    settings.timeout = Duration::from_secs(5);
    settings
}

fn smtp_mailer(server: &SmtpServer) -> Mailer {
    Mailer::from_settings(&smtp_settings(server))
}

fn recipient(address: &str, name: Option<&str>) -> Recipient {
    Recipient::new(EmailAddress::parse(address).unwrap(), name)
}

fn message_id(n: usize) -> MessageId {
    MessageId::for_outbox(format!("outbox-{n}"), "https://pulse.example.com").unwrap()
}

/// A small message to `address`, Message-ID `<outbox-{n}@pulse.example.com>`.
fn simple(address: &str, n: usize) -> EmailMessage {
    EmailMessage::new(
        recipient(address, None),
        format!("Message {n}"),
        format!("Text {n}\n"),
        format!("<p>HTML {n}</p>"),
        message_id(n),
    )
}

fn survey_email(kind: SurveyEmailKind, name: Option<&str>) -> SurveyEmail {
    SurveyEmail {
        kind,
        name: name.map(str::to_owned),
        survey_title: "How is procurement doing?".into(),
        survey_url: "https://pulse.example.com/s/Zm9vYmFyYmF6cXV4".into(),
        unsubscribe_url: "https://pulse.example.com/u/Zm9vYmFyYmF6cXV4".into(),
        closes_on: "Friday 14 March 2025".into(),
        estimated_minutes: 2,
        k: 5,
        you_said_we_did: Vec::new(),
        first_question: None,
    }
}

/// The header block of a raw message, one (unfolded) line per header.
fn header_lines(raw: &str) -> Vec<String> {
    let head = raw.split("\r\n\r\n").next().unwrap();
    let mut lines: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            lines.last_mut().unwrap().push_str(line);
        } else {
            lines.push(line.to_owned());
        }
    }
    lines
}

#[tokio::test]
async fn the_three_templates_arrive_with_the_right_headers() {
    // Arrange
    let server = SmtpServer::start().await;
    let mailer = smtp_mailer(&server);
    let unsubscribe =
        ListUnsubscribe::new("https://pulse.example.com/u/Zm9vYmFyYmF6cXV4", None).unwrap();
    let invitation = survey_email(SurveyEmailKind::Invitation, Some("Anna Berg"))
        .render(
            recipient("anna.berg@example.com", Some("Anna Berg")),
            message_id(1),
        )
        .unwrap()
        .with_list_unsubscribe(unsubscribe.clone());
    let reminder = survey_email(SurveyEmailKind::Reminder, None)
        .render(recipient("bo@example.com", None), message_id(2))
        .unwrap()
        .with_list_unsubscribe(unsubscribe);
    let results = ResultsReadyEmail {
        name: Some("Lena".into()),
        wave_title: "Internal customer survey, spring 2025".into(),
        results_url: "https://pulse.example.com/results/w1".into(),
        response_count: 42,
        closed_on: "Friday 14 March 2025".into(),
    }
    .render(recipient("lena@example.com", Some("Lena")), message_id(3))
    .unwrap();

    // Act
    for message in [&invitation, &reminder, &results] {
        mailer.send(message).await.unwrap();
    }

    // Assert
    let mails = server.wait_for(3, WAIT).await;
    let invitation = &mails[0];
    assert_eq!(invitation.from, "pulse@example.com");
    assert_eq!(invitation.to, ["anna.berg@example.com"]);
    assert_eq!(
        invitation.message_id().as_deref(),
        Some("<outbox-1@pulse.example.com>")
    );
    assert_eq!(
        invitation.header("To").as_deref(),
        Some("\"Anna Berg\" <anna.berg@example.com>")
    );
    assert_eq!(
        invitation.header("From").as_deref(),
        Some("\"Procurement Pulse\" <pulse@example.com>")
    );
    assert_eq!(
        invitation.subject().as_deref(),
        Some("2 minutes to tell procurement how we're doing")
    );
    assert!(invitation.header("Date").is_some());
    for mail in &mails[..2] {
        assert_eq!(
            mail.list_unsubscribe().as_deref(),
            Some("<https://pulse.example.com/u/Zm9vYmFyYmF6cXV4>")
        );
        assert_eq!(
            mail.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let types = mail.mime_types();
        assert_eq!(
            types[0],
            ("multipart".into(), "alternative".into()),
            "{types:?}"
        );
        assert!(
            types.contains(&("text".into(), "plain".into())),
            "{types:?}"
        );
        assert!(types.contains(&("text".into(), "html".into())), "{types:?}");
        let text = mail.text_body().unwrap();
        let html = mail.html_body().unwrap();
        for part in [&text, &html] {
            assert!(
                part.contains("https://pulse.example.com/s/Zm9vYmFyYmF6cXV4"),
                "{part}"
            );
            assert!(
                part.contains("https://pulse.example.com/u/Zm9vYmFyYmF6cXV4"),
                "{part}"
            );
            assert!(part.contains("Friday 14 March 2025"), "{part}");
        }
    }
    assert!(mails[0]
        .text_body()
        .unwrap()
        .starts_with("Hello Anna Berg,"));
    assert!(mails[1].text_body().unwrap().starts_with("Hello,"));
    assert!(mails[1]
        .subject()
        .unwrap()
        .starts_with("Still open until Friday 14 March 2025"));
    let results = &mails[2];
    assert_eq!(
        results.subject().as_deref(),
        Some("Results ready: Internal customer survey, spring 2025")
    );
    assert!(results.list_unsubscribe().is_none());
    assert!(results
        .text_body()
        .unwrap()
        .contains("https://pulse.example.com/results/w1"));
    assert!(results
        .html_body()
        .unwrap()
        .contains("https://pulse.example.com/results/w1"));
}

#[tokio::test]
async fn a_4xx_is_transient_and_a_5xx_is_permanent() {
    let server = SmtpServer::start().await;
    server.script(
        Match::Recipient("later@example.com"),
        [Action::TempFail, Action::TempFail],
    );
    server.script(Match::Recipient("gone@example.com"), [Action::Reject]);
    server.script(
        Match::Recipient("full@example.com"),
        [Action::RcptReply("452 4.2.2 mailbox full".into())],
    );
    server.script(
        Match::Recipient("big@example.com"),
        [Action::DataReply("552 5.3.4 message too big".into())],
    );
    let mailer = smtp_mailer(&server);

    for attempt in 1..=2 {
        let error = mailer
            .send(&simple("later@example.com", attempt))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            SendError::Transient {
                reason: "451 4.3.0 try again later".into()
            }
        );
        assert!(!error.suppresses_address());
    }
    mailer.send(&simple("later@example.com", 3)).await.unwrap();
    assert_eq!(server.attempts("later@example.com"), 3);
    let error = mailer
        .send(&simple("full@example.com", 6))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SendError::Transient {
            reason: "452 4.2.2 mailbox full".into()
        }
    );

    let error = mailer
        .send(&simple("gone@example.com", 4))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SendError::Permanent {
            reply: "550 5.1.1 no such user".into(),
            rejected: Rejected::Recipient
        }
    );
    assert!(error.suppresses_address());

    let error = mailer
        .send(&simple("big@example.com", 5))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SendError::Permanent {
            reply: "552 5.3.4 message too big".into(),
            rejected: Rejected::Message
        }
    );
    assert!(!error.suppresses_address());

    // Refusals leave the connection in step (RSET), so it is reused throughout.
    assert_eq!(server.messages().len(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_dropped_connection_is_transient_and_an_unreachable_server_a_relay_problem() {
    let server = SmtpServer::start().await;
    server.script(Match::Any, [Action::Disconnect]);
    let mailer = smtp_mailer(&server);
    let error = mailer
        .send(&simple("anna@example.com", 1))
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");

    server.stop().await;
    let error = mailer
        .send(&simple("anna@example.com", 2))
        .await
        .unwrap_err();
    // Not this mail's fault: the outbox pauses instead of using up attempts.
    match &error {
        SendError::Relay { reason, kind } => {
            assert!(reason.contains("cannot connect"), "{reason}");
            assert_eq!(*kind, RelayProblem::Unreachable);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stall_after_data_times_out_while_other_sends_complete() {
    let server = SmtpServer::start().await;
    server.script(Match::Recipient("stall@example.com"), [Action::Stall]);
    let mut settings = smtp_settings(&server);
    settings.timeout = Duration::from_secs(1);
    let mailer = Mailer::from_settings(&settings);

    let started = Instant::now();
    let stalled = {
        let mailer = mailer.clone();
        tokio::spawn(async move { mailer.send(&simple("stall@example.com", 0)).await })
    };
    let others: Vec<_> = (1..=6)
        .map(|n| {
            let mailer = mailer.clone();
            tokio::spawn(async move { mailer.send(&simple(&format!("p{n}@example.com"), n)).await })
        })
        .collect();
    for other in others {
        other.await.unwrap().unwrap();
    }
    let error = stalled.await.unwrap().unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        SendError::Transient { reason } => assert!(reason.contains("within 1 s"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(server.messages().len(), 6);

    // The timed-out connection was closed, not parked: later sends are not affected.
    for n in 7..=9 {
        mailer.send(&simple("after@example.com", n)).await.unwrap();
    }
    assert_eq!(server.messages().len(), 9);
}

#[tokio::test]
async fn crlf_in_a_name_or_subject_cannot_add_a_header() {
    let server = SmtpServer::start().await;
    let mailer = smtp_mailer(&server);
    let evil = "Evil\r\nBcc: attacker@example.com";
    let mut message = simple("anna@example.com", 1);
    message.to = recipient("anna@example.com", Some(evil));
    message.subject = format!("Hello {evil}\r\n\r\nbody?");
    mailer.send(&message).await.unwrap();
    // Through the template too: the name lands in the greeting and the subject is rendered.
    let templated = ResultsReadyEmail {
        name: Some(evil.into()),
        wave_title: evil.into(),
        results_url: "https://pulse.example.com/results/w1".into(),
        response_count: 5,
        closed_on: "Friday 14 March 2025".into(),
    }
    .render(recipient("lena@example.com", Some(evil)), message_id(2))
    .unwrap();
    mailer.send(&templated).await.unwrap();

    let mails = server.wait_for(2, WAIT).await;
    for mail in &mails {
        let headers = header_lines(&mail.raw);
        assert!(
            !headers
                .iter()
                .any(|h| h.to_ascii_lowercase().starts_with("bcc")),
            "{}",
            mail.raw
        );
        assert_eq!(mail.to.len(), 1);
        let subject = mail.subject().unwrap();
        assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    }
    assert_eq!(
        mails[0].subject().as_deref(),
        Some("Hello Evil Bcc: attacker@example.com body?")
    );
    assert_eq!(
        mails[1].subject().as_deref(),
        Some("Results ready: Evil Bcc: attacker@example.com")
    );
}

#[tokio::test]
async fn the_file_transport_writes_an_eml_per_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::from_settings(&EmailSettings::file(dir.path().join("outbox-mail")));
    let message = survey_email(SurveyEmailKind::Invitation, Some("Anna"))
        .render(recipient("anna@example.com", Some("Anna")), message_id(7))
        .unwrap();
    mailer.send(&message).await.unwrap();
    let path = dir
        .path()
        .join("outbox-mail/outbox-7@pulse.example.com.eml");
    let raw = std::fs::read_to_string(&path).unwrap();
    assert!(
        raw.contains("Message-ID: <outbox-7@pulse.example.com>"),
        "{raw}"
    );
    assert!(raw.contains("multipart/alternative"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("outbox-mail"))
            .unwrap()
            .count(),
        1
    );
}

#[tokio::test]
async fn the_rate_limit_spaces_sends() {
    let server = SmtpServer::start().await;
    let mut settings = smtp_settings(&server);
    settings.max_per_second = NonZeroU32::new(10);
    let mailer = Mailer::from_settings(&settings);
    let started = Instant::now();
    let sends: Vec<_> = (0..20)
        .map(|n| {
            let mailer = mailer.clone();
            tokio::spawn(async move { mailer.send(&simple("anna@example.com", n)).await })
        })
        .collect();
    for send in sends {
        send.await.unwrap().unwrap();
    }
    // 20 sends at 10/s, no burst: the 20th goes 1.9 s after the first.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1700), "{elapsed:?}");
    assert_eq!(server.messages().len(), 20);
}

#[tokio::test]
async fn concurrent_sends_use_several_pooled_connections() {
    let server = SmtpServer::start().await;
    server.set_default(Action::Slow(Duration::from_millis(300)));
    let mut settings = smtp_settings(&server);
    settings.pool_size = 4;
    let mailer = Mailer::from_settings(&settings);

    let round = |first: usize| {
        let sends: Vec<_> = (first..first + 8)
            .map(|n| {
                let mailer = mailer.clone();
                tokio::spawn(async move { mailer.send(&simple("anna@example.com", n)).await })
            })
            .collect();
        async move {
            for send in sends {
                send.await.unwrap().unwrap();
            }
        }
    };
    let started = Instant::now();
    round(0).await;
    let elapsed = started.elapsed();
    // 8 sends of 300 ms each over 4 connections: two waves, not eight.
    assert!(elapsed < Duration::from_millis(8 * 300), "{elapsed:?}");
    assert_eq!(server.max_concurrent_connections(), 4);
    assert_eq!(server.connections(), 4);
    // The connections are reused.
    round(8).await;
    assert_eq!(server.connections(), 4);
    let used: std::collections::BTreeSet<usize> =
        server.messages().iter().map(|m| m.connection).collect();
    assert_eq!(used.len(), 4);
}

#[tokio::test]
async fn a_server_that_goes_away_and_comes_back_gets_the_mail_once() {
    let server = SmtpServer::start().await;
    let mailer = smtp_mailer(&server);
    mailer.send(&simple("anna@example.com", 1)).await.unwrap();

    // Down: the pooled connection dies with it, new ones are refused.
    server.stop().await;
    let error = mailer.send(&simple("bo@example.com", 2)).await.unwrap_err();
    assert_eq!(
        error.relay_problem(),
        Some(RelayProblem::Unreachable),
        "{error:?}"
    );
    assert_eq!(server.attempts("bo@example.com"), 0);

    // Back on the same port: the retry gets through once.
    server.restart().await;
    mailer.send(&simple("bo@example.com", 2)).await.unwrap();
    let mails = server.wait_for(2, WAIT).await;
    let to_bo: Vec<_> = mails
        .iter()
        .filter(|m| m.to == ["bo@example.com"])
        .collect();
    assert_eq!(to_bo.len(), 1);
    assert_eq!(
        to_bo[0].message_id().as_deref(),
        Some("<outbox-2@pulse.example.com>")
    );
}

#[tokio::test]
async fn a_stale_pooled_connection_is_replaced_transparently() {
    let server = SmtpServer::start().await;
    let mailer = smtp_mailer(&server);
    mailer.send(&simple("anna@example.com", 1)).await.unwrap();
    // The server restarts while our connection idles in the pool.
    server.restart().await;
    mailer.send(&simple("anna@example.com", 2)).await.unwrap();
    assert_eq!(server.wait_for(2, WAIT).await.len(), 2);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn credentials_are_percent_decoded_and_checked() {
    let server = SmtpServer::start().await;
    server.require_login("pulse@corp.example", "p@ss:w/rd");
    let url = format!(
        "smtp://pulse%40corp.example:p%40ss%3Aw%2Frd@127.0.0.1:{}?tls=none",
        server.port()
    );
    let mut settings = smtp_settings(&server);
    settings.smtp = Some(SmtpUrl::parse(&url).unwrap());
    Mailer::from_settings(&settings)
        .send(&simple("anna@example.com", 1))
        .await
        .unwrap();
    assert_eq!(
        server.logins(),
        [("pulse@corp.example".to_string(), "p@ss:w/rd".to_string())]
    );

    // Wrong credentials are a relay problem (configuration), never the address's fault.
    let wrong = format!("smtp://pulse:wrong@127.0.0.1:{}?tls=none", server.port());
    settings.smtp = Some(SmtpUrl::parse(&wrong).unwrap());
    let error = Mailer::from_settings(&settings)
        .send(&simple("anna@example.com", 2))
        .await
        .unwrap_err();
    match &error {
        SendError::Relay { reason, kind } => {
            assert!(reason.contains("535"), "{reason}");
            assert_eq!(*kind, RelayProblem::Authentication);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn starttls_required_refuses_a_server_without_it() {
    let server = SmtpServer::start().await;
    let mut settings = smtp_settings(&server);
    settings.smtp =
        Some(SmtpUrl::parse(&format!("smtp://127.0.0.1:{}?tls=required", server.port())).unwrap());
    let error = Mailer::from_settings(&settings)
        .send(&simple("anna@example.com", 1))
        .await
        .unwrap_err();
    match &error {
        SendError::Relay { reason, kind } => {
            assert!(reason.contains("STARTTLS"), "{reason}");
            assert_eq!(*kind, RelayProblem::Tls);
        }
        other => panic!("{other:?}"),
    }
    // Opportunistic (the default) goes ahead in plaintext when STARTTLS is not offered.
    settings.smtp = Some(SmtpUrl::parse(&format!("smtp://127.0.0.1:{}", server.port())).unwrap());
    Mailer::from_settings(&settings)
        .send(&simple("anna@example.com", 2))
        .await
        .unwrap();
    assert_eq!(server.messages().len(), 1);
}
