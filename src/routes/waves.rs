//! Admin pages for waves: the list, the scheduling form (dates in the organisation's time
//! zone, an audience builder with a "count" button, messages at the fields), the wave page
//! (progress as of a stated time, with a refresh button — no self-reloading page), and its
//! actions: open now, close early and cancel (each irreversible one after a confirmation
//! page), resend one invitation, and "outside the trend". Schedules are in `schedules.rs`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::domain::audience::AudienceFilter;
use crate::domain::schedule::{display_in, Tz};
use crate::domain::wave::{FieldError, WaveInput};
use crate::error::AppError;
use crate::services::audience::{self, AudienceCount};
use crate::services::waves::{self, WaveError, WaveProgress};
use crate::services::{schedules, surveys};
use crate::startup::AppState;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/waves", web::get().to(list))
        .route("/admin/waves", web::post().to(create))
        .route("/admin/waves/new", web::get().to(new_form))
        .route("/admin/waves/{id}", web::get().to(show))
        .route("/admin/waves/{id}/close", web::get().to(confirm_close))
        .route("/admin/waves/{id}/cancel", web::get().to(confirm_cancel))
        .route("/admin/waves/{id}/resend", web::post().to(resend))
        .route("/admin/waves/{id}/trend", web::post().to(set_trend))
        .route("/admin/waves/{id}/{action}", web::post().to(act))
        .configure(super::schedules::configure);
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

