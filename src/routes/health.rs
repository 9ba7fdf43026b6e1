//! `GET /healthz` (the process answers) and `GET /readyz` (and the database too).

use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pool = state.pool.clone();
    web::block(move || -> Result<(), String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        crate::db::ping(&mut conn).map_err(|e| e.to_string())
    })
    .await?
    .map_err(|e| AppError::Unavailable(format!("database unreachable: {e}")))?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
