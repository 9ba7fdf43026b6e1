//! Survey definitions (admins and leads may read them):
//!
//! * `GET /admin/surveys` — every pinned version (slug, version, content hash, languages,
//!   question count, the waves that use it) and, read from the definitions folder at request
//!   time, each file's state: loaded, new (loaded at the next start or `pulse survey load`),
//!   changed without a version bump, or invalid (with every error).
//! * `GET /admin/surveys/{slug}/preview?version=N|folder&lang=de` — the form exactly as a
//!   respondent sees it: the same view-model ([`survey_form::form_page`]), template and
//!   respondent layout, plus a "Preview — answers are not stored" banner. Without `version`
//!   the newest pinned version; `version=folder` is the file in the definitions folder as it
//!   is now, so editing a definition and reloading the page shows the change.
//! * `POST` to the same address validates the answers like a real submit and shows the
//!   messages (422) or says they are valid — it never stores anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::definitions;
use crate::domain::answers;
use crate::domain::definition::SurveyDefinition;
use crate::error::AppError;
use crate::services::surveys::{self, PinStatus};
use crate::startup::AppState;
use crate::views::{render_html, survey_form, Page};

use super::super::waves::blocking;

/// The threshold the preview's anonymity promise names: the default of a new wave.
const PREVIEW_ANONYMITY_K: i32 = 5;
/// As for the respondent form.
const BODY_LIMIT: usize = 128 * 1024;
/// `?version=folder`: the file in the definitions folder.
const FOLDER: &str = "folder";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/surveys", web::get().to(list)).service(
        web::resource("/admin/surveys/{slug}/preview")
            .app_data(super::super::form_config().limit(BODY_LIMIT))
            .route(web::get().to(preview))
            .route(web::post().to(check)),
    );
}

fn preview_href(slug: &str, version: &str, lang: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("version", version);
    if let Some(lang) = lang {
        query.append_pair("lang", lang);
    }
    let slug: String = url::form_urlencoded::byte_serialize(slug.as_bytes()).collect();
    format!("/admin/surveys/{slug}/preview?{}", query.finish())
}

fn summary(definition: &SurveyDefinition) -> serde_json::Value {
    json!({
        "languages": definition.languages().join(", "),
        "questions": definition.questions.len(),
    })
}

async fn list(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let dir = state.settings.definitions_dir.clone();
    let (pinned, waves, folder) = blocking(&state, move |conn| {
        let pinned = surveys::list_pinned(conn)?;
        let waves = crate::services::waves::list_with_surveys(conn)?;
        let loaded = definitions::load_configured(&dir)?;
        let mut files = Vec::new();
        for definition in &loaded.definitions {
            let status = surveys::pin_status(conn, definition)?;
            files.push((definition.clone(), status));
        }
        Ok((pinned, waves, (loaded.source, files, loaded.errors)))
    })
    .await?;

    let mut by_slug: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for survey in pinned.iter().rev() {
        let using: Vec<serde_json::Value> = waves
            .iter()
            .filter(|(wave, _, _)| wave.survey_version_id == survey.id)
            .map(|(wave, _, _)| json!({ "id": wave.id, "title": wave.title, "state": wave.state }))
            .collect();
        titles
            .entry(survey.slug.clone())
            .or_insert_with(|| survey.title.clone());
        by_slug.entry(survey.slug.clone()).or_default().push(json!({
            "version": survey.version,
            "hash": surveys::short_hash(&survey.content_hash),
            "loaded_at": survey.loaded_at.format("%Y-%m-%d %H:%M").to_string(),
            "summary": summary(&survey.definition),
            "waves": using,
            "preview_href": preview_href(&survey.slug, &survey.version.to_string(), None),
        }));
    }
    let surveys: Vec<serde_json::Value> = by_slug
        .into_iter()
        .map(|(slug, versions)| json!({ "slug": slug, "title": titles.get(&slug), "versions": versions }))
        .collect();

    let (source, files, errors) = folder;
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|(definition, status)| {
            let state = match status {
                PinStatus::Loaded => "loaded".to_string(),
                PinStatus::NotLoaded => {
                    "new: loaded at the next start of pulse serve (or pulse survey load)"
                        .to_string()
                }
                PinStatus::ChangedWithoutBump { .. } | PinStatus::OlderThanLatest { .. } => status
                    .refusal(definition)
                    .unwrap_or_else(|| "cannot be loaded".into()),
            };
            json!({
                "file": definition.file(),
                "slug": definition.slug(),
                "version": definition.version(),
                "state": state,
                "ok": matches!(status, PinStatus::Loaded | PinStatus::NotLoaded),
                "summary": summary(definition.definition()),
                "preview_href": preview_href(definition.slug(), FOLDER, None),
            })
        })
        .collect();
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let page = Page::signed_in(
        "Surveys",
        &signed_in,
        json!({ "surveys": surveys, "folder": { "source": source.to_string(), "files": files, "errors": errors } }),
    );
    Ok(super::super::html(
        StatusCode::OK,
        page.render("pages/admin/surveys")?,
    ))
}

