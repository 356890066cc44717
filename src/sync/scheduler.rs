//! The in-process scheduler: the sync tick on the operator's schedule and a nightly
//! retention purge. Each job is a thin call into [`super::run`] or [`super::retention`].

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler};
use uuid::Uuid;

use super::{RunResult, Scope, SyncContext};

use crate::domain::Trigger;

/// Every night at 03:30 UTC.
const RETENTION_SCHEDULE: &str = "0 30 3 * * *";

pub struct Scheduler {
    jobs: JobScheduler,
    ctx: Arc<SyncContext>,
    tick: Mutex<Option<Uuid>>,
}

/// Whether `schedule` is a cron expression the scheduler accepts (six fields, seconds first).
/// At most once a minute: the seconds field must name one second (`0`, `30`), so a schedule
/// can never fire the Graph API every second.
pub fn is_valid_schedule(schedule: &str) -> bool {
    let once_a_minute =
        schedule.split_whitespace().next().is_some_and(|seconds| seconds.parse::<u8>().is_ok_and(|s| s < 60));
    once_a_minute && Job::new_async(schedule, |_, _| Box::pin(async {})).is_ok()
}

impl Scheduler {
    pub async fn start(ctx: Arc<SyncContext>, schedule: &str) -> anyhow::Result<Scheduler> {
        let jobs = JobScheduler::new().await.context("cannot create the scheduler")?;
        let purge_ctx = ctx.clone();
        let purge = Job::new_async(RETENTION_SCHEDULE, move |_, _| {
            let ctx = purge_ctx.clone();
            Box::pin(async move {
                if let Err(err) = ctx.purge().await {
                    tracing::error!(error = format!("{err:#}"), "retention purge failed");
                }
            })
        })
        .context("bad retention schedule")?;
        jobs.add(purge).await.context("cannot schedule the retention purge")?;
        let scheduler = Scheduler { jobs, ctx, tick: Mutex::new(None) };
        scheduler.reschedule(schedule).await?;
        scheduler.jobs.start().await.context("cannot start the scheduler")?;
        Ok(scheduler)
    }

    /// Replaces the sync tick's schedule (the settings page calls this).
    pub async fn reschedule(&self, schedule: &str) -> anyhow::Result<()> {
        let ctx = self.ctx.clone();
        let job = Job::new_async(schedule, move |_, _| {
            let ctx = ctx.clone();
            Box::pin(async move {
                match super::run(&ctx, Scope::All, Trigger::Schedule).await {
                    Ok(RunResult::Ran(summary)) => tracing::info!(%summary, "scheduled sync"),
                    Ok(RunResult::Busy) => tracing::info!("scheduled sync skipped: another is running"),
                    Err(err) => tracing::error!(error = format!("{err:#}"), "scheduled sync failed"),
                }
            })
        })
        .ok()
        .filter(|_| is_valid_schedule(schedule))
        .with_context(|| {
            format!("the sync schedule {schedule:?} is not a six-field cron expression running at most once a minute")
        })?;
        let mut tick = self.tick.lock().await;
        if let Some(old) = tick.take() {
            self.jobs.remove(&old).await.context("cannot remove the old sync schedule")?;
        }
        *tick = Some(self.jobs.add(job).await.context("cannot schedule the sync")?);
        tracing::info!(schedule, "sync scheduled");
        Ok(())
    }

    /// Adds a job run every minute (the publisher). A run still going when the next minute
    /// comes is not started twice: the job skips while the previous one runs.
    pub async fn every_minute<F, Fut>(&self, name: &'static str, job: F) -> anyhow::Result<()>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.every("0 * * * * *", name, job).await
    }

    /// Adds a job run on a six-field cron `schedule`, never twice at once.
    pub async fn every<F, Fut>(&self, schedule: &str, name: &'static str, job: F) -> anyhow::Result<()>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let job = Arc::new(job);
        let running = Arc::new(Mutex::new(()));
        let job = Job::new_async(schedule, move |_, _| {
            let (job, running) = (job.clone(), running.clone());
            Box::pin(async move {
                let Ok(_guard) = running.try_lock() else {
                    tracing::debug!(name, "still running from the last time; skipped");
                    return;
                };
                job().await;
            })
        })
        .with_context(|| format!("cannot make the {name} job"))?;
        self.jobs.add(job).await.with_context(|| format!("cannot schedule the {name} job"))?;
        Ok(())
    }

    /// Stops scheduling, then waits (up to `grace`) for a running sync to commit.
    pub async fn shutdown(&self, grace: std::time::Duration) {
        let _ = self.jobs.clone().shutdown().await;
        if !self.ctx.wait_idle(grace).await {
            tracing::warn!("a sync was still running at shutdown; its open transaction rolls back");
        }
    }
}
