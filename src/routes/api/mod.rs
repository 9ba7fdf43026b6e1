//! The request API, versioned under `/api/v1/`, for the organisation's purchasing system:
//! `POST /api/v1/requests` creates or updates one request (idempotent by request id: the
//! same request sent again changes nothing), `GET /api/v1/requests/{id}` shows what is
//! stored. Every call carries `Authorization: Bearer KEY` (an API key an admin created),
//! is counted against the key's rate limit, and every answer is JSON — errors too, with the
//! field and the reason ([`error::ApiError`]); nothing is stored on any error.

mod error;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

pub use error::ApiError;

use crate::auth::api_keys::{self, Refusal};
use crate::db::models::api_keys::ApiKeyRow;
use crate::requests::json::{parse_request, Problem};
use crate::requests::{self, Checked, RowOutcome};
use crate::startup::AppState;
use crate::views::api::RequestJson;

/// The largest body accepted: one request is well under 1 KiB.
pub const MAX_BODY: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/requests")
            .route(web::post().to(post_request))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::method_not_allowed("POST"))
            })),
    )
    .service(
        web::resource("/api/v1/requests/{id}")
            .route(web::get().to(get_request))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::method_not_allowed("GET"))
            })),
    );
}

/// The answer to an address under `/api/` that does not exist (`routes::configure`'s
/// default service).
pub fn not_found() -> ApiError {
    ApiError::not_found(
        None,
        "there is no such API address: the request API is POST /api/v1/requests and GET /api/v1/requests/{request_id}",
    )
}

/// The key of `Authorization: Bearer KEY`, or 401.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            Ok(key.trim().to_string())
        }
        _ => Err(ApiError::unauthorized(
            "missing_key",
            "send an API key as Authorization: Bearer KEY (an admin creates keys on the API keys page or with `pulse api-key create`)",
        )),
    }
}

/// The key behind the request, checked (known, not revoked) and counted against its rate
/// limit.
async fn authorised(state: &web::Data<AppState>, req: &HttpRequest) -> Result<ApiKeyRow, ApiError> {
    let presented = bearer(req)?;
    let pool = state.pool.clone();
    let now = state.clock.now();
    let checked = web::block(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        api_keys::authenticate(&mut conn, &presented, now)
    })
    .await??;
    let key = match checked {
        Ok(key) => key,
        Err(Refusal::Unknown) => {
            return Err(ApiError::unauthorized(
                "unknown_key",
                "this API key is not known here: check that it was copied whole",
            ))
        }
        Err(Refusal::Revoked) => {
            return Err(ApiError::unauthorized(
                "revoked_key",
                "this API key has been revoked: ask an admin for a new one",
            ))
        }
    };
    state
        .api_limiter
        .check(&key.id)
        .map_err(ApiError::rate_limited)?;
    Ok(key)
}

/// The body, if it is JSON and not larger than [`MAX_BODY`].
async fn json_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<serde_json::Value, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::general(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "the body must be JSON with Content-Type: application/json (this one is {})",
                if essence.is_empty() {
                    "not given"
                } else {
                    essence
                }
            ),
        ));
    }
    let too_large = || {
        ApiError::general(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the body is larger than {} KiB: send one request per call",
                MAX_BODY / 1024
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::general(
                StatusCode::BAD_REQUEST,
                "incomplete_body",
                format!("the body could not be read whole ({e}): send it again"),
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::general(
            StatusCode::BAD_REQUEST,
            "empty_body",
            "the body is empty: send the request as one JSON object",
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::general(
            StatusCode::BAD_REQUEST,
            "not_json",
            format!("the body is not valid JSON ({e}): send the request as one JSON object"),
        )
    })
}

/// `POST /api/v1/requests`: 201 with the request when it is new; 200 with
/// `"outcome": "updated"` or `"unchanged"` when it was stored already.
async fn post_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    authorised(&state, &req).await?;
    let body = json_body(&req, payload).await?;
    let record = parse_request(&body)
        .map_err(|problems| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, problems))?;
    // Read first: a request stored exactly so is answered without a write; the others go
    // to the group-commit writer, which checks them again inside its transaction.
    let pool = state.pool.clone();
    let to_check = record.clone();
    let checked = web::block(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        requests::check_one(&mut conn, &to_check)
    })
    .await??;
    let written = match checked {
        Checked::Refused(unknown) => Err(unknown),
        Checked::Unchanged(found) => Ok(found),
        Checked::ToWrite => state.request_writer.write(record).await?,
    }
    .map_err(|unknown| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Problem::new(
                Some("business_unit"),
                "unknown_business_unit",
                unknown.0,
            )],
        )
    })?;
    let status = match written.outcome {
        RowOutcome::Created => StatusCode::CREATED,
        RowOutcome::Updated | RowOutcome::Unchanged => StatusCode::OK,
    };
    let outcome = match written.outcome {
        RowOutcome::Created => "created",
        RowOutcome::Updated => "updated",
        RowOutcome::Unchanged => "unchanged",
    };
    let mut response = HttpResponse::build(status);
    if written.outcome == RowOutcome::Created {
        response.insert_header((
            header::LOCATION,
            format!("/api/v1/requests/{}", encode(&written.stored.id)),
        ));
    }
    Ok(response.json(json!({
        "outcome": outcome,
        "request": RequestJson::new(&written.stored, written.written_at),
    })))
}

/// `GET /api/v1/requests/{id}`: the request as stored, or 404. Reads only.
async fn get_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorised(&state, &req).await?;
    let id = id.into_inner();
    let pool = state.pool.clone();
    let wanted = id.clone();
    let found = web::block(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        requests::stored_request(&mut conn, &wanted)
    })
    .await??;
    match found {
        Some((stored, written_at)) => Ok(HttpResponse::Ok().json(json!({
            "request": RequestJson::new(&stored, written_at),
        }))),
        None => Err(ApiError::not_found(
            Some("request_id"),
            format!("no request '{id}' is stored"),
        )),
    }
}

/// A request id as one path segment.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
