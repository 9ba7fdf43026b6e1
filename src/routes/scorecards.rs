//! Scorecards for signed-in users: the organisation page (`/admin/scorecards`, every unit ×
//! every measure, and NPS against speed), a unit's page (`/admin/scorecards/{unit}`, with
//! the actions aimed at the unit), their CSV and XLSX downloads, the JSON API
//! (`/api/v1/scorecards[/{unit}]`), and a unit's published results summaries
//! (`/admin/scorecards/{unit}/results[.csv|.xlsx]`, `/api/v1/scorecards/{unit}/results`). Every figure
//! comes from `scorecards::card` and `scorecards::unit_results`; a viewer sees only the
//! units of their scope, and of the actions only the published ones.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::error::AppError;
use crate::scorecards::card::{self, Organisation, Scorecard};
use crate::scorecards::export;
use crate::scorecards::period::HalfYear;
use crate::scorecards::unit_results::{self, UnitResults};
use crate::services::accounts;
use crate::startup::AppState;
use crate::views::scorecards::{organisation_page, scorecard_page, unit_results_page};
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/scorecards", web::get().to(organisation))
        .route("/admin/scorecards.csv", web::get().to(organisation_csv))
        .route("/admin/scorecards.xlsx", web::get().to(organisation_xlsx))
        .route("/admin/scorecards/{unit}", web::get().to(unit_page))
        .route(
            "/admin/scorecards/{unit}/scorecard.csv",
            web::get().to(unit_csv),
        )
        .route(
            "/admin/scorecards/{unit}/scorecard.xlsx",
            web::get().to(unit_xlsx),
        )
        .route(
            "/admin/scorecards/{unit}/results",
            web::get().to(unit_results_html),
        )
        .route(
            "/admin/scorecards/{unit}/results.csv",
            web::get().to(unit_results_csv),
        )
        .route(
            "/admin/scorecards/{unit}/results.xlsx",
            web::get().to(unit_results_xlsx),
        )
        .route("/api/v1/scorecards", web::get().to(organisation_api))
        .route("/api/v1/scorecards/{unit}", web::get().to(unit_api))
        .route(
            "/api/v1/scorecards/{unit}/results",
            web::get().to(unit_results_api),
        );
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    pub period: Option<String>,
}

impl PeriodQuery {
    /// The half-year asked for, else the one of the survey's latest closed wave.
    async fn period(&self, state: &web::Data<AppState>) -> Result<HalfYear, AppError> {
        match self.period.as_deref().map(str::trim) {
            None | Some("") => {
                let state = state.clone();
                web::block(move || -> Result<HalfYear, AppError> {
                    let mut conn = state.pool.get()?;
                    let today = state.clock.now().date();
                    Ok(card::default_period(&mut conn, &state.scorecard, today)?)
                })
                .await?
            }
            Some(text) => HalfYear::parse(text).map_err(AppError::BadRequest),
        }
    }
}

/// The units the user may see: `None` for every unit (admins and leads).
async fn scope(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
) -> Result<Option<Vec<String>>, AppError> {
    if !signed_in.user.is_viewer {
        return Ok(None);
    }
    let pool = state.pool.clone();
    let user_id = signed_in.user.id.clone();
    let units = web::block(move || -> Result<Vec<String>, AppError> {
        let mut conn = pool.get()?;
        Ok(accounts::viewer_units(&mut conn, &user_id)?)
    })
    .await??;
    Ok(Some(units))
}

/// Refuses a unit outside a viewer's scope.
async fn check_scope(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    unit: &str,
) -> Result<(), AppError> {
    match scope(state, signed_in).await? {
        Some(units) if !units.iter().any(|u| u == unit) => Err(AppError::Forbidden),
        _ => Ok(()),
    }
}

/// What a viewer may see of a scorecard: the published actions only.
fn for_reader(mut card: Scorecard, signed_in: &SignedIn) -> Scorecard {
    if signed_in.user.is_viewer {
        card.actions.retain(|a| a.published);
    }
    card
}

async fn load_unit(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    unit: String,
    query: &PeriodQuery,
) -> Result<Scorecard, AppError> {
    check_scope(state, signed_in, &unit).await?;
    let period = query.period(state).await?;
    let state = state.clone();
    let card = web::block(move || -> Result<Scorecard, AppError> {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        card::unit_scorecard(
            &mut conn,
            &state.results,
            &state.scorecard,
            &unit,
            period,
            now,
        )?
        .ok_or(AppError::NotFound)
    })
    .await??;
    Ok(for_reader(card, signed_in))
}

/// The organisation's view and the unit scorecards the user may see.
async fn load_organisation(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    query: &PeriodQuery,
) -> Result<(Organisation, Option<Vec<String>>), AppError> {
    let scope = scope(state, signed_in).await?;
    let period = query.period(state).await?;
    let state = state.clone();
    let mut org = web::block(move || -> Result<Organisation, AppError> {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        Ok(card::organisation(
            &mut conn,
            &state.results,
            &state.scorecard,
            period,
            now,
        )?)
    })
    .await??;
    if let Some(units) = &scope {
        org.units.retain(|card| units.contains(&card.unit));
        org.speed_and_satisfaction
            .retain(|p| units.contains(&p.unit));
    }
    org.units = org
        .units
        .into_iter()
        .map(|card| for_reader(card, signed_in))
        .collect();
    Ok((org, scope))
}

