//! Post metric snapshots: one row per post and moment; NULL means "not measured".

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Float8, Nullable, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{post_checkpoints, post_snapshots, posts};
use crate::analytics::PostFigures;
use crate::analytics::impact::checkpoints_at;

#[derive(Debug, Clone, Default, PartialEq, Insertable)]
#[diesel(table_name = post_snapshots)]
pub struct NewSnapshot {
    pub post_id: i64,
    pub captured_at: DateTime<Utc>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub total_interactions: Option<i64>,
    pub follows: Option<i64>,
    pub profile_visits: Option<i64>,
    pub profile_activity: Option<i64>,
    pub replies: Option<i64>,
    pub navigation: Option<i64>,
    pub reposts: Option<i64>,
    pub ig_reels_avg_watch_time_ms: Option<i64>,
    pub ig_reels_video_view_total_time_ms: Option<i64>,
    pub reels_skip_rate: Option<f64>,
    pub facebook_views: Option<i64>,
    pub crossposted_views: Option<i64>,
}

impl NewSnapshot {
    /// A snapshot from metric values by API name (`value("reach")`); a metric the lookup does
    /// not know stays NULL: not measured.
    pub fn from_metrics(post_id: i64, captured_at: DateTime<Utc>, value: impl Fn(&str) -> Option<f64>) -> NewSnapshot {
        let v = |name: &str| value(name).map(|v| v.round() as i64);
        NewSnapshot {
            post_id,
            captured_at,
            views: v("views"),
            reach: v("reach"),
            likes: v("likes"),
            comments: v("comments"),
            saved: v("saved"),
            shares: v("shares"),
            total_interactions: v("total_interactions"),
            follows: v("follows"),
            profile_visits: v("profile_visits"),
            profile_activity: v("profile_activity"),
            replies: v("replies"),
            navigation: v("navigation"),
            reposts: v("reposts"),
            ig_reels_avg_watch_time_ms: v("ig_reels_avg_watch_time"),
            ig_reels_video_view_total_time_ms: v("ig_reels_video_view_total_time"),
            reels_skip_rate: value("reels_skip_rate"),
            facebook_views: v("facebook_views"),
            crossposted_views: v("crossposted_views"),
        }
    }

    pub fn figures(&self) -> PostFigures {
        PostFigures {
            reach: self.reach,
            views: self.views,
            likes: self.likes,
            comments: self.comments,
            saved: self.saved,
            shares: self.shares,
            total_interactions: self.total_interactions,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = post_checkpoints)]
struct NewCheckpoint {
    post_id: i64,
    checkpoint_hours: i32,
    captured_at: DateTime<Utc>,
    reach: Option<i64>,
    views: Option<i64>,
    interactions: Option<i64>,
}

/// Writes snapshots in one transaction, skipping any post that another (retried or
/// overlapping) cycle has snapshotted meanwhile: the posts are locked, `still_due` is asked
/// again against their latest snapshot time, and that time moves forward with the write.
/// Snapshots that fall on a checkpoint age are recorded as that post's checkpoint too.
pub async fn write(
    conn: &mut AsyncPgConnection,
    snapshots: &[NewSnapshot],
    still_due: &(dyn Fn(DateTime<Utc>, Option<DateTime<Utc>>, DateTime<Utc>) -> bool + Send + Sync),
) -> QueryResult<usize> {
    if snapshots.is_empty() {
        return Ok(0);
    }
    conn.transaction(async |conn| {
        let ids: Vec<i64> = snapshots.iter().map(|s| s.post_id).collect();
        let current: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = posts::table
            .filter(posts::id.eq_any(&ids))
            .select((posts::id, posts::posted_at, posts::last_snapshot_at))
            .order(posts::id)
            .for_update()
            .load(conn)
            .await?;
        let current: std::collections::HashMap<i64, (DateTime<Utc>, Option<DateTime<Utc>>)> =
            current.into_iter().map(|(id, posted_at, last)| (id, (posted_at, last))).collect();
        let keep: Vec<&NewSnapshot> = snapshots
            .iter()
            .filter(|s| {
                current.get(&s.post_id).is_some_and(|(posted_at, last)| still_due(*posted_at, *last, s.captured_at))
            })
            .collect();
        if keep.is_empty() {
            return Ok(0);
        }
        let written = insert_rows(conn, &keep).await?;
        // Each post's latest snapshot time moves forward, in one statement.
        let mut latest: std::collections::HashMap<i64, DateTime<Utc>> = std::collections::HashMap::new();
        let mut checkpoints = Vec::new();
        for snapshot in &keep {
            let entry = latest.entry(snapshot.post_id).or_insert(snapshot.captured_at);
            *entry = (*entry).max(snapshot.captured_at);
            if let Some((posted_at, _)) = current.get(&snapshot.post_id) {
                let interactions = snapshot.figures().interactions();
                for hours in checkpoints_at(snapshot.captured_at - *posted_at) {
                    checkpoints.push(NewCheckpoint {
                        post_id: snapshot.post_id,
                        checkpoint_hours: hours as i32,
                        captured_at: snapshot.captured_at,
                        reach: snapshot.reach,
                        views: snapshot.views,
                        interactions,
                    });
                }
            }
        }
        let (ids, times): (Vec<i64>, Vec<DateTime<Utc>>) = latest.into_iter().unzip();
        diesel::sql_query(
            "UPDATE posts SET last_snapshot_at = v.at FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, at) \
             WHERE posts.id = v.id AND (posts.last_snapshot_at IS NULL OR posts.last_snapshot_at < v.at)",
        )
        .bind::<Array<BigInt>, _>(ids)
        .bind::<Array<Timestamptz>, _>(times)
        .execute(conn)
        .await?;
        // The first snapshot at or after an age stands for it; later ones do not replace it.
        diesel::insert_into(post_checkpoints::table)
            .values(&checkpoints)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        Ok(written)
    })
    .await
}

/// Inserts the rows with one statement whatever their number: each column goes as one array
/// parameter and `unnest` turns them back into rows (far fewer parameters to bind than a
/// multi-row VALUES list).
async fn insert_rows(conn: &mut AsyncPgConnection, rows: &[&NewSnapshot]) -> QueryResult<usize> {
    let column = |pick: fn(&NewSnapshot) -> Option<i64>| -> Vec<Option<i64>> { rows.iter().map(|r| pick(r)).collect() };
    diesel::sql_query(
        "INSERT INTO post_snapshots (post_id, captured_at, views, reach, likes, comments, saved, shares, \
         total_interactions, follows, profile_visits, profile_activity, replies, navigation, reposts, \
         ig_reels_avg_watch_time_ms, ig_reels_video_view_total_time_ms, reels_skip_rate, facebook_views, crossposted_views) \
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], \
         $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], \
         $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::float8[], $19::bigint[], $20::bigint[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.post_id).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.captured_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.views))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.reach))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.likes))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.comments))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.saved))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.shares))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.total_interactions))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.follows))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.profile_visits))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.profile_activity))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.replies))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.navigation))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.reposts))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.ig_reels_avg_watch_time_ms))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.ig_reels_video_view_total_time_ms))
    .bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.reels_skip_rate).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.facebook_views))
    .bind::<Array<Nullable<BigInt>>, _>(column(|r| r.crossposted_views))
    .execute(conn)
    .await
}
