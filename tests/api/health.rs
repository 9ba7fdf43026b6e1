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
