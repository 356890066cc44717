//! Accounts: connecting (the token checked against the API and sealed), enabling,
//! disabling, deleting, and key rotation. The pages and the command line alike call this
//! service; it owns the Graph client and the token key, so nothing else opens a token.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;

use crate::crypto::TokenKey;
use crate::db::accounts::{Account, ConnectedAccount, Footprint, token_binding};
use crate::db::{self, DbError};
use crate::domain::{AccountId, AccountStatus, Clock, Flavour};
use crate::graph::{AccessToken, GraphClient, GraphError};

/// Why a token could not be connected. The text is for the operator and holds no secret.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the token is empty")]
    Empty,
    #[error("the login could not be told from the token: choose Instagram or Facebook Login")]
    UnknownFlavour,
    #[error("the Graph API refused the token: {0}")]
    Refused(GraphError),
    #[error(
        "the token reads no Instagram professional account (with Facebook Login, the Instagram account must be linked to a Page you manage)"
    )]
    NoAccount,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for ConnectError {
    fn from(err: diesel::result::Error) -> Self {
        ConnectError::Database(err.into())
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ConnectError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        ConnectError::Database(err.into())
    }
}

/// What pages and commands may do to accounts.
pub struct Accounts {
    pool: db::Pool,
    graph: GraphClient,
    key: TokenKey,
    clock: Clock,
}

impl Accounts {
    pub fn new(pool: db::Pool, graph: GraphClient, key: TokenKey, clock: Clock) -> Self {
        Self { pool, graph, key, clock }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Checks a pasted token and stores every account it reads (see [`connect`]).
    pub async fn connect(&self, token: &str, flavour: Option<Flavour>) -> Result<Vec<Account>, ConnectError> {
        let mut conn = self.pool.get().await?;
        connect(&mut conn, &self.graph, &self.key, token, flavour, self.now()).await
    }

    pub async fn list(&self) -> Result<Vec<Account>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::list(&mut conn).await?)
    }

    pub async fn find(&self, id: AccountId) -> Result<Option<Account>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::find(&mut conn, id).await?)
    }

    /// What deleting the account would remove.
    pub async fn footprint(&self, id: AccountId) -> Result<Footprint, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::footprint(&mut conn, id).await?)
    }

    /// Stops or resumes syncing; false when there is no such account.
    pub async fn set_status(&self, id: AccountId, status: AccountStatus) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        let changed = Account::set_status(&mut conn, id, status, None).await?;
        if changed {
            tracing::info!(account_id = id.0, status = status.as_str(), "account status changed");
        }
        Ok(changed)
    }

    /// Deletes the account and everything of it; false when there is no such account.
    pub async fn delete(&self, id: AccountId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        let deleted = Account::delete(&mut conn, id).await?;
        if deleted {
            tracing::info!(account_id = id.0, "account deleted with all its data");
        }
        Ok(deleted)
    }
}

/// Checks the token against the API and stores every account it reads, token sealed.
/// (The command line calls this with a connection of its own.)
/// A token the API refuses stores nothing. Connecting an account again replaces its token
/// and makes it active.
pub async fn connect(
    conn: &mut AsyncPgConnection,
    graph: &GraphClient,
    key: &TokenKey,
    token: &str,
    flavour: Option<Flavour>,
    now: DateTime<Utc>,
) -> Result<Vec<Account>, ConnectError> {
    let token = AccessToken::new(token);
    if token.expose().is_empty() {
        return Err(ConnectError::Empty);
    }
    let flavour = flavour.or_else(|| Flavour::from_token(token.expose())).ok_or(ConnectError::UnknownFlavour)?;
    let session = graph.session(&token, flavour);
    let found = session.identify().await.map_err(ConnectError::Refused)?;
    if found.is_empty() {
        return Err(ConnectError::NoAccount);
    }
    let (token, expires_at, refreshed_at) = lifetime(graph, token, flavour, now).await;

    let mut connected = Vec::with_capacity(found.len());
    for item in &found {
        let profile = &item.profile;
        let sealed = key.seal(token.expose(), &token_binding(&profile.ig_user_id));
        let new = ConnectedAccount {
            flavour,
            ig_user_id: &profile.ig_user_id,
            facebook_page_id: item.page_id.as_deref(),
            username: &profile.username,
            name: profile.name.as_deref(),
            profile_picture_url: profile.profile_picture_url.as_deref(),
            followers_count: profile.followers_count,
            follows_count: profile.follows_count,
            media_count: profile.media_count,
            status: AccountStatus::Active,
            token_ciphertext: &sealed.ciphertext,
            token_nonce: &sealed.nonce,
            token_key_version: sealed.key_version,
            token_expires_at: expires_at,
            token_refreshed_at: refreshed_at,
        };
        let account = Account::connect(conn, &new).await?;
        tracing::info!(account_id = account.id.0, username = %account.username, flavour = %flavour, "account connected");
        connected.push(account);
    }
    Ok(connected)
}

/// When the token expires, learning it from the API where possible. An Instagram Login token
/// is refreshed right away (which tells its expiry); one under a day old cannot be, and then
/// it is a fresh 60-day token. A Facebook Login token's expiry comes from `debug_token`.
async fn lifetime(
    graph: &GraphClient,
    token: AccessToken,
    flavour: Flavour,
    now: DateTime<Utc>,
) -> (AccessToken, Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let session = graph.session(&token, flavour);
    match flavour {
        Flavour::Instagram => match session.refresh_token().await {
            Ok(grant) => {
                let expires_at = grant.expires_in.map(|secs| now + Duration::seconds(secs));
                (AccessToken::new(grant.access_token), expires_at, Some(now))
            }
            Err(err) => {
                tracing::info!(kind = err.kind(), "token not refreshed at connect time; assuming a fresh 60-day token");
                (token, Some(now + Duration::days(59)), None)
            }
        },
        Flavour::Facebook => {
            let expires_at = session.debug_token().await.ok().and_then(|info| info.expiry());
            (token, expires_at, None)
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    pub rotated: usize,
    pub already_current: usize,
}

/// Re-seals every token from `old` to `new`. Afterwards `old` opens nothing.
pub async fn rotate_keys(conn: &mut AsyncPgConnection, old: &TokenKey, new: &TokenKey) -> anyhow::Result<Rotation> {
    if old.version() == new.version() {
        anyhow::bail!("TIDEMARK_TOKEN_KEY_OLD and TIDEMARK_TOKEN_KEY are the same key");
    }
    let mut rotation = Rotation::default();
    for account in Account::list(conn).await? {
        let sealed = &account.token;
        if sealed.key_version == new.version() {
            rotation.already_current += 1;
            continue;
        }
        let binding = token_binding(&account.ig_user_id);
        let plaintext = old
            .open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &binding)
            .map_err(|err| anyhow::anyhow!("account {} (@{}): {err}", account.id, account.username))?;
        let resealed = new.seal(&plaintext, &binding);
        if !Account::replace_sealed(conn, account.id, sealed.key_version, &resealed).await? {
            anyhow::bail!("account {} changed during rotation; run `tidemark key rotate` again", account.id);
        }
        rotation.rotated += 1;
    }
    Ok(rotation)
}
