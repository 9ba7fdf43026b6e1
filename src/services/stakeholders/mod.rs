//! The stakeholder directory: CSV import (parse → plan → apply) and listing.
//!
//! The import is used by `pulse stakeholders import` and (later) the admin import page:
//!
//! 1. [`parse_csv`] (in [`csv_import`], pure): bytes → [`ParsedImport`] or every
//!    [`ImportProblem`] with line and column. Nothing touches the database.
//! 2. [`plan_import`]: reads the directory once and works out what the import would do
//!    ([`ImportPlan`], with [`ImportCounts`]) — the dry run / preview. It writes nothing.
//! 3. [`apply_import`]: plans again *inside* one write transaction (so the plan matches the
//!    data it is applied to) and writes it: bulk INSERTs for new stakeholders (and their
//!    attribute index, written in its key order), an UPDATE only for rows that change. Any
//!    failure rolls the whole import back.
//!
//! The parsed file is held compactly ([`ParsedImport`]: each distinct attribute value and
//! language once), so an import of 100,000 rows stays well under 100 MB.
//!
//! Matching: a row updates the stakeholder with the same email compared case-insensitively
//! ([`EmailAddress::folded`](crate::domain::EmailAddress::folded)); the stored spelling follows the file.
//! Columns the file has are authoritative (an empty cell clears the name, language or
//! attribute); columns it does not have are left alone, so a file with only `email,region`
//! sets regions without touching names. A stakeholder in the file that was inactive becomes
//! active again (counted as reactivated). With `deactivate_missing`, active stakeholders not
//! in the file become inactive; rows are never deleted, so history stays.
//!
//! The admin import page runs the same three steps: upload → [`parse_csv`] → [`plan_import`]
//! (its [`ImportPlan::preview`] shows the first rows as they will be stored) → confirm →
//! [`apply_import`]. [`sealed`] carries the file from the preview to the confirmation;
//! [`directory`] is the searchable list.

pub mod csv_import;
pub mod directory;
pub mod import_checks;
pub mod sealed;

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDateTime;

use crate::db::models::stakeholder_search;
use crate::db::models::stakeholders::{
    self, AttributeRow, NewAttribute, NewStakeholder, StakeholderChanges, StakeholderRow, StoredKey,
};
use crate::db::{self, DbConn};
use crate::domain::stakeholder::Attributes;

pub use csv_import::{parse_csv, ImportColumns, ImportProblem, ParsedImport, StakeholderRecord};

/// What an import does (or did): each row of the file is exactly one of created, updated,
/// unchanged or reactivated; deactivated counts stakeholders not in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub reactivated: usize,
    pub deactivated: usize,
}

impl std::fmt::Display for ImportCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "created {}, updated {}, unchanged {}, reactivated {}, deactivated {}",
            self.created, self.updated, self.unchanged, self.reactivated, self.deactivated
        )
    }
}

/// The changes an import makes, worked out against the directory as it was read.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub counts: ImportCounts,
    inserts: Vec<PlannedInsert>,
    updates: Vec<PlannedUpdate>,
    deactivations: Vec<String>,
    preview: Vec<PreviewRow>,
}

/// An import that changes at least this many stakeholders refreshes the planner's statistics.
const ANALYZE_AFTER_ROWS: usize = 1000;

/// An import of at least this many new stakeholders indexes their search keys in one
/// statement after inserting them (see [`stakeholder_search::index_after`]) instead of row
/// by row; smaller ones leave it to the triggers (dropping and recreating one is a schema
/// change every connection then re-prepares its statements for).
const BULK_SEARCH_INDEX_ROWS: usize = 1000;

/// The import's page cache (SQLite), in KiB: smaller than a wave's (whose inserts land on
/// random keys), because the import's own data — the parsed file, and on a re-import every
/// stored stakeholder's key — shares the peak: `pulse stakeholders import` of 100,000
/// people peaked at 98 MB (a re-import at 102 MB) with 32 MB, against a target of 100 MB;
/// with 24 MB at 89 / 94 MB. Its inserts land in key order, so the smaller cache made no
/// measurable difference in time (`examples/import_bench.rs`).
const IMPORT_CACHE_KIB: u32 = 24 * 1024;

/// How many rows of the file [`ImportPlan::preview`] keeps.
pub const PREVIEW_ROWS: usize = 10;

/// What an import does with one row of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Created,
    Updated,
    Unchanged,
    Reactivated,
}

