//! The session: one `HttpOnly` cookie holding an HS256-signed JWT.
//!
//! The token names the user, the user's session version and a random session id (which
//! CSRF tokens are bound to). The id names a row of the `sessions` table: a session lives
//! only while its row does, so signing out ends it everywhere the cookie was copied to. Role
//! and version always come from the database (or its copy kept until the database says it changed,
//! see `kept_sessions`), so the token is never trusted for them.

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite, time};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::SessionSettings;
use crate::db::users::User;
use crate::domain::UserId;

/// The cookie's name over plain HTTP (local use).
pub const COOKIE_NAME: &str = "tidemark_session";
/// Its name when Secure: the `__Host-` prefix makes browsers refuse it unless it is Secure,
/// host-only and for the whole site, so no subdomain or plain-HTTP page can plant one.
pub const SECURE_COOKIE_NAME: &str = "__Host-tidemark_session";
/// The subject of a sign-in form's claims: never a user id, so it never authenticates.
const SIGN_IN_SUBJECT: &str = "sign-in";
/// A token younger than this is not re-issued on activity (saves a Set-Cookie per request).
const REFRESH_AFTER_SECS: i64 = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// The user's session version when the session began.
    pub ver: i32,
    /// Random session id, stable across refreshes.
    pub sid: String,
    /// When the user signed in (unix seconds): bounds the absolute lifetime.
    pub auth: i64,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok().map(UserId)
    }
}

pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    cookie_secure: bool,
    idle_timeout: Duration,
    max_lifetime: Duration,
}

impl SessionKeys {
    pub fn new(settings: &SessionSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(&settings.secret),
            decoding: DecodingKey::from_secret(&settings.secret),
            validation,
            cookie_secure: settings.cookie_secure,
            idle_timeout: settings.idle_timeout,
            max_lifetime: settings.max_lifetime,
        }
    }

    /// The session cookie's name (see [`SECURE_COOKIE_NAME`]).
    pub fn cookie_name(&self) -> &'static str {
        if self.cookie_secure { SECURE_COOKIE_NAME } else { COOKIE_NAME }
    }

    pub fn secure(&self) -> bool {
        self.cookie_secure
    }

    /// When a session that began at `auth` (unix seconds) ends, however active.
    pub fn absolute_end(&self, auth: i64) -> i64 {
        auth + secs(self.max_lifetime)
    }

    /// Claims for a fresh sign-in of `user`.
    pub fn begin(&self, user: &User) -> Claims {
        let mut sid = [0u8; 16];
        rand::rng().fill_bytes(&mut sid);
        let now = Utc::now().timestamp();
        self.extend(Claims {
            sub: user.id.to_string(),
            ver: user.session_version,
            sid: hex::encode(sid),
            auth: now,
            iat: now,
            exp: now,
        })
    }

    /// Claims for a browser that opened the sign-in page: no user, only a random sign-in id
    /// the form's CSRF token is bound to, valid as long as that token. It travels in the
    /// session cookie, so Tidemark still sets just the one cookie. A browser that has an id
    /// keeps it (its other open sign-in tabs stay valid), for another full period.
    pub fn sign_in_form(&self, existing: Option<String>) -> Claims {
        let sid = existing.unwrap_or_else(|| {
            let mut sid = [0u8; 16];
            rand::rng().fill_bytes(&mut sid);
            hex::encode(sid)
        });
        let now = Utc::now().timestamp();
        Claims {
            sub: SIGN_IN_SUBJECT.to_owned(),
            ver: 0,
            sid,
            auth: now,
            iat: now,
            exp: now + super::csrf::LOGIN_TOKEN_SECS,
        }
    }

    /// The same session, valid for another idle period (never past the absolute lifetime).
    pub fn extend(&self, claims: Claims) -> Claims {
        let now = Utc::now().timestamp();
        let idle_end = now + secs(self.idle_timeout);
        let absolute_end = claims.auth + secs(self.max_lifetime);
        Claims { iat: now, exp: idle_end.min(absolute_end), ..claims }
    }

    /// True when the token was issued long enough ago that activity should renew it.
    pub fn wants_refresh(&self, claims: &Claims) -> bool {
        Utc::now().timestamp() - claims.iat >= REFRESH_AFTER_SECS
    }

    /// True when the session's row was last marked as used long enough ago to mark it again.
    /// Checked beside [`Self::wants_refresh`]: a client that keeps sending an old cookie (a
    /// script, a load test) gets a renewed cookie each time, but the row is written once a
    /// minute, not on every request.
    pub fn wants_touch(&self, last_seen_at: DateTime<Utc>) -> bool {
        (Utc::now() - last_seen_at).num_seconds() >= REFRESH_AFTER_SECS
    }

    /// Verifies signature, algorithm and expiry, and the absolute lifetime.
    pub fn decode(&self, token: &str) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        let within_lifetime = Utc::now().timestamp() < claims.auth + secs(self.max_lifetime);
        within_lifetime.then_some(claims)
    }

    pub fn cookie(&self, claims: &Claims) -> Cookie<'static> {
        // Signing with an in-memory HMAC key cannot fail; an empty value would simply
        // not authenticate.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).unwrap_or_default();
        let max_age = (claims.exp - Utc::now().timestamp()).max(0);
        self.base_cookie(token).max_age(time::Duration::seconds(max_age)).finish()
    }

    /// A cookie that makes the browser forget the session.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.base_cookie(String::new()).finish();
        cookie.make_removal();
        cookie
    }

    fn base_cookie(&self, value: String) -> actix_web::cookie::CookieBuilder<'static> {
        Cookie::build(self.cookie_name(), value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.cookie_secure)
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn keys(secret: &[u8]) -> SessionKeys {
        SessionKeys::new(&SessionSettings {
            secret: secret.to_vec(),
            cookie_secure: true,
            idle_timeout: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
        })
    }

    fn user() -> User {
        User {
            id: UserId(7),
            username: "ada".into(),
            role: Role::Admin,
            password_hash: String::new(),
            session_version: 3,
            created_at: Utc::now(),
            second_factor_since: None,
        }
    }

    fn token_of(cookie: &Cookie<'_>) -> String {
        cookie.value().to_owned()
    }

    #[test]
    fn a_issued_token_decodes_with_its_claims() {
        let keys = keys(&[1; 32]);
        let claims = keys.begin(&user());
        let decoded = keys.decode(&token_of(&keys.cookie(&claims))).unwrap();
        assert_eq!(decoded.user_id(), Some(UserId(7)));
        assert_eq!(decoded.ver, 3);
        assert_eq!(decoded.sid, claims.sid);
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = token_of(&keys(&[1; 32]).cookie(&keys(&[1; 32]).begin(&user())));
        assert!(keys(&[2; 32]).decode(&token).is_none());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // {"alg":"none"} with the same claims.
        let keys = keys(&[1; 32]);
        let token = token_of(&keys.cookie(&keys.begin(&user())));
        let payload = token.split('.').nth(1).unwrap();
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.decode(&forged).is_none());
    }

    #[test]
    fn the_absolute_lifetime_caps_every_refresh() {
        let keys = keys(&[1; 32]);
        let mut claims = keys.begin(&user());
        claims.auth -= 3590;
        let extended = keys.extend(claims.clone());
        assert!(extended.exp <= claims.auth + 3600);
        claims.auth -= 20;
        let token = token_of(&keys.cookie(&keys.extend(claims)));
        assert!(keys.decode(&token).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_as_configured() {
        let keys = keys(&[1; 32]);
        let cookie = keys.cookie(&keys.begin(&user()));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/"));
    }
}
