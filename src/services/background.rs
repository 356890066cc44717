//! The passes the scheduler runs every minute, each a thin call into the service that owns
//! the work. Two `serve` processes may share one database: every pass but the page warm-up
//! takes its lock first ([`locks::Exclusive`]), so only one process publishes, mails a report,
//! fires an alert or answers a comment at a time; the other skips that minute. The warm-up
//! runs in each process, because each keeps its own pages.

use std::sync::Arc;

use crate::db::locks::{self, Exclusive};
use crate::domain::Trigger;
use crate::publishing::PublishSummary;
use crate::services::alerts::{AlertSummary, Alerts};
use crate::services::inbox::{Inbox, RulesSummary};
use crate::services::reports::{DueSummary, Reports};
use crate::services::{Publishing, Views};

/// What a pass came to.
#[derive(Debug)]
pub enum Pass<T> {
    Ran(T),
    /// Another process holds the pass's lock and is running it now.
    Elsewhere,
}

pub struct Background {
    /// For the locks' own connections.
    database_url: String,
    inbox: Arc<Inbox>,
    publishing: Arc<Publishing>,
    alerts: Arc<Alerts>,
    reports: Arc<Reports>,
    views: Arc<Views>,
}

impl Background {
    pub fn new(
        database_url: &str,
        inbox: Arc<Inbox>,
        publishing: Arc<Publishing>,
        alerts: Arc<Alerts>,
        reports: Arc<Reports>,
        views: Arc<Views>,
    ) -> Self {
        Self { database_url: database_url.to_owned(), inbox, publishing, alerts, reports, views }
    }

    /// Reads new mentions, then applies the inbox rules to new comments.
    pub async fn inbox_rules(&self) -> anyhow::Result<Pass<RulesSummary>> {
        self.exclusive(Exclusive::InboxRules, async {
            if let Err(err) = self.inbox.fetch_mentions().await {
                // The rules still apply to the comments the sync brought in.
                tracing::error!(error = %err, "mentions could not be read");
            }
            let summary = self.inbox.apply_rules().await?;
            if summary.acted + summary.limited + summary.failed > 0 {
                tracing::info!(
                    acted = summary.acted,
                    limited = summary.limited,
                    failed = summary.failed,
                    "inbox rules"
                );
            }
            Ok(summary)
        })
        .await
    }

    /// Publishes what is due (then syncs the accounts that published).
    pub async fn publisher(&self) -> anyhow::Result<Pass<PublishSummary>> {
        self.exclusive(Exclusive::Publisher, async {
            let summary = self.publishing.run_due(Trigger::Schedule).await?;
            if !summary.published.is_empty() || !summary.failed.is_empty() {
                tracing::info!(%summary, "publisher");
            }
            Ok(summary)
        })
        .await
    }

    /// Judges the alert rules and delivers what fired.
    pub async fn alerts(&self) -> anyhow::Result<Pass<AlertSummary>> {
        self.exclusive(Exclusive::Alerts, async {
            let summary = self.alerts.evaluate().await?;
            if summary != AlertSummary::default() {
                tracing::info!(?summary, "alerts");
            }
            Ok(summary)
        })
        .await
    }

    /// Makes and mails the scheduled reports that are due.
    pub async fn reports(&self) -> anyhow::Result<Pass<DueSummary>> {
        self.exclusive(Exclusive::Reports, async {
            let summary = self.reports.send_due().await?;
            if summary != DueSummary::default() {
                tracing::info!(?summary, "reports");
            }
            Ok(summary)
        })
        .await
    }

    /// Computes this process's default pages after data changed, before a visitor asks.
    /// No lock: the pages are kept in each process's memory.
    pub async fn warm_up(&self) -> anyhow::Result<Option<i64>> {
        let computed = self.views.warm().await?;
        if let Some(version) = computed {
            // bench/run waits for this line, naming the version it waits for.
            tracing::debug!(version, "pages computed ahead of their visitors");
        }
        Ok(computed)
    }

    async fn exclusive<T>(
        &self,
        lock: Exclusive,
        pass: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<Pass<T>> {
        let Some(held) = locks::try_take(&self.database_url, lock).await? else {
            tracing::debug!(pass = lock.name(), "another process is running this pass");
            return Ok(Pass::Elsewhere);
        };
        let result = pass.await;
        held.release().await;
        result.map(Pass::Ran)
    }
}
