//! `Application::build` opens the database, runs migrations, pins the survey definitions,
//! binds the listener (port 0 in tests) and wires the routes; `run_until_stopped` serves
//! until a shutdown signal.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::auth::rate_limit::LoginLimiter;
use crate::config::Settings;
use crate::db;
use crate::routes;
use crate::services::surveys;

/// Shared by every request handler.
pub struct AppState {
    pub pool: db::Pool,
    pub settings: Arc<Settings>,
    pub login_limiter: LoginLimiter,
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.clone();
        let definitions_dir = settings.definitions_dir.clone();
        let pool = tokio::task::spawn_blocking(move || -> anyhow::Result<db::Pool> {
            let pool = db::connect(&url)?;
            let mut conn = pool.get().context("cannot open a database connection")?;
            let applied = db::run_migrations(&mut conn)?;
            for name in applied {
                tracing::info!(migration = %name, "applied migration");
            }
            surveys::load_and_pin(&mut conn, &definitions_dir, chrono::Utc::now().naive_utc())?;
            Ok(pool)
        })
        .await??;
        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&address).with_context(|| {
            format!("cannot listen on {address} (is another pulse running? choose another --port)")
        })?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            pool,
            login_limiter: LoginLimiter::new(settings.login_attempts_per_minute),
            settings: Arc::new(settings),
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .configure(routes::configure)
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> db::Pool {
        self.state.pool.clone()
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests are finished first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
