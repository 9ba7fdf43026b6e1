//! The SQL behind `pulse backup` and `pulse restore` (SQLite only; PostgreSQL has
//! `pg_dump`/`pg_restore`): an online, consistent copy with `VACUUM INTO`, and the checks
//! that a file is a sound Procurement Pulse database.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

use super::DbConn;

/// Tables every Procurement Pulse database has since its first migration.
const EXPECTED_TABLES: [&str; 4] = ["stakeholders", "waves", "invitations", "outbox"];

/// Writes a consistent copy of the open SQLite database to `target` (which must not exist).
/// `VACUUM INTO` reads one snapshot inside a read transaction: the server keeps answering
/// and writing meanwhile (WAL), and the copy holds every transaction committed before the
/// snapshot and none after. The copy is compacted and not yet synced to disk.
pub fn vacuum_into(conn: &mut DbConn, target: &Path) -> anyhow::Result<()> {
    let DbConn::Sqlite(conn) = conn else {
        anyhow::bail!("VACUUM INTO is a SQLite command; on PostgreSQL use pg_dump");
    };
    let target = target
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path {} is not UTF-8", target.display()))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(conn)
        .map_err(|e| anyhow::anyhow!("VACUUM INTO failed: {e}"))?;
    Ok(())
}

/// What [`check_file`] found in a database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// Migrations recorded as applied.
    pub migrations: i64,
}

#[derive(diesel::QueryableByName)]
struct Integrity {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Opens the SQLite file at `path` (which must exist: opening would create it) and checks
/// that it is a sound Procurement Pulse database: `PRAGMA integrity_check` says ok, the
/// diesel migrations table has entries and the product's tables are there.
pub fn check_file(path: &Path) -> anyhow::Result<FileCheck> {
    if !path.is_file() {
        anyhow::bail!("{} does not exist or is not a file", path.display());
    }
    let name = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the path {} is not UTF-8", path.display()))?;
    let mut conn = SqliteConnection::establish(name)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    // A file that is not a database fails here ("file is not a database").
    conn.batch_execute("PRAGMA query_only = ON")
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", path.display()))?;
    let rows: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", path.display()))?;
    let verdict: Vec<&str> = rows.iter().map(|r| r.integrity_check.as_str()).collect();
    if verdict != ["ok"] {
        anyhow::bail!(
            "{} failed PRAGMA integrity_check: {}",
            path.display(),
            verdict.join("; ")
        );
    }
    let tables: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?)",
    )
    .bind::<Text, _>(EXPECTED_TABLES[0])
    .bind::<Text, _>(EXPECTED_TABLES[1])
    .bind::<Text, _>(EXPECTED_TABLES[2])
    .bind::<Text, _>(EXPECTED_TABLES[3])
    .get_result(&mut conn)?;
    let has_migrations: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result(&mut conn)?;
    if has_migrations.n == 0 || tables.n != EXPECTED_TABLES.len() as i64 {
        anyhow::bail!(
            "{} is a SQLite database but not a Procurement Pulse database (tables {} missing)",
            path.display(),
            EXPECTED_TABLES.join(", ")
        );
    }
    let migrations: Count =
        diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
            .get_result(&mut conn)?;
    Ok(FileCheck {
        migrations: migrations.n,
    })
}