/// One row of the file as it will be stored (after merging with the existing stakeholder).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PreviewRow {
    pub line: u64,
    pub outcome: RowOutcome,
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    /// `(attribute, value)` pairs, sorted by attribute.
    pub attributes: Vec<(String, String)>,
}

impl ImportPlan {
    /// The first [`PREVIEW_ROWS`] rows of the file, as they will be stored.
    pub fn preview(&self) -> &[PreviewRow] {
        &self.preview
    }
}

fn preview_row(
    line: u64,
    outcome: RowOutcome,
    email: &str,
    name: Option<&str>,
    language: Option<&str>,
    attributes: &Attributes,
) -> PreviewRow {
    PreviewRow {
        line,
        outcome,
        email: email.to_string(),
        name: name.map(str::to_string),
        language: language.map(str::to_string),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A new stakeholder: the index of its record in the parsed file (nothing is copied).
#[derive(Debug, Clone, Copy)]
struct PlannedInsert {
    record: usize,
}

/// The complete new state of an existing row.
#[derive(Debug, Clone)]
struct PlannedUpdate {
    id: String,
    email: String,
    name: Option<String>,
    language: Option<String>,
    attributes: Attributes,
    /// `(attribute, value)` pairs stored before and not any more (their index rows go).
    removed: Vec<(String, String)>,
    /// `(attribute, value)` pairs new in this import (index rows to add).
    added: Vec<(String, String)>,
}

/// The outcome of [`apply_import`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub counts: ImportCounts,
}

/// Works out what importing `parsed` would do, without writing (the dry run and preview).
pub fn plan_import(
    conn: &mut DbConn,
    parsed: &ParsedImport,
    deactivate_missing: bool,
) -> anyhow::Result<ImportPlan> {
    let keys = stakeholders::load_keys(conn).context("cannot read the stakeholders")?;
    build_plan(keys, parsed, deactivate_missing, |ids| {
        stakeholders::find_many(conn, ids).context("cannot read the stakeholders")
    })
}

/// Imports `parsed` in one write transaction: all of it or, on any error, nothing.
pub fn apply_import(
    conn: &mut DbConn,
    parsed: &ParsedImport,
    deactivate_missing: bool,
    now: NaiveDateTime,
) -> anyhow::Result<ImportReport> {
    db::bulk_write_transaction_with_cache(
        conn,
        IMPORT_CACHE_KIB,
        |conn| -> anyhow::Result<ImportReport> {
            let plan = plan_import(conn, parsed, deactivate_missing)?;
            write_plan(conn, parsed, &plan, now)?;
            Ok(ImportReport {
                counts: plan.counts,
            })
        },
    )
    .context("the import failed and was rolled back; nothing was changed")
}

/// Writes the plan, the new stakeholders [`stakeholders::INSERT_BATCH_ROWS`] at a time (rows
/// built per batch from the parsed records, so memory does not grow with the file).
fn write_plan(
    conn: &mut DbConn,
    parsed: &ParsedImport,
    plan: &ImportPlan,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    // How many people have each value: +1 per new stakeholder's and per added pair, -1 per
    // removed pair.
    let mut delta: HashMap<(&str, &str), i64> = HashMap::new();
    // New rows go in by email with time-ordered ids (UUIDv7), so the id, email and
    // (active, email) indexes grow at their ends instead of at random pages.
    let mut inserts = plan.inserts.clone();
    inserts.sort_unstable_by(|a, b| {
        parsed
            .record(a.record)
            .email()
            .as_str()
            .cmp(parsed.record(b.record).email().as_str())
    });
    // `now_v7` orders the ids of one process by creation, so `ids` is sorted as `inserts` is.
    // Kept as 16 bytes each (as text they would add 4 MB to the peak memory of 100,000).
    let ids: Vec<uuid::Uuid> = inserts.iter().map(|_| uuid::Uuid::now_v7()).collect();
    let insert_new = |conn: &mut DbConn| -> anyhow::Result<()> {
        for (batch, batch_ids) in inserts
            .chunks(stakeholders::INSERT_BATCH_ROWS)
            .zip(ids.chunks(stakeholders::INSERT_BATCH_ROWS))
        {
            let rows: Vec<NewStakeholder> = batch
                .iter()
                .zip(batch_ids)
                .map(|(insert, id)| {
                    let record = parsed.record(insert.record);
                    NewStakeholder {
                        id: id_text(id),
                        email: record.email().as_str().to_string(),
                        name: record.name().map(str::to_string),
                        language: record.language().map(|l| l.as_str().to_string()),
                        attributes: record.attributes_json(),
                        active: true,
                        created_at: now,
                        updated_at: now,
                        email_key: record.email().folded(),
                        name_key: record
                            .name()
                            .map(stakeholders::search_key)
                            .unwrap_or_default(),
                    }
                })
                .collect();
            stakeholders::insert_many(conn, &rows).context("cannot store the new stakeholders")?;
        }
        Ok(())
    };
    if inserts.len() >= BULK_SEARCH_INDEX_ROWS {
        stakeholder_search::index_after(conn, insert_new)?;
    } else {
        insert_new(conn)?;
    }
    index_new_attributes(conn, parsed, &inserts, &ids, &mut delta)?;

    // In id order: for time-ordered ids, the order of their rowids, in which SQLite's search
    // index takes its entries without writing them out early (`stakeholders::update_many`).
    let mut updates: Vec<&PlannedUpdate> = plan.updates.iter().collect();
    updates.sort_unstable_by_key(|update| update.id.as_str());
    for chunk in updates.chunks(stakeholders::UPDATE_BATCH_ROWS) {
        let json: Vec<String> = chunk.iter().map(|u| u.attributes.to_json()).collect();
        let changes: Vec<StakeholderChanges<'_>> = chunk
            .iter()
            .zip(&json)
            .map(|(update, json)| StakeholderChanges {
                id: &update.id,
                email: &update.email,
                name: update.name.as_deref(),
                language: update.language.as_deref(),
                attributes: json,
                active: true,
                updated_at: now,
                email_key: stakeholders::search_key(&update.email),
                name_key: update
                    .name
                    .as_deref()
                    .map(stakeholders::search_key)
                    .unwrap_or_default(),
            })
            .collect();
        stakeholders::update_many(conn, &changes)
            .context("cannot update the changed stakeholders")?;
    }
    let removed: Vec<NewAttribute<'_>> = plan
        .updates
        .iter()
        .flat_map(|u| pairs_of(&u.id, &u.removed))
        .collect();
    stakeholders::delete_attributes(conn, &removed)
        .context("cannot update the stakeholders' attributes")?;
    let added: Vec<NewAttribute<'_>> = plan
        .updates
        .iter()
        .flat_map(|u| pairs_of(&u.id, &u.added))
        .collect();
    stakeholders::insert_attributes(conn, &added)
        .context("cannot update the stakeholders' attributes")?;

    for row in &added {
        *delta.entry((row.name, row.value)).or_default() += 1;
    }
    for row in &removed {
        *delta.entry((row.name, row.value)).or_default() -= 1;
    }
    let delta: Vec<(&str, &str, i64)> = delta
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((name, value), n)| (name, value, n))
        .collect();
    if !delta.is_empty() {
        stakeholders::count_attribute_values(conn, &delta)
            .context("cannot count the attribute values")?;
    }

    let ids: Vec<&str> = plan.deactivations.iter().map(String::as_str).collect();
    stakeholders::deactivate_many(conn, &ids, now)
        .context("cannot deactivate the stakeholders missing from the file")?;
    let changed = plan.inserts.len() + plan.updates.len() + plan.deactivations.len();
    if changed >= ANALYZE_AFTER_ROWS {
        stakeholders::analyze(conn).context("cannot update the directory's statistics")?;
    }
    Ok(())
}

