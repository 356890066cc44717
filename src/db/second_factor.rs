//! The second factor's rows: each user's confirmed TOTP secret (on `users`), a secret being
//! set up (`totp_enrolments`), recovery-code hashes, and sign-ins awaiting their code.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{recovery_codes, settings, sign_in_challenges, totp_enrolments, users};
use crate::crypto::Sealed;
use crate::domain::{Role, UserId};

/// A secret as stored, sealed with the token key.
#[derive(Debug, Clone)]
pub struct StoredSecret {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_version: i32,
}

/// A user's confirmed secret.
#[derive(Debug, Clone)]
pub struct ActiveSecret {
    pub secret: StoredSecret,
    pub enabled_at: DateTime<Utc>,
}

/// The second-factor columns of a user's row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct UserSecret {
    id: UserId,
    totp_ciphertext: Option<Vec<u8>>,
    totp_nonce: Option<Vec<u8>>,
    totp_key_version: Option<i32>,
    totp_enabled_at: Option<DateTime<Utc>>,
}

impl UserSecret {
    fn stored(self) -> Option<StoredSecret> {
        Some(StoredSecret {
            ciphertext: self.totp_ciphertext?,
            nonce: self.totp_nonce?,
            key_version: self.totp_key_version?,
        })
    }
}

/// A secret being set up, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = totp_enrolments, check_for_backend(diesel::pg::Pg))]
struct EnrolmentRow {
    user_id: UserId,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i32,
    created_at: DateTime<Utc>,
}

impl EnrolmentRow {
    fn stored(self) -> StoredSecret {
        StoredSecret { ciphertext: self.ciphertext, nonce: self.nonce, key_version: self.key_version }
    }
}

