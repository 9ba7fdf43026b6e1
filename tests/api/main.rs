//! The integration suite: one binary, each test against a real server on port 0 and a
//! fresh database — SQLite always, PostgreSQL too when PULSE_TEST_POSTGRES_URL is set.

mod helpers;
mod smtp_server;

mod admin_pages;
mod anonymity;
mod auth;
mod browser;
mod crash;
mod definitions;
mod demo;
mod email;
mod health;
mod migrations;
mod operations;
mod outbox_processes;
mod readme;
mod respondent;
mod results;
mod scale_out;
mod stakeholders;
mod waves;
mod waves_web;
