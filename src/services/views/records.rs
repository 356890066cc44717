//! The stored figures as plain records, for the JSON API: rows, not their page renderings.
//! Not cached: an API client revalidates with the ETag the data version gives.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::Views;
use crate::db::reports::{self, DayRow, PostFilter, PostRow, SnapshotRow};
use crate::db::{DbError, account_history};
use crate::domain::{AccountId, PostId};

/// One day of an account: followers at the day's last count, and Instagram's daily insights.
#[derive(Debug, Clone)]
pub struct SeriesDay {
    pub day: NaiveDate,
    pub followers: Option<i64>,
    pub insights: Option<DayRow>,
}

impl Views {
    /// One page of a filter's posts (its `after` and `limit` say which).
    pub async fn post_rows(&self, filter: &PostFilter) -> Result<Vec<PostRow>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(reports::posts(&mut conn, filter).await?)
    }

    /// A post with every snapshot, oldest first; `None` when there is no such post.
    pub async fn post_record(&self, id: PostId) -> Result<Option<(PostRow, Vec<SnapshotRow>)>, DbError> {
        let mut conn = self.pool.get().await?;
        let Some(row) = reports::post(&mut conn, id).await? else { return Ok(None) };
        let snapshots = reports::snapshots_of(&mut conn, id).await?;
        Ok(Some((row, snapshots)))
    }

    /// Each day from `first` to `last` (UTC days, as Instagram counts its insights), with
    /// `None` where nothing was measured.
    pub async fn account_series(
        &self,
        account: AccountId,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<SeriesDay>, DbError> {
        let mut conn = self.pool.get().await?;
        let insights = reports::account_days(&mut conn, account, first, last).await?;
        let since = first.and_hms_opt(0, 0, 0).map(|start| start.and_utc());
        // The points are oldest first: each day keeps its last count.
        let last_count: HashMap<NaiveDate, i64> = account_history::follower_points(&mut conn, account, since)
            .await?
            .into_iter()
            .map(|(at, followers)| (at.date_naive(), followers))
            .collect();
        Ok(first
            .iter_days()
            .take_while(|day| *day <= last)
            .map(|day| SeriesDay {
                day,
                followers: last_count.get(&day).copied(),
                insights: insights.iter().find(|row| row.day == day).cloned(),
            })
            .collect())
    }
}
