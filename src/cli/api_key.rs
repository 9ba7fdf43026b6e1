//! `pulse api-key create NAME | list | revoke ID|PREFIX`: keys of the request API.

use std::process::ExitCode;

use super::GlobalArgs;
use crate::auth::api_keys;

/// Who created a key made on the command line.
const CREATED_BY: &str = "command line";

#[derive(Debug, clap::Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for the purchasing system; the key is printed once, and only its hash
    /// is stored
    Create {
        /// Who will use it, e.g. "SAP Ariba production"
        name: String,
    },
    /// List the keys: id, prefix, name, created, last used, state (never the keys)
    List,
    /// Revoke a key: calls with it are refused from now on
    Revoke {
        /// The key's id, or its prefix as `list` shows it (e.g. pulse_AbCdEf)
        key: String,
    },
}

pub fn run(global: &GlobalArgs, command: ApiKeyCommand) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let now = chrono::Utc::now().naive_utc();
    match command {
        ApiKeyCommand::Create { name } => {
            let created = api_keys::create(&mut conn, &name, CREATED_BY, now)?;
            println!("{}", created.key);
            eprintln!(
                "API key \"{}\" created (id {}). It is shown only now: Pulse stores its hash, not the key.",
                created.row.name, created.row.id
            );
        }
        ApiKeyCommand::List => {
            let keys = api_keys::list(&mut conn)?;
            if keys.is_empty() {
                println!("no API keys yet: create one with `pulse api-key create NAME`");
            }
            for key in keys {
                let when = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
                println!(
                    "{}\t{}…\t{}\tcreated {} by {}\tlast used {}\t{}",
                    key.id,
                    key.prefix,
                    key.name,
                    when(key.created_at),
                    key.created_by,
                    key.last_used_at.map_or("never".to_string(), when),
                    key.revoked_at
                        .map_or("active".to_string(), |t| format!("revoked {}", when(t))),
                );
            }
        }
        ApiKeyCommand::Revoke { key } => {
            let wanted = key.trim_end_matches('…');
            let (row, changed) = api_keys::revoke(&mut conn, wanted, now)?;
            if changed {
                println!(
                    "revoked \"{}\" ({}…): calls with it are refused from now on",
                    row.name, row.prefix
                );
            } else {
                println!("\"{}\" ({}…) was revoked already", row.name, row.prefix);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
