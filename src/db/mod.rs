//! The data layer: the connection pool, embedded migrations and one module per table.
//! Every diesel query lives under this module.

pub mod account_history;
pub mod accounts;
pub mod alerts;
pub mod api_tokens;
pub mod audience;
pub mod changes;
pub mod comments;
pub mod competitors;
pub mod dropped_metrics;
pub mod inbox;
pub mod locks;
pub mod mentions;
pub mod meta_requests;
pub mod oauth;
pub mod posts;
pub mod publications;
pub mod report_schedules;
pub mod reports;
pub mod retention;
pub mod schema;
pub mod scores;
pub mod second_factor;
pub mod sent_reports;
pub mod sessions;
pub mod settings;
pub mod shared_links;
pub mod snapshots;
pub mod stats;
pub mod sync_runs;
pub mod thumbnails;
pub mod users;

use anyhow::Context;
use diesel::Connection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DeadPool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type Pool = DeadPool<AsyncPgConnection>;
pub type Conn = Object<AsyncPgConnection>;

/// A failed database step: every connection busy past the wait, no connection from the pool,
/// or a failed query.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("every database connection stayed busy for {} s", POOL_WAIT.as_secs())]
    Busy,
    #[error("no database connection: {0}")]
    Pool(diesel_async::pooled_connection::deadpool::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for DbError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        match err {
            deadpool::managed::PoolError::Timeout(_) => DbError::Busy,
            other => DbError::Pool(other),
        }
    }
}

/// How long a request waits for a free connection before it is told the service is busy
/// (rather than hanging while the pool is exhausted).
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A pool of `size` connections. Connections open lazily, so this does not touch the server.
pub fn pool(database_url: &str, size: usize) -> anyhow::Result<Pool> {
    pool_waiting(database_url, size, POOL_WAIT)
}

/// A pool whose callers wait at most `wait` for a connection ([`DbError::Busy`] after that).
pub fn pool_waiting(database_url: &str, size: usize, wait: std::time::Duration) -> anyhow::Result<Pool> {
    // No `SELECT 1` before each use: a connection the server closed is already known broken
    // (its client is closed) and is replaced; the ping would double every page's round trips.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    DeadPool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(wait))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("cannot build the database pool")
}

/// Applies every pending migration; returns how many ran.
pub async fn run_migrations(database_url: &str) -> anyhow::Result<usize> {
    with_migration_connection(database_url, |conn| {
        let applied =
            conn.run_pending_migrations(MIGRATIONS).map_err(|err| anyhow::anyhow!("a migration failed: {err}"))?;
        Ok(applied.len())
    })
    .await
}

/// Reverts every migration (tests of `down.sql`).
pub async fn revert_migrations(database_url: &str) -> anyhow::Result<()> {
    with_migration_connection(database_url, |conn| {
        conn.revert_all_migrations(MIGRATIONS).map_err(|err| anyhow::anyhow!("reverting migrations failed: {err}"))?;
        Ok(())
    })
    .await
}

/// Diesel's migration runner is synchronous: run it on a blocking thread over a wrapped
/// async connection (this works on any tokio runtime flavour).
async fn with_migration_connection<T: Send + 'static>(
    database_url: &str,
    work: impl FnOnce(&mut AsyncConnectionWrapper<AsyncPgConnection>) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).context("cannot connect to the database")?;
        work(&mut conn)
    })
    .await
    .context("the migration task stopped")?
}

/// The versions of the migrations compiled into this binary.
pub fn embedded_versions() -> Vec<String> {
    MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map(|list| list.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default()
}

diesel::table! {
    __diesel_schema_migrations (version) {
        version -> VarChar,
        run_on -> Timestamp,
    }
}

/// True when every embedded migration has been applied to the database.
pub async fn migrations_current(conn: &mut AsyncPgConnection, expected: &[String]) -> QueryResult<bool> {
    let applied: Vec<String> =
        __diesel_schema_migrations::table.select(__diesel_schema_migrations::version).load(conn).await?;
    Ok(expected.iter().all(|v| applied.contains(v)))
}
