//! The signed-in user's own page: change password, sign out everywhere.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{Auth, CredentialsRefused, CsrfForm, CurrentUser};
use crate::domain::{Role, UserId};
use crate::error::{AppError, AppResult};
use crate::services::Users;
use crate::services::users::UserRefused;

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
    users: web::Data<Users>,
    CsrfForm(form): CsrfForm<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let refuse = |error: &str| {
        render(StatusCode::UNPROCESSABLE_ENTITY, &MePage::new(&user, Notice::default(), Some(error.to_owned())))
    };
    let address = req.peer_addr().map(|addr| addr.ip());
    match auth.check_own_password(address, &user, form.current_password).await {
        Ok(()) => {}
        Err(CredentialsRefused::Throttled(_)) => {
            return refuse("Too many wrong passwords. Wait a few minutes and try again.");
        }
        Err(CredentialsRefused::Wrong) => return refuse("Your current password is not right."),
        Err(CredentialsRefused::Database(err)) => return Err(err.into()),
    }
    if form.new_password != form.confirm_password {
        return refuse("The two new passwords differ.");
    }
    match users.set_password(user.id, form.new_password).await {
        Ok(()) => {}
        Err(UserRefused::Invalid(problem)) => return refuse(&problem),
        Err(other) => return Err(refusal_error(other)),
    }
    tracing::info!(user_id = %user.id, "password changed by its user");
    renewed_session(&auth, user.id, "/me?notice=password-changed").await
}

pub async fn sign_out_everywhere(
    user: CurrentUser,
    auth: web::Data<Auth>,
    users: web::Data<Users>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    users.end_sessions(user.id).await?;
    let mut response = see_other("/login?notice=signed-out-everywhere");
    response
        .add_cookie(&auth.sessions.removal_cookie())
        .map_err(|err| anyhow::anyhow!("cannot clear the session cookie: {err}"))?;
    Ok(response)
}

/// After the user's own session version changed: a new session for this browser only,
/// so changing one's own password does not sign one out here.
pub async fn renewed_session(auth: &Auth, id: UserId, location: &str) -> AppResult<HttpResponse> {
    let cookie = auth.renewed_cookie(id).await?.ok_or(AppError::NotFound)?;
    let mut response = see_other(location);
    response.add_cookie(&cookie).map_err(|err| anyhow::anyhow!("cannot set the session cookie: {err}"))?;
    Ok(response)
}

/// A refusal no form can explain: gone (404) or broken (500).
pub fn refusal_error(refused: UserRefused) -> AppError {
    match refused {
        UserRefused::NotFound => AppError::NotFound,
        UserRefused::Database(err) => err.into(),
        other => AppError::Internal(anyhow::Error::new(other)),
    }
}
