//! The integration suite: one binary, each test against a real server on port 0 and a
//! fresh database — SQLite always, PostgreSQL too when PULSE_TEST_POSTGRES_URL is set.

mod helpers;
mod smtp_server;

mod actions;
mod admin_pages;
mod anonymity;
mod auth;
mod browser;
mod browser_actions;
mod browser_admin;
mod browser_delivery;
mod browser_heard;
mod browser_mirror;
mod browser_results;
mod browser_scorecards;
mod crash;
mod definitions;
mod delivery;
mod demo;
mod directory;
mod email;
mod health;
mod home;
mod migrations;
mod mirror;
mod operations;
mod outbox_processes;
mod readme;
mod respondent;
mod results;
mod results_changes;
mod said_did;
mod scale_out;
mod schedules;
mod scorecard_imports;
mod scorecard_pages;
mod scorecards;
mod stakeholders;
mod wave_outcomes;
mod waves;
mod waves_web;
mod what_we_heard;
