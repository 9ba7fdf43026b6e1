//! One file per table: the row as read, the row to insert, and named query functions that
//! take `conn: &mut DbConn` (a pooled connection or the one inside a transaction).

pub mod actions;
pub mod api_keys;
pub mod directory_sql;
pub mod invitations;
pub mod kpis;
pub mod opt_outs;
pub mod outbox;
pub mod pulses;
pub mod requests;
pub mod responses;
pub mod results;
pub mod sessions;
pub mod stakeholder_search;
pub mod stakeholders;
pub mod survey_versions;
pub mod user_scopes;
pub mod users;
pub mod wave_summaries;
pub mod waves;
