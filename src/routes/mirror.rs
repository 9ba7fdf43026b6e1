//! The customer-of-choice mirror (`/admin/mirror?half=2026-H1`, its CSV and XLSX, and
//! `/api/v1/mirror`) and a wave's stakeholder map (`/admin/waves/{id}/map?by=…&importance=…
//! &measure=nps|csat`, and `/api/v1/waves/{id}/map`). Handlers parse, call
//! `results::mirror` / `results::map` and render with `views::mirror_page` /
//! `views::map_page`. The APIs answer 401 JSON when not signed in.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::results::results_error;
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::export;
use crate::results::map::{self, MapQuery, Measure, StakeholderMap};
use crate::results::mirror::{self, Mirror};
use crate::scorecards::period::HalfYear;
use crate::startup::AppState;
use crate::views::{map_page, mirror_page, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/mirror", web::get().to(page))
        .route("/admin/mirror.csv", web::get().to(csv))
        .route("/admin/mirror.xlsx", web::get().to(xlsx))
        .route("/api/v1/mirror", web::get().to(api))
        .route("/admin/waves/{id}/map", web::get().to(map_page_handler))
        .route("/api/v1/waves/{id}/map", web::get().to(map_api));
}

#[derive(Debug, Default, Deserialize)]
pub struct MirrorQuery {
    #[serde(default)]
    half: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct MapParams {
    #[serde(default)]
    by: String,
    #[serde(default)]
    importance: String,
    #[serde(default)]
    measure: String,
}

impl MapParams {
    fn parse(&self) -> Result<MapQuery, AppError> {
        let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Ok(MapQuery {
            attribute: non_empty(&self.by),
            importance: non_empty(&self.importance),
            measure: Measure::parse(&self.measure).map_err(AppError::BadRequest)?,
        })
    }
}

async fn load(state: &web::Data<AppState>, query: &MirrorQuery) -> Result<Mirror, AppError> {
    let half = match query.half.trim() {
        "" => None,
        text => Some(HalfYear::parse(text).map_err(AppError::BadRequest)?),
    };
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get()?;
        mirror::mirror(&mut conn, &state.results, half, state.clock.now()).map_err(results_error)
    })
    .await?
}

async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<MirrorQuery>,
) -> Result<HttpResponse, AppError> {
    let mirror = load(&state, &query).await?;
    let page = Page::signed_in(
        "Customer of choice",
        &signed_in,
        mirror_page::mirror_page(&mirror),
    );
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/mirror")?,
    ))
}

fn attachment(name: &str, extension: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .body(body)
}

async fn csv(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    query: web::Query<MirrorQuery>,
) -> Result<HttpResponse, AppError> {
    let mirror = load(&state, &query).await?;
    let body = export::rows_to_csv(export::mirror::rows(&mirror))?;
    Ok(attachment(
        &format!("customer-of-choice-{}", mirror.half_year),
        "csv",
        "text/csv; charset=utf-8",
        body,
    ))
}

async fn xlsx(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    query: web::Query<MirrorQuery>,
) -> Result<HttpResponse, AppError> {
    let mirror = load(&state, &query).await?;
    let body = export::rows_to_xlsx(export::mirror::rows(&mirror), "Customer of choice")?;
    Ok(attachment(
        &format!("customer-of-choice-{}", mirror.half_year),
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body,
    ))
}

/// 401 JSON for an API request without a session, else the signed-in user.
fn api_sign_in(signed_in: Result<SignedIn, AppError>) -> Result<Option<HttpResponse>, AppError> {
    match signed_in {
        Ok(_) => Ok(None),
        Err(AppError::SignInRequired { .. }) => {
            Ok(Some(HttpResponse::Unauthorized().json(json!({
                "error": "Sign in first: this API answers signed-in admins and leads only.",
                "status": 401,
            }))))
        }
        Err(other) => Err(other),
    }
}

async fn api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    query: web::Query<MirrorQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(refusal) = api_sign_in(signed_in)? {
        return Ok(refusal);
    }
    let mirror = load(&state, &query).await?;
    Ok(HttpResponse::Ok().json(&mirror))
}

async fn load_map(
    state: &web::Data<AppState>,
    id: String,
    params: &MapParams,
) -> Result<(StakeholderMap, crate::domain::wave::WaveState), AppError> {
    let query = params.parse()?;
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        let map = map::map(&mut conn, &state.results, &id, &query, now).map_err(results_error)?;
        let wave = crate::db::models::waves::find(&mut conn, &id)?.ok_or(AppError::NotFound)?;
        Ok((map, wave.state()))
    })
    .await?
}

async fn map_page_handler(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    params: web::Query<MapParams>,
) -> Result<HttpResponse, AppError> {
    let (map, wave_state) = load_map(&state, id.into_inner(), &params).await?;
    let page = Page::signed_in(
        "Stakeholder map",
        &signed_in,
        map_page::map_page(&map, wave_state),
    );
    Ok(super::html(StatusCode::OK, page.render("pages/admin/map")?))
}

async fn map_api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    id: web::Path<String>,
    params: web::Query<MapParams>,
) -> Result<HttpResponse, AppError> {
    if let Some(refusal) = api_sign_in(signed_in)? {
        return Ok(refusal);
    }
    let (map, _) = load_map(&state, id.into_inner(), &params).await?;
    Ok(HttpResponse::Ok().json(&map))
}
