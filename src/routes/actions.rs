//! Action plans on the web: the actions page of a survey
//! (`/admin/surveys/{slug}/actions`, filters by status, owner and overdue; CSV and XLSX),
//! the "plan an action" form (`/admin/actions/new?wave=…&target=…&group=…`, linked from
//! the results page), an action's page (`/admin/actions/{id}`: "did it work", notes,
//! history; forms to change it, add a note, and — admins only — publish it), and the JSON
//! API under `/api/v1/actions` (signed-in accounts, like the results API; writes need the
//! session's CSRF token in `X-CSRF-Token`). Thin: parse → `crate::actions` → render.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::waves::{blocking, field_errors};
use crate::actions::{self, ActionError, ActionInput, ActionUpdate, ListFilter, Status};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::actions as view;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/surveys/{slug}/actions", web::get().to(list_page))
        .route("/admin/surveys/{slug}/actions.csv", web::get().to(list_csv))
        .route(
            "/admin/surveys/{slug}/actions.xlsx",
            web::get().to(list_xlsx),
        )
        .route("/admin/actions/new", web::get().to(new_page))
        .route("/admin/actions", web::post().to(create))
        .route("/admin/actions/{id}", web::get().to(detail_page))
        .route("/admin/actions/{id}", web::post().to(save))
        .route("/admin/actions/{id}/notes", web::post().to(note))
        .route("/admin/actions/{id}/publish", web::post().to(publish))
        .service(
            web::resource("/api/v1/actions")
                .app_data(json_config())
                .route(web::get().to(api_list))
                .route(web::post().to(api_create)),
        )
        .service(
            web::resource("/api/v1/actions/{id}")
                .app_data(json_config())
                .route(web::get().to(api_detail))
                .route(web::post().to(api_update)),
        )
        .service(
            web::resource("/api/v1/actions/{id}/notes")
                .app_data(json_config())
                .route(web::post().to(api_note)),
        )
        .service(
            web::resource("/api/v1/actions/{id}/publish")
                .app_data(json_config())
                .route(web::post().to(api_publish)),
        );
}

/// A body the API cannot read gets a JSON answer in the product's words.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|error, _req| {
            let message = format!(
                "The request body is not the JSON this API expects ({error}); nothing was changed."
            );
            let response = api_failure(StatusCode::BAD_REQUEST, &message);
            actix_web::error::InternalError::from_response(error, response).into()
        })
}

const FORM_FIELDS: &[&str] = &[
    "wave",
    "target",
    "group",
    "title",
    "description",
    "owner",
    "due",
    "by",
];
const EDIT_FIELDS: &[&str] = &["title", "description", "owner", "due", "status", "note"];

pub(crate) fn action_error(error: ActionError) -> AppError {
    match error {
        ActionError::NotFound(_) => AppError::NotFound,
        ActionError::Invalid(_) => AppError::BadRequest(error.to_string()),
        ActionError::Forbidden(_) => AppError::Forbidden,
        ActionError::Unexpected(e) => AppError::Unexpected(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    survey: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<ListFilter, AppError> {
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Status::parse(text).map_err(AppError::BadRequest)?),
        };
        Ok(ListFilter {
            status,
            owner: self.owner.clone().filter(|o| !o.trim().is_empty()),
            overdue: matches!(self.overdue.as_deref(), Some("1" | "true" | "on" | "yes")),
        })
    }
}

async fn list_of(
    state: &AppState,
    slug: Option<String>,
    query: &ListQuery,
) -> Result<Vec<actions::ActionView>, AppError> {
    let filter = query.filter()?;
    let now = state.clock.now();
    blocking(state, move |conn| {
        actions::list(conn, slug.as_deref(), &filter, now).map_err(action_error)
    })
    .await
}

async fn list_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let filter = query.filter()?;
    let list = list_of(&state, Some(slug.clone()), &query).await?;
    let wanted = slug.clone();
    let (title, choices) = blocking(&state, move |conn| {
        Ok((
            actions::survey_title(conn, &wanted).map_err(action_error)?,
            actions::form_choices(conn).map_err(action_error)?,
        ))
    })
    .await?;
    let title = title.ok_or(AppError::NotFound)?;
    let data = view::list_page(
        &slug,
        &title,
        &list,
        &filter,
        &choices.owners,
        req.query_string(),
    );
    let heading = format!("Actions — {title}");
    let page = Page::signed_in(&heading, &signed_in, data);
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/actions")?,
    ))
}

