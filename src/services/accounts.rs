//! Accounts: connecting (through Meta's dialog, or a pasted token checked against the API),
//! disconnecting, enabling, disabling, deleting, and key rotation. The pages and the command
//! line alike call this service; it owns the Graph client and the token key, so nothing else
//! opens a token.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::RngCore;
use sha2::{Digest, Sha256};
use url::Url;

use crate::config::MetaApps;
use crate::crypto::{Sealed, TokenKey};
use crate::db::accounts::{Account, ConnectedAccount, Footprint, token_binding};
use crate::db::oauth::{self, Pending};
use crate::db::publications::Publication;
use crate::db::shared_links::SharedLink;
use crate::db::{self, DbError};
use crate::domain::{AccountId, AccountStatus, Clock, Flavour, UserId};
use crate::graph::oauth::required_scopes;
use crate::graph::{AccessToken, Connectable, GraphClient, GraphError};
use crate::publishing::MediaStore;
use crate::services::views::cache::{Stamp, ViewCache};

/// How long the admin has to finish Meta's dialog, and then to choose the accounts.
const DIALOG_LIFETIME: Duration = Duration::minutes(30);

/// Why an account could not be connected. The text is for the operator and holds no secret.
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
    #[error("connecting with {0} Login is not set up on this Tidemark (its Meta app id and secret are not configured)")]
    NotConfigured(Flavour),
    #[error(
        "this answer from Meta does not belong to a connection you started here, or it was already used (it may be a second tab, a reload, or a link from someone else); start again from Accounts"
    )]
    BadState,
    #[error("you cancelled Meta's dialog ({0}); nothing was connected")]
    Cancelled(String),
    #[error("Meta's answer carried no code; start again from Accounts")]
    NoCode,
    #[error("Meta refused the connection: {0}")]
    Exchange(GraphError),
    #[error("{}", missing_text(.0))]
    MissingScopes(Vec<&'static str>),
    #[error("the choice of accounts has expired; start again from Accounts")]
    ChoiceExpired,
    #[error("choose at least one account to connect")]
    NothingChosen,
    #[error(transparent)]
    Database(#[from] DbError),
}

fn missing_text(missing: &[&'static str]) -> String {
    let list: Vec<String> =
        missing.iter().map(|scope| format!("\"{scope}\" (to {})", crate::graph::oauth::scope_purpose(scope))).collect();
    format!(
        "you did not allow {}. Tidemark needs it to work; connect again and leave it ticked in Meta's dialog",
        list.join(" and ")
    )
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

/// Why an account's status could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum StatusRefused {
    #[error("there is no such account")]
    NotFound,
    #[error("@{0} has no token any more: connect it again to sync it")]
    NoToken(String),
    #[error(transparent)]
    Database(#[from] DbError),
}

/// What Meta's dialog sent back to the callback address.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct DialogReturn {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_reason: Option<String>,
    pub error_description: Option<String>,
}

/// Where a finished dialog leads.
#[derive(Debug)]
pub enum DialogOutcome {
    /// Instagram Login: the account is connected.
    Connected(Vec<Account>),
    /// Facebook Login: the admin chooses among these accounts (see [`Accounts::finish_choice`]).
    Choose(String),
}

/// How a disconnect went at Meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Meta removed the app's grant (Facebook Login).
    Revoked,
    /// Instagram Login has no revoke call: the user removes the app in Instagram's settings.
    NotOffered,
    /// There was no usable token to revoke with.
    NoToken,
    /// Meta could not be reached or refused; the token was deleted here all the same.
    Failed,
}

/// What pages and commands may do to accounts.
pub struct Accounts {
    pool: db::Pool,
    graph: GraphClient,
    key: TokenKey,
    clock: Clock,
    apps: MetaApps,
    /// Where Meta sends the admin's browser back to.
    public_url: Url,
    /// Where publications' files wait: deleted with their account.
    media: Option<MediaStore>,
    /// Each account's read-only links, per the links' version (see [`Accounts::shares_as_of`]).
    kept_shares: ViewCache,
}

impl Accounts {
    pub fn new(pool: db::Pool, graph: GraphClient, key: TokenKey, clock: Clock) -> Self {
        #[allow(clippy::expect_used)]
        let public_url = Url::parse("http://127.0.0.1/").expect("a valid URL");
        Self {
            pool,
            graph,
            key,
            clock,
            apps: MetaApps::default(),
            public_url,
            media: None,
            kept_shares: ViewCache::default(),
        }
    }

    /// Connecting through Meta's dialogs with the operator's apps, answering at `public_url`.
    /// Deleting an account deletes its planned posts' files too.
    pub fn with_media(mut self, media: MediaStore) -> Self {
        self.media = Some(media);
        self
    }

    pub fn with_dialogs(mut self, apps: MetaApps, public_url: Url) -> Self {
        self.apps = apps;
        self.public_url = public_url;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Whether Meta's dialog for `flavour` is set up.
    pub fn offers_dialog(&self, flavour: Flavour) -> bool {
        self.apps.get(flavour).is_some()
    }

    /// The address Meta's dialog returns to (entered in the Meta App Dashboard).
    pub fn redirect_uri(&self, flavour: Flavour) -> String {
        public_link(&self.public_url, &format!("/accounts/connect/{flavour}/callback"))
    }

    /// What to enter in the Meta App Dashboard for this Tidemark: (setting, address).
    pub fn dashboard_urls(&self) -> Vec<(&'static str, String)> {
        let link = |path: &str| public_link(&self.public_url, path);
        vec![
            ("Instagram Login: OAuth redirect URI", self.redirect_uri(Flavour::Instagram)),
            ("Facebook Login for Business: Valid OAuth redirect URI", self.redirect_uri(Flavour::Facebook)),
            ("Deauthorize callback URL", link("/meta/deauthorize")),
            ("Data deletion request URL", link("/meta/data-deletion")),
            ("Webhooks callback URL", link("/meta/webhooks")),
        ]
    }

    /// Checks a pasted token and stores every account it reads (see [`connect`]).
    pub async fn connect(&self, token: &str, flavour: Option<Flavour>) -> Result<Vec<Account>, ConnectError> {
        let mut conn = self.pool.get().await?;
        connect(&mut conn, &self.graph, &self.key, token, flavour, self.now()).await
    }

    /// Starts Meta's dialog: a fresh single-use `state`, bound to this session, and the
    /// dialog's address to send the browser to.
    pub async fn begin_dialog(&self, flavour: Flavour, session_id: &str) -> Result<Url, ConnectError> {
        let app = self.apps.get(flavour).ok_or(ConnectError::NotConfigured(flavour))?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let state = URL_SAFE_NO_PAD.encode(bytes);
        let mut conn = self.pool.get().await?;
        oauth::save_state(&mut conn, &hash(&state), session_id, flavour, self.now() + DIALOG_LIFETIME).await?;
        Ok(self.graph.authorize_url(flavour, app, &self.redirect_uri(flavour), &state))
    }

    /// Finishes Meta's dialog: checks the state, exchanges the code for a short-lived then a
    /// long-lived token, checks the scopes granted, then connects (Instagram Login) or keeps
    /// the accounts found for the admin to choose from (Facebook Login). Any failure stores
    /// nothing.
    pub async fn finish_dialog(
        &self,
        flavour: Flavour,
        session_id: &str,
        answer: &DialogReturn,
    ) -> Result<DialogOutcome, ConnectError> {
        let app = self.apps.get(flavour).ok_or(ConnectError::NotConfigured(flavour))?;
        let now = self.now();
        let state = answer.state.as_deref().unwrap_or_default();
        {
            let mut conn = self.pool.get().await?;
            if state.is_empty() || !oauth::take_state(&mut conn, &hash(state), session_id, flavour, now).await? {
                return Err(ConnectError::BadState);
            }
        }
        if answer.error.is_some() {
            let reason = answer.error_description.as_deref().or(answer.error_reason.as_deref()).unwrap_or("cancelled");
            return Err(ConnectError::Cancelled(reason.chars().take(200).collect()));
        }
        let code = answer.code.as_deref().filter(|c| !c.is_empty()).ok_or(ConnectError::NoCode)?;
        let grant = self
            .graph
            .exchange_code(flavour, app, &self.redirect_uri(flavour), code)
            .await
            .map_err(ConnectError::Exchange)?;
        let long = self.graph.long_lived(flavour, app, &grant.token).await.map_err(ConnectError::Exchange)?;
        let token = AccessToken::new(long.access_token);
        let expires_at = long.expires_in.map(|secs| now + Duration::seconds(secs));
        let session = self.graph.session(&token, flavour);
        let granted = match flavour {
            Flavour::Instagram => grant.permissions,
            Flavour::Facebook => session.granted_scopes().await.map_err(ConnectError::Refused)?,
        };
        let missing: Vec<&'static str> =
            required_scopes(flavour).iter().copied().filter(|s| !granted.iter().any(|g| g == s)).collect();
        if !missing.is_empty() {
            return Err(ConnectError::MissingScopes(missing));
        }
        let found = session.identify().await.map_err(ConnectError::Refused)?;
        if found.is_empty() {
            return Err(ConnectError::NoAccount);
        }
        let mut conn = self.pool.get().await?;
        match flavour {
            Flavour::Instagram => {
                let grant = Grant { token: &token, expires_at, refreshed_at: Some(now), scopes: &granted };
                let mut connected = Vec::with_capacity(found.len());
                for item in &found {
                    connected
                        .push(store(&mut conn, &self.key, flavour, item, item.app_user_id.as_deref(), &grant).await?);
                }
                Ok(DialogOutcome::Connected(connected))
            }
            Flavour::Facebook => {
                let app_user_id = session.app_user_id().await.map_err(ConnectError::Refused)?;
                let mut id = [0u8; 32];
                rand::rng().fill_bytes(&mut id);
                let sealed = self.key.seal(token.expose(), &pending_binding(&id));
                let candidates = serde_json::to_value(&found).map_err(|err| {
                    ConnectError::Refused(GraphError::Unexpected { status: 200, body: err.to_string() })
                })?;
                let pending = Pending {
                    id: id.to_vec(),
                    session_id: session_id.to_owned(),
                    token_ciphertext: sealed.ciphertext,
                    token_nonce: sealed.nonce.to_vec(),
                    token_key_version: sealed.key_version,
                    token_expires_at: expires_at,
                    app_user_id: Some(app_user_id),
                    granted_scopes: granted.into_iter().map(Some).collect(),
                    candidates,
                    expires_at: now + DIALOG_LIFETIME,
                };
                oauth::save_pending(&mut conn, &pending).await?;
                Ok(DialogOutcome::Choose(URL_SAFE_NO_PAD.encode(id)))
            }
        }
    }

    /// The accounts a Facebook Login dialog offered this session, or `None` once expired.
    pub async fn choices(&self, session_id: &str, choice: &str) -> Result<Option<Vec<Connectable>>, ConnectError> {
        Ok(self.pending(session_id, choice).await?.map(|(_, found)| found))
    }

    async fn pending(
        &self,
        session_id: &str,
        choice: &str,
    ) -> Result<Option<(Pending, Vec<Connectable>)>, ConnectError> {
        let Ok(id) = URL_SAFE_NO_PAD.decode(choice) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let Some(pending) = oauth::find_pending(&mut conn, &id, session_id, self.now()).await? else {
            return Ok(None);
        };
        let found: Vec<Connectable> = serde_json::from_value(pending.candidates.clone()).unwrap_or_default();
        Ok(Some((pending, found)))
    }

    /// Connects the chosen accounts (by Instagram id) of a Facebook Login dialog.
    pub async fn finish_choice(
        &self,
        session_id: &str,
        choice: &str,
        chosen: &[String],
    ) -> Result<Vec<Account>, ConnectError> {
        let (pending, found) = self.pending(session_id, choice).await?.ok_or(ConnectError::ChoiceExpired)?;
        let picked: Vec<&Connectable> = found.iter().filter(|c| chosen.contains(&c.profile.ig_user_id)).collect();
        if picked.is_empty() {
            return Err(ConnectError::NothingChosen);
        }
        let plaintext = self
            .key
            .open(
                &pending.token_ciphertext,
                &pending.token_nonce,
                pending.token_key_version,
                &pending_binding(&pending.id),
            )
            .map_err(|_| ConnectError::ChoiceExpired)?;
        let token = AccessToken::new(plaintext);
        let grant = Grant {
            token: &token,
            expires_at: pending.token_expires_at,
            refreshed_at: None,
            scopes: &pending.scopes(),
        };
        let mut conn = self.pool.get().await?;
        let mut connected = Vec::with_capacity(picked.len());
        for item in picked {
            connected.push(
                store(&mut conn, &self.key, Flavour::Facebook, item, pending.app_user_id.as_deref(), &grant).await?,
            );
        }
        oauth::delete_pending(&mut conn, &pending.id).await?;
        Ok(connected)
    }

    /// Disconnects: revokes the app's grant at Meta where the API offers it (Facebook Login),
    /// then deletes the token and what came with it here, keeping the history. Connecting
    /// the same account again resumes it. `None` when there is no such account.
    pub async fn disconnect(&self, id: AccountId, reason: &str) -> Result<Option<Revocation>, DbError> {
        let mut conn = self.pool.get().await?;
        let Some(account) = Account::find(&mut conn, id).await? else { return Ok(None) };
        drop(conn);
        let revocation = match (account.flavour, self.open(&account)) {
            (_, None) => Revocation::NoToken,
            (Flavour::Instagram, Some(_)) => Revocation::NotOffered,
            (Flavour::Facebook, Some(token)) => match self.graph.session(&token, Flavour::Facebook).revoke().await {
                Ok(()) => Revocation::Revoked,
                Err(err) => {
                    tracing::warn!(account_id = id.0, error = %err, "revoking at Meta failed; the token is deleted here");
                    Revocation::Failed
                }
            },
        };
        let mut conn = self.pool.get().await?;
        Account::drop_token(&mut conn, id, AccountStatus::Disconnected, Some(reason), self.now()).await?;
        tracing::info!(account_id = id.0, revocation = ?revocation, "account disconnected; its history is kept");
        Ok(Some(revocation))
    }

    /// The account's token in the clear, if it has one that the current key opens.
    fn open(&self, account: &Account) -> Option<AccessToken> {
        let sealed = account.token()?;
        let binding = token_binding(&account.ig_user_id);
        self.key.open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &binding).ok().map(AccessToken::new)
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

    /// Stops or resumes syncing. An account without a token cannot be resumed: it must be
    /// connected again.
    pub async fn set_status(&self, id: AccountId, status: AccountStatus) -> Result<(), StatusRefused> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let account = Account::find(&mut conn, id).await.map_err(DbError::from)?.ok_or(StatusRefused::NotFound)?;
        if status == AccountStatus::Active && account.token().is_none() {
            return Err(StatusRefused::NoToken(account.username));
        }
        Account::set_status(&mut conn, id, status, None).await.map_err(DbError::from)?;
        tracing::info!(account_id = id.0, status = status.as_str(), "account status changed");
        Ok(())
    }

    /// Starts over: deletes every account with everything of it, and what was learnt from the
    /// API, in one transaction. Users, settings and the records of Meta's requests stay.
    pub async fn delete_everything(&self) -> Result<usize, DbError> {
        let mut conn = self.pool.get().await?;
        let files = Publication::live_file_names(&mut conn, None).await?;
        let accounts = conn
            .transaction(async |conn| {
                let accounts = Account::delete_all(conn).await?;
                crate::db::dropped_metrics::clear(conn).await?;
                crate::db::retention::expired_dialogs(conn, DateTime::<Utc>::MAX_UTC).await?;
                Ok::<_, diesel::result::Error>(accounts)
            })
            .await?;
        self.remove_files(&files);
        tracing::info!(accounts, "every account deleted with all its data (start over)");
        Ok(accounts)
    }

    /// Deletes the account and everything of it; false when there is no such account.
    pub async fn delete(&self, id: AccountId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        let files = Publication::live_file_names(&mut conn, Some(id)).await?;
        let deleted = Account::delete(&mut conn, id).await?;
        if deleted {
            self.remove_files(&files);
            tracing::info!(account_id = id.0, "account deleted with all its data");
        }
        Ok(deleted)
    }

    /// Removes deleted publications' files; one that cannot be removed now is swept later.
    fn remove_files(&self, files: &[String]) {
        let Some(media) = &self.media else { return };
        for file in files {
            if let Err(err) = media.remove(file) {
                tracing::warn!(error = %err, "a deleted account's media file could not be removed yet");
            }
        }
    }
}

/// A link under the public address.
pub fn public_link(public_url: &Url, path: &str) -> String {
    format!("{}{path}", public_url.as_str().trim_end_matches('/'))
}

fn hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

/// The associated data a pending choice's token is sealed with.
fn pending_binding(id: &[u8]) -> Vec<u8> {
    [b"tidemark-pending:".as_slice(), id].concat()
}

/// A token and what is known of it, to store with each account it reads.
struct Grant<'a> {
    token: &'a AccessToken,
    expires_at: Option<DateTime<Utc>>,
    refreshed_at: Option<DateTime<Utc>>,
    scopes: &'a [String],
}

