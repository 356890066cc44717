//! Key rotation: every secret sealed with the token key (access tokens, second-factor
//! secrets) re-sealed under a new key, and the old ciphertext removed from the database
//! files.

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::crypto::TokenKey;
use crate::db::accounts::{Account, token_binding};
use crate::services::second_factor;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Access tokens re-sealed.
    pub rotated: usize,
    /// Access tokens already under the new key.
    pub already_current: usize,
    /// Second-factor secrets re-sealed.
    pub second_factors: usize,
    /// A transaction older than the re-sealing was still running when the tables were
    /// rewritten, so old row versions may remain until the next `VACUUM`.
    pub old_versions_may_remain: bool,
}

/// How long rotation waits for transactions that began before it to end.
const OLDER_TRANSACTIONS_WAIT: Duration = Duration::from_secs(30);

/// Waits until no other transaction, in any database of the server, is older than now;
/// false if some still is after [`OLDER_TRANSACTIONS_WAIT`]. Other databases count too: a
/// snapshot's horizon is the oldest transaction running anywhere on the server, and the
/// rewrite keeps every row version that horizon may still see.
async fn older_transactions_ended(conn: &mut AsyncPgConnection) -> anyhow::Result<bool> {
    #[derive(QueryableByName)]
    struct Marker {
        #[diesel(sql_type = BigInt)]
        xid: i64,
    }
    #[derive(QueryableByName)]
    struct Older {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    // A fresh transaction id: every transaction that could see the old row versions began
    // before it, so has an older snapshot (xmin) or id.
    let marker: Marker = diesel::sql_query("SELECT txid_current() % 4294967296 AS xid").get_result(conn).await?;
    let started = Instant::now();
    loop {
        let older: Older = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() \
             AND greatest(age(backend_xmin), age(backend_xid)) >= age($1::text::xid)",
        )
        .bind::<BigInt, _>(marker.xid)
        .get_result(conn)
        .await?;
        if older.n == 0 {
            return Ok(true);
        }
        if started.elapsed() >= OLDER_TRANSACTIONS_WAIT {
            tracing::warn!(transactions = older.n, "transactions older than the key rotation are still running");
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Re-seals every token and second-factor secret from `old` to `new`. Afterwards `old`
/// opens nothing, in the tables or in their files.
pub async fn rotate_keys(conn: &mut AsyncPgConnection, old: &TokenKey, new: &TokenKey) -> anyhow::Result<Rotation> {
    if old.version() == new.version() {
        anyhow::bail!("TIDEMARK_TOKEN_KEY_OLD and TIDEMARK_TOKEN_KEY are the same key");
    }
    let mut rotation = Rotation::default();
    for account in Account::list(conn).await? {
        let Some(sealed) = account.token() else { continue };
        if sealed.key_version == new.version() {
            rotation.already_current += 1;
            continue;
        }
        let binding = token_binding(&account.ig_user_id);
        let plaintext = old
            .open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &binding)
            .map_err(|err| anyhow::anyhow!("account {}: {err}", account.id))?;
        let resealed = new.seal(&plaintext, &binding);
        if !Account::replace_sealed(conn, account.id, sealed.key_version, &resealed).await? {
            anyhow::bail!("account {} changed during rotation; run `tidemark key rotate` again", account.id);
        }
        rotation.rotated += 1;
    }
    rotation.second_factors = second_factor::rotate_secrets(conn, old, new).await?;
    // Pending Facebook choices hold tokens under the old key; they live minutes: drop them.
    diesel::sql_query("DELETE FROM oauth_pending").execute(conn).await?;
    // An UPDATE leaves the old row versions (with the old ciphertext) in the table's pages
    // until they are reused; rewriting the tables removes them from the database files, but
    // only those no running transaction may still read: a sync that began before the
    // re-sealing keeps them alive, so wait for such transactions to end first.
    rotation.old_versions_may_remain = !older_transactions_ended(conn).await?;
    diesel::sql_query("VACUUM FULL ig_accounts, oauth_pending, users, totp_enrolments").execute(conn).await?;
    Ok(rotation)
}
