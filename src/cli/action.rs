//! `pulse action add|list|show|update|note|publish|heard`: action plans from the command
//! line — the same service, checks and history as the pages and the API — and a closed
//! wave's "what we heard" (show, send, revoke). Changes are made in the
//! name of an account (`--by EMAIL`), so the history says who.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use super::GlobalArgs;
use crate::actions::{self, heard, ActionError, ActionInput, ActionUpdate, ListFilter, Status};
use crate::clock::{Clock, SystemClock};
use crate::db::DbConn;
use crate::services::results::ResultsCache;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per action
    Table,
    /// The same document as GET /api/v1/actions
    Json,
    /// The same rows as the CSV download
    Csv,
}

#[derive(Debug, clap::Subcommand)]
pub enum ActionCommand {
    /// Plan an action on a figure of a closed wave; prints its id
    Add {
        /// The account making the change (admin or lead)
        #[arg(long)]
        by: String,
        /// The closed wave whose results the action answers (id or unique prefix)
        #[arg(long)]
        wave: String,
        /// The figure: nps, csat, dimension:KEY, pain_point:KEY or stage:KEY
        #[arg(long)]
        target: String,
        /// A group the wave's results show, as attribute=value (default: the whole wave)
        #[arg(long, default_value = "")]
        group: String,
        #[arg(long)]
        title: String,
        /// What procurement will do, for respondents, in the survey's first language
        #[arg(long)]
        text: String,
        /// The same in another language of the survey, as LANG=TEXT (repeatable)
        #[arg(long = "text-in", value_name = "LANG=TEXT")]
        text_in: Vec<String>,
        /// The owner's account email
        #[arg(long)]
        owner: String,
        /// Due date, YYYY-MM-DD
        #[arg(long)]
        due: String,
    },
    /// List actions (soonest due first)
    List {
        /// Only this survey's actions (slug)
        #[arg(long)]
        survey: Option<String>,
        /// planned, in_progress, done or dropped
        #[arg(long)]
        status: Option<String>,
        /// Only this owner's (account email)
        #[arg(long)]
        owner: Option<String>,
        /// Only overdue ones
        #[arg(long)]
        overdue: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// An action with its notes, history and "did it work" figures, as JSON
    Show { id: String },
    /// Change an action's title, text, owner, due date or status
    Update {
        id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        title: Option<String>,
        /// New text for respondents in the survey's first language (other languages: --text-in)
        #[arg(long)]
        text: Option<String>,
        #[arg(long = "text-in", value_name = "LANG=TEXT")]
        text_in: Vec<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        due: Option<String>,
        /// planned, in_progress, done or dropped
        #[arg(long)]
        status: Option<String>,
    },
    /// Add a dated progress note (and change the status with it)
    Note {
        id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        status: Option<String>,
    },
    /// Publish an action (respondents may read it) — admins only; --withdraw to undo
    Publish {
        id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        withdraw: bool,
    },
    /// A closed wave's "what we heard" as JSON (its state and the summary); --send queues it
    /// for everyone invited (once per wave), --revoke ends its public link (admins only)
    Heard {
        /// The wave (id or unique prefix)
        wave: String,
        /// The summary's language, en or de (default: the survey's first language)
        #[arg(long)]
        lang: Option<String>,
        /// Queue the summary mail for everyone invited (nothing when it was sent before)
        #[arg(long, conflicts_with = "revoke")]
        send: bool,
        /// Revoke the summary's public link
        #[arg(long)]
        revoke: bool,
        /// The admin account sending or revoking
        #[arg(long)]
        by: Option<String>,
    },
}

fn failure(error: ActionError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

fn resolve(conn: &mut DbConn, id: &str) -> anyhow::Result<String> {
    let now = SystemClock.now();
    let matches: Vec<String> = actions::list(conn, None, &ListFilter::default(), now)
        .map_err(failure)?
        .into_iter()
        .map(|a| a.id)
        .filter(|a| a.starts_with(id.trim()))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("no action with id {id} (see `pulse action list`)"),
        _ => anyhow::bail!("'{id}' matches several actions: give more of the id"),
    }
}

/// The texts: the first language's from `--text`, the others from `--text-in LANG=TEXT`.
fn texts(
    conn: &mut DbConn,
    wave_id: &str,
    text: Option<String>,
    text_in: &[String],
) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    if text.is_none() && text_in.is_empty() {
        return Ok(None);
    }
    let languages = actions::languages_of_wave(conn, wave_id).map_err(failure)?;
    let mut out = BTreeMap::new();
    if let (Some(text), Some(first)) = (text, languages.first()) {
        out.insert(first.clone(), text);
    }
    for item in text_in {
        let Some((language, text)) = item.split_once('=') else {
            anyhow::bail!("--text-in '{item}': write LANG=TEXT, e.g. de=\"Wir genehmigen …\"");
        };
        out.insert(language.trim().to_string(), text.to_string());
    }
    Ok(Some(out))
}

