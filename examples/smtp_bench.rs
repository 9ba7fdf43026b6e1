//! Benchmark of the mailer alone (`email::Mailer`, no database, no outbox): renders one
//! invitation and sends it with fresh Message-IDs to the SMTP test server of `tests/api/`
//! on loopback, with one sender task per pooled connection, for a few pool sizes. Prints
//! messages per second; the ceiling `examples/outbox_bench.rs` can reach on this machine.
//!
//! ```text
//! cargo run --release --example smtp_bench
//! PULSE_BENCH_MESSAGES=10000 cargo run --release --example smtp_bench
//! ```
//!
//! (This was the ignored test `email::throughput`: a measurement, not a test.)

#[path = "../tests/api/smtp_server.rs"]
mod smtp_server;

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use pulse::domain::EmailAddress;
use pulse::email::{
    EmailSettings, EmailTemplate, Mailer, MessageId, Recipient, SmtpUrl, SurveyEmail,
    SurveyEmailKind,
};

use smtp_server::SmtpServer;

const POOL_SIZES: &[u32] = &[1, 8, 16];

fn message_id(n: usize) -> anyhow::Result<MessageId> {
    MessageId::for_outbox(format!("outbox-{n}"), "https://pulse.example.com")
        .context("a valid Message-ID")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<ExitCode> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let count: usize = match std::env::var("PULSE_BENCH_MESSAGES") {
        Ok(raw) => raw
            .parse()
            .context("PULSE_BENCH_MESSAGES must be a number")?,
        Err(_) => 2000,
    };
    let invitation = SurveyEmail {
        kind: SurveyEmailKind::Invitation,
        name: Some("Anna Berg".into()),
        survey_title: "How is procurement doing?".into(),
        survey_url: "https://pulse.example.com/s/Zm9vYmFyYmF6cXV4".into(),
        unsubscribe_url: "https://pulse.example.com/u/Zm9vYmFyYmF6cXV4".into(),
        closes_on: "Friday 14 March 2025".into(),
        estimated_minutes: 2,
        k: 5,
        you_said_we_did: Vec::new(),
        first_question: None,
    }
    .render(
        Recipient::new(
            EmailAddress::parse("anna@example.com").map_err(anyhow::Error::msg)?,
            Some("Anna Berg"),
        ),
        message_id(0)?,
    )?;
    println!("mailer benchmark: {count} invitations per pool size, SMTP test server on 127.0.0.1");
    let mut ok = true;
    for &pool_size in POOL_SIZES {
        // A fresh server each time, so its record holds this run only.
        let server = SmtpServer::start().await;
        let mut settings = EmailSettings::smtp(
            SmtpUrl::parse(&server.url()).map_err(|e| anyhow::anyhow!("SMTP URL: {e}"))?,
        );
        settings.from = "Procurement Pulse <pulse@example.com>"
            .parse()
            .context("sender")?;
        settings.pool_size = pool_size;
        let mailer = Mailer::from_settings(&settings);
        mailer.send(&invitation).await?; // warm up: one connection open
        let started = Instant::now();
        let tasks: Vec<_> = (0..pool_size as usize)
            .map(|worker| {
                let mailer = mailer.clone();
                let message = invitation.clone();
                tokio::spawn(async move {
                    for n in (worker..count).step_by(pool_size as usize) {
                        let mut message = message.clone();
                        message.message_id = message_id(n + 1)?;
                        mailer.send(&message).await?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        let seconds = started.elapsed().as_secs_f64();
        mailer.shutdown().await;
        let received = server.messages();
        let ids: HashSet<_> = received.iter().filter_map(|m| m.message_id()).collect();
        let passed = received.len() == count + 1 && ids.len() == count + 1;
        ok &= passed;
        println!(
            "pool size {pool_size:>2}: {count} invitations in {seconds:.2} s = {:.0} msg/s \
             ({} connections); check {}: server received {} messages with {} distinct Message-IDs \
             (expected {} incl. the warm-up)",
            count as f64 / seconds,
            server.connections(),
            if passed { "OK" } else { "FAILED" },
            received.len(),
            ids.len(),
            count + 1,
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
