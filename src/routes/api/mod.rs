//! The JSON API under `/api/v1/`: the same figures as the pages, for scripts. Every route is
//! in the route table with the token scope it needs; answers are JSON, refusals and errors
//! RFC 9457 problem details. Reads carry an `ETag` made from the data version, so a client
//! that sends it back in `If-None-Match` gets `304` until something really changed.
//!
//! The OpenAPI document (`/api/v1/openapi.json`) is generated from these handlers and types.

pub mod accounts;
pub mod inbox;
pub mod insights;
pub mod posts;
pub mod publications;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::error::Problem;
use crate::services::Views;
use crate::services::views::Basis;

/// A query string read strictly: a malformed or unknown parameter is a 400 problem, not a
/// silently ignored one.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            serde_urlencoded::from_str(req.query_string())
                .map(ApiQuery)
                .map_err(|err| Problem::bad_request(format!("The query string is not valid here: {err}."))),
        )
    }
}

/// A numeric id from the path; anything else is a 404 problem.
pub struct ApiId(pub i64);

impl FromRequest for ApiId {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.match_info()
                .get("id")
                .and_then(|id| id.parse().ok())
                .map(ApiId)
                .ok_or_else(|| Problem::not_found("There is nothing with this id.")),
        )
    }
}

/// The validator of every read: the data version, and the day in UTC and in the operator's
/// zone (a day's completeness and default periods move at midnight without any data changing).
fn etag(basis: &Basis) -> String {
    format!("W/\"{}-{}-{}\"", basis.version, basis.now.format("%Y%m%d"), basis.today().format("%Y%m%d"))
}

/// Whether the request's `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|tag| tag.trim() == "*" || opaque(tag) == opaque(etag)))
}

/// `304 Not Modified` when the client's copy is current, else `None` (go on and answer).
fn unchanged(req: &HttpRequest, basis: &Basis) -> Option<HttpResponse> {
    let etag = etag(basis);
    not_modified(req, &etag).then(|| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish()
    })
}

/// A read's answer, with its ETag.
fn fresh(basis: &Basis, body: &impl Serialize) -> Result<HttpResponse, Problem> {
    let json = serde_json::to_string(body)
        .map_err(|_| Problem::from_status(StatusCode::INTERNAL_SERVER_ERROR, "The answer could not be written."))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, etag(basis)))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(json))
}

/// The body of every refusal and error (RFC 9457).
#[derive(Serialize, ToSchema)]
pub struct ProblemDetails {
    /// Always `about:blank`: the status and title say what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do, in plain words.
    pub detail: String,
}

/// What any API route can answer for its token or the server's load.
#[derive(IntoResponses)]
pub enum TokenProblems {
    /// No token, or one that is not valid, revoked or expired.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] ProblemDetails),
    /// This token made too many requests: wait `Retry-After` seconds.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(ProblemDetails),
    /// Tidemark is busy: try again after `Retry-After` seconds.
    #[response(status = 503, content_type = "application/problem+json")]
    Busy(ProblemDetails),
}

/// What a read can answer besides its data.
#[derive(IntoResponses)]
pub enum ReadProblems {
    /// The copy named by `If-None-Match` is still current.
    #[response(status = 304)]
    NotModified,
    /// A query parameter is malformed, unknown or out of range.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(ProblemDetails),
}

/// What a read of one thing by id can answer besides it.
#[derive(IntoResponses)]
pub enum NotFound {
    /// There is nothing with this id.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(ProblemDetails),
}

/// What a change can answer besides its result.
#[derive(IntoResponses)]
pub enum WriteProblems {
    /// The token may only read.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemDetails),
}

/// Answers a read: `304` when the client's copy is current, else what `compute` makes of
/// the data, with its ETag.
pub async fn read<T: Serialize>(
    req: &HttpRequest,
    views: &Views,
    compute: impl AsyncFnOnce(&Basis) -> Result<T, Problem>,
) -> Result<HttpResponse, Problem> {
    let basis = views.basis().await?;
    if let Some(unchanged) = unchanged(req, &basis) {
        return Ok(unchanged);
    }
    let body = compute(&basis).await?;
    fresh(&basis, &body)
}

/// A cursor as clients see it: the place a page ended, opaque (base64url of its JSON).
fn write_cursor(place: &impl Serialize) -> Option<String> {
    serde_json::to_vec(place).ok().map(|json| URL_SAFE_NO_PAD.encode(json))
}

/// The place a cursor names; `None` when it is not one this API gave.
fn read_cursor<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).ok()?).ok()
}

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "A token from Settings → API tokens or `tidemark api-token create`; `read` or `write` scope.".to_owned(),
        );
        components.add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tidemark API",
        description = "The figures Tidemark keeps of your Instagram accounts, for scripts. \
                       Send `Authorization: Bearer <token>`.",
    ),
    paths(
        accounts::list_accounts,
        accounts::show_account,
        accounts::account_series,
        posts::list_posts,
        posts::show_post,
        insights::hashtags,
        insights::best_time,
        inbox::list_comments,
        publications::list_publications,
        publications::show_publication,
        publications::create_publication,
        publications::cancel_publication,
    ),
    components(schemas(ProblemDetails)),
    modifiers(&BearerToken),
    security(("token" = [])),
)]
struct ApiDoc;

/// `GET /api/v1/openapi.json`: the document describing this API, for any API token (as the
/// public interface has every `/api/v1/` address).
pub async fn openapi() -> HttpResponse {
    match ApiDoc::openapi().to_json() {
        Ok(json) => HttpResponse::Ok().content_type("application/json").body(json),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_is_compared_weakly_and_in_lists() {
        let req = |value: &str| {
            actix_web::test::TestRequest::default().insert_header((header::IF_NONE_MATCH, value)).to_http_request()
        };
        assert!(not_modified(&req("W/\"7-20261206\""), "W/\"7-20261206\""));
        assert!(not_modified(&req("\"7-20261206\""), "W/\"7-20261206\""), "weak comparison ignores W/");
        assert!(not_modified(&req("\"1-x\", W/\"7-20261206\""), "W/\"7-20261206\""));
        assert!(not_modified(&req("*"), "W/\"7-20261206\""));
        assert!(!not_modified(&req("W/\"6-20261206\""), "W/\"7-20261206\""));
        assert!(!not_modified(&actix_web::test::TestRequest::default().to_http_request(), "W/\"7-20261206\""));
    }

    #[test]
    fn the_document_is_openapi_3_1_with_every_route_of_the_table_and_the_token_scheme() {
        let doc: serde_json::Value = serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
        let described =
            |r: &&crate::routes::RouteSpec| r.access.api_scope().is_some() && r.path != "/api/v1/openapi.json";
        for route in crate::routes::ROUTE_TABLE.iter().filter(described) {
            let method = route.method.to_lowercase();
            assert!(doc["paths"][route.path][&method].is_object(), "{} {} is documented", route.method, route.path);
        }
    }
}
