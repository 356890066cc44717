//! The signed-in user's own page: change password, the second factor (set up, replace,
//! recovery codes, turn off), the sessions open on every device (each can be ended), sign
//! out everywhere.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{Auth, ClientInfo, CredentialsRefused, CsrfForm, CurrentUser};
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::services::second_factor::{self, CodeRefused, TurnOffRefused};
use crate::services::users::UserRefused;
use crate::services::views::format::when_in;
use crate::services::{SecondFactor, Users};

#[derive(Template)]
#[template(path = "me/index.html")]
struct MePage {
    page: PageContext,
    username: String,
    role: Role,
    csrf_token: String,
    error: Option<String>,
    second_factor: second_factor::Status,
    second_factor_error: Option<String>,
    sessions: Vec<SessionView>,
}

#[derive(Template)]
#[template(path = "me/recovery_codes.html")]
struct RecoveryCodesPage {
    page: PageContext,
    /// The second factor was just turned on (rather than its codes replaced).
    turned_on: bool,
    codes: Vec<String>,
}

/// What went wrong on the page, and in which part of it.
enum Problem {
    Password(String),
    SecondFactor(String),
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
    second_factor: &SecondFactor,
    notice: Notice,
    status: StatusCode,
    problem: Option<Problem>,
) -> AppResult<HttpResponse> {
    let (sessions, tz) = users.sessions(user.id).await?;
    let when = |at: chrono::DateTime<chrono::Utc>| when_in(Some(at), tz);
    let sessions = sessions
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
    let (error, second_factor_error) = match problem {
        Some(Problem::Password(text)) => (Some(text), None),
        Some(Problem::SecondFactor(text)) => (None, Some(text)),
        None => (None, None),
    };
    let page = MePage {
        page: PageContext::new(user, notice, "me"),
        username: user.username.clone(),
        role: user.role,
        csrf_token: user.csrf_token.clone(),
        error,
        second_factor: second_factor.status(user.id, &user.username, user.role).await?,
        second_factor_error,
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

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    code: String,
    current_password: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current_password: String,
}

pub async fn me_page(
    user: CurrentUser,
    notice: Notice,
    users: web::Data<Users>,
    second_factor: web::Data<SecondFactor>,
) -> AppResult<HttpResponse> {
    me(&user, &users, &second_factor, notice, StatusCode::OK, None).await
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
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let refuse = |error: &str| {
        me(
            &user,
            &users,
            &second_factor,
            Notice::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(Problem::Password(error.to_owned())),
        )
    };
    if let Err(problem) = check_password(&req, &auth, &user, form.current_password).await? {
        return refuse(&problem).await;
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

/// Confirms the secret being set up with a code from the app (and the password, as for
/// every change to how the user signs in): the second factor is on, and the user sees their
/// recovery codes, once.
pub async fn confirm_second_factor(
    req: HttpRequest,
    user: CurrentUser,
    auth: web::Data<Auth>,
    users: web::Data<Users>,
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<HttpResponse> {
    let refuse = |status: StatusCode, error: &str| {
        me(&user, &users, &second_factor, Notice::default(), status, Some(Problem::SecondFactor(error.to_owned())))
    };
    if let Some(refused) = password_first(&req, &auth, &users, &second_factor, &user, form.current_password).await? {
        return Ok(refused);
    }
    match second_factor.confirm(user.id, &form.code).await {
        Ok(codes) => recovery_codes_page(&user, true, codes),
        Err(CodeRefused::Wrong { .. }) => {
            refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "That code is not right. Check that your phone's clock is set automatically and enter the code the app shows now.",
            )
            .await
        }
        Err(CodeRefused::Throttled(_)) => {
            refuse(StatusCode::TOO_MANY_REQUESTS, "Too many wrong codes. Wait a few minutes and try again.").await
        }
        Err(CodeRefused::NothingToConfirm | CodeRefused::SignInEnded) => {
            refuse(StatusCode::CONFLICT, "That set-up expired or was finished in another tab. Scan the code shown now.")
                .await
        }
        Err(CodeRefused::Database(err)) => Err(err.into()),
        Err(CodeRefused::Sealed(err)) => Err(anyhow::Error::new(err).context("a second-factor secret").into()),
    }
}

/// Shows a new secret for moving the second factor to another app (password first).
pub async fn replace_authenticator(
    req: HttpRequest,
    user: CurrentUser,
    auth: web::Data<Auth>,
    users: web::Data<Users>,
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    if let Some(refused) = password_first(&req, &auth, &users, &second_factor, &user, form.current_password).await? {
        return Ok(refused);
    }
    second_factor.start_replacement(user.id).await?;
    Ok(see_other("/me?notice=authenticator-replacing#two-step"))
}

/// New recovery codes in place of the old ones (password first).
pub async fn new_recovery_codes(
    req: HttpRequest,
    user: CurrentUser,
    auth: web::Data<Auth>,
    users: web::Data<Users>,
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    if let Some(refused) = password_first(&req, &auth, &users, &second_factor, &user, form.current_password).await? {
        return Ok(refused);
    }
    let codes = second_factor.new_recovery_codes(user.id).await?;
    recovery_codes_page(&user, false, codes)
}

/// Turns the user's own second factor off (password first); admins cannot where it is
/// required.
pub async fn turn_off_second_factor(
    req: HttpRequest,
    user: CurrentUser,
    auth: web::Data<Auth>,
    users: web::Data<Users>,
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    if let Some(refused) = password_first(&req, &auth, &users, &second_factor, &user, form.current_password).await? {
        return Ok(refused);
    }
    match second_factor.turn_off(user.id, user.role).await {
        Ok(()) => Ok(see_other("/me?notice=second-factor-off")),
        Err(TurnOffRefused::Required) => {
            let problem = "On this Tidemark you must keep a second factor. You can move it to another app instead.";
            let problem = Some(Problem::SecondFactor(problem.to_owned()));
            me(&user, &users, &second_factor, Notice::default(), StatusCode::CONFLICT, problem).await
        }
        Err(TurnOffRefused::Database(err)) => Err(err.into()),
    }
}

/// The recovery codes, shown this once and never cached.
fn recovery_codes_page(user: &CurrentUser, turned_on: bool, codes: Vec<String>) -> AppResult<HttpResponse> {
    let page = RecoveryCodesPage { page: PageContext::new(user, Notice::default(), "me"), turned_on, codes };
    let mut response = render(StatusCode::OK, &page)?;
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Asks for the password before a change to the second factor: `Some` is the account page
/// saying what was wrong (422), to answer instead.
async fn password_first(
    req: &HttpRequest,
    auth: &Auth,
    users: &Users,
    second_factor: &SecondFactor,
    user: &CurrentUser,
    password: String,
) -> AppResult<Option<HttpResponse>> {
    match check_password(req, auth, user, password).await? {
        Ok(()) => Ok(None),
        Err(problem) => {
            let problem = Some(Problem::SecondFactor(problem));
            Ok(Some(
                me(user, users, second_factor, Notice::default(), StatusCode::UNPROCESSABLE_ENTITY, problem).await?,
            ))
        }
    }
}

/// Checks the user's own password before a sensitive change; `Ok(Err(text))` says what to
/// show when it is refused.
async fn check_password(
    req: &HttpRequest,
    auth: &Auth,
    user: &CurrentUser,
    password: String,
) -> AppResult<Result<(), String>> {
    match auth.check_own_password(auth.client_ip(req), user, password).await {
        Ok(()) => Ok(Ok(())),
        Err(CredentialsRefused::Throttled(_)) => {
            Ok(Err("Too many wrong passwords. Wait a few minutes and try again.".to_owned()))
        }
        Err(CredentialsRefused::Wrong) => Ok(Err("Your current password is not right.".to_owned())),
        Err(CredentialsRefused::Database(err)) => Err(err.into()),
    }
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
