//! The dashboard: what Tidemark holds and how the last sync went.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::accounts::AccountView;
use super::{Notice, PageContext, render};
use crate::auth::CurrentUser;
use crate::db::accounts::Account;
use crate::db::stats::Totals;
use crate::error::AppResult;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    page: PageContext,
    totals: Totals,
    /// Accounts whose token needs attention: re-connect, or expiring within a week.
    attention: Vec<AccountView>,
}

pub async fn dashboard(user: CurrentUser, notice: Notice, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let totals = Totals::load(&mut conn).await?;
    let now = state.sync.now();
    let attention = Account::list(&mut conn)
        .await?
        .iter()
        .map(|a| AccountView::new(a, None, now))
        .filter(|a| a.needs_reauth() || (a.is_active() && a.token_warning))
        .collect();
    render(StatusCode::OK, &DashboardPage { page: PageContext::new(&user, notice, "dashboard"), totals, attention })
}
