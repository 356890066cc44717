//! Comments on the accounts' media, and the webhook changes already seen.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{comments, webhook_events};
use crate::domain::AccountId;

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
        ))
        .on_conflict((comments::account_id, comments::comment_id))
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// A comment with what the inbox shows beside it: its account and the post it is on.
#[derive(Debug, Clone, QueryableByName)]
pub struct InboxRow {
    #[diesel(embed)]
    pub comment: Comment,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub account_username: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub post_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub post_caption: Option<String>,
}

/// The newest comments (of one account, or all), with their account and post, newest first.
pub async fn inbox(conn: &mut AsyncPgConnection, account: Option<AccountId>, limit: i64) -> QueryResult<Vec<InboxRow>> {
    use diesel::sql_types::{BigInt, Nullable};
    diesel::sql_query(
        "SELECT c.*, a.username AS account_username, p.id AS post_id, p.caption AS post_caption \
         FROM comments c JOIN ig_accounts a ON a.id = c.account_id \
         LEFT JOIN posts p ON p.account_id = c.account_id AND p.media_id = c.media_id \
         WHERE ($1::bigint IS NULL OR c.account_id = $1) \
         ORDER BY c.commented_at DESC, c.id DESC LIMIT $2",
    )
    .bind::<Nullable<BigInt>, _>(account.map(|a| a.0))
    .bind::<BigInt, _>(limit)
    .load(conn)
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

/// Removes comments made before `cutoff` (the history window).
pub async fn delete_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(comments::table.filter(comments::commented_at.lt(cutoff))).execute(conn).await
}

/// Forgets webhook changes older than `cutoff` (Meta retries for 36 hours at most).
pub async fn forget_deliveries_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(webhook_events::table.filter(webhook_events::received_at.lt(cutoff))).execute(conn).await
}
