//! `pulse survey validate|list`.

use std::process::ExitCode;

use super::GlobalArgs;

#[derive(Debug, clap::Subcommand)]
pub enum SurveyCommand {
    /// List survey definitions
    List,
}

pub fn run(_global: &GlobalArgs, command: SurveyCommand) -> anyhow::Result<ExitCode> {
    match command {
        SurveyCommand::List => anyhow::bail!("not implemented yet"),
    }
}
