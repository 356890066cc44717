//! Who is asking, and may they: passwords, session cookies, CSRF tokens, sign-in throttling,
//! the access rules the route table applies, and the extractors handlers use to state what
//! they need.

pub mod access;
pub mod api_tokens;
pub mod csrf;
pub mod extract;
pub mod kept_sessions;
pub mod middleware;
pub mod password;
pub mod session;
pub mod throttle;

pub use access::{Access, CsrfCheck};
pub use api_tokens::{ApiCaller, ApiTokens};
pub use extract::{AdminUser, CsrfForm, CsrfUpload, CurrentUser};

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Cookie;
use chrono::{DateTime, Utc};

use self::csrf::CsrfKey;
use self::kept_sessions::KeptSessions;
use self::password::MAX_PASSWORD_BYTES;
use self::session::SessionKeys;
use self::throttle::{LoginThrottle, Verdict};
use crate::config::{SessionSettings, TrustedProxies};
use crate::db::changes::Changes;
use crate::db::sessions::LiveSession;
use crate::db::users::{MAX_USERNAME_CHARS, User, normalize_username};
use crate::db::{self, DbError};
use crate::domain::UserId;

/// Who is signing in, as the session list shows it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: String,
    pub address: String,
}

impl ClientInfo {
    pub fn of(req: &actix_web::HttpRequest) -> Self {
        let proxies = req.app_data::<actix_web::web::Data<Auth>>().map(|auth| auth.proxies.clone()).unwrap_or_default();
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        let address = client_ip(&proxies, req).map(|ip| ip.to_string()).unwrap_or_default();
        Self { user_agent, address }
    }
}

/// The client's address, believing `X-Forwarded-For` only from a trusted proxy.
pub fn client_ip(proxies: &TrustedProxies, req: &actix_web::HttpRequest) -> Option<IpAddr> {
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    proxies.client_ip(req.peer_addr().map(|a| a.ip()), forwarded)
}

/// Why a password was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsRefused {
    /// Too many failures lately, for this username or from this address.
    #[error("too many failed attempts")]
    Throttled(Duration),
    /// An unknown user and a wrong password read the same.
    #[error("wrong username or password")]
    Wrong,
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Everything signing in and checking sessions needs, shared by the middleware, the
/// extractors and the sign-in pages.
pub struct Auth {
    pub pool: db::Pool,
    pub sessions: SessionKeys,
    pub csrf: CsrfKey,
    pub throttle: LoginThrottle,
    /// Checked against when the username is unknown, so that failure takes as long as a
    /// wrong password.
    pub dummy_hash: String,
    /// This Tidemark shows demo data (`tidemark demo`): every page says so.
    pub demo: bool,
    /// Whose forwarding headers are believed.
    pub proxies: TrustedProxies,
    /// The origin forms must come from, when the public address is configured.
    pub public_url: Option<url::Url>,
    /// Live sessions kept between requests; `None` when sessions are read on every request
    /// (`TIDEMARK_KEEP_SESSIONS=off`).
    pub kept: Option<KeptSessions>,
}

impl Auth {
    pub async fn new(
        pool: db::Pool,
        settings: &SessionSettings,
        demo: bool,
        proxies: TrustedProxies,
        public_url: Option<url::Url>,
        changes: Option<Arc<Changes>>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            sessions: SessionKeys::new(settings),
            csrf: CsrfKey::derive(&settings.secret),
            throttle: LoginThrottle::default(),
            dummy_hash: password::hash("tidemark timing equaliser".into()).await?,
            demo,
            proxies,
            public_url,
            kept: changes.map(KeptSessions::new),
        })
    }

    /// The client's address (see [`client_ip`]).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<IpAddr> {
        client_ip(&self.proxies, req)
    }
}

impl Auth {
    /// The throttle's key for what was typed as a username: bounded whatever was typed.
    pub fn throttle_key(typed: &str) -> String {
        typed.trim().to_ascii_lowercase().chars().take(MAX_USERNAME_CHARS + 1).collect()
    }

