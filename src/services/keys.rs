//! Key rotation: every secret sealed with the token key (access tokens, second-factor
//! secrets) re-sealed under a new key, and the old ciphertext removed from the database
//! files.

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
    // until they are reused; rewriting the tables removes them from the database files.
    diesel::sql_query("VACUUM FULL ig_accounts, oauth_pending, users, totp_enrolments").execute(conn).await?;
    Ok(rotation)
}
