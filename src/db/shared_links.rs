//! Read-only links to one account's overview, found by the SHA-256 hash of their secret.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::shared_links;
use crate::domain::{AccountId, UserId};

/// A link as stored (never its secret).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = shared_links, check_for_backend(diesel::pg::Pg))]
pub struct SharedLink {
    pub id: i64,
    pub account_id: AccountId,
    pub label: String,
    pub rolling_days: Option<i32>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub views: i64,
    pub last_viewed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = shared_links)]
pub struct NewSharedLink<'a> {
    pub account_id: AccountId,
    pub token_hash: &'a [u8],
    pub label: &'a str,
    pub rolling_days: Option<i32>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, link: &NewSharedLink<'_>) -> QueryResult<i64> {
    diesel::insert_into(shared_links::table).values(link).returning(shared_links::id).get_result(conn).await
}

/// An account's links, newest first.
pub async fn of_account(conn: &mut AsyncPgConnection, account: AccountId) -> QueryResult<Vec<SharedLink>> {
    shared_links::table
        .filter(shared_links::account_id.eq(account))
        .order(shared_links::id.desc())
        .select(SharedLink::as_select())
        .load(conn)
        .await
}

/// The link whose secret hashes to `token_hash` if it is neither revoked nor expired at `now`,
/// counting this view.
pub async fn open(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<SharedLink>> {
    diesel::update(
        shared_links::table
            .filter(shared_links::token_hash.eq(token_hash))
            .filter(shared_links::revoked_at.is_null())
            .filter(shared_links::expires_at.gt(now)),
    )
    .set((shared_links::views.eq(shared_links::views + 1), shared_links::last_viewed_at.eq(now)))
    .returning(SharedLink::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Revokes one of an account's links; false when there is no such link still open.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    id: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let revoked = diesel::update(
        shared_links::table
            .filter(shared_links::id.eq(id))
            .filter(shared_links::account_id.eq(account))
            .filter(shared_links::revoked_at.is_null()),
    )
    .set(shared_links::revoked_at.eq(now))
    .execute(conn)
    .await?;
    Ok(revoked == 1)
}