/// The active secret of `user`, if they turned the second factor on.
pub async fn active(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<Option<ActiveSecret>> {
    let row = users::table.find(user).select(UserSecret::as_select()).first(conn).await.optional()?;
    Ok(row.and_then(|row| {
        let enabled_at = row.totp_enabled_at?;
        Some(ActiveSecret { secret: row.stored()?, enabled_at })
    }))
}

/// True when a user of `role` must have a second factor: an admin once some admin has one,
/// anyone when the operator requires it of everyone.
pub async fn required_for(conn: &mut AsyncPgConnection, role: Role) -> QueryResult<bool> {
    let for_admins = diesel::dsl::exists(
        users::table.filter(users::role.eq(Role::Admin)).filter(users::totp_enabled_at.is_not_null()),
    );
    let for_everyone = settings::table.select(settings::second_factor_for_everyone).single_value();
    let (for_admins, for_everyone): (bool, Option<bool>) =
        diesel::select((for_admins, for_everyone)).get_result(conn).await?;
    Ok(for_everyone.unwrap_or(false) || (for_admins && role == Role::Admin))
}

/// Records that a code for `step` was accepted, only if no code for that step or a later
/// one was accepted before: false means the code is a replay.
pub async fn accept_step(conn: &mut AsyncPgConnection, user: UserId, step: i64) -> QueryResult<bool> {
    let updated = diesel::update(
        users::table.find(user).filter(users::totp_enabled_at.is_not_null()).filter(users::totp_last_step.lt(step)),
    )
    .set(users::totp_last_step.eq(step))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// The secret `user` is setting up, with when it was made.
pub async fn enrolment(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> QueryResult<Option<(StoredSecret, DateTime<Utc>)>> {
    let row = totp_enrolments::table.find(user).select(EnrolmentRow::as_select()).first(conn).await.optional()?;
    Ok(row.map(|row| {
        let at = row.created_at;
        (row.stored(), at)
    }))
}

/// Stores a secret being set up, replacing any earlier one.
pub async fn save_enrolment(
    conn: &mut AsyncPgConnection,
    user: UserId,
    sealed: &Sealed,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let values = (
        totp_enrolments::user_id.eq(user),
        totp_enrolments::ciphertext.eq(&sealed.ciphertext),
        totp_enrolments::nonce.eq(&sealed.nonce[..]),
        totp_enrolments::key_version.eq(sealed.key_version),
        totp_enrolments::created_at.eq(now),
    );
    diesel::insert_into(totp_enrolments::table)
        .values(values)
        .on_conflict(totp_enrolments::user_id)
        .do_update()
        .set((
            totp_enrolments::ciphertext.eq(&sealed.ciphertext),
            totp_enrolments::nonce.eq(&sealed.nonce[..]),
            totp_enrolments::key_version.eq(sealed.key_version),
            totp_enrolments::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the secret being set up the user's active one (the code for `step` just proved
/// it), with a fresh set of recovery codes, in one transaction. False when there was no
/// secret being set up (it expired or was confirmed meanwhile).
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    user: UserId,
    step: i64,
    code_hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    conn.transaction(async |conn| {
        let taken: Option<(Vec<u8>, Vec<u8>, i32)> = diesel::delete(totp_enrolments::table.find(user))
            .returning((totp_enrolments::ciphertext, totp_enrolments::nonce, totp_enrolments::key_version))
            .get_result(conn)
            .await
            .optional()?;
        let Some((ciphertext, nonce, key_version)) = taken else { return Ok(false) };
        diesel::update(users::table.find(user))
            .set((
                users::totp_ciphertext.eq(Some(ciphertext)),
                users::totp_nonce.eq(Some(nonce)),
                users::totp_key_version.eq(Some(key_version)),
                users::totp_enabled_at.eq(Some(now)),
                users::totp_last_step.eq(step),
            ))
            .execute(conn)
            .await?;
        replace_recovery_codes_in(conn, user, code_hashes, now).await?;
        Ok(true)
    })
    .await
}

/// Turns the second factor off for `user`: the secret, anything being set up, the recovery
/// codes and any sign-in awaiting a code all go. True when it was on.
pub async fn remove(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<bool> {
    conn.transaction(async |conn| {
        let updated = diesel::update(users::table.find(user).filter(users::totp_enabled_at.is_not_null()))
            .set((
                users::totp_ciphertext.eq(None::<Vec<u8>>),
                users::totp_nonce.eq(None::<Vec<u8>>),
                users::totp_key_version.eq(None::<i32>),
                users::totp_enabled_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
        diesel::delete(totp_enrolments::table.find(user)).execute(conn).await?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn).await?;
        diesel::delete(sign_in_challenges::table.filter(sign_in_challenges::user_id.eq(user))).execute(conn).await?;
        Ok(updated == 1)
    })
    .await
}

/// The hashes of `user`'s unused recovery codes, with their row ids.
pub async fn recovery_codes(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user))
        .select((recovery_codes::id, recovery_codes::code_hash))
        .load(conn)
        .await
}

pub async fn count_recovery_codes(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<i64> {
    recovery_codes::table.filter(recovery_codes::user_id.eq(user)).count().get_result(conn).await
}

/// Uses up one recovery code; false if it was used meanwhile.
pub async fn use_recovery_code(conn: &mut AsyncPgConnection, user: UserId, id: i64) -> QueryResult<bool> {
    let deleted =
        diesel::delete(recovery_codes::table.find(id).filter(recovery_codes::user_id.eq(user))).execute(conn).await?;
    Ok(deleted == 1)
}

/// Replaces every recovery code of `user` with new ones.
pub async fn replace_recovery_codes(
    conn: &mut AsyncPgConnection,
    user: UserId,
    code_hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    conn.transaction(async |conn| replace_recovery_codes_in(conn, user, code_hashes, now).await).await
}

async fn replace_recovery_codes_in(
    conn: &mut AsyncPgConnection,
    user: UserId,
    code_hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn).await?;
    let rows: Vec<_> = code_hashes
        .iter()
        .map(|hash| {
            (
                recovery_codes::user_id.eq(user),
                recovery_codes::code_hash.eq(hash.to_vec()),
                recovery_codes::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(recovery_codes::table).values(rows).execute(conn).await?;
    Ok(())
}

/// A sign-in whose password was right, awaiting its code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sign_in_challenges, check_for_backend(diesel::pg::Pg))]
pub struct Challenge {
    pub id: String,
    pub user_id: UserId,
    pub session_version: i32,
    pub next_path: String,
    pub expires_at: DateTime<Utc>,
    pub failures: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sign_in_challenges)]
pub struct NewChallenge<'a> {
    pub id: &'a str,
    pub user_id: UserId,
    pub session_version: i32,
    pub next_path: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create_challenge(conn: &mut AsyncPgConnection, new: &NewChallenge<'_>) -> QueryResult<()> {
    diesel::insert_into(sign_in_challenges::table).values(new).execute(conn).await?;
    Ok(())
}

/// The challenge `id`, unless it has expired.
pub async fn live_challenge(
    conn: &mut AsyncPgConnection,
    id: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Challenge>> {
    sign_in_challenges::table
        .find(id)
        .filter(sign_in_challenges::expires_at.gt(now))
        .select(Challenge::as_select())
        .first(conn)
        .await
        .optional()
}

/// Counts a wrong code against the challenge; returns its failures so far.
pub async fn challenge_failed(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<i32> {
    diesel::update(sign_in_challenges::table.find(id))
        .set(sign_in_challenges::failures.eq(sign_in_challenges::failures + 1))
        .returning(sign_in_challenges::failures)
        .get_result(conn)
        .await
}

/// Ends a challenge; true when it still existed (so two answers cannot both start a session).
pub async fn end_challenge(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(sign_in_challenges::table.find(id)).execute(conn).await? == 1)
}

/// A secret shown but never confirmed is dropped after this long (the account page shows a
/// new one then).
pub const ENROLMENT_KEEP_HOURS: i64 = 24;

/// Sign-ins never finished, and secrets shown but not confirmed within a day.
pub async fn purge_unfinished(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let enrolment_cutoff = now - chrono::Duration::hours(ENROLMENT_KEEP_HOURS);
    let challenges =
        diesel::delete(sign_in_challenges::table.filter(sign_in_challenges::expires_at.le(now))).execute(conn).await?;
    let enrolments = diesel::delete(totp_enrolments::table.filter(totp_enrolments::created_at.lt(enrolment_cutoff)))
        .execute(conn)
        .await?;
    Ok(challenges + enrolments)
}

/// Every sealed secret, active or being set up, for key rotation.
pub async fn all_sealed(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(UserId, bool, StoredSecret)>> {
    let active = users::table
        .filter(users::totp_ciphertext.is_not_null())
        .select(UserSecret::as_select())
        .load(conn)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.id, true, row.stored()?)));
    let pending = totp_enrolments::table
        .select(EnrolmentRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(|row| (row.user_id, false, row.stored()));
    Ok(active.chain(pending).collect())
}

/// Re-seals one secret if it is still under `old_version`; false if it changed meanwhile.
pub async fn replace_sealed(
    conn: &mut AsyncPgConnection,
    user: UserId,
    active: bool,
    old_version: i32,
    sealed: &Sealed,
) -> QueryResult<bool> {
    let updated = if active {
        diesel::update(users::table.find(user).filter(users::totp_key_version.eq(old_version)))
            .set((
                users::totp_ciphertext.eq(Some(&sealed.ciphertext)),
                users::totp_nonce.eq(Some(&sealed.nonce[..])),
                users::totp_key_version.eq(Some(sealed.key_version)),
            ))
            .execute(conn)
            .await?
    } else {
        diesel::update(totp_enrolments::table.find(user).filter(totp_enrolments::key_version.eq(old_version)))
            .set((
                totp_enrolments::ciphertext.eq(&sealed.ciphertext),
                totp_enrolments::nonce.eq(&sealed.nonce[..]),
                totp_enrolments::key_version.eq(sealed.key_version),
            ))
            .execute(conn)
            .await?
    };
    Ok(updated == 1)
}
