//! Meta's webhooks (graph-api.md §6.3): the subscription check (`hub.challenge` echoed when
//! `hub.verify_token` matches) and the signed deliveries. A delivery is accepted only with an
//! `X-Hub-Signature-256` that is the HMAC-SHA256 of the raw body under one of the app secrets
//! (compared in constant time); anything else is refused and stored nowhere. Each change is
//! remembered by a digest, so Meta's retries write nothing twice, and `comments` changes are
//! stored as comments of the account they name.

use chrono::{DateTime, TimeZone, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::MetaApps;
use crate::db::accounts::Account;
use crate::db::comments::{self, NewComment};
use crate::db::mentions;
use crate::db::{self, DbError};
use crate::domain::Clock;

/// Why a webhook request was refused. The texts hold no secret.
#[derive(Debug, thiserror::Error)]
pub enum WebhookRefused {
    #[error("webhooks are not configured (TIDEMARK_WEBHOOK_VERIFY_TOKEN is unset)")]
    NotConfigured,
    #[error("the subscription check's verify token does not match")]
    WrongVerifyToken,
    #[error("the delivery has no X-Hub-Signature-256 header")]
    Unsigned,
    #[error("the delivery's signature does not match")]
    BadSignature,
    #[error("the delivery is not the JSON Meta sends")]
    Malformed,
    #[error(transparent)]
    Database(#[from] DbError),
}

/// One change of a delivery, for one account (the entry's id).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub account: String,
    pub field: String,
    pub value: Value,
    pub time: Option<i64>,
}

/// What processing a delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Processed {
    pub changes: usize,
    /// Changes seen before (Meta's retries): skipped.
    pub repeated: usize,
    pub comments: usize,
    pub mentions: usize,
    /// Changes for no account Tidemark holds, or of a field it does not use.
    pub ignored: usize,
    /// Changes that could not be stored (logged; Meta's retry tries again).
    pub failed: usize,
}

#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(deserialize_with = "crate::graph::types::id_string")]
    id: String,
    #[serde(default)]
    time: Option<i64>,
    /// Facebook Login (Graph API webhooks): the changes in a list.
    #[serde(default)]
    changes: Vec<ChangeWire>,
    /// Instagram Login: one change inline in the entry.
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Deserialize)]
struct ChangeWire {
    field: String,
    #[serde(default)]
    value: Value,
}

pub struct Webhooks {
    pool: db::Pool,
    apps: MetaApps,
    clock: Clock,
}

impl Webhooks {
    pub fn new(pool: db::Pool, apps: MetaApps, clock: Clock) -> Self {
        Self { pool, apps, clock }
    }

    /// The subscription check: the challenge to echo when the verify token matches.
    pub fn subscribe(&self, mode: &str, verify_token: &str, challenge: &str) -> Result<String, WebhookRefused> {
        let Some(expected) = &self.apps.webhook_verify_token else {
            return Err(WebhookRefused::NotConfigured);
        };
        let matches: bool = expected.as_bytes().ct_eq(verify_token.as_bytes()).into();
        if mode != "subscribe" || !matches {
            return Err(WebhookRefused::WrongVerifyToken);
        }
        Ok(challenge.to_owned())
    }

    /// Verifies a delivery's signature and reads its changes; nothing is stored yet.
    pub fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<Vec<Change>, WebhookRefused> {
        if self.apps.webhook_verify_token.is_none() {
            return Err(WebhookRefused::NotConfigured);
        }
        let given = signature.ok_or(WebhookRefused::Unsigned)?;
        let given = given.strip_prefix("sha256=").and_then(|hex_text| hex::decode(hex_text.trim()).ok());
        let Some(given) = given else {
            return Err(WebhookRefused::BadSignature);
        };
        let secrets = [self.apps.instagram.as_ref(), self.apps.facebook.as_ref()];
        let signed = secrets.into_iter().flatten().any(|app| {
            Hmac::<Sha256>::new_from_slice(app.secret().as_bytes())
                .map(|mut mac| {
                    mac.update(body);
                    // `verify_slice` compares in constant time.
                    mac.verify_slice(&given).is_ok()
                })
                .unwrap_or(false)
        });
        if !signed {
            return Err(WebhookRefused::BadSignature);
        }
        let delivery: Delivery = serde_json::from_slice(body).map_err(|_| WebhookRefused::Malformed)?;
        let mut changes = Vec::new();
        for entry in delivery.entry {
            if let (Some(field), Some(value)) = (entry.field, entry.value) {
                changes.push(Change { account: entry.id.clone(), field, value, time: entry.time });
            }
            for change in entry.changes {
                changes.push(Change {
                    account: entry.id.clone(),
                    field: change.field,
                    value: change.value,
                    time: entry.time,
                });
            }
        }
        Ok(changes)
    }

