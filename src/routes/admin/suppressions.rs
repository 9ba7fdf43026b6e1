//! Blocked addresses (admins only): `GET /admin/suppressions` lists the addresses the mail
//! server refused, with the reason, the date and the wave; `POST /admin/suppressions/lift`
//! (CSRF-protected) unblocks one, so the next wave invites it again.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::error::AppError;
use crate::services::suppressions::{self, LiftError};
use crate::startup::AppState;
use crate::views::Page;

use super::super::waves::blocking;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/suppressions", web::get().to(list))
        .route("/admin/suppressions/lift", web::post().to(lift));
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    alert: Option<String>,
) -> Result<HttpResponse, AppError> {
    let rows = blocking(state, |conn| Ok(suppressions::list(conn)?)).await?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|s| {
            json!({
                "email": s.email,
                "reason": s.reason,
                "since": s.created_at.format("%Y-%m-%d %H:%M").to_string(),
                "wave_id": s.wave_id,
                "wave_title": s.wave_title,
            })
        })
        .collect();
    let page = Page::signed_in(
        "Blocked addresses",
        signed_in,
        json!({
            "suppressions": rows,
            "notice": notice,
            "alert": alert,
            "relay_pause": state.metrics.relay_pause(),
        }),
    );
    Ok(super::super::html(
        status,
        page.render("pages/admin/suppressions")?,
    ))
}

async fn list(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    render(&state, &signed_in, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct LiftForm {
    csrf_token: String,
    email: String,
}

async fn lift(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<LiftForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let email = form.into_inner().email;
    let lifted = blocking(&state, move |conn| match suppressions::lift(conn, &email) {
        Ok(address) => Ok(Ok(address)),
        Err(LiftError::Db(error)) => Err(AppError::from(error)),
        Err(refused) => Ok(Err(refused.to_string())),
    })
    .await?;
    match lifted {
        Ok(address) => {
            let notice = format!(
                "{address} is no longer blocked: the next wave invites it, and a resend reaches it."
            );
            render(&state, &signed_in, StatusCode::OK, Some(notice), None).await
        }
        Err(message) => {
            render(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
            )
            .await
        }
    }
}
