//! Migrations run up → down → up on both backends, and `pulse migrate` applies them alone.

use diesel::connection::SimpleConnection;
use pulse::db;

use crate::both_backends;
use crate::helpers::{run_cli, text, Backend, TestDb};

async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let test_db = TestDb::new(backend);
    let pool = db::connect(&test_db.url).unwrap();
    let mut conn = pool.get().unwrap();

    let applied = db::run_migrations(&mut conn).unwrap();
    assert!(!applied.is_empty());
    conn.batch_execute("SELECT id, email, attributes FROM stakeholders")
        .unwrap();

    let reverted = db::revert_all_migrations(&mut conn).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(
        conn.batch_execute("SELECT id FROM stakeholders").is_err(),
        "tables are gone after down"
    );

    let again = db::run_migrations(&mut conn).unwrap();
    assert_eq!(again, applied);
    conn.batch_execute("SELECT id, email, attributes FROM stakeholders")
        .unwrap();
}

async fn migrate_command_applies_and_reports(backend: Backend) {
    let test_db = TestDb::new(backend);
    let first = run_cli(&test_db.raw_url, test_db.dir.path(), &["migrate"], None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("applied"),
        "{}",
        text(&first.stdout)
    );
    let second = run_cli(&test_db.raw_url, test_db.dir.path(), &["migrate"], None);
    assert!(second.status.success());
    assert!(
        text(&second.stdout).contains("up to date"),
        "{}",
        text(&second.stdout)
    );
}

both_backends!(
    migrations_go_up_down_and_up_again,
    migrate_command_applies_and_reports
);

#[test]
fn sqlite_connections_use_wal_full_sync_and_foreign_keys() {
    use diesel::sql_types::{BigInt, Text};
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Sync {
        #[diesel(sql_type = BigInt)]
        synchronous: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct Fk {
        #[diesel(sql_type = BigInt)]
        foreign_keys: i64,
    }
    let test_db = TestDb::new(Backend::Sqlite);
    let pool = db::connect(&test_db.url).unwrap();
    for _ in 0..3 {
        let mut conn = pool.get().unwrap();
        let db::DbConn::Sqlite(inner) = &mut *conn else {
            panic!("sqlite")
        };
        let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result(inner)
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        let sync: Sync = diesel::sql_query("PRAGMA synchronous")
            .get_result(inner)
            .unwrap();
        assert_eq!(sync.synchronous, 2, "synchronous=FULL");
        let fk: Fk = diesel::sql_query("PRAGMA foreign_keys")
            .get_result(inner)
            .unwrap();
        assert_eq!(fk.foreign_keys, 1);
    }
}

#[test]
fn unsupported_database_urls_are_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli("pulse.db", dir.path(), &["migrate"], None);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("sqlite://"), "{stderr}");
    assert!(
        !dir.path().join("pulse.db").exists(),
        "no stray database file is created"
    );
}
