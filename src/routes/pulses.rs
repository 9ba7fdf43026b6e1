//! `/admin/pulses`: the pulses after fulfilled requests — settings (admins edit them, with
//! CSRF), how many pulses wait, went out or were skipped by which touch rule, and the
//! quarterly pulse waves with links to their released results, and the half-years made from
//! them (also as JSON: `GET /api/v1/pulses/half-years`). Leads may read it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::error::AppError;
use crate::pulse::overview::overview;
use crate::pulse::PulseSettings;
use crate::startup::AppState;
use crate::views::pulses::PulsesPage;
use crate::views::Page;

use super::waves::blocking;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/pulses", web::get().to(show))
        .route("/admin/pulses/settings", web::post().to(save))
        .route("/api/v1/pulses/half-years", web::get().to(half_years_api));
}

/// The half-years' pulse figures as JSON (the same figures as the page).
async fn half_years_api(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    if signed_in.user.is_viewer {
        return Err(AppError::Forbidden);
    }
    let now = state.clock.now();
    let kept = state.clone();
    let halves = blocking(&state, move |conn| {
        Ok(crate::pulse::half_year::half_years(
            conn,
            &kept.results,
            now,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "half_years": halves })))
}

async fn render(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    form: Option<(PulseSettings, Vec<crate::pulse::settings::SettingsProblem>)>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let kept = state.clone();
    let (shown, halves) = blocking(state, move |conn| {
        Ok((
            overview(conn)?,
            crate::pulse::half_year::half_years(conn, &kept.results, now)?,
        ))
    })
    .await?;
    let tz = state.settings.time_zone;
    let page = PulsesPage::new(&shown, &halves, form, notice, signed_in.user.is_admin, tz);
    let page = Page::signed_in("Pulses after fulfilled requests", signed_in, json!(page));
    Ok(super::html(status, page.render("pages/admin/pulses")?))
}

async fn show(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    if signed_in.user.is_viewer {
        return Err(AppError::Forbidden);
    }
    render(&state, &signed_in, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct SettingsForm {
    csrf_token: String,
    /// A checkbox: present when ticked.
    enabled: Option<String>,
    survey_slug: String,
    delay_hours: String,
    min_days_between: String,
    quiet_days_before_wave: String,
    max_age_days: String,
    answer_days: String,
    anonymity_k: String,
}

/// A number field; out of range (-1) when it is not a whole number, so `check` names it.
fn number(text: &str) -> i32 {
    text.trim().parse().unwrap_or(-1)
}

async fn save(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let form = form.into_inner();
    let settings = PulseSettings {
        enabled: form.enabled.is_some(),
        survey_slug: form.survey_slug.trim().to_string(),
        delay_hours: number(&form.delay_hours),
        min_days_between: number(&form.min_days_between),
        quiet_days_before_wave: number(&form.quiet_days_before_wave),
        max_age_days: number(&form.max_age_days),
        answer_days: number(&form.answer_days),
        anonymity_k: number(&form.anonymity_k),
    };
    if let Err(problems) = settings.check() {
        return render(
            &state,
            &signed_in,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some((settings, problems)),
        )
        .await;
    }
    let now = state.clock.now();
    let saved = settings.clone();
    blocking(&state, move |conn| Ok(saved.save(conn, now)?)).await?;
    let notice = if settings.enabled {
        "Saved. Pulses go out with these settings from the next scheduler tick."
    } else {
        "Saved. Pulses are switched off: fulfilled requests are still recorded, and skipped as \"switched off\"."
    };
    render(
        &state,
        &signed_in,
        StatusCode::OK,
        Some(notice.into()),
        None,
    )
    .await
}
