//! Signing in and out: the password, then (for a user with a second factor) the code.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::extract::{ActiveSession, SignInBrowser};
use crate::auth::{Auth, ClientInfo, CredentialsRefused, CsrfForm, CurrentUser};
use crate::db::users::User;
use crate::error::AppResult;
use crate::services::SecondFactor;
use crate::services::second_factor::CodeRefused;

/// Both an unknown user and a wrong password get exactly this.
const LOGIN_FAILED: &str = "Wrong username or password.";

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    page: PageContext,
    csrf_token: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/code.html")]
struct CodePage {
    page: PageContext,
    csrf_token: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login_form(
    req: HttpRequest,
    notice: Notice,
    query: web::Query<LoginQuery>,
    auth: web::Data<Auth>,
) -> AppResult<HttpResponse> {
    let next = safe_next(query.next.as_deref().unwrap_or("/"));
    if req.extensions().get::<ActiveSession>().is_some() {
        return Ok(see_other(next));
    }
    // The form's token is bound to a sign-in id this browser keeps in the session cookie.
    let known = req.extensions().get::<SignInBrowser>().map(|browser| browser.sid.clone());
    let claims = auth.sessions.sign_in_form(known);
    let page = LoginPage {
        page: PageContext::anonymous(notice, auth.demo),
        csrf_token: auth.csrf.login_token(&claims.sid),
        next: next.to_owned(),
        username: String::new(),
        error: None,
    };
    let mut response = render(StatusCode::OK, &page)?;
    response
        .add_cookie(&auth.sessions.cookie(&claims))
        .map_err(|err| anyhow::anyhow!("cannot set the sign-in cookie: {err}"))?;
    Ok(response)
}

pub async fn login(
    req: HttpRequest,
    auth: web::Data<Auth>,
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let address = auth.client_ip(&req);
    // The route table accepted the form, so the browser has a sign-in id, or a session when
    // signing in again; the retry form carries the token the route table will ask for.
    let retry_token = match (req.extensions().get::<SignInBrowser>(), req.extensions().get::<ActiveSession>()) {
        (Some(browser), _) => auth.csrf.login_token(&browser.sid),
        (None, Some(session)) => session.user.csrf_token.clone(),
        (None, None) => String::new(),
    };
    // The retry form's token is good for another full period, so the sign-in cookie that
    // carries its id is too (it would otherwise keep the first page's expiry).
    let sign_in_cookie = req
        .extensions()
        .get::<SignInBrowser>()
        .map(|browser| auth.sessions.cookie(&auth.sessions.sign_in_form(Some(browser.sid.clone()))));
    let retry = |status: StatusCode, error: String| -> AppResult<HttpResponse> {
        let page = LoginPage {
            page: PageContext::anonymous(Notice::default(), auth.demo),
            csrf_token: retry_token.clone(),
            next: safe_next(&form.next).to_owned(),
            username: Auth::throttle_key(&form.username),
            error: Some(error),
        };
        let mut response = render(status, &page)?;
        if let Some(cookie) = &sign_in_cookie {
            response.add_cookie(cookie).map_err(|err| anyhow::anyhow!("cannot set the sign-in cookie: {err}"))?;
        }
        Ok(response)
    };
    match auth.sign_in(address, &form.username, form.password.clone()).await {
        Ok(user) => {
            // Signing in again from a signed-in browser replaces its session (ASVS 7.2.4).
            let previous = req.extensions().get::<ActiveSession>().map(|s| (s.claims.sid.clone(), s.user.id));
            if let Some((sid, owner)) = previous {
                auth.end_session(&sid, owner).await?;
            }
            let next = safe_next(&form.next);
            if user.second_factor_since.is_some() {
                // No session yet: the browser keeps the waiting sign-in's id, and the code
                // form's token is bound to it.
                let waiting = second_factor.begin_sign_in(&user, next).await?;
                let mut response = see_other("/login/code");
                response
                    .add_cookie(&auth.sessions.cookie(&auth.sessions.sign_in_form(Some(waiting))))
                    .map_err(|err| anyhow::anyhow!("cannot set the sign-in cookie: {err}"))?;
                return Ok(response);
            }
            session_response(&auth, &user, &req, next).await
        }
        Err(CredentialsRefused::Throttled(wait)) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            retry(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            )
        }
        Err(CredentialsRefused::Wrong) => retry(StatusCode::UNAUTHORIZED, LOGIN_FAILED.to_owned()),
        Err(CredentialsRefused::Database(err)) => Err(err.into()),
    }
}

