//! The signed-in user's own page: change password, sign out everywhere.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::Auth;
use crate::auth::password;
use crate::auth::{CsrfForm, CurrentUser};
use crate::db::users::User;
use crate::domain::{Role, UserId};
use crate::error::{AppError, AppResult};

#[derive(Template)]
#[template(path = "me/index.html")]
struct MePage {
    page: PageContext,
    username: String,
    role: Role,
    csrf_token: String,
    error: Option<String>,
}

impl MePage {
    fn new(user: &CurrentUser, notice: Notice, error: Option<String>) -> Self {
        Self {
            page: PageContext::new(user, notice, "me"),
            username: user.username.clone(),
            role: user.role,
            csrf_token: user.csrf_token.clone(),
            error,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn me_page(user: CurrentUser, notice: Notice) -> AppResult<HttpResponse> {
    render(StatusCode::OK, &MePage::new(&user, notice, None))
}

pub async fn change_password(
    req: HttpRequest,
    user: CurrentUser,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let refuse = |error: &str| {
        render(StatusCode::UNPROCESSABLE_ENTITY, &MePage::new(&user, Notice::default(), Some(error.to_owned())))
    };
    let address = req.peer_addr().map(|addr| addr.ip());
    if auth.throttle.check(address, &user.username).is_err() {
        return refuse("Too many wrong passwords. Wait a few minutes and try again.");
    }
    let mut conn = auth.pool.get().await?;
    let stored = User::find(&mut conn, user.id).await?.ok_or(AppError::NotFound)?;
    if !password::verify(form.current_password, stored.password_hash).await {
        auth.throttle.record_failure(address, &user.username);
        return refuse("Your current password is not right.");
    }
    if form.new_password != form.confirm_password {
        return refuse("The two new passwords differ.");
    }
    if let Err(problem) = password::check_new_password(&form.new_password) {
        return refuse(&problem);
    }
    let hash = password::hash(form.new_password).await?;
    User::set_password(&mut conn, user.id, &hash).await?;
    tracing::info!(user_id = %user.id, "password changed");
    renewed_session(&auth, user.id, "/me?notice=password-changed").await
}

pub async fn sign_out_everywhere(
    user: CurrentUser,
    auth: web::Data<Auth>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let mut conn = auth.pool.get().await?;
    User::end_sessions(&mut conn, user.id).await?;
    tracing::info!(user_id = %user.id, "signed out everywhere");
    let mut response = see_other("/login?notice=signed-out-everywhere");
    response
        .add_cookie(&auth.sessions.removal_cookie())
        .map_err(|err| anyhow::anyhow!("cannot clear the session cookie: {err}"))?;
    Ok(response)
}

/// After the user's own session version changed: a new session for this browser only,
/// so changing one's own password does not sign one out here.
pub async fn renewed_session(auth: &Auth, id: UserId, location: &str) -> AppResult<HttpResponse> {
    let mut conn = auth.pool.get().await?;
    let user = User::find(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    let mut response = see_other(location);
    response
        .add_cookie(&auth.sessions.cookie(&auth.sessions.begin(&user)))
        .map_err(|err| anyhow::anyhow!("cannot set the session cookie: {err}"))?;
    Ok(response)
}
