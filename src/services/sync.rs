//! The sync as pages and commands see it: start one now (unless the account may not be
//! synced yet), run one and wait, read the API's rate-limit usage, change the schedule,
//! and stop cleanly. The sync context inside owns the Graph client and the token key.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::db::DbError;
use crate::db::accounts::Account;
use crate::domain::{AccountId, AccountStatus, Trigger};
use crate::sync::scheduler::Scheduler;
use crate::sync::{self, RunResult, SyncContext};

pub use crate::sync::scheduler::is_valid_schedule;
pub use crate::sync::{Scope, SyncSummary};

/// Why "Sync now" did not start. The text is for the page.
#[derive(Debug, thiserror::Error)]
pub enum SyncRefused {
    #[error("there is no such account")]
    NoAccount,
    #[error("@{username} is {status}: enable or re-connect it first")]
    NotActive { username: String, status: AccountStatus },
    #[error(
        "@{username} is paused by Instagram's rate limit until {}; a sync before then would only extend the pause",
        until.format("%Y-%m-%d %H:%M UTC")
    )]
    Paused { username: String, until: DateTime<Utc> },
    #[error(transparent)]
    Database(#[from] DbError),
}

pub struct Syncing {
    ctx: Arc<SyncContext>,
    /// Absent when the settings turn the scheduler off (tests, one-shot commands).
    scheduler: Option<Scheduler>,
}

impl Syncing {
    pub fn new(ctx: Arc<SyncContext>, scheduler: Option<Scheduler>) -> Self {
        Self { ctx, scheduler }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.ctx.now()
    }

    /// The sync job's context (tests and commands run cycles on it directly).
    pub fn context(&self) -> Arc<SyncContext> {
        self.ctx.clone()
    }

    /// Checks that the account may be synced now, then starts a cycle in the background
    /// (the sync page follows it). The job's log lines carry the caller's span.
    pub async fn start(&self, scope: Scope) -> Result<(), SyncRefused> {
        if let Scope::Account(id) = scope {
            self.check_may_sync(id).await?;
        }
        let ctx = self.ctx.clone();
        let span = tracing::info_span!("manual_sync", scope = ?scope);
        actix_web::rt::spawn(
            async move {
                match sync::run(&ctx, scope, Trigger::Manual).await {
                    Ok(RunResult::Ran(summary)) => tracing::info!(%summary, "manual sync finished"),
                    Ok(RunResult::Busy) => tracing::info!("manual sync skipped: another sync is running"),
                    Err(err) => tracing::warn!(error = format!("{err:#}"), "manual sync failed"),
                }
            }
            .instrument(span),
        );
        Ok(())
    }

    async fn check_may_sync(&self, id: AccountId) -> Result<(), SyncRefused> {
        let mut conn = self.ctx.pool().get().await.map_err(DbError::from)?;
        let account = Account::find(&mut conn, id).await.map_err(DbError::from)?.ok_or(SyncRefused::NoAccount)?;
        if account.status != AccountStatus::Active {
            return Err(SyncRefused::NotActive { username: account.username, status: account.status });
        }
        if let Some(until) = account.paused_until.filter(|until| *until > self.now()) {
            return Err(SyncRefused::Paused { username: account.username, until });
        }
        Ok(())
    }

    /// Runs one cycle and waits for it.
    pub async fn run(&self, scope: Scope, trigger: Trigger) -> anyhow::Result<RunResult> {
        sync::run(&self.ctx, scope, trigger).await
    }

    /// The latest rate-limit usage the API reported, in percent, by Instagram user id.
    pub fn rate_usage(&self) -> HashMap<String, u32> {
        self.ctx.rate_usage()
    }

    /// Applies a new sync schedule to the running scheduler (if one runs).
    pub async fn reschedule(&self, schedule: &str) -> anyhow::Result<()> {
        match &self.scheduler {
            Some(scheduler) => scheduler.reschedule(schedule).await,
            None => Ok(()),
        }
    }

    /// Applies the retention window now (after it was shortened).
    pub async fn purge(&self) -> anyhow::Result<()> {
        self.ctx.purge().await.map(|_| ())
    }

    /// Stops scheduling and waits (up to `grace`) for a running sync to commit.
    pub async fn shutdown(&self, grace: std::time::Duration) {
        if let Some(scheduler) = &self.scheduler {
            scheduler.shutdown(grace).await;
        }
    }
}
