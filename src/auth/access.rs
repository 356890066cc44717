//! The checks the route table applies to every route before its handler runs: who may use
//! it, and whether a state-changing request must carry this session's CSRF token. A route
//! cannot be registered without both (see `routes::ROUTE_TABLE`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};

use super::Auth;
use super::api_tokens::{ApiCaller, ApiRefusal, ApiTokens, AuthorizeError};
use super::extract::{ActiveSession, SignInBrowser};
use crate::domain::{ApiScope, Role};
use crate::error::{AppError, Problem};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    /// Signed in, even as an admin who must still set up a second factor: the pages of the
    /// user's own account (where they set it up) and signing out.
    OwnAccount,
    /// Signed in, with a second factor if this instance requires one.
    SignedIn,
    /// Signed in as an admin; a viewer gets 403.
    Admin,
    /// The JSON API with a token of either scope (`Authorization: Bearer`); a session cookie
    /// counts for nothing here.
    ApiRead,
    /// The JSON API with a token of the write scope.
    ApiWrite,
}

impl Access {
    /// The scope an API route needs; `None` for the pages.
    pub fn api_scope(self) -> Option<ApiScope> {
        match self {
            Access::ApiRead => Some(ApiScope::Read),
            Access::ApiWrite => Some(ApiScope::Write),
            Access::Anyone | Access::OwnAccount | Access::SignedIn | Access::Admin => None,
        }
    }
}

/// What a route expects of the CSRF check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfCheck {
    /// A safe method: nothing changes, nothing to check.
    Safe,
    /// A url-encoded form whose `csrf_token` must match this session (or, signed out, the
    /// sign-in form's signed token), posted from this site.
    Form,
    /// A `multipart/form-data` upload from this site (checked here) whose first field must be
    /// this session's `csrf_token` (checked by [`super::CsrfUpload`] before any file is read).
    Upload,
    /// Posted by Meta, not a browser: the handler's service verifies Meta's signature
    /// (HMAC-SHA256 with the app secret) instead, and refuses anything unsigned.
    MetaSignature,
    /// A JSON API request, authorised only by its `Authorization` header, which a browser
    /// never adds on its own to a request another site makes it send.
    Bearer,
    /// Where Meta's sign-in dialog sends the browser back: a GET that connects accounts,
    /// accepted only with the single-use `state` this session was given when it left (the
    /// handler's service checks it).
    OAuthState,
}

/// Put in the request extensions once the form's CSRF token passed, so that
/// [`super::CsrfForm`] can tell the route table checked it.
#[derive(Debug, Clone, Copy)]
pub struct CsrfChecked;

/// Put in the request extensions on `Upload` routes once the origin passed; the token is
/// checked by [`super::CsrfUpload`] from the form's first field.
#[derive(Debug, Clone, Copy)]
pub struct UploadDeclared;

/// The route table's checks, in order: access, then the CSRF token. A refusal is answered
/// here, as a response (so the outer middlewares still add their headers to it).
pub async fn enforce(
    access: Access,
    csrf: CsrfCheck,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    // A route that may write can change what kept sessions hold (a sign-out, a role, the
    // settings, the data behind the data version): they are read again after it. The
    // database's notice would say so too, but a few milliseconds after this response.
    let kept = (csrf != CsrfCheck::Safe)
        .then(|| req.app_data::<web::Data<Auth>>().cloned())
        .flatten()
        .filter(|auth| auth.kept.is_some());
    let moved = |response| {
        if let Some(kept) = kept.as_ref().and_then(|auth| auth.kept.as_ref()) {
            kept.moved();
        }
        response
    };
    if let Some(needs) = access.api_scope() {
        return match check_token(needs, &req).await {
            Ok(caller) => {
                req.extensions_mut().insert(caller);
                Ok(moved(next.call(req).await?.map_into_left_body()))
            }
            Err(problem) => Ok(req.error_response(problem).map_into_right_body()),
        };
    }
    if let Err(refused) = check(access, csrf, &mut req).await {
        return Ok(req.error_response(refused).map_into_right_body());
    }
    Ok(moved(next.call(req).await?.map_into_left_body()))
}

