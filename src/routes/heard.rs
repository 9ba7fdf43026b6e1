//! Closing the loop with the people asked, on the web:
//!
//! * `GET /w/{token}` (and HEAD): a closed wave's "what we heard", for anyone holding the
//!   link — no sign-in; `?lang=` (set by the mail) else the browser's language. An unknown
//!   or revoked link gets the same "not available" page. Rate-limited like survey links.
//! * `GET /admin/waves/{id}/what-we-heard`: its state, the send and revoke buttons (admins)
//!   and a preview per language; `POST /admin/what-we-heard/{id}` sends it (once),
//!   `POST /admin/what-we-heard/{id}/revoke` revokes its link;
//!   `GET /api/v1/waves/{id}/what-we-heard` is the same as JSON.
//! * `GET /admin/waves/{id}/mail-preview?kind=invitation|reminder&lang=en|de`: the mail
//!   of a wave with "you said, we did", before it opens; its HTML part is framed from
//!   `…/mail-preview.html` (sandboxed, with a CSP allowing only its inline styles).
//!
//! Thin: parse → `crate::actions::{heard, said_did}` → `crate::views::heard` → render.

use actix_web::http::{header, StatusCode};
use actix_web::{guard, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::waves::blocking;
use crate::actions::{self, heard, ActionError};
use crate::auth::SignedIn;
use crate::domain::token::LinkToken;
use crate::email::{MailLanguage, SurveyEmailKind};
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::heard as view;
use crate::views::{render_html, survey_form, Page};

/// The preview page frames its own HTML endpoint: the page's CSP allows that frame.
const PREVIEW_PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The framed HTML part of a mail: inline styles (mails have nothing else), no script,
/// framed by this origin only.
const PREVIEW_HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/w/{token}").route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(public_page),
        ),
    )
    .route("/admin/waves/{id}/what-we-heard", web::get().to(admin_page))
    .route("/admin/what-we-heard/{id}", web::post().to(send))
    .route("/admin/what-we-heard/{id}/revoke", web::post().to(revoke))
    .route("/api/v1/waves/{id}/what-we-heard", web::get().to(api))
    .route(
        "/admin/waves/{id}/mail-preview",
        web::get().to(preview_page),
    )
    .route(
        "/admin/waves/{id}/mail-preview.html",
        web::get().to(preview_html),
    );
}

fn action_error(error: ActionError) -> AppError {
    match error {
        ActionError::NotFound(_) => AppError::NotFound,
        ActionError::Invalid(_) => AppError::BadRequest(error.to_string()),
        ActionError::Forbidden(_) => AppError::Forbidden,
        ActionError::Unexpected(e) => AppError::Unexpected(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

async fn public_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    state
        .survey_limiter
        .check(&req, state.settings.trust_proxy)?;
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    let wanted = query
        .lang
        .clone()
        .unwrap_or_else(|| crate::domain::ui_text::preferred_language(accept).to_string());
    let unavailable = || -> Result<HttpResponse, AppError> {
        let body = render_html(
            survey_form::UNAVAILABLE_TEMPLATE,
            &survey_form::unavailable_page(crate::domain::ui_text::preferred_language(accept)),
        )
        .map_err(AppError::unexpected)?;
        Ok(super::html(StatusCode::NOT_FOUND, body))
    };
    let Some(token) = LinkToken::parse(&token) else {
        return unavailable();
    };
    let now = state.clock.now();
    let worker = (*state).clone();
    let summary = blocking(&state, move |conn| {
        heard::public(conn, &worker.results, &token, Some(&wanted), now).map_err(action_error)
    })
    .await?;
    match summary {
        Some(summary) => {
            let body = render_html("pages/what_we_heard", &view::public_page(&summary))
                .map_err(AppError::unexpected)?;
            Ok(super::html(StatusCode::OK, body))
        }
        None => unavailable(),
    }
}

async fn admin_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let wave_id = id.into_inner();
    let now = state.clock.now();
    let worker = (*state).clone();
    let wanted = query.lang.clone();
    let (status, summary) = blocking(&state, move |conn| {
        let status = heard::status(
            conn,
            &worker.settings.secret_key,
            &worker.settings.base_url,
            &wave_id,
        )
        .map_err(action_error)?;
        let summary = if status.closed {
            let default = status.languages.first().copied().unwrap_or("en");
            let language = heard::language_for(wanted.as_deref(), default);
            Some(
                heard::build(conn, &worker.results, &wave_id, language, now)
                    .map_err(action_error)?,
            )
        } else {
            None
        };
        Ok((status, summary))
    })
    .await?;
    let title = format!("What we heard — {}", status.wave_title);
    let page = Page::signed_in(
        &title,
        &signed_in,
        view::admin_page(&status, summary.as_ref()),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/what_we_heard")?,
    ))
}

async fn send(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    signed_in.verify_csrf(super::form_value(&form, "csrf_token"))?;
    signed_in.require_admin()?;
    let wave_id = id.into_inner();
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let key = state.settings.secret_key.clone();
    let target = wave_id.clone();
    let outcome = blocking(&state, move |conn| {
        heard::send(conn, &key, &actor, &target, now).map_err(action_error)
    })
    .await?;
    let message = match outcome {
        heard::SendOutcome::Sent { recipients: 1 } => {
            "“What we heard” is on its way to 1 person.".to_string()
        }
        heard::SendOutcome::Sent { recipients } => {
            format!("“What we heard” is on its way to {recipients} people.")
        }
        heard::SendOutcome::AlreadySent { recipients, .. } => format!(
            "“What we heard” went out before (to {recipients} people): nothing more was sent."
        ),
    };
    Ok(super::flash::see_other_with(
        &format!("/admin/waves/{wave_id}/what-we-heard"),
        &message,
        state.settings.secure_cookies(),
    ))
}

