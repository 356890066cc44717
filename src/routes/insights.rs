//! Hashtags and the best time to post: what has worked for an account.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, ViewQuery};
use super::posts::{Choice, account_choices, filter_params};
use super::{Notice, PageContext, render};
use crate::analytics::groups::{self, Outcome, Placement, best_time_grid};
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
    /// 0–4 for shading against the best cell; `None` when too few posts to rank.
    pub heat: Option<u8>,
    /// 1–3 for the best cells.
    pub rank: Option<usize>,
}

/// One of the best cells, as the summary above a grid names it.
pub struct BestSlot {
    /// "Tue 18:00–19:00".
    pub when: String,
    pub rate: String,
    pub posts: usize,
}

/// The grid and best slots of feed posts and Reels, or of Stories.
pub struct PlacementGrid {
    pub label: &'static str,
    /// Said instead of the grid when none of these posts was published.
    pub none_published: &'static str,
    /// For the heading's id.
    pub key: &'static str,
    pub posts: usize,
    pub best: Vec<BestSlot>,
    /// Seven rows (Monday first) of 24 hours; `None` where nothing was posted.
    pub grid: Vec<(&'static str, Vec<Option<Cell>>)>,
}

#[derive(Template)]
#[template(path = "insights/best_time.html")]
struct BestTimePage {
    page: PageContext,
    nav: PeriodNav,
    accounts: Vec<Choice>,
    placements: Vec<PlacementGrid>,
    posts: usize,
    /// Posts a cell needs to be ranked.
    min_posts: usize,
    timezone: String,
    definition: &'static str,
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{r:.1}%"))
}

fn placement_grid(outcomes: &[Outcome], tz: chrono_tz::Tz, placement: Placement) -> PlacementGrid {
    let cells = groups::best_time(outcomes, tz, placement);
    let best = groups::ranked_cells(&cells)
        .into_iter()
        .take(groups::BEST_SLOTS)
        .map(|((day, hour), summary)| BestSlot {
            when: format!("{} {hour:02}:00–{:02}:00", WEEKDAYS[day as usize], (hour + 1) % 24),
            rate: rate_text(summary.median_rate),
            posts: summary.posts,
        })
        .collect();
    let grid = best_time_grid(&cells)
        .into_iter()
        .zip(WEEKDAYS)
        .map(|(hours, name)| {
            let cells = hours
                .into_iter()
                .map(|cell| {
                    cell.map(|c| Cell {
                        rate: rate_text(c.summary.median_rate),
                        posts: c.summary.posts,
                        heat: c.heat,
                        rank: c.rank,
                    })
                })
                .collect();
            (name, cells)
        })
        .collect();
    PlacementGrid {
        label: placement.label(),
        none_published: placement.none_published(),
        key: placement.key(),
        posts: cells.values().map(|s| s.posts).sum(),
        best,
        grid,
    }
}

pub async fn best_time(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let OutcomesView { basis, period, outcomes } = outcomes(&views, &query).await?;
    let tz = basis.tz();
    let page = BestTimePage {
        page: PageContext::new(&user, notice, "best-time"),
        nav: PeriodNav::new("/best-time", &period, &filter_params(&query), basis.today()),
        accounts: account_choices(&views.accounts().await?, query.account),
        placements: Placement::ALL.into_iter().map(|p| placement_grid(&outcomes, tz, p)).collect(),
        posts: outcomes.len(),
        min_posts: groups::MIN_CELL_POSTS,
        timezone: tz.name().to_owned(),
        definition: basis.definition().formula(),
    };
    render(StatusCode::OK, &page)
}
