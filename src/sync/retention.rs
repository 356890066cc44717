//! Retention: posts published before the lookback window are deleted with their snapshots.

use chrono::{DateTime, Utc};

use crate::db;
use crate::db::posts::{self, RetentionCount};
use crate::db::settings::OperatorSettings;

/// Deletes posts older than the operator's window (nothing when history is kept forever).
pub async fn purge(pool: &db::Pool, now: DateTime<Utc>) -> anyhow::Result<RetentionCount> {
    let mut conn = pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let Some(cutoff) = settings.window_start(now) else {
        return Ok(RetentionCount::default());
    };
    let deleted = posts::delete_older_than(&mut conn, cutoff).await?;
    tracing::info!(posts = deleted.posts, snapshots = deleted.snapshots, cutoff = %cutoff, "retention purge");
    Ok(deleted)
}
