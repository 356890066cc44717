//! User management, for admins: list, add, change role, set a password, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::me::{refusal_error, renewed_session};
use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, Auth, CsrfForm};
use crate::db::users::User;
use crate::domain::{Role, UserId};
use crate::error::{AppError, AppResult};
use crate::services::Users;
use crate::services::users::UserRefused;

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
    users: &Users,
    AdminUser(admin): &AdminUser,
    status: StatusCode,
    notice: Notice,
    errors: (Option<String>, Option<String>),
    typed: (String, String),
) -> AppResult<HttpResponse> {
    let (error, form_error) = errors;
    let (form_username, form_role) = typed;
    let page = UsersPage {
        page: PageContext::new(admin, notice, "users"),
        csrf_token: admin.csrf_token.clone(),
        page_user_id: admin.id,
        users: users.list().await?,
        error,
        form_error,
        form_username,
        form_role,
    };
    render(status, &page)
}

/// A refused change to an existing user: explained on the page when it can be.
async fn refused_change(users: &Users, admin: &AdminUser, refused: UserRefused) -> AppResult<HttpResponse> {
    let error = match refused {
        UserRefused::Invalid(problem) => problem,
        UserRefused::LastAdmin => UserRefused::LastAdmin.to_string(),
        other => return Err(refusal_error(other)),
    };
    let (status, notice) = (StatusCode::UNPROCESSABLE_ENTITY, Notice::default());
    users_page(users, admin, status, notice, (Some(error), None), Default::default()).await
}

const CHOOSE_ROLE: &str = "Choose a role: admin or viewer.";

pub async fn list_users(admin: AdminUser, notice: Notice, users: web::Data<Users>) -> AppResult<HttpResponse> {
    users_page(&users, &admin, StatusCode::OK, notice, (None, None), (String::new(), "viewer".into())).await
}

pub async fn create_user(
    admin: AdminUser,
    users: web::Data<Users>,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> AppResult<HttpResponse> {
    let typed = (form.username.chars().take(64).collect::<String>(), form.role.clone());
    let refuse = |error: String| {
        let (status, notice) = (StatusCode::UNPROCESSABLE_ENTITY, Notice::default());
        users_page(&users, &admin, status, notice, (None, Some(error)), typed.clone())
    };
    let Ok(role) = form.role.parse::<Role>() else {
        return refuse(CHOOSE_ROLE.into()).await;
    };
    match users.create(&form.username, role, form.password).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, by = %admin.0.id, "user added by an admin");
            Ok(see_other("/users?notice=user-created"))
        }
        Err(UserRefused::Invalid(problem)) => refuse(problem).await,
        Err(UserRefused::Taken(username)) => refuse(format!("The username {username} is taken.")).await,
        Err(other) => Err(refusal_error(other)),
    }
}

pub async fn change_role(
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    users: web::Data<Users>,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    let Ok(role) = form.role.parse::<Role>() else {
        return refused_change(&users, &admin, UserRefused::Invalid(CHOOSE_ROLE.into())).await;
    };
    if let Err(refused) = users.set_role(id, role).await {
        return refused_change(&users, &admin, refused).await;
    }
    tracing::info!(user_id = %id, by = %admin.0.id, "role changed by an admin");
    if id == admin.0.id {
        // The admin's own sessions ended with the change; this one included.
        return renewed_session(&auth, &admin.0, &req, "/?notice=role-changed").await;
    }
    Ok(see_other("/users?notice=role-changed"))
}

pub async fn reset_password(
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    users: web::Data<Users>,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    if let Err(refused) = users.set_password(id, form.password).await {
        return refused_change(&users, &admin, refused).await;
    }
    tracing::info!(user_id = %id, by = %admin.0.id, "password set by an admin");
    if id == admin.0.id {
        return renewed_session(&auth, &admin.0, &req, "/users?notice=password-set").await;
    }
    Ok(see_other("/users?notice=password-set"))
}

/// Removes another user's second factor (they lost their phone and their recovery codes).
/// An admin's own is changed on their account page, where the rule for admins applies.
pub async fn reset_second_factor(
    admin: AdminUser,
    path: web::Path<i64>,
    users: web::Data<Users>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    if id == admin.0.id {
        return Err(AppError::Conflict("Change your own second factor on your account page.".into()));
    }
    users.find(id).await?.ok_or(AppError::NotFound)?;
    users.reset_second_factor(id).await?;
    tracing::info!(user_id = %id, by = %admin.0.id, "second factor removed by an admin");
    Ok(see_other("/users?notice=second-factor-reset"))
}

pub async fn confirm_delete_user(
    admin: AdminUser,
    path: web::Path<i64>,
    users: web::Data<Users>,
) -> AppResult<HttpResponse> {
    let target = users.find(UserId(path.into_inner())).await?.ok_or(AppError::NotFound)?;
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
    users: web::Data<Users>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = UserId(path.into_inner());
    if let Err(refused) = users.delete(id).await {
        return refused_change(&users, &admin, refused).await;
    }
    tracing::info!(user_id = %id, by = %admin.0.id, "user deleted by an admin");
    if id == admin.0.id {
        return Ok(see_other("/login"));
    }
    Ok(see_other("/users?notice=user-deleted"))
}
