//! The scorecards' data on the web (admins only), the same steps as the stakeholder import
//! and the same parsers as `pulse requests import` and `pulse kpi import`:
//!
//! * `GET /admin/requests/import`, `GET /admin/kpis/import` — the upload form (a file, or
//!   pasted text), with a sample file at `…/import/sample.csv`.
//! * `POST` to the same path (multipart) — every problem of the file with its line and
//!   column (the pasted text kept), or a preview: the counts and the first rows as they will
//!   be stored. Nothing is written.
//! * `POST …/import/confirm` — imports the previewed file, all or nothing, then the
//!   scorecards with a message saying what changed. The file travels in the confirmation
//!   form, sealed to the session and to its import
//!   ([`crate::services::stakeholders::sealed`]).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::SignedIn;
use crate::error::AppError;
use crate::requests::{self, parse_requests, RequestRecord};
use crate::scorecards::{self, KpiImportPlan};
use crate::services::stakeholders::sealed::{self, Purpose, SealedImport};
use crate::services::stakeholders::ImportProblem;
use crate::startup::AppState;
use crate::views::Page;

use super::super::waves::blocking;
use super::upload::{read_upload, CONFIRM_LIMIT, MAX_UPLOAD_BYTES};

/// Rows the preview shows.
const PREVIEW_ROWS: usize = 10;

/// Which of the two imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requests,
    Kpis,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Requests => "/admin/requests/import",
            Kind::Kpis => "/admin/kpis/import",
        }
    }

    fn purpose(self) -> Purpose {
        match self {
            Kind::Requests => Purpose::Requests,
            Kind::Kpis => Purpose::KpiValues,
        }
    }

    fn command(self) -> &'static str {
        match self {
            Kind::Requests => "pulse requests import",
            Kind::Kpis => "pulse kpi import",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Requests => "Import procurement requests",
            Kind::Kpis => "Import KPI values",
        }
    }

    /// "request(s)", for counts.
    fn noun(self) -> &'static str {
        match self {
            Kind::Requests => "request(s)",
            Kind::Kpis => "KPI value(s)",
        }
    }

    fn sample(self) -> (&'static str, &'static str) {
        match self {
            Kind::Requests => ("requests-sample.csv", REQUESTS_SAMPLE),
            Kind::Kpis => ("kpi-values-sample.csv", KPI_SAMPLE),
        }
    }

    /// What the templates need to tell the two apart.
    fn context(self) -> Value {
        json!({
            "path": self.path(),
            "title": self.title(),
            "noun": self.noun(),
            "command": self.command(),
            "requests": self == Kind::Requests,
        })
    }
}

/// Sample files whose business units are those of the stakeholder sample file.
const REQUESTS_SAMPLE: &str = "request_id,business_unit,requester_email,category,channel,value,currency,opened_on,fulfilled_on,status\n\
PR-1001,Manufacturing,anna.berg@example.com,IT hardware,catalogue,1250.00,EUR,2027-01-11,2027-02-02,fulfilled\n\
PR-1002,R&D,james.okafor@example.com,Services,tender,48000,EUR,2027-01-20,,open\n\
PR-1003,Sales,,Catalogue items,card,89.90,EUR,2027-02-03,2027-02-05,fulfilled\n\
PR-1004,Finance,li.wei@example.com,Software,purchase order,,,2027-02-14,,cancelled\n";

const KPI_SAMPLE: &str = "kpi,period,business_unit,value\n\
cost_savings,2027-H1,Manufacturing,310\n\
cost_savings,2027-H1,R&D,180.5\n\
contract_coverage,2027-H1,Sales,\"74,5\"\n";

pub fn configure(cfg: &mut web::ServiceConfig) {
    for kind in [Kind::Requests, Kind::Kpis] {
        let path = kind.path();
        cfg.route(
            path,
            web::get().to(move |signed_in: SignedIn| import_form(signed_in, kind)),
        )
        .route(
            path,
            web::post().to(
                move |state: web::Data<AppState>, signed_in: SignedIn, multipart: Multipart| {
                    preview(state, signed_in, multipart, kind)
                },
            ),
        )
        .route(
            &format!("{path}/sample.csv"),
            web::get().to(move |signed_in: SignedIn| sample_csv(signed_in, kind)),
        )
        .service(
            web::resource(format!("{path}/confirm"))
                .app_data(super::super::form_config().limit(CONFIRM_LIMIT))
                .route(web::post().to(
                    move |state: web::Data<AppState>,
                          signed_in: SignedIn,
                          form: web::Form<ConfirmForm>| {
                        confirm(state, signed_in, form, kind)
                    },
                )),
        );
    }
}

