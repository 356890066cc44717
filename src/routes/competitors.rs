//! Competitors: the operator's accounts side by side with the professional accounts they
//! compare themselves with, from what is public of both.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::domain::{CompetitorId, CompetitorStatus};
use crate::error::{AppError, AppResult};
use crate::services::Competitors;
use crate::services::competitors::{AddRefused, PERIOD_DAYS, Side};
use crate::services::views::format::{count, when};
use crate::services::views::models::signed;

/// One row of the table, as the page shows it.
pub struct Row {
    pub id: Option<i64>,
    pub username: String,
    pub name: String,
    pub own: bool,
    pub followers: String,
    pub change: String,
    /// The change in percent, or "".
    pub change_pct: String,
    pub posts: usize,
    pub per_week: String,
    pub likes: String,
    pub comments: String,
    pub engagement: String,
    pub formats: String,
    /// Why a competitor shows no figures, or what went wrong with its last read.
    pub note: Option<String>,
}

impl Row {
    fn new(side: &Side) -> Row {
        let c = &side.compared;
        let median = |m: Option<f64>| m.map_or_else(|| "–".to_owned(), |m| count(Some(m.round() as i64)));
        let note = side.competitor.as_ref().and_then(|competitor| match competitor.status {
            CompetitorStatus::Waiting => Some("Read at the next sync.".to_owned()),
            CompetitorStatus::NotFound => {
                Some("Instagram knows no professional account by this name (personal and age-restricted ones are not shown).".to_owned())
            }
            CompetitorStatus::Tracked => competitor
                .last_error
                .as_ref()
                .map(|e| format!("The last read failed ({e}); figures from {}.", when(competitor.read_at))),
        });
        Row {
            id: side.competitor.as_ref().map(|c| c.id.0),
            username: side.username.clone(),
            name: side.name.clone().unwrap_or_default(),
            own: side.own,
            followers: count(c.followers),
            change: signed(c.follower_change),
            // No-break spaces: a figure and its unit stay on one line.
            change_pct: c.follower_change_pct.map_or_else(String::new, |p| format!("{p:+.1}\u{a0}%")),
            posts: c.posts,
            per_week: format!("{:.1}", c.posts_per_week),
            likes: median(c.median_likes),
            comments: median(c.median_comments),
            engagement: c.median_engagement_pct.map_or_else(|| "–".to_owned(), |p| format!("{p:.2}\u{a0}%")),
            formats: c
                .formats
                .iter()
                .map(|(format, share)| format!("{format}\u{a0}{share:.0}\u{a0}%"))
                .collect::<Vec<_>>()
                .join(", "),
            note,
        }
    }
}

#[derive(Template)]
#[template(path = "competitors/index.html")]
struct CompetitorsPage {
    page: PageContext,
    rows: Vec<Row>,
    can_read: bool,
    days: i64,
    is_admin: bool,
    csrf_token: String,
    username: String,
    error: Option<String>,
}

pub async fn competitors_page(
    user: CurrentUser,
    notice: Notice,
    competitors: web::Data<Competitors>,
) -> AppResult<HttpResponse> {
    page(&user, notice, &competitors, StatusCode::OK, String::new(), None).await
}

async fn page(
    user: &CurrentUser,
    notice: Notice,
    competitors: &Competitors,
    status: StatusCode,
    username: String,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let comparison = competitors.comparison().await?;
    let page = CompetitorsPage {
        page: PageContext::new(user, notice, "competitors"),
        rows: comparison.sides.iter().map(Row::new).collect(),
        can_read: comparison.can_read,
        days: PERIOD_DAYS,
        is_admin: user.is_admin(),
        csrf_token: user.csrf_token.clone(),
        username,
        error,
    };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    username: String,
}

pub async fn add_competitor(
    AdminUser(admin): AdminUser,
    competitors: web::Data<Competitors>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<HttpResponse> {
    match competitors.add(&form.username, admin.id).await {
        Ok(_) => Ok(see_other("/competitors?notice=competitor-added")),
        Err(AddRefused::Db(err)) => Err(err.into()),
        Err(refused) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&admin, Notice::default(), &competitors, status, form.username, Some(refused.to_string())).await
        }
    }
}

pub async fn remove_competitor(
    AdminUser(_admin): AdminUser,
    path: web::Path<i64>,
    competitors: web::Data<Competitors>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    if !competitors.remove(CompetitorId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/competitors?notice=competitor-removed"))
}
