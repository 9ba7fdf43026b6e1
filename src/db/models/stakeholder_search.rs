//! `stakeholder_search` (SQLite only): the FTS5 trigram index of the directory's search keys
//! (`email_key`, `name_key`), from migration `2026-12-02-000019_directory_search`, and the
//! directory's totals (`directory_totals`, migration `2026-12-03-000027_directory_totals`).
//! Their triggers keep them in step with every write of `stakeholders`, row by row; a large
//! import of new stakeholders instead indexes and counts them all in one statement each
//! ([`index_after`]). PostgreSQL's `pg_trgm` indexes are ordinary indexes and its totals'
//! triggers run once per statement: nothing here applies to them.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConn;

/// FTS5 gathers new index entries in memory up to this many bytes before it writes them as
/// a segment (1 MB unless set): for the catch-up of a large import, fewer and larger
/// segments to write and merge (0.52 → 0.37 s for 100,000 stakeholders, measured with
/// Python's `sqlite3` on the directory of `examples/import_bench.rs`).
const BULK_HASHSIZE: i64 = 8 << 20;

/// FTS5's own default, set back after the catch-up: the index's configuration is stored in
/// the database, and a row at a time needs no more.
const DEFAULT_HASHSIZE: i64 = 1 << 20;

/// A trigger that indexes or counts each new stakeholder, and the statement that does the
/// same for every stakeholder after the rowid bound to it.
struct InsertTrigger {
    name: &'static str,
    catch_up: &'static str,
    /// Whether the catch-up fills the FTS5 index (which then gathers with [`BULK_HASHSIZE`]).
    fills_search_index: bool,
}

const INSERT_TRIGGERS: [InsertTrigger; 2] = [
    InsertTrigger {
        name: "stakeholder_search_insert",
        catch_up: "INSERT INTO stakeholder_search (rowid, email_key, name_key) \
                   SELECT rowid, email_key, name_key FROM stakeholders WHERE rowid > ?",
        fills_search_index: true,
    },
    InsertTrigger {
        name: "directory_totals_insert",
        catch_up: "UPDATE directory_totals SET (total, inactive, generation) = \
                   (SELECT total + COUNT(*), inactive + COALESCE(SUM(active = 0), 0), \
                   generation + 1 FROM stakeholders WHERE rowid > ?) WHERE id = 1",
        fills_search_index: false,
    },
];

#[derive(QueryableByName)]
struct TriggerSql {
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct LastRowid {
    #[diesel(sql_type = BigInt)]
    rowid: i64,
}

/// Runs `insert` — which must only insert stakeholders, never change existing ones — with
/// the insert triggers of the search index and the totals dropped; then indexes and counts
/// every stakeholder it added in one statement each and recreates the triggers from their
/// own stored definitions. Must run inside a transaction (the caller's import), so that an
/// error anywhere leaves the triggers, the stakeholders, the index and the totals as they
/// were: the triggers are dropped and recreated in that same transaction, and other
/// connections never see them missing.
///
/// One statement for all the rows spares a trigger program per row. New rows get rowids
/// above every existing one (stakeholders are never deleted, so SQLite assigns the largest
/// rowid + 1), which is how the statements find them. On PostgreSQL this only runs
/// `insert`; a trigger that is not there (a database before its migration) is left alone.
pub fn index_after<T, E>(
    conn: &mut DbConn,
    insert: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(c) = conn else {
        return insert(conn);
    };
    let in_transaction = AnsiTransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()?
        .is_some();
    if !in_transaction {
        return Err(diesel::result::Error::NotInTransaction.into());
    }
    let mut dropped = Vec::new();
    for trigger in &INSERT_TRIGGERS {
        let stored: Vec<TriggerSql> =
            diesel::sql_query("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?")
                .bind::<Text, _>(trigger.name)
                .load(c)?;
        if let Some(stored) = stored.into_iter().next() {
            // The name is a constant of this module, not input.
            c.batch_execute(&format!("DROP TRIGGER {}", trigger.name))?;
            dropped.push((stored.sql, trigger));
        }
    }
    let last: Vec<LastRowid> =
        diesel::sql_query("SELECT COALESCE(MAX(rowid), 0) AS rowid FROM stakeholders").load(c)?;
    let last = last.first().map_or(0, |l| l.rowid);
    let value = insert(conn)?;
    let DbConn::Sqlite(c) = conn else {
        unreachable!("the variant of a connection never changes")
    };
    let hashsize =
        "INSERT INTO stakeholder_search (stakeholder_search, rank) VALUES ('hashsize', ?)";
    for (definition, trigger) in dropped {
        if trigger.fills_search_index {
            diesel::sql_query(hashsize)
                .bind::<BigInt, _>(BULK_HASHSIZE)
                .execute(c)?;
        }
        diesel::sql_query(trigger.catch_up)
            .bind::<BigInt, _>(last)
            .execute(c)?;
        if trigger.fills_search_index {
            diesel::sql_query(hashsize)
                .bind::<BigInt, _>(DEFAULT_HASHSIZE)
                .execute(c)?;
        }
        // The trigger's own definition, as the migration created it.
        c.batch_execute(&definition)?;
    }
    Ok(value)
}
