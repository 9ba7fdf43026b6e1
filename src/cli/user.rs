//! `pulse user add|list|set-role|scope|deactivate|activate|set-password`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;

use super::GlobalArgs;
use crate::db::models::users;
use crate::domain::{EmailAddress, Role};
use crate::services::accounts;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is asked for at a prompt (or read from stdin)
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: Role,
        /// For a viewer: a business unit whose scorecards they may see (repeat for several)
        #[arg(long = "unit", value_name = "BUSINESS_UNIT")]
        units: Vec<String>,
        /// Read the password from the first line of standard input instead of a prompt
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts
    List,
    /// Change an account's role
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Set the business units a viewer may see (their scorecards only), replacing the earlier ones
    Scope {
        #[arg(long)]
        email: String,
        /// A business_unit value of the directory (repeat for several)
        #[arg(long = "unit", value_name = "BUSINESS_UNIT", required = true)]
        units: Vec<String>,
    },
    /// Set a new password (ends the account's sessions)
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate an account (ends its sessions; it can no longer sign in)
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Reactivate an account
    Activate {
        #[arg(long)]
        email: String,
    },
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ")
        .context("cannot read the password (no terminal? use --password-stdin)")?;
    let second = rpassword::prompt_password("Repeat password: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

fn find(conn: &mut crate::db::DbConn, email: &str) -> anyhow::Result<users::UserRow> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    users::find_by_email(conn, email.as_str())?
        .with_context(|| format!("there is no account for {email} (see `pulse user list`)"))
}

pub fn run(global: &GlobalArgs, command: UserCommand) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    match command {
        UserCommand::Add {
            email,
            role,
            units,
            password_stdin,
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            match (role, units.is_empty()) {
                (Role::Viewer, true) => anyhow::bail!(
                    "a viewer needs at least one --unit (a business unit whose scorecards they may see)"
                ),
                (Role::Admin | Role::Lead, false) => {
                    anyhow::bail!("--unit is for viewers: {role}s see every business unit")
                }
                _ => {}
            }
            if role == Role::Viewer {
                // Checked first: a viewer with a wrong unit is not created at all.
                accounts::check_viewer_units(&mut conn, &units)
                    .map_err(|e| anyhow::anyhow!("--unit: {e}"))?;
            }
            let password = read_password(password_stdin)?;
            let id = accounts::add_user(
                &mut conn,
                &email,
                role,
                &password,
                chrono::Utc::now().naive_utc(),
            )?;
            if role == Role::Viewer {
                accounts::set_viewer_units(&mut conn, &id, &units)
                    .map_err(|e| anyhow::anyhow!("--unit: {e}"))?;
            }
            if units.is_empty() {
                println!("created {role} account {email}");
            } else {
                println!("created {role} account {email} for {}", units.join(", "));
            }
        }
        UserCommand::Scope { email, units } => {
            let user = find(&mut conn, &email)?;
            accounts::set_viewer_units(&mut conn, &user.id, &units)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let units = accounts::viewer_units(&mut conn, &user.id)?;
            println!("{} now sees {}", user.email, units.join(", "));
        }
        UserCommand::List => {
            for user in users::list(&mut conn)? {
                let state = if user.active { "active" } else { "deactivated" };
                let scope = if user.role == Role::Viewer.as_str() {
                    format!(
                        " ({})",
                        accounts::viewer_units(&mut conn, &user.id)?.join(", ")
                    )
                } else {
                    String::new()
                };
                println!("{:<40} {:<6} {state}{scope}", user.email, user.role);
            }
        }
        UserCommand::SetRole { email, role } => {
            let user = find(&mut conn, &email)?;
            users::set_role(&mut conn, &user.id, role.as_str())?;
            println!("{} is now {role}", user.email);
        }
        UserCommand::SetPassword {
            email,
            password_stdin,
        } => {
            let user = find(&mut conn, &email)?;
            let password = read_password(password_stdin)?;
            accounts::change_password(&mut conn, &user.id, &password)?;
            println!(
                "password changed for {}; its sessions have ended",
                user.email
            );
        }
        UserCommand::Deactivate { email } => {
            let user = find(&mut conn, &email)?;
            accounts::set_active(&mut conn, &user.id, false)?;
            println!("{} is deactivated", user.email);
        }
        UserCommand::Activate { email } => {
            let user = find(&mut conn, &email)?;
            accounts::set_active(&mut conn, &user.id, true)?;
            println!("{} is active again", user.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}