/// Indexes the attributes of the new stakeholders (`inserts[i]` stored with `ids[i]`, the
/// ids in ascending order) in the index's own order — attribute, value, stakeholder id — so
/// `stakeholder_attributes` is written front to back, one attribute column at a time,
/// instead of at thousands of places per batch (and without sorting its rows in the
/// database). Adds how many new stakeholders have each value to `delta`.
fn index_new_attributes<'p>(
    conn: &mut DbConn,
    parsed: &'p ParsedImport,
    inserts: &[PlannedInsert],
    ids: &[uuid::Uuid],
    delta: &mut HashMap<(&'p str, &'p str), i64>,
) -> anyhow::Result<()> {
    let attributes = &parsed.columns().attributes;
    for &column in parsed.sorted_attribute_columns() {
        let name = attributes[column].as_str();
        // (value, index into `inserts`), by value, then by id (the order of the index).
        let mut entries: Vec<(&str, usize)> = inserts
            .iter()
            .enumerate()
            .filter_map(|(position, insert)| {
                parsed
                    .record(insert.record)
                    .column_value(column)
                    .map(|value| (value, position))
            })
            .collect();
        entries.sort_unstable();
        for run in entries.chunk_by(|a, b| a.0 == b.0) {
            *delta.entry((name, run[0].0)).or_default() += run.len() as i64;
        }
        for chunk in entries.chunks(stakeholders::ATTRIBUTE_BATCH_ROWS) {
            let rows: Vec<AttributeRow> = chunk
                .iter()
                .map(|(value, position)| AttributeRow {
                    stakeholder_id: id_text(&ids[*position]),
                    name: name.to_string(),
                    value: value.to_string(),
                })
                .collect();
            stakeholders::index_new_attributes(conn, &rows)
                .context("cannot store the new stakeholders' attributes")?;
        }
    }
    Ok(())
}

