//! `pulse user add|list|set-role|deactivate|activate|set-password`.

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
            password_stdin,
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let password = read_password(password_stdin)?;
            accounts::add_user(
                &mut conn,
                &email,
                role,
                &password,
                chrono::Utc::now().naive_utc(),
            )?;
            println!("created {role} account {email}");
        }
        UserCommand::List => {
            for user in users::list(&mut conn)? {
                let state = if user.active { "active" } else { "deactivated" };
                println!("{:<40} {:<6} {}", user.email, user.role, state);
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
