//! Signing in and out.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::Auth;
use crate::auth::extract::ActiveSession;
use crate::auth::password::{self, MAX_PASSWORD_BYTES};
use crate::auth::{CsrfForm, CurrentUser};
use crate::db::users::{MAX_USERNAME_CHARS, User, normalize_username};
use crate::error::AppResult;

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
    let page = LoginPage {
        page: PageContext::anonymous(notice, auth.demo),
        csrf_token: auth.csrf.login_token(),
        next: next.to_owned(),
        username: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn login(
    req: HttpRequest,
    auth: web::Data<Auth>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let address = req.peer_addr().map(|addr| addr.ip());
    // The throttle key must stay bounded whatever was typed.
    let username: String = form.username.trim().to_ascii_lowercase().chars().take(MAX_USERNAME_CHARS + 1).collect();
    let retry = |status: StatusCode, error: String| {
        let page = LoginPage {
            page: PageContext::anonymous(Notice::default(), auth.demo),
            csrf_token: auth.csrf.login_token(),
            next: safe_next(&form.next).to_owned(),
            username: username.clone(),
            error: Some(error),
        };
        render(status, &page)
    };

    if let Err(wait) = auth.throttle.check(address, &username) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return retry(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-in attempts. Try again in {minutes} minute(s)."),
        );
    }

    let user = match normalize_username(&username) {
        Ok(name) => {
            let mut conn = auth.pool.get().await?;
            User::find_by_username(&mut conn, &name).await?
        }
        Err(_) => None,
    };
    // Unknown users are checked against a dummy hash so both failures take as long.
    let hash = user.as_ref().map_or_else(|| auth.dummy_hash.clone(), |u| u.password_hash.clone());
    let within_limit = form.password.len() <= MAX_PASSWORD_BYTES;
    let matches = password::verify(form.password.clone(), hash).await;
    let user = match user {
        Some(user) if matches && within_limit => user,
        known => {
            auth.throttle.record_failure(address, &username);
            // What was typed is not logged: people type passwords into the username field.
            tracing::info!(user_id = known.map(|u| u.id.0), "sign-in failed");
            return retry(StatusCode::UNAUTHORIZED, LOGIN_FAILED.to_owned());
        }
    };

    auth.throttle.record_success(&username);
    tracing::info!(user_id = %user.id, "signed in");
    let cookie = auth.sessions.cookie(&auth.sessions.begin(&user));
    let mut response = see_other(safe_next(&form.next));
    response.add_cookie(&cookie).map_err(|err| anyhow::anyhow!("cannot set the session cookie: {err}"))?;
    Ok(response)
}

pub async fn logout(user: CurrentUser, auth: web::Data<Auth>, _form: CsrfForm<EmptyForm>) -> AppResult<HttpResponse> {
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
