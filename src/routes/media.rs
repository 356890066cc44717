//! Uploaded media as Meta fetches them: only through a signed, unexpired link, only while the
//! file still waits to be published. Everything else is a plain 404 (nothing tells a guesser
//! whether a name exists).

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{AppError, AppResult};
use crate::services::Publishing;

#[derive(Debug, serde::Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    expires: String,
    #[serde(default)]
    signature: String,
}

pub async fn media_file(
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<LinkQuery>,
    publishing: web::Data<Publishing>,
) -> AppResult<HttpResponse> {
    let Some((path, content_type)) = publishing.media_file(&name, &query.expires, &query.signature).await? else {
        return Err(AppError::NotFound);
    };
    let mime: actix_web::mime::Mime = content_type.parse().map_err(|_| AppError::NotFound)?;
    let file = NamedFile::open_async(&path).await.map_err(|_| AppError::NotFound)?;
    // Range requests are honoured (video fetchers use them); the link is private.
    let mut response = file.set_content_type(mime).use_etag(false).use_last_modified(false).into_response(&req);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
