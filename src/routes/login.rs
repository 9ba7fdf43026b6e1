//! `GET/POST /login`, `POST /logout`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::{csrf, tokens, SignedIn, SESSION_COOKIE};
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(start))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

async fn start() -> HttpResponse {
    super::see_other("/admin")
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/admin".to_string(),
    }
}

fn cookie<'a>(state: &AppState, name: &'a str, value: String) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.secure_cookies())
        .finish()
}

fn render_login(
    state: &AppState,
    status: StatusCode,
    login_cookie: &str,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let csrf_token = csrf::login_token(&state.settings.secret_key, login_cookie);
    let mut page = Page::public(
        "Sign in",
        "en",
        serde_json::json!({ "email": email, "next": next, "error": error }),
    );
    page.csrf_token = Some(&csrf_token);
    let body = page.render("pages/login")?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .cookie(cookie(state, csrf::LOGIN_COOKIE, login_cookie.to_string()))
        .body(body))
}

async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let login_cookie = req
        .cookie(csrf::LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_else(tokens::random_token);
    let next = safe_next(query.next.as_deref());
    render_login(&state, StatusCode::OK, &login_cookie, "", &next, None)
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let ip = crate::auth::rate_limit::client_ip(&req, state.settings.trust_proxy);
    let login_cookie = req
        .cookie(csrf::LOGIN_COOKIE)
        .map(|c| c.value().to_string());
    let Some(login_cookie) = login_cookie.filter(|value| {
        tokens::same(
            &csrf::login_token(&state.settings.secret_key, value),
            &form.csrf_token,
        )
    }) else {
        return Err(AppError::Csrf);
    };
    if !state.login_limiter.allowed(&ip, &form.email) {
        tracing::warn!(%ip, "sign-in rate limit reached");
        let mut response = render_login(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &login_cookie,
            &form.email,
            &next,
            Some("Too many sign-in attempts. Wait a minute and try again."),
        )?;
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("60"),
        );
        return Ok(response);
    }
    let previous = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let pool = state.pool.clone();
    let now = state.clock.now();
    let (email, password) = (form.email.clone(), form.password);
    let token = web::block(move || -> Result<Option<String>, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::services::accounts::sign_in(
            &mut conn,
            &email,
            &password,
            previous.as_deref(),
            now,
        )?)
    })
    .await??;
    match token {
        Some(token) => {
            tracing::info!(user = %crate::telemetry::mask_email(&form.email), "signed in");
            let mut response = super::see_other(&next);
            response
                .add_cookie(&cookie(&state, SESSION_COOKIE, token))
                .map_err(AppError::unexpected)?;
            Ok(response)
        }
        None => {
            // Only failures count toward the limits (see `auth::rate_limit`).
            state.login_limiter.failed(&ip, &form.email);
            render_login(
                &state,
                StatusCode::UNAUTHORIZED,
                &login_cookie,
                &form.email,
                &next,
                Some("The email or password is not right."),
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn logout(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.verify_csrf(&form.csrf_token)?;
    let pool = state.pool.clone();
    let token = signed_in.session_token().to_string();
    web::block(move || -> Result<(), AppError> {
        let mut conn = pool.get()?;
        crate::auth::session::end(&mut conn, &token)?;
        Ok(())
    })
    .await??;
    let mut response = super::see_other("/login");
    let mut removal = cookie(&state, SESSION_COOKIE, String::new());
    removal.make_removal();
    response
        .add_cookie(&removal)
        .map_err(AppError::unexpected)?;
    Ok(response)
}
