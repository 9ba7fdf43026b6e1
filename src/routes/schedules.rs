//! Admin pages for schedules ("every six months, open 21 days, remind after 7 and 14"): the
//! list with each schedule's state and next wave, the add form, the edit page, pause and
//! resume (reversible: one click, then a message), and stop (for good: after a confirmation
//! page). The same verbs as `pulse schedule pause|resume|edit|stop`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::waves::{blocking, field_errors, survey_options, time_zone_note, utc_echo, wave_error};
use crate::auth::SignedIn;
use crate::domain::audience::AudienceFilter;
use crate::domain::wave::FieldError;
use crate::error::AppError;
use crate::services::audience;
use crate::services::schedules::{self, ScheduleInput};
use crate::services::waves::{self, WaveError};
use crate::startup::AppState;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/schedules", web::get().to(list_page))
        .route("/admin/schedules", web::post().to(create))
        .route("/admin/schedules/{id}", web::get().to(edit_page))
        .route("/admin/schedules/{id}", web::post().to(save))
        .route("/admin/schedules/{id}/stop", web::get().to(confirm_stop))
        .route("/admin/schedules/{id}/{action}", web::post().to(act));
}

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

/// The cadences the form offers (any `Nm` still works on the command line).
const CADENCES: &[(&str, &str)] = &[
    ("1m", "Every month"),
    ("3m", "Every 3 months (quarterly)"),
    ("6m", "Every 6 months (half-yearly)"),
    ("12m", "Every year"),
];

/// The schedule form as posted: the fields of [`ScheduleInput`] with "open for" in days and
/// the audience builder's selects (`a.ATTRIBUTE`).
fn parse_form(pairs: Vec<(String, String)>) -> (String, ScheduleInput, Vec<FieldError>) {
    let mut csrf = String::new();
    let mut input = ScheduleInput::default();
    let mut choices = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "csrf_token" => csrf = value,
            "survey" => input.survey = value,
            "every" => input.every = value,
            "starting" => input.starting = value,
            "open_for" => input.open_for = value,
            "remind" => input.remind = value,
            "title" => input.title = value,
            "anonymity_k" => input.anonymity_k = value,
            other => {
                if let Some(attribute) = other.strip_prefix("a.") {
                    choices.push((attribute.to_string(), value));
                }
            }
        }
    }
    // The form asks for days; the service takes a span.
    let days = input.open_for.trim();
    if !days.is_empty() && days.chars().all(|c| c.is_ascii_digit()) {
        input.open_for = format!("{days}d");
    }
    let mut errors = Vec::new();
    match audience::filter_from_choices(&choices) {
        Ok(filter) => input.audience = filter.to_string(),
        Err(e) => errors.push(FieldError::new("audience", e)),
    }
    (csrf, input, errors)
}

/// The form's view of an input: "open for" as days where it is whole days.
fn form_json(input: &ScheduleInput) -> serde_json::Value {
    let mut value = json!(input);
    if let Some(days) = input.open_for.trim().strip_suffix('d') {
        value["open_for"] = json!(days);
    }
    value
}

struct Rendered<'a> {
    status: StatusCode,
    input: ScheduleInput,
    errors: Vec<FieldError>,
    /// `Some(id)` on the edit page.
    editing: Option<&'a str>,
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    r: Rendered<'_>,
) -> Result<HttpResponse, AppError> {
    let tz = state.settings.time_zone;
    let chosen = AudienceFilter::parse(&r.input.audience).unwrap_or_default();
    let survey = r.input.survey.clone();
    let (list, survey_list, attributes) = blocking(state, move |conn| {
        Ok((
            schedules::list(conn, tz).map_err(wave_error)?,
            survey_options(conn, &survey)?,
            audience::choices(conn, &chosen)?,
        ))
    })
    .await?;
    let cadences: Vec<_> = CADENCES
        .iter()
        .map(|(value, label)| json!({"value": value, "label": label, "selected": *value == r.input.every.trim()}))
        .collect();
    let editing = r
        .editing
        .and_then(|id| list.iter().find(|s| s.id == id).cloned());
    let title = if editing.is_some() {
        "Edit a schedule"
    } else {
        "Schedules"
    };
    let page = Page::signed_in(
        title,
        signed_in,
        json!({
            "schedules": list,
            "editing": editing,
            "surveys": survey_list,
            "cadences": cadences,
            "attributes": attributes,
            "starting_utc": utc_echo(&r.input.starting, tz, state.clock.now()),
            "form": form_json(&r.input),
            "time_zone": time_zone_note(tz, state.clock.now()),
            "errors": field_errors(SCHEDULE_FIELDS, &r.errors),
            "has_errors": !r.errors.is_empty(),
        }),
    );
    let template = if r.editing.is_some() {
        "pages/admin/schedule_edit"
    } else {
        "pages/admin/schedules"
    };
    Ok(super::html(r.status, page.render(template)?))
}

