//! Accounts (admins only): `GET /admin/users` lists them with a form to add one;
//! `POST /admin/users` adds one (a message per wrong field, 422; an empty password gets a
//! generated one, shown once); `POST /admin/users/{id}/role` and `/admin/users/{id}/active`
//! change the role or deactivate/reactivate; `POST /admin/users/{id}/units` sets the
//! business units a viewer may see. Nobody can demote or deactivate their own
//! account, and the last active admin stays (409 with the reason).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::domain::wave::FieldError;
use crate::domain::Role;
use crate::error::AppError;
use crate::services::accounts::{self, AccountError, NewAccountInput, NEW_ACCOUNT_FIELDS};
use crate::startup::AppState;
use crate::views::Page;

use super::super::waves::{blocking, field_errors};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(list))
        .route("/admin/users", web::post().to(create))
        .route("/admin/users/{id}/role", web::post().to(set_role))
        .route("/admin/users/{id}/active", web::post().to(set_active))
        .route("/admin/users/{id}/units", web::post().to(set_units));
}

fn account_error(error: AccountError) -> AppError {
    match error {
        AccountError::NotFound => AppError::NotFound,
        AccountError::Invalid(errors) => {
            AppError::BadRequest(crate::domain::wave::describe(&errors))
        }
        AccountError::Refused(message) => AppError::BadRequest(message),
        AccountError::Unexpected(e) => AppError::Unexpected(e),
    }
}

/// What the page shows besides the list.
#[derive(Default)]
struct Extras {
    form: NewAccountInput,
    errors: Vec<FieldError>,
    /// A refused change, shown at the top.
    alert: Option<String>,
    /// A generated password for a new account, shown once.
    created: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    extras: Extras,
) -> Result<HttpResponse, AppError> {
    let (rows, scopes) = blocking(state, |conn| Ok(accounts::list_with_scopes(conn)?)).await?;
    let me = signed_in.user.id.clone();
    let accounts: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|u| {
            let is_self = u.id == me;
            json!({
                "id": u.id,
                "email": u.email,
                "role": u.role,
                "is_admin": u.role == "admin",
                "is_viewer": u.role == "viewer",
                "units": scopes.iter().filter(|(id, _)| *id == u.id).map(|(_, unit)| unit.as_str()).collect::<Vec<_>>().join("\n"),
                "units_text": scopes.iter().filter(|(id, _)| *id == u.id).map(|(_, unit)| unit.as_str()).collect::<Vec<_>>().join(", "),
                "active": u.active,
                "is_self": is_self,
                "created_at": u.created_at.format("%Y-%m-%d").to_string(),
            })
        })
        .collect();
    let form = if extras.form.role.is_empty() {
        NewAccountInput {
            role: "lead".into(),
            ..extras.form
        }
    } else {
        extras.form
    };
    let page = Page::signed_in(
        "Users",
        signed_in,
        json!({
            "accounts": accounts,
            "form": { "email": form.email, "units": form.units, "role_admin": form.role == "admin", "role_lead": form.role == "lead", "role_viewer": form.role == "viewer" },
            "errors": field_errors(NEW_ACCOUNT_FIELDS, &extras.errors),
            "has_errors": !extras.errors.is_empty(),
            "alert": extras.alert,
            "created": extras.created.map(|(email, password)| json!({ "email": email, "password": password })),
        }),
    );
    Ok(super::super::html(
        status,
        page.render("pages/admin/users")?,
    ))
}

async fn list(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    render(&state, &signed_in, StatusCode::OK, Extras::default()).await
}

#[derive(Deserialize)]
struct NewAccountForm {
    csrf_token: String,
    #[serde(flatten)]
    input: NewAccountInput,
}

async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<NewAccountForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let input = form.into_inner().input;
    let attempt = input.clone();
    let now = state.clock.now();
    let outcome = blocking(&state, move |conn| {
        match accounts::create_account(conn, &attempt, now) {
            Ok(created) => Ok(Ok(created)),
            Err(AccountError::Invalid(errors)) => Ok(Err(errors)),
            Err(other) => Err(account_error(other)),
        }
    })
    .await?;
    match outcome {
        Ok(created) => {
            tracing::info!(role = %created.role, user = %crate::telemetry::mask_email(&created.email), "account created from the web");
            match created.generated_password {
                // Shown on this response only: it is stored as a hash.
                Some(password) => {
                    let extras = Extras {
                        created: Some((created.email, password)),
                        ..Extras::default()
                    };
                    render(&state, &signed_in, StatusCode::OK, extras).await
                }
                None => Ok(super::super::see_other("/admin/users")),
            }
        }
        Err(errors) => {
            let extras = Extras {
                form: NewAccountInput {
                    // The typed password is never sent back.
                    password: String::new(),
                    ..input
                },
                errors,
                ..Extras::default()
            };
            render(&state, &signed_in, StatusCode::UNPROCESSABLE_ENTITY, extras).await
        }
    }
}

#[derive(Deserialize)]
struct RoleForm {
    csrf_token: String,
    role: String,
}

#[derive(Deserialize)]
struct ActiveForm {
    csrf_token: String,
    active: String,
}

/// Runs a change; a refusal re-renders the list with the reason (409).
async fn change(
    state: &AppState,
    signed_in: &SignedIn,
    done: String,
    f: impl FnOnce(&mut crate::db::DbConn) -> Result<(), AccountError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    let outcome = blocking(state, move |conn| match f(conn) {
        Ok(()) => Ok(None),
        Err(AccountError::Refused(message)) => Ok(Some(message)),
        Err(other) => Err(account_error(other)),
    })
    .await?;
    match outcome {
        None => Ok(super::super::flash::see_other_with(
            "/admin/users",
            &done,
            state.settings.secure_cookies(),
        )),
        Some(message) => {
            let extras = Extras {
                alert: Some(message),
                ..Extras::default()
            };
            render(state, signed_in, StatusCode::CONFLICT, extras).await
        }
    }
}

async fn set_role(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let role: Role = form.role.parse().map_err(AppError::BadRequest)?;
    let actor = signed_in.user.id.clone();
    let target = id.into_inner();
    let done = format!("The role is now {}.", role.as_str());
    change(&state, &signed_in, done, move |conn| {
        accounts::change_role(conn, &actor, &target, role)
    })
    .await
}

async fn set_active(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("active must be true or false".into())),
    };
    let actor = signed_in.user.id.clone();
    let target = id.into_inner();
    let done = if active {
        "The account is active again: it can sign in."
    } else {
        "The account is deactivated: it can no longer sign in, and its sessions have ended."
    }
    .to_string();
    change(&state, &signed_in, done, move |conn| {
        accounts::change_active(conn, &actor, &target, active)
    })
    .await
}

#[derive(Deserialize)]
struct UnitsForm {
    csrf_token: String,
    /// One business unit per line.
    units: String,
}

/// Sets a viewer's business units (refused, 409, for an unknown unit or a non-viewer).
async fn set_units(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<UnitsForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let units: Vec<String> = form
        .units
        .lines()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    let target = id.into_inner();
    let done = format!("The viewer now sees {}.", units.join(", "));
    change(&state, &signed_in, done, move |conn| {
        accounts::set_viewer_units(conn, &target, &units)
    })
    .await
}
