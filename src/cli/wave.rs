//! `pulse wave schedule|list|show|open|close|cancel|resend`, `pulse schedule add|list`,
//! and `pulse tick`.

use std::process::ExitCode;

use anyhow::Context;

use super::GlobalArgs;
use crate::clock::{Clock, SystemClock};
use crate::db::models::waves as wave_rows;
use crate::db::DbConn;
use crate::domain::wave::WaveInput;
use crate::services::schedules::{self, ScheduleInput};
use crate::services::waves::{self, WaveError};

#[derive(Debug, clap::Subcommand)]
pub enum WaveCommand {
    /// Schedule a wave; prints its id
    Schedule {
        /// Survey slug (see `pulse survey list`); the latest loaded version is pinned
        #[arg(long)]
        survey: String,
        /// Title, e.g. "H1 2027"
        #[arg(long)]
        title: String,
        /// When it opens: now, a date (2027-01-15) or RFC 3339
        #[arg(long)]
        opens: String,
        /// When it closes: a date or RFC 3339
        #[arg(long)]
        closes: String,
        /// Who is invited: everyone active (default) or a filter such as business_unit=Manufacturing,R&D
        #[arg(long, default_value = "")]
        audience: String,
        /// Reminders after opening, e.g. 7d,14d (default) or none
        #[arg(long, default_value = "")]
        remind: String,
        /// Smallest group any figure is shown for (at least 3)
        #[arg(long, default_value = "")]
        anonymity_k: String,
    },
    /// List waves
    List,
    /// Show a wave's progress: invited, emailed, bounced, responded, response rate
    Show { id: String },
    /// Open a scheduled wave now (invitations go out through the outbox)
    Open { id: String },
    /// Close an open wave now
    Close { id: String },
    /// Cancel a scheduled or open wave
    Cancel { id: String },
    /// Send a stakeholder's invitation again (same link)
    Resend {
        id: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Add a schedule; its first wave is created right away
    Add {
        #[arg(long)]
        survey: String,
        /// Cadence: 6m (half-yearly, the default), 3m, 1y…
        #[arg(long, default_value = "6m")]
        every: String,
        /// First opening: a date (2027-01-15) or RFC 3339
        #[arg(long)]
        starting: String,
        /// How long each wave is open
        #[arg(long, default_value = "21d")]
        open_for: String,
        /// Reminders after opening
        #[arg(long, default_value = "7d,14d")]
        remind: String,
        /// Audience filter (default: everyone active)
        #[arg(long, default_value = "")]
        audience: String,
        /// Title template: {half}, {quarter}, {year}, {month} (default from the cadence, e.g. "H{half} {year}")
        #[arg(long, default_value = "")]
        title: String,
        #[arg(long, default_value = "")]
        anonymity_k: String,
    },
    /// List schedules
    List,
}

fn invalid(error: WaveError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// A wave by full id or unique prefix.
pub(super) fn resolve(conn: &mut DbConn, id: &str) -> anyhow::Result<wave_rows::WaveRow> {
    let matches: Vec<_> = wave_rows::list(conn)?
        .into_iter()
        .map(|(w, _, _)| w)
        .filter(|w| w.id.starts_with(id.trim()))
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().context("one match")?),
        0 => anyhow::bail!("no wave with id {id} (see `pulse wave list`)"),
        _ => anyhow::bail!("'{id}' matches several waves: give more of the id"),
    }
}