fn download(name: &str, extension: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"actions-{name}.{extension}\""),
        ))
        .body(body)
}

async fn list_csv(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let list = list_of(&state, Some(slug.clone()), &query).await?;
    let body = actions::export::to_csv(&list)?;
    Ok(download(&slug, "csv", "text/csv; charset=utf-8", body))
}

async fn list_xlsx(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let list = list_of(&state, Some(slug.clone()), &query).await?;
    let body = actions::export::to_xlsx(&list)?;
    Ok(download(
        &slug,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body,
    ))
}

/// Renders the "plan an action" form for `input` (its wave's figures when a wave is
/// chosen).
async fn render_form(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    input: ActionInput,
    errors: &[crate::domain::wave::FieldError],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let cache_state = (*state).clone();
    let wave = input.wave.trim().to_string();
    let (choices, results, languages, mut more) = blocking(state, move |conn| {
        let choices = actions::form_choices(conn).map_err(action_error)?;
        let mut more = Vec::new();
        let (results, languages) = if wave.is_empty() {
            (None, Vec::new())
        } else if !choices.waves.iter().any(|(id, _, _)| *id == wave) {
            more.push(crate::domain::wave::FieldError::new(
                "wave",
                "Choose a closed wave: actions answer the results a wave closed with.",
            ));
            (None, Vec::new())
        } else {
            let results =
                crate::services::results::wave_results(conn, &cache_state.results, &wave, now)
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
            let languages = actions::languages_of_wave(conn, &wave).map_err(action_error)?;
            (Some(results), languages)
        };
        Ok((choices, results, languages, more))
    })
    .await?;
    // The service's reasons first: they say more than the form's own check.
    let mut all: Vec<_> = errors.to_vec();
    all.append(&mut more);
    let errors = field_errors(FORM_FIELDS, &all);
    let data = view::new_form(&choices, results.as_deref(), &languages, &input, errors);
    let page = Page::signed_in("Plan an action", signed_in, data);
    Ok(super::html(status, page.render("pages/admin/action_new")?))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    wave: String,
    #[serde(default)]
    target: String,
    /// `attribute=value`; also read as `filter` (the results page's parameter).
    #[serde(default, alias = "filter")]
    group: String,
}

async fn new_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let input = ActionInput {
        wave: query.wave,
        target: query.target,
        group: query.group,
        owner: signed_in.user.email.clone(),
        ..Default::default()
    };
    render_form(&state, &signed_in, input, &[], StatusCode::OK).await
}

async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    signed_in.verify_csrf(super::form_value(&pairs, "csrf_token"))?;
    let input = ActionInput {
        wave: super::form_value(&pairs, "wave").to_string(),
        target: super::form_value(&pairs, "target").to_string(),
        group: super::form_value(&pairs, "group").to_string(),
        title: super::form_value(&pairs, "title").to_string(),
        description: view::texts_from_form(&pairs),
        owner: super::form_value(&pairs, "owner").to_string(),
        due: super::form_value(&pairs, "due").to_string(),
    };
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let worker = (*state).clone();
    let attempt = input.clone();
    let outcome = blocking(&state, move |conn| {
        Ok(actions::create(
            conn,
            &worker.results,
            &actor,
            &attempt,
            now,
        ))
    })
    .await?;
    match outcome {
        Ok(action) => Ok(super::flash::see_other_with(
            &format!("/admin/actions/{}", action.id),
            &format!(
                "Action planned: {}. An admin publishes it when respondents may read it.",
                action.title
            ),
            state.settings.secure_cookies(),
        )),
        Err(ActionError::Invalid(errors)) => {
            render_form(
                &state,
                &signed_in,
                input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(action_error(other)),
    }
}

async fn render_detail(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    id: String,
    errors: &[crate::domain::wave::FieldError],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let worker = (*state).clone();
    let (detail, languages, choices) = blocking(state, move |conn| {
        let detail = actions::detail(conn, &worker.results, &id, now).map_err(action_error)?;
        let languages =
            actions::languages_of_wave(conn, &detail.action.wave_id).map_err(action_error)?;
        let choices = actions::form_choices(conn).map_err(action_error)?;
        Ok((detail, languages, choices))
    })
    .await?;
    let errors = field_errors(EDIT_FIELDS, errors);
    let data = view::detail_page(&detail, &languages, &choices.owners, errors);
    let page = Page::signed_in(&detail.action.title, signed_in, data);
    Ok(super::html(status, page.render("pages/admin/action")?))
}

async fn detail_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    render_detail(&state, &signed_in, id.into_inner(), &[], StatusCode::OK).await
}

