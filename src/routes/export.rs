//! CSV downloads of exactly what a view shows, streamed in pages (never built in memory).
//! Timestamps are UTC ISO-8601; the file name states the operator's time zone, which the
//! view's period was cut in. An empty cell means "not measured". The headers are stable.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use futures_util::stream::{Stream, StreamExt};

use super::analytics::ViewQuery;
use super::insights::{OutcomesView, WEEKDAYS, outcomes};
use crate::analytics::groups::{self, Placement, Summary};
use crate::auth::{AdminUser, CurrentUser};
use crate::db::DbError;
use crate::db::reports::{ExportSnapshot, PostRow};
use crate::domain::{AccountId, PostId};
use crate::error::{AppError, AppResult};
use crate::services::archive::{self, spreadsheet_safe};
use crate::services::views::ChartOwner;
use crate::services::{Archive, Views};

/// Rows fetched per round trip.
const PAGE: i64 = 1000;

/// A CSV column: its header and how a row fills it. Header and value sit side by side, so
/// they cannot drift apart.
pub type Column<R> = (&'static str, fn(&R) -> String);

/// The header line of a column list.
pub fn header_of<R>(columns: &[Column<R>]) -> Vec<&'static str> {
    columns.iter().map(|(name, _)| *name).collect()
}

fn record<R>(columns: &[Column<R>], row: &R) -> Vec<String> {
    columns.iter().map(|(_, value)| value(row)).collect()
}

fn utc(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap_or_default()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn rate(value: Option<f64>) -> String {
    opt(value.map(|r| format!("{r:.4}")))
}

pub const POST_COLUMNS: &[Column<PostRow>] = &[
    ("account", |r| r.username.clone()),
    ("post_id", |r| r.id.to_string()),
    ("media_id", |r| r.media_id.clone()),
    ("published_utc", |r| utc(Some(r.posted_at))),
    ("format", |r| r.format().key().to_owned()),
    ("media_product_type", |r| r.media_product_type.clone().unwrap_or_default()),
    ("media_type", |r| r.media_type.clone()),
    ("permalink", |r| r.permalink.clone().unwrap_or_default()),
    ("caption", |r| r.caption.clone().unwrap_or_default()),
    ("hashtags", |r| r.tags().join(" ")),
    ("removed_utc", |r| utc(r.removed_at)),
    ("latest_snapshot_utc", |r| utc(r.latest_captured_at)),
    ("reach", |r| opt(r.reach)),
    ("views", |r| opt(r.views)),
    ("likes", |r| opt(r.likes)),
    ("comments", |r| opt(r.comments)),
    ("saved", |r| opt(r.saved)),
    ("shares", |r| opt(r.shares)),
    ("interactions", |r| opt(r.interactions)),
    ("followers_at_posting", |r| opt(r.followers_at_posting)),
    ("rate_by_reach_pct", |r| rate(r.rate_by_reach)),
    ("rate_by_followers_pct", |r| rate(r.rate_by_followers)),
    ("rate_by_views_pct", |r| rate(r.rate_by_views)),
    ("impact", |r| opt(r.impact)),
    ("impact_cohort", |r| opt(r.impact_cohort)),
    ("impact_checkpoint_hours", |r| opt(r.checkpoint_hours)),
];

pub const SNAPSHOT_COLUMNS: &[Column<ExportSnapshot>] = &[
    ("account", |s| s.username.clone()),
    ("post_id", |s| s.post_id.to_string()),
    ("media_id", |s| s.media_id.clone()),
    ("captured_utc", |s| utc(Some(s.captured_at))),
    ("views", |s| opt(s.views)),
    ("reach", |s| opt(s.reach)),
    ("likes", |s| opt(s.likes)),
    ("comments", |s| opt(s.comments)),
    ("saved", |s| opt(s.saved)),
    ("shares", |s| opt(s.shares)),
    ("total_interactions", |s| opt(s.total_interactions)),
    ("follows", |s| opt(s.follows)),
    ("profile_visits", |s| opt(s.profile_visits)),
    ("profile_activity", |s| opt(s.profile_activity)),
    ("replies", |s| opt(s.replies)),
    ("navigation", |s| opt(s.navigation)),
    ("reposts", |s| opt(s.reposts)),
    ("ig_reels_avg_watch_time_ms", |s| opt(s.ig_reels_avg_watch_time_ms)),
    ("ig_reels_video_view_total_time_ms", |s| opt(s.ig_reels_video_view_total_time_ms)),
    ("reels_skip_rate_pct", |s| opt(s.reels_skip_rate)),
];

fn csv_bytes(
    records: impl IntoIterator<Item = Vec<String>>,
    header: Option<&[&str]>,
) -> Result<Bytes, actix_web::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header).map_err(actix_web::error::ErrorInternalServerError)?;
    }
    for record in records {
        let safe = record.iter().map(|cell| spreadsheet_safe(cell));
        writer.write_record(safe.map(|c| c.into_owned())).map_err(actix_web::error::ErrorInternalServerError)?;
    }
    let bytes = writer.into_inner().map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    Ok(Bytes::from(bytes))
}