/// A stakeholder id as stored: the hyphenated lower-case text, written straight into a
/// string of its length (`to_string` grows one through the formatter: 5 % of an import's
/// instructions went into formatting ids).
fn id_text(id: &uuid::Uuid) -> String {
    let mut buffer = uuid::Uuid::encode_buffer();
    id.hyphenated().encode_lower(&mut buffer).to_owned()
}

fn pairs_of<'a>(
    id: &'a str,
    pairs: &'a [(String, String)],
) -> impl Iterator<Item = NewAttribute<'a>> + 'a {
    pairs.iter().map(move |(name, value)| NewAttribute {
        stakeholder_id: id,
        name,
        value,
    })
}

/// The plan, from the directory as loaded (pure: no database).
/// Records of the file planned at a time: their stored rows are read in one statement.
const PLAN_CHUNK: usize = 1000;

/// The plan of `parsed` against the stored stakeholders `keys` (every one's id, email and
/// state); `load` reads the whole rows of the stakeholders with the given ids, which it is
/// asked for [`PLAN_CHUNK`] records of the file at a time — so the directory is never held
/// whole, only its keys and the rows the file names.
fn build_plan(
    keys: Vec<StoredKey>,
    parsed: &ParsedImport,
    deactivate_missing: bool,
    mut load: impl FnMut(&[&str]) -> anyhow::Result<Vec<StakeholderRow>>,
) -> anyhow::Result<ImportPlan> {
    let columns = parsed.columns();
    // Exact email → index into `keys`, and the case-folded email of the few stored in
    // another spelling (a folded email is looked up as an exact one first). Two stored
    // spellings can fold alike only if rows were written by something else than this
    // import; the exact spelling then wins, so an update never collides with the UNIQUE
    // email.
    let mut by_email: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    let mut by_folded: HashMap<String, usize> = HashMap::new();
    for (index, key) in keys.iter().enumerate() {
        by_email.insert(&key.email, index);
        let folded = key.email.to_lowercase();
        if folded != key.email {
            by_folded.entry(folded).or_insert(index);
        }
    }
    let mut in_file = vec![false; keys.len()];
    let mut plan = ImportPlan {
        counts: ImportCounts::default(),
        inserts: Vec::new(),
        updates: Vec::new(),
        deactivations: Vec::new(),
        preview: Vec::new(),
    };

    let mut records = parsed.records().enumerate().peekable();
    while records.peek().is_some() {
        let chunk: Vec<_> = records.by_ref().take(PLAN_CHUNK).collect();
        // (An empty directory has nothing to match: no folding, no lookups.)
        let found: Vec<Option<usize>> = chunk
            .iter()
            .map(|(_, record)| {
                if keys.is_empty() {
                    return None;
                }
                by_email
                    .get(record.email().as_str())
                    .or_else(|| {
                        let folded = record.email().folded();
                        by_email
                            .get(folded.as_str())
                            .or_else(|| by_folded.get(&folded))
                    })
                    .copied()
            })
            .collect();
        let ids: Vec<&str> = found
            .iter()
            .flatten()
            .map(|&i| keys[i].id.as_str())
            .collect();
        let stored: HashMap<String, StakeholderRow> = if ids.is_empty() {
            HashMap::new()
        } else {
            load(&ids)?
                .into_iter()
                .map(|row| (row.id.clone(), row))
                .collect()
        };
        for ((position, record), found) in chunk.iter().zip(found) {
            let row = match found {
                Some(index) => {
                    in_file[index] = true;
                    let key = &keys[index];
                    let row = stored.get(&key.id);
                    Some(
                        row.with_context(|| format!("the stakeholder {} was not read", key.email))?,
                    )
                }
                None => None,
            };
            plan_record(&mut plan, columns, *position, record, row)?;
        }
    }

    if deactivate_missing {
        for (key, seen) in keys.iter().zip(&in_file) {
            if key.active && !seen {
                plan.counts.deactivated += 1;
                plan.deactivations.push(key.id.clone());
            }
        }
    }
    Ok(plan)
}

