//! Meta dialogs in progress: the single-use `state` of each, bound to the admin's session,
//! and (Facebook Login) the accounts a dialog returned, waiting for the admin's choice.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{oauth_pending, oauth_states};
use crate::domain::Flavour;

/// Records a dialog's state (its SHA-256, never the state itself) for this session.
pub async fn save_state(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
    session_id: &str,
    flavour: Flavour,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(oauth_states::table)
        .values((
            oauth_states::state_hash.eq(state_hash),
            oauth_states::session_id.eq(session_id),
            oauth_states::flavour.eq(flavour),
            oauth_states::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses up a state: true when it was issued to this session for this login and has not
/// expired. A state is deleted whatever the answer, so it never works twice; expired ones go too.
pub async fn take_state(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
    session_id: &str,
    flavour: Flavour,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::delete(oauth_states::table.filter(oauth_states::expires_at.le(now))).execute(conn).await?;
    let taken: Option<(String, Flavour)> = diesel::delete(oauth_states::table.find(state_hash))
        .returning((oauth_states::session_id, oauth_states::flavour))
        .get_result(conn)
        .await
        .optional()?;
    Ok(taken.is_some_and(|(session, of)| session == session_id && of == flavour))
}

/// Accounts a Facebook Login dialog returned, with the sealed long-lived token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_pending, check_for_backend(diesel::pg::Pg))]
pub struct Pending {
    pub id: Vec<u8>,
    pub session_id: String,
    pub token_ciphertext: Vec<u8>,
    pub token_nonce: Vec<u8>,
    pub token_key_version: i32,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub app_user_id: Option<String>,
    pub granted_scopes: Vec<Option<String>>,
    /// The accounts offered, as JSON (see `services::connect`).
    pub candidates: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

impl Pending {
    pub fn scopes(&self) -> Vec<String> {
        self.granted_scopes.iter().flatten().cloned().collect()
    }
}

pub async fn save_pending(conn: &mut AsyncPgConnection, pending: &Pending) -> QueryResult<()> {
    diesel::insert_into(oauth_pending::table).values(pending).execute(conn).await?;
    Ok(())
}

/// The pending choice `id` of this session, if it has not expired.
pub async fn find_pending(
    conn: &mut AsyncPgConnection,
    id: &[u8],
    session_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Pending>> {
    diesel::delete(oauth_pending::table.filter(oauth_pending::expires_at.le(now))).execute(conn).await?;
    oauth_pending::table
        .find(id)
        .filter(oauth_pending::session_id.eq(session_id))
        .select(Pending::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn delete_pending(conn: &mut AsyncPgConnection, id: &[u8]) -> QueryResult<()> {
    diesel::delete(oauth_pending::table.find(id)).execute(conn).await?;
    Ok(())
}