fn download(name: String, body: impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .streaming(body)
}

fn tz_tag(tz: Tz) -> String {
    tz.name().replace('/', "_")
}

/// Pages of rows as CSV chunks, the header before the first.
fn csv_stream<R: 'static>(
    pages: impl Stream<Item = Result<Vec<R>, DbError>> + 'static,
    columns: &'static [Column<R>],
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static {
    pages.enumerate().map(move |(index, page)| {
        let rows = page.map_err(actix_web::error::ErrorInternalServerError)?;
        let header = header_of(columns);
        csv_bytes(rows.iter().map(|row| record(columns, row)), (index == 0).then_some(&header[..]))
    })
}

/// The posts of a view (period, account, format, order) with their latest figures and scores.
pub async fn posts_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let basis = views.basis().await?;
    let period = query.period(basis.now, basis.tz());
    let filter = query.post_filter(&period, basis.definition());
    let name = format!("tidemark-posts-{}-to-{}-{}.csv", period.first, period.last, tz_tag(basis.tz()));
    Ok(download(name, csv_stream(views.post_pages(filter, PAGE), POST_COLUMNS)))
}

/// Every snapshot of one account (`?account=ID`) or of everything, oldest id first.
pub async fn snapshots_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let basis = views.basis().await?;
    let account = query.account.map(AccountId);
    let scope = account.map_or_else(|| "all".to_owned(), |a| format!("account-{a}"));
    let name = format!("tidemark-snapshots-{scope}-utc-display-{}.csv", tz_tag(basis.tz()));
    Ok(download(name, csv_stream(views.snapshot_pages(account, PAGE), SNAPSHOT_COLUMNS)))
}

