//! Building the application: migrations → pool → services → listener → server. Only the
//! commands import this; handlers receive the one service they need as `web::Data<…>`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::auth::middleware::load_session;
use crate::auth::{ApiTokens, Auth};
use crate::config::Settings;
use crate::db::changes::Changes;
use crate::db::settings::OperatorSettings;
use crate::db::users::User;
use crate::error::AppError;
use crate::graph::GraphClient;
use crate::mail::Mailer;
use crate::publishing::{MediaStore, Publisher};
use crate::services::alerts::Alerts;
use crate::services::inbox::Inbox;
use crate::services::reports::Reports;
use crate::services::webhooks::Webhooks;
use crate::services::{
    Accounts, Archive, Background, Competitors, Health, MetaCallbacks, Publishing, SecondFactor, SettingsEditor,
    Syncing, Users, Views,
};
use crate::sync::SyncContext;
use crate::sync::scheduler::Scheduler;
use crate::telemetry::metrics::Metrics;
use crate::{db, routes, telemetry};

/// Largest request body accepted (forms are small); beyond it the answer is 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
const POOL_SIZE: usize = 10;

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub struct Application {
    port: u16,
    server: Server,
    syncing: Arc<Syncing>,
    accounts: Arc<Accounts>,
    publishing: Arc<Publishing>,
    inbox: Arc<Inbox>,
    reports: Arc<Reports>,
    alerts: Arc<Alerts>,
    background: Arc<Background>,
    /// What PostgreSQL says changed, when sessions are kept in memory.
    changes: Option<Arc<Changes>>,
    /// What runs beside the server until it stops: the listener for changes, the warm-up.
    tasks: Vec<tokio::task::JoinHandle<()>>,
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

        let listener =
            TcpListener::bind(settings.bind).with_context(|| format!("cannot listen on {}", settings.bind))?;
        let address = listener.local_addr()?;
        let port = address.port();
        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => url::Url::parse(&format!("http://{address}")).context("the bind address makes no URL")?,
        };

        let metrics = Arc::new(Metrics::new());
        let observed = metrics.clone();
        let graph = GraphClient::new(settings.graph.clone(), settings.graph_options.clone())?
            .with_observer(Arc::new(move |endpoint, outcome| observed.record_graph_call(endpoint, outcome)));
        let clock = settings.clock.clone();
        let sync = Arc::new(
            SyncContext::new(
                pool.clone(),
                &settings.database_url,
                graph.clone(),
                settings.token_key.clone(),
                clock.clone(),
            )
            .with_metrics(metrics.clone())
            .with_apps(settings.apps.clone()),
        );
        sync.close_abandoned_runs().await?;
        let store = MediaStore::open(&settings.data_dir, &settings.token_key, public_url.clone())?;
        let publisher =
            Publisher::new(pool.clone(), graph.clone(), settings.token_key.clone(), store.clone(), clock.clone())
                .with_options(settings.publish_options.clone());
        let publishing =
            Arc::new(Publishing::new(pool.clone(), Arc::new(publisher), clock.clone()).with_sync(sync.clone()));
        let inbox = Arc::new(Inbox::new(pool.clone(), graph.clone(), settings.token_key.clone(), clock.clone()));
        let views = Arc::new(Views::new(pool.clone(), clock.clone()));
        let mailer = Mailer::new(settings.mail.clone());
        let reports =
            Arc::new(Reports::new(pool.clone(), views.clone(), mailer.clone(), public_url.clone(), clock.clone()));
        let alerts =
            Arc::new(Alerts::new(pool.clone(), mailer, &settings.token_key, public_url.clone(), clock.clone()));
        let scheduler =
            if settings.run_scheduler { Some(Scheduler::start(sync.clone(), &schedule).await?) } else { None };
        let background = Arc::new(Background::new(
            &settings.database_url,
            inbox.clone(),
            publishing.clone(),
            alerts.clone(),
            reports.clone(),
            views.clone(),
        ));
        // Sessions are kept in memory only while PostgreSQL can say when they change.
        let changes = settings.keep_sessions.then(|| Arc::new(Changes::default()));
        let mut tasks: Vec<_> = changes.iter().map(|changes| changes.listen(&settings.database_url)).collect();
        if let Some(scheduler) = &scheduler {
            schedule_background(scheduler, &background).await?;
            tasks.push(warm_up(background.clone(), changes.clone()));
        }
        let syncing = Arc::new(Syncing::new(sync, scheduler));
        let meta =
            web::Data::new(MetaCallbacks::new(pool.clone(), settings.apps.clone(), public_url.clone(), clock.clone()));
        let webhooks = web::Data::new(Webhooks::new(pool.clone(), settings.apps.clone(), clock.clone()));
        let inbox_data = web::Data::from(inbox.clone());
        let accounts = Arc::new(
            Accounts::new(pool.clone(), graph, settings.token_key.clone(), clock.clone())
                .with_dialogs(settings.apps.clone(), public_url.clone())
                .with_media(store.clone()),
        );
        let views = web::Data::from(views);
        let health = web::Data::new(Health::new(pool.clone(), metrics.clone(), syncing.clone(), clock));
        let auth = web::Data::new(
            Auth::new(
                pool.clone(),
                &settings.session,
                settings.demo,
                settings.trusted_proxies.clone(),
                settings.public_url.clone(),
                changes.clone(),
            )
            .await?,
        );
        let users = web::Data::new(Users::new(pool.clone()));
        let competitors = web::Data::new(Competitors::new(pool.clone(), settings.clock.clone()));
        let api_tokens = web::Data::new(ApiTokens::new(
            pool.clone(),
            &settings.token_key,
            settings.api_requests_per_minute,
            settings.clock.clone(),
        ));
        let second_factor = web::Data::new(SecondFactor::new(pool.clone(), settings.token_key.clone(), &public_url));
        let archive = web::Data::new(Archive::new(pool.clone(), settings.clock.clone()));
        let editor = web::Data::new(SettingsEditor::new(pool, syncing.clone()));
        let metrics = web::Data::from(metrics);
        let publishing_data = web::Data::from(publishing.clone());
        let reports_data = web::Data::from(reports.clone());
        let alerts_data = web::Data::from(alerts.clone());
        let (syncing_data, accounts_data) = (web::Data::from(syncing.clone()), web::Data::from(accounts.clone()));
        let metrics_access = web::Data::new(routes::health::MetricsAccess {
            public: settings.metrics_public,
            token: settings.metrics_token.clone(),
        });
        let secure = settings.session.cookie_secure;

        let server = HttpServer::new(move || {
            App::new()
                .app_data(auth.clone())
                .app_data(users.clone())
                .app_data(competitors.clone())
                .app_data(api_tokens.clone())
                .app_data(second_factor.clone())
                .app_data(meta.clone())
                .app_data(webhooks.clone())
                .app_data(inbox_data.clone())
                .app_data(archive.clone())
                .app_data(editor.clone())
                .app_data(views.clone())
                .app_data(health.clone())
                .app_data(metrics.clone())
                .app_data(metrics_access.clone())
                .app_data(syncing_data.clone())
                .app_data(accounts_data.clone())
                .app_data(publishing_data.clone())
                .app_data(reports_data.clone())
                .app_data(alerts_data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    AppError::BadRequest("The address has a malformed query string.".into()).into()
                }))
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
                // Inner to `load_session`, so it sees who is signed in.
                .wrap(from_fn(routes::signed_in_pages))
                .wrap(from_fn(load_session))
                .wrap(Compress::default())
                .wrap(security_headers(secure))
                .wrap(from_fn(telemetry::log_request))
        })
        // Streamed bodies (CSV exports) go out in chunks: do not let Nagle hold them back.
        .tcp_nodelay(true)
        .listen(listener)?
        .run();
        tracing::info!(address = %settings.bind, port, "listening");
        Ok(Self {
            port,
            server,
            syncing,
            accounts,
            publishing,
            inbox,
            reports,
            alerts,
            background,
            changes,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and lets a running
    /// sync commit.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        for task in &self.tasks {
            task.abort();
        }
        self.syncing.shutdown(SHUTDOWN_GRACE).await;
        result
    }

    /// What PostgreSQL has said changed (`None` when sessions are not kept in memory).
    pub fn changes(&self) -> Option<Arc<Changes>> {
        self.changes.clone()
    }

    /// The sync this application runs (tests call `sync::run` with it).
    pub fn sync(&self) -> Arc<SyncContext> {
        self.syncing.context()
    }

    /// The inbox service of this application (tests run its rules through it).
    pub fn inbox(&self) -> Arc<Inbox> {
        self.inbox.clone()
    }

    /// The publishing service of this application (tests run the publisher through it).
    pub fn publishing(&self) -> Arc<Publishing> {
        self.publishing.clone()
    }

    /// The reports service (tests call its scheduler pass directly).
    pub fn reports(&self) -> Arc<Reports> {
        self.reports.clone()
    }

    /// The alerts service (tests call its evaluation directly).
    pub fn alerts(&self) -> Arc<Alerts> {
        self.alerts.clone()
    }

    /// The accounts service of this application (tests connect accounts through it).
    pub fn accounts(&self) -> Arc<Accounts> {
        self.accounts.clone()
    }

    /// The passes the scheduler runs (tests run them as the scheduler would, in two processes).
    pub fn background(&self) -> Arc<Background> {
        self.background.clone()
    }
}

