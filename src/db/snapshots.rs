//! Post metric snapshots: one row per post and moment; NULL means "not measured".

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::analytics::PostFigures;
use crate::analytics::impact::checkpoints_at;
use crate::domain::{AccountId, PostId};

/// Declares the metric columns of a snapshot once, each beside the Graph API metric it
/// stores: the [`NewSnapshot`] fields, how they are read from an insights answer, and the
/// columns and types `COPY` sends all come from this one list.
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

        /// The columns a snapshot fills, as `COPY` sends them.
        const COPY_COLUMNS: &str = concat!("post_id, captured_at", $(", ", stringify!($count),)+ $(", ", stringify!($rate),)+);

        /// Each of [`COPY_COLUMNS`]' binary type, in order.
        fn copy_types() -> Vec<Type> {
            [Type::INT8, Type::TIMESTAMPTZ].into_iter().chain([$(stringify!($count)),+].map(|_| Type::INT8)).chain([$(stringify!($rate)),+].map(|_| Type::FLOAT8)).collect()
        }

        impl NewSnapshot {
            /// The row's values in [`COPY_COLUMNS`] order.
            fn copy_values(&self) -> Vec<&(dyn ToSql + Sync)> {
                vec![&self.post_id.0, &self.captured_at, $(&self.$count,)+ $(&self.$rate,)+]
            }
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

/// A snapshot that falls on a checkpoint age, kept as that post's figures at the age.
struct NewCheckpoint {
    post_id: PostId,
    checkpoint_hours: i32,
    captured_at: DateTime<Utc>,
    reach: Option<i64>,
    views: Option<i64>,
    interactions: Option<i64>,
}

/// How many snapshot writes an account had when it was read (`None`: unknown, or no such
/// account). A write handed a stale or unknown mark re-checks every post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMark(Option<i64>);

impl WriteMark {
    /// For a writer that read nothing first: every post is re-checked.
    pub const UNKNOWN: WriteMark = WriteMark(None);
}

/// A connection of its own that writes snapshots with binary `COPY`, which diesel-async
/// cannot send. The sync opens one per run and writes through it one account after another.
pub struct SnapshotWriter {
    client: tokio_postgres::Client,
    /// Months (their first days) whose partition this writer has made sure of.
    months: HashSet<NaiveDate>,
}

impl SnapshotWriter {
    pub async fn connect(database_url: &str) -> Result<SnapshotWriter, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::warn!(error = %err, "the snapshot writer's connection ended");
            }
        });
        Ok(SnapshotWriter { client, months: HashSet::new() })
    }

    /// A connection the server closed (or lost) is not reused.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Where the account's snapshot writes stand now. Read it before the due posts: if
    /// [`SnapshotWriter::write`] finds it unchanged, nothing was written in between.
    pub async fn mark(&self, account: AccountId) -> Result<WriteMark, tokio_postgres::Error> {
        let row = self.client.query_opt("SELECT snapshot_writes FROM ig_accounts WHERE id = $1", &[&account.0]).await?;
        Ok(WriteMark(row.map(|row| row.get(0))))
    }

    /// Writes one account's snapshots in one transaction and returns how many, with the mark
    /// to hand to the next write. Retried and overlapping cycles write no duplicate: the
    /// account's row is locked, so writers of one account take turns, and unless the mark is
    /// where `seen` left it (nothing written since the caller read its due posts), each post's
    /// latest snapshot is read again and `still_due` asked against it (a snapshot not newer
    /// than it never is). The rows go by binary `COPY`; snapshots that fall on a checkpoint
    /// age are recorded as that post's checkpoint too. Snapshots of posts that are not the
    /// account's, and of a deleted account, are not written.
    pub async fn write(
        &mut self,
        account: AccountId,
        seen: WriteMark,
        snapshots: &[NewSnapshot],
        still_due: &(dyn Fn(DateTime<Utc>, Option<DateTime<Utc>>, DateTime<Utc>) -> bool + Send + Sync),
    ) -> Result<(usize, WriteMark), tokio_postgres::Error> {
        if snapshots.is_empty() {
            return Ok((0, seen));
        }
        self.make_months(snapshots).await?;
        let tx = self.client.transaction().await?;
        // One row lock for the whole batch (not one per post); it does not block the foreign-key
        // checks of inserts elsewhere. Read after it, the count and the latest snapshots include
        // whatever a writer before us committed.
        let Some(lock) = tx
            .query_opt("SELECT snapshot_writes FROM ig_accounts WHERE id = $1 FOR NO KEY UPDATE", &[&account.0])
            .await?
        else {
            return Ok((0, WriteMark::UNKNOWN));
        };
        let writes: i64 = lock.get(0);
        let overlapped = seen != WriteMark(Some(writes));
        let ids: Vec<i64> = snapshots.iter().map(|s| s.post_id.0).collect();
        let latest = if overlapped {
            "(SELECT max(s.captured_at) FROM post_snapshots s WHERE s.post_id = p.id)"
        } else {
            "NULL::timestamptz"
        };
        let current: HashMap<PostId, (DateTime<Utc>, Option<DateTime<Utc>>)> = tx
            .query(
                &format!("SELECT p.id, p.posted_at, {latest} FROM posts p WHERE p.account_id = $1 AND p.id = ANY($2)"),
                &[&account.0, &ids],
            )
            .await?
            .into_iter()
            .map(|row| (PostId(row.get(0)), (row.get(1), row.get(2))))
            .collect();
        // Without an overlap the caller's own reading of what is due stands.
        let keep: Vec<&NewSnapshot> = snapshots
            .iter()
            .filter(|s| {
                current.get(&s.post_id).is_some_and(|(posted_at, last)| {
                    !overlapped
                        || (last.is_none_or(|last| s.captured_at > last) && still_due(*posted_at, *last, s.captured_at))
                })
            })
            .collect();
        if keep.is_empty() {
            return Ok((0, WriteMark(Some(writes))));
        }
        // Straight into the table: under the lock, with the mark unchanged or the posts re-checked,
        // no row can already be there.
        let sink = tx.copy_in(&format!("COPY post_snapshots ({COPY_COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
        let writer = BinaryCopyInWriter::new(sink, &copy_types());
        pin_mut!(writer);
        for snapshot in &keep {
            writer.as_mut().write(&snapshot.copy_values()).await?;
        }
        let written = writer.finish().await?;
        let checkpoints = checkpoints_of(&keep, &current);
        if !checkpoints.is_empty() {
            let counts = |f: fn(&NewCheckpoint) -> Option<i64>| checkpoints.iter().map(f).collect::<Vec<_>>();
            // The first snapshot at or after an age stands for it; later ones do not replace it.
            tx.execute(
                "INSERT INTO post_checkpoints (post_id, checkpoint_hours, captured_at, reach, views, interactions) \
                 SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[]) \
                 ON CONFLICT DO NOTHING",
                &[
                    &checkpoints.iter().map(|c| c.post_id.0).collect::<Vec<_>>(),
                    &checkpoints.iter().map(|c| c.checkpoint_hours).collect::<Vec<_>>(),
                    &checkpoints.iter().map(|c| c.captured_at).collect::<Vec<_>>(),
                    &counts(|c| c.reach),
                    &counts(|c| c.views),
                    &counts(|c| c.interactions),
                ],
            )
            .await?;
        }
        tx.execute("UPDATE ig_accounts SET snapshot_writes = snapshot_writes + 1 WHERE id = $1", &[&account.0]).await?;
        tx.commit().await?;
        Ok((usize::try_from(written).unwrap_or(usize::MAX), WriteMark(Some(writes + 1))))
    }

    /// Makes the monthly partitions the snapshots fall in, unless this writer already did:
    /// `COPY` into a month without one would fail. Outside the write's transaction, so the new
    /// partition is not held locked while the batch writes.
    async fn make_months(&mut self, snapshots: &[NewSnapshot]) -> Result<(), tokio_postgres::Error> {
        let mut missing: Vec<NaiveDate> =
            snapshots.iter().map(|s| month_of(s.captured_at)).filter(|m| !self.months.contains(m)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        self.client.execute("SELECT post_snapshots_month(m) FROM unnest($1::date[]) AS m", &[&missing]).await?;
        self.months.extend(missing);
        Ok(())
    }
}

/// The first day of the month (UTC) holding `at`: the partition it belongs to.
fn month_of(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    day.with_day(1).unwrap_or(day)
}

/// The checkpoints the kept snapshots fall on.
fn checkpoints_of(
    keep: &[&NewSnapshot],
    current: &HashMap<PostId, (DateTime<Utc>, Option<DateTime<Utc>>)>,
) -> Vec<NewCheckpoint> {
    let mut checkpoints = Vec::new();
    for snapshot in keep {
        let Some((posted_at, _)) = current.get(&snapshot.post_id) else { continue };
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
    checkpoints
}
