//! Flash messages: after an action (a wave closed, a schedule paused, an import done) the
//! redirect carries one short message in a cookie, the next admin page shows it once
//! ("H1 2027 closed; results are released") and the response clears the cookie. The text is
//! written by Pulse, never taken from the request, and templates escape it.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::HttpResponse;

/// Name of the cookie that carries the message to the next page.
pub const FLASH_COOKIE: &str = "pulse_flash";

/// 303 See Other to `location`, with `message` for the next page.
pub fn see_other_with(location: &str, message: &str, secure: bool) -> HttpResponse {
    let encoded =
        percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let cookie = Cookie::build(FLASH_COOKIE, encoded)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::minutes(2))
        .finish();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .cookie(cookie)
        .finish()
}

/// The message a request carries, decoded.
pub fn read(req: &actix_web::HttpRequest) -> Option<String> {
    let cookie = req.cookie(FLASH_COOKIE)?;
    let decoded = percent_encoding::percent_decode_str(cookie.value())
        .decode_utf8()
        .ok()?
        .trim()
        .to_string();
    // Pulse writes short sentences; anything else is not shown.
    (!decoded.is_empty() && decoded.chars().count() <= 400).then_some(decoded)
}

/// Middleware: a page that was shown (2xx HTML) to a request carrying a message clears it.
pub async fn clear_after_show(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let had_flash = req.cookie(FLASH_COOKIE).is_some();
    let mut res = next.call(req).await?;
    let shown = res.status().is_success()
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if had_flash && shown {
        let mut removal = Cookie::build(FLASH_COOKIE, "").path("/").finish();
        removal.make_removal();
        res.response_mut().add_cookie(&removal)?;
    }
    Ok(res)
}
