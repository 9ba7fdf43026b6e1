//! The integration suite: one binary, each test against a real server on port 0 and a
//! fresh database — SQLite always, PostgreSQL too when PULSE_TEST_POSTGRES_URL is set.

mod helpers;
mod smtp_server;

mod auth;
mod browser;
mod crash;
mod definitions;
mod demo;
mod email;
mod health;
mod migrations;
mod outbox_processes;
mod respondent;
mod results;
mod stakeholders;
mod waves;
mod waves_web;
