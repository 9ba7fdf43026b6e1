//! `pulse wave schedule|list|show|open|close|cancel|resend` and
//! `pulse schedule add|list|pause|resume|edit|stop`.

use std::process::ExitCode;

use anyhow::Context;

use super::GlobalArgs;
use crate::clock::{Clock, SystemClock};
use crate::db::models::waves as wave_rows;
use crate::db::DbConn;
use crate::domain::schedule::display_in;
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
        /// When it opens: now, a date (2027-01-15), 2027-01-15T09:00 (in --time-zone) or RFC 3339
        #[arg(long)]
        opens: String,
        /// When it closes: a date, 2027-01-15T17:00 (in --time-zone) or RFC 3339
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
    /// Send the wave's mail that could not be delivered after every retry again (mail the
    /// server refused stays refused: see `pulse stakeholders suppressions`)
    RetryFailed { id: String },
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
        /// First opening: a date (2027-01-15), 2027-01-15T09:00 (in --time-zone) or RFC 3339
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
    /// List schedules: state (active, paused, stopped) and the next wave
    List,
    /// Pause a schedule: it creates and opens no wave until resumed (an open wave runs on)
    Pause {
        /// Schedule id or a unique prefix (see `pulse schedule list`)
        id: String,
    },
    /// Resume a paused schedule (a planned wave whose time passed opens at once)
    Resume { id: String },
    /// Change a schedule; options not given keep their value. Its planned wave follows
    Edit {
        id: String,
        /// Cadence: 6m, 3m, 1y…
        #[arg(long)]
        every: Option<String>,
        /// When the next wave opens: a date (2027-01-15), 2027-01-15T09:00 (in --time-zone) or RFC 3339
        #[arg(long)]
        starting: Option<String>,
        /// How long each wave is open, e.g. 21d
        #[arg(long)]
        open_for: Option<String>,
        /// Reminders after opening, e.g. 7d,14d or none
        #[arg(long)]
        remind: Option<String>,
        /// Audience filter ("" or everyone: everyone active)
        #[arg(long)]
        audience: Option<String>,
        /// Title template: {half}, {quarter}, {year}, {month}
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        anonymity_k: Option<String>,
    },
    /// Stop a schedule for good: its planned wave is cancelled (an open wave runs on)
    Stop { id: String },
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
                outside_trend: false,
            };
            let tz = global.time_zone()?;
            let wave = waves::schedule_wave_in(&mut conn, &input, now, tz).map_err(invalid)?;
            println!("{}", wave.id);
            eprintln!(
                "scheduled '{}': opens {}, closes {}",
                wave.title,
                display_in(wave.opens_at, tz),
                display_in(wave.closes_at, tz)
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
            println!("refused       {} (a refused address is blocked)", p.bounced);
            println!(
                "undelivered   {}{}",
                p.failed,
                if p.failed > 0 {
                    format!(" after every retry: `pulse wave retry-failed {}`", wave.id)
                } else {
                    String::new()
                }
            );
            for reason in &p.failure_reasons {
                println!("  {} × {}", reason.mails, reason.reason);
            }
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
            waves::ensure_not_pulse(&mut conn, &wave.id).map_err(invalid)?;
            if !waves::close_wave(&mut conn, &wave.id, now).map_err(invalid)? {
                anyhow::bail!("the wave is {}, not open: nothing to close", wave.state);
            }
            println!("closed '{}'", wave.title);
        }
        WaveCommand::Cancel { id } => {
            let wave = resolve(&mut conn, &id)?;
            waves::ensure_not_pulse(&mut conn, &wave.id).map_err(invalid)?;
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
        WaveCommand::RetryFailed { id } => {
            let wave = resolve(&mut conn, &id)?;
            let queued = waves::retry_failed(&mut conn, &wave.id, now).map_err(invalid)?;
            println!(
                "{queued} undelivered mail{} queued again; `pulse serve` or `pulse tick` sends {}",
                if queued == 1 { "" } else { "s" },
                if queued == 1 { "it" } else { "them" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_schedule(global: &GlobalArgs, command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let tz = global.time_zone()?;
    let now = SystemClock.now();
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
                schedules::add_schedule_in(&mut conn, &input, now, tz).map_err(invalid)?;
            println!("{}", schedule.id);
            eprintln!(
                "schedule added; the first wave opens {} (see `pulse wave list`)",
                display_in(schedule.next_opens_at, tz)
            );
        }
        ScheduleCommand::List => {
            let list = schedules::list(&mut conn, tz).map_err(invalid)?;
            if list.is_empty() {
                eprintln!("no schedules yet; add one with `pulse schedule add`");
            }
            for s in list {
                let next = match &s.next_wave {
                    Some(title) => format!("next: {title}, opens {}", s.next_opens_at),
                    None => "no more waves".into(),
                };
                println!(
                    "{}  {:<7} {:<22} every {:<4} open {:<4} remind {:<8} k={}  {next}",
                    s.id, s.state, s.survey_slug, s.every, s.open_for, s.remind, s.anonymity_k,
                );
            }
        }
        ScheduleCommand::Pause { id } => {
            println!(
                "{}",
                schedules::pause(&mut conn, &id).map_err(invalid)?.message
            );
        }
        ScheduleCommand::Resume { id } => {
            let outcome = schedules::resume(&mut conn, &id, now, tz).map_err(invalid)?;
            println!("{}", outcome.message);
        }
        ScheduleCommand::Stop { id } => {
            println!(
                "{}",
                schedules::stop(&mut conn, &id, now)
                    .map_err(invalid)?
                    .message
            );
        }
        ScheduleCommand::Edit {
            id,
            every,
            starting,
            open_for,
            remind,
            audience,
            title,
            anonymity_k,
        } => {
            let schedule = schedules::resolve(&mut conn, &id).map_err(invalid)?;
            let current = schedules::input_of(&mut conn, &schedule, tz).map_err(invalid)?;
            let input = ScheduleInput {
                survey: current.survey,
                every: every.unwrap_or(current.every),
                starting: starting.unwrap_or(current.starting),
                open_for: open_for.unwrap_or(current.open_for),
                remind: remind.unwrap_or(current.remind),
                audience: audience.unwrap_or(current.audience),
                title: title.unwrap_or(current.title),
                anonymity_k: anonymity_k.unwrap_or(current.anonymity_k),
            };
            let outcome =
                schedules::edit(&mut conn, &schedule.id, &input, now, tz).map_err(invalid)?;
            println!("{}", outcome.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}
