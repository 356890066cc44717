//! The second factor: a TOTP authenticator (RFC 6238: six digits, 30-second steps, one step
//! of clock drift either way), ten single-use recovery codes, and the sign-in step that asks
//! for a code after the password.
//!
//! - Setting up: the user's account page shows a new secret (QR code and `otpauth://` URI)
//!   until a code from the app confirms it; only then is it asked for at sign-in.
//! - A code is accepted once: each acceptance records its time step, and a code for that
//!   step or an earlier one is refused (RFC 6238 §5.2).
//! - Wrong codes are limited per sign-in (then the password is asked again) and per user
//!   across sign-ins (then the code step is locked for a while).
//! - Once an admin has a second factor, every admin needs one: the others are sent to set
//!   theirs up, and no admin can turn theirs off (another admin can reset a lost one). The
//!   operator may require one of everyone, viewers too (a setting).
//!
//! Secrets are sealed with the token key like access tokens, bound to the user's id.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::auth::throttle::CodeThrottle;
use crate::crypto::TokenKey;
use crate::db::second_factor::{self as rows, NewChallenge, StoredSecret};
use crate::db::users::User;
use crate::db::{self, DbError};
use crate::domain::{Role, UserId};

/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// How long a sign-in waits for its code.
pub const CHALLENGE_SECS: i64 = 5 * 60;
/// Wrong codes in one sign-in before the password is asked again.
pub const MAX_FAILURES_PER_CHALLENGE: i32 = 5;
/// Random bytes of a secret: 160 bits, RFC 4226's recommended length.
const SECRET_BYTES: usize = 20;
/// Random bytes of a recovery code: 120 bits, written as 24 base-32 characters. At 112 bits
/// or more a plain SHA-256 may store it (ASVS 5.0 6.5.2); below, it would need a salted
/// password hash checked ten times per attempt.
const RECOVERY_CODE_BYTES: usize = 15;
/// Its length as typed, without dashes.
const RECOVERY_CODE_CHARS: usize = 24;
/// The digits of a code (RFC 6238's usual six).
const DIGITS: usize = 6;
/// The TOTP time step, in seconds.
const STEP_SECS: u64 = 30;

/// A secret being set up, as the account page shows it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The secret in base 32, in groups of four, for typing into an app by hand.
    pub secret: String,
    /// The QR code as an SVG `data:` URI, drawn here.
    pub qr_code: String,
}

/// What the account page says about a user's second factor.
#[derive(Debug, Clone)]
pub struct Status {
    pub enabled_since: Option<DateTime<Utc>>,
    pub recovery_codes_left: i64,
    /// A secret waiting to be confirmed (always there while the factor is off).
    pub enrolment: Option<Enrolment>,
    /// The user must have one: an admin once some admin has one, or anyone when the
    /// operator requires it.
    pub required: bool,
}

/// Why a code was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CodeRefused {
    /// Wrong, used before, or not a code; `tries_left` in this sign-in, when counted.
    #[error("that code is not right")]
    Wrong { tries_left: Option<i32> },
    /// Too many wrong codes for this user lately.
    #[error("too many wrong codes")]
    Throttled(Duration),
    /// The sign-in is over (expired, finished elsewhere, too many wrong codes, or the
    /// password changed): start again with the password.
    #[error("this sign-in has ended")]
    SignInEnded,
    /// Nothing is being set up (it expired, or was confirmed in another tab).
    #[error("no authenticator is being set up")]
    NothingToConfirm,
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("the stored secret does not open: {0}")]
    Sealed(#[from] crate::crypto::CipherError),
}

impl From<diesel::result::Error> for CodeRefused {
    fn from(err: diesel::result::Error) -> Self {
        CodeRefused::Database(err.into())
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for CodeRefused {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        CodeRefused::Database(err.into())
    }
}

/// Why turning the second factor off was refused.
#[derive(Debug, thiserror::Error)]
pub enum TurnOffRefused {
    /// The user is an admin and some admin has one, or the operator requires it of everyone.
    #[error("this user must keep a second factor")]
    Required,
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Codes follow the wall clock, as the user's phone does: never the simulator's movable
/// clock the rest of Tidemark may run on in tests and the demo.
pub struct SecondFactor {
    pool: db::Pool,
    key: TokenKey,
    /// Shown by authenticator apps beside the username: which Tidemark this is.
    host: String,
    throttle: CodeThrottle,
}

impl SecondFactor {
    pub fn new(pool: db::Pool, key: TokenKey, public_url: &url::Url) -> Self {
        let host = public_url.host_str().unwrap_or("tidemark").to_owned();
        Self { pool, key, host, throttle: CodeThrottle::default() }
    }

