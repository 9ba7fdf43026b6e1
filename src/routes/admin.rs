//! `/admin`: the landing page for signed-in admins and leads, and the administration pages
//! that are not about waves: the stakeholder directory and its CSV import
//! ([`stakeholders`]), the scorecards' request log and KPI values ([`scorecard_imports`],
//! sharing the upload code of [`upload`]), accounts ([`users`]) and survey definitions with
//! a preview of each form ([`surveys`]).
//!
//! Who may do what: the directory and the accounts are for admins only (they hold personal
//! data and grant access); survey definitions and their previews are readable by leads too,
//! so a lead can see exactly what was asked when reading results.

mod scorecard_imports;
mod stakeholders;
mod suppressions;
mod surveys;
mod upload;
mod users;

use actix_web::{web, HttpResponse};

use crate::auth::SignedIn;
use crate::db::models::{stakeholders as stakeholder_rows, survey_versions};
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(home))
        .configure(stakeholders::configure)
        .configure(scorecard_imports::configure)
        .configure(users::configure)
        .configure(suppressions::configure)
        .configure(surveys::configure);
}

async fn home(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    if signed_in.user.is_viewer {
        return Ok(super::see_other("/admin/scorecards"));
    }
    let blocking_state = state.clone();
    let now = state.clock.now();
    let (active_stakeholders, survey_versions, due, scorecard_status) =
        web::block(move || -> Result<_, AppError> {
            let state = blocking_state;
            let mut conn = state.pool.get()?;
            let due = crate::actions::digest::due(&mut conn, None, now).map_err(|e| match e {
                crate::actions::ActionError::Unexpected(e) => AppError::Unexpected(e),
                other => AppError::unexpected(anyhow::anyhow!("{other}")),
            })?;
            Ok((
                stakeholder_rows::count_active(&mut conn)?,
                survey_versions::count(&mut conn)?,
                due,
                crate::scorecards::summary::status_summary(
                    &mut conn,
                    &state.results,
                    &state.scorecard,
                    None,
                    now,
                )?,
            ))
        })
        .await??;
    let mut data = serde_json::json!({
        "stats": { "active_stakeholders": active_stakeholders, "survey_versions": survey_versions },
        "scorecard_status": scorecard_status,
    });
    // "Actions due" (`partials/actions_due`): planned or in progress, due within 14 days
    // or overdue.
    if let (Some(map), serde_json::Value::Object(due)) =
        (data.as_object_mut(), crate::views::heard::actions_due(&due))
    {
        map.extend(due);
    }
    let page = Page::signed_in("Overview", &signed_in, data);
    Ok(super::html(
        actix_web::http::StatusCode::OK,
        page.render("pages/admin/home")?,
    ))
}
