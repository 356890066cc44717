//! Retention: every rule applied in one pass, each in its own transaction, under the sync
//! lock (so a purge and a sync never interleave). Run nightly by the scheduler, by
//! `tidemark purge`, and after the history window is shortened.
//!
//! - posts published before the history window, with their snapshots (a month of snapshots
//!   that ended before the window is dropped whole: the table is partitioned by month);
//! - the accounts' own history (follower counts, daily insights, audience) before the window,
//!   and the reports kept about periods that ended before it;
//! - sync-run records older than their keep time (a setting, default 90 days);
//! - comments made before the history window;
//! - records of Meta's requests after 90 days, Meta dialogs never finished, dashboard
//!   sessions past their end, and webhook changes past Meta's retry window;
//! - and ahead of time, the snapshots' partitions for this month and the next.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;

use crate::db::locks::{self, Exclusive};
use crate::db::posts;
use crate::db::retention::{self, PurgeCounts};
use crate::db::settings::OperatorSettings;
use crate::db::{self, meta_requests};

/// How long a webhook change's digest is kept: Meta retries for up to 36 hours (§6.3).
pub const DELIVERY_MEMORY: Duration = Duration::hours(72);

/// How long Meta's request records, and the purge records themselves, are kept.
pub const RECORD_KEEP_DAYS: i64 = 90;

/// Applies every rule now and records what it removed.
pub async fn purge(pool: &db::Pool, database_url: &str, now: DateTime<Utc>) -> anyhow::Result<PurgeCounts> {
    let _lock = locks::take(database_url, Exclusive::Sync).await?;
    let mut conn = pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let mut counts = PurgeCounts::default();
    // Each rule is one transaction: the posts' count and deletion together, every other rule
    // a single DELETE.
    if let Some(cutoff) = settings.window_start(now) {
        // Before the posts: a comment on a post that goes goes with it.
        let comments = crate::db::comments::delete_before(&mut conn, cutoff).await?;
        // A month of snapshots that ended before the window goes whole, before the posts (whose
        // deletion would otherwise remove its rows one by one): a snapshot is never taken before
        // its post was published, so all of them are of posts the window drops. A day's margin
        // keeps a post published at the cut safe from a clock a little behind Meta's.
        let months = retention::drop_snapshot_months_ending_by(&mut conn, cutoff - Duration::days(1)).await?;
        let removed = conn.transaction(async |c| posts::delete_older_than(c, cutoff).await).await?;
        counts.posts = removed.posts;
        counts.snapshots = months + removed.snapshots;
        counts.account_snapshots = retention::account_snapshots_before(&mut conn, cutoff).await? as i64;
        let actions = crate::db::inbox::delete_before(&mut conn, cutoff).await?;
        let mentions = crate::db::mentions::delete_before(&mut conn, cutoff).await?;
        tracing::info!(
            comments,
            actions,
            mentions,
            "comments, mentions and inbox actions before the history window removed"
        );
        let first_kept = cutoff.with_timezone(&settings.time_zone()).date_naive();
        counts.daily_insights = retention::daily_insights_before(&mut conn, first_kept).await? as i64;
        counts.audience = crate::db::audience::delete_before(&mut conn, first_kept).await? as i64;
        let competitor_rows = crate::db::competitors::delete_before(&mut conn, cutoff, first_kept).await?;
        tracing::info!(competitor_rows, "competitors' posts and days before the history window removed");
        counts.reports = crate::db::sent_reports::delete_before(&mut conn, first_kept).await? as i64;
    }
    // The snapshots' partitions for this month and the next, ahead of the sync (which makes any
    // it still misses itself).
    let this_month = now.date_naive();
    let next_month = this_month.checked_add_months(chrono::Months::new(1)).unwrap_or(this_month);
    retention::make_snapshot_months(&mut conn, &[this_month, next_month]).await?;
    let runs_cutoff = now - Duration::days(i64::from(settings.sync_run_keep_days));
    counts.sync_runs = retention::sync_runs_before(&mut conn, runs_cutoff).await? as i64;
    let records_cutoff = now - Duration::days(RECORD_KEEP_DAYS);
    counts.meta_requests = meta_requests::purge_before(&mut conn, records_cutoff).await? as i64;
    counts.alerts = crate::db::alerts::delete_events_before(&mut conn, records_cutoff).await? as i64;
    counts.dialogs = retention::expired_dialogs(&mut conn, now).await? as i64;
    counts.sessions = crate::db::sessions::purge_expired(&mut conn, now).await? as i64;
    counts.sign_ins = crate::db::second_factor::purge_unfinished(&mut conn, now).await? as i64;
    let deliveries = crate::db::comments::forget_deliveries_before(&mut conn, now - DELIVERY_MEMORY).await?;
    tracing::info!(deliveries, "webhook changes past Meta's retry window forgotten");
    retention::record(&mut conn, now, &counts, records_cutoff).await?;
    tracing::info!(?counts, "retention purge");
    Ok(counts)
}
