//! Extractors that state what a handler needs: a signed-in user, an admin, a form that
//! passed the CSRF check.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::session::Claims;
use crate::db::users::{Role, UserId};
use crate::error::AppError;
use crate::startup::AppState;

/// The signed-in user of this request, as the database says now.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    /// The CSRF token every form of this session must carry.
    pub csrf_token: String,
    /// This Tidemark shows demo data: every page says so.
    pub demo: bool,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Put in the request extensions by [`super::middleware::load_session`] when the
/// session cookie is valid.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub user: CurrentUser,
    pub claims: Claims,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req.extensions().get::<ActiveSession>().map(|s| s.user.clone());
        ready(user.ok_or_else(|| AppError::login_required(req)))
    }
}

/// A signed-in admin. Viewers get 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            CurrentUser::from_request(req, payload)
                .into_inner()
                .and_then(|user| if user.is_admin() { Ok(AdminUser(user)) } else { Err(AppError::Forbidden) }),
        )
    }
}

/// A url-encoded form whose `csrf_token` field matched this session (or, on the sign-in
/// form, a fresh signed token), posted from this site's own pages.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            if !same_origin(&req) {
                return Err(AppError::CsrfRejected);
            }
            let bytes = body.await.map_err(|err| {
                if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest("The form could not be read.".into())
                }
            })?;
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            let token = fields.iter().find(|(name, _)| name == "csrf_token").map_or("", |(_, value)| value.as_str());
            let state =
                req.app_data::<web::Data<AppState>>().ok_or_else(|| AppError::internal("application state missing"))?;
            let valid = match req.extensions().get::<ActiveSession>() {
                Some(session) => state.csrf.verify_session_token(&session.claims.sid, token),
                None => state.csrf.verify_login_token(token),
            };
            if !valid {
                return Err(AppError::CsrfRejected);
            }
            let form = serde_urlencoded::from_bytes::<T>(&bytes)
                .map_err(|err| AppError::BadRequest(format!("The form is incomplete or malformed ({err}).")))?;
            Ok(CsrfForm(form))
        })
    }
}

/// Browsers say where a request comes from; refuse anything posted from another site.
/// Requests without these headers (old browsers, scripts) rely on the token alone.
fn same_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site")) {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()) else {
        return false;
    };
    let host = req.connection_info().host().to_owned();
    let Ok(expected) = url::Url::parse(&format!("{}://{host}", origin.scheme())) else {
        return false;
    };
    origin.host_str() == expected.host_str() && origin.port_or_known_default() == expected.port_or_known_default()
}
