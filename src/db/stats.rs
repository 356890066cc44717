//! Whole-database figures for the dashboard.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{account_versions, data_version, ig_accounts, post_snapshots, posts, sync_runs};

use crate::domain::{AccountStatus, SyncOutcome};

/// The counter that moves whenever data the pages show changes (see `services::views`).
pub async fn data_version(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    data_version::table.select(data_version::n).first(conn).await
}

/// The version of what every account's views read beside their own rows (settings, for one),
/// and each account's own version (an account missing has never been written since the
/// versions began: 0).
pub async fn account_versions(conn: &mut AsyncPgConnection) -> QueryResult<(i64, Vec<(i64, i64)>)> {
    let common = data_version::table.select(data_version::common).first(conn).await?;
    let accounts = account_versions::table.select((account_versions::account_id, account_versions::n)).load(conn).await?;
    Ok((common, accounts))
}

#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub accounts: i64,
    pub active_accounts: i64,
    pub last_sync: Option<LastSync>,
}

#[derive(Debug, Clone, Queryable)]
pub struct LastSync {
    pub account_username: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: SyncOutcome,
    pub error_message: Option<String>,
}

/// Every account's posts and their snapshots, counted whole.
pub async fn posts_and_snapshots(conn: &mut AsyncPgConnection) -> QueryResult<(i64, i64)> {
    let posts = posts::table.count().get_result(conn).await?;
    let snapshots = post_snapshots::table.count().get_result(conn).await?;
    Ok((posts, snapshots))
}

impl Totals {
    pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<Totals> {
        let accounts = ig_accounts::table.count().get_result(conn).await?;
        let active_accounts =
            ig_accounts::table.filter(ig_accounts::status.eq(AccountStatus::Active)).count().get_result(conn).await?;
        let last_sync = sync_runs::table
            .inner_join(ig_accounts::table)
            .order(sync_runs::started_at.desc())
            .select((
                ig_accounts::username,
                sync_runs::started_at,
                sync_runs::finished_at,
                sync_runs::outcome,
                sync_runs::error_message,
            ))
            .first(conn)
            .await
            .optional()?;
        Ok(Totals { accounts, active_accounts, last_sync })
    }
}
