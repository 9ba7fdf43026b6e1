//! Survey versions: pin loaded definitions in the database, so a (slug, version) stays tied
//! to one content hash for good, and read pinned versions back.
//!
//! Pinning is all or nothing, in one write transaction: a new (slug, version) is stored, an
//! identical one is left alone, and a changed file whose `version` was not raised refuses
//! the whole batch with a message naming the file and the version to bump to.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDateTime;

use crate::db::models::survey_versions::{self, NewSurveyVersion, SurveyVersionRow};
use crate::db::{self, DbConn};
use crate::definitions::{self, LoadedDefinition};
use crate::domain::definition::SurveyDefinition;

/// What pinning did with one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// Stored now: a (slug, version) seen for the first time.
    New,
    /// Stored before with the same content hash.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct PinnedEntry {
    pub file: String,
    pub slug: String,
    pub version: i32,
    pub content_hash: String,
    pub outcome: PinOutcome,
}

/// One entry per definition, in the order given.
#[derive(Debug, Clone, Default)]
pub struct PinReport {
    pub entries: Vec<PinnedEntry>,
}

impl PinReport {
    pub fn count(&self, outcome: PinOutcome) -> usize {
        self.entries.iter().filter(|e| e.outcome == outcome).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// Definitions that may not be stored (one message per file); nothing was stored.
    #[error("{}", .0.join("\n"))]
    Refused(Vec<String>),
    #[error("cannot store the survey versions: {0}")]
    Database(#[from] diesel::result::Error),
}

/// How a definition file stands against what the database has pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// The (slug, version) is new: loading stores it.
    NotLoaded,
    /// Pinned with the same content.
    Loaded,
    /// The (slug, version) is pinned with other content: the file needs a higher version.
    ChangedWithoutBump { latest: i32 },
    /// A new version lower than one already pinned.
    OlderThanLatest { latest: i32 },
}

impl PinStatus {
    /// Why the definition cannot be pinned, naming the file; `None` when it can.
    pub fn refusal(self, definition: &LoadedDefinition) -> Option<String> {
        let (file, slug, version) = (definition.file(), definition.slug(), definition.version());
        match self {
            PinStatus::NotLoaded | PinStatus::Loaded => None,
            PinStatus::ChangedWithoutBump { latest } => Some(format!(
                "{file}: version {version} of '{slug}' was loaded before with different content; answers already collected depend on it. Bump \"version\" to {} to publish this change.",
                latest.max(version) + 1
            )),
            PinStatus::OlderThanLatest { latest } => Some(format!(
                "{file}: version {version} of '{slug}' is older than version {latest}, which is already loaded. Set \"version\" to {} to publish this content.",
                latest + 1
            )),
        }
    }
}

/// Compares one definition with the pinned versions of its survey.
pub fn pin_status(
    conn: &mut DbConn,
    definition: &LoadedDefinition,
) -> diesel::QueryResult<PinStatus> {
    let (slug, version) = (definition.slug(), definition.version());
    let latest = survey_versions::latest_version(conn, slug)?;
    Ok(
        match survey_versions::find_by_slug_version(conn, slug, version)? {
            Some(row) if row.content_hash == definition.content_hash() => PinStatus::Loaded,
            Some(_) => PinStatus::ChangedWithoutBump {
                latest: latest.unwrap_or(version),
            },
            None => match latest {
                Some(latest) if latest > version => PinStatus::OlderThanLatest { latest },
                _ => PinStatus::NotLoaded,
            },
        },
    )
}

/// Pins every definition in one write transaction, or none of them: any definition that was
/// changed without raising its version refuses the whole batch (all such files are named).
pub fn pin_definitions(
    conn: &mut DbConn,
    definitions: &[LoadedDefinition],
    now: NaiveDateTime,
) -> Result<PinReport, PinError> {
    match pin_once(conn, definitions, now) {
        Err(PinError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => {
            // Another `pulse` (several `serve` instances starting together on PostgreSQL)
            // pinned the same version a moment earlier; its rows are committed now, so a
            // second look compares against them.
            pin_once(conn, definitions, now)
        }
        other => other,
    }
}

fn pin_once(
    conn: &mut DbConn,
    definitions: &[LoadedDefinition],
    now: NaiveDateTime,
) -> Result<PinReport, PinError> {
    db::write_transaction(conn, |conn| {
        let mut report = PinReport::default();
        let mut refusals = Vec::new();
        for definition in definitions {
            let status = pin_status(conn, definition)?;
            if let Some(refusal) = status.refusal(definition) {
                refusals.push(refusal);
                continue;
            }
            let outcome = if status == PinStatus::Loaded {
                PinOutcome::Unchanged
            } else {
                let id = uuid::Uuid::new_v4().to_string();
                survey_versions::insert(
                    conn,
                    &NewSurveyVersion {
                        id: &id,
                        slug: definition.slug(),
                        version: definition.version(),
                        content_hash: definition.content_hash(),
                        title: definition.definition().default_title(),
                        definition: definition.canonical_json(),
                        loaded_at: now,
                    },
                )?;
                PinOutcome::New
            };
            report.entries.push(PinnedEntry {
                file: definition.file().to_string(),
                slug: definition.slug().to_string(),
                version: definition.version(),
                content_hash: definition.content_hash().to_string(),
                outcome,
            });
        }
        if refusals.is_empty() {
            Ok(report)
        } else {
            Err(PinError::Refused(refusals))
        }
    })
}

/// What `pulse serve` does at start: read the definitions folder (or the built-in
/// definitions when it does not exist), check them and pin them. Any problem refuses the
/// start with every error listed.
pub fn load_and_pin(
    conn: &mut DbConn,
    definitions_dir: &Path,
    now: NaiveDateTime,
) -> anyhow::Result<PinReport> {
    let loaded = definitions::load_configured(definitions_dir)?;
    let source = loaded.source.clone();
    let definitions = loaded.into_result().map_err(|errors| {
        anyhow::anyhow!(
            "the survey definitions ({source}) have errors, so none were loaded:\n{}\nFix them, check with `pulse survey validate`, and start again.",
            indent(&errors.to_string())
        )
    })?;
    let report = pin_definitions(conn, &definitions, now).map_err(|error| match error {
        PinError::Refused(_) => anyhow::anyhow!(
            "the survey definitions ({source}) cannot be loaded, so none were loaded:\n{}",
            indent(&error.to_string())
        ),
        PinError::Database(_) => anyhow::Error::new(error),
    })?;
    for entry in &report.entries {
        if entry.outcome == PinOutcome::New {
            tracing::info!(slug = %entry.slug, version = entry.version, hash = %short_hash(&entry.content_hash), file = %entry.file, "pinned a new survey version");
        }
    }
    if report.entries.is_empty() {
        tracing::warn!(source = %source, "there are no survey definitions to load");
    }
    tracing::info!(
        source = %source,
        new = report.count(PinOutcome::New),
        unchanged = report.count(PinOutcome::Unchanged),
        "survey definitions loaded"
    );
    Ok(report)
}

/// The first 12 hex digits of a content hash: enough to tell versions apart on screen.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn indent(lines: &str) -> String {
    lines
        .lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A pinned survey version with its definition parsed.
#[derive(Debug, Clone)]
pub struct PinnedSurvey {
    pub id: String,
    pub slug: String,
    pub version: i32,
    pub content_hash: String,
    pub title: String,
    pub loaded_at: NaiveDateTime,
    pub definition: SurveyDefinition,
}

impl TryFrom<SurveyVersionRow> for PinnedSurvey {
    type Error = anyhow::Error;

    fn try_from(row: SurveyVersionRow) -> anyhow::Result<Self> {
        let definition: SurveyDefinition =
            serde_json::from_str(&row.definition).with_context(|| {
                format!(
                    "the stored definition of {} version {} cannot be read by this version of pulse",
                    row.slug, row.version
                )
            })?;
        Ok(Self {
            id: row.id,
            slug: row.slug,
            version: row.version,
            content_hash: row.content_hash,
            title: row.title,
            loaded_at: row.loaded_at,
            definition,
        })
    }
}

/// Every pinned version, by slug, oldest version first.
pub fn list_pinned(conn: &mut DbConn) -> anyhow::Result<Vec<PinnedSurvey>> {
    survey_versions::list(conn)?
        .into_iter()
        .map(PinnedSurvey::try_from)
        .collect()
}

/// The newest pinned version of each survey.
pub fn latest_pinned(conn: &mut DbConn) -> anyhow::Result<Vec<PinnedSurvey>> {
    survey_versions::latest_per_slug(conn)?
        .into_iter()
        .map(PinnedSurvey::try_from)
        .collect()
}

pub fn find_pinned(
    conn: &mut DbConn,
    slug: &str,
    version: i32,
) -> anyhow::Result<Option<PinnedSurvey>> {
    survey_versions::find_by_slug_version(conn, slug, version)?
        .map(PinnedSurvey::try_from)
        .transpose()
}
