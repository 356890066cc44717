//! CSV downloads of exactly what a view shows, streamed in pages (never built in memory).
//! Timestamps are UTC ISO-8601; the file name states the operator's time zone, which the
//! view's period was cut in. An empty cell means "not measured". The headers are stable.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::stream::{self, Stream};

use super::analytics::{AccountPanel, ViewQuery};
use super::insights::outcomes;
use super::posts::post_charts;
use crate::analytics::groups;
use crate::auth::CurrentUser;
use crate::db::accounts::Account;
use crate::db::accounts::AccountId;
use crate::db::reports::{self, ExportSnapshot, PostFilter, PostRow};
use crate::db::settings::OperatorSettings;
use crate::db::{self};
use crate::error::AppError;
use crate::error::AppResult;
use crate::startup::AppState;

/// Rows fetched per round trip.
const PAGE: i64 = 1000;

pub const POSTS_HEADER: [&str; 26] = [
    "account",
    "post_id",
    "media_id",
    "published_utc",
    "format",
    "media_product_type",
    "media_type",
    "permalink",
    "caption",
    "hashtags",
    "removed_utc",
    "latest_snapshot_utc",
    "reach",
    "views",
    "likes",
    "comments",
    "saved",
    "shares",
    "interactions",
    "followers_at_posting",
    "rate_by_reach_pct",
    "rate_by_followers_pct",
    "rate_by_views_pct",
    "impact",
    "impact_cohort",
    "impact_checkpoint_hours",
];

pub const SNAPSHOTS_HEADER: [&str; 20] = [
    "account",
    "post_id",
    "media_id",
    "captured_utc",
    "views",
    "reach",
    "likes",
    "comments",
    "saved",
    "shares",
    "total_interactions",
    "follows",
    "profile_visits",
    "profile_activity",
    "replies",
    "navigation",
    "reposts",
    "ig_reels_avg_watch_time_ms",
    "ig_reels_video_view_total_time_ms",
    "reels_skip_rate_pct",
];

fn utc(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap_or_default()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn csv_bytes(
    records: impl IntoIterator<Item = Vec<String>>,
    header: Option<&[&str]>,
) -> Result<Bytes, actix_web::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header).map_err(actix_web::error::ErrorInternalServerError)?;
    }
    for record in records {
        writer.write_record(&record).map_err(actix_web::error::ErrorInternalServerError)?;
    }
    let bytes = writer.into_inner().map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    Ok(Bytes::from(bytes))
}

fn post_record(row: &PostRow) -> Vec<String> {
    vec![
        row.username.clone(),
        row.id.to_string(),
        row.media_id.clone(),
        utc(Some(row.posted_at)),
        row.format().key().to_owned(),
        row.media_product_type.clone().unwrap_or_default(),
        row.media_type.clone(),
        row.permalink.clone().unwrap_or_default(),
        row.caption.clone().unwrap_or_default(),
        row.tags().join(" "),
        utc(row.removed_at),
        utc(row.latest_captured_at),
        opt(row.reach),
        opt(row.views),
        opt(row.likes),
        opt(row.comments),
        opt(row.saved),
        opt(row.shares),
        opt(row.interactions),
        opt(row.followers_at_posting),
        opt(row.rate_by_reach.map(|r| format!("{r:.4}"))),
        opt(row.rate_by_followers.map(|r| format!("{r:.4}"))),
        opt(row.rate_by_views.map(|r| format!("{r:.4}"))),
        opt(row.impact),
        opt(row.impact_cohort),
        opt(row.checkpoint_hours),
    ]
}

fn snapshot_record(s: &ExportSnapshot) -> Vec<String> {
    vec![
        s.username.clone(),
        s.post_id.to_string(),
        s.media_id.clone(),
        utc(Some(s.captured_at)),
        opt(s.views),
        opt(s.reach),
        opt(s.likes),
        opt(s.comments),
        opt(s.saved),
        opt(s.shares),
        opt(s.total_interactions),
        opt(s.follows),
        opt(s.profile_visits),
        opt(s.profile_activity),
        opt(s.replies),
        opt(s.navigation),
        opt(s.reposts),
        opt(s.ig_reels_avg_watch_time_ms),
        opt(s.ig_reels_video_view_total_time_ms),
        opt(s.reels_skip_rate),
    ]
}

fn download(name: String, body: impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .streaming(body)
}

fn tz_tag(timezone: &str) -> String {
    timezone.replace('/', "_")
}

/// The posts of a view (period, account, format, order) with their latest figures and scores.
pub async fn posts_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let period = query.period(state.sync.now(), settings.time_zone());
    let filter = PostFilter {
        account: query.account.map(AccountId),
        format: query.format(),
        from: Some(period.start()),
        until: Some(period.end()),
        sort: query.sort(),
        definition: settings.engagement(),
        limit: Some(PAGE),
        offset: 0,
    };
    let name = format!("tidemark-posts-{}-to-{}-{}.csv", period.first, period.last, tz_tag(&settings.timezone));
    let pool: db::Pool = state.pool.clone();
    // State: (filter for the next page, header written?, done?)
    let body = stream::unfold((filter, false, false, pool), |(mut filter, headed, done, pool)| async move {
        if done {
            return None;
        }
        let rows = match pool.get().await {
            Ok(mut conn) => {
                reports::posts(&mut conn, &filter).await.map_err(actix_web::error::ErrorInternalServerError)
            }
            Err(err) => Err(actix_web::error::ErrorInternalServerError(err)),
        };
        let chunk = rows.and_then(|rows| {
            let last = (rows.len() as i64) < PAGE;
            filter.offset += PAGE;
            csv_bytes(rows.iter().map(post_record), (!headed).then_some(&POSTS_HEADER[..])).map(|b| (b, last))
        });
        match chunk {
            Ok((bytes, last)) => Some((Ok(bytes), (filter, true, last, pool))),
            Err(err) => Some((Err(err), (filter, true, true, pool))),
        }
    });
    Ok(download(name, body))
}

