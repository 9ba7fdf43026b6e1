//! The action plan's types as every output sees them: status, the actor, the input of
//! `create` and `update`, the errors, and the views (an action, its notes, its history).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::target::TargetPoint;
use crate::domain::role::Role;
use crate::domain::wave::FieldError;
use crate::services::results::ResultsError;

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Planned,
    InProgress,
    Done,
    Dropped,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Planned,
        Status::InProgress,
        Status::Done,
        Status::Dropped,
    ];

    pub fn parse(text: &str) -> Result<Self, String> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "planned" => Ok(Status::Planned),
            "in_progress" => Ok(Status::InProgress),
            "done" => Ok(Status::Done),
            "dropped" => Ok(Status::Dropped),
            _ => Err(format!(
                "\"{}\" is not a status: use planned, in_progress, done or dropped",
                text.trim()
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::InProgress => "in_progress",
            Status::Done => "done",
            Status::Dropped => "dropped",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Planned => "Planned",
            Status::InProgress => "In progress",
            Status::Done => "Done",
            Status::Dropped => "Dropped",
        }
    }

    /// Still to be done: may be overdue.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Planned | Status::InProgress)
    }
}

/// Who does something: a signed-in account (the pages and the API) or the account named
/// with `--by` (the command line).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub email: String,
    pub role: Role,
}

impl From<&crate::auth::CurrentUser> for Actor {
    fn from(user: &crate::auth::CurrentUser) -> Self {
        Actor {
            id: user.id.clone(),
            email: user.email.clone(),
            role: user.role,
        }
    }
}

/// A new action as typed: parsed and checked by [`create`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActionInput {
    /// The closed wave whose results the action answers.
    pub wave: String,
    /// `nps`, `csat`, `dimension:KEY`, `pain_point:KEY` or `stage:KEY`.
    pub target: String,
    /// Empty for the whole wave, or `attribute=value` for a group the results show.
    #[serde(default)]
    pub group: String,
    pub title: String,
    /// What procurement will do, for respondents: language → text.
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    /// The owner's account email.
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// Changes to an action; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActionUpdate {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no action with id {0} (see `pulse action list`)")]
    NotFound(String),
    #[error("{}", crate::domain::wave::describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for ActionError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<ResultsError> for ActionError {
    fn from(e: ResultsError) -> Self {
        match e {
            ResultsError::NotFound(id) => Self::Invalid(vec![FieldError::new(
                "wave",
                format!("No wave with id {id}."),
            )]),
            ResultsError::Refused(message) => {
                Self::Invalid(vec![FieldError::new("group", message)])
            }
            ResultsError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> ActionError {
    ActionError::Invalid(vec![FieldError::new(field, message)])
}

/// An action as every output shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub id: String,
    pub survey_slug: String,
    pub wave_id: String,
    pub wave_title: String,
    /// `nps`, `csat`, `dimension:KEY`…
    pub target: String,
    /// The figure as the results page names it.
    pub target_label: String,
    /// `attribute=value`, or `null` for the whole wave.
    pub group: Option<String>,
    pub title: String,
    pub description: BTreeMap<String, String>,
    pub owner: String,
    pub due_on: NaiveDate,
    pub status: Status,
    /// Due before today and not done or dropped.
    pub overdue: bool,
    pub published: bool,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub author: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub by: String,
    pub at: NaiveDateTime,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// One action with its notes, its history and "did it work".
#[derive(Debug, Clone, Serialize)]
pub struct ActionDetail {
    pub action: ActionView,
    pub notes: Vec<Note>,
    pub history: Vec<Change>,
    pub did_it_work: Vec<TargetPoint>,
}

/// Filters of the actions list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    /// Owner's email.
    pub owner: Option<String>,
    pub overdue: bool,
}