fn small_csv<R>(name: &str, columns: &[Column<R>], rows: &[R]) -> AppResult<HttpResponse> {
    let bytes = csv_bytes(rows.iter().map(|row| record(columns, row)), Some(&header_of(columns)))
        .map_err(|err| AppError::Internal(anyhow::anyhow!("{err}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

/// One chart's numbers, exactly as the page drew them (the same cached view).
pub async fn chart_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let id = query.chart.clone().ok_or_else(|| AppError::BadRequest("Say which chart (chart=…).".into()))?;
    let basis = views.basis().await?;
    let chart = match (query.post, query.account) {
        (Some(post), _) => views.chart(&basis, ChartOwner::Post(PostId(post)), &id).await?,
        (None, Some(account)) => {
            let account = views.account(AccountId(account)).await?.ok_or(AppError::NotFound)?;
            let period = query.period(basis.now, basis.tz());
            views.chart(&basis, ChartOwner::Account(&account, &period), &id).await?
        }
        (None, None) => views.chart(&basis, ChartOwner::AllAccounts(&query.period(basis.now, basis.tz())), &id).await?,
    };
    let chart = chart.ok_or(AppError::NotFound)?;
    let names = chart.csv_header();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let body = csv_bytes(chart.csv_records(), Some(&names))
        .map_err(|err| AppError::Internal(anyhow::anyhow!("writing a CSV failed: {err}")))?;
    let name = format!("tidemark-{id}-days-in-{}.csv", tz_tag(basis.tz()));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(body))
}

/// A hashtag's line: the tag, whether it is ranked (used on two or more posts), its summary.
pub type TagRow = (String, &'static str, Summary);

pub const HASHTAG_COLUMNS: &[Column<TagRow>] = &[
    ("hashtag", |r| r.0.clone()),
    ("ranked", |r| r.1.to_owned()),
    ("posts", |r| r.2.posts.to_string()),
    ("median_rate_pct", |r| rate(r.2.median_rate)),
    ("median_reach", |r| opt(r.2.median_reach)),
];

pub async fn hashtags_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let OutcomesView { basis, period, outcomes } = outcomes(&views, &query).await?;
    let (ranked, rare) = groups::hashtags(&outcomes);
    let rows: Vec<TagRow> = ranked
        .into_iter()
        .map(|(tag, s)| (tag, "yes", s))
        .chain(rare.into_iter().map(|(tag, s)| (tag, "no", s)))
        .collect();
    let name = format!("tidemark-hashtags-{}-to-{}-{}.csv", period.first, period.last, tz_tag(basis.tz()));
    small_csv(&name, HASHTAG_COLUMNS, &rows)
}

/// A best-time cell: whose grid, weekday (0 = Monday), hour, summary.
pub type CellRow = (Placement, u32, u32, Summary);

pub const BEST_TIME_COLUMNS: &[Column<CellRow>] = &[
    ("posts_of", |r| r.0.key().to_owned()),
    ("weekday", |r| WEEKDAYS[r.1 as usize % 7].to_owned()),
    ("hour", |r| r.2.to_string()),
    ("posts", |r| r.3.posts.to_string()),
    ("median_rate_pct", |r| rate(r.3.median_rate)),
    ("median_reach", |r| opt(r.3.median_reach)),
];

pub async fn best_time_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let OutcomesView { basis, period, outcomes } = outcomes(&views, &query).await?;
    let rows: Vec<CellRow> = Placement::ALL
        .into_iter()
        .flat_map(|placement| {
            groups::best_time(&outcomes, basis.tz(), placement)
                .into_iter()
                .map(move |((day, hour), s)| (placement, day, hour, s))
        })
        .collect();
    let name = format!("tidemark-best-time-{}-to-{}-hours-in-{}.csv", period.first, period.last, tz_tag(basis.tz()));
    small_csv(&name, BEST_TIME_COLUMNS, &rows)
}

/// Streams a zip the archive service is writing.
fn zip_download(name: &str, mut chunks: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> HttpResponse {
    let body = futures_util::stream::poll_fn(move |cx| chunks.poll_recv(cx))
        .map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError));
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        // Already compressed: the gzip middleware leaves it alone.
        .insert_header(header::ContentEncoding::Identity)
        .streaming(body)
}

/// Everything Tidemark holds, as CSV files with a manifest (never a token or a password hash).
pub async fn archive_zip(
    _admin: AdminUser,
    archive: web::Data<Archive>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let name = format!("tidemark-archive-{}.zip", views.now().format("%Y-%m-%d"));
    Ok(zip_download(&name, archive.stream(archive::Scope::Everything)))
}

/// One account's part of the archive.
pub async fn account_archive_zip(
    _admin: AdminUser,
    path: web::Path<i64>,
    archive: web::Data<Archive>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let account = views.account(AccountId(path.into_inner())).await?.ok_or(AppError::NotFound)?;
    let name = format!("tidemark-account-{}-{}.zip", account.id, views.now().format("%Y-%m-%d"));
    Ok(zip_download(&name, archive.stream(archive::Scope::Account(account.id))))
}
