//! Storage: the database URL, the connection pool, embedded migrations per backend, and the
//! transaction helper. All SQL of the product lives below this module (`models/`).

pub mod backup;
pub mod cached_sql;
pub mod conn;
pub mod models;
pub mod schema;

use std::fmt;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use conn::{establish_postgres, DbConn};

/// Runs the same diesel expression on whichever backend `conn` is, for the few queries
/// whose SQL differs or that the multi-backend query builder does not cover (upserts,
/// `FOR UPDATE SKIP LOCKED`): `on_backend!(conn, c => query.execute(c))`. Also for the
/// queries of every survey request: through the multi-backend wrapper a query's SQL text
/// is built again at each run (its statement cached by text); on the backend's own
/// connection it is prepared once and found by its type.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}

/// Rows per statement of a bulk insert through [`insert_batches!`](crate::insert_batches).
pub const INSERT_BATCH_ROWS: usize = 100;

/// From this many rows on, [`insert_batches!`](crate::insert_batches) without a conflict
/// clause writes to PostgreSQL with one `COPY … FROM STDIN` (binary) instead of INSERTs.
pub const COPY_ROWS: usize = 1000;

/// Inserts a slice of rows (an `Insertable` type) into a table as multi-row INSERTs:
/// `insert_batches!(conn, table, rows)` ([`INSERT_BATCH_ROWS`] rows a statement),
/// `insert_batches!(conn, table, rows, n)` (`n`, a constant) or
/// `insert_batches!(conn, table, rows, on_conflict_do_nothing)` (rows that conflict are
/// skipped). Evaluates to `QueryResult<usize>`, the rows inserted.
///
/// Every full batch is a fixed-size array of rows, so it has the same statement text and a
/// static query id: diesel prepares it once and reuses it from its statement cache (a slice
/// of rows is prepared anew for every statement; so row types own their values, as a cached
/// statement's type must not borrow). The last, shorter batch is one statement of its own.
/// Row types need `#[diesel(treat_none_as_default_value = false)]`, even without an `Option`
/// field: otherwise every field may be `DEFAULT`, and diesel inserts into SQLite (which has
/// no `DEFAULT` in `VALUES`) one statement per row. Values are always bound, never spliced
/// into SQL. On PostgreSQL [`COPY_ROWS`] rows or more (and no conflict clause) are one
/// binary `COPY` instead: it runs the same constraints and triggers, without a statement
/// per hundred rows (opening a wave of 100,000 invitations writes 200,000 rows).
#[macro_export]
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr) => {
        $crate::insert_batches!($conn, $table, $rows, $crate::db::INSERT_BATCH_ROWS)
    };
    ($conn:expr, $table:expr, $rows:expr, on_conflict_do_nothing) => {
        $crate::insert_batches!(@run $conn, $table, $rows, $crate::db::INSERT_BATCH_ROWS, on_conflict_do_nothing)
    };
    ($conn:expr, $table:expr, $rows:expr, $n:expr) => {{
        let rows = $rows;
        match &mut *$conn {
            $crate::db::DbConn::Pg(c) if rows.len() >= $crate::db::COPY_ROWS => {
                diesel::copy_from($table).from_insertable(rows).execute(c)
            }
            conn => $crate::insert_batches!(@run conn, $table, rows, $n,),
        }
    }};
    (@run $conn:expr, $table:expr, $rows:expr, $n:expr, $($conflict:ident)?) => {{
        let rows = $rows;
        let (full, rest) = rows.as_chunks::<{ $n }>();
        let mut inserted: usize = 0;
        let mut run = || -> diesel::QueryResult<()> {
            for chunk in full {
                let insert = diesel::insert_into($table).values(chunk)$(.$conflict())?;
                inserted += $crate::on_backend!(&mut *$conn, c => insert.execute(c))?;
            }
            if !rest.is_empty() {
                let insert = diesel::insert_into($table).values(rest)$(.$conflict())?;
                inserted += $crate::on_backend!(&mut *$conn, c => insert.execute(c))?;
            }
            Ok(())
        };
        run().map(|()| inserted)
    }};
}