async fn organisation(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (org, _) = load_organisation(&state, &signed_in, &query).await?;
    let cards: Vec<&Scorecard> = org.units.iter().collect();
    let page = Page::signed_in("Scorecards", &signed_in, organisation_page(&org, &cards));
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/scorecards")?,
    ))
}

async fn unit_page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    unit: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let card = load_unit(&state, &signed_in, unit.into_inner(), &query).await?;
    let title = format!("Scorecard: {}", card.unit);
    let page = Page::signed_in(&title, &signed_in, scorecard_page(&card, true));
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/scorecard")?,
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
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .body(body)
}

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn organisation_csv(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (org, _) = load_organisation(&state, &signed_in, &query).await?;
    let body = export::to_csv(&org.units)?;
    Ok(download(
        &format!("scorecards-{}", org.period),
        "csv",
        CSV,
        body,
    ))
}

async fn organisation_xlsx(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (org, _) = load_organisation(&state, &signed_in, &query).await?;
    let body = export::to_xlsx(&org.units)?;
    Ok(download(
        &format!("scorecards-{}", org.period),
        "xlsx",
        XLSX,
        body,
    ))
}

async fn unit_csv(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    unit: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let card = load_unit(&state, &signed_in, unit.into_inner(), &query).await?;
    let body = export::to_csv(std::slice::from_ref(&card))?;
    Ok(download(
        &format!("scorecard-{}-{}", card.unit, card.period),
        "csv",
        CSV,
        body,
    ))
}

async fn unit_xlsx(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    unit: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let card = load_unit(&state, &signed_in, unit.into_inner(), &query).await?;
    let body = export::to_xlsx(std::slice::from_ref(&card))?;
    Ok(download(
        &format!("scorecard-{}-{}", card.unit, card.period),
        "xlsx",
        XLSX,
        body,
    ))
}

/// 401 JSON instead of a redirect for API calls without a session.
fn api_user(
    signed_in: Result<SignedIn, AppError>,
) -> Result<Result<SignedIn, HttpResponse>, AppError> {
    match signed_in {
        Ok(user) => Ok(Ok(user)),
        Err(AppError::SignInRequired { .. }) => Ok(Err(HttpResponse::Unauthorized().json(json!({
            "error": "Sign in first: this API answers signed-in users only.",
            "status": 401,
        })))),
        Err(other) => Err(other),
    }
}

async fn organisation_api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_user(signed_in)? {
        Ok(user) => user,
        Err(response) => return Ok(response),
    };
    let (org, _) = load_organisation(&state, &signed_in, &query).await?;
    Ok(HttpResponse::Ok().json(&org))
}

async fn unit_api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    unit: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_user(signed_in)? {
        Ok(user) => user,
        Err(response) => return Ok(response),
    };
    let card = load_unit(&state, &signed_in, unit.into_inner(), &query).await?;
    Ok(HttpResponse::Ok().json(&card))
}

/// A unit's published results summaries.
async fn load_unit_results(
    state: &web::Data<AppState>,
    signed_in: &SignedIn,
    unit: String,
) -> Result<UnitResults, AppError> {
    check_scope(state, signed_in, &unit).await?;
    let state = state.clone();
    web::block(move || -> Result<UnitResults, AppError> {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        // A unit no scorecard knows is not found, as on the scorecard pages.
        if !card::known_units(&mut conn)?.contains(&unit) {
            return Err(AppError::NotFound);
        }
        Ok(unit_results::unit_results(
            &mut conn,
            &state.results,
            &unit,
            now,
        )?)
    })
    .await?
}

async fn unit_results_html(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    unit: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let results = load_unit_results(&state, &signed_in, unit.into_inner()).await?;
    let title = format!("Survey results: {}", results.unit);
    let page = Page::signed_in(&title, &signed_in, unit_results_page(&results));
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/unit_results")?,
    ))
}

async fn unit_results_api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    unit: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let signed_in = match api_user(signed_in)? {
        Ok(user) => user,
        Err(response) => return Ok(response),
    };
    let results = load_unit_results(&state, &signed_in, unit.into_inner()).await?;
    Ok(HttpResponse::Ok().json(&results))
}

async fn unit_results_csv(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    unit: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let results = load_unit_results(&state, &signed_in, unit.into_inner()).await?;
    let body = unit_results::to_csv(&results)?;
    Ok(download(
        &format!("results-summaries-{}", results.unit),
        "csv",
        CSV,
        body,
    ))
}

async fn unit_results_xlsx(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    unit: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let results = load_unit_results(&state, &signed_in, unit.into_inner()).await?;
    let body = unit_results::to_xlsx(&results)?;
    Ok(download(
        &format!("results-summaries-{}", results.unit),
        "xlsx",
        XLSX,
        body,
    ))
}
