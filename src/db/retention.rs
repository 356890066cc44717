//! The deletions retention rules make, each counted, and the record of each purge.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{account_daily_insights, account_snapshots, oauth_pending, oauth_states, purges, sync_runs};

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = purges, check_for_backend(diesel::pg::Pg))]
pub struct PurgeCounts {
    pub posts: i64,
    pub snapshots: i64,
    pub account_snapshots: i64,
    pub daily_insights: i64,
    pub sync_runs: i64,
    pub meta_requests: i64,
    /// Meta dialogs never finished (their states and pending choices).
    pub dialogs: i64,
    /// Dashboard sessions past their absolute end.
    pub sessions: i64,
    /// Sign-ins that never got their second-factor code, and authenticators shown but
    /// never confirmed.
    pub sign_ins: i64,
    /// Audience figures (followers by age, place, hour) read before the history window.
    pub audience: i64,
    /// Reports kept whose period ended before the history window.
    pub reports: i64,
    /// Alerts fired longer ago than records are kept.
    pub alerts: i64,
}

impl std::fmt::Display for PurgeCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} post(s) with {} snapshot(s), {} account snapshot(s), {} day(s) of account insights, \
             {} sync-run record(s), {} Meta request record(s), {} unfinished Meta dialog(s), {} expired session(s), {} unfinished sign-in(s) or authenticator set-up(s), \
             {} audience figure(s), {} report(s), {} alert(s)",
            self.posts,
            self.snapshots,
            self.account_snapshots,
            self.daily_insights,
            self.sync_runs,
            self.meta_requests,
            self.dialogs,
            self.sessions,
            self.sign_ins,
            self.audience,
            self.reports,
            self.alerts
        )
    }
}

/// A purge as recorded.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purges, check_for_backend(diesel::pg::Pg))]
pub struct PurgeRecord {
    pub ran_at: DateTime<Utc>,
    #[diesel(embed)]
    pub counts: PurgeCounts,
}

pub async fn account_snapshots_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(account_snapshots::table.filter(account_snapshots::captured_at.lt(cutoff))).execute(conn).await
}

pub async fn daily_insights_before(conn: &mut AsyncPgConnection, first_kept: NaiveDate) -> QueryResult<usize> {
    diesel::delete(account_daily_insights::table.filter(account_daily_insights::day.lt(first_kept))).execute(conn).await
}

/// Finished sync runs started before `cutoff` (a run still going is never cut).
pub async fn sync_runs_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        sync_runs::table.filter(sync_runs::started_at.lt(cutoff)).filter(sync_runs::finished_at.is_not_null()),
    )
    .execute(conn)
    .await
}

/// Dialog states and pending choices past their expiry.
pub async fn expired_dialogs(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let states = diesel::delete(oauth_states::table.filter(oauth_states::expires_at.le(now))).execute(conn).await?;
    let pending = diesel::delete(oauth_pending::table.filter(oauth_pending::expires_at.le(now))).execute(conn).await?;
    Ok(states + pending)
}

/// Records a purge, and forgets purge records older than `keep_from`.
pub async fn record(
    conn: &mut AsyncPgConnection,
    ran_at: DateTime<Utc>,
    counts: &PurgeCounts,
    keep_from: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(purges::table).values((purges::ran_at.eq(ran_at), counts)).execute(conn).await?;
    diesel::delete(purges::table.filter(purges::ran_at.lt(keep_from))).execute(conn).await?;
    Ok(())
}

pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<PurgeRecord>> {
    purges::table.order(purges::ran_at.desc()).limit(limit).select(PurgeRecord::as_select()).load(conn).await
}

/// Makes the snapshots' monthly partitions for the months holding `days` (UTC), those not
/// made yet (see the migration `post_snapshots_by_month`).
pub async fn make_snapshot_months(conn: &mut AsyncPgConnection, days: &[NaiveDate]) -> QueryResult<()> {
    diesel::sql_query("SELECT post_snapshots_month(m) FROM unnest($1::date[]) AS m")
        .bind::<diesel::sql_types::Array<diesel::sql_types::Date>, _>(days)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops, whole, every monthly partition of the snapshots that ends on or before `cutoff`;
/// returns how many snapshots they held. Each goes in a transaction of its own, counted first.
pub async fn drop_snapshot_months_ending_by(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Partition {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Rows {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let partitions: Vec<Partition> = diesel::sql_query(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'post_snapshots'::regclass",
    )
    .load(conn)
    .await?;
    let mut dropped = 0;
    for partition in partitions {
        // Only the partitions `post_snapshots_month` makes, by their names: nothing else is
        // ever dropped.
        let Some(month) = snapshot_month(&partition.name) else { continue };
        let Some(end) = month.checked_add_months(chrono::Months::new(1)) else { continue };
        if end.and_time(chrono::NaiveTime::MIN).and_utc() > cutoff {
            continue;
        }
        let name = partition.name;
        dropped += conn
            .transaction(async |c| {
                let rows: Rows =
                    diesel::sql_query(format!("SELECT count(*) AS n FROM \"{name}\"")).get_result(c).await?;
                diesel::sql_query(format!("DROP TABLE \"{name}\"")).execute(c).await?;
                // Dropping a table fires no trigger: the pages' versions are moved here, every
                // account's (any of them may have had snapshots in the month).
                diesel::sql_query("UPDATE data_version SET n = n + 1, common = common + 1").execute(c).await?;
                Ok::<_, diesel::result::Error>(rows.n)
            })
            .await?;
    }
    Ok(dropped)
}

/// The month a partition `post_snapshots_YYYY_MM` holds (its first day).
fn snapshot_month(name: &str) -> Option<NaiveDate> {
    let (year, month) = name.strip_prefix("post_snapshots_")?.split_once('_')?;
    let valid = year.len() == 4 && month.len() == 2 && (year.to_owned() + month).bytes().all(|b| b.is_ascii_digit());
    valid.then(|| NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)).flatten()
}

#[cfg(test)]
mod tests {
    use super::snapshot_month;

    #[test]
    fn only_the_names_the_month_function_makes_are_months() {
        assert_eq!(snapshot_month("post_snapshots_2026_03"), chrono::NaiveDate::from_ymd_opt(2026, 3, 1));
        for other in [
            "post_snapshots",
            "post_snapshots_2026_3",
            "post_snapshots_2026_13",
            "post_snapshots_20x6_03",
            "posts_2026_03",
        ] {
            assert_eq!(snapshot_month(other), None, "{other}");
        }
    }
}
