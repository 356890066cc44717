//! Server-side sessions: the rows the signed session cookie points at.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{sessions, users};
use super::users::User;
use crate::domain::UserId;

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

/// The live session `id` and its user, in one query.
pub async fn find_live(conn: &mut AsyncPgConnection, id: &str, now: DateTime<Utc>) -> QueryResult<Option<User>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(sessions::expires_at.gt(now))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
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
