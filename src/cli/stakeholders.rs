//! `pulse stakeholders import|list`.

use std::process::ExitCode;

use super::GlobalArgs;

#[derive(Debug, clap::Subcommand)]
pub enum StakeholdersCommand {
    /// List stakeholders
    List,
}

pub fn run(_global: &GlobalArgs, command: StakeholdersCommand) -> anyhow::Result<ExitCode> {
    match command {
        StakeholdersCommand::List => anyhow::bail!("not implemented yet"),
    }
}