/// Schedules the background passes, each every minute.
async fn schedule_background(scheduler: &Scheduler, background: &Arc<Background>) -> anyhow::Result<()> {
    every_minute(scheduler, background, "inbox rules", |b| async move { b.inbox_rules().await.map(drop) }).await?;
    every_minute(scheduler, background, "publisher", |b| async move { b.publisher().await.map(drop) }).await?;
    every_minute(scheduler, background, "alerts", |b| async move { b.alerts().await.map(drop) }).await?;
    every_minute(scheduler, background, "reports", |b| async move { b.reports().await.map(drop) }).await?;
    Ok(())
}

/// How often the warm-up looks whether the data moved when no notice says so.
const WARM_UP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How long the warm-up lets a burst of changes gather: a sync commits account after account.
const WARM_UP_SETTLE: std::time::Duration = std::time::Duration::from_millis(250);

/// After a sync (or any change) the first visitor would pay for the pages' figures: the warm-up
/// computes the default views first, as soon as PostgreSQL says the data version moved (in this
/// process or another), and every five seconds besides (one read of the data version when
/// nothing moved), which is all it has while nobody listens for changes.
fn warm_up(background: Arc<Background>, changes: Option<Arc<Changes>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let every = tokio::time::sleep(WARM_UP_EVERY);
            match &changes {
                Some(changes) => {
                    tokio::select! {
                        () = changes.data_moved() => tokio::time::sleep(WARM_UP_SETTLE).await,
                        () = every => {}
                    }
                }
                None => every.await,
            }
            if let Err(err) = background.warm_up().await {
                tracing::warn!(error = format!("{err:#}"), "pages could not be computed ahead");
            }
        }
    })
}

/// Runs `pass` every minute, logging a failure (the next minute tries again).
async fn every_minute<Fut>(
    scheduler: &Scheduler,
    background: &Arc<Background>,
    name: &'static str,
    pass: fn(Arc<Background>) -> Fut,
) -> anyhow::Result<()>
where
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let background = background.clone();
    scheduler
        .every_minute(name, move || {
            let pass = pass(background.clone());
            async move {
                if let Err(err) = pass.await {
                    tracing::error!(pass = name, error = format!("{err:#}"), "a background pass failed");
                }
            }
        })
        .await
}

/// Headers every answer carries; with Secure cookies (served over HTTPS) also HSTS, so a
/// browser never talks to this site over plain HTTP again.
fn security_headers(secure: bool) -> DefaultHeaders {
    let headers = if secure {
        DefaultHeaders::new().add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add(("cross-origin-opener-policy", "same-origin"))
        .add(("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"))
        // Pages show private figures: no shared cache may keep them. Static files set their own.
        .add((header::CACHE_CONTROL, "no-store"))
}
