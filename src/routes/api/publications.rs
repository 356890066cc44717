//! Publications: what Tidemark plans, publishes or published; a write token cancels one.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiId, ApiQuery, NotFound, ReadProblems, TokenProblems, WriteProblems, read};
use crate::auth::ApiCaller;
use crate::db::publications::{Listed, Publication};
use crate::domain::{AccountId, PublicationId, PublicationKind};
use crate::error::Problem;
use crate::routes::planner::{UploadForm, read_upload_form};
use crate::services::Publishing;
use crate::services::Views;
use crate::services::publishing::{ChangeRefused, ComposeRefused, Composition, Upload, When};

/// A planned or published post.
#[derive(Serialize, ToSchema)]
pub struct PublicationRecord {
    /// Tidemark's id of the publication.
    pub id: i64,
    pub account_id: i64,
    pub username: String,
    /// `feed`, `reel` or `story`.
    pub kind: String,
    /// `draft`, `scheduled`, `publishing`, `published`, `failed` or `cancelled`.
    pub status: String,
    pub caption: String,
    pub first_comment: Option<String>,
    /// When it is (or was) due to go out.
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    /// Instagram's id of the post, once published.
    pub media_id: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// Meta's or Tidemark's reason for the last failure.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl PublicationRecord {
    fn new(publication: &Publication, username: &str) -> Self {
        PublicationRecord {
            id: publication.id.0,
            account_id: publication.account_id.0,
            username: username.to_owned(),
            kind: publication.kind.as_str().to_owned(),
            status: publication.status.as_str().to_owned(),
            caption: publication.caption.clone(),
            first_comment: publication.first_comment.clone(),
            due_at: publication.due_at,
            attempts: publication.attempts,
            media_id: publication.media_id.clone(),
            published_at: publication.published_at,
            last_error: publication.last_error.clone(),
            created_at: publication.created_at,
        }
    }
}

impl From<&Listed> for PublicationRecord {
    fn from(listed: &Listed) -> Self {
        PublicationRecord::new(&listed.publication, &listed.username)
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicationsQuery {
    /// Only this account's publications.
    pub account: Option<i64>,
}

/// Every publication, latest due first.
#[utoipa::path(
    get,
    path = "/api/v1/publications",
    tag = "publications",
    params(PublicationsQuery),
    responses((status = 200, body = Vec<PublicationRecord>), ReadProblems, TokenProblems)
)]
pub async fn list_publications(
    req: HttpRequest,
    query: ApiQuery<PublicationsQuery>,
    views: web::Data<Views>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |_| {
        let listed = publishing.list(query.0.account.map(AccountId)).await?;
        Ok(listed.iter().map(PublicationRecord::from).collect::<Vec<_>>())
    })
    .await
}

/// One publication.
#[utoipa::path(
    get,
    path = "/api/v1/publications/{id}",
    tag = "publications",
    params(("id" = i64, Path, description = "Tidemark's id of the publication")),
    responses((status = 200, body = PublicationRecord), ReadProblems, NotFound, TokenProblems)
)]
pub async fn show_publication(
    req: HttpRequest,
    id: ApiId,
    views: web::Data<Views>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |_| {
        let detail = publishing
            .detail(PublicationId(id.0))
            .await?
            .ok_or_else(|| Problem::not_found("There is no publication with this id."))?;
        Ok(PublicationRecord::new(&detail.publication, &detail.username))
    })
    .await
}

/// The form of a new publication (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the form for the OpenAPI document; the handler reads it part by part.
pub struct NewPublication {
    /// Tidemark's id of the account to publish to (an active one with the publishing permission).
    account: i64,
    /// `feed` (an image, a video or a carousel of 2 to 10), `reel` or `story`.
    kind: String,
    #[schema(max_length = 2200)]
    caption: Option<String>,
    /// A comment posted under the post once it is live.
    first_comment: Option<String>,
    /// Text for people who cannot see the image(s).
    alt_text: Option<String>,
    /// When to publish (RFC 3339); now when absent.
    #[schema(format = DateTime)]
    at: Option<String>,
    /// `true` keeps it as a draft that nothing publishes.
    draft: Option<bool>,
    /// A JPEG image, or an MP4 or MOV video; several make a carousel.
    #[schema(value_type = Vec<String>, format = Binary)]
    media: Vec<Vec<u8>>,
}

/// What creating a publication can answer besides it.
#[derive(utoipa::IntoResponses)]
pub enum CreateProblems {
    /// The form could not be read.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(super::ProblemDetails),
    /// A file or field breaks Instagram's rules (named in `detail`), or the account cannot
    /// publish; nothing was kept.
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(super::ProblemDetails),
}