    /// The user's second factor as their account page shows it. While it is off, a secret
    /// to set up is made (once, and kept until confirmed or a day old).
    pub async fn status(&self, user: UserId, username: &str, role: Role) -> Result<Status, DbError> {
        let mut conn = self.pool.get().await?;
        let active = rows::active(&mut conn, user).await?;
        let required = rows::required_for(&mut conn, role).await?;
        let mut enrolment =
            rows::enrolment(&mut conn, user).await?.and_then(|(stored, _)| self.open(user, &stored).ok());
        if enrolment.is_none() && active.is_none() {
            let secret = random_bytes(SECRET_BYTES);
            rows::save_enrolment(&mut conn, user, &self.seal(user, &secret), Utc::now()).await?;
            enrolment = Some(secret);
        }
        let recovery_codes_left = rows::count_recovery_codes(&mut conn, user).await?;
        Ok(Status {
            enabled_since: active.map(|a| a.enabled_at),
            recovery_codes_left,
            enrolment: enrolment.and_then(|secret| self.enrolment_view(username, secret)),
            required,
        })
    }

    /// Shows a new secret to move the second factor to another app; the current one keeps
    /// working until the new one is confirmed.
    pub async fn start_replacement(&self, user: UserId) -> Result<(), DbError> {
        let mut conn = self.pool.get().await?;
        let secret = random_bytes(SECRET_BYTES);
        rows::save_enrolment(&mut conn, user, &self.seal(user, &secret), Utc::now()).await?;
        Ok(())
    }

    /// Confirms the secret being set up with a code from the app: it becomes the one asked
    /// for at sign-in, and the user gets new recovery codes (returned once, never stored).
    pub async fn confirm(&self, user: UserId, code: &str) -> Result<Vec<String>, CodeRefused> {
        self.throttle.check(user).map_err(CodeRefused::Throttled)?;
        let mut conn = self.pool.get().await?;
        let Some((stored, _)) = rows::enrolment(&mut conn, user).await? else {
            return Err(CodeRefused::NothingToConfirm);
        };
        let secret = self.open(user, &stored)?;
        let Some(step) = totp(secret)?.check(&digits_of(code), unix_now()) else {
            self.throttle.record_failure(user);
            return Err(CodeRefused::Wrong { tries_left: None });
        };
        let codes = new_recovery_codes();
        let hashes: Vec<[u8; 32]> = codes.iter().map(|code| recovery_hash(code)).collect();
        if !rows::confirm(&mut conn, user, step_i64(step), &hashes, Utc::now()).await? {
            return Err(CodeRefused::NothingToConfirm);
        }
        tracing::info!(user_id = %user, "second factor turned on");
        Ok(codes)
    }

    /// Replaces the user's recovery codes; the new ones are returned once.
    pub async fn new_recovery_codes(&self, user: UserId) -> Result<Vec<String>, DbError> {
        let codes = new_recovery_codes();
        let hashes: Vec<[u8; 32]> = codes.iter().map(|code| recovery_hash(code)).collect();
        let mut conn = self.pool.get().await?;
        rows::replace_recovery_codes(&mut conn, user, &hashes, Utc::now()).await?;
        tracing::info!(user_id = %user, "recovery codes replaced");
        Ok(codes)
    }

    /// The user turns their own second factor off (viewers, or admins where it is not
    /// required).
    pub async fn turn_off(&self, user: UserId, role: Role) -> Result<(), TurnOffRefused> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if rows::required_for(&mut conn, role).await.map_err(DbError::from)? {
            return Err(TurnOffRefused::Required);
        }
        rows::remove(&mut conn, user).await.map_err(DbError::from)?;
        tracing::info!(user_id = %user, "second factor turned off");
        Ok(())
    }

    /// Starts the code step of a sign-in whose password was right; returns its id, which
    /// the browser keeps in its sign-in cookie.
    pub async fn begin_sign_in(&self, user: &User, next: &str) -> Result<String, DbError> {
        let id = hex::encode(random_bytes(16));
        let now = Utc::now();
        let mut conn = self.pool.get().await?;
        rows::create_challenge(
            &mut conn,
            &NewChallenge {
                id: &id,
                user_id: user.id,
                session_version: user.session_version,
                next_path: next,
                created_at: now,
                expires_at: now + chrono::Duration::seconds(CHALLENGE_SECS),
            },
        )
        .await?;
        Ok(id)
    }

