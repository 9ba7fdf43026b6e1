//! The integration suite: one binary, each test against a real server on port 0 and a
//! fresh database — SQLite always, PostgreSQL too when PULSE_TEST_POSTGRES_URL is set.

mod helpers;

mod auth;
mod health;
mod migrations;
mod stakeholders;