/// What cancelling can answer besides the cancelled publication.
#[derive(utoipa::IntoResponses)]
pub enum CancelProblems {
    /// The publication is published, being published or cancelled already.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(super::ProblemDetails),
}

/// Plans a post (needs a `write` token): its files are checked against Instagram's rules and
/// kept until it is published; it goes out at `at`, now, or never while a draft.
#[utoipa::path(
    post,
    path = "/api/v1/publications",
    tag = "publications",
    request_body(content = NewPublication, content_type = "multipart/form-data"),
    responses((status = 201, description = "Planned", body = PublicationRecord), CreateProblems, WriteProblems, TokenProblems)
)]
pub async fn create_publication(
    req: HttpRequest,
    form: actix_multipart::Multipart,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, Problem> {
    let unprocessable = |detail: String| Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY, detail);
    let read = match read_upload_form(form, &publishing).await {
        Ok(read) => read,
        Err((read, message)) => {
            publishing.discard(&read.uploads);
            return Err(Problem::bad_request(message));
        }
    };
    let composition = match composition(&read) {
        Ok(composition) => composition,
        Err(message) => {
            publishing.discard(&read.uploads);
            return Err(unprocessable(message));
        }
    };
    let id = publishing.compose(composition).await.map_err(|refused| match refused {
        ComposeRefused::Database(db) => Problem::from(db),
        // The service removed the uploads already.
        other => unprocessable(other.to_string()),
    })?;
    if let Some(caller) = req.extensions().get::<ApiCaller>() {
        tracing::info!(publication = %id, api_token = %caller.token, "publication planned through the API");
    }
    let detail = publishing.detail(id).await?.ok_or_else(|| Problem::not_found("The publication is gone."))?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/publications/{id}")))
        .json(PublicationRecord::new(&detail.publication, &detail.username)))
}

/// The publication a form asks for, or what is wrong with it.
fn composition(form: &UploadForm) -> Result<Composition, String> {
    let account = form.field("account").trim().parse::<i64>().map_err(|_| "`account` must be an account's id.")?;
    let kind: PublicationKind =
        form.field("kind").trim().parse().map_err(|_| "`kind` must be feed, reel or story.".to_owned())?;
    let draft = match form.field("draft").trim() {
        "" | "false" => false,
        "true" => true,
        _ => return Err("`draft` is true or false.".into()),
    };
    let when = match (draft, form.field("at").trim()) {
        (true, _) => When::Draft,
        (false, "") => When::Now,
        (false, at) => When::At(
            DateTime::parse_from_rfc3339(at)
                .map_err(|_| "`at` must be an RFC 3339 time, e.g. 2026-12-24T09:00:00+01:00.")?
                .with_timezone(&Utc),
        ),
    };
    if form.uploads.is_empty() {
        return Err("Send the image or video as `media` (several make a carousel).".into());
    }
    let alt_text = Some(form.field("alt_text").trim().to_owned()).filter(|a| !a.is_empty());
    let uploads = form.uploads.iter().map(|u| Upload { alt_text: alt_text.clone(), ..u.clone() }).collect();
    Ok(Composition {
        account: AccountId(account),
        kind,
        caption: form.field("caption").trim_end().to_owned(),
        first_comment: Some(form.field("first_comment").trim().to_owned()).filter(|c| !c.is_empty()),
        when,
        uploads,
        created_by: None,
    })
}

/// Withdraws a draft, scheduled or failed publication before it goes out (needs a `write`
/// token); its files are removed.
#[utoipa::path(
    post,
    path = "/api/v1/publications/{id}/cancel",
    tag = "publications",
    params(("id" = i64, Path, description = "Tidemark's id of the publication")),
    responses(
        (status = 200, description = "Cancelled", body = PublicationRecord),
        CancelProblems,
        NotFound,
        WriteProblems,
        TokenProblems
    )
)]
pub async fn cancel_publication(
    req: HttpRequest,
    id: ApiId,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, Problem> {
    let id = PublicationId(id.0);
    let caller = req.extensions().get::<ApiCaller>().copied();
    publishing.cancel(id).await.map_err(|refused| match refused {
        ChangeRefused::NotFound => Problem::not_found("There is no publication with this id."),
        ChangeRefused::Database(db) => Problem::from(db),
        other => Problem::from_status(StatusCode::CONFLICT, format!("Not cancelled: {other}.")),
    })?;
    if let Some(caller) = caller {
        tracing::info!(publication = %id, api_token = %caller.token, "publication cancelled through the API");
    }
    let detail =
        publishing.detail(id).await?.ok_or_else(|| Problem::not_found("There is no publication with this id."))?;
    let record = PublicationRecord::new(&detail.publication, &detail.username);
    Ok(HttpResponse::Ok().json(record))
}
