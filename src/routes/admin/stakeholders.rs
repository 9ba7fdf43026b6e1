//! The stakeholder directory (admins only):
//!
//! * `GET /admin/stakeholders?q=&filter=&state=&a.ATTRIBUTE=&page=` — search by email or
//!   name, filter by attributes (the audience syntax, `business_unit=R&D;region=EMEA`, and/or
//!   one select per attribute), active/inactive/all, 50 per page.
//! * `GET /admin/stakeholders/import` — the upload form (a file, or pasted text).
//! * `POST /admin/stakeholders/import` (multipart) — parses with the same parser as
//!   `pulse stakeholders import` and shows either *every* problem of the file or a preview:
//!   the counts and the first rows as they will be stored, with a warning for each value
//!   that is new to a short list (a region "EMEA" among DACH, Americas, APAC). Problems come
//!   back on the form, with pasted text kept. Nothing is written.
//! * `GET /admin/stakeholders/import/sample.csv` — a sample file to start from.
//! * `POST /admin/stakeholders/import/confirm` — imports the previewed file, all or nothing,
//!   then the directory with a message saying what changed.
//!   The file travels in the confirmation form, sealed (see
//!   [`crate::services::stakeholders::sealed`] for why and how).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::SignedIn;
use crate::domain::audience::AudienceFilter;
use crate::domain::stakeholder::AttributeName;
use crate::error::AppError;
use crate::services::stakeholders::directory::{self, DirectoryQuery, StateFilter};
use crate::services::stakeholders::import_checks;
use crate::services::stakeholders::sealed::{self, Purpose, SealedImport};
use crate::services::stakeholders::{self as service, parse_csv, ParsedImport};
use crate::startup::AppState;
use crate::views::Page;

use super::super::waves::blocking;
use super::upload::{read_upload, CONFIRM_LIMIT, MAX_UPLOAD_BYTES};

/// Query parameter prefix of the per-attribute selects: `a.business_unit=R%26D`.
const ATTRIBUTE_PARAM: &str = "a.";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/stakeholders", web::get().to(list))
        .route("/admin/stakeholders/import", web::get().to(import_form))
        .route("/admin/stakeholders/import", web::post().to(preview))
        .route(
            "/admin/stakeholders/import/sample.csv",
            web::get().to(sample_csv),
        )
        .service(
            web::resource("/admin/stakeholders/import/confirm")
                .app_data(super::super::form_config().limit(CONFIRM_LIMIT))
                .route(web::post().to(confirm)),
        );
}

/// The search as typed, kept to fill the form and the page links again.
#[derive(Debug, Default)]
struct SearchParams {
    q: String,
    filter: String,
    state: StateFilter,
    page: usize,
    /// `(attribute, value)` of the selects that have a value.
    selects: Vec<(String, String)>,
}

impl SearchParams {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut params = SearchParams {
            page: 1,
            ..Default::default()
        };
        for (name, value) in pairs {
            match name.as_str() {
                "q" => params.q = value,
                "filter" => params.filter = value,
                "state" => {
                    params.state = match value.as_str() {
                        "inactive" => StateFilter::Inactive,
                        "all" => StateFilter::All,
                        _ => StateFilter::Active,
                    }
                }
                "page" => params.page = value.trim().parse().unwrap_or(1),
                other => {
                    if let Some(attribute) = other.strip_prefix(ATTRIBUTE_PARAM) {
                        if !value.trim().is_empty() {
                            params.selects.push((attribute.to_string(), value));
                        }
                    }
                }
            }
        }
        params
    }

    /// The typed filter and every select, as one filter.
    fn audience(&self) -> Result<AudienceFilter, String> {
        let mut filter = AudienceFilter::parse(&self.filter).map_err(|e| e.to_string())?;
        for (attribute, value) in &self.selects {
            let name = AttributeName::parse(attribute)?;
            let condition =
                AudienceFilter::condition(name, [value.as_str()]).map_err(|e| e.to_string())?;
            filter = filter.and(condition).map_err(|e| e.to_string())?;
        }
        Ok(filter)
    }

    /// The query string of this search on another page.
    fn href(&self, page: usize) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if !self.filter.is_empty() {
            query.append_pair("filter", &self.filter);
        }
        match self.state {
            StateFilter::Active => {}
            StateFilter::Inactive => {
                query.append_pair("state", "inactive");
            }
            StateFilter::All => {
                query.append_pair("state", "all");
            }
        }
        for (attribute, value) in &self.selects {
            query.append_pair(&format!("{ATTRIBUTE_PARAM}{attribute}"), value);
        }
        query.append_pair("page", &page.to_string());
        format!("/admin/stakeholders?{}", query.finish())
    }
}

