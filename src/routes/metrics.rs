//! `GET /metrics` (Prometheus text format) and the middleware that counts and times every
//! request. The endpoint exists only when `--metrics-token` is set, and then answers only
//! `Authorization: Bearer TOKEN` (compared in constant time); otherwise it is a 404 like
//! any unknown page. Requests are labelled by route *pattern* (`/s/{token}`), never by path,
//! so survey tokens cannot reach the metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::metrics::{method_label, OUTBOX_STATES};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let Some(expected) = &state.settings.metrics_token else {
        return Err(AppError::NotFound);
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .content_type("text/plain; charset=utf-8")
            .body("a valid bearer token is required\n"));
    }
    let pool = state.pool.clone();
    let counts = web::block(move || -> Result<Vec<(String, i64)>, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::outbox::counts_by_state(&mut conn, &OUTBOX_STATES)?)
    })
    .await??;
    state.metrics.set_outbox_counts(&counts);
    let body = state.metrics.render().map_err(AppError::unexpected)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// Counts and times every request, labelled by method, route pattern and status.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = method_label(req.method());
    let result = next.call(req).await;
    if let Some(state) = state {
        let (route, status) = match &result {
            Ok(res) => (res.request().match_pattern(), res.status()),
            Err(error) => (None, error.as_response_error().status_code()),
        };
        let route = route.unwrap_or_else(|| "(unmatched)".to_string());
        state.metrics.observe_request(
            method,
            &route,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    result
}
