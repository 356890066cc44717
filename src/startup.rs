//! Building the application: migrations → pool → shared state → listener → server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::auth::csrf::CsrfKey;
use crate::auth::middleware::load_session;
use crate::auth::password;
use crate::auth::session::SessionKeys;
use crate::auth::throttle::LoginThrottle;
use crate::cache::ViewCache;
use crate::config::Settings;
use crate::db::settings::OperatorSettings;
use crate::db::users::User;
use crate::error::AppError;
use crate::graph::GraphClient;
use crate::metrics::Metrics;
use crate::sync::SyncContext;
use crate::sync::scheduler::Scheduler;
use crate::{db, routes, telemetry};

/// Largest request body accepted (forms are small); beyond it the answer is 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
const POOL_SIZE: usize = 10;

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// What every handler can reach.
pub struct AppState {
    pub pool: db::Pool,
    pub sessions: SessionKeys,
    pub csrf: CsrfKey,
    pub throttle: LoginThrottle,
    /// Checked against when the username is unknown, so that failure takes as long as a
    /// wrong password.
    pub dummy_hash: String,
    /// The migration versions this binary carries (for `/readyz`).
    pub migrations: Vec<String>,
    pub sync: Arc<SyncContext>,
    /// Absent when the settings turn the scheduler off (tests).
    pub scheduler: Option<Scheduler>,
    /// This Tidemark shows demo data (`tidemark demo`).
    pub demo: bool,
    pub metrics: Arc<Metrics>,
    /// Serve `/metrics` to any address, not only loopback.
    pub metrics_public: bool,
    /// What the analytics pages computed, for as long as the data has not changed.
    pub cache: ViewCache,
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// How long shutdown waits for a running sync to commit.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let applied = db::run_migrations(&settings.database_url).await?;
        tracing::info!(applied, "database migrations are current");
        let pool = db::pool(&settings.database_url, POOL_SIZE)?;
        let mut conn = pool.get().await.context("cannot connect to the database")?;
        if User::count(&mut conn).await.context("cannot count users")? == 0 {
            tracing::warn!(
                "no users yet: create the first admin with `tidemark user create --username NAME --role admin` (it reads the password from stdin)"
            );
        }
        let schedule = OperatorSettings::load(&mut conn).await.context("cannot read the settings")?.sync_schedule;
        drop(conn);

        let metrics = Arc::new(Metrics::new());
        let observed = metrics.clone();
        let graph = GraphClient::new(settings.graph.clone(), settings.graph_options.clone())?
            .with_observer(Arc::new(move |endpoint, outcome| observed.record_graph_call(endpoint, outcome)));
        let sync = Arc::new(
            SyncContext::new(
                pool.clone(),
                &settings.database_url,
                graph,
                settings.token_key.clone(),
                settings.clock.clone(),
            )
            .with_metrics(metrics.clone()),
        );
        let scheduler =
            if settings.run_scheduler { Some(Scheduler::start(sync.clone(), &schedule).await?) } else { None };
        let state = web::Data::new(AppState {
            pool,
            sessions: SessionKeys::new(&settings.session),
            csrf: CsrfKey::derive(&settings.session.secret),
            throttle: LoginThrottle::default(),
            dummy_hash: password::hash("tidemark timing equaliser".into()).await?,
            migrations: db::embedded_versions(),
            sync,
            scheduler,
            demo: settings.demo,
            metrics,
            metrics_public: settings.metrics_public,
            cache: ViewCache::default(),
        });

        let listener =
            TcpListener::bind(settings.bind).with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    AppError::BadRequest("The address has a malformed query string.".into()).into()
                }))
                .configure(routes::configure)
                .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(AppError::NotFound) }))
                .wrap(from_fn(load_session))
                .wrap(Compress::default())
                .wrap(security_headers())
                .wrap(from_fn(telemetry::log_request))
        })
        // Streamed bodies (CSV exports) go out in chunks: do not let Nagle hold them back.
        .tcp_nodelay(true)
        .listen(listener)?
        .run();
        tracing::info!(address = %settings.bind, port, "listening");
        Ok(Self { port, server, state: app_state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and lets a running
    /// sync commit.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(scheduler) = &self.state.scheduler {
            scheduler.shutdown(SHUTDOWN_GRACE).await;
        }
        result
    }

    /// The sync this application runs (tests call `sync::run` with it).
    pub fn sync(&self) -> Arc<SyncContext> {
        self.state.sync.clone()
    }
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add(("cross-origin-opener-policy", "same-origin"))
        .add(("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"))
        // Pages show private figures: no shared cache may keep them. Static files set their own.
        .add((header::CACHE_CONTROL, "no-store"))
}
