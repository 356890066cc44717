//! The sync history: recent runs and their errors, "Sync all now", refused metrics.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::db::dropped_metrics::DroppedMetricRow;
use crate::db::sync_runs::RunListing;
use crate::domain::SyncOutcome;
use crate::error::AppResult;
use crate::services::sync::{Scope, SyncRefused};
use crate::services::views::format::when_in;
use crate::services::{Syncing, Views};

/// Runs shown on the page.
const RECENT_RUNS: i64 = 50;

pub struct RunView {
    pub run: RunListing,
    pub started: String,
    pub duration: String,
}

#[derive(Template)]
#[template(path = "sync/index.html")]
struct SyncPage {
    page: PageContext,
    runs: Vec<RunView>,
    /// A run is in progress: the page refreshes itself.
    running: bool,
    dropped: Vec<DroppedMetricRow>,
    csrf_token: String,
    is_admin: bool,
    /// The operator's zone, for the refusals' times.
    tz: chrono_tz::Tz,
}

pub fn run_views(runs: Vec<RunListing>, tz: chrono_tz::Tz) -> Vec<RunView> {
    runs.into_iter()
        .map(|run| {
            let duration = run.finished_at.map_or_else(
                || "running…".to_owned(),
                |end| format!("{:.1} s", (end - run.started_at).num_milliseconds() as f64 / 1000.0),
            );
            RunView { started: when_in(Some(run.started_at), tz), duration, run }
        })
        .collect()
}

pub async fn sync_history(user: CurrentUser, notice: Notice, views: web::Data<Views>) -> AppResult<HttpResponse> {
    let tz = views.basis().await?.tz();
    let runs = run_views(views.recent_runs(None, RECENT_RUNS).await?, tz);
    let page = SyncPage {
        page: PageContext::new(&user, notice, "sync"),
        running: runs.iter().any(|r| r.run.outcome == SyncOutcome::Running),
        runs,
        dropped: views.dropped_metrics().await?,
        csrf_token: user.csrf_token.clone(),
        is_admin: user.is_admin(),
        tz,
    };
    render(StatusCode::OK, &page)
}

pub async fn sync_all(
    AdminUser(_): AdminUser,
    syncing: web::Data<Syncing>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    match syncing.start(Scope::All).await {
        Ok(()) => Ok(see_other("/sync?notice=sync-started")),
        Err(SyncRefused::Database(err)) => Err(err.into()),
        Err(refused) => Err(crate::error::AppError::BadRequest(format!("Not synced: {refused}."))),
    }
}