pub type Pool = r2d2::Pool<conn::Manager>;
pub type PooledConn = r2d2::PooledConnection<conn::Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database, parsed from `--database-url`: `sqlite://path` or `postgres://…`
/// (`postgresql://` too). Anything else is refused, so a typo never creates a stray file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://pulse.db` → `pulse.db`, `sqlite:///var/lib/pulse.db` → absolute).
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("the SQLite URL has no file name: use e.g. sqlite://pulse.db".into());
            }
            return Ok(Self::Sqlite(path.to_string()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        Err(format!(
            "unsupported database URL '{}': use sqlite://FILE (e.g. sqlite://pulse.db) or postgres://USER@HOST/DB",
            redact_url(raw)
        ))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Prints the URL without its password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{path}"),
            Self::Postgres(url) => write!(f, "{}", redact_url(url)),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Replaces the password of a URL with `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Cannot fail: the URL has a password, so it has a host that takes one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Builds the pool. SQLite gets few connections (writes are serialised by SQLite anyway);
/// PostgreSQL more.
pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Pool> {
    let size = if url.is_sqlite() { 8 } else { 16 };
    let pool = r2d2::Pool::builder()
        .max_size(size)
        // Connections are opened on demand, never in the background: with min_idle 1 the pool
        // replenishes in a thread after the first `get`, and a CLI command that exits while
        // that thread is inside libpq's connect crashed (SIGSEGV / heap corruption at exit in
        // ~15% of `pulse migrate` runs on PostgreSQL).
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        // A SQLite connection (a file handle) cannot go stale, so it is not pinged with a
        // `SELECT 1` at checkout; a PostgreSQL one can (a server restart) and is, unless a
        // query of its own succeeded just before (`conn::Health`).
        .test_on_check_out(!url.is_sqlite())
        .build(conn::Manager::new(url.clone()))
        .map_err(|e| anyhow::anyhow!("cannot connect to the database {url}: {e}"))?;
    Ok(pool)
}

/// Applies every pending migration of the connection's backend; returns their names.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    let applied: Vec<String> = applied.iter().map(|m| m.to_string()).collect();
    if applied
        .iter()
        .any(|v| v.replace('-', "").starts_with(DIRECTORY_INDEX_VERSION))
    {
        models::stakeholders::refold_search_keys(conn)
            .map_err(|e| anyhow::anyhow!("migration failed: cannot fold the search keys: {e}"))?;
    }
    Ok(applied)
}

/// The migration that added the directory's search keys (`2026-12-01-000009_directory_index`),
/// which SQL alone cannot fold like the application does.
const DIRECTORY_INDEX_VERSION: &str = "20261201000009";

/// Reverts every applied migration, newest first (used by the up → down → up test and by
/// operators rolling back a release).
pub fn revert_all_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))?;
    Ok(reverted.iter().map(|m| m.to_string()).collect())
}

/// Reverts the newest applied migration; returns its version (used by the test that
/// migrates a directory written before `2026-12-01-000009_directory_index`).
pub fn revert_last_migration(conn: &mut DbConn) -> anyhow::Result<String> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("reverting the last migration failed: {e}"))?;
    Ok(reverted.to_string())
}

/// Runs `f` in a write transaction. On SQLite the transaction is `BEGIN IMMEDIATE`, so a
/// read-then-write transaction takes the write lock up front and waits (busy timeout)
/// instead of failing half-way; on PostgreSQL it is a normal transaction. Nested
/// `conn.transaction` calls inside `f` become savepoints.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::Connection;
    if let DbConn::Sqlite(inner) = conn {
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        let result = f(conn);
        let DbConn::Sqlite(inner) = conn else {
            unreachable!("the variant of a connection never changes")
        };
        return match result {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(inner)?;
                Ok(value)
            }
            Err(error) => {
                AnsiTransactionManager::rollback_transaction(inner)?;
                Err(error)
            }
        };
    }
    conn.transaction(f)
}

/// Runs [`write_transaction`] with a page cache large enough for a bulk write (a wave's
/// invitations and mails, a directory import): SQLite's default cache of 2 MB makes every
/// insert into an index on a random key (invitation ids, token hashes) spill and reread
/// pages. The cache is set back to the default afterwards, so pooled connections stay
/// small. PostgreSQL's shared buffers need nothing of this.
///
/// Temporary files are kept in memory for the transaction as well (`temp_store = MEMORY`):
/// a multi-row INSERT inside a transaction keeps a statement journal (a copy of every page it
/// changes that existed before it, to undo just that statement on a constraint error), and
/// SQLite writes it to a temporary file once it passes 64 kB. For inserts into an index on
/// a random key (token hashes) that is a copy of hundreds of pages per statement: most of the
/// time of opening a wave went into writing and re-reading those files. In memory, each is
/// freed when its statement ends.
pub fn bulk_write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    bulk_write_transaction_with_cache(conn, BULK_CACHE_KIB, f)
}

/// The page cache of [`bulk_write_transaction`], in KiB.
const BULK_CACHE_KIB: u32 = 32 * 1024;

/// [`bulk_write_transaction`] with a page cache of `cache_kib` KiB (a writer whose own data
/// is large may trade a little speed for a lower peak of memory).
pub fn bulk_write_transaction_with_cache<T, E, F>(
    conn: &mut DbConn,
    cache_kib: u32,
    f: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::SimpleConnection;
    if !matches!(conn, DbConn::Sqlite(_)) {
        return write_transaction(conn, f);
    }
    // A number of ours, not input.
    conn.batch_execute(&format!(
        "PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY"
    ))?;
    let result = write_transaction(conn, f);
    if let Err(error) = conn.batch_execute("PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT")
    {
        // The transaction has ended either way; a connection with a larger cache or its
        // temporary files in memory only holds more memory.
        tracing::warn!(%error, "could not set the page cache back to its default");
    }
    result
}

/// Sets up a connection that a writer thread keeps for its many small transactions (the
/// answers' group commit). On SQLite: a page cache of 16 MB that stays warm from one batch
/// to the next (the default 2 MB made every batch re-read the pages of the indexes it
/// inserts into, through system calls), and statement journals in memory (a multi-row
/// INSERT into an index on a random key otherwise writes its statement journal to a
/// temporary file: 15 % of the writer's time in a profile of `submit_bench`). PostgreSQL
/// needs nothing.
pub fn keep_as_writer(conn: &mut DbConn) -> diesel::QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(_) => {
            conn.batch_execute("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY")
        }
        DbConn::Pg(_) => Ok(()),
    }
}

/// `SELECT 1`: is the database reachable?
pub fn ping(conn: &mut DbConn) -> diesel::QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT 1")
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn parses_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://pulse.db").unwrap(),
            DatabaseUrl::Sqlite("pulse.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/pulse.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/pulse.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@localhost/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        let err = DatabaseUrl::parse("pulse.db").unwrap_err();
        assert!(err.contains("sqlite://"), "{err}");
        let err = DatabaseUrl::parse("mysql://u:secret@h/db").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
