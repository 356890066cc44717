//! Tracked posts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::pg::upsert::excluded;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{post_snapshots, posts};

use crate::domain::{AccountId, PostId};

/// A post as the media list shows it, ready to insert or update.
#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
pub struct ListedPost<'a> {
    pub account_id: AccountId,
    pub media_id: &'a str,
    pub caption: Option<&'a str>,
    pub media_type: &'a str,
    pub media_product_type: Option<&'a str>,
    pub permalink: Option<&'a str>,
    pub posted_at: DateTime<Utc>,
    pub hashtags: Vec<Option<String>>,
}

/// What the sync needs of a live post to decide whether it is due.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct LivePost {
    pub id: PostId,
    pub media_id: String,
    pub media_type: String,
    pub media_product_type: Option<String>,
    pub permalink: Option<String>,
    pub posted_at: DateTime<Utc>,
    /// Read from the snapshots' (post_id, captured_at) index: one entry per post.
    #[diesel(
        select_expression = sql::<Nullable<Timestamptz>>(LATEST_SNAPSHOT),
        select_expression_type = SqlLiteral<Nullable<Timestamptz>>
    )]
    pub last_snapshot_at: Option<DateTime<Utc>>,
    pub insights_unavailable: Option<String>,
}

const LATEST_SNAPSHOT: &str = "(SELECT max(s.captured_at) FROM post_snapshots s WHERE s.post_id = posts.id)";

/// Posts and snapshots a retention cut would delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionCount {
    pub posts: i64,
    pub snapshots: i64,
}

/// Inserts new posts and updates changed ones; returns `media_id → post id` and how many
/// were new. A post that reappears in the list is no longer marked removed.
pub async fn upsert_listed(
    conn: &mut AsyncPgConnection,
    listed: &[ListedPost<'_>],
) -> QueryResult<(HashMap<String, PostId>, usize)> {
    let mut ids = HashMap::with_capacity(listed.len());
    let mut new = 0;
    for chunk in listed.chunks(500) {
        let rows: Vec<(PostId, String, bool)> = diesel::insert_into(posts::table)
            .values(chunk)
            .on_conflict((posts::account_id, posts::media_id))
            .do_update()
            .set((
                posts::caption.eq(excluded(posts::caption)),
                posts::hashtags.eq(excluded(posts::hashtags)),
                posts::permalink.eq(excluded(posts::permalink)),
                posts::media_product_type.eq(excluded(posts::media_product_type)),
                posts::removed_at.eq(None::<DateTime<Utc>>),
                posts::updated_at.eq(sql::<Timestamptz>(
                    "CASE WHEN posts.caption IS DISTINCT FROM excluded.caption THEN now() ELSE posts.updated_at END",
                )),
            ))
            // xmax = 0 only on a freshly inserted row.
            .returning((posts::id, posts::media_id, sql::<Bool>("(xmax = 0)")))
            .get_results(conn)
            .await?;
        for (id, media_id, inserted) in rows {
            new += usize::from(inserted);
            ids.insert(media_id, id);
        }
    }
    Ok((ids, new))
}

/// Marks as removed the account's posts within the window that the list no longer shows.
/// Stories are left alone: they leave the list after a day by design.
pub async fn mark_removed(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    window_start: Option<DateTime<Utc>>,
    still_listed: &[&str],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut query = diesel::update(posts::table)
        .filter(posts::account_id.eq(account))
        .filter(posts::removed_at.is_null())
        .filter(posts::media_product_type.is_distinct_from("STORY"))
        .filter(posts::media_id.ne_all(still_listed))
        .into_boxed();
    if let Some(start) = window_start {
        query = query.filter(posts::posted_at.ge(start));
    }
    query.set(posts::removed_at.eq(now)).execute(conn).await
}

/// The account's posts that are still on Instagram and inside the window.
pub async fn live(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    window_start: Option<DateTime<Utc>>,
) -> QueryResult<Vec<LivePost>> {
    let mut query = posts::table
        .filter(posts::account_id.eq(account))
        .filter(posts::removed_at.is_null())
        .select(LivePost::as_select())
        .into_boxed();
    if let Some(start) = window_start {
        query = query.filter(posts::posted_at.ge(start));
    }
    query.order(posts::posted_at.desc()).load(conn).await
}

pub async fn set_insights_unavailable(conn: &mut AsyncPgConnection, post_id: PostId, reason: &str) -> QueryResult<()> {
    diesel::update(posts::table.find(post_id)).set(posts::insights_unavailable.eq(reason)).execute(conn).await?;
    Ok(())
}

/// How many posts (and their snapshots) were published before `cutoff`.
pub async fn count_older_than(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<RetentionCount> {
    let posts: i64 = posts::table.filter(posts::posted_at.lt(cutoff)).count().get_result(conn).await?;
    let snapshots: i64 = post_snapshots::table
        .inner_join(posts::table)
        .filter(posts::posted_at.lt(cutoff))
        .count()
        .get_result(conn)
        .await?;
    Ok(RetentionCount { posts, snapshots })
}

/// Deletes posts published before `cutoff`; their snapshots go with them (cascade).
pub async fn delete_older_than(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<RetentionCount> {
    let count = count_older_than(conn, cutoff).await?;
    let posts = diesel::delete(posts::table.filter(posts::posted_at.lt(cutoff))).execute(conn).await?;
    Ok(RetentionCount { posts: posts as i64, snapshots: count.snapshots })
}

/// Tracked posts per account.
pub async fn count_by_account(conn: &mut AsyncPgConnection) -> QueryResult<HashMap<AccountId, i64>> {
    let rows: Vec<(AccountId, i64)> = posts::table
        .group_by(posts::account_id)
        .select((posts::account_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A post as the planner shows it: posted in a range, whoever published it.
#[derive(Debug, Clone, Queryable)]
pub struct PlannedPost {
    pub id: PostId,
    pub account_id: AccountId,
    pub username: String,
    pub media_id: String,
    pub media_type: String,
    pub media_product_type: Option<String>,
    pub caption: Option<String>,
    pub posted_at: DateTime<Utc>,
}

/// Posts posted in `[from, to)` (optionally of one account), by time.
pub async fn posted_between(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    account: Option<AccountId>,
) -> QueryResult<Vec<PlannedPost>> {
    use super::schema::ig_accounts;
    let mut query = posts::table
        .inner_join(ig_accounts::table)
        .filter(posts::posted_at.ge(from).and(posts::posted_at.lt(to)))
        .select((
            posts::id,
            posts::account_id,
            ig_accounts::username,
            posts::media_id,
            posts::media_type,
            posts::media_product_type,
            posts::caption,
            posts::posted_at,
        ))
        .order((posts::posted_at.asc(), posts::id.asc()))
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(posts::account_id.eq(account));
    }
    query.load(conn).await
}

/// The tracked post of an account's media and its permalink, if the sync has seen it.
pub async fn find_by_media(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    media_id: &str,
) -> QueryResult<Option<(PostId, Option<String>)>> {
    posts::table
        .filter(posts::account_id.eq(account))
        .filter(posts::media_id.eq(media_id))
        .select((posts::id, posts::permalink))
        .first(conn)
        .await
        .optional()
}
