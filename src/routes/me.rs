//! The signed-in user's own page: change password, the sessions open on every device (each
//! can be ended), sign out everywhere.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{Auth, ClientInfo, CredentialsRefused, CsrfForm, CurrentUser};
use crate::domain::Role;
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
    sessions: Vec<SessionView>,
}

/// An open session as the list shows it.
pub struct SessionView {
    pub id: String,
    pub this_one: bool,
    pub started: String,
    pub last_seen: String,
    pub device: String,
    pub address: String,
}

/// The page, with the user's open sessions.
async fn me(
    user: &CurrentUser,
    users: &Users,
    notice: Notice,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let sessions = users
        .sessions(user.id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            this_one: s.id == user.session_id,
            started: when(s.created_at),
            last_seen: when(s.last_seen_at),
            device: if s.user_agent.is_empty() { "unknown".to_owned() } else { s.user_agent },
            address: s.address,
            id: s.id,
        })
        .collect();
    let page = MePage {
        page: PageContext::new(user, notice, "me"),
        username: user.username.clone(),
        role: user.role,
        csrf_token: user.csrf_token.clone(),
        error,
        sessions,
    };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn me_page(user: CurrentUser, notice: Notice, users: web::Data<Users>) -> AppResult<HttpResponse> {
    me(&user, &users, notice, StatusCode::OK, None).await
}

/// Ends one of the user's sessions (another device, or this one).
pub async fn end_session(
    user: CurrentUser,
    path: web::Path<String>,
    auth: web::Data<Auth>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    if !auth.end_session(&id, user.id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(user_id = %user.id, "a session ended from the sessions list");
    if id == user.session_id {
        let mut response = see_other("/login?notice=signed-out");
        response
            .add_cookie(&auth.sessions.removal_cookie())
            .map_err(|err| anyhow::anyhow!("cannot clear the session cookie: {err}"))?;
        return Ok(response);
    }
    Ok(see_other("/me?notice=session-ended"))
}

pub async fn change_password(
    req: HttpRequest,
    user: CurrentUser,
    auth: web::Data<Auth>,
    users: web::Data<Users>,
    CsrfForm(form): CsrfForm<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let refuse =
        |error: &str| me(&user, &users, Notice::default(), StatusCode::UNPROCESSABLE_ENTITY, Some(error.to_owned()));
    let address = auth.client_ip(&req);
    match auth.check_own_password(address, &user, form.current_password).await {
        Ok(()) => {}
        Err(CredentialsRefused::Throttled(_)) => {
            return refuse("Too many wrong passwords. Wait a few minutes and try again.").await;
        }
        Err(CredentialsRefused::Wrong) => return refuse("Your current password is not right.").await,
        Err(CredentialsRefused::Database(err)) => return Err(err.into()),
    }
    if form.new_password != form.confirm_password {
        return refuse("The two new passwords differ.").await;
    }
    match users.set_password(user.id, form.new_password).await {
        Ok(()) => {}
        Err(UserRefused::Invalid(problem)) => return refuse(&problem).await,
        Err(other) => return Err(refusal_error(other)),
    }
    tracing::info!(user_id = %user.id, "password changed by its user");
    renewed_session(&auth, &user, &req, "/me?notice=password-changed").await
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
pub async fn renewed_session(
    auth: &Auth,
    user: &CurrentUser,
    req: &HttpRequest,
    location: &str,
) -> AppResult<HttpResponse> {
    let cookie =
        auth.renewed_cookie(user.id, &user.session_id, &ClientInfo::of(req)).await?.ok_or(AppError::NotFound)?;
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
