//! Reads the session cookie on every request, checks it against the database (or the sessions
//! kept in memory, see `kept_sessions`), and keeps an active session's cookie fresh.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

use super::Auth;
use super::extract::{ActiveSession, CurrentUser, SignInBrowser};
use super::session::Claims;
use chrono::Utc;

use crate::error::AppError;

/// Paths that never need to know who is asking (and must not touch the database for it).
fn is_sessionless(path: &str) -> bool {
    path.starts_with("/static/") || matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.ico")
}

enum CookieState {
    Absent,
    Valid(Claims),
    Invalid,
}

pub async fn load_session(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req.app_data::<web::Data<Auth>>().cloned();
    let cookie = state.as_ref().and_then(|auth| req.cookie(auth.sessions.cookie_name()));
    let mut cookie_state = CookieState::Absent;
    if let (Some(state), Some(cookie)) = (&state, cookie)
        && !is_sessionless(req.path())
    {
        cookie_state = CookieState::Invalid;
        let claims = state.sessions.decode(cookie.value());
        if let Some(claims) = claims.as_ref().filter(|claims| claims.user_id().is_none()) {
            // A sign-in form's id: kept as it is, neither renewed nor removed.
            req.extensions_mut().insert(SignInBrowser { sid: claims.sid.clone() });
            cookie_state = CookieState::Absent;
        } else if let Some(claims) = claims
            && let Some(user_id) = claims.user_id()
        {
            let now = Utc::now();
            let live = state.live_session(&claims.sid, now).await.map_err(AppError::from)?;
            if let Some(live) = live.filter(|l| l.user.id == user_id && l.user.session_version == claims.ver) {
                let (data_version, shares_version) = (live.data_version, live.shares_version);
                let user = live.user;
                let must_set_up_second_factor = live.second_factor_required && user.second_factor_since.is_none();
                if state.sessions.wants_refresh(&claims) && state.sessions.wants_touch(live.last_seen_at) {
                    state.touch_session(&claims.sid, now).await.map_err(AppError::from)?;
                }
                req.extensions_mut().insert(ActiveSession {
                    user: CurrentUser {
                        id: user.id,
                        username: user.username,
                        role: user.role,
                        csrf_token: state.csrf.session_token(&claims.sid),
                        session_id: claims.sid.clone(),
                        demo: state.demo,
                        must_set_up_second_factor,
                        inbox_waiting: None,
                    },
                    claims: claims.clone(),
                    data_version,
                    shares_version,
                });
                cookie_state = CookieState::Valid(claims);
            }
        }
    }

    let mut res = next.call(req).await?;

    // Sign-in, sign-out and password changes set the cookie themselves.
    let handler_set_cookie =
        state.as_ref().is_some_and(|auth| res.response().cookies().any(|c| c.name() == auth.sessions.cookie_name()));
    if let (Some(state), false) = (state, handler_set_cookie) {
        let cookie = match cookie_state {
            CookieState::Valid(claims) if state.sessions.wants_refresh(&claims) => {
                Some(state.sessions.cookie(&state.sessions.extend(claims)))
            }
            CookieState::Invalid => Some(state.sessions.removal_cookie()),
            _ => None,
        };
        if let Some(cookie) = cookie {
            res.response_mut().add_cookie(&cookie)?;
        }
    }
    Ok(res)
}
