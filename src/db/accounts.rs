//! Connected Instagram accounts and their sealed tokens.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{account_daily_insights, account_snapshots, ig_accounts, post_snapshots, posts, sync_runs};
use crate::crypto::Sealed;
use crate::domain::{AccountId, AccountStatus, Flavour};
use crate::graph::Profile;

/// An account as stored. The token stays sealed; only the services open it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ig_accounts, check_for_backend(diesel::pg::Pg))]
pub struct Account {
    pub id: AccountId,
    pub flavour: Flavour,
    pub ig_user_id: String,
    pub facebook_page_id: Option<String>,
    pub username: String,
    pub name: Option<String>,
    pub profile_picture_url: Option<String>,
    pub followers_count: Option<i64>,
    pub follows_count: Option<i64>,
    pub media_count: Option<i64>,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    // The sealed token, absent once disconnected or refused: read it with `token()`.
    token_ciphertext: Option<Vec<u8>>,
    token_nonce: Option<Vec<u8>>,
    token_key_version: Option<i32>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub token_refreshed_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub paused_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The app-scoped user id Meta's callbacks name.
    pub app_user_id: Option<String>,
    // The scopes the user granted (PostgreSQL arrays hold nullable text): read them with `scopes()`.
    granted_scopes: Vec<Option<String>>,
    pub disconnected_at: Option<DateTime<Utc>>,
    /// When the audience was last asked for (about once a week).
    pub audience_read_at: Option<DateTime<Utc>>,
}

impl Account {
    /// The scopes the user granted; empty when Meta did not say (a pasted Instagram token).
    pub fn scopes(&self) -> Vec<String> {
        self.granted_scopes.iter().flatten().cloned().collect()
    }

    /// The sealed token, if the account has one.
    pub fn token(&self) -> Option<SealedToken> {
        match (&self.token_ciphertext, &self.token_nonce, self.token_key_version) {
            (Some(ciphertext), Some(nonce), Some(key_version)) => {
                Some(SealedToken { ciphertext: ciphertext.clone(), nonce: nonce.clone(), key_version })
            }
            _ => None,
        }
    }
}

/// A token as stored: ciphertext, nonce and the version of the key that sealed it.
#[derive(Clone)]
pub struct SealedToken {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_version: i32,
}

impl fmt::Debug for SealedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedToken(key version {})", self.key_version)
    }
}

/// The associated data a token is sealed with: it binds the ciphertext to its account.
pub fn token_binding(ig_user_id: &str) -> Vec<u8> {
    format!("tidemark-token:{ig_user_id}").into_bytes()
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = ig_accounts)]
#[diesel(treat_none_as_null = true)]
pub struct ConnectedAccount<'a> {
    pub flavour: Flavour,
    pub ig_user_id: &'a str,
    pub facebook_page_id: Option<&'a str>,
    pub username: &'a str,
    pub name: Option<&'a str>,
    pub profile_picture_url: Option<&'a str>,
    pub followers_count: Option<i64>,
    pub follows_count: Option<i64>,
    pub media_count: Option<i64>,
    pub status: AccountStatus,
    pub token_ciphertext: &'a [u8],
    pub token_nonce: &'a [u8],
    pub token_key_version: i32,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub token_refreshed_at: Option<DateTime<Utc>>,
    pub app_user_id: Option<&'a str>,
    pub granted_scopes: Vec<Option<&'a str>>,
    pub disconnected_at: Option<DateTime<Utc>>,
}

/// What deleting an account removes, counted for the confirmation page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Footprint {
    pub posts: i64,
    pub snapshots: i64,
    pub account_snapshots: i64,
    pub daily_insights: i64,
    pub sync_runs: i64,
}

impl Account {
    pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Account>> {
        let rows: Vec<Account> =
            ig_accounts::table.order(ig_accounts::username.asc()).select(Account::as_select()).load(conn).await?;
        Ok(rows)
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: AccountId) -> QueryResult<Option<Account>> {
        let row: Option<Account> =
            ig_accounts::table.find(id).select(Account::as_select()).first(conn).await.optional()?;
        Ok(row)
    }

