//! User management, for admins: list, add, change role, set a password, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::me::renewed_session;
use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::Auth;
use crate::auth::{AdminUser, CsrfForm, password};
use crate::db::users::{NewUser, User, UserChangeError, normalize_username};
use crate::domain::{Role, UserId};
use crate::error::{AppError, AppResult};

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    page: PageContext,
    csrf_token: String,
    page_user_id: UserId,
    users: Vec<User>,
    /// A refused change to an existing user.
    error: Option<String>,
    /// A refused new user, with what was typed (never the password).
    form_error: Option<String>,
    form_username: String,
    form_role: String,
}

#[derive(Template)]
#[template(path = "users/delete.html")]
struct DeleteUserPage {
    page: PageContext,
    csrf_token: String,
    target: User,
}

#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    username: String,
    role: String,
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// The users page, optionally re-rendered with what went wrong.
async fn users_page(
    auth: &Auth,
    AdminUser(admin): &AdminUser,
    status: StatusCode,
    notice: Notice,
    errors: (Option<String>, Option<String>),
    typed: (String, String),
) -> AppResult<HttpResponse> {
    let mut conn = auth.pool.get().await?;
    let users = User::list(&mut conn).await?;
    let (error, form_error) = errors;
    let (form_username, form_role) = typed;
    let page = UsersPage {
        page: PageContext::new(admin, notice, "users"),
        csrf_token: admin.csrf_token.clone(),
        page_user_id: admin.id,
        users,
        error,
        form_error,
        form_username,
        form_role,
    };
    render(status, &page)
}

async fn refused_change(auth: &Auth, admin: &AdminUser, error: String) -> AppResult<HttpResponse> {
    users_page(
        auth,
        admin,
        StatusCode::UNPROCESSABLE_ENTITY,
        Notice::default(),
        (Some(error), None),
        Default::default(),
    )
    .await
}

pub async fn list_users(admin: AdminUser, notice: Notice, auth: web::Data<Auth>) -> AppResult<HttpResponse> {
    users_page(&auth, &admin, StatusCode::OK, notice, (None, None), (String::new(), "viewer".into())).await
}

pub async fn create_user(
    admin: AdminUser,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> AppResult<HttpResponse> {
    let typed = (form.username.chars().take(64).collect::<String>(), form.role.clone());
    let refuse = |error: String| async {
        users_page(
            &auth,
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            Notice::default(),
            (None, Some(error)),
            typed.clone(),
        )
        .await
    };
    let username = match normalize_username(&form.username) {
        Ok(name) => name,
        Err(error) => return refuse(error).await,
    };
    let Ok(role) = form.role.parse::<Role>() else {
        return refuse("Choose a role: admin or viewer.".into()).await;
    };
    if let Err(error) = password::check_new_password(&form.password) {
        return refuse(error).await;
    }
    let hash = password::hash(form.password).await?;
    let mut conn = auth.pool.get().await?;
    let new = NewUser { username: &username, role, password_hash: &hash };
    match User::create(&mut conn, &new).await? {
        Some(user) => {
            tracing::info!(user_id = %user.id, role = %role, by = %admin.0.id, "user created");
            Ok(see_other("/users?notice=user-created"))
        }
        None => refuse(format!("The username {username} is taken.")).await,
    }
}

pub async fn change_role(
    admin: AdminUser,
    path: web::Path<i64>,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    let Ok(role) = form.role.parse::<Role>() else {
        return refused_change(&auth, &admin, "Choose a role: admin or viewer.".into()).await;
    };
    let mut conn = auth.pool.get().await?;
    match User::set_role(&mut conn, id, role).await {
        Ok(()) => {}
        Err(UserChangeError::NotFound) => return Err(AppError::NotFound),
        Err(UserChangeError::LastAdmin) => {
            return refused_change(&auth, &admin, UserChangeError::LastAdmin.to_string()).await;
        }
        Err(UserChangeError::Database(err)) => return Err(err.into()),
    }
    tracing::info!(user_id = %id, role = %role, by = %admin.0.id, "role changed");
    if id == admin.0.id {
        // The admin's own sessions ended with the change; this one included.
        return renewed_session(&auth, id, "/?notice=role-changed").await;
    }
    Ok(see_other("/users?notice=role-changed"))
}

pub async fn reset_password(
    admin: AdminUser,
    path: web::Path<i64>,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    if let Err(error) = password::check_new_password(&form.password) {
        return refused_change(&auth, &admin, error).await;
    }
    let hash = password::hash(form.password).await?;
    let mut conn = auth.pool.get().await?;
    if !User::set_password(&mut conn, id, &hash).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(user_id = %id, by = %admin.0.id, "password set by an admin");
    if id == admin.0.id {
        return renewed_session(&auth, id, "/users?notice=password-set").await;
    }
    Ok(see_other("/users?notice=password-set"))
}

pub async fn confirm_delete_user(
    admin: AdminUser,
    path: web::Path<i64>,
    auth: web::Data<Auth>,
) -> AppResult<HttpResponse> {
    let mut conn = auth.pool.get().await?;
    let target = User::find(&mut conn, UserId(path.into_inner())).await?.ok_or(AppError::NotFound)?;
    let AdminUser(admin) = admin;
    let page = DeleteUserPage {
        page: PageContext::new(&admin, Notice::default(), "users"),
        csrf_token: admin.csrf_token.clone(),
        target,
    };
    render(StatusCode::OK, &page)
}

pub async fn delete_user(
    admin: AdminUser,
    path: web::Path<i64>,
    auth: web::Data<Auth>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    let mut conn = auth.pool.get().await?;
    match User::delete(&mut conn, id).await {
        Ok(()) => {}
        Err(UserChangeError::NotFound) => return Err(AppError::NotFound),
        Err(UserChangeError::LastAdmin) => {
            return refused_change(&auth, &admin, UserChangeError::LastAdmin.to_string()).await;
        }
        Err(UserChangeError::Database(err)) => return Err(err.into()),
    }
    tracing::info!(user_id = %id, by = %admin.0.id, "user deleted");
    if id == admin.0.id {
        return Ok(see_other("/login"));
    }
    Ok(see_other("/users?notice=user-deleted"))
}
