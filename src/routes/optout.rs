//! `/u/{token}`: opting out of a survey's mail. GET (and HEAD) only shows a confirmation
//! page (mail scanners follow links); the form POST and the RFC 8058 one-click POST
//! (`List-Unsubscribe=One-Click`) do the work. Idempotent. What opting out does is said
//! in `views::optout_page`. The pages speak the mail's language (`?lang=`, set by the
//! link in the mail), else the browser's.

use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::token::LinkToken;
use crate::email::MailLanguage;
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::optout_page::{confirm_page, done_page, page_language};
use crate::views::render_html;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/u/{token}")
            // HEAD answers like GET (actix sends no body for HEAD).
            .route(
                web::route()
                    .guard(guard::Any(guard::Get()).or(guard::Head()))
                    .to(confirm),
            )
            .route(web::post().to(opt_out)),
    );
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn language(req: &HttpRequest, query: &LangQuery) -> MailLanguage {
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    page_language(query.lang.as_deref(), accept)
}

async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    state
        .survey_limiter
        .check(&req, state.settings.trust_proxy)?;
    // The token is not even looked up: the page is the same for every link.
    let valid_shape = LinkToken::parse(&token).is_some();
    let language = language(&req, &query);
    let action = format!("/u/{}?lang={}", token.as_str(), language.code());
    let context = confirm_page(language, &action, valid_shape);
    let body = render_html("pages/optout", &context).map_err(AppError::unexpected)?;
    Ok(super::html(StatusCode::OK, body))
}

async fn opt_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    state
        .survey_limiter
        .check(&req, state.settings.trust_proxy)?;
    let Some(token) = LinkToken::parse(&token) else {
        return Err(AppError::NotFound);
    };
    let language = language(&req, &query);
    let hash = token.hash();
    let pool = state.pool.clone();
    let now = state.clock.now();
    let survey_title = web::block(move || -> Result<Option<String>, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::services::waves::opt_out(
            &mut conn,
            hash.as_str(),
            language.code(),
            now,
        )?)
    })
    .await??;
    let Some(survey_title) = survey_title else {
        return Err(AppError::NotFound);
    };
    let context = done_page(language, &survey_title);
    let body = render_html("pages/optout_done", &context).map_err(AppError::unexpected)?;
    Ok(super::html(StatusCode::OK, body))
}