/// Every snapshot of one account (`?account=ID`) or of everything, oldest id first.
pub async fn snapshots_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let account = query.account.map(AccountId);
    let scope = account.map_or_else(|| "all".to_owned(), |a| format!("account-{a}"));
    let name = format!("tidemark-snapshots-{scope}-utc-display-{}.csv", tz_tag(&settings.timezone));
    let pool: db::Pool = state.pool.clone();
    let body = stream::unfold((0i64, false, false, pool), move |(after, headed, done, pool)| async move {
        if done {
            return None;
        }
        let rows = match pool.get().await {
            Ok(mut conn) => reports::snapshots_after(&mut conn, account, after, PAGE)
                .await
                .map_err(actix_web::error::ErrorInternalServerError),
            Err(err) => Err(actix_web::error::ErrorInternalServerError(err)),
        };
        let chunk = rows.and_then(|rows| {
            let last = (rows.len() as i64) < PAGE;
            let next = rows.last().map_or(after, |r| r.id);
            csv_bytes(rows.iter().map(snapshot_record), (!headed).then_some(&SNAPSHOTS_HEADER[..]))
                .map(|b| (b, last, next))
        });
        match chunk {
            Ok((bytes, last, next)) => Some((Ok(bytes), (next, true, last, pool))),
            Err(err) => Some((Err(err), (after, true, true, pool))),
        }
    });
    Ok(download(name, body))
}

fn small_csv(name: &str, header: &[&str], records: Vec<Vec<String>>) -> AppResult<HttpResponse> {
    let bytes = csv_bytes(records, Some(header)).map_err(|err| AppError::Internal(anyhow::anyhow!("{err}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

/// One chart's numbers, for exactly the view it was drawn for.
pub async fn chart_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let id = query.chart.clone().ok_or_else(|| AppError::BadRequest("Say which chart (chart=…).".into()))?;
    let mut conn = state.pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let charts = match (query.post, query.account) {
        (Some(post), _) => {
            let row = reports::post(&mut conn, post).await?.ok_or(AppError::NotFound)?;
            let snapshots = reports::snapshots_of(&mut conn, row.id).await?;
            let typical = reports::checkpoints_of_format(&mut conn, AccountId(row.account_id), row.format()).await?;
            post_charts(&row, &snapshots, &typical)
        }
        (None, Some(account)) => {
            let account = Account::find(&mut conn, AccountId(account)).await?.ok_or(AppError::NotFound)?;
            let period = query.period(state.sync.now(), settings.time_zone());
            AccountPanel::load(&mut conn, &account, &period, &settings, state.sync.now()).await?.charts
        }
        (None, None) => return Err(AppError::BadRequest("Say whose chart (account=… or post=…).".into())),
    };
    let chart = charts.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound)?;
    let header = chart.csv_header();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let name = format!("tidemark-{id}-days-in-{}.csv", tz_tag(&settings.timezone));
    small_csv(&name, &header, chart.csv_records())
}

pub const HASHTAGS_HEADER: [&str; 5] = ["hashtag", "ranked", "posts", "median_rate_pct", "median_reach"];

pub async fn hashtags_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (outcomes, settings, _, period) = outcomes(&state, &query).await?;
    let (ranked, once) = groups::hashtags(&outcomes);
    let records = ranked
        .iter()
        .map(|r| (r, "yes"))
        .chain(once.iter().map(|r| (r, "no")))
        .map(|((tag, s), ranked)| {
            vec![
                tag.clone(),
                ranked.to_owned(),
                s.posts.to_string(),
                opt(s.median_rate.map(|r| format!("{r:.4}"))),
                opt(s.median_reach),
            ]
        })
        .collect();
    let name = format!("tidemark-hashtags-{}-to-{}-{}.csv", period.first, period.last, tz_tag(&settings.timezone));
    small_csv(&name, &HASHTAGS_HEADER, records)
}

pub const BEST_TIME_HEADER: [&str; 5] = ["weekday", "hour", "posts", "median_rate_pct", "median_reach"];

pub async fn best_time_csv(
    _user: CurrentUser,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (outcomes, settings, _, period) = outcomes(&state, &query).await?;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let records = groups::best_time(&outcomes, settings.time_zone())
        .into_iter()
        .map(|((day, hour), s)| {
            vec![
                DAYS[day as usize % 7].to_owned(),
                hour.to_string(),
                s.posts.to_string(),
                opt(s.median_rate.map(|r| format!("{r:.4}"))),
                opt(s.median_reach),
            ]
        })
        .collect();
    let name =
        format!("tidemark-best-time-{}-to-{}-hours-in-{}.csv", period.first, period.last, tz_tag(&settings.timezone));
    small_csv(&name, &BEST_TIME_HEADER, records)
}
