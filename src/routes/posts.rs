//! Tracked posts: the list (filters and sorting in the URL) and one post's page.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, ViewQuery, query_tail};
use super::{PageContext, kept_pages};
use crate::analytics::Format;
use crate::analytics::period::Period;
use crate::auth::CurrentUser;
use crate::db::accounts::Account;
use crate::db::reports::{PostFilter, Sort};
use crate::domain::PostId;
use crate::error::{AppError, AppResult};
use crate::services::views::models::{PostPageView, PostView};
use crate::services::{Publishing, Views};

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
    from_tidemark: bool,
    sorting: Option<Sorting>,
    /// The caption search, as typed.
    search: String,
}

pub async fn list_posts(
    req: HttpRequest,
    user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let basis = super::basis(&req, &views).await?;
    let (tz, definition) = (basis.tz(), basis.definition());
    let period = query.period(basis.now, tz);
    let page_no = query.page.unwrap_or(1).clamp(1, 10_000);
    let keep = filter_params(&query);
    let view = format!("{}{}", period.query(), query_tail(&keep));
    let key = format!("posts:{view}&page={page_no}");
    kept_pages::serve(&req, &views, &basis, &user, "posts", &key, Vec::new(), async |personal| {
        let filter = PostFilter {
            limit: Some(PAGE_SIZE + 1),
            offset: (page_no - 1) * PAGE_SIZE,
            ..query.post_filter(&period, definition)
        };
        let rows = views.posts(&basis, &filter).await?;
        let has_more = rows.len() as i64 > PAGE_SIZE;
        let accounts = views.accounts().await?;
        Ok(PostsPage {
            page: personal.page,
            posts: rows.iter().take(PAGE_SIZE as usize).map(|r| PostView::new(r, definition, tz)).collect(),
            nav: PeriodNav::new("/posts", &period, &keep, basis.today()),
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
            from_tidemark: query.from_tidemark(),
            sorting: Some(Sorting::new("/posts", &period, &keep, query.sort(), "")),
            search: query.search().unwrap_or_default(),
        })
    })
    .await
}

/// The posts table's headers as links that sort the same view by their column: "published"
/// switches between newest and oldest first, a figure sorts highest first.
pub struct Sorting {
    /// The view's address without its sort and page, ready for `&sort=`.
    base: String,
    current: Sort,
    /// Where the page lands (`#posts` on an account's page).
    anchor: &'static str,
}

impl Sorting {
    pub fn new(path: &str, period: &Period, keep: &[(&str, String)], current: Sort, anchor: &'static str) -> Sorting {
        let unsorted: Vec<(&str, String)> = keep.iter().filter(|(k, _)| *k != "sort").cloned().collect();
        Sorting { base: format!("{path}?{}{}", period.query(), query_tail(&unsorted)), current, anchor }
    }

    /// The address of this view sorted by `column` (a sort key, or "published").
    pub fn href(&self, column: &str) -> String {
        let sort = match column {
            "published" if self.current == Sort::Newest => Sort::Oldest,
            "published" => Sort::Newest,
            other => Sort::from_key(other).unwrap_or_default(),
        };
        format!("{}&sort={}{}", self.base, sort.key(), self.anchor)
    }

    /// The column header's `aria-sort`.
    pub fn aria(&self, column: &str) -> &'static str {
        match (column, self.current) {
            ("published", Sort::Newest) => "descending",
            ("published", Sort::Oldest) => "ascending",
            (column, sort) if column == sort.key() => "descending",
            _ => "none",
        }
    }

    /// The arrow beside a sorted column's name.
    pub fn arrow(&self, column: &str) -> &'static str {
        match self.aria(column) {
            "descending" => " ↓",
            "ascending" => " ↑",
            _ => "",
        }
    }
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
    if query.from_tidemark() {
        keep.push(("origin", "tidemark".to_owned()));
    }
    if let Some(search) = query.search() {
        keep.push(("q", search));
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

pub fn sort_label(sort: Sort) -> &'static str {
    match sort {
        Sort::Newest => "newest first",
        Sort::Oldest => "oldest first",
        Sort::Impact => "impact score",
        Sort::Rate => "engagement rate",
        Sort::Reach => "reach",
        Sort::Views => "views",
    }
}

#[derive(Template)]
#[template(path = "posts/show.html")]
struct PostPage {
    page: PageContext,
    data: Arc<PostPageView>,
    planned: Option<Planned>,
}

pub async fn show_post(
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<i64>,
    views: web::Data<Views>,
    publishing: web::Data<Publishing>,
) -> AppResult<HttpResponse> {
    let basis = super::basis(&req, &views).await?;
    let id = PostId(path.into_inner());
    let key = format!("post:{id}");
    kept_pages::serve(&req, &views, &basis, &user, "posts", &key, Vec::new(), async |personal| {
        let data = views.post(&basis, id).await?.ok_or(AppError::NotFound)?;
        let planned = publishing.for_media(data.post.account_id, &data.media_id).await?.map(|p| Planned {
            id: p.id.0,
            planned_for: p.due_at.with_timezone(&basis.tz()).format("%Y-%m-%d %H:%M").to_string(),
        });
        Ok(PostPage { page: personal.page, data, planned })
    })
    .await
}

/// The small copy of a post's picture. Private to signed-in users and kept by their
/// browser for a day (a post's picture does not change).
pub async fn post_picture(
    _user: CurrentUser,
    path: web::Path<i64>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let image = views.picture(PostId(path.into_inner())).await?.ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, max-age=86400"))
        .body(image))
}

/// The publication that put a post on Instagram, when Tidemark did.
struct Planned {
    id: i64,
    planned_for: String,
}