/// Stores (or re-connects) one account with its token sealed to it.
async fn store(
    conn: &mut AsyncPgConnection,
    key: &TokenKey,
    flavour: Flavour,
    item: &Connectable,
    app_user_id: Option<&str>,
    grant: &Grant<'_>,
) -> Result<Account, ConnectError> {
    let profile = &item.profile;
    let sealed: Sealed = key.seal(grant.token.expose(), &token_binding(&profile.ig_user_id));
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
        token_expires_at: grant.expires_at,
        token_refreshed_at: grant.refreshed_at,
        app_user_id,
        granted_scopes: grant.scopes.iter().map(|s| Some(s.as_str())).collect(),
        disconnected_at: None,
    };
    let account = Account::connect(conn, &new).await?;
    tracing::info!(account_id = account.id.0, flavour = %flavour, "account connected");
    Ok(account)
}

/// Checks the token against the API and stores every account it reads, token sealed.
/// (The command line calls this with a connection of its own.) A token the API refuses
/// stores nothing. Connecting an account again replaces its token and makes it active.
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
    // Facebook Login names its app-scoped user id and scopes only when asked; a pasted
    // token may come from another app, so neither stops the connection.
    let (facebook_user, scopes) = match flavour {
        Flavour::Facebook => (session.app_user_id().await.ok(), session.granted_scopes().await.unwrap_or_default()),
        Flavour::Instagram => (None, Vec::new()),
    };
    let (token, expires_at, refreshed_at) = lifetime(graph, token, flavour, now).await;
    let grant = Grant { token: &token, expires_at, refreshed_at, scopes: &scopes };
    let mut connected = Vec::with_capacity(found.len());
    for item in &found {
        let app_user_id = item.app_user_id.as_deref().or(facebook_user.as_deref());
        connected.push(store(conn, key, flavour, item, app_user_id, &grant).await?);
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

/// A shared link's secret, in bytes (256 bits; 43 characters of unpadded base64url).
const SHARE_SECRET_BYTES: usize = 32;

/// What a shared link shows: the last N days as of each view, or fixed days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareSpan {
    Rolling(u32),
    Fixed(NaiveDate, NaiveDate),
}

