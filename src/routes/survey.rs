//! The respondent's pages: `GET /s/{token}` (and HEAD) shows the form — with "you said, we
//! did", the published actions of the survey's earlier waves — and changes nothing;
//! `GET /s/{token}?{key}=N`, a score button of the email, shows it with the first (NPS)
//! question's score N chosen and the rest optional, and changes nothing either (mail
//! scanners follow links): only the POST stores (see `domain::answers`, "one click");
//! `POST /s/{token}` validates and stores, `GET /thanks` thanks. A link whose answer is
//! stored, opened again while the wave is open, says that the answer was received (the
//! thank-you page: the connection may have broken before it showed). Unknown, closed and
//! cancelled links all get the same neutral page with the same status. Requests are
//! rate-limited per client IP (429 with Retry-After); bodies over 128 KiB get 413.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::actions::said_did::SaidDid;
use crate::domain::answers::{self, Answers, Required};
use crate::domain::token::LinkToken;
use crate::domain::ui_text::preferred_language;
use crate::error::AppError;
use crate::services::respondent::{
    answered_language, find_answerable, find_open_invitation, has_answered, OpenInvitation,
};
use crate::services::responses::{StoredValue, Submission, SubmitOutcome};
use crate::startup::AppState;
use crate::views::{render_html, survey_form};

/// Comments of up to 5,000 characters in any script, URL-encoded, fit comfortably.
const BODY_LIMIT: usize = 128 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/s/{token}")
            .app_data(web::FormConfig::default().limit(BODY_LIMIT))
            // HEAD answers like GET (actix sends no body for HEAD).
            .route(
                web::route()
                    .guard(guard::Any(guard::Get()).or(guard::Head()))
                    .to(show),
            )
            .route(web::post().to(submit)),
    )
    .route("/thanks", web::get().to(thanks));
}

fn page(
    status: StatusCode,
    template: &str,
    context: &serde_json::Value,
) -> Result<HttpResponse, AppError> {
    let body = render_html(template, context).map_err(AppError::unexpected)?;
    Ok(super::html(status, body))
}

/// The one page for every link that cannot be used. Its language follows the browser, never
/// anything stored, so it cannot tell the cases apart either.
fn unavailable(req: &HttpRequest) -> Result<HttpResponse, AppError> {
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    page(
        StatusCode::NOT_FOUND,
        survey_form::UNAVAILABLE_TEMPLATE,
        &survey_form::unavailable_page(preferred_language(accept)),
    )
}

/// The thank-you page for a link whose answer is stored (wave still open); else the one
/// page for every link that cannot be used.
async fn answered_or_unavailable(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    token: &str,
) -> Result<HttpResponse, AppError> {
    let Some(token) = LinkToken::parse(token) else {
        return unavailable(req);
    };
    let hash = token.hash();
    let state = state.clone();
    let answered = web::block(move || -> Result<Option<String>, AppError> {
        let mut conn = state.pool.get()?;
        Ok(answered_language(
            &mut conn,
            &state.settings.secret_key,
            &hash,
            state.clock.now(),
        )?)
    })
    .await??;
    match answered {
        Some(language) => page(
            StatusCode::OK,
            survey_form::THANKS_TEMPLATE,
            &survey_form::thanks_page(&language),
        ),
        None => unavailable(req),
    }
}

/// Whether a lookup asks if the link has been answered already.
#[derive(Clone, Copy)]
enum Lookup {
    /// The form: a link that was answered shows the thank-you page instead.
    Open,
    /// A submission: the answer's writer checks the mark in the transaction that stores it
    /// (`find_answerable`), so the lookup does not; on PostgreSQL it is looked up together
    /// with the other submissions' links (`services::link_lookups`).
    Answerable,
}

/// The open invitation behind `token`, or `None` for every kind of unusable link.
async fn lookup(
    state: &web::Data<AppState>,
    token: &str,
    kind: Lookup,
) -> Result<Option<OpenInvitation>, AppError> {
    let Some(token) = LinkToken::parse(token) else {
        return Ok(None);
    };
    let hash = token.hash();
    if let (Lookup::Answerable, Some(lookups)) = (kind, &state.link_lookups) {
        if let Some(found) = lookups.answerable(hash.clone()).await {
            return Ok(found?);
        }
    }
    let state = state.clone();
    web::block(move || -> Result<Option<OpenInvitation>, AppError> {
        let mut conn = state.pool.get()?;
        let find = match kind {
            Lookup::Open => find_open_invitation,
            Lookup::Answerable => find_answerable,
        };
        Ok(find(
            &mut conn,
            &state.definitions,
            &state.settings.secret_key,
            &hash,
            state.clock.now(),
        )?)
    })
    .await?
}

