//! `GET /assets/{file}`: the embedded stylesheet and images, cacheable for a day.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{file}", web::get().to(asset));
}

async fn asset(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (data, content_type) = crate::views::asset(&file).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(data.into_owned()))
}
