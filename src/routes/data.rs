//! The Data page (admins): what Meta asked of this Tidemark (deauthorizations, deletion
//! requests) and how long such records are kept.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Notice, PageContext, render};
use crate::auth::AdminUser;
use crate::domain::{MetaRequestKind, MetaRequestOutcome};
use crate::error::AppResult;
use crate::services::MetaCallbacks;
use crate::services::meta::KEEP_DAYS;

/// Requests listed at most.
const RECENT: i64 = 200;

pub struct RequestView {
    pub kind: &'static str,
    pub flavour: String,
    pub received: String,
    pub outcome: String,
    pub status_url: Option<String>,
}

#[derive(Template)]
#[template(path = "data/index.html")]
struct DataPage {
    page: PageContext,
    requests: Vec<RequestView>,
    keep_days: i64,
}

pub async fn data_page(
    AdminUser(admin): AdminUser,
    notice: Notice,
    meta: web::Data<MetaCallbacks>,
) -> AppResult<HttpResponse> {
    let requests = meta
        .recent(RECENT)
        .await?
        .into_iter()
        .map(|r| RequestView {
            kind: match r.kind {
                MetaRequestKind::Deauthorize => "deauthorize (app removed)",
                MetaRequestKind::DataDeletion => "data deletion",
            },
            flavour: r.flavour.to_string(),
            received: r.received_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            outcome: match r.outcome {
                MetaRequestOutcome::Done => format!("done: {} account(s)", r.accounts_affected),
                MetaRequestOutcome::NothingHeld => "nothing held about that user".to_owned(),
            },
            status_url: r.confirmation_code.map(|code| meta.status_url(&code)),
        })
        .collect();
    let page = DataPage { page: PageContext::new(&admin, notice, "data"), requests, keep_days: KEEP_DAYS };
    render(StatusCode::OK, &page)
}
