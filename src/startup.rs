//! `Application::build` opens the database, runs migrations, pins the survey definitions,
//! binds the listener (port 0 in tests) and wires the routes, the metrics middleware, the
//! outbox worker and the scheduler; `run_until_stopped` serves until SIGTERM or SIGINT and
//! then shuts down gracefully (see [`Application::run_until`]).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use tokio::sync::watch;

use crate::auth::rate_limit::{IpLimiter, KeyLimiter, LoginLimiter};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db;
use crate::email::Mailer;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::results::ResultsCache;
use crate::routes;
use crate::scheduler;
use crate::services::link_lookups::LinkLookups;
use crate::services::respondent::DefinitionCache;
use crate::services::responses::SubmissionQueue;
use crate::services::surveys;

/// Shared by every request handler.
pub struct AppState {
    pub pool: db::Pool,
    pub settings: Arc<Settings>,
    pub login_limiter: LoginLimiter,
    pub survey_limiter: IpLimiter,
    /// Request API calls per API key.
    pub api_limiter: KeyLimiter,
    /// Writes the request API's requests in groups (one commit for many calls).
    pub request_writer: crate::requests::writer::RequestWriter,
    pub submissions: SubmissionQueue,
    /// Survey links of submissions looked up together (PostgreSQL; `None` on SQLite).
    pub link_lookups: Option<LinkLookups>,
    pub definitions: Arc<DefinitionCache>,
    /// Results of open waves until their next response, and snapshots of closed ones.
    pub results: ResultsCache,
    /// The rendered bodies of the results pages, kept while their results are current.
    pub result_pages: crate::views::results_cache::ResultsPageCache,
    /// How many people recent directory searches matched and the filter controls' values,
    /// while the directory is unchanged.
    pub directory_cache: Arc<crate::services::stakeholders::directory::DirectoryCache>,
    pub clock: Arc<dyn Clock>,
    /// Counters and histograms of `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// The scorecard definition (measures and targets), read at start.
    pub scorecard: Arc<crate::scorecards::definition::ScorecardDefinition>,
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// Tells the background tasks to stop; they finish what they are doing first.
    shutdown: watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<()>>,
    mailer: Arc<Mailer>,
}

impl Application {
    /// Builds the application on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the application with the given clock for the scheduler and the outbox.
    pub async fn build_with_clock(
        mut settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let url = settings.database_url.clone();
        let definitions_dir = settings.definitions_dir.clone();
        let key = settings.secret_key.clone();
        let pool = tokio::task::spawn_blocking(move || -> anyhow::Result<db::Pool> {
            let pool = db::connect(&url)?;
            let mut conn = pool.get().context("cannot open a database connection")?;
            let applied = db::run_migrations(&mut conn)?;
            for name in applied {
                tracing::info!(migration = %name, "applied migration");
            }
            surveys::load_and_pin(&mut conn, &definitions_dir, chrono::Utc::now().naive_utc())?;
            crate::services::responses::upgrade_storage(
                &mut conn,
                &key,
                chrono::Utc::now().naive_utc(),
            )?;
            Ok(pool)
        })
        .await??;
        let scorecard = Arc::new(crate::scorecards::definition::load_configured(
            &settings.definitions_dir,
        )?);
        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&address).with_context(|| {
            format!("cannot listen on {address} (is another pulse running? choose another --port)")
        })?;
        let port = listener.local_addr()?.port();
        if settings.port == 0 && settings.base_url.ends_with(":0") {
            settings.base_url = format!("http://{}:{port}", settings.host);
        }
        let mailer = Arc::new(Mailer::from_settings(&settings.email));
        let metrics = Arc::new(Metrics::new());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut background = Vec::new();
        if let Some(interval) = settings.scheduler_interval {
            background.push(tokio::spawn(scheduler::run(
                pool.clone(),
                settings.secret_key.clone(),
                clock.clone(),
                interval,
                metrics.clone(),
                shutdown_rx.clone(),
            )));
        }
        if settings.outbox_worker {
            let outbox = Arc::new(
                Outbox::new(
                    pool.clone(),
                    mailer.clone(),
                    settings.secret_key.clone(),
                    &settings.base_url,
                    clock.clone(),
                    settings.outbox.clone(),
                )
                .with_metrics(metrics.clone()),
            );
            background.push(tokio::spawn(
                outbox.run(shutdown_rx, settings.shutdown_grace),
            ));
        }
        let writer_clock = clock.clone();
        let submissions = SubmissionQueue::start(
            pool.clone(),
            settings.response_writers,
            Arc::new(move || writer_clock.now()),
        );
        let writer_clock = clock.clone();
        let request_writer = crate::requests::writer::RequestWriter::start(
            pool.clone(),
            settings.response_writers,
            // Which fulfilled requests were late: the pulses' groups.
            scorecard.request_targets.target_days(),
            Arc::new(move || writer_clock.now()),
        );
        let definitions = Arc::new(DefinitionCache::default());
        let link_lookups = if settings.database_url.is_sqlite() {
            None
        } else {
            let lookup_clock = clock.clone();
            LinkLookups::start(
                pool.clone(),
                definitions.clone(),
                settings.secret_key.clone(),
                Arc::new(move || lookup_clock.now()),
            )
        };
        let state = web::Data::new(AppState {
            pool,
            login_limiter: LoginLimiter::new(settings.login_attempts_per_minute),
            survey_limiter: IpLimiter::new(settings.survey_requests_per_minute),
            api_limiter: KeyLimiter::new(settings.api_requests_per_minute),
            request_writer,
            submissions,
            link_lookups,
            definitions,
            results: ResultsCache::default(),
            result_pages: Default::default(),
            directory_cache: Default::default(),
            clock,
            metrics,
            scorecard,
            settings: Arc::new(settings),
        });
        let app_state = state.clone();
        let grace = state.settings.shutdown_grace;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(routes::form_config())
                .wrap(actix_web::middleware::from_fn(routes::metrics::record))
                .configure(routes::configure)
        })
        // Signals are ours (`run_until_stopped`), so the HTTP server, the outbox worker and
        // the scheduler stop together.
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
            shutdown,
            background,
            mailer,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.state.settings.base_url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> db::Pool {
        self.state.pool.clone()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully ([`Self::run_until`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then shuts down gracefully, everything at once:
    /// the listener closes and in-flight requests get `shutdown_grace` to finish; the
    /// scheduler completes its tick; the outbox worker stops claiming, lets its sends
    /// finish within the grace period and hands the rest back to pending (no lease).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = self.server;
        let served = tokio::select! {
            served = &mut server => Some(served),
            () = stop => None,
        };
        let served = match served {
            Some(served) => served,
            None => {
                tracing::info!("shutting down: finishing in-flight requests and sends");
                let _ = self.shutdown.send(true);
                // Graceful: stop accepting, let the workers finish their requests.
                let stopping = handle.stop(true);
                let (served, ()) = tokio::join!(server, stopping);
                served
            }
        };
        let _ = self.shutdown.send(true);
        for task in self.background {
            let _ = task.await;
        }
        self.mailer.shutdown().await;
        tracing::info!("stopped");
        served
    }
}

/// Completes at the first SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = int.recv() => tracing::info!("SIGINT received"),
                }
            }
            _ => {
                tracing::error!("cannot listen for SIGTERM/SIGINT; stop with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