pub fn run_wave(global: &GlobalArgs, command: WaveCommand) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let now = SystemClock.now();
    match command {
        WaveCommand::Schedule {
            survey,
            title,
            opens,
            closes,
            audience,
            remind,
            anonymity_k,
        } => {
            let input = WaveInput {
                survey,
                title,
                opens,
                closes,
                audience,
                remind,
                anonymity_k,
            };
            let wave = waves::schedule_wave(&mut conn, &input, now).map_err(invalid)?;
            println!("{}", wave.id);
            eprintln!(
                "scheduled '{}': opens {} UTC, closes {} UTC",
                wave.title,
                wave.opens_at.format("%Y-%m-%d %H:%M"),
                wave.closes_at.format("%Y-%m-%d %H:%M")
            );
        }
        WaveCommand::List => {
            println!(
                "{:<36}  {:<22} {:<20} {:<9} {:>7} {:>9}  opens → closes (UTC)",
                "id", "survey", "title", "state", "invited", "responded"
            );
            for (wave, slug, _) in wave_rows::list(&mut conn)? {
                let progress = waves::progress(&mut conn, &wave.id).map_err(invalid)?;
                println!(
                    "{:<36}  {:<22} {:<20} {:<9} {:>7} {:>9}  {} → {}",
                    wave.id,
                    slug,
                    wave.title,
                    wave.state,
                    progress.invited,
                    progress.responded,
                    wave.opens_at.format("%Y-%m-%d %H:%M"),
                    wave.closes_at.format("%Y-%m-%d %H:%M"),
                );
            }
        }
        WaveCommand::Show { id } => {
            let wave = resolve(&mut conn, &id)?;
            let p = waves::progress(&mut conn, &wave.id).map_err(invalid)?;
            println!("wave          {}", wave.id);
            println!("title         {}", wave.title);
            println!("state         {}", wave.state);
            println!(
                "window        {} → {} UTC",
                wave.opens_at.format("%Y-%m-%d %H:%M"),
                wave.closes_at.format("%Y-%m-%d %H:%M")
            );
            println!(
                "audience      {}",
                wave.audience.as_deref().unwrap_or("everyone active")
            );
            println!("anonymity k   {}", wave.anonymity_k);
            println!("invited       {}", p.invited);
            println!("skipped       {} (opted out or suppressed)", p.skipped);
            println!("emailed       {}", p.emailed);
            println!("pending       {} ({} retrying)", p.pending, p.retrying);
            println!("bounced       {}", p.bounced);
            println!(
                "reminders     {} sent, {} pending",
                p.reminders_sent, p.reminders_pending
            );
            println!("responded     {}", p.responded);
            println!("response rate {:.1} %", p.response_rate);
        }
        WaveCommand::Open { id } => {
            let wave = resolve(&mut conn, &id)?;
            let key = global.secret_key()?;
            match waves::open_wave(&mut conn, &key, &wave.id, now).map_err(invalid)? {
                Some(report) => println!(
                    "opened: {} invitations queued ({} opted out, {} suppressed skipped); `pulse serve` or `pulse tick` sends them",
                    report.invited, report.skipped_opted_out, report.skipped_suppressed
                ),
                None => anyhow::bail!("the wave is {}, not scheduled: nothing to open", wave.state),
            }
        }
        WaveCommand::Close { id } => {
            let wave = resolve(&mut conn, &id)?;
            if !waves::close_wave(&mut conn, &wave.id, now).map_err(invalid)? {
                anyhow::bail!("the wave is {}, not open: nothing to close", wave.state);
            }
            println!("closed '{}'", wave.title);
        }
        WaveCommand::Cancel { id } => {
            let wave = resolve(&mut conn, &id)?;
            if !waves::cancel_wave(&mut conn, &wave.id, now).map_err(invalid)? {
                anyhow::bail!(
                    "the wave is {}: only scheduled or open waves can be cancelled",
                    wave.state
                );
            }
            println!("cancelled '{}'", wave.title);
        }
        WaveCommand::Resend { id, email } => {
            let wave = resolve(&mut conn, &id)?;
            waves::resend_invitation(&mut conn, &wave.id, &email, now).map_err(invalid)?;
            println!(
                "a mail to {email} is queued: their survey link again, or a short thank-you if their answer is already in"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_schedule(global: &GlobalArgs, command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    match command {
        ScheduleCommand::Add {
            survey,
            every,
            starting,
            open_for,
            remind,
            audience,
            title,
            anonymity_k,
        } => {
            let input = ScheduleInput {
                survey,
                every,
                starting,
                open_for,
                remind,
                audience,
                title,
                anonymity_k,
            };
            let schedule =
                schedules::add_schedule(&mut conn, &input, SystemClock.now()).map_err(invalid)?;
            println!("{}", schedule.id);
            eprintln!(
                "schedule added; the first wave opens {} UTC (see `pulse wave list`)",
                schedule.next_opens_at.format("%Y-%m-%d %H:%M")
            );
        }
        ScheduleCommand::List => {
            for s in schedules::list(&mut conn).map_err(invalid)? {
                println!(
                    "{}  {:<22} every {:<4} open {:<4} remind {:<8} k={} {} next wave after {}",
                    s.id,
                    s.survey_slug,
                    s.every,
                    s.open_for,
                    s.remind,
                    s.anonymity_k,
                    if s.active { "active" } else { "paused" },
                    s.next_opens_at
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
