//! Precomputed per-post figures (`post_scores`) and what they are computed from.

use chrono::{DateTime, Utc};
use diesel::pg::upsert::excluded;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::post_scores;

use crate::domain::{AccountId, PostId};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = post_scores)]
pub struct PostScore {
    pub post_id: PostId,
    pub account_id: AccountId,
    pub format: String,
    pub latest_captured_at: Option<DateTime<Utc>>,
    pub reach: Option<i64>,
    pub views: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub interactions: Option<i64>,
    pub followers_at_posting: Option<i64>,
    pub rate_by_reach: Option<f64>,
    pub rate_by_followers: Option<f64>,
    pub rate_by_views: Option<f64>,
    pub impact: Option<i16>,
    pub impact_cohort: i32,
    pub checkpoint_hours: Option<i32>,
    pub computed_at: DateTime<Utc>,
}

/// A post with its latest snapshot.
#[derive(Debug, Clone, QueryableByName)]
pub struct LatestSnapshot {
    #[diesel(sql_type = BigInt)]
    pub post_id: PostId,
    #[diesel(sql_type = Timestamptz)]
    pub posted_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub media_product_type: Option<String>,
    #[diesel(sql_type = Text)]
    pub media_type: String,
    #[diesel(sql_type = Timestamptz)]
    pub captured_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub reach: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub views: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub likes: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub comments: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub saved: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub shares: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub total_interactions: Option<i64>,
}

/// One checkpoint of one post of an account.
#[derive(Debug, Clone, QueryableByName)]
pub struct CheckpointRow {
    #[diesel(sql_type = BigInt)]
    pub post_id: PostId,
    #[diesel(sql_type = Timestamptz)]
    pub posted_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub media_product_type: Option<String>,
    #[diesel(sql_type = Text)]
    pub media_type: String,
    #[diesel(sql_type = Integer)]
    pub checkpoint_hours: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub reach: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub interactions: Option<i64>,
}

/// Every post of the account with its latest snapshot: one index probe per post.
pub async fn latest_snapshots(conn: &mut AsyncPgConnection, account: AccountId) -> QueryResult<Vec<LatestSnapshot>> {
    diesel::sql_query(
        "SELECT p.id AS post_id, p.posted_at, p.media_product_type, p.media_type, s.captured_at, s.reach, s.views, \
                s.likes, s.comments, s.saved, s.shares, s.total_interactions \
         FROM posts p \
         CROSS JOIN LATERAL (SELECT * FROM post_snapshots WHERE post_id = p.id ORDER BY captured_at DESC LIMIT 1) s \
         WHERE p.account_id = $1",
    )
    .bind::<BigInt, _>(account.0)
    .load(conn)
    .await
}

/// Every checkpoint of the account's posts.
pub async fn checkpoints(conn: &mut AsyncPgConnection, account: AccountId) -> QueryResult<Vec<CheckpointRow>> {
    diesel::sql_query(
        "SELECT p.id AS post_id, p.posted_at, p.media_product_type, p.media_type, c.checkpoint_hours, c.reach, c.interactions \
         FROM post_checkpoints c JOIN posts p ON p.id = c.post_id WHERE p.account_id = $1",
    )
    .bind::<BigInt, _>(account.0)
    .load(conn)
    .await
}

pub async fn upsert(conn: &mut AsyncPgConnection, scores: &[PostScore]) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in scores.chunks(1000) {
        written += diesel::insert_into(post_scores::table)
            .values(chunk)
            .on_conflict(post_scores::post_id)
            .do_update()
            .set((
                post_scores::format.eq(excluded(post_scores::format)),
                post_scores::latest_captured_at.eq(excluded(post_scores::latest_captured_at)),
                post_scores::reach.eq(excluded(post_scores::reach)),
                post_scores::views.eq(excluded(post_scores::views)),
                post_scores::likes.eq(excluded(post_scores::likes)),
                post_scores::comments.eq(excluded(post_scores::comments)),
                post_scores::saved.eq(excluded(post_scores::saved)),
                post_scores::shares.eq(excluded(post_scores::shares)),
                post_scores::interactions.eq(excluded(post_scores::interactions)),
                post_scores::followers_at_posting.eq(excluded(post_scores::followers_at_posting)),
                post_scores::rate_by_reach.eq(excluded(post_scores::rate_by_reach)),
                post_scores::rate_by_followers.eq(excluded(post_scores::rate_by_followers)),
                post_scores::rate_by_views.eq(excluded(post_scores::rate_by_views)),
                post_scores::impact.eq(excluded(post_scores::impact)),
                post_scores::impact_cohort.eq(excluded(post_scores::impact_cohort)),
                post_scores::checkpoint_hours.eq(excluded(post_scores::checkpoint_hours)),
                post_scores::computed_at.eq(excluded(post_scores::computed_at)),
            ))
            .execute(conn)
            .await?;
    }
    Ok(written)
}
