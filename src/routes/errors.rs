//! Turns every error status into a page: HTML for browsers (templates/errors/), JSON under
//! `/api/`, plain text otherwise. Responses that are already HTML (a form re-rendered with
//! its errors, say) pass through untouched. Signed-in users keep the navigation on an error
//! page, and every page offers a way back.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::HttpResponse;

use actix_web::FromRequest;

use crate::auth::{SignedIn, SESSION_COOKIE};
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
    let request = res.request().clone();
    let wants_json = request.path().starts_with("/api/");
    let accepts_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_json || !accepts_html {
        let new_response = if wants_json {
            HttpResponse::build(status)
                .json(serde_json::json!({ "error": message, "status": status.as_u16() }))
        } else {
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{message}\n"))
        };
        return Ok(ErrorHandlerResponse::Response(replace(res, new_response)));
    }
    // An HTML page: with the navigation when the request is signed in (the extractor left
    // the session on the request; otherwise it is looked up here).
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let known = actix_web::HttpMessage::extensions(&request)
            .get::<SignedIn>()
            .cloned();
        let signed_in = match known {
            Some(signed_in) => Some(signed_in),
            None if request.cookie(SESSION_COOKIE).is_some() => {
                SignedIn::extract(&request).await.ok()
            }
            None => None,
        };
        let body = error_page_for(status, &message, request.path(), signed_in.as_ref());
        let new_response = HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body);
        Ok(replace(res, new_response))
    })))
}

/// `res` with the body of `new_response`, keeping headers such as Retry-After or Allow.
fn replace<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    mut new_response: HttpResponse,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new_response
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, new_response).map_into_right_body()
}

/// The HTML of an error page: the product's words, the navigation for a signed-in user and
/// a way back; falls back to a minimal page if the template fails.
fn error_page_for(
    status: StatusCode,
    message: &str,
    path: &str,
    signed_in: Option<&SignedIn>,
) -> String {
    let template = match status.as_u16() {
        404 => "errors/404",
        422 => "errors/422",
        500..=599 => "errors/500",
        _ => "errors/error",
    };
    let heading = if message.starts_with("This form has expired") {
        "This form has expired"
    } else {
        heading(status)
    };
    let expired = message.starts_with("This form has expired");
    // A page someone may not see is no way back; the overview is.
    let (back_href, back_label) = if status == StatusCode::FORBIDDEN && !expired {
        way_back("/admin", signed_in.is_some())
    } else {
        way_back(path, signed_in.is_some())
    };
    let data = serde_json::json!({
        "status": status.as_u16(), "heading": heading, "message": message,
        "back_href": back_href, "back_label": back_label,
        "role_note": match (status.as_u16(), signed_in) {
            (403, Some(s)) if !s.user.is_admin => Some(format!(
                "You are signed in as {} with the lead role: results and surveys are yours to read; an admin can change your role on the Users page.",
                s.user.email
            )),
            _ => None,
        },
    });
    let rendered = match signed_in {
        Some(signed_in) => {
            let mut page = Page::signed_in(heading, signed_in, data);
            page.flash = None;
            views::render_html(template, &page)
        }
        None => views::render_html(template, &Page::public(heading, "en", data)),
    };
    rendered.unwrap_or_else(|error| {
        tracing::error!(%error, "error page template failed");
        format!(
            "<!doctype html><title>{}</title><p>{}</p>",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        )
    })
}

/// Where "back" leads from a failed request: the page the form was on, or the section.
fn way_back(path: &str, signed_in: bool) -> (String, &'static str) {
    if !signed_in || !path.starts_with("/admin") {
        return if signed_in {
            ("/admin".into(), "Back to the overview")
        } else {
            ("/".into(), "Go to the start page")
        };
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["admin", "waves", id, _, ..] if *id != "new" => {
            (format!("/admin/waves/{id}"), "Back to the wave")
        }
        ["admin", "waves", ..] => ("/admin/waves".into(), "Back to the waves"),
        ["admin", "schedules", ..] => ("/admin/schedules".into(), "Back to the schedules"),
        ["admin", "stakeholders", ..] => ("/admin/stakeholders".into(), "Back to the stakeholders"),
        ["admin", "users", ..] => ("/admin/users".into(), "Back to the users"),
        ["admin", "api-keys", ..] => ("/admin/api-keys".into(), "Back to the API keys"),
        ["admin", "surveys", ..] => ("/admin/surveys".into(), "Back to the surveys"),
        ["admin", "results", ..] => ("/admin/results".into(), "Back to the results"),
        _ => ("/admin".into(), "Back to the overview"),
    }
}

fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "This did not work",
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
        400 => "What was sent is not complete. Go back, reload the page and try again.",
        404 => "The page you asked for does not exist.",
        405 => "This address does not accept that kind of request.",
        413 => "What you sent is larger than this service accepts.",
        429 => "Too many attempts. Wait a minute and try again.",
        500..=599 => "Something went wrong on our side. Try again in a moment.",
        _ => "The request could not be completed.",
    }
}
