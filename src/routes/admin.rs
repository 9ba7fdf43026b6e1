//! `/admin`: the home page for signed-in admins and leads (the latest results of every
//! survey, open waves, the directory's health: `views::home`), and the administration pages
//! that are not about waves: the stakeholder directory and its CSV import
//! ([`stakeholders`]), accounts ([`users`]) and survey definitions with a preview of each
//! form ([`surveys`]).
//!
//! Who may do what: the directory and the accounts are for admins only (they hold personal
//! data and grant access); survey definitions and their previews are readable by leads too,
//! so a lead can see exactly what was asked when reading results.

mod stakeholders;
mod suppressions;
mod surveys;
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
        .configure(users::configure)
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
    let (home, health) = web::block(move || -> Result<_, AppError> {
        let mut conn = state.pool.get()?;
        let home = results::overview::home(&mut conn, &state.results, state.clock.now())
            .map_err(super::results::results_error)?;
        let health = if is_admin {
            Some(directory::health(&mut conn)?)
        } else {
            None
        };
        Ok((home, health))
    })
    .await??;
    let page = Page::signed_in("Overview", &signed_in, HomePage::new(&home, health));
    Ok(super::html(
        actix_web::http::StatusCode::OK,
        page.render("pages/admin/home")?,
    ))
}