/// Adds one record of the file to `plan`: new when `row` (its stored stakeholder) is `None`,
/// else updated, unchanged or reactivated.
fn plan_record(
    plan: &mut ImportPlan,
    columns: &ImportColumns,
    position: usize,
    record: &StakeholderRecord<'_>,
    row: Option<&StakeholderRow>,
) -> anyhow::Result<()> {
    let Some(row) = row else {
        plan.counts.created += 1;
        if plan.preview.len() < PREVIEW_ROWS {
            plan.preview.push(preview_row(
                record.line(),
                RowOutcome::Created,
                record.email().as_str(),
                record.name(),
                record.language().map(|l| l.as_str()),
                &record.attributes(),
            ));
        }
        plan.inserts.push(PlannedInsert { record: position });
        return Ok(());
    };

    let stored_attributes = Attributes::from_json(&row.attributes)
        .map_err(|e| anyhow::anyhow!("the stored stakeholder {} is damaged: {e}", row.email))?;
    let mut attributes = stored_attributes.clone();
    for attribute in &columns.attributes {
        match record.attribute(attribute.as_str()) {
            Some(value) => attributes.set(attribute, value),
            None => attributes.remove(attribute),
        }
    }
    let name = if columns.name {
        record.name().map(str::to_string)
    } else {
        row.name.clone()
    };
    let language = if columns.language {
        record.language().map(|l| l.as_str().to_string())
    } else {
        row.language.clone()
    };
    let email = record.email().as_str().to_string();
    let changed = email != row.email
        || name != row.name
        || language != row.language
        || attributes != stored_attributes;

    let outcome = if !row.active {
        plan.counts.reactivated += 1;
        RowOutcome::Reactivated
    } else if changed {
        plan.counts.updated += 1;
        RowOutcome::Updated
    } else {
        plan.counts.unchanged += 1;
        RowOutcome::Unchanged
    };
    if plan.preview.len() < PREVIEW_ROWS {
        plan.preview.push(preview_row(
            record.line(),
            outcome,
            &email,
            name.as_deref(),
            language.as_deref(),
            &attributes,
        ));
    }
    if outcome == RowOutcome::Unchanged {
        return Ok(());
    }
    plan.updates.push(PlannedUpdate {
        id: row.id.clone(),
        email,
        name,
        language,
        removed: changed_pairs(&stored_attributes, &attributes),
        added: changed_pairs(&attributes, &stored_attributes),
        attributes,
    });
    Ok(())
}

/// The `(attribute, value)` pairs of `from` that `to` does not have.
fn changed_pairs(from: &Attributes, to: &Attributes) -> Vec<(String, String)> {
    from.iter()
        .filter(|(name, value)| to.get(name) != Some(value))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// A stakeholder as listed: the stored row with its attributes read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stakeholder {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub attributes: Attributes,
    pub active: bool,
}