/// The code step of a sign-in: shown while the browser's sign-in is waiting for its code.
pub async fn code_form(
    req: HttpRequest,
    auth: web::Data<Auth>,
    second_factor: web::Data<SecondFactor>,
) -> AppResult<HttpResponse> {
    let Some(sid) = waiting_sign_in(&req, &second_factor).await? else {
        return Ok(see_other("/login?notice=sign-in-ended"));
    };
    let page = CodePage {
        page: PageContext::anonymous(Notice::default(), auth.demo),
        csrf_token: auth.csrf.login_token(&sid),
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// Checks the code; a right one starts the session.
pub async fn submit_code(
    req: HttpRequest,
    auth: web::Data<Auth>,
    second_factor: web::Data<SecondFactor>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> AppResult<HttpResponse> {
    // The route table checked the form's token against this browser's sign-in id.
    let Some(sid) = req.extensions().get::<SignInBrowser>().map(|browser| browser.sid.clone()) else {
        return Ok(see_other("/login?notice=sign-in-ended"));
    };
    let retry = |status: StatusCode, error: String| {
        let page = CodePage {
            page: PageContext::anonymous(Notice::default(), auth.demo),
            csrf_token: auth.csrf.login_token(&sid),
            error: Some(error),
        };
        render(status, &page)
    };
    match second_factor.finish_sign_in(&sid, &form.code).await {
        Ok((user, next)) => {
            tracing::info!(user_id = %user.id, "signed in with a second factor");
            session_response(&auth, &user, &req, safe_next(&next)).await
        }
        Err(CodeRefused::Wrong { tries_left }) => {
            let left = tries_left
                .map(|n| {
                    let tries = if n == 1 { "try" } else { "tries" };
                    format!(" {n} more {tries}, then you start again with your password.")
                })
                .unwrap_or_default();
            retry(StatusCode::UNAUTHORIZED, format!("That code is not right, or it was already used.{left}"))
        }
        Err(CodeRefused::Throttled(wait)) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            retry(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many wrong codes for this account. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            )
        }
        Err(CodeRefused::SignInEnded | CodeRefused::NothingToConfirm) => Ok(see_other("/login?notice=sign-in-ended")),
        Err(CodeRefused::Database(err)) => Err(err.into()),
        Err(CodeRefused::Sealed(err)) => Err(anyhow::Error::new(err).context("a second-factor secret").into()),
    }
}

/// The id of this browser's sign-in, if it is waiting for its code.
async fn waiting_sign_in(req: &HttpRequest, second_factor: &SecondFactor) -> AppResult<Option<String>> {
    let sid = req.extensions().get::<SignInBrowser>().map(|browser| browser.sid.clone());
    match sid {
        Some(sid) if second_factor.sign_in_waiting(&sid).await? => Ok(Some(sid)),
        _ => Ok(None),
    }
}

/// Starts `user`'s session in this browser and sends it on to `next`.
async fn session_response(auth: &Auth, user: &User, req: &HttpRequest, next: &str) -> AppResult<HttpResponse> {
    let mut response = see_other(next);
    response
        .add_cookie(&auth.start_session(user, &ClientInfo::of(req)).await?)
        .map_err(|err| anyhow::anyhow!("cannot set the session cookie: {err}"))?;
    Ok(response)
}

pub async fn logout(user: CurrentUser, auth: web::Data<Auth>, _form: CsrfForm<EmptyForm>) -> AppResult<HttpResponse> {
    // The row goes: a copy of the cookie is worth nothing from now on.
    auth.end_session(&user.session_id, user.id).await?;
    tracing::info!(user_id = %user.id, "signed out");
    let mut response = see_other("/login?notice=signed-out");
    response
        .add_cookie(&auth.sessions.removal_cookie())
        .map_err(|err| anyhow::anyhow!("cannot clear the session cookie: {err}"))?;
    Ok(response)
}

/// Where to go after signing in: only a path on this site, never another host.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if local { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/users?x=1"), "/users?x=1");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\nSet-Cookie: x"), "/");
    }
}
