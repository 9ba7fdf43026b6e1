//! Admin pages for waves and schedules: the list, the schedule form (with a message per
//! field), the wave page with live progress, and its actions (open now, close early,
//! cancel, resend to one stakeholder).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::db::models::{survey_versions, waves as wave_rows};
use crate::domain::wave::{FieldError, WaveInput};
use crate::error::AppError;
use crate::services::schedules::{self, ScheduleInput};
use crate::services::waves::{self, WaveError};
use crate::startup::AppState;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/waves", web::get().to(list))
        .route("/admin/waves", web::post().to(create))
        .route("/admin/waves/new", web::get().to(new_form))
        .route("/admin/waves/{id}", web::get().to(show))
        .route("/admin/waves/{id}/{action}", web::post().to(act))
        .route("/admin/schedules", web::get().to(schedules_page))
        .route("/admin/schedules", web::post().to(create_schedule));
}

/// Runs blocking database work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn wave_error(error: WaveError) -> AppError {
    match error {
        WaveError::NotFound(_) => AppError::NotFound,
        WaveError::Invalid(errors) => AppError::BadRequest(crate::domain::wave::describe(&errors)),
        WaveError::Conflict(message) => AppError::BadRequest(message),
        WaveError::Unexpected(e) => AppError::Unexpected(e),
    }
}

/// `{field: message}` for every form field, `null` where there is nothing to say (strict
/// templates need every key).
pub(super) fn field_errors(fields: &[&str], errors: &[FieldError]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for field in fields {
        let message = errors
            .iter()
            .find(|e| e.field == *field)
            .map(|e| e.message.clone());
        map.insert((*field).to_string(), json!(message));
    }
    serde_json::Value::Object(map)
}

const WAVE_FIELDS: &[&str] = &[
    "survey",
    "title",
    "opens",
    "closes",
    "audience",
    "remind",
    "anonymity_k",
];
const SCHEDULE_FIELDS: &[&str] = &[
    "survey",
    "every",
    "starting",
    "open_for",
    "remind",
    "audience",
    "title",
    "anonymity_k",
];

async fn list(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let rows = blocking(&state, |conn| {
        let mut rows = Vec::new();
        for (wave, slug, survey_title) in wave_rows::list(conn)? {
            let progress = waves::progress(conn, &wave.id).map_err(wave_error)?;
            rows.push(json!({
                "id": wave.id, "title": wave.title, "survey_slug": slug, "survey_title": survey_title,
                "state": wave.state, "opens_at": fmt(wave.opens_at), "closes_at": fmt(wave.closes_at),
                "invited": progress.invited, "responded": progress.responded, "response_rate": progress.response_rate,
                "has_results": wave.state == "open" || wave.state == "closed",
            }));
        }
        Ok(rows)
    })
    .await?;
    let page = Page::signed_in(
        "Waves",
        &signed_in,
        json!({ "waves": rows, "relay_pause": state.metrics.relay_pause() }),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/waves")?,
    ))
}

fn fmt(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

async fn render_form(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    input: WaveInput,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, AppError> {
    let surveys = blocking(state, |conn| Ok(survey_versions::slugs(conn)?)).await?;
    let page = Page::signed_in(
        "Schedule a wave",
        signed_in,
        json!({
            "form": input,
            "surveys": surveys,
            "errors": field_errors(WAVE_FIELDS, &errors),
            "has_errors": !errors.is_empty(),
        }),
    );
    Ok(super::html(status, page.render("pages/admin/wave_new")?))
}

async fn new_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let input = WaveInput {
        remind: "7d,14d".into(),
        anonymity_k: "5".into(),
        ..Default::default()
    };
    render_form(&state, &signed_in, StatusCode::OK, input, Vec::new()).await
}

#[derive(Deserialize)]
struct WaveForm {
    csrf_token: String,
    #[serde(flatten)]
    input: WaveInput,
}

async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<WaveForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let input = form.into_inner().input;
    let attempt = input.clone();
    let outcome = blocking(&state, move |conn| {
        match waves::schedule_wave(conn, &attempt, now()) {
            Ok(wave) => Ok(Ok(wave.id)),
            Err(WaveError::Invalid(errors)) => Ok(Err(errors)),
            Err(other) => Err(wave_error(other)),
        }
    })
    .await?;
    match outcome {
        Ok(id) => Ok(super::see_other(&format!("/admin/waves/{id}"))),
        Err(errors) => {
            render_form(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                errors,
            )
            .await
        }
    }
}

