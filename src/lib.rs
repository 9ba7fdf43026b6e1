//! Procurement Pulse: internal customer satisfaction surveys for procurement departments.
//!
//! The flow, one module per arrow:
//!
//! ```text
//! survey-definitions/*.json ─definitions─▶ survey version (pinned, content-hashed)
//! stakeholders.csv ─services::stakeholders─▶ stakeholder directory
//! admin / schedule ─▶ wave (survey version + audience + window + reminders + anonymity k)
//! wave opens ─ONE transaction─▶ invitations (frozen segment, token hash) + outbox rows
//! outbox worker ─lettre SMTP─▶ inbox
//! stakeholder GET /s/{token} ─▶ form ─POST─▶ response (anonymous), invitation marked
//! wave closes ─▶ results frozen ─▶ leads notified
//! results pages ◀─ results (counts → plans → figures → changes → model; store: cache +
//!                 snapshots; overview: index + home) ─▶ views::results_page + routes::results
//!                 (page, charts SVG, export CSV/XLSX, JSON API), cli results, routes::admin (home)
//! requests.csv ─requests─▶ request log;  kpis.csv ─scorecards─▶ KPI values
//! scorecards::card ◀─ request figures + KPI values + results filtered per unit (release plan)
//!                 ─▶ routes::scorecards (pages, CSV/XLSX, JSON API; viewers see their units), cli scorecard
//! ```
//!
//! `main.rs` only parses the command line and calls [`cli::run`].

pub mod actions;
pub mod allocator;
pub mod anonymity;
pub mod auth;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod definitions;
pub mod demo;
pub mod domain;
pub mod email;
pub mod error;
pub mod export;
pub mod metrics;
pub mod outbox;
pub mod pulse;
pub mod requests;
pub mod results;
pub mod routes;
pub mod scheduler;
pub mod scorecards;
pub mod services;
pub mod startup;
pub mod stats;
pub mod telemetry;
pub mod views;