async fn import_form(signed_in: SignedIn, kind: Kind) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    render_form(&signed_in, kind, StatusCode::OK, FormState::default())
}

async fn sample_csv(signed_in: SignedIn, kind: Kind) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let (name, body) = kind.sample();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

/// What the form shows besides its fields: a message, or the problems of the last attempt
/// with the pasted text kept.
#[derive(Default)]
struct FormState<'a> {
    error: Option<&'a str>,
    source: Option<&'a str>,
    problems: Vec<String>,
    csv_text: String,
}

fn render_form(
    signed_in: &SignedIn,
    kind: Kind,
    status: StatusCode,
    form: FormState<'_>,
) -> Result<HttpResponse, AppError> {
    let title = if form.problems.is_empty() {
        kind.title()
    } else {
        "Import problems"
    };
    let page = Page::signed_in(
        title,
        signed_in,
        json!({
            "kind": kind.context(),
            "error": form.error, "max_megabytes": MAX_UPLOAD_BYTES / (1024 * 1024),
            "source": form.source, "problems": form.problems, "count": form.problems.len(),
            "csv_text": form.csv_text,
        }),
    );
    Ok(super::super::html(
        status,
        page.render("pages/admin/data_import")?,
    ))
}

/// The form again with every problem of `source` (422), nothing written.
fn problems_page(
    signed_in: &SignedIn,
    kind: Kind,
    source: &str,
    problems: &[ImportProblem],
    csv_text: String,
) -> Result<HttpResponse, AppError> {
    let form = FormState {
        source: Some(source),
        problems: problems.iter().map(ToString::to_string).collect(),
        csv_text,
        ..Default::default()
    };
    render_form(signed_in, kind, StatusCode::UNPROCESSABLE_ENTITY, form)
}

/// A checked file: what the preview shows.
enum Checked {
    Requests {
        records: Vec<RequestRecord>,
        plan: requests::RequestImportPlan,
    },
    Kpis(KpiImportPlan),
}

/// Checks `bytes` as the import of `kind` would, without writing: the preview, or every
/// problem (the file's own first, then those against the directory and the definition).
async fn check(
    state: &web::Data<AppState>,
    kind: Kind,
    bytes: Vec<u8>,
) -> Result<Result<Checked, Vec<ImportProblem>>, AppError> {
    match kind {
        Kind::Requests => {
            // Parsing a large file is blocking work too.
            blocking(state, move |conn| {
                let records = match parse_requests(&bytes) {
                    Ok(records) => records,
                    Err(problems) => return Ok(Err(problems)),
                };
                let plan = match requests::check_import(conn, &records)? {
                    Ok(plan) => plan,
                    Err(problems) => return Ok(Err(problems)),
                };
                Ok(Ok(Checked::Requests { records, plan }))
            })
            .await
        }
        Kind::Kpis => {
            let definition = state.scorecard.clone();
            blocking(state, move |conn| {
                Ok(scorecards::plan_kpi_import(conn, &bytes, &definition)?.map(Checked::Kpis))
            })
            .await
        }
    }
}

async fn preview(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    multipart: Multipart,
    kind: Kind,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    let now = state.clock.now();
    let upload = read_upload(multipart, kind.command()).await?;
    signed_in.verify_csrf(&upload.csrf_token)?;
    let Some((bytes, source)) = upload.content() else {
        let form = FormState {
            error: Some("Choose a CSV file, or paste its text."),
            ..Default::default()
        };
        return render_form(&signed_in, kind, StatusCode::UNPROCESSABLE_ENTITY, form);
    };
    let checked = match check(&state, kind, bytes.clone()).await? {
        Ok(checked) => checked,
        Err(problems) => {
            return problems_page(&signed_in, kind, &source, &problems, upload.text);
        }
    };
    let sealed = sealed::seal(
        &state.settings.secret_key,
        kind.purpose(),
        signed_in.session_token(),
        &bytes,
        false,
        now,
    );
    let (total, counts, rows) = match &checked {
        Checked::Requests { records, plan } => (
            records.len(),
            json!({
                "new": plan.counts.created,
                "updated": plan.counts.updated,
                "unchanged": plan.counts.unchanged,
            }),
            request_rows(records, &plan.outcomes),
        ),
        Checked::Kpis(plan) => (
            plan.values.len(),
            json!({ "new": plan.counts.new, "updated": plan.counts.replaced, "unchanged": null }),
            kpi_rows(plan, &state.scorecard),
        ),
    };
    let page = Page::signed_in(
        "Import preview",
        &signed_in,
        json!({
            "kind": kind.context(),
            "source": source,
            "total": total,
            "counts": counts,
            "rows": rows,
            "more_rows": total.saturating_sub(PREVIEW_ROWS),
            "sealed": sealed,
        }),
    );
    Ok(super::super::html(
        StatusCode::OK,
        page.render("pages/admin/data_import_preview")?,
    ))
}

