//! Comments on the accounts' media, and the webhook changes already seen.
//!
//! A comment is "from the account" when Tidemark posted it or its username is the account's;
//! a top-level comment is "answered" when a reply from the account is stored under it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{comments, posts, webhook_events};
use crate::domain::{AccountId, PostId};

/// A thread counts as waiting for an answer this long after its comment (older ones are
/// history, not work).
pub const WAITING_DAYS: i64 = 14;

/// A comment as a webhook (or the sync) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub account_id: AccountId,
    pub comment_id: String,
    pub media_id: String,
    pub parent_id: Option<String>,
    pub username: Option<String>,
    pub text: String,
    pub commented_at: DateTime<Utc>,
    pub source: &'static str,
    pub hidden: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = comments, check_for_backend(diesel::pg::Pg))]
pub struct Comment {
    pub id: i64,
    pub account_id: AccountId,
    pub comment_id: String,
    pub media_id: String,
    pub parent_id: Option<String>,
    pub username: Option<String>,
    pub text: String,
    pub commented_at: DateTime<Utc>,
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub hidden: bool,
    pub flagged: bool,
    pub rules_checked_at: Option<DateTime<Utc>>,
}

/// Stores a comment once: a second report of the same comment (a webhook and the sync, or a
/// retried delivery) changes nothing. True when it was new.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewComment, now: DateTime<Utc>) -> QueryResult<bool> {
    let inserted = diesel::insert_into(comments::table)
        .values((
            comments::account_id.eq(new.account_id),
            comments::comment_id.eq(&new.comment_id),
            comments::media_id.eq(&new.media_id),
            comments::parent_id.eq(&new.parent_id),
            comments::username.eq(&new.username),
            comments::text.eq(&new.text),
            comments::commented_at.eq(new.commented_at),
            comments::source.eq(new.source),
            comments::received_at.eq(now),
            comments::hidden.eq(new.hidden),
        ))
        .on_conflict((comments::account_id, comments::comment_id))
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Stores comments the sync read: new ones inserted, known ones given Instagram's current
/// text and visibility. Returns how many were new.
pub async fn record_read(conn: &mut AsyncPgConnection, read: &[NewComment], now: DateTime<Utc>) -> QueryResult<usize> {
    let mut new = 0;
    for comment in read {
        if insert(conn, comment, now).await? {
            new += 1;
        } else {
            diesel::update(
                comments::table
                    .filter(comments::account_id.eq(comment.account_id))
                    .filter(comments::comment_id.eq(&comment.comment_id)),
            )
            .set((comments::text.eq(&comment.text), comments::hidden.eq(comment.hidden)))
            .execute(conn)
            .await?;
        }
    }
    Ok(new)
}

/// Ids of the comments stored for one media.
pub async fn ids_on(conn: &mut AsyncPgConnection, account: AccountId, media_id: &str) -> QueryResult<Vec<String>> {
    comments::table
        .filter(comments::account_id.eq(account))
        .filter(comments::media_id.eq(media_id))
        .select(comments::comment_id)
        .load(conn)
        .await
}

/// Removes a media's comments that a complete read no longer lists (deleted on Instagram),
/// except those received after the read began.
pub async fn remove_unlisted(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    media_id: &str,
    listed: &[String],
    read_started: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        comments::table
            .filter(comments::account_id.eq(account))
            .filter(comments::media_id.eq(media_id))
            .filter(comments::comment_id.ne_all(listed))
            .filter(comments::received_at.lt(read_started)),
    )
    .execute(conn)
    .await
}