    /// True when `id` names a sign-in still waiting for its code.
    pub async fn sign_in_waiting(&self, id: &str) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(rows::live_challenge(&mut conn, id, Utc::now()).await?.is_some())
    }

    /// Answers a sign-in's code step with an authenticator code or a recovery code. On
    /// success the sign-in is over and the caller starts the session for the returned
    /// user, then sends them to the returned path.
    pub async fn finish_sign_in(&self, id: &str, code: &str) -> Result<(User, String), CodeRefused> {
        let mut conn = self.pool.get().await?;
        let now = Utc::now();
        let Some(challenge) = rows::live_challenge(&mut conn, id, now).await? else {
            return Err(CodeRefused::SignInEnded);
        };
        self.throttle.check(challenge.user_id).map_err(CodeRefused::Throttled)?;
        let user = User::find(&mut conn, challenge.user_id).await?;
        // A password change since, or a second factor removed meanwhile (the password alone
        // signs in now), ends this sign-in.
        let current = |u: &User| u.session_version == challenge.session_version && u.second_factor_since.is_some();
        let Some(user) = user.filter(current) else {
            rows::end_challenge(&mut conn, id).await?;
            return Err(CodeRefused::SignInEnded);
        };
        drop(conn);
        if !self.check_code(user.id, code).await? {
            self.throttle.record_failure(user.id);
            let mut conn = self.pool.get().await?;
            let failures = rows::challenge_failed(&mut conn, id).await?;
            if failures >= MAX_FAILURES_PER_CHALLENGE {
                rows::end_challenge(&mut conn, id).await?;
                tracing::info!(user_id = %user.id, "sign-in ended after too many wrong codes");
                return Err(CodeRefused::SignInEnded);
            }
            tracing::info!(user_id = %user.id, "wrong second-factor code");
            return Err(CodeRefused::Wrong { tries_left: Some(MAX_FAILURES_PER_CHALLENGE - failures) });
        }
        let mut conn = self.pool.get().await?;
        // Two tabs answering at once: only the one that ends the challenge signs in.
        if !rows::end_challenge(&mut conn, id).await? {
            return Err(CodeRefused::SignInEnded);
        }
        self.throttle.record_success(user.id);
        Ok((user, challenge.next_path))
    }

    /// True when `code` is the user's current authenticator code (not used before) or one
    /// of their unused recovery codes (which is then used up).
    async fn check_code(&self, user: UserId, code: &str) -> Result<bool, CodeRefused> {
        let mut conn = self.pool.get().await?;
        let Some(active) = rows::active(&mut conn, user).await? else { return Ok(false) };
        let digits = digits_of(code);
        if digits.len() == DIGITS {
            let secret = self.open(user, &active.secret)?;
            let Some(step) = totp(secret)?.check(&digits, unix_now()) else { return Ok(false) };
            // Refused when a code for this step (or a later one) was already accepted.
            return Ok(rows::accept_step(&mut conn, user, step_i64(step)).await?);
        }
        let Some(typed) = normalize_recovery_code(code) else { return Ok(false) };
        let typed_hash = recovery_hash(&typed);
        // Every stored hash is compared, each in constant time.
        let matched = rows::recovery_codes(&mut conn, user)
            .await?
            .into_iter()
            .fold(None, |found, (id, hash)| if bool::from(hash.ct_eq(&typed_hash)) { Some(id) } else { found });
        match matched {
            Some(id) => {
                let used = rows::use_recovery_code(&mut conn, user, id).await?;
                if used {
                    tracing::info!(user_id = %user, "signed in with a recovery code");
                }
                Ok(used)
            }
            None => Ok(false),
        }
    }

    fn enrolment_view(&self, username: &str, secret: Vec<u8>) -> Option<Enrolment> {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(STEP_SECS)
            .with_secret(secret)
            .with_issuer(Some("Tidemark"))
            .with_account_name(format!("{username}@{}", self.host))
            .build()
            .ok()?;
        let uri = totp.to_url().ok()?;
        let base32 = totp.secret().to_base32();
        let grouped = base32.as_bytes().chunks(4).filter_map(|c| std::str::from_utf8(c).ok()).collect::<Vec<_>>();
        Some(Enrolment { qr_code: qr_data_uri(&uri)?, secret: grouped.join(" "), uri })
    }

