//! Post metric snapshots: one row per post and moment; NULL means "not measured".

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Float8, Nullable, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{post_checkpoints, posts};
use crate::analytics::PostFigures;
use crate::analytics::impact::checkpoints_at;
use crate::domain::PostId;

/// Declares the metric columns of a snapshot once, each beside the Graph API metric it
/// stores: the [`NewSnapshot`] fields, how they are read from an insights answer, and the
/// column list and parameters of the insert all come from this one list.
macro_rules! snapshot_columns {
    (counts { $($count:ident = $count_metric:literal,)+ } rates { $($rate:ident = $rate_metric:literal,)+ }) => {
        /// One snapshot to write. `None` is "not measured"; counts are whole numbers.
        #[derive(Debug, Clone, PartialEq)]
        pub struct NewSnapshot {
            pub post_id: PostId,
            pub captured_at: DateTime<Utc>,
            $(pub $count: Option<i64>,)+
            $(pub $rate: Option<f64>,)+
        }

        impl NewSnapshot {
            /// A snapshot from metric values by API name (`value("reach")`); a metric the lookup
            /// does not know stays NULL: not measured.
            pub fn from_metrics(
                post_id: PostId,
                captured_at: DateTime<Utc>,
                value: impl Fn(&str) -> Option<f64>,
            ) -> NewSnapshot {
                NewSnapshot {
                    post_id,
                    captured_at,
                    $($count: value($count_metric).map(|v| v.round() as i64),)+
                    $($rate: value($rate_metric),)+
                }
            }
        }

        /// `INSERT … SELECT * FROM unnest(…)`: each column goes as one array parameter and
        /// `unnest` turns them back into rows (far fewer parameters than a multi-row VALUES).
        fn insert_statement() -> String {
            let counts = [$(stringify!($count)),+];
            let rates = [$(stringify!($rate)),+];
            let columns: Vec<&str> = ["post_id", "captured_at"].into_iter().chain(counts).chain(rates).collect();
            let types = ["bigint", "timestamptz"]
                .into_iter()
                .chain(counts.map(|_| "bigint"))
                .chain(rates.map(|_| "float8"));
            let parameters: Vec<String> = types.enumerate().map(|(i, t)| format!("${}::{t}[]", i + 1)).collect();
            format!(
                "INSERT INTO post_snapshots ({}) SELECT * FROM unnest({}) ON CONFLICT DO NOTHING",
                columns.join(", "),
                parameters.join(", ")
            )
        }

        async fn insert_rows(conn: &mut AsyncPgConnection, rows: &[&NewSnapshot]) -> QueryResult<usize> {
            let query = diesel::sql_query(insert_statement())
                .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.post_id.0).collect::<Vec<_>>())
                .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.captured_at).collect::<Vec<_>>());
            $(let query = query.bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.$count).collect::<Vec<_>>());)+
            $(let query = query.bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.$rate).collect::<Vec<_>>());)+
            query.execute(conn).await
        }
    };
}

snapshot_columns! {
    counts {
        views = "views",
        reach = "reach",
        likes = "likes",
        comments = "comments",
        saved = "saved",
        shares = "shares",
        total_interactions = "total_interactions",
        follows = "follows",
        profile_visits = "profile_visits",
        profile_activity = "profile_activity",
        replies = "replies",
        navigation = "navigation",
        reposts = "reposts",
        ig_reels_avg_watch_time_ms = "ig_reels_avg_watch_time",
        ig_reels_video_view_total_time_ms = "ig_reels_video_view_total_time",
        facebook_views = "facebook_views",
        crossposted_views = "crossposted_views",
    }
    rates {
        reels_skip_rate = "reels_skip_rate",
    }
}

impl NewSnapshot {
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
    post_id: PostId,
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
        let ids: Vec<PostId> = snapshots.iter().map(|s| s.post_id).collect();
        let current: Vec<(PostId, DateTime<Utc>, Option<DateTime<Utc>>)> = posts::table
            .filter(posts::id.eq_any(&ids))
            .select((posts::id, posts::posted_at, posts::last_snapshot_at))
            .order(posts::id)
            .for_update()
            .load(conn)
            .await?;
        let current: HashMap<PostId, (DateTime<Utc>, Option<DateTime<Utc>>)> =
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
        let mut latest: HashMap<PostId, DateTime<Utc>> = HashMap::new();
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
        let (ids, times): (Vec<i64>, Vec<DateTime<Utc>>) = latest.into_iter().map(|(id, at)| (id.0, at)).unzip();
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
