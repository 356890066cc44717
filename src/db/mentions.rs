//! @mentions of the accounts in comments on other people's media.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{ig_accounts, mentions};
use crate::domain::AccountId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mentions, check_for_backend(diesel::pg::Pg))]
pub struct Mention {
    pub id: i64,
    pub account_id: AccountId,
    pub media_id: String,
    pub comment_id: String,
    pub username: Option<String>,
    pub text: Option<String>,
    pub permalink: Option<String>,
    pub mentioned_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub fetch_problem: Option<String>,
}

/// Records a mention once; true when it was new.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    media_id: &str,
    comment_id: &str,
    mentioned_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(mentions::table)
        .values((
            mentions::account_id.eq(account),
            mentions::media_id.eq(media_id),
            mentions::comment_id.eq(comment_id),
            mentions::mentioned_at.eq(mentioned_at),
            mentions::received_at.eq(now),
        ))
        .on_conflict((mentions::account_id, mentions::comment_id))
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Mentions whose text has not been read yet, oldest first.
pub async fn unfetched(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Mention>> {
    mentions::table
        .filter(mentions::fetched_at.is_null())
        .order(mentions::received_at.asc())
        .limit(limit)
        .select(Mention::as_select())
        .load(conn)
        .await
}

/// What reading a mention found: its text, author and address, or why it could not be read.
#[derive(Debug, Clone, Default)]
pub struct MentionDetails {
    pub username: Option<String>,
    pub text: Option<String>,
    pub permalink: Option<String>,
    pub commented_at: Option<DateTime<Utc>>,
    pub problem: Option<String>,
}

pub async fn record_details(
    conn: &mut AsyncPgConnection,
    id: i64,
    details: &MentionDetails,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let target = mentions::table.find(id);
    diesel::update(target)
        .set((
            mentions::username.eq(&details.username),
            mentions::text.eq(&details.text),
            mentions::permalink.eq(&details.permalink),
            mentions::fetch_problem.eq(&details.problem),
            mentions::fetched_at.eq(now),
        ))
        .execute(conn)
        .await?;
    if let Some(at) = details.commented_at {
        diesel::update(mentions::table.find(id)).set(mentions::mentioned_at.eq(at)).execute(conn).await?;
    }
    Ok(())
}

/// The newest mentions (of one account, or all), with their account's username.
pub async fn recent(
    conn: &mut AsyncPgConnection,
    account: Option<AccountId>,
    limit: i64,
) -> QueryResult<Vec<(Mention, String)>> {
    let mut query = mentions::table.inner_join(ig_accounts::table).into_boxed();
    if let Some(account) = account {
        query = query.filter(mentions::account_id.eq(account));
    }
    query
        .order((mentions::mentioned_at.desc(), mentions::id.desc()))
        .limit(limit)
        .select((Mention::as_select(), ig_accounts::username))
        .load(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, comment_id: &str) -> QueryResult<Option<Mention>> {
    mentions::table
        .filter(mentions::comment_id.eq(comment_id))
        .select(Mention::as_select())
        .first(conn)
        .await
        .optional()
}

/// Forgets mentions made before `cutoff` (the history window).
pub async fn delete_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(mentions::table.filter(mentions::mentioned_at.lt(cutoff))).execute(conn).await
}
