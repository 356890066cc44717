//! `AppError`: everything a handler can fail with, and how each becomes a response.
//! Server errors are opaque to the browser; their cause is logged once, here.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session: browsers are sent to the sign-in page, other clients get 401.
    #[error("sign-in required")]
    LoginRequired { html: bool, next: Option<String> },
    /// An admin without a second factor where admins must have one: browsers are sent to
    /// set it up, other clients get 403.
    #[error("a second factor must be set up first")]
    SecondFactorRequired { html: bool },
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF check failed")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request is well-formed but the thing is not in a state that allows it.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// Every database connection stayed busy: try again shortly (503).
    #[error("busy")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn internal(message: &'static str) -> Self {
        AppError::Internal(anyhow::anyhow!(message))
    }

    pub fn login_required(req: &HttpRequest) -> Self {
        let html = wants_html(req);
        // Only GET pages are worth returning to after sign-in.
        let next = (req.method() == actix_web::http::Method::GET && req.path() != "/")
            .then(|| req.uri().path_and_query().map(|pq| pq.as_str().to_owned()))
            .flatten();
        AppError::LoginRequired { html, next }
    }

    pub fn second_factor_required(req: &HttpRequest) -> Self {
        AppError::SecondFactorRequired { html: wants_html(req) }
    }
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        match err {
            crate::db::DbError::Query(query) => query.into(),
            crate::db::DbError::Busy => AppError::Busy,
            pool => AppError::Internal(anyhow::Error::new(pool)),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        crate::db::DbError::from(err).into()
    }
}

/// The page of an error, alone: what a request gets when nobody is signed in (a signed-in
/// user's error page is shown inside the layout by `routes::signed_in_pages`).
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    /// The error page's title and message; `None` for the errors answered otherwise (a
    /// redirect to sign in or to set up a second factor, a 401 for a script).
    pub fn words(&self) -> Option<(&str, &str)> {
        Some(match self {
            AppError::LoginRequired { .. } | AppError::SecondFactorRequired { html: true } => return None,
            AppError::SecondFactorRequired { html: false } => (
                "Second factor required",
                "This Tidemark asks you to sign in with a second factor. Set yours up on your account page (/me) first.",
            ),
            AppError::Forbidden => ("Not allowed", "Your account may not do this. Ask an admin if you need it."),
            AppError::CsrfRejected => (
                "Form expired or not from this site",
                "The form was missing its security token, or the token did not match your session. \
                 Go back, reload the page and try again.",
            ),
            AppError::NotFound => ("Not found", "There is nothing at this address."),
            AppError::BadRequest(message) => ("Bad request", message),
            AppError::Conflict(message) => ("Not possible now", message),
            AppError::PayloadTooLarge => ("Too large", "The form sent more data than Tidemark accepts."),
            AppError::TooManyRequests(message) => ("Too many attempts", message),
            AppError::Busy => ("Busy", "Tidemark is busy with other requests. Try again in a few seconds."),
            AppError::Internal(_) => {
                ("Something went wrong", "Tidemark could not complete this request. The details are in its log.")
            }
        })
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::LoginRequired { html: true, .. } => StatusCode::SEE_OTHER,
            AppError::LoginRequired { html: false, .. } => StatusCode::UNAUTHORIZED,
            AppError::SecondFactorRequired { html: true } => StatusCode::SEE_OTHER,
            AppError::SecondFactorRequired { html: false } | AppError::Forbidden | AppError::CsrfRejected => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::LoginRequired { html: true, next } => {
                let location = match next {
                    Some(next) => format!(
                        "/login?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    ),
                    None => "/login".to_owned(),
                };
                return HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
            }
            AppError::LoginRequired { html: false, .. } => {
                return HttpResponse::Unauthorized()
                    .insert_header((header::WWW_AUTHENTICATE, "Cookie realm=\"tidemark\""))
                    .body("Sign in at /login first.\n");
            }
            AppError::SecondFactorRequired { html: true } => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/me?notice=second-factor-required#two-step"))
                    .finish();
            }
            _ => {}
        }
        if let AppError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let status = self.status_code();
        let (title, message) = self.words().unwrap_or(("Error", ""));
        let page = ErrorPage { status: status.as_u16(), title, message };
        let body = page.render().unwrap_or_else(|_| format!("{} {title}", status.as_u16()));
        let mut response = HttpResponse::build(status);
        if matches!(self, AppError::Busy) {
            tracing::warn!("every database connection stayed busy; answered 503");
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        response.content_type("text/html; charset=utf-8").body(body)
    }
}

/// An error of the JSON API, answered as RFC 9457 problem details
/// (`application/problem+json`): `type`, `title`, `status`, `detail`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {title}: {detail}")]
pub struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    /// Seconds to wait before trying again (429, 503).
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem titled with its status's reason phrase, as RFC 9457 asks when `type` is
    /// `about:blank`.
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Problem { status, title, detail: detail.into(), retry_after: None }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::from_status(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::from_status(StatusCode::NOT_FOUND, detail)
    }
}

/// The problem's body, as serialised. Its `type` is always `about:blank`: the status and its
/// title say what kind of problem it is (RFC 9457 §4.2.1), `detail` what to do.
#[derive(serde::Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

impl From<AppError> for Problem {
    fn from(err: AppError) -> Self {
        let status = match &err {
            // The API answers with problems, never redirects.
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            AppError::SecondFactorRequired { .. } => StatusCode::FORBIDDEN,
            other => other.status_code(),
        };
        if let AppError::Internal(cause) = &err {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let detail = err.words().map_or("Send a token: Authorization: Bearer <token>.", |(_, detail)| detail);
        let mut problem = Problem::from_status(status, detail);
        problem.retry_after = matches!(err, AppError::Busy).then_some(5);
        problem
    }
}

impl From<crate::db::DbError> for Problem {
    fn from(err: crate::db::DbError) -> Self {
        AppError::from(err).into()
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body =
            ProblemBody { kind: "about:blank", title: self.title, status: self.status.as_u16(), detail: &self.detail };
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tidemark\""));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.body(serde_json::to_string(&body).unwrap_or_default())
    }
}