/// Runs a change and answers like every form: back to the action with a message, or the
/// page again with the field errors (422) and nothing changed.
async fn change(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    id: String,
    message: &'static str,
    f: impl FnOnce(
            &mut crate::db::DbConn,
            &actions::Actor,
            chrono::NaiveDateTime,
        ) -> Result<actions::ActionView, ActionError>
        + Send
        + 'static,
) -> Result<HttpResponse, AppError> {
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let outcome = blocking(state, move |conn| Ok(f(conn, &actor, now))).await?;
    match outcome {
        Ok(action) => Ok(super::flash::see_other_with(
            &format!("/admin/actions/{}", action.id),
            message,
            state.settings.secure_cookies(),
        )),
        Err(ActionError::Invalid(errors)) => {
            render_detail(
                state,
                signed_in,
                id,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(action_error(other)),
    }
}

async fn save(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    signed_in.verify_csrf(super::form_value(&pairs, "csrf_token"))?;
    let update = ActionUpdate {
        title: Some(super::form_value(&pairs, "title").to_string()),
        description: Some(view::texts_from_form(&pairs)),
        owner: Some(super::form_value(&pairs, "owner").to_string()),
        due: Some(super::form_value(&pairs, "due").to_string()),
        status: Some(super::form_value(&pairs, "status").to_string()),
    };
    let id = id.into_inner();
    let target = id.clone();
    change(
        &state,
        &signed_in,
        id,
        "Action saved.",
        move |conn, actor, now| actions::update(conn, actor, &target, &update, now),
    )
    .await
}

async fn note(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    signed_in.verify_csrf(super::form_value(&pairs, "csrf_token"))?;
    let body = super::form_value(&pairs, "note").to_string();
    let status = super::form_value(&pairs, "status").to_string();
    let id = id.into_inner();
    let target = id.clone();
    change(
        &state,
        &signed_in,
        id,
        "Note added.",
        move |conn, actor, now| {
            actions::add_note(conn, actor, &target, &body, Some(status.as_str()), now)
        },
    )
    .await
}

async fn publish(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    signed_in.verify_csrf(super::form_value(&pairs, "csrf_token"))?;
    signed_in.require_admin()?;
    let published = super::form_value(&pairs, "published") != "false";
    let id = id.into_inner();
    let target = id.clone();
    let message = if published {
        "Published: respondents may read this action."
    } else {
        "Withdrawn: respondents no longer see this action."
    };
    change(&state, &signed_in, id, message, move |conn, actor, now| {
        actions::set_published(conn, actor, &target, published, now)
    })
    .await
}

// ---------------------------------------------------------------------------------------
// JSON API
// ---------------------------------------------------------------------------------------

fn api_failure(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message, "status": status.as_u16() }))
}

/// The signed-in account of an API request, or the 401 JSON answer.
fn api_user(signed_in: Result<SignedIn, AppError>) -> Result<SignedIn, Box<HttpResponse>> {
    match signed_in {
        Ok(signed_in) => Ok(signed_in),
        Err(AppError::SignInRequired { .. }) => Err(Box::new(api_failure(
            StatusCode::UNAUTHORIZED,
            "Sign in first: this API answers signed-in admins and leads only.",
        ))),
        Err(other) => Err(Box::new(api_failure(
            actix_web::ResponseError::status_code(&other),
            &other.to_string(),
        ))),
    }
}

/// A write needs the session's CSRF token in `X-CSRF-Token`.
fn api_writer(
    signed_in: Result<SignedIn, AppError>,
    req: &HttpRequest,
) -> Result<SignedIn, Box<HttpResponse>> {
    let signed_in = api_user(signed_in)?;
    let token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    signed_in
        .verify_csrf(token)
        .map_err(|e| Box::new(api_failure(StatusCode::FORBIDDEN, &e.to_string())))?;
    Ok(signed_in)
}

