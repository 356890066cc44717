//! Dashboard users.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::users;

use crate::domain::{Role, UserId};

/// A user as stored. `password_hash` never leaves the server.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    pub session_version: i32,
    pub created_at: DateTime<Utc>,
    /// When the user turned on the second factor (TOTP); `None`: off.
    #[diesel(column_name = totp_enabled_at)]
    pub second_factor_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

/// Why a change to the set of admins was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserChangeError {
    #[error("that user no longer exists")]
    NotFound,
    #[error("this is the last admin: make another user an admin first")]
    LastAdmin,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl User {
    pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<User>> {
        users::table.find(id).select(User::as_select()).first(conn).await.optional()
    }

    pub async fn find_by_username(conn: &mut AsyncPgConnection, username: &str) -> QueryResult<Option<User>> {
        users::table.filter(users::username.eq(username)).select(User::as_select()).first(conn).await.optional()
    }

    pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<User>> {
        users::table.order(users::username.asc()).select(User::as_select()).load(conn).await
    }

    pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
        users::table.count().get_result(conn).await
    }

    /// Inserts a user; a taken username is reported as `Ok(None)`.
    pub async fn create(conn: &mut AsyncPgConnection, new: &NewUser<'_>) -> QueryResult<Option<User>> {
        let inserted = diesel::insert_into(users::table)
            .values(new)
            .on_conflict(users::username)
            .do_nothing()
            .returning(User::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        Ok(inserted)
    }

    /// Sets a new password hash and ends every session of the user.
    pub async fn set_password(conn: &mut AsyncPgConnection, id: UserId, hash: &str) -> QueryResult<bool> {
        let updated = diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::session_version.eq(users::session_version + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    /// Ends every session of the user ("sign out everywhere").
    pub async fn end_sessions(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<bool> {
        let updated = diesel::update(users::table.find(id))
            .set((users::session_version.eq(users::session_version + 1), users::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    /// Changes a user's role, ending their sessions; refuses to demote the last admin.
    pub async fn set_role(conn: &mut AsyncPgConnection, id: UserId, role: Role) -> Result<(), UserChangeError> {
        conn.transaction(async |conn| {
            let current = lock_for_admin_change(conn, id).await?;
            if current == Role::Admin && role != Role::Admin {
                ensure_another_admin(conn, id).await?;
            }
            diesel::update(users::table.find(id))
                .set((
                    users::role.eq(role),
                    users::session_version.eq(users::session_version + 1),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    /// Deletes a user; refuses to delete the last admin.
    pub async fn delete(conn: &mut AsyncPgConnection, id: UserId) -> Result<(), UserChangeError> {
        conn.transaction(async |conn| {
            if lock_for_admin_change(conn, id).await? == Role::Admin {
                ensure_another_admin(conn, id).await?;
            }
            diesel::delete(users::table.find(id)).execute(conn).await?;
            Ok(())
        })
        .await
    }
}

/// Serialises changes that could remove an admin, so two concurrent demotions cannot
/// both see "another admin exists" and leave none. Returns the user's current role.
async fn lock_for_admin_change(conn: &mut AsyncPgConnection, id: UserId) -> Result<Role, UserChangeError> {
    diesel::sql_query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").execute(conn).await?;
    let role: Option<Role> = users::table.find(id).select(users::role).first(conn).await.optional()?;
    role.ok_or(UserChangeError::NotFound)
}

async fn ensure_another_admin(conn: &mut AsyncPgConnection, id: UserId) -> Result<(), UserChangeError> {
    let others: i64 =
        users::table.filter(users::role.eq(Role::Admin)).filter(users::id.ne(id)).count().get_result(conn).await?;
    if others == 0 {
        return Err(UserChangeError::LastAdmin);
    }
    Ok(())
}

pub const MAX_USERNAME_CHARS: usize = 64;

/// The stored form of a username: trimmed, lower-case ASCII letters, digits, `.`, `_`, `-`.
/// The error is a sentence for the user.
pub fn normalize_username(input: &str) -> Result<String, String> {
    let name = input.trim().to_ascii_lowercase();
    if name.is_empty() || name.len() > MAX_USERNAME_CHARS {
        return Err(format!("A username has 1 to {MAX_USERNAME_CHARS} characters."));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err("A username may contain only letters, digits, '.', '_' and '-'.".into());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_username("  Ada.Lovelace ").as_deref(), Ok("ada.lovelace"));
        assert!(normalize_username("").is_err());
        assert!(normalize_username("robert'); DROP TABLE users;--").is_err());
        assert!(normalize_username("zoë").is_err());
        assert!(normalize_username(&"a".repeat(65)).is_err());
    }
}
