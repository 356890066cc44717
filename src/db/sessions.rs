//! Server-side sessions: the rows the signed session cookie points at.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{data_version, sessions, settings, users};
use super::users::User;
use crate::domain::{Role, UserId};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: &'a str,
    pub address: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: String,
    pub address: String,
}

pub async fn create(conn: &mut AsyncPgConnection, new: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(new).execute(conn).await?;
    Ok(())
}

/// A live session's user, and whether that user must have a second factor.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub user: User,
    /// Admins must have one (some admin has one), or the operator requires it of everyone.
    pub second_factor_required: bool,
    /// The data version at this moment (read with the session: a page needs both).
    pub data_version: i64,
    /// The read-only links' version at this moment (the account page keeps them per it).
    pub shares_version: i64,
    /// When the session was last marked as used.
    pub last_seen_at: DateTime<Utc>,
    /// When it ends, however active.
    pub expires_at: DateTime<Utc>,
}

/// The user, when the session was last seen, when it ends, whether admins must have a second
/// factor, whether everyone must, the data version and the links' version.
type SessionRow = (User, DateTime<Utc>, DateTime<Utc>, bool, Option<bool>, Option<i64>, Option<i64>);

/// The live session `id`, its user and the second-factor rules, in one query.
pub async fn find_live(conn: &mut AsyncPgConnection, id: &str, now: DateTime<Utc>) -> QueryResult<Option<LiveSession>> {
    let enrolled_admins = diesel::alias!(users as enrolled_admins);
    let for_admins = diesel::dsl::exists(
        enrolled_admins
            .filter(enrolled_admins.field(users::role).eq(Role::Admin))
            .filter(enrolled_admins.field(users::totp_enabled_at).is_not_null()),
    );
    let everyone = settings::table.select(settings::second_factor_for_everyone).single_value();
    let version = data_version::table.select(data_version::n).single_value();
    let shares = data_version::table.select(data_version::shares).single_value();
    let found: Option<SessionRow> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(sessions::expires_at.gt(now))
        .select((
            User::as_select(),
            sessions::last_seen_at,
            sessions::expires_at,
            for_admins,
            everyone,
            version,
            shares,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(user, last_seen_at, expires_at, for_admins, for_everyone, version, shares)| {
        let second_factor_required = for_everyone.unwrap_or(false) || (for_admins && user.role == Role::Admin);
        LiveSession {
            user,
            second_factor_required,
            data_version: version.unwrap_or_default(),
            shares_version: shares.unwrap_or_default(),
            last_seen_at,
            expires_at,
        }
    }))
}

pub async fn touch(conn: &mut AsyncPgConnection, id: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sessions::table.find(id)).set(sessions::last_seen_at.eq(now)).execute(conn).await?;
    Ok(())
}

/// Ends one session; true when it existed (and belonged to `user`).
pub async fn end(conn: &mut AsyncPgConnection, id: &str, user: UserId) -> QueryResult<bool> {
    let ended = diesel::delete(sessions::table.find(id).filter(sessions::user_id.eq(user))).execute(conn).await?;
    Ok(ended == 1)
}

/// Ends every session of `user`, but `keep` (the one making the request), if given.
pub async fn end_all(conn: &mut AsyncPgConnection, user: UserId, keep: Option<&str>) -> QueryResult<usize> {
    let mut query = diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep));
    }
    query.execute(conn).await
}

pub async fn of_user(conn: &mut AsyncPgConnection, user: UserId, now: DateTime<Utc>) -> QueryResult<Vec<Session>> {
    sessions::table
        .filter(sessions::user_id.eq(user))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::last_seen_at.desc())
        .select(Session::as_select())
        .load(conn)
        .await
}

/// Sessions past their absolute end.
pub async fn purge_expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn).await
}
