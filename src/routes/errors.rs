//! Turns every error status into a page: HTML for browsers (templates/errors/), JSON under
//! `/api/`, plain text otherwise. Responses that are already HTML (a form re-rendered with
//! its errors, say) pass through untouched.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::HttpResponse;

use crate::error::PublicMessage;
use crate::views::{self, Page};

pub fn render_error_page<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("text/html") || content_type.starts_with("application/json") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let message = res
        .response()
        .extensions()
        .get::<PublicMessage>()
        .map(|m| m.0.clone())
        .unwrap_or_else(|| default_message(status).to_string());
    let request = res.request();
    let wants_json = request.path().starts_with("/api/");
    let accepts_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let mut new_response = if wants_json {
        HttpResponse::build(status)
            .json(serde_json::json!({ "error": message, "status": status.as_u16() }))
    } else if accepts_html {
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(error_page(status, &message))
    } else {
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(format!("{message}\n"))
    };
    // Keep headers such as Retry-After or Allow.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new_response
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    let (req, _) = res.into_parts();
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, new_response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// The HTML of an error page; falls back to a minimal page if the template fails.
pub fn error_page(status: StatusCode, message: &str) -> String {
    let template = match status.as_u16() {
        404 => "errors/404",
        422 => "errors/422",
        500..=599 => "errors/500",
        _ => "errors/error",
    };
    let heading = heading(status);
    let page = Page::public(
        heading,
        "en",
        serde_json::json!({ "status": status.as_u16(), "heading": heading, "message": message }),
    );
    views::render_html(template, &page).unwrap_or_else(|error| {
        tracing::error!(%error, "error page template failed");
        format!(
            "<!doctype html><title>{}</title><p>{}</p>",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        )
    })
}

fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "This request could not be understood",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Page not found",
        405 => "Not allowed here",
        413 => "Too much data",
        422 => "Some input needs attention",
        429 => "Too many requests",
        503 => "Temporarily unavailable",
        _ => "Something went wrong",
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request was not in the expected form.",
        404 => "The page you asked for does not exist.",
        405 => "This address does not accept that kind of request.",
        413 => "What you sent is larger than this service accepts.",
        429 => "Too many attempts. Wait a minute and try again.",
        500..=599 => "Something went wrong on our side. Try again in a moment.",
        _ => "The request could not be completed.",
    }
}
