//! The record of every account's sync cycles.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{ig_accounts, sync_runs};

use crate::domain::{AccountId, SyncOutcome, SyncRunId, Trigger};

/// How a finished cycle went.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub api_calls: i32,
    pub posts_seen: i32,
    pub snapshots_written: i32,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, Queryable)]
pub struct RunListing {
    pub id: SyncRunId,
    pub account_id: AccountId,
    pub account_username: String,
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: SyncOutcome,
    pub api_calls: i32,
    pub posts_seen: i32,
    pub snapshots_written: i32,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
}

pub async fn start(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    trigger: Trigger,
    at: DateTime<Utc>,
) -> QueryResult<SyncRunId> {
    diesel::insert_into(sync_runs::table)
        .values((sync_runs::account_id.eq(account), sync_runs::trigger.eq(trigger), sync_runs::started_at.eq(at)))
        .returning(sync_runs::id)
        .get_result(conn)
        .await
}

pub async fn finish(
    conn: &mut AsyncPgConnection,
    run: SyncRunId,
    outcome: SyncOutcome,
    report: &RunReport,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(run))
        .set((
            sync_runs::finished_at.eq(at),
            sync_runs::outcome.eq(outcome),
            sync_runs::api_calls.eq(report.api_calls),
            sync_runs::posts_seen.eq(report.posts_seen),
            sync_runs::snapshots_written.eq(report.snapshots_written),
            sync_runs::error_kind.eq(&report.error_kind),
            sync_runs::error_message.eq(&report.error_message),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs left "running" by a process that died are closed as failed.
pub async fn close_abandoned(conn: &mut AsyncPgConnection, at: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(sync_runs::table.filter(sync_runs::outcome.eq(SyncOutcome::Running)))
        .set((
            sync_runs::finished_at.eq(at),
            sync_runs::outcome.eq(SyncOutcome::Failed),
            sync_runs::error_kind.eq("interrupted"),
            sync_runs::error_message
                .eq("the process stopped before this cycle finished; what it had committed is kept"),
        ))
        .execute(conn)
        .await
}

/// The latest runs, newest first, optionally of one account.
pub async fn recent(
    conn: &mut AsyncPgConnection,
    account: Option<AccountId>,
    limit: i64,
) -> QueryResult<Vec<RunListing>> {
    let mut query = sync_runs::table
        .inner_join(ig_accounts::table)
        .select((
            sync_runs::id,
            sync_runs::account_id,
            ig_accounts::username,
            sync_runs::trigger,
            sync_runs::started_at,
            sync_runs::finished_at,
            sync_runs::outcome,
            sync_runs::api_calls,
            sync_runs::posts_seen,
            sync_runs::snapshots_written,
            sync_runs::error_kind,
            sync_runs::error_message,
        ))
        .order(sync_runs::started_at.desc())
        .then_order_by(sync_runs::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(sync_runs::account_id.eq(account));
    }
    query.load(conn).await
}
