//! Tokens of the JSON API: made (by an admin in Settings or with `tidemark api-token create`),
//! listed, revoked, and checked on every API request.
//!
//! A token is an HS256 JWT signed with a key derived from `TIDEMARK_TOKEN_KEY` for this
//! purpose alone (never the session secret, which the commands do not have). It carries the
//! id of its row, and that row decides on every request: revoking is immediate, and the scope
//! and expiry are the stored ones. The token itself is shown once and never stored.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::crypto::TokenKey;
use crate::db::api_tokens::{ApiToken, NewApiToken};
use crate::db::{self, DbError};
use crate::domain::{ApiScope, ApiTokenId, Clock, UserId};

const ISSUER: &str = "tidemark";
const AUDIENCE: &str = "tidemark-api";
/// A token's last use is written at most this often.
const USE_NOTED_EVERY: Duration = Duration::minutes(1);
pub const MAX_NAME_CHARS: usize = 100;
/// The longest expiry a token can be given; none is also allowed.
pub const MAX_EXPIRY_DAYS: u32 = 3650;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The token's id in `api_tokens`.
    sub: String,
    /// Its row's nonce: an id alone could name a later row after the table was emptied.
    jti: String,
    iat: i64,
    /// For the holder's information; the stored expiry is what counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// Who is calling the API, as the route table found it.
#[derive(Debug, Clone, Copy)]
pub struct ApiCaller {
    pub token: ApiTokenId,
}

/// Why a request was refused before its handler ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiRefusal {
    #[error("Send a token: Authorization: Bearer <token> (make one in Settings or with `tidemark api-token create`).")]
    Missing,
    #[error("The token is not one this Tidemark signed, or it is damaged.")]
    Invalid,
    #[error("The token was revoked.")]
    Revoked,
    #[error("The token expired at {0} UTC.")]
    Expired(String),
    #[error("This needs a token with the write scope; this one may only read.")]
    WrongScope,
    #[error("Too many requests with this token: wait {0} s.")]
    TooMany(u64),
}

/// A new token, its secret shown once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: ApiToken,
    pub jwt: String,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefused {
    #[error("A token needs a name of 1 to {MAX_NAME_CHARS} characters (without control characters).")]
    Name,
    #[error("A token's expiry is 1 to {MAX_EXPIRY_DAYS} days, or none.")]
    Expiry,
    /// Signing with an in-memory HMAC key does not fail; said rather than assumed.
    #[error("the token could not be signed")]
    Signing,
    #[error(transparent)]
    Db(#[from] DbError),
}

pub struct ApiTokens {
    pool: db::Pool,
    clock: Clock,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    limiter: DefaultKeyedRateLimiter<ApiTokenId>,
    /// When this process last wrote each token's use: most requests then write nothing.
    noted: Mutex<HashMap<ApiTokenId, DateTime<Utc>>>,
}

impl ApiTokens {
    pub fn new(pool: db::Pool, key: &TokenKey, per_minute: NonZeroU32, clock: Clock) -> Self {
        let secret = key.derive("tidemark api tokens v1");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        // `jti` is required by the claims' type: a token without one does not decode.
        // The stored expiry decides (a token may have none), checked against the service's clock.
        validation.validate_exp = false;
        Self {
            pool,
            clock,
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            noted: Mutex::new(HashMap::new()),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Makes a token; `by` is the admin who made it (`None` from the command line).
    pub async fn create(
        &self,
        name: &str,
        scope: ApiScope,
        expires_in_days: Option<u32>,
        by: Option<UserId>,
    ) -> Result<NewToken, TokenRefused> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(TokenRefused::Name);
        }
        if expires_in_days.is_some_and(|days| days == 0 || days > MAX_EXPIRY_DAYS) {
            return Err(TokenRefused::Expiry);
        }
        let now = self.now();
        let expires_at = expires_in_days.map(|days| now + Duration::days(i64::from(days)));
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let row = NewApiToken { name, nonce: &nonce, scope, created_by: by, created_at: now, expires_at };
        let token = db::api_tokens::insert(&mut conn, &row).await.map_err(DbError::from)?;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: token.id.to_string(),
            jti: token.nonce.clone(),
            iat: now.timestamp(),
            exp: expires_at.map(|at| at.timestamp()),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenRefused::Signing)?;
        Ok(NewToken { token, jwt })
    }

    /// Every token, newest first.
    pub async fn list(&self) -> Result<Vec<ApiToken>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(db::api_tokens::all(&mut conn).await?)
    }

    /// Revokes a token at once; false when there is no such unrevoked token.
    pub async fn revoke(&self, id: ApiTokenId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(db::api_tokens::revoke(&mut conn, id, self.now()).await?)
    }

    /// Checks a request's `Authorization` header against the stored token and its rate
    /// limit, and notes the use.
    pub async fn authorize(&self, authorization: Option<&str>, needs: ApiScope) -> Result<ApiCaller, AuthorizeError> {
        let jwt = authorization
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|jwt| !jwt.is_empty())
            .ok_or(ApiRefusal::Missing)?;
        let claims = jsonwebtoken::decode::<Claims>(jwt, &self.decoding, &self.validation)
            .map_err(|_| ApiRefusal::Invalid)?
            .claims;
        let id = claims.sub.parse().map(ApiTokenId).map_err(|_| ApiRefusal::Invalid)?;
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        // A signed token whose row is gone was deleted after it was revoked or expired.
        let token = db::api_tokens::find(&mut conn, id).await.map_err(DbError::from)?.ok_or(ApiRefusal::Revoked)?;
        if !bool::from(token.nonce.as_bytes().ct_eq(claims.jti.as_bytes())) {
            return Err(ApiRefusal::Invalid.into());
        }
        let now = self.now();
        if token.revoked_at.is_some() {
            return Err(ApiRefusal::Revoked.into());
        }
        if let Some(expiry) = token.expires_at.filter(|expiry| *expiry <= now) {
            return Err(ApiRefusal::Expired(expiry.format("%Y-%m-%d %H:%M").to_string()).into());
        }
        if !token.scope.allows(needs) {
            return Err(ApiRefusal::WrongScope.into());
        }
        if let Err(not_until) = self.limiter.check_key(&id) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(ApiRefusal::TooMany(whole_seconds(wait)).into());
        }
        if self.note_use(id, now) {
            db::api_tokens::mark_used(&mut conn, id, now, USE_NOTED_EVERY).await.map_err(DbError::from)?;
        }
        Ok(ApiCaller { token: id })
    }

    /// Whether this use should be written: the first in [`USE_NOTED_EVERY`] for this process
    /// (the query's own condition keeps several processes from writing more often).
    fn note_use(&self, id: ApiTokenId, now: DateTime<Utc>) -> bool {
        let Ok(mut noted) = self.noted.lock() else { return true };
        match noted.get(&id) {
            Some(at) if now - *at < USE_NOTED_EVERY => false,
            _ => {
                noted.insert(id, now);
                true
            }
        }
    }
}

/// A wait rounded up to whole seconds, at least one (what `Retry-After` can say).
fn whole_seconds(wait: StdDuration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// A refusal, or the database failing while checking.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error(transparent)]
    Refused(#[from] ApiRefusal),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_told_in_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(StdDuration::from_millis(200)), 1);
        assert_eq!(whole_seconds(StdDuration::from_secs(2)), 2);
        assert_eq!(whole_seconds(StdDuration::from_millis(2001)), 3);
        assert_eq!(whole_seconds(StdDuration::ZERO), 1);
    }
}
