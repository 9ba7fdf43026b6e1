//! API keys (admins only): `GET /admin/api-keys` lists them (name, prefix, created, last
//! used, state) with a form to create one; `POST /admin/api-keys` creates one and shows the
//! key on that response only (it is stored as a hash); `GET /admin/api-keys/{id}/revoke`
//! asks for confirmation and `POST` revokes — the key is refused from then on.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::api_keys::{self, ApiKeyError};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::api::KeyRow;
use crate::views::Page;

use super::super::waves::blocking;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/api-keys", web::get().to(list))
        .route("/admin/api-keys", web::post().to(create))
        .route("/admin/api-keys/{id}/revoke", web::get().to(confirm_revoke))
        .route("/admin/api-keys/{id}/revoke", web::post().to(revoke));
}

fn key_error(error: ApiKeyError) -> AppError {
    match error {
        ApiKeyError::NotFound(_) => AppError::NotFound,
        ApiKeyError::Invalid(message) | ApiKeyError::Ambiguous(message) => {
            AppError::BadRequest(message)
        }
        ApiKeyError::Unexpected(e) => AppError::Unexpected(e),
    }
}

/// What the page shows besides the list.
#[derive(Default)]
struct Extras {
    name: String,
    error: Option<String>,
    /// The key just created (name, key): shown once.
    created: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    extras: Extras,
) -> Result<HttpResponse, AppError> {
    let rows = blocking(state, |conn| api_keys::list(conn).map_err(key_error)).await?;
    let tz = state.settings.time_zone;
    let keys: Vec<KeyRow> = rows.iter().map(|r| KeyRow::new(r, tz)).collect();
    let page = Page::signed_in(
        "API keys",
        signed_in,
        json!({
            "keys": keys,
            "has_keys": !keys.is_empty(),
            "name": extras.name,
            "error": extras.error,
            "created": extras.created.map(|(name, key)| json!({ "name": name, "key": key })),
        }),
    );
    Ok(super::super::html(
        status,
        page.render("pages/admin/api_keys")?,
    ))
}

async fn list(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    render(&state, &signed_in, StatusCode::OK, Extras::default()).await
}

#[derive(Deserialize)]
struct NewKeyForm {
    csrf_token: String,
    name: String,
}

async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<NewKeyForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let name = form.into_inner().name;
    let attempt = name.clone();
    let by = signed_in.user.email.clone();
    let now = state.clock.now();
    let outcome = blocking(&state, move |conn| {
        match api_keys::create(conn, &attempt, &by, now) {
            Ok(created) => Ok(Ok(created)),
            Err(ApiKeyError::Invalid(message)) => Ok(Err(message)),
            Err(other) => Err(key_error(other)),
        }
    })
    .await?;
    match outcome {
        Ok(created) => {
            tracing::info!(key = %created.row.prefix, name = %created.row.name, "API key created from the web");
            let extras = Extras {
                created: Some((created.row.name, created.key)),
                ..Extras::default()
            };
            render(&state, &signed_in, StatusCode::OK, extras).await
        }
        Err(message) => {
            let extras = Extras {
                name,
                error: Some(message),
                ..Extras::default()
            };
            render(&state, &signed_in, StatusCode::UNPROCESSABLE_ENTITY, extras).await
        }
    }
}

async fn confirm_revoke(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let id = id.into_inner();
    let row = blocking(&state, move |conn| {
        crate::db::models::api_keys::find(conn, &id)?.ok_or(AppError::NotFound)
    })
    .await?;
    let key = KeyRow::new(&row, state.settings.time_zone);
    let page = Page::signed_in("Revoke an API key", &signed_in, json!({ "key": key }));
    Ok(super::super::html(
        StatusCode::OK,
        page.render("pages/admin/api_key_revoke")?,
    ))
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf_token: String,
}

async fn revoke(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let id = id.into_inner();
    let now = state.clock.now();
    let (row, changed) = blocking(&state, move |conn| {
        if crate::db::models::api_keys::find(conn, &id)?.is_none() {
            return Err(AppError::NotFound);
        }
        api_keys::revoke(conn, &id, now).map_err(key_error)
    })
    .await?;
    tracing::info!(key = %row.prefix, "API key revoked from the web");
    let done = if changed {
        format!(
            "The key “{}” ({}…) is revoked: calls with it are refused from now on.",
            row.name, row.prefix
        )
    } else {
        format!("The key “{}” was revoked already.", row.name)
    };
    Ok(super::super::flash::see_other_with(
        "/admin/api-keys",
        &done,
        state.settings.secure_cookies(),
    ))
}