async fn show(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (wave, progress) = blocking(&state, move |conn| {
        let wave = wave_rows::find_with_survey(conn, &id)?.ok_or(AppError::NotFound)?;
        let progress = waves::progress(conn, &id).map_err(wave_error)?;
        Ok((wave, progress))
    })
    .await?;
    let state_name = wave.wave.state.as_str();
    let live = state_name == "open" || state_name == "scheduled";
    let undelivered = progress.failed;
    let page = Page::signed_in(
        &wave.wave.title,
        &signed_in,
        json!({
            "wave": {
                "id": wave.wave.id, "title": wave.wave.title, "state": state_name,
                "survey_title": wave.survey_title, "survey_slug": wave.survey_slug, "survey_version": wave.survey_version,
                "opens_at": fmt(wave.wave.opens_at), "closes_at": fmt(wave.wave.closes_at),
                "audience": wave.wave.audience.clone().unwrap_or_else(|| "everyone active".into()),
                "anonymity_k": wave.wave.anonymity_k,
                "reminders": crate::domain::schedule::offsets_display(&crate::domain::schedule::offsets_from_json(&wave.wave.reminder_hours)),
            },
            "progress": progress,
            "live": live,
            "can_open": signed_in.user.is_admin && state_name == "scheduled",
            "can_close": signed_in.user.is_admin && state_name == "open",
            "can_cancel": signed_in.user.is_admin && (state_name == "scheduled" || state_name == "open"),
            "can_resend": signed_in.user.is_admin && state_name == "open",
            "has_results": state_name == "open" || state_name == "closed",
            "can_retry_failed": signed_in.user.is_admin && undelivered > 0 && (state_name == "open" || state_name == "closed"),
            "relay_pause": state.metrics.relay_pause(),
        }),
    );
    let mut response = super::html(StatusCode::OK, page.render("pages/admin/wave")?);
    if live {
        // Live progress without JavaScript: the browser reloads the page.
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("refresh"),
            actix_web::http::header::HeaderValue::from_static("15"),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
struct ActionForm {
    csrf_token: String,
    #[serde(default)]
    email: String,
}

async fn act(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let (id, action) = path.into_inner();
    let key = state.settings.secret_key.clone();
    let email = form.into_inner().email;
    let wave_id = id.clone();
    blocking(&state, move |conn| {
        let done = match action.as_str() {
            "open" => waves::open_wave(conn, &key, &wave_id, now())
                .map_err(wave_error)?
                .is_some(),
            "close" => waves::close_wave(conn, &wave_id, now()).map_err(wave_error)?,
            "cancel" => waves::cancel_wave(conn, &wave_id, now()).map_err(wave_error)?,
            "resend" => {
                waves::resend_invitation(conn, &wave_id, &email, now()).map_err(wave_error)?;
                true
            }
            "retry-failed" => {
                waves::retry_failed(conn, &wave_id, now()).map_err(wave_error)?;
                true
            }
            _ => return Err(AppError::NotFound),
        };
        if done {
            Ok(())
        } else {
            Err(AppError::BadRequest(format!(
                "The wave is no longer in a state where it can be {action}ed; reload the page."
            )))
        }
    })
    .await?;
    // Mail may have been enqueued (invitations, a resend, undelivered mail again).
    crate::outbox::wake();
    Ok(super::see_other(&format!("/admin/waves/{id}")))
}

async fn render_schedules(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    input: ScheduleInput,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, AppError> {
    let (list, surveys) = blocking(state, |conn| {
        Ok((
            schedules::list(conn).map_err(wave_error)?,
            survey_versions::slugs(conn)?,
        ))
    })
    .await?;
    let page = Page::signed_in(
        "Schedules",
        signed_in,
        json!({
            "schedules": list, "surveys": surveys, "form": input,
            "errors": field_errors(SCHEDULE_FIELDS, &errors), "has_errors": !errors.is_empty(),
        }),
    );
    Ok(super::html(status, page.render("pages/admin/schedules")?))
}

async fn schedules_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let input = ScheduleInput {
        survey: "internal-customer".into(),
        every: "6m".into(),
        open_for: "21d".into(),
        remind: "7d,14d".into(),
        anonymity_k: "5".into(),
        ..Default::default()
    };
    render_schedules(&state, &signed_in, StatusCode::OK, input, Vec::new()).await
}

#[derive(Deserialize)]
struct ScheduleForm {
    csrf_token: String,
    #[serde(flatten)]
    input: ScheduleInput,
}

async fn create_schedule(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let input = form.into_inner().input;
    let attempt = input.clone();
    let outcome = blocking(&state, move |conn| {
        match schedules::add_schedule(conn, &attempt, now()) {
            Ok(_) => Ok(Ok(())),
            Err(WaveError::Invalid(errors)) => Ok(Err(errors)),
            Err(other) => Err(wave_error(other)),
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(super::see_other("/admin/waves")),
        Err(errors) => {
            render_schedules(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                errors,
            )
            .await
        }
    }
}
