//! `pulse tick`: one scheduler pass, then send every email that is due — for operators who
//! run it from cron instead of (or besides) the scheduler inside `pulse serve`.

use std::process::ExitCode;
use std::sync::Arc;

use super::serve::OutboxArgs;
use super::GlobalArgs;
use crate::clock::{Clock, SystemClock};
use crate::email::Mailer;
use crate::outbox::Outbox;

#[derive(Debug, Clone, clap::Args)]
pub struct TickArgs {
    /// Only the scheduler pass; leave the mail to a running `pulse serve`
    #[arg(long)]
    pub no_send: bool,
    #[command(flatten)]
    pub outbox: OutboxArgs,
    #[command(flatten)]
    pub email: super::email_args::EmailArgs,
}

pub fn run(global: &GlobalArgs, args: TickArgs) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let key = global.secret_key()?;
    let base_url = global.base_url(|| "http://127.0.0.1:8080".into())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let report = {
        let mut conn = pool.get()?;
        crate::services::surveys::load_and_pin(&mut conn, &global.definitions_dir, clock.now())?;
        crate::scheduler::tick(&mut conn, &key, clock.now())?
    };
    println!(
        "scheduler: {} waves created, {} opened ({} invitations), {} reminders, {} closed, {} owner digests",
        report.waves_created,
        report.waves_opened,
        report.invitations,
        report.reminders,
        report.waves_closed,
        report.digests
    );
    if args.no_send {
        return Ok(ExitCode::SUCCESS);
    }
    let email = args.email.settings()?;
    let config = args.outbox.config();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sent = runtime.block_on(async move {
        let mailer = Arc::new(Mailer::from_settings(&email));
        let outbox = Outbox::new(pool, mailer.clone(), key, &base_url, clock, config);
        let report = outbox.drain().await;
        mailer.shutdown().await;
        report
    })?;
    println!(
        "outbox: {} sent, {} to retry, {} refused, {} undelivered after every retry, {} no longer needed",
        sent.sent, sent.retried, sent.dead, sent.failed, sent.cancelled
    );
    if let Some(problem) = sent.relay_problem {
        eprintln!(
            "error: sending stopped because the mail relay cannot be used: {problem}\n\
             No mail used up an attempt; fix the relay settings (--smtp-url) and run `pulse tick` again."
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
