//! What the probes and `/metrics` report: database readiness, pool use, token expiry and
//! the API's rate-limit usage per account.

use std::sync::Arc;
use std::time::Duration;

use crate::db::accounts::Account;
use crate::db::{self, DbError};
use crate::domain::Clock;
use crate::services::Syncing;
use crate::telemetry::metrics::{AccountLabels, Metrics, PoolLabels};

/// Why the service is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    DatabaseUnreachable,
    MigrationsPending,
    DatabaseTimedOut,
}

impl NotReady {
    pub fn reason(self) -> &'static str {
        match self {
            NotReady::DatabaseUnreachable => "database unreachable",
            NotReady::MigrationsPending => "migrations pending",
            NotReady::DatabaseTimedOut => "database timed out",
        }
    }
}

pub struct Health {
    pool: db::Pool,
    /// The migration versions this binary carries.
    migrations: Vec<String>,
    metrics: Arc<Metrics>,
    syncing: Arc<Syncing>,
    clock: Clock,
}

impl Health {
    pub fn new(pool: db::Pool, metrics: Arc<Metrics>, syncing: Arc<Syncing>, clock: Clock) -> Self {
        Self { pool, migrations: db::embedded_versions(), metrics, syncing, clock }
    }

    /// The database answers (within 3 s) and every migration this binary carries is applied.
    pub async fn ready(&self) -> Result<(), NotReady> {
        let check = async {
            let mut conn = self.pool.get().await.map_err(|_| NotReady::DatabaseUnreachable)?;
            match db::migrations_current(&mut conn, &self.migrations).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(NotReady::MigrationsPending),
                Err(_) => Err(NotReady::DatabaseUnreachable),
            }
        };
        tokio::time::timeout(Duration::from_secs(3), check).await.unwrap_or(Err(NotReady::DatabaseTimedOut))
    }

    /// The Prometheus text exposition, with the gauges read now.
    pub async fn metrics_text(&self) -> Result<String, DbError> {
        let metrics = &self.metrics;
        let now = (self.clock)();
        let status = self.pool.status();
        let gauge = |name: &str, value: usize| {
            metrics
                .pool_connections
                .get_or_create(&PoolLabels { state: name.to_owned() })
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        gauge("in_use", status.size.saturating_sub(status.available));
        gauge("idle", status.available);
        gauge("max", status.max_size);
        let mut conn = self.pool.get().await?;
        let usage = self.syncing.rate_usage();
        for account in Account::list(&mut conn).await? {
            let label = AccountLabels { account: account.id.to_string() };
            if let Some(expires) = account.token_expires_at {
                metrics.token_days_left.get_or_create(&label).set((expires - now).num_seconds() as f64 / 86_400.0);
            }
            if let Some(percent) = usage.get(&account.ig_user_id) {
                metrics.rate_limit_usage.get_or_create(&label).set(f64::from(*percent) / 100.0);
            }
        }
        Ok(metrics.encode())
    }
}
