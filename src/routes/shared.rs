//! `/shared/{token}`: one account's overview for someone without a sign-in, through a link
//! an admin made. It shows the overview cards, the charts and the formats of that account and
//! period only: no navigation, no posts (their pages and pictures need a sign-in), no CSV, no
//! other account. A wrong, revoked or expired link is a plain 404; search engines are asked
//! not to index it and the browser not to pass it on as a referrer.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Notice, PageContext, render};
use crate::analytics::charts::Chart;
use crate::analytics::period::Period;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::views::models::AccountPanel;
use crate::services::views::overview::OverviewView;
use crate::services::{Accounts, Views};

#[derive(Template)]
#[template(path = "shared/overview.html")]
struct SharedPage<'a> {
    page: PageContext,
    panel: &'a AccountPanel,
    overview: OverviewView,
    charts: Vec<Chart>,
    period: String,
    rolling_days: Option<i32>,
    expires: String,
    definition: &'static str,
}

pub async fn shared_overview(
    path: web::Path<String>,
    accounts: web::Data<Accounts>,
    views: web::Data<Views>,
    auth: web::Data<Auth>,
) -> AppResult<HttpResponse> {
    let link = accounts.open_share(&path.into_inner()).await?.ok_or(AppError::NotFound)?;
    let account = views.account(link.account_id).await?.ok_or(AppError::NotFound)?;
    let basis = views.basis().await?;
    let period = match (link.rolling_days, link.first_day, link.last_day) {
        (Some(days), _, _) => Period::from_query(u32::try_from(days).ok(), None, None, basis.now, basis.tz()),
        (None, Some(first), Some(last)) => Period { first, last, tz: basis.tz() },
        _ => return Err(AppError::NotFound),
    };
    let panel = views.panel(&basis, &account, &period).await?;
    // The CSV files behind the charts need a sign-in: the shared page offers none.
    let without_csv = |chart: &Chart| Chart { csv_href: String::new(), ..chart.clone() };
    let mut overview = panel.overview.clone();
    overview.chart = without_csv(&overview.chart);
    let page = SharedPage {
        page: PageContext::anonymous(Notice::default(), auth.demo),
        panel: &panel,
        overview,
        charts: panel.charts.iter().map(without_csv).collect(),
        period: period.label(),
        rolling_days: link.rolling_days,
        expires: link.expires_at.with_timezone(&basis.tz()).format("%Y-%m-%d %H:%M %Z").to_string(),
        definition: basis.definition().formula(),
    };
    let mut response = render(StatusCode::OK, &page)?;
    let headers = response.headers_mut();
    headers.insert(header::HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex, nofollow"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
