//! Meta's callbacks (deauthorize, data deletion) and the deletion status page anyone holding
//! the confirmation code may open. Meta posts a form with one field, `signed_request`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::render;
use crate::error::{AppError, AppResult};
use crate::services::MetaCallbacks;
use crate::services::meta::CallbackRefused;

/// The `signed_request` field of Meta's form, read leniently: a body that is not a form
/// is simply one without the field.
fn signed_request(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "signed_request")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A refusal, as Meta (and a log reader) sees it: a status and one plain line.
fn refused(refusal: CallbackRefused) -> AppResult<HttpResponse> {
    let status = match &refusal {
        CallbackRefused::NotConfigured => return Err(AppError::NotFound),
        CallbackRefused::Database(_) => return Err(AppError::Internal(anyhow::Error::new(refusal))),
        CallbackRefused::Replayed => StatusCode::CONFLICT,
        CallbackRefused::Missing | CallbackRefused::Invalid(_) => StatusCode::BAD_REQUEST,
    };
    tracing::warn!(reason = %refusal, "a Meta callback was refused; nothing was changed");
    Ok(HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(format!("{refusal}\n")))
}

pub async fn deauthorize(body: web::Bytes, meta: web::Data<MetaCallbacks>) -> AppResult<HttpResponse> {
    match meta.deauthorize(&signed_request(&body)).await {
        Ok(_) => Ok(HttpResponse::Ok().finish()),
        Err(refusal) => refused(refusal),
    }
}

pub async fn data_deletion(body: web::Bytes, meta: web::Data<MetaCallbacks>) -> AppResult<HttpResponse> {
    match meta.delete_data(&signed_request(&body)).await {
        Ok(receipt) => Ok(HttpResponse::Ok().json(receipt)),
        Err(refusal) => refused(refusal),
    }
}

#[derive(Template)]
#[template(path = "meta/deletion_status.html")]
struct DeletionStatusPage {
    code: String,
    received: String,
    completed: String,
    found_data: bool,
    purge_on: String,
}

/// What became of a deletion request: its state and dates only, never account data.
pub async fn deletion_status(path: web::Path<String>, meta: web::Data<MetaCallbacks>) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let request = meta.deletion(&code).await?.ok_or(AppError::NotFound)?;
    let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let page = DeletionStatusPage {
        code,
        received: when(request.received_at),
        completed: when(request.completed_at),
        found_data: request.accounts_affected > 0,
        purge_on: meta.keep_until(request.received_at).format("%Y-%m-%d").to_string(),
    };
    render(StatusCode::OK, &page)
}
