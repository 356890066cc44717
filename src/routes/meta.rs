//! Meta's callbacks (deauthorize, data deletion) and the deletion status page anyone holding
//! the confirmation code may open. Meta posts a form with one field, `signed_request`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::render;
use crate::error::{AppError, AppResult};
use crate::services::MetaCallbacks;
use crate::services::meta::CallbackRefused;
use crate::services::webhooks::{WebhookRefused, Webhooks};

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

/// Largest webhook delivery read.
const MAX_DELIVERY_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, serde::Deserialize)]
pub struct SubscriptionCheck {
    #[serde(rename = "hub.mode", default)]
    mode: String,
    #[serde(rename = "hub.verify_token", default)]
    verify_token: String,
    #[serde(rename = "hub.challenge", default)]
    challenge: String,
}

fn webhook_refused(refusal: WebhookRefused) -> AppResult<HttpResponse> {
    let status = match &refusal {
        WebhookRefused::NotConfigured => return Err(AppError::NotFound),
        WebhookRefused::Database(_) => return Err(AppError::Internal(anyhow::Error::new(refusal))),
        WebhookRefused::WrongVerifyToken | WebhookRefused::Unsigned | WebhookRefused::BadSignature => {
            StatusCode::FORBIDDEN
        }
        WebhookRefused::Malformed => StatusCode::BAD_REQUEST,
    };
    tracing::warn!(reason = %refusal, "a webhook request was refused; nothing was stored");
    Ok(HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(format!("{refusal}\n")))
}

/// Meta's subscription check: the challenge echoed as plain text when the token matches.
pub async fn webhook_subscription(
    query: web::Query<SubscriptionCheck>,
    webhooks: web::Data<Webhooks>,
) -> AppResult<HttpResponse> {
    match webhooks.subscribe(&query.mode, &query.verify_token, &query.challenge) {
        Ok(challenge) => Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(challenge)),
        Err(refusal) => webhook_refused(refusal),
    }
}

/// A delivery: verified here, answered 200 at once, its changes stored after (Meta wants a
/// quick answer, and retries a slow one).
pub async fn webhook_delivery(
    req: actix_web::HttpRequest,
    mut payload: web::Payload,
    webhooks: web::Data<Webhooks>,
    inbox: web::Data<crate::services::inbox::Inbox>,
) -> AppResult<HttpResponse> {
    use futures_util::StreamExt;
    // Meta batches up to 1000 changes: far over the forms' 16 KiB, so this route reads its own.
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("The delivery could not be read.".into()))?;
        if body.len() + chunk.len() > MAX_DELIVERY_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let signature = req.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    let changes = match webhooks.verify(&body, signature) {
        Ok(changes) => changes,
        Err(refusal) => return webhook_refused(refusal),
    };
    let (webhooks, inbox) = (webhooks.into_inner(), inbox.into_inner());
    actix_web::rt::spawn(async move {
        match webhooks.process(&changes).await {
            Ok(done) => {
                tracing::info!(
                    changes = done.changes,
                    repeated = done.repeated,
                    comments = done.comments,
                    mentions = done.mentions,
                    ignored = done.ignored,
                    failed = done.failed,
                    "webhook delivery processed"
                );
                // A mention carries ids only: its text is read now rather than at the next minute.
                if done.mentions > 0
                    && let Err(err) = inbox.fetch_mentions().await
                {
                    tracing::warn!(error = %err, "mentions could not be read");
                }
            }
            Err(err) => tracing::error!(error = %err, "a webhook delivery could not be stored; Meta will retry it"),
        }
    });
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("EVENT_RECEIVED\n"))
}