impl TryFrom<StakeholderRow> for Stakeholder {
    type Error = anyhow::Error;
    fn try_from(row: StakeholderRow) -> anyhow::Result<Self> {
        let attributes = Attributes::from_json(&row.attributes)
            .map_err(|e| anyhow::anyhow!("the stored stakeholder {} is damaged: {e}", row.email))?;
        Ok(Self {
            id: row.id,
            email: row.email,
            name: row.name,
            language: row.language,
            attributes,
            active: row.active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        id: &str,
        email: &str,
        name: Option<&str>,
        attributes: &str,
        active: bool,
    ) -> StakeholderRow {
        StakeholderRow {
            id: id.into(),
            email: email.into(),
            name: name.map(Into::into),
            language: Some("en".into()),
            attributes: attributes.into(),
            active,
        }
    }

    fn plan_for(existing: Vec<StakeholderRow>, csv: &str, deactivate_missing: bool) -> ImportPlan {
        let parsed = parse_csv(csv.as_bytes()).unwrap();
        let keys = existing
            .iter()
            .map(|row| StoredKey {
                id: row.id.clone(),
                email: row.email.clone(),
                active: row.active,
            })
            .collect();
        build_plan(keys, &parsed, deactivate_missing, |ids| {
            Ok(existing
                .iter()
                .filter(|row| ids.contains(&row.id.as_str()))
                .cloned()
                .collect())
        })
        .unwrap()
    }

    fn directory() -> Vec<StakeholderRow> {
        vec![
            row(
                "1",
                "anna@example.com",
                Some("Anna"),
                r#"{"region":"EMEA","site":"Graz"}"#,
                true,
            ),
            row(
                "2",
                "Bob@example.com",
                Some("Bob"),
                r#"{"region":"NA"}"#,
                true,
            ),
            row(
                "3",
                "carl@example.com",
                Some("Carl"),
                r#"{"region":"EMEA"}"#,
                false,
            ),
            row("4", "dora@example.com", Some("Dora"), "{}", true),
            row("5", "erik@example.com", Some("Erik"), "{}", false),
        ]
    }

    #[test]
    fn counts_each_row_once() {
        let plan = plan_for(
            directory(),
            "email,name,language,region\n\
             anna@example.com,Anna,en,EMEA\n\
             bob@example.com,Bob,en,NA\n\
             carl@example.com,Carl,en,EMEA\n\
             new@example.com,New,,APAC\n",
            true,
        );
        assert_eq!(
            plan.counts,
            ImportCounts {
                created: 1,
                // Bob: the stored spelling follows the file.
                updated: 1,
                unchanged: 1,
                reactivated: 1,
                // Dora (active, not in the file); Erik was inactive already.
                deactivated: 1,
            }
        );
        assert_eq!(plan.deactivations, ["4"]);
        let ids: Vec<&str> = plan.updates.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["2", "3"]);
        assert_eq!(plan.updates[0].email, "bob@example.com");
        assert_eq!(plan.inserts[0].record, 3);
        let outcomes: Vec<RowOutcome> = plan.preview().iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                RowOutcome::Unchanged,
                RowOutcome::Updated,
                RowOutcome::Reactivated,
                RowOutcome::Created
            ]
        );
        // The preview shows the row as stored: Anna keeps the site the file does not have.
        assert_eq!(
            plan.preview()[0].attributes,
            [
                ("region".to_string(), "EMEA".to_string()),
                ("site".to_string(), "Graz".to_string())
            ]
        );
        assert_eq!(plan.preview()[3].line, 5);
    }

    #[test]
    fn columns_in_the_file_rule_and_others_stay() {
        // No name or language column: those stay. `region` is in the file: an empty cell
        // clears it; `site` is not: it stays.
        let plan = plan_for(
            directory(),
            "email,region\nanna@example.com,\nBob@example.com,NA\n",
            false,
        );
        assert_eq!(plan.counts.updated, 1);
        assert_eq!(plan.counts.unchanged, 1);
        assert_eq!(plan.counts.deactivated, 0);
        let anna = &plan.updates[0];
        assert_eq!(anna.id, "1");
        assert_eq!(anna.name.as_deref(), Some("Anna"));
        assert_eq!(anna.language.as_deref(), Some("en"));
        assert_eq!(anna.attributes.to_json(), r#"{"site":"Graz"}"#);
        // An empty name cell in a file with a name column clears the name.
        let plan = plan_for(directory(), "email,name\nanna@example.com,\n", false);
        assert_eq!(plan.updates[0].name, None);
    }

    #[test]
    fn an_exact_spelling_wins_over_a_case_folded_one() {
        let existing = vec![
            row("1", "Anna@example.com", Some("Anna"), "{}", true),
            row("2", "anna@example.com", Some("Anna"), "{}", true),
        ];
        let plan = plan_for(existing, "email,name\nanna@example.com,Anna B\n", false);
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].id, "2");
    }

    #[test]
    fn another_spelling_finds_the_stored_stakeholder_either_way() {
        let existing = vec![
            row("1", "Bob@Example.com", Some("Bob"), "{}", true),
            row("2", "carl@example.com", Some("Carl"), "{}", true),
        ];
        let plan = plan_for(
            existing,
            "email,name\nbob@example.com,Bob B\nCARL@example.com,Carl C\n",
            true,
        );
        assert_eq!(plan.counts.created, 0);
        assert_eq!(plan.counts.deactivated, 0);
        let ids: Vec<&str> = plan.updates.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(
            plan.updates[0].email, "bob@example.com",
            "the file's spelling"
        );
    }
}
