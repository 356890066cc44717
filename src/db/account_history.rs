//! Account-level history: counters over time and daily insights.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{account_daily_insights, account_snapshots};

use crate::domain::AccountId;

#[derive(Debug, Insertable)]
#[diesel(table_name = account_snapshots)]
pub struct NewAccountSnapshot {
    pub account_id: AccountId,
    pub captured_at: DateTime<Utc>,
    pub followers_count: Option<i64>,
    pub follows_count: Option<i64>,
    pub media_count: Option<i64>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = account_daily_insights)]
#[diesel(treat_none_as_null = true)]
pub struct DailyInsights {
    pub account_id: AccountId,
    pub day: NaiveDate,
    pub reach: Option<i64>,
    pub views: Option<i64>,
    pub accounts_engaged: Option<i64>,
    pub total_interactions: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saves: Option<i64>,
    pub shares: Option<i64>,
    pub replies: Option<i64>,
    pub reposts: Option<i64>,
    pub profile_views: Option<i64>,
    pub website_clicks: Option<i64>,
    pub profile_links_taps: Option<i64>,
    pub follower_net_change: Option<i64>,
    pub captured_at: DateTime<Utc>,
}

impl DailyInsights {
    /// A day's row from account-insights values by API name; unknown metrics stay NULL.
    pub fn from_metrics(
        account_id: AccountId,
        day: NaiveDate,
        value: impl Fn(&str) -> Option<f64>,
        follower_net_change: Option<f64>,
        captured_at: DateTime<Utc>,
    ) -> DailyInsights {
        let v = |name: &str| value(name).map(|v| v.round() as i64);
        DailyInsights {
            account_id,
            day,
            reach: v("reach"),
            views: v("views"),
            accounts_engaged: v("accounts_engaged"),
            total_interactions: v("total_interactions"),
            likes: v("likes"),
            comments: v("comments"),
            saves: v("saves"),
            shares: v("shares"),
            replies: v("replies"),
            reposts: v("reposts"),
            profile_views: v("profile_views"),
            website_clicks: v("website_clicks"),
            profile_links_taps: v("profile_links_taps"),
            follower_net_change: follower_net_change.map(|v| v.round() as i64),
            captured_at,
        }
    }
}

pub async fn latest_snapshot_at(
    conn: &mut AsyncPgConnection,
    account: AccountId,
) -> QueryResult<Option<DateTime<Utc>>> {
    account_snapshots::table
        .filter(account_snapshots::account_id.eq(account))
        .select(diesel::dsl::max(account_snapshots::captured_at))
        .first(conn)
        .await
}

pub async fn insert_snapshot(conn: &mut AsyncPgConnection, snapshot: &NewAccountSnapshot) -> QueryResult<usize> {
    insert_snapshots(conn, std::slice::from_ref(snapshot)).await
}

pub async fn insert_snapshots(conn: &mut AsyncPgConnection, snapshots: &[NewAccountSnapshot]) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in snapshots.chunks(5000) {
        written +=
            diesel::insert_into(account_snapshots::table).values(chunk).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(written)
}

pub async fn has_day(conn: &mut AsyncPgConnection, account: AccountId, day: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        account_daily_insights::table
            .filter(account_daily_insights::account_id.eq(account))
            .filter(account_daily_insights::day.eq(day)),
    ))
    .get_result(conn)
    .await
}

pub async fn upsert_day(conn: &mut AsyncPgConnection, insights: &DailyInsights) -> QueryResult<()> {
    diesel::insert_into(account_daily_insights::table)
        .values(insights)
        .on_conflict((account_daily_insights::account_id, account_daily_insights::day))
        .do_update()
        .set(insights)
        .execute(conn)
        .await?;
    Ok(())
}

/// Recorded follower counts, oldest first, optionally from `since` on.
pub async fn follower_points(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    since: Option<DateTime<Utc>>,
) -> QueryResult<Vec<(DateTime<Utc>, i64)>> {
    let mut query = account_snapshots::table
        .filter(account_snapshots::account_id.eq(account))
        .filter(account_snapshots::followers_count.is_not_null())
        .select((account_snapshots::captured_at, account_snapshots::followers_count.assume_not_null()))
        .order(account_snapshots::captured_at.asc())
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(account_snapshots::captured_at.ge(since));
    }
    query.load(conn).await
}
