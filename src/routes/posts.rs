//! Tracked posts: the list (filters and sorting in the URL) and one post's page.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, PostView, ViewQuery, encode, impact_text, percent};
use super::charts::{Chart, Series};
use super::format::count;
use super::{Notice, PageContext, render};
use crate::analytics::impact::{CHECKPOINT_HOURS, checkpoint_label};
use crate::analytics::stats::median;
use crate::analytics::{EngagementDefinition, Format, PostFigures};
use crate::auth::CurrentUser;
use crate::db::accounts::{Account, AccountId};
use crate::db::reports::{self, PostFilter, PostRow, Sort};
use crate::db::settings::OperatorSettings;
use crate::db::stats;
use crate::error::{AppError, AppResult};
use crate::startup::AppState;

/// Posts per page of the list.
const PAGE_SIZE: i64 = 50;

/// The filter choices as the form shows them.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "posts/list.html")]
struct PostsPage {
    page: PageContext,
    posts: Vec<PostView>,
    nav: PeriodNav,
    accounts: Vec<Choice>,
    formats: Vec<Choice>,
    sorts: Vec<Choice>,
    definition: &'static str,
    /// Query string of this view without the page number.
    view: String,
    page_no: i64,
    has_more: bool,
}

pub async fn list_posts(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let tz = settings.time_zone();
    let now = state.sync.now();
    let period = query.period(now, tz);
    let definition = settings.engagement();
    let page_no = query.page.unwrap_or(1).clamp(1, 10_000);
    let filter = PostFilter {
        account: query.account.map(AccountId),
        format: query.format(),
        from: Some(period.start()),
        until: Some(period.end()),
        sort: query.sort(),
        definition,
        limit: Some(PAGE_SIZE + 1),
        offset: (page_no - 1) * PAGE_SIZE,
    };
    let version = stats::data_version(&mut conn).await?;
    let key = format!("posts:{filter:?}");
    let rows = state.cache.get_or_compute(key, version, async || reports::posts(&mut conn, &filter).await).await?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    let accounts = Account::list(&mut conn).await?;
    let keep = filter_params(&query);
    let view =
        format!("{}{}", period.query(), keep.iter().map(|(k, v)| format!("&{k}={}", encode(v))).collect::<String>());
    let page = PostsPage {
        page: PageContext::new(&user, notice, "posts"),
        posts: rows.iter().take(PAGE_SIZE as usize).map(|r| PostView::new(r, definition, tz)).collect(),
        nav: PeriodNav::new("/posts", &period, &keep, now.with_timezone(&tz).date_naive()),
        accounts: account_choices(&accounts, query.account),
        formats: format_choices(query.format()),
        sorts: Sort::ALL
            .into_iter()
            .map(|s| Choice { value: s.key().into(), label: sort_label(s).into(), selected: s == query.sort() })
            .collect(),
        definition: definition.formula(),
        view,
        page_no,
        has_more,
    };
    render(StatusCode::OK, &page)
}

/// The non-period parameters a view keeps when the period changes.
pub fn filter_params(query: &ViewQuery) -> Vec<(&'static str, String)> {
    let mut keep = Vec::new();
    if let Some(account) = query.account {
        keep.push(("account", account.to_string()));
    }
    if let Some(format) = query.format() {
        keep.push(("format", format.key().to_owned()));
    }
    if query.sort() != Sort::default() {
        keep.push(("sort", query.sort().key().to_owned()));
    }
    keep
}

pub fn account_choices(accounts: &[Account], selected: Option<i64>) -> Vec<Choice> {
    accounts
        .iter()
        .map(|a| Choice {
            value: a.id.to_string(),
            label: format!("@{}", a.username),
            selected: selected == Some(a.id.0),
        })
        .collect()
}

fn format_choices(selected: Option<Format>) -> Vec<Choice> {
    Format::ALL
        .into_iter()
        .map(|f| Choice { value: f.key().into(), label: f.to_string(), selected: selected == Some(f) })
        .collect()
}

fn sort_label(sort: Sort) -> &'static str {
    match sort {
        Sort::Newest => "newest first",
        Sort::Oldest => "oldest first",
        Sort::Impact => "impact score",
        Sort::Rate => "engagement rate",
        Sort::Reach => "reach",
        Sort::Views => "views",
    }
}

/// A snapshot row as the post page's table shows it.
pub struct SnapshotView {
    pub at: String,
    pub age: String,
    pub reach: String,
    pub views: String,
    pub likes: String,
    pub comments: String,
    pub saved: String,
    pub shares: String,
    pub interactions: String,
}

#[derive(Template)]
#[template(path = "posts/show.html")]
struct PostPage {
    page: PageContext,
    data: Arc<PostData>,
}

/// What a post's page computes (cached per data version).
pub struct PostData {
    post: PostView,
    caption: Option<String>,
    permalink: Option<String>,
    hashtags: Vec<String>,
    insights_unavailable: Option<String>,
    impact: String,
    impact_note: String,
    rates: Vec<(String, String)>,
    definition: &'static str,
    charts: Vec<Chart>,
    snapshots: Vec<SnapshotView>,
}

pub async fn show_post(
    user: CurrentUser,
    notice: Notice,
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let id = path.into_inner();
    let version = stats::data_version(&mut conn).await?;
    let key = format!("post:{id}");
    let data = state.cache.get_or_compute(key, version, async || post_data(&mut conn, id).await).await?;
    render(StatusCode::OK, &PostPage { page: PageContext::new(&user, notice, "posts"), data })
}

