//! After each account's cycle: recompute its posts' latest figures, rates and impact scores
//! (`post_scores`), so pages read them instead of working through snapshots.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::analytics::impact::{AtCheckpoint, Impact, impact};
use crate::analytics::{EngagementDefinition, Format, PostFigures};
use crate::db::account_history;
use crate::domain::{AccountId, PostId};

use crate::db::scores::{self, PostScore};

pub async fn refresh_account(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let latest = scores::latest_snapshots(conn, account).await?;
    let checkpoints = scores::checkpoints(conn, account).await?;
    let followers = account_history::follower_points(conn, account, None).await?;

    // (format, checkpoint) → the posts there: (published, post id, figures).
    type Member = (DateTime<Utc>, PostId, AtCheckpoint);
    let mut groups: HashMap<(Format, i32), Vec<Member>> = HashMap::new();
    // post → its latest checkpoint.
    let mut newest: HashMap<PostId, (i32, AtCheckpoint)> = HashMap::new();
    for row in &checkpoints {
        let format = Format::of(row.media_product_type.as_deref(), &row.media_type);
        let at = AtCheckpoint { reach: row.reach, interactions: row.interactions };
        groups.entry((format, row.checkpoint_hours)).or_default().push((row.posted_at, row.post_id, at));
        let entry = newest.entry(row.post_id).or_insert((row.checkpoint_hours, at));
        if row.checkpoint_hours > entry.0 {
            *entry = (row.checkpoint_hours, at);
        }
    }

    let scores: Vec<PostScore> = latest
        .iter()
        .map(|post| {
            let format = Format::of(post.media_product_type.as_deref(), &post.media_type);
            let figures = PostFigures {
                reach: post.reach,
                views: post.views,
                likes: post.likes,
                comments: post.comments,
                saved: post.saved,
                shares: post.shares,
                total_interactions: post.total_interactions,
            };
            let followers_at_posting = followers_at(&followers, post.posted_at);
            let (score, cohort, checkpoint) = match newest.get(&post.post_id) {
                Some((hours, at)) => {
                    let cohort: Vec<AtCheckpoint> = groups
                        .get(&(format, *hours))
                        .map(|g| {
                            g.iter()
                                .filter(|(posted, id, _)| *posted < post.posted_at && *id != post.post_id)
                                .map(|(_, _, a)| *a)
                                .collect()
                        })
                        .unwrap_or_default();
                    let result = impact(*at, &cohort, i64::from(*hours));
                    let size = match result {
                        Impact::Score { cohort, .. } | Impact::NotEnoughHistory { cohort, .. } => cohort,
                        Impact::Unmeasured => 0,
                    };
                    (result.score().map(i16::from), size, Some(*hours))
                }
                None => (None, 0, None),
            };
            PostScore {
                post_id: post.post_id,
                account_id: account,
                format: format.key().to_owned(),
                latest_captured_at: Some(post.captured_at),
                reach: post.reach,
                views: post.views,
                likes: post.likes,
                comments: post.comments,
                saved: post.saved,
                shares: post.shares,
                interactions: figures.interactions(),
                followers_at_posting,
                rate_by_reach: EngagementDefinition::Reach.rate(&figures, followers_at_posting),
                rate_by_followers: EngagementDefinition::Followers.rate(&figures, followers_at_posting),
                rate_by_views: EngagementDefinition::Views.rate(&figures, followers_at_posting),
                impact: score,
                impact_cohort: i32::try_from(cohort).unwrap_or(i32::MAX),
                checkpoint_hours: checkpoint,
                computed_at: now,
            }
        })
        .collect();
    scores::upsert(conn, &scores).await
}

/// The last count at or before `at`, else the first one after (docs/metrics.md).
fn followers_at(points: &[(DateTime<Utc>, i64)], at: DateTime<Utc>) -> Option<i64> {
    let after = points.partition_point(|(t, _)| *t <= at);
    if after > 0 { Some(points[after - 1].1) } else { points.first().map(|p| p.1) }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::followers_at;

    #[test]
    fn followers_at_posting_take_the_last_count_before_else_the_first_after() {
        let t0 = chrono::Utc::now();
        let points = [(t0, 100), (t0 + Duration::hours(2), 110)];
        assert_eq!(followers_at(&points, t0 + Duration::hours(1)), Some(100));
        assert_eq!(followers_at(&points, t0 + Duration::hours(3)), Some(110));
        assert_eq!(followers_at(&points, t0 - Duration::hours(1)), Some(100));
        assert_eq!(followers_at(&[], t0), None);
    }
}