fn api_result(outcome: Result<impl serde::Serialize, ActionError>, created: bool) -> HttpResponse {
    match outcome {
        Ok(value) if created => HttpResponse::Created().json(value),
        Ok(value) => HttpResponse::Ok().json(value),
        Err(ActionError::NotFound(id)) => api_failure(StatusCode::NOT_FOUND, &format!("No action with id {id}.")),
        Err(ActionError::Invalid(errors)) => HttpResponse::BadRequest().json(json!({
            "error": crate::domain::wave::describe(&errors),
            "fields": errors.iter().map(|e| json!({ "field": e.field, "message": e.message })).collect::<Vec<_>>(),
            "status": 400,
        })),
        Err(ActionError::Forbidden(message)) => api_failure(StatusCode::FORBIDDEN, &message),
        Err(ActionError::Unexpected(e)) => {
            tracing::error!(error = ?e, "action API request failed");
            api_failure(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again in a moment.")
        }
    }
}

async fn api_list(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    if let Err(response) = api_user(signed_in) {
        return Ok(*response);
    }
    let filter = match query.filter() {
        Ok(filter) => filter,
        Err(e) => return Ok(api_failure(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let slug = query.survey.clone().filter(|s| !s.trim().is_empty());
    let now = state.clock.now();
    let outcome = blocking(&state, move |conn| {
        Ok(actions::list(conn, slug.as_deref(), &filter, now))
    })
    .await?;
    Ok(api_result(outcome, false))
}

async fn api_detail(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    if let Err(response) = api_user(signed_in) {
        return Ok(*response);
    }
    let now = state.clock.now();
    let worker = (*state).clone();
    let id = id.into_inner();
    let outcome = blocking(&state, move |conn| {
        Ok(actions::detail(conn, &worker.results, &id, now))
    })
    .await?;
    Ok(api_result(outcome, false))
}

async fn api_create(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    req: HttpRequest,
    input: web::Json<ActionInput>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_writer(signed_in, &req) {
        Ok(s) => s,
        Err(response) => return Ok(*response),
    };
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let worker = (*state).clone();
    let input = input.into_inner();
    let outcome = blocking(&state, move |conn| {
        Ok(actions::create(conn, &worker.results, &actor, &input, now))
    })
    .await?;
    Ok(api_result(outcome, true))
}

async fn api_update(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    req: HttpRequest,
    id: web::Path<String>,
    update: web::Json<ActionUpdate>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_writer(signed_in, &req) {
        Ok(s) => s,
        Err(response) => return Ok(*response),
    };
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let (id, update) = (id.into_inner(), update.into_inner());
    let outcome = blocking(&state, move |conn| {
        Ok(actions::update(conn, &actor, &id, &update, now))
    })
    .await?;
    Ok(api_result(outcome, false))
}

#[derive(Debug, Deserialize)]
pub struct NoteInput {
    text: String,
    #[serde(default)]
    status: Option<String>,
}

async fn api_note(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    req: HttpRequest,
    id: web::Path<String>,
    input: web::Json<NoteInput>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_writer(signed_in, &req) {
        Ok(s) => s,
        Err(response) => return Ok(*response),
    };
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let (id, input) = (id.into_inner(), input.into_inner());
    let outcome = blocking(&state, move |conn| {
        Ok(actions::add_note(
            conn,
            &actor,
            &id,
            &input.text,
            input.status.as_deref(),
            now,
        ))
    })
    .await?;
    Ok(api_result(outcome, false))
}

#[derive(Debug, Deserialize)]
pub struct PublishInput {
    published: bool,
}

async fn api_publish(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    req: HttpRequest,
    id: web::Path<String>,
    input: web::Json<PublishInput>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_writer(signed_in, &req) {
        Ok(s) => s,
        Err(response) => return Ok(*response),
    };
    let actor = actions::Actor::from(&signed_in.user);
    let now = state.clock.now();
    let (id, published) = (id.into_inner(), input.published);
    let outcome = blocking(&state, move |conn| {
        Ok(actions::set_published(conn, &actor, &id, published, now))
    })
    .await?;
    Ok(api_result(outcome, false))
}
