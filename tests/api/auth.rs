//! Sign-in, sessions, CSRF and rate limits.

use pulse::domain::Role;

use crate::both_backends;
use crate::helpers::{new_client, spawn_app, spawn_app_with, Backend, PASSWORD};

async fn admin_pages_require_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/admin").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login?next=%2Fadmin");
}

async fn sign_in_succeeds_and_sets_a_strict_http_only_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("lead@example.com", Role::Lead);

    let response = app.login("lead@example.com", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("pulse_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");

    let home = app.get("/admin").await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("lead@example.com"));
}

async fn wrong_password_and_unknown_account_are_refused_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("lead@example.com", Role::Lead);

    let wrong = app.login("lead@example.com", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong_body = wrong.text().await.unwrap();
    assert!(wrong_body.contains("email or password is not right"));

    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    assert!(unknown
        .text()
        .await
        .unwrap()
        .contains("email or password is not right"));

    assert_eq!(app.get("/admin").await.status(), 303, "still signed out");
}

async fn logout_ends_the_session_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in_admin().await;
    let session_cookie = session_cookie_of(&app).await;

    let response = app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(response.status(), 303);

    // Replaying the old cookie from another client does not work: the server forgot it.
    let replay = new_client()
        .get(app.url("/admin"))
        .header("cookie", format!("pulse_session={session_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
}

async fn sign_in_rotates_the_session_id(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signed_in_admin().await;
    let first = session_cookie_of(&app).await;

    assert_eq!(app.login("admin@example.com", PASSWORD).await.status(), 303);
    let second = session_cookie_of(&app).await;
    assert_ne!(first, second);

    let old = new_client()
        .get(app.url("/admin"))
        .header("cookie", format!("pulse_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        303,
        "the pre-rotation session no longer works"
    );
    let new = new_client()
        .get(app.url("/admin"))
        .header("cookie", format!("pulse_session={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
}

async fn forms_without_the_right_csrf_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in_admin().await;

    let forged = app.post_form("/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.get("/admin").await.status(), 200, "still signed in");

    // The sign-in form is protected too: a token without the matching cookie fails.
    app.create_user("lead@example.com", Role::Lead);
    let stranger = new_client();
    let response = stranger
        .post(app.url("/login"))
        .form(&[
            ("email", "lead@example.com"),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

async fn sign_in_attempts_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_attempts_per_minute = 3).await;
    app.create_user("lead@example.com", Role::Lead);
    for _ in 0..3 {
        assert_eq!(
            app.login("lead@example.com", "wrong password!")
                .await
                .status(),
            401
        );
    }
    let limited = app.login("lead@example.com", PASSWORD).await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    assert_eq!(limited.headers()["retry-after"], "60");
    assert!(limited
        .text()
        .await
        .unwrap()
        .contains("Too many sign-in attempts"));
}

async fn idle_sessions_expire(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.session_idle_timeout = std::time::Duration::from_secs(1)
    })
    .await;
    app.signed_in_admin().await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.get("/admin").await.status(), 303);
}

async fn user_add_cli_creates_an_argon2id_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let output = crate::helpers::run_cli(
        &app.db.raw_url,
        app.db.dir.path(),
        &[
            "user",
            "add",
            "--email",
            "Chief@Example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a very long password\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        crate::helpers::text(&output.stderr)
    );
    let mut conn = app.pool.get().unwrap();
    let user = pulse::db::models::users::find_by_email(&mut conn, "Chief@example.com")
        .unwrap()
        .unwrap();
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert_eq!(
        app.login("Chief@example.com", "a very long password")
            .await
            .status(),
        303
    );

    let short = crate::helpers::run_cli(
        &app.db.raw_url,
        app.db.dir.path(),
        &[
            "user",
            "add",
            "--email",
            "x@example.com",
            "--role",
            "lead",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!short.status.success());
    assert!(crate::helpers::text(&short.stderr).contains("at least 12"));

    let bad_role = crate::helpers::run_cli(
        &app.db.raw_url,
        app.db.dir.path(),
        &["user", "add", "--email", "x@example.com", "--role", "boss"],
        None,
    );
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(crate::helpers::text(&bad_role.stderr).contains("admin"));
}

both_backends!(
    admin_pages_require_sign_in,
    sign_in_succeeds_and_sets_a_strict_http_only_cookie,
    wrong_password_and_unknown_account_are_refused_alike,
    logout_ends_the_session_on_the_server,
    sign_in_rotates_the_session_id,
    forms_without_the_right_csrf_token_are_refused,
    sign_in_attempts_are_rate_limited,
    idle_sessions_expire,
    user_add_cli_creates_an_argon2id_account,
);

/// The session cookie currently in the app client's jar.
async fn session_cookie_of(app: &crate::helpers::TestApp) -> String {
    use reqwest::cookie::CookieStore;
    let url: reqwest::Url = app.address.parse().unwrap();
    let jar = app.cookie_jar.cookies(&url).expect("cookies");
    jar.to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("pulse_session="))
        .expect("session cookie")
        .to_string()
}
