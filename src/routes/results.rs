//! Results for signed-in admins and leads: the index of surveys and waves
//! (`/admin/results`), a wave's results page (`/admin/waves/{id}/results`, with
//! `?by=ATTRIBUTE` for the heatmap, `?comments=promoter|passive|detractor` and
//! `?filter=attribute=value`), its CSV and XLSX exports, and the JSON API
//! (`/api/v1/waves/{id}/results`, 401 JSON when not signed in). Handlers only parse, call
//! `crate::results` and render: the figures come from the results module, the page's
//! view model from `views::results_page`.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::auth::SignedIn;
use crate::error::AppError;
use crate::export;
use crate::results::{self, ResultsError, WaveResults};
use crate::startup::AppState;
use crate::views::results_page::{self, ResultsQuery};
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/results", web::get().to(index))
        .route("/admin/waves/{id}/results", web::get().to(page))
        .route(
            "/admin/waves/{id}/results/print.css",
            web::get().to(print_css),
        )
        .route("/admin/waves/{id}/results.csv", web::get().to(csv))
        .route("/admin/waves/{id}/results.xlsx", web::get().to(xlsx))
        .route("/api/v1/waves/{id}/results", web::get().to(api));
}

pub(crate) fn results_error(error: ResultsError) -> AppError {
    match error {
        ResultsError::NotFound(_) => AppError::NotFound,
        ResultsError::Refused(message) => AppError::BadRequest(message),
        ResultsError::Unexpected(e) => AppError::Unexpected(e),
    }
}

async fn load(
    state: &web::Data<AppState>,
    id: String,
    query: &ResultsQuery,
) -> Result<Arc<WaveResults>, AppError> {
    let state = state.clone();
    let filter = query.segment_filter().map_err(AppError::BadRequest)?;
    web::block(move || {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        match &filter {
            Some(filter) => results::filtered_results(&mut conn, &state.results, &id, filter, now),
            None => results::wave_results(&mut conn, &state.results, &id, now),
        }
        .map_err(results_error)
    })
    .await?
}

async fn index(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let state = state.into_inner();
    let surveys = web::block(move || {
        let mut conn = state.pool.get()?;
        results::overview::surveys(&mut conn, &state.results, state.clock.now())
            .map_err(results_error)
    })
    .await??;
    let page = Page::signed_in("Results", &signed_in, results_page::index_page(&surveys));
    Ok(super::html(
        StatusCode::OK,
        page.render("pages/admin/results_index")?,
    ))
}

/// The results page: the figures of the wave (or of one group), the whole wave's groups
/// for the group picker when filtered, the actions beside their figures, and one page of
/// the comments. The body is rendered once per results, query and actions
/// (`views::results_cache`); the layout with the account, every time.
async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.segment_filter().map_err(AppError::BadRequest)?;
    let category = query.comment_category();
    let comment_page = query.page.unwrap_or(1);
    let query = query.into_inner();
    let state = state.into_inner();
    let id = id.into_inner();
    let (results, body) = web::block(move || -> Result<_, AppError> {
        let mut conn = state.pool.get()?;
        let now = state.clock.now();
        let whole =
            results::wave_results(&mut conn, &state.results, &id, now).map_err(results_error)?;
        let results = match &filter {
            Some(filter) => results::filtered_results(&mut conn, &state.results, &id, filter, now)
                .map_err(results_error)?,
            None => whole.clone(),
        };
        let actions = crate::actions::beside_figures(
            &mut conn,
            &results.wave.survey_slug,
            results.wave.opens_at,
            results.filter.as_ref(),
            now,
        )
        .map_err(super::actions::action_error)?;
        let body = state
            .result_pages
            .body(&results, &whole, &query, &actions, || {
                let comments = results::comments_page(&mut conn, &results, category, comment_page)?;
                results_page::render_body(&results_page::PageInputs {
                    results: &results,
                    whole: Some(&whole),
                    comments: comments.as_ref(),
                    query: &query,
                    actions: Some(&actions),
                })
            })?;
        Ok((results, body))
    })
    .await??;
    let html = results_page::render_page(
        &results,
        &body,
        Some(&signed_in.user),
        Some(&signed_in.csrf_token),
    )?;
    Ok(super::html(StatusCode::OK, html))
}

/// The page's print stylesheet: the running header of every printed page.
async fn print_css(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, AppError> {
    let results = load(&state, id.into_inner(), &query).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(results_page::print_css(&results)))
}

async fn csv(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, AppError> {
    let results = load(&state, id.into_inner(), &query).await?;
    let body = export::to_csv(&results)?;
    Ok(download(&results, "csv", "text/csv; charset=utf-8", body))
}

async fn xlsx(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, AppError> {
    let results = load(&state, id.into_inner(), &query).await?;
    let body = export::to_xlsx(&results)?;
    Ok(download(
        &results,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body,
    ))
}

fn download(
    results: &WaveResults,
    extension: &str,
    content_type: &str,
    body: Vec<u8>,
) -> HttpResponse {
    let name: String = format!(
        "results-{}-{}",
        results.wave.survey_slug, results.wave.title
    )
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

/// JSON for signed-in users; an anonymous request gets 401 with a JSON error (not a
/// redirect to the sign-in page).
async fn api(
    state: web::Data<AppState>,
    signed_in: Result<SignedIn, AppError>,
    id: web::Path<String>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, AppError> {
    match signed_in {
        Ok(_) => {}
        Err(AppError::SignInRequired { .. }) => {
            return Ok(HttpResponse::Unauthorized().json(json!({
                "error": "Sign in first: this API answers signed-in admins and leads only.",
                "status": 401,
            })))
        }
        Err(other) => return Err(other),
    }
    let results = load(&state, id.into_inner(), &query).await?;
    Ok(HttpResponse::Ok().json(&*results))
}
