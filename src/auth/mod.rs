//! Who is asking, and may they: passwords, session cookies, CSRF tokens, sign-in throttling,
//! the access rules the route table applies, and the extractors handlers use to state what
//! they need.

pub mod access;
pub mod csrf;
pub mod extract;
pub mod middleware;
pub mod password;
pub mod session;
pub mod throttle;

pub use access::{Access, CsrfCheck};
pub use extract::{AdminUser, CsrfForm, CurrentUser};

use std::net::IpAddr;
use std::time::Duration;

use actix_web::cookie::Cookie;

use self::csrf::CsrfKey;
use self::password::MAX_PASSWORD_BYTES;
use self::session::SessionKeys;
use self::throttle::LoginThrottle;
use crate::config::SessionSettings;
use crate::db::users::{MAX_USERNAME_CHARS, User, normalize_username};
use crate::db::{self, DbError};
use crate::domain::UserId;

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
}

impl Auth {
    pub async fn new(pool: db::Pool, settings: &SessionSettings, demo: bool) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            sessions: SessionKeys::new(settings),
            csrf: CsrfKey::derive(&settings.secret),
            throttle: LoginThrottle::default(),
            dummy_hash: password::hash("tidemark timing equaliser".into()).await?,
            demo,
        })
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
        self.throttle.check(address, &key).map_err(CredentialsRefused::Throttled)?;
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
                self.throttle.record_success(&key);
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

    /// A new session cookie for a user whose session version just changed (their other
    /// sessions ended; this browser stays signed in). `None` if the user is gone.
    pub async fn renewed_cookie(&self, id: UserId) -> Result<Option<Cookie<'static>>, DbError> {
        let mut conn = self.pool.get().await?;
        let user = User::find(&mut conn, id).await?;
        Ok(user.map(|user| self.sessions.cookie(&self.sessions.begin(&user))))
    }

    /// A cookie for a user who just signed in.
    pub fn session_cookie(&self, user: &User) -> Cookie<'static> {
        self.sessions.cookie(&self.sessions.begin(user))
    }
}
