//! The operator's settings: read them, preview what a shorter history window would delete,
//! and save them, applying a new sync schedule and a shorter window at once.

use std::sync::Arc;

use crate::db::posts::{self, RetentionCount};
use crate::db::settings::OperatorSettings;
use crate::db::{self, DbError};
use crate::services::Syncing;

pub struct SettingsEditor {
    pool: db::Pool,
    syncing: Arc<Syncing>,
}

/// What saving would do, when it needs the operator's confirmation first.
pub enum SaveOutcome {
    Saved,
    /// The new window is shorter and these posts (with their snapshots) would be deleted.
    ConfirmDeletion(RetentionCount),
}

impl SettingsEditor {
    pub fn new(pool: db::Pool, syncing: Arc<Syncing>) -> Self {
        Self { pool, syncing }
    }

    pub async fn load(&self) -> Result<OperatorSettings, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(OperatorSettings::load(&mut conn).await?)
    }

    /// Saves `new`. A window shorter than the current one that would delete posts is saved
    /// only when `confirmed`; otherwise the count of what it would delete comes back.
    pub async fn save(&self, new: &OperatorSettings, confirmed: bool) -> anyhow::Result<SaveOutcome> {
        let now = self.syncing.now();
        let mut conn = self.pool.get().await?;
        let current = OperatorSettings::load(&mut conn).await?;
        let shortened = match (current.lookback_days, new.lookback_days) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(old), Some(new)) => new < old,
        };
        if shortened && !confirmed {
            let cutoff = new.window_start(now).unwrap_or(now);
            let doomed = posts::count_older_than(&mut conn, cutoff).await?;
            if doomed.posts > 0 {
                return Ok(SaveOutcome::ConfirmDeletion(doomed));
            }
        }
        new.save(&mut conn).await?;
        drop(conn);
        tracing::info!(lookback_days = ?new.lookback_days, schedule = new.sync_schedule, "settings saved");
        if new.sync_schedule != current.sync_schedule {
            self.syncing.reschedule(&new.sync_schedule).await?;
        }
        if shortened {
            self.syncing.purge().await?;
        }
        Ok(SaveOutcome::Saved)
    }
}
