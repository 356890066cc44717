//! Hashtags and the best time to post: what has worked for an account.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, ViewQuery};
use super::posts::{Choice, account_choices, filter_params};
use super::{Notice, PageContext, render};
use crate::analytics::groups::{self, Outcome, best_time_grid};
use crate::analytics::period::Period;
use crate::auth::CurrentUser;
use crate::db::reports::PostFilter;
use crate::domain::AccountId;
use crate::error::AppResult;
use crate::services::Views;
use crate::services::views::Basis;
use crate::services::views::models::{GroupView, group_views};

#[derive(Template)]
#[template(path = "insights/hashtags.html")]
struct HashtagsPage {
    page: PageContext,
    nav: PeriodNav,
    accounts: Vec<Choice>,
    ranked: Vec<GroupView<String>>,
    rare: Vec<GroupView<String>>,
    /// Posts a hashtag must be on to be ranked.
    min_posts: usize,
    posts: usize,
    definition: &'static str,
}

/// What the hashtag and best-time views (and their CSV files) are computed from.
pub struct OutcomesView {
    pub basis: Basis,
    pub period: Period,
    pub outcomes: Arc<Vec<Outcome>>,
}

/// The period's posts (optionally of one account) as outcomes.
pub async fn outcomes(views: &Views, query: &ViewQuery) -> AppResult<OutcomesView> {
    let basis = views.basis().await?;
    let period = query.period(basis.now, basis.tz());
    let filter = PostFilter {
        account: query.account.map(AccountId),
        from: Some(period.start()),
        until: Some(period.end()),
        definition: basis.definition(),
        ..PostFilter::default()
    };
    let outcomes = views.outcomes(&basis, &filter).await?;
    Ok(OutcomesView { basis, period, outcomes })
}

pub async fn hashtags(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let OutcomesView { basis, period, outcomes } = outcomes(&views, &query).await?;
    let (ranked, rare) = groups::hashtags(&outcomes);
    let page = HashtagsPage {
        page: PageContext::new(&user, notice, "hashtags"),
        nav: PeriodNav::new("/hashtags", &period, &filter_params(&query), basis.today()),
        accounts: account_choices(&views.accounts().await?, query.account),
        ranked: group_views(ranked),
        rare: group_views(rare),
        min_posts: groups::MIN_TAG_POSTS,
        posts: outcomes.len(),
        definition: basis.definition().formula(),
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

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub async fn best_time(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let OutcomesView { basis, period, outcomes } = outcomes(&views, &query).await?;
    let tz = basis.tz();
    let grid = best_time_grid(&groups::best_time(&outcomes, tz))
        .into_iter()
        .zip(WEEKDAYS)
        .map(|(hours, name)| {
            let cells = hours
                .into_iter()
                .map(|cell| {
                    cell.map(|c| Cell {
                        rate: c.summary.median_rate.map_or_else(|| "–".to_owned(), |r| format!("{r:.1}%")),
                        posts: c.summary.posts,
                        heat: c.heat,
                    })
                })
                .collect();
            (name, cells)
        })
        .collect();
    let page = BestTimePage {
        page: PageContext::new(&user, notice, "best-time"),
        nav: PeriodNav::new("/best-time", &period, &filter_params(&query), basis.today()),
        accounts: account_choices(&views.accounts().await?, query.account),
        grid,
        posts: outcomes.len(),
        timezone: tz.name().to_owned(),
        definition: basis.definition().formula(),
    };
    render(StatusCode::OK, &page)
}
