//! Health endpoints, security headers and error pages.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend};

async fn health_endpoints_answer(backend: Backend) {
    let app = spawn_app(backend).await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

async fn every_page_sends_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/login", "/healthz", "/no-such-page", "/assets/pulse.css"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
    }
}

async fn error_pages_are_html_for_browsers_and_text_otherwise(backend: Backend) {
    let app = spawn_app(backend).await;

    let page = app.get("/no-such-page").await;
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = page.text().await.unwrap();
    assert!(body.contains("Page not found"), "{body}");
    assert!(
        body.contains("/assets/pulse.css"),
        "the error page uses the layout"
    );

    let plain = reqwest::Client::new()
        .get(app.url("/no-such-page"))
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 404);
    assert!(plain.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(plain.text().await.unwrap().contains("does not exist"));
}

both_backends!(
    health_endpoints_answer,
    every_page_sends_security_headers,
    error_pages_are_html_for_browsers_and_text_otherwise
);

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    // SQLite: remove the file's directory permissions? Simplest real failure: PostgreSQL
    // database dropped under the running app.
    let Some(_) = crate::helpers::postgres_admin_url() else {
        eprintln!("skipped: PULSE_TEST_POSTGRES_URL is not set");
        return;
    };
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let crate::helpers::TestApp { db, address, .. } = app;
    drop(db); // DROP DATABASE ... WITH (FORCE) terminates the pool's connections
    let response = crate::helpers::new_client()
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

/// The backend process of a pooled PostgreSQL connection, and a connection of the test's
/// own that ends it the way a server restart would.
fn backend_pid(conn: &mut pulse::db::DbConn) -> i32 {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .unwrap()
        .pid
}

fn terminate(admin: &str, pid: i32) {
    use diesel::RunQueryDsl;
    let mut conn = pulse::db::establish_postgres(admin).unwrap();
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
        .execute(&mut conn)
        .unwrap();
}

#[tokio::test]
async fn a_postgres_connection_the_server_ended_leaves_the_pool() {
    let Some(admin) = crate::helpers::postgres_admin_url() else {
        eprintln!("skipped: PULSE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = crate::helpers::TestDb::new(Backend::Postgres);
    let pool = pulse::db::connect(&db.url).unwrap();

    // Used just now, so handed out again without a ping: the one query that finds it gone
    // fails, and the connection is dropped instead of going back to the pool.
    let first = backend_pid(&mut pool.get().unwrap());
    terminate(&admin, first);
    let mut conn = pool.get().unwrap();
    let error = pulse::db::ping(&mut conn).unwrap_err();
    assert!(
        matches!(
            error,
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection
                    | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                _
            )
        ),
        "{error:?}"
    );
    drop(conn);
    let second = backend_pid(&mut pool.get().unwrap());
    assert_ne!(second, first, "a new connection replaced the lost one");

    // Idle for longer than a connection is trusted: pinged at checkout, and replaced before
    // anyone's query sees it gone.
    terminate(&admin, second);
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let third = backend_pid(&mut pool.get().unwrap());
    assert_ne!(third, second);
}