    /// Checks a sign-in. Unknown users are checked against a dummy hash, so both failures
    /// take as long; failures count towards the throttle.
    pub async fn sign_in(
        &self,
        address: Option<IpAddr>,
        typed_username: &str,
        password: String,
    ) -> Result<User, CredentialsRefused> {
        let key = Self::throttle_key(typed_username);
        match self.throttle.verdict(address, &key) {
            Verdict::Locked(wait) => return Err(CredentialsRefused::Throttled(wait)),
            // A username guessed from many addresses slows down rather than locking its owner out.
            Verdict::Proceed(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
            Verdict::Proceed(_) => {}
        }
        let user = match normalize_username(&key) {
            Ok(name) => {
                let mut conn = self.pool.get().await.map_err(DbError::from)?;
                User::find_by_username(&mut conn, &name).await.map_err(DbError::from)?
            }
            Err(_) => None,
        };
        let hash = user.as_ref().map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let within_limit = password.len() <= MAX_PASSWORD_BYTES;
        let matches = password::verify(password, hash).await;
        match user {
            Some(user) if matches && within_limit => {
                self.throttle.record_success(address, &key);
                tracing::info!(user_id = %user.id, "signed in");
                Ok(user)
            }
            known => {
                self.throttle.record_failure(address, &key);
                // What was typed is not logged: people type passwords into the username field.
                tracing::info!(user_id = known.map(|u| u.id.0), "sign-in failed");
                Err(CredentialsRefused::Wrong)
            }
        }
    }

    /// Checks a signed-in user's own password (before a change), throttled like a sign-in.
    pub async fn check_own_password(
        &self,
        address: Option<IpAddr>,
        user: &CurrentUser,
        password: String,
    ) -> Result<(), CredentialsRefused> {
        self.throttle.check(address, &user.username).map_err(CredentialsRefused::Throttled)?;
        // bcrypt would compare only the first 72 bytes: a longer "current password" is wrong.
        if password.len() > MAX_PASSWORD_BYTES {
            self.throttle.record_failure(address, &user.username);
            return Err(CredentialsRefused::Wrong);
        }
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let stored = User::find(&mut conn, user.id).await.map_err(DbError::from)?.ok_or(CredentialsRefused::Wrong)?;
        drop(conn);
        if password::verify(password, stored.password_hash).await {
            Ok(())
        } else {
            self.throttle.record_failure(address, &user.username);
            Err(CredentialsRefused::Wrong)
        }
    }

    /// A new session for a user whose session version just changed (their other sessions
    /// ended; this browser stays signed in, under a new id). `None` if the user is gone.
    pub async fn renewed_cookie(
        &self,
        id: UserId,
        ending: &str,
        client: &ClientInfo,
    ) -> Result<Option<Cookie<'static>>, DbError> {
        let mut conn = self.pool.get().await?;
        db::sessions::end(&mut conn, ending, id).await?;
        let Some(user) = User::find(&mut conn, id).await? else { return Ok(None) };
        drop(conn);
        Ok(Some(self.start_session(&user, client).await?))
    }

    /// Starts a session for a user who just signed in: its row, and the cookie naming it.
    pub async fn start_session(&self, user: &User, client: &ClientInfo) -> Result<Cookie<'static>, DbError> {
        let claims = self.sessions.begin(user);
        let at = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        let new = db::sessions::NewSession {
            id: &claims.sid,
            user_id: user.id,
            created_at: at(claims.auth),
            last_seen_at: at(claims.auth),
            expires_at: at(self.sessions.absolute_end(claims.auth)),
            user_agent: &client.user_agent,
            address: &client.address,
        };
        let mut conn = self.pool.get().await?;
        db::sessions::create(&mut conn, &new).await?;
        Ok(self.sessions.cookie(&claims))
    }

    /// The live session `id` at `now` with its user: as kept from an earlier request while the
    /// database has said nothing changed, else read (and kept).
    pub async fn live_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<LiveSession>, DbError> {
        if let Some(live) = self.kept.as_ref().and_then(|kept| kept.get(id, now)) {
            return Ok(Some(live));
        }
        // Taken before the read: a change committed meanwhile makes the entry stale.
        let generation = self.kept.as_ref().and_then(KeptSessions::generation);
        let mut conn = self.pool.get().await?;
        // The session's row and its user in one query: no row, no session.
        let live = db::sessions::find_live(&mut conn, id, now).await?;
        if let (Some(kept), Some(generation), Some(live)) = (&self.kept, generation, &live) {
            kept.keep(id, generation, live.clone());
        }
        Ok(live)
    }

    /// Marks the session `id` as used at `now`.
    pub async fn touch_session(&self, id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
        let mut conn = self.pool.get().await?;
        db::sessions::touch(&mut conn, id, now).await?;
        if let Some(kept) = &self.kept {
            kept.touched(id, now);
        }
        Ok(())
    }

    /// Ends one session (sign-out); the browser's cookie is removed by the caller.
    pub async fn end_session(&self, session_id: &str, user: UserId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(db::sessions::end(&mut conn, session_id, user).await?)
    }
}
