//! Dashboard users: listing, adding, roles, passwords, "sign out everywhere", deleting. The
//! pages and the command line call this; passwords are checked and hashed here (bcrypt, off
//! the async threads) so no caller handles a hash.

use crate::auth::password;
use crate::db::second_factor;
use crate::db::sessions::{self, Session};
use crate::db::settings::OperatorSettings;
use crate::db::users::{NewUser, User, UserChangeError, normalize_username};
use crate::db::{self, DbError};
use crate::domain::{Role, UserId};

/// Why a change to users was refused. The text is for the page or the command line.
#[derive(Debug, thiserror::Error)]
pub enum UserRefused {
    /// A username, password or role that breaks a rule; the text says which.
    #[error("{0}")]
    Invalid(String),
    #[error("the username {0} is taken")]
    Taken(String),
    #[error("that user no longer exists")]
    NotFound,
    #[error("this is the last admin: make another user an admin first")]
    LastAdmin,
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("the password could not be hashed: {0}")]
    Hashing(#[source] anyhow::Error),
}

impl From<UserChangeError> for UserRefused {
    fn from(err: UserChangeError) -> Self {
        match err {
            UserChangeError::NotFound => UserRefused::NotFound,
            UserChangeError::LastAdmin => UserRefused::LastAdmin,
            UserChangeError::Database(err) => UserRefused::Database(err.into()),
        }
    }
}

impl From<diesel::result::Error> for UserRefused {
    fn from(err: diesel::result::Error) -> Self {
        UserRefused::Database(err.into())
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for UserRefused {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        UserRefused::Database(err.into())
    }
}

pub struct Users {
    pool: db::Pool,
}

impl Users {
    pub fn new(pool: db::Pool) -> Self {
        Self { pool }
    }

    pub async fn list(&self) -> Result<Vec<User>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(User::list(&mut conn).await?)
    }

    pub async fn find(&self, id: UserId) -> Result<Option<User>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(User::find(&mut conn, id).await?)
    }

    pub async fn find_by_username(&self, username: &str) -> Result<Option<User>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(User::find_by_username(&mut conn, username).await?)
    }

    /// Adds a user after checking the username and the password.
    pub async fn create(&self, username: &str, role: Role, new_password: String) -> Result<User, UserRefused> {
        let username = normalize_username(username).map_err(UserRefused::Invalid)?;
        password::check_new_password(&new_password, &username).map_err(UserRefused::Invalid)?;
        let hash = password::hash(new_password).await.map_err(UserRefused::Hashing)?;
        let mut conn = self.pool.get().await?;
        let new = NewUser { username: &username, role, password_hash: &hash };
        let user = User::create(&mut conn, &new).await?.ok_or(UserRefused::Taken(username))?;
        tracing::info!(user_id = %user.id, role = %role, "user created");
        Ok(user)
    }

    /// Changes a role, ending that user's sessions; the last admin stays an admin.
    pub async fn set_role(&self, id: UserId, role: Role) -> Result<(), UserRefused> {
        let mut conn = self.pool.get().await?;
        User::set_role(&mut conn, id, role).await?;
        tracing::info!(user_id = %id, role = %role, "role changed");
        Ok(())
    }

    /// Sets a new password (checked against the rules), ending that user's sessions.
    pub async fn set_password(&self, id: UserId, new_password: String) -> Result<(), UserRefused> {
        let username = self.find(id).await?.ok_or(UserRefused::NotFound)?.username;
        password::check_new_password(&new_password, &username).map_err(UserRefused::Invalid)?;
        let hash = password::hash(new_password).await.map_err(UserRefused::Hashing)?;
        let mut conn = self.pool.get().await?;
        if !User::set_password(&mut conn, id, &hash).await? {
            return Err(UserRefused::NotFound);
        }
        tracing::info!(user_id = %id, "password set");
        Ok(())
    }

    /// The user's open sessions, most recently seen first, and the operator's time zone to
    /// show their times in.
    pub async fn sessions(&self, id: UserId) -> Result<(Vec<Session>, chrono_tz::Tz), DbError> {
        let mut conn = self.pool.get().await?;
        let sessions = sessions::of_user(&mut conn, id, chrono::Utc::now()).await?;
        Ok((sessions, OperatorSettings::load(&mut conn).await?.time_zone()))
    }

    /// Ends every session of the user.
    pub async fn end_sessions(&self, id: UserId) -> Result<(), DbError> {
        let mut conn = self.pool.get().await?;
        User::end_sessions(&mut conn, id).await?;
        sessions::end_all(&mut conn, id, None).await?;
        tracing::info!(user_id = %id, "every session ended");
        Ok(())
    }

    /// Removes a user's second factor (their secret, recovery codes and any sign-in waiting
    /// for a code), whatever the rule for admins: for someone who lost their phone and their
    /// recovery codes. They set a new one up on their account page. False when it was off.
    pub async fn reset_second_factor(&self, id: UserId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        let removed = second_factor::remove(&mut conn, id).await?;
        tracing::info!(user_id = %id, removed, "second factor reset");
        Ok(removed)
    }

    /// Deletes a user; the last admin cannot be deleted.
    pub async fn delete(&self, id: UserId) -> Result<(), UserRefused> {
        let mut conn = self.pool.get().await?;
        User::delete(&mut conn, id).await?;
        tracing::info!(user_id = %id, "user deleted");
        Ok(())
    }
}
