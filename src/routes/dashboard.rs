//! The dashboard: totals, token health, and each account over the chosen period.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::accounts::AccountView;
use super::analytics::{AccountPanel, PeriodNav, ViewQuery};
use super::format::count;
use super::{Notice, PageContext, render};
use crate::auth::CurrentUser;
use crate::db::accounts::Account;
use crate::db::settings::OperatorSettings;
use crate::db::stats::{self, Totals};
use crate::error::AppResult;
use crate::startup::AppState;

/// What the dashboard computes from the database for one period (cached per data version).
pub struct DashboardData {
    totals: Totals,
    /// Accounts whose token needs attention: re-connect, or expiring within a week.
    attention: Vec<AccountView>,
    panels: Vec<AccountPanel>,
    definition: &'static str,
    posts_text: String,
    snapshots_text: String,
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    page: PageContext,
    data: Arc<DashboardData>,
    nav: PeriodNav,
    is_admin: bool,
}

pub async fn dashboard(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let now = state.sync.now();
    let tz = settings.time_zone();
    let period = query.period(now, tz);
    let version = stats::data_version(&mut conn).await?;
    let key = format!("dashboard:{}:{}", period.first, period.last);
    let data = state
        .cache
        .get_or_compute(key, version, async || -> AppResult<DashboardData> {
            let totals = Totals::load(&mut conn).await?;
            let accounts = Account::list(&mut conn).await?;
            let attention = accounts
                .iter()
                .map(|a| AccountView::new(a, None, now))
                .filter(|a| a.needs_reauth() || (a.is_active() && a.token_warning))
                .collect();
            let mut panels = Vec::with_capacity(accounts.len());
            for account in &accounts {
                panels.push(AccountPanel::load(&mut conn, account, &period, &settings, now).await?);
            }
            Ok(DashboardData {
                posts_text: count(Some(totals.posts)),
                snapshots_text: count(Some(totals.snapshots)),
                totals,
                attention,
                panels,
                definition: settings.engagement().formula(),
            })
        })
        .await?;
    let page = DashboardPage {
        page: PageContext::new(&user, notice, "dashboard"),
        data,
        nav: PeriodNav::new("/", &period, &[], now.with_timezone(&tz).date_naive()),
        is_admin: user.is_admin(),
    };
    render(StatusCode::OK, &page)
}