/// A new shared link: the only time its address can be read.
pub struct NewShare {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Read-only links to an account's overview for someone without a sign-in.
impl Accounts {
    /// Makes a link to `account`'s overview over `span`, open until `valid_for` from now.
    /// Only the SHA-256 hash of its 256-bit secret is stored; the address is returned once.
    pub async fn share(
        &self,
        account: AccountId,
        span: ShareSpan,
        label: &str,
        valid_for: Duration,
        by: UserId,
    ) -> Result<NewShare, DbError> {
        let mut secret = [0u8; SHARE_SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        let token = URL_SAFE_NO_PAD.encode(secret);
        let (rolling_days, first_day, last_day) = match span {
            ShareSpan::Rolling(days) => (Some(i32::try_from(days).unwrap_or(i32::MAX)), None, None),
            ShareSpan::Fixed(first, last) => (None, Some(first), Some(last)),
        };
        let now = self.now();
        let hash = share_hash(&token);
        let link = db::shared_links::NewSharedLink {
            account_id: account,
            token_hash: &hash,
            label,
            rolling_days,
            first_day,
            last_day,
            expires_at: now + valid_for,
            created_by: Some(by),
            created_at: now,
        };
        let mut conn = self.pool.get().await?;
        db::shared_links::insert(&mut conn, &link).await?;
        let url =
            self.public_url.join(&format!("shared/{token}")).map_or_else(|_| format!("/shared/{token}"), String::from);
        Ok(NewShare { url, expires_at: link.expires_at })
    }

    /// The account's links, newest first.
    async fn shares(&self, account: AccountId) -> Result<Vec<SharedLink>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(db::shared_links::of_account(&mut conn, account).await?)
    }