async fn list_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let input = ScheduleInput {
        survey: "internal-customer".into(),
        every: "6m".into(),
        open_for: "21d".into(),
        remind: "7, 14".into(),
        anonymity_k: "5".into(),
        ..Default::default()
    };
    let r = Rendered {
        status: StatusCode::OK,
        input,
        errors: Vec::new(),
        editing: None,
    };
    render(&state, &signed_in, r).await
}

async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let (csrf, input, errors) = parse_form(form.into_inner());
    signed_in.verify_csrf(&csrf)?;
    let tz = state.settings.time_zone;
    let now = state.clock.now();
    let attempt = input.clone();
    let outcome = if errors.is_empty() {
        blocking(&state, move |conn| {
            match schedules::add_schedule_in(conn, &attempt, now, tz) {
                Ok(row) => Ok(Ok(row)),
                Err(WaveError::Invalid(errors)) => Ok(Err(errors)),
                Err(other) => Err(wave_error(other)),
            }
        })
        .await?
    } else {
        Err(errors)
    };
    match outcome {
        Ok(row) => Ok(super::flash::see_other_with(
            "/admin/schedules",
            &format!(
                "Schedule added. Its first wave, {}, opens {}.",
                crate::domain::schedule::render_title(&row.title_template, row.next_opens_at),
                crate::domain::schedule::display_in(row.next_opens_at, tz)
            ),
            state.settings.secure_cookies(),
        )),
        Err(errors) => {
            let r = Rendered {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                input,
                errors,
                editing: None,
            };
            render(&state, &signed_in, r).await
        }
    }
}

async fn edit_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let tz = state.settings.time_zone;
    let id = id.into_inner();
    let wanted = id.clone();
    let input = blocking(&state, move |conn| {
        let schedule = waves::find_schedule(conn, &wanted)?.ok_or(AppError::NotFound)?;
        if schedule.stopped_at.is_some() {
            return Err(AppError::BadRequest(
                "This schedule is stopped and cannot be changed; add a new one instead.".into(),
            ));
        }
        schedules::input_of(conn, &schedule, tz).map_err(wave_error)
    })
    .await?;
    let r = Rendered {
        status: StatusCode::OK,
        input,
        errors: Vec::new(),
        editing: Some(&id),
    };
    render(&state, &signed_in, r).await
}

async fn save(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let (csrf, input, errors) = parse_form(form.into_inner());
    signed_in.verify_csrf(&csrf)?;
    let tz = state.settings.time_zone;
    let now = state.clock.now();
    let id = id.into_inner();
    let (attempt, schedule_id) = (input.clone(), id.clone());
    let outcome = if errors.is_empty() {
        blocking(&state, move |conn| {
            waves::find_schedule(conn, &schedule_id)?.ok_or(AppError::NotFound)?;
            match schedules::edit(conn, &schedule_id, &attempt, now, tz) {
                Ok(outcome) => Ok(Ok(outcome.message)),
                Err(WaveError::Invalid(errors)) => Ok(Err(errors)),
                Err(other) => Err(wave_error(other)),
            }
        })
        .await?
    } else {
        Err(errors)
    };
    match outcome {
        Ok(message) => Ok(super::flash::see_other_with(
            "/admin/schedules",
            &message,
            state.settings.secure_cookies(),
        )),
        Err(errors) => {
            let r = Rendered {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                input,
                errors,
                editing: Some(&id),
            };
            render(&state, &signed_in, r).await
        }
    }
}

/// "Stop this schedule?" — it cannot be undone.
async fn confirm_stop(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let tz = state.settings.time_zone;
    let id = id.into_inner();
    let view = blocking(&state, move |conn| {
        schedules::list(conn, tz)
            .map_err(wave_error)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(AppError::NotFound)
    })
    .await?;
    if view.stopped {
        return Err(AppError::BadRequest(
            "This schedule is already stopped.".into(),
        ));
    }
    let page = Page::signed_in(
        "Stop this schedule?",
        &signed_in,
        json!({ "schedule": view }),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/schedule_stop")?,
    ))
}

#[derive(Deserialize)]
struct ActionForm {
    csrf_token: String,
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
    let tz = state.settings.time_zone;
    let now = state.clock.now();
    let message = blocking(&state, move |conn| {
        waves::find_schedule(conn, &id)?.ok_or(AppError::NotFound)?;
        let outcome = match action.as_str() {
            "pause" => schedules::pause(conn, &id),
            "resume" => schedules::resume(conn, &id, now, tz),
            "stop" => schedules::stop(conn, &id, now),
            _ => return Err(AppError::NotFound),
        };
        outcome.map(|o| o.message).map_err(wave_error)
    })
    .await?;
    Ok(super::flash::see_other_with(
        "/admin/schedules",
        &message,
        state.settings.secure_cookies(),
    ))
}
