//! The dashboard: all accounts as one over the chosen period, then side by side, under a
//! status line that speaks up only when a token or a sync needs the operator.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::analytics::{PeriodNav, ViewQuery};
use super::{PageContext, kept_pages};
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
    req: HttpRequest,
    user: CurrentUser,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let basis = super::basis(&req, &views).await?;
    let period = query.period(basis.now, basis.tz());
    let key = format!("dashboard:{}", period.query());
    kept_pages::serve(&req, &views, &basis, &user, "dashboard", &key, Vec::new(), async |personal| {
        Ok(DashboardPage {
            page: personal.page,
            data: views.dashboard(&basis, &period).await?,
            nav: PeriodNav::new("/", &period, &[], basis.today()),
            is_admin: user.is_admin(),
            tz: basis.tz(),
        })
    })
    .await
}