    fn seal(&self, user: UserId, secret: &[u8]) -> crate::crypto::Sealed {
        self.key.seal(&hex::encode(secret), &binding(user))
    }

    fn open(&self, user: UserId, stored: &StoredSecret) -> Result<Vec<u8>, crate::crypto::CipherError> {
        let hex_secret = self.key.open(&stored.ciphertext, &stored.nonce, stored.key_version, &binding(user))?;
        hex::decode(hex_secret).map_err(|_| crate::crypto::CipherError::Inauthentic)
    }
}

/// Re-seals every second-factor secret from `old` to `new` (key rotation); returns how
/// many were re-sealed.
pub async fn rotate_secrets(
    conn: &mut diesel_async::AsyncPgConnection,
    old: &TokenKey,
    new: &TokenKey,
) -> anyhow::Result<usize> {
    let mut rotated = 0;
    for (user, active, stored) in rows::all_sealed(conn).await? {
        if stored.key_version == new.version() {
            continue;
        }
        let plaintext = old
            .open(&stored.ciphertext, &stored.nonce, stored.key_version, &binding(user))
            .map_err(|err| anyhow::anyhow!("the second factor of user {user}: {err}"))?;
        let resealed = new.seal(&plaintext, &binding(user));
        if !rows::replace_sealed(conn, user, active, stored.key_version, &resealed).await? {
            anyhow::bail!("the second factor of user {user} changed during rotation; run `tidemark key rotate` again");
        }
        rotated += 1;
    }
    Ok(rotated)
}

/// The associated data a user's secret is sealed with: copied to another user, it opens not.
fn binding(user: UserId) -> Vec<u8> {
    format!("tidemark-totp:{user}").into_bytes()
}

fn totp(secret: Vec<u8>) -> Result<Totp, CodeRefused> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_step_duration(STEP_SECS)
        .with_secret(Secret::from(secret))
        .build()
        .map_err(|_| CodeRefused::Sealed(crate::crypto::CipherError::Inauthentic))
}

/// The digits typed, without the spaces apps show in the middle ("123 456").
fn digits_of(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}

fn step_i64(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Recovery codes as shown: 24 base-32 characters (120 random bits) in groups of four.
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars = base32_lower(&random_bytes(RECOVERY_CODE_BYTES));
            chars.as_bytes().chunks(4).filter_map(|c| std::str::from_utf8(c).ok()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// A typed recovery code in the form it is hashed: lower case, without dashes or spaces.
fn normalize_recovery_code(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !matches!(c, '-' | ' ' | '\t')).map(|c| c.to_ascii_lowercase()).collect();
    (code.len() == RECOVERY_CODE_CHARS && code.chars().all(|c| c.is_ascii_alphanumeric())).then_some(code)
}

/// What is stored of a recovery code: its SHA-256, enough for 120 random bits.
fn recovery_hash(code: &str) -> [u8; 32] {
    let normalized = normalize_recovery_code(code).unwrap_or_default();
    Sha256::new().chain_update(b"tidemark recovery code\0").chain_update(normalized.as_bytes()).finalize().into()
}

fn base32_lower(bytes: &[u8]) -> String {
    Secret::from(bytes.to_vec()).to_base32().to_ascii_lowercase()
}

/// The QR code of `uri` as an SVG image in a `data:` URI (the page's policy allows those).
fn qr_data_uri(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Some(format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_codes_of_120_bits_that_survive_retyping() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 29, "six groups of four: {code}");
            assert_eq!(recovery_hash(code), recovery_hash(&code.to_uppercase().replace('-', " ")));
        }
        assert_ne!(recovery_hash(&codes[0]), recovery_hash(&codes[1]));
        assert_eq!(normalize_recovery_code("too short"), None);
    }

    #[test]
    fn the_rfc_6238_test_vector_is_reproduced() {
        // RFC 6238 appendix B, SHA-1: the 20-byte ASCII secret "12345678901234567890" gives
        // 94287082 at T = 59 s; its last six digits are the six-digit code.
        let totp = totp(b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert_eq!(totp.check("287082", 59 + 30), Some(1), "one step of drift is allowed");
        assert_eq!(totp.check("287082", 59 + 90), None, "three steps later it is not");
    }

    #[test]
    fn the_qr_code_is_an_svg_data_uri() {
        let uri = qr_data_uri("otpauth://totp/Tidemark:ada@example.com?secret=ABCD&issuer=Tidemark").unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(uri.trim_start_matches("data:image/svg+xml;base64,"))
            .unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
}