/// The API token of the request, of the scope needed and within its rate limit.
async fn check_token(needs: ApiScope, req: &ServiceRequest) -> Result<ApiCaller, Problem> {
    let tokens = req.app_data::<web::Data<ApiTokens>>().ok_or_else(|| AppError::internal("API tokens missing"))?;
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    tokens.authorize(authorization, needs).await.map_err(|err| match err {
        AuthorizeError::Db(db) => Problem::from(db),
        AuthorizeError::Refused(refusal) => {
            let status = match refusal {
                ApiRefusal::Missing | ApiRefusal::Invalid | ApiRefusal::Revoked | ApiRefusal::Expired(_) => {
                    StatusCode::UNAUTHORIZED
                }
                ApiRefusal::WrongScope => StatusCode::FORBIDDEN,
                ApiRefusal::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            };
            let mut problem = Problem::from_status(status, refusal.to_string());
            if let ApiRefusal::TooMany(seconds) = refusal {
                problem.retry_after = Some(seconds);
            }
            problem
        }
    })
}

async fn check(access: Access, csrf: CsrfCheck, req: &mut ServiceRequest) -> Result<(), AppError> {
    check_access(access, req.request())?;
    if csrf == CsrfCheck::Upload {
        let auth = req.app_data::<web::Data<Auth>>().ok_or_else(|| AppError::internal("auth state missing"))?.clone();
        if !same_origin(req.request(), &auth) {
            return Err(AppError::CsrfRejected);
        }
        req.extensions_mut().insert(UploadDeclared);
    }
    if csrf == CsrfCheck::Form {
        let auth = req.app_data::<web::Data<Auth>>().ok_or_else(|| AppError::internal("auth state missing"))?.clone();
        if !same_origin(req.request(), &auth) {
            return Err(AppError::CsrfRejected);
        }
        let body = req.extract::<web::Bytes>().await.map_err(|err| {
            if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("The form could not be read.".into())
            }
        })?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        let token = fields.iter().find(|(name, _)| name == "csrf_token").map_or("", |(_, value)| value.as_str());
        if !token_is_valid(req.request(), &auth, token) {
            return Err(AppError::CsrfRejected);
        }
        req.extensions_mut().insert(CsrfChecked);
        // The handler reads the form again.
        req.set_payload(Payload::from(body));
    }
    Ok(())
}

/// Whether `token` is this session's CSRF token (or, signed out, the sign-in form's token of
/// this browser).
pub(super) fn token_is_valid(req: &HttpRequest, auth: &Auth, token: &str) -> bool {
    match req.extensions().get::<ActiveSession>() {
        Some(session) => auth.csrf.verify_session_token(&session.claims.sid, token),
        // Without a session only the sign-in form is accepted, with its browser's token.
        None => req
            .extensions()
            .get::<SignInBrowser>()
            .is_some_and(|browser| auth.csrf.verify_login_token(&browser.sid, token)),
    }
}

fn check_access(access: Access, req: &HttpRequest) -> Result<(), AppError> {
    if access == Access::Anyone {
        return Ok(());
    }
    let user = req.extensions().get::<ActiveSession>().map(|session| session.user.clone());
    let Some(user) = user else { return Err(AppError::login_required(req)) };
    if user.must_set_up_second_factor && access != Access::OwnAccount {
        return Err(AppError::second_factor_required(req));
    }
    match (access, user.role) {
        (Access::Admin, Role::Viewer) => Err(AppError::Forbidden),
        // Answered by `check_token` before this is reached.
        (Access::ApiRead | Access::ApiWrite, _) => Err(AppError::Forbidden),
        _ => Ok(()),
    }
}

/// Browsers say where a request comes from; refuse anything posted from another site.
/// Requests without these headers (old browsers, scripts) rely on the token alone. The
/// origin must match in scheme, host and port: the configured public address, or else this
/// request's own (its scheme from a trusted proxy's `X-Forwarded-Proto`).
fn same_origin(req: &HttpRequest, auth: &Auth) -> bool {
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
    let expected = match &auth.public_url {
        Some(public) => public.clone(),
        None => {
            let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
            let scheme = auth.proxies.scheme(req.peer_addr().map(|a| a.ip()), proto);
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            let Ok(url) = url::Url::parse(&format!("{scheme}://{host}")) else { return false };
            url
        }
    };
    origin.scheme() == expected.scheme()
        && origin.host_str() == expected.host_str()
        && origin.port_or_known_default() == expected.port_or_known_default()
}