#[derive(Deserialize)]
struct PreviewQuery {
    version: Option<String>,
    lang: Option<String>,
}

/// The definition to preview and a line saying which one it is.
async fn find_definition(
    state: &AppState,
    slug: String,
    version: Option<String>,
) -> Result<(Arc<SurveyDefinition>, String, String), AppError> {
    let dir = state.settings.definitions_dir.clone();
    blocking(state, move |conn| match version.as_deref() {
        Some(FOLDER) => {
            let loaded = definitions::load_configured(&dir)?;
            let found = loaded
                .definitions
                .into_iter()
                .find(|d| d.slug() == slug)
                .ok_or(AppError::NotFound)?;
            let label = format!(
                "{} version {} as it is now in {} (not necessarily loaded yet).",
                found.slug(),
                found.version(),
                found.file()
            );
            Ok((
                Arc::new(found.definition().clone()),
                FOLDER.to_string(),
                label,
            ))
        }
        Some(number) => {
            let number: i32 = number.parse().map_err(|_| AppError::NotFound)?;
            let pinned = surveys::find_pinned(conn, &slug, number)?.ok_or(AppError::NotFound)?;
            let label = format!(
                "{} version {} ({}), as loaded.",
                pinned.slug,
                pinned.version,
                surveys::short_hash(&pinned.content_hash)
            );
            Ok((
                Arc::new(pinned.definition),
                pinned.version.to_string(),
                label,
            ))
        }
        None => {
            let latest = surveys::latest_pinned(conn)?
                .into_iter()
                .find(|p| p.slug == slug)
                .ok_or(AppError::NotFound)?;
            let label = format!(
                "{} version {} ({}), the newest loaded.",
                latest.slug,
                latest.version,
                surveys::short_hash(&latest.content_hash)
            );
            Ok((
                Arc::new(latest.definition),
                latest.version.to_string(),
                label,
            ))
        }
    })
    .await
}

#[allow(clippy::too_many_arguments)]
fn render_preview(
    signed_in: &SignedIn,
    definition: &SurveyDefinition,
    version: &str,
    label: &str,
    lang: Option<&str>,
    submitted: &[(String, String)],
    errors: &BTreeMap<String, String>,
    valid: bool,
) -> Result<HttpResponse, AppError> {
    let language = definition.best_language(lang).to_string();
    let action = preview_href(&definition.slug, version, Some(&language));
    let mut context = survey_form::form_page(
        definition,
        Some(&language),
        submitted,
        errors,
        &action,
        PREVIEW_ANONYMITY_K,
        crate::domain::answers::Required::AsDefined,
    );
    let languages: Vec<serde_json::Value> = definition
        .languages()
        .into_iter()
        .map(|code| {
            json!({
                "code": code,
                "current": code == language,
                "href": preview_href(&definition.slug, version, Some(code)),
            })
        })
        .collect();
    context["preview"] = json!({ "label": label, "valid": valid, "languages": languages });
    context["hidden"] = json!([{ "name": "csrf_token", "value": signed_in.csrf_token }]);
    let body = render_html(survey_form::FORM_TEMPLATE, &context).map_err(AppError::unexpected)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(super::super::html(status, body))
}

async fn preview(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let (definition, version, label) =
        find_definition(&state, slug.into_inner(), query.version).await?;
    render_preview(
        &signed_in,
        &definition,
        &version,
        &label,
        query.lang.as_deref(),
        &[],
        &BTreeMap::new(),
        false,
    )
}

async fn check(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
    query: web::Query<PreviewQuery>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let submitted = form.into_inner();
    let csrf = submitted
        .iter()
        .find(|(name, _)| name == "csrf_token")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    signed_in.verify_csrf(csrf)?;
    let query = query.into_inner();
    let (definition, version, label) =
        find_definition(&state, slug.into_inner(), query.version).await?;
    let language = definition.best_language(query.lang.as_deref()).to_string();
    let (errors, valid) = match answers::parse(&definition, &submitted) {
        Ok(_) => (BTreeMap::new(), true),
        Err(errors) => (errors.messages_for(&definition, Some(&language)), false),
    };
    render_preview(
        &signed_in,
        &definition,
        &version,
        &label,
        Some(&language),
        &submitted,
        &errors,
        valid,
    )
}
