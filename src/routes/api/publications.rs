//! Publications: what Tidemark plans, publishes or published; a write token cancels one.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiId, ApiQuery, ReadProblems, WriteProblems, fresh, unchanged};
use crate::auth::ApiCaller;
use crate::db::publications::{Listed, Publication};
use crate::domain::{AccountId, PublicationId};
use crate::error::Problem;
use crate::services::Publishing;
use crate::services::publishing::ChangeRefused;
use crate::services::Views;

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
    responses((status = 200, body = Vec<PublicationRecord>), ReadProblems)
)]
pub async fn list_publications(
    req: HttpRequest,
    query: ApiQuery<PublicationsQuery>,
    views: web::Data<Views>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, Problem> {
    let basis = views.basis().await?;
    if let Some(unchanged) = unchanged(&req, &basis) {
        return Ok(unchanged);
    }
    let listed = publishing.list(query.0.account.map(AccountId)).await?;
    let records: Vec<PublicationRecord> = listed.iter().map(PublicationRecord::from).collect();
    fresh(&basis, &records)
}

/// Withdraws a draft, scheduled or failed publication before it goes out (needs a `write`
/// token); its files are removed.
#[utoipa::path(
    post,
    path = "/api/v1/publications/{id}/cancel",
    tag = "publications",
    params(("id" = i64, Path, description = "Tidemark's id of the publication")),
    responses((status = 200, description = "Cancelled", body = PublicationRecord), WriteProblems)
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
        other => Problem::from_status(actix_web::http::StatusCode::CONFLICT, format!("Not cancelled: {other}.")),
    })?;
    if let Some(caller) = caller {
        tracing::info!(publication = %id, api_token = %caller.token, "publication cancelled through the API");
    }
    let detail = publishing.detail(id).await?.ok_or_else(|| Problem::not_found("There is no publication with this id."))?;
    let record = PublicationRecord::new(&detail.publication, &detail.username);
    Ok(HttpResponse::Ok().json(record))
}
