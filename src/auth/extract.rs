//! Extractors that state what a handler needs: a signed-in user, an admin, a form that
//! passed the CSRF check.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::session::Claims;

use super::access::{CsrfChecked, UploadDeclared, token_is_valid};
use crate::domain::{Role, UserId};
use crate::error::AppError;

/// The signed-in user of this request, as the database says now.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    /// The CSRF token every form of this session must carry.
    pub csrf_token: String,
    /// This session's random id (what a Meta dialog's `state` is bound to).
    pub session_id: String,
    /// This Tidemark shows demo data: every page says so.
    pub demo: bool,
    /// A user without a second factor who must have one (an admin once another admin has
    /// one, or anyone when the operator requires it): only their own account's pages are
    /// open to them until they set one up.
    pub must_set_up_second_factor: bool,
    /// Inbox threads waiting for an answer, for the navigation (set on page requests).
    pub inbox_waiting: Option<i64>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Put in the request extensions by [`super::middleware::load_session`] when the session
/// cookie holds a sign-in form's id (the browser opened the sign-in page, nobody signed in).
#[derive(Debug, Clone)]
pub struct SignInBrowser {
    pub sid: String,
}

/// Put in the request extensions by [`super::middleware::load_session`] when the
/// session cookie is valid.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub user: CurrentUser,
    pub claims: Claims,
    /// The data version read with the session, for the pages of this request.
    pub data_version: i64,
    /// The read-only links' version read with the session.
    pub shares_version: i64,
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
/// form, a fresh signed token), posted from this site's own pages. The route table checks
/// the token ([`super::access::enforce`]); this extractor refuses to read a form on a route
/// that was not declared with that check.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = req.extensions().get::<CsrfChecked>().is_some();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !checked {
                return Err(AppError::internal("a form was read on a route the route table does not CSRF-check"));
            }
            let bytes = body.await.map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            let form = serde_urlencoded::from_bytes::<T>(&bytes)
                .map_err(|err| AppError::BadRequest(format!("The form is incomplete or malformed ({err}).")))?;
            Ok(CsrfForm(form))
        })
    }
}

/// A `multipart/form-data` form on a route declared `Upload`, whose first field was a valid
/// `csrf_token`; the handler reads the remaining fields (and files) from it as a stream.
pub struct CsrfUpload(pub actix_multipart::Multipart);

/// Longest CSRF token field read (tokens are far shorter).
const TOKEN_FIELD_LIMIT: usize = 512;

impl FromRequest for CsrfUpload {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use futures_util::StreamExt;
        let req = req.clone();
        let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
        Box::pin(async move {
            if req.extensions().get::<UploadDeclared>().is_none() {
                return Err(AppError::internal("an upload was read on a route the route table does not declare one"));
            }
            let auth =
                req.app_data::<web::Data<super::Auth>>().ok_or_else(|| AppError::internal("auth state missing"))?;
            // Not a multipart body, or a first field that is not the token: refused as forged.
            let Some(Ok(mut field)) = multipart.next().await else {
                return Err(AppError::CsrfRejected);
            };
            if field.name() != Some("csrf_token") {
                return Err(AppError::CsrfRejected);
            }
            let mut token = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|_| AppError::CsrfRejected)?;
                token.extend_from_slice(&chunk);
                if token.len() > TOKEN_FIELD_LIMIT {
                    return Err(AppError::CsrfRejected);
                }
            }
            let token = String::from_utf8(token).map_err(|_| AppError::CsrfRejected)?;
            if !token_is_valid(&req, auth, &token) {
                return Err(AppError::CsrfRejected);
            }
            Ok(CsrfUpload(multipart))
        })
    }
}