async fn list(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let params = SearchParams::from_pairs(query.into_inner());
    let (filter, filter_error) = match params.audience() {
        Ok(filter) => (filter, None),
        Err(message) => (AudienceFilter::everyone(), Some(message)),
    };
    let search = DirectoryQuery {
        text: params.q.clone(),
        filter,
        state: params.state,
        page: params.page,
    };
    let cache = state.directory_cache.clone();
    let result = blocking(&state, move |conn| {
        Ok(directory::search_with(conn, &search, &cache)?)
    })
    .await?;

    let attributes: Vec<serde_json::Value> = result
        .attributes
        .iter()
        .map(|choice| {
            let chosen = params
                .selects
                .iter()
                .find(|(a, _)| a == &choice.name)
                .map(|(_, v)| v.as_str());
            json!({
                "name": choice.name,
                "label": crate::domain::labels::attribute_label(&choice.name, "en"),
                "param": format!("{ATTRIBUTE_PARAM}{}", choice.name),
                "id": format!("attr-{}", choice.name),
                // Many values: a text field with the most common ones as suggestions.
                "many": choice.many(),
                "distinct": choice.distinct,
                "chosen": chosen,
                "options": choice.values.iter().map(|v| json!({ "value": v, "selected": Some(v.as_str()) == chosen })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let status = if filter_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = Page::signed_in(
        "Stakeholders",
        &signed_in,
        json!({
            "search": {
                "q": params.q, "filter": params.filter,
                "state_active": params.state == StateFilter::Active,
                "state_inactive": params.state == StateFilter::Inactive,
                "state_all": params.state == StateFilter::All,
            },
            "filter_error": filter_error,
            "show_results": filter_error.is_none(),
            "attributes": attributes,
            "result": result,
            "prev_href": (result.page > 1).then(|| params.href(result.page - 1)),
            "next_href": (result.page < result.pages).then(|| params.href(result.page + 1)),
        }),
    );
    Ok(super::super::html(
        status,
        page.render("pages/admin/stakeholders")?,
    ))
}

async fn import_form(signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    render_import_form(&signed_in, StatusCode::OK, ImportFormState::default())
}

/// A sample file to start from: the columns Pulse knows, a few made-up people.
const SAMPLE_CSV: &str = "email,name,language,business_unit,department,region\n\
anna.berg@example.com,Anna Berg,de,Manufacturing,Plant maintenance,DACH\n\
james.okafor@example.com,James Okafor,en,R&D,Electronics,EMEA\n\
maria.silva@example.com,Maria Silva,pt-BR,Sales,Key accounts,Americas\n\
li.wei@example.com,Li Wei,en,Finance,Controlling,APAC\n";

async fn sample_csv(signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"stakeholders-sample.csv\"",
        ))
        .body(SAMPLE_CSV))
}

/// What the import form shows besides its fields: a message, or the problems of the last
/// attempt with the pasted text kept.
#[derive(Default)]
struct ImportFormState<'a> {
    error: Option<&'a str>,
    source: Option<&'a str>,
    problems: Vec<String>,
    csv_text: String,
    deactivate_missing: bool,
}

fn render_import_form(
    signed_in: &SignedIn,
    status: StatusCode,
    form: ImportFormState<'_>,
) -> Result<HttpResponse, AppError> {
    let title = if form.problems.is_empty() {
        "Import stakeholders"
    } else {
        "Import problems"
    };
    let page = Page::signed_in(
        title,
        signed_in,
        json!({
            "error": form.error, "max_megabytes": MAX_UPLOAD_BYTES / (1024 * 1024),
            "source": form.source, "problems": form.problems, "count": form.problems.len(),
            "csv_text": form.csv_text, "deactivate_missing": form.deactivate_missing,
        }),
    );
    Ok(super::super::html(
        status,
        page.render("pages/admin/stakeholders_import")?,
    ))
}

async fn preview(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let upload = read_upload(multipart, "pulse stakeholders import").await?;
    signed_in.verify_csrf(&upload.csrf_token)?;
    let deactivate_missing = upload.checked("deactivate_missing");
    let pasted = upload.text.clone();
    let Some((bytes, source)) = upload.content() else {
        let form = ImportFormState {
            error: Some("Choose a CSV file, or paste its text."),
            deactivate_missing,
            ..Default::default()
        };
        return render_import_form(&signed_in, StatusCode::UNPROCESSABLE_ENTITY, form);
    };
    let parsed = match parse_csv(&bytes) {
        Ok(parsed) => parsed,
        Err(problems) => {
            // The form again, with every problem and the pasted text as it was.
            let form = ImportFormState {
                source: Some(&source),
                problems: problems.iter().map(ToString::to_string).collect(),
                csv_text: pasted,
                deactivate_missing,
                ..Default::default()
            };
            return render_import_form(&signed_in, StatusCode::UNPROCESSABLE_ENTITY, form);
        }
    };
    let planned = parsed.clone();
    let (plan, new_values) = blocking(&state, move |conn| {
        let existing = import_checks::directory_values(conn)?;
        Ok((
            service::plan_import(conn, &planned, deactivate_missing)?,
            import_checks::new_values(&existing, &planned),
        ))
    })
    .await?;
    let sealed = sealed::seal(
        &state.settings.secret_key,
        Purpose::Stakeholders,
        signed_in.session_token(),
        &bytes,
        deactivate_missing,
        state.clock.now(),
    );
    let page = Page::signed_in(
        "Import preview",
        &signed_in,
        json!({
            "source": source,
            "summary": summary(&parsed),
            "counts": plan.counts,
            "deactivate_missing": deactivate_missing,
            "rows": labelled(plan.preview()),
            "more_rows": parsed.len().saturating_sub(plan.preview().len()),
            "new_values": new_values,
            "sealed": sealed,
        }),
    );
    Ok(super::super::html(
        StatusCode::OK,
        page.render("pages/admin/stakeholders_preview")?,
    ))
}

/// The preview rows with attribute names as people read them ("Business unit").
fn labelled(rows: &[service::PreviewRow]) -> serde_json::Value {
    let mut value = json!(rows);
    if let Some(rows) = value.as_array_mut() {
        for row in rows {
            if let Some(pairs) = row["attributes"].as_array_mut() {
                for pair in pairs {
                    if let Some(name) = pair[0].as_str() {
                        pair[0] = json!(crate::domain::labels::attribute_label(name, "en"));
                    }
                }
            }
        }
    }
    value
}

/// Rows, columns and delimiter of a parsed file, for the preview page.
fn summary(parsed: &ParsedImport) -> serde_json::Value {
    let columns = parsed.columns();
    let mut names = vec!["email".to_string()];
    if columns.name {
        names.push("name".into());
    }
    if columns.language {
        names.push("language".into());
    }
    names.extend(columns.attributes.iter().map(|a| a.as_str().to_string()));
    let delimiter = match parsed.delimiter() {
        '\t' => "tab".to_string(),
        other => format!("'{other}'"),
    };
    json!({ "rows": parsed.len(), "columns": names, "delimiter": delimiter })
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf_token: String,
    content: String,
    issued_at: i64,
    #[serde(default)]
    deactivate_missing: bool,
    seal: String,
}

async fn confirm(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let form = form.into_inner();
    let sealed_import = SealedImport {
        content: form.content,
        issued_at: form.issued_at,
        option: form.deactivate_missing,
        seal: form.seal,
    };
    let bytes = sealed::open(
        &state.settings.secret_key,
        Purpose::Stakeholders,
        signed_in.session_token(),
        &sealed_import,
        state.clock.now(),
    )
    .map_err(|e| AppError::BadRequest(format!("Nothing was imported: {e}.")))?;
    let parsed = match parse_csv(&bytes) {
        Ok(parsed) => parsed,
        Err(problems) => {
            let form = ImportFormState {
                source: Some("the file"),
                problems: problems.iter().map(ToString::to_string).collect(),
                ..Default::default()
            };
            return render_import_form(&signed_in, StatusCode::UNPROCESSABLE_ENTITY, form);
        }
    };
    let deactivate_missing = sealed_import.option;
    let now = state.clock.now();
    let report = blocking(&state, move |conn| {
        Ok(service::apply_import(
            conn,
            &parsed,
            deactivate_missing,
            now,
        )?)
    })
    .await?;
    tracing::info!(counts = %report.counts, admin = %crate::telemetry::mask_email(&signed_in.user.email), "stakeholders imported from the web");
    let c = &report.counts;
    let message = format!(
        "Import done: created {}, updated {}, unchanged {}, reactivated {}, deactivated {}.",
        c.created, c.updated, c.unchanged, c.reactivated, c.deactivated
    );
    Ok(super::super::flash::see_other_with(
        "/admin/stakeholders",
        &message,
        state.settings.secure_cookies(),
    ))
}
