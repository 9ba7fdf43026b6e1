//! The transactional verbs of the flow. Each takes a `&mut DbConn` and does its work in one
//! transaction where it writes; route handlers and CLI commands call these, never SQL.

pub mod accounts;
pub mod audience;
pub mod link_lookups;
pub mod respondent;
pub mod responses;
pub mod results;
pub mod schedules;
pub mod stakeholders;
pub mod suppressions;
pub mod surveys;
pub mod waves;
