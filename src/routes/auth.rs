//! Signing in and out.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::extract::{ActiveSession, SignInBrowser};
use crate::auth::{Auth, ClientInfo, CredentialsRefused, CsrfForm, CurrentUser};
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
    let retry = |status: StatusCode, error: String| {
        let page = LoginPage {
            page: PageContext::anonymous(Notice::default(), auth.demo),
            csrf_token: retry_token.clone(),
            next: safe_next(&form.next).to_owned(),
            username: Auth::throttle_key(&form.username),
            error: Some(error),
        };
        render(status, &page)
    };
    match auth.sign_in(address, &form.username, form.password.clone()).await {
        Ok(user) => {
            // Signing in again from a signed-in browser replaces its session (ASVS 7.2.4).
            let previous = req.extensions().get::<ActiveSession>().map(|s| (s.claims.sid.clone(), s.user.id));
            if let Some((sid, owner)) = previous {
                auth.end_session(&sid, owner).await?;
            }
            let mut response = see_other(safe_next(&form.next));
            response
                .add_cookie(&auth.start_session(&user, &ClientInfo::of(&req)).await?)
                .map_err(|err| anyhow::anyhow!("cannot set the session cookie: {err}"))?;
            Ok(response)
        }
        Err(CredentialsRefused::Throttled(wait)) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            retry(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many failed sign-in attempts. Try again in {minutes} minute(s)."),
            )
        }
        Err(CredentialsRefused::Wrong) => retry(StatusCode::UNAUTHORIZED, LOGIN_FAILED.to_owned()),
        Err(CredentialsRefused::Database(err)) => Err(err.into()),
    }
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
