//! Connected Instagram accounts and their sealed tokens.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{account_daily_insights, account_snapshots, ig_accounts, post_snapshots, posts, sync_runs};
use crate::crypto::Sealed;
use crate::graph::{Flavour, Profile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Disabled,
    NeedsReauth,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::NeedsReauth => "needs_reauth",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "active" => AccountStatus::Active,
            "needs_reauth" => AccountStatus::NeedsReauth,
            _ => AccountStatus::Disabled,
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::NeedsReauth => "needs re-connecting",
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ig_accounts)]
struct AccountRow {
    id: i64,
    flavour: String,
    ig_user_id: String,
    facebook_page_id: Option<String>,
    username: String,
    name: Option<String>,
    profile_picture_url: Option<String>,
    followers_count: Option<i64>,
    follows_count: Option<i64>,
    media_count: Option<i64>,
    status: String,
    status_reason: Option<String>,
    token_ciphertext: Vec<u8>,
    token_nonce: Vec<u8>,
    token_key_version: i32,
    token_expires_at: Option<DateTime<Utc>>,
    token_refreshed_at: Option<DateTime<Utc>>,
    last_synced_at: Option<DateTime<Utc>>,
    paused_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// An account as stored. The token stays sealed; only the sync opens it.
#[derive(Debug, Clone)]
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
    pub token: SealedToken,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub token_refreshed_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub paused_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
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

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Self {
            id: AccountId(row.id),
            flavour: row.flavour.parse().unwrap_or(Flavour::Instagram),
            ig_user_id: row.ig_user_id,
            facebook_page_id: row.facebook_page_id,
            username: row.username,
            name: row.name,
            profile_picture_url: row.profile_picture_url,
            followers_count: row.followers_count,
            follows_count: row.follows_count,
            media_count: row.media_count,
            status: AccountStatus::parse(&row.status),
            status_reason: row.status_reason,
            token: SealedToken {
                ciphertext: row.token_ciphertext,
                nonce: row.token_nonce,
                key_version: row.token_key_version,
            },
            token_expires_at: row.token_expires_at,
            token_refreshed_at: row.token_refreshed_at,
            last_synced_at: row.last_synced_at,
            paused_until: row.paused_until,
            created_at: row.created_at,
        }
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
    pub flavour: &'a str,
    pub ig_user_id: &'a str,
    pub facebook_page_id: Option<&'a str>,
    pub username: &'a str,
    pub name: Option<&'a str>,
    pub profile_picture_url: Option<&'a str>,
    pub followers_count: Option<i64>,
    pub follows_count: Option<i64>,
    pub media_count: Option<i64>,
    pub status: &'a str,
    pub token_ciphertext: &'a [u8],
    pub token_nonce: &'a [u8],
    pub token_key_version: i32,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub token_refreshed_at: Option<DateTime<Utc>>,
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
        let rows: Vec<AccountRow> =
            ig_accounts::table.order(ig_accounts::username.asc()).select(AccountRow::as_select()).load(conn).await?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: AccountId) -> QueryResult<Option<Account>> {
        let row: Option<AccountRow> =
            ig_accounts::table.find(id.0).select(AccountRow::as_select()).first(conn).await.optional()?;
        Ok(row.map(Account::from))
    }

    /// Active accounts whose rate-limit pause (if any) is over.
    pub async fn due_for_sync(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Account>> {
        let rows: Vec<AccountRow> = ig_accounts::table
            .filter(ig_accounts::status.eq(AccountStatus::Active.as_str()))
            .filter(ig_accounts::paused_until.is_null().or(ig_accounts::paused_until.le(now)))
            .order(ig_accounts::id.asc())
            .select(AccountRow::as_select())
            .load(conn)
            .await?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    /// Inserts the account, or (re-connecting) replaces the token of the account with the
    /// same Instagram id and makes it active again.
    pub async fn connect(conn: &mut AsyncPgConnection, new: &ConnectedAccount<'_>) -> QueryResult<Account> {
        let row: AccountRow = diesel::insert_into(ig_accounts::table)
            .values(new)
            .on_conflict(ig_accounts::ig_user_id)
            .do_update()
            .set((
                new,
                ig_accounts::status_reason.eq(None::<String>),
                ig_accounts::paused_until.eq(None::<DateTime<Utc>>),
                ig_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .returning(AccountRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(row.into())
    }

    pub async fn set_status(
        conn: &mut AsyncPgConnection,
        id: AccountId,
        status: AccountStatus,
        reason: Option<&str>,
    ) -> QueryResult<bool> {
        let updated = diesel::update(ig_accounts::table.find(id.0))
            .set((
                ig_accounts::status.eq(status.as_str()),
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
        diesel::update(ig_accounts::table.find(id.0))
            .set((ig_accounts::paused_until.eq(until), ig_accounts::status_reason.eq(reason)))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn record_profile(conn: &mut AsyncPgConnection, id: AccountId, profile: &Profile) -> QueryResult<()> {
        diesel::update(ig_accounts::table.find(id.0))
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
        diesel::update(ig_accounts::table.find(id.0))
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
        diesel::update(ig_accounts::table.find(id.0))
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
            diesel::update(ig_accounts::table.find(id.0).filter(ig_accounts::token_key_version.eq(old_version)))
                .set((
                    ig_accounts::token_ciphertext.eq(&sealed.ciphertext),
                    ig_accounts::token_nonce.eq(&sealed.nonce[..]),
                    ig_accounts::token_key_version.eq(sealed.key_version),
                ))
                .execute(conn)
                .await?;
        Ok(updated == 1)
    }

    /// Deletes the account; the database cascades to everything that belongs to it.
    pub async fn delete(conn: &mut AsyncPgConnection, id: AccountId) -> QueryResult<bool> {
        Ok(diesel::delete(ig_accounts::table.find(id.0)).execute(conn).await? == 1)
    }

    pub async fn footprint(conn: &mut AsyncPgConnection, id: AccountId) -> QueryResult<Footprint> {
        let posts: i64 = posts::table.filter(posts::account_id.eq(id.0)).count().get_result(conn).await?;
        let snapshots: i64 = post_snapshots::table
            .inner_join(posts::table)
            .filter(posts::account_id.eq(id.0))
            .count()
            .get_result(conn)
            .await?;
        let account_snapshots: i64 =
            account_snapshots::table.filter(account_snapshots::account_id.eq(id.0)).count().get_result(conn).await?;
        let daily_insights: i64 = account_daily_insights::table
            .filter(account_daily_insights::account_id.eq(id.0))
            .count()
            .get_result(conn)
            .await?;
        let sync_runs: i64 = sync_runs::table.filter(sync_runs::account_id.eq(id.0)).count().get_result(conn).await?;
        Ok(Footprint { posts, snapshots, account_snapshots, daily_insights, sync_runs })
    }
}