/// Whether the link of `invitation` has been answered already.
async fn answered(
    state: &web::Data<AppState>,
    invitation: &OpenInvitation,
) -> Result<bool, AppError> {
    let state = state.clone();
    let invitation = invitation.clone();
    web::block(move || -> Result<bool, AppError> {
        let mut conn = state.pool.get()?;
        Ok(has_answered(&mut conn, &invitation)?)
    })
    .await?
}

/// "You said, we did" for the form of `invitation`, in the form's language.
async fn said_did(
    state: &web::Data<AppState>,
    invitation: &OpenInvitation,
) -> Result<Vec<SaidDid>, AppError> {
    let state = state.clone();
    let definition = invitation.definition.clone();
    let wave_id = invitation.wave_id.clone();
    let language = definition
        .best_language(invitation.language.as_deref())
        .to_string();
    web::block(move || -> Result<Vec<SaidDid>, AppError> {
        let mut conn = state.pool.get()?;
        Ok(crate::actions::said_did::for_wave_id(
            &mut conn,
            &wave_id,
            &definition,
            &language,
        )?)
    })
    .await?
}

/// The form as it was asked for (`required`: opened from a score button or not).
struct FormRequest<'a> {
    submitted: &'a [(String, String)],
    required: Required,
    action: &'a str,
}

fn render_form(
    invitation: &OpenInvitation,
    said_did: &[SaidDid],
    status: StatusCode,
    form: FormRequest<'_>,
    errors: &BTreeMap<String, String>,
) -> Result<HttpResponse, AppError> {
    let mut context = survey_form::form_page(
        &invitation.definition,
        invitation.language.as_deref(),
        form.submitted,
        errors,
        form.action,
        invitation.anonymity_k,
        form.required,
    );
    context["you_said_we_did"] = serde_json::json!(said_did);
    page(status, survey_form::FORM_TEMPLATE, &context)
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state
        .survey_limiter
        .check(&req, state.settings.trust_proxy)?;
    let Some(invitation) = lookup(&state, &token, Lookup::Open).await? else {
        return answered_or_unavailable(&state, &req, &token).await;
    };
    // A score button of the email: the first question's score, chosen but not stored. A
    // query that is no such score (out of range, not a number) opens the plain form.
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let (prefilled, required) = survey_form::chosen_by_link(&invitation.definition, &query);
    render_form(
        &invitation,
        &said_did(&state, &invitation).await?,
        StatusCode::OK,
        FormRequest {
            submitted: &prefilled,
            required,
            action: req.path(),
        },
        &BTreeMap::new(),
    )
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    state
        .survey_limiter
        .check(&req, state.settings.trust_proxy)?;
    let Some(invitation) = lookup(&state, &token, Lookup::Answerable).await? else {
        return answered_or_unavailable(&state, &req, &token).await;
    };
    let submitted = form.into_inner();
    // The form opened from a score button says so in a hidden field: the rest is optional.
    let required = Required::of_form(&submitted);
    let answers = match answers::parse_as(&invitation.definition, &submitted, required) {
        Ok(answers) => answers,
        // A link answered already is told so, not shown its form again with the errors.
        Err(_) if answered(&state, &invitation).await? => {
            return answered_or_unavailable(&state, &req, &token).await;
        }
        Err(errors) => {
            let messages =
                errors.messages_for(&invitation.definition, invitation.language.as_deref());
            return render_form(
                &invitation,
                &said_did(&state, &invitation).await?,
                StatusCode::UNPROCESSABLE_ENTITY,
                FormRequest {
                    submitted: &submitted,
                    required,
                    action: req.path(),
                },
                &messages,
            );
        }
    };
    let language = invitation
        .definition
        .best_language(invitation.language.as_deref())
        .to_string();
    let submission = Submission {
        answered_mark: invitation.answered_mark,
        wave_id: invitation.wave_id,
        cell: invitation.cell,
        answers: stored_values(answers),
        nps_key: invitation.definition.nps_key().map(str::to_string),
    };
    match state
        .submissions
        .submit(submission)
        .await
        .map_err(AppError::Unexpected)?
    {
        SubmitOutcome::Stored => {
            state.metrics.response_received();
            Ok(super::see_other(&format!("/thanks?lang={language}")))
        }
        SubmitOutcome::AlreadyAnswered => answered_or_unavailable(&state, &req, &token).await,
        SubmitOutcome::WaveClosed => unavailable(&req),
    }
}

fn stored_values(answers: Answers) -> Vec<(String, StoredValue)> {
    answers
        .into_iter()
        .map(|(key, value)| (key, StoredValue::from(value)))
        .collect()
}

#[derive(Deserialize)]
struct ThanksQuery {
    lang: Option<String>,
}

async fn thanks(query: web::Query<ThanksQuery>) -> Result<HttpResponse, AppError> {
    // Only a language we have texts for is used; anything else falls back to English.
    let language = preferred_language(query.lang.as_deref());
    page(
        StatusCode::OK,
        survey_form::THANKS_TEMPLATE,
        &survey_form::thanks_page(language),
    )
}
