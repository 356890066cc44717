//! Hashtags and the best time to post: what has worked for an account.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, ViewQuery, outcome, percent};
use super::format::count;
use super::posts::{Choice, account_choices, filter_params};
use super::{Notice, PageContext, render};
use crate::analytics::groups::{self, Outcome, Summary};
use crate::auth::CurrentUser;
use crate::db::accounts::{Account, AccountId};
use crate::db::reports::{self, PostFilter};
use crate::db::settings::OperatorSettings;
use crate::db::stats;
use crate::error::AppResult;
use crate::startup::AppState;

pub struct TagView {
    pub tag: String,
    pub posts: usize,
    pub median_rate: String,
    pub median_reach: String,
}

fn tag_views(tags: Vec<(String, Summary)>) -> Vec<TagView> {
    tags.into_iter()
        .map(|(tag, s)| TagView {
            tag,
            posts: s.posts,
            median_rate: percent(s.median_rate),
            median_reach: count(s.median_reach.map(|r| r.round() as i64)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "insights/hashtags.html")]
struct HashtagsPage {
    page: PageContext,
    nav: PeriodNav,
    accounts: Vec<Choice>,
    ranked: Vec<TagView>,
    once: Vec<TagView>,
    posts: usize,
    definition: &'static str,
}

/// The period's posts (optionally of one account) as outcomes.
pub async fn outcomes(
    state: &AppState,
    query: &ViewQuery,
) -> AppResult<(Arc<Vec<Outcome>>, OperatorSettings, Vec<Account>, crate::analytics::period::Period)> {
    let mut conn = state.pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let period = query.period(state.sync.now(), settings.time_zone());
    let definition = settings.engagement();
    let filter = PostFilter {
        account: query.account.map(AccountId),
        from: Some(period.start()),
        until: Some(period.end()),
        definition,
        ..PostFilter::default()
    };
    let accounts = Account::list(&mut conn).await?;
    let version = stats::data_version(&mut conn).await?;
    let key = format!("outcomes:{filter:?}");
    let outcomes = state
        .cache
        .get_or_compute(key, version, async || -> AppResult<Vec<Outcome>> {
            let rows = reports::posts(&mut conn, &filter).await?;
            Ok(rows.iter().map(|r| outcome(r, definition)).collect())
        })
        .await?;
    Ok((outcomes, settings, accounts, period))
}

pub async fn hashtags(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (outcomes, settings, accounts, period) = outcomes(&state, &query).await?;
    let (ranked, once) = groups::hashtags(&outcomes);
    let today = state.sync.now().with_timezone(&settings.time_zone()).date_naive();
    let page = HashtagsPage {
        page: PageContext::new(&user, notice, "hashtags"),
        nav: PeriodNav::new("/hashtags", &period, &filter_params(&query), today),
        accounts: account_choices(&accounts, query.account),
        ranked: tag_views(ranked),
        once: tag_views(once),
        posts: outcomes.len(),
        definition: settings.engagement().formula(),
    };
    render(StatusCode::OK, &page)
}

pub struct Cell {
    pub rate: String,
    pub posts: usize,
    /// 0–4: how the cell's median compares with the best cell's (for shading).
    pub heat: u8,
}

#[derive(Template)]
#[template(path = "insights/best_time.html")]
struct BestTimePage {
    page: PageContext,
    nav: PeriodNav,
    accounts: Vec<Choice>,
    /// Seven rows (Monday first) of 24 hours; `None` where nothing was posted.
    grid: Vec<(&'static str, Vec<Option<Cell>>)>,
    posts: usize,
    timezone: String,
    definition: &'static str,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub async fn best_time(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (outcomes, settings, accounts, period) = outcomes(&state, &query).await?;
    let tz = settings.time_zone();
    let cells = groups::best_time(&outcomes, tz);
    let best = cells.values().filter_map(|s| s.median_rate).fold(0.0_f64, f64::max);
    let heat = |rate: Option<f64>| match rate {
        Some(r) if best > 0.0 => ((r / best) * 4.0).round().clamp(0.0, 4.0) as u8,
        _ => 0,
    };
    let grid = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(day, name)| {
            let hours = (0..24u32)
                .map(|hour| {
                    cells.get(&(day as u32, hour)).map(|s| Cell {
                        rate: s.median_rate.map_or_else(|| "–".to_owned(), |r| format!("{r:.1}%")),
                        posts: s.posts,
                        heat: heat(s.median_rate),
                    })
                })
                .collect();
            (*name, hours)
        })
        .collect();
    let today = state.sync.now().with_timezone(&tz).date_naive();
    let page = BestTimePage {
        page: PageContext::new(&user, notice, "best-time"),
        nav: PeriodNav::new("/best-time", &period, &filter_params(&query), today),
        accounts: account_choices(&accounts, query.account),
        grid,
        posts: outcomes.len(),
        timezone: settings.timezone.clone(),
        definition: settings.engagement().formula(),
    };
    render(StatusCode::OK, &page)
}
