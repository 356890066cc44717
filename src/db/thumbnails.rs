//! Small copies of the posts' pictures.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{post_thumbnails, posts};
use crate::domain::{AccountId, PostId};

/// The account's posts among `media_ids` that have no picture yet: never tried, or tried and
/// failed before `retry_before`. Newest first, at most `limit`.
pub async fn missing(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    media_ids: &[&str],
    retry_before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<(PostId, String)>> {
    posts::table
        .left_join(post_thumbnails::table)
        .filter(posts::account_id.eq(account))
        .filter(posts::media_id.eq_any(media_ids))
        .filter(
            post_thumbnails::post_id
                .is_null()
                .or(post_thumbnails::image.is_null().and(post_thumbnails::fetched_at.lt(retry_before))),
        )
        .order(posts::posted_at.desc())
        .limit(limit)
        .select((posts::id, posts::media_id))
        .load(conn)
        .await
}

/// Keeps a post's picture, or why there is none.
pub async fn store(
    conn: &mut AsyncPgConnection,
    post: PostId,
    image: Result<&[u8], &str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let (image, problem) = match image {
        Ok(bytes) => (Some(bytes), None),
        Err(problem) => (None, Some(problem)),
    };
    diesel::insert_into(post_thumbnails::table)
        .values((
            post_thumbnails::post_id.eq(post),
            post_thumbnails::image.eq(image),
            post_thumbnails::fetched_at.eq(now),
            post_thumbnails::problem.eq(problem),
        ))
        .on_conflict(post_thumbnails::post_id)
        .do_update()
        .set((
            post_thumbnails::image.eq(image),
            post_thumbnails::fetched_at.eq(now),
            post_thumbnails::problem.eq(problem),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A post's picture, if one was kept.
pub async fn image(conn: &mut AsyncPgConnection, post: PostId) -> QueryResult<Option<Vec<u8>>> {
    post_thumbnails::table
        .find(post)
        .select(post_thumbnails::image)
        .first::<Option<Vec<u8>>>(conn)
        .await
        .optional()
        .map(Option::flatten)
}
