//! The one connection type of the product: SQLite or PostgreSQL, chosen by URL scheme, and
//! the r2d2 manager that sets the SQLite pragmas on every pooled connection and keeps a
//! PostgreSQL connection's health.

use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::result::DatabaseErrorKind;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::DatabaseUrl;

/// A database connection on either backend. Queries written against `db::schema` run on
/// both; where SQL really differs (locking, upserts), match on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Pragmas applied to every SQLite connection: WAL so readers never block the writer,
/// `synchronous=FULL` so an acknowledged answer survives power loss, foreign keys on, and a
/// busy timeout so concurrent writers wait instead of failing.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 10000;";

/// Opens one connection. The backend is decided by the parsed URL, never by trying one
/// backend after the other (a SQLite driver accepts any string as a file name).
pub fn establish(url: &DatabaseUrl) -> Result<DbConn, diesel::ConnectionError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            stable_query_plans();
            let mut conn = SqliteConnection::establish(path)?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConn::Sqlite(conn))
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = establish_postgres(url)?;
            conn.set_instrumentation(Health::default());
            Ok(DbConn::Pg(conn))
        }
    }
}

/// Opens a plain PostgreSQL connection — every PostgreSQL connection of the product, its
/// tests and benchmarks goes through here.
///
/// libpq speaks TLS through OpenSSL (on by default: `sslmode=prefer`). Left to itself,
/// OpenSSL initialises on libpq's first TLS connection and registers an `atexit` handler
/// that frees its global state when the process exits — while other threads (the pool's,
/// the answer writers') may still be closing TLS connections, and the process then dies
/// with SIGSEGV after its work is done (seen once in CI: all 364 API tests passed, then
/// signal 11). Initialising OpenSSL first, as `openssl_sys::init` does with
/// `OPENSSL_INIT_NO_ATEXIT`, leaves that cleanup to the operating system, which frees
/// everything at exit anyway. The first initialisation decides, so it must come before
/// libpq's.
pub fn establish_postgres(url: &str) -> Result<PgConnection, diesel::ConnectionError> {
    openssl_sys::init();
    PgConnection::establish(url)
}

/// How long after a PostgreSQL connection's last successful query the pool hands it out
/// without pinging it first (see [`Health`]).
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// What a PostgreSQL connection's own queries have shown of it, kept by diesel's
/// instrumentation hook on every query: when one last succeeded, and whether one found the
/// connection gone (the server restarted or ended the session).
///
/// The pool pings a connection (`SELECT 1`, a round trip) at checkout only if it has not
/// succeeded within [`TRUSTED_FOR`]: under load a connection is busy every few
/// milliseconds, and the ping was one of three round trips per answer (`submit_bench`).
/// A connection a query found gone is dropped when it returns to the pool — diesel's own
/// `is_broken` looks at its transaction state only — so a server restart costs at most the
/// one request per pooled connection that finds it out.
#[derive(Debug, Default)]
struct Health {
    last_ok: Option<Instant>,
    lost: bool,
}

impl Instrumentation for Health {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error, .. } = event {
            match error {
                None => self.last_ok = Some(Instant::now()),
                Some(diesel::result::Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                )) => self.lost = true,
                Some(_) => {}
            }
        }
    }
}

impl Health {
    /// The health kept for `conn`, if it is a PostgreSQL connection made by [`establish`].
    fn of(conn: &mut DbConn) -> Option<&mut Health> {
        match conn {
            DbConn::Pg(c) => c.instrumentation().downcast_mut::<Health>(),
            DbConn::Sqlite(_) => None,
        }
    }
}

/// Turns on SQLite's query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) for
/// every SQLite connection this process opens from now on, once.
///
/// Without it, SQLite plans `LIMIT ?` — every diesel `.first()` — and `LIKE ?` with the
/// value bound at the time, and marks the statement as depending on it: each rebind expires
/// the cached statement and the next step parses and plans it again. A profile of
/// `submit_bench` showed the token lookup behind every survey link spending more than half
/// its time re-preparing its join that way. With the guarantee a plan depends on the schema
/// and statistics only, so cached statements stay prepared; none of our queries needs a
/// plan tuned to a bound value (the directory picks its leading condition itself).
///
/// diesel does not hand out its `sqlite3*`, so the setting is made by an auto-extension:
/// SQLite calls it for each connection it opens.
pub fn stable_query_plans() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `enable_qpsg` has the entry-point signature SQLite expects and only calls
        // `sqlite3_db_config` on the connection SQLite passes it while opening it.
        let rc = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(enable_qpsg)) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(rc, "cannot register the SQLite query-plan setting");
        }
    });
}

/// The auto-extension of [`stable_query_plans`].
unsafe extern "C" fn enable_qpsg(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::ffi::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: `db` is the connection being opened; the option takes an int (1 = on) and
    // an optional int pointer for the new value (null: not wanted).
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    }
}

/// r2d2 manager for [`DbConn`].
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        let trusted = Health::of(conn).is_some_and(|health| {
            !health.lost && health.last_ok.is_some_and(|at| at.elapsed() < TRUSTED_FOR)
        });
        if trusted {
            return Ok(());
        }
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken() || Health::of(conn).is_some_and(|health| health.lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether SQLite's query planner stability guarantee is on for a connection opened now,
    /// read back from SQLite itself.
    fn qpsg_of_new_connection() -> std::ffi::c_int {
        let mut db: *mut libsqlite3_sys::sqlite3 = std::ptr::null_mut();
        let name = std::ffi::CString::new(":memory:").unwrap();
        let mut on: std::ffi::c_int = -1;
        unsafe {
            assert_eq!(
                libsqlite3_sys::sqlite3_open(name.as_ptr(), &mut db),
                libsqlite3_sys::SQLITE_OK
            );
            libsqlite3_sys::sqlite3_db_config(
                db,
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                -1 as std::ffi::c_int,
                &mut on as *mut std::ffi::c_int,
            );
            libsqlite3_sys::sqlite3_close(db);
        }
        on
    }

    #[test]
    fn sqlite_connections_plan_independently_of_bound_values() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("p.db").display().to_string());
        // Opening a connection the product's way registers the setting for every later one.
        let mut conn = establish(&url).unwrap();
        conn.batch_execute("SELECT 1").unwrap();
        assert_eq!(qpsg_of_new_connection(), 1);
    }
}
