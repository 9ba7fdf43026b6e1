//! The one connection type of the product: SQLite or PostgreSQL, chosen by URL scheme, and
//! the r2d2 manager that sets the SQLite pragmas on every pooled connection.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
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
            let mut conn = SqliteConnection::establish(path)?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConn::Sqlite(conn))
        }
        DatabaseUrl::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
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
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}