    /// Active accounts whose rate-limit pause (if any) is over.
    pub async fn due_for_sync(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Account>> {
        let rows: Vec<Account> = ig_accounts::table
            .filter(ig_accounts::status.eq(AccountStatus::Active))
            .filter(ig_accounts::paused_until.is_null().or(ig_accounts::paused_until.le(now)))
            .order(ig_accounts::id.asc())
            .select(Account::as_select())
            .load(conn)
            .await?;
        Ok(rows)
    }

    /// Inserts the account, or (re-connecting) replaces the token of the account with the
    /// same Instagram id and makes it active again.
    pub async fn connect(conn: &mut AsyncPgConnection, new: &ConnectedAccount<'_>) -> QueryResult<Account> {
        let row: Account = diesel::insert_into(ig_accounts::table)
            .values(new)
            .on_conflict(ig_accounts::ig_user_id)
            .do_update()
            .set((
                new,
                ig_accounts::status_reason.eq(None::<String>),
                ig_accounts::paused_until.eq(None::<DateTime<Utc>>),
                ig_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Account::as_returning())
            .get_result(conn)
            .await?;
        Ok(row)
    }

    /// Accounts Meta's callbacks may mean by `user_id`: its app-scoped id, or (as Meta's
    /// documents leave open which id it sends) its Instagram id.
    pub async fn find_by_meta_user(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Vec<Account>> {
        ig_accounts::table
            .filter(ig_accounts::app_user_id.eq(user_id).or(ig_accounts::ig_user_id.eq(user_id)))
            .order(ig_accounts::id.asc())
            .select(Account::as_select())
            .load(conn)
            .await
    }

    /// Removes the token and what came with it (expiry, scopes, any pause), keeping the
    /// history and the ids Meta's callbacks name: a disconnect, a deauthorization, or a token
    /// Meta refused. `status` must not be active.
    pub async fn drop_token(
        conn: &mut AsyncPgConnection,
        id: AccountId,
        status: AccountStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let updated = diesel::update(ig_accounts::table.find(id))
            .set((
                ig_accounts::token_ciphertext.eq(None::<Vec<u8>>),
                ig_accounts::token_nonce.eq(None::<Vec<u8>>),
                ig_accounts::token_key_version.eq(None::<i32>),
                ig_accounts::token_expires_at.eq(None::<DateTime<Utc>>),
                ig_accounts::token_refreshed_at.eq(None::<DateTime<Utc>>),
                ig_accounts::granted_scopes.eq(Vec::<Option<String>>::new()),
                ig_accounts::paused_until.eq(None::<DateTime<Utc>>),
                ig_accounts::status.eq(status),
                ig_accounts::status_reason.eq(reason),
                ig_accounts::disconnected_at.eq((status == AccountStatus::Disconnected).then_some(at)),
                ig_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    pub async fn set_status(
        conn: &mut AsyncPgConnection,
        id: AccountId,
        status: AccountStatus,
        reason: Option<&str>,
    ) -> QueryResult<bool> {
        let updated = diesel::update(ig_accounts::table.find(id))
            .set((
                ig_accounts::status.eq(status),
                ig_accounts::status_reason.eq(reason),
                ig_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    pub async fn pause_until(
        conn: &mut AsyncPgConnection,
        id: AccountId,
        until: DateTime<Utc>,
        reason: &str,
    ) -> QueryResult<()> {
        diesel::update(ig_accounts::table.find(id))
            .set((ig_accounts::paused_until.eq(until), ig_accounts::status_reason.eq(reason)))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn record_profile(conn: &mut AsyncPgConnection, id: AccountId, profile: &Profile) -> QueryResult<()> {
        diesel::update(ig_accounts::table.find(id))
            .set((
                ig_accounts::username.eq(&profile.username),
                ig_accounts::name.eq(&profile.name),
                ig_accounts::profile_picture_url.eq(&profile.profile_picture_url),
                ig_accounts::followers_count.eq(profile.followers_count),
                ig_accounts::follows_count.eq(profile.follows_count),
                ig_accounts::media_count.eq(profile.media_count),
                ig_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// After a cycle that reached the API: when, and that any pause is over.
    pub async fn mark_synced(conn: &mut AsyncPgConnection, id: AccountId, at: DateTime<Utc>) -> QueryResult<()> {
        diesel::update(ig_accounts::table.find(id))
            .set((
                ig_accounts::last_synced_at.eq(at),
                ig_accounts::paused_until.eq(None::<DateTime<Utc>>),
                ig_accounts::status_reason.eq(None::<String>),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn store_token(
        conn: &mut AsyncPgConnection,
        id: AccountId,
        sealed: &Sealed,
        expires_at: Option<DateTime<Utc>>,
        refreshed_at: Option<DateTime<Utc>>,
    ) -> QueryResult<()> {
        diesel::update(ig_accounts::table.find(id))
            .set((
                ig_accounts::token_ciphertext.eq(&sealed.ciphertext),
                ig_accounts::token_nonce.eq(&sealed.nonce[..]),
                ig_accounts::token_key_version.eq(sealed.key_version),
                ig_accounts::token_expires_at.eq(expires_at),
                ig_accounts::token_refreshed_at.eq(refreshed_at),
                ig_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Re-seals one token (key rotation) unless another process changed it meanwhile.
    pub async fn replace_sealed(
        conn: &mut AsyncPgConnection,
        id: AccountId,
        old_version: i32,
        sealed: &Sealed,
    ) -> QueryResult<bool> {
        let updated =
            diesel::update(ig_accounts::table.find(id).filter(ig_accounts::token_key_version.eq(old_version)))
                .set((
                    ig_accounts::token_ciphertext.eq(&sealed.ciphertext),
                    ig_accounts::token_nonce.eq(&sealed.nonce[..]),
                    ig_accounts::token_key_version.eq(sealed.key_version),
                ))
                .execute(conn)
                .await?;
        Ok(updated == 1)
    }

    /// Deletes every account; the database cascades to everything that belongs to them.
    pub async fn delete_all(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
        diesel::delete(ig_accounts::table).execute(conn).await
    }

    /// Deletes the account; the database cascades to everything that belongs to it.
    pub async fn delete(conn: &mut AsyncPgConnection, id: AccountId) -> QueryResult<bool> {
        Ok(diesel::delete(ig_accounts::table.find(id)).execute(conn).await? == 1)
    }

    pub async fn footprint(conn: &mut AsyncPgConnection, id: AccountId) -> QueryResult<Footprint> {
        let posts: i64 = posts::table.filter(posts::account_id.eq(id)).count().get_result(conn).await?;
        let snapshots: i64 = post_snapshots::table
            .inner_join(posts::table)
            .filter(posts::account_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        let account_snapshots: i64 =
            account_snapshots::table.filter(account_snapshots::account_id.eq(id)).count().get_result(conn).await?;
        let daily_insights: i64 = account_daily_insights::table
            .filter(account_daily_insights::account_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        let sync_runs: i64 = sync_runs::table.filter(sync_runs::account_id.eq(id)).count().get_result(conn).await?;
        Ok(Footprint { posts, snapshots, account_snapshots, daily_insights, sync_runs })
    }
}