pub(super) fn wave_error(error: WaveError) -> AppError {
    match error {
        WaveError::NotFound(_) => AppError::NotFound,
        WaveError::Invalid(errors) => AppError::BadRequest(
            errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        WaveError::Conflict(message) => AppError::BadRequest(sentence(&message)),
        WaveError::Unexpected(e) => AppError::Unexpected(e),
    }
}

/// "the wave is closed" → "The wave is closed."
pub(super) fn sentence(message: &str) -> String {
    let message = message.trim();
    let first_word = message.split_whitespace().next().unwrap_or("");
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        // An address or a quoted value keeps its case.
        Some(first) if !first_word.contains(['@', '\'']) => {
            first.to_uppercase().chain(chars).collect()
        }
        _ => message.to_string(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// `{field: message}` for every form field, `null` where there is nothing to say (strict
/// templates need every key).
pub(super) fn field_errors(fields: &[&str], errors: &[FieldError]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for field in fields {
        let message = errors
            .iter()
            .find(|e| e.field == *field)
            .map(|e| sentence(&e.message));
        map.insert((*field).to_string(), json!(message));
    }
    serde_json::Value::Object(map)
}

/// The survey select: every loaded survey by its title and version.
pub(super) fn survey_options(
    conn: &mut crate::db::DbConn,
    chosen: &str,
) -> Result<Vec<serde_json::Value>, AppError> {
    Ok(surveys::latest_pinned(conn)?
        .into_iter()
        .map(|s| {
            json!({
                "slug": s.slug, "selected": s.slug == chosen,
                "label": format!("{} (version {})", s.title, s.version),
            })
        })
        .collect())
}

/// The time zone note beside date inputs: "Europe/Berlin, now UTC+01:00".
pub(super) fn time_zone_note(tz: Tz, now: chrono::NaiveDateTime) -> String {
    use chrono::{Offset, TimeZone};
    if tz == Tz::UTC {
        return "UTC".into();
    }
    let offset = tz.offset_from_utc_datetime(&now).fix().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!(
        "{tz}, now UTC{sign}{:02}:{:02}",
        offset / 3600,
        offset % 3600 / 60
    )
}

/// "= 2027-01-15 08:00 UTC" under a date input holding a valid local time.
pub(super) fn utc_echo(raw: &str, tz: Tz, now: chrono::NaiveDateTime) -> Option<String> {
    if tz == Tz::UTC || raw.trim().is_empty() {
        return None;
    }
    crate::domain::schedule::parse_time_in(raw, now, tz)
        .ok()
        .map(|t| format!("= {} UTC", t.format("%Y-%m-%d %H:%M")))
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

async fn list(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let tz = state.settings.time_zone;
    let rows = blocking(&state, move |conn| {
        let mut rows = Vec::new();
        for (wave, slug, survey_title) in waves::list_with_surveys(conn)? {
            let progress = waves::progress(conn, &wave.id).map_err(wave_error)?;
            rows.push(json!({
                "id": wave.id, "title": wave.title, "survey_slug": slug, "survey_title": survey_title,
                "state": wave.state, "opens_at": short_time(wave.opens_at, tz), "closes_at": short_time(wave.closes_at, tz),
                "invited": progress.invited, "responded": progress.responded, "response_rate": progress.response_rate,
                "has_results": wave.state().has_results(),
            }));
        }
        Ok(rows)
    })
    .await?;
    let page = Page::signed_in(
        "Waves",
        &signed_in,
        json!({ "waves": rows, "time_zone": tz.to_string(), "relay_pause": state.metrics.relay_pause() }),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/waves")?,
    ))
}

/// `2027-01-15 10:00` in the organisation's time zone (tables name the zone once).
fn short_time(t: chrono::NaiveDateTime, tz: Tz) -> String {
    crate::domain::schedule::to_local(t, tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// What the scheduling form shows besides the typed values.
struct FormExtras {
    errors: Vec<FieldError>,
    count: Option<AudienceCount>,
}

async fn render_form(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    input: WaveInput,
    extras: FormExtras,
) -> Result<HttpResponse, AppError> {
    let tz = state.settings.time_zone;
    let now = state.clock.now();
    let (chosen, audience_error) = match AudienceFilter::parse(&input.audience) {
        Ok(filter) => (filter, None),
        Err(e) => (AudienceFilter::everyone(), Some(e.to_string())),
    };
    let survey = input.survey.clone();
    let (survey_list, attributes) = blocking(state, move |conn| {
        Ok((
            survey_options(conn, &survey)?,
            audience::choices(conn, &chosen)?,
        ))
    })
    .await?;
    let mut errors = extras.errors;
    if let Some(message) = audience_error {
        errors.push(FieldError::new("audience", message));
    }
    let page = Page::signed_in(
        "Schedule a wave",
        signed_in,
        json!({
            "opens_utc": utc_echo(&input.opens, tz, now),
            "closes_utc": utc_echo(&input.closes, tz, now),
            "form": input,
            "surveys": survey_list,
            "attributes": attributes,
            "count": extras.count,
            "time_zone": time_zone_note(tz, now),
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
        survey: "internal-customer".into(),
        remind: "7, 14".into(),
        anonymity_k: "5".into(),
        ..Default::default()
    };
    let extras = FormExtras {
        errors: Vec::new(),
        count: None,
    };
    render_form(&state, &signed_in, StatusCode::OK, input, extras).await
}

/// The scheduling form as posted (the CSRF token is checked before): the fields of
/// [`WaveInput`], the builder's selects (`a.ATTRIBUTE`), and which button was pressed.
struct WaveForm {
    input: WaveInput,
    count_only: bool,
}

impl WaveForm {
    fn parse(pairs: Vec<(String, String)>) -> Result<Self, FieldError> {
        let mut form = WaveForm {
            input: WaveInput::default(),
            count_only: false,
        };
        let mut choices = Vec::new();
        for (name, value) in pairs {
            match name.as_str() {
                "survey" => form.input.survey = value,
                "title" => form.input.title = value,
                "opens" => form.input.opens = value,
                "closes" => form.input.closes = value,
                "remind" => form.input.remind = value,
                "anonymity_k" => form.input.anonymity_k = value,
                "outside_trend" => form.input.outside_trend = !value.is_empty(),
                "action" => form.count_only = value == "count",
                other => {
                    if let Some(attribute) = other.strip_prefix("a.") {
                        choices.push((attribute.to_string(), value));
                    }
                }
            }
        }
        let filter =
            audience::filter_from_choices(&choices).map_err(|e| FieldError::new("audience", e))?;
        form.input.audience = filter.to_string();
        if form.input.opens.trim().is_empty() {
            form.input.opens = "now".into();
        }
        Ok(form)
    }
}

async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    pairs: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let pairs = pairs.into_inner();
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.clone())
        .ok_or(AppError::Csrf)?;
    signed_in.verify_csrf(&csrf)?;
    let form = match WaveForm::parse(pairs) {
        Ok(form) => form,
        Err(error) => {
            let extras = FormExtras {
                errors: vec![error],
                count: None,
            };
            let input = WaveInput::default();
            return render_form(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                extras,
            )
            .await;
        }
    };
    let tz = state.settings.time_zone;
    let input = form.input;
    if form.count_only {
        // "How many would this invite?" — reads only; the form comes back as typed.
        let (filter, survey) = (
            AudienceFilter::parse(&input.audience).unwrap_or_default(),
            input.survey.clone(),
        );
        let count = blocking(&state, move |conn| {
            Ok(audience::count(conn, &filter, &survey)?)
        })
        .await?;
        let extras = FormExtras {
            errors: Vec::new(),
            count: Some(count),
        };
        return render_form(&state, &signed_in, StatusCode::OK, input, extras).await;
    }
    let attempt = input.clone();
    let now = state.clock.now();
    let outcome = blocking(&state, move |conn| {
        match waves::schedule_wave_in(conn, &attempt, now, tz) {
            Ok(wave) => Ok(Ok(wave)),
            Err(WaveError::Invalid(errors)) => Ok(Err(errors)),
            Err(other) => Err(wave_error(other)),
        }
    })
    .await?;
    match outcome {
        Ok(wave) => {
            let message = if wave.opens_at <= now {
                format!(
                    "{} is scheduled and opens at the next scheduler pass (within a minute); invitations follow.",
                    wave.title
                )
            } else {
                format!(
                    "{} is scheduled: it opens {}.",
                    wave.title,
                    display_in(wave.opens_at, tz)
                )
            };
            Ok(super::flash::see_other_with(
                &format!("/admin/waves/{}", wave.id),
                &message,
                state.settings.secure_cookies(),
            ))
        }
        Err(errors) => {
            let extras = FormExtras {
                errors,
                count: None,
            };
            render_form(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                extras,
            )
            .await
        }
    }
}

/// Everything the wave page and its confirmation pages show.
struct WaveData {
    wave: waves::WaveWithSurvey,
    progress: WaveProgress,
    outside_trend: bool,
    leads: usize,
}

async fn load_wave(state: &AppState, id: String) -> Result<WaveData, AppError> {
    blocking(state, move |conn| {
        let wave = waves::find_with_survey(conn, &id)?.ok_or(AppError::NotFound)?;
        let progress = waves::progress(conn, &id).map_err(wave_error)?;
        let outside_trend = waves::is_outside_trend(conn, &id)?;
        let leads = crate::services::accounts::active_leads(conn)?;
        Ok(WaveData {
            wave,
            progress,
            outside_trend,
            leads,
        })
    })
    .await
}

/// The wave as the pages show it.
fn wave_json(data: &WaveData, tz: Tz) -> serde_json::Value {
    let w = &data.wave.wave;
    let reminders = crate::domain::schedule::offsets_from_json(&w.reminder_hours);
    json!({
        "id": w.id, "title": w.title, "state": w.state,
        "survey_title": data.wave.survey_title, "survey_slug": data.wave.survey_slug,
        "survey_version": data.wave.survey_version,
        "opens_label": if w.opened_at.is_some() { "Opened" } else { "Opens" },
        "opens_at": display_in(w.opened_at.unwrap_or(w.opens_at), tz),
        "closes_label": match w.state.as_str() {
            "closed" => "Closed",
            "cancelled" => "Cancelled",
            _ => "Closes",
        },
        "closes_at": display_in(w.closed_at.unwrap_or(w.closes_at), tz),
        "closed_early": w.closed_at.is_some_and(|c| c < w.closes_at),
        "planned_close": display_in(w.closes_at, tz),
        "audience": audience::describe_stored(w.audience.as_deref()),
        "anonymity_k": w.anonymity_k,
        "reminders": schedules::reminders_words(&reminders),
        "outside_trend": data.outside_trend,
        "from_schedule": w.schedule_id.is_some(),
    })
}

/// The resend form's state when it comes back with a message.
#[derive(Default)]
struct ResendState {
    email: String,
    error: Option<String>,
}

async fn render_wave(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    id: String,
    resend: ResendState,
) -> Result<HttpResponse, AppError> {
    let tz = state.settings.time_zone;
    let data = load_wave(state, id).await?;
    let state_name = data.wave.wave.state.clone();
    let is_admin = signed_in.user.is_admin;
    let page = Page::signed_in(
        &data.wave.wave.title,
        signed_in,
        json!({
            "wave": wave_json(&data, tz),
            "progress": data.progress,
            "computed_at": display_in(state.clock.now(), tz).replacen(' ', " at ", 1),
            "live": state_name == "open" || state_name == "scheduled",
            "can_open": is_admin && state_name == "scheduled",
            "can_close": is_admin && state_name == "open",
            "can_cancel": is_admin && (state_name == "scheduled" || state_name == "open"),
            "can_resend": is_admin && state_name == "open",
            "can_mark_trend": is_admin && state_name != "cancelled",
            "has_results": data.wave.wave.state().has_results(),
            "can_retry_failed": is_admin && data.progress.failed > 0 && (state_name == "open" || state_name == "closed"),
            "relay_pause": state.metrics.relay_pause(),
            "resend": { "email": resend.email, "error": resend.error },
        }),
    );
    Ok(super::html(status, page.render("pages/admin/wave")?))
}

async fn show(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    render_wave(
        &state,
        &signed_in,
        StatusCode::OK,
        id.into_inner(),
        ResendState::default(),
    )
    .await
}

/// "Close early?" — what happens to how many people, before anything happens.
async fn confirm_close(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    confirmation(&state, &signed_in, id.into_inner(), "close").await
}

/// "Cancel the wave?" — likewise.
async fn confirm_cancel(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    confirmation(&state, &signed_in, id.into_inner(), "cancel").await
}

async fn confirmation(
    state: &AppState,
    signed_in: &SignedIn,
    id: String,
    action: &'static str,
) -> Result<HttpResponse, AppError> {
    let tz = state.settings.time_zone;
    let data = load_wave(state, id.clone()).await?;
    let w = &data.wave.wave;
    let allowed = match action {
        "close" => w.state == "open",
        _ => w.state == "open" || w.state == "scheduled",
    };
    if !allowed {
        return Err(AppError::BadRequest(format!(
            "{} is {}: there is nothing to {action} any more.",
            w.title, w.state
        )));
    }
    let p = &data.progress;
    let k = i64::from(w.anonymity_k);
    let too_small = p.responded < k;
    let not_answered = (p.invited - p.responded).max(0);
    let waiting = p.pending + p.reminders_pending;
    let title = match action {
        "close" => format!("Close {} early?", w.title),
        _ => format!("Cancel {}?", w.title),
    };
    let page = Page::signed_in(
        &title,
        signed_in,
        json!({
            "heading": title,
            "action": action,
            "wave": wave_json(&data, tz),
            "progress": data.progress,
            "is_open": w.state == "open",
            "not_answered": not_answered,
            "waiting": waiting,
            "too_small": too_small,
            "k": k,
            "leads": data.leads,
        }),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/wave_confirm")?,
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
    let key = state.settings.secret_key.clone();
    let wave_id = id.clone();
    let now = state.clock.now();
    let message = blocking(&state, move |conn| {
        let wave = waves::find(conn, &wave_id)?.ok_or(AppError::NotFound)?;
        let title = wave.title.clone();
        if matches!(action.as_str(), "close" | "cancel") {
            waves::ensure_not_pulse(conn, &wave_id).map_err(wave_error)?;
        }
        let message = match action.as_str() {
            "open" => waves::open_wave(conn, &key, &wave_id, now)
                .map_err(wave_error)?
                .map(|report| {
                    format!(
                        "{title} is open: {} invitation(s) are on their way.",
                        report.invited
                    )
                }),
            "close" => {
                if waves::close_wave(conn, &wave_id, now).map_err(wave_error)? {
                    let progress = waves::progress(conn, &wave_id).map_err(wave_error)?;
                    Some(if progress.responded < i64::from(wave.anonymity_k) {
                        format!(
                            "{title} closed with {} answer(s): fewer than {}, so no figures can be shown. The leads were told why instead of getting \"results are ready\".",
                            progress.responded, wave.anonymity_k
                        )
                    } else {
                        format!("{title} closed; results are released to the leads.")
                    })
                } else {
                    None
                }
            }
            "cancel" => waves::cancel_wave(conn, &wave_id, now)
                .map_err(wave_error)?
                .then(|| format!("{title} was cancelled; mails not yet sent were withdrawn.")),
            "retry-failed" => {
                let again = waves::retry_failed(conn, &wave_id, now).map_err(wave_error)?;
                Some(format!("{again} undelivered mail(s) of {title} will be sent again."))
            }
            _ => return Err(AppError::NotFound),
        };
        message.ok_or_else(|| {
            AppError::BadRequest(format!(
                "{title} is {}: it can no longer be {}. Reload the wave page to see where it stands.",
                wave.state,
                match action.as_str() {
                    "open" => "opened",
                    "close" => "closed",
                    "retry-failed" => "retried",
                    _ => "cancelled",
                }
            ))
        })
    })
    .await?;
    // Mail may have been enqueued (invitations, undelivered mail again).
    crate::outbox::wake();
    Ok(super::flash::see_other_with(
        &format!("/admin/waves/{id}"),
        &message,
        state.settings.secure_cookies(),
    ))
}

#[derive(Deserialize)]
struct ResendForm {
    csrf_token: String,
    #[serde(default)]
    email: String,
}

/// Resend one invitation; a wrong address comes back at the field, with the page around it.
async fn resend(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<ResendForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let id = id.into_inner();
    let email = form.into_inner().email;
    let (wave_id, address) = (id.clone(), email.clone());
    let now = state.clock.now();
    let outcome = blocking(&state, move |conn| {
        match waves::resend_invitation(conn, &wave_id, &address, now) {
            Ok(()) => Ok(Ok(())),
            Err(WaveError::Invalid(errors)) => Ok(Err(errors
                .into_iter()
                .map(|e| sentence(&e.message))
                .collect::<Vec<_>>()
                .join(" "))),
            Err(WaveError::Conflict(message)) => Ok(Err(sentence(&message))),
            Err(other) => Err(wave_error(other)),
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok({
            crate::outbox::wake();
            super::flash::see_other_with(
                &format!("/admin/waves/{id}"),
                &format!(
                    "A mail to {} is on its way: their survey link again, or a short thank-you if they have answered already.",
                    email.trim()
                ),
                state.settings.secure_cookies(),
            )
        }),
        Err(message) => {
            let resend = ResendState {
                email,
                error: Some(message),
            };
            render_wave(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                resend,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct TrendForm {
    csrf_token: String,
    /// "outside" or "inside"
    trend: String,
}

/// Marks a wave as outside the survey's trend (ad-hoc or test waves), or back inside.
async fn set_trend(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<TrendForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let outside = match form.trend.as_str() {
        "outside" => true,
        "inside" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose whether the wave belongs to the trend.".into(),
            ))
        }
    };
    let id = id.into_inner();
    let wave_id = id.clone();
    let now = state.clock.now();
    let title = blocking(&state, move |conn| {
        waves::set_outside_trend(conn, &wave_id, outside, now)?.ok_or(AppError::NotFound)
    })
    .await?;
    let message = if outside {
        format!("{title} is now outside the trend: it is left out of the survey's trend and is not compared with other waves.")
    } else {
        format!("{title} counts in the survey's trend again.")
    };
    Ok(super::flash::see_other_with(
        &format!("/admin/waves/{id}"),
        &message,
        state.settings.secure_cookies(),
    ))
}
