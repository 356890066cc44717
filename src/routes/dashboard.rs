//! The dashboard: totals, token health, and each account over the chosen period.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, ViewQuery};
use super::{Notice, PageContext, render};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::services::Views;
use crate::services::views::models::DashboardView;

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    page: PageContext,
    data: DashboardView,
    nav: PeriodNav,
    is_admin: bool,
    /// The operator's zone, for the last sync's time.
    tz: chrono_tz::Tz,
}

pub async fn dashboard(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let basis = views.basis().await?;
    let period = query.period(basis.now, basis.tz());
    let page = DashboardPage {
        page: PageContext::new(&user, notice, "dashboard"),
        data: views.dashboard(&basis, &period).await?,
        nav: PeriodNav::new("/", &period, &[], basis.today()),
        is_admin: user.is_admin(),
        tz: basis.tz(),
    };
    render(StatusCode::OK, &page)
}