/// Everything the post page shows of post `id`.
async fn post_data(conn: &mut diesel_async::AsyncPgConnection, id: i64) -> AppResult<PostData> {
    let row = reports::post(conn, id).await?.ok_or(AppError::NotFound)?;
    let settings = OperatorSettings::load(conn).await?;
    let tz = settings.time_zone();
    let definition = settings.engagement();
    let format = row.format();
    let snapshots = reports::snapshots_of(conn, row.id).await?;
    let typical = reports::checkpoints_of_format(conn, AccountId(row.account_id), format).await?;

    let charts = post_charts(&row, &snapshots, &typical);
    let age_hours = |at: chrono::DateTime<chrono::Utc>| ((at - row.posted_at).num_minutes() as f64 / 60.0).max(0.0);

    let (impact, impact_note) = impact_text(&row, format);
    Ok(PostData {
        post: PostView::new(&row, definition, tz),
        caption: row.caption.clone(),
        permalink: row.permalink.clone().filter(|p| p.starts_with("https://")),
        hashtags: row.tags(),
        insights_unavailable: row.insights_unavailable.clone(),
        impact,
        impact_note,
        rates: EngagementDefinition::ALL
            .into_iter()
            .map(|d| (format!("by {} ({})", d.key(), d.formula()), percent(row.rate(d))))
            .collect(),
        definition: definition.formula(),
        charts,
        snapshots: snapshots
            .iter()
            .map(|s| SnapshotView {
                at: s.captured_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                age: age_label(age_hours(s.captured_at)),
                reach: count(s.reach),
                views: count(s.views),
                likes: count(s.likes),
                comments: count(s.comments),
                saved: count(s.saved),
                shares: count(s.shares),
                interactions: count(figures(s).interactions()),
            })
            .collect(),
    })
}

fn figures(s: &reports::SnapshotRow) -> PostFigures {
    PostFigures {
        reach: s.reach,
        views: s.views,
        likes: s.likes,
        comments: s.comments,
        saved: s.saved,
        shares: s.shares,
        total_interactions: s.total_interactions,
    }
}

fn age_label(hours: f64) -> String {
    let whole = hours.round() as i64;
    if CHECKPOINT_HOURS.contains(&whole) && (hours - whole as f64).abs() < 0.01 {
        return checkpoint_label(whole);
    }
    if hours < 72.0 { format!("{hours:.1} h") } else { format!("{:.1} d", hours / 24.0) }
}

/// The post's reach and interactions by age, with the account's typical curve for its
/// format (the median at each checkpoint) beside them.
pub fn post_charts(
    row: &PostRow,
    snapshots: &[reports::SnapshotRow],
    typical: &[reports::CheckpointPoint],
) -> Vec<Chart> {
    let format = row.format();
    // The post's own curve at the age of each snapshot, and the account's typical curve
    // (median at each checkpoint) beside it.
    let age_hours = |at: chrono::DateTime<chrono::Utc>| ((at - row.posted_at).num_minutes() as f64 / 60.0).max(0.0);
    let mut xs: Vec<f64> = snapshots.iter().map(|s| age_hours(s.captured_at)).collect();
    let horizon = xs.last().copied().unwrap_or(0.0);
    let checkpoints: Vec<i64> =
        CHECKPOINT_HOURS.into_iter().filter(|c| (*c as f64) <= horizon.max(1.0) * 1.5).collect();
    xs.extend(checkpoints.iter().map(|c| *c as f64));
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let own = |pick: fn(&reports::SnapshotRow) -> Option<i64>| -> Vec<Option<f64>> {
        xs.iter()
            .map(|x| snapshots.iter().find(|s| age_hours(s.captured_at) == *x).and_then(pick).map(|v| v as f64))
            .collect()
    };
    let median_at = |pick: fn(&reports::CheckpointPoint) -> Option<i64>| -> Vec<Option<f64>> {
        xs.iter()
            .map(|x| {
                let hours = *x as i32;
                if (hours as f64) != *x || !CHECKPOINT_HOURS.contains(&i64::from(hours)) {
                    return None;
                }
                median(typical.iter().filter(|c| c.0 == hours).filter_map(pick).map(|v| v as f64))
            })
            .collect()
    };
    let chart = |id: &str, title: &str, unit: &str, mine: Vec<Option<f64>>, usual: Vec<Option<f64>>| Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        unit: unit.to_owned(),
        x_kind: "hours",
        x: xs.iter().map(|x| x.round() as i64).collect(),
        series: vec![
            Series { label: "this post".into(), values: mine, dashed: false },
            Series { label: format!("typical {}", format.to_string().to_lowercase()), values: usual, dashed: true },
        ],
        x_labels: xs.iter().map(|x| age_label(*x)).collect(),
        x_csv: xs.iter().map(|x| format!("{x:.2}")).collect(),
        csv_href: String::new(),
        decimals: 0,
    };
    let interactions = |s: &reports::SnapshotRow| figures(s).interactions();
    let charts = vec![
        chart("post-reach", "Reach by age", "accounts", own(|s| s.reach), median_at(|c| c.1)),
        chart("post-interactions", "Interactions by age", "interactions", own(interactions), median_at(|c| c.2)),
    ];
    charts
        .into_iter()
        .map(|c| {
            let href = format!("/export/chart.csv?chart={}&post={}", c.id, row.id);
            c.with_csv(href)
        })
        .collect()
}