async fn revoke(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    signed_in.verify_csrf(super::form_value(&form, "csrf_token"))?;
    signed_in.require_admin()?;
    let wave_id = id.into_inner();
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let target = wave_id.clone();
    let revoked = blocking(&state, move |conn| {
        heard::revoke(conn, &actor, &target, now).map_err(action_error)
    })
    .await?;
    let message = if revoked {
        "The link is revoked: the summary page no longer opens."
    } else {
        "There was no live link to revoke."
    };
    Ok(super::flash::see_other_with(
        &format!("/admin/waves/{wave_id}/what-we-heard"),
        message,
        state.settings.secure_cookies(),
    ))
}

/// The summary's state and figures as JSON (signed-in accounts).
async fn api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    id: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    match signed_in {
        Ok(_) => {}
        Err(AppError::SignInRequired { .. }) => {
            return Ok(HttpResponse::Unauthorized().json(serde_json::json!({
                "error": "Sign in first: this API answers signed-in admins and leads only.",
                "status": 401,
            })))
        }
        Err(other) => return Err(other),
    }
    let wave_id = id.into_inner();
    let now = state.clock.now();
    let worker = (*state).clone();
    let wanted = query.lang.clone();
    let outcome = blocking(&state, move |conn| {
        let status = heard::status(
            conn,
            &worker.settings.secret_key,
            &worker.settings.base_url,
            &wave_id,
        );
        let status = match status {
            Ok(status) => status,
            Err(e) => return Ok(Err(e)),
        };
        if !status.closed {
            return Ok(Ok(serde_json::json!({ "status": status, "summary": null })));
        }
        let default = status.languages.first().copied().unwrap_or("en");
        let language = heard::language_for(wanted.as_deref(), default);
        Ok(heard::build(conn, &worker.results, &wave_id, language, now)
            .map(|summary| serde_json::json!({ "status": status, "summary": summary })))
    })
    .await?;
    Ok(match outcome {
        Ok(value) => HttpResponse::Ok().json(value),
        Err(ActionError::NotFound(id)) => HttpResponse::NotFound().json(serde_json::json!({
            "error": format!("No wave with id {id}."), "status": 404,
        })),
        Err(other) => return Err(action_error(other)),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

impl PreviewQuery {
    fn kind(&self) -> Result<SurveyEmailKind, AppError> {
        match self.kind.as_deref().map(str::trim) {
            None | Some("") | Some("invitation") => Ok(SurveyEmailKind::Invitation),
            Some("reminder") => Ok(SurveyEmailKind::Reminder),
            Some(other) => Err(AppError::BadRequest(format!(
                "\"{other}\" is not a mail of a wave: preview the invitation or the reminder."
            ))),
        }
    }
}

/// The preview's mail: (message, its "you said, we did", wave title, survey slug, languages).
type Preview = (
    crate::email::EmailMessage,
    Vec<actions::said_did::SaidDid>,
    String,
    String,
    Vec<MailLanguage>,
    MailLanguage,
);

async fn render_preview(
    state: &web::Data<AppState>,
    wave_id: String,
    query: &PreviewQuery,
) -> Result<(Preview, SurveyEmailKind), AppError> {
    let kind = query.kind()?;
    let wanted = query.lang.clone();
    let base_url = state.settings.base_url.clone();
    let preview = blocking(state, move |conn| {
        let wave =
            crate::services::waves::find_with_survey(conn, &wave_id)?.ok_or(AppError::NotFound)?;
        let definition = wave.parsed_definition().map_err(AppError::Unexpected)?;
        let mut languages: Vec<MailLanguage> = Vec::new();
        for code in definition.languages() {
            if let Some(language) = MailLanguage::from_code(Some(code)) {
                if !languages.contains(&language) {
                    languages.push(language);
                }
            }
        }
        if languages.is_empty() {
            languages.push(MailLanguage::En);
        }
        let language = MailLanguage::from_code(wanted.as_deref())
            .filter(|l| languages.contains(l))
            .unwrap_or(languages[0]);
        let (message, items) =
            actions::said_did::preview_mail(conn, &base_url, &wave_id, kind, language)
                .map_err(AppError::Unexpected)?
                .ok_or(AppError::NotFound)?;
        Ok((
            message,
            items,
            wave.wave.title,
            wave.survey_slug,
            languages,
            language,
        ))
    })
    .await?;
    Ok((preview, kind))
}

async fn preview_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    let wave_id = id.into_inner();
    let ((message, items, wave_title, slug, languages, language), kind) =
        render_preview(&state, wave_id.clone(), &query).await?;
    let data = view::mail_preview(&view::MailPreview {
        wave_id: &wave_id,
        wave_title: &wave_title,
        survey_slug: &slug,
        kind,
        language,
        languages: &languages,
        message: &message,
        items: &items,
    });
    let title = format!("Mail preview — {wave_title}");
    let page = Page::signed_in(&title, &signed_in, data);
    let mut response = super::html(StatusCode::OK, page.render("pages/admin/mail_preview")?);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(PREVIEW_PAGE_CSP),
    );
    Ok(response)
}

async fn preview_html(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    let ((message, ..), _) = render_preview(&state, id.into_inner(), &query).await?;
    let mut response = super::html(StatusCode::OK, message.html);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(PREVIEW_HTML_CSP),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(response)
}