    /// The same, as of the links' `version` read with the session: read again only when a
    /// link changed (a view counted is a change), so the account page costs no extra query.
    pub async fn shares_as_of(&self, account: AccountId, version: i64) -> Result<Arc<Vec<SharedLink>>, DbError> {
        // A cache of their own, whose one counter is the links'.
        let stamp = Stamp::All(version);
        self.kept_shares.get_or_compute(account.to_string(), stamp, async || self.shares(account).await).await
    }

    /// Ends a link at once; false when the account has no such open link.
    pub async fn revoke_share(&self, account: AccountId, id: i64) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(db::shared_links::revoke(&mut conn, account, id, self.now()).await?)
    }

    /// The open link a visitor's secret names, counting the view; `None` for a wrong, revoked
    /// or expired one (all look alike to the visitor). The secret is found by its hash, so no
    /// secret is ever compared byte by byte.
    pub async fn open_share(&self, token: &str) -> Result<Option<SharedLink>, DbError> {
        // Unpadded base64 spends one character on every six bits.
        if token.len() != (SHARE_SECRET_BYTES * 8).div_ceil(6) {
            return Ok(None);
        }
        let mut conn = self.pool.get().await?;
        Ok(db::shared_links::open(&mut conn, &share_hash(token), self.now()).await?)
    }
}

fn share_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
