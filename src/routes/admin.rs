//! `/admin`: the home page for signed-in admins and leads (the latest results of every
//! survey, open waves, the directory's health: `views::home`), and the administration pages
//! that are not about waves: the stakeholder directory and its CSV import
//! ([`stakeholders`]), the scorecards' request log and KPI values ([`scorecard_imports`],
//! sharing the upload code of [`upload`]), accounts ([`users`]) and survey definitions with
//! a preview of each form ([`surveys`]), and the request API's keys ([`api_keys`]).
//!
//! Who may do what: the directory and the accounts are for admins only (they hold personal
//! data and grant access); survey definitions and their previews are readable by leads too,
//! so a lead can see exactly what was asked when reading results.

mod api_keys;
mod scorecard_imports;
mod stakeholders;
mod suppressions;
mod surveys;
mod upload;
mod users;

use actix_web::{web, HttpResponse};

use crate::auth::SignedIn;
use crate::error::AppError;
use crate::results;
use crate::services::stakeholders::directory;
use crate::startup::AppState;
use crate::views::home::HomePage;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(home))
        .configure(stakeholders::configure)
        .configure(scorecard_imports::configure)
        .configure(users::configure)
        .configure(api_keys::configure)
        .configure(suppressions::configure)
        .configure(surveys::configure);
}

/// The home page: the latest results of every survey, the open waves and, for admins,
/// the directory's health (`views::home`). Viewers go to their scorecards.
async fn home(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    if signed_in.user.is_viewer {
        return Ok(super::see_other("/admin/scorecards"));
    }
    let is_admin = signed_in.user.is_admin;
    let state = state.into_inner();
    let (home, health, due, scorecard_status) = web::block(move || -> Result<_, AppError> {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        let home = results::overview::home(&mut conn, &state.results, now)
            .map_err(super::results::results_error)?;
        let health = if is_admin {
            Some(directory::health(&mut conn)?)
        } else {
            None
        };
        let due = crate::actions::digest::due(&mut conn, None, now).map_err(|e| match e {
            crate::actions::ActionError::Unexpected(e) => AppError::Unexpected(e),
            other => AppError::unexpected(anyhow::anyhow!("{other}")),
        })?;
        let scorecard_status = crate::scorecards::summary::status_summary(
            &mut conn,
            &state.results,
            &state.scorecard,
            None,
            now,
        )?;
        Ok((home, health, due, scorecard_status))
    })
    .await??;
    let mut data = serde_json::to_value(HomePage::new(&home, health))
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("home page data: {e}")))?;
    if let Some(map) = data.as_object_mut() {
        // The scorecards at a glance (`partials/scorecard_status`) and the actions due within
        // 14 days or overdue (`partials/actions_due`).
        map.insert(
            "scorecard_status".into(),
            serde_json::to_value(scorecard_status)
                .map_err(|e| AppError::unexpected(anyhow::anyhow!("scorecard status: {e}")))?,
        );
        if let serde_json::Value::Object(due) = crate::views::heard::actions_due(&due) {
            map.extend(due);
        }
    }
    let page = Page::signed_in("Overview", &signed_in, data);
    Ok(super::html(
        actix_web::http::StatusCode::OK,
        page.render("pages/admin/home")?,
    ))
}
