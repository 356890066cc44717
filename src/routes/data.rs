//! The Data page (admins): the full archive, what Meta asked of this Tidemark
//! (deauthorizations, deletion requests), what is kept and for how long, and starting over.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use serde::Deserialize;

use super::{Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::domain::{MetaRequestKind, MetaRequestOutcome};
use crate::error::AppResult;
use crate::services::meta::KEEP_DAYS;
use crate::services::{Accounts, MetaCallbacks, Views};

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
    csrf_token: String,
    /// A refused "start over", explained.
    error: Option<String>,
    requests: Vec<RequestView>,
    keep_days: i64,
    /// What each rule keeps, in words.
    rules: Vec<(&'static str, String)>,
    purges: Vec<(String, String)>,
}

pub async fn data_page(
    AdminUser(admin): AdminUser,
    notice: Notice,
    meta: web::Data<MetaCallbacks>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    page(&admin, notice, StatusCode::OK, None, &meta, &views).await
}

/// What the admin must type to start over.
const START_OVER: &str = "delete everything";

#[derive(Debug, Deserialize)]
pub struct StartOverForm {
    #[serde(default)]
    confirm: String,
}

/// Deletes every Instagram account and everything of it, once the admin typed the phrase.
pub async fn start_over(
    AdminUser(admin): AdminUser,
    accounts: web::Data<Accounts>,
    meta: web::Data<MetaCallbacks>,
    views: web::Data<Views>,
    CsrfForm(form): CsrfForm<StartOverForm>,
) -> AppResult<HttpResponse> {
    if form.confirm.trim().to_lowercase() != START_OVER {
        let error = format!("Nothing was deleted: type \"{START_OVER}\" to confirm.");
        return page(&admin, Notice::default(), StatusCode::UNPROCESSABLE_ENTITY, Some(error), &meta, &views).await;
    }
    accounts.delete_everything().await?;
    tracing::info!(by = admin.id.0, "an admin deleted every account and started over");
    Ok(see_other("/data?notice=everything-deleted"))
}

async fn page(
    admin: &CurrentUser,
    notice: Notice,
    status: StatusCode,
    error: Option<String>,
    meta: &MetaCallbacks,
    views: &Views,
) -> AppResult<HttpResponse> {
    let basis = views.basis().await?;
    let settings = &basis.settings;
    let window = settings.lookback_days.map_or_else(|| "kept forever".to_owned(), |d| format!("{d} days"));
    let rules = vec![
        ("Posts and their metric history", format!("published within the history window: {window}")),
        ("Accounts' follower counts and daily insights", format!("within the history window: {window}")),
        ("Sync-run records", format!("{} days", settings.sync_run_keep_days)),
        ("Records of Meta's requests, and of these purges", format!("{KEEP_DAYS} days")),
        ("Unfinished Meta dialogs", "30 minutes".to_owned()),
    ];
    let purges = views
        .recent_purges(20)
        .await?
        .into_iter()
        .map(|p| (p.ran_at.format("%Y-%m-%d %H:%M UTC").to_string(), p.counts.to_string()))
        .collect();
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
                MetaRequestOutcome::Done => {
                    format!("done: {} account{}", r.accounts_affected, if r.accounts_affected == 1 { "" } else { "s" })
                }
                MetaRequestOutcome::NothingHeld => "nothing held about that user".to_owned(),
            },
            status_url: r.confirmation_code.map(|code| meta.status_url(&code)),
        })
        .collect();
    let page = DataPage {
        page: PageContext::new(admin, notice, "data"),
        csrf_token: admin.csrf_token.clone(),
        error,
        requests,
        keep_days: KEEP_DAYS,
        rules,
        purges,
    };
    render(status, &page)
}