pub fn run(global: &GlobalArgs, command: ActionCommand) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let now = SystemClock.now();
    let cache = ResultsCache::default();
    let mut out = std::io::stdout().lock();
    match command {
        ActionCommand::Add {
            by,
            wave,
            target,
            group,
            title,
            text,
            text_in,
            owner,
            due,
        } => {
            let actor = actions::actor_by_email(&mut conn, &by).map_err(failure)?;
            let wave = super::wave::resolve(&mut conn, &wave)?;
            let description = texts(&mut conn, &wave.id, Some(text), &text_in)?.unwrap_or_default();
            let input = ActionInput {
                wave: wave.id,
                target,
                group,
                title,
                description,
                owner,
                due,
            };
            let action =
                actions::create(&mut conn, &cache, &actor, &input, now).map_err(failure)?;
            writeln!(out, "{}", action.id)?;
        }
        ActionCommand::List {
            survey,
            status,
            owner,
            overdue,
            format,
        } => {
            let status = status
                .map(|s| Status::parse(&s))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--status: {e}"))?;
            let filter = ListFilter {
                status,
                owner,
                overdue,
            };
            let list =
                actions::list(&mut conn, survey.as_deref(), &filter, now).map_err(failure)?;
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &list)?;
                    writeln!(out)?;
                }
                Format::Csv => out.write_all(&actions::export::to_csv(&list)?)?,
                Format::Table => {
                    if list.is_empty() {
                        writeln!(out, "no actions")?;
                    }
                    for a in &list {
                        writeln!(
                            out,
                            "{}  {}  {:<11} {}{}  {} — {} ({}{})  owner {}",
                            &a.id[..8.min(a.id.len())],
                            a.due_on,
                            a.status.as_str(),
                            if a.overdue { "OVERDUE " } else { "" },
                            if a.published {
                                "published"
                            } else {
                                "not published"
                            },
                            a.title,
                            a.target_label,
                            a.wave_title,
                            a.group
                                .as_deref()
                                .map(|g| format!(", {g}"))
                                .unwrap_or_default(),
                            a.owner
                        )?;
                    }
                }
            }
        }
        ActionCommand::Show { id } => {
            let id = resolve(&mut conn, &id)?;
            let detail = actions::detail(&mut conn, &cache, &id, now).map_err(failure)?;
            serde_json::to_writer_pretty(&mut out, &detail)?;
            writeln!(out)?;
        }
        ActionCommand::Update {
            id,
            by,
            title,
            text,
            text_in,
            owner,
            due,
            status,
        } => {
            let actor = actions::actor_by_email(&mut conn, &by).map_err(failure)?;
            let id = resolve(&mut conn, &id)?;
            let current = actions::view(&mut conn, &id, now).map_err(failure)?;
            let description = texts(&mut conn, &current.wave_id, text, &text_in)?.map(|mut new| {
                // Languages not given keep their text.
                for (language, text) in &current.description {
                    new.entry(language.clone()).or_insert_with(|| text.clone());
                }
                new
            });
            let update = ActionUpdate {
                title,
                description,
                owner,
                due,
                status,
            };
            let action = actions::update(&mut conn, &actor, &id, &update, now).map_err(failure)?;
            writeln!(
                out,
                "{}: {}, due {}",
                action.title,
                action.status.label(),
                action.due_on
            )?;
        }
        ActionCommand::Note {
            id,
            by,
            text,
            status,
        } => {
            let actor = actions::actor_by_email(&mut conn, &by).map_err(failure)?;
            let id = resolve(&mut conn, &id)?;
            let action = actions::add_note(&mut conn, &actor, &id, &text, status.as_deref(), now)
                .map_err(failure)?;
            writeln!(
                out,
                "note added to {} ({})",
                action.title,
                action.status.label()
            )?;
        }
        ActionCommand::Publish { id, by, withdraw } => {
            let actor = actions::actor_by_email(&mut conn, &by).map_err(failure)?;
            let id = resolve(&mut conn, &id)?;
            let action =
                actions::set_published(&mut conn, &actor, &id, !withdraw, now).map_err(failure)?;
            let state = if action.published {
                "published"
            } else {
                "not published"
            };
            writeln!(out, "{}: {state}", action.title)?;
        }
        ActionCommand::Heard {
            wave,
            lang,
            send,
            revoke,
            by,
        } => {
            let wave = super::wave::resolve(&mut conn, &wave)?;
            let key = global.secret_key()?;
            if send || revoke {
                let Some(by) = by else {
                    anyhow::bail!("--send and --revoke need --by ADMIN_EMAIL: the admin doing it");
                };
                let actor = actions::actor_by_email(&mut conn, &by).map_err(failure)?;
                if send {
                    match heard::send(&mut conn, &key, &actor, &wave.id, now).map_err(failure)? {
                        heard::SendOutcome::Sent { recipients } => writeln!(
                            out,
                            "\"what we heard\" of {} queued for {recipients} people (`pulse serve` or `pulse tick` sends it)",
                            wave.title
                        )?,
                        heard::SendOutcome::AlreadySent {
                            sent_at,
                            recipients,
                        } => writeln!(
                            out,
                            "\"what we heard\" of {} was sent on {} to {recipients} people: nothing more was queued",
                            wave.title,
                            sent_at.format("%Y-%m-%d %H:%M UTC")
                        )?,
                    }
                } else if heard::revoke(&mut conn, &actor, &wave.id, now).map_err(failure)? {
                    writeln!(out, "the summary link of {} is revoked", wave.title)?;
                } else {
                    writeln!(out, "{} has no live summary link", wave.title)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let base_url = global.base_url(|| "http://127.0.0.1:8080".into())?;
            let status = heard::status(&mut conn, &key, &base_url, &wave.id).map_err(failure)?;
            let summary = if status.closed {
                let default = status.languages.first().copied().unwrap_or("en");
                let language = heard::language_for(lang.as_deref(), default);
                Some(heard::build(&mut conn, &cache, &wave.id, language, now).map_err(failure)?)
            } else {
                None
            };
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({ "status": status, "summary": summary }),
            )?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
