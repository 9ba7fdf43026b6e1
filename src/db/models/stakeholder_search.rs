//! `stakeholder_search` (SQLite only): the FTS5 trigram index of the directory's search keys
//! (`email_key`, `name_key`), from migration `2026-12-02-000019_directory_search`. Its
//! triggers keep it in step with every write of `stakeholders`, row by row; a large import
//! of new stakeholders instead indexes them all in one statement ([`index_after`]).
//! PostgreSQL's `pg_trgm` indexes are ordinary indexes: nothing here applies to them.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConn;

/// The trigger that indexes each new stakeholder.
const INSERT_TRIGGER: &str = "stakeholder_search_insert";

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
/// the index's insert trigger dropped; then indexes every stakeholder it added in one
/// `INSERT … SELECT` and recreates the trigger from its own stored definition. Must run
/// inside a transaction (the caller's import), so that an error anywhere leaves the trigger,
/// the stakeholders and the index as they were: the trigger is dropped and recreated in that
/// same transaction, and other connections never see it missing.
///
/// Indexing the rows in one statement spares a trigger program per row. New rows get rowids
/// above every existing one (stakeholders are never deleted, so SQLite assigns the largest
/// rowid + 1), which is how the statement finds them. On PostgreSQL, or when the trigger is
/// not there (a database before that migration), this only runs `insert`.
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
    let trigger: Vec<TriggerSql> =
        diesel::sql_query("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?")
            .bind::<Text, _>(INSERT_TRIGGER)
            .load(c)?;
    let Some(trigger) = trigger.into_iter().next() else {
        return insert(conn);
    };
    let last: Vec<LastRowid> =
        diesel::sql_query("SELECT COALESCE(MAX(rowid), 0) AS rowid FROM stakeholders").load(c)?;
    let last = last.first().map_or(0, |l| l.rowid);
    // The name is a constant of this module, not input.
    c.batch_execute(&format!("DROP TRIGGER {INSERT_TRIGGER}"))?;
    let value = insert(conn)?;
    let DbConn::Sqlite(c) = conn else {
        unreachable!("the variant of a connection never changes")
    };
    diesel::sql_query(
        "INSERT INTO stakeholder_search (rowid, email_key, name_key) \
         SELECT rowid, email_key, name_key FROM stakeholders WHERE rowid > ?",
    )
    .bind::<BigInt, _>(last)
    .execute(c)?;
    // The trigger's own definition, as the migration created it.
    c.batch_execute(&trigger.sql)?;
    Ok(value)
}
