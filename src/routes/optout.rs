//! `/u/{token}`: opting out of a survey's mail. GET only shows a confirmation page (mail
//! scanners follow links); the form POST and the RFC 8058 one-click POST
//! (`List-Unsubscribe=One-Click`) do the work. Idempotent.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::domain::token::LinkToken;
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/u/{token}", web::get().to(confirm))
        .route("/u/{token}", web::post().to(opt_out));
}

async fn confirm(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state
        .survey_limiter
        .check(&req, state.settings.trust_proxy)?;
    // The token is not even looked up: the page is the same for every link.
    let valid_shape = LinkToken::parse(&token).is_some();
    let page = Page::public(
        "Stop survey emails",
        "en",
        serde_json::json!({ "token": token.as_str(), "valid_shape": valid_shape }),
    );
    Ok(super::html(StatusCode::OK, page.render("pages/optout")?))
}

async fn opt_out(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(token) = LinkToken::parse(&token) else {
        return Err(AppError::NotFound);
    };
    let hash = token.hash();
    let pool = state.pool.clone();
    let survey_title = web::block(move || -> Result<Option<String>, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::services::waves::opt_out(
            &mut conn,
            hash.as_str(),
            chrono::Utc::now().naive_utc(),
        )?)
    })
    .await??;
    let Some(survey_title) = survey_title else {
        return Err(AppError::NotFound);
    };
    let page = Page::public(
        "You will get no more emails",
        "en",
        serde_json::json!({ "survey_title": survey_title }),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/optout_done")?,
    ))
}
