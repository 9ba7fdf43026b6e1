//! Thin route handlers: extract → parse into domain types → call a service (blocking work
//! in `web::block`) → render. This file wires them and the cross-cutting middleware:
//! security headers on every response and HTML error pages.

mod actions;
mod admin;
pub mod api;
mod assets;
mod errors;
pub mod flash;
mod health;
mod heard;
mod login;
pub mod metrics;
mod mirror;
mod optout;
mod pulses;
pub mod results;
mod schedules;
mod scorecards;
mod survey;
mod waves;

use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::web;

use crate::error::AppError;

/// Content-Security-Policy of every page: no script at all, styles and images from this
/// origin only, forms post only here, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(ErrorHandlers::new().default_handler(errors::render_error_page))
            .wrap(actix_web::middleware::from_fn(flash::clear_after_show))
            .wrap(security_headers())
            .configure(health::configure)
            // First of the pages with a path parameter: the most requested route is matched
            // before the admin pages' patterns are tried.
            .configure(survey::configure)
            .configure(api::configure)
            .configure(metrics::configure)
            .configure(assets::configure)
            .configure(login::configure)
            .configure(admin::configure)
            .configure(waves::configure)
            .configure(results::configure)
            .configure(mirror::configure)
            .configure(actions::configure)
            .configure(heard::configure)
            .configure(scorecards::configure)
            .configure(pulses::configure)
            .configure(optout::configure)
            .default_service(web::to(|req: actix_web::HttpRequest| async move {
                // Under /api/ the answer is the request API's JSON error, not a page.
                if req.path().starts_with("/api/") {
                    return Err(actix_web::Error::from(api::not_found()));
                }
                Err::<actix_web::HttpResponse, _>(AppError::NotFound.into())
            })),
    );
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}

/// How a form that cannot be read is answered: a form without its CSRF field is treated like
/// one with a wrong token ("this form has expired…"); anything else missing or malformed gets
/// the product's words, not the parser's.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().error_handler(|error, _req| {
        let detail = error.to_string();
        tracing::debug!(%detail, "a form could not be read");
        if detail.contains("csrf_token") {
            AppError::Csrf.into()
        } else {
            AppError::BadRequest(
                "This form arrived incomplete or changed, so nothing was done. Go back, reload the page and fill it in again."
                    .into(),
            )
            .into()
        }
    })
}

/// 303 See Other to `location` (Post/Redirect/Get).
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The value of `name` in a form read as pairs (forms with repeated or per-language
/// fields); empty when absent.
pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// An HTML page response.
pub fn html(status: actix_web::http::StatusCode, body: String) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}