    /// Stores what the changes bring, each once.
    pub async fn process(&self, changes: &[Change]) -> Result<Processed, DbError> {
        let now = (self.clock)();
        let mut conn = self.pool.get().await?;
        let mut done = Processed::default();
        for change in changes {
            done.changes += 1;
            // The digest and what the change brings commit together: a change that could not be
            // stored is not remembered as seen, so Meta's retry stores it.
            match conn.transaction(async |conn| store(conn, change, now).await).await {
                Ok(Stored::Repeated) => done.repeated += 1,
                Ok(Stored::Comment(new)) => done.comments += usize::from(new),
                Ok(Stored::Mention(new)) => done.mentions += usize::from(new),
                Ok(Stored::Ignored) => done.ignored += 1,
                Err(err) => {
                    done.failed += 1;
                    tracing::error!(error = %err, field = change.field, "a webhook change could not be stored");
                }
            }
        }
        Ok(done)
    }
}

/// What one change led to.
enum Stored {
    Repeated,
    /// A comment; true when it was new.
    Comment(bool),
    /// A mention; true when it was new.
    Mention(bool),
    Ignored,
}

async fn store(conn: &mut AsyncPgConnection, change: &Change, now: DateTime<Utc>) -> QueryResult<Stored> {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(change.account.as_bytes())
        .chain_update([0])
        .chain_update(change.field.as_bytes())
        .chain_update([0])
        .chain_update(change.value.to_string().as_bytes())
        .finalize()
        .into();
    if !comments::first_delivery(conn, &digest, &change.field, now).await? {
        return Ok(Stored::Repeated);
    }
    let accounts = Account::find_by_meta_user(conn, &change.account).await?;
    if change.field == "mentions" {
        // `{media_id, comment_id}`: the comment that @mentions the account; its text is read
        // afterwards (Inbox::fetch_mentions).
        let id_of = |key: &str| change.value.get(key).and_then(id_text);
        let (Some(account), Some(media_id), Some(comment_id)) =
            (accounts.first(), id_of("media_id"), id_of("comment_id"))
        else {
            return Ok(Stored::Ignored);
        };
        let at = change.time.and_then(|t| Utc.timestamp_opt(t, 0).single()).unwrap_or(now);
        return Ok(Stored::Mention(mentions::insert(conn, account.id, &media_id, &comment_id, at, now).await?));
    }
    let comment = (change.field == "comments").then(|| comment_of(&change.value)).flatten();
    let (Some(account), Some(wire)) = (accounts.first(), comment) else {
        return Ok(Stored::Ignored);
    };
    let new = NewComment {
        account_id: account.id,
        comment_id: wire.id,
        media_id: wire.media_id,
        parent_id: wire.parent_id,
        username: wire.username,
        text: wire.text,
        commented_at: change.time.and_then(|t| Utc.timestamp_opt(t, 0).single()).unwrap_or(now),
        source: "webhook",
        hidden: false,
    };
    Ok(Stored::Comment(comments::insert(conn, &new, now).await?))
}

/// A comment from a `comments` change's value: `id`, `text`, `from{id,username}`,
/// `media{id,media_product_type}`, `parent_id` (Meta's webhook reference, and its out-of-cycle
/// change of 2021-10-20 adding `from`, `media` and `parent_id`).
struct CommentWire {
    id: String,
    media_id: String,
    parent_id: Option<String>,
    username: Option<String>,
    text: String,
}

/// An id as Meta sends it: digits in a string, or a bare number.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

fn comment_of(value: &Value) -> Option<CommentWire> {
    let id_of = id_text;
    Some(CommentWire {
        id: id_of(value.get("id")?)?,
        media_id: id_of(value.get("media")?.get("id")?)?,
        parent_id: value.get("parent_id").and_then(id_of),
        // PostgreSQL stores no NUL in text; nothing legitimate carries one.
        username: value
            .get("from")
            .and_then(|f| f.get("username"))
            .and_then(Value::as_str)
            .map(|u| u.replace('\0', "")),
        text: value.get("text").and_then(Value::as_str).unwrap_or_default().replace('\0', ""),
    })
}