/// One stored comment by Instagram's id.
pub async fn find(conn: &mut AsyncPgConnection, comment_id: &str) -> QueryResult<Option<Comment>> {
    comments::table
        .filter(comments::comment_id.eq(comment_id))
        .select(Comment::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn set_hidden(conn: &mut AsyncPgConnection, id: i64, hidden: bool) -> QueryResult<()> {
    diesel::update(comments::table.find(id)).set(comments::hidden.eq(hidden)).execute(conn).await.map(|_| ())
}

pub async fn set_flagged(conn: &mut AsyncPgConnection, id: i64, flagged: bool) -> QueryResult<()> {
    diesel::update(comments::table.find(id)).set(comments::flagged.eq(flagged)).execute(conn).await.map(|_| ())
}

/// Removes a comment and its replies (deleted on Instagram).
pub async fn delete_thread(conn: &mut AsyncPgConnection, account: AccountId, comment_id: &str) -> QueryResult<usize> {
    diesel::delete(
        comments::table
            .filter(comments::account_id.eq(account))
            .filter(comments::comment_id.eq(comment_id).or(comments::parent_id.eq(comment_id))),
    )
    .execute(conn)
    .await
}

/// Comments the rules have not judged yet, received since `since`, oldest first.
pub async fn unchecked(conn: &mut AsyncPgConnection, since: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Comment>> {
    comments::table
        .filter(comments::rules_checked_at.is_null())
        .filter(comments::received_at.ge(since))
        .order(comments::received_at.asc())
        .limit(limit)
        .select(Comment::as_select())
        .load(conn)
        .await
}

/// Marks comments as judged by the rules (and those older than `since` as never to be).
pub async fn mark_checked(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        comments::table
            .filter(comments::rules_checked_at.is_null())
            .filter(comments::id.eq_any(ids).or(comments::received_at.lt(since))),
    )
    .set(comments::rules_checked_at.eq(now))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Comments of one account (or all) made since `since`, for a rule's dry run, oldest first.
pub async fn made_since(
    conn: &mut AsyncPgConnection,
    account: Option<AccountId>,
    since: DateTime<Utc>,
) -> QueryResult<Vec<Comment>> {
    let mut query = comments::table.filter(comments::commented_at.ge(since)).into_boxed();
    if let Some(account) = account {
        query = query.filter(comments::account_id.eq(account));
    }
    query.order(comments::commented_at.asc()).select(Comment::as_select()).load(conn).await
}

/// Posts whose comments the sync should read: recent, listed with a `comments_count` that
/// differs from the one seen at the last read.
pub async fn posts_to_read(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    counts: &[(String, i64)],
    posted_since: DateTime<Utc>,
) -> QueryResult<Vec<(String, i64)>> {
    let seen: Vec<(String, Option<i32>)> = posts::table
        .filter(posts::account_id.eq(account))
        .filter(posts::posted_at.ge(posted_since))
        .filter(posts::media_product_type.is_distinct_from("STORY"))
        .select((posts::media_id, posts::comments_seen))
        .load(conn)
        .await?;
    let seen: std::collections::HashMap<String, Option<i32>> = seen.into_iter().collect();
    Ok(counts
        .iter()
        .filter(|(media, count)| seen.get(media).is_some_and(|s| s.map(i64::from) != Some(*count)))
        .cloned()
        .collect())
}

/// Remembers the `comments_count` a post had when its comments were read.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    media_id: &str,
    count: i64,
) -> QueryResult<()> {
    diesel::update(posts::table.filter(posts::account_id.eq(account)).filter(posts::media_id.eq(media_id)))
        .set(posts::comments_seen.eq(i32::try_from(count).unwrap_or(i32::MAX)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A comment with what the inbox shows beside it: its account and the post it is on.
#[derive(Debug, Clone, QueryableByName)]
pub struct InboxRow {
    #[diesel(embed)]
    pub comment: Comment,
    #[diesel(sql_type = Text)]
    pub account_username: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub post_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub post_caption: Option<String>,
    /// Written by the account itself.
    #[diesel(sql_type = Bool)]
    pub by_account: bool,
    /// A top-level comment with a reply from the account.
    #[diesel(sql_type = Bool)]
    pub answered: bool,
}

/// Which threads an inbox view lists.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub account: Option<AccountId>,
    pub post: Option<PostId>,
    /// Only threads waiting for an answer (see [`WAITING_DAYS`]).
    pub waiting: bool,
    pub hidden: bool,
    pub flagged: bool,
    pub questions: bool,
    /// In the comment or one of its replies, case-insensitive.
    pub keyword: Option<String>,
    /// Threads older than this one (keyset paging): (commented_at, id).
    pub before: Option<(DateTime<Utc>, i64)>,
}

/// The columns of an inbox row, over `comments c` joined to `ig_accounts a`.
const ROW: &str = "c.*, a.username AS account_username, p.id AS post_id, p.caption AS post_caption, \
     (c.source = 'tidemark' OR c.username = a.username) AS by_account, \
     EXISTS (SELECT 1 FROM comments r WHERE r.account_id = c.account_id AND r.parent_id = c.comment_id \
             AND (r.source = 'tidemark' OR r.username = a.username)) AS answered";

/// Top-level comments (and replies whose comment is not stored), newest first, filtered.
pub async fn threads(
    conn: &mut AsyncPgConnection,
    filter: &InboxFilter,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<InboxRow>> {
    let keyword = filter
        .keyword
        .as_ref()
        .map(|k| format!("%{}%", k.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    diesel::sql_query(format!(
        "SELECT * FROM (SELECT {ROW} FROM comments c JOIN ig_accounts a ON a.id = c.account_id \
         LEFT JOIN posts p ON p.account_id = c.account_id AND p.media_id = c.media_id \
         WHERE (c.parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM comments t \
                WHERE t.account_id = c.account_id AND t.comment_id = c.parent_id)) \
           AND ($1::bigint IS NULL OR c.account_id = $1) \
           AND ($2::bigint IS NULL OR p.id = $2) \
           AND (NOT $3 OR c.hidden) AND (NOT $4 OR c.flagged) AND (NOT $5 OR c.text LIKE '%?%') \
           AND ($6::text IS NULL OR c.text ILIKE $6 OR EXISTS (SELECT 1 FROM comments k \
                WHERE k.account_id = c.account_id AND k.parent_id = c.comment_id AND k.text ILIKE $6)) \
           AND ($7::timestamptz IS NULL OR (c.commented_at, c.id) < ($7, $8)) \
         ) t WHERE NOT $9 OR (NOT t.answered AND NOT t.by_account AND NOT t.hidden AND t.commented_at >= $10) \
         ORDER BY t.commented_at DESC, t.id DESC LIMIT $11"
    ))
    .bind::<Nullable<BigInt>, _>(filter.account.map(|a| a.0))
    .bind::<Nullable<BigInt>, _>(filter.post.map(|p| p.0))
    .bind::<Bool, _>(filter.hidden)
    .bind::<Bool, _>(filter.flagged)
    .bind::<Bool, _>(filter.questions)
    .bind::<Nullable<Text>, _>(keyword)
    .bind::<Nullable<Timestamptz>, _>(filter.before.map(|b| b.0))
    .bind::<BigInt, _>(filter.before.map_or(0, |b| b.1))
    .bind::<Bool, _>(filter.waiting)
    .bind::<Timestamptz, _>(now - chrono::Duration::days(WAITING_DAYS))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The replies under the given top-level comments, oldest first.
pub async fn replies(conn: &mut AsyncPgConnection, parents: &[(AccountId, String)]) -> QueryResult<Vec<InboxRow>> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    let accounts: Vec<i64> = parents.iter().map(|(a, _)| a.0).collect();
    let ids: Vec<String> = parents.iter().map(|(_, c)| c.clone()).collect();
    diesel::sql_query(format!(
        "SELECT {ROW} FROM comments c JOIN ig_accounts a ON a.id = c.account_id \
         LEFT JOIN posts p ON p.account_id = c.account_id AND p.media_id = c.media_id \
         JOIN unnest($1::bigint[], $2::text[]) AS w(account_id, comment_id) \
           ON w.account_id = c.account_id AND w.comment_id = c.parent_id \
         ORDER BY c.commented_at, c.id"
    ))
    .bind::<diesel::sql_types::Array<BigInt>, _>(accounts)
    .bind::<diesel::sql_types::Array<Text>, _>(ids)
    .load(conn)
    .await
}

/// Threads waiting for an answer, across every account.
pub async fn waiting_count(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM comments c JOIN ig_accounts a ON a.id = c.account_id \
         WHERE c.parent_id IS NULL AND c.commented_at >= $1 AND NOT c.hidden \
           AND c.source <> 'tidemark' AND c.username IS DISTINCT FROM a.username \
           AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.account_id = c.account_id \
                AND r.parent_id = c.comment_id AND (r.source = 'tidemark' OR r.username = a.username))",
    )
    .bind::<Timestamptz, _>(now - chrono::Duration::days(WAITING_DAYS))
    .get_result(conn)
    .await?;
    Ok(row.n)
}

/// How an account answered the comments made in a period.
#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct ResponseStats {
    /// Comments (and replies) from others.
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    /// Top-level comments from others.
    #[diesel(sql_type = BigInt)]
    pub threads: i64,
    /// Of those, answered by the account.
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
    /// Median seconds from a comment to the account's first reply.
    #[diesel(sql_type = Nullable<diesel::sql_types::Double>)]
    pub median_reply_seconds: Option<f64>,
}

pub async fn response_stats(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<ResponseStats> {
    diesel::sql_query(
        "WITH theirs AS ( \
           SELECT c.*, (SELECT min(r.commented_at) FROM comments r WHERE r.account_id = c.account_id \
                  AND r.parent_id = c.comment_id AND (r.source = 'tidemark' OR r.username = a.username)) AS first_reply \
           FROM comments c JOIN ig_accounts a ON a.id = c.account_id \
           WHERE c.account_id = $1 AND c.commented_at >= $2 AND c.commented_at < $3 \
             AND c.source <> 'tidemark' AND c.username IS DISTINCT FROM a.username) \
         SELECT count(*) AS received, \
                count(*) FILTER (WHERE parent_id IS NULL) AS threads, \
                count(*) FILTER (WHERE parent_id IS NULL AND first_reply IS NOT NULL) AS answered, \
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply - commented_at)) \
                    FILTER (WHERE parent_id IS NULL AND first_reply IS NOT NULL) AS median_reply_seconds \
         FROM theirs",
    )
    .bind::<BigInt, _>(account.0)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .get_result(conn)
    .await
}

/// Records a webhook change by its digest; false when it was seen before (a retry).
pub async fn first_delivery(
    conn: &mut AsyncPgConnection,
    digest: &[u8; 32],
    field: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::digest.eq(digest.as_slice()),
            webhook_events::field.eq(field),
            webhook_events::received_at.eq(now),
        ))
        .on_conflict(webhook_events::digest)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Removes comments made before `cutoff` (the history window), and those on posts published
/// before it (their post goes with the window, its comments with it).
pub async fn delete_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    let old = diesel::delete(comments::table.filter(comments::commented_at.lt(cutoff))).execute(conn).await?;
    let on_old_posts = diesel::sql_query(
        "DELETE FROM comments c USING posts p \
         WHERE p.account_id = c.account_id AND p.media_id = c.media_id AND p.posted_at < $1",
    )
    .bind::<Timestamptz, _>(cutoff)
    .execute(conn)
    .await?;
    Ok(old + on_old_posts)
}

/// Forgets webhook changes older than `cutoff` (Meta retries for 36 hours at most).
pub async fn forget_deliveries_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(webhook_events::table.filter(webhook_events::received_at.lt(cutoff))).execute(conn).await
}
