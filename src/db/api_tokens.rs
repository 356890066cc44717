//! JSON API tokens: what each may do and until when. The signed token itself is never stored.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::api_tokens;
use crate::domain::{ApiScope, ApiTokenId, UserId};

/// A token as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    /// Carried by the token as its `jti`.
    pub nonce: String,
    pub scope: ApiScope,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Neither revoked nor past its expiry at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > now)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub name: &'a str,
    pub nonce: &'a str,
    pub scope: ApiScope,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, token: &NewApiToken<'_>) -> QueryResult<ApiToken> {
    diesel::insert_into(api_tokens::table).values(token).returning(ApiToken::as_returning()).get_result(conn).await
}

/// Every token, newest first.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table.order(api_tokens::id.desc()).select(ApiToken::as_select()).load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: ApiTokenId) -> QueryResult<Option<ApiToken>> {
    api_tokens::table.find(id).select(ApiToken::as_select()).first(conn).await.optional()
}

/// Notes a use at `now`, at most once per `every`: a busy script does not write on each
/// request.
pub async fn mark_used(
    conn: &mut AsyncPgConnection,
    id: ApiTokenId,
    now: DateTime<Utc>,
    every: Duration,
) -> QueryResult<()> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::last_used_at.is_null().or(api_tokens::last_used_at.lt(now - every))),
    )
    .set(api_tokens::last_used_at.eq(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a token; false when there is no such token still unrevoked.
pub async fn revoke(conn: &mut AsyncPgConnection, id: ApiTokenId, now: DateTime<Utc>) -> QueryResult<bool> {
    let revoked =
        diesel::update(api_tokens::table.filter(api_tokens::id.eq(id)).filter(api_tokens::revoked_at.is_null()))
            .set(api_tokens::revoked_at.eq(now))
            .execute(conn)
            .await?;
    Ok(revoked == 1)
}
