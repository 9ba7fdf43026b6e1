//! Account roles: admins run the survey programme, leads read results, viewers (a business
//! unit's head) read their units' scorecards only.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Loads definitions, keeps the directory, schedules waves, manages users; sees results.
    Admin,
    /// Procurement lead: reads results and exports.
    Lead,
    /// A business unit's head: reads the scorecards of the units in their scope, nothing else.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lead => "lead",
            Role::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "lead" => Ok(Role::Lead),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role '{other}': use admin, lead or viewer")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
