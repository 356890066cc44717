//! Meta's calls to this Tidemark (graph-api.md §6): the deauthorize callback (the user removed
//! the app: forget the token, keep the history) and the data-deletion callback (delete
//! everything of that user's accounts at once, answer with a status URL and a confirmation
//! code). Each is verified with the app secret of its own login; a request that is unsigned,
//! badly signed, stale or seen before changes nothing.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use rand::Rng;
use sha2::{Digest, Sha256};
use url::Url;

use crate::config::MetaApps;
use crate::db::accounts::Account;
use crate::db::meta_requests::{self, MetaRequest, NewMetaRequest};
use crate::db::{self, DbError};
use crate::domain::{AccountStatus, Clock, Flavour, MetaRequestKind, MetaRequestOutcome};
use crate::graph::signed::{self, SignedRequest, SignedRequestError};
use crate::services::accounts::public_link;

/// How long the record of a callback is kept (the retention job purges older ones).
pub const KEEP_DAYS: i64 = crate::sync::retention::RECORD_KEEP_DAYS;

/// Why a callback was refused (always a 4xx; nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum CallbackRefused {
    /// No Meta app is configured: the callbacks do not exist here.
    #[error("no Meta app is configured")]
    NotConfigured,
    #[error("the form has no signed_request")]
    Missing,
    #[error(transparent)]
    Invalid(#[from] SignedRequestError),
    #[error("this request was already received")]
    Replayed,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for CallbackRefused {
    fn from(err: diesel::result::Error) -> Self {
        CallbackRefused::Database(err.into())
    }
}

/// What Meta is answered for a data-deletion request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeletionReceipt {
    pub url: String,
    pub confirmation_code: String,
}

pub struct MetaCallbacks {
    pool: db::Pool,
    apps: MetaApps,
    public_url: Url,
    clock: Clock,
}

impl MetaCallbacks {
    pub fn new(pool: db::Pool, apps: MetaApps, public_url: Url, clock: Clock) -> Self {
        Self { pool, apps, public_url, clock }
    }

    /// Whether any Meta app is configured (the callbacks exist only then).
    pub fn configured(&self) -> bool {
        self.apps.instagram.is_some() || self.apps.facebook.is_some()
    }

    /// Verifies with each configured app's secret in turn: the one that verifies tells the login.
    fn verify(&self, signed_request: &str) -> Result<(Flavour, SignedRequest), CallbackRefused> {
        if !self.configured() {
            return Err(CallbackRefused::NotConfigured);
        }
        if signed_request.trim().is_empty() {
            return Err(CallbackRefused::Missing);
        }
        let now = (self.clock)();
        let mut refusal = SignedRequestError::BadSignature;
        for flavour in [Flavour::Instagram, Flavour::Facebook] {
            let Some(app) = self.apps.get(flavour) else { continue };
            match signed::verify(signed_request, app.secret(), now) {
                Ok(request) => return Ok((flavour, request)),
                // A signature that matches but says something wrong is the answer, not the next app's.
                Err(SignedRequestError::BadSignature) => {}
                Err(other) => refusal = other,
            }
        }
        Err(refusal.into())
    }

    /// The accounts of this login that Meta's user id names.
    async fn accounts_of(
        conn: &mut diesel_async::AsyncPgConnection,
        flavour: Flavour,
        request: &SignedRequest,
    ) -> Result<Vec<Account>, DbError> {
        Ok(Account::find_by_meta_user(conn, &request.user_id)
            .await?
            .into_iter()
            .filter(|a| a.flavour == flavour)
            .collect())
    }

    /// The deauthorize callback: the user removed the app. Their accounts lose their tokens
    /// (status disconnected) and keep their history.
    pub async fn deauthorize(&self, signed_request: &str) -> Result<MetaRequest, CallbackRefused> {
        self.honour(signed_request, MetaRequestKind::Deauthorize).await
    }

    /// The data-deletion callback: everything of the user's accounts is deleted now, and Meta
    /// gets the status page's address and a confirmation code.
    pub async fn delete_data(&self, signed_request: &str) -> Result<DeletionReceipt, CallbackRefused> {
        let record = self.honour(signed_request, MetaRequestKind::DataDeletion).await?;
        let code = record.confirmation_code.unwrap_or_default();
        Ok(DeletionReceipt { url: self.status_url(&code), confirmation_code: code })
    }

    /// Verifies a callback, applies it to the user's accounts of that flavour and records it,
    /// all in one transaction that a replayed signature refuses.
    async fn honour(&self, signed_request: &str, kind: MetaRequestKind) -> Result<MetaRequest, CallbackRefused> {
        let (flavour, request) = self.verify(signed_request)?;
        let now = (self.clock)();
        let signature_hash: [u8; 32] = Sha256::digest(&request.signature).into();
        // Only a deletion has a status page to look up, hence a code.
        let code = (kind == MetaRequestKind::DataDeletion).then(confirmation_code);
        let reason = format!(
            "Meta reported on {} that the user removed this Tidemark from their {flavour} settings.",
            now.format("%Y-%m-%d %H:%M UTC")
        );
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let record = conn
            .transaction(async |conn| {
                if meta_requests::seen(conn, &signature_hash).await? {
                    return Err(CallbackRefused::Replayed);
                }
                let accounts = Self::accounts_of(conn, flavour, &request).await?;
                for account in &accounts {
                    match kind {
                        MetaRequestKind::Deauthorize => {
                            Account::drop_token(conn, account.id, AccountStatus::Disconnected, Some(&reason), now)
                                .await?;
                        }
                        MetaRequestKind::DataDeletion => {
                            Account::delete(conn, account.id).await?;
                        }
                    }
                }
                let record = NewMetaRequest {
                    kind,
                    flavour,
                    confirmation_code: code.as_deref(),
                    outcome: outcome(accounts.len()),
                    accounts_affected: i32::try_from(accounts.len()).unwrap_or(i32::MAX),
                    issued_at: request.issued_at,
                    received_at: now,
                    completed_at: (self.clock)(),
                    signature_hash: &signature_hash,
                };
                Ok(meta_requests::record(conn, &record).await?)
            })
            .await?;
        tracing::info!(request_id = record.id, kind = kind.as_str(), flavour = %flavour, accounts = record.accounts_affected, "Meta callback honoured");
        Ok(record)
    }

    /// Where the user checks a deletion request.
    pub fn status_url(&self, code: &str) -> String {
        public_link(&self.public_url, &format!("/meta/data-deletion/{code}"))
    }

    /// A deletion request by its confirmation code (for its status page).
    pub async fn deletion(&self, code: &str) -> Result<Option<MetaRequest>, DbError> {
        if code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let mut conn = self.pool.get().await?;
        Ok(meta_requests::by_code(&mut conn, code).await?)
    }

    /// The latest callbacks, newest first (the Data page).
    pub async fn recent(&self, limit: i64) -> Result<Vec<MetaRequest>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(meta_requests::recent(&mut conn, limit).await?)
    }

    /// The callback records purged after [`KEEP_DAYS`].
    pub fn keep_until(&self, received_at: DateTime<Utc>) -> DateTime<Utc> {
        received_at + chrono::Duration::days(KEEP_DAYS)
    }
}

fn outcome(accounts: usize) -> MetaRequestOutcome {
    if accounts == 0 { MetaRequestOutcome::NothingHeld } else { MetaRequestOutcome::Done }
}

/// 32 letters and digits: unguessable, and alphanumeric as Meta requires.
fn confirmation_code() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..32).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_codes_are_long_alphanumeric_and_differ() {
        let (a, b) = (confirmation_code(), confirmation_code());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