/// The first requests as they will be stored.
fn request_rows(records: &[RequestRecord], outcomes: &[requests::RowOutcome]) -> Vec<Value> {
    records
        .iter()
        .zip(outcomes)
        .take(PREVIEW_ROWS)
        .map(|(r, outcome)| {
            json!({
                "line": r.line,
                "change": outcome.as_str(),
                "cells": [
                    r.id.clone(),
                    r.business_unit.clone(),
                    r.category.clone(),
                    r.channel.clone(),
                    match (r.value, &r.currency) {
                        (Some(v), Some(c)) => format!("{v:.2} {c}"),
                        (Some(v), None) => format!("{v:.2}"),
                        _ => "—".into(),
                    },
                    r.opened_on.to_string(),
                    r.fulfilled_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                    r.status.as_str().to_string(),
                ],
            })
        })
        .collect()
}

/// The first KPI values as they will be stored, with the measure's name.
fn kpi_rows(
    plan: &KpiImportPlan,
    definition: &crate::scorecards::definition::ScorecardDefinition,
) -> Vec<Value> {
    plan.values
        .iter()
        .zip(&plan.replaces)
        .take(PREVIEW_ROWS)
        .map(|(v, replaces)| {
            let measure = definition.measures.iter().find(|m| m.key == v.key);
            let name = measure.map_or(v.key.as_str(), |m| m.name());
            let value = crate::views::scorecards::format_value(
                v.value,
                measure.and_then(|m| m.unit.as_deref()),
            );
            json!({
                "line": v.line,
                "change": if *replaces { "replaces" } else { "new" },
                "cells": [name, v.period.to_string(), v.business_unit.clone(), value],
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf_token: String,
    content: String,
    issued_at: i64,
    seal: String,
}

async fn confirm(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<ConfirmForm>,
    kind: Kind,
) -> Result<HttpResponse, AppError> {
    signed_in.require_admin()?;
    signed_in.verify_csrf(&form.csrf_token)?;
    let now = state.clock.now();
    let form = form.into_inner();
    let sealed_import = SealedImport {
        content: form.content,
        issued_at: form.issued_at,
        option: false,
        seal: form.seal,
    };
    let bytes = sealed::open(
        &state.settings.secret_key,
        kind.purpose(),
        signed_in.session_token(),
        &sealed_import,
        now,
    )
    .map_err(|e| AppError::BadRequest(format!("Nothing was imported: {e}.")))?;
    // Checked again as it is written: the directory may have changed since the preview.
    let outcome = match kind {
        Kind::Requests => {
            let targets = state.scorecard.request_targets.target_days();
            blocking(&state, move |conn| {
                let records = match parse_requests(&bytes) {
                    Ok(records) => records,
                    Err(problems) => return Ok(Err(problems)),
                };
                Ok(
                    requests::apply_import(conn, &records, &targets, now)?.map(|c| {
                        format!(
                            "Requests imported: {} new, {} updated, {} unchanged.",
                            c.created, c.updated, c.unchanged
                        )
                    }),
                )
            })
            .await?
        }
        Kind::Kpis => {
            let definition = state.scorecard.clone();
            blocking(&state, move |conn| {
                Ok(
                    scorecards::import_kpis(conn, &bytes, &definition, false, now)?.map(|c| {
                        format!(
                            "KPI values imported: {} new, {} replacing earlier values.",
                            c.new, c.replaced
                        )
                    }),
                )
            })
            .await?
        }
    };
    match outcome {
        Ok(message) => {
            tracing::info!(import = kind.command(), %message, admin = %crate::telemetry::mask_email(&signed_in.user.email), "imported from the web");
            Ok(super::super::flash::see_other_with(
                "/admin/scorecards",
                &message,
                state.settings.secure_cookies(),
            ))
        }
        Err(problems) => problems_page(&signed_in, kind, "the file", &problems, String::new()),
    }
}
